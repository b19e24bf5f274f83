//! Where the frames of encapsulated pixel data are, and whether the checks the whole decode
//! makes before decoding pass, gathered one fragment at a time ([`Layout`]), so that a
//! compressed image left in its source file ([`OnDisk`]) is decoded a frame at a time without
//! its fragments being held.
//!
//! The checks are those of [`super::undeclared_frames`], [`super::encapsulated`] and
//! [`super::frame_ranges`] (codestreams counted and their frame headers checked in each
//! fragment alone, as [`crate::pixels::codestream::starts`] finds them), so an image passes
//! here exactly when decoding it whole would pass them, and its frames are the same fragments.

use super::{Attrs, DecodeError, RLE_LOSSLESS, codestream_syntax, declared, frame_ranges_by, more_encapsulated_frames};
use crate::dataset::{Deferred, Fragments};
use crate::pixels::codestream;
use crate::read::Stamp;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What the checks before decoding read from encapsulated pixel data's fragments.
#[derive(Debug, Default)]
pub(super) struct Layout {
    /// The Basic Offset Table (its bytes).
    offset_table: Vec<u8>,
    /// Each fragment's length.
    lengths: Vec<u64>,
    /// Whether each fragment opens a codestream ([`crate::stream_metadata::opens_codestream`]).
    opens: Vec<bool>,
    /// Codestreams found ([`codestream::starts`]).
    streams: usize,
    /// Whether a codestream's frame header disagrees with the data set
    /// ([`codestream::check_stream`]).
    mismatch: bool,
    /// Whether a JPEG 2000 codestream is coded with the irreversible wavelet.
    irreversible: bool,
}

impl Layout {
    /// The layout of fragments held in memory.
    pub(super) fn of(a: &Attrs, uid: &str, f: &Fragments) -> Layout {
        let mut layout = Layout { offset_table: f.offset_table.clone(), ..Layout::default() };
        for fragment in &f.fragments {
            layout.add(a, uid, fragment);
        }
        layout
    }

    /// Take the next fragment into account.
    fn add(&mut self, a: &Attrs, uid: &str, fragment: &[u8]) {
        let codec = codestream_syntax(uid);
        self.lengths.push(fragment.len() as u64);
        self.opens.push(crate::stream_metadata::opens_codestream(fragment));
        for s in codestream::fragment_starts(fragment) {
            if codec.is_some() {
                self.mismatch |= codestream::check_stream(self.streams, s, declared(a)).is_err();
            }
            if codec == Some("JPEG 2000") {
                self.irreversible |= codestream::j2k_irreversible(s);
            }
            self.streams += 1;
        }
    }

    /// Size of the compressed pixel data (every fragment).
    pub(super) fn compressed(&self) -> u64 {
        self.lengths.iter().sum()
    }

    /// Whether a JPEG 2000 codestream is coded with the irreversible wavelet.
    pub(super) fn irreversible(&self) -> bool {
        self.irreversible
    }

    /// The fragments of each frame, when every check the whole decode makes before decoding
    /// passes: no more frames than declared, fragments present, a colour model the syntax
    /// defines, a codestream per frame whose header fits the data set, one fragment per frame
    /// for RLE, fragments that make up the declared frames. `None` otherwise (the whole decode
    /// then reports the failure with its reason).
    pub(super) fn frames(&self, a: &Attrs, uid: &str) -> Option<Vec<Range<usize>>> {
        let count = self.lengths.len();
        if more_encapsulated_frames(a.frames as usize, uid, self.offset_table.len(), count, self.streams) || count == 0
        {
            return None;
        }
        let codec = codestream_syntax(uid);
        if matches!(a.photometric.as_str(), "YBR_ICT" | "YBR_RCT") && codec != Some("JPEG 2000") {
            return None;
        }
        if codec.is_some() && (self.streams < a.frames as usize || self.mismatch) {
            return None;
        }
        if uid == RLE_LOSSLESS {
            return (count == a.frames as usize).then(|| (0..count).map(|i| i..i + 1).collect());
        }
        frame_ranges_by(a, &self.offset_table, &self.lengths, |k| self.opens[k]).ok()
    }
}

