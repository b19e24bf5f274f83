//! Outputs that no input produces any more: when an input path holds other content than when
//! an earlier run de-identified it (an image re-assigned to the right patient, corrected
//! pixels, a fixed header), the earlier output is superseded and must not stay in the release
//! beside the new one.
//!
//! Each audit record carries a keyed hash of its input's absolute path
//! ([`crate::audit::AuditRecord::input_path_key`]); a re-run compares the content each path has
//! now with the contents recorded for it. At the end of the run an earlier output is removed (a
//! whole run) or counted and left (a shard, a dry run) when no input any longer makes it: every
//! (path, content) the audit records as making it is a path of this run that now holds other
//! content, and this run did not write or find that very file. A path the audit records but
//! this run did not read (another folder, another run's), or an unknown one, keeps it. The
//! decision depends on these sets only, never on the order inputs finish in, on how many paths
//! (copies, hard links) made an output, or on which output hash is lower; a dry run makes the
//! same decision from the audit as it was. All removals are made before a freed name is given:
//! it goes to the output with the lowest hash among those that stay and claim it under their
//! collision names (the new output of the same SOP Instance UID, or another input's): the same
//! names a run from scratch would give.
//!
//! An input deleted from the archive cannot be told from one that was not given to this run
//! (a release built from several input folders): its output stays.

use crate::audit::Done;
use crate::write::Moved;
use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

/// Changes seen during a run, settled at its end.
#[derive(Debug, Default)]
pub struct Supersede {
    /// Hashes of the output names this run wrote or found present: never removed.
    produced: HashSet<u64>,
    /// Inputs whose path held other content in an earlier run.
    changed: Vec<Changed>,
    /// (path key, content hash) of every input of this run: their outputs, wherever they are at
    /// the end of the run, are never removed.
    inputs: HashSet<(String, String)>,
}

fn name_hash(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

/// One earlier output of an input whose path now holds other content.
#[derive(Debug)]
struct Changed {
    input: usize,
    path_key: String,
    old_sha: String,
}

/// What was done about one superseded output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The inputs of this run (1-based numbers) whose paths held the content that made the
    /// earlier output and now hold other content, each with that earlier content's hash: one
    /// output may have been made at several paths (a copy, a hard link). Sorted.
    pub inputs: Vec<(usize, String)>,
    /// The earlier output (relative to OUT).
    pub old_output: String,
    /// Whether it was removed (whole runs; or found already gone) or left (shards, dry runs).
    pub removed: bool,
}

impl Supersede {
    /// An empty tracker.
    pub fn new() -> Supersede {
        Supersede::default()
    }

