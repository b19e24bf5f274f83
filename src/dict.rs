//! Attribute dictionary lookups (VR and keyword by tag), over dicom-dictionary-std.
//!
//! Kept in one place so that the parser, the planner and the profile code agree on what the
//! dictionary says, including kamei's choices for tags it does not know (private → UN).

use crate::dataset::{Tag, VR, is_private, is_private_creator};
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_dictionary_std::{StandardDataDictionary, tags};

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

/// The VR to read a standard element by when the VR its Explicit VR header names is not one
/// the dictionary allows for the tag (a damaged header: a Study Instance UID whose VR bytes
/// read `FD`): the dictionary's, so that the profile's action for the tag, the safety nets and
/// `kamei verify` treat the value as what the tag holds, never as what a damaged byte says it
/// is. A tag the dictionary gives as a sequence becomes UN (its bytes are then read as items if
/// they are items, and otherwise removed as an unread sequence). `None` when the VR is allowed
/// (the alternatives of US/SS and OB/OW attributes included), is UN or SQ (handled as such),
/// or the tag is private, a group length or unknown.
pub fn contradicted_vr(tag: Tag, vr: VR) -> Option<VR> {
    use dicom_core::dictionary::VirtualVr;
    if is_private(tag) || tag.element() == 0x0000 || tag.group() == 0xFFFE || matches!(vr, VR::UN | VR::SQ) {
        return None;
    }
    let allowed: &[VR] = match StandardDataDictionary.by_tag(tag)?.vr() {
        VirtualVr::Exact(VR::SQ) => return Some(VR::UN),
        VirtualVr::Exact(d) => return (d != vr).then_some(d),
        VirtualVr::Xs | VirtualVr::Lt => &[VR::US, VR::SS, VR::OW],
        VirtualVr::Ox | VirtualVr::Px => &[VR::OB, VR::OW],
        _ => return None,
    };
    (!allowed.contains(&vr)).then_some(allowed[0])
}

/// The keyword of a standard tag (e.g. `PatientName`), if known.
pub fn keyword(tag: Tag) -> Option<&'static str> {
    if is_private(tag) {
        return None;
    }
    StandardDataDictionary.by_tag(tag).map(|e| e.alias)
}

/// The patient's own name attributes.
#[allow(deprecated)]
pub const PATIENT_NAMES: [Tag; 3] = [tags::PATIENT_NAME, tags::PATIENT_BIRTH_NAME, tags::PATIENT_MOTHER_BIRTH_NAME];

/// The patient's own ID attributes (an Other Patient IDs Sequence item holds a Patient ID).
#[allow(deprecated)]
pub const PATIENT_IDS: [Tag; 2] = [tags::PATIENT_ID, tags::OTHER_PATIENT_I_DS];

/// Other identifying attributes of the patient, the visit and the order whose values Clean
/// removes from text. (Some are retired in the current standard but still found in files.)
/// The order and procedure identifiers (PS3.15 Table E.1-1: X) are keys into the hospital's
/// HIS/RIS as direct as the accession number, and RIS consoles copy them into comments
/// (`オーダ番号 PL2024030100123 の追加撮影`). So are the other identifiers of the patient, the
/// visit and the specimen that the table removes or replaces (X or D): the specimen and
/// container (slide) identifiers, which carry the surgical pathology number printed on the
/// slide label (`S24-012345-A1`), the service episode, the insurance plan, and a clinical
/// trial's subject and reading IDs, which a trial's files copy into descriptions.
#[allow(deprecated)]
pub const OTHER_IDS: [Tag; 24] = [
    tags::ACCESSION_NUMBER,
    tags::STUDY_ID,
    tags::PATIENT_ADDRESS,
    tags::PATIENT_TELEPHONE_NUMBERS,
    // Free text (LT) such as `tel:03-1234-5678`: its phone numbers are found by their digits
    // ([`crate::scrub::Identifiers::add_id`]).
    tags::PATIENT_TELECOM_INFORMATION,
    tags::MEDICAL_RECORD_LOCATOR,
    tags::ADMISSION_ID,
    tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST,
    tags::FILLER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST,
    tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST_RETIRED,
    tags::FILLER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST_RETIRED,
    tags::PLACER_ORDER_NUMBER_PROCEDURE,
    tags::FILLER_ORDER_NUMBER_PROCEDURE,
    tags::REQUESTED_PROCEDURE_ID,
    tags::SCHEDULED_PROCEDURE_STEP_ID,
    tags::PERFORMED_PROCEDURE_STEP_ID,
    tags::SPECIMEN_IDENTIFIER,
    tags::CONTAINER_IDENTIFIER,
    tags::SPECIMEN_ACCESSION_NUMBER,
    tags::SLIDE_IDENTIFIER,
    tags::SERVICE_EPISODE_ID,
    tags::INSURANCE_PLAN_IDENTIFICATION,
    tags::CLINICAL_TRIAL_SUBJECT_ID,
    tags::CLINICAL_TRIAL_SUBJECT_READING_ID,
];

