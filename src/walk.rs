//! Find the input files: walk the INPUT folders in parallel, sort, and pick this shard's share.
//!
//! Every input is named by its path relative to the INPUT it was found under (`rel`), so the
//! order and the shard assignment are the same on every machine, whatever the mount point.
//! The output folder is never walked, even when it sits inside an input folder.

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use walkdir::WalkDir;

/// One file to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The path to open.
    pub path: PathBuf,
    /// The path relative to its INPUT (the file name for an INPUT that is a file).
    pub rel: PathBuf,
    /// Which INPUT argument it came from (0-based).
    pub root: usize,
    /// Size in bytes, from the directory listing.
    pub size: u64,
    /// How many other input paths named this same file (the same canonical path: an INPUT
    /// given twice, a file given beside the folder that holds it, a link to a file of the same
    /// walk). Those were dropped before the run, so each file is processed, and audited, once.
    pub duplicates: usize,
}

/// A directory entry that could not be read, or an INPUT argument that could not be. The
/// message holds no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    /// The path that failed (for the operator's terminal and the linkage table only).
    pub path: PathBuf,
    /// The path relative to its INPUT; `None` for an INPUT argument itself (it has no relative
    /// path, so every shard reports it).
    pub rel: Option<PathBuf>,
    /// Which INPUT argument it came from (0-based).
    pub root: usize,
    /// What went wrong (an I/O error kind).
    pub message: String,
    /// The entry is not a regular file (a FIFO, socket or device): skipped, not failed. Such
    /// an entry is never opened (reading a FIFO would wait forever).
    pub not_a_file: bool,
    /// The absolute path the entry is known by, symbolic links resolved ([`resolved`]; a link
    /// loop by where the link itself is): its audit path key is made of it, and two input paths
    /// naming one entry (overlapping INPUTs, two links to one missing target) are one input.
    pub identity: PathBuf,
    /// How many other input paths named this same entry (see [`Input::duplicates`]).
    pub duplicates: usize,
}

impl WalkError {
    fn io(path: PathBuf, rel: Option<PathBuf>, root: usize, message: String) -> WalkError {
        let identity = resolved(&path, 40);
        WalkError { path, rel, root, message, not_a_file: false, identity, duplicates: 0 }
    }

    fn special(path: PathBuf, rel: Option<PathBuf>, root: usize) -> WalkError {
        let identity = resolved(&path, 40);
        let message = "not a regular file (a FIFO, socket or device)".to_string();
        WalkError { path, rel, root, message, not_a_file: true, identity, duplicates: 0 }
    }

    /// A symbolic link to a folder at or above its INPUT: known by where the link itself is
    /// (its target is a folder that other loops may name too).
    fn link_loop(path: PathBuf, rel: PathBuf, root: usize) -> WalkError {
        let identity = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => resolved(parent, 40).join(name),
            _ => resolved(&path, 40),
        };
        let message = "symbolic link loop".to_string();
        WalkError { path, rel: Some(rel), root, message, not_a_file: false, identity, duplicates: 0 }
    }

    /// A missing INPUT argument (deleted, or a dangling symbolic link): a failed input like
    /// any other, never a reason to stop the run.
    fn argument(path: &Path, root: usize, e: &std::io::Error) -> WalkError {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            "the INPUT does not exist (deleted since it was listed, or a dangling symbolic link)".to_string()
        } else {
            format!("the INPUT could not be read: {}", e.kind())
        };
        WalkError::io(path.to_path_buf(), None, root, message)
    }
}

/// A path's absolute form with symbolic links resolved, also where the target does not exist
/// (yet): a dangling link resolves to the path its target will have, so the link's failure and
/// the record made once the target is there share a path key. `hops` bounds a link chain.
pub fn resolved(path: &Path, hops: u32) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else { return abs };
    if hops > 0 {
        if let Ok(target) = std::fs::read_link(&abs) {
            return resolved(&parent.join(target), hops - 1);
        }
    }
    resolved(parent, hops).join(name)
}

/// A deterministic 1/N share of the inputs: `--shard I/N` with 1 ≤ I ≤ N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 1-based.
    pub index: u32,
    /// The number of shards.
    pub count: u32,
}

impl Shard {
    /// The whole input (1/1).
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether the input with this relative path belongs to this shard: the first 8 bytes of the
    /// SHA-256 of the path, modulo N, equal I − 1.
    pub fn contains(&self, rel: &Path) -> bool {
        if self.count <= 1 {
            return true;
        }
        let digest = Sha256::digest(path_bytes(rel));
        let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        n % u64::from(self.count) == u64::from(self.index - 1)
    }