    /// Whether no input of this run had other content at its path before (nothing to settle).
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }

    /// Note one input of this run: its path key, its content hash and the output file it makes
    /// (`earlier`: what earlier runs recorded). `output` names a file that holds this input's
    /// output: one written or found identical (a dry run passes only those it found, since the
    /// file now at a name it would write is the one the real run moves aside). Returns whether
    /// its path held other content in an earlier run.
    pub fn observe(&mut self, earlier: &Done, input: usize, path_key: &str, sha: &str, output: Option<&str>) -> bool {
        if let Some(o) = output {
            self.produced.insert(name_hash(o));
        }
        self.inputs.insert((path_key.to_string(), sha.to_string()));
        let mut changed = false;
        for (old_sha, _) in earlier.by_path.get(path_key).into_iter().flatten() {
            if old_sha != sha {
                changed = true;
                self.changed.push(Changed { input, path_key: path_key.to_string(), old_sha: old_sha.clone() });
            }
        }
        changed
    }

    /// Remove (when `remove`) the earlier outputs that no input makes any more. `now`: the
    /// audit as it is at the end of the run ([`crate::audit::done_inputs`] read again; a dry run
    /// passes the audit as it was), so that outputs moved during the run are found where they
    /// are. The caller records each removed output (its `superseded` records and linkage rows),
    /// then gives the freed names ([`give_freed_names`]).
    ///
    /// An earlier output is superseded when no (input path, content) the audit records as
    /// making it still makes it: each such path is an input of this run that now holds other
    /// content. It is kept when this run wrote or found that very file, or when the audit
    /// records a path this run did not read (it may not be part of this run) or an unknown one
    /// (records of an anonymized run) as making it. (Content alone does not decide: under
    /// `--layout mirror` the same bytes at another path make another file.) The decision
    /// depends on nothing but these sets: not on the order inputs finished in, how many paths
    /// made an output, or which output hash is lower. An earlier output whose place the audit
    /// cannot tell is left. Problems removing a file leave it in place.
    ///
    /// A superseded output that is already gone counts as removed when `remove`: a run killed
    /// (SIGKILL, power loss) after removing it and before recording it leaves it recorded as
    /// written; the re-run finds its path holding other content and completes its records.
    pub fn settle(self, out: &Path, now: &Done, remove: bool) -> Vec<Settled> {
        if self.changed.is_empty() {
            return Vec::new();
        }
        let located = |key: &str, sha: &str| -> Option<&str> {
            now.by_path.get(key)?.iter().find(|(h, _)| h == sha).map(|(_, o)| o.as_str())
        };
        // Where this run's outputs are now (one may have moved after it was made).
        let mut produced = self.produced.clone();
        for (key, sha) in &self.inputs {
            if let Some(o) = located(key, sha) {
                produced.insert(name_hash(o));
            }
        }
        // Each candidate (where it is now), with the inputs of this run whose path held its
        // content.
        let mut stale: BTreeMap<&str, Vec<(usize, String)>> = BTreeMap::new();
        for c in &self.changed {
            if let Some(o) = located(&c.path_key, &c.old_sha) {
                stale.entry(o).or_default().push((c.input, c.old_sha.clone()));
            }
        }
        // A recorded (path, content) still makes its output unless the path is an input of
        // this run that holds other content now.
        let read: HashSet<&str> = self.inputs.iter().map(|(k, _)| k.as_str()).collect();
        let still_made =
            |key: &str, sha: &str| !read.contains(key) || self.inputs.contains(&(key.to_string(), sha.to_string()));
        let mut made: HashSet<&str> = HashSet::new();
        for (key, recorded) in &now.by_path {
            for (sha, output) in recorded {
                if stale.contains_key(output.as_str()) && still_made(key, sha) {
                    made.insert(output.as_str());
                }
            }
        }
        let gone = |o: &str| std::fs::symlink_metadata(out.join(o)).is_err_and(|e| e.kind() == io::ErrorKind::NotFound);
        stale.retain(|o, _| {
            !made.contains(o) && !produced.contains(&name_hash(o)) && (out.join(o).is_file() || (remove && gone(o)))
        });
        stale
            .into_iter()
            .map(|(old_output, mut inputs)| {
                inputs.sort();
                inputs.dedup();
                let removed = remove
                    && match std::fs::remove_file(out.join(old_output)) {
                        Ok(()) => true,
                        Err(e) => e.kind() == io::ErrorKind::NotFound,
                    };
                if removed {
                    remove_empty_folders(out, &out.join(old_output));
                }
                Settled { inputs, old_output: old_output.to_string(), removed }
            })
            .collect()
    }
}

