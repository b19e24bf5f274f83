//! Synthetic images with burned-in text whose every text pixel is known: the ground truth for
//! measuring the detector (`examples/burned_text_eval.rs`), for the integration tests and for the
//! benches.
//!
//! Text is rasterized with ab_glyph from the system's fonts (Debian's `fonts-dejavu-core`,
//! `fonts-liberation2`, `fonts-noto-mono`, `fonts-droid-fallback` for Japanese, `fonts-urw-base35`;
//! `.ci/run` installs them), in varied sizes (8 to 56 pixels per em), positions (corners, edges,
//! middle), contrasts, colours and both polarities, plain or in one of the [`Style`]s (large,
//! blurred, upright, letter-spaced, dot-matrix), over flat, speckled, gradient, document-like
//! or real backgrounds, with noise, as 8- or 16-bit grey or RGB. A real colour background
//! (colour flow, a photograph) is drawn in colour under RGB scenes (a third of which are drawn on
//! one) and as its luminance under grey ones; text on it is white, coloured, or of the
//! background's own hue. A pixel is a text pixel when the
//! glyph covers at least half of it. The strings look like what scanners burn in (names in
//! Latin and Japanese, IDs, dates, times) and are all fictional.
//!
//! Not used when de-identifying; it lives in the library so tests, examples and benches share it.

use super::rules::Rect;
use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

/// Folders searched for fonts.
pub const FONT_DIRS: &[&str] = &["/usr/share/fonts/truetype", "/usr/share/fonts/opentype"];

/// A loaded font.
pub struct TextFont {
    /// The file name (for reports).
    pub name: String,
    font: FontVec,
    /// Whether it has Japanese glyphs.
    pub cjk: bool,
}

impl std::fmt::Debug for TextFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextFont").field("name", &self.name).field("cjk", &self.cjk).finish()
    }
}

impl TextFont {
    /// Load a font file (TrueType or OpenType; the first face of a collection).
    pub fn load(path: &Path) -> Option<TextFont> {
        let bytes = std::fs::read(path).ok()?;
        let font = FontVec::try_from_vec_and_index(bytes, 0).ok()?;
        let has = |c: char| font.glyph_id(c).0 != 0;
        if !(has('A') && has('7') && has('^')) {
            return None;
        }
        let cjk = has('山') && has('タ');
        Some(TextFont { name: path.file_name()?.to_string_lossy().into_owned(), font, cjk })
    }
}

/// Every usable font under [`FONT_DIRS`] (sorted by path, so a seed gives the same scenes on a
/// machine with the same fonts). Symbol and math fonts without Latin digits are skipped.
pub fn system_fonts() -> Vec<TextFont> {
    let mut paths: Vec<PathBuf> = FONT_DIRS
        .iter()
        .flat_map(|d| walkdir::WalkDir::new(d).into_iter().filter_map(|e| e.ok()))
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "ttf" || x == "otf" || x == "ttc"))
        .collect();
    paths.sort();
    paths.iter().filter_map(|p| TextFont::load(p)).collect()
}

/// A rendered string: coverage in 0..1, `width` × `height`, the text starting at (0, 0).
#[derive(Debug, Clone)]
pub struct Coverage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels (ascent + descent).
    pub height: u32,
    /// Row-major coverage.
    pub alpha: Vec<f32>,
}

/// Rasterize `text` at `px` pixels per em.
pub fn render_text(font: &TextFont, text: &str, px: f32) -> Coverage {
    render_tracked(font, text, px, 0.0)
}

/// Rasterize `text` at `px` pixels per em with `tracking` em of extra space after each
/// character (letter-spaced captions), kerning left out when tracked.
pub fn render_tracked(font: &TextFont, text: &str, px: f32, tracking: f32) -> Coverage {
    let scale = PxScale::from(px);
    let scaled = font.font.as_scaled(scale);
    let ascent = scaled.ascent();
    let height = (ascent - scaled.descent()).ceil().max(1.0) as u32 + 1;
    let mut x = 0.0f32;
    let mut glyphs = Vec::new();
    let mut last = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let (Some(prev), true) = (last, tracking == 0.0) {
            x += scaled.kern(prev, id);
        }
        glyphs.push(id.with_scale_and_position(scale, point(x, ascent)));
        x += scaled.h_advance(id) + tracking * px;
        last = Some(id);
    }
    let width = x.ceil().max(1.0) as u32 + 2;
    let mut alpha = vec![0f32; (width * height) as usize];
    for g in glyphs {
        if let Some(o) = font.font.outline_glyph(g) {
            let b = o.px_bounds();
            o.draw(|gx, gy, c| {
                let (px_, py) = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                if px_ >= 0 && py >= 0 && (px_ as u32) < width && (py as u32) < height {
                    let i = (py as u32 * width + px_ as u32) as usize;
                    alpha[i] = (alpha[i] + c).min(1.0);
                }
            });
        }
    }
    Coverage { width, height, alpha }
}