    /// A short label for file names: `shard-0003-of-0010`.
    pub fn label(&self) -> String {
        format!("shard-{:04}-of-{:04}", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("expected I/N (e.g. 3/10), got {s:?}"))?;
        let index: u32 = i.trim().parse().map_err(|_| format!("shard index {i:?} is not a number"))?;
        let count: u32 = n.trim().parse().map_err(|_| format!("shard count {n:?} is not a number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("shard {index}/{count}: I must be between 1 and N"));
        }
        Ok(Shard { index, count })
    }
}

#[cfg(unix)]
fn path_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().replace('\\', "/").into_bytes()
}

/// Identity of a directory or file (device, inode): to recognise the output folder while
/// walking, and a file reached by two input paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DirId(u64, u64);

#[cfg(unix)]
fn dir_id(p: &Path) -> Option<DirId> {
    std::fs::metadata(p).ok().as_ref().and_then(meta_id)
}

#[cfg(not(unix))]
fn dir_id(_: &Path) -> Option<DirId> {
    None
}

#[cfg(unix)]
fn meta_id(m: &std::fs::Metadata) -> Option<DirId> {
    use std::os::unix::fs::MetadataExt;
    Some(DirId(m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn meta_id(_: &std::fs::Metadata) -> Option<DirId> {
    None
}

/// A file found by the walk, with its identity when the platform gives one.
type Found = (Input, Option<DirId>);

/// Drop the inputs that name a file an earlier input (in `(root, rel)` order) already names:
/// the same canonical path, which is also what the audit's path key is made of, so two such
/// inputs would leave one record that says nothing was written. Only files sharing a
/// (device, inode) are resolved (hard links to one file are different paths and stay). Each
/// kept input counts the ones dropped for it in [`Input::duplicates`].
fn drop_duplicates(found: Vec<Found>) -> Vec<Input> {
    let mut first: std::collections::HashMap<DirId, Vec<usize>> = std::collections::HashMap::new();
    let mut kept: Vec<Input> = Vec::with_capacity(found.len());
    let mut canonical: std::collections::HashMap<usize, Option<PathBuf>> = std::collections::HashMap::new();
    for (input, id) in found {
        let Some(id) = id else {
            kept.push(input);
            continue;
        };
        let earlier = first.entry(id).or_default();
        // Resolved only for a file already seen: the common walk resolves nothing.
        let mine = if earlier.is_empty() { None } else { std::fs::canonicalize(&input.path).ok() };
        let same = mine.as_ref().and_then(|mine| {
            earlier.iter().copied().find(|&k| {
                canonical.entry(k).or_insert_with(|| std::fs::canonicalize(&kept[k].path).ok()).as_ref() == Some(mine)
            })
        });
        match same {
            Some(k) => kept[k].duplicates += 1,
            None => {
                earlier.push(kept.len());
                kept.push(input);
            }
        }
    }
    kept
}

/// Walk the inputs. Files are returned sorted by (INPUT index, relative path), each file once
/// (see [`Input::duplicates`]; before the shard split, so every shard drops the same ones),
/// filtered to `shard`; the folder `exclude` (the output) and everything below it is skipped.
/// Entries that cannot be processed are returned the same way: each once, by
/// [`WalkError::identity`], in this shard (an INPUT argument that cannot be read, in every
/// shard). See [`walk`], which also names the INPUT arguments that held nothing.
pub fn collect(inputs: &[PathBuf], exclude: Option<&Path>, shard: Shard) -> (Vec<Input>, Vec<WalkError>) {
    let w = walk(inputs, exclude, shard);
    (w.files, w.errors)
}

/// What [`walk`] found.
#[derive(Debug)]
pub struct Walk {
    /// This shard's files ([`collect`]).
    pub files: Vec<Input>,
    /// This shard's entries that cannot be processed ([`collect`]).
    pub errors: Vec<WalkError>,
    /// The INPUT arguments (0-based) that exist but hold nothing: no file, no entry that fails
    /// or is skipped (an empty folder: an export mount that failed). Judged on the whole walk,
    /// before duplicates are dropped and before the shard split, so every shard names the same
    /// ones as the whole run, and an INPUT whose files another INPUT also names held files.
    pub empty: Vec<usize>,
}

/// [`collect`], and the INPUT arguments that held nothing ([`Walk::empty`]).
pub fn walk(inputs: &[PathBuf], exclude: Option<&Path>, shard: Shard) -> Walk {
    let skip = exclude.and_then(dir_id);
    let mut files: Vec<Found> = Vec::new();
    let mut errors = Vec::new();
    for (root, input) in inputs.iter().enumerate() {
        let meta = match std::fs::metadata(input) {
            Ok(m) => m,
            Err(e) => {
                errors.push(WalkError::argument(input, root, &e));
                continue;
            }
        };
        if !meta.is_file() && !meta.is_dir() {
            errors.push(WalkError::special(input.clone(), None, root));
            continue;
        }
        if meta.is_file() {
            let rel = input.file_name().map(PathBuf::from).unwrap_or_else(|| input.clone());
            files.push((Input { path: input.clone(), rel, root, size: meta.len(), duplicates: 0 }, meta_id(&meta)));
            continue;
        }
        // Parallel over the first level below the root; each subtree walked by one thread.
        let top: Vec<PathBuf> = match std::fs::read_dir(input) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                errors.push(WalkError::argument(input, root, &e));
                continue;
            }
        };
        let parts: Vec<(Vec<Found>, Vec<WalkError>)> =
            top.par_iter().map(|sub| walk_tree(sub, input, root, skip)).collect();
        for (f, e) in parts {
            files.extend(f);
            errors.extend(e);
        }
    }
    let mut held = vec![false; inputs.len()];
    for root in files.iter().map(|(f, _)| f.root).chain(errors.iter().map(|e| e.root)) {
        held[root] = true;
    }
    let empty = held.iter().enumerate().filter(|(_, h)| !**h).map(|(i, _)| i).collect();
    files.par_sort_unstable_by(|(a, _), (b, _)| (a.root, &a.rel).cmp(&(b.root, &b.rel)));
    let mut files = drop_duplicates(files);
    files.retain(|f| shard.contains(&f.rel));
    let mut errors = drop_duplicate_errors(errors);
    errors.retain(|e| e.rel.as_ref().is_none_or(|rel| shard.contains(rel)));
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Walk { files, errors, empty }
}

/// Drop the entries an earlier one (in `(root, rel)` order, as for files) already names by
/// identity: overlapping INPUTs (`in in/sub`) reach one FIFO or dangling link twice. Each kept
/// entry counts the ones dropped for it in [`WalkError::duplicates`].
fn drop_duplicate_errors(mut errors: Vec<WalkError>) -> Vec<WalkError> {
    errors.sort_by(|a, b| (a.root, &a.rel, &a.path).cmp(&(b.root, &b.rel, &b.path)));
    let mut first: std::collections::HashMap<PathBuf, usize> = std::collections::HashMap::new();
    let mut kept: Vec<WalkError> = Vec::with_capacity(errors.len());
    for e in errors {
        match first.get(&e.identity) {
            Some(&k) => kept[k].duplicates += 1,
            None => {
                first.insert(e.identity.clone(), kept.len());
                kept.push(e);
            }
        }
    }
    kept
}

fn walk_tree(start: &Path, root_path: &Path, root: usize, skip: Option<DirId>) -> (Vec<Found>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    // Each subtree below the root is walked on its own, so walkdir's own loop check (a link to
    // an ancestor of the walk) does not see the root and the folders above it: a link to one
    // of those is caught here, before the tree is walked a second time through it.
    let above = std::fs::canonicalize(root_path).ok();
    let loops = std::cell::RefCell::new(Vec::new());
    let walker = WalkDir::new(start).follow_links(true).into_iter().filter_entry(|e| {
        if !e.file_type().is_dir() {
            return true;
        }
        if skip.is_some() && dir_id(e.path()) == skip {
            return false;
        }
        if e.path_is_symlink() {
            if let (Some(above), Ok(target)) = (&above, std::fs::canonicalize(e.path())) {
                if above.starts_with(&target) {
                    loops.borrow_mut().push(e.path().to_path_buf());
                    return false;
                }
            }
        }
        true
    });
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let rel = e.path().strip_prefix(root_path).unwrap_or(e.path()).to_path_buf();
                let meta = e.metadata().ok();
                let size = meta.as_ref().map_or(0, |m| m.len());
                let id = meta.as_ref().and_then(meta_id);
                files.push((Input { path: e.path().to_path_buf(), rel, root, size, duplicates: 0 }, id));
            }
            Ok(e) if !e.file_type().is_dir() => {
                let rel = e.path().strip_prefix(root_path).unwrap_or(e.path()).to_path_buf();
                errors.push(WalkError::special(e.path().to_path_buf(), Some(rel), root));
            }
            Ok(_) => {}
            Err(e) => {
                let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| start.to_path_buf());
                // An entry inside the tree (a dangling link, an unreadable folder, a loop) has a
                // relative path like a file: it belongs to one shard, so N shards count it once.
                let rel = path.strip_prefix(root_path).unwrap_or(&path).to_path_buf();
                let error = match (e.loop_ancestor(), e.io_error()) {
                    (Some(_), _) => WalkError::link_loop(path, rel, root),
                    (None, Some(io)) => WalkError::io(path, Some(rel), root, io_kind(io)),
                    (None, None) => WalkError::io(path, Some(rel), root, "unreadable directory entry".to_string()),
                };
                errors.push(error);
            }
        }
    }
    for path in loops.into_inner() {
        let rel = path.strip_prefix(root_path).unwrap_or(&path).to_path_buf();
        errors.push(WalkError::link_loop(path, rel, root));
    }
    (files, errors)
}

