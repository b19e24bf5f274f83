//! Overlays embedded in the unused high bits of native pixel data.
//!
//! Before 2004 an overlay could be stored in the pixel data itself, in bits outside Bits Stored
//! (PS3.5 8.1.2 and PS3.3 C.9.2, both retired): its 60xx group then has an Overlay Bit Position
//! other than 0 and no Overlay Data (60xx,3000). Removing the 60xx group removes the
//! description, not the drawing: the bits are still in every pixel, and an annotation drawn
//! there (often the patient's name) shows in any viewer that looks at them. kamei clears every
//! bit outside Bits Stored in that case, which leaves the image values unchanged: the bits are
//! zeroed, except that above High Bit a signed sample gets copies of its sign bit (so a reader
//! that ignores Bits Stored still reads the same value). Pixel data that
//! `clean-pixel-data` rewrites is cleared the same way
//! ([`crate::pixels::decode::Frames::clear_unused_bits`]).

use crate::dataset::{DataSet, Element, Value};
use dicom_core::Tag;
use dicom_dictionary_std::tags;

/// Why the embedded overlay bits could not be cleared (the file must then fail: its pixel data
/// would carry the overlay out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncleared(pub String);

/// The overlay groups (0x6000–0x601E) whose overlay is embedded in the pixel data.
pub fn embedded_groups(ds: &DataSet, big_endian: bool) -> Vec<u16> {
    (0x6000u16..=0x601E)
        .step_by(2)
        .filter(|&g| {
            ds.get(Tag(g, 0x3000)).is_none() && ds.us(Tag(g, 0x0102), big_endian).is_some_and(|position| position != 0)
        })
        .collect()
}

/// The pixel data with every bit outside Bits Stored zeroed, when an overlay is embedded in
/// it; `Ok(None)` when none is, or nothing changes.
///
/// # Errors
/// [`Uncleared`] when an overlay is embedded but the pixel data cannot be rewritten here (it is
/// left on disk because it is large, or its bit layout is not one kamei rewrites).
pub fn clear(ds: &DataSet, big_endian: bool) -> Result<Option<Element>, Uncleared> {
    if embedded_groups(ds, big_endian).is_empty() {
        return Ok(None);
    }
    let Some(pixels) = ds.get(tags::PIXEL_DATA) else { return Ok(None) };
    let bytes = match &pixels.value {
        Value::Bytes(b) => b,
        // Encapsulated pixel data cannot hold embedded overlays (PS3.5 8.2).
        // Cleaned pixel data made as it is written has every bit outside Bits Stored cleared.
        Value::Fragments(_) | Value::Sequence(_) | Value::Generated(_) => return Ok(None),
        Value::Deferred(_) => {
            return Err(Uncleared(
                "an overlay is embedded in the unused bits of the pixel data, which is too large to rewrite in memory"
                    .into(),
            ));
        }
    };
    let allocated = ds.us(tags::BITS_ALLOCATED, big_endian);
    let stored = ds.us(tags::BITS_STORED, big_endian);
    let high = ds.us(tags::HIGH_BIT, big_endian);
    let (Some(16), Some(stored), Some(high)) = (allocated, stored, high) else {
        return Err(Uncleared(
            "an overlay is embedded in the unused bits of pixel data that is not 16 bits allocated".into(),
        ));
    };
    if stored == 0 || stored > 16 || high >= 16 || high + 1 < stored {
        return Err(Uncleared("an overlay is embedded in pixel data whose Bits Stored and High Bit disagree".into()));
    }
    let bits = StoredBits::new(16, stored, high, ds.us(tags::PIXEL_REPRESENTATION, big_endian) == Some(1));
    let mut out = bytes.clone();
    let mut changed = false;
    for pair in out.chunks_exact_mut(2) {
        let v = sample(pair, big_endian);
        let m = bits.kept(v);
        if m != v {
            changed = true;
            pair.copy_from_slice(&if big_endian { m.to_be_bytes() } else { m.to_le_bytes() });
        }
    }
    Ok(changed.then(|| Element::new(tags::PIXEL_DATA, pixels.vr, out)))
}

/// How many samples of the native pixel data of `ds` carry bits outside Bits Stored (below its
/// lowest bit, or above High Bit other than a signed sample's copies of its sign bit): an
/// overlay or text drawn there, which a viewer that ignores Bits Stored shows. `None` when the
/// pixel data is encapsulated, left on disk, or not 8 or 16 bits allocated, or its Bits Stored
/// and High Bit disagree; `Some(0)` when no sample does.
pub fn samples_outside_bits_stored(ds: &DataSet, big_endian: bool) -> Option<usize> {
    let Value::Bytes(bytes) = &ds.get(tags::PIXEL_DATA)?.value else { return None };
    let allocated = ds.us(tags::BITS_ALLOCATED, big_endian)?;
    let stored = ds.us(tags::BITS_STORED, big_endian)?;
    let high = ds.us(tags::HIGH_BIT, big_endian)?;
    if !matches!(allocated, 8 | 16) || stored == 0 || stored > allocated || high >= allocated || high + 1 < stored {
        return None;
    }
    if stored == allocated {
        return Some(0);
    }
    let bits = StoredBits::new(allocated, stored, high, ds.us(tags::PIXEL_REPRESENTATION, big_endian) == Some(1));
    let outside = |v: u16| bits.kept(v) != v;
    Some(if allocated == 8 {
        bytes.iter().filter(|&&b| outside(b as u16)).count()
    } else {
        bytes.chunks_exact(2).filter(|p| outside(sample(p, big_endian))).count()
    })
}

