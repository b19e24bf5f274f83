//! Text over colour, searched in a plane of its own colour.
//!
//! Burned-in text is drawn in one flat colour, antialiased only at its edges; colour flow and
//! photographs vary smoothly in hue and value. Over such colour, the luminance and opponent
//! planes show text and the texture under it alike busy, and the text is found as pieces that
//! fail the busy-surroundings tests. Those pieces still tell the colour the text is drawn in:
//! glyphs of one line share it (lines group only components of one colour and hue). A plane of
//! closeness to that colour ([`key_plane`]: 255 at the colour, falling to 0 at [`REACH`]
//! levels from it) shows the text as flat strokes with sharp edges on a background that, being
//! of other colours, is dark and quiet; the flow lights up there only where it passes through
//! that colour. The caller searches so the few colours the most glyphs were found in
//! ([`key_colours`]) whose pixels lie in and next to those glyphs' lines far more densely than
//! elsewhere ([`concentrated`]): the colours of flow, tissue and photographs run all over the
//! frame, and in their planes the contours along which the texture passes through the colour
//! look like strokes. In a colour's plane only lines on a quiet background whose surroundings
//! are not of that colour ([`apart`]) are text, by their own evidence alone.

use super::super::rules::Rect;
use super::{Comp, Strokes, glyph_like, group, noise};
use image::GrayImage;

/// Distance in colour (luminance and the opponent differences, 0-255 each, see [`distance`])
/// at which a pixel no longer counts as of the key colour at all. Noise of σ = 3 % of the range
/// per channel moves the distance about 9 levels; a third of that reach keeps strokes flat.
const REACH: f32 = 48.0;

/// Most colours searched per frame: a frame's text comes in a few blocks, one colour each.
pub(super) const MOST_KEYS: usize = 3;

/// Fewest glyphs, over all planes, a colour must have been found in to be searched: a line of
/// three, or pieces of one.
const LEAST_GLYPHS: usize = 3;

/// A colour as luminance and the two opponent channels (as [`super::opponent`] makes them).
pub(super) type Colour = [f32; 3];

/// Distance between two colours: the luminance difference and the red−green and yellow−blue
/// differences (the opponent channels are halved, so doubled back here).
fn distance(a: &Colour, b: &Colour) -> f32 {
    let d = [a[0] - b[0], 2.0 * (a[1] - b[1]), 2.0 * (a[2] - b[2])];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

/// The glyph lines among `strokes` (of a plane whose strokes' `colour` is the luminance, or
/// its inverse when `inverted`) as colours to search: every group of at least two glyph-sized
/// components ([`group`]) that stand side by side, whose colour (their cores' mean) at most a
/// twentieth of the pixels beside it share (within half of [`REACH`]; texture of one colour
/// is beside itself). `luma` and `opponent` are the frame's.
pub(super) fn line_colours(
    strokes: &Strokes,
    hmin: u32,
    inverted: bool,
    luma: &GrayImage,
    opponent: &[GrayImage; 2],
) -> Vec<Seed> {
    let comps = &strokes.comps;
    let (w, h) = luma.dimensions();
    group(comps, hmin, strokes.sigma, false)
        .into_iter()
        .filter_map(|members| {
            let glyphs: Vec<&Comp> = members.iter().map(|&i| &comps[i]).filter(|c| c.h() >= hmin).collect();
            let r = super::bbox(comps, &members);
            if glyphs.len() < 2 || !glyph_like(&glyphs, r.width) {
                return None;
            }
            let n = glyphs.len() as f32;
            let mut c = [0.0f32; 3];
            for g in &glyphs {
                c[0] += if inverted { 255.0 - g.colour } else { g.colour };
                c[1] += g.hue[0];
                c[2] += g.hue[1];
            }
            let c = c.map(|v| v / n);
            let mut near = 0u64;
            let mut all = 0u64;
            for b in beside(&r, w, h) {
                for y in b.y..b.bottom() {
                    for x in b.x..b.right() {
                        let p = [
                            luma.get_pixel(x, y).0[0],
                            opponent[0].get_pixel(x, y).0[0],
                            opponent[1].get_pixel(x, y).0[0],
                        ];
                        near += (distance(&p.map(f32::from), &c) <= REACH / 2.0) as u64;
                        all += 1;
                    }
                }
            }
            (near * 20 <= all).then_some(Seed { colour: c, glyphs: glyphs.len(), rect: r })
        })
        .collect()
}

/// A glyph line of some plane, as a colour to search ([`line_colours`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Seed {
    /// The mean colour of its glyphs' cores.
    colour: Colour,
    /// How many glyphs it holds.
    glyphs: usize,
    /// Its box.
    rect: Rect,
}

