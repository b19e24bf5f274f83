//! The dictionary of identifying values a release must not contain, built from the original
//! data: the inputs (`--against`) or the linkage table (`--linkage`).
//!
//! Which values count is decided here, independently of the profile that produced the release:
//! every Person Name (each group and each component: alphabetic, ideographic, phonetic), the
//! IDs (patient, other IDs, accession number, study ID, admission, medical record locator,
//! issuer), the birth date in common spellings, addresses, phone numbers (also those of
//! Patient's Telecom Information), institution and department names, station names, device
//! serial numbers, the instance UIDs (Study, Series, SOP Instance, Frame of Reference,
//! referenced and private UIDs: an original UID in a release links it back to the source
//! archive), and the exam dates, searched for only in their own output's text. The linkage table adds the original Patient
//! IDs and the components of the input paths.
//!
//! Names and addresses are searched for in every spelling Clean removes: the spellings come from
//! the same code ([`crate::names`], [`crate::addresses`]), as the birth date's come from
//! [`crate::dates::common_spellings`], an ID's from [`crate::ids`] and
//! [`crate::pseudo::normalize_id`] (an HL7 CX value's ID part, full-width digits), and an exam
//! date's from [`crate::text_dates`], so `verify` never looks for fewer than `deid` removes.
//!
//! Matching is done by [`Matcher`]: Aho–Corasick over NFKC-normalised, lower-cased text, whole
//! words for ASCII identifiers; the town of an address is found with a house number beside it
//! in any spelling ([`crate::addresses::Town`]), a phone number by its digits whatever separators
//! stand between them ([`crate::scrub::numbers_in`]). Very short or generic values are left out (they would match
//! everywhere): ASCII values shorter than 3 characters, digit-only values shorter than 5,
//! other scripts shorter than 2 characters.

use crate::addresses::Town;
use crate::charset::CharacterSet;
use crate::dataset::{DataSet, Tag, VR, Value};
use aho_corasick::{AhoCorasick, MatchKind};
use dicom_dictionary_std::tags;
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

/// What kind of original value an identifier is (shown in findings instead of the value).
pub type Kind = &'static str;

/// Attributes whose values identify (besides every PN, which is always collected).
#[allow(deprecated)]
pub const IDENTIFYING: &[(Tag, Kind)] = &[
    (tags::PATIENT_ID, "Patient ID"),
    (tags::OTHER_PATIENT_I_DS, "Other Patient IDs"),
    (tags::ISSUER_OF_PATIENT_ID, "Issuer of Patient ID"),
    (tags::LOCAL_NAMESPACE_ENTITY_ID, LOCAL_NAMESPACE),
    (tags::UNIVERSAL_ENTITY_ID, UNIVERSAL_ENTITY),
    (tags::ACCESSION_NUMBER, "Accession Number"),
    (tags::STUDY_ID, "Study ID"),
    (tags::ADMISSION_ID, "Admission ID"),
    (tags::MEDICAL_RECORD_LOCATOR, "Medical Record Locator"),
    (tags::PATIENT_ADDRESS, PATIENT_ADDRESS),
    (tags::PATIENT_TELEPHONE_NUMBERS, "Patient's Telephone Numbers"),
    (tags::PATIENT_TELECOM_INFORMATION, TELECOM),
    (tags::PATIENT_BIRTH_NAME, "Patient's Birth Name"),
    (tags::PATIENT_MOTHER_BIRTH_NAME, "Patient's Mother's Birth Name"),
    (tags::INSTITUTION_NAME, "Institution Name"),
    (tags::INSTITUTION_ADDRESS, "Institution Address"),
    (tags::INSTITUTIONAL_DEPARTMENT_NAME, "Institutional Department Name"),
    (tags::STATION_NAME, "Station Name"),
    (tags::DEVICE_SERIAL_NUMBER, "Device Serial Number"),
    (tags::REQUESTING_SERVICE, "Requesting Service"),
    (tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST, "Placer Order Number"),
    (tags::FILLER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST, "Filler Order Number"),
    (tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST_RETIRED, "Placer Order Number"),
    (tags::FILLER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST_RETIRED, "Filler Order Number"),
    (tags::PLACER_ORDER_NUMBER_PROCEDURE, "Placer Order Number"),
    (tags::FILLER_ORDER_NUMBER_PROCEDURE, "Filler Order Number"),
    (tags::REQUESTED_PROCEDURE_ID, "Requested Procedure ID"),
    (tags::SCHEDULED_PROCEDURE_STEP_ID, "Scheduled Procedure Step ID"),
    (tags::PERFORMED_PROCEDURE_STEP_ID, "Performed Procedure Step ID"),
    (tags::SPECIMEN_IDENTIFIER, "Specimen Identifier"),
    (tags::CONTAINER_IDENTIFIER, "Container Identifier"),
    (tags::SPECIMEN_ACCESSION_NUMBER, "Specimen Accession Number"),
    (tags::SLIDE_IDENTIFIER, "Slide Identifier"),
    (tags::SERVICE_EPISODE_ID, "Service Episode ID"),
    (tags::INSURANCE_PLAN_IDENTIFICATION, "Insurance Plan Identification"),
    (tags::CLINICAL_TRIAL_SUBJECT_ID, "Clinical Trial Subject ID"),
    (tags::CLINICAL_TRIAL_SUBJECT_READING_ID, "Clinical Trial Subject Reading ID"),
];

/// The kind of an issuer's Local Namespace Entity ID (of the accession number, an order
/// number, the Patient ID's assigning facility...: [`crate::dict::ISSUER_IDS`]).
pub const LOCAL_NAMESPACE: Kind = "issuer's Local Namespace Entity ID";

/// The kind of an issuer's Universal Entity ID ([`crate::dict::ISSUER_IDS`]).
pub const UNIVERSAL_ENTITY: Kind = "issuer's Universal Entity ID";

/// Kept values that explain a weak identifier found in the output (see
/// [`Dictionary::add_dataset`]), besides every code string.
const EXPLAINING: [Tag; 2] = [tags::MANUFACTURER, tags::MANUFACTURER_MODEL_NAME];

/// A one-word ASCII name, or an institution, department or station name: identifiers that are
/// also ordinary words.
fn is_weak(text: &str, kind: Kind) -> bool {
    let one_word_name =
        (kind.starts_with("Person Name") || kind.contains("Birth Name")) && text.is_ascii() && !text.contains(' ');
    one_word_name || matches!(kind, "Institution Name" | "Institutional Department Name" | "Station Name")
}

/// One identifier: its normalised text and what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    /// The normalised text that is searched for.
    pub text: String,
    /// What it was in the original data (e.g. "Patient's Name (ideographic)").
    pub kind: Kind,
}

/// Collects identifiers; deduplicated by text.
#[derive(Debug, Default)]
pub struct Dictionary {
    by_text: HashMap<String, Kind>,
    /// The towns of addresses, found only with a house number beside them, in any spelling of
    /// the number ([`crate::addresses::Town`]).
    towns: Vec<(Town, Kind)>,
    /// Phone numbers as their digits ([`crate::ids::phone_digits`]: `0312345678` and
    /// `81312345678` of `03-1234-5678`), found whatever separators stand between the digits
    /// ([`crate::scrub::numbers_in`]).
    numbers: Vec<(String, Kind)>,
    /// The input's exam dates ([`EXAM_DATES`]), each once, with the first attribute that holds it.
    exam_dates: Vec<(chrono::NaiveDate, Kind)>,
}

/// A [`Dictionary`] held compactly while a run lasts: an input's own identifiers, held from the
/// start for every input of `verify --against`, in boxed slices instead of hash tables with
/// room to grow. [`Compact::dictionary`] gives back the dictionary to search with when its
/// output is checked.
#[derive(Debug, Default, Clone)]
pub struct Compact {
    texts: Box<[(Box<str>, Kind)]>,
    towns: Box<[(Town, Kind)]>,
    numbers: Box<[(Box<str>, Kind)]>,
    exam_dates: Box<[(chrono::NaiveDate, Kind)]>,
}

impl Compact {
    /// The dictionary again.
    pub fn dictionary(&self) -> Dictionary {
        Dictionary {
            by_text: self.texts.iter().map(|(t, k)| (t.to_string(), *k)).collect(),
            towns: self.towns.to_vec(),
            numbers: self.numbers.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
            exam_dates: self.exam_dates.to_vec(),
        }
    }

    /// Whether this normalised text is one of the identifiers.
    pub fn contains(&self, normalized: &str) -> bool {
        self.texts.binary_search_by(|(t, _)| (**t).cmp(normalized)).is_ok()
    }

