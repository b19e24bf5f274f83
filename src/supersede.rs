//! Outputs that no input produces any more: when an input path holds other content than when
//! an earlier run de-identified it (an image re-assigned to the right patient, corrected
//! pixels, a fixed header), the earlier output is superseded and must not stay in the release
//! beside the new one.
//!
//! Each audit record carries a keyed hash of its input's absolute path
//! ([`crate::audit::AuditRecord::input_path_key`]); a re-run compares the content each path has
//! now with the contents recorded for it. At the end of the run an earlier output of content a
//! path no longer holds is removed (a whole run) or counted and left (a shard), unless this run
//! makes that very file or the audit records another input path (or an unknown one) as making
//! it. When the new output took a collision name because the old one held its name (the same
//! SOP Instance UID), it is moved to that name.
//!
//! An input deleted from the archive cannot be told from one that was not given to this run
//! (a release built from several input folders): its output stays.

use crate::audit::Done;
use std::collections::HashSet;
use std::path::Path;

/// Changes seen during a run, settled at its end.
#[derive(Debug, Default)]
pub struct Supersede {
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

/// One earlier output of an input whose path now holds other content.
#[derive(Debug)]
struct Changed {
    input: usize,
    path_key: String,
    old_sha: String,
    old_output: String,
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
    /// Whether it was removed (whole runs) or left (shards, dry runs).
    pub removed: bool,
    /// When the new output was moved from its collision name into the earlier output's name:
    /// the new name.
    pub moved_new_output: Option<String>,
}

impl Supersede {
    /// An empty tracker.
    pub fn new() -> Supersede {
        Supersede::default()
    }

    /// Note one input of this run: its path key, its content hash and the output it has now
    /// (`earlier`: what earlier runs recorded). Returns whether its path held other content
    /// in an earlier run.
    pub fn observe(&mut self, earlier: &Done, input: usize, path_key: &str, sha: &str, output: Option<&str>) -> bool {
        if let Some(o) = output {
            self.produced.insert(name_hash(o));
        }
        let mut changed = false;
        for (old_sha, old_output) in earlier.by_path.get(path_key).into_iter().flatten() {
            if old_sha != sha {
                changed = true;
                self.changed.push(Changed {
                    input,
                    path_key: path_key.to_string(),
                    old_sha: old_sha.clone(),
                    old_output: old_output.clone(),
                    new_sha: sha.to_string(),
                    new_output: output.map(str::to_string),
                });
            }
        }
        changed
    }

    /// Remove (when `remove`) the earlier outputs that no input makes any more, moving a new
    /// output that took a collision name into the freed name. An output is kept when this run
    /// wrote or found it (another input with that content makes that very file), or when the
    /// audit records another input path (or an unknown one) as making it: that input may not
    /// be part of this run. (Content alone does not decide: under `--layout mirror` the same
    /// bytes at another path make another file.) Problems removing a file leave it in place.
    pub fn settle(self, out: &Path, earlier: &Done, remove: bool) -> Vec<Settled> {
        let mut settled = Vec::new();
        if self.changed.is_empty() {
            return settled;
        }
        // The path keys recorded as making each candidate output (one pass over the records).
        let candidates: HashSet<&str> = self.changed.iter().map(|c| c.old_output.as_str()).collect();
        let mut owners: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
        for (key, made) in &earlier.by_path {
            for (_, output) in made.iter().filter(|(_, o)| candidates.contains(o.as_str())) {
                owners.entry(output.as_str()).or_default().push(key.as_str());
            }
        }
        let mut handled = HashSet::new();
        for c in &self.changed {
            if self.produced.contains(&name_hash(&c.old_output)) || !handled.insert(c.old_output.clone()) {
                continue;
            }
            let others = owners.get(c.old_output.as_str()).is_some_and(|keys| keys.iter().any(|k| *k != c.path_key));
            let old_path = out.join(&c.old_output);
            if others || !old_path.is_file() {
                continue;
            }
            let removed = remove && std::fs::remove_file(&old_path).is_ok();
            let mut moved_new_output = None;
            if removed {
                remove_empty_folders(out, &old_path);
                let collision = crate::layout::collision_name(Path::new(&c.old_output), &c.new_sha);
                let collision = collision.to_string_lossy().replace('\\', "/");
                if c.new_output.as_deref() == Some(collision.as_str()) && move_into(out, &collision, &c.old_output) {
                    moved_new_output = Some(c.old_output.clone());
                }
            }
            settled.push(Settled {
                input: c.input,
                old_sha: c.old_sha.clone(),
                old_output: c.old_output.clone(),
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

    /// Earlier runs made `output` from content `a` at path key `k` (and at `others`).
    fn earlier(output: &str, others: &[&str]) -> Done {
        let mut d = Done::default();
        d.outputs.insert(sha('a'), output.to_string());
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

    #[test]
    fn a_new_output_with_a_collision_name_moves_into_the_freed_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.dcm"), b"old").unwrap();
        let new_sha = sha('b');
        let alt = crate::layout::collision_name(Path::new("1.dcm"), &new_sha).to_string_lossy().into_owned();
        std::fs::write(dir.path().join(&alt), b"new").unwrap();
        let done = earlier("1.dcm", &[]);
        let mut s = Supersede::new();
        s.observe(&done, 1, "k", &new_sha, Some(&alt));
        let settled = s.settle(dir.path(), &done, true);
        assert_eq!(settled[0].moved_new_output.as_deref(), Some("1.dcm"));
        assert_eq!(std::fs::read(dir.path().join("1.dcm")).unwrap(), b"new");
        assert!(!dir.path().join(&alt).exists());
    }
}
