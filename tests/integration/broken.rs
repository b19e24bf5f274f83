//! Unusual and broken inputs on the real binary: every input ends written, skipped or failed
//! with a reason, and one bad file never stops the run (README "Bad input").

use crate::util::bytes::{even, explicit_le, implicit_le, instance, item_tag, part10, pixel_module};
use crate::util::*;
use dicom_core::VR;
use dicom_dictionary_std::tags;
use dicom_encoding::TransferSyntaxIndex;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use std::io::Read;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.8";
const SERIES: &str = "1.2.826.0.1.3680043.8.498.8.1";
const CT_CLASS: &str = "1.2.840.10008.5.1.4.1.1.2";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

fn ct(n: u32) -> Fixture {
    Fixture::ct(CANARY_ID, STUDY, SERIES, &format!("{SERIES}.{n}"))
}

/// The audit records of `out` with this outcome.
fn with_outcome(wd: &Workdir, outcome: &str) -> Vec<serde_json::Value> {
    wd.audit("out").into_iter().filter(|r| r["outcome"] == outcome).collect()
}

/// The transfer syntax UID of an output, from its file meta.
fn ts_of(path: &std::path::Path) -> String {
    open(path).meta().transfer_syntax().trim_end_matches('\0').to_string()
}

#[test]
fn bare_implicit_data_set_is_written_with_a_file_meta() {
    let wd = Workdir::new("bare_implicit_data_set_is_written_with_a_file_meta");
    let ts = TransferSyntaxRegistry.get("1.2.840.10008.1.2").unwrap();
    let mut bytes = Vec::new();
    ct(1).obj.write_dataset_with_ts(&mut bytes, ts).unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/bare"), &bytes).unwrap();
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let obj = open(&out);
    assert_eq!(ts_of(&out), "1.2.840.10008.1.2", "the detected transfer syntax is kept");
    assert_eq!(obj.meta().media_storage_sop_class_uid().trim_end_matches('\0'), CT_CLASS);
    assert_eq!(
        obj.meta().media_storage_sop_instance_uid().trim_end_matches('\0'),
        text(&obj, tags::SOP_INSTANCE_UID).unwrap()
    );
    assert_eq!(raw(&out, tags::PIXEL_DATA), raw(&wd.path("in/bare"), tags::PIXEL_DATA));
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("no Part 10 header"), "{notes}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn explicit_big_endian_keeps_values_pixels_and_transfer_syntax() {
    let wd = Workdir::new("explicit_big_endian_keeps_values_pixels_and_transfer_syntax");
    ct(1).ts("1.2.840.10008.1.2.2").write(&wd.path("in/be.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let input = wd.path("in/be.dcm");
    assert_eq!(ts_of(&out), "1.2.840.10008.1.2.2");
    for tag in [tags::PIXEL_DATA, tags::ROWS, tags::BITS_STORED, tags::MANUFACTURER, tags::IMAGE_TYPE] {
        assert_eq!(raw(&out, tag), raw(&input, tag), "{tag} must keep its bytes");
    }
    let obj = open(&out);
    assert_eq!(obj.element(tags::ROWS).unwrap().to_int::<u16>().unwrap(), 8, "read back as big endian");
    assert_eq!(obj.element(tags::PIXEL_DATA).unwrap().to_multi_int::<u16>().unwrap(), (0..64).collect::<Vec<u16>>());
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

/// The inflated data set of a deflated Part 10 file.
fn inflate(path: &std::path::Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let group_len = u32::from_le_bytes(bytes[140..144].try_into().unwrap()) as usize;
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(&bytes[144 + group_len..]).read_to_end(&mut out).unwrap();
    out
}

#[test]
fn deflated_input_is_de_identified_and_stays_deflated() {
    let wd = Workdir::new("deflated_input_is_de_identified_and_stays_deflated");
    ct(1).ts("1.2.840.10008.1.2.1.99").write(&wd.path("in/dfl.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(ts_of(&out), "1.2.840.10008.1.2.1.99");
    let obj = open(&out);
    assert_eq!(text(&obj, tags::PATIENT_NAME), text(&obj, tags::PATIENT_ID));
    assert_eq!(obj.element(tags::PIXEL_DATA).unwrap().to_multi_int::<u16>().unwrap(), (0..64).collect::<Vec<u16>>());
    // The output bytes are compressed: look for the canaries in the inflated data set too.
    let inflated = inflate(&out);
    for c in CT_CANARIES {
        assert!(!inflated.windows(c.len()).any(|w| w == c.as_bytes()), "{c} in the inflated data set");
    }
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

/// A UN element of undefined length holding one item (CP-246): implicit VR LE inside.
fn un_undefined(tag: (u16, u16), item_body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&tag.0.to_le_bytes());
    v.extend_from_slice(&tag.1.to_le_bytes());
    v.extend_from_slice(b"UN\0\0");
    v.extend_from_slice(&u32::MAX.to_le_bytes());
    v.extend(item_tag(0xE000, u32::MAX));
    v.extend_from_slice(item_body);
    v.extend(item_tag(0xE00D, 0));
    v.extend(item_tag(0xE0DD, 0));
    v
}

#[test]
fn un_of_undefined_length_is_processed_like_a_sequence() {
    let wd = Workdir::new("un_of_undefined_length_is_processed_like_a_sequence");
    let sop = format!("{SERIES}.1");
    let referenced = "1.2.826.0.1.3680043.8.498.8.1.77";
    let mut body = Vec::new();
    body.extend(explicit_le((0x0008, 0x0016), b"UI", &even(CT_CLASS, 0)));
    body.extend(explicit_le((0x0008, 0x0018), b"UI", &even(&sop, 0)));
    // (0008,1140) Referenced Image Sequence as UN: UIDs to map.
    let mut reference = implicit_le((0x0008, 0x1150), &even(CT_CLASS, 0));
    reference.extend(implicit_le((0x0008, 0x1155), &even(referenced, 0)));
    body.extend(un_undefined((0x0008, 0x1140), &reference));
    // A private sequence as UN holding a person name.
    body.extend(explicit_le((0x0009, 0x0010), b"LO", &even("ACME PRIVATE", b' ')));
    body.extend(un_undefined((0x0009, 0x1010), &implicit_le((0x0040, 0xA123), &even("CANARYUNPN^NAME", b' '))));
    body.extend(explicit_le((0x0010, 0x0010), b"PN", &even(CANARY_NAME, b' ')));
    body.extend(explicit_le((0x0010, 0x0020), b"LO", &even(CANARY_ID, b' ')));
    body.extend(explicit_le((0x0020, 0x000D), b"UI", &even(STUDY, 0)));
    body.extend(explicit_le((0x0020, 0x000E), b"UI", &even(SERIES, 0)));
    body.extend(pixel_module());
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/un.dcm"), part10(EXPLICIT_LE, CT_CLASS, &sop, &body)).unwrap();
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let seq = tags::REFERENCED_IMAGE_SEQUENCE;
    let mapped = raw_in_item(&out, seq, 0, tags::REFERENCED_SOP_INSTANCE_UID).unwrap();
    assert_eq!(String::from_utf8_lossy(&mapped).trim_end_matches('\0'), pseudonymizer(7).uid(referenced));
    assert_eq!(raw_in_item(&out, seq, 0, tags::REFERENCED_SOP_CLASS_UID), Some(even(CT_CLASS, 0)));
    assert_eq!(raw(&out, dicom_core::Tag(0x0009, 0x1010)), None, "the private sequence is removed");
    assert_eq!(raw(&out, dicom_core::Tag(0x0009, 0x0010)), None);
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID, "CANARYUNPN", referenced]);
}

#[test]
fn unknown_upper_case_vr_passes_through_as_un() {
    let wd = Workdir::new("unknown_upper_case_vr_passes_through_as_un");
    let sop = format!("{SERIES}.1");
    // (0018,0015) Body Part Examined (unlisted: kept) with a VR code no edition defines.
    let mut el = vec![0x18, 0x00, 0x15, 0x00, b'Z', b'Z', 0, 0];
    el.extend_from_slice(&6u32.to_le_bytes());
    el.extend_from_slice(b"CHEST ");
    let body = instance(CT_CLASS, &sop, &el, &pixel_module());
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/zz.dcm"), part10(EXPLICIT_LE, CT_CLASS, &sop, &body)).unwrap();
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let file = match kamei::read::open(&out, &kamei::read::ReadOptions::default()).unwrap() {
        kamei::read::Opened::Dicom(f) => f,
        other => panic!("{other:?}"),
    };
    let e = file.dataset.get(tags::BODY_PART_EXAMINED).expect("kept");
    assert_eq!(e.vr, VR::UN);
    assert_eq!(e.bytes(), Some(&b"CHEST "[..]));
    open(&out);
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID]);
}

#[test]
fn garbage_vr_bytes_fail_with_a_reason_naming_the_tag() {
    let wd = Workdir::new("garbage_vr_bytes_fail_with_a_reason_naming_the_tag");
    let sop = format!("{SERIES}.1");
    let body = instance(CT_CLASS, &sop, &[], &[0x28, 0x00, 0x10, 0x00, 0x01, 0x02, 2, 0, 8, 0]);
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/bad.dcm"), part10(EXPLICIT_LE, CT_CLASS, &sop, &body)).unwrap();
    ct(2).write(&wd.path("in/good.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(1);
    assert!(run.stderr().contains("(0028,0010)"), "{}", run.stderr());
    let failed = with_outcome(&wd, "failed");
    assert_eq!(failed.len(), 1);
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(reason.contains("(0028,0010)") && reason.contains("VR"), "{reason}");
    assert_eq!(wd.dicom_outputs("out").len(), 1, "the good file is still written");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn value_length_past_the_end_fails_with_a_reason() {
    let wd = Workdir::new("value_length_past_the_end_fails_with_a_reason");
    let sop = format!("{SERIES}.1");
    // (0028,0004) declares 1000 bytes; 12 follow.
    let mut el = vec![0x28, 0x00, 0x04, 0x00, b'C', b'S'];
    el.extend_from_slice(&1000u16.to_le_bytes());
    el.extend_from_slice(b"MONOCHROME2 ");
    let body = instance(CT_CLASS, &sop, &[], &el);
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/long.dcm"), part10(EXPLICIT_LE, CT_CLASS, &sop, &body)).unwrap();
    let run = wd.deid(&[]);
    run.assert_code(1);
    let failed = with_outcome(&wd, "failed");
    assert_eq!(failed.len(), 1);
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(reason.contains("(0028,0004)") && reason.contains("1000"), "{reason}");
    assert!(wd.dicom_outputs("out").is_empty());
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID]);
}

#[test]
fn dicomdir_is_skipped_and_the_run_succeeds() {
    let wd = Workdir::new("dicomdir_is_skipped_and_the_run_succeeds");
    let mut body = explicit_le((0x0004, 0x1130), b"CS", &even("CANARYFILESET", b' '));
    body.extend(explicit_le((0x0004, 0x1200), b"UL", &0u32.to_le_bytes()));
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/DICOMDIR"), part10(EXPLICIT_LE, "1.2.840.10008.1.3.10", "1.2.3.4", &body)).unwrap();
    ct(1).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let skipped = with_outcome(&wd, "skipped");
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0]["reason"].as_str().unwrap().contains("DICOMDIR"), "{}", skipped[0]);
    assert_eq!(wd.dicom_outputs("out").len(), 1);
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["CANARYFILESET"]].concat());
}

