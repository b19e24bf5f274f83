//! Measure the burned-in text detector on synthetic images whose text pixels are known.
//!
//! ```sh
//! cargo run --release --example burned_text_eval -- [N] [--seed S] [--no-hints] [--dump DIR] [--colour-only] [--breakdown FILE]
//! ```
//!
//! Generates N scenes (default 300) with `kamei::pixels::synth` (fonts from the system, see
//! `.ci/run`; real backgrounds from `../shared/corpus` when it is there), runs the real cleaning
//! path on each (`PixelCleaner::clean` with the built-in rules, on a native Secondary Capture
//! that declares burned-in annotation) and prints:
//!
//! - recall: share of text pixels (glyph coverage ≥ 0.5) inside a blanked box;
//! - collateral: share of the pixels outside the text lines (each line's box grown by the allowed
//!   margin, a quarter of its height and at least 2 pixels) that were blanked;
//! - strict collateral: share of all non-text pixels blanked (gaps between glyphs included);
//!
//! overall and by text size, style (plain, large, soft, vertical, tracked, dotted), background,
//! bit depth, colour, polarity and place. Real colour
//! images (ultrasound colour flow, a photograph) are drawn in colour under RGB scenes, marked
//! `(rgb)` in the report, with recall by text colour there (`near`: the background's own hue);
//! under grey scenes they are their luminance. The first two
//! strings drawn are also put in the header as Patient's Name and ID, as scanners print the
//! patient's own data (the detector's hints); `--no-hints` leaves them out. `--dump DIR`
//! writes a PNG (before | after, boxes outlined) of each scene whose recall is under 99% or
//! whose collateral is over 2%. `--colour-only` cleans only the RGB scenes drawn over a colour
//! image (of the N generated), where the detector is weakest, and `--rgb-only` only the RGB
//! scenes (the only ones the colour planes are searched in); the `raw:` line gives the counts
//! to set such a run against a whole one. `--breakdown FILE` ranks the missed text pixels by
//! bucket (style, size, contrast, background, bit depth, place, colour, polarity, noise) and by
//! where in a line they are (never found, before or after the found part along the line, a gap
//! between pieces, above or below a box), and the collateral by background and by stray boxes
//! or boxes over text; FILE gets one row per line.
//!
//! Each 16-bit grey scene is also cleaned with its text faint, as radiographs often show it
//! (`synth::faint`: its values in a narrow band of the stored range under a bright marker; 12
//! bits without a window, or 16 bits with Window Center/Width, by seed), reported apart on the
//! `faint text` lines, not in the figures above (the time per scene does not count it).

use kamei::pixels::rules::Rect;
use kamei::pixels::synth::{self, Background, Score};
use kamei::pixels::{PixelCleaner, PixelOptions};
use kamei::read::{Opened, ReadOptions};
use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A part of an image: x, y, width, height.
type Crop = Option<(u32, u32, u32, u32)>;

/// Real images without burned-in text used as backgrounds: (corpus path, crop, name in the
/// report). Colour images are drawn in colour under RGB scenes and as their luminance under grey
/// ones.
const BACKGROUNDS: &[(&str, Crop, &str)] = &[
    ("pydicom-data/data/693_UNCI.dcm", None, "CT 693_UNCI"),
    ("pydicom-data/data/MR2_UNCI.dcm", None, "MR MR2_UNCI"),
    ("pydicom-data/data/RG1_UNCI.dcm", None, "CR RG1_UNCI"),
    ("pydicom-data/data/RG3_UNCI.dcm", None, "CR RG3_UNCI"),
    ("pydicom-data/data/JPEG2000_UNC.dcm", None, "NM JPEG2000_UNC"),
    // Ultrasound tissue with power Doppler (yellow-red) flow, from inside each of the two
    // colour boxes (their white outlines and the text around the scan left out).
    ("pydicom-data/data/US1_UNCI.dcm", Some((89, 150, 227, 143)), "US flow US1_UNCI left"),
    ("pydicom-data/data/US1_UNCI.dcm", Some((320, 150, 226, 143)), "US flow US1_UNCI right"),
    // Colour Doppler (red and blue flow, blue sector lines); the markers at the right left out.
    ("pydicom-data/data/color-pl.dcm", Some((0, 0, 224, 120)), "US flow color-pl"),
    // A video photograph (skin, blue shirt, brown cardboard); the black left border and the
    // pictograms at the top left out.
    ("pydicom-data/data/OT-PAL-8-face.dcm", Some((8, 80, 628, 400)), "photo OT-PAL-8-face"),
];

