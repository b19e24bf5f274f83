//! What each compressed frame says about its own size, checked against the data set.
//!
//! A decoder given a codestream smaller than Rows × Columns, with fewer components than
//! Samples per Pixel, or fewer codestreams than Number of Frames may pad, wrap or invent pixels
//! instead of failing. The detector would then search an image that is not the one a viewer
//! shows, so a frame whose own header disagrees with the data set fails before it is decoded
//! (README: an image that must be cleaned but cannot be decoded is not released).

use super::decode::DecodeError;

/// The size a frame's own header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Columns.
    pub cols: u32,
    /// Rows; 0 when a JPEG header leaves the height to a later DNL marker.
    pub rows: u32,
    /// Components (samples per pixel).
    pub components: u32,
    /// Bits per sample the codestream codes (JPEG / JPEG-LS P, JPEG 2000 Ssiz of the first
    /// component), which a decoder's output width follows rather than Bits Allocated.
    pub precision: u32,
}

/// The geometry in a JPEG, JPEG-LS or JPEG 2000 codestream (or a JP2 file holding one) that
/// starts at `stream`; `None` when no frame header is found before the coded data.
pub fn geometry(stream: &[u8]) -> Option<Geometry> {
    if stream.starts_with(&[0xFF, 0xD8]) { jpeg(stream) } else { j2k(j2k_codestream(stream)?) }
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

/// Whether a JPEG marker is a start of frame (SOF0–SOF15 of ITU T.81 but DHT, JPG and DAC;
/// SOF55 of JPEG-LS T.87).
fn is_frame_header(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF | 0xF7) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// The position of the length field of the first marker segment of a JPEG / JPEG-LS stream
/// that `want` accepts, walking the markers from SOI up to the first scan header (SOS
/// included); `None` when there is none before the coded data.
fn segment(s: &[u8], want: impl Fn(u8) -> bool) -> Option<usize> {
    let mut i = 2;
    loop {
        if *s.get(i)? != 0xFF {
            return None;
        }
        while *s.get(i)? == 0xFF {
            i += 1;
        }
        let marker = s[i];
        i += 1;
        if want(marker) {
            return Some(i);
        }
        match marker {
            0x01 | 0xD0..=0xD8 => {}
            0xD9 | 0xDA => return None,
            _ => i += be16(s, i)? as usize,
        }
    }
}

/// The first start-of-frame marker before the first scan.
fn jpeg(s: &[u8]) -> Option<Geometry> {
    let i = segment(s, is_frame_header)?;
    Some(Geometry {
        precision: u32::from(*s.get(i + 2)?),
        rows: be16(s, i + 3)?,
        cols: be16(s, i + 5)?,
        components: u32::from(*s.get(i + 7)?),
    })
}

/// The first scan header (SOS) of a JPEG or JPEG-LS codestream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// Components in the scan (Ns).
    pub components: u32,
    /// The three bytes after the component list: for JPEG (ITU T.81 B.2.3) Ss, Se and Ah/Al,
    /// whose low half is the point transform of a lossless scan; for JPEG-LS (ITU T.87 C.2.3)
    /// NEAR, ILV (0 when each component is coded in a scan of its own, one plane after the
    /// other) and Al/Ah.
    pub params: [u8; 3],
}

/// The first scan header of the JPEG or JPEG-LS codestream that starts at `stream`, which says
/// how the decoder lays out its output (JPEG-LS interleave) and what it must undo (JPEG
/// lossless point transform); `None` when there is none.
pub fn first_scan(stream: &[u8]) -> Option<Scan> {
    if !stream.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let i = segment(stream, |m| m == 0xDA)?;
    let components = *stream.get(i + 2)? as usize;
    let at = i + 3 + 2 * components;
    Some(Scan { components: components as u32, params: [*stream.get(at)?, *stream.get(at + 1)?, *stream.get(at + 2)?] })
}

/// The SIZ marker segment that follows SOC in a JPEG 2000 codestream (ITU T.800 A.5.1).
fn j2k(s: &[u8]) -> Option<Geometry> {
    if !s.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return None;
    }
    let cols = be32(s, 8)?.checked_sub(be32(s, 16)?)?;
    let rows = be32(s, 12)?.checked_sub(be32(s, 20)?)?;
    Some(Geometry { cols, rows, components: be16(s, 40)?, precision: u32::from(*s.get(42)? & 0x7F) + 1 })
}

