//! `kamei deid` on fixtures: actions, options, pseudonyms, markers, layout, batch behaviour.

use crate::util::*;
use dicom_dictionary_std::tags;
use std::path::PathBuf;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.1";
const SERIES: &str = "1.2.826.0.1.3680043.8.498.1.1";

fn ct(n: u32) -> Fixture {
    Fixture::ct(CANARY_ID, STUDY, SERIES, &format!("{SERIES}.{n}"))
}

/// Run deid with a fixed key on `in` into `out`, plus extra arguments.
fn deid(wd: &Workdir, extra: &[&str]) -> Run {
    let k = key(wd, "k.key", 7);
    let mut args = vec!["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"];
    args.extend_from_slice(extra);
    wd.kamei(args)
}

fn only_output(wd: &Workdir) -> PathBuf {
    let outs = wd.dicom_outputs("out");
    assert_eq!(outs.len(), 1, "{outs:?}");
    outs[0].clone()
}

#[test]
fn basic_profile_removes_every_canary() {
    let wd = Workdir::new("basic_profile_removes_every_canary");
    ct(1).write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(0);
    for canary in ["CANARY", "19700101", "20240201"] {
        assert_eq!(wd.tree_contains("out", canary.as_bytes()), None, "{canary} leaked");
    }
    assert!(!run.stderr().contains("CANARY"));
}

#[test]
fn patient_id_and_name_become_the_same_pseudonym() {
    let wd = Workdir::new("patient_id_and_name_become_the_same_pseudonym");
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = open(&only_output(&wd));
    let id = text(&obj, tags::PATIENT_ID).unwrap();
    assert_eq!(id.len(), 20);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(text(&obj, tags::PATIENT_NAME).as_deref(), Some(id.as_str()));
}

#[test]
fn markers_and_file_meta_are_written() {
    let wd = Workdir::new("markers_and_file_meta_are_written");
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = open(&only_output(&wd));
    assert_eq!(text(&obj, tags::PATIENT_IDENTITY_REMOVED).as_deref(), Some("YES"));
    assert_eq!(text(&obj, tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED).as_deref(), Some("REMOVED"));
    let method = obj.element(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE).unwrap();
    let items = method.items().unwrap();
    let codes: Vec<String> =
        items.iter().map(|i| i.element(tags::CODE_VALUE).unwrap().to_str().unwrap().to_string()).collect();
    assert_eq!(codes, ["113100"]);
    let sop = text(&obj, tags::SOP_INSTANCE_UID).unwrap();
    assert_eq!(obj.meta().media_storage_sop_instance_uid().trim_end_matches('\0'), sop);
    assert!(obj.meta().source_application_entity_title().is_none(), "source AE title must be dropped");
    assert_eq!(obj.meta().implementation_class_uid().trim_end_matches('\0'), kamei::plan::IMPLEMENTATION_CLASS_UID);
}

#[test]
fn action_codes_z_x_d_u_are_applied() {
    let wd = Workdir::new("action_codes_z_x_d_u_are_applied");
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = open(&only_output(&wd));
    // Z: Accession Number, Patient's Birth Date are present and empty.
    assert_eq!(text(&obj, tags::ACCESSION_NUMBER).as_deref(), Some(""));
    assert_eq!(text(&obj, tags::PATIENT_BIRTH_DATE).as_deref(), Some(""));
    // X: Patient's Address, Institution Address, Device Serial Number? (X/Z/D → dummy) removed.
    assert_eq!(text(&obj, tags::PATIENT_ADDRESS), None);
    assert_eq!(text(&obj, tags::INSTITUTION_ADDRESS), None);
    // X/Z/D present and non-empty → D (a dummy keeps the attribute valid whatever its Type).
    assert_eq!(text(&obj, tags::INSTITUTION_NAME).as_deref(), Some("ANONYMIZED"));
    assert_eq!(text(&obj, tags::STATION_NAME).as_deref(), Some("ANONYMIZED"));
    // U: UIDs replaced by 2.25 UIDs.
    let study = text(&obj, tags::STUDY_INSTANCE_UID).unwrap();
    assert!(study.starts_with("2.25."), "{study}");
    assert_ne!(study, STUDY);
    // K (unlisted): Modality, Manufacturer, pixel data kept.
    assert_eq!(text(&obj, tags::MODALITY).as_deref(), Some("CT"));
    assert_eq!(text(&obj, tags::MANUFACTURER).as_deref(), Some("ACME"));
}

#[test]
fn pixel_data_passes_through_byte_for_byte() {
    let wd = Workdir::new("pixel_data_passes_through_byte_for_byte");
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    assert_eq!(raw(&only_output(&wd), tags::PIXEL_DATA), raw(&wd.path("in/a.dcm"), tags::PIXEL_DATA));
}

