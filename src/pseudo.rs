//! Keyed pseudonyms: the one place where identifiers become replacement values.
//!
//! Everything kamei derives from an original value (patient pseudonyms, UIDs, per-patient date
//! shifts, tokens for other values) is an HMAC-SHA256 of that value under one secret key, so the
//! same key gives the same result on every machine, in every run and for every data type (DICOM
//! today, CSV and SS-MIX2 through the same [`Pseudonymizer`]). Without a key a run uses a random
//! one that lives only in memory (anonymized mode): results are consistent inside the run and
//! cannot be linked afterwards.
//!
//! Each kind of value is hashed under its own domain label, so a UID and a patient ID with the
//! same text never collide. The key never leaves this module: not in `Debug`, not in errors.

use crate::profile::DateShiftPolicy;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use snafu::{ResultExt, Snafu};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

type HmacSha256 = Hmac<Sha256>;

/// Length of a key kamei generates, in bytes.
pub const KEY_LEN: usize = 32;

/// The most of a key file that is read: a key is 32 raw bytes or 64 hex digits with some white
/// space around them; a longer file is not a key (it is reported as such, by its length).
pub const MAX_KEY_FILE: u64 = 4096;

/// Errors about keys.
#[derive(Debug, Snafu)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read.
    #[snafu(display("could not read the key file {}", path.display()))]
    ReadKey {
        /// The key path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key path names something other than a regular file (a device, a FIFO, a folder).
    #[snafu(display(
        "the key path {} is not a regular file; give the file `kamei keygen -o FILE` wrote",
        path.display()
    ))]
    NotAFile {
        /// The key path.
        path: PathBuf,
    },
    /// The key file does not hold a usable key.
    #[snafu(display(
        "the key file {} holds {len} bytes; expected {KEY_LEN} raw bytes or {} hex digits (make one with `kamei keygen -o FILE`)",
        path.display(),
        KEY_LEN * 2
    ))]
    BadKey {
        /// The key path.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
    },
    /// The key is all zero bytes: a placeholder, never a secret (anyone could recompute every
    /// pseudonym from the Patient IDs).
    #[snafu(display(
        "the key file {} holds a key of all zero bytes, which is no secret; make a key with `kamei keygen -o FILE`",
        path.display()
    ))]
    ZeroKey {
        /// The key path.
        path: PathBuf,
    },
    /// A key file already exists where a new one was to be written.
    #[snafu(display("{} already exists; kamei never overwrites a key (losing it breaks every linkage made with it)", path.display()))]
    KeyExists {
        /// The path.
        path: PathBuf,
    },
    /// Writing a new key failed.
    #[snafu(display("could not write the key file {}", path.display()))]
    WriteKey {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A secret key for keyed pseudonyms. Its bytes are never printed.
#[derive(Clone)]
pub struct PseudonymKey {
    bytes: [u8; KEY_LEN],
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(<secret>)")
    }
}

