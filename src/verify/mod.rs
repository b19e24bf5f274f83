//! `kamei verify`: check a release independently of the code that produced it.
//!
//! Three kinds of check over every file of an output folder:
//!
//! - **Conformance**: every attribute is allowed by the profile and options (nothing the profile
//!   removes is present, what it empties is empty, UIDs it replaces or does not list are `2.25`
//!   UIDs (or DICOM-defined ones), and so are kept private values of unknown type (UN, OB)
//!   that are UIDs, Patient ID and Name are pseudonyms, private attributes only
//!   where allowed); the de-identification
//!   markers are present and name the options used; the file meta agrees with the data set and
//!   carries no source AE title; the preamble is zero.
//! - **Residual identifiers**: a [`Dictionary`] of the original identifying values (from the
//!   inputs with `--against`, or the linkage table) is searched in every text value of every
//!   output (decoded in its own character set, inside sequences and private attributes), in
//!   every file and folder name, and in kamei's own files (audit, settings); an input's exam
//!   dates are searched in its own output's text ([`Matcher::find_exam_dates`]) unless the
//!   release keeps real dates.
//! - **Pixels**: images whose header says they carry burned-in text, or that usually carry it
//!   (annotated modality or SOP class) and were not cleaned (no 113101 code); compressed frames
//!   that still carry metadata segments (EXIF, comments, thumbnails: [`crate::stream_metadata`]).
//!
//! The verifier shares with `deid` only specifications (the profile: what is allowed;
//! [`crate::annotated`]: which images usually carry burned-in text; the spellings of names,
//! addresses, IDs and dates that Clean removes: [`crate::names`], [`crate::addresses`],
//! [`crate::ids`], [`crate::pseudo::normalize_id`], [`crate::dates::common_spellings`], the
//! date rules of [`crate::text_dates`]), the reader and the character set decoder (an ID in
//! EUC-JP or ISO-2022-JP bytes read as `deid` reads it; a town with its house number is found by
//! [`crate::addresses::Town`] itself, and a phone number by its digits with
//! [`crate::scrub::numbers_in`], on text compared as Clean compares it), and, for
//! `--exclude-patients`, who an image's patient is: the original Patient ID and Other Patient
//! IDs as `deid` reads them ([`crate::plan::original_patient_id`],
//! [`crate::plan::other_patient_ids`]) and the opt-out decision itself
//! ([`crate::cohort::Cohort::admit_image`]), so that verify looks for exactly the files `deid`
//! leaves out; it does not use the rest of the planner, the scrubber's
//! [`crate::scrub::Identifiers`] or the pseudonymizer. Findings name file, tag path and the kind of identifier; the matched value
//! itself goes only into the `--report` file, which is as sensitive as the linkage table.

mod class_fields;
mod dictionary;
mod documents;
mod kept_uids;
mod key_file;
mod left_superseded;
mod output_hash;
mod own_markers;
pub mod path_names;

pub use dictionary::{Compact, Dictionary, IDENTIFYING, Identifier, Matcher, PRIVATE_DATE, normalize};

use crate::annotated::BurnedInValue;
use crate::charset::CharacterSet;
use crate::dataset::{DataSet, Tag, VR, Value, is_private, is_private_creator, private_creator_tag, tag_str};
use crate::profile::{Action, Conditional, DeidOption, RuleSet, RuleSource, method_code};
use crate::read::{self, Opened, ReadOptions};
use dicom_dictionary_std::tags;
use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// An attribute the profile removes is present.
    NotAllowed,
    /// An attribute the profile empties has a value.
    NotEmpty,
    /// A value does not have the form the profile requires (a UID not replaced, a Patient ID
    /// that is not a pseudonym).
    NotReplaced,
    /// A private attribute the profile does not allow.
    PrivateNotAllowed,
    /// A de-identification marker is missing or wrong.
    Marker,
    /// The file meta is inconsistent or identifying.
    Meta,
    /// An original identifier was found.
    ResidualIdentifier,
    /// The image carries or may carry burned-in text and was not cleaned.
    PixelsNotCleaned,
    /// Native pixel data has samples with bits set outside Bits Stored (an overlay or text
    /// drawn in the unused high bits), which a viewer that ignores Bits Stored shows.
    PixelHighBits,
    /// Compressed pixel data carries metadata segments (JPEG APPn other than JFIF without a
    /// thumbnail, Adobe or the JPEG-LS colour transform; JPEG COM; JPEG 2000 COM; JP2 boxes
    /// such as `xml `), which can hold the patient's name, ID and dates, or cannot be parsed
    /// and may carry them ([`crate::stream_metadata`]).
    StreamMetadata,
    /// A text value holds bytes its VR does not allow (a NUL before its end, a control
    /// character): a wrong length may have run it over the elements after it, whose values
    /// (the patient's name) it then carries where nothing looks for them
    /// ([`crate::wrong_length`]).
    DamagedValue,
    /// An output is not whole: an image without pixel data (cut before its pixels, which
    /// still parses), pixel data that is not its input's (another length, or none, where the
    /// pixels were not cleaned), or a size other than the audit log records for it. A release
    /// cut or damaged in copying after the run.
    DamagedOutput,
    /// An output's bytes are not those `deid` wrote: its SHA-256 is not the one its audit
    /// record holds, though its size is ([`crate::audit::AuditRecord::output_sha256`]). A
    /// flipped byte, a block of zeros a disk error left, or a value edited after the run.
    ChangedOutput,
    /// Outputs of one input path that each hold a different content it had: a `--shard` run
    /// wrote the path's new content and could not remove the output of the old one, so one of
    /// them is stale (a whole run removes it, [`crate::supersede`]).
    SupersededOutput,
    /// The output cannot be read.
    Unreadable,
    /// A temporary file of an interrupted run is still in the output folder.
    Unfinished,
    /// An input given with `--against` has no record in the release's audit log (or there is
    /// no audit log): the run did not finish, or did not include it.
    NotProcessed,
    /// An output the audit log records as written is not in the release.
    MissingOutput,
    /// A line of an audit log cannot be read (not UTF-8, or not an audit record: a power cut
    /// or a disk error in the middle of a write), or the log cannot be read at all: what it
    /// recorded is unknown, so the checks that rest on the log (which input each output came
    /// from, which outputs must be there) are incomplete.
    DamagedAuditLog,
    /// Outputs of different output folders of the release hold one SOP Instance UID: outputs of
    /// separate runs released together.
    SharedInstance,
    /// An entry of the release is neither a regular file nor a folder (a symbolic link, a FIFO,
    /// a socket, a device): verify does not follow or read it, and a transfer that follows
    /// links (`zip -r`, `cp -rL`, `rsync -L`) ships whatever it points to, an original included.
    NotRegular,
    /// A file of the release is a kamei linkage table (it starts with the table's header): the
    /// re-identification table, which must never leave the hospital, copied into the release.
    /// Found by its header alone, with or without `--against` / `--linkage`.
    LinkageTable,
    /// A file of the release holds a pseudonymization key: the one given with `--key` (raw or
    /// hex, under any name), or, without `--key`, a file named `*.key` that holds a key. With it
    /// every pseudonym, UID and date shift can be recomputed.
    KeyFile,
    /// An output keeps an Encapsulated Document (0042,0011: a PDF or CDA report), which kamei
    /// neither reads nor cleans, and none of the identifiers verify knows was found in its
    /// readable text (`verify/documents.rs`): a warning to review the document, whose text often holds
    /// the patient's name, ID and dates. One found is a `residual-identifier` instead.
    KeptDocument,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// The file, relative to the output folder (`/` separators), with any folder or file name
    /// that holds an identifier shown as `***` (the real path is in `path`).
    pub file: String,
    /// Where in it: a tag path like `(0040,A730)[0]/(0040,A160)`, `file name`, `folder name`
    /// (an empty folder), an HL7 message's field and segment (`PID-5 (segment 2)`, or `segment
    /// N`), or `line N`.
    pub location: String,
    /// What kind of problem.
    pub kind: FindingKind,
    /// Description without any value (safe to print). Most details are fixed texts, held
    /// without a copy of their own: a release of a million outputs each with a finding (its
    /// pixels not cleaned) holds a million of them.
    pub detail: Cow<'static, str>,
    /// The original identifier that matched (sensitive: only in the `--report` file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
    /// The file's real path when `file` had to be masked because the path itself holds an
    /// identifier (sensitive: only in the `--report` file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The original identifying values a release is checked against.
#[derive(Debug, Default)]
pub struct Originals {
    /// Identifiers of each input, by content hash (lower-case hex): searched for in the output
    /// made from that input (the audit log maps outputs to inputs).
    pub per_input: HashMap<String, Compact>,
    /// Identifiers searched for in every output and in kamei's own files: the strong ones of
    /// every input ([`Dictionary::strong`]) and the linkage table's Patient IDs.
    pub global: Dictionary,
    /// Input folder names and file stems: searched for in output file and folder names.
    pub paths: Dictionary,
    /// Input folder names and file stems a clinical command kept on purpose (names a `file`
    /// row's input and its own output share): not looked for in the names of a clinical output.
    pub kept_names: HashSet<String>,
    /// The names on each input's own path, by the input's content hash (`--against`): see
    /// [`PathNames`].
    pub input_names: HashMap<[u8; 32], PathNames>,
    /// The names on the input path of each `file` row of a linkage table, by the output path
    /// the row names (relative to its output folder): see [`PathNames`].
    pub output_names: HashMap<String, PathNames>,
    /// The content hash of every input given with `--against`, DICOM or not (an SS-MIX2
    /// message, a CSV export): each must have a record in the audit log (`not-processed`).
    pub inputs: HashSet<[u8; 32]>,
    /// The pixel data of each input that has some, by content hash: its own output must have
    /// pixel data of the same length unless it was cleaned ([`PixelsOf`]), so an output cut
    /// or damaged after the run is caught.
    pub input_pixels: HashMap<[u8; 32], PixelsOf>,
    /// The patients the inputs and the linkage table name, by original Patient ID (as `deid`
    /// reads it, [`crate::plan::original_patient_id`]): what `verify --exclude-patients` needs
    /// to ask the opt-out register what `deid` asks of an image
    /// ([`crate::cohort::Cohort::admit_image`]): a Patient ID holding several values, or an
    /// image whose Other Patient IDs name a listed patient, is that patient's.
    pub patients: BTreeMap<String, KnownPatient>,
}

/// The names on one input's path that are looked for in its own output only.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PathNames {
    /// Names that name this input only ([`Dictionary::own_names`]: a date folder, an SS-MIX2
    /// data type folder): searched for in its own output's values and names, where a real date
    /// folder is a leak; anywhere else they would be found wherever another patient's shifted
    /// date happens to equal them.
    pub own: Box<[Box<str>]>,
    /// Its folder names and file stem with fewer than five digits (no ID nor date), normalised
    /// (`--against` only): those its own output's path holds too were kept on purpose by a
    /// clinical command (`labs.csv`), as a linkage table's `file` row shows them
    /// ([`Originals::kept_names`]), and are not looked for in a clinical output's names.
    pub short: Box<[Box<str>]>,
}

