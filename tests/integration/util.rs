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

    /// Parsed audit records of an output folder (all audit files): one per input, the move
    /// records left out (see [`Workdir::audit_moves`]).
    pub fn audit(&self, out: &str) -> Vec<serde_json::Value> {
        self.audit_lines(out).into_iter().filter(|l| l.get("outcome").is_some()).collect()
    }

    /// The move records of an output folder's audit files (`moved_from`, `moved_to`,
    /// `output_sha256`).
    pub fn audit_moves(&self, out: &str) -> Vec<serde_json::Value> {
        self.audit_lines(out).into_iter().filter(|l| l.get("moved_from").is_some()).collect()
    }

    /// Every line of an output folder's audit files, parsed.
    pub fn audit_lines(&self, out: &str) -> Vec<serde_json::Value> {
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
            DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1u16)),
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

/// Write a key file with fixed bytes (so tests are reproducible), private (mode 0600) as
/// `kamei keygen` writes it: a key others can read gives a warning on every run.
pub fn key(wd: &Workdir, name: &str, byte: u8) -> PathBuf {
    let p = wd.path(name);
    std::fs::write(&p, [byte; 32]).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

impl Workdir {
    /// Run `kamei deid in -o out` with a fixed key (`k.key`, byte 7) and `-q`, plus `extra`.
    pub fn deid(&self, extra: &[&str]) -> Run {
        let k = key(self, "k.key", 7);
        let mut args = vec!["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"];
        args.extend_from_slice(extra);
        self.kamei(args)
    }

    /// The one output DICOM file below `out` (fails unless there is exactly one).
    #[track_caller]
    pub fn only_output(&self, out: &str) -> PathBuf {
        let outs = self.dicom_outputs(out);
        assert_eq!(outs.len(), 1, "{outs:?}");
        outs[0].clone()
    }
}

/// Files larger than this are scanned for canaries in their first `SCAN_LIMIT` bytes and last
/// MiB only: the middle of such a file is pixel data, which the large-file test compares with the
/// input's by hash instead.
pub const SCAN_LIMIT: u64 = 64 << 20;

/// Where each canary appears: every file below `out` (bytes and relative name; the audit log
/// included), and the run's stderr and stdout. Empty when nothing leaked.
pub fn leaks(wd: &Workdir, out: &str, run: &Run, canaries: &[&str]) -> Vec<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut found = Vec::new();
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    for f in wd.files(out) {
        let name = f.to_string_lossy().into_owned();
        let path = wd.path(out).join(&f);
        let len = std::fs::metadata(&path).unwrap().len();
        let bytes = if len <= SCAN_LIMIT {
            std::fs::read(&path).unwrap()
        } else {
            let mut file = std::fs::File::open(&path).unwrap();
            let mut head = vec![0u8; SCAN_LIMIT as usize];
            file.read_exact(&mut head).unwrap();
            file.seek(SeekFrom::End(-(1 << 20))).unwrap();
            file.read_to_end(&mut head).unwrap();
            head
        };
        for c in canaries {
            if name.contains(c) {
                found.push(format!("{c:?} in the name {name}"));
            }
            if contains(&bytes, c.as_bytes()) {
                found.push(format!("{c:?} in the bytes of {name}"));
            }
        }
    }
    for (stream, bytes) in [("stderr", &run.output.stderr), ("stdout", &run.output.stdout)] {
        for c in canaries {
            if contains(bytes, c.as_bytes()) {
                found.push(format!("{c:?} on {stream}"));
            }
        }
    }
    found
}

/// Assert that no canary leaked (see [`leaks`]).
#[track_caller]
pub fn assert_no_leak(wd: &Workdir, out: &str, run: &Run, canaries: &[&str]) {
    let found = leaks(wd, out, run, canaries);
    assert!(found.is_empty(), "identifiers leaked:\n{}", found.join("\n"));
}

