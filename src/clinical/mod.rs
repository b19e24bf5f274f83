//! Clinical data beside the images: CSV exports and SS-MIX2 standardized storage, de-identified
//! with the same [`crate::pseudo::Pseudonymizer`] as `kamei deid`, so that a
//! patient's images and clinical records join on the same pseudonym and keep the same date
//! shift, whichever day or machine each was de-identified on (given the same key and date
//! shift settings).
//!
//! One module per concern:
//! - [`values`]: dates in the spellings hospital systems write, birth dates, ages, postal codes;
//! - [`freetext`]: a patient's identifiers and identifier patterns removed from text;
//! - [`columns`]: COLUMNS.toml, the role of every CSV column;
//! - [`csv`]: streaming CSV de-identification and the `kamei clinical csv` driver;
//! - [`hl7`]: HL7 v2 messages as bytes (delimiters, escapes, ISO-2022-JP per component);
//! - [`rules`]: the SS-MIX2 rule table (`profiles/ss-mix2.toml`, embedded);
//! - [`ssmix2`]: the SS-MIX2 tree walk, message rewriting and path rewriting;
//! - [`link_report`] and [`kanon`]: release checks (which patients link, k-anonymity).
//!
//! What this module must not do: derive a pseudonym or a shift any other way than through
//! [`Pseudonymizer::patient_pseudonym`](crate::pseudo::Pseudonymizer::patient_pseudonym) and
//! [`Pseudonymizer::date_shift_days`](crate::pseudo::Pseudonymizer::date_shift_days) with
//! [`Patient::Id`](crate::pseudo::Patient::Id); put a value in an error, a message or the
//! audit log; write an output anywhere but through a temporary file renamed into place.

pub mod columns;
pub mod csv;
pub mod freetext;
pub mod hl7;
pub mod kanon;
pub mod link_report;
pub mod master;
pub mod rules;
pub mod ssmix2;
pub mod values;

use crate::audit::{ActionCount, AuditRecord, Outcome, RunSettings};
use crate::pseudo::Pseudonymizer;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// A problem with one row, message, segment or value; never holds the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line (CSV) where the row starts, if it is about a row.
    pub line: Option<u64>,
    /// What is wrong: names the column, segment or field, never the value.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The run was interrupted (Ctrl-C); what was finished is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

/// Options of the clinical commands (`--option NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClinicalOption {
    /// Keep dates shifted by the patient's offset (PS3.15 Retain Longitudinal Temporal
    /// Information Modified Dates, the same option name and shift as `kamei deid`).
    RetainLongModifiedDates,
    /// SS-MIX2: keep free text (OBX text values, NTE, comments) with the patient's identifiers
    /// and identifier patterns removed, instead of removing it.
    CleanFreeText,
    /// SS-MIX2: keep files whose condition flag is 0 (invalid / deleted).
    KeepInvalid,
}

impl ClinicalOption {
    /// Every option.
    pub const ALL: [ClinicalOption; 3] =
        [ClinicalOption::RetainLongModifiedDates, ClinicalOption::CleanFreeText, ClinicalOption::KeepInvalid];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ClinicalOption::RetainLongModifiedDates => "retain-long-modified-dates",
            ClinicalOption::CleanFreeText => "clean-free-text",
            ClinicalOption::KeepInvalid => "keep-invalid",
        }
    }

    /// The option with this name.
    pub fn from_name(name: &str) -> Option<ClinicalOption> {
        ClinicalOption::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// Receives per-input messages while a clinical command runs (the CLI prints them).
pub trait Reporter: Sync {
    /// A problem with part of an input (a dropped row, a message that was not copied).
    fn problem(&self, input: &str, problem: &Problem);
}

/// A reporter that drops everything (library use, tests).
pub struct Silent;

impl Reporter for Silent {
    fn problem(&self, _input: &str, _problem: &Problem) {}
}

/// How writing one output ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// Written at its path.
    Written,
    /// The same bytes were already there (a re-run).
    Present,
    /// Different bytes are already there; nothing was changed.
    Collision,
}

/// Write an output atomically: `fill` writes into a temporary file in `staging` (same file
/// system), which is flushed (and synced with `sync`) and renamed to `target` without replacing
/// anything. On error nothing is left at `target`.
pub(crate) fn commit_with<T, E: From<io::Error>>(
    staging: &Path,
    target: &Path,
    sync: bool,
    fill: impl FnOnce(&mut BufWriter<&mut fs::File>) -> Result<T, E>,
) -> Result<(T, Committed), E> {
    let (value, done) = commit_named(staging, sync, fill, |_| Ok(Some(target.to_path_buf())))?;
    Ok((value, done.expect("a target was given").1))
}

