//! Encode a [`DicomFile`] as a Part 10 file and commit it atomically.
//!
//! Values are written as they are held: kept values keep their bytes, in the source byte order
//! (kamei writes in the input's transfer syntax, so no conversion is needed). Values left in the
//! source file ([`Value::Deferred`]) are copied from it in chunks, so memory stays flat however
//! large the pixel data. Sequences and items keep their defined or undefined length encoding.
//!
//! [`Committer::commit`] is the only code path that creates a file under the output root: it
//! writes a temporary file in a staging folder on the same file system, flushes it, and renames
//! it into place without overwriting. An interrupted run leaves no partial file at a final name.
//! When different outputs claim one name, the lowest output SHA-256 holds it and the others
//! take their collision names; a lower hash moves a higher one out of the way (renamed, never
//! overwritten), so the names do not depend on which output came first.

use crate::dataset::{DataSet, Deferred, Element, Sequence, Tag, VR, Value};
use crate::odd_fragments::PaddedTables;
use crate::read::{DicomFile, has_long_length};
use crate::transfer::Encoding;
use snafu::{ResultExt, Snafu};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const UNDEFINED: u32 = 0xFFFF_FFFF;

/// Errors while writing an output.
#[derive(Debug, Snafu)]
#[non_exhaustive]
pub enum Error {
    /// Writing the encoded bytes failed (disk full, I/O error).
    #[snafu(display("could not write {}", path.display()))]
    Write {
        /// The file being written (a staging file or the final path).
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The input changed between being hashed and its values being copied from it.
    #[snafu(display("{}", crate::read::CHANGED))]
    InputChanged,
    /// A value kept in the source file could not be copied from it.
    #[snafu(display("could not copy pixel data from the input"))]
    CopyDeferred {
        /// The I/O error.
        source: io::Error,
    },
    /// The output directory or staging file could not be created.
    #[snafu(display("could not create {}", path.display()))]
    Create {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The finished file could not be moved to its final name.
    #[snafu(display("could not move the finished file to {}", path.display()))]
    Rename {
        /// The final path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// Two different outputs claim the same collision name (a file that is not what its name
    /// says, or two outputs whose hashes share their first 48 bits).
    #[snafu(display("two different outputs claim the same name {}", path.display()))]
    Collision {
        /// The name.
        path: PathBuf,
    },
    /// Other processes kept changing the file at the name.
    #[snafu(display("the name {} kept changing while this output was placed", path.display()))]
    Contended {
        /// The name.
        path: PathBuf,
    },
    /// The move of another output out of the way could not be recorded first.
    #[snafu(display("could not record moving another output out of the way"))]
    Intent {
        /// The I/O error.
        source: io::Error,
    },
    /// A value made as it is written ([`Value::Generated`]: cleaned pixel data) could not be made.
    #[snafu(display("could not write the cleaned pixel data"))]
    Generate {
        /// The I/O error (of the source read again, or of the output).
        source: io::Error,
    },
    /// Encapsulated pixel data whose odd-length fragments cannot be padded without changing a
    /// frame or losing the offset tables ([`crate::odd_fragments::Unpaddable`]).
    #[snafu(display("{reason}"))]
    Fragments {
        /// Why (fragment and frame numbers, never content).
        reason: String,
    },
    /// A value is too long for the encoding (e.g. a defined-length item over 4 GiB).
    #[snafu(display("{} is too long to encode", crate::dataset::tag_str(*tag)))]
    TooLong {
        /// The tag.
        tag: Tag,
    },
}

/// Result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Write `file` as a Part 10 stream: zero preamble, `DICM`, the file meta group (its group length
/// computed here), then the data set in the file's transfer syntax (deflated if it says so).
///
/// `input` is the path of the source the file was read from; it is opened only if a value was
/// left there.
///
/// # Errors
/// [`Error::CopyDeferred`] if the source cannot be read back; I/O errors of `out` are returned as
/// [`Error::Write`] with the path `<output>` (the caller knows the real one).
pub fn encode(file: &DicomFile, input: Option<&Path>, out: &mut impl Write) -> Result<()> {
    let io_err = |source| Error::Write { path: PathBuf::from("<output>"), source };
    out.write_all(&[0u8; 128]).map_err(io_err)?;
    out.write_all(b"DICM").map_err(io_err)?;
    let mut meta_body = Vec::new();
    let mut none = None;
    for e in file.meta.elements().iter().filter(|e| e.tag != Tag(0x0002, 0x0000)) {
        write_element(&mut meta_body, e, Encoding::EXPLICIT_LE, &mut none)?;
    }
    let group_length = Element::new(Tag(0x0002, 0x0000), VR::UL, (meta_body.len() as u32).to_le_bytes().to_vec());
    write_element(out, &group_length, Encoding::EXPLICIT_LE, &mut none)?;
    out.write_all(&meta_body).map_err(io_err)?;

    let mut deferred = DeferredSource { path: input, file: None, stamp: file.source_stamp };
    let mut source = Some(&mut deferred);
    let ts = &file.transfer_syntax;
    if ts.deflated {
        let mut z = flate2::write::DeflateEncoder::new(&mut *out, flate2::Compression::default());
        write_dataset(&mut z, &file.dataset, ts.encoding, &mut source)?;
        z.finish().map_err(io_err)?;
    } else {
        write_dataset(out, &file.dataset, ts.encoding, &mut source)?;
    }
    // Written to while its values were copied: the output may mix two versions of it.
    deferred.check()
}

/// Encode to a byte vector (tests, benches, and comparison with an existing output).
///
/// # Errors
/// As [`encode`].
pub fn to_vec(file: &DicomFile, input: Option<&Path>) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    encode(file, input, &mut v)?;
    Ok(v)
}

/// Whether `target` holds exactly the bytes `file` encodes to (compared as they are encoded,
/// so a large file is never held in memory). A missing target is `false`.
///
/// # Errors
/// Any [`Error`] of encoding, or of reading `target`.
pub fn matches(file: &DicomFile, input: Option<&Path>, target: &Path) -> Result<bool> {
    let existing = match File::open(target) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).context(WriteSnafu { path: target }),
    };
    let mut cmp = Comparer { existing: io::BufReader::with_capacity(1 << 16, existing), same: true, chunk: Vec::new() };
    encode(file, input, &mut cmp)?;
    let mut rest = [0u8; 1];
    let at_end = cmp.existing.read(&mut rest).context(WriteSnafu { path: target })? == 0;
    Ok(cmp.same && at_end)
}

