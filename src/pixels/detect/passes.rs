//! Further searches of a plane for text the plain search cannot see: strokes too soft or too
//! dim beside the frame's range, glyphs too large, lines written vertically, and glyphs made of
//! separate dots.
//!
//! Each pass transforms the plane (normalises its local contrast, shrinks it, transposes it, or
//! joins the dots of dot-matrix glyphs),
//! runs the plain search ([`Detector::detect_plane`]) on the result, and maps the lines found
//! back to the frame. A transformed plane shows anatomy in new ways too (a shrunken texture,
//! an amplified faint structure), so these passes keep only lines that are text by their own
//! evidence and stand in quiet surroundings: they add plain text on a plain background, where
//! scanners and screens print the patient's data. A vertical line with several glyphs (seven)
//! and all the evidence busy surroundings ask for at once is kept wherever it stands (speckle,
//! anatomy), as the plain search keeps such a line. Dot-matrix text is also searched in the
//! plane's isolated dots alone, where speckle and anatomy leave nothing; a line found there
//! must have its dots on one lattice, with few dots around it. They never remove what the
//! plain search found.

use super::super::rules::Rect;
use super::{Busy, Detector, Found, Hints};
use image::GrayImage;
use imageproc::morphology::grayscale_dilate;

/// Side of the blocks a plane's local range is taken over.
const BLOCK: u32 = 8;

/// How many blocks to each side the neighbourhood of a pixel reaches: about two glyphs of the
/// largest size searched.
const REACH: usize = 3;

/// Smallest local range (0-255) normalised to the full scale: a flatter neighbourhood is noise
/// or shading, and amplifying it more would make strokes of it.
const LEAST_RANGE: f32 = 32.0;

/// Share of the local range from which a pixel counts as fully lit: soft (blurred) strokes get
/// a flat top, as drawn strokes have.
const LIT: f32 = 0.75;

/// Factors a plane is shrunk by to find glyphs taller than the plain search's largest.
const SHRINK: [u32; 2] = [2, 4];

/// Glyph band height (pixels of the frame) from which a line found in a shrunk plane counts:
/// smaller text is the plain search's.
const LARGE: u32 = 36;

impl Detector {
    /// Lines the plain search of `plane` misses: soft or locally dim strokes, large glyphs,
    /// vertical lines. Boxes are in the frame's pixels, not grown by a margin.
    pub(super) fn detect_more(&self, plane: &GrayImage) -> Vec<Rect> {
        // Normalising amplifies noise into strokes: lines found so must stand on a background
        // flat without allowance for its noise.
        let out = self.text_lines(&normalise(plane));
        // On a shaded background (a gradient fill, a shaded page) they keep the parts of them
        // whose strokes stand out from the shading.
        let mut out: Vec<Rect> = out
            .into_iter()
            .flat_map(|r| {
                if on_plain_background(plane, &r, false) && outshines(plane, &r, LEAST_CONTRAST) {
                    vec![r]
                } else {
                    super::shading::shaded_parts(plane, &r)
                }
            })
            .collect();
        // Large glyphs leave their background between them; a row of flow or anatomy whose
        // sides alone are flat (an image's edge, its padding) fills its box with other values.
        let mut more = self.found_more(plane);
        more.retain(|r| on_plain_background(plane, r, true) && shows_background(plane, r));
        // Their ink is of one level and nothing in their box is darker than the background
        // beside it; a row of speckle or tissue rising above a plain background is neither.
        more.retain(|r| drawn_on_background(plane, r));
        out.extend(more);
        out.extend(self.vertical_lines(plane));
        out.extend(self.dot_lines(plane));
        out
    }

    /// Lines of dot-matrix glyphs: the plane searched with its dots joined ([`join_dots`]),
    /// keeping lines on a plain background, and its dots alone searched so ([`dot_map`]),
    /// keeping lines whose dots lie on one lattice ([`on_one_lattice`]) with no others around
    /// them. The map drops whatever is not a dot (speckle, anatomy, a noisy page), so such text
    /// need not stand on a plain background in the plane itself.
    fn dot_lines(&self, plane: &GrayImage) -> Vec<Rect> {
        if !dotted(plane) {
            return Vec::new();
        }
        let mut lines = self.text_lines(&join_dots(plane));
        lines.retain(|r| on_plain_background(plane, r, true));
        let dots = dot_map(plane);
        let joined = join_dots(&dots);
        let found = self.text_lines(&joined);
        let alone = found.iter().filter(|r| {
            on_one_lattice(&dots, r) && on_plain_background(&joined, r, false) && dots_apart(&dots, r, &found)
        });
        lines.extend(alone);
        lines
    }

    /// The lines of the shrunk planes (large glyphs), before their background is looked at.
    fn found_more(&self, plane: &GrayImage) -> Vec<Rect> {
        let mut out = Vec::new();
        for f in SHRINK {
            if plane.width() / f < 32 || plane.height() / f < 32 {
                break;
            }
            let small = shrink(plane, f);
            let large = self.text_lines(&small).into_iter().filter(|r| r.height * f >= LARGE);
            out.extend(large.map(|r| Rect::new(r.x * f, r.y * f, r.width * f, r.height * f)));
        }
        out
    }