#[test]
fn hierarchy_layout_names_nothing_original() {
    let wd = Workdir::new("hierarchy_layout_names_nothing_original");
    ct(1).write(&wd.path("in/CANARY_FOLDER/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let out = only_output(&wd);
    let rel = out.strip_prefix(wd.path("out")).unwrap().to_string_lossy().into_owned();
    assert!(!rel.contains("CANARY") && !rel.contains(STUDY), "{rel}");
    let obj = open(&out);
    let parts: Vec<&str> = rel.split('/').collect();
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[0], text(&obj, tags::PATIENT_ID).unwrap());
    assert_eq!(parts[1], text(&obj, tags::STUDY_INSTANCE_UID).unwrap());
    assert_eq!(parts[3], format!("{}.dcm", text(&obj, tags::SOP_INSTANCE_UID).unwrap()));
}

#[test]
fn same_key_gives_identical_output_bytes() {
    let wd = Workdir::new("same_key_gives_identical_output_bytes");
    ct(1).write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 7);
    wd.kamei(["deid", "in", "-o", "out1", "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
    wd.kamei(["deid", "in", "-o", "out2", "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
    let a = wd.dicom_outputs("out1");
    let b = wd.dicom_outputs("out2");
    assert_eq!(a.len(), 1);
    assert_eq!(std::fs::read(&a[0]).unwrap(), std::fs::read(&b[0]).unwrap());
}

#[test]
fn references_across_files_follow_the_new_uids() {
    let wd = Workdir::new("references_across_files_follow_the_new_uids");
    ct(1).write(&wd.path("in/a.dcm"));
    let referenced = item(vec![
        str_el(tags::REFERENCED_SOP_CLASS_UID, dicom_core::VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
        str_el(tags::REFERENCED_SOP_INSTANCE_UID, dicom_core::VR::UI, &format!("{SERIES}.1")),
    ]);
    ct(2).put(seq_el(tags::REFERENCED_IMAGE_SEQUENCE, vec![referenced])).write(&wd.path("in/b.dcm"));
    deid(&wd, &[]).assert_code(0);
    let objs: Vec<_> = wd.dicom_outputs("out").iter().map(|p| open(p)).collect();
    let a = objs.iter().find(|o| o.element_opt(tags::REFERENCED_IMAGE_SEQUENCE).unwrap().is_none()).unwrap();
    let b = objs.iter().find(|o| o.element_opt(tags::REFERENCED_IMAGE_SEQUENCE).unwrap().is_some()).unwrap();
    let items = b.element(tags::REFERENCED_IMAGE_SEQUENCE).unwrap().items().unwrap();
    let r = items[0].element(tags::REFERENCED_SOP_INSTANCE_UID).unwrap().to_str().unwrap();
    assert_eq!(r.trim_end_matches('\0'), text(a, tags::SOP_INSTANCE_UID).unwrap());
    assert_eq!(text(a, tags::STUDY_INSTANCE_UID), text(b, tags::STUDY_INSTANCE_UID));
}

#[test]
fn names_in_nested_sequences_are_removed() {
    let wd = Workdir::new("names_in_nested_sequences_are_removed");
    let inner = item(vec![str_el(tags::PERSON_NAME, dicom_core::VR::PN, "CANARYNESTED^NAME")]);
    let middle = item(vec![seq_el(tags::CONTENT_SEQUENCE, vec![inner])]);
    ct(1).put(seq_el(tags::REQUESTED_PROCEDURE_CODE_SEQUENCE, vec![middle])).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    assert_eq!(wd.tree_contains("out", b"CANARYNESTED"), None);
}

#[test]
fn private_attributes_are_removed_unless_safe_and_retained() {
    let wd = Workdir::new("private_attributes_are_removed_unless_safe_and_retained");
    // (7053,xx00) of "Philips PET Private Group" is in PS3.15 Table E.3.10-1 (SUV Factor).
    ct(1)
        .put(str_el(dicom_core::Tag(0x7053, 0x0010), dicom_core::VR::LO, "Philips PET Private Group"))
        .put(str_el(dicom_core::Tag(0x7053, 0x1000), dicom_core::VR::DS, "1.5"))
        .put(str_el(dicom_core::Tag(0x0009, 0x0010), dicom_core::VR::LO, "ACME PRIVATE"))
        .put(str_el(dicom_core::Tag(0x0009, 0x1001), dicom_core::VR::LO, "CANARYPRIVATE"))
        .write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = open(&only_output(&wd));
    assert!(obj.element_opt(dicom_core::Tag(0x7053, 0x1000)).unwrap().is_none());
    assert!(obj.element_opt(dicom_core::Tag(0x0009, 0x1001)).unwrap().is_none());
    assert!(obj.element_opt(dicom_core::Tag(0x0009, 0x0010)).unwrap().is_none(), "unused private creator must go");

    let wd = Workdir::new("private_attributes_are_removed_unless_safe_and_retained_2");
    ct(1)
        .put(str_el(dicom_core::Tag(0x7053, 0x0010), dicom_core::VR::LO, "Philips PET Private Group"))
        .put(str_el(dicom_core::Tag(0x7053, 0x1000), dicom_core::VR::DS, "1.5"))
        .put(str_el(dicom_core::Tag(0x0009, 0x0010), dicom_core::VR::LO, "ACME PRIVATE"))
        .put(str_el(dicom_core::Tag(0x0009, 0x1001), dicom_core::VR::LO, "CANARYPRIVATE"))
        .write(&wd.path("in/a.dcm"));
    deid(&wd, &["--option", "retain-safe-private"]).assert_code(0);
    let obj = open(&only_output(&wd));
    assert_eq!(text(&obj, dicom_core::Tag(0x7053, 0x1000)).as_deref(), Some("1.5"));
    assert_eq!(text(&obj, dicom_core::Tag(0x7053, 0x0010)).as_deref(), Some("Philips PET Private Group"));
    assert_eq!(wd.tree_contains("out", b"CANARYPRIVATE"), None);
}

#[test]
fn retain_uids_keeps_uids() {
    let wd = Workdir::new("retain_uids_keeps_uids");
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--option", "retain-uids"]).assert_code(0);
    let obj = open(&only_output(&wd));
    assert_eq!(text(&obj, tags::STUDY_INSTANCE_UID).as_deref(), Some(STUDY));
    let codes: Vec<String> = obj
        .element(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
        .unwrap()
        .items()
        .unwrap()
        .iter()
        .map(|i| i.element(tags::CODE_VALUE).unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["113100", "113110"]);
}

#[test]
fn retain_long_modified_dates_shifts_every_date_by_one_offset() {
    let wd = Workdir::new("retain_long_modified_dates_shifts_every_date_by_one_offset");
    ct(1).put(str_el(tags::ACQUISITION_DATE, dicom_core::VR::DA, "20240211")).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--option", "retain-long-modified-dates"]).assert_code(0);
    let obj = open(&only_output(&wd));
    let study = text(&obj, tags::STUDY_DATE).unwrap();
    let acq = text(&obj, tags::ACQUISITION_DATE).unwrap();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y%m%d").unwrap();
    assert_eq!((d(&acq) - d(&study)).num_days(), 10, "interval kept");
    let shift = (d(&study) - d("20240201")).num_days();
    assert!((-365..=-1).contains(&shift), "{shift}");
    assert_eq!(text(&obj, tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED).as_deref(), Some("MODIFIED"));
}

#[test]
fn clean_descriptors_scrubs_the_patients_name_from_descriptions() {
    let wd = Workdir::new("clean_descriptors_scrubs_the_patients_name_from_descriptions");
    ct(1).put(str_el(tags::STUDY_DESCRIPTION, dicom_core::VR::LO, "CT CHEST FOR CANARY")).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--option", "clean-descriptors"]).assert_code(0);
    let obj = open(&only_output(&wd));
    assert_eq!(text(&obj, tags::STUDY_DESCRIPTION).as_deref(), Some("CT CHEST FOR ***"));
    assert_eq!(text(&obj, tags::SERIES_DESCRIPTION).as_deref(), Some("AXIAL 5MM"));
}

#[test]
fn japanese_name_groups_are_all_replaced() {
    let wd = Workdir::new("japanese_name_groups_are_all_replaced");
    // PS3.5 H.3.1 style: \ISO 2022 IR 87, Kakuu^Hanako=架空^花子=かくう^はなこ (japan README §7.3).
    let pn: &[u8] = b"Kakuu^Hanako=\x1b$B2M6u\x1b(B^\x1b$B2V;R\x1b(B=\x1b$B$+$/$&\x1b(B^\x1b$B$O$J$3\x1b(B";
    let desc: &[u8] = b"\x1b$B6;It\x1b(BCT "; // 胸部CT, kept byte for byte
    ct(1)
        .put(raw_el(tags::SPECIFIC_CHARACTER_SET, dicom_core::VR::CS, b"\\ISO 2022 IR 87 "))
        .put(raw_el(tags::PATIENT_NAME, dicom_core::VR::PN, pn))
        .put(raw_el(tags::STUDY_DESCRIPTION, dicom_core::VR::LO, desc))
        .write(&wd.path("in/a.dcm"));
    deid(&wd, &["--option", "clean-descriptors"]).assert_code(0);
    let out = only_output(&wd);
    let name = raw(&out, tags::PATIENT_NAME).unwrap();
    assert!(!name.contains(&0x1b), "no ideographic or phonetic group may remain");
    assert!(!name.contains(&b'='));
    assert_eq!(raw(&out, tags::STUDY_DESCRIPTION), raw(&wd.path("in/a.dcm"), tags::STUDY_DESCRIPTION));
    assert!(raw(&out, tags::STUDY_DESCRIPTION).unwrap().starts_with(desc));
    for group in [&b"2M6u"[..], b"$+$/$&", b"Kakuu"] {
        assert_eq!(wd.tree_contains("out", group), None);
    }
}

#[test]
fn not_dicom_is_skipped_and_truncated_fails_with_a_reason() {
    let wd = Workdir::new("not_dicom_is_skipped_and_truncated_fails_with_a_reason");
    ct(1).write(&wd.path("in/good.dcm"));
    std::fs::write(wd.path("in/notes.txt"), b"just some text, not DICOM").unwrap();
    ct(2).write(&wd.path("in/cut.dcm"));
    let bytes = std::fs::read(wd.path("in/cut.dcm")).unwrap();
    std::fs::write(wd.path("in/cut.dcm"), &bytes[..bytes.len() - 40]).unwrap();
    let run = deid(&wd, &[]);
    run.assert_code(1);
    assert!(run.stderr().contains("failed: input #"), "{}", run.stderr());
    assert!(run.stderr().contains("truncated"), "{}", run.stderr());
    assert!(!run.stderr().contains("cut.dcm"), "paths are not printed without --show-paths");
    let audit = wd.audit("out");
    assert_eq!(audit.len(), 3);
    let outcomes: Vec<&str> = audit.iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert!(
        outcomes.contains(&"written") && outcomes.contains(&"skipped") && outcomes.contains(&"failed"),
        "{outcomes:?}"
    );
    assert_eq!(wd.dicom_outputs("out").len(), 1);
}

#[test]
fn audit_names_inputs_by_hash_and_holds_no_identifier() {
    let wd = Workdir::new("audit_names_inputs_by_hash_and_holds_no_identifier");
    ct(1).write(&wd.path("in/CANARYDIR/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let text = std::fs::read_to_string(wd.path("out/kamei-audit.jsonl")).unwrap();
    assert!(!text.contains("CANARY") && !text.contains("in/"), "{text}");
    let audit = wd.audit("out");
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(wd.path("in/CANARYDIR/a.dcm")).unwrap()))
    };
    assert_eq!(audit[0]["input_sha256"], digest.as_str());
    let actions = audit[0]["actions"].as_array().unwrap();
    assert!(actions.iter().any(|a| a["tag"] == "(0010,0010)" && a["action"] == "pseudonymize"));
}

#[test]
fn rerun_skips_finished_work_and_completes_the_rest() {
    let wd = Workdir::new("rerun_skips_finished_work_and_completes_the_rest");
    for n in 1..=4 {
        ct(n).write(&wd.path(&format!("in/{n}.dcm")));
    }
    deid(&wd, &[]).assert_code(0);
    let outs = wd.dicom_outputs("out");
    let before: Vec<Vec<u8>> = outs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    std::fs::remove_file(&outs[0]).unwrap();
    let run = deid(&wd, &[]);
    run.assert_code(0);
    let after: Vec<Vec<u8>> = wd.dicom_outputs("out").iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(before, after);
    assert_eq!(wd.audit("out").len(), 4, "one record per input after compaction");
}

#[test]
fn a_fully_resumed_run_does_not_report_zero_patients() {
    let wd = Workdir::new("a_fully_resumed_run_does_not_report_zero_patients");
    ct(1).write(&wd.path("in/1.dcm"));
    let k = key(&wd, "k.key", 7);
    let args = ["deid", "in", "-o", "out", "--key", k.to_str().unwrap()];
    assert!(wd.kamei(args).assert_code(0).stderr().contains("kamei: 1 patients; audit log"));
    let again = wd.kamei(args);
    again.assert_code(0);
    assert!(again.stderr().contains("1 done earlier"), "{}", again.stderr());
    assert!(!again.stderr().contains("kamei: 0 patients;"), "{}", again.stderr());
    assert!(again.stderr().contains("0 patients among the inputs processed in this run"), "{}", again.stderr());
}

#[test]
fn shards_together_equal_one_whole_run() {
    let wd = Workdir::new("shards_together_equal_one_whole_run");
    for n in 1..=12 {
        ct(n).write(&wd.path(&format!("in/s{}/{n}.dcm", n % 3)));
    }
    let k = key(&wd, "k.key", 9);
    let k = k.to_str().unwrap();
    wd.kamei(["deid", "in", "-o", "whole", "--key", k, "-q"]).assert_code(0);
    for i in 1..=3 {
        wd.kamei(["deid", "in", "-o", "sharded", "--key", k, "-q", "--shard", &format!("{i}/3")]).assert_code(0);
    }
    let whole: Vec<_> = wd.files("whole").into_iter().filter(|p| p.extension().is_some_and(|e| e == "dcm")).collect();
    let sharded: Vec<_> =
        wd.files("sharded").into_iter().filter(|p| p.extension().is_some_and(|e| e == "dcm")).collect();
    assert_eq!(whole.len(), 12);
    assert_eq!(whole, sharded);
    for p in &whole {
        assert_eq!(
            std::fs::read(wd.path("whole").join(p)).unwrap(),
            std::fs::read(wd.path("sharded").join(p)).unwrap()
        );
    }
    let mut a: Vec<String> = wd.audit("whole").iter().map(|r| r.to_string()).collect();
    let mut b: Vec<String> = wd.audit("sharded").iter().map(|r| r.to_string()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn input_tree_is_never_written() {
    let wd = Workdir::new("input_tree_is_never_written");
    ct(1).write(&wd.path("in/a.dcm"));
    let before = std::fs::read(wd.path("in/a.dcm")).unwrap();
    deid(&wd, &[]).assert_code(0);
    assert_eq!(wd.files("in"), vec![PathBuf::from("a.dcm")]);
    assert_eq!(std::fs::read(wd.path("in/a.dcm")).unwrap(), before);
    assert!(wd.files("out").iter().all(|p| !p.to_string_lossy().contains(".part")));
}

#[test]
fn linkage_table_maps_patient_and_file_and_is_private() {
    let wd = Workdir::new("linkage_table_maps_patient_and_file_and_is_private");
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--linkage", "link.csv"]).assert_code(0);
    let table = std::fs::read_to_string(wd.path("link.csv")).unwrap();
    let obj = open(&only_output(&wd));
    let pseudonym = text(&obj, tags::PATIENT_ID).unwrap();
    assert!(table.contains(&format!("patient,{CANARY_ID},{pseudonym}")), "{table}");
    assert!(table.lines().any(|l| l.starts_with("file,in/a.dcm,")), "{table}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(wd.path("link.csv")).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

/// A wrong key given by mistake on a later day (into a fresh OUT) must not add a second
/// pseudonym space to the shared re-identification table: the run is refused before it writes
/// anything, and the table and OUT are left as they were.
#[test]
fn linkage_table_of_another_key_is_refused_before_anything_is_written() {
    let wd = Workdir::new("linkage_table_of_another_key_is_refused_before_anything_is_written");
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--linkage", "link.csv"]).assert_code(0);
    let before = std::fs::read(wd.path("link.csv")).unwrap();
    let other = key(&wd, "other.key", 8);
    let run = wd.kamei(["deid", "in", "-o", "out2", "--key", other.to_str().unwrap(), "-q", "--linkage", "link.csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("another key"), "{}", run.stderr());
    assert_eq!(std::fs::read(wd.path("link.csv")).unwrap(), before, "the table is left as it was");
    assert!(!wd.path("out2").exists(), "nothing is written for a refused run");
    // The same key is still welcome: a later run of the first key appends to the table.
    ct(2).write(&wd.path("in/b.dcm"));
    deid(&wd, &["--linkage", "link.csv"]).assert_code(0);
    let table = std::fs::read_to_string(wd.path("link.csv")).unwrap();
    assert_eq!(table.lines().filter(|l| l.starts_with("key,")).count(), 1, "{table}");
    assert_eq!(table.lines().filter(|l| l.starts_with("file,")).count(), 2, "{table}");
}

/// `clinical csv` shares the table with deid and refuses it under another key the same way.
#[test]
fn linkage_table_of_another_key_is_refused_by_the_clinical_commands_too() {
    let wd = Workdir::new("linkage_table_of_another_key_is_refused_by_the_clinical_commands_too");
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--linkage", "link.csv"]).assert_code(0);
    let before = std::fs::read(wd.path("link.csv")).unwrap();
    std::fs::write(wd.path("labs.csv"), "patient_id,value\n0012345678,1\n").unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvalue = \"keep\"\n").unwrap();
    let other = key(&wd, "other.key", 8);
    let run = wd.kamei([
        "clinical",
        "csv",
        "labs.csv",
        "-o",
        "clin",
        "--key",
        other.to_str().unwrap(),
        "--columns",
        "cols.toml",
        "--linkage",
        "link.csv",
        "-q",
    ]);
    run.assert_code(2);
    assert!(run.stderr().contains("another key"), "{}", run.stderr());
    assert_eq!(std::fs::read(wd.path("link.csv")).unwrap(), before);
}

#[test]
fn linkage_table_has_no_patient_row_for_files_without_a_patient_id() {
    let wd = Workdir::new("linkage_table_has_no_patient_row_for_files_without_a_patient_id");
    // Each takes its pseudonym from its own study: an empty original would read like a rule.
    Fixture::ct(
        "",
        "1.2.826.0.1.3680043.8.498.91",
        "1.2.826.0.1.3680043.8.498.91.1",
        "1.2.826.0.1.3680043.8.498.91.1.1",
    )
    .write(&wd.path("in/empty.dcm"));
    Fixture::ct(
        "x",
        "1.2.826.0.1.3680043.8.498.92",
        "1.2.826.0.1.3680043.8.498.92.1",
        "1.2.826.0.1.3680043.8.498.92.1.1",
    )
    .remove(tags::PATIENT_ID)
    .write(&wd.path("in/absent.dcm"));
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--linkage", "link.csv"]).assert_code(0);
    let table = std::fs::read_to_string(wd.path("link.csv")).unwrap();
    let patients: Vec<&str> = table.lines().filter(|l| l.starts_with("patient,")).collect();
    assert_eq!(patients.len(), 1, "{table}");
    assert!(patients[0].starts_with(&format!("patient,{CANARY_ID},")), "{table}");
    assert_eq!(table.lines().filter(|l| l.starts_with("file,")).count(), 3, "every file still has its row: {table}");
}

/// A file name in Shift_JIS (copied from an old Windows share) is not UTF-8: the linkage row
/// holds its own bytes, so it leads back to that file.
#[cfg(unix)]
#[test]
fn linkage_table_keeps_a_non_utf8_input_name_as_its_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let wd = Workdir::new("linkage_table_keeps_a_non_utf8_input_name_as_its_bytes");
    let name = std::ffi::OsStr::from_bytes(b"\x8a\xb3\x8e\xd2.dcm");
    ct(1).write(&wd.path("in").join(name));
    deid(&wd, &["--linkage", "link.csv"]).assert_code(0);
    let table = std::fs::read(wd.path("link.csv")).unwrap();
    let row: &[u8] = b"file,in/\x8a\xb3\x8e\xd2.dcm,";
    assert!(table.windows(row.len()).any(|w| w == row), "{}", String::from_utf8_lossy(&table));
}

#[test]
fn anonymized_rerun_into_the_same_out_is_refused() {
    let wd = Workdir::new("anonymized_rerun_into_the_same_out_is_refused");
    ct(1).write(&wd.path("in/a.dcm"));
    wd.kamei(["deid", "in", "-o", "out", "-q"]).assert_code(0);
    let run = wd.kamei(["deid", "in", "-o", "out", "-q"]);
    run.assert_code(2);
    assert!(run.stderr().contains("anonymized"), "{}", run.stderr());
}

#[test]
fn dry_run_writes_nothing() {
    let wd = Workdir::new("dry_run_writes_nothing");
    ct(1).write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &["--dry-run"]);
    run.assert_code(0);
    assert!(!wd.path("out").exists());
}

#[test]
fn dry_run_refuses_an_out_written_with_other_settings() {
    let wd = Workdir::new("dry_run_refuses_an_out_written_with_other_settings");
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let other = key(&wd, "other.key", 9);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", other.to_str().unwrap(), "--dry-run", "-q"]);
    run.assert_code(2);
    assert!(run.stderr().contains("key"), "{}", run.stderr());
}

#[test]
fn dry_run_counts_finished_work_as_done_earlier() {
    let wd = Workdir::new("dry_run_counts_finished_work_as_done_earlier");
    ct(1).write(&wd.path("in/a.dcm"));
    ct(2).write(&wd.path("in/b.dcm"));
    deid(&wd, &[]).assert_code(0);
    ct(3).write(&wd.path("in/c.dcm"));
    let audit_before = std::fs::read(wd.path("out/kamei-audit.jsonl")).unwrap();
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--dry-run"]);
    run.assert_code(0);
    assert!(run.stderr().contains("1 would write, 0 already present, 2 done earlier"), "{}", run.stderr());
    assert_eq!(std::fs::read(wd.path("out/kamei-audit.jsonl")).unwrap(), audit_before);
    assert_eq!(wd.dicom_outputs("out").len(), 2);
}

#[test]
fn dry_run_counts_an_identical_output_without_audit_line_as_present() {
    let wd = Workdir::new("dry_run_counts_an_identical_output_without_audit_line_as_present");
    ct(1).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    std::fs::remove_file(wd.path("out/kamei-audit.jsonl")).unwrap();
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--dry-run"]);
    run.assert_code(0);
    assert!(run.stderr().contains("0 would write, 1 already present"), "{}", run.stderr());
}

/// An Explicit VR LE item of defined length holding a reference (class, instance) and the
/// patient's name and ID: what some toolkits put in a UN sequence instead of Implicit VR.
fn explicit_reference_item(referenced: &str) -> Vec<u8> {
    use crate::util::bytes::{even, explicit_le, item_tag};
    let mut body = explicit_le((0x0008, 0x1150), b"UI", &even("1.2.840.10008.5.1.4.1.1.2", 0));
    body.extend(explicit_le((0x0008, 0x1155), b"UI", &even(referenced, 0)));
    body.extend(explicit_le((0x0010, 0x0010), b"PN", &even(CANARY_NAME, b' ')));
    body.extend(explicit_le((0x0010, 0x0020), b"LO", &even(CANARY_ID, b' ')));
    let mut v = item_tag(0xE000, body.len() as u32);
    v.extend(body);
    v
}

/// A hand-built CT instance with `group_0008` placed after SOP Instance UID (elements of
/// group 0008 above (0008,0018), in tag order).
fn instance_with_0008(wd: &Workdir, sop: &str, group_0008: &[u8]) {
    use crate::util::bytes::{even, explicit_le, part10};
    let class = "1.2.840.10008.5.1.4.1.1.2";
    let mut body = explicit_le((0x0008, 0x0016), b"UI", &even(class, 0));
    body.extend(explicit_le((0x0008, 0x0018), b"UI", &even(sop, 0)));
    body.extend_from_slice(group_0008);
    body.extend(explicit_le((0x0010, 0x0010), b"PN", &even(CANARY_NAME, b' ')));
    body.extend(explicit_le((0x0010, 0x0020), b"LO", &even(CANARY_ID, b' ')));
    body.extend(explicit_le((0x0020, 0x000D), b"UI", &even(STUDY, 0)));
    body.extend(explicit_le((0x0020, 0x000E), b"UI", &even(SERIES, 0)));
    body.extend(crate::util::bytes::pixel_module());
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/a.dcm"), part10("1.2.840.10008.1.2.1", class, sop, &body)).unwrap();
}

#[test]
fn un_sequence_with_explicit_vr_items_is_planned_like_a_sequence() {
    use crate::util::bytes::explicit_le;
    let wd = Workdir::new("un_sequence_with_explicit_vr_items_is_planned_like_a_sequence");
    let referenced = "1.2.826.0.1.3680043.8.498.1.77";
    let un = explicit_le((0x0008, 0x1140), b"UN", &explicit_reference_item(referenced));
    instance_with_0008(&wd, &format!("{SERIES}.1"), &un);
    let run = deid(&wd, &[]);
    run.assert_code(0);
    let out = only_output(&wd);
    let mapped = raw_in_item(&out, tags::REFERENCED_IMAGE_SEQUENCE, 0, tags::REFERENCED_SOP_INSTANCE_UID).unwrap();
    assert_eq!(String::from_utf8_lossy(&mapped).trim_end_matches('\0'), pseudonymizer(7).uid(referenced));
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID, referenced]);
}

#[test]
fn un_sequence_that_cannot_be_read_as_items_is_removed_and_noted() {
    use crate::util::bytes::explicit_le;
    let wd = Workdir::new("un_sequence_that_cannot_be_read_as_items_is_removed_and_noted");
    let referenced = "1.2.826.0.1.3680043.8.498.1.78";
    // Anatomic Region Sequence (unlisted: kept) as UN, with bytes after its one item.
    let mut value = explicit_reference_item(referenced);
    value.extend_from_slice(b"JUNK");
    let un = explicit_le((0x0008, 0x2218), b"UN", &value);
    instance_with_0008(&wd, &format!("{SERIES}.1"), &un);
    let run = deid(&wd, &[]);
    run.assert_code(0);
    let out = only_output(&wd);
    assert!(open(&out).element_opt(tags::ANATOMIC_REGION_SEQUENCE).unwrap().is_none(), "removed");
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(0008,2218)") && notes.contains("removed"), "{notes}");
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID, referenced]);
}

#[test]
fn unlisted_code_string_holding_the_patient_id_gets_a_dummy_and_a_true_note() {
    let wd = Workdir::new("unlisted_code_string_holding_the_patient_id_gets_a_dummy_and_a_true_note");
    // Body Part Examined (unlisted: kept) holding the patient's ID: CS cannot hold `***`.
    ct(1).put(str_el(tags::BODY_PART_EXAMINED, dicom_core::VR::CS, CANARY_ID)).write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(0);
    let obj = open(&only_output(&wd));
    assert_eq!(text(&obj, tags::BODY_PART_EXAMINED).as_deref(), Some("ANONYMIZED"));
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(0018,0015)") && notes.contains("replaced by a dummy"), "{notes}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn kept_values_holding_the_id_as_people_type_it_or_the_birth_date_as_six_digits_are_scrubbed() {
    let wd = Workdir::new("kept_values_holding_the_id_as_people_type_it_or_the_birth_date_as_six_digits_are_scrubbed");
    // Image ID and Manufacturer are unlisted (kept); the ID without its zero padding and the
    // birth date as YYMMDD are what Clean and verify also look for.
    Fixture::ct("0001234567", STUDY, SERIES, &format!("{SERIES}.1"))
        .put(str_el(tags::PATIENT_BIRTH_DATE, dicom_core::VR::DA, "19850315"))
        .put(str_el(tags::IMAGE_ID, dicom_core::VR::SH, "1234567"))
        .put(str_el(tags::MANUFACTURER, dicom_core::VR::LO, "ACME born 850315"))
        .write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = open(&only_output(&wd));
    assert_eq!(text(&obj, tags::IMAGE_ID).as_deref(), Some("***"));
    assert_eq!(text(&obj, tags::MANUFACTURER).as_deref(), Some("ACME born ***"));
}

#[test]
fn a_code_string_holding_the_name_or_a_date_joined_by_underscores_gets_a_dummy() {
    let wd = Workdir::new("a_code_string_holding_the_name_or_a_date_joined_by_underscores_gets_a_dummy");
    // Body Part Examined (unlisted: kept) and Content Label (a code string typed by people).
    for (i, value) in ["PATIENT_CANARY", "BORN_1970_01_01", "EXAM_2024_02_01"].into_iter().enumerate() {
        ct(i as u32 + 1)
            .put(str_el(tags::BODY_PART_EXAMINED, dicom_core::VR::CS, value))
            .write(&wd.path(&format!("in/{i}.dcm")));
    }
    deid(&wd, &["--option", "retain-long-modified-dates"]).assert_code(0);
    for out in wd.dicom_outputs("out") {
        assert_eq!(text(&open(&out), tags::BODY_PART_EXAMINED).as_deref(), Some("ANONYMIZED"));
    }
}

#[test]
fn unlisted_instance_uid_references_follow_the_new_uids() {
    let wd = Workdir::new("unlisted_instance_uid_references_follow_the_new_uids");
    let source = format!("{SERIES}.1");
    ct(1).write(&wd.path("in/a.dcm"));
    // (0008,1167) Multi-frame Source SOP Instance UID is newer than Table E.1-1.
    ct(2)
        .put(str_el(tags::MULTI_FRAME_SOURCE_SOP_INSTANCE_UID, dicom_core::VR::UI, &source))
        .write(&wd.path("in/b.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(0);
    let pseudo = pseudonymizer(7);
    let b = wd
        .dicom_outputs("out")
        .into_iter()
        .map(|p| open(&p))
        .find(|o| o.element_opt(tags::MULTI_FRAME_SOURCE_SOP_INSTANCE_UID).unwrap().is_some());
    let b = b.expect("the referencing file");
    assert_eq!(text(&b, tags::MULTI_FRAME_SOURCE_SOP_INSTANCE_UID), Some(pseudo.uid(&source)));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[source.as_str()]].concat());
}

#[test]
fn an_original_uid_written_in_unlisted_text_is_mapped() {
    let wd = Workdir::new("an_original_uid_written_in_unlisted_text_is_mapped");
    // Position Reference Indicator (unlisted: kept) naming an image of another study.
    let other = "1.2.826.0.1.3680043.8.498.99.5.1";
    ct(1)
        .put(str_el(tags::POSITION_REFERENCE_INDICATOR, dicom_core::VR::LO, &format!("see {other}")))
        .write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(0);
    let pseudo = pseudonymizer(7);
    let written: Vec<String> =
        wd.dicom_outputs("out").iter().filter_map(|p| text(&open(p), tags::POSITION_REFERENCE_INDICATOR)).collect();
    assert_eq!(written, [format!("see {}", pseudo.uid(other))]);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[other]].concat());
}

#[test]
fn duplicate_patient_id_with_another_value_fails_the_file_with_a_reason() {
    use crate::util::bytes::{even, explicit_le, part10};
    let wd = Workdir::new("duplicate_patient_id_with_another_value_fails_the_file_with_a_reason");
    let class = "1.2.840.10008.5.1.4.1.1.2";
    let sop = format!("{SERIES}.1");
    let mut body = explicit_le((0x0008, 0x0016), b"UI", &even(class, 0));
    body.extend(explicit_le((0x0008, 0x0018), b"UI", &even(&sop, 0)));
    body.extend(explicit_le((0x0010, 0x0010), b"PN", &even(CANARY_NAME, b' ')));
    body.extend(explicit_le((0x0010, 0x0020), b"LO", &even("CANARYFIRST", b' ')));
    body.extend(explicit_le((0x0010, 0x0020), b"LO", &even(CANARY_ID, b' ')));
    body.extend(explicit_le((0x0020, 0x000D), b"UI", &even(STUDY, 0)));
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/dup.dcm"), part10("1.2.840.10008.1.2.1", class, &sop, &body)).unwrap();
    ct(2).write(&wd.path("in/good.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(1);
    assert!(run.stderr().contains("two (0010,0020) elements"), "{}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 1, "only the good file is written");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARYFIRST"]].concat());
}

#[test]
fn a_birth_date_with_an_english_month_name_is_scrubbed_from_kept_text() {
    let wd = Workdir::new("a_birth_date_with_an_english_month_name_is_scrubbed_from_kept_text");
    let spellings = ["15-MAR-1985", "Mar 15, 1985", "15 march 1985", "1985-Mar-15", "1985.3.15"];
    for (i, s) in spellings.iter().enumerate() {
        ct(i as u32)
            .put(str_el(tags::PATIENT_BIRTH_DATE, dicom_core::VR::DA, "19850315"))
            .put(str_el(
                tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP,
                dicom_core::VR::LT,
                &format!("DOB {s} checked"),
            ))
            .write(&wd.path(&format!("in/{i}.dcm")));
    }
    deid(&wd, &[]).assert_code(0);
    let outs = wd.dicom_outputs("out");
    assert_eq!(outs.len(), spellings.len());
    for out in outs {
        let comment = raw(&out, tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP).unwrap();
        assert_eq!(String::from_utf8(comment).unwrap().trim_end(), "DOB *** checked");
    }
}

/// `kamei deid ARGS... -o out` with a fixed key (pseudonymized) or none (anonymized).
fn deid_inputs(wd: &Workdir, inputs: &[&str], keyed: bool) -> Run {
    let k = key(wd, "k.key", 7);
    let mut args = vec!["deid"];
    args.extend_from_slice(inputs);
    args.extend(["-o", "out"]);
    if keyed {
        args.extend(["--key", k.to_str().unwrap()]);
    }
    wd.kamei(args)
}

/// The audit's input records as (outcome, notes).
fn outcomes(wd: &Workdir) -> Vec<(String, Vec<String>)> {
    wd.audit("out")
        .iter()
        .map(|r| {
            let notes = r["notes"].as_array().map(|n| n.iter().map(|s| s.as_str().unwrap().to_string()).collect());
            (r["outcome"].as_str().unwrap().to_string(), notes.unwrap_or_default())
        })
        .collect()
}

#[test]
fn an_input_given_twice_is_processed_once_and_audited_as_written() {
    let wd = Workdir::new("an_input_given_twice_is_processed_once_and_audited_as_written");
    ct(1).write(&wd.path("in/a.dcm"));
    let run = deid_inputs(&wd, &["in/a.dcm", "in/a.dcm"], true);
    run.assert_code(0);
    assert_eq!(
        outcomes(&wd),
        [("written".to_string(), vec!["named by 2 input paths (the same file); processed once".to_string()])]
    );
    assert!(
        run.stderr().contains("1 inputs") && run.stderr().contains("1 duplicate input paths dropped"),
        "{}",
        run.stderr()
    );
    assert_eq!(wd.dicom_outputs("out").len(), 1);
}

#[test]
fn a_file_given_beside_the_folder_that_holds_it_is_processed_once() {
    let wd = Workdir::new("a_file_given_beside_the_folder_that_holds_it_is_processed_once");
    ct(1).write(&wd.path("in/sub/a.dcm"));
    ct(2).write(&wd.path("in/b.dcm"));
    let run = deid_inputs(&wd, &["in", "in/sub/a.dcm"], true);
    run.assert_code(0);
    let mut got = outcomes(&wd);
    got.sort();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|(o, _)| o == "written"), "{got:?}");
    assert_eq!(got.iter().filter(|(_, n)| n.iter().any(|n| n.starts_with("named by 2 input paths"))).count(), 1);
    assert!(
        run.stderr().contains("2 inputs") && run.stderr().contains("1 duplicate input paths dropped"),
        "{}",
        run.stderr()
    );
}

#[test]
fn two_copies_of_one_file_in_anonymized_mode_leave_a_written_record() {
    let wd = Workdir::new("two_copies_of_one_file_in_anonymized_mode_leave_a_written_record");
    ct(1).write(&wd.path("in/a.dcm"));
    std::fs::copy(wd.path("in/a.dcm"), wd.path("in/b.dcm")).unwrap();
    let run = deid_inputs(&wd, &["in"], false);
    run.assert_code(0);
    assert!(run.stderr().contains("1 written, 1 already present"), "{}", run.stderr());
    assert_eq!(outcomes(&wd), [("written".to_string(), vec![])], "one record per content in anonymized mode");
}

/// Run deid on `in` into `out` with the summary (no `-q`).
fn deid_loud(wd: &Workdir) -> Run {
    let k = key(wd, "k.key", 7);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap()])
}

