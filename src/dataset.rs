//! The in-memory data set kamei edits: elements whose values are the raw bytes of the input.
//!
//! dicom-object's `InMemDicomObject` keeps only decoded strings, so a value it does not change can
//! still come out with other bytes (a second character set lost, undecodable bytes turned into text,
//! see `notes/dicom-rs-0.10.md` §2). kamei's own tree keeps every primitive value exactly as it was
//! read, in the byte order of the source transfer syntax, so what the profile keeps is written back
//! byte for byte. Large binary values stay in the source file ([`Value::Deferred`]) and are copied
//! through by the writer, so memory does not grow with file size.
//!
//! This module only holds data: parsing is in [`crate::read`], encoding in [`crate::write`].

pub use dicom_core::{Tag, VR};

/// A data set (the top level of a file, or one sequence item): elements sorted by tag.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataSet {
    elements: Vec<Element>,
}

/// One data element: tag, value representation and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// The attribute tag.
    pub tag: Tag,
    /// The VR as read (explicit VR) or as the dictionary gives it (implicit VR; `UN` if unknown).
    pub vr: VR,
    /// The value.
    pub value: Value,
}

/// The value of an element.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A primitive value: the bytes exactly as stored (source byte order, padding included).
    Bytes(Vec<u8>),
    /// A sequence of items.
    Sequence(Sequence),
    /// Encapsulated pixel data held in memory: the basic offset table, then the fragments.
    Fragments(Fragments),
    /// A large value left in the source file; the writer copies it verbatim.
    Deferred(Deferred),
    /// A primitive value made only as it is written (the cleaned frames of a multi-frame
    /// image, decoded, blanked and encoded one frame at a time): its bytes are never held whole.
    Generated(Generated),
}

/// The maker of a [`Value::Generated`]: its length is known before it is written, so the
/// element header (and the length of any enclosing item) is written first.
pub trait Generator: std::fmt::Debug + Send + Sync {
    /// The number of bytes [`Generator::write_to`] writes (before padding to an even length).
    fn len(&self) -> u64;
    /// Whether the value has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Write the value's bytes, exactly [`Generator::len`] of them.
    ///
    /// # Errors
    /// When the value cannot be made (its source cannot be read again) or `out` fails.
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

/// A shared [`Generator`]; two are equal when they are the same one.
#[derive(Debug, Clone)]
pub struct Generated(pub std::sync::Arc<dyn Generator>);

impl PartialEq for Generated {
    fn eq(&self, other: &Generated) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A sequence value and how its length was encoded in the source.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sequence {
    /// The items, in order.
    pub items: Vec<Item>,
    /// Whether the sequence was written with undefined length (kept on output).
    pub undefined_length: bool,
    /// Whether the items are encoded in Implicit VR Little Endian whatever the file's transfer
    /// syntax: true for a sequence read from a UN element of undefined length (PS3.5 §6.2.2,
    /// CP-246) that is written back as UN.
    pub implicit_le: bool,
}

/// One sequence item.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Item {
    /// The item's data set.
    pub dataset: DataSet,
    /// Whether the item was written with undefined length (kept on output).
    pub undefined_length: bool,
}

/// Encapsulated pixel data (PS3.5 A.4) in memory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fragments {
    /// The Basic Offset Table (the first item), possibly empty.
    pub offset_table: Vec<u8>,
    /// The fragments after the offset table.
    pub fragments: Vec<Vec<u8>>,
}

/// A value that stays in the source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deferred {
    /// Byte offset of the value in the source (after the element header).
    pub offset: u64,
    /// Number of bytes, including, for encapsulated data, the items and the sequence delimiter.
    pub length: u64,
    /// Whether the bytes are encapsulated items of undefined length.
    pub encapsulated: bool,
}