fn load_backgrounds(corpus: &Path) -> Vec<Background> {
    let mut out = Vec::new();
    for (rel, crop, _) in BACKGROUNDS {
        let path = corpus.join(rel);
        let Ok(Opened::Dicom(file)) = kamei::read::open(&path, &ReadOptions::default()) else {
            panic!("background {rel} does not read")
        };
        let Ok(f) = kamei::pixels::decode::decode(&file.dataset, &file.transfer_syntax, Some(&path)) else {
            panic!("background {rel} does not decode")
        };
        let (x0, y0, w, h) = crop.unwrap_or((0, 0, f.cols, f.rows));
        let colour = f.samples == 3 || f.photometric == "PALETTE COLOR";
        // Colour (RGB, YBR, palette) as the cleaner renders it: 8 bits per channel.
        let rgb: Option<Vec<[f32; 3]>> = colour.then(|| {
            let img = kamei::pixels::first_frame(&file, Some(&path)).expect("decoded above");
            let mut rgb = Vec::with_capacity((w * h) as usize);
            for y in y0..y0 + h {
                for x in x0..x0 + w {
                    rgb.push(img.get_pixel(x, y).0.map(|c| c as f32 / 255.0));
                }
            }
            rgb
        });
        let mut values = Vec::with_capacity((w * h) as usize);
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                let v = match &rgb {
                    Some(c) => {
                        let [r, g, b] = c[((y - y0) * w + x - x0) as usize];
                        0.299 * r + 0.587 * g + 0.114 * b
                    }
                    None => f.value(0, x, y, 0) as f32,
                };
                values.push(v);
            }
        }
        let mut sorted = values.clone();
        sorted.sort_by(f32::total_cmp);
        let lo = sorted[sorted.len() / 200];
        let hi = sorted[sorted.len() - 1 - sorted.len() / 200].max(lo + 1.0);
        let invert = f.photometric == "MONOCHROME1";
        for v in values.iter_mut() {
            let n = ((*v - lo) / (hi - lo)).clamp(0.0, 1.0);
            *v = if invert { 1.0 - n } else { n } * 0.85;
        }
        out.push(Background { width: w, height: h, values, rgb });
    }
    out
}

#[derive(Default)]
struct Tally {
    score: Score,
    scenes: usize,
}

