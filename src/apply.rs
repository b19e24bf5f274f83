//! Carry out a [`Plan`] on a file in memory.
//!
//! Apply does no I/O and makes no decisions: every value it writes was computed by the planner.
//! It also rebuilds the file meta group so that Media Storage SOP Class/Instance UID follow the
//! data set (notes §6.10: dicom-rs does not keep them in sync) and the identifying meta elements
//! of the source (Source/Sending/Receiving AE Title, private meta) are gone.

use crate::dataset::{DataSet, Tag, Value, tag_str};
use crate::plan::{Op, Plan, Step};
use crate::read::DicomFile;
use dicom_dictionary_std::tags;

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
    for edit in &plan.edits {
        let ds = dataset_at(&mut file.dataset, &edit.path).ok_or(ApplyError { tag: edit.tag })?;
        match &edit.op {
            Op::Remove => {
                ds.remove(edit.tag);
            }
            Op::Put(element) => ds.put(element.clone()),
        }
    }
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

fn dataset_at<'a>(ds: &'a mut DataSet, path: &[Step]) -> Option<&'a mut DataSet> {
    let Some(((tag, index), rest)) = path.split_first() else { return Some(ds) };
    match &mut ds.get_mut(*tag)?.value {
        Value::Sequence(seq) => dataset_at(&mut seq.items.get_mut(*index)?.dataset, rest),
        _ => None,
    }
}
