//! Decide what happens to every element of a file: profile × data set → [`Plan`].
//!
//! The planner walks the data set at every depth (sequence items, private sequences, items
//! with their own character set), asks the [`RuleSet`] for each tag's rule, resolves the rule
//! against the element (its VR, whether it is empty, the IOD-dependent codes), and computes
//! every replacement value with the [`Pseudonymizer`]. The result is a value: a list of edits
//! by path, a tally by tag and action for the audit, and the patient's pseudonym and date shift.
//! Nothing here does I/O, reads a clock or draws random numbers; the same inputs give the same
//! plan.
//!
//! # How each action is carried out
//!
//! | action | primitive value | sequence |
//! |---|---|---|
//! | K keep | unchanged | kept, items planned recursively |
//! | X remove | removed | removed with its items |
//! | Z empty | zero length | zero items |
//! | D dummy | a dummy valid for the VR ([`dummy_value`]); an empty value stays empty | kept, items planned recursively in dummy mode |
//! | C clean | DA/DT shifted by the patient's offset, TM kept, UI mapped, AE a keyed token, PN a dummy, text scrubbed of the patient's identifiers ([`crate::scrub`]), codes and numbers kept, binary removed | kept, items planned recursively in cleaning mode |
//! | U uid | each UID mapped to `2.25.<HMAC>`, except a UID the standard defines (`new_uid`) | – |
//!
//! **IOD-dependent codes** (Z/D, X/Z, X/D, X/Z/D, X/Z/U\*) are resolved without per-IOD
//! knowledge by the rule that keeps every output valid whatever the attribute's Type in the
//! file's IOD: an absent attribute stays absent; a present but empty one stays empty (Z);
//! a present non-empty X/Z attribute is emptied (Z: the code says it is Type 2 or 3, never
//! Type 1, so empty is valid, where a dummy could break an enumerated value), except a
//! sequence that is Type 3 wherever it is used and may not be present without an item
//! (Referenced Study Sequence), which is removed; a present
//! non-empty Z/D, X/D or X/Z/D one gets D (its value replaced by a dummy; a sequence is kept
//! and its items cleaned), since it may be Type 1; for X/Z/U\* the contained UIDs are
//! replaced by their own U rules. This never empties a Type 1 attribute or removes a Type 2
//! one, and the dummy carries no information. The few plain X codes on attributes an IOD
//! requires get Z or D the same way (`required_despite_x`), and a date that cannot be shifted
//! gets the dummy where the attribute may be Type 1 (`may_be_type_1`).
//!
//! **Dummy mode** (inside a sequence whose action is D, e.g. Content Sequence in the basic
//! profile): text that the profile does not list, such as an SR's Text Value or a Code
//! Meaning, gets a dummy as well. At the top level an unlisted attribute is kept, but inside a
//! sequence the profile replaces by a dummy it is the narrative the D is meant to remove; a
//! dummy rather than removal, because Text Value is Type 1 in a TEXT content item. The code of
//! a concept from a public terminology (SNOMED CT, UCUM, DICOM...) is kept: it names no one.
//!
//! **Cleaning mode** (inside a sequence whose action is C, e.g. Content Sequence under Clean
//! Structured Content): free text (ST, LT, UT, UC) that the profile would remove, replace with
//! a dummy, or does not list is scrubbed instead, so the report text survives without the
//! patient's identifiers.
//!
//! Items inherit the strongest mode of the sequences above them (cleaning, then dummy).
//!
//! **Private blocks**: a Private Creator element is kept only when at least one element of its
//! block is kept. **Overlays**: when Overlay Data (60xx,3000) is removed, the whole 60xx group
//! goes with it (an overlay without its data is invalid).

use crate::charset::{CharacterSet, Reading};
use crate::dataset::{
    DataSet, Element, Tag, VR, Value, is_bulk_data, is_private, is_private_creator, private_creator_tag, tag_str,
};
use crate::dates;
use crate::dict::{INSTITUTION_IDS, OTHER_IDS, PATIENT_IDS, PATIENT_NAMES, SITE_IDS};
use crate::profile::{Action, Conditional, DeidOption, RuleSet, RuleSource, method_code};
use crate::pseudo::{Patient, Pseudonymizer};
use crate::read::DicomFile;
use crate::scrub::Identifiers;
use crate::text_dates::{self, DateTreatment, Which};
use chrono::NaiveDate;
use dicom_dictionary_std::tags;
use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The audit note of an output that keeps its Encapsulated Document (0042,0011), as a user
/// profile may ask (the basic profile replaces it by a dummy): the PDF or CDA document leaves
/// as it is, unread and uncleaned, and its text often holds the patient's name, ID and dates.
/// `kamei verify` reports such an output (`kept-document`, or the identifiers it finds).
pub const KEPT_DOCUMENT_NOTE: &str = "(0042,0011): the Encapsulated Document was kept as the profile asks, unread: kamei does not clean documents (review its text)";

/// kamei's Implementation Class UID (0002,0012): a `2.25` UID derived once from a fixed text.
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.170322151083572644318427128368573310799";
/// kamei's Implementation Version Name (0002,0013), at most 16 characters.
pub const IMPLEMENTATION_VERSION_NAME: &str = concat!("KAMEI_", env!("CARGO_PKG_VERSION"));

/// One step into a sequence: the sequence's tag and the item index.
pub type Step = (Tag, usize);

/// A change to one element.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// The sequence items leading to the data set that holds the element (empty: top level).
    pub path: Vec<Step>,
    /// The element's tag.
    pub tag: Tag,
    /// What to do.
    pub op: Op,
}

/// The operation of an [`Edit`].
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Remove the element.
    Remove,
    /// Put this element in place of the old one (or add it).
    Put(Element),
}

/// What the plan knows about the patient. Holds the original Patient ID: never log or audit it.
#[derive(Clone, PartialEq)]
pub struct PatientPlan {
    /// The pseudonym written to Patient ID and Patient's Name, and used in the output layout.
    pub pseudonym: String,
    /// The per-patient date shift in days (applied only where dates are shifted).
    pub date_shift_days: i64,
    /// Whether the file had no Patient ID (the study stood in for the patient).
    pub id_missing: bool,
    /// How the Patient ID's bytes were read ([`IdReading`]).
    pub id_reading: IdReading,
    original_id: String,
}

impl std::fmt::Debug for PatientPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientPlan")
            .field("pseudonym", &self.pseudonym)
            .field("date_shift_days", &self.date_shift_days)
            .field("id_missing", &self.id_missing)
            .field("id_reading", &self.id_reading)
            .finish_non_exhaustive()
    }
}

impl PatientPlan {
    /// The original Patient ID (decoded, trimmed), for the linkage table only.
    pub fn original_id(&self) -> &str {
        &self.original_id
    }
}

/// Whether the image may carry burned-in text, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BurnedIn {
    /// Burned In Annotation (0028,0301) is YES.
    Declared,
    /// The modality or SOP class usually carries annotation, and Burned In Annotation is absent
    /// or NO (scanners often say NO wrongly; `clean-pixel-data` cleans these unless told to
    /// trust NO).
    Likely,
    /// The image is of a kind that rarely carries text and Burned In Annotation is not YES.
    Unlikely,
    /// No pixel data.
    NoPixels,
}

/// The plan for one file.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The patient's pseudonym and date shift.
    pub patient: PatientPlan,
    /// The edits, in document order; markers last.
    pub edits: Vec<Edit>,
    /// How many times each action was applied to each tag (for the audit; tags only, no values).
    pub tally: BTreeMap<(String, &'static str), u32>,
    /// Notes for the audit about things kamei had to decide (tags only, no values).
    pub notes: Vec<String>,
    /// What the header says about burned-in annotation.
    pub burned_in: BurnedIn,
    /// The new file meta group.
    pub meta: DataSet,
}

/// Why a file cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlanError {}

/// What the planner needs besides the file.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    /// The compiled profile.
    pub rules: &'a RuleSet,
    /// The keyed pseudonymizer.
    pub pseudo: &'a Pseudonymizer,
    /// The profile's name and digest, recorded in De-identification Method (0012,0063).
    pub profile_label: &'a str,
    /// The identifier sets of earlier files of the run, shared by files with the same
    /// identifying values.
    pub identifiers: &'a IdentifierCache,
    /// Patient masters (`deid --identifiers-from`): the values they hold for the file's
    /// Patient ID are added to the file's own.
    pub sources: Option<&'a crate::clinical::csv::IdentifierSources>,
}

/// Which identifier set of a file: what Clean removes ([`FoundValues::for_clean`]), what the
/// safety net looks for ([`FoundValues::for_net`]), what it looks for in code strings
/// ([`FoundValues::for_codes`]) or the patient's own identifiers, looked for in values an
/// option keeps ([`FoundValues::for_patient`]).
#[derive(Debug, Clone, Copy)]
enum IdentifierUse {
    Clean = 0,
    Net = 1,
    Codes = 2,
    Patient = 3,
}

/// The identifier sets built for the files of one run, by the values they were built from.
///
/// Building a file's [`Identifiers`] (every spelling of every name, ID, address and birth
/// date) took a sixth of the CPU of a tag-only run, and the files of one patient's study hold
/// the same identifying values: each set is built once and shared. The key is every value a
/// set is built from (`FoundValues`), compared whole, so a file never gets a set built from
/// another file's values. Bounded: emptied when it holds `IdentifierCache::LIMIT` keys
/// (a worker moves through an archive patient by patient, so few are live at once).
#[derive(Default)]
pub struct IdentifierCache {
    sets: Mutex<HashMap<FoundValues, [Option<Arc<Identifiers>>; 4]>>,
}

/// Shows how many sets are held, never what they hold (patients' names and IDs).
impl std::fmt::Debug for IdentifierCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentifierCache").field("keys", &self.len()).finish_non_exhaustive()
    }
}

impl IdentifierCache {
    /// The most keys held at once.
    const LIMIT: usize = 128;

    /// The `usage` set of a file with these values: the one built earlier, or a new one.
    fn get(&self, usage: IdentifierUse, values: &FoundValues) -> Arc<Identifiers> {
        let slot = usage as usize;
        let cached = self.lock().get(values).and_then(|sets| sets[slot].clone());
        if let Some(set) = cached {
            return set;
        }
        // Built outside the lock: two workers may build the same set once each, never wrongly.
        let set = Arc::new(match usage {
            IdentifierUse::Clean => values.for_clean(),
            IdentifierUse::Net => values.for_net(),
            IdentifierUse::Codes => values.for_codes(),
            IdentifierUse::Patient => values.for_patient(),
        });
        let mut sets = self.lock();
        if sets.len() >= Self::LIMIT && !sets.contains_key(values) {
            sets.clear();
        }
        sets.entry(values.clone()).or_default()[slot] = Some(Arc::clone(&set));
        set
    }

    /// How many keys the cache holds.
    fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FoundValues, [Option<Arc<Identifiers>>; 4]>> {
        // A panic while the lock was held left at worst a missing entry: the map stays usable.
        self.sets.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Build the plan for one file.
///
/// # Errors
/// [`PlanError`] when the file lacks what an output needs (SOP Class UID, SOP Instance UID).
pub fn build(ctx: &PlanContext<'_>, file: &DicomFile) -> Result<Plan, PlanError> {
    let ds = &file.dataset;
    let top_cs = charset_of(ds, &Charset::default_repertoire());
    let patient = patient_plan(ctx.pseudo, ds, &file.meta, &top_cs);
    let mut planner = Planner {
        ctx,
        top: ds,
        top_cs: top_cs.clone(),
        patient: &patient,
        found: OnceCell::new(),
        ids: OnceCell::new(),
        patient_ids: OnceCell::new(),
        code_ids: OnceCell::new(),
        own_ids: OnceCell::new(),
        class_instances: OnceCell::new(),
        uid_clues: OnceCell::new(),
        mapped_uids: OnceCell::new(),
        big_endian: file.transfer_syntax.encoding.big_endian,
        creator: None,
        edits: Vec::new(),
        tally: BTreeMap::new(),
        notes: Vec::new(),
        refused: None,
    };
    let mut path = Vec::new();
    planner.walk(ds, &mut path, &top_cs, Mode::Plain);
    if let Some(reason) = planner.refused.take() {
        return Err(PlanError(reason));
    }
    // An overlay drawn into the pixel data's unused bits leaves with the pixels unless cleared.
    match crate::overlay_bits::clear(ds, file.transfer_syntax.encoding.big_endian) {
        Ok(Some(cleared)) => {
            planner.count(tags::PIXEL_DATA, "clean");
            planner.note("(7FE0,0010): an overlay embedded in the unused bits was zeroed".to_string());
            planner.edits.push(Edit { path: Vec::new(), tag: tags::PIXEL_DATA, op: Op::Put(cleared) });
        }
        Ok(None) => {}
        Err(e) => return Err(PlanError(e.0)),
    }
    // Metadata segments of compressed frames (EXIF, comments, thumbnails) leave with the pixel
    // data unless removed; removing them leaves the decoded image as it was.
    match crate::stream_metadata::strip_pixel_data(ds, &file.transfer_syntax.uid) {
        Ok(Some(stripped)) => {
            for (kind, n) in stripped.removed.counts() {
                *planner.tally.entry((tag_str(tags::PIXEL_DATA), kind.action())).or_insert(0) += n;
            }
            planner.note(format!(
                "(7FE0,0010): metadata segments removed from the compressed frames ({}); the decoded image is unchanged",
                stripped.removed
            ));
            // An offset table the profile removed stays removed.
            let removed_here =
                |tag| planner.edits.iter().any(|e| e.path.is_empty() && e.tag == tag && e.op == Op::Remove);
            let puts: Vec<Element> = stripped.elements.into_iter().filter(|e| !removed_here(e.tag)).collect();
            for e in puts {
                planner.edits.push(Edit { path: Vec::new(), tag: e.tag, op: Op::Put(e) });
            }
        }
        Ok(None) => {}
        Err(e) => {
            return Err(PlanError(format!(
                "(7FE0,0010): {e}; the compressed frames may carry metadata segments (EXIF, comments) that kamei cannot remove; not released"
            )));
        }
    }
    planner.markers();
    let meta = new_meta(ctx, file)?;
    // An image whose pixel data does not fit its Rows, Columns... (cut short, or a length that
    // swallowed the next elements) would be released broken, whether or not it is cleaned.
    if let Some(reason) = crate::pixel_length::unfit(ds, &file.transfer_syntax) {
        return Err(PlanError(format!("{reason}; not released")));
    }
    // A data set without SOP Class/Instance UID (only the file meta had them) gets them from
    // the new meta, so the output is a valid instance.
    for (tag, meta_tag) in [
        (tags::SOP_CLASS_UID, tags::MEDIA_STORAGE_SOP_CLASS_UID),
        (tags::SOP_INSTANCE_UID, tags::MEDIA_STORAGE_SOP_INSTANCE_UID),
    ] {
        if ds.get(tag).is_none() {
            if let Some(e) = meta.get(meta_tag) {
                planner.edits.push(Edit {
                    path: Vec::new(),
                    tag,
                    op: Op::Put(Element::new(tag, VR::UI, e.bytes().unwrap_or_default().to_vec())),
                });
                planner.notes.push(format!("{} was missing; copied from the file meta", tag_str(tag)));
            }
        }
    }
    let read_in_other_set = planner.found.get().map(|f| f.read_in_other_set.clone()).unwrap_or_default();
    for (tag, set) in read_in_other_set {
        planner.note(format!(
            "{}: bytes not valid in the declared Specific Character Set were read as {set} to find the patient's identifiers in text",
            tag_str(tag)
        ));
    }
    let Planner { edits, tally, mut notes, .. } = planner;
    notes.extend(file.notes.iter().cloned());
    if let Some(note) = patient.id_reading.note() {
        notes.push(note.to_string());
    }
    if patient.id_missing {
        notes.push(
            "no Patient ID: the pseudonym and date shift derive from the study (or, without a study, the instance)"
                .to_string(),
        );
    }
    Ok(Plan { burned_in: burned_in(ds), patient, edits, tally, notes, meta })
}

/// Add to `out` every instance UID `ds` holds, at any depth, that kamei maps: each value of a
/// UI attribute (or one sent as UN whose tag the dictionary gives UI) read as an instance UID
/// ([`crate::dict::is_instance_uid_text`]), except in attributes that name a class, syntax or
/// scheme ([`crate::dict::names_registered_uid`]). A kept value of unknown layout holding one
/// (a vendor's blob) would release it beside its mapped copy.
fn instance_uids_of(ds: &DataSet, out: &mut Vec<Vec<u8>>) {
    for e in ds.elements() {
        match &e.value {
            Value::Sequence(seq) => {
                for item in &seq.items {
                    instance_uids_of(&item.dataset, out);
                }
            }
            Value::Bytes(bytes) => {
                let vr = if e.vr == VR::UN { crate::dict::known_vr(e.tag).unwrap_or(VR::UN) } else { e.vr };
                if vr != VR::UI || crate::dict::names_registered_uid(e.tag) {
                    continue;
                }
                for v in bytes.split(|&b| b == b'\\').map(trim_value) {
                    let instance = std::str::from_utf8(v).is_ok_and(crate::dict::is_instance_uid_text);
                    if instance && !out.iter().any(|u| u.as_slice() == v) {
                        out.push(v.to_vec());
                    }
                }
            }
            _ => {}
        }
    }
}

/// The character set declared in a data set, or the inherited one.
fn charset_of(ds: &DataSet, inherited: &Charset) -> Charset {
    match ds.bytes(tags::SPECIFIC_CHARACTER_SET) {
        Some(raw) if !raw.iter().all(|&b| b == b' ' || b == 0) => match CharacterSet::from_value_lenient(raw) {
            Ok(cs) => Charset::Known(cs),
            Err(_) => Charset::Unsupported,
        },
        _ => inherited.clone(),
    }
}

/// The text of a top-level value of `ds` as compared across files: read in the data set's
/// character set as kamei reads text ([`CharacterSet::read`]), NFKC-normalised and trimmed.
/// One value written by two modalities in two character sets (an Issuer of Patient ID in ISO
/// 2022 IR 87 and in UTF-8, returning to ASCII with `ESC ( J` or `ESC ( B`) gives one text.
pub(crate) fn comparable_text(ds: &DataSet, bytes: &[u8], vr: VR) -> String {
    let text = charset_of(ds, &Charset::default_repertoire()).read(bytes, vr).text().to_string();
    let text: String = unicode_normalization::UnicodeNormalization::nfkc(text.as_str()).collect();
    text.trim_matches(|c: char| c.is_whitespace() || c == '\0').to_string()
}

/// A data set's character set as far as kamei can use it.
#[derive(Debug, Clone)]
enum Charset {
    Known(CharacterSet),
    /// A term kamei does not support: text is looked at as bytes (ASCII), never re-encoded.
    Unsupported,
}

impl Charset {
    fn default_repertoire() -> Charset {
        Charset::Known(CharacterSet::default_repertoire())
    }

    /// How kamei reads a text value it looks inside ([`Reading`]): in a supported set by
    /// [`CharacterSet::read`] (the declared set, else UTF-8 or CP932, else undecodable); in a set kamei
    /// does not support, ASCII without escape sequences is read as it is and anything else is
    /// undecodable, compared byte for byte ([`crate::charset::bytes_text`]).
    fn read(&self, bytes: &[u8], vr: VR) -> Reading {
        match self {
            Charset::Known(cs) => cs.read(bytes, vr),
            Charset::Unsupported if bytes.is_ascii() && !bytes.contains(&ESC) => {
                Reading::Declared(String::from_utf8_lossy(bytes).into_owned())
            }
            Charset::Unsupported => Reading::Undecodable(crate::charset::bytes_text(bytes)),
        }
    }

    /// Every reading of an identifying value ([`CharacterSet::identifier_readings`]), so text
    /// read one way still finds its bytes.
    fn identifier_readings(&self, bytes: &[u8], vr: VR) -> Vec<String> {
        match self {
            Charset::Known(cs) => cs.identifier_readings(bytes, vr),
            Charset::Unsupported => vec![self.read(bytes, vr).text().to_string()],
        }
    }

    /// Text for identity purposes: exact decoding, or else each byte as one character so
    /// different bytes never compare equal.
    fn identity_text(&self, bytes: &[u8], vr: VR) -> String {
        if let Charset::Known(cs) = self {
            let d = cs.decode(bytes, vr);
            if d.exact {
                return d.text;
            }
        }
        bytes.iter().map(|&b| b as char).collect()
    }

    /// Bytes for cleaned text of a value read as `reading` ([`CharacterSet::write_back`]):
    /// `None` when it cannot be written back without guessing (the caller writes a dummy).
    fn write_back(&self, reading: &Reading, text: &str, vr: VR) -> Option<Vec<u8>> {
        match (self, reading) {
            (Charset::Known(cs), _) => cs.write_back(reading, text, vr),
            (Charset::Unsupported, Reading::Declared(_)) if text.is_ascii() => Some(text.as_bytes().to_vec()),
            (Charset::Unsupported, _) => None,
        }
    }
}

/// ISO 2022 escape character.
const ESC: u8 = 0x1B;

impl From<CharacterSet> for Charset {
    fn from(cs: CharacterSet) -> Self {
        Charset::Known(cs)
    }
}

/// A value without its padding: trailing spaces and NULs, leading spaces.
pub(crate) fn trim_value(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != b' ' && b != 0).map_or(0, |i| i + 1);
    let start = bytes[..end].iter().position(|&b| b != b' ').unwrap_or(end);
    &bytes[start..end]
}

/// What an audit note says of a value read as Shift_JIS ([`Reading::ShiftJis`]), after its tag.
const SHIFT_JIS_TEXT: &str = "bytes not valid in the declared Specific Character Set were read as Shift_JIS (CP932)";

/// What an audit note says of a value read as EUC-JP ([`Reading::EucJp`]), after its tag.
const EUC_JP_TEXT: &str = "bytes that are clearly EUC-JP Japanese text (not valid in the declared Specific Character Set, or Latin letters there) were read as EUC-JP";

/// What an audit note says of a value read as UTF-8 ([`Reading::Utf8`]), after its tag.
const UTF8_TEXT: &str = "bytes not valid in the declared Specific Character Set were read as UTF-8";

/// What an audit note says of a text value holding an identifier in another encoding than the
/// one it was read in ([`held_in_another_encoding`]), after its tag.
const FOREIGN_ENCODING: &str = "a value held the patient's identifier in another encoding than its character set's \
    (UTF-8, Shift_JIS, EUC-JP or ISO-2022-JP); replaced by a dummy";

/// Whether text whose bytes read as `text` holds none of `ids` as read, but does in another
/// encoding it is valid in ([`crate::charset::foreign_readings`]): text and the patient's name
/// written by different systems (a UTF-8 RIS beside a Latin-1 modality). It cannot be cleaned
/// in the encoding the identifier was found in without guessing, so the caller writes a dummy.
fn held_in_another_encoding(ids: &Identifiers, bytes: &[u8], text: &str) -> bool {
    !ids.found_in(text) && crate::charset::foreign_readings(bytes).iter().any(|t| t != text && ids.found_in(t))
}

/// What an audit note says of a value kamei could not decode ([`Reading::Undecodable`]).
const UNDECODABLE: &str = "not valid in its character set nor as Shift_JIS (CP932), in an unsupported character set \
    or after an escape sequence the set does not follow,";

/// The audit note for a Patient ID read as Shift_JIS (the tag only, never the value).
pub const SHIFT_JIS_ID_NOTE: &str = "(0010,0020): bytes not valid in the declared Specific Character Set \
    were read as Shift_JIS (CP932) for the pseudonym, date shift and opt-out/cohort decision";

/// The audit note for a Patient ID read as UTF-8 (the tag only, never the value).
pub const UTF8_ID_NOTE: &str = "(0010,0020): bytes not valid in the declared Specific Character Set \
    were read as UTF-8 for the pseudonym, date shift and opt-out/cohort decision";

/// The audit note for a Patient ID read as ISO-2022-JP (the tag only, never the value).
pub const ISO2022_JP_ID_NOTE: &str = "(0010,0020): escape sequences the declared Specific Character Set \
    does not follow were read as ISO-2022-JP for the pseudonym, date shift and opt-out/cohort decision";

/// The audit note for a Patient ID read as EUC-JP (the tag only, never the value).
pub const EUC_JP_ID_NOTE: &str = "(0010,0020): bytes not valid in the declared Specific Character Set \
    were read as EUC-JP for the pseudonym, date shift and opt-out/cohort decision";

/// The original Patient ID of a data set as kamei identifies patients: decoded in the data
/// set's character set, or as Shift_JIS (CP932) when its bytes are not valid there but are
/// valid CP932 (Japanese modalities write Shift_JIS whatever (0008,0005) says; the clinical
/// side reads such exports as CP932), else each byte as one character; trimmed, NFKC
/// normalised; empty when absent. The pseudonym, the date shift and the cohort decision all
/// start from this one value.
pub fn original_patient_id(ds: &DataSet) -> String {
    patient_id_text(ds, &charset_of(ds, &Charset::default_repertoire())).0
}

/// [`original_patient_id`], and the audit note to record when it was read in a set other than
/// the declared one ([`IdReading::note`]) for an input left out before it is planned.
pub fn original_patient_id_noted(ds: &DataSet) -> (String, Option<&'static str>) {
    let (id, reading) = patient_id_text(ds, &charset_of(ds, &Charset::default_repertoire()));
    (id, reading.note())
}

/// How a Patient ID's bytes were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdReading {
    /// In the declared character set (or byte by byte when it does not decode them).
    Declared,
    /// Not valid in the declared set and clearly UTF-8 ([`CharacterSet::utf8_reading`]).
    Utf8,
    /// Not valid in the declared set and valid CP932 ([`CharacterSet::shift_jis_reading`]).
    ShiftJis,
    /// Escape sequences the declared set does not follow, read as ISO-2022-JP
    /// ([`CharacterSet::iso2022_jp_reading`]).
    Iso2022Jp,
    /// Not valid in the declared set and clearly EUC-JP ([`CharacterSet::euc_jp_reading`]).
    EucJp,
}