/// A writer that compares what is written with a file's bytes and keeps only the verdict.
struct Comparer {
    existing: io::BufReader<File>,
    same: bool,
    chunk: Vec<u8>,
}

impl Write for Comparer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.same {
            self.chunk.resize(buf.len(), 0);
            let n = read_full(&mut self.existing, &mut self.chunk)?;
            self.same = n == buf.len() && self.chunk[..n] == *buf;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where an output ended, and what was moved to give it its name.
///
/// Names are decided by content, never by who came first: among different outputs that claim
/// one name, the one whose bytes have the lowest SHA-256 holds it and every other takes its
/// [`crate::layout::collision_name`] (its own output hash). Any process can apply the rule from
/// the files alone, so concurrent shards and successive runs agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// Where the output is, relative to the output root.
    pub rel: PathBuf,
    /// A file with exactly these bytes was already there; nothing was written.
    pub present: bool,
    /// The SHA-256 of the output bytes (lower-case hex): always set by [`Committer::commit`],
    /// which hashes the bytes as it writes them; `None` only in a prediction of what a run would
    /// do (a dry run writes nothing).
    pub sha256: Option<String>,
    /// Outputs this one displaced from its name (each moved to its own collision name).
    pub moved: Vec<Moved>,
}

/// One output moved from one name to another (relative to the output root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Where it was.
    pub from: PathBuf,
    /// Where it is now.
    pub to: PathBuf,
    /// The SHA-256 of its bytes (which tells it apart from the other outputs that claimed
    /// `from`).
    pub sha256: String,
}

/// Where and how outputs are committed.
#[derive(Debug, Clone, Copy)]
pub struct Committer<'a> {
    /// The output root.
    pub root: &'a Path,
    /// A folder on the same file system for temporary files.
    pub staging: &'a Path,
    /// `fsync` each output before renaming it into place.
    pub sync: bool,
}

/// How many times a contended name is tried before the input fails (each round moves a higher
/// output away, so a handful of writers converge in a few rounds).
const MAX_ROUNDS: usize = 64;

