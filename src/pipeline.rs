//! The batch pipeline, and the only module that knows the order of the stages:
//! walk → read → plan → apply → write → audit.
//!
//! Workers (a rayon pool of `jobs` threads) take inputs in sorted order and run `process_one`;
//! results go over a bounded channel to one thread that appends the audit and linkage records
//! and reports progress. A failure of one input becomes its audit record and never stops the
//! run. The library prints nothing: progress and per-input messages go through [`Reporter`].

use crate::apply;
use crate::audit::{self, ActionCount, AuditRecord, AuditWriter, MadeBy, Outcome, RunSettings};
use crate::cohort::Cohort;
use crate::layout::{self, Layout};
use crate::linkage::{self, Kind, LinkageWriter};
use crate::pixels::{self, PixelCleaner};
use crate::plan::{self, BurnedIn, IdentifierCache, PlanContext};
use crate::profile::{DeidOption, Profile, RuleSet};
use crate::pseudo::{Patient, Pseudonymizer};
use crate::read::{self, Opened, ReadOptions, Source};
use crate::walk::{self, Input, Shard};
use crate::write;
use dicom_dictionary_std::tags;
use rayon::prelude::*;
use snafu::{ResultExt, Snafu};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Errors that stop a run before any input is processed (nothing is written).
#[derive(Debug, Snafu)]
#[non_exhaustive]
pub enum Error {
    /// The output folder could not be created.
    #[snafu(display("could not create the output folder {}", path.display()))]
    CreateOut {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The audit log or run settings could not be opened, or do not match.
    #[snafu(display("{source}"))]
    Audit {
        /// The audit error.
        source: audit::Error,
    },
    /// The linkage table could not be opened.
    #[snafu(display("{source}"))]
    Linkage {
        /// The linkage error.
        source: linkage::Error,
    },
    /// Another run is writing into OUT (or the same shard is running).
    #[snafu(display("{source}"))]
    Lock {
        /// The lock error.
        source: crate::lock::Error,
    },
    /// The worker pool could not be started.
    #[snafu(display("could not start {jobs} worker threads"))]
    Pool {
        /// Requested threads.
        jobs: usize,
        /// The rayon error.
        source: rayon::ThreadPoolBuildError,
    },
}

/// Everything a de-identification run needs, resolved and validated (by the CLI or a caller).
#[derive(Debug)]
pub struct Job {
    /// Files and folders to process.
    pub inputs: Vec<PathBuf>,
    /// The output folder.
    pub out: PathBuf,
    /// Output layout.
    pub layout: Layout,
    /// The profile (for its name, digest and options).
    pub profile: Profile,
    /// The keyed pseudonymizer (or an anonymizing one).
    pub pseudo: Pseudonymizer,
    /// Which share of the inputs to process.
    pub shard: Shard,
    /// Worker threads (0: all cores).
    pub jobs: usize,
    /// Plan everything, write nothing.
    pub dry_run: bool,
    /// `fsync` each output before renaming it (durability against power loss).
    pub sync: bool,
    /// Where to append the linkage table (pseudonymized mode only).
    pub linkage: Option<PathBuf>,
    /// How to read inputs.
    pub read: ReadOptions,
    /// Which patients and studies may be released (opt-outs, cohort, study window).
    pub cohort: Cohort,
    /// The pixel cleaner, when `clean-pixel-data` is on.
    pub pixels: Option<PixelCleaner>,
    /// Where to write before/after PNGs of cleaned images (`--previews`; sensitive).
    pub previews: Option<PathBuf>,
    /// Patient masters (`--identifiers-from`): each file's kept text is cleaned of the values
    /// they hold for its Patient ID too.
    pub sources: crate::clinical::csv::IdentifierSources,
}

/// How one input ended, for the reporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Written now.
    Written,
    /// An identical output was already there.
    Present,
    /// Written by an earlier run (from the audit log); not read again beyond hashing.
    AlreadyDone,
    /// Not DICOM or a DICOMDIR.
    Skipped,
    /// Left out: opted out, not in the cohort, or outside the study window.
    Excluded,
    /// Failed.
    Failed,
}

/// One finished input, as the reporter sees it.
#[derive(Debug)]
pub struct InputEvent<'a> {
    /// The input (its path is for the operator's terminal only with `--show-paths`).
    pub input: &'a Input,
    /// Its 1-based position in the sorted input list of this shard.
    pub number: usize,
    /// The outcome.
    pub status: Status,
    /// Why it was skipped or failed (no values).
    pub reason: Option<&'a str>,
    /// The content hash, when the input could be read.
    pub sha256: Option<&'a str>,
}

/// Receives progress; implemented by the CLI (progress bar, stderr lines).
pub trait Reporter: Sync {
    /// The walk is done: how many inputs, how many bytes.
    fn walked(&self, _files: usize, _bytes: u64) {}
    /// One input is finished.
    fn finished(&self, _event: &InputEvent<'_>) {}
    /// A directory entry could not be read during the walk (or is not a file). `number` is its
    /// 1-based position among the run's inputs: the files are 1 to their count, these entries
    /// follow in the walk's order, so each input of the run has a number of its own to name it
    /// by in messages (paths carry names).
    fn walk_error(&self, _error: &walk::WalkError, _number: usize) {}
}

/// A reporter that reports nothing.
pub struct Silent;
impl Reporter for Silent {}

/// Totals of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Inputs in this shard.
    pub inputs: usize,
    /// Input paths dropped because they named a file another input of this shard already
    /// names ([`walk::Input::duplicates`]): not counted in `inputs`.
    pub duplicates: usize,
    /// Written now (in a dry run: would be written).
    pub written: usize,
    /// Identical output already present.
    pub present: usize,
    /// Done by an earlier run.
    pub already_done: usize,
    /// Skipped (not DICOM, DICOMDIR).
    pub skipped: usize,
    /// Failed inputs, including unreadable directory entries.
    pub failed: usize,
    /// Inputs left out by the cohort (opt-outs, inclusion list, study window).
    pub excluded: usize,
    /// Distinct patients those inputs belong to (counted by keyed digest, never listed).
    pub excluded_patients: usize,
    /// Bytes of input read.
    pub bytes: u64,
    /// Written images whose header says they may carry burned-in text and were not cleaned
    /// (clean-pixel-data not selected).
    pub burned_in_not_cleaned: usize,
    /// Written images of an annotated kind released uncleaned because their Burned In
    /// Annotation NO was trusted (`--trust-burned-in-no`).
    pub burned_in_no_trusted: usize,
    /// Outputs that keep, under `retain-uids`, a UID spelling the Patient ID or one of the
    /// file's dates ([`crate::uid_clues::KEPT_UID_NOTE`] in their audit record).
    pub uids_with_identifiers: usize,
    /// Cleaned images whose `--previews` PNG could not be written (the reason is in the audit).
    pub previews_not_written: usize,
    /// Patients seen (distinct pseudonyms).
    pub patients: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Outputs of earlier runs removed because their input path now holds other content.
    pub superseded: usize,
    /// Such outputs left in place (a shard cannot tell whether another shard's input still has
    /// that content).
    pub superseded_left: usize,
    /// Outputs of earlier runs found damaged (their size is not the one the audit records: cut
    /// or grown since) and written again from their inputs (in a dry run: that would be).
    pub damaged_rewritten: usize,
    /// SOP Instance UIDs held by more than one output of this run (or by an output of this run
    /// and one already in OUT under the same name): different inputs with the same SOP Instance
    /// UID are all released, and a reader that keys on the UID keeps only one.
    pub shared_sop_uids: usize,
    /// Patient IDs this run saw with more than one Issuer of Patient ID (0010,0021): the
    /// pseudonym is derived from the Patient ID alone, so patients of different issuers who
    /// share a local ID share one pseudonym and date shift (counted by pseudonym and issuer
    /// digest, never listed).
    pub ids_with_several_issuers: usize,
    /// (New) Study Instance UIDs this run wrote under more than one patient pseudonym because
    /// some of their files have no Patient ID (and take the study's own pseudonym) while others
    /// have one: a study split across patients, whose dates are shifted by different offsets.
    pub studies_under_several_patients: usize,
    /// (New) Study Instance UIDs this run wrote under more than one patient pseudonym because
    /// their files name different Patient IDs (a study re-assigned or merged to another patient
    /// in part, or two patients' images under one Study Instance UID): each file is filed under
    /// its own Patient ID's pseudonym, so the study is split across patients.
    pub studies_under_several_ids: usize,
    /// Lines of the audit logs in OUT that could not be read (a power cut or disk error in the
    /// middle of a write): ignored, their inputs processed again (README "Audit log").
    pub damaged_audit: Vec<audit::DamagedLines>,
    /// The INPUT arguments (0-based positions) that exist but hold no file nor any other entry
    /// (an empty folder: an export mount that failed, a copy that has not started). Every
    /// `--shard` run names the same ones as the whole run: each walks every INPUT before it
    /// takes its share ([`walk::Walk::empty`]).
    pub empty_inputs: Vec<usize>,
    /// The INPUTs held no file at all, in any shard ([`Summary::empty_inputs`] names every
    /// INPUT): nothing to release, which the CLI treats as a failed run unless `--allow-empty`.
    /// A run whose inputs were all done earlier is not empty.
    pub no_input_file: bool,
    /// Stopped early by an interrupt; unprocessed inputs are not counted.
    pub interrupted: bool,
    /// Stopped early because the audit log or linkage table could not be written (e.g. the disk
    /// is full): why. Outputs already written are complete.
    pub aborted: Option<String>,
}