impl IdReading {
    /// The audit note for an ID not read in its declared set (the tag only, never the value).
    pub fn note(self) -> Option<&'static str> {
        match self {
            IdReading::Declared => None,
            IdReading::Utf8 => Some(UTF8_ID_NOTE),
            IdReading::ShiftJis => Some(SHIFT_JIS_ID_NOTE),
            IdReading::Iso2022Jp => Some(ISO2022_JP_ID_NOTE),
            IdReading::EucJp => Some(EUC_JP_ID_NOTE),
        }
    }
}

/// The Patient ID as [`original_patient_id`] reads it, and how it was read: UTF-8 before CP932
/// for bytes not valid in the declared set (valid UTF-8 Japanese is often valid CP932 too, as
/// mojibake; the reverse is rare, see [`CharacterSet::utf8_reading`]).
fn patient_id_text(ds: &DataSet, cs: &Charset) -> (String, IdReading) {
    let Some(bytes) = ds.bytes(tags::PATIENT_ID) else { return (String::new(), IdReading::Declared) };
    id_text(bytes, cs)
}

/// The other IDs a data set gives of its patient: each value of (0010,1000) Other Patient IDs
/// and the Patient ID of each item of (0010,1002) Other Patient IDs Sequence (in the item's
/// character set when it declares one), read as [`original_patient_id`] reads the Patient ID;
/// empty values left out. A merged record or another system's number names the same person,
/// so the opt-out register is checked against these too ([`crate::cohort::Cohort::opts_out_any`]).
pub fn other_patient_ids(ds: &DataSet) -> Vec<String> {
    let cs = charset_of(ds, &Charset::default_repertoire());
    let mut ids = Vec::new();
    if let Some(bytes) = ds.bytes(OTHER_PATIENT_IDS) {
        // Split after decoding: a Shift_JIS character may end in the 0x5C byte.
        ids.extend(id_text(bytes, &cs).0.split('\\').map(crate::pseudo::normalize_id));
    }
    if let Some(seq) = ds.get(tags::OTHER_PATIENT_I_DS_SEQUENCE).and_then(|e| e.value.sequence()) {
        for item in &seq.items {
            ids.push(patient_id_text(&item.dataset, &charset_of(&item.dataset, &cs)).0);
        }
    }
    ids.retain(|id| !id.is_empty());
    ids
}

/// (0010,1000) Other Patient IDs (retired, still written; the dictionary's constant is
/// deprecated for that).
const OTHER_PATIENT_IDS: dicom_core::Tag = dicom_core::Tag(0x0010, 0x1000);

/// A Patient ID value's text, as [`patient_id_text`] reads it, and how it was read.
fn id_text(bytes: &[u8], cs: &Charset) -> (String, IdReading) {
    let bytes = trim_value(bytes);
    let (text, reading) =
        undeclared_id_reading(cs, bytes).unwrap_or_else(|| (cs.identity_text(bytes, VR::LO), IdReading::Declared));
    (crate::pseudo::normalize_id(&text), reading)
}

/// The reading of an ID's bytes that are not valid in the declared set `cs` (see
/// [`original_patient_id`]): UTF-8, ISO-2022-JP, EUC-JP, then CP932, the first that applies.
/// `None` when the declared set reads them, or none of these does.
fn undeclared_id_reading(cs: &Charset, bytes: &[u8]) -> Option<(String, IdReading)> {
    match cs {
        Charset::Known(known) => known
            .utf8_reading(bytes, VR::LO)
            .map(|t| (t, IdReading::Utf8))
            .or_else(|| known.iso2022_jp_reading(bytes, VR::LO).map(|t| (t, IdReading::Iso2022Jp)))
            .or_else(|| known.euc_jp_reading(bytes, VR::LO).map(|t| (t, IdReading::EucJp)))
            .or_else(|| known.shift_jis_reading(bytes, VR::LO).map(|t| (t, IdReading::ShiftJis))),
        Charset::Unsupported => None,
    }
}

/// What stands in for the patient of a data set without a Patient ID: its Study Instance UID,
/// else its SOP Instance UID, else the file meta's Media Storage SOP Instance UID (a file with
/// none of these fails: it has no SOP Instance UID). Files without an ID are merged into one
/// patient only when they belong to one study or are one instance.
fn unidentified_key<'d>(ds: &'d DataSet, meta: &'d DataSet) -> &'d str {
    [
        ds.ascii(tags::STUDY_INSTANCE_UID),
        ds.ascii(tags::SOP_INSTANCE_UID),
        meta.ascii(tags::MEDIA_STORAGE_SOP_INSTANCE_UID),
    ]
    .into_iter()
    .flatten()
    .find(|uid| !uid.is_empty())
    .unwrap_or("")
}

fn patient_plan(pseudo: &Pseudonymizer, ds: &DataSet, meta: &DataSet, cs: &Charset) -> PatientPlan {
    let (id, id_reading) = patient_id_text(ds, cs);
    let study = unidentified_key(ds, meta);
    let patient = if id.is_empty() { Patient::Unidentified { study_uid: study } } else { Patient::Id(&id) };
    PatientPlan {
        pseudonym: pseudo.patient_pseudonym(patient),
        date_shift_days: pseudo.date_shift_days(patient),
        id_missing: id.is_empty(),
        id_reading,
        original_id: id.clone(),
    }
}

/// What the header says about burned-in text. Burned In Annotation NO does not make an image
/// of an annotated kind [`BurnedIn::Unlikely`]: the cleaner does not trust it by default
/// (`trust_burned_in_no`), so the warning about images released without cleaning must not either.
fn burned_in(ds: &DataSet) -> BurnedIn {
    if !crate::annotated::has_pixels(ds) {
        return BurnedIn::NoPixels;
    }
    if crate::annotated::BurnedInValue::read(ds).says_yes() {
        return BurnedIn::Declared;
    }
    if crate::annotated::is_annotated_image(ds) { BurnedIn::Likely } else { BurnedIn::Unlikely }
}

fn new_meta(ctx: &PlanContext<'_>, file: &DicomFile) -> Result<DataSet, PlanError> {
    let ds = &file.dataset;
    let sop_class = ds
        .ascii(tags::SOP_CLASS_UID)
        .or_else(|| file.meta.ascii(tags::MEDIA_STORAGE_SOP_CLASS_UID))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| PlanError("missing SOP Class UID (0008,0016)".to_string()))?;
    if !crate::shown::is_uid(sop_class) {
        return Err(PlanError(NOT_A_UID.replace("{tag}", "(0008,0016)")));
    }
    // A SOP Class UID that is an instance UID or spells an identifier is mapped in the data set
    // (see `Planner::unlisted_uids`), and the file meta follows it.
    let sop_class = if !crate::dict::is_dicom_defined_uid(sop_class)
        && !ctx.rules.options().contains(&DeidOption::RetainUids)
        && crate::class_uids::instances_in_class_fields(ds).contains(sop_class)
    {
        new_uid(ctx.pseudo, sop_class)
    } else {
        sop_class.to_string()
    };
    let sop_instance = ds
        .ascii(tags::SOP_INSTANCE_UID)
        .or_else(|| file.meta.ascii(tags::MEDIA_STORAGE_SOP_INSTANCE_UID))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| PlanError("missing SOP Instance UID (0008,0018)".to_string()))?;
    let new_instance = if ctx.rules.options().contains(&DeidOption::RetainUids) {
        sop_instance.to_string()
    } else {
        new_uid(ctx.pseudo, sop_instance)
    };
    Ok(DataSet::from_elements([
        Element::new(tags::FILE_META_INFORMATION_VERSION, VR::OB, vec![0, 1]),
        Element::new(tags::MEDIA_STORAGE_SOP_CLASS_UID, VR::UI, sop_class.as_bytes().to_vec()),
        Element::new(tags::MEDIA_STORAGE_SOP_INSTANCE_UID, VR::UI, new_instance.into_bytes()),
        Element::new(tags::TRANSFER_SYNTAX_UID, VR::UI, file.transfer_syntax.uid.as_bytes().to_vec()),
        Element::new(tags::IMPLEMENTATION_CLASS_UID, VR::UI, IMPLEMENTATION_CLASS_UID.as_bytes().to_vec()),
        Element::new(tags::IMPLEMENTATION_VERSION_NAME, VR::SH, IMPLEMENTATION_VERSION_NAME.as_bytes().to_vec()),
    ]))
}

/// Why a file whose UID kept as it is (a class, syntax or scheme UID; any UID under Retain
/// UIDs) does not have a UID's form ([`crate::shown::is_uid`]) is refused (`{tag}` is
/// replaced): a value spelled otherwise must not pass.
const NOT_A_UID: &str = "{tag} is a UID kept as it is (it names a registered class, syntax or scheme, or Retain \
    UIDs keeps it) but is not a UID (a damaged value can hold anything, even the patient's name); not released";

/// Why a file with a written value that swallowed element headers is refused (`{tag}` is
/// replaced; see [`crate::wrong_length`]).
const SWALLOWED: &str = "{tag} holds bytes its VR does not allow, shaped like the headers of further elements: a wrong \
    length? (the value ran over the elements after it, which can hold the patient's name); not released";

/// The tags kamei writes itself at the top level (their rules are not applied).
const MARKERS: [Tag; 4] = [
    tags::PATIENT_IDENTITY_REMOVED,
    tags::DEIDENTIFICATION_METHOD,
    tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
    tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
];

/// The UID that replaces `uid` (U, and every UID kamei maps): the keyed `2.25` mapping, except
/// a UID the standard defines ([`crate::dict::is_dicom_defined_uid`]: UTC, an atlas frame of
/// reference, a colour palette, a SOP class in an SR's UIDREF item), which is kept: it is the
/// same for every patient, and mapped it would lose its meaning.
fn new_uid(pseudo: &Pseudonymizer, uid: &str) -> String {
    let trimmed = uid.trim_matches(|c| c == ' ' || c == '\0');
    if crate::dict::is_dicom_defined_uid(trimmed) { trimmed.to_string() } else { pseudo.uid(uid) }
}

/// A dummy value valid for the VR (PS3.15 action D). Numbers are zero, so the bytes are the same
/// in either byte order.
pub fn dummy_value(vr: VR) -> Vec<u8> {
    let text: &[u8] = match vr {
        VR::AE => b"ANONYMOUS",
        VR::AS => b"000Y",
        VR::CS => b"ANONYMIZED",
        VR::DA => b"19000101",
        VR::DT => b"19000101000000",
        VR::TM => b"000000",
        VR::DS | VR::IS => b"0",
        VR::LO | VR::LT | VR::PN | VR::SH | VR::ST | VR::UC | VR::UT => b"ANONYMIZED",
        VR::UR => b"urn:kamei:anonymized",
        VR::US | VR::SS | VR::OW | VR::OB | VR::UN => return vec![0; 2],
        VR::UL | VR::SL | VR::FL | VR::AT | VR::OF | VR::OL => return vec![0; 4],
        VR::FD | VR::SV | VR::UV | VR::OD | VR::OV => return vec![0; 8],
        _ => b"0",
    };
    text.to_vec()
}

/// The dummy for a value of `vr` holding `values` values: one dummy per value for a date or
/// time (DA, DT, TM), whose multiplicity an IOD may fix (Referenced DateTime of a SEGMENT
/// temporal range holds two), a single dummy otherwise.
fn dummy_values(vr: VR, values: usize) -> Vec<u8> {
    let one = dummy_value(vr);
    if !matches!(vr, VR::DA | VR::DT | VR::TM) || values < 2 {
        return one;
    }
    vec![one; values].join(&b'\\')
}

/// Whether an element is a sequence the reader could not parse: a UN whose dictionary VR is SQ,
/// or a private UN whose value starts with an item tag, still held as bytes (or left in the
/// file). Its contents were never planned, so it must not be written as it is.
fn is_unread_sequence(e: &Element) -> bool {
    if e.vr != VR::UN || e.value.is_empty() {
        return false;
    }
    match &e.value {
        Value::Sequence(_) => false,
        Value::Bytes(b) if is_private(e.tag) => b.starts_with(&[0xFE, 0xFF, 0x00, 0xE0]),
        _ => crate::dict::known_vr(e.tag) == Some(VR::SQ),
    }
}

/// Whether an action is a keep that no one chose for this attribute
/// ([`RuleSource::is_unchosen_keep`]). Such values have their UIDs mapped and go through the
/// safety net. Keeps chosen for the attribute (an option's K, a user override) are left as
/// chosen.
fn is_default_keep(source: &RuleSource, action: &Action) -> bool {
    matches!(action, Action::Keep) && source.is_unchosen_keep()
}

/// The parts of a code (Code Value, Long Code Value, Coding Scheme Designator and Version): they
/// name a concept in a scheme, never an instance, so a dotted number in them (an OID-style code
/// `1.3.6.1.4.1.1937`, a scheme written as its OID) is not an original UID to map.
pub(crate) const CODE_PARTS: [Tag; 4] =
    [tags::CODE_VALUE, tags::LONG_CODE_VALUE, tags::CODING_SCHEME_DESIGNATOR, tags::CODING_SCHEME_VERSION];

/// Coding schemes of public terminologies (PS3.16 Table 8-1): their codes name concepts, units
/// and procedures, never a person or an institution. Local schemes (`99…`, `L`) are not here.
const PUBLIC_CODING_SCHEMES: &[&str] = &[
    "DCM",
    "SCT",
    "SRT",
    "SNM3",
    "LN",
    "UCUM",
    "RADLEX",
    "NCIt",
    "FMA",
    "MDC",
    "UMLS",
    "I10",
    "I9C",
    "I10P",
    "ICD10",
    "NEU",
    "UBERON",
    "NCBITaxon",
    "HGNC",
    "ACR",
    "NICIP",
    "ITIS_TSN",
    "MA",
    "PUBCHEM_CID",
];

/// Whether `e` is the Code Value, Long Code Value, Coding Scheme Designator or Coding Scheme
/// Version of a code item (`item`) whose scheme is a public terminology (see
/// [`PUBLIC_CODING_SCHEMES`]), spelled as such codes are: ASCII without spaces, no e-mail
/// address or phone number (`410668003`, `8867-4`, `mm[Hg]`, `J18.9`). Such a code is kept
/// inside a sequence replaced by a dummy; a phone number typed as a code value is not.
fn is_public_code(e: &Element, item: &DataSet) -> bool {
    let public = item
        .get(tags::CODING_SCHEME_DESIGNATOR)
        .and_then(Element::bytes)
        .map(trim_value)
        .is_some_and(|scheme| PUBLIC_CODING_SCHEMES.iter().any(|p| p.as_bytes() == scheme));
    if !CODE_PARTS.contains(&e.tag) || !public {
        return false;
    }
    let Some(code) = e.bytes().and_then(|b| std::str::from_utf8(trim_value(b)).ok()) else { return false };
    code.is_ascii()
        && !code.contains(|c: char| c.is_whitespace() || c == '@' || c == '\\')
        && crate::clinical::freetext::contacts(code).is_none()
}

/// Whether an attribute may be Type 1 where it is used, so an empty value could make the output
/// invalid: Table E.1-1 gives it D or an IOD-dependent code that can be D (Z/D, X/D, X/Z/D),
/// it is a plain X that [`required_despite_x`] replaces by D, or the table does not list it
/// (nothing says it is not Type 1; an unlisted date gets the dummy without a temporal option).
fn may_be_type_1(rules: &RuleSet, tag: Tag) -> bool {
    match rules.table_basic(tag) {
        None => true,
        Some(Action::Dummy | Action::Conditional(Conditional::ZD | Conditional::XD | Conditional::XZD)) => true,
        Some(_) => PRESENTATION_CREATION.contains(&tag),
    }
}

/// Whether a value is binary numbers (US, FL, AT, OW...) other than bulk pixel, overlay and
/// waveform data: kept without a decision only under a damaged or unlisted tag, where the
/// safety net reads its bytes as text because a damaged tag can put a name there.
fn is_binary(tag: Tag, vr: VR) -> bool {
    !is_bulk_data(tag)
        && matches!(
            vr,
            VR::US
                | VR::SS
                | VR::UL
                | VR::SL
                | VR::UV
                | VR::SV
                | VR::FL
                | VR::FD
                | VR::AT
                | VR::OB
                | VR::OW
                | VR::OF
                | VR::OD
                | VR::OL
                | VR::OV
        )
}

/// Whether a private value of unknown type (UN or OB: sent in an Implicit VR file, or by a
/// system that did not know the VR) is one or more UIDs: every value spelled as a UID
/// ([`crate::shown::is_uid`]) with an instance UID's components
/// ([`crate::dict::has_instance_uid_components`]), which a number, a date or a version string
/// does not have. Such a value is mapped like a UI value.
fn holds_uids(e: &Element) -> bool {
    if !matches!(e.vr, VR::UN | VR::OB) {
        return false;
    }
    let Some(bytes) = e.bytes() else { return false };
    let text = String::from_utf8_lossy(trim_value(bytes));
    !text.is_empty() && text.split('\\').all(|v| crate::shown::is_uid(v) && crate::dict::has_instance_uid_components(v))
}

/// Whether a value of unknown type reads as a DICOM Person Name: components joined by `^`
/// (groups by `=`), of letters in any script with spaces, dots, hyphens, apostrophes and
/// commas, the first two components not empty (`SATO^HANAKO`, `山田^太郎=やまだ^たろう`), no
/// digit. A private value so shaped is a name far more often than anything else, and a name is
/// never kept by default, so it is planned as a PN would be.
pub(crate) fn looks_like_name(text: &str) -> bool {
    let text = text.trim_matches([' ', '\0']);
    let first = text.split('=').next().unwrap_or("");
    let mut parts = first.split('^');
    let (Some(family), Some(given)) = (parts.next(), parts.next()) else { return false };
    let word = |p: &str| p.chars().any(char::is_alphabetic);
    word(family)
        && word(given)
        && text.chars().all(|c| c.is_alphabetic() || matches!(c, ' ' | '^' | '=' | '.' | '-' | '\'' | ',' | '\u{3000}'))
}

/// The VR a private value of unknown type (UN: sent in an Implicit VR file, its creator's
/// dictionary unknown) is planned as when every value is a whole date: DA when each is a DA
/// (`20210601`, `2021.06.01`, a range), else DT when each is a DT whose date is complete
/// (`20210601101010`). A value shorter than a full date (`2021`, `202106`) is a number as
/// likely as a date and is not retyped. `None` for anything else. Left as UN, a real date
/// would be released beside the shifted ones in the same file written in Explicit VR.
pub(crate) fn date_shaped_vr(tag: Tag, vr: VR, bytes: &[u8]) -> Option<VR> {
    if vr != VR::UN || !is_private(tag) {
        return None;
    }
    let bytes = trim_value(bytes);
    let text = std::str::from_utf8(bytes).ok().filter(|t| !t.is_empty())?;
    let values: Vec<&str> = text.split('\\').map(|v| v.trim_matches([' ', '\0'])).collect();
    let full_date = |v: &str| v.get(..8).is_some_and(|d| NaiveDate::parse_from_str(d, "%Y%m%d").is_ok());
    let da = values.iter().all(|v| dates::shift_da(v, 0).is_some());
    let dt = values.iter().all(|v| full_date(v) && dates::shift_dt(v, 0).is_some());
    if da {
        Some(VR::DA)
    } else if dt {
        Some(VR::DT)
    } else {
        None
    }
}

/// The text VR a value of unknown type (UN) is taken for when an action needs its type and it
/// reads as plain text ([`Reading::is_text`]): PN when shaped as a person's name
/// ([`looks_like_name`]), LO when every value fits one (at most 64 characters, no control
/// character), UT otherwise. `None` when it is not text.
fn unknown_text_vr(cs: &Charset, bytes: &[u8]) -> Option<VR> {
    let reading = cs.read(bytes, VR::UT);
    if !reading.is_text() {
        return None;
    }
    let text = reading.decoded()?.trim_end_matches([' ', '\0']);
    if looks_like_name(text) {
        return Some(VR::PN);
    }
    let fits_lo = |v: &str| v.chars().count() <= 64 && !v.chars().any(char::is_control);
    Some(if text.split('\\').all(fits_lo) { VR::LO } else { VR::UT })
}

/// Whether a value of a private UI attribute has the components of a version number (`2.1`),
/// not of an instance UID ([`crate::dict::has_instance_uid_components`]: fewer than four, and
/// not `2.25.<uuid>`), as NQHeader Version (0099,xx01) of Table E.3.10-1 holds. It is kept as it
/// is, as Retain Safe Private promises, and as UIDs written in text are read by the same rule. A
/// UUID-derived UID (NQHeader Analyzed Series UID holding a `2.25` series UID) is mapped.
pub fn is_private_version(tag: Tag, value: &str) -> bool {
    is_private(tag) && !crate::dict::has_instance_uid_components(value)
}

fn is_free_text(vr: VR) -> bool {
    matches!(vr, VR::ST | VR::LT | VR::UT | VR::UC)
}

fn is_scrubbable(vr: VR) -> bool {
    matches!(vr, VR::SH | VR::LO | VR::ST | VR::LT | VR::UT | VR::UC | VR::UR)
}