    /// Vertical lines: the lines of the transposed plane that are text by their own evidence
    /// on a plain background, and those with the evidence of [`Busy::Strict`] wherever they are.
    fn vertical_lines(&self, plane: &GrayImage) -> Vec<Rect> {
        let t = transpose(plane);
        let strokes = self.strokes(&t, &t, None);
        let text = |busy| {
            let found = self.lines_of(&strokes, &t, None, &Hints::default(), busy);
            found.into_iter().filter(|l| l.found == Found::Text).map(|l| transpose_rect(&l.rect)).collect::<Vec<_>>()
        };
        let mut out = text(Busy::Dropped);
        out.retain(|r| on_plain_background(plane, r, true));
        out.extend(text(Busy::Strict));
        out
    }

    /// The lines of `plane` that are text by their own evidence, in quiet surroundings.
    fn text_lines(&self, plane: &GrayImage) -> Vec<Rect> {
        let found = self.detect_plane(plane, plane, None, &Hints::default(), Busy::Dropped);
        found.into_iter().filter(|l| l.found == Found::Text).map(|l| l.rect).collect()
    }
}

/// Spread (0-255, between the 10th and 90th percentile) of the pixels around a line up to
/// which its background is plain: flat, with at most a faint noise.
pub(super) const PLAIN: f32 = 8.0;

/// How many standard deviations of the pixel noise beside a line its background's spread may
/// add: white noise of deviation σ spreads the 10th to 90th percentile over 2.6 σ, so a flat
/// but noisy field is plain, while shading and structure larger than a pixel are not.
const NOISE_SPREAD: f32 = 3.0;

/// Largest pixel noise (standard deviation, 0-255) allowed for: about 3 % of the range, what
/// video capture and detectors leave on a flat field. A grain above it (dithering, speckle,
/// texture) is no plain background.
const MOST_NOISE: f32 = 8.0;

/// Least share of a large line's box (found in a shrunk plane) that its plain background
/// must fill: the gaps, counters and spaces between glyphs, a half or more of a line of bold
/// capitals. Rows of colour flow or anatomy whose sides happen to be flat (the image's edge,
/// the padding beside a scan) fill their box with other values (most of the evaluation's
/// such boxes hold 0.03 to 0.25 of it).
const LEAST_BACKGROUND: f64 = 0.3;

/// Fewest levels (0-255) by which a line the normalised plane shows must outshine its background
/// in the plane itself: normalising lifts a flat field's faint noise to full contrast, and
/// where that noise is quantised to a few levels (the brightest value over a cine's frames,
/// where most pixels take the noise's top value) the noise level measured is nought and chance
/// groups of it pass for strokes. Text drawn to be read differs by more.
pub(super) const LEAST_CONTRAST: u8 = 16;

/// Whether the brightest pixel of the line `r` of `plane` outshines the median of its
/// background (the strips [`on_plain_background`] looks at) by `least` levels.
fn outshines(plane: &GrayImage, r: &Rect, least: u8) -> bool {
    let (w, h) = plane.dimensions();
    let mut hist = [0u32; 256];
    let n = count(plane, &beside(plane, r), &mut hist);
    let mut acc = 0;
    let median = hist
        .iter()
        .position(|&c| {
            acc += c;
            acc * 2 >= n.max(1)
        })
        .unwrap_or(0) as u8;
    let peak = (r.y..r.bottom().min(h))
        .flat_map(|y| (r.x..r.right().min(w)).map(move |x| (x, y)))
        .map(|(x, y)| plane.get_pixel(x, y).0[0])
        .max()
        .unwrap_or(0);
    peak >= median.saturating_add(least)
}

/// Whether the line `r` of `plane` (a found box, before its margin) stands on a plain
/// background: the pixels before and after it along its direction, beyond a margin of a
/// quarter of its thickness and up to as far again as its thickness, hardly vary beyond their
/// pixel noise (with `allow_noise`, up to [`MOST_NOISE`]). Lines above or below (a text block)
/// are not looked at, unless nothing is beside the line.
pub(super) fn on_plain_background(plane: &GrayImage, r: &Rect, allow_noise: bool) -> bool {
    background(plane, r, allow_noise).is_some_and(|b| ((b.high - b.low) as f32) <= b.spread)
}

/// Whether at least [`LEAST_BACKGROUND`] of the pixels of the line `r` of `plane` are of its
/// background (the values beside it, [`background`], give or take their noise): glyphs leave
/// gaps, counters and spaces at the level of the plain background they stand on.
fn shows_background(plane: &GrayImage, r: &Rect) -> bool {
    let Some(b) = background(plane, r, true) else { return false };
    let (low, high) = (b.low as f32 - b.spread, b.high as f32 + b.spread);
    let (w, h) = plane.dimensions();
    let mut of_it = 0u64;
    for y in r.y..r.bottom().min(h) {
        for x in r.x..r.right().min(w) {
            let v = plane.get_pixel(x, y).0[0] as f32;
            of_it += u64::from(v >= low && v <= high);
        }
    }
    of_it as f64 >= LEAST_BACKGROUND * r.area() as f64
}

/// Least share of a large line's ink (its pixels brighter than the background beside it)
/// within a plain background's spread of the ink's own top level ([`drawn_on_background`]).
/// Large glyphs are drawn in one colour with strokes several pixels wide, so most of their ink
/// is at one level (0.36 to 0.96 of it in the evaluation's large lines; the rest is antialiased
/// edges). Speckle and tissue rising above a plain background in a row (the seam where two
/// mirrored ultrasound sectors meet, a row of bright anatomy) spread over many levels (0.13 to
/// 0.29 in the evaluation's stray boxes). The plain search asks the same of glyphs 16 pixels
/// high and more (their plateau); in a shrunk plane the glyphs of a large line are smaller
/// than that and were not asked.
const LEAST_FLAT_INK: f64 = 0.35;

