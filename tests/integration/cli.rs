//! Command line: keygen, usage errors and their exit codes, profile commands.

use crate::util::*;

#[test]
fn keygen_writes_a_private_32_byte_key() {
    let wd = Workdir::new("keygen_writes_a_private_32_byte_key");
    wd.kamei(["keygen", "-o", "k.key"]).assert_code(0);
    let bytes = std::fs::read(wd.path("k.key")).unwrap();
    assert_eq!(bytes.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(wd.path("k.key")).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn keygen_refuses_to_overwrite() {
    let wd = Workdir::new("keygen_refuses_to_overwrite");
    std::fs::write(wd.path("k.key"), b"precious").unwrap();
    let run = wd.kamei(["keygen", "-o", "k.key"]);
    run.assert_code(2);
    assert!(run.stderr().contains("already exists"), "{}", run.stderr());
    assert_eq!(std::fs::read(wd.path("k.key")).unwrap(), b"precious");
}

#[test]
fn unknown_option_is_a_usage_error() {
    let wd = Workdir::new("unknown_option_is_a_usage_error");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let run = wd.kamei(["deid", "in", "-o", "out", "--option", "retain-everything"]);
    run.assert_code(2);
    assert!(run.stderr().contains("unknown option"), "{}", run.stderr());
    assert!(!wd.path("out").exists(), "nothing may be written on a usage error");
}

#[test]
fn rv21_07_a_missing_input_fails_and_the_other_inputs_are_written() {
    let wd = Workdir::new("rv21_07_a_missing_input_fails_and_the_other_inputs_are_written");
    Fixture::ct("PID7788123", "1.2.3", "1.2.3.4", "1.2.3.4.5").write(&wd.path("in/good.dcm"));
    std::os::unix::fs::symlink(wd.path("purged/YAMADA.dcm"), wd.path("in/link.dcm")).unwrap();
    let k = key(&wd, "k.key", 1);
    let run = wd.kamei([
        "deid",
        "in/good.dcm",
        "in/YAMADA_gone.dcm",
        "in/link.dcm",
        "-o",
        "out",
        "--key",
        k.to_str().unwrap(),
    ]);
    run.assert_code(1);
    assert!(run.stderr().contains("failed: INPUT argument #2: the INPUT does not exist"), "{}", run.stderr());
    assert!(run.stderr().contains("failed: INPUT argument #3"), "{}", run.stderr());
    assert!(run.stderr().contains("3 inputs") && run.stderr().contains("2 failed"), "{}", run.stderr());
    assert!(!run.stderr().contains("YAMADA"), "no path without --show-paths: {}", run.stderr());
    assert_eq!(wd.dicom_outputs("out").len(), 1, "the good input is written");
    let failed = wd.audit("out").into_iter().filter(|r| r["outcome"] == "failed").count();
    assert_eq!(failed, 2, "each missing INPUT has its failed record");
}

#[test]
fn rv21_07_a_missing_input_folder_fails_like_a_missing_file() {
    let wd = Workdir::new("rv21_07_a_missing_input_folder_fails_like_a_missing_file");
    let run = wd.kamei(["deid", "nope", "-o", "out"]);
    run.assert_code(1);
    assert!(run.stderr().contains("1 inputs") && run.stderr().contains("1 failed"), "{}", run.stderr());
}

#[test]
fn rv21_08_usage_errors_name_an_input_argument_by_position_without_show_paths() {
    let wd = Workdir::new("rv21_08_usage_errors_name_an_input_argument_by_position_without_show_paths");
    let input = "export/SATO_HANAKO_PID5544332";
    Fixture::ct("PID5544332", "1.2.3", "1.2.3.4", "1.2.3.4.5").write(&wd.path(&format!("{input}/1.dcm")));
    let out_inside = format!("{input}/out");
    let run = wd.kamei(["deid", input, "-o", &out_inside]);
    run.assert_code(2);
    assert!(run.stderr().contains("inside INPUT argument #1"), "{}", run.stderr());
    assert!(!run.stderr().contains("SATO"), "{}", run.stderr());
    let run = wd.kamei(["deid", input, "-o", &out_inside, "--show-paths"]);
    run.assert_code(2);
    assert!(run.stderr().contains(input), "--show-paths names it: {}", run.stderr());
    let k = key(&wd, "k.key", 1);
    wd.kamei(["deid", input, "-o", "out", "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
    let run = wd.kamei(["verify", "out", "--against", input, "export/YAMADA_TARO_PID7788123"]);
    run.assert_code(2);
    assert!(run.stderr().contains("--against INPUT #2 does not exist"), "{}", run.stderr());
    assert!(!run.stderr().contains("YAMADA"), "{}", run.stderr());
}

#[test]
fn linkage_without_key_is_refused() {
    let wd = Workdir::new("linkage_without_key_is_refused");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let run = wd.kamei(["deid", "in", "-o", "out", "--linkage", "link.csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("--key"), "{}", run.stderr());
}

/// rv39 01: the key file inside OUT (directly or through a symbolic link) or inside an INPUT is
/// refused as the linkage table is (exit 2, nothing written), by `deid`, `clinical csv` and
/// `clinical ss-mix2`: a release must never carry the key its pseudonyms can be recomputed with.
#[test]
fn rv39_01_a_key_inside_out_or_an_input_is_refused() {
    let wd = Workdir::new("rv39_01_a_key_inside_out_or_an_input_is_refused");
    Fixture::ct("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1").write(&wd.path("in/a.dcm"));
    std::fs::create_dir_all(wd.path("out")).unwrap();
    std::fs::create_dir_all(wd.path("secure")).unwrap();
    key(&wd, "out/kamei.key", 9);
    key(&wd, "in/kamei.key", 9);
    std::os::unix::fs::symlink("../out/kamei.key", wd.path("secure/kamei.key")).unwrap();
    for (k, place) in [
        ("out/kamei.key", "inside the output folder"),
        ("secure/kamei.key", "inside the output folder"),
        ("in/kamei.key", "inside an input folder"),
    ] {
        let run = wd.kamei(["deid", "in", "-o", "out", "--key", k, "-q"]);
        run.assert_code(2);
        assert!(run.stderr().contains(&format!("the key file (--key) must not be {place}")), "{k}: {}", run.stderr());
    }
    assert_eq!(wd.files("out"), [std::path::PathBuf::from("kamei.key")], "nothing written beside the key");
    std::fs::create_dir_all(wd.path("labs")).unwrap();
    std::fs::write(wd.path("labs/labs.csv"), "patient_id,value\nP1,1\n").unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvalue = \"keep\"\n").unwrap();
    let run = wd.kamei(["clinical", "csv", "labs", "--key", "out/kamei.key", "--columns", "cols.toml", "-o", "out"]);
    run.assert_code(2);
    assert!(run.stderr().contains("the key file (--key) must not be inside the output folder"), "{}", run.stderr());
    std::fs::create_dir_all(wd.path("ssmix2")).unwrap();
    let run = wd.kamei(["clinical", "ss-mix2", "ssmix2", "--key", "out/kamei.key", "-o", "out"]);
    run.assert_code(2);
    assert!(run.stderr().contains("the key file (--key) must not be inside the output folder"), "{}", run.stderr());
    assert_eq!(wd.files("out"), [std::path::PathBuf::from("kamei.key")], "nothing written beside the key");
    // The same key outside: the run writes its release.
    key(&wd, "k.key", 9);
    std::fs::remove_file(wd.path("in/kamei.key")).unwrap();
    wd.kamei(["deid", "in", "-o", "out", "--key", "k.key", "-q"]).assert_code(0);
}

#[test]
fn linkage_inside_out_is_refused() {
    let wd = Workdir::new("linkage_inside_out_is_refused");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let k = key(&wd, "k.key", 1);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--linkage", "out/link.csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("inside the output folder"), "{}", run.stderr());
}

#[test]
fn linkage_through_a_dangling_link_into_out_is_refused() {
    let wd = Workdir::new("linkage_through_a_dangling_link_into_out_is_refused");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::create_dir_all(wd.path("out")).unwrap();
    std::fs::create_dir_all(wd.path("secure")).unwrap();
    std::os::unix::fs::symlink("../out/link.csv", wd.path("secure/link.csv")).unwrap();
    let k = key(&wd, "k.key", 1);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--linkage", "secure/link.csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("inside the output folder"), "{}", run.stderr());
    assert!(!wd.path("out/link.csv").exists());
}

#[test]
fn rv21_13_linkage_naming_the_key_file_is_refused_and_the_key_kept() {
    let wd = Workdir::new("rv21_13_linkage_naming_the_key_file_is_refused_and_the_key_kept");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    Fixture::ct("PID7788123", "1.2.3", "1.2.3.4", "1.2.3.4.5").write(&wd.path("in/1.dcm"));
    let k = key(&wd, "k.key", 0xA5);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", "k.key", "--linkage", "./k.key"]);
    run.assert_code(2);
    assert!(run.stderr().contains("key file"), "{}", run.stderr());
    assert_eq!(std::fs::read(&k).unwrap(), [0xA5; 32], "the key is untouched");
    assert!(!wd.path("out").exists(), "nothing is written on a usage error");
}

#[test]
fn rv21_13_linkage_naming_an_existing_file_that_is_not_a_table_is_refused_untouched() {
    let wd = Workdir::new("rv21_13_linkage_naming_an_existing_file_that_is_not_a_table_is_refused_untouched");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    Fixture::ct("PID7788123", "1.2.3", "1.2.3.4", "1.2.3.4.5").write(&wd.path("in/1.dcm"));
    let k = key(&wd, "k.key", 1);
    std::fs::write(wd.path("other.key"), [0xA5; 32]).unwrap();
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--linkage", "other.key"]);
    run.assert_code(2);
    assert!(run.stderr().contains("not a kamei linkage table"), "{}", run.stderr());
    assert_eq!(std::fs::read(wd.path("other.key")).unwrap(), [0xA5; 32]);
    assert!(!wd.path("out").exists(), "nothing is written on a usage error");
    // The same file given to the clinical commands is refused too.
    std::fs::write(wd.path("c.csv"), "patient_id\nPID7788123\n").unwrap();
    std::fs::write(wd.path("columns.toml"), "[columns]\npatient_id = \"patient-id\"\n").unwrap();
    let run = wd.kamei([
        "clinical",
        "csv",
        "c.csv",
        "--columns",
        "columns.toml",
        "-o",
        "cout",
        "--key",
        "k.key",
        "--linkage",
        "other.key",
    ]);
    run.assert_code(2);
    assert!(run.stderr().contains("not a kamei linkage table"), "{}", run.stderr());
    assert_eq!(std::fs::read(wd.path("other.key")).unwrap(), [0xA5; 32]);
}

#[test]
fn output_inside_an_input_is_refused() {
    let wd = Workdir::new("output_inside_an_input_is_refused");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let run = wd.kamei(["deid", "in", "-o", "in/release"]);
    run.assert_code(2);
    assert!(run.stderr().contains("inside INPUT argument #1"), "{}", run.stderr());
    assert!(!wd.path("in/release").exists(), "nothing is written into an input");
}

#[test]
fn both_temporal_options_are_refused() {
    let wd = Workdir::new("both_temporal_options_are_refused");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    wd.kamei([
        "deid",
        "in",
        "-o",
        "out",
        "--option",
        "retain-long-full-dates",
        "--option",
        "retain-long-modified-dates",
    ])
    .assert_code(2);
}

#[test]
fn profile_show_lists_the_effective_rules() {
    let wd = Workdir::new("profile_show_lists_the_effective_rules");
    let run = wd.kamei(["profile", "show"]);
    run.assert_code(0);
    let out = run.stdout();
    assert!(out.lines().any(|l| l.starts_with("(0010,0010)\tpseudonymize")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("(0008,0050)\tZ")), "{out}");
    let with_uids = wd.kamei(["profile", "show", "--option", "retain-uids"]).stdout();
    assert!(with_uids.lines().any(|l| l.starts_with("(0020,000D)\tK")), "{with_uids}");
}

#[test]
fn profile_check_reports_line_numbers() {
    let wd = Workdir::new("profile_check_reports_line_numbers");
    std::fs::write(wd.path("p.toml"), "extends = \"basic\"\n\n[overrides]\nNoSuchKeyword = \"keep\"\n").unwrap();
    let run = wd.kamei(["profile", "check", "p.toml"]);
    run.assert_code(1);
    assert!(run.stdout().contains("p.toml:4:"), "{}", run.stdout());
    std::fs::write(wd.path("ok.toml"), "extends = \"basic\"\noptions = [\"retain-uids\"]\n").unwrap();
    wd.kamei(["profile", "check", "ok.toml"]).assert_code(0);
}

#[test]
fn a_profile_saved_in_shift_jis_is_refused_with_the_line_that_is_not_utf8() {
    let wd = Workdir::new("a_profile_saved_in_shift_jis_is_refused_with_the_line_that_is_not_utf8");
    // "# 病院" in Shift_JIS on line 2: TOML is UTF-8 only.
    let mut text = b"extends = \"basic\"\n# ".to_vec();
    text.extend_from_slice(&[0x95, 0x61, 0x89, 0x40]);
    text.extend_from_slice(b"\noptions = [\"retain-uids\"]\n");
    std::fs::write(wd.path("p.toml"), &text).unwrap();
    let check = wd.kamei(["profile", "check", "p.toml"]);
    check.assert_code(1);
    assert!(check.stdout().contains("p.toml:2:3:") && check.stdout().contains("not UTF-8"), "{}", check.stdout());
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let deid = wd.kamei(["deid", "in", "-o", "out", "--profile", "p.toml"]);
    deid.assert_code(2);
    assert!(
        deid.stderr().contains("line 2 column 3") && deid.stderr().contains("save it as UTF-8"),
        "{}",
        deid.stderr()
    );
}

#[test]
fn shard_without_key_is_refused() {
    let wd = Workdir::new("shard_without_key_is_refused");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let run = wd.kamei(["deid", "in", "-o", "out", "--shard", "1/2"]);
    run.assert_code(2);
    assert!(run.stderr().contains("--shard needs --key"), "{}", run.stderr());
    assert!(!wd.path("out").exists(), "nothing is written");
}

#[test]
fn a_key_of_all_zero_bytes_is_refused() {
    let wd = Workdir::new("a_key_of_all_zero_bytes_is_refused");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("zero.key"), "0".repeat(64)).unwrap();
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", "zero.key"]);
    run.assert_code(2);
    assert!(run.stderr().contains("all zero bytes"), "{}", run.stderr());
}

#[test]
fn a_run_goes_on_when_its_stderr_reader_has_gone() {
    let wd = Workdir::new("a_run_goes_on_when_its_stderr_reader_has_gone");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    // Every input fails ("missing SOP Class UID"), so every input writes a line to stderr.
    for i in 0..400 {
        let mut bytes = vec![0u8; 128];
        bytes.extend_from_slice(b"DICM");
        // Distinct content: the audit log keys inputs by content hash.
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&(i as u32).to_le_bytes());
        std::fs::write(wd.path(&format!("in/f{i:04}")), bytes).unwrap();
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kamei"))
        .args(["deid", "in", "-o", "out", "-j", "2"])
        .current_dir(wd.path(""))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away at once (`kamei deid ... 2>&1 | head -0`): every write is EPIPE.
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "the run ends as a run with failed inputs, not with a panic");
    assert_eq!(wd.audit("out").len(), 400, "every input is in the audit log");
}

/// rv39: a `--linkage` table that cannot be created (its folder is missing) is refused (exit 2)
/// before OUT is created: no run file, audit log or staging folder pins OUT's settings, so the
/// corrected retry into the same OUT, with other settings, is not refused. The same for
/// `clinical csv`, and for an OUT that already holds a release (left as it was).
#[test]
fn rv39_a_linkage_table_that_cannot_be_created_leaves_no_trace_in_out() {
    let wd = Workdir::new("rv39_a_linkage_table_that_cannot_be_created_leaves_no_trace_in_out");
    Fixture::ct("PID7788123", "1.2.3", "1.2.3.4", "1.2.3.4.5").write(&wd.path("in/1.dcm"));
    key(&wd, "k.key", 1);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", "k.key", "-q", "--linkage", "nodir/link.csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("linkage table"), "{}", run.stderr());
    assert!(!wd.path("out").exists(), "a fresh OUT is not created");
    // The retry with the table fixed and another profile option is a first run into OUT.
    let retry = ["deid", "in", "-o", "out", "--key", "k.key", "-q", "--linkage", "link.csv"];
    wd.kamei(retry.iter().chain(&["--option", "retain-safe-private"])).assert_code(0);
    let before = tree(&wd, "out");
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", "k.key", "-q", "--linkage", "nodir/link.csv"]);
    run.assert_code(2);
    assert!(tree(&wd, "out") == before, "an existing OUT is left as it was");

    std::fs::create_dir_all(wd.path("labs")).unwrap();
    std::fs::write(wd.path("labs/c.csv"), "patient_id\nPID7788123\n").unwrap();
    std::fs::write(wd.path("columns.toml"), "[columns]\npatient_id = \"patient-id\"\n").unwrap();
    let run = wd.kamei([
        "clinical",
        "csv",
        "labs",
        "--columns",
        "columns.toml",
        "-o",
        "cout",
        "--key",
        "k.key",
        "--linkage",
        "nodir/c.csv",
    ]);
    run.assert_code(2);
    assert!(!wd.path("cout").exists(), "a fresh OUT is not created by clinical csv either");
    std::fs::create_dir_all(wd.path("ssmix2")).unwrap();
    let run = wd.kamei(["clinical", "ss-mix2", "ssmix2", "-o", "sout", "--key", "k.key", "--linkage", "nodir/s.csv"]);
    run.assert_code(2);
    assert!(!wd.path("sout").exists(), "nor by clinical ss-mix2");
}

