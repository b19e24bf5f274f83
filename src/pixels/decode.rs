//! Decode an image's pixel data into [`Frames`]: every frame, little endian, samples interleaved,
//! ready to be blanked and written back uncompressed.
//!
//! Native pixel data is unpacked here (byte order, planar configuration, 1-bit packing, YBR_FULL,
//! YBR_FULL_422 and the retired YBR_PARTIAL_422 to RGB). Encapsulated pixel data is split into frames here (a frame may
//! span fragments: [`crate::stream_metadata::frame_starts`]) and each frame decoded: JPEG
//! baseline/extended 8-bit/lossless with jpeg-decoder (colour transform as Photometric
//! Interpretation says, PS3.5 8.2.1), RLE with kamei's own [`super::rle`], JPEG-LS (CharLS),
//! JPEG 2000 (openjp2) and deflated frames with the dicom-rs decoders of
//! dicom-transfer-syntax-registry, called through the `PixelDataObject` trait implemented on
//! kamei's own data set; 12-bit JPEG goes to DCMTK's `dcmdjpeg` through [`super::dcmtk`] when it
//! is installed. What a decoder returns is then brought to what the data set declares: samples
//! as wide as Bits Allocated, JPEG-LS planes (ILV 0) interleaved, Y/Cb/Cr converted to RGB.
//! Decoders that panic on a broken stream are contained: the image fails with a reason.
//!
//! Everything here works on the source data set as read and never changes it. Messages name the
//! attribute or the transfer syntax, never a value.

pub mod by_frame;
mod layout;

use crate::dataset::{DataSet, Fragments, Tag, VR, Value};
use crate::transfer::TransferSyntax;
use dicom_dictionary_std::tags;
use dicom_encoding::adapters::{PixelDataObject, RawPixelData};
use dicom_encoding::transfer_syntax::{Codec, TransferSyntaxIndex};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use std::borrow::Cow;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

/// Largest decoded pixel buffer kamei cleans in memory (bytes): 4 GiB.
pub const MAX_DECODED: u64 = 4 << 30;
/// Largest frame kamei searches for text (pixels): the detector holds a few planes of one frame.
pub const MAX_FRAME_PIXELS: u64 = 64 << 20;

/// Why pixel data could not be decoded (no values: attributes, syntaxes and sizes only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

fn fail<T>(msg: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(msg.into()))
}

/// A palette (PALETTE COLOR lookup tables), reduced to 8 bits per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    /// The stored value the first entry maps.
    pub first: i64,
    /// The entries, `[r, g, b]`.
    pub entries: Vec<[u8; 3]>,
}

impl Palette {
    /// The colour of a stored value (values outside the table take the nearest end).
    pub fn rgb(&self, value: i64) -> [u8; 3] {
        let i = (value - self.first).clamp(0, self.entries.len() as i64 - 1) as usize;
        self.entries[i]
    }

    /// The stored value, between `lo` and `hi` (the values the samples can hold), that shows
    /// the darkest colour: the darkest entry whose value fits, or when the table lies wholly
    /// outside `lo..=hi` the end every fitting value is mapped to (values outside the table take
    /// the nearest end). A blank value outside the range would be cut to its stored bits and
    /// show some other entry.
    pub fn darkest_within(&self, lo: i64, hi: i64) -> i64 {
        let last = self.first + self.entries.len() as i64 - 1;
        if hi < self.first {
            return lo;
        }
        if lo > last {
            return hi;
        }
        let (from, to) = ((lo.max(self.first) - self.first) as usize, (hi.min(last) - self.first) as usize);
        let (i, _) = self.entries[from..=to]
            .iter()
            .enumerate()
            .min_by_key(|(_, c)| c[0] as u32 + c[1] as u32 + c[2] as u32)
            .expect("from <= to");
        self.first + (from + i) as i64
    }

    /// Whether the value is one the table maps (between First Mapped Value and the last entry).
    pub fn maps(&self, value: i64) -> bool {
        value >= self.first && value - self.first < self.entries.len() as i64
    }

    /// The stored value of the darkest entry (lowest R+G+B; the first one on ties).
    pub fn darkest(&self) -> i64 {
        let (i, _) = self
            .entries
            .iter()
            .enumerate()
            .min_by_key(|(_, c)| c[0] as u32 + c[1] as u32 + c[2] as u32)
            .expect("a palette has entries");
        self.first + i as i64
    }
}

/// Decoded pixel data: every frame, samples interleaved, little endian.
#[derive(Debug, Clone, PartialEq)]
pub struct Frames {
    /// Rows.
    pub rows: u32,
    /// Columns.
    pub cols: u32,
    /// Number of frames.
    pub frames: u32,
    /// Samples per pixel (1 or 3).
    pub samples: u16,
    /// Bits allocated per sample (1, 8, 16 or 32). For 1, `data` holds one byte (0 or 1) per
    /// sample; the encoder packs it again.
    pub bits_allocated: u16,
    /// Bits stored.
    pub bits_stored: u16,
    /// High bit.
    pub high_bit: u16,
    /// Pixel Representation 1 (two's complement samples).
    pub signed: bool,
    /// The photometric interpretation of `data`: MONOCHROME1, MONOCHROME2, RGB or PALETTE COLOR.
    pub photometric: String,
    /// The palette, for PALETTE COLOR when its tables could be read.
    pub palette: Option<Palette>,
    /// The samples.
    pub data: Vec<u8>,
    /// Whether the source pixel data went through lossy compression.
    pub lossy: bool,
    /// Size of the compressed pixel data (encapsulated sources), for the compression ratio.
    pub compressed_bytes: Option<u64>,
    /// The stored values that are pixel padding, lowest and highest (Pixel Padding Value, up to
    /// Pixel Padding Range Limit when given; PS3.3 C.7.5.1.1.2), of a grey image: the area
    /// outside a CT's field of view, which a viewer leaves out of its window. They are left out
    /// of [`Frames::sorted_sample`], so a padding of −32768 does not squeeze text over air into
    /// a few grey levels.
    pub padding: Option<(i64, i64)>,
}

/// The step [`Frames::sorted_sample`] samples an image of `n` samples by: about 200 000 values.
pub fn sample_step(n: usize) -> usize {
    (n / 200_000).max(1)
}

/// The value at quantile `q` (0 to 1) of sorted values ([`Frames::sorted_sample`]), which must
/// not be empty.
pub fn quantile(sorted: &[i64], q: f64) -> i64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

impl Frames {
    /// A copy without the samples (`data` empty): what describes them.
    pub fn clone_attributes(&self) -> Frames {
        Frames {
            rows: self.rows,
            cols: self.cols,
            frames: self.frames,
            samples: self.samples,
            bits_allocated: self.bits_allocated,
            bits_stored: self.bits_stored,
            high_bit: self.high_bit,
            signed: self.signed,
            photometric: self.photometric.clone(),
            palette: self.palette.clone(),
            data: Vec::new(),
            lossy: self.lossy,
            compressed_bytes: self.compressed_bytes,
            padding: self.padding,
        }
    }

    /// Bytes per sample in `data`.
    pub fn sample_bytes(&self) -> usize {
        (self.bits_allocated as usize).div_ceil(8)
    }

    /// Bytes of one frame in `data`.
    pub fn frame_bytes(&self) -> usize {
        self.rows as usize * self.cols as usize * self.samples as usize * self.sample_bytes()
    }

    /// The stored value of sample `s` of pixel `(x, y)` in `frame`, sign-extended and masked to
    /// Bits Stored.
    pub fn value(&self, frame: u32, x: u32, y: u32, s: u16) -> i64 {
        let i = self.index(frame, x, y, s);
        self.decode_at(i)
    }

    /// Byte offset of a sample.
    pub fn index(&self, frame: u32, x: u32, y: u32, s: u16) -> usize {
        let px = (y as usize * self.cols as usize + x as usize) * self.samples as usize + s as usize;
        frame as usize * self.frame_bytes() + px * self.sample_bytes()
    }

    /// The stored value at a byte offset.
    pub fn decode_at(&self, i: usize) -> i64 {
        let raw: u64 = match self.sample_bytes() {
            1 => self.data[i] as u64,
            2 => u16::from_le_bytes([self.data[i], self.data[i + 1]]) as u64,
            _ => u32::from_le_bytes([self.data[i], self.data[i + 1], self.data[i + 2], self.data[i + 3]]) as u64,
        };
        if self.bits_allocated == 1 {
            return raw as i64;
        }
        let stored = self.bits_stored.clamp(1, self.bits_allocated) as u32;
        let shift = (self.high_bit as u32 + 1).saturating_sub(stored);
        let v = (raw >> shift) & ((1u64 << stored) - 1);
        if self.signed && v >> (stored - 1) & 1 == 1 { v as i64 - (1i64 << stored) } else { v as i64 }
    }

    /// Write a stored value at a byte offset. No bit outside Bits Stored keeps anything of what
    /// was there: the bits below the stored ones are zero, and the bits above High Bit are zero
    /// for unsigned samples and copies of the sign bit for signed ones (two's complement over
    /// the whole sample, so a reader that ignores Bits Stored still reads the same value).
    pub fn encode_at(&mut self, i: usize, value: i64) {
        let stored = if self.bits_allocated == 1 { 1 } else { self.bits_stored.clamp(1, self.bits_allocated) as u32 };
        let shift = if self.bits_allocated == 1 { 0 } else { (self.high_bit as u32 + 1).saturating_sub(stored) };
        let field = (value as u64) & ((1u64 << stored) - 1);
        let mut raw = field << shift;
        let top = shift + stored;
        let width = (self.sample_bytes() * 8) as u32;
        if self.signed && self.bits_allocated > 1 && field >> (stored - 1) & 1 == 1 && top < width {
            raw |= ((1u64 << width) - 1) & !((1u64 << top) - 1);
        }
        match self.sample_bytes() {
            1 => self.data[i] = raw as u8,
            2 => self.data[i..i + 2].copy_from_slice(&(raw as u16).to_le_bytes()),
            _ => self.data[i..i + 4].copy_from_slice(&(raw as u32).to_le_bytes()),
        }
    }

    /// Rewrite every sample in the form [`Frames::encode_at`] gives it, so that no bit outside
    /// Bits Stored carries anything (an overlay embedded in the unused high bits, PS3.5 8.1.2,
    /// or whatever a device left there). Image values are unchanged. Returns whether any byte
    /// changed.
    pub fn clear_unused_bits(&mut self) -> bool {
        if self.bits_allocated == 1 {
            return false;
        }
        let sb = self.sample_bytes();
        let mut changed = false;
        for i in (0..self.data.len() / sb).map(|s| s * sb) {
            let before: [u8; 4] = std::array::from_fn(|k| if k < sb { self.data[i + k] } else { 0 });
            let v = self.decode_at(i);
            self.encode_at(i, v);
            changed |= self.data[i..i + sb] != before[..sb];
        }
        changed
    }

    /// An even spread of the image's values, at most about 200 000 of them, sorted, pixel
    /// padding left out: what the percentiles of the display map and of a viewer's automatic
    /// window are read from ([`quantile`]).
    pub fn sorted_sample(&self) -> Vec<i64> {
        let mut values = Vec::new();
        self.sample_into(0, sample_step(self.data.len() / self.sample_bytes()), &mut values);
        values.sort_unstable();
        values
    }

    /// Append to `values` (unsorted) the samples of `self` that [`Frames::sorted_sample`] takes
    /// from a whole image sampled every `step` samples ([`sample_step`]), `self` being the part
    /// of it from sample `first` on (one frame of an image decoded frame by frame).
    pub fn sample_into(&self, first: usize, step: usize, values: &mut Vec<i64>) {
        let n = self.data.len() / self.sample_bytes();
        let padding = |v: &i64| self.padding.is_some_and(|(lo, hi)| (lo..=hi).contains(v));
        let start = (step - first % step) % step;
        values
            .extend((start..n).step_by(step).map(|p| self.decode_at(p * self.sample_bytes())).filter(|v| !padding(v)));
    }

