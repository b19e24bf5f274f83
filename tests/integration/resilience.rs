//! Resilience: mutated real files (bit flips, truncation, corrupted lengths and VRs, a wrong
//! transfer syntax in the meta) go through `deid` without a panic or a hang, every input ends
//! written, skipped or failed, and no written output contains an identifier of its input
//! (checked with `kamei verify --against` the mutated inputs).
//!
//! CI runs a bounded number of cases (`KAMEI_FUZZ_CASES`, default 240); a long run on demand:
//! `KAMEI_FUZZ_CASES=20000 KAMEI_FUZZ_SEED=7 cargo test --release --test integration resilience -- --nocapture`.

use crate::util::*;
use dicom_dictionary_std::tags;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*), so a failing case can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TRANSFER_SYNTAXES: [&str; 5] = [
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.4.50",
];

/// Offset where the data set starts (after the meta group), if the file has a Part 10 header.
fn dataset_start(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < 144 || &bytes[128..132] != b"DICM" {
        return None;
    }
    let mut at = 132;
    while at + 8 <= bytes.len() && u16::from_le_bytes([bytes[at], bytes[at + 1]]) == 0x0002 {
        let long = matches!(&bytes[at + 4..at + 6], b"OB" | b"UN" | b"UT" | b"SQ");
        let (len, header) = if long && at + 12 <= bytes.len() {
            (u32::from_le_bytes([bytes[at + 8], bytes[at + 9], bytes[at + 10], bytes[at + 11]]) as usize, 12)
        } else {
            (u16::from_le_bytes([bytes[at + 6], bytes[at + 7]]) as usize, 8)
        };
        at += header + len;
    }
    Some(at.min(bytes.len()))
}

/// Replace the transfer syntax in the meta, keeping the data set bytes as they are.
fn wrong_transfer_syntax(bytes: &[u8], uid: &str) -> Option<Vec<u8>> {
    let start = dataset_start(bytes)?;
    let mut ts = uid.as_bytes().to_vec();
    if ts.len() % 2 == 1 {
        ts.push(0);
    }
    let mut meta = Vec::new();
    meta.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I']);
    meta.extend_from_slice(&(ts.len() as u16).to_le_bytes());
    meta.extend_from_slice(&ts);
    let mut out = bytes[..128].to_vec();
    out.extend_from_slice(b"DICM");
    out.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0]);
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(&bytes[start..]);
    Some(out)
}

fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut b = original.to_vec();
    let body = dataset_start(&b).unwrap_or(0);
    let span = b.len().saturating_sub(body).max(1);
    match rng.below(5) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let i = body + rng.below(span);
                if i < b.len() {
                    b[i] ^= 1 << rng.below(8);
                }
            }
        }
        1 => b.truncate(body + rng.below(span)),
        2 => {
            // Corrupt a length: overwrite 2 or 4 bytes just after a VR-looking pair.
            let i = body + rng.below(span);
            let end = (i + 4).min(b.len());
            for byte in &mut b[i..end] {
                *byte = rng.next() as u8;
            }
        }
        3 => {
            // Corrupt a VR: find a two-letter VR and replace it.
            let vrs: [&[u8; 2]; 6] = [b"XX", b"SQ", b"UN", b"OB", b"PN", b"\0\0"];
            let starts: Vec<usize> = (body..b.len().saturating_sub(1))
                .filter(|&i| b[i].is_ascii_uppercase() && b[i + 1].is_ascii_uppercase())
                .collect();
            if !starts.is_empty() {
                let i = starts[rng.below(starts.len())];
                let v = vrs[rng.below(vrs.len())];
                b[i] = v[0];
                b[i + 1] = v[1];
            }
        }
        _ => {
            let uid = TRANSFER_SYNTAXES[rng.below(TRANSFER_SYNTAXES.len())];
            if let Some(w) = wrong_transfer_syntax(&b, uid) {
                b = w;
            }
        }
    }
    b
}