/// Whether cleaned text `clean` is longer than its VR allows (PS3.5 Table 6.2-1: SH 16, LO 64,
/// ST 1024, LT 10240 characters) and longer than the `original` text it replaces: a UID
/// mapped to `2.25.…` or a shifted date (`2024/1/2` → `2023/6/23`) can grow a value past the
/// maximum, which strict readers reject. A value that was already too long and did not grow
/// is not kamei's doing and is left as cleaned.
fn overflows(clean: &str, original: &str, vr: VR) -> bool {
    let max = match vr {
        VR::SH => 16,
        VR::LO => 64,
        VR::ST => 1024,
        VR::LT => 10240,
        _ => return false,
    };
    // SH and LO are limited per value; ST and LT have one value, which may hold a backslash.
    let longest = |text: &str| -> usize {
        let text = text.trim_end_matches([' ', '\0']);
        if matches!(vr, VR::SH | VR::LO) {
            text.split('\\').map(|v| v.chars().count()).max().unwrap_or(0)
        } else {
            text.chars().count()
        }
    };
    let len = longest(clean);
    len > max && len > longest(original)
}

/// Maximum length in characters of a value of a VR (for keyed tokens).
fn max_len(vr: VR) -> usize {
    match vr {
        VR::AE | VR::CS | VR::SH => 16,
        _ => 64,
    }
}

/// How the items of a sequence are planned. A sequence's items inherit the strongest mode of
/// the sequences above them (`Cleaning` > `Dummy` > `Plain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    /// Every element by its own rule.
    Plain,
    /// Inside a sequence replaced by a dummy (D): unlisted free text gets a dummy too.
    Dummy,
    /// Inside a sequence the profile cleans (C): free text that would be removed, replaced by
    /// a dummy or kept unlisted is scrubbed instead.
    Cleaning,
}

/// What the planner decided for one element.
enum Decision {
    Keep,
    /// Keep the sequence and plan its items in this mode.
    Descend(Mode),
    Remove,
    Put(Element),
    /// The action applies but changes nothing (e.g. Z on an empty value).
    Unchanged,
}

struct Planner<'a, 'c> {
    ctx: &'a PlanContext<'c>,
    top: &'a DataSet,
    top_cs: Charset,
    patient: &'a PatientPlan,
    found: OnceCell<Found>,
    ids: OnceCell<Arc<Identifiers>>,
    patient_ids: OnceCell<Arc<Identifiers>>,
    code_ids: OnceCell<Arc<Identifiers>>,
    own_ids: OnceCell<Arc<Identifiers>>,
    /// The values of class fields that are instance UIDs ([`crate::class_uids`]).
    class_instances: OnceCell<std::collections::HashSet<String>>,
    /// What the file's UIDs may spell ([`crate::uid_clues`]): looked for under Retain UIDs,
    /// and in private UIDs kept as they are.
    uid_clues: OnceCell<crate::uid_clues::UidClues>,
    /// Every UID the file maps, wherever it holds it ([`instance_uids_of`]).
    mapped_uids: OnceCell<Vec<Vec<u8>>>,
    /// Whether the file is Explicit VR Big Endian: its numbers are read in that order.
    big_endian: bool,
    /// The private creator of the block of the element being planned: a keyed output names a
    /// private attribute by (group, creator, offset), never by the block its creator took.
    creator: Option<String>,
    edits: Vec<Edit>,
    tally: BTreeMap<(String, &'static str), u32>,
    notes: Vec<String>,
    /// Why the file must not be released (the first reason found), when it must not.
    refused: Option<String>,
}

impl Planner<'_, '_> {
    /// Tally an action for the audit by tag: a private element by its offset in its block,
    /// `(gggg,xxEE)`, and a Private Creator by its own tag, `(gggg,00xx)` as `(0029,0010)`, so
    /// that the creator of a block and the element at the same offset (`(0029,1010)`) are
    /// counted apart. Neither names the creator: its value stays out of the log.
    fn count(&mut self, tag: Tag, action: &'static str) {
        let key = if is_private(tag) && !is_private_creator(tag) {
            format!("({:04X},xx{:02X})", tag.group(), tag.element() & 0xFF)
        } else {
            tag_str(tag)
        };
        *self.tally.entry((key, action)).or_insert(0) += 1;
    }

    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// Every identifying value of the file, collected once.
    fn found(&self) -> &Found {
        self.found.get_or_init(|| {
            let rules = &self.ctx.rules;
            let kept = |t: Tag| rules.rule(t).action == Action::Keep;
            let mut net_sites: Vec<Tag> = NET_SITES.into_iter().filter(|&t| !kept(t)).collect();
            // The issuers of the patient's identifiers (of the Patient ID, the accession
            // number...) name the institution as its name does: looked for unless the profile
            // keeps the institution's name (Retain Institution Identity).
            if !kept(tags::ISSUER_OF_PATIENT_ID) && !kept(tags::INSTITUTION_NAME) {
                net_sites.extend(crate::dict::ISSUER_IDS);
            }
            let mut found = Found::collect(self.top, &self.top_cs, net_sites);
            if let Some(sources) = self.ctx.sources.filter(|_| !self.patient.id_missing) {
                found.values.add_sources(sources.values_of(&self.patient.original_id));
            }
            found
        })
    }

    /// What Clean removes from text.
    fn identifiers(&self) -> &Identifiers {
        self.ids.get_or_init(|| self.ctx.identifiers.get(IdentifierUse::Clean, &self.found().values))
    }

    /// The identifiers the safety net looks for.
    fn net_identifiers(&self) -> &Identifiers {
        self.patient_ids.get_or_init(|| self.ctx.identifiers.get(IdentifierUse::Net, &self.found().values))
    }

    /// The patient's own identifiers, looked for in values an option keeps: see
    /// [`FoundValues::for_patient`].
    fn own_identifiers(&self) -> Arc<Identifiers> {
        Arc::clone(self.own_ids.get_or_init(|| self.ctx.identifiers.get(IdentifierUse::Patient, &self.found().values)))
    }

    /// What the safety net looks for in code strings: see [`Found::for_codes`].
    fn code_identifiers(&self) -> &Identifiers {
        self.code_ids.get_or_init(|| self.ctx.identifiers.get(IdentifierUse::Codes, &self.found().values))
    }

    /// UIDs kept without an explicit decision (see [`is_default_keep`]): an attribute newer
    /// than the table, such as Multi-frame Source SOP Instance UID or Table Frame of Reference
    /// UID, or a kept private UID. Without Retain UIDs each value is mapped like a listed U
    /// attribute, so references still resolve and no original instance UID is left, except
    /// DICOM-defined values (`1.2.840.10008.` well-known UIDs) and attributes that name a
    /// class, transfer syntax, coding scheme... ([`crate::dict::names_registered_uid`]),
    /// whose values are kept unless the file shows one to be an instance UID or it spells an
    /// identifier ([`crate::class_uids::instances_in_class_fields`]). `None` when nothing
    /// changes.
    fn unlisted_uids(&mut self, e: &Element) -> Option<(Decision, &'static str)> {
        let uid_vr = self.value_vr(e) == VR::UI || (is_private(e.tag) && holds_uids(e));
        if !uid_vr || e.value.is_empty() || self.ctx.rules.options().contains(&DeidOption::RetainUids) {
            return None;
        }
        let class = crate::dict::names_registered_uid(e.tag);
        let values: Vec<String> =
            Self::values(e).into_iter().map(|v| String::from_utf8_lossy(trim_value(v)).into_owned()).collect();
        if class && !values.iter().any(|v| self.is_class_field_instance(v)) {
            return None;
        }
        let mut changed = false;
        let mut spelled = false;
        let mapped: Vec<String> = values
            .into_iter()
            .map(|s| {
                let kept = s.is_empty()
                    || crate::dict::is_dicom_defined_uid(&s)
                    || is_private_version(e.tag, &s)
                    || (class && !self.is_class_field_instance(&s));
                if kept && !(is_private_version(e.tag, &s) && self.uid_spells_identifier(&s)) {
                    return s;
                }
                spelled |= kept;
                changed = true;
                self.ctx.pseudo.uid(&s)
            })
            .collect();
        if spelled {
            self.note(format!(
                "{}: a private UID short enough to be a version held the patient's identifier or one of the file's dates; mapped",
                tag_str(e.tag)
            ));
        }
        if class && changed {
            self.note(format!(
                "{}: a class field held an instance UID (one the file uses for an instance, or one spelling an identifier); mapped",
                tag_str(e.tag)
            ));
        }
        changed.then(|| (Decision::Put(Element::new(e.tag, e.vr, mapped.join("\\").into_bytes())), "uid"))
    }

    /// Whether a UID value that would be kept as it is (a private version number, `2.1`)
    /// holds one of the patient's identifiers as `kamei verify` reads it: the Patient ID or one
    /// of the file's dates as a component ([`crate::uid_clues::UidClues::find`]: `19850315`,
    /// `20240301.1`), or an identifier the safety net looks for in its text (`0012345678`, the
    /// Patient ID with its zeros). A damaged or misconfigured vendor value can hold either.
    fn uid_spells_identifier(&self, uid: &str) -> bool {
        let clues = self.uid_clues.get_or_init(|| crate::uid_clues::UidClues::of(self.top));
        clues.find(uid).is_some() || self.net_identifiers().found_in(uid)
    }

    /// Whether `uid`, in a class field, is an instance UID of the file rather than a class
    /// ([`crate::class_uids::instances_in_class_fields`]; the walk is made once, and only
    /// when a class field holds a UID the standard does not register).
    fn is_class_field_instance(&self, uid: &str) -> bool {
        crate::dict::is_instance_uid_text(uid)
            && self.class_instances.get_or_init(|| crate::class_uids::instances_in_class_fields(self.top)).contains(uid)
    }

    /// Under Retain UIDs, note each kept UID value that spells the Patient ID or one of the
    /// file's dates as a component ([`crate::uid_clues::UidClues::find`]): by its tag and the
    /// kind of identifier, never the value ([`crate::uid_clues::KEPT_UID_NOTE`]). The user asked
    /// to keep UIDs, so they stay; the run warns with a count of such outputs and
    /// `verify --against` reports them.
    fn note_uid_clues(&mut self, e: &Element) {
        if !self.ctx.rules.options().contains(&DeidOption::RetainUids) {
            return;
        }
        let clues = self.uid_clues.get_or_init(|| crate::uid_clues::UidClues::of(self.top));
        let found: Vec<_> =
            Self::values(e).iter().filter_map(|v| clues.find(&String::from_utf8_lossy(trim_value(v)))).collect();
        for clue in found {
            self.note(format!("{}: {} {}", tag_str(e.tag), crate::uid_clues::KEPT_UID_NOTE, clue.label()));
        }
    }

    /// Whether `bytes` contain one of the UIDs the file maps unless Retain UIDs keeps them. In
    /// text, or a value of unknown type that may be text (an instance UID written in either is
    /// mapped where it stands, [`Planner::uids_in`]), its own Study, Series or SOP Instance UID;
    /// in any other value (a number, a vendor's byte string, which cannot be rewritten) also
    /// every instance UID the file holds at any depth (Frame of Reference UID, a Referenced SOP
    /// Instance UID: [`instance_uids_of`]), which a kept value would release beside its mapped
    /// copy.
    fn holds_own_uid(&self, bytes: &[u8], vr: VR) -> bool {
        if is_scrubbable(vr) || matches!(vr, VR::CS | VR::UN) {
            let own = !self.ctx.rules.options().contains(&DeidOption::RetainUids);
            return own && self.own_uids().any(|uid| uid.len() >= 8 && bytes.windows(uid.len()).any(|w| w == uid));
        }
        self.holds_mapped_uid(&[bytes])
    }

    /// Whether any of `readings` (the bytes of a value, or its texts:
    /// [`crate::kept_reading::byte_string_readings`]) contains one of the UIDs the file maps,
    /// wherever it holds it (see [`Planner::holds_own_uid`]).
    fn holds_mapped_uid(&self, readings: &[&[u8]]) -> bool {
        if self.ctx.rules.options().contains(&DeidOption::RetainUids) {
            return false;
        }
        let mapped = self.mapped_uids.get_or_init(|| {
            let mut uids: Vec<Vec<u8>> = self.own_uids().filter(|u| u.len() >= 8).map(<[u8]>::to_vec).collect();
            instance_uids_of(self.top, &mut uids);
            uids
        });
        readings.iter().any(|bytes| mapped.iter().any(|uid| bytes.windows(uid.len()).any(|w| w == uid.as_slice())))
    }

    /// Whether `uid` is the file's own Study, Series or SOP Instance UID (top level).
    fn is_own_uid(&self, uid: &str) -> bool {
        self.own_uids().any(|own| own == uid.as_bytes())
    }

    /// The file's own Study, Series and SOP Instance UIDs (top level, padding trimmed).
    fn own_uids(&self) -> impl Iterator<Item = &[u8]> {
        [tags::STUDY_INSTANCE_UID, tags::SERIES_INSTANCE_UID, tags::SOP_INSTANCE_UID]
            .into_iter()
            .filter_map(|t| self.top.get(t).and_then(Element::bytes).map(trim_value))
    }

    /// Refuse the file when a UI value kept as it is (a registered class, syntax or scheme UID;
    /// any UID under Retain UIDs; a UID the profile keeps) is not spelled as a UID: a damaged
    /// value can hold anything, even the patient's name, and nothing would change it.
    fn refuse_unless_uids(&mut self, e: &Element) {
        let damaged = Self::values(e)
            .iter()
            .any(|v| !v.is_empty() && !crate::shown::is_uid(&String::from_utf8_lossy(trim_value(v))));
        if damaged && self.refused.is_none() {
            self.refused = Some(NOT_A_UID.replace("{tag}", &tag_str(e.tag)));
        }
    }

    /// A value about to be written (kept, or put after cleaning) holding bytes its VR does not
    /// allow ([`crate::wrong_length`]): one that swallowed the headers of further elements (a
    /// wrong length ran it over them, and they may hold the patient's name, which nothing else
    /// has seen) refuses the file; one holding other such bytes is replaced by the VR's dummy.
    fn undamaged(&mut self, e: &Element, decision: Decision, word: &'static str) -> (Decision, &'static str) {
        let written = match &decision {
            Decision::Keep => e,
            Decision::Put(new) => new,
            _ => return (decision, word),
        };
        let vr = self.value_vr(written);
        match written.bytes().and_then(|b| crate::wrong_length::damage(vr, b)) {
            None => (decision, word),
            Some(crate::wrong_length::Damage::SwallowedElements) => {
                if self.refused.is_none() {
                    self.refused = Some(SWALLOWED.replace("{tag}", &crate::shown::tag(e.tag)));
                }
                (decision, word)
            }
            Some(crate::wrong_length::Damage::ForeignBytes) => {
                self.note(format!(
                    "{}: a kept value held bytes its VR does not allow (a NUL or a control character: a wrong length?); replaced by a dummy",
                    crate::shown::tag(e.tag)
                ));
                (Decision::Put(Element::new(e.tag, e.vr, dummy_value(vr))), "dummy")
            }
        }
    }

    /// Safety net for a value kept without an explicit decision (see [`is_default_keep`]) that
    /// holds one of the patient's identifiers (a damaged tag, a comment field, a code value
    /// typed by hand). Text that can hold `***` is scrubbed; a code string (CS), whose
    /// repertoire cannot, has each value that holds an identifier replaced by the VR's dummy,
    /// the other values kept (Image Type keeps `ORIGINAL\PRIMARY`). `None` when the value holds
    /// no identifier, or is of a VR that cannot carry one: the caller applies the rule.
    fn safety_net(&mut self, e: &Element, cs: &Charset) -> Option<(Decision, &'static str)> {
        let vr = self.value_vr(e);
        let bytes = e.bytes().filter(|b| !b.is_empty())?;
        if vr != VR::UI && vr != VR::SQ && !is_bulk_data(e.tag) && self.holds_own_uid(bytes, vr) {
            // A damaged tag can put the file's own Study, Series or SOP Instance UID into any
            // value (Image Type, a float), and a vendor's blob any UID the file maps (its Frame
            // of Reference, a referenced image's): released, it would link the output to the
            // source.
            self.note(format!("{}: a kept value held one of the file's original UIDs; replaced", tag_str(e.tag)));
            return Some(if is_scrubbable(vr) || vr == VR::CS {
                (Decision::Put(Element::new(e.tag, e.vr, dummy_value(vr))), "dummy")
            } else {
                (Decision::Remove, "remove")
            });
        }
        if is_private(e.tag) && self.holds_patient_number(vr, bytes) {
            self.note(format!(
                "{}: a kept private number equalled the patient's ID or birth date; removed",
                tag_str(e.tag)
            ));
            return Some((Decision::Remove, "remove"));
        }
        if !is_private(e.tag) && is_binary(e.tag, vr) {
            // Numbers under a damaged tag: looked at as text for what the code-string net
            // looks for (whole names, IDs, birth dates), not single name parts, which a few
            // bytes of a table (an ICC profile, a LUT) can spell by chance.
            if !self.code_identifiers().found_in(cs.read(bytes, VR::UT).text()) {
                return None;
            }
            self.note(format!("{}: a kept binary value held the patient's identifier; removed", tag_str(e.tag)));
            return Some((Decision::Remove, "remove"));
        }
        let opaque =
            vr == VR::UN || (is_private(e.tag) && !is_scrubbable(vr) && !matches!(vr, VR::CS | VR::PN | VR::UI));
        if !is_scrubbable(vr) && !matches!(vr, VR::CS | VR::PN) && !opaque {
            return None;
        }
        let own_dates = !self.found().dates.is_empty() && self.date_treatment() != DateTreatment::Keep;
        // A dot is what a UID written in text needs (see `uids_in`): ASCII, or in text a
        // full-width one, which is a byte of 0x80 or more, or after an ISO 2022 escape.
        let wide = |b: &u8| *b == 0x1B || *b >= 0x80;
        let may_hold_uid =
            (is_scrubbable(vr) || opaque) && (bytes.contains(&b'.') || (is_scrubbable(vr) && bytes.iter().any(wide)));
        // A `^` is what a person's name in a value of unknown type needs (see `looks_like_name`).
        let may_hold_name = opaque && bytes.contains(&b'^');
        if self.net_identifiers().is_empty() && !own_dates && !may_hold_uid && !may_hold_name {
            return None;
        }
        if opaque {
            // A value of unknown structure (a private attribute in an Implicit VR file, a
            // private byte string): looked at as text; one that holds an identifier or one of
            // the file's dates cannot be scrubbed without knowing its layout, so it goes.
            let reading = cs.read(bytes, VR::UT);
            // Text in a binary value may also be UTF-16 (Windows software's private blobs), or in
            // another encoding than the data set's (UTF-8, EUC-JP...: a vendor's own blob): every
            // check looks at every reading, as `kamei verify` reads it.
            let readings = crate::kept_reading::byte_string_readings(reading.text().to_string(), bytes);
            let what = if readings.iter().any(|t| self.net_identifiers().found_in(t)) {
                "the patient's identifier"
            } else if own_dates && readings.iter().any(|t| self.holds_own_date(t)) {
                if self.holds_own_date(reading.text()) {
                    if let Some(dated) = self.dated_unknown_text(e, cs, &reading) {
                        return Some(dated);
                    }
                }
                "one of the file's dates (and is not plain text)"
            } else if self.holds_mapped_uid(
                &readings[usize::from(reading.is_text())..].iter().map(|t| t.as_bytes()).collect::<Vec<_>>(),
            ) {
                // In plain text a UID is mapped where it stands (below); in a binary layout or
                // in another encoding it cannot be written back.
                "one of the file's original UIDs (and is not plain text)"
            } else {
                return self.unknown_text_name_or_uid(e, cs, &reading);
            };
            self.note(format!("{}: a kept value of unknown type held {what}; removed", tag_str(e.tag)));
            return Some((Decision::Remove, "remove"));
        }
        if vr == VR::PN {
            // A kept name (a private PN of a kept creator): the patient's own name in it goes.
            self.net_identifiers().scrub(&cs.read(bytes, vr).text().replace(['^', '='], " "))?;
            self.note(format!("{}: a kept name was the patient's; replaced by a dummy", tag_str(e.tag)));
            return Some((Decision::Put(Element::new(e.tag, e.vr, dummy_value(VR::PN))), "dummy"));
        }
        if is_scrubbable(vr) {
            let reading = cs.read(bytes, vr);
            if held_in_another_encoding(self.net_identifiers(), bytes, reading.text()) {
                self.note(format!("{}: {FOREIGN_ENCODING}", tag_str(e.tag)));
                return Some((Decision::Put(Element::new(e.tag, e.vr, dummy_value(vr))), "dummy"));
            }
            let Some(text) = reading.decoded().map(str::to_string) else {
                // Not decodable (bytes valid neither in the declared set nor as CP932, a
                // character set kamei does not know, an escape sequence it does not follow):
                // compared byte for byte with the identifiers read the same way, and read with
                // its escapes taken out (ANSI colour codes, a stray ESC, a designation the set
                // does not use: [`crate::charset::without_escapes`]), as `kamei verify` reads
                // it; it cannot be re-encoded, so a value holding one, or one of the file's
                // dates, is replaced by a dummy.
                let holds = |text: &str| {
                    if self.net_identifiers().found_in(text) {
                        Some("the patient's identifier")
                    } else {
                        (own_dates && self.holds_own_date(text)).then_some("one of the file's dates")
                    }
                };
                let what = holds(reading.text()).or_else(|| {
                    crate::charset::without_escapes(bytes).iter().find_map(|b| holds(cs.read(b, vr).text()))
                })?;
                self.note(format!("{}: a kept value {UNDECODABLE} held {what}; replaced by a dummy", tag_str(e.tag)));
                return Some((Decision::Put(Element::new(e.tag, e.vr, dummy_value(vr))), "dummy"));
            };
            // A URL writes a name percent-encoded (`name=OKADA%5EJUNICHI`): such a run holding
            // an identifier once decoded goes whole.
            let unescaped = self.net_identifiers().scrub_percent_encoded(&text, |b| {
                vec![String::from_utf8_lossy(b).into_owned(), cs.read(b, VR::UT).text().to_string()]
            });
            let scrubbed = self.net_identifiers().scrub(unescaped.as_deref().unwrap_or(&text)).or(unescaped);
            let dated = self.dates_in(scrubbed.as_deref().unwrap_or(&text), Which::These(&self.found().dates));
            if scrubbed.is_some() {
                self.note(format!("{}: a kept value held the patient's identifier or a site's value the profile removes, and was scrubbed", tag_str(e.tag)));
            }
            if dated.is_some() {
                self.note(format!(
                    "{}: a kept value held one of the file's dates; {}",
                    tag_str(e.tag),
                    if matches!(self.date_treatment(), DateTreatment::Shift(_)) { "shifted" } else { "replaced" }
                ));
            }
            let dated = dated.or(scrubbed);
            // An original UID written in the text (a reference to another image, a study UID
            // typed into a comment) is mapped as Clean maps it.
            let mapped = self.uids_in(e.tag, dated.as_deref().unwrap_or(&text));
            if mapped.is_some() {
                self.note(format!("{}: a kept value held an original UID; mapped", tag_str(e.tag)));
            }
            let clean = mapped.or(dated)?;
            return Some(match self.written_back(e, cs, &reading, &clean, vr) {
                Some(put) => (put, "clean"),
                None => (Decision::Put(Element::new(e.tag, e.vr, dummy_value(vr))), "dummy"),
            });
        }
        self.code_string_net(e, cs)
    }

