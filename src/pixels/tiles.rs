//! Where each frame of a tiled image lies in the whole image, so a rectangle given in the whole
//! image's coordinates (a device rule's) is blanked in each tile where it crosses it.
//!
//! A tiled image (a whole-slide image, PS3.3 C.8.12.4) stores one picture, its Total Pixel
//! Matrix (Total Pixel Matrix Columns × Rows), as frames of Columns × Rows each. Where each
//! frame goes (PS3.3 C.7.6.17.3, Dimension Organization Type):
//! - `TILED_FULL`: every position is present and the frames are in a fixed order: tiles row
//!   by row, left to right within a row, for one focal plane and optical path, then the same
//!   for the next focal plane, optical path and segment. Frame `i` is tile `i mod (across ×
//!   down)` of that order.
//! - otherwise (`TILED_SPARSE`, or no type): each frame's Plane Position (Slide) Sequence
//!   (0048,021A) in the Per-frame (or Shared) Functional Groups gives its Column and Row
//!   Position In Total Image Pixel Matrix (0048,021E / 021F, 1-based).
//!
//! An image without a Total Pixel Matrix is not tiled: its frames all show the whole image.

use super::rules::Rect;
use crate::dataset::{DataSet, Tag, VR};
use dicom_dictionary_std::tags;

/// How the frames of an image map onto the whole image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// Not tiled: each frame is the whole image.
    Whole,
    /// Tiled: the whole image's size and each frame's top left corner in it.
    Tiled(Tiling),
    /// Tiled, but where a frame lies cannot be told (the reason, no values).
    Unknown(String),
}

/// The frames of a tiled image in its Total Pixel Matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiling {
    /// Total Pixel Matrix Columns and Rows.
    pub total: (u32, u32),
    /// A frame's Columns and Rows.
    pub tile: (u32, u32),
    /// Each frame's top left corner (column, row from 0) in the Total Pixel Matrix.
    pub origins: Vec<(i64, i64)>,
}

/// One piece of a rectangle on one tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// The frame (index from 0).
    pub frame: u32,
    /// The piece in the frame's coordinates.
    pub in_frame: Rect,
    /// The same piece in the Total Pixel Matrix's coordinates.
    pub in_image: Rect,
}

impl Tiling {
    /// `rect` (in the Total Pixel Matrix's coordinates) cut into the pieces each frame holds,
    /// clipped to the Total Pixel Matrix; empty when it lies outside the whole image.
    pub fn pieces(&self, rect: &Rect) -> Vec<Piece> {
        let Some(rect) = rect.clip(self.total.0, self.total.1) else { return Vec::new() };
        let (cols, rows) = (i64::from(self.tile.0), i64::from(self.tile.1));
        let mut out = Vec::new();
        for (frame, &(ox, oy)) in self.origins.iter().enumerate() {
            let x0 = i64::from(rect.x).max(ox);
            let y0 = i64::from(rect.y).max(oy);
            let x1 = i64::from(rect.right()).min(ox + cols);
            let y1 = i64::from(rect.bottom()).min(oy + rows);
            if x1 <= x0 || y1 <= y0 {
                continue;
            }
            let (w, h) = ((x1 - x0) as u32, (y1 - y0) as u32);
            out.push(Piece {
                frame: frame as u32,
                in_frame: Rect::new((x0 - ox) as u32, (y0 - oy) as u32, w, h),
                in_image: Rect::new(x0 as u32, y0 as u32, w, h),
            });
        }
        out
    }
}

/// The layout of the `frames` frames of `ds`, each `tile` (Columns, Rows) in size;
/// `big_endian` is the byte order of its binary values.
pub fn layout(ds: &DataSet, frames: u32, tile: (u32, u32), big_endian: bool) -> Layout {
    let tiled_type = ds.ascii(tags::DIMENSION_ORGANIZATION_TYPE).map(|v| v.trim_matches([' ', '\0']));
    let total = (
        unsigned(ds, tags::TOTAL_PIXEL_MATRIX_COLUMNS, big_endian),
        unsigned(ds, tags::TOTAL_PIXEL_MATRIX_ROWS, big_endian),
    );
    let (total_cols, total_rows) = match total {
        (Some(c), Some(r)) if c > 0 && r > 0 => (c, r),
        (None, None) if !tiled_type.is_some_and(|t| t.starts_with("TILED")) => return Layout::Whole,
        _ => return Layout::Unknown("no usable Total Pixel Matrix Columns and Rows".to_string()),
    };
    if tile.0 == 0 || tile.1 == 0 {
        return Layout::Unknown("frames of no size".to_string());
    }
    let origins = if tiled_type == Some("TILED_FULL") {
        let across = total_cols.div_ceil(tile.0) as u64;
        let down = total_rows.div_ceil(tile.1) as u64;
        let per_plane = across * down;
        (0..u64::from(frames))
            .map(|i| {
                let t = i % per_plane;
                ((t % across) as i64 * i64::from(tile.0), (t / across) as i64 * i64::from(tile.1))
            })
            .collect()
    } else {
        match (0..frames).map(|i| plane_position(ds, i, big_endian)).collect::<Option<Vec<_>>>() {
            Some(o) => o,
            None => {
                return Layout::Unknown(
                    "a frame has no Plane Position (Slide) and the Dimension Organization Type is not TILED_FULL"
                        .to_string(),
                );
            }
        }
    };
    Layout::Tiled(Tiling { total: (total_cols, total_rows), tile, origins })
}

