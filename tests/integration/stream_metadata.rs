//! Metadata segments inside compressed frames (rv14 03): a clinical photo's JPEG stream with
//! EXIF (the patient's name, ID, birth date and the real date) and a comment. kamei removes
//! them in every mode without changing the decoded image, keeps streams without them byte for
//! byte, keeps the offset tables consistent, and `verify` reports a release that still has them.

use crate::util::*;
use dicom_core::value::{PixelFragmentSequence, PrimitiveValue, Value as DicomValue};
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use std::path::Path;
use std::process::Command;

const VL_PHOTO: &str = "1.2.840.10008.5.1.4.1.1.77.1.4";
const BASELINE: &str = "1.2.840.10008.1.2.4.50";
const STUDY: &str = "1.2.826.0.1.3680043.8.498.31";
const LEAKS: [&str; 4] = ["YAMADA", "PID7788123", "1985-03-15", "2024:01:02"];

/// A 64 × 48 RGB picture without text.
fn picture() -> Vec<u8> {
    (0..64 * 48).flat_map(|i| [180 + (i % 64 / 4) as u8, 120 + (i / 64 % 30) as u8, 100]).collect()
}

/// The picture as JPEG baseline (JFIF APP0 only), with `apps` added.
fn jpeg(apps: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = jpeg_encoder::Encoder::new(&mut out, 92);
    for (n, data) in apps {
        e.add_app_segment(*n, data).unwrap();
    }
    e.encode(&picture(), 64, 48, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// As a camera writes it: EXIF with the patient and the real date, and a comment.
fn camera_jpeg() -> Vec<u8> {
    let exif =
        b"Exif\0\0MM\0*\0\0\0\x08Patient YAMADA TARO PID7788123 DOB 1985-03-15 Artist YAMADA TARO 2024:01:02 10:11:12";
    let s = jpeg(&[(1, exif)]);
    let com = b"\xff\xfe\x00\x18YAMADA^TARO PID7788123";
    [&s[..2], com, &s[2..]].concat()
}

/// A VL Photographic image of the patient of the EXIF, JPEG baseline, one frame per fragment.
fn photo(n: u32, frames: Vec<Vec<u8>>, offsets: Vec<u32>) -> Fixture {
    let count = frames.len();
    let value: DicomValue<InMemDicomObject, Vec<u8>> =
        DicomValue::PixelSequence(PixelFragmentSequence::new(offsets, frames));
    let mut f = Fixture::ct("PID7788123", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.{n}"))
        .put(str_el(tags::SOP_CLASS_UID, VR::UI, VL_PHOTO))
        .put(str_el(tags::MODALITY, VR::CS, "XC"))
        .put(str_el(tags::PATIENT_NAME, VR::PN, "YAMADA^TARO"))
        .put(str_el(tags::PATIENT_BIRTH_DATE, VR::DA, "19850315"))
        .put(DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(3u16)))
        .put(str_el(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "YBR_FULL_422"))
        .put(DataElement::new(tags::PLANAR_CONFIGURATION, VR::US, PrimitiveValue::from(0u16)))
        .put(DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(48u16)))
        .put(DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(64u16)))
        .put(DataElement::new(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(8u16)))
        .put(DataElement::new(tags::BITS_STORED, VR::US, PrimitiveValue::from(8u16)))
        .put(DataElement::new(tags::HIGH_BIT, VR::US, PrimitiveValue::from(7u16)))
        .put(str_el(tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "01"))
        .put(DataElement::new(tags::PIXEL_DATA, VR::OB, value))
        .ts(BASELINE);
    if count > 1 {
        f = f.put(str_el(tags::NUMBER_OF_FRAMES, VR::IS, &count.to_string()));
    }
    f
}

fn deid(wd: &Workdir, extra: &[&str]) -> Run {
    let k = key(wd, "k.key", 5);
    let mut args = vec!["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"];
    args.extend_from_slice(extra);
    wd.kamei(args)
}

fn only_output(wd: &Workdir) -> std::path::PathBuf {
    let outs = wd.dicom_outputs("out");
    assert_eq!(outs.len(), 1, "{outs:?}");
    outs[0].clone()
}

