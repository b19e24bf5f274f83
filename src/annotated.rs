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

/// Whether an image of this modality or SOP class usually carries burned-in text.
pub fn is_annotated(modality: &str, sop_class: &str) -> bool {
    MODALITIES.contains(&modality) || SOP_CLASS_PREFIXES.iter().any(|p| sop_class.starts_with(p))
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
}