#[test]
#[cfg(unix)]
fn a_fifo_among_the_inputs_is_skipped_without_being_opened() {
    let wd = Workdir::new("a_fifo_among_the_inputs_is_skipped_without_being_opened");
    ct(1).write(&wd.path("in/a.dcm"));
    let made = std::process::Command::new("mkfifo").arg(wd.path("in/pipe.dcm")).status().unwrap();
    assert!(made.success());
    let run = wd.deid(&[]);
    run.assert_code(0);
    let skipped = with_outcome(&wd, "skipped");
    assert_eq!(skipped.len(), 1, "the FIFO has its audit record");
    assert!(skipped[0]["reason"].as_str().unwrap().contains("not a regular file"), "{}", skipped[0]);
    assert_eq!(wd.dicom_outputs("out").len(), 1);
}

#[test]
#[cfg(unix)]
fn rv21_01_a_fifo_met_by_every_rerun_keeps_one_audit_record() {
    let wd = Workdir::new("rv21_01_a_fifo_met_by_every_rerun_keeps_one_audit_record");
    ct(1).write(&wd.path("in/a.dcm"));
    assert!(std::process::Command::new("mkfifo").arg(wd.path("in/pipe")).status().unwrap().success());
    for _ in 0..3 {
        wd.deid(&[]).assert_code(0);
    }
    assert_eq!(with_outcome(&wd, "skipped").len(), 1, "{:?}", wd.audit("out"));
    assert_eq!(wd.audit("out").len(), 2, "one record per input");
}