/// The JPEG 2000 codestream in `stream`: itself, or the one a JP2 file holds in its `jp2c`
/// box.
fn j2k_codestream(stream: &[u8]) -> Option<&[u8]> {
    if stream.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        Some(stream)
    } else if stream.starts_with(&[0, 0, 0, 0x0C, b'j', b'P', b' ', b' ']) {
        let at = stream.windows(4).position(|w| w == b"jp2c")?;
        Some(&stream[at + 4..])
    } else {
        None
    }
}

/// Whether a JPEG 2000 or HTJ2K codestream codes any component with the irreversible 9-7
/// wavelet: a COD or COC marker segment, in the main header or a tile-part header, whose
/// wavelet transformation is 0 (ITU T.800 A.6.1, A.6.2, Table A.20). Such pixels went through
/// lossy coding, whatever the data set says; the reversible 5-3 wavelet is lossless unless the
/// codestream was cut short, which its headers do not tell. `false` for anything else, a
/// stream that is not JPEG 2000 included.
pub fn j2k_irreversible(stream: &[u8]) -> bool {
    let Some(s) = j2k_codestream(stream) else { return false };
    // Csiz of SIZ: a COC names its component in one byte below 257 components, else two.
    let Some(components) = be16(s, 40) else { return false };
    let component_bytes = if components < 257 { 1 } else { 2 };
    // The transformation byte of one marker segment whose length field is at `at`.
    let transform = |marker: u32, at: usize| match marker {
        0xFF52 => s.get(at + 11).copied(),
        0xFF53 => s.get(at + 2 + component_bytes + 5).copied(),
        _ => None,
    };
    // Walk the main header (after SOC) and each tile-part header up to its SOD.
    let mut at = 2;
    let mut tile_part_end: Option<usize> = None;
    loop {
        let Some(marker) = be16(s, at) else { return false };
        match marker {
            // SOT: a tile-part header follows; Psot is its whole length from SOT on (0: up to EOC).
            0xFF90 => {
                let Some(psot) = be32(s, at + 6) else { return false };
                tile_part_end = (psot != 0).then(|| at + psot as usize);
            }
            // SOD: the tile-part's coded data; go on at the next tile-part, if its length is known.
            0xFF93 => match tile_part_end {
                Some(next) if next > at => {
                    at = next;
                    continue;
                }
                _ => return false,
            },
            0xFFD9 => return false,
            _ => {}
        }
        if transform(marker, at + 2) == Some(0) {
            return true;
        }
        let Some(length) = be16(s, at + 2) else { return false };
        if length < 2 {
            return false;
        }
        at += 2 + length as usize;
    }
}

/// Whether a fragment begins a new codestream: JPEG / JPEG-LS (SOI), JPEG 2000 and HTJ2K
/// (SOC followed by SIZ, or a JP2 signature box), JPEG XL (codestream or container).
fn starts_codestream(fragment: &[u8]) -> bool {
    const STARTS: &[&[u8]] = &[
        &[0xFF, 0xD8, 0xFF],
        &[0xFF, 0x4F, 0xFF, 0x51],
        &[0, 0, 0, 0x0C, b'j', b'P', b' ', b' '],
        &[0xFF, 0x0A],
        &[0, 0, 0, 0x0C, b'J', b'X', b'L', b' '],
    ];
    STARTS.iter().any(|s| fragment.starts_with(s))
}

/// Where codestreams start in `fragments`: at the start of a fragment (a JPEG SOI, a JPEG 2000 SOC, a JP2 or JPEG XL signature),
/// and after an end of image (JPEG EOI, JPEG 2000 EOC, both FFD9) that a JPEG SOI or JPEG 2000
/// SOC follows inside one fragment, at once or after padding (`FF` fill bytes, zeros). Neither
/// sequence can occur inside one valid codestream's coded data.
pub fn starts(fragments: &[Vec<u8>]) -> Vec<&[u8]> {
    fragments.iter().flat_map(|f| fragment_starts(f)).collect()
}

/// The codestreams that start in one fragment ([`starts`] looks at each fragment alone), so
/// that fragments read one at a time give the same codestreams as all of them held.
pub fn fragment_starts(f: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    if starts_codestream(f) {
        out.push(f);
    }
    for (at, _) in f.windows(2).enumerate().filter(|(_, w)| *w == [0xFF, 0xD9]) {
        if let Some(next) = start_after_end(f, at + 2) {
            out.push(&f[next..]);
        }
    }
    out
}