    /// The net for a code string (CS) kept, or cleaned (a C on a code string keeps its defined
    /// terms): each value holding the patient's ID, other IDs, birth date or whole name (in
    /// either order, its words joined by `_` as code strings write them: `YAMADA_TARO`,
    /// `BORN_1985_03_15`), one of the file's own dates (`EXAM_2024_01_02`), or equal to a part
    /// of the patient's name of three characters or more (`SMITHX`, any case), is replaced by
    /// the VR's dummy and the other values kept (Image Type keeps `ORIGINAL\PRIMARY`). A
    /// name part only as the whole value: inside a longer code string it is as likely a
    /// defined term's word. `None` when no value holds one.
    fn code_string_net(&mut self, e: &Element, cs: &Charset) -> Option<(Decision, &'static str)> {
        let vr = VR::CS;
        let own_dates = !self.found().dates.is_empty() && self.date_treatment() != DateTreatment::Keep;
        let name_parts = self.patient_name_parts();
        // A code string's words are joined by `_` (its repertoire has no other separator than
        // the space): `YAMADA_TARO`, `BORN_1985_03_15`, `EXAM_2024_01_02`.
        let holds = |t: &str| {
            self.code_identifiers().found_in(&t.replace('_', " "))
                || (own_dates && self.holds_own_date(&t.replace('_', "-")))
        };
        let is_name_part = |t: &str| {
            let value = crate::scrub::normalize(t.trim().replace('_', " ").trim());
            name_parts.contains(&value)
        };
        let values = Self::values(e);
        let decoded: Vec<String> = values.iter().map(|v| cs.read(v, vr).text().to_string()).collect();
        let mut hit: Vec<bool> = decoded.iter().map(|t| holds(t) || is_name_part(t)).collect();
        // A name split over values (`ORIGINAL\PRIMARY\YAMADA\TARO`): runs of two to four
        // values are also read together, as the words of one text.
        for len in 2..=4.min(values.len()) {
            for start in 0..=values.len() - len {
                let run = start..start + len;
                if hit[run.clone()].contains(&true) {
                    continue;
                }
                let words: Vec<&str> = decoded[run.clone()].iter().map(|t| t.trim()).collect();
                if holds(&words.join(" ")) {
                    hit[run].fill(true);
                }
            }
        }
        if !hit.contains(&true) {
            return None;
        }
        let dummy = dummy_value(vr);
        let out: Vec<&[u8]> = values.iter().zip(&hit).map(|(v, &h)| if h { &dummy[..] } else { v }).collect();
        self.note(format!(
            "{}: a code string held the patient's identifier or one of the file's dates; {} of {} values replaced by a dummy",
            tag_str(e.tag),
            hit.iter().filter(|&&h| h).count(),
            values.len()
        ));
        Some((Decision::Put(Element::new(e.tag, e.vr, out.join(&b'\\'))), "dummy"))
    }

    /// The parts of the patient's name (every group of Patient's Name and the other
    /// [`PATIENT_NAMES`]) of three characters or more, as compared ([`crate::scrub::normalize`]).
    fn patient_name_parts(&self) -> Vec<Vec<char>> {
        let mut parts: Vec<Vec<char>> = Vec::new();
        for name in &self.found().values.patient_names {
            for part in name_groups(name).flatten() {
                let part = crate::scrub::normalize(part);
                if part.len() >= 3 && !parts.contains(&part) {
                    parts.push(part);
                }
            }
        }
        parts
    }

    /// The net for a text value an option keeps as it is (Retain Device Identity's Station
    /// Name and Device Serial Number, Retain Institution Identity's Institution Name, Address
    /// and Department...): the option keeps what the value says of the device or the
    /// institution, not the patient's identifiers an operator typed into it (the patient's name
    /// as Station Name, the patient's address as an institution's), nor the values of the site
    /// attributes the profile removes (the institution's name in a Station Name Retain Device
    /// Identity keeps). Those ([`FoundValues::for_patient`]) are scrubbed; a value in an encoding other than its
    /// set's, or one kamei cannot decode, holding one gets the VR's dummy. `None` when the
    /// value holds none, or is not text.
    fn patient_net(&mut self, e: &Element, cs: &Charset) -> Option<(Decision, &'static str)> {
        let vr = self.value_vr(e);
        if !is_scrubbable(vr) {
            return None;
        }
        let bytes = e.bytes().filter(|b| !b.is_empty())?;
        let ids = self.own_identifiers();
        if ids.is_empty() {
            return None;
        }
        let dummy = (Decision::Put(Element::new(e.tag, e.vr, dummy_value(vr))), "dummy");
        let reading = cs.read(bytes, vr);
        if held_in_another_encoding(&ids, bytes, reading.text()) {
            self.note(format!("{}: {FOREIGN_ENCODING}", tag_str(e.tag)));
            return Some(dummy);
        }
        let Some(text) = reading.decoded().map(str::to_string) else {
            ids.scrub(reading.text())?;
            self.note(format!(
                "{}: a value an option keeps {UNDECODABLE} held the patient's identifier; replaced by a dummy",
                tag_str(e.tag)
            ));
            return Some(dummy);
        };
        let clean = ids.scrub(&text)?;
        self.note(format!(
            "{}: a value an option keeps held the patient's own identifier or a site's value the profile removes, and was scrubbed",
            tag_str(e.tag)
        ));
        Some(match self.written_back(e, cs, &reading, &clean, vr) {
            Some(put) => (put, "clean"),
            None => dummy,
        })
    }

    /// Whether a kept private number (UL, SL, UV, SV, FL, FD) holds the patient's ID or birth
    /// date as a number ([`crate::kept_reading::PatientNumbers`], as `kamei verify` reads it),
    /// read in the file's byte order.
    fn holds_patient_number(&self, vr: VR, bytes: &[u8]) -> bool {
        if !matches!(vr, VR::UL | VR::SL | VR::UV | VR::SV | VR::FL | VR::FD) {
            return false;
        }
        let values = &self.found().values;
        let mut numbers = crate::kept_reading::PatientNumbers::default();
        for id in &values.patient_ids {
            numbers.add_patient_id(id);
        }
        for dob in &values.birth_dates {
            numbers.add_birth_date(dob);
        }
        numbers.find(vr, bytes, self.big_endian).is_some()
    }

    fn walk(&mut self, ds: &DataSet, path: &mut Vec<Step>, inherited: &Charset, mode: Mode) {
        let cs = charset_of(ds, inherited);
        let top = path.is_empty();
        let creators = private_creators(ds, &cs);
        let mut kept_blocks: HashSet<Tag> = HashSet::new();
        let mut removed_overlays: Vec<u16> = Vec::new();
        let mut removed: HashSet<Tag> = HashSet::new();
        for e in ds.elements() {
            if is_private_creator(e.tag) || (top && MARKERS.contains(&e.tag)) {
                continue;
            }
            let creator = private_creator_tag(e.tag).and_then(|t| creators.get(&t)).map(String::as_str);
            self.creator = creator.filter(|_| is_private(e.tag)).map(str::to_string);
            let rule = if is_private(e.tag) {
                self.ctx.rules.private_rule(e.tag, creator)
            } else {
                self.ctx.rules.rule(e.tag)
            };
            // A private value an Implicit VR file sent without its VR is planned as the VR the
            // safe private table gives it (scrubbed as text, mapped as a UID), as in Explicit VR.
            // One the table does not know is planned as a date when every value is one, so a
            // kept one follows the profile's dates.
            let retyped;
            let e = match creator.filter(|_| e.vr == VR::UN && is_private(e.tag) && e.bytes().is_some()) {
                Some(c) => match self
                    .ctx
                    .rules
                    .private_vr(e.tag, c)
                    .or_else(|| e.bytes().and_then(|b| date_shaped_vr(e.tag, e.vr, b)))
                {
                    Some(vr) if vr != VR::SQ => {
                        retyped = Element { tag: e.tag, vr, value: e.value.clone() };
                        &retyped
                    }
                    _ => e,
                },
                None => e,
            };
            // Free text the profile does not list is kept at the top level, but inside a sequence
            // replaced by a dummy (D) or cleaned (C) it is the narrative those actions are meant
            // to remove (an SR's Text Value): replaced by a dummy too (removing it would break
            // Type 1 content items), or scrubbed when cleaning.
            let unlisted_text = *rule.source.effective() == RuleSource::Unlisted && is_free_text(self.value_vr(e));
            let required = if rule.action == Action::Remove {
                required_despite_x(e.tag, path.last().map(|s| s.0), ds)
            } else {
                None
            };
            let action = match mode {
                _ if e.tag.group() == 0x0002 => {
                    // File meta elements inside the data set (a damaged meta group whose end was
                    // misread): they name the sending system, and the meta is rebuilt anyway.
                    self.note("file meta elements (0002,xxxx) inside the data set were removed".to_string());
                    Action::Remove
                }
                _ if e.tag.group() == 0x0000 => {
                    // Command elements (PS3.7) have no place in a stored data set: only a damaged
                    // tag puts a value there, and it can be anything (a name, a UID).
                    self.note("command elements (0000,xxxx) inside the data set were removed".to_string());
                    Action::Remove
                }
                _ if !top && crate::annotated::PIXEL_DATA_TAGS.contains(&e.tag) => {
                    // Pixel data inside a sequence item (a private or misused standard sequence)
                    // is an image that no cleaner looks at and may carry burned-in text.
                    self.note(format!("{}: pixel data inside a sequence item was removed", tag_str(e.tag)));
                    Action::Remove
                }
                _ if is_unread_sequence(e) => {
                    // A sequence sent as UN whose bytes are neither Implicit nor Explicit VR
                    // items: what it holds (names, IDs, UIDs) cannot be planned, so it goes.
                    self.note(format!("{}: a sequence sent as UN could not be read as items; removed", tag_str(e.tag)));
                    Action::Remove
                }
                Mode::Cleaning
                    if is_free_text(self.value_vr(e))
                        && (unlisted_text
                            || matches!(rule.action, Action::Remove | Action::Dummy | Action::Conditional(_))) =>
                {
                    Action::Clean
                }
                // In a sequence replaced by a dummy, every unlisted text value is part of what D
                // replaces: the Code Value and Code Meaning of an Institution or Person
                // Identification Code Sequence name the institution or the person. The code of a
                // concept from a public terminology (`410668003` in SNOMED CT, `mm` in UCUM) names
                // neither: it is kept (with the safety nets), so a report still says what it
                // measured and in which unit; its Code Meaning, which a device may type freely,
                // still gets the dummy.
                Mode::Dummy
                    if *rule.source.effective() == RuleSource::Unlisted
                        && is_scrubbable(self.value_vr(e))
                        && !is_public_code(e, ds) =>
                {
                    Action::Dummy
                }
                _ if (*rule.source.effective() == RuleSource::Unlisted
                    || (*rule.source.effective() == RuleSource::Private && matches!(rule.action, Action::Keep)))
                    && matches!(self.value_vr(e), VR::DA | VR::DT) =>
                {
                    // A date the table does not list (an attribute newer than it, such as Study
                    // Update DateTime) follows the profile's dates: kept real beside shifted
                    // dates it would reveal the patient's shift, and beside removed ones the
                    // real date.
                    let options = self.ctx.rules.options();
                    if options.contains(&DeidOption::RetainLongFullDates) {
                        Action::Keep
                    } else if options.contains(&DeidOption::RetainLongModifiedDates) {
                        Action::ShiftDate
                    } else {
                        self.note(format!(
                            "{}: a date the profile does not list was replaced by a dummy",
                            tag_str(e.tag)
                        ));
                        Action::Dummy
                    }
                }
                _ if required.is_some() => {
                    // A plain X on an attribute its IOD requires (see `required_despite_x`): an
                    // animal's Responsible Person, a presentation state's creation date, the
                    // Requested Procedure ID of an SR's Referenced Request Sequence.
                    required.clone().unwrap_or(Action::Remove)
                }
                _ if top && e.tag == tags::RESPONSIBLE_PERSON_ROLE && !self.keeps_responsible_person() => {
                    // Type 1C, required only while Responsible Person has a value: once the
                    // person goes, a role left behind is present against its condition.
                    self.note("(0010,2298): Responsible Person Role follows Responsible Person".to_string());
                    Action::Remove
                }
                _ if *rule.source.effective() == RuleSource::Unlisted && self.value_vr(e) == VR::PN => {
                    // A person's name is never kept by default: a PN under a tag the table does
                    // not list (a damaged tag, an attribute newer than the table) gets a dummy.
                    self.note(format!("{}: a Person Name the profile does not list was replaced", tag_str(e.tag)));
                    Action::Dummy
                }
                _ => rule.action.clone(),
            };
            let net = if is_default_keep(&rule.source, &action) {
                self.unlisted_uids(e).or_else(|| self.safety_net(e, &cs))
            } else if action == Action::Keep && matches!(rule.source.effective(), RuleSource::Option(_)) {
                // An option keeps the device's or the institution's identity (Station Name,
                // Institution Name and Address, Device Serial Number...), never the patient's:
                // the patient's own identifiers typed into such a value still go.
                self.patient_net(e, &cs)
            } else {
                None
            };
            let (decision, word) = match net {
                Some(d) => d,
                None => self.decide(&action, e, &cs),
            };
            let (decision, word) = self.undamaged(e, decision, word);
            if top && e.tag == tags::ENCAPSULATED_DOCUMENT && matches!(decision, Decision::Keep) && !e.value.is_empty()
            {
                self.note(KEPT_DOCUMENT_NOTE.to_string());
            }
            if matches!(decision, Decision::Keep) && self.value_vr(e) == VR::UI {
                self.refuse_unless_uids(e);
                self.note_uid_clues(e);
            }
            match decision {
                Decision::Keep => {
                    if is_private(e.tag) {
                        self.count(e.tag, "keep-private");
                    }
                }
                Decision::Unchanged => self.count(e.tag, word),
                Decision::Descend(m) => {
                    if word != "keep" {
                        self.count(e.tag, word);
                    }
                    if let Value::Sequence(seq) = &e.value {
                        for (i, item) in seq.items.iter().enumerate() {
                            path.push((e.tag, i));
                            self.walk(&item.dataset, path, &cs, mode.max(m));
                            path.pop();
                        }
                    }
                }
                Decision::Remove => {
                    self.count(e.tag, word);
                    removed.insert(e.tag);
                    if e.tag.group() & 0xFF01 == 0x6000 && e.tag.element() == 0x3000 {
                        removed_overlays.push(e.tag.group());
                    }
                    self.edits.push(Edit { path: path.clone(), tag: e.tag, op: Op::Remove });
                }
                Decision::Put(new) => {
                    self.count(e.tag, word);
                    self.edits.push(Edit { path: path.clone(), tag: e.tag, op: Op::Put(new) });
                }
            }
            if is_private(e.tag) && !removed.contains(&e.tag) {
                if let Some(c) = private_creator_tag(e.tag) {
                    kept_blocks.insert(c);
                }
            }
        }
        for e in ds.elements() {
            let overlay_gone = removed_overlays.contains(&e.tag.group()) && !removed.contains(&e.tag);
            let creator_unused = is_private_creator(e.tag) && !kept_blocks.contains(&e.tag);
            if overlay_gone || creator_unused {
                self.count(e.tag, "remove");
                self.edits.push(Edit { path: path.clone(), tag: e.tag, op: Op::Remove });
            }
        }
    }

    /// Whether the profile keeps Responsible Person (0010,2297) as it is.
    fn keeps_responsible_person(&self) -> bool {
        self.ctx.rules.rule(tags::RESPONSIBLE_PERSON).action == Action::Keep
    }

    /// Resolve an action against an element. Returns the decision and the action word for the
    /// audit.
    fn decide(&mut self, action: &Action, e: &Element, cs: &Charset) -> (Decision, &'static str) {
        let is_seq = matches!(e.value, Value::Sequence(_));
        let put = |bytes: Vec<u8>| Decision::Put(Element::new(e.tag, e.vr, bytes));
        match action {
            Action::Clean | Action::Pseudonymize | Action::ShiftDate | Action::Dummy
                if !is_seq && !e.value.is_empty() && self.value_vr(e) == VR::UN =>
            {
                self.decide_unknown_type(action, e, cs)
            }
            Action::Keep => (if is_seq { Decision::Descend(Mode::Plain) } else { Decision::Keep }, "keep"),
            Action::Remove => (Decision::Remove, "remove"),
            Action::Empty if is_seq => (Decision::Put(Element::sequence(e.tag, Vec::new())), "empty"),
            Action::Empty if e.value.is_empty() => (Decision::Unchanged, "empty"),
            Action::Empty => {
                (Decision::Put(Element { tag: e.tag, vr: e.vr, value: Value::Bytes(Vec::new()) }), "empty")
            }
            Action::Dummy if is_seq => (Decision::Descend(Mode::Dummy), "dummy"),
            Action::Dummy if e.value.is_empty() => (Decision::Unchanged, "dummy"),
            Action::Dummy if e.vr == VR::UI => (self.map_uids(e), "dummy"),
            Action::Dummy => (put(dummy_values(self.value_vr(e), Self::values(e).len())), "dummy"),
            Action::Conditional(c) => self.conditional(*c, e, cs),
            Action::Clean => self.clean(e, cs),
            Action::ReplaceUid => (self.map_uids(e), "uid"),
            Action::Pseudonymize => self.pseudonymize(e, cs),
            Action::ShiftDate => match self.value_vr(e) {
                VR::DA | VR::DT => (self.shift_dates(e), "shift-date"),
                VR::TM => (Decision::Keep, "keep"),
                _ => self.clean(e, cs),
            },
            Action::Replace(_) if is_seq => (Decision::Put(Element::sequence(e.tag, Vec::new())), "replace"),
            Action::Replace(_)
                if is_private(e.tag) && e.vr != VR::UN && !crate::profile::action_fits_vr(action, e.vr) =>
            {
                // `profile check` cannot know a private element's VR: a replacement that is no
                // valid value of it (`hello` in a DA, text in a US) would make the file invalid.
                self.note(format!(
                    "{}: the profile's replacement is not a valid {} value; removed",
                    tag_str(e.tag),
                    e.vr.to_string()
                ));
                (Decision::Remove, "remove")
            }
            Action::Replace(v) => (put(v.clone().into_bytes()), "replace"),
        }
    }

    /// An action that needs the value's type (clean, pseudonymize, shift-date, dummy) on a
    /// value of unknown type (UN: a private element of an Implicit VR file whose creator's
    /// dictionary kamei does not know, not retyped as a date by [`date_shaped_vr`]): applied as
    /// to the same value of the text VR it reads as ([`unknown_text_vr`]), so the Explicit VR
    /// twin of the file gets the same result; a value that is not text (a binary blob) is
    /// removed with an audit note, since no dummy, cleaning or pseudonym of its own kind exists
    /// (two NUL bytes would be no value at all).
    fn decide_unknown_type(&mut self, action: &Action, e: &Element, cs: &Charset) -> (Decision, &'static str) {
        match e.bytes().and_then(|b| unknown_text_vr(cs, b)) {
            Some(vr) => self.decide(action, &Element { tag: e.tag, vr, value: e.value.clone() }, cs),
            None => {
                let word = match action {
                    Action::Dummy => "dummy",
                    Action::Clean => "clean",
                    other => other.code(),
                };
                self.note(format!(
                    "{}: the profile's {word} cannot apply to a value of unknown type that is not text; removed",
                    tag_str(e.tag)
                ));
                (Decision::Remove, "remove")
            }
        }
    }

    /// The VR to interpret a value by: the dictionary's when the file says UN.
    fn value_vr(&self, e: &Element) -> VR {
        if e.vr == VR::UN { crate::dict::known_vr(e.tag).unwrap_or(VR::UN) } else { e.vr }
    }

    fn conditional(&mut self, c: Conditional, e: &Element, cs: &Charset) -> (Decision, &'static str) {
        if e.value.is_empty() {
            return (Decision::Unchanged, "empty");
        }
        match c {
            Conditional::XZU => (Decision::Descend(Mode::Plain), "uid"),
            // A Type 3 sequence that holds "one or more Items" may not be present and empty.
            Conditional::XZ if TYPE_3_SEQUENCES.contains(&e.tag) => (Decision::Remove, "remove"),
            // Any other X/Z is at most Type 2 wherever it is used: empty is valid, and a dummy
            // could break an enumerated value (Patient's Sex Neutered is ALTERED or UNALTERED).
            Conditional::XZ => self.decide(&Action::Empty, e, cs),
            Conditional::ZD | Conditional::XD | Conditional::XZD => self.decide(&Action::Dummy, e, cs),
        }
    }

    fn clean(&mut self, e: &Element, cs: &Charset) -> (Decision, &'static str) {
        if matches!(e.value, Value::Sequence(_)) {
            return (Decision::Descend(Mode::Cleaning), "clean");
        }
        if e.value.is_empty() {
            return (Decision::Unchanged, "clean");
        }
        let vr = self.value_vr(e);
        match vr {
            VR::DA | VR::DT => (self.shift_dates(e), "shift-date"),
            // A code string holds defined terms, kept; one the patient's identifiers or a date
            // of the file were typed into goes (see `code_string_net`).
            VR::CS => self.code_string_net(e, cs).unwrap_or((Decision::Keep, "keep")),
            VR::TM
            | VR::AS
            | VR::DS
            | VR::IS
            | VR::US
            | VR::SS
            | VR::UL
            | VR::SL
            | VR::FL
            | VR::FD
            | VR::SV
            | VR::UV
            | VR::AT => (Decision::Keep, "keep"),
            VR::UI => (self.map_uids(e), "uid"),
            VR::AE => (self.tokens(e, "ae", 16), "clean"),
            VR::PN => (Decision::Put(Element::new(e.tag, e.vr, dummy_value(VR::PN))), "dummy"),
            v if is_scrubbable(v) => (self.scrub(e, cs, v), "clean"),
            _ => {
                self.note(format!("{}: binary value cannot be cleaned; removed", tag_str(e.tag)));
                (Decision::Remove, "remove")
            }
        }
    }

    fn scrub(&mut self, e: &Element, cs: &Charset, vr: VR) -> Decision {
        let Some(bytes) = e.bytes() else { return Decision::Remove };
        let reading = cs.read(bytes, vr);
        let Some(text) = reading.decoded() else {
            // Bytes valid neither in a supported set nor as CP932 are compared byte for byte
            // (their text marks each invalid byte): kept whole when nothing in them is to clean.
            // Such text cannot be written back, nor text after an escape sequence the set does
            // not follow or in a set kamei does not support, which is never read as words.
            let opaque = match cs {
                Charset::Known(known) => known.decode(bytes, vr).unfollowed_escape,
                Charset::Unsupported => true,
            };
            if !opaque && self.cleaned(e.tag, reading.text()).is_none() {
                return Decision::Keep;
            }
            self.note(format!("{}: text {UNDECODABLE} replaced by a dummy", tag_str(e.tag)));
            return Decision::Put(Element::new(e.tag, e.vr, dummy_value(vr)));
        };
        match self.cleaned(e.tag, text) {
            None if held_in_another_encoding(self.identifiers(), bytes, text) => {
                self.note(format!("{}: {FOREIGN_ENCODING}", tag_str(e.tag)));
                Decision::Put(Element::new(e.tag, e.vr, dummy_value(vr)))
            }
            None => Decision::Keep,
            Some(clean) => self.written_back(e, cs, &reading, &clean, vr).unwrap_or_else(|| {
                self.note(format!(
                    "{}: cleaned text has no code in the value's encoding; replaced by a dummy",
                    tag_str(e.tag)
                ));
                Decision::Put(Element::new(e.tag, e.vr, dummy_value(vr)))
            }),
        }
    }