impl PathNames {
    /// The names of an input's path (relative to its INPUT, or as a linkage row names it);
    /// `short` only when asked (`--against`: a linkage table has its `file` rows instead).
    fn of(path: &Path, short: bool) -> PathNames {
        let own = Dictionary::own_names(path).into_iter().map(String::into_boxed_str).collect();
        let short = if short {
            let mut v: Vec<Box<str>> = Dictionary::path_texts(path)
                .into_iter()
                .filter(|t| t.bytes().filter(u8::is_ascii_digit).count() < 5)
                .map(String::into_boxed_str)
                .collect();
            v.sort();
            v.into_boxed_slice()
        } else {
            Box::default()
        };
        PathNames { own, short }
    }

    /// Whether there is nothing to hold.
    fn is_empty(&self) -> bool {
        self.own.is_empty() && self.short.is_empty()
    }

    /// The names that name this input only, or `None` when there are none.
    fn own_dictionary(&self) -> Option<Dictionary> {
        if self.own.is_empty() {
            return None;
        }
        let mut d = Dictionary::new();
        for name in &self.own {
            d.add_own_name(name);
        }
        Some(d)
    }
}

/// What the inputs and the linkage table say of one patient (see [`Originals::patients`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KnownPatient {
    /// The other IDs the patient's inputs give (Other Patient IDs and its sequence,
    /// [`crate::plan::other_patient_ids`]).
    pub other_ids: BTreeSet<String>,
    /// The pseudonyms the linkage table's `patient` rows record for this ID.
    pub pseudonyms: BTreeSet<String>,
}

/// What an input's pixel data is, as its output must keep it when the pixels were not
/// cleaned: `deid` copies pixel data through (native data keeps its length; compressed frames
/// lose their metadata segments, [`crate::stream_metadata`], so only their presence is
/// compared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelsOf {
    /// Native pixel data in this attribute, of this many bytes.
    Native(Tag, u64),
    /// Compressed (encapsulated) pixel data.
    Encapsulated,
}

impl PixelsOf {
    /// The pixel data of a data set (the first of Pixel Data, Float and Double Float Pixel
    /// Data it has), or `None`.
    pub fn of(ds: &DataSet) -> Option<PixelsOf> {
        crate::annotated::PIXEL_DATA_TAGS.iter().find_map(|t| {
            let e = ds.get(*t)?;
            Some(match &e.value {
                Value::Fragments(_) => PixelsOf::Encapsulated,
                Value::Deferred(d) if d.encapsulated => PixelsOf::Encapsulated,
                Value::Deferred(d) => PixelsOf::Native(*t, d.length),
                v => PixelsOf::Native(*t, v.bytes().map_or(0, |b| b.len() as u64)),
            })
        })
    }

    /// Whether `output` (not cleaned) keeps pixel data like this input's: the same attribute
    /// with the same length (one more when the input's was odd: the writer pads it to even),
    /// or compressed pixel data of any length.
    fn kept_by(self, output: Option<PixelsOf>) -> bool {
        match (self, output) {
            (PixelsOf::Encapsulated, Some(PixelsOf::Encapsulated)) => true,
            (PixelsOf::Native(t, n), Some(PixelsOf::Native(u, m))) => t == u && (m == n || (n % 2 == 1 && m == n + 1)),
            _ => false,
        }
    }
}

/// One digest of an input's content hash and path key (a pair the audit log records), held in
/// 32 bytes instead of two strings.
fn pair_digest(sha: &str, key: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(sha.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    h.finalize().into()
}

/// The bytes of a content hash written as lower-case hex (`None` if it is not one).
fn digest_bytes(hex_text: &str) -> Option<[u8; 32]> {
    let mut d = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut d).ok()?;
    Some(d)
}

impl Originals {
    /// Whether there is nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.global.is_empty() && self.paths.is_empty() && self.per_input.values().all(Compact::is_empty)
    }

    /// Number of identifiers (counting each input's own).
    pub fn len(&self) -> usize {
        self.global.len() + self.paths.len() + self.per_input.values().map(Compact::len).sum::<usize>()
    }
}

/// What to verify.
#[derive(Debug)]
pub struct VerifyJob {
    /// The release folder.
    pub out: PathBuf,
    /// The compiled profile the release was made with.
    pub rules: RuleSet,
    /// Identifiers to search for (may be empty: conformance and pixel checks only).
    pub originals: Originals,
    /// Worker threads.
    pub jobs: usize,
    /// The fingerprint of the key given with `verify --key`: a file of the release that holds
    /// it is a `key-file` finding.
    pub key_fingerprint: Option<String>,
}

/// The result.
#[derive(Debug, Default, Serialize)]
pub struct VerifyReport {
    /// DICOM files checked.
    pub dicom_files: usize,
    /// Other files checked (audit, settings...).
    pub other_files: usize,
    /// DICOM files whose De-identification Method Code Sequence holds 113100, that is, that
    /// claim the Basic Application Confidentiality Profile (none under a profile that departs
    /// from Table E.1-1): `kamei report` says how many do not.
    pub claiming_basic: usize,
    /// Identifiers searched for.
    pub identifiers: usize,
    /// Outputs whose file was compared with the content hash their audit record holds
    /// ([`crate::audit::AuditRecord::output_sha256`]).
    pub outputs_hashed: usize,
    /// Outputs whose audit records hold no content hash (written by a version that hashed only
    /// contended names, or by a clinical command): checked by size only, where recorded.
    pub outputs_without_hash: usize,
    /// What was found, sorted.
    pub findings: Vec<Finding>,
}

/// Collect the identifiers of original inputs: every readable input data set (by content
/// hash), and the input paths' folder names and file stems. Those specific enough
/// ([`Dictionary::in_values`]) are searched for in every value too, unless an input holds them
/// in a value itself ([`Matcher::found_in_dataset`]: a folder named for a series description or
/// a study date).
pub fn originals_from_inputs(inputs: &[PathBuf], jobs: usize) -> Originals {
    let (files, _) = crate::walk::collect(inputs, None, crate::walk::Shard::WHOLE);
    let mut originals = Originals::default();
    let rels: Vec<&Path> = files.iter().map(|f| f.rel.as_path()).collect();
    originals.paths.add_relative_paths(&rels);
    let path_values = originals.paths.in_values();
    let path_matcher = path_values.matcher();
    let opts = ReadOptions::default();
    let load = |i: &crate::walk::Input| -> Option<(String, PathNames, Option<Loaded>)> {
        let source = read::Source::load(&i.path, &opts).ok()?;
        let names = PathNames::of(&i.rel, true);
        let dicom = match read::parse(&source, &opts) {
            Ok(Opened::Dicom(f)) => {
                let mut d = Dictionary::new();
                d.add_dataset(&f.dataset);
                let pixels = PixelsOf::of(&f.dataset);
                // The patient as `deid` identifies it, for the opt-out register.
                let patient =
                    (crate::plan::original_patient_id(&f.dataset), crate::plan::other_patient_ids(&f.dataset));
                // Held compactly from here: every input's are held at once.
                let strong = d.strong().compact();
                Some((d.compact(), strong, path_matcher.found_in_dataset(&f.dataset), pixels, patient))
            }
            _ => None,
        };
        Some((source.sha256_hex(), names, dicom))
    };
    let parsed: Vec<(String, PathNames, Option<Loaded>)> =
        match rayon::ThreadPoolBuilder::new().num_threads(jobs.max(1)).build() {
            Ok(p) => p.install(|| files.par_iter().filter_map(load).collect()),
            Err(_) => files.iter().filter_map(load).collect(),
        };
    let mut explained = HashSet::new();
    for (sha, names, dicom) in parsed {
        if let Some(digest) = digest_bytes(&sha) {
            originals.inputs.insert(digest);
            if !names.is_empty() {
                originals.input_names.insert(digest, names);
            }
        }
        let Some((d, strong, found, pixels, (id, others))) = dicom else { continue };
        if let (Some(p), Some(digest)) = (pixels, digest_bytes(&sha)) {
            originals.input_pixels.insert(digest, p);
        }
        originals.global.extend(&strong.dictionary());
        originals.per_input.insert(sha, d);
        explained.extend(found);
        if !id.is_empty() {
            originals.patients.entry(id).or_default().other_ids.extend(others);
        }
    }
    originals.global.extend(&path_values.without_texts(&explained));
    for input in inputs.iter().filter(|p| p.is_dir()) {
        add_storage_identifiers(&mut originals.global, input);
    }
    originals
}

/// Add the identifiers of an SS-MIX2 storage among the `--against` inputs (a folder in its
/// layout; a DICOM folder gives nothing): the names, IDs, phones and birth dates of its PID and
/// NK1 segments ([`crate::clinical::master`], as `--identifiers-from` reads them), the strong
/// ones ([`Dictionary::strong`]) searched in every output, as a DICOM input's are. A spouse's
/// name (NK1-2) or the kana of the patient's name in a released note is found.
fn add_storage_identifiers(global: &mut Dictionary, root: &Path) {
    use crate::clinical::columns::Role;
    let mut d = Dictionary::new();
    crate::clinical::master::read_storage_lenient(root, &mut |_, role, value| match role {
        Role::Name => d.add_person_name(&value.split_whitespace().collect::<Vec<_>>().join("^")),
        // IDs and phones (seven digits or more); an address part alone (a city) is too common.
        Role::Identifier if value.chars().filter(char::is_ascii_digit).count() >= 7 => {
            d.add(value, "Other Patient IDs")
        }
        Role::BirthDate { .. } => d.add_birth_date(value),
        _ => {}
    });
    global.extend(&d.strong());
}

/// One DICOM input read by [`originals_from_inputs`]: its identifiers, the strong ones among
/// them ([`Dictionary::strong`]), the path names its values hold, its pixel data, and its
/// Patient ID with its other IDs.
type Loaded = (Compact, Compact, HashSet<String>, Option<PixelsOf>, (String, Vec<String>));