/// The canaries of [`Fixture::ct`] that every profile and option must remove: the patient's
/// name, ID, birth date and address, the accession number, study ID, the physicians' and
/// operator's names, and the source AE title of the file meta.
pub const CT_CANARIES: &[&str] = &[
    CANARY_NAME,
    CANARY_ID,
    "19700101",
    "CANARY TOWN",
    "CANARYACC1",
    "CANARYSTUDY",
    "CANARYDOC",
    "CANARYOPERATOR",
    "CANARYAE",
];

/// Code Values of the De-identification Method Code Sequence, in order.
pub fn method_codes(obj: &dicom_object::DefaultDicomObject) -> Vec<String> {
    obj.element(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
        .unwrap()
        .items()
        .unwrap()
        .iter()
        .map(|i| i.element(tags::CODE_VALUE).unwrap().to_str().unwrap().trim_end_matches(['\0', ' ']).to_string())
        .collect()
}

/// The items of a top-level sequence of an output.
pub fn items(obj: &dicom_object::DefaultDicomObject, tag: Tag) -> Vec<InMemDicomObject> {
    obj.element(tag).unwrap_or_else(|e| panic!("{tag}: {e}")).items().unwrap().to_vec()
}

/// The items of a sequence inside an item.
pub fn items_in(item: &InMemDicomObject, tag: Tag) -> Vec<InMemDicomObject> {
    item.element(tag).unwrap_or_else(|e| panic!("{tag}: {e}")).items().unwrap().to_vec()
}

/// The string value of an element of an item, or None if absent.
pub fn item_text(item: &InMemDicomObject, tag: Tag) -> Option<String> {
    item.element_opt(tag)
        .unwrap()
        .map(|e| e.to_str().map(|s| s.trim_end_matches(['\0', ' ']).to_string()).unwrap_or_default())
}

/// Parse a DA value.
pub fn date(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y%m%d").unwrap_or_else(|e| panic!("{s:?} is not a date: {e}"))
}

/// Raw bytes of an element inside the items of a top-level sequence, read with kamei's reader.
pub fn raw_in_item(path: &Path, seq: Tag, index: usize, tag: Tag) -> Option<Vec<u8>> {
    match kamei::read::open(path, &kamei::read::ReadOptions::default()).unwrap() {
        kamei::read::Opened::Dicom(f) => {
            let s = f.dataset.get(seq)?.value.sequence()?.items.get(index)?.dataset.bytes(tag)?.to_vec();
            Some(s)
        }
        _ => panic!("{} is not DICOM", path.display()),
    }
}

/// Hand-built encodings, for inputs dicom-object will not write (broken or unusual files).
pub mod bytes {
    /// An Explicit VR Little Endian element with a defined length.
    pub fn explicit_le(tag: (u16, u16), vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&tag.0.to_le_bytes());
        v.extend_from_slice(&tag.1.to_le_bytes());
        v.extend_from_slice(vr);
        let long = matches!(
            vr,
            b"OB" | b"OD" | b"OF" | b"OL" | b"OV" | b"OW" | b"SQ" | b"SV" | b"UC" | b"UN" | b"UR" | b"UT" | b"UV"
        );
        if long {
            v.extend_from_slice(&[0, 0]);
            v.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            v.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        v.extend_from_slice(value);
        v
    }

    /// An Implicit VR Little Endian element with a defined length.
    pub fn implicit_le(tag: (u16, u16), value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&tag.0.to_le_bytes());
        v.extend_from_slice(&tag.1.to_le_bytes());
        v.extend_from_slice(&(value.len() as u32).to_le_bytes());
        v.extend_from_slice(value);
        v
    }

    /// An item or delimiter tag with a length (always little endian here).
    pub fn item_tag(element: u16, len: u32) -> Vec<u8> {
        let mut v = vec![0xFE, 0xFF];
        v.extend_from_slice(&element.to_le_bytes());
        v.extend_from_slice(&len.to_le_bytes());
        v
    }

    /// A value padded to even length with `pad`.
    pub fn even(value: &str, pad: u8) -> Vec<u8> {
        let mut v = value.as_bytes().to_vec();
        if v.len() % 2 == 1 {
            v.push(pad);
        }
        v
    }

    /// A minimal Image Pixel module (2×2, 16 bits) and its Pixel Data, elements of groups 0028
    /// and 7FE0 in tag order: appended to a hand-built image, which kamei otherwise refuses as
    /// cut before its pixels.
    pub fn pixel_module() -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(explicit_le((0x0028, 0x0002), b"US", &1u16.to_le_bytes()));
        v.extend(explicit_le((0x0028, 0x0004), b"CS", b"MONOCHROME2 "));
        v.extend(explicit_le((0x0028, 0x0010), b"US", &2u16.to_le_bytes()));
        v.extend(explicit_le((0x0028, 0x0011), b"US", &2u16.to_le_bytes()));
        v.extend(explicit_le((0x0028, 0x0100), b"US", &16u16.to_le_bytes()));
        v.extend(explicit_le((0x0028, 0x0101), b"US", &12u16.to_le_bytes()));
        v.extend(explicit_le((0x0028, 0x0102), b"US", &11u16.to_le_bytes()));
        v.extend(explicit_le((0x0028, 0x0103), b"US", &0u16.to_le_bytes()));
        v.extend(explicit_le((0x7FE0, 0x0010), b"OW", &[1, 0, 2, 0, 3, 0, 4, 0]));
        v
    }

    /// A Part 10 file: zero preamble, `DICM`, a file meta group, then `body` as given.
    pub fn part10(ts: &str, sop_class: &str, sop: &str, body: &[u8]) -> Vec<u8> {
        let mut meta = Vec::new();
        meta.extend(explicit_le((0x0002, 0x0001), b"OB", &[0, 1]));
        meta.extend(explicit_le((0x0002, 0x0002), b"UI", &even(sop_class, 0)));
        meta.extend(explicit_le((0x0002, 0x0003), b"UI", &even(sop, 0)));
        meta.extend(explicit_le((0x0002, 0x0010), b"UI", &even(ts, 0)));
        meta.extend(explicit_le((0x0002, 0x0012), b"UI", &even("1.2.826.0.1.3680043.8.498.1", 0)));
        let mut f = vec![0u8; 128];
        f.extend_from_slice(b"DICM");
        f.extend(explicit_le((0x0002, 0x0000), b"UL", &(meta.len() as u32).to_le_bytes()));
        f.extend(meta);
        f.extend_from_slice(body);
        f
    }

    /// A hand-built instance (explicit VR LE): SOP Class and Instance UID, Patient's Name and
    /// ID (canaries), then `middle` (elements of groups 0011 to 001F, in tag order), Study and
    /// Series Instance UID, then `tail` (elements of groups above 0020, in tag order).
    pub fn instance(sop_class: &str, sop: &str, middle: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(explicit_le((0x0008, 0x0016), b"UI", &even(sop_class, 0)));
        v.extend(explicit_le((0x0008, 0x0018), b"UI", &even(sop, 0)));
        v.extend(explicit_le((0x0010, 0x0010), b"PN", &even(super::CANARY_NAME, b' ')));
        v.extend(explicit_le((0x0010, 0x0020), b"LO", &even(super::CANARY_ID, b' ')));
        v.extend_from_slice(middle);
        v.extend(explicit_le((0x0020, 0x000D), b"UI", &even("1.2.826.0.1.3680043.8.498.5", 0)));
        v.extend(explicit_le((0x0020, 0x000E), b"UI", &even("1.2.826.0.1.3680043.8.498.5.1", 0)));
        v.extend_from_slice(tail);
        v
    }
}

