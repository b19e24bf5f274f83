//! `kamei verify`: finds planted leaks of each kind, reports none on clean output.

use crate::util::*;
use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use kamei::dataset::{DataSet, Element};
use kamei::read::{Opened, ReadOptions};
use std::path::Path;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.5";

/// A de-identified release of one Japanese-named patient, in `out`, from `in/YAMADA_HANAKO/`.
fn release(name: &str) -> Workdir {
    let wd = Workdir::new(name);
    let pn: &[u8] = b"Kakuu^Hanako=\x1b$B2M6u\x1b(B^\x1b$B2V;R\x1b(B=\x1b$B$+$/$&\x1b(B^\x1b$B$O$J$3\x1b(B";
    Fixture::ct("PID7654321", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"\\ISO 2022 IR 87 "))
        .put(raw_el(tags::PATIENT_NAME, VR::PN, pn))
        .put(str_el(tags::PATIENT_BIRTH_DATE, VR::DA, "19850315"))
        .write(&wd.path("in/YAMADA_HANAKO/a.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--linkage", "link.csv", "-q"]).assert_code(0);
    wd
}

fn verify(wd: &Workdir) -> Run {
    wd.kamei(["verify", "out", "--against", "in", "--report", "report.json"])
}

/// Edit the single output file in place (to plant a leak), as if the release had been made
/// so: the audit log records the new size and content hash.
fn plant(wd: &Workdir, edit: impl FnOnce(&mut DataSet)) {
    let size = edit_after_release(wd, edit);
    let sha = kamei::write::sha256_file(&wd.dicom_outputs("out")[0]).unwrap();
    let audit = std::fs::read_to_string(wd.path("out/kamei-audit.jsonl")).unwrap();
    let lines: Vec<String> = audit
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if let Some(bytes) = v.get_mut("output_bytes") {
                *bytes = size.into();
            }
            if let Some(hash) = v.get_mut("output_sha256") {
                *hash = sha.clone().into();
            }
            v.to_string()
        })
        .collect();
    std::fs::write(wd.path("out/kamei-audit.jsonl"), lines.join("\n") + "\n").unwrap();
}

/// Edit the single output file in place after the release was made (damage in copying);
/// returns its new size.
fn edit_after_release(wd: &Workdir, edit: impl FnOnce(&mut DataSet)) -> u64 {
    let path = wd.dicom_outputs("out").remove(0);
    let mut file = match kamei::read::open(&path, &ReadOptions::default()).unwrap() {
        Opened::Dicom(f) => f,
        other => panic!("{other:?}"),
    };
    edit(&mut file.dataset);
    let bytes = kamei::write::to_vec(&file, None).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    bytes.len() as u64
}

fn findings(run: &Run) -> Vec<Vec<String>> {
    run.stdout().lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

#[test]
fn clean_release_has_no_findings() {
    let wd = release("clean_release_has_no_findings");
    let run = verify(&wd);
    run.assert_code(0);
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    let via_linkage = wd.kamei(["verify", "out", "--linkage", "link.csv"]);
    via_linkage.assert_code(0);
}

#[test]
fn finds_a_name_left_in_a_description() {
    let wd = release("finds_a_name_left_in_a_description");
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"CT KAKUU FOLLOW UP ".to_vec())));
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(
        f.iter().any(|r| r[1] == "(0008,1030)" && r[2] == "residual-identifier" && r[3].contains("alphabetic")),
        "{f:?}"
    );
    assert!(!run.stdout().contains("KAKUU") && !run.stderr().contains("KAKUU"), "findings never print the value");
    let report = std::fs::read_to_string(wd.path("report.json")).unwrap();
    assert!(report.contains("kakuu"), "the sensitive report names the matched identifier");
}

#[test]
fn finds_a_name_split_over_the_values_of_a_code_string() {
    let wd = release("finds_a_name_split_over_the_values_of_a_code_string");
    plant(&wd, |ds| ds.put(Element::new(tags::IMAGE_TYPE, VR::CS, b"ORIGINAL\\PRIMARY\\KAKUU\\HANAKO".to_vec())));
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[1] == "(0008,0008)" && r[2] == "residual-identifier"), "{f:?}");
}

#[test]
fn finds_an_id_in_a_private_tag() {
    let wd = release("finds_an_id_in_a_private_tag");
    plant(&wd, |ds| {
        ds.put(Element::new(Tag(0x0009, 0x0010), VR::LO, b"ACME".to_vec()));
        ds.put(Element::new(Tag(0x0009, 0x1001), VR::LO, b"PID7654321".to_vec()));
    });
    let f = findings(&verify(&wd));
    assert!(
        f.iter().any(|r| r[1] == "(0009,1001)" && r[2] == "residual-identifier" && r[3].contains("Patient ID")),
        "{f:?}"
    );
    assert!(f.iter().any(|r| r[1] == "(0009,1001)" && r[2] == "private-not-allowed"), "{f:?}");
}

#[test]
fn finds_a_birth_date_in_a_nested_sequence() {
    let wd = release("finds_a_birth_date_in_a_nested_sequence");
    plant(&wd, |ds| {
        let inner = DataSet::from_elements([Element::new(tags::TEXT_VALUE, VR::UT, b"born 1985/03/15".to_vec())]);
        let outer = DataSet::from_elements([Element::sequence(tags::CONTENT_SEQUENCE, vec![inner])]);
        ds.put(Element::sequence(tags::CONTENT_SEQUENCE, vec![outer]));
    });
    let f = findings(&verify(&wd));
    let loc = "(0040,A730)[0]/(0040,A730)[0]/(0040,A160)";
    assert!(f.iter().any(|r| r[1] == loc && r[3].contains("Birth Date")), "{f:?}");
}

#[test]
fn finds_a_kanji_name_group() {
    let wd = release("finds_a_kanji_name_group");
    plant(&wd, |ds| {
        ds.put(Element::new(tags::REFERRING_PHYSICIAN_NAME, VR::PN, b"=\x1b$B2M6u\x1b(B^\x1b$B2V;R\x1b(B".to_vec()))
    });
    let f = findings(&verify(&wd));
    assert!(f.iter().any(|r| r[1] == "(0008,0090)" && r[3].contains("ideographic")), "{f:?}");
}

#[test]
fn finds_a_leaked_path_name() {
    let wd = release("finds_a_leaked_path_name");
    let out = wd.dicom_outputs("out").remove(0);
    let leaked = out.parent().unwrap().join("YAMADA_HANAKO.dcm");
    std::fs::rename(&out, &leaked).unwrap();
    let f = findings(&verify(&wd));
    assert!(f.iter().any(|r| r[0].ends_with("/***") && r[1] == "file name"), "{f:?}");
    let report = std::fs::read_to_string(wd.path("report.json")).unwrap();
    assert!(report.contains("YAMADA_HANAKO.dcm"), "the sensitive report names the file: {report}");
}

#[test]
fn finds_attributes_the_profile_removes_and_missing_markers() {
    let wd = release("finds_attributes_the_profile_removes_and_missing_markers");
    plant(&wd, |ds| {
        ds.put(Element::new(tags::PATIENT_ADDRESS, VR::LO, b"SOMEWHERE".to_vec()));
        ds.remove(tags::PATIENT_IDENTITY_REMOVED);
    });
    let f = findings(&verify(&wd));
    assert!(f.iter().any(|r| r[1] == "(0010,1040)" && r[2] == "not-allowed"), "{f:?}");
    assert!(f.iter().any(|r| r[2] == "marker"), "{f:?}");
}

