//! Which patients a release may contain: the opt-out register and the approved cohort.
//!
//! Under Japan's Next-Generation Medical Infrastructure Act a notified patient can ask at any
//! time that their data no longer be provided; a release is also scoped to the cohort a partner
//! was approved for. [`Cohort`] makes that decision once, from the **original** Patient ID
//! (normalised exactly as pseudonyms are: trimmed, Unicode NFKC), before anything is written,
//! and `kamei deid`, `kamei clinical csv` and `kamei clinical ss-mix2` all ask the same type, so
//! a patient cannot vanish from the images and remain in the clinical data, or the reverse.
//!
//! Register files (`--exclude-patients`, `--include-patients`): one original Patient ID per
//! line, blank lines and lines starting with `#` ignored, `#` after white space starting a
//! comment, IDs trimmed, Excel's `="..."` and CSV quotes unwrapped; or a CSV (comma, tab or
//! semicolon) whose header names the ID column (`patient_id`, `PatientID`, `patient id`,
//! `患者ID`...). UTF-8 (with or without BOM), UTF-16 with a byte order mark, or
//! Shift_JIS/CP932. A line that cannot be one ID (white space, `;`, `,` or `"` inside, a
//! number in scientific notation) or an unknown header refuses the whole register: a line
//! read wrongly would match nobody and release the patient.

use crate::pseudo::normalize_id;
use chrono::NaiveDate;
use encoding_rs::SHIFT_JIS;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// A register that cannot be used. Messages name the file and the line, never an ID.
#[derive(Debug)]
pub enum CohortError {
    /// The file cannot be read.
    Read {
        /// The register.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is a CSV whose header names no (or several) patient ID columns.
    Header {
        /// The register.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A date of `--studies-between` is not a date.
    Date {
        /// The text given.
        given: String,
    },
}

impl fmt::Display for CohortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CohortError::Read { path, source } => {
                write!(f, "could not read the patient register {}: {source}", path.display())
            }
            CohortError::Header { path, reason } => write!(f, "patient register {}: {reason}", path.display()),
            CohortError::Date { given } => {
                write!(f, "--studies-between takes dates as YYYYMMDD or YYYY-MM-DD, got {given:?}")
            }
        }
    }
}

impl std::error::Error for CohortError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CohortError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A set of original Patient IDs, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Register {
    ids: HashSet<String>,
    /// The IDs of digits only, without their leading zeros (see [`Register::lists_for_exclusion`]).
    unpadded: HashSet<String>,
}

/// Column names that hold the patient ID in a CSV register (compared lower-case, without
/// spaces and underscores).
const ID_HEADERS: &[&str] = &["patientid", "patient", "id", "患者id", "患者番号", "カルテ番号"];

impl Register {
    /// Read a register file.
    ///
    /// # Errors
    /// [`CohortError`] if it cannot be read, or is a CSV without one patient ID column.
    pub fn load(path: &Path) -> Result<Register, CohortError> {
        let bytes = std::fs::read(path).map_err(|source| CohortError::Read { path: path.to_path_buf(), source })?;
        let text = decode(&bytes).map_err(|reason| CohortError::Header { path: path.to_path_buf(), reason })?;
        Register::parse(&text).map_err(|reason| CohortError::Header { path: path.to_path_buf(), reason })
    }

    /// Parse register text (see the module doc for the forms).
    ///
    /// # Errors
    /// A reason, naming the line but never its text, when a CSV header names no or several ID
    /// columns, or a line or cell is not one ID (white space, `;`, `,` or `"` inside, a number
    /// in scientific notation: see the module doc).
    pub fn parse(text: &str) -> Result<Register, String> {
        // Lines that carry something, with their 1-based number in the file (for messages).
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let mut register = Register::default();
        let Some(&(_, first)) = lines.first() else { return Ok(register) };
        // Tab (Excel's "Unicode text"), comma, or semicolon (Excel's CSV where the decimal
        // separator is a comma), told by the first line.
        let sep = ['\t', ',', ';'].into_iter().find(|&c| strip_comment(first).contains(c));
        match sep {
            None => {
                // A one-column CSV: its header names the column, its values may be quoted.
                let skip = usize::from(is_id_header(&unwrap_cell(strip_comment(first))));
                for &(number, l) in &lines[skip..] {
                    register.add(check_id(&unwrap_cell(strip_comment(l)), number)?);
                }
            }
            Some(sep) => {
                let joined = lines.iter().map(|(_, l)| *l).collect::<Vec<_>>().join("\n");
                // The file's line number of a record of the joined text (1-based lines).
                let line_of = |p: Option<&csv::Position>| {
                    p.and_then(|p| lines.get((p.line() as usize).saturating_sub(1))).map_or(0, |(n, _)| *n)
                };
                let mut rdr =
                    csv::ReaderBuilder::new().delimiter(sep as u8).flexible(true).from_reader(joined.as_bytes());
                let header = rdr.headers().map_err(|_| "the header is not valid CSV".to_string())?.clone();
                let wanted: Vec<usize> =
                    header.iter().enumerate().filter(|(_, h)| is_id_header(h)).map(|(i, _)| i).collect();
                let col = match wanted.as_slice() {
                    [one] => *one,
                    [] => {
                        return Err(format!(
                            "line {}: the header names no patient ID column (e.g. patient_id); a register is one ID per line, or a CSV (comma, tab or semicolon) with such a header",
                            lines[0].0
                        ));
                    }
                    _ => return Err("the header names several patient ID columns".to_string()),
                };
                for rec in rdr.records() {
                    let rec = rec.map_err(|e| format!("line {}: not valid CSV", line_of(e.position())))?;
                    let number = line_of(rec.position());
                    if rec.iter().all(|c| c.trim().is_empty()) {
                        continue; // a row of empty cells (a spreadsheet's trailing rows)
                    }
                    let cell =
                        rec.get(col).ok_or_else(|| format!("line {number}: no cell in the patient ID column"))?;
                    register.add(check_id(&unwrap_cell(strip_comment(cell)), number)?);
                }
            }
        }
        Ok(register)
    }

