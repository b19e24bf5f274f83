//! `--option clean-pixel-data` on generated images with known text: every pixel format kamei
//! decodes, multi-frame, ultrasound regions, user rules, images that cannot be decoded or need
//! no cleaning, previews, and the shared corpus.
//!
//! Text is drawn with a system font (DejaVu Sans from `fonts-dejavu-core`, which `.ci/run`
//! installs) so the text pixels are known exactly; every one must be blanked.

use crate::util::*;
use dicom_core::value::{PixelFragmentSequence, PrimitiveValue, Value as DicomValue};
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use kamei::pixels::synth::{TextFont, render_text, render_tracked};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const STUDY: &str = "1.2.826.0.1.3680043.8.498.7";
const SERIES: &str = "1.2.826.0.1.3680043.8.498.7.1";
const US_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.6.1";
const SC_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.7";

fn font() -> TextFont {
    let candidates = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    ];
    candidates.iter().find_map(|p| TextFont::load(Path::new(p))).unwrap_or_else(|| {
        panic!("the pixel tests draw text with DejaVu Sans: install fonts-dejavu-core (.ci/run does)")
    })
}

/// An 8-bit grey picture: black, an "organ" (a smooth bright disk) in the middle, and text.
struct Picture {
    w: u32,
    h: u32,
    grey: Vec<u8>,
    text: Vec<bool>,
}

impl Picture {
    fn new(w: u32, h: u32) -> Picture {
        let mut grey = vec![0u8; (w * h) as usize];
        let (cx, cy, r) = (w as f32 / 2.0, h as f32 / 2.0 + 10.0, h.min(w) as f32 / 4.0);
        for y in 0..h {
            for x in 0..w {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                if d < r {
                    grey[(y * w + x) as usize] = (60.0 + 120.0 * (1.0 - d / r)) as u8;
                }
            }
        }
        Picture { w, h, grey, text: vec![false; (w * h) as usize] }
    }

    /// Draw `s` at (x, y), `px` pixels per em, in `level`.
    fn write(&mut self, s: &str, x: u32, y: u32, px: f32, level: u8) -> &mut Self {
        let c = render_text(&font(), s, px);
        for gy in 0..c.height {
            for gx in 0..c.width {
                let (px_, py) = (x + gx, y + gy);
                if px_ >= self.w || py >= self.h {
                    continue;
                }
                let a = c.alpha[(gy * c.width + gx) as usize];
                let i = (py * self.w + px_) as usize;
                self.grey[i] = (self.grey[i] as f32 * (1.0 - a) + level as f32 * a).round() as u8;
                if a >= 0.5 {
                    self.text[i] = true;
                }
            }
        }
        self
    }

    /// A pixel of the organ, far from any text.
    fn organ(&self) -> (u32, u32) {
        (self.w / 2, self.h / 2 + 10)
    }
}

/// A US image (annotated modality, no Burned In Annotation) with these pixels.
fn image(n: u32, sop_class: &str, modality: &str) -> Fixture {
    Fixture::ct(CANARY_ID, STUDY, SERIES, &format!("{SERIES}.{n}"))
        .put(str_el(tags::SOP_CLASS_UID, VR::UI, sop_class))
        .put(str_el(tags::MODALITY, VR::CS, modality))
}

fn us(v: u16) -> PrimitiveValue {
    PrimitiveValue::from(v)
}

fn pixel_attrs(f: Fixture, w: u32, h: u32, samples: u16, bits: u16, stored: u16, pi: &str) -> Fixture {
    let f = f
        .put(DataElement::new(tags::ROWS, VR::US, us(h as u16)))
        .put(DataElement::new(tags::COLUMNS, VR::US, us(w as u16)))
        .put(DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, us(samples)))
        .put(DataElement::new(tags::BITS_ALLOCATED, VR::US, us(bits)))
        .put(DataElement::new(tags::BITS_STORED, VR::US, us(stored)))
        .put(DataElement::new(tags::HIGH_BIT, VR::US, us(stored - 1)))
        .put(str_el(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, pi));
    if samples == 3 { f.put(DataElement::new(tags::PLANAR_CONFIGURATION, VR::US, us(0))) } else { f }
}

fn native(f: Fixture, vr: VR, bytes: &[u8]) -> Fixture {
    f.put(raw_el(tags::PIXEL_DATA, vr, bytes))
}

fn encapsulated(f: Fixture, ts: &str, fragments: Vec<Vec<u8>>) -> Fixture {
    let value: DicomValue<InMemDicomObject, Vec<u8>> =
        DicomValue::PixelSequence(PixelFragmentSequence::new(Vec::<u32>::new(), fragments));
    f.put(DataElement::new(tags::PIXEL_DATA, VR::OB, value)).ts(ts)
}

fn deid(wd: &Workdir, extra: &[&str]) -> Run {
    let k = key(wd, "k.key", 9);
    let mut args = vec!["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q", "--option", "clean-pixel-data"];
    args.extend_from_slice(extra);
    wd.kamei(args)
}

fn only_output(wd: &Workdir) -> PathBuf {
    let outs = wd.dicom_outputs("out");
    assert_eq!(outs.len(), 1, "{outs:?}");
    outs[0].clone()
}

fn pixel_bytes(obj: &dicom_object::DefaultDicomObject) -> Vec<u8> {
    obj.element(tags::PIXEL_DATA).unwrap().to_bytes().unwrap().into_owned()
}

