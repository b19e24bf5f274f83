//! Read a file: load and hash it, decide whether it is DICOM, and parse it into a [`DataSet`]
//! whose values are the raw bytes of the input.
//!
//! kamei reads with its own parser rather than dicom-object because it must keep every value's
//! bytes, leave pixel data in the file (large inputs), and accept what the standard allows but
//! dicom-object 0.10 refuses: data sets without a Part 10 header, file meta without group length
//! or transfer syntax, and UN elements of undefined length (CP-246) — see
//! `notes/dicom-rs-0.10.md` §1 and §6. What it cannot read safely it reports as an [`Error`]
//! naming the step, the tag and the byte offset, never a value.
//!
//! This stage never writes anything.

use crate::dataset::{DataSet, Deferred, Element, Fragments, Item, Sequence, Tag, VR, is_bulk_data, is_private};
use crate::dict;
use crate::transfer::{Encoding, TransferSyntax};
use sha2::{Digest, Sha256};
use snafu::{ResultExt, Snafu};
use std::fs::{File, Metadata};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const ITEM: Tag = Tag(0xFFFE, 0xE000);
const ITEM_DELIMITER: Tag = Tag(0xFFFE, 0xE00D);
const SEQUENCE_DELIMITER: Tag = Tag(0xFFFE, 0xE0DD);
const UNDEFINED: u32 = 0xFFFF_FFFF;
const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
const MEDIA_STORAGE_DIRECTORY: &str = "1.2.840.10008.1.3.10";
/// Deepest sequence nesting accepted; deeper input is treated as malformed (protects the stack).
const MAX_DEPTH: usize = 64;

/// Errors while reading a file. Messages name the step, tag and offset; never a value.
#[derive(Debug, Snafu)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[snafu(display("could not read {}", path.display()))]
    Io {
        /// The input path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The data ended inside an element.
    #[snafu(display("truncated: the data ends inside {} at byte {offset}", what))]
    Truncated {
        /// What was being read (e.g. "element (7FE0,0010)").
        what: String,
        /// Byte offset where reading stopped.
        offset: u64,
    },
    /// The data is not well-formed where the standard leaves no way to recover.
    #[snafu(display("malformed data at byte {offset}: {reason}"))]
    Malformed {
        /// Byte offset of the problem.
        offset: u64,
        /// What is wrong (tags and lengths only).
        reason: String,
    },
    /// The transfer syntax is not one kamei can read.
    #[snafu(display("{source}"))]
    TransferSyntax {
        /// The lookup error (names the UID).
        source: crate::transfer::UnknownTransferSyntax,
    },
    /// The deflated data set inflates to more than kamei holds in memory.
    #[snafu(display(
        "the deflated data set inflates to more than {} MiB (a deflate bomb, or a data set too large to hold in memory); not processed",
        limit >> 20
    ))]
    InflatedTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The deflated data set could not be inflated.
    #[snafu(display("could not inflate the deflated data set"))]
    Inflate {
        /// The I/O error from the inflater.
        source: io::Error,
    },
    /// The file has a Part 10 header (the `DICM` prefix, perhaps a file meta group) and no data
    /// set after it: an empty file, or a copy cut short.
    #[snafu(display(
        "the file has the DICM prefix{} and nothing after it (no data set): an empty or truncated file",
        if *with_meta { " and a file meta group" } else { "" }
    ))]
    NoDataSet {
        /// Whether a file meta group was read.
        with_meta: bool,
    },
    /// The file changed while kamei read it: what was read may mix two versions of it.
    #[snafu(display("{CHANGED}"))]
    Changed,
}

/// Result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How to read inputs.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Files up to this size are read into memory in one piece; larger ones are parsed from the
    /// file and their large bulk data left there.
    pub in_memory_limit: u64,
    /// Top-level bulk data (pixel, overlay and waveform data, see [`is_bulk_data`]) of a binary
    /// VR at least this long is left in the file when parsing from it (the pixel data of large
    /// multi-frame images). Any other value is read whatever its length: the safety nets must
    /// see a large private or binary value, and a long UN must be parsed as the sequence it may be.
    pub defer_threshold: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { in_memory_limit: 64 << 20, defer_threshold: 1 << 20 }
    }
}

/// Why an input written to while kamei read it fails ([`Error::Changed`], and the writer's
/// error when the input changes before its large values are copied from it).
pub const CHANGED: &str = "the input changed while kamei read it (a file still being written?); nothing written for it: run the same command again once it is complete";

/// What the file system says of an input file: which file it is, its size and when it was
/// last modified. Taken when kamei opens an input and compared whenever it reads the file
/// again (or ends a read), so that a file written to meanwhile (a PACS export still in
/// progress, a file replaced by another) fails with [`Error::Changed`] instead of giving an
/// output and an audit hash that mix two versions of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    /// The stamp of an open file's metadata.
    pub fn of(m: &Metadata) -> Stamp {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Stamp { dev, ino, len: m.len(), modified: m.modified().ok() }
    }

    /// [`Error::Changed`] unless `file` (open on the same path) still has this stamp.
    ///
    /// # Errors
    /// [`Error::Changed`], or [`Error::Io`] if the file cannot be queried.
    pub fn check(&self, file: &File, path: &Path) -> Result<()> {
        let now = Stamp::of(&file.metadata().context(IoSnafu { path })?);
        if now == *self { Ok(()) } else { ChangedSnafu.fail() }
    }
}

/// A loaded input: its identity (content hash, size) and, for small files, its bytes.
#[derive(Debug)]
pub struct Source {
    /// Where it was read from.
    pub path: PathBuf,
    /// SHA-256 of the whole content: the audit names inputs by this, not by path.
    pub sha256: [u8; 32],
    /// Size in bytes.
    pub len: u64,
    /// The file as it was when it was hashed (`None` for bytes given in memory).
    pub stamp: Option<Stamp>,
    bytes: Option<Vec<u8>>,
}

impl Source {
    /// Read (small files) or stream (large files) the input and hash it.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read.
    pub fn load(path: &Path, options: &ReadOptions) -> Result<Source> {
        let mut file = open_input(path).context(IoSnafu { path })?;
        let stamp = Stamp::of(&file.metadata().context(IoSnafu { path })?);
        let len = stamp.len;
        if len <= options.in_memory_limit {
            let bytes = read_whole(&mut file, len).context(IoSnafu { path })?;
            stamp.check(&file, path)?;
            if bytes.len() as u64 != len {
                return ChangedSnafu.fail();
            }
            let sha256 = Sha256::digest(&bytes).into();
            return Ok(Source { path: path.to_path_buf(), sha256, len, stamp: Some(stamp), bytes: Some(bytes) });
        }
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = file.read(&mut buf).context(IoSnafu { path })?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            total += n as u64;
        }
        stamp.check(&file, path)?;
        if total != len {
            return ChangedSnafu.fail();
        }
        Ok(Source { path: path.to_path_buf(), sha256: hasher.finalize().into(), len, stamp: Some(stamp), bytes: None })
    }

    /// Build a source from bytes already in memory (tests, benches).
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Source {
        let sha256 = Sha256::digest(&bytes).into();
        Source { path: path.into(), sha256, len: bytes.len() as u64, stamp: None, bytes: Some(bytes) }
    }

    /// The content hash as lower-case hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// Whether the content is held in memory (so no value is deferred).
    pub fn in_memory(&self) -> bool {
        self.bytes.is_some()
    }
}

/// Opens an input for reading without updating its access time where the system allows it
/// (`O_NOATIME`: the file's owner or root), so reading an archive leaves its metadata as it
/// was too (archives tiered or purged by access time). Elsewhere it opens the file as usual.
pub fn open_input(path: &Path) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match File::options().read(true).custom_flags(rustix::fs::OFlags::NOATIME.bits() as i32).open(path) {
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) => File::open(path),
            other => other,
        }
    }
    #[cfg(not(target_os = "linux"))]
    File::open(path)
}

