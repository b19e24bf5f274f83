//! Whether an image's native Pixel Data is as long as its Image Pixel attributes declare.
//!
//! Rows × Columns × Samples per Pixel × Bits Allocated × Number of Frames (PS3.3 C.7.6.3, PS3.5
//! 8.1.1: 1-bit samples packed, YBR_FULL_422 and YBR_PARTIAL_422 two samples per pixel)
//! describe every byte of native pixel data. Pixel data shorter than that is a copy stopped
//! early or a header that does not describe these pixels: no reader can show it, and a release
//! that holds it is not whole. One of these attributes holding more than one value is an
//! element whose length was wrong: it swallowed the elements after it (a Rows of 12 bytes holds
//! Columns' header and value), which are then missing from the output.
//!
//! More bytes than declared are accepted only as padding, as pixel cleaning accepts them
//! ([`crate::pixels::decode::undeclared_frames`]): one byte to make the length even, or any
//! number of zero bytes (some writers pad; zeros hold nothing). Other bytes past the declared
//! frames are frames Number of Frames does not declare, which no viewer of the declared count
//! shows. Pixel data left in the source file (a large file) is checked by its length: its bytes
//! are not read here.
//!
//! This is arithmetic on the header and the value's length; nothing is decoded, so it runs on
//! every image `deid` writes, and `verify` asks the same of an output.

use crate::dataset::{DataSet, Tag, Value};
use crate::transfer::TransferSyntax;
use dicom_dictionary_std::tags;

/// The Image Pixel attributes that hold exactly one US value (PS3.3 C.7.6.3), by name.
const SINGLE_US: [(Tag, &str); 8] = [
    (tags::SAMPLES_PER_PIXEL, "Samples per Pixel"),
    (tags::PLANAR_CONFIGURATION, "Planar Configuration"),
    (tags::ROWS, "Rows"),
    (tags::COLUMNS, "Columns"),
    (tags::BITS_ALLOCATED, "Bits Allocated"),
    (tags::BITS_STORED, "Bits Stored"),
    (tags::HIGH_BIT, "High Bit"),
    (tags::PIXEL_REPRESENTATION, "Pixel Representation"),
];

/// Why the Pixel Data of `ds` (a top-level data set of transfer syntax `ts`) does not fit its
/// Image Pixel attributes, naming the attributes (never their values); `None` when it fits,
/// or the data set has no Pixel Data (7FE0,0010). The attributes' single values are checked
/// for any Pixel Data; the length for native pixel data only.
pub fn unfit(ds: &DataSet, ts: &TransferSyntax) -> Option<String> {
    let pixel = ds.get(tags::PIXEL_DATA)?;
    let big_endian = ts.encoding.big_endian;
    for (tag, name) in SINGLE_US {
        if let Some(b) = ds.bytes(tag).filter(|b| !b.is_empty() && b.len() != 2) {
            return Some(format!(
                "{name} {} holds {} bytes where the standard allows one 2-byte value: a wrong length that swallowed the elements after it?",
                crate::dataset::tag_str(tag),
                b.len()
            ));
        }
    }
    let held = match &pixel.value {
        Value::Bytes(b) if !ts.encapsulated => Held::Bytes(b),
        Value::Deferred(d) if !ts.encapsulated && !d.encapsulated => Held::Length(d.length),
        _ => return None,
    };
    let us = |tag: Tag| ds.us(tag, big_endian).map(u128::from);
    let mut missing = Vec::new();
    let mut need = |tag: Tag, name: &'static str| {
        let v = us(tag);
        if v.is_none() {
            missing.push(format!("{name} {}", crate::dataset::tag_str(tag)));
        }
        v.unwrap_or(0)
    };
    let rows = need(tags::ROWS, "Rows");
    let cols = need(tags::COLUMNS, "Columns");
    let bits = need(tags::BITS_ALLOCATED, "Bits Allocated");
    if !missing.is_empty() {
        return Some(format!(
            "the image has native Pixel Data (7FE0,0010) but no valid {}, so its pixels cannot be read",
            missing.join(", ")
        ));
    }
    let frames = match ds.ascii(tags::NUMBER_OF_FRAMES).map(str::trim) {
        None | Some("") => 1,
        Some(s) => match s.parse::<u32>() {
            Ok(n @ 1..) => u128::from(n),
            _ => return Some("Number of Frames (0028,0008) is not one positive integer".into()),
        },
    };
    let photometric = ds.ascii(tags::PHOTOMETRIC_INTERPRETATION).unwrap_or("").trim().to_ascii_uppercase();
    let samples = if matches!(photometric.as_str(), "YBR_FULL_422" | "YBR_PARTIAL_422") {
        2
    } else {
        us(tags::SAMPLES_PER_PIXEL).unwrap_or(1)
    };
    let declared = (rows * cols * samples * frames * bits).div_ceil(8);
    const ATTRIBUTES: &str = "Rows × Columns × Samples per Pixel × Bits Allocated × Number of Frames";
    let len = held.len();
    if len < declared {
        return Some(format!(
            "Pixel Data (7FE0,0010) holds {len} bytes, fewer than the {declared} {ATTRIBUTES} declare: cut short, or a header that does not describe these pixels"
        ));
    }
    if let Held::Bytes(b) = held {
        // `declared` <= len <= usize::MAX here.
        let past = &b[declared as usize..];
        if past.len() > 1 && past.iter().any(|&x| x != 0) {
            return Some(format!(
                "Pixel Data (7FE0,0010) holds {len} bytes, more than the {declared} {ATTRIBUTES} declare, and the bytes past them are not padding: frames Number of Frames does not declare, or a header that does not describe these pixels"
            ));
        }
    }
    None
}

