//! The metadata of a JPEG 2000 / HTJ2K codestream (ITU T.800 Annex A) or JP2 file (Annex I).
//!
//! In a codestream, comment (COM, `FF64`) marker segments are cut from the main header and
//! from every tile-part header; a tile-part that loses one gets its Psot (its length) reduced
//! by as much. A codestream with a TLM marker segment (tile-part lengths, in the main header)
//! and a COM in a tile-part header is refused: its TLM would have to be rewritten too, and such
//! streams are rare enough that failing the file is the safe choice.
//!
//! In a JP2 file, only the boxes a decoder reads are kept: the signature, File Type, Reader
//! Requirements, the JP2 Header (image size, colour specification, palette, resolution) and the
//! Contiguous Codestream (its COMs cut as above). XML, UUID, UUID Info, IPR and any other box
//! is cut: they hold free text or vendor data, never samples.

use super::{Cut, Kind, Removed, StreamError};

const SOC_SIZ: [u8; 4] = [0xFF, 0x4F, 0xFF, 0x51];
/// The JP2 signature box.
pub(super) const JP2_SIGNATURE: [u8; 12] = [0, 0, 0, 0x0C, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A];

fn be16(s: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([*s.get(at)?, *s.get(at + 1)?])))
}

fn be32(s: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_be_bytes(s.get(at..at + 4)?.try_into().ok()?)))
}

/// The cuts for a raw codestream or a JP2 file in `s`.
///
/// # Errors
/// [`StreamError`] when the structure is broken (a segment, tile-part or box running past the
/// end, a marker missing where one must be), or a COM sits in a tile-part of a codestream with
/// a TLM marker segment.
pub(super) fn cuts(s: &[u8], removed: &mut Removed) -> Result<Vec<Cut>, StreamError> {
    if s.starts_with(&JP2_SIGNATURE) {
        jp2(s, removed)
    } else {
        let mut out = Vec::new();
        let end = codestream(s, 0, &mut out, removed)?;
        if !s[end..].iter().all(|&b| b == 0) {
            removed.add(Kind::TrailingData);
            out.push(Cut { start: end, end: s.len(), with: Vec::new() });
        }
        Ok(out)
    }
}

/// One codestream starting at `start`; returns where it ends (after EOC, or the end of `s`
/// when the last tile-part runs to it).
fn codestream(s: &[u8], start: usize, out: &mut Vec<Cut>, removed: &mut Removed) -> Result<usize, StreamError> {
    if !s[start..].starts_with(&SOC_SIZ) {
        return Err(StreamError::at("no JPEG 2000 start of codestream and size segment", start));
    }
    let mut i = start + 2;
    let mut tlm = false;
    // The main header: marker segments up to the first tile-part.
    loop {
        let marker = be16(s, i).ok_or_else(|| StreamError::at("the main header runs past the end", i))?;
        match marker {
            0xFF90 => break,
            0xFFD9 => return Ok(i + 2),
            m if m >> 8 != 0xFF => return Err(StreamError::at("bytes that are not a marker in the main header", i)),
            // Markers without a segment (T.800 Table A.1 reserves 0xFF30–0xFF3F for them).
            0xFF30..=0xFF3F => {
                i += 2;
                continue;
            }
            _ => {}
        }
        let end = segment_end(s, i)?;
        match marker {
            0xFF64 => {
                removed.add(Kind::J2kCom);
                out.push(Cut { start: i, end, with: Vec::new() });
            }
            0xFF55 => tlm = true,
            _ => {}
        }
        i = end;
    }
    // Tile-parts: SOT, header segments up to SOD, then Psot - header bytes of data.
    loop {
        match be16(s, i) {
            Some(0xFF90) => {}
            Some(0xFFD9) => return Ok(i + 2),
            None if i == s.len() => return Ok(i),
            _ => return Err(StreamError::at("no tile-part or end of codestream where one must be", i)),
        }
        let sot = i;
        let psot = be32(s, sot + 6).ok_or_else(|| StreamError::at("a tile-part header runs past the end", sot))?;
        let tile_end = if psot == 0 {
            // The last tile-part, up to the end of codestream.
            s.len() - if s.ends_with(&[0xFF, 0xD9]) { 2 } else { 0 }
        } else {
            usize::try_from(psot)
                .ok()
                .and_then(|p| sot.checked_add(p))
                .filter(|&e| e <= s.len())
                .ok_or_else(|| StreamError::at("a tile-part runs past the end of the stream", sot))?
        };
        i = segment_end(s, sot)?;
        let mut coms = Vec::new();
        let mut cut_bytes = 0;
        loop {
            let marker = be16(s, i).filter(|_| i < tile_end);
            match marker {
                Some(0xFF93) => break,
                Some(0xFF30..=0xFF3F) => {
                    i += 2;
                    continue;
                }
                Some(m) if m >> 8 == 0xFF => {}
                _ => return Err(StreamError::at("a tile-part header without a start of data", i)),
            }
            let end = segment_end(s, i)?;
            if end > tile_end {
                return Err(StreamError::at("a tile-part header segment runs past its tile-part", i));
            }
            if marker == Some(0xFF64) {
                removed.add(Kind::J2kCom);
                coms.push(Cut { start: i, end, with: Vec::new() });
                cut_bytes += end - i;
            }
            i = end;
        }
        if !coms.is_empty() {
            if tlm {
                return Err(StreamError::at(
                    "a comment in a tile-part of a codestream with tile-part lengths (TLM), which kamei does not rewrite",
                    sot,
                ));
            }
            if psot != 0 {
                let new = u32::try_from(psot - cut_bytes as u64).expect("smaller than a u32 Psot");
                out.push(Cut { start: sot + 6, end: sot + 10, with: new.to_be_bytes().to_vec() });
            }
            out.append(&mut coms);
        }
        i = tile_end;
    }
}