/// The checks every cleaned output passes: uncompressed Explicit VR LE, Burned In Annotation
/// NO, 113101 in the method codes, the audit lists the boxes.
fn assert_cleaned(wd: &Workdir, out: &Path) -> dicom_object::DefaultDicomObject {
    let obj = open(out);
    assert_eq!(obj.meta().transfer_syntax().trim_end_matches('\0'), "1.2.840.10008.1.2.1");
    assert_eq!(text(&obj, tags::BURNED_IN_ANNOTATION).as_deref(), Some("NO"));
    let codes: Vec<String> = obj
        .element(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
        .unwrap()
        .items()
        .unwrap()
        .iter()
        .map(|i| i.element(tags::CODE_VALUE).unwrap().to_str().unwrap().trim().to_string())
        .collect();
    assert!(codes.contains(&"113101".to_string()), "{codes:?}");
    let audit = wd.audit("out");
    let boxes = audit[0]["pixels"]["boxes"].as_array().expect("the audit lists the boxes");
    assert!(!boxes.is_empty());
    obj
}

/// Which finder drew each box an audit record lists (`detector...`, `rule:...`,
/// `ultrasound-regions`).
fn box_sources(record: &serde_json::Value) -> Vec<&str> {
    record["pixels"]["boxes"].as_array().unwrap().iter().map(|b| b["source"].as_str().unwrap()).collect()
}

/// How many text pixels of `p` do not have `blank` in `got` (8-bit samples, `samples` per
/// pixel).
fn text_missed(p: &Picture, got: &[u8], samples: usize, blank: u8) -> usize {
    let mut missed = 0;
    for (i, &t) in p.text.iter().enumerate() {
        if t && (0..samples).any(|s| got[i * samples + s] != blank) {
            missed += 1;
        }
    }
    missed
}

/// Every text pixel of `p` has `blank` in `got` (8-bit samples, `samples` per pixel).
fn assert_text_blanked(p: &Picture, got: &[u8], samples: usize, blank: u8) {
    let missed = text_missed(p, got, samples, blank);
    assert_eq!(missed, 0, "{missed} text pixels were not blanked");
}

fn banner(p: &mut Picture) {
    p.write("CANARY PATIENT", 6, 4, 18.0, 230).write("ID 0012345678", 6, 26, 18.0, 230);
    let w = p.w;
    p.write("1970/01/01", w - 120, p.h - 26, 18.0, 230);
}

#[test]
fn native_8_bit_grey_text_is_blanked_and_markers_set() {
    let wd = Workdir::new("native_8_bit_grey_text_is_blanked_and_markers_set");
    let mut p = Picture::new(320, 240);
    banner(&mut p);
    p.write("SAMPLE", 150, 60, 16.0, 250);
    let f = pixel_attrs(image(1, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    assert_text_blanked(&p, &got, 1, 0);
    let (ox, oy) = p.organ();
    let i = (oy * p.w + ox) as usize;
    assert_eq!(got[i], p.grey[i], "the organ is untouched");
    let audit = wd.audit("out");
    let sources = box_sources(&audit[0]);
    assert!(sources.iter().all(|s| s.starts_with("detector")), "{sources:?}");
    assert_eq!(audit[0]["pixels"]["output_transfer_syntax"], "1.2.840.10008.1.2.1");
}

#[test]
fn native_16_bit_grey_with_burned_in_yes_is_cleaned() {
    let wd = Workdir::new("native_16_bit_grey_with_burned_in_yes_is_cleaned");
    let mut p = Picture::new(256, 256);
    banner(&mut p);
    // 12 bits stored: organ up to ~1440, text at 4095.
    let words: Vec<u8> = p
        .grey
        .iter()
        .zip(&p.text)
        .flat_map(|(&g, &t)| (if t { 4095u16 } else { g as u16 * 8 }).to_le_bytes())
        .collect();
    let f = pixel_attrs(image(2, "1.2.840.10008.5.1.4.1.1.2", "CT"), p.w, p.h, 1, 16, 12, "MONOCHROME2").put(str_el(
        tags::BURNED_IN_ANNOTATION,
        VR::CS,
        "YES",
    ));
    native(f, VR::OW, &words).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    let values: Vec<u16> = got.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    for (i, &t) in p.text.iter().enumerate() {
        if t {
            assert_eq!(values[i], 0, "text pixel {i} not blanked");
        }
    }
    let (ox, oy) = p.organ();
    assert_eq!(values[(oy * p.w + ox) as usize], p.grey[(oy * p.w + ox) as usize] as u16 * 8);
    assert_eq!(obj.element(tags::BITS_STORED).unwrap().to_int::<u16>().unwrap(), 12);
}

#[test]
fn rgb_colour_text_is_blanked_black() {
    let wd = Workdir::new("rgb_colour_text_is_blanked_black");
    let mut p = Picture::new(300, 220);
    banner(&mut p);
    // Yellow text, grey organ.
    let rgb: Vec<u8> =
        p.grey.iter().zip(&p.text).flat_map(|(&g, &t)| if t { [240, 230, 20] } else { [g, g, g] }).collect();
    let f = pixel_attrs(image(3, SC_IMAGE, "OT"), p.w, p.h, 3, 8, 8, "RGB");
    native(f, VR::OB, &rgb).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 3, 0);
    assert_eq!(text(&obj, tags::PHOTOMETRIC_INTERPRETATION).as_deref(), Some("RGB"));
}

#[test]
fn ybr_partial_422_is_read_in_its_partial_range_cleaned_and_written_as_rgb() {
    let wd = Workdir::new("ybr_partial_422_is_read_in_its_partial_range_cleaned_and_written_as_rgb");
    let mut p = Picture::new(300, 220);
    banner(&mut p);
    // Yellow text on a grey organ, coded as PS3.3 C.7.6.3.1.2 codes YBR_PARTIAL: Y 16-235,
    // Cb and Cr 16-240; two pixels share the Cb and Cr of the first (Y1 Y2 Cb Cr).
    let rgb: Vec<[f64; 3]> =
        p.grey.iter().zip(&p.text).map(|(&g, &t)| if t { [240.0, 230.0, 20.0] } else { [g as f64; 3] }).collect();
    let ybr = |[r, g, b]: [f64; 3]| {
        let c = |v: f64| v.round().clamp(0.0, 255.0) as u8;
        [
            c(0.2568 * r + 0.5041 * g + 0.0979 * b + 16.0),
            c(-0.1482 * r - 0.2910 * g + 0.4392 * b + 128.0),
            c(0.4392 * r - 0.3678 * g - 0.0714 * b + 128.0),
        ]
    };
    let coded: Vec<u8> = rgb
        .chunks_exact(2)
        .flat_map(|pair| {
            let (a, b) = (ybr(pair[0]), ybr(pair[1]));
            [a[0], b[0], a[1], a[2]]
        })
        .collect();
    let f = pixel_attrs(image(3, SC_IMAGE, "OT"), p.w, p.h, 3, 8, 8, "YBR_PARTIAL_422");
    native(f, VR::OB, &coded).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    assert_text_blanked(&p, &got, 3, 0);
    assert_eq!(text(&obj, tags::PHOTOMETRIC_INTERPRETATION).as_deref(), Some("RGB"));
    assert_eq!(got.len(), (p.w * p.h * 3) as usize);
    // The grey organ comes back at its own levels (read as full range it would lose up to 14%
    // of its contrast: Y 235 shown as 235, not white). Away from the text (rows 60 to 160).
    let organ = (60 * p.w) as usize..(160 * p.w) as usize;
    let err: f64 =
        organ.clone().map(|i| (got[i * 3 + 1] as f64 - p.grey[i] as f64).abs()).sum::<f64>() / organ.len() as f64;
    assert!(err < 1.5, "mean error {err:.2} grey levels");
}

#[test]
fn palette_colour_is_blanked_with_the_darkest_entry() {
    let wd = Workdir::new("palette_colour_is_blanked_with_the_darkest_entry");
    let mut p = Picture::new(256, 200);
    banner(&mut p);
    // Inverted palette: index i shows 255 - i, so black is index 255.
    let indices: Vec<u8> = p.grey.iter().map(|&g| 255 - g).collect();
    let lut: Vec<u16> = (0..256u16).map(|i| (255 - i) << 8).collect();
    let mut f = pixel_attrs(image(4, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "PALETTE COLOR");
    for (d, t) in [
        (tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA),
        (tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA),
        (tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA),
    ] {
        f = f
            .put(DataElement::new(d, VR::US, PrimitiveValue::U16([256u16, 0, 16].into_iter().collect())))
            .put(DataElement::new(t, VR::OW, PrimitiveValue::U16(lut.iter().copied().collect())));
    }
    native(f, VR::OB, &indices).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 255);
    assert_eq!(text(&obj, tags::PHOTOMETRIC_INTERPRETATION).as_deref(), Some("PALETTE COLOR"));
}

/// RLE Lossless (PS3.5 Annex G) with literal runs only: valid, and enough for a fixture.
fn rle_frame(planes: &[Vec<u8>], w: usize) -> Vec<u8> {
    let mut segments = Vec::new();
    for plane in planes {
        let mut seg = Vec::new();
        for row in plane.chunks(w) {
            for run in row.chunks(128) {
                seg.push((run.len() - 1) as u8);
                seg.extend_from_slice(run);
            }
        }
        if seg.len() % 2 == 1 {
            seg.push(0);
        }
        segments.push(seg);
    }
    let mut out = vec![0u8; 64];
    out[0..4].copy_from_slice(&(segments.len() as u32).to_le_bytes());
    let mut offset = 64u32;
    for (i, s) in segments.iter().enumerate() {
        out[4 + 4 * i..8 + 4 * i].copy_from_slice(&offset.to_le_bytes());
        offset += s.len() as u32;
    }
    for s in segments {
        out.extend(s);
    }
    out
}

#[test]
fn rle_input_is_cleaned_and_written_uncompressed() {
    let wd = Workdir::new("rle_input_is_cleaned_and_written_uncompressed");
    let mut p = Picture::new(240, 200);
    banner(&mut p);
    let f = pixel_attrs(image(5, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    encapsulated(f, "1.2.840.10008.1.2.5", vec![rle_frame(&[p.grey.clone()], p.w as usize)])
        .write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    assert_text_blanked(&p, &got, 1, 0);
    let (ox, oy) = p.organ();
    assert_eq!(got[(oy * p.w + ox) as usize], p.grey[(oy * p.w + ox) as usize]);
    assert!(obj.element_opt(tags::LOSSY_IMAGE_COMPRESSION).unwrap().is_none(), "RLE is lossless");
}

#[test]
fn jpeg_baseline_input_is_cleaned_and_keeps_its_lossy_history() {
    let wd = Workdir::new("jpeg_baseline_input_is_cleaned_and_keeps_its_lossy_history");
    let mut p = Picture::new(256, 192);
    banner(&mut p);
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 92)
        .encode(&p.grey, p.w as u16, p.h as u16, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let f = pixel_attrs(image(6, SC_IMAGE, "OT"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    encapsulated(f, "1.2.840.10008.1.2.4.50", vec![jpeg]).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    let blank = *got.iter().min().unwrap();
    assert_text_blanked(&p, &got, 1, blank);
    assert_eq!(text(&obj, tags::LOSSY_IMAGE_COMPRESSION).as_deref(), Some("01"));
    assert_eq!(text(&obj, tags::LOSSY_IMAGE_COMPRESSION_METHOD).as_deref(), Some("ISO_10918_1"));
}

#[test]
fn r36_02_a_jpeg_frame_whose_scan_stops_before_its_last_block_fails_the_image() {
    // rv36 02: a JPEG baseline frame whose entropy-coded data stops half way but still ends with
    // EOI was decoded with the missing blocks made up (black) and released as a whole image.
    let wd = Workdir::new("r36_02_a_jpeg_frame_whose_scan_stops_before_its_last_block_fails_the_image");
    let (w, h) = (80u16, 64u16);
    let frame = |seed: u64| {
        let grey: Vec<u8> = (0..w as u64 * h as u64).map(|i| ((i * 2_654_435_761 + seed * 7919) % 251) as u8).collect();
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 90).encode(&grey, w, h, jpeg_encoder::ColorType::Luma).unwrap();
        jpeg
    };
    let cut = |jpeg: Vec<u8>| {
        let sos = jpeg.windows(2).position(|p| p == [0xFF, 0xDA]).unwrap();
        let mut cut = jpeg[..sos + (jpeg.len() - sos) / 2].to_vec();
        cut.extend_from_slice(&[0xFF, 0xD9]);
        cut
    };
    let cine = |n: u32, frames: Vec<Vec<u8>>| {
        let count = frames.len().to_string();
        let f = pixel_attrs(image(n, "1.2.840.10008.5.1.4.1.1.3.1", "US"), w as u32, h as u32, 1, 8, 8, "MONOCHROME2")
            .put(str_el(tags::NUMBER_OF_FRAMES, VR::IS, &count));
        encapsulated(f, "1.2.840.10008.1.2.4.50", frames)
    };
    cine(68, (0..4).map(frame).collect()).write(&wd.path("in/intact.dcm"));
    cine(69, vec![frame(0), frame(1), cut(frame(2)), frame(3)]).write(&wd.path("in/cut_cine.dcm"));
    let single = pixel_attrs(image(70, US_IMAGE, "US"), w as u32, h as u32, 1, 8, 8, "MONOCHROME2");
    encapsulated(single, "1.2.840.10008.1.2.4.50", vec![cut(frame(5))]).write(&wd.path("in/cut_single.dcm"));
    deid(&wd, &["--layout", "mirror"]).assert_code(1);
    let outs = wd.dicom_outputs("out");
    assert_eq!(outs.len(), 1, "only the intact cine is written: {outs:?}");
    assert!(outs[0].ends_with("intact.dcm"), "{outs:?}");
    let failed: Vec<_> = wd.audit("out").into_iter().filter(|r| r["outcome"] == "failed").collect();
    assert_eq!(failed.len(), 2);
    for r in failed {
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains("ends before its last block") && reason.contains("not released"), "{reason}");
    }
}

/// Whether DCMTK (dcmdjpeg, dcmcjpeg) is installed: kamei decodes 12-bit JPEG with it.
fn has_dcmtk() -> bool {
    std::process::Command::new("dcmdjpeg").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn jpeg_12_bit_input_is_cleaned_through_dcmtk() {
    if !has_dcmtk() {
        eprintln!("12-bit JPEG test skipped: DCMTK (dcmcjpeg, dcmdjpeg) is not installed (.ci/run installs it)");
        return;
    }
    let wd = Workdir::new("jpeg_12_bit_input_is_cleaned_through_dcmtk");
    let mut p = Picture::new(256, 192);
    banner(&mut p);
    // 12 bits stored: the organ up to ~1440, text at 4000.
    let words: Vec<u8> = p
        .grey
        .iter()
        .zip(&p.text)
        .flat_map(|(&g, &t)| (if t { 4000u16 } else { g as u16 * 6 }).to_le_bytes())
        .collect();
    let f = pixel_attrs(image(12, SC_IMAGE, "OT"), p.w, p.h, 1, 16, 12, "MONOCHROME2");
    native(f, VR::OW, &words).write(&wd.path("native.dcm"));
    // DCMTK's encoder makes the 12-bit JPEG Extended (Process 4) input, at high quality.
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let made = std::process::Command::new("dcmcjpeg")
        .args(["+ee", "+q", "95"])
        .arg(wd.path("native.dcm"))
        .arg(wd.path("in/a.dcm"))
        .status()
        .unwrap();
    assert!(made.success());
    assert_eq!(open(&wd.path("in/a.dcm")).meta().transfer_syntax().trim_end_matches('\0'), "1.2.840.10008.1.2.4.51");
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let values: Vec<u16> = pixel_bytes(&obj).chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let blank = *values.iter().min().unwrap();
    let missed = p.text.iter().zip(&values).filter(|(t, v)| **t && **v != blank).count();
    assert_eq!(missed, 0, "{missed} text pixels were not blanked");
    let (ox, oy) = p.organ();
    let organ = values[(oy * p.w + ox) as usize] as i32;
    assert!((organ - p.grey[(oy * p.w + ox) as usize] as i32 * 6).abs() < 60, "the organ is decoded, not blanked");
    assert_eq!(obj.element(tags::BITS_STORED).unwrap().to_int::<u16>().unwrap(), 12);
    assert_eq!(text(&obj, tags::LOSSY_IMAGE_COMPRESSION).as_deref(), Some("01"), "the lossy history is kept");
}

/// A 12-bit JPEG Extended image whose frame header (SOF1: 12 bits, 64 × 64, one component)
/// matches the data set but whose coded data is not JPEG.
fn broken_12_bit_jpeg(wd: &Workdir) {
    let f = pixel_attrs(image(13, SC_IMAGE, "OT"), 64, 64, 1, 16, 12, "MONOCHROME2");
    let mut stream = vec![0xFF, 0xD8, 0xFF, 0xC1, 0, 11, 12, 0, 64, 0, 64, 1, 1, 0x11, 0];
    stream.extend_from_slice(b"not a JPEG stream");
    encapsulated(f, "1.2.840.10008.1.2.4.51", vec![stream]).write(&wd.path("in/a.dcm"));
}

/// `deid` with the pixel option and one environment variable set.
fn deid_with_env(wd: &Workdir, name: &str, value: &std::path::Path) -> std::process::Output {
    let k = key(wd, "k.key", 9);
    std::process::Command::new(env!("CARGO_BIN_EXE_kamei"))
        .args(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q", "--option", "clean-pixel-data"])
        .current_dir(wd.path(""))
        .env(name, value)
        .output()
        .unwrap()
}

#[test]
fn jpeg_12_bit_without_dcmtk_fails_saying_what_to_install() {
    let wd = Workdir::new("jpeg_12_bit_without_dcmtk_fails_saying_what_to_install");
    broken_12_bit_jpeg(&wd);
    let run = deid_with_env(&wd, "PATH", Path::new(""));
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("apt-get install dcmtk"), "{run:?}");
    assert!(wd.dicom_outputs("out").is_empty(), "nothing is released");
}

#[test]
fn jpeg_12_bit_that_dcmtk_cannot_decode_fails_with_its_reason() {
    if !has_dcmtk() {
        eprintln!("12-bit JPEG test skipped: DCMTK (dcmdjpeg) is not installed (.ci/run installs it)");
        return;
    }
    let wd = Workdir::new("jpeg_12_bit_that_dcmtk_cannot_decode_fails_with_its_reason");
    broken_12_bit_jpeg(&wd);
    std::fs::create_dir_all(wd.path("tmp")).unwrap();
    let run = deid_with_env(&wd, "TMPDIR", &wd.path("tmp"));
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("dcmdjpeg could not decode"), "{run:?}");
    assert!(wd.dicom_outputs("out").is_empty(), "nothing is released");
    assert_eq!(std::fs::read_dir(wd.path("tmp")).unwrap().count(), 0, "the temporary folder is removed");
}

#[cfg(unix)]
#[test]
fn jpeg_12_bit_is_handed_to_dcmdjpeg_in_a_folder_only_its_owner_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let wd = Workdir::new("jpeg_12_bit_is_handed_to_dcmdjpeg_in_a_folder_only_its_owner_can_read");
    broken_12_bit_jpeg(&wd);
    // A dcmdjpeg that records the mode of the file it is given and of its folder, then fails.
    std::fs::create_dir_all(wd.path("bin")).unwrap();
    let modes = wd.path("modes.txt");
    let script =
        format!("#!/bin/sh\n/usr/bin/stat -c %a \"$1\" \"$(/usr/bin/dirname \"$1\")\" > {}\nexit 1\n", modes.display());
    std::fs::write(wd.path("bin/dcmdjpeg"), script).unwrap();
    std::fs::set_permissions(wd.path("bin/dcmdjpeg"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", wd.path("bin").display());
    let run = deid_with_env(&wd, "PATH", Path::new(&path));
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let recorded = std::fs::read_to_string(&modes).expect("dcmdjpeg was run");
    assert_eq!(recorded.split_whitespace().collect::<Vec<_>>(), ["600", "700"], "file, folder");
}

/// Write `in/a.dcm`: an 8-bit native Ultrasound Multi-frame image (instance `n`) whose frames
/// are `pictures`, all of one size.
fn multi_frame_us(wd: &Workdir, n: u32, pictures: &[Picture]) {
    let (w, h) = (pictures[0].w, pictures[0].h);
    let frames: Vec<u8> = pictures.iter().flat_map(|p| p.grey.iter().copied()).collect();
    let f = pixel_attrs(image(n, "1.2.840.10008.5.1.4.1.1.3.1", "US"), w, h, 1, 8, 8, "MONOCHROME2").put(str_el(
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        &pictures.len().to_string(),
    ));
    native(f, VR::OB, &frames).write(&wd.path("in/a.dcm"));
}

#[test]
fn every_frame_of_a_multi_frame_image_is_cleaned() {
    let wd = Workdir::new("every_frame_of_a_multi_frame_image_is_cleaned");
    let mut pictures = Vec::new();
    for k in 0..3u32 {
        let mut p = Picture::new(200, 160);
        banner(&mut p);
        if k == 2 {
            // Text only the last frame has: its box is blanked in every frame.
            p.write("LATE TEXT", 60, 120, 14.0, 220);
        }
        pictures.push(p);
    }
    multi_frame_us(&wd, 7, &pictures);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    let n = 200 * 160;
    let last = &pictures[2];
    for k in 0..3 {
        let frame = &got[k * n..(k + 1) * n];
        assert_text_blanked(&pictures[k], frame, 1, 0);
        assert_text_blanked(last, frame, 1, 0);
    }
    assert_eq!(wd.audit("out")[0]["pixels"]["frames"], 3);
}

#[test]
fn ultrasound_regions_blank_everything_outside_the_data_region() {
    let wd = Workdir::new("ultrasound_regions_blank_everything_outside_the_data_region");
    let mut p = Picture::new(240, 200);
    // Faint text outside the region that the detector would not need to see.
    p.write("CANARY", 4, 2, 12.0, 90);
    let ul = |v: u32| PrimitiveValue::from(v);
    let region = item(vec![
        DataElement::new(tags::REGION_SPATIAL_FORMAT, VR::US, us(1)),
        DataElement::new(tags::REGION_DATA_TYPE, VR::US, us(1)),
        DataElement::new(tags::REGION_LOCATION_MIN_X0, VR::UL, ul(40)),
        DataElement::new(tags::REGION_LOCATION_MIN_Y0, VR::UL, ul(30)),
        DataElement::new(tags::REGION_LOCATION_MAX_X1, VR::UL, ul(199)),
        DataElement::new(tags::REGION_LOCATION_MAX_Y1, VR::UL, ul(179)),
    ]);
    let f = pixel_attrs(image(8, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2")
        .put(seq_el(tags::SEQUENCE_OF_ULTRASOUND_REGIONS, vec![region]));
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    for y in 0..p.h {
        for x in 0..p.w {
            let i = (y * p.w + x) as usize;
            let inside = (40..200).contains(&x) && (30..180).contains(&y);
            if inside {
                assert_eq!(got[i], p.grey[i], "({x},{y}) inside the region changed");
            } else {
                assert_eq!(got[i], 0, "({x},{y}) outside the region is not blank");
            }
        }
    }
    let audit = wd.audit("out");
    assert!(audit[0]["pixels"]["boxes"].as_array().unwrap().iter().any(|b| b["source"] == "ultrasound-regions"));
}

#[test]
fn user_rule_blanks_its_rectangle_and_can_turn_detection_off() {
    let wd = Workdir::new("user_rule_blanks_its_rectangle_and_can_turn_detection_off");
    let mut p = Picture::new(200, 150);
    banner(&mut p);
    std::fs::create_dir_all(wd.path("rules")).unwrap();
    std::fs::write(
        wd.path("rules/acme.toml"),
        "[[rule]]\nname = \"acme-banner\"\nsource = \"test\"\nwhen = { Manufacturer = \"acme\", Rows = 150 }\n\
         blank = [[0, 0, 200, 48]]\ndetect = false\n",
    )
    .unwrap();
    let f = pixel_attrs(image(9, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--pixel-rules", "rules"]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    for (i, (&a, &b)) in got.iter().zip(&p.grey).enumerate() {
        let y = i as u32 / p.w;
        if y < 48 {
            assert_eq!(a, 0);
        } else {
            assert_eq!(a, b, "outside the rule's rectangle nothing changes (detection is off)");
        }
    }
    let audit = wd.audit("out");
    let boxes = audit[0]["pixels"]["boxes"].as_array().unwrap();
    assert_eq!(boxes.len(), 1);
    assert_eq!(boxes[0]["source"], "rule:acme-banner");
    // An invalid rule file is a setup error naming the file and line.
    std::fs::write(wd.path("rules/bad.toml"), "[[rule]]\nname = \"x\"\nsource = \"s\"\nwhen = { Modalty = \"US\" }\n")
        .unwrap();
    let run = wd.kamei(["deid", "in", "-o", "out2", "--option", "clean-pixel-data", "--pixel-rules", "rules"]);
    run.assert_code(2);
    assert!(run.stderr().contains("bad.toml:4"), "{}", run.stderr());
}

#[test]
fn a_rule_that_turns_detection_off_is_warned_about_at_start_and_noted_in_each_audit_record() {
    let wd = Workdir::new("a_rule_that_turns_detection_off_is_warned_about_at_start_and_noted_in_each_audit_record");
    let mut p = Picture::new(200, 150);
    banner(&mut p);
    std::fs::create_dir_all(wd.path("rules")).unwrap();
    std::fs::write(
        wd.path("rules/acme.toml"),
        "[[rule]]\nname = \"acme-top\"\nsource = \"test\"\nwhen = { Manufacturer = \"acme\" }\n\
         blank = [[0, 0, 200, 8]]\ndetect = false\n",
    )
    .unwrap();
    let f = pixel_attrs(image(9, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &["--pixel-rules", "rules"]);
    run.assert_code(0);
    assert!(run.stderr().contains("pixel rule acme-top sets detect = false"), "{}", run.stderr());
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("automatic text detection off: rule acme-top sets detect = false"), "{notes}");
}

#[test]
fn a_rule_that_blanks_the_whole_image_with_detection_off_is_not_warned_about() {
    let wd = Workdir::new("a_rule_that_blanks_the_whole_image_with_detection_off_is_not_warned_about");
    let p = Picture::new(200, 150);
    std::fs::create_dir_all(wd.path("rules")).unwrap();
    std::fs::write(
        wd.path("rules/acme.toml"),
        "[[rule]]\nname = \"acme-all\"\nsource = \"test\"\nwhen = { Manufacturer = \"acme\" }\n\
         blank = [[0, 0, 65535, 65535]]\ndetect = false\n",
    )
    .unwrap();
    let f = pixel_attrs(image(9, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &["--pixel-rules", "rules"]);
    run.assert_code(0);
    // Neither this rule nor the built-in wsi-label (the same shape) leaves text unsearched.
    assert!(!run.stderr().contains("sets detect = false"), "{}", run.stderr());
}

#[test]
fn an_image_that_cannot_be_decoded_fails_and_nothing_is_written() {
    let wd = Workdir::new("an_image_that_cannot_be_decoded_fails_and_nothing_is_written");
    let f = pixel_attrs(image(10, US_IMAGE, "US"), 64, 64, 1, 8, 8, "MONOCHROME2");
    encapsulated(f, "1.2.840.10008.1.2.4.50", vec![vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 3, 1, 2]])
        .write(&wd.path("in/a.dcm"));
    let run = deid(&wd, &[]);
    run.assert_code(1);
    assert!(wd.dicom_outputs("out").is_empty());
    let audit = wd.audit("out");
    assert_eq!(audit[0]["outcome"], "failed");
    let reason = audit[0]["reason"].as_str().unwrap();
    assert!(reason.contains("cannot be decoded") && reason.contains("not released"), "{reason}");
    assert!(run.stderr().contains("cannot be decoded"), "{}", run.stderr());
}

#[test]
fn an_image_that_needs_no_cleaning_keeps_its_pixels_byte_for_byte() {
    let wd = Workdir::new("an_image_that_needs_no_cleaning_keeps_its_pixels_byte_for_byte");
    let mut p = Picture::new(64, 64);
    p.write("NOT LOOKED AT", 2, 2, 10.0, 200);
    let f = pixel_attrs(image(11, "1.2.840.10008.5.1.4.1.1.2", "CT"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let out = only_output(&wd);
    assert_eq!(raw(&out, tags::PIXEL_DATA), raw(&wd.path("in/a.dcm"), tags::PIXEL_DATA));
    let obj = open(&out);
    assert_eq!(obj.meta().transfer_syntax().trim_end_matches('\0'), "1.2.840.10008.1.2.1");
    assert!(obj.element_opt(tags::BURNED_IN_ANNOTATION).unwrap().is_none());
    assert!(wd.audit("out")[0].get("pixels").is_none());
}

/// A CT image of `p` (CT Image Storage, no Burned In Annotation), as a dose screen may be stored.
fn ct_screen(p: &Picture, n: u32) -> Fixture {
    let f = pixel_attrs(image(n, "1.2.840.10008.5.1.4.1.1.2", "CT"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey)
}

#[test]
fn a_ct_image_a_device_rule_matches_is_cleaned_by_the_rule() {
    let wd = Workdir::new("a_ct_image_a_device_rule_matches_is_cleaned_by_the_rule");
    // The built-in rule ct-ge-dose-report: CT, GE, Series Description "Dose Report".
    let mut p = Picture::new(512, 160);
    banner(&mut p);
    ct_screen(&p, 12)
        .put(str_el(tags::MANUFACTURER, VR::LO, "GE MEDICAL SYSTEMS"))
        .put(str_el(tags::SERIES_DESCRIPTION, VR::LO, "Dose Report"))
        .write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
    assert!(box_sources(&wd.audit("out")[0]).contains(&"rule:ct-ge-dose-report"));
}

#[test]
fn a_screen_capture_of_any_modality_is_cleaned() {
    let wd = Workdir::new("a_screen_capture_of_any_modality_is_cleaned");
    let mut p = Picture::new(320, 240);
    banner(&mut p);
    ct_screen(&p, 13)
        .put(str_el(tags::IMAGE_TYPE, VR::CS, "DERIVED\\SECONDARY\\SCREEN SAVE"))
        .write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
    // Without clean-pixel-data it counts among the images that may carry text.
    let k = key(&wd, "k.key", 9);
    let run = wd.kamei(["deid", "in", "-o", "plain", "--key", k.to_str().unwrap(), "-q"]);
    run.assert_code(0);
    assert_eq!(wd.audit("plain")[0]["burned_in"], "likely");
}

#[test]
fn previews_are_written_outside_out_and_refused_inside() {
    let wd = Workdir::new("previews_are_written_outside_out_and_refused_inside");
    let mut p = Picture::new(160, 120);
    banner(&mut p);
    let f = pixel_attrs(image(12, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    deid(&wd, &["--previews", "prev"]).assert_code(0);
    let out = only_output(&wd);
    // README: `DIR/<output path>.png`.
    let rel = out.strip_prefix(wd.path("out")).unwrap();
    let png = image::open(format!("{}.png", wd.path("prev").join(rel).display())).expect("a preview PNG");
    assert_eq!((png.width(), png.height()), (2 * 160 + 4, 120));
    let inside = wd.kamei(["deid", "in", "-o", "out3", "--option", "clean-pixel-data", "--previews", "out3/prev"]);
    inside.assert_code(2);
    assert!(inside.stderr().contains("--previews must not be inside the output folder"), "{}", inside.stderr());
    let without = wd.kamei(["deid", "in", "-o", "out4", "--previews", "prev2"]);
    without.assert_code(2);
    assert!(without.stderr().contains("need --option clean-pixel-data"), "{}", without.stderr());
}

#[test]
fn previews_of_outputs_named_alike_up_to_their_last_dot_are_each_written() {
    // `--layout mirror` keeps input names, which often differ only after their last dot.
    let wd = Workdir::new("previews_of_outputs_named_alike_up_to_their_last_dot_are_each_written");
    for (n, name) in [(13, "IMG.001"), (14, "IMG.002")] {
        let mut p = Picture::new(160, 120);
        banner(&mut p);
        let f = pixel_attrs(image(n, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
        native(f, VR::OB, &p.grey).write(&wd.path(&format!("in/{name}")));
    }
    deid(&wd, &["--layout", "mirror", "--previews", "prev"]).assert_code(0);
    for name in ["IMG.001", "IMG.002"] {
        assert!(wd.path(&format!("out/{name}")).is_file(), "{name} released");
        assert!(wd.path(&format!("prev/{name}.png")).is_file(), "preview of {name}");
    }
}

#[test]
fn a_killed_runs_temporary_previews_are_removed_by_the_next_run() {
    // A kill -9 between creating a preview's temporary file and renaming it leaves the
    // temporary file (`.kamei-XXXX.part`, an image of the patient before cleaning): made here by
    // name, where the run writes them and where an older kamei wrote them (beside the PNGs).
    let wd = Workdir::new("a_killed_runs_temporary_previews_are_removed_by_the_next_run");
    us_saying_no(&wd);
    let stale = [wd.path("prev/.kamei-partial/whole/.kamei-K1lled.part"), wd.path("prev/sub/.kamei-0ld3r.part")];
    let kept = [wd.path("prev/sub/notes.part"), wd.path("prev/.kamei-partial/shard-0001-of-0002/.kamei-Sh4rd.part")];
    for f in stale.iter().chain(&kept) {
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, b"before cleaning").unwrap();
    }
    deid(&wd, &["--layout", "mirror", "--previews", "prev"]).assert_code(0);
    assert!(wd.path("prev/a.dcm.png").is_file(), "the preview is written");
    for f in &stale {
        assert!(!f.exists(), "{} is a killed run's temporary file", f.display());
    }
    for f in &kept {
        assert!(f.exists(), "{} is not this run's temporary file", f.display());
    }
    assert!(!wd.path("prev/.kamei-partial/whole").exists(), "a finished run leaves no staging folder");
}

fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if p.is_dir() {
        Some(p.canonicalize().unwrap())
    } else {
        eprintln!("pixel corpus test skipped: ../shared/corpus is not present (CI always has it)");
        None
    }
}

#[test]
fn corpus_every_image_that_may_carry_text_is_cleaned_or_fails_with_a_reason() {
    let Some(corpus) = corpus() else { return };
    let wd = Workdir::new("corpus_pixels");
    let k = key(&wd, "k.key", 5);
    let run = wd.kamei([
        "deid",
        corpus.to_str().unwrap(),
        "-o",
        "out",
        "--key",
        k.to_str().unwrap(),
        "--linkage",
        "link.csv",
        "--option",
        "clean-pixel-data",
        "-q",
    ]);
    assert!(run.code() == 0 || run.code() == 1, "{}", run.stderr());
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    // input → (kind, output or reason)
    let mut link: HashMap<PathBuf, (String, String)> = HashMap::new();
    for row in csv::Reader::from_path(wd.path("link.csv")).unwrap().records() {
        let row = row.unwrap();
        if matches!(&row[0], "file" | "failed" | "skipped") {
            link.insert(PathBuf::from(&row[1]), (row[0].to_string(), row[2].to_string()));
        }
    }
    let audit: HashMap<String, serde_json::Value> =
        wd.audit("out").into_iter().filter_map(|r| r["output"].as_str().map(|o| (o.to_string(), r.clone()))).collect();
    let annotated = ["US", "SC", "XA", "RF", "ES", "XC", "OT", "DOC", "GM", "SM", "IVUS", "OP"];
    let annotated_classes =
        ["Secondary Capture", "Ultrasound", "X-Ray Angiographic", "Fluoroscop", "Endoscop", "Photograph"];
    let mut rdr = csv::ReaderBuilder::new().delimiter(b'\t').from_path(corpus.join("INVENTORY.tsv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let mut cleaned = 0;
    let mut failed = Vec::new();
    for r in rdr.records() {
        let r = r.unwrap();
        let row: HashMap<&str, &str> = headers.iter().zip(r.iter()).collect();
        let has_pixels = !row["rows_x_cols_x_frames"].is_empty();
        let may_carry_text = row["burned_in"] == "YES"
            || annotated.contains(&row["modality"])
            || annotated_classes.iter().any(|c| row["sop_class"].contains(c));
        if !has_pixels || !may_carry_text || row["read"] != "ok" {
            continue;
        }
        let path = corpus.join(row["path"]);
        let (kind, what) = link.get(&path).unwrap_or_else(|| panic!("{} is not accounted for", path.display()));
        match kind.as_str() {
            "file" => {
                let record = &audit[what];
                assert!(record.get("pixels").is_some(), "{} was written without pixel cleaning", path.display());
                cleaned += 1;
            }
            "failed" => {
                assert!(!what.is_empty());
                failed.push(row["path"].to_string());
            }
            other => panic!("{} {other}", path.display()),
        }
    }
    failed.sort();
    // The decoders kamei has cannot read these (each fails with its reason, never released): a
    // JPEG 2000 stream with an embedded delimiter, and 12-bit JPEG Extended when DCMTK's
    // dcmdjpeg is not installed (.ci/run installs it).
    let mut expected = vec!["pydicom/test_files/JPEG2000-embedded-sequence-delimiter.dcm"];
    if !has_dcmtk() {
        eprintln!("12-bit JPEG expected to fail: DCMTK's dcmdjpeg is not installed");
        expected = vec![
            "pydicom/test_files/JPEG-lossy.dcm",
            "pydicom/test_files/JPEG2000-embedded-sequence-delimiter.dcm",
            "pydicom/test_files/JPGExtended.dcm",
        ];
    }
    assert_eq!(failed, expected);
    assert!(cleaned >= 70, "only {cleaned} images cleaned");
    // Nothing in OUT names a patient, cleaned or not.
    assert_eq!(wd.tree_contains("out", b"CANARY"), None);
}

#[test]
fn report_shows_the_cleaned_after_image_with_its_boxes() {
    let wd = Workdir::new("report_shows_the_cleaned_after_image_with_its_boxes");
    let mut p = Picture::new(320, 240);
    banner(&mut p);
    let f = pixel_attrs(image(1, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    wd.kamei(["report", "out", "-o", "report.html"]).assert_code(0);
    let page = std::fs::read_to_string(wd.path("report.html")).unwrap();
    let start = page.find("data:image/png;base64,").expect("a thumbnail") + "data:image/png;base64,".len();
    let end = start + page[start..].find('"').unwrap();
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD.decode(&page[start..end]).unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (256, 192), "scaled to at most 256 pixels");
    assert!(page.contains("boxes (detector"), "the caption says what found the boxes");
    assert!(!page.contains("CANARY"));
}

/// The decoded frames of a corpus file, little endian, samples interleaved.
fn decoded(path: &Path) -> kamei::pixels::decode::Frames {
    let kamei::read::Opened::Dicom(file) = kamei::read::open(path, &Default::default()).unwrap() else {
        panic!("{} is DICOM", path.display())
    };
    kamei::pixels::decode::decode(&file.dataset, &file.transfer_syntax, Some(path)).unwrap()
}

#[test]
fn corpus_32_bit_rle_decodes_to_its_16_bit_twin_scaled() {
    // pydicom's test files hold one RGB picture at 16 and at 32 bits per sample, each value
    // scaled by 65537 (0xFFFF becomes 0xFFFFFFFF): kamei's 32-bit RLE decoder must agree with
    // dicom-rs decoding the 16-bit file, on every sample of every frame.
    let Some(corpus) = corpus() else { return };
    for (wide, narrow) in [
        ("SC_rgb_rle_32bit.dcm", "SC_rgb_rle_16bit.dcm"),
        ("SC_rgb_rle_32bit_2frame.dcm", "SC_rgb_rle_16bit_2frame.dcm"),
    ] {
        let dir = corpus.join("pydicom/test_files");
        let (w, n) = (decoded(&dir.join(wide)), decoded(&dir.join(narrow)));
        assert_eq!((w.frames, w.samples, w.bits_allocated), (n.frames, n.samples, 32), "{wide}");
        let w32: Vec<u32> = w.data.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
        let n16: Vec<u32> = n.data.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]]) as u32 * 65537).collect();
        assert_eq!(w32.len(), n16.len(), "{wide}");
        assert!(w32 == n16, "{wide}: the 32-bit samples differ from the 16-bit ones scaled");
        assert!(n16.iter().any(|&v| v != 0 && v != u32::MAX), "{narrow} has more than black and white");
    }
}

/// A 12-bit US image (16 bits allocated) whose bit 15 holds an embedded overlay (Overlay Bit
/// Position 15, no Overlay Data), and a rule that blanks its top rows, so the pixel data is
/// rewritten.
fn overlay_in_bit_15(wd: &Workdir, signed: bool) -> Vec<u16> {
    let (w, h) = (64u32, 48u32);
    let samples: Vec<u16> = (0..w * h)
        .map(|i| {
            let value = (i % 4096) as u16;
            let overlay = if (i / w) % 8 == 3 { 0x8000 } else { 0 };
            value | overlay
        })
        .collect();
    let bytes: Vec<u8> = samples.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::create_dir_all(wd.path("rules")).unwrap();
    std::fs::write(
        wd.path("rules/top.toml"),
        "[[rule]]\nname = \"top-rows\"\nsource = \"test\"\nwhen = { Modality = \"US\" }\nblank = [[0, 0, 64, 8]]\ndetect = false\n",
    )
    .unwrap();
    let f = pixel_attrs(image(40, US_IMAGE, "US"), w, h, 1, 16, 12, "MONOCHROME2")
        .put(DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, us(signed as u16)))
        .put(DataElement::new(dicom_core::Tag(0x6000, 0x0010), VR::US, us(h as u16)))
        .put(DataElement::new(dicom_core::Tag(0x6000, 0x0011), VR::US, us(w as u16)))
        .put(DataElement::new(dicom_core::Tag(0x6000, 0x0100), VR::US, us(1)))
        .put(DataElement::new(dicom_core::Tag(0x6000, 0x0102), VR::US, us(15)));
    native(f, VR::OW, &bytes).write(&wd.path("in/a.dcm"));
    samples
}

#[test]
fn r08_an_embedded_overlay_does_not_come_back_when_boxes_are_blanked() {
    let wd = Workdir::new("r08_an_embedded_overlay_does_not_come_back_when_boxes_are_blanked");
    let source = overlay_in_bit_15(&wd, false);
    deid(&wd, &["--pixel-rules", "rules"]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got: Vec<u16> = pixel_bytes(&obj).chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    assert_eq!(got.len(), source.len());
    assert!(got.iter().all(|v| v >> 12 == 0), "a bit outside Bits Stored is set in the released pixel data");
    for (i, (&g, &s)) in got.iter().zip(&source).enumerate().skip(64 * 8) {
        assert_eq!(g, s & 0x0FFF, "sample {i}: the image value changed outside the blanked box");
    }
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("bits outside Bits Stored were cleared in the rewritten pixel data"), "{notes}");
}

#[test]
fn r08_signed_samples_keep_their_values_when_the_overlay_bits_are_cleared() {
    let wd = Workdir::new("r08_signed_samples_keep_their_values_when_the_overlay_bits_are_cleared");
    let source = overlay_in_bit_15(&wd, true);
    deid(&wd, &["--pixel-rules", "rules"]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got: Vec<i16> = pixel_bytes(&obj).chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
    for (i, (&g, &s)) in got.iter().zip(&source).enumerate().skip(64 * 8) {
        // The 12-bit two's complement value, read over the whole 16 bits (sign-extended).
        let want = (((s & 0x0FFF) << 4) as i16) >> 4;
        assert_eq!(g, want, "sample {i}");
    }
}

fn assert_failed_with_undeclared_frames(wd: &Workdir, run: &Run) {
    run.assert_code(1);
    assert!(wd.dicom_outputs("out").is_empty(), "nothing is released");
    let audit = wd.audit("out");
    assert_eq!(audit[0]["outcome"], "failed");
    let reason = audit[0]["reason"].as_str().unwrap();
    // Native data is refused by the header check every image gets (the bytes past the declared
    // frames are not padding), encapsulated data by the cleaner's count of codestreams.
    let undeclared = [
        "pixel data holds more than the 1 frame(s) Number of Frames declares; not released",
        "the bytes past them are not padding: frames Number of Frames does not declare",
    ];
    assert!(undeclared.iter().any(|u| reason.contains(u)), "{reason}");
    assert!(undeclared.iter().any(|u| run.stderr().contains(u)), "{}", run.stderr());
}

#[test]
fn r01_native_frames_beyond_number_of_frames_fail_the_image() {
    let wd = Workdir::new("r01_native_frames_beyond_number_of_frames_fail_the_image");
    // Number of Frames absent, three frames' worth of bytes, text only in the third.
    let blank = Picture::new(96, 64);
    let mut third = Picture::new(96, 64);
    third.write("CANARY PATIENT", 2, 2, 14.0, 230);
    let bytes = [blank.grey.clone(), blank.grey.clone(), third.grey.clone()].concat();
    let f = pixel_attrs(image(41, US_IMAGE, "US"), 96, 64, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &bytes).write(&wd.path("in/a.dcm"));
    assert_failed_with_undeclared_frames(&wd, &deid(&wd, &[]));
}

#[test]
fn r01_jpeg_fragments_beyond_number_of_frames_fail_the_image() {
    let wd = Workdir::new("r01_jpeg_fragments_beyond_number_of_frames_fail_the_image");
    let mut frames: Vec<Picture> = (0..5).map(|_| Picture::new(96, 64)).collect();
    frames[3].write("CANARY PATIENT", 2, 2, 14.0, 230);
    let fragments = frames
        .iter()
        .map(|p| {
            let mut jpeg = Vec::new();
            jpeg_encoder::Encoder::new(&mut jpeg, 92)
                .encode(&p.grey, p.w as u16, p.h as u16, jpeg_encoder::ColorType::Luma)
                .unwrap();
            jpeg
        })
        .collect();
    let f = pixel_attrs(image(42, US_IMAGE, "US"), 96, 64, 1, 8, 8, "MONOCHROME2").put(str_el(
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        "1",
    ));
    encapsulated(f, "1.2.840.10008.1.2.4.50", fragments).write(&wd.path("in/a.dcm"));
    assert_failed_with_undeclared_frames(&wd, &deid(&wd, &[]));
}

#[test]
fn r01_an_image_not_selected_keeps_zero_padding_byte_for_byte_and_fails_with_other_extra_bytes() {
    let wd =
        Workdir::new("r01_an_image_not_selected_keeps_zero_padding_byte_for_byte_and_fails_with_other_extra_bytes");
    let mut bytes: Vec<u8> = (0..64 * 64).map(|i| (i * 7 % 251) as u8).collect();
    bytes.extend([0u8; 10]);
    let f = || pixel_attrs(image(43, "1.2.840.10008.5.1.4.1.1.2", "CT"), 64, 64, 1, 8, 8, "MONOCHROME2");
    native(f(), VR::OB, &bytes).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let out = only_output(&wd);
    assert_eq!(raw(&out, tags::PIXEL_DATA), raw(&wd.path("in/a.dcm"), tags::PIXEL_DATA));
    assert!(wd.audit("out")[0].get("pixels").is_none());
    // Bytes past the declared frame that are not zeros may be a frame no viewer shows.
    *bytes.last_mut().unwrap() = 7;
    std::fs::remove_dir_all(wd.path("out")).unwrap();
    native(f(), VR::OB, &bytes).write(&wd.path("in/a.dcm"));
    assert_failed_with_undeclared_frames(&wd, &deid(&wd, &[]));
}

#[test]
fn dental_panoramic_and_intra_oral_images_are_cleaned() {
    let wd = Workdir::new("dental_panoramic_and_intra_oral_images_are_cleaned");
    for (n, modality) in [(44u32, "PX"), (45, "IO")] {
        let mut p = Picture::new(160, 120);
        banner(&mut p);
        let f = pixel_attrs(image(n, "1.2.840.10008.5.1.4.1.1.1.1", modality), p.w, p.h, 1, 8, 8, "MONOCHROME2");
        native(f, VR::OB, &p.grey).write(&wd.path(&format!("in/{modality}.dcm")));
    }
    deid(&wd, &[]).assert_code(0);
    let audit = wd.audit("out");
    assert_eq!(audit.len(), 2);
    for record in &audit {
        assert!(record["pixels"].is_object(), "{record}");
        assert_eq!(record["burned_in"], "likely");
    }
}

/// A US image whose header says Burned In Annotation NO.
fn us_saying_no(wd: &Workdir) {
    let mut p = Picture::new(160, 120);
    banner(&mut p);
    let f = pixel_attrs(image(46, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2").put(str_el(
        tags::BURNED_IN_ANNOTATION,
        VR::CS,
        "NO",
    ));
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
}

#[test]
fn burned_in_no_on_ultrasound_is_warned_about_and_verified_like_the_cleaner_treats_it() {
    let wd = Workdir::new("burned_in_no_on_ultrasound_is_warned_about_and_verified_like_the_cleaner_treats_it");
    us_saying_no(&wd);
    let k = key(&wd, "k.key", 9);
    // Without clean-pixel-data: the end-of-run warning counts it.
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap()]);
    run.assert_code(0);
    assert!(run.stderr().contains("warning: 1 images may carry burned-in text"), "{}", run.stderr());
    assert_eq!(wd.audit("out")[0]["burned_in"], "likely");
    let verify = wd.kamei(["verify", "out"]);
    verify.assert_code(1);
    assert!(verify.stdout().contains("pixels-not-cleaned"), "{}", verify.stdout());
    // With clean-pixel-data (NO not trusted by default): cleaned, and verify is satisfied.
    wd.kamei(["deid", "in", "-o", "out2", "--key", k.to_str().unwrap(), "-q", "--option", "clean-pixel-data"])
        .assert_code(0);
    assert!(wd.audit("out2")[0]["pixels"].is_object());
    wd.kamei(["verify", "out2"]).assert_code(0);
}

#[test]
fn trusted_burned_in_no_is_released_uncleaned_with_a_note() {
    let wd = Workdir::new("trusted_burned_in_no_is_released_uncleaned_with_a_note");
    us_saying_no(&wd);
    let run = deid(&wd, &["--trust-burned-in-no"]);
    run.assert_code(0);
    let record = &wd.audit("out")[0];
    assert_eq!(record["outcome"], "written");
    assert!(record.get("pixels").is_none());
    assert!(record["notes"].to_string().contains("Burned In Annotation NO trusted"), "{record}");
    assert_eq!(raw(&only_output(&wd), tags::PIXEL_DATA), raw(&wd.path("in/a.dcm"), tags::PIXEL_DATA));
}

#[test]
fn images_released_uncleaned_on_a_trusted_burned_in_no_are_counted_in_a_warning() {
    let wd = Workdir::new("images_released_uncleaned_on_a_trusted_burned_in_no_are_counted_in_a_warning");
    us_saying_no(&wd);
    let k = key(&wd, "k.key", 9);
    let args = ["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--option", "clean-pixel-data"];
    let run = wd.kamei(args.iter().copied().chain(["--trust-burned-in-no"]));
    run.assert_code(0);
    assert!(
        run.stderr().contains("warning: 1 images of an annotated kind were released without pixel cleaning"),
        "{}",
        run.stderr()
    );
}

#[test]
fn r07_a_previews_folder_that_cannot_be_written_is_a_usage_error() {
    let wd = Workdir::new("r07_a_previews_folder_that_cannot_be_written_is_a_usage_error");
    us_saying_no(&wd);
    std::fs::write(wd.path("prev-file"), b"").unwrap();
    std::os::unix::fs::symlink(wd.path("missing"), wd.path("prev-link")).unwrap();
    for dir in ["prev-file", "prev-link", "/proc/kamei-previews"] {
        let run = deid(&wd, &["--previews", dir]);
        run.assert_code(2);
        assert!(
            run.stderr().contains("--previews") && run.stderr().contains("cannot be created or written"),
            "{}",
            run.stderr()
        );
        assert!(!wd.path("out").exists(), "nothing is processed");
    }
}

#[test]
fn r07_previews_that_cannot_be_written_are_counted_in_a_warning() {
    let wd = Workdir::new("r07_previews_that_cannot_be_written_are_counted_in_a_warning");
    us_saying_no(&wd);
    // The preview's own name is taken by a folder: the rename into place fails.
    std::fs::create_dir_all(wd.path("prev/a.dcm.png/x")).unwrap();
    let run = deid(&wd, &["--layout", "mirror", "--previews", "prev"]);
    run.assert_code(0);
    assert!(run.stderr().contains("warning: 1 previews could not be written"), "{}", run.stderr());
    assert!(!run.stderr().contains("a.dcm"), "no input path: {}", run.stderr());
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("the preview could not be written"), "{notes}");
    // The audit ships with the release: it must not say where the sensitive previews are.
    assert!(!notes.contains("/prev") && !notes.contains(".kamei-"), "no previews path: {notes}");
}

/// A Secondary Capture with Burned In Annotation YES whose text is in Float Pixel Data.
fn float_image_saying_yes(wd: &Workdir) {
    let mut p = Picture::new(96, 64);
    banner(&mut p);
    let floats: Vec<u8> = p.grey.iter().flat_map(|&g| (g as f32).to_le_bytes()).collect();
    let f = pixel_attrs(image(60, SC_IMAGE, "OT"), p.w, p.h, 1, 32, 32, "MONOCHROME2")
        .put(str_el(tags::BURNED_IN_ANNOTATION, VR::CS, "YES"))
        .remove(tags::PIXEL_DATA)
        .put(raw_el(tags::FLOAT_PIXEL_DATA, VR::OF, &floats));
    f.write(&wd.path("in/a.dcm"));
}

#[test]
fn r09_float_pixel_data_that_must_be_cleaned_fails_and_is_not_released() {
    let wd = Workdir::new("r09_float_pixel_data_that_must_be_cleaned_fails_and_is_not_released");
    float_image_saying_yes(&wd);
    let run = deid(&wd, &[]);
    run.assert_code(1);
    assert!(wd.dicom_outputs("out").is_empty(), "nothing is released");
    let reason = wd.audit("out")[0]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("FloatPixelData (7FE0,0008)") && reason.contains("not released"), "{reason}");
}

#[test]
fn r09_float_pixel_data_saying_yes_released_uncleaned_is_warned_about_and_flagged_by_verify() {
    let wd = Workdir::new("r09_float_pixel_data_saying_yes_released_uncleaned_is_warned_about_and_flagged");
    float_image_saying_yes(&wd);
    let k = key(&wd, "k.key", 9);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap()]);
    run.assert_code(0);
    assert!(run.stderr().contains("warning: 1 images may carry burned-in text"), "{}", run.stderr());
    assert_eq!(wd.audit("out")[0]["burned_in"], "declared");
    let verify = wd.kamei(["verify", "out"]);
    verify.assert_code(1);
    assert!(verify.stdout().contains("pixels-not-cleaned"), "{}", verify.stdout());
}

/// A US image declaring `rows × cols × samples` and `frames` frames whose JPEG stream is one
/// 64 × 96 grey frame with text.
fn us_jpeg_declaring(wd: &Workdir, rows: u32, cols: u32, samples: u16, frames: &str) {
    let mut p = Picture::new(96, 64);
    p.write("CANARY", 2, 2, 14.0, 230);
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 92)
        .encode(&p.grey, p.w as u16, p.h as u16, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let pi = if samples == 3 { "YBR_FULL_422" } else { "MONOCHROME2" };
    let f = pixel_attrs(image(61, US_IMAGE, "US"), cols, rows, samples, 8, 8, pi).put(str_el(
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        frames,
    ));
    encapsulated(f, "1.2.840.10008.1.2.4.50", vec![jpeg]).write(&wd.path("in/a.dcm"));
}

/// The run fails the one input, releases nothing, and says what disagrees.
fn assert_failed_saying(wd: &Workdir, run: &Run, says: &str) {
    run.assert_code(1);
    assert!(wd.dicom_outputs("out").is_empty(), "nothing is released");
    let reason = wd.audit("out")[0]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains(says) && reason.contains("not released"), "{reason}");
}

#[test]
fn r09_a_jpeg_smaller_than_rows_and_columns_fails() {
    let wd = Workdir::new("r09_a_jpeg_smaller_than_rows_and_columns_fails");
    us_jpeg_declaring(&wd, 256, 384, 1, "1");
    assert_failed_saying(&wd, &deid(&wd, &[]), "codestream 1 says 96 × 64 pixels with 1 components");
}

#[test]
fn r09_a_jpeg_with_fewer_frames_than_number_of_frames_fails() {
    let wd = Workdir::new("r09_a_jpeg_with_fewer_frames_than_number_of_frames_fails");
    us_jpeg_declaring(&wd, 64, 96, 1, "3");
    assert_failed_saying(&wd, &deid(&wd, &[]), "Number of Frames is 3 but the JPEG pixel data holds 1 codestreams");
}

#[test]
fn r09_a_grey_jpeg_declared_as_three_samples_fails() {
    let wd = Workdir::new("r09_a_grey_jpeg_declared_as_three_samples_fails");
    us_jpeg_declaring(&wd, 64, 96, 3, "1");
    assert_failed_saying(&wd, &deid(&wd, &[]), "with 1 components; the data set says 96 × 64 with 3");
}

/// A CT image (not an annotated kind) with text, saying `burned_in` in Burned In Annotation.
fn ct_saying(wd: &Workdir, modality: &str, burned_in: Option<&str>) -> Picture {
    let mut p = Picture::new(160, 120);
    banner(&mut p);
    let mut f = pixel_attrs(image(62, "1.2.840.10008.5.1.4.1.1.2", modality), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    if let Some(b) = burned_in {
        f = f.put(str_el(tags::BURNED_IN_ANNOTATION, VR::CS, b));
    }
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    p
}

#[test]
fn r09_burned_in_annotation_with_yes_among_several_values_is_cleaned() {
    let wd = Workdir::new("r09_burned_in_annotation_with_yes_among_several_values_is_cleaned");
    let p = ct_saying(&wd, "CT", Some("NO\\YES"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
}

#[test]
fn r09_burned_in_annotation_that_is_not_a_clear_no_is_cleaned() {
    let wd = Workdir::new("r09_burned_in_annotation_that_is_not_a_clear_no_is_cleaned");
    let p = ct_saying(&wd, "CT", Some("Y"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
    assert_eq!(wd.audit("out")[0]["burned_in"], "declared");
}

#[test]
fn burned_in_annotation_present_but_empty_is_unknown_and_the_image_is_cleaned() {
    let wd = Workdir::new("burned_in_annotation_present_but_empty_is_unknown_and_the_image_is_cleaned");
    let p = ct_saying(&wd, "CT", Some(""));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
    assert_eq!(wd.audit("out")[0]["burned_in"], "declared");
}

#[test]
fn r09_a_modality_written_in_lower_case_is_still_an_annotated_kind() {
    let wd = Workdir::new("r09_a_modality_written_in_lower_case_is_still_an_annotated_kind");
    let p = ct_saying(&wd, "us", None);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
    assert_eq!(wd.audit("out")[0]["burned_in"], "likely");
}

#[test]
fn an_image_of_the_retired_ultrasound_class_is_an_annotated_kind() {
    let wd = Workdir::new("an_image_of_the_retired_ultrasound_class_is_an_annotated_kind");
    let mut p = Picture::new(160, 120);
    banner(&mut p);
    // Ultrasound Image Storage (Retired), under a modality that says nothing.
    let f = pixel_attrs(image(63, "1.2.840.10008.5.1.4.1.1.6", "OT2"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
    assert_eq!(wd.audit("out")[0]["burned_in"], "likely");
}

#[test]
fn a_damaged_modality_with_an_annotated_value_among_several_is_an_annotated_kind() {
    let wd = Workdir::new("a_damaged_modality_with_an_annotated_value_among_several_is_an_annotated_kind");
    let p = ct_saying(&wd, "CT\\US", None);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
}

#[test]
fn large_text_in_one_frame_of_a_multi_frame_image_is_blanked_in_every_frame() {
    let wd = Workdir::new("large_text_in_one_frame_of_a_multi_frame_image_is_blanked_in_every_frame");
    // Glyphs this tall are found only by the further passes, which search a multi-frame image
    // once, in the brightest value of each pixel over its frames.
    let mut pictures = Vec::new();
    for k in 0..3u32 {
        let mut p = Picture::new(720, 200);
        if k == 1 {
            p.write("TARO", 20, 20, 90.0, 240);
        }
        pictures.push(p);
    }
    multi_frame_us(&wd, 63, &pictures);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    let n = 720 * 200;
    for k in 0..3 {
        assert_text_blanked(&pictures[1], &got[k * n..(k + 1) * n], 1, 0);
    }
}

/// A picture of ultrasound speckle over the whole frame (grains of about three pixels, grey 38
/// to 191; `seed` picks the pattern), without the organ.
fn speckle(w: u32, h: u32, seed: u64) -> Picture {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut raw = vec![0f32; (w * h) as usize];
    for v in raw.iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let s = (state % 10_000) as f32 / 10_000.0;
        *v = 0.15 + 0.6 * s * s;
    }
    let mut p = Picture::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let (mut sum, mut n) = (0.0, 0.0);
            for (dx, dy) in (-1i64..=1).flat_map(|dy| (-1i64..=1).map(move |dx| (dx, dy))) {
                let (xx, yy) = (x as i64 + dx, y as i64 + dy);
                if xx >= 0 && yy >= 0 && xx < w as i64 && yy < h as i64 {
                    sum += raw[(yy as u32 * w + xx as u32) as usize];
                    n += 1.0;
                }
            }
            p.grey[(y * w + x) as usize] = (sum / n * 255.0).round() as u8;
        }
    }
    p
}

#[test]
fn text_in_one_frame_of_a_speckled_cine_is_blanked_and_the_speckle_is_not() {
    // Ten frames of speckle over the whole frame, each its own pattern, and the patient's name
    // in the fourth only. Speckle grains line up as glyphs by chance in every frame; before,
    // each frame's chance lines were blanked in all ten, and about half the image went black.
    let wd = Workdir::new("text_in_one_frame_of_a_speckled_cine_is_blanked_and_the_speckle_is_not");
    let (w, h) = (320, 240);
    let mut pictures: Vec<Picture> = (0..10).map(|k| speckle(w, h, 11 + k)).collect();
    pictures[3].write("CANARY PATIENT", 12, 10, 20.0, 245).write("ID 0012345678", 12, 36, 18.0, 245);
    multi_frame_us(&wd, 64, &pictures);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    let n = (w * h) as usize;
    let text = &pictures[3];
    // The text's own area, grown by the margin the detector may take (a quarter of a line).
    let (x1, y1) = text_corner(text, w);
    let allowed = |i: usize| (i as u32 % w) <= x1 + 8 && (i as u32 / w) <= y1 + 8;
    // Boxes are blanked with the darkest value of the image (no speckle grain is black).
    let blank = pictures.iter().flat_map(|p| p.grey.iter().copied()).min().unwrap();
    for k in 0..10 {
        let frame = &got[k * n..(k + 1) * n];
        // The thin "I" starting the ID line (one column of 11 pixels) touches the speckle
        // grains around it and is left out of its line: allow 2 %.
        let missed = text_missed(text, frame, 1, blank);
        let all = text.text.iter().filter(|t| **t).count();
        assert!(missed * 50 <= all, "frame {k}: {missed} of {all} text pixels were not blanked");
        let blanked = (0..n).filter(|&i| !allowed(i) && frame[i] == blank).count();
        let outside = (0..n).filter(|&i| !allowed(i)).count();
        assert!(blanked * 100 <= outside * 3, "frame {k}: {blanked} of {outside} speckle pixels blanked");
    }
}

/// The bottom-right corner of the text drawn in `p` (a picture `w` pixels wide): with the
/// origin, the box the text may be blanked in.
fn text_corner(p: &Picture, w: u32) -> (u32, u32) {
    let (mut x1, mut y1) = (0, 0);
    for (i, _) in p.text.iter().enumerate().filter(|(_, t)| **t) {
        x1 = x1.max(i as u32 % w);
        y1 = y1.max(i as u32 / w);
    }
    (x1, y1)
}

/// A picture of unsmoothed Rayleigh speckle (σ = 40 grey levels, one grain a pixel, clipped at
/// 255; `seed` picks the pattern), as raw ultrasound envelope data looks, without the organ.
fn rayleigh_speckle(w: u32, h: u32, seed: u64) -> Picture {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut p = Picture::new(w, h);
    for v in p.grey.iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let u = ((state % 1_000_000) as f64 + 0.5) / 1_000_000.0;
        *v = (40.0 * (-2.0 * u.ln()).sqrt()).min(255.0) as u8;
    }
    p
}

#[test]
fn r14_05_text_in_one_frame_of_a_rayleigh_speckle_cine_is_blanked() {
    // rv14 05: ten 640 x 480 frames of Rayleigh speckle, the patient's name, ID and birth date
    // in white in the first frame only. The grey map clipped 0.05 % of the whole cine, which
    // cut the range at the speckle's brightest grains, level with the text; the text lines then
    // stood no clearer than speckle and waited for other frames to confirm them.
    for seed in [103, 104, 105] {
        let wd = Workdir::new(&format!("r14_05_text_in_one_frame_of_a_rayleigh_speckle_cine_is_blanked_{seed}"));
        let (w, h) = (640, 480);
        let mut pictures: Vec<Picture> = (0..10).map(|k| rayleigh_speckle(w, h, seed * 16 + k)).collect();
        pictures[0].write("YAMADA TARO", 20, 20, 16.0, 255).write("PID7788123", 20, 44, 16.0, 255).write(
            "1985/03/15",
            20,
            68,
            16.0,
            255,
        );
        multi_frame_us(&wd, 65, &pictures);
        deid(&wd, &[]).assert_code(0);
        let obj = assert_cleaned(&wd, &only_output(&wd));
        let got = pixel_bytes(&obj);
        let n = (w * h) as usize;
        let text = &pictures[0];
        let (x1, y1) = text_corner(text, w);
        let allowed = |i: usize| (i as u32 % w) <= x1 + 8 && (i as u32 / w) <= y1 + 8;
        let blank = pictures.iter().flat_map(|p| p.grey.iter().copied()).min().unwrap();
        let all = text.text.iter().filter(|t| **t).count();
        let missed = text_missed(text, &got[..n], 1, blank);
        assert!(missed * 100 <= all, "seed {seed}: {missed} of {all} text pixels were not blanked");
        // Speckle is left as it was: in no frame is more than 3 % of it blanked.
        for k in 0..10 {
            let frame = &got[k * n..(k + 1) * n];
            let blanked = (0..n).filter(|&i| !allowed(i) && frame[i] == blank && pictures[k].grey[i] != blank).count();
            let outside = (0..n).filter(|&i| !allowed(i)).count();
            assert!(blanked * 100 <= outside * 3, "seed {seed} frame {k}: {blanked} of {outside} pixels blanked");
        }
    }
}

/// The pixels of "YAMADA TARO" in a 5 x 7 bitmap font, each dot `scale` pixels square, the
/// top left corner at (x, y) of a `w` pixels wide frame: indices into the frame.
fn bitmap_name(w: u32, x: u32, y: u32, scale: u32) -> Vec<usize> {
    let glyph = |c: char| match c {
        'A' => ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
        'D' => ["11110", "10001", "10001", "10001", "10001", "10001", "11110"],
        'M' => ["10001", "11011", "10101", "10101", "10001", "10001", "10001"],
        'O' => ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
        'R' => ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
        'T' => ["11111", "00100", "00100", "00100", "00100", "00100", "00100"],
        'Y' => ["10001", "10001", "01010", "00100", "00100", "00100", "00100"],
        _ => ["00000"; 7],
    };
    let mut dots = Vec::new();
    for (k, c) in "YAMADA TARO".chars().enumerate() {
        for (gy, row) in glyph(c).iter().enumerate() {
            for (gx, _) in row.chars().enumerate().filter(|(_, d)| *d == '1') {
                for (dy, dx) in (0..scale).flat_map(|dy| (0..scale).map(move |dx| (dy, dx))) {
                    let px = x + k as u32 * 6 * scale + gx as u32 * scale + dx;
                    dots.push(((y + gy as u32 * scale + dy) * w + px) as usize);
                }
            }
        }
    }
    dots
}

#[test]
fn r36_01_a_name_in_any_one_frame_of_a_large_cine_sets_the_grey_range() {
    // rv36 01: a cine of dim speckle (10..24) with the patient's name in white in one frame.
    // The grey map's range was read from a sample of the image (one value in 68 here) whose
    // place in each frame moves with the frame's index: in frame 3 of this cine it passes
    // between the name's strokes, the range ended at the speckle's top, the name was clipped to
    // the same white as the grains and released (in frame 4 it was found). The range now
    // counts every pixel.
    let wd = Workdir::new("r36_01_a_name_in_any_one_frame_of_a_large_cine_sets_the_grey_range");
    let (w, h, frames, text_frame) = (320u32, 448u32, 96usize, 3usize);
    let n = (w * h) as usize;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut pixels: Vec<u8> = (0..n * frames)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            10 + (state % 15) as u8
        })
        .collect();
    let name = bitmap_name(w, 10, 10, 2);
    name.iter().for_each(|&i| pixels[text_frame * n + i] = 255);
    let f = pixel_attrs(image(67, "1.2.840.10008.5.1.4.1.1.3.1", "US"), w, h, 1, 8, 8, "MONOCHROME2").put(str_el(
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        &frames.to_string(),
    ));
    native(f, VR::OB, &pixels).write(&wd.path("in/a.dcm"));
    drop(pixels);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    let left = name.iter().filter(|&&i| got[text_frame * n + i] == 255).count();
    assert_eq!(left, 0, "{left} of {} name pixels left in frame {text_frame}", name.len());
}

/// A US image of `p` whose Sequence of Ultrasound Regions holds one tissue region with these
/// corners (Min X0, Min Y0, Max X1, Max Y1).
fn us_with_region(wd: &Workdir, p: &Picture, corners: [u32; 4]) {
    let ul = |v: u32| PrimitiveValue::from(v);
    let region = item(vec![
        DataElement::new(tags::REGION_SPATIAL_FORMAT, VR::US, us(1)),
        DataElement::new(tags::REGION_DATA_TYPE, VR::US, us(1)),
        DataElement::new(tags::REGION_LOCATION_MIN_X0, VR::UL, ul(corners[0])),
        DataElement::new(tags::REGION_LOCATION_MIN_Y0, VR::UL, ul(corners[1])),
        DataElement::new(tags::REGION_LOCATION_MAX_X1, VR::UL, ul(corners[2])),
        DataElement::new(tags::REGION_LOCATION_MAX_Y1, VR::UL, ul(corners[3])),
    ]);
    let f = pixel_attrs(image(70, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2")
        .put(seq_el(tags::SEQUENCE_OF_ULTRASOUND_REGIONS, vec![region]));
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
}

#[test]
fn a_degenerate_ultrasound_region_is_no_image_area_and_the_image_is_cleaned_as_without_regions() {
    // (0,0)-(0,0) is what some devices write for "not set"; a region of another image size lies
    // outside this one. Taken as the data area, either made everything else annotation space.
    for (k, corners) in [[0, 0, 0, 0], [5, 5, 5, 200], [1000, 1000, 1200, 1200]].into_iter().enumerate() {
        let wd = Workdir::new(&format!("a_degenerate_ultrasound_region_is_no_image_area-{k}"));
        let mut p = Picture::new(320, 240);
        banner(&mut p);
        us_with_region(&wd, &p, corners);
        deid(&wd, &[]).assert_code(0);
        let obj = assert_cleaned(&wd, &only_output(&wd));
        let got = pixel_bytes(&obj);
        assert_text_blanked(&p, &got, 1, 0);
        let (ox, oy) = p.organ();
        let i = (oy * p.w + ox) as usize;
        assert_eq!(got[i], p.grey[i], "{corners:?}: the organ was blanked");
        let audit = wd.audit("out");
        let sources = box_sources(&audit[0]);
        assert!(sources.iter().all(|s| s.starts_with("detector")), "{corners:?}: {sources:?}");
        let notes = audit[0]["notes"].to_string();
        assert!(notes.contains("no usable data region; not used"), "{notes}");
    }
}

/// A 12-bit image (16 bits allocated) of `modality` whose name is drawn only in bits 12-15
/// (the retired overlay-in-pixel-data trick) and whose stored bits hold a text-free picture; no
/// 60xx group declares the overlay. Returns the samples.
fn name_in_the_high_bits(wd: &Workdir, modality: &str, sop_class: &str) -> Vec<u16> {
    let mut words = Picture::new(160, 120);
    words.write("CANARY PATIENT", 10, 50, 18.0, 255);
    let organ = Picture::new(160, 120);
    let samples: Vec<u16> =
        organ.grey.iter().zip(&words.text).map(|(&g, &t)| ((g as u16) * 16) | if t { 0xF000 } else { 0 }).collect();
    let bytes: Vec<u8> = samples.iter().flat_map(|v| v.to_le_bytes()).collect();
    let f = pixel_attrs(image(71, sop_class, modality), organ.w, organ.h, 1, 16, 12, "MONOCHROME2")
        .put(DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, us(0)));
    native(f, VR::OW, &bytes).write(&wd.path("in/a.dcm"));
    samples
}

#[test]
fn text_in_the_bits_above_bits_stored_is_cleared_when_the_detector_finds_nothing() {
    let wd = Workdir::new("text_in_the_bits_above_bits_stored_is_cleared_when_the_detector_finds_nothing");
    let source = name_in_the_high_bits(&wd, "US", US_IMAGE);
    deid(&wd, &[]).assert_code(0);
    let obj = open(&only_output(&wd));
    assert_eq!(obj.meta().transfer_syntax().trim_end_matches('\0'), "1.2.840.10008.1.2.1");
    let got: Vec<u16> = pixel_bytes(&obj).chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    assert_eq!(got.len(), source.len());
    for (i, (&g, &s)) in got.iter().zip(&source).enumerate() {
        assert_eq!(g, s & 0x0FFF, "sample {i}: a bit above Bits Stored is set, or the image value changed");
    }
    let audit = wd.audit("out");
    assert_eq!(audit[0]["pixels"]["output_transfer_syntax"], "1.2.840.10008.1.2.1");
    let notes = audit[0]["notes"].to_string();
    assert!(notes.contains("bits outside Bits Stored carried values"), "{notes}");
    assert_eq!(text(&obj, tags::BURNED_IN_ANNOTATION).as_deref(), Some("NO"));
}

#[test]
fn an_image_not_selected_for_cleaning_keeps_its_high_bits_byte_for_byte() {
    // Not selected (CT, no Burned In Annotation): its pixel data is not looked at.
    let wd = Workdir::new("an_image_not_selected_for_cleaning_keeps_its_high_bits_byte_for_byte");
    name_in_the_high_bits(&wd, "CT", "1.2.840.10008.5.1.4.1.1.2");
    deid(&wd, &[]).assert_code(0);
    assert_eq!(raw(&only_output(&wd), tags::PIXEL_DATA), raw(&wd.path("in/a.dcm"), tags::PIXEL_DATA));
}

#[test]
fn verify_flags_bits_above_bits_stored_that_deid_left_in_an_image_it_did_not_clean() {
    // A CT is not selected for cleaning, and no 60xx group declares the name drawn in bits
    // 12-15: deid copies its pixel data as it is. verify reads the bits and says so (a count,
    // no value); with --clean-all-pixels the image is rewritten with them cleared.
    let wd = Workdir::new("verify_flags_bits_above_bits_stored_that_deid_left_in_an_image_it_did_not_clean");
    name_in_the_high_bits(&wd, "CT", "1.2.840.10008.5.1.4.1.1.2");
    deid(&wd, &[]).assert_code(0);
    let verify = wd.kamei(["verify", "out"]);
    verify.assert_code(1);
    let line = verify.stdout().lines().find(|l| l.contains("pixel-high-bits")).map(str::to_string);
    let line = line.unwrap_or_else(|| panic!("no pixel-high-bits finding: {}", verify.stdout()));
    assert!(line.contains("(7FE0,0010)") && line.contains("sample(s) have bits set outside Bits Stored"), "{line}");
    let k = key(&wd, "k.key", 9);
    let args = ["deid", "in", "-o", "out2", "--key", k.to_str().unwrap(), "-q", "--option", "clean-pixel-data"];
    wd.kamei(args.iter().copied().chain(["--clean-all-pixels"])).assert_code(0);
    wd.kamei(["verify", "out2"]).assert_code(0);
}

/// A palette colour US image of `p` (indices = grey values) whose three tables have `sizes`
/// entries of a grey ramp, mapping from `first`.
fn palette_image(wd: &Workdir, p: &Picture, sizes: [u16; 3], first: u16) {
    let mut f = pixel_attrs(image(72, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "PALETTE COLOR");
    let tables = [
        (tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA),
        (tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA),
        (tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA),
    ];
    for ((d, t), n) in tables.into_iter().zip(sizes) {
        let lut: Vec<u16> = (0..n).map(|i| ((i as u32 * 65535) / (n as u32 - 1).max(1)) as u16).collect();
        f = f
            .put(DataElement::new(d, VR::US, PrimitiveValue::U16([n, first, 16].into_iter().collect())))
            .put(DataElement::new(t, VR::OW, PrimitiveValue::U16(lut.into_iter().collect())));
    }
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
}

#[test]
fn palette_tables_of_different_lengths_do_not_stop_the_run_and_the_image_is_cleaned() {
    let wd = Workdir::new("palette_tables_of_different_lengths_do_not_stop_the_run");
    let mut p = Picture::new(240, 160);
    banner(&mut p);
    palette_image(&wd, &p, [16, 256, 256], 0);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    // The tables cannot be read: the image is searched, and blanked, by its indices.
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
}

#[test]
fn a_palette_whose_first_mapped_value_is_above_every_pixel_is_searched_by_its_indices() {
    let wd = Workdir::new("a_palette_whose_first_mapped_value_is_above_every_pixel");
    let mut p = Picture::new(240, 160);
    banner(&mut p);
    // Every index is below 1000: the palette shows the whole image in its first entry.
    palette_image(&wd, &p, [256, 256, 256], 1000);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
    assert_eq!(text(&obj, tags::PHOTOMETRIC_INTERPRETATION).as_deref(), Some("PALETTE COLOR"));
}

#[test]
fn a_palette_shorter_than_the_pixel_range_is_blanked_with_a_value_it_maps() {
    let wd = Workdir::new("a_palette_shorter_than_the_pixel_range_is_blanked_with_a_value_it_maps");
    let mut p = Picture::new(240, 160);
    banner(&mut p);
    // Entries map 100..=163 (dark to light); values outside take the nearest end (PS3.3
    // C.7.6.3.1.5), so the text (230) shows as the lightest entry and the black background as
    // the darkest, and the darkest entry's own value, 100, is what the boxes get.
    palette_image(&wd, &p, [64, 64, 64], 100);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 100);
}

/// An OT image with clean pixels whose `sequence` holds an item with an image of its own, with
/// text burned in.
fn image_in_a_sequence_item(wd: &Workdir, sequence: dicom_core::Tag) -> Picture {
    let mut inner = Picture::new(120, 80);
    banner(&mut inner);
    let nested = item(vec![
        DataElement::new(tags::ROWS, VR::US, us(inner.h as u16)),
        DataElement::new(tags::COLUMNS, VR::US, us(inner.w as u16)),
        DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, us(1)),
        DataElement::new(tags::BITS_ALLOCATED, VR::US, us(8)),
        DataElement::new(tags::BITS_STORED, VR::US, us(8)),
        DataElement::new(tags::HIGH_BIT, VR::US, us(7)),
        DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, us(0)),
        str_el(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
        raw_el(tags::PIXEL_DATA, VR::OB, &inner.grey),
    ]);
    let outer = Picture::new(120, 80);
    let f = pixel_attrs(image(73, SC_IMAGE, "OT"), outer.w, outer.h, 1, 8, 8, "MONOCHROME2")
        .put(seq_el(sequence, vec![nested]));
    native(f, VR::OB, &outer.grey).write(&wd.path("in/a.dcm"));
    inner
}

/// Whether any Pixel Data is left inside a sequence item of `obj`, at any depth.
fn nested_pixel_data(obj: &InMemDicomObject) -> bool {
    obj.iter().any(|e| {
        e.items().is_some_and(|items| {
            items.iter().any(|i| i.element_opt(tags::PIXEL_DATA).unwrap().is_some() || nested_pixel_data(i))
        })
    })
}

#[test]
fn pixel_data_inside_a_sequence_item_is_removed_with_or_without_pixel_cleaning() {
    for (k, clean) in [true, false].into_iter().enumerate() {
        let wd = Workdir::new(&format!("pixel_data_inside_a_sequence_item_is_removed-{k}"));
        image_in_a_sequence_item(&wd, tags::REFERENCED_IMAGE_SEQUENCE);
        let run = if clean {
            deid(&wd, &[])
        } else {
            let key = key(&wd, "k.key", 9);
            wd.kamei(["deid", "in", "-o", "out", "--key", key.to_str().unwrap(), "-q"])
        };
        run.assert_code(0);
        let obj = open(&only_output(&wd));
        assert!(!items(&obj, tags::REFERENCED_IMAGE_SEQUENCE).is_empty(), "the item itself is kept");
        assert!(!nested_pixel_data(&obj), "an image inside a sequence item was released");
        let notes = wd.audit("out")[0]["notes"].to_string();
        assert!(notes.contains("pixel data inside a sequence item was removed"), "{notes}");
    }
}

#[test]
fn text_in_the_high_bits_declared_by_an_overlay_group_is_cleared_when_the_detector_finds_nothing() {
    let wd = Workdir::new("text_in_the_high_bits_declared_by_an_overlay_group_is_cleared");
    let source = name_in_the_high_bits(&wd, "US", US_IMAGE);
    // Declare the drawing as an overlay in bit 12 (Overlay Bit Position 12, no Overlay Data).
    let mut f = dicom_object::open_file(wd.path("in/a.dcm")).unwrap();
    for (element, value) in [(0x0010u16, 120u16), (0x0011, 160), (0x0100, 1), (0x0102, 12)] {
        f.put(DataElement::new(dicom_core::Tag(0x6000, element), VR::US, us(value)));
    }
    f.write_to_file(wd.path("in/a.dcm")).unwrap();
    deid(&wd, &[]).assert_code(0);
    let obj = open(&only_output(&wd));
    let got: Vec<u16> = pixel_bytes(&obj).chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    for (i, (&g, &s)) in got.iter().zip(&source).enumerate() {
        assert_eq!(g, s & 0x0FFF, "sample {i}");
    }
    assert!(obj.element_opt(dicom_core::Tag(0x6000, 0x0102)).unwrap().is_none(), "the overlay group is removed");
}

/// Draw `s` letter-spaced by `em` of an em after each character, as `Picture::write` draws.
fn write_tracked(p: &mut Picture, s: &str, x: u32, y: u32, px: f32, em: f32, level: u8) {
    let c = render_tracked(&font(), s, px, em);
    for gy in 0..c.height {
        for gx in 0..c.width {
            let (px_, py) = (x + gx, y + gy);
            let a = c.alpha[(gy * c.width + gx) as usize];
            if px_ < p.w && py < p.h && a > 0.0 {
                let i = (py * p.w + px_) as usize;
                p.grey[i] = (p.grey[i] as f32 * (1.0 - a) + level as f32 * a).round() as u8;
                p.text[i] |= a >= 0.5;
            }
        }
    }
}

/// `p` with its text turned into dot-matrix text: of the text pixels only those on a grid of
/// `step` stay lit, at full `level`; the others show what was under them.
fn dotted(p: &Picture, under: &Picture, step: u32, level: u8) -> Picture {
    let mut out = Picture { w: p.w, h: p.h, grey: under.grey.clone(), text: vec![false; p.text.len()] };
    for (i, &t) in p.text.iter().enumerate() {
        let (x, y) = (i as u32 % p.w, i as u32 / p.w);
        if t && x % step == 0 && y % step == 0 {
            out.grey[i] = level;
            out.text[i] = true;
        }
    }
    out
}

#[test]
fn letter_spaced_capitals_are_blanked() {
    let wd = Workdir::new("letter_spaced_capitals_are_blanked");
    // Gaps between letters wider than the letters are high (a caption spaced by an em).
    let mut p = Picture::new(640, 240);
    write_tracked(&mut p, "YAMADA TARO", 12, 10, 20.0, 1.0, 240);
    let f = pixel_attrs(image(1, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
}

#[test]
fn dot_matrix_text_is_blanked() {
    // Glyphs sampled every second and every third pixel (dot-matrix, LED displays).
    for step in [2, 3] {
        let wd = Workdir::new(&format!("dot_matrix_text_is_blanked_{step}"));
        let under = Picture::new(640, 240);
        let mut solid = Picture::new(640, 240);
        solid.write("YAMADA TARO 12345678", 12, 10, 24.0, 255);
        let p = dotted(&solid, &under, step, 240);
        let f = pixel_attrs(image(1, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
        native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
        deid(&wd, &[]).assert_code(0);
        let obj = assert_cleaned(&wd, &only_output(&wd));
        assert_text_blanked(&p, &pixel_bytes(&obj), 1, 0);
    }
}

/// IPA Gothic (`fonts-ipafont-gothic`, which `.ci/run` installs): kanji as Japanese scanners
/// print them.
fn kanji_font() -> TextFont {
    TextFont::load(Path::new("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"))
        .expect("the kanji tests draw with IPA Gothic: install fonts-ipafont-gothic (.ci/run does)")
}

/// Draw `s` with `font` at (x, y), `px` pixels per em, in `level`, turned by `degrees` about
/// its top left corner (nearest pixel), marking its text pixels.
fn write_turned(p: &mut Picture, font: &TextFont, s: &str, (x, y): (u32, u32), px: f32, level: u8, degrees: f32) {
    let c = render_text(font, s, px);
    let (sin, cos) = degrees.to_radians().sin_cos();
    for py in 0..p.h {
        for px_ in 0..p.w {
            let (dx, dy) = (px_ as f32 - x as f32, py as f32 - y as f32);
            let (gx, gy) = ((cos * dx + sin * dy).round(), (-sin * dx + cos * dy).round());
            if gx < 0.0 || gy < 0.0 || gx >= c.width as f32 || gy >= c.height as f32 {
                continue;
            }
            let a = c.alpha[(gy as u32 * c.width + gx as u32) as usize];
            let i = (py * p.w + px_) as usize;
            p.grey[i] = (p.grey[i] as f32 * (1.0 - a) + level as f32 * a).round() as u8;
            if a >= 0.5 {
                p.text[i] = true;
            }
        }
    }
}

#[test]
fn rv14_01_a_kanji_surname_on_a_black_ultrasound_frame_is_blanked() {
    // Two-kanji surnames of simple square glyphs got no box (two glyphs are weak evidence, and
    // the header's kanji name was no hint of their width); in 山田 一郎 only 郎 was boxed.
    let wd = Workdir::new("rv14_01_a_kanji_surname_on_a_black_ultrasound_frame_is_blanked");
    let font = kanji_font();
    for (n, (name, px)) in [("山田", 24.0), ("田中", 16.0), ("山口", 24.0), ("山田 一郎", 24.0), ("中島 一郎", 16.0)]
        .into_iter()
        .enumerate()
    {
        let mut p = Picture { w: 320, h: 240, grey: vec![0; 320 * 240], text: vec![false; 320 * 240] };
        write_turned(&mut p, &font, name, (30, 30), px, 255, 0.0);
        let f = pixel_attrs(image(n as u32 + 1, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2").put(str_el(
            tags::SPECIFIC_CHARACTER_SET,
            VR::CS,
            "ISO_IR 192",
        ));
        native(f, VR::OB, &p.grey).write(&wd.path(&format!("in/{n}/a.dcm")));
        deid(&wd, &[]).assert_code(0);
        let got = pixel_bytes(&assert_cleaned(&wd, &only_output(&wd)));
        assert_eq!(text_missed(&p, &got, 1, 0), 0, "{name} at {px} px");
        std::fs::remove_dir_all(wd.path("in")).unwrap();
        std::fs::remove_dir_all(wd.path("out")).unwrap();
    }
}

#[test]
fn rv14_02_a_scanned_page_turned_by_a_few_degrees_is_blanked() {
    // From about 4 degrees a skewed scan's lines were no text any more: 93 % of them stayed
    // readable at 5 degrees.
    let wd = Workdir::new("rv14_02_a_scanned_page_turned_by_a_few_degrees_is_blanked");
    for (n, degrees) in [4.0f32, 5.0, -10.0, 15.0].into_iter().enumerate() {
        let (w, h) = (640u32, 480u32);
        let mut p = Picture { w, h, grey: vec![250; (w * h) as usize], text: vec![false; (w * h) as usize] };
        let lines = ["Patient: CANARY PATIENT", "ID: 0012345678", "DOB: 1970/01/01"];
        for (k, line) in lines.iter().enumerate() {
            // Lines turned about the block's corner, as the page is.
            let (sin, cos) = degrees.to_radians().sin_cos();
            let d = 36.0 * k as f32;
            let at = ((120.0 - sin * d).round() as u32, (160.0 + cos * d).round() as u32);
            write_turned(&mut p, &font(), line, at, 20.0, 10, degrees);
        }
        let f = pixel_attrs(image(n as u32 + 1, SC_IMAGE, "OT"), p.w, p.h, 1, 8, 8, "MONOCHROME2").put(str_el(
            tags::BURNED_IN_ANNOTATION,
            VR::CS,
            "YES",
        ));
        native(f, VR::OB, &p.grey).write(&wd.path(&format!("in/{n}/a.dcm")));
        deid(&wd, &[]).assert_code(0);
        let got = pixel_bytes(&assert_cleaned(&wd, &only_output(&wd)));
        let text = p.text.iter().filter(|t| **t).count();
        // A text pixel stays readable when it is dark with white page within two pixels
        // (blanked boxes are filled with the darkest value, which the text is drawn in).
        let at = |x: i64, y: i64| got[(y.clamp(0, h as i64 - 1) * w as i64 + x.clamp(0, w as i64 - 1)) as usize];
        let readable = |i: usize| {
            let (x, y) = ((i as u32 % w) as i64, (i as u32 / w) as i64);
            got[i] < 128 && (-2..=2).any(|dy| (-2..=2).any(|dx| at(x + dx, y + dy) > 200))
        };
        let left = (0..p.text.len()).filter(|&i| p.text[i] && readable(i)).count();
        assert!(left * 100 <= text, "{degrees} degrees: {left} of {text} text pixels left");
        std::fs::remove_dir_all(wd.path("in")).unwrap();
        std::fs::remove_dir_all(wd.path("out")).unwrap();
    }
}

/// A 12-bit radiograph (stored values): an "anatomy" disk shaded from 1400 in its middle to 850
/// at its rim, a background of 1000, noise of ±30 over both, a 24-pixel marker at 4095 in the bottom-right corner, and
/// two lines of text at 1300 at the top left: 23 grey levels above their background when the
/// full range (about 800..4095) is mapped to 8 bits, white over mid-grey in a viewer's window.
/// Returns the values and the text pixels.
fn faint_radiograph(w: u32, h: u32) -> (Vec<u16>, Vec<bool>) {
    let mut seed = 0x2545_f491_u64;
    let mut noise = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) % 61) as f32 - 30.0
    };
    let (cx, cy, r) = (w as f32 / 2.0, h as f32 / 2.0 + 20.0, h.min(w) as f32 / 3.0);
    let mut v = vec![0f32; (w * h) as usize];
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            let tissue = 1400.0 - 550.0 * d / r;
            v[(y * w + x) as usize] = if d < r { tissue } else { 1000.0 } + noise();
        }
    }
    let mut text = vec![false; (w * h) as usize];
    for (line, (x0, y0)) in [("CANARY PATIENT", (8u32, 8u32)), ("ID 0012345678", (8, 32))] {
        let c = render_text(&font(), line, 18.0);
        for gy in 0..c.height {
            for gx in 0..c.width {
                let (x, y) = (x0 + gx, y0 + gy);
                let a = c.alpha[(gy * c.width + gx) as usize];
                let i = (y * w + x) as usize;
                v[i] = v[i] * (1.0 - a) + 1300.0 * a;
                text[i] |= a >= 0.5;
            }
        }
    }
    for y in h - 28..h - 4 {
        for x in w - 28..w - 4 {
            v[(y * w + x) as usize] = 4095.0;
        }
    }
    (v.iter().map(|x| x.round().clamp(0.0, 4095.0) as u16).collect(), text)
}

/// Run the cleaner on one grey image of `bits` bits (allocated) and `stored` bits stored whose
/// samples are `words`; the output's samples.
fn clean_words(wd: &Workdir, f: Fixture, words: &[u16]) -> Vec<u16> {
    let bytes: Vec<u8> = words.iter().flat_map(|v| v.to_le_bytes()).collect();
    native(f.put(str_el(tags::BURNED_IN_ANNOTATION, VR::CS, "YES")), VR::OW, &bytes).write(&wd.path("in/a.dcm"));
    deid(wd, &[]).assert_code(0);
    let got = pixel_bytes(&assert_cleaned(wd, &only_output(wd)));
    got.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
}

#[test]
fn faint_text_in_a_12_bit_radiograph_is_blanked_as_a_viewer_shows_it() {
    let wd = Workdir::new("faint_text_in_a_12_bit_radiograph_is_blanked_as_a_viewer_shows_it");
    let (w, h) = (384u32, 320u32);
    let (values, text) = faint_radiograph(w, h);
    // No window in the header: the cleaner windows to the bulk of the values, as a viewer does.
    let f = pixel_attrs(image(1, "1.2.840.10008.5.1.4.1.1.1", "CR"), w, h, 1, 16, 12, "MONOCHROME2");
    let got = clean_words(&wd, f, &values);
    let blank = *values.iter().min().unwrap();
    let missed = text.iter().zip(&got).filter(|(t, g)| **t && **g != blank).count();
    assert_eq!(missed, 0, "{missed} text pixels were not blanked");
    // The anatomy, far from the text, is untouched.
    for (x, y) in [(w / 2, h / 2 + 20), (w / 2 - 60, h / 2 + 40), (w / 2 + 60, h / 2)] {
        let i = (y * w + x) as usize;
        assert_eq!(got[i], values[i], "anatomy at ({x}, {y})");
    }
}

#[test]
fn faint_text_in_a_signed_16_bit_image_is_blanked_through_its_window() {
    let wd = Workdir::new("faint_text_in_a_signed_16_bit_image_is_blanked_through_its_window");
    let (w, h) = (384u32, 320u32);
    let (values, text) = faint_radiograph(w, h);
    // Signed 16 bits stored: the radiograph's values times 16, less 32768 (stored as two's
    // complement); Rescale Intercept 32768 brings them back to 0..65535, where the header's
    // window (800..1400 of 4096, times 16) is.
    let signed: Vec<i16> = values.iter().map(|&v| ((v as i32 * 16).min(65535) - 32768) as i16).collect();
    let words: Vec<u16> = signed.iter().map(|&v| v as u16).collect();
    let f = pixel_attrs(image(2, "1.2.840.10008.5.1.4.1.1.1.1", "DX"), w, h, 1, 16, 16, "MONOCHROME2")
        .put(DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, us(1)))
        .put(str_el(tags::RESCALE_INTERCEPT, VR::DS, "32768"))
        .put(str_el(tags::RESCALE_SLOPE, VR::DS, "1"))
        .put(str_el(tags::WINDOW_CENTER, VR::DS, "17600\\2048"))
        .put(str_el(tags::WINDOW_WIDTH, VR::DS, "9600\\4096"));
    let got: Vec<i16> = clean_words(&wd, f, &words).into_iter().map(|v| v as i16).collect();
    let blank = *signed.iter().min().unwrap();
    let missed = text.iter().zip(&got).filter(|(t, g)| **t && **g != blank).count();
    assert_eq!(missed, 0, "{missed} text pixels were not blanked");
    for (x, y) in [(w / 2, h / 2 + 20), (w / 2 - 60, h / 2 + 40), (w / 2 + 60, h / 2)] {
        let i = (y * w + x) as usize;
        assert_eq!(got[i], signed[i], "anatomy at ({x}, {y})");
    }
}

/// The audit reason of the one input of a run in which it failed, nothing written.
fn failed_reason(wd: &Workdir, run: &Run) -> String {
    run.assert_code(1);
    assert!(wd.dicom_outputs("out").is_empty());
    let audit = wd.audit("out");
    assert_eq!(audit[0]["outcome"], "failed");
    audit[0]["reason"].as_str().unwrap().to_string()
}

/// The organ pixel of a cleaned 8-bit colour output.
fn organ_rgb(p: &Picture, got: &[u8]) -> [u8; 3] {
    let (ox, oy) = p.organ();
    let i = 3 * (oy * p.w + ox) as usize;
    [got[i], got[i + 1], got[i + 2]]
}

/// A JPEG-LS frame of `pixels` coded by CharLS (planar for ILV 0, interleaved otherwise).
fn jpeg_ls(p: &Picture, samples: i32, bits: i32, ilv: charls::InterleaveMode, pixels: &[u8]) -> Vec<u8> {
    let mut codec = charls::CharLS::default();
    codec.set_interleave_mode(ilv).unwrap();
    let info = charls::FrameInfo { width: p.w, height: p.h, bits_per_sample: bits, component_count: samples };
    codec.encode(info, 0, pixels).unwrap()
}

#[test]
fn rv19_01_jpeg_declared_rgb_keeps_its_colours() {
    let wd = Workdir::new("rv19_01_jpeg_declared_rgb_keeps_its_colours");
    let mut p = Picture::new(256, 192);
    banner(&mut p);
    let rgb: Vec<u8> =
        p.grey.iter().zip(&p.text).flat_map(|(&g, &t)| if t { [240, 230, 20] } else { [g, g / 2, 255 - g] }).collect();
    // R, G, B coded as they are (no colour transform), as PS3.5 8.2.1 says RGB means.
    let mut jpeg = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 100);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    encoder.encode(&rgb, p.w as u16, p.h as u16, jpeg_encoder::ColorType::Ycbcr).unwrap();
    let f = pixel_attrs(image(40, SC_IMAGE, "OT"), p.w, p.h, 3, 8, 8, "RGB");
    encapsulated(f, "1.2.840.10008.1.2.4.50", vec![jpeg]).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let got = pixel_bytes(&assert_cleaned(&wd, &only_output(&wd)));
    let (ox, oy) = p.organ();
    let want = &rgb[3 * (oy * p.w + ox) as usize..][..3];
    let organ = organ_rgb(&p, &got);
    assert!(organ.iter().zip(want).all(|(a, b)| a.abs_diff(*b) <= 4), "{organ:?} is not {want:?}");
}

#[test]
fn rv19_02_jpeg_ls_colour_coded_plane_by_plane_is_written_interleaved() {
    let wd = Workdir::new("rv19_02_jpeg_ls_colour_coded_plane_by_plane_is_written_interleaved");
    let mut p = Picture::new(256, 192);
    banner(&mut p);
    let rgb: Vec<u8> = p.grey.iter().flat_map(|&g| [g, g / 2, 255 - g]).collect();
    let planar: Vec<u8> = (0..3).flat_map(|s| rgb.iter().skip(s).step_by(3).copied().collect::<Vec<_>>()).collect();
    let f = pixel_attrs(image(41, SC_IMAGE, "OT"), p.w, p.h, 3, 8, 8, "RGB");
    let stream = jpeg_ls(&p, 3, 8, charls::InterleaveMode::None, &planar);
    encapsulated(f, "1.2.840.10008.1.2.4.80", vec![stream]).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_eq!(obj.element(tags::PLANAR_CONFIGURATION).unwrap().to_int::<u16>().unwrap(), 0);
    let (ox, oy) = p.organ();
    assert_eq!(organ_rgb(&p, &pixel_bytes(&obj))[..], rgb[3 * (oy * p.w + ox) as usize..][..3]);
}

#[test]
fn rv19_03_multi_frame_jpeg_ls_and_jpeg_2000_split_over_fragments_are_cleaned() {
    let Some(corpus) = corpus() else { return };
    let wd = Workdir::new("rv19_03_multi_frame_split_over_fragments");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    for name in ["emri_small_jpeg_ls_lossless.dcm", "emri_small_jpeg_2k_lossless.dcm"] {
        let mut obj = open(&corpus.join("pydicom-data/data").join(name));
        let frames: Vec<Vec<u8>> = obj.element(tags::PIXEL_DATA).unwrap().value().fragments().unwrap().to_vec();
        assert_eq!(frames.len(), 10);
        // Three fragments per frame (even lengths), empty Basic Offset Table.
        let split: Vec<Vec<u8>> = frames
            .iter()
            .flat_map(|f| f.chunks((f.len() / 3 + 1) & !1).map(<[u8]>::to_vec).collect::<Vec<_>>())
            .collect();
        let value: DicomValue<InMemDicomObject, Vec<u8>> =
            DicomValue::PixelSequence(PixelFragmentSequence::new(Vec::<u32>::new(), split));
        obj.put(DataElement::new(tags::PIXEL_DATA, VR::OB, value));
        obj.write_to_file(wd.path(&format!("in/{name}"))).unwrap();
    }
    deid(&wd, &["--clean-all-pixels"]).assert_code(0);
    let audit = wd.audit("out");
    assert_eq!(audit.len(), 2);
    // Both decode to the same ten slices (one SOP Instance UID, two lossless codecs): when
    // both are rewritten cleaned, the second finds the first's identical output present.
    assert!(
        audit
            .iter()
            .all(|r| matches!(r["outcome"].as_str(), Some("written" | "present")) && r["pixels"]["frames"] == 10),
        "{audit:?}"
    );
    assert!(audit.iter().any(|r| r["outcome"] == "written"), "{audit:?}");
}

#[test]
fn rv19_04_eight_bit_jpeg_ls_in_16_bit_words_is_widened_and_12_bit_in_8_fails() {
    let wd = Workdir::new("rv19_04_codestream_precision");
    let mut p = Picture::new(256, 192);
    banner(&mut p);
    let f = pixel_attrs(image(42, SC_IMAGE, "OT"), p.w, p.h, 1, 16, 8, "MONOCHROME2");
    let stream = jpeg_ls(&p, 1, 8, charls::InterleaveMode::None, &p.grey);
    encapsulated(f, "1.2.840.10008.1.2.4.80", vec![stream]).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let values: Vec<u16> = pixel_bytes(&obj).chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let (ox, oy) = p.organ();
    let at = (oy * p.w + ox) as usize;
    assert_eq!(values[at], u16::from(p.grey[at]));

    let wd = Workdir::new("rv19_04_codestream_precision_12_in_8");
    let twelve: Vec<u8> = p.grey.iter().flat_map(|&g| (u16::from(g) * 16).to_le_bytes()).collect();
    let f = pixel_attrs(image(43, SC_IMAGE, "OT"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    let stream = jpeg_ls(&p, 1, 12, charls::InterleaveMode::None, &twelve);
    encapsulated(f, "1.2.840.10008.1.2.4.80", vec![stream]).write(&wd.path("in/a.dcm"));
    let reason = failed_reason(&wd, &deid(&wd, &[]));
    assert!(reason.contains("12-bit samples; Bits Allocated is 8"), "{reason}");
}

#[test]
fn rv19_05_jpeg_lossless_with_a_point_transform_fails() {
    let wd = Workdir::new("rv19_05_jpeg_lossless_with_a_point_transform_fails");
    // SOF3 12-bit 2 × 2, one component; SOS predictor 1, Pt 1.
    let mut stream = vec![0xFF, 0xD8, 0xFF, 0xC3, 0, 11, 12, 0, 2, 0, 2, 1, 1, 0x11, 0];
    stream.extend([0xFF, 0xDA, 0, 8, 1, 1, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9]);
    let f = pixel_attrs(image(44, SC_IMAGE, "OT"), 2, 2, 1, 16, 12, "MONOCHROME2");
    encapsulated(f, "1.2.840.10008.1.2.4.70", vec![stream]).write(&wd.path("in/a.dcm"));
    let reason = failed_reason(&wd, &deid(&wd, &[]));
    assert!(reason.contains("point transform"), "{reason}");
}

#[test]
fn rv19_06_rle_ybr_full_is_written_as_rgb_converted() {
    let wd = Workdir::new("rv19_06_rle_ybr_full_is_written_as_rgb_converted");
    let mut p = Picture::new(256, 192);
    banner(&mut p);
    let planes: Vec<Vec<u8>> = vec![p.grey.clone(), vec![100; p.grey.len()], vec![160; p.grey.len()]];
    let f = pixel_attrs(image(45, US_IMAGE, "US"), p.w, p.h, 3, 8, 8, "YBR_FULL");
    encapsulated(f, "1.2.840.10008.1.2.5", vec![rle_frame(&planes, p.w as usize)]).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    assert_eq!(text(&obj, tags::PHOTOMETRIC_INTERPRETATION).as_deref(), Some("RGB"));
    let (ox, oy) = p.organ();
    let y = f64::from(p.grey[(oy * p.w + ox) as usize]);
    let want = [y + 1.402 * 32.0, y - 0.344136 * -28.0 - 0.714136 * 32.0, y + 1.772 * -28.0];
    let organ = organ_rgb(&p, &pixel_bytes(&obj));
    assert!(organ.iter().zip(want).all(|(&a, b)| (f64::from(a) - b).abs() <= 1.0), "{organ:?} is not {want:?}");
}

#[test]
fn rv19_07_float_pixel_data_beside_pixel_data_fails() {
    let wd = Workdir::new("rv19_07_float_pixel_data_beside_pixel_data_fails");
    let p = Picture::new(64, 48);
    let float: Vec<u8> = p.grey.iter().flat_map(|&g| f32::from(g).to_le_bytes()).collect();
    let f = pixel_attrs(image(46, SC_IMAGE, "OT"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).put(raw_el(tags::FLOAT_PIXEL_DATA, VR::OF, &float)).write(&wd.path("in/a.dcm"));
    let reason = failed_reason(&wd, &deid(&wd, &[]));
    assert!(reason.contains("FloatPixelData (7FE0,0008) beside Pixel Data"), "{reason}");
}

#[test]
fn rv19_08_rle_frame_with_a_segment_more_than_the_image_needs_fails() {
    let wd = Workdir::new("rv19_08_rle_frame_with_a_segment_more_than_the_image_needs_fails");
    let plain = Picture::new(64, 48);
    let mut named = Picture::new(64, 48);
    named.write("CANARY", 2, 2, 12.0, 250);
    let f = pixel_attrs(image(47, SC_IMAGE, "OT"), 64, 48, 1, 8, 8, "MONOCHROME2");
    encapsulated(f, "1.2.840.10008.1.2.5", vec![rle_frame(&[plain.grey, named.grey], 64)]).write(&wd.path("in/a.dcm"));
    let reason = failed_reason(&wd, &deid(&wd, &[]));
    assert!(reason.contains("2 segments where the image needs 1"), "{reason}");
}

#[test]
fn rv28_01_a_lossy_jpeg_2000_source_is_marked_lossy_when_its_header_does_not_say_so() {
    // rv28 01: a JPEG 2000 image coded with the irreversible 9-7 wavelet whose header lacks
    // Lossy Image Compression was written uncompressed without "01": the release hid its
    // lossy history. The reversible twin stays without it.
    let Some(corpus) = corpus() else { return };
    for (name, lossy) in [("MR2_J2KI.dcm", true), ("MR2_J2KR.dcm", false)] {
        let wd = Workdir::new(&format!("rv28_01_lossy_jpeg_2000_{lossy}"));
        std::fs::create_dir_all(wd.path("in")).unwrap();
        std::fs::create_dir_all(wd.path("rules")).unwrap();
        std::fs::write(
            wd.path("rules/corner.toml"),
            "[[rule]]\nname = \"corner\"\nsource = \"test\"\nwhen = { Modality = \"MR\" }\nblank = [[0, 0, 16, 8]]\ndetect = false\n",
        )
        .unwrap();
        let mut obj = open(&corpus.join("pydicom-data/data").join(name));
        for tag in
            [tags::LOSSY_IMAGE_COMPRESSION, tags::LOSSY_IMAGE_COMPRESSION_RATIO, tags::LOSSY_IMAGE_COMPRESSION_METHOD]
        {
            obj.remove_element(tag);
        }
        obj.write_to_file(wd.path("in/a.dcm")).unwrap();
        deid(&wd, &["--clean-all-pixels", "--pixel-rules", "rules"]).assert_code(0);
        let out = assert_cleaned(&wd, &only_output(&wd));
        let marked = text(&out, tags::LOSSY_IMAGE_COMPRESSION);
        if lossy {
            assert_eq!(marked.as_deref(), Some("01"), "{name}");
            assert_eq!(text(&out, tags::LOSSY_IMAGE_COMPRESSION_METHOD).as_deref(), Some("ISO_15444_1"), "{name}");
        } else {
            assert_ne!(marked.as_deref(), Some("01"), "{name}");
        }
    }
}

/// Write `in/a.dcm`: an 8-bit tiled whole-slide image (TILED_FULL, 2 × 2 tiles) whose tiles
/// are `tiles`, all of one size.
fn tiled_slide(wd: &Workdir, tiles: &[Picture]) {
    let (w, h) = (tiles[0].w, tiles[0].h);
    let frames: Vec<u8> = tiles.iter().flat_map(|p| p.grey.iter().copied()).collect();
    let ul = |v: u32| PrimitiveValue::from(v);
    let f = pixel_attrs(image(81, "1.2.840.10008.5.1.4.1.1.77.1.6", "SM"), w, h, 1, 8, 8, "MONOCHROME2")
        .put(str_el(tags::NUMBER_OF_FRAMES, VR::IS, &tiles.len().to_string()))
        .put(str_el(tags::DIMENSION_ORGANIZATION_TYPE, VR::CS, "TILED_FULL"))
        .put(DataElement::new(tags::TOTAL_PIXEL_MATRIX_COLUMNS, VR::UL, ul(2 * w)))
        .put(DataElement::new(tags::TOTAL_PIXEL_MATRIX_ROWS, VR::UL, ul(2 * h)));
    native(f, VR::OB, &frames).write(&wd.path("in/a.dcm"));
}

#[test]
fn rv28_02_text_on_one_tile_of_a_slide_is_blanked_on_that_tile_only() {
    // rv28 02: the tiles of a whole-slide image were cleaned as the frames of a cine: a box
    // found on one tile was blanked on every tile (tissue lost), and a line found on one tile
    // on loose evidence waited for the other tiles to confirm it (name released).
    let wd = Workdir::new("rv28_02_text_on_one_tile_of_a_slide_is_blanked_on_that_tile_only");
    let mut tiles: Vec<Picture> = (0..4).map(|_| Picture::new(200, 160)).collect();
    banner(&mut tiles[1]);
    tiled_slide(&wd, &tiles);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    let n = 200 * 160;
    assert_text_blanked(&tiles[1], &got[n..2 * n], 1, 0);
    for k in [0, 2, 3] {
        assert!(got[k * n..(k + 1) * n] == tiles[k].grey[..], "tile {k} changed, though it holds no text");
    }
    let boxes = wd.audit("out")[0]["pixels"]["boxes"].as_array().unwrap().clone();
    assert!(!boxes.is_empty() && boxes.iter().all(|b| b["frame"] == 2), "{boxes:?}");
}

#[test]
fn rv28_text_over_air_beside_pixel_padding_is_blanked() {
    // rv28 suspect: a CT whose field of view is surrounded by Pixel Padding Value -32768, with
    // no window: the padding stretched the grey range, and the name over air (-1000 vs 2000)
    // stood about 22 grey levels above it, below what the detector takes for text. A viewer
    // leaves padding out, and so does the cleaner now.
    let wd = Workdir::new("rv28_text_over_air_beside_pixel_padding_is_blanked");
    let (w, h) = (320u32, 240u32);
    let mut p = Picture::new(w, h);
    p.write("YAMADA TARO PID12345", 70, 100, 16.0, 255);
    let (cx, cy, r) = (160i64, 120i64, 118i64);
    let signed: Vec<i16> = (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as i64, (i / w) as i64);
            if p.text[i as usize] {
                2000
            } else if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                -1000
            } else {
                -32768
            }
        })
        .collect();
    let words: Vec<u16> = signed.iter().map(|&v| v as u16).collect();
    let f = pixel_attrs(image(3, "1.2.840.10008.5.1.4.1.1.2", "CT"), w, h, 1, 16, 16, "MONOCHROME2")
        .put(DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, us(1)))
        .put(DataElement::new(tags::PIXEL_PADDING_VALUE, VR::SS, PrimitiveValue::from(-32768i16)));
    let got: Vec<i16> = clean_words(&wd, f, &words).into_iter().map(|v| v as i16).collect();
    let missed = p.text.iter().zip(&got).filter(|(t, g)| **t && **g == 2000).count();
    assert_eq!(missed, 0, "{missed} text pixels were left as they were");
    // Air far from the text is untouched.
    let i = (200 * w + 160) as usize;
    assert_eq!(got[i], -1000);
}

/// Cut a picture of 2 × 2 tiles into its tiles, row by row (TILED_FULL order).
fn tiles_of(slide: &Picture) -> Vec<Picture> {
    let (w, h) = (slide.w / 2, slide.h / 2);
    let mut tiles = Vec::new();
    for (ty, tx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let mut t = Picture::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let i = ((ty * h + y) * slide.w + tx * w + x) as usize;
                t.grey[(y * w + x) as usize] = slide.grey[i];
                t.text[(y * w + x) as usize] = slide.text[i];
            }
        }
        tiles.push(t);
    }
    tiles
}

