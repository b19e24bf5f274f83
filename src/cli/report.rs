//! What the user sees while a run goes on: a progress bar on a terminal, one line per failed
//! input, and the summary. Inputs are named by number and content hash unless `--show-paths`
//! (paths in hospital archives often carry names and IDs).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kamei::pipeline::{InputEvent, Reporter, Status, Summary};
use kamei::walk::WalkError;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The counts of a run as its inputs end, kept apart from the [`Console`] so that the handler
/// of a second Ctrl-C/SIGTERM, installed before the run is set up, can say what the run did
/// before it exits at once ([`Tally::stopped_at_once`]): the `interrupted:` line a wrapper
/// looks for is then printed however the run ends.
#[derive(Default)]
pub struct Tally {
    /// Whether the inputs have been listed (`inputs` is their number).
    listed: AtomicBool,
    /// Inputs of the run: files and the directory entries that could not be read.
    inputs: AtomicUsize,
    /// Per outcome: written, present, done earlier, skipped, excluded, failed.
    ended: [AtomicUsize; 6],
    /// 0 until the job is set up; then 1 for a pseudonymized (resumable) run, 2 for an
    /// anonymized one.
    resumable: AtomicU8,
    /// `--quiet`: the summary line is left out, the `interrupted:` line is not.
    quiet: AtomicBool,
}

impl Tally {
    /// Record what the job is, once it is set up: whether a re-run resumes it (`resumable`)
    /// and whether the summary is wanted (`quiet`).
    pub fn set_up(&self, resumable: bool, quiet: bool) {
        self.quiet.store(quiet, Ordering::Relaxed);
        self.resumable.store(if resumable { 1 } else { 2 }, Ordering::Relaxed);
    }

    fn end(&self, status: Status) {
        let i = match status {
            Status::Written => 0,
            Status::Present => 1,
            Status::AlreadyDone => 2,
            Status::Skipped => 3,
            Status::Excluded => 4,
            Status::Failed => 5,
        };
        self.ended[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Print, for a run a second signal ends at once, the counts so far (not with `--quiet`)
    /// and the `interrupted:` line (always, like a first signal's). The counts are those the
    /// run had reported: inputs whose outputs were being written count as not processed (a
    /// re-run finds an output that reached its name `present`).
    pub fn stopped_at_once(&self) {
        let [written, present, done, skipped, excluded, failed] =
            self.ended.each_ref().map(|n| n.load(Ordering::Relaxed));
        let finish = match self.resumable.load(Ordering::Relaxed) {
            2 => how_to_finish(false),
            _ => how_to_finish(true),
        };
        if !self.listed.load(Ordering::Relaxed) {
            kamei::say!(
                "kamei: interrupted: stopped at once by a second signal before any input was processed; {finish}"
            );
            return;
        }
        let inputs = self.inputs.load(Ordering::Relaxed);
        if !self.quiet.load(Ordering::Relaxed) {
            kamei::say!(
                "kamei: {inputs} inputs (stopped at once by a second signal): {written} written, {present} already present, {done} done earlier, {skipped} skipped, {failed} failed; {excluded} left out"
            );
        }
        let not_processed = inputs.saturating_sub(written + present + done + skipped + excluded + failed);
        kamei::say!(
            "kamei: interrupted: stopped at once by a second signal; {not_processed} inputs not processed (those in progress were left unfinished; no output is half-written at its name); {finish}"
        );
    }
}

/// The CLI's reporter.
pub struct Console {
    bar: Mutex<Option<ProgressBar>>,
    done: AtomicUsize,
    total: AtomicUsize,
    quiet: bool,
    verbose: u8,
    show_paths: bool,
    tally: Arc<Tally>,
}

impl Console {
    /// A reporter; the bar is drawn only when stderr is a terminal and not `quiet`. It keeps
    /// the run's counts in `tally` as inputs end.
    pub fn new(quiet: bool, verbose: u8, show_paths: bool, tally: Arc<Tally>) -> Console {
        Console {
            bar: Mutex::new(None),
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            quiet,
            verbose,
            show_paths,
            tally,
        }
    }

    fn println(&self, line: &str) {
        let bar = self.bar.lock().expect("progress lock");
        match bar.as_ref() {
            Some(b) => b.suspend(|| kamei::say!("{line}")),
            None => kamei::say!("{line}"),
        }
    }

    fn name(&self, e: &InputEvent<'_>) -> String {
        if self.show_paths {
            return sanitize(&e.input.path.to_string_lossy());
        }
        match e.sha256 {
            Some(h) => format!("input #{} (sha256 {})", e.number, &h[..16]),
            None => format!("input #{}", e.number),
        }
    }

    /// Remove the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(b) = self.bar.lock().expect("progress lock").take() {
            b.finish_and_clear();
        }
    }
}

