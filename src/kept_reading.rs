//! How a kept value is read when kamei looks in it for the patient's identifiers, the file's
//! dates and its original UIDs: the texts a byte string of unknown layout reads as, and the
//! numbers a numeric value holds in the file's byte order. One reading, shared by `deid`'s
//! safety net on kept values ([`crate::plan`]) and `kamei verify`, so that the two cannot
//! disagree about the same release (rv42: a number read little-endian in a Big Endian file, a
//! date or a UID looked for only in the ASCII reading of a blob).

use crate::dataset::VR;
use crate::uid_clues::UidClue;

/// The readings of a byte string of unknown layout (a private OB, OW or UN value: a vendor's
/// blob): `declared` (the bytes as the data set's character set reads them), then as UTF-16,
/// little- and big-endian ([`crate::charset::utf16_readings`]: the strings of Windows
/// software's blobs), then in the other encodings a vendor's blob may use
/// ([`crate::charset::foreign_readings_lossy`]: UTF-8, CP932, EUC-JP, ISO-2022-JP). Every check
/// on such a value (identifiers, dates in any spelling, UIDs) looks at every reading.
pub fn byte_string_readings(declared: String, bytes: &[u8]) -> Vec<String> {
    let mut readings = vec![declared];
    readings.extend(crate::charset::utf16_readings(bytes));
    readings.extend(crate::charset::foreign_readings_lossy(bytes));
    readings
}

/// The whole non-negative numbers a numeric value (UL, SL, UV, SV, FL, FD) holds, each read in
/// the file's byte order (`big_endian`: Explicit VR Big Endian, which kamei reads and writes
/// back as it came). Fractions, negative numbers and other VRs give none.
pub fn whole_numbers(vr: VR, bytes: &[u8], big_endian: bool) -> Vec<u64> {
    fn word<const N: usize>(c: &[u8], big_endian: bool) -> [u8; N] {
        let mut w: [u8; N] = c.try_into().expect("a chunk of N bytes");
        if big_endian {
            w.reverse();
        }
        w // little-endian from here on
    }
    let whole = |f: f64| (f >= 0.0 && f.fract() == 0.0 && f < 1e19).then_some(f as u64);
    let four = || bytes.chunks_exact(4).map(|c| word::<4>(c, big_endian));
    let eight = || bytes.chunks_exact(8).map(|c| word::<8>(c, big_endian));
    match vr {
        VR::UL => four().map(|w| u64::from(u32::from_le_bytes(w))).collect(),
        VR::SL => four().filter_map(|w| u64::try_from(i32::from_le_bytes(w)).ok()).collect(),
        VR::UV => eight().map(u64::from_le_bytes).collect(),
        VR::SV => eight().filter_map(|w| u64::try_from(i64::from_le_bytes(w)).ok()).collect(),
        VR::FL => four().filter_map(|w| whole(f64::from(f32::from_le_bytes(w)))).collect(),
        VR::FD => eight().filter_map(|w| whole(f64::from_le_bytes(w))).collect(),
        _ => Vec::new(),
    }
}

/// The numbers a kept private number must not equal: a Patient ID of digits only with six
/// significant digits or more ([`crate::ids::MIN_UNPADDED_DIGITS`]; `12345678` of
/// `0012345678`), and the birth date read as the number `YYYYMMDD` (`19800101`). Vendors store
/// such values in their own numeric attributes; a coincidence with a number of seven or eight
/// digits is rare enough to lose the value over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientNumbers {
    targets: Vec<(u64, UidClue)>,
}

impl PatientNumbers {
    /// Add a Patient ID (each of its values): looked for when it is digits only with enough
    /// significant digits.
    pub fn add_patient_id(&mut self, id: &str) {
        for id in id.split('\\') {
            let id = crate::pseudo::normalize_id(id);
            let significant = id.trim_start_matches('0');
            if id.bytes().all(|b| b.is_ascii_digit())
                && (crate::ids::MIN_UNPADDED_DIGITS..=19).contains(&significant.len())
            {
                self.add(significant.parse::<u64>().ok(), UidClue::PatientId);
            }
        }
    }

    /// Add a birth date (DA, `YYYYMMDD`), looked for as that number.
    pub fn add_birth_date(&mut self, da: &str) {
        let da = da.trim_matches([' ', '\0']);
        if da.len() == 8 && chrono::NaiveDate::parse_from_str(da, "%Y%m%d").is_ok() {
            self.add(da.parse::<u64>().ok(), UidClue::BirthDate);
        }
    }

    fn add(&mut self, n: Option<u64>, kind: UidClue) {
        if let Some(n) = n.filter(|n| !self.targets.iter().any(|(t, _)| t == n)) {
            self.targets.push((n, kind));
        }
    }

    /// Whether there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Which identifier a numeric value of `vr` holds as one of its numbers
    /// ([`whole_numbers`], read in the file's byte order), if any.
    pub fn find(&self, vr: VR, bytes: &[u8], big_endian: bool) -> Option<UidClue> {
        if self.is_empty() {
            return None;
        }
        whole_numbers(vr, bytes, big_endian)
            .into_iter()
            .find_map(|n| self.targets.iter().find(|(t, _)| *t == n).map(|(_, kind)| *kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers() -> PatientNumbers {
        let mut n = PatientNumbers::default();
        n.add_patient_id("0012345678");
        n.add_birth_date("19850315");
        n
    }

    #[test]
    fn a_number_is_read_in_the_files_byte_order() {
        let n = numbers();
        assert_eq!(n.find(VR::UL, &12_345_678u32.to_be_bytes(), true), Some(UidClue::PatientId));
        assert_eq!(n.find(VR::UL, &12_345_678u32.to_le_bytes(), false), Some(UidClue::PatientId));
        assert_eq!(n.find(VR::UL, &12_345_678u32.to_be_bytes(), false), None);
        assert_eq!(n.find(VR::FL, &12_345_678f32.to_be_bytes(), true), Some(UidClue::PatientId));
        assert_eq!(n.find(VR::FD, &19_850_315f64.to_be_bytes(), true), Some(UidClue::BirthDate));
        assert_eq!(n.find(VR::SV, &19_850_315i64.to_be_bytes(), true), Some(UidClue::BirthDate));
    }

    #[test]
    fn short_ids_fractions_and_other_numbers_are_not_looked_for() {
        let mut n = PatientNumbers::default();
        n.add_patient_id("0012345");
        assert!(n.is_empty(), "five significant digits are too few");
        let n = numbers();
        assert_eq!(n.find(VR::FD, &12_345_678.5f64.to_le_bytes(), false), None);
        assert_eq!(n.find(VR::UL, &42u32.to_le_bytes(), false), None);
    }

    #[test]
    fn a_blob_is_read_as_utf16_and_in_other_encodings_too() {
        let mut bytes = vec![1, 2, 0, 0];
        bytes.extend("exam 20240301".encode_utf16().flat_map(u16::to_le_bytes));
        let readings = byte_string_readings(String::from_utf8_lossy(&bytes).into_owned(), &bytes);
        assert!(readings.iter().any(|t| t.contains("20240301")));
    }
}