impl Committer<'_> {
    /// Write `file` at `rel` (relative to the root) atomically: encode into a temporary file in
    /// the staging folder, flush (and `fsync` when `sync`), then rename into place without
    /// replacing an existing file.
    ///
    /// When another file holds the name, both are hashed. The same bytes: [`Placed::present`].
    /// This output's hash is higher: it goes to its collision name. Lower: the other file moves
    /// to its own collision name (`intent` is called first, so the audit log knows of the move
    /// before it happens): this output is put at that collision name and the two names are
    /// swapped atomically, so the name is never empty and a writer arriving meanwhile hashes
    /// too; where the file system cannot swap (outside Linux, NFS), the other file is renamed
    /// away without replacing anything and the name tried again. The output's SHA-256 is
    /// computed as its bytes are written ([`Placed::sha256`], always set here: the audit records
    /// it for every output, so `kamei verify` and a recipient can check the file), never by
    /// reading the file back.
    ///
    /// # Errors
    /// Any [`Error`]; on error no file is left at the name and the temporary file is removed.
    /// A file moved out of the way stays at its collision name.
    pub fn commit(
        &self,
        file: &DicomFile,
        input: Option<&Path>,
        rel: &Path,
        intent: &mut dyn FnMut(&Moved) -> io::Result<()>,
    ) -> Result<Placed> {
        let target = self.root.join(rel);
        let mut builder = tempfile::Builder::new();
        builder.prefix(".kamei-").suffix(".part");
        #[cfg(unix)]
        builder.permissions(permissions());
        // Folders are created only when missing: trying first saves a mkdir and a stat per folder
        // and file, which is most of a small file's system calls after reading and writing.
        let mut tmp = match builder.tempfile_in(self.staging) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(self.staging).context(CreateSnafu { path: self.staging })?;
                builder.tempfile_in(self.staging)
            }
            other => other,
        }
        .context(CreateSnafu { path: self.staging })?;
        let sha = {
            // The buffer gathers the many small header elements into a few writes; a value at
            // least this long (pixel data) goes straight to the file instead of being copied
            // through it. The hash sees each chunk as the file receives it.
            let mut hashing = Hashing::new(tmp.as_file_mut());
            let mut w = BufWriter::with_capacity(32 << 10, &mut hashing);
            encode(file, input, &mut w).map_err(|e| with_path(e, &target))?;
            w.flush().context(WriteSnafu { path: &target })?;
            drop(w);
            hashing.finish()
        };
        if self.sync {
            tmp.as_file().sync_all().context(WriteSnafu { path: &target })?;
        }
        self.place(tmp.into_temp_path(), Some(sha), rel, intent)
    }

    /// Put the finished temporary file `tmp` at `rel` by the lowest-hash rule (see
    /// [`Committer::commit`]).
    fn place(
        &self,
        tmp: tempfile::TempPath,
        mut sha: Option<String>,
        rel: &Path,
        intent: &mut dyn FnMut(&Moved) -> io::Result<()>,
    ) -> Result<Placed> {
        let target = self.root.join(rel);
        let mut tmp = tmp;
        let mut moved = Vec::new();
        for _ in 0..MAX_ROUNDS {
            // The target's folders are created when the rename finds them missing. Another
            // process (a shard writing into the same OUT) may create or be creating them at the
            // same moment, so a missing folder is created (idempotently) and the rename tried
            // again, a few times.
            let mut persisted = tmp.persist_noclobber(&target);
            for _ in 0..5 {
                match persisted {
                    Err(e) if e.error.kind() == io::ErrorKind::NotFound => {
                        if let Some(parent) = target.parent() {
                            fs::create_dir_all(parent).context(CreateSnafu { path: parent })?;
                        }
                        persisted = e.path.persist_noclobber(&target);
                    }
                    other => {
                        persisted = other;
                        break;
                    }
                }
            }
            let e = match persisted {
                Ok(()) => return Ok(Placed { rel: rel.to_path_buf(), present: false, sha256: sha, moved }),
                Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => e,
                Err(e) => return Err(Error::Rename { path: target, source: e.error }),
            };
            tmp = e.path;
            // The name is taken: decide by the hashes of the two outputs.
            let ours = match &sha {
                Some(s) => s.clone(),
                None => sha256_file(&tmp).context(WriteSnafu { path: &target })?,
            };
            sha = Some(ours.clone());
            let theirs = match sha256_file(&target) {
                Ok(h) => h,
                // Moved away meanwhile (another process displaced it): try the name again.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).context(WriteSnafu { path: &target }),
            };
            if theirs == ours {
                return Ok(Placed { rel: rel.to_path_buf(), present: true, sha256: sha, moved });
            }
            if ours > theirs {
                let alt = crate::layout::collision_name(rel, &ours);
                return self.persist_at(tmp, &alt, ours, moved);
            }
            // Ours is lower: the other output moves to its own collision name.
            let alt = crate::layout::collision_name(rel, &theirs);
            let m = Moved { from: rel.to_path_buf(), to: alt.clone(), sha256: theirs.clone() };
            intent(&m).map_err(|source| Error::Intent { source })?;
            if !NO_EXCHANGE.load(std::sync::atomic::Ordering::Relaxed) && !tests_without_exchange() {
                match self.swap_in(tmp, &ours, m.clone(), rel, intent, &mut moved)? {
                    Swapped::Done(placed_rel) => {
                        return Ok(Placed { rel: placed_rel, present: false, sha256: sha, moved });
                    }
                    Swapped::Again(back) => {
                        tmp = back;
                        continue;
                    }
                    Swapped::Unsupported(back) => {
                        NO_EXCHANGE.store(true, std::sync::atomic::Ordering::Relaxed);
                        tmp = back;
                    }
                }
            }
            // Without an atomic swap: the other output is renamed to its collision name, then
            // this one takes the free name (a writer that finds the name free in between writes
            // there; its record holds its hash, by which the audit index places it).
            match rename_noreplace(&target, &self.root.join(&alt)) {
                Ok(()) => {
                    // What was renamed is what was at the name at that instant: if another
                    // process changed the name between the hash and the rename, the moved file
                    // is not the one hashed, and is renamed again to its own name.
                    let at = self.root.join(&alt);
                    let got = sha256_file(&at).context(WriteSnafu { path: &at })?;
                    if got == theirs {
                        moved.push(m);
                    } else {
                        let right = crate::layout::collision_name(rel, &got);
                        let fix = Moved { from: rel.to_path_buf(), to: right.clone(), sha256: got };
                        intent(&fix).map_err(|source| Error::Intent { source })?;
                        match rename_noreplace(&at, &self.root.join(&right)) {
                            Ok(()) => moved.push(fix),
                            // Its own name already holds it: this copy is one too many.
                            Err(_) if same_content(&at, &self.root.join(&right)).unwrap_or(false) => {
                                let _ = fs::remove_file(&at);
                                moved.push(fix);
                            }
                            Err(e) => return Err(Error::Rename { path: self.root.join(&right), source: e }),
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    // The other output's collision name already holds a file: the same bytes
                    // (a copy left by an interrupted run) make the one at the name redundant;
                    // it is taken into staging, checked, and dropped. Anything else is two
                    // different outputs under one name.
                    let at = self.root.join(&alt);
                    if sha256_file(&at).context(WriteSnafu { path: &at })? != theirs {
                        return Err(Error::Collision { path: at });
                    }
                    let grabbed = self.staging.join(format!(".kamei-displaced-{}.part", next_number()));
                    match fs::rename(&target, &grabbed) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(Error::Rename { path: grabbed, source: e }),
                    }
                    if same_content(&grabbed, &at).context(WriteSnafu { path: &at })? {
                        fs::remove_file(&grabbed).context(WriteSnafu { path: &grabbed })?;
                        moved.push(m);
                    } else {
                        // Another process put another file at the name meanwhile: it is placed
                        // by the same rule before this output tries again.
                        let mut back =
                            tempfile::TempPath::try_from_path(&grabbed).context(WriteSnafu { path: &grabbed })?;
                        back.disable_cleanup(true);
                        let placed = self.place(back, None, rel, intent)?;
                        moved.extend(placed.moved);
                        if placed.rel != rel {
                            let sha256 = placed.sha256.unwrap_or_default();
                            moved.push(Moved { from: rel.to_path_buf(), to: placed.rel, sha256 });
                        }
                    }
                }
                Err(e) => return Err(Error::Rename { path: self.root.join(&alt), source: e }),
            }
        }
        Err(Error::Contended { path: target })
    }

    /// Displace the output at `m.from` (hash `m.sha256`, higher than `ours`) with the finished
    /// temporary file `tmp`, never leaving the name empty: `tmp` goes to the other output's
    /// collision name `m.to`, then the two are swapped atomically (`renameat2(RENAME_EXCHANGE)`).
    /// A writer that arrives meanwhile finds the name taken and hashes, so every output written
    /// at a contended name has its hash in the audit. What the swap brought out is checked: if
    /// the name changed since it was hashed, that file is put where the rule says.
    fn swap_in(
        &self,
        tmp: tempfile::TempPath,
        ours: &str,
        m: Moved,
        rel: &Path,
        intent: &mut dyn FnMut(&Moved) -> io::Result<()>,
        moved: &mut Vec<Moved>,
    ) -> Result<Swapped> {
        let target = self.root.join(rel);
        let alt_path = self.root.join(&m.to);
        let back_to_staging = |from: &Path| -> Result<tempfile::TempPath> {
            let back = self.staging.join(format!(".kamei-back-{}.part", next_number()));
            fs::rename(from, &back).context(RenameSnafu { path: &back })?;
            tempfile::TempPath::try_from_path(&back).context(WriteSnafu { path: &back })
        };
        match tmp.persist_noclobber(&alt_path) {
            Ok(()) => {}
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                let tmp = e.path;
                let there = match sha256_file(&alt_path) {
                    Ok(h) => h,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Swapped::Again(tmp)),
                    Err(e) => return Err(e).context(WriteSnafu { path: &alt_path }),
                };
                if there == ours {
                    // This output, left there by a run killed before its swap: taken back.
                    fs::rename(&alt_path, &*tmp).context(RenameSnafu { path: &*tmp })?;
                    return Ok(Swapped::Again(tmp));
                }
                if there != m.sha256 {
                    // Another writer's swap in progress (or a file that is not what its name
                    // says, which ends in a failure after the rounds run out).
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    return Ok(Swapped::Again(tmp));
                }
                // A copy of the other output is already at its collision name (left by an
                // interrupted run): swap this one in; the copy that comes out is one too many.
                return match exchange(&tmp, &target) {
                    Ok(()) => {
                        // `tmp` now holds what was at the name.
                        let got = sha256_file(&tmp).context(WriteSnafu { path: &*tmp })?;
                        if got == m.sha256 {
                            drop(tmp);
                            moved.push(m);
                            Ok(Swapped::Done(rel.to_path_buf()))
                        } else {
                            let mut out = tmp;
                            out.disable_cleanup(true);
                            self.settle_swapped_out(out, got, ours, rel, intent, moved)
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(Swapped::Unsupported(tmp)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Swapped::Again(tmp)),
                    Err(e) => Err(Error::Rename { path: target, source: e }),
                };
            }
            Err(e) => return Err(Error::Rename { path: alt_path, source: e.error }),
        }
        match exchange(&alt_path, &target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                return Ok(Swapped::Unsupported(back_to_staging(&alt_path)?));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Swapped::Again(back_to_staging(&alt_path)?)),
            Err(e) => {
                let _ = back_to_staging(&alt_path);
                return Err(Error::Rename { path: target, source: e });
            }
        }
        // This output is at the name; the collision name holds what was there.
        let got = sha256_file(&alt_path).context(WriteSnafu { path: &alt_path })?;
        if got == m.sha256 {
            moved.push(m);
            return Ok(Swapped::Done(rel.to_path_buf()));
        }
        let mut out = tempfile::TempPath::try_from_path(&alt_path).context(WriteSnafu { path: &alt_path })?;
        out.disable_cleanup(true);
        self.settle_swapped_out(out, got, ours, rel, intent, moved)
    }

    /// The name changed between its hash and the swap: the file `out` that came out (hash
    /// `got`) is not the one hashed. It is placed by the rule like any output (it may even take
    /// the name back, moving this one to its collision name).
    fn settle_swapped_out(
        &self,
        out: tempfile::TempPath,
        got: String,
        ours: &str,
        rel: &Path,
        intent: &mut dyn FnMut(&Moved) -> io::Result<()>,
        moved: &mut Vec<Moved>,
    ) -> Result<Swapped> {
        let from = out.to_path_buf();
        let placed = self.place(out, Some(got.clone()), rel, intent)?;
        let came_out = Moved { from: rel.to_path_buf(), to: placed.rel.clone(), sha256: got };
        if placed.rel != rel {
            intent(&came_out).map_err(|source| Error::Intent { source })?;
            moved.push(came_out);
        }
        let ours_now = placed.moved.iter().find(|x| x.sha256 == ours).map(|x| x.to.clone());
        moved.extend(placed.moved);
        tracing::debug!(from = %from.display(), "an output swapped out was not the one hashed");
        Ok(Swapped::Done(ours_now.unwrap_or_else(|| rel.to_path_buf())))
    }

    /// Persist `tmp` at the collision name `alt`; the same bytes already there are
    /// [`Placed::present`].
    fn persist_at(&self, tmp: tempfile::TempPath, alt: &Path, sha: String, moved: Vec<Moved>) -> Result<Placed> {
        let at = self.root.join(alt);
        match tmp.persist_noclobber(&at) {
            Ok(()) => Ok(Placed { rel: alt.to_path_buf(), present: false, sha256: Some(sha), moved }),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                if same_content(&e.path, &at).context(WriteSnafu { path: &at })? {
                    Ok(Placed { rel: alt.to_path_buf(), present: true, sha256: Some(sha), moved })
                } else {
                    Err(Error::Collision { path: at })
                }
            }
            Err(e) => Err(Error::Rename { path: at, source: e.error }),
        }
    }
}

