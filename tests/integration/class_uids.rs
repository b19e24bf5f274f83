//! rv37 suspects: UIDs that carry identifiers. A class field (SOP Class UID, Referenced SOP
//! Class UID...) keeps a class but not an instance UID a broken exporter swapped into it, nor
//! a "class" built from the Patient ID; and under `retain-uids`, a kept UID that spells the
//! Patient ID or the real exam date is warned about by `deid` and reported by `verify`.

use crate::util::*;
use dicom_core::VR;
use dicom_dictionary_std::tags;

/// An original SOP Instance UID, as a Canon scanner writes it.
const ORIGINAL: &str = "1.2.392.200036.9116.2.5.1.37.2418725123.1709254500.100001";
const CT_CLASS: &str = "1.2.840.10008.5.1.4.1.1.2";
/// A SOP Class UID a tool built by appending the Patient ID's digits to CT Image Storage.
const BUILT_CLASS: &str = "1.2.840.10008.5.1.4.1.1.2.8812345";

/// A CT image whose Referenced Image Sequence has its class and instance swapped.
fn swapped_reference() -> Fixture {
    Fixture::ct(
        CANARY_ID,
        "1.2.826.0.1.3680043.8.498.11",
        "1.2.826.0.1.3680043.8.498.12",
        "1.2.826.0.1.3680043.8.498.13",
    )
    .put(seq_el(
        tags::REFERENCED_IMAGE_SEQUENCE,
        vec![item(vec![
            str_el(tags::REFERENCED_SOP_CLASS_UID, VR::UI, ORIGINAL),
            str_el(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, CT_CLASS),
        ])],
    ))
}

/// The Referenced SOP Class UID of the first item of the Referenced Image Sequence.
fn referenced_class(path: &std::path::Path) -> String {
    let obj = open(path);
    let seq = obj.element(tags::REFERENCED_IMAGE_SEQUENCE).unwrap().items().unwrap().to_vec();
    seq[0].element(tags::REFERENCED_SOP_CLASS_UID).unwrap().to_str().unwrap().trim_end_matches('\0').to_string()
}

#[test]
fn an_instance_uid_swapped_into_a_class_field_is_mapped() {
    let wd = Workdir::new("an_instance_uid_swapped_into_a_class_field_is_mapped");
    swapped_reference().write(&wd.path("in/b.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(referenced_class(&out), pseudonymizer(7).uid(ORIGINAL));
    assert_eq!(text(&open(&out), tags::SOP_CLASS_UID).as_deref(), Some(CT_CLASS), "a real class stays");
    assert_no_leak(&wd, "out", &run, &[ORIGINAL]);
}

#[test]
fn a_private_sop_class_stays_in_class_fields() {
    let wd = Workdir::new("a_private_sop_class_stays_in_class_fields");
    let private_class = "1.2.392.200036.9116.7.8.1.1.1";
    Fixture::ct(
        CANARY_ID,
        "1.2.826.0.1.3680043.8.498.21",
        "1.2.826.0.1.3680043.8.498.22",
        "1.2.826.0.1.3680043.8.498.23",
    )
    .put(str_el(tags::SOP_CLASS_UID, VR::UI, private_class))
    .put(seq_el(
        tags::REFERENCED_IMAGE_SEQUENCE,
        vec![item(vec![
            str_el(tags::REFERENCED_SOP_CLASS_UID, VR::UI, private_class),
            str_el(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, ORIGINAL),
        ])],
    ))
    .write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(text(&open(&out), tags::SOP_CLASS_UID).as_deref(), Some(private_class));
    assert_eq!(referenced_class(&out), private_class);
}

#[test]
fn a_sop_class_built_from_the_patient_id_is_mapped_in_data_set_meta_and_audit() {
    let wd = Workdir::new("a_sop_class_built_from_the_patient_id_is_mapped_in_data_set_meta_and_audit");
    Fixture::ct(
        "PID8812345",
        "1.2.826.0.1.3680043.8.498.31",
        "1.2.826.0.1.3680043.8.498.32",
        "1.2.826.0.1.3680043.8.498.33",
    )
    .put(str_el(tags::SOP_CLASS_UID, VR::UI, BUILT_CLASS))
    .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let obj = open(&out);
    let mapped = pseudonymizer(7).uid(BUILT_CLASS);
    assert_eq!(text(&obj, tags::SOP_CLASS_UID), Some(mapped.clone()));
    assert_eq!(obj.meta().media_storage_sop_class_uid().trim_end_matches('\0'), mapped);
    // Nowhere in the release: contents, file meta, names, the audit log's sop_class_uid.
    assert_no_leak(&wd, "out", &run, &["8812345"]);
}

#[test]
fn verify_reports_an_original_instance_uid_left_in_a_class_field() {
    let wd = Workdir::new("verify_reports_an_original_instance_uid_left_in_a_class_field");
    swapped_reference().write(&wd.path("in/b.dcm"));
    wd.deid(&[]).assert_code(0);
    // Put the original back into the class field, as a release made before this fix has it;
    // the referenced image itself is not among the inputs.
    let out = wd.only_output("out");
    let mut obj = open(&out);
    obj.put(seq_el(
        tags::REFERENCED_IMAGE_SEQUENCE,
        vec![item(vec![
            str_el(tags::REFERENCED_SOP_CLASS_UID, VR::UI, ORIGINAL),
            str_el(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, CT_CLASS),
        ])],
    ));
    obj.write_to_file(&out).unwrap();
    let run = wd.kamei(["verify", "out", "--against", "in"]);
    run.assert_code(1);
    assert!(run.stdout().contains("(0008,1150)"), "{}", run.stdout());
    assert!(!run.stdout().contains(ORIGINAL), "findings never print the value");
}

/// A CT whose UIDs are built from the exam date, time and Patient ID, as the README cites.
fn built_uids() -> Fixture {
    Fixture::ct(
        "8812345",
        "1.2.392.200036.9116.2.6.1.48.20240201.8812345",
        "1.2.392.200036.9116.2.6.1.48.20240201.8812345.2",
        "1.2.392.200036.9116.2.6.1.48.20240201.101500.8812345",
    )
}

#[test]
fn retain_uids_keeps_uids_spelling_identifiers_and_warns_once_with_a_count() {
    let wd = Workdir::new("retain_uids_keeps_uids_spelling_identifiers_and_warns_once_with_a_count");
    built_uids().write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--option", "retain-uids"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(
        text(&obj, tags::SOP_INSTANCE_UID).as_deref(),
        Some("1.2.392.200036.9116.2.6.1.48.20240201.101500.8812345"),
        "kept as asked"
    );
    let stderr = run.stderr();
    assert_eq!(stderr.matches("outputs keep, under retain-uids, UIDs that spell").count(), 1, "{stderr}");
    assert!(stderr.contains("warning: 1 outputs keep"), "{stderr}");
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(0008,0018): a UID kept under retain-uids holds a date of the file"), "{notes}");
    assert!(notes.contains("(0020,000D): a UID kept under retain-uids holds a date of the file"), "{notes}");
    assert!(!notes.contains("8812345") && !notes.contains("20240201"), "notes never hold the value");
}

#[test]
fn verify_reports_a_kept_uid_spelling_the_patient_id_by_tag_and_kind() {
    let wd = Workdir::new("verify_reports_a_kept_uid_spelling_the_patient_id_by_tag_and_kind");
    Fixture::ct(
        "8812345",
        "1.2.392.200036.9116.2.6.1.48.8812345",
        "1.2.392.200036.9116.2.6.1.48.8812345.2",
        "1.2.392.200036.9116.2.6.1.48.20240201101500.3",
    )
    .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "retain-uids"]).assert_code(0);
    let run = wd.kamei(["verify", "out", "--against", "in", "--option", "retain-uids"]);
    run.assert_code(1);
    let stdout = run.stdout();
    assert!(stdout.contains("(0020,000D)") && stdout.contains("the Patient ID"), "{stdout}");
    assert!(stdout.contains("(0008,0018)") && stdout.contains("a date of the file"), "{stdout}");
    assert!(!stdout.contains("8812345") && !stdout.contains("20240201"), "findings never print the value");
}