impl Summary {
    /// Inputs that ended in no state (an interrupted or aborted run): the summary adds up with
    /// them.
    pub fn not_processed(&self) -> usize {
        let ended = self.written + self.present + self.already_done + self.skipped + self.failed + self.excluded;
        self.inputs.saturating_sub(ended)
    }
}

/// The SOP Instance UIDs of a run's outputs, to count those that more than one output holds
/// at the end of the run. Held as digests: a run over a million files keeps 32 bytes a file
/// here, not its UID and output path.
#[derive(Default)]
struct SharedSopUids {
    /// Digest of a SOP Instance UID → digest of the first output (path in OUT) seen with it.
    first: HashMap<Digest, Digest>,
    /// The UIDs (digests) two outputs of this run hold (at different paths): both stay.
    shared: std::collections::HashSet<Digest>,
    /// The UIDs of outputs whose name another output in OUT had (an earlier run's, which this
    /// run may then remove as superseded): the name they claim, and how many of this run's
    /// outputs claiming it are not in OUT (a dry run writes none). Counted at the end
    /// ([`SharedSopUids::count`]), from the files that claim the name then.
    contended: HashMap<Digest, (PathBuf, usize)>,
}

impl SharedSopUids {
    /// Take note of one output (`on_disk`: it is in OUT, not only planned by a dry run):
    /// shared when another output of this run (at another path) has its UID; to be counted at
    /// the end when its name was another output's.
    fn note(&mut self, r: &Released, output: &str, on_disk: bool) {
        if r.sop_uid.is_empty() {
            return;
        }
        let uid = digest(r.sop_uid.as_bytes());
        let path = digest(output.as_bytes());
        let first = self.first.entry(uid).or_insert(path);
        if *first != path {
            self.shared.insert(uid);
        }
        if let Some(name) = &r.claimed {
            let entry = self.contended.entry(uid).or_insert_with(|| (PathBuf::from(name), 0));
            entry.1 += usize::from(!on_disk);
        }
    }

    /// The UIDs more than one output holds at the end of the run: two outputs of this run, or
    /// two files that claim one name (the name itself and its collision names, `<stem>.<12
    /// hex>.<ext>`) once superseded outputs are gone (`going`: those a dry run would remove).
    /// Each folder concerned is listed once.
    fn count(&self, out: &Path, going: &std::collections::HashSet<PathBuf>) -> usize {
        let mut by_folder: HashMap<PathBuf, Vec<(&Path, Digest, usize)>> = HashMap::new();
        for (uid, (name, planned)) in &self.contended {
            let folder = name.parent().unwrap_or(Path::new("")).to_path_buf();
            by_folder.entry(folder).or_default().push((name.as_path(), *uid, *planned));
        }
        let mut shared = self.shared.clone();
        for (folder, names) in by_folder {
            let mut claims: HashMap<&Path, usize> = names.iter().map(|(n, _, planned)| (*n, *planned)).collect();
            let entries = std::fs::read_dir(out.join(&folder)).into_iter().flatten().flatten();
            for e in entries.filter(|e| e.file_type().is_ok_and(|t| t.is_file())) {
                let rel = folder.join(e.file_name());
                if going.contains(&rel) {
                    continue;
                }
                // Its own name first: a plain name may end in twelve digits (a UID component).
                let claimed = if claims.contains_key(rel.as_path()) { rel } else { claimed_name(&rel) };
                if let Some(n) = claims.get_mut(claimed.as_path()) {
                    *n += 1;
                }
            }
            shared.extend(names.iter().filter(|(n, _, _)| claims[n] > 1).map(|(_, uid, _)| *uid));
        }
        shared.len()
    }
}

/// The name a file in OUT claims: its own, or, for a collision name (`<stem>.<12 lower-case
/// hex>.<ext>`, [`layout::collision_name`]), the name without the hash.
fn claimed_name(rel: &Path) -> PathBuf {
    let stem = rel.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let hashed = stem
        .rsplit_once('.')
        .filter(|(_, h)| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    match hashed {
        Some((plain, _)) => {
            let ext = rel.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
            rel.with_file_name(format!("{plain}{ext}"))
        }
        None => rel.to_path_buf(),
    }
}

/// A digest that stands for a value held only to be compared (the first 16 bytes of its
/// SHA-256): the run counts with it and never shows it.
type Digest = [u8; 16];

fn digest(bytes: &[u8]) -> Digest {
    use sha2::Digest as _;
    let full = sha2::Sha256::digest(bytes);
    let mut d = [0u8; 16];
    d.copy_from_slice(&full[..16]);
    d
}

/// What this run's outputs say about how they were linked to patients, to count two ways the
/// pseudonyms can mislead whoever uses the release: one Patient ID seen with several Issuers
/// of Patient ID (different patients merged under one pseudonym), and one Study Instance UID
/// written under several pseudonyms (a study split). Holds pseudonyms and digests only.
#[derive(Default)]
struct PatientLinks {
    /// Pseudonym (of a Patient ID) → digests of the issuers seen with it.
    issuers: HashMap<String, std::collections::HashSet<Digest>>,
    /// Digest of an output's Study Instance UID → the pseudonyms it was written under.
    studies: HashMap<Digest, StudyPseudonyms>,
}

/// The pseudonyms one study was written under, by where they came from.
#[derive(Default)]
struct StudyPseudonyms {
    /// The pseudonyms of the Patient IDs its files name.
    of_ids: std::collections::HashSet<String>,
    /// Some of its files have no Patient ID (they take the study's own pseudonym).
    without_id: bool,
}

impl PatientLinks {
    /// Take note of one output written (or found present) under `pseudonym`.
    fn note(&mut self, r: &Released, pseudonym: &str) {
        if let Some(issuer) = r.issuer {
            self.issuers.entry(pseudonym.to_string()).or_default().insert(issuer);
        }
        if let Some(study) = r.study {
            let seen = self.studies.entry(study).or_default();
            if r.id_missing {
                seen.without_id = true;
            } else {
                seen.of_ids.insert(pseudonym.to_string());
            }
        }
    }

    /// Patient IDs seen with more than one issuer.
    fn ids_with_several_issuers(&self) -> usize {
        self.issuers.values().filter(|i| i.len() > 1).count()
    }

    /// Study Instance UIDs written under more than one pseudonym because some of their files
    /// have no Patient ID and others have one.
    fn studies_under_several_patients(&self) -> usize {
        self.studies.values().filter(|p| p.without_id && !p.of_ids.is_empty()).count()
    }

    /// Study Instance UIDs whose files name more than one Patient ID (by pseudonym).
    fn studies_under_several_ids(&self) -> usize {
        self.studies.values().filter(|p| p.of_ids.len() > 1).count()
    }
}

/// The digest of an input's Issuer of Patient ID (0010,0021) as decoded text
/// ([`plan::comparable_text`]: one issuer written in two character sets is one issuer), when
/// the file has a Patient ID and an issuer: `None` otherwise (a file without an issuer is not
/// counted as another issuer, since one modality of a hospital often leaves it out).
fn issuer_digest(ds: &crate::dataset::DataSet, id_missing: bool) -> Option<Digest> {
    let issuer = ds.bytes(tags::ISSUER_OF_PATIENT_ID).map(plan::trim_value)?;
    let text = plan::comparable_text(ds, issuer, dicom_core::VR::LO);
    (!id_missing && !text.is_empty()).then(|| digest(text.as_bytes()))
}

/// What one worker produced for one input.
/// Why a written image that may carry burned-in text left uncleaned: each is counted apart in
/// the summary, which warns about both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Uncleaned {
    /// clean-pixel-data was not selected.
    OptionNotSelected,
    /// Its Burned In Annotation NO was trusted (`--trust-burned-in-no`).
    NoTrusted,
}