/// The colours to search: the line colours `found` clustered (within a third of [`REACH`]),
/// the heaviest first, each found in at least [`LEAST_GLYPHS`] glyphs, with the boxes of its
/// lines; at most twice [`MOST_KEYS`].
pub(super) fn key_colours(mut found: Vec<Seed>) -> Vec<(Colour, Vec<Rect>)> {
    found.sort_by_key(|s| std::cmp::Reverse(s.glyphs));
    let mut clusters: Vec<(Colour, usize, Vec<Rect>)> = Vec::new();
    for s in found {
        match clusters.iter_mut().find(|(k, _, _)| distance(k, &s.colour) <= REACH / 3.0) {
            Some((_, m, rects)) => {
                *m += s.glyphs;
                rects.push(s.rect);
            }
            None => clusters.push((s.colour, s.glyphs, vec![s.rect])),
        }
    }
    clusters.sort_by_key(|c| std::cmp::Reverse(c.1));
    clusters.into_iter().filter(|c| c.1 >= LEAST_GLYPHS).take(2 * MOST_KEYS).map(|(c, _, r)| (c, r)).collect()
}

/// Whether the pixels of a key plane's colour (at least 128: within half of [`REACH`]) lie
/// in or next to the `lines` it was found in (each grown by its height to the sides and half of
/// it above and below: the rest of its text block) [`CONCENTRATION`] times as densely as in the
/// rest of the frame. Text's
/// colour is where its text is; the colours of flow, tissue and photographs run all over the
/// frame and their shapes (the contours along which flow passes through the colour) look like
/// strokes there.
pub(super) fn concentrated(plane: &GrayImage, lines: &[Rect]) -> bool {
    let (w, h) = plane.dimensions();
    let mut near = vec![false; (w * h) as usize];
    for r in lines {
        let g = Rect::new(
            r.x.saturating_sub(r.height),
            r.y.saturating_sub(r.height / 2),
            r.width + 2 * r.height,
            r.height * 2,
        );
        for y in g.y..g.bottom().min(h) {
            for x in g.x..g.right().min(w) {
                near[(y * w + x) as usize] = true;
            }
        }
    }
    let (mut inside, mut outside, mut area) = (0u64, 0u64, 0u64);
    for (v, n) in plane.iter().zip(near) {
        area += n as u64;
        if *v >= 128 {
            if n { inside += 1 } else { outside += 1 }
        }
    }
    let rest = (w as u64 * h as u64).saturating_sub(area);
    // Densities compared: outside / rest <= inside / area / CONCENTRATION.
    inside > 0 && outside * area * CONCENTRATION <= inside * rest
}

/// How many times denser a text colour's pixels lie in and next to its lines than elsewhere in
/// the frame ([`concentrated`]): the glyphs of a line fill a fifth to a half of its box, and
/// elsewhere there is at most the rest of its block, which the lines found may have missed.
const CONCENTRATION: u64 = 10;

/// Left and right of line `r` in its band (two heights each way, within a `w` × `h` frame):
/// where its background is.
fn beside(r: &Rect, w: u32, h: u32) -> [Rect; 2] {
    let outer = noise::surroundings(r, w, h);
    let [left, right, _, _] = noise::beside(r, &outer);
    [left, right]
}

