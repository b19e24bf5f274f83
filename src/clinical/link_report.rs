//! `kamei link report`: which pseudonymous patients of a de-identified image set also appear in
//! each de-identified clinical data set, and how their date ranges overlap.
//!
//! It reads only outputs (pseudonyms and shifted dates), never originals: the image folder that
//! `kamei deid` wrote (Patient ID and the study, series, acquisition and content dates of every
//! `.dcm`), a CSV output folder of `kamei clinical csv` (its `kamei-columns.json` says which
//! column holds the pseudonym and which hold dates), or an SS-MIX2 output tree of
//! `kamei clinical ss-mix2` (pseudonym folders, shifted date folders). It also compares the key
//! fingerprints in each folder's `kamei-run.json`: data sets made with different keys cannot
//! link, and the report says so. Every file of the image folder is read as DICOM whatever its
//! name (a `--layout mirror` release keeps names without an extension), and what was read is
//! checked against what the folder's own `kamei-run.json` and audit log say it holds: a folder
//! of another kind, or outputs recorded but not read, are refused or reported, never counted
//! as a data set without patients.

use super::csv::read_manifest;
use chrono::NaiveDate;
use dicom_dictionary_std::tags;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

/// First and last date seen for a patient (`None` when no date was kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range(pub Option<(NaiveDate, NaiveDate)>);

impl Range {
    fn add(&mut self, d: NaiveDate) {
        self.0 = Some(match self.0 {
            None => (d, d),
            Some((a, b)) => (a.min(d), b.max(d)),
        });
    }

    /// Days both ranges share (inclusive), `None` if either has no date.
    pub fn overlap_days(&self, other: &Range) -> Option<i64> {
        let ((a1, b1), (a2, b2)) = (self.0?, other.0?);
        let (start, end) = (a1.max(a2), b1.min(b2));
        Some(((end - start).num_days() + 1).max(0))
    }
}

/// Patients of one data set by pseudonym, with their date ranges.
pub type Patients = BTreeMap<String, Range>;

/// One clinical data set compared with the images.
#[derive(Debug, Clone)]
pub struct DataSetReport {
    /// The data set's name (its folder name).
    pub name: String,
    /// `csv` or `ss-mix2`.
    pub kind: &'static str,
    /// Its patients.
    pub patients: Patients,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Image patients.
    pub images: Patients,
    /// Each clinical data set.
    pub datasets: Vec<DataSetReport>,
    /// Folders whose key fingerprint differs from the images' (their pseudonyms cannot match).
    pub key_mismatch: Vec<String>,
    /// Folders whose date shift settings differ from the images' (their dates cannot line up).
    pub shift_mismatch: Vec<String>,
    /// Folders whose dates were shifted where the images' are real, or the reverse
    /// (`retain-long-full-dates` on one side, `retain-long-modified-dates` on the other): their
    /// dates do not line up, and together they give each patient's offset away.
    pub real_beside_shifted: Vec<String>,
    /// Folders (the image folder or a clinical one) without a readable `kamei-run.json` that
    /// records a key fingerprint: their key and date shift settings cannot be compared, so
    /// the report cannot say that their pseudonyms and dates line up.
    pub unchecked: Vec<String>,
    /// The image folder's audit log records more outputs than were read as DICOM (files
    /// removed, renamed or damaged since): the DICOM files read and the outputs recorded.
    /// The report then understates the images.
    pub images_unread: Option<(usize, usize)>,
}

/// Counts for one data set: patients in images only, clinical only, both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// In the images only.
    pub images_only: usize,
    /// In the clinical data only.
    pub clinical_only: usize,
    /// In both.
    pub both: usize,
}

impl Report {
    /// The counts for data set `i`.
    pub fn counts(&self, i: usize) -> Counts {
        let c: BTreeSet<&String> = self.datasets[i].patients.keys().collect();
        let m: BTreeSet<&String> = self.images.keys().collect();
        Counts {
            images_only: m.difference(&c).count(),
            clinical_only: c.difference(&m).count(),
            both: m.intersection(&c).count(),
        }
    }
}