/// Escape control characters so an input-derived name cannot drive the terminal.
pub fn sanitize(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

impl Reporter for Console {
    fn walked(&self, files: usize, bytes: u64) {
        self.total.store(files, Ordering::Relaxed);
        // Added to the entries that could not be read, which are counted as they are reported.
        self.tally.inputs.fetch_add(files, Ordering::Relaxed);
        self.tally.listed.store(true, Ordering::Relaxed);
        if self.quiet || !std::io::stderr().is_terminal() {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(bytes), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {msg} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
            )
            .expect("valid template"),
        );
        bar.set_message(format!("0/{files} files"));
        *self.bar.lock().expect("progress lock") = Some(bar);
    }

    fn finished(&self, e: &InputEvent<'_>) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.tally.end(e.status);
        if let Some(b) = self.bar.lock().expect("progress lock").as_ref() {
            b.inc(e.input.size);
            b.set_message(format!("{done}/{} files", self.total.load(Ordering::Relaxed)));
        }
        match e.status {
            Status::Failed => {
                self.println(&format!("kamei: failed: {}: {}", self.name(e), e.reason.unwrap_or("unknown reason")))
            }
            Status::Skipped if self.verbose > 0 => {
                self.println(&format!("kamei: skipped: {}: {}", self.name(e), e.reason.unwrap_or("")))
            }
            _ => {}
        }
    }

    fn walk_error(&self, error: &WalkError, number: usize) {
        self.tally.inputs.fetch_add(1, Ordering::Relaxed);
        self.tally.end(if error.not_a_file { Status::Skipped } else { Status::Failed });
        let name = match (self.show_paths, &error.rel) {
            (true, _) => sanitize(&error.path.to_string_lossy()),
            (false, None) => format!("INPUT argument #{}", error.root + 1),
            (false, Some(_)) => format!("input #{number} (a directory entry in INPUT argument #{})", error.root + 1),
        };
        let what = if error.not_a_file { "skipped" } else { "failed" };
        self.println(&format!("kamei: {what}: {name}: {}", error.message));
    }
}

/// Print the end-of-run summary to stderr.
pub fn summary(s: &Summary, dry_run: bool, audit: &str) {
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let mb = s.bytes as f64 / 1e6;
    let verb = if dry_run { "would write" } else { "written" };
    kamei::say!(
        "kamei: {} inputs ({:.1} MB) in {:.2} s: {} {verb}, {} already present, {} done earlier, {} skipped, {} failed; {:.0} files/s, {:.1} MB/s",
        s.inputs,
        mb,
        secs,
        s.written,
        s.present,
        s.already_done,
        s.skipped,
        s.failed,
        (s.written + s.present + s.skipped + s.failed + s.already_done + s.excluded) as f64 / secs,
        mb / secs
    );
    if s.duplicates > 0 {
        kamei::say!(
            "kamei: {} duplicate input paths dropped (each named a file or directory entry another input already names; each was processed once)",
            s.duplicates
        );
    }
    if s.excluded > 0 {
        kamei::say!(
            "kamei: {} inputs of {} patients left out (opted out, not in the cohort, or outside the study window)",
            s.excluded,
            s.excluded_patients
        );
    }
    if !dry_run && s.already_done > 0 {
        // Inputs done earlier are not read again, so their patients cannot be counted.
        kamei::say!(
            "kamei: {} patients among the inputs processed in this run (those done earlier are not read again); audit log {}",
            s.patients,
            audit
        );
    } else if !dry_run {
        kamei::say!("kamei: {} patients; audit log {}", s.patients, audit);
    }
    if s.superseded > 0 && dry_run {
        kamei::say!(
            "kamei: {} outputs of earlier runs would be removed: their input paths now hold other content (corrected or re-assigned)",
            s.superseded
        );
    } else if s.superseded > 0 {
        kamei::say!(
            "kamei: {} outputs of earlier runs removed: their input paths now hold other content (corrected or re-assigned); the audit lists them as superseded",
            s.superseded
        );
    }
    if s.damaged_rewritten > 0 {
        let verb = if dry_run { "would be rewritten" } else { "rewritten" };
        kamei::say!(
            "kamei: {} damaged outputs {verb}: outputs of earlier runs of a size other than the audit log records (cut or grown since), written again from their inputs; the audit notes each",
            s.damaged_rewritten
        );
    }
    if s.superseded_left > 0 {
        kamei::say!(
            "kamei: warning: {} outputs of earlier runs come from content their input paths no longer hold; a --shard run leaves them (another shard may still have that content): run once without --shard to remove them",
            s.superseded_left
        );
    }
    if s.shared_sop_uids > 0 {
        kamei::say!(
            "kamei: warning: {} SOP Instance UIDs are each held by more than one output (outputs of different contents with one SOP Instance UID, all of which stay in OUT after this run; under one name, all but one carry their content hash in it): a reader that keys on the UID keeps only one of each",
            s.shared_sop_uids
        );
    }
    if s.uids_with_identifiers > 0 {
        kamei::say!(
            "kamei: warning: {} outputs keep, under retain-uids, UIDs that spell the Patient ID or one of the file's original dates (the audit notes each by its tag; `kamei verify --against` reports them): the release keeps them as asked, and anyone who reads the UIDs reads those identifiers",
            s.uids_with_identifiers
        );
    }
    if s.ids_with_several_issuers > 0 {
        kamei::say!(
            "kamei: warning: {} Patient IDs were each seen with more than one Issuer of Patient ID: the pseudonym and date shift come from the Patient ID alone, so patients of different issuers who share a local ID share one pseudonym in the release (see README, \"Patient IDs from several issuers\")",
            s.ids_with_several_issuers
        );
    }
    if s.studies_under_several_patients > 0 {
        kamei::say!(
            "kamei: warning: {} studies (Study Instance UIDs) were each written under more than one patient pseudonym: files of the study without the Patient ID take the study's own pseudonym and date shift (see README, \"Files without a Patient ID\")",
            s.studies_under_several_patients
        );
    }
    if s.studies_under_several_ids > 0 {
        kamei::say!(
            "kamei: warning: {} studies (Study Instance UIDs) were each written under more than one patient pseudonym: their files name different Patient IDs (a study re-assigned or merged to another patient in part, or two patients' images under one Study Instance UID), and each file is filed under its own Patient ID (see README, \"Files of one study under several Patient IDs\")",
            s.studies_under_several_ids
        );
    }
    if s.burned_in_not_cleaned > 0 {
        kamei::say!(
            "kamei: warning: {} images may carry burned-in text (BurnedInAnnotation YES, or an annotated modality) and were not pixel-cleaned; see --option clean-pixel-data",
            s.burned_in_not_cleaned
        );
    }
    if s.burned_in_no_trusted > 0 {
        kamei::say!(
            "kamei: warning: {} images of an annotated kind were released without pixel cleaning because their Burned In Annotation NO was trusted (--trust-burned-in-no); `kamei verify` lists them",
            s.burned_in_no_trusted
        );
    }
    previews_warning(s);
    damaged_audit_warning(s);
}