/// Add the identifiers of a linkage table (CSV `kind,original,pseudonymized`): the original
/// Patient IDs (searched everywhere) and the input paths (searched in file names, and those
/// holding an ID or a date, [`Dictionary::numbered`], everywhere).
///
/// # Errors
/// The CSV error if the table cannot be read.
pub fn add_linkage(originals: &mut Originals, table: &Path) -> Result<(), csv::Error> {
    let mut rdr = csv::Reader::from_path(table)?;
    let mut paths = Vec::new();
    // Byte records: input paths are written as their own bytes (crate::linkage::path_bytes),
    // which need not be UTF-8.
    for row in rdr.byte_records() {
        let row = row?;
        match (row.get(0), row.get(1)) {
            (Some(b"patient"), Some(id)) => {
                let id = String::from_utf8_lossy(id);
                originals.global.add_patient_id(&id);
                let known = originals.patients.entry(crate::pseudo::normalize_id(&id)).or_default();
                if let Some(p) = row.get(2).filter(|p| !p.is_empty()) {
                    known.pseudonyms.insert(String::from_utf8_lossy(p).into_owned());
                }
            }
            // An ID a merge ties to an opted-out patient's: an original Patient ID, whether or
            // not it also has a `patient` row.
            (Some(b"merged"), Some(id)) => originals.global.add_patient_id(&String::from_utf8_lossy(id)),
            (Some(b"file"), Some(p)) => {
                let input = crate::linkage::path_from_bytes(p);
                let output = PathBuf::from(String::from_utf8_lossy(row.get(2).unwrap_or_default()).into_owned());
                originals.kept_names.extend(kept_by_its_row(&input, &output));
                let names = PathNames::of(&input, false);
                if !names.is_empty() {
                    originals.output_names.insert(path_names::path_text(&output), names);
                }
                paths.push(input);
            }
            (Some(b"failed" | b"skipped" | b"excluded"), Some(p)) => {
                paths.push(crate::linkage::path_from_bytes(p));
            }
            // `moved` rows name two output paths, no original value; `superseded` rows repeat a
            // `file` row's input path.
            _ => {}
        }
    }
    let mut names = Dictionary::new();
    names.add_input_paths(&paths);
    originals.global.extend(&names.numbered());
    originals.paths.extend(&names);
    Ok(())
}

/// The folder names and file stem of a `file` row's input that its own output path holds
/// unchanged, with fewer than five digits (so no ID nor date): what the command that wrote the
/// row kept on purpose (`clinical ss-mix2` keeps the data type folder `ADT-00`, `clinical csv`
/// a name holding no identifier, `labs.csv`). Such a name is not looked for in a clinical
/// output's names (an image output's names are: a `--layout mirror` release keeps its input's
/// names whole, and a folder named for the patient must be reported). Patient IDs are looked
/// for everywhere regardless.
fn kept_by_its_row(input: &Path, output: &Path) -> Vec<String> {
    let output = Dictionary::path_texts(output);
    Dictionary::path_texts(input)
        .into_iter()
        .filter(|t| output.contains(t) && t.bytes().filter(u8::is_ascii_digit).count() < 5)
        .collect()
}

/// What a release holds, from one walk.
struct ReleaseTree {
    /// Its regular files, relative to the release (a million outputs hold the release's own
    /// path once), sorted.
    files: Vec<PathBuf>,
    /// The folders with nothing in them (their names are checked on their own; a folder with
    /// files is checked as part of each file's path).
    empty_folders: Vec<PathBuf>,
    /// Entries that are neither (symbolic links, FIFOs, sockets, devices), never followed.
    others: Vec<PathBuf>,
}

/// What a release holds, from one walk that does not follow links. Kamei's staging folder is
/// left out (see [`unfinished_files`]).
fn release_tree(out: &Path) -> ReleaseTree {
    let mut files = Vec::new();
    let mut folders = Vec::new();
    let mut others = Vec::new();
    let mut not_empty = std::collections::HashSet::new();
    for e in walkdir::WalkDir::new(out)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".kamei-partial")
        .filter_map(Result::ok)
    {
        if let Some(parent) = e.path().parent() {
            not_empty.insert(parent.to_path_buf());
        }
        if e.file_type().is_file() {
            files.push(e.path().strip_prefix(out).map_or_else(|_| e.path().to_path_buf(), Path::to_path_buf));
        } else if e.file_type().is_dir() {
            folders.push(e.into_path());
        } else {
            others.push(e.into_path());
        }
    }
    files.sort();
    others.sort();
    folders.retain(|f| !not_empty.contains(f));
    ReleaseTree { files, empty_folders: folders, others }
}

/// Files in kamei's staging folder: a run that finishes leaves none (they are what an
/// interrupted run was writing), and they are not checked like the rest, so they must not be
/// released.
fn unfinished_files(out: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(out.join(".kamei-partial"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(|e| e.into_path())
        .collect()
}

/// What the audit logs of a release say.
#[derive(Debug, Default)]
struct Audited {
    /// Output path (relative to the release, `/` separators; where the output is now, the
    /// logs' move records applied, see [`crate::audit::index`]) → input content hash.
    sources: HashMap<String, String>,
    /// The content hash of every input the logs have a record of (`None`: the release holds
    /// no audit log), as bytes: a million inputs are held in 32 bytes each.
    inputs: Option<HashSet<[u8; 32]>>,
    /// The outputs the logs place for certain, each with whether it must be DICOM (an image
    /// output's; a clinical output's is a CSV file or an HL7 message), its size in bytes and
    /// content hash when recorded ([`crate::audit::AuditRecord::output_bytes`],
    /// [`crate::audit::AuditRecord::output_sha256`]).
    outputs: output_hash::Outputs,
    /// Outputs (release-relative, sorted) that records of one input path make, each path's
    /// own, with the group's number and size ([`left_superseded`]).
    superseded: Vec<(String, usize, usize)>,
    /// Output names (release-relative) that the records of several inputs (by content) place
    /// one output each at, as written there: each with how many inputs. One run never does
    /// (a second output at a name takes its own), so all but one of them were lost: outputs of
    /// separate runs (shards each into its own OUT) copied together.
    shared_names: Vec<(String, usize)>,
    /// The release-relative prefixes (`""` or `name/`) of every output folder with an audit log.
    roots: Vec<String>,
    /// The release-relative prefixes (`""` or `name/`) of the outputs a clinical command wrote
    /// (their `kamei-run.json` names a clinical profile).
    clinical_roots: Vec<String>,
    /// Audit logs (release-relative) with the damaged line's number, or `None` when the log
    /// could not be read at all.
    damaged: Vec<(String, Option<usize>)>,
}

/// The folders of a release that hold audit logs, each with its path relative to the release
/// (`""` or `name/`): the release itself, or, for a folder holding several outputs (images,
/// CSV, SS-MIX2), the outputs one level down.
pub fn audit_roots(out: &Path) -> Vec<(PathBuf, String)> {
    let has_log = |dir: &Path| {
        std::fs::read_dir(dir).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("kamei-audit") && name.ends_with(".jsonl")
            })
        })
    };
    if has_log(out) {
        return vec![(out.to_path_buf(), String::new())];
    }
    let mut roots: Vec<(PathBuf, String)> = std::fs::read_dir(out)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && has_log(&e.path()))
                .map(|e| (e.path(), format!("{}/", path_names::name_text(&e.file_name()))))
                .collect()
        })
        .unwrap_or_default();
    roots.sort();
    roots
}

/// Whether the output folder `root` holds images: its `kamei-run.json` does not name a clinical
/// profile (a folder without one is taken for images, the stricter check).
fn holds_images(root: &Path) -> bool {
    let profile = std::fs::read_to_string(root.join(crate::audit::RUN_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<crate::audit::RunSettings>(&t).ok())
        .map(|s| s.profile);
    !profile.is_some_and(|p| p.starts_with("clinical-"))
}

/// Read the audit logs of a release ([`audit_roots`]). `with_sources`: map each output to its
/// input ([`Audited::sources`]), needed only when the inputs are known (`--against`).
fn audited(out: &Path, with_sources: bool) -> Audited {
    let mut audited = Audited::default();
    let mut outputs = Vec::new();
    for (root, prefix) in audit_roots(out) {
        let seen = audited.inputs.get_or_insert_with(Default::default);
        // Per (content, input path key): whether its latest record says it was written (not
        // found already present, which an identical output of another input may be).
        let mut written: HashMap<[u8; 32], bool> = HashMap::new();
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("kamei-audit") && name.ends_with(".jsonl") {
                let log = format!("{prefix}{name}");
                // Record by record: the log of a million inputs is never held whole.
                let read = crate::audit::read_log_each(&entry.path(), |e| {
                    let crate::audit::Entry::Input(r) = e else { return };
                    if let Some(h) = r.input_sha256 {
                        if let Some(d) = digest_bytes(&h) {
                            seen.insert(d);
                        }
                        let pair = pair_digest(&h, r.input_path_key.as_deref().unwrap_or_default());
                        written.insert(pair, r.outcome == crate::audit::Outcome::Written);
                    }
                });
                match read {
                    Ok(lines) => audited.damaged.extend(lines.into_iter().map(|n| (log.clone(), Some(n)))),
                    Err(_) => audited.damaged.push((log, None)),
                }
            }
        }
        // An output the index cannot place for certain is checked under its recorded name,
        // unless an output that is placed there is known (it wins).
        let located = crate::audit::index(&root).map(|i| i.outputs).unwrap_or_default();
        let images = holds_images(&root);
        audited.roots.push(prefix.clone());
        if !images {
            audited.clinical_roots.push(prefix.clone());
        }
        // The names placed outputs of several inputs (by content) were written at: sorted
        // pairs of (name, content), 48 bytes an output for this moment only.
        let mut written_at: Vec<(&str, [u8; 32])> = located
            .iter()
            .filter(|l| written.get(&pair_digest(&l.input_sha256, &l.input_path_key)).copied().unwrap_or(false))
            .filter_map(|l| Some((l.output.as_deref()?, pair_digest(&l.input_sha256, ""))))
            .collect();
        written_at.sort_unstable();
        written_at.dedup();
        for same in written_at.chunk_by(|a, b| a.0 == b.0).filter(|w| w.len() > 1) {
            audited.shared_names.push((format!("{prefix}{}", same[0].0), same.len()));
        }
        drop(written_at);
        drop(written);
        for group in left_superseded::groups(&located) {
            let number = audited.superseded.last().map_or(0, |(_, n, _)| *n) + 1;
            let size = group.len();
            audited.superseded.extend(group.into_iter().map(|o| (format!("{prefix}{o}"), number, size)));
        }
        if with_sources {
            // An output the index cannot place for certain is checked under its recorded name,
            // unless an output that is placed there is known (it wins).
            let (placed, unplaced): (Vec<_>, Vec<_>) = located.iter().partition(|l| l.output.is_some());
            for l in unplaced.into_iter().chain(placed) {
                let name = l.output.as_deref().unwrap_or(&l.recorded);
                audited.sources.insert(format!("{prefix}{name}"), l.input_sha256.clone());
            }
        }
        // The names are moved, not copied: each output's name is held once.
        for l in located {
            let Some(output) = l.output else { continue };
            let name = if prefix.is_empty() { output } else { format!("{prefix}{output}") };
            let sha256 = l.output_sha256.as_deref().and_then(digest_bytes);
            outputs.push(output_hash::Recorded { name, images, bytes: l.output_bytes, sha256, disputed: false });
        }
    }
    audited.outputs = output_hash::Outputs::new(outputs);
    audited.shared_names.sort();
    audited.superseded.sort();
    audited
}

/// Each file of the release (relative, `/` separators) with whether it is DICOM or already
/// reported unreadable, sorted: looked up by name without a hash table's overhead.
struct Listed(Vec<(String, bool)>);

impl Listed {
    fn new(mut files: Vec<(String, bool)>) -> Listed {
        files.sort_unstable();
        Listed(files)
    }

    fn get(&self, name: &str) -> Option<&bool> {
        self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)).ok().map(|i| &self.0[i].1)
    }
}

