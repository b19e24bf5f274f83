//! Failures a later run made stale, across the audit logs of one output folder.
//!
//! README "Audit log": a `failed` record, and the record of an entry that has no content (a FIFO
//! skipped, a dangling link), is dropped once a later record names the same input path. Within
//! one log, compaction ([`crate::audit::compact`]) sees the order of the records. Across logs
//! it cannot: records carry no time, and an input that failed in one shard's log
//! (`kamei-audit.shard-000I-of-000N.jsonl`) may be written by the whole run that finishes the
//! release (`kamei-audit.jsonl`), or the reverse. So the run that meets the input path again
//! drops such records at its end, from the logs it may rewrite: it knows they are older than
//! what it met ([`Met`]).
//!
//! Which logs: a whole run holds OUT alone (see [`crate::lock`]), so every shard log is closed
//! and older; it rewrites them all. A `--shard` run may run beside other shards, which append to
//! their own logs, so it rewrites only the whole run's log (which no run appends to meanwhile),
//! under an exclusive lock against the other shards doing the same; a shard's log is only ever
//! rewritten by that shard or by a whole run, and shards share no input path but an INPUT
//! argument itself (which each shard meets again). Its own log is rewritten for the records
//! older than this run (before `since`): an input done earlier that this run found done again
//! appends nothing, so compaction alone would never see a later record of its path.
//!
//! Which of those logs are read: only the ones that held, when the run started, such a record of
//! a path this run met ([`Replaceable`], noted while the start-of-run index read every log
//! anyway). A run that met none reads and rewrites nothing at its end: the logs of a release of a
//! million inputs are about 1 GB each, and reading them again only to find nothing to drop took
//! 12–13 s (README "Performance"). Records that become replaceable after the index was read are
//! this run's own (kept: see `since`) or none: no run appends to a log this run rewrites.
//!
//! Logs are read and written a line at a time: the memory is the set of path keys met (16
//! bytes each) and the keys of the replaceable records, not the logs.

use crate::audit::{AUDIT_FILE, AuditRecord, Error, Outcome};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The input paths a run met, by their audit path key ([`AuditRecord::input_path_key`]),
/// whatever became of them: written, found done, failed, skipped, and each INPUT argument that
/// exists (a folder that was missing on an earlier run is met again though nothing else names
/// its path). Held as a 128-bit digest of each key.
#[derive(Debug, Default)]
pub struct Met {
    keys: HashSet<[u8; 16]>,
}

impl Met {
    /// Record that this run met the input path with this key.
    pub fn insert(&mut self, key: &str) {
        self.keys.insert(digest(key));
    }

    /// Whether this run met the input path with this key.
    pub fn contains(&self, key: &str) -> bool {
        self.keys.contains(&digest(key))
    }

    /// Whether no path was met.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The path keys of the records a later record of their path makes stale (`failed` records and records without content), by
/// the log that holds them (its file name): noted while the audit index is read at the start of
/// a run ([`crate::audit::index`]), so that at its end only a log holding one of the paths the
/// run met is read again. Held as digests, like [`Met`].
#[derive(Debug, Default, Clone)]
pub struct Replaceable {
    by_log: HashMap<String, HashSet<[u8; 16]>>,
}

impl Replaceable {
    /// Take note of a record read from `log`, when it is replaceable and has a path key.
    pub fn note(&mut self, log: &Path, r: &AuditRecord) {
        if let (true, Some(key)) = (replaceable(r), r.input_path_key.as_deref()) {
            self.by_log.entry(log_name(log)).or_default().insert(digest(key));
        }
    }

