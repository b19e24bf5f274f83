//! Interrupted runs: SIGKILL at random points, Ctrl-C (SIGINT) and SIGTERM. A re-run of the same command
//! must end with exactly what one uninterrupted run writes, and nothing half-written anywhere.

use crate::util::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FILES: u32 = 300;

/// Start `kamei deid in -o out --key k.key -q` in the background.
fn spawn(wd: &Workdir, out: &str, extra: &[&str]) -> Child {
    let k = key(wd, "k.key", 7);
    Command::new(env!("CARGO_BIN_EXE_kamei"))
        .args(["deid", "in", "-o", out, "--key", k.to_str().unwrap()])
        .args(extra)
        .current_dir(&wd.root)
        .env_remove("KAMEI_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kamei starts")
}

/// Wait for a child, failing the test if it takes more than a minute.
fn wait(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "kamei did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Temporary files anywhere below `out`.
fn leftovers(out: &Path) -> Vec<String> {
    walkdir::WalkDir::new(out)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".part") || p.contains(".kamei-partial"))
        .collect()
}

/// One record per input (by content) of an archive of `files` files, each written or present,
/// each output in place.
#[track_caller]
fn assert_audit_complete(wd: &Workdir, out: &str, files: u32) {
    let audit = wd.audit(out);
    assert_eq!(audit.len(), files as usize, "one record per input");
    let mut hashes: Vec<&str> = audit.iter().map(|r| r["input_sha256"].as_str().unwrap()).collect();
    hashes.dedup();
    assert_eq!(hashes.len(), files as usize, "no input twice");
    for r in &audit {
        assert!(r["outcome"] == "written" || r["outcome"] == "present", "{r}");
        assert!(wd.path(out).join(r["output"].as_str().unwrap()).is_file(), "{r}");
    }
}

fn canaries() -> Vec<String> {
    let mut c: Vec<String> = CT_CANARIES.iter().map(|s| s.to_string()).collect();
    c.extend((0..FILES / 10).map(|p| format!("{CANARY_ID}{p}")));
    c
}