    fn add(&mut self, id: Option<String>) {
        let Some(id) = id else { return };
        if let Some(u) = unpadded(&id) {
            self.unpadded.insert(u.to_string());
        }
        self.ids.insert(id);
    }

    /// Whether the original ID is listed as an opt-out: as written, or, for an ID of digits
    /// only, with other leading zeros (`1234567` and `0001234567` are one patient: a
    /// spreadsheet drops the zeros of a number column, a modality may drop or add them).
    fn lists_for_exclusion(&self, normalized: &str) -> bool {
        self.ids.contains(normalized) || unpadded(normalized).is_some_and(|u| self.unpadded.contains(u))
    }

    /// List also every ID that `merges` join to a listed ID, directly or through other merges:
    /// a merge (HL7 MRG, a repeated PID-3) says its two IDs are one person, and an opted-out
    /// person is left out under each of their IDs. `merges` are pairs of original IDs, such as
    /// the `merged` rows `clinical ss-mix2` writes to the linkage table
    /// ([`crate::linkage::read_merges`]), so that `deid` and `clinical csv` given the same table
    /// leave out the surviving record the SS-MIX2 release left out. Returns how many IDs were
    /// added.
    pub fn add_merged(&mut self, merges: &[(String, String)]) -> usize {
        let mut joined: HashMap<String, Vec<String>> = HashMap::new();
        for (a, b) in merges {
            let (a, b) = (normalize_id(a), normalize_id(b));
            if a.is_empty() || b.is_empty() {
                continue;
            }
            joined.entry(a.clone()).or_default().push(b.clone());
            joined.entry(b).or_default().push(a);
        }
        let mut todo: Vec<String> = joined.keys().filter(|id| self.lists_for_exclusion(id)).cloned().collect();
        let mut seen: HashSet<String> = todo.iter().cloned().collect();
        let mut added = 0;
        while let Some(id) = todo.pop() {
            for other in joined.get(&id).into_iter().flatten() {
                if seen.insert(other.clone()) {
                    if !self.lists_for_exclusion(other) {
                        self.add(Some(other.clone()));
                        added += 1;
                    }
                    todo.push(other.clone());
                }
            }
        }
        added
    }

    /// Number of IDs.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether the original ID (any spelling) is listed.
    pub fn contains(&self, original_id: &str) -> bool {
        self.ids.contains(&normalize_id(original_id))
    }

    /// The normalised IDs, as listed.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.ids.iter().map(String::as_str)
    }

    /// Every spelling of the listed IDs that an opt-out leaves out (for computing their
    /// pseudonyms in `kamei verify`): each ID as listed and, for an ID of digits only, the same
    /// number with every other count of leading zeros up to [`MAX_PADDED_DIGITS`] digits
    /// (`12345` also as `012345`, `0012345`...; `0012345` also as `12345`), sorted. An archive
    /// may write the number with zeros the register drops, or the reverse.
    pub fn spellings_for_exclusion(&self) -> Vec<String> {
        let mut out: std::collections::BTreeSet<String> = self.ids.iter().cloned().collect();
        for u in &self.unpadded {
            for width in u.len()..=MAX_PADDED_DIGITS.max(u.len()) {
                out.insert(format!("{u:0>width$}"));
            }
        }
        out.into_iter().collect()
    }
}