    /// Text without the patient's identifiers, contacts, dates and original UIDs, as Clean
    /// leaves it; `None` when there is nothing to change.
    fn cleaned(&self, tag: Tag, text: &str) -> Option<String> {
        // Anyone's e-mail address or phone number (a physician's direct line) identifies too;
        // first, so an address holding a name part goes whole (`ito@example.com`), and before the
        // dates, which would read part of `+81-3-1234-5678` as a date-shaped slip.
        let contacts = crate::clinical::freetext::contacts(text).map(|c| c.text);
        let scrubbed = self.identifiers().scrub(contacts.as_deref().unwrap_or(text)).or(contacts);
        let dated =
            self.dates_in(scrubbed.as_deref().unwrap_or(text), Which::AllAndOwn(&self.found().dates)).or(scrubbed);
        self.uids_in(tag, dated.as_deref().unwrap_or(text)).or(dated)
    }

    /// The element holding cleaned text of a value read as `reading`, in the value's own
    /// encoding ([`Charset::write_back`]; noted when that is CP932), without the trailing spaces
    /// of the text (the pad of the original value: the writer pads again, so it is not doubled).
    /// `None` when it cannot be written back.
    fn written_back(&mut self, e: &Element, cs: &Charset, reading: &Reading, clean: &str, vr: VR) -> Option<Decision> {
        let clean = clean.trim_end_matches(' ');
        if overflows(clean, reading.text(), vr) {
            self.note(format!(
                "{}: the cleaned value would be longer than its VR allows (a mapped UID or a shifted date is longer than the original); replaced by a dummy",
                tag_str(e.tag)
            ));
            return Some(Decision::Put(Element::new(e.tag, e.vr, dummy_value(vr))));
        }
        let mut bytes = cs.write_back(reading, clean, vr)?;
        if bytes.len() % 2 == 1 && e.vr != vr {
            // Sent as UN (read as its table's text VR): the writer would pad it with a NUL.
            bytes.push(b' ');
        }
        if reading.is_shift_jis() {
            self.note(format!("{}: {SHIFT_JIS_TEXT}; the cleaned text was written back in CP932", tag_str(e.tag)));
        } else if matches!(reading, Reading::Utf8(_)) {
            self.note(format!("{}: {UTF8_TEXT}; the cleaned text was written back in UTF-8", tag_str(e.tag)));
        } else if matches!(reading, Reading::EucJp(..)) {
            self.note(format!("{}: {EUC_JP_TEXT}; the cleaned text was written back in EUC-JP", tag_str(e.tag)));
        }
        Some(Decision::Put(Element::new(e.tag, e.vr, bytes)))
    }

    /// How dates written in text are treated: as the profile treats the header's dates.
    fn date_treatment(&self) -> DateTreatment {
        let options = self.ctx.rules.options();
        if options.contains(&DeidOption::RetainLongFullDates) {
            DateTreatment::Keep
        } else if options.contains(&DeidOption::RetainLongModifiedDates) {
            DateTreatment::Shift(self.patient.date_shift_days)
        } else {
            DateTreatment::Replace
        }
    }