fn bucket(map: &mut BTreeMap<String, Tally>, key: String, s: &Score) {
    let t = map.entry(key).or_default();
    t.score.add(s);
    t.scenes += 1;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut n = 300u64;
    let mut seed = 0u64;
    let mut dump: Option<PathBuf> = None;
    let mut hints = true;
    let mut colour_only = false;
    let mut rgb_only = false;
    let mut breakdown: Option<PathBuf> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--seed" => {
                seed = args[i + 1].parse().expect("--seed N");
                i += 1;
            }
            "--explain-file" => {
                explain_file(Path::new(&args[i + 1]));
                return;
            }
            "--explain" => {
                let seed: u64 = args[i + 1].parse().expect("--explain SEED");
                explain(seed);
                return;
            }
            "--no-hints" => hints = false,
            "--colour-only" => colour_only = true,
            "--rgb-only" => rgb_only = true,
            "--dump" => {
                dump = Some(PathBuf::from(&args[i + 1]));
                i += 1;
            }
            "--breakdown" => {
                breakdown = Some(PathBuf::from(&args[i + 1]));
                i += 1;
            }
            other => n = other.parse().expect("N"),
        }
        i += 1;
    }
    let fonts = synth::system_fonts();
    assert!(!fonts.is_empty(), "no fonts found under {:?}; install the fonts .ci/run lists", synth::FONT_DIRS);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let backgrounds = if corpus.is_dir() { load_backgrounds(&corpus) } else { Vec::new() };
    println!(
        "{} fonts ({} with Japanese), {} real backgrounds, {n} scenes from seed {seed}",
        fonts.len(),
        fonts.iter().filter(|f| f.cjk).count(),
        backgrounds.len()
    );
    let cleaner = PixelCleaner::new(&PixelOptions::default()).expect("built-in rules load");
    let mut total = Tally::default();
    let mut by: BTreeMap<String, Tally> = BTreeMap::new();
    let mut worst: Vec<(f64, f64, u64)> = Vec::new();
    let mut split: BTreeMap<String, u64> = BTreeMap::new();
    let mut faint: BTreeMap<String, Tally> = BTreeMap::new();
    let mut pixels = 0u64;
    let mut skipped = Score::default();
    let mut elapsed = 0.0f64;
    let mut misses = Misses::default();
    let mut rows: Vec<String> = Vec::new();
    for s in seed..seed + n {
        let scene = synth::scene(s, &fonts, &backgrounds);
        // Colour images under RGB scenes are drawn in colour, under grey ones as their luminance.
        let on_colour = scene.samples == 3 && scene.background.is_some_and(|b| backgrounds[b].rgb.is_some());
        if (colour_only && !on_colour) || (rgb_only && scene.samples != 3) {
            skipped.add(&Score::of(&scene, &[]));
            continue;
        }
        let file = synth::to_file_with(&scene, hints);
        let started = Instant::now();
        let cleaned = cleaner.clean(&file, None, dump.is_some()).expect("synthetic images decode");
        elapsed += started.elapsed().as_secs_f64();
        pixels += (scene.rows * scene.cols) as u64;
        let boxes: Vec<Rect> = cleaned.boxes.iter().map(|b| b.rect).collect();
        let score = Score::of(&scene, &boxes);
        // Collateral split: boxes over no text line (false finds) and boxes over one (grown
        // past the line's margin).
        let (over_text, stray): (Vec<Rect>, Vec<Rect>) =
            boxes.iter().partition(|b| scene.lines.iter().any(|l| l.intersects(b)));
        let quiet = matches!(scene.kind, synth::Kind::Flat | synth::Kind::Gradient | synth::Kind::Document);
        let busyness = if quiet { "quiet" } else { "busy" };
        for (part, rects) in [("stray boxes", &stray), ("boxes over text", &over_text)] {
            let sc = Score::of(&scene, rects);
            split.entry(format!("{part} on {busyness}")).or_insert(0).add_assign(sc.background_blanked);
            if breakdown.is_some() {
                let bg = scene.background.map_or_else(|| format!("{:?}", scene.kind), |b| BACKGROUNDS[b].2.into());
                let key = format!("{part} on {bg}{}, {} bits", if on_colour { " (rgb)" } else { "" }, scene.bits);
                misses.collateral.entry(key).or_insert(0).add_assign(sc.background_blanked);
            }
        }
        total.score.add(&score);
        total.scenes += 1;
        let kind = match scene.background {
            Some(b) => format!("background {}{}", BACKGROUNDS[b].2, if on_colour { " (rgb)" } else { "" }),
            None => format!("background {:?}", scene.kind),
        };
        bucket(&mut by, kind, &score);
        // The colour backgrounds apart from all the others (grey and synthetic ones, and colour
        // ones under grey scenes), which the figures before them were measured on.
        let group = if on_colour { "backgrounds real colour (rgb)" } else { "backgrounds all but real colour" };
        bucket(&mut by, group.into(), &score);
        // Quiet backgrounds (where scanners print the patient's data) and busy ones (speckle,
        // anatomy) are held to different standards.
        bucket(&mut by, format!("backgrounds {busyness}"), &score);
        bucket(&mut by, format!("bits {} samples {}", scene.bits, scene.samples), &score);
        bucket(&mut by, format!("polarity {}", if scene.dark_text { "dark text" } else { "light text" }), &score);
        // Per line: recall by size and place.
        for (k, line) in scene.lines.iter().enumerate() {
            let mut only = scene.clone();
            for (idx, t) in only.text.iter_mut().enumerate() {
                let (x, y) = ((idx as u32) % scene.cols, (idx as u32) / scene.cols);
                if !line.contains(&Rect::new(x, y, 1, 1)) {
                    *t = false;
                }
            }
            let mut ls = Score::of(&only, &boxes);
            ls.background = 0;
            ls.background_blanked = 0;
            ls.non_text = 0;
            ls.non_text_blanked = 0;
            let size = scene.sizes[k];
            if breakdown.is_some() {
                let kinds = miss_kinds(&scene, k, &boxes);
                let tags = line_tags(&scene, k, busyness, on_colour);
                misses.add(&tags, &kinds);
                let count: Vec<String> = kinds.iter().map(|c| c.to_string()).collect();
                rows.push(format!("{s}\t{k}\t{}\t{}\t{}", ls.text, tags.join("\t"), count.join("\t")));
            }
            if std::env::var_os("EVAL_MISSES").is_some() && ls.recall() < 0.95 {
                println!(
                    "miss: seed {s} line {k} size {size:.0} {} {} {:?} bg {:?} dark {} bits {} samples {} recall {:.2}",
                    scene.styles[k],
                    scene.places[k],
                    line,
                    scene.background.map(|b| BACKGROUNDS[b].2).unwrap_or(""),
                    scene.dark_text,
                    scene.bits,
                    scene.samples,
                    ls.recall()
                );
            }
            let b = match size as u32 {
                0..=11 => "size 08-11 px",
                12..=17 => "size 12-17 px",
                18..=27 => "size 18-27 px",
                28..=40 => "size 28-40 px",
                _ => "size 41-56 px",
            };
            bucket(&mut by, b.to_string(), &ls);
            bucket(&mut by, format!("{b} on {busyness}"), &ls);
            bucket(&mut by, format!("place {}", scene.places[k]), &ls);
            // Plain glyphs, and the styles drawn since (large, soft, vertical, tracked, dotted).
            bucket(&mut by, format!("style {}", scene.styles[k]), &ls);
            bucket(&mut by, format!("style {} on {busyness}", scene.styles[k]), &ls);
            if on_colour {
                bucket(&mut by, format!("text on real colour: {}", scene.colours[k]), &ls);
            }
        }
        worst.push((score.recall(), score.collateral(), s));
        // The 16-bit grey scenes again as a radiograph shows faint text (synth::faint): 12 bits
        // without a window (even seeds) or 16 bits with the header's window (odd ones). Apart
        // from the figures above, so those stay comparable.
        if scene.samples == 1 && scene.bits == 16 {
            let (bits, window) = if s % 2 == 0 { (12, false) } else { (16, true) };
            let dim = synth::faint(&scene, bits, window);
            let cleaned =
                cleaner.clean(&synth::to_file_with(&dim, hints), None, false).expect("synthetic images decode");
            let boxes: Vec<Rect> = cleaned.boxes.iter().map(|b| b.rect).collect();
            let score = Score::of(&dim, &boxes);
            bucket(&mut faint, "all".into(), &score);
            let how = if window { "16 bits, window in header" } else { "12 bits, no window" };
            bucket(&mut faint, how.into(), &score);
        }
        if std::env::var_os("EVAL_MISSES").is_some() && score.collateral() > 0.05 {
            println!(
                "collateral: seed {s} {:.2} bg {:?} kind {:?}",
                score.collateral(),
                scene.background.map(|b| BACKGROUNDS[b].2).unwrap_or(""),
                scene.kind
            );
        }
        if let (Some(dir), Some((before, after))) = (&dump, &cleaned.preview) {
            if score.recall() < 0.99 || score.collateral() > 0.02 {
                let truth: Vec<Rect> = scene.lines.clone();
                let before = outline_green(before.clone(), &truth);
                let staging = kamei::pixels::preview::staging(dir, "whole");
                let _ =
                    kamei::pixels::preview::write(dir, &staging, Path::new(&format!("scene-{s}.dcm")), &before, after);
            }
        }
    }
    let pct = |v: f64| format!("{:.2}%", v * 100.0);
    println!(
        "overall: recall {} collateral {} (strict {}) over {} scenes, {} text pixels",
        pct(total.score.recall()),
        pct(total.score.collateral()),
        pct(total.score.collateral_strict()),
        total.scenes,
        total.score.text
    );
    // Raw counts, so that a run over some scenes can be set against a whole run.
    println!(
        "raw: text {} blanked {}, background {} blanked {}; scenes not cleaned: text {}, background {}",
        total.score.text,
        total.score.text_blanked,
        total.score.background,
        total.score.background_blanked,
        skipped.text,
        skipped.background
    );
    println!(
        "cleaning time: {:.1} ms per scene, {:.1} Mpixel/s",
        elapsed * 1000.0 / total.scenes.max(1) as f64,
        pixels as f64 / elapsed / 1e6
    );
    for (k, t) in &by {
        let coll = if t.score.background > 0 { pct(t.score.collateral()) } else { "-".into() };
        // The share of all text pixels this bucket misses, and of all background pixels it
        // blanks: what it costs the overall figures.
        let missed = (t.score.text - t.score.text_blanked) as f64 / total.score.text.max(1) as f64;
        let wasted = t.score.background_blanked as f64 / total.score.background.max(1) as f64;
        println!(
            "  {k:<28} n={:<4} recall {:>8} collateral {:>7}   (costs {:.2} pt recall, {:.2} pt collateral)",
            t.scenes,
            pct(t.score.recall()),
            coll,
            missed * 100.0,
            wasted * 100.0
        );
    }
    for (k, blanked) in &split {
        println!("  collateral from {k:<22} {:.2} pt", *blanked as f64 * 100.0 / total.score.background.max(1) as f64);
    }
    for (k, t) in &faint {
        println!(
            "faint text in >8-bit images (not in overall), {k:<26} n={:<4} recall {:>8} collateral {:>7}",
            t.scenes,
            pct(t.score.recall()),
            pct(t.score.collateral())
        );
    }
    if let Some(path) = &breakdown {
        misses.report(total.score.text, total.score.background);
        let header = "seed\tline\ttext\tstyle\tsize\tcontrast\tbackground\tdepth\tplace\tcolour\tpolarity\tnoise\tmissed\tnever found\tstart\tend\tgap\ttop edge\tbottom edge";
        std::fs::write(path, format!("{header}\n{}\n", rows.join("\n"))).expect("--breakdown file writes");
    }
    worst.sort_by(|a, b| a.0.total_cmp(&b.0));
    let low: Vec<String> =
        worst.iter().take(8).map(|(r, c, s)| format!("seed {s}: recall {} coll {}", pct(*r), pct(*c))).collect();
    println!("lowest recall: {}", low.join("; "));
    worst.sort_by(|a, b| b.1.total_cmp(&a.1));
    let high: Vec<String> =
        worst.iter().take(8).map(|(r, c, s)| format!("seed {s}: recall {} coll {}", pct(*r), pct(*c))).collect();
    println!("highest collateral: {}", high.join("; "));
}

