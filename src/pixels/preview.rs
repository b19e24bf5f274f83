//! `--previews DIR`: a PNG per cleaned image, the first frame before (left) and after (right)
//! cleaning, with the blanked boxes outlined, so a person can check what was done.
//!
//! The "before" half shows the identifiers that were removed: DIR is sensitive, like the linkage
//! table, and the CLI refuses it inside OUT. Files are written atomically (a temporary file in
//! the run's own staging folder `DIR/.kamei-partial/<shard or whole>`, then renamed into place),
//! under the output's own relative path with `.png`. A run clears its staging folder at start
//! ([`clear_stale`]), as it clears OUT's: a killed run's temporary files do not stay in DIR.

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

/// Make sure `dir` can hold previews before anything is processed: create it (and its parents)
/// and create and remove a file in it. Called at start, so that a folder that cannot be
/// written (a file, a dangling link, a read-only place) is a usage error, not a run whose
/// previews are all missing.
///
/// # Errors
/// The I/O error of the step that failed.
pub fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = tempfile::Builder::new().prefix(".kamei-").suffix(".probe").tempfile_in(dir)?;
    probe.close()
}

/// The preview of the output at `rel` (relative to OUT): `DIR/<rel>.png`, the output's whole
/// name with `.png` added. Replacing its extension instead would give outputs whose names differ
/// only after their last dot (`--layout mirror` keeps input names such as `IMG.001`, `IMG.002`
/// or a UID) one preview name, and all but one preview would be lost.
pub fn path(dir: &Path, rel: &Path) -> PathBuf {
    let mut name = dir.join(rel).into_os_string();
    name.push(".png");
    PathBuf::from(name)
}

/// An output moved from `from` to `to` (a lower hash took its name): its preview, if any,
/// moves with it, so that the preview of the output now at `from` does not replace it.
pub fn follow_move(dir: &Path, from: &Path, to: &Path) {
    let old = path(dir, from);
    if old.is_file() {
        let _ = std::fs::rename(&old, path(dir, to));
    }
}

/// The folder in `dir` where all of kamei's temporary preview files are written.
pub const STAGING: &str = ".kamei-partial";

/// The staging folder of one run (or shard, `label`) in the previews folder `dir`: a temporary
/// file there is this run's own, and is stale once the run is gone.
pub fn staging(dir: &Path, label: &str) -> PathBuf {
    dir.join(STAGING).join(label)
}