/// rv39: a key file its group or others can read (mode 0644 after a `cp`) is used, with a
/// warning on stderr naming its path and mode, once per run and with `--quiet` too, by every
/// command that takes `--key`; the exit code is unchanged. A private key gives none.
#[cfg(unix)]
#[test]
fn rv39_a_key_file_others_can_read_gives_a_warning_in_every_command() {
    use std::os::unix::fs::PermissionsExt;
    let wd = Workdir::new("rv39_a_key_file_others_can_read_gives_a_warning_in_every_command");
    Fixture::ct("PID7788123", "1.2.3", "1.2.3.4", "1.2.3.4.5").write(&wd.path("in/1.dcm"));
    std::fs::create_dir_all(wd.path("labs")).unwrap();
    std::fs::write(wd.path("labs/c.csv"), "patient_id\nPID7788123\n").unwrap();
    std::fs::write(wd.path("columns.toml"), "[columns]\npatient_id = \"patient-id\"\n").unwrap();
    std::fs::create_dir_all(wd.path("ssmix2")).unwrap();
    key(&wd, "k.key", 1);
    let commands: [&[&str]; 4] = [
        &["deid", "in", "-o", "out", "--key", "k.key", "-q", "--linkage", "link.csv"],
        &["verify", "out", "--key", "k.key"],
        &[
            "clinical",
            "csv",
            "labs",
            "--columns",
            "columns.toml",
            "-o",
            "cout",
            "--key",
            "k.key",
            "-q",
            "--linkage",
            "link.csv",
        ],
        &["clinical", "ss-mix2", "ssmix2", "-o", "sout", "--key", "k.key", "-q"],
    ];
    let mut codes = Vec::new();
    for args in commands {
        let run = wd.kamei(args);
        codes.push(run.code());
        assert!(!run.stderr().contains("key file"), "{args:?}: no warning for a private key: {}", run.stderr());
    }
    assert_eq!(codes[..2], [0, 0]);
    std::fs::set_permissions(wd.path("k.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    for (args, code) in commands.into_iter().zip(codes) {
        let run = wd.kamei(args);
        run.assert_code(code);
        let warning = "warning: the key file k.key can be read or written by its group or others (mode 0644)";
        assert_eq!(run.stderr().matches(warning).count(), 1, "{args:?}: {}", run.stderr());
    }
}

#[test]
fn a_device_or_fifo_given_as_a_profile_is_refused_without_being_read() {
    // rv41 suspect: `profile check /dev/zero` read until the OOM killer stopped it, and
    // `deid --profile FIFO` waited for ever in open.
    let wd = Workdir::new("a_device_or_fifo_given_as_a_profile_is_refused_without_being_read");
    let run = wd.kamei(["profile", "check", "/dev/zero"]);
    run.assert_code(2);
    assert!(run.stderr().contains("not a regular file"), "{}", run.stderr());
    let fifo = wd.path("profile.toml");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let k = key(&wd, "k.key", 9);
    let run = wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "--profile", fifo.to_str().unwrap()]);
    run.assert_code(2);
    assert!(run.stderr().contains("not a regular file"), "{}", run.stderr());
}