#[test]
fn finds_a_basic_profile_claim_under_a_profile_that_departs_from_the_table() {
    let wd = release("finds_a_basic_profile_claim_under_a_profile_that_departs_from_the_table");
    let profile = wd.path("loose.toml");
    std::fs::write(&profile, "[overrides]\nStudyDescription = \"keep\"\n").unwrap();
    let run = wd.kamei(["verify", "out", "--profile", profile.to_str().unwrap()]);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[2] == "marker" && r[3].contains("claims 113100")), "{f:?}");
}

#[test]
fn finds_an_unlisted_uid_left_unmapped() {
    let wd = release("finds_an_unlisted_uid_left_unmapped");
    plant(&wd, |ds| {
        ds.put(Element::new(tags::TABLE_FRAME_OF_REFERENCE_UID, VR::UI, format!("{STUDY}.7\0").into_bytes()))
    });
    let f = findings(&verify(&wd));
    assert!(f.iter().any(|r| r[1] == "(0020,9313)" && r[2] == "not-replaced"), "{f:?}");
}

#[test]
fn a_dicom_defined_uid_in_an_unlisted_attribute_is_no_finding() {
    let wd = release("a_dicom_defined_uid_in_an_unlisted_attribute_is_no_finding");
    plant(&wd, |ds| {
        ds.put(Element::new(tags::TABLE_FRAME_OF_REFERENCE_UID, VR::UI, b"1.2.840.10008.1.4.1.1\0".to_vec()))
    });
    let run = verify(&wd);
    run.assert_code(0);
}

#[test]
fn unlisted_uids_deid_maps_pass_verify() {
    let wd = Workdir::new("unlisted_uids_deid_maps_pass_verify");
    Fixture::ct("P1", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(tags::TABLE_FRAME_OF_REFERENCE_UID, VR::UI, &format!("{STUDY}.7")))
        .write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
    let run = verify(&wd);
    assert!(!run.stdout().contains("not-replaced"), "{}", run.stdout());
}

#[test]
fn a_strict_release_passes_a_strict_verify() {
    let wd = Workdir::new("a_strict_release_passes_a_strict_verify");
    Fixture::ct("P1", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1")).write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--strict", "-q"]).assert_code(0);
    let run = wd.kamei(["verify", "out", "--against", "in", "--strict"]);
    assert_eq!(run.stdout(), "", "the method code sequence's codes are kamei's markers");
    run.assert_code(0);
}

#[test]
fn finds_a_name_whatever_joins_its_parts() {
    let wd = release("finds_a_name_whatever_joins_its_parts");
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"HANAKO_KAKUU ".to_vec())));
    let f = findings(&verify(&wd));
    assert!(f.iter().any(|r| r[1] == "(0008,1030)" && r[3].contains("alphabetic")), "{f:?}");
}

#[test]
fn a_path_holding_an_identifier_is_masked_in_findings_and_kept_in_the_report() {
    let wd = Workdir::new("a_path_holding_an_identifier_is_masked_in_findings_and_kept_in_the_report");
    Fixture::ct("PID7654321", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(raw_el(tags::PATIENT_NAME, VR::PN, b"KAKUU^HANAKO"))
        .write(&wd.path("in/KAKUU_HANAKO/a.dcm"));
    Fixture::ct("PID7654322", STUDY, &format!("{STUDY}.2"), &format!("{STUDY}.2.1")).write(&wd.path("in/other/b.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--layout", "mirror", "-q"]).assert_code(0);
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[0] == "***/a.dcm" && r[1] == "file name"), "{f:?}");
    assert!(!run.stdout().to_lowercase().contains("kakuu"), "{}", run.stdout());
    let report = std::fs::read_to_string(wd.path("report.json")).unwrap();
    assert!(report.contains("\"path\": \"KAKUU_HANAKO/a.dcm\""), "{report}");
}

#[test]
fn a_word_the_input_also_uses_as_its_manufacturer_is_no_finding() {
    let wd = Workdir::new("a_word_the_input_also_uses_as_its_manufacturer_is_no_finding");
    Fixture::ct("PID7654321", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(tags::MANUFACTURER, VR::LO, "ACMEVENDOR"))
        .put(str_el(tags::INSTITUTION_NAME, VR::LO, "ACMEVENDOR"))
        .write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
    let run = verify(&wd);
    assert!(!run.stdout().contains("residual-identifier"), "{}", run.stdout());
}

#[test]
fn a_temporary_file_left_by_an_interrupted_run_is_a_finding() {
    let wd = release("a_temporary_file_left_by_an_interrupted_run_is_a_finding");
    std::fs::create_dir_all(wd.path("out/.kamei-partial/whole")).unwrap();
    std::fs::write(wd.path("out/.kamei-partial/whole/.kamei-abc.part"), b"DICM").unwrap();
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[0] == ".kamei-partial/whole/.kamei-abc.part" && r[2] == "unfinished"), "{f:?}");
}

#[test]
fn a_symbolic_link_in_the_release_is_a_finding_even_to_an_original() {
    let wd = release("a_symbolic_link_in_the_release_is_a_finding_even_to_an_original");
    std::os::unix::fs::symlink(wd.path("in/YAMADA_HANAKO/a.dcm"), wd.path("out/extra.dcm")).unwrap();
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[0] == "extra.dcm" && r[2] == "not-regular"), "{f:?}");
}

#[test]
fn an_input_the_release_never_processed_is_a_finding() {
    let wd = release("an_input_the_release_never_processed_is_a_finding");
    Fixture::ct("PID7654399", STUDY, &format!("{STUDY}.9"), &format!("{STUDY}.9.1")).write(&wd.path("in/late/b.dcm"));
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[0].starts_with("input sha256:") && r[2] == "not-processed"), "{f:?}");
    assert!(!run.stdout().contains("late"), "inputs are named by hash, not path");
}