/// Remove what a killed run left in `dir`: everything in this run's `staging` folder (the
/// folder itself is kept), and, anywhere else in `dir`, the temporary files an older kamei
/// wrote beside the previews (`.kamei-*.part`). Only kamei's own temporary names are removed;
/// another shard's staging folder is left alone (that shard may be running).
///
/// # Errors
/// The I/O error of a removal that failed.
pub fn clear_stale(dir: &Path, staging: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(staging)?;
    for entry in std::fs::read_dir(staging)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    let walk = walkdir::WalkDir::new(dir).min_depth(1).into_iter().filter_entry(|e| e.file_name() != STAGING);
    for e in walk.filter_map(Result::ok) {
        if e.file_type().is_file() && is_temporary_name(&e.file_name().to_string_lossy()) {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// Whether `name` is one of kamei's own temporary file names (`.kamei-XXXX.part`).
fn is_temporary_name(name: &str) -> bool {
    name.starts_with(".kamei-") && name.ends_with(".part")
}

/// Remove the run's staging folder, and `DIR/.kamei-partial` when no other shard's is left in
/// it (at the end of a run: a finished run leaves nothing of its own in DIR).
pub fn remove_staging(dir: &Path, staging: &Path) {
    let _ = std::fs::remove_dir(staging);
    let _ = std::fs::remove_dir(dir.join(STAGING));
}

/// Write the preview of the output `rel` (relative to OUT) under `dir`, atomically, through a
/// temporary file in `staging` ([`staging`]). Returns the path written.
///
/// # Errors
/// I/O and PNG encoding errors, without the path they happened at: the reason goes into the
/// audit, which ships with the release and must not say where the previews (the images before
/// cleaning) are kept.
pub fn write(dir: &Path, staging: &Path, rel: &Path, before: &RgbImage, after: &RgbImage) -> std::io::Result<PathBuf> {
    write_at(dir, staging, rel, before, after).map_err(|e| match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::from(e.kind()),
    })
}

fn write_at(dir: &Path, staging: &Path, rel: &Path, before: &RgbImage, after: &RgbImage) -> std::io::Result<PathBuf> {
    let target = path(dir, rel);
    let parent = target.parent().unwrap_or(dir).to_path_buf();
    std::fs::create_dir_all(&parent)?;
    let mut png = Vec::new();
    side_by_side(before, after)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(std::io::Error::other)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".kamei-").suffix(".part");
    let mut tmp = match builder.tempfile_in(staging) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(staging)?;
            builder.tempfile_in(staging)
        }
        other => other,
    }?;
    tmp.write_all(&png)?;
    tmp.flush()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_that_cannot_be_written_gives_a_reason_without_the_path() {
        // /proc/self exists, but no file can be created in it (not even by root): the temporary
        // file fails, and tempfile names its path in the error. The reason goes into the audit.
        let img = RgbImage::new(2, 2);
        let err = write(Path::new("/proc/self"), Path::new("/proc/self/stage"), Path::new("a.dcm"), &img, &img)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("/proc") && !err.contains(".kamei-"), "{err}");
    }

    #[test]
    fn a_previews_folder_is_created_and_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let prev = dir.path().join("a/prev");
        prepare_dir(&prev).unwrap();
        assert!(prev.is_dir());
        assert_eq!(std::fs::read_dir(&prev).unwrap().count(), 0, "the probe file is removed");
    }

    #[test]
    fn a_file_or_a_dangling_link_is_not_a_previews_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        assert!(prepare_dir(&file).is_err());
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("missing"), &link).unwrap();
        assert!(prepare_dir(&link).is_err());
    }

    #[test]
    fn outputs_whose_names_differ_after_their_last_dot_have_their_own_previews() {
        let dir = Path::new("prev");
        assert_eq!(path(dir, Path::new("a/IMG.001")), Path::new("prev/a/IMG.001.png"));
        assert_ne!(path(dir, Path::new("a/IMG.001")), path(dir, Path::new("a/IMG.002")));
        assert_eq!(path(dir, Path::new("p/s/1.2.3.dcm")), Path::new("prev/p/s/1.2.3.dcm.png"));
    }

    #[test]
    fn writes_a_png_twice_as_wide_with_outlines() {
        let dir = tempfile::tempdir().unwrap();
        let img = RgbImage::from_pixel(20, 10, Rgb([0, 0, 0]));
        let before = outline(img.clone(), &[Rect::new(2, 2, 5, 5)]);
        assert_eq!(*before.get_pixel(2, 2), OUTLINE);
        let staging = staging(dir.path(), "whole");
        let p = write(dir.path(), &staging, Path::new("a/b/c.dcm"), &before, &img).unwrap();
        assert!(p.ends_with("a/b/c.dcm.png"));
        assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0, "the temporary file was renamed into place");
        let back = image::open(&p).unwrap();
        assert_eq!((back.width(), back.height()), (44, 10));
    }

    #[test]
    fn a_killed_runs_temporary_previews_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mine = staging(d, "whole");
        let other = staging(d, "shard-0002-of-0004");
        for folder in [&mine, &other, &d.join("p/s")] {
            std::fs::create_dir_all(folder).unwrap();
        }
        let stale = [mine.join(".kamei-AbC123.part"), d.join("p/s/.kamei-XyZ789.part")];
        let kept = [other.join(".kamei-Run456.part"), d.join("p/s/1.2.dcm.png"), d.join("p/s/notes.part")];
        for f in stale.iter().chain(&kept) {
            std::fs::write(f, b"x").unwrap();
        }
        clear_stale(d, &mine).unwrap();
        for f in &stale {
            assert!(!f.exists(), "{f:?} is a killed run's temporary file");
        }
        for f in &kept {
            assert!(f.exists(), "{f:?} is not this run's temporary file");
        }
        assert!(mine.is_dir(), "the staging folder itself stays for the run");
    }
}
