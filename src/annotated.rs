//! Which images usually carry burned-in text when their header does not say: one list for
//! `deid`'s pixel-cleaning selection, its end-of-run warning and `kamei verify`'s pixel check,
//! so the three never disagree (README lists them under burned-in text).

/// Modalities whose images usually carry burned-in text (PS3.15 E.3.1 names ultrasound,
/// secondary capture, scanned documents, angiography...; panoramic (PX) and intra-oral (IO)
/// dental X-ray systems print the patient's name on the image).
pub const MODALITIES: &[&str] =
    &["US", "SC", "XA", "RF", "ES", "XC", "OT", "DOC", "GM", "SM", "IVUS", "OP", "PX", "IO"];

/// SOP class UID prefixes of the same kinds: Secondary Capture (1.2.840.10008.5.1.4.1.1.7.*),
/// Ultrasound (…6.1, …6.2, …3.1), X-ray angiography and fluoroscopy (…12.*), VL endoscopic,
/// photographic and video (…77.1.*), encapsulated documents (…104.*).
pub const SOP_CLASS_PREFIXES: &[&str] = &[
    "1.2.840.10008.5.1.4.1.1.7",
    "1.2.840.10008.5.1.4.1.1.6.",
    "1.2.840.10008.5.1.4.1.1.3.1",
    "1.2.840.10008.5.1.4.1.1.12.",
    "1.2.840.10008.5.1.4.1.1.77.1.",
    "1.2.840.10008.5.1.4.1.1.104.",
];

/// Retired SOP class UIDs of the same kinds, matched whole: Ultrasound Image Storage (Retired,
/// …6) and Ultrasound Multi-frame Image Storage (Retired, …3), which old archives still hold.
pub const RETIRED_SOP_CLASSES: &[&str] = &["1.2.840.10008.5.1.4.1.1.6", "1.2.840.10008.5.1.4.1.1.3"];

/// Whether an image of this modality or SOP class usually carries burned-in text.
/// The modality is compared without case or surrounding spaces (`us` is ultrasound), each of
/// its values when a damaged file has several (`CT\US`).
pub fn is_annotated(modality: &str, sop_class: &str) -> bool {
    let sop_class = sop_class.trim_end_matches(['\0', ' ']).trim();
    modality.split('\\').any(|v| MODALITIES.iter().any(|m| m.eq_ignore_ascii_case(v.trim())))
        || SOP_CLASS_PREFIXES.iter().any(|p| sop_class.starts_with(p))
        || RETIRED_SOP_CLASSES.contains(&sop_class)
}

/// Image Type (0008,0008) values that say an image is a capture of a screen (a CT dose report,
/// a workstation's screen): it shows whatever the screen showed, the patient's name included,
/// whatever its modality.
pub const SCREEN_CAPTURE_IMAGE_TYPES: &[&str] = &["SCREEN SAVE", "SCREENSAVE", "SCREEN_SAVE"];

/// Whether the image of `ds` usually carries burned-in text: of an annotated modality or SOP
/// class ([`is_annotated`]), or a screen capture by its Image Type.
pub fn is_annotated_image(ds: &crate::dataset::DataSet) -> bool {
    use dicom_dictionary_std::tags;
    let modality = ds.ascii(tags::MODALITY).unwrap_or("");
    let sop = ds.ascii(tags::SOP_CLASS_UID).unwrap_or("");
    let screen = ds.ascii(tags::IMAGE_TYPE).is_some_and(|t| {
        t.split('\\').any(|v| SCREEN_CAPTURE_IMAGE_TYPES.iter().any(|s| s.eq_ignore_ascii_case(v.trim())))
    });
    is_annotated(modality, sop) || screen
}

/// What Burned In Annotation (0028,0301) says, read so that only a clear NO counts as NO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurnedInValue {
    /// YES, in any case, or any value with a component that starts with `Y` (`Y`, `YES\NO`).
    Yes,
    /// Every component is NO or N, in any case.
    No,
    /// Absent from the data set.
    Absent,
    /// Anything else (present but empty, a misspelling, `UNKNOWN`, bytes that are not text):
    /// the image may carry text, so it is treated as YES wherever a decision depends on it.
    /// An empty value is "unknown" (PS3.5 7.4), not a clear NO.
    Unclear,
}

impl BurnedInValue {
    /// Read Burned In Annotation (0028,0301) from `ds`: absent is [`BurnedInValue::Absent`],
    /// present but empty or not readable as text is [`BurnedInValue::Unclear`].
    pub fn read(ds: &crate::dataset::DataSet) -> BurnedInValue {
        match ds.bytes(dicom_dictionary_std::tags::BURNED_IN_ANNOTATION) {
            None => BurnedInValue::Absent,
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => {
                    let text = text.trim_matches(|c| c == ' ' || c == '\0');
                    if text.is_empty() { BurnedInValue::Unclear } else { BurnedInValue::of(Some(text)) }
                }
                Err(_) => BurnedInValue::Unclear,
            },
        }
    }

    /// Read the value of Burned In Annotation (`None` when the attribute is absent).
    pub fn of(value: Option<&str>) -> BurnedInValue {
        let value = value.map(str::trim).unwrap_or("");
        if value.is_empty() {
            return BurnedInValue::Absent;
        }
        let parts: Vec<String> = value.split('\\').map(|p| p.trim().to_ascii_uppercase()).collect();
        if parts.iter().any(|p| p.starts_with('Y')) {
            BurnedInValue::Yes
        } else if parts.iter().all(|p| p == "NO" || p == "N") {
            BurnedInValue::No
        } else {
            BurnedInValue::Unclear
        }
    }

    /// Whether the value says, or may say, that text is burned in.
    pub fn says_yes(self) -> bool {
        matches!(self, BurnedInValue::Yes | BurnedInValue::Unclear)
    }
}