/// Attributes naming who issued the patient's identifiers: Issuer of Patient ID, and the
/// Local Namespace Entity ID and Universal Entity ID of every issuer sequence at any depth
/// (Issuer of Patient ID Qualifiers and its Assigning Facility, Issuer of Accession Number,
/// Order Placer and Filler Identifier, Issuer of Admission ID, of the Specimen and Container
/// Identifier...: the HL7 v2 Hierarchic Designator macro). Each names the hospital, its RIS or
/// its ID domain (`KCH-RIS`, an OID or URL of the hospital's), as the issuer of the Patient ID
/// does: the values the safety nets look for unless the profile keeps the institution's name.
pub const ISSUER_IDS: [Tag; 3] =
    [tags::ISSUER_OF_PATIENT_ID, tags::LOCAL_NAMESPACE_ENTITY_ID, tags::UNIVERSAL_ENTITY_ID];

/// Attributes naming the institution, whose values Clean removes from text: its name and
/// address, and the issuers of its identifiers ([`ISSUER_IDS`]).
pub const INSTITUTION_IDS: [Tag; 5] =
    [tags::INSTITUTION_NAME, tags::INSTITUTION_ADDRESS, ISSUER_IDS[0], ISSUER_IDS[1], ISSUER_IDS[2]];

/// Attributes naming the institution's department, service or equipment, whose values Clean
/// also removes from text (`kamei verify` looks for them too): a station name or a device
/// serial number written in a description points to the site.
pub const SITE_IDS: [Tag; 4] =
    [tags::INSTITUTIONAL_DEPARTMENT_NAME, tags::REQUESTING_SERVICE, tags::STATION_NAME, tags::DEVICE_SERIAL_NUMBER];

/// Whether an element holds a value kamei collects as an identifier of the file (what Clean and
/// the safety net look for): a Person Name (its VR, or its dictionary VR, is PN), one of
/// [`PATIENT_NAMES`], [`PATIENT_IDS`], [`OTHER_IDS`], [`INSTITUTION_IDS`], or Patient's Birth
/// Date.
pub fn is_identifying(tag: Tag, vr: VR) -> bool {
    vr == VR::PN
        || known_vr(tag) == Some(VR::PN)
        || PATIENT_NAMES.contains(&tag)
        || PATIENT_IDS.contains(&tag)
        || OTHER_IDS.contains(&tag)
        || INSTITUTION_IDS.contains(&tag)
        || tag == tags::PATIENT_BIRTH_DATE
}

/// Parts of a keyword that mark a UID attribute naming something registered rather than an
/// instance: a SOP class, a transfer syntax, a coding scheme or mapping resource, a context
/// group, the creator or organization of an extension (Template Extension Organization UID;
/// not Dimension Organization UID, which a modality makes for each multi-frame instance, with
/// its own root and a timestamp, `1.3.6.1.4.1.43046.3.0.42154.1458337731.665797`), a software
/// version.
const REGISTERED_UID_KEYWORD_PARTS: [&str; 9] = [
    "SOPClass",
    "ClassUID",
    "TransferSyntax",
    "CodingScheme",
    "MappingResource",
    "ContextUID",
    "CreatorUID",
    "CreatorVersionUID",
    "ExtensionOrganizationUID",
];

/// Whether `uid` is a UID the standard defines: registered in PS3.6 Annex A
/// ([`crate::standard_uids::is_registered`]: a SOP class, a transfer syntax, UTC as
/// Synchronization Frame of Reference, an atlas frame of reference (`1.2.840.10008.1.4.1.x`), a
/// standard colour palette instance, a coding scheme, a context group). It names the same thing
/// in every file of every patient, and a reader recognises it by its value, so kamei keeps it
/// wherever it stands. A value that merely starts with the standard's root is not one: an
/// instance UID built by appending a date and a Patient ID to a SOP Class UID
/// (`1.2.840.10008.5.1.4.1.1.2.20240102.101500.7788123`) is the hospital's and is mapped.
pub fn is_dicom_defined_uid(uid: &str) -> bool {
    crate::shown::is_uid(uid) && crate::standard_uids::is_registered(uid)
}

