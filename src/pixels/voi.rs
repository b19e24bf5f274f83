//! The frame as a viewer shows it, for grey images of more than 8 bits stored.
//!
//! The detector searches 8-bit planes made by mapping the image's whole value range to 0–255
//! (`GreyMap` in [`crate::pixels`]). In a 12- or 16-bit image, text burned at a value a little above its
//! surroundings (1500 over 1000 of 4096, next to a marker at 4095) is then a few tens of grey
//! levels above them, under the detector's stroke contrast, while a viewer shows it plainly: it
//! maps a narrow window of values (the anatomy's) to the screen. [`Window::of`] gives that
//! mapping, so the cleaner searches every frame through it as well as through the full range:
//!
//! 1. the image's own VOI: Window Center and Width (their first values, with VOI LUT Function
//!    LINEAR, LINEAR_EXACT or SIGMOID), else the first VOI LUT of the VOI LUT Sequence; for an
//!    enhanced multi-frame image, the Frame VOI LUT of the shared or else the first frame's
//!    functional groups (one window per image), both after the modality transformation (Rescale
//!    Slope and Intercept, or the Modality LUT Sequence), as PS3.3 C.11 applies them;
//! 2. without one, a window over the bulk of the values: their 1st to 99th percentile (a
//!    viewer's automatic window), so text brighter than 99% of the pixels is at full white; but
//!    never narrower than [`MAX_BULK_GAIN`] times less than the full range (widened about its
//!    centre): over a faint noise floor (a black border, a flat background) the bulk is the
//!    noise, which a narrower window lifts into full-contrast grain that lines up as text.
//!
//! The window is used only when it shows the values it keeps at least [`MIN_GAIN`] times the
//! contrast the full-range map does; otherwise the full-range planes already show what it would.
//! 8-bit, colour and palette images have no window (nothing is computed for them). MONOCHROME1
//! is inverted after the window, as after the full-range map.

use super::decode::Frames;
use crate::dataset::{DataSet, Sequence, Tag};
use dicom_dictionary_std::tags;

/// How much more contrast than the full-range map a window must give to be searched through:
/// below this the full-range planes show the same strokes nearly as strongly.
pub const MIN_GAIN: f64 = 2.0;

/// The most contrast a window over the bulk of the values gives over the full-range map: text
/// 20 grey levels above its background there is 80 through it, well over the detector's stroke
/// threshold, while a noise floor is not lifted to full contrast.
pub const MAX_BULK_GAIN: f64 = 4.0;

/// Where a [`Window`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Window Center and Width (top level or functional groups).
    Header,
    /// The VOI LUT Sequence.
    Lut,
    /// The 1st to 99th percentile of the values.
    Bulk,
}

/// A mapping of stored values to 8 bits (before MONOCHROME1 inversion): the image as a viewer
/// shows it.
#[derive(Debug, Clone)]
pub struct Window {
    /// The stored value of `table[0]` (the smallest value Bits Stored allows).
    first: i64,
    /// The display value of every stored value from `first` on.
    table: Vec<u8>,
    /// Where the window comes from.
    pub source: Source,
}

impl Window {
    /// The window to search `f` (decoded from `ds`) through besides the full-range map
    /// (`full`: its lowest and highest stored value), or `None` when the image has 8 bits
    /// stored or fewer, is colour, has more than 16 bits stored, or no window gives
    /// [`MIN_GAIN`] times the full-range contrast.
    pub fn of(ds: &DataSet, f: &Frames, full: (i64, i64), big_endian: bool) -> Option<Window> {
        Window::of_sample(ds, f, || f.sorted_sample(), full, big_endian)
    }