/// Where the missed text pixels of a line are: names of the counts [`miss_kinds`] returns.
const MISS_KINDS: [&str; 7] = ["missed", "never found", "start", "end", "gap", "top edge", "bottom edge"];

/// The missed text pixels of line `k` of `scene`, all and by where they are ([`MISS_KINDS`]):
/// the line never found (no text pixel of it blanked); else along the line (its long axis)
/// before the first or after the last blanked text pixel (glyphs dropped at its start or end),
/// between them where no box reaches across (a gap between pieces), or where a box does reach
/// along but not across (above or below it: a box too tight at the top or bottom edge, left or
/// right for a vertical line).
fn miss_kinds(scene: &synth::Scene, k: usize, boxes: &[Rect]) -> [u64; 7] {
    let line = scene.lines[k];
    let vertical = scene.styles[k] == "vertical";
    // (along, across) coordinates of a pixel, and of a box's span.
    let axes = |x: u32, y: u32| if vertical { (y, x) } else { (x, y) };
    let span = |b: &Rect| if vertical { (b.y, b.bottom(), b.x, b.right()) } else { (b.x, b.right(), b.y, b.bottom()) };
    let covered = |x: u32, y: u32| boxes.iter().any(|b| b.contains(&Rect::new(x, y, 1, 1)));
    let mut missed = Vec::new();
    let (mut first, mut last) = (u32::MAX, 0);
    for y in line.y..line.bottom() {
        for x in line.x..line.right() {
            if !scene.text[(y * scene.cols + x) as usize] {
                continue;
            }
            if covered(x, y) {
                let (a, _) = axes(x, y);
                (first, last) = (first.min(a), last.max(a));
            } else {
                missed.push((x, y));
            }
        }
    }
    let mut out = [0u64; 7];
    out[0] = missed.len() as u64;
    if first == u32::MAX {
        out[1] = out[0];
        return out;
    }
    let over: Vec<(u32, u32, u32, u32)> = boxes.iter().filter(|b| b.intersects(&line)).map(span).collect();
    for (x, y) in missed {
        let (a, c) = axes(x, y);
        let kind = match over.iter().find(|s| (s.0..s.1).contains(&a)) {
            Some(s) if c < s.2 => 5,
            Some(_) => 6,
            None if a < first => 2,
            None if a > last => 3,
            None => 4,
        };
        out[kind] += 1;
    }
    out
}

