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
fn missing_input_is_a_usage_error() {
    let wd = Workdir::new("missing_input_is_a_usage_error");
    wd.kamei(["deid", "nope", "-o", "out"]).assert_code(2);
}

#[test]
fn linkage_without_key_is_refused() {
    let wd = Workdir::new("linkage_without_key_is_refused");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let run = wd.kamei(["deid", "in", "-o", "out", "--linkage", "link.csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("--key"), "{}", run.stderr());
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
fn output_inside_an_input_is_refused() {
    let wd = Workdir::new("output_inside_an_input_is_refused");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let run = wd.kamei(["deid", "in", "-o", "in/release"]);
    run.assert_code(2);
    assert!(run.stderr().contains("inside the input"), "{}", run.stderr());
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