    /// `text` with every UID written in it ([`crate::dict::is_instance_uid_text`]: four
    /// components or more or `2.25.<uuid>`, 16 characters or more; or the file's own) mapped as a UI value is, unless Retain UIDs keeps UIDs: an original Study or
    /// SOP Instance UID in a description would link the release back to the source. `None`
    /// when none was found, and for the parts of a code (`tag` in [`CODE_PARTS`]), which hold
    /// codes, not UIDs.
    fn uids_in(&self, tag: Tag, text: &str) -> Option<String> {
        if self.ctx.rules.options().contains(&DeidOption::RetainUids)
            || CODE_PARTS.contains(&tag)
            || !text.contains(['.', '．'])
        {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        // Full-width ones too (`１．２．３９２…`), whole (`dict::uid_runs_in`).
        for run in crate::dict::uid_runs_in(text) {
            let uid = run.uid.as_str();
            // An instance UID is mapped whatever stands beside it (`MPR_from_<UID>`: see
            // `dict::instance_uids_in`); a short one (`1.2.3.4`) is a version number, unless it
            // is the file's own UID standing alone.
            let instance = crate::dict::is_instance_uid_text(uid) || (self.is_own_uid(uid) && run.alone);
            if !instance {
                continue;
            }
            out.push_str(&text[at..run.range.start]);
            out.push_str(&self.ctx.pseudo.uid(uid));
            at = run.range.end;
        }
        (at > 0).then(|| {
            out.push_str(&text[at..]);
            out
        })
    }

    /// A kept value of unknown type (a private UN) that reads as plain text in the file's
    /// character set ([`Reading::is_text`]) and holds one of the file's dates: the dates shifted
    /// or replaced as in kept text of a known VR, every other byte as it was, noted in the
    /// audit. `None` when it does not read as text (a binary layout that happens to hold a
    /// date's digits) or cannot be written back: the caller removes it.
    fn dated_unknown_text(&mut self, e: &Element, cs: &Charset, reading: &Reading) -> Option<(Decision, &'static str)> {
        if !reading.is_text() {
            return None;
        }
        let dated = self.dates_in(reading.decoded()?, Which::These(&self.found().dates))?;
        let bytes = cs.write_back(reading, &dated, VR::UT)?;
        let (what, word) = match self.date_treatment() {
            DateTreatment::Shift(_) => ("shifted", "shift-date"),
            _ => ("replaced", "clean"),
        };
        self.note(format!(
            "{}: a kept value of unknown type read as text held one of the file's dates; {what}",
            tag_str(e.tag)
        ));
        Some((Decision::Put(Element::new(e.tag, e.vr, bytes)), word))
    }

    /// A kept value of unknown type (a private UN) that reads as plain text and holds no
    /// identifier of the patient, planned as the same value of a known VR would be (rv23 02
    /// and 04: an Implicit VR file released what its Explicit VR twin did not): one shaped as
    /// a person's name (`SATO^HANAKO`: a relative, an operator) gets the dummy an unlisted
    /// private PN gets, and an original UID written in it is mapped as in kept text. `None`
    /// when neither applies (kept as it is).
    fn unknown_text_name_or_uid(
        &mut self,
        e: &Element,
        cs: &Charset,
        reading: &Reading,
    ) -> Option<(Decision, &'static str)> {
        if !reading.is_text() {
            return None;
        }
        let text = reading.decoded()?;
        if looks_like_name(text) {
            self.note(format!(
                "{}: a kept value of unknown type read as a person's name; replaced by a dummy",
                tag_str(e.tag)
            ));
            return Some((Decision::Put(Element::new(e.tag, e.vr, dummy_value(VR::PN))), "dummy"));
        }
        let mapped = self.uids_in(e.tag, text)?;
        let Some(bytes) = cs.write_back(reading, &mapped, VR::UT) else {
            self.note(format!("{}: a kept value of unknown type held an original UID; removed", tag_str(e.tag)));
            return Some((Decision::Remove, "remove"));
        };
        self.note(format!("{}: a kept value of unknown type held an original UID; mapped", tag_str(e.tag)));
        Some((Decision::Put(Element::new(e.tag, e.vr, bytes)), "uid"))
    }

    /// Whether `text` holds one of the file's own dates in a spelling [`crate::text_dates`]
    /// reads.
    fn holds_own_date(&self, text: &str) -> bool {
        !text_dates::spans(text, DateTreatment::Replace, Which::These(&self.found().dates)).is_empty()
    }

    /// `text` with the dates `which` selects shifted or replaced ([`crate::text_dates`]);
    /// `None` when none was found.
    fn dates_in(&self, text: &str, which: Which) -> Option<String> {
        text_dates::treat(text, self.date_treatment(), which).map(|t| t.text)
    }

    fn values(e: &Element) -> Vec<&[u8]> {
        match e.bytes() {
            Some(b) => b.split(|&c| c == b'\\').collect(),
            None => Vec::new(),
        }
    }

    fn map_uids(&mut self, e: &Element) -> Decision {
        let mapped: Vec<String> = Self::values(e)
            .into_iter()
            .map(|v| {
                let s = String::from_utf8_lossy(trim_value(v)).into_owned();
                if s.is_empty() { s } else { new_uid(self.ctx.pseudo, &s) }
            })
            .collect();
        Decision::Put(Element::new(e.tag, e.vr, mapped.join("\\").into_bytes()))
    }

    /// What names an attribute in a keyed output (the domain of a `pseudonymize` token): a
    /// public one by its tag, `(0008,0050)`; a private one by its group, creator and offset,
    /// `(0009,"GEMS_IDEN_01",06)`, as a profile addresses it, never by the block its creator
    /// took in this data set (PS3.5 7.8.1: blocks are given out per data set, so one attribute
    /// sits at (0009,1006) in one file and (0009,1106) in the next). A private element without
    /// a creator is named by its tag.
    fn attribute_identity(&self, tag: Tag) -> String {
        match self.creator.as_deref().filter(|_| is_private(tag)) {
            Some(creator) => format!("({:04X},\"{creator}\",{:02X})", tag.group(), tag.element() & 0xFF),
            None => tag_str(tag),
        }
    }

    fn tokens(&mut self, e: &Element, domain: &str, len: usize) -> Decision {
        let out: Vec<String> = Self::values(e)
            .into_iter()
            .map(|v| {
                let v = trim_value(v);
                if v.is_empty() { String::new() } else { self.ctx.pseudo.token(domain, v, len) }
            })
            .collect();
        Decision::Put(Element::new(e.tag, e.vr, out.join("\\").into_bytes()))
    }

    fn shift_dates(&mut self, e: &Element) -> Decision {
        let days = self.patient.date_shift_days;
        let vr = self.value_vr(e);
        let mut out = Vec::new();
        for v in Self::values(e) {
            let s = String::from_utf8_lossy(trim_value(v)).into_owned();
            if s.is_empty() {
                out.push(s);
                continue;
            }
            let shifted = if vr == VR::DT { dates::shift_dt(&s, days) } else { dates::shift_da(&s, days) };
            match shifted {
                Some(x) => out.push(x),
                None => return self.unshiftable(e, vr),
            }
        }
        Decision::Put(Element::new(e.tag, e.vr, out.join("\\").into_bytes()))
    }

    /// What replaces a date that cannot be shifted (not a date, a day that does not exist,
    /// `00000000`): never the value itself. The dummy date where the attribute may be Type 1
    /// ([`may_be_type_1`]), as the profile gives it without a temporal option; otherwise
    /// empty, as the table empties or removes it.
    fn unshiftable(&mut self, e: &Element, vr: VR) -> Decision {
        let (bytes, what) = if may_be_type_1(self.ctx.rules, e.tag) {
            (dummy_values(vr, Self::values(e).len()), "replaced by a dummy")
        } else {
            (Vec::new(), "emptied")
        };
        self.note(format!("{}: a value that is not a valid date was {what}", tag_str(e.tag)));
        Decision::Put(Element::new(e.tag, e.vr, bytes))
    }

    fn pseudonymize(&mut self, e: &Element, cs: &Charset) -> (Decision, &'static str) {
        if e.tag == tags::PATIENT_ID || e.tag == tags::PATIENT_NAME {
            let p = self.patient.pseudonym.clone().into_bytes();
            return (Decision::Put(Element::new(e.tag, e.vr, p)), "pseudonymize");
        }
        if matches!(e.value, Value::Sequence(_)) {
            return (Decision::Descend(Mode::Cleaning), "clean");
        }
        match self.value_vr(e) {
            VR::UI => (self.map_uids(e), "uid"),
            VR::DA | VR::DT => (self.shift_dates(e), "shift-date"),
            vr if vr == VR::PN || is_scrubbable(vr) || matches!(vr, VR::AE | VR::CS) => {
                let _ = cs;
                let domain = self.attribute_identity(e.tag);
                (self.tokens(e, &domain, max_len(vr)), "pseudonymize")
            }
            _ => (Decision::Remove, "remove"),
        }
    }

    /// The de-identification markers (PS3.15 E.1.1 and PS3.3 C.7.1.1): Patient Identity
    /// Removed, De-identification Method and its code sequence, Longitudinal Temporal
    /// Information Modified.
    ///
    /// An input that an earlier release already de-identified keeps that information (PS3.15
    /// E.1.1, PS3.3 C.12.1.1.1: De-identification Method is multi-valued for an object
    /// anonymized more than once): its method values (cleaned as Clean cleans text) come first,
    /// its CID 7050 codes stay beside kamei's (unless the profile departs, when no code is
    /// claimed), and Longitudinal Temporal Information Modified never goes back from
    /// `MODIFIED` or `REMOVED` to a weaker value ([`temporal_marker`]).
    fn markers(&mut self) {
        let options = self.ctx.rules.options();
        let mut codes = claimed_codes(self.ctx.rules);
        if !codes.is_empty() {
            codes.extend(earlier_codes(self.top));
            codes.sort_unstable();
            codes.dedup();
        }
        let items: Vec<DataSet> = codes
            .into_iter()
            .map(|(value, meaning)| {
                DataSet::from_elements([
                    Element::new(tags::CODE_VALUE, VR::SH, value.as_bytes().to_vec()),
                    Element::new(tags::CODING_SCHEME_DESIGNATOR, VR::SH, b"DCM".to_vec()),
                    Element::new(tags::CODE_MEANING, VR::LO, meaning.as_bytes().to_vec()),
                ])
            })
            .collect();
        let shifted = self.tally.keys().any(|(_, action)| *action == "shift-date");
        let own = if options.contains(&DeidOption::RetainLongModifiedDates) || shifted {
            "MODIFIED"
        } else if options.contains(&DeidOption::RetainLongFullDates) {
            "UNMODIFIED"
        } else {
            "REMOVED"
        };
        let temporal =
            temporal_marker(self.top.ascii(tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED), own).as_bytes();
        let mut method = self.earlier_method();
        method.push_str(&format!("kamei {}\\{}", env!("CARGO_PKG_VERSION"), self.ctx.profile_label));
        let codes = if items.is_empty() {
            // A departing profile claims no code; any code the input carried goes.
            Edit { path: Vec::new(), tag: tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE, op: Op::Remove }
        } else {
            let element = Element::sequence(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE, items);
            Edit { path: Vec::new(), tag: element.tag, op: Op::Put(element) }
        };
        for element in [
            Element::new(tags::PATIENT_IDENTITY_REMOVED, VR::CS, b"YES".to_vec()),
            Element::new(tags::DEIDENTIFICATION_METHOD, VR::LO, method.into_bytes()),
            Element::new(tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED, VR::CS, temporal.to_vec()),
        ] {
            self.edits.push(Edit { path: Vec::new(), tag: element.tag, op: Op::Put(element) });
        }
        self.edits.push(codes);
    }

    /// The input's own De-identification Method values (an earlier release's), cleaned as
    /// Clean cleans text so that no identifier kamei knows goes out in them, each followed by
    /// the value delimiter; empty when the input has none or its value cannot be kept.
    fn earlier_method(&mut self) -> String {
        let Some(e) = self.top.get(tags::DEIDENTIFICATION_METHOD).filter(|e| !e.value.is_empty()) else {
            return String::new();
        };
        let e = Element { tag: e.tag, vr: VR::LO, value: e.value.clone() };
        let bytes = match self.clean(&e, &self.top_cs.clone()).0 {
            Decision::Keep | Decision::Unchanged => e.bytes().map(<[u8]>::to_vec),
            Decision::Put(put) => put.bytes().map(<[u8]>::to_vec),
            Decision::Remove | Decision::Descend(_) => None,
        };
        let Some(bytes) = bytes else { return String::new() };
        // The method values are rewritten as one text: bytes outside ASCII (the earlier tool's
        // text in a national set) could not be joined safely, so such a value is left out.
        let Ok(text) = String::from_utf8(bytes) else { return String::new() };
        let values: Vec<&str> = text
            .split('\\')
            .map(|v| v.trim_matches([' ', '\0']))
            .filter(|v| !v.is_empty() && v.is_ascii() && !v.bytes().any(|b| b < 0x20))
            .collect();
        values.iter().map(|v| format!("{v}\\")).collect()
    }
}

/// Longitudinal Temporal Information Modified (0028,0303) for an output whose own run gives
/// `own` (`MODIFIED`, `UNMODIFIED` or `REMOVED`) to an input that says `input`: dates an
/// earlier release modified or removed are not real dates because kamei kept them, so the
/// stronger of the two holds (REMOVED over MODIFIED over UNMODIFIED). An input value that is
/// not one of the three defined terms says nothing.
fn temporal_marker(input: Option<&str>, own: &'static str) -> &'static str {
    const ORDER: [&str; 3] = ["UNMODIFIED", "MODIFIED", "REMOVED"];
    let rank = |v: &str| ORDER.iter().position(|t| *t == v);
    match input.and_then(rank) {
        Some(r) if r > rank(own).unwrap_or(0) => ORDER[r],
        _ => own,
    }
}

/// The CID 7050 codes (scheme `DCM`) of an input's De-identification Method Code Sequence: what
/// an earlier de-identification claimed, read back from the embedded table so that only the
/// standard's codes and meanings are written again, never the earlier tool's free text.
fn earlier_codes(ds: &DataSet) -> Vec<(&'static str, &'static str)> {
    let Some(seq) = ds.get(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE).and_then(|e| e.value.sequence()) else {
        return Vec::new();
    };
    seq.items
        .iter()
        .filter(|i| i.dataset.ascii(tags::CODING_SCHEME_DESIGNATOR) == Some("DCM"))
        .filter_map(|i| i.dataset.ascii(tags::CODE_VALUE).and_then(crate::profile::cid_7050_code))
        .collect()
}

/// The CID 7050 codes an output claims in De-identification Method Code Sequence before any
/// pixel cleaning (which adds 113101 itself): 113100 and the code of each option in effect,
/// sorted; none at all when the profile departs from Table E.1-1 ([`RuleSet::departures`]),
/// since every code claims conformance to the basic profile or an option of it. Clean Pixel
/// Data is claimed only where pixels were cleaned; Clean Recognizable Visual Features never
/// (kamei does nothing for it). `verify` expects the same list.
pub(crate) fn claimed_codes(rules: &RuleSet) -> Vec<(&'static str, &'static str)> {
    if !rules.departures().is_empty() {
        return Vec::new();
    }
    let mut codes = vec![method_code(None)];
    for o in rules.options().iter().copied() {
        if !matches!(o, DeidOption::CleanPixelData | DeidOption::CleanRecognizableVisualFeatures) {
            codes.push(method_code(Some(o)));
        }
    }
    codes.sort_unstable();
    codes
}

/// What replaces a plain X (Table E.1-1's basic action, which the table does not mark
/// IOD-dependent) on an attribute the IOD requires where it stands, so the output stays a
/// valid instance: `Some(Z)` for a Type 2 one, `Some(D)` for a Type 1 one, `None` where X is
/// valid. `parent` is the sequence the item holding the element belongs to (`None` at the top
/// level, where `ds` is the data set). The cases:
///
/// - Responsible Person and Responsible Organization of an animal patient: Type 2C in the
///   Patient Module ([`is_animal_responsible`]): Z.
/// - Presentation Creation Date and Time at the top level: Type 1 in every module that holds
///   them there (Presentation State Identification in every presentation state IOD, Volumetric
///   Presentation State Identification, Structured Display): D.
/// - Requested Procedure ID in a Referenced Request Sequence item: Type 2 in the SR Document
///   General and Key Object Document modules, like the item's Accession Number (Z): Z.
///
/// `kamei verify` accepts these values (empty, or the dummy).
pub(crate) fn required_despite_x(tag: Tag, parent: Option<Tag>, ds: &DataSet) -> Option<Action> {
    match parent {
        None if is_animal_responsible(tag, ds) => Some(Action::Empty),
        None if PRESENTATION_CREATION.contains(&tag) => Some(Action::Dummy),
        Some(tags::REFERENCED_REQUEST_SEQUENCE) if tag == tags::REQUESTED_PROCEDURE_ID => Some(Action::Empty),
        _ => None,
    }
}

/// Presentation Creation Date and Time: Type 1 wherever they are used (see
/// [`required_despite_x`]), though Table E.1-1 gives them a plain X.
const PRESENTATION_CREATION: [Tag; 2] = [tags::PRESENTATION_CREATION_DATE, tags::PRESENTATION_CREATION_TIME];

/// Whether `tag` is Responsible Person or Responsible Organization of an animal patient (the
/// top-level data set `ds` has Patient Species Description or Patient Species Code Sequence):
/// the Patient Module makes them Type 2C then.
pub(crate) fn is_animal_responsible(tag: Tag, ds: &DataSet) -> bool {
    matches!(tag, tags::RESPONSIBLE_PERSON | tags::RESPONSIBLE_ORGANIZATION)
        && [tags::PATIENT_SPECIES_DESCRIPTION, tags::PATIENT_SPECIES_CODE_SEQUENCE]
            .iter()
            .any(|t| ds.get(*t).is_some_and(|e| !e.value.is_empty()))
}

/// The site attributes whose values the safety nets look for in kept values when the profile
/// does not keep them: the institution's name and address (Retain Institution Identity keeps
/// them), its department, the requesting service, the station name and the device serial
/// number (Retain Device Identity keeps the last two). The basic profile removes each; left in
/// a description, a coding scheme's name or a kept private value, the value says which site
/// made the image as much as the attribute did, and `kamei verify --against` reports it. The
/// Issuer of Patient ID (`HOSPA`, `東大病院`) and the other issuers of the patient's
/// identifiers ([`crate::dict::ISSUER_IDS`]) are looked for as well, unless the institution's
/// name is kept (`Planner::found`).
const NET_SITES: [Tag; 6] =
    [tags::INSTITUTION_NAME, tags::INSTITUTION_ADDRESS, SITE_IDS[0], SITE_IDS[1], SITE_IDS[2], SITE_IDS[3]];

/// Kept values whose words explain an Institution Name of one word found in them: the
/// manufacturer and model (a vendor's test data naming the vendor as the institution,
/// `TOSHIBA` of Manufacturer `TOSHIBA_MEC`); `kamei verify` does not report such a name either.
const EXPLAINING: [Tag; 2] = [tags::MANUFACTURER, tags::MANUFACTURER_MODEL_NAME];

/// The words of a text as compared (case folded, [`crate::scrub::normalize`]), split at every
/// character that is not a letter or digit.
fn compared_words(text: &str) -> Vec<String> {
    let folded: String = crate::scrub::normalize(text).into_iter().collect();
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

/// Private Creator values of a data set, by the creator element's tag.
fn private_creators(ds: &DataSet, cs: &Charset) -> HashMap<Tag, String> {
    ds.elements()
        .iter()
        .filter(|e| is_private_creator(e.tag))
        .filter_map(|e| {
            let text = cs.read(e.bytes()?, VR::LO).decoded()?.to_string();
            Some((e.tag, text.trim_matches(|c: char| c == ' ' || c == '\0').to_string()))
        })
        .collect()
}

/// Identifying values found in a file, at every depth of every sequence and whatever VR they
/// were sent with (a Patient's Name sent as UN or LO, a Requesting Physician inside Request
/// Attributes Sequence, an observer's name in an SR content item). Decoded text: never log it.
#[derive(Default)]
struct Found {
    /// The values the identifier sets are built from.
    values: FoundValues,
    /// Every other date of the file (each DA value, the date of each DT value): written in
    /// kept text, a real one would reveal the patient's shift, or the removed date.
    dates: Vec<NaiveDate>,
    /// The same dates as a set, so that adding one stays cheap however many a file holds.
    dates_seen: HashSet<NaiveDate>,
    /// Tags of identifying values (other than the Patient ID, noted on its own) read in a set
    /// other than the declared one, and that set ([`Reading::undeclared_set`]), for the audit.
    read_in_other_set: Vec<(Tag, &'static str)>,
    /// The [`NET_SITES`] attributes whose values the safety nets look for: those the profile
    /// does not keep (Retain Institution Identity keeps the institution's name, address and
    /// department; Retain Device Identity keeps Station Name and Device Serial Number).
    net_sites: Vec<Tag>,
    /// The words of the file's code strings and [`EXPLAINING`] values, compared
    /// ([`compared_words`]): an Institution Name that is one of them is not looked for.
    explaining_words: HashSet<String>,
    /// Institution Name values the profile does not keep, until [`Found::collect`] has seen
    /// every explaining word.
    institution_names: Vec<String>,
}

/// The identifying values of a file that its [`Identifiers`] are built from, and nothing else:
/// two files with equal `FoundValues` get equal identifier sets, which is what lets
/// [`IdentifierCache`] build them once per patient rather than once per file.
#[derive(Default, Clone, PartialEq, Eq, Hash)]
struct FoundValues {
    /// Values of [`PATIENT_NAMES`].
    patient_names: Vec<String>,
    /// Every other Person Name: an element whose VR, or whose dictionary VR, is PN.
    other_names: Vec<String>,
    /// Values of [`PATIENT_IDS`], one per value.
    patient_ids: Vec<String>,
    /// Values of [`OTHER_IDS`], one per value.
    other_ids: Vec<String>,
    /// Values of [`INSTITUTION_IDS`] and [`SITE_IDS`], one per value.
    institution_ids: Vec<String>,
    /// Values of the [`NET_SITES`] attributes the profile does not keep (institution name and
    /// address, department, requesting service, station name, device serial number), one per
    /// value: what the safety nets look for besides the patient's values
    /// ([`Found::net_sites`]); not an Institution Name of one word that the file's manufacturer,
    /// model or a code string also uses.
    net_site_ids: Vec<String>,
    /// The municipality of Patient's Address ([`crate::addresses::municipalities`]).
    address_parts: Vec<String>,
    /// Patient's Address values, whose town with its house number Clean removes
    /// ([`Identifiers::add_street_address`]).
    addresses: Vec<String>,
    /// Patient's Birth Date values.
    birth_dates: Vec<String>,
}

impl Found {
    fn collect(ds: &DataSet, cs: &Charset, net_sites: Vec<Tag>) -> Found {
        let mut found = Found { net_sites, ..Found::default() };
        found.add_dataset(ds, cs);
        let names = std::mem::take(&mut found.institution_names);
        let explained = |v: &String| matches!(&compared_words(v)[..], [word] if found.explaining_words.contains(word));
        let kept: Vec<String> = names.into_iter().filter(|v| !explained(v)).collect();
        found.values.net_site_ids.extend(kept);
        found
    }

    fn add_dataset(&mut self, ds: &DataSet, inherited: &Charset) {
        let cs = charset_of(ds, inherited);
        for e in ds.elements() {
            match &e.value {
                Value::Sequence(seq) => {
                    for item in &seq.items {
                        self.add_dataset(&item.dataset, &cs);
                    }
                }
                Value::Bytes(b) if !b.is_empty() => {
                    let vr = if e.vr == VR::UN { crate::dict::known_vr(e.tag).unwrap_or(VR::UN) } else { e.vr };
                    if vr == VR::CS || EXPLAINING.contains(&e.tag) {
                        self.explaining_words.extend(compared_words(cs.read(b, VR::LO).text()));
                    }
                    self.add_element(e.tag, e.vr, b, &cs);
                }
                _ => {}
            }
        }
    }

    /// Add one element's value if its tag (or, for names, its VR) makes it identifying.
    fn add_element(&mut self, tag: Tag, vr: VR, bytes: &[u8], cs: &Charset) {
        let is_name = vr == VR::PN || crate::dict::known_vr(tag) == Some(VR::PN);
        if tag == tags::PATIENT_BIRTH_DATE {
            self.values.birth_dates.push(String::from_utf8_lossy(trim_value(bytes)).into_owned());
            return;
        }
        let known = crate::dict::known_vr(tag);
        let date_shaped = || date_shaped_vr(tag, vr, bytes).is_some();
        if matches!(vr, VR::DA | VR::DT) || matches!(known, Some(VR::DA | VR::DT)) || date_shaped() {
            for v in bytes.split(|&b| b == b'\\') {
                let v = String::from_utf8_lossy(trim_value(v));
                let digits = v.get(..8).filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
                let date = digits.and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok());
                if let Some(date) = date.filter(|d| self.dates_seen.insert(*d)) {
                    self.dates.push(date);
                }
            }
            return;
        }
        let list = if PATIENT_NAMES.contains(&tag) {
            &mut self.values.patient_names
        } else if is_name {
            &mut self.values.other_names
        } else if PATIENT_IDS.contains(&tag) {
            &mut self.values.patient_ids
        } else if OTHER_IDS.contains(&tag) {
            &mut self.values.other_ids
        } else if INSTITUTION_IDS.contains(&tag) || SITE_IDS.contains(&tag) {
            &mut self.values.institution_ids
        } else {
            return;
        };
        let vr = if is_name { VR::PN } else { VR::LO };
        if let Some(set) = cs.read(bytes, vr).undeclared_set().filter(|_| tag != tags::PATIENT_ID) {
            if !self.read_in_other_set.iter().any(|(t, _)| *t == tag) {
                self.read_in_other_set.push((tag, set));
            }
        }
        let mut readings = cs.identifier_readings(bytes, vr);
        if PATIENT_IDS.contains(&tag) {
            // The reading the pseudonym is made from (an ID in EUC-JP or ISO-2022-JP too), so
            // that Clean finds `1234567` of an ID sent as EUC-JP `１２３４５６７`.
            if let Some((id, _)) = undeclared_id_reading(cs, trim_value(bytes)).filter(|(t, _)| !readings.contains(t)) {
                readings.push(id);
            }
        }
        for text in readings {
            if tag == tags::PATIENT_ADDRESS {
                // The postal code is written alone too (`〒422-8033`, `ZIP 12345`).
                list.extend(crate::addresses::postal_codes(&text));
                self.values.address_parts.extend(crate::addresses::municipalities(&text));
                self.values.addresses.push(text.clone());
            }
            if is_name {
                list.push(text);
            } else {
                list.extend(text.split('\\').map(str::to_string));
                if self.net_sites.contains(&tag) {
                    let values = text.split('\\').map(str::to_string);
                    if tag == tags::INSTITUTION_NAME {
                        self.institution_names.extend(values);
                    } else {
                        self.values.net_site_ids.extend(values);
                    }
                }
            }
        }
    }
}

impl FoundValues {
    /// Add a patient master's values of the file's patient (`deid --identifiers-from`, each
    /// with the role of the column or HL7 field that gave it): a name only the master knows (a
    /// spouse's, or the kana or romaji a kanji Patient's Name lacks) is cleaned from a Study
    /// Description or an SR text as the file's own names are. Names are taken as other Person
    /// Names (their words as PN components), IDs, phones, addresses and postal codes as other
    /// IDs (an address also as a street address), a birth date as one.
    fn add_sources(&mut self, values: &[(crate::clinical::columns::Role, String)]) {
        use crate::clinical::columns::Role;
        for (role, value) in values {
            match role {
                Role::Name => self.other_names.push(value.split_whitespace().collect::<Vec<_>>().join("^")),
                Role::Identifier => {
                    self.other_ids.push(value.clone());
                    self.addresses.push(value.clone());
                }
                Role::PostalCode => self.other_ids.push(value.clone()),
                Role::BirthDate { .. } => {
                    if let Some(d) = crate::clinical::values::parse(value) {
                        self.birth_dates.push(crate::dates::format_da(d));
                    }
                }
                _ => {}
            }
        }
    }

    /// What Clean removes from text: every name (every component of every group, and the
    /// components joined), every ID and identifying value, the birth date in its common
    /// spellings.
    fn for_clean(&self) -> Identifiers {
        let mut ids = Identifiers::new();
        for name in self.patient_names.iter().chain(&self.other_names) {
            ids.add_person_name(name);
            add_whole_names(&mut ids, name);
        }
        for v in self.patient_ids.iter().chain(&self.other_ids) {
            ids.add_id(v);
        }
        for v in &self.institution_ids {
            add_site_value(&mut ids, v);
        }
        for dob in &self.birth_dates {
            ids.add_birth_date_typed(dob);
        }
        self.add_address_parts(&mut ids);
        ids
    }

    /// What the safety net looks for in a code string (CS): the patient's IDs and other IDs
    /// (three characters or more), the birth date, and the patient's whole name (its parts
    /// joined). Not single name parts: code strings are drawn from defined terms, and a name
    /// part can be one (`TEXT`, `CODE`, `PERFUSION`); replacing an SR's Value Type or an
    /// Image Type term would break the object, while a lone name part in a code string is what
    /// `kamei verify` reports.
    fn for_codes(&self) -> Identifiers {
        let mut ids = Identifiers::new();
        for name in &self.patient_names {
            add_whole_names(&mut ids, name);
            // As DICOM writes it: a damaged tag can put the Person Name value itself anywhere.
            for group in name.split(['\\', '=']).filter(|g| g.contains('^')) {
                ids.add(group.trim());
            }
        }
        self.add_ids_and_birth_dates(&mut ids);
        ids
    }

    /// The patient's IDs and other IDs of three characters or more, and the birth date in its
    /// spellings: what both safety nets look for besides names. IDs also in the spellings
    /// people type (without zero padding or with the prefix split off, when six significant
    /// digits or more remain) and the birth date also as `YYMMDD`, as Clean and `kamei verify`
    /// look for them: a kept value saying `ID 1234567` or `850315` names the patient as much
    /// as a description does.
    fn add_ids_and_birth_dates(&self, ids: &mut Identifiers) {
        for v in self.patient_ids.iter().chain(&self.other_ids).filter(|v| v.trim().chars().count() >= 3) {
            ids.add_id(v);
        }
        for dob in &self.birth_dates {
            ids.add_birth_date_typed(dob);
        }
    }

    /// What the safety net looks for in values kept by default: the same identifiers as Clean
    /// (every name, ID and identifying value, the birth date), except Latin name components
    /// shorter than three letters and values shorter than three characters (`LI`, `NG` or a
    /// study ID `1` are too common in codes and text to act on without a rule saying so), the
    /// site values the profile keeps (the institution's under Retain Institution Identity), an
    /// Institution Name of one word the file's manufacturer, model or a code string also uses
    /// (`TOSHIBA` of Manufacturer `TOSHIBA_MEC`: [`Found::collect`]), and the Issuer of Patient
    /// ID when the institution's name is kept. The patient's address in every spelling Clean
    /// removes ([`FoundValues::add_address_parts`]), as `kamei verify` reports each.
    fn for_net(&self) -> Identifiers {
        let mut ids = Identifiers::new();
        for name in self.patient_names.iter().chain(&self.other_names) {
            add_net_name(&mut ids, name);
        }
        self.add_ids_and_birth_dates(&mut ids);
        self.add_address_parts(&mut ids);
        self.add_net_sites(&mut ids);
        ids
    }

    /// The parts of the patient's address that Clean and the safety net remove from text
    /// besides the whole address (an ID, [`FoundValues::add_ids_and_birth_dates`]) and its
    /// postal code: the municipality with its suffix (`Shibuya-ku`, `鴨川市`), the town with a
    /// house number beside it (`西9-8-7`) and the building with its room (`鴨川ハイツ202`).
    fn add_address_parts(&self, ids: &mut Identifiers) {
        for part in &self.address_parts {
            ids.add(part);
        }
        for address in &self.addresses {
            ids.add_street_address(address);
        }
    }

    /// The values of the site attributes the profile does not keep, of three characters or
    /// more ([`FoundValues::net_site_ids`]), each also written as a handle.
    fn add_net_sites(&self, ids: &mut Identifiers) {
        for v in self.net_site_ids.iter().filter(|v| v.trim().chars().count() >= 3) {
            add_site_value(ids, v);
        }
    }
}

impl FoundValues {
    /// The patient's own identifiers, looked for in values an option keeps as they are
    /// (Retain Device Identity, Retain Institution Identity...): the patient's whole names
    /// ([`add_whole_names`]; a name of one part, that part) and each part of a name before an
    /// honorific (`中村様`), the patient's IDs and other IDs (accession number, address,
    /// phone...) and birth date ([`FoundValues::add_ids_and_birth_dates`]), and the street
    /// address (a town with its house number). Not a part of the name alone: the option keeps
    /// the institution's and the device's own names, and the patient 中村 at 中村病院 shares
    /// one with them. Nor the staff's names. And the site values the profile does not keep
    /// ([`FoundValues::add_net_sites`]): Retain Device Identity keeps the station's name, not
    /// the institution's written into it.
    fn for_patient(&self) -> Identifiers {
        let mut ids = Identifiers::new();
        for name in &self.patient_names {
            add_whole_names(&mut ids, name);
            for parts in name_groups(name) {
                if let [only] = parts[..] {
                    ids.add(only);
                }
                for part in parts {
                    ids.add_name_part_before_honorific(part);
                }
            }
        }
        self.add_ids_and_birth_dates(&mut ids);
        for address in &self.addresses {
            ids.add_street_address(address);
        }
        self.add_net_sites(&mut ids);
        ids
    }
}

/// A site value (an institution's or department's name, a station name...) as Clean and the
/// nets look for it: as written, and a name of several words also joined as a handle
/// (`shizuoka-kamei-hospital`, `Shizuoka_Kamei_Hospital`, `ShizuokaKameiHospital`).
fn add_site_value(ids: &mut Identifiers, v: &str) {
    ids.add(v);
    let words: Vec<&str> = v.split_whitespace().collect();
    if words.len() >= 2 {
        for sep in ["-", "_", ""] {
            ids.add(&words.join(sep));
        }
    }
}

/// A name as the safety nets look for it: its parts but Latin ones shorter than three letters
/// ([`net_name`]), its whole name ([`add_whole_names`]), and a part of one character (`林` of
/// `林^太郎`) where an honorific follows it (`林様`, `林 さん`, `林サン`): alone it is too
/// common a character to remove, with an honorific it is the patient.
fn add_net_name(ids: &mut Identifiers, name: &str) {
    ids.add_person_name(&net_name(name));
    add_whole_names(ids, name);
    for group in name.split(['\\', '=']) {
        for part in group.split('^').flat_map(str::split_whitespace) {
            if part.chars().count() == 1 && !part.is_ascii() {
                ids.add_name_part_before_honorific(part);
            }
        }
    }
}

/// The non-empty parts (trimmed) of each group of a Person Name value, each value of a
/// multi-valued one alike (`YAMADA^TARO=山田^太郎` gives `[YAMADA, TARO]`, `[山田, 太郎]`).
fn name_groups(name: &str) -> impl Iterator<Item = Vec<&str>> {
    name.split(['\\', '=']).map(|group| group.split('^').map(str::trim).filter(|p| !p.is_empty()).collect())
}

/// The whole name of each group of a Person Name, its parts however short (`林` of `林^太郎`,
/// `LI^NA`), joined as people write a full name: with a space, without one, in either order.
/// A one-character family name is left out of the single parts the net looks for, but the full
/// name written out is an identifier of several characters.
fn add_whole_names(ids: &mut Identifiers, name: &str) {
    for parts in name_groups(name) {
        if parts.len() < 2 {
            continue;
        }
        let mut reversed = parts.clone();
        reversed.reverse();
        for p in [&parts, &reversed] {
            ids.add(&p.join(" "));
            ids.add(&p.concat());
        }
        // A part of one character beside any other part (`林太郎`, `太郎 林`, also in a name
        // of three parts), as people write two parts of a name together.
        for (i, short) in parts.iter().enumerate().filter(|(_, p)| p.chars().count() == 1) {
            for (_, other) in parts.iter().enumerate().filter(|&(j, _)| j != i) {
                for pair in [
                    format!("{short}{other}"),
                    format!("{short} {other}"),
                    format!("{other}{short}"),
                    format!("{other} {short}"),
                ] {
                    ids.add(&pair);
                }
            }
        }
    }
}

/// A Person Name with the components the safety net does not act on left out (Latin
/// components shorter than three letters), its values, groups and order otherwise kept.
fn net_name(name: &str) -> String {
    let long_enough = |p: &&str| if p.is_ascii() { p.len() >= 3 } else { p.chars().count() >= 2 };
    let group = |g: &str| g.split('^').map(str::trim).filter(long_enough).collect::<Vec<_>>().join("^");
    let value = |v: &str| v.split('=').map(group).collect::<Vec<_>>().join("=");
    name.split('\\').map(value).collect::<Vec<_>>().join("\\")
}

/// X/Z sequences that are Type 3 in every composite IOD that uses them, with "one or more
/// Items" in their module: present with no item is an error (dciodvfy: "Bad Sequence number of
/// Items 0"), so X/Z resolves to X for them. Referenced Study Sequence: PS3.3 C.7.2.1 General
/// Study Module, Type 3. (The other X/Z sequence of Table E.1-1, Acquisition Context Sequence,
/// is Type 2 in PS3.3 C.7.6.14 Acquisition Context Module: it is emptied.)
const TYPE_3_SEQUENCES: [Tag; 1] = [tags::REFERENCED_STUDY_SEQUENCE];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::DataSet;
    use crate::profile::{DateShiftPolicy, Profile};
    use crate::pseudo::PseudonymKey;
    use crate::transfer::TransferSyntax;

    /// A file whose Content Sequence holds one TEXT item naming the patient.
    fn report() -> DicomFile {
        let text_item = DataSet::from_elements([
            Element::new(tags::VALUE_TYPE, VR::CS, b"TEXT".to_vec()),
            Element::new(tags::TEXT_VALUE, VR::UT, b"Seen: YAMADA, stable".to_vec()),
        ]);
        let dataset = DataSet::from_elements([
            Element::new(tags::SOP_CLASS_UID, VR::UI, b"1.2.840.10008.5.1.4.1.1.88.11\0".to_vec()),
            Element::new(tags::SOP_INSTANCE_UID, VR::UI, b"1.2.3.4".to_vec()),
            Element::new(tags::PATIENT_NAME, VR::PN, b"YAMADA^HANAKO".to_vec()),
            Element::new(tags::PATIENT_ID, VR::LO, b"P1".to_vec()),
            Element::new(tags::TEXT_VALUE, VR::UT, b"Free text at the top".to_vec()),
            Element::sequence(tags::CONTENT_SEQUENCE, vec![text_item]),
        ]);
        DicomFile::built(DataSet::new(), dataset, TransferSyntax::explicit_le())
    }

    /// Plan `f` with the basic profile, `options` and a fixed key, in a run of its own.
    fn plan_file(f: &DicomFile, options: &[DeidOption]) -> Result<Plan, PlanError> {
        let mut profile = Profile::builtin("basic").unwrap();
        profile.add_options(options.iter().copied()).unwrap();
        let rules = profile.compile();
        let pseudo = Pseudonymizer::new(&PseudonymKey::from_bytes([1; 32]), DateShiftPolicy::default());
        let ctx = PlanContext {
            rules: &rules,
            pseudo: &pseudo,
            profile_label: "basic",
            identifiers: &IdentifierCache::default(),
            sources: None,
        };
        build(&ctx, f)
    }

    fn text_value_op(options: &[DeidOption]) -> Option<Op> {
        let plan = plan_file(&report(), options).unwrap();
        let at_top = plan.edits.iter().any(|e| e.path.is_empty() && e.tag == tags::TEXT_VALUE);
        assert!(!at_top, "unlisted free text at the top level is kept");
        plan.edits
            .into_iter()
            .find(|e| e.path == [(tags::CONTENT_SEQUENCE, 0)] && e.tag == tags::TEXT_VALUE)
            .map(|e| e.op)
    }

    #[test]
    fn a_code_string_value_that_is_a_name_part_is_replaced_even_where_it_is_a_defined_term() {
        // kamei cannot tell a surname from the defined term it spells: the value goes (rv31),
        // the object's other values stay.
        let mut file = report();
        file.dataset.put(Element::new(tags::PATIENT_NAME, VR::PN, b"TEXT^CODE".to_vec()));
        file.dataset.put(Element::new(tags::IMAGE_TYPE, VR::CS, b"ORIGINAL\\PRIMARY\\TEXT".to_vec()));
        let plan = plan_file(&file, &[DeidOption::CleanStructuredContent]).unwrap();
        let op = plan.edits.iter().find(|e| e.path.is_empty() && e.tag == tags::IMAGE_TYPE).map(|e| e.op.clone());
        let expected = b"ORIGINAL\\PRIMARY\\ANONYMIZED".to_vec();
        assert_eq!(op, Some(Op::Put(Element::new(tags::IMAGE_TYPE, VR::CS, expected))));
    }

    #[test]
    fn files_with_the_same_identifying_values_share_their_identifier_sets() {
        let cache = IdentifierCache::default();
        let first = Found::collect(&report().dataset, &Charset::default_repertoire(), Vec::new());
        let mut other_file = report();
        other_file.dataset.put(Element::new(tags::SOP_INSTANCE_UID, VR::UI, b"1.2.3.5".to_vec()));
        let second = Found::collect(&other_file.dataset, &Charset::default_repertoire(), Vec::new());
        let a = cache.get(IdentifierUse::Net, &first.values);
        let b = cache.get(IdentifierUse::Net, &second.values);
        assert!(Arc::ptr_eq(&a, &b), "built once for both files");
        let clean = cache.get(IdentifierUse::Clean, &second.values);
        assert!(!Arc::ptr_eq(&a, &clean), "each use has its own set");
    }

    #[test]
    fn a_file_is_checked_for_its_own_identifiers_after_a_file_of_another_patient() {
        let profile = Profile::builtin("basic").unwrap();
        let rules = profile.compile();
        let pseudo = Pseudonymizer::new(&PseudonymKey::from_bytes([1; 32]), DateShiftPolicy::default());
        let cache = IdentifierCache::default();
        let ctx =
            PlanContext { rules: &rules, pseudo: &pseudo, profile_label: "basic", identifiers: &cache, sources: None };
        // The same name, another ID, another birth date: only the file's own values tell.
        for (id, dob) in [("P1234567", "19850315"), ("P7654321", "19910704")] {
            let mut file = report();
            file.dataset.put(Element::new(tags::PATIENT_ID, VR::LO, id.as_bytes().to_vec()));
            file.dataset.put(Element::new(tags::PATIENT_BIRTH_DATE, VR::DA, dob.as_bytes().to_vec()));
            let text = format!("Patient {id} born {dob}");
            file.dataset.put(Element::new(tags::TEXT_VALUE, VR::UT, text.into_bytes()));
            let plan = build(&ctx, &file).unwrap();
            let op = plan.edits.iter().find(|e| e.path.is_empty() && e.tag == tags::TEXT_VALUE).map(|e| &e.op);
            let expected = Op::Put(Element::new(tags::TEXT_VALUE, VR::UT, b"Patient *** born ***".to_vec()));
            assert_eq!(op, Some(&expected), "the text of patient {id}");
        }
    }

    #[test]
    fn a_name_split_over_the_values_of_a_kept_code_string_is_replaced() {
        let mut file = report();
        file.dataset.put(Element::new(tags::IMAGE_TYPE, VR::CS, b"ORIGINAL\\PRIMARY\\YAMADA\\HANAKO".to_vec()));
        file.dataset.put(Element::new(tags::SCAN_OPTIONS, VR::CS, b"HANAKO\\HELICAL".to_vec()));
        let plan = plan_file(&file, &[]).unwrap();
        let op = |tag| plan.edits.iter().find(|e| e.path.is_empty() && e.tag == tag).map(|e| e.op.clone());
        let expected = b"ORIGINAL\\PRIMARY\\ANONYMIZED\\ANONYMIZED".to_vec();
        assert_eq!(op(tags::IMAGE_TYPE), Some(Op::Put(Element::new(tags::IMAGE_TYPE, VR::CS, expected))));
        let expected = b"ANONYMIZED\\HELICAL".to_vec();
        assert_eq!(
            op(tags::SCAN_OPTIONS),
            Some(Op::Put(Element::new(tags::SCAN_OPTIONS, VR::CS, expected))),
            "a value that is a name part of three characters or more"
        );
    }

    #[test]
    fn unlisted_free_text_in_a_dummy_sequence_gets_a_dummy() {
        let op = text_value_op(&[]);
        assert_eq!(op, Some(Op::Put(Element::new(tags::TEXT_VALUE, VR::UT, b"ANONYMIZED".to_vec()))));
    }

    #[test]
    fn unlisted_free_text_in_a_cleaned_sequence_is_scrubbed() {
        let op = text_value_op(&[DeidOption::CleanStructuredContent]);
        assert_eq!(op, Some(Op::Put(Element::new(tags::TEXT_VALUE, VR::UT, b"Seen: ***, stable".to_vec()))));
    }

    fn file(elements: Vec<Element>) -> DicomFile {
        let mut ds = DataSet::from_elements([
            Element::new(tags::SOP_CLASS_UID, VR::UI, b"1.2.840.10008.5.1.4.1.1.2\0".to_vec()),
            Element::new(tags::SOP_INSTANCE_UID, VR::UI, b"1.2.3.4".to_vec()),
            Element::new(tags::PATIENT_ID, VR::LO, b"PID001".to_vec()),
            Element::new(tags::STUDY_INSTANCE_UID, VR::UI, b"1.2.3".to_vec()),
        ]);
        for e in elements {
            ds.put(e);
        }
        DicomFile::built(DataSet::new(), ds, TransferSyntax::explicit_le())
    }

    fn plan_with(options: &[DeidOption], elements: Vec<Element>) -> (Plan, DicomFile) {
        let f = file(elements);
        let plan = plan_file(&f, options).unwrap();
        let out = crate::apply::run(&plan, f).unwrap();
        (plan, out)
    }

    fn value(f: &DicomFile, tag: Tag) -> Option<Vec<u8>> {
        f.dataset.bytes(tag).map(<[u8]>::to_vec)
    }

    #[test]
    fn unlisted_person_name_gets_a_dummy() {
        // (0008,0010) Recognition Code is not in Table E.1-1; a name stored there must not stay.
        let (plan, out) = plan_with(&[], vec![Element::new(Tag(0x0008, 0x0010), VR::PN, b"DOE^JOHN".to_vec())]);
        assert_eq!(value(&out, Tag(0x0008, 0x0010)).unwrap(), dummy_value(VR::PN));
        assert!(plan.notes.iter().any(|n| n.contains("(0008,0010)")));
    }

    #[test]
    fn unlisted_value_holding_the_patient_id_is_scrubbed() {
        // A damaged tag: the patient's ID under (0020,0018), which the table does not list.
        let (plan, out) = plan_with(&[], vec![Element::new(Tag(0x0020, 0x0018), VR::SH, b"PID001".to_vec())]);
        assert_eq!(value(&out, Tag(0x0020, 0x0018)).unwrap(), b"***".to_vec());
        assert!(plan.notes.iter().any(|n| n.contains("(0020,0018)")));
        let (_, out) = plan_with(&[], vec![Element::new(tags::MANUFACTURER, VR::LO, b"ACME".to_vec())]);
        assert_eq!(value(&out, tags::MANUFACTURER).unwrap(), b"ACME".to_vec(), "other values stay byte for byte");
    }

    #[test]
    fn patient_name_sent_as_un_is_scrubbed_from_kept_text() {
        for vr in [VR::UN, VR::LO] {
            let (_, out) = plan_with(
                &[],
                vec![
                    Element::new(tags::PATIENT_NAME, vr, b"ZORBLAX^QUENTIN ".to_vec()),
                    Element::new(tags::TEXT_VALUE, VR::UT, b"Text about ZORBLAX".to_vec()),
                ],
            );
            assert_eq!(value(&out, tags::TEXT_VALUE).unwrap(), b"Text about ***", "{vr:?}");
        }
    }

    #[test]
    fn names_found_only_inside_a_sequence_are_cleaned_from_descriptions() {
        let request =
            DataSet::from_elements([Element::new(tags::REQUESTING_PHYSICIAN, VR::PN, b"DRWHOZZ^ALFRED".to_vec())]);
        let (_, out) = plan_with(
            &[DeidOption::CleanDescriptors],
            vec![
                Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"CT requested by DRWHOZZ".to_vec()),
                Element::sequence(tags::REQUEST_ATTRIBUTES_SEQUENCE, vec![request]),
            ],
        );
        assert_eq!(value(&out, tags::STUDY_DESCRIPTION).unwrap(), b"CT requested by ***");
    }

    #[test]
    fn an_accession_number_inside_a_sequence_is_cleaned_from_descriptions() {
        let request = DataSet::from_elements([Element::new(tags::ACCESSION_NUMBER, VR::SH, b"ACCX55501 ".to_vec())]);
        let (_, out) = plan_with(
            &[DeidOption::CleanDescriptors],
            vec![
                Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"order ACCX55501".to_vec()),
                Element::sequence(tags::REQUEST_ATTRIBUTES_SEQUENCE, vec![request]),
            ],
        );
        assert_eq!(value(&out, tags::STUDY_DESCRIPTION).unwrap(), b"order ***");
    }

