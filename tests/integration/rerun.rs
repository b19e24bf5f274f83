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
    assert!(!run.stderr().contains("outputs of earlier runs removed"), "{}", run.stderr());
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
    assert!(!run.stderr().contains("outputs of earlier runs removed"), "{}", run.stderr());
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

/// The release a `--shard` re-run leaves after an input path changed holds the outputs of
/// both contents: `verify` names both, and says a whole run removes the stale one.
#[test]
fn verify_names_the_outputs_a_shard_left_of_an_input_path_that_changed() {
    let wd = Workdir::new("verify_names_the_outputs_a_shard_left_of_an_input_path_that_changed");
    image("P1", 1).write(&wd.path("in/a.dcm"));
    image("P1", 2).write(&wd.path("in/b.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    image("P2", 1).write(&wd.path("in/a.dcm"));
    for shard in ["1/2", "2/2"] {
        deid(&wd, &["--shard", shard, "-q"]).assert_code(0);
    }
    let outputs: Vec<String> = wd
        .dicom_outputs("out")
        .iter()
        .map(|p| p.strip_prefix(wd.path("out")).unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(outputs.len(), 3, "{outputs:?}");
    let verify = || wd.kamei(["verify", "out", "--against", "in"]);
    let run = verify();
    run.assert_code(1);
    let found: Vec<Vec<String>> = run.stdout().lines().map(|l| l.split('\t').map(str::to_string).collect()).collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found.iter().all(|f| f[1] == "file" && f[2] == "superseded-output" && f[3].contains("whole run")),
        "{found:?}"
    );
    // The two outputs of a.dcm, under each patient; b.dcm's is not named.
    let named: Vec<&str> = found.iter().map(|f| f[0].as_str()).collect();
    let of_b = outputs.iter().filter(|o| !named.contains(&o.as_str())).count();
    assert_eq!(of_b, 1, "{named:?} of {outputs:?}");
    let patients: std::collections::BTreeSet<String> =
        named.iter().map(|n| text(&open(&wd.path("out").join(n)), tags::PATIENT_ID).unwrap()).collect();
    assert_eq!(patients.len(), 2, "{named:?}");
    // The fix the finding names.
    deid(&wd, &["-q"]).assert_code(0);
    let run = verify();
    run.assert_code(0);
    assert_eq!(wd.dicom_outputs("out").len(), 2);
}

fn deid_dirs(wd: &Workdir, dirs: &[&str], extra: &[&str]) -> Run {
    let k = key(wd, "k.key", 31);
    let mut args = vec!["deid"];
    args.extend_from_slice(dirs);
    args.extend(["-o", "out", "--key", k.to_str().unwrap()]);
    args.extend_from_slice(extra);
    wd.kamei(args)
}

/// Scanners name files alike (IM0001): two folders released one per run are two inputs.
#[test]
fn folders_released_one_per_run_never_supersede_each_other() {
    let wd = Workdir::new("folders_released_one_per_run_never_supersede_each_other");
    image("P-A", 1).write(&wd.path("dept1/IM0001"));
    image("P-B", 2).write(&wd.path("dept2/IM0001"));
    deid_dirs(&wd, &["dept1"], &["-q"]).assert_code(0);
    let run = deid_dirs(&wd, &["dept2"], &[]);
    run.assert_code(0);
    assert!(!run.stderr().contains("outputs of earlier runs removed"), "{}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 2);
}

/// The same bytes at a path of another folder: when the first path changes, the output the
/// other still makes stays, even in a run that does not include the other folder.
#[test]
fn an_output_an_identical_copy_elsewhere_makes_is_never_removed() {
    let wd = Workdir::new("an_output_an_identical_copy_elsewhere_makes_is_never_removed");
    image("P1", 1).write(&wd.path("A/x.dcm"));
    std::fs::create_dir_all(wd.path("B")).unwrap();
    std::fs::copy(wd.path("A/x.dcm"), wd.path("B/y.dcm")).unwrap();
    deid_dirs(&wd, &["A"], &["-q"]).assert_code(0);
    deid_dirs(&wd, &["B"], &["-q"]).assert_code(0);
    image("P2", 1).write(&wd.path("A/x.dcm"));
    let run = deid_dirs(&wd, &["A"], &[]);
    run.assert_code(0);
    assert!(!run.stderr().contains("outputs of earlier runs removed"), "{}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 2, "B/y.dcm's output and A/x.dcm's new one");
}

#[test]
fn a_whole_run_after_shards_removes_what_the_shards_left() {
    let wd = Workdir::new("a_whole_run_after_shards_removes_what_the_shards_left");
    image("P1", 1).write(&wd.path("in/a.dcm"));
    image("P1", 2).write(&wd.path("in/b.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    image("P2", 1).write(&wd.path("in/a.dcm"));
    for i in 1..=2 {
        deid(&wd, &["-q", "--shard", &format!("{i}/2")]).assert_code(0);
    }
    assert_eq!(wd.dicom_outputs("out").len(), 3, "the shards leave the old version");
    let run = deid(&wd, &[]);
    run.assert_code(0);
    assert!(run.stderr().contains("1 outputs of earlier runs removed"), "{}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 2);
}

#[test]
fn under_mirror_layout_an_identical_copy_elsewhere_does_not_keep_a_stale_version() {
    let wd = Workdir::new("under_mirror_layout_an_identical_copy_elsewhere_does_not_keep_a_stale_version");
    image("P1", 1).write(&wd.path("in/x/IM1"));
    std::fs::create_dir_all(wd.path("in/y")).unwrap();
    std::fs::copy(wd.path("in/x/IM1"), wd.path("in/y/IM1")).unwrap();
    deid(&wd, &["-q", "--layout", "mirror"]).assert_code(0);
    image("P2", 1).write(&wd.path("in/x/IM1"));
    deid(&wd, &["-q", "--layout", "mirror"]).assert_code(0);
    let mut names = wd.files("out");
    names.retain(|p| !p.to_string_lossy().starts_with("kamei-"));
    assert_eq!(names, [std::path::PathBuf::from("x/IM1"), std::path::PathBuf::from("y/IM1")]);
    let pid = |p: &str| text(&open(&wd.path(p)), tags::PATIENT_ID).unwrap();
    assert_ne!(pid("out/x/IM1"), pid("out/y/IM1"), "x/IM1 is the re-assigned image now");
}

/// Each correction's output takes the name, whether its hash is lower than the output it
/// supersedes (it moves that one aside, which is then removed) or higher (it takes its
/// collision name and moves into the freed name); the audit names it there and a re-run finds
/// it done.
#[test]
fn each_correction_ends_at_the_image_name_whichever_output_hash_is_lower() {
    use sha2::Digest;
    let wd = Workdir::new("each_correction_ends_at_the_image_name_whichever_output_hash_is_lower");
    let hash = |p: &std::path::Path| hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()));
    image("P1", 1).put(str_el(tags::SLICE_THICKNESS, VR::DS, "1.0")).write(&wd.path("in/a.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    let name = wd.dicom_outputs("out");
    let mut previous = hash(&name[0]);
    let (mut lower, mut higher) = (0, 0);
    for thickness in ["2.0", "3.0", "4.0", "5.0", "6.0", "7.0"] {
        image("P1", 1).put(str_el(tags::SLICE_THICKNESS, VR::DS, thickness)).write(&wd.path("in/a.dcm"));
        let run = deid(&wd, &[]);
        run.assert_code(0);
        assert!(run.stderr().contains("1 outputs of earlier runs removed"), "{}", run.stderr());
        assert_eq!(wd.dicom_outputs("out"), name, "one file, under the image's name");
        assert_eq!(text(&open(&name[0]), tags::SLICE_THICKNESS).as_deref(), Some(thickness));
        let now = hash(&name[0]);
        if now < previous {
            lower += 1
        } else {
            higher += 1
        }
        previous = now;
        let rel = name[0].strip_prefix(wd.path("out")).unwrap().to_string_lossy().into_owned();
        let written: Vec<serde_json::Value> =
            wd.audit("out").into_iter().filter(|r| r["outcome"] == "written").collect();
        assert_eq!(written.len(), 1, "{written:?}");
        assert_eq!(written[0]["output"].as_str(), Some(rel.as_str()), "the audit names where it is now");
        let again = deid(&wd, &[]);
        again.assert_code(0);
        assert!(again.stderr().contains("1 done earlier"), "{}", again.stderr());
    }
    assert!(lower > 0 && higher > 0, "both cases met: {lower} lower, {higher} higher");
}

/// A Shift_JIS file name from a Windows share (`検査/画像.dcm` in CP932) is not UTF-8: under the
/// mirror layout its output name has those bytes escaped, so the audit names it exactly, a
/// re-run finds it done, and a corrected input replaces it.
#[cfg(unix)]
#[test]
fn under_mirror_layout_a_name_that_is_not_utf8_is_escaped_found_done_and_superseded() {
    use std::os::unix::ffi::OsStrExt;
    let wd = Workdir::new("under_mirror_layout_a_name_that_is_not_utf8_is_escaped_found_done_and_superseded");
    let name = std::ffi::OsStr::from_bytes(b"\x8C\x9F\x8D\xB8.dcm");
    let input = wd.path("in").join(name);
    image("P1", 1).write(&input);
    deid(&wd, &["-q", "--layout", "mirror"]).assert_code(0);
    assert!(wd.path("out/%8C%9F%8D%B8.dcm").is_file(), "{:?}", wd.files("out"));
    let again = deid(&wd, &["--layout", "mirror"]);
    again.assert_code(0);
    assert!(again.stderr().contains("1 done earlier"), "{}", again.stderr());
    image("P2", 1).write(&input);
    deid(&wd, &["-q", "--layout", "mirror"]).assert_code(0);
    let mut names = wd.files("out");
    names.retain(|p| !p.to_string_lossy().starts_with("kamei-"));
    assert_eq!(names, [std::path::PathBuf::from("%8C%9F%8D%B8.dcm")], "the stale output is gone");
}

#[test]
fn a_run_without_the_key_into_a_pseudonymized_release_is_told_to_pass_the_key() {
    let wd = Workdir::new("a_run_without_the_key_into_a_pseudonymized_release_is_told_to_pass_the_key");
    image("P1", 1).write(&wd.path("in/a.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    let run = wd.kamei(["deid", "in", "-o", "out", "-q"]);
    run.assert_code(2);
    assert!(run.stderr().contains("pseudonymized run; run with its --key"), "{}", run.stderr());
}

/// rv34 suspect: an OUT whose kamei-run.json was lost (deleted to get past a refusal, not
/// copied back) accepted a run with another key, which put new inputs under a second pseudonym
/// space. A folder with an audit log and no settings file is refused, also by a dry run.
#[test]
fn an_output_folder_that_lost_its_settings_file_is_refused() {
    let wd = Workdir::new("an_output_folder_that_lost_its_settings_file_is_refused");
    image("P1", 1).write(&wd.path("in/a.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    std::fs::remove_file(wd.path("out/kamei-run.json")).unwrap();
    image("P2", 2).write(&wd.path("in/b.dcm"));
    let other = key(&wd, "other.key", 9);
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec!["deid", "in", "-o", "out", "--key", other.to_str().unwrap(), "-q"];
        args.extend_from_slice(extra);
        let run = wd.kamei(args);
        run.assert_code(2);
        assert!(run.stderr().contains("no kamei-run.json"), "{}", run.stderr());
    }
    assert_eq!(wd.dicom_outputs("out").len(), 1, "nothing written under the other key");
    assert!(!wd.path("out/kamei-run.json").exists());
}

/// rv16 02: inputs that failed (a link whose target was not there yet, a file still being
/// copied in) and were written by the re-run leave no `failed` record: one record per input.
#[cfg(unix)]
#[test]
fn rv16_02_a_failure_fixed_before_the_rerun_leaves_no_failed_record() {
    let wd = Workdir::new("rv16_02_a_failure_fixed_before_the_rerun_leaves_no_failed_record");
    image("P1", 1).write(&wd.path("in/a.dcm"));
    std::os::unix::fs::symlink(wd.path("share/late.dcm"), wd.path("in/link.dcm")).unwrap();
    image("P1", 3).write(&wd.path("spare.dcm"));
    let whole = std::fs::read(wd.path("spare.dcm")).unwrap();
    std::fs::write(wd.path("in/copying.dcm"), &whole[..whole.len() * 2 / 3]).unwrap();
    deid(&wd, &["-q"]).assert_code(1);
    assert_eq!(outcomes(&wd), ["failed", "failed", "written"]);
    image("P1", 2).write(&wd.path("share/late.dcm"));
    std::fs::write(wd.path("in/copying.dcm"), &whole).unwrap();
    deid(&wd, &["-q"]).assert_code(0);
    assert_eq!(outcomes(&wd), ["written", "written", "written"], "{:?}", wd.audit("out"));
}

#[test]
fn rv21_09_an_input_replaced_by_a_broken_file_has_its_failed_record_beside_the_superseded_one() {
    let wd = Workdir::new("rv21_09_an_input_replaced_by_a_broken_file_has_its_failed_record_beside_the_superseded_one");
    image("P1", 1).write(&wd.path("in/a.dcm"));
    image("P1", 2).write(&wd.path("in/b.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    let bytes = std::fs::read(wd.path("in/a.dcm")).unwrap();
    std::fs::write(wd.path("in/a.dcm"), &bytes[..bytes.len() / 2]).unwrap();
    deid(&wd, &["-q"]).assert_code(1);
    assert_eq!(outcomes(&wd), ["failed", "superseded", "written"], "{:?}", wd.audit("out"));
}

#[test]
fn a_shard_run_of_another_shard_count_into_the_same_out_is_refused() {
    let wd = Workdir::new("a_shard_run_of_another_shard_count_into_the_same_out_is_refused");
    for n in 1..=4 {
        image("P1", n).write(&wd.path(&format!("in/{n}.dcm")));
    }
    deid(&wd, &["-q", "--shard", "1/2"]).assert_code(0);
    let written = wd.dicom_outputs("out").len();
    // 1/2 and 2/3 split the inputs two ways: together they need not cover every input.
    let run = deid(&wd, &["-q", "--shard", "2/3"]);
    run.assert_code(2);
    assert!(run.stderr().contains("--shard I/2") && run.stderr().contains("whole run"), "{}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), written, "nothing written");
    deid(&wd, &["-q", "--shard", "2/2"]).assert_code(0);
    deid(&wd, &["-q"]).assert_code(0);
    assert_eq!(wd.dicom_outputs("out").len(), 4);
}

/// `kamei deid in -o <out> --key <key of byte>` plus `extra`.
fn deid_keyed(wd: &Workdir, byte: u8, out: &str, extra: &[&str]) -> Run {
    let k = key(wd, &format!("k{byte}.key"), byte);
    let mut args = vec!["deid", "in", "-o", out, "--key", k.to_str().unwrap()];
    args.extend_from_slice(extra);
    wd.kamei(args)
}

/// The released files below `out` (no audit, no run settings), by relative path, with bytes.
fn released(wd: &Workdir, out: &str) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut t = tree(wd, out);
    t.retain(|p, _| !p.to_string_lossy().starts_with("kamei"));
    t
}

/// The count in the summary line "N outputs of earlier runs (would be) removed", 0 without one.
fn removed_count(run: &Run) -> usize {
    let err = run.stderr();
    let Some(at) = err.find(" outputs of earlier runs") else { return 0 };
    let digits: String = err[..at].chars().rev().take_while(char::is_ascii_digit).collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

/// rv34-01: the same file at two paths (a copy, or a hard link the PACS rewrites in place), both
/// corrected: no input makes the earlier output any more, so it is removed, with one
/// `superseded` record per path.
#[test]
fn a_corrected_image_exported_at_two_paths_leaves_no_stale_output() {
    let wd = Workdir::new("a_corrected_image_exported_at_two_paths_leaves_no_stale_output");
    for (byte, hard_link) in [(41, false), (42, true), (43, false), (44, true)] {
        let _ = std::fs::remove_dir_all(wd.path("in"));
        let out = format!("out{byte}");
        image("P-WRONG", 1).write(&wd.path("in/A/x.dcm"));
        std::fs::create_dir_all(wd.path("in/B")).unwrap();
        if hard_link {
            std::fs::hard_link(wd.path("in/A/x.dcm"), wd.path("in/B/x.dcm")).unwrap();
        } else {
            std::fs::copy(wd.path("in/A/x.dcm"), wd.path("in/B/x.dcm")).unwrap();
        }
        deid_keyed(&wd, byte, &out, &["-q"]).assert_code(0);
        image("P-RIGHT", 1).write(&wd.path("in/A/x.dcm"));
        if !hard_link {
            std::fs::copy(wd.path("in/A/x.dcm"), wd.path("in/B/x.dcm")).unwrap();
        }
        let dry = deid_keyed(&wd, byte, &out, &["--dry-run"]);
        dry.assert_code(0);
        assert_eq!(removed_count(&dry), 1, "{}", dry.stderr());
        let run = deid_keyed(&wd, byte, &out, &[]);
        run.assert_code(0);
        assert_eq!(removed_count(&run), 1, "{}", run.stderr());
        let outputs = wd.dicom_outputs(&out);
        assert_eq!(outputs.len(), 1, "hard link {hard_link}: {outputs:?}");
        let fresh = format!("fresh{byte}");
        deid_keyed(&wd, byte, &fresh, &["-q"]).assert_code(0);
        assert!(released(&wd, &out) == released(&wd, &fresh), "the corrected output only, as a run from scratch");
        let superseded = wd.audit(&out).iter().filter(|r| r["outcome"] == "superseded").count();
        assert_eq!(superseded, 2, "one record for each path that made it");
        assert!(deid_keyed(&wd, byte, &out, &[]).stderr().contains("2 done earlier"));
    }
}

/// rv34-05: one image in two encodings (two outputs of one SOP Instance UID), both corrected
/// (re-assigned to another patient, or corrected in place): both earlier outputs are removed,
/// none moves into a name the other freed, and the release equals a run from scratch, whatever
/// the key (and so the outputs' hash order).
#[test]
fn both_encodings_of_a_corrected_image_replace_both_earlier_outputs_whatever_the_hash_order() {
    let wd = Workdir::new("both_encodings_of_a_corrected_image_replace_both_earlier_outputs_whatever_the_hash_order");
    for reassigned in [true, false] {
        for byte in 51..59u8 {
            let _ = std::fs::remove_dir_all(wd.path("in"));
            let out = format!("out{byte}-{reassigned}");
            image("P-OLD", 1).write(&wd.path("in/a.dcm"));
            image("P-OLD", 1).ts("1.2.840.10008.1.2").write(&wd.path("in/b.dcm"));
            deid_keyed(&wd, byte, &out, &["-q"]).assert_code(0);
            let corrected = |f: Fixture| f.put(str_el(tags::SLICE_THICKNESS, VR::DS, "2.0"));
            let (patient, fix): (&str, &dyn Fn(Fixture) -> Fixture) =
                if reassigned { ("P-NEW", &|f| f) } else { ("P-OLD", &corrected) };
            fix(image(patient, 1)).write(&wd.path("in/a.dcm"));
            fix(image(patient, 1)).ts("1.2.840.10008.1.2").write(&wd.path("in/b.dcm"));
            let dry = deid_keyed(&wd, byte, &out, &["--dry-run"]);
            let run = deid_keyed(&wd, byte, &out, &[]);
            run.assert_code(0);
            assert_eq!((removed_count(&dry), removed_count(&run)), (2, 2), "key {byte}: {}", run.stderr());
            let fresh = format!("fresh{byte}-{reassigned}");
            deid_keyed(&wd, byte, &fresh, &["-q"]).assert_code(0);
            let (got, want) = (released(&wd, &out), released(&wd, &fresh));
            assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "key {byte}");
            assert!(got == want, "key {byte}: the same names hold other bytes than a run from scratch's");
        }
    }
}

/// rv34-03: `--dry-run` counts the earlier outputs the real run removes, whether a corrected
/// output's hash sorts below the earlier one's (the real run moves that one aside) or above.
#[test]
fn a_dry_run_counts_every_output_the_real_run_supersedes() {
    let wd = Workdir::new("a_dry_run_counts_every_output_the_real_run_supersedes");
    for byte in 61..65u8 {
        let out = format!("out{byte}");
        for n in 1..=4 {
            image("P1", n).put(str_el(tags::SLICE_THICKNESS, VR::DS, "1.0")).write(&wd.path(&format!("in/{n}.dcm")));
        }
        deid_keyed(&wd, byte, &out, &["-q"]).assert_code(0);
        for n in 1..=4 {
            image("P1", n).put(str_el(tags::SLICE_THICKNESS, VR::DS, "2.0")).write(&wd.path(&format!("in/{n}.dcm")));
        }
        let dry = deid_keyed(&wd, byte, &out, &["--dry-run"]);
        dry.assert_code(0);
        assert!(dry.stderr().contains("would be removed"), "{}", dry.stderr());
        let run = deid_keyed(&wd, byte, &out, &[]);
        run.assert_code(0);
        assert_eq!((removed_count(&dry), removed_count(&run)), (4, 4), "key {byte}: {}", dry.stderr());
    }
}

/// The failure reasons `kamei report` lists under "Failed and skipped inputs" (its rows saying
/// `failed`).
fn failed_rows_in_report(wd: &Workdir) -> usize {
    wd.kamei(["report", "out", "-o", "report.html"]).assert_code(0);
    std::fs::read_to_string(wd.path("report.html")).unwrap().matches("<td>failed</td>").count()
}

/// rv34 04: an input that failed in a `--shard` run (still being copied in) and is written by
/// the whole run that finishes the release has no `failed` record left in any log, and the
/// report counts it once, written; the reverse order (the whole run failed it, a shard writes
/// it) the same.
#[test]
fn rv34_04_a_failure_in_one_log_is_dropped_when_another_run_writes_the_input() {
    for shards_first in [true, false] {
        let wd = Workdir::new("rv34_04_a_failure_in_one_log_is_dropped_when_another_run_writes_the_input");
        image("P1", 1).write(&wd.path("in/1.dcm"));
        image("P1", 2).write(&wd.path("spare.dcm"));
        let whole = std::fs::read(wd.path("spare.dcm")).unwrap();
        std::fs::write(wd.path("in/2.dcm"), &whole[..whole.len() / 2]).unwrap();
        let shards = |wd: &Workdir| {
            for i in 1..=2 {
                let code = deid(wd, &["-q", "--shard", &format!("{i}/2")]).code();
                assert!(code <= 1, "shard {i}: exit {code}");
            }
        };
        if shards_first {
            shards(&wd);
        } else {
            deid(&wd, &["-q"]).assert_code(1);
        }
        assert_eq!(outcomes(&wd), ["failed", "written"]);
        std::fs::write(wd.path("in/2.dcm"), &whole).unwrap();
        if shards_first {
            deid(&wd, &["-q"]).assert_code(0);
        } else {
            shards(&wd);
        }
        assert_eq!(outcomes(&wd), ["written", "written"], "shards first: {shards_first}: {:?}", wd.audit("out"));
        assert_eq!(wd.dicom_outputs("out").len(), 2);
        assert_eq!(failed_rows_in_report(&wd), 0, "shards first: {shards_first}");
    }
}

/// rv34 04: an input written earlier, then failing in a shard (being copied in again), and found
/// done by a whole run once its content is back (which appends no record of it) leaves no
/// `failed` record: the whole run met its path after the failure.
#[test]
fn rv34_04_an_input_found_done_again_drops_its_failure_in_a_shard_log() {
    let wd = Workdir::new("rv34_04_an_input_found_done_again_drops_its_failure_in_a_shard_log");
    image("P1", 1).write(&wd.path("in/1.dcm"));
    deid(&wd, &["-q"]).assert_code(0);
    let whole = std::fs::read(wd.path("in/1.dcm")).unwrap();
    std::fs::write(wd.path("in/1.dcm"), &whole[..whole.len() / 2]).unwrap();
    for i in 1..=2 {
        assert!(deid(&wd, &["-q", "--shard", &format!("{i}/2")]).code() <= 1);
    }
    assert!(outcomes(&wd).contains(&"failed".to_string()), "{:?}", wd.audit("out"));
    std::fs::write(wd.path("in/1.dcm"), &whole).unwrap();
    deid(&wd, &["-q"]).assert_code(0);
    assert!(!outcomes(&wd).contains(&"failed".to_string()), "{:?}", wd.audit("out"));
    assert_eq!(failed_rows_in_report(&wd), 0);
}

/// rv34 07: an INPUT folder missing on one run (a failed input, as documented) and there on the
/// next, which writes its files, leaves no `failed` record: the run met the folder's path.
#[test]
fn rv34_07_a_missing_input_folder_that_appears_leaves_no_failed_record() {
    let wd = Workdir::new("rv34_07_a_missing_input_folder_that_appears_leaves_no_failed_record");
    image("P1", 1).write(&wd.path("a/1.dcm"));
    let k = key(&wd, "k.key", 31);
    let run = |wd: &Workdir| wd.kamei(["deid", "a", "b", "-o", "out", "--key", k.to_str().unwrap(), "-q"]);
    run(&wd).assert_code(1);
    assert_eq!(outcomes(&wd), ["failed", "written"]);
    image("P2", 2).write(&wd.path("b/1.dcm"));
    run(&wd).assert_code(0);
    assert_eq!(outcomes(&wd), ["written", "written"], "{:?}", wd.audit("out"));
    assert_eq!(failed_rows_in_report(&wd), 0);
}

/// An output cut (a disk error, a copy that stopped) or grown (something appended to it) in OUT
/// since the run that wrote it is not done: the same run again writes it anew from its input,
/// says so, and notes it in the audit; a dry run counts it and leaves it.
#[test]
fn a_rerun_rewrites_an_output_whose_size_is_not_the_recorded_one() {
    for (damage, cut) in [("cut", true), ("grown", false)] {
        let wd = Workdir::new(&format!("a_rerun_rewrites_an_output_whose_size_is_not_the_recorded_one_{damage}"));
        image("P1", 1).write(&wd.path("in/a.dcm"));
        image("P1", 2).write(&wd.path("in/b.dcm"));
        deid(&wd, &["-q"]).assert_code(0);
        let before = released(&wd, "out");
        let (name, whole) = before.iter().find(|(p, _)| p.extension().is_some_and(|e| e == "dcm")).unwrap();
        let damaged = if cut { whole[..whole.len() / 2].to_vec() } else { [whole.as_slice(), b"tail"].concat() };
        std::fs::write(wd.path("out").join(name), &damaged).unwrap();
        let dry = deid(&wd, &["--dry-run"]);
        dry.assert_code(0);
        assert!(dry.stderr().contains("1 damaged outputs would be rewritten"), "{damage}: {}", dry.stderr());
        assert_eq!(std::fs::read(wd.path("out").join(name)).unwrap(), damaged, "{damage}: a dry run writes nothing");
        let run = deid(&wd, &[]);
        run.assert_code(0);
        assert!(run.stderr().contains("1 damaged outputs rewritten"), "{damage}: {}", run.stderr());
        assert!(run.stderr().contains("1 written, 0 already present, 1 done earlier"), "{damage}: {}", run.stderr());
        assert_eq!(released(&wd, "out"), before, "{damage}: the release as the first run left it");
        let noted: Vec<_> = wd
            .audit("out")
            .into_iter()
            .filter(|r| {
                r["notes"].as_array().is_some_and(|n| n.iter().any(|n| n.as_str().unwrap().contains("damaged output")))
            })
            .collect();
        assert_eq!(noted.len(), 1, "{damage}: {noted:?}");
        assert_eq!(noted[0]["output_bytes"].as_u64(), Some(whole.len() as u64), "{damage}");
        let rewritten = kamei::write::sha256_file(&wd.path("out").join(name)).unwrap();
        assert_eq!(noted[0]["output_sha256"].as_str(), Some(rewritten.as_str()), "{damage}: the new output's hash");
        assert_eq!(outcomes(&wd), ["written", "written"], "{damage}: one record per input");
        let again = deid(&wd, &[]);
        assert!(again.stderr().contains("2 done earlier") && !again.stderr().contains("damaged"), "{}", again.stderr());
    }
}

/// The audit outcomes of `out`, counted.
fn outcome_counts(wd: &Workdir, out: &str) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for r in wd.audit(out) {
        *counts.entry(r["outcome"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    counts
}

/// Two versions of one instance (a corrected re-send of image 1 of `P-WRONG`, differing in
/// Slice Thickness 1.0 and 2.0) at `in/a.dcm` and `in/b.dcm`, and another image of the patient
/// at `in/c.dcm`: one version's output takes the instance's name, the other its collision name.
fn write_a_resent_instance(wd: &Workdir) {
    let version = |t: &str| image("P-WRONG", 1).put(str_el(tags::SLICE_THICKNESS, VR::DS, t));
    version("1.0").write(&wd.path("in/a.dcm"));
    version("2.0").write(&wd.path("in/b.dcm"));
    image("P-WRONG", 2).write(&wd.path("in/c.dcm"));
}

/// Of the audit `records` of [`write_a_resent_instance`]'s release, the one whose output holds
/// the instance's name: the name another output's collision name (`<name>.<hash>.dcm`) extends.
fn record_at_the_instance_name(records: &[serde_json::Value]) -> &serde_json::Value {
    let outputs: Vec<&str> = records.iter().filter_map(|r| r["output"].as_str()).collect();
    records
        .iter()
        .find(|r| {
            let output = r["output"].as_str().unwrap();
            let o = output.trim_end_matches(".dcm");
            outputs.iter().any(|other| *other != output && other.starts_with(&format!("{o}.")))
        })
        .expect("an output at the instance's name, claimed by the other version")
}

/// rv39 03: a run killed (SIGKILL, power loss) while it removed superseded outputs had removed
/// one and not yet recorded it (no `superseded` record, no linkage row; its name not yet given
/// to the corrected re-send that claims it). The re-run completes the records and gives the
/// name, so the release is the one an uninterrupted run makes and `verify --against` passes.
/// The killed run's state is made by two shard runs (they write the new outputs and leave the
/// superseded ones unrecorded) and the removal the killed run had made.
#[test]
fn rv39_03_a_rerun_completes_a_run_killed_while_it_removed_superseded_outputs() {
    use sha2::Digest;
    let wd = Workdir::new("rv39_03_a_rerun_completes_a_run_killed_while_it_removed_superseded_outputs");
    write_a_resent_instance(&wd);
    let k = key(&wd, "k.key", 31);
    let ks = k.to_str().unwrap();
    let deid = |out: &str, extra: &[&str]| {
        let link = format!("{out}.csv");
        let mut args = vec!["deid", "in", "-o", out, "--key", ks, "-q", "--linkage", &link];
        args.extend_from_slice(extra);
        wd.kamei(args).assert_code(0);
    };
    deid("ref", &[]);
    deid("out", &[]);
    // The input whose output holds the instance's name is re-assigned to the right patient.
    let records = wd.audit("out");
    let named = record_at_the_instance_name(&records);
    let old_output = named["output"].as_str().unwrap().to_string();
    let owner = ["a.dcm", "b.dcm"]
        .into_iter()
        .find(|f| {
            hex::encode(sha2::Sha256::digest(std::fs::read(wd.path(&format!("in/{f}"))).unwrap()))
                == named["input_sha256"]
        })
        .unwrap();
    let thickness = if owner == "a.dcm" { "1.0" } else { "2.0" };
    image("P-RIGHT", 1).put(str_el(tags::SLICE_THICKNESS, VR::DS, thickness)).write(&wd.path(&format!("in/{owner}")));
    // Uninterrupted.
    deid("ref", &[]);
    // Killed after removing the superseded output, before recording it.
    deid("out", &["--shard", "1/2"]);
    deid("out", &["--shard", "2/2"]);
    std::fs::remove_file(wd.path(&format!("out/{old_output}"))).unwrap();
    deid("out", &[]);
    let names = |out: &str| -> Vec<std::path::PathBuf> {
        wd.dicom_outputs(out).into_iter().map(|p| p.strip_prefix(wd.path(out)).unwrap().to_path_buf()).collect()
    };
    assert_eq!(names("out"), names("ref"), "the names of an uninterrupted run (the re-send took the freed name)");
    assert_eq!(outcome_counts(&wd, "out"), outcome_counts(&wd, "ref"));
    let superseded_rows = |table: &str| {
        std::fs::read_to_string(wd.path(table)).unwrap().lines().filter(|l| l.starts_with("superseded,")).count()
    };
    assert_eq!(superseded_rows("out.csv"), 1, "the linkage table names the withdrawn output");
    assert_eq!(superseded_rows("ref.csv"), 1);
    let run = wd.kamei(["verify", "out", "--against", "in"]);
    run.assert_code(0);
}

/// rv39: a run killed (SIGKILL, power loss) right after it gave a freed name (the re-send moved
/// from its collision name to the name a superseded output left; the audit holds the move,
/// announced before it was made) and before it appended the `moved` linkage row. The re-run
/// writes that `moved` row, not only a `file` row with the new place: the table then holds the
/// rows of an uninterrupted run. The killed run's table is the uninterrupted one cut where the
/// `moved` row starts (its superseded rows were flushed before any name was given).
#[test]
fn rv39_a_rerun_writes_the_moved_row_of_a_freed_name_move_killed_before_its_row() {
    let wd = Workdir::new("rv39_a_rerun_writes_the_moved_row_of_a_freed_name_move_killed_before_its_row");
    write_a_resent_instance(&wd);
    let k = key(&wd, "k.key", 31);
    let ks = k.to_str().unwrap();
    // One thread: the reference and the killed release meet their inputs in one order, so
    // their first runs make the same collision moves.
    let deid = |out: &str| {
        let link = format!("{out}.csv");
        wd.kamei(["deid", "in", "-o", out, "--key", ks, "-q", "-j1", "--linkage", &link]).assert_code(0);
    };
    deid("ref");
    deid("out");
    // Re-assign the input whose output holds the instance's name: its re-run frees the name,
    // which the other version (at its collision name) takes.
    let records = wd.audit("out");
    let named = record_at_the_instance_name(&records);
    // The version whose output is at that name now (the lower output hash; the other moved
    // to its collision name): the one whose latest `file` row names it.
    let plain = named["output"].as_str().unwrap();
    let first_table = std::fs::read_to_string(wd.path("out.csv")).unwrap();
    let owner = ["a.dcm", "b.dcm"]
        .into_iter()
        .find(|f| {
            let prefix = format!("file,in/{f},");
            first_table.lines().rfind(|l| l.starts_with(&prefix)) == Some(&format!("{prefix}{plain}"))
        })
        .unwrap();
    let thickness = if owner == "a.dcm" { "1.0" } else { "2.0" };
    image("P-RIGHT", 1).put(str_el(tags::SLICE_THICKNESS, VR::DS, thickness)).write(&wd.path(&format!("in/{owner}")));
    deid("ref");
    deid("out");
    let table = std::fs::read_to_string(wd.path("out.csv")).unwrap();
    let superseded = table.find("\nsuperseded,").expect("the re-run wrote a superseded row");
    let cut = superseded
        + table[superseded..]
            .find("\nmoved,")
            .unwrap_or_else(|| panic!("and then the freed name's moved row: {table}"))
        + 1;
    let moved_row = table[cut..].lines().next().unwrap().to_string();
    std::fs::write(wd.path("out.csv"), &table[..cut]).unwrap();
    deid("out");
    let rows = |table: &str| -> std::collections::BTreeSet<String> {
        std::fs::read_to_string(wd.path(table)).unwrap().lines().map(str::to_string).collect()
    };
    let (out, reference) = (rows("out.csv"), rows("ref.csv"));
    assert!(out.contains(&moved_row), "{moved_row} in {out:?}");
    assert_eq!(out, reference, "the rows of an uninterrupted run");
}
