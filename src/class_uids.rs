//! Which values of a class field are classes. An attribute whose keyword says it names
//! something registered ([`crate::dict::names_registered_uid`]: SOP Class UID, Referenced SOP
//! Class UID, Coding Scheme UID...) keeps its value, as mapping a class would break the file.
//! But a broken exporter can put an instance UID there (Referenced SOP Class UID and Referenced
//! SOP Instance UID swapped), and a tool can build a "class" from the Patient ID
//! (`1.2.840.10008.5.1.4.1.1.2.8812345`): kept, such a value releases an original UID or the
//! patient's ID. This module tells those apart, for `deid` (which maps them like instance UIDs)
//! and for `verify` (which then looks for them). Private SOP classes (a vendor's
//! `1.2.392.200036.9116.7.…`, `1.3.46.670589.11.0.0.12.1`) stay classes: only a value that the
//! file itself shows to be an instance, or that spells an identifier, is taken for one.

use crate::dataset::{DataSet, Tag, VR, Value, is_private};
use crate::uid_clues::UidClues;
use dicom_dictionary_std::tags;
use std::collections::HashSet;

/// The standard's root: it holds only what the standard registers.
const DICOM_ROOT: &str = "1.2.840.10008.";

/// The most digits a component under [`DICOM_ROOT`] has in any UID the standard registers
/// (three, today: `1.2.840.10008.1.2.4.201`), with room for its growth. A longer component is
/// a number some tool appended (a Patient ID, a date, a serial number).
const MAX_STANDARD_COMPONENT_DIGITS: usize = 4;

/// Pairs of a class field and the instance field that goes with it in the same data set: an
/// exporter that swaps them puts the instance UID into the class field.
const PAIRS: [(Tag, Tag); 3] = [
    (tags::SOP_CLASS_UID, tags::SOP_INSTANCE_UID),
    (tags::REFERENCED_SOP_CLASS_UID, tags::REFERENCED_SOP_INSTANCE_UID),
    (tags::REFERENCED_SOP_CLASS_UID_IN_FILE, tags::REFERENCED_SOP_INSTANCE_UID_IN_FILE),
];

/// The values of the class fields of `top` (at any depth) that are instance UIDs, not classes,
/// and must be mapped like any instance UID. A value counts when it has an instance UID's form
/// ([`crate::dict::is_instance_uid_text`]: not registered, four components or more, 16
/// characters or more) and
///
/// - the file holds it in an instance field too (a standard UI attribute that is not a class
///   field: SOP Instance UID, Referenced SOP Instance UID, Frame of Reference UID...), or
/// - the instance field paired with it in the same data set holds a registered UID (the two
///   were swapped: Referenced SOP Instance UID holds `1.2.840.10008.5.1.4.1.1.2`), or
/// - it lies under the standard's root `1.2.840.10008.` with a component of more digits than
///   the standard ever gives one (`…1.1.2.8812345`: the standard registers what it puts
///   there, and no class it registers looks so), or
/// - it holds the file's Patient ID or one of its dates as a component ([`UidClues`]).
pub fn instances_in_class_fields(top: &DataSet) -> HashSet<String> {
    let mut seen = Seen::default();
    seen.walk(top);
    if seen.class.is_empty() {
        return HashSet::new();
    }
    let clues = UidClues::of(top);
    seen.class
        .into_iter()
        .filter(|uid| {
            seen.instance.contains(uid)
                || seen.swapped.contains(uid)
                || off_the_standard(uid)
                || clues.find(uid).is_some()
        })
        .collect()
}

/// The input's SOP Class UID as the audit log and `kamei report` show it: in its defined form
/// only ([`crate::shown::uid`]: a placeholder when it is not a UID), and a placeholder too when
/// it is an instance UID or spells an identifier ([`instances_in_class_fields`]), which `deid`
/// maps.
pub fn shown_sop_class(top: &DataSet) -> Option<String> {
    let class = top.ascii(tags::SOP_CLASS_UID)?;
    let instance = !crate::dict::is_dicom_defined_uid(class) && instances_in_class_fields(top).contains(class);
    Some(if instance { "(an instance UID in a class field; not shown)".to_string() } else { crate::shown::uid(class) })
}

/// Whether `uid` lies under the standard's root with a component no registered UID has (see
/// [`MAX_STANDARD_COMPONENT_DIGITS`]); registered UIDs are never passed here.
fn off_the_standard(uid: &str) -> bool {
    uid.strip_prefix(DICOM_ROOT).is_some_and(|rest| rest.split('.').any(|c| c.len() > MAX_STANDARD_COMPONENT_DIGITS))
}

/// The UIDs one walk over a data set gathers.
#[derive(Default)]
struct Seen {
    /// Instance-shaped values of class fields.
    class: HashSet<String>,
    /// Instance-shaped values of standard instance fields.
    instance: HashSet<String>,
    /// Class-field values whose paired instance field holds a registered UID.
    swapped: HashSet<String>,
}

