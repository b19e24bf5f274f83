//! Shaded backgrounds: a line standing on a gradient (a shaded page, a gradient fill) is not
//! on a flat background, but on one that is flat once its slope is taken out.
//!
//! The pixels beside a line (the strips [`super::passes`] judges a plain background on) are
//! fitted with the plane of values that suits them best (level, and slope along and across the
//! frame); the background is shaded when they hardly vary about that plane. The normalised
//! plane turns a ramp into steps between its blocks, and joins a line's glyphs over them with
//! the shading beside the text (up to the frame's edge, or to the next line 300 pixels away);
//! on a ramp the box's far end outshines the median beside it by half the ramp's change along
//! the box. So a line found there keeps only its parts whose cross-sections, levelled by the
//! plane's slope across the line, hold strokes standing out by more than the plane changes over
//! the line's thickness and than the pixels beside it vary about it, cut to those strokes.

use super::super::rules::Rect;
use super::passes::{LEAST_CONTRAST, PLAIN, beside};
use image::GrayImage;

/// How many times the fitted plane's change over a line's thickness (its slope across the
/// line) the line's strokes must stand out by.
const OVER_SLOPE: f64 = 1.0;

/// How many times the spread of the pixels beside a line about the fitted plane (10th to 90th
/// percentile of their residuals) the line's strokes must stand out by.
const OVER_SPREAD: f64 = 2.0;

/// The slope of the plane fitted to the pixels beside a line (levels per pixel along x and
/// along y), and the spread (10th to 90th percentile) of the pixels' residuals about it.
#[derive(Debug, Clone, Copy)]
struct Shading {
    along_x: f64,
    along_y: f64,
    spread: f64,
}

/// The shading beside the line `r` of `plane` (the pixels [`beside`] it): `None` when there
/// are too few of them or they do not span both directions.
fn shading(plane: &GrayImage, r: &Rect) -> Option<Shading> {
    let pixels: Vec<(f64, f64, f64)> = beside(plane, r)
        .iter()
        .flat_map(|s| (s.y..s.bottom()).flat_map(move |y| (s.x..s.right()).map(move |x| (x, y))))
        .map(|(x, y)| (x as f64 - r.x as f64, y as f64 - r.y as f64, plane.get_pixel(x, y).0[0] as f64))
        .collect();
    let [level, along_x, along_y] = fit_plane(&pixels)?;
    let mut residuals: Vec<f64> = pixels.iter().map(|(x, y, v)| v - (level + along_x * x + along_y * y)).collect();
    residuals.sort_by(f64::total_cmp);
    let n = residuals.len();
    let spread = residuals[n * 9 / 10] - residuals[n / 10];
    Some(Shading { along_x, along_y, spread })
}

/// The parts of the line `r` of `plane` that stand on a plainly shaded background
/// ([`shading`]): none when the pixels beside it vary about their fitted plane by more than
/// [`PLAIN`]. Each cross-section of the line (a column of a level line), levelled by the
/// plane's slope across the line, holds ink when its brightest pixel outshines its darkest by at
/// least [`LEAST_CONTRAST`], [`OVER_SPREAD`] times that variation and [`OVER_SLOPE`] times the
/// plane's change over the line's thickness; the parts are the runs of
/// such cross-sections, joined over gaps of up to two thicknesses (between words), at least
/// half a thickness long, each cut across to the span of its ink (the pixels at least half that
/// contrast above the darkest of their cross-section). A line the normalised plane joins over
/// shading (its steps between blocks, a crease) is so cut to its glyphs.
pub(super) fn shaded_parts(plane: &GrayImage, r: &Rect) -> Vec<Rect> {
    let Some(s) = shading(plane, r) else { return Vec::new() };
    if s.spread > PLAIN as f64 {
        return Vec::new();
    }
    let (w, h) = plane.dimensions();
    let r = Rect::new(r.x, r.y, r.width.min(w.saturating_sub(r.x)), r.height.min(h.saturating_sub(r.y)));
    let along = r.width >= r.height;
    let (length, thickness) = if along { (r.width, r.height) } else { (r.height, r.width) };
    let across = if along { s.along_y } else { s.along_x };
    let least = (LEAST_CONTRAST as f64).max(OVER_SPREAD * s.spread).max(OVER_SLOPE * across.abs() * thickness as f64);
    // Per cross-section, the span (first and last pixel across) of its ink: its pixels at
    // least half of `least` above its darkest, levelled.
    let inked: Vec<Option<(u32, u32)>> = (0..length)
        .map(|i| {
            let levelled: Vec<f64> = (0..thickness)
                .map(|j| {
                    let (x, y) = if along { (r.x + i, r.y + j) } else { (r.x + j, r.y + i) };
                    plane.get_pixel(x, y).0[0] as f64 - across * j as f64
                })
                .collect();
            let (lo, hi) = levelled.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            if hi - lo < least {
                return None;
            }
            let ink = |j: &u32| levelled[*j as usize] >= lo + least / 2.0;
            Some(((0..thickness).find(ink)?, (0..thickness).rev().find(ink)?))
        })
        .collect();
    // Runs of inked cross-sections: (start, end, first and last pixel across).
    let mut parts: Vec<(u32, u32, u32, u32)> = Vec::new();
    for (i, span) in inked.iter().enumerate() {
        let (i, Some((first, last))) = (i as u32, *span) else { continue };
        match parts.last_mut() {
            Some(p) if i - p.1 <= 2 * thickness => *p = (p.0, i + 1, p.2.min(first), p.3.max(last)),
            _ => parts.push((i, i + 1, first, last)),
        }
    }
    let out: Vec<Rect> = parts
        .into_iter()
        .filter(|&(a, b, _, _)| (b - a) * 2 >= thickness)
        .map(|(a, b, first, last)| {
            let (l, t) = (b - a, last + 1 - first);
            if along { Rect::new(r.x + a, r.y + first, l, t) } else { Rect::new(r.x + first, r.y + a, t, l) }
        })
        .collect();
    out
}