/// Read a file whose size is expected to be `len`, to its real end.
///
/// `File::read_to_end` asks the file system for the size again (statx + lseek) before reading;
/// the caller already has it, so this reserves `len` bytes (plus one, so that the end is seen
/// without growing the buffer) and reads through a `Take`, which has no such specialisation. The
/// buffer is not zeroed first: the reads fill it directly. A file that has grown since its size was
/// taken is read to its new end, one that has shrunk to where it stops (as read_to_end would).
fn read_whole(file: &mut File, len: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    Read::take(&mut *file, u64::MAX).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What a file turned out to be.
#[derive(Debug)]
pub enum Opened {
    /// A DICOM file (Part 10, or a bare data set kamei could recognise).
    Dicom(DicomFile),
    /// Not DICOM; the reason says why (e.g. "no DICM magic and no data set at the start").
    NotDicom(String),
    /// A DICOMDIR (Media Storage Directory): its records describe the input media's file layout
    /// by path and byte offset, so it is not copied (kamei writes its own layout).
    MediaDirectory,
}

/// A parsed DICOM file.
#[derive(Debug, Clone)]
pub struct DicomFile {
    /// The file meta group (0002,xxxx) as read; empty if the input had none.
    pub meta: DataSet,
    /// The data set.
    pub dataset: DataSet,
    /// The transfer syntax of the data set (from the meta, or detected when there was none).
    pub transfer_syntax: TransferSyntax,
    /// Whether the input had a Part 10 header (preamble, `DICM`, meta).
    pub had_meta: bool,
    /// What the reader had to repair or tolerate (for the audit; tags and kinds only).
    pub notes: Vec<String>,
    /// The source file as it was hashed, when values were left in it ([`Stamp`]).
    pub source_stamp: Option<Stamp>,
}

impl DicomFile {
    /// A file kamei builds itself (a test fixture, a minimal file handed to a codec): a Part 10
    /// header, nothing repaired, no value left in a source file.
    pub fn built(meta: DataSet, dataset: DataSet, transfer_syntax: TransferSyntax) -> DicomFile {
        DicomFile { meta, dataset, transfer_syntax, had_meta: true, notes: Vec::new(), source_stamp: None }
    }

    /// Whether any value was left in the source file (the writer must copy it from there).
    pub fn has_deferred(&self) -> bool {
        self.dataset.elements().iter().any(|e| matches!(e.value, crate::dataset::Value::Deferred(_)))
    }
}

/// The most a deflated data set may inflate to: it is inflated in memory (and its values are
/// then copied out of that buffer, so a file takes about twice this), and a few MB of deflate
/// stream can expand a thousandfold, so without a bound one hostile file could take all the
/// machine's memory and end the whole run. Deflate is used for structured reports and small
/// objects; 256 MiB leaves room for large images with every worker busy.
const MAX_INFLATED: u64 = 256 << 20;

/// The rest of a [`ByteReader`], from its position to its end, as a [`Read`]: the deflate
/// stream is inflated from the file as it is read, never held whole beside what it inflates to.
struct Rest<'a, R: ByteReader> {
    r: &'a mut R,
}

impl<R: ByteReader> Read for Rest<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.r.len() - self.r.position()) as usize;
        if n > 0 {
            self.r.read_into(&mut buf[..n], "the deflated data set").map_err(io::Error::other)?;
        }
        Ok(n)
    }
}

/// Inflate the deflated data set from `r`'s position to its end, refusing to go past `limit`
/// bytes. The stream is inflated twice, from the reader each time: once to learn its size
/// without keeping it, then into a buffer allocated once at that size (a growing buffer
/// doubles, and copies itself, so it would take up to three times the data at its peak). The
/// deflated bytes are never held whole: peak memory is the inflated data set and the values
/// parsed out of it.
fn inflate<R: ByteReader>(r: &mut R, limit: u64) -> Result<Vec<u8>> {
    let start = r.position();
    let mut counter = flate2::read::DeflateDecoder::new(Rest { r: &mut *r }).take(limit + 1);
    let size = std::io::copy(&mut counter, &mut std::io::sink()).context(InflateSnafu)?;
    if size > limit {
        return InflatedTooLargeSnafu { limit }.fail();
    }
    r.seek(start)?;
    let mut inflated = Vec::with_capacity(size as usize);
    flate2::read::DeflateDecoder::new(Rest { r }).take(size).read_to_end(&mut inflated).context(InflateSnafu)?;
    Ok(inflated)
}

/// Parse a loaded input.
///
/// # Errors
/// Any [`Error`] that makes the file unreadable: truncation, impossible lengths, an unknown
/// transfer syntax, a deflate stream that does not inflate.
pub fn parse(source: &Source, options: &ReadOptions) -> Result<Opened> {
    match &source.bytes {
        Some(bytes) => parse_reader(&mut SliceReader::new(bytes), None),
        None => {
            let file = open_input(&source.path).context(IoSnafu { path: &source.path })?;
            if let Some(stamp) = &source.stamp {
                stamp.check(&file, &source.path)?;
            }
            let mut reader = FileReader::new(file, source.len);
            let opened = parse_reader(&mut reader, Some(options.defer_threshold))?;
            // Values left in the file are copied from it when the output is written: the
            // writer checks that it is still the file that was hashed.
            Ok(match opened {
                Opened::Dicom(f) => Opened::Dicom(DicomFile { source_stamp: source.stamp, ..f }),
                other => other,
            })
        }
    }
}

/// Parse a file from a path in one call (load + parse).
///
/// # Errors
/// As [`Source::load`] and [`parse`].
pub fn open(path: &Path, options: &ReadOptions) -> Result<Opened> {
    let source = Source::load(path, options)?;
    parse(&source, options)
}

fn parse_reader<R: ByteReader>(r: &mut R, defer: Option<u64>) -> Result<Opened> {
    let total = r.len();
    if total == 0 {
        return Ok(Opened::NotDicom("empty file".into()));
    }
    let head = r.peek(132.min(total as usize))?;
    let (had_meta, meta_start) = if head.len() >= 132 && &head[128..132] == b"DICM" {
        (true, 132u64)
    } else if head.len() >= 4 && &head[0..4] == b"DICM" {
        (true, 4u64)
    } else {
        (false, 0u64)
    };
    if !had_meta {
        return match sniff_bare(&head) {
            Some(encoding) => {
                let ts = match encoding {
                    Encoding { explicit_vr: false, .. } => TransferSyntax::implicit_le(),
                    Encoding { big_endian: true, .. } => TransferSyntax::explicit_be(),
                    _ => TransferSyntax::explicit_le(),
                };
                let mut notes = vec![
                    "no Part 10 header: the transfer syntax was detected and a file meta group written".to_string(),
                ];
                let dataset = read_dataset(r, encoding, defer, &mut notes)?;
                // A bare data set may start with a file meta group (no preamble): split it off.
                let (meta, dataset) = split_meta(dataset);
                Ok(Opened::Dicom(DicomFile {
                    meta,
                    dataset,
                    transfer_syntax: ts,
                    had_meta: false,
                    notes,
                    source_stamp: None,
                }))
            }
            None => Ok(Opened::NotDicom("no DICM magic and no DICOM data set at the start".into())),
        };
    }
    r.seek(meta_start)?;
    let meta = read_meta(r)?;
    if meta.ascii(Tag(0x0002, 0x0002)) == Some(MEDIA_STORAGE_DIRECTORY) {
        return Ok(Opened::MediaDirectory);
    }
    let ts = match meta.ascii(Tag(0x0002, 0x0010)) {
        Some(uid) if !uid.is_empty() => TransferSyntax::from_uid(uid).context(TransferSyntaxSnafu)?,
        _ => {
            // Missing transfer syntax: detect the encoding from the first data set element.
            let at = r.position();
            let peek = r.peek(8.min((r.len() - at) as usize))?;
            match sniff_bare(&peek) {
                Some(e) if e.big_endian => TransferSyntax::explicit_be(),
                _ if peek.len() == 8 && is_vr_bytes(peek[4], peek[5]) => TransferSyntax::explicit_le(),
                _ => TransferSyntax::implicit_le(),
            }
        }
    };
    if r.position() >= r.len() {
        return NoDataSetSnafu { with_meta: !meta.is_empty() }.fail();
    }
    let mut notes = Vec::new();
    let dataset = if ts.deflated {
        let inflated = inflate(r, MAX_INFLATED)?;
        let mut sr = SliceReader::new(&inflated);
        let encoding = actual_encoding(&mut sr, ts.encoding, &mut notes)?;
        read_dataset(&mut sr, encoding, None, &mut notes)?
    } else {
        let encoding = actual_encoding(r, ts.encoding, &mut notes)?;
        read_dataset(r, encoding, defer, &mut notes)?
    };
    Ok(Opened::Dicom(DicomFile { notes, ..DicomFile::built(meta, dataset, ts) }))
}