/// Say which INPUT arguments held no file (by position: paths in hospital archives often carry
/// names and IDs). When none held any, the run released nothing: a failure (printed even with
/// `-q`: a script's log must say why the run failed) unless `allow_empty`; otherwise a warning
/// for each empty INPUT beside others that held files.
pub fn empty_inputs_warning(s: &Summary, allow_empty: bool, quiet: bool) {
    let names: Vec<String> = s.empty_inputs.iter().map(|i| format!("#{}", i + 1)).collect();
    let which = match names.len() {
        0 => return,
        1 => format!("INPUT argument {}", names[0]),
        _ => format!("INPUT arguments {}", names.join(", ")),
    };
    if s.no_input_file && !allow_empty {
        kamei::say!(
            "kamei: failed: no input file found: {which} held no file (an empty folder: a mount that failed, an export not made yet?); nothing was released; give --allow-empty if an empty run is expected"
        );
    } else if s.no_input_file && !quiet {
        kamei::say!("kamei: note: no input file found: {which} held no file (--allow-empty)");
    } else if !quiet {
        kamei::say!(
            "kamei: warning: {which} held no file (an empty folder: a mount that failed?); the other INPUTs were processed"
        );
    }
}

/// Say which lines of OUT's audit logs could not be read (printed with `-q` too): the run went
/// on without them, processing their inputs again, and rewrote its own log without them.
pub fn damaged_audit_warning(s: &Summary) {
    for d in &s.damaged_audit {
        kamei::say!(
            "kamei: warning: {}; ignored: the inputs it recorded were processed again (an output already there and identical is kept as it is)",
            d.describe()
        );
    }
}

/// What to do after a run that stopped before every input was processed (an interrupt, or
/// `stopped` because the audit could not be written): run the same command again, which
/// resumes, unless the run was anonymized: its random key is gone, so the same command into
/// that output folder is refused (exit 2) and the release must be started again elsewhere.
pub fn how_to_finish(resumable: bool) -> &'static str {
    if resumable {
        "run the same command again to finish"
    } else {
        "an anonymized run (no --key) cannot be resumed (its random key is gone; the same command into this output folder is refused with exit 2): delete this output folder and run again into a new one"
    }
}

/// Say how many `--previews` PNGs could not be written (printed even with `--quiet`: the operator
/// asked for them to check the cleaning). A count only: no path, no value.
pub fn previews_warning(s: &Summary) {
    if s.previews_not_written > 0 {
        kamei::say!(
            "kamei: warning: {} previews could not be written (the images themselves were; the reason is in each one's audit notes)",
            s.previews_not_written
        );
    }
}
