//! Short words: lines of two or three glyphs, such as a Japanese surname in kanji (山田, 田中,
//! 佐々木) or a two-letter label, which the line score counts as weak evidence.
//!
//! The line score ([`super::Detector::features`]) gives two glyphs, and three large ones, little
//! weight: on anatomy and colour flow two or three blobs line up by chance. A kanji name is
//! exactly that few glyphs, large and square, so a two-kanji surname printed alone on a black
//! ultrasound border stayed unsure and was left readable. Kanji do not share a baseline as
//! letters do but sit centred in one square cell, so the glyphs of such a word are of one
//! height give or take a quarter (口 is shorter than 田) and each lies inside the band of the
//! tallest. This module says whether a line's glyphs stand so; the caller asks it only of lines
//! in quiet surroundings (a plain border or page), where chance shapes that regular are rare.
//! Nothing here looks at what the glyphs depict, so no list of characters is involved.

use super::Comp;

/// Smallest glyph height (pixels) of a short word: below it, speckle grains and dots.
const LEAST_HEIGHT: u32 = 8;

/// Largest ratio, in tenths, between the tallest and the shortest glyph of a short word, and
/// between the word's band and its shortest glyph: kanji of one size differ by up to a quarter
/// (口 beside 田), letters by less.
const HEIGHT_SPREAD: u32 = 13;

/// Widest gap between neighbouring glyphs of a short word, in tenths of the tallest glyph:
/// kanji stand almost touching, letters of a word likewise; graphics that merely share a
/// height stand further apart.
const WIDEST_GAP: u32 = 8;

/// Whether the glyph-sized components `glyphs` of a line (sorted by left edge or not) stand as
/// the glyphs of a short word: two or three of them, at least [`LEAST_HEIGHT`] pixels high, of
/// one height within [`HEIGHT_SPREAD`], inside one band no taller than that spread allows, side
/// by side without overlapping and no further apart than [`WIDEST_GAP`], each drawn with thin
/// strokes (a mean stroke width under about a third of its height), neither solid nor a faint
/// outline (ink filling a tenth to 85 % of its box).
pub(super) fn is_short_word(glyphs: &[&Comp]) -> bool {
    if !(2..=3).contains(&glyphs.len()) {
        return false;
    }
    let shortest = glyphs.iter().map(|c| c.h()).min().unwrap_or(0);
    let tallest = glyphs.iter().map(|c| c.h()).max().unwrap_or(0);
    let top = glyphs.iter().map(|c| c.y0).min().unwrap_or(0);
    let bottom = glyphs.iter().map(|c| c.y1).max().unwrap_or(0);
    let band = bottom - top + 1;
    if shortest < LEAST_HEIGHT || tallest * 10 > shortest * HEIGHT_SPREAD || band * 10 > shortest * HEIGHT_SPREAD {
        return false;
    }
    let mut sorted: Vec<&Comp> = glyphs.to_vec();
    sorted.sort_by_key(|c| c.x0);
    let side_by_side = sorted.windows(2).all(|p| p[1].x0 > p[0].x1 && (p[1].x0 - p[0].x1) * 10 <= tallest * WIDEST_GAP);
    let drawn = sorted.iter().all(|c| {
        let fill = c.area as f32 / (c.w() * c.h()) as f32;
        c.stroke() <= c.h() as f32 * 0.35 && (0.1..=0.85).contains(&fill)
    });
    side_by_side && drawn
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component with the box (x0, y0)-(x1, y1) inclusive, `area` pixels of ink and a stroke
    /// about two pixels wide.
    fn comp(x0: u32, y0: u32, x1: u32, y1: u32, area: u32) -> Comp {
        Comp {
            x0,
            y0,
            x1,
            y1,
            area,
            boundary: area,
            contrast: 200,
            peak: 255,
            plateau: area,
            colour: 255.0,
            hue: [0.0; 2],
        }
    }

    #[test]
    fn two_square_glyphs_of_one_height_side_by_side_are_a_word() {
        // 山田 at 24 px: two 20-pixel cells two pixels apart.
        let (a, b) = (comp(33, 33, 52, 52, 110), comp(55, 33, 74, 52, 130));
        assert!(is_short_word(&[&a, &b]));
        // 田中: 中 reaches two pixels above and below 田, as kanji of one size do.
        let (a, b) = (comp(33, 34, 52, 51, 120), comp(55, 32, 74, 53, 100));
        assert!(is_short_word(&[&a, &b]));
        // Three of them (佐々木).
        let c = comp(77, 33, 96, 52, 100);
        let (a, b) = (comp(33, 33, 52, 52, 110), comp(55, 33, 74, 52, 130));
        assert!(is_short_word(&[&a, &b, &c]));
    }

    #[test]
    fn glyphs_of_other_heights_apart_overlapping_or_solid_are_not() {
        let a = comp(33, 33, 52, 52, 110);
        // Half as tall.
        assert!(!is_short_word(&[&a, &comp(55, 40, 64, 49, 40)]));
        // Of one height but at other heights (a step, not a word).
        assert!(!is_short_word(&[&a, &comp(55, 41, 74, 60, 110)]));
        // Further apart than most of a glyph.
        assert!(!is_short_word(&[&a, &comp(70, 33, 89, 52, 110)]));
        // Overlapping (tendrils, not glyphs side by side).
        assert!(!is_short_word(&[&a, &comp(48, 33, 67, 52, 110)]));
        // Solid blocks.
        assert!(!is_short_word(&[&comp(33, 33, 52, 52, 380), &comp(55, 33, 74, 52, 380)]));
        // Speckle-sized.
        assert!(!is_short_word(&[&comp(0, 0, 5, 5, 12), &comp(7, 0, 12, 5, 12)]));
        // One glyph, or four (a line the score already judges).
        assert!(!is_short_word(&[&a]));
        let four: Vec<Comp> = (0..4).map(|i| comp(33 + 22 * i, 33, 52 + 22 * i, 52, 110)).collect();
        assert!(!is_short_word(&four.iter().collect::<Vec<_>>()));
    }
}
