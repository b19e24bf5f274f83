//! Keep two runs from writing into one output folder at the same time.
//!
//! Two whole runs into one OUT share its audit log and its `.kamei-partial/whole` folder: one
//! run's compaction would drop the records the other appended, and a starting run would delete
//! the other's temporary files. A whole run therefore takes an exclusive `flock` on the OUT
//! folder; a `--shard` run (its own audit log and staging folder) takes a shared lock on OUT, so
//! shards run side by side but never beside a whole run, plus an exclusive lock on its own
//! staging folder, so the same shard cannot run twice. A run that finds OUT busy stops at once
//! (exit 2) and says why; it never waits silently. The locks go with the process (closed file
//! descriptors), so a killed run leaves none behind.

use snafu::{ResultExt, Snafu};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Errors taking a run's locks.
#[derive(Debug, Snafu)]
#[non_exhaustive]
pub enum Error {
    /// Another run holds OUT (a whole run, or shards while this is a whole run).
    #[snafu(display(
        "another kamei run is writing into {}; wait for it to finish, or split the work with --shard",
        path.display()
    ))]
    Busy {
        /// The output folder.
        path: PathBuf,
    },
    /// Another run of the same shard is writing into OUT.
    #[snafu(display(
        "another kamei run of shard {shard} is writing into {}; wait for it to finish",
        path.display()
    ))]
    ShardBusy {
        /// The shard, `I/N`.
        shard: String,
        /// The output folder.
        path: PathBuf,
    },
    /// A folder to lock could not be opened.
    #[snafu(display("could not open {} to lock it", path.display()))]
    Open {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The locks a run holds; released when dropped (at the end of the run).
#[derive(Debug)]
pub struct RunLock {
    _out: Option<File>,
    _staging: Option<File>,
}

/// How a lock attempt ended.
enum Taken {
    /// Held now.
    Held(File),
    /// Another process holds a conflicting lock.
    Busy,
    /// The file system does not lock (some network file systems refuse `flock` on a folder):
    /// the run goes on without the lock, with a warning.
    Unsupported,
}

/// A non-blocking `flock` on an open folder: `Ok(false)` when another process holds a
/// conflicting lock. (rustix on Linux: `File::try_lock` needs Rust 1.89, above kamei's MSRV.)
#[cfg(target_os = "linux")]
fn try_flock(file: &File, exclusive: bool) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    let op = if exclusive { FlockOperation::NonBlockingLockExclusive } else { FlockOperation::NonBlockingLockShared };
    match flock(file, op) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Elsewhere folders are not locked (the run warns).
#[cfg(not(target_os = "linux"))]
fn try_flock(_: &File, _: bool) -> std::io::Result<bool> {
    Err(std::io::ErrorKind::Unsupported.into())
}

fn take(path: &Path, exclusive: bool) -> Result<Taken, Error> {
    let file = File::open(path).context(OpenSnafu { path })?;
    match try_flock(&file, exclusive) {
        Ok(true) => Ok(Taken::Held(file)),
        Ok(false) => Ok(Taken::Busy),
        Err(e) => {
            tracing::warn!(
                "could not lock {} ({}): make sure no other kamei run writes into it at the same time",
                path.display(),
                e.kind()
            );
            Ok(Taken::Unsupported)
        }
    }
}

/// Lock the output folder `out` (which must exist) for a whole run: exclusive.
///
/// # Errors
/// [`Error::Busy`] when another run (whole or shard) holds it; [`Error::Open`].
pub fn whole(out: &Path) -> Result<RunLock, Error> {
    match take(out, true)? {
        Taken::Held(f) => Ok(RunLock { _out: Some(f), _staging: None }),
        Taken::Busy => BusySnafu { path: out }.fail(),
        Taken::Unsupported => Ok(RunLock { _out: None, _staging: None }),
    }
}

/// Lock the output folder `out` (which must exist) for shard `shard` (shared), then create its
/// staging folder `staging` and lock it (exclusive).
///
/// # Errors
/// [`Error::Busy`] when a whole run holds OUT, [`Error::ShardBusy`] when the same shard is
/// running; [`Error::Open`].
pub fn shard(out: &Path, staging: &Path, shard: &str) -> Result<RunLock, Error> {
    let out_lock = match take(out, false)? {
        Taken::Held(f) => Some(f),
        Taken::Busy => return BusySnafu { path: out }.fail(),
        Taken::Unsupported => None,
    };
    std::fs::create_dir_all(staging).context(OpenSnafu { path: staging })?;
    let staging_lock = match take(staging, true)? {
        Taken::Held(f) => Some(f),
        Taken::Busy => return ShardBusySnafu { shard, path: out }.fail(),
        Taken::Unsupported => None,
    };
    Ok(RunLock { _out: out_lock, _staging: staging_lock })
}

/// An exclusive lock on an open file, held until dropped: the linkage table is locked while a
/// run appends its rows, so two commands given one `--linkage` table (`clinical csv` and
/// `clinical ss-mix2` side by side, or shards) write whole rows one after the other instead of
/// interleaving them mid-row. Unlike the locks on OUT it waits: each holder keeps it only for
/// one append.
#[derive(Debug)]
pub struct FileLock<'a> {
    file: Option<&'a File>,
}