impl PseudonymKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> PseudonymKey {
        let mut bytes = [0u8; KEY_LEN];
        rand::fill(&mut bytes);
        PseudonymKey { bytes }
    }

    /// A key from 32 bytes (tests, or a key held elsewhere).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> PseudonymKey {
        PseudonymKey { bytes }
    }

    /// Read a key file: 32 raw bytes (as `kamei keygen` writes), or 64 hex digits with optional
    /// surrounding white space (as `openssl rand -hex 32` writes).
    ///
    /// # Errors
    /// [`KeyError::ReadKey`], [`KeyError::BadKey`] if the content is neither form, or
    /// [`KeyError::ZeroKey`] if the key is all zero bytes.
    pub fn read(path: &Path) -> Result<PseudonymKey, KeyError> {
        // A device or a FIFO named by mistake (`/dev/zero`, a pipe nobody writes) would be read
        // without end or wait forever: only a regular file is read, and only its first bytes.
        let meta = std::fs::metadata(path).context(ReadKeySnafu { path })?;
        if !meta.is_file() {
            return NotAFileSnafu { path }.fail();
        }
        let mut raw = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_KEY_FILE + 1).read_to_end(&mut raw))
            .context(ReadKeySnafu { path })?;
        match PseudonymKey::parse(&raw) {
            Some(key) if key.bytes == [0u8; KEY_LEN] => ZeroKeySnafu { path }.fail(),
            Some(key) => Ok(key),
            None => BadKeySnafu { path, len: usize::try_from(meta.len()).unwrap_or(usize::MAX) }.fail(),
        }
    }

    /// The permission bits of the key file at `path` when its group or others have any access
    /// to it (`mode & 0o077`, as ssh checks a private key): a key copied with `cp` into a shared
    /// folder keeps mode 0644, and anyone who reads it can recompute every pseudonym, UID and
    /// date shift made with it. `None` for a private file, one that cannot be read, and off Unix.
    pub fn open_to_others(path: &Path) -> Option<u32> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
            (mode & 0o077 != 0).then_some(mode)
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }

    /// The key a key file's bytes hold: 32 raw bytes, or 64 hex digits with optional
    /// surrounding white space ([`PseudonymKey::read`]); None for anything else. (An all-zero
    /// key is returned: [`PseudonymKey::read`] refuses it.)
    pub fn parse(raw: &[u8]) -> Option<PseudonymKey> {
        let mut bytes = [0u8; KEY_LEN];
        if raw.len() == KEY_LEN {
            bytes.copy_from_slice(raw);
        } else if hex::decode_to_slice(String::from_utf8_lossy(raw).trim(), &mut bytes).is_err() {
            return None;
        }
        Some(PseudonymKey { bytes })
    }

    /// The key's fingerprint ([`Pseudonymizer::key_fingerprint`]): tells keys apart without
    /// revealing them.
    pub fn fingerprint(&self) -> String {
        Pseudonymizer::new(self, DateShiftPolicy::default()).key_fingerprint().to_string()
    }

    /// Write a new random key to `path` with mode 0600, refusing to replace an existing file.
    ///
    /// # Errors
    /// [`KeyError::KeyExists`] if `path` exists; [`KeyError::WriteKey`] on I/O errors.
    pub fn write_new(path: &Path) -> Result<PseudonymKey, KeyError> {
        let key = PseudonymKey::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = match options.open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return KeyExistsSnafu { path }.fail(),
            Err(e) => return Err(e).context(WriteKeySnafu { path }),
        };
        file.write_all(&key.bytes).context(WriteKeySnafu { path })?;
        file.sync_all().context(WriteKeySnafu { path })?;
        Ok(key)
    }
}

/// Who a patient is, for pseudonyms and date shifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patient<'a> {
    /// The original Patient ID (compared after trimming and Unicode NFKC normalisation, so
    /// `" 123 "`, `"123"` and full-width `"１２３"` are one patient).
    Id(&'a str),
    /// No Patient ID: the study stands in for the patient, so unrelated studies without an ID
    /// are not merged into one pseudonymous patient.
    Unidentified {
        /// The original Study Instance UID.
        study_uid: &'a str,
    },
}

/// Derives every replacement value from one key. Cheap to share across threads (`Sync`).
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: HmacSha256,
    fingerprint: String,
    date_shift: DateShiftPolicy,
    keyed: bool,
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("fingerprint", &self.fingerprint)
            .field("date_shift", &self.date_shift)
            .field("keyed", &self.keyed)
            .finish()
    }
}

/// Length of a patient pseudonym in hex digits (80 bits).
pub const PSEUDONYM_HEX_LEN: usize = 20;

impl Pseudonymizer {
    /// Pseudonymized mode: results are reproducible with `key`.
    pub fn new(key: &PseudonymKey, date_shift: DateShiftPolicy) -> Pseudonymizer {
        Pseudonymizer::build(key, date_shift, true)
    }

    /// Anonymized mode: a random key that exists only in this value.
    pub fn anonymizing(date_shift: DateShiftPolicy) -> Pseudonymizer {
        Pseudonymizer::build(&PseudonymKey::generate(), date_shift, false)
    }