/// Where a codestream starts after the end of image whose marker ends at `from`: a JPEG SOI or
/// JPEG 2000 SOC marker after any number of padding bytes (`FF` fill, zeros), the marker's own
/// `FF` included. A second image after one frame's end and a pad byte would otherwise pass for
/// data after the end of the codestream, which is cut, not counted as a frame (rv36: JPEG 2000
/// writers pad a codestream with `FF`).
fn start_after_end(f: &[u8], from: usize) -> Option<usize> {
    let k = from + f.get(from..)?.iter().position(|&b| b != 0xFF && b != 0)?;
    (k > from && f[k - 1] == 0xFF && matches!(f[k], 0xD8 | 0x4F)).then_some(k - 1)
}

/// Where the quantization table selectors (Tq) of a lossless JPEG frame header (SOF3, SOF7,
/// SOF11, SOF15) that are not 0 are in `stream`. Lossless processes use no quantization table
/// and ITU T.81 B.2.2 asks Tq = 0 there, but DCMTK's `dcmcjpeg +e1` names table 1 for the
/// chroma components of a YBR_FULL image, which jpeg-decoder refuses; setting them to 0 in a
/// copy for decoding changes no sample. Empty for any other stream.
pub fn lossless_table_selectors(stream: &[u8]) -> Vec<usize> {
    let Some(i) = segment(stream, is_frame_header) else { return Vec::new() };
    if !matches!(stream[i - 1], 0xC3 | 0xC7 | 0xCB | 0xCF) {
        return Vec::new();
    }
    let components = stream.get(i + 7).map_or(0, |&n| usize::from(n));
    (0..components).map(|c| i + 8 + 3 * c + 2).filter(|&at| stream.get(at).is_some_and(|&t| t != 0)).collect()
}

/// The size the data set declares for each frame.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    /// Columns (0028,0011).
    pub cols: u32,
    /// Rows (0028,0010).
    pub rows: u32,
    /// Samples per Pixel (0028,0002).
    pub samples: u32,
    /// Number of Frames (0028,0008), 1 when absent.
    pub frames: u32,
    /// Bits Allocated (0028,0100).
    pub bits_allocated: u32,
}

/// Check the codestreams of JPEG, JPEG-LS and JPEG 2000 pixel data against the data set: at
/// least one codestream per frame, each frame header with the declared columns, rows and
/// components, and samples no wider than Bits Allocated (a decoder would return a buffer of
/// another width than the one written).
///
/// # Errors
/// A [`DecodeError`] saying what disagrees (sizes and counts only).
pub fn check(fragments: &[Vec<u8>], declared: Declared, codec: &str) -> Result<(), DecodeError> {
    let starts = starts(fragments);
    if (starts.len() as u64) < u64::from(declared.frames) {
        return Err(DecodeError(format!(
            "Number of Frames is {} but the {codec} pixel data holds {} codestreams",
            declared.frames,
            starts.len()
        )));
    }
    for (n, s) in starts.iter().enumerate() {
        check_stream(n, s, declared)?;
    }
    Ok(())
}

