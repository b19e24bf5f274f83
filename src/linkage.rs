//! The re-identification (linkage) table: original Patient ID → pseudonym, input path → output
//! path, and the paths of inputs that failed or were skipped.
//!
//! It is the most sensitive file kamei writes (PS3.15's "re-identification information";
//! 削除情報等 under Japan's rules): written only where the user asks, never inside the output
//! folder (checked by the CLI), created with mode 0600, and only in pseudonymized mode.
//! CSV with a header `kind,original,pseudonymized`; appended to across runs and shards, each
//! row once (a resumed run does not repeat the rows of inputs done earlier).

use snafu::{ResultExt, Snafu};
use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};

/// Errors writing the linkage table.
#[derive(Debug, Snafu)]
#[non_exhaustive]
pub enum Error {
    /// The table could not be opened or written.
    #[snafu(display("could not write the linkage table {}", path.display()))]
    WriteLinkage {
        /// The table's path.
        path: PathBuf,
        /// The I/O error (a CSV error wraps one).
        source: csv::Error,
    },
    /// The file exists and is not a kamei linkage table (another file named by mistake, such as
    /// the key): appending to it would destroy it, so nothing is written to it.
    #[snafu(display(
        "--linkage {} exists and is not a kamei linkage table (it does not start with the header `{}`); it was left as it is: give --linkage a new file or an existing linkage table",
        path.display(),
        HEADER.join(",")
    ))]
    NotATable {
        /// The file's path.
        path: PathBuf,
    },
    /// The table holds a `key` row of another key: its pseudonyms were made with another key,
    /// and appending this run's rows would put one patient under two pseudonyms in one table.
    #[snafu(display(
        "--linkage {} was written with another key (its `key` row records another key fingerprint); it was left as it is: give --key the key the table was made with, or a new table for this key",
        path.display()
    ))]
    OtherKey {
        /// The table's path.
        path: PathBuf,
    },
}

/// The table's header row.
const HEADER: [&str; 3] = ["kind", "original", "pseudonymized"];

/// Whether a file whose first bytes are `head` is a linkage table: it starts with the header
/// row (after a UTF-8 byte order mark, as a spreadsheet saves it), followed by the end of the
/// line. `kamei verify` reports such a file found in a release, where it must never be.
pub fn starts_with_header(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(head);
    let header = HEADER.join(",");
    head.strip_prefix(header.as_bytes()).is_some_and(|rest| rest.is_empty() || rest[0] == b'\n' || rest[0] == b'\r')
}

/// A row kind of the linkage table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Original Patient ID → patient pseudonym.
    Patient,
    /// Input path → output path (relative to the output folder).
    File,
    /// Input path → why it failed.
    Failed,
    /// Input path → why it was skipped.
    Skipped,
    /// Input path → output of an earlier run removed because the path now holds other content.
    Superseded,
    /// Input path → why it was left out (opt-out, cohort, study window).
    Excluded,
    /// Original Patient ID → original Patient ID of an opted-out patient: a merge (SS-MIX2 MRG,
    /// a repeated PID-3) makes them one person, so the first is left out too. Written by
    /// `clinical ss-mix2 --exclude-patients`; read by every command given the table with an
    /// opt-out register ([`read_merges`]).
    Merged,
    /// Output path → output path: an output moved to another name (a different output with a
    /// lower hash took the name). Rows naming the old path for that output now mean the new
    /// one; the audit's move record (with the output's hash) says which input's output it is.
    Moved,
    /// The fingerprint of the key the table's pseudonyms were made with
    /// ([`crate::pseudo::Pseudonymizer::key_fingerprint`]; not the key): a run with another key
    /// is refused ([`Error::OtherKey`]), so one table holds one pseudonym space.
    Key,
}

