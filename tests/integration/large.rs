//! A ~1 GB native multi-frame file: de-identified with flat memory (the pixel data stays in
//! the input and is copied through), and the output's pixel bytes equal the input's.
//!
//! The pixel data is real, written in 1 MiB chunks that differ from each other (not a sparse
//! file): reading holes of a sparse file costs no disk I/O and all-zero bytes would hide an
//! offset or chunking error in the copy.

use crate::util::bytes::{even, explicit_le, instance, item_tag, part10};
use crate::util::*;
use dicom_dictionary_std::tags;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

const ROWS: u16 = 512;
const COLUMNS: u16 = 512;
const FRAMES: u64 = 2000;
const FRAME_BYTES: u64 = ROWS as u64 * COLUMNS as u64 * 2;
const CHUNK: usize = 1 << 20;

/// A native MONOCHROME2 multi-frame image in Explicit VR Little Endian: 8-bit samples when
/// `bits_stored` is 8 or less, else 16-bit.
struct GreyFrames {
    rows: u16,
    columns: u16,
    frames: u64,
    bits_stored: u16,
    /// Burned In Annotation YES (else absent).
    burned_in: bool,
}

impl GreyFrames {
    /// Bits Allocated.
    fn bits_allocated(&self) -> u16 {
        if self.bits_stored <= 8 { 8 } else { 16 }
    }

    /// The Part 10 file up to the pixel data's value: the caller writes its
    /// rows × columns × frames samples next.
    fn header(&self, sop_class: &str, sop: &str) -> Vec<u8> {
        self.header_in(sop_class, sop, None)
    }

    /// [`GreyFrames::header`], or with `compressed` (a transfer syntax UID) the file up to the
    /// encapsulated pixel data's items (its element of undefined length): the caller writes the
    /// offset table, the fragments and the sequence delimiter next.
    fn header_in(&self, sop_class: &str, sop: &str, compressed: Option<&str>) -> Vec<u8> {
        let bits = self.bits_allocated();
        let mut tail = Vec::new();
        tail.extend(explicit_le((0x0028, 0x0002), b"US", &1u16.to_le_bytes()));
        tail.extend(explicit_le((0x0028, 0x0004), b"CS", b"MONOCHROME2 "));
        tail.extend(explicit_le((0x0028, 0x0008), b"IS", &even(&self.frames.to_string(), b' ')));
        tail.extend(explicit_le((0x0028, 0x0010), b"US", &self.rows.to_le_bytes()));
        tail.extend(explicit_le((0x0028, 0x0011), b"US", &self.columns.to_le_bytes()));
        tail.extend(explicit_le((0x0028, 0x0100), b"US", &bits.to_le_bytes()));
        tail.extend(explicit_le((0x0028, 0x0101), b"US", &self.bits_stored.to_le_bytes()));
        tail.extend(explicit_le((0x0028, 0x0102), b"US", &(self.bits_stored - 1).to_le_bytes()));
        tail.extend(explicit_le((0x0028, 0x0103), b"US", &0u16.to_le_bytes()));
        if self.burned_in {
            tail.extend(explicit_le((0x0028, 0x0301), b"CS", b"YES "));
        }
        let pixel_len = self.rows as u64 * self.columns as u64 * self.frames * u64::from(bits / 8);
        let vr = if bits == 8 || compressed.is_some() { b'B' } else { b'W' };
        tail.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', vr, 0, 0]);
        let length = if compressed.is_some() { u32::MAX } else { pixel_len as u32 };
        tail.extend_from_slice(&length.to_le_bytes());
        let ts = compressed.unwrap_or("1.2.840.10008.1.2.1");
        part10(ts, sop_class, sop, &instance(sop_class, sop, &[], &tail))
    }
}