/// The pseudonymizer a run with `key(wd, _, byte)` uses (default date shift policy), to compute
/// expected UIDs, tokens and shifts.
pub fn pseudonymizer(byte: u8) -> kamei::pseudo::Pseudonymizer {
    kamei::pseudo::Pseudonymizer::new(
        &kamei::pseudo::PseudonymKey::from_bytes([byte; 32]),
        kamei::profile::DateShiftPolicy::default(),
    )
}

/// Every file below `rel` with its bytes, by relative path.
pub fn tree(wd: &Workdir, rel: &str) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    wd.files(rel).into_iter().map(|f| (f.clone(), std::fs::read(wd.path(rel).join(&f)).unwrap())).collect()
}

/// Assert two trees hold the same files with the same bytes (names the first difference).
#[track_caller]
pub fn assert_same_tree(wd: &Workdir, a: &str, b: &str) {
    let (ta, tb) = (tree(wd, a), tree(wd, b));
    let names_a: Vec<&PathBuf> = ta.keys().collect();
    let names_b: Vec<&PathBuf> = tb.keys().collect();
    assert_eq!(names_a, names_b, "{a} and {b} hold different files");
    for (name, bytes) in &ta {
        assert!(bytes == &tb[name], "{} differs between {a} and {b}", name.display());
    }
}

