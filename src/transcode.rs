//! Re-encode a data set held in one transfer syntax's element encoding as Explicit VR Little
//! Endian.
//!
//! kamei keeps values as the input's bytes in the input's byte order, and writes outputs in the
//! input's transfer syntax. Only when pixel data is cleaned does an output change syntax: cleaned
//! images are written uncompressed Explicit VR Little Endian (no lossless encoder exists in the
//! dicom-rs stack for RLE, JPEG lossless or JPEG 2000; see `notes/dicom-rs-0.10.md` §4). Every
//! other element must then follow: from Implicit VR its VR comes from the dictionary (already the
//! case in kamei's tree; "US or SS" attributes become SS when Pixel Representation is 1); from
//! Big Endian its binary values are byte-swapped by the VR's unit, at every depth. Items of a
//! sequence read from a UN element of undefined length are Implicit VR Little Endian whatever
//! the file's syntax (PS3.5 §6.2.2) and stay as they are.
//!
//! This module only rewrites values in memory; a value left in the source file that needs
//! swapping is read from it.

use crate::dataset::{DataSet, Tag, VR, Value};
use crate::transfer::Encoding;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_dictionary_std::{StandardDataDictionary, tags};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A value that had to be read again from the source could not be.
#[derive(Debug)]
pub struct TranscodeError {
    /// The element.
    pub tag: Tag,
    /// The I/O error.
    pub source: std::io::Error,
}

impl std::fmt::Display for TranscodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not read {} from the input again: {}", crate::dataset::tag_str(self.tag), self.source)
    }
}

impl std::error::Error for TranscodeError {}

/// The size of the unit a binary VR is byte-swapped by (1: not swapped).
pub fn swap_unit(vr: VR) -> usize {
    match vr {
        VR::US | VR::SS | VR::OW | VR::AT => 2,
        VR::UL | VR::SL | VR::FL | VR::OF | VR::OL => 4,
        VR::FD | VR::OD | VR::SV | VR::UV | VR::OV => 8,
        _ => 1,
    }
}

/// Rewrite `ds` (encoded as `from`) so that it can be written as Explicit VR Little Endian.
/// `input` is the source file, for values left there.
///
/// # Errors
/// [`TranscodeError`] if a value left in the source must be swapped and cannot be read.
pub fn to_explicit_le(ds: &mut DataSet, from: Encoding, input: Option<&Path>) -> Result<(), TranscodeError> {
    let signed = pixel_representation(ds, from.big_endian) == Some(1);
    convert(ds, from, input, signed, true)
}

