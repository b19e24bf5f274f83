//! Test helpers: a fresh working folder per test, running the real `kamei` binary, and DICOM
//! fixtures built in code with dicom-object (an implementation independent of kamei's writer).

#![allow(dead_code)]

use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Markers that the basic profile must remove; no output byte, audit line or message may
/// contain them.
pub const CANARY_NAME: &str = "CANARY^PATIENT";
/// A canary patient ID.
pub const CANARY_ID: &str = "CANARYID001";

/// A fresh folder under target/, named after the test.
pub struct Workdir {
    pub root: PathBuf,
}

impl Workdir {
    pub fn new(name: &str) -> Workdir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("it").join(format!("{name}-{n}"));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Workdir { root }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Run kamei with these arguments in the work folder.
    pub fn kamei<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let output = Command::new(env!("CARGO_BIN_EXE_kamei"))
            .args(args)
            .current_dir(&self.root)
            .env_remove("KAMEI_LOG")
            .output()
            .expect("kamei runs");
        Run { output }
    }

    /// Every regular file below `rel`, as paths relative to it, sorted.
    pub fn files(&self, rel: &str) -> Vec<PathBuf> {
        let base = self.path(rel);
        let mut v: Vec<PathBuf> = walkdir::WalkDir::new(&base)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(|e| e.path().strip_prefix(&base).unwrap().to_path_buf())
            .collect();
        v.sort();
        v
    }

    /// The output DICOM files (everything ending in .dcm) below `rel`.
    pub fn dicom_outputs(&self, rel: &str) -> Vec<PathBuf> {
        self.files(rel)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
            .map(|p| self.path(rel).join(p))
            .collect()
    }

    /// Whether any file below `rel` contains `needle` (bytes), or any file name does.
    pub fn tree_contains(&self, rel: &str, needle: &[u8]) -> Option<PathBuf> {
        for f in self.files(rel) {
            if f.to_string_lossy().as_bytes().windows(needle.len()).any(|w| w == needle) {
                return Some(f);
            }
            let bytes = std::fs::read(self.path(rel).join(&f)).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                return Some(f);
            }
        }
        None
    }

    /// Parsed audit records of an output folder (all audit files).
    pub fn audit(&self, out: &str) -> Vec<serde_json::Value> {
        let mut v = Vec::new();
        for f in self.files(out) {
            let name = f.to_string_lossy().into_owned();
            if name.starts_with("kamei-audit") && name.ends_with(".jsonl") {
                let text = std::fs::read_to_string(self.path(out).join(&f)).unwrap();
                for line in text.lines() {
                    v.push(serde_json::from_str(line).expect("audit line is JSON"));
                }
            }
        }
        v
    }
}

/// The result of running kamei.
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Assert the exit code, printing stderr when it differs.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(self.code(), code, "exit code; stderr:\n{}\nstdout:\n{}", self.stderr(), self.stdout());
        self
    }
}

/// A DICOM fixture under construction.
pub struct Fixture {
    pub obj: InMemDicomObject,
    pub ts: String,
}

pub fn str_el(tag: Tag, vr: VR, v: &str) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, PrimitiveValue::from(v))
}

pub fn raw_el(tag: Tag, vr: VR, v: &[u8]) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, PrimitiveValue::U8(v.iter().copied().collect()))
}

