//! Remove metadata segments from compressed frames without changing the decoded image.
//!
//! A JPEG stream can carry, besides the image, segments no decoder needs: EXIF (APP1) with the
//! camera owner, an image description staff typed and the real acquisition date; XMP; comments
//! (COM); a JFIF thumbnail, which is a small copy of the picture. Cameras and capture software
//! fill them, and they are part of Pixel Data, so a header-only de-identifier releases them
//! byte for byte. kamei removes them in every mode (they are not pixels, so
//! `clean-pixel-data` is not needed), rewriting the fragments, the Basic Offset Table and the
//! Extended Offset Table (7FE0,0001) with its lengths (7FE0,0002).
//!
//! What is kept, and why:
//!
//! | codec | kept | removed |
//! |---|---|---|
//! | JPEG (baseline, extended, lossless) and JPEG-LS | every segment a decoder reads (SOF, DHT, DQT, DRI, DNL, SOS, JPEG-LS LSE...); APP0 `JFIF` without its thumbnail (it tells decoders the colour space); APP14 `Adobe` (colour transform); APP8 `mrfx` (JPEG-LS HP colour transform, which CharLS applies) | COM, other APP0 (`JFXX` thumbnails, `AVI1`...), APP1–APP15 (EXIF, XMP, ICC profiles, MPF, vendor data), data after the end of image |
//! | JPEG 2000, HTJ2K | every marker segment but COM | COM (`FF64`) in the main and tile-part headers (Psot fixed) |
//! | JP2 file in a fragment | signature, `ftyp`, `rreq`, `jp2h`, `jp2c` | `xml `, `uuid`, `uinf`, `jp2i` and any other box |
//!
//! **ICC profiles (APP2 `ICC_PROFILE`) are removed.** The decoded samples, which are what DICOM
//! calls the pixel data, do not depend on them; DICOM viewers take colour from the data set
//! (Photometric Interpretation, ICC Profile (0028,2000), which the profile keeps), not from the
//! bitstream. A profile is binary data written by colour software that kamei cannot vet: besides
//! a description and copyright it holds a creation date, and a calibration profile names the
//! device, often with its serial number, and the day it was calibrated. A colour-managed
//! non-DICOM viewer of an extracted JPEG may show colours slightly differently; that is the cost.
//!
//! A stream that cannot be parsed is kept as it is only when it provably holds no such segment
//! (no byte pair that opens one occurs anywhere in it); otherwise the file fails
//! ([`StreamError`]): it is never released with metadata kamei could not remove.
//!
//! This module works on bytes only: no I/O except [`scan_on_disk`], which reads pixel data a
//! large file left on disk, one fragment at a time.

mod j2k;
mod jpeg;

use crate::dataset::{DataSet, Deferred, Element, Fragments, VR, Value};
use dicom_dictionary_std::tags;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// What kind of metadata was removed (the audit and `verify` name these, never their content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A JPEG application segment APPn (n 0–15) a decoder does not read.
    JpegApp(u8),
    /// A JPEG comment segment (COM).
    JpegCom,
    /// A JFIF APP0 segment's thumbnail (the segment is kept without it).
    JfifThumbnail,
    /// Bytes past what a decoder reads of a kept segment (Adobe, `mrfx`).
    SegmentTail,
    /// Data after a codestream's end (not padding, not another codestream).
    TrailingData,
    /// A JPEG 2000 comment marker segment (COM, `FF64`).
    J2kCom,
    /// A JP2 XML box.
    Jp2Xml,
    /// A JP2 UUID or UUID Info box.
    Jp2Uuid,
    /// Any other JP2 box a decoder does not read.
    Jp2Other,
}

const APP_LABELS: [&str; 16] = [
    "APP0", "APP1", "APP2", "APP3", "APP4", "APP5", "APP6", "APP7", "APP8", "APP9", "APP10", "APP11", "APP12", "APP13",
    "APP14", "APP15",
];
const APP_ACTIONS: [&str; 16] = [
    "remove-jpeg-app0",
    "remove-jpeg-app1",
    "remove-jpeg-app2",
    "remove-jpeg-app3",
    "remove-jpeg-app4",
    "remove-jpeg-app5",
    "remove-jpeg-app6",
    "remove-jpeg-app7",
    "remove-jpeg-app8",
    "remove-jpeg-app9",
    "remove-jpeg-app10",
    "remove-jpeg-app11",
    "remove-jpeg-app12",
    "remove-jpeg-app13",
    "remove-jpeg-app14",
    "remove-jpeg-app15",
];

