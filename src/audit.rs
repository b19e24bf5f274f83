//! The audit log: one JSON line per input in `OUT/kamei-audit.jsonl`, and the run settings in
//! `OUT/kamei-run.json`.
//!
//! The audit is data, not logging: it is what a data center shows to prove what was done. Each
//! record names its input by content hash (SHA-256), never by path, and lists the actions taken
//! by tag, the outcome, the profile and options; it holds no value from any file. Records carry
//! no time or machine, so the same input gives the same record on every machine: N shards' logs
//! together equal one whole run's log. After a run the log is compacted (latest record per input,
//! sorted by hash), which also removes a torn last line left by a killed run.
//!
//! With `--shard I/N` each shard writes its own `kamei-audit.shard-000I-of-000N.jsonl`, so
//! shards on different machines never write the same file.
//!
//! Besides one record per input, a log holds [`MoveRecord`]s: an output moved to another name
//! because a different output with a lower hash claims its name. The mover may be another
//! shard or a later run, so a record's `output` is where the output was written, and [`index`]
//! says where it is now.

use serde::{Deserialize, Serialize};
use snafu::{ResultExt, Snafu};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The audit file name for an unsharded run.
pub const AUDIT_FILE: &str = "kamei-audit.jsonl";
/// The run settings file name.
pub const RUN_FILE: &str = "kamei-run.json";

/// Errors of the audit files.
#[derive(Debug, Snafu)]
#[non_exhaustive]
pub enum Error {
    /// The audit or settings file could not be written.
    #[snafu(display("could not write {}", path.display()))]
    WriteAudit {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The audit or settings file could not be read.
    #[snafu(display("could not read {}", path.display()))]
    ReadAudit {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The output folder holds an audit log but no `kamei-run.json`: the settings of the runs
    /// that wrote it cannot be compared with this run's (a run with another key would put one
    /// patient under two pseudonyms in one release).
    #[snafu(display(
        "{} holds an audit log but no {RUN_FILE}, so the key, profile and options of the runs that wrote it cannot be compared with this run's; restore {RUN_FILE} from the release's copy, or use a new output folder",
        path.display()
    ))]
    RunFileMissing {
        /// The output folder.
        path: PathBuf,
    },
    /// The output folder was written with other settings.
    #[snafu(display(
        "{} was written with other settings ({what}); use a new output folder, or the key, profile, options and flags of the earlier run",
        path.display()
    ))]
    SettingsDiffer {
        /// The settings file.
        path: PathBuf,
        /// Which setting differs (`key differs`), with the two values when they are settings
        /// rather than digests (`--keep-weekday differs: on in the earlier run, off in this one`).
        what: String,
    },
    /// A shard run whose N differs from the shard runs' recorded in the output folder.
    #[snafu(display(
        "{} holds shard runs of --shard I/{earlier}, and this run is --shard I/{now}: shards of another count split the inputs another way, so together they are not one whole run. Run the remaining shards as I/{earlier}, finish with one whole run (no --shard), or use a new output folder",
        path.display()
    ))]
    ShardCountDiffers {
        /// The settings file.
        path: PathBuf,
        /// The N recorded.
        earlier: u32,
        /// This run's N.
        now: u32,
    },
    /// An anonymized run cannot continue an earlier run.
    #[snafu(display(
        "{} holds an earlier anonymized run; its random key is gone, so new outputs would not match. Use a new output folder, or --key to make runs resumable",
        path.display()
    ))]
    AnonymizedResume {
        /// The output folder.
        path: PathBuf,
    },
    /// A run without a key cannot continue a pseudonymized run.
    #[snafu(display(
        "{} holds an earlier pseudonymized run; run with its --key to resume it, or use a new output folder",
        path.display()
    ))]
    KeyNeeded {
        /// The output folder.
        path: PathBuf,
    },
}

/// Result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How one input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// De-identified and written.
    Written,
    /// De-identified; a file with exactly the same bytes was already at the output path (an
    /// earlier run, or the same content at two input paths).
    Present,
    /// Not processed because it is not DICOM (or is a DICOMDIR); `reason` says which.
    Skipped,
    /// Could not be processed; `reason` says why. Nothing was written for it.
    Failed,
    /// Left out on purpose: the patient opted out or is not in the cohort, or the study is
    /// outside the requested window; `reason` says which. Nothing was written for it.
    Excluded,
    /// Written by an earlier run from content its input path no longer holds (the file was
    /// corrected or re-assigned since): that output was removed ([`crate::supersede`]).
    Superseded,
}

/// How many times an action was applied to a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionCount {
    /// The tag, `(GGGG,EEEE)`; private elements as `(GGGG,xxEE)`.
    pub tag: String,
    /// The action: remove, empty, dummy, clean, uid, pseudonymize, shift-date, replace,
    /// keep-private.
    pub action: String,
    /// How many elements (at any depth).
    pub count: u32,
}

/// One audit record. Documented as a public format: see README "Audit log".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// SHA-256 of the input's bytes (lower-case hex); absent for an entry that could not be read.
    pub input_sha256: Option<String>,
    /// A keyed hash of the input's path below its input folder (pseudonymized mode; it reveals
    /// nothing without the key): lets a later run tell that the same path now holds other
    /// content, and remove the output it supersedes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_path_key: Option<String>,
    /// Input size in bytes.
    pub input_bytes: u64,
    /// The outcome.
    pub outcome: Outcome,
    /// Why it was skipped or failed (no values, no paths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The output path relative to the output folder, with `/` separators. A later
    /// [`MoveRecord`] (in this log or another) may say that the file is now elsewhere; the
    /// [`index`] applies those.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// SHA-256 of the output's bytes (lower-case hex), for every output written or found
    /// present: computed as the bytes are written ([`crate::write::Committer::commit`]), never by
    /// reading the output back. `kamei verify` compares it with the released file, which a size
    /// alone cannot (a flipped byte, a block of zeros, an edited value of the same length), and
    /// a recipient can check a file with `sha256sum`. Absent in logs of versions that hashed only
    /// a contended name's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_sha256: Option<String>,
    /// The output's size in bytes, for every output written or found present (one `stat`): a
    /// resume compares it with the file, which it does not read (a damaged output is written
    /// again), and so does `kamei verify`. Absent in logs of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bytes: Option<u64>,
    /// SOP Class UID of the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sop_class_uid: Option<String>,
    /// Modality of the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    /// Transfer syntax UID of the input (and output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_syntax: Option<String>,
    /// What the header says about burned-in annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burned_in: Option<String>,
    /// Actions taken, by tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionCount>,
    /// Decisions worth recording (tags only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What `clean-pixel-data` did to this image (absent when it was not examined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixels: Option<PixelAudit>,
    /// Profile name.
    pub profile: String,
    /// Digest of the profile sources.
    pub profile_sha256: String,
    /// Options in effect.
    pub options: Vec<String>,
    /// `pseudonymized` (a key was given) or `anonymized`.
    pub mode: String,
    /// kamei version.
    pub kamei_version: String,
}

/// What made the records of a run: the profile, its digest, the options in effect and the mode
/// (the same for every record of the run, see [`AuditRecord::new`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MadeBy {
    /// Profile name.
    pub profile: String,
    /// Digest of the profile sources.
    pub profile_sha256: String,
    /// Options in effect.
    pub options: Vec<String>,
    /// `pseudonymized` or `anonymized`.
    pub mode: String,
}