    /// Whether `log` held a replaceable record of a path this run met.
    fn met_in(&self, log: &Path, met: &Met) -> bool {
        self.by_log.get(&log_name(log)).is_some_and(|keys| keys.iter().any(|k| met.keys.contains(k)))
    }
}

/// A log's file name: the logs of one output folder are told apart by it.
fn log_name(log: &Path) -> String {
    log.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Whether a later record of its path makes `r` stale: a `failed` record, or one without content
/// hash (a FIFO skipped, a dangling link), but never a `superseded` one.
fn replaceable(r: &AuditRecord) -> bool {
    r.outcome == Outcome::Failed || (r.input_sha256.is_none() && r.outcome != Outcome::Superseded)
}

/// 128 bits of the SHA-256 of a path key (keys are 128-bit hashes themselves).
fn digest(key: &str) -> [u8; 16] {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// Drop the records that the run which wrote `own` (the log it appended to from byte `since`
/// on) made stale: `failed` records and records without content hash whose path key it met,
/// from its own log (only those before `since`) and from the other logs of `out` it may
/// rewrite (see the module doc; `whole`: this is a whole run, not a `--shard` one). Only the
/// logs that `candidates` (noted when the run started) says hold such a record of a path met
/// are read. Returns how many records were dropped.
///
/// # Errors
/// [`Error::ReadAudit`] / [`Error::WriteAudit`].
pub fn drop_stale(
    out: &Path,
    own: &Path,
    since: u64,
    met: &Met,
    candidates: &Replaceable,
    whole: bool,
) -> Result<usize, Error> {
    if met.is_empty() {
        return Ok(0);
    }
    let mut dropped = 0;
    if candidates.met_in(own, met) {
        dropped += drop_in(own, met, Some(since))?;
    }
    if whole {
        for log in shard_logs(out) {
            if log != own && candidates.met_in(&log, met) {
                dropped += drop_in(&log, met, None)?;
            }
        }
    } else {
        let whole_log = out.join(AUDIT_FILE);
        if whole_log != own && candidates.met_in(&whole_log, met) {
            dropped += drop_locked(&whole_log, met)?;
        }
    }
    Ok(dropped)
}

/// The shard logs of `out` (`kamei-audit.shard-*.jsonl`): its audit logs but the whole run's.
fn shard_logs(out: &Path) -> Vec<PathBuf> {
    crate::audit::audit_logs(out)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("kamei-audit.shard-")))
        .collect()
}

/// [`drop_in`] on the whole run's log, which other shards may rewrite at the same time: under
/// an exclusive lock on the log file, taken again when another shard replaced the file while
/// this one waited (the lock is on the file, and a rewrite renames a new file over it).
fn drop_locked(log: &Path, met: &Met) -> Result<usize, Error> {
    loop {
        let file = match File::open(log) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(source) => return Err(Error::ReadAudit { path: log.to_path_buf(), source }),
        };
        // A file system that does not lock: shards rewriting at once can only lose a drop
        // (the new file is renamed over the log whole), never a record.
        let _lock = crate::lock::exclusive_file(&file).unwrap_or_else(|_| crate::lock::FileLock::none());
        if same_file(&file, log) {
            return drop_in(log, met, None);
        }
    }
}

/// Whether the open `file` is still the file at `path`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, _: &Path) -> bool {
    true
}

/// Whether the record on `line` (at byte `offset` of its log) is stale: a `failed` record or
/// one without content hash, of a path met, older than `since` when given.
fn stale(line: &[u8], offset: u64, met: &Met, since: Option<u64>) -> bool {
    if since.is_some_and(|s| offset >= s) {
        return false;
    }
    // Only such records are parsed: the others are copied as they are.
    let maybe = |needle: &[u8]| line.windows(needle.len()).any(|w| w == needle);
    if !maybe(b"failed") && !maybe(b"null") {
        return false;
    }
    let Ok(r) = serde_json::from_slice::<AuditRecord>(line) else { return false };
    replaceable(&r) && r.input_path_key.as_deref().is_some_and(|k| met.contains(k))
}

/// What [`each_line`] hands each line to: the line (with its line end) and whether it is stale.
type LineVisitor<'a> = dyn FnMut(&[u8], bool) -> Result<(), Error> + 'a;

