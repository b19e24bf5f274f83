//! `kamei verify`: resolve the profile the release was made with, build the identifier
//! dictionary, run the checks, print findings without values, write the sensitive report.

use super::args::{ProfileArgs, ReportArgs, VerifyArgs};
use anyhow::{Context, Result, bail};
use kamei::audit::{RUN_FILE, RunSettings};
use kamei::profile::Profile;
use kamei::verify::{self, Originals, VerifyJob};
use std::io::Write;

/// The profile to check against: the one given, or the one `OUT/kamei-run.json` records,
/// with the settings recorded there (see [`as_recorded`]; a profile given is completed so only
/// with `complete`: `report` describes the release, while `verify --profile basic` may check
/// a release against a stricter profile than it was made with). `None` for the second value
/// when it matches the recorded digest or nothing is recorded; otherwise why it does not.
pub fn profile(out: &std::path::Path, args: &ProfileArgs, complete: bool) -> Result<(Profile, Option<String>)> {
    let recorded = recorded_settings(out)?;
    let given = args.profile.is_some() || !args.options.is_empty() || args.strict;
    let profile = match &recorded {
        Some(settings) if !given => {
            if Profile::builtin(&settings.profile).is_err() {
                bail!("the release was made with the user profile {:?}: give it with --profile PATH", settings.profile);
            }
            let recorded = ProfileArgs {
                profile: Some(settings.profile.clone()),
                options: settings.options.clone(),
                strict: false,
                date_shift_max_days: None,
                keep_weekday: false,
            };
            super::config::profile(&recorded)?
        }
        _ => super::config::profile(args)?,
    };
    Ok(match &recorded {
        Some(settings) if given && !complete => {
            let other = (profile.sha256() != settings.profile_sha256)
                .then(|| format!("the profile given is not the one the release was made with ({})", settings.profile));
            (profile, other)
        }
        Some(settings) => as_recorded(profile, settings, args),
        None => (profile, None),
    })
}

/// The settings of the image output in `out`: OUT's own run file, or, for a folder holding
/// several outputs (images, CSV, SS-MIX2), the one image output's run file one level down.
/// `None` when there is none.
fn recorded_settings(out: &std::path::Path) -> Result<Option<RunSettings>> {
    let mut images = Vec::new();
    let mut candidates = vec![out.join(RUN_FILE)];
    if !candidates[0].exists() {
        candidates = std::fs::read_dir(out)
            .map(|rd| rd.flatten().map(|e| e.path().join(RUN_FILE)).filter(|p| p.exists()).collect())
            .unwrap_or_default();
        candidates.sort();
    }
    for run_file in candidates {
        let settings = read_settings(&run_file)?;
        // A clinical output has no DICOM to check against a profile.
        if !settings.profile.starts_with("clinical-") {
            images.push(settings);
        }
    }
    images.dedup_by(|a, b| a.profile == b.profile && a.options == b.options && a.profile_sha256 == b.profile_sha256);
    match images.len() {
        0 => Ok(None),
        1 => Ok(images.pop()),
        _ => bail!(
            "the image outputs under {} were made with different profiles or options: give --profile and --option",
            out.display()
        ),
    }
}

/// `profile` completed with what the run file records and the flags leave open (its options,
/// strict mode, the date shift settings when no date shift flag is given), so that it has the
/// digest the release was made with: `kamei-run.json` names a built-in profile without saying
/// whether `--strict` was on, and `deid`'s `--option` flags are not in a user profile's file.
/// The second value says why it is still another profile (its digest differs), if it is.
fn as_recorded(profile: Profile, settings: &RunSettings, args: &ProfileArgs) -> (Profile, Option<String>) {
    if profile.sha256() == settings.profile_sha256 {
        return (profile, None);
    }
    let mut base = profile.clone();
    let options = settings.options.iter().filter_map(|o| kamei::profile::DeidOption::from_name(o));
    if base.add_options(options).is_err() {
        base = profile.clone();
    }
    if args.date_shift_max_days.is_none() && !args.keep_weekday {
        if let Some(policy) = settings.date_shift.as_deref().and_then(parse_date_shift) {
            base.set_date_shift(policy);
        }
    }
    for strict in [base.strict(), true] {
        let mut candidate = base.clone();
        candidate.set_strict(strict);
        if candidate.sha256() == settings.profile_sha256 {
            return (candidate, None);
        }
    }
    let mut why = format!(
        "the profile is not the one the release was made with ({}: its digest differs from the one kamei-run.json records)",
        settings.profile
    );
    if settings.kamei_version != env!("CARGO_PKG_VERSION") {
        let _ = std::fmt::Write::write_fmt(
            &mut why,
            format_args!("; the release was made by kamei {}, whose tables may differ", settings.kamei_version),
        );
    }
    (profile, Some(why))
}

