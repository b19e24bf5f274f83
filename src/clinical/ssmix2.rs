//! `kamei clinical ss-mix2`: de-identify an SS-MIX2 standardized storage tree.
//!
//! Layout (JAMI SS-MIX2, ISO/TS 24289): `ROOT/<ID[0:3]>/<ID[3:6]>/<ID>/<date|->/<data type>/<file>`
//! with the seven-field file name `<ID>_<date|->_<type>_<order no>_<timestamp>_<dept>_<flag>`.
//! The patient ID is in every path four times and care dates twice, so the tree is rewritten,
//! not only the messages:
//!
//! - the ID becomes the patient's pseudonym (the Patient ID `kamei deid` writes) in the three
//!   folders and the file name;
//! - with `retain-long-modified-dates` the date folder and the file-name timestamp are shifted
//!   by the patient's offset, as every date inside the messages is; without it the date folder
//!   becomes `-` and the timestamp a keyed token of the file's path ([`timestamp_token`], 17
//!   digits), because a real date cannot be kept and a shifted one is not allowed, and a
//!   name must not depend on the patient's other messages (the storage grows);
//! - the order number becomes the same keyed token as ORC-2/OBR-2 inside the messages
//!   (`999999999999999`, "no order", stays);
//! - data type, department code and condition flag are kept.
//!
//! Each patient is done in two passes: the first reads every message of the patient and
//! collects the patient's identifiers (names in every script, address, phones, insurance
//! numbers, relatives, staff), the second rewrites each message per [`RuleTable`] and cleans
//! free text with everything the first pass found. A message that does not parse is reported
//! and not copied; files with condition flag 0 are skipped unless `keep-invalid`.

use super::freetext;
use super::hl7::{self, Message, datatype};
use super::rules::{Action, RuleTable, ValueRule};
use super::values::{self, BirthPrecision};
use super::{ClinicalOption, Committed, Problem, RecordParts, Reporter};
use crate::audit::{ActionCount, Outcome};
use crate::pseudo::{Patient, Pseudonymizer};
use crate::scrub::Identifiers;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

/// The SS-MIX2 "no order number" value.
pub const NO_ORDER: &str = "999999999999999";

/// A `kamei clinical ss-mix2` run.
#[derive(Debug)]
pub struct SsMix2Job {
    /// The standardized storage root.
    pub root: PathBuf,
    /// The output root (a new tree with the same layout).
    pub out: PathBuf,
    /// The keyed pseudonymizer (the one `kamei deid` uses).
    pub pseudo: Pseudonymizer,
    /// Options (`retain-long-modified-dates`, `clean-free-text`, `keep-invalid`).
    pub options: Vec<ClinicalOption>,
    /// Append the re-identification rows here.
    pub linkage: Option<PathBuf>,
    /// Worker threads.
    pub jobs: usize,
    /// `fsync` outputs before renaming them into place.
    pub sync: bool,
    /// Which patients may be released: other patients' folders are left out and counted.
    pub cohort: crate::cohort::Cohort,
    /// Patient masters (`--identifiers-from`: an SS-MIX2 storage or a CSV master): each
    /// patient's free text is cleaned of their values too.
    pub sources: super::csv::IdentifierSources,
}

impl SsMix2Job {
    fn has(&self, o: ClinicalOption) -> bool {
        self.options.contains(&o)
    }
}

/// Totals of a run.
#[derive(Debug, Clone, Default)]
pub struct SsMix2Summary {
    /// Patient folders.
    pub patients: usize,
    /// Files found.
    pub files: usize,
    /// Messages written.
    pub written: usize,
    /// Messages already present (identical) from an earlier run.
    pub present: usize,
    /// Files skipped: condition flag 0 without `keep-invalid`.
    pub skipped_invalid: usize,
    /// Messages that failed (not copied): unparseable, layout or ID mismatch.
    pub failed: usize,
    /// Segments removed because the rule table does not name them.
    pub segments_removed: usize,
    /// Patient folders left out (opted out, or not in the cohort).
    pub excluded_patients: usize,
    /// Files of those patients (nothing of them is written), and messages of other folders
    /// whose PID-3 also names a left-out patient (a merged record).
    pub excluded_files: usize,
    /// Patient IDs left out only because a merge joins them to an opted-out patient (the
    /// register does not list them): other commands leave them out only when given the same
    /// linkage table (its `merged` rows) or a register that lists them.
    pub merged_ids: usize,
    /// Messages read as Shift_JIS (not SS-MIX2's ISO-2022-JP) and written as ISO-2022-JP.
    pub read_as_shift_jis: usize,
    /// Input bytes.
    pub bytes: u64,
    /// Wall time.
    pub elapsed: std::time::Duration,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
}

/// A file's place in the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The original patient ID (folder and file name).
    pub id: String,
    /// The date folder: `None` for `-`.
    pub date: Option<String>,
    /// Data type (`ADT-00`, `OML-11`...).
    pub data_type: String,
    /// Order number field.
    pub order: String,
    /// Timestamp field (`YYYYMMDDHHMMSSfff`).
    pub timestamp: String,
    /// Department code field.
    pub dept: String,
    /// Condition flag (0 invalid, 1 valid, 2 past history).
    pub flag: String,
}

/// Parse a path relative to the root. Errors name the part that is wrong, never its value.
///
/// # Errors
/// A message when the path does not follow the layout.
pub fn parse_path(rel: &Path) -> Result<Entry, String> {
    let parts: Vec<&str> = rel
        .components()
        .map(|c| c.as_os_str().to_str().ok_or_else(|| "a folder or file name is not UTF-8".to_string()))
        .collect::<Result<_, _>>()?;
    if parts.len() != 6 {
        return Err(format!(
            "not at the SS-MIX2 depth (ROOT/ID[0:3]/ID[3:6]/ID/date/type/file; found depth {})",
            parts.len()
        ));
    }
    let id = parts[2];
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 6 {
        return Err("the patient folder name is shorter than 6 characters".into());
    }
    if parts[0] != chars[..3].iter().collect::<String>() || parts[1] != chars[3..6].iter().collect::<String>() {
        return Err("the first two folders are not the first six characters of the patient folder".into());
    }
    let date_folder = parts[3];
    let date = if date_folder == "-" {
        None
    } else if date_folder.len() == 8
        && values::parse(date_folder).is_some()
        && date_folder.bytes().all(|b| b.is_ascii_digit())
    {
        Some(date_folder.to_string())
    } else {
        return Err("the date folder is neither YYYYMMDD nor -".into());
    };
    let data_type = parts[4];
    if data_type.is_empty() || !data_type.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err("the data type folder is not a data type (e.g. ADT-00)".into());
    }
    let fields: Vec<&str> = parts[5].split('_').collect();
    if fields.len() != 7 {
        return Err(format!("the file name has {} fields separated by _, not 7", fields.len()));
    }
    if fields[0] != id {
        return Err("the file name's patient ID is not the patient folder's".into());
    }
    if fields[1] != date_folder {
        return Err("the file name's date is not the date folder's".into());
    }
    if fields[2] != data_type {
        return Err("the file name's data type is not the data type folder's".into());
    }
    if fields[3].is_empty() || !fields[3].bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("the file name's order number is not alphanumeric".into());
    }
    let ts = fields[4];
    if ts.len() < 8 || !ts.bytes().all(|b| b.is_ascii_digit()) || values::parse(&ts[..8]).is_none() {
        return Err("the file name's timestamp is not YYYYMMDDHHMMSSfff".into());
    }
    if fields[5].is_empty() || !fields[5].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err("the file name's department code is not a code".into());
    }
    if !matches!(fields[6], "0" | "1" | "2") {
        return Err("the file name's condition flag is not 0, 1 or 2".into());
    }
    Ok(Entry {
        id: id.to_string(),
        date,
        data_type: data_type.to_string(),
        order: fields[3].to_string(),
        timestamp: ts.to_string(),
        dept: fields[5].to_string(),
        flag: fields[6].to_string(),
    })
}

/// The keyed token of an order (placer, filler, specimen, visit...) number: 15 digits for a
/// number (leading zeros ignored, so `12345` and `000000000012345` are one order), as SS-MIX2
/// file names need, else 20 hex digits. The same in every message and file name.
pub fn order_token(pseudo: &Pseudonymizer, value: &str) -> String {
    let v = value.trim();
    if v == NO_ORDER {
        return v.to_string();
    }
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let n = v.trim_start_matches('0');
        let hex = pseudo.token("order-number", n.as_bytes(), 16);
        let x = u64::from_str_radix(&hex, 16).expect("16 hex digits") % 1_000_000_000_000_000;
        let s = format!("{x:015}");
        return if s == NO_ORDER { "999999999999998".to_string() } else { s };
    }
    pseudo.token("order-number", v.as_bytes(), 20)
}

/// The 17 digits that stand for a message's file-name timestamp when dates are removed: a keyed
/// token of the file's path below the root (patient ID, date folder, data type, order number,
/// timestamp, department and condition flag), so that the name keeps SS-MIX2's shape, holds no
/// date, differs for every file of the storage, and depends on nothing else: a message added to
/// the storage later (SS-MIX2 grows every day) changes no other message's output name, and a
/// re-run into the same output adds exactly the new messages. The order of the messages is not
/// in the names then (the dates are gone anyway).
pub fn timestamp_token(pseudo: &Pseudonymizer, rel: &Path) -> String {
    let hex = pseudo.token("ss-mix2-timestamp", &crate::linkage::path_bytes(rel), 16);
    let x = u64::from_str_radix(&hex, 16).expect("16 hex digits") % 100_000_000_000_000_000;
    format!("{x:017}")
}

/// What one message's rewrite did, and what it knows of the message.
#[derive(Debug, Default)]
struct Rewrite {
    counts: BTreeMap<(String, &'static str), u32>,
    notes: Vec<String>,
    segments_removed: usize,
    /// The message was read as Shift_JIS.
    read_as_shift_jis: bool,
    /// The message's own dates ([`message_dates`] and its file's date folder), read when its
    /// rewrite starts.
    message_dates: Vec<Vec<u8>>,
    /// The same dates as days: free text and kept text find them also where a letter or `_`
    /// joins them to a word (`CT_20240102`), as `deid` finds a file's own dates.
    own_days: Vec<chrono::NaiveDate>,
}

impl Rewrite {
    fn count(&mut self, key: String, action: &'static str) {
        *self.counts.entry((key, action)).or_insert(0) += 1;
    }

    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) && self.notes.len() < 50 {
            self.notes.push(note);
        }
    }
}