/// Set when the file system cannot swap two names atomically (the displacement then renames
/// the other output away first).
static NO_EXCHANGE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(test)]
thread_local! {
    /// Tests of the path taken where the file system cannot swap.
    static WITHOUT_EXCHANGE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn tests_without_exchange() -> bool {
    WITHOUT_EXCHANGE.with(std::cell::Cell::get)
}

#[cfg(not(test))]
fn tests_without_exchange() -> bool {
    false
}

/// A number for staging file names, unique in this process.
fn next_number() -> usize {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// How a swap ended.
enum Swapped {
    /// This output is placed, at this name.
    Done(PathBuf),
    /// The name changed under it: try again with the temporary file.
    Again(tempfile::TempPath),
    /// The file system cannot swap: the temporary file back.
    Unsupported(tempfile::TempPath),
}

/// Swap the files at `a` and `b` atomically. [`io::ErrorKind::Unsupported`] where the system or
/// the file system cannot (outside Linux; NFS).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }
        Err(e) => Err(e.into()),
    }
}

/// Swap the files at `a` and `b` atomically: not available here.
#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Rename `from` to `to` without replacing anything at `to` (atomically where the system can:
/// `renameat2(RENAME_NOREPLACE)` on Linux). Never removes `from` on failure.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    let mut p = tempfile::TempPath::try_from_path(from)?;
    p.disable_cleanup(true);
    p.persist_noclobber(to).map_err(|e| e.error)
}

/// A writer that hashes (SHA-256) what its inner writer accepts, as it accepts it: the output's
/// content hash costs one pass over bytes already in the cache, and the file is never read back.
struct Hashing<W> {
    inner: W,
    hash: sha2::Sha256,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Hashing<W> {
        use sha2::Digest;
        Hashing { inner, hash: sha2::Sha256::new() }
    }

