//! Pixel data decoded one frame at a time, so that cleaning a multi-frame image (a cine of a
//! thousand frames) holds a few decoded frames instead of all of them.
//!
//! [`FrameSource::open`] makes the same checks [`super::load`] and [`super::decode_stored`]
//! make before any frame is decoded; when one of them fails, or the image is one that is decoded
//! whole (a single frame, 1-bit samples, 12-bit JPEG through DCMTK), it gives `None` and the
//! caller decodes the image whole, which reports the failure with its usual reason.
//! [`FrameSource::frame`] then gives frame `i` exactly as [`super::decode_stored`] gives it
//! within the whole image (the same functions decode it, given that frame's bytes alone).
//!
//! What is held: pixel data in memory (a file under the in-memory limit) is copied once; pixel
//! data left in the source file (a file over the limit) stays there and each frame is read from
//! it: native frames at their offset, compressed frames from the fragments a first pass over
//! the items located (module `layout`), one fragment held at a time.

use super::layout::{Layout, OnDisk};
use super::{
    Attrs, DecodeError, Frames, Palette, Stored, check_photometric, checked_attrs, encapsulated, lossy_syntax, native,
    native_len, padding, palette, undeclared_frames,
};
use crate::dataset::{DataSet, Fragments, VR, Value};
use crate::read::Stamp;
use crate::transfer::TransferSyntax;
use dicom_dictionary_std::tags;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Where the frames' bytes are.
#[derive(Debug)]
enum Store {
    /// Native pixel data copied from the data set.
    Memory(Vec<u8>, VR),
    /// Native pixel data left in the source file at `offset`.
    File { path: PathBuf, offset: u64, vr: VR, stamp: Option<Stamp> },
    /// Encapsulated pixel data and the fragments of each frame.
    Encapsulated(Fragments, Vec<Range<usize>>),
    /// Encapsulated pixel data left in the source file and the fragments of each frame.
    EncapsulatedFile(OnDisk, Vec<Range<usize>>),
}

/// An image's pixel data, decoded frame by frame ([`FrameSource::frame`]).
#[derive(Debug)]
pub struct FrameSource {
    a: Attrs,
    uid: String,
    big_endian: bool,
    declared_lossy: bool,
    /// The palette; `None` once [`FrameSource::drop_palette`] found it maps no sample.
    palette: Option<Palette>,
    padding: Option<(i64, i64)>,
    store: Store,
    /// Whether the whole pixel data went through lossy compression (as the whole decode says).
    lossy: bool,
    /// Size of the compressed pixel data, all frames.
    compressed: Option<u64>,
}

