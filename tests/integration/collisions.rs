//! Inputs whose outputs claim one name (the same SOP Instance UID in two encodings, a corrected
//! re-send): among different outputs that claim a name, the lowest output SHA-256 holds it and
//! every other takes `<stem>.<12 hex of its output SHA-256>.dcm`, whatever order the inputs are
//! processed in, whether in one run, run after run, or by shards writing into one OUT.

use crate::util::*;
use dicom_core::VR;
use dicom_dictionary_std::tags;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

const STUDY: &str = "1.2.826.0.1.3680043.8.498.77";
const SOP: &str = "1.2.826.0.1.3680043.8.498.77.1.1";

/// The same instance (one SOP Instance UID) in several versions: explicit VR, implicit VR, and
/// corrected ones.
fn claimant(n: usize) -> Fixture {
    let f = Fixture::ct("P-COLL", STUDY, &format!("{STUDY}.1"), SOP);
    match n {
        0 => f,
        1 => f.ts("1.2.840.10008.1.2"),
        n => f.put(str_el(tags::SLICE_THICKNESS, VR::DS, &format!("{n}.5"))),
    }
}

/// Input file names; `names[i]` holds claimant `i`.
fn write_claimants(wd: &Workdir, names: &[&str]) {
    for (i, name) in names.iter().enumerate() {
        claimant(i).write(&wd.path(&format!("in/{name}")));
    }
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn deid_into(wd: &Workdir, inputs: &[&str], out: &str, extra: &[&str]) -> Run {
    let k = key(wd, "k.key", 41);
    let mut args: Vec<String> = vec!["deid".into()];
    args.extend(inputs.iter().map(|s| s.to_string()));
    args.extend(["-o", out, "--key", k.to_str().unwrap(), "-q"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    wd.kamei(args)
}

/// The DICOM outputs below `out`: relative name → bytes.
fn outputs(wd: &Workdir, out: &str) -> BTreeMap<PathBuf, Vec<u8>> {
    tree(wd, out)
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "dcm") && !p.starts_with(".kamei-partial"))
        .collect()
}

/// Each input's output bytes, made by running it alone into a fresh OUT.
fn alone(wd: &Workdir, names: &[&str]) -> Vec<Vec<u8>> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let out = format!("alone-{i}");
            deid_into(wd, &[&format!("in/{name}")], &out, &[]).assert_code(0);
            let mut o = outputs(wd, &out).into_values();
            let bytes = o.next().expect("one output");
            assert!(o.next().is_none());
            bytes
        })
        .collect()
}

/// The rule, checked on a tree: one plain name held by the lowest hash, every other output at
/// `<stem>.<12 hex of its own hash>.dcm` beside it, and each input's output there whole.
#[track_caller]
fn assert_names_follow_the_rule(tree: &BTreeMap<PathBuf, Vec<u8>>, expected: &[Vec<u8>]) {
    assert_eq!(tree.len(), expected.len(), "{:?}", tree.keys().collect::<Vec<_>>());
    let plain = tree.keys().min_by_key(|p| p.as_os_str().len()).unwrap();
    assert_eq!(plain.file_name().unwrap().to_string_lossy(), format!("{}.dcm", tree_sop(plain)));
    let lowest = expected.iter().map(|b| sha(b)).min().unwrap();
    let stem = plain.file_stem().unwrap().to_string_lossy().into_owned();
    for bytes in expected {
        let h = sha(bytes);
        let name = if h == lowest { plain.clone() } else { plain.with_file_name(format!("{stem}.{}.dcm", &h[..12])) };
        assert!(tree.get(&name) == Some(bytes), "{} does not hold its output", name.display());
    }
}