    fn build(key: &PseudonymKey, date_shift: DateShiftPolicy, keyed: bool) -> Pseudonymizer {
        let mac = HmacSha256::new_from_slice(&key.bytes).expect("HMAC accepts keys of any length");
        let mut p = Pseudonymizer { mac, fingerprint: String::new(), date_shift, keyed };
        p.fingerprint = hex::encode(&p.digest("key-fingerprint", b"")[..8]);
        p
    }

    /// Whether results are reproducible (a key was given) rather than anonymized.
    pub fn is_keyed(&self) -> bool {
        self.keyed
    }

    /// A short digest that identifies the key without revealing it (recorded in the audit so a
    /// later run can tell whether it uses the same key).
    pub fn key_fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The date shift policy in effect.
    pub fn date_shift_policy(&self) -> DateShiftPolicy {
        self.date_shift
    }

    fn digest(&self, domain: &str, value: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(b"kamei/v1/");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().into()
    }

    fn patient_digest(&self, domain: &str, patient: Patient<'_>) -> [u8; 32] {
        match patient {
            Patient::Id(id) => self.digest(domain, normalize_id(id).as_bytes()),
            Patient::Unidentified { study_uid } => {
                let d = format!("{domain}/unidentified");
                self.digest(&d, trim_uid(study_uid).as_bytes())
            }
        }
    }

    /// The patient's pseudonym: 20 upper-case hex digits (80 bits), valid as LO, PN and a
    /// folder name. Used for Patient ID, Patient's Name and the output layout, and by the
    /// clinical data commands for the same patient.
    pub fn patient_pseudonym(&self, patient: Patient<'_>) -> String {
        let d = self.patient_digest("patient-id", patient);
        hex::encode_upper(&d[..PSEUDONYM_HEX_LEN / 2])
    }

    /// The patient's date shift in days: negative (into the past), between 1 and
    /// `max_days` days, a whole number of weeks when `keep_weekday` is set.
    pub fn date_shift_days(&self, patient: Patient<'_>) -> i64 {
        let d = self.patient_digest("date-shift", patient);
        let n = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
        let max = u64::from(self.date_shift.max_days.max(1));
        if self.date_shift.keep_weekday {
            let weeks = (max / 7).max(1);
            -7 * (1 + (n % weeks) as i64)
        } else {
            -(1 + (n % max) as i64)
        }
    }

    /// The replacement for a UID: `2.25.` followed by the decimal value of 128 bits of the HMAC
    /// of the original (PS3.5 Annex B.2), so references across files and runs stay consistent.
    pub fn uid(&self, original: &str) -> String {
        let d = self.digest("uid", trim_uid(original).as_bytes());
        let n = u128::from_be_bytes(d[..16].try_into().expect("16 bytes"));
        format!("2.25.{n}")
    }

    /// A keyed token for any other value (AE titles, user `pseudonymize` overrides):
    /// upper-case hex, `len` digits (at most 64).
    pub fn token(&self, domain: &str, value: &[u8], len: usize) -> String {
        let d = self.digest(&format!("token/{domain}"), value);
        let mut s = hex::encode_upper(d);
        s.truncate(len.min(64));
        s
    }
}

/// Whether `c` is a format character that shows as nothing (Unicode category Cf): soft hyphen
/// (U+00AD, Word's optional hyphen; the byte 0xAD in ISO_IR 100), Arabic letter mark (U+061C),
/// Mongolian vowel separator (U+180E), zero-width space (U+200B), non-joiner and joiner (U+200C,
/// U+200D), the directional marks, embeddings and isolates (U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069), word joiner and the invisible operators (U+2060–U+2064), the deprecated
/// format characters (U+206A–U+206F), byte order mark / zero-width no-break space (U+FEFF).
/// Copied from a web-based record screen or a word processor, one sticks to an ID or a name;
/// every place that reads a patient ID drops them, so `1234567\u{200B}` and `1234567` are one
/// patient for the pseudonym, the opt-out register, and the search of text by Clean, the
/// safety net ([`crate::scrub`]) and `kamei verify`, which compare text without them.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
    )
}