/// What a line is, as `dimension value` tags: style, size, contrast, background, bit depth and
/// samples, place, colour, polarity, noise.
fn line_tags(scene: &synth::Scene, k: usize, busyness: &str, on_colour: bool) -> Vec<String> {
    let size = match scene.sizes[k] as u32 {
        0..=11 => "08-11 px",
        12..=17 => "12-17 px",
        18..=27 => "18-27 px",
        28..=40 => "28-40 px",
        _ => "41-56 px",
    };
    let contrast = match (scene.contrasts[k] * 100.0) as u32 {
        0..=49 => "35-49 %",
        50..=69 => "50-69 %",
        70..=84 => "70-84 %",
        _ => "85-100 %",
    };
    let background = match scene.background {
        Some(b) => format!("{}{} ({busyness})", BACKGROUNDS[b].2, if on_colour { " rgb" } else { "" }),
        None => format!("{:?} ({busyness})", scene.kind),
    };
    vec![
        format!("style {}", scene.styles[k]),
        format!("size {size}"),
        format!("contrast {contrast}"),
        format!("background {background}"),
        format!("depth {} bits, {} samples", scene.bits, scene.samples),
        format!("place {}", scene.places[k]),
        format!("colour {}", scene.colours[k]),
        format!("polarity {}", if scene.dark_text { "dark" } else { "light" }),
        format!("noise {:.1} %", scene.noise * 100.0),
    ]
}

