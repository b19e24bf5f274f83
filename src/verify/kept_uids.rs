//! A UID of a release that spells its input's Patient ID or one of its original dates as a
//! component (`1.2.392.200036.9116.2.6.1.48.20240301.101500.8812345`,
//! [`crate::uid_clues::UidClues::find`]). `deid` maps every instance UID unless `retain-uids`
//! keeps them, so such a UID is left only under that option (or in a class field the class rule
//! kept): the user asked for the UIDs, but anyone who reads them reads the real exam date
//! beside the shifted Study Date, and the Patient ID. Reported by its tag and the kind of
//! identifier, never the value; the output path, made of the same UIDs, holds it too.

use super::{Finding, FindingKind, finding};
use crate::dataset::{Element, VR};
use crate::uid_clues::UidClues;

/// Report each UID of `e` (a UI value, or one sent as UN whose tag the dictionary gives UI)
/// that spells one of `clues`.
pub(super) fn check(clues: &UidClues, e: &Element, bytes: &[u8], loc: &str, rel: &str, out: &mut Vec<Finding>) {
    let ui = e.vr == VR::UI || (e.vr == VR::UN && crate::dict::known_vr(e.tag) == Some(VR::UI));
    if !ui || clues.is_empty() {
        return;
    }
    let text = String::from_utf8_lossy(bytes);
    let mut said = Vec::new();
    for clue in text.split('\\').filter_map(|uid| clues.find(uid)) {
        if !said.contains(&clue) {
            said.push(clue);
            out.push(finding(
                rel,
                loc.to_string(),
                FindingKind::ResidualIdentifier,
                format!(
                    "a UID holds {} of its input as a component (kept under retain-uids, or as a class; the output path may hold it too)",
                    clue.label()
                ),
            ));
        }
    }
}

/// Show as `***` each folder or file name of the output path `rel` that spells one of `clues`
/// (the hierarchy layout names folders and files by the UIDs a release keeps:
/// `<study UID>/<series UID>/<SOP UID>.dcm`), in every finding of that output, so that stdout
/// and the sign-off page do not print the Patient ID or the date the UIDs hold; the real path
/// goes only into the sensitive `--report` file (`path`), as for a name holding an identifier.
pub(super) fn mask_names(findings: &mut [Finding], rel: &str, clues: &UidClues) {
    if findings.is_empty() || clues.is_empty() {
        return;
    }
    let spells = |name: &str| clues.find(name.strip_suffix(".dcm").unwrap_or(name)).is_some();
    if !rel.split('/').any(spells) {
        return;
    }
    for f in findings.iter_mut() {
        let masked: Vec<&str> = f.file.split('/').map(|c| if spells(c) { "***" } else { c }).collect();
        let masked = masked.join("/");
        if masked != f.file {
            f.path.get_or_insert_with(|| rel.to_string());
            f.file = masked;
        }
    }
}