/// `s` without its [`is_invisible`] characters.
pub fn without_invisible(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(is_invisible) {
        s.chars().filter(|&c| !is_invisible(c)).collect::<String>().into()
    } else {
        s.into()
    }
}

/// Patient IDs are compared after trimming and NFKC normalisation. A value in HL7 CX form
/// (`0012345678^^^HOSPA^MR`, as an interface engine copies PID-3 into the DICOM Patient ID) is
/// its ID part (`0012345678`, [`crate::ids::cx_id_part`]), each value of a multi-valued one
/// alike: it is the same patient as the clinical records keyed on `0012345678`, and the one an
/// opt-out register lists.
pub fn normalize_id(id: &str) -> String {
    // Invisible characters (zero-width space and joiners, word joiner, a byte order mark pasted
    // mid-file) are dropped: `123\u{200B}4` and `1234` must be one patient, or an opt-out would
    // be missed.
    let normalized = id
        .trim_matches(|c: char| c == ' ' || c == '\0')
        .nfkc()
        .filter(|&c| !is_invisible(c))
        .map(plain_dash)
        .collect::<String>()
        .trim()
        .to_string();
    if !normalized.contains('^') {
        return normalized;
    }
    let values: Vec<&str> = normalized.split('\\').map(|v| crate::ids::cx_id_part(v).unwrap_or(v)).collect();
    values.join("\\")
}

/// A dash NFKC keeps apart from `-` (and the JIS wave dash apart from `~`) as `-` (`~`): the
/// JIS X 0208 hyphen/minus read through the JIS table is U+2212, through CP932 or UTF-8 U+FF0D
/// (NFKC `-`), so `２０２４－０００１２３` would be two patients by the encoding that carried it.
fn plain_dash(c: char) -> char {
    match c {
        '\u{2010}'..='\u{2015}' | '\u{2043}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
        '\u{301C}' => '~',
        _ => c,
    }
}

fn trim_uid(uid: &str) -> &str {
    uid.trim_matches(|c: char| c == ' ' || c == '\0')
}

#[cfg(test)]
mod tests {

    #[test]
    fn invisible_characters_do_not_make_another_patient() {
        assert_eq!(normalize_id("1234\u{200B}567"), "1234567");
        assert_eq!(normalize_id("\u{FEFF}1234567"), "1234567");
    }

    use super::*;

    #[test]
    fn rv26_03_a_dash_is_one_patient_whichever_encoding_carried_it() {
        // The JIS X 0208 hyphen/minus (row 1 cell 61) is U+2212 through the JIS table, U+FF0D
        // through CP932 and UTF-8; the JIS wave dash is U+301C, CP932's U+FF5E.
        for id in ["2024\u{2212}000123", "２０２４－０００１２３", "2024\u{2010}000123", "2024\u{2015}000123"]
        {
            assert_eq!(normalize_id(id), "2024-000123", "{id:?}");
        }
        assert_eq!(normalize_id("A\u{301C}1"), normalize_id("A\u{FF5E}1"));
    }

    fn p() -> Pseudonymizer {
        Pseudonymizer::new(&PseudonymKey::from_bytes([7u8; 32]), DateShiftPolicy::default())
    }

    #[test]
    fn same_key_same_pseudonym() {
        let a = p().patient_pseudonym(Patient::Id("12345"));
        let b = p().patient_pseudonym(Patient::Id("12345"));
        assert_eq!(a, b);
        assert_eq!(a.len(), PSEUDONYM_HEX_LEN);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    }

    #[test]
    fn other_key_other_pseudonym() {
        let other = Pseudonymizer::new(&PseudonymKey::from_bytes([8u8; 32]), DateShiftPolicy::default());
        assert_ne!(p().patient_pseudonym(Patient::Id("12345")), other.patient_pseudonym(Patient::Id("12345")));
    }

    #[test]
    fn patient_id_is_trimmed_and_width_normalised() {
        let q = p();
        let base = q.patient_pseudonym(Patient::Id("12345"));
        assert_eq!(q.patient_pseudonym(Patient::Id(" 12345 ")), base);
        assert_eq!(q.patient_pseudonym(Patient::Id("１２３４５")), base);
        assert_ne!(q.patient_pseudonym(Patient::Id("12346")), base);
    }

