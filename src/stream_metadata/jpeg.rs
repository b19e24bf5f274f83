//! The metadata segments of a JPEG or JPEG-LS codestream (ITU T.81 Annex B, T.87 Annex C).
//!
//! The codestream is walked marker by marker: SOI, then segments with their lengths up to a
//! scan (SOS), whose entropy-coded data is stepped over (stuffed `FF 00`, or in JPEG-LS a byte
//! below `0x80` after `FF`; restart markers; fill bytes before the next marker), then more
//! segments (DHT, DQT, DRI, DNL, further scans) up to EOI. What a decoder needs is kept; what
//! only describes the picture is cut (see [`super`] for the list and why).

use super::{Cut, Kind, Removed, StreamError};

/// The cuts that remove the metadata of the JPEG codestream(s) in `s`: one codestream, then
/// padding (zero or `FF` bytes, kept), another codestream that follows at once (treated the
/// same way), or other data after the end of image (cut: no decoder reads it).
///
/// # Errors
/// [`StreamError`] when the marker structure is broken (no SOI, a segment that runs past the
/// end, bytes that are not a marker where one must be).
pub(super) fn cuts(s: &[u8], removed: &mut Removed) -> Result<Vec<Cut>, StreamError> {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let end = one(s, at, &mut out, removed)?;
        let rest = &s[end..];
        if rest.iter().all(|&b| b == 0 || b == 0xFF) {
            return Ok(out);
        }
        if rest.starts_with(&[0xFF, 0xD8]) {
            at = end;
            continue;
        }
        removed.add(Kind::TrailingData);
        out.push(Cut { start: end, end: s.len(), with: Vec::new() });
        return Ok(out);
    }
}

fn be16(s: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([*s.get(at)?, *s.get(at + 1)?])))
}

/// One codestream starting at `start`; returns where it ends (after EOI, or the end of `s`
/// when the last scan's data runs to it).
fn one(s: &[u8], start: usize, out: &mut Vec<Cut>, removed: &mut Removed) -> Result<usize, StreamError> {
    if !s[start..].starts_with(&[0xFF, 0xD8]) {
        return Err(StreamError::at("no JPEG start of image", start));
    }
    let mut i = start + 2;
    let mut jpeg_ls = false;
    loop {
        let marker_at = i;
        match s.get(i) {
            None => return Err(StreamError::at("the stream ends before its first scan or end of image", i)),
            Some(0xFF) => {}
            Some(_) => return Err(StreamError::at("bytes that are not a marker between segments", i)),
        }
        while s.get(i) == Some(&0xFF) {
            i += 1; // fill bytes
        }
        let Some(&marker) = s.get(i) else {
            return Err(StreamError::at("the stream ends in fill bytes", i));
        };
        i += 1;
        match marker {
            0x00 => return Err(StreamError::at("a stuffed byte outside a scan", marker_at)),
            0xD8 => return Err(StreamError::at("a second start of image inside a codestream", marker_at)),
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 => return Ok(i),
            _ => {}
        }
        let len = be16(s, i).ok_or_else(|| StreamError::at("a segment length runs past the end", i))?;
        let end = i + len;
        if len < 2 || end > s.len() {
            return Err(StreamError::at("a segment runs past the end of the stream", marker_at));
        }
        let body = &s[i + 2..end];
        match marker {
            0xFE => {
                removed.add(Kind::JpegCom);
                out.push(Cut { start: marker_at, end, with: Vec::new() });
            }
            0xE0..=0xEF => app(marker, body, marker_at, end, out, removed),
            0xF7 => jpeg_ls = true,
            0xDA => {
                match entropy_end(s, end, jpeg_ls) {
                    Some(next) => i = next,
                    None => return Ok(s.len()),
                }
                continue;
            }
            _ => {}
        }
        i = end;
    }
}

/// Where the entropy-coded data that starts at `from` ends: the first `FF` of the next marker
/// (fill bytes belong to it). `None` when the data runs to the end of `s` (no EOI).
fn entropy_end(s: &[u8], from: usize, jpeg_ls: bool) -> Option<usize> {
    let mut i = from;
    loop {
        let ff = i + s.get(i..)?.iter().position(|&b| b == 0xFF)?;
        let mut k = ff + 1;
        while s.get(k) == Some(&0xFF) {
            k += 1;
        }
        let next = *s.get(k)?;
        let data = if jpeg_ls { next < 0x80 } else { next == 0x00 };
        if data || (0xD0..=0xD7).contains(&next) {
            i = k + 1;
        } else {
            return Some(ff);
        }
    }
}

/// An application segment: kept when a decoder reads it (JFIF without its thumbnail, Adobe
/// colour transform, JPEG-LS HP colour transform), cut otherwise.
fn app(marker: u8, body: &[u8], start: usize, end: usize, out: &mut Vec<Cut>, removed: &mut Removed) {
    // The bytes a decoder reads of each kept segment.
    let kept = match marker {
        0xE0 if body.starts_with(b"JFIF\0") => Some((14, Kind::JfifThumbnail)),
        0xEE if body.starts_with(b"Adobe") => Some((12, Kind::SegmentTail)),
        0xE8 if body.starts_with(b"mrfx") => Some((5, Kind::SegmentTail)),
        _ => None,
    };
    match kept {
        Some((needed, _)) if body.len() <= needed => {}
        Some((needed, kind)) => {
            // A JFIF thumbnail (or bytes past what a decoder reads): the segment is rewritten
            // with only its first bytes, and a JFIF segment says it has no thumbnail.
            let mut with = vec![0xFF, marker];
            with.extend_from_slice(&(needed as u16 + 2).to_be_bytes());
            with.extend_from_slice(&body[..needed]);
            if kind == Kind::JfifThumbnail {
                with[2 + 2 + 12] = 0;
                with[2 + 2 + 13] = 0;
            }
            removed.add(kind);
            out.push(Cut { start, end, with });
        }
        None => {
            removed.add(Kind::JpegApp(marker - 0xE0));
            out.push(Cut { start, end, with: Vec::new() });
        }
    }
}
