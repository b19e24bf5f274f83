//! `kamei clinical csv`: de-identify CSV exports (data warehouse extracts, lab results,
//! prescriptions, diagnoses) column by column, as COLUMNS.toml says.
//!
//! Streaming: one `csv::Reader` with a reused input `ByteRecord` and a reused output
//! `ByteRecord`, so memory does not grow with file size (the pseudonym cache is bounded).
//! Bytes stay bytes: a kept column of a UTF-8 input is copied byte for byte; text is decoded
//! only where a rule needs it (dates, IDs, free text) or where the output encoding differs
//! (Shift_JIS input, UTF-8 output).
//!
//! Encoding (`--encoding auto`): a UTF-8 byte order mark means UTF-8 (the mark is dropped);
//! otherwise the first record that holds a non-ASCII byte decides: valid UTF-8 → UTF-8, else
//! Shift_JIS as Windows writes it (CP932, `encoding_rs::SHIFT_JIS`, which includes the NEC and
//! IBM extensions such as ①, ㈱, 髙). Usually that record is the header with Japanese column
//! names. CSV parsing is safe on raw Shift_JIS bytes: no trail byte is `,`, `"`, CR or LF.
//!
//! A malformed row (a ragged row, an empty patient ID, bytes that are not valid in the file's
//! encoding) is reported with its line number and dropped; the run goes on. A value that does
//! not parse in its role (a date column holding `unknown`) is emptied and counted.

use super::columns::{Column, Columns, Role};
use super::values;
use super::{ClinicalOption, Committed, Interrupted, Problem, RecordParts, Reporter};
use crate::audit::{ActionCount, Outcome};
use crate::pseudo::{Patient, Pseudonymizer};
use crate::scrub::Identifiers;
use crate::text_dates::{self, DateTreatment, Which};
use encoding_rs::{EUC_JP, SHIFT_JIS};
use regex::Regex;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use unicode_normalization::UnicodeNormalization;

/// The input encoding, as given or detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Decide from a byte order mark or the first non-ASCII record.
    Auto,
    /// UTF-8 (a byte order mark is allowed and dropped).
    Utf8,
    /// Shift_JIS / CP932 (Windows-31J).
    ShiftJis,
    /// EUC-JP.
    EucJp,
}

impl Encoding {
    /// The name used in messages and the audit log.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Auto => "auto",
            Encoding::Utf8 => "utf-8",
            Encoding::ShiftJis => "shift_jis",
            Encoding::EucJp => "euc-jp",
        }
    }
}

/// Settings of one CSV de-identification.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Shift date columns (Retain Longitudinal Temporal Information Modified Dates); without it
    /// date columns are removed.
    pub retain_dates: bool,
    /// The input encoding.
    pub encoding: Encoding,
    /// The field delimiter (`,` by default; `\t` for TSV).
    pub delimiter: u8,
    /// Which patients may be released: rows of other patients are left out and counted.
    pub cohort: Option<std::sync::Arc<crate::cohort::Cohort>>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { retain_dates: false, encoding: Encoding::Auto, delimiter: b',', cohort: None }
    }
}

/// Why a whole file could not be de-identified (nothing is written for it).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading the input failed.
    Read(io::Error),
    /// Writing the output failed.
    Write(io::Error),
    /// The input has no header row.
    NoHeader,
    /// Header columns that COLUMNS.toml does not name.
    UnknownColumns {
        /// Their 1-based positions. Never their names: a file without a header has a
        /// patient's values in its first row, and no test tells every such row from a header.
        columns: Vec<usize>,
        /// How many cells of the first row COLUMNS.toml does name (none: probably no header).
        named: usize,
    },
    /// An opt-out register or cohort was given but no column has the patient-id role, so rows
    /// cannot be told apart by patient.
    CohortNeedsPatientId,
    /// The file name holds an identifier of a patient who is left out (opt-out or not in the cohort)
    /// while other patients' rows are released: no name can be given to the output.
    NameHoldsExcludedId,
    /// Another input of the run was already written under the output name this input gets.
    OutputNameTaken,
    /// The header is not valid in the file's encoding.
    HeaderEncoding,
    /// More than one column has the patient-id role.
    SeveralPatientIds,
    /// Dates or free text need the patient (to shift, or to know their identifiers) but no
    /// column has the patient-id role.
    NoPatientId {
        /// The 1-based position of a column that needs it.
        column: usize,
        /// Its role.
        role: &'static str,
    },
    /// The file is valid Shift_JIS and valid EUC-JP and nothing in it tells which it is.
    AmbiguousEncoding,
    /// A file of identifiers (`--identifiers-from`) has no column with the role patient-id,
    /// so its values cannot be given to anyone.
    SourceNeedsPatientId,
    /// A row of a file of identifiers (`--identifiers-from`) cannot be read (other than the
    /// header's number of fields, bytes not valid in its encoding, a quote never closed): the
    /// identifiers it holds are unknown, and every input's free text would be cleaned without
    /// them.
    SourceRow {
        /// The line the row starts on.
        line: u64,
        /// What is wrong with it (never a value).
        what: String,
    },
    /// A file of identifiers (`--identifiers-from`) is a CSV file but the command was given no
    /// `--columns` to tell its columns' roles.
    SourceNeedsColumns,
    /// An SS-MIX2 storage named by `--identifiers-from` holds an entry or a message that cannot
    /// be read (what, by the entry's place in sorted order; never a value or a path).
    SourceStorage(String),
    /// Ctrl-C.
    Interrupted,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Read(e) => write!(f, "could not read the input: {e}"),
            Error::Write(e) => write!(f, "could not write the output: {e}"),
            Error::NoHeader => write!(f, "the file is empty (the first row must be the header)"),
            Error::UnknownColumns { columns, named } => {
                let list: Vec<String> = columns.iter().map(usize::to_string).collect();
                write!(
                    f,
                    "{} {} not named in the columns file (give each a role; nothing leaves by default; \
                     header cells are not shown, a first row may be data)",
                    if columns.len() == 1 { "column" } else { "columns" },
                    list.join(", ")
                )?;
                if *named == 0 {
                    write!(f, "; no cell of the first row is named there: the first row must be the header")?;
                }
                Ok(())
            }
            Error::CohortNeedsPatientId => write!(
                f,
                "an opt-out register or cohort was given but no column has the role patient-id; give the ID column that role"
            ),
            Error::NameHoldsExcludedId => write!(
                f,
                "the file name holds an identifier of a patient who is left out; rename the input file (the output takes its name)"
            ),
            Error::OutputNameTaken => {
                write!(f, "another input of this run was written under the same output name; rename one of them")
            }
            Error::HeaderEncoding => write!(f, "the header row is not valid in the file's encoding; try --encoding"),
            Error::SeveralPatientIds => write!(f, "more than one column has the role patient-id"),
            Error::NoPatientId { column, role } => {
                write!(
                    f,
                    "column {column} ({role}) needs the patient (date shift, identifiers) but no column has the role patient-id"
                )
            }
            Error::AmbiguousEncoding => write!(
                f,
                "the file reads as Shift_JIS and as EUC-JP alike (no kana tells them apart); give --encoding shift_jis or --encoding euc-jp"
            ),
            Error::SourceNeedsPatientId => {
                write!(f, "no column has the role patient-id; give the ID column that role in the columns file")
            }
            Error::SourceRow { line, what } => write!(
                f,
                "line {line}: the row cannot be read ({what}), so the identifiers it holds are unknown; fix the file (a row that leaves out its empty last fields needs their delimiters)"
            ),
            Error::SourceNeedsColumns => {
                write!(
                    f,
                    "a CSV master needs --columns to tell the roles of its columns (a folder is read as an SS-MIX2 storage)"
                )
            }
            Error::SourceStorage(what) => write!(
                f,
                "SS-MIX2 storage: {what}, so the identifiers it holds are unknown; fix the storage or give another master"
            ),
            Error::Interrupted => write!(f, "interrupted"),
        }
    }
}

impl Error {
    /// The reason as recorded in the audit log, which is released with the data: like every
    /// message, it names columns by position only (a file without a header has a patient's
    /// values there).
    pub fn audit_reason(&self) -> String {
        self.to_string()
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    /// Errors of the output file itself (temporary file, rename).
    fn from(e: io::Error) -> Self {
        Error::Write(e)
    }
}

impl From<Interrupted> for Error {
    fn from(_: Interrupted) -> Self {
        Error::Interrupted
    }
}

/// What one column did, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnReport {
    /// The header name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Whether it is in the output.
    pub written: bool,
    /// Values replaced, shifted, generalised or cleaned.
    pub changed: u64,
    /// Values emptied because they did not parse in their role.
    pub emptied: u64,
}

/// The result of one file.
#[derive(Debug, Clone, Default)]
pub struct CsvReport {
    /// The encoding used.
    pub encoding: Option<Encoding>,
    /// Data rows read (the header not counted).
    pub rows_read: u64,
    /// Rows written.
    pub rows_written: u64,
    /// Rows dropped as malformed.
    pub rows_dropped: u64,
    /// Free-text values removed instead of cleaned, because a row of their patient could not
    /// be read ([`PatientValues::unread_row_of`]).
    pub free_text_withheld: u64,
    /// Rows left out because their patient opted out or is not in the cohort.
    pub rows_excluded: u64,
    /// The patients of those rows, by pseudonym (to count them; never written).
    pub excluded_patients: std::collections::HashSet<String>,
    /// Per-row problems (dropped rows) and value notes, in line order, at most
    /// [`MAX_PROBLEMS`] kept.
    pub problems: Vec<Problem>,
    /// Per column.
    pub columns: Vec<ColumnReport>,
    /// Name of the patient-id column, if any.
    pub patient_column: Option<String>,
    /// Names of the date columns written.
    pub date_columns: Vec<String>,
    /// Names of quasi-identifier columns written.
    pub quasi_columns: Vec<String>,
}

/// At most this many problems are kept per file (the counts are always complete).
pub const MAX_PROBLEMS: usize = 200;

/// Distinct patients remembered per file before the cache is cleared (bounds memory).
const PATIENT_CACHE: usize = 100_000;

/// A patient seen in a file (for the linkage table and the summary).
pub struct PatientSeen<'a> {
    /// The original ID, as written in the file (decoded).
    pub original: &'a str,
    /// Its pseudonym.
    pub pseudonym: &'a str,
    /// Whether the patient's rows are left out (opt-out, not in the cohort).
    pub excluded: bool,
}

/// The most one record (row) may hold, in bytes. A quote that is never closed makes the parser
/// read every later line into one field; past this bound the record is cut, dropped with its
/// line, and the rest of the file is not read as rows (memory stays bounded whatever the size).
pub const MAX_RECORD_BYTES: u64 = 4 << 20;

/// A reader that drops a leading UTF-8 byte order mark, hashes what it reads and counts the
/// quote characters (an odd count at the end means a quoted field was never closed). It ends
/// the parser's input early (`cut`) when one record would hold more than [`MAX_RECORD_BYTES`].
struct Input<R> {
    inner: R,
    start: Vec<u8>,
    at: usize,
    hasher: sha2::Sha256,
    bytes: u64,
    quotes: u64,
    /// Bytes handed to the parser since it last returned a record.
    since_record: u64,
    /// The parser was given the end of input because a record grew over the bound.
    cut: bool,
    /// Whether `cut` applies to reads (cleared to read the rest for the digest).
    bounded: bool,
    /// Bytes handed to the parser (after the byte order mark): the offsets of its positions.
    handed: u64,
    /// The line breaks (CR or LF; `true` for LF) handed to the parser, by offset, from the
    /// start of the record last asked about ([`Input::line_of`]): at most what it read ahead.
    breaks: VecDeque<(u64, bool)>,
    /// A file starting with a UTF-16 byte order mark (Excel's "Unicode text"): read through
    /// this decoder, so the parser sees UTF-8.
    utf16: Option<Utf16>,
}

/// The decoding of an input the parser reads as UTF-8: UTF-16 (a byte order mark), or
/// Shift_JIS split on a delimiter that can be a Shift_JIS trail byte ([`transcoded_before_split`]).
/// The decoder and the UTF-8 it gave that is not handed yet.
struct Utf16 {
    decoder: encoding_rs::Decoder,
    out: Vec<u8>,
    at: usize,
    done: bool,
    /// Bytes not valid in the encoding become U+FFFD (which no Shift_JIS text holds: a cell
    /// holding it is not valid, [`decode_cell`]) instead of failing the file.
    replace_malformed: bool,
}

impl Utf16 {
    /// Decode the next raw bytes (`last`: the end of the file) into `out`.
    fn decode(&mut self, raw: &[u8], last: bool) -> io::Result<()> {
        self.out.clear();
        self.at = 0;
        let mut raw = raw;
        loop {
            let room = self.decoder.max_utf8_buffer_length_without_replacement(raw.len()).unwrap_or(raw.len() * 3 + 16);
            let start = self.out.len();
            self.out.resize(start + room + 4, 0);
            let (result, read, written) =
                self.decoder.decode_to_utf8_without_replacement(raw, &mut self.out[start..], last);
            self.out.truncate(start + written);
            raw = &raw[read..];
            match result {
                encoding_rs::DecoderResult::Malformed(..) if self.replace_malformed => {
                    self.out.extend_from_slice(REPLACEMENT.as_bytes());
                }
                encoding_rs::DecoderResult::Malformed(..) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the file starts with a UTF-16 byte order mark but is not valid UTF-16",
                    ));
                }
                encoding_rs::DecoderResult::OutputFull => {}
                encoding_rs::DecoderResult::InputEmpty => break,
            }
        }
        self.done = last;
        Ok(())
    }
}

/// What a byte not valid in a transcoded input becomes ([`Utf16::replace_malformed`]).
const REPLACEMENT: &str = "\u{FFFD}";

/// The encoding an input in `encoding` is decoded from before it is split on `delimiter`, or
/// `None` when its raw bytes can be split: a Shift_JIS character's trail byte runs 0x40–0x7E
/// (and 0x80–0xFC), so `|` (`ポ` 0x837C, `−` 0x817C), `\`, `^`, `~`, `@` may be the second half
/// of a character, never `,`, tab, `;`, `"`, CR or LF. EUC-JP bytes of a character are never
/// ASCII.
fn transcoded_before_split(encoding: Encoding, delimiter: u8) -> Option<&'static encoding_rs::Encoding> {
    (encoding == Encoding::ShiftJis && (0x40..=0x7E).contains(&delimiter)).then_some(SHIFT_JIS)
}

/// Decode a cell: as [`decode`] does, and for an input decoded before it was split
/// (`transcoded`), a cell holding a byte that was not valid ([`REPLACEMENT`]) is not valid.
fn decode_cell(encoding: Encoding, transcoded: bool, bytes: &[u8]) -> Option<Cow<'_, str>> {
    if transcoded && bytes.windows(REPLACEMENT.len()).any(|w| w == REPLACEMENT.as_bytes()) {
        return None;
    }
    decode(encoding, bytes)
}

impl<R: Read> Input<R> {
    /// Open `inner`: a UTF-8 byte order mark is dropped, a UTF-16 one makes the input decoded
    /// to UTF-8, and so does `transcode` (an encoding whose bytes cannot be split as they
    /// stand). With whether the parser reads UTF-8 because of a byte order mark.
    fn new(mut inner: R, transcode: Option<&'static encoding_rs::Encoding>) -> io::Result<(Input<R>, bool)> {
        let mut start = Vec::with_capacity(3);
        let mut buf = [0u8; 3];
        while start.len() < 3 {
            let n = inner.read(&mut buf[..3 - start.len()])?;
            if n == 0 {
                break;
            }
            start.extend_from_slice(&buf[..n]);
        }
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        hasher.update(&start);
        let bytes = start.len() as u64;
        let bom = start == [0xEF, 0xBB, 0xBF];
        if bom {
            start.clear();
        }
        let utf16 = match start.get(..2) {
            Some([0xFF, 0xFE]) => Some(encoding_rs::UTF_16LE),
            Some([0xFE, 0xFF]) => Some(encoding_rs::UTF_16BE),
            _ => None,
        };
        let utf16 = match (utf16, transcode) {
            (Some(enc), _) => {
                let mut u = Utf16 {
                    decoder: enc.new_decoder_without_bom_handling(),
                    out: Vec::new(),
                    at: 0,
                    done: false,
                    replace_malformed: false,
                };
                u.decode(&start[2..], false)?;
                start = std::mem::take(&mut u.out);
                Some(u)
            }
            (None, Some(enc)) if !bom => {
                let mut u = Utf16 {
                    decoder: enc.new_decoder_without_bom_handling(),
                    out: Vec::new(),
                    at: 0,
                    done: false,
                    replace_malformed: true,
                };
                u.decode(&start, false)?;
                start = std::mem::take(&mut u.out);
                Some(u)
            }
            (None, _) => None,
        };
        let bom = bom || utf16.as_ref().is_some_and(|u| !u.replace_malformed);
        let quotes = start.iter().filter(|&&b| b == b'"').count() as u64;
        let input = Input {
            inner,
            start,
            at: 0,
            hasher,
            bytes,
            quotes,
            since_record: 0,
            cut: false,
            bounded: true,
            handed: 0,
            breaks: VecDeque::new(),
            utf16,
        };
        Ok((input, bom))
    }

    /// Note the line breaks of bytes about to be handed to the parser.
    fn hand(&mut self, bytes: &[u8]) {
        if self.bounded {
            let at = self.handed;
            let breaks = bytes.iter().enumerate().filter(|(_, b)| matches!(b, b'\r' | b'\n'));
            self.breaks.extend(breaks.map(|(i, &b)| (at + i as u64, b == b'\n')));
        }
        self.handed += bytes.len() as u64;
    }

    /// The line a record starts on, from its position: the parser counts an LF only when it
    /// reads it, and a record's position is where the one before it ended, so the LF of a CRLF
    /// ending the record before, and the blank lines the parser skips, stand between the
    /// position and the record. Their LFs are added (a CRLF file gives the lines of its LF
    /// twin). Line breaks before the position are forgotten.
    fn line_of(&mut self, position: &csv::Position) -> u64 {
        let mut at = position.byte();
        while self.breaks.front().is_some_and(|&(offset, _)| offset < at) {
            self.breaks.pop_front();
        }
        let mut line = position.line();
        while let Some(&(offset, lf)) = self.breaks.front().filter(|(offset, _)| *offset == at) {
            line += u64::from(lf);
            at = offset + 1;
            self.breaks.pop_front();
        }
        line
    }
}

impl<R: Read> Input<R> {
    /// [`Read::read`] for a UTF-16 input: raw bytes are hashed and counted as read, the UTF-8
    /// they decode to is handed to the parser.
    fn read_utf16(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(u) = self.utf16.as_mut() else { return Ok(0) };
            if u.at < u.out.len() {
                let n = (u.out.len() - u.at).min(buf.len());
                buf[..n].copy_from_slice(&u.out[u.at..u.at + n]);
                u.at += n;
                self.quotes += buf[..n].iter().filter(|&&b| b == b'"').count() as u64;
                self.hand(&buf[..n]);
                return Ok(n);
            }
            if u.done {
                return Ok(0);
            }
            let mut raw = vec![0u8; buf.len().max(2)];
            let n = self.inner.read(&mut raw)?;
            self.since_record += n as u64;
            use sha2::Digest;
            self.hasher.update(&raw[..n]);
            self.bytes += n as u64;
            if let Some(u) = self.utf16.as_mut() {
                u.decode(&raw[..n], n == 0)?;
            }
        }
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.start.len() {
            let n = (self.start.len() - self.at).min(buf.len());
            buf[..n].copy_from_slice(&self.start[self.at..self.at + n]);
            self.at += n;
            self.hand(&buf[..n]);
            return Ok(n);
        }
        if self.bounded && (self.cut || self.since_record > MAX_RECORD_BYTES) {
            self.cut = true;
            return Ok(0);
        }
        if self.utf16.is_some() {
            return self.read_utf16(buf);
        }
        let n = self.inner.read(buf)?;
        self.since_record += n as u64;
        use sha2::Digest;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        self.quotes += buf[..n].iter().filter(|&&b| b == b'"').count() as u64;
        self.hand(&buf[..n]);
        Ok(n)
    }
}