/// The de-identified SOP Instance UID a plain name carries (its stem).
fn tree_sop(plain: &Path) -> String {
    plain.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Where each input's output is, from the audit logs of `out`, by the rule README "Audit log"
/// states: a move record `{moved_from, moved_to, output_sha256}` applies to the records of
/// `moved_from` with that output hash; a record without an output hash is the first output at
/// its name, so if moves from there exist it is the one with the highest hash.
fn audited_outputs(wd: &Workdir, out: &str) -> HashMap<String, String> {
    let lines = wd.audit(out);
    let moves: Vec<(String, String, String)> = wd
        .audit_moves(out)
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap().to_string();
            (s("moved_from"), s("output_sha256"), s("moved_to"))
        })
        .collect();
    let mut located = HashMap::new();
    for r in &lines {
        let (Some(input), Some(output)) = (r["input_sha256"].as_str(), r["output"].as_str()) else { continue };
        let mut h = r["output_sha256"].as_str().map(str::to_string);
        let mut seen = vec![output.to_string()];
        loop {
            let at = seen.last().unwrap().clone();
            let here: Vec<&(String, String, String)> = moves.iter().filter(|(f, ..)| *f == at).collect();
            let Some(first_hash) = here.iter().map(|(_, mh, _)| mh.clone()).max() else { break };
            let want = h.get_or_insert(first_hash).clone();
            match here.iter().find(|(_, mh, _)| *mh == want) {
                Some((_, _, to)) if !seen.contains(to) => seen.push(to.clone()),
                _ => break,
            }
        }
        // Moved away and back: the name that holds the output's bytes.
        let at = match &h {
            Some(h) if seen.len() > 1 => seen
                .iter()
                .rev()
                .find(|p| std::fs::read(wd.path(out).join(p)).is_ok_and(|b| sha(&b) == *h))
                .cloned()
                .unwrap_or_default(),
            _ => seen[0].clone(),
        };
        located.insert(input.to_string(), at);
    }
    located
}

/// Each input (by content hash) names, in the audit of `out`, the file that holds its output.
#[track_caller]
fn assert_audit_names_every_output(wd: &Workdir, out: &str, names: &[&str], expected: &[Vec<u8>]) {
    let located = audited_outputs(wd, out);
    for (name, bytes) in names.iter().zip(expected) {
        let input = sha(&std::fs::read(wd.path(&format!("in/{name}"))).unwrap());
        let at = located.get(&input).unwrap_or_else(|| panic!("no audit record of {name}"));
        assert!(std::fs::read(wd.path(out).join(at)).ok().as_ref() == Some(bytes), "the audit names {at} for {name}");
    }
}

#[test]
fn two_encodings_of_one_instance_get_the_same_names_whichever_is_processed_first() {
    let wd = Workdir::new("two_encodings_of_one_instance_get_the_same_names_whichever_is_processed_first");
    let names = ["a.dcm", "b.dcm"];
    write_claimants(&wd, &names);
    let expected = alone(&wd, &names);
    assert_ne!(expected[0], expected[1]);
    deid_into(&wd, &["in"], "whole", &[]).assert_code(0);
    let whole = outputs(&wd, "whole");
    assert_names_follow_the_rule(&whole, &expected);
    // Each alone into OUT, then the other: both orders.
    deid_into(&wd, &["in/a.dcm"], "ab", &[]).assert_code(0);
    deid_into(&wd, &["in/b.dcm"], "ab", &[]).assert_code(0);
    deid_into(&wd, &["in/b.dcm"], "ba", &[]).assert_code(0);
    deid_into(&wd, &["in/a.dcm"], "ba", &[]).assert_code(0);
    // One run, one worker, both orders of the arguments.
    deid_into(&wd, &["in/a.dcm", "in/b.dcm"], "j1-ab", &["-j", "1"]).assert_code(0);
    deid_into(&wd, &["in/b.dcm", "in/a.dcm"], "j1-ba", &["-j", "1"]).assert_code(0);
    for out in ["ab", "ba", "j1-ab", "j1-ba"] {
        assert_eq!(outputs(&wd, out), whole, "{out} differs from the whole run");
        assert_audit_names_every_output(&wd, out, &names, &expected);
    }
    assert_audit_names_every_output(&wd, "whole", &names, &expected);
}

/// Names for three inputs such that `--shard 1/2` and `--shard 2/2` each have at least one.
fn split_names() -> Vec<String> {
    let shard_of =
        |n: &str| (1..=2).find(|i| kamei::walk::Shard { index: *i, count: 2 }.contains(Path::new(n))).unwrap();
    let mut names: Vec<String> = Vec::new();
    for i in 0.. {
        let n = format!("c{i}.dcm");
        let s = shard_of(&n);
        let have: Vec<u32> = names.iter().map(|m| shard_of(m)).collect();
        if names.len() < 2 && have.contains(&s) {
            continue;
        }
        names.push(n);
        if names.len() == 3 {
            break;
        }
    }
    names
}