/// Missed text pixels and collateral pixels by bucket (`--breakdown`), ranked by absolute count.
#[derive(Default)]
struct Misses {
    /// Per tag (`dimension value`): text pixels and the [`MISS_KINDS`] counts.
    by_tag: BTreeMap<String, (u64, [u64; 7])>,
    /// All lines: the [`MISS_KINDS`] counts.
    total: [u64; 7],
    /// Blanked background pixels by stray boxes / boxes over text and background.
    collateral: BTreeMap<String, u64>,
}

impl Misses {
    fn add(&mut self, tags: &[String], kinds: &[u64; 7]) {
        for t in tags {
            let e = self.by_tag.entry(t.clone()).or_default();
            (0..7).for_each(|i| e.1[i] += kinds[i]);
        }
        (0..7).for_each(|i| self.total[i] += kinds[i]);
    }

    fn report(&self, text: u64, background: u64) {
        let pt = |v: u64, of: u64| v as f64 * 100.0 / of.max(1) as f64;
        let kinds = |k: &[u64; 7]| {
            (1..7).map(|i| format!("{} {:.0}%", MISS_KINDS[i], pt(k[i], k[0]))).collect::<Vec<_>>().join(", ")
        };
        println!(
            "missed text pixels: {} ({:.2} pt of recall): {}",
            self.total[0],
            pt(self.total[0], text),
            kinds(&self.total)
        );
        let mut ranked: Vec<(&String, &[u64; 7])> = self.by_tag.iter().map(|(t, v)| (t, &v.1)).collect();
        ranked.sort_by(|a, b| b.1[0].cmp(&a.1[0]));
        for (tag, k) in ranked.iter().take(30) {
            println!("  missed {tag:<40} {:>7} px ({:>5.2} pt): {}", k[0], pt(k[0], text), kinds(k));
        }
        let mut coll: Vec<(&String, &u64)> = self.collateral.iter().collect();
        coll.sort_by(|a, b| b.1.cmp(a.1));
        for (tag, v) in coll.iter().take(15) {
            println!("  collateral {tag:<48} {:>8} px ({:.2} pt)", v, pt(**v, background));
        }
    }
}