#[test]
#[ignore = "known gap (README, whole-slide images): each tile is searched alone, and 19 text pixels of the top-left tile are left"]
fn text_crossing_the_tile_borders_of_a_slide_is_blanked_on_both_sides() {
    // A slide's label line written across the border between two tiles (the border cuts its
    // letters lengthwise), and one whose letters the border between two rows of tiles cuts
    // in half (top half on one tile, bottom half on the other).
    let wd = Workdir::new("text_crossing_the_tile_borders_of_a_slide_is_blanked_on_both_sides");
    let mut slide = Picture::new(480, 320);
    slide.grey.iter_mut().for_each(|g| *g = 0);
    slide.write("YAMADA TARO 0012345678", 40, 40, 20.0, 230);
    slide.write("SLIDE 1970-01-01 B12", 30, 150, 20.0, 230);
    let tiles = tiles_of(&slide);
    tiled_slide(&wd, &tiles);
    deid(&wd, &[]).assert_code(0);
    let obj = assert_cleaned(&wd, &only_output(&wd));
    let got = pixel_bytes(&obj);
    let n = (240 * 160) as usize;
    let missed: Vec<usize> = (0..4).map(|k| text_missed(&tiles[k], &got[k * n..(k + 1) * n], 1, 0)).collect();
    assert_eq!(missed, vec![0; 4], "text pixels left on each tile");
}