/// Read the data set to the end of the data, noting the elements read by their dictionary VR
/// because their header's VR contradicted it (tags only).
fn read_dataset<R: ByteReader>(
    r: &mut R,
    encoding: Encoding,
    defer: Option<u64>,
    notes: &mut Vec<String>,
) -> Result<DataSet> {
    let mut parser = Parser::new(r, encoding, defer);
    let dataset = parser.dataset_to_end()?;
    if !parser.retyped.is_empty() {
        let tags: Vec<String> = parser.retyped.iter().map(|t| crate::shown::tag(*t)).collect();
        notes.push(format!(
            "the VR in the file contradicts the dictionary for {}: read by the dictionary's VR (a damaged header)",
            tags.join(", ")
        ));
    }
    Ok(dataset)
}

/// The encoding the data set really uses. Some writers declare an explicit-VR transfer syntax
/// and write Implicit VR (pydicom's SC_rgb_jpeg.dcm); the first element shows it: its bytes 4–5
/// are not a VR. Such a data set is read as Implicit VR and written back as the transfer syntax
/// says (with VRs from the dictionary).
fn actual_encoding<R: ByteReader>(r: &mut R, declared: Encoding, notes: &mut Vec<String>) -> Result<Encoding> {
    let at = r.position();
    let left = (r.len() - at).min(8) as usize;
    let peek = r.peek(left)?;
    if declared.explicit_vr && !declared.big_endian && peek.len() == 8 && !is_vr_bytes(peek[4], peek[5]) {
        let len = u32::from_le_bytes([peek[4], peek[5], peek[6], peek[7]]);
        if u16::from_le_bytes([peek[0], peek[1]]) % 2 == 0 && (len as u64) <= r.len() - at {
            notes.push("data set written in Implicit VR although the transfer syntax says Explicit VR; rewritten as Explicit VR".to_string());
            return Ok(Encoding::IMPLICIT_LE);
        }
    }
    Ok(declared)
}

/// Read the file meta group: Explicit VR Little Endian elements of group 0002, with or without
/// (0002,0000). Some writers put it in Implicit VR; that is detected per element.
fn read_meta<R: ByteReader>(r: &mut R) -> Result<DataSet> {
    let mut meta = DataSet::new();
    loop {
        let at = r.position();
        if r.len() - at < 8 {
            break;
        }
        let peek = r.peek(8)?;
        if u16::from_le_bytes([peek[0], peek[1]]) != 0x0002 {
            break;
        }
        let explicit = is_vr_bytes(peek[4], peek[5]);
        let encoding = if explicit { Encoding::EXPLICIT_LE } else { Encoding::IMPLICIT_LE };
        let mut p = Parser::new(r, encoding, None);
        let element = p.element(0)?;
        meta.push_in_order(element);
    }
    Ok(meta)
}

fn split_meta(dataset: DataSet) -> (DataSet, DataSet) {
    if !dataset.elements().iter().any(|e| e.tag.group() == 0x0002) {
        return (DataSet::new(), dataset);
    }
    let mut meta = DataSet::new();
    let mut rest = DataSet::new();
    for e in dataset.elements() {
        if e.tag.group() == 0x0002 {
            meta.push_in_order(e.clone());
        } else {
            rest.push_in_order(e.clone());
        }
    }
    (meta, rest)
}

fn is_vr_bytes(a: u8, b: u8) -> bool {
    VR::from_binary([a, b]).is_some()
}

/// Recognise a data set without a Part 10 header from its first element (PS3.5 allows bare data
/// sets in other media; ACR-NEMA-era files look the same). Requires a plausible first group
/// (0002, 0008) and a sane header.
fn sniff_bare(head: &[u8]) -> Option<Encoding> {
    if head.len() < 8 {
        return None;
    }
    let le_group = u16::from_le_bytes([head[0], head[1]]);
    let be_group = u16::from_be_bytes([head[0], head[1]]);
    let explicit = is_vr_bytes(head[4], head[5]);
    if matches!(le_group, 0x0002 | 0x0008) {
        if explicit {
            return Some(Encoding::EXPLICIT_LE);
        }
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        // Implicit VR: the first element is short (group length, charset, an ID...).
        if len < 0x1_0000 {
            return Some(Encoding::IMPLICIT_LE);
        }
        return None;
    }
    if matches!(be_group, 0x0002 | 0x0008) && explicit {
        return Some(Encoding::EXPLICIT_BE);
    }
    None
}

/// VRs whose explicit header has two reserved bytes and a 32-bit length (PS3.5 Table 7.1-1).
pub(crate) fn has_long_length(vr: VR) -> bool {
    matches!(
        vr,
        VR::OB
            | VR::OD
            | VR::OF
            | VR::OL
            | VR::OV
            | VR::OW
            | VR::SQ
            | VR::SV
            | VR::UC
            | VR::UN
            | VR::UR
            | VR::UT
            | VR::UV
    )
}

fn is_bulk_vr(vr: VR) -> bool {
    matches!(vr, VR::OB | VR::OW | VR::OF | VR::OD | VR::OL | VR::OV | VR::UN)
}

struct Header {
    tag: Tag,
    vr: VR,
    length: u32,
    /// Offset of the header's first byte.
    at: u64,
}

/// The element parser: one encoding, reading from a [`ByteReader`].
struct Parser<'r, R: ByteReader> {
    r: &'r mut R,
    encoding: Encoding,
    defer: Option<u64>,
    /// Elements whose Explicit VR header named a VR the dictionary does not allow for their
    /// tag, read by the dictionary's ([`dict::contradicted_vr`]), for the audit.
    retyped: std::collections::BTreeSet<Tag>,
}

impl<'r, R: ByteReader> Parser<'r, R> {
    fn new(r: &'r mut R, encoding: Encoding, defer: Option<u64>) -> Self {
        Parser { r, encoding, defer, retyped: Default::default() }
    }