#[test]
fn a_patient_id_seen_with_several_issuers_is_warned_about_by_count() {
    let wd = Workdir::new("a_patient_id_seen_with_several_issuers_is_warned_about_by_count");
    // rv20 suspect 1: two hospitals' patients with one local ID share one pseudonym.
    let issued = |n: u32, issuer: &str| {
        Fixture::ct("PIDISSUED77", &format!("{STUDY}.{n}"), &format!("{STUDY}.{n}.1"), &format!("{STUDY}.{n}.1.1"))
            .put(str_el(tags::ISSUER_OF_PATIENT_ID, dicom_core::VR::LO, issuer))
    };
    issued(1, "HOSP_A").write(&wd.path("in/a.dcm"));
    issued(2, "HOSP_B").write(&wd.path("in/b.dcm"));
    issued(3, "HOSP_A").write(&wd.path("in/c.dcm"));
    // Another patient with one issuer, and one without any: neither counts.
    Fixture::ct("PIDSINGLE", &format!("{STUDY}.4"), &format!("{STUDY}.4.1"), &format!("{STUDY}.4.1.1"))
        .put(str_el(tags::ISSUER_OF_PATIENT_ID, dicom_core::VR::LO, "HOSP_A"))
        .write(&wd.path("in/d.dcm"));
    Fixture::ct("PIDSINGLE", &format!("{STUDY}.5"), &format!("{STUDY}.5.1"), &format!("{STUDY}.5.1.1"))
        .write(&wd.path("in/e.dcm"));
    let run = deid_loud(&wd);
    run.assert_code(0);
    let stderr = run.stderr();
    assert!(
        stderr.contains("warning: 1 Patient IDs were each seen with more than one Issuer of Patient ID"),
        "{stderr}"
    );
    for value in ["PIDISSUED77", "PIDSINGLE", "HOSP_A", "HOSP_B"] {
        assert!(!stderr.contains(value), "{value} printed: {stderr}");
    }
}

