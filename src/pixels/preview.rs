//! `--previews DIR`: a PNG per cleaned image, the first frame before (left) and after (right)
//! cleaning, with the blanked boxes outlined, so a person can check what was done.
//!
//! The "before" half shows the identifiers that were removed: DIR is sensitive, like the linkage
//! table, and the CLI refuses it inside OUT. Files are written atomically (temporary file in the
//! same folder, then rename), under the output's own relative path with `.png`.

use super::rules::Rect;
use image::{Rgb, RgbImage};
use imageproc::drawing::draw_hollow_rect_mut;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Outline colour of blanked boxes.
const OUTLINE: Rgb<u8> = Rgb([255, 48, 48]);

/// `img` with each rectangle outlined (two pixels wide where the image allows).
pub fn outline(mut img: RgbImage, rects: &[Rect]) -> RgbImage {
    for r in rects {
        for grow in 0..2u32 {
            let x = r.x.saturating_sub(grow) as i32;
            let y = r.y.saturating_sub(grow) as i32;
            let rect = imageproc::rect::Rect::at(x, y).of_size(r.width + 2 * grow, r.height + 2 * grow);
            draw_hollow_rect_mut(&mut img, rect, OUTLINE);
        }
    }
    img
}

/// Before and after, side by side with a 4-pixel gap.
pub fn side_by_side(before: &RgbImage, after: &RgbImage) -> RgbImage {
    let (w, h) = before.dimensions();
    let mut out = RgbImage::from_pixel(w * 2 + 4, h, Rgb([64, 64, 64]));
    image::imageops::replace(&mut out, before, 0, 0);
    image::imageops::replace(&mut out, after, (w + 4) as i64, 0);
    out
}

/// Write the preview of the output `rel` (relative to OUT) under `dir`, atomically. Returns the
/// path written.
///
/// # Errors
/// I/O and PNG encoding errors.
pub fn write(dir: &Path, rel: &Path, before: &RgbImage, after: &RgbImage) -> std::io::Result<PathBuf> {
    let mut target = dir.join(rel);
    target.set_extension("png");
    let parent = target.parent().unwrap_or(dir).to_path_buf();
    std::fs::create_dir_all(&parent)?;
    let mut png = Vec::new();
    side_by_side(before, after)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(std::io::Error::other)?;
    let mut tmp = tempfile::Builder::new().prefix(".kamei-").suffix(".part").tempfile_in(&parent)?;
    tmp.write_all(&png)?;
    tmp.flush()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_png_twice_as_wide_with_outlines() {
        let dir = tempfile::tempdir().unwrap();
        let img = RgbImage::from_pixel(20, 10, Rgb([0, 0, 0]));
        let before = outline(img.clone(), &[Rect::new(2, 2, 5, 5)]);
        assert_eq!(*before.get_pixel(2, 2), OUTLINE);
        let p = write(dir.path(), Path::new("a/b/c.dcm"), &before, &img).unwrap();
        assert!(p.ends_with("a/b/c.png"));
        let back = image::open(&p).unwrap();
        assert_eq!((back.width(), back.height()), (44, 10));
    }
}