    /// The hash of every byte written (lower-case hex).
    fn finish(self) -> String {
        use sha2::Digest;
        hex::encode(self.hash.finalize())
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The SHA-256 of a file's bytes, lower-case hex (streamed).
pub fn sha256_file(path: &Path) -> io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match f.read(&mut buf)? {
            0 => break,
            n => h.update(&buf[..n]),
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// The SHA-256 of what `file` encodes to, without writing it anywhere (dry runs).
///
/// # Errors
/// As [`encode`].
pub fn output_sha256(file: &DicomFile, input: Option<&Path>) -> Result<String> {
    use sha2::{Digest, Sha256};
    struct Hasher(Sha256);
    impl Write for Hasher {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut h = Hasher(Sha256::new());
    encode(file, input, &mut h)?;
    Ok(hex::encode(h.0.finalize()))
}

#[cfg(unix)]
fn permissions() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    // rw for everyone, narrowed by the process umask (usually 0644), like any file a tool creates.
    fs::Permissions::from_mode(0o666)
}

fn with_path(e: Error, target: &Path) -> Error {
    match e {
        Error::Write { source, .. } => Error::Write { path: target.to_path_buf(), source },
        other => other,
    }
}

/// Whether two files have the same bytes (streamed, so large files are fine).
pub fn same_content(a: &Path, b: &Path) -> io::Result<bool> {
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = read_full(&mut fa, &mut ba)?;
        let m = read_full(&mut fb, &mut bb)?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The input file, opened lazily the first time a deferred value is copied, and checked
/// against the stamp it had when it was hashed, when opened and after the last copy.
struct DeferredSource<'p> {
    path: Option<&'p Path>,
    file: Option<File>,
    stamp: Option<crate::read::Stamp>,
}

impl DeferredSource<'_> {
    fn copy(&mut self, d: &Deferred, out: &mut impl Write) -> Result<()> {
        if self.file.is_none() {
            let path = self.path.ok_or_else(|| Error::CopyDeferred {
                source: io::Error::new(io::ErrorKind::NotFound, "no input path for a deferred value"),
            })?;
            self.file = Some(crate::read::open_input(path).context(CopyDeferredSnafu)?);
            self.check()?;
        }
        let f = self.file.as_mut().expect("opened just above");
        f.seek(SeekFrom::Start(d.offset)).context(CopyDeferredSnafu)?;
        let copied = io::copy(&mut f.take(d.length), out).context(CopyDeferredSnafu)?;
        if copied != d.length {
            return Err(Error::CopyDeferred {
                source: io::Error::new(io::ErrorKind::UnexpectedEof, "the input changed while it was being processed"),
            });
        }
        Ok(())
    }

    /// [`Error::InputChanged`] if the opened input is no longer the file that was hashed.
    fn check(&self) -> Result<()> {
        match (&self.file, &self.stamp, self.path) {
            (Some(file), Some(stamp), Some(path)) => stamp.check(file, path).map_err(|_| Error::InputChanged),
            _ => Ok(()),
        }
    }
}

fn write_dataset(
    out: &mut impl Write,
    ds: &DataSet,
    enc: Encoding,
    src: &mut Option<&mut DeferredSource<'_>>,
) -> Result<()> {
    // Odd-length fragments get a pad byte each: the offset tables move with the items.
    let padded = crate::odd_fragments::padded_tables(ds).map_err(|e| Error::Fragments { reason: e.0 })?;
    for e in ds.elements() {
        match (&padded, &e.value) {
            (Some(t), Value::Fragments(f)) if e.tag == Tag(0x7FE0, 0x0010) => {
                write_header(out, e.tag, e.vr, UNDEFINED, enc)?;
                write_fragments(out, &t.basic, &f.fragments, enc)?;
            }
            (Some(PaddedTables { extended: Some(x), .. }), _) if e.tag == Tag(0x7FE0, 0x0001) => {
                write_element(out, &Element::new(e.tag, e.vr, x.clone()), enc, src)?;
            }
            _ => write_element(out, e, enc, src)?,
        }
    }
    Ok(())
}

fn io(out: &mut impl Write, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes).map_err(|source| Error::Write { path: PathBuf::from("<output>"), source })
}

fn u16b(v: u16, enc: Encoding) -> [u8; 2] {
    if enc.big_endian { v.to_be_bytes() } else { v.to_le_bytes() }
}

fn u32b(v: u32, enc: Encoding) -> [u8; 4] {
    if enc.big_endian { v.to_be_bytes() } else { v.to_le_bytes() }
}

/// The VR written in an explicit header: a short-length VR whose value does not fit 16 bits
/// is written as UN (its bytes unchanged).
fn header_vr(vr: VR, len: u64) -> VR {
    if !has_long_length(vr) && len > 0xFFFF { VR::UN } else { vr }
}

fn write_header(out: &mut impl Write, tag: Tag, vr: VR, len: u32, enc: Encoding) -> Result<()> {
    let mut h = [0u8; 12];
    h[0..2].copy_from_slice(&u16b(tag.group(), enc));
    h[2..4].copy_from_slice(&u16b(tag.element(), enc));
    if !enc.explicit_vr {
        h[4..8].copy_from_slice(&u32b(len, enc));
        return io(out, &h[..8]);
    }
    h[4..6].copy_from_slice(&vr.to_bytes());
    if has_long_length(vr) {
        h[8..12].copy_from_slice(&u32b(len, enc));
        io(out, &h[..12])
    } else {
        h[6..8].copy_from_slice(&u16b(len as u16, enc));
        io(out, &h[..8])
    }
}

fn write_item_tag(out: &mut impl Write, tag: Tag, len: u32, enc: Encoding) -> Result<()> {
    let mut h = [0u8; 8];
    h[0..2].copy_from_slice(&u16b(tag.group(), enc));
    h[2..4].copy_from_slice(&u16b(tag.element(), enc));
    h[4..8].copy_from_slice(&u32b(len, enc));
    io(out, &h)
}

/// The byte that pads an odd-length value (PS3.5 §6.2): NUL for UI and binary VRs, space for text.
fn pad_byte(vr: VR) -> u8 {
    match vr {
        VR::UI | VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::UN => 0,
        _ => b' ',
    }
}

fn to_u32(len: u64, tag: Tag) -> Result<u32> {
    u32::try_from(len).ok().filter(|&l| l != UNDEFINED).ok_or(Error::TooLong { tag })
}

fn write_element(
    out: &mut impl Write,
    e: &Element,
    enc: Encoding,
    src: &mut Option<&mut DeferredSource<'_>>,
) -> Result<()> {
    match &e.value {
        Value::Bytes(b) => {
            let padded = b.len() as u64 + (b.len() as u64 % 2);
            write_header(out, e.tag, header_vr(e.vr, padded), to_u32(padded, e.tag)?, enc)?;
            io(out, b)?;
            if b.len() % 2 == 1 {
                io(out, &[pad_byte(e.vr)])?;
            }
            Ok(())
        }
        Value::Sequence(seq) => {
            let vr = if e.vr == VR::UN { VR::UN } else { VR::SQ };
            let len = if seq.undefined_length { UNDEFINED } else { to_u32(sequence_len(seq, enc), e.tag)? };
            write_header(out, e.tag, vr, len, enc)?;
            write_sequence_body(out, seq, enc, src)
        }
        Value::Fragments(f) => {
            write_header(out, e.tag, e.vr, UNDEFINED, enc)?;
            write_fragments(out, &f.offset_table, &f.fragments, enc)
        }
        Value::Deferred(d) if d.encapsulated => {
            write_header(out, e.tag, e.vr, UNDEFINED, enc)?;
            deferred(src, d, out)
        }
        Value::Deferred(d) => {
            let padded = d.length + d.length % 2;
            write_header(out, e.tag, header_vr(e.vr, padded), to_u32(padded, e.tag)?, enc)?;
            deferred(src, d, out)?;
            if d.length % 2 == 1 {
                io(out, &[0])?;
            }
            Ok(())
        }
        Value::Generated(g) => {
            let len = g.0.len();
            let padded = len + len % 2;
            write_header(out, e.tag, header_vr(e.vr, padded), to_u32(padded, e.tag)?, enc)?;
            let mut counted = Counted { out: &mut *out, written: 0 };
            g.0.write_to(&mut counted).context(GenerateSnafu)?;
            if counted.written != len {
                return Err(Error::Generate {
                    source: io::Error::other(format!("{} bytes made, {len} announced", counted.written)),
                });
            }
            if len % 2 == 1 {
                io(out, &[pad_byte(e.vr)])?;
            }
            Ok(())
        }
    }
}

/// A writer that counts what passes through it, to check a [`Value::Generated`] wrote the
/// length its header announced (a shorter value would shift every element after it).
struct Counted<'w, W: Write> {
    out: &'w mut W,
    written: u64,
}

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn deferred(src: &mut Option<&mut DeferredSource<'_>>, d: &Deferred, out: &mut impl Write) -> Result<()> {
    match src {
        Some(s) => s.copy(d, out),
        None => Err(Error::CopyDeferred {
            source: io::Error::new(io::ErrorKind::InvalidInput, "deferred value inside the file meta"),
        }),
    }
}