impl Kind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Patient => "patient",
            Kind::File => "file",
            Kind::Failed => "failed",
            Kind::Skipped => "skipped",
            Kind::Excluded => "excluded",
            Kind::Superseded => "superseded",
            Kind::Moved => "moved",
            Kind::Key => "key",
            Kind::Merged => "merged",
        }
    }
}

/// Appends rows to the linkage table (one writer thread).
///
/// Rows wait in memory and are appended in batches, each batch with one write while the table
/// is locked ([`crate::lock::exclusive_file`]): other kamei runs given the same table (another
/// command, a shard) append between batches, never inside a row. Before each batch the rows
/// the others appended since are read, so a row one of them already wrote is not repeated.
pub struct LinkageWriter {
    path: PathBuf,
    file: std::fs::File,
    patients: HashSet<String>,
    /// Digests of the rows already in the table since its last `moved` row: a resumed or
    /// repeated run finds inputs done earlier and would write their rows again.
    rows: HashSet<u128>,
    /// Rows added and not yet appended, in order.
    pending: Vec<PendingRow>,
    /// Bytes in `pending`.
    pending_len: usize,
    /// The table's length after this writer's last append (rows beyond it are other runs').
    known_len: u64,
    /// Whether the file system refused the lock (warned once).
    unlocked_warned: bool,
    /// The fingerprint of this run's key: every `key` row read must name it.
    fingerprint: String,
    /// Whether a `key` row naming [`fingerprint`](Self::fingerprint) has been read or written.
    key_row: bool,
}

/// A row waiting to be appended: its CSV bytes and its digest (`None` for a `moved` row).
struct PendingRow {
    digest: Option<u128>,
    bytes: Vec<u8>,
}

/// Pending bytes past which rows are appended without waiting for [`LinkageWriter::flush`]
/// (memory stays bounded; a kill loses at most this much, which the re-run writes again).
const BATCH_BYTES: usize = 64 * 1024;

/// Take the table's lock; on a file system that does not lock, warn once (`warned`) and go on.
fn lock_table<'a>(file: &'a std::fs::File, path: &Path, warned: &mut bool) -> crate::lock::FileLock<'a> {
    match crate::lock::exclusive_file(file) {
        Ok(lock) => lock,
        Err(e) => {
            if !*warned {
                *warned = true;
                tracing::warn!(
                    "could not lock the linkage table {} ({}): make sure no other kamei run appends to it at the same time",
                    path.display(),
                    e.kind()
                );
            }
            crate::lock::FileLock::none()
        }
    }
}

/// A row's digest (128 bits of SHA-256 over its length-prefixed fields).
fn row_digest(fields: [&[u8]; 3]) -> u128 {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for f in fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f);
    }
    let d = h.finalize();
    u128::from_be_bytes(d[..16].try_into().expect("a SHA-256 digest has 32 bytes"))
}

/// Read the table's rows from byte `from` to its end into `rows` (the digests of the rows after
/// the last `moved` row: a `moved` row changes what the rows before it name, so a row written
/// again after one is not a repeat), and the key fingerprints its `key` rows name into `keys`.
/// The header row is read like a row (no real row equals it).
fn read_rows(
    file: &std::fs::File,
    from: u64,
    rows: &mut HashSet<u128>,
    keys: &mut HashSet<Vec<u8>>,
) -> Result<(), csv::Error> {
    use std::io::{Seek, SeekFrom};
    let mut reader = file;
    reader.seek(SeekFrom::Start(from))?;
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(reader);
    for rec in rdr.byte_records() {
        let rec = rec?;
        let field = |i: usize| rec.get(i).unwrap_or_default();
        if field(0) == Kind::Key.word().as_bytes() {
            keys.insert(field(1).to_vec());
        }
        if field(0) == Kind::Moved.word().as_bytes() {
            rows.clear();
        } else {
            rows.insert(row_digest([field(0), field(1), field(2)]));
        }
    }
    Ok(())
}

