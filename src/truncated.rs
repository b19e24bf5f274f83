//! Tell an image that lost its pixels from an object that never had any.
//!
//! A file cut exactly at an element boundary (a transfer stopped mid-file, a disk that filled
//! while a PACS exported) parses as a complete data set: every element read is whole, and the
//! data simply ends. Pixel Data comes last, so an image cut anywhere in its header or just
//! before its pixels is such a file. Released, it would be a broken image reported as written.
//!
//! An image is recognised by its SOP Class (one the standard names "… Image Storage") or by the
//! Image Pixel attributes Rows, Columns and Bits Allocated together; either without Pixel Data,
//! Float Pixel Data or Double Float Pixel Data is refused. Objects that have no pixels by
//! definition (structured reports, key object selections, presentation states, RT structure
//! sets and plans, encapsulated documents, raw data, waveforms) have neither, and pass.

use crate::annotated::has_pixels;
use crate::dataset::DataSet;
use dicom_core::dictionary::UidDictionary;
use dicom_dictionary_std::{StandardSopClassDictionary, tags};

/// Why a data set cannot be released as it is: an image without pixel data, which is what a
/// file cut before its pixels reads as. `None` for anything else. The SOP Class is the data
/// set's, or the file meta's Media Storage SOP Class (which the output takes when the data set
/// has none).
pub fn missing_pixels(ds: &DataSet, meta: &DataSet) -> Option<String> {
    if has_pixels(ds) {
        return None;
    }
    let class = ds.ascii(tags::SOP_CLASS_UID).or_else(|| meta.ascii(tags::MEDIA_STORAGE_SOP_CLASS_UID));
    let image_class = class.is_some_and(is_image_storage);
    let image_pixel_module = [tags::ROWS, tags::COLUMNS, tags::BITS_ALLOCATED]
        .iter()
        .all(|t| ds.get(*t).is_some_and(|e| !e.value.is_empty()));
    if !image_class && !image_pixel_module {
        return None;
    }
    let why = if image_class {
        "an image (its SOP Class is an image storage class)"
    } else {
        "an image (it has Rows, Columns and Bits Allocated)"
    };
    Some(format!(
        "{why} without Pixel Data (7FE0,0010), Float Pixel Data or Double Float Pixel Data: the file seems truncated (cut before its pixels, e.g. by a copy or transfer stopped mid-file); not released"
    ))
}

/// Whether `uid` names an image storage SOP class of the standard (every one is named
/// "… Image Storage", retired ones included).
fn is_image_storage(uid: &str) -> bool {
    let uid = uid.trim_end_matches(['\0', ' ']);
    StandardSopClassDictionary.by_uid(uid).is_some_and(|e| e.name.contains("Image Storage"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Element, VR};

    fn ds(class: &str, image_pixel: bool, pixels: bool) -> DataSet {
        let mut d = DataSet::from_elements([Element::new(tags::SOP_CLASS_UID, VR::UI, class.as_bytes().to_vec())]);
        if image_pixel {
            for t in [tags::ROWS, tags::COLUMNS, tags::BITS_ALLOCATED] {
                d.put(Element::new(t, VR::US, vec![8, 0]));
            }
        }
        if pixels {
            d.put(Element::new(tags::PIXEL_DATA, VR::OW, vec![0; 128]));
        }
        d
    }

    fn missing_pixels_in(d: &DataSet) -> Option<String> {
        missing_pixels(d, &DataSet::new())
    }

    #[test]
    fn the_file_metas_class_counts_when_the_data_set_has_none() {
        let meta =
            DataSet::from_elements([Element::new(tags::MEDIA_STORAGE_SOP_CLASS_UID, VR::UI, CT.as_bytes().to_vec())]);
        assert!(missing_pixels(&DataSet::new(), &meta).is_some());
        assert_eq!(missing_pixels(&DataSet::new(), &DataSet::new()), None);
    }

    const CT: &str = "1.2.840.10008.5.1.4.1.1.2\0";
    const BASIC_SR: &str = "1.2.840.10008.5.1.4.1.1.88.11";
    const PDF: &str = "1.2.840.10008.5.1.4.1.1.104.1";
    const KOS: &str = "1.2.840.10008.5.1.4.1.1.88.59";
    const GSPS: &str = "1.2.840.10008.5.1.4.1.1.11.1";
    const RT_STRUCT: &str = "1.2.840.10008.5.1.4.1.1.481.3";
    const RAW: &str = "1.2.840.10008.5.1.4.1.1.66";

    #[test]
    fn an_image_class_without_pixels_is_refused_as_truncated() {
        let why = missing_pixels_in(&ds(CT, false, false)).expect("refused");
        assert!(why.contains("truncated"), "{why}");
        assert!(missing_pixels_in(&ds(CT, true, false)).is_some());
        assert_eq!(missing_pixels_in(&ds(CT, true, true)), None);
    }

    #[test]
    fn rows_columns_and_bits_allocated_without_pixels_are_refused_whatever_the_class() {
        assert!(missing_pixels_in(&ds("1.2.3.4", true, false)).is_some());
        assert!(missing_pixels_in(&ds(BASIC_SR, true, false)).is_some());
    }

    #[test]
    fn objects_without_pixels_by_definition_pass() {
        for class in [BASIC_SR, PDF, KOS, GSPS, RT_STRUCT, RAW, "1.2.3.4"] {
            assert_eq!(missing_pixels_in(&ds(class, false, false)), None, "{class}");
        }
    }

    #[test]
    fn float_pixel_data_counts_as_pixels() {
        let mut d = ds(CT, true, false);
        d.put(Element::new(tags::FLOAT_PIXEL_DATA, VR::OF, vec![0; 16]));
        assert_eq!(missing_pixels_in(&d), None);
    }
}