/// An image with its ground truth.
#[derive(Debug, Clone)]
pub struct Scene {
    /// Rows.
    pub rows: u32,
    /// Columns.
    pub cols: u32,
    /// 1 (grey) or 3 (RGB).
    pub samples: u16,
    /// 8 or 16.
    pub bits: u16,
    /// Bits Stored: 8, 12 (the 16-bit scenes [`scene`] draws) or 16 ([`faint`]).
    pub bits_stored: u16,
    /// Window Center and Width in stored values, written to the header ([`faint`]).
    pub window: Option<(f32, f32)>,
    /// Samples in 0..1, interleaved.
    pub values: Vec<f32>,
    /// Text pixels (coverage ≥ 0.5).
    pub text: Vec<bool>,
    /// The tight box of each line of text.
    pub lines: Vec<Rect>,
    /// Text heights (pixels per em) of the lines.
    pub sizes: Vec<f32>,
    /// Whether the text is darker than its background.
    pub dark_text: bool,
    /// The kind of background.
    pub kind: Kind,
    /// Where each line is: `corner`, `edge` or `middle`.
    pub places: Vec<&'static str>,
    /// The colour each line is drawn in (`white`, `yellow`, ..., `near` for the background's own
    /// hue; grey scenes: `white` or `black`).
    pub colours: Vec<&'static str>,
    /// Which of the given backgrounds was used (for [`Kind::Real`]).
    pub background: Option<usize>,
    /// The strings drawn, line by line (fictional).
    pub texts: Vec<String>,
    /// How each line is drawn (see [`Style::name`]).
    pub styles: Vec<&'static str>,
    /// The contrast of each line against its block's mean background (0.35 to 1).
    pub contrasts: Vec<f32>,
    /// Standard deviation of the noise added to the whole scene (0 to 0.03).
    pub noise: f32,
}

impl Scene {
    /// The stored samples: little endian, 8-bit or 16-bit (0..1 is the whole range of Bits
    /// Stored).
    pub fn stored(&self) -> Vec<u8> {
        let top = ((1u32 << self.bits_stored) - 1) as f32;
        match self.bits {
            8 => self.values.iter().map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8).collect(),
            _ => self.values.iter().flat_map(|v| ((v.clamp(0.0, 1.0) * top).round() as u16).to_le_bytes()).collect(),
        }
    }
}

/// A background image in 0..1 (e.g. a real image), tiled over the scene: grey, or colour with
/// its grey (luminance) beside it.
#[derive(Debug, Clone)]
pub struct Background {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Row-major grey values in 0..1 (for a colour image, its luminance): what grey scenes are
    /// drawn on.
    pub values: Vec<f32>,
    /// For a colour image, row-major RGB in 0..1: what RGB scenes are drawn on.
    pub rgb: Option<Vec<[f32; 3]>>,
}

impl Background {
    /// The index of (x, y) in the image tiled by mirroring (so any scene size is covered at the
    /// image's own resolution).
    fn index(&self, x: u32, y: u32) -> usize {
        let mirror = |v: u32, n: u32| {
            let p = v % (2 * n);
            if p < n { p } else { 2 * n - 1 - p }
        };
        (mirror(y, self.height) * self.width + mirror(x, self.width)) as usize
    }

    /// The grey value at (x, y) of the tiled image.
    fn at(&self, x: u32, y: u32) -> f32 {
        self.values[self.index(x, y)]
    }
}

const FAMILY: &[&str] = &[
    "YAMADA",
    "SATO",
    "SUZUKI",
    "TAKAHASHI",
    "TANAKA",
    "WATANABE",
    "ITO",
    "NAKAMURA",
    "KOBAYASHI",
    "KATO",
    "SMITH",
    "GARCIA",
    "MULLER",
    "OKAFOR",
];
const GIVEN: &[&str] =
    &["TARO", "HANAKO", "KENJI", "YUKI", "AKIRA", "MEI", "HIROSHI", "SAKURA", "JOHN", "MARIA", "LENA"];
const KANJI: &[&str] =
    &["山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲", "ヤマダ タロウ", "サトウ ハナコ", "田中 健二"];

/// Colours of light text in RGB scenes (as scanners draw annotations), with their names.
const LIGHT_COLOURS: [([f32; 3], &str); 6] = [
    ([1.0, 1.0, 1.0], "white"),
    ([1.0, 1.0, 0.2], "yellow"),
    ([0.3, 1.0, 0.3], "green"),
    ([0.3, 0.9, 1.0], "cyan"),
    ([1.0, 0.6, 0.1], "orange"),
    ([0.6, 0.7, 1.0], "light blue"),
];

/// Colours of dark text in RGB scenes.
const DARK_COLOURS: [([f32; 3], &str); 3] =
    [([0.0, 0.0, 0.0], "black"), ([0.05, 0.05, 0.45], "dark blue"), ([0.45, 0.0, 0.0], "dark red")];