/// Whether `uid` is a UUID-derived UID (PS3.5 B.2): `2.25.` followed by the decimal value of a
/// UUID, with no leading zero. Many systems make their instance UIDs this way, and kamei's own
/// replacements have this form; it has three components only.
pub fn is_uuid_uid(uid: &str) -> bool {
    uid.strip_prefix("2.25.")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n == "0" || !n.starts_with('0')))
}

/// Whether `uid` has the components of an instance UID rather than of a version number
/// (`2.1`, `3.0.2`): four components or more, or a UUID-derived UID ([`is_uuid_uid`]), which
/// has three. Every rule that tells UIDs from version numbers (in text, in private values)
/// reads them by this one.
pub fn has_instance_uid_components(uid: &str) -> bool {
    uid.split('.').count() >= 4 || is_uuid_uid(uid)
}

/// What a UID written in text may look like: digits in three components or more (`1.2.392.…`,
/// `2.25.<uuid>`). The matches still have to pass [`is_instance_uid_text`] (and stand alone in
/// their text), or be the file's own UID.
pub static UID_IN_TEXT: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"[0-9]+(?:\.[0-9]+){2,}").expect("valid built-in pattern"));

/// Whether `uid`, found written in text or in a value, is specific enough to be taken for an
/// original instance UID: spelled as a UID, with an instance UID's components
/// ([`has_instance_uid_components`]: four or more, or `2.25.<uuid>`) and 16 characters or more
/// (`1.2.3.4` is as likely a version number), and not a UID the standard defines. Clean,
/// clinical free text and `kamei verify` read UIDs in text by this one rule.
pub fn is_instance_uid_text(uid: &str) -> bool {
    uid.len() >= 16 && has_instance_uid_components(uid) && crate::shown::is_uid(uid) && !is_dicom_defined_uid(uid)
}

/// The instance UIDs written in `text` ([`UID_IN_TEXT`] matches that pass
/// [`is_instance_uid_text`]), whatever stands beside them: a letter, `_` or `=` joins a UID to
/// a word in the names tools write (`MPR_from_<series UID>`, `seg_<UID>`), and the match, all
/// the digits and dots in a row, cannot be part of a longer number. Clean, clinical free text
/// and `kamei verify` find UIDs in text by this one rule.
pub fn instance_uids_in(text: &str) -> impl Iterator<Item = regex::Match<'_>> {
    UID_IN_TEXT.find_iter(text).filter(|m| is_instance_uid_text(m.as_str()))
}

/// A run shaped as a UID ([`UID_IN_TEXT`]) found in text by [`uid_runs_in`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidRun {
    /// Where it is in the text, in bytes: every character of it, full width or not.
    pub range: std::ops::Range<usize>,
    /// The UID in ASCII (`１．２．３` is `1.2.3`): what is mapped, compared and checked.
    pub uid: String,
    /// Whether it stands alone, not joined to a letter, `_` or another number
    /// ([`crate::text_dates::stands_alone`]).
    pub alone: bool,
}

/// The runs shaped as UIDs in `text` ([`UID_IN_TEXT`]), read with full-width digits and dots as
/// ASCII ones: Japanese text typed in full width writes a UID `１．２．３９２．２０００３６．…`, and
/// read only in ASCII it held no UID, while one of its components was taken for something
/// else (a date) and the rest of the original UID stayed. Each run covers the whole UID in the
/// text, whatever its width. The caller decides which runs are instance UIDs
/// ([`is_instance_uid_text`], or the file's own).
///
/// ```
/// let runs = kamei::dict::uid_runs_in("see １．２．３９２．２０００３６．９１１６.1 ok");
/// assert_eq!(runs[0].uid, "1.2.392.200036.9116.1");
/// assert_eq!(&"see １．２．３９２．２０００３６．９１１６.1 ok"[runs[0].range.clone()], "１．２．３９２．２０００３６．９１１６.1");
/// ```
pub fn uid_runs_in(text: &str) -> Vec<UidRun> {
    let wide = |c: char| ('０'..='９').contains(&c) || c == '．';
    if !text.contains(wide) {
        return UID_IN_TEXT
            .find_iter(text)
            .map(|m| UidRun {
                range: m.range(),
                uid: m.as_str().to_string(),
                alone: crate::text_dates::stands_alone(text, m.start(), m.end()),
            })
            .collect();
    }
    // Each character in ASCII when it is a full-width digit or dot, with the byte offset in
    // `text` of each byte of the result (and of its end).
    let mut folded = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len() + 1);
    for (i, c) in text.char_indices() {
        let narrow = match c {
            '．' => '.',
            '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        folded.push(narrow);
        origin.extend(std::iter::repeat_n(i, narrow.len_utf8()));
    }
    origin.push(text.len());
    UID_IN_TEXT
        .find_iter(&folded)
        .map(|m| UidRun {
            range: origin[m.start()]..origin[m.end()],
            uid: m.as_str().to_string(),
            alone: crate::text_dates::stands_alone(&folded, m.start(), m.end()),
        })
        .collect()
}