impl Kind {
    /// A short name for messages (`APP1`, `COM`, `JFIF thumbnail`...).
    pub fn label(self) -> &'static str {
        match self {
            Kind::JpegApp(n) => APP_LABELS[usize::from(n & 15)],
            Kind::JpegCom => "COM",
            Kind::JfifThumbnail => "JFIF thumbnail",
            Kind::SegmentTail => "bytes past a kept segment's parameters",
            Kind::TrailingData => "data after the end of the codestream",
            Kind::J2kCom => "JPEG 2000 COM",
            Kind::Jp2Xml => "JP2 xml box",
            Kind::Jp2Uuid => "JP2 uuid box",
            Kind::Jp2Other => "other JP2 box",
        }
    }

    /// The audit action (`remove-jpeg-app1`...), counted per Pixel Data like other actions.
    pub fn action(self) -> &'static str {
        match self {
            Kind::JpegApp(n) => APP_ACTIONS[usize::from(n & 15)],
            Kind::JpegCom => "remove-jpeg-com",
            Kind::JfifThumbnail => "remove-jfif-thumbnail",
            Kind::SegmentTail => "trim-jpeg-segment",
            Kind::TrailingData => "remove-trailing-data",
            Kind::J2kCom => "remove-j2k-com",
            Kind::Jp2Xml => "remove-jp2-xml-box",
            Kind::Jp2Uuid => "remove-jp2-uuid-box",
            Kind::Jp2Other => "remove-jp2-box",
        }
    }
}

/// How many of each kind were removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed(BTreeMap<Kind, u32>);

impl Removed {
    fn add(&mut self, kind: Kind) {
        *self.0.entry(kind).or_insert(0) += 1;
    }

    fn extend(&mut self, other: &Removed) {
        for (k, n) in &other.0 {
            *self.0.entry(*k).or_insert(0) += n;
        }
    }

    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each kind with its count.
    pub fn counts(&self) -> impl Iterator<Item = (Kind, u32)> + '_ {
        self.0.iter().map(|(k, n)| (*k, *n))
    }
}

impl std::fmt::Display for Removed {
    /// `1 APP1, 2 COM`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, n)| format!("{n} {}", k.label())).collect();
        f.write_str(&parts.join(", "))
    }
}

/// Why the metadata of compressed pixel data could not be removed (the file must then fail:
/// it may carry metadata). Says what and where (byte offsets, frame numbers), never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError(pub String);

impl StreamError {
    fn at(what: &str, offset: usize) -> StreamError {
        StreamError(format!("{what} (byte {offset})"))
    }
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StreamError {}

/// One change to a stream: bytes `start..end` replaced by `with` (empty: removed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cut {
    start: usize,
    end: usize,
    with: Vec<u8>,
}

/// `s` with the cuts (sorted, not overlapping) made.
fn apply(s: &[u8], cuts: &[Cut]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut at = 0;
    for c in cuts {
        out.extend_from_slice(&s[at..c.start]);
        out.extend_from_slice(&c.with);
        at = c.end;
    }
    out.extend_from_slice(&s[at..]);
    out
}

/// The family of codestreams a transfer syntax holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// JPEG (all processes of 1.2.840.10008.1.2.4.50–.70) and JPEG-LS (.80, .81).
    Jpeg,
    /// JPEG 2000 (.90–.93) and HTJ2K (.201–.203).
    J2k,
}

impl Codec {
    /// The codec of a transfer syntax UID; `None` for native, RLE, deflated, video (MPEG,
    /// HEVC) and JPEG XL syntaxes, whose streams this module does not look into.
    pub fn of(transfer_syntax: &str) -> Option<Codec> {
        let last = transfer_syntax.strip_prefix("1.2.840.10008.1.2.4.")?;
        match last.parse::<u32>().ok()? {
            50..=70 | 80 | 81 => Some(Codec::Jpeg),
            90..=93 | 201..=203 => Some(Codec::J2k),
            _ => None,
        }
    }
}