impl AuditRecord {
    /// The record of one input: its content hash (when it could be read), its size and outcome,
    /// made by `made_by` with this version of kamei. Every other field is empty, for the caller
    /// to fill in: one place that lists the fields, so a field added later is added once.
    pub fn new(input_sha256: Option<String>, input_bytes: u64, outcome: Outcome, made_by: &MadeBy) -> AuditRecord {
        AuditRecord {
            input_sha256,
            input_path_key: None,
            input_bytes,
            outcome,
            reason: None,
            output: None,
            output_sha256: None,
            output_bytes: None,
            sop_class_uid: None,
            modality: None,
            transfer_syntax: None,
            burned_in: None,
            actions: Vec::new(),
            notes: Vec::new(),
            pixels: None,
            profile: made_by.profile.clone(),
            profile_sha256: made_by.profile_sha256.clone(),
            options: made_by.options.clone(),
            mode: made_by.mode.clone(),
            kamei_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// What pixel cleaning did to one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelAudit {
    /// Frames examined.
    pub frames: u32,
    /// The blanked boxes; empty when nothing was found (the pixel data was then kept as it was).
    pub boxes: Vec<PixelBox>,
    /// The transfer syntax of the output when the pixels were rewritten (uncompressed Explicit VR
    /// Little Endian).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_transfer_syntax: Option<String>,
}

/// One blanked box and what found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelBox {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// `rule:<name>`, `ultrasound-regions`, `detector` or `detector-hint`.
    pub source: String,
    /// The frame number (1 = the first) the box was blanked in, for a box found in one of an
    /// image's separate pictures (tiles of a slide, pages, slices); absent: every frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<u32>,
    /// For a piece of a device rule's rectangle on one tile of a tiled image (a whole-slide
    /// image's Total Pixel Matrix): the piece in the whole image's coordinates, the ones the rule
    /// is written in, `[x, y, width, height]`; `x`, `y`, `width`, `height` give it in the tile
    /// (`frame`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_image: Option<[u32; 4]>,
}

/// A line saying that an output file moved from one name to another: the output at
/// `moved_from` whose bytes hash to `output_sha256` is now at `moved_to`.
///
/// Written when an output with a lower hash takes a name (the other output moves to its
/// collision name, see [`crate::write::Committer::commit`]) and when a superseded output frees
/// a name that the lowest of the others then takes ([`crate::supersede`]). The process that
/// moves a file may not know which input made it (another shard's, or an earlier run's), so
/// the file is named by its output hash; the [`index`] applies the move to the records of
/// that output, in any log. Appended before the file is moved: a run killed in between leaves a
/// move that did not happen, which the index finds out from the files themselves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MoveRecord {
    /// Where the output was (relative to the output folder, `/` separators).
    pub moved_from: String,
    /// Where it is now.
    pub moved_to: String,
    /// SHA-256 of the output's bytes.
    pub output_sha256: String,
    /// kamei version.
    pub kamei_version: String,
}

impl MoveRecord {
    /// A move record from a move made by the writer.
    pub fn new(m: &crate::write::Moved) -> MoveRecord {
        MoveRecord {
            moved_from: rel_string(&m.from),
            moved_to: rel_string(&m.to),
            output_sha256: m.sha256.clone(),
            kamei_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// A relative path as the audit spells it (`/` separators).
pub fn rel_string(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// One line of an audit log.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// What was done with one input.
    Input(Box<AuditRecord>),
    /// An output that moved to another name.
    Move(MoveRecord),
}

/// The settings that determine output bytes; an output folder holds outputs of one setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSettings {
    /// kamei version.
    pub kamei_version: String,
    /// `pseudonymized` or `anonymized`.
    pub mode: String,
    /// Fingerprint of the key (pseudonymized mode), never the key.
    pub key_fingerprint: Option<String>,
    /// Profile name.
    pub profile: String,
    /// Digest of the profile sources (covers options, strict mode and date shift settings).
    pub profile_sha256: String,
    /// Options in effect.
    pub options: Vec<String>,
    /// Output layout.
    pub layout: String,
    /// Digest of the patient registers and study window (`--exclude-patients`,
    /// `--include-patients`, `--studies-between`), if any: a release is made with one version of
    /// them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    /// Pixel cleaning settings (digest of the pixel rules and the selection flags), when
    /// `clean-pixel-data` is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixels: Option<String>,
    /// The date shift settings (`max_days=365 keep_weekday=false`), so that `kamei link report`
    /// can tell when images and clinical data were shifted differently (their dates would not
    /// line up). Already covered by the profile digest for resuming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_shift: Option<String>,
    /// The N of `--shard I/N` the shard runs into this folder use (`None`: only whole runs so
    /// far, or a folder from before kamei recorded it). Shards of another N split the inputs
    /// another way: their union is not one whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
    /// Keyed digest of the patient masters (`deid --identifiers-from`) the kept text was
    /// cleaned with, if any: outputs cleaned with and without a master would differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifiers: Option<String>,
    /// Whether `--strict` (allow-list mode) was on (`None`: a folder from before kamei recorded
    /// it, or a clinical output). Covered by the profile digest; recorded so that a refusal
    /// names `--strict` rather than "profile".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// How [`RunSettings::date_shift`] spells a policy.
pub fn date_shift_label(policy: crate::profile::DateShiftPolicy) -> String {
    format!("max_days={} keep_weekday={}", policy.max_days, policy.keep_weekday)
}

impl RunSettings {
    /// Record these settings in `out`, or check them against the ones already there.
    ///
    /// # Errors
    /// [`Error::AnonymizedResume`] if `out` holds an anonymized run; [`Error::KeyNeeded`] if it
    /// holds a pseudonymized run and this one has no key; [`Error::SettingsDiffer`] if an
    /// earlier run used other settings.
    pub fn claim(&self, out: &Path) -> Result<()> {
        let path = out.join(RUN_FILE);
        let text = serde_json::to_string_pretty(self).expect("settings serialize") + "\n";
        let mut tmp = tempfile::NamedTempFile::new_in(out).context(WriteAuditSnafu { path: &path })?;
        tmp.write_all(text.as_bytes()).context(WriteAuditSnafu { path: &path })?;
        match tmp.persist_noclobber(&path) {
            Ok(_) => return Ok(()),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.error).context(WriteAuditSnafu { path: &path }),
        }
        let earlier = self.compare(out)?;
        if earlier.shards.is_none() && self.shards.is_some() {
            // The first shard run into a folder whole runs made: later shards are held to its N.
            let recorded = RunSettings { shards: self.shards, ..earlier };
            let text = serde_json::to_string_pretty(&recorded).expect("settings serialize") + "\n";
            let mut tmp = tempfile::NamedTempFile::new_in(out).context(WriteAuditSnafu { path: &path })?;
            tmp.write_all(text.as_bytes()).context(WriteAuditSnafu { path: &path })?;
            tmp.persist(&path).map_err(|e| e.error).context(WriteAuditSnafu { path: &path })?;
        }
        Ok(())
    }

    /// Check these settings against the ones an earlier run recorded in `out`, writing nothing
    /// (`--dry-run`: it must refuse what the real run would refuse). No earlier run: `Ok`.
    ///
    /// # Errors
    /// As [`RunSettings::claim`].
    pub fn check(&self, out: &Path) -> Result<()> {
        match fs::metadata(out.join(RUN_FILE)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Outputs without the settings they were made with: a run with another key or
                // profile would add a second pseudonym space to them unnoticed.
                if audit_logs(out).iter().any(|log| fs::metadata(log).is_ok_and(|m| m.len() > 0)) {
                    return RunFileMissingSnafu { path: out }.fail();
                }
                Ok(())
            }
            _ => self.compare(out).map(|_| ()),
        }
    }

    /// The settings recorded in `out`, when they match these. A whole run (`shards` `None`)
    /// may follow shard runs of any N (it finishes what they left); shard runs must all use
    /// one N.
    fn compare(&self, out: &Path) -> Result<RunSettings> {
        let path = out.join(RUN_FILE);
        let existing = fs::read_to_string(&path).context(ReadAuditSnafu { path: &path })?;
        let earlier: RunSettings = match serde_json::from_str(&existing) {
            Ok(s) => s,
            Err(_) => return SettingsDifferSnafu { path, what: "the settings file is unreadable".to_string() }.fail(),
        };
        if earlier.mode == "anonymized" {
            return AnonymizedResumeSnafu { path: out }.fail();
        }
        if self.mode == "anonymized" {
            return KeyNeededSnafu { path: out }.fail();
        }
        // The date shift settings are part of the profile digest: named first, so the message
        // says which flag differs rather than "profile".
        if let Some(what) = date_shift_difference(earlier.date_shift.as_deref(), self.date_shift.as_deref()) {
            return SettingsDifferSnafu { path, what }.fail();
        }
        if let Some(what) = self.difference(&earlier) {
            return SettingsDifferSnafu { path, what }.fail();
        }
        if let (Some(earlier), Some(now)) = (earlier.shards, self.shards) {
            if earlier != now {
                return ShardCountDiffersSnafu { path, earlier, now }.fail();
            }
        }
        Ok(earlier)
    }
}

impl RunSettings {
    /// Which setting differs from the `earlier` run's, named as the user gives it. Options and
    /// `--strict` change the profile digest too, so they are compared before it: the message
    /// names the flag that differs (with both values), not "profile".
    fn difference(&self, earlier: &RunSettings) -> Option<String> {
        let list = |options: &[String]| if options.is_empty() { "none".to_string() } else { options.join(", ") };
        let on_off = |strict: bool| if strict { "on" } else { "off" };
        if self.key_fingerprint != earlier.key_fingerprint {
            return Some("key differs".into());
        }
        if self.options != earlier.options {
            return Some(format!(
                "options differ: {} in the earlier run, {} in this one",
                list(&earlier.options),
                list(&self.options)
            ));
        }
        if let (Some(then), Some(now)) = (earlier.strict, self.strict) {
            if then != now {
                return Some(format!(
                    "--strict differs: {} in the earlier run, {} in this one",
                    on_off(then),
                    on_off(now)
                ));
            }
        }
        let checks = [
            ("profile", self.profile_sha256 != earlier.profile_sha256 || self.profile != earlier.profile),
            ("layout", self.layout != earlier.layout),
            ("pixel cleaning settings", self.pixels != earlier.pixels),
            ("patient masters (--identifiers-from)", self.identifiers != earlier.identifiers),
            ("kamei version", self.kamei_version != earlier.kamei_version),
            ("the patient registers or study window", self.cohort != earlier.cohort),
        ];
        checks.iter().find(|(_, differs)| *differs).map(|(what, _)| format!("{what} differs"))
    }
}

/// Which date shift setting two runs' [`RunSettings::date_shift`] labels ([`date_shift_label`])
/// differ in, with both values: `--date-shift-max-days` (or a profile's `[date_shift]
/// max_days`) or `--keep-weekday`. `None` when they agree, or when either run did not record
/// them (an older folder: the profile digest, which covers them, still tells).
fn date_shift_difference(earlier: Option<&str>, now: Option<&str>) -> Option<String> {
    let (earlier, now) = (earlier?, now?);
    let setting = |label: &str, name: &str| {
        label
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .map(str::to_string)
    };
    let max_days = (setting(earlier, "max_days"), setting(now, "max_days"));
    if max_days.0 != max_days.1 {
        let shown = |v: Option<String>| v.map_or_else(|| "unknown".to_string(), |d| format!("{d} days"));
        return Some(format!(
            "--date-shift-max-days / [date_shift] max_days differs: {} in the earlier run, {} in this one",
            shown(max_days.0),
            shown(max_days.1)
        ));
    }
    let weekday = (setting(earlier, "keep_weekday"), setting(now, "keep_weekday"));
    if weekday.0 != weekday.1 {
        let shown = |v: Option<String>| match v.as_deref() {
            Some("true") => "on",
            Some("false") => "off",
            _ => "unknown",
        };
        return Some(format!(
            "--keep-weekday / [date_shift] keep_weekday differs: {} in the earlier run, {} in this one",
            shown(weekday.0),
            shown(weekday.1)
        ));
    }
    (earlier != now)
        .then(|| format!("the date shift settings differ: {earlier:?} in the earlier run, {now:?} in this one"))
}

/// The audit file of a shard (or of the whole run).
pub fn audit_file_name(shard: Option<&str>) -> String {
    match shard {
        Some(label) => format!("kamei-audit.{label}.jsonl"),
        None => AUDIT_FILE.to_string(),
    }
}

/// Appends records, one flushed line each, from a single thread.
pub struct AuditWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl AuditWriter {
    /// Open (append) the audit file.
    ///
    /// # Errors
    /// [`Error::WriteAudit`] if it cannot be opened.
    pub fn open(path: &Path) -> Result<AuditWriter> {
        let mut file =
            OpenOptions::new().create(true).append(true).read(true).open(path).context(WriteAuditSnafu { path })?;
        // A run killed while appending can leave a torn last line without its newline: end it,
        // so the first record appended now starts a line of its own instead of being glued to
        // the torn one (and lost with it when the line fails to parse).
        if ends_inside_a_line(&mut file).context(WriteAuditSnafu { path })? {
            file.write_all(b"\n").context(WriteAuditSnafu { path })?;
        }
        Ok(AuditWriter { path: path.to_path_buf(), out: BufWriter::new(file) })
    }