    /// Number of identifiers.
    pub fn len(&self) -> usize {
        self.texts.len() + self.towns.len() + self.numbers.len() + self.exam_dates.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The kind of an original instance UID (see [`Dictionary::add_dataset`]). Under Retain UIDs
/// a release keeps them on purpose: [`Dictionary::without`] leaves them out.
pub const UID: Kind = "UID";

/// The kind of a birth date spelling: also found at the start of a date-time.
const BIRTH_DATE: Kind = "Patient's Birth Date";

/// The kind of a date of a private attribute (see `Dictionary::add_as_deid_reads_it`): also
/// found at the start of a date-time. A release made with Retain Longitudinal Temporal
/// Information with Full Dates keeps it on purpose.
pub const PRIVATE_DATE: Kind = "date of a private attribute";

/// The kind of the six-digit `YYMMDD` spelling: searched for only in the output of the input it
/// came from (six digits stand for too many other things to search everywhere).
const BIRTH_DATE_SHORT: Kind = "Patient's Birth Date (YYMMDD)";

/// The kind of Patient's Address: also searched for in the spellings of its parts
/// ([`Dictionary::add_address`]).
const PATIENT_ADDRESS: Kind = "Patient's Address";

/// The kind of a folder name or file stem of the inputs.
const PATH_COMPONENT: Kind = "input path component";

/// The kind of a folder name or file stem of the inputs that is a date alone (an SS-MIX2 date
/// folder): searched for in its own input's output only ([`Dictionary::own_names`]). A release
/// made with Retain Longitudinal Temporal Information with Full Dates keeps it on purpose.
pub const PATH_DATE: Kind = "input path component (a date)";

/// Kinds of ID values, also searched for in the other spellings people type them in
/// ([`crate::ids::other_spellings`]): those Clean looks for in these spellings (`deid` adds
/// every Patient ID, Other Patient ID, accession number, study ID, address, phone number,
/// admission ID, medical record locator, and the specimen, container, service episode,
/// insurance plan and clinical trial subject IDs so: [`crate::dict::OTHER_IDS`]), and the
/// original IDs of a linkage table or an opt-out register.
const ID_KINDS: [Kind; 19] = [
    "Patient ID",
    "Other Patient IDs",
    "Accession Number",
    "Study ID",
    PATIENT_ADDRESS,
    "Patient's Telephone Numbers",
    TELECOM,
    "Admission ID",
    "Medical Record Locator",
    "Specimen Identifier",
    "Container Identifier",
    "Specimen Accession Number",
    "Slide Identifier",
    "Service Episode ID",
    "Insurance Plan Identification",
    "Clinical Trial Subject ID",
    "Clinical Trial Subject Reading ID",
    "Patient ID (linkage table)",
    EXCLUDED_PATIENT_ID,
];

/// The kinds whose phone numbers are also found by their digits ([`crate::ids::phone_digits`]).
const PHONE_KINDS: [Kind; 2] = ["Patient's Telephone Numbers", TELECOM];

/// The kind of Patient's Telecom Information (free text such as `tel:03-1234-5678`): its phone
/// numbers are found by their digits ([`crate::ids::phone_digits`]), as Clean finds them.
const TELECOM: Kind = "Patient's Telecom Information";

/// The exam dates of an input and the attribute each is named by in a finding: found in its
/// own output's text in any spelling [`crate::text_dates`] reads (see
/// [`Matcher::find_exam_dates`]). A release that shifts dates keeps none of them as written (a
/// real one beside the shifted header gives the patient's offset away), nor does one that
/// removes dates; one made with Retain Longitudinal Temporal Information with Full Dates keeps
/// them on purpose ([`EXAM_DATE_KINDS`]).
#[allow(deprecated)]
const EXAM_DATES: [(Tag, Kind); 5] = [
    (tags::STUDY_DATE, "Study Date"),
    (tags::SERIES_DATE, "Series Date"),
    (tags::ACQUISITION_DATE, "Acquisition Date"),
    (tags::CONTENT_DATE, "Content Date"),
    (tags::ACQUISITION_DATE_TIME, "Acquisition DateTime"),
];

/// The kinds of the exam dates ([`EXAM_DATES`]), which a release made with Retain
/// Longitudinal Temporal Information with Full Dates keeps on purpose.
pub const EXAM_DATE_KINDS: [Kind; 5] =
    ["Study Date", "Series Date", "Acquisition Date", "Content Date", "Acquisition DateTime"];

/// The kind of an opt-out register's Patient ID ([`Dictionary::add_excluded_patient_id`]).
const EXCLUDED_PATIENT_ID: Kind = "ID of an excluded patient";

/// The kind of an opt-out register's ID of digits only, without its leading zeros: found with
/// any leading zeros before it (`12345` in `0012345`), as the opt-out leaves them out.
pub(crate) const EXCLUDED_NUMBER: Kind = "ID of an excluded patient (any leading zeros)";

/// The form both sides are compared in: NFKC without Latin diacritics (`MÜLLER^JOSÉ` is
/// `muller jose`, as Clean finds it: [`crate::scrub`]; kana keep their voicing marks), variant
/// kanji and typographic apostrophes folded ([`crate::scrub`]: `髙橋` is `高橋`, `O’Neil` is
/// `o'neil`), case folded ([`crate::case_fold`]: `Σ`, `σ` and `ς` alike), and every run of separators people
/// put between the parts of a name, ID or date (`^` of a DICOM Person Name, `_`, `-`, `,`,
/// `.`, `/`, `・`, spaces, and NUL, which Clean compares as a space) as one space, so `YAMADA^TARO`, `Yamada_Taro`, `yamada-taro` and
/// `YAMADA, TARO` are all `yamada taro`.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s
        .nfkd()
        .filter(|&c| !crate::scrub::is_diacritic(c))
        .nfc()
        .map(crate::scrub::same_letter)
        .flat_map(char::to_lowercase)
        .map(crate::case_fold::fold_lower)
    {
        // Invisible characters (a zero-width space copied from a web screen) show as nothing
        // and are not part of an ID ([`crate::pseudo::normalize_id`]).
        if crate::pseudo::is_invisible(c) {
            continue;
        }
        if c.is_whitespace()
            || c == '\0'
            || matches!(c, '^' | '_' | '-' | ',' | '.' | '/' | '・' | '\u{2212}' | '\u{2010}'..='\u{2015}')
        {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push(' ');
        }
        gap = false;
        out.push(c);
    }
    out
}

/// A folder name, or a file's stem (`file`), as it reads ([`super::path_names`]: a Shift_JIS
/// name from a Windows share as its Japanese text); a name that is a UID keeps its dots.
fn path_stem(name: &std::ffi::OsStr, file: bool) -> String {
    let s = super::path_names::name_text(name);
    match s.rsplit_once('.') {
        Some((stem, _)) if file && !crate::dict::is_instance_uid_text(&s) => stem.to_string(),
        _ => s,
    }
}

/// Whether a normalised path name names its own input only ([`Dictionary::own_names`]): a
/// date alone (`20241011`, `2024 10 11` of `2024-10-11`).
fn is_own_name(t: &str) -> bool {
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    t.chars().all(|c| c.is_ascii_digit() || c == ' ')
        && digits.len() == 8
        && chrono::NaiveDate::parse_from_str(&digits, "%Y%m%d").is_ok()
}

/// Whether a normalised name is an SS-MIX2 data type folder: three letters and two digits
/// (`adt 00`, `oml 11`, `ppr 01` of `ADT-00`, `OML-11`, `PPR-01`).
fn is_ssmix2_data_type(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 6 && b[..3].iter().all(u8::is_ascii_lowercase) && b[3] == b' ' && b[4..].iter().all(u8::is_ascii_digit)
}

fn specific_enough(t: &str) -> bool {
    let chars = t.chars().count();
    if !t.chars().any(char::is_alphanumeric) {
        return false;
    }
    if t.is_ascii() {
        // Numbers (IDs, dates, but also measurements like 0.000000): at least five digits, and
        // at least three different ones, or they match every image's geometry.
        if t.chars().all(|c| c.is_ascii_digit() || ".-+/: ".contains(c)) {
            let digits: Vec<char> = t.chars().filter(char::is_ascii_digit).collect();
            let distinct = digits.iter().collect::<std::collections::HashSet<_>>().len();
            return digits.len() >= 5 && distinct >= 3;
        }
        return chars >= 3 && !matches!(t, "anonymized" | "anonymous" | "unknown" | "none" | "n/a");
    }
    chars >= 2
}

impl Dictionary {
    /// An empty dictionary.
    pub fn new() -> Dictionary {
        Dictionary::default()
    }

    /// Whether this normalised text is one of the identifiers.
    pub fn contains(&self, normalized: &str) -> bool {
        self.by_text.contains_key(normalized)
    }

    /// The same identifiers held compactly ([`Compact`]).
    pub fn compact(self) -> Compact {
        let mut texts: Vec<(Box<str>, Kind)> = self.by_text.into_iter().map(|(t, k)| (t.into_boxed_str(), k)).collect();
        texts.sort_unstable();
        Compact {
            texts: texts.into_boxed_slice(),
            towns: self.towns.into_boxed_slice(),
            numbers: self.numbers.into_iter().map(|(n, k)| (n.into_boxed_str(), k)).collect(),
            exam_dates: self.exam_dates.into_boxed_slice(),
        }
    }

    /// Number of identifiers.
    pub fn len(&self) -> usize {
        self.by_text.len() + self.towns.len() + self.numbers.len() + self.exam_dates.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_text.is_empty() && self.towns.is_empty() && self.numbers.is_empty() && self.exam_dates.is_empty()
    }

    /// Add one value (ignored when too short or generic); an ID also in its other spellings,
    /// as Clean looks for them ([`crate::scrub::Identifiers::add_id`]): without padding or
    /// separators, with its prefix split off or left out when six significant digits or more
    /// remain; as [`crate::pseudo::normalize_id`] reads it (full-width, invisible characters
    /// dropped, any dash as `-`), which for a value in HL7 CX form (`12345^^^HOSP^MR`) is its
    /// ID part ([`crate::ids::cx_id_part`]), in those spellings too; and a phone number
    /// (Patient's Telephone Numbers, Telecom Information) by its digits, also in its other
    /// national or international form ([`crate::ids::phone_digits`]: `+81-3-1234-5678` of
    /// `03-1234-5678`).
    pub fn add(&mut self, value: &str, kind: Kind) {
        let t = normalize(value.trim_matches(|c: char| c.is_whitespace() || c == '\0'));
        if specific_enough(&t) {
            // A private attribute's date is the weakest kind: the same text as any other kind
            // (the birth date copied into a private attribute) is that kind.
            self.by_text
                .entry(t)
                .and_modify(|k| {
                    if *k == PRIVATE_DATE {
                        *k = kind
                    }
                })
                .or_insert(kind);
        }
        if ID_KINDS.contains(&kind) {
            let value = &*crate::pseudo::without_invisible(value);
            let mut others = crate::ids::other_spellings(value);
            others.extend(crate::scrub::split_id_spellings(value));
            for v in value.split('\\') {
                let id = crate::pseudo::normalize_id(v);
                if id != v.trim_matches(|c: char| c.is_whitespace() || c == '\0') && !id.is_empty() {
                    others.extend(crate::ids::other_spellings(&id));
                    others.extend(crate::scrub::split_id_spellings(&id));
                    others.push(id);
                }
            }
            // A phone number's digits are found also between letters (`TEL0312345678`): only
            // a phone's, searched in its own patient's output, where no hash written in hex
            // (the audit log's) is searched with them.
            if PHONE_KINDS.contains(&kind) {
                for digits in crate::ids::phone_digits(value) {
                    if !self.numbers.iter().any(|(n, _)| *n == digits) {
                        self.numbers.push((digits, kind));
                    }
                }
            }
            for other in others {
                let t = normalize(&other);
                if specific_enough(&t) {
                    self.by_text.entry(t).or_insert(kind);
                }
            }
        }
    }