#[test]
fn three_claimants_get_the_same_names_in_every_order_and_across_shards() {
    let wd = Workdir::new("three_claimants_get_the_same_names_in_every_order_and_across_shards");
    let owned = split_names();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    write_claimants(&wd, &names);
    let expected = alone(&wd, &names);
    deid_into(&wd, &["in"], "whole", &[]).assert_code(0);
    let whole = outputs(&wd, "whole");
    assert_names_follow_the_rule(&whole, &expected);
    for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
        let out = format!("runs-{}{}{}", order[0], order[1], order[2]);
        for i in order {
            deid_into(&wd, &[&format!("in/{}", names[i])], &out, &[]).assert_code(0);
        }
        assert_eq!(outputs(&wd, &out), whole, "{out}");
        assert_audit_names_every_output(&wd, &out, &names, &expected);
        let args: Vec<String> = order.iter().map(|i| format!("in/{}", names[*i])).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = format!("j1-{}{}{}", order[0], order[1], order[2]);
        deid_into(&wd, &args, &out, &["-j", "1"]).assert_code(0);
        assert_eq!(outputs(&wd, &out), whole, "{out}");
        assert_audit_names_every_output(&wd, &out, &names, &expected);
    }
    // Two shards into one OUT, one after the other in both orders.
    for (out, shards) in [("shards-12", ["1/2", "2/2"]), ("shards-21", ["2/2", "1/2"])] {
        for s in shards {
            deid_into(&wd, &["in"], out, &["--shard", s]).assert_code(0);
        }
        assert_eq!(outputs(&wd, out), whole, "{out}");
        assert_audit_names_every_output(&wd, out, &names, &expected);
        verify_clean(&wd, out);
    }
    // And at the same time, a few times over (`KAMEI_COLLISION_ROUNDS` for a longer run).
    let rounds = std::env::var("KAMEI_COLLISION_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(4);
    for round in 0..rounds {
        let out = format!("shards-together-{round}");
        let k = key(&wd, "k.key", 41);
        let spawn = |s: &str| {
            std::process::Command::new(env!("CARGO_BIN_EXE_kamei"))
                .args(["deid", "in", "-o", &out, "--key", k.to_str().unwrap(), "-q", "--shard", s])
                .current_dir(&wd.root)
                .spawn()
                .unwrap()
        };
        let (mut one, mut two) = (spawn("1/2"), spawn("2/2"));
        assert!(one.wait().unwrap().success() && two.wait().unwrap().success());
        assert_eq!(outputs(&wd, &out), whole, "{out}");
        assert_audit_names_every_output(&wd, &out, &names, &expected);
        verify_clean(&wd, &out);
    }
}

#[track_caller]
fn verify_clean(wd: &Workdir, out: &str) {
    let run = wd.kamei(["verify", out, "--against", "in"]);
    run.assert_code(0);
}

/// (inode, modification time) of every output, to tell that nothing was rewritten.
fn stamps(wd: &Workdir, out: &str) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    outputs(wd, out)
        .into_keys()
        .map(|p| {
            let m = std::fs::metadata(wd.path(out).join(&p)).unwrap();
            (p, (m.ino(), m.modified().unwrap()))
        })
        .collect()
}

#[test]
fn a_displaced_output_is_kept_whole_and_a_rerun_finds_everything_done() {
    let wd = Workdir::new("a_displaced_output_is_kept_whole_and_a_rerun_finds_everything_done");
    let names = ["a.dcm", "b.dcm"];
    write_claimants(&wd, &names);
    let expected = alone(&wd, &names);
    // The higher hash first, so that the second run displaces it.
    let (first, second) = if sha(&expected[0]) > sha(&expected[1]) { (0, 1) } else { (1, 0) };
    let link = wd.path("link.csv");
    let link = link.to_str().unwrap();
    deid_into(&wd, &[&format!("in/{}", names[first])], "out", &["--linkage", link]).assert_code(0);
    let plain = outputs(&wd, "out").into_keys().next().unwrap();
    deid_into(&wd, &[&format!("in/{}", names[second])], "out", &["--linkage", link]).assert_code(0);
    let tree = outputs(&wd, "out");
    let h = sha(&expected[first]);
    let moved = plain.with_file_name(format!("{}.{}.dcm", plain.file_stem().unwrap().to_string_lossy(), &h[..12]));
    assert_eq!(tree.get(&moved), Some(&expected[first]), "the displaced output is whole at its own name");
    assert_eq!(tree.get(&plain), Some(&expected[second]));
    deid_into(&wd, &["in"], "whole", &[]).assert_code(0);
    assert_eq!(tree, outputs(&wd, "whole"), "the same files as a whole run");
    // The audit after compaction says where each output is: the move record, and the displaced
    // input's record (in the same log here) rewritten with where its output is now.
    let moves = wd.audit_moves("out");
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert_eq!(moves[0]["moved_to"].as_str(), Some(moved.to_str().unwrap()));
    assert_eq!(moves[0]["output_sha256"].as_str(), Some(h.as_str()));
    assert_audit_names_every_output(&wd, "out", &names, &expected);
    // A re-run of everything: all done earlier, nothing rewritten.
    let before = stamps(&wd, "out");
    let k = key(&wd, "k.key", 41);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--linkage", link]);
    run.assert_code(0);
    assert!(run.stderr().contains("0 written, 0 already present, 2 done earlier"), "{}", run.stderr());
    assert_eq!(stamps(&wd, "out"), before, "nothing rewritten");
    assert_eq!(outputs(&wd, "out"), tree);
    // The displaced input's record names its output's new place.
    let records = wd.audit("out");
    let outs: std::collections::BTreeSet<&str> = records.iter().filter_map(|r| r["output"].as_str()).collect();
    assert!(outs.contains(moved.to_str().unwrap()), "{records:?}");
    verify_clean(&wd, "out");
    let run = wd.kamei(["verify", "out", "--linkage", link]);
    run.assert_code(0);
    assert_linkage_names_every_output(&wd, "out", link, &names, &expected);
}