/// Whether a header cell names the patient ID column.
fn is_id_header(h: &str) -> bool {
    let k: String = h.trim().to_lowercase().chars().filter(|c| *c != ' ' && *c != '_').collect();
    ID_HEADERS.contains(&k.as_str())
}

/// A line or cell without a comment after the ID: `#` after white space starts one
/// (`0001234567 # Yamada`); a `#` inside an ID (`AB#12`) is kept.
fn strip_comment(v: &str) -> &str {
    let cut = v.char_indices().find(|&(i, c)| c == '#' && v[..i].ends_with(char::is_whitespace));
    cut.map_or(v, |(i, _)| &v[..i]).trim()
}

/// A cell as a spreadsheet wrote it, unwrapped: without the double quotes a CSV writer put
/// around it (`"123"` → `123`, `""` inside → `"`), and without Excel's text formula `="..."`
/// (written to keep leading zeros: `="0001234567"`, also as the CSV cell `"=""0001234567"""`),
/// or a formula that is a number (`=1234567890`, the ID as written), then without the
/// apostrophe that marks a number typed as text (`'0001234567`), and a whole
/// number written as a decimal without its zero fraction (`1234567.0`, as a spreadsheet exports
/// a number cell). The register and the patient-id column of `kamei clinical csv` read IDs so,
/// so an opt-out and the linkage hold for such a cell.
///
/// ```
/// use kamei::cohort::unwrap_cell;
/// for cell in ["=\"0001234567\"", "'0001234567", "\"0001234567\"", " 0001234567 "] {
///     assert_eq!(unwrap_cell(cell), "0001234567");
/// }
/// assert_eq!(unwrap_cell("1234567.0"), "1234567");
/// assert_eq!(unwrap_cell("12.5"), "12.5");
/// assert_eq!(unwrap_cell("=1234567890"), "1234567890");
/// ```
pub fn unwrap_cell(v: &str) -> String {
    let unquote = |t: &str| -> Option<String> {
        t.strip_prefix('"').and_then(|t| t.strip_suffix('"')).map(|inner| inner.replace("\"\"", "\""))
    };
    // Invisible characters first: `="0001234567"` followed by a zero-width space is still
    // Excel's text formula.
    let mut t = crate::pseudo::without_invisible(v).trim().to_string();
    if let Some(inner) = unquote(&t) {
        t = inner.trim().to_string();
    }
    if let Some(inner) = t.strip_prefix('=').and_then(|f| unquote(f.trim())) {
        t = inner.trim().to_string();
    } else if let Some(number) = t.strip_prefix('=').map(str::trim).filter(|f| is_number(f)) {
        // `=1234567890`: a formula that is a number, as written (Excel shows its value).
        t = number.to_string();
    }
    if let Some(inner) = t.strip_prefix('\'') {
        t = inner.trim().to_string();
    }
    if let Some((whole, fraction)) = t.split_once('.') {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(whole) && digits(fraction) && fraction.bytes().all(|b| b == b'0') {
            t = whole.to_string();
        }
    }
    t
}

/// Whether `s` is a number as a formula gives one: digits, and at most one decimal point
/// between digits (`1234567890`, `1234567890.0`).
fn is_number(s: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(s),
    }
}

/// One unwrapped register value as an ID: `None` when empty; refused when it cannot be one
/// ID, because such a line would match nobody and the patient would be released: white space
/// (also the ideographic space), `;`, `,`, `"` or control characters inside (a line holding
/// an ID and a name, a CSV whose separator was not recognised, an unbalanced quote), or a
/// number in Excel's scientific notation (`1.23457E+09`: the ID's digits are lost). Messages
/// name the line, never the value.
///
/// # Errors
/// The reason, with the line number.
fn check_id(v: &str, line: usize) -> Result<Option<String>, String> {
    let id = normalize_id(v);
    if id.is_empty() {
        return Ok(None);
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, ';' | ',' | '"')) {
        return Err(format!(
            "line {line} is not one patient ID (it holds a space, `;`, `,` or `\"`): write one ID per line, a comment after a space and `#`, or a CSV with a patient_id header"
        ));
    }
    if is_scientific(&id) {
        return Err(format!(
            "line {line} is a number in scientific notation (a spreadsheet rewrote the ID and lost its digits): format the ID column as text and export again"
        ));
    }
    Ok(Some(id))
}

/// Whether a patient-id cell is a number a spreadsheet rewrote, so that the ID it was is not
/// known: Excel's scientific notation (`1.23457E+09`: the digits are gone) or a number with
/// thousands separators (`1,234,567,890`: its zero padding went with the formatting). Such a
/// cell cannot be checked against an opt-out register nor given the patient's pseudonym.
pub fn spreadsheet_number(id: &str) -> bool {
    let id = normalize_id(id);
    let groups: Vec<&str> = id.split(',').collect();
    let thousands = groups.len() >= 2
        && (1..=3).contains(&groups[0].len())
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3);
    thousands || is_scientific(&id)
}