    /// Append one record and flush it.
    ///
    /// # Errors
    /// [`Error::WriteAudit`] on I/O errors (disk full).
    pub fn append(&mut self, record: &AuditRecord) -> Result<()> {
        let mut line = serde_json::to_string(record).expect("audit records serialize");
        line.push('\n');
        self.out.write_all(line.as_bytes()).context(WriteAuditSnafu { path: &self.path })?;
        self.out.flush().context(WriteAuditSnafu { path: &self.path })
    }
}

impl AuditWriter {
    /// Append one move record and flush it.
    ///
    /// # Errors
    /// [`Error::WriteAudit`] on I/O errors (disk full).
    pub fn append_move(&mut self, record: &MoveRecord) -> Result<()> {
        let mut line = serde_json::to_string(record).expect("move records serialize");
        line.push('\n');
        self.out.write_all(line.as_bytes()).context(WriteAuditSnafu { path: &self.path })?;
        self.out.flush().context(WriteAuditSnafu { path: &self.path })
    }
}

/// Whether a non-empty file's last byte is not a newline.
fn ends_inside_a_line(file: &mut File) -> io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Read every input record of an audit file (move records are left out); a torn or
/// unparseable line is skipped.
///
/// # Errors
/// [`Error::ReadAudit`] if the file exists but cannot be read.
pub fn read_records(path: &Path) -> Result<Vec<AuditRecord>> {
    Ok(read_log(path)?
        .into_iter()
        .filter_map(|e| match e {
            Entry::Input(r) => Some(*r),
            Entry::Move(_) => None,
        })
        .collect())
}

/// Read every line of an audit file, input and move records, in order; a damaged line (see
/// [`read_log_checked`]) is skipped.
///
/// # Errors
/// [`Error::ReadAudit`] if the file exists but cannot be read.
pub fn read_log(path: &Path) -> Result<Vec<Entry>> {
    Ok(read_log_checked(path)?.0)
}

/// Read every line of an audit file, input and move records, in order, and the line numbers
/// (counted from one) of its damaged lines: lines that are not valid UTF-8, or not an input or move record (a
/// power cut or a disk error in the middle of an append leaves a torn line, which the next
/// append ends). A damaged line is never a reason to stop: what it recorded is unknown, so its
/// input is processed again. Blank lines are not damage.
///
/// # Errors
/// [`Error::ReadAudit`] if the file exists but cannot be read.
pub fn read_log_checked(path: &Path) -> Result<(Vec<Entry>, Vec<usize>)> {
    let mut out = Vec::new();
    let damaged = scan_log(path, |_, entry| out.push(entry))?;
    Ok((out, damaged))
}

/// Go through an audit file as [`read_log_checked`] reads it, handing each entry to `each` in
/// order instead of holding them all (a log of a million records is read in the memory of
/// one); returns the damaged lines' numbers.
///
/// # Errors
/// [`Error::ReadAudit`] if the file exists but cannot be read.
pub fn read_log_each(path: &Path, mut each: impl FnMut(Entry)) -> Result<Vec<usize>> {
    scan_log(path, |_, entry| each(entry))
}

/// Where a line of an audit log lies in the file: its first byte and its length (without the
/// line end), to read it again ([`read_line_at`]).
#[derive(Debug, Clone, Copy)]
struct LineAt {
    offset: u64,
    len: usize,
}

/// Go through an audit file line by line as [`read_log_checked`] reads it, handing each entry
/// (with where its line lies) to `each` rather than holding them all: a log of a million
/// records is read in the memory of one. Returns the damaged lines' numbers.
fn scan_log(path: &Path, mut each: impl FnMut(LineAt, Entry)) -> Result<Vec<usize>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).context(ReadAuditSnafu { path }),
    };
    // A device or FIFO in its place (a link to /dev/zero) would be read forever.
    if !file.metadata().context(ReadAuditSnafu { path })?.is_file() {
        return Err(io::Error::other("it is not a regular file")).context(ReadAuditSnafu { path });
    }
    let mut damaged = Vec::new();
    let mut offset = 0u64;
    for (at, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line = line.context(ReadAuditSnafu { path })?;
        let start = offset;
        offset += line.len() as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(line) = std::str::from_utf8(line) else {
            damaged.push(at + 1);
            continue;
        };
        let where_ = LineAt { offset: start, len: line.len() };
        if let Ok(r) = serde_json::from_str::<AuditRecord>(line) {
            each(where_, Entry::Input(Box::new(r)));
        } else if let Ok(m) = serde_json::from_str::<MoveRecord>(line) {
            each(where_, Entry::Move(m));
        } else {
            damaged.push(at + 1);
        }
    }
    Ok(damaged)
}