/// The linkage table's `file` rows, with the `moved` rows written after them applied, lead each
/// input path to its output.
#[track_caller]
fn assert_linkage_names_every_output(wd: &Workdir, out: &str, link: &str, names: &[&str], expected: &[Vec<u8>]) {
    let mut rdr = csv::Reader::from_path(link).unwrap();
    let rows: Vec<(String, String, String)> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[1].to_string(), r[2].to_string())
        })
        .collect();
    for (name, bytes) in names.iter().zip(expected) {
        let path = wd.path(&format!("in/{name}"));
        let input = std::fs::canonicalize(&path).unwrap();
        let last = rows
            .iter()
            .rposition(|(k, o, _)| k == "file" && std::fs::canonicalize(wd.root.join(o)).ok().as_ref() == Some(&input))
            .unwrap_or_else(|| panic!("no file row for {name}"));
        let mut at = rows[last].2.clone();
        for (k, from, to) in &rows[last + 1..] {
            if k == "moved" && *from == at {
                at = to.clone();
            }
        }
        assert!(std::fs::read(wd.path(out).join(&at)).ok().as_ref() == Some(bytes), "the linkage leads {name} to {at}");
    }
}

#[test]
fn one_run_with_colliding_inputs_links_each_input_to_its_output() {
    let wd = Workdir::new("one_run_with_colliding_inputs_links_each_input_to_its_output");
    let names = ["a.dcm", "b.dcm", "c.dcm"];
    write_claimants(&wd, &names);
    let expected = alone(&wd, &names);
    let link = wd.path("link.csv");
    let link = link.to_str().unwrap();
    // Highest hash first in the arguments, one worker: every later one displaces.
    let mut order: Vec<usize> = (0..3).collect();
    order.sort_by_key(|i| std::cmp::Reverse(sha(&expected[*i])));
    let args: Vec<String> = order.iter().map(|i| format!("in/{}", names[*i])).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    deid_into(&wd, &args, "out", &["-j", "1", "--linkage", link]).assert_code(0);
    assert_names_follow_the_rule(&outputs(&wd, "out"), &expected);
    assert_audit_names_every_output(&wd, "out", &names, &expected);
    // In one log the moves are folded into the records themselves.
    for r in &wd.audit("out") {
        let o = r["output"].as_str().unwrap();
        let h = r["output_sha256"].as_str().map(str::to_string);
        let bytes = std::fs::read(wd.path("out").join(o)).unwrap();
        assert!(h.is_none() || h == Some(sha(&bytes)), "{r}");
        assert!(expected.contains(&bytes));
    }
    assert_linkage_names_every_output(&wd, "out", link, &names, &expected);
    wd.kamei(["verify", "out", "--linkage", link]).assert_code(0);
    verify_clean(&wd, "out");
}

