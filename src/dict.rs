//! Attribute dictionary lookups (VR and keyword by tag), over dicom-dictionary-std.
//!
//! Kept in one place so that the parser, the planner and the profile code agree on what the
//! dictionary says, including kamei's choices for tags it does not know (private → UN).

use crate::dataset::{Tag, VR, is_private, is_private_creator};
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_dictionary_std::StandardDataDictionary;

/// The VR the standard gives a tag, as used to read Implicit VR data:
/// group lengths are UL, Private Creators LO, other private elements and unknown tags UN,
/// context-dependent VRs relaxed (US/SS → US, OB/OW → OW).
pub fn vr_of(tag: Tag) -> VR {
    if tag.element() == 0x0000 {
        return VR::UL;
    }
    if is_private(tag) {
        return if is_private_creator(tag) { VR::LO } else { VR::UN };
    }
    match StandardDataDictionary.by_tag(tag) {
        Some(entry) => entry.vr().relaxed(),
        None => VR::UN,
    }
}

/// The dictionary VR of a standard tag, or `None` if the dictionary does not know it.
pub fn known_vr(tag: Tag) -> Option<VR> {
    if is_private(tag) {
        return None;
    }
    StandardDataDictionary.by_tag(tag).map(|e| e.vr().relaxed())
}

/// The keyword of a standard tag (e.g. `PatientName`), if known.
pub fn keyword(tag: Tag) -> Option<&'static str> {
    if is_private(tag) {
        return None;
    }
    StandardDataDictionary.by_tag(tag).map(|e| e.alias)
}

/// The tag for a keyword (e.g. `StudyDescription`), if known.
pub fn tag_by_keyword(keyword: &str) -> Option<Tag> {
    StandardDataDictionary.by_name(keyword).map(|e| e.tag())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_vr_of_private_and_standard_tags() {
        assert_eq!(vr_of(Tag(0x0010, 0x0010)), VR::PN);
        assert_eq!(vr_of(Tag(0x0009, 0x0010)), VR::LO);
        assert_eq!(vr_of(Tag(0x0009, 0x1001)), VR::UN);
        assert_eq!(vr_of(Tag(0x0008, 0x0000)), VR::UL);
        assert_eq!(vr_of(Tag(0x6002, 0x3000)), VR::OW);
        assert_eq!(vr_of(Tag(0x0008, 0x1140)), VR::SQ);
    }

    #[test]
    fn keyword_round_trip() {
        assert_eq!(keyword(Tag(0x0008, 0x1030)), Some("StudyDescription"));
        assert_eq!(tag_by_keyword("StudyDescription"), Some(Tag(0x0008, 0x1030)));
    }
}
