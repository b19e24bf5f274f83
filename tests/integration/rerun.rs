//! Re-runs into the same OUT after the archive changed: an input path that now holds other
//! content (an image re-assigned to the right patient, a corrected header or pixels) replaces
//! the output its earlier content made, so the release never holds both versions.

use crate::util::*;
use dicom_core::VR;
use dicom_dictionary_std::tags;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.81";

fn image(patient: &str, n: u32) -> Fixture {
    Fixture::ct(patient, STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.{n}"))
}

fn deid(wd: &Workdir, extra: &[&str]) -> Run {
    let k = key(wd, "k.key", 31);
    let mut args = vec!["deid", "in", "-o", "out", "--key", k.to_str().unwrap()];
    args.extend_from_slice(extra);
    wd.kamei(args)
}

fn outcomes(wd: &Workdir) -> Vec<String> {
    let mut v: Vec<String> = wd.audit("out").iter().map(|r| r["outcome"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

#[test]
fn an_image_reassigned_to_another_patient_leaves_no_copy_under_the_first() {
    let wd = Workdir::new("an_image_reassigned_to_another_patient_leaves_no_copy_under_the_first");
    image("P-WRONG", 1).write(&wd.path("in/a.dcm"));
    image("P-WRONG", 2).write(&wd.path("in/b.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    image("P-RIGHT", 1).write(&wd.path("in/a.dcm"));
    let dry = deid(&wd, &["--dry-run"]);
    dry.assert_code(0);
    assert!(dry.stderr().contains("1 outputs of earlier runs would be removed"), "{}", dry.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 2, "a dry run removes nothing");
    let run = deid(&wd, &[]);
    run.assert_code(0);
    assert!(run.stderr().contains("1 outputs of earlier runs removed"), "{}", run.stderr());
    let outputs = wd.dicom_outputs("out");
    assert_eq!(outputs.len(), 2, "{outputs:?}");
    let patients: std::collections::BTreeSet<String> =
        outputs.iter().map(|p| text(&open(p), tags::PATIENT_ID).unwrap()).collect();
    assert_eq!(patients.len(), 2, "b under the first patient, a under the second");
    assert_eq!(outcomes(&wd), ["superseded", "written", "written"]);
}

#[test]
fn a_corrected_image_takes_the_name_of_the_version_it_replaces() {
    let wd = Workdir::new("a_corrected_image_takes_the_name_of_the_version_it_replaces");
    image("P1", 1).put(str_el(tags::SLICE_THICKNESS, VR::DS, "1.0")).write(&wd.path("in/a.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    let before = wd.dicom_outputs("out");
    image("P1", 1).put(str_el(tags::SLICE_THICKNESS, VR::DS, "2.0")).write(&wd.path("in/a.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    let after = wd.dicom_outputs("out");
    assert_eq!(after, before, "one file, under the same name");
    assert_eq!(text(&open(&after[0]), tags::SLICE_THICKNESS).as_deref(), Some("2.0"));
    let written: Vec<serde_json::Value> = wd.audit("out").into_iter().filter(|r| r["outcome"] == "written").collect();
    assert_eq!(written.len(), 1);
    let name = after[0].strip_prefix(wd.path("out")).unwrap().to_string_lossy().into_owned();
    assert_eq!(written[0]["output"].as_str(), Some(name.as_str()), "the audit names where it is now");
}

/// A change in an attribute the profile removes gives the same output: it is kept.
#[test]
fn a_change_the_profile_removes_keeps_the_output() {
    let wd = Workdir::new("a_change_the_profile_removes_keeps_the_output");
    image("P1", 1).put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT CHEST")).write(&wd.path("in/a.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    image("P1", 1).put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT CHEST CORRECTED")).write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(0);
    assert!(!run.stderr().contains("removed"), "{}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 1);
}

#[test]
fn an_earlier_output_another_input_still_makes_is_kept() {
    let wd = Workdir::new("an_earlier_output_another_input_still_makes_is_kept");
    image("P1", 1).write(&wd.path("in/a.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    std::fs::copy(wd.path("in/a.dcm"), wd.path("in/copy-of-a.dcm")).unwrap();
    image("P1", 2).write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(0);
    assert!(!run.stderr().contains("removed"), "{}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 2);
}

#[test]
fn a_shard_leaves_a_superseded_output_and_says_so() {
    let wd = Workdir::new("a_shard_leaves_a_superseded_output_and_says_so");
    image("P1", 1).write(&wd.path("in/a.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    image("P2", 1).write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &["--shard", "1/1"]);
    run.assert_code(0);
    // 1/1 is one shard of one: it behaves as a whole run.
    assert!(run.stderr().contains("removed"), "{}", run.stderr());
    image("P3", 1).write(&wd.path("in/a.dcm"));
    let mut left = 0;
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let run = deid(&wd, &["--shard", &shard]);
        run.assert_code(0);
        if run.stderr().contains("a --shard run leaves them") {
            left += 1;
        }
    }
    assert_eq!(left, 1, "the shard that has the input says what it left");
    assert_eq!(wd.dicom_outputs("out").len(), 2);
}