/// One row's CSV bytes (quoted where needed, ending with a newline).
fn encode_row(row: [&[u8]; 3]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    w.write_record(row)?;
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Where a table's torn last row starts: `Some(offset)` when the file's last byte is not a
/// newline (a run was killed or a disk filled up mid-row), `None` when it ends with a whole row
/// or is empty. The offset is the start of the last record as the CSV reader sees it, not the
/// byte after the last newline: a quoted input path may itself hold a newline.
fn torn_row_start(mut file: &std::fs::File) -> Result<Option<u64>, csv::Error> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(None);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(0))?;
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(file);
    let mut rec = csv::ByteRecord::new();
    let mut start = 0;
    while rdr.read_byte_record(&mut rec)? {
        start = rec.position().map_or(start, |p| p.byte());
    }
    Ok(Some(start))
}

/// Whether the file at `path` may be appended to as a linkage table: it does not exist, or it
/// is a regular file that is empty, starts with the header row, or holds the start of the header
/// row alone (a table whose first run was killed while writing it). Anything else (the key file
/// given by mistake, a report, a device) is refused before a byte of it is touched: cutting a
/// "torn last row" from a file that is no table would destroy it.
///
/// # Errors
/// [`Error::NotATable`] for a file that is not a linkage table; [`Error::WriteLinkage`] when it
/// cannot be read.
pub fn check_target(path: &Path) -> Result<(), Error> {
    use std::io::Read;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(csv::Error::from(e)).context(WriteLinkageSnafu { path }),
    };
    if !meta.is_file() {
        return NotATableSnafu { path }.fail();
    }
    let header = format!("{}\n", HEADER.join(","));
    let mut start = Vec::with_capacity(header.len());
    std::fs::File::open(path)
        .and_then(|f| f.take(header.len() as u64).read_to_end(&mut start))
        .map_err(csv::Error::from)
        .context(WriteLinkageSnafu { path })?;
    let whole_file_read = (start.len() as u64) == meta.len();
    let is_table = header.as_bytes().starts_with(&start) && (start.len() == header.len() || whole_file_read);
    if !is_table {
        return NotATableSnafu { path }.fail();
    }
    Ok(())
}

/// Refuse a table written with another key: one whose `key` row names a fingerprint other than
/// `fingerprint` ([`Error::OtherKey`]). A missing table, or one of a kamei release before key
/// rows (it has none), passes. Called before the run claims its output folder, so a wrong key
/// given by mistake leaves the table and OUT as they were; [`LinkageWriter`] checks again under
/// the table's lock.
///
/// # Errors
/// [`Error::OtherKey`]; [`Error::WriteLinkage`] when the table cannot be read.
pub fn check_key(path: &Path, fingerprint: &str) -> Result<(), Error> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(csv::Error::from(e)).context(WriteLinkageSnafu { path }),
    };
    let mut keys = HashSet::new();
    read_rows(&file, 0, &mut HashSet::new(), &mut keys).context(WriteLinkageSnafu { path })?;
    if keys.iter().any(|k| k.as_slice() != fingerprint.as_bytes()) {
        return OtherKeySnafu { path }.fail();
    }
    Ok(())
}