    fn u16(&self, b: [u8; 2]) -> u16 {
        if self.encoding.big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) }
    }

    fn u32(&self, b: [u8; 4]) -> u32 {
        if self.encoding.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
    }

    /// Read the top-level data set to the end of the data. Trailing zero bytes (padding some
    /// writers leave after the last element) are accepted and dropped.
    fn dataset_to_end(&mut self) -> Result<DataSet> {
        let mut ds = DataSet::new();
        loop {
            let at = self.r.position();
            let left = self.r.len() - at;
            if left == 0 {
                break;
            }
            if left < 8 {
                let tail = self.r.peek(left as usize)?;
                if tail.iter().all(|&b| b == 0) {
                    break;
                }
                return TruncatedSnafu { what: "an element header".to_string(), offset: at }.fail();
            }
            if self.r.next_is_zero(8)? && self.rest_is_zero()? {
                break;
            }
            let element = self.element(0)?;
            add_element(&mut ds, element, at)?;
        }
        Ok(ds)
    }

    /// Whether every byte from the current position to the end is zero (trailing padding).
    /// Leaves the position unchanged.
    fn rest_is_zero(&mut self) -> Result<bool> {
        let at = self.r.position();
        let mut zero = true;
        while self.r.position() < self.r.len() && zero {
            let n = (self.r.len() - self.r.position()).min(64 << 10) as usize;
            zero = self.r.read_vec(n, "trailing padding")?.iter().all(|&b| b == 0);
        }
        self.r.seek(at)?;
        Ok(zero)
    }

    fn header(&mut self) -> Result<Header> {
        let at = self.r.position();
        let b = self.r.read_array::<8>("an element header")?;
        let tag = Tag(self.u16([b[0], b[1]]), self.u16([b[2], b[3]]));
        if tag.group() == 0xFFFE {
            return Ok(Header { tag, vr: VR::UN, length: self.u32([b[4], b[5], b[6], b[7]]), at });
        }
        if !self.encoding.explicit_vr {
            return Ok(Header { tag, vr: dict::vr_of(tag), length: self.u32([b[4], b[5], b[6], b[7]]), at });
        }
        match VR::from_binary([b[4], b[5]]) {
            Some(vr) if has_long_length(vr) => {
                let l = self.r.read_array::<4>("an element header")?;
                Ok(Header { tag, vr, length: self.u32(l), at })
            }
            Some(vr) => Ok(Header { tag, vr, length: self.u16([b[6], b[7]]) as u32, at }),
            None if b[4].is_ascii_uppercase() && b[5].is_ascii_uppercase() && b[6] == 0 && b[7] == 0 => {
                // An unknown VR: PS3.5 §6.2 makes every future VR use the 32-bit length form;
                // read it as UN so its bytes pass through.
                let l = self.r.read_array::<4>("an element header")?;
                Ok(Header { tag, vr: VR::UN, length: self.u32(l), at })
            }
            None => MalformedSnafu { offset: at, reason: format!("invalid VR in {}", crate::shown::tag(tag)) }.fail(),
        }
    }

    fn element(&mut self, depth: usize) -> Result<Element> {
        let mut h = self.header()?;
        // The header's VR decided how its length was read; the value is read as what the tag
        // holds when a damaged VR contradicts the dictionary.
        if let Some(vr) = dict::contradicted_vr(h.tag, h.vr).filter(|_| self.encoding.explicit_vr) {
            self.retyped.insert(h.tag);
            h.vr = vr;
        }
        if h.tag.group() == 0xFFFE {
            return MalformedSnafu {
                offset: h.at,
                reason: format!("unexpected {} outside a sequence", crate::shown::tag(h.tag)),
            }
            .fail();
        }
        let value_at = self.r.position();
        let what = || format!("element {}", crate::shown::tag(h.tag));

        if h.length == UNDEFINED {
            if h.tag == PIXEL_DATA && h.vr != VR::SQ {
                return self.encapsulated(h, depth);
            }
            return match h.vr {
                VR::SQ => {
                    let seq = self.sequence_undefined(depth)?;
                    Ok(Element { tag: h.tag, vr: VR::SQ, value: crate::dataset::Value::Sequence(seq) })
                }
                VR::UN => {
                    // CP-246: a UN of undefined length holds a sequence in Implicit VR LE. Some
                    // toolkits write its items in Explicit VR LE: read them that way when
                    // Implicit VR does not parse.
                    let mut seq = match self.sequence_undefined_in(Encoding::IMPLICIT_LE, depth) {
                        Ok(seq) => seq,
                        Err(first) => {
                            self.r.seek(value_at)?;
                            self.sequence_undefined_in(Encoding::EXPLICIT_LE, depth).map_err(|_| first)?
                        }
                    };
                    // Kept as UN with Implicit VR LE items, as CP-246 has it: the items are
                    // processed like any other, and written back in that form.
                    seq.implicit_le = true;
                    Ok(Element { tag: h.tag, vr: VR::UN, value: crate::dataset::Value::Sequence(seq) })
                }
                _ if !self.encoding.explicit_vr => {
                    // Implicit VR: an undefined length can only be a sequence.
                    let seq = self.sequence_undefined(depth)?;
                    Ok(Element { tag: h.tag, vr: VR::SQ, value: crate::dataset::Value::Sequence(seq) })
                }
                vr => MalformedSnafu {
                    offset: h.at,
                    reason: format!("undefined length on {} with VR {}", crate::shown::tag(h.tag), vr.to_string()),
                }
                .fail(),
            };
        }

        let length = h.length as u64;
        if value_at + length > self.r.len() && !crate::shown::is_standard_tag(h.tag) {
            // Most likely a header read from inside a value after a wrong length: its "length"
            // is value bytes too, so it is not shown.
            return MalformedSnafu {
                offset: h.at,
                reason: "the data ends inside an element whose tag is not a standard one (a private element, or a header read from inside a value after a wrong length)".to_string(),
            }
            .fail();
        }
        if value_at + length > self.r.len() {
            return TruncatedSnafu {
                what: format!("{} (declares {} bytes, {} left)", what(), length, self.r.len() - value_at),
                offset: value_at,
            }
            .fail();
        }
        if h.vr == VR::SQ {
            let seq = self.sequence_defined(value_at + length, depth)?;
            return Ok(Element { tag: h.tag, vr: VR::SQ, value: crate::dataset::Value::Sequence(seq) });
        }
        if let Some(threshold) = self.defer
            && depth == 0
            && length >= threshold
            && is_bulk_vr(h.vr)
            && is_bulk_data(h.tag)
        {
            self.r.skip(length, "").map_err(|e| named(e, what))?;
            return Ok(Element {
                tag: h.tag,
                vr: h.vr,
                value: crate::dataset::Value::Deferred(Deferred { offset: value_at, length, encapsulated: false }),
            });
        }
        let bytes = self.r.read_vec(h.length as usize, "").map_err(|e| named(e, what))?;
        if let Some(mut seq) = self.sequence_in_bytes(&h, &bytes, depth) {
            seq.implicit_le = true;
            return Ok(Element { tag: h.tag, vr: h.vr, value: crate::dataset::Value::Sequence(seq) });
        }
        Ok(Element { tag: h.tag, vr: h.vr, value: crate::dataset::Value::Bytes(bytes) })
    }

    /// Read a sequence of undefined length whose items are in `encoding`, then restore the
    /// parser's own encoding (also on error).
    fn sequence_undefined_in(&mut self, encoding: Encoding, depth: usize) -> Result<Sequence> {
        let saved = self.encoding;
        self.encoding = encoding;
        let seq = self.sequence_undefined(depth);
        self.encoding = saved;
        seq
    }

    /// A defined-length value that is really a sequence: a UN whose dictionary VR is SQ, or a
    /// private element in Implicit VR whose value starts with an item tag. The bytes are parsed
    /// as Implicit VR Little Endian items (CP-246), or else as Explicit VR Little Endian items
    /// (what some toolkits write); if neither reads every byte they stay bytes, and the planner
    /// removes them (never passes them through unread).
    fn sequence_in_bytes(&self, h: &Header, bytes: &[u8], depth: usize) -> Option<Sequence> {
        if bytes.len() < 8 || depth >= MAX_DEPTH {
            return None;
        }
        let starts_with_item = bytes[0..4] == [0xFE, 0xFF, 0x00, 0xE0];
        let candidate = match h.vr {
            VR::UN => starts_with_item && (dict::known_vr(h.tag) == Some(VR::SQ) || is_private(h.tag)),
            _ => false,
        };
        if !candidate {
            return None;
        }
        [Encoding::IMPLICIT_LE, Encoding::EXPLICIT_LE].into_iter().find_map(|encoding| {
            let mut sub = SliceReader::new(bytes);
            let mut p = Parser::new(&mut sub, encoding, None);
            let seq = p.sequence_defined(bytes.len() as u64, depth).ok()?;
            (sub.position() == bytes.len() as u64).then_some(seq)
        })
    }

    fn sequence_undefined(&mut self, depth: usize) -> Result<Sequence> {
        if depth >= MAX_DEPTH {
            return MalformedSnafu { offset: self.r.position(), reason: "sequences nested too deep".to_string() }
                .fail();
        }
        let mut items = Vec::new();
        loop {
            let h = self.header()?;
            match h.tag {
                SEQUENCE_DELIMITER => break,
                ITEM => items.push(self.item(h, depth)?),
                other => {
                    return MalformedSnafu {
                        offset: h.at,
                        reason: format!("expected an item in a sequence, found {}", crate::shown::tag(other)),
                    }
                    .fail();
                }
            }
        }
        Ok(Sequence { items, undefined_length: true, implicit_le: false })
    }

    fn sequence_defined(&mut self, end: u64, depth: usize) -> Result<Sequence> {
        if depth >= MAX_DEPTH {
            return MalformedSnafu { offset: self.r.position(), reason: "sequences nested too deep".to_string() }
                .fail();
        }
        let mut items = Vec::new();
        while self.r.position() < end {
            let h = self.header()?;
            match h.tag {
                ITEM => items.push(self.item(h, depth)?),
                // Tolerated: a sequence delimiter inside a defined-length sequence.
                SEQUENCE_DELIMITER => break,
                other => {
                    return MalformedSnafu {
                        offset: h.at,
                        reason: format!("expected an item in a sequence, found {}", crate::shown::tag(other)),
                    }
                    .fail();
                }
            }
        }
        if self.r.position() > end {
            return MalformedSnafu { offset: end, reason: "sequence items overrun the sequence length".to_string() }
                .fail();
        }
        Ok(Sequence { items, undefined_length: false, implicit_le: false })
    }

    fn item(&mut self, h: Header, depth: usize) -> Result<Item> {
        let mut dataset = DataSet::new();
        if h.length == UNDEFINED {
            loop {
                let at = self.r.position();
                let peek = self.r.peek(4.min((self.r.len() - at) as usize))?;
                if peek.len() < 4 {
                    return TruncatedSnafu { what: "a sequence item".to_string(), offset: at }.fail();
                }
                let tag = Tag(self.u16([peek[0], peek[1]]), self.u16([peek[2], peek[3]]));
                if tag == ITEM_DELIMITER {
                    self.header()?;
                    break;
                }
                if tag == SEQUENCE_DELIMITER {
                    // Missing item delimiter: leave the sequence delimiter for the caller.
                    break;
                }
                let element = self.element(depth + 1)?;
                add_element(&mut dataset, element, at)?;
            }
            return Ok(Item { dataset, undefined_length: true });
        }
        let end = self.r.position() + h.length as u64;
        if end > self.r.len() {
            return TruncatedSnafu { what: "a sequence item".to_string(), offset: self.r.position() }.fail();
        }
        while self.r.position() < end {
            let at = self.r.position();
            let element = self.element(depth + 1)?;
            add_element(&mut dataset, element, at)?;
        }
        if self.r.position() != end {
            return MalformedSnafu { offset: end, reason: "item elements overrun the item length".to_string() }.fail();
        }
        Ok(Item { dataset, undefined_length: false })
    }

    /// Encapsulated pixel data: items (offset table, fragments) up to a sequence delimiter.
    fn encapsulated(&mut self, h: Header, depth: usize) -> Result<Element> {
        let start = self.r.position();
        let defer = self.defer.is_some_and(|_| depth == 0);
        let mut frags = Fragments::default();
        let mut first = true;
        loop {
            let ih = self.header()?;
            match ih.tag {
                SEQUENCE_DELIMITER => break,
                ITEM if ih.length != UNDEFINED => {
                    let len = ih.length as u64;
                    if self.r.position() + len > self.r.len() {
                        return TruncatedSnafu { what: "a pixel data fragment".to_string(), offset: self.r.position() }
                            .fail();
                    }
                    if defer {
                        self.r.skip(len, "a pixel data fragment")?;
                    } else {
                        let bytes = self.r.read_vec(ih.length as usize, "a pixel data fragment")?;
                        if first {
                            frags.offset_table = bytes;
                        } else {
                            frags.fragments.push(bytes);
                        }
                    }
                    first = false;
                }
                other => {
                    return MalformedSnafu {
                        offset: ih.at,
                        reason: format!("expected a pixel data item, found {}", crate::shown::tag(other)),
                    }
                    .fail();
                }
            }
        }
        let value = if defer {
            crate::dataset::Value::Deferred(Deferred {
                offset: start,
                length: self.r.position() - start,
                encapsulated: true,
            })
        } else {
            crate::dataset::Value::Fragments(frags)
        };
        // Kept as read (OB per PS3.5 A.4; some old writers use OW); UN (implicit VR) becomes OB.
        let vr = if h.vr == VR::UN { VR::OB } else { h.vr };
        Ok(Element { tag: h.tag, vr, value })
    }
}

