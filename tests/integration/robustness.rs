//! Damaged inputs and damaged output folders a mutation-fuzzing review found (rv27): a file cut
//! before its pixels, a damaged VR, mirror names that collide, a damaged audit line, a file that
//! is only a DICM header. Each ends as the README says, never as a broken or leaking release.

use crate::util::bytes::{even, explicit_le, part10};
use crate::util::*;
use dicom_dictionary_std::tags;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.27";
const SERIES: &str = "1.2.826.0.1.3680043.8.498.27.1";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

fn ct(n: u32) -> Fixture {
    Fixture::ct(CANARY_ID, STUDY, SERIES, &format!("{SERIES}.{n}"))
}

/// The bytes of a written fixture.
fn bytes_of(f: &Fixture, wd: &Workdir, name: &str) -> Vec<u8> {
    let p = wd.path(name);
    f.write(&p);
    let b = std::fs::read(&p).unwrap();
    std::fs::remove_file(&p).unwrap();
    b
}

/// Where an Explicit VR LE element header with this tag and VR starts.
fn header_at(bytes: &[u8], tag: (u16, u16), vr: &[u8; 2]) -> usize {
    let mut h = tag.0.to_le_bytes().to_vec();
    h.extend_from_slice(&tag.1.to_le_bytes());
    h.extend_from_slice(vr);
    bytes.windows(6).position(|w| w == h.as_slice()).expect("header present")
}