/// Hand each line of `log` (with its line end) to `each`, with whether it is [`stale`]. A log
/// that is not there has no lines.
fn each_line(log: &Path, met: &Met, since: Option<u64>, each: &mut LineVisitor<'_>) -> Result<(), Error> {
    let read_err = |source: io::Error| Error::ReadAudit { path: log.to_path_buf(), source };
    let file = match File::open(log) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(read_err(e)),
    };
    // A device or FIFO in its place would be read forever.
    if !file.metadata().map_err(read_err)?.is_file() {
        return Err(read_err(io::Error::other("it is not a regular file")));
    }
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut offset = 0u64;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(read_err)?;
        if n == 0 {
            return Ok(());
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        let is_stale = stale(body, offset, met, since);
        offset += n as u64;
        each(&line, is_stale)?;
    }
}

/// Drop the stale records of one log ([`stale`]), keeping every other line as it is (damaged
/// lines too: compaction deals with them). The log is rewritten only when something is
/// dropped: beside it, then renamed over it.
fn drop_in(log: &Path, met: &Met, since: Option<u64>) -> Result<usize, Error> {
    let mut count = 0usize;
    each_line(log, met, since, &mut |_, is_stale| {
        count += usize::from(is_stale);
        Ok(())
    })?;
    if count == 0 {
        return Ok(0);
    }
    let name = log.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = log.with_file_name(format!(".{name}.dropping"));
    let write_err = |source: io::Error| Error::WriteAudit { path: tmp.clone(), source };
    let written = (|| -> Result<(), Error> {
        let mut w = BufWriter::new(File::create(&tmp).map_err(write_err)?);
        each_line(log, met, since, &mut |line, is_stale| {
            if is_stale { Ok(()) } else { w.write_all(line).map_err(write_err) }
        })?;
        w.flush().map_err(write_err)?;
        std::fs::rename(&tmp, log).map_err(|source| Error::WriteAudit { path: log.to_path_buf(), source })
    })();
    if written.is_err() {
        // A full disk: the old log is whole; the half-written copy would take the room.
        let _ = std::fs::remove_file(&tmp);
    }
    written.map(|()| count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(hash: Option<&str>, key: &str, outcome: Outcome) -> String {
        let mut r = AuditRecord::new(hash.map(str::to_string), 1, outcome, &crate::audit::MadeBy::default());
        r.input_path_key = Some(key.to_string());
        serde_json::to_string(&r).unwrap() + "\n"
    }

    /// What the start-of-run index notes of the logs of `out`.
    fn candidates(out: &Path) -> Replaceable {
        crate::audit::index(out).unwrap().replaceable
    }

    fn met(keys: &[&str]) -> Met {
        let mut m = Met::default();
        for k in keys {
            m.insert(k);
        }
        m
    }

    #[test]
    fn a_whole_run_drops_the_failures_of_the_paths_it_met_from_the_shard_logs() {
        let dir = tempfile::tempdir().unwrap();
        let shard = dir.path().join("kamei-audit.shard-0001-of-0002.jsonl");
        let kept = [
            record(Some("aa"), "k1", Outcome::Written),
            record(Some("bb"), "k3", Outcome::Failed),
            record(Some("cc"), "k2", Outcome::Superseded),
        ];
        let text = [kept[0].clone(), record(Some("dd"), "k2", Outcome::Failed), kept[1].clone(), kept[2].clone()];
        std::fs::write(&shard, text.concat()).unwrap();
        let own = dir.path().join(AUDIT_FILE);
        std::fs::write(&own, "").unwrap();
        assert_eq!(drop_stale(dir.path(), &own, 0, &met(&["k1", "k2"]), &candidates(dir.path()), true).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(&shard).unwrap(), kept.concat());
        assert!(!dir.path().join(".kamei-audit.shard-0001-of-0002.jsonl.dropping").exists());
    }

    #[test]
    fn a_shard_run_drops_from_the_whole_log_but_never_from_another_shards_log() {
        let dir = tempfile::tempdir().unwrap();
        let whole = dir.path().join(AUDIT_FILE);
        let other = dir.path().join("kamei-audit.shard-0002-of-0002.jsonl");
        let own = dir.path().join("kamei-audit.shard-0001-of-0002.jsonl");
        std::fs::write(&whole, record(None, "k1", Outcome::Failed)).unwrap();
        std::fs::write(&other, record(None, "k1", Outcome::Failed)).unwrap();
        std::fs::write(&own, "").unwrap();
        assert_eq!(drop_stale(dir.path(), &own, 0, &met(&["k1"]), &candidates(dir.path()), false).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(&whole).unwrap(), "");
        assert_eq!(std::fs::read_to_string(&other).unwrap(), record(None, "k1", Outcome::Failed));
    }

    #[test]
    fn a_record_without_content_of_a_path_met_is_dropped_and_one_mentioning_failure_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let shard = dir.path().join("kamei-audit.shard-0001-of-0002.jsonl");
        // A FIFO skipped (no content hash), and a written record whose note says "failed".
        let mut noted: AuditRecord = serde_json::from_str(&record(Some("aa"), "k1", Outcome::Written)).unwrap();
        noted.notes.push("a preview failed; input_sha256 null".into());
        let kept = serde_json::to_string(&noted).unwrap() + "\n";
        std::fs::write(&shard, format!("{}{kept}", record(None, "k1", Outcome::Skipped))).unwrap();
        let own = dir.path().join(AUDIT_FILE);
        std::fs::write(&own, "").unwrap();
        assert_eq!(drop_stale(dir.path(), &own, 0, &met(&["k1"]), &candidates(dir.path()), true).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(&shard).unwrap(), kept);
    }

    #[test]
    fn the_own_log_keeps_what_this_run_appended() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join(AUDIT_FILE);
        let earlier = record(Some("aa"), "k1", Outcome::Failed);
        let now = record(Some("bb"), "k1", Outcome::Failed);
        std::fs::write(&own, format!("{earlier}{now}")).unwrap();
        let since = earlier.len() as u64;
        assert_eq!(drop_stale(dir.path(), &own, since, &met(&["k1"]), &candidates(dir.path()), true).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(&own).unwrap(), now);
        assert_eq!(
            drop_stale(dir.path(), &own, 0, &Met::default(), &candidates(dir.path()), true).unwrap(),
            0,
            "nothing met"
        );
    }

    #[test]
    fn a_log_that_held_no_failure_of_a_path_met_is_not_read_at_the_end_of_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let shard = dir.path().join("kamei-audit.shard-0001-of-0002.jsonl");
        let text = [record(Some("aa"), "k1", Outcome::Failed), record(Some("bb"), "k2", Outcome::Written)];
        std::fs::write(&shard, text.concat()).unwrap();
        let own = dir.path().join(AUDIT_FILE);
        std::fs::write(&own, record(Some("cc"), "k3", Outcome::Failed)).unwrap();
        let candidates = candidates(dir.path());
        // A log read now fails ("not a regular file"): only a log that is read notices.
        std::fs::remove_file(&shard).unwrap();
        std::fs::create_dir(&shard).unwrap();
        assert_eq!(drop_stale(dir.path(), &own, 0, &met(&["k2"]), &candidates, true).unwrap(), 0);
        assert!(
            drop_stale(dir.path(), &own, 0, &met(&["k1"]), &candidates, true).is_err(),
            "a log of a path met is read"
        );
    }

    #[test]
    fn the_index_notes_the_keys_of_failures_and_of_records_without_content_by_log() {
        let dir = tempfile::tempdir().unwrap();
        let shard = dir.path().join("kamei-audit.shard-0001-of-0002.jsonl");
        let text = [
            record(Some("aa"), "k1", Outcome::Failed),
            record(None, "k2", Outcome::Skipped),
            record(Some("bb"), "k3", Outcome::Written),
            record(Some("cc"), "k4", Outcome::Superseded),
        ];
        std::fs::write(&shard, text.concat()).unwrap();
        let candidates = candidates(dir.path());
        for (key, noted) in [("k1", true), ("k2", true), ("k3", false), ("k4", false)] {
            assert_eq!(candidates.met_in(&shard, &met(&[key])), noted, "{key}");
        }
        assert!(!candidates.met_in(&dir.path().join(AUDIT_FILE), &met(&["k1"])), "another log");
    }
}