/// Write the multi-frame CT; returns the SHA-256 of its pixel data.
fn write_large(path: &Path) -> [u8; 32] {
    let pixel_len = FRAME_BYTES * FRAMES;
    let mut w = BufWriter::with_capacity(CHUNK, File::create(path).unwrap());
    let image = GreyFrames { rows: ROWS, columns: COLUMNS, frames: FRAMES, bits_stored: 12, burned_in: false };
    w.write_all(&image.header("1.2.840.10008.5.1.4.1.1.2", "1.2.826.0.1.3680043.8.498.12.1")).unwrap();
    let mut hasher = Sha256::new();
    let mut chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    let mut left = pixel_len;
    let mut n = 0u64;
    while left > 0 {
        chunk[..8].copy_from_slice(&n.to_le_bytes());
        let take = left.min(CHUNK as u64) as usize;
        w.write_all(&chunk[..take]).unwrap();
        hasher.update(&chunk[..take]);
        left -= take as u64;
        n += 1;
    }
    w.flush().unwrap();
    hasher.finalize().into()
}

/// SHA-256 of `length` bytes of `path` from `offset`, streamed.
fn hash_range(path: &Path, offset: u64, length: u64) -> [u8; 32] {
    let mut f = File::open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut r = f.take(length);
    let mut total = 0;
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    assert_eq!(total, length, "the file ends inside its pixel data");
    hasher.finalize().into()
}

#[cfg(target_os = "linux")]
#[test]
fn one_gigabyte_multi_frame_file_is_copied_through_with_flat_memory() {
    let wd = Workdir::new("one_gigabyte_multi_frame_file_is_copied_through_with_flat_memory");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let input = wd.path("in/large.dcm");
    let pixels_sha = write_large(&input);
    let k = key(&wd, "k.key", 7);
    let Cost { run, peak_kib, .. } = measured(&wd, &["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"]);
    run.assert_code(0);
    eprintln!("large file: {} bytes, kamei peak RSS {} KiB", std::fs::metadata(&input).unwrap().len(), peak_kib);
    assert!(peak_kib < 100 * 1024, "peak RSS {peak_kib} KiB for a 1 GB file");

    let out = wd.only_output("out");
    let file = match kamei::read::open(&out, &kamei::read::ReadOptions::default()).unwrap() {
        kamei::read::Opened::Dicom(f) => f,
        other => panic!("{other:?}"),
    };
    let pixels = match &file.dataset.get(tags::PIXEL_DATA).unwrap().value {
        kamei::dataset::Value::Deferred(d) => *d,
        other => panic!("pixel data not left in the file: {other:?}"),
    };
    assert_eq!(pixels.length, FRAME_BYTES * FRAMES);
    assert_eq!(hash_range(&out, pixels.offset, pixels.length), pixels_sha, "pixel bytes differ");
    assert_eq!(file.dataset.ascii(tags::NUMBER_OF_FRAMES), Some("2000"));
    assert_eq!(file.dataset.ascii(tags::PATIENT_ID), file.dataset.ascii(tags::PATIENT_NAME));
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID]);
    // 2 GB of test files: remove them now rather than at the next run.
    std::fs::remove_dir_all(&wd.root).unwrap();
}

/// A file over the in-memory limit (64 MiB) whose pixel data stays on disk while it is read:
/// its other large values must still be read, checked and kept as in a small file.
fn write_over_the_memory_limit(path: &Path, middle: &[u8], before_pixels: &[u8]) {
    let sop_class = "1.2.840.10008.5.1.4.1.1.2";
    let sop = "1.2.826.0.1.3680043.8.498.12.2";
    let (rows, columns, frames) = (512u16, 512u16, 136u64);
    let mut tail = Vec::new();
    tail.extend(explicit_le((0x0028, 0x0002), b"US", &1u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0004), b"CS", b"MONOCHROME2 "));
    tail.extend(explicit_le((0x0028, 0x0008), b"IS", &even(&frames.to_string(), b' ')));
    tail.extend(explicit_le((0x0028, 0x0010), b"US", &rows.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0011), b"US", &columns.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0100), b"US", &16u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0101), b"US", &12u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0102), b"US", &11u16.to_le_bytes()));
    tail.extend(explicit_le((0x0028, 0x0103), b"US", &0u16.to_le_bytes()));
    tail.extend_from_slice(before_pixels);
    let pixels = vec![3u8; rows as usize * columns as usize * 2 * frames as usize];
    tail.extend(explicit_le((0x7FE0, 0x0010), b"OW", &pixels));
    let body = instance(sop_class, sop, middle, &tail);
    std::fs::write(path, part10("1.2.840.10008.1.2.1", sop_class, sop, &body)).unwrap();
    assert!(std::fs::metadata(path).unwrap().len() > 64 << 20);
}

