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
}

/// The table's header row.
const HEADER: [&str; 3] = ["kind", "original", "pseudonymized"];

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
    /// Output path → output path: an output moved to another name (a different output with a
    /// lower hash took the name). Rows naming the old path for that output now mean the new
    /// one; the audit's move record (with the output's hash) says which input's output it is.
    Moved,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Patient => "patient",
            Kind::File => "file",
            Kind::Failed => "failed",
            Kind::Skipped => "skipped",
            Kind::Excluded => "excluded",
            Kind::Superseded => "superseded",
            Kind::Moved => "moved",
        }
    }
}

/// Appends rows to the linkage table (one writer thread).
pub struct LinkageWriter {
    path: PathBuf,
    out: csv::Writer<std::fs::File>,
    patients: HashSet<String>,
    /// Digests of the rows already in the table since its last `moved` row: a resumed or
    /// repeated run finds inputs done earlier and would write their rows again.
    rows: HashSet<u128>,
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

/// The digests of a table's rows after its last `moved` row (a `moved` row changes what the
/// rows before it name, so a row written again after one is not a repeat).
fn existing_rows(path: &Path) -> Result<HashSet<u128>, csv::Error> {
    let mut rows = HashSet::new();
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_path(path)?;
    for rec in rdr.byte_records() {
        let rec = rec?;
        let field = |i: usize| rec.get(i).unwrap_or_default();
        if field(0) == Kind::Moved.word().as_bytes() {
            rows.clear();
        } else {
            rows.insert(row_digest([field(0), field(1), field(2)]));
        }
    }
    Ok(rows)
}

/// Where a table's torn last row starts: `Some(offset)` when the file's last byte is not a
/// newline (a run was killed or a disk filled up mid-row), `None` when it ends with a whole row
/// or is empty. The offset is the start of the last record as the CSV reader sees it, not the
/// byte after the last newline: a quoted input path may itself hold a newline.
fn torn_row_start(file: &mut std::fs::File) -> Result<Option<u64>, csv::Error> {
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
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&*file);
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

impl LinkageWriter {
    /// Open (append, create with mode 0600) the table; writes the header if the file is new. An
    /// existing table readable by the group or others is made 0600 first. A table ending inside
    /// a row (an interrupted run) is cut back to the start of that row, which the resumed run
    /// writes again whole.
    ///
    /// An existing file that is not a linkage table is refused untouched ([`check_target`]).
    ///
    /// # Errors
    /// [`Error::NotATable`] (see [`check_target`]); [`Error::WriteLinkage`] if it cannot be
    /// opened.
    pub fn open(path: &Path) -> Result<LinkageWriter, Error> {
        check_target(path)?;
        let mut options = OpenOptions::new();
        options.create(true).append(true).read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(csv::Error::from).context(WriteLinkageSnafu { path })?;
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
        // A run killed (or stopped by a full disk) while appending can leave the table ending
        // inside a row: drop that torn row, so the first row appended now is not glued to it.
        // The resumed run reports the input again and writes the whole row.
        if let Some(start) = torn_row_start(&mut file).context(WriteLinkageSnafu { path })? {
            file.set_len(start).map_err(csv::Error::from).context(WriteLinkageSnafu { path })?;
        }
        let is_new = file.metadata().map(|m| m.len() == 0).unwrap_or(true);
        let rows = if is_new { HashSet::new() } else { existing_rows(path).context(WriteLinkageSnafu { path })? };
        let mut out = csv::WriterBuilder::new().has_headers(false).from_writer(file);
        if is_new {
            out.write_record(HEADER).context(WriteLinkageSnafu { path })?;
        }
        Ok(LinkageWriter { path: path.to_path_buf(), out, patients: HashSet::new(), rows })
    }

    /// Add a row. A row the table already holds (since its last `moved` row) is not written
    /// again: a resumed run finds the inputs done earlier and reports them once more.
    ///
    /// # Errors
    /// [`Error::WriteLinkage`] on I/O errors.
    pub fn add(&mut self, kind: Kind, original: &str, replacement: &str) -> Result<(), Error> {
        if kind == Kind::Patient && !self.patients.insert(original.to_string()) {
            return Ok(());
        }
        self.write([kind.word().as_bytes(), original.as_bytes(), replacement.as_bytes()])
    }