fn io_kind(e: &std::io::Error) -> String {
    format!("could not read the directory entry: {}", e.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parses_one_based_i_over_n() {
        assert_eq!("3/10".parse::<Shard>().unwrap(), Shard { index: 3, count: 10 });
        assert!("0/4".parse::<Shard>().is_err());
        assert!("5/4".parse::<Shard>().is_err());
        assert!("4".parse::<Shard>().is_err());
    }

    #[test]
    fn shards_partition_the_inputs() {
        let paths: Vec<PathBuf> = (0..500).map(|i| PathBuf::from(format!("p/{i}.dcm"))).collect();
        let mut seen = 0;
        for i in 1..=7 {
            let s = Shard { index: i, count: 7 };
            seen += paths.iter().filter(|p| s.contains(p)).count();
        }
        assert_eq!(seen, 500);
        for p in &paths {
            let owners = (1..=7).filter(|&i| Shard { index: i, count: 7 }.contains(p)).count();
            assert_eq!(owners, 1);
        }
    }

    #[test]
    fn walk_sorts_and_skips_the_output_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("in");
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        std::fs::create_dir_all(root.join("out/x")).unwrap();
        std::fs::write(root.join("b/c/2.dcm"), b"x").unwrap();
        std::fs::write(root.join("a.dcm"), b"x").unwrap();
        std::fs::write(root.join("out/x/o.dcm"), b"x").unwrap();
        let (files, errors) = collect(std::slice::from_ref(&root), Some(&root.join("out")), Shard::WHOLE);
        assert!(errors.is_empty());
        let rels: Vec<_> = files.iter().map(|f| f.rel.clone()).collect();
        assert_eq!(rels, vec![PathBuf::from("a.dcm"), PathBuf::from("b/c/2.dcm")]);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_the_root_or_above_is_a_loop_and_walked_never() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("in");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/1.dcm"), b"x").unwrap();
        std::os::unix::fs::symlink(&root, root.join("a/b/to-root")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("a/to-above")).unwrap();
        std::os::unix::fs::symlink(&root, root.join("top-to-root")).unwrap();
        let (files, errors) = collect(std::slice::from_ref(&root), None, Shard::WHOLE);
        let rels: Vec<_> = files.iter().map(|f| f.rel.clone()).collect();
        assert_eq!(rels, vec![PathBuf::from("a/b/1.dcm")]);
        let mut loops: Vec<_> = errors.iter().map(|e| e.path.strip_prefix(&root).unwrap().to_path_buf()).collect();
        loops.sort();
        assert_eq!(
            loops,
            vec![PathBuf::from("a/b/to-root"), PathBuf::from("a/to-above"), PathBuf::from("top-to-root")]
        );
        assert!(errors.iter().all(|e| e.message == "symbolic link loop"));
    }

    #[cfg(unix)]
    #[test]
    fn rv16_04_a_dangling_link_inside_the_tree_belongs_to_one_shard() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("in");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.dcm"), b"x").unwrap();
        // Each to a target of its own: links to one missing target are one input (rv21 02).
        for i in 0..8 {
            std::os::unix::fs::symlink(dir.path().join(format!("gone{i}")), root.join(format!("sub/stale{i}.dcm")))
                .unwrap();
        }
        std::os::unix::fs::symlink(dir.path().join("gone"), root.join("top-stale.dcm")).unwrap();
        let whole = collect(std::slice::from_ref(&root), None, Shard::WHOLE).1;
        assert_eq!(whole.len(), 9);
        let mut paths = Vec::new();
        for i in 1..=4 {
            let errors = collect(std::slice::from_ref(&root), None, Shard { index: i, count: 4 }).1;
            paths.extend(errors.into_iter().map(|e| e.path));
        }
        paths.sort();
        assert_eq!(paths, whole.into_iter().map(|e| e.path).collect::<Vec<_>>(), "each link in one shard");
    }

    #[cfg(unix)]
    #[test]
    fn rv16_02_a_dangling_link_resolves_to_the_path_its_target_will_have() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(dir.path().join("in")).unwrap();
        let link = dir.path().join("in/link.dcm");
        std::os::unix::fs::symlink("../share/late.dcm", &link).unwrap();
        let before = resolved(&link, 40);
        std::fs::create_dir(dir.path().join("share")).unwrap();
        std::fs::write(dir.path().join("share/late.dcm"), b"x").unwrap();
        assert_eq!(before, real.join("share/late.dcm"));
        assert_eq!(resolved(&link, 40), before);
    }

    #[test]
    fn missing_input_is_a_walk_error() {
        let (files, errors) = collect(&[PathBuf::from("/nonexistent/kamei/input")], None, Shard::WHOLE);
        assert!(files.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(!errors[0].message.contains("nonexistent"));
    }

    #[cfg(unix)]
    #[test]
    fn rv21_02_an_entry_reached_through_overlapping_inputs_is_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("in");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone.dcm"), root.join("sub/dangling.dcm")).unwrap();
        let fifo = root.join("sub/pipe");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let inputs = [root.clone(), root.join("sub")];
        let (_, errors) = collect(&inputs, None, Shard::WHOLE);
        let seen: Vec<_> = errors.iter().map(|e| (e.root, e.rel.clone(), e.not_a_file, e.duplicates)).collect();
        assert_eq!(
            seen,
            vec![(0, Some(PathBuf::from("sub/dangling.dcm")), false, 1), (0, Some(PathBuf::from("sub/pipe")), true, 1)]
        );
        let mut in_shards = 0;
        for i in 1..=3 {
            in_shards += collect(&inputs, None, Shard { index: i, count: 3 }).1.len();
        }
        assert_eq!(in_shards, 2, "each entry in one shard");
    }

    #[cfg(unix)]
    #[test]
    fn rv21_02_two_links_to_one_missing_target_are_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("in");
        std::fs::create_dir_all(&root).unwrap();
        for name in ["a.dcm", "b.dcm"] {
            std::os::unix::fs::symlink(dir.path().join("gone.dcm"), root.join(name)).unwrap();
        }
        let (_, errors) = collect(std::slice::from_ref(&root), None, Shard::WHOLE);
        let seen: Vec<_> = errors.iter().map(|e| (e.rel.clone(), e.duplicates)).collect();
        assert_eq!(seen, vec![(Some(PathBuf::from("a.dcm")), 1)], "the same file once the target is there");
    }

    #[test]
    fn rv21_07_a_missing_input_argument_is_an_entry_of_every_shard() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone.dcm");
        for i in 1..=3 {
            let (_, errors) = collect(std::slice::from_ref(&gone), None, Shard { index: i, count: 3 });
            assert_eq!(errors.len(), 1, "shard {i}");
            assert_eq!((errors[0].rel.as_ref(), errors[0].root, errors[0].not_a_file), (None, 0, false));
        }
    }

    #[test]
    fn a_file_named_twice_is_walked_once_and_counts_the_other_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("in");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        let file = root.join("sub/a.dcm");
        std::fs::write(&file, b"x").unwrap();
        std::fs::write(root.join("b.dcm"), b"x").unwrap();
        let inputs = [root.clone(), file.clone(), file.clone()];
        let (files, errors) = collect(&inputs, None, Shard::WHOLE);
        assert!(errors.is_empty());
        let rels: Vec<_> = files.iter().map(|f| (f.root, f.rel.clone(), f.duplicates)).collect();
        assert_eq!(rels, vec![(0, PathBuf::from("b.dcm"), 0), (0, PathBuf::from("sub/a.dcm"), 2)]);
    }

    #[cfg(unix)]
    #[test]
    fn a_hard_link_is_another_path_and_stays_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("in");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("a.dcm"), b"x").unwrap();
        std::fs::hard_link(root.join("a.dcm"), root.join("b.dcm")).unwrap();
        std::os::unix::fs::symlink(root.join("a.dcm"), root.join("c.dcm")).unwrap();
        let (files, _) = collect(std::slice::from_ref(&root), None, Shard::WHOLE);
        let rels: Vec<_> = files.iter().map(|f| (f.rel.clone(), f.duplicates)).collect();
        assert_eq!(rels, vec![(PathBuf::from("a.dcm"), 1), (PathBuf::from("b.dcm"), 0)]);
    }
}