fn outcome_reasons(wd: &Workdir) -> Vec<(String, String)> {
    wd.audit("out")
        .iter()
        .map(|r| {
            (
                r["outcome"].as_str().unwrap_or_default().to_string(),
                r["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn an_image_cut_exactly_before_its_pixel_data_fails_as_truncated() {
    let wd = Workdir::new("an_image_cut_exactly_before_its_pixel_data_fails_as_truncated");
    let whole = bytes_of(&ct(1), &wd, "whole.dcm");
    let cut = header_at(&whole, (0x7FE0, 0x0010), b"OW");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/cut.dcm"), &whole[..cut]).unwrap();
    let run = wd.deid(&[]);
    run.assert_code(1);
    assert!(wd.dicom_outputs("out").is_empty(), "nothing released");
    let [(outcome, reason)] = outcome_reasons(&wd).try_into().unwrap();
    assert_eq!(outcome, "failed");
    assert!(reason.contains("truncated") && reason.contains("Pixel Data"), "{reason}");
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID]);
}

#[test]
fn an_image_cut_before_its_image_pixel_module_fails_by_its_sop_class() {
    let wd = Workdir::new("an_image_cut_before_its_image_pixel_module_fails_by_its_sop_class");
    let whole = bytes_of(&ct(1), &wd, "whole.dcm");
    // Cut before Samples per Pixel (0028,0002): no Rows, Columns or Bits Allocated are left.
    let cut = header_at(&whole, (0x0028, 0x0002), b"US");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/cut.dcm"), &whole[..cut]).unwrap();
    ct(2).write(&wd.path("in/whole.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(1);
    assert_eq!(wd.dicom_outputs("out").len(), 1, "the whole image is written");
    let failed: Vec<_> = outcome_reasons(&wd).into_iter().filter(|(o, _)| o == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].1.contains("truncated") && failed[0].1.contains("SOP Class"), "{}", failed[0].1);
}

/// Objects that have no pixels by definition are written as before: a structured report, a key
/// object selection, a presentation state, an RT structure set, an encapsulated PDF, raw data.
#[test]
fn objects_without_pixels_by_definition_are_still_written() {
    let wd = Workdir::new("objects_without_pixels_by_definition_are_still_written");
    let classes = [
        "1.2.840.10008.5.1.4.1.1.88.11",
        "1.2.840.10008.5.1.4.1.1.88.59",
        "1.2.840.10008.5.1.4.1.1.11.1",
        "1.2.840.10008.5.1.4.1.1.481.3",
        "1.2.840.10008.5.1.4.1.1.104.1",
        "1.2.840.10008.5.1.4.1.1.66",
    ];
    std::fs::create_dir_all(wd.path("in")).unwrap();
    for (i, class) in classes.iter().enumerate() {
        let sop = format!("{SERIES}.{}", i + 1);
        let mut body = explicit_le((0x0008, 0x0016), b"UI", &even(class, 0));
        body.extend(explicit_le((0x0008, 0x0018), b"UI", &even(&sop, 0)));
        body.extend(explicit_le((0x0010, 0x0010), b"PN", &even(CANARY_NAME, b' ')));
        body.extend(explicit_le((0x0010, 0x0020), b"LO", &even(CANARY_ID, b' ')));
        body.extend(explicit_le((0x0020, 0x000D), b"UI", &even(STUDY, 0)));
        body.extend(explicit_le((0x0020, 0x000E), b"UI", &even(SERIES, 0)));
        std::fs::write(wd.path(&format!("in/{i}.dcm")), part10(EXPLICIT_LE, class, &sop, &body)).unwrap();
    }
    let run = wd.deid(&[]);
    run.assert_code(0);
    assert_eq!(wd.dicom_outputs("out").len(), classes.len());
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID]);
}

/// A CT whose Study Date header says `FD` (8 bytes: a date fits) and whose Content Date header
/// says `LO`: with retain-long-modified-dates the profile shifts both dates, whatever VR the
/// file claims; the real dates never go out.
#[test]
fn a_date_whose_vr_bytes_are_damaged_is_still_shifted() {
    let wd = Workdir::new("a_date_whose_vr_bytes_are_damaged_is_still_shifted");
    let f = ct(1).put(str_el(tags::STUDY_DATE, dicom_core::VR::DA, "20230517")).put(str_el(
        tags::CONTENT_DATE,
        dicom_core::VR::DA,
        "20230519",
    ));
    let mut b = bytes_of(&f, &wd, "whole.dcm");
    let at = header_at(&b, (0x0008, 0x0020), b"DA");
    b[at + 4..at + 6].copy_from_slice(b"FD");
    let at = header_at(&b, (0x0008, 0x0023), b"DA");
    b[at + 4..at + 6].copy_from_slice(b"LO");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/a.dcm"), &b).unwrap();
    let run = wd.deid(&["--option", "retain-long-modified-dates"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let shifted = |tag| {
        let v = raw(&out, tag).unwrap();
        String::from_utf8(v).unwrap().trim_end().to_string()
    };
    let days = pseudonymizer(7).date_shift_days(kamei::pseudo::Patient::Id(CANARY_ID));
    let expect = |d: &str| (date(d) + chrono::Duration::days(days)).format("%Y%m%d").to_string();
    assert_eq!(shifted(tags::STUDY_DATE), expect("20230517"));
    assert_eq!(shifted(tags::CONTENT_DATE), expect("20230519"));
    let obj = open(&out);
    assert_eq!(obj.element(tags::STUDY_DATE).unwrap().vr(), dicom_core::VR::DA, "written by the dictionary's VR");
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID, "20230517", "20230519"]);
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(0008,0020)") && notes.contains("contradicts the dictionary"), "{notes}");
}

/// A Study Instance UID and a Referenced SOP Instance UID (in a sequence) whose VR bytes read
/// `FD`: both are replaced by their keyed UIDs and written as UI.
#[test]
fn a_uid_whose_vr_bytes_read_fd_is_replaced_by_its_keyed_uid() {
    let wd = Workdir::new("a_uid_whose_vr_bytes_read_fd_is_replaced_by_its_keyed_uid");
    let referenced = "1.2.826.0.1.3680043.8.498.27.77";
    let f = ct(1).put(seq_el(
        tags::SOURCE_IMAGE_SEQUENCE,
        vec![item(vec![
            str_el(tags::REFERENCED_SOP_CLASS_UID, dicom_core::VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
            str_el(tags::REFERENCED_SOP_INSTANCE_UID, dicom_core::VR::UI, referenced),
        ])],
    ));
    let mut b = bytes_of(&f, &wd, "whole.dcm");
    for tag in [(0x0020, 0x000D), (0x0008, 0x1155)] {
        let at = header_at(&b, tag, b"UI");
        b[at + 4..at + 6].copy_from_slice(b"FD");
    }
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/a.dcm"), &b).unwrap();
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let obj = open(&out);
    let study = obj.element(tags::STUDY_INSTANCE_UID).unwrap();
    assert_eq!(study.vr(), dicom_core::VR::UI);
    assert_eq!(study.to_str().unwrap().trim_end_matches('\0'), pseudonymizer(7).uid(STUDY));
    let mapped = raw_in_item(&out, tags::SOURCE_IMAGE_SEQUENCE, 0, tags::REFERENCED_SOP_INSTANCE_UID).unwrap();
    assert_eq!(String::from_utf8_lossy(&mapped).trim_end_matches('\0'), pseudonymizer(7).uid(referenced));
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID, STUDY, referenced]);
}

/// Under `--layout mirror` a UTF-8 name holding `%` and a Shift_JIS name whose escaped spelling
/// is that name (`a%89.dcm` and `a\x89.dcm`) are two inputs with two outputs, even with the
/// same content; a re-run writes nothing.
#[cfg(unix)]
#[test]
fn mirror_names_that_escaping_could_confuse_keep_one_output_each() {
    use std::os::unix::ffi::OsStrExt;
    let wd = Workdir::new("mirror_names_that_escaping_could_confuse_keep_one_output_each");
    let sjis = wd.path("in").join(std::ffi::OsStr::from_bytes(b"a\x89.dcm"));
    ct(1).write(&sjis);
    std::fs::copy(&sjis, wd.path("in/a%89.dcm")).unwrap();
    ct(2).write(&wd.path("in/aA.dcm"));
    ct(3).write(&wd.path("in/a%41.dcm"));
    wd.deid(&["--layout", "mirror"]).assert_code(0);
    let mut names: Vec<String> = wd.files("out").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    names.retain(|n| !n.starts_with("kamei-"));
    names.sort();
    assert_eq!(names, ["a%2541.dcm", "a%2589.dcm", "a%89.dcm", "aA.dcm"]);
    // A re-run writes nothing: each input finds its own output (done earlier, or present).
    let again = wd.kamei(["deid", "in", "-o", "out", "--key", "k.key", "--layout", "mirror"]);
    again.assert_code(0);
    assert!(again.stderr().contains(" 0 written, "), "{}", again.stderr());
    assert_eq!(wd.files("out").len(), names.len() + 2, "{:?}", wd.files("out"));
}