/// Frame `i`'s top left corner (from 0) from its Plane Position (Slide) Sequence, in the
/// Per-frame Functional Groups, or in the Shared ones.
fn plane_position(ds: &DataSet, i: u32, big_endian: bool) -> Option<(i64, i64)> {
    let item =
        |seq: Tag, n: usize| -> Option<&DataSet> { ds.get(seq)?.value.sequence()?.items.get(n).map(|it| &it.dataset) };
    let position = |group: &DataSet| -> Option<(i64, i64)> {
        let p = &group.get(tags::PLANE_POSITION_SLIDE_SEQUENCE)?.value.sequence()?.items.first()?.dataset;
        let column = signed(p, tags::COLUMN_POSITION_IN_TOTAL_IMAGE_PIXEL_MATRIX, big_endian)?;
        let row = signed(p, tags::ROW_POSITION_IN_TOTAL_IMAGE_PIXEL_MATRIX, big_endian)?;
        Some((column - 1, row - 1))
    };
    item(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, i as usize)
        .and_then(position)
        .or_else(|| item(tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, 0).and_then(position))
}

/// The first value of a UL attribute (a US or IS one is read too).
fn unsigned(ds: &DataSet, tag: Tag, big_endian: bool) -> Option<u32> {
    let e = ds.get(tag)?;
    let b = e.bytes()?;
    match e.vr {
        VR::US => ds.us(tag, big_endian).map(u32::from),
        VR::UL | VR::UN => {
            let b: [u8; 4] = b.get(..4)?.try_into().ok()?;
            Some(if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
        }
        _ => std::str::from_utf8(b).ok()?.split('\\').next()?.trim_matches([' ', '\0']).parse().ok(),
    }
}

/// The first value of an SL attribute.
fn signed(ds: &DataSet, tag: Tag, big_endian: bool) -> Option<i64> {
    let b: [u8; 4] = ds.bytes(tag)?.get(..4)?.try_into().ok()?;
    Some(i64::from(if big_endian { i32::from_be_bytes(b) } else { i32::from_le_bytes(b) }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Element;

    fn slide(kind: &str) -> DataSet {
        DataSet::from_elements([
            Element::new(tags::DIMENSION_ORGANIZATION_TYPE, VR::CS, kind.as_bytes().to_vec()),
            Element::new(tags::TOTAL_PIXEL_MATRIX_COLUMNS, VR::UL, 480u32.to_le_bytes().to_vec()),
            Element::new(tags::TOTAL_PIXEL_MATRIX_ROWS, VR::UL, 320u32.to_le_bytes().to_vec()),
        ])
    }

    #[test]
    fn tiled_full_frames_are_row_major_and_repeat_per_focal_plane() {
        let Layout::Tiled(t) = layout(&slide("TILED_FULL"), 8, (240, 160), false) else { panic!() };
        assert_eq!(t.origins[..4], [(0, 0), (240, 0), (0, 160), (240, 160)]);
        assert_eq!(t.origins[4..], t.origins[..4], "a second focal plane");
        let pieces = t.pieces(&Rect::new(300, 180, 180, 140));
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert_eq!(
            (pieces[0].frame, pieces[0].in_frame, pieces[0].in_image),
            (3, Rect::new(60, 20, 180, 140), Rect::new(300, 180, 180, 140))
        );
        let across = t.pieces(&Rect::new(200, 100, 100, 100));
        let frames: Vec<u32> = across.iter().map(|p| p.frame).collect();
        assert_eq!(frames, [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(across[0].in_frame, Rect::new(200, 100, 40, 60));
        assert_eq!(across[3].in_frame, Rect::new(0, 0, 60, 40));
        assert!(t.pieces(&Rect::new(480, 0, 10, 10)).is_empty(), "beyond the whole image");
    }

    #[test]
    fn sparse_tiles_are_placed_by_their_plane_position() {
        let mut ds = slide("TILED_SPARSE");
        let group = |col: i32, row: i32| {
            let pos = DataSet::from_elements([
                Element::new(tags::COLUMN_POSITION_IN_TOTAL_IMAGE_PIXEL_MATRIX, VR::SL, col.to_le_bytes().to_vec()),
                Element::new(tags::ROW_POSITION_IN_TOTAL_IMAGE_PIXEL_MATRIX, VR::SL, row.to_le_bytes().to_vec()),
            ]);
            DataSet::from_elements([Element::sequence(tags::PLANE_POSITION_SLIDE_SEQUENCE, vec![pos])])
        };
        ds.put(Element::sequence(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, vec![group(241, 161), group(1, 1)]));
        let Layout::Tiled(t) = layout(&ds, 2, (240, 160), false) else { panic!() };
        assert_eq!(t.origins, [(240, 160), (0, 0)]);
        let Layout::Unknown(_) = layout(&ds, 3, (240, 160), false) else { panic!("a frame without a position") };
    }

    #[test]
    fn an_image_without_a_total_pixel_matrix_is_whole() {
        assert_eq!(layout(&DataSet::new(), 4, (64, 64), false), Layout::Whole);
    }
}