#[test]
fn lists_images_that_may_carry_burned_in_text() {
    let wd = Workdir::new("lists_images_that_may_carry_burned_in_text");
    Fixture::ct("P1", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.2"))
        .put(str_el(tags::MODALITY, VR::CS, "US"))
        .write(&wd.path("in/us.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
    let run = wd.kamei(["verify", "out"]);
    run.assert_code(1);
    assert!(findings(&run).iter().any(|r| r[2] == "pixels-not-cleaned"), "{}", run.stdout());
}

/// An angiography image whose modality says otherwise: deid selects it by its SOP class, and
/// verify must too (it used a shorter list of its own).
#[test]
fn lists_an_uncleaned_image_of_an_annotated_sop_class_whatever_its_modality() {
    let wd = Workdir::new("lists_an_uncleaned_image_of_an_annotated_sop_class_whatever_its_modality");
    Fixture::ct("P1", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.3"))
        .put(str_el(tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.12.1"))
        .write(&wd.path("in/xa.dcm"));
    let k = key(&wd, "k.key", 5);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap()]);
    run.assert_code(0);
    assert!(run.stderr().contains("1 images may carry burned-in text"), "{}", run.stderr());
    let run = wd.kamei(["verify", "out"]);
    run.assert_code(1);
    assert!(findings(&run).iter().any(|r| r[2] == "pixels-not-cleaned"), "{}", run.stdout());
}

#[test]
fn report_inside_the_release_is_refused() {
    let wd = release("report_inside_the_release_is_refused");
    wd.kamei(["verify", "out", "--report", "out/report.json"]).assert_code(2);
    assert!(!Path::new(&wd.path("out/report.json")).exists());
}

#[test]
fn report_through_a_dangling_link_into_the_release_is_refused() {
    let wd = release("report_through_a_dangling_link_into_the_release_is_refused");
    std::os::unix::fs::symlink("out/report.json", wd.path("report.json")).unwrap();
    wd.kamei(["verify", "out", "--report", "report.json"]).assert_code(2);
    assert!(!Path::new(&wd.path("out/report.json")).exists());
}

/// A release of one CT whose private block `ACME` (kept by a user profile `keep.toml`) holds
/// an original UID in (0009,1001), stored as UN, in the transfer syntax `ts`. `deid` maps it;
/// `verify` with the same profile then has nothing to say about it.
fn release_with_private_uid(name: &str, ts: &str) -> Workdir {
    let wd = Workdir::new(name);
    Fixture::ct("P1", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(Tag(0x0009, 0x0010), VR::LO, "ACME"))
        .put(raw_el(Tag(0x0009, 0x1001), VR::UN, format!("{STUDY}.7\0").as_bytes()))
        .ts(ts)
        .write(&wd.path("in/a.dcm"));
    std::fs::write(wd.path("keep.toml"), "keep_private_creators = [\"ACME\"]\n").unwrap();
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--profile", "keep.toml", "-q"]).assert_code(0);
    let mapped = verify_kept(&wd);
    assert!(!mapped.stdout().contains("not-replaced"), "{}", mapped.stdout());
    wd
}

fn verify_kept(wd: &Workdir) -> Run {
    wd.kamei(["verify", "out", "--against", "in", "--profile", "keep.toml"])
}

#[test]
fn finds_an_original_uid_left_in_a_kept_private_value_of_unknown_type() {
    let wd = release_with_private_uid(
        "finds_an_original_uid_left_in_a_kept_private_value_of_unknown_type",
        "1.2.840.10008.1.2.1",
    );
    plant(&wd, |ds| ds.put(Element::new(Tag(0x0009, 0x1001), VR::UN, format!("{STUDY}.7\0").into_bytes())));
    let run = verify_kept(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[1] == "(0009,1001)" && r[2] == "not-replaced"), "{f:?}");
    assert!(!run.stdout().contains(STUDY) && !run.stderr().contains(STUDY), "findings never print the value");
    let without_against = wd.kamei(["verify", "out", "--profile", "keep.toml"]);
    assert!(findings(&without_against).iter().any(|r| r[1] == "(0009,1001)" && r[2] == "not-replaced"));
}

#[test]
fn finds_an_original_uid_left_in_a_kept_private_value_of_an_implicit_vr_file() {
    let wd = release_with_private_uid(
        "finds_an_original_uid_left_in_a_kept_private_value_of_an_implicit_vr_file",
        "1.2.840.10008.1.2",
    );
    plant(&wd, |ds| ds.put(Element::new(Tag(0x0009, 0x1001), VR::OB, format!("{STUDY}.7\0").into_bytes())));
    let f = findings(&verify_kept(&wd));
    assert!(f.iter().any(|r| r[1] == "(0009,1001)" && r[2] == "not-replaced"), "{f:?}");
}

#[test]
fn finds_an_original_uid_written_in_text() {
    let wd = release("finds_an_original_uid_written_in_text");
    // Position Reference Indicator: unlisted, so kept as it is.
    plant(&wd, |ds| {
        ds.put(Element::new(tags::POSITION_REFERENCE_INDICATOR, VR::LO, format!("prior {STUDY}.1.1 ").into_bytes()))
    });
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(
        f.iter().any(|r| r[1] == "(0020,1040)" && r[2] == "residual-identifier" && r[3] == "contains an original UID"),
        "{f:?}"
    );
    assert!(!run.stdout().contains(STUDY) && !run.stderr().contains(STUDY), "findings never print the value");
}

#[test]
fn an_original_uid_is_no_residual_identifier_under_retain_uids() {
    let wd = release("an_original_uid_is_no_residual_identifier_under_retain_uids");
    plant(&wd, |ds| {
        ds.put(Element::new(tags::POSITION_REFERENCE_INDICATOR, VR::LO, format!("prior {STUDY}.1.1 ").into_bytes()))
    });
    let with_uids = verify(&wd);
    assert!(findings(&with_uids).iter().any(|r| r[1] == "(0020,1040)"), "{}", with_uids.stdout());
    let run = wd.kamei(["verify", "out", "--against", "in", "--option", "retain-uids"]);
    assert!(!findings(&run).iter().any(|r| r[1] == "(0020,1040)"), "{}", run.stdout());
}

#[test]
fn values_the_release_options_keep_are_no_finding() {
    let wd = Workdir::new("values_the_release_options_keep_are_no_finding");
    Fixture::ct("PID7654321", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(tags::INSTITUTIONAL_DEPARTMENT_NAME, VR::LO, "CANARY RADIOLOGY"))
        // A name with no part in the kept values (the fixture's is CANARY^PATIENT).
        .put(str_el(tags::PATIENT_NAME, VR::PN, "KAKUU^HANAKO"))
        .write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 5);
    let options = ["--option", "retain-institution-identity", "--option", "retain-device-identity"];
    wd.kamei([&["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"][..], &options].concat()).assert_code(0);
    let run = verify(&wd);
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    run.assert_code(0);
    // The same values in a release whose options do not keep them are found.
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"CANARY HOSPITAL CANARYSTATION".to_vec())));
    let elsewhere = wd.kamei(["verify", "out", "--against", "in", "--profile", "basic"]);
    let f = findings(&elsewhere);
    assert!(f.iter().any(|r| r[1] == "(0008,1030)" && r[3].contains("Institution Name")), "{f:?}");
    assert!(f.iter().any(|r| r[1] == "(0008,1030)" && r[3].contains("Station Name")), "{f:?}");
}

#[test]
fn a_count_or_version_holding_the_digits_of_the_id_is_no_finding() {
    // rv10 09: deid keeps these (a count that happens to match, a version's decimals), and
    // verify agrees.
    let wd = Workdir::new("a_count_or_version_holding_the_digits_of_the_id_is_no_finding");
    Fixture::ct("0000123456", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(tags::ACQUISITION_NUMBER, VR::IS, "123456"))
        .put(str_el(tags::SOFTWARE_VERSIONS, VR::LO, "V4.123456"))
        .put(str_el(tags::PATIENT_NAME, VR::PN, "KAKUU^HANAKO"))
        .write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
    let run = verify(&wd);
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    run.assert_code(0);
}

#[test]
fn a_number_or_version_in_a_kept_private_value_of_unknown_type_is_no_uid_finding() {
    let wd = release_with_private_uid(
        "a_number_or_version_in_a_kept_private_value_of_unknown_type_is_no_uid_finding",
        "1.2.840.10008.1.2.1",
    );
    for value in ["3.2.1", "12345678", "1.5\\2.5"] {
        plant(&wd, |ds| ds.put(Element::new(Tag(0x0009, 0x1001), VR::UN, value.as_bytes().to_vec())));
        let run = verify_kept(&wd);
        assert!(!run.stdout().contains("not-replaced"), "{value}: {}", run.stdout());
    }
}