#[test]
#[cfg(unix)]
fn rv21_02_an_entry_reached_through_overlapping_inputs_counts_once() {
    let wd = Workdir::new("rv21_02_an_entry_reached_through_overlapping_inputs_counts_once");
    ct(1).write(&wd.path("in/sub/a.dcm"));
    std::os::unix::fs::symlink(wd.path("gone.dcm"), wd.path("in/sub/dangling.dcm")).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(wd.path("in/sub/pipe")).status().unwrap().success());
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei(["deid", "in", "in/sub", "-o", "out", "--key", k.to_str().unwrap()]);
    run.assert_code(1);
    let stderr = run.stderr();
    assert!(stderr.contains("3 inputs") && stderr.contains("1 skipped, 1 failed"), "{stderr}");
    assert_eq!(stderr.matches("kamei: failed: input #").count(), 1, "{stderr}");
    assert_eq!(wd.audit("out").len(), 3, "one record per input, as the summary counts");
    assert_eq!(with_outcome(&wd, "failed").len(), 1);
    assert_eq!(with_outcome(&wd, "skipped").len(), 1);
}

#[test]
fn an_overlay_embedded_in_the_pixel_bits_is_zeroed() {
    use dicom_core::{DataElement, PrimitiveValue};
    let wd = Workdir::new("an_overlay_embedded_in_the_pixel_bits_is_zeroed");
    // Image values 0..64 in the 12 stored bits; an overlay drawn in bit 15 of every other pixel.
    let pixels: Vec<u16> = (0..64u16).map(|v| if v % 2 == 0 { v | 0x8000 } else { v }).collect();
    ct(1)
        .put(DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(pixels.into_iter().collect())))
        .put(DataElement::new(dicom_core::Tag(0x6000, 0x0010), VR::US, PrimitiveValue::from(8u16)))
        .put(DataElement::new(dicom_core::Tag(0x6000, 0x0011), VR::US, PrimitiveValue::from(8u16)))
        .put(DataElement::new(dicom_core::Tag(0x6000, 0x0100), VR::US, PrimitiveValue::from(1u16)))
        .put(DataElement::new(dicom_core::Tag(0x6000, 0x0102), VR::US, PrimitiveValue::from(15u16)))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = &wd.dicom_outputs("out")[0];
    let bytes = raw(out, tags::PIXEL_DATA).unwrap();
    let values: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    assert_eq!(values, (0..64u16).collect::<Vec<_>>(), "overlay bits zeroed, image values kept");
    let written = with_outcome(&wd, "written");
    assert!(written[0]["notes"].to_string().contains("overlay embedded"), "{}", written[0]);
}