impl LinkageWriter {
    /// Open (append, create with mode 0600) the table; writes the header if the file is new. An
    /// existing table readable by the group or others is made 0600 first. A table ending inside
    /// a row (an interrupted run) is cut back to the start of that row, which the resumed run
    /// writes again whole.
    ///
    /// An existing file that is not a linkage table is refused untouched ([`check_target`]), and
    /// so is a table written with another key than the one `fingerprint` names
    /// ([`Error::OtherKey`]); a table without a `key` row for this key gets one.
    ///
    /// # Errors
    /// [`Error::NotATable`] (see [`check_target`]); [`Error::OtherKey`];
    /// [`Error::WriteLinkage`] if it cannot be opened.
    pub fn open(path: &Path, fingerprint: &str) -> Result<LinkageWriter, Error> {
        check_target(path)?;
        let mut options = OpenOptions::new();
        options.create(true).append(true).read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path).map_err(csv::Error::from).context(WriteLinkageSnafu { path })?;
        #[cfg(unix)]
        {
            // A table that already existed keeps its mode on open: one readable by the group
            // or others is made private before a row is added to it.
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata().map(|m| m.permissions().mode()).unwrap_or(0);
            if mode & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(csv::Error::from)
                    .context(WriteLinkageSnafu { path })?;
            }
        }
        let mut writer = LinkageWriter {
            path: path.to_path_buf(),
            file,
            patients: HashSet::new(),
            rows: HashSet::new(),
            pending: Vec::new(),
            pending_len: 0,
            known_len: 0,
            unlocked_warned: false,
            fingerprint: fingerprint.to_string(),
            key_row: false,
        };
        // Under the lock like every append: the header is written once however many runs
        // open a new table together, and the rows read are whole.
        writer.append_pending()?;
        if !writer.key_row {
            writer.key_row = true;
            writer.write([Kind::Key.word().as_bytes(), fingerprint.as_bytes(), b""])?;
            writer.append_pending()?;
        }
        Ok(writer)
    }

    /// Add a row. A row the table already holds (since its last `moved` row) is not written
    /// again: a resumed run finds the inputs done earlier and reports them once more.
    ///
    /// A `patient` row's original ID is written as the pseudonym reads it
    /// ([`crate::pseudo::normalize_id`]: trimmed, NFKC, zero-width characters dropped, dashes as
    /// `-`), whatever spelling the source had (`０`-digits in a CSV export, a zero-width space
    /// in an image): `deid`, `clinical csv` and `clinical ss-mix2` then write one row per patient
    /// to a shared table, its ID is the one the hospital's systems key on, and the pseudonym is
    /// the HMAC of exactly that text, so re-identifying is one lookup either way.
    ///
    /// # Errors
    /// [`Error::WriteLinkage`] on I/O errors.
    pub fn add(&mut self, kind: Kind, original: &str, replacement: &str) -> Result<(), Error> {
        if kind == Kind::Patient {
            let id = crate::pseudo::normalize_id(original);
            if !self.patients.insert(id.clone()) {
                return Ok(());
            }
            return self.write([kind.word().as_bytes(), id.as_bytes(), replacement.as_bytes()]);
        }
        self.write([kind.word().as_bytes(), original.as_bytes(), replacement.as_bytes()])
    }

    fn write(&mut self, row: [&[u8]; 3]) -> Result<(), Error> {
        let digest = if row[0] == Kind::Moved.word().as_bytes() {
            self.rows.clear();
            None
        } else {
            let digest = row_digest(row);
            if !self.rows.insert(digest) {
                return Ok(());
            }
            Some(digest)
        };
        let bytes = encode_row(row).context(WriteLinkageSnafu { path: &self.path })?;
        self.pending_len += bytes.len();
        self.pending.push(PendingRow { digest, bytes });
        if self.pending_len >= BATCH_BYTES {
            self.append_pending()?;
        }
        Ok(())
    }

    /// Append the pending rows with one write, holding the table's lock: first cut a torn last
    /// row (a run killed mid-row), write the header into an empty table, and read the rows
    /// other runs appended since this writer's last append (a pending row one of them already
    /// wrote is dropped; a `key` row of another key refuses the batch: [`Error::OtherKey`]).
    fn append_pending(&mut self) -> Result<(), Error> {
        let path = self.path.clone();
        match self.append_pending_rows() {
            Ok(true) => Ok(()),
            Ok(false) => OtherKeySnafu { path }.fail(),
            Err(e) => Err(e).context(WriteLinkageSnafu { path }),
        }
    }

    /// [`append_pending`](Self::append_pending): `Ok(false)` when a row of another key was read
    /// (nothing appended).
    fn append_pending_rows(&mut self) -> Result<bool, csv::Error> {
        use std::io::Write;
        let file = &self.file;
        let _lock = lock_table(file, &self.path, &mut self.unlocked_warned);
        if let Some(start) = torn_row_start(file)? {
            file.set_len(start)?;
        }
        let len = file.metadata()?.len();
        let mut batch = Vec::with_capacity(self.pending_len + 64);
        if len == 0 {
            batch.extend_from_slice(format!("{}\n", HEADER.join(",")).as_bytes());
        }
        let mut theirs = HashSet::new();
        if len > 0 && len != self.known_len {
            let mut keys = HashSet::new();
            read_rows(file, self.known_len.min(len), &mut theirs, &mut keys)?;
            if keys.iter().any(|k| k.as_slice() != self.fingerprint.as_bytes()) {
                return Ok(false);
            }
            self.key_row |= !keys.is_empty();
            self.rows.extend(theirs.iter().copied());
        }
        for row in self.pending.drain(..) {
            match row.digest {
                None => theirs.clear(),
                Some(d) if theirs.contains(&d) => continue,
                Some(_) => {}
            }
            batch.extend_from_slice(&row.bytes);
        }
        self.pending_len = 0;
        let mut writer = file;
        writer.write_all(&batch)?;
        self.known_len = file.metadata()?.len();
        Ok(true)
    }

    /// Add a row whose original is an input path, written as the path's own bytes: a file name
    /// that is not UTF-8 (a Shift_JIS name copied from an old Windows share) stays exactly as it
    /// is on disk, so the row leads back to that file. (A lossy conversion would write `�` and
    /// could make two inputs' rows the same.)
    ///
    /// # Errors
    /// [`Error::WriteLinkage`] on I/O errors.
    pub fn add_path(&mut self, kind: Kind, input: &Path, replacement: &str) -> Result<(), Error> {
        self.write([kind.word().as_bytes(), path_bytes(input).as_ref(), replacement.as_bytes()])
    }

    /// Append the pending rows and sync the table to disk.
    ///
    /// # Errors
    /// [`Error::WriteLinkage`] on I/O errors.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.append_pending()?;
        self.file.sync_all().map_err(csv::Error::from).context(WriteLinkageSnafu { path: &self.path })
    }
}

