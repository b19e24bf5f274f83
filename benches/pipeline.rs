//! Criterion benches: each stage of one file (`read::parse`, `plan::build`, `apply::run`,
//! `write::to_vec`) and the whole chain (`pipeline::deidentify_bytes`), on two synthetic files
//! built in memory with kamei's own types (as `examples/synth.rs` does): a 512×512 16-bit CT
//! and a 64×64 image whose patient has a Japanese name (`\ISO 2022 IR 87`). Throughput is the
//! input size; every iteration checks its result.
//!
//! ```text
//! cargo bench --bench pipeline            # all
//! cargo bench --bench pipeline -- ct512   # one file
//! ```

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kamei::dataset::{DataSet, Element, Tag, VR};
use kamei::plan::{IdentifierCache, PlanContext};
use kamei::profile::{DeidOption, Profile};
use kamei::pseudo::{PseudonymKey, Pseudonymizer};
use kamei::read::{DicomFile, Opened, ReadOptions, Source};
use kamei::transfer::TransferSyntax;
use std::hint::black_box;

fn text(tag: Tag, vr: VR, s: &str) -> Element {
    Element::new(tag, vr, s.as_bytes().to_vec())
}

/// A CT image of `size`×`size` 16-bit pixels with the usual identifying attributes, encoded as
/// a Part 10 file in Explicit VR Little Endian.
fn synthetic(size: u16, charset: &str, name: &[u8], description: &[u8]) -> Vec<u8> {
    let sop = "1.2.826.0.1.3680043.8.498.90.1.1.1";
    let pixels: Vec<u8> = (0..size as usize * size as usize * 2).map(|i| (i % 251) as u8).collect();
    let dataset = DataSet::from_elements([
        text(Tag(0x0008, 0x0005), VR::CS, charset),
        text(Tag(0x0008, 0x0008), VR::CS, "ORIGINAL\\PRIMARY\\AXIAL "),
        text(Tag(0x0008, 0x0016), VR::UI, "1.2.840.10008.5.1.4.1.1.2\0"),
        text(Tag(0x0008, 0x0018), VR::UI, sop),
        text(Tag(0x0008, 0x0020), VR::DA, "20240201"),
        text(Tag(0x0008, 0x0030), VR::TM, "101500"),
        text(Tag(0x0008, 0x0050), VR::SH, "ACC00001"),
        text(Tag(0x0008, 0x0060), VR::CS, "CT"),
        text(Tag(0x0008, 0x0070), VR::LO, "SYNTHETIC"),
        text(Tag(0x0008, 0x0080), VR::LO, "EXAMPLE UNIVERSITY HOSPITAL "),
        text(Tag(0x0008, 0x0090), VR::PN, "DOCTOR^REFERRING"),
        Element::new(Tag(0x0008, 0x1030), VR::LO, description.to_vec()),
        text(Tag(0x0008, 0x103E), VR::LO, "AXIAL 5MM "),
        Element::new(Tag(0x0010, 0x0010), VR::PN, name.to_vec()),
        text(Tag(0x0010, 0x0020), VR::LO, "PID0000001"),
        text(Tag(0x0010, 0x0030), VR::DA, "19850315"),
        text(Tag(0x0010, 0x0040), VR::CS, "F "),
        text(Tag(0x0018, 0x0050), VR::DS, "5.0 "),
        text(Tag(0x0020, 0x000D), VR::UI, "1.2.826.0.1.3680043.8.498.90.1"),
        text(Tag(0x0020, 0x000E), VR::UI, "1.2.826.0.1.3680043.8.498.90.1.1"),
        text(Tag(0x0020, 0x0010), VR::SH, "S1"),
        text(Tag(0x0020, 0x0013), VR::IS, "1 "),
        text(Tag(0x0020, 0x0052), VR::UI, "1.2.826.0.1.3680043.8.498.90.1.9 "),
        Element::new(Tag(0x0028, 0x0002), VR::US, 1u16.to_le_bytes().to_vec()),
        text(Tag(0x0028, 0x0004), VR::CS, "MONOCHROME2 "),
        Element::new(Tag(0x0028, 0x0010), VR::US, size.to_le_bytes().to_vec()),
        Element::new(Tag(0x0028, 0x0011), VR::US, size.to_le_bytes().to_vec()),
        Element::new(Tag(0x0028, 0x0100), VR::US, 16u16.to_le_bytes().to_vec()),
        Element::new(Tag(0x0028, 0x0101), VR::US, 12u16.to_le_bytes().to_vec()),
        Element::new(Tag(0x0028, 0x0102), VR::US, 11u16.to_le_bytes().to_vec()),
        Element::new(Tag(0x0028, 0x0103), VR::US, 0u16.to_le_bytes().to_vec()),
        Element::new(Tag(0x7FE0, 0x0010), VR::OW, pixels),
    ]);
    let meta = DataSet::from_elements([
        Element::new(Tag(0x0002, 0x0001), VR::OB, vec![0, 1]),
        text(Tag(0x0002, 0x0002), VR::UI, "1.2.840.10008.5.1.4.1.1.2\0"),
        text(Tag(0x0002, 0x0003), VR::UI, sop),
        text(Tag(0x0002, 0x0010), VR::UI, "1.2.840.10008.1.2.1\0"),
        text(Tag(0x0002, 0x0012), VR::UI, "1.2.826.0.1.3680043.8.498.1"),
    ]);
    let file = DicomFile {
        meta,
        dataset,
        transfer_syntax: TransferSyntax::explicit_le(),
        had_meta: true,
        notes: Vec::new(),
        source_stamp: None,
    };
    kamei::write::to_vec(&file, None).expect("the synthetic file encodes")
}