    #[test]
    fn unlisted_value_holding_the_accession_number_is_scrubbed() {
        let (plan, out) = plan_with(
            &[],
            vec![
                Element::new(tags::ACCESSION_NUMBER, VR::SH, b"ACCX55501 ".to_vec()),
                Element::new(tags::STUDY_ID, VR::SH, b"12".to_vec()),
                Element::new(tags::CODE_MEANING, VR::LO, b"acc ACCX55501".to_vec()),
                Element::new(tags::MANUFACTURER_MODEL_NAME, VR::LO, b"MODEL 12".to_vec()),
            ],
        );
        assert_eq!(value(&out, tags::CODE_MEANING).unwrap(), b"acc ***");
        assert!(plan.notes.iter().any(|n| n.contains("(0008,0104)")));
        assert_eq!(
            value(&out, tags::MANUFACTURER_MODEL_NAME).unwrap(),
            b"MODEL 12",
            "a two-character ID is not acted on"
        );
    }

    #[test]
    fn a_public_code_in_a_sequence_replaced_by_a_dummy_keeps_its_code_but_not_its_meaning() {
        let units = DataSet::from_elements([
            Element::new(tags::CODE_VALUE, VR::SH, b"mm".to_vec()),
            Element::new(tags::CODING_SCHEME_DESIGNATOR, VR::SH, b"UCUM".to_vec()),
            Element::new(tags::CODING_SCHEME_VERSION, VR::SH, b"1.4 ".to_vec()),
            Element::new(tags::CODE_MEANING, VR::LO, b"millimeter".to_vec()),
        ]);
        let measured = DataSet::from_elements([Element::sequence(tags::MEASUREMENT_UNITS_CODE_SEQUENCE, vec![units])]);
        let num = DataSet::from_elements([Element::sequence(tags::MEASURED_VALUE_SEQUENCE, vec![measured])]);
        // Content Sequence is D in the basic profile.
        let (_, out) = plan_with(&[], vec![Element::sequence(tags::CONTENT_SEQUENCE, vec![num])]);
        let item = &out.dataset.get(tags::CONTENT_SEQUENCE).unwrap().value.sequence().unwrap().items[0].dataset;
        let measured = &item.get(tags::MEASURED_VALUE_SEQUENCE).unwrap().value.sequence().unwrap().items[0].dataset;
        let code =
            &measured.get(tags::MEASUREMENT_UNITS_CODE_SEQUENCE).unwrap().value.sequence().unwrap().items[0].dataset;
        assert_eq!(code.bytes(tags::CODE_VALUE).unwrap(), b"mm");
        assert_eq!(code.bytes(tags::CODING_SCHEME_DESIGNATOR).unwrap(), b"UCUM");
        assert_eq!(code.bytes(tags::CODING_SCHEME_VERSION).unwrap(), b"1.4 ");
        assert_eq!(code.bytes(tags::CODE_MEANING).unwrap(), dummy_value(VR::LO));
    }

    #[test]
    fn a_phone_number_or_e_mail_typed_as_a_public_code_gets_the_dummy() {
        let concept = |value: &[u8], scheme: &[u8]| {
            let code = DataSet::from_elements([
                Element::new(tags::CODE_VALUE, VR::SH, value.to_vec()),
                Element::new(tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme.to_vec()),
            ]);
            DataSet::from_elements([Element::sequence(tags::CONCEPT_CODE_SEQUENCE, vec![code])])
        };
        let items = vec![
            concept(b"03-5555-6666", b"LN"),
            concept(b"kato@example.com", b"DCM"),
            concept(b"8867-4", b"LN"),
            concept(b"J18.9 ", b"I10"),
        ];
        let (_, out) = plan_with(&[], vec![Element::sequence(tags::CONTENT_SEQUENCE, items)]);
        let content = &out.dataset.get(tags::CONTENT_SEQUENCE).unwrap().value.sequence().unwrap().items;
        let codes: Vec<Vec<u8>> = content
            .iter()
            .map(|i| {
                let seq = i.dataset.get(tags::CONCEPT_CODE_SEQUENCE).unwrap().value.sequence().unwrap();
                seq.items[0].dataset.bytes(tags::CODE_VALUE).unwrap().to_vec()
            })
            .collect();
        let dummy = dummy_value(VR::SH);
        assert_eq!(codes, vec![dummy.clone(), dummy, b"8867-4".to_vec(), b"J18.9 ".to_vec()]);
    }

    #[test]
    fn a_code_sequence_replaced_by_a_dummy_loses_its_code_value_and_meaning() {
        let code = DataSet::from_elements([
            Element::new(tags::CODE_VALUE, VR::SH, b"HOSP-4221".to_vec()),
            Element::new(tags::CODING_SCHEME_DESIGNATOR, VR::SH, b"99HOSP".to_vec()),
            Element::new(tags::CODE_MEANING, VR::LO, b"Shizuoka General Hospital ".to_vec()),
        ]);
        // Institution Code Sequence is X/Z/D, resolved to D.
        let (_, out) = plan_with(&[], vec![Element::sequence(tags::INSTITUTION_CODE_SEQUENCE, vec![code])]);
        let seq = out.dataset.get(tags::INSTITUTION_CODE_SEQUENCE).unwrap().value.sequence().unwrap();
        let item = &seq.items[0].dataset;
        for tag in [tags::CODE_VALUE, tags::CODING_SCHEME_DESIGNATOR] {
            assert_eq!(item.bytes(tag).unwrap(), dummy_value(VR::SH), "{}", tag_str(tag));
        }
        assert_eq!(item.bytes(tags::CODE_MEANING).unwrap(), dummy_value(VR::LO));
    }

    fn build_with(elements: Vec<Element>) -> Result<Plan, PlanError> {
        build_file(&file(elements))
    }

    /// Plan `f` with the basic profile and a fixed key.
    fn build_file(f: &DicomFile) -> Result<Plan, PlanError> {
        plan_file(f, &[])
    }

    /// The pseudonym of a file without a Patient ID, Study or SOP Instance UID in its data
    /// set, whose meta names the instance `meta_sop`.
    fn unidentified_pseudonym(meta_sop: &[u8]) -> String {
        let mut f = file(vec![]);
        for tag in [tags::PATIENT_ID, tags::STUDY_INSTANCE_UID, tags::SOP_INSTANCE_UID] {
            f.dataset.remove(tag);
        }
        f.meta.put(Element::new(tags::MEDIA_STORAGE_SOP_INSTANCE_UID, VR::UI, meta_sop.to_vec()));
        let plan = build_file(&f).unwrap();
        assert!(plan.patient.id_missing);
        plan.patient.pseudonym
    }

    #[test]
    fn files_without_an_id_or_study_are_one_patient_per_instance_named_in_their_meta() {
        let a = unidentified_pseudonym(b"1.2.3.77");
        assert_eq!(a, unidentified_pseudonym(b"1.2.3.77\0"));
        assert_ne!(a, unidentified_pseudonym(b"1.2.3.78"));
    }

    #[test]
    fn a_class_uid_that_is_not_a_uid_refuses_the_file() {
        let e = build_with(vec![Element::new(tags::SOP_CLASS_UID, VR::UI, b"PID001".to_vec())]).unwrap_err();
        assert!(e.0.contains("(0008,0016)") && e.0.contains("not a UID"), "{}", e.0);
        let reference = DataSet::from_elements([
            Element::new(tags::REFERENCED_SOP_CLASS_UID, VR::UI, b"SUZUKI^ICHIRO ".to_vec()),
            Element::new(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, b"1.2.3.9".to_vec()),
        ]);
        let e = build_with(vec![Element::sequence(tags::REFERENCED_IMAGE_SEQUENCE, vec![reference])]).unwrap_err();
        assert!(e.0.contains("(0008,1150)"), "{}", e.0);
        assert!(!e.0.contains("SUZUKI"), "the reason holds no value: {}", e.0);
    }

    #[test]
    fn a_class_uid_padded_with_a_null_is_a_uid() {
        let reference = DataSet::from_elements([Element::new(
            tags::REFERENCED_SOP_CLASS_UID,
            VR::UI,
            b"1.2.840.10008.5.1.4.1.1.2\\1.2.840.10008.5.1.4.1.1.4\0".to_vec(),
        )]);
        assert!(build_with(vec![Element::sequence(tags::REFERENCED_IMAGE_SEQUENCE, vec![reference])]).is_ok());
    }

    #[test]
    fn a_value_under_the_dicom_root_that_is_not_a_uid_is_mapped() {
        let damaged = b"1.2.840.10008.PID001".to_vec();
        let (_, out) =
            plan_with(&[], vec![Element::new(tags::MULTI_FRAME_SOURCE_SOP_INSTANCE_UID, VR::UI, damaged.clone())]);
        let pseudo = Pseudonymizer::new(&PseudonymKey::from_bytes([1; 32]), DateShiftPolicy::default());
        assert_eq!(
            value(&out, tags::MULTI_FRAME_SOURCE_SOP_INSTANCE_UID).unwrap(),
            pseudo.uid("1.2.840.10008.PID001").as_bytes()
        );
    }

    /// A private block of `creator` in group `group` holding one element at offset `offset`.
    fn private(group: u16, creator: &str, offset: u16, vr: VR, value: &[u8]) -> Vec<Element> {
        vec![
            Element::new(Tag(group, 0x0010), VR::LO, creator.as_bytes().to_vec()),
            Element::new(Tag(group, 0x1000 | offset), vr, value.to_vec()),
        ]
    }

    #[test]
    fn a_safe_private_value_sent_as_un_is_scrubbed_as_its_table_vr() {
        // (0019,xx9E) of GEMS_ACQU_01 is LO in Table E.3.10-1; an Implicit VR file sends it
        // without its VR.
        let (_, out) =
            plan_with(&[DeidOption::RetainSafePrivate], private(0x0019, "GEMS_ACQU_01", 0x9E, VR::UN, b"SEQ PID001 "));
        // Planned as LO: the writer pads it with one space (the original's pad is not kept twice).
        assert_eq!(value(&out, Tag(0x0019, 0x109E)).unwrap(), b"SEQ ***");
    }

    #[test]
    fn a_kept_private_value_of_unknown_type_holding_the_patient_id_is_removed() {
        // (2001,xx2F) of Philips Imaging DD 097 is OB in Table E.3.10-1: no text layout known.
        let block = |v: &[u8]| private(0x2001, "Philips Imaging DD 097", 0x2F, VR::OB, v);
        let (plan, out) = plan_with(&[DeidOption::RetainSafePrivate], block(b"\x01\x02PID001\x00\x00"));
        assert!(value(&out, Tag(0x2001, 0x102F)).is_none());
        assert!(plan.notes.iter().any(|n| n.contains("(2001,102F)") && n.contains("unknown type")));
        let (_, out) = plan_with(&[DeidOption::RetainSafePrivate], block(b"\x01\x02\x03\x04"));
        assert_eq!(value(&out, Tag(0x2001, 0x102F)).unwrap(), b"\x01\x02\x03\x04", "other values stay byte for byte");
    }

    #[test]
    fn file_meta_elements_inside_the_data_set_are_removed() {
        let (plan, out) = plan_with(
            &[],
            vec![
                Element::new(tags::IMPLEMENTATION_CLASS_UID, VR::UI, b"1.2.392.200036.9999.1\0".to_vec()),
                Element::new(tags::IMPLEMENTATION_VERSION_NAME, VR::SH, b"SHIZUOKA_PACS".to_vec()),
            ],
        );
        assert!(out.dataset.elements().iter().all(|e| e.tag.group() != 0x0002), "{:?}", out.dataset);
        assert!(plan.notes.iter().any(|n| n.contains("(0002,xxxx)")));
    }

    #[test]
    fn a_kept_value_in_an_unknown_character_set_holding_the_name_gets_a_dummy() {
        // `KLINGON` is no term at all: the Latin-1 bytes of the name are compared as bytes.
        let (plan, out) = plan_with(
            &[],
            vec![
                Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"KLINGON ".to_vec()),
                Element::new(tags::PATIENT_NAME, VR::PN, b"M\xFCller^J\xFCrgen".to_vec()),
                Element::new(tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP, VR::LT, b"Pt M\xFCller ok".to_vec()),
            ],
        );
        let comment = value(&out, tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP).unwrap();
        assert_eq!(comment, dummy_value(VR::LT));
        assert!(plan.notes.iter().any(|n| n.contains("unsupported character set")));
    }

    /// `Yamada^Taro=山田^太郎` in `\ISO 2022 IR 87`, the kanji designated with `esc`.
    fn yamada_with(esc: &[u8]) -> Vec<u8> {
        [&b"Yamada^Taro="[..], esc, b";3ED\x1b(B^", esc, b"B@O:\x1b(B"].concat()
    }