#[test]
fn finds_a_name_without_its_accents_and_an_id_without_its_prefix() {
    let wd = Workdir::new("finds_a_name_without_its_accents_and_an_id_without_its_prefix");
    Fixture::ct("PID7788123", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(tags::PATIENT_NAME, VR::PN, "MÜLLER^JOSÉ"))
        .write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
    verify(&wd).assert_code(0);
    plant(&wd, |ds| {
        ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"CT Muller Jose".to_vec()));
        ds.put(Element::new(tags::SERIES_DESCRIPTION, VR::LO, b"ref 7788123 ".to_vec()));
    });
    let f = findings(&verify(&wd));
    assert!(f.iter().any(|r| r[1] == "(0008,1030)" && r[2] == "residual-identifier"), "{f:?}");
    assert!(f.iter().any(|r| r[1] == "(0008,103E)" && r[3].contains("Patient ID")), "{f:?}");
}

#[test]
fn finds_a_joined_given_name_and_an_address_in_any_spelling_clean_removes() {
    let wd = Workdir::new("finds_a_joined_given_name_and_an_address_in_any_spelling_clean_removes");
    let spellings = [
        (tags::STUDY_DESCRIPTION, "CT JeanPierre"),
        (tags::SERIES_DESCRIPTION, "ジャンピエールさん 登呂ハイツ202号室"),
        (tags::IMAGE_COMMENTS, "自宅 登呂一丁目三番五号にて転倒"),
    ];
    let mut fixture = Fixture::ct("PID7788123", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::PATIENT_NAME, VR::PN, "MARTIN^JEAN-PIERRE=マルタン^ジャン＝ピエール"))
        .put(str_el(tags::PATIENT_ADDRESS, VR::LO, "静岡県静岡市駿河区登呂１−３−５ 登呂ハイツ202"));
    for (tag, text) in spellings {
        let vr = if tag == tags::IMAGE_COMMENTS { VR::LT } else { VR::LO };
        fixture = fixture.put(str_el(tag, vr, text));
    }
    fixture.write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 5);
    let ks = k.to_str().unwrap();
    wd.kamei(["deid", "in", "-o", "out", "--key", ks, "-q", "--option", "clean-descriptors"]).assert_code(0);
    // Clean removed each spelling: the release passes.
    let clean = wd.kamei(["verify", "out", "--against", "in", "--option", "clean-descriptors"]);
    assert_eq!(clean.code(), 0, "{}", clean.stdout());
    // Left in a release, each is reported.
    plant(&wd, |ds| {
        for (tag, text) in spellings {
            let vr = if tag == tags::IMAGE_COMMENTS { VR::LT } else { VR::LO };
            ds.put(Element::new(tag, vr, text.as_bytes().to_vec()));
        }
    });
    let run = wd.kamei(["verify", "out", "--against", "in", "--option", "clean-descriptors"]);
    run.assert_code(1);
    let f = findings(&run);
    for loc in ["(0008,1030)", "(0008,103E)", "(0020,4000)"] {
        assert!(f.iter().any(|r| r[1] == loc && r[2] == "residual-identifier"), "{loc}: {f:?}");
    }
    assert!(f.iter().any(|r| r[1] == "(0020,4000)" && r[3].contains("Address")), "{f:?}");
}

/// The CP932 (Shift_JIS) bytes of `text`.
fn sjis(text: &str) -> Vec<u8> {
    encoding_rs::SHIFT_JIS.encode(text).0.into_owned()
}

/// A release of one patient whose name is `name` (raw bytes) in a file without (0008,0005).
fn release_without_charset(test: &str, name: &[u8], extra: Vec<Element>) -> Workdir {
    let wd = Workdir::new(test);
    let mut f = Fixture::ct("PID7654321", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .remove(tags::SPECIFIC_CHARACTER_SET)
        .put(raw_el(tags::PATIENT_NAME, VR::PN, name));
    for e in extra {
        f = f.put(raw_el(e.tag, e.vr, e.bytes().unwrap()));
    }
    f.write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    wd
}

#[test]
fn rv18_04_finds_a_shift_jis_name_written_in_the_inputs_own_bytes() {
    let name = sjis("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎");
    let wd = release_without_charset("rv18_04_finds_a_shift_jis_name_written_in_the_inputs_own_bytes", &name, vec![]);
    verify(&wd).assert_code(0);
    plant(&wd, |ds| ds.put(Element::new(tags::IMAGE_COMMENTS, VR::LT, sjis("ﾔﾏﾀﾞ ﾀﾛｳ"))));
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[1] == "(0020,4000)" && r[2] == "residual-identifier"), "{f:?}");
}

#[test]
fn rv18_06_a_kept_shift_jis_word_sharing_trail_bytes_with_the_name_is_no_finding() {
    // 審慶 (9052 8C63) and 山田 (8E52 9363) were both read as `\u{FFFD}R\u{FFFD}c`.
    let kept = Element::new(tags::SOFTWARE_VERSIONS, VR::LO, sjis("審慶版"));
    let wd = release_without_charset(
        "rv18_06_a_kept_shift_jis_word_sharing_trail_bytes_with_the_name_is_no_finding",
        &sjis("山田^太郎"),
        vec![kept],
    );
    assert_eq!(raw(&wd.dicom_outputs("out")[0], tags::SOFTWARE_VERSIONS).unwrap(), sjis("審慶版"));
    let run = verify(&wd);
    run.assert_code(0);
    // The name's own bytes, even among bytes valid in no reading, are found.
    plant(&wd, |ds| ds.put(Element::new(tags::SOFTWARE_VERSIONS, VR::LO, [&sjis("山田")[..], b"\x80 "].concat())));
    verify(&wd).assert_code(1);
}

#[test]
fn rv18_08_finds_a_greek_name_in_lower_case_with_final_sigma() {
    let wd = Workdir::new("rv18_08_finds_a_greek_name_in_lower_case_with_final_sigma");
    let greek = |s: &str| encoding_rs::ISO_8859_7.encode(s).0.into_owned();
    Fixture::ct("PID7654321", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"ISO_IR 126"))
        .put(raw_el(tags::PATIENT_NAME, VR::PN, &greek("ΠΑΠΑΔΟΠΟΥΛΟΣ^ΝΙΚΟΣ ")))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    verify(&wd).assert_code(0);
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, greek("Παπαδοπουλος CT"))));
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[1] == "(0008,1030)" && r[2] == "residual-identifier"), "{f:?}");
}

#[test]
fn rv21_12_a_shift_jis_folder_name_escaped_by_a_mirror_release_is_found_and_masked() {
    use std::os::unix::ffi::OsStrExt;
    let wd = Workdir::new("rv21_12_a_shift_jis_folder_name_escaped_by_a_mirror_release_is_found_and_masked");
    // The folder is named for someone the data set does not name: only the path says it.
    let folder = std::ffi::OsStr::from_bytes(&sjis("山田太郎")).to_os_string();
    let dir = Path::new(&wd.path("in")).join(&folder);
    Fixture::ct("PID7654321", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1")).write(&dir.join("a.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--layout", "mirror", "-q"]).assert_code(0);
    assert!(Path::new(&wd.path("out/%8ER%93c%91%BE%98Y/a.dcm")).exists());
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[0] == "***/a.dcm" && r[1] == "file name" && r[3].contains("path")), "{f:?}");
    assert!(f.iter().any(|r| r[0] == "kamei-audit.jsonl" && r[2] == "residual-identifier"), "{f:?}");
    assert!(!run.stdout().contains("%8E"), "the escaped name is masked too: {}", run.stdout());
}

