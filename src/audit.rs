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
    /// The output folder was written with other settings.
    #[snafu(display(
        "{} was written with other settings ({what} differs); use a new output folder, or the same key, profile and options",
        path.display()
    ))]
    SettingsDiffer {
        /// The settings file.
        path: PathBuf,
        /// Which setting differs.
        what: String,
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
    /// The output path relative to the output folder, with `/` separators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
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

/// What pixel cleaning did to one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelAudit {
    /// Frames examined (every frame is blanked in the same boxes).
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
}

/// How [`RunSettings::date_shift`] spells a policy.
pub fn date_shift_label(policy: crate::profile::DateShiftPolicy) -> String {
    format!("max_days={} keep_weekday={}", policy.max_days, policy.keep_weekday)
}

impl RunSettings {
    /// Record these settings in `out`, or check them against the ones already there.
    ///
    /// # Errors
    /// [`Error::AnonymizedResume`] if `out` holds a run and this one is anonymized (or the earlier
    /// one was); [`Error::SettingsDiffer`] if an earlier run used other settings.
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
        self.compare(out)
    }

    /// Check these settings against the ones an earlier run recorded in `out`, writing nothing
    /// (`--dry-run`: it must refuse what the real run would refuse). No earlier run: `Ok`.
    ///
    /// # Errors
    /// As [`RunSettings::claim`].
    pub fn check(&self, out: &Path) -> Result<()> {
        match fs::metadata(out.join(RUN_FILE)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            _ => self.compare(out),
        }
    }

    fn compare(&self, out: &Path) -> Result<()> {
        let path = out.join(RUN_FILE);
        let existing = fs::read_to_string(&path).context(ReadAuditSnafu { path: &path })?;
        let earlier: RunSettings = match serde_json::from_str(&existing) {
            Ok(s) => s,
            Err(_) => return SettingsDifferSnafu { path, what: "the settings file is unreadable".to_string() }.fail(),
        };
        if self.mode == "anonymized" || earlier.mode == "anonymized" {
            return AnonymizedResumeSnafu { path: out }.fail();
        }
        let checks = [
            ("key", self.key_fingerprint != earlier.key_fingerprint),
            ("profile", self.profile_sha256 != earlier.profile_sha256 || self.profile != earlier.profile),
            ("options", self.options != earlier.options),
            ("layout", self.layout != earlier.layout),
            ("pixel cleaning settings", self.pixels != earlier.pixels),
            ("kamei version", self.kamei_version != earlier.kamei_version),
            ("the patient registers or study window", self.cohort != earlier.cohort),
        ];
        match checks.iter().find(|(_, differs)| *differs) {
            Some((what, _)) => SettingsDifferSnafu { path, what: what.to_string() }.fail(),
            None => Ok(()),
        }
    }
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

/// Read every record of an audit file; a torn or unparseable line is skipped.
///
/// # Errors
/// [`Error::ReadAudit`] if the file exists but cannot be read.
pub fn read_records(path: &Path) -> Result<Vec<AuditRecord>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).context(ReadAuditSnafu { path }),
    };
    let mut out = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.context(ReadAuditSnafu { path })?;
        if let Ok(r) = serde_json::from_str::<AuditRecord>(&line) {
            out.push(r);
        }
    }
    Ok(out)
}

/// Inputs already written by earlier runs into `out` (any audit file there): content hash →
/// output path, and what each input path made.
///
/// # Errors
/// [`Error::ReadAudit`] if an audit file cannot be read.
pub fn done_inputs(out: &Path) -> Result<Done> {
    let mut done = Done::default();
    let entries = match fs::read_dir(out) {
        Ok(rd) => rd,
        Err(_) => return Ok(done),
    };
    // Per (content, input path key): the output, or nothing when a later record says it failed
    // or was superseded. A superseded pair stays superseded whichever log (a shard's, the whole
    // run's) is read first.
    let mut pairs: HashMap<(String, String), Option<String>> = HashMap::new();
    let mut superseded = std::collections::HashSet::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("kamei-audit") && name.ends_with(".jsonl")) {
            continue;
        }
        for r in read_records(&entry.path())? {
            let Some(h) = r.input_sha256 else { continue };
            let pair = (h, r.input_path_key.unwrap_or_default());
            match (r.outcome, r.output) {
                (Outcome::Written | Outcome::Present, Some(o)) => {
                    pairs.insert(pair, Some(o));
                }
                (Outcome::Superseded, _) => {
                    superseded.insert(pair);
                }
                _ => {
                    pairs.insert(pair, None);
                }
            }
        }
    }
    for ((h, key), output) in pairs {
        let Some(o) = output.filter(|_| !superseded.contains(&(h.clone(), key.clone()))) else { continue };
        done.by_path.entry(key).or_default().push((h.clone(), o.clone()));
        done.outputs.insert(h, o);
    }
    Ok(done)
}