/// The input's SHA-256 and size, known once it has been read to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDigest {
    /// Lower-case hex SHA-256 of the input bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

fn decode(encoding: Encoding, bytes: &[u8]) -> Option<Cow<'_, str>> {
    match encoding {
        Encoding::ShiftJis => SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes),
        Encoding::EucJp => EUC_JP.decode_without_bom_handling_and_without_replacement(bytes),
        _ => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
    }
}

/// Decide Auto from one record: valid UTF-8 → UTF-8, else valid Shift_JIS → Shift_JIS, else
/// valid EUC-JP → EUC-JP; `None` while it is ASCII, or when it is valid in none (one stray
/// byte, such as a Latin-1 `é`, then costs its own row, not the whole file: a later record
/// decides). [`run`] decides from the whole file first ([`detect_encoding`]); this serves a
/// stream read once.
fn sniff(record: &csv::ByteRecord) -> Option<Encoding> {
    let all = record.as_slice();
    if all.is_ascii() {
        return None;
    }
    if std::str::from_utf8(all).is_ok() {
        Some(Encoding::Utf8)
    } else if SHIFT_JIS.decode_without_bom_handling_and_without_replacement(all).is_some() {
        Some(Encoding::ShiftJis)
    } else if EUC_JP.decode_without_bom_handling_and_without_replacement(all).is_some() {
        Some(Encoding::EucJp)
    } else {
        None
    }
}

/// One candidate encoding of [`detect_encoding`]: its streaming decoder, the malformed
/// sequences met, and the kana decoded (hiragana and full-width katakana, which Japanese text
/// is full of; EUC-JP bytes read as Shift_JIS give half-width katakana and kanji, never these).
struct Candidate {
    decoder: encoding_rs::Decoder,
    errors: u64,
    kana: u64,
    text: String,
}

impl Candidate {
    fn new(encoding: &'static encoding_rs::Encoding) -> Candidate {
        Candidate {
            decoder: encoding.new_decoder_without_bom_handling(),
            errors: 0,
            kana: 0,
            text: String::with_capacity(1 << 18),
        }
    }

    /// Decode the next bytes of the file (`last`: the end of it).
    fn feed(&mut self, mut bytes: &[u8], last: bool) {
        loop {
            self.text.clear();
            let (result, read) = self.decoder.decode_to_string_without_replacement(bytes, &mut self.text, last);
            self.kana +=
                self.text.chars().filter(|c| matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}')).count()
                    as u64;
            bytes = &bytes[read..];
            match result {
                encoding_rs::DecoderResult::InputEmpty => return,
                encoding_rs::DecoderResult::OutputFull => {}
                encoding_rs::DecoderResult::Malformed(..) => self.errors += 1,
            }
        }
    }
}

/// Decide the encoding of a whole file for `--encoding auto`: UTF-8 when it starts with a byte
/// order mark, is ASCII or is valid UTF-8; else Shift_JIS or EUC-JP, whichever the whole file
/// is valid in. Both are valid more often than one would think (EUC-JP's bytes are half-width
/// katakana and kanji in Shift_JIS): then the one that reads as more kana wins, and a tie
/// (a file of kanji names only, say) is [`Error::AmbiguousEncoding`], never a guess. Valid in
/// none: the one with the fewest malformed sequences (UTF-8, then Shift_JIS on a tie), whose
/// invalid rows are then dropped and counted.
///
/// # Errors
/// [`Error::Read`], [`Error::AmbiguousEncoding`].
pub fn detect_encoding<R: Read>(mut input: R) -> Result<Encoding, Error> {
    let mut utf8 = Candidate::new(encoding_rs::UTF_8);
    let mut sjis = Candidate::new(SHIFT_JIS);
    let mut euc = Candidate::new(EUC_JP);
    let mut buf = vec![0u8; 1 << 16];
    let mut first = true;
    let mut ascii = true;
    loop {
        let n = match input.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Read(e)),
        };
        // A byte order mark decides: UTF-8, or UTF-16, which the reader turns into UTF-8.
        if first && [&[0xEF, 0xBB, 0xBF][..], &[0xFF, 0xFE], &[0xFE, 0xFF]].iter().any(|m| buf[..n].starts_with(m)) {
            return Ok(Encoding::Utf8);
        }
        first = false;
        ascii &= buf[..n].is_ascii();
        for c in [&mut utf8, &mut sjis, &mut euc] {
            c.feed(&buf[..n], n == 0);
        }
        if n == 0 {
            break;
        }
    }
    if ascii || utf8.errors <= sjis.errors.min(euc.errors) {
        return Ok(Encoding::Utf8);
    }
    Ok(match (sjis.errors, euc.errors) {
        (0, 0) if sjis.kana > euc.kana => Encoding::ShiftJis,
        (0, 0) if euc.kana > sjis.kana => Encoding::EucJp,
        (0, 0) => return Err(Error::AmbiguousEncoding),
        (s, e) if e < s => Encoding::EucJp,
        _ => Encoding::ShiftJis,
    })
}

/// How many lines inside the record's quoted fields hold as many delimiters as a whole row
/// (`width - 1`): rows swallowed by a quote that was not closed. `None` when there are none.
fn swallowed_rows(record: &csv::ByteRecord, delimiter: u8, width: usize) -> Option<usize> {
    if width < 2 {
        return None;
    }
    let rows: usize = record
        .iter()
        .filter(|f| f.contains(&b'\n'))
        .map(|f| {
            f.split(|&b| b == b'\n')
                .skip(1)
                .filter(|l| l.iter().filter(|&&b| b == delimiter).count() >= width - 1)
                .count()
        })
        .sum();
    (rows > 0).then_some(rows)
}

/// The lines after the first of a record that read as rows of their own (as many delimiters as
/// a whole row, `width - 1`, counting the ones between the record's fields), as offsets from
/// the record's first line: rows of other patients a quote left open read into this record.
/// When the record is dropped, each is reported and counted as a dropped row: the operator is
/// told of every row lost, not only of the one the record started on.
fn row_like_lines(record: &csv::ByteRecord, delimiter: u8, width: usize) -> Vec<u64> {
    let mut lines = Vec::new();
    if width < 2 {
        return lines;
    }
    let (mut offset, mut delimiters) = (0u64, 0usize);
    for (k, field) in record.iter().enumerate() {
        if k > 0 {
            delimiters += 1;
        }
        for &b in field {
            if b == b'\n' {
                if offset > 0 && delimiters >= width - 1 {
                    lines.push(offset);
                }
                offset += 1;
                delimiters = 0;
            } else if b == delimiter {
                delimiters += 1;
            }
        }
    }
    if offset > 0 && delimiters >= width - 1 {
        lines.push(offset);
    }
    lines
}

/// What [`deidentify`] tells its caller while it reads rows.
pub trait RowObserver {
    /// A patient first seen (in a bounded window).
    fn patient(&mut self, seen: PatientSeen<'_>);

    /// Whether [`RowObserver::identifiers`] is wanted (building them costs time).
    fn wants_identifiers(&self) -> bool {
        false
    }

    /// The identifiers a row gives (its patient ID in the spellings people
    /// type, `name`, `identifier` and `postal-code` values, birth date in its spellings), once
    /// for each distinct set of those values (in a bounded window), with the row's pseudonym
    /// (`None` without a patient-id column) and whether its rows are left out.
    fn identifiers(&mut self, _ids: &Identifiers, _pseudonym: Option<&str>, _excluded: bool) {}

    /// Whether the birth date `da` (`YYYYMMDD`) could be among what [`RowObserver::identifiers`]
    /// looks for; `false` leaves its spellings out of the identifiers given (they are the costly
    /// part to build).
    fn may_hold_date(&self, _da: &str) -> bool {
        true
    }

    /// Whether the `name` value `name` could be among what [`RowObserver::identifiers`] looks
    /// for; `false` leaves it out of the identifiers given.
    fn may_hold_name(&self, _name: &str) -> bool {
        true
    }
}

impl<F: FnMut(PatientSeen<'_>)> RowObserver for F {
    fn patient(&mut self, seen: PatientSeen<'_>) {
        self(seen)
    }
}

/// The output name of one input file. Per-patient exports are named after the patient
/// (`YAMADA_TARO_19850315_labs.csv`, `佐藤花子_検査.csv`, `labs_1234567.csv`): every identifier
/// a row of the file gives that stands in the name is replaced by that row's pseudonym (one
/// pseudonym for a run of one patient's identifiers with only separators between them), and
/// the name then ends in a keyed tag of the input name (`<pseudonym>_labs_<tag>.csv`), so two
/// inputs never share an output name and a re-run with the same key gives the same name.
///
/// Per-visit exports are named after a date (`labs_20240201.csv`): a real date in the name
/// beside the shifted dates inside gives the patient's offset away, so every date of the name
/// (in the spellings [`crate::text_dates`] reads) follows the file's dates
/// ([`OutputName::date_treatment`]): shifted by the offset of the file's one patient, kept with
/// full dates, else replaced by [`DATE_NAME_TOKEN`]; the tag is then added too. A name that
/// holds no identifier and no date keeps its name.
struct OutputName {
    /// The input name without its extension, as characters.
    stem: Vec<char>,
    /// `.csv` (empty when the name has none).
    extension: String,
    /// The keyed tag of the input name (8 hex digits).
    tag: String,
    /// For each character of the stem, the patient (index into `owners`) whose identifier
    /// covers it.
    owner: Vec<Option<usize>>,
    /// The patients whose identifiers stand in the name: pseudonym (`None` without a
    /// patient-id column), and whether they are left out.
    owners: Vec<(Option<String>, bool)>,
    /// The runs of digits in the stem (compatibility-normalised), `|` between them.
    digits: String,
    /// The stem as [`fold`] compares it.
    folded: String,
    /// Whose rows are written: a date in the name is shifted only by the offset of a file's
    /// one patient.
    rows_of: RowsOf,
}

/// The patients of the rows a file writes, as far as a date in its name cares.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RowsOf {
    /// No row of a patient (no patient-id column, or no row written).
    Nobody,
    /// One patient: their original ID (to derive the offset; never written) and pseudonym.
    One { original: String, pseudonym: String },
    /// Rows of several patients: no one offset fits the name.
    Several,
}

/// What stands in place of a date of a file name that is not shifted (dates removed, or rows
/// of several patients or of none): no date, and the keyed tag keeps names apart.
const DATE_NAME_TOKEN: &str = "date";

/// Text as names are compared in a file name: compatibility-decomposed (as
/// [`Identifiers`] compares), variant kanji as their representative ([`crate::itaiji`]), case
/// folded as [`Identifiers`] folds it ([`crate::case_fold`]: `ΝΙΚΟΣ` and `νικος` alike), katakana
/// as hiragana.
fn fold(text: &str) -> String {
    text.nfkd()
        .map(crate::scrub::same_letter)
        .map(crate::case_fold::fold)
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// What stands in place of an identifier of a row without a patient-id column.
const NEUTRAL_NAME_TOKEN: &str = "patient";

/// Characters that join the parts of a file name.
fn name_separator(c: char) -> bool {
    matches!(c, '_' | '-' | ' ' | '.' | '\u{3000}' | '・')
}

/// A year and month in a file name (`labs_2024-02`, `labs_202402`, `2024.02`, `2024年2月`): a
/// per-month export names the month of care, which beside shifted rows bounds the offset.
static YEAR_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:19|20)\d{2})(?:([-./ _]?)(0[1-9]|1[0-2])|年(0?[1-9]|1[0-2])月)").expect("valid built-in pattern")
});

/// A date written with `_` between its numbers (`labs_2024_02_01`, `rx_2024_2_1`), as export
/// jobs name per-visit files.
static UNDERSCORE_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:19|20)\d{2})_(\d{1,2})_(\d{1,2})").expect("valid built-in pattern"));

/// A month in English before or after its year (`Feb2024`, `February_2024`, `2024-FEB`): two
/// patterns, so that a word before a year (`img_2024`) does not hide a month after it.
static ENGLISH_MONTH: LazyLock<[Regex; 2]> = LazyLock::new(|| {
    [r"(?i)([a-z]{3,9})([-./ _]?)((?:19|20)\d{2})", r"(?i)((?:19|20)\d{2})([-./ _]?)([a-z]{3,9})"]
        .map(|re| Regex::new(re).expect("valid built-in pattern"))
});

/// A Japanese era date or year-month written with the era's letter, in the shapes a file name
/// takes that [`text_dates`] does not read: the compact `R060201` (era year, month, day in two
/// digits each) and the year-month `H31.04`, `R6-2`.
static ERA_IN_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[MTSHRmtshr](?:(\d{2})(\d{2})(\d{2})|\.?(\d{1,2}|元)[-./](\d{1,2}))").expect("valid built-in pattern")
});

/// Six digits in a file name (`labs_240401`, `labs_240401_1234`): export jobs in Japan name
/// per-visit files by the date as `YYMMDD` ([`six_digit_date`] decides whether they are one).
static SIX_DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d{6}").expect("valid built-in pattern"));

/// What six digits of a file name that stand alone are, read as a date in every order people
/// write one with a two-digit year ([`text_dates::six_digit_readings`], as in text): `None`
/// when no order makes a date (`123456`, an order number); `Some(Some(date))` when `YYMMDD` is
/// the only date they make (`851203`), the date it can be shifted as; and `Some(None)` when
/// two orders or more make two dates (`240401` is 1 April 2024 or 24 April 2001; `010424` 24
/// April 2001 or 1 April 2024), or only another order does: a date all the same, which cannot
/// be shifted safely. Shifted in the wrong order it would keep the real day and month where
/// the other order reads them (`010424` read as 2001-04-24 and moved ten days back is
/// `010414`, still 1 April), so it is replaced.
fn six_digit_date(run: &str) -> Option<Option<chrono::NaiveDate>> {
    let readings = text_dates::six_digit_readings(run.get(0..2)?, run.get(2..4)?, run.get(4..6)?);
    match readings.as_slice() {
        [] => None,
        [(date, true)] => Some(Some(*date)),
        _ => Some(None),
    }
}

/// Whether six digits at `start` of `stem` are the time written after a date
/// (`20240401_093000`, `2024-04-01-093000`): hours, minutes and seconds after eight digits of a
/// date and one separator, which the date before them says.
fn time_after_date(stem: &str, start: usize, run: &str) -> bool {
    let n = |i: usize| run.get(i..i + 2).and_then(|d| d.parse::<u32>().ok()).unwrap_or(99);
    let time = n(0) <= 23 && n(2) <= 59 && n(4) <= 59;
    let before = stem[..start].strip_suffix(['_', '-', 'T', ' ']).unwrap_or("");
    let date = before.bytes().rev().take_while(u8::is_ascii_digit).count() == 8
        || before.len() >= 10 && before.is_char_boundary(before.len() - 10) && {
            let d = &before[before.len() - 10..];
            d.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() })
        };
    time && date
}

/// The month (1–12) an English month word names: its full name or a beginning of it of three
/// letters or more (`Feb`, `Sept`).
fn english_month(word: &str) -> Option<u32> {
    let w = word.to_ascii_lowercase();
    crate::text_dates::MONTH_NAMES.iter().position(|m| w.len() >= 3 && m.starts_with(&w)).map(|i| i as u32 + 1)
}

/// The English name of `month` as `written` (a month word of a file name) was written: full or
/// in three letters, in its case (`FEB`, `Feb`, `feb`).
fn english_month_like(written: &str, month: u32) -> String {
    let full = crate::text_dates::MONTH_NAMES[(month - 1) as usize];
    let word = if written.len() < full.len() { &full[..3] } else { full };
    if written.chars().all(|c| c.is_ascii_uppercase()) {
        word.to_ascii_uppercase()
    } else if written.starts_with(|c: char| c.is_ascii_uppercase()) {
        word[..1].to_ascii_uppercase() + &word[1..]
    } else {
        word.to_string()
    }
}

/// The dates of a file name's stem (`_` as written) in the spellings of file names that
/// [`text_dates`] does not read, standing alone (no letter or digit glued before, no digit
/// after): `2024_02_01` (shifted in its spelling, or replaced), `Feb2024` (a year-month,
/// shifted as the month of its 15th day), the era dates `R060201`, `H31.04` (replaced: an
/// era date is not shifted in its spelling), and six digits that make a date with a
/// two-digit year (`240401`: shifted when `YYMMDD` is the only order that reads as a date,
/// otherwise replaced; [`six_digit_date`]), here also glued after letters (`labs240401`).
fn name_dates(stem: &str, how: DateTreatment) -> Vec<text_dates::Span> {
    let bytes = stem.as_bytes();
    let glued_before = |i: usize, letters: bool| {
        i > 0 && (bytes[i - 1].is_ascii_digit() || (letters && bytes[i - 1].is_ascii_alphabetic()))
    };
    let digit_after = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let shifted = |d: Option<chrono::NaiveDate>, write: &dyn Fn(chrono::NaiveDate) -> String| match (how, d) {
        (DateTreatment::Shift(days), Some(d)) => {
            crate::dates::shift(d, days).map(write).unwrap_or_else(|| crate::scrub::REDACTED.to_string())
        }
        _ => crate::scrub::REDACTED.to_string(),
    };
    let mut out = Vec::new();
    for c in UNDERSCORE_DATE.captures_iter(stem) {
        let whole = c.get(0).expect("group 0");
        if glued_before(whole.start(), false) || digit_after(whole.end()) {
            continue;
        }
        let n = |i: usize| c[i].parse::<u32>().unwrap_or(0);
        let Some(date) = chrono::NaiveDate::from_ymd_opt(n(1) as i32, n(2), n(3)) else { continue };
        let width = |i: usize| c[i].len();
        let replacement = shifted(Some(date), &|d| {
            use chrono::Datelike;
            format!("{:04}_{:0w2$}_{:0w3$}", d.year(), d.month(), d.day(), w2 = width(2), w3 = width(3))
        });
        out.push(text_dates::Span { start: whole.start(), end: whole.end(), replacement });
    }
    for (month_first, c) in
        ENGLISH_MONTH.iter().enumerate().flat_map(|(i, re)| re.captures_iter(stem).map(move |c| (i == 0, c)))
    {
        let whole = c.get(0).expect("group 0");
        let (word, sep, year) = if month_first { (&c[1], &c[2], &c[3]) } else { (&c[3], &c[2], &c[1]) };
        if glued_before(whole.start(), true)
            || digit_after(whole.end())
            || bytes.get(whole.end()).is_some_and(u8::is_ascii_alphabetic)
        {
            continue;
        }
        let Some(month) = english_month(word) else { continue };
        let day15 = chrono::NaiveDate::from_ymd_opt(year.parse().unwrap_or(0), month, 15);
        let replacement = shifted(day15, &|d| {
            use chrono::Datelike;
            let m = english_month_like(word, d.month());
            if month_first { format!("{m}{sep}{:04}", d.year()) } else { format!("{:04}{sep}{m}", d.year()) }
        });
        out.push(text_dates::Span { start: whole.start(), end: whole.end(), replacement });
    }
    for m in SIX_DIGITS.find_iter(stem) {
        if glued_before(m.start(), false) || digit_after(m.end()) || time_after_date(stem, m.start(), m.as_str()) {
            continue;
        }
        let Some(date) = six_digit_date(m.as_str()) else { continue };
        let replacement = shifted(date, &|d| {
            use chrono::Datelike;
            format!("{:02}{:02}{:02}", d.year().rem_euclid(100), d.month(), d.day())
        });
        out.push(text_dates::Span { start: m.start(), end: m.end(), replacement });
    }
    for c in ERA_IN_NAME.captures_iter(stem) {
        let whole = c.get(0).expect("group 0");
        if glued_before(whole.start(), true) || digit_after(whole.end()) {
            continue;
        }
        let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let valid = match (n(2), n(3), n(5)) {
            (Some(month), Some(day), _) => (1..=12).contains(&month) && (1..=31).contains(&day),
            (_, _, Some(month)) => (1..=12).contains(&month),
            _ => false,
        };
        if valid {
            out.push(text_dates::Span {
                start: whole.start(),
                end: whole.end(),
                replacement: crate::scrub::REDACTED.to_string(),
            });
        }
    }
    out
}