impl FrameSource {
    /// The frame source of the image in `ds` (the source data set as read), or `None` when it
    /// is decoded whole: one frame, 1-bit samples, 12-bit JPEG, video, or any attribute,
    /// length or fragment check failing (the whole decode then reports it). `input` and `stamp`
    /// are the source file and its stamp when the pixel data was left there.
    ///
    /// # Errors
    /// [`DecodeError`] when pixel data in memory cannot be loaded (as [`super::load`] fails).
    pub fn open(
        ds: &DataSet,
        ts: &TransferSyntax,
        input: Option<&Path>,
        stamp: Option<Stamp>,
    ) -> Result<Option<FrameSource>, DecodeError> {
        let big_endian = ts.encoding.big_endian;
        let Ok(a) = checked_attrs(ds, big_endian) else { return Ok(None) };
        let whole = a.frames < 2
            || a.bits_allocated == 1
            || (ts.uid == super::super::dcmtk::JPEG_EXTENDED && a.bits_allocated > 8)
            || super::is_video(&ts.uid)
            || check_photometric(&a).is_err()
            || [tags::FLOAT_PIXEL_DATA, tags::DOUBLE_FLOAT_PIXEL_DATA].into_iter().any(|t| ds.get(t).is_some());
        let Some(pixel) = ds.get(tags::PIXEL_DATA).filter(|_| !whole) else { return Ok(None) };
        let uid = ts.uid.clone();
        let declared_lossy = ds.ascii(tags::LOSSY_IMAGE_COMPRESSION) == Some("01");
        let native_ok = |len: u64| {
            let ybr = matches!(a.photometric.as_str(), "YBR_FULL" | "YBR_FULL_422" | "YBR_PARTIAL_422");
            len >= native_len(&a)
                && (a.samples == 1 || a.photometric == "RGB" || ybr)
                && !(super::subsampled(&a.photometric) && a.cols % 2 == 1)
        };
        let (store, lossy, compressed) = match &pixel.value {
            Value::Deferred(d) if !d.encapsulated => {
                let Some(path) = input else { return Ok(None) };
                if !native_ok(d.length)
                    || undeclared_on_disk(path, d.offset + native_len(&a), d.length - native_len(&a))
                {
                    return Ok(None);
                }
                (Store::File { path: path.to_path_buf(), offset: d.offset, vr: pixel.vr, stamp }, declared_lossy, None)
            }
            Value::Deferred(d) => {
                let Some(path) = input else { return Ok(None) };
                let Some((on_disk, layout)) = OnDisk::scan(path, stamp, d, &a, &uid) else { return Ok(None) };
                let Some(ranges) = layout.frames(&a, &uid) else { return Ok(None) };
                let (lossy, compressed) = compression(&a, &uid, declared_lossy, &layout);
                (Store::EncapsulatedFile(on_disk, ranges), lossy, Some(compressed))
            }
            _ => {
                let stored = super::load(ds, ts, input)?;
                if undeclared_frames(ds, ts, &stored).is_some() {
                    return Ok(None);
                }
                match stored {
                    Stored::Native(b, vr) => {
                        if !native_ok(b.len() as u64) {
                            return Ok(None);
                        }
                        // Only the declared frames: the rest is zeros or one padding byte.
                        let len = usize::try_from(native_len(&a)).unwrap_or(usize::MAX);
                        let mut bytes = b.into_owned();
                        bytes.truncate(len);
                        (Store::Memory(bytes, vr), declared_lossy, None)
                    }
                    Stored::Encapsulated(f) => {
                        let layout = Layout::of(&a, &uid, &f);
                        let Some(ranges) = layout.frames(&a, &uid) else { return Ok(None) };
                        let (lossy, compressed) = compression(&a, &uid, declared_lossy, &layout);
                        (Store::Encapsulated(f.into_owned(), ranges), lossy, Some(compressed))
                    }
                }
            }
        };
        let palette = if a.photometric == "PALETTE COLOR" { palette(ds, big_endian, a.signed) } else { None };
        let padding = if a.samples == 1 && a.photometric.starts_with("MONOCHROME") {
            padding(ds, big_endian, a.signed)
        } else {
            None
        };
        Ok(Some(FrameSource { a, uid, big_endian, declared_lossy, palette, padding, store, lossy, compressed }))
    }

    /// Number of frames.
    pub fn frames(&self) -> u32 {
        self.a.frames
    }

    /// Columns and rows.
    pub fn size(&self) -> (u32, u32) {
        (self.a.cols, self.a.rows)
    }

    /// The palette, while it is kept.
    pub fn palette(&self) -> Option<&Palette> {
        self.palette.as_ref()
    }

    /// Leave the palette out of the frames (it maps none of the samples: the image is then
    /// looked at by its indices, as [`super::decode_stored`] does).
    pub fn drop_palette(&mut self) {
        self.palette = None;
    }