/// Wait for an exclusive lock on `file`. When the file system does not lock (some network file
/// systems), `Err` says why; the caller decides whether to go on without the lock.
///
/// # Errors
/// The `flock` error; [`std::io::ErrorKind::Unsupported`] off Linux.
pub fn exclusive_file(file: &File) -> std::io::Result<FileLock<'_>> {
    wait_flock(file)?;
    Ok(FileLock { file: Some(file) })
}

impl FileLock<'_> {
    /// A stand-in that holds nothing (the file system does not lock).
    pub fn none() -> FileLock<'static> {
        FileLock { file: None }
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        if let Some(file) = self.file {
            unflock(file);
        }
    }
}

#[cfg(target_os = "linux")]
fn wait_flock(file: &File) -> std::io::Result<()> {
    use rustix::fs::{FlockOperation, flock};
    loop {
        match flock(file, FlockOperation::LockExclusive) {
            Err(e) if e == rustix::io::Errno::INTR => continue,
            other => return other.map_err(Into::into),
        }
    }
}

#[cfg(target_os = "linux")]
fn unflock(file: &File) {
    let _ = rustix::fs::flock(file, rustix::fs::FlockOperation::Unlock);
}

#[cfg(not(target_os = "linux"))]
fn wait_flock(_: &File) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(not(target_os = "linux"))]
fn unflock(_: &File) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_second_whole_run_is_refused_while_the_first_holds_out() {
        let dir = tempfile::tempdir().unwrap();
        let first = whole(dir.path()).unwrap();
        assert!(matches!(whole(dir.path()), Err(Error::Busy { .. })));
        drop(first);
        whole(dir.path()).unwrap();
    }

    #[test]
    fn shards_run_side_by_side_but_not_beside_a_whole_run_nor_twice() {
        let dir = tempfile::tempdir().unwrap();
        let (s1, s2) = (dir.path().join("partial/s1"), dir.path().join("partial/s2"));
        let one = shard(dir.path(), &s1, "1/2").unwrap();
        let two = shard(dir.path(), &s2, "2/2").unwrap();
        assert!(matches!(shard(dir.path(), &s1, "1/2"), Err(Error::ShardBusy { .. })));
        assert!(matches!(whole(dir.path()), Err(Error::Busy { .. })));
        drop((one, two));
        let w = whole(dir.path()).unwrap();
        assert!(matches!(shard(dir.path(), &s1, "1/2"), Err(Error::Busy { .. })));
        drop(w);
    }

    #[test]
    fn a_file_lock_waits_for_the_holder_to_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table.csv");
        std::fs::write(&path, "").unwrap();
        let (a, b) = (File::open(&path).unwrap(), File::open(&path).unwrap());
        let held = exclusive_file(&a).unwrap();
        assert!(!try_flock(&b, true).unwrap(), "the second opener cannot lock while the first holds it");
        drop(held);
        let _again = exclusive_file(&b).unwrap();
    }
}