/// Add an element read at byte `at` to a data set. A second element with a tag already present
/// replaces the first (last wins), except when the tag holds an identifier
/// ([`dict::is_identifying`]) and the two values differ: then which one is the patient's
/// cannot be told, and the first copy's value would escape the identifiers Clean and the safety
/// net look for, so the file is refused. The reason names the tag, never a value.
fn add_element(ds: &mut DataSet, element: Element, at: u64) -> Result<()> {
    if let Some(old) = ds.get(element.tag)
        && dict::is_identifying(element.tag, element.vr)
        && old.value != element.value
        && (old.bytes().is_none() || unpadded(old) != unpadded(&element))
    {
        return MalformedSnafu {
            offset: at,
            reason: format!(
                "two {} elements with different values: which identifies the patient cannot be told",
                crate::dataset::tag_str(element.tag)
            ),
        }
        .fail();
    }
    ds.push_in_order(element);
    Ok(())
}

/// A primitive value without its trailing padding (spaces, NULs).
fn unpadded(e: &Element) -> Option<&[u8]> {
    let b = e.bytes()?;
    let end = b.iter().rposition(|&c| c != b' ' && c != 0).map_or(0, |i| i + 1);
    Some(&b[..end])
}

/// `e` with what was being read named by `what`, which is only called here: formatting the
/// name of each element read (a string, and a dictionary lookup, per element) before knowing
/// whether it is needed cost as much as reading the element.
fn named(e: Error, what: impl FnOnce() -> String) -> Error {
    match e {
        Error::Truncated { offset, .. } => Error::Truncated { what: what(), offset },
        other => other,
    }
}

/// Byte access the parser needs: sequential reads with a known position and total length.
trait ByteReader {
    fn len(&self) -> u64;
    fn position(&self) -> u64;
    fn seek(&mut self, pos: u64) -> Result<()>;
    fn read_into(&mut self, buf: &mut [u8], what: &str) -> Result<()>;
    fn read_vec(&mut self, n: usize, what: &str) -> Result<Vec<u8>>;
    fn skip(&mut self, n: u64, what: &str) -> Result<()>;
    /// Up to `n` bytes from the current position, without consuming them.
    fn peek(&mut self, n: usize) -> Result<Vec<u8>>;
    /// Whether the next `n` bytes (at most 8; fewer at the end) are all zero, without consuming
    /// them or allocating (asked before every top-level element).
    fn next_is_zero(&mut self, n: usize) -> Result<bool>;

    fn read_array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut b = [0u8; N];
        self.read_into(&mut b, what)?;
        Ok(b)
    }
}

struct SliceReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SliceReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        SliceReader { data, pos: 0 }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.data.len() => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            _ => TruncatedSnafu { what: what.to_string(), offset: self.pos as u64 }.fail(),
        }
    }
}

impl ByteReader for SliceReader<'_> {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }
    fn position(&self) -> u64 {
        self.pos as u64
    }
    fn seek(&mut self, pos: u64) -> Result<()> {
        self.pos = (pos as usize).min(self.data.len());
        Ok(())
    }
    fn read_into(&mut self, buf: &mut [u8], what: &str) -> Result<()> {
        buf.copy_from_slice(self.take(buf.len(), what)?);
        Ok(())
    }
    fn read_vec(&mut self, n: usize, what: &str) -> Result<Vec<u8>> {
        Ok(self.take(n, what)?.to_vec())
    }
    fn skip(&mut self, n: u64, what: &str) -> Result<()> {
        self.take(n as usize, what).map(|_| ())
    }
    fn peek(&mut self, n: usize) -> Result<Vec<u8>> {
        let end = (self.pos + n).min(self.data.len());
        Ok(self.data[self.pos..end].to_vec())
    }
    fn next_is_zero(&mut self, n: usize) -> Result<bool> {
        let end = (self.pos + n.min(8)).min(self.data.len());
        Ok(self.data[self.pos..end].iter().all(|&b| b == 0))
    }
}