#[test]
fn without_retain_uids_no_uid_spelling_identifiers_is_left() {
    let wd = Workdir::new("without_retain_uids_no_uid_spelling_identifiers_is_left");
    built_uids().write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    assert!(!run.stderr().contains("retain-uids"), "{}", run.stderr());
    assert_no_leak(&wd, "out", &run, &["8812345", "20240201.101500"]);
    wd.kamei(["verify", "out", "--against", "in"]).assert_code(0);
}

/// Put `class` into the Referenced SOP Class UID of the output's first Referenced Image
/// Sequence item, as a release made by another tool (or a broken run) leaves it.
fn plant_referenced_class(path: &std::path::Path, class: &str) {
    use kamei::dataset::{Element, Value};
    let mut file = match kamei::read::open(path, &kamei::read::ReadOptions::default()).unwrap() {
        kamei::read::Opened::Dicom(f) => f,
        other => panic!("{other:?}"),
    };
    let mut seq = file.dataset.get(tags::REFERENCED_IMAGE_SEQUENCE).unwrap().clone();
    let Value::Sequence(s) = &mut seq.value else { panic!("not a sequence") };
    s.items[0].dataset.put(Element::new(tags::REFERENCED_SOP_CLASS_UID, VR::UI, format!("{class}\0").into_bytes()));
    file.dataset.put(seq);
    std::fs::write(path, kamei::write::to_vec(&file, None).unwrap()).unwrap();
}

#[test]
fn verify_without_the_inputs_finds_an_instance_uid_left_in_a_class_field() {
    let wd = Workdir::new("verify_without_the_inputs_finds_an_instance_uid_left_in_a_class_field");
    swapped_reference().write(&wd.path("in/b.dcm"));
    wd.deid(&[]).assert_code(0);
    // deid mapped it (a 2.25 UID): no finding.
    let mapped = wd.kamei(["verify", "out"]);
    assert!(!mapped.stdout().contains("not-replaced"), "{}", mapped.stdout());
    let out = wd.only_output("out");
    plant_referenced_class(&out, ORIGINAL);
    let run = wd.kamei(["verify", "out"]);
    run.assert_code(1);
    assert!(run.stdout().contains("(0008,1140)[0]/(0008,1150)\tnot-replaced"), "{}", run.stdout());
    assert!(!run.stdout().contains(ORIGINAL), "never the value");
}