/// `1.23457E+09`: how Excel shows a long number; the digits of the ID are gone.
fn is_scientific(id: &str) -> bool {
    let Some((mantissa, exponent)) = id.split_once(['E', 'e']) else { return false };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction) && exponent.strip_prefix('+').is_some_and(digits)
}

/// Most digits a spelling of a listed number is given by [`Register::spellings_for_exclusion`]
/// (a Patient ID is rarely longer than 20 digits).
pub const MAX_PADDED_DIGITS: usize = 20;

/// An ID of ASCII digits only, without its leading zeros (`0001234567` → `1234567`); `None`
/// for any other ID. Two such IDs with one unpadded form are one patient for an opt-out (see
/// [`Cohort::admit`]; `kamei verify --exclude-patients` finds them alike).
pub fn unpadded(id: &str) -> Option<&str> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = id.trim_start_matches('0');
    Some(if t.is_empty() { "0" } else { t })
}

/// The register's text: UTF-8 (with or without byte order mark), UTF-16 with a byte order
/// mark (Excel's "Unicode text"), or Shift_JIS/CP932. A file with NUL bytes and no UTF-16 mark,
/// or bytes valid in none of them, is refused: a register read wrongly would match nobody, and
/// every opted-out patient would be released.
fn decode(bytes: &[u8]) -> Result<String, String> {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
        if enc != encoding_rs::UTF_8 {
            let (text, had_errors) = enc.decode_with_bom_removal(bytes);
            return if had_errors {
                Err("the register is not valid UTF-16".to_string())
            } else {
                Ok(text.into_owned())
            };
        }
    }
    if bytes.contains(&0) {
        return Err("the register holds NUL bytes (UTF-16 without a byte order mark?); save it as UTF-8".to_string());
    }
    let b = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(b)
            .map(|s| s.into_owned())
            .ok_or_else(|| "the register is neither UTF-8 nor Shift_JIS; save it as UTF-8".to_string()),
    }
}

/// Parse a date given on the command line (`YYYYMMDD` or `YYYY-MM-DD`).
///
/// # Errors
/// [`CohortError::Date`].
pub fn parse_date(s: &str) -> Result<NaiveDate, CohortError> {
    let t = s.trim();
    NaiveDate::parse_from_str(t, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d"))
        .map_err(|_| CohortError::Date { given: s.to_string() })
}

/// Whether a patient (or study) may be released, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// In the release.
    Included,
    /// The patient is in the opt-out register.
    OptedOut,
    /// An include list is given and the patient is not in it.
    NotInCohort,
    /// An include list is given and the Patient ID is missing or empty.
    NoPatientId,
    /// The study date is outside `--studies-between`.
    OutsideWindow,
    /// `--studies-between` is given and the study has no date.
    NoStudyDate,
}

impl Admission {
    /// Whether the input is left out.
    pub fn is_excluded(self) -> bool {
        self != Admission::Included
    }

    /// Why it is left out, for the audit and messages (no identifier).
    pub fn reason(self) -> &'static str {
        match self {
            Admission::Included => "included",
            Admission::OptedOut => "excluded: the patient opted out (exclusion register)",
            Admission::NotInCohort => "excluded: the patient is not in the cohort (inclusion register)",
            Admission::NoPatientId => "excluded: no Patient ID, and an inclusion register is given",
            Admission::OutsideWindow => "excluded: study date outside --studies-between",
            Admission::NoStudyDate => "excluded: no study date, and --studies-between is given",
        }
    }
}

/// The release's scope: opt-outs, the cohort, the study window.
#[derive(Debug, Clone, Default)]
pub struct Cohort {
    exclude: Option<Register>,
    include: Option<Register>,
    window: Option<(NaiveDate, NaiveDate)>,
}

impl Cohort {
    /// The IDs of the opt-out register (normalised), none without one: for looking for them
    /// where rows do not give them (a file name).
    pub fn excluded_ids(&self) -> impl Iterator<Item = &str> {
        self.exclude.iter().flat_map(Register::ids)
    }

    /// A cohort from the registers and window given (any may be absent).
    pub fn new(exclude: Option<Register>, include: Option<Register>, window: Option<(NaiveDate, NaiveDate)>) -> Cohort {
        Cohort { exclude, include, window }
    }

    /// Whether anything is filtered at all.
    pub fn is_active(&self) -> bool {
        self.exclude.is_some() || self.include.is_some() || self.window.is_some()
    }