struct Processed {
    number: usize,
    status: Status,
    reason: Option<String>,
    sha256: Option<String>,
    bytes: u64,
    record: Option<AuditRecord>,
    patient: Option<(String, String)>,
    output: Option<String>,
    /// Why a written image that may carry burned-in text was not cleaned, when it was not.
    uncleaned: Option<Uncleaned>,
    preview_not_written: bool,
    excluded_patient: Option<String>,
    /// Other outputs this one displaced from its name (already in the audit log).
    moved: Vec<write::Moved>,
    /// The SOP Instance UID of the output written (or found present), for counting outputs
    /// that share one; never printed.
    released: Option<Released>,
    /// An earlier run's output of this input was damaged (its size is not the recorded one) and
    /// this one was written (or, in a dry run, would be written) in its place.
    rewrote_damaged: bool,
}

impl Processed {
    /// The result of an input this run writes no output for (failed, skipped, left out, done
    /// earlier): its number, status, content hash and size, and nothing else; callers add the
    /// reason, the audit record or the earlier output's name.
    fn without_output(number: usize, status: Status, sha256: Option<String>, bytes: u64) -> Processed {
        Processed {
            number,
            status,
            reason: None,
            sha256,
            bytes,
            record: None,
            patient: None,
            output: None,
            uncleaned: None,
            preview_not_written: false,
            excluded_patient: None,
            moved: Vec::new(),
            released: None,
            rewrote_damaged: false,
        }
    }
}

/// An earlier run's output of an input whose size is not the one its audit record gives (cut,
/// or grown, since): a resume writes it again ([`process_one`]).
struct DamagedOutput {
    /// Where it is, relative to OUT.
    path: String,
    /// Its size now.
    found: u64,
    /// Its size as recorded.
    recorded: u64,
}

/// What an output tells about the SOP Instance UIDs of the release.
struct Released {
    /// The output's (new) SOP Instance UID.
    sop_uid: String,
    /// The name it claims (its layout target), when another output already in OUT had it (the
    /// same SOP Instance UID under the same patient and series): one of them carries its
    /// content hash in its name.
    claimed: Option<String>,
    /// The digest of the input's Issuer of Patient ID ([`issuer_digest`]).
    issuer: Option<Digest>,
    /// The digest of the output's Study Instance UID, when it has one.
    study: Option<Digest>,
    /// The input has no Patient ID: its pseudonym is its study's own.
    id_missing: bool,
}

struct Context<'a> {
    job: &'a Job,
    rules: RuleSet,
    profile_label: String,
    base: MadeBy,
    done: HashMap<String, audit::DoneOutput>,
    /// Input content hash → its output's hash, where the audit knows it.
    done_sha: HashMap<String, String>,
    /// Input path key → the contents recorded for that path and their outputs ([`audit::Done`]).
    by_path: HashMap<String, Vec<(String, String)>>,
    staging: PathBuf,
    /// This run's staging folder in the previews folder ([`pixels::preview::staging`]).
    preview_staging: Option<PathBuf>,
    /// The audit log, shared with the workers, which record a move before they make it.
    audit: &'a Mutex<Option<AuditWriter>>,
    /// The identifier sets built so far, shared by the workers.
    identifiers: IdentifierCache,
}

/// The path an input is known by below its input folder (with several inputs, under the input
/// folder's own name): the mirror layout's output path and the input path key's source.
fn input_rel(job: &Job, input: &Input) -> PathBuf {
    if job.inputs.len() > 1 {
        let root = job.inputs[input.root].file_name().map(PathBuf::from).unwrap_or_default();
        root.join(&input.rel)
    } else {
        input.rel.clone()
    }
}