    /// The smallest and largest stored value that Bits Stored and Pixel Representation allow.
    pub fn value_range(&self) -> (i64, i64) {
        if self.bits_allocated == 1 {
            return (0, 1);
        }
        let stored = self.bits_stored.clamp(1, self.bits_allocated) as u32;
        if self.signed { (-(1i64 << (stored - 1)), (1i64 << (stored - 1)) - 1) } else { (0, (1i64 << stored) - 1) }
    }
}

/// The image attributes decoding needs, read from the data set (binary values in the source's
/// byte order).
#[derive(Debug, Clone)]
struct Attrs {
    rows: u32,
    cols: u32,
    samples: u16,
    bits_allocated: u16,
    bits_stored: u16,
    high_bit: u16,
    signed: bool,
    photometric: String,
    planar: u16,
    frames: u32,
}

fn us_values(ds: &DataSet, tag: Tag, big_endian: bool) -> Vec<u16> {
    ds.bytes(tag)
        .map(|b| {
            b.chunks_exact(2)
                .map(|c| if big_endian { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) })
                .collect()
        })
        .unwrap_or_default()
}

fn attrs(ds: &DataSet, big_endian: bool) -> Result<Attrs, DecodeError> {
    let need = |tag: Tag, name: &str| -> Result<u16, DecodeError> {
        ds.us(tag, big_endian).ok_or_else(|| DecodeError(format!("missing or invalid {name} {}", tag_name(tag))))
    };
    let rows = need(tags::ROWS, "Rows")? as u32;
    let cols = need(tags::COLUMNS, "Columns")? as u32;
    let bits_allocated = need(tags::BITS_ALLOCATED, "Bits Allocated")?;
    let samples = ds.us(tags::SAMPLES_PER_PIXEL, big_endian).unwrap_or(1);
    let bits_stored = ds.us(tags::BITS_STORED, big_endian).unwrap_or(bits_allocated);
    let high_bit = ds.us(tags::HIGH_BIT, big_endian).unwrap_or(bits_stored.saturating_sub(1));
    let signed = ds.us(tags::PIXEL_REPRESENTATION, big_endian).unwrap_or(0) == 1;
    let planar = ds.us(tags::PLANAR_CONFIGURATION, big_endian).unwrap_or(0);
    let photometric = ds.ascii(tags::PHOTOMETRIC_INTERPRETATION).unwrap_or("").to_ascii_uppercase();
    let frames = match ds.ascii(tags::NUMBER_OF_FRAMES) {
        None | Some("") => 1,
        Some(s) => match s.trim().parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => return fail("Number of Frames (0028,0008) is not a positive integer"),
        },
    };
    if rows == 0 || cols == 0 {
        return fail("Rows or Columns is zero");
    }
    if samples != 1 && samples != 3 {
        return fail(format!("Samples per Pixel {samples} is not supported (1 or 3)"));
    }
    if !matches!(bits_allocated, 1 | 8 | 16 | 32) {
        return fail(format!("Bits Allocated {bits_allocated} is not supported (1, 8, 16 or 32)"));
    }
    if bits_stored == 0 || bits_stored > bits_allocated || high_bit >= bits_allocated || high_bit + 1 < bits_stored {
        return fail("Bits Stored and High Bit do not fit Bits Allocated");
    }
    if bits_allocated == 1 && samples != 1 {
        return fail("1-bit pixel data with more than one sample per pixel");
    }
    Ok(Attrs { rows, cols, samples, bits_allocated, bits_stored, high_bit, signed, photometric, planar, frames })
}

fn tag_name(tag: Tag) -> String {
    crate::dataset::tag_str(tag)
}

/// Transfer syntaxes whose compression is lossy (PS3.5 §10 and §8.2): JPEG baseline and
/// extended, JPEG-LS near-lossless. The lossy-capable JPEG 2000 and HTJ2K ones are lossy when
/// the header says so, when the codestream uses the irreversible wavelet
/// ([`super::codestream::j2k_irreversible`]) or when the colour is YBR_ICT.
fn lossy_syntax(uid: &str) -> bool {
    matches!(uid, "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51" | "1.2.840.10008.1.2.4.81")
}

/// The pixel data as it is stored: native bytes or encapsulated fragments, read from the input
/// when the value was left there.
#[derive(Debug, Clone)]
pub enum Stored<'a> {
    /// Native (uncompressed) pixel data and its VR.
    Native(Cow<'a, [u8]>, VR),
    /// Encapsulated pixel data.
    Encapsulated(Cow<'a, Fragments>),
}

/// The image attributes, checked against the limits on what kamei decodes.
fn checked_attrs(ds: &DataSet, big_endian: bool) -> Result<Attrs, DecodeError> {
    let a = attrs(ds, big_endian)?;
    let sample_bytes = (a.bits_allocated as u64).div_ceil(8);
    let decoded_len = a.rows as u64 * a.cols as u64 * a.samples as u64 * sample_bytes * a.frames as u64;
    if a.rows as u64 * a.cols as u64 > MAX_FRAME_PIXELS {
        return fail(format!("a frame of {} × {} pixels is larger than kamei cleans", a.cols, a.rows));
    }
    if decoded_len > MAX_DECODED {
        return fail(format!(
            "the decoded pixel data would take {decoded_len} bytes, more than kamei cleans in memory"
        ));
    }
    Ok(a)
}

/// The video transfer syntaxes (PS3.5 8.2.5 to 8.2.8, 8.2.12: MPEG-2, MPEG-4 AVC/H.264,
/// HEVC/H.265), in which kamei decodes no frame.
const VIDEO: &[&str] = &[
    "1.2.840.10008.1.2.4.100",
    "1.2.840.10008.1.2.4.100.1",
    "1.2.840.10008.1.2.4.101",
    "1.2.840.10008.1.2.4.101.1",
    "1.2.840.10008.1.2.4.102",
    "1.2.840.10008.1.2.4.102.1",
    "1.2.840.10008.1.2.4.103",
    "1.2.840.10008.1.2.4.103.1",
    "1.2.840.10008.1.2.4.104",
    "1.2.840.10008.1.2.4.104.1",
    "1.2.840.10008.1.2.4.105",
    "1.2.840.10008.1.2.4.105.1",
    "1.2.840.10008.1.2.4.106",
    "1.2.840.10008.1.2.4.106.1",
    "1.2.840.10008.1.2.4.107",
    "1.2.840.10008.1.2.4.108",
];

/// Whether the transfer syntax `uid` is one of the [`VIDEO`] ones.
fn is_video(uid: &str) -> bool {
    VIDEO.contains(&uid)
}

/// Load the pixel data of `ds` (the source data set as read); `input` is the source file, read
/// when the value was left there.
///
/// # Errors
/// [`DecodeError`] when the image attributes are missing or beyond kamei's limits, there is no
/// Pixel Data, or the input cannot be read again.
pub fn load<'a>(ds: &'a DataSet, ts: &TransferSyntax, input: Option<&Path>) -> Result<Stored<'a>, DecodeError> {
    if is_video(&ts.uid) {
        // Said first, before any attribute or fragment check: a video's fragments and its
        // colour model (YBR_PARTIAL_420) would fail with a reason that reads like damage.
        return fail(
            "its transfer syntax is video (MPEG-2, MPEG-4 or HEVC/H.265); kamei decodes no video, so no video image can be cleaned",
        );
    }
    if ds.get(tags::PIXEL_DATA).is_none() {
        if let Some(tag) = crate::annotated::PIXEL_DATA_TAGS.iter().find(|t| ds.get(**t).is_some()) {
            return fail(format!(
                "the image is in {} {}, which kamei does not clean (it cleans integer Pixel Data only)",
                crate::dict::keyword(*tag).unwrap_or("pixel data"),
                tag_name(*tag)
            ));
        }
    }
    if ds.get(tags::PIXEL_DATA).is_some() {
        // PS3.3 C.7.6.3: the three are alternatives. A float matrix beside the Pixel Data kamei
        // cleans would leave unexamined under a header that says the image was cleaned.
        if let Some(tag) =
            [tags::FLOAT_PIXEL_DATA, tags::DOUBLE_FLOAT_PIXEL_DATA].into_iter().find(|t| ds.get(*t).is_some())
        {
            return fail(format!(
                "the image holds {} {} beside Pixel Data; kamei cleans only Pixel Data",
                crate::dict::keyword(tag).unwrap_or("float pixel data"),
                tag_name(tag)
            ));
        }
    }
    checked_attrs(ds, ts.encoding.big_endian)?;
    let pixel = ds.get(tags::PIXEL_DATA).ok_or_else(|| DecodeError("no Pixel Data (7FE0,0010)".into()))?;
    match &pixel.value {
        Value::Bytes(b) => Ok(Stored::Native(Cow::Borrowed(b), pixel.vr)),
        Value::Fragments(f) => Ok(Stored::Encapsulated(Cow::Borrowed(f))),
        Value::Deferred(d) => {
            let path = input.ok_or_else(|| DecodeError("pixel data left in a source that cannot be reread".into()))?;
            let bytes = read_range(path, d.offset, d.length)?;
            if d.encapsulated {
                Ok(Stored::Encapsulated(Cow::Owned(parse_items(&bytes)?)))
            } else {
                Ok(Stored::Native(Cow::Owned(bytes), pixel.vr))
            }
        }
        Value::Sequence(_) => fail("Pixel Data (7FE0,0010) is a sequence"),
        Value::Generated(_) => fail("Pixel Data (7FE0,0010) is cleaned pixel data not yet written"),
    }
}

/// Bytes of native pixel data that Rows, Columns, Samples, Bits Allocated and Number of Frames
/// declare (1-bit samples packed; YBR_FULL_422 and YBR_PARTIAL_422 two samples per pixel).
fn native_len(a: &Attrs) -> u64 {
    let pixels = a.rows as u64 * a.cols as u64;
    if a.bits_allocated == 1 {
        return (pixels * a.frames as u64).div_ceil(8);
    }
    let sb = (a.bits_allocated as u64).div_ceil(8);
    let samples = if subsampled(&a.photometric) { 2 } else { a.samples as u64 };
    pixels * samples * sb * a.frames as u64
}

/// Transfer syntaxes whose frames are each one fragment (PS3.5 A.4.2 for RLE; Deflated Image
/// Frame Compression likewise).
const ONE_FRAGMENT_PER_FRAME: &[&str] = &[RLE_LOSSLESS, "1.2.840.10008.1.2.8.1"];

/// The number of frames Number of Frames declares (1 when absent), when the pixel data holds
/// more than that: native data longer than the declared frames plus one padding byte (unless
/// every byte past them is zero, which can hold nothing), or
/// encapsulated data whose Basic Offset Table, fragments (for syntaxes with one fragment per
/// frame) or codestreams outnumber the declared frames. A decoder given the header's count
/// would examine only the declared frames and leave the rest unseen. `None` when the data fits
/// (or the attributes are invalid: decoding then fails with its own reason).
pub fn undeclared_frames(ds: &DataSet, ts: &TransferSyntax, stored: &Stored<'_>) -> Option<u32> {
    let a = attrs(ds, ts.encoding.big_endian).ok()?;
    let declared = a.frames as usize;
    let more = match stored {
        // Bytes past the declared frames that are all zero hold nothing (some writers pad).
        // YBR_FULL_422 (and YBR_PARTIAL_422) needs an even number of columns (two pixels share
        // Cb and Cr): decoding
        // fails with that reason rather than a frame count computed from half pixels.
        Stored::Native(..) if subsampled(&a.photometric) && a.cols % 2 == 1 => false,
        Stored::Native(bytes, _) => {
            let declared_len = usize::try_from(native_len(&a)).unwrap_or(usize::MAX);
            bytes.len() > declared_len.saturating_add(1) && bytes[declared_len..].iter().any(|&b| b != 0)
        }
        Stored::Encapsulated(f) => {
            let streams = super::codestream::starts(&f.fragments).len();
            more_encapsulated_frames(declared, &ts.uid, f.offset_table.len(), f.fragments.len(), streams)
        }
    };
    more.then_some(a.frames)
}