/// Give every freed name to the lowest-hash output that claims it under its collision name
/// (`<stem>.<12 hex>.<ext>`), as a run from scratch would have, once the removed outputs
/// (`settled`) are on record: the names `settled` removed, and, so that a run killed (SIGKILL,
/// power loss) between recording its removals and giving their names is completed by the
/// re-run, the name any output of the audit (`earlier`, as the run found it) claims under its
/// collision name when no file is there and no record of `earlier` places an output there but
/// one `settled` removed. (A name whose recorded output is missing is not free: that is a
/// missing output, not a freed name.) Called by whole runs only. `intent` is told of each move
/// before it is made; a move it refuses is not made. Returns the moves made.
pub fn give_freed_names(
    out: &Path,
    earlier: &Done,
    settled: &[Settled],
    intent: &mut dyn FnMut(&Moved) -> io::Result<()>,
) -> Vec<Moved> {
    let removed: HashSet<&str> = settled.iter().filter(|s| s.removed).map(|s| s.old_output.as_str()).collect();
    let going: HashSet<PathBuf> = settled.iter().filter(|s| !s.removed).map(|s| PathBuf::from(&s.old_output)).collect();
    let recorded: HashSet<&str> =
        earlier.by_path.values().flatten().map(|(_, o)| o.as_str()).filter(|o| !removed.contains(o)).collect();
    let mut names: Vec<PathBuf> = removed.iter().map(PathBuf::from).collect();
    for output in earlier.by_path.values().flatten().map(|(_, o)| o.as_str()) {
        let Some(name) = claimed_name(Path::new(output)) else { continue };
        let free = std::fs::symlink_metadata(out.join(&name)).is_err_and(|e| e.kind() == io::ErrorKind::NotFound);
        if free && !recorded.contains(crate::audit::rel_string(&name).as_str()) {
            names.push(name);
        }
    }
    names.sort();
    names.dedup();
    let mut moves = Vec::new();
    for name in names {
        match give_freed_name(out, &name, &going, intent) {
            Some(m) => moves.push(m),
            None => remove_empty_folders(out, &out.join(&name)),
        }
    }
    moves
}

/// The name an output at a collision name (`<stem>.<12 hex>.<ext>`,
/// [`crate::layout::collision_name`]) claims: `<stem>.<ext>`. None for any other name.
fn claimed_name(output: &Path) -> Option<PathBuf> {
    let file = output.file_name()?.to_str()?;
    let hex_at =
        |part: &str| part.len() == 12 && part.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    let (rest, last) = file.rsplit_once('.')?;
    // `<stem>.<hex>` (a name without extension, `--layout mirror`) or `<stem>.<hex>.<ext>`.
    let base = match rest.rsplit_once('.') {
        Some((stem, hex)) if hex_at(hex) && !stem.is_empty() => format!("{stem}.{last}"),
        _ if hex_at(last) && !rest.is_empty() => rest.to_string(),
        _ => return None,
    };
    Some(output.with_file_name(base))
}

/// The outputs that claim `name` under a collision name (`<stem>.<12 hex>.<ext>` beside it),
/// with their hashes, except those in `going` (superseded ones a removal left in place).
fn claimants(out: &Path, name: &Path, going: &HashSet<PathBuf>) -> Vec<(String, PathBuf)> {
    let dir = out.join(name.parent().unwrap_or(Path::new("")));
    let stem = name.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = name.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut found = Vec::new();
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(middle) = file.strip_prefix(&format!("{stem}.")).and_then(|r| r.strip_suffix(ext.as_str())) else {
            continue;
        };
        let hex = middle.len() == 12 && middle.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        let rel = name.with_file_name(&file);
        if !hex || going.contains(&rel) || !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        // A collision name holds the start of its output's hash: a file whose name only looks
        // like one (a UID whose last component has 12 digits) is no claimant.
        if let Some(h) = crate::write::sha256_file(&e.path()).ok().filter(|h| h.starts_with(middle)) {
            found.push((h, rel));
        }
    }
    found.sort();
    found
}

/// Give a freed name to the lowest-hash output that claims it (if any), as a run from scratch
/// would have: move it there without replacing anything. Its move is announced first.
fn give_freed_name(
    out: &Path,
    name: &Path,
    going: &HashSet<PathBuf>,
    intent: &mut dyn FnMut(&Moved) -> io::Result<()>,
) -> Option<Moved> {
    let (sha, from) = claimants(out, name, going).into_iter().next()?;
    let m = Moved { from, to: name.to_path_buf(), sha256: sha };
    intent(&m).ok()?;
    crate::write::rename_noreplace(&out.join(&m.from), &out.join(name)).ok()?;
    Some(m)
}