/// Largest share of a large line's box darker than the background beside it (by more than a
/// plain background's spread; [`drawn_on_background`]). Glyphs are drawn on their background:
/// their box holds the background (gaps, counters), the ink and the antialiased edges between
/// the two, and nothing darker (none in the evaluation's large lines). The dark gaps of speckle,
/// tissue or flow that a row of it leaves between its bright parts are darker (0.12 to 0.29 of
/// the evaluation's stray boxes, in either plane).
const MOST_BELOW: f64 = 0.05;

/// Whether the line `r` of `plane` (found in a shrunk plane) is drawn on the plain background
/// beside it ([`background`]) as glyphs are: at least [`LEAST_FLAT_INK`] of its ink at one level
/// and at most [`MOST_BELOW`] of its box darker than that background. False without a
/// background or without ink.
fn drawn_on_background(plane: &GrayImage, r: &Rect) -> bool {
    let Some(b) = background(plane, r, true) else { return false };
    let (above, below) = (b.high as f32 + b.spread, b.low as f32 - b.spread);
    let (w, h) = plane.dimensions();
    let mut ink = [0u32; 256];
    let (mut inked, mut darker, mut all) = (0u32, 0u32, 0u32);
    for y in r.y..r.bottom().min(h) {
        for x in r.x..r.right().min(w) {
            let v = plane.get_pixel(x, y).0[0];
            all += 1;
            if v as f32 > above {
                ink[v as usize] += 1;
                inked += 1;
            } else if (v as f32) < below {
                darker += 1;
            }
        }
    }
    if inked == 0 || darker as f64 > MOST_BELOW * all as f64 {
        return false;
    }
    // The ink's top level: its 90th percentile.
    let mut acc = 0;
    let top = ink
        .iter()
        .position(|&c| {
            acc += c;
            acc * 10 >= inked * 9
        })
        .unwrap_or(255);
    let from = (top as f32 - b.spread).max(0.0) as usize;
    let flat: u32 = ink[from..].iter().sum();
    flat as f64 >= LEAST_FLAT_INK * inked as f64
}

/// The pixels beside a line ([`background`]): their 10th and 90th percentile, and the spread
/// a plain background may have ([`PLAIN`], plus its noise where allowed).
struct Background {
    low: u8,
    high: u8,
    spread: f32,
}

/// The background of the line `r` of `plane`: the strips before and after it along its
/// direction ([`strips`]), and above and below it when those hold few pixels; `None` when the
/// line fills the frame. With `allow_noise` the spread allows for the pixel noise measured
/// there, up to [`MOST_NOISE`].
fn background(plane: &GrayImage, r: &Rect, allow_noise: bool) -> Option<Background> {
    let mut hist = [0u32; 256];
    let looked = beside(plane, r);
    let n = count(plane, &looked, &mut hist);
    if n == 0 {
        return None;
    }
    let quantile = |q: u32| {
        let mut acc = 0;
        for (v, c) in hist.iter().enumerate() {
            acc += c;
            if acc * 10 >= n * q {
                return v as u8;
            }
        }
        255
    };
    let noise = if allow_noise { super::noise::sigma_in(plane, &looked).unwrap_or(0.0) } else { 0.0 };
    Some(Background { low: quantile(1), high: quantile(9), spread: PLAIN + NOISE_SPREAD * noise.min(MOST_NOISE) })
}

/// The strips of `plane` whose pixels are the background of the line `r`: before and after it
/// along its direction ([`strips`], beyond a margin of a quarter of its thickness and up to as
/// far again as its thickness), and above and below it too when those hold few pixels (fewer
/// than four times its thickness: a line at the frame's edge, or filling its width).
pub(super) fn beside(plane: &GrayImage, r: &Rect) -> Vec<Rect> {
    let (w, h) = plane.dimensions();
    let side = r.height.min(r.width);
    let gap = (side / 4).max(2);
    let along = r.width >= r.height;
    let mut looked = strips(r, side, gap, along, w, h).to_vec();
    if looked.iter().map(Rect::area).sum::<u64>() < 4 * side as u64 {
        looked.extend(strips(r, side, gap, !along, w, h));
    }
    looked
}

/// The two strips `gap` to `gap + side` pixels before and after `r`, left and right of it
/// (`along`) or above and below it, clipped to the frame.
fn strips(r: &Rect, side: u32, gap: u32, along: bool, w: u32, h: u32) -> [Rect; 2] {
    let clip = |x0: i64, y0: i64, x1: i64, y1: i64| {
        let (x0, y0) = (x0.clamp(0, w as i64) as u32, y0.clamp(0, h as i64) as u32);
        let (x1, y1) = (x1.clamp(0, w as i64) as u32, y1.clamp(0, h as i64) as u32);
        Rect::new(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0))
    };
    let (x, y, rr, b) = (r.x as i64, r.y as i64, r.right() as i64, r.bottom() as i64);
    let (g, s) = (gap as i64, side as i64);
    if along {
        [clip(x - g - s, y, x - g, b), clip(rr + g, y, rr + g + s, b)]
    } else {
        [clip(x, y - g - s, rr, y - g), clip(x, b + g, rr, b + g + s)]
    }
}