/// Read again the input record whose line [`scan_log`] found at `at`.
fn read_line_at(file: &mut File, path: &Path, at: LineAt) -> Result<AuditRecord> {
    use std::io::{Read, Seek, SeekFrom};
    let mut line = vec![0u8; at.len];
    file.seek(SeekFrom::Start(at.offset)).and_then(|_| file.read_exact(&mut line)).context(ReadAuditSnafu { path })?;
    serde_json::from_slice(&line).map_err(io::Error::other).context(ReadAuditSnafu { path })
}

/// Damaged lines of one audit log (see [`read_log_checked`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedLines {
    /// The log's path relative to the output folder (`/` separators).
    pub log: String,
    /// The damaged lines' numbers, from 1.
    pub lines: Vec<usize>,
}

impl DamagedLines {
    /// What is damaged, for a message: the log, how many lines and which (the first ten);
    /// never a line's content, which may be anything.
    pub fn describe(&self) -> String {
        let shown: Vec<String> = self.lines.iter().take(10).map(usize::to_string).collect();
        let more = if self.lines.len() > 10 { ", …" } else { "" };
        let (noun, label) = if self.lines.len() == 1 { ("line", "line") } else { ("lines", "lines") };
        format!(
            "{} has {} damaged {noun} ({label} {}{more}: not valid UTF-8 or not an audit record, as a power cut or disk error in the middle of a write leaves)",
            self.log,
            self.lines.len(),
            shown.join(", ")
        )
    }
}

/// The damaged lines of every audit log in an output folder (`kamei verify` and `kamei report`
/// report them; `deid` learns them from [`done_inputs`]).
///
/// # Errors
/// [`Error::ReadAudit`] if an audit file cannot be read.
pub fn damaged_lines(out: &Path) -> Result<Vec<DamagedLines>> {
    let mut v = Vec::new();
    for log in audit_logs(out) {
        let (_, lines) = read_log_checked(&log)?;
        if !lines.is_empty() {
            v.push(DamagedLines { log: log_name(out, &log), lines });
        }
    }
    Ok(v)
}

/// A log's path relative to the output folder.
fn log_name(out: &Path, log: &Path) -> String {
    rel_string(log.strip_prefix(out).unwrap_or(log))
}

/// The audit logs in an output folder (the whole run's and every shard's), sorted by name.
pub(crate) fn audit_logs(out: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(out) else { return Vec::new() };
    let mut logs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("kamei-audit") && name.ends_with(".jsonl")
        })
        .map(|e| e.path())
        .collect();
    logs.sort();
    logs
}

/// Where each input's output is now: the audit logs of an output folder with their move
/// records applied.
#[derive(Debug, Default)]
pub struct Index {
    /// One entry per input (content and path key) whose latest record says written or present
    /// and that was not superseded since.
    pub outputs: Vec<Located>,
    /// Every move record, deduplicated.
    pub moves: Vec<MoveRecord>,
    /// The logs' damaged lines (ignored: what they recorded is processed again).
    pub damaged: Vec<DamagedLines>,
    /// The path keys of the `failed` records (and records without content), by log: the run's
    /// end reads again only the logs holding one of the paths it met
    /// ([`crate::stale_failures`]).
    pub replaceable: crate::stale_failures::Replaceable,
}

/// One input's output, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The input's content hash.
    pub input_sha256: String,
    /// The input's path key (empty: none recorded).
    pub input_path_key: String,
    /// The output its record names.
    pub recorded: String,
    /// Where the output is now (`None`: moves make it uncertain and no file there holds its
    /// bytes; the input is then processed again, which finds its file and records it).
    pub output: Option<String>,
    /// The output's SHA-256, when known (recorded, or learnt from a move).
    pub output_sha256: Option<String>,
    /// The output's size in bytes, when recorded ([`AuditRecord::output_bytes`]).
    pub output_bytes: Option<u64>,
}

/// Read the audit logs of `out` and locate every input's output.
///
/// A record names the output where it was written. A move record says that the output at
/// `moved_from` with output hash H is now at `moved_to`; it applies to the records of `moved_from`
/// whose output hash is H. A record without an output hash (written where nothing claimed the
/// name, so nothing was hashed) is the first output at that name: only a lower hash ever
/// displaces an output, so the first one moved from a name has the highest hash of all moved
/// from it. Whenever moves are involved the answer is checked against the files (the file found
/// must have the expected hash), so a move announced but not made (a killed run), or a move made
/// whose record was lost, never makes kamei claim a file that is not the input's: the input is
/// then processed again. Records without moves are located as recorded, hashing nothing.
///
/// # Errors
/// [`Error::ReadAudit`] if an audit file cannot be read.
pub fn index(out: &Path) -> Result<Index> {
    // Per (content, input path key): the latest record's output, or nothing when a later record
    // says it failed or was superseded. A superseded pair stays superseded whichever log (a
    // shard's, the whole run's) is read first.
    let mut pairs: HashMap<(String, String), Option<Written>> = HashMap::new();
    let mut superseded = std::collections::HashSet::new();
    let mut moves = std::collections::BTreeSet::new();
    let mut damaged = Vec::new();
    let mut replaceable = crate::stale_failures::Replaceable::default();
    for log in audit_logs(out) {
        let lines = scan_log(&log, |_, entry| {
            let r = match entry {
                Entry::Input(r) => r,
                Entry::Move(m) => {
                    moves.insert(m);
                    return;
                }
            };
            replaceable.note(&log, &r);
            let Some(h) = r.input_sha256 else { return };
            let pair = (h, r.input_path_key.unwrap_or_default());
            match (r.outcome, r.output) {
                (Outcome::Written | Outcome::Present, Some(o)) => {
                    pairs.insert(pair, Some((o, r.output_sha256, r.output_bytes)));
                }
                (Outcome::Superseded, _) => {
                    superseded.insert(pair);
                }
                _ => {
                    pairs.insert(pair, None);
                }
            }
        })?;
        if !lines.is_empty() {
            damaged.push(DamagedLines { log: log_name(out, &log), lines });
        }
    }
    let moves: Vec<MoveRecord> = moves.into_iter().collect();
    // Each record's strings are moved, never copied: a million outputs are held once.
    let mut outputs: Vec<Located> = Vec::with_capacity(pairs.len());
    outputs.extend(pairs.into_iter().filter(|(pair, _)| !superseded.contains(pair)).filter_map(|((h, key), o)| {
        o.map(|(o, sha, bytes)| Located {
            input_sha256: h,
            input_path_key: key,
            recorded: o,
            output: None,
            output_sha256: sha,
            output_bytes: bytes,
        })
    }));
    outputs.sort_by(|a, b| {
        (&a.input_sha256, &a.input_path_key, &a.recorded, &a.output_sha256).cmp(&(
            &b.input_sha256,
            &b.input_path_key,
            &b.recorded,
            &b.output_sha256,
        ))
    });
    let moves_at = Moves::new(&moves);
    // Records without an output hash, by name: how many different inputs (by content).
    let alone: Vec<bool> = {
        let mut unhashed: HashMap<&str, std::collections::HashSet<&str>> = HashMap::new();
        for l in &outputs {
            if l.output_sha256.is_none() && moves_at.from.contains_key(l.recorded.as_str()) {
                unhashed.entry(l.recorded.as_str()).or_default().insert(l.input_sha256.as_str());
            }
        }
        outputs.iter().map(|l| unhashed.get(l.recorded.as_str()).is_none_or(|s| s.len() <= 1)).collect()
    };
    for (l, alone) in outputs.iter_mut().zip(alone) {
        (l.output, l.output_sha256) = moves_at.locate(out, &l.recorded, l.output_sha256.as_deref(), alone);
    }
    Ok(Index { outputs, moves, damaged, replaceable })
}