/// A fictional identifier line, like a scanner's banner.
fn random_text(rng: &mut StdRng, cjk: bool) -> String {
    let f = FAMILY[rng.random_range(0..FAMILY.len())];
    let g = GIVEN[rng.random_range(0..GIVEN.len())];
    let digits =
        |rng: &mut StdRng, n: usize| (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect::<String>();
    let date = |rng: &mut StdRng| {
        format!("{}/{:02}/{:02}", rng.random_range(1930..2024), rng.random_range(1..13), rng.random_range(1..29))
    };
    match rng.random_range(0..11) {
        0 => format!("{f}^{g}"),
        1 => format!("{f}, {g}"),
        2 => {
            let t = |s: &str| s[..1].to_string() + &s[1..].to_lowercase();
            format!("{} {}", t(g), t(f))
        }
        3 => {
            let n = rng.random_range(6..11);
            digits(rng, n)
        }
        4 => {
            let n = rng.random_range(6..11);
            format!("ID: {}", digits(rng, n))
        }
        5 => date(rng),
        6 => format!("DOB: {}", date(rng)),
        7 => format!(
            "{} {:02}:{:02}:{:02}",
            date(rng),
            rng.random_range(0..24),
            rng.random_range(0..60),
            rng.random_range(0..60)
        ),
        8 if cjk => KANJI[rng.random_range(0..KANJI.len())].to_string(),
        8 => format!("{f} {g}"),
        9 => {
            format!("{} {}Y {}", digits(rng, 8), rng.random_range(1..99), if rng.random_bool(0.5) { "M" } else { "F" })
        }
        _ => format!("Acc# {}", digits(rng, 7)),
    }
}

/// How a block of text is drawn: plain, or in one of the ways screens and scanners also print
/// text that plain glyphs of 8 to 40 pixels per em do not show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// Sharp glyphs, as drawn before the other styles were measured.
    Plain,
    /// Glyphs 40 to 56 pixels per em (capitals about 29 to 40 pixels high).
    Large,
    /// Blurred by a Gaussian of this standard deviation (pixels), as analog video capture or a
    /// rescaled screenshot leaves text.
    Soft(f32),
    /// Turned upright, clockwise or not (side labels).
    Vertical(bool),
    /// Letter-spaced by this share of an em after each character.
    Tracked(f32),
    /// Dot-matrix: only the pixels on a grid of this step, in dots of this side, are lit.
    Dotted(u32, u32),
}

impl Style {
    /// One style: plain for 60 % of blocks, each other style for 8 %.
    fn pick(rng: &mut StdRng) -> Style {
        match rng.random_range(0..25) {
            0..=14 => Style::Plain,
            15 | 16 => Style::Large,
            17 | 18 => Style::Soft(rng.random_range(0.6..=2.0f32)),
            19 | 20 => Style::Vertical(rng.random_bool(0.5)),
            21 | 22 => Style::Tracked(rng.random_range(0.25..=1.0f32)),
            _ => {
                let (step, dot) = [(2, 1), (3, 1), (3, 2), (4, 2)][rng.random_range(0..4)];
                Style::Dotted(step, dot)
            }
        }
    }

    /// The text size (pixels per em) of a block drawn in this style, from the plain `px`:
    /// large text is larger, and blurred or dotted text is at least as large as one can read
    /// it (thinner strokes vanish).
    fn size(&self, rng: &mut StdRng, px: f32) -> f32 {
        match self {
            Style::Large => rng.random_range(40.0..=56.0f32),
            Style::Soft(sigma) => px.max(12.0 * sigma).max(14.0),
            Style::Dotted(step, _) => px.max(8.0 * *step as f32),
            _ => px,
        }
    }

    /// `text` rendered in this style at `px` pixels per em.
    fn render(&self, font: &TextFont, text: &str, px: f32) -> Coverage {
        match *self {
            Style::Plain | Style::Large => render_text(font, text, px),
            Style::Soft(sigma) => blur(&render_text(font, text, px), sigma),
            Style::Vertical(clockwise) => rotate(&render_text(font, text, px), clockwise),
            Style::Tracked(em) => render_tracked(font, text, px, em),
            Style::Dotted(step, dot) => dots(&render_text(font, text, px), step, dot),
        }
    }

    /// The name used in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Style::Plain => "plain",
            Style::Large => "large",
            Style::Soft(_) => "soft",
            Style::Vertical(_) => "vertical",
            Style::Tracked(_) => "tracked",
            Style::Dotted(..) => "dotted",
        }
    }
}

/// `c` blurred by a Gaussian of standard deviation `sigma`, with a border of three deviations
/// so nothing is cut off.
fn blur(c: &Coverage, sigma: f32) -> Coverage {
    let r = (3.0 * sigma).ceil() as i32;
    let kernel: Vec<f32> = (-r..=r).map(|d| (-(d * d) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let total: f32 = kernel.iter().sum();
    let (w, h) = (c.width as i32 + 2 * r, c.height as i32 + 2 * r);
    let at = |x: i32, y: i32| {
        let (x, y) = (x - r, y - r);
        if x < 0 || y < 0 || x >= c.width as i32 || y >= c.height as i32 {
            0.0
        } else {
            c.alpha[(y * c.width as i32 + x) as usize]
        }
    };
    let mut rows = vec![0f32; (w * h) as usize];
    for y in 0..h {
        for x in 0..w {
            rows[(y * w + x) as usize] = (-r..=r).map(|d| at(x + d, y) * kernel[(d + r) as usize]).sum::<f32>() / total;
        }
    }
    let mut alpha = vec![0f32; (w * h) as usize];
    for y in 0..h {
        for x in 0..w {
            alpha[(y * w + x) as usize] = (-r..=r)
                .filter(|d| (0..h).contains(&(y + d)))
                .map(|d| rows[((y + d) * w + x) as usize] * kernel[(d + r) as usize])
                .sum::<f32>()
                / total;
        }
    }
    Coverage { width: w as u32, height: h as u32, alpha }
}

/// `c` turned a quarter, clockwise or anticlockwise.
fn rotate(c: &Coverage, clockwise: bool) -> Coverage {
    let (w, h) = (c.height, c.width);
    let mut alpha = vec![0f32; (w * h) as usize];
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = if clockwise { (y, c.height - 1 - x) } else { (c.width - 1 - y, x) };
            alpha[(y * w + x) as usize] = c.alpha[(sy * c.width + sx) as usize];
        }
    }
    Coverage { width: w, height: h, alpha }
}

