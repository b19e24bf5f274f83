//! One test per PS3.15 option (and per profile setting) on the real binary: each shows the
//! option's effect on a representative attribute, and that no identifier leaks meanwhile.

use crate::util::*;
use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.2";
const SERIES: &str = "1.2.826.0.1.3680043.8.498.2.1";

fn ct(n: u32) -> Fixture {
    Fixture::ct(CANARY_ID, STUDY, SERIES, &format!("{SERIES}.{n}"))
}

/// A CT of another patient (own ID, study and series).
fn ct_of(patient: &str, n: u32) -> Fixture {
    let study = format!("{STUDY}.{n}");
    Fixture::ct(patient, &study, &format!("{study}.1"), &format!("{study}.1.1"))
}

#[test]
fn retain_device_identity_keeps_device_serial_number() {
    let wd = Workdir::new("retain_device_identity_keeps_device_serial_number");
    ct(1).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-device-identity"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::DEVICE_SERIAL_NUMBER).as_deref(), Some("CANARYSERIAL"));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn retain_device_identity_gives_one_keyed_token_per_station_ae_title() {
    let wd = Workdir::new("retain_device_identity_gives_one_keyed_token_per_station_ae_title");
    ct_of("P1", 1).put(str_el(tags::STATION_AE_TITLE, VR::AE, "CANARY_CT1")).write(&wd.path("in/a.dcm"));
    ct_of("P2", 2).put(str_el(tags::STATION_AE_TITLE, VR::AE, "CANARY_CT1")).write(&wd.path("in/b.dcm"));
    ct_of("P3", 3).put(str_el(tags::STATION_AE_TITLE, VR::AE, "CANARY_MR2")).write(&wd.path("in/c.dcm"));
    let run = wd.deid(&["--option", "retain-device-identity"]);
    run.assert_code(0);
    let mut by_patient: Vec<(String, String)> = wd
        .dicom_outputs("out")
        .iter()
        .map(|p| {
            let obj = open(p);
            let study = text(&obj, tags::STUDY_INSTANCE_UID).unwrap();
            (study, text(&obj, tags::STATION_AE_TITLE).unwrap())
        })
        .collect();
    by_patient.sort();
    let tokens: Vec<&str> = by_patient.iter().map(|(_, t)| t.as_str()).collect();
    let pseudo = pseudonymizer(7);
    let token = |title: &str| pseudo.token("ae", title.as_bytes(), 16);
    let mut expected = vec![
        (pseudo.uid(&format!("{STUDY}.1")), token("CANARY_CT1")),
        (pseudo.uid(&format!("{STUDY}.2")), token("CANARY_CT1")),
        (pseudo.uid(&format!("{STUDY}.3")), token("CANARY_MR2")),
    ];
    expected.sort();
    assert_eq!(by_patient, expected);
    assert_ne!(token("CANARY_CT1"), token("CANARY_MR2"));
    for t in &tokens {
        assert!(t.len() <= 16 && !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric()), "{t:?}");
    }
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARY_CT1", "CANARY_MR2"]].concat());
}

