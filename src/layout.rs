//! Where an output file goes, relative to the output root.
//!
//! The default layout, `hierarchy`, is `<patient pseudonym>/<study UID>/<series UID>/<SOP UID>.dcm`
//! with the de-identified UIDs: nothing of the input's names, IDs or paths reaches the output
//! tree. `mirror` keeps each input's relative path (useful when paths carry no identifiers; the
//! CLI warns, because in hospital archives they often do).

use crate::dataset::DataSet;
use dicom_dictionary_std::tags;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The output layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// `<pseudonym>/<study>/<series>/<sop>.dcm`.
    #[default]
    Hierarchy,
    /// The input's path relative to its INPUT folder.
    Mirror,
}

impl FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hierarchy" => Ok(Layout::Hierarchy),
            "mirror" => Ok(Layout::Mirror),
            other => Err(format!("unknown layout {other:?} (expected hierarchy or mirror)")),
        }
    }
}

impl Layout {
    /// The layout's name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Hierarchy => "hierarchy",
            Layout::Mirror => "mirror",
        }
    }
}

/// A UID is safe as a path component when it is spelled as a UID (`shown::is_uid`): digits in
/// non-empty components, so never `.`, `..` or an empty name.
fn uid_component(ds: &DataSet, tag: dicom_core::Tag) -> Option<String> {
    let uid = ds.ascii(tag)?;
    crate::shown::is_uid(uid).then(|| uid.to_string())
}

/// The output path of a de-identified data set, relative to the output root.
///
/// `input_hash` names the file when the data set has no usable SOP Instance UID;
/// `mirror_rel` is the input's relative path (prefixed with its INPUT's folder name when there
/// are several INPUTs).
pub fn target(layout: Layout, ds: &DataSet, pseudonym: &str, input_hash: &str, mirror_rel: &Path) -> PathBuf {
    match layout {
        Layout::Mirror => mirror_path(mirror_rel),
        Layout::Hierarchy => {
            let study = uid_component(ds, tags::STUDY_INSTANCE_UID).unwrap_or_else(|| "unknown-study".into());
            let series = uid_component(ds, tags::SERIES_INSTANCE_UID).unwrap_or_else(|| "unknown-series".into());
            let sop = uid_component(ds, tags::SOP_INSTANCE_UID)
                .unwrap_or_else(|| input_hash[..32.min(input_hash.len())].to_string());
            [pseudonym, &study, &series, &format!("{sop}.dcm")].iter().collect()
        }
    }
}

/// The mirror output path of an input's relative path: each component as it is when it is
/// UTF-8 without `%`, else with every byte that is not UTF-8, and every `%`, written as `%XX` (a
/// Shift_JIS name from a Windows share: `\x8C\x9F.dcm` → `%8C%9F.dcm`; `50%.dcm` → `50%25.dcm`).
/// The audit log, resume and supersede name outputs by UTF-8 paths; a name that could not be
/// spelled in it would be recorded lossily, and a re-run would neither find the output done nor
/// replace it when its input changes. Escaping `%` too keeps the mapping one-to-one: without it
/// the UTF-8 name `a%89.dcm` and the Shift_JIS name `a\x89.dcm` would share one output, and one
/// of the two inputs would be lost (found "present" or "done earlier" at the other's output).
pub fn mirror_path(rel: &Path) -> PathBuf {
    rel.components().map(|c| escaped_component(c.as_os_str())).collect()
}

/// The mirror path releases made before `%` was escaped gave `rel` (its components as they
/// are, when all are UTF-8), when it differs from [`mirror_path`]'s: resume still finds their
/// outputs there rather than writing a second copy under the new name.
pub fn legacy_mirror_path(rel: &Path) -> Option<PathBuf> {
    let s = rel.to_str()?;
    s.contains('%').then(|| rel.to_path_buf())
}

#[cfg(unix)]
fn escaped_component(name: &std::ffi::OsStr) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStrExt;
    if name.to_str().is_some_and(|s| !s.contains('%')) {
        return name.to_os_string();
    }
    let mut out = String::new();
    for chunk in name.as_bytes().utf8_chunks() {
        out.push_str(&chunk.valid().replace('%', "%25"));
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.into()
}