    fn write(&mut self, row: [&[u8]; 3]) -> Result<(), Error> {
        if row[0] == Kind::Moved.word().as_bytes() {
            self.rows.clear();
        } else if !self.rows.insert(row_digest(row)) {
            return Ok(());
        }
        self.out.write_record(row).context(WriteLinkageSnafu { path: &self.path })
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

    /// Flush to disk.
    ///
    /// # Errors
    /// [`Error::WriteLinkage`] on I/O errors.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.out.flush().map_err(csv::Error::from).context(WriteLinkageSnafu { path: &self.path })?;
        self.out
            .get_ref()
            .sync_all()
            .map_err(|e: io::Error| csv::Error::from(e))
            .context(WriteLinkageSnafu { path: &self.path })
    }
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
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rv12_a_reopened_table_gets_no_row_twice_unless_a_move_came_between() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        for _ in 0..2 {
            let mut w = LinkageWriter::open(&path).unwrap();
            w.add(Kind::Patient, "P1", "AAA").unwrap();
            w.add_path(Kind::File, Path::new("in/a.dcm"), "AAA/1.dcm").unwrap();
            w.flush().unwrap();
        }
        let mut w = LinkageWriter::open(&path).unwrap();
        w.add(Kind::Moved, "AAA/1.dcm", "AAA/2.dcm").unwrap();
        w.add(Kind::Moved, "AAA/2.dcm", "AAA/1.dcm").unwrap();
        w.add_path(Kind::File, Path::new("in/a.dcm"), "AAA/1.dcm").unwrap();
        w.flush().unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "kind,original,pseudonymized\npatient,P1,AAA\nfile,in/a.dcm,AAA/1.dcm\n\
             moved,AAA/1.dcm,AAA/2.dcm\nmoved,AAA/2.dcm,AAA/1.dcm\nfile,in/a.dcm,AAA/1.dcm\n"
        );
    }

    #[test]
    fn rv16_a_torn_last_row_is_dropped_and_written_again_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        std::fs::write(&path, "kind,original,pseudonymized\npatient,P1,AAA\nfile,in/a.dcm,AAA/1.dcm\nfile,in/b.d")
            .unwrap();
        let mut w = LinkageWriter::open(&path).unwrap();
        w.add(Kind::Patient, "P1", "AAA").unwrap();
        w.add_path(Kind::File, Path::new("in/a.dcm"), "AAA/1.dcm").unwrap();
        w.add_path(Kind::File, Path::new("in/b.dcm"), "AAA/2.dcm").unwrap();
        w.flush().unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "kind,original,pseudonymized\npatient,P1,AAA\nfile,in/a.dcm,AAA/1.dcm\nfile,in/b.dcm,AAA/2.dcm\n"
        );
    }

    #[test]
    fn rv16_a_torn_row_whose_quoted_path_holds_a_newline_is_dropped_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        std::fs::write(&path, "kind,original,pseudonymized\nfile,in/a.dcm,AAA/1.dcm\nfile,\"in/b\nc.d").unwrap();
        let mut w = LinkageWriter::open(&path).unwrap();
        w.add_path(Kind::File, Path::new("in/b\nc.dcm"), "AAA/2.dcm").unwrap();
        w.flush().unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "kind,original,pseudonymized\nfile,in/a.dcm,AAA/1.dcm\nfile,\"in/b\nc.dcm\",AAA/2.dcm\n");
    }

    #[test]
    fn rv16_a_torn_header_is_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        std::fs::write(&path, "kind,orig").unwrap();
        let mut w = LinkageWriter::open(&path).unwrap();
        w.add(Kind::Patient, "P1", "AAA").unwrap();
        w.flush().unwrap();
        drop(w);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "kind,original,pseudonymized\npatient,P1,AAA\n");
    }

    #[test]
    fn rv21_13_an_existing_file_that_is_not_a_table_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        // A 32-byte key without a newline, a CSV of another kind, a header with a changed word.
        let files: [&[u8]; 3] = [&[0xA5; 32], b"id,name\n1,x\n", b"kind,original,pseudonymised\npatient,P1,AAA\n"];
        for (i, bytes) in files.into_iter().enumerate() {
            let path = dir.path().join(format!("not-a-table-{i}"));
            std::fs::write(&path, bytes).unwrap();
            let refused = LinkageWriter::open(&path);
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
        let mut w = LinkageWriter::open(&path).unwrap();
        w.add(Kind::Patient, "P1", "AAA").unwrap();
        w.add(Kind::Patient, "P1", "AAA").unwrap();
        w.add(Kind::File, "in/a.dcm", "AAA/1/2/3.dcm").unwrap();
        w.flush().unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "kind,original,pseudonymized\npatient,P1,AAA\nfile,in/a.dcm,AAA/1/2/3.dcm\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_table_readable_by_others_is_made_private_before_rows_are_added() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut w = LinkageWriter::open(&path).unwrap();
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
        let mut w = LinkageWriter::open(&path).unwrap();
        w.add_path(Kind::File, input, "AAA/1/2/3.dcm").unwrap();
        w.flush().unwrap();
        drop(w);
        let bytes = std::fs::read(&path).unwrap();
        let row = b"file,in/\x8a\xb3\x8e\xd2.dcm,AAA/1/2/3.dcm\n";
        assert!(bytes.ends_with(row), "{:?}", String::from_utf8_lossy(&bytes));
        assert_eq!(path_from_bytes(&row[5..16]), input);
    }
}