/// The part of [`check`] that looks at codestream `n` (from 0) alone, `stream` from its start:
/// its frame header, when it has one, gives the declared size and components and samples no
/// wider than Bits Allocated.
///
/// # Errors
/// As [`check`].
pub fn check_stream(n: usize, stream: &[u8], declared: Declared) -> Result<(), DecodeError> {
    let Some(g) = geometry(stream) else { return Ok(()) };
    let rows_differ = g.rows != 0 && g.rows != declared.rows;
    if g.cols != declared.cols || rows_differ || g.components != declared.samples {
        return Err(DecodeError(format!(
            "codestream {} says {} × {} pixels with {} components; the data set says {} × {} with {}",
            n + 1,
            g.cols,
            g.rows,
            g.components,
            declared.cols,
            declared.rows,
            declared.samples
        )));
    }
    if g.precision > declared.bits_allocated {
        return Err(DecodeError(format!(
            "codestream {} codes {}-bit samples; Bits Allocated is {}",
            n + 1,
            g.precision,
            declared.bits_allocated
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_header(rows: u16, cols: u16, components: u8) -> Vec<u8> {
        let mut s = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 8 + 3 * components, 8];
        s.extend(rows.to_be_bytes());
        s.extend(cols.to_be_bytes());
        s.push(components);
        s.extend(std::iter::repeat_n(0, 3 * components as usize));
        s.extend([0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
        s
    }

    fn j2k_header(rows: u32, cols: u32, components: u16) -> Vec<u8> {
        let mut s = vec![0xFF, 0x4F, 0xFF, 0x51, 0, 41, 0, 0];
        for v in [cols, rows, 0, 0, cols, rows, 0, 0] {
            s.extend(v.to_be_bytes());
        }
        s.extend(components.to_be_bytes());
        s.extend([7, 1, 1]);
        s
    }

    fn declared(cols: u32, rows: u32, samples: u32, frames: u32) -> Declared {
        Declared { cols, rows, samples, frames, bits_allocated: 8 }
    }

    /// A codestream of `j2k_header` with a COD segment of `cod_transform` and, when given, a COC
    /// segment for component 0 of `coc_transform`, in the main header or (`in_tile`) in the
    /// first tile-part header.
    fn j2k_with_transforms(cod_transform: u8, coc_transform: Option<u8>, in_tile: bool) -> Vec<u8> {
        let mut s = j2k_header(30, 40, 1);
        s.extend([0xFF, 0x52, 0, 12, 0, 0, 0, 1, 0, 5, 4, 4, 0, cod_transform]);
        let coc = coc_transform.map(|t| vec![0xFF, 0x53, 0, 9, 0, 0, 5, 4, 4, 0, t]).unwrap_or_default();
        if !in_tile {
            s.extend(&coc);
        }
        let sot_at = s.len();
        s.extend([0xFF, 0x90, 0, 10, 0, 0, 0, 0, 0, 0, 0, 1]);
        if in_tile {
            s.extend(&coc);
        }
        s.extend([0xFF, 0x93, 1, 2, 3, 4]);
        let psot = (s.len() - sot_at) as u32;
        s[sot_at + 6..sot_at + 10].copy_from_slice(&psot.to_be_bytes());
        s.extend([0xFF, 0xD9]);
        s
    }

    #[test]
    fn a_jpeg_2000_codestream_with_the_9_7_wavelet_is_irreversible() {
        assert!(j2k_irreversible(&j2k_with_transforms(0, None, false)));
    }

    #[test]
    fn a_jpeg_2000_codestream_with_the_5_3_wavelet_is_not_irreversible() {
        assert!(!j2k_irreversible(&j2k_with_transforms(1, None, false)));
        assert!(!j2k_irreversible(&jpeg_header(64, 160, 1)));
    }

    #[test]
    fn a_component_coded_9_7_in_a_coc_segment_is_irreversible_in_either_header() {
        assert!(j2k_irreversible(&j2k_with_transforms(1, Some(0), false)));
        assert!(j2k_irreversible(&j2k_with_transforms(1, Some(0), true)));
        assert!(!j2k_irreversible(&j2k_with_transforms(1, Some(1), true)));
    }

    #[test]
    fn the_jpeg_frame_header_after_other_segments_gives_the_size() {
        assert_eq!(
            geometry(&jpeg_header(64, 160, 3)),
            Some(Geometry { cols: 160, rows: 64, components: 3, precision: 8 })
        );
    }

    #[test]
    fn the_jpeg_2000_size_segment_gives_the_size() {
        assert_eq!(
            geometry(&j2k_header(30, 40, 1)),
            Some(Geometry { cols: 40, rows: 30, components: 1, precision: 8 })
        );
    }

    #[test]
    fn a_codestream_smaller_than_the_data_set_says_fails() {
        let e = check(&[jpeg_header(64, 160, 1)], declared(640, 256, 1, 1), "JPEG").unwrap_err();
        assert!(e.0.contains("160 × 64") && e.0.contains("640 × 256"), "{e}");
    }

    #[test]
    fn fewer_components_than_samples_per_pixel_fails() {
        assert!(check(&[jpeg_header(64, 160, 1)], declared(160, 64, 3, 1), "JPEG").is_err());
    }

    #[test]
    fn fewer_codestreams_than_frames_fails() {
        let e = check(&[jpeg_header(64, 160, 1)], declared(160, 64, 1, 3), "JPEG").unwrap_err();
        assert!(e.0.contains("Number of Frames is 3") && e.0.contains("1 codestreams"), "{e}");
    }

    #[test]
    fn matching_frames_across_fragments_pass() {
        let mut first = jpeg_header(64, 160, 1);
        let tail = first.split_off(20);
        let fragments = vec![first, tail, j2k_header(64, 160, 1)];
        assert!(check(&fragments, declared(160, 64, 1, 2), "JPEG").is_ok());
    }

    #[test]
    fn concatenated_codestreams_in_one_fragment_are_each_checked() {
        let mut both = jpeg_header(64, 160, 1);
        both.extend(jpeg_header(32, 160, 1));
        assert!(check(&[both], declared(160, 64, 1, 2), "JPEG").is_err());
    }

    #[test]
    fn a_jpeg_2000_codestream_after_another_ones_end_and_padding_is_counted() {
        // rv36: frame 3 + an FF pad + a whole 4th codestream in one fragment.
        let mut one = j2k_with_transforms(1, None, false);
        for pad in [&[][..], &[0xFF], &[0xFF, 0xFF, 0xFF], &[0, 0]] {
            let mut two = one.clone();
            two.extend_from_slice(pad);
            two.extend(j2k_with_transforms(1, None, false));
            assert_eq!(starts(&[two]).len(), 2, "pad {pad:?}");
        }
        // Padding alone after the end is no codestream.
        one.extend([0xFF, 0xFF, 0, 0]);
        assert_eq!(starts(&[one]).len(), 1);
    }

    #[test]
    fn a_jpeg_after_another_ones_end_and_fill_bytes_is_counted() {
        let mut two = jpeg_header(64, 160, 1);
        two.push(0xFF);
        two.extend(jpeg_header(64, 160, 1));
        assert_eq!(starts(&[two]).len(), 2);
    }

    #[test]
    fn nonzero_table_selectors_of_a_lossless_frame_header_are_found() {
        // dcmcjpeg +e1 of YBR_FULL: SOF3 with Tq 0, 1, 1.
        let mut s = jpeg_header(4, 4, 3);
        s[9] = 0xC3;
        // SOF3 at 8, its first component at 18: C, H/V, Tq.
        s[20 + 3] = 1;
        s[20 + 6] = 1;
        assert_eq!(lossless_table_selectors(&s), vec![23, 26]);
        let mut baseline = s.clone();
        baseline[9] = 0xC0;
        assert!(lossless_table_selectors(&baseline).is_empty(), "a DCT process uses its tables");
    }

    #[test]
    fn a_height_left_to_a_dnl_marker_is_not_compared() {
        assert!(check(&[jpeg_header(0, 160, 1)], declared(160, 64, 1, 1), "JPEG").is_ok());
    }

    #[test]
    fn samples_wider_than_bits_allocated_fail() {
        // rv19 04: a 12-bit codestream in an 8-bit data set would be written at the wrong width.
        let mut twelve = j2k_header(30, 40, 1);
        twelve[42] = 11;
        let e = check(&[twelve.clone()], declared(40, 30, 1, 1), "JPEG 2000").unwrap_err();
        assert!(e.0.contains("12-bit") && e.0.contains("Bits Allocated is 8"), "{e}");
        let sixteen = Declared { bits_allocated: 16, ..declared(40, 30, 1, 1) };
        assert!(check(&[twelve], sixteen, "JPEG 2000").is_ok());
    }

    /// A JPEG-LS stream header: SOF55 then one SOS of `scan` components with NEAR 0 and `ilv`.
    fn jpeg_ls_header(components: u8, scan: u8, ilv: u8) -> Vec<u8> {
        let mut s = vec![0xFF, 0xD8, 0xFF, 0xF7, 0, 8 + 3 * components, 8, 0, 4, 0, 4, components];
        s.extend(std::iter::repeat_n(0, 3 * components as usize));
        s.extend([0xFF, 0xDA, 0, 6 + 2 * scan, scan]);
        s.extend(std::iter::repeat_n(1, 2 * scan as usize));
        s.extend([0, ilv, 0]);
        s
    }

    #[test]
    fn the_first_scan_gives_the_jpeg_ls_interleave_mode() {
        assert_eq!(first_scan(&jpeg_ls_header(3, 1, 0)), Some(Scan { components: 1, params: [0, 0, 0] }));
        assert_eq!(first_scan(&jpeg_ls_header(3, 3, 2)).map(|s| s.params[1]), Some(2));
        assert_eq!(first_scan(&j2k_header(4, 4, 1)), None, "not a JPEG stream");
        assert_eq!(geometry(&jpeg_ls_header(3, 3, 1)).map(|g| (g.components, g.precision)), Some((3, 8)));
    }
}