#[test]
fn retain_institution_identity_keeps_institution_name() {
    let wd = Workdir::new("retain_institution_identity_keeps_institution_name");
    ct(1).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-institution-identity"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::INSTITUTION_NAME).as_deref(), Some("CANARY HOSPITAL"));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn retain_patient_characteristics_keeps_sex_age_and_weight() {
    let wd = Workdir::new("retain_patient_characteristics_keeps_sex_age_and_weight");
    ct(1).put(str_el(tags::PATIENT_WEIGHT, VR::DS, "61.5")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-patient-characteristics"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::PATIENT_SEX).as_deref(), Some("F"));
    assert_eq!(text(&obj, tags::PATIENT_AGE).as_deref(), Some("054Y"));
    assert_eq!(text(&obj, tags::PATIENT_WEIGHT).as_deref(), Some("61.5"));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn basic_profile_removes_patient_characteristics() {
    let wd = Workdir::new("basic_profile_removes_patient_characteristics");
    ct(1).put(str_el(tags::PATIENT_WEIGHT, VR::DS, "61.5")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::PATIENT_SEX).as_deref(), Some(""), "Z: present and empty");
    assert_eq!(text(&obj, tags::PATIENT_AGE), None);
    assert_eq!(text(&obj, tags::PATIENT_WEIGHT), None);
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn retain_long_full_dates_keeps_dates_and_says_unmodified() {
    let wd = Workdir::new("retain_long_full_dates_keeps_dates_and_says_unmodified");
    ct(1).put(str_el(tags::ACQUISITION_DATE_TIME, VR::DT, "20240201101530")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-full-dates"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DATE).as_deref(), Some("20240201"));
    assert_eq!(text(&obj, tags::CONTENT_DATE).as_deref(), Some("20240201"));
    assert_eq!(text(&obj, tags::STUDY_TIME).as_deref(), Some("101500"));
    assert_eq!(text(&obj, tags::ACQUISITION_DATE_TIME).as_deref(), Some("20240201101530"));
    assert_eq!(text(&obj, tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED).as_deref(), Some("UNMODIFIED"));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn retain_long_modified_dates_shifts_two_files_of_one_patient_by_one_offset() {
    let wd = Workdir::new("retain_long_modified_dates_shifts_two_files_of_one_patient_by_one_offset");
    // Two studies of one patient, six weeks apart, and a file of another patient.
    ct(1).write(&wd.path("in/a.dcm"));
    Fixture::ct(
        CANARY_ID,
        "1.2.826.0.1.3680043.8.498.3",
        "1.2.826.0.1.3680043.8.498.3.1",
        "1.2.826.0.1.3680043.8.498.3.1.1",
    )
    .put(str_el(tags::STUDY_DATE, VR::DA, "20240315"))
    .write(&wd.path("in/b.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates"]);
    run.assert_code(0);
    let mut dates: Vec<chrono::NaiveDate> =
        wd.dicom_outputs("out").iter().map(|p| date(&text(&open(p), tags::STUDY_DATE).unwrap())).collect();
    dates.sort();
    let shift = (dates[0] - date("20240201")).num_days();
    assert!((-365..=-1).contains(&shift), "{shift}");
    assert_eq!((dates[1] - date("20240315")).num_days(), shift, "both studies move by one offset");
    assert_eq!(shift, pseudonymizer(7).date_shift_days(kamei::pseudo::Patient::Id(CANARY_ID)));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20240201", "20240315"]].concat());
}

#[test]
fn retain_long_modified_dates_keeps_the_time_part_of_a_datetime() {
    let wd = Workdir::new("retain_long_modified_dates_keeps_the_time_part_of_a_datetime");
    ct(1).put(str_el(tags::ACQUISITION_DATE_TIME, VR::DT, "20240201101530.123456+0900")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let dt = text(&obj, tags::ACQUISITION_DATE_TIME).unwrap();
    let study = text(&obj, tags::STUDY_DATE).unwrap();
    assert_eq!(&dt[..8], study, "the date part moves with the study date");
    assert_eq!(&dt[8..], "101530.123456+0900");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20240201"]].concat());
}

#[test]
fn retain_long_modified_dates_empties_an_invalid_date_and_notes_it() {
    let wd = Workdir::new("retain_long_modified_dates_empties_an_invalid_date_and_notes_it");
    ct(1).put(str_el(tags::ACQUISITION_DATE, VR::DA, "20241341")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::ACQUISITION_DATE).as_deref(), Some(""));
    let audit = wd.audit("out");
    let notes: Vec<&str> = audit[0]["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert!(notes.iter().any(|n| n.contains("(0008,0022)") && n.contains("not a valid date")), "{notes:?}");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20241341"]].concat());
}

/// The notes of the first audit record below `out`.
fn notes(wd: &Workdir, out: &str) -> Vec<String> {
    wd.audit(out)[0]["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect()
}

#[test]
fn the_files_own_date_joined_to_a_word_in_text_is_shifted_or_replaced() {
    // rv29 04: series and protocol names carry the exam date as `Thorax_20240201`.
    let wd = Workdir::new("the_files_own_date_joined_to_a_word_in_text_is_shifted_or_replaced");
    ct(1)
        .put(str_el(tags::SERIES_DESCRIPTION, VR::LO, "Thorax_20240201"))
        .put(str_el(tags::PROTOCOL_NAME, VR::LO, "CT20240201_ax"))
        .put(str_el(tags::CONTENT_DESCRIPTION, VR::LO, "Thorax_20240201"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let shifted = text(&obj, tags::STUDY_DATE).unwrap();
    assert_ne!(shifted, "20240201");
    assert_eq!(text(&obj, tags::SERIES_DESCRIPTION), Some(format!("Thorax_{shifted}")));
    assert_eq!(text(&obj, tags::PROTOCOL_NAME), Some(format!("CT{shifted}_ax")));
    assert_eq!(text(&obj, tags::CONTENT_DESCRIPTION), Some(format!("Thorax_{shifted}")), "kept text: own date");
    // Without a date option the date goes, in kept text too.
    let run = wd.kamei(["deid", "in", "-o", "basic", "--key", wd.path("k.key").to_str().unwrap(), "-q"]);
    run.assert_code(0);
    assert_no_leak(&wd, "basic", &run, &["20240201"]);
}

#[test]
fn rv35_01_a_japanese_date_with_the_hour_glued_after_it_is_shifted_in_descriptions() {
    let wd = Workdir::new("rv35_01_a_japanese_date_with_the_hour_glued_after_it_is_shifted_in_descriptions");
    ct(1)
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT 2024年2月1日10時 撮影"))
        .put(str_el(tags::SERIES_DESCRIPTION, VR::LO, "前回 2024年02月01日9:30"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let day = date(&text(&obj, tags::STUDY_DATE).unwrap());
    assert_ne!(day.format("%Y%m%d").to_string(), "20240201");
    let (y, m, d) = (chrono::Datelike::year(&day), chrono::Datelike::month(&day), chrono::Datelike::day(&day));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION), Some(format!("CT {y}年{m}月{d}日10時 撮影")));
    assert_eq!(text(&obj, tags::SERIES_DESCRIPTION), Some(format!("前回 {y}年{m:02}月{d:02}日9:30")));
}

#[test]
fn rv20_01_retain_long_modified_dates_shifts_both_ends_of_a_date_range() {
    let wd = Workdir::new("rv20_01_retain_long_modified_dates_shifts_both_ends_of_a_date_range");
    ct(1)
        .put(str_el(tags::STUDY_DATE, VR::DA, "20240201"))
        .put(str_el(tags::ACQUISITION_DATE, VR::DA, "20240201-20240205"))
        .put(str_el(tags::ACQUISITION_DATE_TIME, VR::DT, "20240201101010-20240202"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let study = date(&text(&obj, tags::STUDY_DATE).unwrap());
    let day = |n: i64| (study + chrono::Duration::days(n)).format("%Y%m%d").to_string();
    assert_eq!(text(&obj, tags::ACQUISITION_DATE), Some(format!("{}-{}", day(0), day(4))));
    assert_eq!(text(&obj, tags::ACQUISITION_DATE_TIME), Some(format!("{}101010-{}", day(0), day(1))));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20240201", "20240202", "20240205"]].concat());
}

#[test]
fn rv20_01_retain_long_modified_dates_never_releases_a_date_after_a_datetimes_date() {
    let wd = Workdir::new("rv20_01_retain_long_modified_dates_never_releases_a_date_after_a_datetimes_date");
    // Not a DT: text and a second date after the first. Acquisition DateTime is X/Z/D: a dummy.
    ct(1).put(str_el(tags::ACQUISITION_DATE_TIME, VR::DT, "20240201X20240202")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::ACQUISITION_DATE_TIME).as_deref(), Some("19000101000000"));
    assert!(notes(&wd, "out").iter().any(|n| n.contains("(0008,002A)") && n.contains("not a valid date")));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20240201", "20240202"]].concat());
}

#[test]
fn rv20_05_retain_long_modified_dates_gives_an_unshiftable_date_that_may_be_type_1_the_dummy() {
    let wd = Workdir::new("rv20_05_retain_long_modified_dates_gives_an_unshiftable_date_that_may_be_type_1_the_dummy");
    // Content Date is Z/D (Type 1 in an SR): never emptied. Study Date is Z: emptied.
    ct(1)
        .put(str_el(tags::CONTENT_DATE, VR::DA, "20240230"))
        .put(str_el(tags::STUDY_DATE, VR::DA, "00000000"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::CONTENT_DATE).as_deref(), Some("19000101"));
    assert_eq!(text(&obj, tags::STUDY_DATE).as_deref(), Some(""));
    let notes = notes(&wd, "out");
    assert!(notes.iter().any(|n| n.contains("(0008,0023)") && n.contains("replaced by a dummy")), "{notes:?}");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20240230"]].concat());
}

#[test]
fn rv20_06_a_uid_mapped_in_a_description_that_would_overflow_its_vr_gives_the_dummy() {
    let wd = Workdir::new("rv20_06_a_uid_mapped_in_a_description_that_would_overflow_its_vr_gives_the_dummy");
    let described = "Recon of series 1.2.392.200036.9116.2.5.1.37.101.555 (thin)";
    ct(1).put(str_el(tags::SERIES_DESCRIPTION, VR::LO, described)).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::SERIES_DESCRIPTION).as_deref(), Some("ANONYMIZED"), "LO holds 64 characters");
    assert!(notes(&wd, "out").iter().any(|n| n.contains("(0008,103E)") && n.contains("longer than its VR allows")));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["1.2.392.200036.9116.2.5.1.37.101.555"]].concat());
}

#[test]
fn rv20_06_a_uid_mapped_in_a_description_that_fits_its_vr_is_kept_mapped() {
    let wd = Workdir::new("rv20_06_a_uid_mapped_in_a_description_that_fits_its_vr_is_kept_mapped");
    ct(1)
        .put(str_el(tags::SERIES_DESCRIPTION, VR::LO, "of 1.2.392.200036.9116.2.5.1.37.101.555"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let mapped = pseudonymizer(7).uid("1.2.392.200036.9116.2.5.1.37.101.555");
    assert_eq!(text(&obj, tags::SERIES_DESCRIPTION), Some(format!("of {mapped}")));
}

#[test]
fn rv20_06_a_date_shifted_in_a_full_description_that_would_overflow_its_vr_gives_the_dummy() {
    let wd = Workdir::new("rv20_06_a_date_shifted_in_a_full_description_that_would_overflow_its_vr_gives_the_dummy");
    // Every shift of 2024/1/2 by 2 to 365 days back spells one character more (2023/12/31 ... 2023/1/2).
    let described = format!("{:<55}2024/1/2.", "Follow-up, compare with prior CT of");
    assert_eq!(described.len(), 64);
    assert_ne!(
        pseudonymizer(7).date_shift_days(kamei::pseudo::Patient::Id(CANARY_ID)),
        -1,
        "the shifted date is longer"
    );
    ct(1).put(str_el(tags::SERIES_DESCRIPTION, VR::LO, &described)).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors", "--option", "retain-long-modified-dates"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let out = text(&obj, tags::SERIES_DESCRIPTION).unwrap();
    assert!(out.chars().count() <= 64, "{out}");
    assert!(!out.contains("2024/1/2"), "{out}");
}

#[test]
fn rv20_06_a_dotted_code_value_is_a_code_not_a_uid_to_map() {
    let wd = Workdir::new("rv20_06_a_dotted_code_value_is_a_code_not_a_uid_to_map");
    let code = item(vec![
        str_el(tags::CODE_VALUE, VR::SH, "1.3.6.1.4.1.1937"),
        str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "99LOCAL"),
        str_el(tags::CODE_MEANING, VR::LO, "region"),
    ]);
    ct(1).put(seq_el(tags::ANATOMIC_REGION_SEQUENCE, vec![code])).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let items = items(&obj, tags::ANATOMIC_REGION_SEQUENCE);
    assert_eq!(item_text(&items[0], tags::CODE_VALUE).as_deref(), Some("1.3.6.1.4.1.1937"));
}

/// An SR-like Content Sequence: one TEXT item whose Text Value names the patient.
fn report(text_value: &str) -> dicom_core::DataElement<dicom_object::InMemDicomObject> {
    let concept = item(vec![
        str_el(tags::CODE_VALUE, VR::SH, "121071"),
        str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "DCM"),
        str_el(tags::CODE_MEANING, VR::LO, "Finding"),
    ]);
    let text_item = item(vec![
        str_el(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
        str_el(tags::VALUE_TYPE, VR::CS, "TEXT"),
        seq_el(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![concept]),
        str_el(tags::TEXT_VALUE, VR::UT, text_value),
    ]);
    seq_el(tags::CONTENT_SEQUENCE, vec![text_item])
}

#[test]
fn clean_structured_content_keeps_text_value_with_the_name_scrubbed() {
    let wd = Workdir::new("clean_structured_content_keeps_text_value_with_the_name_scrubbed");
    ct(1).put(report("Findings for CANARY: no change since 2023.")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-structured-content"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let content = items(&obj, tags::CONTENT_SEQUENCE);
    assert_eq!(item_text(&content[0], tags::TEXT_VALUE).as_deref(), Some("Findings for ***: no change since 2023."));
    assert_eq!(item_text(&content[0], tags::VALUE_TYPE).as_deref(), Some("TEXT"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARY:"]].concat());
}

#[test]
fn basic_profile_replaces_text_value_in_content_sequence_by_a_dummy() {
    // Removing it would leave a TEXT content item without its Type 1 value; a dummy keeps the
    // report valid and carries nothing.
    let wd = Workdir::new("basic_profile_replaces_text_value_in_content_sequence_by_a_dummy");
    ct(1).put(report("Findings for CANARY: no change since 2023.")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let content = items(&obj, tags::CONTENT_SEQUENCE);
    assert_eq!(item_text(&content[0], tags::TEXT_VALUE).as_deref(), Some("ANONYMIZED"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARY:", "no change since"]].concat());
}

/// A Graphic Annotation Sequence with one text object naming the patient.
fn annotation(text_value: &str) -> dicom_core::DataElement<dicom_object::InMemDicomObject> {
    let text_object = item(vec![
        str_el(tags::UNFORMATTED_TEXT_VALUE, VR::ST, text_value),
        dicom_core::DataElement::new(
            tags::BOUNDING_BOX_TOP_LEFT_HAND_CORNER,
            VR::FL,
            dicom_core::PrimitiveValue::from([1.0f32, 1.0]),
        ),
    ]);
    let annotation = item(vec![
        str_el(tags::GRAPHIC_LAYER, VR::CS, "LAYER1"),
        seq_el(tags::TEXT_OBJECT_SEQUENCE, vec![text_object]),
    ]);
    seq_el(tags::GRAPHIC_ANNOTATION_SEQUENCE, vec![annotation])
}

#[test]
fn clean_graphics_scrubs_the_name_from_a_text_annotation() {
    let wd = Workdir::new("clean_graphics_scrubs_the_name_from_a_text_annotation");
    ct(1).put(annotation("CANARY left lung nodule")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-graphics"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let annotations = items(&obj, tags::GRAPHIC_ANNOTATION_SEQUENCE);
    assert_eq!(item_text(&annotations[0], tags::GRAPHIC_LAYER).as_deref(), Some("LAYER1"));
    let objects = annotations[0].element(tags::TEXT_OBJECT_SEQUENCE).unwrap().items().unwrap();
    assert_eq!(item_text(&objects[0], tags::UNFORMATTED_TEXT_VALUE).as_deref(), Some("*** left lung nodule"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARY left"]].concat());
}

/// Overlay group 6000 with a description naming the patient.
fn with_overlay(f: Fixture) -> Fixture {
    use dicom_core::{DataElement, PrimitiveValue};
    f.put(DataElement::new(Tag(0x6000, 0x0010), VR::US, PrimitiveValue::from(8u16)))
        .put(DataElement::new(Tag(0x6000, 0x0011), VR::US, PrimitiveValue::from(8u16)))
        .put(str_el(Tag(0x6000, 0x0022), VR::LO, "CANARY OVERLAY"))
        .put(str_el(Tag(0x6000, 0x0040), VR::CS, "G"))
        .put(DataElement::new(Tag(0x6000, 0x0050), VR::SS, PrimitiveValue::from([1i16, 1])))
        .put(DataElement::new(Tag(0x6000, 0x0100), VR::US, PrimitiveValue::from(1u16)))
        .put(DataElement::new(Tag(0x6000, 0x0102), VR::US, PrimitiveValue::from(0u16)))
        .put(DataElement::new(Tag(0x6000, 0x3000), VR::OW, PrimitiveValue::U16(vec![0xFFFFu16, 0, 0, 0].into())))
}

#[test]
fn basic_profile_removes_the_whole_overlay_group() {
    let wd = Workdir::new("basic_profile_removes_the_whole_overlay_group");
    with_overlay(ct(1)).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let left: Vec<Tag> = obj.iter().map(|e| e.header().tag).filter(|t| t.group() == 0x6000).collect();
    assert!(left.is_empty(), "overlay elements left: {left:?}");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARY OVERLAY"]].concat());
}

#[test]
fn strict_removes_an_unlisted_attribute() {
    let wd = Workdir::new("strict_removes_an_unlisted_attribute");
    ct(1).put(str_el(tags::BODY_PART_EXAMINED, VR::CS, "CHEST")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--strict"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::BODY_PART_EXAMINED), None);
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn strict_keeps_pixel_data_and_image_attributes() {
    let wd = Workdir::new("strict_keeps_pixel_data_and_image_attributes");
    ct(1).put(str_el(tags::BODY_PART_EXAMINED, VR::CS, "CHEST")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--strict"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let obj = open(&out);
    for tag in [
        tags::ROWS,
        tags::COLUMNS,
        tags::BITS_ALLOCATED,
        tags::BITS_STORED,
        tags::HIGH_BIT,
        tags::PIXEL_REPRESENTATION,
        tags::SAMPLES_PER_PIXEL,
        tags::PHOTOMETRIC_INTERPRETATION,
        tags::MODALITY,
        tags::SOP_CLASS_UID,
    ] {
        assert!(obj.element_opt(tag).unwrap().is_some(), "{tag} must stay in strict mode");
    }
    assert_eq!(text(&obj, tags::PATIENT_IDENTITY_REMOVED).as_deref(), Some("YES"));
    assert_eq!(raw(&out, tags::PIXEL_DATA), raw(&wd.path("in/a.dcm"), tags::PIXEL_DATA));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

/// Write a user profile and return its path as a string.
fn user_profile(wd: &Workdir, toml: &str) -> String {
    let p = wd.path("profile.toml");
    std::fs::write(&p, toml).unwrap();
    wd.kamei(["profile", "check", p.to_str().unwrap()]).assert_code(0);
    p.to_string_lossy().into_owned()
}

#[test]
fn user_profile_keep_override_keeps_a_removed_attribute() {
    let wd = Workdir::new("user_profile_keep_override_keeps_a_removed_attribute");
    ct(1).write(&wd.path("in/a.dcm"));
    let p = user_profile(&wd, "extends = \"basic\"\n[overrides]\n\"(0010,1010)\" = \"keep\"\n");
    let run = wd.deid(&["--profile", &p]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::PATIENT_AGE).as_deref(), Some("054Y"));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn a_profile_that_keeps_more_than_the_table_claims_no_method_code_and_says_it_departs() {
    let wd = Workdir::new("a_profile_that_keeps_more_than_the_table_claims_no_method_code_and_says_it_departs");
    ct(1).put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CHEST")).write(&wd.path("in/a.dcm"));
    let p = user_profile(&wd, "name = \"loose\"\n[overrides]\nStudyDescription = \"keep\"\n");
    let check = wd.kamei(["profile", "check", &p]);
    assert!(check.stdout().contains("(0008,1030): table X, this profile K"), "{}", check.stdout());
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", key(&wd, "k.key", 7).to_str().unwrap(), "--profile", &p]);
    run.assert_code(0);
    assert!(run.stderr().contains("no code 113100"), "{}", run.stderr());
    let obj = open(&wd.only_output("out"));
    assert!(obj.element(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE).is_err(), "no code is claimed");
    let method = text(&obj, tags::DEIDENTIFICATION_METHOD).unwrap();
    assert!(method.ends_with("departs from PS3.15 basic profile"), "{method}");
    assert_eq!(text(&obj, tags::PATIENT_IDENTITY_REMOVED).as_deref(), Some("YES"));
    let verify = wd.kamei(["verify", "out", "--profile", &p]);
    assert_eq!(verify.stdout(), "", "verify expects no code from a departing profile");
    verify.assert_code(0);
}

#[test]
fn a_profile_keeping_a_real_date_beside_shifted_ones_is_warned_about() {
    let wd = Workdir::new("a_profile_keeping_a_real_date_beside_shifted_ones_is_warned_about");
    ct(1).write(&wd.path("in/a.dcm"));
    // rv23 suspect 11: the real Study Date beside the shifted Series Date gives the offset away.
    let p = user_profile(&wd, "options = [\"retain-long-modified-dates\"]\n[overrides]\nStudyDate = \"keep\"\n");
    let check = wd.kamei(["profile", "check", &p]);
    check.assert_code(0);
    let warning = "keeps 1 real date attribute(s) ((0008,0020)) while it shifts the other dates";
    assert!(check.stdout().contains(warning), "{}", check.stdout());
    assert!(check.stdout().contains("gives each patient's date shift away"), "{}", check.stdout());
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", key(&wd, "k.key", 7).to_str().unwrap(), "--profile", &p]);
    run.assert_code(0);
    assert!(run.stderr().contains(warning), "{}", run.stderr());
}

#[test]
fn a_profile_keeping_a_real_date_where_no_date_is_shifted_is_not_warned_about_the_shift() {
    let wd = Workdir::new("a_profile_keeping_a_real_date_where_no_date_is_shifted_is_not_warned_about");
    ct(1).write(&wd.path("in/a.dcm"));
    let p = user_profile(&wd, "[overrides]\nStudyDate = \"keep\"\n");
    let check = wd.kamei(["profile", "check", &p]);
    assert!(check.stdout().contains("(0008,0020): table"), "a departure still: {}", check.stdout());
    assert!(!check.stdout().contains("shifts the other dates"), "{}", check.stdout());
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", key(&wd, "k.key", 7).to_str().unwrap(), "--profile", &p]);
    run.assert_code(0);
    assert!(run.stderr().contains("no code 113100"), "warned as a departure: {}", run.stderr());
    assert!(!run.stderr().contains("shifts the other dates"), "{}", run.stderr());
}

#[test]
fn a_stricter_user_profile_still_claims_the_basic_profile() {
    let wd = Workdir::new("a_stricter_user_profile_still_claims_the_basic_profile");
    ct(1).write(&wd.path("in/a.dcm"));
    let p = user_profile(&wd, "[overrides]\nInstitutionName = { replace = \"A HOSPITAL\" }\nImageType = \"remove\"\n");
    wd.deid(&["--profile", &p]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(method_codes(&obj), ["113100"]);
    assert!(!text(&obj, tags::DEIDENTIFICATION_METHOD).unwrap().contains("departs"));
}

#[test]
fn user_profile_keeping_the_patients_name_is_refused() {
    let wd = Workdir::new("user_profile_keeping_the_patients_name_is_refused");
    ct(1).write(&wd.path("in/a.dcm"));
    let p = wd.path("site.toml");
    std::fs::write(&p, "extends = \"basic\"\n[overrides]\nPatientName = \"keep\"\n").unwrap();
    let check = wd.kamei(["profile", "check", p.to_str().unwrap()]);
    check.assert_code(1);
    assert!(check.stdout().contains("site.toml:3") || check.stderr().contains("site.toml:3"), "{}", check.stderr());
    assert!(check.stderr().contains("Patient Identity Removed") || check.stdout().contains("Patient Identity Removed"));
    let run = wd.deid(&["--profile", p.to_str().unwrap()]);
    run.assert_code(2);
    assert!(wd.dicom_outputs("out").is_empty(), "nothing written");
}

#[test]
fn user_profile_replace_override_writes_its_value() {
    let wd = Workdir::new("user_profile_replace_override_writes_its_value");
    ct(1).write(&wd.path("in/a.dcm"));
    let p =
        user_profile(&wd, "extends = \"basic\"\n[overrides]\nInstitutionName = { replace = \"RESEARCH HOSPITAL\" }\n");
    let run = wd.deid(&["--profile", &p]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::INSTITUTION_NAME).as_deref(), Some("RESEARCH HOSPITAL"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARY HOSPITAL"]].concat());
}

/// A CT with two private blocks: "ACME PRIVATE" (0009,10xx) and "OTHER VENDOR" (0011,10xx).
fn ct_with_private_blocks() -> Fixture {
    ct(1)
        .put(str_el(Tag(0x0009, 0x0010), VR::LO, "ACME PRIVATE"))
        .put(str_el(Tag(0x0009, 0x1001), VR::LO, "KERNEL B30"))
        .put(str_el(Tag(0x0009, 0x1002), VR::LO, "CANARYPRIVATE2"))
        .put(str_el(Tag(0x0011, 0x0010), VR::LO, "OTHER VENDOR"))
        .put(str_el(Tag(0x0011, 0x1001), VR::LO, "CANARYPRIVATE3"))
}

#[test]
fn user_profile_keeps_one_private_element_named_by_its_creator() {
    let wd = Workdir::new("user_profile_keeps_one_private_element_named_by_its_creator");
    ct_with_private_blocks().write(&wd.path("in/a.dcm"));
    let p = user_profile(&wd, "extends = \"basic\"\n[overrides]\n'(0009,\"ACME PRIVATE\",01)' = \"keep\"\n");
    let run = wd.deid(&["--profile", &p]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, Tag(0x0009, 0x1001)).as_deref(), Some("KERNEL B30"));
    assert_eq!(text(&obj, Tag(0x0009, 0x0010)).as_deref(), Some("ACME PRIVATE"), "its creator stays");
    assert_eq!(text(&obj, Tag(0x0009, 0x1002)), None);
    assert_eq!(text(&obj, Tag(0x0011, 0x1001)), None);
    assert_eq!(text(&obj, Tag(0x0011, 0x0010)), None, "an unused creator goes");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARYPRIVATE"]].concat());
}

#[test]
fn user_profile_keep_private_creators_keeps_the_whole_block() {
    let wd = Workdir::new("user_profile_keep_private_creators_keeps_the_whole_block");
    ct_with_private_blocks().write(&wd.path("in/a.dcm"));
    let p = user_profile(&wd, "extends = \"basic\"\nkeep_private_creators = [\"ACME PRIVATE\"]\n");
    let run = wd.deid(&["--profile", &p]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, Tag(0x0009, 0x1001)).as_deref(), Some("KERNEL B30"));
    assert_eq!(text(&obj, Tag(0x0009, 0x1002)).as_deref(), Some("CANARYPRIVATE2"));
    assert_eq!(text(&obj, Tag(0x0011, 0x1001)), None);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARYPRIVATE3"]].concat());
}

#[test]
fn date_shift_max_days_bounds_every_patients_shift() {
    let wd = Workdir::new("date_shift_max_days_bounds_every_patients_shift");
    for n in 1..=12 {
        ct_of(&format!("PATIENT{n}"), n).write(&wd.path(&format!("in/{n}.dcm")));
    }
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--date-shift-max-days", "3"]);
    run.assert_code(0);
    let mut shifts = std::collections::BTreeSet::new();
    for p in wd.dicom_outputs("out") {
        let shift = (date(&text(&open(&p), tags::STUDY_DATE).unwrap()) - date("20240201")).num_days();
        assert!((-3..=-1).contains(&shift), "{shift}");
        shifts.insert(shift);
    }
    assert!(shifts.len() > 1, "12 patients should not all get one shift: {shifts:?}");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20240201"]].concat());
}

#[test]
fn keep_weekday_shifts_by_whole_weeks() {
    use chrono::Datelike;
    let wd = Workdir::new("keep_weekday_shifts_by_whole_weeks");
    for n in 1..=6 {
        ct_of(&format!("PATIENT{n}"), n).write(&wd.path(&format!("in/{n}.dcm")));
    }
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--keep-weekday"]);
    run.assert_code(0);
    for p in wd.dicom_outputs("out") {
        let shifted = date(&text(&open(&p), tags::STUDY_DATE).unwrap());
        let shift = (shifted - date("20240201")).num_days();
        assert!(shift < 0 && shift % 7 == 0 && shift >= -365, "{shift}");
        assert_eq!(shifted.weekday(), date("20240201").weekday());
    }
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20240201"]].concat());
}

#[test]
fn method_code_sequence_lists_exactly_the_codes_of_the_options_used() {
    let wd = Workdir::new("method_code_sequence_lists_exactly_the_codes_of_the_options_used");
    ct(1).write(&wd.path("in/a.dcm"));
    let mut args = Vec::new();
    for o in [
        "retain-safe-private",
        "retain-device-identity",
        "retain-patient-characteristics",
        "retain-long-modified-dates",
        "clean-descriptors",
        "clean-structured-content",
        "clean-graphics",
    ] {
        args.extend(["--option", o]);
    }
    let run = wd.deid(&args);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(method_codes(&obj), ["113100", "113103", "113104", "113105", "113107", "113108", "113109", "113111"]);
    for it in items(&obj, tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE) {
        assert_eq!(item_text(&it, tags::CODING_SCHEME_DESIGNATOR).as_deref(), Some("DCM"));
        assert!(!item_text(&it, tags::CODE_MEANING).unwrap().is_empty());
    }
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn pixel_options_are_not_claimed_while_pixels_are_not_cleaned() {
    let wd = Workdir::new("pixel_options_are_not_claimed_while_pixels_are_not_cleaned");
    ct(1).put(str_el(tags::BURNED_IN_ANNOTATION, VR::CS, "NO")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-pixel-data", "--option", "clean-recognizable-visual-features"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(method_codes(&obj), ["113100"]);
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn clean_recognizable_visual_features_is_audited_and_warned_about_but_never_claimed() {
    let wd = Workdir::new("clean_recognizable_visual_features_is_audited_and_warned_about_but_never_claimed");
    ct(1).write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei([
        "deid",
        "in",
        "-o",
        "out",
        "--key",
        k.to_str().unwrap(),
        "--option",
        "clean-recognizable-visual-features",
    ]);
    run.assert_code(0);
    assert!(run.stderr().contains("does not find or alter faces"), "{}", run.stderr());
    let obj = open(&wd.only_output("out"));
    assert!(!text(&obj, tags::DEIDENTIFICATION_METHOD).unwrap().contains("recognizable"));
    assert!(!method_codes(&obj).contains(&"113102".to_string()));
    assert!(wd.audit("out")[0].to_string().contains("clean-recognizable-visual-features"), "the request is audited");
}

#[test]
fn strict_replaces_only_the_image_type_value_holding_the_patient_id() {
    let wd = Workdir::new("strict_replaces_only_the_image_type_value_holding_the_patient_id");
    let image_type = format!("ORIGINAL\\PRIMARY\\{CANARY_ID}");
    ct(1).put(str_el(tags::IMAGE_TYPE, VR::CS, &image_type)).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--strict"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::IMAGE_TYPE).as_deref(), Some("ORIGINAL\\PRIMARY\\ANONYMIZED"));
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(0008,0008)") && notes.contains("1 of 3 values"), "{notes}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn retain_safe_private_maps_a_kept_private_uid_and_scrubs_kept_private_text() {
    let wd = Workdir::new("retain_safe_private_maps_a_kept_private_uid_and_scrubs_kept_private_text");
    // NQHeader (0099,xx02) UI and (0099,xx05) LO are in Table E.3.10-1.
    ct(1)
        .put(str_el(Tag(0x0099, 0x0010), VR::LO, "NQHeader"))
        .put(str_el(Tag(0x0099, 0x1002), VR::UI, SERIES))
        .put(str_el(Tag(0x0099, 0x1005), VR::LO, &format!("msg {CANARY_ID}")))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-safe-private"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, Tag(0x0099, 0x1002)), Some(pseudonymizer(7).uid(SERIES)));
    assert_eq!(text(&obj, tags::SERIES_INSTANCE_UID), Some(pseudonymizer(7).uid(SERIES)), "the same mapping");
    assert_eq!(text(&obj, Tag(0x0099, 0x1005)).as_deref(), Some("msg ***"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[SERIES]].concat());
}

#[test]
fn keep_weekday_with_a_largest_shift_under_a_week_is_a_usage_error() {
    let wd = Workdir::new("keep_weekday_with_a_largest_shift_under_a_week_is_a_usage_error");
    ct(1).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--date-shift-max-days", "3", "--keep-weekday"]);
    run.assert_code(2);
    assert!(run.stderr().contains("at least 7 days"), "{}", run.stderr());
    assert!(wd.dicom_outputs("out").is_empty(), "nothing written");
    // The same with the bound from the profile's [date_shift] and the flag.
    let profile = user_profile(&wd, "[date_shift]\nmax_days = 3\n");
    let run = wd.deid(&["--profile", &profile, "--keep-weekday"]);
    run.assert_code(2);
    assert!(run.stderr().contains("at least 7 days"), "{}", run.stderr());
}

#[test]
fn a_largest_shift_beyond_a_century_is_a_usage_error() {
    let wd = Workdir::new("a_largest_shift_beyond_a_century_is_a_usage_error");
    ct(1).write(&wd.path("in/a.dcm"));
    // Dates shifted that far leave the DA range: every one would be emptied.
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--date-shift-max-days", "100000000"]);
    run.assert_code(2);
    assert!(run.stderr().contains("between 1 and 36525"), "{}", run.stderr());
    assert!(wd.dicom_outputs("out").is_empty(), "nothing written");
    wd.deid(&["--option", "retain-long-modified-dates", "--date-shift-max-days", "36525"]).assert_code(0);
}

/// Hospital numbers are zero-padded in the systems and typed without the padding: Clean finds
/// the patient's own ID either way, and the birth date written as six digits.
#[test]
fn clean_descriptors_finds_the_id_without_its_padding_and_a_six_digit_birth_date() {
    let wd = Workdir::new("clean_descriptors_finds_the_id_without_its_padding_and_a_six_digit_birth_date");
    ct_of("0001234567", 1)
        .put(str_el(tags::PATIENT_BIRTH_DATE, VR::DA, "19850315"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "ID 1234567 born 850315"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("ID *** born ***"));
}

#[test]
fn clean_descriptors_removes_the_municipality_of_the_patients_address() {
    let wd = Workdir::new("clean_descriptors_removes_the_municipality_of_the_patients_address");
    ct_of("0001234567", 1)
        .put(str_el(tags::PATIENT_ADDRESS, VR::LO, "1-2-3 Shibuya, Shibuya-ku, Tokyo 150-0002"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT home visit Shibuya-ku"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("CT home visit ***"));
}

#[test]
fn clean_descriptors_removes_the_town_with_its_house_number_and_keeps_the_town_alone() {
    let wd = Workdir::new("clean_descriptors_removes_the_town_with_its_house_number_and_keeps_the_town_alone");
    ct_of("0001234567", 1)
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::PATIENT_ADDRESS, VR::LO, "神奈川県相模原市中央区中央２−１１−１５"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "往診 中央2-11-15 中央静脈カテーテル"))
        .put(str_el(tags::SERIES_DESCRIPTION, VR::LO, "自宅 中央2丁目11番15号"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("往診 *** 中央静脈カテーテル"));
    assert_eq!(text(&obj, tags::SERIES_DESCRIPTION).as_deref(), Some("自宅 ***"));
}

#[test]
fn r13_01_clean_descriptors_removes_a_one_character_town_with_its_house_number() {
    let wd = Workdir::new("r13_01_clean_descriptors_removes_a_one_character_town_with_its_house_number");
    ct_of("0001234567", 1)
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::PATIENT_ADDRESS, VR::LO, "神奈川県横浜市緑区緑1-2-3"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT 緑1-2-3 自宅で転倒"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("CT *** 自宅で転倒"));
}

#[test]
fn r13_04_clean_descriptors_removes_katakana_given_names_joined_by_a_double_hyphen_run_together() {
    let wd =
        Workdir::new("r13_04_clean_descriptors_removes_katakana_given_names_joined_by_a_double_hyphen_run_together");
    ct_of("0001234567", 1)
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::PATIENT_NAME, VR::PN, "MARTIN^JEAN-PIERRE=マルタン^ジャン＝ピエール"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "ジャンピエールさん 頭部CT"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("***さん 頭部CT"));
}

#[test]
fn clean_descriptors_removes_anyones_phone_number_and_e_mail_address() {
    let wd = Workdir::new("clean_descriptors_removes_anyones_phone_number_and_e_mail_address");
    ct_of("0001234567", 1)
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT call 090-1111-2222 or dr.x@example.jp"))
        .put(str_el(tags::IMAGE_COMMENTS, VR::LT, "ward +81-3-1234-5678"))
        .put(str_el(tags::PROTOCOL_NAME, VR::LO, "send to canary@example.jp"))
        .put(str_el(tags::SERIES_DESCRIPTION, VR::LO, "AXIAL 5.0 B30f 120 kV"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("CT call *** or ***"));
    assert_eq!(text(&obj, tags::IMAGE_COMMENTS).as_deref(), Some("ward ***"), "the whole number, not +***-5678");
    assert_eq!(
        text(&obj, tags::PROTOCOL_NAME).as_deref(),
        Some("send to ***"),
        "the whole address, not ***@example.jp"
    );
    assert_eq!(text(&obj, tags::SERIES_DESCRIPTION).as_deref(), Some("AXIAL 5.0 B30f 120 kV"), "numbers stay");
}

#[test]
fn kept_private_values_of_an_implicit_vr_file_are_checked_like_explicit_ones() {
    let wd = Workdir::new("kept_private_values_of_an_implicit_vr_file_are_checked_like_explicit_ones");
    // In Implicit VR a private value's VR is not sent (kamei reads UN). NQHeader (0099,xx02) UI
    // and (0099,xx05) LT are in Table E.3.10-1, which gives their VR; ACME's block is kept whole
    // by the profile, with no VR known.
    ct(1)
        .put(str_el(Tag(0x0099, 0x0010), VR::LO, "NQHeader"))
        .put(str_el(Tag(0x0099, 0x1002), VR::UI, SERIES))
        .put(str_el(Tag(0x0099, 0x1005), VR::LT, &format!("msg {CANARY_ID}")))
        .put(str_el(Tag(0x0099, 0x1020), VR::SH, "ML/MIN"))
        .put(str_el(Tag(0x0029, 0x0010), VR::LO, "ACME PRIV"))
        .put(str_el(Tag(0x0029, 0x1010), VR::LO, &format!("note {CANARY_ID}")))
        .ts("1.2.840.10008.1.2")
        .write(&wd.path("in/a.dcm"));
    let profile = user_profile(&wd, "options = [\"retain-safe-private\"]\nkeep_private_creators = [\"ACME PRIV\"]\n");
    let run = wd.deid(&["--profile", &profile]);
    run.assert_code(0);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[SERIES]].concat());
    let out = wd.only_output("out");
    let value = |tag| raw(&out, tag).map(|v| String::from_utf8(v).unwrap().trim_end_matches([' ', '\0']).to_string());
    assert_eq!(value(Tag(0x0099, 0x1005)).as_deref(), Some("msg ***"), "scrubbed as the table's LT");
    assert_eq!(value(Tag(0x0099, 0x1002)), Some(pseudonymizer(7).uid(SERIES)), "mapped as the table's UI");
    assert_eq!(raw(&out, Tag(0x0099, 0x1020)).as_deref(), Some(&b"ML/MIN"[..]), "other kept values stay");
    assert!(raw(&out, Tag(0x0029, 0x1010)).is_none(), "a value of unknown type holding the ID is removed");
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(0029,1010)") && notes.contains("unknown type"), "{notes}");
}

#[test]
fn retain_long_modified_dates_shifts_an_unlisted_date_with_the_others() {
    let wd = Workdir::new("retain_long_modified_dates_shifts_an_unlisted_date_with_the_others");
    // Study Update DateTime (0008,041F) is newer than Table E.1-1. Left real beside the
    // shifted Study Date, it would give the patient's shift away.
    ct(1).put(str_el(tags::STUDY_UPDATE_DATE_TIME, VR::DT, "20240201120000")).write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "retain-long-modified-dates"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    let study = text(&obj, tags::STUDY_DATE).unwrap();
    let update = text(&obj, tags::STUDY_UPDATE_DATE_TIME).unwrap();
    assert_ne!(study, "20240201");
    assert_eq!(update, format!("{study}120000"));
}

#[test]
fn a_kept_private_uid_of_unknown_type_is_mapped_like_a_ui_value() {
    let wd = Workdir::new("a_kept_private_uid_of_unknown_type_is_mapped_like_a_ui_value");
    // ACME's block is kept whole by the profile; Implicit VR sends no VR, and an Explicit VR
    // writer that did not know it sent UN. Either way the value is the file's own Study UID.
    let acme = |f: Fixture| {
        f.put(str_el(Tag(0x0029, 0x0010), VR::LO, "ACME PRIV"))
            .put(raw_el(Tag(0x0029, 0x1003), VR::UN, format!("{STUDY}\0").as_bytes()))
            .put(raw_el(Tag(0x0029, 0x1004), VR::UN, b"1.5\\2.25"))
    };
    acme(ct(1)).ts("1.2.840.10008.1.2").write(&wd.path("in/a.dcm"));
    acme(ct(2)).write(&wd.path("in/b.dcm"));
    let profile = user_profile(&wd, "keep_private_creators = [\"ACME PRIV\"]\n");
    let run = wd.deid(&["--profile", &profile]);
    run.assert_code(0);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[STUDY]].concat());
    for out in wd.dicom_outputs("out") {
        let value = raw(&out, Tag(0x0029, 0x1003)).unwrap();
        let value = String::from_utf8(value).unwrap();
        assert_eq!(value.trim_end_matches('\0'), pseudonymizer(7).uid(STUDY));
        assert_eq!(raw(&out, Tag(0x0029, 0x1004)).as_deref(), Some(&b"1.5\\2.25"[..]), "numbers stay");
    }
}

/// The shift kamei gave the patient's dates: the output Study Date against the fixture's.
fn shift_of(obj: &dicom_object::DefaultDicomObject) -> i64 {
    (date(&text(obj, tags::STUDY_DATE).unwrap()) - date("20240201")).num_days()
}

/// A date in `spelling` (chrono format), `days` after `da`.
fn spelled(da: &str, days: i64, spelling: &str) -> String {
    (date(da) + chrono::Duration::days(days)).format(spelling).to_string()
}

#[test]
fn clean_descriptors_shifts_dates_written_in_a_description_with_the_header_dates() {
    let wd = Workdir::new("clean_descriptors_shifts_dates_written_in_a_description_with_the_header_dates");
    // A real date left beside the shifted Study Date would give the patient's offset away.
    ct(1)
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "follow-up of 2024-02-01 and 15-JAN-2024"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let days = shift_of(&obj);
    assert_ne!(days, 0);
    let want = format!(
        "follow-up of {} and {}",
        spelled("20240201", days, "%Y-%m-%d"),
        spelled("20240115", days, "%d-%b-%Y").to_uppercase()
    );
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some(want.as_str()));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["2024-02-01", "15-JAN-2024"]].concat());
}

#[test]
fn clean_descriptors_replaces_dates_written_in_a_description_when_dates_are_not_kept() {
    let wd = Workdir::new("clean_descriptors_replaces_dates_written_in_a_description_when_dates_are_not_kept");
    ct(1).put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "follow-up of 2024/2/1")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("follow-up of ***"));
}

#[test]
fn retain_long_full_dates_keeps_dates_written_in_a_cleaned_description() {
    let wd = Workdir::new("retain_long_full_dates_keeps_dates_written_in_a_cleaned_description");
    ct(1).put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "follow-up of 2024/2/1")).write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "retain-long-full-dates", "--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("follow-up of 2024/2/1"));
}

#[test]
fn a_kept_comment_holding_the_files_own_date_shifts_it_and_leaves_other_dates() {
    let wd = Workdir::new("a_kept_comment_holding_the_files_own_date_shifts_it_and_leaves_other_dates");
    // Comments on the Scheduled Procedure Step is not in Table E.1-1: kept, through the safety
    // net, which acts on the file's own dates only.
    ct(1)
        .put(str_el(Tag(0x0040, 0x0400), VR::LT, "scheduled 2024/02/01, protocol of 2019-05-01"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let want = format!("scheduled {}, protocol of 2019-05-01", spelled("20240201", shift_of(&obj), "%Y/%m/%d"));
    assert_eq!(text(&obj, Tag(0x0040, 0x0400)).as_deref(), Some(want.as_str()));
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(0040,0400)") && notes.contains("shifted"), "{notes}");
}

#[test]
fn clean_descriptors_finds_an_era_birth_date_written_with_a_dot_or_without_its_letter() {
    let wd = Workdir::new("clean_descriptors_finds_an_era_birth_date_written_with_a_dot_or_without_its_letter");
    ct(1)
        .put(str_el(tags::PATIENT_BIRTH_DATE, VR::DA, "19850315"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "DOB S.60.3.15 / Showa 60/3/15"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "retain-long-full-dates", "--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("DOB *** / Showa ***"));
}

#[test]
fn a_user_profile_is_named_in_the_output_and_audit_by_its_handle_never_its_file_name() {
    let wd = Workdir::new("a_user_profile_is_named_in_the_output_and_audit_by_its_handle_never_its_file_name");
    ct(1).write(&wd.path("in/a.dcm"));
    let site = "CANARYSITE-Dr_Zorblax";
    std::fs::create_dir_all(wd.path(site)).unwrap();
    let unnamed = wd.path(&format!("{site}/{site}.toml"));
    std::fs::write(&unnamed, "options = [\"clean-descriptors\"]\n").unwrap();
    let run = wd.deid(&["--profile", unnamed.to_str().unwrap()]);
    run.assert_code(0);
    let method = text(&open(&wd.only_output("out")), tags::DEIDENTIFICATION_METHOD).unwrap();
    let values: Vec<&str> = method.split('\\').collect();
    assert!(values[1].starts_with("profile basic+user-") && values[1].contains(" sha256:"), "{method}");
    assert!(values.contains(&"option clean-descriptors"), "{method}");
    let audit = wd.audit("out");
    assert!(audit[0]["profile"].as_str().unwrap().starts_with("basic+user-"), "{audit:?}");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARYSITE", "Zorblax"]].concat());

    let named = wd.path(&format!("{site}/named.toml"));
    std::fs::write(&named, "name = \"study-42\"\noptions = [\"clean-descriptors\"]\n").unwrap();
    let run = wd.kamei([
        "deid",
        "in",
        "-o",
        "out-named",
        "--key",
        key(&wd, "k.key", 7).to_str().unwrap(),
        "-q",
        "--profile",
        named.to_str().unwrap(),
    ]);
    run.assert_code(0);
    let method = text(&open(&wd.only_output("out-named")), tags::DEIDENTIFICATION_METHOD).unwrap();
    assert!(method.split('\\').nth(1).unwrap().starts_with("profile basic+study-42 sha256:"), "{method}");
    assert_eq!(wd.audit("out-named")[0]["profile"], "basic+study-42");
    assert_no_leak(&wd, "out-named", &run, &["CANARYSITE", "Zorblax"]);
}

#[test]
fn clean_descriptors_shifts_a_full_width_date_and_keeps_it_full_width() {
    let wd = Workdir::new("clean_descriptors_shifts_a_full_width_date_and_keeps_it_full_width");
    ct(1)
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT ２０２４／０２／０１"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let ascii = spelled("20240201", shift_of(&obj), "%Y／%m／%d");
    let full: String =
        ascii.chars().map(|c| c.to_digit(10).map_or(c, |d| char::from_u32('０' as u32 + d).unwrap())).collect();
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION), Some(format!("CT {full}")));
}

#[test]
fn a_kept_private_date_follows_the_profiles_dates() {
    let wd = Workdir::new("a_kept_private_date_follows_the_profiles_dates");
    ct(1)
        .put(str_el(Tag(0x0029, 0x0010), VR::LO, "ACME PRIV"))
        .put(str_el(Tag(0x0029, 0x1020), VR::DA, "20240201"))
        .write(&wd.path("in/a.dcm"));
    let profile =
        user_profile(&wd, "options = [\"retain-long-modified-dates\"]\nkeep_private_creators = [\"ACME PRIV\"]\n");
    wd.deid(&["--profile", &profile]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, Tag(0x0029, 0x1020)), text(&obj, tags::STUDY_DATE), "shifted with the Study Date");
    assert_ne!(text(&obj, Tag(0x0029, 0x1020)).as_deref(), Some("20240201"));
}

#[test]
fn clean_descriptors_maps_the_files_own_uid_written_in_a_description() {
    let wd = Workdir::new("clean_descriptors_maps_the_files_own_uid_written_in_a_description");
    ct(1).put(str_el(tags::STUDY_DESCRIPTION, VR::LO, &format!("{STUDY} sw 1.2.3.4"))).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    // Short enough that the mapped UID still fits the LO's 64 characters.
    let want = format!("{} sw 1.2.3.4", pseudonymizer(7).uid(STUDY));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION), Some(want));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[STUDY]].concat());
}

#[test]
fn clean_descriptors_finds_a_name_written_given_name_first_without_a_space() {
    let wd = Workdir::new("clean_descriptors_finds_a_name_written_given_name_first_without_a_space");
    ct(1)
        .put(str_el(tags::PATIENT_NAME, VR::PN, "YAMADA^TARO"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "user TaroYamada"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("user ***"));
}

#[test]
fn clean_descriptors_removes_the_station_serial_and_a_dashed_institution_name() {
    let wd = Workdir::new("clean_descriptors_removes_the_station_serial_and_a_dashed_institution_name");
    ct(1)
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "on CANARYSTATION sn CANARYSERIAL at canary-hospital"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("on *** sn *** at ***"));
}

#[test]
fn a_kept_value_of_unknown_type_or_code_string_holding_the_files_date_goes() {
    let wd = Workdir::new("a_kept_value_of_unknown_type_or_code_string_holding_the_files_date_goes");
    ct(1)
        .put(str_el(Tag(0x0029, 0x0010), VR::LO, "ACME PRIV"))
        .put(raw_el(Tag(0x0029, 0x1010), VR::UN, b"\x01\x02exam 2024-02-01 \x03\x04"))
        .put(str_el(tags::SCAN_OPTIONS, VR::CS, "HELICAL\\20240201"))
        .write(&wd.path("in/a.dcm"));
    let profile =
        user_profile(&wd, "options = [\"retain-long-modified-dates\"]\nkeep_private_creators = [\"ACME PRIV\"]\n");
    let run = wd.deid(&["--profile", &profile]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert!(raw(&out, Tag(0x0029, 0x1010)).is_none(), "removed: not text, its layout is unknown");
    assert_eq!(text(&open(&out), tags::SCAN_OPTIONS).as_deref(), Some("HELICAL\\ANONYMIZED"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20240201", "2024-02-01"]].concat());
}

#[test]
fn a_shift_date_override_marks_the_dates_modified() {
    let wd = Workdir::new("a_shift_date_override_marks_the_dates_modified");
    ct(1).write(&wd.path("in/a.dcm"));
    let profile = user_profile(&wd, "[overrides]\nStudyDate = \"shift-date\"\n");
    wd.deid(&["--profile", &profile]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_ne!(text(&obj, tags::STUDY_DATE).as_deref(), Some("20240201"));
    assert_eq!(text(&obj, tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED).as_deref(), Some("MODIFIED"));
}

#[test]
fn clean_descriptors_removes_the_postal_code_of_the_patients_address() {
    let wd = Workdir::new("clean_descriptors_removes_the_postal_code_of_the_patients_address");
    ct(1)
        .put(str_el(tags::PATIENT_ADDRESS, VR::LO, "422-8033 Shizuoka, Suruga 1-2-3"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "home 422-8033 / 4228033"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("home *** / ***"));
}

#[test]
fn kept_private_dates_of_an_implicit_vr_file_are_shifted_as_in_explicit_vr() {
    let wd = Workdir::new("kept_private_dates_of_an_implicit_vr_file_are_shifted_as_in_explicit_vr");
    // One file, written in Explicit and in Implicit VR (where ACME's values arrive as UN: no
    // dictionary knows their VR). A real date left beside the shifted ones gives the shift away.
    let acme = |f: Fixture| {
        f.put(str_el(Tag(0x0029, 0x0010), VR::LO, "ACME PRIV"))
            .put(str_el(Tag(0x0029, 0x1020), VR::DA, "20210601"))
            .put(str_el(Tag(0x0029, 0x1021), VR::DT, "20210601101010"))
            .put(str_el(Tag(0x0029, 0x1022), VR::LO, "scan 2021/06/01 ok"))
    };
    acme(ct(1)).write(&wd.path("in/explicit.dcm"));
    acme(ct(2)).ts("1.2.840.10008.1.2").write(&wd.path("in/implicit.dcm"));
    let profile =
        user_profile(&wd, "options = [\"retain-long-modified-dates\"]\nkeep_private_creators = [\"ACME PRIV\"]\n");
    let run = wd.deid(&["--profile", &profile]);
    run.assert_code(0);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20210601", "2021/06/01"]].concat());
    let value = |out: &std::path::Path, tag| {
        raw(out, tag).map(|v| String::from_utf8(v).unwrap().trim_end_matches([' ', '\0']).to_string())
    };
    let outputs = wd.dicom_outputs("out");
    assert_eq!(outputs.len(), 2);
    for out in &outputs {
        let days = shift_of(&open(out));
        let da = spelled("20210601", days, "%Y%m%d");
        assert_eq!(value(out, Tag(0x0029, 0x1020)), Some(da.clone()), "{out:?}");
        assert_eq!(value(out, Tag(0x0029, 0x1021)), Some(format!("{da}101010")), "{out:?}");
        let text = format!("scan {} ok", spelled("20210601", days, "%Y/%m/%d"));
        assert_eq!(value(out, Tag(0x0029, 0x1022)), Some(text), "{out:?}");
    }
}

#[test]
fn overrides_on_private_values_of_an_implicit_vr_file_apply_as_in_explicit_vr() {
    let wd = Workdir::new("overrides_on_private_values_of_an_implicit_vr_file_apply_as_in_explicit_vr");
    // rv23 suspect 5: in Implicit VR these values arrive as UN; shift-date, clean and
    // pseudonymize were turned into removal, and dummy wrote two NUL bytes.
    let acme = |f: Fixture| {
        f.put(str_el(Tag(0x0029, 0x0010), VR::LO, "ACME PRIV"))
            .put(str_el(Tag(0x0029, 0x1020), VR::DA, "20210601"))
            .put(str_el(Tag(0x0029, 0x1022), VR::LO, "scan 2021/06/01 ok"))
            .put(str_el(Tag(0x0029, 0x1023), VR::LO, "ACC12345"))
            .put(str_el(Tag(0x0029, 0x1024), VR::LO, "operator note"))
            .put(str_el(Tag(0x0029, 0x1025), VR::LO, "ward 3 note"))
    };
    acme(ct(1)).write(&wd.path("in/explicit.dcm"));
    acme(ct(2)).ts("1.2.840.10008.1.2").write(&wd.path("in/implicit.dcm"));
    let profile = user_profile(
        &wd,
        "options = [\"retain-long-modified-dates\"]\n[overrides]\n\
         '(0029,\"ACME PRIV\",20)' = \"shift-date\"\n\
         '(0029,\"ACME PRIV\",22)' = \"clean\"\n\
         '(0029,\"ACME PRIV\",23)' = \"pseudonymize\"\n\
         '(0029,\"ACME PRIV\",24)' = \"dummy\"\n\
         '(0029,\"ACME PRIV\",25)' = \"shift-date\"\n",
    );
    let run = wd.deid(&["--profile", &profile]);
    run.assert_code(0);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20210601", "2021/06/01", "ACC12345"]].concat());
    let value = |out: &std::path::Path, tag| {
        raw(out, tag).map(|v| String::from_utf8(v).unwrap().trim_end_matches([' ', '\0']).to_string())
    };
    let outputs = wd.dicom_outputs("out");
    assert_eq!(outputs.len(), 2);
    for out in &outputs {
        let days = shift_of(&open(out));
        assert_eq!(value(out, Tag(0x0029, 0x1020)), Some(spelled("20210601", days, "%Y%m%d")), "{out:?}");
        let text = format!("scan {} ok", spelled("20210601", days, "%Y/%m/%d"));
        assert_eq!(value(out, Tag(0x0029, 0x1022)), Some(text), "{out:?}");
        let token = value(out, Tag(0x0029, 0x1023)).expect("pseudonymized, not removed");
        assert!(!token.is_empty() && token != "ACC12345", "{token}");
        assert_eq!(value(out, Tag(0x0029, 0x1024)).as_deref(), Some("ANONYMIZED"), "{out:?}");
        // Text that is no date: shift-date cleans it, as in Explicit VR.
        assert_eq!(value(out, Tag(0x0029, 0x1025)).as_deref(), Some("ward 3 note"), "{out:?}");
    }
    let tokens: Vec<_> = outputs.iter().map(|o| value(o, Tag(0x0029, 0x1023))).collect();
    assert_eq!(tokens[0], tokens[1], "one value, one pseudonym in both encodings");
}

#[test]
fn overrides_on_binary_private_values_of_an_implicit_vr_file_remove_them_with_a_note() {
    let wd = Workdir::new("overrides_on_binary_private_values_of_an_implicit_vr_file_remove_them");
    // A UN value that is no text (a vendor's binary blob) cannot be cleaned, pseudonymized or
    // given a dummy of its own kind: it goes, and the audit says why; never two NUL bytes.
    let blob = [0x01u8, 0x02, 0xFF, 0x00, 0x10, 0x80, 0x00, 0x07];
    ct(1)
        .put(str_el(Tag(0x0029, 0x0010), VR::LO, "ACME PRIV"))
        .put(raw_el(Tag(0x0029, 0x1030), VR::OB, &blob))
        .put(raw_el(Tag(0x0029, 0x1031), VR::OB, &blob))
        .put(raw_el(Tag(0x0029, 0x1032), VR::OB, &blob))
        .ts("1.2.840.10008.1.2")
        .write(&wd.path("in/implicit.dcm"));
    let profile = user_profile(
        &wd,
        "[overrides]\n\
         '(0029,\"ACME PRIV\",30)' = \"dummy\"\n\
         '(0029,\"ACME PRIV\",31)' = \"clean\"\n\
         '(0029,\"ACME PRIV\",32)' = \"pseudonymize\"\n",
    );
    wd.deid(&["--profile", &profile]).assert_code(0);
    let out = wd.only_output("out");
    for element in [0x1030, 0x1031, 0x1032] {
        assert_eq!(raw(&out, Tag(0x0029, element)), None, "(0029,{element:04X})");
    }
    let notes = wd.audit("out")[0]["notes"].to_string();
    for element in ["(0029,1030)", "(0029,1031)", "(0029,1032)"] {
        assert!(notes.contains(element), "{element} not in the audit notes: {notes}");
    }
}

#[test]
fn kept_private_names_and_text_uids_of_an_implicit_vr_file_are_planned_as_in_explicit_vr() {
    let wd = Workdir::new("kept_private_names_and_text_uids_of_an_implicit_vr_file_are_planned_as_in_explicit_vr");
    // rv23 02 and 04: a relative's name and a reference to another image by its original UID,
    // in a kept vendor block. In Explicit VR the PN gets the dummy and the UID in the LO is
    // mapped; in Implicit VR (values arrive as UN) both were released as they were.
    let original = "1.2.392.200036.9116.2.5.1.48.1215567347.1480037.7";
    let acme = |f: Fixture| {
        f.put(str_el(Tag(0x0029, 0x0010), VR::LO, "ACME PRIV"))
            .put(str_el(Tag(0x0029, 0x1001), VR::PN, "SATO^HANAKO"))
            .put(str_el(Tag(0x0029, 0x1002), VR::LO, &format!("ref {original} x")))
            .put(str_el(Tag(0x0029, 0x1003), VR::SH, "harmless"))
    };
    acme(ct(1)).write(&wd.path("in/explicit.dcm"));
    acme(ct(2)).ts("1.2.840.10008.1.2").write(&wd.path("in/implicit.dcm"));
    let profile = user_profile(&wd, "keep_private_creators = [\"ACME PRIV\"]\n");
    let run = wd.deid(&["--profile", &profile]);
    run.assert_code(0);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["SATO", "HANAKO", original]].concat());
    let value = |out: &std::path::Path, tag| {
        raw(out, tag).map(|v| String::from_utf8(v).unwrap().trim_end_matches([' ', '\0']).to_string())
    };
    let outputs = wd.dicom_outputs("out");
    assert_eq!(outputs.len(), 2);
    let texts: Vec<String> = outputs.iter().map(|o| value(o, Tag(0x0029, 0x1002)).unwrap()).collect();
    for (out, text) in outputs.iter().zip(&texts) {
        assert_eq!(value(out, Tag(0x0029, 0x1001)).as_deref(), Some("ANONYMIZED"), "{out:?}");
        assert!(text.starts_with("ref 2.25.") && text.ends_with(" x"), "{text}");
        assert_eq!(value(out, Tag(0x0029, 0x1003)).as_deref(), Some("harmless"), "{out:?}");
    }
    assert_eq!(texts[0], texts[1], "one original UID, one new UID in both files");
}

#[test]
fn keeping_an_unlisted_attribute_in_a_user_profile_keeps_the_safety_net() {
    let wd = Workdir::new("keeping_an_unlisted_attribute_in_a_user_profile_keeps_the_safety_net");
    // Content Description is not in Table E.1-1: the profile keeps it anyway, scrubbed of the
    // patient's identifiers. Writing `keep` restates that; it does not release them.
    ct(1)
        .put(str_el(tags::CONTENT_DESCRIPTION, VR::LO, &format!("Annotated for {CANARY_ID}")))
        .write(&wd.path("in/a.dcm"));
    let p = user_profile(&wd, "extends = \"basic\"\n[overrides]\nContentDescription = \"keep\"\n");
    let run = wd.deid(&["--profile", &p]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::CONTENT_DESCRIPTION).as_deref(), Some("Annotated for ***"));
    assert_eq!(method_codes(&obj).first().map(String::as_str), Some("113100"), "nothing departs");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn keeping_a_safe_private_attribute_in_a_user_profile_keeps_the_safety_net() {
    let wd = Workdir::new("keeping_a_safe_private_attribute_in_a_user_profile_keeps_the_safety_net");
    // GEMS_ACQU_01 (0019,xx9E) Internal Pulse Sequence Name is safe by Table E.3.10-1.
    ct(1)
        .put(str_el(Tag(0x0019, 0x0010), VR::LO, "GEMS_ACQU_01"))
        .put(str_el(Tag(0x0019, 0x109E), VR::LO, CANARY_ID))
        .write(&wd.path("in/a.dcm"));
    let profile = "options = [\"retain-safe-private\"]\n[overrides]\n'(0019,\"GEMS_ACQU_01\",9E)' = \"keep\"\n";
    let p = user_profile(&wd, profile);
    let run = wd.deid(&["--profile", &p]);
    run.assert_code(0);
    let value = raw(&wd.only_output("out"), Tag(0x0019, 0x109E)).unwrap();
    assert_eq!(String::from_utf8(value).unwrap().trim_end(), "***", "scrubbed as under the option alone");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn a_kept_private_binary_value_holding_the_name_as_utf16_is_removed() {
    let wd = Workdir::new("a_kept_private_binary_value_holding_the_name_as_utf16_is_removed");
    // Windows software writes the strings of its private blobs as UTF-16.
    let utf16: Vec<u8> = "CANARY PATIENT".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let odd: Vec<u8> =
        [&[1u8][..], &"x CANARYID001".encode_utf16().flat_map(u16::to_be_bytes).collect::<Vec<_>>(), &[0]].concat();
    ct(1)
        .put(str_el(Tag(0x0019, 0x0010), VR::LO, "ACME PRIV"))
        .put(raw_el(Tag(0x0019, 0x1001), VR::OB, &utf16))
        .put(raw_el(Tag(0x0019, 0x1002), VR::OB, &odd))
        .put(raw_el(
            Tag(0x0019, 0x1003),
            VR::OB,
            &"harmless".encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<_>>(),
        ))
        .write(&wd.path("in/a.dcm"));
    let p = user_profile(&wd, "keep_private_creators = [\"ACME PRIV\"]\n");
    let run = wd.deid(&["--profile", &p]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert!(raw(&out, Tag(0x0019, 0x1001)).is_none(), "UTF-16LE name removed");
    assert!(raw(&out, Tag(0x0019, 0x1002)).is_none(), "UTF-16BE ID at an odd offset removed");
    assert!(raw(&out, Tag(0x0019, 0x1003)).is_some(), "other UTF-16 text stays");
}

#[test]
fn retain_safe_private_keeps_a_version_number_in_a_private_ui_attribute() {
    let wd = Workdir::new("retain_safe_private_keeps_a_version_number_in_a_private_ui_attribute");
    // NQHeader Version (0099,xx01) is UI in Table E.3.10-1 but holds a version: no instance UID.
    ct(1)
        .put(str_el(Tag(0x0099, 0x0010), VR::LO, "NQHeader"))
        .put(str_el(Tag(0x0099, 0x1001), VR::UI, "2.1"))
        .put(str_el(Tag(0x0099, 0x1002), VR::UI, SERIES))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-safe-private"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let value = |tag| raw(&out, tag).map(|v| String::from_utf8(v).unwrap().trim_end_matches([' ', '\0']).to_string());
    assert_eq!(value(Tag(0x0099, 0x1001)).as_deref(), Some("2.1"));
    assert_eq!(value(Tag(0x0099, 0x1002)), Some(pseudonymizer(7).uid(SERIES)), "a UID is still mapped");
    wd.kamei(["verify", "out"]).assert_code(0);
}

#[test]
fn a_replacement_that_is_no_valid_value_of_a_private_elements_vr_removes_it() {
    let wd = Workdir::new("a_replacement_that_is_no_valid_value_of_a_private_elements_vr_removes_it");
    // `profile check` cannot know the VR of (0019,"ACME PRIV",13): the file says DA.
    ct(1)
        .put(str_el(Tag(0x0019, 0x0010), VR::LO, "ACME PRIV"))
        .put(str_el(Tag(0x0019, 0x1013), VR::DA, "19850315"))
        .put(str_el(Tag(0x0019, 0x1014), VR::LO, "site note"))
        .write(&wd.path("in/a.dcm"));
    let profile = "[overrides]\n'(0019,\"ACME PRIV\",13)' = { replace = \"hello\" }\n'(0019,\"ACME PRIV\",14)' = { replace = \"hello\" }\n";
    let p = user_profile(&wd, profile);
    let run = wd.deid(&["--profile", &p]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert!(raw(&out, Tag(0x0019, 0x1013)).is_none(), "no DA `hello`");
    assert_eq!(raw(&out, Tag(0x0019, 0x1014)).as_deref(), Some(&b"hello "[..]), "a valid replacement is written");
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(0019,1013)") && notes.contains("not a valid DA value"), "{notes}");
}

#[test]
fn strict_removes_free_text_whose_keyword_names_a_coding_scheme() {
    let wd = Workdir::new("strict_removes_free_text_whose_keyword_names_a_coding_scheme");
    let scheme = item(vec![
        str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "99CANARY"),
        str_el(tags::CODING_SCHEME_NAME, VR::ST, "CANARY HOSPITAL local codes"),
        str_el(tags::CODING_SCHEME_RESPONSIBLE_ORGANIZATION, VR::ST, "CANARY HOSPITAL Radiology"),
    ]);
    ct(1)
        .put(seq_el(tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE, vec![scheme]))
        .put(str_el(tags::CODING_SCHEME_NAME, VR::ST, "CANARY HOSPITAL"))
        .put(str_el(tags::MAPPING_RESOURCE_NAME, VR::LO, "CANARY HOSPITAL mapping"))
        .put(str_el(tags::CODING_SCHEME_UID, VR::UI, "2.16.840.1.113883.6.96"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--strict"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    for tag in [tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE, tags::CODING_SCHEME_NAME, tags::MAPPING_RESOURCE_NAME] {
        assert!(obj.element_opt(tag).unwrap().is_none(), "{tag} is not on the strict allow-list");
    }
    // A UID attribute naming a registered scheme is still kept, as profile show says.
    assert_eq!(text(&obj, tags::CODING_SCHEME_UID).as_deref(), Some("2.16.840.1.113883.6.96"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["99CANARY"]].concat());
}

#[test]
fn cleaning_a_content_sequence_the_table_replaces_departs_from_the_basic_profile() {
    let wd = Workdir::new("cleaning_a_content_sequence_the_table_replaces_departs_from_the_basic_profile");
    let text_item = item(vec![
        str_el(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
        str_el(tags::VALUE_TYPE, VR::CS, "TEXT"),
        str_el(tags::TEXT_VALUE, VR::UT, "Left lung nodule, told his wife Keiko"),
    ]);
    ct(1).put(seq_el(tags::CONTENT_SEQUENCE, vec![text_item])).write(&wd.path("in/a.dcm"));
    let p = user_profile(&wd, "[overrides]\nContentSequence = \"clean\"\n");
    let check = wd.kamei(["profile", "check", &p]);
    assert!(check.stdout().contains("(0040,A730): table D, this profile C"), "{}", check.stdout());
    let run = wd.deid(&["--profile", &p]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert!(obj.element(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE).is_err(), "no code is claimed");
    let method = text(&obj, tags::DEIDENTIFICATION_METHOD).unwrap();
    assert!(method.ends_with("departs from PS3.15 basic profile"), "{method}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

/// A CT that another tool already de-identified with shifted dates, saying so in its markers.
fn already_shifted() -> Fixture {
    let code = |value: &str, meaning: &str| {
        item(vec![
            str_el(tags::CODE_VALUE, VR::SH, value),
            str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "DCM"),
            str_el(tags::CODE_MEANING, VR::LO, meaning),
        ])
    };
    ct(1)
        .put(str_el(tags::PATIENT_IDENTITY_REMOVED, VR::CS, "YES"))
        .put(str_el(tags::DEIDENTIFICATION_METHOD, VR::LO, &format!("SHIFTER 2.1\\batch of {CANARY_ID}")))
        .put(seq_el(
            tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
            vec![
                code("113100", "Basic Application Confidentiality Profile"),
                code("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
            ],
        ))
        .put(str_el(tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED, VR::CS, "MODIFIED"))
}

#[test]
fn dates_an_earlier_release_modified_stay_marked_modified_under_full_dates() {
    let wd = Workdir::new("dates_an_earlier_release_modified_stay_marked_modified_under_full_dates");
    already_shifted().write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-full-dates"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DATE).as_deref(), Some("20240201"), "the dates are kept as given");
    assert_eq!(text(&obj, tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED).as_deref(), Some("MODIFIED"));
    let codes = method_codes(&obj);
    for code in ["113100", "113106", "113107"] {
        assert!(codes.iter().any(|c| c == code), "{code} in {codes:?}");
    }
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn an_earlier_de_identification_method_is_kept_before_kameis() {
    let wd = Workdir::new("an_earlier_de_identification_method_is_kept_before_kameis");
    already_shifted().write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let method = text(&obj, tags::DEIDENTIFICATION_METHOD).unwrap();
    // The earlier values come first, cleaned: the patient's ID written there goes.
    assert!(method.starts_with("SHIFTER 2.1\\batch of "), "{method}");
    assert!(method.contains("\\kamei "), "{method}");
    // Without a temporal option kamei removes the dates: REMOVED replaces MODIFIED.
    assert_eq!(text(&obj, tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED).as_deref(), Some("REMOVED"));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn rv30_clean_descriptors_shifts_a_year_and_month_written_in_text_as_its_15th_day() {
    let wd = Workdir::new("rv30_clean_descriptors_shifts_a_year_and_month_written_in_text_as_its_15th_day");
    ct(1)
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT since 2024-02 (Feb 2024, 02/2024)"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let shift = pseudonymizer(7).date_shift_days(kamei::pseudo::Patient::Id(CANARY_ID));
    let middle = date("20240215") + chrono::Duration::days(shift);
    let want = format!("CT since {} ({}, {})", middle.format("%Y-%m"), middle.format("%b %Y"), middle.format("%m/%Y"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION), Some(want));
    // Without a date option they go.
    let run = wd.kamei([
        "deid",
        "in",
        "-o",
        "clean",
        "--key",
        wd.path("k.key").to_str().unwrap(),
        "-q",
        "--option",
        "clean-descriptors",
    ]);
    run.assert_code(0);
    let obj = open(&wd.only_output("clean"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("CT since *** (***, ***)"));
}

#[test]
fn rv30_clean_descriptors_replaces_a_compact_era_date_and_one_after_the_era_s_kanji() {
    let wd = Workdir::new("rv30_clean_descriptors_replaces_a_compact_era_date_and_one_after_the_era_s_kanji");
    ct(1)
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT R060201 令6.2.1"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("CT *** ***"));
}

#[test]
fn rv30_clean_descriptors_maps_a_uid_written_in_full_width_whole() {
    let wd = Workdir::new("rv30_clean_descriptors_maps_a_uid_written_in_full_width_whole");
    let wide = "１．２．３９２．２０００３６．９１１６．２．６．１．４８";
    ct(1)
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, &format!("比較 {wide}")))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let mapped = pseudonymizer(7).uid("1.2.392.200036.9116.2.6.1.48");
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION), Some(format!("比較 {mapped}")));
}

#[test]
fn rv30_retain_long_modified_dates_shifts_a_reduced_precision_datetime_as_the_middle_of_its_period() {
    let wd = Workdir::new("rv30_retain_long_modified_dates_shifts_a_reduced_precision_datetime_as_the_middle");
    // A patient whose offset is a few days: read as 1 January (the 1st), `2021` (`202103`)
    // moved to the year (month) before and told the offset's sign.
    let pseudo = pseudonymizer(7);
    let id = (0..)
        .map(|n| format!("RV30DT{n}"))
        .find(|id| (-14..=-1).contains(&pseudo.date_shift_days(kamei::pseudo::Patient::Id(id))))
        .unwrap();
    Fixture::ct(&id, STUDY, SERIES, &format!("{SERIES}.1"))
        .put(str_el(tags::ACQUISITION_DATE_TIME, VR::DT, "2021"))
        .put(str_el(tags::FRAME_REFERENCE_DATE_TIME, VR::DT, "202103"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-long-modified-dates"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::ACQUISITION_DATE_TIME).as_deref(), Some("2021"));
    assert_eq!(text(&obj, tags::FRAME_REFERENCE_DATE_TIME).as_deref(), Some("202103"));
}
