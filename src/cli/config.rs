//! Turn arguments into a validated [`Job`]: load the profile and key, check paths, resolve
//! defaults. Everything that can fail before a file is walked fails here (exit code 2).

use super::args::{CohortArgs, DeidArgs, LayoutArg, ProfileArgs};
use anyhow::{Context, Result, bail};
use kamei::cohort::{Cohort, Register};
use kamei::layout::Layout;
use kamei::pipeline::Job;
use kamei::pixels::{PixelCleaner, PixelOptions};
use kamei::profile::{DateShiftPolicy, DeidOption, Profile};
use kamei::pseudo::{PseudonymKey, Pseudonymizer};
use kamei::read::ReadOptions;
use kamei::walk::Shard;
use std::path::{Path, PathBuf};

/// Load a profile with the options and settings given on the command line.
pub fn profile(args: &ProfileArgs) -> Result<Profile> {
    let spec = args.profile.as_deref().unwrap_or("basic");
    let mut profile = Profile::load(spec).with_context(|| format!("could not load profile {spec}"))?;
    let mut options = Vec::new();
    for name in &args.options {
        match DeidOption::from_name(name) {
            Some(o) => options.push(o),
            None => {
                let known: Vec<&str> = DeidOption::ALL.iter().map(|o| o.name()).collect();
                bail!("unknown option {name:?}; the options are: {}", known.join(", "));
            }
        }
    }
    profile.add_options(options).context("invalid options")?;
    if args.strict {
        profile.set_strict(true);
    }
    if args.date_shift_max_days.is_some() || args.keep_weekday {
        let current = profile.date_shift();
        let max_days = args.date_shift_max_days.unwrap_or(current.max_days);
        // A shift beyond a century moves real dates outside what DA can hold: every date would
        // be emptied, while the release says its dates were modified.
        if max_days == 0 || max_days > kamei::profile::MAX_SHIFT_DAYS {
            bail!("--date-shift-max-days must be between 1 and {} (a century)", kamei::profile::MAX_SHIFT_DAYS);
        }
        profile.set_date_shift(DateShiftPolicy { max_days, keep_weekday: args.keep_weekday || current.keep_weekday });
    }
    ensure_weekday_fits(profile.date_shift())?;
    Ok(profile)
}

/// Refuse keeping the weekday with a largest shift under a week: the shift is a whole number of
/// weeks, so it would be 7 days, larger than the bound asked for. Checked on the settings in
/// effect, whichever of the flags and the profile's `[date_shift]` set each half.
fn ensure_weekday_fits(policy: DateShiftPolicy) -> Result<()> {
    if policy.keep_weekday && policy.max_days < 7 {
        bail!(
            "keeping the weekday (--keep-weekday or [date_shift] keep_weekday) shifts by whole weeks and \
             needs a largest shift (--date-shift-max-days or [date_shift] max_days) of at least 7 days, not {}",
            policy.max_days
        );
    }
    Ok(())
}

/// Load the registers and the study window into a [`Cohort`]. With an opt-out register and a
/// linkage table that names merges (`merged` rows, written by `clinical ss-mix2`), every ID a
/// merge joins to a listed ID is left out too: one person, whichever command releases them.
pub fn cohort(args: &CohortArgs, window: Option<&[String]>, linkage: Option<&Path>) -> Result<Cohort> {
    let mut exclude = args.exclude_patients.as_deref().map(Register::load).transpose()?;
    if let (Some(register), Some(table)) = (exclude.as_mut(), linkage) {
        let merges = kamei::linkage::read_merges(table)
            .with_context(|| format!("could not read the merges of the linkage table {}", table.display()))?;
        let added = register.add_merged(&merges);
        if added > 0 {
            kamei::say!(
                "kamei: the linkage table ties {added} more patient ID(s) to opted-out patients by a merge (one person): left out too"
            );
        }
    }
    let include = args.include_patients.as_deref().map(Register::load).transpose()?;
    if let (Some(path), Some(r)) = (&args.include_patients, &include) {
        // An empty cohort would leave every input out and still exit 0: an export that went
        // wrong, not a release.
        if r.is_empty() {
            bail!("--include-patients {}: the register lists no patient ID", path.display());
        }
    }
    let window = match window {
        Some([from, to]) => {
            let (a, b) = (kamei::cohort::parse_date(from)?, kamei::cohort::parse_date(to)?);
            if a > b {
                bail!("--studies-between: FROM is after TO");
            }
            Some((a, b))
        }
        Some(_) => bail!("--studies-between takes two dates"),
        None => None,
    };
    Ok(Cohort::new(exclude, include, window))
}