impl Value {
    /// The primitive bytes, if this is a primitive value.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The sequence, if this is a sequence.
    pub fn sequence(&self) -> Option<&Sequence> {
        match self {
            Value::Sequence(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the value is empty (zero bytes, zero items, no fragments).
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Bytes(b) => b.is_empty(),
            Value::Sequence(s) => s.items.is_empty(),
            Value::Fragments(f) => f.fragments.is_empty() && f.offset_table.is_empty(),
            Value::Deferred(d) => d.length == 0,
            Value::Generated(g) => g.0.is_empty(),
        }
    }
}

impl Element {
    /// A primitive element.
    pub fn new(tag: Tag, vr: VR, bytes: impl Into<Vec<u8>>) -> Element {
        Element { tag, vr, value: Value::Bytes(bytes.into()) }
    }

    /// A sequence element with defined-length encoding preference off (undefined length).
    pub fn sequence(tag: Tag, items: Vec<DataSet>) -> Element {
        Element {
            tag,
            vr: VR::SQ,
            value: Value::Sequence(Sequence {
                items: items.into_iter().map(|dataset| Item { dataset, undefined_length: true }).collect(),
                undefined_length: true,
                implicit_le: false,
            }),
        }
    }

    /// The primitive bytes of this element, if it has any.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.value.bytes()
    }
}

impl DataSet {
    /// An empty data set.
    pub fn new() -> DataSet {
        DataSet::default()
    }

    /// Build from elements in any order; a later element with the same tag replaces an earlier one.
    pub fn from_elements(elements: impl IntoIterator<Item = Element>) -> DataSet {
        let mut ds = DataSet::new();
        for e in elements {
            ds.put(e);
        }
        ds
    }

    /// The elements in tag order.
    pub fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// Mutable access to the elements. Callers must not change tags (the order would break).
    pub fn elements_mut(&mut self) -> &mut [Element] {
        &mut self.elements
    }

    /// Number of elements at this level.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    fn position(&self, tag: Tag) -> Result<usize, usize> {
        self.elements.binary_search_by(|e| e.tag.cmp(&tag))
    }

    /// The first value of a US element (the image attributes: Rows, Bits Stored...), in the
    /// data set's byte order; `None` when absent or shorter than two bytes.
    pub fn us(&self, tag: Tag, big_endian: bool) -> Option<u16> {
        let b: [u8; 2] = self.bytes(tag)?.get(..2)?.try_into().ok()?;
        Some(if big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }

    /// The element with this tag, if present.
    pub fn get(&self, tag: Tag) -> Option<&Element> {
        self.position(tag).ok().map(|i| &self.elements[i])
    }

    /// Mutable access to the element with this tag, if present.
    pub fn get_mut(&mut self, tag: Tag) -> Option<&mut Element> {
        match self.position(tag) {
            Ok(i) => Some(&mut self.elements[i]),
            Err(_) => None,
        }
    }

    /// The primitive bytes of the element with this tag.
    pub fn bytes(&self, tag: Tag) -> Option<&[u8]> {
        self.get(tag).and_then(|e| e.bytes())
    }

    /// The value of an ASCII element (UI, CS, DA, ...) with padding (spaces, NULs) trimmed.
    ///
    /// Returns `None` when the element is absent, not primitive, or not valid UTF-8.
    pub fn ascii(&self, tag: Tag) -> Option<&str> {
        let b = self.bytes(tag)?;
        std::str::from_utf8(b).ok().map(|s| s.trim_matches(|c| c == ' ' || c == '\0'))
    }

    /// Insert or replace an element, keeping tag order.
    pub fn put(&mut self, element: Element) {
        match self.position(element.tag) {
            Ok(i) => self.elements[i] = element,
            Err(i) => self.elements.insert(i, element),
        }
    }

    /// Append an element whose tag is greater than every tag present (the parser's fast path).
    /// Falls back to [`DataSet::put`] when the order would break.
    pub fn push_in_order(&mut self, element: Element) {
        match self.elements.last() {
            Some(last) if last.tag >= element.tag => self.put(element),
            _ => self.elements.push(element),
        }
    }

    /// Remove the element with this tag, returning it.
    pub fn remove(&mut self, tag: Tag) -> Option<Element> {
        self.position(tag).ok().map(|i| self.elements.remove(i))
    }

    /// Keep only the elements for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Element) -> bool) {
        self.elements.retain(|e| keep(e));
    }
}