impl Seen {
    fn walk(&mut self, ds: &DataSet) {
        for e in ds.elements() {
            match &e.value {
                Value::Sequence(seq) => {
                    for item in &seq.items {
                        self.walk(&item.dataset);
                    }
                }
                Value::Bytes(bytes) if !is_private(e.tag) && ui(e.tag, e.vr) => {
                    let class = crate::dict::names_registered_uid(e.tag);
                    let into = if class { &mut self.class } else { &mut self.instance };
                    into.extend(instance_shaped(bytes));
                }
                _ => {}
            }
        }
        for (class, instance) in PAIRS {
            let holds_a_class =
                ds.bytes(instance).is_some_and(|b| values(b).any(|v| crate::dict::is_dicom_defined_uid(&v)));
            if holds_a_class {
                self.swapped.extend(ds.bytes(class).into_iter().flat_map(instance_shaped));
            }
        }
    }
}

/// Whether an element of a standard tag holds UIDs: UI, or UN where the dictionary says UI.
fn ui(tag: Tag, vr: VR) -> bool {
    vr == VR::UI || (vr == VR::UN && crate::dict::known_vr(tag) == Some(VR::UI))
}

/// The values of a UI element, padding trimmed.
fn values(bytes: &[u8]) -> impl Iterator<Item = String> + '_ {
    String::from_utf8_lossy(bytes)
        .split('\\')
        .map(|v| v.trim_matches([' ', '\0']).to_string())
        .collect::<Vec<_>>()
        .into_iter()
}

/// The values that have an instance UID's form ([`crate::dict::is_instance_uid_text`]).
fn instance_shaped(bytes: &[u8]) -> impl Iterator<Item = String> + '_ {
    values(bytes).filter(|v| crate::dict::is_instance_uid_text(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Element;

    const CT: &[u8] = b"1.2.840.10008.5.1.4.1.1.2\0";
    const ORIGINAL: &str = "1.2.392.200036.9116.2.5.1.37.2418725123.1709254500.100001";

    fn ui_element(tag: Tag, v: &str) -> Element {
        Element::new(tag, VR::UI, v.as_bytes().to_vec())
    }

    fn reference(class: &str, instance: &str) -> Element {
        Element::sequence(
            tags::REFERENCED_IMAGE_SEQUENCE,
            vec![DataSet::from_elements([
                ui_element(tags::REFERENCED_SOP_CLASS_UID, class),
                ui_element(tags::REFERENCED_SOP_INSTANCE_UID, instance),
            ])],
        )
    }

    fn file(sop_class: &str, more: Vec<Element>) -> DataSet {
        let mut ds = DataSet::from_elements(more);
        ds.put(ui_element(tags::SOP_CLASS_UID, sop_class));
        ds.put(ui_element(tags::SOP_INSTANCE_UID, "1.2.826.0.1.3680043.8.498.1234.5678"));
        ds.put(Element::new(tags::PATIENT_ID, VR::LO, b"PID8812345".to_vec()));
        ds
    }

    #[test]
    fn a_swapped_reference_puts_an_instance_uid_in_the_class_field() {
        let ds = file("1.2.840.10008.5.1.4.1.1.2", vec![reference(ORIGINAL, "1.2.840.10008.5.1.4.1.1.2")]);
        assert_eq!(instances_in_class_fields(&ds), HashSet::from([ORIGINAL.to_string()]));
    }

    #[test]
    fn a_class_field_holding_one_of_the_files_instance_uids_is_an_instance() {
        let ds = file("1.2.840.10008.5.1.4.1.1.2", vec![reference(ORIGINAL, ORIGINAL)]);
        assert!(instances_in_class_fields(&ds).contains(ORIGINAL));
    }

    #[test]
    fn a_class_built_on_the_standard_root_with_the_patient_digits_is_an_instance() {
        let ds = file("1.2.840.10008.5.1.4.1.1.2.8812345", vec![]);
        assert!(instances_in_class_fields(&ds).contains("1.2.840.10008.5.1.4.1.1.2.8812345"));
    }

    #[test]
    fn registered_and_private_sop_classes_stay_classes() {
        for class in ["1.2.392.200036.9116.7.8.1.1.1", "1.3.46.670589.11.0.0.12.1", "1.2.840.113619.4.27"] {
            let ds = file(class, vec![reference(class, ORIGINAL)]);
            assert!(instances_in_class_fields(&ds).is_empty(), "{class}");
        }
        let ds = file(std::str::from_utf8(&CT[..CT.len() - 1]).unwrap(), vec![]);
        assert!(instances_in_class_fields(&ds).is_empty());
    }
}