/// Native pixel data as the data set holds it: its bytes, or only its length when it was left
/// in the source file.
enum Held<'a> {
    Bytes(&'a [u8]),
    Length(u64),
}

impl Held<'_> {
    fn len(&self) -> u128 {
        match self {
            Held::Bytes(b) => b.len() as u128,
            Held::Length(l) => u128::from(*l),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Element, VR};

    const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

    fn ts(uid: &str) -> TransferSyntax {
        TransferSyntax::from_uid(uid).unwrap()
    }

    fn image(rows: u16, cols: u16, bits: u16, pixels: Vec<u8>) -> DataSet {
        DataSet::from_elements([
            Element::new(tags::SAMPLES_PER_PIXEL, VR::US, 1u16.to_le_bytes().to_vec()),
            Element::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, b"MONOCHROME2 ".to_vec()),
            Element::new(tags::ROWS, VR::US, rows.to_le_bytes().to_vec()),
            Element::new(tags::COLUMNS, VR::US, cols.to_le_bytes().to_vec()),
            Element::new(tags::BITS_ALLOCATED, VR::US, bits.to_le_bytes().to_vec()),
            Element::new(tags::PIXEL_DATA, VR::OW, pixels),
        ])
    }

    #[test]
    fn pixel_data_of_the_declared_length_fits() {
        assert_eq!(unfit(&image(4, 4, 16, vec![7; 32]), &ts(EXPLICIT_LE)), None);
        // 1-bit samples are packed: 3 × 3 pixels take 2 bytes.
        assert_eq!(unfit(&image(3, 3, 1, vec![7; 2]), &ts(EXPLICIT_LE)), None);
    }

    #[test]
    fn shorter_pixel_data_does_not_fit() {
        let why = unfit(&image(4, 4, 16, vec![7; 30]), &ts(EXPLICIT_LE)).unwrap();
        assert!(why.contains("fewer than") && why.contains("Rows × Columns"), "{why}");
        let mut ds = image(4, 4, 8, vec![7; 16]);
        ds.put(Element::new(tags::NUMBER_OF_FRAMES, VR::IS, b"2 ".to_vec()));
        assert!(unfit(&ds, &ts(EXPLICIT_LE)).is_some());
    }

    #[test]
    fn longer_pixel_data_fits_only_as_padding() {
        assert_eq!(unfit(&image(3, 3, 8, vec![7; 10]), &ts(EXPLICIT_LE)), None);
        let mut zeros = vec![7; 9];
        zeros.extend([0; 9]);
        assert_eq!(unfit(&image(3, 3, 8, zeros), &ts(EXPLICIT_LE)), None);
        let why = unfit(&image(3, 3, 8, vec![7; 18]), &ts(EXPLICIT_LE)).unwrap();
        assert!(why.contains("not padding"), "{why}");
    }

    #[test]
    fn a_multi_valued_rows_or_a_missing_columns_does_not_fit() {
        let mut ds = image(4, 4, 8, vec![7; 16]);
        ds.put(Element::new(tags::ROWS, VR::US, vec![4, 0, 0x28, 0, 0x11, 0]));
        let why = unfit(&ds, &ts(EXPLICIT_LE)).unwrap();
        assert!(why.starts_with("Rows (0028,0010) holds 6 bytes"), "{why}");
        let mut ds = image(4, 4, 8, vec![7; 16]);
        ds.remove(tags::COLUMNS);
        assert!(unfit(&ds, &ts(EXPLICIT_LE)).unwrap().contains("no valid Columns (0028,0011)"));
    }

    #[test]
    fn encapsulated_pixel_data_is_not_measured() {
        let ds = image(4, 4, 16, vec![7; 30]);
        assert_eq!(unfit(&ds, &ts("1.2.840.10008.1.2.4.50")), None);
    }
}
