//! Offset tables of encapsulated pixel data whose odd-length fragments are padded on output.
//!
//! PS3.5 A.4 wants every fragment of even length; writers that break this exist, and kamei
//! pads such a fragment with one zero byte when it writes it. Each pad byte moves every item
//! after it by one, so the Basic Offset Table and the Extended Offset Table (7FE0,0001), which
//! hold the item positions as read, must follow, or frame access through them (viewers, WADO
//! servers, data loaders) lands inside an item. Their Lengths (7FE0,0002) count the bytes of
//! each frame, which do not change.
//!
//! A pad byte is harmless only where a frame ends: after its last fragment the codestream has
//! ended (JPEG EOI, JPEG 2000 EOC) and a trailing zero is what the standard itself prescribes.
//! Inside a frame that spans several fragments, the byte would land in the middle of the
//! compressed stream and change the decoded image. kamei then refuses the file
//! ([`Unpaddable`]) rather than re-cut the frame's fragments: where frames begin is decided as
//! everywhere else ([`crate::stream_metadata::frame_starts`]).
//!
//! Offsets held in memory ([`Fragments::offset_table`], the Extended Offset Table) count each
//! item as 8 bytes of header plus its fragment as held (no pad); this module turns them into
//! positions in the output.

use crate::dataset::{DataSet, Fragments, Value};
use dicom_dictionary_std::tags;

/// The offset tables to write in place of the held ones, for pixel data with odd-length
/// fragments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaddedTables {
    /// The Basic Offset Table (empty when the held one is).
    pub basic: Vec<u8>,
    /// The Extended Offset Table's value, when the data set has one.
    pub extended: Option<Vec<u8>>,
}

/// Why encapsulated pixel data with odd-length fragments cannot be written (the file fails
/// with this reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpaddable(pub String);

impl std::fmt::Display for Unpaddable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The offset tables for the Pixel Data of `ds` as written, when one of its fragments has an
/// odd length (`Ok(None)` when none has, or the pixel data is not encapsulated in memory:
/// pixel data left in the source file is copied item by item as it was, its tables with it).
///
/// # Errors
/// [`Unpaddable`] when an odd-length fragment is not the last of its frame (its pad byte would
/// fall inside the codestream), or an offset table does not point at the starts of the
/// fragments (it cannot be moved with them) or cannot hold the moved offsets.
pub fn padded_tables(ds: &DataSet) -> Result<Option<PaddedTables>, Unpaddable> {
    let Some(Value::Fragments(f)) = ds.get(tags::PIXEL_DATA).map(|e| &e.value) else { return Ok(None) };
    if f.fragments.iter().all(|x| x.len() % 2 == 0) {
        return Ok(None);
    }
    if f.offset_table.len() % 4 != 0 || ds.bytes(tags::EXTENDED_OFFSET_TABLE).is_some_and(|b| b.len() % 8 != 0) {
        return Err(Unpaddable(
            "an offset table of the Pixel Data (7FE0,0010) is not a whole number of entries, so it cannot follow the pad bytes its odd-length fragments get on output; not released".into(),
        ));
    }
    let held = positions(f, false);
    let written = positions(f, true);
    let basic: Vec<u64> = f.offset_table.chunks(4).map(|c| u64::from(u32::from_le_bytes(le(c)))).collect();
    let extended: Option<Vec<u64>> = ds
        .bytes(tags::EXTENDED_OFFSET_TABLE)
        .filter(|b| !b.is_empty())
        .map(|b| b.chunks(8).map(|c| u64::from_le_bytes(le(c))).collect());
    let frames = ds.ascii(tags::NUMBER_OF_FRAMES).and_then(|n| n.trim().parse::<usize>().ok()).unwrap_or(1);
    let table = if basic.is_empty() { extended.as_deref() } else { Some(&basic[..]) };
    let starts = crate::stream_metadata::frame_starts(&f.fragments, table, frames);
    for (k, fragment) in f.fragments.iter().enumerate() {
        let last_of_frame = k + 1 == f.fragments.len() || starts.contains(&(k + 1));
        if fragment.len() % 2 == 1 && !last_of_frame {
            let frame = starts.iter().filter(|&&s| s <= k).count();
            return Err(Unpaddable(format!(
                "fragment {} of the encapsulated Pixel Data (7FE0,0010) has an odd length and is not the last fragment of frame {frame}: the pad byte every fragment needs (PS3.5 A.4) would fall inside the frame's compressed stream and change the image; not released",
                k + 1
            )));
        }
    }
    let moved = |offsets: &[u64], name: &str| -> Result<Vec<u64>, Unpaddable> {
        offsets
            .iter()
            .map(|o| held.binary_search(o).map(|i| written[i]))
            .collect::<Result<_, _>>()
            .map_err(|_| Unpaddable(format!(
                "the {name} does not point at the starts of the Pixel Data (7FE0,0010) fragments, so it cannot follow the pad bytes its odd-length fragments get on output; not released"
            )))
    };
    let mut out = PaddedTables::default();
    for o in moved(&basic, "Basic Offset Table")? {
        let o = u32::try_from(o)
            .map_err(|_| Unpaddable("the Basic Offset Table cannot hold the offsets of the padded fragments".into()))?;
        out.basic.extend_from_slice(&o.to_le_bytes());
    }
    if let Some(e) = &extended {
        out.extended =
            Some(moved(e, "Extended Offset Table (7FE0,0001)")?.iter().flat_map(|o| o.to_le_bytes()).collect());
    }
    Ok(Some(out))
}