/// The patient's context for rewriting.
struct PatientCtx<'a> {
    pseudo: &'a Pseudonymizer,
    table: &'a RuleTable,
    folder_id: &'a str,
    pseudonym: String,
    shift: i64,
    retain_dates: bool,
    clean_text: bool,
    /// Everything collected ([`Scope::All`]): free text is cleaned of it.
    ids: Identifiers,
    /// The patient's own identifiers ([`Scope::Patient`]): kept OBX-5 values are checked
    /// against them.
    own: Identifiers,
    /// A message of the patient could not be read whole in the first pass: the identifiers it
    /// holds may be missing from `ids`, so free text is removed, not cleaned.
    ids_incomplete: bool,
}

/// The audit note of a message whose free text was removed although `clean-free-text` was
/// given ([`PatientCtx::ids_incomplete`]).
const WITHHELD_NOTE: &str = "free text removed, not cleaned (clean-free-text): another message of this patient could not be read whole, so the identifiers it holds are unknown";

fn text_of(msg: &Message, bytes: &[u8]) -> hl7::Decoded {
    msg.decode(bytes)
}

/// The ID in PID-3: the repetition whose CX.5 is PI, else the first non-empty one; with its
/// identifier type.
fn pid3(msg: &Message, field: &[u8]) -> Option<(String, Option<Vec<u8>>)> {
    let f = msg.delimiters.parse_field(field);
    let first = |r: &Vec<Vec<Vec<u8>>>| r.first().and_then(|c| c.first()).filter(|b| !b.is_empty()).is_some();
    let rep = f
        .iter()
        .find(|r| first(r) && r.get(4).and_then(|c| c.first()).is_some_and(|t| t.as_slice() == b"PI"))
        .or_else(|| f.iter().find(|r| first(r)))?;
    let id = text_of(msg, &rep[0][0]);
    let kind = rep
        .get(4)
        .and_then(|c| c.first())
        .filter(|t| hl7::is_plain_ascii(t, &msg.delimiters) && !t.is_empty())
        .cloned();
    Some((id.text, kind))
}

/// Check the message belongs to the folder's patient: exactly one PID segment, whose PID-3 is
/// the folder's ID.
///
/// Every kept PID field (birth month, sex, postal area...) is written under the folder patient's
/// pseudonym, so a second PID (another patient, as in a merge or a misrouted message) would
/// release that patient's data as this one's: such a message fails like a PID-3 mismatch.
pub(crate) fn check_patient(msg: &Message, folder_id: &str) -> Result<(), String> {
    let mut pids = msg.segments.iter().filter(|s| s.name == "PID");
    let pid = pids.next().ok_or("the message has no PID segment")?;
    if pids.next().is_some() {
        return Err("the message has more than one PID segment".into());
    }
    let (id, _) = pid3(msg, pid.field(3)).ok_or("PID-3 (patient ID) is empty")?;
    if crate::pseudo::normalize_id(&id) != crate::pseudo::normalize_id(folder_id) {
        return Err("PID-3 (patient ID) is not the patient folder's ID".into());
    }
    Ok(())
}

/// Every patient ID a message names: the ID (CX.1) of each PID-3 repetition, and of each
/// MRG-1 repetition (the prior patient identifier list of a merge message, ADT^A40...: the
/// record merged into this patient's) and MRG-4 (prior patient ID, which older senders fill
/// instead of MRG-1). A merged record lists several
/// (`9999999^^^^PI~1234568^^^^PI`); the opt-out and cohort decision
/// ([`crate::cohort::Cohort::admit_each`]) takes the message as each of those patients, as
/// `deid` and `clinical csv` take a multi-valued Patient ID.
fn message_patient_ids(msg: &Message) -> Vec<String> {
    msg.segments
        .iter()
        .flat_map(|s| match s.name.as_str() {
            "PID" => vec![s.field(3)],
            "MRG" => vec![s.field(1), s.field(4)],
            _ => Vec::new(),
        })
        .flat_map(|field| msg.delimiters.parse_field(field))
        .filter_map(|rep| rep.first().and_then(|c| c.first()).map(|b| text_of(msg, b).text))
        .filter(|id| !id.trim().is_empty())
        .collect()
}

/// Every component (all subcomponents) of a field's repetitions, decoded, for collecting.
pub(crate) fn components(msg: &Message, field: &[u8]) -> Vec<Vec<String>> {
    msg.delimiters
        .parse_field(field)
        .iter()
        .map(|rep| {
            rep.iter()
                .map(|c| c.iter().map(|s| text_of(msg, s).text).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" "))
                .collect()
        })
        .collect()
}

/// Component `n` (1-based) of a repetition from [`components`], or empty.
pub(crate) fn get(rep: &[String], n: usize) -> &str {
    rep.get(n - 1).map_or("", String::as_str)
}

/// Add one name component: as written, each part separated by white space (ASCII or the
/// ideographic space U+3000), and the parts run together, as the CSV side does for a name
/// column. A sender that puts the whole name in XPN.1 (`山本　美日^^^^^^L^I`) still yields
/// `山本`, `美日` and `山本美日`, so `山本様` or `美日さん` in free text are found.
fn add_name_component(ids: &mut Identifiers, component: &str) {
    ids.add(component);
    let parts: Vec<&str> = component.split(char::is_whitespace).filter(|p| !p.is_empty()).collect();
    for p in &parts {
        ids.add(p);
    }
    if parts.len() >= 2 {
        ids.add(&parts.concat());
    }
}

/// Whose identifiers [`collect`] gathers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Everything the table's actions collect (the patient, relatives, staff, organisations):
    /// free text is cleaned of all of it.
    All,
    /// The patient's own (names, relatives' names, IDs, address, phones, birth date), without
    /// staff and organisations and without numbers of fewer than six digits: kept values are
    /// checked against these, and a doctor's number or a two-digit insurance branch number
    /// would match codes and results that identify nobody.
    Patient,
}

impl Scope {
    /// Add a non-name value (ID, address part, phone) for this scope.
    fn add(self, ids: &mut Identifiers, value: &str) {
        let v = value.trim();
        if self == Scope::Patient && v.len() < 6 && v.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        ids.add(v);
    }

    /// Add an ID (PID-2, a PID-3 repetition, PID-4, MRG-1...) for this scope, in the spellings
    /// people type it ([`Identifiers::add_id`]: without its padding or separators, its prefix
    /// split off or left out), as the folder's own ID and a CSV `identifier` column are: a note
    /// writes the medical record number `MR-887766` as `887766` or `MR887766`.
    fn add_id(self, ids: &mut Identifiers, value: &str) {
        let v = value.trim();
        if self == Scope::Patient && v.len() < 6 && v.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        ids.add_id(v);
    }
}

/// Pass 1: the identifiers a message holds, per the table's actions, for `scope`; and those of
/// a merge's MRG segment ([`collect_merge`]), which the table removes whole.
fn collect(msg: &Message, table: &RuleTable, ids: &mut Identifiers, scope: Scope) {
    for seg in &msg.segments {
        if seg.name == "MRG" {
            collect_merge(msg, seg, ids, scope);
        }
        if scope == Scope::All {
            collect_facilities(msg, seg, ids);
        }
        if seg.name == "GT1" {
            for (n, action) in &GUARANTOR_FIELDS {
                collect_field(msg, action, seg.field(*n), ids, scope);
            }
        }
        let Some(rules) = table.segment(&seg.name) else { continue };
        for n in 1..=seg.len() {
            collect_field(msg, rules.action(n), seg.field(n), ids, scope);
        }
    }
}

/// The identifying fields of a GT1 (guarantor, HL7 v2.5 6.5.5), which the table removes whole:
/// collected as NK1's and IN1's are (a guarantor is usually a relative, named in notes): 2
/// guarantor number, 3 name, 4 spouse name, 5 address, 6-7 phones, 12 SSN, 16 employer name,
/// 17 employer address, 18 employer phone, 19 employee ID, 21 organisation name.
const GUARANTOR_FIELDS: [(usize, Action); 12] = [
    (2, Action::Identifier),
    (3, Action::PersonName),
    (4, Action::PersonName),
    (5, Action::Address),
    (6, Action::Phone),
    (7, Action::Phone),
    (12, Action::Identifier),
    (16, Action::PersonName),
    (17, Action::Address),
    (18, Action::Phone),
    (19, Action::Identifier),
    (21, Action::Organization),
];

/// Add an organisation's name (employer, insurer, facility) as written and without its legal
/// form ([`crate::names::organization_spellings`]: `鹿ノ門商事` of `鹿ノ門商事株式会社`).
fn add_organization(ids: &mut Identifiers, name: &str) {
    for s in crate::names::organization_spellings(name) {
        ids.add(&s);
    }
}

/// The facility names of a message, which the table removes (MSH-4 sending and MSH-6 receiving
/// facility, PV1-3.4 the point of care's facility, PV1-39 servicing facility): collected as
/// organisations, so free text loses them too, as DICOM Clean takes institution names out of
/// kept text. The HD's namespace ID (its first component, or subcomponent in PV1-3).
fn collect_facilities(msg: &Message, seg: &hl7::Segment, ids: &mut Identifiers) {
    let fields: &[usize] = match seg.name.as_str() {
        "MSH" => &[4, 6],
        "PV1" => &[39],
        _ => &[],
    };
    for &n in fields {
        for rep in components(msg, seg.field(n)) {
            add_organization(ids, get(&rep, 1));
        }
    }
    if seg.name == "PV1" {
        for rep in msg.delimiters.parse_field(seg.field(3)) {
            if let Some(first) = rep.get(3).and_then(|c| c.first()) {
                add_organization(ids, &text_of(msg, first).text);
            }
        }
    }
}