/// Where the end of a date range written after a date of a file name ends (a character index
/// of `stem`), when one follows the date ending at `at`: `20240201-0205`, `2024-02-01_02-05`,
/// `20240201-05`, `2024-02-01～02-05` — a month and day or a day, without its year, so not
/// shifted in its spelling: it is replaced.
fn range_end(stem: &[char], at: usize) -> Option<usize> {
    let &sep = stem.get(at)?;
    if !matches!(sep, '-' | '_' | '~' | '〜' | '～') {
        return None;
    }
    let run = |from: usize| stem[from.min(stem.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
    let number = |from: usize, len: usize| stem[from..from + len].iter().collect::<String>().parse::<u32>().ok();
    let month_day = |m: Option<u32>, d: Option<u32>| {
        m.is_some_and(|m| (1..=12).contains(&m)) && d.is_some_and(|d| (1..=31).contains(&d))
    };
    let first = run(at + 1);
    let after = at + 1 + first;
    if first == 4 && month_day(number(at + 1, 2), number(at + 3, 2)) {
        return Some(after);
    }
    if !(1..=2).contains(&first) {
        return None;
    }
    if stem.get(after).is_some_and(|c| matches!(c, '-' | '.' | '/')) {
        let second = run(after + 1);
        let valid = (1..=2).contains(&second) && month_day(number(at + 1, first), number(after + 1, second));
        return valid.then_some(after + 1 + second);
    }
    let day = number(at + 1, first).is_some_and(|d| (1..=31).contains(&d));
    (sep != '_' && day).then_some(after)
}

/// The year-months of a file name's stem (`_` as written) that stand alone (no
/// digit just before or after), as spans of [`text_dates::spans`]: shifted with the file's
/// dates by the offset (the month of the 15th day moved by it: `2024-02` shifted by -120 days
/// is `2023-10`), written as they were (`-`, `.`, ` `, `_`, none, `年…月`), or replaced.
fn year_months(stem: &str, how: DateTreatment) -> Vec<text_dates::Span> {
    let digit_at = |i: usize| stem.as_bytes().get(i).is_some_and(u8::is_ascii_digit);
    let mut out = Vec::new();
    for c in YEAR_MONTH.captures_iter(stem) {
        let whole = c.get(0).expect("group 0");
        if (whole.start() > 0 && digit_at(whole.start() - 1)) || digit_at(whole.end()) {
            continue;
        }
        let year: i32 = c[1].parse().unwrap_or(0);
        let kanji = c.get(4).is_some();
        let month: u32 = c.get(3).or(c.get(4)).and_then(|m| m.as_str().parse().ok()).unwrap_or(0);
        let replacement = match how {
            DateTreatment::Shift(days) => chrono::NaiveDate::from_ymd_opt(year, month, 15)
                .and_then(|d| crate::dates::shift(d, days))
                .map(|d| {
                    use chrono::Datelike;
                    if kanji {
                        format!("{}年{}月", d.year(), d.month())
                    } else {
                        let sep = c.get(2).map_or("", |m| m.as_str());
                        format!("{:04}{sep}{:02}", d.year(), d.month())
                    }
                })
                .unwrap_or_else(|| crate::scrub::REDACTED.to_string()),
            _ => crate::scrub::REDACTED.to_string(),
        };
        out.push(text_dates::Span { start: whole.start(), end: whole.end(), replacement });
    }
    out
}

/// The output name of an input whose name reads neither as UTF-8 nor as Shift_JIS: nothing of
/// it is kept (its bytes could still spell an ID, as CP932 trail bytes do), and the keyed tag
/// makes it unique. An [`OutputName`] of this name always carries its tag.
const UNREADABLE_NAME: &str = "unreadable-name.csv";

impl OutputName {
    fn new(name: &str, tag: String) -> OutputName {
        let (stem, extension) = match name.rsplit_once('.') {
            Some((stem, ext))
                if !stem.is_empty()
                    && !ext.is_empty()
                    && ext.len() <= 8
                    && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                (stem, format!(".{ext}"))
            }
            _ => (name, String::new()),
        };
        let digits = stem.nfkc().map(|c| if c.is_ascii_digit() || c == '元' { c } else { '|' }).collect::<String>();
        let stem: Vec<char> = stem.chars().collect();
        let folded = fold(&stem.iter().collect::<String>());
        OutputName {
            owner: vec![None; stem.len()],
            stem,
            extension,
            tag,
            owners: Vec::new(),
            digits,
            folded,
            rows_of: RowsOf::Nobody,
        }
    }

    /// Note a patient whose rows are written (left-out patients are not).
    fn released(&mut self, original: &str, pseudonym: &str) {
        self.rows_of = match std::mem::replace(&mut self.rows_of, RowsOf::Nobody) {
            RowsOf::Nobody => RowsOf::One { original: original.to_string(), pseudonym: pseudonym.to_string() },
            RowsOf::One { original, pseudonym: p } if p == pseudonym => RowsOf::One { original, pseudonym: p },
            _ => RowsOf::Several,
        };
    }

    /// How the dates of the name are treated, following the file's dates: with `retain_dates`
    /// shifted by the offset of the file's one patient; otherwise, and for a file of several
    /// patients (whose offset would be a guess; any one of them beside the others' rows is no
    /// better) or of none, replaced.
    fn date_treatment(&self, retain_dates: bool, pseudo: &Pseudonymizer) -> DateTreatment {
        match &self.rows_of {
            RowsOf::One { original, .. } if retain_dates => {
                DateTreatment::Shift(pseudo.date_shift_days(Patient::Id(original)))
            }
            _ => DateTreatment::Replace,
        }
    }

    /// For each character of the stem, the date (index into the list returned beside it) that
    /// covers it, and what replaces each date. A date is read where `_` or letters glue it to
    /// the rest of the name (`labs_20240201`, `labs20240201`), never inside a longer number. A
    /// date partly covered by an identifier is replaced, not shifted.
    fn dates(&self, how: DateTreatment) -> (Vec<Option<usize>>, Vec<String>) {
        let mut at = vec![None; self.stem.len()];
        let mut replacements = Vec::new();
        if how == DateTreatment::Keep || !self.digits.bytes().any(|b| b.is_ascii_digit()) {
            return (at, replacements);
        }
        // `_` joins the parts of a name as a space does; text_dates reads it as part of a word.
        // Both texts keep every character's byte length, so offsets agree with the stem's.
        let spaced: String = self.stem.iter().map(|&c| if c == '_' { ' ' } else { c }).collect();
        let bare: String =
            self.stem.iter().map(|&c| if c == '_' || c.is_ascii_alphabetic() { ' ' } else { c }).collect();
        let plain: String = self.stem.iter().collect();
        let mut found = text_dates::spans(&spaced, how, Which::All);
        found.extend(text_dates::spans(&bare, how, Which::All));
        found.extend(year_months(&plain, how));
        found.extend(name_dates(&plain, how));
        found.sort_by_key(|s| (s.start, usize::MAX - s.end));
        // Byte offset → character index.
        let index: HashMap<usize, usize> =
            spaced.char_indices().map(|(i, _)| i).chain([spaced.len()]).enumerate().map(|(n, b)| (b, n)).collect();
        let mut end = 0;
        for span in found {
            let (Some(&from), Some(&to)) = (index.get(&span.start), index.get(&span.end)) else { continue };
            if from < end {
                continue;
            }
            end = to;
            let owned = self.owner[from..to].iter().filter(|o| o.is_some()).count();
            if owned == to - from {
                continue;
            }
            let replacement = if owned > 0 || span.replacement == crate::scrub::REDACTED {
                DATE_NAME_TOKEN.to_string()
            } else {
                span.replacement
            };
            for a in &mut at[from..to] {
                *a = Some(replacements.len());
            }
            replacements.push(replacement);
            // The end of a range after it (`20240201-0205`), with its separator: one `date`
            // with a replaced start, `-date` after a shifted one.
            if let Some(range) = range_end(&self.stem, to).filter(|&e| self.owner[to..e].iter().all(Option::is_none)) {
                let merged = replacements.last().is_some_and(|r| r == DATE_NAME_TOKEN);
                if !merged {
                    replacements.push(format!("{}{DATE_NAME_TOKEN}", self.stem[to]));
                }
                for a in &mut at[to..range] {
                    *a = Some(replacements.len() - 1);
                }
                end = range;
            }
        }
        (at, replacements)
    }

    /// Whether the name could hold a spelling of the `name` value `name`: every spelling
    /// [`Identifiers`] looks for holds one of the runs of letters and digits of the name or of
    /// one of its spellings in the other script or with its long vowels written otherwise
    /// ([`crate::names::of_group`]: `kakuu` of `カクウ`, `かくう` of `KAKUU`) whole, or such a
    /// run without the honorific glued to it (`山田太郎` of `山田太郎様`).
    fn may_hold_name(&self, name: &str) -> bool {
        let holds = |text: &str| {
            fold(text).split(|c: char| !c.is_alphanumeric()).any(|part| {
                let bare = crate::names::without_honorific(part);
                !bare.is_empty() && self.folded.contains(bare)
            })
        };
        if holds(name) {
            return true;
        }
        let spellings = crate::names::of_group(name);
        spellings.spaced.iter().any(|s| holds(s)) || spellings.joined.iter().flatten().any(|w| holds(w))
    }

    /// Whether the name could hold a spelling of the date `da` (`YYYYMMDD`): every spelling
    /// holds its day's digits, and its year's four or two last digits or its Japanese era year
    /// (`元` for the first).
    fn may_hold_date(&self, da: &str) -> bool {
        let (Some(yy), Some(day)) = (da.get(2..4), da.get(6..8)) else { return true };
        let day = day.trim_start_matches('0');
        let era_year = chrono::NaiveDate::parse_from_str(da, "%Y%m%d")
            .ok()
            .and_then(crate::dates::japanese_era)
            .map(|(_, _, year)| year.to_string());
        let year = self.digits.contains(yy)
            || self.digits.contains('元')
            || era_year.is_some_and(|y| self.digits.contains(y.as_str()));
        year && self.digits.contains(day)
    }

    /// Mark where an ID of the opt-out register stands in the name, as a left-out patient's
    /// identifier, though no row gives it (`labs_1234567_佐藤.csv` with rows only of 佐藤):
    /// [`OutputName::output_name`] then writes nothing or fails, as for a row's.
    fn see_register(&mut self, cohort: &crate::cohort::Cohort, pseudo: &Pseudonymizer) {
        for id in cohort.excluded_ids() {
            if !self.may_hold_id(id) {
                continue;
            }
            let mut ids = Identifiers::new();
            ids.add_id(id);
            let pseudonym = pseudo.patient_pseudonym(Patient::Id(id));
            self.see(&ids, Some(&pseudonym), true);
        }
    }

    /// Whether the name could hold a spelling of the ID `id`: one of its runs of letters or
    /// digits (digits without their zero padding) stands in the name.
    fn may_hold_id(&self, id: &str) -> bool {
        fold(id)
            .split(|c: char| !c.is_alphanumeric())
            .map(|run| run.trim_start_matches('0'))
            .any(|run| !run.is_empty() && self.folded.contains(run))
    }

    /// Mark where `ids` (one row's) stand in the name.
    fn see(&mut self, ids: &Identifiers, pseudonym: Option<&str>, excluded: bool) {
        let stem: String = self.stem.iter().collect();
        for (start, end) in ids.find_in_name(&stem) {
            let who = (pseudonym.map(str::to_string), excluded);
            let index = match self.owners.iter().position(|o| *o == who) {
                Some(i) => i,
                None => {
                    self.owners.push(who);
                    self.owners.len() - 1
                }
            };
            for o in &mut self.owner[start..end] {
                o.get_or_insert(index);
            }
        }
    }

    /// The output's file name, its dates treated as `dates` says
    /// ([`OutputName::date_treatment`]). `None` (write nothing) when no row was written: a
    /// name no row was checked against may hold the patient's ID and name
    /// (`labs_0001234567_山田太郎.csv` of a header only), and a file without rows releases
    /// nothing else. An error when it holds a left-out patient's identifier and rows of other
    /// patients were written.
    fn output_name(&self, rows_written: u64, dates: DateTreatment) -> Result<Option<String>, Error> {
        if rows_written == 0 {
            return Ok(None);
        }
        if self.owners.iter().any(|(_, excluded)| *excluded) {
            return Err(Error::NameHoldsExcludedId);
        }
        let (date_at, date_replacements) = self.dates(dates);
        let readable = self.stem.iter().collect::<String>() + &self.extension != UNREADABLE_NAME;
        if self.owners.is_empty() && date_replacements.is_empty() && readable {
            return Ok(Some(self.stem.iter().collect::<String>() + &self.extension));
        }
        let mut out = String::new();
        // The patient whose pseudonym was written last, while only separators follow it, and
        // those separators (dropped when the same patient's identifier comes next).
        let mut last: Option<usize> = None;
        let mut gap = String::new();
        let mut last_date: Option<usize> = None;
        for ((&c, &owner), &date) in self.stem.iter().zip(&self.owner).zip(&date_at) {
            match (owner, date) {
                (Some(o), _) if last == Some(o) => gap.clear(),
                (Some(o), _) => {
                    out.push_str(&gap);
                    gap.clear();
                    out.push_str(self.owners[o].0.as_deref().unwrap_or(NEUTRAL_NAME_TOKEN));
                    last = Some(o);
                }
                (None, Some(d)) if last_date == Some(d) => {}
                (None, Some(d)) => {
                    out.push_str(&gap);
                    gap.clear();
                    out.push_str(&date_replacements[d]);
                    last = None;
                    last_date = Some(d);
                }
                (None, None) if last.is_some() && name_separator(c) => gap.push(c),
                (None, None) => {
                    out.push_str(&gap);
                    gap.clear();
                    last = None;
                    last_date = None;
                    out.push(c);
                }
            }
        }
        out.push_str(&gap);
        Ok(Some(fit_name(&out, &self.tag, &self.extension)))
    }
}

/// The longest file name, in bytes, that common file systems take (ext4, XFS, APFS).
const MAX_NAME_BYTES: usize = 255;

/// `{stem}_{tag}{extension}`, the stem cut at a character boundary when the whole would be
/// longer than [`MAX_NAME_BYTES`]: a pseudonym (20 characters) standing for a shorter ID, or
/// `date` for `2/1`, can push a long export name over it, and the file would fail. The tag is
/// kept whole, so the name stays unique (it is a keyed digest of the input name) and the same
/// on every run; cutting only drops text, identifiers are already replaced.
fn fit_name(stem: &str, tag: &str, extension: &str) -> String {
    let tail = format!("_{tag}{extension}");
    let mut end = stem.len().min(MAX_NAME_BYTES.saturating_sub(tail.len()));
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{tail}", &stem[..end])
}

struct Plan {
    columns: Vec<(String, Column)>,
    patient: Option<usize>,
    /// Output order: input indices written.
    written: Vec<usize>,
    /// The columns a row's identifiers come from ([`row_identifiers`]).
    identifying: Vec<usize>,
}

fn plan(header: &[String], columns: &Columns, options: &CsvOptions) -> Result<Plan, Error> {
    let mut unknown = Vec::new();
    let mut planned = Vec::new();
    for (i, name) in header.iter().enumerate() {
        match columns.get(name) {
            Some(c) => planned.push((name.trim().to_string(), c)),
            None => {
                unknown.push(i + 1);
                planned.push((name.clone(), Column { role: Role::Drop, quasi: false }));
            }
        }
    }
    if !unknown.is_empty() {
        let named = header.len() - unknown.len();
        return Err(Error::UnknownColumns { columns: unknown, named });
    }
    let ids: Vec<usize> =
        planned.iter().enumerate().filter(|(_, (_, c))| c.role == Role::PatientId).map(|(i, _)| i).collect();
    if ids.len() > 1 {
        return Err(Error::SeveralPatientIds);
    }
    let patient = ids.first().copied();
    if patient.is_none() && options.cohort.as_ref().is_some_and(|c| c.is_active()) {
        return Err(Error::CohortNeedsPatientId);
    }
    if patient.is_none() {
        let needs =
            planned.iter().position(|(_, c)| (c.role.is_date() && options.retain_dates) || c.role == Role::FreeText);
        if let Some(i) = needs {
            return Err(Error::NoPatientId { column: i + 1, role: planned[i].1.role.word() });
        }
    }
    let written = planned
        .iter()
        .enumerate()
        .filter(|(_, (_, c))| !c.role.is_removed() && (!c.role.is_date() || options.retain_dates))
        .map(|(i, _)| i)
        .collect();
    let identifying = planned
        .iter()
        .enumerate()
        .filter(|(_, (_, c))| {
            matches!(
                c.role,
                Role::PatientId | Role::Name | Role::Identifier | Role::PostalCode | Role::BirthDate { .. }
            )
        })
        .map(|(i, _)| i)
        .collect();
    Ok(Plan { columns: planned, patient, written, identifying })
}

/// The row's own dates: the days of its `date` and `datetime` cells, which its free text also
/// holds where a letter or `_` joins them to a word (`CT_20240102`), as a DICOM file's text holds
/// its exam date.
fn row_dates(plan: &Plan, fields: &[Cow<'_, str>]) -> Vec<chrono::NaiveDate> {
    let mut out = Vec::new();
    for ((_, c), v) in plan.columns.iter().zip(fields) {
        if let Some(d) = c.role.is_date().then(|| values::parse(v)).flatten() {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

/// Collect the row's identifiers for its free-text columns.
fn row_identifiers(plan: &Plan, fields: &[Cow<'_, str>], patient_id: &str) -> Identifiers {
    row_identifiers_with(plan, fields, patient_id, &|_, _| true)
}

/// [`row_identifiers`], with a name or a birth date (DA) only when `wanted` says it could be
/// found (their many spellings are the costly part).
fn row_identifiers_with(
    plan: &Plan,
    fields: &[Cow<'_, str>],
    patient_id: &str,
    wanted: &dyn Fn(Role, &str) -> bool,
) -> Identifiers {
    let mut ids = Identifiers::new();
    ids.add_id(patient_id);
    for ((_, c), v) in plan.columns.iter().zip(fields) {
        add_value(&mut ids, c.role, v, wanted);
    }
    ids
}

/// Add one identifying cell's value `v` of a column of `role` to `ids` (nothing for other
/// roles, or an empty value), as [`row_identifiers_with`] does.
fn add_value(ids: &mut Identifiers, role: Role, v: &str, wanted: &dyn Fn(Role, &str) -> bool) {
    let v = v.trim();
    if v.is_empty() {
        return;
    }
    match role {
        // As a Person Name: the whole, each part (split at spaces, `^` and commas), the
        // parts joined, a one-kanji part before an honorific, kana in either script.
        Role::Name if !wanted(Role::Name, v) => {}
        Role::Name => {
            ids.add(v);
            ids.add_person_name(&v.replace(',', " "));
        }
        Role::Identifier => {
            ids.add_id(v);
            // An address: its town with the house number, written alone (`登呂1-3-5`).
            ids.add_street_address(v);
        }
        Role::PostalCode => ids.add(v),
        Role::BirthDate { .. } => {
            if let Some(d) = values::parse(v) {
                let da = crate::dates::format_da(d);
                if wanted(role, &da) {
                    ids.add_birth_date_typed(&da);
                }
            }
        }
        _ => {}
    }
}

/// The identifiers a free-text cell of a row is cleaned of: the row's own
/// ([`row_identifiers`]) and those every other row of the same patient in the file gives
/// (`known`): a second row whose name cell is empty still loses the name.
fn patient_identifiers(plan: &Plan, fields: &[Cow<'_, str>], patient_id: &str, known: &PatientValues) -> Identifiers {
    let mut ids = row_identifiers(plan, fields, patient_id);
    for (role, value) in known.of(patient_id) {
        add_value(&mut ids, *role, value, &|_, _| true);
    }
    ids
}

/// The identifying values (`name`, `identifier`, `postal-code`, `birth-date` cells) that each
/// patient's rows give across one file, read by a first pass over it ([`PatientValues::collect`])
/// so that free text is cleaned of the patient's identifiers whichever row gives them. Only
/// distinct values are held: memory grows with the number of patients and of their distinct
/// identifying values, not with the rows. The same values can also come from other files
/// (a patient master: [`IdentifierSources`]).
#[derive(Debug, Default)]
pub struct PatientValues {
    /// By patient ID as [`crate::pseudo::normalize_id`] gives it: (the column's role, value).
    /// Roles, not column positions, so that values read from one file serve another.
    by_patient: HashMap<String, Vec<(Role, String)>>,
    /// Patients (as `by_patient` keys them) whose values may be incomplete: a row naming them
    /// could not be read. Their free text is removed, not cleaned.
    incomplete: HashSet<String>,
    /// The line of a row after which the file could not be read as rows (over
    /// [`MAX_RECORD_BYTES`], or past [`MAX_UNREAD_ROWS`]): every patient's values may be
    /// incomplete.
    all_incomplete: Option<u64>,
    /// The line of the first row that made a patient's values incomplete.
    first_unread: Option<u64>,
}

/// A row the first pass could not read, with what may be its patient's ID (each cell, as an ID
/// is compared): the patients it names are known only when the whole file is read.
struct UnreadRow {
    line: u64,
    candidates: Vec<String>,
}

/// At most this many unreadable rows are remembered per file; past it every patient's values
/// count as incomplete.
const MAX_UNREAD_ROWS: usize = 10_000;

impl PatientValues {
    /// The values of the patient `patient_id` (as written; empty when none were collected).
    fn of(&self, patient_id: &str) -> &[(Role, String)] {
        self.by_patient.get(&crate::pseudo::normalize_id(patient_id)).map_or(&[], Vec::as_slice)
    }

    /// The line of a row that could not be read in the first pass and may hold identifying
    /// values of the patient `patient_id` that no other row gives; `None` when the patient's
    /// values are complete. Free text cleaned without those values could keep them.
    pub fn unread_row_of(&self, patient_id: &str) -> Option<u64> {
        if let Some(line) = self.all_incomplete {
            return Some(line);
        }
        self.incomplete.contains(&crate::pseudo::normalize_id(patient_id)).then_some(self.first_unread.unwrap_or(0))
    }

    /// Decide whose values the rows the first pass could not read make incomplete: the
    /// patients whose ID stands in one of their cells. A row naming none of the file's
    /// patients belongs to a patient without a readable row, none of whose text is written.
    fn resolve_unread(&mut self, unread: Vec<UnreadRow>) {
        for row in unread {
            let mut named = false;
            for id in row.candidates.iter().filter(|c| self.by_patient.contains_key(*c)) {
                self.incomplete.insert(id.clone());
                named = true;
            }
            if named {
                self.first_unread = Some(self.first_unread.map_or(row.line, |l| l.min(row.line)));
            }
        }
    }

    /// Add `value` (of a column of `role`) to the patient `id` (normalized) unless it is held.
    fn add(&mut self, id: &str, role: Role, value: &str) {
        let values = self.by_patient.entry(id.to_string()).or_default();
        if !value.is_empty() && !values.iter().any(|(r, known)| *r == role && known == value) {
            values.push((role, value.to_string()));
        }
    }

    /// Add what `sources` holds of the patients this file has (those `self` lists): their
    /// rows' free text is cleaned of a patient master's values too. Only this file's patients
    /// are copied, so a large master costs each file no more than its own patients.
    pub fn add_sources(&mut self, sources: &IdentifierSources) {
        for (id, values) in &mut self.by_patient {
            for (role, value) in sources.values.by_patient.get(id).map_or(&[][..], Vec::as_slice) {
                if !values.iter().any(|(r, known)| r == role && known == value) {
                    values.push((*role, value.clone()));
                }
            }
        }
    }

    /// Read a whole CSV file as [`deidentify`] reads it (encoding, delimiter, header) and
    /// collect each patient's identifying values. Nothing is collected when the file has no
    /// patient-id column, writes no free-text column, or its header does not fit `columns`
    /// ([`deidentify`] then reports that); rows that do not decode or do not fit the header are
    /// passed over here and reported by [`deidentify`].
    ///
    /// # Errors
    /// [`Error::Read`] when the input cannot be read, [`Error::Interrupted`].
    pub fn collect<R: Read>(
        input: R,
        columns: &Columns,
        options: &CsvOptions,
        interrupt: &AtomicBool,
    ) -> Result<PatientValues, Error> {
        let mut out = PatientValues::default();
        out.read(input, columns, options, interrupt, Need::FreeText)?;
        Ok(out)
    }

    /// Read one CSV file's identifying values into `self` (see [`PatientValues::collect`]).
    /// With [`Need::FreeText`] a file without a written free-text column gives nothing (its
    /// values would clean nothing); with [`Need::Header`] (a patient master) every file
    /// gives its values, and a header that does not fit `columns` is an error.
    fn read<R: Read>(
        &mut self,
        input: R,
        columns: &Columns,
        options: &CsvOptions,
        interrupt: &AtomicBool,
        need: Need,
    ) -> Result<(), Error> {
        let out = self;
        let (mut reader, mut encoding, transcoded) = open_reader(input, options)?;
        let split_decoded = transcoded.is_some();
        let mut record = csv::ByteRecord::new();
        if !reader.read_byte_record(&mut record).map_err(csv_read)? || reader.get_ref().cut {
            return match need {
                Need::Header => Err(Error::NoHeader),
                Need::FreeText => Ok(()),
            };
        }
        reader.get_mut().since_record = 0;
        if encoding == Encoding::Auto {
            encoding = sniff(&record).unwrap_or(encoding);
        }
        let header_encoding = if encoding == Encoding::Auto { Encoding::Utf8 } else { encoding };
        let header: Option<Vec<String>> =
            record.iter().map(|f| decode_cell(header_encoding, split_decoded, f).map(|s| s.into_owned())).collect();
        let plan = match (header, need) {
            (Some(h), Need::Header) => plan(&h, columns, options)?,
            (None, Need::Header) => return Err(Error::HeaderEncoding),
            (h, Need::FreeText) => match h.and_then(|h| plan(&h, columns, options).ok()) {
                Some(plan) => plan,
                None => return Ok(()),
            },
        };
        let free_text = plan.written.iter().any(|&i| plan.columns[i].1.role == Role::FreeText);
        let Some(p) = plan.patient.filter(|_| free_text || need == Need::Header) else {
            return match need {
                Need::Header => Err(Error::SourceNeedsPatientId),
                Need::FreeText => Ok(()),
            };
        };
        let mut rows: u64 = 0;
        let width = plan.columns.len();
        // Rows that cannot be read: a master's stops the run; an input's make the values of
        // the patients they name incomplete (resolved once every row is read).
        let mut unread: Vec<UnreadRow> = Vec::new();
        let mut unread_past_bound: Option<u64> = None;
        let mut last_line = 0;
        let mut last_multiline = false;
        let mut swallowing: Option<UnreadRow> = None;
        loop {
            if !reader.read_byte_record(&mut record).map_err(csv_read)? {
                break;
            }
            let line = record.position().map_or(0, |pos| reader.get_mut().line_of(pos));
            if reader.get_ref().cut {
                let what = format!("it holds more than {} MiB: a quote is probably not closed", MAX_RECORD_BYTES >> 20);
                if need == Need::Header {
                    return Err(Error::SourceRow { line, what });
                }
                unread_past_bound.get_or_insert(line);
                break;
            }
            reader.get_mut().since_record = 0;
            rows += 1;
            if rows % 4096 == 0 && interrupt.load(Ordering::Relaxed) {
                return Err(Error::Interrupted);
            }
            if record.len() == 1 && record.get(0).is_some_and(<[u8]>::is_empty) {
                continue; // a blank line
            }
            last_line = line;
            last_multiline = record.iter().any(|f| f.contains(&b'\n') || f.contains(&b'\r'));
            if last_multiline && need == Need::FreeText {
                // Were its quote never closed, the lines it swallowed are rows of the patients
                // whose IDs stand in them.
                let swallowed = record.iter().flat_map(|f| f.split(|&b| b == b'\n' || b == b'\r').skip(1));
                let cells = swallowed.flat_map(|line| line.split(|&b| b == options.delimiter));
                let candidates = cells
                    .map(|f| crate::pseudo::normalize_id(&crate::cohort::unwrap_cell(&String::from_utf8_lossy(f))))
                    .filter(|c| !c.is_empty())
                    .take(4096)
                    .collect();
                swallowing = Some(UnreadRow { line, candidates });
            }
            if encoding == Encoding::Auto && record.len() == width {
                encoding = sniff(&record).unwrap_or(encoding);
            }
            let enc = if encoding == Encoding::Auto { Encoding::Utf8 } else { encoding };
            // The cells the patient's values come from must read; another cell (a note with a
            // stray byte) costs only that row's output.
            let readable = record.len() == width
                && plan
                    .identifying
                    .iter()
                    .chain([&p])
                    .all(|&i| record.get(i).is_some_and(|f| decode_cell(enc, split_decoded, f).is_some()));
            if !readable {
                if need == Need::Header {
                    let what = if record.len() == width {
                        format!("a cell is not valid {}", transcoded.unwrap_or(enc).name())
                    } else {
                        format!("{} fields, the header has {width}", record.len())
                    };
                    return Err(Error::SourceRow { line, what });
                }
                if unread.len() >= MAX_UNREAD_ROWS {
                    unread_past_bound.get_or_insert(line);
                    continue;
                }
                let candidates = record
                    .iter()
                    .map(|f| crate::pseudo::normalize_id(&crate::cohort::unwrap_cell(&String::from_utf8_lossy(f))))
                    .filter(|c| !c.is_empty())
                    .take(256)
                    .collect();
                unread.push(UnreadRow { line, candidates });
                continue;
            }
            let cell =
                |i: usize| decode_cell(enc, split_decoded, record.get(i).unwrap_or_default()).unwrap_or_default();
            let id = crate::pseudo::normalize_id(&crate::cohort::unwrap_cell(&cell(p)));
            if id.is_empty() {
                continue;
            }
            out.by_patient.entry(id.clone()).or_default();
            for &i in plan.identifying.iter().filter(|&&i| i != p) {
                out.add(&id, plan.columns[i].1.role, cell(i).trim());
            }
        }
        // A quoted field never closed before the end: the last row swallowed the lines after it.
        if last_multiline && !reader.get_ref().cut && reader.get_ref().quotes % 2 == 1 {
            if need == Need::Header {
                let what = "a quoted field is not closed before the end of the file".to_string();
                return Err(Error::SourceRow { line: last_line, what });
            }
            unread.extend(swallowing.filter(|row| row.line == last_line));
        }
        out.resolve_unread(unread);
        if let Some(line) = unread_past_bound {
            out.all_incomplete.get_or_insert(line);
            out.first_unread = Some(out.first_unread.map_or(line, |l| l.min(line)));
        }
        Ok(())
    }
}

/// Why a file's identifying values are read ([`PatientValues`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// For the free text of the same file: a file without any gives nothing.
    FreeText,
    /// A patient master named by `--identifiers-from`: read for other files' free text, so its
    /// header must fit the columns and name the patient-id column.
    Header,
}

/// Patients' identifying values read from files that are not released (`kamei clinical csv
/// --identifiers-from`: a patient master of a data warehouse export whose notes table has no
/// name column). Every input's free text is cleaned of its patients' values from here too.
/// Its `Debug` shows how many files were read, never a value.
#[derive(Default)]
pub struct IdentifierSources {
    /// The values, by patient.
    values: PatientValues,
    /// Keyed digests of the files' contents, in order: part of the run's settings, so that a
    /// run into the same OUT with another master (which would clean differently) is refused.
    digests: Vec<String>,
}

impl std::fmt::Debug for IdentifierSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentifierSources").field("files", &self.digests.len()).finish_non_exhaustive()
    }
}

impl IdentifierSources {
    /// Read `paths`: a file as a CSV master (in `options`' encoding, or detected as for the
    /// inputs) with the roles of `columns`, a folder as an SS-MIX2 storage root
    /// ([`super::master::read_storage`]: its PID and NK1 names, address, phones and birth date
    /// per patient folder).
    ///
    /// # Errors
    /// The first source that cannot be read, whose header does not fit `columns` or that has no
    /// patient-id column, a CSV master without `columns`, a storage with a message that cannot
    /// be read, with its position among `paths` (1-based; its name may hold an ID).
    pub fn read(
        paths: &[PathBuf],
        columns: Option<&Columns>,
        options: &CsvOptions,
        pseudo: &Pseudonymizer,
        interrupt: &AtomicBool,
    ) -> Result<IdentifierSources, (usize, Error)> {
        let mut out = IdentifierSources::default();
        for (i, path) in paths.iter().enumerate() {
            let mut read = || -> Result<String, Error> {
                if super::master::is_storage(path) {
                    let values = &mut out.values;
                    let mut add = |id: &str, role: Role, value: &str| {
                        let id = crate::pseudo::normalize_id(id);
                        if !id.is_empty() {
                            values.add(&id, role, value);
                        }
                    };
                    let content = super::master::read_storage(path, interrupt, &mut add).map_err(|what| {
                        if interrupt.load(std::sync::atomic::Ordering::Relaxed) {
                            Error::Interrupted
                        } else {
                            Error::SourceStorage(what)
                        }
                    })?;
                    return Ok(pseudo.token("identifier-source", hex::encode(content).as_bytes(), 16));
                }
                let columns = columns.ok_or(Error::SourceNeedsColumns)?;
                let mut options = options.clone();
                if options.encoding == Encoding::Auto {
                    let whole = std::fs::File::open(path).map_err(Error::Read)?;
                    options.encoding = detect_encoding(io::BufReader::new(whole))?;
                }
                let file = std::fs::File::open(path).map_err(Error::Read)?;
                out.values.read(file, columns, &options, interrupt, Need::Header)?;
                let sha = file_sha256(path).ok_or_else(|| Error::Read(io::Error::other("could not be read again")))?;
                Ok(pseudo.token("identifier-source", sha.as_bytes(), 16))
            };
            out.digests.push(read().map_err(|e| (i + 1, e))?);
        }
        Ok(out)
    }

    /// Whether no file was given.
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// The keyed digest of every source's content, in order, for a run's settings: a run into
    /// the same output with other masters (which would clean otherwise) is refused. `None`
    /// without sources.
    pub fn digest(&self) -> Option<String> {
        (!self.is_empty())
            .then(|| super::settings_digest(&self.digests.iter().map(|d| d.as_bytes()).collect::<Vec<_>>()))
    }

    /// The identifying values the sources hold of the patient `patient_id` (compared as the
    /// pseudonym compares it), each with the role of the column (or HL7 field) that gave it.
    pub fn values_of(&self, patient_id: &str) -> &[(Role, String)] {
        self.values.of(patient_id)
    }

    /// Add the sources' values of the patient `patient_id` to `ids`, as a CSV row's
    /// identifying cells are added (names in every spelling, IDs, addresses, birth date).
    pub fn add_to(&self, patient_id: &str, ids: &mut Identifiers) {
        for (role, value) in self.values_of(patient_id) {
            add_value(ids, *role, value, &|_, _| true);
        }
    }
}

/// Tell `observer` the row's identifiers, with those `known` holds of its patient, when it
/// wants them and the row's identifying values were not seen before in this file (`seen`,
/// bounded; `key` is a reused buffer).
fn observe_identifiers(
    seen: &mut HashSet<String>,
    key: &mut String,
    known: &PatientValues,
    plan: &Plan,
    fields: &[Cow<'_, str>],
    row: (Option<&str>, bool),
    observer: &mut dyn RowObserver,
) {
    if !observer.wants_identifiers() || plan.identifying.is_empty() {
        return;
    }
    key.clear();
    for &i in &plan.identifying {
        key.push_str(&fields[i]);
        key.push('\0');
    }
    if seen.contains(key.as_str()) {
        return;
    }
    if seen.len() >= PATIENT_CACHE {
        seen.clear();
    }
    seen.insert(key.clone());
    let patient_id = plan.patient.map_or("", |p| fields[p].trim());
    let wanted = |role: Role, v: &str| match role {
        Role::Name => observer.may_hold_name(v),
        _ => observer.may_hold_date(v),
    };
    let mut ids = row_identifiers_with(plan, fields, patient_id, &wanted);
    // And the values of the patient's other rows and of the patient masters
    // (`--identifiers-from`): a name whose rows write it in kanji only stands in the file
    // name in the romaji or kana a master gives (`YAMADA_TARO_labs.csv`).
    for (role, value) in known.of(patient_id) {
        add_value(&mut ids, *role, value, &wanted);
    }
    observer.identifiers(&ids, row.0, row.1);
}

/// What de-identifying one CSV file needs besides its bytes: the columns' roles, the key, the
/// settings, and each patient's identifying values across the file ([`PatientValues`]). Not
/// `Debug`: it holds the key.
#[derive(Clone, Copy)]
pub struct FileSetup<'a> {
    /// The roles of the columns.
    pub columns: &'a Columns,
    /// Pseudonyms and date shifts.
    pub pseudo: &'a Pseudonymizer,
    /// The settings.
    pub options: &'a CsvOptions,
    /// Each patient's identifying values, from a first pass ([`PatientValues::collect`]; empty:
    /// each row's own values only).
    pub known: &'a PatientValues,
}

/// A CSV reader over `input` (headers read as rows, ragged rows allowed) and the encoding to
/// read it in: UTF-8 when it starts with a BOM and the options say `auto`, else the options'.
/// Both passes over a file (the patient values, then the rows) open it this way.
///
/// The third value is the encoding the input was decoded from before it was split, when its
/// raw bytes could not be split on the delimiter ([`transcoded_before_split`]): the parser then
/// reads UTF-8, and a cell holding a byte not valid in that encoding is not valid
/// ([`decode_cell`]).
type Opened<R> = (csv::Reader<Input<R>>, Encoding, Option<Encoding>);

fn open_reader<R: Read>(input: R, options: &CsvOptions) -> Result<Opened<R>, Error> {
    let transcode = transcoded_before_split(options.encoding, options.delimiter);
    let (input, bom) = Input::new(input, transcode).map_err(Error::Read)?;
    let transcoded = input.utf16.as_ref().filter(|u| u.replace_malformed).map(|_| options.encoding);
    let encoding = match (options.encoding, bom) {
        _ if input.utf16.is_some() => Encoding::Utf8, // decoded to UTF-8 whatever --encoding says
        (Encoding::Auto, true) => Encoding::Utf8,
        (e, _) => e,
    };
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .buffer_capacity(256 << 10)
        .from_reader(input);
    Ok((reader, encoding, transcoded))
}

/// De-identify one CSV stream from `input` to `output` (UTF-8). `observer` hears of each
/// patient first seen and, if it wants, of each row's identifiers ([`RowObserver`]). Row
/// problems are in the report; only file-level problems are errors.
///
/// # Errors
/// [`Error`] for what stops the whole file (nothing of it should be kept).
pub fn deidentify<R: Read, W: Write>(
    input: R,
    output: W,
    setup: FileSetup<'_>,
    interrupt: &AtomicBool,
    observer: &mut dyn RowObserver,
) -> Result<(CsvReport, InputDigest), Error> {
    let FileSetup { columns, pseudo, options, known } = setup;
    let (mut reader, mut encoding, transcoded) = open_reader(input, options)?;
    let split_decoded = transcoded.is_some();
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(256 << 10)
        .from_writer(output);
    let mut record = csv::ByteRecord::new();
    let mut out = csv::ByteRecord::new();
    let mut report = CsvReport::default();

    // Header.
    if !reader.read_byte_record(&mut record).map_err(csv_read)? {
        return Err(Error::NoHeader);
    }
    if reader.get_ref().cut {
        return Err(Error::Read(io::Error::other(format!(
            "line 1: the header row holds more than {} MiB: a quote is probably not closed",
            MAX_RECORD_BYTES >> 20
        ))));
    }
    reader.get_mut().since_record = 0;
    if encoding == Encoding::Auto {
        if let Some(e) = sniff(&record) {
            encoding = e;
        }
    }
    let header_encoding = if encoding == Encoding::Auto { Encoding::Utf8 } else { encoding };
    let header: Vec<String> = record
        .iter()
        .map(|f| decode_cell(header_encoding, split_decoded, f).map(|s| s.into_owned()))
        .collect::<Option<_>>()
        .ok_or(Error::HeaderEncoding)?;
    let plan = plan(&header, columns, options)?;
    let width = header.len();
    report.columns = plan
        .columns
        .iter()
        .enumerate()
        .map(|(i, (name, c))| ColumnReport {
            name: name.clone(),
            role: c.role,
            written: plan.written.contains(&i),
            changed: 0,
            emptied: 0,
        })
        .collect();
    report.patient_column = plan.patient.map(|i| plan.columns[i].0.clone());
    report.date_columns = plan
        .written
        .iter()
        .filter(|&&i| plan.columns[i].1.role.is_date())
        .map(|&i| plan.columns[i].0.clone())
        .collect();
    report.quasi_columns =
        plan.written.iter().filter(|&&i| plan.columns[i].1.quasi).map(|&i| plan.columns[i].0.clone()).collect();
    out.clear();
    for &i in &plan.written {
        out.push_field(plan.columns[i].0.as_bytes());
    }
    writer.write_byte_record(&out).map_err(csv_write)?;

    // The held row's line, and the lines after it that read as rows when it holds line breaks.
    let mut held: Option<(u64, Option<Vec<u64>>)> = None;
    let mut held_row = csv::ByteRecord::new();
    let mut cache: HashMap<Vec<u8>, (String, i64)> = HashMap::new();
    let mut identities: HashSet<String> = HashSet::new();
    let mut identity_key = String::new();
    let mut outputs: Vec<Option<String>> = vec![None; width];
    // The identifiers free text was last cleaned of, with the patient and identifying values
    // they were built for (rows of one patient usually come together).
    let mut text_ids: Option<(String, Identifiers)> = None;
    let mut text_key = String::new();
    loop {
        if !reader.read_byte_record(&mut record).map_err(csv_read)? {
            break;
        }
        report.rows_read += 1;
        // A record after the held row means the held row ended before it: its quotes were
        // closed, whatever becomes of this record (an open quote is this record's own).
        if held.take().is_some() {
            writer.write_byte_record(&held_row).map_err(csv_write)?;
            report.rows_written += 1;
        }
        let line = record.position().map_or(0, |p| reader.get_mut().line_of(p));
        if reader.get_ref().cut {
            // Cut at the bound: a quote left open swallowed the lines after it.
            report.drop_row(
                line,
                format!(
                    "the row holds more than {} MiB (a quote is probably not closed); this row and the rest of the file were dropped",
                    MAX_RECORD_BYTES >> 20
                ),
            );
            break;
        }
        reader.get_mut().since_record = 0;
        if report.rows_read % 4096 == 0 && interrupt.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        if record.len() == 1 && record.get(0).is_some_and(<[u8]>::is_empty) {
            // A blank line: not a row.
            report.rows_read -= 1;
            continue;
        }
        if record.len() != width {
            let swallowed = row_like_lines(&record, options.delimiter, width);
            report.drop_record(line, format!("{} fields, the header has {width}", record.len()), &swallowed);
            continue;
        }
        if swallowed_rows(&record, options.delimiter, width).is_some() {
            let swallowed = row_like_lines(&record, options.delimiter, width);
            report.drop_record(line, "a quoted field holds lines that look like rows".to_string(), &swallowed);
            continue;
        }
        if encoding == Encoding::Auto {
            if let Some(e) = sniff(&record) {
                encoding = e;
            }
        }
        let enc = if encoding == Encoding::Auto { Encoding::Utf8 } else { encoding };
        // Decode the row (borrowed for UTF-8; nothing is allocated for ASCII or UTF-8 input).
        let mut fields: Vec<Cow<'_, str>> = Vec::with_capacity(width);
        let mut bad = None;
        for (i, f) in record.iter().enumerate() {
            match decode_cell(enc, split_decoded, f) {
                Some(s) => fields.push(s),
                None => {
                    bad = Some(i + 1);
                    break;
                }
            }
        }
        if let Some(col) = bad {
            report.drop_row(line, format!("column {col} is not valid {}", transcoded.unwrap_or(enc).name()));
            continue;
        }
        // The patient, read as the register reads an ID (`="0001234567"`, `'0001234567`,
        // `1234567.0` as spreadsheets write them), so an opt-out and the linkage hold.
        if let Some(p) = plan.patient {
            let id = crate::cohort::unwrap_cell(&fields[p]);
            if id != fields[p].trim() {
                fields[p] = Cow::Owned(id);
            }
        }
        let mut shift = 0i64;
        let mut pseudonym_at = None;
        if let Some(p) = plan.patient {
            let raw = fields[p].trim();
            if crate::pseudo::normalize_id(raw).is_empty() {
                report.drop_row(line, format!("column {} (patient-id) is empty", p + 1));
                continue;
            }
            if crate::cohort::spreadsheet_number(raw) {
                // `1.23457E+09`, `1,234,567,890`: whose ID it was is not known, so neither the
                // opt-out nor the pseudonym can be decided.
                report.drop_row(
                    line,
                    format!(
                        "column {} (patient-id) is a number a spreadsheet rewrote (scientific notation or thousands separators): the ID is lost; format the column as text and export again",
                        p + 1
                    ),
                );
                continue;
            }
            if let Some(cohort) = &options.cohort {
                // Decided from the original ID before anything of the row is written.
                if cohort.admit(Some(raw), None).is_excluded() {
                    report.rows_excluded += 1;
                    let pseudonym = pseudo.patient_pseudonym(Patient::Id(raw));
                    let row = (Some(pseudonym.as_str()), true);
                    observe_identifiers(&mut identities, &mut identity_key, known, &plan, &fields, row, observer);
                    if !report.excluded_patients.contains(&pseudonym) {
                        observer.patient(PatientSeen { original: raw, pseudonym: &pseudonym, excluded: true });
                        report.excluded_patients.insert(pseudonym);
                    }
                    continue;
                }
            }
            if cache.len() >= PATIENT_CACHE {
                cache.clear();
            }
            let entry = match cache.get(raw.as_bytes()) {
                Some(e) => e.clone(),
                None => {
                    let patient = Patient::Id(raw);
                    let e = (pseudo.patient_pseudonym(patient), pseudo.date_shift_days(patient));
                    observer.patient(PatientSeen { original: raw, pseudonym: &e.0, excluded: false });
                    cache.insert(raw.as_bytes().to_vec(), e.clone());
                    e
                }
            };
            shift = entry.1;
            pseudonym_at = Some(entry.0);
        }
        // The row's identifiers, collected only when the output name or a free-text value needs
        // them.
        let row = (pseudonym_at.as_deref(), false);
        observe_identifiers(&mut identities, &mut identity_key, known, &plan, &fields, row, observer);
        for &i in &plan.written {
            let (_, c) = plan.columns[i];
            let v = fields[i].as_ref();
            let (value, changed, emptied): (Option<String>, bool, bool) = match c.role {
                Role::PatientId => (pseudonym_at.clone(), true, false),
                Role::Date | Role::DateTime => match values::shift(v, shift) {
                    Some(s) => (Some(s), true, false),
                    None => (Some(String::new()), false, !v.trim().is_empty()),
                },
                Role::BirthDate { precision } => match values::generalize_birth_date(v, precision) {
                    Some(s) => (Some(s), true, false),
                    None => (Some(String::new()), false, !v.trim().is_empty()),
                },
                Role::Age { band } => match values::age_group(v, band) {
                    Some(s) => {
                        let changed = s != v;
                        (Some(s), changed, false)
                    }
                    None => (Some(String::new()), false, !v.trim().is_empty()),
                },
                Role::PostalCode => match values::postal_prefix(v) {
                    Some(s) => (Some(s), true, false),
                    None => (Some(String::new()), false, !v.trim().is_empty()),
                },
                Role::FreeText if v.trim().is_empty() => (None, false, false),
                Role::FreeText if plan.patient.and_then(|p| known.unread_row_of(fields[p].trim())).is_some() => {
                    // A row of this patient could not be read: the identifiers it holds are
                    // unknown, and text cleaned without them could keep them.
                    let unread = plan.patient.and_then(|p| known.unread_row_of(fields[p].trim())).unwrap_or(0);
                    report.free_text_withheld += 1;
                    if report.free_text_withheld == 1 && report.problems.len() < MAX_PROBLEMS {
                        report.problems.push(Problem { line: None, message: withheld_message(unread) });
                    }
                    (Some(String::new()), true, false)
                }
                Role::FreeText => {
                    let patient_id = plan.patient.map_or("", |p| fields[p].trim());
                    text_key.clear();
                    for &j in plan.patient.iter().chain(&plan.identifying) {
                        text_key.push_str(&fields[j]);
                        text_key.push('\0');
                    }
                    if text_ids.as_ref().is_none_or(|(key, _)| *key != text_key) {
                        text_ids = Some((text_key.clone(), patient_identifiers(&plan, &fields, patient_id, known)));
                    }
                    let ids = &text_ids.as_ref().expect("set above").1;
                    let days = options.retain_dates.then_some(shift);
                    let own = row_dates(&plan, &fields);
                    match super::freetext::clean_with_own_dates(v, ids, days, &own) {
                        Some(cleaned) => (Some(cleaned.text), true, false),
                        None => (None, false, false),
                    }
                }
                Role::Keep | Role::Sex | Role::Drop | Role::Name | Role::Identifier => (None, false, false),
            };
            if changed {
                report.columns[i].changed += 1;
            }
            if emptied {
                report.columns[i].emptied += 1;
                if report.problems.len() < MAX_PROBLEMS {
                    report.problems.push(Problem {
                        line: Some(line),
                        message: format!("column {} is not a valid {}; emptied", i + 1, c.role.word()),
                    });
                }
            }
            outputs[i] = value;
        }
        out.clear();
        for &i in &plan.written {
            match outputs[i].take() {
                Some(s) => out.push_field(s.as_bytes()),
                None if enc == Encoding::Utf8 => out.push_field(record.get(i).unwrap_or_default()),
                None => out.push_field(fields[i].as_bytes()),
            }
        }
        // Each row is held back until the next record is read (written above): a quoted field
        // that is never closed swallows every line after it into the last row, which is then
        // dropped.
        std::mem::swap(&mut out, &mut held_row);
        let multiline = record.iter().any(|f| f.contains(&b'\n') || f.contains(&b'\r'));
        held = Some((line, multiline.then(|| row_like_lines(&record, options.delimiter, width))));
    }
    if let Some((line, multiline)) = held.take() {
        // After a cut, the held row ended before the row that was cut began.
        if let Some(swallowed) = multiline.filter(|_| !reader.get_ref().cut && reader.get_ref().quotes % 2 == 1) {
            report.drop_record(
                line,
                "a quoted field is not closed before the end of the file; this row and the lines after it were dropped"
                    .to_string(),
                &swallowed,
            );
        } else {
            writer.write_byte_record(&held_row).map_err(csv_write)?;
            report.rows_written += 1;
        }
    }
    writer.flush().map_err(Error::Write)?;
    report.encoding = Some(transcoded.unwrap_or(if encoding == Encoding::Auto { Encoding::Utf8 } else { encoding }));
    let mut input = reader.into_inner();
    input.bounded = false;
    // Read anything the parser did not (nothing, normally) so the digest covers the file.
    io::copy(&mut input, &mut io::sink()).map_err(Error::Read)?;
    use sha2::Digest;
    let digest = InputDigest { sha256: hex::encode(input.hasher.finalize()), bytes: input.bytes };
    Ok((report, digest))
}

/// The note of the first free-text value removed instead of cleaned: the row that could not
/// be read is named by its line (its patient is not named).
fn withheld_message(unread: u64) -> String {
    format!(
        "free text removed, not cleaned: a row of this patient (line {unread}) could not be read, so the identifiers it holds are unknown; the patient's free text in this file is removed (fix that row and run again to keep it cleaned)"
    )
}

impl CsvReport {
    fn drop_row(&mut self, line: u64, message: String) {
        self.rows_dropped += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem { line: Some(line), message: format!("row dropped: {message}") });
        }
    }

    /// Drop the record starting on `line`, and the rows its quoted field read in (`swallowed`,
    /// offsets from `line`, [`row_like_lines`]): each is reported at its own line and counted.
    /// They are not read again as rows of their own: a line inside a quoted field may be that
    /// field's text as well as a row, and read as a row it could release one patient's text
    /// as another's. Fixing the quote and running again keeps them.
    fn drop_record(&mut self, line: u64, message: String, swallowed: &[u64]) {
        if swallowed.is_empty() {
            self.drop_row(line, message);
            return;
        }
        let lines: Vec<String> = swallowed.iter().map(|o| (line + o).to_string()).collect();
        let which = match lines.as_slice() {
            [one] => format!("line {one} inside it reads as a row and was"),
            more => format!("lines {} inside it read as rows and were", more.join(", ")),
        };
        self.drop_row(line, format!("{message}; a quote is probably not closed: {which} dropped with it"));
        for o in swallowed {
            self.drop_row(line + o, format!("read into the row of line {line} by a quote that is probably not closed"));
        }
    }
}

fn csv_read(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::Read(e),
        other => Error::Read(io::Error::other(format!("{other:?}"))),
    }
}

fn csv_write(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::Write(e),
        other => Error::Write(io::Error::other(format!("{other:?}"))),
    }
}

/// A `kamei clinical csv` run.
#[derive(Debug)]
pub struct CsvJob {
    /// Input files (folders already expanded by the caller); each is written to
    /// `out/<its file name>` cleaned of its rows' identifiers (README, Output names), so names must
    /// be distinct.
    pub inputs: Vec<PathBuf>,
    /// The output folder.
    pub out: PathBuf,
    /// Column roles.
    pub columns: Columns,
    /// The keyed pseudonymizer (the one `kamei deid` uses).
    pub pseudo: Pseudonymizer,
    /// Encoding, delimiter, dates.
    pub options: CsvOptions,
    /// Append `patient,<original ID>,<pseudonym>` and `file,<input>,<output>` rows here (and
    /// `failed` and `excluded` rows for inputs nothing was written for).
    pub linkage: Option<PathBuf>,
    /// `fsync` outputs before renaming them into place.
    pub sync: bool,
    /// Identifying values from files that are not released (`--identifiers-from`).
    pub sources: IdentifierSources,
}

/// Totals of a run.
#[derive(Debug, Clone, Default)]
pub struct CsvSummary {
    /// Input files.
    pub files: usize,
    /// Files written.
    pub written: usize,
    /// Files already present, the same bytes, from an earlier identical run.
    pub present: usize,
    /// Files that failed (nothing written for them).
    pub failed: usize,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows written.
    pub rows_written: u64,
    /// Malformed rows dropped.
    pub rows_dropped: u64,
    /// Rows left out (opted-out patients, patients not in the cohort).
    pub rows_excluded: u64,
    /// Distinct patients of those rows.
    pub patients_excluded: usize,
    /// Files of which nothing was written because every row was left out.
    pub excluded_files: usize,
    /// Files of which nothing was written because they had no row to write (a header only,
    /// every row dropped as malformed): their name was checked against no row.
    pub empty_files: usize,
    /// Values emptied because they did not parse in their role.
    pub values_emptied: u64,
    /// Distinct patients (by pseudonym).
    pub patients: usize,
    /// Input bytes.
    pub bytes: u64,
    /// Wall time.
    pub elapsed: std::time::Duration,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
}

/// Why a run could not start or finish its bookkeeping (exit code 2).
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError {
    /// The output folder, its settings file or its audit log could not be used.
    Output(String),
    /// The linkage table could not be written.
    Linkage(crate::linkage::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Output(m) => f.write_str(m),
            RunError::Linkage(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Linkage(e) => Some(e),
            RunError::Output(_) => None,
        }
    }
}

/// The manifest of a CSV output folder: for each output file, its patient-id, date and
/// quasi-identifier columns (names only), read by `kamei link report` and
/// `kamei link k-anonymity`.
pub const MANIFEST_FILE: &str = "kamei-columns.json";

/// One output file in [`MANIFEST_FILE`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    /// The patient-id column (holds pseudonyms).
    pub patient_id: Option<String>,
    /// Date columns (shifted dates).
    pub dates: Vec<String>,
    /// Quasi-identifier columns.
    pub quasi: Vec<String>,
}

