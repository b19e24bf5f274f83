//! Write cleaned [`Frames`] back into a data set as native (uncompressed) pixel data, and keep the
//! Image Pixel attributes true to what is written.
//!
//! The data set must already be in Explicit VR Little Endian form ([`crate::transcode`]): the
//! values written here are little endian. What changes: Pixel Data (OB for 1- and 8-bit samples,
//! OW otherwise; 1-bit samples packed again), Photometric Interpretation (YBR decoded to RGB),
//! Planar Configuration 0 for colour, Bits Allocated/Stored, High Bit and Pixel Representation as
//! decoded, the Extended Offset Table removed (it describes encapsulated frames), and Lossy Image
//! Compression "01" kept or set when the source was lossy (the pixels keep that history), with
//! method and ratio added when the source did not give them. Rows, Columns, Samples per Pixel and
//! Number of Frames are unchanged.

use super::decode::Frames;
use super::rewrite::Rewritten;
use crate::dataset::{DataSet, Element, Generated, Generator, VR, Value};
use dicom_dictionary_std::tags;
use std::sync::Arc;

/// The Lossy Image Compression Method (0028,2114) term of a lossy transfer syntax.
fn lossy_method(ts_uid: &str) -> Option<&'static str> {
    match ts_uid {
        "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51" => Some("ISO_10918_1"),
        "1.2.840.10008.1.2.4.81" => Some("ISO_14495_1"),
        "1.2.840.10008.1.2.4.90" | "1.2.840.10008.1.2.4.91" => Some("ISO_15444_1"),
        "1.2.840.10008.1.2.4.201" | "1.2.840.10008.1.2.4.202" | "1.2.840.10008.1.2.4.203" => Some("ISO_15444_15"),
        _ => None,
    }
}

