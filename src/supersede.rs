//! Outputs that no input produces any more: when an input path holds other content than when
//! an earlier run de-identified it (an image re-assigned to the right patient, corrected
//! pixels, a fixed header), the earlier output is superseded and must not stay in the release
//! beside the new one.
//!
//! Each audit record carries a keyed hash of its input's path ([`crate::audit::AuditRecord::input_path_key`]);
//! a re-run compares the content hash each path has now with the one recorded for it. At the
//! end of the run, an earlier output whose content no input of this run has any more is
//! removed (a whole run), or counted and left (a shard: the same content may be another
//! path's, in another shard). When the new output took a collision name because the old one
//! held its name (the same SOP Instance UID), it is moved to that name.
//!
//! An input deleted from the archive cannot be told from one that was not given to this run
//! (a release built from several input folders): its output stays.

use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Changes seen during a run, settled at its end.
#[derive(Debug, Default)]
pub struct Supersede {
    /// Input path key → content hash, from earlier runs' audit records.
    earlier: HashMap<String, String>,
    /// The first 8 bytes of each content hash this run saw (a collision only keeps an output).
    seen: HashSet<u64>,
    /// Hashes of the output names this run wrote or found present: never removed.
    produced: HashSet<u64>,
    /// Inputs whose path held other content in an earlier run.
    changed: Vec<Changed>,
}

fn name_hash(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

/// One input whose path held other content in an earlier run.
#[derive(Debug)]
struct Changed {
    input: usize,
    old_sha: String,
    new_sha: String,
    new_output: Option<String>,
}

/// What was done about one superseded output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The input (1-based number in this run) whose path now holds other content.
    pub input: usize,
    /// The content hash the earlier output was made from.
    pub old_sha: String,
    /// The earlier output (relative to OUT).
    pub old_output: String,
    /// Whether it was removed (whole runs) or left (shards).
    pub removed: bool,
    /// When the new output was moved from its collision name into the earlier output's name:
    /// the new name.
    pub moved_new_output: Option<String>,
}

fn prefix(sha: &str) -> u64 {
    u64::from_str_radix(sha.get(..16).unwrap_or(sha), 16).unwrap_or(0)
}

impl Supersede {
    /// Start from the path keys of earlier runs ([`crate::audit::Done::by_path`]).
    pub fn new(earlier: HashMap<String, String>) -> Supersede {
        Supersede { earlier, ..Supersede::default() }
    }

    /// Note one input of this run: its path key, its content hash and the output it has now.
    /// Returns whether its path held other content in an earlier run.
    pub fn observe(&mut self, input: usize, path_key: &str, sha: &str, output: Option<&str>) -> bool {
        self.seen.insert(prefix(sha));
        if let Some(o) = output {
            self.produced.insert(name_hash(o));
        }
        match self.earlier.get(path_key) {
            Some(old) if old != sha => {
                self.changed.push(Changed {
                    input,
                    old_sha: old.clone(),
                    new_sha: sha.to_string(),
                    new_output: output.map(str::to_string),
                });
                true
            }
            _ => false,
        }
    }

    /// Remove (when `remove`) the earlier outputs that no input of this run produces any more,
    /// moving a new output that took a collision name into the freed name. `outputs` maps
    /// content hashes to outputs (earlier runs). Problems removing a file leave it in place
    /// and count it as left.
    pub fn settle(self, out: &Path, outputs: &HashMap<String, String>, remove: bool) -> Vec<Settled> {
        let mut settled = Vec::new();
        for c in self.changed {
            if self.seen.contains(&prefix(&c.old_sha)) {
                continue; // another input of this run still has that content
            }
            let Some(old_output) = outputs.get(&c.old_sha) else { continue };
            if self.produced.contains(&name_hash(old_output)) {
                continue; // an input of this run has exactly that file as its output
            }
            let old_path = out.join(old_output);
            if !old_path.is_file() {
                continue;
            }
            let removed = remove && std::fs::remove_file(&old_path).is_ok();
            let mut moved_new_output = None;
            if removed {
                remove_empty_folders(out, &old_path);
                let collision = crate::layout::collision_name(Path::new(old_output), &c.new_sha);
                let collision = collision.to_string_lossy().replace('\\', "/");
                if c.new_output.as_deref() == Some(collision.as_str()) && move_into(out, &collision, old_output) {
                    moved_new_output = Some(old_output.clone());
                }
            }
            settled.push(Settled {
                input: c.input,
                old_sha: c.old_sha,
                old_output: old_output.clone(),
                removed,
                moved_new_output,
            });
        }
        settled
    }
}