/// What the audit logs say that the release does not bear out: an input given with
/// `--against` without a record (named by content hash, never by path: an input path can hold
/// a name), no audit log at all while inputs were given, an output the logs place for certain
/// that is missing, or that is not DICOM though it is an image output's (`files`: each file of
/// the release, relative, with whether it is DICOM or already reported unreadable).
fn audit_findings(job: &VerifyJob, audited: &Audited, files: &Listed) -> Vec<Finding> {
    let mut v = Vec::new();
    match &audited.inputs {
        Some(seen) => {
            let mut unseen: Vec<String> =
                job.originals.inputs.iter().filter(|d| !seen.contains(*d)).map(hex::encode).collect();
            unseen.sort_unstable();
            for sha in unseen {
                v.push(finding(
                    &format!("input sha256:{}", &sha[..16]),
                    "audit".to_string(),
                    FindingKind::NotProcessed,
                    "an input given with --against has no record in the audit log: the run did not finish or did not include it (run the same deid or clinical command again)",
                ));
            }
        }
        None if !job.originals.inputs.is_empty() => v.push(finding(
            crate::audit::AUDIT_FILE,
            "file".to_string(),
            FindingKind::NotProcessed,
            "the release has no audit log: nothing records what was done to the inputs given with --against (copy kamei-audit.jsonl with the release, or run the same deid again)",
        )),
        None => {}
    }
    for (log, line) in &audited.damaged {
        let (location, detail) = match line {
            Some(n) => (
                format!("line {n}"),
                "this line of the audit log is not valid UTF-8 or not an audit record (a power cut or disk error in the middle of a write): what it recorded is unknown; run the same deid again, which processes its input again and rewrites the log",
            ),
            None => ("file".to_string(), "the audit log cannot be read: the checks that rest on it are incomplete"),
        };
        v.push(finding(log, location, FindingKind::DamagedAuditLog, detail));
    }
    for output_hash::Recorded { name: output, images, bytes, .. } in audited.outputs.iter() {
        match files.get(output) {
            None => v.push(finding(
                output,
                "file".to_string(),
                FindingKind::MissingOutput,
                "the audit log records this output as written, but it is not in the release (copy it again, or run the same deid again)",
            )),
            Some(false) if *images => v.push(finding(
                output,
                "file".to_string(),
                FindingKind::Unreadable,
                "the audit log records this output as written, but it is not DICOM (damaged in copying? run the same deid again)",
            )),
            Some(_) => {
                let size = std::fs::symlink_metadata(job.out.join(output)).map(|m| m.len());
                if let (Some(recorded), Ok(size)) = (bytes, size) {
                    if size != *recorded {
                        v.push(finding(
                            output,
                            "file".to_string(),
                            FindingKind::DamagedOutput,
                            format!(
                                "{size} bytes, where the audit log records {recorded} for this output: cut or damaged in copying (copy it again, or run the same deid again)"
                            ),
                        ));
                    }
                }
            }
        }
    }
    v.extend(merged_findings(audited));
    v
}

/// Outputs lost where the outputs of separate runs were copied into one folder: a name the logs
/// give several inputs' outputs as written (one run gives each its own name). (An output whose
/// recorded hash is not the file's at its name is found where each file is checked,
/// [`output_hash`].)
fn merged_findings(audited: &Audited) -> Vec<Finding> {
    let mut v = Vec::new();
    for (name, inputs) in &audited.shared_names {
        v.push(finding(
            name,
            "file".to_string(),
            FindingKind::MissingOutput,
            format!(
                "the audit logs record the outputs of {inputs} different inputs as written under this one name, so the release holds at most one of them: outputs of separate runs (shards each into its own OUT) were copied together; run every shard into one shared OUT, or one whole run"
            ),
        ));
    }
    v
}

/// A finding for an output of a group [`left_superseded`] found (`number`, of `size` outputs).
fn superseded_finding(rel: &str, number: usize, size: usize) -> Finding {
    finding(
        rel,
        "file".to_string(),
        FindingKind::SupersededOutput,
        format!(
            "one of {size} outputs the audit log records for one input path (group {number} of such outputs), each from other content the path held: a --shard run wrote its new content and cannot remove the earlier output, so one of them is stale; run one whole run (no --shard, or --shard 1/1) into this OUT, which removes it"
        ),
    )
}

/// Run every check.
pub fn run(job: &VerifyJob) -> VerifyReport {
    let kept = kept_on_purpose(&job.rules);
    let matcher = |d: &Dictionary| if kept.is_empty() { d.matcher() } else { d.without(&kept).matcher() };
    let global = matcher(&job.originals.global);
    let paths = job.originals.paths.matcher();
    let clinical_paths = job.originals.paths.without_texts(&job.originals.kept_names).matcher();
    let audited = audited(&job.out, !job.originals.inputs.is_empty());
    let tally = output_hash::Tally::default();
    let sources = &audited.sources;
    let prefixes: Vec<&str> = audited.roots.iter().map(String::as_str).collect();
    let ReleaseTree { files, empty_folders, others } = release_tree(&job.out);
    let rel = |p: &Path| path_names::path_text(p.strip_prefix(&job.out).unwrap_or(p));
    let check = |p: &PathBuf| -> (Checked, Vec<Finding>) {
        let r = rel(p);
        let p = &job.out.join(p);
        let mut findings = Vec::new();
        let source = sources.get(&r);
        let own = source.and_then(|h| job.originals.per_input.get(h)).map(|c| matcher(&c.dictionary()));
        let input_pixels =
            source.and_then(|h| digest_bytes(h)).and_then(|d| job.originals.input_pixels.get(&d)).copied();
        let clinical = audited.clinical_roots.iter().any(|prefix| r.starts_with(prefix.as_str()));
        let paths = if clinical { &clinical_paths } else { &paths };
        let names = own_path_names(&job.originals, source.map(String::as_str), &r, &prefixes);
        let own_names = names.and_then(PathNames::own_dictionary).map(|d| matcher(&d));
        let kept = match names {
            Some(names) if clinical => kept_by_its_output(names, &r),
            _ => HashSet::new(),
        };
        let name_matchers: Vec<&Matcher> =
            [&global, paths].into_iter().chain(own.as_ref()).chain(own_names.as_ref()).collect();
        for id in find_in_name(&name_matchers, &r).into_iter().filter(|id| !kept.contains(&id.text)) {
            findings.push(residual(&r, "file name", id));
        }
        let matchers: Vec<&Matcher> = std::iter::once(&global).chain(own.as_ref()).chain(own_names.as_ref()).collect();
        let uid_clues = own.as_ref().map(Matcher::uid_clues).unwrap_or_default();
        let patient_numbers = own.as_ref().map(Matcher::patient_numbers).unwrap_or_default();
        let ctx = Ctx { rules: &job.rules, matchers: &matchers, input_pixels, uid_clues, patient_numbers };
        findings.extend(key_file::check(p, &r, job.key_fingerprint.as_deref()));
        let checked = check_file(&ctx, p, &r, &mut findings);
        output_hash::check(&audited.outputs, &tally, p, &r, &mut findings);
        if let Ok(i) = audited.superseded.binary_search_by(|(o, _, _)| o.as_str().cmp(&r)) {
            let (_, number, size) = audited.superseded[i];
            findings.push(superseded_finding(&r, number, size));
        }
        mask_paths(&mut findings, &r, &name_matchers, &kept);
        kept_uids::mask_names(&mut findings, &r, &ctx.uid_clues);
        // Held until every file is checked: a first push leaves room for four findings, where
        // most outputs have one or none (0.4 KB an output of a million-output release).
        findings.shrink_to_fit();
        (checked, findings)
    };
    let results: Vec<(Checked, Vec<Finding>)> =
        match rayon::ThreadPoolBuilder::new().num_threads(job.jobs.max(1)).build() {
            Ok(pool) => pool.install(|| files.par_iter().map(check).collect()),
            Err(_) => files.iter().map(check).collect(),
        };
    let mut report = VerifyReport {
        identifiers: job.originals.len(),
        outputs_hashed: tally.checked.into_inner(),
        outputs_without_hash: tally.without_hash.into_inner(),
        ..VerifyReport::default()
    };
    // Sorted and deduplicated at the end: a Vec holds a finding in its own 128 bytes, where a
    // BTreeSet built while every file's findings are still held took about twice that.
    let mut all = Vec::new();
    for file in unfinished_files(&job.out) {
        all.push(finding(
            &rel(&file),
            "file".to_string(),
            FindingKind::Unfinished,
            "a temporary file of an interrupted run: run the same deid again to finish, or remove .kamei-partial, before release",
        ));
    }
    for other in others {
        let r = rel(&other);
        let mut findings = vec![finding(
            &r,
            "entry".to_string(),
            FindingKind::NotRegular,
            "not a regular file or folder (a symbolic link, FIFO, socket or device): not checked, and a transfer that follows links ships what it points to; remove it before release",
        )];
        findings.extend(find_in_name(&[&global, &paths], &r).into_iter().map(|id| residual(&r, "file name", id)));
        mask_paths(&mut findings, &r, &[&global, &paths], &HashSet::new());
        all.extend(findings);
    }
    for folder in empty_folders {
        let r = rel(&folder);
        let mut findings = Vec::new();
        findings.extend(find_in_name(&[&global, &paths], &r).into_iter().map(|id| residual(&r, "folder name", id)));
        mask_paths(&mut findings, &r, &[&global, &paths], &HashSet::new());
        all.extend(findings);
    }
    // Every input given with --against must have ended somewhere (written, skipped, failed,
    // left out), and every output the audit places must be there.
    // (A file already reported unreadable is not reported again as not DICOM.)
    let read = |(checked, f): &(Checked, Vec<Finding>)| {
        *checked != Checked::NotDicom || f.iter().any(|f| f.kind == FindingKind::Unreadable)
    };
    all.extend(shared_instances(&results, |i| rel(&files[i]), &prefixes));
    let listed = Listed::new(files.into_iter().map(|f| rel(&f)).zip(results.iter().map(read)).collect());
    all.extend(audit_findings(job, &audited, &listed));
    // The names of every output, twice, are not needed any more.
    drop(listed);
    drop(audited);
    all.reserve_exact(results.iter().map(|(_, f)| f.len()).sum());
    for (checked, findings) in results {
        match checked {
            Checked::NotDicom => report.other_files += 1,
            Checked::Dicom { claims_basic, .. } => {
                report.dicom_files += 1;
                report.claiming_basic += usize::from(claims_basic);
            }
        }
        all.extend(findings);
    }
    all.sort_unstable();
    all.dedup();
    report.findings = all;
    report
}

/// A SOP Instance UID held in 16 bytes (a million outputs' UIDs in 16 MB): the first half of
/// its SHA-256, which two different UIDs do not share in practice.
fn instance_digest(uid: &str) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let full: [u8; 32] = Sha256::digest(uid.as_bytes()).into();
    let mut d = [0u8; 16];
    d.copy_from_slice(&full[..16]);
    d
}

