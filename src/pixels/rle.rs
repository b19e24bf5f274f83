//! RLE Lossless frames (PS3.5 Annex G) of 8, 16 and 32 bits per sample. kamei decodes RLE
//! itself: the dicom-rs RLE decoder refuses 32 bits and reads only the segments the image needs
//! when a frame holds more, so a segment more (a second image no viewer shows) would leave
//! unexamined; here the segment count must match the image exactly, as DCMTK and pydicom
//! require.
//!
//! A frame is one fragment: a 64-byte header (the number of segments, then up to 15 segment
//! offsets, little endian) followed by the segments. There is one segment per byte of each
//! sample, most significant byte first, for each sample in turn (R, G, B). Each segment is
//! PackBits-coded: a header byte `n` in 0..=127 copies the next `n + 1` bytes, `n` in
//! -127..=-1 repeats the next byte `1 - n` times, and -128 does nothing (G.3.2). Every segment
//! decodes to exactly one byte per pixel.
//!
//! Errors name the problem, never a value.

use super::decode::DecodeError;

/// Decode one RLE frame of `pixels` pixels with `samples` samples of `sample_bytes` bytes each
/// into `out`: samples interleaved, little endian (what [`super::decode::Frames`] holds).
///
/// # Errors
/// A header whose segment count does not match the image, segment offsets outside the
/// fragment, or a segment that does not decode to one byte per pixel.
pub fn decode_frame(
    fragment: &[u8],
    pixels: usize,
    samples: usize,
    sample_bytes: usize,
    out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    let err = |m: &str| DecodeError(format!("RLE Lossless frame: {m}"));
    if fragment.len() < 64 {
        return Err(err("shorter than its 64-byte header"));
    }
    let word = |i: usize| u32::from_le_bytes(fragment[4 * i..4 * i + 4].try_into().expect("4 bytes")) as usize;
    let segments = samples * sample_bytes;
    if word(0) != segments {
        return Err(err(&format!("{} segments where the image needs {segments}", word(0))));
    }
    let offsets: Vec<usize> = (1..=segments).map(word).collect();
    let base = out.len();
    out.resize(base + pixels * segments, 0);
    for (k, &start) in offsets.iter().enumerate() {
        let end = offsets.get(k + 1).copied().unwrap_or(fragment.len());
        if start < 64 || start > end || end > fragment.len() {
            return Err(err("a segment offset lies outside the fragment"));
        }
        let (sample, byte) = (k / sample_bytes, k % sample_bytes);
        // Segment `byte` 0 is the most significant byte; little endian puts it last.
        let at = sample * sample_bytes + (sample_bytes - 1 - byte);
        let segment =
            unpack(&fragment[start..end], pixels).ok_or_else(|| err("a segment is shorter than the image"))?;
        for (i, v) in segment.into_iter().enumerate() {
            out[base + i * segments + at] = v;
        }
    }
    Ok(())
}

/// PackBits-decode `data` into exactly `len` bytes (`None` if it holds fewer). Bytes past
/// `len` (segments are padded to an even length) are ignored.
fn unpack(data: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while out.len() < len && i < data.len() {
        let n = data[i] as i8;
        i += 1;
        match n {
            0..=127 => {
                let run = n as usize + 1;
                let literal = data.get(i..i + run)?;
                out.extend_from_slice(literal);
                i += run;
            }
            -127..=-1 => {
                let value = *data.get(i)?;
                out.resize(out.len() + (1 - n as isize) as usize, value);
                i += 1;
            }
            -128 => {}
        }
    }
    (out.len() >= len).then(|| {
        out.truncate(len);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame header for segments of the given lengths.
    fn frame(segments: &[Vec<u8>]) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[0..4].copy_from_slice(&(segments.len() as u32).to_le_bytes());
        let mut at = 64u32;
        for (k, s) in segments.iter().enumerate() {
            f[4 + 4 * k..8 + 4 * k].copy_from_slice(&at.to_le_bytes());
            at += s.len() as u32;
        }
        for s in segments {
            f.extend_from_slice(s);
        }
        f
    }

    /// A literal run of every byte.
    fn literal(bytes: &[u8]) -> Vec<u8> {
        let mut s = vec![(bytes.len() - 1) as u8];
        s.extend_from_slice(bytes);
        s
    }

    #[test]
    fn literal_and_replicate_runs_and_no_op_decode() {
        // 2 literal bytes, a run of 4 × 7, a no-op, 1 literal byte.
        let data = [1, 10, 11, (-3i8) as u8, 7, 0x80, 0, 12];
        assert_eq!(unpack(&data, 7), Some(vec![10, 11, 7, 7, 7, 7, 12]));
    }

    #[test]
    fn a_segment_that_ends_early_is_refused() {
        assert_eq!(unpack(&[2, 1, 2], 3), None, "the literal run needs 3 bytes");
        assert_eq!(unpack(&[0, 1], 2), None, "one byte where two pixels need one each");
    }

    #[test]
    fn thirty_two_bit_samples_are_rebuilt_little_endian_from_most_significant_first() {
        // Two pixels of one sample: 0x11223344 and 0xAABBCCDD.
        let segments = [literal(&[0x11, 0xAA]), literal(&[0x22, 0xBB]), literal(&[0x33, 0xCC]), literal(&[0x44, 0xDD])];
        let mut out = Vec::new();
        decode_frame(&frame(&segments), 2, 1, 4, &mut out).unwrap();
        let values: Vec<u32> = out.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(values, [0x11223344, 0xAABBCCDD]);
    }

    #[test]
    fn colour_samples_are_interleaved() {
        // One RGB pixel of 32-bit samples: R = 1, G = 2, B = 3 (segments R3..R0, G3..G0, B3..B0).
        let mut segments = Vec::new();
        for v in [1u8, 2, 3] {
            segments.extend([literal(&[0]), literal(&[0]), literal(&[0]), literal(&[v])]);
        }
        let mut out = vec![9];
        decode_frame(&frame(&segments), 1, 3, 4, &mut out).unwrap();
        assert_eq!(out, [9, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0], "appended after what was there");
    }

    #[test]
    fn a_header_with_the_wrong_segment_count_is_refused() {
        let f = frame(&[literal(&[1]), literal(&[2])]);
        let e = decode_frame(&f, 1, 1, 4, &mut Vec::new()).unwrap_err();
        assert!(e.0.contains("2 segments where the image needs 4"), "{}", e.0);
    }

    #[test]
    fn a_segment_offset_outside_the_fragment_is_refused() {
        let mut f = frame(&[literal(&[1]), literal(&[2]), literal(&[3]), literal(&[4])]);
        f[16..20].copy_from_slice(&10_000u32.to_le_bytes());
        assert!(decode_frame(&f, 1, 1, 4, &mut Vec::new()).is_err());
        assert!(decode_frame(&f[..40], 1, 1, 4, &mut Vec::new()).is_err(), "shorter than the header");
    }
}