/// Move `from` to `to` (both relative to `out`) without replacing anything at `to`.
fn move_into(out: &Path, from: &str, to: &str) -> bool {
    let (from, to) = (out.join(from), out.join(to));
    if let Some(parent) = to.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::hard_link(&from, &to).is_ok() && std::fs::remove_file(&from).is_ok()
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

    #[test]
    fn an_output_of_content_a_path_no_longer_holds_is_removed_with_its_empty_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("P1/s")).unwrap();
        std::fs::write(dir.path().join("P1/s/1.dcm"), b"old").unwrap();
        let outputs = HashMap::from([(sha('a'), "P1/s/1.dcm".to_string())]);
        let mut s = Supersede::new(HashMap::from([("k".to_string(), sha('a'))]));
        s.observe(1, "k", &sha('b'), Some("P2/s/1.dcm"));
        let settled = s.settle(dir.path(), &outputs, true);
        assert_eq!(settled.len(), 1);
        assert!(settled[0].removed);
        assert!(!dir.path().join("P1").exists());
    }

    #[test]
    fn an_output_another_input_still_produces_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"old").unwrap();
        let outputs = HashMap::from([(sha('a'), "1.dcm".to_string())]);
        let mut s = Supersede::new(HashMap::from([("k".to_string(), sha('a'))]));
        s.observe(1, "k", &sha('b'), Some("2.dcm"));
        s.observe(2, "other", &sha('a'), Some("1.dcm"));
        assert!(s.settle(dir.path(), &outputs, true).is_empty());
        assert!(dir.path().join("1.dcm").exists());
    }

    #[test]
    fn an_output_this_run_found_present_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"same").unwrap();
        let outputs = HashMap::from([(sha('a'), "1.dcm".to_string())]);
        let mut s = Supersede::new(HashMap::from([("k".to_string(), sha('a'))]));
        // The new content de-identifies to the very same bytes (a removed attribute changed).
        s.observe(1, "k", &sha('b'), Some("1.dcm"));
        assert!(s.settle(dir.path(), &outputs, true).is_empty());
        assert!(dir.path().join("1.dcm").exists());
    }

    #[test]
    fn a_shard_counts_what_it_leaves() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"old").unwrap();
        let outputs = HashMap::from([(sha('a'), "1.dcm".to_string())]);
        let mut s = Supersede::new(HashMap::from([("k".to_string(), sha('a'))]));
        s.observe(1, "k", &sha('b'), None);
        let settled = s.settle(dir.path(), &outputs, false);
        assert!(!settled[0].removed);
        assert!(dir.path().join("1.dcm").exists());
    }

    #[test]
    fn a_new_output_with_a_collision_name_moves_into_the_freed_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"old").unwrap();
        let new_sha = sha('b');
        let alt = crate::layout::collision_name(Path::new("1.dcm"), &new_sha).to_string_lossy().into_owned();
        std::fs::write(dir.path().join(&alt), b"new").unwrap();
        let outputs = HashMap::from([(sha('a'), "1.dcm".to_string())]);
        let mut s = Supersede::new(HashMap::from([("k".to_string(), sha('a'))]));
        s.observe(1, "k", &new_sha, Some(&alt));
        let settled = s.settle(dir.path(), &outputs, true);
        assert_eq!(settled[0].moved_new_output.as_deref(), Some("1.dcm"));
        assert_eq!(std::fs::read(dir.path().join("1.dcm")).unwrap(), b"new");
        assert!(!dir.path().join(&alt).exists());
    }
}