#[cfg(not(unix))]
fn escaped_component(name: &std::ffi::OsStr) -> std::ffi::OsString {
    name.to_string_lossy().into_owned().into()
}

/// The name an output takes when an output with a lower SHA-256 claims `target` (the same SOP
/// Instance UID in two encodings, a corrected re-send): the first 12 hex digits of the
/// output's own SHA-256 are added before the extension. Both names follow from the outputs'
/// bytes alone, so every run, worker order and shard arrives at the same names (see
/// [`crate::write::Committer::commit`]). Releases made before this rule carry the input's hash
/// there instead; their audit logs name those files, so they still resume.
pub fn collision_name(target: &Path, output_hash: &str) -> PathBuf {
    let stem = target.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = target.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    target.with_file_name(format!("{stem}.{}{ext}", &output_hash[..12.min(output_hash.len())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_mirror_name_that_is_not_utf8_has_its_bytes_escaped() {
        use std::os::unix::ffi::OsStrExt;
        let rel = Path::new(std::ffi::OsStr::from_bytes(b"in/\x8C\x9F\x8D\xB8/a\x89.dcm"));
        assert_eq!(mirror_path(rel), PathBuf::from("in/%8C%9F%8D%B8/a%89.dcm"));
        assert_eq!(mirror_path(Path::new("in/検査/画像１.dcm")), PathBuf::from("in/検査/画像１.dcm"));
    }

    #[cfg(unix)]
    #[test]
    fn a_percent_sign_is_escaped_so_no_two_names_share_an_output() {
        use std::os::unix::ffi::OsStrExt;
        let utf8 = Path::new("in/a%89.dcm");
        let sjis = Path::new(std::ffi::OsStr::from_bytes(b"in/a\x89.dcm"));
        assert_eq!(mirror_path(utf8), PathBuf::from("in/a%2589.dcm"));
        assert_eq!(mirror_path(sjis), PathBuf::from("in/a%89.dcm"));
        assert_eq!(mirror_path(Path::new("50%/x%25.dcm")), PathBuf::from("50%25/x%2525.dcm"));
        assert_eq!(legacy_mirror_path(utf8), Some(PathBuf::from("in/a%89.dcm")));
        assert_eq!(legacy_mirror_path(Path::new("in/a.dcm")), None);
    }
    use crate::dataset::{Element, VR};

    #[test]
    fn hierarchy_uses_pseudonym_and_uids() {
        let ds = DataSet::from_elements([
            Element::new(tags::STUDY_INSTANCE_UID, VR::UI, b"2.25.1\0".to_vec()),
            Element::new(tags::SERIES_INSTANCE_UID, VR::UI, b"2.25.2\0".to_vec()),
            Element::new(tags::SOP_INSTANCE_UID, VR::UI, b"2.25.3\0".to_vec()),
        ]);
        let p = target(Layout::Hierarchy, &ds, "ABC", "ff00", Path::new("x"));
        assert_eq!(p, PathBuf::from("ABC/2.25.1/2.25.2/2.25.3.dcm"));
    }

    #[test]
    fn hierarchy_never_uses_a_uid_that_is_not_a_uid() {
        let ds = DataSet::from_elements([Element::new(tags::SOP_INSTANCE_UID, VR::UI, b"../../etc".to_vec())]);
        let p = target(Layout::Hierarchy, &ds, "ABC", "00112233445566778899aabbccddeeff00", Path::new("x"));
        assert_eq!(p, PathBuf::from("ABC/unknown-study/unknown-series/00112233445566778899aabbccddeeff.dcm"));
    }

    #[test]
    fn hierarchy_never_uses_a_uid_with_an_empty_component() {
        let ds = DataSet::from_elements([Element::new(tags::STUDY_INSTANCE_UID, VR::UI, b"1.2.".to_vec())]);
        let p = target(Layout::Hierarchy, &ds, "ABC", "00112233445566778899aabbccddeeff00", Path::new("x"));
        assert!(p.starts_with("ABC/unknown-study"), "{p:?}");
    }

    #[test]
    fn collision_name_adds_the_output_hash() {
        assert_eq!(
            collision_name(Path::new("a/b/1.2.dcm"), "0123456789abcdef"),
            PathBuf::from("a/b/1.2.0123456789ab.dcm")
        );
    }
}