/// The elements that hold an image's pixels: Pixel Data, Float Pixel Data and Double Float
/// Pixel Data (PS3.3 C.7.6.3, C.7.6.24). An image in any of them can carry burned-in text.
pub const PIXEL_DATA_TAGS: [dicom_core::Tag; 3] = [
    dicom_dictionary_std::tags::PIXEL_DATA,
    dicom_dictionary_std::tags::FLOAT_PIXEL_DATA,
    dicom_dictionary_std::tags::DOUBLE_FLOAT_PIXEL_DATA,
];

/// Whether `ds` holds pixels in any of [`PIXEL_DATA_TAGS`].
pub fn has_pixels(ds: &crate::dataset::DataSet) -> bool {
    PIXEL_DATA_TAGS.iter().any(|t| ds.get(*t).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ultrasound_angiography_and_dental_images_are_annotated_ct_is_not() {
        assert!(is_annotated("US", ""));
        assert!(is_annotated("PX", ""));
        assert!(is_annotated("", "1.2.840.10008.5.1.4.1.1.12.1"));
        assert!(is_annotated("", "1.2.840.10008.5.1.4.1.1.7.4"));
        assert!(!is_annotated("CT", "1.2.840.10008.5.1.4.1.1.2"));
    }

    #[test]
    fn a_screen_capture_of_any_modality_is_annotated() {
        use crate::dataset::{DataSet, Element, VR};
        use dicom_dictionary_std::tags;
        let ct = |image_type: &[u8]| {
            DataSet::from_elements([
                Element::new(tags::MODALITY, VR::CS, b"CT".to_vec()),
                Element::new(tags::IMAGE_TYPE, VR::CS, image_type.to_vec()),
            ])
        };
        assert!(is_annotated_image(&ct(b"DERIVED\\SECONDARY\\SCREEN SAVE ")));
        assert!(!is_annotated_image(&ct(b"DERIVED\\SECONDARY\\AXIAL ")), "a reformat is no screen capture");
    }

    #[test]
    fn retired_ultrasound_classes_are_annotated_but_not_their_longer_neighbours() {
        assert!(is_annotated("", "1.2.840.10008.5.1.4.1.1.6"));
        assert!(is_annotated("", "1.2.840.10008.5.1.4.1.1.3\0"));
        assert!(!is_annotated("", "1.2.840.10008.5.1.4.1.1.30"), "Parametric Map");
        assert!(!is_annotated("", "1.2.840.10008.5.1.4.1.1.66"), "Raw Data");
    }

    #[test]
    fn a_damaged_modality_with_several_values_is_annotated_when_one_is() {
        assert!(is_annotated("CT\\US", ""));
        assert!(!is_annotated("CT\\MR", ""));
    }

    #[test]
    fn a_modality_in_lower_case_or_padded_is_still_annotated() {
        assert!(is_annotated("us", ""));
        assert!(is_annotated(" Us ", ""));
    }

    #[test]
    fn only_a_clear_no_reads_as_no() {
        assert_eq!(BurnedInValue::of(Some("NO")), BurnedInValue::No);
        assert_eq!(BurnedInValue::of(Some("no ")), BurnedInValue::No);
        assert_eq!(BurnedInValue::of(Some("N")), BurnedInValue::No);
        assert_eq!(BurnedInValue::of(None), BurnedInValue::Absent);
        assert_eq!(BurnedInValue::of(Some(" ")), BurnedInValue::Absent);
    }

    #[test]
    fn a_present_but_empty_or_unreadable_value_is_not_a_clear_no() {
        use crate::dataset::{DataSet, Element, VR};
        use dicom_dictionary_std::tags;
        let with = |bytes: &[u8]| {
            let mut ds = DataSet::default();
            ds.put(Element::new(tags::BURNED_IN_ANNOTATION, VR::CS, bytes.to_vec()));
            BurnedInValue::read(&ds)
        };
        assert_eq!(with(b""), BurnedInValue::Unclear);
        assert_eq!(with(b"  "), BurnedInValue::Unclear);
        assert_eq!(with(b"\xFF\xFE"), BurnedInValue::Unclear);
        assert_eq!(with(b"NO"), BurnedInValue::No);
        assert_eq!(BurnedInValue::read(&DataSet::default()), BurnedInValue::Absent);
        assert!(with(b"").says_yes());
    }

    #[test]
    fn yes_in_any_spelling_or_among_several_values_reads_as_yes() {
        for v in ["YES", "yes", " Yes", "Y", "YES\\NO", "NO\\YES"] {
            assert_eq!(BurnedInValue::of(Some(v)), BurnedInValue::Yes, "{v}");
        }
    }

    #[test]
    fn an_unclear_value_is_treated_as_yes() {
        assert_eq!(BurnedInValue::of(Some("UNKNOWN")), BurnedInValue::Unclear);
        assert!(BurnedInValue::of(Some("N0")).says_yes());
        assert!(!BurnedInValue::of(Some("NO")).says_yes());
    }
}