fn da(bytes: &[u8]) -> Option<NaiveDate> {
    let s = std::str::from_utf8(bytes).ok()?.trim_matches(|c| c == ' ' || c == '\0');
    let s = s.get(..8)?;
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

/// The image folder as read: its patients and how many DICOM files they came from.
#[derive(Debug, Clone, Default)]
pub struct Images {
    /// Patients by pseudonym (Patient ID), with their dates.
    pub patients: Patients,
    /// DICOM files read.
    pub files: usize,
}

/// Whether `rel` (relative to an output folder) is a file kamei keeps beside the outputs (the
/// audit log, the run settings, a CSV manifest) or a temporary file of an unfinished run.
fn kamei_own(rel: &Path) -> bool {
    let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
    let first = parts.next().unwrap_or_default();
    first == ".kamei-partial" || (rel.components().count() == 1 && first.starts_with("kamei-"))
}

/// Read the image output folder: Patient ID and dates of every DICOM file below it, whatever
/// its name (`--layout mirror` keeps extension-less names such as `IM000001`), as `kamei
/// verify` reads it.
///
/// # Errors
/// I/O errors walking the folder; files that are not DICOM are ignored.
pub fn scan_images(dir: &Path) -> io::Result<Images> {
    if !dir.is_dir() {
        return Err(io::Error::new(io::ErrorKind::NotFound, format!("{} is not a folder", dir.display())));
    }
    let mut images = Images::default();
    let out = &mut images.patients;
    let options = crate::read::ReadOptions::default();
    for e in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name().into_iter().filter_map(Result::ok) {
        if !e.file_type().is_file() || kamei_own(e.path().strip_prefix(dir).unwrap_or(e.path())) {
            continue;
        }
        let Ok(crate::read::Opened::Dicom(f)) = crate::read::open(e.path(), &options) else { continue };
        images.files += 1;
        let Some(id) = f.dataset.ascii(tags::PATIENT_ID).map(str::to_string) else { continue };
        let range = out.entry(id).or_default();
        for tag in [tags::STUDY_DATE, tags::SERIES_DATE, tags::ACQUISITION_DATE, tags::CONTENT_DATE] {
            if let Some(d) = f.dataset.bytes(tag).and_then(da) {
                range.add(d);
            }
        }
    }
    Ok(images)
}

/// How many outputs the audit log of `dir` records as written or found present (each output
/// once), `None` without a readable log.
fn recorded_outputs(dir: &Path) -> Option<usize> {
    let records = crate::release_report::read_audit(dir).ok()?;
    let outputs: BTreeSet<String> = records
        .into_iter()
        .filter(|r| matches!(r.outcome, crate::audit::Outcome::Written | crate::audit::Outcome::Present))
        .filter_map(|r| r.output)
        .collect();
    Some(outputs.len())
}

/// An error for a folder given as the wrong kind of output.
fn wrong_kind(dir: &Path, message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{}: {message}", dir.display()))
}

/// Read a CSV output folder through its manifest.
///
/// # Errors
/// I/O and CSV errors.
pub fn scan_csv(dir: &Path) -> io::Result<Patients> {
    let manifest = read_manifest(dir)?;
    let mut out = Patients::new();
    for (file, entry) in manifest {
        let Some(pcol) = entry.patient_id else { continue };
        let path = dir.join(&file);
        if !path.exists() {
            continue;
        }
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&path).map_err(io::Error::other)?;
        let headers = reader.byte_headers().map_err(io::Error::other)?.clone();
        let index = |name: &str| headers.iter().position(|h| h == name.as_bytes());
        let Some(p) = index(&pcol) else { continue };
        let dates: Vec<usize> = entry.dates.iter().filter_map(|d| index(d)).collect();
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).map_err(io::Error::other)? {
            let Some(id) = record.get(p).and_then(|b| std::str::from_utf8(b).ok()).filter(|s| !s.is_empty()) else {
                continue;
            };
            let range = out.entry(id.to_string()).or_default();
            for &i in &dates {
                if let Some(d) = record.get(i).and_then(|b| std::str::from_utf8(b).ok()).and_then(super::values::parse)
                {
                    range.add(d);
                }
            }
        }
    }
    Ok(out)
}

/// Read an SS-MIX2 output tree: pseudonym folders and their date folders.
///
/// # Errors
/// I/O errors walking the tree.
pub fn scan_ssmix2(dir: &Path) -> io::Result<Patients> {
    let mut out = Patients::new();
    for e in walkdir::WalkDir::new(dir).min_depth(4).max_depth(4).into_iter().filter_map(Result::ok) {
        if !e.file_type().is_dir() {
            continue;
        }
        let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
        let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let [a, b, id, date] = parts.as_slice() else { continue };
        if !id.starts_with(a.as_str()) || id.get(3..6) != Some(b.as_str()) {
            continue;
        }
        let range = out.entry(id.clone()).or_default();
        if let Some(d) = super::values::parse(date).filter(|_| date.len() == 8) {
            range.add(d);
        }
    }
    Ok(out)
}

/// What a run did with dates, from the options its `kamei-run.json` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dates {
    /// `retain-long-modified-dates`: shifted by the patient's offset.
    Shifted,
    /// `retain-long-full-dates`: the real dates.
    Real,
    /// Neither: removed, or replaced by a dummy (`19000101` in the images), which is no date.
    Removed,
}

impl Dates {
    /// How the run recorded in `settings` treated dates.
    pub fn of(settings: &crate::audit::RunSettings) -> Dates {
        let has = |o: &str| settings.options.iter().any(|x| x == o);
        if has("retain-long-modified-dates") {
            Dates::Shifted
        } else if has("retain-long-full-dates") {
            Dates::Real
        } else {
            Dates::Removed
        }
    }
}