/// Where a path given on the command line really is: absolute, lexically normalised, with
/// symbolic links resolved in the part that exists, and a final component that is a dangling
/// symbolic link replaced by its target (a file created there lands at the target, so the
/// checks that keep sensitive files out of OUT must see the target). The file need not exist.
pub fn absolute(p: &Path) -> Result<PathBuf> {
    let mut path = lexical(p)?;
    for _ in 0..40 {
        let dangling = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) && !path.exists();
        if !dangling {
            break;
        }
        let target = std::fs::read_link(&path).with_context(|| format!("could not resolve {}", p.display()))?;
        path = lexical(&path.parent().unwrap_or(Path::new("/")).join(target))?;
    }
    // Resolve symbolic links in the part that exists.
    let mut existing = path.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => rest.push(name.to_os_string()),
            None => break,
        }
        existing.pop();
    }
    let mut resolved = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        resolved.push(name);
    }
    Ok(resolved)
}

/// Whether `path` (or, when it does not exist yet, its nearest existing ancestor) is `dir` or
/// lies below it, by file system identity (device, inode) rather than by name: the same folder
/// reached through another mount point (a bind mount, one NFS export mounted twice) has
/// another name but the same identity. False when `dir` does not exist.
pub fn within(path: &Path, dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(target) = std::fs::metadata(dir) else { return false };
        path.ancestors()
            .filter_map(|a| std::fs::metadata(a).ok())
            .any(|m| (m.dev(), m.ino()) == (target.dev(), target.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, dir);
        false
    }
}

/// Read the `--key` file of any command, warning (on stderr, even with `--quiet`, once per run)
/// when its group or others can read or write it ([`PseudonymKey::open_to_others`]), as ssh
/// does for a private key: the run goes on and its exit code is unchanged, but a key left
/// world-readable in a shared folder is noticed. The warning names the key's path (not a
/// patient's value) and its mode.
pub fn read_key(path: &Path) -> Result<PseudonymKey> {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let key = PseudonymKey::read(path)?;
    if let Some(mode) = PseudonymKey::open_to_others(path) {
        if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            kamei::say!(
                "kamei: warning: the key file {} can be read or written by its group or others (mode {mode:04o}): anyone who reads it can re-identify every patient pseudonymized with it; make it private (chmod 600)",
                super::report::sanitize(&path.to_string_lossy())
            );
        }
    }
    Ok(key)
}

/// Refuse a file that re-identifies patients (`what`: the linkage table, the key file) inside
/// the output folder `out` (absolute), which is released, or inside an INPUT, which is read
/// (and never written to): by path, through symbolic links ([`absolute`]) and by file system
/// identity ([`within`]: the same folder through a bind mount). With the key in the release,
/// every pseudonym, UID and date shift made with it can be recomputed. Checked before anything
/// is written.
pub fn keep_apart(what: &str, path: &Path, out: &Path, inputs: &[PathBuf]) -> Result<()> {
    let abs = absolute(path)?;
    if abs.starts_with(out) || within(&abs, out) {
        bail!(
            "{what} must not be inside the output folder (it re-identifies patients, and the folder is released); choose a path outside {}",
            out.display()
        );
    }
    for input in inputs {
        let root = absolute(input)?;
        if abs.starts_with(&root) || within(&abs, &root) {
            bail!(
                "{what} must not be inside an input folder (inputs are read, never written to: keep it apart from them)"
            );
        }
    }
    Ok(())
}

/// Refuse a `--linkage` FILE whose rows would destroy another file: the `--key` file itself
/// (by path or by file system identity: a job script's variable mix-up), or an existing file
/// that is not a kamei linkage table ([`kamei::linkage::check_target`]), or a table written with
/// another key than the one `fingerprint` names ([`kamei::linkage::check_key`]). Checked before
/// anything is written, so a refused run leaves that file, and OUT, as they were.
pub fn check_linkage_file(link: &Path, key: Option<&Path>, fingerprint: Option<&str>) -> Result<()> {
    if let Some(key) = key {
        if same_file(link, key)? {
            bail!(
                "--linkage names the key file (--key); appending the table would destroy the key: give the linkage table a file of its own"
            );
        }
    }
    kamei::linkage::check_target(link)?;
    if let Some(fingerprint) = fingerprint {
        kamei::linkage::check_key(link, fingerprint)?;
    }
    Ok(())
}