/// Pass 1 for one field (`bytes`) whose action is `action` ([`collect`]).
fn collect_field(msg: &Message, action: &Action, bytes: &[u8], ids: &mut Identifiers, scope: Scope) {
    if bytes.is_empty() {
        return;
    }
    match action {
        Action::PatientId | Action::Identifier => {
            for rep in components(msg, bytes) {
                scope.add_id(ids, get(&rep, 1));
            }
        }
        Action::PersonName => {
            for rep in components(msg, bytes) {
                for c in rep.iter().take(5) {
                    add_name_component(ids, c);
                }
                ids.add_person_name(&[get(&rep, 1), get(&rep, 2), get(&rep, 3)].join("^"));
            }
        }
        Action::StaffName | Action::Organization if scope == Scope::Patient => {}
        Action::StaffName => {
            for rep in components(msg, bytes) {
                for c in rep.iter().take(4) {
                    add_name_component(ids, c);
                }
                ids.add_person_name(&[get(&rep, 2), get(&rep, 3), get(&rep, 4)].join("^"));
            }
        }
        Action::Organization => {
            for rep in components(msg, bytes) {
                add_organization(ids, get(&rep, 1));
            }
        }
        Action::Address => {
            for rep in components(msg, bytes) {
                for n in [1, 2, 3, 5, 8] {
                    scope.add(ids, get(&rep, n));
                }
                // The town with its house number, written alone (`登呂1-3-5`).
                for n in [1, 2, 8] {
                    ids.add_street_address(get(&rep, n));
                }
                ids.add_street_address(&[get(&rep, 4), get(&rep, 3), get(&rep, 1), get(&rep, 2)].concat());
            }
        }
        Action::Phone => {
            for rep in components(msg, bytes) {
                for n in [1, 4, 12] {
                    scope.add(ids, get(&rep, n));
                }
                scope.add(ids, &format!("{}{}", get(&rep, 6), get(&rep, 7)));
            }
        }
        Action::BirthDate => {
            for rep in components(msg, bytes) {
                if let Some(d) = get(&rep, 1).get(..8) {
                    ids.add_birth_date_typed(d);
                }
            }
        }
        _ => {}
    }
}

/// The identifiers of a merge's MRG segment: the patient's prior IDs (MRG-1 prior patient
/// identifier list, MRG-2 alternate ID, MRG-3 account number, MRG-4 prior patient ID) and prior
/// name (MRG-7), collected as PID-3 and PID-5 are: a note may still name the record by them.
fn collect_merge(msg: &Message, mrg: &hl7::Segment, ids: &mut Identifiers, scope: Scope) {
    for n in 1..=4 {
        for rep in components(msg, mrg.field(n)) {
            scope.add_id(ids, get(&rep, 1));
        }
    }
    for rep in components(msg, mrg.field(7)) {
        for c in rep.iter().take(5) {
            add_name_component(ids, c);
        }
        ids.add_person_name(&[get(&rep, 1), get(&rep, 2), get(&rep, 3)].join("^"));
    }
}

/// The dates of a message in `YYYYMMDD`: the date of each value in a field the table shifts
/// as a date (MSH-7, OBR-7, ORC-9...).
fn message_dates(msg: &Message, table: &RuleTable) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for seg in &msg.segments {
        let Some(rules) = table.segment(&seg.name) else { continue };
        for n in 1..=seg.len() {
            let Action::ShiftDate { components } = rules.action(n) else { continue };
            for rep in msg.delimiters.parse_field(seg.field(n)) {
                for &c in components {
                    let Some(sub) = rep.get(c - 1).and_then(|comp| comp.first()) else { continue };
                    if sub.len() >= 8 && sub[..8].iter().all(u8::is_ascii_digit) && !out.iter().any(|d| d == &sub[..8])
                    {
                        out.push(sub[..8].to_vec());
                    }
                }
            }
        }
    }
    out
}

/// Whether a subcomponent is one of the message's own dates written `YYYYMMDD` as digits alone
/// ([`message_dates`]): a code or a number (OBX-5 NM `20240402`) that is the date of the message
/// follows the dates, since the real date beside its shifted copy gives the offset away.
fn is_own_date(sub: &[u8], r: &Rewrite) -> bool {
    sub.len() == 8 && sub.iter().all(u8::is_ascii_digit) && r.message_dates.iter().any(|d| d == sub)
}

/// Generalise a TS birth date (`YYYYMMDD[HHMM...]`, `YYYYMM`, `YYYY`) to year-month or year.
fn birth_ts(value: &[u8], precision: BirthPrecision) -> Option<Vec<u8>> {
    let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
    let month_ok = |m: &[u8]| {
        std::str::from_utf8(m).ok().and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| (1..=12).contains(&m))
    };
    match (precision, digits) {
        (_, 0..=3) => None,
        (BirthPrecision::Year, _) => Some(value[..4].to_vec()),
        (BirthPrecision::YearMonth, 4 | 5) => Some(value[..4].to_vec()),
        (BirthPrecision::YearMonth, _) => month_ok(&value[4..6]).then(|| value[..6].to_vec()),
    }
}