/// The DICOM outputs (`results`, in the order of the release's files, named by `name_of`) that
/// hold a SOP Instance UID an output of another output folder of the release (`roots`, the
/// audit roots' prefixes) holds too: the outputs of separate runs copied together (`day1/` and
/// `day2/`, shards each into its own OUT). One run gives each instance one output, and a
/// recipient's archive keeps only one of them (which one is not said), so the release says two
/// things about one instance. Named by file and `(0008,0018)`, with how many outputs hold it;
/// never the UID (the `--report` file neither: each finding's `file`/`path` pairs them). A file
/// whose name is masked ([`mask_paths`]) is named as its other findings name it.
fn shared_instances(
    results: &[(Checked, Vec<Finding>)],
    name_of: impl Fn(usize) -> String,
    roots: &[&str],
) -> Vec<Finding> {
    // The output folder (audit root) a file is in: one run may give one instance several
    // outputs on purpose (a corrected re-send beside the first version, `<stem>.<hash>.dcm`,
    // which `deid` warns of), so only outputs of different output folders are reported.
    let root_of = |name: &str| roots.iter().filter(|p| name.starts_with(**p)).map(|p| p.len()).max();
    let mut instances: Vec<([u8; 16], usize)> = results
        .iter()
        .enumerate()
        .filter_map(|(i, (c, _))| match c {
            Checked::Dicom { instance: Some(d), .. } => Some((*d, i)),
            _ => None,
        })
        .collect();
    instances.sort_unstable();
    let mut v = Vec::new();
    let spread = |same: &&[([u8; 16], usize)]| {
        let mut folders: Vec<Option<String>> =
            same.iter().map(|(_, i)| name_of(*i)).map(|n| root_of(&n).map(|l| n[..l].to_string())).collect();
        folders.sort();
        folders.dedup();
        folders.len() > 1
    };
    for (group, same) in instances.chunk_by(|a, b| a.0 == b.0).filter(|s| s.len() > 1).filter(spread).enumerate() {
        for (_, i) in same {
            let mut f = finding(
                &name_of(*i),
                tag_str(tags::SOP_INSTANCE_UID),
                FindingKind::SharedInstance,
                format!(
                    "{} outputs of the release hold this SOP Instance UID (group {} of those sharing one): outputs of separate runs (day1/ and day2/ OUTs, shards each into its own OUT) released together; a receiving archive keeps one of them: release one output per instance",
                    same.len(),
                    group + 1
                ),
            );
            if let Some(masked) = results[*i].1.iter().find(|f| f.path.is_some()) {
                f.file = masked.file.clone();
                f.path = masked.path.clone();
            }
            v.push(f);
        }
    }
    v
}

/// The names on the input path of the output `rel` ([`PathNames`]): by its input's content
/// hash (`source`, from the audit log, with `--against`), or by the output path a linkage
/// table's `file` row names (relative to its output folder: `rel` without the prefix of the
/// output folder it is in, `prefixes`).
fn own_path_names<'o>(
    originals: &'o Originals,
    source: Option<&str>,
    rel: &str,
    prefixes: &[&str],
) -> Option<&'o PathNames> {
    if let Some(names) = source.and_then(digest_bytes).and_then(|d| originals.input_names.get(&d)) {
        return Some(names);
    }
    if originals.output_names.is_empty() {
        return None;
    }
    originals.output_names.get(rel).or_else(|| {
        prefixes.iter().filter(|p| !p.is_empty()).find_map(|p| originals.output_names.get(rel.strip_prefix(p)?))
    })
}

/// The names of an input's path ([`PathNames::short`]) that its own clinical output's path
/// `rel` holds too: kept on purpose by the clinical command (`labs.csv`, as a linkage table's
/// `file` row shows them, [`kept_by_its_row`]).
fn kept_by_its_output(names: &PathNames, rel: &str) -> HashSet<String> {
    if names.short.is_empty() {
        return HashSet::new();
    }
    let output = Dictionary::path_texts(Path::new(rel));
    names.short.iter().filter(|t| output.contains(&***t)).map(|t| t.to_string()).collect()
}

/// The kinds of original values the release keeps on purpose, by an option of Table E.1-1:
/// instance UIDs under Retain UIDs, and the values of the identifying attributes an option
/// column keeps (Institution Name and Address, Department under Retain Institution Identity,
/// and with the institution's name the Issuer of Patient ID and the other issuers'
/// values ([`crate::dict::ISSUER_IDS`]), which name it too;
/// Station Name and Device Serial Number under Retain Device Identity), and the dates of
/// private attributes under Retain Longitudinal Temporal Information with Full Dates. Finding
/// them is no leak; a user profile's own `keep` is not an option and still counts.
fn kept_on_purpose(rules: &RuleSet) -> Vec<dictionary::Kind> {
    let mut kinds: Vec<dictionary::Kind> = dictionary::IDENTIFYING
        .iter()
        .filter(|(tag, _)| {
            let rule = rules.rule(*tag);
            rule.action == Action::Keep && matches!(rule.source, RuleSource::Option(_))
        })
        .map(|(_, kind)| *kind)
        .collect();
    // `deid` leaves the Issuer of Patient ID in kept text where it keeps the institution's
    // name (plan.rs, `Planner::found`): it names the same institution.
    if kinds.contains(&"Institution Name") {
        kinds.extend(["Issuer of Patient ID", dictionary::LOCAL_NAMESPACE, dictionary::UNIVERSAL_ENTITY]);
    }
    if rules.options().contains(&DeidOption::RetainUids) {
        kinds.push(dictionary::UID);
    }
    if rules.options().contains(&DeidOption::RetainLongFullDates) {
        kinds.push(dictionary::PRIVATE_DATE);
        kinds.push(dictionary::PATH_DATE);
        kinds.extend(dictionary::EXAM_DATE_KINDS);
    }
    kinds
}

struct Ctx<'a> {
    rules: &'a RuleSet,
    matchers: &'a [&'a Matcher],
    /// The pixel data of the file's own input, when known ([`Originals::input_pixels`]).
    input_pixels: Option<PixelsOf>,
    /// What a UID can spell of the file's own input ([`kept_uids`]).
    uid_clues: crate::uid_clues::UidClues,
    /// What a kept private number can equal of the file's own input
    /// ([`Matcher::patient_numbers`]).
    patient_numbers: crate::kept_reading::PatientNumbers,
}

impl Ctx<'_> {
    fn find(&self, text: &str) -> Vec<&Identifier> {
        let mut v: Vec<&Identifier> = Vec::new();
        for m in self.matchers {
            for id in m.find(text) {
                if !v.iter().any(|x| x.text == id.text) {
                    v.push(id);
                }
            }
        }
        v
    }

    /// The exam dates of the file's own input in `text` ([`Matcher::find_exam_dates`]).
    fn find_exam_dates(&self, text: &str) -> Vec<&Identifier> {
        let mut v: Vec<&Identifier> = Vec::new();
        for m in self.matchers {
            for id in m.find_exam_dates(text) {
                if !v.iter().any(|x| x.text == id.text) {
                    v.push(id);
                }
            }
        }
        v
    }
}

/// When the path `rel` holds an identifier (a mirror-layout output under a folder named for
/// the patient), findings show it with each such folder or file name as `***`, so stdout and
/// the sign-off page do not repeat the identifier; the real path goes only into the sensitive
/// `--report` file (`path`), where the operator finds the file to fix.
fn mask_paths(findings: &mut [Finding], rel: &str, matchers: &[&Matcher], kept: &HashSet<String>) {
    // A path with an identifier in one of its names has a name finding: without one, there is
    // nothing to mask (and no need to search each name again).
    if !findings.iter().any(|f| f.location == "file name" || f.location == "folder name") {
        return;
    }
    let components: Vec<&str> = rel.split('/').collect();
    let found: Vec<Vec<&Identifier>> = components
        .iter()
        .map(|c| find_in_name(matchers, c).into_iter().filter(|id| !kept.contains(&id.text)).collect())
        .collect();
    if found.iter().all(Vec::is_empty) {
        return;
    }
    let masked_ids: Vec<&Identifier> = found.iter().flatten().copied().collect();
    let prefixes = prefixes_of(&components, &masked_ids);
    let masked: Vec<&str> = components
        .iter()
        .zip(found.iter().zip(prefixes))
        .map(|(c, (ids, prefix))| if !ids.is_empty() || prefix { "***" } else { c })
        .collect();
    let masked = masked.join("/");
    for f in findings.iter_mut() {
        f.path = Some(f.file.clone());
        f.file = masked.clone();
    }
}

/// Which of the names `components` of one path, read in a row, spell the start of one of `ids`
/// (each an identifier masked elsewhere in the same path): the SS-MIX2 bucket folders
/// `223/450` above a patient folder `2234501` are its first six characters, and printing them
/// beside `***` shows the ID all but one digit. A number that may carry leading zeros
/// ([`dictionary::EXCLUDED_NUMBER`]) is compared without them (`000/123` above `0001234500`).
/// A name without a letter or digit (`-`) ends a run.
fn prefixes_of(components: &[&str], ids: &[&Identifier]) -> Vec<bool> {
    let names: Vec<String> = components
        .iter()
        .map(|c| {
            let reading = path_names::readings(c).pop().unwrap_or_default();
            dictionary::normalize(&reading).replace(' ', "")
        })
        .collect();
    let mut marked = vec![false; components.len()];
    for id in ids {
        let text = id.text.replace(' ', "");
        let zeros = id.kind == dictionary::EXCLUDED_NUMBER;
        let starts = |run: &str| {
            let run = if zeros { run.trim_start_matches('0') } else { run };
            text.starts_with(run) && (zeros || !run.is_empty())
        };
        for start in 0..names.len() {
            let mut run = String::new();
            for (i, name) in names.iter().enumerate().skip(start) {
                if !name.chars().any(char::is_alphanumeric) {
                    break;
                }
                run.push_str(name);
                if !starts(&run) {
                    break;
                }
                marked[start..=i].iter_mut().for_each(|m| *m = true);
            }
        }
    }
    marked
}

/// The identifiers in a file or folder name (or a path), in each of its readings
/// ([`path_names::readings`]: a mirror release's `%XX` escapes decoded), each once.
fn find_in_name<'m>(matchers: &[&'m Matcher], name: &str) -> Vec<&'m Identifier> {
    let mut found: Vec<&Identifier> = Vec::new();
    for reading in path_names::readings(name) {
        for m in matchers {
            for id in m.find(&reading) {
                if !found.iter().any(|x| x.text == id.text) {
                    found.push(id);
                }
            }
        }
    }
    found
}

/// An input's exam date found in its output's text ([`Matcher::find_exam_dates`]), named by
/// the attribute it was, never by the value.
fn residual_date(file: &str, location: &str, id: &Identifier) -> Finding {
    Finding {
        file: file.to_string(),
        location: location.to_string(),
        kind: FindingKind::ResidualIdentifier,
        detail: format!(
            "contains the input's own {} as written (a real exam date beside shifted dates gives the date shift away)",
            id.kind
        )
        .into(),
        matched: Some(id.text.clone()),
        path: None,
    }
}