/// Whether two paths name one file: the same absolute path (links resolved), or the same
/// (device, inode).
pub fn same_file(a: &Path, b: &Path) -> Result<bool> {
    if absolute(a)? == absolute(b)? {
        return Ok(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return Ok((x.dev(), x.ino()) == (y.dev(), y.ino()));
        }
    }
    Ok(false)
}

/// An absolute, lexically normalised path (`..` and `.` removed; links not followed).
fn lexical(p: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(p).with_context(|| format!("could not resolve {}", p.display()))?;
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

/// What the CLI needs besides the job.
pub struct Ui {
    /// Print nothing but errors.
    pub quiet: bool,
    /// Verbosity.
    pub verbose: u8,
    /// Name inputs by path.
    pub show_paths: bool,
}

/// Build the job for `kamei deid`.
pub fn deid(args: &DeidArgs) -> Result<(Job, Ui)> {
    let profile = profile(&args.profile)?;
    // An INPUT that does not exist (purged since it was listed, a dangling link) is not checked
    // here: it is an input that fails, counted and audited, and the run goes on (README: one
    // bad input never stops a run).
    let out = absolute(&args.output)?;
    for (i, input) in args.inputs.iter().enumerate() {
        let abs = absolute(input)?;
        if abs.starts_with(&out) || within(&abs, &out) {
            bail!(
                "{} is inside the output folder (-o); choose an output folder outside the inputs' trees or beside them",
                input_name(args, i)
            );
        }
        if abs.is_dir() && (out.starts_with(&abs) || within(&out, &abs)) {
            bail!(
                "the output folder (-o) is inside {} (inputs are never written to, and a later run would read the release as input); choose an output folder outside the inputs",
                input_name(args, i)
            );
        }
    }
    if out.exists() && !out.is_dir() {
        bail!("output {} exists and is not a folder", out.display());
    }
    if let Some(key) = &args.key {
        keep_apart("the key file (--key)", key, &out, &args.inputs)?;
    }
    let date_shift = profile.date_shift();
    let pseudo = match &args.key {
        Some(path) => Pseudonymizer::new(&read_key(path)?, date_shift),
        None => Pseudonymizer::anonymizing(date_shift),
    };
    if args.key.is_none() && args.shard.is_some_and(|s| s != Shard::WHOLE) {
        bail!(
            "--shard needs --key: shards agree on pseudonyms and UIDs only through a shared key (an anonymized run draws a random key of its own)"
        );
    }
    if let Some(link) = &args.linkage {
        if args.key.is_none() {
            bail!("--linkage needs --key: an anonymized run (no key) keeps no link back to patients");
        }
        keep_apart("the linkage table", link, &out, &args.inputs)?;
        check_linkage_file(link, args.key.as_deref(), Some(pseudo.key_fingerprint()))?;
    }
    let jobs = match args.jobs {
        Some(0) => bail!("--jobs must be at least 1"),
        Some(n) => n,
        None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    let (pixels, previews) = pixel_cleaner(args, &profile, &out)?;
    let layout = match args.layout {
        LayoutArg::Hierarchy => Layout::Hierarchy,
        LayoutArg::Mirror => Layout::Mirror,
    };
    let columns = args.columns.as_deref().map(kamei::clinical::columns::Columns::load).transpose()?;
    let sources = super::clinical::identifier_sources(
        &args.identifiers_from,
        &out,
        columns.as_ref(),
        &kamei::clinical::csv::CsvOptions::default(),
        &pseudo,
        &std::sync::atomic::AtomicBool::new(false),
    )?;
    let job = Job {
        inputs: args.inputs.clone(),
        out,
        layout,
        profile,
        pseudo,
        shard: args.shard.unwrap_or(Shard::WHOLE),
        jobs,
        dry_run: args.dry_run,
        sync: args.sync,
        linkage: args.linkage.clone(),
        read: ReadOptions::default(),
        cohort: cohort(&args.cohort, args.studies_between.as_deref(), args.linkage.as_deref())?,
        pixels,
        previews,
        sources,
    };
    Ok((job, Ui { quiet: args.quiet, verbose: args.verbose, show_paths: args.show_paths }))
}

/// How a message names INPUT argument `i` (0-based): by its path with `--show-paths`, else by
/// its position (`INPUT argument #2`), because paths in hospital archives often carry names and
/// IDs (a per-patient export folder).
fn input_name(args: &DeidArgs, i: usize) -> String {
    if args.show_paths {
        format!("the input {}", super::report::sanitize(&args.inputs[i].to_string_lossy()))
    } else {
        format!("INPUT argument #{}", i + 1)
    }
}

/// The pixel cleaner and previews folder, when `clean-pixel-data` is on. The pixel flags without
/// the option are a usage error (they would silently do nothing).
fn pixel_cleaner(args: &DeidArgs, profile: &Profile, out: &Path) -> Result<(Option<PixelCleaner>, Option<PathBuf>)> {
    let on = profile.options().contains(&DeidOption::CleanPixelData);
    if !on {
        if args.pixel_rules.is_some() || args.clean_all_pixels || args.trust_burned_in_no || args.previews.is_some() {
            bail!(
                "--pixel-rules, --clean-all-pixels, --trust-burned-in-no and --previews need --option clean-pixel-data"
            );
        }
        return Ok((None, None));
    }
    if let Some(dir) = &args.pixel_rules {
        if !dir.is_dir() {
            bail!("--pixel-rules {} is not a folder", dir.display());
        }
    }
    let options = PixelOptions {
        rules_dir: args.pixel_rules.clone(),
        clean_all: args.clean_all_pixels,
        trust_burned_in_no: args.trust_burned_in_no,
    };
    let cleaner = PixelCleaner::new(&options).map_err(|e| anyhow::anyhow!("invalid pixel rule: {e}"))?;
    // A rule that blanks every pixel (the built-in `wsi-label`) leaves nothing to search.
    for rule in cleaner.rules().iter().filter(|r| !r.detect && !r.blanks_every_pixel()) {
        kamei::say!(
            "kamei: warning: pixel rule {} sets detect = false: on the images it matches, text outside its rectangles (and outside the ultrasound regions) is not searched and is released as it is",
            rule.name
        );
    }
    let previews = match &args.previews {
        None => None,
        Some(p) => {
            if std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()) && !p.exists() {
                bail!(
                    "--previews {} cannot be created or written (a dangling symbolic link); choose a folder kamei can create or write",
                    p.display()
                );
            }
            let abs = absolute(p)?;
            if abs.starts_with(out) || out.starts_with(&abs) || within(&abs, out) || within(out, &abs) {
                bail!(
                    "--previews must not be inside the output folder or contain it (previews show identifiers); choose a path outside {}",
                    out.display()
                );
            }
            for input in &args.inputs {
                let root = absolute(input)?;
                if abs.starts_with(&root) || within(&abs, &root) {
                    bail!("--previews must not be inside an input folder (inputs are never written to)");
                }
            }
            // A folder that cannot be written is found now, not after every preview is lost.
            if args.dry_run {
                if abs.exists() && !abs.is_dir() {
                    bail!("--previews {} is not a folder; choose a folder kamei can create or write", p.display());
                }
            } else if let Err(e) = kamei::pixels::preview::prepare_dir(&abs) {
                bail!(
                    "--previews {} cannot be created or written ({e}); choose a folder kamei can create or write",
                    p.display()
                );
            }
            Some(abs)
        }
    };
    Ok((Some(cleaner), previews))
}

#[cfg(all(test, unix))]
mod tests {
    use super::within;

    #[test]
    fn rv16_03_a_path_below_a_folder_is_within_it_by_identity_whatever_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        std::fs::create_dir_all(archive.join("sub")).unwrap();
        std::fs::create_dir(dir.path().join("other")).unwrap();
        // Another name for the archive folder (a mount point would do the same without a link).
        std::os::unix::fs::symlink(&archive, dir.path().join("alias")).unwrap();
        assert!(within(&dir.path().join("alias/release/not-yet"), &archive), "nearest existing ancestor");
        assert!(within(&archive.join("sub/link.csv"), &dir.path().join("alias")));
        assert!(within(&archive, &archive), "the folder itself");
        assert!(!within(&dir.path().join("other/release"), &archive));
        assert!(!within(&dir.path().join("other"), &dir.path().join("missing")));
        assert!(!within(dir.path(), &archive), "an ancestor is not within");
    }
}