/// The date shift settings as [`kamei::audit::date_shift_label`] writes them
/// (`max_days=365 keep_weekday=false`).
fn parse_date_shift(label: &str) -> Option<kamei::profile::DateShiftPolicy> {
    let mut max_days = None;
    let mut keep_weekday = None;
    for part in label.split_whitespace() {
        match part.split_once('=')? {
            ("max_days", v) => max_days = v.parse().ok(),
            ("keep_weekday", v) => keep_weekday = v.parse().ok(),
            _ => return None,
        }
    }
    Some(kamei::profile::DateShiftPolicy { max_days: max_days?, keep_weekday: keep_weekday? })
}

/// The settings a `kamei-run.json` records.
fn read_settings(path: &std::path::Path) -> Result<RunSettings> {
    let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a kamei run file", path.display()))
}

/// Refuse a key other than the one the release was made with: with another key the excluded
/// patients' pseudonyms would be computed wrongly and none would be found (a false all-clear).
/// Every `kamei-run.json` under `out` (a release folder may hold several outputs) that records
/// a key fingerprint must record this one.
fn check_key(out: &std::path::Path, fingerprint: &str) -> Result<()> {
    let mut checked = 0;
    for entry in walkdir::WalkDir::new(out).max_depth(3).into_iter().flatten() {
        if entry.file_name() != RUN_FILE {
            continue;
        }
        let settings = read_settings(entry.path())?;
        match settings.key_fingerprint.as_deref() {
            Some(recorded) if recorded != fingerprint => bail!(
                "--key is not the key {} was made with (fingerprints differ); give the release's key",
                entry.path().display()
            ),
            Some(_) => checked += 1,
            None => {}
        }
    }
    if checked == 0 {
        kamei::say!(
            "kamei: warning: no kamei-run.json under the release records a key fingerprint; the key cannot be confirmed"
        );
    }
    Ok(())
}