/// Add the values of `rects` of `plane` to `hist`; the number of pixels added.
fn count(plane: &GrayImage, rects: &[Rect], hist: &mut [u32; 256]) -> u32 {
    let mut n = 0;
    for r in rects {
        for y in r.y..r.bottom() {
            for x in r.x..r.right() {
                hist[plane.get_pixel(x, y).0[0] as usize] += 1;
                n += 1;
            }
        }
    }
    n
}

/// The plane with each pixel's contrast judged against its neighbourhood: its height above the
/// local minimum over the local range (at least [`LEAST_RANGE`]), full from [`LIT`] of it. Dim
/// text on a flat field far from bright anatomy comes out as bright as white text, and soft
/// strokes come out flat-topped.
pub(super) fn normalise(plane: &GrayImage) -> GrayImage {
    let (lo, hi) = local_range(plane);
    let bw = plane.width().div_ceil(BLOCK);
    let mut out = plane.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        let b = ((y / BLOCK) * bw + x / BLOCK) as usize;
        let range = (hi[b].saturating_sub(lo[b]) as f32).max(LEAST_RANGE);
        let v = (p.0[0].saturating_sub(lo[b]) as f32) * 255.0 / (LIT * range);
        p.0[0] = v.min(255.0) as u8;
    }
    out
}

/// The smallest and largest value around each [`BLOCK`] of `plane` (within [`REACH`] blocks),
/// block by block in rows: the cost per pixel does not grow with the neighbourhood.
fn local_range(plane: &GrayImage) -> (Vec<u8>, Vec<u8>) {
    let (w, h) = plane.dimensions();
    let (bw, bh) = (w.div_ceil(BLOCK) as usize, h.div_ceil(BLOCK) as usize);
    let mut lo = vec![255u8; bw * bh];
    let mut hi = vec![0u8; bw * bh];
    for (x, y, p) in plane.enumerate_pixels() {
        let b = (y / BLOCK) as usize * bw + (x / BLOCK) as usize;
        lo[b] = lo[b].min(p.0[0]);
        hi[b] = hi[b].max(p.0[0]);
    }
    (spread(&lo, bw, bh, u8::min), spread(&hi, bw, bh, u8::max))
}

/// Each block's value picked (`pick`: min or max) over the blocks within [`REACH`] of it.
fn spread(v: &[u8], bw: usize, bh: usize, pick: fn(u8, u8) -> u8) -> Vec<u8> {
    let mut rows = v.to_vec();
    for y in 0..bh {
        for x in 0..bw {
            let row = &v[y * bw + x.saturating_sub(REACH)..y * bw + (x + REACH + 1).min(bw)];
            rows[y * bw + x] = row.iter().copied().reduce(pick).expect("not empty");
        }
    }
    let mut out = rows.clone();
    for y in 0..bh {
        for x in 0..bw {
            let col = (y.saturating_sub(REACH)..(y + REACH + 1).min(bh)).map(|yy| rows[yy * bw + x]);
            out[y * bw + x] = col.reduce(pick).expect("not empty");
        }
    }
    out
}

/// The plane shrunk by `f` in both directions, each pixel the mean of an `f × f` block.
pub(super) fn shrink(plane: &GrayImage, f: u32) -> GrayImage {
    let (w, h) = (plane.width() / f, plane.height() / f);
    GrayImage::from_fn(w, h, |x, y| {
        let mut sum = 0u32;
        for dy in 0..f {
            for dx in 0..f {
                sum += plane.get_pixel(x * f + dx, y * f + dy).0[0] as u32;
            }
        }
        image::Luma([(sum / (f * f)) as u8])
    })
}

/// Reach (pixels) by which a dotted plane is dilated: dots up to two pixels apart (dot-matrix
/// and LED glyphs, strokes sampled every second to fourth pixel) touch after it.
const DOT_REACH: u8 = 1;

/// The plane dilated by a square of side `2 DOT_REACH + 1`: the dots of a dot-matrix stroke
/// grow into one stroke of their brightness, a pixel thicker on each side. (A closing, which
/// erodes them back, breaks a diagonal row of dots apart again.) Flat areas stay as they are.
pub(super) fn join_dots(plane: &GrayImage) -> GrayImage {
    let row = super::line_mask(DOT_REACH, true);
    let col = super::line_mask(DOT_REACH, false);
    grayscale_dilate(&grayscale_dilate(plane, &row), &col)
}

/// Level (0-255) by which a dot must outshine the pixels around it.
const DOT_CONTRAST: u8 = 32;

/// Fewest isolated dots a plane must hold before it is searched with its dots joined: a line of
/// dot-matrix text holds hundreds, and most frames none, so that search costs nothing there.
const FEWEST_DOTS: usize = 40;

/// Whether the plane holds dots: pixels (or 2 × 2 squares) brighter by [`DOT_CONTRAST`] than
/// all of the ring of pixels around them, in rows and columns, as dot-matrix text has and
/// smooth images and solid strokes have not. Noise makes such dots too; the search of the
/// joined dots then costs time, and keeps only lines that are text on their own evidence.
fn dotted(plane: &GrayImage) -> bool {
    let (w, h) = plane.dimensions();
    let mut n = 0;
    for y in 2..h.saturating_sub(3) {
        for x in 2..w.saturating_sub(3) {
            n += dot_at(plane, x, y).is_some() as usize;
        }
        if n >= FEWEST_DOTS {
            return true;
        }
    }
    false
}