pub fn seq_el(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

pub fn item(elements: Vec<DataElement<InMemDicomObject>>) -> InMemDicomObject {
    InMemDicomObject::from_element_iter(elements)
}

impl Fixture {
    /// A small CT image with the usual identifying attributes, each holding a canary value.
    pub fn ct(patient_id: &str, study: &str, series: &str, sop: &str) -> Fixture {
        let pixels: Vec<u16> = (0..64).collect();
        let obj = InMemDicomObject::from_element_iter([
            str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 100"),
            str_el(tags::IMAGE_TYPE, VR::CS, "ORIGINAL\\PRIMARY\\AXIAL"),
            str_el(tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
            str_el(tags::SOP_INSTANCE_UID, VR::UI, sop),
            str_el(tags::STUDY_DATE, VR::DA, "20240201"),
            str_el(tags::SERIES_DATE, VR::DA, "20240201"),
            str_el(tags::CONTENT_DATE, VR::DA, "20240201"),
            str_el(tags::STUDY_TIME, VR::TM, "101500"),
            str_el(tags::ACCESSION_NUMBER, VR::SH, "CANARYACC1"),
            str_el(tags::MODALITY, VR::CS, "CT"),
            str_el(tags::MANUFACTURER, VR::LO, "ACME"),
            str_el(tags::INSTITUTION_NAME, VR::LO, "CANARY HOSPITAL"),
            str_el(tags::INSTITUTION_ADDRESS, VR::ST, "1 CANARY STREET"),
            str_el(tags::REFERRING_PHYSICIAN_NAME, VR::PN, "CANARYDOC^REFERRER"),
            str_el(tags::STATION_NAME, VR::SH, "CANARYSTATION"),
            str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT CHEST"),
            str_el(tags::SERIES_DESCRIPTION, VR::LO, "AXIAL 5MM"),
            str_el(tags::OPERATORS_NAME, VR::PN, "CANARYOPERATOR"),
            str_el(tags::PATIENT_NAME, VR::PN, CANARY_NAME),
            str_el(tags::PATIENT_ID, VR::LO, patient_id),
            str_el(tags::PATIENT_BIRTH_DATE, VR::DA, "19700101"),
            str_el(tags::PATIENT_SEX, VR::CS, "F"),
            str_el(tags::PATIENT_AGE, VR::AS, "054Y"),
            str_el(tags::PATIENT_ADDRESS, VR::LO, "CANARY TOWN"),
            str_el(tags::DEVICE_SERIAL_NUMBER, VR::LO, "CANARYSERIAL"),
            str_el(tags::STUDY_INSTANCE_UID, VR::UI, study),
            str_el(tags::SERIES_INSTANCE_UID, VR::UI, series),
            str_el(tags::STUDY_ID, VR::SH, "CANARYSTUDY"),
            str_el(tags::SERIES_NUMBER, VR::IS, "1"),
            str_el(tags::INSTANCE_NUMBER, VR::IS, "1"),
            str_el(tags::FRAME_OF_REFERENCE_UID, VR::UI, &format!("{study}.9")),
            str_el(tags::SAMPLES_PER_PIXEL, VR::US, "1"),
            str_el(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
            DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(8u16)),
            DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(8u16)),
            DataElement::new(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(16u16)),
            DataElement::new(tags::BITS_STORED, VR::US, PrimitiveValue::from(12u16)),
            DataElement::new(tags::HIGH_BIT, VR::US, PrimitiveValue::from(11u16)),
            DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, PrimitiveValue::from(0u16)),
            DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(pixels.into_iter().collect())),
        ]);
        Fixture { obj, ts: "1.2.840.10008.1.2.1".to_string() }
    }

    pub fn put(mut self, e: DataElement<InMemDicomObject>) -> Fixture {
        self.obj.put(e);
        self
    }

    pub fn remove(mut self, tag: Tag) -> Fixture {
        self.obj.remove_element(tag);
        self
    }

    pub fn ts(mut self, uid: &str) -> Fixture {
        self.ts = uid.to_string();
        self
    }

    /// Write as a Part 10 file (creating parent folders).
    pub fn write(&self, path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let sop_class = self.obj.element(tags::SOP_CLASS_UID).unwrap().to_str().unwrap().to_string();
        let sop = self.obj.element(tags::SOP_INSTANCE_UID).unwrap().to_str().unwrap().to_string();
        let meta = FileMetaTableBuilder::new()
            .media_storage_sop_class_uid(sop_class)
            .media_storage_sop_instance_uid(sop)
            .transfer_syntax(self.ts.as_str())
            .source_application_entity_title("CANARYAE")
            .build()
            .unwrap();
        self.obj.clone().with_exact_meta(meta).write_to_file(path).unwrap();
    }
}

/// Open an output with dicom-object (the independent reader).
pub fn open(path: &Path) -> dicom_object::DefaultDicomObject {
    dicom_object::open_file(path).unwrap_or_else(|e| panic!("{} does not open: {e}", path.display()))
}

/// The string value of an element, or None if absent.
pub fn text(obj: &dicom_object::DefaultDicomObject, tag: Tag) -> Option<String> {
    obj.element_opt(tag)
        .unwrap()
        .map(|e| e.to_str().map(|s| s.trim_end_matches(['\0', ' ']).to_string()).unwrap_or_default())
}

/// Raw bytes of a top-level element, read with kamei's own reader (for byte-exact checks).
pub fn raw(path: &Path, tag: Tag) -> Option<Vec<u8>> {
    match kamei::read::open(path, &kamei::read::ReadOptions::default()).unwrap() {
        kamei::read::Opened::Dicom(f) => f.dataset.bytes(tag).map(<[u8]>::to_vec),
        _ => panic!("{} is not DICOM", path.display()),
    }
}

/// Write a key file with fixed bytes (so tests are reproducible).
pub fn key(wd: &Workdir, name: &str, byte: u8) -> PathBuf {
    let p = wd.path(name);
    std::fs::write(&p, [byte; 32]).unwrap();
    p
}