fn run_settings(dir: &Path) -> Option<crate::audit::RunSettings> {
    let text = std::fs::read_to_string(dir.join(crate::audit::RUN_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Build the report.
///
/// # Errors
/// I/O errors reading a folder, or a clinical folder that is neither a CSV nor an SS-MIX2
/// output of kamei.
pub fn build(images: &Path, clinical: &[PathBuf]) -> io::Result<Report> {
    let image_settings = run_settings(images);
    if let Some(s) = image_settings.as_ref().filter(|s| s.profile.starts_with("clinical-")) {
        return Err(wrong_kind(
            images,
            format!(
                "its kamei-run.json says it is a {} output, not images (kamei deid): give it as --clinical",
                s.profile
            ),
        ));
    }
    if image_settings.is_none() && images.join(super::csv::MANIFEST_FILE).exists() {
        return Err(wrong_kind(
            images,
            format!("it holds a {}: a clinical csv output, not images (kamei deid)", super::csv::MANIFEST_FILE),
        ));
    }
    let Images { patients: mut image_patients, files: images_read } = scan_images(images)?;
    let images_unread = recorded_outputs(images).filter(|&recorded| images_read < recorded).map(|r| (images_read, r));
    let image_dates = image_settings.as_ref().map(Dates::of);
    if image_dates == Some(Dates::Removed) {
        // The dates the images hold are dummies (`19000101`), not the patients' dates.
        for range in image_patients.values_mut() {
            *range = Range::default();
        }
    }
    let mut real_beside_shifted = Vec::new();
    let image_key = image_settings.as_ref().and_then(|s| s.key_fingerprint.clone());
    let image_shift = image_settings.as_ref().and_then(|s| s.date_shift.clone());
    let mut datasets = Vec::new();
    let mut key_mismatch = Vec::new();
    let mut shift_mismatch = Vec::new();
    let mut unchecked = Vec::new();
    let label =
        |dir: &Path| dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
    if image_key.is_none() {
        unchecked.push(label(images));
    }
    for dir in clinical {
        let name = dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
        if !dir.is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{} is not a folder", dir.display())));
        }
        let settings = run_settings(dir);
        let manifest = dir.join(super::csv::MANIFEST_FILE).exists();
        // The kind the folder's kamei-run.json records decides; only a folder without one is
        // told by its manifest.
        let (kind, patients) = match settings.as_ref().map(|s| s.profile.as_str()) {
            Some("clinical-csv") if !manifest => {
                return Err(wrong_kind(
                    dir,
                    format!(
                        "its kamei-run.json says it is a clinical csv output, but it has no {}, which names the pseudonym and date columns: copy the whole output folder",
                        super::csv::MANIFEST_FILE
                    ),
                ));
            }
            Some("clinical-ss-mix2") => ("ss-mix2", scan_ssmix2(dir)?),
            _ if manifest => ("csv", scan_csv(dir)?),
            _ => ("ss-mix2", scan_ssmix2(dir)?),
        };
        if let Some(s) = settings.as_ref().filter(|s| !s.profile.starts_with("clinical-")) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is a {} output, not a clinical one (clinical csv, clinical ss-mix2)",
                    dir.display(),
                    s.profile
                ),
            ));
        }
        let key = settings.as_ref().and_then(|s| s.key_fingerprint.clone());
        if key.is_none() {
            unchecked.push(name.clone());
        }
        if image_key.is_some() && key.is_some() && key != image_key {
            key_mismatch.push(name.clone());
        }
        let shift = settings.as_ref().and_then(|s| s.date_shift.clone());
        if image_shift.is_some() && shift.is_some() && shift != image_shift {
            shift_mismatch.push(name.clone());
        }
        let dates = settings.as_ref().map(Dates::of);
        if matches!(
            (image_dates, dates),
            (Some(Dates::Real), Some(Dates::Shifted)) | (Some(Dates::Shifted), Some(Dates::Real))
        ) {
            real_beside_shifted.push(name.clone());
        }
        datasets.push(DataSetReport { name, kind, patients });
    }
    Ok(Report {
        images: image_patients,
        datasets,
        key_mismatch,
        shift_mismatch,
        real_beside_shifted,
        unchecked,
        images_unread,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn overlap_counts_shared_days() {
        let mut a = Range::default();
        a.add(d("2024-01-01"));
        a.add(d("2024-01-10"));
        let mut b = Range::default();
        b.add(d("2024-01-08"));
        b.add(d("2024-02-01"));
        assert_eq!(a.overlap_days(&b), Some(3));
        let mut c = Range::default();
        c.add(d("2024-03-01"));
        assert_eq!(a.overlap_days(&c), Some(0));
        assert_eq!(a.overlap_days(&Range::default()), None);
    }

    #[test]
    fn counts_split_patients_three_ways() {
        let p = |ids: &[&str]| ids.iter().map(|i| (i.to_string(), Range::default())).collect::<Patients>();
        let r = Report {
            images: p(&["A", "B", "C"]),
            datasets: vec![DataSetReport { name: "x".into(), kind: "csv", patients: p(&["B", "C", "D"]) }],
            key_mismatch: vec![],
            shift_mismatch: vec![],
            real_beside_shifted: vec![],
            unchecked: vec![],
            images_unread: None,
        };
        assert_eq!(r.counts(0), Counts { images_only: 1, clinical_only: 1, both: 2 });
    }
}
