//! A pseudonymization key inside the release (`key-file` findings): with it, every pseudonym,
//! UID and date shift made with that key can be recomputed from the hospital's Patient IDs, so
//! it must never leave the hospital. Two cases are found:
//!
//! - with `verify --key KEY`, any file of the release whose bytes hold that very key (32 raw
//!   bytes, or 64 hex digits with white space around them, as [`PseudonymKey::read`] reads):
//!   compared by fingerprint, whatever the file's name;
//! - without it, a file named like a key (`*.key`) that holds a key in either form. Files with
//!   other names are not judged by their content alone: any 32-byte file would look like a raw
//!   key, and a release may hold small files of its own.
//!
//! Only files of at most [`MAX_KEY_FILE`] bytes are read, and only those: one `stat` for each
//! file with `--key`, none without.

use super::{Finding, FindingKind, finding};
use crate::pseudo::{MAX_KEY_FILE, PseudonymKey};
use std::path::Path;

/// The `key-file` finding for the release file `path` (named `rel`), if it holds the key whose
/// fingerprint is `given` (`verify --key`), or is named like a key and holds one.
pub(crate) fn check(path: &Path, rel: &str, given: Option<&str>) -> Option<Finding> {
    let named = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("key"));
    if given.is_none() && !named {
        return None;
    }
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_KEY_FILE {
        return None;
    }
    let key = PseudonymKey::parse(&std::fs::read(path).ok()?)?;
    let detail = if given.is_some_and(|g| g == key.fingerprint()) {
        "holds the key given with --key (the pseudonymization key): with it every pseudonym, UID and date shift can be recomputed; it must not be released: move it out of the release"
    } else if named {
        "is named like a key and holds one (32 bytes, or 64 hex digits): a pseudonymization key must not be released; move it out of the release"
    } else {
        return None;
    };
    Some(finding(rel, "file".into(), FindingKind::KeyFile, detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_given_key_is_found_raw_or_as_hex_under_any_name() {
        let dir = tempfile::tempdir().unwrap();
        let key = PseudonymKey::from_bytes([0x5A; 32]);
        let fp = key.fingerprint();
        std::fs::write(dir.path().join("notes.bin"), [0x5A; 32]).unwrap();
        std::fs::write(dir.path().join("readme.txt"), format!("  {}\n", "5a".repeat(32))).unwrap();
        for name in ["notes.bin", "readme.txt"] {
            let f = check(&dir.path().join(name), name, Some(&fp)).expect(name);
            assert_eq!(f.kind, FindingKind::KeyFile);
        }
    }

    #[test]
    fn without_the_key_only_a_file_named_like_a_key_that_holds_one_is_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.key"), [0x11; 32]).unwrap();
        std::fs::write(dir.path().join("other.bin"), [0x11; 32]).unwrap();
        std::fs::write(dir.path().join("long.key"), [0x11; 33]).unwrap();
        assert!(check(&dir.path().join("site.key"), "site.key", None).is_some());
        assert!(check(&dir.path().join("other.bin"), "other.bin", None).is_none(), "not named like a key");
        assert!(check(&dir.path().join("long.key"), "long.key", None).is_none(), "holds no key");
        // Another key than the one given, under a key's name, is a key all the same.
        let fp = PseudonymKey::from_bytes([0x22; 32]).fingerprint();
        assert!(check(&dir.path().join("site.key"), "site.key", Some(&fp)).is_some());
        assert!(check(&dir.path().join("other.bin"), "other.bin", Some(&fp)).is_none());
    }
}