/// Run a job. A run that writes holds a lock on the output folder until it returns (see
/// [`crate::lock`]): no other run writes into it meanwhile.
///
/// # Errors
/// [`Error`] when the run cannot start ([`Error::Lock`]: another run is writing into OUT);
/// per-input problems are in the summary and the audit.
pub fn run(job: &Job, reporter: &dyn Reporter, interrupt: &AtomicBool) -> Result<Summary, Error> {
    let started = Instant::now();
    let profile = &job.profile;
    let mode = if job.pseudo.is_keyed() { "pseudonymized" } else { "anonymized" };
    let options: Vec<String> = profile.options().iter().map(|o| o.name().to_string()).collect();
    let base = MadeBy {
        profile: profile.name().to_string(),
        profile_sha256: profile.sha256(),
        options: options.clone(),
        mode: mode.to_string(),
    };
    let shard_label = (job.shard.count > 1).then(|| job.shard.label());
    let staging = job.out.join(".kamei-partial").join(shard_label.clone().unwrap_or_else(|| "whole".into()));
    let preview_staging =
        job.previews.as_deref().map(|dir| pixels::preview::staging(dir, shard_label.as_deref().unwrap_or("whole")));

    let settings = RunSettings {
        kamei_version: env!("CARGO_PKG_VERSION").to_string(),
        mode: mode.to_string(),
        key_fingerprint: job.pseudo.is_keyed().then(|| job.pseudo.key_fingerprint().to_string()),
        profile: base.profile.clone(),
        profile_sha256: base.profile_sha256.clone(),
        options,
        layout: job.layout.name().to_string(),
        cohort: job.cohort.digest(&job.pseudo),
        pixels: job.pixels.as_ref().map(PixelCleaner::fingerprint),
        date_shift: Some(audit::date_shift_label(job.pseudo.date_shift_policy())),
        shards: (job.shard.count > 1).then_some(job.shard.count),
        identifiers: job.sources.digest(),
        strict: Some(profile.strict()),
    };
    // Held until this function returns: no other run writes into OUT meanwhile (see `lock`).
    let mut _lock = None;
    // The linkage table (not in a dry run), opened before OUT is created.
    let mut linkage = None;
    if job.dry_run {
        // What the real run would do: refuse other settings, skip finished work.
        settings.check(&job.out).context(AuditSnafu)?;
    } else {
        // Refused before anything is created (no lock or staging folder left behind); checked
        // again under the lock, against a run that started meanwhile.
        settings.check(&job.out).context(AuditSnafu)?;
        // The linkage table too is opened (created) before OUT: a table that cannot be created
        // (a missing folder, one not writable) ends the run with nothing in OUT, whose run file
        // would otherwise pin its settings for the corrected retry.
        if let Some(p) = &job.linkage {
            linkage = Some(LinkageWriter::open(p, job.pseudo.key_fingerprint()).context(LinkageSnafu)?);
        }
        std::fs::create_dir_all(&job.out).context(CreateOutSnafu { path: &job.out })?;
        _lock = Some(
            if job.shard.count > 1 {
                crate::lock::shard(&job.out, &staging, &job.shard.to_string())
            } else {
                crate::lock::whole(&job.out)
            }
            .context(LockSnafu)?,
        );
        std::fs::create_dir_all(&staging).context(CreateOutSnafu { path: &staging })?;
        settings.claim(&job.out).context(AuditSnafu)?;
        // Temporary files of a killed run of this shard are stale: remove them (the folder
        // itself stays: it holds this shard's lock).
        clear_folder(&staging).context(CreateOutSnafu { path: &staging })?;
        // And so are those it left in the previews folder.
        if let (Some(dir), Some(at)) = (&job.previews, &preview_staging) {
            pixels::preview::clear_stale(dir, at).context(CreateOutSnafu { path: at })?;
        }
    }
    let mut earlier = audit::done_inputs(&job.out).context(AuditSnafu)?;
    let done = std::mem::take(&mut earlier.outputs);
    let done_sha = std::mem::take(&mut earlier.output_sha256);
    let fold_moves = !earlier.contended.is_empty();
    // The audit's moves whose `moved` rows the table lacks (a run killed between a move and
    // its row): written before the `file` rows of the inputs whose outputs moved.
    let mut unlinked = match (&linkage, &job.linkage) {
        (Some(_), Some(table)) => crate::unlinked_moves::UnlinkedMoves::read(table, &earlier.moves),
        _ => crate::unlinked_moves::UnlinkedMoves::default(),
    };
    let mut supersede = crate::supersede::Supersede::new();
    let audit_path = job.out.join(audit::audit_file_name(shard_label.as_deref()));
    let audit_writer = if job.dry_run { None } else { Some(AuditWriter::open(&audit_path).context(AuditSnafu)?) };
    // Where this run's records start in its log, and the input paths it meets: at the end, the
    // failures they make stale are dropped from every log it may rewrite (crate::stale_failures).
    // Only the logs that held, when the run started, a failure of a path it meets are read again.
    let since = std::fs::metadata(&audit_path).map_or(0, |m| m.len());
    let mut met = crate::stale_failures::Met::default();
    let replaceable = std::mem::take(&mut earlier.replaceable);
    let audit_writer = Mutex::new(audit_writer);

    let walk::Walk { files: inputs, errors: walk_errors, empty: empty_inputs } =
        walk::walk(&job.inputs, Some(&job.out), job.shard);
    if job.pseudo.is_keyed() {
        // An INPUT that exists is met, though nothing else names its path: a folder missing on
        // an earlier run (a failed record of its path) is there now.
        for root in job.inputs.iter().filter(|r| r.exists()) {
            met.insert(&path_key(job, root));
        }
        // So is a folder inside one that this run read (an entry was found in it): one that was
        // unreadable, or behind a dangling link, on an earlier run is there now.
        let folders = walked_folders(job, &inputs, &walk_errors);
        for key in folders.par_iter().map(|f| path_key(job, f)).collect::<Vec<_>>() {
            met.insert(&key);
        }
    }
    let total_bytes: u64 = inputs.iter().map(|i| i.size).sum();
    tracing::debug!(inputs = inputs.len(), bytes = total_bytes, unreadable_or_special = walk_errors.len(), "walked");
    reporter.walked(inputs.len(), total_bytes);
    // Entries that could not be read, or are not files, are inputs too: each ends failed or
    // skipped, so the counts add up.
    let duplicates = inputs.iter().map(|i| i.duplicates).chain(walk_errors.iter().map(|e| e.duplicates)).sum();
    let mut summary = Summary {
        inputs: inputs.len() + walk_errors.len(),
        no_input_file: !job.inputs.is_empty() && empty_inputs.len() == job.inputs.len(),
        empty_inputs,
        duplicates,
        damaged_audit: std::mem::take(&mut earlier.damaged),
        ..Summary::default()
    };
    for (i, e) in walk_errors.iter().enumerate() {
        reporter.walk_error(e, inputs.len() + i + 1);
        let (outcome, kind) = if e.not_a_file {
            summary.skipped += 1;
            (Outcome::Skipped, Kind::Skipped)
        } else {
            summary.failed += 1;
            (Outcome::Failed, Kind::Failed)
        };
        if let Some(w) = audit_writer.lock().expect("audit lock").as_mut() {
            let mut record = base_record(&base, None, 0, outcome, Some(e.message.clone()));
            // Keyed like an input, so the record of this path made when the cause is gone (a
            // link's target appeared) replaces this one at compaction.
            record.input_path_key = job.pseudo.is_keyed().then(|| resolved_path_key(job, &e.identity));
            if let Some(key) = &record.input_path_key {
                met.insert(key);
            }
            if e.duplicates > 0 {
                record.notes.push(duplicates_note(e.duplicates));
            }
            w.append(&record).context(AuditSnafu)?;
        }
        if let Some(l) = linkage.as_mut() {
            l.add_path(kind, &e.path, &e.message).context(LinkageSnafu)?;
        }
    }

    let ctx = Context {
        job,
        rules: profile.compile(),
        profile_label: profile.method_label(),
        base,
        done,
        done_sha,
        by_path: if job.layout == Layout::Mirror { earlier.by_path.clone() } else { HashMap::new() },
        staging: staging.clone(),
        preview_staging: preview_staging.clone(),
        audit: &audit_writer,
        identifiers: IdentifierCache::default(),
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(job.jobs).build().context(PoolSnafu { jobs: job.jobs })?;
    // Each result goes with its input's path key (pseudonymized mode), computed by the worker:
    // resolving the path is a few system calls, kept off the single writer thread.
    let (tx, rx) = mpsc::sync_channel::<(Processed, Option<String>)>(256);
    let mut patients = std::collections::HashSet::new();
    let mut sop_uids = SharedSopUids::default();
    let mut links = PatientLinks::default();
    let mut excluded_patients = std::collections::HashSet::new();
    let mut sink_error: Option<Error> = None;
    // Outputs moved during this run (displaced by a lower hash), and the linkage `file` rows
    // written, to be written again where an output moved.
    let mut moves_made = 0usize;
    let mut linked: Vec<(usize, String, String, String)> = Vec::new();
    std::thread::scope(|scope| {
        let ctx = &ctx;
        let inputs = &inputs;
        scope.spawn(move || {
            pool.install(|| {
                inputs.par_iter().enumerate().for_each_with(tx, |tx, (i, input)| {
                    if interrupt.load(Ordering::Relaxed) {
                        return;
                    }
                    let started = std::time::Instant::now();
                    let p = process_one(ctx, i + 1, input);
                    // Debug logging (-vv, KAMEI_LOG): numbers, hashes and timings, no value.
                    tracing::debug!(
                        input = p.number,
                        status = ?p.status,
                        bytes = p.bytes,
                        sha256 = p.sha256.as_deref().map_or("-", |s| &s[..16.min(s.len())]),
                        micros = started.elapsed().as_micros() as u64,
                        "processed"
                    );
                    let key = job.pseudo.is_keyed().then(|| path_key(job, &input.path));
                    let _ = tx.send((p, key));
                });
            });
        });
        for (mut p, key) in rx {
            let input = &inputs[p.number - 1];
            if let Some(key) = key {
                met.insert(&key);
                if let Some(sha) = &p.sha256 {
                    // A dry run's name for an output it would write holds the file the real run
                    // moves aside (or nothing): not this input's output.
                    let makes = p.output.as_deref().filter(|_| !(job.dry_run && p.status == Status::Written));
                    supersede.observe(&earlier, p.number, &key, sha, makes);
                    // Done earlier from this content, but not recorded for this path (the same
                    // bytes at another path): recorded now, so a later change of either path
                    // never removes the output the other still makes.
                    let known = earlier.by_path.get(&key).is_some_and(|v| v.iter().any(|(h, _)| h == sha));
                    if p.status == Status::AlreadyDone && !known && !job.dry_run {
                        let mut r = base_record(&ctx.base, Some(sha.clone()), p.bytes, Outcome::Present, None);
                        r.output = p.output.clone();
                        r.output_sha256 = ctx.done_sha.get(sha).cloned();
                        r.output_bytes =
                            p.output.as_ref().and_then(|o| std::fs::metadata(job.out.join(o)).ok()).map(|m| m.len());
                        p.record = Some(r);
                    }
                    if let (Some(out), true) = (&p.output, linkage.is_some()) {
                        linked.push((p.number, key.clone(), sha.clone(), out.clone()));
                    }
                }
                if let Some(r) = p.record.as_mut() {
                    r.input_path_key = Some(key);
                }
            }
            summary.bytes += p.bytes;
            match p.status {
                Status::Written => summary.written += 1,
                Status::Present => summary.present += 1,
                Status::AlreadyDone => summary.already_done += 1,
                Status::Skipped => summary.skipped += 1,
                Status::Failed => summary.failed += 1,
                Status::Excluded => summary.excluded += 1,
            }
            if let Some(p) = &p.excluded_patient {
                excluded_patients.insert(p.clone());
            }
            match p.uncleaned {
                Some(Uncleaned::OptionNotSelected) => summary.burned_in_not_cleaned += 1,
                Some(Uncleaned::NoTrusted) => summary.burned_in_no_trusted += 1,
                None => {}
            }
            if p.preview_not_written {
                summary.previews_not_written += 1;
            }
            if p.rewrote_damaged && matches!(p.status, Status::Written | Status::Present) {
                summary.damaged_rewritten += 1;
            }
            if p.record.as_ref().is_some_and(|r| r.notes.iter().any(|n| n.contains(crate::uid_clues::KEPT_UID_NOTE))) {
                summary.uids_with_identifiers += 1;
            }
            if let Some((_, pseudonym)) = &p.patient {
                patients.insert(pseudonym.clone());
            }
            if let (Some(r), Some(out)) = (&p.released, &p.output) {
                sop_uids.note(r, out, !(job.dry_run && p.status == Status::Written));
            }
            if let (Some(r), Some((_, pseudonym))) = (&p.released, &p.patient) {
                links.note(r, pseudonym);
            }
            moves_made += p.moved.len();
            if let (Some(r), n @ 1..) = (p.record.as_mut(), input.duplicates) {
                r.notes.push(duplicates_note(n));
            }
            if sink_error.is_none() {
                if let Err(e) = record(&audit_writer, &mut linkage, &mut unlinked, &p, input) {
                    // The audit cannot be written (disk full): stop taking new inputs.
                    interrupt.store(true, Ordering::Relaxed);
                    sink_error = Some(e);
                }
            }
            reporter.finished(&InputEvent {
                input,
                number: p.number,
                status: p.status,
                reason: p.reason.as_deref(),
                sha256: p.sha256.as_deref(),
            });
        }
    });
    summary.patients = patients.len();
    summary.ids_with_several_issuers = links.ids_with_several_issuers();
    summary.studies_under_several_patients = links.studies_under_several_patients();
    summary.studies_under_several_ids = links.studies_under_several_ids();
    summary.excluded_patients = excluded_patients.len();
    summary.interrupted = interrupt.load(Ordering::Relaxed);
    summary.elapsed = started.elapsed();
    if let Some(e) = sink_error {
        // The audit or linkage could not be written (disk full): the run stopped taking inputs.
        // Finished outputs are complete; the next run re-checks the ones the audit lacks.
        summary.interrupted = false;
        summary.aborted = Some(error_chain(&e));
        return Ok(summary);
    }
    let mut announce = |m: &write::Moved| -> std::io::Result<()> {
        match audit_writer.lock().expect("audit lock").as_mut() {
            Some(w) => w.append_move(&audit::MoveRecord::new(m)).map_err(std::io::Error::other),
            None => Ok(()),
        }
    };
    // Outputs a dry run would remove: not counted among the outputs that share a UID.
    let mut going = std::collections::HashSet::new();
    if job.dry_run && !summary.interrupted {
        // What the real run would remove (settle removes nothing when told not to).
        let settled = supersede.settle(&job.out, &earlier, false);
        summary.superseded = settled.len();
        going.extend(settled.into_iter().map(|s| PathBuf::from(s.old_output)));
    } else if !summary.interrupted {
        let whole = job.shard.count == 1;
        // The audit as it is now: outputs may have moved during the run.
        let now = if supersede.is_empty() {
            audit::Done::default()
        } else {
            audit::done_inputs(&job.out).context(AuditSnafu)?
        };
        let settled = supersede.settle(&job.out, &now, whole);
        // Each removed output is recorded after its removal and before any freed name is given,
        // its linkage rows first (flushed), then its audit records: a run killed at any moment
        // leaves the records of an output that is gone unwritten, never written without the
        // rows, and the re-run completes them (crate::supersede).
        let removed: Vec<_> = settled.iter().filter(|s| s.removed).collect();
        summary.superseded_left += settled.len() - removed.len();
        summary.superseded += removed.len();
        // One record and one linkage row for each path that made it (a copy, a hard link).
        let all = &inputs;
        let paths: Vec<(&Input, &String, &crate::supersede::Settled)> =
            removed.iter().flat_map(|s| s.inputs.iter().map(move |(n, sha)| (&all[n - 1], sha, *s))).collect();
        let mut recorded = linkage.as_mut().filter(|_| !removed.is_empty()).map_or(Ok(()), |l| {
            paths
                .iter()
                .try_for_each(|(input, _, s)| l.add_path(Kind::Superseded, &input.path, &s.old_output))
                .and_then(|_| l.flush())
                .context(LinkageSnafu)
        });
        let reason =
            "its input path now holds other content (corrected or re-assigned); the earlier output was removed";
        for &(input, old_sha, _) in &paths {
            let mut old = base_record(&ctx.base, Some(old_sha.clone()), 0, Outcome::Superseded, Some(reason.into()));
            old.input_path_key = Some(path_key(job, &input.path));
            recorded = recorded.and_then(|_| {
                audit_writer.lock().expect("audit lock").as_mut().map_or(Ok(()), |w| w.append(&old).context(AuditSnafu))
            });
        }
        let freed = if whole && recorded.is_ok() {
            crate::supersede::give_freed_names(&job.out, &earlier, &settled, &mut announce)
        } else {
            Vec::new()
        };
        for m in &freed {
            moves_made += 1;
            if let Some(dir) = &job.previews {
                pixels::preview::follow_move(dir, &m.from, &m.to);
            }
            recorded = recorded.and_then(|_| add_move_row(&mut linkage, m));
        }
        if let Err(e) = recorded {
            summary.aborted = Some(error_chain(&e));
            return Ok(summary);
        }
    }
    // Counted once superseded outputs are gone: an output this run removed holds no UID.
    summary.shared_sop_uids = sop_uids.count(&job.out, &going);
    // Where an output of this run moved (a lower hash took its name, in this run or a shard
    // running beside it), its input's linkage row is written again with where it is now.
    if moves_made > 0 && linkage.is_some() && !job.dry_run && summary.aborted.is_none() {
        let relinked = audit::index(&job.out).context(AuditSnafu).and_then(|index| {
            let now: HashMap<(&str, &str), &str> = index
                .outputs
                .iter()
                .filter_map(|l| Some(((l.input_sha256.as_str(), l.input_path_key.as_str()), l.output.as_deref()?)))
                .collect();
            for (number, key, sha, out) in &linked {
                if let Some(at) = now.get(&(sha.as_str(), key.as_str())).filter(|at| **at != out.as_str()) {
                    if let Some(l) = linkage.as_mut() {
                        l.add_path(Kind::File, &inputs[number - 1].path, at).context(LinkageSnafu)?;
                    }
                }
            }
            Ok(())
        });
        if let Err(e) = relinked {
            summary.aborted = Some(error_chain(&e));
            return Ok(summary);
        }
    }
    let audit_writer = audit_writer.into_inner().expect("audit lock");
    let fold_moves = fold_moves || moves_made > 0;
    let finish = |linkage: Option<LinkageWriter>, audit_writer: Option<AuditWriter>| -> Result<(), Error> {
        if let Some(mut l) = linkage {
            l.flush().context(LinkageSnafu)?;
        }
        if let Some(w) = audit_writer {
            drop(w);
            crate::stale_failures::drop_stale(&job.out, &audit_path, since, &met, &replaceable, job.shard.count <= 1)
                .context(AuditSnafu)?;
            // Moves were made or are on record: this log's records name where outputs are now.
            let index = if fold_moves { Some(audit::index(&job.out).context(AuditSnafu)?) } else { None };
            audit::compact_with(&audit_path, index.as_ref()).context(AuditSnafu)?;
        }
        Ok(())
    };
    if let Err(e) = finish(linkage, audit_writer) {
        summary.aborted = Some(error_chain(&e));
        return Ok(summary);
    }
    if !job.dry_run {
        let _ = std::fs::remove_dir(&staging);
        let _ = std::fs::remove_dir(job.out.join(".kamei-partial"));
        if let (Some(dir), Some(at)) = (&job.previews, &preview_staging) {
            pixels::preview::remove_staging(dir, at);
        }
    }
    Ok(summary)
}

/// The folders below the INPUT arguments this run read an entry in (a file, or an entry that
/// failed or was skipped): the folders above each input and walk error, up to (not including)
/// its INPUT argument. Each is listed once. A folder with no entry at all is not among them.
fn walked_folders(job: &Job, inputs: &[Input], errors: &[walk::WalkError]) -> Vec<PathBuf> {
    let mut seen: std::collections::HashSet<&Path> = std::collections::HashSet::new();
    let entries = inputs.iter().map(|i| (i.path.as_path(), i.root));
    let entries = entries.chain(errors.iter().filter(|e| e.rel.is_some()).map(|e| (e.path.as_path(), e.root)));
    for (path, root) in entries {
        let root = job.inputs[root].as_path();
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| *d != root && d.starts_with(root)) {
            if !seen.insert(d) {
                break;
            }
            dir = d.parent();
        }
    }
    seen.into_iter().map(Path::to_path_buf).collect()
}