/// A release of two images whose audit log's first line was then damaged: replaced by `bad`
/// (the torn start of a record a power cut left, or bytes a disk error garbled).
fn release_with_a_damaged_audit_line(name: &str, bad: &[u8]) -> Workdir {
    let wd = Workdir::new(name);
    ct(1).write(&wd.path("in/a.dcm"));
    ct(2).write(&wd.path("in/b.dcm"));
    wd.deid(&[]).assert_code(0);
    let log = wd.path("out/kamei-audit.jsonl");
    let text = std::fs::read(&log).unwrap();
    let first_end = text.iter().position(|&b| b == b'\n').unwrap();
    let mut damaged = bad.to_vec();
    damaged.extend_from_slice(&text[first_end..]);
    std::fs::write(&log, damaged).unwrap();
    wd
}

/// The torn start of a record with a byte that is not UTF-8 in it; "SECRETBYTES" stands for
/// whatever the line held, which no message may repeat.
const TORN_NOT_UTF8: &[u8] = b"{\"input_sha256\":\"SECRETBYTES\xE5\x8C";

#[test]
fn a_damaged_audit_line_is_reported_once_and_its_input_processed_again_without_a_second_output() {
    for (n, bad) in [TORN_NOT_UTF8, b"{\"input_sha256\":\"SECRETBYTES\",\"outc".as_slice()].into_iter().enumerate() {
        let wd = release_with_a_damaged_audit_line(&format!("a_damaged_audit_line_is_reported_once_{n}"), bad);
        let before = tree(&wd, "out");
        let run = wd.deid(&[]);
        run.assert_code(0);
        let err = run.stderr();
        assert!(err.contains("kamei-audit.jsonl has 1 damaged line (line 1"), "{err}");
        assert!(!err.contains("SECRETBYTES"), "never the line's content: {err}");
        // The input the line recorded was processed again and found its output there.
        assert_eq!(wd.dicom_outputs("out").len(), 2);
        for (path, bytes) in &before {
            if path.extension().is_some_and(|e| e == "dcm") {
                assert_eq!(tree(&wd, "out").get(path), Some(bytes), "{} unchanged", path.display());
            }
        }
        let records = wd.audit("out");
        assert_eq!(records.len(), 2, "one record per input: {records:?}");
        let mut inputs: Vec<&str> = records.iter().map(|r| r["input_sha256"].as_str().unwrap()).collect();
        inputs.dedup();
        assert_eq!(inputs.len(), 2);
        // The log was rewritten without the damaged line: the next run says nothing of it.
        let again = wd.deid(&[]);
        again.assert_code(0);
        assert!(!again.stderr().contains("damaged"), "{}", again.stderr());
    }
}

#[test]
fn verify_and_report_say_the_audit_log_has_a_damaged_line() {
    let wd = release_with_a_damaged_audit_line("verify_and_report_say_the_audit_log_has_a_damaged_line", TORN_NOT_UTF8);
    let run = wd.kamei(["verify", "out"]);
    run.assert_code(1);
    let lines: Vec<Vec<String>> = run.stdout().lines().map(|l| l.split('\t').map(str::to_string).collect()).collect();
    assert!(
        lines.iter().any(|r| r[0] == "kamei-audit.jsonl" && r[1] == "line 1" && r[2] == "damaged-audit-log"),
        "{lines:?}"
    );
    assert!(!run.stdout().contains("SECRETBYTES") && !run.stderr().contains("SECRETBYTES"));
    let report = wd.kamei(["report", "out", "-o", "report.html"]);
    report.assert_code(0);
    let page = std::fs::read_to_string(wd.path("report.html")).unwrap();
    assert!(page.contains("damaged-audit-log") && page.contains("line 1"), "the page lists the damaged line");
    assert!(!page.contains("SECRETBYTES"));
}

/// 128 zero bytes and `DICM`, nothing else: it claims to be DICOM, so it fails (not skipped),
/// with a reason that says it holds no data set.
#[test]
fn a_file_that_is_only_a_dicm_header_fails_with_a_reason() {
    let wd = Workdir::new("a_file_that_is_only_a_dicm_header_fails_with_a_reason");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let mut b = vec![0u8; 128];
    b.extend_from_slice(b"DICM");
    std::fs::write(wd.path("in/empty.dcm"), b).unwrap();
    let run = wd.deid(&[]);
    run.assert_code(1);
    let [(outcome, reason)] = outcome_reasons(&wd).try_into().unwrap();
    assert_eq!(outcome, "failed");
    assert!(reason.contains("DICM") && reason.contains("nothing after it"), "{reason}");
}