    /// Frame `i` (from 0) as a one-frame [`Frames`], decoded as the whole decode decodes it.
    ///
    /// # Errors
    /// [`DecodeError`] when the frame cannot be decoded or read again.
    pub fn frame(&self, i: u32) -> Result<Frames, DecodeError> {
        let one = Attrs { frames: 1, ..self.a.clone() };
        let frame_len = native_len(&one) as usize;
        let mut f = match &self.store {
            Store::Memory(bytes, vr) => {
                let at = i as usize * frame_len;
                native(
                    one,
                    &bytes[at..at + frame_len],
                    *vr,
                    self.big_endian,
                    self.declared_lossy,
                    self.palette.clone(),
                )?
            }
            Store::File { path, offset, vr, stamp } => {
                let bytes = read_frame(path, *stamp, offset + i as u64 * frame_len as u64, frame_len)?;
                native(one, &bytes, *vr, self.big_endian, self.declared_lossy, self.palette.clone())?
            }
            Store::Encapsulated(fragments, ranges) => {
                let range = ranges[i as usize].clone();
                let own = Fragments { offset_table: Vec::new(), fragments: fragments.fragments[range].to_vec() };
                encapsulated(one, &self.uid, &own, self.declared_lossy, self.palette.clone(), i as usize)?
            }
            Store::EncapsulatedFile(on_disk, ranges) => {
                let own = on_disk.read(ranges[i as usize].clone())?;
                encapsulated(one, &self.uid, &own, self.declared_lossy, self.palette.clone(), i as usize)?
            }
        };
        f.lossy = self.lossy;
        f.compressed_bytes = self.compressed;
        if f.samples == 1 && f.photometric.starts_with("MONOCHROME") {
            f.padding = self.padding;
        }
        Ok(f)
    }

    /// [`crate::read::Error::Changed`]-like failure when the source file the frames are read
    /// from is no longer the file that was read (checked before and after writing them).
    ///
    /// # Errors
    /// When the file changed or cannot be opened.
    pub fn check_source(&self) -> Result<(), DecodeError> {
        match &self.store {
            Store::File { path, stamp: Some(stamp), .. } => {
                let f = crate::read::open_input(path).map_err(reread)?;
                stamp.check(&f, path).map_err(|_| DecodeError(crate::read::CHANGED.to_string()))
            }
            Store::EncapsulatedFile(on_disk, _) => on_disk.check_source(),
            _ => Ok(()),
        }
    }
}

fn reread(e: std::io::Error) -> DecodeError {
    DecodeError(format!("could not read the pixel data from the input again: {e}"))
}

/// One frame's bytes from the source file, which must still be the file that was read.
fn read_frame(path: &Path, stamp: Option<Stamp>, offset: u64, len: usize) -> Result<Vec<u8>, DecodeError> {
    let mut f = crate::read::open_input(path).map_err(reread)?;
    if let Some(s) = stamp {
        s.check(&f, path).map_err(|_| DecodeError(crate::read::CHANGED.to_string()))?;
    }
    f.seek(SeekFrom::Start(offset)).map_err(reread)?;
    let mut v = vec![0u8; len];
    f.read_exact(&mut v).map_err(|_| DecodeError("the input changed while it was being processed".into()))?;
    Ok(v)
}

/// Whether the `length` bytes at `offset` past the declared frames of native pixel data left
/// in the file hold more than one padding byte or zeros (see [`super::undeclared_frames`]); an
/// unreadable tail counts as holding more (the whole decode then reports it).
fn undeclared_on_disk(path: &Path, offset: u64, length: u64) -> bool {
    if length <= 1 {
        return false;
    }
    let Ok(mut f) = crate::read::open_input(path) else { return true };
    if f.seek(SeekFrom::Start(offset)).is_err() {
        return true;
    }
    let mut rest = f.take(length);
    let mut buf = vec![0u8; 1 << 16];
    let mut seen = 0u64;
    loop {
        match rest.read(&mut buf) {
            Ok(0) => return seen != length,
            Ok(n) if buf[..n].iter().any(|&b| b != 0) => return true,
            Ok(n) => seen += n as u64,
            Err(_) => return true,
        }
    }
}

/// Whether the whole pixel data went through lossy compression (the header says so, the
/// syntax is lossy, or JPEG 2000 coded it irreversibly), and its compressed size: as the whole
/// decode says.
fn compression(a: &Attrs, uid: &str, declared_lossy: bool, layout: &Layout) -> (bool, u64) {
    let irreversible =
        super::codestream_syntax(uid) == Some("JPEG 2000") && (a.photometric == "YBR_ICT" || layout.irreversible());
    (declared_lossy || lossy_syntax(uid) || irreversible, layout.compressed())
}