fn residual(file: &str, location: &str, id: &Identifier) -> Finding {
    Finding {
        file: file.to_string(),
        location: location.to_string(),
        kind: FindingKind::ResidualIdentifier,
        // A pseudonym (of an excluded patient) is no original value.
        detail: match id.kind.strip_prefix("pseudonym") {
            Some(_) => format!("contains the {}", id.kind).into(),
            None => format!("contains an original {}", id.kind).into(),
        },
        matched: Some(id.text.clone()),
        path: None,
    }
}

fn finding(file: &str, location: String, kind: FindingKind, detail: impl Into<Cow<'static, str>>) -> Finding {
    Finding { file: file.to_string(), location, kind, detail: detail.into(), matched: None, path: None }
}

/// What [`check_file`] found a file to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    /// Not DICOM (kamei's own files, or unreadable).
    NotDicom,
    /// A DICOM file; `claims_basic` when its method code sequence holds 113100; `instance`:
    /// a digest of its SOP Instance UID ([`instance_digest`]).
    Dicom { claims_basic: bool, instance: Option<[u8; 16]> },
}

/// Whether a data set's De-identification Method Code Sequence holds 113100 (Basic
/// Application Confidentiality Profile).
fn claims_basic(ds: &DataSet) -> bool {
    method_codes(ds).iter().any(|c| c == method_code(None).0)
}

/// The code values of a data set's De-identification Method Code Sequence.
fn method_codes(ds: &DataSet) -> Vec<String> {
    ds.get(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
        .and_then(|e| e.value.sequence())
        .map(|s| s.items.iter().filter_map(|i| i.dataset.ascii(tags::CODE_VALUE).map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Check one file; returns whether it is DICOM and claims the basic profile.
fn check_file(ctx: &Ctx<'_>, path: &Path, rel: &str, out: &mut Vec<Finding>) -> Checked {
    if is_kamei_log(path) {
        check_text_file(ctx, path, rel, out);
        return Checked::NotDicom;
    }
    let opened = read::open(path, &ReadOptions::default());
    let file = match opened {
        Ok(Opened::Dicom(f)) => f,
        Ok(_) => {
            check_text_file(ctx, path, rel, out);
            return Checked::NotDicom;
        }
        Err(e) => {
            if rel.ends_with(".dcm") {
                out.push(finding(rel, "file".into(), FindingKind::Unreadable, e.to_string()));
            } else {
                check_text_file(ctx, path, rel, out);
            }
            return Checked::NotDicom;
        }
    };
    check_meta(&file, path, rel, out);
    check_markers(ctx, &file.dataset, rel, out);
    class_fields::check(&file.dataset, ctx.rules.options().contains(&DeidOption::RetainUids), rel, out);
    documents::check(ctx, &file.dataset, rel, out);
    check_pixels(&file.dataset, rel, out);
    check_pixels_whole(&file, ctx.input_pixels, rel, out);
    check_high_bits(&file.dataset, file.transfer_syntax.encoding.big_endian, rel, out);
    check_stream_metadata(&file, path, rel, out);
    let mut path_stack = Vec::new();
    let read = Read { cs: CharacterSet::default_repertoire(), big_endian: file.transfer_syntax.encoding.big_endian };
    check_dataset(ctx, &file.dataset, &read, &mut path_stack, rel, out);
    let instance = file.dataset.ascii(tags::SOP_INSTANCE_UID).map(str::trim).filter(|u| !u.is_empty());
    Checked::Dicom { claims_basic: claims_basic(&file.dataset), instance: instance.map(instance_digest) }
}

/// Whether `path` is one of kamei's own logs (`kamei-audit*.jsonl`, `kamei-run.json`) and
/// not DICOM (no `DICM` where a Part 10 file or a bare one has it): searched as text without
/// being read whole to be parsed first (the audit log of a million outputs is 1–2 GB).
fn is_kamei_log(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let own = (name.starts_with("kamei-audit") && name.ends_with(".jsonl")) || name == crate::audit::RUN_FILE;
    if !own {
        return false;
    }
    let mut head = Vec::with_capacity(132);
    let read =
        std::fs::File::open(path).and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 132), &mut head));
    read.is_ok() && !head.starts_with(b"DICM") && head.get(128..132) != Some(b"DICM".as_slice())
}

/// Search a file that is not DICOM (kamei's audit log and settings, a clinical output) line by
/// line, read as a stream: the audit log of a million outputs (1–2 KB a record) is never held
/// whole.
fn check_text_file(ctx: &Ctx<'_>, path: &Path, rel: &str, out: &mut Vec<Finding>) {
    use std::io::BufRead;
    let unreadable =
        |out: &mut Vec<Finding>| out.push(finding(rel, "file".into(), FindingKind::Unreadable, "cannot be read"));
    let Ok(file) = std::fs::File::open(path) else { return unreadable(out) };
    let mut reader = std::io::BufReader::with_capacity(64 << 10, file);
    if reader.fill_buf().is_ok_and(crate::linkage::starts_with_header) {
        out.push(finding(
            rel,
            "file".into(),
            FindingKind::LinkageTable,
            "is a kamei linkage table (the re-identification table): it must not be released; move it out of the release",
        ));
    }
    if reader.fill_buf().is_ok_and(is_hl7) && std::fs::metadata(path).is_ok_and(|m| m.len() <= MAX_HL7) {
        let mut bytes = Vec::new();
        if std::io::Read::read_to_end(&mut reader, &mut bytes).is_err() {
            return unreadable(out);
        }
        return check_hl7(ctx, &bytes, rel, out);
    }
    let mut line = Vec::new();
    let mut found = BTreeSet::new();
    for n in 1.. {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => return unreadable(out),
        }
        let bytes = line.strip_suffix(b"\n").unwrap_or(&line);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        // A line that is not UTF-8 is also read as Shift_JIS (a Windows export; its bytes
        // never hold a line feed inside a character); a line naming a mirror release's output
        // holds its name `%XX`-escaped (the audit log): every reading is searched (the same
        // finding twice is kept once).
        for text in text_readings(bytes) {
            for id in find_in_name(ctx.matchers, &text) {
                found.insert(residual(rel, &format!("line {n}"), id));
            }
        }
    }
    out.extend(found);
}

/// The largest HL7 message read whole to name its findings by segment and field (an SS-MIX2
/// message is a few KB); a larger file is searched line by line.
const MAX_HL7: u64 = 16 << 20;

/// Whether a file starting with `head` is an HL7 v2 message (an SS-MIX2 output): `MSH` and its
/// field separator.
fn is_hl7(head: &[u8]) -> bool {
    head.len() >= 4 && head.starts_with(b"MSH") && !head[3].is_ascii_alphanumeric() && head[3] > b' '
}

/// The readings of a line or an HL7 field searched for identifiers: as UTF-8; a line that is
/// not UTF-8 also as Shift_JIS (a Windows export; its bytes never hold a line feed inside a
/// character); one holding escape sequences also as ISO-2022-JP (an SS-MIX2 message's JIS X
/// 0208 names, `ESC $ B`, and half-width kana, `ESC ( I`). The same finding in two readings is
/// kept once by the caller.
fn text_readings(bytes: &[u8]) -> Vec<String> {
    let mut v = vec![String::from_utf8_lossy(bytes).into_owned()];
    if std::str::from_utf8(bytes).is_err() {
        v.push(path_names::bytes_text(bytes));
    }
    if bytes.contains(&0x1B) {
        v.push(encoding_rs::ISO_2022_JP.decode_without_bom_handling(bytes).0.into_owned());
    }
    v
}

/// Search an HL7 message (an SS-MIX2 output; segments end in CR, so it is one "line") segment
/// by segment and field by field: a finding is named by its field and segment
/// (`PID-5 (segment 2)`); an identifier found only across fields by its segment (`segment 2`).
fn check_hl7(ctx: &Ctx<'_>, bytes: &[u8], rel: &str, out: &mut Vec<Finding>) {
    let separator = bytes[3];
    let mut found = BTreeSet::new();
    let segments = bytes.split(|&b| b == b'\r' || b == b'\n').filter(|s| !s.is_empty());
    for (n, segment) in segments.enumerate() {
        let name = String::from_utf8_lossy(segment.get(..3).unwrap_or(segment)).into_owned();
        let name: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
        // MSH-1 is the field separator itself: MSH's fields after it are numbered one higher.
        let first = if name == "MSH" { 2 } else { 1 };
        let mut seen: Vec<String> = Vec::new();
        for (i, field) in segment.split(|&b| b == separator).enumerate().skip(1) {
            for text in text_readings(field) {
                for id in find_in_name(ctx.matchers, &text) {
                    seen.push(id.text.clone());
                    found.insert(residual(rel, &format!("{name}-{} (segment {})", i + first - 1, n + 1), id));
                }
            }
        }
        for text in text_readings(segment) {
            for id in find_in_name(ctx.matchers, &text).into_iter().filter(|id| !seen.contains(&id.text)) {
                found.insert(residual(rel, &format!("segment {}", n + 1), id));
            }
        }
    }
    out.extend(found);
}

fn check_meta(file: &read::DicomFile, path: &Path, rel: &str, out: &mut Vec<Finding>) {
    let meta = &file.meta;
    let ds = &file.dataset;
    let mut bad = |what: &str| out.push(finding(rel, "file meta".into(), FindingKind::Meta, what.to_string()));
    if meta.ascii(tags::MEDIA_STORAGE_SOP_INSTANCE_UID) != ds.ascii(tags::SOP_INSTANCE_UID) {
        bad("Media Storage SOP Instance UID differs from SOP Instance UID");
    }
    if meta.ascii(tags::MEDIA_STORAGE_SOP_CLASS_UID) != ds.ascii(tags::SOP_CLASS_UID) {
        bad("Media Storage SOP Class UID differs from SOP Class UID");
    }
    for (tag, what) in [
        (tags::SOURCE_APPLICATION_ENTITY_TITLE, "Source Application Entity Title present"),
        (tags::SENDING_APPLICATION_ENTITY_TITLE, "Sending Application Entity Title present"),
        (tags::RECEIVING_APPLICATION_ENTITY_TITLE, "Receiving Application Entity Title present"),
        (tags::PRIVATE_INFORMATION, "Private Information present"),
    ] {
        if meta.get(tag).is_some() {
            bad(what);
        }
    }
    if !file.had_meta {
        bad("no Part 10 header");
    }
    if let Ok(mut f) = std::fs::File::open(path) {
        let mut pre = [0u8; 128];
        if std::io::Read::read_exact(&mut f, &mut pre).is_ok() && pre.iter().any(|&b| b != 0) {
            bad("the preamble is not zero");
        }
    }
}