/// The `merged` rows of the linkage table at `path` ([`Kind::Merged`]): pairs of original
/// Patient IDs that are one person. None when the table does not exist yet.
///
/// # Errors
/// The CSV error when the table cannot be read.
pub fn read_merges(path: &Path) -> Result<Vec<(String, String)>, csv::Error> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
    let mut merges = Vec::new();
    for row in rdr.byte_records() {
        let row = row?;
        if let (Some(b"merged"), Some(a), Some(b)) = (row.get(0), row.get(1), row.get(2)) {
            merges.push((String::from_utf8_lossy(a).into_owned(), String::from_utf8_lossy(b).into_owned()));
        }
    }
    Ok(merges)
}

/// A path's bytes: on Unix exactly the bytes of the name; elsewhere its Unicode form.
pub fn path_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::borrow::Cow::Borrowed(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        match path.to_string_lossy() {
            std::borrow::Cow::Borrowed(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
            std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
        }
    }
}

/// The path a linkage row's bytes name (the inverse of [`path_bytes`]).
pub fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

impl Drop for LinkageWriter {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.append_pending();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_table_records_its_key_fingerprint_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        for _ in 0..2 {
            LinkageWriter::open(&path, "k1").unwrap().flush().unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "kind,original,pseudonymized\nkey,k1,\n");
    }

    #[test]
    fn a_table_of_another_key_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        let mut w = LinkageWriter::open(&path, "k1").unwrap();
        w.add(Kind::Patient, "P1", "AAA").unwrap();
        w.flush().unwrap();
        drop(w);
        let before = std::fs::read(&path).unwrap();
        assert!(matches!(check_key(&path, "k2"), Err(Error::OtherKey { .. })));
        assert!(matches!(LinkageWriter::open(&path, "k2"), Err(Error::OtherKey { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), before);
        check_key(&path, "k1").unwrap();
    }

    #[test]
    fn a_table_from_before_key_rows_gets_the_key_of_its_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        std::fs::write(&path, "kind,original,pseudonymized\npatient,P1,AAA\n").unwrap();
        check_key(&path, "k1").unwrap();
        LinkageWriter::open(&path, "k1").unwrap().flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "kind,original,pseudonymized\npatient,P1,AAA\nkey,k1,\n");
        assert!(matches!(check_key(&path, "k2"), Err(Error::OtherKey { .. })));
    }

    #[test]
    fn a_run_sharing_the_table_with_another_key_stops_at_its_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        let mut first = LinkageWriter::open(&path, "k1").unwrap();
        use std::io::Write;
        // Another run, with another key, that opened the table as a new one at the same time.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"key,k2,\n").unwrap();
        first.add(Kind::Patient, "P1", "AAA").unwrap();
        assert!(matches!(first.flush(), Err(Error::OtherKey { .. })));
        assert!(!std::fs::read_to_string(&path).unwrap().contains("P1"));
    }

    #[test]
    fn rv12_a_reopened_table_gets_no_row_twice_unless_a_move_came_between() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        for _ in 0..2 {
            let mut w = LinkageWriter::open(&path, "k1").unwrap();
            w.add(Kind::Patient, "P1", "AAA").unwrap();
            w.add_path(Kind::File, Path::new("in/a.dcm"), "AAA/1.dcm").unwrap();
            w.flush().unwrap();
        }
        let mut w = LinkageWriter::open(&path, "k1").unwrap();
        w.add(Kind::Moved, "AAA/1.dcm", "AAA/2.dcm").unwrap();
        w.add(Kind::Moved, "AAA/2.dcm", "AAA/1.dcm").unwrap();
        w.add_path(Kind::File, Path::new("in/a.dcm"), "AAA/1.dcm").unwrap();
        w.flush().unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "kind,original,pseudonymized\nkey,k1,\npatient,P1,AAA\nfile,in/a.dcm,AAA/1.dcm\n\
             moved,AAA/1.dcm,AAA/2.dcm\nmoved,AAA/2.dcm,AAA/1.dcm\nfile,in/a.dcm,AAA/1.dcm\n"
        );
    }

    #[test]
    fn rv16_a_torn_last_row_is_dropped_and_written_again_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        std::fs::write(&path, "kind,original,pseudonymized\npatient,P1,AAA\nfile,in/a.dcm,AAA/1.dcm\nfile,in/b.d")
            .unwrap();
        let mut w = LinkageWriter::open(&path, "k1").unwrap();
        w.add(Kind::Patient, "P1", "AAA").unwrap();
        w.add_path(Kind::File, Path::new("in/a.dcm"), "AAA/1.dcm").unwrap();
        w.add_path(Kind::File, Path::new("in/b.dcm"), "AAA/2.dcm").unwrap();
        w.flush().unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "kind,original,pseudonymized\npatient,P1,AAA\nfile,in/a.dcm,AAA/1.dcm\nkey,k1,\nfile,in/b.dcm,AAA/2.dcm\n"
        );
    }

    #[test]
    fn rv16_a_torn_row_whose_quoted_path_holds_a_newline_is_dropped_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        std::fs::write(&path, "kind,original,pseudonymized\nfile,in/a.dcm,AAA/1.dcm\nfile,\"in/b\nc.d").unwrap();
        let mut w = LinkageWriter::open(&path, "k1").unwrap();
        w.add_path(Kind::File, Path::new("in/b\nc.dcm"), "AAA/2.dcm").unwrap();
        w.flush().unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "kind,original,pseudonymized\nfile,in/a.dcm,AAA/1.dcm\nkey,k1,\nfile,\"in/b\nc.dcm\",AAA/2.dcm\n"
        );
    }

    #[test]
    fn rv16_a_torn_header_is_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        std::fs::write(&path, "kind,orig").unwrap();
        let mut w = LinkageWriter::open(&path, "k1").unwrap();
        w.add(Kind::Patient, "P1", "AAA").unwrap();
        w.flush().unwrap();
        drop(w);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "kind,original,pseudonymized\nkey,k1,\npatient,P1,AAA\n");
    }

    #[test]
    fn rv21_13_an_existing_file_that_is_not_a_table_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        // A 32-byte key without a newline, a CSV of another kind, a header with a changed word.
        let files: [&[u8]; 3] = [&[0xA5; 32], b"id,name\n1,x\n", b"kind,original,pseudonymised\npatient,P1,AAA\n"];
        for (i, bytes) in files.into_iter().enumerate() {
            let path = dir.path().join(format!("not-a-table-{i}"));
            std::fs::write(&path, bytes).unwrap();
            let refused = LinkageWriter::open(&path, "k1");
            assert!(matches!(refused, Err(Error::NotATable { .. })), "file {i}");
            assert_eq!(std::fs::read(&path).unwrap(), bytes, "file {i} is untouched");
        }
    }

    #[test]
    fn rv21_13_a_folder_is_not_a_table() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(check_target(dir.path()), Err(Error::NotATable { .. })));
    }

    #[test]
    fn rv21_13_a_new_an_empty_or_a_header_only_file_is_a_table() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_target(&dir.path().join("new.csv")).is_ok());
        for (i, text) in
            ["", "kind,orig", "kind,original,pseudonymized", "kind,original,pseudonymized\n"].iter().enumerate()
        {
            let path = dir.path().join(format!("{i}.csv"));
            std::fs::write(&path, text).unwrap();
            assert!(check_target(&path).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn table_is_private_and_lists_each_patient_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        let mut w = LinkageWriter::open(&path, "k1").unwrap();
        w.add(Kind::Patient, "P1", "AAA").unwrap();
        w.add(Kind::Patient, "P1", "AAA").unwrap();
        w.add(Kind::File, "in/a.dcm", "AAA/1/2/3.dcm").unwrap();
        w.flush().unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "kind,original,pseudonymized\nkey,k1,\npatient,P1,AAA\nfile,in/a.dcm,AAA/1/2/3.dcm\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_patient_row_holds_the_id_as_the_pseudonym_reads_it_once_for_every_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        let mut w = LinkageWriter::open(&path, "k1").unwrap();
        for spelling in ["0012345678", "\u{FF10}\u{FF10}12345678", "0012345678\u{200B}", " 0012345678 "] {
            w.add(Kind::Patient, spelling, "AAA").unwrap();
        }
        w.add(Kind::Patient, "２０２４－０００１２３", "BBB").unwrap();
        w.flush().unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "kind,original,pseudonymized\nkey,k1,\npatient,0012345678,AAA\npatient,2024-000123,BBB\n");
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_table_readable_by_others_is_made_private_before_rows_are_added() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut w = LinkageWriter::open(&path, "k1").unwrap();
        w.add(Kind::Patient, "P1", "AAA").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_utf8_is_written_as_its_own_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        // 患者 in Shift_JIS: not UTF-8.
        let input = Path::new(std::ffi::OsStr::from_bytes(b"in/\x8a\xb3\x8e\xd2.dcm"));
        let mut w = LinkageWriter::open(&path, "k1").unwrap();
        w.add_path(Kind::File, input, "AAA/1/2/3.dcm").unwrap();
        w.flush().unwrap();
        drop(w);
        let bytes = std::fs::read(&path).unwrap();
        let row = b"file,in/\x8a\xb3\x8e\xd2.dcm,AAA/1/2/3.dcm\n";
        assert!(bytes.ends_with(row), "{:?}", String::from_utf8_lossy(&bytes));
        assert_eq!(path_from_bytes(&row[5..16]), input);
    }
}