/// Run `kamei verify`; returns whether the release is clean.
pub fn run(args: &VerifyArgs) -> Result<bool> {
    if !args.out.is_dir() {
        bail!("{} is not a folder", args.out.display());
    }
    let (profile, other) = profile(&args.out, &args.profile, false)?;
    if let Some(why) = other {
        kamei::say!("kamei: warning: {why}; checking against the profile given");
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    if let Some(report) = &args.report {
        check_report_place(report, &args.out, &args.originals.against)?;
        check_report_spares(
            report,
            [("--key", args.key.as_deref()), ("--linkage", args.originals.linkage.as_deref())],
        )?;
    }
    let mut originals = originals(&args.originals.against, args.originals.linkage.as_deref(), jobs)?;
    // `--key` alone confirms the release was made with that key (every kamei-run.json that
    // records a fingerprint records this one); it is not silently ignored.
    let pseudo = match &args.key {
        Some(key) => {
            let pseudo = kamei::pseudo::Pseudonymizer::new(&super::config::read_key(key)?, profile.date_shift());
            check_key(&args.out, pseudo.key_fingerprint())?;
            Some(pseudo)
        }
        None => None,
    };
    if let (Some(register), Some(pseudo)) = (&args.exclude_patients, &pseudo) {
        let mut register = kamei::cohort::Register::load(register)?;
        // The IDs a merge ties to a listed patient (the linkage table's `merged` rows) are the
        // same person, left out by every command given the table: their pseudonyms too.
        if let Some(table) = &args.originals.linkage {
            register.add_merged(&kamei::linkage::read_merges(table)?);
        }
        for id in register.ids() {
            originals.global.add_excluded_patient_id(id);
        }
        // A listed number with other leading zeros is the same patient (the opt-out leaves it
        // out): the release may hold the pseudonym of any of its spellings.
        for id in register.spellings_for_exclusion() {
            let p = pseudo.patient_pseudonym(kamei::pseudo::Patient::Id(&id));
            originals.global.add(&p, "pseudonym of an excluded patient");
        }
        kamei::say!("kamei: looking for the pseudonyms and IDs of {} excluded patients", register.len());
        add_opted_out_patients(&mut originals, kamei::cohort::Cohort::new(Some(register), None, None), pseudo);
        if args.originals.against.is_empty() {
            kamei::say!(
                "kamei: note: without --against, an image whose Other Patient IDs name a listed patient{} cannot be tied to that patient",
                if args.originals.linkage.is_none() {
                    ", or whose Patient ID holds several values one of which is listed,"
                } else {
                    ""
                }
            );
        }
    }
    if originals.is_empty() {
        kamei::say!(
            "kamei: note: no --against or --linkage: checking conformance and pixels only, not residual identifiers"
        );
    }
    let key_fingerprint = pseudo.as_ref().map(|p| p.key_fingerprint().to_string());
    let job = VerifyJob { out: args.out.clone(), rules: profile.compile(), originals, jobs, key_fingerprint };
    let report = verify::run(&job);
    {
        let mut stdout = std::io::stdout().lock();
        for f in &report.findings {
            let kind =
                serde_json::to_value(f.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            if writeln!(stdout, "{}\t{}\t{}\t{}", f.file, f.location, kind, f.detail).is_err() {
                break;
            }
        }
    }
    if let Some(path) = &args.report {
        write_private(path, &serde_json::to_vec_pretty(&report)?)?;
    }
    kamei::say!(
        "kamei: verified {} DICOM files and {} other files against {} identifiers: {} findings",
        report.dicom_files,
        report.other_files,
        report.identifiers,
        report.findings.len()
    );
    if report.outputs_hashed + report.outputs_without_hash > 0 {
        kamei::say!(
            "kamei: {} outputs compared with the content hash their audit record holds; {} not checkable (their records hold none: an earlier version's, or a clinical command's; checked by size where recorded)",
            report.outputs_hashed,
            report.outputs_without_hash
        );
    }
    // A release with nothing in it (a run over an empty input, one interrupted before its
    // first output) is no release: a script must not pass it on.
    let empty = report.dicom_files == 0 && !holds_outputs(&args.out);
    if empty && !args.allow_empty {
        kamei::say!(
            "kamei: the release holds no output (no DICOM file, no clinical file, no audit record of an input: only kamei's own settings, if that): nothing to release; give --allow-empty if that is expected"
        );
    }
    Ok(report.findings.is_empty() && (!empty || args.allow_empty))
}

/// Whether `out` holds any output, or an audit record of an input: a file besides kamei's
/// bookkeeping (`kamei-run.json`, a CSV output's column manifest, the staging folder of an
/// interrupted run), or an audit log that is not empty (a release whose every input was left
/// out by an opt-out holds no output, but its audit accounts for them). A run over an empty
/// input, or one interrupted before its first output, leaves neither.
fn holds_outputs(out: &std::path::Path) -> bool {
    let audit_log = |name: &str| name.starts_with("kamei-audit") && name.ends_with(".jsonl");
    let bookkeeping =
        |name: &str| name == RUN_FILE || name == kamei::clinical::csv::MANIFEST_FILE || name.starts_with(".kamei");
    walkdir::WalkDir::new(out)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".kamei-partial")
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .any(|e| {
            let name = e.file_name().to_string_lossy();
            if audit_log(&name) { e.metadata().is_ok_and(|m| m.len() > 0) } else { !bookkeeping(&name) }
        })
}

/// Look for the pseudonym of every patient the inputs and the linkage table name whom `deid`
/// would leave out under the opt-out register ([`kamei::cohort::Cohort::admit_image`], the
/// question `deid` asks of each image): a Patient ID holding several values one of which is
/// listed (`A\B`), or an image whose Other Patient IDs name a listed patient. Such an image is
/// filed under the pseudonym of its own Patient ID, which the register's IDs alone do not give.
fn add_opted_out_patients(
    originals: &mut Originals,
    cohort: kamei::cohort::Cohort,
    pseudo: &kamei::pseudo::Pseudonymizer,
) {
    let mut tied = 0usize;
    for (id, known) in &originals.patients {
        let others: Vec<&str> = known.other_ids.iter().map(String::as_str).collect();
        if cohort.admit_image(id, &others, None) != kamei::cohort::Admission::OptedOut {
            continue;
        }
        tied += 1;
        let computed = pseudo.patient_pseudonym(kamei::pseudo::Patient::Id(id));
        for p in known.pseudonyms.iter().chain(std::iter::once(&computed)) {
            originals.global.add(p, "pseudonym of an excluded patient");
        }
    }
    if tied > 0 {
        kamei::say!(
            "kamei: {tied} patient(s) the inputs or the linkage table name are left out by the register: looking for their pseudonyms too"
        );
    }
}

/// Refuse a `--report` path inside the release or inside an `--against` input (by path, through
/// a symbolic link, or by file system identity): the report holds every matched identifier, and
/// inputs are never written to.
fn check_report_place(report: &std::path::Path, out: &std::path::Path, inputs: &[std::path::PathBuf]) -> Result<()> {
    let abs = super::config::absolute(report)?;
    let out = out.canonicalize()?;
    if abs.starts_with(&out) || super::config::within(&abs, &out) {
        bail!("the report holds identifiers and must not be inside the release folder");
    }
    for input in inputs {
        let root = super::config::absolute(input)?;
        if abs.starts_with(&root) || super::config::within(&abs, &root) {
            bail!("the report holds identifiers and must not be inside an input folder (inputs are never written to)");
        }
    }
    Ok(())
}

/// Refuse a `--report` path that names the key or the linkage table given to the same run (by
/// path or file system identity): the report is written over its file, and a key or a
/// re-identification table replaced by a report is lost for good.
fn check_report_spares<'a>(
    report: &std::path::Path,
    others: impl IntoIterator<Item = (&'a str, Option<&'a std::path::Path>)>,
) -> Result<()> {
    for (flag, other) in others {
        if let Some(other) = other {
            if super::config::same_file(report, other)? {
                bail!(
                    "--report names the file given with {flag}; writing the report would destroy it: give the report a file of its own"
                );
            }
        }
    }
    Ok(())
}