fn write_sequence_body(
    out: &mut impl Write,
    seq: &Sequence,
    enc: Encoding,
    src: &mut Option<&mut DeferredSource<'_>>,
) -> Result<()> {
    let item_enc = if seq.implicit_le { Encoding::IMPLICIT_LE } else { enc };
    for item in &seq.items {
        let len = if item.undefined_length {
            UNDEFINED
        } else {
            to_u32(dataset_len(&item.dataset, item_enc), Tag(0xFFFE, 0xE000))?
        };
        write_item_tag(out, Tag(0xFFFE, 0xE000), len, item_enc)?;
        write_dataset(out, &item.dataset, item_enc, src)?;
        if item.undefined_length {
            write_item_tag(out, Tag(0xFFFE, 0xE00D), 0, item_enc)?;
        }
    }
    if seq.undefined_length {
        write_item_tag(out, Tag(0xFFFE, 0xE0DD), 0, item_enc)?;
    }
    Ok(())
}

/// The items of encapsulated pixel data: the Basic Offset Table `offset_table` (as written: see
/// [`crate::odd_fragments`]), then each fragment, an odd one with a zero pad byte.
fn write_fragments(out: &mut impl Write, offset_table: &[u8], fragments: &[Vec<u8>], enc: Encoding) -> Result<()> {
    for frag in std::iter::once(offset_table).chain(fragments.iter().map(Vec::as_slice)) {
        let padded = frag.len() + frag.len() % 2;
        write_item_tag(out, Tag(0xFFFE, 0xE000), to_u32(padded as u64, Tag(0x7FE0, 0x0010))?, enc)?;
        io(out, frag)?;
        if frag.len() % 2 == 1 {
            io(out, &[0])?;
        }
    }
    write_item_tag(out, Tag(0xFFFE, 0xE0DD), 0, enc)
}

fn header_len(vr: VR, enc: Encoding) -> u64 {
    if enc.explicit_vr && has_long_length(vr) { 12 } else { 8 }
}

/// Encoded length of a data set's elements in `enc` (for defined-length items).
pub(crate) fn dataset_len(ds: &DataSet, enc: Encoding) -> u64 {
    ds.elements().iter().map(|e| element_len(e, enc)).sum()
}

fn element_len(e: &Element, enc: Encoding) -> u64 {
    match &e.value {
        Value::Bytes(b) => {
            let padded = b.len() as u64 + b.len() as u64 % 2;
            header_len(header_vr(e.vr, padded), enc) + padded
        }
        Value::Sequence(seq) => {
            let vr = if e.vr == VR::UN { VR::UN } else { VR::SQ };
            header_len(vr, enc) + sequence_len(seq, enc) + if seq.undefined_length { 8 } else { 0 }
        }
        Value::Fragments(f) => {
            header_len(VR::OB, enc)
                + std::iter::once(&f.offset_table)
                    .chain(&f.fragments)
                    .map(|x| 8 + x.len() as u64 + x.len() as u64 % 2)
                    .sum::<u64>()
                + 8
        }
        Value::Deferred(d) if d.encapsulated => header_len(VR::OB, enc) + d.length,
        Value::Deferred(d) => header_len(header_vr(e.vr, d.length), enc) + d.length + d.length % 2,
        Value::Generated(g) => {
            let padded = g.0.len() + g.0.len() % 2;
            header_len(header_vr(e.vr, padded), enc) + padded
        }
    }
}