/// What earlier runs finished, from the audit logs in an output folder.
#[derive(Debug, Default)]
pub struct Done {
    /// Input content hash → output path, for inputs written (or found present).
    pub outputs: HashMap<String, String>,
    /// Input path key ([`AuditRecord::input_path_key`]) → the contents written for that path
    /// and their outputs (more than one when a shard left a superseded output). Records without
    /// a key (an anonymized run's) are under the empty key: an input whose path is unknown.
    pub by_path: HashMap<String, Vec<(String, String)>>,
}

/// Rewrite an audit file with the latest record per input (content and path key), sorted by content hash (records of
/// unreadable entries, which have no hash, last). Atomic: temporary file, then rename.
///
/// # Errors
/// [`Error::ReadAudit`] / [`Error::WriteAudit`].
pub fn compact(path: &Path) -> Result<usize> {
    let records = read_records(path)?;
    let mut latest: HashMap<(String, Option<String>), AuditRecord> = HashMap::new();
    let mut unhashed: Vec<AuditRecord> = Vec::new();
    for r in records {
        match &r.input_sha256 {
            Some(h) => {
                // One record per content and input path (the key of a path, never the path).
                latest.insert((h.clone(), r.input_path_key.clone()), r);
            }
            None => unhashed.push(r),
        }
    }
    let mut sorted: Vec<AuditRecord> = latest.into_values().collect();
    sorted.sort_by(|a, b| (&a.input_sha256, &a.input_path_key).cmp(&(&b.input_sha256, &b.input_path_key)));
    unhashed.sort_by(|a, b| a.reason.cmp(&b.reason));
    sorted.extend(unhashed);
    // The new log is written under a fixed name beside the old one, then renamed over it. A
    // run killed meanwhile leaves that file behind; the next compaction of the same log
    // truncates and reuses it, so an interrupted run that is resumed leaves nothing extra in
    // OUT (a random temporary name would stay there for good). Each shard's log has its own
    // name, so shards never share this file.
    let tmp = compacting_path(path);
    {
        let file = File::create(&tmp).context(WriteAuditSnafu { path: &tmp })?;
        let mut w = BufWriter::new(file);
        for r in &sorted {
            let line = serde_json::to_string(r).expect("audit records serialize");
            w.write_all(line.as_bytes()).and_then(|_| w.write_all(b"\n")).context(WriteAuditSnafu { path: &tmp })?;
        }
        w.flush().context(WriteAuditSnafu { path: &tmp })?;
    }
    fs::rename(&tmp, path).context(WriteAuditSnafu { path })?;
    Ok(sorted.len())
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
        AuditRecord {
            input_sha256: Some(hash.to_string()),
            input_path_key: None,
            input_bytes: 1,
            outcome,
            reason: None,
            output: Some(format!("{hash}.dcm")),
            sop_class_uid: None,
            modality: None,
            transfer_syntax: None,
            burned_in: None,
            actions: vec![],
            notes: vec![],
            pixels: None,
            profile: "basic".into(),
            profile_sha256: "x".into(),
            options: vec![],
            mode: "pseudonymized".into(),
            kamei_version: "0".into(),
        }
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
        assert_eq!(done.get("aa").map(String::as_str), Some("aa.dcm"));
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
        }
    }

    #[test]
    fn settings_must_match_an_earlier_run() {
        let dir = tempfile::tempdir().unwrap();
        settings("pseudonymized", Some("k1")).claim(dir.path()).unwrap();
        settings("pseudonymized", Some("k1")).claim(dir.path()).unwrap();
        let err = settings("pseudonymized", Some("k2")).claim(dir.path()).unwrap_err();
        assert!(err.to_string().contains("key differs"), "{err}");
        assert!(matches!(settings("anonymized", None).claim(dir.path()), Err(Error::AnonymizedResume { .. })));
    }
}
