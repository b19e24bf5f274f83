//! The lowest and highest stored values of a whole image, kept exactly over every sample (pixel
//! padding left out): where the display map that detection searches through clips its range.
//!
//! The map's clip is a count of pixels (at most 1000 on each side), so only that many values at
//! each end matter, and they are kept as they are met, frame after frame. A sample of the image
//! (one value in every few hundred) decided the clip before: a patient's name shown in one frame
//! of a 300-frame cine is a few hundred pixels of 74 million, which the sample caught or missed
//! depending on the frame's index, and a frame whose text it missed was searched in a range that
//! ended at the speckle's top, the name clipped to the same white as the grains (rv36 01).

use super::decode::Frames;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The `keep` lowest and `keep` highest values added, and how many were added.
#[derive(Debug, Clone)]
pub struct Tails {
    keep: usize,
    /// The lowest values, largest on top.
    low: BinaryHeap<i64>,
    /// The highest values, smallest on top.
    high: BinaryHeap<Reverse<i64>>,
    count: usize,
}

impl Tails {
    /// Empty tails that keep `keep` (at least 1) values at each end.
    pub fn new(keep: usize) -> Tails {
        let keep = keep.max(1);
        Tails { keep, low: BinaryHeap::with_capacity(keep), high: BinaryHeap::with_capacity(keep), count: 0 }
    }

    /// Count `v`.
    pub fn add(&mut self, v: i64) {
        self.count += 1;
        if self.low.len() < self.keep {
            self.low.push(v);
        } else if let Some(mut top) = self.low.peek_mut().filter(|t| v < **t) {
            *top = v;
        }
        if self.high.len() < self.keep {
            self.high.push(Reverse(v));
        } else if let Some(mut top) = self.high.peek_mut().filter(|t| v > t.0) {
            *top = Reverse(v);
        }
    }

    /// Count every sample of `f` that is not pixel padding ([`Frames::padding`]).
    pub fn add_frames(&mut self, f: &Frames) {
        let sb = f.sample_bytes();
        let padding = f.padding;
        for i in 0..f.data.len() / sb {
            let v = f.decode_at(i * sb);
            if !padding.is_some_and(|(lo, hi)| (lo..=hi).contains(&v)) {
                self.add(v);
            }
        }
    }

    /// How many values were added.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The `k`-th lowest value added (0: the lowest), or the highest kept one when `k` is past
    /// them; `None` when none was added.
    pub fn lowest(&self, k: usize) -> Option<i64> {
        let sorted = self.low.clone().into_sorted_vec();
        sorted.get(k.min(sorted.len().saturating_sub(1))).copied()
    }

    /// The `k`-th highest value added (0: the highest), or the lowest kept one when `k` is past
    /// them; `None` when none was added.
    pub fn highest(&self, k: usize) -> Option<i64> {
        let sorted = self.high.clone().into_sorted_vec(); // Reverse: highest first
        sorted.get(k.min(sorted.len().saturating_sub(1))).map(|r| r.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kth_values_at_each_end_are_those_of_sorting_everything() {
        let values: Vec<i64> = (0..50_000u64).map(|i| ((i * 2_654_435_761) % 10_007) as i64 - 5000).collect();
        let mut t = Tails::new(100);
        values.iter().for_each(|v| t.add(*v));
        let mut sorted = values.clone();
        sorted.sort_unstable();
        for k in [0, 1, 7, 99] {
            assert_eq!(t.lowest(k), Some(sorted[k]));
            assert_eq!(t.highest(k), Some(sorted[sorted.len() - 1 - k]));
        }
        assert_eq!(t.count(), values.len());
        assert_eq!(Tails::new(3).highest(0), None);
    }
}
