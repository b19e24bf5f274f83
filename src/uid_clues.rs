//! The identifiers a UID can spell: some systems build their UIDs from the Patient ID and the
//! exam date and time (`1.2.392.200036.9116.2.6.1.48.20240301.101500.8812345`). A UID that
//! holds the file's Patient ID or one of its original dates as a component gives the patient
//! away wherever it is kept as it is (under `retain-uids`, in a class field). This module finds
//! them, by component and never by substring, and names only what kind of identifier it is.

use crate::dataset::{DataSet, VR, Value};
use dicom_dictionary_std::tags;

/// The words of the audit note `deid` writes for a UID kept under `retain-uids` that spells an
/// identifier (`(0008,0018): a UID kept under retain-uids holds the Patient ID`): the end-of-run
/// summary counts the outputs whose record has one.
pub const KEPT_UID_NOTE: &str = "a UID kept under retain-uids holds";

/// What kind of identifier a UID component holds (shown in notes and findings instead of the
/// value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UidClue {
    /// The Patient ID (or the digits of a lettered one, `8812345` of `PID8812345`).
    PatientId,
    /// The patient's birth date.
    BirthDate,
    /// One of the file's other dates (an exam date), alone or at the start of a date-time.
    Date,
}

impl UidClue {
    /// The words a note or a finding names it by.
    pub fn label(self) -> &'static str {
        match self {
            UidClue::PatientId => "the Patient ID",
            UidClue::BirthDate => "the birth date",
            UidClue::Date => "a date of the file",
        }
    }
}

/// The identifiers of one file that a UID component can spell: the digits of its Patient ID
/// and its dates as `YYYYMMDD`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UidClues {
    /// Patient ID digits, without leading zeros (a UID component has none).
    ids: Vec<String>,
    /// Dates as eight digits, each with what it is.
    dates: Vec<(String, UidClue)>,
}

/// The fewest digits a Patient ID must have to be looked for as a whole component: UIDs are
/// full of small numbers (`1`, `2`, `48`), and an ID of a few digits would match them by chance.
const MIN_ID_DIGITS: usize = 5;

/// The fewest digits a run of digits inside a lettered Patient ID must have (`8812345` of
/// `PID8812345`), as Clean and verify look for the digits of a lettered ID alone.
const MIN_LETTERED_ID_DIGITS: usize = 6;

impl UidClues {
    /// The clues of a data set (its top level): its Patient ID, and every date of a DA or DT
    /// attribute at the top level (Study, Series, Acquisition, Content Date, Acquisition
    /// DateTime, the birth date...).
    pub fn of(top: &DataSet) -> UidClues {
        let mut clues = UidClues::default();
        if let Some(id) = top.bytes(tags::PATIENT_ID) {
            clues.add_patient_id(&String::from_utf8_lossy(id));
        }
        for e in top.elements() {
            let vr = if e.vr == VR::UN { crate::dict::known_vr(e.tag).unwrap_or(VR::UN) } else { e.vr };
            let (Value::Bytes(bytes), VR::DA | VR::DT) = (&e.value, vr) else { continue };
            let kind = if e.tag == tags::PATIENT_BIRTH_DATE { UidClue::BirthDate } else { UidClue::Date };
            for v in String::from_utf8_lossy(bytes).split(['\\', '-']) {
                clues.add_date(v.trim_matches([' ', '\0']), kind);
            }
        }
        clues
    }

    /// Add a Patient ID: all of it when it is digits only (`0012345` as `12345`), else each run
    /// of six digits or more in it (fewer are too common in UIDs).
    pub fn add_patient_id(&mut self, id: &str) {
        let id = id.trim_matches([' ', '\0']);
        for value in id.split('\\') {
            let whole = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
            let min = if whole { MIN_ID_DIGITS } else { MIN_LETTERED_ID_DIGITS };
            for run in value.split(|c: char| !c.is_ascii_digit()).filter(|r| r.len() >= min) {
                let run = run.trim_start_matches('0');
                if run.len() >= min.min(MIN_ID_DIGITS) && !self.ids.iter().any(|i| i == run) {
                    self.ids.push(run.to_string());
                }
            }
        }
    }

    /// Add a date (DA, or the date of a DT): its first eight digits when they are a date.
    pub fn add_date(&mut self, value: &str, kind: UidClue) {
        let Some(day) = value.get(..8).filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y%m%d").is_ok()) else {
            return;
        };
        if !self.dates.iter().any(|(d, _)| d == day) {
            self.dates.push((day.to_string(), kind));
        }
    }

    /// Whether there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.dates.is_empty()
    }

    /// What identifier `uid` holds as one of its components, if any: a component that is the
    /// Patient ID's digits, a date (`20240301`), or a date-time starting with one (twelve digits
    /// or more, `20240301101500`, `2008081908590527031`). Never a part of a component: `88123456`
    /// does not hold the ID `8812345`. A UUID-derived UID (`2.25.<decimal>`) holds nothing: its
    /// digits are random, and a date at the start of them would be chance.
    pub fn find(&self, uid: &str) -> Option<UidClue> {
        let uid = uid.trim_matches([' ', '\0']);
        if crate::dict::is_uuid_uid(uid) {
            return None; // its digits are random (kamei's own UIDs are such)
        }
        for component in uid.split('.') {
            if self.ids.iter().any(|id| id == component) {
                return Some(UidClue::PatientId);
            }
            let dated = component.len() == 8 || component.len() >= 12;
            if let Some((_, kind)) = self.dates.iter().find(|(d, _)| dated && component.starts_with(d.as_str())) {
                return Some(*kind);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Element;

    fn clues(id: &str, study_date: &str, birth: &str) -> UidClues {
        UidClues::of(&DataSet::from_elements([
            Element::new(tags::PATIENT_BIRTH_DATE, VR::DA, birth.as_bytes().to_vec()),
            Element::new(tags::STUDY_DATE, VR::DA, study_date.as_bytes().to_vec()),
            Element::new(tags::PATIENT_ID, VR::LO, id.as_bytes().to_vec()),
        ]))
    }

    #[test]
    fn a_uid_built_from_the_patient_id_and_the_exam_date_is_found_by_component() {
        let c = clues("8812345", "20240301", "19710423");
        assert_eq!(c.find("1.2.392.200036.9116.2.6.1.48.20240301.101500.8812345"), Some(UidClue::Date));
        assert_eq!(c.find("1.2.392.200036.9116.2.6.1.48.101500.8812345"), Some(UidClue::PatientId));
        assert_eq!(c.find("1.3.46.670589.11.17521.5.0.3124.2024030110590527031"), Some(UidClue::Date));
        assert_eq!(c.find("1.2.3.19710423.5"), Some(UidClue::BirthDate));
    }

    #[test]
    fn a_part_of_a_component_or_another_date_is_no_clue() {
        let c = clues("8812345", "20240301", "19710423");
        for uid in ["1.2.392.200036.88123456.1", "1.2.392.200036.20240302.1", "1.2.392.2024030110.1", "1.2.3.4"] {
            assert_eq!(c.find(uid), None, "{uid}");
        }
    }

    #[test]
    fn the_digits_of_a_lettered_id_count_and_short_ids_do_not() {
        let c = clues("PID8812345", "", "");
        assert_eq!(c.find("1.2.840.10008.5.1.4.1.1.2.8812345"), Some(UidClue::PatientId));
        assert_eq!(clues("0012345", "", "").find("1.2.3.12345"), Some(UidClue::PatientId));
        assert!(clues("48", "", "").is_empty());
        assert!(clues("AB12345", "", "").is_empty(), "five digits after letters are too few");
    }
}