#[test]
fn rv21_06_an_input_folder_name_in_a_value_is_found_against_the_inputs_and_the_linkage_table() {
    let wd = release("rv21_06_an_input_folder_name_in_a_value_is_found_against_the_inputs_and_the_linkage_table");
    std::fs::rename(wd.path("in/YAMADA_HANAKO"), wd.path("in/YAMADA_HANAKO_19850315")).unwrap();
    let link = std::fs::read_to_string(wd.path("link.csv")).unwrap().replace("YAMADA_HANAKO", "YAMADA_HANAKO_19850315");
    std::fs::write(wd.path("link.csv"), link).unwrap();
    plant(&wd, |ds| ds.put(Element::new(tags::MANUFACTURER, VR::LO, b"YAMADA_HANAKO_19850315 ".to_vec())));
    for run in [verify(&wd), wd.kamei(["verify", "out", "--linkage", "link.csv"])] {
        run.assert_code(1);
        let f = findings(&run);
        assert!(f.iter().any(|r| r[1] == "(0008,0070)" && r[3].contains("input path component")), "{f:?}");
    }
}

#[test]
fn rv21_06_a_folder_named_for_a_value_its_input_holds_is_no_finding() {
    let wd = Workdir::new("rv21_06_a_folder_named_for_a_value_its_input_holds_is_no_finding");
    // Exporters name folders for the study description, which clean-descriptors keeps.
    Fixture::ct("PID7654321", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .write(&wd.path("in/CT CHEST/a.dcm"));
    let k = key(&wd, "k.key", 5);
    let deid = ["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--option", "clean-descriptors", "--linkage"];
    wd.kamei(deid.into_iter().chain(["link.csv", "-q"])).assert_code(0);
    let run = verify(&wd);
    assert!(!run.stdout().contains("input path component"), "{}", run.stdout());
    let run = wd.kamei(["verify", "out", "--linkage", "link.csv"]);
    assert!(!run.stdout().contains("input path component"), "{}", run.stdout());
}

#[test]
fn rv21_04_a_release_without_its_audit_log_is_a_finding() {
    let wd = release("rv21_04_a_release_without_its_audit_log_is_a_finding");
    std::fs::remove_file(wd.path("out/kamei-audit.jsonl")).unwrap();
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[0] == "kamei-audit.jsonl" && r[2] == "not-processed"), "{f:?}");
}

#[test]
fn rv21_03_a_value_in_an_attribute_the_profile_removes_or_empties_is_a_finding() {
    let wd = release("rv21_03_a_value_in_an_attribute_the_profile_removes_or_empties_is_a_finding");
    plant(&wd, |ds| {
        ds.put(Element::new(tags::ACQUISITION_DATE, VR::DA, b"20240201".to_vec()));
        ds.put(Element::new(tags::REQUESTED_PROCEDURE_DESCRIPTION, VR::LO, b"Biopsy for Mr Suzuki".to_vec()));
    });
    let run = wd.kamei(["verify", "out"]);
    run.assert_code(1);
    let f = findings(&run);
    for tag in ["(0008,0022)", "(0032,1060)"] {
        assert!(f.iter().any(|r| r[1] == tag && r[2] == "not-empty"), "{tag}: {f:?}");
    }
    // What deid writes there (nothing) passes.
    plant(&wd, |ds| {
        ds.put(Element::new(tags::ACQUISITION_DATE, VR::DA, Vec::new()));
        ds.put(Element::new(tags::REQUESTED_PROCEDURE_DESCRIPTION, VR::LO, Vec::new()));
    });
    wd.kamei(["verify", "out"]).assert_code(0);
}