    /// [`Window::of`] for an image whose attributes `f` gives (one frame of it, for an image
    /// decoded frame by frame) and whose [`Frames::sorted_sample`] `sorted` gives (asked only
    /// when the header has no window).
    pub fn of_sample(
        ds: &DataSet,
        f: &Frames,
        sorted: impl FnOnce() -> Vec<i64>,
        full: (i64, i64),
        big_endian: bool,
    ) -> Option<Window> {
        if f.bits_stored <= 8 || f.bits_stored > 16 || f.bits_allocated == 1 || f.samples != 1 {
            return None;
        }
        if f.photometric == "PALETTE COLOR" {
            return None;
        }
        let (lo, hi) = f.value_range();
        let modality = Modality::of(ds, big_endian, f.signed);
        let stored: Vec<i64> = (lo..=hi).collect();
        let header = voi_window(ds).map(|w| (w.table(&stored, &modality), Source::Header));
        let lut = || voi_lut(ds, big_endian, f.signed).map(|l| (l.table(&stored, &modality), Source::Lut));
        let (table, source) = match header.or_else(lut) {
            Some(t) => t,
            None => {
                let (p1, p99) = percentiles(&sorted())?;
                let least = (full.0 - full.1).abs() as f64 / MAX_BULK_GAIN;
                let width = ((p99 - p1) as f64 + 1.0).max(least);
                let w = Linear { center: (p1 + p99) as f64 / 2.0 + 0.5, width, exact: true };
                (w.table(&stored, &Modality::Identity), Source::Bulk)
            }
        };
        let window = Window { first: lo, table, source };
        (window.gain(full) >= MIN_GAIN).then_some(window)
    }

    /// The display value (0–255) of stored value `v`.
    pub fn map(&self, v: i64) -> u8 {
        let i = (v - self.first).clamp(0, self.table.len() as i64 - 1);
        self.table[i as usize]
    }

    /// How many times the contrast of the full-range map (`full`: the values mapped to 0 and
    /// 255) the window gives the values it does not clip: the full range over the number of
    /// values within it that the window maps strictly between black and white. A window that
    /// clips every value gives none.
    fn gain(&self, full: (i64, i64)) -> f64 {
        let (lo, hi) = (full.0.min(full.1), full.0.max(full.1));
        let inside = (lo..=hi).filter(|&v| (1..255).contains(&self.map(v))).count();
        if inside < 2 { 0.0 } else { (hi - lo).max(1) as f64 / inside as f64 }
    }
}

/// The modality transformation: stored values to the values the VOI applies to.
enum Modality {
    /// None (or slope 1, intercept 0).
    Identity,
    /// Rescale Slope and Intercept.
    Rescale(f64, f64),
    /// The Modality LUT Sequence's first LUT.
    Lut(Lut),
}

impl Modality {
    fn of(ds: &DataSet, big_endian: bool, signed: bool) -> Modality {
        let groups = group_items(ds, tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE);
        let slope = groups.iter().find_map(|g| decimal(g, tags::RESCALE_SLOPE));
        let intercept = groups.iter().find_map(|g| decimal(g, tags::RESCALE_INTERCEPT));
        match (slope, intercept) {
            (Some(s), i) if s != 0.0 => Modality::Rescale(s, i.unwrap_or(0.0)),
            (None, Some(i)) => Modality::Rescale(1.0, i),
            _ => first_item(ds, tags::MODALITY_LUT_SEQUENCE)
                .and_then(|item| Lut::of(item, big_endian, signed))
                .map_or(Modality::Identity, Modality::Lut),
        }
    }

    fn apply(&self, v: i64) -> f64 {
        match self {
            Modality::Identity => v as f64,
            Modality::Rescale(s, i) => v as f64 * s + i,
            Modality::Lut(l) => l.at(v as f64),
        }
    }
}

/// A linear (or sigmoid) VOI window in modality units.
struct Linear {
    center: f64,
    width: f64,
    /// LINEAR_EXACT (no half-value offsets); LINEAR otherwise.
    exact: bool,
}

/// The VOI LUT Function SIGMOID, applied to a [`Linear`] window's centre and width.
struct Sigmoid(Linear);

/// A window from the header: linear or sigmoid.
enum HeaderWindow {
    Linear(Linear),
    Sigmoid(Sigmoid),
}

impl HeaderWindow {
    fn table(&self, stored: &[i64], m: &Modality) -> Vec<u8> {
        match self {
            HeaderWindow::Linear(l) => l.table(stored, m),
            HeaderWindow::Sigmoid(Sigmoid(l)) => stored
                .iter()
                .map(|&v| {
                    let x = m.apply(v);
                    (255.0 / (1.0 + (-4.0 * (x - l.center) / l.width).exp())).round().clamp(0.0, 255.0) as u8
                })
                .collect(),
        }
    }
}