/// Where each fragment's item starts, relative to the first item after the Basic Offset
/// Table: as held (`padded` false) or as written, each odd fragment with its pad byte.
fn positions(f: &Fragments, padded: bool) -> Vec<u64> {
    let mut at = 0u64;
    f.fragments
        .iter()
        .map(|x| {
            let p = at;
            let len = x.len() as u64;
            at += 8 + len + if padded { len % 2 } else { 0 };
            p
        })
        .collect()
}

/// A little-endian number from a chunk that may be short (a table whose length is not a
/// multiple of the entry size): missing bytes are zero.
fn le<const N: usize>(c: &[u8]) -> [u8; N] {
    let mut b = [0u8; N];
    b[..c.len()].copy_from_slice(c);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Element, VR};

    fn le32(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn le64(v: &[u64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// A JPEG-looking fragment of `len` bytes (opens with SOI, ends with EOI).
    fn stream(len: usize) -> Vec<u8> {
        let mut s = vec![0x11; len];
        s[..2].copy_from_slice(&[0xFF, 0xD8]);
        s[len - 2..].copy_from_slice(&[0xFF, 0xD9]);
        s
    }

    fn pixel_data(offset_table: Vec<u8>, fragments: Vec<Vec<u8>>, frames: usize) -> DataSet {
        DataSet::from_elements([
            Element::new(tags::NUMBER_OF_FRAMES, VR::IS, frames.to_string().into_bytes()),
            Element {
                tag: tags::PIXEL_DATA,
                vr: VR::OB,
                value: Value::Fragments(Fragments { offset_table, fragments }),
            },
        ])
    }

    #[test]
    fn even_fragments_keep_their_tables() {
        let ds = pixel_data(le32(&[0, 108]), vec![stream(100), stream(100)], 2);
        assert_eq!(padded_tables(&ds), Ok(None));
    }

    #[test]
    fn the_basic_offset_table_moves_with_the_pad_bytes() {
        let ds = pixel_data(le32(&[0, 109, 219]), vec![stream(101), stream(102), stream(103)], 3);
        let t = padded_tables(&ds).unwrap().unwrap();
        assert_eq!(t.basic, le32(&[0, 110, 220]));
        assert_eq!(t.extended, None);
    }

    #[test]
    fn the_extended_offset_table_moves_with_the_pad_bytes() {
        let mut ds = pixel_data(Vec::new(), vec![stream(101), stream(101)], 2);
        ds.put(Element::new(tags::EXTENDED_OFFSET_TABLE, VR::OV, le64(&[0, 109])));
        let t = padded_tables(&ds).unwrap().unwrap();
        assert!(t.basic.is_empty());
        assert_eq!(t.extended, Some(le64(&[0, 110])));
    }

    #[test]
    fn an_odd_fragment_inside_a_frame_is_refused() {
        let s = stream(201);
        let (a, b) = s.split_at(101);
        let ds = pixel_data(le32(&[0]), vec![a.to_vec(), b.to_vec()], 1);
        let e = padded_tables(&ds).unwrap_err();
        assert!(e.0.contains("fragment 1 ") && e.0.contains("frame 1"), "{e}");
        // Without a table, frames start at the fragments that open a codestream.
        let ds = pixel_data(Vec::new(), vec![a.to_vec(), b.to_vec(), stream(100)], 2);
        assert!(padded_tables(&ds).is_err());
        let ds = pixel_data(Vec::new(), vec![stream(100), a.to_vec(), b.to_vec(), stream(101)], 3);
        assert!(padded_tables(&ds).unwrap_err().0.contains("fragment 2 "));
    }

    #[test]
    fn an_odd_last_fragment_of_a_frame_in_several_is_padded() {
        let s = stream(201);
        let (a, b) = s.split_at(100);
        let ds = pixel_data(le32(&[0, 217]), vec![a.to_vec(), b.to_vec(), stream(102)], 2);
        assert_eq!(padded_tables(&ds).unwrap().unwrap().basic, le32(&[0, 218]));
    }

    #[test]
    fn a_table_that_does_not_name_fragments_is_refused() {
        let ds = pixel_data(le32(&[0, 100]), vec![stream(101), stream(101)], 2);
        assert!(padded_tables(&ds).unwrap_err().0.contains("Basic Offset Table"));
    }
}