/// `n` small CT files of `n / 10` patients below `wd/in`, each with its own SOP Instance UID.
pub fn write_small_archive(wd: &Workdir, n: u32) {
    for i in 0..n {
        let p = i % (n / 10).max(1);
        let study = format!("1.2.826.0.1.3680043.8.498.10.{p}");
        let series = format!("{study}.1");
        Fixture::ct(&format!("{CANARY_ID}{p}"), &study, &series, &format!("{series}.{i}"))
            .write(&wd.path(&format!("in/p{p}/{i:04}.dcm")));
    }
}

/// What one measured run of kamei cost ([`measured`]).
pub struct Cost {
    /// The run (exit status, stdout, stderr).
    pub run: Run,
    /// User + system CPU seconds of the kamei process (wall seconds without GNU time, which is
    /// never less for `-j 1`).
    pub cpu: f64,
    /// Peak resident memory in KiB.
    pub peak_kib: u64,
}

/// Run kamei in `wd` with `args`, measuring that process alone: under GNU time
/// (`/usr/bin/time -f '%U %S %M'`) when it is installed and works, which forks from its own
/// small process: a wait4(2) here would not do, because Linux counts in a child's maximum RSS
/// the high-water mark of the address space it replaced at exec, which for a child spawned
/// from this test binary is the test binary's own peak (1.2 GB was seen while the corpus tests
/// ran alongside). Without GNU time,
/// /proc/PID/status VmHWM (the high-water mark of kamei's own address space) is polled until
/// kamei exits: the last reading, a lower bound that misses only the last milliseconds (0
/// outside Linux), and the CPU is the wall time.
pub fn measured(wd: &Workdir, args: &[&str]) -> Cost {
    use std::io::Read;
    let time = Path::new("/usr/bin/time");
    let report = wd.path("time.txt");
    let gnu_time =
        time.is_file() && Command::new(time).args(["-f", "%U", "true"]).output().is_ok_and(|o| o.status.success());
    let mut cmd = if gnu_time {
        let mut c = Command::new(time);
        c.args(["-f", "%U %S %M", "-o"]).arg(&report).arg(env!("CARGO_BIN_EXE_kamei"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_kamei"))
    };
    let started = std::time::Instant::now();
    let mut child = cmd
        .args(args)
        .current_dir(&wd.root)
        .env_remove("KAMEI_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes beside the polling, so a chatty run never blocks on a full pipe.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            r.read_to_end(&mut v).unwrap();
            v
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let mut peak_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if !gnu_time {
            let s = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
            let hwm = s.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().split(' ').next());
            peak_kib = peak_kib.max(hwm.and_then(|v| v.parse().ok()).unwrap_or(0));
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let wall = started.elapsed().as_secs_f64();
    let output = Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
    let run = Run { output };
    if !gnu_time {
        return Cost { run, cpu: wall, peak_kib };
    }
    let text = std::fs::read_to_string(&report).unwrap();
    let fields: Vec<&str> = text.lines().last().unwrap_or_default().split_whitespace().collect();
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or_else(|| panic!("{text:?}"));
    Cost { run, cpu: number(0) + number(1), peak_kib: number(2) as u64 }
}
