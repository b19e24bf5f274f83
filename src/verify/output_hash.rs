//! Each output checked against what its audit record says of it: the size
//! ([`crate::audit::AuditRecord::output_bytes`]) and the content hash
//! ([`crate::audit::AuditRecord::output_sha256`]), which `deid` takes as it writes the file.
//!
//! A size tells a file cut or grown in copying; only the hash tells a flipped byte, a block of
//! zeros a disk error left, or a value edited to one of the same length. An output whose record
//! holds no hash (written by a version that hashed only contended names, or by a clinical
//! command) is counted as not checkable, never reported. A file whose bytes are another recorded output's is that output
//! (outputs replaced one another when separate runs were copied together): the one recorded
//! at this name is missing. The file is read once more here, in the worker that checks it.

use super::{Finding, FindingKind, finding};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An output the audit logs place, with what its records say of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Recorded {
    /// Where it is, relative to the release (`/` separators).
    pub name: String,
    /// Whether it must be DICOM (an image output's; a clinical output's is a CSV file or an
    /// HL7 message).
    pub images: bool,
    /// Its size in bytes, when recorded.
    pub bytes: Option<u64>,
    /// Its content hash, when recorded.
    pub sha256: Option<[u8; 32]>,
    /// Records of different outputs name it (outputs of separate runs copied together, reported
    /// as such): there is no one hash to check it against.
    pub disputed: bool,
}

/// The outputs the audit logs place, one entry per name, sorted by name: looked up by name
/// without a hash table's overhead (a million outputs).
#[derive(Debug, Default)]
pub(super) struct Outputs {
    list: Vec<Recorded>,
    /// Every recorded content hash, sorted: a file that holds one of them is that output.
    hashes: Vec<[u8; 32]>,
}

impl Outputs {
    /// Gather `list` (a name may come several times: the same output of several input paths)
    /// into one entry per name: a hash any of its records holds is its hash, and two different
    /// ones make it disputed.
    pub(super) fn new(mut list: Vec<Recorded>) -> Outputs {
        list.sort_unstable_by(|a, b| a.name.cmp(&b.name).then(b.sha256.is_some().cmp(&a.sha256.is_some())));
        let mut merged: Vec<Recorded> = Vec::with_capacity(list.len());
        for r in list {
            match merged.last_mut() {
                Some(last) if last.name == r.name => {
                    if r.sha256.is_some() && r.sha256 != last.sha256 {
                        last.disputed = true;
                    }
                    last.bytes = last.bytes.or(r.bytes);
                }
                _ => merged.push(r),
            }
        }
        let mut hashes: Vec<[u8; 32]> = merged.iter().filter_map(|r| r.sha256).collect();
        hashes.sort_unstable();
        hashes.dedup();
        Outputs { list: merged, hashes }
    }

    /// The output at `name`, if the logs place one there.
    pub(super) fn get(&self, name: &str) -> Option<&Recorded> {
        self.list.binary_search_by(|r| r.name.as_str().cmp(name)).ok().map(|i| &self.list[i])
    }

    /// Every output, by name.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Recorded> {
        self.list.iter()
    }

    fn is_recorded(&self, sha: &[u8; 32]) -> bool {
        self.hashes.binary_search(sha).is_ok()
    }
}

/// How many outputs were checked against their recorded hash, and how many could not be.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Outputs whose file was hashed and compared with the hash their record holds.
    pub checked: AtomicUsize,
    /// Outputs whose records hold no hash (an earlier version's, a clinical command's): checked
    /// by size only, where recorded.
    pub without_hash: AtomicUsize,
}