struct FileReader {
    inner: BufReader<File>,
    pos: u64,
    len: u64,
}

impl FileReader {
    fn new(file: File, len: u64) -> Self {
        FileReader { inner: BufReader::with_capacity(256 << 10, file), pos: 0, len }
    }

    fn io<T>(&self, r: io::Result<T>, what: &str) -> Result<T> {
        r.map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                Error::Truncated { what: what.to_string(), offset: self.pos }
            } else {
                Error::Io { path: PathBuf::from("<input>"), source: e }
            }
        })
    }
}

impl ByteReader for FileReader {
    fn len(&self) -> u64 {
        self.len
    }
    fn position(&self) -> u64 {
        self.pos
    }
    fn seek(&mut self, pos: u64) -> Result<()> {
        let r = self.inner.seek(SeekFrom::Start(pos));
        self.io(r, "a seek")?;
        self.pos = pos;
        Ok(())
    }
    fn read_into(&mut self, buf: &mut [u8], what: &str) -> Result<()> {
        let r = self.inner.read_exact(buf);
        self.io(r, what)?;
        self.pos += buf.len() as u64;
        Ok(())
    }
    fn read_vec(&mut self, n: usize, what: &str) -> Result<Vec<u8>> {
        if self.pos + n as u64 > self.len {
            return TruncatedSnafu { what: what.to_string(), offset: self.pos }.fail();
        }
        let mut v = vec![0u8; n];
        self.read_into(&mut v, what)?;
        Ok(v)
    }
    fn skip(&mut self, n: u64, what: &str) -> Result<()> {
        if self.pos + n > self.len {
            return TruncatedSnafu { what: what.to_string(), offset: self.pos }.fail();
        }
        let r = self.inner.seek_relative(n as i64);
        self.io(r, what)?;
        self.pos += n;
        Ok(())
    }
    fn peek(&mut self, n: usize) -> Result<Vec<u8>> {
        let n = n.min((self.len - self.pos) as usize);
        let v = self.read_vec(n, "a peek")?;
        self.unread(n)?;
        Ok(v)
    }
    fn next_is_zero(&mut self, n: usize) -> Result<bool> {
        let n = n.min(8).min((self.len - self.pos) as usize);
        let mut b = [0u8; 8];
        self.read_into(&mut b[..n], "a peek")?;
        self.unread(n)?;
        Ok(b[..n].iter().all(|&b| b == 0))
    }
}

impl FileReader {
    /// Step back over the `n` bytes just read. Relative, so the buffer stays when they are in
    /// it (a seek to an absolute position drops it: every peek, one per top-level element,
    /// would then read the next 256 KiB again).
    fn unread(&mut self, n: usize) -> Result<()> {
        let r = self.inner.seek_relative(-(n as i64));
        self.io(r, "a seek")?;
        self.pos -= n as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Value;

    fn explicit_le(tag: (u16, u16), vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&tag.0.to_le_bytes());
        v.extend_from_slice(&tag.1.to_le_bytes());
        v.extend_from_slice(vr);
        if has_long_length(VR::from_binary(*vr).unwrap()) {
            v.extend_from_slice(&[0, 0]);
            v.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            v.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        v.extend_from_slice(value);
        v
    }

    fn part10(ts: &str, body: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 128];
        f.extend_from_slice(b"DICM");
        let mut ts_bytes = ts.as_bytes().to_vec();
        if ts_bytes.len() % 2 == 1 {
            ts_bytes.push(0);
        }
        let meta = explicit_le((0x0002, 0x0010), b"UI", &ts_bytes);
        f.extend(explicit_le((0x0002, 0x0000), b"UL", &(meta.len() as u32).to_le_bytes()));
        f.extend(meta);
        f.extend_from_slice(body);
        f
    }

    fn parse_bytes(bytes: Vec<u8>) -> Opened {
        parse(&Source::from_bytes("x.dcm", bytes), &ReadOptions::default()).unwrap()
    }

    fn dicom(o: Opened) -> DicomFile {
        match o {
            Opened::Dicom(f) => f,
            other => panic!("not dicom: {other:?}"),
        }
    }

    #[test]
    fn keeps_value_bytes_exactly() {
        let body = explicit_le((0x0010, 0x0010), b"PN", b"Yamada^Tarou=\x1b$B;3ED\x1b(B ");
        let f = dicom(parse_bytes(part10("1.2.840.10008.1.2.1", &body)));
        assert_eq!(f.dataset.bytes(Tag(0x0010, 0x0010)).unwrap(), b"Yamada^Tarou=\x1b$B;3ED\x1b(B ");
        assert!(f.had_meta);
    }

    #[test]
    fn text_file_is_not_dicom() {
        assert!(matches!(parse_bytes(b"hello world, not a dicom file at all".to_vec()), Opened::NotDicom(_)));
        assert!(matches!(parse_bytes(Vec::new()), Opened::NotDicom(_)));
    }

    #[test]
    fn bare_implicit_data_set_is_read() {
        let mut body = Vec::new();
        for (g, e, v) in [(0x0008u16, 0x0016u16, &b"1.2.3\0"[..]), (0x0010, 0x0010, b"DOE^JOHN")] {
            body.extend_from_slice(&g.to_le_bytes());
            body.extend_from_slice(&e.to_le_bytes());
            body.extend_from_slice(&(v.len() as u32).to_le_bytes());
            body.extend_from_slice(v);
        }
        let f = dicom(parse_bytes(body));
        assert!(!f.had_meta);
        assert_eq!(f.transfer_syntax.encoding, Encoding::IMPLICIT_LE);
        assert_eq!(f.dataset.get(Tag(0x0010, 0x0010)).unwrap().vr, VR::PN);
    }

    #[test]
    fn truncated_value_is_an_error_naming_the_tag() {
        let mut body = explicit_le((0x7FE0, 0x0010), b"OW", &[0u8; 64]);
        body.truncate(body.len() - 10);
        let err =
            parse(&Source::from_bytes("x", part10("1.2.840.10008.1.2.1", &body)), &ReadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("(7FE0,0010)"), "{err}");
        assert!(err.to_string().starts_with("truncated"), "{err}");
    }

    fn parse_error(body: &[u8]) -> String {
        let source = Source::from_bytes("x", part10("1.2.840.10008.1.2.1", body));
        parse(&source, &ReadOptions::default()).unwrap_err().to_string()
    }

    #[test]
    fn a_header_read_from_inside_a_name_is_not_printed() {
        // Patient's Name declares 8 bytes of "SUZUKI^ICHIRO ": "CHIRO " is then read as a header.
        let mut body = explicit_le((0x0010, 0x0010), b"PN", b"SUZUKI^ICHIRO ");
        body[6..8].copy_from_slice(&8u16.to_le_bytes());
        body.extend(explicit_le((0x0010, 0x0020), b"LO", b"PT20481632"));
        let err = parse_error(&body);
        assert!(err.contains("invalid VR in an unrecognised tag"), "{err}");
        assert!(!err.contains("4843") && !err.contains("4F 20"), "bytes of the name are not shown: {err}");
    }

    #[test]
    fn a_trailer_of_text_after_the_data_set_is_not_printed() {
        // "YAMADAX " reads as tag (4159,414D), VR DA, length 0x2058 (8280).
        let mut body = explicit_le((0x0010, 0x0020), b"LO", b"PT20481632");
        body.extend_from_slice(b"YAMADAX tail of a text trailer");
        let err = parse_error(&body);
        assert!(err.contains("not a standard one"), "{err}");
        assert!(!err.contains("4159") && !err.contains("8280"), "bytes of the trailer are not shown: {err}");
    }