/// The side (1 or 2) of the dot whose top left pixel is (x, y), if one is there: its pixels
/// outshine every pixel of the ring around it by [`DOT_CONTRAST`]. The caller keeps (x, y) two
/// pixels inside the left and top edges and three inside the right and bottom ones.
fn dot_at(plane: &GrayImage, x: u32, y: u32) -> Option<u32> {
    let raw = plane.as_raw();
    let w = plane.width();
    let at = |x: u32, y: u32| raw[(y * w + x) as usize];
    if at(x, y) < DOT_CONTRAST {
        return None;
    }
    [1, 2].into_iter().find(|&side| {
        let dot = (0..side).flat_map(|dy| (0..side).map(move |dx| at(x + dx, y + dy))).min().unwrap_or(0);
        let dim = dot.saturating_sub(DOT_CONTRAST);
        (0..side + 2).all(|i| {
            at(x - 1 + i, y - 1) <= dim
                && at(x - 1 + i, y + side) <= dim
                && at(x - 1, y - 1 + i) <= dim
                && at(x + side, y - 1 + i) <= dim
        })
    })
}

/// The plane's isolated dots (see [`dot_at`]) with their own values, on black: what a
/// dot-matrix printer drew, without the background it was drawn over. Speckle grains, anatomy
/// and most of a page's noise, whose pixels do not outshine a ring around them by
/// [`DOT_CONTRAST`], leave nothing; noise that does leaves dots anywhere, off any lattice.
pub(super) fn dot_map(plane: &GrayImage) -> GrayImage {
    let (w, h) = plane.dimensions();
    let mut out = GrayImage::new(w, h);
    for y in 2..h.saturating_sub(3) {
        for x in 2..w.saturating_sub(3) {
            if let Some(side) = dot_at(plane, x, y) {
                for (dx, dy) in (0..side).flat_map(|dy| (0..side).map(move |dx| (dx, dy))) {
                    out.put_pixel(x + dx, y + dy, *plane.get_pixel(x + dx, y + dy));
                }
            }
        }
    }
    out
}

/// How many times fewer dots (per pixel) the ring around a dot-matrix line may hold than the
/// line itself.
const DOTS_APART: u64 = 5;

/// Whether the dots of `dots` (a [`dot_map`]) inside `r` stand apart: the ring around it, one
/// line height wide and outside the other lines found (`lines`, a text block), holds
/// [`DOTS_APART`] times fewer dots per pixel. A dithered photograph or a noisy page has dots
/// all over, and text found in them is a chance cluster.
fn dots_apart(dots: &GrayImage, r: &Rect, lines: &[Rect]) -> bool {
    let (w, h) = dots.dimensions();
    let outer = r.grow(r.height.min(r.width), w, h);
    let (mut inside, mut around, mut ring) = (0u64, 0u64, 0u64);
    for y in outer.y..outer.bottom() {
        for x in outer.x..outer.right() {
            let p = Rect::new(x, y, 1, 1);
            let lit = (dots.get_pixel(x, y).0[0] > 0) as u64;
            if r.contains(&p) {
                inside += lit;
            } else if !lines.iter().any(|l| l.contains(&p)) {
                around += lit;
                ring += 1;
            }
        }
    }
    around * DOTS_APART * r.area() <= inside * ring.max(1)
}

/// Pitches (pixels between neighbouring dots) of dot-matrix glyphs.
const DOT_PITCH: std::ops::RangeInclusive<u32> = 2..=4;

/// Share of a line's dots that must lie on one lattice of a [`DOT_PITCH`]: a printer's dots do,
/// noise dots fall on every phase of it.
const ON_LATTICE: f32 = 0.6;

/// Whether most dots of `dots` (a [`dot_map`]) inside `r` lie on one square lattice: their top
/// left corners share one position modulo a pitch of [`DOT_PITCH`].
fn on_one_lattice(dots: &GrayImage, r: &Rect) -> bool {
    let lit = |x: u32, y: u32| dots.get_pixel(x, y).0[0] > 0;
    let corners: Vec<(u32, u32)> = (r.y.max(1)..r.bottom().min(dots.height()))
        .flat_map(|y| (r.x.max(1)..r.right().min(dots.width())).map(move |x| (x, y)))
        .filter(|&(x, y)| lit(x, y) && !lit(x - 1, y) && !lit(x, y - 1))
        .collect();
    if corners.len() < FEWEST_DOTS / 4 {
        return false;
    }
    DOT_PITCH.into_iter().any(|p| {
        let mut phases = vec![0usize; (p * p) as usize];
        for &(x, y) in &corners {
            phases[((y % p) * p + x % p) as usize] += 1;
        }
        let best = phases.into_iter().max().unwrap_or(0);
        best as f32 >= ON_LATTICE * corners.len() as f32
    })
}

/// The plane mirrored about its diagonal: vertical lines become horizontal.
pub(super) fn transpose(plane: &GrayImage) -> GrayImage {
    GrayImage::from_fn(plane.height(), plane.width(), |x, y| *plane.get_pixel(y, x))
}