    fn kept_comment_with(name_esc: &[u8], comment_esc: &[u8]) -> (Plan, Vec<u8>) {
        let comment = [&b"patient "[..], comment_esc, b";3EDB@O:\x1b(B follow-up"].concat();
        let (plan, out) = plan_with(
            &[],
            vec![
                Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"\\ISO 2022 IR 87 ".to_vec()),
                Element::new(tags::PATIENT_NAME, VR::PN, yamada_with(name_esc)),
                Element::new(tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP, VR::LT, comment),
            ],
        );
        (plan, value(&out, tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP).unwrap())
    }

    #[test]
    fn a_kanji_name_designated_with_esc_dollar_at_is_scrubbed_from_kept_text() {
        // `ESC $ @` (JIS C 6226-1978) in the name, the comment, or both.
        for (name_esc, comment_esc) in [(b"\x1b$@", b"\x1b$B"), (b"\x1b$@", b"\x1b$@"), (b"\x1b$B", b"\x1b$@")] {
            let (_, comment) = kept_comment_with(name_esc, comment_esc);
            assert_eq!(comment, b"patient *** follow-up", "{name_esc:?} {comment_esc:?}");
        }
    }

    #[test]
    fn a_kept_value_after_an_unknown_escape_is_compared_byte_for_byte() {
        // `ESC $ A` designates nothing DICOM defines: the bytes after it are not ASCII text. The
        // name and the comment use it alike, so the comment holds the name's bytes: a dummy.
        let (plan, comment) = kept_comment_with(b"\x1b$A", b"\x1b$A");
        assert_eq!(comment, dummy_value(VR::LT));
        assert!(plan.notes.iter().any(|n| n.contains("(0040,0400)") && n.contains("escape sequence")));
        // Cleaning text with such an escape gives a dummy, never text read as ASCII.
        let (plan, out) = plan_with(
            &[DeidOption::CleanDescriptors],
            vec![
                Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"\\ISO 2022 IR 87 ".to_vec()),
                Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"CT \x1b$A;3ED\x1b(B".to_vec()),
            ],
        );
        assert_eq!(value(&out, tags::STUDY_DESCRIPTION).unwrap(), dummy_value(VR::LO));
        assert!(plan.notes.iter().any(|n| n.contains("(0008,1030)")));
    }

    #[test]
    fn an_unlisted_date_follows_the_profiles_dates() {
        let update = || vec![Element::new(tags::STUDY_UPDATE_DATE_TIME, VR::DT, b"20240203101500".to_vec())];
        let (plan, out) = plan_with(&[], update());
        assert_eq!(value(&out, tags::STUDY_UPDATE_DATE_TIME).unwrap(), dummy_value(VR::DT));
        assert!(plan.notes.iter().any(|n| n.contains("(0008,041F)")));
        let (_, out) = plan_with(&[DeidOption::RetainLongModifiedDates], update());
        let shifted = value(&out, tags::STUDY_UPDATE_DATE_TIME).unwrap();
        assert_ne!(shifted, b"20240203101500", "shifted by the patient's offset");
        assert!(shifted.ends_with(b"101500"), "the time of day stays: {}", String::from_utf8_lossy(&shifted));
        let (_, out) = plan_with(&[DeidOption::RetainLongFullDates], update());
        assert_eq!(value(&out, tags::STUDY_UPDATE_DATE_TIME).unwrap(), b"20240203101500");
    }

    #[test]
    fn a_dummy_keeps_the_number_of_values_of_a_date_time() {
        // A TCOORD's Referenced DateTime of a SEGMENT range holds two values (start and end).
        let two = vec![Element::new(tags::REFERENCED_DATE_TIME, VR::DT, b"20240203101500\\20240203101510".to_vec())];
        let (_, out) = plan_with(&[], two);
        assert_eq!(value(&out, tags::REFERENCED_DATE_TIME).unwrap(), b"19000101000000\\19000101000000");
    }

    #[test]
    fn a_value_of_unknown_type_shaped_as_a_person_name_reads_as_one() {
        for name in ["SATO^HANAKO", "Sato^Hanako^^Dr.", "山田^太郎=やまだ^たろう", "O'NEIL^MARY ANN"] {
            assert!(looks_like_name(name), "{name}");
        }
        for other in ["harmless", "SATO^", "^HANAKO", "A1^B2", "v2.1^beta3", "1.2.840^3"] {
            assert!(!looks_like_name(other), "{other}");
        }
    }

    #[test]
    fn a_kept_private_name_holding_the_patients_name_gets_a_dummy() {
        // A private element kept by retain-safe-private, sent as PN: a private name kept by
        // keep_private_creators goes through the same safety net.
        let mut elements = private(0x2001, "Philips Imaging DD 001", 0x7D, VR::PN, b"ZORBLAX^QUENTIN");
        elements.push(Element::new(tags::PATIENT_NAME, VR::PN, b"ZORBLAX^QUENTIN".to_vec()));
        let (plan, out) = plan_with(&[DeidOption::RetainSafePrivate], elements);
        assert_eq!(value(&out, Tag(0x2001, 0x107D)).unwrap(), dummy_value(VR::PN));
        assert!(plan.notes.iter().any(|n| n.contains("(2001,107D)")));
    }

    fn unlisted_uid_elements() -> Vec<Element> {
        vec![
            Element::new(tags::MULTI_FRAME_SOURCE_SOP_INSTANCE_UID, VR::UI, b"1.2.3.4.5\0".to_vec()),
            Element::new(tags::TABLE_FRAME_OF_REFERENCE_UID, VR::UI, b"1.2.840.10008.1.4.1.1\0".to_vec()),
            Element::new(tags::ORIGINAL_SPECIALIZED_SOP_CLASS_UID, VR::UI, b"1.2.840.113619.4.2\0".to_vec()),
        ]
    }

    #[test]
    fn unlisted_instance_uid_is_mapped_but_defined_and_class_uids_are_kept() {
        let (_, out) = plan_with(&[], unlisted_uid_elements());
        let pseudo = Pseudonymizer::new(&PseudonymKey::from_bytes([1; 32]), DateShiftPolicy::default());
        assert_eq!(value(&out, tags::MULTI_FRAME_SOURCE_SOP_INSTANCE_UID).unwrap(), pseudo.uid("1.2.3.4.5").as_bytes());
        assert_eq!(value(&out, tags::TABLE_FRAME_OF_REFERENCE_UID).unwrap(), b"1.2.840.10008.1.4.1.1\0");
        assert_eq!(value(&out, tags::ORIGINAL_SPECIALIZED_SOP_CLASS_UID).unwrap(), b"1.2.840.113619.4.2\0");
    }

    #[test]
    fn retain_uids_keeps_unlisted_instance_uids() {
        let (_, out) = plan_with(&[DeidOption::RetainUids], unlisted_uid_elements());
        assert_eq!(value(&out, tags::MULTI_FRAME_SOURCE_SOP_INSTANCE_UID).unwrap(), b"1.2.3.4.5\0");
    }

    #[test]
    fn manufacturer_holding_the_institution_name_is_kept() {
        let (_, out) = plan_with(
            &[],
            vec![
                Element::new(tags::INSTITUTION_NAME, VR::LO, b"TOSHIBA ".to_vec()),
                Element::new(tags::MANUFACTURER, VR::LO, b"TOSHIBA_MEC ".to_vec()),
            ],
        );
        assert_eq!(value(&out, tags::MANUFACTURER).unwrap(), b"TOSHIBA_MEC ");
    }

    /// A CT naming its institution, address and department, with the institution's name and
    /// address written into unlisted text (a coding scheme's name and organization).
    fn naming_the_site() -> Vec<Element> {
        vec![
            Element::new(tags::INSTITUTION_NAME, VR::LO, b"CANARY GENERAL HOSPITAL ".to_vec()),
            Element::new(tags::INSTITUTION_ADDRESS, VR::ST, b"1 CANARY STREET".to_vec()),
            Element::new(tags::INSTITUTIONAL_DEPARTMENT_NAME, VR::LO, b"RADIOLOGY WEST ".to_vec()),
            Element::new(tags::CODING_SCHEME_NAME, VR::ST, b"CANARY GENERAL HOSPITAL local codes".to_vec()),
            Element::new(
                tags::CODING_SCHEME_RESPONSIBLE_ORGANIZATION,
                VR::ST,
                b"canary-general-hospital, 1 Canary Street, RADIOLOGY WEST".to_vec(),
            ),
        ]
    }

    #[test]
    fn the_institution_the_profile_removes_is_scrubbed_from_kept_text() {
        let (plan, out) = plan_with(&[], naming_the_site());
        assert_eq!(value(&out, tags::CODING_SCHEME_NAME).unwrap(), b"*** local codes");
        assert_eq!(value(&out, tags::CODING_SCHEME_RESPONSIBLE_ORGANIZATION).unwrap(), b"***, ***, ***");
        assert!(plan.notes.iter().any(|n| n.contains("(0008,0115)") && n.contains("site")), "{:?}", plan.notes);
    }

    #[test]
    fn retain_institution_identity_keeps_the_institution_in_kept_text() {
        let (_, out) = plan_with(&[DeidOption::RetainInstitutionIdentity], naming_the_site());
        assert_eq!(value(&out, tags::CODING_SCHEME_NAME).unwrap(), b"CANARY GENERAL HOSPITAL local codes");
        assert_eq!(value(&out, tags::INSTITUTION_NAME).unwrap(), b"CANARY GENERAL HOSPITAL ");
    }

    #[test]
    fn a_station_name_retain_device_identity_keeps_loses_the_institution_it_names() {
        let mut elements = naming_the_site();
        elements.push(Element::new(tags::STATION_NAME, VR::SH, b"CANARY GENERAL HOSPITAL CT1".to_vec()));
        let (_, out) = plan_with(&[DeidOption::RetainDeviceIdentity], elements);
        assert_eq!(value(&out, tags::STATION_NAME).unwrap(), b"*** CT1");
    }

    #[test]
    fn a_code_string_that_is_a_part_of_the_patients_name_is_replaced() {
        let elements = || {
            vec![
                Element::new(tags::PATIENT_NAME, VR::PN, b"SMITHX^JOHNNY".to_vec()),
                // C under Clean Descriptors.
                Element::new(tags::REASON_FOR_THE_ATTRIBUTE_MODIFICATION, VR::CS, b"smithx".to_vec()),
                // Unlisted: kept with the safety net.
                Element::new(tags::BODY_PART_EXAMINED, VR::CS, b"CHEST\\JOHNNY".to_vec()),
                // A name part as one word of a longer code string is as likely a defined term's.
                Element::new(tags::SCAN_OPTIONS, VR::CS, b"SMITHX_MODE".to_vec()),
                // Shorter than three characters: too common a code.
                Element::new(tags::PATIENT_POSITION, VR::CS, b"HFS".to_vec()),
            ]
        };
        let (plan, out) = plan_with(&[DeidOption::CleanDescriptors], elements());
        assert_eq!(value(&out, tags::REASON_FOR_THE_ATTRIBUTE_MODIFICATION).unwrap(), b"ANONYMIZED");
        assert_eq!(value(&out, tags::BODY_PART_EXAMINED).unwrap(), b"CHEST\\ANONYMIZED");
        assert_eq!(value(&out, tags::SCAN_OPTIONS).unwrap(), b"SMITHX_MODE");
        assert_eq!(value(&out, tags::PATIENT_POSITION).unwrap(), b"HFS");
        assert!(plan.notes.iter().any(|n| n.contains("(0400,0565)")), "{:?}", plan.notes);
        // Other code strings a C cleans keep their defined terms.
        let mut other = elements();
        other[1] = Element::new(tags::REASON_FOR_THE_ATTRIBUTE_MODIFICATION, VR::CS, b"CORRECT".to_vec());
        let (_, out) = plan_with(&[DeidOption::CleanDescriptors], other);
        assert_eq!(value(&out, tags::REASON_FOR_THE_ATTRIBUTE_MODIFICATION).unwrap(), b"CORRECT");
    }

    #[test]
    fn conditional_on_an_empty_value_stays_empty_and_on_a_value_gets_a_dummy() {
        let (_, out) = plan_with(
            &[],
            vec![
                Element::new(tags::STATION_NAME, VR::SH, Vec::new()),
                Element::new(tags::INSTITUTION_NAME, VR::LO, b"GENERAL HOSPITAL".to_vec()),
            ],
        );
        assert_eq!(value(&out, tags::STATION_NAME).unwrap(), b"");
        assert_eq!(value(&out, tags::INSTITUTION_NAME).unwrap(), b"ANONYMIZED");
    }

    #[test]
    fn an_x_z_sequence_that_is_type_3_is_removed_and_a_type_2_one_is_emptied() {
        let item = || {
            DataSet::from_elements([
                Element::new(tags::REFERENCED_SOP_CLASS_UID, VR::UI, b"1.2.840.10008.3.1.2.3.1\0".to_vec()),
                Element::new(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, b"1.2.3.99".to_vec()),
            ])
        };
        let (_, out) = plan_with(
            &[],
            vec![
                Element::sequence(tags::REFERENCED_STUDY_SEQUENCE, vec![item()]),
                Element::sequence(tags::ACQUISITION_CONTEXT_SEQUENCE, vec![item()]),
            ],
        );
        // Referenced Study Sequence is Type 3 with one or more items: present and empty is an
        // IOD error. Acquisition Context Sequence is Type 2: it must stay, with no item.
        assert!(out.dataset.get(tags::REFERENCED_STUDY_SEQUENCE).is_none());
        let context = out.dataset.get(tags::ACQUISITION_CONTEXT_SEQUENCE).unwrap().value.sequence().unwrap();
        assert!(context.items.is_empty());
    }

    #[test]
    fn patient_id_and_name_get_the_pseudonym_of_the_id() {
        let (plan, out) = plan_with(&[], vec![Element::new(tags::PATIENT_NAME, VR::PN, b"DOE^JOHN".to_vec())]);
        assert_eq!(value(&out, tags::PATIENT_ID).unwrap(), plan.patient.pseudonym.as_bytes());
        assert_eq!(value(&out, tags::PATIENT_NAME).unwrap(), plan.patient.pseudonym.as_bytes());
        assert_eq!(plan.patient.original_id(), "PID001");
    }

    #[test]
    fn a_shift_jis_patient_id_the_declared_set_does_not_allow_is_read_as_cp932() {
        // `１２３４５６７` in Shift_JIS, padded, under sets that do not allow these bytes.
        let sjis = b"\x82P\x82Q\x82R\x82S\x82T\x82U\x82V ".to_vec();
        let ascii = {
            let (plan, _) = plan_with(&[], vec![Element::new(tags::PATIENT_ID, VR::LO, b"1234567 ".to_vec())]);
            plan.patient.pseudonym
        };
        for charset in [&b""[..], b"ISO_IR 13 ", b"ISO_IR 100", b"ISO_IR 192", b"\\ISO 2022 IR 87 "] {
            let mut elements = vec![Element::new(tags::PATIENT_ID, VR::LO, sjis.clone())];
            if !charset.is_empty() {
                elements.push(Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, charset.to_vec()));
            }
            let shown = String::from_utf8_lossy(charset);
            assert_eq!(original_patient_id(&file(elements.clone()).dataset), "1234567", "{shown}");
            let (plan, _) = plan_with(&[], elements);
            assert_eq!(plan.patient.original_id(), "1234567", "{shown}");
            assert_eq!(plan.patient.pseudonym, ascii, "the pseudonym of 1234567 ({shown})");
            assert_eq!(plan.patient.id_reading, IdReading::ShiftJis);
            assert!(plan.notes.iter().any(|n| n == SHIFT_JIS_ID_NOTE), "{shown}: {:?}", plan.notes);
            assert!(plan.notes.iter().all(|n| !n.contains("１") && !n.contains("1234567")), "no value in notes");
        }
    }

    /// The CP932 bytes of `text`.
    fn sjis(text: &str) -> Vec<u8> {
        encoding_rs::SHIFT_JIS.encode(text).0.into_owned()
    }

    /// Elements with (0008,0005) `charset` when it is not empty.
    fn with_charset(charset: &[u8], mut elements: Vec<Element>) -> Vec<Element> {
        if !charset.is_empty() {
            elements.push(Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, charset.to_vec()));
        }
        elements
    }

    #[test]
    fn rv18_01_02_03_a_shift_jis_name_is_cleaned_from_shift_jis_text_written_back_in_cp932() {
        for (charset, pn) in [
            (&b""[..], sjis("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎")),
            (b"ISO_IR 13", sjis("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎")),
            (b"ISO_IR 192", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎".as_bytes().to_vec()),
        ] {
            let (plan, out) = plan_with(
                &[DeidOption::CleanDescriptors],
                with_charset(
                    charset,
                    vec![
                        Element::new(tags::PATIENT_NAME, VR::PN, pn),
                        Element::new(tags::STUDY_DESCRIPTION, VR::LO, sjis("ﾔﾏﾀﾞ 様")),
                        Element::new(tags::SERIES_DESCRIPTION, VR::LO, sjis("頭部 太郎")),
                        Element::new(tags::IMAGE_COMMENTS, VR::LT, sjis("ﾔﾏﾀﾞ ﾀﾛｳ")),
                    ],
                ),
            );
            let shown = String::from_utf8_lossy(charset);
            assert_eq!(value(&out, tags::STUDY_DESCRIPTION).unwrap(), sjis("*** 様"), "{shown}");
            assert_eq!(value(&out, tags::SERIES_DESCRIPTION).unwrap(), sjis("頭部 ***"), "{shown}");
            assert_eq!(value(&out, tags::IMAGE_COMMENTS).unwrap(), b"***", "{shown}");
            assert!(
                plan.notes.iter().any(|n| n.starts_with("(0008,1030)") && n.contains("written back in CP932")),
                "{shown}: {:?}",
                plan.notes
            );
            assert!(plan.notes.iter().all(|n| !n.contains('様') && !n.contains("ﾔ")), "no value in notes");
        }
    }

    #[test]
    fn rv18_05_kept_shift_jis_values_that_do_not_hold_the_name_stay_byte_for_byte() {
        for charset in [&b""[..], b"ISO_IR 13"] {
            let kept = [(tags::MANUFACTURER, sjis("崖田製作所")), (tags::SOFTWARE_VERSIONS, sjis("審慶版"))];
            let mut elements = vec![Element::new(tags::PATIENT_NAME, VR::PN, sjis("山田^太郎"))];
            elements.extend(kept.iter().map(|(t, v)| Element::new(*t, VR::LO, v.clone())));
            let (plan, out) = plan_with(&[], with_charset(charset, elements));
            for (tag, bytes) in &kept {
                assert_eq!(value(&out, *tag).as_ref(), Some(bytes), "{}", String::from_utf8_lossy(charset));
            }
            assert!(plan.notes.iter().all(|n| !n.contains("kept value held")), "{:?}", plan.notes);
        }
    }

    #[test]
    fn rv18_03_text_valid_in_neither_its_set_nor_cp932_gets_a_dummy_never_question_marks() {
        // A stray 0x80 makes the value valid neither in the default repertoire nor as CP932.
        let bytes = [&sjis("山田 CT")[..], b"\x80"].concat();
        let (plan, out) = plan_with(
            &[DeidOption::CleanDescriptors],
            vec![
                Element::new(tags::PATIENT_NAME, VR::PN, sjis("山田^太郎")),
                Element::new(tags::STUDY_DESCRIPTION, VR::LO, bytes),
            ],
        );
        assert_eq!(value(&out, tags::STUDY_DESCRIPTION).unwrap(), dummy_value(VR::LO));
        assert!(plan.notes.iter().any(|n| n.starts_with("(0008,1030)") && n.contains("replaced by a dummy")));
        // Nothing to clean in it: kept byte for byte.
        let other = [&sjis("頭部 CT")[..], b"\x80"].concat();
        let (_, out) = plan_with(
            &[DeidOption::CleanDescriptors],
            vec![
                Element::new(tags::PATIENT_NAME, VR::PN, sjis("山田^太郎")),
                Element::new(tags::STUDY_DESCRIPTION, VR::LO, other.clone()),
            ],
        );
        assert_eq!(value(&out, tags::STUDY_DESCRIPTION).unwrap(), other);
        // A kept value valid in neither is compared byte for byte: the name's bytes in it go.
        let kept = [&sjis("山田")[..], b"\x80"].concat();
        let other = [&sjis("崖田")[..], b"\x80"].concat();
        let (_, out) = plan_with(
            &[],
            vec![
                Element::new(tags::PATIENT_NAME, VR::PN, sjis("山田^太郎")),
                Element::new(tags::MANUFACTURER, VR::LO, kept),
                Element::new(tags::SOFTWARE_VERSIONS, VR::LO, other.clone()),
            ],
        );
        assert_eq!(value(&out, tags::MANUFACTURER).unwrap(), dummy_value(VR::LO));
        assert_eq!(value(&out, tags::SOFTWARE_VERSIONS).unwrap(), other);
    }

    #[test]
    fn rv18_07_a_patient_id_read_as_cp932_is_cleaned_in_its_ascii_spelling_too() {
        let (_, out) = plan_with(
            &[DeidOption::CleanDescriptors],
            vec![
                Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"ISO_IR 100".to_vec()),
                Element::new(tags::PATIENT_ID, VR::LO, sjis("１２３４５６７")),
                Element::new(tags::STUDY_DESCRIPTION, VR::LO, sjis("ID １２３４５６７ / 1234567")),
            ],
        );
        assert_eq!(value(&out, tags::STUDY_DESCRIPTION).unwrap(), b"ID *** / ***");
    }

    #[test]
    fn a_cleaned_value_keeps_no_trailing_pad_of_the_original() {
        // `山田 CT ` is eight bytes with its pad; cleaned, `*** CT` is padded again by the writer.
        let (_, out) = plan_with(
            &[DeidOption::CleanDescriptors],
            vec![
                Element::new(tags::PATIENT_NAME, VR::PN, b"YAMADA^TARO ".to_vec()),
                Element::new(tags::STUDY_DESCRIPTION, VR::LO, sjis("山田 CT ")),
                Element::new(tags::SERIES_DESCRIPTION, VR::LO, b"YAMADA CT ".to_vec()),
            ],
        );
        assert_eq!(value(&out, tags::SERIES_DESCRIPTION).unwrap(), b"*** CT");
    }

    #[test]
    fn rv18_08_a_greek_name_in_lower_case_with_final_sigma_is_cleaned() {
        let greek = |s: &str| encoding_rs::ISO_8859_7.encode(s).0.into_owned();
        let (_, out) = plan_with(
            &[DeidOption::CleanDescriptors],
            vec![
                Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"ISO_IR 126".to_vec()),
                Element::new(tags::PATIENT_NAME, VR::PN, greek("ΠΑΠΑΔΟΠΟΥΛΟΣ^ΝΙΚΟΣ")),
                Element::new(tags::STUDY_DESCRIPTION, VR::LO, greek("Παπαδοπουλος CT")),
                Element::new(tags::SERIES_DESCRIPTION, VR::LO, greek("Νικος Παπαδοπουλος")),
            ],
        );
        assert_eq!(value(&out, tags::STUDY_DESCRIPTION).unwrap(), b"*** CT");
        assert_eq!(value(&out, tags::SERIES_DESCRIPTION).unwrap(), b"***");
    }

    #[test]
    fn a_patient_id_valid_in_the_declared_set_is_not_read_as_shift_jis() {
        for (charset, id, expected) in [
            (&b"ISO_IR 100"[..], &b"M\xfcller01"[..], "müller01"),
            (b"ISO_IR 13 ", b"\xb6\xb8\xb3", "カクウ"),
            (b"ISO_IR 192", "１２３".as_bytes(), "123"),
        ] {
            let (plan, _) = plan_with(
                &[],
                vec![
                    Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, charset.to_vec()),
                    Element::new(tags::PATIENT_ID, VR::LO, id.to_vec()),
                ],
            );
            assert_eq!(plan.patient.original_id().to_lowercase(), expected);
            assert_eq!(plan.patient.id_reading, IdReading::Declared);
            assert!(!plan.notes.iter().any(|n| n == SHIFT_JIS_ID_NOTE));
        }
    }

    #[test]
    fn multi_valued_uids_are_each_mapped() {
        let (_, out) =
            plan_with(&[], vec![Element::new(tags::FAILED_SOP_INSTANCE_UID_LIST, VR::UI, b"1.2.5\\1.2.6".to_vec())]);
        let v = String::from_utf8(value(&out, tags::FAILED_SOP_INSTANCE_UID_LIST).unwrap()).unwrap();
        let parts: Vec<&str> = v.trim_end_matches('\0').split('\\').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("2.25.")));
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn unused_private_creator_is_removed_with_its_block() {
        let (_, out) = plan_with(
            &[],
            vec![
                Element::new(Tag(0x0009, 0x0010), VR::LO, b"ACME".to_vec()),
                Element::new(Tag(0x0009, 0x1001), VR::LO, b"SECRET".to_vec()),
            ],
        );
        assert!(out.dataset.get(Tag(0x0009, 0x0010)).is_none());
        assert!(out.dataset.get(Tag(0x0009, 0x1001)).is_none());
    }

    #[test]
    fn removed_overlay_data_takes_its_whole_group() {
        let (_, out) = plan_with(
            &[],
            vec![
                Element::new(Tag(0x6000, 0x0010), VR::US, 8u16.to_le_bytes().to_vec()),
                Element::new(Tag(0x6000, 0x3000), VR::OW, vec![0; 8]),
            ],
        );
        assert!(out.dataset.elements().iter().all(|e| e.tag.group() != 0x6000));
    }

    #[test]
    fn modified_dates_shift_by_the_patients_offset() {
        let (plan, out) = plan_with(
            &[DeidOption::RetainLongModifiedDates],
            vec![Element::new(tags::STUDY_DATE, VR::DA, b"20240301".to_vec())],
        );
        let expected = crate::dates::shift_da("20240301", plan.patient.date_shift_days).unwrap();
        assert_eq!(value(&out, tags::STUDY_DATE).unwrap(), expected.as_bytes());
    }

    #[test]
    fn an_earlier_modified_or_removed_date_marker_is_never_weakened() {
        assert_eq!(temporal_marker(Some("MODIFIED"), "UNMODIFIED"), "MODIFIED");
        assert_eq!(temporal_marker(Some("REMOVED"), "MODIFIED"), "REMOVED");
        assert_eq!(temporal_marker(Some("MODIFIED"), "REMOVED"), "REMOVED");
        assert_eq!(temporal_marker(Some("UNMODIFIED"), "MODIFIED"), "MODIFIED");
        assert_eq!(temporal_marker(Some("SHIFTED"), "UNMODIFIED"), "UNMODIFIED");
        assert_eq!(temporal_marker(None, "UNMODIFIED"), "UNMODIFIED");
    }

    #[test]
    fn markers_name_the_options_in_code_order() {
        let (_, out) = plan_with(&[DeidOption::RetainUids, DeidOption::CleanDescriptors], vec![]);
        let seq = out.dataset.get(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE).unwrap().value.sequence().unwrap();
        let codes: Vec<&str> = seq.items.iter().map(|i| i.dataset.ascii(tags::CODE_VALUE).unwrap()).collect();
        assert_eq!(codes, ["113100", "113105", "113110"]);
        assert_eq!(out.dataset.ascii(tags::PATIENT_IDENTITY_REMOVED), Some("YES"));
    }

    #[test]
    fn meta_follows_the_new_sop_instance_uid() {
        let (_, out) = plan_with(&[], vec![]);
        assert_eq!(out.meta.ascii(tags::MEDIA_STORAGE_SOP_INSTANCE_UID), out.dataset.ascii(tags::SOP_INSTANCE_UID));
        assert!(out.meta.ascii(tags::MEDIA_STORAGE_SOP_INSTANCE_UID).unwrap().starts_with("2.25."));
    }

    fn header(modality: &str, burned: Option<&str>) -> DataSet {
        let mut d = DataSet::from_elements([
            Element::new(tags::MODALITY, VR::CS, modality.as_bytes().to_vec()),
            Element::new(tags::PIXEL_DATA, VR::OB, vec![0; 4]),
        ]);
        if let Some(b) = burned {
            d.put(Element::new(tags::BURNED_IN_ANNOTATION, VR::CS, b.as_bytes().to_vec()));
        }
        d
    }

    #[test]
    fn dental_panoramic_and_intra_oral_images_may_carry_text() {
        assert_eq!(burned_in(&header("PX", None)), BurnedIn::Likely);
        assert_eq!(burned_in(&header("IO", None)), BurnedIn::Likely);
    }

    #[test]
    fn burned_in_no_on_an_annotated_modality_is_still_likely() {
        assert_eq!(burned_in(&header("US", Some("NO"))), BurnedIn::Likely);
        assert_eq!(burned_in(&header("CT", Some("NO"))), BurnedIn::Unlikely);
        assert_eq!(burned_in(&header("CT", Some("YES"))), BurnedIn::Declared);
        assert_eq!(burned_in(&header("CT", None)), BurnedIn::Unlikely);
    }
}