#[test]
fn rv21_10_an_existing_report_file_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let wd = release("rv21_10_an_existing_report_file_is_made_private");
    std::fs::write(wd.path("report.json"), b"{}").unwrap();
    std::fs::set_permissions(wd.path("report.json"), std::fs::Permissions::from_mode(0o644)).unwrap();
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"CT KAKUU".to_vec())));
    verify(&wd).assert_code(1);
    let mode = std::fs::metadata(wd.path("report.json")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn rv21_11_a_report_inside_an_input_folder_is_refused() {
    let wd = release("rv21_11_a_report_inside_an_input_folder_is_refused");
    wd.kamei(["verify", "out", "--against", "in", "--report", "in/YAMADA_HANAKO/r.json"]).assert_code(2);
    std::os::unix::fs::symlink("in/YAMADA_HANAKO/r2.json", wd.path("link.json")).unwrap();
    wd.kamei(["verify", "out", "--against", "in", "--report", "link.json"]).assert_code(2);
    assert_eq!(wd.files("in").len(), 1, "nothing is written into the input");
}

#[test]
fn rv21_an_output_the_audit_lists_that_is_missing_or_not_dicom_is_a_finding() {
    let wd = release("rv21_an_output_the_audit_lists_that_is_missing_or_not_dicom_is_a_finding");
    let out = wd.dicom_outputs("out").remove(0);
    let rel = out.strip_prefix(wd.path("out")).unwrap().to_string_lossy().into_owned();
    std::fs::write(&out, b"damaged in copying\n").unwrap();
    let f = findings(verify(&wd).assert_code(1));
    assert!(f.iter().any(|r| r[0] == rel && r[2] == "unreadable"), "{f:?}");
    std::fs::remove_file(&out).unwrap();
    let f = findings(verify(&wd).assert_code(1));
    assert!(f.iter().any(|r| r[0] == rel && r[2] == "missing-output"), "{f:?}");
}

#[test]
fn rv21_a_report_naming_the_key_or_the_linkage_table_is_refused_and_both_are_kept() {
    let wd = release("rv21_a_report_naming_the_key_or_the_linkage_table_is_refused_and_both_are_kept");
    let key_before = std::fs::read(wd.path("k.key")).unwrap();
    let table_before = std::fs::read(wd.path("link.csv")).unwrap();
    std::os::unix::fs::symlink("k.key", wd.path("key-link")).unwrap();
    for report in ["k.key", "key-link"] {
        let run = wd.kamei(["verify", "out", "--key", "k.key", "--linkage", "link.csv", "--report", report]);
        run.assert_code(2);
        assert!(run.stderr().contains("--report names the file given with --key"), "{}", run.stderr());
    }
    let run = wd.kamei(["verify", "out", "--linkage", "link.csv", "--report", "link.csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("--linkage"), "{}", run.stderr());
    assert_eq!(std::fs::read(wd.path("k.key")).unwrap(), key_before);
    assert_eq!(std::fs::read(wd.path("link.csv")).unwrap(), table_before);
}

/// A release of a patient named `PANCREAS^QUENTIN` whose input sends Body Part Examined
/// `PANCREAS` as UN (as the corpus file explicit_VR-UN.dcm does, of patient `PANCREAS_0001`).
fn release_with_a_code_sent_as_un(name: &str) -> Workdir {
    let wd = Workdir::new(name);
    Fixture::ct("PANCREAS_0001", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(tags::PATIENT_NAME, VR::PN, "PANCREAS^QUENTIN"))
        .put(raw_el(tags::BODY_PART_EXAMINED, VR::UN, b"PANCREAS"))
        .write(&wd.path("in/a.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
    wd
}

#[test]
fn a_name_word_the_input_sends_as_a_code_string_of_unknown_vr_is_no_finding() {
    let wd = release_with_a_code_sent_as_un("a_name_word_the_input_sends_as_a_code_string_of_unknown_vr_is_no_finding");
    let run = verify(&wd);
    assert!(!run.stdout().contains("residual-identifier"), "{}", run.stdout());
    run.assert_code(0);
}

#[test]
fn a_name_word_in_a_code_string_the_input_does_not_use_as_a_code_is_a_finding() {
    let wd =
        release_with_a_code_sent_as_un("a_name_word_in_a_code_string_the_input_does_not_use_as_a_code_is_a_finding");
    plant(&wd, |ds| ds.put(Element::new(tags::BODY_PART_EXAMINED, VR::CS, b"QUENTIN ".to_vec())));
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(f.iter().any(|r| r[1] == "(0018,0015)" && r[2] == "residual-identifier"), "{f:?}");
}

/// A release (with `retain-long-modified-dates`) of one Implicit VR CT whose private block
/// `ACME` (kept by `keep.toml`) holds, as UN, a date, a person's name and text naming an
/// original UID: what rv23 01, 02 and 04 fixed in deid. `verify` has nothing to say about it.
fn release_with_private_values_of_unknown_type(name: &str) -> Workdir {
    let wd = Workdir::new(name);
    Fixture::ct("P1", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(Tag(0x0009, 0x0010), VR::LO, "ACME"))
        .put(raw_el(Tag(0x0009, 0x1001), VR::UN, b"20210601"))
        .put(raw_el(Tag(0x0009, 0x1002), VR::UN, b"SATO^HANAKO "))
        .put(raw_el(Tag(0x0009, 0x1003), VR::UN, PRIVATE_TEXT_UID.as_bytes()))
        .ts("1.2.840.10008.1.2")
        .write(&wd.path("in/a.dcm"));
    std::fs::write(
        wd.path("keep.toml"),
        "options = [\"retain-long-modified-dates\"]\nkeep_private_creators = [\"ACME\"]\n",
    )
    .unwrap();
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--profile", "keep.toml", "-q"]).assert_code(0);
    let clean = verify_kept(&wd);
    assert_eq!(clean.stdout(), "", "deid's release passes");
    wd
}

/// Text naming an original UID (another image's), in a private value.
const PRIVATE_TEXT_UID: &str = "ref 1.2.392.200036.9116.2.5.1.48.1215567347.1480037.7 x";

#[test]
fn finds_an_unshifted_date_a_name_and_a_text_uid_in_kept_private_values_of_unknown_type() {
    let wd = release_with_private_values_of_unknown_type(
        "finds_an_unshifted_date_a_name_and_a_text_uid_in_kept_private_values_of_unknown_type",
    );
    // As deid released them before rv23 01, 02 and 04.
    plant(&wd, |ds| {
        ds.put(Element::new(Tag(0x0009, 0x1001), VR::UN, b"20210601".to_vec()));
        ds.put(Element::new(Tag(0x0009, 0x1002), VR::UN, b"SATO^HANAKO ".to_vec()));
        ds.put(Element::new(Tag(0x0009, 0x1003), VR::UN, PRIVATE_TEXT_UID.as_bytes().to_vec()));
    });
    let run = verify_kept(&wd);
    run.assert_code(1);
    let f = findings(&run);
    let found =
        |tag: &str, kind: &str| f.iter().any(|r| r[1] == tag && r[2] == "residual-identifier" && r[3].contains(kind));
    assert!(found("(0009,1001)", "date of a private attribute"), "{f:?}");
    assert!(found("(0009,1002)", "Person Name"), "{f:?}");
    assert!(found("(0009,1003)", "UID"), "{f:?}");
    for value in ["20210601", "SATO", "1215567347"] {
        assert!(!run.stdout().contains(value) && !run.stderr().contains(value), "{value} printed");
    }
}

#[test]
fn rv27_01_finds_a_value_holding_bytes_its_vr_does_not_allow() {
    let wd = release("rv27_01_finds_a_value_holding_bytes_its_vr_does_not_allow");
    // Manufacturer ran over a Patient's Name element that no input has (so no identifier of
    // the inputs matches): only its bytes tell.
    let mut swallowed = b"GE".to_vec();
    swallowed.extend([0x10, 0x00, 0x10, 0x00, b'P', b'N', 8, 0]);
    swallowed.extend(b"OTHER^PT");
    plant(&wd, |ds| {
        ds.put(Element::new(tags::MANUFACTURER, VR::LO, swallowed));
        ds.put(Element::new(tags::MODALITY, VR::CS, b"CT\0X".to_vec()));
    });
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(
        f.iter().any(|r| r[1] == "(0008,0070)" && r[2] == "damaged-value" && r[3].contains("element headers")),
        "{f:?}"
    );
    assert!(f.iter().any(|r| r[1] == "(0008,0060)" && r[2] == "damaged-value"), "{f:?}");
    assert!(!run.stdout().contains("OTHER"), "findings never print the value");
}

/// A release of one CT made from `fixture` (`in/a.dcm`, `deid` with `extra`), checked clean
/// first: the new checks report nothing on what `deid` wrote.
fn clean_release_of(name: &str, fixture: Fixture, extra: &[&str]) -> Workdir {
    let wd = Workdir::new(name);
    fixture.write(&wd.path("in/a.dcm"));
    wd.deid(extra).assert_code(0);
    let run = verify(&wd);
    assert!(run.stdout().is_empty(), "a clean release has no findings: {}", run.stdout());
    run.assert_code(0);
    wd
}

fn ct() -> Fixture {
    Fixture::ct("PID7654321", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
}

/// The details of the residual-identifier findings at `location`.
fn residuals_at(run: &Run, location: &str) -> Vec<String> {
    findings(run)
        .into_iter()
        .filter(|r| r[1] == location && r[2] == "residual-identifier")
        .map(|r| r[3].clone())
        .collect()
}

#[test]
fn finds_a_patient_id_sent_as_euc_jp_or_iso_2022_jp_in_its_plain_reading() {
    // `１２３４５６７` in EUC-JP and in JIS X 0208 after `ESC $ B`, in files declaring no set:
    // deid reads both as the ID 1234567 (its pseudonym, Clean).
    let euc: &[u8] = b"\xa3\xb1\xa3\xb2\xa3\xb3\xa3\xb4\xa3\xb5\xa3\xb6\xa3\xb7 ";
    let jis: &[u8] = b"\x1b$B#1#2#3#4#5#6#7\x1b(B ";
    for (name, id) in [("euc", euc), ("jis", jis)] {
        let fixture = ct().remove(tags::SPECIFIC_CHARACTER_SET).put(raw_el(tags::PATIENT_ID, VR::LO, id));
        let wd = clean_release_of(&format!("finds_a_patient_id_sent_as_{name}"), fixture, &[]);
        plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"ref 1234567 ".to_vec())));
        let run = verify(&wd);
        run.assert_code(1);
        assert!(residuals_at(&run, "(0008,1030)").iter().any(|d| d.contains("Patient ID")), "{name}: {}", run.stdout());
        assert!(!run.stdout().contains("1234567"), "findings never print the value");
    }
}

#[test]
fn finds_the_id_part_of_a_patient_id_in_hl7_cx_form() {
    let fixture = ct().put(str_el(tags::PATIENT_ID, VR::LO, "38271^^^HOSPA^MR"));
    let wd = clean_release_of("finds_the_id_part_of_a_patient_id_in_hl7_cx_form", fixture, &[]);
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"ref 38271 ".to_vec())));
    let run = verify(&wd);
    run.assert_code(1);
    assert!(residuals_at(&run, "(0008,1030)").iter().any(|d| d.contains("Patient ID")), "{}", run.stdout());
}