/// A record's output, its output hash and size (when recorded).
type Written = (String, Option<String>, Option<u64>);

/// Move records by the name they moved from.
struct Moves<'a> {
    /// Name → (output hash, new name).
    from: HashMap<&'a str, Vec<(&'a str, &'a str)>>,
}

impl<'a> Moves<'a> {
    fn new(moves: &'a [MoveRecord]) -> Moves<'a> {
        let mut from: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
        for m in moves {
            from.entry(m.moved_from.as_str()).or_default().push((m.output_sha256.as_str(), m.moved_to.as_str()));
        }
        Moves { from }
    }

    /// Where the output recorded at `name` (with output hash `sha` when known; `alone`: no
    /// other input without a hash is recorded there) is now, and its hash.
    fn locate(&self, out: &Path, name: &str, sha: Option<&str>, alone: bool) -> (Option<String>, Option<String>) {
        let Some(here) = self.from.get(name) else { return (Some(name.to_string()), sha.map(str::to_string)) };
        let sha = match sha {
            Some(s) => s,
            // The first output at the name: if it was moved, it was the first moved, and so has
            // the highest hash of those moved from there (checked against the file below).
            None if alone => here.iter().map(|(h, _)| *h).max().unwrap_or_default(),
            None => return (None, None),
        };
        // Follow the moves of this output; a name seen twice (moved away and back) ends it.
        let mut path = vec![name];
        let mut at = name;
        while let Some((_, to)) = self.from.get(at).and_then(|v| v.iter().find(|(h, _)| *h == sha)) {
            if path.contains(to) {
                break;
            }
            path.push(to);
            at = to;
        }
        if path.len() == 1 {
            return (Some(name.to_string()), Some(sha.to_string()));
        }
        // Check against the files, latest name first.
        for candidate in path.iter().rev() {
            if crate::write::sha256_file(&out.join(candidate)).is_ok_and(|h| h == sha) {
                return (Some(candidate.to_string()), Some(sha.to_string()));
            }
        }
        (None, None)
    }
}

/// Inputs already written by earlier runs into `out` (any audit file there): content hash →
/// output path (where the output is now, moves applied, see [`index`]), and what each input path
/// made.
///
/// # Errors
/// [`Error::ReadAudit`] if an audit file cannot be read.
pub fn done_inputs(out: &Path) -> Result<Done> {
    let index = index(out)?;
    let mut done = Done { damaged: index.damaged.clone(), replaceable: index.replaceable.clone(), ..Done::default() };
    for m in &index.moves {
        done.contended.insert(m.moved_from.clone());
        done.contended.insert(m.moved_to.clone());
        done.moves.push((m.moved_from.clone(), m.moved_to.clone()));
    }
    for l in index.outputs {
        // An output whose place is uncertain is not done: processing the input again finds it.
        let Some(o) = l.output else { continue };
        done.by_path.entry(l.input_path_key).or_default().push((l.input_sha256.clone(), o.clone()));
        if let Some(sha) = l.output_sha256 {
            done.output_sha256.insert(l.input_sha256.clone(), sha);
        }
        done.outputs
            .insert(l.input_sha256, DoneOutput { path: o, bytes: l.output_bytes.and_then(std::num::NonZeroU64::new) });
    }
    Ok(done)
}

/// What earlier runs finished, from the audit logs in an output folder.
#[derive(Debug, Default)]
pub struct Done {
    /// Input content hash → its output, for inputs written (or found present).
    pub outputs: HashMap<String, DoneOutput>,
    /// Input path key ([`AuditRecord::input_path_key`]) → the contents written for that path
    /// and their outputs (more than one when a shard left a superseded output). Records without
    /// a key (an anonymized run's) are under the empty key: an input whose path is unknown.
    pub by_path: HashMap<String, Vec<(String, String)>>,
    /// Input content hash → the output's SHA-256, where known.
    pub output_sha256: HashMap<String, String>,
    /// Names some output moved from or to: the run's end folds the moves into its log.
    pub contended: std::collections::HashSet<String>,
    /// Every move on record, (from, to): a `moved` linkage row a killed run did not write is
    /// written by the re-run ([`crate::unlinked_moves`]).
    pub moves: Vec<(String, String)>,
    /// The logs' damaged lines: the run says so once, and goes on.
    pub damaged: Vec<DamagedLines>,
    /// The path keys of the records a later record of their path makes stale, by log
    /// ([`Index::replaceable`]).
    pub replaceable: crate::stale_failures::Replaceable,
}

/// An output an earlier run wrote (or found present), as [`Done`] holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoneOutput {
    /// Where it is now, relative to the output folder (moves applied).
    pub path: String,
    /// Its size in bytes, when recorded ([`AuditRecord::output_bytes`]): a resume takes a file
    /// of another size at that path for a damaged output, not a finished one. (No output is
    /// empty; non-zero, it takes 8 bytes per output of a million-input release, not 16.)
    pub bytes: Option<std::num::NonZeroU64>,
}

/// Whether `r` says only that the output `earlier` records as written was found present: the
/// same content met again under the same key (in anonymized mode, where records have no path
/// key, two copies of one file). Keeping the later record would leave the input with no record
/// that it was written.
fn repeats_a_write(earlier: Option<&Kept>, r: &AuditRecord) -> bool {
    earlier.is_some_and(|e| {
        r.outcome == Outcome::Present && e.written_to.is_some_and(|o| o == r.output.as_deref().map(digest_of))
    })
}

/// Rewrite an audit file with the latest record per input (content and path key), sorted by
/// content hash (failures after the others, records of unreadable entries, which have no
/// hash, last; then the move records, deduplicated and sorted). A `failed` record, and a record
/// without content hash (a FIFO, a dangling link), is dropped when a later record has the same
/// path key, whatever its content: the path was processed again. A `superseded` record does not
/// count as one (it is about the content the path held before). Atomic: temporary file, then
/// rename.
///
/// # Errors
/// [`Error::ReadAudit`] / [`Error::WriteAudit`].
pub fn compact(path: &Path) -> Result<usize> {
    compact_with(path, None)
}