impl Linear {
    /// PS3.3 C.11.2.1.2.1 (LINEAR) and C.11.2.1.3.2 (LINEAR_EXACT), to 0–255.
    fn table(&self, stored: &[i64], m: &Modality) -> Vec<u8> {
        stored
            .iter()
            .map(|&v| {
                let x = m.apply(v);
                let y = if self.exact {
                    (x - self.center) / self.width + 0.5
                } else if self.width <= 1.0 {
                    if x < self.center - 0.5 { 0.0 } else { 1.0 }
                } else {
                    (x - (self.center - 0.5)) / (self.width - 1.0) + 0.5
                };
                (y * 255.0).round().clamp(0.0, 255.0) as u8
            })
            .collect()
    }
}

/// A LUT (modality or VOI): PS3.3 C.11.1 / C.11.2.1.1.
struct Lut {
    /// The input value of `data[0]`.
    first: i64,
    /// The output values.
    data: Vec<u32>,
    /// Bits of an output value.
    bits: u32,
}

impl Lut {
    /// The LUT of a sequence item: LUT Descriptor (entries, 0 meaning 65 536; first input value,
    /// signed when the pixels are; bits per entry) and LUT Data (16-bit words, or bytes when
    /// the data has one byte an entry).
    fn of(item: &DataSet, big_endian: bool, signed: bool) -> Option<Lut> {
        let desc = item.bytes(tags::LUT_DESCRIPTOR)?;
        if desc.len() < 6 {
            return None;
        }
        let word =
            |b: &[u8]| if big_endian { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) };
        let entries = match word(&desc[0..2]) {
            0 => 65_536usize,
            n => n as usize,
        };
        let first = if signed { word(&desc[2..4]) as i16 as i64 } else { word(&desc[2..4]) as i64 };
        let bits = (word(&desc[4..6]) as u32).clamp(1, 16);
        let raw = item.bytes(tags::LUT_DATA)?;
        let data: Vec<u32> = if raw.len() >= entries * 2 {
            raw.chunks_exact(2).take(entries).map(|c| word(c) as u32).collect()
        } else if raw.len() >= entries {
            raw[..entries].iter().map(|&b| b as u32).collect()
        } else {
            return None;
        };
        Some(Lut { first, data, bits })
    }

    /// The output for input `x` (the ends hold outside the LUT's range).
    fn at(&self, x: f64) -> f64 {
        let i = (x.round() as i64 - self.first).clamp(0, self.data.len() as i64 - 1);
        self.data[i as usize] as f64
    }

    fn table(&self, stored: &[i64], m: &Modality) -> Vec<u8> {
        let top = ((1u64 << self.bits) - 1) as f64;
        stored.iter().map(|&v| (self.at(m.apply(v)) * 255.0 / top).round().clamp(0.0, 255.0) as u8).collect()
    }
}

/// The header's window: Window Center and Width (first values) at the top level, else in the
/// Frame VOI LUT Sequence of the shared, else the first frame's, functional groups.
fn voi_window(ds: &DataSet) -> Option<HeaderWindow> {
    let groups = group_items(ds, tags::FRAME_VOILUT_SEQUENCE);
    let g = groups
        .iter()
        .find(|g| decimal(g, tags::WINDOW_CENTER).is_some() && decimal(g, tags::WINDOW_WIDTH).is_some())?;
    let (center, width) = (decimal(g, tags::WINDOW_CENTER)?, decimal(g, tags::WINDOW_WIDTH)?);
    if width <= 0.0 {
        return None;
    }
    let function = g.ascii(tags::VOILUT_FUNCTION).map(|s| s.trim_matches([' ', '\0']).to_ascii_uppercase());
    Some(match function.as_deref() {
        Some("SIGMOID") => HeaderWindow::Sigmoid(Sigmoid(Linear { center, width, exact: false })),
        Some("LINEAR_EXACT") => HeaderWindow::Linear(Linear { center, width, exact: true }),
        _ => HeaderWindow::Linear(Linear { center, width, exact: false }),
    })
}