/// `c` as dot-matrix text: a glyph pixel (coverage at least half) on the grid of `step`, in
/// dots of side `dot`, is fully lit; every other pixel is dark.
fn dots(c: &Coverage, step: u32, dot: u32) -> Coverage {
    let mut out = c.clone();
    for (i, a) in out.alpha.iter_mut().enumerate() {
        let (x, y) = (i as u32 % c.width, i as u32 / c.width);
        let lit = x % step < dot && y % step < dot && *a >= 0.5;
        *a = if lit { 1.0 } else { 0.0 };
    }
    out
}

/// Kinds of background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Black with a faint noise floor (ultrasound and angiography borders).
    Flat,
    /// An ultrasound-like fan of speckle on black.
    Speckle,
    /// Smooth shading.
    Gradient,
    /// A light page (scanned documents, screenshots): text is dark.
    Document,
    /// One of the given real images.
    Real,
}

/// Generate one scene from a seed. `backgrounds` are real images to draw on (may be empty);
/// `fonts` must not be empty.
///
/// # Panics
/// If `fonts` is empty.
pub fn scene(seed: u64, fonts: &[TextFont], backgrounds: &[Background]) -> Scene {
    let mut rng = StdRng::seed_from_u64(seed);
    let cols = rng.random_range(256..=1024u32) & !1;
    let rows = (cols as f32 * rng.random_range(0.6..1.0f32)) as u32 & !1;
    let samples = if rng.random_bool(0.35) { 3 } else { 1 };
    let bits = if samples == 1 && rng.random_bool(0.4) { 16 } else { 8 };
    let kinds = [Kind::Flat, Kind::Speckle, Kind::Gradient, Kind::Document, Kind::Real];
    // A third of RGB scenes are drawn over a real colour image (colour flow, a photograph), so
    // white and coloured text over saturated colour is measured too.
    let colour_backgrounds: Vec<usize> = (0..backgrounds.len()).filter(|&i| backgrounds[i].rgb.is_some()).collect();
    let on_colour = samples == 3 && !colour_backgrounds.is_empty() && rng.random_bool(0.3);
    let mut kind = if on_colour { Kind::Real } else { kinds[rng.random_range(0..kinds.len())] };
    if kind == Kind::Real && backgrounds.is_empty() {
        kind = Kind::Speckle;
    }
    let n = (rows * cols) as usize;
    let mut grey = vec![0f32; n];
    let mut background = None;
    // An RGB scene over a colour image: the image's own colours, tiled as `grey` is.
    let mut colour_tiled: Option<Vec<[f32; 3]>> = None;
    match kind {
        Kind::Flat => grey.iter_mut().for_each(|v| *v = rng.random_range(0.0..0.03)),
        Kind::Speckle => {
            let (cx, top) = (cols as f32 / 2.0, rows as f32 * 0.08);
            let radius = rows as f32 * 0.9;
            let half_angle = rng.random_range(0.4..0.8f32);
            for y in 0..rows {
                for x in 0..cols {
                    let (dx, dy) = (x as f32 - cx, y as f32 - top);
                    let r = (dx * dx + dy * dy).sqrt();
                    let inside = dy > 0.0 && r < radius && (dx / dy.max(1.0)).atan().abs() < half_angle;
                    grey[(y * cols + x) as usize] = if inside {
                        let s: f32 = rng.random_range(0.0..1.0f32);
                        (0.15 + 0.6 * s * s) * (1.0 - r / radius * 0.5)
                    } else {
                        rng.random_range(0.0..0.02)
                    };
                }
            }
            // Speckle grains are a few pixels wide: smooth a little.
            grey = box_blur(&grey, cols, rows, 1);
        }
        Kind::Gradient => {
            let (a, b) = (rng.random_range(0.0..0.5f32), rng.random_range(0.0..0.5f32));
            for y in 0..rows {
                for x in 0..cols {
                    let fx = x as f32 / cols as f32;
                    let fy = y as f32 / rows as f32;
                    grey[(y * cols + x) as usize] = 0.1 + a * fx + b * (fy * 6.0).sin().abs() * 0.5;
                }
            }
        }
        Kind::Document => grey.iter_mut().for_each(|v| *v = rng.random_range(0.85..0.95)),
        Kind::Real => {
            let which = if on_colour {
                colour_backgrounds[rng.random_range(0..colour_backgrounds.len())]
            } else {
                rng.random_range(0..backgrounds.len())
            };
            background = Some(which);
            let bg = &backgrounds[which];
            let (ox, oy) = (rng.random_range(0..bg.width), rng.random_range(0..bg.height));
            for y in 0..rows {
                for x in 0..cols {
                    grey[(y * cols + x) as usize] = bg.at(x + ox, y + oy);
                }
            }
            if let (Some(rgb), true) = (&bg.rgb, samples == 3) {
                let mut tiled = Vec::with_capacity(n);
                for y in 0..rows {
                    for x in 0..cols {
                        tiled.push(rgb[bg.index(x + ox, y + oy)]);
                    }
                }
                colour_tiled = Some(tiled);
            }
        }
    }
    let mut values = vec![0f32; n * samples as usize];
    for (i, g) in grey.iter().enumerate() {
        for s in 0..samples as usize {
            values[i * samples as usize + s] = colour_tiled.as_ref().map_or(*g, |c| c[i][s]);
        }
    }
    let dark_text = kind == Kind::Document || rng.random_bool(0.15);
    let mut text = vec![false; n];
    let mut lines = Vec::new();
    let mut sizes = Vec::new();
    let mut places = Vec::new();
    let mut colours = Vec::new();
    let mut texts = Vec::new();
    let mut styles = Vec::new();
    let mut contrasts = Vec::new();
    // The style of each block comes from a generator of its own, so the plain blocks of a seed
    // are the ones drawn before styles were measured.
    let mut style_rng = StdRng::seed_from_u64(seed ^ 0x5354_594c_4553);
    let blocks = rng.random_range(1..=3);
    for _ in 0..blocks {
        let font = &fonts[rng.random_range(0..fonts.len())];
        let style = Style::pick(&mut style_rng);
        let px = style.size(&mut style_rng, rng.random_range(8.0..=40.0f32));
        let count = rng.random_range(1..=3);
        let strings: Vec<String> = (0..count).map(|_| random_text(&mut rng, font.cjk)).collect();
        let rendered: Vec<Coverage> = strings.iter().map(|t| style.render(font, t, px)).collect();
        // Lines are stacked, or side by side when turned upright.
        let vertical = matches!(style, Style::Vertical(_));
        let (bw, bh) = if vertical {
            (rendered.iter().map(|c| c.width).sum(), rendered.iter().map(|c| c.height).max().unwrap_or(1))
        } else {
            (rendered.iter().map(|c| c.width).max().unwrap_or(1), rendered.iter().map(|c| c.height).sum())
        };
        if bw + 8 >= cols || bh + 8 >= rows {
            continue;
        }
        let m = rng.random_range(2..20u32);
        let spot = rng.random_range(0..9);
        let place = match spot {
            0..=3 => "corner",
            4..=7 => "edge",
            _ => "middle",
        };
        // A block nearly as wide (or tall) as the image sits where it fits: the margin never
        // pushes it outside, and the middle spot is drawn from a range that is never empty.
        let (right, bottom) = ((cols - bw).saturating_sub(m), (rows - bh).saturating_sub(m));
        let (x, y) = match spot {
            0 => (m, m),
            1 => (right, m),
            2 => (m, bottom),
            3 => (right, bottom),
            4 => ((cols - bw) / 2, m),
            5 => ((cols - bw) / 2, bottom),
            6 => (m, (rows - bh) / 2),
            7 => (right, (rows - bh) / 2),
            _ => {
                let within = |rng: &mut StdRng, free: u32| {
                    if free > 2 * m { rng.random_range(m..free - m) } else { free / 2 }
                };
                (within(&mut rng, cols - bw), within(&mut rng, rows - bh))
            }
        };
        // A block nearly as wide or high as the image stays inside it however large the margin.
        let (x, y) = (x.min(cols - bw), y.min(rows - bh));
        // Skip a block that would overlap one already drawn (the ground truth stays exact).
        let block = Rect::new(x, y, bw, bh);
        if lines.iter().any(|l: &Rect| l.grow(4, cols, rows).intersects(&block)) {
            continue;
        }
        // The block's mean background, grey and per sample.
        let local: f32 = {
            let mut s = 0.0;
            for yy in y..y + bh {
                for xx in x..x + bw {
                    s += grey[(yy * cols + xx) as usize];
                }
            }
            s / (bw * bh) as f32
        };
        let mut local_colour = [local; 3];
        if let Some(c) = &colour_tiled {
            let mut s = [0.0f32; 3];
            for yy in y..y + bh {
                for xx in x..x + bw {
                    let p = c[(yy * cols + xx) as usize];
                    (0..3).for_each(|k| s[k] += p[k]);
                }
            }
            local_colour = s.map(|v| v / (bw * bh) as f32);
        }
        let contrast = rng.random_range(0.35..=1.0f32);
        let (colour, colour_name) = if samples == 3 {
            let k = rng.random_range(0..if dark_text { DARK_COLOURS.len() } else { LIGHT_COLOURS.len() } + 1);
            let brightest = local_colour.into_iter().fold(0.0f32, f32::max);
            match (dark_text, k) {
                (false, k) if k < LIGHT_COLOURS.len() => LIGHT_COLOURS[k],
                (true, k) if k < DARK_COLOURS.len() => DARK_COLOURS[k],
                // The background's own hue: at full brightness for light text, darker for dark.
                (false, _) if brightest > 0.02 => (local_colour.map(|v| v / brightest), "near"),
                (false, _) => ([1.0; 3], "near"),
                (true, _) => (local_colour.map(|v| v * 0.3), "near dark"),
            }
        } else if dark_text {
            ([0.0; 3], "black")
        } else {
            ([1.0; 3], "white")
        };
        // A label patch behind dark text on a dark background, so the text can be read.
        let patch = dark_text && local < 0.5;
        let (mut cx, mut cy) = (x, y);
        for (c, string) in rendered.iter().zip(&strings) {
            let mut ink_box: Option<Rect> = None;
            for gy in 0..c.height {
                for gx in 0..c.width {
                    let (px_, py) = (cx + gx, cy + gy);
                    if px_ >= cols || py >= rows {
                        continue;
                    }
                    let i = (py * cols + px_) as usize;
                    let a = c.alpha[(gy * c.width + gx) as usize];
                    for s in 0..samples as usize {
                        let v = &mut values[i * samples as usize + s];
                        if patch {
                            *v = 0.9;
                        }
                        // Burned-in text is opaque: one colour per block, its contrast taken
                        // against the block's mean background.
                        let under = if patch { 0.9 } else { local_colour[s] };
                        let target = under + contrast * (colour[s] - under);
                        *v = *v * (1.0 - a) + target * a;
                    }
                    if a >= 0.5 {
                        text[i] = true;
                        let p = Rect::new(px_, py, 1, 1);
                        ink_box = Some(ink_box.map_or(p, |b| b.union(&p)));
                    }
                }
            }
            if let Some(b) = ink_box {
                lines.push(b);
                sizes.push(px);
                places.push(place);
                colours.push(colour_name);
                texts.push(string.clone());
                styles.push(style.name());
                contrasts.push(contrast);
            }
            if vertical {
                cx += c.width;
            } else {
                cy += c.height;
            }
        }
    }
    let noise = [0.0, 0.005, 0.01, 0.02, 0.03][rng.random_range(0..5)];
    if noise > 0.0 {
        for v in values.iter_mut() {
            // Approximately normal: the sum of four uniforms.
            let u: f32 = (0..4).map(|_| rng.random_range(-1.0..1.0f32)).sum::<f32>() * 0.866;
            *v = (*v + u * noise).clamp(0.0, 1.0);
        }
    }
    Scene {
        rows,
        cols,
        samples,
        bits,
        bits_stored: if bits == 8 { 8 } else { 12 },
        window: None,
        values,
        text,
        lines,
        sizes,
        dark_text,
        kind,
        places,
        colours,
        background,
        texts,
        styles,
        contrasts,
        noise,
    }
}