/// [`compact`], and with `index` (of the whole output folder, see [`index`]) fold the moves into
/// this log's records: a record whose output moved (by a move record in any log) names where
/// it is now, with its output hash. The move records stay: a record in another log (another
/// shard's) may need them.
///
/// # Errors
/// [`Error::ReadAudit`] / [`Error::WriteAudit`].
pub fn compact_with(path: &Path, index: Option<&Index>) -> Result<usize> {
    // Only what deciding and sorting need is held per record (its keys, its outcome, where its
    // line is); the records kept are read again from the log as the new one is written. So a
    // log of a million records is compacted in a few hundred bytes per record, not the few
    // kilobytes each parsed record takes.
    let mut latest: HashMap<(String, Option<String>), Kept> = HashMap::new();
    let mut unhashed: Vec<(Kept, Option<String>, Option<String>)> = Vec::new();
    let mut moves = std::collections::BTreeSet::new();
    // Where each input path (by key) was last recorded, whatever its content.
    let mut last_at: HashMap<String, usize> = HashMap::new();
    let mut at = 0usize;
    scan_log(path, |line, e| {
        at += 1;
        let r = match e {
            Entry::Input(r) => *r,
            Entry::Move(m) => {
                moves.insert(m);
                return;
            }
        };
        // A `superseded` record is about content the path held before (written at the end of
        // the run that met the new content): it does not make this run's record of the path
        // stale.
        if let (Some(k), false) = (&r.input_path_key, r.outcome == Outcome::Superseded) {
            last_at.insert(k.clone(), at);
        }
        let kept = Kept {
            at,
            line,
            outcome: r.outcome,
            written_to: (r.outcome == Outcome::Written).then(|| r.output.as_deref().map(digest_of)),
        };
        match &r.input_sha256 {
            Some(h) => {
                // One record per content and input path (the key of a path, never the path).
                let key = (h.clone(), r.input_path_key.clone());
                if !repeats_a_write(latest.get(&key), &r) {
                    latest.insert(key, kept);
                }
            }
            None => unhashed.push((kept, r.input_path_key, r.reason)),
        }
    })?;
    // A failure is stale once its path was recorded again: the cause went away (a link's target
    // appeared, a file finished copying in), and the audit describes the inputs as they are now.
    // So is the record of an entry that has no content (a FIFO skipped, a dangling link): each
    // run records it again, and one directory entry is one input.
    let current = |kept: &Kept, hashed: bool, key: Option<&String>| -> bool {
        let replaceable = kept.outcome == Outcome::Failed || !hashed;
        let stale = replaceable && key.and_then(|k| last_at.get(k)).is_some_and(|&last| last > kept.at);
        !stale
    };
    let mut sorted: Vec<((String, Option<String>), Kept)> =
        latest.into_iter().filter(|((_, key), kept)| current(kept, true, key.as_ref())).collect();
    // Failures after the other records: a later compaction reads a failure as newer than any
    // record of its path written before it, and so never drops it for one of those.
    sorted.sort_by(|(a, ka), (b, kb)| {
        (ka.outcome == Outcome::Failed, &a.0, &a.1).cmp(&(kb.outcome == Outcome::Failed, &b.0, &b.1))
    });
    let mut unhashed: Vec<(Kept, Option<String>)> = unhashed
        .into_iter()
        .filter(|(kept, key, _)| current(kept, false, key.as_ref()))
        .map(|(kept, _, reason)| (kept, reason))
        .collect();
    unhashed.sort_by(|(a, ra), (b, rb)| (a.outcome == Outcome::Failed, ra).cmp(&(b.outcome == Outcome::Failed, rb)));
    let located: Option<HashMap<(&str, &str), &Located>> = index
        .map(|index| index.outputs.iter().map(|l| ((l.input_sha256.as_str(), l.input_path_key.as_str()), l)).collect());
    let fold = |r: &mut AuditRecord| {
        let Some(located) = &located else { return };
        let (Some(h), Some(o)) = (&r.input_sha256, &r.output) else { return };
        if !matches!(r.outcome, Outcome::Written | Outcome::Present) {
            return;
        }
        let key = r.input_path_key.as_deref().unwrap_or_default();
        let Some(l) = located.get(&(h.as_str(), key)).filter(|l| l.recorded == *o) else { return };
        if let Some(now) = &l.output {
            r.output = Some(now.clone());
            r.output_sha256 = l.output_sha256.clone().or(r.output_sha256.take());
        }
    };
    let count = sorted.len() + unhashed.len();
    // Opened for the first record kept: a log that is not there (nothing to keep) is written empty.
    let mut log: Option<File> = None;
    let kept_lines = sorted.iter().map(|(_, k)| k.line).chain(unhashed.iter().map(|(k, _)| k.line));
    let mut hashed_left = sorted.len();
    // The new log is written under a fixed name beside the old one, then renamed over it. A
    // run killed meanwhile leaves that file behind; the next compaction of the same log
    // truncates and reuses it, so an interrupted run that is resumed leaves nothing extra in
    // OUT (a random temporary name would stay there for good). Each shard's log has its own
    // name, so shards never share this file.
    let tmp = compacting_path(path);
    let lines = kept_lines
        .map(|line| -> Result<String> {
            let file = match &mut log {
                Some(file) => file,
                None => log.insert(File::open(path).context(ReadAuditSnafu { path })?),
            };
            let mut r = read_line_at(file, path, line)?;
            // Only records with a content hash name an output the index locates.
            if hashed_left > 0 {
                hashed_left -= 1;
                fold(&mut r);
            }
            Ok(serde_json::to_string(&r).expect("audit records serialize"))
        })
        .chain(moves.iter().map(|m| Ok(serde_json::to_string(m).expect("move records serialize"))));
    let written = write_lines(&tmp, lines).and_then(|()| fs::rename(&tmp, path).context(WriteAuditSnafu { path }));
    if written.is_err() {
        // A full disk stops the write half way: the half-written log would go on taking the
        // room the user must make (the old log is intact and the next run compacts again).
        let _ = fs::remove_file(&tmp);
    }
    written.map(|()| count)
}

/// What [`compact_with`] holds of one record while it decides which to keep.
struct Kept {
    /// The record's place among the log's entries (counted from one).
    at: usize,
    /// Where its line is, to read it again.
    line: LineAt,
    outcome: Outcome,
    /// For a `written` record: the digest of the output it names ([`digest_of`]).
    written_to: Option<Option<[u8; 32]>>,
}

/// The SHA-256 of an output path, to compare two records' outputs without holding the paths.
fn digest_of(output: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(output.as_bytes()).into()
}

/// Writes `lines` to a new file at `path`, one per line.
fn write_lines(path: &Path, lines: impl Iterator<Item = Result<String>>) -> Result<()> {
    let file = File::create(path).context(WriteAuditSnafu { path })?;
    let mut w = BufWriter::new(file);
    for line in lines {
        let line = line?;
        w.write_all(line.as_bytes()).and_then(|_| w.write_all(b"\n")).context(WriteAuditSnafu { path })?;
    }
    w.flush().context(WriteAuditSnafu { path })
}