#[test]
fn a_large_binary_value_holding_the_name_is_removed_from_a_file_over_the_memory_limit() {
    let wd = Workdir::new("a_large_binary_value_holding_the_name_is_removed_from_a_file_over_the_memory_limit");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    // Bad Pixel Image (0014,3080), OB, unlisted in Table E.1-1 (kept by default), 2 MiB, with
    // the patient's name and ID inside: the binary safety net removes it in a small file.
    let mut blob = vec![0u8; 2 << 20];
    let text = format!("{CANARY_NAME} {CANARY_ID}");
    blob[1000..1000 + text.len()].copy_from_slice(text.as_bytes());
    write_over_the_memory_limit(&wd.path("in/large.dcm"), &explicit_le((0x0014, 0x3080), b"OB", &blob), &[]);
    let run = wd.deid(&[]);
    run.assert_code(0);
    assert_no_leak(&wd, "out", &run, &[CANARY_NAME, CANARY_ID]);
    std::fs::remove_dir_all(&wd.root).unwrap();
}

#[test]
fn a_large_un_sequence_is_kept_in_a_file_over_the_memory_limit() {
    let wd = Workdir::new("a_large_un_sequence_is_kept_in_a_file_over_the_memory_limit");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    // Per-frame Functional Groups Sequence (5200,9230) sent as UN with a defined length over
    // 1 MiB: Implicit VR items, each with Image Position (Patient).
    let mut items = Vec::new();
    for _ in 0..40_000 {
        let mut item = Vec::new();
        item.extend_from_slice(&[0x20, 0x00, 0x32, 0x00]);
        item.extend_from_slice(&12u32.to_le_bytes());
        item.extend_from_slice(b"1\\2\\3.000000");
        items.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        items.extend_from_slice(&(item.len() as u32).to_le_bytes());
        items.extend(item);
    }
    assert!(items.len() > 1 << 20);
    write_over_the_memory_limit(&wd.path("in/large.dcm"), &[], &explicit_le((0x5200, 0x9230), b"UN", &items));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let file = match kamei::read::open(&wd.only_output("out"), &kamei::read::ReadOptions::default()).unwrap() {
        kamei::read::Opened::Dicom(f) => f,
        other => panic!("{other:?}"),
    };
    match &file.dataset.get(dicom_core::Tag(0x5200, 0x9230)).expect("the sequence was removed").value {
        kamei::dataset::Value::Sequence(seq) => assert_eq!(seq.items.len(), 40_000),
        other => panic!("not a sequence: {other:?}"),
    }
    std::fs::remove_dir_all(&wd.root).unwrap();
}

/// Write a native 8-bit ultrasound cine of `frames` frames of `rows` × `columns` (Burned In
/// Annotation YES), its frames different from each other and each holding the value 0 (the
/// darkest, which blanking uses); returns the SHA-256 of the pixel data with the top `blank`
/// rows of every frame set to 0.
fn write_cine(path: &Path, rows: u16, columns: u16, frames: u64, blank: usize) -> [u8; 32] {
    let frame_len = rows as usize * columns as usize;
    let mut w = BufWriter::with_capacity(CHUNK, File::create(path).unwrap());
    let image = GreyFrames { rows, columns, frames, bits_stored: 8, burned_in: true };
    w.write_all(&image.header("1.2.840.10008.5.1.4.1.1.3.1", "1.2.826.0.1.3680043.8.498.12.3")).unwrap();
    let mut blanked = Sha256::new();
    for f in 0..frames as usize {
        let mut frame: Vec<u8> = (0..frame_len).map(|i| ((i + f * 7) % 251) as u8).collect();
        w.write_all(&frame).unwrap();
        frame[..blank * columns as usize].fill(0);
        blanked.update(&frame);
    }
    w.flush().unwrap();
    blanked.finalize().into()
}

