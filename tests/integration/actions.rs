//! PS3.15 action codes on the real binary, one behaviour each (those `deid.rs` does not cover):
//! D on a present X/D attribute, Z/D and X/Z on empty attributes, Z on a present X/Z one,
//! X/Z/U* sequences, K on a sequence, C on AE titles, the Type 2C responsible person of an
//! animal patient.

use crate::util::*;
use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.4";
const SERIES: &str = "1.2.826.0.1.3680043.8.498.4.1";

fn ct(n: u32) -> Fixture {
    Fixture::ct(CANARY_ID, STUDY, SERIES, &format!("{SERIES}.{n}"))
}

#[test]
fn x_d_on_a_present_value_writes_a_dummy() {
    let wd = Workdir::new("x_d_on_a_present_value_writes_a_dummy");
    ct(1).put(str_el(tags::PROTOCOL_NAME, VR::LO, "CANARY PROTOCOL")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::PROTOCOL_NAME).as_deref(), Some("ANONYMIZED"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARY PROTOCOL"]].concat());
}

#[test]
fn z_d_on_an_empty_value_stays_empty() {
    let wd = Workdir::new("z_d_on_an_empty_value_stays_empty");
    ct(1).put(str_el(tags::CONTRAST_BOLUS_AGENT, VR::LO, "")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::CONTRAST_BOLUS_AGENT).as_deref(), Some(""), "present and empty, not a dummy");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn an_animal_patients_responsible_person_and_organization_are_emptied_not_removed() {
    let wd = Workdir::new("an_animal_patients_responsible_person_and_organization_are_emptied_not_removed");
    // Patient Module: Type 2C for an animal; X would leave an invalid output.
    ct(1)
        .put(str_el(tags::PATIENT_SPECIES_DESCRIPTION, VR::LO, "Canis lupus familiaris"))
        .put(str_el(tags::RESPONSIBLE_PERSON, VR::PN, "OWNER^CANARY"))
        .put(str_el(tags::RESPONSIBLE_PERSON_ROLE, VR::CS, "OWNER"))
        .put(str_el(tags::RESPONSIBLE_ORGANIZATION, VR::LO, "CANARY KENNEL"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::RESPONSIBLE_PERSON).as_deref(), Some(""));
    assert_eq!(text(&obj, tags::RESPONSIBLE_ORGANIZATION).as_deref(), Some(""));
    assert_eq!(text(&obj, tags::RESPONSIBLE_PERSON_ROLE), None, "Type 1C only while the person has a value");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["OWNER^CANARY", "CANARY KENNEL"]].concat());
    let verify = wd.kamei(["verify", "out"]);
    assert!(!verify.stdout().contains("(0010,2297)"), "verify knows the rule: {}", verify.stdout());
}

#[test]
fn a_human_patients_responsible_person_goes_with_its_role() {
    let wd = Workdir::new("a_human_patients_responsible_person_goes_with_its_role");
    ct(1)
        .put(str_el(tags::RESPONSIBLE_PERSON, VR::PN, "PARENT^CANARY"))
        .put(str_el(tags::RESPONSIBLE_PERSON_ROLE, VR::CS, "PARENT"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::RESPONSIBLE_PERSON), None, "X for a human patient");
    assert_eq!(text(&obj, tags::RESPONSIBLE_PERSON_ROLE), None);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["PARENT^CANARY"]].concat());
}