/// Where [`compact`] writes the new log before renaming it: `.<log name>.compacting` beside it.
fn compacting_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.compacting"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(hash: &str, outcome: Outcome) -> AuditRecord {
        let mut r = AuditRecord::new(Some(hash.to_string()), 1, outcome, &MadeBy::default());
        r.output = Some(format!("{hash}.dcm"));
        r
    }

    #[test]
    fn compact_keeps_latest_record_sorted_and_drops_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let mut w = AuditWriter::open(&path).unwrap();
        w.append(&record("bb", Outcome::Failed)).unwrap();
        w.append(&record("aa", Outcome::Written)).unwrap();
        w.append(&record("bb", Outcome::Written)).unwrap();
        drop(w);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"input_sha256\":\"cc\",\"outc").unwrap();
        assert_eq!(compact(&path).unwrap(), 2);
        let back = read_records(&path).unwrap();
        assert_eq!(back.iter().map(|r| r.input_sha256.clone().unwrap()).collect::<Vec<_>>(), ["aa", "bb"]);
        assert_eq!(back[1].outcome, Outcome::Written);
    }

    fn keyed(hash: Option<&str>, key: &str, outcome: Outcome) -> AuditRecord {
        let mut r = record(hash.unwrap_or("x"), outcome);
        r.input_sha256 = hash.map(str::to_string);
        r.input_path_key = Some(key.to_string());
        r
    }

    #[test]
    fn rv16_02_a_failure_is_dropped_once_its_path_is_recorded_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let mut w = AuditWriter::open(&path).unwrap();
        w.append(&keyed(None, "k1", Outcome::Failed)).unwrap(); // a dangling link
        w.append(&keyed(Some("t2"), "k2", Outcome::Failed)).unwrap(); // a file still copying in
        w.append(&keyed(Some("aa"), "k1", Outcome::Written)).unwrap();
        w.append(&keyed(Some("bb"), "k2", Outcome::Written)).unwrap();
        drop(w);
        assert_eq!(compact(&path).unwrap(), 2);
        let back = read_records(&path).unwrap();
        assert!(back.iter().all(|r| r.outcome == Outcome::Written), "{back:?}");
    }

    #[test]
    fn rv16_02_a_failure_after_a_write_of_its_path_stays_through_compactions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let mut w = AuditWriter::open(&path).unwrap();
        // Hash "zz" sorts after "aa": the failure must still read as the newer record.
        w.append(&keyed(Some("zz"), "k1", Outcome::Written)).unwrap();
        w.append(&keyed(Some("aa"), "k1", Outcome::Failed)).unwrap();
        w.append(&keyed(Some("bb"), "k2", Outcome::Written)).unwrap();
        drop(w);
        for _ in 0..2 {
            compact(&path).unwrap();
            let back = read_records(&path).unwrap();
            assert!(back.iter().any(|r| r.outcome == Outcome::Failed), "{back:?}");
        }
    }

    #[test]
    fn rv21_09_a_failure_stays_beside_the_superseded_record_of_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let mut w = AuditWriter::open(&path).unwrap();
        w.append(&keyed(Some("aa"), "k1", Outcome::Written)).unwrap(); // run 1
        w.append(&keyed(Some("bb"), "k1", Outcome::Failed)).unwrap(); // run 2: the path's new content
        w.append(&keyed(Some("aa"), "k1", Outcome::Superseded)).unwrap(); // run 2, at its end
        drop(w);
        compact(&path).unwrap();
        let outcomes: Vec<_> =
            read_records(&path).unwrap().into_iter().map(|r| (r.input_sha256.unwrap(), r.outcome)).collect();
        assert_eq!(outcomes, [("aa".to_string(), Outcome::Superseded), ("bb".to_string(), Outcome::Failed)]);
    }

    #[test]
    fn rv21_01_an_entry_without_content_has_one_record_however_often_it_is_met() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        for _ in 0..3 {
            let mut w = AuditWriter::open(&path).unwrap();
            w.append(&keyed(None, "fifo", Outcome::Skipped)).unwrap();
            w.append(&keyed(None, "link", Outcome::Failed)).unwrap();
            drop(w);
            compact(&path).unwrap();
        }
        let keys: Vec<_> = read_records(&path).unwrap().into_iter().map(|r| r.input_path_key.unwrap()).collect();
        assert_eq!(keys, ["fifo", "link"]);
    }

    #[test]
    fn compaction_killed_earlier_leaves_nothing_after_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let mut w = AuditWriter::open(&path).unwrap();
        w.append(&record("aa", Outcome::Written)).unwrap();
        drop(w);
        // A run killed while compacting left its half-written new log.
        fs::write(dir.path().join(format!(".{AUDIT_FILE}.compacting")), b"{\"input_sha256\":\"a").unwrap();
        assert_eq!(compact(&path).unwrap(), 1);
        let names: Vec<String> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names, [AUDIT_FILE]);
        assert_eq!(read_records(&path).unwrap().len(), 1);
    }

    #[test]
    fn record_appended_after_a_torn_line_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let mut w = AuditWriter::open(&path).unwrap();
        w.append(&record("aa", Outcome::Written)).unwrap();
        drop(w);
        // A killed run left half a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"input_sha256\":\"cc\",\"outc").unwrap();
        drop(f);
        let mut w = AuditWriter::open(&path).unwrap();
        w.append(&record("bb", Outcome::Written)).unwrap();
        drop(w);
        let back: Vec<String> = read_records(&path).unwrap().into_iter().map(|r| r.input_sha256.unwrap()).collect();
        assert_eq!(back, ["aa", "bb"]);
    }

    #[test]
    fn done_inputs_forgets_an_input_that_later_failed() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = AuditWriter::open(&dir.path().join(AUDIT_FILE)).unwrap();
        w.append(&record("aa", Outcome::Written)).unwrap();
        w.append(&record("bb", Outcome::Written)).unwrap();
        w.append(&record("bb", Outcome::Failed)).unwrap();
        let done = done_inputs(dir.path()).unwrap().outputs;
        assert_eq!(done.get("aa").map(|o| o.path.as_str()), Some("aa.dcm"));
        assert!(!done.contains_key("bb"));
    }

    #[test]
    fn a_superseded_content_is_not_done_whichever_log_is_read_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut shard = AuditWriter::open(&dir.path().join(audit_file_name(Some("shard-0001-of-0002")))).unwrap();
        let mut written = record("aa", Outcome::Written);
        written.input_path_key = Some("k".into());
        shard.append(&written).unwrap();
        let mut whole = AuditWriter::open(&dir.path().join(AUDIT_FILE)).unwrap();
        let mut superseded = record("aa", Outcome::Superseded);
        superseded.input_path_key = Some("k".into());
        whole.append(&superseded).unwrap();
        drop((shard, whole));
        let done = done_inputs(dir.path()).unwrap();
        assert!(done.outputs.is_empty() && done.by_path.is_empty());
    }

    fn sha(bytes: &[u8]) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(bytes))
    }

    fn output_record(input: &str, output: &str, output_sha256: Option<&str>) -> AuditRecord {
        let mut r = record(input, Outcome::Written);
        r.output = Some(output.into());
        r.output_sha256 = output_sha256.map(str::to_string);
        r
    }

    fn move_record(from: &str, to: &str, bytes: &[u8]) -> MoveRecord {
        MoveRecord {
            moved_from: from.into(),
            moved_to: to.into(),
            output_sha256: sha(bytes),
            kamei_version: "0".into(),
        }
    }

    fn located(dir: &Path) -> HashMap<String, Option<String>> {
        index(dir).unwrap().outputs.into_iter().map(|l| (l.input_sha256, l.output)).collect()
    }

    #[test]
    fn a_move_in_another_log_applies_to_the_displaced_record_without_an_output_hash() {
        let dir = tempfile::tempdir().unwrap();
        // Shard 1 wrote input aa at 1.dcm (nothing claimed the name: no hash). Shard 2's input bb
        // has a lower output hash: it moved aa's output to its collision name and took 1.dcm.
        fs::write(dir.path().join("1.dcm"), b"bb out").unwrap();
        fs::write(dir.path().join("1.x.dcm"), b"aa out").unwrap();
        let mut one = AuditWriter::open(&dir.path().join(audit_file_name(Some("shard-0001-of-0002")))).unwrap();
        one.append(&output_record("aa", "1.dcm", None)).unwrap();
        let mut two = AuditWriter::open(&dir.path().join(audit_file_name(Some("shard-0002-of-0002")))).unwrap();
        two.append_move(&move_record("1.dcm", "1.x.dcm", b"aa out")).unwrap();
        two.append(&output_record("bb", "1.dcm", Some(&sha(b"bb out")))).unwrap();
        drop((one, two));
        let at = located(dir.path());
        assert_eq!(at["aa"].as_deref(), Some("1.x.dcm"));
        assert_eq!(at["bb"].as_deref(), Some("1.dcm"));
        let done = done_inputs(dir.path()).unwrap();
        assert_eq!(done.outputs["aa"].path, "1.x.dcm");
        assert_eq!(done.output_sha256["aa"], sha(b"aa out"));
        assert!(done.contended.contains("1.dcm") && done.contended.contains("1.x.dcm"));
        // Old readers of the log skip the move line; this one keeps it apart from the records.
        assert_eq!(read_records(&dir.path().join(audit_file_name(Some("shard-0002-of-0002")))).unwrap().len(), 1);
    }

    #[test]
    fn a_move_announced_but_not_made_is_found_out_from_the_files() {
        let dir = tempfile::tempdir().unwrap();
        // A run was killed between recording the move and making it: the file is still at 1.dcm.
        fs::write(dir.path().join("1.dcm"), b"aa out").unwrap();
        let mut w = AuditWriter::open(&dir.path().join(AUDIT_FILE)).unwrap();
        w.append(&output_record("aa", "1.dcm", None)).unwrap();
        w.append_move(&move_record("1.dcm", "1.x.dcm", b"aa out")).unwrap();
        drop(w);
        assert_eq!(located(dir.path())["aa"].as_deref(), Some("1.dcm"));
        // Neither name holds its bytes: not located, so the input is processed again.
        fs::write(dir.path().join("1.dcm"), b"something else").unwrap();
        assert_eq!(located(dir.path())["aa"], None);
        assert!(!done_inputs(dir.path()).unwrap().outputs.contains_key("aa"));
    }

    #[test]
    fn an_output_moved_away_and_back_is_where_its_bytes_are() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("1.dcm"), b"aa out").unwrap();
        let mut w = AuditWriter::open(&dir.path().join(AUDIT_FILE)).unwrap();
        w.append(&output_record("aa", "1.dcm", Some(&sha(b"aa out")))).unwrap();
        w.append_move(&move_record("1.dcm", "1.x.dcm", b"aa out")).unwrap();
        w.append_move(&move_record("1.x.dcm", "1.dcm", b"aa out")).unwrap();
        drop(w);
        assert_eq!(located(dir.path())["aa"].as_deref(), Some("1.dcm"));
        fs::rename(dir.path().join("1.dcm"), dir.path().join("1.x.dcm")).unwrap();
        assert_eq!(located(dir.path())["aa"].as_deref(), Some("1.x.dcm"));
    }

    #[test]
    fn two_records_without_output_hash_at_a_name_moves_left_are_not_located() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("1.dcm"), b"bb out").unwrap();
        fs::write(dir.path().join("1.x.dcm"), b"aa out").unwrap();
        let mut w = AuditWriter::open(&dir.path().join(AUDIT_FILE)).unwrap();
        w.append(&output_record("aa", "1.dcm", None)).unwrap();
        w.append(&output_record("bb", "1.dcm", None)).unwrap();
        w.append_move(&move_record("1.dcm", "1.x.dcm", b"aa out")).unwrap();
        drop(w);
        let at = located(dir.path());
        assert_eq!((at["aa"].as_deref(), at["bb"].as_deref()), (None, None));
    }

    #[test]
    fn compaction_folds_moves_into_this_logs_records_and_keeps_the_move_lines() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("1.dcm"), b"bb out").unwrap();
        fs::write(dir.path().join("1.x.dcm"), b"aa out").unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let mut w = AuditWriter::open(&path).unwrap();
        w.append(&output_record("aa", "1.dcm", None)).unwrap();
        w.append_move(&move_record("1.dcm", "1.x.dcm", b"aa out")).unwrap();
        w.append_move(&move_record("1.dcm", "1.x.dcm", b"aa out")).unwrap();
        w.append(&output_record("bb", "1.dcm", Some(&sha(b"bb out")))).unwrap();
        drop(w);
        let index = index(dir.path()).unwrap();
        assert_eq!(compact_with(&path, Some(&index)).unwrap(), 2);
        let entries = read_log(&path).unwrap();
        let Entry::Input(aa) = &entries[0] else { panic!("{entries:?}") };
        assert_eq!((aa.output.as_deref(), aa.output_sha256.clone()), (Some("1.x.dcm"), Some(sha(b"aa out"))));
        assert_eq!(entries.iter().filter(|e| matches!(e, Entry::Move(_))).count(), 1, "deduplicated, kept");
        assert_eq!(located(dir.path())["aa"].as_deref(), Some("1.x.dcm"), "the same answer after folding");
    }

    #[test]
    fn compaction_keeps_the_written_record_of_content_met_again_as_present() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let mut w = AuditWriter::open(&path).unwrap();
        w.append(&output_record("aa", "1.dcm", None)).unwrap();
        let mut again = output_record("aa", "1.dcm", None);
        again.outcome = Outcome::Present;
        w.append(&again).unwrap();
        let mut elsewhere = output_record("bb", "2.dcm", None);
        w.append(&elsewhere).unwrap();
        elsewhere.outcome = Outcome::Present;
        elsewhere.output = Some("3.dcm".into());
        w.append(&elsewhere).unwrap();
        drop(w);
        assert_eq!(compact(&path).unwrap(), 2);
        let outcomes: Vec<_> = read_records(&path).unwrap().into_iter().map(|r| (r.outcome, r.output)).collect();
        assert_eq!(
            outcomes,
            vec![(Outcome::Written, Some("1.dcm".into())), (Outcome::Present, Some("3.dcm".into()))],
            "a present record of another output is the latest word"
        );
    }

    fn settings(mode: &str, key: Option<&str>) -> RunSettings {
        RunSettings {
            kamei_version: "0".into(),
            mode: mode.into(),
            key_fingerprint: key.map(str::to_string),
            profile: "basic".into(),
            profile_sha256: "p".into(),
            options: vec![],
            layout: "hierarchy".into(),
            cohort: None,
            pixels: None,
            date_shift: None,
            shards: None,
            identifiers: None,
            strict: None,
        }
    }

    #[test]
    fn shard_runs_into_one_folder_must_use_one_shard_count() {
        let dir = tempfile::tempdir().unwrap();
        let sharded = |n| RunSettings { shards: n, ..settings("pseudonymized", Some("k1")) };
        sharded(None).claim(dir.path()).unwrap();
        sharded(Some(2)).claim(dir.path()).unwrap();
        sharded(Some(2)).claim(dir.path()).unwrap();
        let err = sharded(Some(3)).claim(dir.path()).unwrap_err();
        assert!(matches!(err, Error::ShardCountDiffers { earlier: 2, now: 3, .. }), "{err}");
        assert!(err.to_string().contains("Run the remaining shards as I/2"), "{err}");
        sharded(None).claim(dir.path()).expect("a whole run finishes what shards left");
        assert!(sharded(Some(3)).check(dir.path()).is_err(), "--dry-run refuses it too");
    }

    #[test]
    fn settings_must_match_an_earlier_run() {
        let dir = tempfile::tempdir().unwrap();
        settings("pseudonymized", Some("k1")).claim(dir.path()).unwrap();
        settings("pseudonymized", Some("k1")).claim(dir.path()).unwrap();
        let err = settings("pseudonymized", Some("k2")).claim(dir.path()).unwrap_err();
        assert!(err.to_string().contains("key differs"), "{err}");
        assert!(matches!(settings("anonymized", None).claim(dir.path()), Err(Error::KeyNeeded { .. })));
    }

    #[test]
    fn a_run_with_other_date_shift_settings_is_refused_naming_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let with = |max_days: u32, keep_weekday: bool| RunSettings {
            date_shift: Some(date_shift_label(crate::profile::DateShiftPolicy { max_days, keep_weekday })),
            // The date shift settings are part of the profile digest.
            profile_sha256: format!("p{max_days}{keep_weekday}"),
            ..settings("pseudonymized", Some("k1"))
        };
        with(365, false).claim(dir.path()).unwrap();
        with(365, false).claim(dir.path()).unwrap();
        let err = with(30, false).claim(dir.path()).unwrap_err().to_string();
        assert!(err.contains("--date-shift-max-days"), "{err}");
        assert!(err.contains("365 days in the earlier run, 30 days in this one"), "{err}");
        assert!(!err.contains("profile differs"), "{err}");
        let err = with(365, true).check(dir.path()).unwrap_err().to_string();
        assert!(err.contains("--keep-weekday"), "{err}");
        assert!(err.contains("off in the earlier run, on in this one"), "{err}");
    }

    #[test]
    fn a_run_cannot_continue_an_anonymized_one_whose_key_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        settings("anonymized", None).claim(dir.path()).unwrap();
        let err = settings("pseudonymized", Some("k1")).claim(dir.path()).unwrap_err();
        assert!(matches!(err, Error::AnonymizedResume { .. }), "{err}");
        assert!(matches!(settings("anonymized", None).claim(dir.path()), Err(Error::AnonymizedResume { .. })));
    }
}
