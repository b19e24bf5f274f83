//! Write a synthetic DICOM archive: fictional patients, studies and series of CT-like images
//! with the usual identifying attributes filled in (for the README example, benchmarks and the
//! throughput comparison). Nothing here comes from a real person.
//!
//! ```text
//! cargo run --release --example synth -- OUT FILES [--size 512] [--patients 20] [--frames 1]
//! ```

use kamei::dataset::{DataSet, Element, Tag, VR};
use kamei::read::DicomFile;
use kamei::transfer::TransferSyntax;
use std::path::PathBuf;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn text(tag: Tag, vr: VR, s: &str) -> Element {
    Element::new(tag, vr, s.as_bytes().to_vec())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: synth OUT FILES [--size N] [--patients N] [--frames N]");
        std::process::exit(2);
    }
    let out = PathBuf::from(&args[0]);
    let files: usize = args[1].parse().expect("FILES is a number");
    let size = arg(&args, "--size", 512);
    let patients = arg(&args, "--patients", 20).max(1);
    let frames = arg(&args, "--frames", 1).max(1);
    let root = "1.2.826.0.1.3680043.8.498.77";
    let family = ["YAMADA", "SATO", "SUZUKI", "TANAKA", "KAKUU"];
    let kanji: [&[u8]; 5] =
        [b"\x1b$B;3ED\x1b(B", b"\x1b$B:4F#\x1b(B", b"\x1b$BNkLZ\x1b(B", b"\x1b$BEDCf\x1b(B", b"\x1b$B2M6u\x1b(B"];
    // 16-bit little-endian samples within Bits Stored (12): the high byte stays below 16, so
    // no bit above High Bit is set (a viewer ignoring Bits Stored shows nothing extra, and
    // `kamei verify` has no `pixel-high-bits` finding on outputs).
    let pixels: Vec<u8> =
        (0..size * size * 2 * frames).map(|i| if i % 2 == 1 { (i / 2 % 16) as u8 } else { (i % 251) as u8 }).collect();
    for n in 0..files {
        let p = n % patients;
        let study = format!("{root}.{p}.1");
        let series = format!("{study}.{}", (n / patients) % 3 + 1);
        let sop = format!("{series}.{n}");
        let mut name = format!("{}^HANAKO{}=", family[p % 5], p).into_bytes();
        name.extend_from_slice(kanji[p % 5]);
        name.extend_from_slice(b"^\x1b$B2V;R\x1b(B");
        if name.len() % 2 == 1 {
            name.push(b' ');
        }
        let dataset = DataSet::from_elements([
            text(Tag(0x0008, 0x0005), VR::CS, "\\ISO 2022 IR 87"),
            text(Tag(0x0008, 0x0008), VR::CS, "ORIGINAL\\PRIMARY\\AXIAL "),
            text(Tag(0x0008, 0x0016), VR::UI, "1.2.840.10008.5.1.4.1.1.2\0"),
            text(Tag(0x0008, 0x0018), VR::UI, &sop),
            text(Tag(0x0008, 0x0020), VR::DA, &format!("2024{:02}{:02}", p % 12 + 1, p % 28 + 1)),
            text(Tag(0x0008, 0x0030), VR::TM, "101500"),
            text(Tag(0x0008, 0x0050), VR::SH, &format!("ACC{p:05}")),
            text(Tag(0x0008, 0x0060), VR::CS, "CT"),
            text(Tag(0x0008, 0x0070), VR::LO, "SYNTHETIC"),
            text(Tag(0x0008, 0x0080), VR::LO, "EXAMPLE UNIVERSITY HOSPITAL "),
            text(Tag(0x0008, 0x0090), VR::PN, "DOCTOR^REFERRING"),
            text(Tag(0x0008, 0x1030), VR::LO, &format!("CT CHEST {}", family[p % 5])),
            text(Tag(0x0008, 0x103E), VR::LO, "AXIAL 5MM "),
            Element::new(Tag(0x0010, 0x0010), VR::PN, name),
            text(Tag(0x0010, 0x0020), VR::LO, &format!("PID{p:07}")),
            text(Tag(0x0010, 0x0030), VR::DA, &format!("19{:02}0{}15", 40 + p % 50, p % 9 + 1)),
            text(Tag(0x0010, 0x0040), VR::CS, if p % 2 == 0 { "F " } else { "M " }),
            text(Tag(0x0018, 0x0050), VR::DS, "5.0 "),
            text(Tag(0x0020, 0x000D), VR::UI, &study),
            text(Tag(0x0020, 0x000E), VR::UI, &series),
            text(Tag(0x0020, 0x0010), VR::SH, &format!("S{p}")),
            text(Tag(0x0020, 0x0013), VR::IS, &format!("{n}")),
            text(Tag(0x0020, 0x0052), VR::UI, &format!("{study}.9")),
            Element::new(Tag(0x0028, 0x0002), VR::US, 1u16.to_le_bytes().to_vec()),
            text(Tag(0x0028, 0x0004), VR::CS, "MONOCHROME2 "),
            text(Tag(0x0028, 0x0008), VR::IS, &format!("{frames}")),
            Element::new(Tag(0x0028, 0x0010), VR::US, (size as u16).to_le_bytes().to_vec()),
            Element::new(Tag(0x0028, 0x0011), VR::US, (size as u16).to_le_bytes().to_vec()),
            Element::new(Tag(0x0028, 0x0100), VR::US, 16u16.to_le_bytes().to_vec()),
            Element::new(Tag(0x0028, 0x0101), VR::US, 12u16.to_le_bytes().to_vec()),
            Element::new(Tag(0x0028, 0x0102), VR::US, 11u16.to_le_bytes().to_vec()),
            Element::new(Tag(0x0028, 0x0103), VR::US, 0u16.to_le_bytes().to_vec()),
            Element::new(Tag(0x7FE0, 0x0010), VR::OW, pixels.clone()),
        ]);
        let meta = DataSet::from_elements([
            Element::new(Tag(0x0002, 0x0001), VR::OB, vec![0, 1]),
            text(Tag(0x0002, 0x0002), VR::UI, "1.2.840.10008.5.1.4.1.1.2\0"),
            text(Tag(0x0002, 0x0003), VR::UI, &sop),
            text(Tag(0x0002, 0x0010), VR::UI, "1.2.840.10008.1.2.1\0"),
            text(Tag(0x0002, 0x0012), VR::UI, "1.2.826.0.1.3680043.8.498.1"),
            text(Tag(0x0002, 0x0016), VR::AE, "SYNTH_MODALITY"),
        ]);
        let file = DicomFile {
            meta,
            dataset,
            transfer_syntax: TransferSyntax::explicit_le(),
            had_meta: true,
            notes: Vec::new(),
            source_stamp: None,
        };
        let path = out.join(format!("PID{p:07}_{}", family[p % 5])).join(format!("IMG{n:06}.dcm"));
        std::fs::create_dir_all(path.parent().expect("has parent")).expect("create folder");
        std::fs::write(&path, kamei::write::to_vec(&file, None).expect("encode")).expect("write file");
    }
    eprintln!("wrote {files} files to {}", out.display());
}