#[test]
fn finds_a_full_width_padded_patient_id_typed_without_its_padding() {
    let fixture = ct().put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192")).put(str_el(
        tags::PATIENT_ID,
        VR::LO,
        "０００７６５４３２１",
    ));
    let wd = clean_release_of("finds_a_full_width_padded_patient_id_typed_without_its_padding", fixture, &[]);
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"ref 7654321 ".to_vec())));
    let run = verify(&wd);
    assert!(residuals_at(&run, "(0008,1030)").iter().any(|d| d.contains("Patient ID")), "{}", run.stdout());
}

#[test]
fn finds_a_phone_number_written_in_its_international_form() {
    let fixture = ct().put(str_el(tags::PATIENT_TELEPHONE_NUMBERS, VR::SH, "03-1234-5678"));
    let wd = clean_release_of("finds_a_phone_number_written_in_its_international_form", fixture, &[]);
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"call +81 3 1234 5678 ".to_vec())));
    let run = verify(&wd);
    run.assert_code(1);
    assert!(residuals_at(&run, "(0008,1030)").iter().any(|d| d.contains("Telephone")), "{}", run.stdout());
}

#[test]
fn finds_a_phone_number_of_telecom_information() {
    let fixture = ct().put(str_el(tags::PATIENT_TELECOM_INFORMATION, VR::LT, "tel:03-1234-5678"));
    let wd = clean_release_of("finds_a_phone_number_of_telecom_information", fixture, &[]);
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"call (03)1234-5678 ".to_vec())));
    let run = verify(&wd);
    run.assert_code(1);
    assert!(residuals_at(&run, "(0008,1030)").iter().any(|d| d.contains("Telecom")), "{}", run.stdout());
}

#[test]
fn finds_a_real_exam_date_left_in_the_text_of_a_date_shifted_release() {
    // Descriptions holding the exam date (2024-02-01) in two spellings: deid shifts both.
    let fixture = ct()
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT 2024/02/01"))
        .put(str_el(tags::SERIES_DESCRIPTION, VR::LO, "令和6年2月1日 AXIAL"));
    let shifted = ["--option", "retain-long-modified-dates"];
    let wd = clean_release_of("finds_a_real_exam_date_left_in_the_text_of_a_date_shifted_release", fixture, &shifted);
    plant(&wd, |ds| ds.put(Element::new(tags::SERIES_DESCRIPTION, VR::LO, "令和6年2月1日 AXIAL".as_bytes().to_vec())));
    let run = verify(&wd);
    run.assert_code(1);
    let details = residuals_at(&run, "(0008,103E)");
    assert!(details.iter().any(|d| d.contains("Study Date")), "names the attribute: {}", run.stdout());
    assert!(!run.stdout().contains("2024") && !run.stdout().contains("令和"), "never the value");
}

#[test]
fn finds_a_real_exam_date_with_the_hour_glued_after_it() {
    let shifted = ["--option", "retain-long-modified-dates"];
    let fixture = ct().put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"));
    let wd = clean_release_of("finds_a_real_exam_date_with_the_hour_glued_after_it", fixture, &shifted);
    plant(&wd, |ds| {
        ds.put(Element::new(tags::SERIES_DESCRIPTION, VR::LO, "前回 2024年2月1日10時".as_bytes().to_vec()))
    });
    let run = verify(&wd);
    run.assert_code(1);
    assert!(residuals_at(&run, "(0008,103E)").iter().any(|d| d.contains("Study Date")), "{}", run.stdout());
}

#[test]
fn a_real_exam_date_is_no_finding_in_a_release_that_keeps_full_dates() {
    let fixture = ct().put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT 2024/02/01"));
    let full = ["--option", "retain-long-full-dates"];
    let wd = clean_release_of("a_real_exam_date_is_no_finding_in_a_release_that_keeps_full_dates", fixture, &full);
    plant(&wd, |ds| ds.put(Element::new(tags::SERIES_DESCRIPTION, VR::LO, b"seen 2024-02-01 ".to_vec())));
    assert!(residuals_at(&verify(&wd), "(0008,103E)").is_empty());
}

/// The release's single output, cut just before its Pixel Data element: the file still
/// parses, every element read is whole, and the data set simply ends.
fn cut_before_pixel_data(wd: &Workdir) {
    let path = wd.dicom_outputs("out").remove(0);
    let bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(4).rposition(|w| w == [0xE0, 0x7F, 0x10, 0x00]).expect("a Pixel Data element");
    std::fs::write(&path, &bytes[..at]).unwrap();
}

#[test]
fn an_image_cut_before_its_pixel_data_is_a_finding() {
    let wd = release("an_image_cut_before_its_pixel_data_is_a_finding");
    cut_before_pixel_data(&wd);
    let damaged =
        |run: &Run, location: &str| findings(run).iter().any(|r| r[1] == location && r[2] == "damaged-output");
    let run = verify(&wd);
    run.assert_code(1);
    assert!(damaged(&run, "(7FE0,0010)"), "an image without pixel data: {}", run.stdout());
    assert!(damaged(&run, "file"), "not the size the audit records: {}", run.stdout());
    // Without the inputs and without the audit log (a release copied without it), the image
    // alone tells: an image storage class with Rows, Columns and Bits Allocated, and no pixels.
    std::fs::remove_file(wd.path("out/kamei-audit.jsonl")).unwrap();
    let alone = wd.kamei(["verify", "out"]);
    alone.assert_code(1);
    assert!(damaged(&alone, "(7FE0,0010)"), "{}", alone.stdout());
}

#[test]
fn an_output_of_another_size_than_the_audit_records_is_a_finding() {
    let wd = release("an_output_of_another_size_than_the_audit_records_is_a_finding");
    // A value the profile keeps, made longer: the file stays a conforming output.
    edit_after_release(&wd, |ds| ds.put(Element::new(tags::PIXEL_SPACING, VR::DS, b"0.703125\\0.703125 ".to_vec())));
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0][1].as_str(), f[0][2].as_str()), ("file", "damaged-output"), "{f:?}");
    assert!(f[0][3].contains("where the audit log records"), "{f:?}");
}