/// Where the marker segment at `at` (marker, then a length that counts itself) ends.
fn segment_end(s: &[u8], at: usize) -> Result<usize, StreamError> {
    let len = be16(s, at + 2).ok_or_else(|| StreamError::at("a marker segment length runs past the end", at))?;
    let end = at + 2 + len;
    if len < 2 || end > s.len() {
        return Err(StreamError::at("a marker segment runs past the end of the stream", at));
    }
    Ok(end)
}

/// Boxes of a JP2 file: the ones a decoder reads are kept, the Contiguous Codestream with its
/// COMs cut and its length fixed.
fn jp2(s: &[u8], removed: &mut Removed) -> Result<Vec<Cut>, StreamError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i..].iter().all(|&b| b == 0) {
            break; // padding of the fragment
        }
        let lbox = be32(s, i).ok_or_else(|| StreamError::at("a box header runs past the end", i))?;
        let kind: [u8; 4] = s
            .get(i + 4..i + 8)
            .and_then(|t| t.try_into().ok())
            .ok_or_else(|| StreamError::at("a box header runs past the end", i))?;
        let (header, end) = match lbox {
            0 => (8, s.len()),
            1 => {
                let hi = be32(s, i + 8).ok_or_else(|| StreamError::at("a box header runs past the end", i))?;
                let lo = be32(s, i + 12).ok_or_else(|| StreamError::at("a box header runs past the end", i))?;
                (16, usize::try_from(hi << 32 | lo).ok().and_then(|l| i.checked_add(l)).unwrap_or(usize::MAX))
            }
            l => (8, usize::try_from(l).ok().and_then(|l| i.checked_add(l)).unwrap_or(usize::MAX)),
        };
        if end > s.len() || end < i + header {
            return Err(StreamError::at("a box runs past the end of the stream", i));
        }
        match &kind {
            b"jP  " | b"ftyp" | b"rreq" | b"jp2h" => {}
            b"jp2c" => {
                let body = &s[i + header..end];
                let mut inner = Vec::new();
                let stream_end = codestream(body, 0, &mut inner, removed)?;
                if stream_end != body.len() && !body[stream_end..].iter().all(|&b| b == 0) {
                    removed.add(Kind::TrailingData);
                    inner.push(Cut { start: stream_end, end: body.len(), with: Vec::new() });
                }
                if !inner.is_empty() {
                    let new_body = super::apply(body, &inner);
                    let mut with = Vec::with_capacity(new_body.len() + 16);
                    match lbox {
                        0 => with.extend_from_slice(&0u32.to_be_bytes()),
                        1 => {
                            with.extend_from_slice(&1u32.to_be_bytes());
                        }
                        _ => {
                            with.extend_from_slice(&(u32::try_from(new_body.len() + 8).expect("smaller")).to_be_bytes())
                        }
                    }
                    with.extend_from_slice(b"jp2c");
                    if lbox == 1 {
                        with.extend_from_slice(&(new_body.len() as u64 + 16).to_be_bytes());
                    }
                    with.extend_from_slice(&new_body);
                    out.push(Cut { start: i, end, with });
                }
            }
            other => {
                removed.add(match other {
                    b"xml " => Kind::Jp2Xml,
                    b"uuid" | b"uinf" => Kind::Jp2Uuid,
                    _ => Kind::Jp2Other,
                });
                out.push(Cut { start: i, end, with: Vec::new() });
            }
        }
        i = end;
    }
    Ok(out)
}