/// Originals to mutate: the shared corpus's readable files when present, otherwise fixtures.
fn originals(wd: &Workdir) -> Vec<Vec<u8>> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut v = Vec::new();
    if corpus.is_dir() {
        for e in walkdir::WalkDir::new(&corpus).into_iter().filter_map(Result::ok) {
            let p = e.path();
            let small = e.metadata().map(|m| m.len() < 600_000).unwrap_or(false);
            if e.file_type().is_file() && small && p.extension().is_some_and(|x| x == "dcm") {
                v.push(std::fs::read(p).unwrap());
            }
        }
    } else {
        eprintln!("resilience: ../shared/corpus is not present; mutating generated fixtures only");
    }
    for (i, ts) in ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"].iter().enumerate() {
        let p = wd.path(&format!("fixture{i}.dcm"));
        Fixture::ct(CANARY_ID, "1.2.3.4", "1.2.3.4.5", &format!("1.2.3.4.5.{i}"))
            .put(str_el(tags::STUDY_DESCRIPTION, dicom_core::VR::LO, "CANARY PATIENT STUDY"))
            .ts(ts)
            .write(&p);
        v.push(std::fs::read(&p).unwrap());
    }
    v
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Run kamei with a deadline; a hang is a failure.
fn run_with_deadline(wd: &Workdir, args: &[&str], limit: Duration) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kamei"))
        .args(args)
        .current_dir(&wd.root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code().unwrap_or(-1), reader.join().unwrap());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("kamei did not finish within {limit:?} (a hang)");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn mutated_files_never_panic_hang_or_leak() {
    let wd = Workdir::new("mutated_files_never_panic_hang_or_leak");
    let cases = env_number("KAMEI_FUZZ_CASES", 240) as usize;
    let mut rng = Rng(env_number("KAMEI_FUZZ_SEED", 0x5EED_CAFE) | 1);
    let originals = originals(&wd);
    let mut seen = HashSet::new();
    let input = wd.path("in");
    std::fs::create_dir_all(&input).unwrap();
    let mut written = 0;
    while written < cases {
        let original = &originals[rng.below(originals.len())];
        let m = mutate(&mut rng, original);
        if !seen.insert(m.clone()) {
            continue;
        }
        std::fs::write(input.join(format!("m{written:05}.dcm")), &m).unwrap();
        written += 1;
    }
    let k = key(&wd, "k.key", 11);
    let (code, stderr) = run_with_deadline(
        &wd,
        &["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q", "--option", "retain-safe-private"],
        Duration::from_secs(300),
    );
    assert!(code == 0 || code == 1, "exit code {code}; stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Every input is accounted for exactly once (inputs are distinct by construction).
    let audit = wd.audit("out");
    assert_eq!(audit.len(), cases, "one audit record per input");
    for r in &audit {
        let outcome = r["outcome"].as_str().unwrap();
        assert!(["written", "present", "skipped", "failed"].contains(&outcome), "{r}");
        if outcome == "skipped" || outcome == "failed" {
            assert!(r["reason"].as_str().is_some_and(|s| !s.is_empty()), "{r}");
        }
    }
    // Every output re-reads, and none contains an identifier of its (mutated) input.
    for out in wd.dicom_outputs("out") {
        match kamei::read::open(&out, &kamei::read::ReadOptions::default()) {
            Ok(kamei::read::Opened::Dicom(_)) => {}
            other => panic!("{} does not re-read: {other:?}", out.display()),
        }
    }
    let (vcode, vstderr) = run_with_deadline(
        &wd,
        &["verify", "out", "--against", "in", "--report", "report.json"],
        Duration::from_secs(300),
    );
    assert!(vcode == 0 || vcode == 1, "{vstderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("report.json")).unwrap()).unwrap();
    // Only the identifiers of an output's own input count here (a garbled value of one mutated
    // file, say a Patient ID "OB1", may legitimately occur in another file's output).
    let originals = kamei::verify::originals_from_inputs(&[wd.path("in")], 2);
    let sources: std::collections::HashMap<String, String> = audit
        .iter()
        .filter_map(|r| Some((r["output"].as_str()?.to_string(), r["input_sha256"].as_str()?.to_string())))
        .collect();
    let baseline = baseline_leaks(&wd);
    let leaks: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| match f["kind"].as_str() {
            Some("not-allowed" | "private-not-allowed") => true,
            Some("residual-identifier") => {
                let matched = f["matched"].as_str().unwrap_or_default();
                let own = sources
                    .get(f["file"].as_str().unwrap_or_default())
                    .and_then(|h| originals.per_input.get(h))
                    .is_some_and(|d| d.contains(matched));
                own && !baseline.contains(matched)
            }
            _ => false,
        })
        .collect();
    assert!(leaks.is_empty(), "outputs of mutated inputs leak: {leaks:#?}");
}

/// Identifiers the unmutated originals already show in verify (values that legitimately occur
/// in kept attributes of the corpus, e.g. an institution name equal to the manufacturer).
fn baseline_leaks(wd: &Workdir) -> HashSet<String> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut set = HashSet::new();
    if !corpus.is_dir() {
        return set;
    }
    let k = key(wd, "k.key", 11);
    let base = wd.path("base");
    std::fs::create_dir_all(&base).unwrap();
    let corpus_s = corpus.to_string_lossy().into_owned();
    let _ = run_with_deadline(
        wd,
        &["deid", &corpus_s, "-o", "base/out", "--key", k.to_str().unwrap(), "-q", "--option", "retain-safe-private"],
        Duration::from_secs(300),
    );
    let _ = run_with_deadline(
        wd,
        &["verify", "base/out", "--against", &corpus_s, "--report", "base/report.json"],
        Duration::from_secs(300),
    );
    let text = std::fs::read_to_string(base.join("report.json")).unwrap_or_default();
    if let Ok(report) = serde_json::from_str::<serde_json::Value>(&text) {
        for f in report["findings"].as_array().into_iter().flatten() {
            if let Some(m) = f["matched"].as_str() {
                set.insert(m.to_string());
            }
        }
    }
    set
}