fn us(v: u16) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// The pixel data bytes of `f` as written: 1-bit samples packed from the least significant bit.
pub fn pixel_bytes(f: Frames) -> Vec<u8> {
    if f.bits_allocated != 1 {
        return f.data;
    }
    let mut out = vec![0u8; f.data.len().div_ceil(8)];
    for (i, &bit) in f.data.iter().enumerate() {
        if bit & 1 == 1 {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    out
}

/// Put `f` into `ds` (Explicit VR Little Endian form) and fix the Image Pixel attributes.
/// `source_ts` is the transfer syntax the pixels were read in (for the lossy method).
pub fn write_back(ds: &mut DataSet, f: Frames, source_ts: &str) {
    let vr = if f.bits_allocated <= 8 { VR::OB } else { VR::OW };
    let decoded_len = f.data.len();
    let described = Frames { data: Vec::new(), ..f.clone_attributes() };
    ds.put(Element::new(tags::PIXEL_DATA, vr, pixel_bytes(f)));
    put_attributes(ds, &described, decoded_len, source_ts);
}

/// Put the frames of `r` into `ds` (Explicit VR Little Endian form) as a value made as the
/// file is written ([`Value::Generated`]), and fix the Image Pixel attributes as
/// [`write_back`] does: the same bytes, never held whole.
pub fn write_by_frame(ds: &mut DataSet, r: Arc<Rewritten>, source_ts: &str) {
    let described = r.first().clone_attributes();
    let vr = if described.bits_allocated <= 8 { VR::OB } else { VR::OW };
    let decoded_len = r.len() as usize;
    ds.put(Element { tag: tags::PIXEL_DATA, vr, value: Value::Generated(Generated(r)) });
    put_attributes(ds, &described, decoded_len, source_ts);
}

/// The Image Pixel attributes of pixels described by `f` (its data is not looked at), of
/// `decoded_len` bytes in all.
fn put_attributes(ds: &mut DataSet, f: &Frames, decoded_len: usize, source_ts: &str) {
    let (samples, bits_allocated, bits_stored, high_bit, signed, lossy, compressed) =
        (f.samples, f.bits_allocated, f.bits_stored, f.high_bit, f.signed, f.lossy, f.compressed_bytes);
    let mut pi = f.photometric.clone().into_bytes();
    ds.remove(tags::EXTENDED_OFFSET_TABLE);
    ds.remove(tags::EXTENDED_OFFSET_TABLE_LENGTHS);
    if pi.len() % 2 == 1 {
        pi.push(b' ');
    }
    ds.put(Element::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, pi));
    ds.put(Element::new(tags::SAMPLES_PER_PIXEL, VR::US, us(samples)));
    if samples > 1 {
        ds.put(Element::new(tags::PLANAR_CONFIGURATION, VR::US, us(0)));
    }
    ds.put(Element::new(tags::BITS_ALLOCATED, VR::US, us(bits_allocated)));
    ds.put(Element::new(tags::BITS_STORED, VR::US, us(bits_stored)));
    ds.put(Element::new(tags::HIGH_BIT, VR::US, us(high_bit)));
    ds.put(Element::new(tags::PIXEL_REPRESENTATION, VR::US, us(signed as u16)));
    if lossy {
        ds.put(Element::new(tags::LOSSY_IMAGE_COMPRESSION, VR::CS, b"01".to_vec()));
        if ds.get(tags::LOSSY_IMAGE_COMPRESSION_METHOD).is_none() {
            if let Some(m) = lossy_method(source_ts) {
                ds.put(Element::new(tags::LOSSY_IMAGE_COMPRESSION_METHOD, VR::CS, m.as_bytes().to_vec()));
            }
        }
        if ds.get(tags::LOSSY_IMAGE_COMPRESSION_RATIO).is_none() {
            if let Some(c) = compressed.filter(|&c| c > 0) {
                let ratio = decoded_len as f64 / c as f64;
                let mut text = format!("{ratio:.2}");
                if text.len() % 2 == 1 {
                    text.push(' ');
                }
                ds.put(Element::new(tags::LOSSY_IMAGE_COMPRESSION_RATIO, VR::DS, text.into_bytes()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(bits: u16, data: Vec<u8>) -> Frames {
        Frames {
            rows: 1,
            cols: data.len() as u32 / (bits as u32).div_ceil(8).max(1),
            frames: 1,
            samples: 1,
            bits_allocated: bits,
            bits_stored: bits,
            high_bit: bits - 1,
            signed: false,
            photometric: "MONOCHROME2".into(),
            palette: None,
            data,
            lossy: false,
            compressed_bytes: None,
            padding: None,
        }
    }

    #[test]
    fn one_bit_samples_are_packed_lsb_first() {
        let f = frames(1, vec![1, 0, 0, 0, 0, 0, 0, 1, 1]);
        assert_eq!(pixel_bytes(f), vec![0b1000_0001, 0b0000_0001]);
    }

    #[test]
    fn attributes_follow_the_written_data() {
        let mut f = frames(8, vec![1, 2, 3, 4, 5, 6]);
        f.samples = 3;
        f.cols = 2;
        f.photometric = "RGB".into();
        f.lossy = true;
        f.compressed_bytes = Some(3);
        let mut ds = DataSet::from_elements([
            Element::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, b"YBR_FULL_422".to_vec()),
            Element::new(tags::EXTENDED_OFFSET_TABLE, VR::OV, vec![0; 8]),
        ]);
        write_back(&mut ds, f, "1.2.840.10008.1.2.4.50");
        assert_eq!(ds.bytes(tags::PHOTOMETRIC_INTERPRETATION), Some(&b"RGB "[..]));
        assert_eq!(ds.bytes(tags::PLANAR_CONFIGURATION), Some(&[0u8, 0][..]));
        assert_eq!(ds.get(tags::PIXEL_DATA).unwrap().vr, VR::OB);
        assert!(ds.get(tags::EXTENDED_OFFSET_TABLE).is_none());
        assert_eq!(ds.ascii(tags::LOSSY_IMAGE_COMPRESSION), Some("01"));
        assert_eq!(ds.ascii(tags::LOSSY_IMAGE_COMPRESSION_METHOD), Some("ISO_10918_1"));
        assert_eq!(ds.ascii(tags::LOSSY_IMAGE_COMPRESSION_RATIO), Some("2.00"));
    }

    #[test]
    fn lossless_source_leaves_lossy_attributes_alone() {
        let f = frames(16, vec![0; 4]);
        let mut ds = DataSet::new();
        write_back(&mut ds, f, "1.2.840.10008.1.2.5");
        assert!(ds.get(tags::LOSSY_IMAGE_COMPRESSION).is_none());
        assert_eq!(ds.get(tags::PIXEL_DATA).unwrap().vr, VR::OW);
    }
}