/// A rectangle of a transposed plane, in the plane's own coordinates.
fn transpose_rect(r: &Rect) -> Rect {
    Rect::new(r.y, r.x, r.height, r.width)
}

#[cfg(test)]
mod tests {
    use super::super::Planes;
    use super::*;

    /// Draw a crude "E" of height `h` and stroke width `s` at (x, y).
    fn glyph(img: &mut GrayImage, x: u32, y: u32, h: u32, s: u32, v: u8) {
        let w = h * 3 / 5;
        for dy in 0..h {
            for dx in 0..w {
                let mid = dy + s / 2 >= h / 2 && dy < h / 2 + s - s / 2;
                if dx < s || dy < s || dy + s >= h || mid {
                    img.put_pixel(x + dx, y + dy, image::Luma([v]));
                }
            }
        }
    }

    /// A line of `n` glyphs of height `h` starting at (x, y).
    fn line_of(img: &mut GrayImage, x: u32, y: u32, n: u32, h: u32, s: u32, v: u8) -> Rect {
        let advance = h * 3 / 5 + h / 4;
        for i in 0..n {
            glyph(img, x + i * advance, y, h, s, v);
        }
        Rect::new(x, y, (n - 1) * advance + h * 3 / 5, h)
    }

    /// The boxes the detector finds in a grey frame.
    fn detect(img: GrayImage) -> Vec<Rect> {
        let inv = GrayImage::from_fn(img.width(), img.height(), |x, y| image::Luma([255 - img.get_pixel(x, y).0[0]]));
        let planes = Planes { light: img, dark: inv, tone: None, opponent: None };
        Detector::default().detect(&planes, &Hints::default()).into_iter().map(|(r, _)| r).collect()
    }

    #[test]
    fn soft_text_on_a_plain_background_is_found() {
        let mut img = GrayImage::new(400, 120);
        let line = line_of(&mut img, 20, 40, 10, 22, 4, 255);
        let soft = imageproc::filter::gaussian_blur_f32(&img, 2.0);
        let boxes = detect(soft);
        assert!(boxes.iter().any(|b| b.contains(&line)), "{boxes:?}");
    }

    #[test]
    fn dim_text_far_from_bright_anatomy_is_found() {
        // The frame's range is set by the bright disc: the text is dim beside it, but plain on
        // its own flat black.
        let mut img = GrayImage::from_fn(640, 400, |x, y| {
            let (dx, dy) = (x as i64 - 420, y as i64 - 220);
            image::Luma([if dx * dx + dy * dy < 150 * 150 { 255 } else { 0 }])
        });
        let line = line_of(&mut img, 10, 10, 10, 20, 3, 28);
        let boxes = detect(img);
        assert!(boxes.iter().any(|b| b.contains(&line)), "{boxes:?}");
    }

    #[test]
    fn large_text_is_found_in_a_shrunk_plane() {
        let mut img = GrayImage::new(640, 300);
        let line = line_of(&mut img, 10, 60, 6, 96, 10, 255);
        let boxes = detect(img);
        assert!(boxes.iter().any(|b| b.contains(&line)), "{boxes:?}");
    }

    #[test]
    fn large_marks_on_a_band_other_than_the_plain_background_beside_them_are_no_text() {
        // A row of bright glyph-sized marks filling a band of mid grey, flat black on either
        // side: as a row of flow or anatomy between an image's edge and its padding, whose
        // sides alone are plain. Glyphs leave gaps, counters and spaces at the background's
        // level; this band shows none of the black beside it.
        let mut img = GrayImage::new(640, 300);
        let line = line_of(&mut img, 10, 60, 6, 96, 10, 255);
        for y in line.y..line.bottom() {
            for x in line.x..line.right() {
                if img.get_pixel(x, y).0[0] == 0 {
                    img.put_pixel(x, y, image::Luma([90 + (x * 40 / line.width) as u8]));
                }
            }
        }
        let boxes = Detector::default().detect_more(&img);
        assert!(!boxes.iter().any(|b| b.intersects(&line)), "{boxes:?}");
        // The same marks on the black itself are large text.
        let mut text = GrayImage::new(640, 300);
        line_of(&mut text, 10, 60, 6, 96, 10, 255);
        assert!(Detector::default().detect_more(&text).iter().any(|b| b.contains(&line)));
    }

    /// A frame of `background` with a line of six large glyphs (96 pixels high) drawn at 255,
    /// each pixel of a glyph then set by `ink` and each pixel of the line's box that is no
    /// glyph by `gap` (both given the pixel and its value); the line's box.
    fn large_line(background: u8, ink: impl Fn(u32, u32) -> u8, gap: impl Fn(u32, u32) -> u8) -> (GrayImage, Rect) {
        let mut img = GrayImage::from_pixel(640, 300, image::Luma([background]));
        let line = line_of(&mut img, 10, 60, 6, 96, 10, 255);
        for y in line.y..line.bottom() {
            for x in line.x..line.right() {
                let v = if img.get_pixel(x, y).0[0] == 255 { ink(x, y) } else { gap(x, y) };
                img.put_pixel(x, y, image::Luma([v]));
            }
        }
        (img, line)
    }

    /// The lines the shrunk planes find over `line` that pass the tests of their background
    /// made before [`drawn_on_background`] (plain beside, shown between the glyphs).
    fn found_on_plain(img: &GrayImage, line: &Rect) -> Vec<Rect> {
        let found = Detector::default().found_more(img);
        found
            .into_iter()
            .filter(|r| r.intersects(line) && on_plain_background(img, r, true) && shows_background(img, r))
            .collect()
    }

