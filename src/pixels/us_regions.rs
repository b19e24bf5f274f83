//! Ultrasound regions: when an image has a Sequence of Ultrasound Regions (0018,6011), the regions
//! that hold data (tissue, flow, spectral Doppler, traces, grey and colour bars) are where the
//! scanner draws the image; everything else is annotation space, where scanners print the
//! patient's name, ID and the date. This module turns the regions into the rectangles outside
//! them.
//!
//! A region is used only when it is a real area of the image: its Max is beyond its Min on both
//! axes, it fits the image (Max X1/Y1 at most one past the last column/row, which some scanners
//! write), and it is at least [`MIN_REGION_SIDE`] pixels wide and tall. Anything else — the
//! (0,0)-(0,0) some devices write for "not set", a line, a region of another image size — is no
//! image area: taken as one, it would make everything around it annotation space and blank the
//! whole image. A sequence without any usable data region gives nothing: the caller falls back
//! to what it does without regions (rules and detection). Pure; reads the source data set.

use super::rules::Rect;
use crate::dataset::{DataSet, Tag};
use dicom_dictionary_std::tags;

/// Region Data Type values (PS3.3 C.8.5.5.1.2) whose region holds image data: tissue (1), color
/// flow (2), PW and CW spectral Doppler (3, 4), Doppler traces (5-8), ECG, pulse and
/// phonocardiogram traces (0x0A-0x0C), grey and colour bars (0x0D, 0x0E), integrated backscatter,
/// area traces and other physiological input (0x0F-0x12). 0 ("none") and 9 (reserved) do not.
pub fn holds_data(region_data_type: u16) -> bool {
    matches!(region_data_type, 0x0001..=0x0008 | 0x000A..=0x0012)
}

fn ul(ds: &DataSet, tag: Tag, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = ds.bytes(tag)?.get(..4)?.try_into().ok()?;
    Some(if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
}

/// Smallest width and height (pixels) of a data region kamei uses: smaller ones are taken as
/// placeholders, not as the area where the scanner draws the image.
pub const MIN_REGION_SIDE: u32 = 8;

/// The data regions of an image's Sequence of Ultrasound Regions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Regions {
    /// The data regions that are a real area of the image (see the module documentation).
    pub usable: Vec<Rect>,
    /// Data regions left out: without coordinates, degenerate (Max not beyond Min, smaller than
    /// [`MIN_REGION_SIDE`]) or not inside the image.
    pub unusable: usize,
}

/// The data regions of the image. `None` when the image has no Sequence of Ultrasound Regions;
/// `Some` with no usable region when it has one without a data region that is a real area of
/// the image.
pub fn data_regions(ds: &DataSet, cols: u32, rows: u32, big_endian: bool) -> Option<Regions> {
    let seq = ds.get(tags::SEQUENCE_OF_ULTRASOUND_REGIONS)?.value.sequence()?;
    let mut out = Regions::default();
    for item in &seq.items {
        let d = &item.dataset;
        let kind = d.us(tags::REGION_DATA_TYPE, big_endian).unwrap_or(0);
        if !holds_data(kind) {
            continue;
        }
        let corners = (
            ul(d, tags::REGION_LOCATION_MIN_X0, big_endian),
            ul(d, tags::REGION_LOCATION_MIN_Y0, big_endian),
            ul(d, tags::REGION_LOCATION_MAX_X1, big_endian),
            ul(d, tags::REGION_LOCATION_MAX_Y1, big_endian),
        );
        match corners {
            (Some(x0), Some(y0), Some(x1), Some(y1)) => match usable(x0, y0, x1, y1, cols, rows) {
                Some(r) => out.usable.push(r),
                None => out.unusable += 1,
            },
            _ => out.unusable += 1,
        }
    }
    Some(out)
}

/// The region (x0,y0)-(x1,y1), inclusive, as a rectangle of the image, when it is a real area of it.
fn usable(x0: u32, y0: u32, x1: u32, y1: u32, cols: u32, rows: u32) -> Option<Rect> {
    // Max X1/Y1 are inclusive (the last column and row of the region); one past the image's
    // last column or row is tolerated (and clipped), anything further is another image's region.
    if x1 <= x0 || y1 <= y0 || x1 > cols || y1 > rows {
        return None;
    }
    let r = Rect::new(x0, y0, x1 - x0 + 1, y1 - y0 + 1).clip(cols, rows)?;
    (r.width >= MIN_REGION_SIDE && r.height >= MIN_REGION_SIDE).then_some(r)
}