fn pixel_representation(ds: &DataSet, big_endian: bool) -> Option<u16> {
    let b: [u8; 2] = ds.bytes(tags::PIXEL_REPRESENTATION)?.get(..2)?.try_into().ok()?;
    Some(if big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
}

/// Whether the dictionary gives this tag "US or SS" (resolved by Pixel Representation).
fn is_us_or_ss(tag: Tag) -> bool {
    StandardDataDictionary.by_tag(tag).is_some_and(|e| matches!(e.vr(), VirtualVr::Xs))
}

fn convert(
    ds: &mut DataSet,
    from: Encoding,
    input: Option<&Path>,
    signed: bool,
    top: bool,
) -> Result<(), TranscodeError> {
    for e in ds.elements_mut() {
        if !from.explicit_vr && e.vr == VR::US && signed && is_us_or_ss(e.tag) {
            e.vr = VR::SS;
        }
        let unit = if from.big_endian { swap_unit(e.vr) } else { 1 };
        match &mut e.value {
            Value::Bytes(b) if unit > 1 => {
                for c in b.chunks_exact_mut(unit) {
                    c.reverse();
                }
            }
            Value::Sequence(seq) if !seq.implicit_le => {
                for item in &mut seq.items {
                    convert(&mut item.dataset, from, input, signed, false)?;
                }
            }
            Value::Deferred(d) if unit > 1 && !d.encapsulated && top => {
                let mut bytes =
                    read(input, d.offset, d.length).map_err(|source| TranscodeError { tag: e.tag, source })?;
                for c in bytes.chunks_exact_mut(unit) {
                    c.reverse();
                }
                e.value = Value::Bytes(bytes);
            }
            _ => {}
        }
    }
    Ok(())
}

fn read(input: Option<&Path>, offset: u64, length: u64) -> std::io::Result<Vec<u8>> {
    let path = input.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no input path"))?;
    let mut f = crate::read::open_input(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut v = Vec::with_capacity(length as usize);
    f.take(length).read_to_end(&mut v)?;
    if v.len() as u64 != length {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the input changed"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Element, Item, Sequence};
    use crate::read::{DicomFile, Opened, ReadOptions, Source, parse};
    use crate::transfer::TransferSyntax;

    fn sample(be: bool) -> DataSet {
        let u16b = |v: u16| if be { v.to_be_bytes().to_vec() } else { v.to_le_bytes().to_vec() };
        let u32b = |v: u32| if be { v.to_be_bytes().to_vec() } else { v.to_le_bytes().to_vec() };
        let inner = DataSet::from_elements([
            Element::new(tags::REFERENCED_FRAME_NUMBER, VR::IS, b"1 ".to_vec()),
            Element::new(tags::REFERENCED_SEGMENT_NUMBER, VR::US, u16b(7)),
        ]);
        let implicit_item = DataSet::from_elements([Element::new(tags::ROWS, VR::US, 9u16.to_le_bytes().to_vec())]);
        DataSet::from_elements([
            Element::new(tags::PATIENT_NAME, VR::PN, b"DOE^J".to_vec()),
            Element::new(tags::ROWS, VR::US, u16b(512)),
            Element::new(tags::PIXEL_REPRESENTATION, VR::US, u16b(1)),
            Element::new(tags::SMALLEST_IMAGE_PIXEL_VALUE, VR::US, u16b(0xFF00)),
            Element::new(tags::SIMPLE_FRAME_LIST, VR::UL, u32b(0x01020304)),
            Element::new(tags::PIXEL_SPACING, VR::DS, b"0.5\\0.5 ".to_vec()),
            Element::sequence(tags::REFERENCED_IMAGE_SEQUENCE, vec![inner]),
            Element {
                tag: Tag(0x0009, 0x1010),
                vr: VR::UN,
                value: Value::Sequence(Sequence {
                    items: vec![Item { dataset: implicit_item, undefined_length: true }],
                    undefined_length: true,
                    implicit_le: true,
                }),
            },
        ])
    }

    #[test]
    fn big_endian_binary_values_are_swapped_at_every_depth_text_untouched() {
        let mut ds = sample(true);
        to_explicit_le(&mut ds, Encoding::EXPLICIT_BE, None).unwrap();
        let le = sample(false);
        assert_eq!(ds, le);
    }

    #[test]
    fn implicit_us_or_ss_becomes_ss_when_signed() {
        let mut ds = sample(false);
        to_explicit_le(&mut ds, Encoding::IMPLICIT_LE, None).unwrap();
        assert_eq!(ds.get(tags::SMALLEST_IMAGE_PIXEL_VALUE).unwrap().vr, VR::SS);
        assert_eq!(ds.get(tags::ROWS).unwrap().vr, VR::US);
    }

    #[test]
    fn converted_file_reads_back_with_the_same_values() {
        for (ts, enc) in [
            (TransferSyntax::explicit_be(), Encoding::EXPLICIT_BE),
            (TransferSyntax::implicit_le(), Encoding::IMPLICIT_LE),
        ] {
            let meta = DataSet::from_elements([Element::new(
                tags::TRANSFER_SYNTAX_UID,
                VR::UI,
                format!("{}\0", ts.uid).into_bytes(),
            )]);
            let mut file = DicomFile::built(meta, sample(enc.big_endian), ts);
            to_explicit_le(&mut file.dataset, enc, None).unwrap();
            file.transfer_syntax = TransferSyntax::explicit_le();
            file.meta.put(Element::new(tags::TRANSFER_SYNTAX_UID, VR::UI, b"1.2.840.10008.1.2.1\0".to_vec()));
            let bytes = crate::write::to_vec(&file, None).unwrap();
            let Opened::Dicom(back) = parse(&Source::from_bytes("x", bytes), &ReadOptions::default()).unwrap() else {
                panic!()
            };
            assert_eq!(back.dataset.bytes(tags::ROWS), Some(&512u16.to_le_bytes()[..]));
            assert_eq!(back.dataset.bytes(tags::SIMPLE_FRAME_LIST), Some(&0x01020304u32.to_le_bytes()[..]));
            let seq = back.dataset.get(tags::REFERENCED_IMAGE_SEQUENCE).unwrap().value.sequence().unwrap();
            assert_eq!(seq.items[0].dataset.bytes(tags::REFERENCED_SEGMENT_NUMBER), Some(&7u16.to_le_bytes()[..]));
        }
    }
}