/// The two bench inputs: (name, bytes, bytes of the patient's name that must not survive).
fn inputs() -> Vec<(&'static str, Vec<u8>, &'static [u8])> {
    vec![
        ("ct512", synthetic(512, "ISO_IR 100", b"YAMADA^HANAKO", b"CT CHEST YAMADA"), b"YAMADA"),
        (
            "jp64",
            synthetic(
                64,
                "\\ISO 2022 IR 87",
                // Kakuu^Hanako=架空^花子=かくう^はなこ (japan README §7.3)
                b"Kakuu^Hanako=\x1b$B2M6u\x1b(B^\x1b$B2V;R\x1b(B=\x1b$B$+$/$&\x1b(B^\x1b$B$O$J$3\x1b(B",
                // 胸部CT 架空: scrubbed and re-encoded under Clean Descriptors
                b"\x1b$B6;It\x1b(BCT \x1b$B2M6u\x1b(B ",
            ),
            b"2M6u",
        ),
    ]
}

fn parse(bytes: &[u8]) -> DicomFile {
    match kamei::read::parse(&Source::from_bytes("<bench>", bytes.to_vec()), &ReadOptions::default()) {
        Ok(Opened::Dicom(f)) => f,
        other => panic!("the bench input does not parse: {other:?}"),
    }
}

fn stages(c: &mut Criterion) {
    let mut profile = Profile::builtin("basic").expect("built-in profile");
    profile.add_options([DeidOption::CleanDescriptors, DeidOption::RetainLongModifiedDates]).expect("options");
    let rules = profile.compile();
    let pseudo = Pseudonymizer::new(&PseudonymKey::from_bytes([7; 32]), profile.date_shift());
    // One cache for the whole bench, as in a run: `plan::build` is measured for a file whose
    // patient's identifier sets an earlier file of the run already built; the first file of
    // each patient costs `plan::build (first of its patient)`.
    let identifiers = IdentifierCache::default();
    let ctx = PlanContext {
        rules: &rules,
        pseudo: &pseudo,
        profile_label: "basic",
        identifiers: &identifiers,
        sources: None,
    };
    for (name, bytes, canary) in inputs() {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let source = Source::from_bytes("<bench>", bytes.clone());
        let options = ReadOptions::default();
        group.bench_function("read::parse", |b| {
            b.iter(|| match kamei::read::parse(black_box(&source), &options) {
                Ok(Opened::Dicom(f)) => assert!(f.dataset.len() > 20),
                other => panic!("{other:?}"),
            })
        });
        let file = parse(&bytes);
        group.bench_function("plan::build", |b| {
            b.iter(|| {
                let plan = kamei::plan::build(&ctx, black_box(&file)).expect("plans");
                assert!(plan.edits.len() > 10);
                plan
            })
        });
        group.bench_function("plan::build (first of its patient)", |b| {
            b.iter(|| {
                let identifiers = IdentifierCache::default();
                let ctx = PlanContext { identifiers: &identifiers, ..ctx };
                kamei::plan::build(&ctx, black_box(&file)).expect("plans")
            })
        });
        let plan = kamei::plan::build(&ctx, &file).expect("plans");
        group.bench_function("apply::run", |b| {
            b.iter_batched(
                || file.clone(),
                |f| {
                    let out = kamei::apply::run(&plan, f).expect("applies");
                    assert!(out.dataset.get(Tag(0x0012, 0x0062)).is_some(), "Patient Identity Removed");
                    out
                },
                BatchSize::LargeInput,
            )
        });
        let applied = kamei::apply::run(&plan, file.clone()).expect("applies");
        group.bench_function("write::to_vec", |b| {
            b.iter(|| {
                let out = kamei::write::to_vec(black_box(&applied), None).expect("encodes");
                assert_eq!(&out[128..132], b"DICM");
                out
            })
        });
        group.bench_function("pipeline::deidentify_bytes", |b| {
            b.iter_batched(
                || bytes.clone(),
                |input| {
                    let out =
                        kamei::pipeline::deidentify_bytes(input, &rules, &pseudo, "basic").expect("de-identifies");
                    // The name would be among the attributes before the pixel data.
                    let header = &out[..out.len().min(4096)];
                    assert!(!header.windows(canary.len()).any(|w| w == canary), "the name leaked");
                    out
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