#[test]
fn a_release_with_input_hash_collision_names_resumes_and_places_a_new_claimant_by_output_hash() {
    let wd = Workdir::new("a_release_with_input_hash_collision_names_resumes_and_places_a_new_claimant_by_output_hash");
    let names = ["a.dcm", "b.dcm"];
    write_claimants(&wd, &names);
    deid_into(&wd, &["in"], "out", &["-j", "1"]).assert_code(0);
    // Turn it into what earlier versions wrote: the second input's output under
    // `<stem>.<12 hex of its INPUT hash>.dcm`, records without output hashes, no move records.
    let tree = outputs(&wd, "out");
    let plain = tree.keys().min_by_key(|p| p.as_os_str().len()).unwrap().clone();
    let other = tree.keys().find(|p| **p != plain).unwrap().clone();
    let log = wd.path("out/kamei-audit.jsonl");
    let mut lines = Vec::new();
    let mut renamed = None;
    for line in std::fs::read_to_string(&log).unwrap().lines() {
        let mut r: serde_json::Value = serde_json::from_str(line).unwrap();
        if r.get("moved_from").is_some() {
            continue;
        }
        let obj = r.as_object_mut().unwrap();
        obj.remove("output_sha256");
        obj.remove("notes");
        if obj["output"].as_str() == Some(other.to_str().unwrap()) {
            let input = obj["input_sha256"].as_str().unwrap().to_string();
            let old =
                plain.with_file_name(format!("{}.{}.dcm", plain.file_stem().unwrap().to_string_lossy(), &input[..12]));
            std::fs::rename(wd.path("out").join(&other), wd.path("out").join(&old)).unwrap();
            obj.insert("output".into(), old.to_str().unwrap().into());
            renamed = Some(old);
        }
        lines.push(serde_json::to_string(&r).unwrap());
    }
    let renamed = renamed.expect("one output had a collision name");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let before = stamps(&wd, "out");
    let k = key(&wd, "k.key", 41);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap()]);
    run.assert_code(0);
    assert!(run.stderr().contains("0 written, 0 already present, 2 done earlier"), "{}", run.stderr());
    assert_eq!(stamps(&wd, "out"), before, "nothing rewritten or renamed");
    assert!(wd.path("out").join(&renamed).is_file());
    verify_clean(&wd, "out");
    // A third claimant arrives: it is placed by the output-hash rule, the old name stays, and
    // every input's output is where the audit says.
    claimant(2).write(&wd.path("in/c.dcm"));
    let names = ["a.dcm", "b.dcm", "c.dcm"];
    let expected = alone(&wd, &names);
    let holder = tree[&plain].clone();
    deid_into(&wd, &["in"], "out", &[]).assert_code(0);
    let after = outputs(&wd, "out");
    assert_eq!(after.len(), 3, "{:?}", after.keys().collect::<Vec<_>>());
    assert_eq!(after.get(&renamed), tree.get(&other), "the old collision name is left as it was");
    let c = sha(&expected[2]);
    let stem = plain.file_stem().unwrap().to_string_lossy().into_owned();
    if c < sha(&holder) {
        assert_eq!(after[&plain], expected[2], "the lower hash takes the plain name");
        let moved = plain.with_file_name(format!("{stem}.{}.dcm", &sha(&holder)[..12]));
        assert_eq!(after.get(&moved), Some(&holder), "the holder moved to its output-hash name");
    } else {
        let at = plain.with_file_name(format!("{stem}.{}.dcm", &c[..12]));
        assert_eq!(after.get(&at), Some(&expected[2]));
    }
    assert_audit_names_every_output(&wd, "out", &names, &expected);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap()]);
    run.assert_code(0);
    assert!(run.stderr().contains("0 written, 0 already present, 3 done earlier"), "{}", run.stderr());
    verify_clean(&wd, "out");
}

#[test]
fn a_dry_run_predicts_the_names_by_output_hash() {
    let wd = Workdir::new("a_dry_run_predicts_the_names_by_output_hash");
    let names = ["a.dcm", "b.dcm"];
    write_claimants(&wd, &names);
    deid_into(&wd, &["in"], "out", &[]).assert_code(0);
    // The audit lost (a run killed before its first line was flushed): a dry run finds both
    // outputs where the rule puts them, the higher one at its output-hash name.
    std::fs::remove_file(wd.path("out/kamei-audit.jsonl")).unwrap();
    let k = key(&wd, "k.key", 41);
    for args in [["in/a.dcm", "in/b.dcm"], ["in/b.dcm", "in/a.dcm"]] {
        let mut argv =
            vec!["deid", args[0], args[1], "-o", "out", "--key", k.to_str().unwrap(), "--dry-run", "-j", "1"];
        argv.push("--show-paths");
        let run = wd.kamei(argv);
        run.assert_code(0);
        assert!(run.stderr().contains("0 would write, 2 already present"), "{}", run.stderr());
    }
    assert!(!wd.path("out/kamei-audit.jsonl").exists(), "a dry run writes nothing");
}