impl PatientCtx<'_> {
    /// Pass 2: rewrite one message in place.
    fn rewrite(&self, msg: &mut Message, r: &mut Rewrite) {
        let d = msg.delimiters;
        for date in message_dates(msg, self.table) {
            if !r.message_dates.contains(&date) {
                r.message_dates.push(date);
            }
        }
        r.own_days =
            r.message_dates.iter().filter_map(|d| std::str::from_utf8(d).ok().and_then(values::parse)).collect();
        let mut segments = std::mem::take(&mut msg.segments);
        segments.retain(|seg| {
            let known = self.table.segment(&seg.name).is_some();
            if !known {
                r.segments_removed += 1;
                r.count(seg.name.clone(), "remove-segment");
            }
            known
        });
        for seg in &mut segments {
            let rules = self.table.segment(&seg.name).expect("kept segments have rules");
            let value_type = (seg.name == "OBX").then(|| String::from_utf8_lossy(seg.field(2)).trim().to_string());
            for n in 1..=seg.len() {
                if seg.name == "MSH" && n <= 2 {
                    continue;
                }
                let bytes = seg.field(n);
                if bytes.is_empty() {
                    continue;
                }
                let key = format!("{}-{n}", seg.name);
                let mut action = rules.action(n).clone();
                let observation = action == Action::ObservationValue;
                if observation {
                    action = match self.table.value_rule(value_type.as_deref().unwrap_or("")) {
                        ValueRule::Keep => Action::Keep,
                        ValueRule::FreeText => Action::FreeText,
                        ValueRule::ShiftDate => Action::ShiftDate {
                            components: if value_type.as_deref() == Some("DR") { vec![1, 2] } else { vec![1] },
                        },
                        ValueRule::Remove => Action::Remove,
                    };
                }
                let new = match (observation, &action) {
                    (true, Action::Keep) => self.kept_value(msg, &key, value_type.as_deref().unwrap_or(""), bytes, r),
                    _ => self.apply(msg, &d, &key, &action, bytes, r),
                };
                r.count(key, action.word());
                if let Some(new) = new {
                    seg.set_field(n, new);
                }
            }
        }
        msg.segments = segments;
    }

    /// OBX-5 of a value type the table keeps: the new bytes, or `None` to keep it byte for byte.
    ///
    /// A value that does not fit its type ([`datatype::check`]: a "number" holding a name, an
    /// SN comparator that is not one) is removed. In a value that fits, each number, code and
    /// text that holds one of the patient's own identifiers (or text that cannot be decoded
    /// exactly, so cannot be checked) is removed, the rest kept: `01^山本美日様 本人^99`
    /// becomes `01^^99`. The audit notes say what was removed, never the value.
    fn kept_value(&self, msg: &Message, key: &str, value_type: &str, bytes: &[u8], r: &mut Rewrite) -> Option<Vec<u8>> {
        let d = &msg.delimiters;
        let Some(layout) = datatype::layout(value_type) else {
            // The table only keeps types with a layout (checked when it is loaded).
            return Some(Vec::new());
        };
        let mut field = d.parse_field(bytes);
        let Some(pieces) = datatype::check(&layout, &field, d, msg.text) else {
            r.note(format!("{key}: a value that does not fit its value type {} was removed", layout.name));
            r.count(key.to_string(), "removed-not-its-type");
            return Some(Vec::new());
        };
        let mut changed = false;
        for p in pieces {
            match &p.text {
                None => r.note(format!("{key}: text that could not be decoded exactly was removed")),
                Some(t) if self.own.found_in(t) => {
                    r.note(format!("{key}: a component holding the patient's identifier was removed"))
                }
                // A number or code that is the message's own date: shifted, or removed (a
                // number replaced by `***` would no longer fit its type).
                Some(t) if p.part != datatype::Part::Text && is_own_date(&field[p.rep][p.comp][p.sub], r) => {
                    let sub = &mut field[p.rep][p.comp][p.sub];
                    match self.retain_dates.then(|| self.kept_text_dates(msg, key, sub, t, r)).flatten() {
                        Some(new) => *sub = new,
                        None => {
                            sub.clear();
                            r.note(format!("{key}: a number that is the message's own date was removed"));
                            r.count(key.to_string(), "removed-date");
                        }
                    }
                    changed = true;
                    continue;
                }
                Some(t) if p.part == datatype::Part::Text => {
                    if let Some(new) = self.kept_text_dates(msg, key, &field[p.rep][p.comp][p.sub], t, r) {
                        field[p.rep][p.comp][p.sub] = new;
                        changed = true;
                    }
                    continue;
                }
                Some(_) => continue,
            }
            field[p.rep][p.comp][p.sub].clear();
            r.count(key.to_string(), "removed-identifier");
            changed = true;
        }
        changed.then(|| d.join_field(&field))
    }

    /// The dates in kept text (the text of a kept code, `01^前回2024/01/15比較^99`) follow the
    /// dates, as in free text: shifted with `retain-long-modified-dates`, replaced without. The new bytes of
    /// the subcomponent (every other byte kept), an empty one when it cannot be rewritten, or
    /// `None` when it holds no date.
    fn kept_text_dates(&self, msg: &Message, key: &str, bytes: &[u8], text: &str, r: &mut Rewrite) -> Option<Vec<u8>> {
        let treated = freetext::dates(text, self.retain_dates.then_some(self.shift), &r.own_days)?;
        let Some(e) = msg.splice(bytes, &treated.edits) else {
            r.note(format!("{key}: kept text holding a date that could not be rewritten exactly was removed"));
            r.count(key.to_string(), "removed-date");
            return Some(Vec::new());
        };
        let word = if self.retain_dates { "shifted-date-in-text" } else { "replaced-date-in-text" };
        r.count(key.to_string(), word);
        Some(e.bytes)
    }

    /// A field the table keeps (codes, values, units, code-table text): `None` to keep it byte
    /// for byte, or the field as [`PatientCtx::check_kept`] leaves it.
    fn kept_field(
        &self,
        msg: &Message,
        d: &hl7::Delimiters,
        key: &str,
        bytes: &[u8],
        r: &mut Rewrite,
    ) -> Option<Vec<u8>> {
        let mut field = d.parse_field(bytes);
        self.check_kept(msg, key, &mut field, r).then(|| d.join_field(&field))
    }

    /// Check the subcomponents of a kept field (or of the kept components of one): each that
    /// holds one of the patient's own identifiers is removed (a name typed into a code's text,
    /// `X^山本様^99`), and the dates written in the others follow the dates, as in free text
    /// (`X^前回2024/01/15比較^99`: shifted with `retain-long-modified-dates`, replaced without).
    /// A subcomponent of ASCII digits alone is a code or a number and is only checked for
    /// identifiers, unless it is one of the message's own dates in `YYYYMMDD`
    /// ([`message_dates`]: `20240115` in ORC-13 of a message of that day), which follows the
    /// dates like any other (a real date beside its shifted copy gives the offset away).
    /// Noted without the value; whether anything changed.
    fn check_kept(&self, msg: &Message, key: &str, field: &mut hl7::Field, r: &mut Rewrite) -> bool {
        let mut changed = false;
        for sub in field.iter_mut().flatten().flatten() {
            let digits = sub.iter().all(u8::is_ascii_digit);
            let own_date = is_own_date(sub, r);
            // A date needs a digit (full-width digits in JIS X 0208 are 0x23 and a digit byte).
            let may_hold_date = own_date || (sub.iter().any(u8::is_ascii_digit) && !digits);
            if sub.is_empty() || (self.own.is_empty() && !may_hold_date) {
                continue;
            }
            let text = text_of(msg, sub).text;
            if self.own.found_in(&text) {
                sub.clear();
                changed = true;
                r.note(format!("{key}: a kept component holding the patient's identifier was removed"));
                r.count(key.to_string(), "removed-identifier");
                continue;
            }
            if may_hold_date {
                if let Some(new) = self.kept_text_dates(msg, key, sub, &text, r) {
                    *sub = new;
                    changed = true;
                }
            }
        }
        changed
    }

    /// The new bytes of one field, or `None` to keep it.
    fn apply(
        &self,
        msg: &Message,
        d: &hl7::Delimiters,
        key: &str,
        action: &Action,
        bytes: &[u8],
        r: &mut Rewrite,
    ) -> Option<Vec<u8>> {
        match action {
            Action::Keep => self.kept_field(msg, d, key, bytes, r),
            Action::Remove
            | Action::PersonName
            | Action::StaffName
            | Action::Organization
            | Action::Phone
            | Action::Identifier => Some(Vec::new()),
            Action::PatientId => {
                let kind = pid3(msg, bytes).and_then(|(_, k)| k);
                let mut rep = vec![vec![self.pseudonym.clone().into_bytes()]];
                if let Some(k) = kind {
                    rep.resize(4, vec![Vec::new()]);
                    rep.push(vec![k]);
                }
                Some(d.join_field(&vec![rep]))
            }
            Action::Address => {
                let mut f = d.parse_field(bytes);
                for rep in &mut f {
                    for (i, comp) in rep.iter_mut().enumerate() {
                        match i + 1 {
                            5 => {
                                let text = comp.iter().map(|s| text_of(msg, s).text).collect::<String>();
                                let prefix = values::postal_prefix(&text).unwrap_or_default();
                                *comp = vec![prefix.into_bytes()];
                            }
                            6 | 7 => {}
                            _ => *comp = vec![Vec::new()],
                        }
                    }
                }
                Some(d.join_field(&f))
            }
            Action::BirthDate => {
                let mut f = d.parse_field(bytes);
                let ts = f.first().and_then(|r| r.first()).and_then(|c| c.first()).cloned().unwrap_or_default();
                let g = birth_ts(&ts, self.table.birth_precision);
                if g.is_none() {
                    r.note(format!("{key}: a birth date that is not a date was emptied"));
                }
                f.truncate(1);
                if let Some(rep) = f.first_mut() {
                    rep.truncate(1);
                    rep[0] = vec![g.unwrap_or_default()];
                }
                Some(d.join_field(&f))
            }
            Action::ShiftDate { components } => {
                if !self.retain_dates {
                    return Some(Vec::new());
                }
                let mut f = d.parse_field(bytes);
                for rep in &mut f {
                    for &c in components {
                        let Some(sub) = rep.get_mut(c - 1).and_then(|comp| comp.first_mut()) else { continue };
                        if sub.is_empty() {
                            continue;
                        }
                        let shifted = std::str::from_utf8(sub).ok().and_then(|s| crate::dates::shift_dt(s, self.shift));
                        if shifted.is_none() {
                            r.note(format!("{key}: a value that is not a date was emptied"));
                        }
                        *sub = shifted.unwrap_or_default().into_bytes();
                    }
                }
                Some(d.join_field(&f))
            }
            Action::Token { components } => {
                let mut f = d.parse_field(bytes);
                for rep in &mut f {
                    for &c in components {
                        let Some(sub) = rep.get_mut(c - 1).and_then(|comp| comp.first_mut()) else { continue };
                        if sub.is_empty() {
                            continue;
                        }
                        let text = text_of(msg, sub).text;
                        *sub = order_token(self.pseudo, &text).into_bytes();
                    }
                }
                Some(d.join_field(&f))
            }
            Action::Uid => {
                let mut f = d.parse_field(bytes);
                for rep in &mut f {
                    if let Some(sub) = rep.first_mut().and_then(|c| c.first_mut()) {
                        if !sub.is_empty() {
                            *sub = self.pseudo.uid(&String::from_utf8_lossy(sub)).into_bytes();
                        }
                    }
                    rep.truncate(1);
                }
                Some(d.join_field(&f))
            }
            Action::FreeText => {
                if !self.clean_text {
                    return Some(Vec::new());
                }
                if self.ids_incomplete {
                    if !bytes.is_empty() {
                        r.note(WITHHELD_NOTE.into());
                    }
                    return Some(Vec::new());
                }
                let mut f = d.parse_field(bytes);
                let mut changed = false;
                for sub in f.iter_mut().flatten().flatten() {
                    if sub.is_empty() {
                        continue;
                    }
                    let decoded = text_of(msg, sub);
                    if !decoded.exact {
                        r.note(format!("{key}: text that could not be decoded exactly was removed"));
                        return Some(Vec::new());
                    }
                    let days = self.retain_dates.then_some(self.shift);
                    let Some(cleaned) = freetext::clean_with_own_dates(&decoded.text, &self.ids, days, &r.own_days)
                    else {
                        continue;
                    };
                    // Only the matches are replaced: every other character and HL7 escape
                    // keeps its bytes.
                    let Some(e) = msg.splice(sub, &cleaned.edits) else {
                        r.note(format!("{key}: text that could not be rewritten exactly was removed"));
                        return Some(Vec::new());
                    };
                    if !e.exact {
                        r.note(format!("{key}: characters outside JIS X 0208 became ?"));
                    }
                    *sub = e.bytes;
                    r.count(key.to_string(), "cleaned");
                    changed = true;
                }
                changed.then(|| d.join_field(&f))
            }
            Action::KeepComponents(keep) => {
                let mut f = d.parse_field(bytes);
                for rep in &mut f {
                    for (i, comp) in rep.iter_mut().enumerate() {
                        if !keep.contains(&(i + 1)) {
                            *comp = vec![Vec::new()];
                        }
                    }
                }
                self.check_kept(msg, key, &mut f, r);
                Some(d.join_field(&f))
            }
            Action::ObservationValue => Some(Vec::new()),
        }
    }
}

/// One file found under the root.
#[derive(Debug, Clone)]
struct Found {
    number: usize,
    path: PathBuf,
    rel: PathBuf,
    entry: Result<Entry, String>,
    /// The keyed hash of the file's absolute path ([`crate::audit::AuditRecord::input_path_key`]):
    /// two inputs of the same bytes (a message copied under a wrong name, or to a date folder
    /// typed by hand, beside the good one) are two inputs with a record each, not one record
    /// that compaction keeps of the two.
    path_key: String,
}

/// The audit record of `f` made of `parts`, with its path key.
fn record_of(parts: RecordParts<'_>, f: &Found) -> crate::audit::AuditRecord {
    let mut record = parts.build();
    record.input_path_key = Some(f.path_key.clone());
    record
}

/// What happened to one file, sent to the single writer of audit and linkage.
struct Done {
    record: crate::audit::AuditRecord,
    label: String,
    problem: Option<Problem>,
    link: Vec<(crate::linkage::Kind, String, String)>,
    segments_removed: usize,
    /// The message was read as Shift_JIS ([`hl7::Message::read_as_shift_jis`]).
    read_as_shift_jis: bool,
}

/// The note of a message read as Shift_JIS.
const SHIFT_JIS_NOTE: &str =
    "read as Shift_JIS (SS-MIX2 text is ISO-2022-JP, as MSH-18 declares) and written as ISO-2022-JP";

/// The audit note of a message declaring UTF-8 whose bytes were Shift_JIS.
const SHIFT_JIS_AS_UTF8_NOTE: &str = "read as Shift_JIS (MSH-18 declares UTF-8) and written as UTF-8";

/// Rewrite one message for a patient, as parsed (once: the cohort check reads the same
/// parse); returns the new bytes and what was done. `date_folder` is the file's date folder
/// (`YYYYMMDD`), one of the message's own dates.
fn rewrite_message(
    ctx: &PatientCtx<'_>,
    parsed: Result<Message, hl7::ParseError>,
    date_folder: Option<&str>,
) -> Result<(Vec<u8>, Rewrite), String> {
    let mut msg = parsed.map_err(|e| format!("the message does not parse: {e}"))?;
    check_patient(&msg, ctx.folder_id)?;
    let mut r = Rewrite {
        message_dates: date_folder.into_iter().map(|d| d.as_bytes().to_vec()).collect(),
        ..Default::default()
    };
    if msg.read_as_shift_jis {
        r.read_as_shift_jis = true;
        r.note(if msg.text == hl7::Text::Utf8 { SHIFT_JIS_AS_UTF8_NOTE } else { SHIFT_JIS_NOTE }.into());
    }
    if msg.segments.iter().any(|s| (1..=s.len()).any(|n| msg.decode(s.field(n)).nonstandard)) {
        r.note("the message holds characters SS-MIX2 does not allow (half-width katakana or JIS X 0212)".into());
    }
    ctx.rewrite(&mut msg, &mut r);
    Ok((msg.to_bytes(), r))
}