/// Remove the metadata of one frame's codestream. `Ok(None)`: nothing to remove (the stream
/// stays byte for byte).
///
/// # Errors
/// [`StreamError`] when the stream cannot be parsed and holds bytes that may open a metadata
/// segment.
pub fn strip(codec: Codec, stream: &[u8]) -> Result<Option<(Vec<u8>, Removed)>, StreamError> {
    let mut removed = Removed::default();
    let cuts = match codec {
        Codec::Jpeg => jpeg::cuts(stream, &mut removed),
        Codec::J2k => j2k::cuts(stream, &mut removed),
    };
    match cuts {
        Ok(c) if c.is_empty() => Ok(None),
        Ok(c) => Ok(Some((apply(stream, &c), removed))),
        Err(_) if !may_hold_metadata(codec, stream) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether bytes that could open a metadata segment occur anywhere in `s` (used only when its
/// structure cannot be parsed): a JPEG APP1–APP15 or COM marker, an APP0 that is not a
/// thumbnail-free JFIF, an APP14 that is not Adobe's; a JPEG 2000 COM marker, or any JP2 file.
fn may_hold_metadata(codec: Codec, s: &[u8]) -> bool {
    if codec == Codec::J2k {
        return s.starts_with(&j2k::JP2_SIGNATURE) || s.windows(2).any(|w| w == [0xFF, 0x64]);
    }
    s.windows(2).enumerate().any(|(i, w)| match w {
        [0xFF, 0xE0] => !s[i + 2..].starts_with(&[0, 16, b'J', b'F', b'I', b'F', 0]),
        [0xFF, 0xEE] => !s[i + 2..].starts_with(&[0, 14, b'A', b'd', b'o', b'b', b'e']),
        [0xFF, 0xE1..=0xED | 0xEF | 0xFE] => true,
        _ => false,
    })
}

/// Whether a fragment opens a codestream: JPEG SOI, JPEG 2000 SOC + SIZ, JP2 signature.
pub fn opens_codestream(fragment: &[u8]) -> bool {
    fragment.starts_with(&[0xFF, 0xD8])
        || fragment.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
        || fragment.starts_with(&j2k::JP2_SIGNATURE)
}

/// Encapsulated pixel data with its metadata removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Stripped {
    /// The elements to put in place of the old ones: Pixel Data, and the Extended Offset
    /// Table and its lengths when the data set has them.
    pub elements: Vec<Element>,
    /// What was removed.
    pub removed: Removed,
}

/// Remove the metadata of every frame of the encapsulated Pixel Data of `ds` (the top-level
/// data set as read). `Ok(None)` when there is nothing to remove, or the pixel data is not
/// encapsulated in memory or not of a codec this module knows ([`Codec::of`]); pixel data left
/// on disk is looked at by [`scan_on_disk`].
///
/// A frame whose stream changes becomes one fragment; frames that do not change keep their
/// fragments byte for byte. Offsets in the Basic and Extended Offset Tables follow, counted
/// over the fragments as held (no pad byte): the writer moves them for the pad bytes of
/// odd-length fragments ([`crate::odd_fragments`]).
///
/// # Errors
/// [`StreamError`] naming the frame, when a frame cannot be parsed and may hold metadata, or
/// an offset table that does not point at fragments would have to be rewritten.
pub fn strip_pixel_data(ds: &DataSet, transfer_syntax: &str) -> Result<Option<Stripped>, StreamError> {
    let Some(codec) = Codec::of(transfer_syntax) else { return Ok(None) };
    let Some(pixel) = ds.get(tags::PIXEL_DATA) else { return Ok(None) };
    let Value::Fragments(f) = &pixel.value else { return Ok(None) };
    let frames = ds.ascii(tags::NUMBER_OF_FRAMES).and_then(|n| n.trim().parse::<usize>().ok()).unwrap_or(1);
    let extended = match (ds.bytes(tags::EXTENDED_OFFSET_TABLE), ds.bytes(tags::EXTENDED_OFFSET_TABLE_LENGTHS)) {
        (Some(o), Some(l)) if f.offset_table.is_empty() && !o.is_empty() => Some((o, l)),
        _ => None,
    };
    let positions = item_positions(f.fragments.iter().map(|x| x.len() as u64));
    let table: Option<Vec<u64>> = if !f.offset_table.is_empty() {
        Some(f.offset_table.chunks(4).map(|c| u64::from(u32::from_le_bytes(pad(c)))).collect())
    } else {
        extended.map(|(o, _)| o.chunks(8).map(|c| u64::from_le_bytes(pad(c))).collect())
    };
    if f.fragments.is_empty() {
        return Ok(None);
    }
    let from_table = table.as_ref().and_then(|t| group_starts(t, &positions));
    let starts = frame_starts(&f.fragments, table.as_deref(), frames);
    let mut removed = Removed::default();
    let mut groups: Vec<(std::ops::Range<usize>, Option<Vec<u8>>)> = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(f.fragments.len());
        let stream: std::borrow::Cow<'_, [u8]> =
            if end - start == 1 { (&f.fragments[start][..]).into() } else { f.fragments[start..end].concat().into() };
        let new = strip(codec, &stream)
            .map_err(|e| StreamError(format!("frame {}: the compressed stream cannot be parsed: {e}", n + 1)))?;
        groups.push((
            start..end,
            new.map(|(bytes, r)| {
                removed.extend(&r);
                bytes
            }),
        ));
    }
    if removed.is_empty() {
        return Ok(None);
    }
    if table.is_some() && from_table.is_none() {
        return Err(StreamError(
            "the offset table does not point at the starts of fragments, so it cannot be rewritten after the metadata segments are removed".into(),
        ));
    }
    let mut fragments = Vec::new();
    let mut new_starts = Vec::new();
    let mut lengths = Vec::new();
    let mut at = 0u64;
    for (range, new) in &groups {
        new_starts.push(at);
        match new {
            Some(bytes) => {
                at += 8 + bytes.len() as u64;
                lengths.push(Some(bytes.len()));
                fragments.push(bytes.clone());
            }
            None => {
                for frag in &f.fragments[range.clone()] {
                    at += 8 + frag.len() as u64;
                    fragments.push(frag.clone());
                }
                lengths.push(None);
            }
        }
    }
    let offset_table = if f.offset_table.is_empty() {
        Vec::new()
    } else {
        let mut t = Vec::with_capacity(new_starts.len() * 4);
        for s in &new_starts {
            let s = u32::try_from(*s)
                .map_err(|_| StreamError("the Basic Offset Table cannot hold the new offsets".into()))?;
            t.extend_from_slice(&s.to_le_bytes());
        }
        t
    };
    let mut elements = vec![Element {
        tag: tags::PIXEL_DATA,
        vr: pixel.vr,
        value: Value::Fragments(Fragments { offset_table, fragments }),
    }];
    if let Some((_, old_lengths)) = extended {
        let old: Vec<u64> = old_lengths.chunks(8).map(|c| u64::from_le_bytes(pad(c))).collect();
        let mut offsets = Vec::new();
        let mut new_lengths = Vec::new();
        for (n, ((range, _), (start, new))) in groups.iter().zip(new_starts.iter().zip(&lengths)).enumerate() {
            offsets.extend_from_slice(&start.to_le_bytes());
            let length = match (new, old.get(n)) {
                (None, Some(l)) => *l,
                (Some(len), Some(&l)) if range.len() == 1 => {
                    let was = f.fragments[range.start].len() as u64;
                    if l == was {
                        padded(*len)
                    } else if l + 1 == was {
                        *len as u64
                    } else {
                        return Err(extended_mismatch());
                    }
                }
                _ => return Err(extended_mismatch()),
            };
            new_lengths.extend_from_slice(&length.to_le_bytes());
        }
        elements.push(Element::new(tags::EXTENDED_OFFSET_TABLE, VR::OV, offsets));
        elements.push(Element::new(tags::EXTENDED_OFFSET_TABLE_LENGTHS, VR::OV, new_lengths));
    }
    Ok(Some(Stripped { elements, removed }))
}

fn extended_mismatch() -> StreamError {
    StreamError("the Extended Offset Table Lengths (7FE0,0002) do not match the fragments, so they cannot be rewritten after the metadata segments are removed".into())
}

/// A little-endian number from a chunk that may be short (a table whose length is not a
/// multiple of the entry size): missing bytes are zero.
fn pad<const N: usize>(c: &[u8]) -> [u8; N] {
    let mut b = [0u8; N];
    b[..c.len()].copy_from_slice(c);
    b
}

/// A fragment's length as written (odd lengths get a pad byte).
fn padded(len: usize) -> u64 {
    len as u64 + len as u64 % 2
}

/// Where each fragment's item starts, relative to the first fragment after the offset table.
fn item_positions(lengths: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut at = 0;
    lengths
        .map(|l| {
            let p = at;
            at += 8 + l;
            p
        })
        .collect()
}

/// The index of the fragment each frame starts at, for encapsulated pixel data of `frames`
/// frames (PS3.5 A.4: a frame may span several fragments): the offsets of `table` (Basic or
/// Extended Offset Table, relative to the first fragment) when each points at the start of a
/// fragment; else one fragment per frame when the counts agree; else every fragment when there
/// is one frame; else the fragments that open a codestream (JPEG SOI, JPEG 2000 SOC + SIZ, JP2
/// signature), which begin a new frame. Used both to strip metadata frame by frame and to
/// decode frames, so the two agree on where frames are.
pub fn frame_starts(fragments: &[Vec<u8>], table: Option<&[u64]>, frames: usize) -> Vec<usize> {
    let lengths: Vec<u64> = fragments.iter().map(|x| x.len() as u64).collect();
    frame_starts_by(&lengths, |k| opens_codestream(&fragments[k]), table, frames)
}

/// [`frame_starts`] of fragments known by their lengths and by whether each opens a codestream
/// (`opens`, [`opens_codestream`] of its first bytes): for fragments left in the source file,
/// which are not held to find where frames start.
pub fn frame_starts_by(
    lengths: &[u64],
    opens: impl Fn(usize) -> bool,
    table: Option<&[u64]>,
    frames: usize,
) -> Vec<usize> {
    let positions = item_positions(lengths.iter().copied());
    match table.and_then(|t| group_starts(t, &positions)) {
        Some(s) => s,
        None if lengths.len() == frames => (0..frames).collect(),
        None if frames <= 1 => vec![0],
        None => std::iter::once(0).chain((1..lengths.len()).filter(|&k| opens(k))).collect(),
    }
}

/// The fragment index each offset of an offset table points at: `None` unless every offset
/// is the start of a fragment, the first is 0 and they increase.
fn group_starts(offsets: &[u64], positions: &[u64]) -> Option<Vec<usize>> {
    let starts: Vec<usize> = offsets.iter().map(|o| positions.binary_search(o).ok()).collect::<Option<_>>()?;
    (starts.first() == Some(&0) && starts.windows(2).all(|w| w[0] < w[1])).then_some(starts)
}

/// What [`strip_pixel_data`] would remove from encapsulated pixel data a large file left on
/// disk ([`Deferred`]), read one frame at a time from `path`: the pipeline fails such a file
/// when this is not empty (it does not rewrite pixel data it has not loaded), and `verify`
/// reports it. A fragment that opens a codestream starts a new frame.
///
/// # Errors
/// [`StreamError`] when the input cannot be read again or its items are broken, or a frame
/// cannot be parsed and may hold metadata.
pub fn scan_on_disk(path: &Path, d: &Deferred, codec: Codec) -> Result<Removed, StreamError> {
    let io = |e: std::io::Error| StreamError(format!("could not read the pixel data from the input again: {e}"));
    let mut file = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    file.seek(SeekFrom::Start(d.offset)).map_err(io)?;
    let mut file = file.take(d.length);
    let mut removed = Removed::default();
    let mut frame: Vec<u8> = Vec::new();
    let mut frames = 0usize;
    let mut first = true;
    let mut finish = |frame: &mut Vec<u8>, n: usize| -> Result<(), StreamError> {
        if frame.is_empty() {
            return Ok(());
        }
        let found = strip(codec, frame)
            .map_err(|e| StreamError(format!("frame {n}: the compressed stream cannot be parsed: {e}")))?;
        if let Some((_, r)) = found {
            removed.extend(&r);
        }
        frame.clear();
        Ok(())
    };
    loop {
        let mut header = [0u8; 8];
        file.read_exact(&mut header).map_err(io)?;
        let tag = (u16::from_le_bytes([header[0], header[1]]), u16::from_le_bytes([header[2], header[3]]));
        let len = u64::from(u32::from_le_bytes([header[4], header[5], header[6], header[7]]));
        match tag {
            (0xFFFE, 0xE0DD) => break,
            (0xFFFE, 0xE000) => {}
            _ => return Err(StreamError("expected a pixel data item".into())),
        }
        let mut fragment = Vec::new();
        (&mut file).take(len).read_to_end(&mut fragment).map_err(io)?;
        if fragment.len() as u64 != len {
            return Err(StreamError("a pixel data fragment runs past the end of the pixel data".into()));
        }
        if first {
            first = false; // the Basic Offset Table
            continue;
        }
        if opens_codestream(&fragment) && !frame.is_empty() {
            frames += 1;
            finish(&mut frame, frames)?;
        }
        frame.extend_from_slice(&fragment);
    }
    finish(&mut frame, frames + 1)?;
    Ok(removed)
}

#[cfg(test)]
mod tests;