    /// Add a Person Name: every spelling of each group (alphabetic, ideographic, phonetic) that
    /// Clean removes ([`crate::names::of_group`]: each part and word, spaced in either order, run
    /// together, a one-character part with an honorific), each also with its umlauts spelled
    /// out and its kana in the other script. A name run together is searched for in any case
    /// (Clean leaves it in prose where a word after the first is written in lower case:
    /// `wanting` of `Wan-Ting` is reported here, for a person to look at).
    pub fn add_person_name(&mut self, pn: &str) {
        const GROUPS: [Kind; 3] = ["Person Name (alphabetic)", "Person Name (ideographic)", "Person Name (phonetic)"];
        for value in pn.split('\\') {
            for (g, group) in value.split('=').enumerate() {
                let kind = GROUPS[g.min(2)];
                let spellings = crate::names::of_group(group);
                // A piece of a name typed without a space is Clean's only before an honorific.
                let honored = spellings
                    .before_honorific
                    .iter()
                    .flat_map(|p| crate::names::HONORIFICS.iter().map(move |h| format!("{p}{h}")));
                let all = spellings.spaced.iter().cloned().chain(spellings.joined.iter().map(|w| w.concat()));
                for s in all.chain(honored) {
                    self.add_name_spelling(&s, kind);
                    if let Some(u) = crate::names::umlauts_spelled_out(&s) {
                        self.add_name_spelling(&u, kind);
                    }
                    if let Some(k) = crate::names::other_kana(&s.chars().collect::<Vec<char>>()) {
                        self.add_name_spelling(&k.into_iter().collect::<String>(), kind);
                    }
                }
            }
        }
    }

    /// Add one spelling of a name ([`Dictionary::add`]), unless it is an honorific or role word
    /// alone (`さん`, `様`, `患者`, also in katakana): a name part romanised `San` reads `さん` in
    /// kana, and a name read in the wrong character set can give such a piece; as an identifier
    /// it would be found in every file that speaks of a patient politely.
    fn add_name_spelling(&mut self, spelling: &str, kind: Kind) {
        let t = normalize(spelling.trim());
        let katakana = |h: &str| -> String {
            h.chars()
                .map(|c| {
                    if ('\u{3041}'..='\u{3096}').contains(&c) {
                        char::from_u32(c as u32 + 0x60).unwrap_or(c)
                    } else {
                        c
                    }
                })
                .collect()
        };
        let honorific = crate::names::HONORIFICS.iter().any(|h| normalize(h) == t || normalize(&katakana(h)) == t);
        if !honorific {
            self.add(spelling, kind);
        }
    }

    /// Add a patient's address: the whole value ([`Dictionary::add`]) and the parts people
    /// write on their own that Clean removes ([`crate::addresses`]): its postal codes (as IDs:
    /// also without the dash), its municipality (`渋谷区`), its building with the room
    /// (`登呂ハイツ202`), and its town with a house number beside it in any spelling
    /// (`登呂一丁目三番五号` of `静岡県静岡市駿河区登呂１−３−５`).
    pub fn add_address(&mut self, address: &str, kind: Kind) {
        self.add(address, kind);
        for code in crate::addresses::postal_codes(address) {
            self.add(&code, kind);
        }
        for part in crate::addresses::municipalities(address).into_iter().chain(crate::addresses::buildings(address)) {
            self.add(&part, kind);
        }
        for town in crate::addresses::towns(address) {
            if !self.towns.iter().any(|(t, _)| *t == town) {
                self.towns.push((town, kind));
            }
        }
    }

    /// Add a birth date (DA) in the spellings people write.
    pub fn add_birth_date(&mut self, da: &str) {
        for s in crate::dates::common_spellings(da) {
            self.add(&s, BIRTH_DATE);
        }
        if let Some(s) = crate::dates::short_spelling(da) {
            self.add(&s, BIRTH_DATE_SHORT);
        }
    }

    /// Add the identifying values of one input data set (at every depth).
    ///
    /// A weak identifier (a one-word ASCII name, an institution, department or station name)
    /// that the same data set also uses as a code string word (Image Type `PERFUSION`) or as
    /// its Manufacturer or model name (`TOSHIBA`, a vendor's test data naming itself as the
    /// institution) is left out: the profile keeps those values, so finding the word there
    /// says nothing about the patient. Names of several words, IDs and dates always count.
    ///
    /// Its instance UIDs count too, wherever a UI value holds one (standard or private, at any
    /// depth): [`crate::dict::is_instance_uid_text`] (four components or more or a `2.25.`
    /// UID, 16 characters or more, not one the standard registers), and not one the data set also names as a class,
    /// transfer syntax or coding scheme (a vendor's private SOP Class UID is kept by every
    /// profile) unless the class rule takes that class field's value for an instance UID
    /// ([`crate::class_uids::instances_in_class_fields`]: swapped into a Referenced SOP Class
    /// UID, or spelling the Patient ID), as `deid` then maps it. Shorter values are left out:
    /// `1.2.3.4` is as likely a version number in text.
    pub fn add_dataset(&mut self, ds: &DataSet) {
        let mut explained = std::collections::HashSet::new();
        let mut uids = Uids { class_instances: crate::class_uids::instances_in_class_fields(ds), ..Uids::default() };
        self.add_level(ds, &CharacterSet::default_repertoire(), &mut explained, &mut uids);
        self.by_text.retain(|t, k| !(is_weak(t, k) && explained.contains(t.as_str())));
        for uid in uids.instance.difference(&uids.registered) {
            self.add(uid, UID);
        }
    }