/// Read the manifest of a CSV output folder (empty if there is none).
///
/// # Errors
/// I/O errors other than a missing file, and unparseable manifests.
pub fn read_manifest(dir: &Path) -> io::Result<BTreeMap<String, ManifestEntry>> {
    match std::fs::read_to_string(dir.join(MANIFEST_FILE)) {
        Ok(text) => serde_json::from_str(&text).map_err(io::Error::other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(e),
    }
}

impl CsvJob {
    fn option_names(&self) -> Vec<String> {
        if self.options.retain_dates {
            vec![ClinicalOption::RetainLongModifiedDates.name().to_string()]
        } else {
            Vec::new()
        }
    }

    fn digest(&self) -> String {
        let policy = self.pseudo.date_shift_policy();
        let shift = format!("{}:{}", policy.max_days, policy.keep_weekday);
        let delimiter = [self.options.delimiter];
        let mut parts: Vec<&[u8]> = vec![self.columns.sha256().as_bytes(), shift.as_bytes(), &delimiter];
        // Without sources the digest is what it was before they existed (OUT folders made
        // then stay usable).
        parts.extend(self.sources.digests.iter().map(|d| d.as_bytes()));
        super::settings_digest(&parts)
    }
}

/// Run `kamei clinical csv`: each input is streamed to `out/<file name>` (cleaned of its rows'
/// identifiers, as README's Output names says) atomically, with one audit record per input in
/// `out/kamei-audit.jsonl`.
///
/// # Errors
/// [`RunError`] when the output folder or the linkage table cannot be used; per-file failures
/// are counted in the summary and reported, never errors.
pub fn run(job: &CsvJob, reporter: &dyn Reporter, interrupt: &AtomicBool) -> Result<CsvSummary, RunError> {
    let started = std::time::Instant::now();
    let out_err = |what: &str, e: &dyn std::fmt::Display| RunError::Output(format!("{what}: {e}"));
    let options = job.option_names();
    let digest = job.digest();
    let mut excluded_patients: HashSet<String> = HashSet::new();
    let mut settings = super::settings(&job.pseudo, "clinical-csv", &digest, &options);
    settings.cohort = job.options.cohort.as_ref().and_then(|c| c.digest(&job.pseudo));
    let super::Books { audit_path, mut audit, mut linkage } =
        super::open_books(&job.out, &settings, job.linkage.as_deref())?;
    let staging = job.out.join(".kamei-partial");
    let mut manifest = read_manifest(&job.out).map_err(|e| out_err("could not read the manifest", &e))?;
    let mut summary = CsvSummary { files: job.inputs.len(), ..CsvSummary::default() };
    let mut patients = std::collections::HashSet::new();
    // Output names given in this run: two inputs never share one.
    let mut names: HashSet<String> = HashSet::new();
    for (number, input) in job.inputs.iter().enumerate() {
        if interrupt.load(Ordering::Relaxed) {
            summary.interrupted = true;
            break;
        }
        // The name as Windows wrote it (Shift_JIS) when it is not UTF-8, so that an ID or a
        // date in it is found; `None` when its bytes read as neither.
        let input_name = input.file_name().map_or(Some("input.csv".to_string()), |n| {
            Some(crate::verify::path_names::name_text(n)).filter(|t| !t.contains(char::REPLACEMENT_CHARACTER))
        });
        let name_bytes =
            input.file_name().map(|n| crate::linkage::path_bytes(Path::new(n)).into_owned()).unwrap_or_default();
        let input_name = input_name.unwrap_or_else(|| UNREADABLE_NAME.to_string());
        let mut name = input_name.clone();
        // Messages name the file by its output name once it is known, and before that (a file
        // that fails) as `input #N (sha256 …)`, never by its input name: a per-patient export's
        // input name holds the patient's ID.
        let mut label = None;
        let mut link_rows: Vec<(String, String)> = Vec::new();
        // This input's patients: counted in the summary only when its output is written (a file
        // that fails has released no one).
        let mut file_patients: HashSet<String> = HashSet::new();
        let result = std::fs::File::open(input).map_err(Error::Read).and_then(|file| {
            super::commit_named(
                &staging,
                job.sync,
                |w| {
                    let tag = job.pseudo.token("csv-output-name", &name_bytes, 8);
                    let mut seen = Seen {
                        name: OutputName::new(&input_name, tag),
                        patients: &mut file_patients,
                        link_rows: linkage.is_some().then_some(&mut link_rows),
                    };
                    // First pass: each patient's identifying values across the file, for
                    // the free text of every row of theirs.
                    let mut options = job.options.clone();
                    if options.encoding == Encoding::Auto {
                        let whole = std::fs::File::open(input).map_err(Error::Read)?;
                        options.encoding = detect_encoding(io::BufReader::new(whole))?;
                    }
                    let first = std::fs::File::open(input).map_err(Error::Read)?;
                    let mut known = PatientValues::collect(first, &job.columns, &options, interrupt)?;
                    known.add_sources(&job.sources);
                    let setup =
                        FileSetup { columns: &job.columns, pseudo: &job.pseudo, options: &options, known: &known };
                    let (report, digest) = deidentify(file, w, setup, interrupt, &mut seen)?;
                    if let Some(cohort) = &job.options.cohort {
                        seen.name.see_register(cohort, &job.pseudo);
                    }
                    Ok((report, digest, seen.name))
                },
                |(report, _, in_name)| {
                    let dates = in_name.date_treatment(job.options.retain_dates, &job.pseudo);
                    let Some(name) = in_name.output_name(report.rows_written, dates)? else { return Ok(None) };
                    if !names.insert(name.clone()) {
                        return Err(Error::OutputNameTaken);
                    }
                    Ok(Some(job.out.join(name)))
                },
            )
        });
        let result = match result {
            Ok(((report, digest_in, _), Some((target, committed)))) => {
                patients.extend(file_patients);
                name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                label = Some(super::sanitize(&name));
                Ok(((report, digest_in), committed))
            }
            Ok(((report, digest_in, _), None)) => {
                // No row was written: every row was left out, or there was none to write (a
                // header only, every row dropped). Its name was checked against no row, so it
                // is neither released nor printed: the file is named by its place.
                summary.rows_read += report.rows_read;
                summary.rows_excluded += report.rows_excluded;
                summary.rows_dropped += report.rows_dropped;
                excluded_patients.extend(report.excluded_patients.iter().cloned());
                let label = super::input_label(number + 1, Some(&digest_in.sha256));
                for p in &report.problems {
                    reporter.problem(&label, p);
                }
                let (outcome, kind, reason) = if report.rows_excluded > 0 {
                    summary.excluded_files += 1;
                    (Outcome::Excluded, crate::linkage::Kind::Excluded, EVERY_ROW_LEFT_OUT)
                } else {
                    summary.empty_files += 1;
                    reporter.problem(&label, &Problem { line: None, message: format!("not written: {NO_ROW}") });
                    (Outcome::Skipped, crate::linkage::Kind::Skipped, NO_ROW)
                };
                // The linkage table accounts for every input, as README's opt-outs promise.
                if let Some(l) = linkage.as_mut() {
                    l.add_path(kind, input, reason).map_err(RunError::Linkage)?;
                }
                let record = RecordParts::nothing_written(
                    (Some(digest_in.sha256), digest_in.bytes),
                    outcome,
                    reason.into(),
                    "clinical-csv",
                    &digest,
                    &options,
                );
                audit.append(&record.build()).map_err(|e| RunError::Output(e.to_string()))?;
                continue;
            }
            Err(e) => Err(e),
        };
        let label = label.unwrap_or_else(|| super::input_label(number + 1, file_sha256(input).as_deref()));
        let record = match result {
            Ok(((report, digest_in), committed)) => {
                summary.bytes += digest_in.bytes;
                summary.rows_read += report.rows_read;
                for p in &report.problems {
                    reporter.problem(&label, p);
                }
                let omitted = (report.rows_dropped as usize
                    + report.columns.iter().map(|c| c.emptied as usize).sum::<usize>())
                .saturating_sub(report.problems.len());
                if omitted > 0 {
                    reporter.problem(
                        &label,
                        &Problem {
                            line: None,
                            message: format!("{omitted} more problems (counts are in the audit log)"),
                        },
                    );
                }
                let mut notes: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
                notes.insert(0, format!("encoding {}", report.encoding.unwrap_or(Encoding::Utf8).name()));
                let mut actions: Vec<ActionCount> = report
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ActionCount {
                        tag: format!("column {}", i + 1),
                        action: if c.written {
                            c.role.word().to_string()
                        } else {
                            format!("{} (removed)", c.role.word())
                        },
                        count: c.changed.min(u64::from(u32::MAX)) as u32,
                    })
                    .collect();
                for (what, n) in [
                    ("written", report.rows_written),
                    ("dropped", report.rows_dropped),
                    ("excluded", report.rows_excluded),
                ] {
                    actions.push(ActionCount {
                        tag: "rows".into(),
                        action: what.into(),
                        count: n.min(u64::from(u32::MAX)) as u32,
                    });
                }
                let emptied: u64 = report.columns.iter().map(|c| c.emptied).sum();
                if committed == Committed::Collision {
                    summary.failed += 1;
                    let reason = format!(
                        "{name} already exists in the output folder with other content; remove it or use a new output folder"
                    );
                    reporter.problem(&label, &Problem { line: None, message: reason.clone() });
                    // The linkage table accounts for every input, this one too.
                    if let Some(l) = linkage.as_mut() {
                        l.add_path(crate::linkage::Kind::Failed, input, &reason).map_err(RunError::Linkage)?;
                    }
                    RecordParts::nothing_written(
                        (Some(digest_in.sha256), digest_in.bytes),
                        Outcome::Failed,
                        reason,
                        "clinical-csv",
                        &digest,
                        &options,
                    )
                } else {
                    match committed {
                        Committed::Present => summary.present += 1,
                        _ => summary.written += 1,
                    }
                    summary.rows_written += report.rows_written;
                    summary.rows_dropped += report.rows_dropped;
                    summary.rows_excluded += report.rows_excluded;
                    excluded_patients.extend(report.excluded_patients.iter().cloned());
                    summary.values_emptied += emptied;
                    manifest.insert(
                        name.clone(),
                        ManifestEntry {
                            patient_id: report.patient_column.clone(),
                            dates: report.date_columns.clone(),
                            quasi: report.quasi_columns.clone(),
                        },
                    );
                    if let Some(l) = linkage.as_mut() {
                        for (original, pseudonym) in &link_rows {
                            l.add(crate::linkage::Kind::Patient, original, pseudonym).map_err(RunError::Linkage)?;
                        }
                        l.add_path(crate::linkage::Kind::File, input, &name).map_err(RunError::Linkage)?;
                    }
                    let outcome = if committed == Committed::Present { Outcome::Present } else { Outcome::Written };
                    RecordParts {
                        sha256: Some(digest_in.sha256),
                        bytes: digest_in.bytes,
                        outcome,
                        reason: None,
                        output: Some(name.clone()),
                        actions,
                        notes,
                        profile: "clinical-csv",
                        digest: &digest,
                        options: &options,
                    }
                }
            }
            Err(Error::Interrupted) => {
                summary.interrupted = true;
                break;
            }
            Err(e) => {
                summary.failed += 1;
                let reason = e.audit_reason();
                reporter.problem(&label, &Problem { line: None, message: format!("failed: {e}") });
                if let Some(l) = linkage.as_mut() {
                    l.add_path(crate::linkage::Kind::Failed, input, &reason).map_err(RunError::Linkage)?;
                }
                let bytes = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
                RecordParts::nothing_written(
                    (file_sha256(input), bytes),
                    Outcome::Failed,
                    reason,
                    "clinical-csv",
                    &digest,
                    &options,
                )
            }
        };
        audit.append(&record.build()).map_err(|e| RunError::Output(e.to_string()))?;
    }
    drop(audit);
    crate::audit::compact(&audit_path).map_err(|e| RunError::Output(e.to_string()))?;
    write_manifest(&job.out, &manifest).map_err(|e| out_err("could not write the manifest", &e))?;
    if let Some(l) = linkage.as_mut() {
        l.flush().map_err(RunError::Linkage)?;
    }
    let _ = std::fs::remove_dir(&staging);
    summary.patients = patients.len();
    summary.patients_excluded = excluded_patients.len();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Why an input none of whose rows was written because all were left out is not written.
const EVERY_ROW_LEFT_OUT: &str = "every row belongs to a patient who is left out";

/// Why an input without a row to write (a header only, every row dropped as malformed) is not
/// written: a per-patient export's name holds the patient's ID and name, and without a row
/// they cannot be known.
const NO_ROW: &str = "it has no row to release (a header only, or every row was dropped), so its name could not be checked for the patient's identifiers";

/// What [`run`] keeps of one input's rows: the patients (for the summary and the linkage
/// table) and where their identifiers stand in the input's name.
struct Seen<'a> {
    name: OutputName,
    patients: &'a mut HashSet<String>,
    /// `patient` rows of the linkage table, when there is one.
    link_rows: Option<&'a mut Vec<(String, String)>>,
}