    #[test]
    fn un_of_undefined_length_is_read_as_implicit_sequence() {
        // (0008,1115) UN, undefined length, one item with (0020,000E) UI in implicit VR LE.
        let mut body = Vec::new();
        body.extend_from_slice(&[0x08, 0x00, 0x15, 0x11, b'U', b'N', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        body.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        body.extend_from_slice(&[0x20, 0x00, 0x0E, 0x00, 4, 0, 0, 0]);
        body.extend_from_slice(b"1.23");
        body.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        body.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        let f = dicom(parse_bytes(part10("1.2.840.10008.1.2.1", &body)));
        let e = f.dataset.get(Tag(0x0008, 0x1115)).unwrap();
        assert_eq!(e.vr, VR::UN);
        assert!(e.value.sequence().unwrap().implicit_le);
        let seq = e.value.sequence().unwrap();
        assert_eq!(seq.items[0].dataset.bytes(Tag(0x0020, 0x000E)), Some(&b"1.23"[..]));
    }

    /// One item holding (0020,000E) UI "1.23" in Explicit VR LE, with a defined length.
    fn explicit_item() -> Vec<u8> {
        let mut v = vec![0xFE, 0xFF, 0x00, 0xE0, 12, 0, 0, 0];
        v.extend_from_slice(&[0x20, 0x00, 0x0E, 0x00, b'U', b'I', 4, 0]);
        v.extend_from_slice(b"1.23");
        v
    }

    #[test]
    fn un_of_defined_length_with_explicit_vr_items_is_read_as_a_sequence() {
        let item = explicit_item();
        let mut body = vec![0x08, 0x00, 0x15, 0x11, b'U', b'N', 0, 0];
        body.extend_from_slice(&(item.len() as u32).to_le_bytes());
        body.extend_from_slice(&item);
        let f = dicom(parse_bytes(part10("1.2.840.10008.1.2.1", &body)));
        let seq = f.dataset.get(Tag(0x0008, 0x1115)).unwrap().value.sequence().expect("a sequence");
        assert!(seq.implicit_le, "written back as CP-246 has it");
        assert_eq!(seq.items[0].dataset.bytes(Tag(0x0020, 0x000E)), Some(&b"1.23"[..]));
    }

    #[test]
    fn un_of_undefined_length_with_explicit_vr_items_is_read_as_a_sequence() {
        let mut body = vec![0x08, 0x00, 0x15, 0x11, b'U', b'N', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        body.extend_from_slice(&explicit_item());
        body.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        let f = dicom(parse_bytes(part10("1.2.840.10008.1.2.1", &body)));
        let seq = f.dataset.get(Tag(0x0008, 0x1115)).unwrap().value.sequence().expect("a sequence");
        assert_eq!(seq.items[0].dataset.bytes(Tag(0x0020, 0x000E)), Some(&b"1.23"[..]));
    }

    #[test]
    fn un_of_defined_length_with_trailing_bytes_stays_bytes() {
        let mut value = explicit_item();
        value.extend_from_slice(b"JUNK");
        let mut body = vec![0x08, 0x00, 0x15, 0x11, b'U', b'N', 0, 0];
        body.extend_from_slice(&(value.len() as u32).to_le_bytes());
        body.extend_from_slice(&value);
        let f = dicom(parse_bytes(part10("1.2.840.10008.1.2.1", &body)));
        assert_eq!(f.dataset.bytes(Tag(0x0008, 0x1115)), Some(&value[..]));
    }

    #[test]
    fn duplicate_patient_name_with_another_value_is_refused_naming_the_tag() {
        let mut body = explicit_le((0x0010, 0x0010), b"PN", b"DOE^JOHN");
        body.extend(explicit_le((0x0010, 0x0010), b"PN", b"ZORBLAX^QUENTIN "));
        let err = parse(&Source::from_bytes("x.dcm", part10("1.2.840.10008.1.2.1", &body)), &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("(0010,0010)") && !err.contains("DOE") && !err.contains("ZORBLAX"), "{err}");
    }

    #[test]
    fn duplicate_with_the_same_value_or_of_a_non_identifying_tag_is_read_last_wins() {
        let mut body = explicit_le((0x0008, 0x0060), b"CS", b"CT");
        body.extend(explicit_le((0x0008, 0x0060), b"CS", b"MR"));
        body.extend(explicit_le((0x0010, 0x0020), b"LO", b"PID1"));
        body.extend(explicit_le((0x0010, 0x0020), b"LO", b"PID1  "));
        let f = dicom(parse_bytes(part10("1.2.840.10008.1.2.1", &body)));
        assert_eq!(f.dataset.bytes(Tag(0x0008, 0x0060)), Some(&b"MR"[..]));
        assert_eq!(f.dataset.bytes(Tag(0x0010, 0x0020)), Some(&b"PID1  "[..]));
    }

    #[test]
    fn encapsulated_pixel_data_keeps_fragments() {
        let mut body = Vec::new();
        body.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        body.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]);
        body.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0, 1, 2, 3, 4]);
        body.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        let f = dicom(parse_bytes(part10("1.2.840.10008.1.2.4.50", &body)));
        match &f.dataset.get(PIXEL_DATA).unwrap().value {
            Value::Fragments(fr) => assert_eq!(fr.fragments, vec![vec![1, 2, 3, 4]]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_transfer_syntax_is_an_error() {
        let err = parse(&Source::from_bytes("x", part10("1.2.3.4.5", &[])), &ReadOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "unknown transfer syntax 1.2.3.4.5");
    }

    #[test]
    fn load_reads_the_whole_file_and_hashes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.dcm");
        for len in [0usize, 1, 8191, 8192, 8193, 300_000] {
            let content: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            std::fs::write(&path, &content).unwrap();
            let source = Source::load(&path, &ReadOptions::default()).unwrap();
            assert_eq!(source.len, len as u64);
            assert_eq!(source.sha256, <[u8; 32]>::from(Sha256::digest(&content)));
            assert_eq!(source.bytes.as_deref(), Some(&content[..]));
        }
    }

    #[test]
    fn read_whole_goes_on_past_a_stale_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grown.dcm");
        let content: Vec<u8> = (0..20_000).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        // The length seen earlier is stale in both directions: the file grew, or shrank.
        assert_eq!(read_whole(&mut File::open(&path).unwrap(), 12_000).unwrap(), content);
        assert_eq!(read_whole(&mut File::open(&path).unwrap(), 30_000).unwrap(), content);
    }