#[test]
fn every_output_records_the_sha256_of_its_bytes() {
    let wd = release("every_output_records_the_sha256_of_its_bytes");
    let records = wd.audit("out");
    assert_eq!(records.len(), 1, "{records:?}");
    let output = wd.path("out").join(records[0]["output"].as_str().unwrap());
    assert_eq!(records[0]["output_sha256"].as_str(), Some(kamei::write::sha256_file(&output).unwrap().as_str()));
    let run = verify(&wd);
    run.assert_code(0);
    assert!(run.stderr().contains("1 outputs compared with the content hash"), "{}", run.stderr());
}

/// Damage that keeps the size (a flipped bit, a block of zeros a disk error left) passes the
/// size check and the parser: only the content hash tells.
#[test]
fn an_output_changed_without_a_change_of_size_is_a_finding() {
    let wd = release("an_output_changed_without_a_change_of_size_is_a_finding");
    let path = wd.dicom_outputs("out").remove(0);
    let whole = std::fs::read(&path).unwrap();
    let name = path.strip_prefix(wd.path("out")).unwrap().to_string_lossy().into_owned();
    let mut flipped = whole.clone();
    *flipped.last_mut().unwrap() ^= 0x01;
    let mut zeroed = whole.clone();
    let at = zeroed.len() - 64;
    zeroed[at..].fill(0);
    for (damage, bytes) in [("a flipped bit", flipped), ("a block of zeros", zeroed)] {
        std::fs::write(&path, &bytes).unwrap();
        let run = verify(&wd);
        run.assert_code(1);
        let f = findings(&run);
        assert_eq!(f.len(), 1, "{damage}: {f:?}");
        assert_eq!([f[0][0].as_str(), f[0][1].as_str(), f[0][2].as_str()], [name.as_str(), "file", "changed-output"]);
        assert!(f[0][3].contains("SHA-256 differs"), "{damage}: {f:?}");
    }
}

/// Rewrites OUT's audit log as an earlier kamei wrote it: its records without `fields`.
fn as_written_without(wd: &Workdir, fields: &[&str]) {
    let log = wd.path("out/kamei-audit.jsonl");
    let older: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            for field in fields {
                v.as_object_mut().unwrap().remove(*field);
            }
            v.to_string()
        })
        .collect();
    std::fs::write(&log, older.join("\n") + "\n").unwrap();
}

/// Records of a version that hashed only contended names: their outputs are counted as not
/// checkable, and a change of content without a change of size is not reported.
#[test]
fn outputs_recorded_without_a_hash_are_counted_as_not_checkable() {
    let wd = release("outputs_recorded_without_a_hash_are_counted_as_not_checkable");
    as_written_without(&wd, &["output_sha256"]);
    let path = wd.dicom_outputs("out").remove(0);
    let mut bytes = std::fs::read(&path).unwrap();
    *bytes.last_mut().unwrap() ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let run = verify(&wd);
    run.assert_code(0);
    assert!(run.stderr().contains("0 outputs compared with the content hash"), "{}", run.stderr());
    assert!(run.stderr().contains("1 not checkable"), "{}", run.stderr());
}

#[test]
fn pixel_data_shorter_than_rows_and_columns_declare_is_a_finding() {
    let wd = release("pixel_data_shorter_than_rows_and_columns_declare_is_a_finding");
    // 8 × 8 16-bit pixels need 128 bytes: half of them, as a copy stopped early leaves.
    plant(&wd, |ds| ds.put(Element::new(tags::PIXEL_DATA, VR::OW, vec![0; 64])));
    let run = wd.kamei(["verify", "out"]);
    run.assert_code(1);
    let f = findings(&run);
    assert!(
        f.iter().any(|r| r[1] == "(7FE0,0010)" && r[2] == "damaged-output" && r[3].contains("fewer than")),
        "{f:?}"
    );
}

#[test]
fn pixel_data_of_another_length_than_its_inputs_is_a_finding_with_against() {
    let wd = release("pixel_data_of_another_length_than_its_inputs_is_a_finding_with_against");
    // Half the rows, and the pixel data for them: an image whose header fits its pixels.
    edit_after_release(&wd, |ds| {
        ds.put(Element::new(tags::ROWS, VR::US, 4u16.to_le_bytes().to_vec()));
        ds.put(Element::new(tags::PIXEL_DATA, VR::OW, vec![0; 64]));
    });
    // An audit log of an earlier kamei, which did not record output sizes (nor hashes).
    as_written_without(&wd, &["output_bytes", "output_sha256"]);
    let run = verify(&wd);
    run.assert_code(1);
    let f = findings(&run);
    assert!(
        f.iter().any(|r| r[1] == "(7FE0,0010)" && r[2] == "damaged-output" && r[3].contains("not its input's")),
        "{f:?}"
    );
    // Without the inputs the image has pixel data: nothing to compare it with.
    wd.kamei(["verify", "out"]).assert_code(0);
}

#[test]
fn rv37_a_linkage_table_copied_into_the_release_is_found_by_its_header_alone() {
    let wd = release("rv37_a_linkage_table_copied_into_the_release_is_found_by_its_header_alone");
    // Saved by a spreadsheet under another name: a byte order mark before the header.
    let mut table = b"\xEF\xBB\xBF".to_vec();
    table.extend(std::fs::read(wd.path("link.csv")).unwrap());
    std::fs::write(wd.path("out/mapping.csv"), table).unwrap();
    let run = wd.kamei(["verify", "out"]);
    run.assert_code(1);
    let found = findings(&run);
    assert!(found.iter().any(|f| f[0] == "mapping.csv" && f[2] == "linkage-table"), "{}", run.stdout());
    assert!(!run.stdout().contains("7654321") && !run.stderr().contains("7654321"), "{}", run.stdout());
}

#[test]
fn a_csv_that_only_mentions_the_linkage_header_words_is_no_linkage_table() {
    let wd = release("a_csv_that_only_mentions_the_linkage_header_words_is_no_linkage_table");
    std::fs::write(wd.path("out/notes.csv"), "kind,original,pseudonymized,extra\nx,y,z,w\n").unwrap();
    let run = wd.kamei(["verify", "out"]);
    assert!(!run.stdout().contains("linkage-table"), "{}", run.stdout());
}

/// rv39 01: the key given with `--key`, copied into the release under any name (raw, or as
/// hex), is a `key-file` finding; without `--key`, a file named like a key that holds one is.
#[test]
fn rv39_01_the_key_copied_into_the_release_is_a_finding() {
    let wd = release("rv39_01_the_key_copied_into_the_release_is_a_finding");
    verify(&wd).assert_code(0);
    std::fs::copy(wd.path("k.key"), wd.path("out/kamei.key")).unwrap();
    std::fs::write(wd.path("out/notes.txt"), format!("{}\n", "05".repeat(32))).unwrap();
    let run = wd.kamei(["verify", "out", "--key", "k.key", "--against", "in"]);
    run.assert_code(1);
    let found = findings(&run);
    for name in ["kamei.key", "notes.txt"] {
        assert!(found.iter().any(|f| f[0] == name && f[2] == "key-file"), "{name}: {}", run.stdout());
    }
    let run = wd.kamei(["verify", "out"]);
    run.assert_code(1);
    let found = findings(&run);
    assert!(found.iter().any(|f| f[0] == "kamei.key" && f[2] == "key-file"), "{}", run.stdout());
    assert!(!found.iter().any(|f| f[0] == "notes.txt"), "not named like a key: {}", run.stdout());
}
