//! Class fields of an output that hold no class, found without the inputs. A class field (SOP
//! Class UID, Referenced SOP Class UID, [`crate::dict::names_registered_uid`]) keeps its value
//! through `deid`, unless the class rule ([`crate::class_uids::instances_in_class_fields`])
//! takes that value for an instance UID: one the file also holds in an instance field, one
//! swapped with its paired instance field, a standard class with a long number appended
//! (`1.2.840.10008.5.1.4.1.1.2.8812345`), or one holding the file's Patient ID or a date.
//! `deid` maps such a value to a `2.25` UID. The same rule asked of the output finds the values
//! left unmapped: an original instance UID (or the number it spells) in a release that a
//! broken or other tool made, which `verify --against` finds as an original UID but plain
//! `verify` would pass. A `2.25` value is `deid`'s mapping (a UUID-derived UID holds nothing)
//! and is no finding; under `retain-uids` every UID is kept on purpose, class fields included
//! (`verify --against` still reports one that spells the input's identifiers,
//! [`super::kept_uids`]).

use super::{Finding, FindingKind, finding, location};
use crate::dataset::{DataSet, Tag, VR, Value, is_private};
use std::collections::HashSet;

/// What a finding of this check says.
const DETAIL: &str = "a class field holds a UID that is no class (an instance UID of this file, one swapped with its instance field, or a standard class with a number appended): not replaced";

/// Report each class field of `top` (at any depth) holding a value that the class rule takes
/// for an instance UID and that is not a `2.25` UID. `retain_uids`: the release keeps every
/// UID on purpose, and nothing is reported.
pub(super) fn check(top: &DataSet, retain_uids: bool, rel: &str, out: &mut Vec<Finding>) {
    if retain_uids {
        return;
    }
    let mut left: HashSet<String> = crate::class_uids::instances_in_class_fields(top);
    left.retain(|uid| !uid.starts_with("2.25."));
    if left.is_empty() {
        return;
    }
    let mut stack = Vec::new();
    walk(top, &left, &mut stack, rel, out);
}

/// Report the class fields of `ds` (and of its items) holding one of `left`.
fn walk(ds: &DataSet, left: &HashSet<String>, stack: &mut Vec<(Tag, usize)>, rel: &str, out: &mut Vec<Finding>) {
    for e in ds.elements() {
        match &e.value {
            Value::Sequence(seq) => {
                for (i, item) in seq.items.iter().enumerate() {
                    stack.push((e.tag, i));
                    walk(&item.dataset, left, stack, rel, out);
                    stack.pop();
                }
            }
            Value::Bytes(bytes) if is_class_field(e.tag, e.vr) => {
                let text = String::from_utf8_lossy(bytes);
                if text.split('\\').any(|v| left.contains(v.trim_matches([' ', '\0']))) {
                    out.push(finding(rel, location(stack, e.tag), FindingKind::NotReplaced, DETAIL));
                }
            }
            _ => {}
        }
    }
}

/// Whether an element is a standard class field holding UIDs (UI, or UN where the dictionary
/// says UI), as the class rule reads one.
fn is_class_field(tag: Tag, vr: VR) -> bool {
    let ui = vr == VR::UI || (vr == VR::UN && crate::dict::known_vr(tag) == Some(VR::UI));
    ui && !is_private(tag) && crate::dict::names_registered_uid(tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Element;
    use dicom_dictionary_std::tags;

    fn ui(tag: Tag, v: &str) -> Element {
        Element::new(tag, VR::UI, v.as_bytes().to_vec())
    }

    fn output(class: &str, reference: (&str, &str)) -> DataSet {
        DataSet::from_elements([
            ui(tags::SOP_CLASS_UID, class),
            ui(tags::SOP_INSTANCE_UID, "2.25.1234567890123456789"),
            Element::sequence(
                tags::REFERENCED_IMAGE_SEQUENCE,
                vec![DataSet::from_elements([
                    ui(tags::REFERENCED_SOP_CLASS_UID, reference.0),
                    ui(tags::REFERENCED_SOP_INSTANCE_UID, reference.1),
                ])],
            ),
        ])
    }

    fn found(ds: &DataSet, retain_uids: bool) -> Vec<String> {
        let mut out = Vec::new();
        check(ds, retain_uids, "a.dcm", &mut out);
        out.into_iter().map(|f| f.location).collect()
    }

    const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
    const ORIGINAL: &str = "1.2.392.200036.9116.2.5.1.37.2418725123.1709254500.100001";

    #[test]
    fn an_unmapped_instance_uid_in_a_class_field_is_found_without_the_inputs() {
        let swapped = output(CT, (ORIGINAL, CT));
        assert_eq!(found(&swapped, false), ["(0008,1140)[0]/(0008,1150)"]);
        let appended = output("1.2.840.10008.5.1.4.1.1.2.8812345", ("2.25.99", "2.25.98"));
        assert_eq!(found(&appended, false), ["(0008,0016)"]);
    }

    #[test]
    fn classes_mapped_values_and_retained_uids_are_no_finding() {
        // A private class, a mapped (2.25) instance UID swapped into the class field, and
        // whatever retain-uids keeps.
        assert!(found(&output("1.2.392.200036.9116.7.8.1.1.1", (CT, "2.25.98")), false).is_empty());
        assert!(found(&output(CT, ("2.25.12345678901234567890", CT)), false).is_empty());
        assert!(found(&output(CT, (ORIGINAL, CT)), true).is_empty());
    }
}