/// Whether encapsulated pixel data of transfer syntax `uid` holds more than `declared` frames
/// (see [`undeclared_frames`]), given the Basic Offset Table's length in bytes and the numbers
/// of fragments and of codestreams ([`super::codestream::starts`]).
fn more_encapsulated_frames(declared: usize, uid: &str, table_bytes: usize, fragments: usize, streams: usize) -> bool {
    table_bytes / 4 > declared || (ONE_FRAGMENT_PER_FRAME.contains(&uid) && fragments > declared) || streams > declared
}

/// Decode every frame of the image in `ds` (the source data set as read). `input` is the source
/// file, read when the pixel data was left there.
///
/// # Errors
/// [`DecodeError`] naming what is missing or unsupported: attributes, a transfer syntax without
/// a decoder, a photometric interpretation kamei does not handle, a short or broken stream.
pub fn decode(ds: &DataSet, ts: &TransferSyntax, input: Option<&Path>) -> Result<Frames, DecodeError> {
    decode_stored(ds, ts, &load(ds, ts, input)?)
}

/// Decode every frame of pixel data already [`load`]ed from `ds`.
///
/// # Errors
/// As [`decode`].
pub fn decode_stored(ds: &DataSet, ts: &TransferSyntax, stored: &Stored<'_>) -> Result<Frames, DecodeError> {
    let big_endian = ts.encoding.big_endian;
    let a = checked_attrs(ds, big_endian)?;
    let declared_lossy = ds.ascii(tags::LOSSY_IMAGE_COMPRESSION) == Some("01");
    let palette = if a.photometric == "PALETTE COLOR" { palette(ds, big_endian, a.signed) } else { None };
    let signed = a.signed;
    let mut frames = if ts.uid == super::dcmtk::JPEG_EXTENDED && a.bits_allocated > 8 {
        // 12-bit JPEG, which no Rust decoder reads.
        match stored {
            Stored::Encapsulated(f) => {
                super::codestream::check(&f.fragments, declared(&a), "JPEG Extended")?;
                super::dcmtk::decode(ds, f)?
            }
            Stored::Native(..) => return fail("JPEG Extended pixel data is not encapsulated"),
        }
    } else {
        match stored {
            Stored::Native(b, vr) => native(a, b, *vr, big_endian, declared_lossy, palette)?,
            Stored::Encapsulated(f) => encapsulated(a, &ts.uid, f, declared_lossy, palette, 0)?,
        }
    };
    if frames.samples == 1 && frames.photometric.starts_with("MONOCHROME") {
        frames.padding = padding(ds, big_endian, signed);
    }
    // A palette that maps none of the samples (First Mapped Value above every one of them, or
    // a table ending below them) shows the whole image as one colour: what the pixels hold is
    // then only seen by their indices, as a viewer that ignores the palette shows them.
    if let Some(p) = &frames.palette {
        let n = frames.data.len() / frames.sample_bytes();
        if !(0..n).any(|i| p.maps(frames.decode_at(i * frames.sample_bytes()))) {
            frames.palette = None;
        }
    }
    Ok(frames)
}

/// The stored values Pixel Padding Value and Pixel Padding Range Limit (US or SS as Pixel
/// Representation says, in the source's byte order) mark as padding: lowest and highest.
fn padding(ds: &DataSet, big_endian: bool, signed: bool) -> Option<(i64, i64)> {
    let value = |tag: Tag| {
        let v = *us_values(ds, tag, big_endian).first()?;
        Some(if signed { i64::from(v as i16) } else { i64::from(v) })
    };
    let first = value(tags::PIXEL_PADDING_VALUE)?;
    let last = value(tags::PIXEL_PADDING_RANGE_LIMIT).unwrap_or(first);
    Some((first.min(last), first.max(last)))
}

fn read_range(path: &Path, offset: u64, length: u64) -> Result<Vec<u8>, DecodeError> {
    let io = |e: std::io::Error| DecodeError(format!("could not read the pixel data from the input again: {e}"));
    let mut f = std::fs::File::open(path).map_err(io)?;
    f.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut v = Vec::with_capacity(length as usize);
    f.take(length).read_to_end(&mut v).map_err(io)?;
    if v.len() as u64 != length {
        return fail("the input changed while it was being processed");
    }
    Ok(v)
}

/// Split encapsulated pixel data (items up to the sequence delimiter) into offset table and
/// fragments.
pub fn parse_items(bytes: &[u8]) -> Result<Fragments, DecodeError> {
    let mut f = Fragments::default();
    let mut at = 0usize;
    let mut first = true;
    while at + 8 <= bytes.len() {
        let group = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let element = u16::from_le_bytes([bytes[at + 2], bytes[at + 3]]);
        let len = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]) as usize;
        at += 8;
        match (group, element) {
            (0xFFFE, 0xE0DD) => return Ok(f),
            (0xFFFE, 0xE000) => {
                let end = at
                    .checked_add(len)
                    .filter(|&e| e <= bytes.len())
                    .ok_or_else(|| DecodeError("a pixel data fragment runs past the end of the pixel data".into()))?;
                if first {
                    f.offset_table = bytes[at..end].to_vec();
                    first = false;
                } else {
                    f.fragments.push(bytes[at..end].to_vec());
                }
                at = end;
            }
            _ => return fail("expected a pixel data item"),
        }
    }
    fail("the encapsulated pixel data has no sequence delimiter")
}

/// Read the palette tables (non-segmented). `None` if absent or unreadable (the image is then
/// looked at by its indices), and when the three descriptors disagree on the number of entries
/// or the First Mapped Value (PS3.3 C.7.6.3.1.5 requires them equal; indexing one table by
/// another's length would run past its end). First Mapped Value is read as signed for signed
/// samples (the descriptor's second value is then SS).
fn palette(ds: &DataSet, big_endian: bool, signed: bool) -> Option<Palette> {
    let mut channels: Vec<Vec<u8>> = Vec::new();
    let mut described: Option<(usize, i64)> = None;
    for (desc_tag, data_tag) in [
        (tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA),
        (tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA),
        (tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA),
    ] {
        let desc = us_values(ds, desc_tag, big_endian);
        if desc.len() < 3 {
            return None;
        }
        let n = if desc[0] == 0 { 65536 } else { desc[0] as usize };
        let first = if signed { desc[1] as i16 as i64 } else { desc[1] as i64 };
        if described.is_some_and(|d| d != (n, first)) {
            return None;
        }
        described = Some((n, first));
        let bits = desc[2];
        let data = ds.bytes(data_tag)?;
        let values: Vec<u8> = if data.len() >= 2 * n {
            let words: Vec<u16> = data[..2 * n]
                .chunks_exact(2)
                .map(|c| if big_endian { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) })
                .collect();
            let max = words.iter().copied().max().unwrap_or(0);
            if bits == 8 && max <= 255 {
                words.iter().map(|&w| w as u8).collect()
            } else {
                words.iter().map(|&w| (w >> 8) as u8).collect()
            }
        } else if data.len() >= n && bits == 8 {
            data[..n].to_vec()
        } else {
            return None;
        };
        channels.push(values);
    }
    let (count, first) = described?;
    if count == 0 || channels.iter().any(|c| c.len() < count) {
        return None;
    }
    let entries = (0..count).map(|i| [channels[0][i], channels[1][i], channels[2][i]]).collect();
    Some(Palette { first, entries })
}

fn check_photometric(a: &Attrs) -> Result<(), DecodeError> {
    let ok = match a.samples {
        1 => matches!(a.photometric.as_str(), "MONOCHROME1" | "MONOCHROME2" | "PALETTE COLOR"),
        _ => matches!(
            a.photometric.as_str(),
            "RGB" | "YBR_FULL" | "YBR_FULL_422" | "YBR_PARTIAL_422" | "YBR_ICT" | "YBR_RCT"
        ),
    };
    if ok {
        Ok(())
    } else {
        fail(format!(
            "photometric interpretation {:?} with {} samples per pixel is not supported",
            crate::shown::photometric(&a.photometric),
            a.samples
        ))
    }
}

fn native(
    a: Attrs,
    bytes: &[u8],
    vr: VR,
    big_endian: bool,
    lossy: bool,
    palette: Option<Palette>,
) -> Result<Frames, DecodeError> {
    check_photometric(&a)?;
    let (rows, cols, frames) = (a.rows as usize, a.cols as usize, a.frames as usize);
    let pixels = rows * cols;
    let sb = (a.bits_allocated as usize).div_ceil(8);
    let mut data: Vec<u8>;
    if a.bits_allocated == 1 {
        let bits = pixels * frames;
        if bytes.len() < bits.div_ceil(8) {
            return fail("Pixel Data is shorter than Rows × Columns × Number of Frames");
        }
        // PS3.5 §8.1.1: bits are packed from the least significant bit; in big endian OW, the
        // 16-bit words are byte-swapped.
        let unswapped: Cow<[u8]> = if big_endian && vr != VR::OB { Cow::Owned(swap(bytes, 2)) } else { bytes.into() };
        data = (0..bits).map(|i| (unswapped[i / 8] >> (i % 8)) & 1).collect();
    } else {
        let subsampled = subsampled(&a.photometric);
        let frame_len = if subsampled { pixels * 2 * sb } else { pixels * a.samples as usize * sb };
        if subsampled && cols % 2 == 1 {
            return fail(format!("{} with an odd number of columns", a.photometric));
        }
        let total = frame_len * frames;
        if bytes.len() < total {
            return fail("Pixel Data is shorter than Rows × Columns × Samples × Number of Frames");
        }
        data = bytes[..total].to_vec();
        if big_endian {
            let unit = if sb == 1 { if vr == VR::OB { 1 } else { 2 } } else { sb };
            if unit > 1 {
                // In place: a second copy of the pixels is not needed.
                data.chunks_exact_mut(unit).for_each(<[u8]>::reverse);
            }
        }
        if subsampled {
            data = upsample_422(&data, pixels * frames, sb);
        }
        if a.samples == 3 && a.planar == 1 && !subsampled {
            data = interleave(&data, pixels, frames, sb);
        }
    }
    let mut f = Frames {
        rows: a.rows,
        cols: a.cols,
        frames: a.frames,
        samples: a.samples,
        bits_allocated: a.bits_allocated,
        bits_stored: a.bits_stored,
        high_bit: a.high_bit,
        signed: a.signed,
        photometric: a.photometric.clone(),
        palette,
        data,
        lossy,
        compressed_bytes: None,
        padding: None,
    };
    if a.samples == 3 && a.photometric != "RGB" {
        match a.photometric.as_str() {
            "YBR_FULL" | "YBR_FULL_422" => ybr_to_rgb(&mut f),
            "YBR_PARTIAL_422" => ybr_partial_to_rgb(&mut f),
            _ => {
                return fail(format!(
                    "native pixel data in {:?} is not supported",
                    crate::shown::photometric(&a.photometric)
                ));
            }
        }
        f.photometric = "RGB".into();
    }
    Ok(f)
}

fn swap(bytes: &[u8], unit: usize) -> Vec<u8> {
    let mut v = bytes.to_vec();
    for c in v.chunks_exact_mut(unit) {
        c.reverse();
    }
    v
}

/// Whether native pixel data in this photometric interpretation holds two samples per pixel
/// (Y1 Y2 Cb Cr for each pair of pixels, PS3.3 C.7.6.3.1.2).
fn subsampled(photometric: &str) -> bool {
    matches!(photometric, "YBR_FULL_422" | "YBR_PARTIAL_422")
}

