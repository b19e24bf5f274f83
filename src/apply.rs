//! Carry out a [`Plan`] on a file in memory.
//!
//! Apply does no I/O and makes no decisions: every value it writes was computed by the planner.
//! It also rebuilds the file meta group so that Media Storage SOP Class/Instance UID follow the
//! data set (notes §6.10: dicom-rs does not keep them in sync) and the identifying meta elements
//! of the source (Source/Sending/Receiving AE Title, private meta) are gone.

use crate::dataset::{DataSet, Tag, Value, tag_str};
use crate::plan::{Edit, Op, Plan, Step};
use crate::read::DicomFile;
use dicom_dictionary_std::tags;
use std::collections::{HashMap, HashSet};

/// An edit's path does not lead to a data set in the file (a planner bug, reported per file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError {
    /// The tag of the edit that could not be placed.
    pub tag: Tag,
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "internal error: no place for the edit of {}", tag_str(self.tag))
    }
}

impl std::error::Error for ApplyError {}

/// Apply the plan's edits and new meta to `file`.
///
/// # Errors
/// [`ApplyError`] if an edit's path does not exist; the file is then not written.
pub fn run(plan: &Plan, mut file: DicomFile) -> Result<DicomFile, ApplyError> {
    apply_edits(&mut file.dataset, &plan.edits)?;
    let mut meta = plan.meta.clone();
    for (from, to) in [
        (tags::SOP_CLASS_UID, tags::MEDIA_STORAGE_SOP_CLASS_UID),
        (tags::SOP_INSTANCE_UID, tags::MEDIA_STORAGE_SOP_INSTANCE_UID),
    ] {
        if let Some(e) = file.dataset.get(from) {
            let mut e = e.clone();
            e.tag = to;
            meta.put(e);
        }
    }
    file.meta = meta;
    Ok(file)
}

/// Carry out `edits` in order on `dataset`.
fn apply_edits(dataset: &mut DataSet, edits: &[Edit]) -> Result<(), ApplyError> {
    // Removals are collected per data set and carried out in one pass over each at the end:
    // removing them one by one from the element list costs a shift of every later element
    // each time, quadratic in a data set of 100,000 private elements. Until then a removed
    // element counts as gone: a path through it fails as it did when it was removed at once,
    // and a later Put of its tag takes it back.
    let mut removed: HashMap<&[Step], HashSet<Tag>> = HashMap::new();
    for edit in edits {
        let gone = |at: usize, tag: Tag| removed.get(&edit.path[..at]).is_some_and(|s| s.contains(&tag));
        if (0..edit.path.len()).any(|at| gone(at, edit.path[at].0)) {
            return Err(ApplyError { tag: edit.tag });
        }
        let ds = dataset_at(dataset, &edit.path).ok_or(ApplyError { tag: edit.tag })?;
        match &edit.op {
            Op::Remove => {
                removed.entry(edit.path.as_slice()).or_default().insert(edit.tag);
            }
            Op::Put(element) => {
                if let Some(set) = removed.get_mut(edit.path.as_slice()) {
                    set.remove(&edit.tag);
                }
                ds.put(element.clone());
            }
        }
    }
    // Deepest data sets first, so that every path still leads where it did.
    let mut removed: Vec<(&[Step], HashSet<Tag>)> = removed.into_iter().filter(|(_, s)| !s.is_empty()).collect();
    removed.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
    for (path, tags) in removed {
        if let Some(ds) = dataset_at(dataset, path) {
            ds.retain(|e| !tags.contains(&e.tag));
        }
    }
    Ok(())
}

fn dataset_at<'a>(ds: &'a mut DataSet, path: &[Step]) -> Option<&'a mut DataSet> {
    let Some(((tag, index), rest)) = path.split_first() else { return Some(ds) };
    match &mut ds.get_mut(*tag)?.value {
        Value::Sequence(seq) => dataset_at(&mut seq.items.get_mut(*index)?.dataset, rest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Element;
    use dicom_core::VR;

    fn lo(tag: Tag, v: &str) -> Element {
        Element::new(tag, VR::LO, v.as_bytes().to_vec())
    }

    fn edit(path: Vec<Step>, tag: Tag, op: Op) -> Edit {
        Edit { path, tag, op }
    }

    const A: Tag = Tag(0x0011, 0x1001);
    const B: Tag = Tag(0x0011, 0x1002);
    const SEQ: Tag = Tag(0x0040, 0x0275);

    #[test]
    fn removals_and_puts_end_as_when_made_one_by_one() {
        let mut ds = DataSet::from_elements([lo(A, "a"), lo(B, "b"), lo(Tag(0x0011, 0x1003), "c")]);
        let edits = [
            edit(vec![], A, Op::Remove),
            edit(vec![], A, Op::Put(lo(A, "new"))),
            edit(vec![], B, Op::Put(lo(B, "gone"))),
            edit(vec![], B, Op::Remove),
            edit(vec![], Tag(0x0011, 0x1003), Op::Remove),
            edit(vec![], Tag(0x0011, 0x1003), Op::Remove),
        ];
        apply_edits(&mut ds, &edits).unwrap();
        let left: Vec<(Tag, &[u8])> = ds.elements().iter().map(|e| (e.tag, e.bytes().unwrap())).collect();
        assert_eq!(left, [(A, &b"new"[..])]);
    }

    #[test]
    fn removals_inside_an_item_and_of_its_sequence_are_both_made() {
        let item = DataSet::from_elements([lo(A, "a"), lo(B, "b")]);
        let mut ds = DataSet::from_elements([Element::sequence(SEQ, vec![item.clone()]), lo(A, "top")]);
        apply_edits(&mut ds, &[edit(vec![(SEQ, 0)], A, Op::Remove)]).unwrap();
        let seq = ds.get(SEQ).unwrap().value.sequence().unwrap();
        assert_eq!(seq.items[0].dataset.elements().iter().map(|e| e.tag).collect::<Vec<_>>(), [B]);
        let mut ds = DataSet::from_elements([Element::sequence(SEQ, vec![item]), lo(A, "top")]);
        apply_edits(&mut ds, &[edit(vec![(SEQ, 0)], A, Op::Remove), edit(vec![], SEQ, Op::Remove)]).unwrap();
        assert_eq!(ds.elements().iter().map(|e| e.tag).collect::<Vec<_>>(), [A]);
    }

    #[test]
    fn an_edit_inside_a_sequence_removed_before_it_has_no_place() {
        let item = DataSet::from_elements([lo(A, "a")]);
        let mut ds = DataSet::from_elements([Element::sequence(SEQ, vec![item])]);
        let edits = [edit(vec![], SEQ, Op::Remove), edit(vec![(SEQ, 0)], A, Op::Remove)];
        assert_eq!(apply_edits(&mut ds, &edits), Err(ApplyError { tag: A }));
    }
}