    #[test]
    fn a_large_line_is_drawn_on_its_background_only_with_ink_of_one_level() {
        // Marks in every other band of 10 columns of a box on flat black: of one level (an
        // antialiased fifth a little darker) they are drawn as glyphs are; spread over many
        // levels (speckle, tissue) they are not.
        let r = Rect::new(50, 30, 200, 40);
        let marks = |ink: &dyn Fn(u32, u32) -> u8| {
            GrayImage::from_fn(300, 100, |x, y| {
                let inside = r.contains(&Rect::new(x, y, 1, 1)) && (x / 10) % 2 == 0;
                image::Luma([if inside { ink(x, y) } else { 0 }])
            })
        };
        let one_level = marks(&|x, y| if (x + y) % 5 == 0 { 180 } else { 230 });
        assert!(drawn_on_background(&one_level, &r));
        let many_levels = marks(&|x, y| 110 + ((x * 37 + y * 91) % 140) as u8);
        assert!(!drawn_on_background(&many_levels, &r));
    }

    #[test]
    fn large_marks_with_darker_gaps_than_the_background_beside_them_are_no_text() {
        // Bright marks of one level over a mid-grey band whose gaps between the marks are
        // partly black: as the bright parts of a row of speckle or flow, with the dark gaps
        // between them, beside a mid-grey padding. Glyphs are drawn on their background and
        // leave nothing darker than it in their box.
        let gap = |x: u32, _: u32| if (x - 10) % 81 >= 57 { 0 } else { 60 };
        let (img, line) = large_line(60, |_, _| 230, gap);
        let found = found_on_plain(&img, &line);
        assert!(!found.is_empty(), "the shrunk planes find the marks on their plain background");
        assert!(!found.iter().any(|r| drawn_on_background(&img, r)), "{found:?}");
        assert!(!Detector::default().detect_more(&img).iter().any(|b| b.intersects(&line)));
        // On the mid grey alone, they are large text.
        let (text, _) = large_line(60, |_, _| 230, |_, _| 60);
        assert!(Detector::default().detect_more(&text).iter().any(|b| b.contains(&line)));
    }

    #[test]
    fn a_vertical_line_is_found_in_the_transposed_plane() {
        let mut across = GrayImage::new(400, 120);
        let line = line_of(&mut across, 20, 40, 10, 22, 3, 255);
        let boxes = detect(transpose(&across));
        assert!(boxes.iter().any(|b| b.contains(&transpose_rect(&line))), "{boxes:?}");
    }

    #[test]
    fn dot_matrix_text_is_found_with_its_dots_joined() {
        // Glyphs lit only on a grid of 2 and of 3 pixels: separate dots to the plain search.
        for step in [2, 3] {
            let mut solid = GrayImage::new(400, 120);
            let line = line_of(&mut solid, 20, 40, 10, 24, 4, 255);
            let dots = GrayImage::from_fn(400, 120, |x, y| {
                image::Luma([if x % step == 0 && y % step == 0 { solid.get_pixel(x, y).0[0] } else { 0 }])
            });
            assert!(dotted(&dots) && !dotted(&solid));
            let boxes = detect(dots);
            assert!(boxes.iter().any(|b| b.contains(&line)), "step {step}: {boxes:?}");
        }
    }

    /// A line of `n` dot-matrix glyphs (the glyphs of [`line_of`] lit only on a grid of
    /// `step`) drawn in `v` over `img`.
    fn dotted_line_of(img: &mut GrayImage, x: u32, y: u32, n: u32, h: u32, step: u32, v: u8) -> Rect {
        let mut solid = GrayImage::new(img.width(), img.height());
        let line = line_of(&mut solid, x, y, n, h, 4, 255);
        for (px, py, p) in solid.enumerate_pixels() {
            if p.0[0] > 0 && px % step == 0 && py % step == 0 {
                img.put_pixel(px, py, image::Luma([v]));
            }
        }
        line
    }

    #[test]
    fn dot_matrix_text_over_a_noisy_field_is_found_in_its_dots_alone() {
        // Noise far above what a plain background allows: the joined plane is searched in
        // vain there, its dots alone show the text. The noise elsewhere is not blanked.
        let mut img = super::super::noise::half_noisy(480, 160, 0, 90.0, 14.0);
        let line = dotted_line_of(&mut img, 20, 40, 10, 24, 3, 250);
        let boxes = detect(img);
        assert!(boxes.iter().any(|b| b.contains(&line)), "{boxes:?}");
        assert!(!boxes.iter().any(|b| b.intersects(&Rect::new(300, 0, 180, 160))), "{boxes:?}");
    }