fn check_markers(ctx: &Ctx<'_>, ds: &DataSet, rel: &str, out: &mut Vec<Finding>) {
    let mut bad = |what: String| out.push(finding(rel, "markers".into(), FindingKind::Marker, what));
    if ds.ascii(tags::PATIENT_IDENTITY_REMOVED) != Some("YES") {
        bad("Patient Identity Removed (0012,0062) is not YES".into());
    }
    if ds.get(tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED).is_none() {
        bad("Longitudinal Temporal Information Modified (0028,0303) is missing".into());
    }
    let codes = method_codes(ds);
    let expected = crate::plan::claimed_codes(ctx.rules);
    for (code, _) in &expected {
        if !codes.iter().any(|c| c == code) {
            bad(format!("De-identification Method Code Sequence lacks {code}"));
        }
    }
    if expected.is_empty() && codes.iter().any(|c| c == method_code(None).0) {
        bad(format!(
            "De-identification Method Code Sequence claims {} though the profile departs from PS3.15 Table E.1-1",
            method_code(None).0
        ));
    }
}

fn check_pixels(ds: &DataSet, rel: &str, out: &mut Vec<Finding>) {
    if !crate::annotated::has_pixels(ds) {
        return;
    }
    let cleaned = ds
        .get(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
        .and_then(|e| e.value.sequence())
        .is_some_and(|s| s.items.iter().any(|i| i.dataset.ascii(tags::CODE_VALUE) == Some("113101")));
    if cleaned {
        return;
    }
    let burned = BurnedInValue::read(ds);
    // The same list as deid's selection (crate::annotated): a specification, like the profile.
    let annotated = crate::annotated::is_annotated_image(ds);
    let detail = match burned {
        b if b.says_yes() => Some("Burned In Annotation is YES (or not a clear NO) and the pixels were not cleaned"),
        BurnedInValue::Absent if annotated => {
            Some("an annotated modality, SOP class or screen capture without Burned In Annotation, not cleaned")
        }
        // deid does not trust NO on these by default (scanners often say NO wrongly).
        BurnedInValue::No if annotated => {
            Some("an annotated modality, SOP class or screen capture with Burned In Annotation NO, not cleaned")
        }
        _ => None,
    };
    if let Some(d) = detail {
        out.push(finding(rel, "(7FE0,0010)".into(), FindingKind::PixelsNotCleaned, d));
    }
}

/// Pixel data that is not all there: an image (by its SOP class or its Image Pixel
/// attributes, [`crate::truncated`]) without any, which is what a file cut before its pixels
/// reads as; native pixel data that does not fit its Rows, Columns, Samples per Pixel, Bits
/// Allocated and Number of Frames, or one of them with several values
/// ([`crate::pixel_length`]); or, with the input known (`--against`), pixel data other than
/// the input's where the pixels were not cleaned (none, or native data of another length).
fn check_pixels_whole(file: &read::DicomFile, input: Option<PixelsOf>, rel: &str, out: &mut Vec<Finding>) {
    let ds = &file.dataset;
    let detail = if crate::truncated::missing_pixels(ds, &file.meta).is_some() {
        "an image (an image storage SOP class, or Rows, Columns and Bits Allocated) without Pixel Data, Float Pixel Data or Double Float Pixel Data: cut before its pixels (a copy or transfer stopped mid-file?); copy it again, or run the same deid again"
    } else {
        if let Some(why) = crate::pixel_length::unfit(ds, &file.transfer_syntax) {
            out.push(finding(rel, "(7FE0,0010)".into(), FindingKind::DamagedOutput, why));
        }
        let cleaned = method_codes(ds).iter().any(|c| c == "113101");
        match input {
            Some(p) if !cleaned && !p.kept_by(PixelsOf::of(ds)) => {
                "its pixel data is not its input's (none, or another length) though the pixels were not cleaned: cut or damaged in copying? copy it again, or run the same deid again"
            }
            _ => return,
        }
    };
    out.push(finding(rel, "(7FE0,0010)".into(), FindingKind::DamagedOutput, detail));
}

/// Samples whose bits outside Bits Stored are set: whatever is drawn there (a retired embedded
/// overlay, text) leaves with the image, whether or not it was cleaned, and shows in a viewer
/// that ignores Bits Stored. Only the count is reported.
fn check_high_bits(ds: &DataSet, big_endian: bool, rel: &str, out: &mut Vec<Finding>) {
    if let Some(n @ 1..) = crate::overlay_bits::samples_outside_bits_stored(ds, big_endian) {
        out.push(finding(
            rel,
            "(7FE0,0010)".into(),
            FindingKind::PixelHighBits,
            format!("{n} sample(s) have bits set outside Bits Stored, which a viewer that ignores Bits Stored shows (deid --option clean-pixel-data --clean-all-pixels clears them)"),
        ));
    }
}

/// Metadata segments in the compressed frames (EXIF, comments, thumbnails, JP2 XML boxes),
/// whoever made the release: only their kinds and counts are reported. Pixel data left on disk
/// (a large file) is read one frame at a time.
fn check_stream_metadata(file: &read::DicomFile, path: &Path, rel: &str, out: &mut Vec<Finding>) {
    use crate::stream_metadata::{Codec, scan_on_disk, strip_pixel_data};
    let uid = &file.transfer_syntax.uid;
    let Some(codec) = Codec::of(uid) else { return };
    let found = match file.dataset.get(tags::PIXEL_DATA).map(|e| &e.value) {
        Some(Value::Fragments(_)) => {
            strip_pixel_data(&file.dataset, uid).map(|s| s.map(|s| s.removed).unwrap_or_default())
        }
        Some(Value::Deferred(d)) if d.encapsulated => scan_on_disk(path, d, codec),
        _ => return,
    };
    let detail = match found {
        Ok(r) if r.is_empty() => return,
        Ok(r) => format!(
            "the compressed frames carry metadata segments ({r}), which can hold names, IDs and real dates (kamei deid removes them)"
        ),
        Err(e) => format!("{e}; the compressed frames may carry metadata segments"),
    };
    out.push(finding(rel, "(7FE0,0010)".into(), FindingKind::StreamMetadata, detail));
}

fn location(stack: &[(Tag, usize)], tag: Tag) -> String {
    let mut s = String::new();
    for (t, i) in stack {
        s.push_str(&format!("{}[{}]/", tag_str(*t), i));
    }
    s.push_str(&tag_str(tag));
    s
}

const MARKERS: [Tag; 4] = [
    tags::PATIENT_IDENTITY_REMOVED,
    tags::DEIDENTIFICATION_METHOD,
    tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
    tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
];

/// Pixel and overlay data: not read as text. Narrower than [`crate::dataset::is_bulk_data`] on
/// purpose: waveform data, which deid's safety nets leave alone, is still searched here.
fn is_bulk(tag: Tag) -> bool {
    tag.group() == 0x7FE0 || (tag.group() & 0xFF01 == 0x6000 && tag.element() == 0x3000)
}

/// How the values of a data set are read: its character set (inherited by its items) and the
/// file's byte order (numbers).
struct Read {
    cs: CharacterSet,
    big_endian: bool,
}

fn check_dataset(
    ctx: &Ctx<'_>,
    ds: &DataSet,
    inherited: &Read,
    stack: &mut Vec<(Tag, usize)>,
    rel: &str,
    out: &mut Vec<Finding>,
) {
    let cs = match ds.bytes(tags::SPECIFIC_CHARACTER_SET) {
        Some(raw) if !raw.iter().all(|&b| b == b' ' || b == 0) => {
            CharacterSet::from_value_lenient(raw).unwrap_or_else(|_| CharacterSet::default_repertoire())
        }
        _ => inherited.cs.clone(),
    };
    let read = Read { cs: cs.clone(), big_endian: inherited.big_endian };
    let creators: HashMap<Tag, String> = ds
        .elements()
        .iter()
        .filter(|e| is_private_creator(e.tag))
        .filter_map(|e| Some((e.tag, cs.read(e.bytes()?, VR::LO).text().trim_matches([' ', '\0']).to_string())))
        .collect();
    for e in ds.elements() {
        let loc = || location(stack, e.tag);
        // kamei's own markers, and the codes inside its method code sequence (which --strict
        // would otherwise call attributes the profile removes), are checked by `check_markers`.
        let marker =
            stack.first().map_or(MARKERS.contains(&e.tag), |(t, _)| *t == tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE);
        if !marker && !is_private_creator(e.tag) {
            if is_private(e.tag) {
                let creator = private_creator_tag(e.tag).and_then(|t| creators.get(&t)).map(String::as_str);
                let rule = ctx.rules.private_rule(e.tag, creator);
                if rule.action == Action::Remove {
                    out.push(finding(
                        rel,
                        loc(),
                        FindingKind::PrivateNotAllowed,
                        "private attribute the profile removes",
                    ));
                } else if holds_unmapped_uid(ctx, e, rule) {
                    out.push(finding(rel, loc(), FindingKind::NotReplaced, "UID not replaced"));
                }
            } else if !kept_as_required(e, stack.last().map(|s| s.0), ds) {
                check_rule(ctx, e, stack, &loc(), rel, out);
            }
        }
        match &e.value {
            Value::Sequence(seq) => {
                for (i, item) in seq.items.iter().enumerate() {
                    stack.push((e.tag, i));
                    check_dataset(ctx, &item.dataset, &read, stack, rel, out);
                    stack.pop();
                }
            }
            Value::Bytes(bytes) if !is_bulk(e.tag) && bytes.len() <= 1 << 16 => {
                check_damage(e, bytes, &loc(), rel, out);
                kept_uids::check(&ctx.uid_clues, e, bytes, &loc(), rel, out);
                let text = match e.vr {
                    // Text in a binary value is 8-bit, UTF-16 or in another encoding than the
                    // data set's, EUC-JP or ISO-2022-JP (as deid reads it).
                    VR::OB | VR::OW | VR::OF | VR::OD | VR::OL | VR::OV | VR::UN => {
                        crate::kept_reading::byte_string_readings(String::from_utf8_lossy(bytes).into_owned(), bytes)
                            .join(" ")
                    }
                    // A private number equal to the Patient ID or the birth date, read in the
                    // file's byte order, as deid reads it.
                    VR::US | VR::SS | VR::UL | VR::SL | VR::FL | VR::FD | VR::AT | VR::SV | VR::UV => {
                        let held = ctx.patient_numbers.find(e.vr, bytes, read.big_endian).filter(|_| is_private(e.tag));
                        if let Some(clue) = held {
                            out.push(finding(
                                rel,
                                loc(),
                                FindingKind::ResidualIdentifier,
                                format!("a private number equals {} of its input", clue.label()),
                            ));
                        }
                        continue;
                    }
                    // As deid reads text: the declared set, else CP932, else byte for byte; a
                    // value it cannot decode also with its escapes taken out, as deid's safety
                    // net reads it ([`crate::charset::without_escapes`]: ANSI colour codes, a
                    // stray ESC, a designation the set does not use before the patient's name).
                    vr => {
                        let reading = cs.read(bytes, vr);
                        let mut text = reading.text().to_string();
                        if reading.decoded().is_none() {
                            for variant in crate::charset::without_escapes(bytes) {
                                text.push(' ');
                                text.push_str(cs.read(&variant, vr).text());
                            }
                        }
                        text
                    }
                };
                // kamei's own marker texts are not the patient's, whatever the name's words.
                let text = if marker { own_markers::searched_text(e.tag, stack, ds, text) } else { text };
                // A number attribute (Instance Number, Acquisition Number: IS, DS) holding the
                // digits of an ID is a count that happens to match, as `deid` reads it.
                let number = matches!(e.vr, VR::IS | VR::DS);
                // Values read as the words of one text: a name split over values
                // (`ORIGINAL\PRIMARY\YAMADA\TARO`) is still the name.
                let mut text = text.replace('\\', " ");
                // A URL writes a name percent-encoded (`name=OKADA%5EJUNICHI`): read decoded too.
                if let Some(decoded) = text.contains('%').then(|| url_decoded(&text)) {
                    text = format!("{text} {decoded}");
                }
                for id in ctx.find(&text) {
                    if !(number && id.text.bytes().all(|b| b.is_ascii_digit())) {
                        out.push(residual(rel, &loc(), id));
                    }
                }
                if may_hold_exam_date(e, bytes) {
                    // A code string's words are joined by `_` (`EXAM_2024_01_02`), as deid reads it.
                    let text = if e.vr == VR::CS { text.replace('_', "-") } else { text };
                    for id in ctx.find_exam_dates(&text) {
                        out.push(residual_date(rel, &loc(), id));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether a value is text `deid` looks at for the file's own dates, whose exam dates it must
/// then have shifted or replaced ([`Matcher::find_exam_dates`]): text (SH, LO, ST, LT, UT, UC,
/// UR), a code string, and a value of unknown type (UN, or a private binary value) that is not
/// itself a date (a date-shaped private value is a date `deid` shifts as one). Dates (DA, DT),
/// times, numbers, UIDs and names are not.
fn may_hold_exam_date(e: &crate::dataset::Element, bytes: &[u8]) -> bool {
    match e.vr {
        VR::SH | VR::LO | VR::ST | VR::LT | VR::UT | VR::UC | VR::UR | VR::CS => true,
        VR::UN if !is_private(e.tag) => {
            crate::dict::known_vr(e.tag).is_none_or(|vr| !matches!(vr, VR::DA | VR::DT | VR::TM | VR::UI))
        }
        VR::UN | VR::OB | VR::OW if is_private(e.tag) => crate::plan::date_shaped_vr(e.tag, e.vr, bytes).is_none(),
        _ => false,
    }
}

/// Text with each percent-encoded run decoded ([`crate::scrub::percent_decode`], read as
/// UTF-8), runs split where a URL splits them.
fn url_decoded(text: &str) -> String {
    text.split(['/', '?', '&', '=', '#', ';', ' '])
        .map(|run| {
            crate::scrub::percent_decode(run).map_or(run.to_string(), |b| String::from_utf8_lossy(&b).into_owned())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A text value holding bytes its VR does not allow ([`crate::wrong_length`]); a UN value is
/// judged by its dictionary VR.
fn check_damage(e: &crate::dataset::Element, bytes: &[u8], loc: &str, rel: &str, out: &mut Vec<Finding>) {
    let vr = if e.vr == VR::UN { crate::dict::known_vr(e.tag).unwrap_or(VR::UN) } else { e.vr };
    let detail = match crate::wrong_length::damage(vr, bytes) {
        None => return,
        Some(crate::wrong_length::Damage::SwallowedElements) => {
            "holds bytes its VR does not allow, shaped like element headers: a wrong length ran it over the elements after it, which can hold the patient's name"
        }
        Some(crate::wrong_length::Damage::ForeignBytes) => {
            "holds bytes its VR does not allow (a NUL or a control character): a wrong length may have run it over the elements after it"
        }
    };
    out.push(finding(rel, loc.to_string(), FindingKind::DamagedValue, detail));
}

/// Whether `e` is an attribute the table removes but its IOD requires, left as deid leaves it
/// ([`crate::plan::required_despite_x`]): empty for a Type 2 one (an animal's Responsible
/// Person), empty or the dummy for a Type 1 one (Presentation Creation Date). `parent` is the
/// sequence holding the item `ds` (`None` at the top level).
fn kept_as_required(e: &crate::dataset::Element, parent: Option<Tag>, ds: &DataSet) -> bool {
    match crate::plan::required_despite_x(e.tag, parent, ds) {
        Some(Action::Empty) => e.value.is_empty(),
        Some(Action::Dummy) => {
            e.value.is_empty()
                || e.bytes().is_some_and(|b| b.trim_ascii_end() == crate::plan::dummy_value(e.vr).as_slice())
        }
        _ => false,
    }
}

/// Whether a UID kept without an explicit rule (an attribute newer than the table, such as
/// Multi-frame Source SOP Instance UID, or a kept private UID) still holds an original UID.
/// Unless Retain UIDs is on, `deid` maps each such value to a `2.25` UID; UIDs the standard
/// registers ([`crate::dict::is_dicom_defined_uid`]) and attributes that name a class, transfer syntax or coding scheme keep
/// theirs.
fn holds_unmapped_uid(ctx: &Ctx<'_>, e: &crate::dataset::Element, rule: &crate::profile::Rule) -> bool {
    let default_keep = rule.source.is_unchosen_keep();
    let is_uid = e.vr == VR::UI
        || (e.vr == VR::UN && !is_private(e.tag) && crate::dict::vr_of(e.tag) == VR::UI)
        || private_value_holds_uids(e);
    if !default_keep
        || !is_uid
        || crate::dict::names_registered_uid(e.tag)
        || ctx.rules.options().contains(&DeidOption::RetainUids)
    {
        return false;
    }
    let Some(bytes) = e.bytes() else { return false };
    String::from_utf8_lossy(bytes).split('\\').map(|u| u.trim_matches([' ', '\0'])).any(|u| {
        !u.is_empty()
            && !u.starts_with("2.25.")
            && !crate::dict::is_dicom_defined_uid(u)
            && !crate::plan::is_private_version(e.tag, u)
    })
}

/// Whether a private value of unknown type (UN or OB: sent in an Implicit VR file, or by a
/// system that did not know the VR) is UIDs: every value spelled as a UID and one of them with
/// an instance UID's components ([`crate::dict::has_instance_uid_components`]), which a number,
/// a date or a version string does not have. `deid` maps such values like UI values, so one
/// left as it was is an original UID.
fn private_value_holds_uids(e: &crate::dataset::Element) -> bool {
    if !is_private(e.tag) || !matches!(e.vr, VR::UN | VR::OB) {
        return false;
    }
    let Some(bytes) = e.bytes() else { return false };
    let text = String::from_utf8_lossy(bytes);
    let values: Vec<&str> = text.trim_matches([' ', '\0']).split('\\').collect();
    values.iter().all(|v| crate::shown::is_uid(v)) && values.iter().any(|v| crate::dict::has_instance_uid_components(v))
}

/// Whether `deid` scrubs this value instead of applying its rule: free text (ST, LT, UT, UC)
/// inside a sequence the profile cleans or pseudonymizes (an SR's Text Value), which a dummy
/// or removal would break (see [`crate::plan`]).
fn scrubbed_in_cleaned_sequence(ctx: &Ctx<'_>, e: &crate::dataset::Element, stack: &[(Tag, usize)]) -> bool {
    let vr = if e.vr == VR::UN { crate::dict::known_vr(e.tag).unwrap_or(VR::UN) } else { e.vr };
    matches!(vr, VR::ST | VR::LT | VR::UT | VR::UC)
        && stack
            .iter()
            .any(|(t, _)| !is_private(*t) && matches!(ctx.rules.rule(*t).action, Action::Clean | Action::Pseudonymize))
}

fn check_rule(
    ctx: &Ctx<'_>,
    e: &crate::dataset::Element,
    stack: &[(Tag, usize)],
    loc: &str,
    rel: &str,
    out: &mut Vec<Finding>,
) {
    let rule = ctx.rules.rule(e.tag);
    let text =
        || e.bytes().map(|b| String::from_utf8_lossy(b).trim_matches([' ', '\0']).to_string()).unwrap_or_default();
    match &rule.action {
        Action::Remove => {
            out.push(finding(rel, loc.to_string(), FindingKind::NotAllowed, "attribute the profile removes"))
        }
        Action::Empty if !e.value.is_empty() => {
            out.push(finding(rel, loc.to_string(), FindingKind::NotEmpty, "attribute the profile empties has a value"))
        }
        // X/Z: `deid` empties a value (or removes a Type 3 sequence), at any depth; a value
        // left is the real date, time or text (Acquisition Date, Requested Procedure
        // Description).
        Action::Conditional(Conditional::XZ) if !e.value.is_empty() && !scrubbed_in_cleaned_sequence(ctx, e, stack) => {
            out.push(finding(
                rel,
                loc.to_string(),
                FindingKind::NotEmpty,
                "attribute the profile removes or empties (X/Z) has a value",
            ))
        }
        Action::ReplaceUid if e.vr == VR::UI => {
            let t = text();
            if t.split('\\').any(|u| !u.is_empty() && !u.starts_with("2.25.") && !crate::dict::is_dicom_defined_uid(u))
            {
                out.push(finding(rel, loc.to_string(), FindingKind::NotReplaced, "UID not replaced"));
            }
        }
        Action::Keep if holds_unmapped_uid(ctx, e, rule) => {
            out.push(finding(rel, loc.to_string(), FindingKind::NotReplaced, "UID not replaced"))
        }
        Action::Pseudonymize if e.tag == tags::PATIENT_ID || e.tag == tags::PATIENT_NAME => {
            let t = text();
            let ok = t.len() == crate::pseudo::PSEUDONYM_HEX_LEN
                && t.chars().all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c));
            if !ok {
                out.push(finding(rel, loc.to_string(), FindingKind::NotReplaced, "not a kamei pseudonym"));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_keeps_its_inputs_pixels_at_the_same_length_or_padded_to_even() {
        let native = |n| Some(PixelsOf::Native(tags::PIXEL_DATA, n));
        assert!(PixelsOf::Native(tags::PIXEL_DATA, 128).kept_by(native(128)));
        assert!(PixelsOf::Native(tags::PIXEL_DATA, 127).kept_by(native(128)), "odd lengths are padded");
        assert!(!PixelsOf::Native(tags::PIXEL_DATA, 128).kept_by(native(64)), "cut");
        assert!(!PixelsOf::Native(tags::PIXEL_DATA, 128).kept_by(None), "lost");
        assert!(!PixelsOf::Native(tags::PIXEL_DATA, 128).kept_by(Some(PixelsOf::Native(tags::FLOAT_PIXEL_DATA, 128))));
        // Compressed frames lose their metadata segments: only their presence is compared.
        assert!(PixelsOf::Encapsulated.kept_by(Some(PixelsOf::Encapsulated)));
        assert!(!PixelsOf::Encapsulated.kept_by(None));
    }

    #[test]
    fn a_content_hash_is_held_as_its_bytes() {
        let hex = "00ff".repeat(16);
        assert_eq!(digest_bytes(&hex).map(|d| (d[0], d[1])), Some((0, 255)));
        assert_eq!(digest_bytes("not hex"), None);
        assert_ne!(pair_digest("a", "bc"), pair_digest("ab", "c"));
    }
}