/// Encapsulated pixel data left in the source file: where each fragment's bytes are, read
/// again a frame at a time.
#[derive(Debug)]
pub(super) struct OnDisk {
    path: PathBuf,
    stamp: Option<Stamp>,
    /// Offset in the file and length of each fragment's bytes.
    fragments: Vec<(u64, u64)>,
}

impl OnDisk {
    /// Read the items of the pixel data `d` of `path` one at a time, as
    /// [`super::parse_items`] splits them when read whole: its layout and where its fragments
    /// are. `None` when the items are broken or cannot be read (the whole decode then reports
    /// it) or `path` is no longer the file that was read (`stamp`).
    pub(super) fn scan(
        path: &Path,
        stamp: Option<Stamp>,
        d: &Deferred,
        a: &Attrs,
        uid: &str,
    ) -> Option<(OnDisk, Layout)> {
        let f = crate::read::open_input(path).ok()?;
        if let Some(s) = stamp {
            s.check(&f, path).ok()?;
        }
        let mut r = BufReader::with_capacity(1 << 16, f);
        r.seek(SeekFrom::Start(d.offset)).ok()?;
        let mut layout = Layout::default();
        let mut fragments = Vec::new();
        let mut buf = Vec::new();
        let mut at = 0u64;
        let mut first = true;
        while at + 8 <= d.length {
            let mut header = [0u8; 8];
            r.read_exact(&mut header).ok()?;
            at += 8;
            let tag = (u16::from_le_bytes([header[0], header[1]]), u16::from_le_bytes([header[2], header[3]]));
            let len = u64::from(u32::from_le_bytes([header[4], header[5], header[6], header[7]]));
            match tag {
                (0xFFFE, 0xE0DD) => return Some((OnDisk { path: path.to_path_buf(), stamp, fragments }, layout)),
                (0xFFFE, 0xE000) if at + len <= d.length => {
                    buf.clear();
                    (&mut r).take(len).read_to_end(&mut buf).ok()?;
                    if buf.len() as u64 != len {
                        return None;
                    }
                    if first {
                        layout.offset_table = buf.clone();
                        first = false;
                    } else {
                        fragments.push((d.offset + at, len));
                        layout.add(a, uid, &buf);
                    }
                    at += len;
                }
                _ => return None,
            }
        }
        None
    }

    /// The fragments `range` (a frame's), read from the file, which must still be the file
    /// that was read.
    ///
    /// # Errors
    /// [`DecodeError`] when the file changed or cannot be read.
    pub(super) fn read(&self, range: Range<usize>) -> Result<Fragments, DecodeError> {
        let reread =
            |e: std::io::Error| DecodeError(format!("could not read the pixel data from the input again: {e}"));
        let mut f = crate::read::open_input(&self.path).map_err(reread)?;
        self.check(&f)?;
        let mut out = Fragments::default();
        for &(offset, len) in &self.fragments[range] {
            f.seek(SeekFrom::Start(offset)).map_err(reread)?;
            let mut v = vec![0u8; len as usize];
            f.read_exact(&mut v).map_err(|_| DecodeError("the input changed while it was being processed".into()))?;
            out.fragments.push(v);
        }
        Ok(out)
    }

    /// Whether the source file is still the file that was read.
    ///
    /// # Errors
    /// [`DecodeError`] when it changed or cannot be opened.
    pub(super) fn check_source(&self) -> Result<(), DecodeError> {
        let reread =
            |e: std::io::Error| DecodeError(format!("could not read the pixel data from the input again: {e}"));
        let f = crate::read::open_input(&self.path).map_err(reread)?;
        self.check(&f)
    }

    fn check(&self, f: &std::fs::File) -> Result<(), DecodeError> {
        match self.stamp {
            Some(s) => s.check(f, &self.path).map_err(|_| DecodeError(crate::read::CHANGED.to_string())),
            None => Ok(()),
        }
    }
}