/// The original identifiers from `--against` inputs and a `--linkage` table.
pub fn originals(against: &[std::path::PathBuf], linkage: Option<&std::path::Path>, jobs: usize) -> Result<Originals> {
    for (i, a) in against.iter().enumerate() {
        if !a.exists() {
            // Named by position: paths in hospital archives often carry names and IDs.
            bail!("--against INPUT #{} does not exist", i + 1);
        }
    }
    let mut originals =
        if against.is_empty() { Originals::default() } else { verify::originals_from_inputs(against, jobs) };
    if let Some(table) = linkage {
        verify::add_linkage(&mut originals, table).with_context(|| format!("could not read {}", table.display()))?;
    }
    Ok(originals)
}

/// Write the sensitive `--report` file with mode 0600, also when it already exists.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).with_context(|| format!("could not write {}", path.display()))?;
    #[cfg(unix)]
    {
        // A file that already existed keeps its mode on open: one readable by the group or
        // others is made private before the identifiers are written into it.
        use std::os::unix::fs::PermissionsExt;
        let mode = f.metadata().map(|m| m.permissions().mode()).unwrap_or(0);
        if mode & 0o077 != 0 {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("could not make {} private (mode 0600)", path.display()))?;
        }
    }
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Run `kamei report`: verify (without printing) and write the HTML page.
pub fn report(args: &ReportArgs) -> Result<()> {
    if !args.out.is_dir() {
        bail!("{} is not a folder", args.out.display());
    }
    refuse_several_outputs(&args.out)?;
    // The page describes the release: its rule table must be the one the release was made
    // with, not another version of the site's profile shown under the release's digest.
    let (profile, other) = profile(&args.out, &args.profile, true)?;
    if let Some(why) = other {
        bail!("{why}: give the --profile, --option, --strict and date shift flags the release was made with");
    }
    let rules = profile.compile();
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let originals = originals(&args.originals.against, args.originals.linkage.as_deref(), jobs)?;
    let has_originals = !originals.is_empty();
    let job = VerifyJob { out: args.out.clone(), rules: profile.compile(), originals, jobs, key_fingerprint: None };
    let verified = verify::run(&job);
    let settings: Option<RunSettings> =
        std::fs::read_to_string(args.out.join(RUN_FILE)).ok().and_then(|t| serde_json::from_str(&t).ok());
    let hide_paths = kamei::release_report::hides_paths(settings.as_ref(), has_originals);
    let records = kamei::release_report::read_audit(&args.out)?;
    let thumbnails = thumbnails(&args.out, &records);
    let title = args
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.out.display().to_string());
    let page = kamei::release_report::render(&kamei::release_report::ReportInput {
        title,
        settings,
        records,
        rules: &rules,
        findings: &verified.findings,
        thumbnails,
        hide_paths,
        claims: kamei::release_report::Claims {
            dicom_files: verified.dicom_files,
            claiming_basic: verified.claiming_basic,
        },
    });
    std::fs::write(&args.output, page).with_context(|| format!("could not write {}", args.output.display()))?;
    kamei::say!("kamei: wrote {} ({} verify findings)", args.output.display(), verified.findings.len());
    Ok(())
}

