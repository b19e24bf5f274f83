//! Pixel data whose layout does not fit what describes it (rv38 01 and 02): odd-length
//! encapsulated fragments, padded on output, keep offset tables that name their items and
//! frames that decode as before; native pixel data shorter than Rows × Columns... declare, or
//! a Rows that swallowed Columns, fails instead of being released as written.

use crate::util::bytes::{explicit_le, instance, item_tag, part10};
use crate::util::*;
use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use kamei::dataset::Value;
use kamei::read::{Opened, ReadOptions};

const MULTIFRAME_SC: &str = "1.2.840.10008.5.1.4.1.1.7.2";
const BASELINE: &str = "1.2.840.10008.1.2.4.50";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

/// A 32 × 32 grey JPEG baseline frame, different for each `n`, of odd length (a zero byte
/// after EOI when the encoder made it even: the writer's damage this is about).
fn odd_frame(n: u8) -> Vec<u8> {
    let grey: Vec<u8> = (0..32 * 32u32).map(|i| n.wrapping_mul(60).wrapping_add((i % 32 * 4) as u8)).collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90).encode(&grey, 32, 32, jpeg_encoder::ColorType::Luma).unwrap();
    if out.len() % 2 == 0 {
        out.push(0);
    }
    out
}

/// A hand-built multi-frame grey JPEG image (dicom-object would pad the fragments itself):
/// `fragments` after a Basic Offset Table of `offsets`.
fn encapsulated(sop: &str, frames: usize, offsets: &[u32], fragments: &[Vec<u8>]) -> Vec<u8> {
    let mut tail = Vec::new();
    tail.extend(explicit_le((0x0028, 0x0002), b"US", &1u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0004), b"CS", b"MONOCHROME2 "));
    tail.extend(explicit_le((0x0028, 0x0008), b"IS", format!("{frames} ").as_bytes()));
    tail.extend(explicit_le((0x0028, 0x0010), b"US", &32u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0011), b"US", &32u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0100), b"US", &8u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0101), b"US", &8u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0102), b"US", &7u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0103), b"US", &0u16.to_le_bytes()));
    tail.extend([0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
    tail.extend(item_tag(0xE000, 4 * offsets.len() as u32));
    tail.extend(offsets.iter().flat_map(|o| o.to_le_bytes()));
    for f in fragments {
        tail.extend(item_tag(0xE000, f.len() as u32));
        tail.extend(f);
    }
    tail.extend(item_tag(0xE0DD, 0));
    part10(BASELINE, MULTIFRAME_SC, sop, &instance(MULTIFRAME_SC, sop, &[], &tail))
}

/// The Basic Offset Table and fragments of an output, as kamei reads them.
fn fragments_of(path: &std::path::Path) -> (Vec<u64>, Vec<Vec<u8>>) {
    let file = match kamei::read::open(path, &ReadOptions::default()).unwrap() {
        Opened::Dicom(f) => f,
        other => panic!("{other:?}"),
    };
    match &file.dataset.get(tags::PIXEL_DATA).unwrap().value {
        Value::Fragments(f) => (
            f.offset_table.chunks(4).map(|c| u64::from(u32::from_le_bytes(c.try_into().unwrap()))).collect(),
            f.fragments.clone(),
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn odd_length_fragments_are_padded_and_the_offset_table_names_their_items() {
    let wd = Workdir::new("odd_length_fragments_are_padded_and_the_offset_table_names_their_items");
    let frames: Vec<Vec<u8>> = (0..3).map(odd_frame).collect();
    let mut offsets = Vec::new();
    let mut at = 0u32;
    for f in &frames {
        offsets.push(at);
        at += 8 + f.len() as u32;
    }
    let sop = "1.2.826.0.1.3680043.8.498.38.1";
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/odd.dcm"), encapsulated(sop, 3, &offsets, &frames)).unwrap();
    wd.deid(&[]).assert_code(0);
    let (table, fragments) = fragments_of(&wd.only_output("out"));
    let mut starts = Vec::new();
    let mut at = 0u64;
    for f in &fragments {
        assert_eq!(f.len() % 2, 0, "every fragment is written with an even length");
        starts.push(at);
        at += 8 + f.len() as u64;
    }
    assert_eq!(table.len(), 3);
    for (n, (entry, source)) in table.iter().zip(&frames).enumerate() {
        let k = starts
            .iter()
            .position(|s| s == entry)
            .unwrap_or_else(|| panic!("offset table entry {n} = {entry} is not the start of an item ({starts:?})"));
        // The frame it names is the source's codestream, then the pad byte after its EOI.
        assert_eq!(&fragments[k][..source.len()], &source[..], "frame {n}");
        assert!(fragments[k][source.len()..].iter().all(|&b| b == 0), "frame {n}");
    }
}

#[test]
fn an_odd_length_fragment_inside_a_frame_fails_the_file() {
    let wd = Workdir::new("an_odd_length_fragment_inside_a_frame_fails_the_file");
    let frame = odd_frame(1);
    // Cut after an odd number of bytes, inside the compressed data: a pad byte there would
    // change the image.
    let (a, b) = frame.split_at((frame.len() / 2) | 1);
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let sop = "1.2.826.0.1.3680043.8.498.38.2";
    std::fs::write(wd.path("in/split.dcm"), encapsulated(sop, 1, &[0], &[a.to_vec(), b.to_vec()])).unwrap();
    wd.deid(&[]).assert_code(1);
    let audit = wd.audit("out");
    assert_eq!(audit[0]["outcome"], "failed", "{audit:?}");
    let reason = audit[0]["reason"].as_str().unwrap();
    assert!(reason.contains("fragment 1 ") && reason.contains("odd length"), "{reason}");
    assert!(wd.dicom_outputs("out").is_empty());
}

/// Runs deid on a complete CT (written) and on `damaged`, and returns the reason `damaged`
/// failed with.
fn failure_of(name: &str, damaged: Vec<u8>) -> String {
    let wd = Workdir::new(name);
    let study = "1.2.826.0.1.3680043.8.498.38.5";
    Fixture::ct("PID38", study, &format!("{study}.1"), &format!("{study}.1.1")).write(&wd.path("in/complete.dcm"));
    std::fs::write(wd.path("in/damaged.dcm"), damaged).unwrap();
    wd.deid(&[]).assert_code(1);
    let audit = wd.audit("out");
    let failed: Vec<_> = audit.iter().filter(|r| r["outcome"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{audit:?}");
    assert_eq!(wd.dicom_outputs("out").len(), 1, "the complete CT is written");
    failed[0]["reason"].as_str().unwrap().to_string()
}

#[test]
fn pixel_data_shorter_than_rows_and_columns_declare_fails_the_file() {
    let wd = Workdir::new("pixel_data_shorter_scratch");
    let study = "1.2.826.0.1.3680043.8.498.38.6";
    // 8 × 8 16-bit pixels need 128 bytes; a copy stopped early left 64.
    Fixture::ct("PID38", study, &format!("{study}.1"), &format!("{study}.1.2"))
        .put(DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16((0..32u16).collect())))
        .write(&wd.path("short.dcm"));
    let reason = failure_of(
        "pixel_data_shorter_than_rows_and_columns_declare_fails_the_file",
        std::fs::read(wd.path("short.dcm")).unwrap(),
    );
    assert!(reason.contains("Pixel Data (7FE0,0010)") && reason.contains("fewer than"), "{reason}");
}

#[test]
fn a_rows_whose_length_swallowed_columns_fails_the_file() {
    // Rows (US, one value) with a length of 12: it holds Columns' element and more.
    let mut tail = Vec::new();
    tail.extend(explicit_le((0x0028, 0x0002), b"US", &1u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0004), b"CS", b"MONOCHROME2 "));
    let columns = explicit_le((0x0028, 0x0011), b"US", &2u16.to_le_bytes());
    let rows_value = [&2u16.to_le_bytes()[..], &columns].concat();
    tail.extend(explicit_le((0x0028, 0x0010), b"US", &rows_value));
    tail.extend(explicit_le((0x0028, 0x0100), b"US", &16u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0101), b"US", &12u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0102), b"US", &11u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0103), b"US", &0u16.to_le_bytes()));
    tail.extend(explicit_le((0x7FE0, 0x0010), b"OW", &[1, 0, 2, 0, 3, 0, 4, 0]));
    let ct = "1.2.840.10008.5.1.4.1.1.2";
    let sop = "1.2.826.0.1.3680043.8.498.38.7";
    let reason = failure_of(
        "a_rows_whose_length_swallowed_columns_fails_the_file",
        part10(EXPLICIT_LE, ct, sop, &instance(ct, sop, &[], &tail)),
    );
    assert!(reason.starts_with("Rows (0028,0010) holds 12 bytes"), "{reason}");
}