/// `rules/banner.toml` in `wd`: one pixel rule, `banner`, that blanks the top 40 rows of images
/// of `cols` × `rows` with detection off (the memory tests measure decoding and writing, not
/// the detector).
fn banner_rule(wd: &Workdir, cols: u32, rows: u32) {
    std::fs::create_dir_all(wd.path("rules")).unwrap();
    std::fs::write(
        wd.path("rules/banner.toml"),
        format!(
            "[[rule]]\nname = \"banner\"\nsource = \"test\"\nwhen = {{ Rows = {rows}, Columns = {cols} }}\n\
             blank = [[0, 0, {cols}, 40]]\ndetect = false\n"
        ),
    )
    .unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn cleaning_a_long_cine_takes_memory_of_a_few_frames_not_of_all_of_them() {
    let wd = Workdir::new("cleaning_a_long_cine_takes_memory_of_a_few_frames_not_of_all_of_them");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    // A rule blanks the top 40 rows; detection off keeps the test quick (the frames are still
    // decoded for the statistics and again for writing).
    banner_rule(&wd, 512, 480);
    // 300 frames of 512 × 480: 74 MB of pixel data, over the in-memory limit (left on disk).
    let (rows, columns, frames) = (480u16, 512u16, 300u64);
    let expected = write_cine(&wd.path("in/cine.dcm"), rows, columns, frames, 40);
    let k = key(&wd, "k.key", 7);
    let args = ["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q", "--option", "clean-pixel-data"];
    let Cost { run, peak_kib, .. } = measured(&wd, &[&args[..], &["--pixel-rules", "rules"]].concat());
    run.assert_code(0);
    let pixel_len = rows as u64 * columns as u64 * frames;
    eprintln!("cine: {pixel_len} bytes of pixel data, kamei peak RSS {peak_kib} KiB");
    // Decoded whole it took twice the pixel data (the source read whole and its decoded copy):
    // 150 MB and more. Frame by frame: kamei's own few tens of MB (43 MB measured), less than
    // one copy of the pixels.
    assert!(peak_kib * 1024 < pixel_len, "peak RSS {peak_kib} KiB for {pixel_len} bytes of pixels");

    let out = wd.only_output("out");
    let file = match kamei::read::open(&out, &kamei::read::ReadOptions::default()).unwrap() {
        kamei::read::Opened::Dicom(f) => f,
        other => panic!("{other:?}"),
    };
    let pixels = match &file.dataset.get(tags::PIXEL_DATA).unwrap().value {
        kamei::dataset::Value::Deferred(d) => *d,
        other => panic!("pixel data of an output over the in-memory limit not left in it: {other:?}"),
    };
    assert_eq!(pixels.length, pixel_len);
    assert_eq!(hash_range(&out, pixels.offset, pixels.length), expected, "every frame blanked, nothing else");
    assert_eq!(file.dataset.ascii(tags::BURNED_IN_ANNOTATION), Some("NO"));
    assert_eq!(file.transfer_syntax.uid, "1.2.840.10008.1.2.1");
    std::fs::remove_dir_all(&wd.root).unwrap();
}

/// Write a JPEG baseline ultrasound cine of `frames` frames of `side` × `side` 8-bit noise
/// (Burned In Annotation YES), each frame split into two fragments and the Basic Offset Table
/// empty, so that frames are found by the codestreams their fragments open; returns the size
/// of the compressed pixel data.
fn write_jpeg_cine(path: &Path, side: u16, frames: u64) -> u64 {
    let mut w = BufWriter::with_capacity(CHUNK, File::create(path).unwrap());
    let image = GreyFrames { rows: side, columns: side, frames, bits_stored: 8, burned_in: true };
    let sop_class = "1.2.840.10008.5.1.4.1.1.3.1";
    let header = image.header_in(sop_class, "1.2.826.0.1.3680043.8.498.12.4", Some("1.2.840.10008.1.2.4.50"));
    w.write_all(&header).unwrap();
    w.write_all(&item_tag(0xE000, 0)).unwrap();
    let pixels = side as usize * side as usize;
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut compressed = 0;
    for _ in 0..frames {
        // xorshift noise: JPEG cannot squeeze it, so the file is well over the in-memory limit.
        let frame: Vec<u8> = (0..pixels)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 56) as u8
            })
            .collect();
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 90).encode(&frame, side, side, jpeg_encoder::ColorType::Luma).unwrap();
        if jpeg.len() % 2 == 1 {
            jpeg.push(0);
        }
        let (first, second) = jpeg.split_at((jpeg.len() / 2) & !1);
        for fragment in [first, second] {
            w.write_all(&item_tag(0xE000, fragment.len() as u32)).unwrap();
            w.write_all(fragment).unwrap();
        }
        compressed += jpeg.len() as u64;
    }
    w.write_all(&item_tag(0xE0DD, 0)).unwrap();
    w.flush().unwrap();
    compressed
}