/// Refuse a folder that is not itself a kamei output but holds outputs one level down (a
/// release with `images/` from deid and `csv/` from clinical csv): the page describes one
/// output's run (its settings, outcomes and layout), so it would describe none of them and
/// count nothing. `verify` checks such a folder whole; `report` is run on each output.
fn refuse_several_outputs(out: &std::path::Path) -> Result<()> {
    let roots = verify::audit_roots(out);
    if roots.is_empty() || roots.iter().any(|(_, prefix)| prefix.is_empty()) {
        return Ok(());
    }
    let names: Vec<&str> = roots.iter().map(|(_, prefix)| prefix.trim_end_matches('/')).collect();
    bail!(
        "{} is not a kamei output folder: it holds {} kamei output(s) one level down ({}); run kamei report on each of them (kamei report {} -o FILE); kamei verify {} checks them all at once",
        out.display(),
        names.len(),
        names.join(", "),
        out.join(names[0]).display(),
        out.display()
    )
}

/// At most this many cleaned images are shown in the report (the page stays small).
const MAX_THUMBNAILS: usize = 200;

/// Thumbnails of the cleaned ("after") first frame of each image whose pixels were cleaned,
/// boxes outlined. Images that cannot be decoded again are left out with a note on stderr.
fn thumbnails(out: &std::path::Path, records: &[kamei::audit::AuditRecord]) -> Vec<kamei::release_report::Thumbnail> {
    let mut v = Vec::new();
    // Where each output is now (another output with a lower hash may have taken its name since
    // its record was written: README "Audit log", move records).
    let index = kamei::audit::index(out).map(|i| i.outputs).unwrap_or_default();
    let now: std::collections::HashMap<(&str, &str), &str> = index
        .iter()
        .filter_map(|l| Some(((l.input_sha256.as_str(), l.input_path_key.as_str()), l.output.as_deref()?)))
        .collect();
    for r in records {
        let (Some(px), Some(recorded)) = (&r.pixels, &r.output) else { continue };
        let key = (r.input_sha256.as_deref().unwrap_or_default(), r.input_path_key.as_deref().unwrap_or_default());
        let rel = now.get(&key).map_or(recorded.as_str(), |o| *o);
        if px.boxes.is_empty() || v.len() >= MAX_THUMBNAILS {
            continue;
        }
        let path = out.join(rel);
        let file = match kamei::read::open(&path, &kamei::read::ReadOptions::default()) {
            Ok(kamei::read::Opened::Dicom(f)) => f,
            _ => continue,
        };
        let image = match kamei::pixels::first_frame(&file, Some(&path)) {
            Ok(img) => img,
            Err(e) => {
                kamei::say!("kamei: note: no thumbnail for {rel}: {}", e.0);
                continue;
            }
        };
        let rects: Vec<kamei::pixels::rules::Rect> = px
            .boxes
            .iter()
            .filter(|b| b.frame.is_none_or(|f| f == 1))
            .map(|b| kamei::pixels::rules::Rect::new(b.x, b.y, b.width, b.height))
            .collect();
        let image = kamei::pixels::preview::outline(image, &rects);
        let (w, h) = image.dimensions();
        let scale = (256.0 / w.max(h) as f64).min(1.0);
        let (tw, th) = (((w as f64 * scale) as u32).max(1), ((h as f64 * scale) as u32).max(1));
        let small = image::imageops::thumbnail(&image, tw, th);
        let mut png = Vec::new();
        if small.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).is_err() {
            continue;
        }
        let mut sources: Vec<&str> = px.boxes.iter().map(|b| b.source.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        let caption = format!("{} boxes ({})", px.boxes.len(), sources.join(", "));
        v.push(kamei::release_report::Thumbnail { file: rel.to_string(), png, caption });
    }
    v
}