/// Run `kamei clinical ss-mix2`.
///
/// # Errors
/// [`super::csv::RunError`] when the output folder or the linkage table cannot be used;
/// per-file problems are counted and reported, never errors.
pub fn run(
    job: &SsMix2Job,
    reporter: &dyn Reporter,
    interrupt: &AtomicBool,
) -> Result<SsMix2Summary, super::csv::RunError> {
    use super::csv::RunError;
    let started = std::time::Instant::now();
    let table = RuleTable::builtin();
    let mut options: Vec<String> = job.options.iter().map(|o| o.name().to_string()).collect();
    options.sort();
    options.dedup();
    let policy = job.pseudo.date_shift_policy();
    let shift = format!("{}:{}", policy.max_days, policy.keep_weekday);
    let table_sha = table.sha256();
    let mut digest_parts: Vec<&[u8]> = vec![table_sha.as_bytes(), shift.as_bytes()];
    // Without masters the digest is what it was before they existed (OUT folders made then
    // stay usable); with them, a run with other masters (which would clean otherwise) is refused.
    let sources = job.sources.digest();
    digest_parts.extend(sources.as_ref().map(String::as_bytes));
    let digest = super::settings_digest(&digest_parts);
    let mut settings = super::settings(&job.pseudo, "clinical-ss-mix2", &digest, &options);
    settings.cohort = job.cohort.digest(&job.pseudo);
    let super::Books { audit_path, mut audit, mut linkage } =
        super::open_books(&job.out, &settings, job.linkage.as_deref())?;

    // Walk: every regular file below the root, sorted, grouped by patient folder.
    let mut found = Vec::new();
    for e in walkdir::WalkDir::new(&job.root).min_depth(1).follow_links(true).sort_by_file_name() {
        let path = match e {
            Ok(e) if e.file_type().is_file() => e.into_path(),
            Ok(_) => continue,
            // A link to nothing, a link loop, a folder that cannot be read: kept, so that it
            // fails when read (counted, exit 1) instead of being left out silently.
            Err(e) => match e.path() {
                Some(p) => p.to_path_buf(),
                None => continue,
            },
        };
        let rel = path.strip_prefix(&job.root).unwrap_or(&path).to_path_buf();
        let entry = parse_path(&rel);
        let resolved = crate::walk::resolved(&path, 40);
        let path_key = job.pseudo.token("input-path", &crate::linkage::path_bytes(&resolved), 32);
        found.push(Found { number: found.len() + 1, path, rel, entry, path_key });
    }
    let mut patients: BTreeMap<String, Vec<Found>> = BTreeMap::new();
    let mut stray = Vec::new();
    for f in found {
        match &f.entry {
            Ok(e) => patients.entry(e.id.clone()).or_default().push(f),
            Err(_) => stray.push(f),
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(job.jobs.max(1))
        .build()
        .map_err(|e| RunError::Output(format!("could not start worker threads: {e}")))?;
    // Opted-out patients and patients outside the cohort: decided from the folder's original
    // ID before anything of theirs is written; their files are only hashed for the audit. A
    // folder merged with an opted-out patient's record is that patient too.
    let (merged_out, merges) = pool.install(|| merged_with_opt_outs(&job.cohort, &patients));
    if let Some(l) = linkage.as_mut() {
        for (id, listed) in &merges {
            l.add(crate::linkage::Kind::Merged, id, listed).map_err(RunError::Linkage)?;
        }
    }
    let folder_reason = |id: &str| match job.cohort.admit(Some(id), None) {
        a if a.is_excluded() => Some(a.reason()),
        _ if merged_out.contains(id) => Some(MERGED_OPT_OUT),
        _ => None,
    };
    let mut excluded_files = 0;
    let excluded: Vec<String> = patients.keys().filter(|id| folder_reason(id).is_some()).cloned().collect();
    for id in &excluded {
        let reason = folder_reason(id).unwrap_or(MERGED_OPT_OUT);
        for f in patients.remove(id).unwrap_or_default() {
            let (sha, bytes) = match std::fs::read(&f.path) {
                Ok(b) => (Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&b))), b.len() as u64),
                Err(_) => (None, 0),
            };
            let record = RecordParts {
                sha256: sha,
                bytes,
                outcome: Outcome::Excluded,
                reason: Some(reason.to_string()),
                output: None,
                actions: Vec::new(),
                notes: Vec::new(),
                profile: "clinical-ss-mix2",
                digest: &digest,
                options: &options,
            };
            let record = record_of(record, &f);
            audit.append(&record).map_err(|e| RunError::Output(e.to_string()))?;
            if let Some(l) = linkage.as_mut() {
                l.add(crate::linkage::Kind::Excluded, &f.rel.to_string_lossy(), reason).map_err(RunError::Linkage)?;
            }
            excluded_files += 1;
        }
    }
    let mut summary = SsMix2Summary {
        excluded_patients: excluded.len(),
        excluded_files,
        merged_ids: merges.len(),
        patients: patients.len(),
        files: patients.values().map(Vec::len).sum::<usize>() + stray.len(),
        ..SsMix2Summary::default()
    };
    let earlier = earlier_outputs(&job.out).map_err(RunError::Output)?;
    let base = RecordBase { digest: &digest, options: &options, earlier: &earlier };

    let (tx, rx) = mpsc::sync_channel::<Done>(256);
    let patients: Vec<(String, Vec<Found>)> = patients.into_iter().collect();
    let result: Result<(), RunError> = std::thread::scope(|s| {
        let tx_stray = tx.clone();
        s.spawn(|| {
            for f in &stray {
                let reason = f.entry.clone().err().unwrap_or_default();
                let _ = tx_stray.send(failed(f, &format!("entry #{}", f.number), reason, &base));
            }
            drop(tx_stray);
            pool.install(|| {
                patients.par_iter().for_each_with(tx.clone(), |tx, (id, files)| {
                    process_patient(job, table, id, files, &base, interrupt, tx);
                });
            });
            drop(tx);
        });
        for done in rx {
            summary.bytes += done.record.input_bytes;
            summary.segments_removed += done.segments_removed;
            summary.read_as_shift_jis += usize::from(done.read_as_shift_jis);
            match done.record.outcome {
                Outcome::Written => summary.written += 1,
                Outcome::Present => summary.present += 1,
                Outcome::Skipped => summary.skipped_invalid += 1,
                Outcome::Failed => summary.failed += 1,
                Outcome::Excluded => summary.excluded_files += 1,
                Outcome::Superseded => {} // a DICOM re-run's record; SS-MIX2 never writes one
            }
            if let Some(p) = &done.problem {
                reporter.problem(&done.label, p);
            }
            if let Some(l) = linkage.as_mut() {
                for (kind, a, b) in &done.link {
                    l.add(*kind, a, b).map_err(RunError::Linkage)?;
                }
            }
            audit.append(&done.record).map_err(|e| RunError::Output(e.to_string()))?;
        }
        Ok(())
    });
    result?;
    drop(audit);
    crate::audit::compact(&audit_path).map_err(|e| RunError::Output(e.to_string()))?;
    if let Some(l) = linkage.as_mut() {
        l.flush().map_err(RunError::Linkage)?;
    }
    let _ = std::fs::remove_dir(job.out.join(".kamei-partial"));
    summary.interrupted = interrupt.load(Ordering::Relaxed);
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Why a folder is left out whose own ID is not listed: a merge joins it to a listed one.
const MERGED_OPT_OUT: &str =
    "excluded: a record merged with this patient's opted out (exclusion register; a merge makes the IDs one person)";

/// The patient folders a merge joins to an opted-out patient. A merge message (MRG-1, MRG-4)
/// or a repeated PID-3 says that its IDs are one person, so every folder whose messages name,
/// directly or through other merges, an ID of the opt-out register is that person: the
/// surviving record's labs and notes are left out, not only the message carrying the MRG, and
/// so is the old record's folder when the surviving ID opted out. Empty without an opt-out
/// register (nothing is read then). IDs are joined as the pseudonym compares them
/// ([`crate::pseudo::normalize_id`]); the register's leading-zero rule applies when deciding.
/// Also returns each ID of such a person that the register does not list, with a listed ID of
/// the same person: the linkage table's `merged` rows, which `deid` and `clinical csv` given
/// the same table follow, and which the operator adds to the register.
fn merged_with_opt_outs(
    cohort: &crate::cohort::Cohort,
    patients: &BTreeMap<String, Vec<Found>>,
) -> (BTreeSet<String>, Vec<(String, String)>) {
    if cohort.excluded_ids().next().is_none() {
        return (BTreeSet::new(), Vec::new());
    }
    let named: Vec<(&String, Vec<String>)> =
        patients.par_iter().map(|(id, files)| (id, files.iter().flat_map(named_patient_ids).collect())).collect();
    let mut people = Merges::default();
    for (id, others) in &named {
        for other in others {
            people.join(id, other);
        }
    }
    let mut opted_out = BTreeSet::new();
    let mut merges = Vec::new();
    for (root, ids) in people.groups() {
        let listed = |id: &&String| cohort.opts_out_any(&[id.as_str()]);
        let Some(one_listed) = ids.iter().find(listed) else { continue };
        merges.extend(ids.iter().filter(|id| !listed(id)).map(|id| (id.clone(), one_listed.clone())));
        opted_out.insert(root);
    }
    (patients.keys().filter(|id| opted_out.contains(&people.root(id))).cloned().collect(), merges)
}

/// The patient IDs one file's message names (none when it cannot be read or parsed: such a
/// message fails when it is processed).
fn named_patient_ids(f: &Found) -> Vec<String> {
    let Ok(bytes) = std::fs::read(&f.path) else { return Vec::new() };
    Message::parse(&bytes).map(|m| message_patient_ids(&m)).unwrap_or_default()
}

/// Patient IDs joined into people by merges (a union-find over normalised IDs).
#[derive(Default)]
struct Merges {
    parent: BTreeMap<String, String>,
}

impl Merges {
    /// The ID standing for `id`'s person.
    fn root(&self, id: &str) -> String {
        let mut id = crate::pseudo::normalize_id(id);
        while let Some(p) = self.parent.get(&id).filter(|p| **p != id) {
            id = p.clone();
        }
        id
    }

    /// Record that `a` and `b` are one person.
    fn join(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.root(a), self.root(b));
        for id in [a, b] {
            self.parent.entry(crate::pseudo::normalize_id(id)).or_insert_with(|| crate::pseudo::normalize_id(id));
        }
        if ra != rb {
            self.parent.insert(rb, ra);
        }
    }

    /// Every person: its root and all its IDs.
    fn groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for id in self.parent.keys() {
            out.entry(self.root(id)).or_default().push(id.clone());
        }
        out
    }
}