impl RowObserver for Seen<'_> {
    fn patient(&mut self, p: PatientSeen<'_>) {
        if p.excluded {
            return;
        }
        self.name.released(p.original, p.pseudonym);
        self.patients.insert(p.pseudonym.to_string());
        if let Some(rows) = self.link_rows.as_mut() {
            rows.push((p.original.to_string(), p.pseudonym.to_string()));
        }
    }

    fn wants_identifiers(&self) -> bool {
        true
    }

    fn identifiers(&mut self, ids: &Identifiers, pseudonym: Option<&str>, excluded: bool) {
        self.name.see(ids, pseudonym, excluded);
    }

    fn may_hold_date(&self, da: &str) -> bool {
        self.name.may_hold_date(da)
    }

    fn may_hold_name(&self, name: &str) -> bool {
        self.name.may_hold_name(name)
    }
}

fn write_manifest(dir: &Path, manifest: &BTreeMap<String, ManifestEntry>) -> io::Result<()> {
    let text = serde_json::to_string_pretty(manifest).map_err(io::Error::other)? + "\n";
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(dir.join(MANIFEST_FILE)).map_err(|e| e.error)?;
    Ok(())
}

/// SHA-256 of a file, streamed; `None` if it cannot be read.
pub(crate) fn file_sha256(path: &Path) -> Option<String> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path).ok()?;
    let mut h = sha2::Sha256::new();
    io::copy(&mut file, &mut h).ok()?;
    Some(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::DateShiftPolicy;
    use crate::pseudo::PseudonymKey;

    fn pseudo() -> Pseudonymizer {
        Pseudonymizer::new(&PseudonymKey::from_bytes([7; 32]), DateShiftPolicy::default())
    }

    fn columns() -> Columns {
        Columns::parse(include_str!("../../testdata/clinical/columns.example.toml")).unwrap()
    }

    fn run(input: &[u8], options: &CsvOptions) -> Result<(CsvReport, Vec<Vec<String>>), Error> {
        let mut out = Vec::new();
        let (report, _) = deidentify(
            input,
            &mut out,
            FileSetup {
                columns: &columns(),
                pseudo: &pseudo(),
                options,
                known: &PatientValues::collect(input, &columns(), options, &AtomicBool::new(false))?,
            },
            &AtomicBool::new(false),
            &mut |_: PatientSeen<'_>| {},
        )?;
        let mut rows = Vec::new();
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(out.as_slice());
        for rec in r.records() {
            rows.push(rec.unwrap().iter().map(str::to_string).collect());
        }
        Ok((report, rows))
    }

    fn retain() -> CsvOptions {
        CsvOptions { retain_dates: true, ..CsvOptions::default() }
    }

    #[test]
    fn roles_are_applied() {
        let input = "patient_id,patient_name,birth_date,age,sex,postal_code,visit_date,value,comment,ward_memo\n\
                     1234567890,架空 花子,1985-03-15,92,F,999-9999,2024-04-02,158.0,架空さん 03-0000-0000,x\n";
        let (report, rows) = run(input.as_bytes(), &retain()).unwrap();
        let p = pseudo();
        let id = p.patient_pseudonym(Patient::Id("1234567890"));
        let shifted = values::shift("2024-04-02", p.date_shift_days(Patient::Id("1234567890"))).unwrap();
        assert_eq!(
            rows[0],
            ["patient_id", "birth_date", "age", "sex", "postal_code", "visit_date", "value", "comment"]
        );
        assert_eq!(rows[1], [id.as_str(), "1985-03", "90+", "F", "999", shifted.as_str(), "158.0", "***さん ***"]);
        assert_eq!(report.rows_written, 1);
    }

    #[test]
    fn dates_are_removed_without_the_option() {
        let input = "patient_id,visit_date,value\nP1,2024-04-02,1\n";
        let (_, rows) = run(input.as_bytes(), &CsvOptions::default()).unwrap();
        assert_eq!(rows[0], ["patient_id", "value"]);
    }

    #[test]
    fn unknown_column_is_an_error_that_gives_its_position_not_its_name() {
        let err = run(b"patient_id,mystery\nP1,x\n", &CsvOptions::default()).unwrap_err();
        assert!(err.to_string().contains("column 2 not named"), "{err}");
        assert!(!err.to_string().contains("mystery") && !err.to_string().contains("must be the header"), "{err}");
    }

    #[test]
    fn malformed_rows_are_reported_with_their_line_and_skipped() {
        let input = "patient_id,value,comment\nP1,1,ok\nP2,2\n,3,no id\nP4,\"multi\nline\",x\nP5,5,\"unterminated\n";
        let (report, rows) = run(input.as_bytes(), &CsvOptions::default()).unwrap();
        assert_eq!(report.rows_dropped, 3, "{:?}", report.problems);
        let lines: Vec<u64> = report.problems.iter().filter_map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 7]);
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(rows[2][1], "multi\nline");
    }

    #[test]
    fn a_broken_row_has_the_same_line_in_a_crlf_file_as_in_an_lf_file() {
        let lf = "patient_id,value,comment\nP1,1,ok\nP2,2\n,3,no id\nP4,\"multi\nline\",x\nP5,5,\"unterminated\n";
        let blank = "patient_id,value,comment\n\nP1,1,ok\n\n\nP2,2\n";
        for (input, expected) in [(lf, vec![3, 4, 7]), (blank, vec![6])] {
            for text in [input.to_string(), input.replace('\n', "\r\n")] {
                let (report, _) = run(text.as_bytes(), &CsvOptions::default()).unwrap();
                let lines: Vec<u64> = report.problems.iter().filter_map(|p| p.line).collect();
                assert_eq!(lines, expected, "{text:?}");
            }
        }
    }

    #[test]
    fn a_quote_left_open_at_the_end_drops_the_rows_it_swallowed() {
        let input = "patient_id,comment\nP1,\"open\nP2 架空様\nP3 見本様\n";
        let (report, rows) = run(input.as_bytes(), &CsvOptions::default()).unwrap();
        assert_eq!(report.rows_dropped, 1, "{:?}", report.problems);
        assert!(report.problems[0].message.contains("not closed"), "{:?}", report.problems);
        assert_eq!(rows.len(), 1, "only the header: {rows:?}");
    }

    #[test]
    fn rv17_02_a_multiline_row_before_a_row_whose_quote_is_never_closed_is_written() {
        // The row after it ends the held row whether it is dropped as swallowing rows, for its
        // width, or at the end of the file: only that row is dropped, at its own line.
        // A swallowed line shaped like a row is a dropped row of its own (line 5).
        for (input, dropped) in [
            ("patient_id,comment\nP1,\"first\nsecond\"\nP1,\"open\nP2,next\n", &[4, 5][..]),
            ("patient_id,comment\nP1,\"first\nsecond\"\nP1,\"open\nP2,next,x\n", &[4, 5]),
            ("patient_id,comment\nP1,\"first\nsecond\"\nP1,\"open\nplain\n", &[4]),
        ] {
            let (report, rows) = run(input.as_bytes(), &CsvOptions::default()).unwrap();
            let counts = (report.rows_written, report.rows_dropped);
            assert_eq!(counts, (1, dropped.len() as u64), "{input:?}: {:?}", report.problems);
            let lines: Vec<u64> = report.problems.iter().filter_map(|p| p.line).collect();
            assert_eq!(lines, dropped, "{input:?}: {:?}", report.problems);
            assert_eq!(rows.len(), 2, "{input:?}: {rows:?}");
            assert_eq!(rows[1][1], "first\nsecond");
        }
    }

    #[test]
    fn a_quote_left_open_is_cut_at_the_record_bound() {
        // rv7-12: the swallowed lines are not all held in memory: the row is cut at the bound.
        let mut input = b"patient_id,comment\nP1,\"multi\nline\"\nP2,\"open\n".to_vec();
        let line = [b'x'; 99];
        while (input.len() as u64) < 2 * MAX_RECORD_BYTES {
            input.extend_from_slice(&line);
            input.push(b'\n');
        }
        let size = input.len() as u64;
        let columns = Columns::parse("[columns]\npatient_id = \"patient-id\"\ncomment = \"keep\"\n").unwrap();
        let mut out = Vec::new();
        let (report, digest) = deidentify(
            input.as_slice(),
            &mut out,
            FileSetup {
                columns: &columns,
                pseudo: &pseudo(),
                options: &CsvOptions::default(),
                known: &PatientValues::default(),
            },
            &AtomicBool::new(false),
            &mut |_: PatientSeen<'_>| {},
        )
        .unwrap();
        assert_eq!((report.rows_written, report.rows_dropped), (1, 1), "{:?}", report.problems);
        assert_eq!(report.problems[0].line, Some(4));
        assert!(report.problems[0].message.contains("more than 4 MiB"), "{:?}", report.problems);
        assert_eq!(digest.bytes, size, "the digest still covers the whole file");
        assert!(String::from_utf8(out).unwrap().ends_with("\"multi\nline\"\n"));
    }

    #[test]
    fn rv30_every_row_a_quote_left_open_swallowed_is_reported_and_counted() {
        // The unclosed quote of line 2 closes inside line 3 (`"VIP"`): one record of 6 fields.
        // Both patients' rows are lost: both lines are reported, and neither is read again as
        // a row (the second line could be the first row's note).
        let input = "patient_id,patient_name,value,comment\n\
                     1234567890,架空 花子,5,\"unclosed note\n\
                     2234567890,山田 太郎 \"VIP\",6,ok\n\
                     3234567890,見本 次郎,7,fine\n";
        for text in [input.to_string(), input.replace('\n', "\r\n")] {
            let (report, rows) = run(text.as_bytes(), &CsvOptions::default()).unwrap();
            assert_eq!((report.rows_written, report.rows_dropped), (1, 2), "{:?}", report.problems);
            let lines: Vec<u64> = report.problems.iter().filter_map(|p| p.line).collect();
            assert_eq!(lines, [2, 3], "{:?}", report.problems);
            assert!(report.problems[0].message.contains("line 3 inside it reads as a row"), "{:?}", report.problems);
            assert!(report.problems[1].message.contains("read into the row of line 2"), "{:?}", report.problems);
            assert_eq!(rows.len(), 2, "the header and line 4: {rows:?}");
            assert!(rows.iter().all(|r| r.iter().all(|f| !f.contains("山田") && !f.contains("架空"))), "{rows:?}");
        }
    }

    #[test]
    fn a_quoted_field_holding_lines_shaped_like_rows_is_dropped() {
        let input = "patient_id,value,comment\nP1,1,\"open\nP2,2,虚構様\nP3,3,\"closed\"\nP4,4,ok\n";
        let (report, rows) = run(input.as_bytes(), &CsvOptions::default()).unwrap();
        assert!(
            report.problems.iter().any(|p| p.message.contains("quote is probably not closed")),
            "{:?}",
            report.problems
        );
        assert!(rows.iter().all(|r| r.iter().all(|f| !f.contains("虚構"))), "{rows:?}");
    }

    #[test]
    fn a_first_row_that_looks_like_data_is_not_printed() {
        let err = run("1234567890,架空 花子,2024-02-01\n".as_bytes(), &CsvOptions::default()).unwrap_err();
        let text = format!("{err} {}", err.audit_reason());
        assert!(!text.contains("1234567890") && !text.contains("架空"), "{text}");
        assert!(text.contains("columns 1, 2, 3"), "{text}");
    }

    #[test]
    fn a_first_row_of_data_with_no_number_or_date_is_not_printed_either() {
        // rv7-05: an ID holding a letter, a name, sex, an address: nothing shaped like a number.
        let input = "A1234567,山田 太郎,男,東京都千代田区1-1\nA7654321,佐藤 花子,女,大阪府大阪市2-2\n";
        let err = run(input.as_bytes(), &CsvOptions::default()).unwrap_err();
        let text = format!("{err} {}", err.audit_reason());
        for value in ["A1234567", "山田", "男", "千代田"] {
            assert!(!text.contains(value), "{text}");
        }
        assert!(text.contains("columns 1, 2, 3, 4") && text.contains("must be the header"), "{text}");
    }

    #[test]
    fn no_message_names_a_column() {
        let err = run(b"value,comment\n1,x\n", &CsvOptions::default()).unwrap_err();
        assert!(matches!(err, Error::NoPatientId { column: 2, .. }), "{err}");
        assert!(!err.to_string().contains("comment"), "{err}");
        let (report, _) = run(b"patient_id,visit_date\nP1,soon\n", &retain()).unwrap();
        assert_eq!(report.problems.len(), 1);
        let note = report.problems[0].to_string();
        assert!(note.contains("column 2 is not a valid date") && !note.contains("visit_date"), "{note}");
    }

    #[test]
    fn the_audit_reason_names_no_column() {
        let err = run(b"patient_id,mystery\nP1,x\n", &CsvOptions::default()).unwrap_err();
        assert!(!err.audit_reason().contains("mystery"), "{}", err.audit_reason());
    }

    #[test]
    fn a_register_without_a_patient_column_is_refused() {
        let register = crate::cohort::Register::parse("P1\n").unwrap();
        let cohort = crate::cohort::Cohort::new(Some(register), None, None);
        let options = CsvOptions { cohort: Some(std::sync::Arc::new(cohort)), ..CsvOptions::default() };
        let err = run(b"value,sex\n1,F\n", &options).unwrap_err();
        assert!(matches!(err, Error::CohortNeedsPatientId), "{err}");
    }

    #[test]
    fn one_stray_byte_costs_its_row_not_the_file() {
        let mut input = b"patient_id,comment\nP1,caf\xe9\n".to_vec();
        input.extend("P2,特記なし\nP3,特記なし\n".as_bytes());
        let (report, rows) = run(&input, &CsvOptions::default()).unwrap();
        assert_eq!(report.encoding, Some(Encoding::Utf8));
        assert_eq!((report.rows_dropped, rows.len()), (1, 3), "{rows:?}");
    }

    /// The output name of `name` once rows with these (patient ID, name, birth date, left out)
    /// were read; pseudonyms are `P<ID>`, the tag `TAG`; dates kept shifted.
    fn output_name(name: &str, rows: &[(&str, &str, &str, bool)], written: u64) -> Result<Option<String>, Error> {
        output_name_with(name, rows, written, true)
    }

    /// [`output_name`], dates kept shifted (`retain_dates`) or removed.
    fn output_name_with(
        name: &str,
        rows: &[(&str, &str, &str, bool)],
        written: u64,
        retain_dates: bool,
    ) -> Result<Option<String>, Error> {
        let plan =
            plan(&["patient_id".into(), "patient_name".into(), "birth_date".into()], &columns(), &retain()).unwrap();
        let mut n = OutputName::new(name, "TAG".into());
        for (id, person, birth, excluded) in rows {
            let fields = [Cow::Borrowed(*id), Cow::Borrowed(*person), Cow::Borrowed(*birth)];
            let pseudonym = format!("P{id}");
            n.see(&row_identifiers(&plan, &fields, id), Some(&pseudonym), *excluded);
            if !excluded {
                n.released(id, &pseudonym);
            }
        }
        n.output_name(written, n.date_treatment(retain_dates, &pseudo()))
    }

    /// `date` (`YYYYMMDD`) shifted by the offset of patient `id` under [`pseudo`], as `format`.
    fn shifted(id: &str, date: &str, format: &str) -> String {
        let d = chrono::NaiveDate::parse_from_str(date, "%Y%m%d").unwrap();
        let days = pseudo().date_shift_days(Patient::Id(id));
        crate::dates::shift(d, days).unwrap().format(format).to_string()
    }

    #[test]
    fn an_output_name_longer_than_255_bytes_is_cut_before_its_tag() {
        // rv22 suspect 15: the pseudonym made the name too long for the file system.
        let rows = [("1234567", "", "", false)];
        let input = format!("{}_1234567.csv", "検".repeat(80));
        assert!(input.len() <= 255);
        let name = output_name(&input, &rows, 1).unwrap().unwrap();
        assert!(name.len() <= 255, "{}", name.len());
        assert!(name.starts_with("検検") && name.ends_with("_TAG.csv"), "{name}");
        assert!(!name.contains("1234567"));
        let short = output_name("labs_1234567.csv", &rows, 1).unwrap().unwrap();
        assert_eq!(short, "labs_P1234567_TAG.csv", "a name that fits is not cut");
    }

    #[test]
    fn rv9_06_a_date_in_the_file_name_is_shifted_by_the_patients_offset() {
        let rows = [("0001234567", "", "", false), ("0001234567", "", "", false)];
        let name = |n: &str| output_name(n, &rows, 2).unwrap().unwrap();
        let compact = shifted("0001234567", "20240201", "%Y%m%d");
        let dashed = shifted("0001234567", "20240201", "%Y-%m-%d");
        assert_eq!(name("labs_20240201.csv"), format!("labs_{compact}_TAG.csv"));
        assert_eq!(name("labs_2024-02-01.csv"), format!("labs_{dashed}_TAG.csv"));
        assert_eq!(name("labs20240201.csv"), format!("labs{compact}_TAG.csv"), "glued to letters");
        assert_eq!(name("CT 2024-02-01T0930.csv"), format!("CT {dashed}T0930_TAG.csv"));
        assert_eq!(
            name("0001234567_20240201.csv"),
            format!("P0001234567_{compact}_TAG.csv"),
            "the ID becomes the pseudonym, the date is shifted"
        );
        let era = name("S60.3.15_labs.csv");
        assert_eq!(era, "date_labs_TAG.csv", "an era date cannot be shifted in its spelling");
        let d = shifted("0001234567", "20240201", "%d-%b-%Y").to_uppercase();
        assert_eq!(name("labs_01-FEB-2024.csv"), format!("labs_{d}_TAG.csv"));
    }

    #[test]
    fn rv9_06_a_date_in_the_file_name_is_replaced_when_dates_are_removed() {
        let rows = [("1234567890", "", "", false)];
        let name = |n: &str| output_name_with(n, &rows, 1, false).unwrap().unwrap();
        assert_eq!(name("labs_20240201.csv"), "labs_date_TAG.csv");
        assert_eq!(name("labs_2024-02-01_to_2024-03-01.csv"), "labs_date_to_date_TAG.csv");
        assert_eq!(name("1234567890_2024年2月1日.csv"), "P1234567890_date_TAG.csv");
        assert_eq!(name("検査_２０２４／０２／０１.csv"), "検査_date_TAG.csv", "full width");
    }

    #[test]
    fn rv9_06_a_date_in_the_name_of_a_file_of_several_patients_or_none_is_replaced() {
        let two = [("1111111", "", "", false), ("2222222", "", "", false)];
        assert_eq!(output_name("labs_20240201.csv", &two, 2).unwrap().as_deref(), Some("labs_date_TAG.csv"));
        // Rows of nobody: a file without a patient-id column.
        assert_eq!(output_name("labs_20240201.csv", &[], 1).unwrap().as_deref(), Some("labs_date_TAG.csv"));
        // A left-out patient's rows are not written: the one released patient's offset applies.
        let one = [("1111111", "", "", false), ("2222222", "", "", true)];
        let want = format!("labs_{}_TAG.csv", shifted("1111111", "20240201", "%Y%m%d"));
        assert_eq!(output_name("labs_20240201.csv", &one, 1).unwrap(), Some(want));
    }

    #[test]
    fn rv22_06_a_date_with_underscores_in_the_file_name_is_one_date() {
        let rows = [("1234567890", "", "", false)];
        let removed = |n: &str| output_name_with(n, &rows, 1, false).unwrap().unwrap();
        assert_eq!(removed("labs_2024_02_01.csv"), "labs_date_TAG.csv");
        assert_eq!(removed("rx_2024_2_1.csv"), "rx_date_TAG.csv");
        assert_eq!(removed("labs_2024_02.csv"), "labs_date_TAG.csv");
        let kept = |n: &str| output_name(n, &rows, 1).unwrap().unwrap();
        assert_eq!(
            kept("labs_2024_02_01.csv"),
            format!("labs_{}_TAG.csv", shifted("1234567890", "20240201", "%Y_%m_%d"))
        );
        assert_eq!(kept("rx_2024_2_1.csv"), format!("rx_{}_TAG.csv", shifted("1234567890", "20240201", "%Y_%-m_%-d")));
    }

    #[test]
    fn rv22_07_a_range_end_an_english_month_and_era_dates_in_the_file_name_are_not_left_real() {
        let rows = [("1234567890", "", "", false)];
        let removed = |n: &str| output_name_with(n, &rows, 1, false).unwrap().unwrap();
        for (name, want) in [
            ("labs_20240201-0205.csv", "labs_date_TAG.csv"),
            ("rx_2024-02-01_02-05.csv", "rx_date_TAG.csv"),
            ("img_Feb2024.csv", "img_date_TAG.csv"),
            ("img_2024-February.csv", "img_date_TAG.csv"),
            ("op_H31.04.csv", "op_date_TAG.csv"),
            ("adm_R060201.csv", "adm_date_TAG.csv"),
        ] {
            assert_eq!(removed(name), want, "{name}");
        }
        let kept = |n: &str| output_name(n, &rows, 1).unwrap().unwrap();
        let start = shifted("1234567890", "20240201", "%Y%m%d");
        assert_eq!(kept("labs_20240201-0205.csv"), format!("labs_{start}-date_TAG.csv"));
        let month = shifted("1234567890", "20240215", "%b%Y");
        assert_eq!(kept("img_Feb2024.csv"), format!("img_{month}_TAG.csv"));
        assert_eq!(kept("op_H31.04.csv"), "op_date_TAG.csv");
        for name in ["labs_v2_01.csv", "Febrile.csv", "CH31.04.csv", "labs_S123456.csv"] {
            assert_eq!(output_name(name, &rows, 1).unwrap().as_deref(), Some(name), "{name}");
        }
    }

    #[test]
    fn rv30_a_six_digit_date_in_the_file_name_is_shifted_when_it_reads_one_way_and_replaced_otherwise() {
        let rows = [("1234567890", "", "", false)];
        let kept = |n: &str| output_name(n, &rows, 1).unwrap().unwrap();
        // `851203` is 3 December 1985 only: no day 85, no month 85.
        let shifted_yymmdd = shifted("1234567890", "19851203", "%y%m%d");
        assert_eq!(kept("labs_851203.csv"), format!("labs_{shifted_yymmdd}_TAG.csv"));
        assert_eq!(kept("labs851203.csv"), format!("labs{shifted_yymmdd}_TAG.csv"), "glued to letters");
        // `240401` is 1 April 2024 or 24 April 2001; `010424` 24 April 2001 or 1 April 2024.
        for (name, want) in [
            ("labs_240401.csv", "labs_date_TAG.csv"),
            ("labs_240401_1234.csv", "labs_date_1234_TAG.csv"),
            ("labs_010424.csv", "labs_date_TAG.csv"),
            ("labs_060401.csv", "labs_date_TAG.csv"),
        ] {
            assert_eq!(kept(name), want, "{name}");
        }
        let removed = |n: &str| output_name_with(n, &rows, 1, false).unwrap().unwrap();
        assert_eq!(removed("labs_851203.csv"), "labs_date_TAG.csv");
        // No order makes a date, part of a longer number, or the time after a date: kept.
        for name in ["labs_123456.csv", "labs_1240401.csv", "labs_2404011.csv"] {
            assert_eq!(output_name(name, &rows, 1).unwrap().as_deref(), Some(name), "{name}");
        }
        let date = shifted("1234567890", "20240401", "%Y%m%d");
        assert_eq!(kept("ecg_20240401_093000.csv"), format!("ecg_{date}_093000_TAG.csv"));
    }

    #[test]
    fn rv22_09_a_name_with_an_honorific_glued_to_it_is_looked_for_in_the_file_name() {
        assert!(OutputName::new("山田太郎_labs.csv", "TAG".into()).may_hold_name("山田太郎様"));
        let rows = [("1234567", "山田太郎様", "", false)];
        assert_eq!(output_name("山田太郎_labs.csv", &rows, 1).unwrap().as_deref(), Some("P1234567_labs_TAG.csv"));
    }

    #[test]
    fn rv22_13_a_file_without_a_row_written_gets_no_output_name() {
        for name in ["labs_0001234567_山田太郎.csv", "labs.csv", "labs_20240201.csv"] {
            assert_eq!(output_name(name, &[], 0).unwrap(), None, "{name}");
        }
    }

    #[test]
    fn rv9_06_numbers_that_are_no_standalone_date_stay_in_the_file_name() {
        let rows = [("1234567890", "", "", false)];
        for name in ["labs_120240201.csv", "labs_2024.csv", "v1.20240201.csv", "labs_2024.13.01.csv", "HbA1c.csv"] {
            assert_eq!(output_name(name, &rows, 1).unwrap().as_deref(), Some(name));
        }
        let n = OutputName::new("labs_20240201.csv", "TAG".into());
        assert_eq!(n.output_name(1, DateTreatment::Keep).unwrap().as_deref(), Some("labs_20240201.csv"));
    }

    #[test]
    fn rv17_suspect_8_a_year_month_in_the_file_name_follows_the_dates() {
        let rows = [("0001234567", "", "", false)];
        let month = |format: &str| shifted("0001234567", "20240215", format);
        let name = |n: &str| output_name(n, &rows, 1).unwrap().unwrap();
        assert_eq!(name("labs_2024-02.csv"), format!("labs_{}_TAG.csv", month("%Y-%m")));
        assert_eq!(name("labs_202402.csv"), format!("labs_{}_TAG.csv", month("%Y%m")));
        assert_eq!(name("labs 2024.02.csv"), format!("labs {}_TAG.csv", month("%Y.%m")));
        assert_eq!(name("検査_2024年2月.csv"), format!("検査_{}_TAG.csv", month("%Y年%-m月")));
        let removed = |n: &str| output_name_with(n, &rows, 1, false).unwrap().unwrap();
        assert_eq!(removed("labs_2024-02.csv"), "labs_date_TAG.csv");
        assert_eq!(removed("labs_202402.csv"), "labs_date_TAG.csv");
        for kept in ["labs_2024-13.csv", "labs_1202402.csv", "labs_2024021.csv"] {
            assert_eq!(output_name(kept, &rows, 1).unwrap().as_deref(), Some(kept));
        }
    }

    #[test]
    fn rv17_suspect_9_a_file_name_holding_an_opted_out_id_the_rows_do_not_give_is_not_written() {
        let register = crate::cohort::Register::parse("1234567\n").unwrap();
        let cohort = crate::cohort::Cohort::new(Some(register), None, None);
        let mut n = OutputName::new("labs_1234567_佐藤.csv", "TAG".into());
        n.released("7654321", "P7654321");
        n.see_register(&cohort, &pseudo());
        assert!(matches!(n.output_name(1, DateTreatment::Replace), Err(Error::NameHoldsExcludedId)));
        assert_eq!(n.output_name(0, DateTreatment::Replace).unwrap(), None);
        let mut other = OutputName::new("labs_7654321.csv", "TAG".into());
        other.see_register(&cohort, &pseudo());
        assert_eq!(other.output_name(1, DateTreatment::Replace).unwrap().as_deref(), Some("labs_7654321.csv"));
    }

    fn encoded(encoding: &'static encoding_rs::Encoding, text: &str) -> Vec<u8> {
        encoding.encode(text).0.into_owned()
    }

    #[test]
    fn rv17_suspect_15_euc_jp_is_told_from_shift_jis_and_a_tie_is_refused() {
        let text = "patient_id,comment\n0001234567,山田太郎さま ﾃｽﾄ 胸部CT\n";
        let detect = |bytes: Vec<u8>| detect_encoding(bytes.as_slice());
        assert_eq!(detect(encoded(EUC_JP, text)).unwrap(), Encoding::EucJp);
        assert_eq!(detect(encoded(SHIFT_JIS, text)).unwrap(), Encoding::ShiftJis);
        assert_eq!(detect(text.as_bytes().to_vec()).unwrap(), Encoding::Utf8);
        assert_eq!(detect(b"a,b\n1,2\n".to_vec()).unwrap(), Encoding::Utf8);
        // Kanji alone in EUC-JP are half-width katakana in Shift_JIS: nothing tells them apart.
        let kanji = encoded(EUC_JP, "patient_id,comment\n0001234567,山田\n");
        assert!(SHIFT_JIS.decode_without_bom_handling_and_without_replacement(&kanji).is_some());
        assert!(matches!(detect(kanji), Err(Error::AmbiguousEncoding)));
        // A Shift_JIS header with common kanji is invalid EUC-JP.
        let sjis = encoded(SHIFT_JIS, "患者ID,comment\n0001234567,ﾔﾏﾀﾞ\n");
        assert_eq!(detect(sjis).unwrap(), Encoding::ShiftJis);
    }

    #[test]
    fn a_greek_name_with_a_final_sigma_is_looked_for_in_the_file_name() {
        let n = OutputName::new("ΝΙΚΟΣ_labs.csv", "TAG".into());
        assert!(n.may_hold_name("Νικος"));
    }

    #[test]
    fn a_name_without_identifiers_is_kept() {
        let rows = [("1234567890", "YAMADA TARO", "1985-03-15", false)];
        assert_eq!(output_name("labs.csv", &rows, 1).unwrap().as_deref(), Some("labs.csv"));
    }

    #[test]
    fn a_patient_id_in_the_file_name_becomes_the_pseudonym() {
        let rows = [("1234567890", "", "", false), ("99", "", "", false)];
        assert_eq!(output_name("labs_1234567890.csv", &rows, 1).unwrap().as_deref(), Some("labs_P1234567890_TAG.csv"));
    }

    #[test]
    fn name_birth_date_and_unpadded_id_in_the_file_name_become_one_pseudonym() {
        let rows = [("0001234567", "YAMADA TARO", "1985-03-15", false)];
        let name = |n: &str| output_name(n, &rows, 1).unwrap().unwrap();
        assert_eq!(name("YAMADA_TARO_19850315_labs.csv"), "P0001234567_labs_TAG.csv");
        assert_eq!(name("labs_1234567.csv"), "labs_P0001234567_TAG.csv");
        assert_eq!(name("Taro Yamada 15-MAR-1985.csv"), "P0001234567_TAG.csv");
        assert_eq!(name("labs1234567.csv"), "labsP0001234567_TAG.csv");
    }

    #[test]
    fn rv17_03_an_id_padded_with_zeros_in_the_file_name_becomes_the_pseudonym() {
        let rows = [("1234567", "", "", false)];
        assert_eq!(output_name("labs_0001234567.csv", &rows, 1).unwrap().as_deref(), Some("labs_P1234567_TAG.csv"));
        let left_out = [("1234567", "", "", true), ("2222222", "", "", false)];
        assert_eq!(output_name("labs_0001234567.csv", &left_out[..1], 0).unwrap(), None);
        assert!(matches!(output_name("ward_0001234567.csv", &left_out, 1), Err(Error::NameHoldsExcludedId)));
    }

    #[test]
    fn a_japanese_name_joined_without_a_space_becomes_the_pseudonym() {
        let rows = [("PID5566778", "佐藤 花子", "", false)];
        assert_eq!(output_name("佐藤花子_検査.csv", &rows, 1).unwrap().as_deref(), Some("PPID5566778_検査_TAG.csv"));
    }

    #[test]
    fn a_date_is_looked_for_only_when_the_name_holds_its_day_and_year_digits() {
        let n = OutputName::new("labs_2024_S60.3.15.csv", "TAG".into());
        assert!(n.may_hold_date("19850315"), "Showa 60");
        assert!(n.may_hold_date("19240315"));
        assert!(!n.may_hold_date("19850316"));
        assert!(!n.may_hold_date("19700315"));
        assert!(OutputName::new("平成元年3月8日.csv", "TAG".into()).may_hold_date("19890308"));
        assert!(OutputName::new("１５ＭＡＲ８５.csv", "TAG".into()).may_hold_date("19850315"));
    }

    #[test]
    fn a_name_is_looked_for_only_when_the_file_name_holds_one_of_its_parts() {
        let n = OutputName::new("ﾔﾏﾀﾞ_labs.csv", "TAG".into());
        assert!(n.may_hold_name("やまだ たろう"));
        assert!(OutputName::new("Yamada_labs.csv", "TAG".into()).may_hold_name("YAMADA, TARO"));
        assert!(!n.may_hold_name("SATO HANAKO"));
    }

    #[test]
    fn identifiers_of_two_patients_become_their_own_pseudonyms() {
        let rows = [("1111111", "YAMADA TARO", "", false), ("2222222", "SATO HANAKO", "", false)];
        assert_eq!(
            output_name("YAMADA_and_SATO.csv", &rows, 2).unwrap().as_deref(),
            Some("P1111111_and_P2222222_TAG.csv")
        );
    }

    #[test]
    fn a_left_out_patient_id_in_the_file_name_writes_nothing_or_fails() {
        let rows = [("1234567890", "", "", true)];
        assert_eq!(output_name("1234567890.csv", &rows, 0).unwrap(), None);
        assert!(matches!(output_name("1234567890.csv", &rows, 3), Err(Error::NameHoldsExcludedId)));
    }

    #[test]
    fn a_left_out_patient_s_name_in_the_file_name_writes_nothing() {
        let rows = [("1234567890", "YAMADA TARO", "", true)];
        assert_eq!(output_name("YAMADA_labs.csv", &rows, 0).unwrap(), None);
    }

    #[test]
    fn shift_jis_is_detected_and_written_as_utf8() {
        let text = "患者ID,氏名,検査名,結果,コメント\n1234567890,架空 花子,ＨｂＡ１ｃ,5.6,①髙橋医師へ 架空様\n";
        let (sjis, _, unmappable) = SHIFT_JIS.encode(text);
        assert!(!unmappable);
        let (report, rows) = run(&sjis, &CsvOptions::default()).unwrap();
        assert_eq!(report.encoding, Some(Encoding::ShiftJis));
        assert_eq!(rows[0], ["患者ID", "検査名", "結果", "コメント"]);
        assert_eq!(rows[1][1], "ＨｂＡ１ｃ");
        assert_eq!(rows[1][3], "①髙橋医師へ ***様", "only the match is replaced");
    }

    #[test]
    fn utf8_bom_is_dropped_and_bytes_pass_through() {
        let input = "\u{FEFF}patient_id,test_name\nP1,ＨｂＡ１ｃ\n";
        let (report, rows) = run(input.as_bytes(), &CsvOptions::default()).unwrap();
        assert_eq!(report.encoding, Some(Encoding::Utf8));
        assert_eq!(rows[0], ["patient_id", "test_name"]);
        assert_eq!(rows[1][1], "ＨｂＡ１ｃ");
    }

    #[test]
    fn invalid_bytes_drop_the_row() {
        let mut input = b"patient_id,test_name\nP1,ok\nP2,".to_vec();
        input.extend_from_slice(&[0xFF, 0xFE]);
        input.extend_from_slice(b"\nP3,ok\n");
        let opts = CsvOptions { encoding: Encoding::Utf8, ..CsvOptions::default() };
        let (report, rows) = run(&input, &opts).unwrap();
        assert_eq!(report.rows_dropped, 1);
        assert_eq!(report.problems[0].line, Some(3));
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn unparseable_values_are_emptied_and_counted() {
        let input = "patient_id,visit_date,postal_code\nP1,unknown,not a code\n";
        let (report, rows) = run(input.as_bytes(), &retain()).unwrap();
        assert_eq!(rows[1][1..], ["", ""]);
        assert_eq!(report.columns[1].emptied, 1);
        assert!(!report.problems.iter().any(|p| p.message.contains("unknown")));
    }

    /// A [`CsvJob`] over `files` (name, text) written into a fresh folder, key 7.
    fn job(dir: &Path, files: &[(&str, &str)], optout: Option<&str>) -> CsvJob {
        let inputs = files
            .iter()
            .map(|(name, text)| {
                let path = dir.join("in").join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect();
        let cohort = optout.map(|ids| {
            let register = crate::cohort::Register::parse(ids).unwrap();
            std::sync::Arc::new(crate::cohort::Cohort::new(Some(register), None, None))
        });
        CsvJob {
            inputs,
            out: dir.join("out"),
            columns: columns(),
            pseudo: pseudo(),
            options: CsvOptions { cohort, ..CsvOptions::default() },
            linkage: Some(dir.join("link.csv")),
            sync: false,
            sources: IdentifierSources::default(),
        }
    }

    /// A patient master (`patient_id,patient_name,phone,birth_date`) in `dir`, read as
    /// `--identifiers-from` reads it.
    fn master(dir: &Path, text: &str) -> Result<IdentifierSources, (usize, Error)> {
        let path = dir.join("master.csv");
        std::fs::write(&path, text).unwrap();
        IdentifierSources::read(&[path], Some(&columns()), &CsvOptions::default(), &pseudo(), &AtomicBool::new(false))
    }

    /// The one output of a run over `job` (its only input).
    fn only_output(job: &CsvJob) -> String {
        let summary = super::run(job, &super::super::Silent, &AtomicBool::new(false)).unwrap();
        assert_eq!(summary.written, 1);
        let out = std::fs::read_dir(&job.out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "csv"))
            .unwrap();
        std::fs::read_to_string(out).unwrap()
    }

    const NOTES: &str = "patient_id,comment\n0001234567,山田太郎さんは 090-1111-2222 に連絡。1985年3月15日生\n";

    #[test]
    fn free_text_is_cleaned_of_the_identifiers_a_patient_master_gives() {
        let dir = tempfile::tempdir().unwrap();
        let mut job = job(dir.path(), &[("notes.csv", NOTES)], None);
        job.sources = master(
            dir.path(),
            "patient_id,patient_name,phone,birth_date\n0001234567,山田 太郎,090-1111-2222,1985-03-15\n",
        )
        .unwrap();
        let text = only_output(&job);
        for leaked in ["山田", "太郎", "1111", "1985"] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
    }

    #[test]
    fn without_a_patient_master_a_notes_file_keeps_a_name_it_does_not_list() {
        // The behaviour --identifiers-from exists for: the notes table alone does not know
        // the name (the pattern rules still take the phone number).
        let dir = tempfile::tempdir().unwrap();
        let job = job(dir.path(), &[("notes.csv", NOTES)], None);
        assert!(only_output(&job).contains("山田太郎"));
    }

    #[test]
    fn a_patient_master_gives_its_values_only_to_the_same_patient() {
        let dir = tempfile::tempdir().unwrap();
        let mut job = job(dir.path(), &[("notes.csv", "patient_id,comment\nP2,山田さんに説明\n")], None);
        job.sources = master(dir.path(), "patient_id,patient_name\nP1,山田 太郎\n").unwrap();
        assert!(only_output(&job).contains("山田さんに説明"));
    }

    #[test]
    fn a_patient_master_changes_the_run_settings_so_another_one_is_refused_in_the_same_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut job = job(dir.path(), &[("notes.csv", NOTES)], None);
        let without = job.digest();
        job.sources = master(dir.path(), "patient_id,patient_name\nP1,山田 太郎\n").unwrap();
        let one = job.digest();
        job.sources = master(dir.path(), "patient_id,patient_name\nP1,佐藤 花子\n").unwrap();
        assert!(without != one && one != job.digest());
    }

    #[test]
    fn a_patient_master_without_a_patient_id_column_is_refused_by_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let Err((1, e)) = master(dir.path(), "patient_name,phone\n山田 太郎,090-1111-2222\n") else {
            panic!("accepted")
        };
        assert!(matches!(e, Error::SourceNeedsPatientId));
        assert!(!e.to_string().contains("山田"));
    }

    #[test]
    fn a_patient_master_with_a_column_the_columns_file_does_not_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let Err((1, e)) = master(dir.path(), "patient_id,address\nP1,静岡市\n") else { panic!("accepted") };
        assert!(matches!(e, Error::UnknownColumns { .. }), "{e}");
    }

    #[test]
    fn rv9_10_a_file_left_out_entirely_gets_an_excluded_linkage_row() {
        let dir = tempfile::tempdir().unwrap();
        let files =
            [("labs_0009999999.csv", "patient_id,value\n0009999999,1\n"), ("labs.csv", "patient_id,value\nP1,1\n")];
        let job = job(dir.path(), &files, Some("0009999999\n"));
        let summary = super::run(&job, &super::super::Silent, &AtomicBool::new(false)).unwrap();
        assert_eq!((summary.written, summary.excluded_files), (1, 1));
        let table = std::fs::read_to_string(dir.path().join("link.csv")).unwrap();
        let left_out = job.inputs[0].to_string_lossy();
        assert!(
            table.lines().any(|l| l == format!("excluded,{left_out},every row belongs to a patient who is left out")),
            "{table}"
        );
        assert!(!table.contains("0009999999,"), "no patient row for the left-out patient: {table}");
    }

    #[test]
    fn rv9_11_an_identical_re_run_finds_its_output_already_present() {
        let dir = tempfile::tempdir().unwrap();
        let job = job(dir.path(), &[("labs.csv", "patient_id,value\nP1,1\n")], None);
        let first = super::run(&job, &super::super::Silent, &AtomicBool::new(false)).unwrap();
        assert_eq!((first.written, first.present), (1, 0));
        let again = super::run(&job, &super::super::Silent, &AtomicBool::new(false)).unwrap();
        assert_eq!((again.written, again.present, again.failed), (0, 1, 0));
    }

    #[test]
    fn rv22_02_a_patient_id_a_spreadsheet_rewrote_drops_its_row() {
        let input = "patient_id,value\n1234567890,1\n1.23457E+09,2\n\"1,234,567,890\",3\n１．２３４５７Ｅ＋０９,4\n";
        let (report, rows) = run(input.as_bytes(), &CsvOptions::default()).unwrap();
        assert_eq!(report.rows_dropped, 3, "{:?}", report.problems);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(report.problems.iter().all(|p| p.message.contains("spreadsheet rewrote")), "{:?}", report.problems);
        assert!(!report.problems.iter().any(|p| p.message.contains("1.23457")), "{:?}", report.problems);
    }

    #[test]
    fn dates_need_a_patient() {
        let err = run(b"visit_date,value\n2024-01-01,1\n", &retain()).unwrap_err();
        assert!(matches!(err, Error::NoPatientId { .. }), "{err}");
    }

    #[test]
    fn rv30_04_an_output_name_may_hold_the_name_written_in_the_other_script() {
        for (file, name) in [
            ("KAKUU_HANAKO.csv", "カクウ ハナコ"),
            ("labs_HanakoKakuu.csv", "カクウ ハナコ"),
            ("カクウハナコ.csv", "KAKUU HANAKO"),
            ("かくう_はなこ.csv", "KAKUU HANAKO"),
        ] {
            assert!(OutputName::new(file, "TAG".into()).may_hold_name(name), "{file} {name}");
        }
        assert!(!OutputName::new("labs.csv", "TAG".into()).may_hold_name("カクウ ハナコ"));
    }

    #[test]
    fn rv30_05_an_unreadable_row_makes_its_patients_values_incomplete() {
        let input = "patient_id,patient_name,visit_date,comment\n\
                     P1,架空 花子,2024-04-01,ok,extra\n\
                     P1,,2024-04-02,架空花子さん来院\n\
                     P2,山田 太郎,2024-04-02,山田さん来院\n";
        let (report, rows) = run(input.as_bytes(), &retain()).unwrap();
        assert_eq!((report.rows_dropped, report.free_text_withheld), (1, 1));
        let comment = rows[0].iter().position(|c| c == "comment").unwrap();
        assert_eq!((rows[1][comment].as_str(), rows[2][comment].as_str()), ("", "***さん来院"));
        assert!(report.problems.iter().any(|p| p.message.contains("free text removed, not cleaned")));
        // A quote never closed swallows a row of P1: P1's values may be incomplete.
        let input = "patient_id,patient_name,comment\nP1,架空 花子,ok\nP2,,\"open\nP1,佐藤 次郎,x\n";
        let (report, rows) = run(input.as_bytes(), &retain()).unwrap();
        let comment = rows[0].iter().position(|c| c == "comment").unwrap();
        assert_eq!((report.free_text_withheld, rows[1][comment].as_str()), (1, ""));
    }

    #[test]
    fn rv30_02_shift_jis_is_decoded_before_it_is_split_on_a_trail_byte_delimiter() {
        let text = "patient_id|patient_name|comment\nP1|ポール 花子|ポール様−ソファ\nP2|山田 太郎|ボタン\n";
        let bytes = encoding_rs::SHIFT_JIS.encode(text).0.into_owned();
        let options = CsvOptions { delimiter: b'|', encoding: Encoding::ShiftJis, ..retain() };
        let (report, rows) = run(&bytes, &options).unwrap();
        assert_eq!((report.rows_written, report.rows_dropped), (2, 0), "{:?}", report.problems);
        assert_eq!(report.encoding, Some(Encoding::ShiftJis));
        let comment = rows[0].iter().position(|c| c == "comment").unwrap();
        assert_eq!((rows[1][comment].as_str(), rows[2][comment].as_str()), ("***様－ソファ", "ボタン"));
    }
}