    #[test]
    fn large_pixel_data_is_deferred_when_reading_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.dcm");
        let body = explicit_le((0x7FE0, 0x0010), b"OW", &vec![7u8; 4096]);
        std::fs::write(&path, part10("1.2.840.10008.1.2.1", &body)).unwrap();
        let opts = ReadOptions { in_memory_limit: 0, defer_threshold: 1024 };
        let source = Source::load(&path, &opts).unwrap();
        assert!(!source.in_memory());
        let f = dicom(parse(&source, &opts).unwrap());
        assert!(matches!(f.dataset.get(PIXEL_DATA).unwrap().value, Value::Deferred(Deferred { length: 4096, .. })));
    }

    /// Parse `body` as a file read from disk with a tiny deferral threshold (as a file over the
    /// in-memory limit is read).
    fn parse_from_disk(body: &[u8]) -> DicomFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.dcm");
        std::fs::write(&path, part10("1.2.840.10008.1.2.1", body)).unwrap();
        let opts = ReadOptions { in_memory_limit: 0, defer_threshold: 1024 };
        let source = Source::load(&path, &opts).unwrap();
        assert!(!source.in_memory());
        dicom(parse(&source, &opts).unwrap())
    }

    #[test]
    fn a_large_binary_value_that_is_not_bulk_data_is_read_from_a_large_file() {
        // Bad Pixel Image (0014,3080) OB and a private OB: the safety nets must see their bytes.
        let mut body = explicit_le((0x0014, 0x3080), b"OB", &vec![b'Y'; 4096]);
        body.extend(explicit_le((0x0029, 0x0010), b"LO", b"VENDOR"));
        body.extend(explicit_le((0x0029, 0x1001), b"OB", &vec![b'Z'; 4096]));
        let f = parse_from_disk(&body);
        assert_eq!(f.dataset.get(Tag(0x0014, 0x3080)).unwrap().bytes().unwrap().len(), 4096);
        assert_eq!(f.dataset.get(Tag(0x0029, 0x1001)).unwrap().bytes().unwrap().len(), 4096);
    }

    #[test]
    fn a_large_un_sequence_of_defined_length_is_parsed_from_a_large_file() {
        // Per-frame Functional Groups Sequence sent as UN: Implicit VR items, defined length.
        let mut items = Vec::new();
        for _ in 0..100 {
            let mut item = Vec::new();
            item.extend_from_slice(&[0x20, 0x00, 0x32, 0x00]); // (0020,0032)
            item.extend_from_slice(&12u32.to_le_bytes());
            item.extend_from_slice(b"1\\2\\3.000000");
            items.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
            items.extend_from_slice(&(item.len() as u32).to_le_bytes());
            items.extend(item);
        }
        assert!(items.len() > 1024);
        let f = parse_from_disk(&explicit_le((0x5200, 0x9230), b"UN", &items));
        match &f.dataset.get(Tag(0x5200, 0x9230)).unwrap().value {
            Value::Sequence(seq) => assert_eq!(seq.items.len(), 100),
            other => panic!("not read as a sequence: {other:?}"),
        }
    }

    #[test]
    fn a_deflate_bomb_is_refused_past_the_limit() {
        use std::io::Write;
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![0u8; 1 << 20]).unwrap();
        let bomb = z.finish().unwrap();
        assert!(bomb.len() < 4096, "a thousandfold expansion");
        assert_eq!(inflate(&mut SliceReader::new(&bomb), 2 << 20).unwrap().len(), 1 << 20);
        let err = inflate(&mut SliceReader::new(&bomb), 64 << 10).unwrap_err();
        assert!(matches!(err, Error::InflatedTooLarge { .. }), "{err}");
    }

    #[test]
    fn an_inflated_data_set_is_held_in_one_buffer_of_its_exact_size() {
        use std::io::Write;
        let data: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&data).unwrap();
        let inflated = inflate(&mut SliceReader::new(&z.finish().unwrap()), 2 << 20).unwrap();
        assert_eq!(inflated, data);
        assert_eq!(inflated.capacity(), data.len(), "a growing buffer would have doubled");
    }

    /// Rewrites `path` with `content` and a modification time an hour later than before: a
    /// file system's clock tick is coarse, so the test sets the time rather than waiting.
    fn rewrite_later(path: &Path, content: &[u8]) {
        let before = std::fs::metadata(path).unwrap().modified().unwrap();
        std::fs::write(path, content).unwrap();
        let f = File::options().write(true).open(path).unwrap();
        f.set_modified(before + std::time::Duration::from_secs(3600)).unwrap();
    }

    fn large_file(dir: &Path) -> (PathBuf, Vec<u8>, ReadOptions) {
        let path = dir.join("big.dcm");
        let body = explicit_le((0x7FE0, 0x0010), b"OB", &vec![7u8; 4096]);
        let bytes = part10("1.2.840.10008.1.2.1", &body);
        std::fs::write(&path, &bytes).unwrap();
        (path, bytes, ReadOptions { in_memory_limit: 0, defer_threshold: 1024 })
    }

    #[test]
    fn a_large_input_rewritten_between_hash_and_parse_fails_as_changed() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut bytes, opts) = large_file(dir.path());
        let source = Source::load(&path, &opts).unwrap();
        *bytes.last_mut().unwrap() = 8;
        rewrite_later(&path, &bytes);
        assert!(matches!(parse(&source, &opts), Err(Error::Changed)));
    }

    #[test]
    fn a_large_input_grown_between_hash_and_parse_fails_as_changed() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut bytes, opts) = large_file(dir.path());
        let source = Source::load(&path, &opts).unwrap();
        bytes.extend_from_slice(&[0u8; 16]);
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(parse(&source, &opts), Err(Error::Changed)));
    }

    #[test]
    fn a_large_input_rewritten_before_its_values_are_copied_fails_the_write() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut bytes, opts) = large_file(dir.path());
        let file = dicom(parse(&Source::load(&path, &opts).unwrap(), &opts).unwrap());
        assert!(file.has_deferred());
        assert!(crate::write::to_vec(&file, Some(&path)).is_ok(), "unchanged: written");
        *bytes.last_mut().unwrap() = 8;
        rewrite_later(&path, &bytes);
        let err = crate::write::to_vec(&file, Some(&path)).unwrap_err();
        assert!(matches!(err, crate::write::Error::InputChanged), "{err:?}");
    }

    #[test]
    fn a_stamp_tells_a_replaced_file_from_the_one_it_was_taken_of() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        let stamp = Stamp::of(&std::fs::metadata(&path).unwrap());
        assert!(stamp.check(&File::open(&path).unwrap(), &path).is_ok());
        // Same size and time, another file (a copy renamed over it).
        let other = dir.path().join("g");
        std::fs::write(&other, b"abd").unwrap();
        File::options().write(true).open(&other).unwrap().set_modified(stamp.modified.unwrap()).unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert!(matches!(stamp.check(&File::open(&path).unwrap(), &path), Err(Error::Changed)));
    }

    #[test]
    fn reading_an_input_leaves_its_access_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.dcm");
        std::fs::write(&path, b"not dicom at all").unwrap();
        // An access time older than the modification time: relatime would update it on read.
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_times(std::fs::FileTimes::new().set_accessed(old))
            .unwrap();
        Source::load(&path, &ReadOptions::default()).unwrap();
        Source::load(&path, &ReadOptions { in_memory_limit: 0, defer_threshold: 1024 }).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().accessed().unwrap(), old);
    }

    /// A file of `n` bytes counting up from zero (mod 251), opened as a [`FileReader`].
    fn counting_file(dir: &Path, n: usize) -> FileReader {
        let path = dir.join("counting");
        std::fs::write(&path, (0..n).map(|i| (i % 251) as u8).collect::<Vec<u8>>()).unwrap();
        FileReader::new(File::open(&path).unwrap(), n as u64)
    }

    #[test]
    fn peeking_at_a_large_file_keeps_what_was_read_ahead() {
        // A peek comes before every top-level element of a file parsed from disk: stepping back
        // to an absolute position dropped the 256 KiB read ahead, so each element read it again.
        let dir = tempfile::tempdir().unwrap();
        let mut r = counting_file(dir.path(), 1 << 20);
        r.read_array::<8>("a header").unwrap();
        assert!(!r.next_is_zero(8).unwrap());
        assert_eq!(r.peek(4).unwrap(), vec![8, 9, 10, 11]);
        assert_eq!(r.position(), 8);
        assert_eq!(r.inner.buffer().len(), (256 << 10) - 8, "the read-ahead buffer was dropped");
        assert_eq!(r.read_array::<2>("a value").unwrap(), [8, 9]);
    }

    #[test]
    fn looking_for_trailing_zeros_consumes_nothing() {
        let bytes = [1u8, 0, 0, 0, 0, 0, 0, 0, 0, 7];
        let mut s = SliceReader::new(&bytes);
        assert!(!s.next_is_zero(8).unwrap());
        s.seek(1).unwrap();
        assert!(s.next_is_zero(8).unwrap());
        assert_eq!(s.position(), 1);
        s.seek(8).unwrap();
        assert!(!s.next_is_zero(8).unwrap(), "the 7 before the end");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zeros");
        std::fs::write(&path, bytes).unwrap();
        let mut f = FileReader::new(File::open(&path).unwrap(), bytes.len() as u64);
        f.seek(1).unwrap();
        assert!(f.next_is_zero(8).unwrap());
        assert_eq!(f.position(), 1);
        f.seek(9).unwrap();
        assert!(!f.next_is_zero(8).unwrap(), "fewer than 8 bytes left");
        assert_eq!(f.read_array::<1>("the last byte").unwrap(), [7]);
    }
}