/// The scene as a native Explicit VR Little Endian DICOM file (a Secondary Capture that declares
/// burned-in annotation), for running the real cleaning path on it. With `header`, the first
/// two strings drawn are also the Patient's Name and Patient ID of the header, as when a scanner
/// prints the patient's own data (the detector's hints).
pub fn to_file_with(scene: &Scene, header: bool) -> crate::read::DicomFile {
    use crate::dataset::{Element, VR};
    use dicom_dictionary_std::tags;
    let mut f = to_file(scene);
    if header {
        for (tag, vr, text) in
            [(tags::PATIENT_NAME, VR::PN, scene.texts.first()), (tags::PATIENT_ID, VR::LO, scene.texts.get(1))]
        {
            if let Some(t) = text {
                f.dataset.put(Element::new(tag, vr, t.replace(' ', "^").into_bytes()));
            }
        }
        f.dataset.put(Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"ISO_IR 192".to_vec()));
    }
    f
}

/// [`to_file_with`] without header hints.
pub fn to_file(scene: &Scene) -> crate::read::DicomFile {
    use crate::dataset::{DataSet, Element, VR};
    use dicom_dictionary_std::tags;
    let us = |v: u16| v.to_le_bytes().to_vec();
    let (stored, high) = (scene.bits_stored, scene.bits_stored - 1);
    let pi: &[u8] = if scene.samples == 3 { b"RGB " } else { b"MONOCHROME2 " };
    let mut ds = DataSet::from_elements([
        Element::new(tags::SOP_CLASS_UID, VR::UI, b"1.2.840.10008.5.1.4.1.1.7\0".to_vec()),
        Element::new(tags::SOP_INSTANCE_UID, VR::UI, b"2.25.1\0".to_vec()),
        Element::new(tags::MODALITY, VR::CS, b"OT".to_vec()),
        Element::new(tags::BURNED_IN_ANNOTATION, VR::CS, b"YES ".to_vec()),
        Element::new(tags::SAMPLES_PER_PIXEL, VR::US, us(scene.samples)),
        Element::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, pi.to_vec()),
        Element::new(tags::ROWS, VR::US, us(scene.rows as u16)),
        Element::new(tags::COLUMNS, VR::US, us(scene.cols as u16)),
        Element::new(tags::BITS_ALLOCATED, VR::US, us(scene.bits)),
        Element::new(tags::BITS_STORED, VR::US, us(stored)),
        Element::new(tags::HIGH_BIT, VR::US, us(high)),
        Element::new(tags::PIXEL_REPRESENTATION, VR::US, us(0)),
        Element::new(tags::PIXEL_DATA, if scene.bits == 8 { VR::OB } else { VR::OW }, scene.stored()),
    ]);
    if scene.samples == 3 {
        ds.put(Element::new(tags::PLANAR_CONFIGURATION, VR::US, us(0)));
    }
    if let Some((center, width)) = scene.window {
        let even = |v: f32| {
            let mut s = format!("{v:.0}");
            if s.len() % 2 == 1 {
                s.push(' ');
            }
            s.into_bytes()
        };
        ds.put(Element::new(tags::WINDOW_CENTER, VR::DS, even(center)));
        ds.put(Element::new(tags::WINDOW_WIDTH, VR::DS, even(width)));
    }
    let ts = crate::transfer::TransferSyntax::explicit_le();
    let meta =
        DataSet::from_elements([Element::new(tags::TRANSFER_SYNTAX_UID, VR::UI, format!("{}\0", ts.uid).into_bytes())]);
    crate::read::DicomFile {
        meta,
        dataset: ds,
        transfer_syntax: ts,
        had_meta: true,
        notes: Vec::new(),
        source_stamp: None,
    }
}