fn outline_green(mut img: image::RgbImage, rects: &[Rect]) -> image::RgbImage {
    for r in rects {
        let rect = imageproc::rect::Rect::at(r.x as i32 - 1, r.y as i32 - 1).of_size(r.width + 2, r.height + 2);
        imageproc::drawing::draw_hollow_rect_mut(&mut img, rect, image::Rgb([0, 255, 0]));
    }
    img
}

/// Print every candidate line of one scene with its score factors, and the truth.
fn explain(seed: u64) {
    let fonts = synth::system_fonts();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let backgrounds = if corpus.is_dir() { load_backgrounds(&corpus) } else { Vec::new() };
    let scene = synth::scene(seed, &fonts, &backgrounds);
    println!("truth: {:?} sizes {:?}", scene.lines, scene.sizes);
    let file = synth::to_file(&scene);
    let f = kamei::pixels::decode::decode(&file.dataset, &file.transfer_syntax, None).unwrap();
    let planes = kamei::pixels::first_planes(&f);
    let d = kamei::pixels::detect::Detector::default();
    let (light, dark) = planes.searched();
    for (name, plane) in [("light", light), ("dark", dark)] {
        for (r, s, why) in d.explain(plane, plane) {
            let near = scene.lines.iter().any(|l| l.grow(4, scene.cols, scene.rows).intersects(&r));
            if s > 0.0 || near {
                println!("{name} {r:?} score {s:.2} {} {why}", if near { "TEXT" } else { "" });
            }
        }
    }
}

/// Print the candidate lines of the first frame of a DICOM file that score as text or unsure.
fn explain_file(path: &Path) {
    let Ok(Opened::Dicom(file)) = kamei::read::open(path, &ReadOptions::default()) else { panic!("not DICOM") };
    let f = kamei::pixels::decode::decode(&file.dataset, &file.transfer_syntax, Some(path)).unwrap();
    let planes = kamei::pixels::first_planes(&f);
    let d = kamei::pixels::detect::Detector::default();
    let (light, dark) = planes.searched();
    for (name, plane) in [("light", light), ("dark", dark)] {
        for (r, s, why) in d.explain(plane, plane) {
            if s >= 0.35 {
                println!("{name} {r:?} score {s:.2} {why}");
            }
        }
    }
}
