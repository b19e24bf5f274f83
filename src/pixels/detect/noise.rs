//! Local noise and surroundings: whether a line stands out from the noise right beside it,
//! where its surroundings are judged, and how large a line kept on weak evidence may be.
//!
//! The plane's noise level ([`super::noise_sigma`]) is one number for the whole frame, taken
//! where most pixels are. Where the noise differs across the frame (an MR's Rician noise is
//! weaker in the air than in the tissue, an angiogram's object is noisy on a flat black field),
//! noise grains on a flat part of the noisier area line up by chance, are all of one colour and
//! pass thresholds set for the quieter part. This module measures the noise beside a line and
//! asks the line's strokes to stand out from it as the frame-wide thresholds ask them to stand
//! out from the frame's noise. In a small frame (64 × 64) anatomy is the size of text and a line
//! may fill the frame's width: its surroundings are then above and below it, and a line kept
//! only on a hint must stay small beside the frame. Nothing here looks at the line's own pixels.

use super::super::rules::Rect;
use image::GrayImage;

/// How many times the local noise level a line's median stroke contrast must reach: the
/// `strong` threshold's own factor (six standard deviations) and a little more, since a line of
/// noise grains is made of the strongest grains.
const STANDS_OUT: f32 = 7.0;

/// Fewest pixel pairs a noise estimate is made from.
const FEWEST_PAIRS: usize = 64;

/// Noise level (standard deviation, 0-255) inside `rects` of `plane`, from the median absolute
/// difference of horizontal neighbours; `None` when the rectangles hold too few pixels.
pub(super) fn sigma_in(plane: &GrayImage, rects: &[Rect]) -> Option<f32> {
    let mut hist = [0usize; 256];
    let mut n = 0;
    let (w, h) = plane.dimensions();
    for r in rects {
        for y in r.y..r.bottom().min(h) {
            for x in r.x + 1..r.right().min(w) {
                let d = plane.get_pixel(x, y).0[0].abs_diff(plane.get_pixel(x - 1, y).0[0]);
                hist[d as usize] += 1;
                n += 1;
            }
        }
    }
    if n < FEWEST_PAIRS {
        return None;
    }
    let mut acc = 0;
    for (v, c) in hist.iter().enumerate() {
        acc += c;
        if acc * 2 >= n {
            // For Gaussian noise, |difference| has median 0.954 σ.
            return Some(v as f32 / 0.954);
        }
    }
    None
}

/// The parts of `outer` around `line`: beside it in its band, and above and below it when
/// `outer` reaches there.
pub(super) fn beside(line: &Rect, outer: &Rect) -> [Rect; 4] {
    let left = Rect::new(outer.x, line.y, line.x.saturating_sub(outer.x), line.height);
    let right = Rect::new(line.right(), line.y, outer.right().saturating_sub(line.right()), line.height);
    let above = Rect::new(outer.x, outer.y, outer.width, line.y.saturating_sub(outer.y));
    let below = Rect::new(outer.x, line.bottom(), outer.width, outer.bottom().saturating_sub(line.bottom()));
    [left, right, above, below]
}

/// Where a line's surroundings are judged: its band two heights to each side, or, when the
/// line spans the frame so that little is beside it, one height above and below it (a small
/// frame whose anatomy is the size of text).
pub(super) fn surroundings(line: &Rect, w: u32, h: u32) -> Rect {
    let x0 = line.x.saturating_sub(2 * line.height);
    let x1 = (line.right() + 2 * line.height).min(w);
    let side = Rect::new(x0, line.y, x1 - x0, line.height.min(h - line.y));
    if side.area().saturating_sub(line.area()) >= (line.height * line.height) as u64 {
        return side;
    }
    let y0 = line.y.saturating_sub(line.height);
    let y1 = (line.bottom() + line.height).min(h);
    Rect::new(line.x, y0, line.width, y1 - y0)
}

/// Whether an unsure line may be kept on a hint or a neighbour: text kept on such weak evidence
/// is no taller than half the frame (a blob of a small frame's anatomy may happen to be
/// as wide as the patient's name at its height).
pub(super) fn small_for_hint(line: &Rect, _w: u32, h: u32) -> bool {
    line.height * 2 <= h
}

/// Whether strokes of median contrast `contrast` stand out from the noise beside `line` (in
/// `outer`, its surroundings). Without enough pixels beside the line, they do.
pub(super) fn stands_out(plane: &GrayImage, line: &Rect, outer: &Rect, contrast: f32) -> bool {
    match sigma_in(plane, &beside(line, outer)) {
        Some(sigma) => contrast >= STANDS_OUT * sigma,
        None => true,
    }
}

/// A test frame flat black left of column `noisy_from`, and from it `mean` with Gaussian-like
/// noise of standard deviation `sigma` (a fixed generator, so tests are the same on every run).
#[cfg(test)]
pub(super) fn half_noisy(w: u32, h: u32, noisy_from: u32, mean: f32, sigma: f32) -> GrayImage {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 20001) as f32 / 10000.0 - 1.0
    };
    GrayImage::from_fn(w, h, |x, _| {
        let n: f32 = (0..4).map(|_| uniform()).sum::<f32>() * 0.866;
        image::Luma([if x < noisy_from { 0 } else { (mean + sigma * n).clamp(0.0, 255.0) as u8 }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strokes_as_strong_as_the_noise_beside_them_do_not_stand_out() {
        // The frame's noise level is 0 (most of it is flat): a line of grains in its noisy part,
        // at six times that part's noise, passes the frame's thresholds but not the local test.
        let img = half_noisy(400, 200, 240, 128.0, 9.0);
        let line = Rect::new(300, 80, 40, 20);
        let outer = surroundings(&line, 400, 200);
        let sigma = sigma_in(&img, &beside(&line, &outer)).unwrap();
        assert!(!stands_out(&img, &line, &outer, 6.0 * sigma));
        assert!(stands_out(&img, &line, &outer, 100.0));
        let quiet = Rect::new(60, 80, 40, 20);
        assert!(stands_out(&img, &quiet, &surroundings(&quiet, 400, 200), 20.0));
    }

    #[test]
    fn local_noise_is_measured_beside_the_line_only() {
        let img = half_noisy(400, 200, 240, 128.0, 9.0);
        let quiet = sigma_in(&img, &[Rect::new(0, 0, 200, 50)]).unwrap();
        let noisy = sigma_in(&img, &[Rect::new(250, 0, 150, 50)]).unwrap();
        assert_eq!(quiet, 0.0);
        assert!((6.0..12.0).contains(&noisy), "{noisy}");
        assert_eq!(sigma_in(&img, &[Rect::new(0, 0, 4, 4)]), None);
    }

    #[test]
    fn a_line_filling_a_small_frame_is_judged_by_what_is_above_and_below_it() {
        let line = Rect::new(0, 10, 64, 20);
        assert_eq!(surroundings(&line, 64, 64), Rect::new(0, 0, 64, 50));
        let short = Rect::new(100, 10, 64, 20);
        assert_eq!(surroundings(&short, 400, 64), Rect::new(60, 10, 144, 20));
    }

    #[test]
    fn a_hint_does_not_keep_a_line_taller_than_half_the_frame() {
        assert!(small_for_hint(&Rect::new(0, 0, 60, 12), 256, 256));
        assert!(!small_for_hint(&Rect::new(0, 0, 61, 33), 64, 64));
    }
}