    /// A digest of the registers and window (sorted normalised IDs), recorded in the output's
    /// `kamei-run.json` so that a release is resumed only with the same scope. `None` when no
    /// filter is set. Keyed (an HMAC under the release key, through `pseudo`): an unkeyed hash
    /// of a short register could be reversed by trying every ID, which would tell anyone who
    /// holds the release who opted out.
    pub fn digest(&self, pseudo: &crate::pseudo::Pseudonymizer) -> Option<String> {
        use sha2::Digest;
        if !self.is_active() {
            return None;
        }
        let mut h = sha2::Sha256::new();
        for (label, reg) in [("exclude", &self.exclude), ("include", &self.include)] {
            h.update(label.as_bytes());
            if let Some(r) = reg {
                let mut ids: Vec<&String> = r.ids.iter().collect();
                ids.sort();
                for id in ids {
                    h.update((id.len() as u64).to_be_bytes());
                    h.update(id.as_bytes());
                }
            }
        }
        if let Some((a, b)) = self.window {
            h.update(format!("window {a} {b}").as_bytes());
        }
        Some(pseudo.token("cohort", &h.finalize(), 64).to_lowercase())
    }

    /// Whether a study window is set (only `kamei deid` applies it).
    pub fn has_window(&self) -> bool {
        self.window.is_some()
    }

    /// Whether the opt-out register lists any of `patient_ids` (each normalised, with the
    /// leading-zero rule, and each value of one holding several), as [`Cohort::admit_each`]
    /// decides an opt-out. For IDs an input gives of its patient besides the one it is filed
    /// under (DICOM Other Patient IDs): the same person, left out when any of them opted out,
    /// though they need not be in the cohort (another issuer's numbers are not in it).
    pub fn opts_out_any(&self, patient_ids: &[&str]) -> bool {
        let Some(r) = &self.exclude else { return false };
        patient_ids
            .iter()
            .map(|i| normalize_id(i))
            .filter(|i| !i.is_empty())
            .any(|i| r.lists_for_exclusion(&i) || id_parts(&i).iter().any(|p| r.lists_for_exclusion(p)))
    }

    /// Decide for an image: [`Cohort::admit`] on its Patient ID (each value of one holding
    /// several), then an opt-out under any of the other IDs it gives of its patient (DICOM Other
    /// Patient IDs, [`Cohort::opts_out_any`]): the same person, left out when any of them opted
    /// out. The cohort is decided by the Patient ID alone (another issuer's numbers are not in
    /// it). `kamei deid` asks this of each input and `kamei verify --exclude-patients` of each
    /// patient the inputs and linkage table name, so both take the same files for an opted-out
    /// patient's.
    pub fn admit_image(&self, patient_id: &str, other_ids: &[&str], study_date: Option<&str>) -> Admission {
        let admission = self.admit(Some(patient_id), study_date);
        if !admission.is_excluded() && self.opts_out_any(other_ids) {
            return Admission::OptedOut;
        }
        admission
    }

    /// Decide for a patient (and, for images, a study): exclusion wins over inclusion; a missing
    /// ID is left out only when an include list is given; the study window applies last.
    pub fn admit(&self, patient_id: Option<&str>, study_date: Option<&str>) -> Admission {
        self.admit_each(patient_id.as_slice(), study_date)
    }

    /// Decide for an input that names several Patient IDs (the repetitions of an HL7 PID-3 in
    /// a merged record): it is each of those patients, as one Patient ID holding several
    /// values (`P001\P002`, invalid for LO but seen in merged records) is: left out when any of
    /// them opted out, in the cohort only when every one of them (or the whole value) is
    /// listed. No ID at all is decided as [`Cohort::admit`] decides a missing one.
    pub fn admit_each(&self, patient_ids: &[&str], study_date: Option<&str>) -> Admission {
        let ids: Vec<String> = patient_ids.iter().map(|i| normalize_id(i)).filter(|s| !s.is_empty()).collect();
        let included = |r: &Register, i: &String| r.ids.contains(i) || id_parts(i).iter().all(|p| r.ids.contains(p));
        if ids.is_empty() {
            if self.include.is_some() {
                return Admission::NoPatientId;
            }
        } else if self.opts_out_any(patient_ids) {
            return Admission::OptedOut;
        } else if self.include.as_ref().is_some_and(|r| !ids.iter().all(|i| included(r, i))) {
            return Admission::NotInCohort;
        }
        if let Some((from, to)) = self.window {
            return match study_date.and_then(study_day) {
                None => Admission::NoStudyDate,
                Some(d) if d < from || d > to => Admission::OutsideWindow,
                Some(_) => Admission::Included,
            };
        }
        Admission::Included
    }
}