/// YBR_FULL_422 or YBR_PARTIAL_422 (Y1 Y2 Cb Cr per pair of pixels) to full resolution
/// (Y Cb Cr for each pixel), interleaved.
fn upsample_422(data: &[u8], pixels: usize, sb: usize) -> Vec<u8> {
    let mut out = vec![0u8; pixels * 3 * sb];
    for pair in 0..pixels / 2 {
        let src = &data[pair * 4 * sb..(pair + 1) * 4 * sb];
        let (y1, y2, cb, cr) = (&src[0..sb], &src[sb..2 * sb], &src[2 * sb..3 * sb], &src[3 * sb..4 * sb]);
        let dst = &mut out[pair * 6 * sb..(pair + 1) * 6 * sb];
        for (k, part) in [y1, cb, cr, y2, cb, cr].iter().enumerate() {
            dst[k * sb..(k + 1) * sb].copy_from_slice(part);
        }
    }
    out
}

/// Planar configuration 1 (RRR…GGG…BBB per frame) to interleaved.
fn interleave(data: &[u8], pixels: usize, frames: usize, sb: usize) -> Vec<u8> {
    let mut out = vec![0u8; data.len()];
    let frame_len = pixels * 3 * sb;
    for f in 0..frames {
        let src = &data[f * frame_len..(f + 1) * frame_len];
        let dst = &mut out[f * frame_len..(f + 1) * frame_len];
        for p in 0..pixels {
            for s in 0..3 {
                let from = (s * pixels + p) * sb;
                let to = (p * 3 + s) * sb;
                dst[to..to + sb].copy_from_slice(&src[from..from + sb]);
            }
        }
    }
    out
}

/// YBR_PARTIAL (PS3.3 C.7.6.3.1.2, YBR_PARTIAL_422 after [`upsample_422`]) to RGB, in place:
/// Y from 16 (black) to 235 (white), Cb and Cr from 16 to 240 about 128, scaled by
/// 2^(Bits Stored − 8) for wider samples. The inverse of the standard's equations
/// (Y = 0.2568 R + 0.5041 G + 0.0979 B + 16, Cb = −0.1482 R − 0.2910 G + 0.4392 B + 128,
/// Cr = 0.4392 R − 0.3678 G − 0.0714 B + 128); RGB rounded to the nearest level, values outside
/// the range clipped (Y below 16 is blacker than black).
fn ybr_partial_to_rgb(f: &mut Frames) {
    let sb = f.sample_bytes();
    let bits = f.bits_stored.clamp(8, 16);
    let max = ((1u64 << bits) - 1) as f64;
    let scale = (1u64 << (bits - 8)) as f64;
    let n = f.data.len() / (3 * sb);
    for p in 0..n {
        let i = p * 3 * sb;
        let y = (f.decode_at(i) as f64 - 16.0 * scale) * 1.164_415;
        let cb = f.decode_at(i + sb) as f64 - 128.0 * scale;
        let cr = f.decode_at(i + 2 * sb) as f64 - 128.0 * scale;
        let r = y + 1.596_002 * cr;
        let g = y - 0.391_725 * cb - 0.813_013 * cr;
        let b = y + 2.017_291 * cb;
        for (k, v) in [r, g, b].into_iter().enumerate() {
            f.encode_at(i + k * sb, v.round().clamp(0.0, max) as i64);
        }
    }
}

/// YBR_FULL (PS3.3 C.7.6.3.1.2) to RGB, in place, for 8- and 16-bit unsigned samples.
fn ybr_to_rgb(f: &mut Frames) {
    let sb = f.sample_bytes();
    let max = ((1u64 << f.bits_stored.min(16)) - 1) as f64;
    let half = (max + 1.0) / 2.0;
    let n = f.data.len() / (3 * sb);
    for p in 0..n {
        let i = p * 3 * sb;
        let y = f.decode_at(i) as f64;
        let cb = f.decode_at(i + sb) as f64 - half;
        let cr = f.decode_at(i + 2 * sb) as f64 - half;
        let r = y + 1.402 * cr;
        let g = y - 0.344136 * cb - 0.714136 * cr;
        let b = y + 1.772 * cb;
        for (k, v) in [r, g, b].into_iter().enumerate() {
            f.encode_at(i + k * sb, v.round().clamp(0.0, max) as i64);
        }
    }
}

/// kamei's data set seen through dicom-rs' `PixelDataObject`, for the registry decoders.
struct View<'a> {
    ts: &'a str,
    a: &'a Attrs,
    fragments: &'a Fragments,
    offsets: Vec<u32>,
}

impl PixelDataObject for View<'_> {
    fn transfer_syntax_uid(&self) -> &str {
        self.ts
    }
    fn rows(&self) -> Option<u16> {
        Some(self.a.rows as u16)
    }
    fn cols(&self) -> Option<u16> {
        Some(self.a.cols as u16)
    }
    fn samples_per_pixel(&self) -> Option<u16> {
        Some(self.a.samples)
    }
    fn bits_allocated(&self) -> Option<u16> {
        Some(self.a.bits_allocated)
    }
    fn bits_stored(&self) -> Option<u16> {
        Some(self.a.bits_stored)
    }
    fn photometric_interpretation(&self) -> Option<&str> {
        Some(&self.a.photometric)
    }
    fn number_of_frames(&self) -> Option<u32> {
        Some(self.a.frames)
    }
    fn number_of_fragments(&self) -> Option<u32> {
        Some(self.fragments.fragments.len() as u32)
    }
    fn fragment(&self, fragment: usize) -> Option<Cow<'_, [u8]>> {
        self.fragments.fragments.get(fragment).map(|f| Cow::Borrowed(f.as_slice()))
    }
    fn offset_table(&self) -> Option<Cow<'_, [u32]>> {
        Some(Cow::Borrowed(&self.offsets))
    }
    fn raw_pixel_data(&self) -> Option<RawPixelData> {
        Some(RawPixelData {
            fragments: self.fragments.fragments.iter().cloned().collect(),
            offset_table: self.offsets.iter().copied().collect(),
        })
    }
}

fn encapsulated(
    a: Attrs,
    uid: &str,
    fragments: &Fragments,
    declared_lossy: bool,
    palette: Option<Palette>,
    first_frame: usize,
) -> Result<Frames, DecodeError> {
    check_photometric(&a)?;
    if fragments.fragments.is_empty() {
        return fail("the encapsulated pixel data has no fragments");
    }
    let codec = codestream_syntax(uid);
    if matches!(a.photometric.as_str(), "YBR_ICT" | "YBR_RCT") && codec != Some("JPEG 2000") {
        return fail(format!(
            "photometric interpretation {:?} is only defined for JPEG 2000, not for this transfer syntax",
            crate::shown::photometric(&a.photometric)
        ));
    }
    if let Some(codec) = codec {
        super::codestream::check(&fragments.fragments, declared(&a), codec)?;
    }
    let pixels = a.rows as usize * a.cols as usize;
    let sb = (a.bits_allocated as usize).div_ceil(8);
    let expected = pixels * a.samples as usize * sb;
    let mut data = Vec::with_capacity(expected * a.frames as usize);
    if uid == RLE_LOSSLESS {
        rle(&a, fragments, &mut data)?;
    } else {
        for (n, stream) in frame_streams(&a, fragments)?.iter().enumerate() {
            let mut frame = match codec {
                Some("JPEG") => jpeg_frame(&a, stream)?,
                _ => registry_frame(&a, uid, stream)?,
            };
            if let Some(g) = codec.and_then(|_| super::codestream::geometry(stream)) {
                frame = to_bits_allocated(frame, g.precision, a.bits_allocated, expected);
            }
            if codec == Some("JPEG-LS") && a.samples == 3 && frame.len() == expected {
                // ILV 0 (ITU T.87): each component in a scan of its own, decoded plane by plane.
                if super::codestream::first_scan(stream).is_some_and(|scan| scan.params[1] == 0) {
                    frame = interleave(&frame, pixels, 1, sb);
                }
            }
            if frame.len() < expected {
                return fail(format!(
                    "frame {} decoded to {} bytes; Rows × Columns × Samples per Pixel × Bits Allocated need {expected}",
                    first_frame + n + 1,
                    frame.len()
                ));
            }
            // Some decoders give more than one frame's worth (padding): keep the frame.
            data.extend_from_slice(&frame[..expected]);
        }
    }
    let compressed: u64 = fragments.fragments.iter().map(|f| f.len() as u64).sum();
    // JPEG 2000 codes lossily or not whatever the transfer syntax: its headers say which.
    let irreversible = codec == Some("JPEG 2000")
        && (a.photometric == "YBR_ICT"
            || super::codestream::starts(&fragments.fragments).iter().any(|s| super::codestream::j2k_irreversible(s)));
    let mut frames = Frames {
        rows: a.rows,
        cols: a.cols,
        frames: a.frames,
        samples: a.samples,
        bits_allocated: a.bits_allocated,
        bits_stored: a.bits_stored,
        high_bit: a.high_bit.min(a.bits_stored - 1),
        signed: a.signed,
        photometric: a.photometric.clone(),
        palette,
        data,
        lossy: declared_lossy || lossy_syntax(uid) || irreversible,
        compressed_bytes: Some(compressed),
        padding: None,
    };
    if a.samples == 3 {
        // The JPEG DCT decoder turns YCbCr into RGB itself (jpeg_frame) and openjp2 undoes the
        // JPEG 2000 component transform (YBR_ICT, YBR_RCT); Y, Cb, Cr samples from any other
        // decoder (RLE, JPEG-LS, JPEG lossless, deflate) are converted here as native ones are.
        // A JPEG baseline or extended stream labelled YBR_PARTIAL_422 (retired; some old
        // ultrasound and endoscopy writers use it) is YCbCr as JFIF codes it (ITU-T T.871, full
        // range), which the decoder has converted: as YBR_FULL_422.
        let converted = matches!(uid, "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51");
        match a.photometric.as_str() {
            "YBR_FULL" | "YBR_FULL_422" if !converted => ybr_to_rgb(&mut frames),
            "YBR_PARTIAL_422" if !converted => ybr_partial_to_rgb(&mut frames),
            _ => {}
        }
        frames.photometric = "RGB".into();
    }
    Ok(frames)
}

/// A decoded frame in samples of Bits Allocated. JPEG and JPEG-LS decoders choose the sample
/// width from the codestream's precision, not from the data set: one byte per sample for 8
/// bits (old writers keep 8-bit samples in 16-bit words, which are widened here, as DCMTK
/// does), two for jpeg-decoder's lossless precisions below 8 (narrowed here for an 8-bit data
/// set; the values fit). Any other length is left for the caller's length check.
fn to_bits_allocated(frame: Vec<u8>, precision: u32, bits_allocated: u16, expected: usize) -> Vec<u8> {
    if precision > 8 {
        frame
    } else if bits_allocated == 16 && frame.len() * 2 == expected {
        frame.iter().flat_map(|&v| [v, 0]).collect()
    } else if bits_allocated == 8 && frame.len() == expected * 2 {
        frame.chunks_exact(2).map(|c| c[0]).collect()
    } else {
        frame
    }
}

/// The compressed stream of each frame: the fragments from one frame start to the next, as
/// [`crate::stream_metadata::frame_starts`] finds them (offset table, one fragment per frame, or
/// the fragments that open a codestream), so a frame spanning several fragments is decoded
/// whole even when the Basic Offset Table is empty.
///
/// # Errors
/// When the fragments do not make up Number of Frames frames.
fn frame_streams<'f>(a: &Attrs, fragments: &'f Fragments) -> Result<Vec<Cow<'f, [u8]>>, DecodeError> {
    let f = &fragments.fragments;
    Ok(frame_ranges(a, fragments)?
        .into_iter()
        .map(|r| if r.len() == 1 { Cow::Borrowed(&f[r.start][..]) } else { Cow::Owned(f[r].concat()) })
        .collect())
}

/// The fragments of each frame (see [`frame_streams`]).
///
/// # Errors
/// When the fragments do not make up Number of Frames frames.
fn frame_ranges(a: &Attrs, fragments: &Fragments) -> Result<Vec<Range<usize>>, DecodeError> {
    let f = &fragments.fragments;
    let lengths: Vec<u64> = f.iter().map(|x| x.len() as u64).collect();
    let opens = |k: usize| crate::stream_metadata::opens_codestream(&f[k]);
    frame_ranges_by(a, &fragments.offset_table, &lengths, opens)
}