/// Write an output through a temporary file under `staging` and rename it over `target`,
/// replacing what is there: only for an output an earlier run made of the same input, now
/// cleaned of more (see `ssmix2`'s re-cleaning), never for another input's.
pub(crate) fn commit_replacing(
    staging: &Path,
    target: &Path,
    sync: bool,
    fill: impl FnOnce(&mut BufWriter<&mut fs::File>) -> io::Result<()>,
) -> io::Result<()> {
    fs::create_dir_all(staging)?;
    let mut tmp = tempfile::Builder::new().prefix(".kamei-").suffix(".part").tempfile_in(staging)?;
    {
        let mut w = BufWriter::with_capacity(256 << 10, tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    if sync {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

/// Like [`commit_with`], for an output whose path is known only once it is written: `target`
/// names it from what `fill` returned, or gives `None` to write nothing (the temporary file is
/// removed). Returns the path with how it was committed.
pub(crate) fn commit_named<T, E: From<io::Error>>(
    staging: &Path,
    sync: bool,
    fill: impl FnOnce(&mut BufWriter<&mut fs::File>) -> Result<T, E>,
    target: impl FnOnce(&T) -> Result<Option<std::path::PathBuf>, E>,
) -> Result<(T, Option<(std::path::PathBuf, Committed)>), E> {
    fs::create_dir_all(staging)?;
    let mut tmp = tempfile::Builder::new().prefix(".kamei-").suffix(".part").tempfile_in(staging)?;
    let value = {
        let mut w = BufWriter::with_capacity(256 << 10, tmp.as_file_mut());
        let v = fill(&mut w)?;
        w.flush()?;
        v
    };
    let Some(target) = target(&value)? else {
        return Ok((value, None));
    };
    if sync {
        tmp.as_file().sync_all()?;
    }
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)?;
    }
    match tmp.persist_noclobber(&target) {
        Ok(_) => Ok((value, Some((target, Committed::Written)))),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
            let same = crate::write::same_content(e.file.path(), &target)?;
            Ok((value, Some((target, if same { Committed::Present } else { Committed::Collision }))))
        }
        Err(e) => Err(e.error.into()),
    }
}

/// What identifies the settings of a clinical output folder (`kamei-run.json`): a later run
/// into the same folder must use the same key, rules and options.
pub(crate) fn settings(pseudo: &Pseudonymizer, kind: &str, digest: &str, options: &[String]) -> RunSettings {
    RunSettings {
        kamei_version: env!("CARGO_PKG_VERSION").to_string(),
        mode: "pseudonymized".to_string(),
        key_fingerprint: Some(pseudo.key_fingerprint().to_string()),
        profile: kind.to_string(),
        profile_sha256: digest.to_string(),
        options: options.to_vec(),
        layout: kind.to_string(),
        cohort: None,
        pixels: None,
        date_shift: Some(crate::audit::date_shift_label(pseudo.date_shift_policy())),
        shards: None,
        identifiers: None,
        strict: None,
    }
}

/// The bookkeeping of a clinical output folder, opened before anything is written.
pub(crate) struct Books {
    /// `OUT/kamei-audit.jsonl`, compacted at the end of the run.
    pub audit_path: std::path::PathBuf,
    /// The audit log, appended to.
    pub audit: crate::audit::AuditWriter,
    /// The linkage table, when one was asked for.
    pub linkage: Option<crate::linkage::LinkageWriter>,
}

/// Open the linkage table at `linkage`, if any, then create `out`, claim it for `settings` (a
/// later run into it must use the same ones) and open its audit log. Settings that `out`
/// refuses, and a table that cannot be created (a missing folder, one not writable), end the
/// run before `out` is created or written: its run file would otherwise pin the settings of
/// the corrected retry.
pub(crate) fn open_books(out: &Path, settings: &RunSettings, linkage: Option<&Path>) -> Result<Books, csv::RunError> {
    use csv::RunError;
    settings.check(out).map_err(|e| RunError::Output(e.to_string()))?;
    let fingerprint = settings.key_fingerprint.as_deref().unwrap_or_default();
    let linkage = linkage
        .map(|path| crate::linkage::LinkageWriter::open(path, fingerprint))
        .transpose()
        .map_err(RunError::Linkage)?;
    std::fs::create_dir_all(out).map_err(|e| RunError::Output(format!("could not create {}: {e}", out.display())))?;
    settings.claim(out).map_err(|e| RunError::Output(e.to_string()))?;
    let audit_path = out.join(crate::audit::AUDIT_FILE);
    let audit = crate::audit::AuditWriter::open(&audit_path).map_err(|e| RunError::Output(e.to_string()))?;
    Ok(Books { audit_path, audit, linkage })
}

/// The digest of what determines the output bytes: rules text, date shift policy, options.
pub(crate) fn settings_digest(parts: &[&[u8]]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// An audit record for a clinical input (no value, no path).
pub(crate) struct RecordParts<'a> {
    pub sha256: Option<String>,
    pub bytes: u64,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub output: Option<String>,
    pub actions: Vec<ActionCount>,
    pub notes: Vec<String>,
    pub profile: &'a str,
    pub digest: &'a str,
    pub options: &'a [String],
}

impl<'a> RecordParts<'a> {
    /// The record of an input nothing was written for (failed, left out, a collision).
    pub(crate) fn nothing_written(
        input: (Option<String>, u64),
        outcome: Outcome,
        reason: String,
        profile: &'a str,
        digest: &'a str,
        options: &'a [String],
    ) -> RecordParts<'a> {
        RecordParts {
            sha256: input.0,
            bytes: input.1,
            outcome,
            reason: Some(reason),
            output: None,
            actions: Vec::new(),
            notes: Vec::new(),
            profile,
            digest,
            options,
        }
    }

    pub(crate) fn build(self) -> AuditRecord {
        let made_by = crate::audit::MadeBy {
            profile: self.profile.to_string(),
            profile_sha256: self.digest.to_string(),
            options: self.options.to_vec(),
            mode: "pseudonymized".to_string(),
        };
        AuditRecord {
            reason: self.reason,
            output: self.output,
            actions: self.actions,
            notes: self.notes,
            ..AuditRecord::new(self.sha256, self.bytes, self.outcome, &made_by)
        }
    }
}

/// How messages name an input whose output name is not known (yet): by its place among the
/// run's inputs and its content, as `kamei deid` names inputs by default, never by a path that
/// may hold a patient's name or ID.
pub(crate) fn input_label(number: usize, sha256: Option<&str>) -> String {
    match sha256 {
        Some(h) => format!("input #{number} (sha256 {})", &h[..h.len().min(16)]),
        None => format!("input #{number}"),
    }
}

/// Escape control characters so input-derived text (column names) cannot drive a terminal.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}