/// Remove everything inside a folder, keeping the folder.
fn clear_folder(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// The audit note of an input that more input paths named: how many (no path).
fn duplicates_note(dropped: usize) -> String {
    format!("named by {} input paths (the same file); processed once", dropped + 1)
}

/// The keyed hash of an input's absolute path, symbolic links resolved
/// ([`AuditRecord::input_path_key`]): 128 bits, hex. Absolute, so that `dept1/IM0001` and
/// `dept2/IM0001` released in two runs are two inputs, and a run naming fewer input folders
/// still knows its inputs (an archive moved to another mount point is new to kamei: nothing
/// is superseded then, nothing lost).
fn path_key(job: &Job, input: &Path) -> String {
    resolved_path_key(job, &walk::resolved(input, 40))
}

/// The keyed hash of a path already resolved (see [`path_key`]).
fn resolved_path_key(job: &Job, resolved: &Path) -> String {
    job.pseudo.token("input-path", &linkage::path_bytes(resolved), 32)
}

/// An error and its causes on one line (no values: these are I/O errors).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// A linkage row for an output that moved: `moved,<old output>,<new output>`.
fn add_move_row(linkage: &mut Option<LinkageWriter>, m: &write::Moved) -> Result<(), Error> {
    match linkage.as_mut() {
        Some(l) => l.add(Kind::Moved, &audit::rel_string(&m.from), &audit::rel_string(&m.to)).context(LinkageSnafu),
        None => Ok(()),
    }
}

fn record(
    audit_writer: &Mutex<Option<AuditWriter>>,
    linkage: &mut Option<LinkageWriter>,
    unlinked: &mut crate::unlinked_moves::UnlinkedMoves,
    p: &Processed,
    input: &Input,
) -> Result<(), Error> {
    if let (Some(w), Some(r)) = (audit_writer.lock().expect("audit lock").as_mut(), &p.record) {
        w.append(r).context(AuditSnafu)?;
    }
    for m in &p.moved {
        add_move_row(linkage, m)?;
    }
    if let Some(l) = linkage.as_mut() {
        let path = input.path.as_path();
        // A file without a Patient ID (absent, empty, blank) has a pseudonym of its own (from
        // its study): there is no ID to link it back to, and a row `patient,,PSEUDONYM` would
        // read like a rule for every such file. Its `file` row names its output.
        if let Some((original, pseudonym)) = p.patient.as_ref().filter(|(original, _)| !original.trim().is_empty()) {
            l.add(Kind::Patient, original, pseudonym).context(LinkageSnafu)?;
        }
        match (p.status, &p.output, &p.reason) {
            (Status::Written | Status::Present | Status::AlreadyDone, Some(out), _) => {
                unlinked.complete(l, path, out).and_then(|()| l.add_path(Kind::File, path, out))
            }
            (Status::Failed, _, Some(why)) => l.add_path(Kind::Failed, path, why),
            (Status::Skipped, _, Some(why)) => l.add_path(Kind::Skipped, path, why),
            (Status::Excluded, _, Some(why)) => l.add_path(Kind::Excluded, path, why),
            _ => Ok(()),
        }
        .context(LinkageSnafu)?;
    }
    Ok(())
}

fn base_record(
    base: &MadeBy,
    sha: Option<String>,
    bytes: u64,
    outcome: Outcome,
    reason: Option<String>,
) -> AuditRecord {
    AuditRecord { reason, ..AuditRecord::new(sha, bytes, outcome, base) }
}

fn failed(
    ctx: &Context<'_>,
    number: usize,
    sha: Option<String>,
    bytes: u64,
    reason: String,
    partial: Option<AuditRecord>,
) -> Processed {
    let mut record = partial.unwrap_or_else(|| base_record(&ctx.base, sha.clone(), bytes, Outcome::Failed, None));
    record.outcome = Outcome::Failed;
    record.reason = Some(reason.clone());
    record.output = None;
    not_written(number, Status::Failed, reason, sha, bytes, record)
}

/// An input that is deliberately not processed (skipped or excluded), with its audit record.
fn left_out(ctx: &Context<'_>, number: usize, sha: String, bytes: u64, status: Status, reason: String) -> Processed {
    let outcome = if status == Status::Excluded { Outcome::Excluded } else { Outcome::Skipped };
    let record = base_record(&ctx.base, Some(sha.clone()), bytes, outcome, Some(reason.clone()));
    not_written(number, status, reason, Some(sha), bytes, record)
}

/// The result of an input for which nothing was written.
fn not_written(
    number: usize,
    status: Status,
    reason: String,
    sha: Option<String>,
    bytes: u64,
    record: AuditRecord,
) -> Processed {
    Processed { reason: Some(reason), record: Some(record), ..Processed::without_output(number, status, sha, bytes) }
}

/// A failure reason for the audit: the error's own message for reading (tags and offsets), a
/// path-free one for I/O on inputs and outputs.
fn read_reason(e: &read::Error) -> String {
    match e {
        read::Error::Io { source, .. } => format!("could not read the input: {source}"),
        other => other.to_string(),
    }
}

fn write_reason(e: &write::Error) -> String {
    use std::error::Error as _;
    match e {
        write::Error::Write { source, .. } => format!("could not write the output: {source}"),
        write::Error::Create { source, .. } => format!("could not create the output folder: {source}"),
        write::Error::Rename { source, .. } => format!("could not move the output into place: {source}"),
        other => match other.source() {
            Some(s) => format!("{other}: {s}"),
            None => other.to_string(),
        },
    }
}

/// Process one input through every stage. Never panics on bad input; every problem becomes a
/// [`Status::Failed`] or [`Status::Skipped`] result.
fn process_one(ctx: &Context<'_>, number: usize, input: &Input) -> Processed {
    let job = ctx.job;
    let source = match Source::load(&input.path, &job.read) {
        Ok(s) => s,
        Err(e) => return failed(ctx, number, None, input.size, read_reason(&e), None),
    };
    let sha = source.sha256_hex();
    let bytes = source.len;
    // Done earlier from this content, and (under the mirror layout, where each path has its
    // own output) by this path's output.
    // A release made before `%` was escaped has this path's output under its legacy name: done
    // when the audit records that output for this very path (another path's content may be
    // there, under the name its escaping now gives).
    let done_here = |out: &String| {
        let rel = input_rel(job, input);
        let legacy_done = || {
            job.pseudo.is_keyed()
                && layout::legacy_mirror_path(&rel).is_some_and(|legacy| Path::new(out) == legacy)
                && ctx
                    .by_path
                    .get(&path_key(job, &input.path))
                    .is_some_and(|v| v.iter().any(|(h, o)| *h == sha && o == out))
        };
        job.layout != Layout::Mirror || Path::new(out) == layout::mirror_path(&rel) || legacy_done()
    };
    // Done when its output is there with the size recorded (one stat, no read): an output of
    // another size was cut or has grown since (a disk error, a copy over it) and is written again.
    let mut damaged = None;
    if let Some(out) = ctx.done.get(&sha).filter(|o| done_here(&o.path)) {
        match std::fs::metadata(job.out.join(&out.path)) {
            Ok(m) if m.is_file() && out.bytes.is_some_and(|b| b.get() != m.len()) => {
                damaged = Some(DamagedOutput {
                    path: out.path.clone(),
                    found: m.len(),
                    recorded: out.bytes.map_or(0, std::num::NonZeroU64::get),
                });
            }
            Ok(m) if m.is_file() => {
                // Its output is an earlier run's: named, but not written now.
                return Processed {
                    output: Some(out.path.clone()),
                    ..Processed::without_output(number, Status::AlreadyDone, Some(sha), bytes)
                };
            }
            _ => {}
        }
    }
    let file = match read::parse(&source, &job.read) {
        Ok(Opened::Dicom(f)) => f,
        Ok(other) => {
            let reason = match other {
                Opened::NotDicom(why) => format!("not DICOM: {why}"),
                _ => "DICOMDIR (media directory): not copied, kamei writes its own layout".to_string(),
            };
            return left_out(ctx, number, sha, bytes, Status::Skipped, reason);
        }
        Err(e) => return failed(ctx, number, Some(sha), bytes, read_reason(&e), None),
    };

    if job.cohort.is_active() {
        // Decided from the original Patient ID, before anything is planned or written.
        let (id, note) = plan::original_patient_id_noted(&file.dataset);
        // The patient's other IDs (Other Patient IDs, its sequence) are the same person: an
        // opt-out under any of them leaves the image out (`kamei verify` asks the same).
        let others = plan::other_patient_ids(&file.dataset);
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        let admission = job.cohort.admit_image(&id, &others, file.dataset.ascii(tags::STUDY_DATE));
        if admission.is_excluded() {
            let mut p = left_out(ctx, number, sha, bytes, Status::Excluded, admission.reason().to_string());
            if let (Some(note), Some(record)) = (note, p.record.as_mut()) {
                record.notes.push(note.to_string());
            }
            p.excluded_patient = (!id.is_empty()).then(|| job.pseudo.patient_pseudonym(Patient::Id(&id)));
            return p;
        }
    }
    // An image without its pixels is a file cut before them: never released as written.
    if let Some(reason) = crate::truncated::missing_pixels(&file.dataset, &file.meta) {
        return failed(ctx, number, Some(sha), bytes, reason, None);
    }
    let mut record = base_record(&ctx.base, Some(sha.clone()), bytes, Outcome::Written, None);
    // Shown only in their defined forms (crate::shown): a damaged file can hold anything here.
    record.sop_class_uid = crate::class_uids::shown_sop_class(&file.dataset);
    record.modality = file.dataset.ascii(tags::MODALITY).map(crate::shown::modality);
    record.transfer_syntax = Some(file.transfer_syntax.uid.clone());

    let plan_ctx = PlanContext {
        rules: &ctx.rules,
        pseudo: &job.pseudo,
        profile_label: &ctx.profile_label,
        identifiers: &ctx.identifiers,
        sources: Some(&job.sources).filter(|s| !s.is_empty()),
    };
    let plan = match plan::build(&plan_ctx, &file) {
        Ok(p) => p,
        Err(e) => return failed(ctx, number, Some(sha), bytes, e.to_string(), Some(record)),
    };
    record.burned_in = Some(
        serde_json::to_value(plan.burned_in).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
    );
    record.actions = plan
        .tally
        .iter()
        .map(|((tag, action), count)| ActionCount { tag: tag.clone(), action: action.to_string(), count: *count })
        .collect();
    record.notes = plan.notes.clone();

    let input_path = (!source.in_memory()).then_some(input.path.as_path());
    if let Err(reason) = deferred_stream_metadata(&file, input_path) {
        return failed(ctx, number, Some(sha), bytes, reason, Some(record));
    }
    // Pixel cleaning looks at the file as read (header hints, device signature, regions); its
    // result is written after the planner's edits. Images it does not select take the plain path.
    let big_endian = file.transfer_syntax.encoding.big_endian;
    let cleaned = match job.pixels.as_ref().filter(|c| c.select(&file.dataset, big_endian).is_some()) {
        Some(cleaner) => match cleaner.clean(&file, input_path, job.previews.is_some() && !job.dry_run) {
            Ok(c) => Some(c),
            Err(e) => return failed(ctx, number, Some(sha), bytes, e.to_string(), Some(record)),
        },
        None => None,
    };
    let may_carry_text = matches!(plan.burned_in, BurnedIn::Declared | BurnedIn::Likely);
    let mut uncleaned = None;
    if may_carry_text
        && cleaned.is_none()
        && job.pixels.as_ref().is_some_and(|c| c.trusts_burned_in_no(&file.dataset, big_endian))
    {
        uncleaned = Some(Uncleaned::NoTrusted);
        record.notes.push("Burned In Annotation NO trusted (--trust-burned-in-no); pixels not cleaned".to_string());
    } else if may_carry_text && cleaned.is_none() {
        if job.profile.options().contains(&DeidOption::CleanPixelData) {
            let reason = "the image may carry burned-in text and was not cleaned; not released".to_string();
            return failed(ctx, number, Some(sha), bytes, reason, Some(record));
        }
        uncleaned = Some(Uncleaned::OptionNotSelected);
        record
            .notes
            .push("may carry burned-in annotation; pixels not cleaned (clean-pixel-data not selected)".to_string());
    }

    let patient = (plan.patient.original_id().to_string(), plan.patient.pseudonym.clone());
    let issuer = issuer_digest(&file.dataset, plan.patient.id_missing);
    let id_missing = plan.patient.id_missing;
    let pseudonym = plan.patient.pseudonym.clone();
    let mut file = match apply::run(&plan, file) {
        Ok(f) => f,
        Err(e) => return failed(ctx, number, Some(sha), bytes, e.to_string(), Some(record)),
    };
    let mut cleaned = cleaned;
    if let Some(c) = cleaned.as_mut() {
        if let Err(e) = pixels::finish(&mut file, c, input_path) {
            return failed(ctx, number, Some(sha), bytes, e.to_string(), Some(record));
        }
        record.pixels = Some(pixel_audit(c, &file));
        record.notes.extend(c.notes.iter().cloned());
    }
    let sop_uid = file
        .dataset
        .bytes(dicom_dictionary_std::tags::SOP_INSTANCE_UID)
        .map(|b| String::from_utf8_lossy(b).trim_matches([' ', '\0']).to_string())
        .unwrap_or_default();
    let study =
        file.dataset.bytes(tags::STUDY_INSTANCE_UID).map(plan::trim_value).filter(|b| !b.is_empty()).map(digest);
    let mirror_rel = input_rel(job, input);
    let rel = layout::target(job.layout, &file.dataset, &pseudonym, &sha, &mirror_rel);
    let done = |status: Status, placed: write::Placed, mut record: AuditRecord| {
        let out = audit::rel_string(&placed.rel);
        record.outcome = if status == Status::Present { Outcome::Present } else { Outcome::Written };
        record.output = Some(out.clone());
        record.output_sha256 = placed.sha256;
        if !placed.moved.is_empty() {
            record.notes.push(
                "another output had this name and a higher content hash: it moved to its own name (see the move records)"
                    .to_string(),
            );
        }
        if placed.rel != rel {
            record.notes.push(
                "another output with a lower content hash has the same name; this one's name carries its own output hash"
                    .to_string(),
            );
        }
        Processed {
            number,
            status,
            reason: None,
            sha256: Some(sha.clone()),
            bytes,
            record: Some(record),
            patient: Some(patient.clone()),
            output: Some(out),
            uncleaned,
            preview_not_written: false,
            excluded_patient: None,
            released: Some(Released {
                sop_uid: sop_uid.clone(),
                claimed: (placed.rel != rel || !placed.moved.is_empty()).then(|| audit::rel_string(&rel)),
                issuer,
                study,
                id_missing,
            }),
            moved: placed.moved,
            rewrote_damaged: damaged.is_some(),
        }
    };
    if let Some(d) = &damaged {
        record.notes.push(format!(
            "damaged output rewritten: the output an earlier run wrote had {} bytes, not the {} recorded (cut or grown since)",
            d.found, d.recorded
        ));
    }
    let target = job.out.join(&rel);
    if job.dry_run {
        // An identical file already at the name (a run whose audit line was lost) would be
        // left as it is; a different one is compared by output hash, as the real run does: the
        // lower takes the name, the higher its collision name.
        let predicted = |rel: PathBuf, present: bool| write::Placed { rel, present, sha256: None, moved: Vec::new() };
        let status = |present: bool| if present { Status::Present } else { Status::Written };
        if damaged.as_ref().is_some_and(|d| job.out.join(&d.path) == target) {
            // The real run takes the damaged file away first: the name is free.
            return done(Status::Written, predicted(rel.clone(), false), record);
        }
        return match write::matches(&file, input_path, &target) {
            Ok(true) => done(Status::Present, predicted(rel.clone(), true), record),
            Ok(false) if target.exists() => {
                let ours = write::output_sha256(&file, input_path).unwrap_or_default();
                let theirs = write::sha256_file(&target).unwrap_or_default();
                if ours < theirs {
                    done(Status::Written, predicted(rel.clone(), false), record)
                } else {
                    let alt = layout::collision_name(&rel, &ours);
                    let present = write::matches(&file, input_path, &job.out.join(&alt)).unwrap_or(false);
                    done(status(present), predicted(alt, present), record)
                }
            }
            _ => done(Status::Written, predicted(rel.clone(), false), record),
        };
    }
    let done = |status: Status, placed: write::Placed, mut record: AuditRecord| {
        // The output's size (one stat), which a resume compares with the file (its hash,
        // `placed.sha256`, was taken as it was written; verify compares both).
        record.output_bytes = std::fs::metadata(job.out.join(&placed.rel)).ok().map(|m| m.len());
        let mut preview_not_written = false;
        if let Some(dir) = &job.previews {
            for m in &placed.moved {
                pixels::preview::follow_move(dir, &m.from, &m.to);
            }
        }
        if let (Some(dir), Some(staging), Some((before, after))) =
            (&job.previews, &ctx.preview_staging, cleaned.as_ref().and_then(|c| c.preview.as_ref()))
        {
            if let Err(e) = pixels::preview::write(dir, staging, &placed.rel, before, after) {
                record.notes.push(format!("the preview could not be written: {e}"));
                preview_not_written = true;
            }
        }
        Processed { preview_not_written, ..done(status, placed, record) }
    };
    let committer = write::Committer { root: &job.out, staging: &ctx.staging, sync: job.sync };
    let mut announce = |m: &write::Moved| -> std::io::Result<()> {
        match ctx.audit.lock().expect("audit lock").as_mut() {
            Some(w) => w.append_move(&audit::MoveRecord::new(m)).map_err(std::io::Error::other),
            None => Ok(()),
        }
    };
    if let Some(d) = &damaged {
        // Taken away just before the new output is committed (written in staging, then renamed
        // into place): no half-written file is ever at the name, and a run killed in between
        // leaves the name empty, which the next run finds not done and writes. Gone already:
        // another shard writing the same content (a copy in its share) took it first.
        let _ = std::fs::remove_file(job.out.join(&d.path));
    }
    match committer.commit(&file, input_path, &rel, &mut announce) {
        Ok(placed) if placed.present => done(Status::Present, placed, record),
        Ok(placed) => done(Status::Written, placed, record),
        Err(e) => failed(ctx, number, Some(sha.clone()), bytes, write_reason(&e), Some(record)),
    }
}

/// Compressed pixel data a large file left on disk is copied through, never rewritten (the
/// planner removes metadata segments only from pixel data in memory): such a file fails when
/// its frames carry metadata segments, so they are never released. Read one frame at a time.
fn deferred_stream_metadata(file: &read::DicomFile, input: Option<&Path>) -> Result<(), String> {
    use crate::stream_metadata::{Codec, scan_on_disk};
    let Some(codec) = Codec::of(&file.transfer_syntax.uid) else { return Ok(()) };
    let Some(crate::dataset::Value::Deferred(d)) = file.dataset.get(tags::PIXEL_DATA).map(|e| &e.value) else {
        return Ok(());
    };
    if !d.encapsulated {
        return Ok(());
    }
    let path = input.ok_or("(7FE0,0010): the pixel data was left in a source that cannot be read again")?;
    match scan_on_disk(path, d, codec) {
        Ok(found) if found.is_empty() => Ok(()),
        Ok(found) => Err(format!(
            "(7FE0,0010): the compressed frames carry metadata segments ({found}), and kamei does not rewrite the pixel data of a file over the in-memory limit (64 MiB); not released"
        )),
        Err(e) => Err(format!(
            "(7FE0,0010): {e}; the compressed frames may carry metadata segments (EXIF, comments) that kamei cannot remove; not released"
        )),
    }
}

/// The audit entry of a cleaned image.
fn pixel_audit(c: &pixels::Cleaned, file: &read::DicomFile) -> audit::PixelAudit {
    audit::PixelAudit {
        frames: c.frame_count,
        boxes: c
            .boxes
            .iter()
            .map(|b| audit::PixelBox {
                x: b.rect.x,
                y: b.rect.y,
                width: b.rect.width,
                height: b.rect.height,
                source: b.source.to_string(),
                frame: b.frame.map(|f| f + 1),
                in_image: b.in_image.map(|r| [r.x, r.y, r.width, r.height]),
            })
            .collect(),
        output_transfer_syntax: c.rewritten.then(|| file.transfer_syntax.uid.clone()),
    }
}

/// Run the stages on one file held in memory and return the output bytes (benches, tests,
/// embedding). No I/O.
///
/// # Errors
/// A message naming the stage that failed.
pub fn deidentify_bytes(
    bytes: Vec<u8>,
    rules: &RuleSet,
    pseudo: &Pseudonymizer,
    profile_label: &str,
) -> Result<Vec<u8>, String> {
    let source = Source::from_bytes("<memory>", bytes);
    let file = match read::parse(&source, &ReadOptions::default()).map_err(|e| e.to_string())? {
        Opened::Dicom(f) => f,
        _ => return Err("not a DICOM file".to_string()),
    };
    if let Some(reason) = crate::truncated::missing_pixels(&file.dataset, &file.meta) {
        return Err(reason);
    }
    let ctx = PlanContext { rules, pseudo, profile_label, identifiers: &IdentifierCache::default(), sources: None };
    let plan = plan::build(&ctx, &file).map_err(|e| e.to_string())?;
    let file = apply::run(&plan, file).map_err(|e| e.to_string())?;
    write::to_vec(&file, None).map_err(|e| e.to_string())
}