/// [`frame_ranges`] of fragments known by their lengths and by whether each opens a codestream
/// (`opens`), after the Basic Offset Table `offset_table` (its bytes).
///
/// # Errors
/// When the fragments do not make up Number of Frames frames.
fn frame_ranges_by(
    a: &Attrs,
    offset_table: &[u8],
    lengths: &[u64],
    opens: impl Fn(usize) -> bool,
) -> Result<Vec<Range<usize>>, DecodeError> {
    let table: Vec<u64> =
        offset_table.chunks_exact(4).map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect();
    let n = lengths.len();
    let starts = crate::stream_metadata::frame_starts_by(
        lengths,
        opens,
        (!table.is_empty()).then_some(&table[..]),
        a.frames as usize,
    );
    if starts.len() != a.frames as usize {
        return fail(format!("the {n} fragments make up {} frames; Number of Frames is {}", starts.len(), a.frames));
    }
    Ok(starts.iter().enumerate().map(|(k, &start)| start..starts.get(k + 1).copied().unwrap_or(n)).collect())
}

/// The codec family of a transfer syntax whose frames are JPEG, JPEG-LS or JPEG 2000
/// codestreams (PS3.5 A.4.1, A.4.3, A.4.4, A.4.10), whose own headers [`super::codestream`]
/// checks; `None` for other syntaxes.
fn codestream_syntax(uid: &str) -> Option<&'static str> {
    let last: u32 = uid.strip_prefix("1.2.840.10008.1.2.4.")?.parse().ok()?;
    match last {
        50 | 51 | 57 | 70 => Some("JPEG"),
        80 | 81 => Some("JPEG-LS"),
        90..=93 | 201..=203 => Some("JPEG 2000"),
        _ => None,
    }
}

/// The frame size the data set declares, for [`super::codestream::check`].
fn declared(a: &Attrs) -> super::codestream::Declared {
    super::codestream::Declared {
        cols: a.cols,
        rows: a.rows,
        samples: u32::from(a.samples),
        frames: a.frames,
        bits_allocated: u32::from(a.bits_allocated),
    }
}

/// RLE Lossless transfer syntax.
const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// RLE Lossless frames through kamei's own [`super::rle`] (8, 16 and 32 bits), one fragment per
/// frame as PS3.5 A.4.2 requires. Its segment count must be exactly Samples per Pixel × bytes
/// per sample (G.2): a segment more is an image no viewer shows and no cleaner would look at.
fn rle(a: &Attrs, fragments: &Fragments, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    if fragments.fragments.len() != a.frames as usize {
        return fail(format!(
            "RLE Lossless pixel data has {} fragments for {} frames (one per frame is required)",
            fragments.fragments.len(),
            a.frames
        ));
    }
    let pixels = a.rows as usize * a.cols as usize;
    let sb = (a.bits_allocated as usize).div_ceil(8);
    for fragment in &fragments.fragments {
        super::rle::decode_frame(fragment, pixels, a.samples as usize, sb, out)?;
    }
    Ok(())
}

/// Run a decoder on one frame; a decoder that panics on a broken stream (a C++ library, a C
/// port) fails this image only.
fn contained<T>(codec: &str, run: impl FnOnce() -> Result<T, String>) -> Result<T, DecodeError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => fail(format!("could not decode {codec} pixel data: {e}")),
        Err(_) => fail(format!("the {codec} decoder failed on this pixel data (it panicked)")),
    }
}

/// Decode one JPEG frame (baseline, extended 8-bit, lossless) with jpeg-decoder. The colour
/// transform follows Photometric Interpretation, which says what the compressed stream holds
/// (PS3.5 8.2.1): RGB components are taken as they are, YBR_FULL / YBR_FULL_422 ones converted,
/// whatever JFIF or Adobe markers the stream carries or lacks. A lossless scan with a point
/// transform (Pt > 0) fails: jpeg-decoder predicts from the shifted samples and returns
/// garbage. A scan whose entropy-coded data ends before its last block fails
/// ([`guard_scan_end`]), and so does one cut inside its last block: it is decoded a second time
/// as jpeg-decoder reads the stream itself (zero bits after the last byte), and pixels that
/// differ from the guarded decode's were made up from bits the scan does not hold. A lossless
/// frame header naming quantization tables is decoded with them set to 0
/// ([`super::codestream::lossless_table_selectors`]).
fn jpeg_frame(a: &Attrs, stream: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let lossless = super::codestream::first_scan(stream).filter(|s| s.params[0] != 0 && s.params[1] == 0);
    if lossless.is_some_and(|s| s.params[2] & 0x0F != 0) {
        return fail("JPEG Lossless with a point transform (Pt > 0) is not supported by kamei's decoder");
    }
    let selectors = super::codestream::lossless_table_selectors(stream);
    let stream: Cow<'_, [u8]> = if selectors.is_empty() {
        Cow::Borrowed(stream)
    } else {
        let mut copy = stream.to_vec();
        selectors.iter().for_each(|&at| copy[at] = 0);
        Cow::Owned(copy)
    };
    let Some(guarded) = guard_scan_end(&stream) else { return jpeg_decode(a, &stream, false) };
    let pixels = jpeg_decode(a, &guarded, true)?;
    if jpeg_decode(a, &stream, false).ok().as_ref() != Some(&pixels) {
        return fail(
            "JPEG decoder failure: the scan's entropy-coded data ends inside its last block (its decoded pixels depend on bits past the end of the data), or is corrupt",
        );
    }
    Ok(pixels)
}

/// One decode of a JPEG `stream` by [`jpeg_frame`]; `guarded` when [`guard_scan_end`] made it,
/// so that a Huffman failure is explained as a scan that ends too soon.
fn jpeg_decode(a: &Attrs, stream: &[u8], guarded: bool) -> Result<Vec<u8>, DecodeError> {
    contained("JPEG", || {
        let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(stream));
        if a.samples == 3 {
            decoder.set_color_transform(if a.photometric == "RGB" {
                jpeg_decoder::ColorTransform::RGB
            } else {
                jpeg_decoder::ColorTransform::YCbCr
            });
        }
        let mut out = decoder.decode().map_err(|e| {
            let e = chain(&e);
            if guarded && e.contains("huffman code") {
                format!("JPEG decoder failure: the scan's entropy-coded data ends before its last block, or is corrupt ({e})")
            } else {
                format!("JPEG decoder failure: {e}")
            }
        })?;
        if decoder.info().is_some_and(|i| i.pixel_format == jpeg_decoder::PixelFormat::L16) {
            // jpeg-decoder gives 16-bit samples in native byte order; Frames holds little endian.
            for c in out.chunks_exact_mut(2) {
                let v = u16::from_ne_bytes([c[0], c[1]]);
                c.copy_from_slice(&v.to_le_bytes());
            }
        }
        Ok(out)
    })
}

/// The JPEG `stream` with 64 one-bits (eight 0xFF bytes, each stuffed with 0x00) put before
/// its last EOI marker and the 0xFF fill bytes in front of it (T.81 B.1.1.2; DCMTK writes one
/// after a lossless scan); `None` when it has none.
///
/// jpeg-decoder reads a scan whose data stops before its last block (a cut entropy-coded segment
/// that still ends with EOI) as if zero bits followed the marker, and returns the missing blocks
/// made up, without an error (libjpeg warns "premature end of data segment"). A complete scan
/// never reads the bits put before EOI; a short one does, and a run of sixteen one-bits is no
/// Huffman code (T.81 C: the all-ones code of every length is reserved), so its decode fails.
/// A cut that removes only the last few bits of the last block can decode here: [`jpeg_frame`]
/// then finds that the pixels depend on what follows the data.
fn guard_scan_end(stream: &[u8]) -> Option<Vec<u8>> {
    let mut eoi = stream.windows(2).rposition(|w| w == [0xFF, 0xD9])?;
    while eoi > 0 && stream[eoi - 1] == 0xFF {
        eoi -= 1;
    }
    let mut guarded = Vec::with_capacity(stream.len() + 16);
    guarded.extend_from_slice(&stream[..eoi]);
    (0..8).for_each(|_| guarded.extend_from_slice(&[0xFF, 0x00]));
    guarded.extend_from_slice(&stream[eoi..]);
    Some(guarded)
}

/// Decode one frame with the dicom-rs decoder registered for `uid` (JPEG-LS, JPEG 2000,
/// deflate), given the frame's stream as a one-fragment, one-frame image.
fn registry_frame(a: &Attrs, uid: &str, stream: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let ts = TransferSyntaxRegistry
        .get(uid)
        .ok_or_else(|| DecodeError(format!("no decoder for transfer syntax {}", crate::shown::uid(uid))))?;
    let Codec::EncapsulatedPixelData(Some(reader), _) = ts.codec() else {
        return fail(format!("no decoder for transfer syntax {uid} ({})", ts.name()));
    };
    let one = Attrs { frames: 1, ..a.clone() };
    let fragments = Fragments { offset_table: Vec::new(), fragments: vec![stream.to_vec()] };
    let view = View { ts: uid, a: &one, fragments: &fragments, offsets: Vec::new() };
    contained(ts.name(), || {
        let mut out = Vec::new();
        reader.decode_frame(&view, 0, &mut out).map_err(|e| chain(&e))?;
        Ok(out)
    })
}

