//! `kamei link k-anonymity`: the k-anonymity check of a CSV release on its quasi-identifiers
//! (age band, sex, postal-code prefix, or the columns named). Groups with fewer than k patients
//! (default 10, the NDB publication threshold) are listed so the releasing center can
//! generalise or suppress them.
//!
//! A group's size counts distinct patients when the release has a patient-id column (a patient
//! with fifty lab rows is still one person), rows otherwise. Streams the file; memory grows with
//! the number of groups and patients, not rows.
//!
//! A row with more or fewer fields than the header (a release damaged after it was written)
//! is malformed: its fields cannot be told apart, so it is in no group, and only its line is
//! reported, never its values ([`KAnonReport::malformed`]).

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::Path;

/// The default k (NDB: no cell under 10 patients is published).
pub const DEFAULT_K: usize = 10;

/// A group smaller than k.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmallGroup {
    /// The quasi-identifier values, in column order (from the released file).
    pub values: Vec<String>,
    /// Its size (patients, or rows).
    pub size: usize,
}

/// The result of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KAnonReport {
    /// The quasi-identifier columns used.
    pub columns: Vec<String>,
    /// Whether sizes count patients (else rows).
    pub counts_patients: bool,
    /// Rows read (malformed ones too).
    pub rows: u64,
    /// The lines (1 is the header) of the rows with more or fewer fields than the header, left
    /// out of every group: a ragged row's columns are shifted, so its values would be counted
    /// in the wrong group.
    pub malformed: Vec<(u64, usize)>,
    /// How many fields the header has.
    pub width: usize,
    /// Distinct groups.
    pub groups: usize,
    /// Groups smaller than k, smallest first.
    pub small: Vec<SmallGroup>,
}

/// Why the check could not run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading failed.
    Read(io::Error),
    /// A named column is not in the header.
    MissingColumn(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Read(e) => write!(f, "could not read the file: {e}"),
            Error::MissingColumn(c) => write!(f, "the file has no column {c:?}"),
        }
    }
}

impl std::error::Error for Error {}

/// Rows and distinct patients of one group.
type Group = (usize, HashSet<Vec<u8>>);

/// Check `path` (a UTF-8 CSV release, e.g. a `kamei clinical csv` output).
///
/// # Errors
/// [`Error`] when the file cannot be read or lacks a named column.
pub fn check(path: &Path, quasi: &[String], patient_column: Option<&str>, k: usize) -> Result<KAnonReport, Error> {
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).from_path(path).map_err(|e| Error::Read(io::Error::other(e)))?;
    let headers = reader.byte_headers().map_err(|e| Error::Read(io::Error::other(e)))?.clone();
    let index = |name: &str| {
        headers.iter().position(|h| h == name.as_bytes()).ok_or_else(|| Error::MissingColumn(name.to_string()))
    };
    let cols: Vec<usize> = quasi.iter().map(|c| index(c)).collect::<Result<_, _>>()?;
    let patient = patient_column.map(index).transpose()?;
    let mut groups: HashMap<Vec<Vec<u8>>, Group> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    let mut malformed = Vec::new();
    while reader.read_byte_record(&mut record).map_err(|e| Error::Read(io::Error::other(e)))? {
        rows += 1;
        if record.len() != headers.len() {
            let line = record.position().map_or(rows + 1, |p| p.line());
            malformed.push((line, record.len()));
            continue;
        }
        let key: Vec<Vec<u8>> = cols.iter().map(|&i| record.get(i).unwrap_or_default().to_vec()).collect();
        let entry = groups.entry(key).or_default();
        entry.0 += 1;
        if let Some(p) = patient {
            let id = record.get(p).unwrap_or_default();
            if !entry.1.contains(id) {
                entry.1.insert(id.to_vec());
            }
        }
    }
    let total = groups.len();
    let mut small: Vec<SmallGroup> = groups
        .into_iter()
        .map(|(key, (n, ids))| SmallGroup {
            values: key.iter().map(|v| String::from_utf8_lossy(v).into_owned()).collect(),
            size: if patient.is_some() { ids.len() } else { n },
        })
        .filter(|g| g.size < k)
        .collect();
    small.sort_by(|a, b| a.size.cmp(&b.size).then_with(|| a.values.cmp(&b.values)));
    Ok(KAnonReport {
        columns: quasi.to_vec(),
        counts_patients: patient.is_some(),
        rows,
        malformed,
        width: headers.len(),
        groups: total,
        small,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_groups_are_listed_by_patients() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let mut text = String::from("pid,age,sex,zip\n");
        for i in 0..10 {
            text.push_str(&format!("P{i},50-54,F,999\n"));
        }
        // One patient with many rows is still one person.
        for _ in 0..20 {
            text.push_str("Q,90+,M,100\n");
        }
        std::fs::write(&path, text).unwrap();
        let q = ["age".to_string(), "sex".to_string(), "zip".to_string()];
        let r = check(&path, &q, Some("pid"), 10).unwrap();
        assert_eq!(r.groups, 2);
        assert_eq!(r.small, [SmallGroup { values: vec!["90+".into(), "M".into(), "100".into()], size: 1 }]);
        let rows = check(&path, &q, None, 10).unwrap();
        assert!(rows.small.is_empty(), "by rows both groups have 10 or more");
        assert!(matches!(check(&path, &["nope".to_string()], None, 10), Err(Error::MissingColumn(_))));
    }

    #[test]
    fn rows_with_more_or_fewer_fields_than_the_header_are_malformed_and_in_no_group() {
        // rv35: `BBB,F,山田太郎,0901234567` was grouped as (F, 山田太郎) and `CCC` as (, ).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, "pid,sex,age\nAAA,F,50\nBBB,F,山田太郎,0901234567\nCCC\nDDD,M,60\n").unwrap();
        let q = ["sex".to_string(), "age".to_string()];
        let r = check(&path, &q, Some("pid"), 10).unwrap();
        assert_eq!(r.rows, 4);
        assert_eq!(r.malformed, [(3, 4), (4, 1)], "lines and field counts");
        assert_eq!(r.width, 3);
        assert_eq!(r.groups, 2);
        let values: Vec<&str> = r.small.iter().flat_map(|g| g.values.iter().map(String::as_str)).collect();
        assert_eq!(values, ["F", "50", "M", "60"], "the ragged rows' values are in no group");
    }
}