/// Every frame decoded through kamei's own path (dicom-rs' JPEG decoder).
fn decoded(path: &Path) -> Vec<u8> {
    let opened = kamei::read::open(path, &kamei::read::ReadOptions::default()).unwrap();
    let kamei::read::Opened::Dicom(f) = opened else { panic!("not DICOM") };
    kamei::pixels::decode::decode(&f.dataset, &f.transfer_syntax, Some(path)).unwrap().data
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn assert_stripped(wd: &Workdir, input: &Path) {
    let out = only_output(wd);
    let bytes = std::fs::read(&out).unwrap();
    for leak in LEAKS {
        assert!(!contains(&bytes, leak.as_bytes()), "{leak} left in the output");
    }
    assert_eq!(decoded(&out), decoded(input), "the decoded image is unchanged");
    let record = &wd.audit("out")[0];
    let actions: Vec<(String, u64)> = record["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["tag"] == "(7FE0,0010)")
        .map(|a| (a["action"].as_str().unwrap().to_string(), a["count"].as_u64().unwrap()))
        .collect();
    assert!(actions.contains(&("remove-jpeg-app1".into(), 1)), "{actions:?}");
    assert!(actions.contains(&("remove-jpeg-com".into(), 1)), "{actions:?}");
    let notes = record["notes"].to_string();
    assert!(notes.contains("1 APP1, 1 COM"), "{notes}");
    assert!(!notes.contains("YAMADA"));
}

#[test]
fn exif_and_comment_segments_do_not_leave_with_a_header_only_run() {
    let wd = Workdir::new("exif_and_comment_segments_do_not_leave_with_a_header_only_run");
    photo(1, vec![camera_jpeg()], vec![]).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    assert_stripped(&wd, &wd.path("in/a.dcm"));
    let obj = open(&only_output(&wd));
    assert_eq!(obj.meta().transfer_syntax().trim_end_matches('\0'), BASELINE, "still JPEG: no re-encoding");
}

#[test]
fn exif_and_comment_segments_do_not_leave_when_the_cleaner_finds_no_text() {
    let wd = Workdir::new("exif_and_comment_segments_do_not_leave_when_the_cleaner_finds_no_text");
    photo(2, vec![camera_jpeg()], vec![]).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--option", "clean-pixel-data"]).assert_code(0);
    assert_stripped(&wd, &wd.path("in/a.dcm"));
    let record = &wd.audit("out")[0];
    assert_eq!(record["pixels"]["boxes"].as_array().map(Vec::len), Some(0), "nothing burned in: {record}");
    let run = wd.kamei(["verify", "out", "--against", "in"]);
    assert!(!run.stdout().contains("stream-metadata"), "{}", run.stdout());
}

#[test]
fn a_jpeg_stream_with_only_jfif_keeps_its_pixel_data_byte_for_byte() {
    let wd = Workdir::new("a_jpeg_stream_with_only_jfif_keeps_its_pixel_data_byte_for_byte");
    photo(3, vec![jpeg(&[]), jpeg(&[])], vec![]).write(&wd.path("in/plain/a.dcm"));
    photo(9, vec![camera_jpeg()], vec![]).write(&wd.path("in/camera/b.dcm"));
    let k = key(&wd, "k.key", 5);
    wd.kamei(["deid", "in/plain", "in/camera", "-o", "out", "--key", k.to_str().unwrap(), "-q", "--layout", "mirror"])
        .assert_code(0);
    let out = wd.path("out/plain/a.dcm");
    assert_eq!(encapsulated(&out), encapsulated(&wd.path("in/plain/a.dcm")));
    // In the same run, the camera's stream is rewritten: only what carries metadata changes.
    assert!(encapsulated(&wd.path("out/camera/b.dcm")).fragments.iter().all(|f| !contains(f, b"YAMADA")));
    let audit = wd.audit("out");
    assert_eq!(audit.iter().filter(|r| r["actions"].to_string().contains("remove-jpeg")).count(), 1);
}

/// The encapsulated Pixel Data of a file as kamei's own reader keeps it (bytes exactly as stored).
fn encapsulated(path: &Path) -> kamei::dataset::Fragments {
    let opened = kamei::read::open(path, &kamei::read::ReadOptions::default()).unwrap();
    let kamei::read::Opened::Dicom(f) = opened else { panic!("not DICOM") };
    match &f.dataset.get(tags::PIXEL_DATA).unwrap().value {
        kamei::dataset::Value::Fragments(x) => x.clone(),
        other => panic!("not encapsulated: {other:?}"),
    }
}

/// The encapsulated items of Pixel Data in an output: the offset table, then the fragments.
fn items(path: &Path) -> (Vec<u32>, Vec<Vec<u8>>) {
    let obj = open(path);
    let e = obj.element(tags::PIXEL_DATA).unwrap();
    let table = e.value().offset_table().unwrap().to_vec();
    let frags = e.value().fragments().unwrap().to_vec();
    (table, frags)
}

/// dciodvfy's error lines with values masked (UIDs and dates change by design).
fn dciodvfy_errors(path: &Path) -> Vec<String> {
    let out = Command::new("dciodvfy").arg(path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let mut lines: Vec<String> =
        text.lines().filter(|l| l.starts_with("Error")).map(|l| l.split('<').next().unwrap().to_string()).collect();
    lines.sort();
    lines.dedup();
    lines
}

#[test]
fn the_basic_offset_table_points_at_each_frame_after_the_segments_are_removed() {
    let wd = Workdir::new("the_basic_offset_table_points_at_each_frame_after_the_segments_are_removed");
    let mut frames = vec![camera_jpeg(), jpeg(&[]), camera_jpeg()];
    for f in &mut frames {
        if f.len() % 2 == 1 {
            f.push(0);
        }
    }
    let mut offsets = vec![0u32];
    for f in &frames[..2] {
        offsets.push(offsets.last().unwrap() + 8 + f.len() as u32);
    }
    photo(4, frames.clone(), offsets).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let out = only_output(&wd);
    let (table, frags) = items(&out);
    assert_eq!(frags.len(), 3, "one fragment per frame, as in the input");
    assert_eq!(frags[1], frames[1], "the frame without metadata is unchanged");
    assert!(frags.iter().all(|f| !contains(f, b"YAMADA")));
    let mut at = 0u32;
    for (n, f) in frags.iter().enumerate() {
        assert_eq!(table[n], at, "offset of frame {}", n + 1);
        assert!(f.starts_with(&[0xFF, 0xD8]) && f.len() % 2 == 0);
        at += 8 + f.len() as u32;
    }
    assert_eq!(decoded(&out), decoded(&wd.path("in/a.dcm")), "every frame decodes as before");
    if Command::new("dciodvfy").arg("-").output().is_err() {
        eprintln!("dciodvfy check skipped: dicom3tools is not installed (.ci/run installs it)");
        return;
    }
    let (before, after) = (dciodvfy_errors(&wd.path("in/a.dcm")), dciodvfy_errors(&out));
    let new: Vec<&String> = after.iter().filter(|e| !before.contains(e)).collect();
    assert!(new.is_empty(), "errors the input did not have: {new:?}");
}

#[test]
fn the_extended_offset_table_follows_the_shorter_frames() {
    let wd = Workdir::new("the_extended_offset_table_follows_the_shorter_frames");
    let mut frames = vec![camera_jpeg(), camera_jpeg()];
    for f in &mut frames {
        if f.len() % 2 == 1 {
            f.push(0);
        }
    }
    let w = frames[0].len() as u64;
    let le = |v: [u64; 2]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    photo(5, frames, vec![])
        .put(raw_el(tags::EXTENDED_OFFSET_TABLE, VR::OV, &le([0, 8 + w])))
        .put(raw_el(tags::EXTENDED_OFFSET_TABLE_LENGTHS, VR::OV, &le([w, w])))
        .write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let out = only_output(&wd);
    let (table, frags) = items(&out);
    assert!(table.is_empty());
    let n = frags[0].len() as u64;
    assert!(n < w);
    assert_eq!(raw(&out, tags::EXTENDED_OFFSET_TABLE).unwrap(), le([0, 8 + n]));
    assert_eq!(raw(&out, tags::EXTENDED_OFFSET_TABLE_LENGTHS).unwrap(), le([n, n]));
}

#[test]
fn verify_reports_a_release_whose_jpeg_stream_still_has_a_comment() {
    let wd = Workdir::new("verify_reports_a_release_whose_jpeg_stream_still_has_a_comment");
    photo(6, vec![jpeg(&[])], vec![]).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--option", "clean-pixel-data"]).assert_code(0);
    wd.kamei(["verify", "out"]).assert_code(0);
    // The release as another tool (or an older kamei) would have made it: a comment in the stream.
    let out = only_output(&wd);
    let mut obj = open(&out);
    let plain = jpeg(&[]);
    let with = [&plain[..2], b"\xff\xfe\x00\x08YAMADA", &plain[2..]].concat();
    let value: DicomValue<InMemDicomObject, Vec<u8>> =
        DicomValue::PixelSequence(PixelFragmentSequence::new(Vec::<u32>::new(), vec![with]));
    obj.put(DataElement::new(tags::PIXEL_DATA, VR::OB, value));
    obj.write_to_file(&out).unwrap();
    let run = wd.kamei(["verify", "out"]);
    run.assert_code(1);
    let line = run.stdout().lines().find(|l| l.contains("stream-metadata")).map(str::to_string);
    let line = line.unwrap_or_else(|| panic!("no stream-metadata finding: {}", run.stdout()));
    assert!(line.contains("(7FE0,0010)") && line.contains("1 COM"), "{line}");
    assert!(!run.stdout().contains("YAMADA"));
}

/// A file over the 64 MiB in-memory limit: its pixel data stays on disk and is copied through.
/// One JPEG frame followed by 65 MiB of zero bytes (padding, which holds nothing).
fn large_photo(n: u32, stream: Vec<u8>, path: &Path) {
    let mut frame = stream;
    frame.resize(frame.len() + (65 << 20), 0);
    photo(n, vec![frame], vec![]).write(path);
}

#[test]
fn a_large_file_whose_jpeg_stream_has_metadata_fails_and_one_without_is_written() {
    let wd = Workdir::new("a_large_file_whose_jpeg_stream_has_metadata_fails_and_one_without_is_written");
    large_photo(7, camera_jpeg(), &wd.path("in/exif.dcm"));
    large_photo(8, jpeg(&[]), &wd.path("in/plain.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(1);
    assert!(run.stderr().contains("metadata segments (1 APP1, 1 COM)"), "{}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 1, "only the file without metadata is written");
    for leak in LEAKS {
        assert_eq!(wd.tree_contains("out", leak.as_bytes()), None, "{leak}");
    }
    let failed: Vec<_> = wd.audit("out").into_iter().filter(|r| r["outcome"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["reason"].as_str().unwrap().contains("64 MiB"), "{}", failed[0]["reason"]);
}