/// An error and its sources on one line (codec messages name features and sizes, not values).
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    let text = parts.join(": ");
    text.lines().next().unwrap_or("").chars().take(240).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Element;

    fn image(rows: u16, cols: u16, samples: u16, bits: u16, pi: &str, be: bool, pixels: Vec<u8>) -> DataSet {
        let u = |v: u16| if be { v.to_be_bytes().to_vec() } else { v.to_le_bytes().to_vec() };
        DataSet::from_elements([
            Element::new(tags::SAMPLES_PER_PIXEL, VR::US, u(samples)),
            Element::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, pi.as_bytes().to_vec()),
            Element::new(tags::ROWS, VR::US, u(rows)),
            Element::new(tags::COLUMNS, VR::US, u(cols)),
            Element::new(tags::BITS_ALLOCATED, VR::US, u(bits)),
            Element::new(tags::BITS_STORED, VR::US, u(bits)),
            Element::new(tags::HIGH_BIT, VR::US, u(bits - 1)),
            Element::new(tags::PIXEL_REPRESENTATION, VR::US, u(0)),
            Element::new(tags::PIXEL_DATA, if bits > 8 { VR::OW } else { VR::OB }, pixels),
        ])
    }

    #[test]
    fn native_16_bit_big_endian_is_swapped() {
        let ds = image(1, 2, 1, 16, "MONOCHROME2", true, vec![0x01, 0x02, 0x03, 0x04]);
        let f = decode(&ds, &TransferSyntax::explicit_be(), None).unwrap();
        assert_eq!(f.data, vec![0x02, 0x01, 0x04, 0x03]);
        assert_eq!(f.value(0, 1, 0, 0), 0x0304);
    }

    #[test]
    fn native_planar_rgb_is_interleaved() {
        let ds = image(1, 2, 3, 8, "RGB", false, vec![1, 2, 3, 4, 5, 6]);
        let mut ds = ds;
        ds.put(Element::new(tags::PLANAR_CONFIGURATION, VR::US, 1u16.to_le_bytes().to_vec()));
        let f = decode(&ds, &TransferSyntax::explicit_le(), None).unwrap();
        assert_eq!(f.data, vec![1, 3, 5, 2, 4, 6]);
    }

    #[test]
    fn native_ybr_full_422_becomes_rgb() {
        // Two grey pixels (Y 100 and 200, neutral chroma).
        let ds = image(1, 2, 3, 8, "YBR_FULL_422", false, vec![100, 200, 128, 128]);
        let f = decode(&ds, &TransferSyntax::explicit_le(), None).unwrap();
        assert_eq!(f.photometric, "RGB");
        assert_eq!(f.data, vec![100, 100, 100, 200, 200, 200]);
    }

    #[test]
    fn native_ybr_partial_422_becomes_rgb_from_the_partial_range() {
        // Y 16 is black and 235 white (not 16 and 235 grey levels as in YBR_FULL); the second
        // pair is pure red as the standard's equations code it (Y 81, Cb 90, Cr 240).
        let ds = image(1, 4, 3, 8, "YBR_PARTIAL_422", false, vec![16, 235, 128, 128, 81, 81, 90, 240]);
        let f = decode(&ds, &TransferSyntax::explicit_le(), None).unwrap();
        assert_eq!(f.photometric, "RGB");
        assert_eq!(f.data, vec![0, 0, 0, 255, 255, 255, 254, 0, 0, 254, 0, 0]);
        // Odd columns cannot hold pairs: refused with that reason, as YBR_FULL_422.
        let odd = image(1, 3, 3, 8, "YBR_PARTIAL_422", false, vec![16; 6]);
        let e = decode(&odd, &TransferSyntax::explicit_le(), None).unwrap_err();
        assert!(e.0.contains("odd number of columns"), "{e}");
    }

    #[test]
    fn one_bit_data_is_unpacked_lsb_first() {
        let mut ds = image(2, 4, 1, 1, "MONOCHROME2", false, vec![0b1000_0001]);
        ds.put(Element::new(tags::BITS_STORED, VR::US, 1u16.to_le_bytes().to_vec()));
        ds.put(Element::new(tags::HIGH_BIT, VR::US, 0u16.to_le_bytes().to_vec()));
        let f = decode(&ds, &TransferSyntax::explicit_le(), None).unwrap();
        assert_eq!(f.data, vec![1, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn signed_values_are_sign_extended_to_bits_stored() {
        let mut ds = image(1, 1, 1, 16, "MONOCHROME2", false, 0x0FFFu16.to_le_bytes().to_vec());
        ds.put(Element::new(tags::BITS_STORED, VR::US, 12u16.to_le_bytes().to_vec()));
        ds.put(Element::new(tags::HIGH_BIT, VR::US, 11u16.to_le_bytes().to_vec()));
        ds.put(Element::new(tags::PIXEL_REPRESENTATION, VR::US, 1u16.to_le_bytes().to_vec()));
        let f = decode(&ds, &TransferSyntax::explicit_le(), None).unwrap();
        assert_eq!(f.value(0, 0, 0, 0), -1);
        assert_eq!(f.value_range(), (-2048, 2047));
    }

    fn frames_16(stored: u16, high_bit: u16, signed: bool, samples: &[u16]) -> Frames {
        Frames {
            rows: 1,
            cols: samples.len() as u32,
            frames: 1,
            samples: 1,
            bits_allocated: 16,
            bits_stored: stored,
            high_bit,
            signed,
            photometric: "MONOCHROME2".into(),
            palette: None,
            data: samples.iter().flat_map(|v| v.to_le_bytes()).collect(),
            lossy: false,
            compressed_bytes: None,
            padding: None,
        }
    }

    fn words(f: &Frames) -> Vec<u16> {
        f.data.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
    }

    #[test]
    fn clearing_unused_bits_removes_an_overlay_in_bit_15_and_keeps_values() {
        let mut f = frames_16(12, 11, false, &[0x8ABC, 0x0123, 0xF001]);
        let values: Vec<i64> = (0..3).map(|x| f.value(0, x, 0, 0)).collect();
        assert!(f.clear_unused_bits());
        assert_eq!(words(&f), [0x0ABC, 0x0123, 0x0001]);
        assert_eq!((0..3).map(|x| f.value(0, x, 0, 0)).collect::<Vec<_>>(), values);
        assert!(!f.clear_unused_bits(), "a second pass changes nothing");
    }

    #[test]
    fn clearing_unused_bits_sign_extends_signed_samples() {
        // 12 bits stored, signed: -1 with an overlay bit 14, +5 with overlay bit 15.
        let mut f = frames_16(12, 11, true, &[0x4FFF, 0x8005, 0xFFFF]);
        assert!(f.clear_unused_bits());
        assert_eq!(words(&f), [0xFFFF, 0x0005, 0xFFFF]);
        assert_eq!((f.value(0, 0, 0, 0), f.value(0, 1, 0, 0)), (-1, 5));
    }

    #[test]
    fn clearing_unused_bits_follows_high_bit() {
        // 12 bits stored in bits 4..15 (High Bit 15): the low four bits are the unused ones.
        let mut f = frames_16(12, 15, false, &[0xABCF, 0x1230]);
        assert!(f.clear_unused_bits());
        assert_eq!(words(&f), [0xABC0, 0x1230]);
        assert_eq!(f.value(0, 0, 0, 0), 0xABC);
    }

    fn undeclared(ds: &DataSet, ts: &TransferSyntax) -> Option<u32> {
        undeclared_frames(ds, ts, &load(ds, ts, None).unwrap())
    }

    #[test]
    fn native_data_of_three_frames_without_number_of_frames_is_undeclared() {
        let le = TransferSyntax::explicit_le();
        let ds = image(2, 2, 1, 8, "MONOCHROME2", false, vec![5; 12]);
        assert_eq!(undeclared(&ds, &le), Some(1));
    }

    #[test]
    fn native_data_of_the_declared_size_plus_one_padding_byte_is_fine() {
        let le = TransferSyntax::explicit_le();
        let mut ds = image(1, 3, 1, 8, "MONOCHROME2", false, vec![0; 6]);
        ds.put(Element::new(tags::NUMBER_OF_FRAMES, VR::IS, b"2 ".to_vec()));
        assert_eq!(undeclared(&ds, &le), None);
        let ds = image(1, 3, 1, 8, "MONOCHROME2", false, vec![0; 4]);
        assert_eq!(undeclared(&ds, &le), None, "one padding byte");
        let ds = image(1, 3, 1, 8, "MONOCHROME2", false, vec![1; 5]);
        assert_eq!(undeclared(&ds, &le), Some(1), "two bytes more than one frame");
    }

    #[test]
    fn native_ybr_full_422_with_odd_columns_fails_for_that_reason() {
        // rv19 suspect 7: it used to fail as "more frames than Number of Frames declares".
        let le = TransferSyntax::explicit_le();
        let ds = image(1, 3, 3, 8, "YBR_FULL_422", false, vec![100; 8]);
        assert_eq!(undeclared(&ds, &le), None);
        let e = decode(&ds, &le, None).unwrap_err();
        assert!(e.0.contains("odd number of columns"), "{e}");
    }

    #[test]
    fn native_data_padded_with_zeros_past_the_declared_frames_is_fine() {
        let le = TransferSyntax::explicit_le();
        let mut bytes = vec![9u8; 4];
        bytes.extend([0u8; 128]);
        assert_eq!(undeclared(&image(2, 2, 1, 8, "MONOCHROME2", false, bytes.clone()), &le), None);
        bytes[100] = 1;
        assert_eq!(undeclared(&image(2, 2, 1, 8, "MONOCHROME2", false, bytes), &le), Some(1));
    }

    fn jpeg_8x8() -> Vec<u8> {
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 90).encode(&[7u8; 64], 8, 8, jpeg_encoder::ColorType::Luma).unwrap();
        jpeg
    }

    #[test]
    fn more_jpeg_codestreams_than_frames_are_undeclared() {
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").unwrap();
        let five = encapsulated_image(8, 8, 1, "MONOCHROME2", vec![jpeg_8x8(); 5]);
        assert_eq!(undeclared(&five, &ts), Some(1));
        let mut two_in_one = jpeg_8x8();
        two_in_one.extend(jpeg_8x8());
        let ds = encapsulated_image(8, 8, 1, "MONOCHROME2", vec![two_in_one]);
        assert_eq!(undeclared(&ds, &ts), Some(1), "a second image after the first one's end");
    }

    #[test]
    fn one_jpeg_split_over_fragments_is_one_frame() {
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").unwrap();
        let jpeg = jpeg_8x8();
        let (a, b) = jpeg.split_at(jpeg.len() / 2);
        let ds = encapsulated_image(8, 8, 1, "MONOCHROME2", vec![a.to_vec(), b.to_vec()]);
        assert_eq!(undeclared(&ds, &ts), None);
        assert!(decode(&ds, &ts, None).is_ok());
    }

    #[test]
    fn an_offset_table_with_more_entries_than_frames_is_undeclared() {
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").unwrap();
        let mut ds = encapsulated_image(8, 8, 1, "MONOCHROME2", vec![jpeg_8x8()]);
        let bot: Vec<u8> = [0u32, 100, 200].iter().flat_map(|v| v.to_le_bytes()).collect();
        ds.put(Element {
            tag: tags::PIXEL_DATA,
            vr: VR::OB,
            value: Value::Fragments(Fragments { offset_table: bot, fragments: vec![jpeg_8x8()] }),
        });
        assert_eq!(undeclared(&ds, &ts), Some(1));
    }

    #[test]
    fn rle_fragments_beyond_the_frames_are_undeclared() {
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.5").unwrap();
        let mut ds = rle_32_image(1, 2, &[vec![1, 2], vec![3, 4]]);
        ds.put(Element::new(tags::NUMBER_OF_FRAMES, VR::IS, b"1 ".to_vec()));
        assert_eq!(undeclared(&ds, &ts), Some(1));
    }

    #[test]
    fn short_pixel_data_fails_with_a_reason() {
        let ds = image(4, 4, 1, 8, "MONOCHROME2", false, vec![0; 10]);
        let e = decode(&ds, &TransferSyntax::explicit_le(), None).unwrap_err();
        assert!(e.0.contains("shorter"), "{e}");
    }

    #[test]
    fn unsupported_syntax_fails_with_its_uid() {
        let mut ds = image(4, 4, 1, 8, "MONOCHROME2", false, vec![]);
        ds.put(Element {
            tag: tags::PIXEL_DATA,
            vr: VR::OB,
            value: Value::Fragments(Fragments { offset_table: vec![], fragments: vec![vec![1, 2, 3, 4]] }),
        });
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.999").unwrap();
        let e = decode(&ds, &ts, None).unwrap_err();
        assert!(e.0.contains("1.2.840.10008.1.2.4.999"), "{e}");
    }

    #[test]
    fn video_fails_saying_that_video_cannot_be_cleaned() {
        // An MPEG-4 cine: one fragment for 30 frames, in the 4:2:0 colour model of video.
        let mut ds = encapsulated_image(16, 16, 3, "YBR_PARTIAL_420", vec![vec![0, 0, 1, 0xB3]]);
        ds.put(Element::new(tags::NUMBER_OF_FRAMES, VR::IS, b"30".to_vec()));
        for uid in ["1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.4.107"] {
            let ts = TransferSyntax::from_uid(uid).unwrap();
            let e = decode(&ds, &ts, None).unwrap_err();
            assert!(e.0.contains("video") && e.0.contains("no video image can be cleaned"), "{uid}: {e}");
        }
    }

    #[test]
    fn broken_jpeg_stream_fails_without_panicking() {
        let mut ds = image(8, 8, 1, 8, "MONOCHROME2", false, vec![]);
        ds.put(Element {
            tag: tags::PIXEL_DATA,
            vr: VR::OB,
            value: Value::Fragments(Fragments { offset_table: vec![], fragments: vec![vec![0xFF, 0xD8, 0xFF, 0x00]] }),
        });
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").unwrap();
        assert!(decode(&ds, &ts, None).is_err());
    }

    #[test]
    fn a_jpeg_scan_cut_before_its_last_block_fails() {
        // 64 x 48 noise: the scan's data cut in half, its EOI kept (a cut entropy-coded segment).
        let (rows, cols) = (48u16, 64u16);
        let grey: Vec<u8> = (0..rows as u64 * cols as u64).map(|i| ((i * 2_654_435_761) % 251) as u8).collect();
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 90).encode(&grey, cols, rows, jpeg_encoder::ColorType::Luma).unwrap();
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").unwrap();
        let whole = decode(&encapsulated_image(rows, cols, 1, "MONOCHROME2", vec![jpeg.clone()]), &ts, None).unwrap();
        let plain = jpeg_decoder::Decoder::new(&jpeg[..]).decode().unwrap();
        assert_eq!(whole.data, plain, "the intact stream decodes as jpeg-decoder reads it");
        // A fill byte (0xFF) before EOI, as DCMTK writes after a lossless scan, is no cut.
        let mut filled = jpeg[..jpeg.len() - 2].to_vec();
        filled.extend_from_slice(&[0xFF, 0xFF, 0xD9]);
        let f = decode(&encapsulated_image(rows, cols, 1, "MONOCHROME2", vec![filled]), &ts, None).unwrap();
        assert_eq!(f.data, whole.data);
        let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let mut cut = jpeg[..sos + (jpeg.len() - sos) / 2].to_vec();
        cut.extend_from_slice(&[0xFF, 0xD9]);
        let e = decode(&encapsulated_image(rows, cols, 1, "MONOCHROME2", vec![cut]), &ts, None).unwrap_err();
        assert!(e.0.contains("ends before its last block"), "{e}");
    }

    #[test]
    fn a_jpeg_scan_cut_inside_its_last_block_fails() {
        // rv36: a cut of the scan's last byte or two can leave bits that, completed by the 64
        // one-bits of guard_scan_end, still read as Huffman codes: the last block made up.
        let (rows, cols) = (24u16, 32u16);
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").unwrap();
        let a = attrs(&image(rows, cols, 1, 8, "MONOCHROME2", false, vec![]), false).unwrap();
        let mut passed_the_guard = 0;
        for seed in 0u64..40 {
            let grey: Vec<u8> = (0..u64::from(rows) * u64::from(cols))
                .map(|i| (((i + seed * 7919) * 2_654_435_761) % 251) as u8)
                .collect();
            let mut jpeg = Vec::new();
            jpeg_encoder::Encoder::new(&mut jpeg, 75).encode(&grey, cols, rows, jpeg_encoder::ColorType::Luma).unwrap();
            assert!(decode(&encapsulated_image(rows, cols, 1, "MONOCHROME2", vec![jpeg.clone()]), &ts, None).is_ok());
            for k in 1..=2 {
                let mut cut = jpeg[..jpeg.len() - 2 - k].to_vec();
                if cut.last() == Some(&0xFF) {
                    continue;
                }
                cut.extend_from_slice(&[0xFF, 0xD9]);
                if jpeg_decode(&a, &guard_scan_end(&cut).unwrap(), true).is_err() {
                    continue;
                }
                passed_the_guard += 1;
                let e = decode(&encapsulated_image(rows, cols, 1, "MONOCHROME2", vec![cut]), &ts, None).unwrap_err();
                assert!(e.0.contains("ends inside its last block"), "seed {seed}, {k} bytes: {e}");
            }
        }
        assert!(passed_the_guard > 0, "no cut of these streams reads as Huffman codes with the guard");
    }

    #[test]
    fn dcmtk_jpeg_lossless_of_ybr_full_naming_quantization_table_1_decodes_to_its_source() {
        // dcmcjpeg +e1 of a 16 x 16 YBR_FULL image: SOF3 whose chroma components say Tq = 1.
        let stream = include_bytes!("../../testdata/pixels/dcmtk-lossless-ybr-full-16x16.jpg").to_vec();
        assert_eq!(super::super::codestream::lossless_table_selectors(&stream).len(), 2);
        let source: Vec<u8> = (0..16u32)
            .flat_map(|y| (0..16u32).flat_map(move |x| [x * 16 + y, 128 + (y * 5) % 60, 100 + (x * 7) % 90]))
            .map(|v| v as u8)
            .collect();
        let native =
            decode(&image(16, 16, 3, 8, "YBR_FULL", false, source), &TransferSyntax::explicit_le(), None).unwrap();
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.70").unwrap();
        let lossless = decode(&encapsulated_image(16, 16, 3, "YBR_FULL", vec![stream]), &ts, None).unwrap();
        assert_eq!((lossless.photometric.as_str(), &lossless.data), ("RGB", &native.data));
    }

    fn encapsulated_image(rows: u16, cols: u16, samples: u16, pi: &str, fragments: Vec<Vec<u8>>) -> DataSet {
        let mut ds = image(rows, cols, samples, 8, pi, false, vec![]);
        if samples == 3 {
            ds.put(Element::new(tags::PLANAR_CONFIGURATION, VR::US, 0u16.to_le_bytes().to_vec()));
        }
        ds.put(Element {
            tag: tags::PIXEL_DATA,
            vr: VR::OB,
            value: Value::Fragments(Fragments { offset_table: vec![], fragments }),
        });
        ds
    }

    fn gradient(rows: u16, cols: u16) -> Vec<u8> {
        (0..rows as u32 * cols as u32).map(|i| ((i % cols as u32) * 4 + i / cols as u32) as u8).collect()
    }

    #[test]
    fn rle_lossless_decodes_exactly() {
        let (rows, cols) = (6u16, 10u16);
        let pixels = gradient(rows, cols);
        // One segment, each row a literal run (PS3.5 G.3.1).
        let mut seg = Vec::new();
        for row in pixels.chunks(cols as usize) {
            seg.push((row.len() - 1) as u8);
            seg.extend_from_slice(row);
        }
        let mut frame = vec![0u8; 64];
        frame[0..4].copy_from_slice(&1u32.to_le_bytes());
        frame[4..8].copy_from_slice(&64u32.to_le_bytes());
        frame.extend(seg);
        let ds = encapsulated_image(rows, cols, 1, "MONOCHROME2", vec![frame]);
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.5").unwrap();
        let f = decode(&ds, &ts, None).unwrap();
        assert_eq!(f.data, pixels);
        assert!(!f.lossy);
        assert_eq!(f.compressed_bytes, Some(64 + 66));
    }

    /// A 32-bit RLE image of one sample per pixel, two frames, every segment one literal run.
    fn rle_32_image(rows: u16, cols: u16, frames: &[Vec<u32>]) -> DataSet {
        let fragments = frames
            .iter()
            .map(|values| {
                let mut f = vec![0u8; 64];
                f[0..4].copy_from_slice(&4u32.to_le_bytes());
                let mut segments = Vec::new();
                for byte in 0..4 {
                    f[4 + 4 * byte..8 + 4 * byte].copy_from_slice(&(64 + segments.len() as u32).to_le_bytes());
                    segments.push((values.len() - 1) as u8);
                    segments.extend(values.iter().map(|v| v.to_be_bytes()[byte]));
                }
                f.extend(segments);
                f
            })
            .collect();
        let mut ds = image(rows, cols, 1, 32, "MONOCHROME2", false, vec![]);
        ds.put(Element::new(tags::NUMBER_OF_FRAMES, VR::IS, frames.len().to_string().into_bytes()));
        ds.put(Element {
            tag: tags::PIXEL_DATA,
            vr: VR::OB,
            value: Value::Fragments(Fragments { offset_table: vec![], fragments }),
        });
        ds
    }

    #[test]
    fn rle_lossless_32_bit_decodes_every_frame_exactly() {
        let (rows, cols) = (3u16, 4u16);
        let frames: Vec<Vec<u32>> =
            (0..2u32).map(|f| (0..12u32).map(|i| i.wrapping_mul(0x0101_0107) ^ (f << 31)).collect()).collect();
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.5").unwrap();
        let f = decode(&rle_32_image(rows, cols, &frames), &ts, None).unwrap();
        let want: Vec<u8> = frames.iter().flatten().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!((f.frames, f.bits_allocated), (2, 32));
        assert_eq!(f.data, want);
    }

    #[test]
    fn rle_lossless_32_bit_needs_one_fragment_per_frame() {
        let mut ds = rle_32_image(1, 2, &[vec![1, 2], vec![3, 4]]);
        ds.put(Element::new(tags::NUMBER_OF_FRAMES, VR::IS, b"3 ".to_vec()));
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.5").unwrap();
        let e = decode(&ds, &ts, None).unwrap_err();
        assert!(e.0.contains("2 fragments for 3 frames"), "{}", e.0);
    }

    #[test]
    fn jpeg_baseline_grey_and_colour_decode_and_are_marked_lossy() {
        let (rows, cols) = (16u16, 16u16);
        let grey = vec![128u8; 256];
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 95).encode(&grey, cols, rows, jpeg_encoder::ColorType::Luma).unwrap();
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").unwrap();
        let f = decode(&encapsulated_image(rows, cols, 1, "MONOCHROME2", vec![jpeg]), &ts, None).unwrap();
        assert!(f.data.iter().all(|&v| v.abs_diff(128) <= 2));
        assert!(f.lossy);
        let rgb: Vec<u8> = (0..256).flat_map(|_| [200u8, 40, 40]).collect();
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 95).encode(&rgb, cols, rows, jpeg_encoder::ColorType::Rgb).unwrap();
        let f = decode(&encapsulated_image(rows, cols, 3, "YBR_FULL_422", vec![jpeg]), &ts, None).unwrap();
        assert_eq!(f.photometric, "RGB", "YBR JPEG is decoded to RGB");
        assert!(f.data[0].abs_diff(200) <= 6 && f.data[1].abs_diff(40) <= 6, "{:?}", &f.data[..3]);
    }

    /// Corpus files for the codecs whose encoders are not at hand (JPEG-LS, JPEG 2000).
    fn corpus_file(rel: &str) -> Option<crate::read::DicomFile> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus").join(rel);
        if !path.is_file() {
            crate::say!("decoder test skipped: ../shared/corpus/{rel} is not present");
            return None;
        }
        match crate::read::open(&path, &crate::read::ReadOptions::default()).unwrap() {
            crate::read::Opened::Dicom(f) => Some(f),
            _ => panic!("{rel} is not DICOM"),
        }
    }

    #[test]
    fn jpeg_ls_and_jpeg_2000_decode_to_the_same_pixels_as_the_uncompressed_file() {
        let Some(reference) = corpus_file("pydicom/test_files/MR_small.dcm") else { return };
        let want = decode(&reference.dataset, &reference.transfer_syntax, None).unwrap();
        for rel in ["pydicom/test_files/MR_small_jpeg_ls_lossless.dcm", "pydicom/test_files/MR_small_jp2klossless.dcm"]
        {
            let Some(f) = corpus_file(rel) else { return };
            let got = decode(&f.dataset, &f.transfer_syntax, None).unwrap_or_else(|e| panic!("{rel}: {e}"));
            assert_eq!((got.rows, got.cols, got.bits_allocated), (want.rows, want.cols, want.bits_allocated));
            let same = (0..64).all(|y| (0..64).all(|x| got.value(0, x, y, 0) == want.value(0, x, y, 0)));
            assert!(same, "{rel} decodes to other values");
        }
    }

    #[test]
    fn palette_tables_and_darkest_entry() {
        let mut ds = image(1, 1, 1, 8, "PALETTE COLOR", false, vec![0]);
        for (d, t, vals) in [
            (
                tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
                tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
                [0xFF00u16, 0x1000, 0x0000],
            ),
            (
                tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
                tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
                [0xFF00, 0x1000, 0x0100],
            ),
            (
                tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
                tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
                [0xFF00, 0x1000, 0x0000],
            ),
        ] {
            let desc: Vec<u8> = [3u16, 10, 16].iter().flat_map(|v| v.to_le_bytes()).collect();
            ds.put(Element::new(d, VR::US, desc));
            ds.put(Element::new(t, VR::OW, vals.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()));
        }
        let p = palette(&ds, false, false).unwrap();
        assert_eq!(p.entries, vec![[255, 255, 255], [16, 16, 16], [0, 1, 0]]);
        assert_eq!(p.darkest(), 12);
        assert_eq!(p.rgb(0), [255, 255, 255]);
        // Descriptors that disagree on the length (or First Mapped Value): no palette, no panic.
        let desc: Vec<u8> = [2u16, 10, 16].iter().flat_map(|v| v.to_le_bytes()).collect();
        ds.put(Element::new(tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, VR::US, desc));
        assert_eq!(palette(&ds, false, false), None);
    }

    #[test]
    fn the_blank_palette_value_is_one_the_samples_can_hold() {
        // Light to dark from First Mapped Value 200: the darkest entry's value, 455, does not fit
        // 8 bits (cut to 199, below the table, it would show the lightest entry).
        let entries: Vec<[u8; 3]> = (0..256u32).map(|i| [(255 - i) as u8; 3]).collect();
        let p = Palette { first: 200, entries };
        assert_eq!(p.darkest(), 455);
        assert_eq!(p.darkest_within(0, 255), 255);
        // A table wholly above or below the range: every value shows the nearest end.
        let high = Palette { first: 1000, entries: vec![[9, 9, 9], [0, 0, 0]] };
        assert_eq!(high.darkest_within(0, 255), 0);
        assert!(!high.maps(255) && high.maps(1001));
        let low = Palette { first: -300, entries: vec![[9, 9, 9], [0, 0, 0]] };
        assert_eq!(low.darkest_within(0, 255), 255);
    }

    /// A one-frame JPEG-LS image of `pixels` (interleaved samples; planar for ILV 0) coded by
    /// CharLS with the given interleave mode and bits per sample.
    fn jpeg_ls(rows: u16, cols: u16, samples: u16, bits: i32, ilv: charls::InterleaveMode, pixels: &[u8]) -> Vec<u8> {
        let mut codec = charls::CharLS::default();
        codec.set_interleave_mode(ilv).unwrap();
        let info = charls::FrameInfo {
            width: cols.into(),
            height: rows.into(),
            bits_per_sample: bits,
            component_count: samples.into(),
        };
        codec.encode(info, 0, pixels).unwrap()
    }

    const JPEG_LS: &str = "1.2.840.10008.1.2.4.80";

    #[test]
    fn jpeg_ls_colour_coded_plane_by_plane_is_interleaved() {
        // rv19 02: ILV 0 (one scan per component) decodes to planes, written as interleaved.
        let (rows, cols) = (4u16, 6u16);
        let rgb: Vec<u8> = (0..24u8).flat_map(|i| [i, 100 + i, 200 - i]).collect();
        let planar: Vec<u8> = (0..3).flat_map(|s| rgb.iter().skip(s).step_by(3).copied().collect::<Vec<_>>()).collect();
        let stream = jpeg_ls(rows, cols, 3, 8, charls::InterleaveMode::None, &planar);
        let ts = TransferSyntax::from_uid(JPEG_LS).unwrap();
        let f = decode(&encapsulated_image(rows, cols, 3, "RGB", vec![stream]), &ts, None).unwrap();
        assert_eq!(f.data, rgb);
        let stream = jpeg_ls(rows, cols, 3, 8, charls::InterleaveMode::Sample, &rgb);
        let f = decode(&encapsulated_image(rows, cols, 3, "RGB", vec![stream]), &ts, None).unwrap();
        assert_eq!(f.data, rgb, "sample-interleaved streams are unchanged");
    }

    #[test]
    fn jpeg_ls_and_rle_ybr_full_become_rgb() {
        // rv19 06: Y, Cb, Cr samples from RLE and JPEG-LS are converted as native ones are.
        let (rows, cols) = (1u16, 2u16);
        let ybr = vec![100u8, 137, 134, 50, 128, 128];
        let native_rgb =
            decode(&image(rows, cols, 3, 8, "YBR_FULL", false, ybr.clone()), &TransferSyntax::explicit_le(), None)
                .unwrap()
                .data;
        assert_eq!(native_rgb[3..], [50, 50, 50]);
        let stream = jpeg_ls(rows, cols, 3, 8, charls::InterleaveMode::Sample, &ybr);
        let ts = TransferSyntax::from_uid(JPEG_LS).unwrap();
        let f = decode(&encapsulated_image(rows, cols, 3, "YBR_FULL", vec![stream]), &ts, None).unwrap();
        assert_eq!((f.photometric.as_str(), &f.data), ("RGB", &native_rgb));
        let planes: Vec<Vec<u8>> = (0..3).map(|s| vec![ybr[s], ybr[3 + s]]).collect();
        let mut rle = vec![0u8; 64];
        rle[0..4].copy_from_slice(&3u32.to_le_bytes());
        for k in 0..3 {
            rle[4 + 4 * k..8 + 4 * k].copy_from_slice(&(64 + 4 * k as u32).to_le_bytes());
        }
        for plane in &planes {
            rle.extend([1, plane[0], plane[1], 0]);
        }
        let ts = TransferSyntax::from_uid(RLE_LOSSLESS).unwrap();
        let f = decode(&encapsulated_image(rows, cols, 3, "YBR_FULL", vec![rle]), &ts, None).unwrap();
        assert_eq!((f.photometric.as_str(), &f.data), ("RGB", &native_rgb));
    }

    #[test]
    fn codestream_precision_that_differs_from_bits_allocated() {
        // rv19 04: 8-bit samples in 16-bit words are widened; 12-bit samples in an 8-bit data
        // set fail instead of being cut.
        let (rows, cols) = (2u16, 3u16);
        let values: Vec<u8> = vec![0, 7, 99, 128, 200, 255];
        let stream = jpeg_ls(rows, cols, 1, 8, charls::InterleaveMode::None, &values);
        let mut ds = encapsulated_image(rows, cols, 1, "MONOCHROME2", vec![stream]);
        for tag in [tags::BITS_ALLOCATED, tags::BITS_STORED] {
            ds.put(Element::new(tag, VR::US, 16u16.to_le_bytes().to_vec()));
        }
        ds.put(Element::new(tags::HIGH_BIT, VR::US, 15u16.to_le_bytes().to_vec()));
        let ts = TransferSyntax::from_uid(JPEG_LS).unwrap();
        let f = decode(&ds, &ts, None).unwrap();
        assert_eq!((0..3).map(|x| f.value(0, x, 1, 0)).collect::<Vec<_>>(), [128, 200, 255]);
        let twelve: Vec<u8> = [0u16, 7, 99, 1000, 2000, 4095].iter().flat_map(|v| v.to_le_bytes()).collect();
        let stream = jpeg_ls(rows, cols, 1, 12, charls::InterleaveMode::None, &twelve);
        let e = decode(&encapsulated_image(rows, cols, 1, "MONOCHROME2", vec![stream]), &ts, None).unwrap_err();
        assert!(e.0.contains("12-bit samples; Bits Allocated is 8"), "{e}");
    }

    #[test]
    fn to_bits_allocated_widens_and_narrows_only_matching_lengths() {
        assert_eq!(to_bits_allocated(vec![1, 2], 8, 16, 4), [1, 0, 2, 0]);
        assert_eq!(to_bits_allocated(vec![5, 0, 6, 0], 6, 8, 2), [5, 6]);
        assert_eq!(to_bits_allocated(vec![1, 2], 12, 16, 4), [1, 2], "wider precisions are left alone");
        assert_eq!(to_bits_allocated(vec![1, 2, 3], 8, 16, 4), [1, 2, 3], "other lengths are the caller's to refuse");
    }

    #[test]
    fn jpeg_declared_rgb_is_not_colour_converted() {
        // rv19 01: PS3.5 8.2.1: RGB means the components are R, G, B whatever markers (here a
        // JFIF APP0, which implies YCbCr) the stream carries.
        let (rows, cols) = (16u16, 16u16);
        let rgb: Vec<u8> = (0..256).flat_map(|_| [200u8, 40, 90]).collect();
        let mut jpeg = Vec::new();
        // Ycbcr: the encoder codes the bytes as given, with no colour transform.
        jpeg_encoder::Encoder::new(&mut jpeg, 100).encode(&rgb, cols, rows, jpeg_encoder::ColorType::Ycbcr).unwrap();
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").unwrap();
        let f = decode(&encapsulated_image(rows, cols, 3, "RGB", vec![jpeg]), &ts, None).unwrap();
        assert!(
            f.data.chunks(3).all(|p| p[0].abs_diff(200) <= 3 && p[1].abs_diff(40) <= 3 && p[2].abs_diff(90) <= 3),
            "{:?}",
            &f.data[..3]
        );
    }

    #[test]
    fn jpeg_lossless_with_a_point_transform_fails() {
        // rv19 05: jpeg-decoder reconstructs Pt > 0 scans wrongly; the image fails instead.
        let mut stream = vec![0xFF, 0xD8, 0xFF, 0xC3, 0, 11, 12, 0, 2, 0, 2, 1, 1, 0x11, 0];
        stream.extend([0xFF, 0xDA, 0, 8, 1, 1, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9]);
        let mut ds = encapsulated_image(2, 2, 1, "MONOCHROME2", vec![stream]);
        ds.put(Element::new(tags::BITS_ALLOCATED, VR::US, 16u16.to_le_bytes().to_vec()));
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.70").unwrap();
        let e = decode(&ds, &ts, None).unwrap_err();
        assert!(e.0.contains("point transform"), "{e}");
    }

    #[test]
    fn float_pixel_data_beside_pixel_data_fails() {
        // rv19 07: the float matrix would leave unexamined.
        for tag in [tags::FLOAT_PIXEL_DATA, tags::DOUBLE_FLOAT_PIXEL_DATA] {
            let mut ds = image(1, 1, 1, 8, "MONOCHROME2", false, vec![0]);
            ds.put(Element::new(tag, VR::OF, vec![0; 8]));
            let e = decode(&ds, &TransferSyntax::explicit_le(), None).unwrap_err();
            assert!(e.0.contains("beside Pixel Data"), "{e}");
        }
    }

    #[test]
    fn rle_8_bit_frame_with_a_segment_more_than_the_image_needs_fails() {
        // rv19 08: the second segment is an image nobody would have looked at.
        let mut frame = vec![0u8; 64];
        frame[0..4].copy_from_slice(&2u32.to_le_bytes());
        frame[4..8].copy_from_slice(&64u32.to_le_bytes());
        frame[8..12].copy_from_slice(&68u32.to_le_bytes());
        frame.extend([1, 10, 20, 0, 1, 250, 250, 0]);
        let ds = encapsulated_image(1, 2, 1, "MONOCHROME2", vec![frame]);
        let e = decode(&ds, &TransferSyntax::from_uid(RLE_LOSSLESS).unwrap(), None).unwrap_err();
        assert!(e.0.contains("2 segments where the image needs 1"), "{e}");
    }

    #[test]
    fn multi_frame_jpeg_ls_and_jpeg_2000_split_over_fragments_without_offsets_decode() {
        // rv19 03: three fragments per frame, empty Basic Offset Table.
        let Some(reference) = corpus_file("pydicom-data/data/emri_small.dcm") else { return };
        let want = decode(&reference.dataset, &reference.transfer_syntax, None).unwrap();
        for rel in
            ["pydicom-data/data/emri_small_jpeg_ls_lossless.dcm", "pydicom-data/data/emri_small_jpeg_2k_lossless.dcm"]
        {
            let Some(mut f) = corpus_file(rel) else { return };
            let Value::Fragments(frags) = &f.dataset.get(tags::PIXEL_DATA).unwrap().value else { panic!("{rel}") };
            assert_eq!(frags.fragments.len(), 10, "{rel}: one fragment per frame in the source");
            let split: Vec<Vec<u8>> = frags
                .fragments
                .iter()
                .flat_map(|s| s.chunks(s.len().div_ceil(3)).map(<[u8]>::to_vec).collect::<Vec<_>>())
                .collect();
            f.dataset.put(Element {
                tag: tags::PIXEL_DATA,
                vr: VR::OB,
                value: Value::Fragments(Fragments { offset_table: vec![], fragments: split }),
            });
            let got = decode(&f.dataset, &f.transfer_syntax, None).unwrap_or_else(|e| panic!("{rel}: {e}"));
            assert_eq!(got.data, want.data, "{rel}");
        }
    }
}
