//! The shared corpus (../shared/corpus: real files from public toolkits' test suites). Runs
//! whenever the folder is there (CI always has it) and says clearly when it is not.

use crate::util::*;
use dicom_dictionary_std::tags;
use kamei::profile::{Profile, RuleSource};
use kamei::read::{Opened, ReadOptions};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if p.is_dir() {
        Some(p.canonicalize().unwrap())
    } else {
        eprintln!("corpus tests skipped: ../shared/corpus is not present (CI always has it)");
        None
    }
}

struct CorpusRun {
    wd: Workdir,
    /// input path → output path, for written inputs.
    outputs: HashMap<PathBuf, PathBuf>,
    /// input path → (kind, reason) for skipped and failed inputs.
    others: HashMap<PathBuf, (String, String)>,
    code: i32,
}

fn run_corpus(name: &str, extra: &[&str]) -> Option<CorpusRun> {
    let corpus = corpus()?;
    let wd = Workdir::new(name);
    let k = key(&wd, "k.key", 3);
    let mut args = vec![
        "deid".to_string(),
        corpus.to_string_lossy().into_owned(),
        "-o".into(),
        "out".into(),
        "--key".into(),
        k.to_string_lossy().into_owned(),
        "--linkage".into(),
        "link.csv".into(),
        "-q".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = wd.kamei(&args);
    let code = run.code();
    assert!(code == 0 || code == 1, "kamei must finish (0 or 1), got {code}: {}", run.stderr());
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    let mut outputs = HashMap::new();
    let mut others = HashMap::new();
    let mut rdr = csv::Reader::from_path(wd.path("link.csv")).unwrap();
    for row in rdr.records() {
        let row = row.unwrap();
        match &row[0] {
            "file" => {
                outputs.insert(PathBuf::from(&row[1]), wd.path("out").join(&row[2]));
            }
            "failed" | "skipped" => {
                others.insert(PathBuf::from(&row[1]), (row[0].to_string(), row[2].to_string()));
            }
            _ => {}
        }
    }
    Some(CorpusRun { wd, outputs, others, code })
}

fn all_files(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}

fn inventory(corpus: &Path) -> HashMap<PathBuf, HashMap<String, String>> {
    let mut rdr = csv::ReaderBuilder::new().delimiter(b'\t').from_path(corpus.join("INVENTORY.tsv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let map: HashMap<String, String> =
                headers.iter().zip(r.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect();
            (corpus.join(&map["path"]), map)
        })
        .collect()
}

/// Whether an INVENTORY row is an image: an image storage SOP class, or the Image Pixel
/// module's Rows, Columns and Bits Allocated.
fn is_image_row(row: &HashMap<String, String>) -> bool {
    row["sop_class"].contains("Image Storage")
        || (!row["rows_x_cols_x_frames"].is_empty() && !row["bits_alloc"].is_empty())
}

#[test]
fn corpus_every_input_is_written_skipped_or_failed_with_a_reason() {
    let Some(run) = run_corpus("corpus_every_input", &[]) else { return };
    let corpus = corpus().unwrap();
    let files = all_files(&corpus);
    for f in &files {
        let accounted = run.outputs.contains_key(f) || run.others.contains_key(f);
        assert!(accounted, "{} is not accounted for", f.display());
        if let Some((_, reason)) = run.others.get(f) {
            assert!(!reason.is_empty(), "{} has no reason", f.display());
        }
    }
    assert_eq!(run.outputs.len() + run.others.len(), files.len());
    // Exactly these fail, each for its reason: truncated data, a data set that is not an
    // instance (no SOP Class UID anywhere, so no valid file meta can be written), or an image
    // whose header does not fit its pixel data (badVR.dcm: Number of Frames `1A` over 15 frames
    // of data; pydicom refuses it too).
    let expected_failures = [
        ("pydicom/test_files/MR_truncated.dcm", "truncated"),
        ("pydicom/test_files/rtplan_truncated.dcm", "truncated"),
        ("pydicom-data/data/emri_small_jpeg_2k_lossless_too_short.dcm", "truncated"),
        ("pydicom/test_files/meta_missing_tsyntax.dcm", "missing SOP Class UID"),
        ("pydicom/test_files/empty_charset_LEI.dcm", "missing SOP Class UID"),
        ("pydicom/test_files/nested_priv_SQ.dcm", "missing SOP Class UID"),
        ("pydicom/test_files/badVR.dcm", "Number of Frames (0028,0008) is not one positive integer"),
    ];
    for (file, why) in expected_failures {
        let (kind, reason) = run.others.get(&corpus.join(file)).unwrap_or_else(|| panic!("{file} must fail"));
        assert_eq!(kind, "failed", "{file}");
        assert!(reason.contains(why), "{file}: {reason}");
    }
    // And the images without pixel data (pydicom strips the pixels of many of its test files):
    // read as files cut before their pixels, they fail as truncated. Objects without pixels by
    // definition (SR, KOS, presentation states, RT structure sets, PDF) are written.
    let inventory = inventory(&corpus);
    let pixelless_images: BTreeSet<&PathBuf> = inventory
        .iter()
        .filter(|(_, row)| row["pixel_decode"] == "no-pixel-data" && is_image_row(row))
        .map(|(p, _)| p)
        .collect();
    assert!(pixelless_images.len() >= 50, "{}", pixelless_images.len());
    for path in &pixelless_images {
        let (kind, reason) = run.others.get(*path).unwrap_or_else(|| panic!("{} must fail", path.display()));
        assert_eq!(kind, "failed", "{}", path.display());
        assert!(reason.contains("truncated"), "{}: {reason}", path.display());
    }
    let pixelless_objects = inventory
        .iter()
        .filter(|(_, row)| row["pixel_decode"] == "no-pixel-data" && !is_image_row(row) && row["read"] == "ok")
        .filter(|(p, row)| {
            !row["flags"].contains("dicomdir") && !expected_failures.iter().any(|(f, _)| corpus.join(f) == **p)
        })
        .inspect(|(p, _)| assert!(run.outputs.contains_key(*p), "{} (no pixels by definition) is written", p.display()))
        .count();
    assert!(pixelless_objects >= 10, "{pixelless_objects}");
    let failed: BTreeSet<&PathBuf> = run.others.iter().filter(|(_, (k, _))| k == "failed").map(|(p, _)| p).collect();
    let expected: BTreeSet<PathBuf> = expected_failures
        .iter()
        .map(|(f, _)| corpus.join(f))
        .chain(pixelless_images.iter().map(|p| (*p).clone()))
        .collect();
    assert_eq!(
        failed.len(),
        expected.len(),
        "unexpected failures: {:?}",
        failed.iter().filter(|p| !expected.contains(**p)).collect::<Vec<_>>()
    );
    // Skipped: the non-DICOM files and the DICOMDIRs, nothing else.
    for (path, (kind, reason)) in &run.others {
        if kind == "skipped" {
            let name = path.file_name().unwrap().to_string_lossy();
            assert!(name.contains("DICOMDIR") || !name.ends_with(".dcm"), "{} skipped: {reason}", path.display());
        }
    }
    // Every file a strict reader opens (INVENTORY "read" = ok) is written unless it is one of the
    // failures above or a DICOMDIR.
    for (path, row) in &inventory {
        let known_broken = expected.contains(path);
        if row["read"] == "ok" && !row["flags"].contains("dicomdir") && !known_broken {
            assert!(
                run.outputs.contains_key(path),
                "{} should be written, got {:?}",
                path.display(),
                run.others.get(path)
            );
        }
    }
    assert_eq!(run.code, 1, "the corpus holds broken files, so some inputs fail");
}

#[test]
fn corpus_outputs_reread_and_keep_kept_values_byte_for_byte() {
    let Some(run) = run_corpus("corpus_outputs_reread", &[]) else { return };
    let rules = Profile::builtin("basic").unwrap().compile();
    let opts = ReadOptions::default();
    // What kamei reports doing to each output's attributes (the safety net replaces a kept value
    // that holds the patient's identifier, unlisted instance UIDs are mapped): every other
    // unlisted value must pass byte for byte.
    let mut acted: HashMap<PathBuf, std::collections::HashSet<String>> = HashMap::new();
    for line in std::fs::read_to_string(run.wd.path("out/kamei-audit.jsonl")).unwrap().lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        if let (Some(out), Some(actions)) = (r["output"].as_str(), r["actions"].as_array()) {
            let tags = actions.iter().filter_map(|a| a["tag"].as_str().map(str::to_string)).collect();
            acted.insert(run.wd.path("out").join(out), tags);
        }
    }
    let mut checked = 0;
    for (input, output) in &run.outputs {
        let reported = acted.get(output).cloned().unwrap_or_default();
        let out = match kamei::read::open(output, &opts).unwrap() {
            Opened::Dicom(f) => f,
            other => panic!("{} does not re-read: {other:?}", output.display()),
        };
        let inp = match kamei::read::open(input, &opts).unwrap() {
            Opened::Dicom(f) => f,
            other => panic!("{other:?}"),
        };
        for e in inp.dataset.elements() {
            let rule = rules.rule(e.tag);
            let marker = [
                tags::PATIENT_IDENTITY_REMOVED,
                tags::DEIDENTIFICATION_METHOD,
                tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
            ]
            .contains(&e.tag);
            if kamei::dataset::is_private(e.tag)
                || rule.source != RuleSource::Unlisted
                || marker
                || reported.contains(&kamei::dataset::tag_str(e.tag))
            {
                continue;
            }
            let (Some(a), Some(b)) = (e.bytes(), out.dataset.bytes(e.tag)) else { continue };
            let pad = |v: &[u8]| if v.len() % 2 == 1 { v.len() + 1 } else { v.len() };
            let same = b.len() == pad(a) && &b[..a.len()] == a;
            assert!(same, "{}: kept value {} changed", input.display(), kamei::dataset::tag_str(e.tag));
        }
        if let (Some(a), Some(b)) = (inp.dataset.get(tags::PIXEL_DATA), out.dataset.get(tags::PIXEL_DATA)) {
            assert_eq!(a.value.is_empty(), b.value.is_empty());
        }
        // dicom-object, an independent reader, opens every output whose input it opens.
        if dicom_object::open_file(input).is_ok() {
            dicom_object::open_file(output)
                .unwrap_or_else(|e| panic!("{} does not open in dicom-object: {e}", output.display()));
        }
        checked += 1;
    }
    // 59 corpus images without pixel data fail as truncated (see the test above).
    assert!(checked > 180, "only {checked} outputs checked");
    assert_eq!(run.wd.tree_contains("out", b"CANARY"), None);
}

fn dciodvfy_errors(path: &Path) -> BTreeSet<String> {
    let out = Command::new("dciodvfy").arg(path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    // Messages quote values (UIDs change by design): compare them with values masked.
    let uid = regex_lite_uid;
    text.lines().filter(|l| l.starts_with("Error")).map(uid).collect()
}

/// Replace every dotted number (a UID) and every <...> quoted value with a placeholder. The
/// names dciodvfy writes in angle brackets right after `=` (`Element=<ReferencedStudySequence>`,
/// `Module=<GeneralStudy>`) stay: an error moved to another attribute is a new error.
fn regex_lite_uid(line: &str) -> String {
    let mut out = String::new();
    let mut in_angle = false;
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '<' && i > 0 && chars[i - 1] == '=' {
            out.push(c);
        } else if c == '<' {
            in_angle = true;
            out.push_str("<…>");
        } else if c == '>' && !in_angle {
            out.push(c);
        } else if c == '>' {
            in_angle = false;
        } else if !in_angle {
            if c.is_ascii_digit() {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let run: String = chars[start..i].iter().collect();
                let _ = run;
                out.push_str("<n>");
                continue;
            }
            out.push(c);
        }
        i += 1;
    }
    out
}

#[test]
fn corpus_outputs_have_no_iod_error_their_inputs_did_not_have() {
    if Command::new("dciodvfy").arg("-").output().is_err() {
        eprintln!("dciodvfy check skipped: dicom3tools is not installed (.ci/run installs it)");
        return;
    }
    let Some(run) = run_corpus("corpus_dciodvfy", &[]) else { return };
    let mut problems = Vec::new();
    let mut not_comparable = 0;
    for (input, output) in &run.outputs {
        let before = dciodvfy_errors(input);
        // Without a SOP Class UID in the data set dciodvfy cannot check the input's modules;
        // kamei copies the class from the file meta, so the output's modules get checked for
        // the first time: nothing to compare against.
        if before.iter().any(|e| e.contains("missing SOPClassUID")) {
            not_comparable += 1;
            continue;
        }
        let after = dciodvfy_errors(output);
        let new: Vec<&String> = after.difference(&before).collect();
        if !new.is_empty() {
            problems.push(format!("{}: {new:?}", input.display()));
        }
    }
    assert!(problems.is_empty(), "new IOD errors:\n{}", problems.join("\n"));
    assert!(not_comparable <= 6, "{not_comparable} inputs could not be compared");
}

#[test]
fn corpus_releases_verify_without_residual_identifiers() {
    // `verify --against` on the corpus released with and without date shifting: every
    // identifier it looks for (exam dates, phone numbers, IDs in their spellings...) is one
    // `deid` removed, so a finding here is a false positive (or a leak).
    for (name, extra) in [("default", &[][..]), ("shifted", &["--option", "retain-long-modified-dates"][..])] {
        let Some(run) = run_corpus(&format!("corpus_verify_{name}"), extra) else { return };
        let corpus = corpus().unwrap();
        let v = run.wd.kamei(["verify", "out", "--against", corpus.to_str().unwrap()]);
        let stdout = v.stdout();
        let residual: Vec<&str> = stdout.lines().filter(|l| l.contains("\tresidual-identifier\t")).collect();
        assert!(residual.is_empty(), "{name}: {residual:#?}");
    }
}