/// Check the file at `path` (`rel`, relative to the release) against the hash its records
/// hold, if it is an output they place; a difference is a finding. A file of another size than
/// recorded is not hashed: that is reported by size already.
pub(super) fn check(outputs: &Outputs, tally: &Tally, path: &Path, rel: &str, out: &mut Vec<Finding>) {
    let Some(recorded) = outputs.get(rel) else { return };
    if recorded.disputed {
        return;
    }
    let Some(sha) = recorded.sha256 else {
        tally.without_hash.fetch_add(1, Ordering::Relaxed);
        return;
    };
    if let (Some(bytes), Ok(m)) = (recorded.bytes, std::fs::symlink_metadata(path)) {
        if m.len() != bytes {
            return;
        }
    }
    let Some(found) = crate::write::sha256_file(path).ok().and_then(|h| super::digest_bytes(&h)) else { return };
    tally.checked.fetch_add(1, Ordering::Relaxed);
    if found == sha {
        return;
    }
    out.push(if outputs.is_recorded(&found) {
        finding(
            rel,
            "file".to_string(),
            FindingKind::MissingOutput,
            "the file at this name is another output the audit log records (its content hash is that output's, not the one recorded here): outputs replaced one another in copying? copy the release again, or run the same deid again",
        )
    } else {
        finding(
            rel,
            "file".to_string(),
            FindingKind::ChangedOutput,
            "the file's content is not what the audit log records for this output (its SHA-256 differs; its size does not): damaged on disk or in copying (a flipped byte, a block of zeros) or edited after the run; copy it again, or remove it and run the same deid again, which writes it anew",
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha_of(bytes: &[u8]) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(bytes).into()
    }

    fn recorded(name: &str, bytes: &[u8]) -> Recorded {
        Recorded {
            name: name.into(),
            images: true,
            bytes: Some(bytes.len() as u64),
            sha256: Some(sha_of(bytes)),
            disputed: false,
        }
    }

    fn run(outputs: &Outputs, dir: &Path, name: &str) -> (Vec<Finding>, usize, usize) {
        let tally = Tally::default();
        let mut v = Vec::new();
        check(outputs, &tally, &dir.join(name), name, &mut v);
        (v, tally.checked.into_inner(), tally.without_hash.into_inner())
    }

    #[test]
    fn a_byte_changed_without_a_change_of_size_is_a_changed_output() {
        let dir = tempfile::tempdir().unwrap();
        let written = vec![5u8; 1000];
        let mut damaged = written.clone();
        damaged[500] ^= 1;
        std::fs::write(dir.path().join("a.dcm"), &damaged).unwrap();
        let outputs = Outputs::new(vec![recorded("a.dcm", &written)]);
        let (v, checked, _) = run(&outputs, dir.path(), "a.dcm");
        assert_eq!(checked, 1);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!((v[0].file.as_str(), v[0].kind), ("a.dcm", FindingKind::ChangedOutput));
        std::fs::write(dir.path().join("a.dcm"), &written).unwrap();
        assert_eq!(run(&outputs, dir.path(), "a.dcm").0, Vec::new());
    }

    #[test]
    fn another_recorded_outputs_bytes_at_a_name_are_a_missing_output() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (vec![1u8; 64], vec![2u8; 64]);
        std::fs::write(dir.path().join("a.dcm"), &b).unwrap();
        let outputs = Outputs::new(vec![recorded("a.dcm", &a), recorded("a.123456789abc.dcm", &b)]);
        let (v, _, _) = run(&outputs, dir.path(), "a.dcm");
        assert_eq!(v.iter().map(|f| f.kind).collect::<Vec<_>>(), [FindingKind::MissingOutput]);
    }

    #[test]
    fn a_record_without_a_hash_is_counted_not_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.dcm"), [9u8; 10]).unwrap();
        let old = Recorded { sha256: None, ..recorded("a.dcm", &[0u8; 10]) };
        let (v, checked, without) = run(&Outputs::new(vec![old]), dir.path(), "a.dcm");
        assert_eq!((v.len(), checked, without), (0, 0, 1));
    }

    #[test]
    fn records_of_one_name_merge_and_two_hashes_dispute_it() {
        let old = Recorded { sha256: None, ..recorded("a.dcm", b"x") };
        let merged = Outputs::new(vec![old.clone(), recorded("a.dcm", b"x")]);
        assert_eq!(merged.iter().count(), 1);
        assert_eq!(merged.get("a.dcm").unwrap().sha256, Some(sha_of(b"x")));
        let disputed = Outputs::new(vec![recorded("a.dcm", b"x"), recorded("a.dcm", b"y"), old]);
        assert!(disputed.get("a.dcm").unwrap().disputed);
    }
}