/// Where [`faint`] puts the scene's values: from 20% of the stored range ...
const FAINT_BASE: f32 = 0.2;
/// ... over 15% of it.
const FAINT_SPAN: f32 = 0.15;

/// A grey scene as a 12- or 16-bit radiograph shows burned-in text: its values squeezed into a
/// narrow band of the stored range (20% to 35%, as anatomy of a CR is 800..1400 of 4096), and a
/// bright marker (a square at the top of the range, away from the text) so the image's full
/// range is four times wider than that band. Through a window over the band (a viewer's) it is
/// the scene as drawn; mapped by its full range, its text is a fifth as contrasted. `bits_stored`
/// is 12 or 16 (16 bits allocated); with `window`, Window Center and Width over the band are in
/// the header, without it a viewer would window to the bulk of the values. Text and lines are
/// the scene's; the marker is not text.
///
/// # Panics
/// If the scene is not grey or `bits_stored` is not 9 to 16.
pub fn faint(scene: &Scene, bits_stored: u16, window: bool) -> Scene {
    assert!(scene.samples == 1 && (9..=16).contains(&bits_stored), "a grey scene, 9 to 16 bits stored");
    let mut out = scene.clone();
    out.bits = 16;
    out.bits_stored = bits_stored;
    out.values.iter_mut().for_each(|v| *v = FAINT_BASE + FAINT_SPAN * v.clamp(0.0, 1.0));
    let (cols, rows) = (scene.cols, scene.rows);
    let side = (cols.min(rows) / 12).max(8);
    let corners = [(4, 4), (cols - side - 4, 4), (4, rows - side - 4), (cols - side - 4, rows - side - 4)];
    let free = corners
        .into_iter()
        .map(|(x, y)| Rect::new(x, y, side, side))
        .find(|m| !scene.lines.iter().any(|l| l.grow(side / 2 + 4, cols, rows).intersects(m)));
    if let Some(m) = free {
        for y in m.y..m.bottom() {
            for x in m.x..m.right() {
                out.values[(y * cols + x) as usize] = 1.0;
            }
        }
    }
    let top = ((1u32 << bits_stored) - 1) as f32;
    out.window = window.then(|| ((FAINT_BASE + FAINT_SPAN / 2.0) * top, FAINT_SPAN * top));
    out
}