/// The rectangles covering the image minus the union of `regions`, as few as a grid
/// decomposition gives (cells merged along rows).
pub fn outside(regions: &[Rect], cols: u32, rows: u32) -> Vec<Rect> {
    let mut xs: Vec<u32> = vec![0, cols];
    let mut ys: Vec<u32> = vec![0, rows];
    for r in regions {
        xs.extend([r.x, r.right()]);
        ys.extend([r.y, r.bottom()]);
    }
    xs.sort_unstable();
    xs.dedup();
    ys.sort_unstable();
    ys.dedup();
    let mut out: Vec<Rect> = Vec::new();
    for yw in ys.windows(2) {
        let mut run: Option<(u32, u32)> = None;
        for xw in xs.windows(2) {
            let cell = Rect::new(xw[0], yw[0], xw[1] - xw[0], yw[1] - yw[0]);
            let covered = regions.iter().any(|r| r.contains(&cell));
            match (covered, run) {
                (false, None) => run = Some((xw[0], xw[1])),
                (false, Some((s, _))) => run = Some((s, xw[1])),
                (true, Some((s, e))) => {
                    out.push(Rect::new(s, yw[0], e - s, yw[1] - yw[0]));
                    run = None;
                }
                (true, None) => {}
            }
        }
        if let Some((s, e)) = run {
            out.push(Rect::new(s, yw[0], e - s, yw[1] - yw[0]));
        }
    }
    // Merge vertically adjacent strips of the same horizontal extent.
    out.sort_by_key(|r| (r.x, r.width, r.y));
    let mut merged: Vec<Rect> = Vec::new();
    for r in out {
        match merged.last_mut() {
            Some(m) if m.x == r.x && m.width == r.width && m.bottom() == r.y => m.height += r.height,
            _ => merged.push(r),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Element, VR};

    fn region(kind: u16, x0: u32, y0: u32, x1: u32, y1: u32) -> DataSet {
        DataSet::from_elements([
            Element::new(tags::REGION_DATA_TYPE, VR::US, kind.to_le_bytes().to_vec()),
            Element::new(tags::REGION_LOCATION_MIN_X0, VR::UL, x0.to_le_bytes().to_vec()),
            Element::new(tags::REGION_LOCATION_MIN_Y0, VR::UL, y0.to_le_bytes().to_vec()),
            Element::new(tags::REGION_LOCATION_MAX_X1, VR::UL, x1.to_le_bytes().to_vec()),
            Element::new(tags::REGION_LOCATION_MAX_Y1, VR::UL, y1.to_le_bytes().to_vec()),
        ])
    }

    #[test]
    fn outside_of_one_region_covers_the_rest_exactly() {
        let regions = [Rect::new(10, 20, 30, 40)];
        let out = outside(&regions, 100, 80);
        let covered: u64 = out.iter().map(Rect::area).sum();
        assert_eq!(covered, 100 * 80 - 30 * 40);
        assert!(out.iter().all(|r| !r.intersects(&regions[0])));
    }

    #[test]
    fn outside_of_two_regions() {
        let regions = [Rect::new(0, 10, 50, 50), Rect::new(60, 10, 40, 20)];
        let out = outside(&regions, 100, 80);
        let covered: u64 = out.iter().map(Rect::area).sum();
        assert_eq!(covered, 100 * 80 - 50 * 50 - 40 * 20);
        for r in &out {
            for g in &regions {
                assert!(!r.intersects(g), "{r:?} {g:?}");
            }
        }
    }

    #[test]
    fn regions_are_read_inclusive_and_non_data_regions_skipped() {
        let ds = DataSet::from_elements([Element::sequence(
            tags::SEQUENCE_OF_ULTRASOUND_REGIONS,
            vec![region(1, 100, 50, 539, 429), region(0, 0, 0, 639, 479)],
        )]);
        let got = data_regions(&ds, 640, 480, false).unwrap();
        assert_eq!(got.usable, vec![Rect::new(100, 50, 440, 380)]);
        assert_eq!(got.unusable, 0);
        assert_eq!(data_regions(&DataSet::new(), 640, 480, false), None);
    }

    #[test]
    fn degenerate_and_out_of_image_regions_are_no_image_area() {
        let ds = DataSet::from_elements([Element::sequence(
            tags::SEQUENCE_OF_ULTRASOUND_REGIONS,
            vec![
                region(1, 0, 0, 0, 0),         // "not set"
                region(1, 10, 10, 10, 200),    // a line
                region(1, 300, 200, 20, 20),   // Max before Min
                region(1, 5, 5, 9, 9),         // 5 x 5 pixels
                region(1, 100, 100, 900, 400), // wider than the image
                region(1, 700, 500, 800, 600), // wholly outside
            ],
        )]);
        let got = data_regions(&ds, 640, 480, false).unwrap();
        assert!(got.usable.is_empty(), "{:?}", got.usable);
        assert_eq!(got.unusable, 6);
    }

    #[test]
    fn a_region_ending_one_past_the_last_column_is_clipped_and_used() {
        let ds = DataSet::from_elements([Element::sequence(
            tags::SEQUENCE_OF_ULTRASOUND_REGIONS,
            vec![region(1, 0, 40, 640, 480), region(1, 0, 0, 0, 0)],
        )]);
        let got = data_regions(&ds, 640, 480, false).unwrap();
        assert_eq!(got.usable, vec![Rect::new(0, 40, 640, 440)]);
        assert_eq!(got.unusable, 1);
    }
}