#[test]
fn unreadable_input_is_reported_and_the_run_goes_on() {
    let wd = Workdir::new("unreadable_input_is_reported_and_the_run_goes_on");
    Fixture::ct("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1").write(&wd.path("in/a.dcm"));
    // A dangling symbolic link: listed by the walk, cannot be opened (works as root, unlike chmod).
    #[cfg(unix)]
    std::os::unix::fs::symlink(wd.path("in/nowhere.dcm"), wd.path("in/b.dcm")).unwrap();
    let k = key(&wd, "k.key", 1);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"]);
    run.assert_code(1);
    assert!(run.stderr().contains("could not read"), "{}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 1);
    let _: PathBuf = wd.path("out");
}

/// rv16 04: a dangling symbolic link inside the archive fails in exactly one of N shards (its
/// relative path decides which, as for a file), so the shards' counts add up to the whole run's.
#[cfg(unix)]
#[test]
fn rv16_04_a_dangling_link_fails_in_one_shard_only() {
    let wd = Workdir::new("rv16_04_a_dangling_link_fails_in_one_shard_only");
    write_small_archive(&wd, 10);
    std::os::unix::fs::symlink(wd.path("moved-away/x.dcm"), wd.path("in/p0/stale.dcm")).unwrap();
    let k = key(&wd, "k.key", 1);
    let mut failing = 0;
    for i in 1..=4 {
        let shard = format!("{i}/4");
        let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q", "--shard", &shard]);
        assert!(run.code() <= 1, "{}", run.stderr());
        failing += usize::from(run.code() == 1);
    }
    assert_eq!(failing, 1, "one shard fails the link");
    let mut failed = 0;
    for i in 1..=4 {
        let log = wd.path(&format!("out/kamei-audit.shard-{i:04}-of-0004.jsonl"));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        failed += text.lines().filter(|l| l.contains("\"outcome\":\"failed\"")).count();
    }
    assert_eq!(failed, 1, "one failed record in all the shards' logs");
    assert_eq!(wd.dicom_outputs("out").len(), 10);
}

/// Unmounts a test file system when dropped (also when the test fails).
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// `mount OPTIONS SOURCE AT`, unmounted when the guard drops; `None` where this machine cannot
/// mount (not root).
fn mount(options: &[&str], source: &Path, at: &Path) -> Option<Unmount> {
    let mounted = Command::new("mount")
        .args(options)
        .arg(source)
        .arg(at)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    mounted.then(|| Unmount(at.to_path_buf()))
}

#[test]
fn disk_full_is_reported_and_leaves_no_partial_output() {
    let wd = Workdir::new("disk_full_is_reported_and_leaves_no_partial_output");
    let pixels: Vec<u16> = (0..128 * 128).map(|i| i as u16).collect();
    for n in 0..40 {
        Fixture::ct("P1", "1.2.3", "1.2.3.1", &format!("1.2.3.1.{n}"))
            .put(dicom_core::DataElement::new(tags::ROWS, dicom_core::VR::US, dicom_core::PrimitiveValue::from(128u16)))
            .put(dicom_core::DataElement::new(
                tags::COLUMNS,
                dicom_core::VR::US,
                dicom_core::PrimitiveValue::from(128u16),
            ))
            .put(dicom_core::DataElement::new(
                tags::PIXEL_DATA,
                dicom_core::VR::OW,
                dicom_core::PrimitiveValue::U16(pixels.iter().copied().collect()),
            ))
            .write(&wd.path(&format!("in/{n}.dcm")));
    }
    let out = wd.path("out");
    std::fs::create_dir_all(&out).unwrap();
    let Some(_unmount) = mount(&["-t", "tmpfs", "-o", "size=400k"], Path::new("tmpfs"), &out) else {
        eprintln!("disk-full test skipped: cannot mount a small tmpfs here (needs root)");
        return;
    };
    let k = key(&wd, "k.key", 2);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"]);
    run.assert_code(1);
    assert!(run.stderr().contains("No space left on device"), "{}", run.stderr());
    // No partial file anywhere, and every output at a final name is complete.
    for f in wd.files("out") {
        assert!(!f.to_string_lossy().ends_with(".part"), "partial file left: {}", f.display());
    }
    let outputs = wd.dicom_outputs("out");
    assert!(!outputs.is_empty() && outputs.len() < 40, "{} outputs", outputs.len());
    for o in outputs {
        let bytes = std::fs::read(&o).unwrap();
        let src = kamei::read::Source::from_bytes(&o, bytes);
        match kamei::read::parse(&src, &kamei::read::ReadOptions::default()) {
            Ok(kamei::read::Opened::Dicom(f)) => assert!(f.dataset.get(tags::PIXEL_DATA).is_some()),
            other => panic!("{} is incomplete: {other:?}", o.display()),
        }
    }
}

/// rv34 06: a file size limit (`ulimit -f`, RLIMIT_FSIZE, as batch systems set it) fails the
/// input whose output would grow past it, like a full disk: SIGXFSZ is ignored, the write fails
/// with EFBIG, the input is audited as failed with the reason, the other input is written, no
/// temporary file is left, exit 1 (not killed by the signal, exit 153).
#[cfg(unix)]
#[test]
fn rv34_06_a_file_size_limit_fails_the_input_not_the_run() {
    let wd = Workdir::new("rv34_06_a_file_size_limit_fails_the_input_not_the_run");
    Fixture::ct("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1").write(&wd.path("in/small.dcm"));
    let pixels: Vec<u16> = (0..256 * 256).map(|i| i as u16).collect();
    Fixture::ct("P1", "1.2.3", "1.2.3.1", "1.2.3.1.2")
        .put(dicom_core::DataElement::new(tags::ROWS, dicom_core::VR::US, dicom_core::PrimitiveValue::from(256u16)))
        .put(dicom_core::DataElement::new(tags::COLUMNS, dicom_core::VR::US, dicom_core::PrimitiveValue::from(256u16)))
        .put(dicom_core::DataElement::new(
            tags::PIXEL_DATA,
            dicom_core::VR::OW,
            dicom_core::PrimitiveValue::U16(pixels.into_iter().collect()),
        ))
        .write(&wd.path("in/large.dcm"));
    let k = key(&wd, "k.key", 1);
    // 100 blocks of 1 KiB: the small output and the audit log fit, the 128 KiB image does not.
    let script = format!("ulimit -f 100 && exec \"$0\" deid in -o out --key {} -j 1", k.to_str().unwrap());
    let output = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_kamei"))
        .current_dir(&wd.root)
        .env_remove("KAMEI_LOG")
        .output()
        .unwrap();
    let run = Run { output };
    run.assert_code(1);
    assert!(run.stderr().contains("too large"), "{}", run.stderr());
    let audit = wd.audit("out");
    let failed: Vec<_> = audit.iter().filter(|r| r["outcome"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{audit:?}");
    assert!(failed[0]["reason"].as_str().is_some_and(|r| r.contains("too large")), "{audit:?}");
    assert_eq!(wd.dicom_outputs("out").len(), 1, "the small input is written");
    for f in wd.files("out") {
        assert!(!f.to_string_lossy().ends_with(".part"), "temporary file left: {}", f.display());
    }
}

/// rv16 suspect: compaction of the audit log (the end of a run) writes the whole log anew
/// beside the old one; when the disk fills during it, the half-written copy is removed (it took
/// the room the user is told to make) and the old log is kept whole.
/// Needs root for a small tmpfs; skipped otherwise.
#[test]
fn a_compaction_stopped_by_a_full_disk_leaves_no_half_written_log() {
    let wd = Workdir::new("a_compaction_stopped_by_a_full_disk_leaves_no_half_written_log");
    for n in 0..100 {
        Fixture::ct("P1", "1.2.3", "1.2.3.1", &format!("1.2.3.1.{n}")).write(&wd.path(&format!("in/{n}.dcm")));
    }
    let out = wd.path("out");
    std::fs::create_dir_all(&out).unwrap();
    let Some(_unmount) = mount(&["-t", "tmpfs", "-o", "size=2m"], Path::new("tmpfs"), &out) else {
        eprintln!("compaction disk-full test skipped: cannot mount a small tmpfs here (needs root)");
        return;
    };
    let k = key(&wd, "k.key", 4);
    let ks = k.to_str().unwrap();
    wd.kamei(["deid", "in", "-o", "out", "--key", ks, "-q"]).assert_code(0);
    let log = std::fs::read(out.join("kamei-audit.jsonl")).unwrap();
    assert!(log.len() > 64 * 1024, "the log must outgrow the room left: {} bytes", log.len());
    // Fill the file system, then free 32 kB: room for one more output and its record, not
    // for a second copy of the log.
    let mut filler = std::fs::File::create(out.join("filler")).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut filler, &chunk).is_ok() {}
    let filled = filler.metadata().unwrap().len();
    filler.set_len(filled.saturating_sub(32 * 1024)).unwrap();
    drop(filler);
    Fixture::ct("P1", "1.2.3", "1.2.3.1", "1.2.3.1.100").write(&wd.path("in/100.dcm"));
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", ks, "-q"]);
    run.assert_code(1);
    assert!(run.stderr().contains("No space left on device"), "{}", run.stderr());
    assert!(!out.join(".kamei-audit.jsonl.compacting").exists(), "half-written log left behind");
    let kept = std::fs::read(out.join("kamei-audit.jsonl")).unwrap();
    assert!(kept.starts_with(&log), "the old log must stay whole");
}

#[test]
fn an_audit_log_that_is_not_a_regular_file_is_refused_not_read_forever() {
    let wd = Workdir::new("an_audit_log_that_is_not_a_regular_file_is_refused_not_read_forever");
    Fixture::ct("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1").write(&wd.path("in/a.dcm"));
    std::fs::create_dir_all(wd.path("out")).unwrap();
    // A link to /dev/zero in the audit log's place: an endless line with no newline.
    std::os::unix::fs::symlink("/dev/zero", wd.path("out/kamei-audit.jsonl")).unwrap();
    let run = run_with_deadline(&wd, &["deid", "in", "-o", "out", "-q"], Duration::from_secs(60));
    assert_eq!(run.0, 2, "{}", run.1);
    assert!(run.1.contains("not a regular file"), "{}", run.1);
}

/// rv16 03: OUT and the linkage table inside an input reached through another mount point of
/// the same folder (a bind mount) are refused like the plain paths (exit 2, nothing written), by
/// `deid` and `clinical csv`; so is `verify --report` inside the release.
/// Needs root for `mount --bind`; skipped otherwise.
#[test]
fn rv16_03_out_or_linkage_inside_an_input_through_a_bind_mount_is_refused() {
    let wd = Workdir::new("rv16_03_out_or_linkage_inside_an_input_through_a_bind_mount_is_refused");
    Fixture::ct("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1").write(&wd.path("archive/a.dcm"));
    std::fs::create_dir(wd.path("alias")).unwrap();
    let Some(_unmount) = mount(&["--bind"], &wd.path("archive"), &wd.path("alias")) else {
        eprintln!("bind-mount test skipped: cannot bind-mount here (needs root)");
        return;
    };
    let k = key(&wd, "k.key", 3);
    let ks = k.to_str().unwrap();
    let run = wd.kamei(["deid", "alias", "-o", "archive/release", "--key", ks, "-q"]);
    run.assert_code(2);
    assert!(run.stderr().contains("inside INPUT argument #1"), "{}", run.stderr());
    let run = wd.kamei(["deid", "alias", "-o", "out", "--key", ks, "-q", "--linkage", "archive/link.csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("inside an input folder"), "{}", run.stderr());
    let run = wd.kamei(["deid", "archive", "-o", "alias/release", "--key", ks, "-q"]);
    run.assert_code(2);
    std::fs::write(wd.path("archive/labs.csv"), "patient_id,value\nP1,1\n").unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvalue = \"keep\"\n").unwrap();
    let csv = ["clinical", "csv", "alias", "--key", ks, "--columns", "cols.toml", "-o"];
    let run = wd.kamei([&csv[..], &["archive/clinical"]].concat());
    run.assert_code(2);
    assert!(run.stderr().contains("overlap"), "{}", run.stderr());
    let run = wd.kamei([&csv[..], &["clinical", "--linkage", "archive/link.csv"]].concat());
    run.assert_code(2);
    assert!(run.stderr().contains("inside an input folder"), "{}", run.stderr());
    assert_eq!(
        wd.files("archive"),
        [PathBuf::from("a.dcm"), PathBuf::from("labs.csv")],
        "nothing written into the input"
    );
    // verify's report holds identifiers: not inside the release, by whatever name.
    wd.kamei(["deid", "archive", "-o", "out", "--key", ks, "-q"]).assert_code(0);
    std::fs::create_dir(wd.path("out-alias")).unwrap();
    let _unmount_out =
        mount(&["--bind"], &wd.path("out"), &wd.path("out-alias")).expect("a bind mount, as the first one worked");
    let run = wd.kamei(["verify", "out", "--report", "out-alias/report.json"]);
    run.assert_code(2);
    assert!(run.stderr().contains("must not be inside the release folder"), "{}", run.stderr());
}