/// What every audit record of the run shares, and what earlier runs into OUT recorded.
struct RecordBase<'a> {
    digest: &'a str,
    options: &'a [String],
    /// The outputs earlier runs wrote (path relative to OUT), each with the hashes of the inputs
    /// recorded as making it ([`earlier_outputs`]).
    earlier: &'a BTreeMap<String, BTreeSet<String>>,
}

/// The outputs the audit log of OUT records as written or found present, each with the SHA-256
/// of the inputs that made it: a message whose output differs from the one an earlier run made
/// of the same bytes is cleaned otherwise now, not another message claiming its name.
fn earlier_outputs(out: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let records = crate::release_report::read_audit(out).map_err(|e| e.to_string())?;
    let mut made: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in records {
        if let (Outcome::Written | Outcome::Present, Some(output), Some(sha)) = (r.outcome, r.output, r.input_sha256) {
            made.entry(output).or_default().insert(sha);
        }
    }
    Ok(made)
}

/// The note of a message whose earlier output was replaced ([`earlier_outputs`]).
const RECLEANED_NOTE: &str = "cleaned again: the patient's messages now give identifiers an earlier run did not have (a message added since), so this message is cleaned of more; its earlier output was replaced (replace any copy of it made before)";

fn parts<'a>(base: &'a RecordBase<'a>, sha: Option<String>, bytes: u64, outcome: Outcome) -> RecordParts<'a> {
    RecordParts {
        sha256: sha,
        bytes,
        outcome,
        reason: None,
        output: None,
        actions: Vec::new(),
        notes: Vec::new(),
        profile: "ss-mix2",
        digest: base.digest,
        options: base.options,
    }
}

fn failed(f: &Found, label: &str, reason: String, base: &RecordBase<'_>) -> Done {
    let bytes = std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0);
    let mut p = parts(base, super::csv::file_sha256(&f.path), bytes, Outcome::Failed);
    p.reason = Some(reason.clone());
    Done {
        record: record_of(p, f),
        label: label.to_string(),
        problem: Some(Problem { line: None, message: format!("not copied: {reason}") }),
        link: vec![(crate::linkage::Kind::Failed, f.rel.to_string_lossy().into_owned(), reason)],
        segments_removed: 0,
        read_as_shift_jis: false,
    }
}