#[test]
fn one_issuer_per_patient_id_gives_no_issuer_warning() {
    let wd = Workdir::new("one_issuer_per_patient_id_gives_no_issuer_warning");
    ct(1).put(str_el(tags::ISSUER_OF_PATIENT_ID, dicom_core::VR::LO, "HOSP_A")).write(&wd.path("in/a.dcm"));
    ct(2).put(str_el(tags::ISSUER_OF_PATIENT_ID, dicom_core::VR::LO, "HOSP_A ")).write(&wd.path("in/b.dcm"));
    let run = deid_loud(&wd);
    run.assert_code(0);
    assert!(!run.stderr().contains("Issuer of Patient ID"), "{}", run.stderr());
}

#[test]
fn a_study_written_under_several_pseudonyms_is_warned_about_by_count() {
    let wd = Workdir::new("a_study_written_under_several_pseudonyms_is_warned_about_by_count");
    // rv20 suspect 3: one series of the study has the Patient ID, another (an SR from another
    // system) has none, and takes the study's own pseudonym.
    ct(1).write(&wd.path("in/a.dcm"));
    Fixture::ct("", STUDY, &format!("{STUDY}.7"), &format!("{STUDY}.7.1")).write(&wd.path("in/b.dcm"));
    let run = deid_loud(&wd);
    run.assert_code(0);
    let stderr = run.stderr();
    assert!(
        stderr.contains(
            "warning: 1 studies (Study Instance UIDs) were each written under more than one patient pseudonym"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains(STUDY), "no UID printed: {stderr}");
    let top: std::collections::BTreeSet<_> = wd
        .dicom_outputs("out")
        .iter()
        .map(|o| o.strip_prefix(wd.path("out")).unwrap().components().next().unwrap().as_os_str().to_owned())
        .collect();
    assert_eq!(top.len(), 2, "two patient folders: the split the warning counts");
}

#[test]
fn a_study_under_one_pseudonym_gives_no_split_warning() {
    let wd = Workdir::new("a_study_under_one_pseudonym_gives_no_split_warning");
    ct(1).write(&wd.path("in/a.dcm"));
    ct(2).write(&wd.path("in/b.dcm"));
    let run = deid_loud(&wd);
    run.assert_code(0);
    assert!(!run.stderr().contains("more than one patient pseudonym"), "{}", run.stderr());
}

#[test]
fn rv25_03_station_name_and_serial_number_in_kept_text_are_scrubbed() {
    let wd = Workdir::new("rv25_03_station_name_and_serial_number_in_kept_text_are_scrubbed");
    let description = "ran on CANARYSTATION sn CANARYSERIAL";
    ct(1).put(str_el(tags::CONTENT_DESCRIPTION, dicom_core::VR::LO, description)).write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::CONTENT_DESCRIPTION).as_deref(), Some("ran on *** sn ***"));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn rv25_03_a_station_name_kept_by_retain_device_identity_stays_in_kept_text() {
    let wd = Workdir::new("rv25_03_a_station_name_kept_by_retain_device_identity_stays_in_kept_text");
    let description = "ran on CANARYSTATION sn CANARYSERIAL";
    ct(1).put(str_el(tags::CONTENT_DESCRIPTION, dicom_core::VR::LO, description)).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--option", "retain-device-identity"]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::CONTENT_DESCRIPTION).as_deref(), Some(description));
}

#[test]
fn rv25_04_a_percent_encoded_name_in_a_kept_url_is_scrubbed_whole() {
    let wd = Workdir::new("rv25_04_a_percent_encoded_name_in_a_kept_url_is_scrubbed_whole");
    // CANARY^PATIENT, and 山田 (a name group) in UTF-8, percent-encoded.
    let url = "http://pacs.example/wado?name=CANARY%5EPATIENT&kanji=%E5%B1%B1%E7%94%B0&study=CT";
    ct(1)
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, dicom_core::VR::CS, "ISO_IR 192"))
        .put(str_el(tags::PATIENT_NAME, dicom_core::VR::PN, "CANARY^PATIENT=山田^太郎"))
        .put(str_el(tags::RETRIEVE_URL, dicom_core::VR::UR, url))
        .write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::RETRIEVE_URL).as_deref(), Some("http://pacs.example/wado?name=***&kanji=***&study=CT"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["%5EPATIENT", "%E5%B1%B1"]].concat());
}
