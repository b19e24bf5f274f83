//! What a value read from a file may be shown as, in messages and in the audit log.
//!
//! Messages and the audit log hold no value from any file (the audit is released with the
//! data). A few attributes are still worth naming there — the transfer syntax a file failed on,
//! its modality and SOP class for counting, its photometric interpretation — because they are
//! never patient data when they are what they claim to be. A damaged or hostile file can put
//! anything in them (a name in Modality, a birth date in the transfer syntax), so each is shown
//! only when it has the form, or is one of the values, the standard defines.

/// A UID as it may be shown: the value when it has a UID's form (digits and dots, at most 64
/// characters, no empty component), else a placeholder.
pub fn uid(value: &str) -> String {
    if is_uid(value) { value.to_string() } else { "(not a valid UID; not shown)".to_string() }
}

/// Whether `value` has a UID's form (PS3.5 9.1).
pub fn is_uid(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.split('.').all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a tag read from a file is one the standard defines (or an item or delimiter). After
/// a wrong length the parser reads "tags" from inside values; those bytes can be part of a name
/// or an ID, so messages name only standard tags.
pub fn is_standard_tag(tag: dicom_core::Tag) -> bool {
    tag.group() == 0xFFFE || crate::dict::keyword(tag).is_some()
}

/// A tag read from a file as it may be shown: `(GGGG,EEEE)` when the standard defines it, else
/// a phrase without its bytes.
pub fn tag(tag: dicom_core::Tag) -> String {
    if is_standard_tag(tag) { crate::dataset::tag_str(tag) } else { "an unrecognised tag".to_string() }
}

/// The Modality defined terms of PS3.3 C.7.3.1.1.1, current and retired.
const MODALITIES: &[&str] = &[
    "AR",
    "ASMT",
    "AU",
    "BDUS",
    "BI",
    "BMD",
    "CFM",
    "CR",
    "CT",
    "CTPROTOCOL",
    "DMS",
    "DG",
    "DOC",
    "DX",
    "ECG",
    "EEG",
    "EMG",
    "EOG",
    "EPS",
    "ES",
    "FID",
    "GM",
    "HC",
    "HD",
    "IO",
    "IOL",
    "IVOCT",
    "IVUS",
    "KER",
    "KO",
    "LEN",
    "LS",
    "MG",
    "MR",
    "M3D",
    "NM",
    "OAM",
    "OCT",
    "OP",
    "OPM",
    "OPT",
    "OPTBSV",
    "OPTENF",
    "OPV",
    "OSS",
    "OT",
    "PA",
    "PLAN",
    "POS",
    "PR",
    "PT",
    "PX",
    "REG",
    "RESP",
    "RF",
    "RG",
    "RTDOSE",
    "RTIMAGE",
    "RTINTENT",
    "RTPLAN",
    "RTRAD",
    "RTRECORD",
    "RTSEGANN",
    "RTSTRUCT",
    "RWV",
    "SEG",
    "SM",
    "SMR",
    "SR",
    "SRF",
    "STAIN",
    "TEXTUREMAP",
    "TG",
    "US",
    "VA",
    "XA",
    "XAPROTOCOL",
    "XC",
    "AS",
    "CD",
    "CF",
    "CP",
    "CS",
    "DD",
    "DF",
    "DM",
    "DS",
    "EC",
    "FA",
    "FS",
    "LP",
    "MA",
    "MS",
    "OPR",
    "ST",
    "VF",
];

/// A Modality as it may be shown: a defined term, or `other`.
pub fn modality(value: &str) -> String {
    let v = value.trim();
    if MODALITIES.contains(&v) { v.to_string() } else { "other".to_string() }
}

/// The Photometric Interpretation defined terms of PS3.3 C.7.6.3.1.2, current and retired.
const PHOTOMETRIC: &[&str] = &[
    "MONOCHROME1",
    "MONOCHROME2",
    "PALETTE COLOR",
    "RGB",
    "HSV",
    "ARGB",
    "CMYK",
    "YBR_FULL",
    "YBR_FULL_422",
    "YBR_PARTIAL_422",
    "YBR_PARTIAL_420",
    "YBR_ICT",
    "YBR_RCT",
    "XYB",
];

/// A Photometric Interpretation as it may be shown: a defined term, or a placeholder.
pub fn photometric(value: &str) -> String {
    let v = value.trim();
    if PHOTOMETRIC.contains(&v) { v.to_string() } else { "(not a defined term; not shown)".to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_values_of_the_defined_form_are_shown() {
        assert_eq!(uid("1.2.840.10008.1.2.4.50"), "1.2.840.10008.1.2.4.50");
        assert!(!uid("1.2.3.4.SECRETID42").contains("SECRET"));
        assert!(!uid("YAMADA^TARO 1985-03-15").contains("YAMADA"));
        assert_eq!(modality("CT"), "CT");
        assert_eq!(modality("SECRETNAME"), "other");
        assert_eq!(photometric("MONOCHROME2"), "MONOCHROME2");
        assert!(!photometric("YAMADA").contains("YAMADA"));
    }
}