fn process_patient(
    job: &SsMix2Job,
    table: &RuleTable,
    id: &str,
    files: &[Found],
    base: &RecordBase<'_>,
    interrupt: &AtomicBool,
    tx: &mut mpsc::SyncSender<Done>,
) {
    let patient = Patient::Id(id);
    let mut ctx = PatientCtx {
        pseudo: &job.pseudo,
        table,
        folder_id: id,
        pseudonym: job.pseudo.patient_pseudonym(patient),
        shift: job.pseudo.date_shift_days(patient),
        retain_dates: job.has(ClinicalOption::RetainLongModifiedDates),
        clean_text: job.has(ClinicalOption::CleanFreeText),
        ids: Identifiers::new(),
        own: Identifiers::new(),
        ids_incomplete: false,
    };
    // Pass 1: the patient's identifiers, from every segment that can be read. A message that
    // cannot be read whole (it fails below) may hold identifiers in what is left: the patient's
    // free text is then removed, not cleaned without them.
    ctx.ids.add_id(id);
    ctx.own.add_id(id);
    // The patient masters' values (a name or a relative only another storage's ADT gives).
    job.sources.add_to(id, &mut ctx.ids);
    job.sources.add_to(id, &mut ctx.own);
    for f in files {
        let readable = std::fs::read(&f.path).ok().and_then(|bytes| match Message::parse(&bytes) {
            Ok(msg) => Some((msg, true)),
            Err(_) => Message::parse_readable(&bytes).map(|(msg, _)| (msg, false)),
        });
        match readable {
            Some((msg, whole)) => {
                collect(&msg, table, &mut ctx.ids, Scope::All);
                collect(&msg, table, &mut ctx.own, Scope::Patient);
                ctx.ids_incomplete |= !whole;
            }
            None => ctx.ids_incomplete = true,
        }
    }
    let entry = |i: usize| files[i].entry.as_ref().expect("grouped entries parsed");
    let p = &ctx.pseudonym;
    let mut first = true;
    // The outputs this run wrote or found for the patient: one of them is never replaced.
    let mut produced: BTreeSet<String> = BTreeSet::new();
    for (i, f) in files.iter().enumerate() {
        if interrupt.load(Ordering::Relaxed) {
            return;
        }
        let e = entry(i);
        let date = match (&e.date, ctx.retain_dates) {
            (Some(d), true) => crate::dates::shift_da(d, ctx.shift).unwrap_or_else(|| "-".into()),
            _ => "-".to_string(),
        };
        let ts = if ctx.retain_dates {
            crate::dates::shift_digit_stamp(&e.timestamp, ctx.shift).unwrap_or_default()
        } else {
            timestamp_token(&job.pseudo, &f.rel)
        };
        let name =
            format!("{p}_{date}_{}_{}_{ts}_{}_{}", e.data_type, order_token(&job.pseudo, &e.order), e.dept, e.flag);
        let rel = format!("{}/{}/{p}/{date}/{}/{name}", &p[..3], &p[3..6], e.data_type);
        let label = rel.clone();
        let bytes = match std::fs::read(&f.path) {
            Ok(b) => b,
            Err(err) => {
                let _ = tx.send(failed(f, &label, format!("could not read the file: {}", err.kind()), base));
                continue;
            }
        };
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(&bytes));
        let parsed = Message::parse(&bytes);
        // The folder's patient was admitted; a message that also names another patient (a
        // merged record: PID-3 repeated, or MRG-1) is decided for each of them, before anything
        // of it is written.
        if job.cohort.is_active() {
            let ids = parsed.as_ref().map(message_patient_ids).unwrap_or_default();
            let admission = job.cohort.admit_each(&ids.iter().map(String::as_str).collect::<Vec<_>>(), None);
            if !ids.is_empty() && admission.is_excluded() {
                let mut pr = parts(base, Some(sha), bytes.len() as u64, Outcome::Excluded);
                pr.reason = Some(admission.reason().to_string());
                let link = vec![(
                    crate::linkage::Kind::Excluded,
                    f.rel.to_string_lossy().into_owned(),
                    admission.reason().to_string(),
                )];
                let _ = tx.send(Done {
                    record: record_of(pr, f),
                    label,
                    problem: None,
                    link,
                    segments_removed: 0,
                    read_as_shift_jis: false,
                });
                continue;
            }
        }
        if e.flag == "0" && !job.has(ClinicalOption::KeepInvalid) {
            let mut pr = parts(base, Some(sha), bytes.len() as u64, Outcome::Skipped);
            pr.reason = Some("condition flag 0 (invalid); --option keep-invalid keeps it".into());
            let _ = tx.send(Done {
                record: record_of(pr, f),
                label,
                problem: None,
                link: vec![(
                    crate::linkage::Kind::Skipped,
                    f.rel.to_string_lossy().into_owned(),
                    "condition flag 0".into(),
                )],
                segments_removed: 0,
                read_as_shift_jis: false,
            });
            continue;
        }
        let (out, r) = match rewrite_message(&ctx, parsed, e.date.as_deref()) {
            Ok(x) => x,
            Err(reason) => {
                let _ = tx.send(failed(f, &label, reason, base));
                continue;
            }
        };
        let target = job.out.join(&rel);
        let staging = job.out.join(".kamei-partial");
        let committed = super::commit_with(&staging, &target, job.sync, |w| {
            use std::io::Write;
            w.write_all(&out)
        });
        let mut recleaned = false;
        let outcome = match committed {
            Ok(((), Committed::Written)) => Outcome::Written,
            Ok(((), Committed::Present)) => Outcome::Present,
            // An earlier run made this output of these very bytes, cleaned of fewer of the
            // patient's identifiers: the new cleaning replaces it.
            Ok(((), Committed::Collision))
                if !produced.contains(&rel) && base.earlier.get(&rel).is_some_and(|made| made.contains(&sha)) =>
            {
                let replaced = super::commit_replacing(&staging, &target, job.sync, |w| {
                    use std::io::Write;
                    w.write_all(&out)
                });
                if let Err(err) = replaced {
                    let _ = tx.send(failed(f, &label, format!("could not write the output: {}", err.kind()), base));
                    continue;
                }
                recleaned = true;
                Outcome::Written
            }
            Ok(((), Committed::Collision)) => {
                let _ = tx.send(failed(f, &label, "another message already has this output name".into(), base));
                continue;
            }
            Err(err) => {
                let _ = tx.send(failed(f, &label, format!("could not write the output: {}", err.kind()), base));
                continue;
            }
        };
        produced.insert(rel.clone());
        let mut pr = parts(base, Some(sha), bytes.len() as u64, outcome);
        pr.output = Some(rel.clone());
        pr.actions = r
            .counts
            .iter()
            .map(|((tag, action), count)| ActionCount { tag: tag.clone(), action: action.to_string(), count: *count })
            .collect();
        pr.notes = r.notes.clone();
        if recleaned {
            pr.notes.push(RECLEANED_NOTE.to_string());
        }
        let mut link = Vec::new();
        if first {
            link.push((crate::linkage::Kind::Patient, id.to_string(), p.clone()));
            first = false;
        }
        link.push((crate::linkage::Kind::File, f.rel.to_string_lossy().into_owned(), rel));
        let problem = (!pr.notes.is_empty()).then(|| Problem { line: None, message: pr.notes.join("; ") });
        let _ = tx.send(Done {
            record: record_of(pr, f),
            label,
            problem,
            link,
            segments_removed: r.segments_removed,
            read_as_shift_jis: r.read_as_shift_jis,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::DateShiftPolicy;
    use crate::pseudo::PseudonymKey;

    fn pseudo() -> Pseudonymizer {
        Pseudonymizer::new(&PseudonymKey::from_bytes([7; 32]), DateShiftPolicy::default())
    }

    #[test]
    fn paths_parse_and_mismatches_are_named() {
        let ok = parse_path(Path::new(
            "123/456/1234567890/20240402/OML-11/1234567890_20240402_OML-11_000000000012346_20240402143000000_01_1",
        ))
        .unwrap();
        assert_eq!(ok.date.as_deref(), Some("20240402"));
        assert_eq!(ok.order, "000000000012346");
        assert_eq!(ok.flag, "1");
        let dash = parse_path(Path::new(
            "123/456/1234567890/-/ADT-00/1234567890_-_ADT-00_999999999999999_20240401093000123_-_1",
        ))
        .unwrap();
        assert_eq!(dash.date, None);
        let bad = [
            ("123/456/1234567890/ADT-00/x", "depth"),
            ("124/456/1234567890/-/ADT-00/1234567890_-_ADT-00_9_20240401093000123_-_1", "first two folders"),
            ("123/456/1234567890/2024-04/ADT-00/1234567890_2024-04_ADT-00_9_20240401093000123_-_1", "date folder"),
            ("123/456/1234567890/-/ADT-00/1234567891_-_ADT-00_9_20240401093000123_-_1", "patient ID"),
            ("123/456/1234567890/-/ADT-00/1234567890_-_ADT-12_9_20240401093000123_-_1", "data type"),
            ("123/456/1234567890/-/ADT-00/1234567890_-_ADT-00_9_2024_-_1", "timestamp"),
            ("123/456/1234567890/-/ADT-00/1234567890_-_ADT-00_9_20240401093000123_-_7", "condition flag"),
            ("123/456/1234567890/-/ADT-00/1234567890_-_ADT-00_9_20240401093000123_-", "6 fields"),
        ];
        for (p, want) in bad {
            let err = parse_path(Path::new(p)).unwrap_err();
            assert!(err.contains(want), "{p}: {err}");
            assert!(!err.contains("1234567890"), "an error must not carry the ID: {err}");
        }
    }

    #[test]
    fn order_tokens_are_stable_numeric_and_ignore_leading_zeros() {
        let p = pseudo();
        let a = order_token(&p, "000000000012347");
        assert_eq!(a.len(), 15);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(order_token(&p, "12347"), a);
        assert_ne!(order_token(&p, "12346"), a);
        assert_eq!(order_token(&p, NO_ORDER), NO_ORDER);
        assert_eq!(order_token(&p, "ORD-1").len(), 20);
    }

    #[test]
    fn rv26_02_timestamp_tokens_are_17_digits_stable_and_differ_for_every_file() {
        let p = pseudo();
        let a = Path::new(
            "123/456/1234567890/20240402/OML-11/1234567890_20240402_OML-11_000000000012346_20240402143000000_01_1",
        );
        // The same timestamp in another date folder, which becomes `-` too.
        let b = Path::new(
            "123/456/1234567890/20240403/OML-11/1234567890_20240403_OML-11_000000000012346_20240402143000000_01_1",
        );
        let (ta, tb) = (timestamp_token(&p, a), timestamp_token(&p, b));
        assert!(ta.len() == 17 && ta.bytes().all(|c| c.is_ascii_digit()), "{ta}");
        assert_ne!(ta, tb);
        assert_eq!(ta, timestamp_token(&p, a));
        let other = Pseudonymizer::new(&PseudonymKey::from_bytes([8; 32]), DateShiftPolicy::default());
        assert_ne!(ta, timestamp_token(&other, a), "keyed");
    }

    fn message(body: &str) -> Message {
        let mut m = b"MSH|^~\\&|HIS|H|SS|H|20240401093000||ADT^A08^ADT_A01|1|P|2.5||||||~ISO IR87\r".to_vec();
        m.extend_from_slice(body.as_bytes());
        Message::parse(&m).unwrap()
    }

    #[test]
    fn a_second_pid_fails_the_message() {
        // 11_second_pid: another patient's PID after the folder patient's.
        let m = message("PID|0001||1234567890^^^^PI||A^B||19850315|F\rPID|0002||2345678901^^^^PI||C^D||19400220|M\r");
        let err = check_patient(&m, "1234567890").unwrap_err();
        assert!(err.contains("more than one PID"), "{err}");
        assert!(!err.contains("2345678901"), "{err}");
        // The same patient twice is still two PIDs.
        let twice = message("PID|0001||1234567890^^^^PI\rPID|0002||1234567890^^^^PI\r");
        assert!(check_patient(&twice, "1234567890").is_err());
        assert!(check_patient(&message("PID|0001||1234567890^^^^PI\r"), "1234567890").is_ok());
    }

    #[test]
    fn a_merge_names_the_patients_of_its_mrg1_and_gives_their_ids_and_name_to_clean() {
        let m = message("PID|0001||1234567890^^^^PI||A^B\rMRG|555555^^^^PI~666666^^^^PI||||||KAKUU^JIRO\r");
        assert_eq!(message_patient_ids(&m), ["1234567890", "555555", "666666"]);
        let mut ids = Identifiers::new();
        collect(&m, RuleTable::builtin(), &mut ids, Scope::All);
        let cleaned = freetext::clean("merged from 666666 KAKUU", &ids, None).unwrap();
        assert_eq!(cleaned.text, "merged from *** ***");
    }

    #[test]
    fn rv17_suspect_11_a_merge_names_the_patient_of_its_mrg4_as_older_senders_write_it() {
        let m = message("PID|0001||1234567890^^^^PI||A^B\rMRG||||555555^^^^PI\r");
        assert_eq!(message_patient_ids(&m), ["1234567890", "555555"]);
    }

    #[test]
    fn rv17_suspect_12_free_text_loses_an_employer_without_its_legal_form_and_the_facilities() {
        let m = Message::parse(
            "MSH|^~\\&|HIS|静岡総合病院|LAB|駿河検査センター|20240101||ADT^A08|1|P|2.5||||||UNICODE UTF-8\r\
             PID|0001||1234567890^^^^PI||A^B\rNK1|1|KAKUU^JIRO|FTH||||||||||㈱鹿ノ門商事\rPV1|1|O|外来^^^浜松記念病院\r"
                .as_bytes(),
        )
        .unwrap();
        let mut ids = Identifiers::new();
        collect(&m, RuleTable::builtin(), &mut ids, Scope::All);
        let cleaned =
            freetext::clean("父 鹿ノ門商事勤務 静岡総合病院 駿河検査センター 浜松記念病院より", &ids, None).unwrap();
        assert_eq!(cleaned.text, "父 ***勤務 *** *** ***より");
    }

    #[test]
    fn rv17_04_the_patients_other_ids_are_found_as_people_type_them() {
        let m = message("PID|0001|ALT-445566|1234567890^^^^PI~MR-887766^^^^MR||A^B\rMRG|PRV-778899^^^^PI\r");
        for scope in [Scope::All, Scope::Patient] {
            let mut ids = Identifiers::new();
            collect(&m, RuleTable::builtin(), &mut ids, scope);
            let cleaned = freetext::clean("A 887766 B MR887766 C 445566 D ALT445566 E 778899", &ids, None).unwrap();
            assert_eq!(cleaned.text, "A *** B *** C *** D *** E ***", "{scope:?}");
        }
    }

    #[test]
    fn a_whole_name_in_one_component_is_found_by_its_parts() {
        // 06_free_text_misses: PID-5 with the whole name in XPN.1, separated by U+3000.
        let mut m = b"MSH|^~\\&|HIS|H|SS|H|20240401093000||ADT^A08^ADT_A01|1|P|2.5||||||~ISO IR87\rPID|0001||1234567890^^^^PI||".to_vec();
        m.extend(hl7::encode("山本　美日", &hl7::Delimiters::default(), hl7::Text::Iso2022Jp).bytes);
        m.extend_from_slice(b"^^^^^^L^I\r");
        let mut ids = Identifiers::new();
        collect(&Message::parse(&m).unwrap(), RuleTable::builtin(), &mut ids, Scope::All);
        let cleaned = freetext::clean("山本様 美日さん 山本美日様 山本　美日", &ids, None).unwrap();
        assert_eq!(cleaned.text, "***様 ***さん ***様 ***");
    }

    #[test]
    fn rv17_suspect_10_a_guarantor_is_collected_though_its_segment_is_removed() {
        let m = "MSH|^~\\&|HIS|H|SS|H|20240402143000||ADT^A08^ADT_A01|1|P|2.5||||||UNICODE UTF-8\r\
                 PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F\r\
                 GT1|1|G-7788991|高橋^四郎^^^^^L^I||西新宿2-8-1^^新宿区^東京都^1600023|^PRN^PH^^^^^^^^^03-5555-6666\r";
        let msg = Message::parse(m.as_bytes()).unwrap();
        assert!(RuleTable::builtin().segment("GT1").is_none(), "GT1 is removed whole");
        let mut ids = Identifiers::new();
        collect(&msg, RuleTable::builtin(), &mut ids, Scope::All);
        let cleaned =
            freetext::clean("保証人 高橋四郎、高橋様 西新宿2-8-1 03-5555-6666 G-7788991", &ids, None).unwrap();
        assert_eq!(cleaned.text, "保証人 ***、***様 *** *** ***");
    }

    /// The folder patient's context after pass 1 over `messages`, with clean-free-text.
    fn patient<'a>(pseudo: &'a Pseudonymizer, messages: &[&[u8]]) -> PatientCtx<'a> {
        let table = RuleTable::builtin();
        let mut ctx = PatientCtx {
            pseudo,
            table,
            folder_id: "1234567890",
            pseudonym: pseudo.patient_pseudonym(Patient::Id("1234567890")),
            shift: 0,
            retain_dates: false,
            clean_text: true,
            ids: Identifiers::new(),
            own: Identifiers::new(),
            ids_incomplete: false,
        };
        for m in messages {
            let msg = Message::parse(m).unwrap();
            collect(&msg, table, &mut ctx.ids, Scope::All);
            collect(&msg, table, &mut ctx.own, Scope::Patient);
        }
        ctx
    }

    #[test]
    fn kept_observation_values_that_hold_the_patients_name_are_removed() {
        // 02_kept_obx_types, in UTF-8 so it reads as it is.
        let m = "MSH|^~\\&|HIS|H|SS|H|20240402143000||OUL^R22^OUL_R22|1|P|2.5||||||UNICODE UTF-8\r\
                 PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F\r\
                 IN1|1|06^x^JHSD0001|06999999||||||||01\r\
                 OBX|1|NM|X^c^99||山本美日||||||F\r\
                 OBX|2|CWE|X^c^99||01^山本美日様 本人^99||||||F\r\
                 OBX|3|ID|X^c^99||山本美日||||||F\r\
                 OBX|4|SN|X^c^99||>^山本美日||||||F\r\
                 OBX|5|NM|X^c^99||1\\F\\山本美日||||||F\r\
                 OBX|6|CWE|X^c^99||1234567890^本人^99||||||F\r\
                 OBX|7|NM|X^c^99||158.0|cm|||||F\r\
                 OBX|8|SN|X^c^99||<^0.5||||||F\r\
                 OBX|9|CWE|X^c^99||A^A型^JSHA1||||||F\r";
        let p = pseudo();
        let ctx = patient(&p, &[m.as_bytes()]);
        let (out, r) = rewrite_message(&ctx, Message::parse(m.as_bytes()), None).unwrap();
        let out = Message::parse(&out).unwrap();
        let obx5: Vec<String> = out
            .segments
            .iter()
            .filter(|s| s.name == "OBX")
            .map(|s| String::from_utf8(s.field(5).to_vec()).unwrap())
            .collect();
        // A "number" or code holding a name does not fit its type; a code or text holding the
        // patient's name or ID loses that component; "01" is no identifier (IN1-10 is too short).
        assert_eq!(obx5, ["", "01^^99", "", "", "", "^本人^99", "158.0", "<^0.5", "A^A型^JSHA1"]);
        assert!(r.notes.iter().any(|n| n == "OBX-5: a value that does not fit its value type NM was removed"));
        assert!(r.notes.iter().any(|n| n == "OBX-5: a component holding the patient's identifier was removed"));
        assert!(r.notes.iter().all(|n| !n.contains("山本") && !n.contains("1234567890")), "{:?}", r.notes);
    }

    /// Half-width katakana as a 7-bit `ESC ( I` run, back to ASCII at the end.
    fn kana7(s: &str) -> Vec<u8> {
        let mut out = b"\x1b(I".to_vec();
        out.extend(s.chars().map(|c| u8::try_from(c as u32 - 0xFF61 + 0x21).unwrap()));
        out.extend_from_slice(b"\x1b(B");
        out
    }

    /// The ISO-2022-JP bytes of `text`: ASCII as is, the rest in JIS X 0208.
    fn jis(text: &str) -> Vec<u8> {
        hl7::encode(text, &hl7::Delimiters::default(), hl7::Text::Iso2022Jp).bytes
    }

    fn segment_field(out: &[u8], name: &str, n: usize) -> Vec<u8> {
        let m = Message::parse(out).unwrap();
        m.segments.iter().find(|s| s.name == name).unwrap().field(n).to_vec()
    }

    #[test]
    fn r9_02_a_half_width_name_with_voiced_marks_is_collected_and_cleaned() {
        // PID-5 ﾔﾏﾀﾞ^ﾀﾞｲｽｹ after ESC ( I: the ﾞ bytes (0x5E) split nothing.
        let mut m = b"MSH|^~\\&|HIS|H|SS|H|20240315101500||ADT^A08^ADT_A01|1|P|2.5||||||~ISO IR87\rPID|0001||1234567890^^^^PI||".to_vec();
        m.extend([kana7("ﾔﾏﾀﾞ"), b"^".to_vec(), kana7("ﾀﾞｲｽｹ"), b"^^^^^L^P||19800101|M\rNTE|1||".to_vec()].concat());
        m.extend(jis("ダイスケ様 ヤマダ様 来院"));
        m.push(b'\r');
        let p = pseudo();
        let ctx = patient(&p, &[&m]);
        let (out, _) = rewrite_message(&ctx, Message::parse(&m), None).unwrap();
        let nte = segment_field(&out, "NTE", 3);
        assert_eq!(nte, jis("***様 ***様 来院"));
    }

    #[test]
    fn r9_03_rewritten_half_width_text_keeps_its_characters_and_gains_no_delimiter() {
        let mut m = b"MSH|^~\\&|HIS|H|SS|H|20240315101500||ADT^A08^ADT_A01|1|P|2.5||||||~ISO IR87\rPID|0001||1234567890^^^^PI||".to_vec();
        m.extend([jis("山田"), b"^".to_vec(), jis("太郎"), b"^^^^^L^I~".to_vec()].concat());
        m.extend([kana7("ﾔﾏﾀﾞ"), b"^".to_vec(), kana7("ﾀﾛｳ"), b"^^^^^L^P||19800101|M\rNTE|1||".to_vec()].concat());
        m.extend([kana7("ｹﾝｻ"), b" ".to_vec(), kana7("ﾔﾏﾀﾞ"), b" ".to_vec(), kana7("ｹﾞﾝｷ"), b"\r".to_vec()].concat());
        let p = pseudo();
        let ctx = patient(&p, &[&m]);
        let (out, _) = rewrite_message(&ctx, Message::parse(&m), None).unwrap();
        let nte = segment_field(&out, "NTE", 3);
        assert_eq!(nte, [kana7("ｹﾝｻ"), b" *** ".to_vec(), kana7("ｹﾞﾝｷ")].concat());
        let d = hl7::Delimiters::default();
        assert_eq!(d.parse_field(&nte)[0].len(), 1, "one component, as in the input");
    }

    const DIGIT_DATE_MESSAGE: &str = "MSH|^~\\&|HIS|FAC|LAB|FAC|20240115093000||OML^O33^OML_O33|1|P|2.5||||||~ISO IR87\r\
         PID|||1234567890^^^^PI||YAMADA^TARO^^^^^L^A||19850315|M\r\
         ORC|NW|123|||||||20240115||||20240115\r\
         OBR|1|123||X1^test^99|||20240115\r\
         OBX|1|NM|20240115^BW^99||60|kg|||||F|||20240115\r\
         OBX|2|NM|20231201^BW^99||60|kg|||||F\r";

    #[test]
    fn r13_07_a_kept_code_of_digits_equal_to_the_messages_own_date_is_shifted() {
        let p = pseudo();
        let mut ctx = patient(&p, &[DIGIT_DATE_MESSAGE.as_bytes()]);
        ctx.retain_dates = true;
        ctx.shift = -61;
        let (out, _) = rewrite_message(&ctx, Message::parse(DIGIT_DATE_MESSAGE.as_bytes()), None).unwrap();
        assert_eq!(segment_field(&out, "ORC", 13), b"20231115");
        assert_eq!(segment_field(&out, "OBX", 3), b"20231115^BW^99");
        let out = Message::parse(&out).unwrap();
        let second = out.segments.iter().filter(|s| s.name == "OBX").nth(1).unwrap();
        assert_eq!(second.field(3), b"20231201^BW^99", "digits that are no date of the message stay a code");
    }

    #[test]
    fn r13_07_a_kept_code_of_digits_equal_to_the_messages_own_date_is_replaced_without_the_option() {
        let p = pseudo();
        let ctx = patient(&p, &[DIGIT_DATE_MESSAGE.as_bytes()]);
        let (out, _) = rewrite_message(&ctx, Message::parse(DIGIT_DATE_MESSAGE.as_bytes()), None).unwrap();
        assert!(!String::from_utf8_lossy(&out).contains("20240115"), "{}", String::from_utf8_lossy(&out));
    }

    #[test]
    fn r9_12_free_text_keeps_its_hl7_escapes_when_a_date_is_shifted() {
        let text = "result A\\X0D\\result B\\.sp\\c \\H\\hi\\N\\ \\Zfoo\\ \\C2842\\\\M2442\\ \\X0D0A\\ 2024/02/01";
        let m = format!(
            "MSH|^~\\&|HIS|H|SS|H|20240201143000||OUL^R22^OUL_R22|1|P|2.5||||||~ISO IR87\r\
             PID|0001||1234567890^^^^PI||YAMADA^TARO^^^^^L^A||19850315|M\rNTE|1||{text}\r\
             NTE|2||nothing to clean\\.sp\\here^^\r"
        );
        let p = pseudo();
        let mut ctx = patient(&p, &[m.as_bytes()]);
        ctx.retain_dates = true;
        ctx.shift = -54;
        let (out, _) = rewrite_message(&ctx, Message::parse(m.as_bytes()), None).unwrap();
        let out = Message::parse(&out).unwrap();
        let nte: Vec<&[u8]> = out.segments.iter().filter(|s| s.name == "NTE").map(|s| s.field(3)).collect();
        assert_eq!(String::from_utf8_lossy(nte[0]), text.replace("2024/02/01", "2023/12/09"));
        assert_eq!(nte[1], b"nothing to clean\\.sp\\here^^", "a field with nothing found is kept byte for byte");
    }

    #[test]
    fn r9_dates_in_kept_code_text_follow_the_dates() {
        let m = "MSH|^~\\&|HIS|H|SS|H|20240402143000||OUL^R22^OUL_R22|1|P|2.5||||||UNICODE UTF-8\r\
                 PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F\r\
                 OBX|1|CWE|X^c^99||01^前回2024/01/15比較^99Z^20240115^２０２４／０１／１５^L||||||F\r\
                 OBX|2|CWE|X^c^99||01^前回比較^99Z||||||F\r";
        let p = pseudo();
        let mut ctx = patient(&p, &[m.as_bytes()]);
        let obx5 = |out: &[u8]| -> Vec<String> {
            let out = Message::parse(out).unwrap();
            out.segments
                .iter()
                .filter(|s| s.name == "OBX")
                .map(|s| String::from_utf8_lossy(s.field(5)).into())
                .collect()
        };
        // Without retain-long-modified-dates the date goes; a code is left alone.
        let (out, r) = rewrite_message(&ctx, Message::parse(m.as_bytes()), None).unwrap();
        assert_eq!(obx5(&out), ["01^前回***比較^99Z^20240115^***^L", "01^前回比較^99Z"]);
        assert!(r.counts.contains_key(&("OBX-5".to_string(), "replaced-date-in-text")));
        // With it, the date is shifted by the patient's offset, in its own width.
        ctx.retain_dates = true;
        ctx.shift = -10;
        let (out, _) = rewrite_message(&ctx, Message::parse(m.as_bytes()), None).unwrap();
        assert_eq!(obx5(&out), ["01^前回2024/01/05比較^99Z^20240115^２０２４／０１／０５^L", "01^前回比較^99Z"]);
    }

    #[test]
    fn birth_dates_generalise() {
        use BirthPrecision::*;
        assert_eq!(birth_ts(b"19850315", YearMonth).as_deref(), Some(&b"198503"[..]));
        assert_eq!(birth_ts(b"198503150930", Year).as_deref(), Some(&b"1985"[..]));
        assert_eq!(birth_ts(b"1985", YearMonth).as_deref(), Some(&b"1985"[..]));
        assert_eq!(birth_ts(b"198513", YearMonth), None);
        assert_eq!(birth_ts(b"85", YearMonth), None);
    }
}