    #[test]
    fn dots_of_a_line_lie_on_one_lattice_and_stand_apart_from_others() {
        let mut dots = GrayImage::new(300, 100);
        let line = dotted_line_of(&mut dots, 20, 30, 8, 24, 3, 200);
        assert!(on_one_lattice(&dots, &line) && dots_apart(&dots, &line, &[line]));
        // Dots scattered off any lattice (noise).
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let scattered = GrayImage::from_fn(300, 100, |_, _| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            image::Luma([if state % 23 == 0 { 200 } else { 0 }])
        });
        assert!(!on_one_lattice(&scattered, &line));
        // The same lattice all over (an ordered dithering): the line's dots do not stand apart.
        let all_over =
            GrayImage::from_fn(300, 100, |x, y| image::Luma([if x % 3 == 0 && y % 3 == 0 { 200 } else { 0 }]));
        assert!(on_one_lattice(&all_over, &line) && !dots_apart(&all_over, &line, &[line]));
    }

    #[test]
    fn joining_dots_connects_a_diagonal_row_of_them_and_keeps_flat_areas() {
        // Dots on the diagonal, two apart: after joining, the pixels between them are lit.
        let dots = GrayImage::from_fn(20, 20, |x, y| image::Luma([if x == y && x % 2 == 0 { 200 } else { 0 }]));
        let joined = join_dots(&dots);
        assert_eq!(joined.get_pixel(5, 5).0[0], 200);
        assert_eq!(joined.get_pixel(1, 2).0[0], 200);
        let flat = GrayImage::from_pixel(20, 20, image::Luma([77]));
        assert_eq!(join_dots(&flat), flat);
    }

    #[test]
    fn a_background_is_plain_when_flat_and_not_when_textured() {
        let flat = GrayImage::from_pixel(200, 100, image::Luma([40]));
        let stripes = GrayImage::from_fn(200, 100, |x, _| image::Luma([if x % 6 < 3 { 40 } else { 90 }]));
        let line = Rect::new(60, 40, 80, 20);
        assert!(on_plain_background(&flat, &line, false));
        assert!(!on_plain_background(&stripes, &line, true));
    }

    #[test]
    fn a_flat_background_with_pixel_noise_is_plain_and_shading_is_not() {
        // Noise of about 8 levels (a fixed generator) on a flat field spreads its values over
        // some 20 levels; a ramp of as much across the strips beside the line is shading.
        let noisy = crate::pixels::detect::noise::half_noisy(200, 100, 0, 60.0, 8.0);
        let ramp = GrayImage::from_fn(200, 100, |x, _| image::Luma([(x / 3) as u8]));
        let line = Rect::new(60, 40, 80, 20);
        assert!(on_plain_background(&noisy, &line, true));
        assert!(!on_plain_background(&noisy, &line, false));
        assert!(!on_plain_background(&ramp, &line, true));
    }

    #[test]
    fn the_quantised_noise_of_a_cines_brightest_frame_is_no_text() {
        // The brightest of ten frames of a faint noise floor (0 to 2 % of the range, a little
        // smoothed, as a scanner's black border), stretched as the frame's range maps it: a
        // few levels apart, most pixels take one value and clusters another. Normalising can
        // lift such clusters into strokes (a cine's further passes found fourteen lines so);
        // they outshine their background by a few levels only, text by more.
        let (w, h) = (480usize, 320usize);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut brightest = vec![0f32; w * h];
        for _ in 0..10 {
            let noise: Vec<f32> = (0..w * h)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % 1000) as f32 / 1000.0 * 5.1
                })
                .collect();
            for y in 1..h - 1 {
                for x in 1..w - 1 {
                    let mean = (0..9).map(|k| noise[(y + k / 3 - 1) * w + x + k % 3 - 1]).sum::<f32>() / 9.0;
                    brightest[y * w + x] = brightest[y * w + x].max(mean);
                }
            }
        }
        let plane = GrayImage::from_fn(w as u32, h as u32, |x, y| {
            image::Luma([(brightest[y as usize * w + x as usize].round() * 255.0 / 200.0).round() as u8])
        });
        let boxes = Detector::default().detect_more(&plane);
        assert!(boxes.is_empty(), "{boxes:?}");
        // Dim text on such a floor still outshines it.
        let mut with_text = plane.clone();
        let line = line_of(&mut with_text, 20, 40, 10, 22, 3, 40);
        assert!(outshines(&with_text, &line, LEAST_CONTRAST) && !outshines(&plane, &line, LEAST_CONTRAST));
    }

    #[test]
    fn the_normalised_pass_keeps_a_line_only_where_it_outshines_its_background_by_16_levels() {
        // Normalising lifts any step of a flat field to full contrast: glyph-shaped clusters 12
        // levels above a flat floor (as a cine's brightest frame quantises a faint noise
        // floor) would pass for text there. Strokes 28 levels above it are dim text.
        for (step, kept) in [(12u8, false), (28, true)] {
            let mut plane = GrayImage::from_pixel(400, 120, image::Luma([2]));
            let line = line_of(&mut plane, 20, 40, 10, 22, 3, 2 + step);
            let boxes = Detector::default().detect_more(&plane);
            assert_eq!(boxes.iter().any(|b| b.intersects(&line)), kept, "step {step}: {boxes:?}");
        }
    }

    #[test]
    fn normalising_lifts_dim_strokes_and_flattens_soft_tops() {
        let mut img = GrayImage::new(100, 60);
        for (x, v) in [(40, 20u8), (41, 28), (42, 30), (43, 28), (44, 20)] {
            for y in 20..40 {
                img.put_pixel(x, y, image::Luma([v]));
            }
        }
        let n = normalise(&img);
        assert_eq!(n.get_pixel(42, 30).0[0], 255);
        assert_eq!(n.get_pixel(41, 30).0[0], 255);
        assert_eq!(n.get_pixel(10, 30).0[0], 0);
    }
}