#[test]
fn killed_runs_resumed_end_equal_to_an_uninterrupted_run() {
    let wd = Workdir::new("killed_runs_resumed_end_equal_to_an_uninterrupted_run");
    write_small_archive(&wd, FILES);
    let started = Instant::now();
    let mut reference = spawn(&wd, "reference", &["-q"]);
    assert!(wait(&mut reference).success());
    let full = started.elapsed();

    for round in 0..4 {
        // A resumed run is shorter than a whole one: kill within its first two thirds.
        let delay = Duration::from_micros(rand::random_range(0..full.as_micros() as u64 * 2 / 3));
        eprintln!("round {round}: SIGKILL after {delay:?} of a {full:?} run");
        let mut child = spawn(&wd, "out", &["-q"]);
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL; the run may already be over
        wait(&mut child);
    }
    let mut last = spawn(&wd, "out", &["-q"]);
    let status = wait(&mut last);
    let mut stderr = String::new();
    std::io::Read::read_to_string(last.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{status:?}: {stderr}");

    // Every file of an uninterrupted run, and nothing else, with the same bytes; the audit
    // only differs in outcomes (an output found in place by the resumed run is "present").
    assert_eq!(wd.files("out"), wd.files("reference"), "same file list");
    for f in wd.files("reference") {
        if f.to_string_lossy() == "kamei-audit.jsonl" {
            continue;
        }
        assert!(
            std::fs::read(wd.path("reference").join(&f)).unwrap() == std::fs::read(wd.path("out").join(&f)).unwrap(),
            "{} differs",
            f.display()
        );
    }
    assert_eq!(leftovers(&wd.path("out")), Vec::<String>::new());
    assert!(!wd.path("out/.kamei-partial").exists());
    assert_audit_complete(&wd, "out", FILES);
    let canaries = canaries();
    let canaries: Vec<&str> = canaries.iter().map(String::as_str).collect();
    let run = Run { output: std::process::Output { status, stdout: Vec::new(), stderr: stderr.into_bytes() } };
    assert_no_leak(&wd, "out", &run, &canaries);
}

#[cfg(unix)]
#[test]
fn sigint_exits_130_and_a_rerun_completes() {
    stopped_by_signal_exits_130_and_a_rerun_completes("sigint_exits_130_and_a_rerun_completes", libc::SIGINT);
}

/// SIGTERM is how Slurm (`scancel`, a time limit) and Kubernetes (a pod stopped) end a job: the
/// same clean stop as Ctrl-C.
#[cfg(unix)]
#[test]
fn sigterm_from_a_batch_scheduler_stops_like_ctrl_c() {
    stopped_by_signal_exits_130_and_a_rerun_completes(
        "sigterm_from_a_batch_scheduler_stops_like_ctrl_c",
        libc::SIGTERM,
    );
}

#[cfg(unix)]
fn stopped_by_signal_exits_130_and_a_rerun_completes(name: &str, signal: libc::c_int) {
    let wd = Workdir::new(name);
    write_small_archive(&wd, FILES);
    // A run that finishes before the signal lands proves nothing; on a loaded machine that can
    // happen, so try again into a fresh output folder (at most five times).
    let mut interrupted = false;
    for attempt in 0..5 {
        let out = format!("out{attempt}");
        // One thread, so the run lasts long enough to be interrupted in the middle; not quiet,
        // so it prints its summary.
        let mut child = spawn(&wd, &out, &["-j1"]);
        let start = Instant::now();
        // Interrupt once the first output is in place (the Ctrl-C handler is installed by then).
        while wd.dicom_outputs(&out).is_empty() {
            assert!(start.elapsed() < Duration::from_secs(60), "no output appeared");
            std::thread::sleep(Duration::from_millis(2));
        }
        // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let status = wait(&mut child);
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        let written = wd.dicom_outputs(&out).len();
        if status.code() == Some(0) && written == FILES as usize {
            continue;
        }
        assert_eq!(status.code(), Some(130), "{stderr}");
        assert!(written < FILES as usize, "the run stopped early ({written} written)");
        assert_summary_adds_up(&stderr);
        assert_eq!(leftovers(&wd.path(&out)), Vec::<String>::new(), "nothing half-written");
        if out != "out" {
            std::fs::rename(wd.path(&out), wd.path("out")).unwrap();
        }
        interrupted = true;
        break;
    }
    assert!(interrupted, "every run finished before the signal arrived");

    let rerun = wd.deid(&[]);
    rerun.assert_code(0);
    assert_eq!(wd.dicom_outputs("out").len(), FILES as usize);
    assert_audit_complete(&wd, "out", FILES);
    let canaries = canaries();
    let canaries: Vec<&str> = canaries.iter().map(String::as_str).collect();
    assert_no_leak(&wd, "out", &rerun, &canaries);
}

/// rv21 05: an interrupted anonymized run cannot be finished (its random key is gone): it
/// says so, instead of telling the operator to run the same command again, which is refused.
#[cfg(unix)]
#[test]
fn rv21_05_an_interrupted_anonymized_run_says_it_cannot_be_resumed() {
    let wd = Workdir::new("rv21_05_an_interrupted_anonymized_run_says_it_cannot_be_resumed");
    write_small_archive(&wd, FILES);
    let anonymized = |out: &str| {
        Command::new(env!("CARGO_BIN_EXE_kamei"))
            .args(["deid", "in", "-o", out, "-j1", "-q"])
            .current_dir(&wd.root)
            .env_remove("KAMEI_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kamei starts")
    };
    for attempt in 0..5 {
        let out = format!("out{attempt}");
        let mut child = anonymized(&out);
        let start = Instant::now();
        while wd.dicom_outputs(&out).is_empty() {
            assert!(start.elapsed() < Duration::from_secs(60), "no output appeared");
            std::thread::sleep(Duration::from_millis(2));
        }
        // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
        let status = wait(&mut child);
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        if status.code() == Some(0) {
            continue;
        }
        assert_eq!(status.code(), Some(130), "{stderr}");
        assert!(stderr.contains("interrupted:") && stderr.contains("cannot be resumed"), "even with -q: {stderr}");
        assert!(!stderr.contains("run the same command again"), "{stderr}");
        let again = wd.kamei(["deid", "in", "-o", &out, "-j1", "-q"]);
        again.assert_code(2);
        return;
    }
    panic!("every run finished before the signal arrived");
}

/// The summary of an interrupted run counts every input: the ones that ended in a state, and
/// those it says were not processed.
fn assert_summary_adds_up(stderr: &str) {
    let number_before = |line: &str, what: &str| -> usize {
        let at = line.find(what).unwrap_or_else(|| panic!("{what:?} in {line:?}"));
        line[..at].trim_end().rsplit([' ', '(']).next().unwrap().parse().unwrap()
    };
    let summary = stderr.lines().find(|l| l.contains(" inputs (")).expect("a summary line");
    let inputs = number_before(summary, " inputs (");
    let ended: usize = [" written,", " already present,", " done earlier,", " skipped,", " failed;"]
        .iter()
        .map(|w| number_before(summary, w))
        .sum();
    let line = stderr.lines().find(|l| l.contains("not processed")).expect("the interrupted line");
    assert_eq!(inputs, ended + number_before(line, " inputs not processed"), "{stderr}");
}

/// rv16 05: a table cut inside a row (a kill mid-append, a full disk) is repaired by the
/// resumed run: the torn row is dropped and written again whole, every row has three fields.
#[test]
fn rv16_05_a_linkage_table_cut_inside_a_row_is_repaired_by_the_resumed_run() {
    let wd = Workdir::new("rv16_05_a_linkage_table_cut_inside_a_row_is_repaired_by_the_resumed_run");
    write_small_archive(&wd, 20);
    wd.deid(&["--linkage", "link.csv"]).assert_code(0);
    let whole = std::fs::read(wd.path("link.csv")).unwrap();
    std::fs::write(wd.path("link.csv"), &whole[..whole.len() - 20]).unwrap();
    wd.deid(&["--linkage", "link.csv"]).assert_code(0);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(wd.path("link.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert!(rows.iter().all(|r| r.len() == 3), "{rows:?}");
    let mut again: Vec<&csv::StringRecord> = rows.iter().collect();
    let mut expected: Vec<csv::StringRecord> =
        csv::Reader::from_reader(&whole[..]).records().map(Result::unwrap).collect();
    again.sort_by_key(|r| r.as_slice().to_string());
    expected.sort_by_key(|r| r.as_slice().to_string());
    assert_eq!(again, expected.iter().collect::<Vec<_>>(), "the same rows, each once");
    wd.kamei(["verify", "out", "--linkage", "link.csv"]).assert_code(0);
}

/// rv16 01: a second run into an OUT another run is writing into stops at once with exit 2
/// (a whole run, or a shard beside a whole run), writing nothing; a dry run needs no lock. The
/// first run's audit is then complete.
#[test]
fn rv16_01_a_second_run_into_a_busy_out_exits_2_and_the_first_completes() {
    let wd = Workdir::new("rv16_01_a_second_run_into_a_busy_out_exits_2_and_the_first_completes");
    // Ten times the other tests' archive: on a quiet machine a run of FILES files on one thread
    // ends before the three runs below have started and ended.
    write_small_archive(&wd, 10 * FILES);
    let k = key(&wd, "k.key", 7);
    let ks = k.to_str().unwrap();
    let mut checked = false;
    for attempt in 0..5 {
        let out = format!("out{attempt}");
        let mut first = spawn(&wd, &out, &["-q", "-j1"]);
        let start = Instant::now();
        while wd.dicom_outputs(&out).is_empty() {
            assert!(start.elapsed() < Duration::from_secs(60), "no output appeared");
            std::thread::sleep(Duration::from_millis(2));
        }
        let second = wd.kamei(["deid", "in", "-o", &out, "--key", ks, "-q"]);
        let shard = wd.kamei(["deid", "in", "-o", &out, "--key", ks, "-q", "--shard", "1/2"]);
        let dry = wd.kamei(["deid", "in", "-o", &out, "--key", ks, "-q", "--dry-run"]);
        let still_running = first.try_wait().unwrap().is_none();
        assert!(wait(&mut first).success());
        if !still_running {
            continue; // the first run ended before the others were refused: proves nothing
        }
        for run in [&second, &shard] {
            run.assert_code(2);
            assert!(run.stderr().contains("another kamei run is writing into"), "{}", run.stderr());
        }
        assert_ne!(dry.code(), 2, "a dry run takes no lock: {}", dry.stderr());
        assert!(!wd.path(&out).join("kamei-audit.shard-0001-of-0002.jsonl").exists());
        if out != "out" {
            std::fs::rename(wd.path(&out), wd.path("out")).unwrap();
        }
        checked = true;
        break;
    }
    assert!(checked, "every first run finished before the second started");
    assert_audit_complete(&wd, "out", 10 * FILES);
    assert!(!wd.path("out/.kamei-partial").exists());
}

/// rv39: a second SIGTERM (Slurm's `scancel` twice, a supervisor that signals the process and
/// then its group, a double Ctrl-C) still ends the run at once with 130, but first prints the
/// `interrupted:` line (with `--quiet` too: a wrapper reads it to know the run stopped) and,
/// without `--quiet`, the counts so far, which add up with the inputs not processed.
#[cfg(unix)]
#[test]
fn rv39_a_second_signal_stops_at_once_and_still_says_interrupted() {
    let wd = Workdir::new("rv39_a_second_signal_stops_at_once_and_still_says_interrupted");
    write_small_archive(&wd, FILES);
    for quiet in [true, false] {
        let mut checked = false;
        // A run whose first stop completes before the second signal lands proves nothing: try
        // again into a fresh output folder (at most twenty times).
        for attempt in 0..20 {
            let out = format!("out-{quiet}-{attempt}");
            let mut child = spawn(&wd, &out, if quiet { &["-j1", "-q"] } else { &["-j1"] });
            let start = Instant::now();
            while wd.dicom_outputs(&out).is_empty() {
                assert!(start.elapsed() < Duration::from_secs(60), "no output appeared");
                std::thread::sleep(Duration::from_millis(2));
            }
            // The first stop of a run of small files on an idle machine takes about a
            // millisecond: the second signal follows the first closely (not at once: two
            // signals pending together are delivered as one).
            for _ in 0..2 {
                // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
                assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
                std::thread::sleep(Duration::from_micros(200));
            }
            let status = wait(&mut child);
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            assert_eq!(status.code(), Some(130), "{stderr}");
            if !stderr.contains("second signal") {
                continue; // the first signal's stop was over before the second arrived
            }
            let line = stderr.lines().find(|l| l.starts_with("kamei: interrupted:")).expect(&stderr);
            assert!(line.contains("inputs not processed") && line.contains("run the same command again"), "{stderr}");
            if quiet {
                assert!(!stderr.contains(" inputs ("), "no summary with -q: {stderr}");
            } else {
                assert_summary_adds_up(&stderr);
            }
            checked = true;
            break;
        }
        assert!(checked, "every run stopped before the second signal arrived");
    }
}