/// The values of a Patient ID holding several (`A\\B`), normalised, empty ones left out.
fn id_parts(id: &str) -> Vec<String> {
    id.split('\\').map(normalize_id).filter(|p| !p.is_empty()).collect()
}

/// The day of a Study Date as `kamei deid` reads it when it shifts the date
/// ([`crate::dates::shift_da`]): `YYYYMMDD`, or `YYYY.MM.DD` (the ACR-NEMA form old modalities
/// still write), padding trimmed; also the first eight digits of a longer value (`20240102\...`).
fn study_day(value: &str) -> Option<NaiveDate> {
    let d = value.trim_matches(|c| c == ' ' || c == '\0');
    if d.len() == 10 && crate::dates::shift_da(d, 0).is_some() {
        return NaiveDate::parse_from_str(d, "%Y.%m.%d").ok();
    }
    NaiveDate::parse_from_str(d.get(..8).unwrap_or(d), "%Y%m%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(text: &str) -> Register {
        Register::parse(text).unwrap()
    }

    #[test]
    fn merges_add_every_id_joined_to_a_listed_one_through_chains() {
        let mut r = reg("1111111\n");
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        let added = r.add_merged(&[pair("2222222", "1111111"), pair("3333333", "2222222"), pair("4444444", "5555555")]);
        assert_eq!(added, 2);
        assert!(r.contains("2222222") && r.contains("3333333"));
        assert!(!r.contains("4444444") && !r.contains("5555555"));
    }

    #[test]
    fn plain_register_skips_comments_and_blank_lines_and_trims() {
        let r = reg("# opt-outs 2026-11\n\n  P001  \nP002\n#P003\n");
        assert_eq!(r.len(), 2);
        assert!(r.contains("P001") && r.contains(" P002") && !r.contains("P003"));
    }

    #[test]
    fn one_column_csv_register_skips_its_header_and_unquotes() {
        let r = reg("patient_id\n\"1234567890\"\n\"P2\"\n");
        assert!(r.contains("1234567890") && r.contains("P2") && !r.contains("patient_id"));
        assert_eq!(r.len(), 2);
    }

    /// The refusal names the line, never what it holds.
    fn refused(text: &str) -> String {
        let e = Register::parse(text).unwrap_err();
        for secret in ["0001234567", "Yamada", "YAMADA"] {
            assert!(!e.contains(secret), "{e}");
        }
        e
    }

    #[test]
    fn rv12_an_inline_comment_after_white_space_is_not_part_of_the_id() {
        let r = reg("0001234567 # Yamada\nP1\t# moved away\nAB#12\n");
        assert!(r.contains("0001234567") && r.contains("P1") && r.contains("AB#12"));
        assert_eq!(r.len(), 3);
        let c = reg("patient_id,name\n0001234567 # checked,Yamada\n");
        assert!(c.contains("0001234567"));
    }

    #[test]
    fn rv30_an_unquoted_number_formula_is_the_id_it_shows() {
        for cell in ["=1234567890", "= 1234567890", "=\"1234567890\"", "\"=1234567890\"", "=1234567890.0"] {
            assert_eq!(unwrap_cell(cell), "1234567890", "{cell}");
        }
        assert_eq!(unwrap_cell("=0001234567"), "0001234567", "the digits as written");
        for cell in ["=A1", "=SUM(1,2)", "=1234-567", "="] {
            assert_eq!(unwrap_cell(cell), cell, "{cell}: not a number");
        }
    }

    #[test]
    fn rv12_excel_text_formulas_are_unwrapped() {
        let r = reg("=\"0001234567\"\n\"=\"\"0007654321\"\"\"\n");
        assert!(r.contains("0001234567") && r.contains("0007654321"), "{r:?}");
        let c = reg("patient_id\tname\n=\"0001234567\"\tYamada\n");
        assert!(c.contains("0001234567"));
    }

    #[test]
    fn rv17_suspect_7_text_marks_and_decimal_exports_are_unwrapped() {
        let r = reg("'0001234567\n7654321.0\n");
        assert!(r.contains("0001234567") && r.contains("7654321"), "{r:?}");
        assert_eq!(unwrap_cell("1234567.5"), "1234567.5");
        assert_eq!(unwrap_cell("1.2.3.0"), "1.2.3.0");
    }

    #[test]
    fn rv12_a_semicolon_csv_with_a_known_header_is_read() {
        let r = reg("patient_id;name\n0001234567;Yamada\n;;\n");
        assert!(r.contains("0001234567") && !r.contains("patient_id"));
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn rv12_lines_that_are_not_one_id_are_refused_with_their_line_number() {
        // A name after the ID without `#`, a separator the first line did not show, a header
        // the register does not know, a spreadsheet's scientific notation, an ID with a space.
        assert!(refused("# register\n0001234567 Yamada\n").contains("line 2"));
        assert!(refused("P1\n0001234567;Yamada\n").contains("line 2"));
        assert!(refused("P1\n\n0001234567,Yamada\n").contains("line 3"));
        assert!(refused("番号;氏名\n0001234567;Yamada\n").contains("line 1"));
        assert!(refused("0001234567;Yamada\n").contains("line 1"));
        assert!(refused("P1\n1.23457E+09\n").contains("line 2"));
        assert!(refused("P1\n\"0001234567 Yamada\"\n").contains("line 2"));
        assert!(refused("P1\n0001234567\u{3000}YAMADA\n").contains("line 2"));
        assert!(refused("name,patient_id\nYamada,0001234567 x\n").contains("line 2"));
        assert!(refused("name,patient_id,x\nYamada\n").contains("line 2"));
    }

    #[test]
    fn rv12_an_opt_out_matches_the_id_with_other_leading_zeros() {
        let c = Cohort::new(Some(reg("1234567\n0000888888\n")), None, None);
        assert_eq!(c.admit(Some("0001234567"), None), Admission::OptedOut);
        assert_eq!(c.admit(Some("888888"), None), Admission::OptedOut);
        assert_eq!(c.admit(Some("9\\00888888"), None), Admission::OptedOut);
        assert_eq!(c.admit(Some("12345670"), None), Admission::Included);
        assert_eq!(c.admit(Some("A1234567"), None), Admission::Included);
        // The cohort is matched as written: a patient is released only when listed.
        let i = Cohort::new(None, Some(reg("1234567\n")), None);
        assert_eq!(i.admit(Some("0001234567"), None), Admission::NotInCohort);
    }

    #[test]
    fn the_spellings_for_exclusion_are_the_listed_numbers_with_any_leading_zeros() {
        let spellings = reg("0012345\nAB12\n").spellings_for_exclusion();
        for s in ["12345", "012345", "0012345", "00000000000000012345", "AB12"] {
            assert!(spellings.contains(&s.to_string()), "{s}: {spellings:?}");
        }
        assert_eq!(spellings.len(), 17, "16 widths of 12345, and AB12 as listed: {spellings:?}");
        let c = Cohort::new(Some(reg("0012345\n")), None, None);
        assert!(spellings.iter().filter(|s| s.starts_with(['0', '1'])).all(|s| c.admit(Some(s), None).is_excluded()));
    }

    #[test]
    fn rv12_an_input_naming_several_patients_is_each_of_them() {
        let c = Cohort::new(Some(reg("1234568")), None, None);
        assert_eq!(c.admit_each(&["9999999", "1234568"], None), Admission::OptedOut);
        assert_eq!(c.admit_each(&["9999999", "7654321"], None), Admission::Included);
        let i = Cohort::new(None, Some(reg("9999999")), None);
        assert_eq!(i.admit_each(&["9999999", "1234568"], None), Admission::NotInCohort);
        assert_eq!(i.admit_each(&["9999999", " 9999999 "], None), Admission::Included);
        assert_eq!(i.admit_each(&[], None), Admission::NoPatientId);
    }

    #[test]
    fn an_opted_out_other_id_is_found_in_every_spelling_the_register_reads() {
        let c = Cohort::new(Some(reg("0012345678")), None, None);
        assert!(c.opts_out_any(&["7777777", "12345678"]), "leading zeros");
        assert!(c.opts_out_any(&["\u{FF10}\u{FF10}12345678\u{200B}"]), "full-width, zero-width");
        assert!(c.opts_out_any(&["X-1\\0012345678"]), "one value of several");
        assert!(!c.opts_out_any(&["7777777", ""]));
        assert!(!Cohort::new(None, Some(reg("0012345678")), None).opts_out_any(&["0012345678"]), "no register");
    }

    #[test]
    fn rv34_02_an_image_is_opted_out_by_any_value_of_its_id_or_any_other_id() {
        let c = Cohort::new(Some(reg("0002222222")), None, None);
        assert_eq!(c.admit_image("0001111111\\0002222222", &[], None), Admission::OptedOut);
        assert_eq!(c.admit_image("0001111111", &["2222222"], None), Admission::OptedOut);
        assert_eq!(c.admit_image("0001111111", &["0003333333"], None), Admission::Included);
        let i = Cohort::new(None, Some(reg("0001111111")), None);
        assert_eq!(i.admit_image("0001111111", &["0003333333"], None), Admission::Included, "cohort by Patient ID");
    }

    #[test]
    fn utf16_register_with_a_byte_order_mark_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "患者ID\r\n1234567890\r\n".encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        let r = Register::parse(&decode(&bytes).unwrap()).unwrap();
        assert!(r.contains("1234567890"));
    }

    #[test]
    fn a_register_with_nul_bytes_and_no_mark_is_refused() {
        let bytes: Vec<u8> = "1234567890\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(decode(&bytes).is_err());
    }

    #[test]
    fn the_digest_needs_the_key() {
        use crate::profile::DateShiftPolicy;
        use crate::pseudo::{PseudonymKey, Pseudonymizer};
        let c = Cohort::new(Some(reg("1234567890\n")), None, None);
        let a = Pseudonymizer::new(&PseudonymKey::from_bytes([1; 32]), DateShiftPolicy::default());
        let b = Pseudonymizer::new(&PseudonymKey::from_bytes([2; 32]), DateShiftPolicy::default());
        assert_ne!(c.digest(&a), c.digest(&b));
        assert_eq!(c.digest(&a), c.digest(&a));
    }

    #[test]
    fn csv_register_uses_the_named_column() {
        let r = reg("name,patient_id,date\nYAMADA,P001,20260101\nSATO,P002,20260102\n");
        assert!(r.contains("P001") && r.contains("P002") && !r.contains("YAMADA"));
        let j = reg("氏名,患者ID\n架空,１２３\n");
        assert!(j.contains("123"), "IDs are NFKC-normalised like pseudonyms");
        assert!(Register::parse("a,b\n1,2\n").is_err());
    }

    #[test]
    fn exclusion_wins_over_inclusion() {
        let c = Cohort::new(Some(reg("P1")), Some(reg("P1\nP2")), None);
        assert_eq!(c.admit(Some("P1"), None), Admission::OptedOut);
        assert_eq!(c.admit(Some("P2"), None), Admission::Included);
        assert_eq!(c.admit(Some("P3"), None), Admission::NotInCohort);
    }

    #[test]
    fn a_multi_valued_id_is_left_out_when_any_value_opted_out() {
        let c = Cohort::new(Some(reg("P1")), None, None);
        assert_eq!(c.admit(Some("P2\\P1"), None), Admission::OptedOut);
        assert_eq!(c.admit(Some("P2\\P3"), None), Admission::Included);
    }

    #[test]
    fn a_multi_valued_id_is_in_the_cohort_only_when_every_value_is() {
        let c = Cohort::new(None, Some(reg("P1\nP2")), None);
        assert_eq!(c.admit(Some("P1\\P2"), None), Admission::Included);
        assert_eq!(c.admit(Some("P1\\P3"), None), Admission::NotInCohort);
    }

    #[test]
    fn missing_id_is_left_out_only_with_an_include_list() {
        assert_eq!(Cohort::new(Some(reg("P1")), None, None).admit(None, None), Admission::Included);
        assert_eq!(Cohort::new(None, Some(reg("P1")), None).admit(Some("  "), None), Admission::NoPatientId);
    }

    #[test]
    fn study_window_is_inclusive_on_original_dates() {
        let w = (parse_date("2024-01-01").unwrap(), parse_date("20240131").unwrap());
        let c = Cohort::new(None, None, Some(w));
        assert_eq!(c.admit(Some("P"), Some("20240101")), Admission::Included);
        assert_eq!(c.admit(Some("P"), Some("20240131 ")), Admission::Included);
        assert_eq!(c.admit(Some("P"), Some("20240201")), Admission::OutsideWindow);
        assert_eq!(c.admit(Some("P"), None), Admission::NoStudyDate);
        assert!(parse_date("2024/01/01x").is_err());
    }

    #[test]
    fn an_acr_nema_study_date_is_a_date_as_deid_reads_it() {
        // rv7-10: deid shifts `2024.01.02` as a date, so the window must read it too.
        let w = (parse_date("2024-01-01").unwrap(), parse_date("20240131").unwrap());
        let c = Cohort::new(None, None, Some(w));
        assert_eq!(c.admit(Some("P"), Some("2024.01.02")), Admission::Included);
        assert_eq!(c.admit(Some("P"), Some("2024.01.31 ")), Admission::Included);
        assert_eq!(c.admit(Some("P"), Some("2023.12.31")), Admission::OutsideWindow);
        assert_eq!(c.admit(Some("P"), Some("2024.13.02")), Admission::NoStudyDate);
        assert_eq!(c.admit(Some("P"), Some("2024-01-02")), Admission::NoStudyDate, "not a form deid shifts");
        assert_eq!(crate::dates::shift_da("2024-01-02", 0), None);
    }

    #[test]
    fn shift_jis_register_is_read() {
        let (bytes, _, _) = SHIFT_JIS.encode("患者ID\n１２３\n");
        assert!(Register::parse(&decode(&bytes).unwrap()).unwrap().contains("123"));
    }
}