#[test]
fn eight_claimants_in_three_shards_running_together_converge_on_the_same_names() {
    let wd = Workdir::new("eight_claimants_in_three_shards_running_together_converge_on_the_same_names");
    let owned: Vec<String> = (0..8).map(|i| format!("v{i}.dcm")).collect();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    write_claimants(&wd, &names);
    let expected = alone(&wd, &names);
    deid_into(&wd, &["in"], "whole", &[]).assert_code(0);
    let whole = outputs(&wd, "whole");
    assert_names_follow_the_rule(&whole, &expected);
    let rounds = std::env::var("KAMEI_COLLISION_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(3);
    let k = key(&wd, "k.key", 41);
    for round in 0..rounds {
        let out = format!("together-{round}");
        let spawn = |s: &str| {
            std::process::Command::new(env!("CARGO_BIN_EXE_kamei"))
                .args(["deid", "in", "-o", &out, "--key", k.to_str().unwrap(), "-q", "-j", "2", "--shard", s])
                .current_dir(&wd.root)
                .spawn()
                .unwrap()
        };
        let mut children = [spawn("1/3"), spawn("2/3"), spawn("3/3")];
        assert!(children.iter_mut().all(|c| c.wait().unwrap().success()));
        assert_eq!(outputs(&wd, &out), whole, "{out}");
        assert_audit_names_every_output(&wd, &out, &names, &expected);
        // A whole re-run finds every input done and changes nothing.
        let run = wd.kamei(["deid", "in", "-o", &out, "--key", k.to_str().unwrap()]);
        run.assert_code(0);
        assert!(run.stderr().contains("0 written, 0 already present, 8 done earlier"), "{}", run.stderr());
        assert_eq!(outputs(&wd, &out), whole, "{out} after the re-run");
    }
}

#[test]
fn the_summary_counts_sop_instance_uids_held_by_more_than_one_output() {
    let wd = Workdir::new("the_summary_counts_sop_instance_uids_held_by_more_than_one_output");
    // Two versions of one instance, and the same SOP Instance UID under another patient.
    write_claimants(&wd, &["a.dcm", "b.dcm"]);
    Fixture::ct("P-OTHER", STUDY, &format!("{STUDY}.1"), SOP).write(&wd.path("in/c.dcm"));
    Fixture::ct("P-COLL", STUDY, &format!("{STUDY}.1"), &format!("{SOP}.2")).write(&wd.path("in/d.dcm"));
    let k = key(&wd, "k.key", 41);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap()]);
    run.assert_code(0);
    assert_eq!(outputs(&wd, "out").len(), 4);
    assert!(
        run.stderr().contains("warning: 1 SOP Instance UIDs are each held by more than one output"),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains(SOP), "no UID printed: {}", run.stderr());
    let plain = wd.kamei(["deid", "in/d.dcm", "-o", "out-d", "--key", k.to_str().unwrap()]);
    assert!(!plain.stderr().contains("SOP Instance UIDs"), "{}", plain.stderr());
}

#[test]
fn rv26_06_shards_run_into_their_own_out_and_copied_together_are_reported_by_verify() {
    let wd = Workdir::new("rv26_06_shards_run_into_their_own_out_and_copied_together_are_reported_by_verify");
    let owned = split_names();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    write_claimants(&wd, &names);
    deid_into(&wd, &["in"], "one", &["--shard", "1/2"]).assert_code(0);
    deid_into(&wd, &["in"], "two", &["--shard", "2/2"]).assert_code(0);
    // What `cp -r one/. two/. merged/` gives: the second copy's file wins each shared name.
    for shard in ["one", "two"] {
        for (rel, bytes) in tree(&wd, shard) {
            let to = wd.path("merged").join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(to, bytes).unwrap();
        }
    }
    deid_into(&wd, &["in"], "whole", &[]).assert_code(0);
    assert!(outputs(&wd, "merged").len() < outputs(&wd, "whole").len(), "the copy lost an output");
    let run = wd.kamei(["verify", "merged", "--against", "in"]);
    run.assert_code(1);
    assert!(
        run.stdout().lines().any(|l| l.contains("\tmissing-output\t") && l.contains("different inputs as written")),
        "{}",
        run.stdout()
    );
    verify_clean(&wd, "whole");
}