/// Length of a sequence's items (without the sequence delimiter).
fn sequence_len(seq: &Sequence, enc: Encoding) -> u64 {
    let item_enc = if seq.implicit_le { Encoding::IMPLICIT_LE } else { enc };
    seq.items
        .iter()
        .map(|item| 8 + dataset_len(&item.dataset, item_enc) + if item.undefined_length { 8 } else { 0 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Opened, ReadOptions, Source, parse};

    fn reparse(bytes: Vec<u8>) -> DicomFile {
        match parse(&Source::from_bytes("x", bytes), &ReadOptions::default()).unwrap() {
            Opened::Dicom(f) => f,
            other => panic!("{other:?}"),
        }
    }

    fn sample(ts: crate::transfer::TransferSyntax) -> DicomFile {
        let mut meta = DataSet::new();
        meta.put(Element::new(Tag(0x0002, 0x0010), VR::UI, format!("{}\0", ts.uid).into_bytes()));
        let inner = DataSet::from_elements([Element::new(Tag(0x0008, 0x1155), VR::UI, b"1.2.3.4\0".to_vec())]);
        let mut seq = Element::sequence(Tag(0x0008, 0x1140), vec![inner.clone(), inner]);
        if let Value::Sequence(s) = &mut seq.value {
            s.undefined_length = false;
            s.items[0].undefined_length = false;
        }
        let dataset = DataSet::from_elements([
            Element::new(Tag(0x0008, 0x0005), VR::CS, b"\\ISO 2022 IR 87".to_vec()),
            Element::new(Tag(0x0010, 0x0010), VR::PN, b"Yamada^Tarou=\x1b$B;3ED\x1b(B ".to_vec()),
            Element::new(Tag(0x0028, 0x0010), VR::US, 512u16.to_le_bytes().to_vec()),
            seq,
        ]);
        DicomFile::built(meta, dataset, ts)
    }

    #[test]
    fn round_trip_is_identical_in_each_native_syntax() {
        use crate::transfer::TransferSyntax as Ts;
        for ts in
            [Ts::explicit_le(), Ts::implicit_le(), Ts::explicit_be(), Ts::from_uid("1.2.840.10008.1.2.1.99").unwrap()]
        {
            let f = sample(ts.clone());
            let bytes = to_vec(&f, None).unwrap();
            let back = reparse(bytes.clone());
            assert_eq!(back.dataset.bytes(Tag(0x0010, 0x0010)), f.dataset.bytes(Tag(0x0010, 0x0010)), "{}", ts.uid);
            assert_eq!(to_vec(&back, None).unwrap(), bytes, "second round trip differs for {}", ts.uid);
        }
    }

    #[test]
    fn odd_length_values_are_padded_by_vr() {
        let mut f = sample(crate::transfer::TransferSyntax::explicit_le());
        f.dataset.put(Element::new(Tag(0x0008, 0x0018), VR::UI, b"1.2.3".to_vec()));
        f.dataset.put(Element::new(Tag(0x0008, 0x1030), VR::LO, b"abc".to_vec()));
        let back = reparse(to_vec(&f, None).unwrap());
        assert_eq!(back.dataset.bytes(Tag(0x0008, 0x0018)), Some(&b"1.2.3\0"[..]));
        assert_eq!(back.dataset.bytes(Tag(0x0008, 0x1030)), Some(&b"abc "[..]));
    }

    fn variant(f: &DicomFile, text: &str) -> DicomFile {
        let mut g = f.clone();
        g.dataset.put(Element::new(Tag(0x0008, 0x1030), VR::LO, text.as_bytes().to_vec()));
        g
    }

    fn no_intent() -> impl FnMut(&Moved) -> io::Result<()> {
        |_| Ok(())
    }

    #[test]
    fn commit_gives_the_hash_of_the_bytes_it_wrote_where_the_name_was_free() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join(".staging");
        let c = Committer { root: dir.path(), staging: &staging, sync: false };
        let mut f = sample(crate::transfer::TransferSyntax::explicit_le());
        // Longer than the write buffer, so that it goes past the buffer to the file.
        f.dataset.put(Element::new(Tag(0x7FE0, 0x0010), VR::OW, vec![7u8; 100_000]));
        for rel in ["x/1.dcm", "x/2.dcm"].map(Path::new) {
            let placed = c.commit(&f, None, rel, &mut no_intent()).unwrap();
            let on_disk = sha256_file(&dir.path().join(rel)).unwrap();
            assert_eq!(placed.sha256.as_deref(), Some(on_disk.as_str()), "{rel:?}");
            assert_eq!(on_disk, output_sha256(&f, None).unwrap());
        }
    }

    #[test]
    fn commit_does_not_replace_a_different_file_with_a_higher_hash() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join(".staging");
        let c = Committer { root: dir.path(), staging: &staging, sync: false };
        let rel = Path::new("a/b.dcm");
        let f = sample(crate::transfer::TransferSyntax::explicit_le());
        let first = c.commit(&f, None, rel, &mut no_intent()).unwrap();
        assert_eq!((first.rel.as_path(), first.present), (rel, false));
        let again = c.commit(&f, None, rel, &mut no_intent()).unwrap();
        assert!(again.present && again.rel == rel && again.moved.is_empty());
        let f_sha = again.sha256.clone().unwrap();
        assert_eq!(first.sha256, Some(f_sha.clone()));
        // A variant with a higher hash than f: it must not replace f.
        let (g, g_sha) = (0..64)
            .map(|i| variant(&f, &format!("other {i}")))
            .map(|g| {
                let h = output_sha256(&g, None).unwrap();
                (g, h)
            })
            .find(|(_, h)| *h > f_sha)
            .expect("one of 64 hashes is higher");
        let placed = c.commit(&g, None, rel, &mut no_intent()).unwrap();
        assert_eq!(placed.rel, crate::layout::collision_name(rel, &g_sha));
        assert!(placed.moved.is_empty());
        assert_eq!(fs::read(dir.path().join(rel)).unwrap(), to_vec(&f, None).unwrap());
        assert_eq!(fs::read_dir(&staging).unwrap().count(), 0, "staging must be empty");
    }

    #[test]
    fn a_lower_hash_takes_the_name_and_moves_the_other_output_to_its_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join(".staging");
        let c = Committer { root: dir.path(), staging: &staging, sync: false };
        let rel = Path::new("p/1.2.3.dcm");
        let base = sample(crate::transfer::TransferSyntax::explicit_le());
        let mut files: Vec<(DicomFile, String)> = ["a", "b", "c"]
            .iter()
            .map(|t| variant(&base, t))
            .map(|f| {
                let h = output_sha256(&f, None).unwrap();
                (f, h)
            })
            .collect();
        // Highest first: each later one displaces the one at the name.
        files.sort_by(|a, b| b.1.cmp(&a.1));
        let mut intents = Vec::new();
        let mut all_moves = Vec::new();
        for (f, _) in &files {
            let placed = c.commit(f, None, rel, &mut |m: &Moved| {
                intents.push(m.clone());
                Ok(())
            });
            all_moves.extend(placed.unwrap().moved);
        }
        assert_eq!(intents, all_moves, "every move is announced before it is made");
        assert_eq!(all_moves.len(), 2);
        let lowest = &files[2];
        assert_eq!(fs::read(dir.path().join(rel)).unwrap(), to_vec(&lowest.0, None).unwrap());
        for (f, h) in &files[..2] {
            let alt = crate::layout::collision_name(rel, h);
            assert_eq!(fs::read(dir.path().join(&alt)).unwrap(), to_vec(f, None).unwrap());
            assert!(all_moves.iter().any(|m| m.to == alt && m.from == rel && &m.sha256 == h));
        }
        assert_eq!(fs::read_dir(dir.path().join("p")).unwrap().count(), 3);
        assert_eq!(fs::read_dir(&staging).unwrap().count(), 0, "staging must be empty");
    }

    #[test]
    fn the_names_do_not_depend_on_the_order_of_commits() {
        names_do_not_depend_on_the_order_of_commits();
    }

    #[test]
    fn the_names_do_not_depend_on_the_order_of_commits_where_names_cannot_be_swapped() {
        WITHOUT_EXCHANGE.with(|w| w.set(true));
        names_do_not_depend_on_the_order_of_commits();
        a_lower_hash_takes_the_name_and_moves_the_other_output_to_its_own_name();
        WITHOUT_EXCHANGE.with(|w| w.set(false));
    }

    fn names_do_not_depend_on_the_order_of_commits() {
        let base = sample(crate::transfer::TransferSyntax::explicit_le());
        let files: Vec<DicomFile> = ["a", "b", "c"].iter().map(|t| variant(&base, t)).collect();
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        let mut trees = Vec::new();
        for order in orders {
            let dir = tempfile::tempdir().unwrap();
            let staging = dir.path().join(".staging");
            let c = Committer { root: dir.path(), staging: &staging, sync: false };
            for i in order {
                c.commit(&files[i], None, Path::new("1.2.dcm"), &mut no_intent()).unwrap();
            }
            let mut tree: Vec<(String, Vec<u8>)> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), fs::read(&p).unwrap()))
                .collect();
            tree.sort();
            trees.push(tree);
        }
        assert_eq!(trees[0].len(), 3);
        assert!(trees.iter().all(|t| *t == trees[0]), "the same names and bytes in every order");
    }

    #[test]
    fn a_copy_left_at_the_collision_name_makes_the_one_at_the_name_redundant() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join(".staging");
        let c = Committer { root: dir.path(), staging: &staging, sync: false };
        let rel = Path::new("1.2.dcm");
        let base = sample(crate::transfer::TransferSyntax::explicit_le());
        let mut files: Vec<(DicomFile, String)> = ["a", "b"]
            .iter()
            .map(|t| variant(&base, t))
            .map(|f| (output_sha256(&f, None).unwrap(), f))
            .map(|(h, f)| (f, h))
            .collect();
        files.sort_by(|a, b| b.1.cmp(&a.1));
        let (high, high_sha) = &files[0];
        // The higher output is at the name and, from an interrupted run, also at its own name.
        c.commit(high, None, rel, &mut no_intent()).unwrap();
        fs::copy(dir.path().join(rel), dir.path().join(crate::layout::collision_name(rel, high_sha))).unwrap();
        let placed = c.commit(&files[1].0, None, rel, &mut no_intent()).unwrap();
        assert_eq!(placed.rel, rel);
        assert_eq!(placed.moved.len(), 1);
        assert_eq!(fs::read_dir(dir.path()).unwrap().filter(|e| e.as_ref().unwrap().path().is_file()).count(), 2);
        assert_eq!(fs::read_dir(&staging).unwrap().count(), 0, "staging must be empty");
    }

    #[test]
    fn commit_creates_missing_folders_and_writes_into_existing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join(".staging");
        let f = sample(crate::transfer::TransferSyntax::explicit_le());
        // Staging and target folders missing; then staging present, target folder missing;
        // then both present.
        let c = Committer { root: dir.path(), staging: &staging, sync: false };
        for rel in ["p/s1/a.dcm", "p/s2/deeper/b.dcm", "p/s2/deeper/c.dcm"] {
            let target = dir.path().join(rel);
            let placed = c.commit(&f, None, Path::new(rel), &mut no_intent()).unwrap();
            assert!(!placed.present && placed.rel == Path::new(rel), "{rel}");
            assert_eq!(fs::read(&target).unwrap(), to_vec(&f, None).unwrap());
        }
        assert_eq!(fs::read_dir(&staging).unwrap().count(), 0, "staging must be empty");
    }
}