impl Picture {
    /// A picture shaded by `shade` (given x and y, 0-255), without text.
    fn shaded(w: u32, h: u32, shade: impl Fn(u32, u32) -> f32) -> Picture {
        let grey = (0..w * h).map(|i| shade(i % w, i / w).round().clamp(0.0, 255.0) as u8).collect();
        Picture { w, h, grey, text: vec![false; (w * h) as usize] }
    }
}

/// A shaded page: a ramp of about 130 levels along a 480-pixel frame, shaded a little across
/// it. The pass for soft text fits such shading and looks for strokes above it.
fn shaded_page(x: u32, y: u32) -> f32 {
    30.0 + x as f32 * 0.27 + y as f32 * 0.1
}

#[test]
fn a_gradient_without_text_keeps_its_pixels() {
    let wd = Workdir::new("a_gradient_without_text_keeps_its_pixels");
    let p = Picture::shaded(480, 200, shaded_page);
    let f = pixel_attrs(image(41, US_IMAGE, "US"), p.w, p.h, 1, 8, 8, "MONOCHROME2");
    native(f, VR::OB, &p.grey).write(&wd.path("in/a.dcm"));
    deid(&wd, &[]).assert_code(0);
    assert_eq!(pixel_bytes(&open(&only_output(&wd))), p.grey);
}