fn box_blur(v: &[f32], w: u32, h: u32, r: i32) -> Vec<f32> {
    let mut out = vec![0f32; v.len()];
    for y in 0..h as i32 {
        for x in 0..w as i32 {
            let mut s = 0.0;
            let mut n = 0.0;
            for dy in -r..=r {
                for dx in -r..=r {
                    let (xx, yy) = (x + dx, y + dy);
                    if xx >= 0 && yy >= 0 && xx < w as i32 && yy < h as i32 {
                        s += v[(yy as u32 * w + xx as u32) as usize];
                        n += 1.0;
                    }
                }
            }
            out[(y as u32 * w + x as u32) as usize] = s / n;
        }
    }
    out
}

/// Recall and collateral of a set of blanked boxes on a scene.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    /// Text pixels.
    pub text: u64,
    /// Text pixels inside a blanked box.
    pub text_blanked: u64,
    /// Pixels outside the text lines (each grown by the allowed margin, a quarter of its height,
    /// or of its width for a vertical line, and at least 2 pixels).
    pub background: u64,
    /// Of those, pixels inside a blanked box.
    pub background_blanked: u64,
    /// Pixels that are not text pixels at all.
    pub non_text: u64,
    /// Of those, pixels inside a blanked box (between glyphs included).
    pub non_text_blanked: u64,
}

impl Score {
    /// Measure `boxes` on `scene`.
    pub fn of(scene: &Scene, boxes: &[Rect]) -> Score {
        let (w, h) = (scene.cols, scene.rows);
        let mut blanked = vec![false; (w * h) as usize];
        for b in boxes {
            if let Some(b) = b.clip(w, h) {
                for y in b.y..b.bottom() {
                    for x in b.x..b.right() {
                        blanked[(y * w + x) as usize] = true;
                    }
                }
            }
        }
        let mut allowed = vec![false; (w * h) as usize];
        for l in &scene.lines {
            let g = l.grow((l.height.min(l.width) / 4).max(2), w, h);
            for y in g.y..g.bottom() {
                for x in g.x..g.right() {
                    allowed[(y * w + x) as usize] = true;
                }
            }
        }
        let mut s = Score::default();
        for i in 0..(w * h) as usize {
            if scene.text[i] {
                s.text += 1;
                s.text_blanked += blanked[i] as u64;
            } else {
                s.non_text += 1;
                s.non_text_blanked += blanked[i] as u64;
            }
            if !allowed[i] {
                s.background += 1;
                s.background_blanked += blanked[i] as u64;
            }
        }
        s
    }