#[cfg(target_os = "linux")]
#[test]
fn cleaning_a_long_jpeg_cine_holds_a_few_compressed_frames_not_all_of_them() {
    let wd = Workdir::new("cleaning_a_long_jpeg_cine_holds_a_few_compressed_frames_not_all_of_them");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    banner_rule(&wd, 1024, 1024);
    // 90 frames of 1024 × 1024 noise: about 74 MB of JPEG, over the in-memory limit (left on
    // disk), each frame in two fragments and no offset table.
    let input = wd.path("in/cine.dcm");
    let compressed = write_jpeg_cine(&input, 1024, 90);
    assert!(std::fs::metadata(&input).unwrap().len() > 64 << 20, "the input must be left on disk");
    let k = key(&wd, "k.key", 7);
    let args = ["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q", "--option", "clean-pixel-data"];
    let Cost { run, peak_kib, .. } = measured(&wd, &[&args[..], &["--pixel-rules", "rules"]].concat());
    run.assert_code(0);
    eprintln!("JPEG cine: {compressed} bytes of compressed pixel data, kamei peak RSS {peak_kib} KiB");
    // Holding the fragments took more than twice the compressed data (read whole, then split
    // into fragments; 234 MB for a 95 MB JPEG cine). Read a frame at a time: kamei's own few
    // tens of MB (45 MB measured).
    assert!(peak_kib * 1024 < compressed, "peak RSS {peak_kib} KiB for {compressed} bytes of JPEG");

    // The frames written are the whole decode's, blanked in the rule's rows.
    let source = match kamei::read::open(&input, &kamei::read::ReadOptions::default()).unwrap() {
        kamei::read::Opened::Dicom(f) => f,
        other => panic!("{other:?}"),
    };
    let decoded = kamei::pixels::decode::decode(&source.dataset, &source.transfer_syntax, Some(&input)).unwrap();
    // MONOCHROME2 is blanked with the darkest value of the image.
    let darkest = *decoded.data.iter().min().unwrap();
    let mut expected = Sha256::new();
    for frame in decoded.data.chunks(1024 * 1024) {
        expected.update(vec![darkest; 40 * 1024]);
        expected.update(&frame[40 * 1024..]);
    }
    let out = wd.only_output("out");
    let file = match kamei::read::open(&out, &kamei::read::ReadOptions::default()).unwrap() {
        kamei::read::Opened::Dicom(f) => f,
        other => panic!("{other:?}"),
    };
    let pixels = match &file.dataset.get(tags::PIXEL_DATA).unwrap().value {
        kamei::dataset::Value::Deferred(d) => *d,
        other => panic!("pixel data of an output over the in-memory limit not left in it: {other:?}"),
    };
    assert_eq!(pixels.length, 90 * 1024 * 1024);
    let expected: [u8; 32] = expected.finalize().into();
    assert_eq!(hash_range(&out, pixels.offset, pixels.length), expected, "every frame blanked, nothing else");
    assert_eq!(file.transfer_syntax.uid, "1.2.840.10008.1.2.1");
    std::fs::remove_dir_all(&wd.root).unwrap();
}
