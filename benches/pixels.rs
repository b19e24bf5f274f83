//! Cleaning throughput (`PixelCleaner::clean`: decode, rules, regions, detection, blanking) on
//! native, RLE and JPEG baseline inputs, in MB/s of decoded pixels (frames/s = MB/s divided by
//! the frame size in the bench name), and the cost of deciding that an image needs no cleaning.
//!
//! ```sh
//! cargo bench --bench pixels
//! ```
//!
//! Inputs are built in memory from `kamei::pixels::synth` scenes (system fonts; a plain pattern
//! without them) so the detector has text to find.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kamei::dataset::{DataSet, Element, Fragments, VR, Value};
use kamei::pixels::{PixelCleaner, PixelOptions, synth};
use kamei::read::DicomFile;
use kamei::transfer::TransferSyntax;
use std::hint::black_box;

/// An 8-bit grey frame of `w` × `h` with text (or a pattern when no font is installed).
fn frame(w: u32, h: u32, seed: u64) -> Vec<u8> {
    let fonts = synth::system_fonts();
    if fonts.is_empty() {
        return (0..w * h).map(|i| ((i % w) ^ (i / w)) as u8).collect();
    }
    // A scene of the right size: generate until one fits, then crop/pad.
    let s = synth::scene(seed, &fonts, &[]);
    let mut out = vec![0u8; (w * h) as usize];
    let stored: Vec<u8> = if s.samples == 1 && s.bits == 8 {
        s.stored()
    } else {
        (0..(s.rows * s.cols) as usize).map(|i| (s.values[i * s.samples as usize] * 255.0) as u8).collect()
    };
    for y in 0..h.min(s.rows) {
        for x in 0..w.min(s.cols) {
            out[(y * w + x) as usize] = stored[(y * s.cols + x) as usize];
        }
    }
    out
}

fn file(w: u32, h: u32, frames: u32, ts: TransferSyntax, pixel: Value) -> DicomFile {
    let us = |v: u16| v.to_le_bytes().to_vec();
    let dataset = DataSet::from_elements([
        Element::new(dicom_dictionary_std::tags::MODALITY, VR::CS, b"US".to_vec()),
        Element::new(dicom_dictionary_std::tags::SAMPLES_PER_PIXEL, VR::US, us(1)),
        Element::new(dicom_dictionary_std::tags::PHOTOMETRIC_INTERPRETATION, VR::CS, b"MONOCHROME2 ".to_vec()),
        Element::new(dicom_dictionary_std::tags::NUMBER_OF_FRAMES, VR::IS, frames.to_string().into_bytes()),
        Element::new(dicom_dictionary_std::tags::ROWS, VR::US, us(h as u16)),
        Element::new(dicom_dictionary_std::tags::COLUMNS, VR::US, us(w as u16)),
        Element::new(dicom_dictionary_std::tags::BITS_ALLOCATED, VR::US, us(8)),
        Element::new(dicom_dictionary_std::tags::BITS_STORED, VR::US, us(8)),
        Element::new(dicom_dictionary_std::tags::HIGH_BIT, VR::US, us(7)),
        Element::new(dicom_dictionary_std::tags::PIXEL_REPRESENTATION, VR::US, us(0)),
        Element { tag: dicom_dictionary_std::tags::PIXEL_DATA, vr: VR::OB, value: pixel },
    ]);
    DicomFile {
        meta: DataSet::new(),
        dataset,
        transfer_syntax: ts,
        had_meta: true,
        notes: Vec::new(),
        source_stamp: None,
    }
}

/// RLE Lossless with literal runs (valid PS3.5 Annex G; speed of the decoder is what counts).
fn rle(frame: &[u8], w: usize) -> Vec<u8> {
    let mut seg = Vec::new();
    for row in frame.chunks(w) {
        for run in row.chunks(128) {
            seg.push((run.len() - 1) as u8);
            seg.extend_from_slice(run);
        }
    }
    let mut out = vec![0u8; 64];
    out[0..4].copy_from_slice(&1u32.to_le_bytes());
    out[4..8].copy_from_slice(&64u32.to_le_bytes());
    out.extend(seg);
    out
}

fn jpeg(frame: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(frame, w as u16, h as u16, jpeg_encoder::ColorType::Luma)
        .expect("JPEG fixture encodes");
    out
}

fn bench(c: &mut Criterion) {
    let cleaner = PixelCleaner::new(&PixelOptions::default()).expect("built-in rules");
    let (w, h, n) = (640u32, 480u32, 8u32);
    let frames: Vec<Vec<u8>> = (0..n).map(|k| frame(w, h, 1000 + k as u64)).collect();
    let native_bytes: Vec<u8> = frames.concat();
    let inputs = [
        ("native", file(w, h, n, TransferSyntax::explicit_le(), Value::Bytes(native_bytes))),
        (
            "rle",
            file(
                w,
                h,
                n,
                TransferSyntax::from_uid("1.2.840.10008.1.2.5").expect("RLE"),
                Value::Fragments(Fragments {
                    offset_table: Vec::new(),
                    fragments: frames.iter().map(|f| rle(f, w as usize)).collect(),
                }),
            ),
        ),
        (
            "jpeg-baseline",
            file(
                w,
                h,
                n,
                TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").expect("JPEG"),
                Value::Fragments(Fragments {
                    offset_table: Vec::new(),
                    fragments: frames.iter().map(|f| jpeg(f, w, h)).collect(),
                }),
            ),
        ),
    ];
    let mut group = c.benchmark_group("clean");
    group.sample_size(10);
    group.throughput(Throughput::Bytes((w * h * n) as u64));
    for (name, f) in &inputs {
        group.bench_with_input(BenchmarkId::new(*name, format!("{w}x{h}x{n}")), f, |b, f| {
            b.iter(|| {
                let cleaned = cleaner.clean(black_box(f), None, false).expect("decodes");
                assert_eq!(cleaned.frame_count, n);
                cleaned
            })
        });
    }
    group.finish();
    // Files that need no cleaning only pay for the header check.
    let mut ct = inputs[0].1.dataset.clone();
    ct.put(Element::new(dicom_dictionary_std::tags::MODALITY, VR::CS, b"CT".to_vec()));
    c.bench_function("select/ct-not-cleaned", |b| b.iter(|| assert!(cleaner.select(black_box(&ct), false).is_none())));
}

criterion_group!(benches, bench);
criterion_main!(benches);