    /// Add another score.
    pub fn add(&mut self, o: &Score) {
        self.text += o.text;
        self.text_blanked += o.text_blanked;
        self.background += o.background;
        self.background_blanked += o.background_blanked;
        self.non_text += o.non_text;
        self.non_text_blanked += o.non_text_blanked;
    }

    /// Share of text pixels blanked.
    pub fn recall(&self) -> f64 {
        if self.text == 0 { 1.0 } else { self.text_blanked as f64 / self.text as f64 }
    }

    /// Share of pixels outside the text lines (with margin) that were blanked.
    pub fn collateral(&self) -> f64 {
        if self.background == 0 { 0.0 } else { self.background_blanked as f64 / self.background as f64 }
    }

    /// Share of non-text pixels blanked (the gaps between glyphs and the margins included).
    pub fn collateral_strict(&self) -> f64 {
        if self.non_text == 0 { 0.0 } else { self.non_text_blanked as f64 / self.non_text as f64 }
    }
}

/// The system fonts for a test that draws text, or `None` after a line saying it was skipped
/// (no fonts installed: `.ci/run` installs Debian's font packages).
#[cfg(test)]
pub(crate) fn fonts_or_skip() -> Option<Vec<TextFont>> {
    let fonts = system_fonts();
    if fonts.is_empty() {
        crate::say!("test skipped: no fonts under {FONT_DIRS:?} (.ci/run installs them)");
        return None;
    }
    Some(fonts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenes_are_reproducible_and_have_text() {
        let Some(fonts) = fonts_or_skip() else { return };
        let a = scene(7, &fonts, &[]);
        let b = scene(7, &fonts, &[]);
        assert_eq!(a.values, b.values);
        assert!(a.text.iter().any(|&t| t));
        assert!(!a.lines.is_empty());
        let s = Score::of(&a, &a.lines);
        assert!(s.recall() > 0.999, "{s:?}");
        assert_eq!(s.collateral(), 0.0);
    }

    #[test]
    fn rgb_scenes_are_drawn_over_colour_backgrounds_in_colour_and_grey_ones_in_grey() {
        let Some(fonts) = fonts_or_skip() else { return };
        // A saturated red image and its luminance.
        let (w, h) = (64, 48);
        let red = Background {
            width: w,
            height: h,
            values: vec![0.299 * 0.9; 64 * 48],
            rgb: Some(vec![[0.9, 0.0, 0.0]; 64 * 48]),
        };
        // The mean of sample `s` away from the text: outside every line grown by its thickness,
        // where neither a blurred glyph's halo nor a label patch behind dark text reaches.
        let mean = |sc: &Scene, s: usize| {
            let n = sc.samples as usize;
            let near: Vec<Rect> =
                sc.lines.iter().map(|l| l.grow(l.height.min(l.width) + 4, sc.cols, sc.rows)).collect();
            let (mut sum, mut count) = (0.0, 0usize);
            for i in 0..sc.text.len() {
                let p = Rect::new(i as u32 % sc.cols, i as u32 / sc.cols, 1, 1);
                if !near.iter().any(|r| r.contains(&p)) {
                    sum += sc.values[i * n + s] as f64;
                    count += 1;
                }
            }
            sum / count as f64
        };
        let (mut rgb_seen, mut grey_seen) = (false, false);
        for seed in 0..200 {
            let sc = scene(seed, &fonts, std::slice::from_ref(&red));
            if sc.background.is_none() {
                continue;
            }
            if sc.samples == 3 {
                rgb_seen = true;
                assert!(mean(&sc, 0) > 0.75 && mean(&sc, 1) < 0.2, "seed {seed}: not red");
            } else {
                grey_seen = true;
                assert!((mean(&sc, 0) - 0.299 * 0.9).abs() < 0.05, "seed {seed}: not the luminance");
            }
            assert_eq!(sc.colours.len(), sc.lines.len());
        }
        assert!(rgb_seen && grey_seen);
    }

    #[test]
    fn a_faint_scene_keeps_its_text_in_a_narrow_band_under_a_bright_marker() {
        let Some(fonts) = fonts_or_skip() else { return };
        let grey = (0..50).map(|s| scene(s, &fonts, &[])).find(|s| s.samples == 1).expect("a grey scene");
        let f = faint(&grey, 16, true);
        assert_eq!(
            (f.bits, f.bits_stored, f.text.clone(), f.lines.clone()),
            (16, 16, grey.text.clone(), grey.lines.clone())
        );
        let (c, w) = f.window.unwrap();
        assert!((c - 0.275 * 65535.0).abs() < 1.0 && (w - 0.15 * 65535.0).abs() < 1.0);
        let words: Vec<u16> = f.stored().chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
        assert_eq!(words.iter().max(), Some(&65535), "the marker");
        let text_max = words.iter().zip(&f.text).filter(|(_, t)| **t).map(|(v, _)| *v).max().unwrap();
        assert!(text_max <= (0.35 * 65535.0) as u16 + 1, "{text_max}");
        let file = to_file(&faint(&grey, 12, false));
        assert_eq!(file.dataset.us(dicom_dictionary_std::tags::BITS_STORED, false), Some(12));
        assert!(file.dataset.get(dicom_dictionary_std::tags::WINDOW_CENTER).is_none());
    }
}