/// Whether the tag is in a private group (odd group number, excluding groups 0001, 0003, 0005,
/// 0007 and FFFF, which PS3.5 §7.8.1 does not allow for private use).
pub fn is_private(tag: Tag) -> bool {
    tag.group() % 2 == 1 && !matches!(tag.group(), 0x0001 | 0x0003 | 0x0005 | 0x0007 | 0xFFFF)
}

/// Whether the tag holds bulk sample data: pixel data (group 7FE0), overlay data (60xx,3000) or
/// waveform data (5400,1010). kamei never reads these as text (pixels are cleaned as pixels, if
/// at all), so they are the only values a large file may leave on disk while it is read (see
/// [`crate::read::ReadOptions`]), and the safety nets for kept values leave them alone. Every
/// other value, however long, is read, so that what the nets and `verify` look for is seen.
pub fn is_bulk_data(tag: Tag) -> bool {
    tag.group() == 0x7FE0 || (tag.group() & 0xFF01 == 0x6000 && tag.element() == 0x3000) || tag == Tag(0x5400, 0x1010)
}

/// Whether the tag is a Private Creator element (gggg,0010-00FF) in a private group.
pub fn is_private_creator(tag: Tag) -> bool {
    is_private(tag) && (0x0010..=0x00FF).contains(&tag.element())
}

/// The private creator element that reserves the block of a private data element
/// (gggg,xxee) → (gggg,00xx). `None` for tags that are not private data elements.
pub fn private_creator_tag(tag: Tag) -> Option<Tag> {
    if !is_private(tag) || tag.element() < 0x1000 {
        return None;
    }
    Some(Tag(tag.group(), tag.element() >> 8))
}

/// Format a tag as `(GGGG,EEEE)` for messages and the audit.
pub fn tag_str(tag: Tag) -> String {
    format!("({:04X},{:04X})", tag.group(), tag.element())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_keeps_tag_order_and_replaces() {
        let mut ds = DataSet::new();
        ds.put(Element::new(Tag(0x0010, 0x0020), VR::LO, b"B".to_vec()));
        ds.put(Element::new(Tag(0x0008, 0x0018), VR::UI, b"1.2".to_vec()));
        ds.put(Element::new(Tag(0x0010, 0x0020), VR::LO, b"C".to_vec()));
        let tags: Vec<Tag> = ds.elements().iter().map(|e| e.tag).collect();
        assert_eq!(tags, vec![Tag(0x0008, 0x0018), Tag(0x0010, 0x0020)]);
        assert_eq!(ds.bytes(Tag(0x0010, 0x0020)), Some(&b"C"[..]));
    }

    #[test]
    fn ascii_trims_space_and_nul_padding() {
        let ds = DataSet::from_elements([Element::new(Tag(0x0008, 0x0018), VR::UI, b"1.2.3\0".to_vec())]);
        assert_eq!(ds.ascii(Tag(0x0008, 0x0018)), Some("1.2.3"));
    }

    #[test]
    fn private_creator_of_block_element() {
        assert_eq!(private_creator_tag(Tag(0x0009, 0x1004)), Some(Tag(0x0009, 0x0010)));
        assert_eq!(private_creator_tag(Tag(0x0029, 0x20FF)), Some(Tag(0x0029, 0x0020)));
        assert_eq!(private_creator_tag(Tag(0x0009, 0x0010)), None);
        assert!(is_private_creator(Tag(0x0009, 0x0010)));
        assert!(!is_private(Tag(0x0008, 0x0010)));
        assert!(!is_private(Tag(0xFFFF, 0x0010)));
    }
}