    #[test]
    fn uid_is_a_valid_2_25_uid_and_stable() {
        let q = p();
        let u = q.uid("1.2.840.113619.2.55.3\0");
        assert_eq!(u, q.uid("1.2.840.113619.2.55.3"));
        assert!(u.starts_with("2.25."));
        assert!(u.len() <= 64);
        let digits = &u[5..];
        assert!(digits.chars().all(|c| c.is_ascii_digit()));
        assert!(!digits.starts_with('0'));
    }

    #[test]
    fn uid_and_patient_id_domains_are_separate() {
        let q = p();
        assert_ne!(q.token("uid", b"1.2.3", 20), q.patient_pseudonym(Patient::Id("1.2.3")));
    }

    #[test]
    fn date_shift_is_within_the_policy() {
        let q = p();
        for i in 0..200 {
            let d = q.date_shift_days(Patient::Id(&i.to_string()));
            assert!((-365..=-1).contains(&d), "{d}");
        }
        let weekly = Pseudonymizer::new(
            &PseudonymKey::from_bytes([7u8; 32]),
            DateShiftPolicy { max_days: 180, keep_weekday: true },
        );
        for i in 0..200 {
            let d = weekly.date_shift_days(Patient::Id(&i.to_string()));
            assert_eq!(d % 7, 0);
            assert!((-180..=-7).contains(&d), "{d}");
        }
    }

    #[test]
    fn unidentified_patients_are_told_apart_by_study() {
        let q = p();
        let a = q.patient_pseudonym(Patient::Unidentified { study_uid: "1.2.3" });
        let b = q.patient_pseudonym(Patient::Unidentified { study_uid: "1.2.4" });
        assert_ne!(a, b);
        assert_ne!(a, q.patient_pseudonym(Patient::Id("1.2.3")));
    }

    #[test]
    fn anonymizing_keys_differ_per_instance() {
        let a = Pseudonymizer::anonymizing(DateShiftPolicy::default());
        let b = Pseudonymizer::anonymizing(DateShiftPolicy::default());
        assert_ne!(a.patient_pseudonym(Patient::Id("1")), b.patient_pseudonym(Patient::Id("1")));
        assert!(!a.is_keyed());
    }

    #[test]
    fn key_file_round_trip_and_no_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = PseudonymKey::write_new(&path).unwrap();
        let back = PseudonymKey::read(&path).unwrap();
        assert_eq!(key.bytes, back.bytes);
        assert!(matches!(PseudonymKey::write_new(&path), Err(KeyError::KeyExists { .. })));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn hex_key_files_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.hex");
        std::fs::write(&path, format!("{}\n", "ab".repeat(32))).unwrap();
        assert_eq!(PseudonymKey::read(&path).unwrap().bytes, [0xAB; 32]);
        std::fs::write(&path, "short").unwrap();
        let err = PseudonymKey::read(&path).unwrap_err().to_string();
        assert!(err.contains("kamei keygen"), "{err}");
    }

    #[test]
    fn a_key_path_that_is_a_device_is_refused_without_reading_it() {
        // `/dev/zero` would be read without end (the whole memory, then a crash).
        let err = PseudonymKey::read(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(err, KeyError::NotAFile { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_path_that_is_a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("k.fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
        if !made {
            crate::say!("mkfifo is not available: skipped");
            return;
        }
        let err = PseudonymKey::read(&fifo).unwrap_err();
        assert!(matches!(err, KeyError::NotAFile { .. }), "{err}");
    }

    #[test]
    fn a_large_file_given_as_the_key_is_refused_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.dcm");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let err = PseudonymKey::read(&path).unwrap_err();
        assert!(matches!(err, KeyError::BadKey { len: 1_048_576, .. }), "{err}");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = PseudonymKey::from_bytes([0x41; 32]);
        assert!(!format!("{key:?}").contains("41"));
        assert!(!format!("{:?}", Pseudonymizer::new(&key, DateShiftPolicy::default())).contains("AAAA"));
    }
}