    fn add_level(
        &mut self,
        ds: &DataSet,
        inherited: &CharacterSet,
        explained: &mut std::collections::HashSet<String>,
        uids: &mut Uids,
    ) {
        let cs = level_charset(ds, inherited);
        for e in ds.elements() {
            match &e.value {
                Value::Sequence(seq) => {
                    for item in &seq.items {
                        self.add_level(&item.dataset, &cs, explained, uids);
                    }
                }
                Value::Bytes(bytes) if holds_uids(e.tag, e.vr, bytes) => uids.add(e.tag, bytes),
                Value::Bytes(bytes) => {
                    self.add_exam_date(e.tag, bytes);
                    self.add_as_deid_reads_it(e.tag, e.vr, bytes, &cs, uids);
                    // A code string sent as UN (an Explicit VR writer that did not know the
                    // VR: Body Part Examined `PANCREAS`) is a code string all the same.
                    let vr = if e.vr == VR::UN { crate::dict::known_vr(e.tag).unwrap_or(VR::UN) } else { e.vr };
                    if vr == VR::CS || EXPLAINING.contains(&e.tag) {
                        let text = normalize(cs.read(bytes, vr).text());
                        explained.extend(
                            text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string),
                        );
                    }
                    // A PN value is a name unless the dictionary says the tag holds something
                    // else (a damaged VR on, say, Specific Character Set).
                    let pn = e.vr == VR::PN && crate::dict::known_vr(e.tag).is_none_or(|v| v == VR::PN);
                    if pn || (e.vr == VR::UN && crate::dict::known_vr(e.tag) == Some(VR::PN)) {
                        // Every reading of its bytes, as deid collects it (`CharacterSet::identifier_readings`).
                        for reading in cs.identifier_readings(bytes, VR::PN) {
                            self.add_person_name(&reading);
                        }
                    } else if e.tag == tags::PATIENT_BIRTH_DATE {
                        let text = String::from_utf8_lossy(bytes).into_owned();
                        self.add_birth_date(&text);
                    } else if e.tag == tags::PATIENT_ADDRESS {
                        for reading in cs.identifier_readings(bytes, e.vr) {
                            for v in reading.split('\\') {
                                self.add_address(v, PATIENT_ADDRESS);
                            }
                        }
                    } else if let Some((_, kind)) = IDENTIFYING.iter().find(|(t, _)| *t == e.tag) {
                        // Shift_JIS bytes the declared set does not allow are also read as CP932,
                        // as deid reads them (a Patient ID so for its pseudonym and linkage).
                        let mut readings = cs.identifier_readings(bytes, e.vr);
                        if crate::dict::PATIENT_IDS.contains(&e.tag) {
                            for r in undeclared_id_readings(&cs, bytes) {
                                if !readings.contains(&r) {
                                    readings.push(r);
                                }
                            }
                        }
                        for reading in readings {
                            for v in reading.split('\\') {
                                self.add(v, kind);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Note an exam date ([`EXAM_DATES`]: the first eight digits of the value, a DA or a DT).
    fn add_exam_date(&mut self, tag: Tag, bytes: &[u8]) {
        let Some((_, kind)) = EXAM_DATES.iter().find(|(t, _)| *t == tag) else { return };
        let text = String::from_utf8_lossy(bytes);
        for v in text.split('\\') {
            let v = v.trim_matches([' ', '\0']);
            let day = v.get(..8).and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y%m%d").ok());
            if let Some(day) = day.filter(|d| !self.exam_dates.iter().any(|(x, _)| x == d)) {
                self.exam_dates.push((day, kind));
            }
        }
    }

    /// What `deid` finds in a value besides its attribute's own meaning (rv23 01, 02 and 04:
    /// an Implicit VR file's private values arrive as UN), so `verify` sees the same:
    ///
    /// - a private value that is a whole date (DA or DT, or a UN value every value of which
    ///   is one, as [`crate::plan::date_shaped_vr`] retypes it): its dates, which the release
    ///   must shift or replace unless it keeps real dates ([`PRIVATE_DATE`]);
    /// - a private value of unknown type (UN, OB) that reads as plain text shaped as a
    ///   person's name (`SATO^HANAKO`, [`crate::plan::looks_like_name`]): a name;
    /// - an instance UID written inside text (a description, a private value of unknown type
    ///   read as text: `ref 1.2.392.200036.… x`; not in the parts of a code), which `deid` maps
    ///   in the text it keeps.
    fn add_as_deid_reads_it(&mut self, tag: Tag, vr: VR, bytes: &[u8], cs: &CharacterSet, uids: &mut Uids) {
        let private = crate::dataset::is_private(tag);
        let unknown = matches!(vr, VR::UN | VR::OB) && private;
        if private && (matches!(vr, VR::DA | VR::DT) || crate::plan::date_shaped_vr(tag, vr, bytes).is_some()) {
            for v in String::from_utf8_lossy(bytes).split('\\') {
                let v = v.trim_matches([' ', '\0']);
                if let Some(date) = v.get(..8).filter(|d| d.bytes().all(|b| b.is_ascii_digit())) {
                    self.add(date, PRIVATE_DATE);
                }
            }
            return;
        }
        let text_vr = matches!(vr, VR::SH | VR::LO | VR::ST | VR::LT | VR::UT | VR::UC);
        if !unknown && !text_vr {
            return;
        }
        let reading = cs.read(bytes, if unknown { VR::UT } else { vr });
        if unknown && !reading.is_text() {
            return;
        }
        let text = reading.text();
        if unknown && crate::plan::looks_like_name(text) {
            self.add_person_name(text.trim_matches([' ', '\0']));
        }
        if crate::plan::CODE_PARTS.contains(&tag) {
            return; // a code's parts hold codes, which deid leaves as they are
        }
        for m in crate::dict::instance_uids_in(text) {
            uids.instance.insert(m.as_str().to_string());
        }
    }

    /// The same identifiers without those of the given kinds: what a release made with options
    /// that keep some of them (Retain UIDs, Retain Institution Identity...) must not contain.
    pub fn without(&self, kinds: &[Kind]) -> Dictionary {
        let by_text = self.by_text.iter().filter(|(_, k)| !kinds.contains(k)).map(|(t, k)| (t.clone(), *k)).collect();
        let towns = self.towns.iter().filter(|(_, k)| !kinds.contains(k)).cloned().collect();
        let numbers = self.numbers.iter().filter(|(_, k)| !kinds.contains(k)).cloned().collect();
        let exam_dates = self.exam_dates.iter().filter(|(_, k)| !kinds.contains(k)).cloned().collect();
        Dictionary { by_text, towns, numbers, exam_dates }
    }

    /// Add the original Patient ID of a linkage table row.
    pub fn add_patient_id(&mut self, original: &str) {
        self.add(original, "Patient ID (linkage table)");
    }

    /// Add the original Patient ID of an opt-out register (`verify --exclude-patients`): looked
    /// for in every spelling a linkage table's ID is ([`Dictionary::add_patient_id`]), without
    /// zero padding, full-width, with other separators or its prefix split off; and an ID of
    /// digits only also with any other leading zeros (`12345` listed is found as `0012345`, and
    /// the reverse), the numbers [`crate::cohort::Cohort::admit`] takes for one patient.
    pub fn add_excluded_patient_id(&mut self, original: &str) {
        self.add(original, EXCLUDED_PATIENT_ID);
        let id = crate::pseudo::normalize_id(original);
        if let Some(number) = crate::cohort::unpadded(&id) {
            // It replaces the same text added as another kind: the zeros rule must apply.
            let t = normalize(number);
            if specific_enough(&t) {
                self.by_text.insert(t, EXCLUDED_NUMBER);
            }
        }
    }

    /// Add the folder names and file stems of input paths below their common folder (the
    /// archive root itself, e.g. `/mnt/pacs`, names no one). Folder names in hospital archives
    /// often carry names and IDs. The deepest common folder is added too when it holds a number
    /// ([`Dictionary::numbered`]): the inputs of one patient's export
    /// (`SUZUKI_ICHIRO_19600101/`) all lie below that patient's folder.
    pub fn add_input_paths<P: AsRef<std::path::Path>>(&mut self, paths: &[P]) {
        let Some(first) = paths.first() else { return };
        let mut common: Vec<std::path::Component<'_>> =
            first.as_ref().parent().map(|p| p.components().collect()).unwrap_or_default();
        for p in paths {
            let comps: Vec<_> = p.as_ref().components().collect();
            let n = common.iter().zip(&comps).take_while(|(a, b)| a == b).count();
            common.truncate(n);
        }
        if let Some(std::path::Component::Normal(c)) = common.last() {
            let mut folder = Dictionary::new();
            folder.add_path_name(c, false);
            self.extend(&folder.numbered());
        }
        for p in paths {
            self.add_path_components(p.as_ref().components().skip(common.len()));
        }
    }

    /// Add the folder names and file stems of paths relative to an input folder.
    pub fn add_relative_paths<P: AsRef<std::path::Path>>(&mut self, rels: &[P]) {
        for p in rels {
            self.add_path_components(p.as_ref().components());
        }
    }

    /// The normalised texts [`add_relative_paths`](Self::add_relative_paths) adds for one path
    /// (its folder names and file stem).
    pub fn path_texts(path: &std::path::Path) -> std::collections::HashSet<String> {
        let mut d = Dictionary::new();
        d.add_relative_paths(&[path]);
        d.by_text.into_keys().collect()
    }

    fn add_path_components<'p>(&mut self, comps: impl Iterator<Item = std::path::Component<'p>>) {
        let comps: Vec<_> = comps.collect();
        for (i, comp) in comps.iter().enumerate() {
            if let std::path::Component::Normal(c) = comp {
                self.add_path_name(c, i + 1 == comps.len());
            }
        }
    }

    /// The folder names and file stem of `path` (normalised) that name its own input only: a
    /// date alone (`20241011`, `2024-10-11`). They are not added by [`add_input_paths`](Self::add_input_paths) or
    /// [`add_relative_paths`](Self::add_relative_paths): searched in every output, a patient's
    /// date folder is found wherever another patient's shifted date happens to equal it (in an
    /// SS-MIX2 storage with a folder for nearly every day, in nearly every output). They are
    /// searched in the output of the input whose path holds them ([`Dictionary::add_own_name`]),
    /// where a real date folder left in its own output is a leak.
    pub fn own_names(path: &std::path::Path) -> Vec<String> {
        let comps: Vec<_> = path.components().collect();
        let mut names: Vec<String> = comps
            .iter()
            .enumerate()
            .filter_map(|(i, comp)| match comp {
                std::path::Component::Normal(c) => Some(normalize(&path_stem(c, i + 1 == comps.len()))),
                _ => None,
            })
            .filter(|t| is_own_name(t))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Add a name [`Dictionary::own_names`] gives: searched for in its own input's output only.
    pub fn add_own_name(&mut self, normalized: &str) {
        self.by_text.entry(normalized.to_string()).or_insert(PATH_DATE);
    }

    /// Add one folder name, or a file's stem (`file`), as it reads ([`super::path_names`]: a
    /// Shift_JIS name from a Windows share as its Japanese text). A name that is a UID (a file
    /// or folder named for its SOP Instance UID) is an original UID: [`UID`], which a release
    /// made under Retain UIDs keeps on purpose.
    fn add_path_name(&mut self, name: &std::ffi::OsStr, file: bool) {
        let stem = path_stem(name, file);
        let t = normalize(&stem);
        // An SS-MIX2 data type folder (`ADT-00`) names no one: every patient's storage has them.
        if is_own_name(&t) || is_ssmix2_data_type(&t) {
            return;
        }
        let kind = if crate::dict::is_instance_uid_text(&stem) { UID } else { PATH_COMPONENT };
        self.add(&stem, kind);
    }

    /// The input path components specific enough to search for in every text value and in
    /// kamei's own files, not only in file and folder names: those of several words
    /// (`SUZUKI_ICHIRO_19600101`, `AX T2`), in scripts other than ASCII (`山田太郎`), or with
    /// five digits or more (`PID7788123`, `0012345678`). A one-word Latin folder name (`CHEST`,
    /// `DICOM`, `YAMADA`) is an ordinary word too often to look for in every value.
    pub fn in_values(&self) -> Dictionary {
        let by_text = self
            .by_text
            .iter()
            .filter(|(t, _)| t.contains(' ') || !t.is_ascii() || t.bytes().filter(u8::is_ascii_digit).count() >= 5)
            .map(|(t, k)| (t.clone(), *k))
            .collect();
        Dictionary { by_text, ..Dictionary::default() }
    }

    /// The input path components with five digits or more (`PID7788123`,
    /// `SUZUKI_ICHIRO_19600101`): what a linkage table's paths add to every value searched.
    /// Without the inputs nothing tells a folder named for the patient (`SUZUKI_ICHIRO`) from
    /// one named for a study description the release keeps (`CT CHEST`, `胸部CT`), so only
    /// names holding an ID or a date are looked for there.
    pub fn numbered(&self) -> Dictionary {
        let by_text = self
            .by_text
            .iter()
            .filter(|(t, _)| t.bytes().filter(u8::is_ascii_digit).count() >= 5)
            .map(|(t, k)| (t.clone(), *k))
            .collect();
        Dictionary { by_text, ..Dictionary::default() }
    }

    /// The same identifiers without these normalised texts.
    pub fn without_texts(&self, texts: &std::collections::HashSet<String>) -> Dictionary {
        let by_text = self.by_text.iter().filter(|(t, _)| !texts.contains(*t)).map(|(t, k)| (t.clone(), *k)).collect();
        Dictionary {
            by_text,
            towns: self.towns.clone(),
            numbers: self.numbers.clone(),
            exam_dates: self.exam_dates.clone(),
        }
    }

    /// The identifiers specific enough to search for in every output, not only in the output of
    /// the input they came from: IDs, birth dates, names of several parts, names in scripts
    /// other than ASCII. (A single ASCII name part such as "Philips" or "Name" is searched for
    /// only in its own file's output, or a vendor name would be reported everywhere.)
    pub fn strong(&self) -> Dictionary {
        let by_text = self
            .by_text
            .iter()
            .filter(|(t, k)| {
                let name = k.starts_with("Person Name") || k.contains("Birth Name");
                let id = matches!(
                    **k,
                    "Patient ID"
                        | "Other Patient IDs"
                        | "Accession Number"
                        | "Admission ID"
                        | "Medical Record Locator"
                        | "Patient's Birth Date"
                        | "Patient ID (linkage table)"
                        | EXCLUDED_PATIENT_ID
                        | EXCLUDED_NUMBER
                );
                id || **k == UID || (name && (t.contains(' ') || !t.is_ascii()))
            })
            .map(|(t, k)| (t.clone(), *k))
            .collect();
        Dictionary { by_text, ..Dictionary::default() }
    }

    /// Add every identifier of another dictionary.
    pub fn extend(&mut self, other: &Dictionary) {
        for (t, k) in &other.by_text {
            self.by_text.entry(t.clone()).or_insert(k);
        }
        for (town, k) in &other.towns {
            if !self.towns.iter().any(|(t, _)| t == town) {
                self.towns.push((town.clone(), k));
            }
        }
        for (n, k) in &other.numbers {
            if !self.numbers.iter().any(|(x, _)| x == n) {
                self.numbers.push((n.clone(), k));
            }
        }
        for (d, k) in &other.exam_dates {
            if !self.exam_dates.iter().any(|(x, _)| x == d) {
                self.exam_dates.push((*d, k));
            }
        }
    }

    /// Build the matcher.
    pub fn matcher(&self) -> Matcher {
        let mut ids: Vec<Identifier> =
            self.by_text.iter().map(|(t, k)| Identifier { text: t.clone(), kind: k }).collect();
        ids.sort_by(|a, b| a.text.cmp(&b.text));
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(ids.iter().map(|i| i.text.as_str()))
            .expect("identifier automaton builds");
        let towns = self.towns.iter().map(|(t, k)| (t.clone(), Identifier { text: t.label(), kind: k })).collect();
        let numbers = self.numbers.iter().map(|(n, k)| Identifier { text: n.clone(), kind: k }).collect();
        let exam_dates = self
            .exam_dates
            .iter()
            .map(|(d, k)| (*d, Identifier { text: d.format("%Y%m%d").to_string(), kind: k }))
            .collect();
        Matcher { ac, ids, towns, numbers, exam_dates }
    }
}

/// Whether the digits `digits` stand in `text` as a number of their own somewhere: not inside a
/// longer number, and not part of a decimal number or a version (`V4.123456`, `0.123456`),
/// where `deid`'s safety net does not take them for an ID either ([`crate::scrub`]). Checked on
/// the text before separators are folded, which turns the decimal point into a space.
/// `zeros`: leading zeros before the digits belong to the number (`12345` stands in `0012345`).
fn stands_as_a_number(text: &str, digits: &str, zeros: bool) -> bool {
    let raw: Vec<char> = text.nfkc().filter(|&c| !crate::pseudo::is_invisible(c)).collect();
    let needle: Vec<char> = digits.chars().collect();
    let point = |c: char| c == '.' || c == ',';
    (0..raw.len().saturating_sub(needle.len() - 1)).any(|at| {
        let end = at + needle.len();
        if raw[at..end] != needle[..] {
            return false;
        }
        let mut start = at;
        while zeros && start > 0 && raw[start - 1] == '0' {
            start -= 1;
        }
        let before = start.checked_sub(1).map(|i| raw[i]);
        let after = raw.get(end).copied();
        let digit_before = before.is_some_and(|c| c.is_ascii_digit());
        let digit_after = after.is_some_and(|c| c.is_ascii_digit());
        let decimal_before = before.is_some_and(point) && start >= 2 && raw[start - 2].is_ascii_digit();
        let decimal_after = after.is_some_and(point) && raw.get(end + 1).is_some_and(|c| c.is_ascii_digit());
        !digit_before && !digit_after && !decimal_before && !decimal_after
    })
}

/// The readings of a Patient ID's bytes that the declared set `cs` does not read and `deid`
/// takes for the ID ([`crate::plan::original_patient_id`], which makes the pseudonym from it and
/// gives it to Clean): ISO-2022-JP escape sequences the set does not follow, and clearly EUC-JP
/// bytes (`１２３４５６７` from a legacy system), besides the UTF-8 and CP932 readings
/// [`CharacterSet::identifier_readings`] gives.
fn undeclared_id_readings(cs: &CharacterSet, bytes: &[u8]) -> impl Iterator<Item = String> {
    let bytes = bytes.trim_ascii_end();
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes).trim_ascii_end();
    [cs.iso2022_jp_reading(bytes, VR::LO), cs.euc_jp_reading(bytes, VR::LO)].into_iter().flatten()
}

/// Whether a value holds UIDs: a UI value (or one sent as UN whose tag the dictionary gives
/// UI), or a private value of unknown type (UN, OB) spelled as UIDs with an instance UID's
/// components ([`crate::dict::has_instance_uid_components`]), as `deid` reads an Implicit VR file's private UIDs.
fn holds_uids(tag: Tag, vr: VR, bytes: &[u8]) -> bool {
    match vr {
        VR::UI => true,
        VR::UN | VR::OB if !crate::dataset::is_private(tag) => crate::dict::known_vr(tag) == Some(VR::UI),
        VR::UN | VR::OB => {
            let text = String::from_utf8_lossy(bytes);
            let text = text.trim_matches([' ', '\0']);
            !text.is_empty()
                && text.split('\\').all(|v| crate::shown::is_uid(v) && crate::dict::has_instance_uid_components(v))
        }
        _ => false,
    }
}

/// The UIDs of one data set: instance UIDs, and those it names as a class, syntax or scheme.
#[derive(Default)]
struct Uids {
    instance: std::collections::HashSet<String>,
    registered: std::collections::HashSet<String>,
    /// The values of its class fields that are instance UIDs all the same
    /// ([`crate::class_uids::instances_in_class_fields`]), which `deid` maps.
    class_instances: std::collections::HashSet<String>,
}

impl Uids {
    /// Note each UID of a value that is specific enough to search for (see
    /// [`Dictionary::add_dataset`]).
    fn add(&mut self, tag: Tag, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        for uid in text.split('\\').map(|u| u.trim_matches([' ', '\0'])) {
            if !crate::dict::is_instance_uid_text(uid) {
                continue;
            }
            if crate::dict::names_registered_uid(tag) && !self.class_instances.contains(uid) {
                self.registered.insert(uid.to_string());
            } else {
                self.instance.insert(uid.to_string());
            }
        }
    }
}

/// Whether identifiers of `kind` are dates (a birth date, a private attribute's date): found at
/// the start of a date-time too, and wherever they stand as a number.
fn is_date(kind: Kind) -> bool {
    kind == BIRTH_DATE || kind == PRIVATE_DATE
}

/// Finds identifiers in text.
#[derive(Debug, Clone)]
pub struct Matcher {
    ac: AhoCorasick,
    ids: Vec<Identifier>,
    /// Towns of addresses, each with what a finding names it by.
    towns: Vec<(Town, Identifier)>,
    /// Phone numbers by their digits ([`Dictionary::add`]).
    numbers: Vec<Identifier>,
    /// The input's exam dates ([`Matcher::find_exam_dates`]).
    exam_dates: Vec<(chrono::NaiveDate, Identifier)>,
}

impl Matcher {
    /// What a UID component can spell of these identifiers ([`crate::uid_clues::UidClues`]):
    /// the Patient IDs, the birth dates and the exam dates. Made from an input's own matcher
    /// (small), for verify's check of kept UIDs.
    pub fn uid_clues(&self) -> crate::uid_clues::UidClues {
        use crate::uid_clues::UidClue;
        let mut clues = crate::uid_clues::UidClues::default();
        for id in &self.ids {
            if id.kind == "Patient ID" {
                clues.add_patient_id(&id.text);
            } else if id.kind == BIRTH_DATE && id.text.len() == 8 {
                clues.add_date(&id.text, UidClue::BirthDate);
            }
        }
        for (day, _) in &self.exam_dates {
            clues.add_date(&day.format("%Y%m%d").to_string(), UidClue::Date);
        }
        clues
    }

    /// What a kept private number can equal of these identifiers
    /// ([`crate::kept_reading::PatientNumbers`], as `deid`'s safety net reads numbers): the
    /// Patient IDs and the birth dates. Made from an input's own matcher.
    pub fn patient_numbers(&self) -> crate::kept_reading::PatientNumbers {
        let mut numbers = crate::kept_reading::PatientNumbers::default();
        for id in &self.ids {
            if id.kind == "Patient ID" {
                numbers.add_patient_id(&id.text);
            } else if id.kind == BIRTH_DATE {
                numbers.add_birth_date(&id.text);
            }
        }
        numbers
    }

    /// The identifiers found in `text` (normalised first), each once.
    pub fn find<'m>(&'m self, text: &str) -> Vec<&'m Identifier> {
        if self.is_empty() {
            return Vec::new();
        }
        let hay = normalize(text);
        let bytes = hay.as_bytes();
        let mut found: Vec<usize> = Vec::new();
        for m in self.ac.find_overlapping_iter(&hay) {
            let id = &self.ids[m.pattern().as_usize()];
            let word = |b: u8| b.is_ascii_alphanumeric();
            let first = id.text.as_bytes()[0];
            let last = id.text.as_bytes()[id.text.len() - 1];
            // An excluded number may have any leading zeros before it.
            let zeros = id.kind == EXCLUDED_NUMBER;
            let mut start = m.start();
            while zeros && start > 0 && bytes[start - 1] == b'0' {
                start -= 1;
            }
            let left_ok = !word(first) || start == 0 || !word(bytes[start - 1]);
            let right_ok = !word(last)
                || m.end() == bytes.len()
                || !word(bytes[m.end()])
                || (is_date(id.kind) && crate::dates::time_follows(hay[m.end()..].chars()));
            // A birth date may have a time glued on (`19850315120000`): see `right_ok`.
            let number_ok = || {
                is_date(id.kind)
                    || !id.text.bytes().all(|b| b.is_ascii_digit())
                    || stands_as_a_number(text, &id.text, zeros)
            };
            if left_ok && right_ok && !found.contains(&m.pattern().as_usize()) && number_ok() {
                found.push(m.pattern().as_usize());
            }
        }
        let mut ids: Vec<&Identifier> = found.into_iter().map(|i| &self.ids[i]).collect();
        if !self.towns.is_empty() {
            let hay = crate::addresses::compared(text);
            ids.extend(self.towns.iter().filter(|(t, _)| t.found_in(&hay)).map(|(_, id)| id));
        }
        if !self.numbers.is_empty() {
            let numbers: Vec<&str> = self.numbers.iter().map(|n| n.text.as_str()).collect();
            for i in crate::scrub::numbers_in(text, &numbers) {
                if !ids.iter().any(|x| x.text == self.numbers[i].text) {
                    ids.push(&self.numbers[i]);
                }
            }
        }
        ids
    }

    /// The input's exam dates written in `text` in any spelling [`crate::text_dates`] reads
    /// (`2024/1/2`, `02-JAN-2024`, `令和6年1月2日`, `二〇二四年一月二日`; `1月2日` where the words
    /// around it say it is a date), each once: what `deid` shifts or replaces in the text it
    /// keeps and cleans. A year and month alone (`2024年1月`, which a shift of days mostly leaves
    /// as it is) is not one. Searched in values only: the file and folder names of an input
    /// may be named for its study date on purpose ([`Matcher::found_in_dataset`]).
    pub fn find_exam_dates(&self, text: &str) -> Vec<&Identifier> {
        use crate::text_dates::{DateTreatment, Which, spans};
        if self.exam_dates.is_empty() || !text.chars().any(|c| c.is_numeric()) {
            return Vec::new();
        }
        let text: String = text.nfkc().collect();
        let mut found = Vec::new();
        for (day, id) in &self.exam_dates {
            let names_the_day = |s: &crate::text_dates::Span| {
                // A span a one-day shift writes back as it was names a month, not this day.
                let written = &text[s.start..s.end];
                let moved = spans(written, DateTreatment::Shift(-1), Which::These(std::slice::from_ref(day)));
                !matches!(moved.as_slice(), [m] if m.replacement == written)
            };
            if spans(&text, DateTreatment::Replace, Which::These(std::slice::from_ref(day))).iter().any(names_the_day) {
                found.push(id);
            }
        }
        found
    }

    /// The identifiers found in the text values of a data set (at any depth, each read in its
    /// own character set), by their normalised text. An input path component found so is
    /// explained by the input itself (a folder named for its series description, its study
    /// date or its SOP Instance UID), so finding it in the release says nothing more.
    pub fn found_in_dataset(&self, ds: &DataSet) -> std::collections::HashSet<String> {
        let mut found = std::collections::HashSet::new();
        if !self.is_empty() {
            self.find_in_level(ds, &CharacterSet::default_repertoire(), &mut found);
        }
        found
    }

    fn find_in_level(&self, ds: &DataSet, inherited: &CharacterSet, found: &mut std::collections::HashSet<String>) {
        let cs = level_charset(ds, inherited);
        for e in ds.elements() {
            match &e.value {
                Value::Sequence(seq) => {
                    for item in &seq.items {
                        self.find_in_level(&item.dataset, &cs, found);
                    }
                }
                Value::Bytes(bytes) if bytes.len() <= 1 << 16 && crate::wrong_length::is_text_vr(e.vr) => {
                    let text = cs.read(bytes, e.vr).text().replace('\\', " ");
                    found.extend(self.find(&text).into_iter().map(|id| id.text.clone()));
                }
                _ => {}
            }
        }
    }

    /// Number of identifiers searched for.
    pub fn len(&self) -> usize {
        self.ids.len() + self.towns.len() + self.numbers.len() + self.exam_dates.len()
    }

    /// Whether there are none ([`Matcher::find`] finds nothing; exam dates aside, which only
    /// [`Matcher::find_exam_dates`] looks for).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.towns.is_empty() && self.numbers.is_empty()
    }
}

/// The character set of a data set level: its own Specific Character Set when it has a
/// non-blank one (unsupported terms read as the default repertoire), else the enclosing level's.
fn level_charset(ds: &DataSet, inherited: &CharacterSet) -> CharacterSet {
    match ds.bytes(tags::SPECIFIC_CHARACTER_SET) {
        Some(raw) if !raw.iter().all(|&b| b == b' ' || b == 0) => {
            CharacterSet::from_value_lenient(raw).unwrap_or_else(|_| CharacterSet::default_repertoire())
        }
        _ => inherited.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rv32_01_an_honorific_alone_is_never_a_name() {
        let mut d = Dictionary::default();
        // `San` reads `さん` in kana: the honorific alone is not collected, the name is.
        d.add_person_name("SAN^SAMA=様^患者");
        for h in ["さん", "サン", "さま", "様", "患者"] {
            assert!(!d.contains(&normalize(h)), "{h} collected as a name");
        }
        assert!(d.contains(&normalize("SAN SAMA")));
    }

    #[test]
    fn every_spelling_clean_removes_of_a_name_or_an_address_is_found() {
        let names = [
            "MARTIN^JEAN-PIERRE=マルタン^ジャン＝ピエール",
            "Jean_Pierre Dupont",
            "Kim Eun-Ji",
            "林^花",
            "MÜLLER^JOSÉ",
            "ヤマダ^タロウ",
            "Mary Ann Smith",
        ];
        let addresses = [
            "〒422-8033 静岡県静岡市駿河区登呂１−３−５ 登呂ハイツ202",
            "北海道札幌市中央区南3条西4丁目12-5",
            "北海道旭川市4条通8丁目1-2",
            "神奈川県横浜市緑区緑1-2-3",
            "2-11-15 Chuo, Chuo-ku, Sagamihara",
        ];
        // What `deid` gives Clean for a Person Name and a Patient's Address (plan.rs).
        let mut clean = crate::scrub::Identifiers::new();
        let mut d = Dictionary::new();
        for n in names {
            clean.add_person_name(n);
            d.add_person_name(n);
        }
        for a in addresses {
            clean.add_id(a);
            for code in crate::addresses::postal_codes(a) {
                clean.add_id(&code);
            }
            for part in crate::addresses::municipalities(a) {
                clean.add(&part);
            }
            clean.add_street_address(a);
            d.add_address(a, PATIENT_ADDRESS);
        }
        let m = d.matcher();
        for t in [
            "seen by JeanPierre",
            "ジャンピエールさん来院",
            "ジャン ピエールさん",
            "DupontJeanPierre",
            "seen by EunJi",
            "seen by KimEunJi",
            "林様来院",
            "花さん",
            "Dr MUELLER",
            "やまだ たろう",
            "MaryAnn called",
            "SmithMaryAnn",
            "自宅 登呂一丁目三番五号",
            "自宅 登呂1丁目3番5号",
            "駿河区登呂1-3-5",
            "登呂ハイツ202号室",
            "南三条西四丁目12番5号",
            "四条通八丁目1番2号",
            "緑１丁目２番３号",
            "at Chuo 2-chome 11-15",
            "at Chuo2-11-15",
            "駿河区",
            "zip 4228033",
        ] {
            assert!(clean.scrub(t).is_some(), "Clean removes something of {t}");
            assert!(!m.find(t).is_empty(), "verify finds {t}");
        }
        assert!(m.find("登呂遺跡 見学 緑色の痰 中央静脈").is_empty(), "a town alone is no finding");
    }

    #[test]
    fn an_id_is_found_with_its_prefix_split_off_or_left_out() {
        let mut d = Dictionary::new();
        d.add("PID7788123", "Patient ID");
        let m = d.matcher();
        for t in ["ref PID 7788123", "ref PID-7788123", "ref 7788123"] {
            assert!(!m.find(t).is_empty(), "{t}");
        }
        assert!(m.find("ref 77881234").is_empty());
        let mut runs = Dictionary::new();
        runs.add("AB12CD345678", "Patient ID");
        assert!(!runs.matcher().find("ref AB-12-CD-345678").is_empty(), "runs split apart");
    }

    #[test]
    fn rv12_02_an_excluded_patients_id_is_looked_for_in_every_spelling_a_linkage_id_is() {
        let mut excluded = Dictionary::new();
        excluded.add_excluded_patient_id("0001234567");
        let mut linked = Dictionary::new();
        linked.add_patient_id("0001234567");
        let (e, l) = (excluded.strong().matcher(), linked.strong().matcher());
        for t in ["referred from 1234567", "ref １２３４５６７", "ref 0001234567"] {
            assert_eq!(e.find(t).is_empty(), l.find(t).is_empty(), "{t}");
            assert!(!e.find(t).is_empty(), "{t}");
        }
        let mut prefixed = Dictionary::new();
        prefixed.add_excluded_patient_id("PID7788123");
        assert!(!prefixed.matcher().find("ref 7788123").is_empty());
    }

    #[test]
    fn an_excluded_number_is_found_with_any_leading_zeros() {
        for listed in ["12345", "0012345", "１２３４５"] {
            let mut d = Dictionary::new();
            d.add_excluded_patient_id(listed);
            let m = d.strong().matcher();
            for t in ["ref 12345", "ref 0012345", "ref 000000012345.", "ID:012345"] {
                assert!(!m.find(t).is_empty(), "{listed} in {t}");
            }
            for t in ["ref 112345", "ref 123456", "ref 1012345", "0.0012345 mm", "V4.012345"] {
                assert!(m.find(t).is_empty(), "{listed} in {t}");
            }
        }
    }

    #[test]
    fn the_digits_of_an_id_inside_a_decimal_or_a_version_are_no_finding() {
        let mut d = Dictionary::new();
        d.add("0000123456", "Patient ID");
        let m = d.matcher();
        assert!(m.find("software V4.123456").is_empty());
        assert!(m.find("0.123456 mm").is_empty());
        assert!(!m.find("ref 123456.").is_empty(), "a full stop ends a sentence");
        assert!(!m.find("ID 123456").is_empty());
    }

    #[test]
    fn a_name_is_found_without_its_accents() {
        let mut d = Dictionary::new();
        d.add_person_name("MÜLLER^JOSÉ");
        let m = d.matcher();
        assert!(!m.find("seen by Muller Jose").is_empty());
        assert!(!m.find("Müller").is_empty());
        let mut kana = Dictionary::new();
        kana.add_person_name("ジロウ^タロウ");
        assert!(kana.matcher().find("シロウ").is_empty(), "voicing marks are not accents");
    }

    #[test]
    fn finds_each_name_group_and_component() {
        let mut d = Dictionary::new();
        d.add_person_name("Yamada^Tarou=山田^太郎=やまだ^たろう");
        let m = d.matcher();
        assert_eq!(m.find("report for 山田")[0].kind, "Person Name (ideographic)");
        assert_eq!(m.find("YAMADA TAROU")[0].kind, "Person Name (alphabetic)");
        assert!(!m.find("ｙａｍａｄａ").is_empty(), "full-width is normalised");
        assert!(m.find("Yamadax").is_empty(), "ASCII needs whole words");
    }

    #[test]
    fn short_and_generic_values_are_left_out() {
        let mut d = Dictionary::new();
        d.add("AB", "x");
        d.add("1234", "x");
        d.add("ANONYMIZED", "x");
        d.add("山", "x");
        assert!(d.is_empty());
        d.add("0.000000", "x");
        d.add("11111", "x");
        assert!(d.is_empty());
        d.add("12345", "x");
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn birth_date_spellings() {
        let mut d = Dictionary::new();
        d.add_birth_date("19850315");
        let m = d.matcher();
        assert!(!m.find("born 1985/3/15").is_empty());
        assert!(!m.find("1985年3月15日").is_empty());
        assert!(m.find("19850316").is_empty());
        assert!(!m.find("DOB 19850315120000").is_empty(), "a date-time holds the birth date");
        assert!(!m.find("1985-03-15T12:00").is_empty());
        assert!(!m.find("昭和60年3月15日").is_empty());
        assert!(m.find("198503151").is_empty());
    }

    #[test]
    fn birth_date_spellings_with_english_month_names_and_without_zeros() {
        let mut d = Dictionary::new();
        d.add_birth_date("19850315");
        let m = d.matcher();
        for t in ["DOB 15-MAR-1985", "15MAR1985", "Mar 15, 1985", "march 15 1985", "1985-Mar-15", "1985.3.15"] {
            assert!(!m.find(t).is_empty(), "{t}");
        }
        assert!(m.find("15MAR19851").is_empty());
    }

    #[test]
    fn input_paths_contribute_folder_names_below_the_archive_root() {
        let mut d = Dictionary::new();
        d.add_input_paths(&["/archive/YAMADA_TARO/CT/img001.dcm", "/archive/SATO_HANAKO/MR/img002.dcm"]);
        let m = d.matcher();
        assert!(!m.find("YAMADA_TARO").is_empty());
        assert!(m.find("archive").is_empty(), "the common root names no one");
    }

    #[cfg(unix)]
    #[test]
    fn rv21_12_a_shift_jis_input_folder_name_is_searched_for_as_its_japanese_text() {
        use std::os::unix::ffi::OsStrExt;
        let mut rel = encoding_rs::SHIFT_JIS.encode("山田太郎").0.into_owned();
        rel.extend_from_slice(b"/a.dcm");
        let mut d = Dictionary::new();
        d.add_relative_paths(&[std::path::Path::new(std::ffi::OsStr::from_bytes(&rel))]);
        assert!(!d.matcher().find("山田太郎").is_empty());
        assert!(!d.in_values().matcher().find("山田太郎").is_empty(), "a non-Latin name is searched in values");
    }

    #[test]
    fn rv21_06_path_components_searched_in_values_are_the_specific_ones() {
        let mut d = Dictionary::new();
        d.add_relative_paths(&["SUZUKI_ICHIRO_19600101/CHEST/a.dcm", "SATO_HANAKO/b.dcm"]);
        let values = d.in_values().matcher();
        assert!(!values.find("SUZUKI_ICHIRO_19600101").is_empty());
        assert!(!values.find("Sato Hanako").is_empty());
        assert!(values.find("CHEST").is_empty(), "a one-word Latin folder name is an ordinary word");
        let numbered = d.numbered().matcher();
        assert!(!numbered.find("SUZUKI_ICHIRO_19600101").is_empty());
        assert!(numbered.find("Sato Hanako").is_empty(), "without the inputs it may be a kept description");
    }

    #[test]
    fn rv35_a_date_folder_names_its_own_input_only_and_a_data_type_folder_no_one() {
        let mut d = Dictionary::new();
        d.add_input_paths(&[
            "ss/123/456/1234567/20241011/OML-11/1234567_20241011_OML-11_1",
            "ss/234/567/2345678/2024-10-12/ADT-00/2345678_x",
        ]);
        let m = d.matcher();
        assert!(m.find("20241011").is_empty() && m.find("2024-10-12").is_empty(), "searched in its own output only");
        assert!(m.find("ADT-00").is_empty() && m.find("OML-11").is_empty());
        assert!(!m.find("1234567").is_empty(), "an ID in a path is searched everywhere");
        let path = std::path::Path::new("ss/123/456/1234567/20241011/OML-11/1234567_20241011_OML-11_1");
        assert_eq!(Dictionary::own_names(path), ["20241011"]);
        let mut own = Dictionary::new();
        own.add_own_name("20241011");
        assert_eq!(own.matcher().find("OBX|1|DT|X||20241011").len(), 1);
    }

    #[test]
    fn rv21_06_the_folder_all_inputs_of_a_linkage_table_share_counts_when_it_holds_a_number() {
        let mut d = Dictionary::new();
        d.add_input_paths(&["in/SUZUKI_ICHIRO_19600101/1.dcm"]);
        assert!(!d.matcher().find("SUZUKI_ICHIRO_19600101").is_empty());
        let mut d = Dictionary::new();
        d.add_input_paths(&["/mnt/pacs_export/a/1.dcm", "/mnt/pacs_export/b/2.dcm"]);
        assert!(d.matcher().find("pacs_export").is_empty());
    }

    #[test]
    fn a_name_is_found_whatever_joins_its_parts_and_in_either_order() {
        let mut d = Dictionary::new();
        d.add_person_name("YAMADA^TARO");
        let m = d.matcher();
        let strong = d.strong().matcher();
        for text in ["YAMADA^TARO", "Yamada_Taro.dcm", "yamada-taro", "YAMADA, TARO", "Taro YAMADA"] {
            assert!(!m.find(text).is_empty(), "{text}");
            assert!(!strong.find(text).is_empty(), "{text} is strong: searched in every output");
        }
        assert!(!m.find("TaroYamada").is_empty(), "run together: searched in its own output");
    }

    #[test]
    fn an_id_is_found_without_its_padding_or_separators() {
        let mut d = Dictionary::new();
        d.add("0001234567", "Patient ID");
        d.add("PID-CANARY-123", "Patient ID");
        let m = d.strong().matcher();
        assert!(!m.find("ID 1234567 check").is_empty());
        assert!(!m.find("カルテ 001234567").is_empty());
        assert!(!m.find("PIDCANARY123").is_empty());
        assert!(m.find("12345678").is_empty());
    }

    #[test]
    fn a_six_digit_birth_date_is_searched_only_in_its_own_output() {
        let mut d = Dictionary::new();
        d.add_birth_date("19850315");
        assert!(!d.matcher().find("born 850315").is_empty());
        assert!(d.strong().matcher().find("born 850315").is_empty());
    }

    #[test]
    fn a_shift_jis_patient_id_is_also_searched_for_as_deid_reads_it() {
        // `１２３４５６７` in Shift_JIS under ISO_IR 100: deid reads it as CP932 (1234567).
        let ds = DataSet::from_elements([
            crate::dataset::Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"ISO_IR 100".to_vec()),
            crate::dataset::Element::new(tags::PATIENT_ID, VR::LO, b"\x82P\x82Q\x82R\x82S\x82T\x82U\x82V ".to_vec()),
        ]);
        let mut d = Dictionary::new();
        d.add_dataset(&ds);
        assert!(!d.matcher().find("kept note: 1234567").is_empty());
        assert!(!d.matcher().find("kept note: １２３４５６７").is_empty());
    }

    /// The identifiers of a data set holding these Person Names (no (0008,0005) unless given).
    fn names_of(charset: Option<&[u8]>, pn: &[u8]) -> Dictionary {
        let mut elements = vec![crate::dataset::Element::new(tags::PATIENT_NAME, VR::PN, pn.to_vec())];
        if let Some(cs) = charset {
            elements.push(crate::dataset::Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, cs.to_vec()));
        }
        let mut d = Dictionary::new();
        d.add_dataset(&DataSet::from_elements(elements));
        d
    }

    #[test]
    fn rv18_04_06_a_shift_jis_name_without_its_set_is_read_as_deid_reads_it() {
        let sjis = |s: &str| encoding_rs::SHIFT_JIS.encode(s).0.into_owned();
        let read = |bytes: &[u8]| CharacterSet::default_repertoire().read(bytes, VR::LT).text().to_string();
        let d = names_of(None, &sjis("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎"));
        assert!(!d.matcher().find(&read(&sjis("ﾔﾏﾀﾞ ﾀﾛｳ"))).is_empty());
        assert!(!d.matcher().find(&read(&sjis("検査 山田"))).is_empty());
        // Bytes valid in neither set are compared byte for byte: the name's bytes are found,
        // another word whose trail bytes are the same (審慶 of 山田's 8E52 9363: 9052 8C63) is not.
        assert!(!d.matcher().find(&read(&[&sjis("山田")[..], b"\x80"].concat())).is_empty());
        let d = names_of(None, &sjis("山田^太郎"));
        assert!(d.matcher().find(&read(&sjis("審慶版"))).is_empty());
        assert!(d.matcher().find(&read(&[&sjis("審慶版")[..], b"\x80"].concat())).is_empty());
    }

    #[test]
    fn rv18_08_a_greek_name_is_found_in_lower_case_with_final_sigma() {
        let d = names_of(Some(b"ISO_IR 126"), &encoding_rs::ISO_8859_7.encode("ΠΑΠΑΔΟΠΟΥΛΟΣ^ΝΙΚΟΣ").0);
        assert!(!d.matcher().find("Παπαδοπουλος Νικος").is_empty());
        assert!(!d.matcher().find("κ. Παπαδοπουλος").is_empty());
        assert_eq!(normalize("ΝΙΚΟΣ Νικος νικοσ"), "νικοσ νικοσ νικοσ");
    }

    #[test]
    fn an_instance_uid_is_an_identifier_wherever_it_is_written() {
        let study = "1.2.826.0.1.3680043.8.498.5";
        let referenced = "1.2.826.0.1.3680043.8.498.9.1";
        let ds = DataSet::from_elements([
            crate::dataset::Element::new(tags::STUDY_INSTANCE_UID, VR::UI, format!("{study}\0").into_bytes()),
            crate::dataset::Element::new(tags::FRAME_OF_REFERENCE_UID, VR::UI, referenced.as_bytes().to_vec()),
        ]);
        let mut d = Dictionary::new();
        d.add_dataset(&ds);
        let m = d.strong().matcher();
        let found = m.find(&format!("prior study {study} reviewed"));
        assert_eq!(found.iter().map(|i| i.kind).collect::<Vec<_>>(), [UID], "searched in every output");
        assert!(!m.find(referenced).is_empty(), "as a UI value too");
        assert!(m.find("prior study 2.25.1234567890123456789").is_empty());
        assert!(d.without(&[UID]).matcher().find(study).is_empty(), "Retain UIDs keeps them");
    }

    #[test]
    fn a_uid_the_input_names_as_a_class_or_a_short_or_dicom_uid_is_not_an_identifier() {
        let vendor_class = "1.2.840.113619.4.26";
        let ds = DataSet::from_elements([
            crate::dataset::Element::new(tags::SOP_CLASS_UID, VR::UI, format!("{vendor_class}\0").into_bytes()),
            crate::dataset::Element::new(tags::SOP_INSTANCE_UID, VR::UI, b"1.2.3.4".to_vec()),
            crate::dataset::Element::new(Tag(0x0009, 0x1001), VR::UI, vendor_class.as_bytes().to_vec()),
            crate::dataset::Element::new(Tag(0x0009, 0x1002), VR::UI, b"1.2.840.10008.5.1.4.1.1.2".to_vec()),
        ]);
        let mut d = Dictionary::new();
        d.add_dataset(&ds);
        assert!(d.is_empty(), "{:?}", d.by_text);
    }

    #[test]
    fn a_private_value_of_unknown_type_spelled_as_uids_holds_identifiers() {
        let uid = "1.2.826.0.1.3680043.8.498.77";
        let ds = DataSet::from_elements([crate::dataset::Element::new(
            Tag(0x0009, 0x1001),
            VR::UN,
            format!("{uid}\0").into_bytes(),
        )]);
        let mut d = Dictionary::new();
        d.add_dataset(&ds);
        assert!(!d.matcher().find(uid).is_empty());
    }

    /// The identifiers of a data set holding these elements.
    fn of(elements: Vec<crate::dataset::Element>) -> Dictionary {
        let mut d = Dictionary::new();
        d.add_dataset(&DataSet::from_elements(elements));
        d
    }

    #[test]
    fn a_patient_id_in_euc_jp_or_iso_2022_jp_bytes_is_searched_for_as_deid_reads_it() {
        // `１２３４５６７` in EUC-JP, and in JIS X 0208 after `ESC $ B`, in files declaring no set.
        let euc = b"\xa3\xb1\xa3\xb2\xa3\xb3\xa3\xb4\xa3\xb5\xa3\xb6\xa3\xb7 ".to_vec();
        let jis = b"\x1b$B#1#2#3#4#5#6#7\x1b(B ".to_vec();
        for bytes in [euc, jis] {
            let d = of(vec![crate::dataset::Element::new(tags::PATIENT_ID, VR::LO, bytes)]);
            let m = d.matcher();
            assert_eq!(m.find("ref 1234567").iter().map(|i| i.kind).collect::<Vec<_>>(), ["Patient ID"]);
            assert!(!d.strong().matcher().find("ref １２３４５６７").is_empty(), "searched in every output");
        }
    }

    #[test]
    fn an_id_in_hl7_cx_form_is_searched_for_by_its_id_part() {
        let mut d = Dictionary::new();
        d.add("38271^^^HOSPA^MR", "Patient ID");
        let m = d.strong().matcher();
        assert!(!m.find("ref 38271").is_empty());
        assert!(m.find("ref 382710").is_empty());
        let mut other = Dictionary::new();
        other.add("AB^12", "Patient ID");
        assert!(other.matcher().find("ref ab").is_empty(), "a value merely holding `^` is no CX form");
    }

    #[test]
    fn an_id_is_searched_for_in_the_spellings_normalize_id_accepts() {
        let mut d = Dictionary::new();
        d.add("7654\u{200B}321", "Patient ID");
        d.add("０００９８７６５４３", "Patient ID");
        d.add("２０２４－０００１２３", "Accession Number");
        let m = d.matcher();
        for t in ["ref 7654321", "ref 76543\u{200B}21", "ref 9876543", "ref 0009876543", "ref 2024-000123"] {
            assert!(!m.find(t).is_empty(), "{t:?}");
        }
    }

    #[test]
    fn a_phone_number_is_found_in_its_international_form_and_in_telecom_information() {
        let phone =
            of(vec![crate::dataset::Element::new(tags::PATIENT_TELEPHONE_NUMBERS, VR::SH, b"03-1234-5678".to_vec())]);
        let telecom = of(vec![crate::dataset::Element::new(
            tags::PATIENT_TELECOM_INFORMATION,
            VR::LT,
            b"tel:03-1234-5678".to_vec(),
        )]);
        for d in [phone, telecom] {
            let m = d.matcher();
            for t in ["call +81-3-1234-5678", "tel (03)1234-5678", "TEL ０３－１２３４－５６７８", "+81312345678"]
            {
                assert!(!m.find(t).is_empty(), "{t}");
            }
            for t in ["0.0312345678", "1031234567800", "03-1234-5679"] {
                assert!(m.find(t).is_empty(), "{t}");
            }
        }
    }

    #[test]
    fn the_exam_dates_are_found_in_every_spelling_text_dates_reads() {
        let d = of(vec![
            crate::dataset::Element::new(tags::STUDY_DATE, VR::DA, b"20240102".to_vec()),
            crate::dataset::Element::new(tags::CONTENT_DATE, VR::DA, b"20240105".to_vec()),
            crate::dataset::Element::new(tags::SERIES_DATE, VR::DA, b"20240102".to_vec()),
        ]);
        let m = d.matcher();
        for (t, kind) in [
            ("follow-up of 2024/1/2", "Study Date"),
            ("seen 02-JAN-2024", "Study Date"),
            ("令和6年1月2日 撮影", "Study Date"),
            ("二〇二四年一月二日", "Study Date"),
            ("Thorax_20240102", "Study Date"),
            ("report ２０２４-０１-０５", "Content Date"),
        ] {
            assert_eq!(m.find_exam_dates(t).iter().map(|i| i.kind).collect::<Vec<_>>(), [kind], "{t}");
        }
        for t in ["2024年1月 follow-up", "2024/1/3", "1202401023"] {
            assert!(m.find_exam_dates(t).is_empty(), "{t}");
        }
        assert!(m.find("seen 2024/1/2").is_empty(), "only find_exam_dates looks for them");
        assert!(d.strong().matcher().find_exam_dates("2024/1/2").is_empty(), "only in their own output");
        assert!(d.without(&EXAM_DATE_KINDS).matcher().find_exam_dates("2024/1/2").is_empty());
    }

    #[test]
    fn a_word_the_input_uses_as_a_code_or_its_manufacturer_is_not_an_identifier() {
        let ds = DataSet::from_elements([
            crate::dataset::Element::new(tags::IMAGE_TYPE, VR::CS, b"ORIGINAL\\PRIMARY\\PERFUSION ".to_vec()),
            crate::dataset::Element::new(tags::MANUFACTURER, VR::LO, b"TOSHIBA ".to_vec()),
            crate::dataset::Element::new(tags::INSTITUTION_NAME, VR::LO, b"TOSHIBA ".to_vec()),
            crate::dataset::Element::new(tags::PATIENT_NAME, VR::PN, b"Perfusion^Test Case".to_vec()),
            crate::dataset::Element::new(tags::PATIENT_ID, VR::LO, b"PERFUSION1".to_vec()),
        ]);
        let mut d = Dictionary::new();
        d.add_dataset(&ds);
        let m = d.matcher();
        assert!(m.find("PERFUSION").is_empty() && m.find("TOSHIBA").is_empty());
        assert!(!m.find("Perfusion Test Case").is_empty(), "names of several words always count");
        assert!(!m.find("PERFUSION1").is_empty(), "IDs always count");
    }
}