/// Remove the folders above a removed file that are now empty, up to (not including) `out`.
fn remove_empty_folders(out: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == out || !d.starts_with(out) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(c: char) -> String {
        std::iter::repeat_n(c, 64).collect()
    }

    /// Earlier runs made `output` from content `a` at path key `k` (and at `others`).
    fn earlier(output: &str, others: &[&str]) -> Done {
        let mut d = Done::default();
        d.outputs.insert(sha('a'), crate::audit::DoneOutput { path: output.to_string(), bytes: None });
        d.by_path.insert("k".into(), vec![(sha('a'), output.to_string())]);
        for o in others {
            d.by_path.insert(o.to_string(), vec![(sha('a'), output.to_string())]);
        }
        d
    }

    #[test]
    fn an_output_of_content_a_path_no_longer_holds_is_removed_with_its_empty_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("P1/s")).unwrap();
        std::fs::write(dir.path().join("P1/s/1.dcm"), b"old").unwrap();
        let done = earlier("P1/s/1.dcm", &[]);
        let mut s = Supersede::new();
        assert!(s.observe(&done, 1, "k", &sha('b'), Some("P2/s/1.dcm")));
        let settled = s.settle(dir.path(), &done, true);
        assert_eq!(settled.len(), 1);
        assert!(settled[0].removed);
        assert!(!dir.path().join("P1").exists());
    }

    #[test]
    fn an_output_another_input_of_this_run_makes_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"old").unwrap();
        let done = earlier("1.dcm", &[]);
        let mut s = Supersede::new();
        s.observe(&done, 1, "k", &sha('b'), Some("2.dcm"));
        s.observe(&done, 2, "other", &sha('a'), Some("1.dcm"));
        assert!(s.settle(dir.path(), &done, true).is_empty());
        assert!(dir.path().join("1.dcm").exists());
    }

    #[test]
    fn the_same_content_at_another_path_does_not_keep_a_mirror_output() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("x")).unwrap();
        std::fs::write(dir.path().join("x/IM1"), b"old").unwrap();
        let done = earlier("x/IM1", &[]);
        let mut s = Supersede::new();
        s.observe(&done, 1, "k", &sha('b'), Some("x/IM1.bbbbbbbbbbbb"));
        s.observe(&done, 2, "other", &sha('a'), Some("y/IM1"));
        assert_eq!(s.settle(dir.path(), &done, true).len(), 1);
    }

    #[test]
    fn an_output_another_path_was_recorded_making_is_kept_even_when_not_in_this_run() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"old").unwrap();
        let done = earlier("1.dcm", &["copy-elsewhere"]);
        let mut s = Supersede::new();
        s.observe(&done, 1, "k", &sha('b'), Some("2.dcm"));
        assert!(s.settle(dir.path(), &done, true).is_empty());
        assert!(dir.path().join("1.dcm").exists());
    }

    #[test]
    fn an_output_a_record_without_path_key_made_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"old").unwrap();
        let done = earlier("1.dcm", &[""]);
        let mut s = Supersede::new();
        s.observe(&done, 1, "k", &sha('b'), Some("2.dcm"));
        assert!(s.settle(dir.path(), &done, true).is_empty());
    }

    #[test]
    fn an_output_this_run_found_present_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"same").unwrap();
        let done = earlier("1.dcm", &[]);
        let mut s = Supersede::new();
        // The new content de-identifies to the very same bytes (a removed attribute changed).
        s.observe(&done, 1, "k", &sha('b'), Some("1.dcm"));
        assert!(s.settle(dir.path(), &done, true).is_empty());
        assert!(dir.path().join("1.dcm").exists());
    }

    #[test]
    fn a_shard_counts_what_it_leaves() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"old").unwrap();
        let done = earlier("1.dcm", &[]);
        let mut s = Supersede::new();
        s.observe(&done, 1, "k", &sha('b'), None);
        let settled = s.settle(dir.path(), &done, false);
        assert!(!settled[0].removed);
        assert!(dir.path().join("1.dcm").exists());
    }

    fn sha_of(bytes: &[u8]) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn a_new_output_with_a_collision_name_moves_into_the_freed_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"old").unwrap();
        let alt = crate::layout::collision_name(Path::new("1.dcm"), &sha_of(b"new")).to_string_lossy().into_owned();
        std::fs::write(dir.path().join(&alt), b"new").unwrap();
        let done = earlier("1.dcm", &[]);
        let mut s = Supersede::new();
        s.observe(&done, 1, "k", &sha('b'), Some(&alt));
        let mut intents = Vec::new();
        let settled = s.settle(dir.path(), &done, true);
        let moves = give_freed_names(dir.path(), &done, &settled, &mut |m| {
            intents.push(m.clone());
            Ok(())
        });
        let moved = moves[0].clone();
        assert_eq!(
            (moved.from.to_string_lossy().into_owned(), moved.to.clone()),
            (alt.clone(), PathBuf::from("1.dcm"))
        );
        assert_eq!(moved.sha256, sha_of(b"new"));
        assert_eq!(intents, [moved], "the move is announced before it is made");
        assert_eq!(std::fs::read(dir.path().join("1.dcm")).unwrap(), b"new");
        assert!(!dir.path().join(&alt).exists());
    }

    #[test]
    fn a_freed_name_goes_to_the_lowest_hash_of_those_that_claim_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("s")).unwrap();
        std::fs::write(dir.path().join("s/1.dcm"), b"old").unwrap();
        let mut claims: Vec<(String, &[u8])> = [&b"x"[..], b"y", b"z"].iter().map(|b| (sha_of(b), *b)).collect();
        for (h, b) in &claims {
            let alt = crate::layout::collision_name(Path::new("s/1.dcm"), h);
            std::fs::write(dir.path().join(alt), b).unwrap();
        }
        // Not a claimant: another stem, and a name that is not 12 hex digits.
        std::fs::write(dir.path().join("s/1.2.dcm"), b"other").unwrap();
        std::fs::write(dir.path().join("s/1.abc.dcm"), b"other").unwrap();
        claims.sort();
        let done = earlier("s/1.dcm", &[]);
        let mut s = Supersede::new();
        s.observe(&done, 1, "k", &sha('b'), Some("t/9.dcm"));
        let settled = s.settle(dir.path(), &done, true);
        let moves = give_freed_names(dir.path(), &done, &settled, &mut |_| Ok(()));
        assert_eq!(moves[0].sha256, claims[0].0);
        assert_eq!(std::fs::read(dir.path().join("s/1.dcm")).unwrap(), claims[0].1);
        assert_eq!(std::fs::read_dir(dir.path().join("s")).unwrap().count(), 5);
    }

    #[test]
    fn an_output_every_path_of_which_now_holds_other_content_is_removed_in_either_order() {
        for order in [["k", "copy"], ["copy", "k"]] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("P1")).unwrap();
            std::fs::write(dir.path().join("P1/1.dcm"), b"old").unwrap();
            // The same content at two paths (a copy, a hard link) made one output.
            let done = earlier("P1/1.dcm", &["copy"]);
            let mut s = Supersede::new();
            for (n, key) in order.iter().enumerate() {
                assert!(s.observe(&done, n + 1, key, &sha('b'), Some("P2/1.dcm")));
            }
            let settled = s.settle(dir.path(), &done, true);
            assert_eq!(settled.len(), 1, "one output");
            assert!(settled[0].removed);
            assert_eq!(settled[0].inputs, [(1, sha('a')), (2, sha('a'))], "both paths made it");
            assert!(!dir.path().join("P1").exists());
        }
    }

    #[test]
    fn an_output_a_path_not_read_by_this_run_made_is_kept_though_another_path_changed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"old").unwrap();
        let done = earlier("1.dcm", &["copy", "elsewhere"]);
        let mut s = Supersede::new();
        s.observe(&done, 1, "k", &sha('b'), Some("2.dcm"));
        s.observe(&done, 2, "copy", &sha('b'), Some("2.dcm"));
        assert!(s.settle(dir.path(), &done, true).is_empty());
        assert!(dir.path().join("1.dcm").exists());
    }

    /// Two earlier outputs of one SOP Instance UID (two encodings), both superseded, one at the
    /// name and one at its collision name, with a lower hash than the new outputs that claim
    /// the name: the name goes to the lowest new output, whichever input finished first.
    #[test]
    fn a_stale_output_never_moves_into_a_name_another_stale_output_freed() {
        let new = [&b"new-x"[..], b"new-y"];
        let lowest_new = new.iter().map(|b| sha_of(b)).min().unwrap();
        let old_b = (0..).map(|i| format!("old-b-{i}").into_bytes()).find(|b| sha_of(b) < lowest_new).unwrap();
        for order in [[0, 1], [1, 0]] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("s")).unwrap();
            std::fs::write(dir.path().join("s/1.dcm"), b"old-a").unwrap();
            let old_alt = crate::layout::collision_name(Path::new("s/1.dcm"), &sha_of(&old_b));
            std::fs::write(dir.path().join(&old_alt), &old_b).unwrap();
            let mut alts = Vec::new();
            for b in new {
                let alt = crate::layout::collision_name(Path::new("s/1.dcm"), &sha_of(b));
                std::fs::write(dir.path().join(&alt), b).unwrap();
                alts.push(alt.to_string_lossy().into_owned());
            }
            let mut done = Done::default();
            done.by_path.insert("ka".into(), vec![(sha('a'), "s/1.dcm".into())]);
            done.by_path.insert("kb".into(), vec![(sha('b'), old_alt.to_string_lossy().into_owned())]);
            let mut s = Supersede::new();
            let keys = ["ka", "kb"];
            for i in order {
                s.observe(&done, i + 1, keys[i], &sha_of(new[i]), Some(&alts[i]));
            }
            let settled = s.settle(dir.path(), &done, true);
            assert_eq!(settled.iter().filter(|s| s.removed).count(), 2, "{settled:?}");
            give_freed_names(dir.path(), &done, &settled, &mut |_| Ok(()));
            assert_eq!(sha_of(&std::fs::read(dir.path().join("s/1.dcm")).unwrap()), lowest_new);
            assert!(!dir.path().join(&old_alt).exists());
            assert_eq!(std::fs::read_dir(dir.path().join("s")).unwrap().count(), 2, "the two new outputs");
        }
    }

    #[test]
    fn two_stale_outputs_of_one_name_leave_no_file_when_no_new_output_claims_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("P1")).unwrap();
        std::fs::write(dir.path().join("P1/1.dcm"), b"old-a").unwrap();
        let alt = crate::layout::collision_name(Path::new("P1/1.dcm"), &sha_of(b"old-b"));
        std::fs::write(dir.path().join(&alt), b"old-b").unwrap();
        let mut done = Done::default();
        done.by_path.insert("ka".into(), vec![(sha('a'), "P1/1.dcm".into())]);
        done.by_path.insert("kb".into(), vec![(sha('b'), alt.to_string_lossy().into_owned())]);
        let mut s = Supersede::new();
        s.observe(&done, 1, "ka", &sha('c'), Some("P2/1.dcm"));
        s.observe(&done, 2, "kb", &sha('d'), Some("P2/1.cccccccccccc.dcm"));
        let settled = s.settle(dir.path(), &done, false);
        assert_eq!(settled.len(), 2, "a dry run counts both");
        let settled = {
            let mut s = Supersede::new();
            s.observe(&done, 1, "ka", &sha('c'), Some("P2/1.dcm"));
            s.observe(&done, 2, "kb", &sha('d'), Some("P2/1.cccccccccccc.dcm"));
            s.settle(dir.path(), &done, true)
        };
        assert!(settled.iter().all(|s| s.removed), "{settled:?}");
        assert!(give_freed_names(dir.path(), &done, &settled, &mut |_| Ok(())).is_empty());
        assert!(!dir.path().join("P1").exists());
    }

    /// rv39 03: a run killed after removing an output and before recording it: its path holds
    /// other content, its output is gone, its record still says written. The re-run settles it
    /// as removed, so its records are written.
    #[test]
    fn rv39_03_a_superseded_output_already_gone_is_settled_as_removed_by_a_whole_run() {
        let dir = tempfile::tempdir().unwrap();
        let done = earlier("P1/1.dcm", &[]);
        let observe = || {
            let mut s = Supersede::new();
            s.observe(&done, 1, "k", &sha('b'), Some("P2/1.dcm"));
            s
        };
        let settled = observe().settle(dir.path(), &done, true);
        assert_eq!(settled.len(), 1);
        assert!(settled[0].removed);
        assert!(
            observe().settle(dir.path(), &done, false).is_empty(),
            "a shard or a dry run leaves it to the whole run"
        );
    }

    /// rv39 03: a run killed after recording its removals and before giving the freed names:
    /// the re-run finds the output at a collision name whose name no record and no file holds,
    /// and gives it that name. A name whose recorded output is missing is not free, and a file
    /// whose name only looks like a collision name (its hash does not start so) claims nothing.
    #[test]
    fn rv39_03_a_freed_name_a_killed_run_did_not_give_is_given_by_the_rerun() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("s")).unwrap();
        let alt = crate::layout::collision_name(Path::new("s/1.dcm"), &sha_of(b"new"));
        std::fs::write(dir.path().join(&alt), b"new").unwrap();
        let looks_like = "s/2.0123456789ab.dcm";
        std::fs::write(dir.path().join(looks_like), b"other").unwrap();
        let mut done = Done::default();
        done.by_path.insert("kb".into(), vec![(sha('b'), alt.to_string_lossy().into_owned())]);
        done.by_path.insert("kc".into(), vec![(sha('c'), looks_like.into())]);
        // A recorded output that is missing: its name is not free.
        let mut missing = Done { by_path: done.by_path.clone(), ..Done::default() };
        missing.by_path.insert("ka".into(), vec![(sha('a'), "s/1.dcm".into())]);
        assert!(give_freed_names(dir.path(), &missing, &[], &mut |_| Ok(())).is_empty());
        assert!(dir.path().join(&alt).exists());
        let moves = give_freed_names(dir.path(), &done, &[], &mut |_| Ok(()));
        assert_eq!(moves.len(), 1, "{moves:?}");
        assert_eq!(moves[0].to, PathBuf::from("s/1.dcm"));
        assert_eq!(std::fs::read(dir.path().join("s/1.dcm")).unwrap(), b"new");
        assert!(dir.path().join(looks_like).exists() && !dir.path().join("s/2.dcm").exists());
    }

    #[test]
    fn a_collision_name_claims_the_name_without_its_hash() {
        assert_eq!(claimed_name(Path::new("a/1.2.0123456789ab.dcm")), Some(PathBuf::from("a/1.2.dcm")));
        assert_eq!(claimed_name(Path::new("x/IM1.0123456789ab")), Some(PathBuf::from("x/IM1")));
        assert_eq!(claimed_name(Path::new("a/1.2.dcm")), None);
        assert_eq!(claimed_name(Path::new("a/1.0123456789AB.dcm")), None);
    }
}