#[test]
fn same_sop_instance_uid_in_two_inputs_gives_two_outputs() {
    let wd = Workdir::new("same_sop_instance_uid_in_two_inputs_gives_two_outputs");
    ct(1).write(&wd.path("in/a.dcm"));
    ct(1).put(str_el(tags::MANUFACTURER, VR::LO, "OTHER VENDOR")).write(&wd.path("in/b.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let outs = wd.dicom_outputs("out");
    assert_eq!(outs.len(), 2, "{outs:?}");
    let sop = pseudonymizer(7).uid(&format!("{SERIES}.1"));
    let audit = wd.audit("out");
    // The higher output hash takes a name with its own output hash (whichever came first).
    let collided: Vec<&serde_json::Value> =
        audit.iter().filter(|r| !r["output"].as_str().unwrap().ends_with(&format!("/{sop}.dcm"))).collect();
    assert_eq!(collided.len(), 1, "{audit:?}");
    let hash = collided[0]["output_sha256"].as_str().unwrap();
    let name = collided[0]["output"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    assert_eq!(name, format!("{sop}.{}.dcm", &hash[..12]));
    let file_hash = |p: &std::path::Path| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
    };
    let plain = outs.iter().find(|p| p.file_name().unwrap().to_string_lossy() == format!("{sop}.dcm")).unwrap();
    let other = outs.iter().find(|p| p.file_name().unwrap().to_string_lossy() == name).unwrap();
    assert_eq!(file_hash(other), hash);
    assert!(file_hash(plain) < file_hash(other), "the lower output hash holds the plain name");
    let names: Vec<String> = outs.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(names.contains(&format!("{sop}.dcm")), "{names:?}");
    assert!(names.contains(&name), "{names:?}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn same_content_at_two_paths_is_written_once_and_present_once() {
    let wd = Workdir::new("same_content_at_two_paths_is_written_once_and_present_once");
    ct(1).write(&wd.path("in/a.dcm"));
    std::fs::create_dir_all(wd.path("in/copy")).unwrap();
    std::fs::copy(wd.path("in/a.dcm"), wd.path("in/copy/a.dcm")).unwrap();
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap()]);
    run.assert_code(0);
    assert!(run.stderr().contains("1 written, 1 already present"), "{}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 1);
    let audit = wd.audit("out");
    assert_eq!(audit.len(), 2, "one record per input: its content hash and the keyed hash of its path");
    assert_eq!(audit[0]["input_sha256"], audit[1]["input_sha256"]);
    assert_ne!(audit[0]["input_path_key"], audit[1]["input_path_key"]);
    assert_eq!(audit[0]["output"], audit[1]["output"]);
    assert!(wd.path("out").join(audit[0]["output"].as_str().unwrap()).is_file());
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn exit_code_is_1_only_when_an_input_failed() {
    let wd = Workdir::new("exit_code_is_1_only_when_an_input_failed");
    ct(1).write(&wd.path("in/a.dcm"));
    std::fs::write(wd.path("in/readme.txt"), b"not DICOM").unwrap();
    let run = wd.deid(&[]);
    run.assert_code(0);
    ct(2).write(&wd.path("in/cut.dcm"));
    let bytes = std::fs::read(wd.path("in/cut.dcm")).unwrap();
    std::fs::write(wd.path("in/cut.dcm"), &bytes[..bytes.len() - 20]).unwrap();
    let run = wd.deid(&[]);
    run.assert_code(1);
    assert_eq!(with_outcome(&wd, "failed").len(), 1);
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[cfg(unix)]
#[test]
fn unreadable_directory_is_reported_and_counted() {
    use std::os::unix::fs::PermissionsExt;
    let wd = Workdir::new("unreadable_directory_is_reported_and_counted");
    ct(1).write(&wd.path("in/open/a.dcm"));
    ct(2).write(&wd.path("in/locked/b.dcm"));
    let locked = wd.path("in/locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(&locked).is_ok() {
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!("unreadable_directory_is_reported_and_counted skipped: mode 000 does not stop this user (root)");
        return;
    }
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap()]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    run.assert_code(1);
    assert!(run.stderr().contains("failed: input #2 (a directory entry in INPUT argument #1)"), "{}", run.stderr());
    assert!(run.stderr().contains("1 failed"), "{}", run.stderr());
    assert!(!run.stderr().contains("locked"), "paths are not printed without --show-paths");
    let failed = with_outcome(&wd, "failed");
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["input_sha256"].is_null());
    assert_eq!(wd.dicom_outputs("out").len(), 1);
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn a_wrong_length_inside_the_patients_name_fails_without_printing_its_bytes() {
    let wd = Workdir::new("a_wrong_length_inside_the_patients_name_fails_without_printing_its_bytes");
    let sop = format!("{SERIES}.1");
    let mut body = instance(CT_CLASS, &sop, &[], &[]);
    // The Patient's Name declares 4 bytes: the parser then reads a "header" from the rest of it.
    let at = body.windows(2).position(|w| w == b"PN").unwrap();
    body[at + 2..at + 4].copy_from_slice(&4u16.to_le_bytes());
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/bad.dcm"), part10(EXPLICIT_LE, CT_CLASS, &sop, &body)).unwrap();
    let run = wd.deid(&[]);
    run.assert_code(1);
    let reason = with_outcome(&wd, "failed")[0]["reason"].as_str().unwrap().to_string();
    let name = &CANARY_NAME.as_bytes()[4..];
    // Whatever the parser read from the name, as hex in either byte order, is not in the reason.
    for window in name.windows(2) {
        for hex in [format!("{:02X}{:02X}", window[1], window[0]), format!("{:02X} {:02X}", window[0], window[1])] {
            assert!(!reason.contains(&hex), "{hex} in {reason}");
        }
    }
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID]);
}

#[test]
fn file_meta_elements_read_into_the_data_set_are_not_written() {
    let wd = Workdir::new("file_meta_elements_read_into_the_data_set_are_not_written");
    let sop = format!("{SERIES}.1");
    let body = instance(CT_CLASS, &sop, &[], &[]);
    let mut file = part10(EXPLICIT_LE, CT_CLASS, &sop, &body);
    // A bit flip in the meta: (0002,0002) becomes (000A,0002), so the meta ends there.
    let at = file.windows(4).position(|w| w == [0x02, 0x00, 0x02, 0x00]).unwrap();
    file[at] = 0x0A;
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/a.dcm"), file).unwrap();
    let run = wd.deid(&[]);
    let outs = wd.dicom_outputs("out");
    assert_eq!(run.code(), if outs.is_empty() { 1 } else { 0 }, "{}", run.stderr());
    for out in outs {
        match kamei::read::open(&out, &kamei::read::ReadOptions::default()).unwrap() {
            kamei::read::Opened::Dicom(f) => {
                assert!(f.dataset.elements().iter().all(|e| e.tag.group() != 0x0002), "{:?}", f.dataset)
            }
            _ => panic!("not DICOM"),
        }
    }
}

/// Modality, then Manufacturer whose length runs over Patient's Name, ID and Birth Date (an
/// Explicit VR LE body, in tag order); `length_too_long` false gives the undamaged file.
fn manufacturer_over_the_patient(sop: &str, length_too_long: bool) -> Vec<u8> {
    let tail = [
        explicit_le((0x0010, 0x0010), b"PN", &even("YAMADA^TARO", b' ')),
        explicit_le((0x0010, 0x0020), b"LO", &even("PID5550123", b' ')),
        explicit_le((0x0010, 0x0030), b"DA", b"19600101"),
    ]
    .concat();
    let mut body = explicit_le((0x0008, 0x0016), b"UI", &even(CT_CLASS, 0));
    body.extend(explicit_le((0x0008, 0x0018), b"UI", &even(sop, 0)));
    body.extend(explicit_le((0x0008, 0x0060), b"CS", b"CT"));
    let mut manufacturer = explicit_le((0x0008, 0x0070), b"LO", b"GE");
    if length_too_long {
        manufacturer[6..8].copy_from_slice(&(2 + tail.len() as u16).to_le_bytes());
    }
    body.extend(manufacturer);
    body.extend(tail);
    body.extend(explicit_le((0x0020, 0x000D), b"UI", &even(STUDY, 0)));
    body.extend(explicit_le((0x0020, 0x000E), b"UI", &even(SERIES, 0)));
    body.extend(pixel_module());
    part10(EXPLICIT_LE, CT_CLASS, sop, &body)
}

#[test]
fn rv27_01_a_kept_value_that_swallowed_the_patients_elements_after_a_wrong_length_fails_the_file() {
    let wd =
        Workdir::new("rv27_01_a_kept_value_that_swallowed_the_patients_elements_after_a_wrong_length_fails_the_file");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/bad.dcm"), manufacturer_over_the_patient(&format!("{SERIES}.1"), true)).unwrap();
    std::fs::write(wd.path("in/good.dcm"), manufacturer_over_the_patient(&format!("{SERIES}.2"), false)).unwrap();
    let run = wd.deid(&[]);
    run.assert_code(1);
    assert_eq!(wd.dicom_outputs("out").len(), 1, "the undamaged file is written");
    assert!(
        run.stderr().contains("(0008,0070) holds bytes its VR does not allow") && run.stderr().contains("wrong"),
        "{}",
        run.stderr()
    );
    assert_no_leak(&wd, "out", &run, &["YAMADA", "PID5550123", "19600101"]);
}

#[test]
fn rv27_01_a_kept_value_holding_a_nul_before_its_end_gets_a_dummy() {
    let wd = Workdir::new("rv27_01_a_kept_value_holding_a_nul_before_its_end_gets_a_dummy");
    ct(1).put(raw_el(tags::MANUFACTURER, VR::LO, b"ACME\0XYZ")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(text(&open(&out), tags::MANUFACTURER).as_deref(), Some("ANONYMIZED"));
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(0008,0070)") && notes.contains("does not allow"), "{notes}");
}

/// rv39: directory entries that fail (dangling links, a link loop) are named without
/// `--show-paths` by a position number of their own, as files are (`input #N`, after the
/// files), with their INPUT argument, never by path: the messages tell them apart, one per
/// failed audit record, and the numbers run on from the files' to the summary's count.
#[test]
#[cfg(unix)]
fn rv39_failed_directory_entries_are_numbered_like_inputs_without_their_paths() {
    let wd = Workdir::new("rv39_failed_directory_entries_are_numbered_like_inputs_without_their_paths");
    ct(1).write(&wd.path("in/a.dcm"));
    ct(2).write(&wd.path("in/b.dcm"));
    std::os::unix::fs::symlink(wd.path("gone-PATIENT1.dcm"), wd.path("in/dangling-PATIENT1.dcm")).unwrap();
    std::os::unix::fs::symlink(wd.path("gone-PATIENT2.dcm"), wd.path("in/dangling-PATIENT2.dcm")).unwrap();
    std::os::unix::fs::symlink("loop-PATIENT3", wd.path("in/loop-PATIENT3")).unwrap();
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", key(&wd, "k.key", 7).to_str().unwrap()]);
    run.assert_code(1);
    let stderr = run.stderr();
    assert!(stderr.contains("5 inputs") && stderr.contains("3 failed"), "{stderr}");
    assert!(!stderr.contains("PATIENT"), "no path without --show-paths: {stderr}");
    let mut numbers: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("kamei: failed: input #") && l.contains("(a directory entry in INPUT argument #1)"))
        .map(|l| l["kamei: failed: input #".len()..].split(' ').next().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["3", "4", "5"], "{stderr}");
    assert_eq!(with_outcome(&wd, "failed").len(), 3, "one failed record per message");
}