/// Whether a UID attribute names something registered (SOP class, transfer syntax, coding
/// scheme, creator...; see `REGISTERED_UID_KEYWORD_PARTS`), decided by its keyword. Such UIDs
/// identify no patient, study or instance, and mapping them would break the file, so an
/// unlisted attribute of this kind keeps its value; every other UID attribute holds instance
/// UIDs. Private and unknown tags are not registered, and neither is an attribute whose
/// dictionary VR is not UI: Coding Scheme Name or Mapping Resource Name share the keyword
/// parts but hold free text (a site writes its own name there), and `--strict` keeps what
/// this accepts.
pub fn names_registered_uid(tag: Tag) -> bool {
    known_vr(tag) == Some(VR::UI)
        && keyword(tag).is_some_and(|k| REGISTERED_UID_KEYWORD_PARTS.iter().any(|p| k.contains(p)))
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
    fn uuid_derived_uids_are_instance_uids_in_text_and_versions_are_not() {
        assert!(is_instance_uid_text("2.25.329800735698586629295641978511506172918"));
        assert!(has_instance_uid_components("2.25.5"));
        for version in ["3.0.2", "2.1", "2.25", "2.25.", "2.25.0123456789012345"] {
            assert!(!has_instance_uid_components(version), "{version}");
        }
        assert!(!is_instance_uid_text("2.25.1"), "too short to be specific");
        let found: Vec<&str> =
            UID_IN_TEXT.find_iter("see 2.25.112233445566778899 v3.0.2").map(|m| m.as_str()).collect();
        assert_eq!(found, ["2.25.112233445566778899", "3.0.2"]);
    }

    #[test]
    fn a_uid_written_in_full_width_is_found_whole() {
        let text = "CT １．２．３９２．２０００３６．９１１６．２．６．１．４８ x";
        let runs = uid_runs_in(text);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].uid, "1.2.392.200036.9116.2.6.1.48");
        assert_eq!(&text[runs[0].range.clone()], "１．２．３９２．２０００３６．９１１６．２．６．１．４８");
        assert!(runs[0].alone && is_instance_uid_text(&runs[0].uid));
        let glued = uid_runs_in("ｘ_1.2.392.200036.9116.2.6");
        assert_eq!(glued[0].uid, "1.2.392.200036.9116.2.6");
        assert!(!glued[0].alone);
    }

    #[test]
    fn only_registered_uids_under_the_standards_root_are_defined() {
        assert!(is_dicom_defined_uid("1.2.840.10008.5.1.4.1.1.2"));
        assert!(is_dicom_defined_uid("1.2.840.10008.1.4.1.1"));
        assert!(!is_dicom_defined_uid("1.2.840.10008.5.1.4.1.1.2.20240102.101500.7788123"));
        assert!(is_instance_uid_text("1.2.840.10008.5.1.4.1.1.2.20240102.101500"));
    }

    #[test]
    fn class_syntax_and_scheme_uids_are_registered_and_instance_uids_are_not() {
        for kw in ["SOPClassUID", "ReferencedSOPClassUID", "TransferSyntaxUID", "CodingSchemeUID", "SOPClassesInStudy"]
        {
            assert!(names_registered_uid(tag_by_keyword(kw).unwrap()), "{kw}");
        }
        for kw in [
            "SOPInstanceUID",
            "FrameOfReferenceUID",
            "TableFrameOfReferenceUID",
            "ConcatenationUID",
            "DeviceUID",
            "DimensionOrganizationUID",
        ] {
            assert!(!names_registered_uid(tag_by_keyword(kw).unwrap()), "{kw}");
        }
        assert!(!names_registered_uid(Tag(0x0099, 0x1002)), "private");
    }

    #[test]
    fn attributes_named_like_registered_uids_but_not_ui_are_not_registered() {
        for kw in [
            "CodingSchemeName",
            "CodingSchemeResponsibleOrganization",
            "MappingResourceName",
            "CodingSchemeDesignator",
            "CodingSchemeIdentificationSequence",
            "ReferencedInstancesBySOPClassSequence",
        ] {
            assert!(!names_registered_uid(tag_by_keyword(kw).unwrap()), "{kw}");
        }
    }

    #[test]
    fn keyword_round_trip() {
        assert_eq!(keyword(Tag(0x0008, 0x1030)), Some("StudyDescription"));
        assert_eq!(tag_by_keyword("StudyDescription"), Some(Tag(0x0008, 0x1030)));
    }
}