/// Whether the line `r` found in a plane of closeness to a colour ([`key_plane`]) stands apart
/// from what lies beside it: at most a twentieth of the pixels there are within half of
/// [`REACH`] of the colour. Text is drawn in a colour its background does not have; texture
/// and flow of that colour go on around the shapes they happen to form.
pub(super) fn apart(plane: &GrayImage, r: &Rect) -> bool {
    let (w, h) = plane.dimensions();
    let mut near = 0u64;
    let mut all = 0u64;
    for b in beside(r, w, h) {
        for y in b.y..b.bottom() {
            for x in b.x..b.right() {
                near += (plane.get_pixel(x, y).0[0] >= 128) as u64;
                all += 1;
            }
        }
    }
    near * 20 <= all
}

/// The plane of closeness to `key` of a colour frame given as its luminance and opponent
/// channels: 255 where a pixel is of that colour, falling linearly to 0 at [`REACH`].
pub(super) fn key_plane(luma: &GrayImage, opponent: &[GrayImage; 2], key: &Colour) -> GrayImage {
    let mut out = luma.clone();
    let [rg, yb] = opponent;
    for (((o, &y), &a), &b) in out.iter_mut().zip(luma.iter()).zip(rg.iter()).zip(yb.iter()) {
        let d = distance(&[y as f32, a as f32, b as f32], key);
        *o = (255.0 * (1.0 - d / REACH)).clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pixel_of_the_key_colour_is_bright_and_others_fall_off_with_distance() {
        let luma = GrayImage::from_raw(3, 1, vec![200, 190, 60]).unwrap();
        let rg = GrayImage::from_raw(3, 1, vec![100, 100, 150]).unwrap();
        let yb = GrayImage::from_raw(3, 1, vec![160, 160, 140]).unwrap();
        let p = key_plane(&luma, &[rg, yb], &[200.0, 100.0, 160.0]);
        assert_eq!(p.as_raw()[0], 255);
        assert!(p.as_raw()[1] > 180 && p.as_raw()[1] < 255);
        assert_eq!(p.as_raw()[2], 0);
    }

    #[test]
    fn a_line_whose_surroundings_are_of_its_colour_is_not_apart() {
        let mut plane = GrayImage::new(100, 30);
        let line = Rect::new(40, 10, 20, 8);
        assert!(apart(&plane, &line));
        for y in 10..18 {
            for x in 20..40 {
                plane.put_pixel(x, y, image::Luma([200]));
            }
        }
        assert!(!apart(&plane, &line));
    }

    #[test]
    fn colours_found_in_many_glyphs_come_first_and_close_ones_count_together() {
        let seed = |c: Colour, glyphs| Seed { colour: c, glyphs, rect: Rect::new(0, 0, 10, 10) };
        let found = vec![
            seed([100.0, 128.0, 128.0], 2),
            seed([200.0, 110.0, 150.0], 4),
            seed([104.0, 128.0, 128.0], 2),
            seed([30.0, 160.0, 100.0], 1),
        ];
        let keys = key_colours(found);
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].0, [200.0, 110.0, 150.0]);
        assert_eq!(keys[1].0, [100.0, 128.0, 128.0]);
        assert_eq!(keys[1].1.len(), 2);
    }

    #[test]
    fn a_colour_found_all_over_the_frame_is_not_concentrated_in_its_lines() {
        let mut plane = GrayImage::new(100, 100);
        for x in 10..40 {
            plane.put_pixel(x, 12, image::Luma([255]));
        }
        let line = [Rect::new(10, 10, 30, 5)];
        assert!(concentrated(&plane, &line));
        for y in (40..100).step_by(3) {
            for x in 0..100 {
                plane.put_pixel(x, y, image::Luma([200]));
            }
        }
        assert!(!concentrated(&plane, &line));
    }
}