#[test]
fn x_z_on_an_empty_value_stays_empty() {
    let wd = Workdir::new("x_z_on_an_empty_value_stays_empty");
    ct(1).put(str_el(tags::REQUESTED_PROCEDURE_DESCRIPTION, VR::LO, "")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(
        text(&obj, tags::REQUESTED_PROCEDURE_DESCRIPTION).as_deref(),
        Some(""),
        "present and empty, not removed"
    );
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn x_z_on_a_present_value_empties_it_rather_than_writing_an_invalid_dummy() {
    let wd = Workdir::new("x_z_on_a_present_value_empties_it_rather_than_writing_an_invalid_dummy");
    // Patient's Sex Neutered: X/Z, enumerated ALTERED or UNALTERED; `ANONYMIZED` is invalid.
    ct(1).put(str_el(tags::PATIENT_SEX_NEUTERED, VR::CS, "ALTERED")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::PATIENT_SEX_NEUTERED).as_deref(), Some(""), "present, emptied");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn x_z_u_sequence_is_kept_with_its_uids_mapped() {
    let wd = Workdir::new("x_z_u_sequence_is_kept_with_its_uids_mapped");
    let referenced = "1.2.826.0.1.3680043.8.498.99.7";
    let r = item(vec![
        str_el(tags::REFERENCED_SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
        str_el(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, referenced),
    ]);
    ct(1).put(seq_el(tags::REFERENCED_IMAGE_SEQUENCE, vec![r])).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let refs = items(&obj, tags::REFERENCED_IMAGE_SEQUENCE);
    assert_eq!(refs.len(), 1);
    assert_eq!(item_text(&refs[0], tags::REFERENCED_SOP_INSTANCE_UID), Some(pseudonymizer(7).uid(referenced)));
    assert_eq!(item_text(&refs[0], tags::REFERENCED_SOP_CLASS_UID).as_deref(), Some("1.2.840.10008.5.1.4.1.1.2"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[referenced]].concat());
}

#[test]
fn rv20_02_uids_the_standard_defines_are_kept_in_u_attributes_at_any_depth() {
    let wd = Workdir::new("rv20_02_uids_the_standard_defines_are_kept_in_u_attributes_at_any_depth");
    const UTC: &str = "1.2.840.10008.15.1.1";
    const TALAIRACH: &str = "1.2.840.10008.1.4.1.1";
    const HOT_IRON: &str = "1.2.840.10008.1.5.1";
    const CT_CLASS: &str = "1.2.840.10008.5.1.4.1.1.2";
    // An SR UIDREF content item naming a SOP class (concept 121114 "SOP Class UID").
    let uidref = item(vec![str_el(tags::VALUE_TYPE, VR::CS, "UIDREF"), str_el(tags::UID, VR::UI, CT_CLASS)]);
    let f = Fixture::ct(CANARY_ID, STUDY, SERIES, HOT_IRON)
        .put(str_el(tags::SYNCHRONIZATION_FRAME_OF_REFERENCE_UID, VR::UI, UTC))
        .put(str_el(tags::FRAME_OF_REFERENCE_UID, VR::UI, TALAIRACH))
        .put(str_el(tags::PALETTE_COLOR_LOOKUP_TABLE_UID, VR::UI, HOT_IRON))
        .put(seq_el(tags::CONTENT_SEQUENCE, vec![uidref]));
    f.write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let obj = open(&out);
    assert_eq!(text(&obj, tags::SYNCHRONIZATION_FRAME_OF_REFERENCE_UID).as_deref(), Some(UTC));
    assert_eq!(text(&obj, tags::FRAME_OF_REFERENCE_UID).as_deref(), Some(TALAIRACH));
    assert_eq!(text(&obj, tags::PALETTE_COLOR_LOOKUP_TABLE_UID).as_deref(), Some(HOT_IRON));
    assert_eq!(text(&obj, tags::SOP_INSTANCE_UID).as_deref(), Some(HOT_IRON));
    assert_eq!(obj.meta().media_storage_sop_instance_uid(), HOT_IRON, "the meta follows the data set");
    assert_eq!(item_text(&items(&obj, tags::CONTENT_SEQUENCE)[0], tags::UID).as_deref(), Some(CT_CLASS));
    assert_eq!(text(&obj, tags::STUDY_INSTANCE_UID), Some(pseudonymizer(7).uid(STUDY)), "instance UIDs are mapped");
    let verify = wd.kamei(["verify", "out"]);
    assert!(!verify.stdout().contains("not replaced"), "verify knows the rule: {}", verify.stdout());
}

#[test]
fn rv20_03_a_presentation_states_creation_date_and_time_get_a_dummy_not_removed() {
    let wd = Workdir::new("rv20_03_a_presentation_states_creation_date_and_time_get_a_dummy_not_removed");
    // Type 1 in the Presentation State Identification module, though Table E.1-1 says X.
    ct(1)
        .put(str_el(tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.11.1"))
        .put(str_el(tags::PRESENTATION_CREATION_DATE, VR::DA, "20240203"))
        .put(str_el(tags::PRESENTATION_CREATION_TIME, VR::TM, "112233"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::PRESENTATION_CREATION_DATE).as_deref(), Some("19000101"));
    assert_eq!(text(&obj, tags::PRESENTATION_CREATION_TIME).as_deref(), Some("000000"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20240203", "112233"]].concat());
    let verify = wd.kamei(["verify", "out"]);
    assert!(!verify.stdout().contains("(0070,008"), "verify knows the rule: {}", verify.stdout());
}

#[test]
fn rv20_07_requested_procedure_id_in_a_referenced_request_is_emptied_not_removed() {
    let wd = Workdir::new("rv20_07_requested_procedure_id_in_a_referenced_request_is_emptied_not_removed");
    // Type 2 in the SR Document General module's Referenced Request Sequence; X elsewhere.
    let request = item(vec![
        str_el(tags::ACCESSION_NUMBER, VR::SH, "CANARYACC1"),
        str_el(tags::REQUESTED_PROCEDURE_ID, VR::SH, "CANARYRPID"),
    ]);
    ct(1)
        .put(seq_el(tags::REFERENCED_REQUEST_SEQUENCE, vec![request]))
        .put(str_el(tags::REQUESTED_PROCEDURE_ID, VR::SH, "CANARYRPID2"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let requests = items(&obj, tags::REFERENCED_REQUEST_SEQUENCE);
    assert_eq!(item_text(&requests[0], tags::REQUESTED_PROCEDURE_ID).as_deref(), Some(""));
    assert_eq!(text(&obj, tags::REQUESTED_PROCEDURE_ID), None, "X outside the request item");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARYRPID"]].concat());
    let verify = wd.kamei(["verify", "out"]);
    assert!(!verify.stdout().contains("(0040,1001)"), "verify knows the rule: {}", verify.stdout());
}

#[test]
fn k_on_a_sequence_still_cleans_a_person_name_in_its_items() {
    let wd = Workdir::new("k_on_a_sequence_still_cleans_a_person_name_in_its_items");
    // Procedure Code Sequence is not in Table E.1-1: kept, and its items planned.
    let code = item(vec![
        str_el(tags::CODE_VALUE, VR::SH, "CTCHEST"),
        str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "99LOCAL"),
        str_el(tags::CODE_MEANING, VR::LO, "CT of the chest"),
        str_el(tags::PERSON_NAME, VR::PN, "CANARYNESTED^KEPTSEQ"),
    ]);
    ct(1).put(seq_el(tags::PROCEDURE_CODE_SEQUENCE, vec![code])).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let codes = items(&obj, tags::PROCEDURE_CODE_SEQUENCE);
    assert_eq!(item_text(&codes[0], tags::CODE_VALUE).as_deref(), Some("CTCHEST"));
    assert_eq!(item_text(&codes[0], tags::CODE_MEANING).as_deref(), Some("CT of the chest"));
    assert_eq!(item_text(&codes[0], tags::PERSON_NAME).as_deref(), Some("ANONYMIZED"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARYNESTED", "KEPTSEQ"]].concat());
}

#[test]
fn c_on_an_ae_title_gives_a_keyed_token_per_value() {
    let wd = Workdir::new("c_on_an_ae_title_gives_a_keyed_token_per_value");
    // Retrieve AE Title is C under Retain Device Identity; two values.
    ct(1).put(str_el(tags::RETRIEVE_AE_TITLE, VR::AE, "CANARYAE1\\CANARYAE2")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-device-identity"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let value = text(&obj, tags::RETRIEVE_AE_TITLE).unwrap();
    let pseudo = pseudonymizer(7);
    let expected = format!("{}\\{}", pseudo.token("ae", b"CANARYAE1", 16), pseudo.token("ae", b"CANARYAE2", 16));
    assert_eq!(value, expected);
    for v in value.split('\\') {
        assert!(!v.is_empty() && v.len() <= 16, "an AE value is at most 16 characters: {v:?}");
    }
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn d_on_a_code_sequence_replaces_its_code_values_and_meanings() {
    let wd = Workdir::new("d_on_a_code_sequence_replaces_its_code_values_and_meanings");
    let code = |value: &str, meaning: &str| {
        item(vec![
            str_el(tags::CODE_VALUE, VR::SH, value),
            str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "99HOSP"),
            str_el(tags::CODE_MEANING, VR::LO, meaning),
        ])
    };
    let person = item(vec![seq_el(
        tags::PERSON_IDENTIFICATION_CODE_SEQUENCE,
        vec![code("STAFFCANARY77", "CANARYRADIOGRAPHER TANAKA")],
    )]);
    ct(1)
        .put(seq_el(tags::INSTITUTION_CODE_SEQUENCE, vec![code("HOSPCANARY42", "CANARYCODED GENERAL")]))
        .put(seq_el(tags::OPERATOR_IDENTIFICATION_SEQUENCE, vec![person]))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let canaries = ["HOSPCANARY42", "CANARYCODED", "STAFFCANARY77", "CANARYRADIOGRAPHER", "99HOSP"];
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &canaries].concat());
    let obj = open(&wd.only_output("out"));
    let institution = items(&obj, tags::INSTITUTION_CODE_SEQUENCE);
    assert_eq!(institution.len(), 1, "D keeps the sequence (never empties a Type 1 one)");
    assert_eq!(item_text(&institution[0], tags::CODE_VALUE).as_deref(), Some("ANONYMIZED"));
}

#[test]
fn d_on_a_content_sequence_keeps_public_codes_and_replaces_their_meanings() {
    let wd = Workdir::new("d_on_a_content_sequence_keeps_public_codes_and_replaces_their_meanings");
    let code = |value: &str, scheme: &str, meaning: &str| {
        item(vec![
            str_el(tags::CODE_VALUE, VR::SH, value),
            str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme),
            str_el(tags::CODE_MEANING, VR::LO, meaning),
        ])
    };
    let measured = item(vec![
        str_el(tags::NUMERIC_VALUE, VR::DS, "12.5"),
        seq_el(tags::MEASUREMENT_UNITS_CODE_SEQUENCE, vec![code("mm", "UCUM", "millimeter")]),
    ]);
    let num = item(vec![
        str_el(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
        str_el(tags::VALUE_TYPE, VR::CS, "NUM"),
        seq_el(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![code("410668003", "SCT", "Length")]),
        seq_el(tags::MEASURED_VALUE_SEQUENCE, vec![measured]),
    ]);
    // A public scheme does not make a typed value safe: the patient's ID as a code value.
    let typed = item(vec![
        str_el(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
        str_el(tags::VALUE_TYPE, VR::CS, "CODE"),
        seq_el(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![code(CANARY_ID, "DCM", "Finding")]),
        seq_el(tags::CONCEPT_CODE_SEQUENCE, vec![code("LOCAL1", "99HOSP", "CANARYLOCAL meaning")]),
    ]);
    ct(1).put(seq_el(tags::CONTENT_SEQUENCE, vec![num, typed])).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["LOCAL1", "99HOSP", "CANARYLOCAL"]].concat());
    let obj = open(&wd.only_output("out"));
    let content = items(&obj, tags::CONTENT_SEQUENCE);
    let concept = items_in(&content[0], tags::CONCEPT_NAME_CODE_SEQUENCE);
    assert_eq!(item_text(&concept[0], tags::CODE_VALUE).as_deref(), Some("410668003"));
    assert_eq!(item_text(&concept[0], tags::CODING_SCHEME_DESIGNATOR).as_deref(), Some("SCT"));
    assert_eq!(item_text(&concept[0], tags::CODE_MEANING).as_deref(), Some("ANONYMIZED"));
    let measured = items_in(&content[0], tags::MEASURED_VALUE_SEQUENCE);
    let units = items_in(&measured[0], tags::MEASUREMENT_UNITS_CODE_SEQUENCE);
    assert_eq!(item_text(&units[0], tags::CODE_VALUE).as_deref(), Some("mm"));
    assert_eq!(item_text(&units[0], tags::CODING_SCHEME_DESIGNATOR).as_deref(), Some("UCUM"));
}

#[test]
fn a_class_uid_holding_the_patient_id_fails_the_file_and_the_run_goes_on() {
    let wd = Workdir::new("a_class_uid_holding_the_patient_id_fails_the_file_and_the_run_goes_on");
    ct(1).put(str_el(tags::SOP_CLASS_UID, VR::UI, CANARY_ID)).write(&wd.path("in/a.dcm"));
    let reference = item(vec![
        str_el(tags::REFERENCED_SOP_CLASS_UID, VR::UI, CANARY_NAME),
        str_el(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, "1.2.826.0.1.3680043.8.498.9"),
    ]);
    ct(2).put(seq_el(tags::REFERENCED_IMAGE_SEQUENCE, vec![reference])).write(&wd.path("in/b.dcm"));
    ct(3).write(&wd.path("in/c.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(1);
    assert_eq!(wd.dicom_outputs("out").len(), 1, "the good file is written");
    assert_eq!(run.stderr().matches("is not a UID").count(), 2, "{}", run.stderr());
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn a_name_split_over_the_values_of_a_kept_code_string_is_replaced() {
    let wd = Workdir::new("a_name_split_over_the_values_of_a_kept_code_string_is_replaced");
    let (family, given) = CANARY_NAME.split_once('^').expect("family^given");
    let image_type = format!("ORIGINAL\\PRIMARY\\{family}\\{given}");
    ct(1).put(str_el(tags::IMAGE_TYPE, VR::CS, &image_type)).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::IMAGE_TYPE).as_deref(), Some("ORIGINAL\\PRIMARY\\ANONYMIZED\\ANONYMIZED"));
    wd.kamei(["verify", "out", "--against", "in"]).assert_code(0);
}

#[test]
fn strict_mode_keeps_what_every_image_and_every_multi_frame_image_needs() {
    let wd = Workdir::new("strict_mode_keeps_what_every_image_and_every_multi_frame_image_needs");
    ct(1)
        .put(str_el(tags::MANUFACTURER, VR::LO, "ACME"))
        .put(str_el(tags::NUMBER_OF_FRAMES, VR::IS, "2"))
        .put(raw_el(tags::FRAME_INCREMENT_POINTER, VR::AT, &[0x18, 0x00, 0x63, 0x10]))
        .put(str_el(tags::FRAME_TIME, VR::DS, "33.3"))
        // Two frames of pixel data, as Number of Frames says (native pixel data must fit it).
        .put(raw_el(tags::PIXEL_DATA, VR::OW, &[0u8; 256]))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--strict"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::MANUFACTURER).as_deref(), Some("ACME"));
    assert!(obj.element(tags::FRAME_INCREMENT_POINTER).is_ok(), "Type 1 in every multi-frame image");
    assert_eq!(text(&obj, tags::FRAME_TIME).as_deref(), Some("33.3"));
}

#[test]
fn a_profile_that_would_break_the_identity_of_the_outputs_is_refused() {
    let wd = Workdir::new("a_profile_that_would_break_the_identity_of_the_outputs_is_refused");
    std::fs::write(wd.path("p.toml"), "[overrides]\nSOPInstanceUID = \"remove\"\nNameToUse = \"keep\"\n").unwrap();
    let run = wd.kamei(["profile", "check", "p.toml"]);
    run.assert_code(1);
    assert!(run.stdout().contains("p.toml:2:") && run.stdout().contains("p.toml:3:"), "{}", run.stdout());
}

#[test]
fn strict_mode_keeps_the_class_uid_of_a_kept_reference() {
    let wd = Workdir::new("strict_mode_keeps_the_class_uid_of_a_kept_reference");
    let reference = item(vec![
        str_el(tags::REFERENCED_SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
        str_el(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, "1.2.826.0.1.3680043.8.498.9"),
    ]);
    ct(1).put(seq_el(tags::SOURCE_IMAGE_SEQUENCE, vec![reference])).write(&wd.path("in/a.dcm"));
    wd.deid(&["--strict"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    let source = items(&obj, tags::SOURCE_IMAGE_SEQUENCE);
    assert_eq!(item_text(&source[0], tags::REFERENCED_SOP_CLASS_UID).as_deref(), Some("1.2.840.10008.5.1.4.1.1.2"));
    assert_eq!(
        item_text(&source[0], tags::REFERENCED_SOP_INSTANCE_UID),
        Some(pseudonymizer(7).uid("1.2.826.0.1.3680043.8.498.9"))
    );
}

#[test]
fn retain_uids_fails_a_file_whose_instance_uid_is_not_a_uid() {
    let wd = Workdir::new("retain_uids_fails_a_file_whose_instance_uid_is_not_a_uid");
    // Retain UIDs keeps instance UIDs as they are, so a damaged one holding the patient's name
    // would be released, in the data set and in the rebuilt file meta.
    Fixture::ct(CANARY_ID, STUDY, CANARY_NAME, &format!("{SERIES}.1")).write(&wd.path("in/a.dcm"));
    let reference = item(vec![
        str_el(tags::REFERENCED_SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
        str_el(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, CANARY_ID),
    ]);
    ct(2).put(seq_el(tags::REFERENCED_IMAGE_SEQUENCE, vec![reference])).write(&wd.path("in/b.dcm"));
    ct(3).write(&wd.path("in/c.dcm"));
    let run = wd.deid(&["--option", "retain-uids"]);
    run.assert_code(1);
    assert_eq!(wd.dicom_outputs("out").len(), 1, "the good file is written");
    assert_eq!(run.stderr().matches("is not a UID").count(), 2, "{}", run.stderr());
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn command_elements_inside_the_data_set_are_removed() {
    let wd = Workdir::new("command_elements_inside_the_data_set_are_removed");
    ct(1).put(str_el(Tag(0x0000, 0x1002), VR::US, "CANARY PATIENT")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(raw(&out, Tag(0x0000, 0x1002)), None);
    assert!(wd.audit("out")[0]["notes"].to_string().contains("command elements (0000,xxxx)"));
}

#[test]
fn a_numeric_value_holding_the_patients_name_under_a_damaged_tag_is_removed() {
    let wd = Workdir::new("a_numeric_value_holding_the_patients_name_under_a_damaged_tag_is_removed");
    // (0018,1310) Acquisition Matrix is US; a damaged tag put the name there (8 bytes, a
    // valid US length), in Explicit and in Implicit VR.
    ct(1).put(raw_el(tags::ACQUISITION_MATRIX, VR::US, b"CANARY^PATIENT")).write(&wd.path("in/a.dcm"));
    ct(2)
        .put(raw_el(tags::ACQUISITION_MATRIX, VR::US, b"CANARY^PATIENT"))
        .ts("1.2.840.10008.1.2")
        .write(&wd.path("in/b.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARY^PATIENT", "CANARY"]].concat());
    for out in wd.dicom_outputs("out") {
        assert_eq!(raw(&out, tags::ACQUISITION_MATRIX), None);
    }
}

#[test]
fn a_numeric_value_holding_an_ordinary_number_is_kept() {
    let wd = Workdir::new("a_numeric_value_holding_an_ordinary_number_is_kept");
    let matrix = [0u8, 0, 0, 2, 0, 2, 0, 0];
    ct(1).put(raw_el(tags::ACQUISITION_MATRIX, VR::US, &matrix)).write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    assert_eq!(raw(&wd.only_output("out"), tags::ACQUISITION_MATRIX).as_deref(), Some(&matrix[..]));
}

#[test]
fn the_files_own_instance_uid_in_a_kept_value_under_a_damaged_tag_is_replaced() {
    let wd = Workdir::new("the_files_own_instance_uid_in_a_kept_value_under_a_damaged_tag_is_replaced");
    let sop = format!("{SERIES}.1");
    ct(1)
        .put(str_el(tags::IMAGE_TYPE, VR::CS, &sop))
        .put(raw_el(Tag(0x0022, 0x000E), VR::FL, format!("{SERIES}\0").as_bytes()))
        .ts("1.2.840.10008.1.2")
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[SERIES]].concat());
    assert!(wd.audit("out")[0]["notes"].to_string().contains("one of the file's original UIDs"));
}

#[test]
fn the_audit_counts_a_private_creator_apart_from_the_element_at_its_offset() {
    let wd = Workdir::new("the_audit_counts_a_private_creator_apart_from_the_element_at_its_offset");
    // The creator (0029,0010) reserves block 10; its element (0029,1010) has offset 10 too.
    ct(1)
        .put(str_el(Tag(0x0029, 0x0010), VR::LO, "CANARY CREATOR"))
        .put(str_el(Tag(0x0029, 0x1010), VR::LO, "CANARY PRIVATE"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let actions = wd.audit("out")[0]["actions"].as_array().unwrap().clone();
    let count = |tag: &str| {
        let found: Vec<_> = actions.iter().filter(|a| a["tag"] == tag).collect();
        assert_eq!(found.len(), 1, "{tag} once: {actions:?}");
        (found[0]["action"].as_str().unwrap().to_string(), found[0]["count"].as_u64().unwrap())
    };
    assert_eq!(count("(0029,0010)"), ("remove".to_string(), 1), "the creator, by its own tag");
    assert_eq!(count("(0029,xx10)"), ("remove".to_string(), 1), "the element, by its offset");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARY CREATOR", "CANARY PRIVATE"]].concat());
}