/// The least-squares plane `v = a + b x + c y` through `pixels` (x, y, v), as `[a, b, c]`;
/// `None` for fewer than a dozen pixels or when they do not span both directions.
fn fit_plane(pixels: &[(f64, f64, f64)]) -> Option<[f64; 3]> {
    if pixels.len() < 12 {
        return None;
    }
    // The normal equations, solved by Cramer's rule.
    let (mut m, mut v) = ([[0.0f64; 3]; 3], [0.0f64; 3]);
    for &(x, y, z) in pixels {
        let row = [1.0, x, y];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += row[i] * row[j];
            }
            v[i] += row[i] * z;
        }
    }
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(&m);
    // Relative to the scale of the sums: pixels on one row or column leave the system singular.
    if d.abs() <= 1e-9 * m[0][0] * m[1][1] * m[2][2] {
        return None;
    }
    let mut out = [0.0; 3];
    for (k, o) in out.iter_mut().enumerate() {
        let mut mk = m;
        for (row, vi) in mk.iter_mut().zip(v) {
            row[k] = vi;
        }
        *o = det(&mk) / d;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame shaded by `shade` (given x and y), with glyph-like marks `contrast` levels above
    /// it every 9 pixels along the line (x 40 to 160, y 20 to 36): a bar 3 pixels wide and 12
    /// high on a foot across the mark; the line.
    fn shaded(shade: impl Fn(u32, u32) -> f32, contrast: f32) -> (GrayImage, Rect) {
        let line = Rect::new(40, 20, 120, 16);
        let img = GrayImage::from_fn(200, 60, |x, y| {
            let inside = line.contains(&Rect::new(x, y, 1, 1));
            let (dx, dy) = ((x - line.x.min(x)) % 9, y - line.y.min(y));
            let mark = inside && ((dx < 3 && dy < 12) || (dx < 6 && (12..14).contains(&dy)));
            image::Luma([(shade(x, y) + if mark { contrast } else { 0.0 }).round() as u8])
        });
        (img, line)
    }

    #[test]
    fn marks_on_a_ramp_stand_on_a_shaded_background() {
        // A ramp of 60 levels along the frame and a little across it: not flat beside the
        // line, flat about the plane fitted to it. Marks 24 levels above the ramp stand out.
        let ramp = |x: u32, y: u32| 40.0 + x as f32 * 0.3 + y as f32 * 0.1;
        let (img, line) = shaded(ramp, 24.0);
        let s = shading(&img, &line).expect("the pixels beside the line span both directions");
        assert!((s.along_x - 0.3).abs() < 0.02 && (s.along_y - 0.1).abs() < 0.05, "{s:?}");
        assert!(s.spread <= 2.0, "{s:?}");
        let parts = shaded_parts(&img, &line);
        assert_eq!(parts.len(), 1, "{parts:?}");
        assert!(parts[0].x == line.x && parts[0].right() + 3 >= line.right(), "{parts:?}");
    }

    #[test]
    fn a_ramp_alone_has_no_part_on_a_shaded_background() {
        // The box's right end outshines the median beside it by half the ramp's change along
        // the box (18 levels); no cross-section of it holds ink.
        let (img, line) = shaded(|x, _| 40.0 + x as f32 * 0.3, 0.0);
        assert!(shaded_parts(&img, &line).is_empty());
    }

    #[test]
    fn a_line_joined_over_plain_shading_is_cut_to_its_marks() {
        // Marks at both ends of a long box, 80 pixels of bare ramp between them: two parts.
        let (mut img, _) = shaded(|x, y| 40.0 + x as f32 * 0.3 + y as f32 * 0.1, 24.0);
        for y in 20..36 {
            for x in 70..150 {
                img.put_pixel(x, y, image::Luma([(40.0 + x as f32 * 0.3 + y as f32 * 0.1).round() as u8]));
            }
        }
        let parts = shaded_parts(&img, &Rect::new(40, 20, 120, 16));
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts[0].right() <= 70 && parts[1].x >= 150, "{parts:?}");
    }

    #[test]
    fn marks_on_texture_do_not_stand_on_a_shaded_background() {
        let (img, line) = shaded(|x, y| 60.0 + ((x * 37 + y * 91) % 50) as f32, 60.0);
        assert!(shaded_parts(&img, &line).is_empty());
    }

    #[test]
    fn a_plane_is_fitted_exactly_and_not_to_pixels_of_one_row() {
        let on_plane: Vec<(f64, f64, f64)> = (0..40)
            .map(|i| ((i % 8) as f64, (i / 8) as f64, 5.0 + 2.0 * (i % 8) as f64 - 3.0 * (i / 8) as f64))
            .collect();
        let [a, b, c] = fit_plane(&on_plane).expect("spans both directions");
        assert!((a - 5.0).abs() < 1e-9 && (b - 2.0).abs() < 1e-9 && (c + 3.0).abs() < 1e-9);
        let one_row: Vec<(f64, f64, f64)> = (0..40).map(|i| (i as f64, 3.0, i as f64)).collect();
        assert!(fit_plane(&one_row).is_none());
    }
}