/// Which bits of a sample Bits Stored and High Bit keep, and what a signed sample holds above
/// High Bit: copies of its sign bit (two's complement over the allocated bits).
struct StoredBits {
    mask: u16,
    above: u16,
    high: u16,
    signed: bool,
}

impl StoredBits {
    /// For values already checked: `0 < stored <= allocated`, `high < allocated`,
    /// `high + 1 >= stored`, `allocated` 8 or 16.
    fn new(allocated: u16, stored: u16, high: u16, signed: bool) -> StoredBits {
        let width: u16 = if allocated == 8 { 0xFF } else { 0xFFFF };
        StoredBits {
            mask: (((1u32 << stored) - 1) << (high + 1 - stored)) as u16,
            above: !(((1u32 << (high + 1)) - 1) as u16) & width,
            high,
            signed,
        }
    }

    /// The sample with every bit outside Bits Stored cleared (set above High Bit for a negative
    /// signed sample): the same image value, nothing else drawn in it.
    fn kept(&self, v: u16) -> u16 {
        let negative = self.signed && v >> self.high & 1 == 1;
        if negative { (v & self.mask) | self.above } else { v & self.mask }
    }
}

/// A 16-bit sample from its two bytes in the data set's byte order.
fn sample(p: &[u8], big_endian: bool) -> u16 {
    if big_endian { u16::from_be_bytes([p[0], p[1]]) } else { u16::from_le_bytes([p[0], p[1]]) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::VR;

    fn image(pixels: &[u16], overlay_position: Option<u16>) -> DataSet {
        let mut els = vec![
            Element::new(tags::BITS_ALLOCATED, VR::US, 16u16.to_le_bytes().to_vec()),
            Element::new(tags::BITS_STORED, VR::US, 12u16.to_le_bytes().to_vec()),
            Element::new(tags::HIGH_BIT, VR::US, 11u16.to_le_bytes().to_vec()),
            Element::new(tags::PIXEL_DATA, VR::OW, pixels.iter().flat_map(|p| p.to_le_bytes()).collect::<Vec<u8>>()),
        ];
        if let Some(p) = overlay_position {
            els.push(Element::new(Tag(0x6000, 0x0102), VR::US, p.to_le_bytes().to_vec()));
        }
        DataSet::from_elements(els)
    }

    #[test]
    fn embedded_overlay_bits_are_zeroed_and_image_values_kept() {
        let ds = image(&[0x8ABC, 0x0123, 0xF001], Some(15));
        let e = clear(&ds, false).unwrap().expect("bits change");
        assert_eq!(e.bytes().unwrap(), [0xBC, 0x0A, 0x23, 0x01, 0x01, 0x00]);
    }

    #[test]
    fn signed_samples_keep_their_sign_above_high_bit() {
        let mut ds = image(&[0x8FFF, 0x4005], Some(15));
        ds.put(Element::new(tags::PIXEL_REPRESENTATION, VR::US, 1u16.to_le_bytes().to_vec()));
        let e = clear(&ds, false).unwrap().expect("bits change");
        assert_eq!(e.bytes().unwrap(), [0xFF, 0xFF, 0x05, 0x00]);
    }

    #[test]
    fn samples_with_bits_outside_bits_stored_are_counted() {
        // 12 bits stored in 16: bit 15 set in two samples; a signed negative sample's sign
        // copies above High Bit do not count.
        let mut ds = image(&[0x0123, 0x8123, 0x0FFF, 0xF001], None);
        assert_eq!(samples_outside_bits_stored(&ds, false), Some(2));
        ds.put(Element::new(tags::PIXEL_REPRESENTATION, VR::US, 1u16.to_le_bytes().to_vec()));
        // 0xF801 is -2047 with its sign copied; 0x8123 has bit 11 clear and bit 15 set.
        ds.put(Element::new(
            tags::PIXEL_DATA,
            VR::OW,
            [0x0123u16, 0x8123, 0xF801].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>(),
        ));
        assert_eq!(samples_outside_bits_stored(&ds, false), Some(1));
        ds.put(Element::new(tags::BITS_STORED, VR::US, 16u16.to_le_bytes().to_vec()));
        ds.put(Element::new(tags::HIGH_BIT, VR::US, 15u16.to_le_bytes().to_vec()));
        assert_eq!(samples_outside_bits_stored(&ds, false), Some(0));
    }

    #[test]
    fn pixel_data_without_an_embedded_overlay_is_left_alone() {
        assert_eq!(clear(&image(&[0x8ABC], None), false).unwrap(), None);
        assert_eq!(clear(&image(&[0x8ABC], Some(0)), false).unwrap(), None);
    }
}