/// The first VOI LUT of the VOI LUT Sequence.
fn voi_lut(ds: &DataSet, big_endian: bool, signed: bool) -> Option<Lut> {
    Lut::of(first_item(ds, tags::VOILUT_SEQUENCE)?, big_endian, signed)
}

/// Where a window or rescale may be: the data set itself, then the first item of `sequence` in
/// the shared functional groups, then in the first frame's.
fn group_items(ds: &DataSet, sequence: Tag) -> Vec<&DataSet> {
    let mut out = vec![ds];
    for groups in [tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE] {
        if let Some(item) = first_item(ds, groups).and_then(|g| first_item(g, sequence)) {
            out.push(item);
        }
    }
    out
}

fn first_item(ds: &DataSet, tag: Tag) -> Option<&DataSet> {
    let seq: &Sequence = ds.get(tag)?.value.sequence()?;
    seq.items.first().map(|i| &i.dataset)
}

/// The first value of a decimal string, when it is a finite number.
fn decimal(ds: &DataSet, tag: Tag) -> Option<f64> {
    let text = ds.ascii(tag)?;
    let first = text.split('\\').next()?.trim_matches([' ', '\0']);
    first.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The 1st and 99th percentile of the stored values (over a sample of at most about 200 000
/// pixels of all frames), or `None` without pixels.
fn percentiles(values: &[i64]) -> Option<(i64, i64)> {
    if values.is_empty() {
        return None;
    }
    Some((super::decode::quantile(values, 0.01), super::decode::quantile(values, 0.99)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Element, VR};

    fn frames(bits_stored: u16, signed: bool, values: &[i64]) -> Frames {
        let mut f = Frames {
            rows: 1,
            cols: values.len() as u32,
            frames: 1,
            samples: 1,
            bits_allocated: if bits_stored > 8 { 16 } else { 8 },
            bits_stored,
            high_bit: bits_stored - 1,
            signed,
            photometric: "MONOCHROME2".into(),
            palette: None,
            data: vec![0; values.len() * if bits_stored > 8 { 2 } else { 1 }],
            lossy: false,
            compressed_bytes: None,
            padding: None,
        };
        let sb = f.sample_bytes();
        for (i, &v) in values.iter().enumerate() {
            f.encode_at(i * sb, v);
        }
        f
    }

    /// Anatomy 800..1400 (most pixels), a few markers at 4095, a few dark pixels at 0.
    fn radiograph() -> Vec<i64> {
        let mut v: Vec<i64> = (0..10_000).map(|i| 800 + (i * 7919) % 601).collect();
        v.extend([4095; 20]);
        v.extend([0; 20]);
        v
    }

    fn ds(elements: Vec<Element>) -> DataSet {
        DataSet::from_elements(elements)
    }

    #[test]
    fn without_a_header_window_the_bulk_of_the_values_is_shown() {
        let f = frames(12, false, &radiograph());
        let w = Window::of(&DataSet::new(), &f, (0, 4095), false).expect("a window");
        assert_eq!(w.source, Source::Bulk);
        // The bulk (800..1400) is a seventh of the full range: the window is widened to a
        // quarter of it (1024 values) about the bulk's centre, 588..1612. Text at 1500 over a
        // background at 1000 is 125 levels apart, not 31.
        assert!(w.map(1500) >= 220, "{}", w.map(1500));
        assert!((90..120).contains(&w.map(1000)), "{}", w.map(1000));
        assert_eq!(w.map(580), 0);
        assert_eq!(w.map(1620), 255);
        // Over a faint noise floor (values 0..100, text at 4000 in 0.5% of the pixels) the window
        // stays a quarter of the range: the floor is not lifted to full contrast.
        let floor: Vec<i64> = (0..5000).map(|i| if i % 200 == 0 { 4000 } else { (i * 7919) % 101 }).collect();
        let w = Window::of(&DataSet::new(), &frames(12, false, &floor), (0, 4000), false).expect("a window");
        assert!(w.map(100) - w.map(0) <= 30, "{} {}", w.map(0), w.map(100));
        assert_eq!(w.map(4000), 255);
    }

    #[test]
    fn the_header_window_wins_after_the_rescale() {
        let f = frames(12, false, &radiograph());
        // Modality values = stored * 2 - 1024: the window 800..1400 of stored values is
        // 576..1776, centre 1176 width 1200.
        let d = ds(vec![
            Element::new(tags::RESCALE_SLOPE, VR::DS, b"2 ".to_vec()),
            Element::new(tags::RESCALE_INTERCEPT, VR::DS, b"-1024 ".to_vec()),
            Element::new(tags::WINDOW_CENTER, VR::DS, b"1176\\40".to_vec()),
            Element::new(tags::WINDOW_WIDTH, VR::DS, b"1200\\400".to_vec()),
        ]);
        let w = Window::of(&d, &f, (0, 4095), false).expect("a window");
        assert_eq!(w.source, Source::Header);
        assert_eq!(w.map(799), 0);
        assert_eq!(w.map(1401), 255);
        assert!((125..=130).contains(&w.map(1100)), "{}", w.map(1100));
    }

    #[test]
    fn signed_values_and_a_voi_lut_are_followed() {
        // Signed 16 bits: anatomy -300..300; a VOI LUT of 601 entries from -300, 8 bits out.
        let values: Vec<i64> = radiograph().iter().map(|v| v - 1100).collect();
        let f = frames(16, true, &values);
        let mut desc = Vec::new();
        for w in [601u16, (-300i16) as u16, 8] {
            desc.extend(w.to_le_bytes());
        }
        let data: Vec<u8> = (0..601u32).flat_map(|i| ((i * 255 / 600) as u16).to_le_bytes()).collect();
        let item =
            ds(vec![Element::new(tags::LUT_DESCRIPTOR, VR::SS, desc), Element::new(tags::LUT_DATA, VR::OW, data)]);
        let d = ds(vec![Element::sequence(tags::VOILUT_SEQUENCE, vec![item])]);
        let w = Window::of(&d, &f, (-1100, 2995), false).expect("a window");
        assert_eq!(w.source, Source::Lut);
        assert_eq!(w.map(-300), 0);
        assert_eq!(w.map(300), 255);
        assert_eq!(w.map(2995), 255);
        assert_eq!(w.map(0), 127);
    }

    #[test]
    fn a_window_of_the_enhanced_functional_groups_is_used() {
        let f = frames(12, false, &radiograph());
        let voi = ds(vec![
            Element::new(tags::WINDOW_CENTER, VR::DS, b"1100".to_vec()),
            Element::new(tags::WINDOW_WIDTH, VR::DS, b"600 ".to_vec()),
        ]);
        let shared = ds(vec![Element::sequence(tags::FRAME_VOILUT_SEQUENCE, vec![voi])]);
        let d = ds(vec![Element::sequence(tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, vec![shared])]);
        let w = Window::of(&d, &f, (0, 4095), false).expect("a window");
        assert_eq!(w.source, Source::Header);
        assert_eq!(w.map(1500), 255);
        assert_eq!(w.map(700), 0);
    }

    #[test]
    fn no_window_for_8_bits_or_a_window_no_narrower_than_the_full_range() {
        let eight = frames(8, false, &(0..1000).map(|i| i % 256).collect::<Vec<_>>());
        assert!(Window::of(&DataSet::new(), &eight, (0, 255), false).is_none());
        // The header window spans the whole range: the full-range planes already show it.
        let f = frames(12, false, &radiograph());
        let wide = ds(vec![
            Element::new(tags::WINDOW_CENTER, VR::DS, b"2048".to_vec()),
            Element::new(tags::WINDOW_WIDTH, VR::DS, b"4096".to_vec()),
        ]);
        assert!(Window::of(&wide, &f, (0, 4095), false).is_none());
        // Values spread evenly over the whole range: the bulk is the range.
        let even = frames(12, false, &(0..4096).collect::<Vec<_>>());
        assert!(Window::of(&DataSet::new(), &even, (2, 4093), false).is_none());
    }
}
