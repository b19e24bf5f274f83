//! `kamei report`: a self-contained page, checked in a real browser (headless Chromium from
//! Debian, installed by .ci/run) when one is installed.

use crate::util::*;
use dicom_dictionary_std::tags;
use std::path::Path;
use std::process::Command;

fn release(wd: &Workdir) {
    Fixture::ct("PIDREPORT1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1").write(&wd.path("in/ct.dcm"));
    Fixture::ct("PIDREPORT2", "1.2.3.8", "1.2.3.8.1", "1.2.3.8.1.1")
        .put(str_el(tags::MODALITY, dicom_core::VR::CS, "US"))
        .write(&wd.path("in/us.dcm"));
    std::fs::write(wd.path("in/notes.txt"), "not dicom").unwrap();
    let k = key(wd, "k.key", 4);
    wd.kamei(["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
}

#[test]
fn report_is_one_self_contained_page_without_identifiers() {
    let wd = Workdir::new("report_is_one_self_contained_page_without_identifiers");
    release(&wd);
    wd.kamei(["report", "out", "-o", "report.html", "--against", "in"]).assert_code(0);
    let page = std::fs::read_to_string(wd.path("report.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    for section in
        ["id=\"summary\"", "id=\"settings\"", "id=\"counts\"", "id=\"verify\"", "id=\"problems\"", "id=\"rules\""]
    {
        assert!(page.contains(section), "{section} missing");
    }
    assert!(page.contains("CT Image Storage"), "counts by SOP class");
    assert!(page.contains("pixels-not-cleaned"), "the US image is listed by verify");
    assert!(page.contains("not DICOM"), "skipped inputs with their reason");
    for forbidden in ["CANARY", "PIDREPORT", "http://", "https://", "<script"] {
        assert!(!page.contains(forbidden), "{forbidden} in the page");
    }
}

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists())
}

#[test]
fn report_renders_in_headless_chromium_without_errors() {
    let Some(browser) = chromium() else {
        eprintln!("browser test skipped: Chromium is not installed (.ci/run installs Debian's chromium)");
        return;
    };
    let wd = Workdir::new("report_renders_in_headless_chromium_without_errors");
    release(&wd);
    wd.kamei(["report", "out", "-o", "report.html"]).assert_code(0);
    let url = format!("file://{}", wd.path("report.html").display());
    let profile = wd.path("chromium-profile");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let dom = Command::new(browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    let rendered = String::from_utf8_lossy(&dom.stdout);
    assert!(
        rendered.contains("Release report"),
        "no DOM from Chromium; stderr:\n{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    assert!(rendered.contains("id=\"verdict\""));
    let log = String::from_utf8_lossy(&dom.stderr);
    for line in log.lines() {
        let page_error = line.contains("CONSOLE")
            || line.contains("Uncaught")
            || line.contains("net::ERR_")
            || line.contains("Refused to");
        assert!(!page_error, "browser reported a page error: {line}");
    }
    let shot = wd.path("report.png");
    let status = Command::new(browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--window-size=1200,1600")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "the page rendered to a real image");
}

/// The page's text: tags dropped, runs of white space as one space, entities decoded as far as
/// the checks need.
fn page_text(wd: &Workdir) -> String {
    let page = std::fs::read_to_string(wd.path("report.html")).unwrap();
    let mut text = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn report_refuses_a_profile_other_than_the_releases() {
    let wd = Workdir::new("report_refuses_a_profile_other_than_the_releases");
    Fixture::ct("PIDREPORT1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1").write(&wd.path("in/ct.dcm"));
    std::fs::write(wd.path("a.toml"), "name = \"site\"\n[overrides]\nStudyDescription = \"keep\"\n").unwrap();
    std::fs::write(wd.path("b.toml"), "name = \"site\"\n[overrides]\nStudyDescription = \"clean\"\n").unwrap();
    wd.deid(&["--profile", "a.toml", "--option", "retain-uids"]).assert_code(0);
    let other = wd.kamei(["report", "out", "-o", "report.html", "--profile", "b.toml"]);
    other.assert_code(2);
    assert!(other.stderr().contains("not the one the release was made with"), "{}", other.stderr());
    assert!(!wd.path("report.html").exists());
    // The release's own profile: deid's --option is taken from kamei-run.json.
    wd.kamei(["report", "out", "-o", "report.html", "--profile", "a.toml"]).assert_code(0);
    assert!(page_text(&wd).contains("(0008,1030) Study Description K override"));
}

#[test]
fn report_of_a_strict_release_shows_strict_mode_and_its_rules() {
    let wd = Workdir::new("report_of_a_strict_release_shows_strict_mode_and_its_rules");
    Fixture::ct("PIDREPORT1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1").write(&wd.path("in/ct.dcm"));
    wd.deid(&["--strict"]).assert_code(0);
    wd.kamei(["report", "out", "-o", "report.html"]).assert_code(0);
    let text = page_text(&wd);
    assert!(text.contains("strict (allow-list) mode yes"), "{text}");
    assert!(text.contains("Any other standard attribute (strict mode) X strict"));
    assert!(!text.contains("Any other standard attribute in the dictionary"));
}

#[test]
fn report_says_an_option_kamei_does_not_perform_was_not_performed() {
    let wd = Workdir::new("report_says_an_option_kamei_does_not_perform_was_not_performed");
    Fixture::ct("PIDREPORT1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1").write(&wd.path("in/ct.dcm"));
    wd.deid(&["--option", "clean-recognizable-visual-features"]).assert_code(0);
    wd.kamei(["report", "out", "-o", "report.html"]).assert_code(0);
    assert!(page_text(&wd).contains("clean-recognizable-visual-features (NOT performed"));
}

#[test]
fn report_says_a_user_profile_departs_from_the_basic_profile() {
    let wd = Workdir::new("report_says_a_user_profile_departs_from_the_basic_profile");
    Fixture::ct("PIDREPORT1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1").write(&wd.path("in/ct.dcm"));
    std::fs::write(wd.path("site.toml"), "[overrides]\nStudyDescription = \"keep\"\n").unwrap();
    wd.deid(&["--profile", "site.toml"]).assert_code(0);
    wd.kamei(["report", "out", "-o", "report.html", "--profile", "site.toml"]).assert_code(0);
    let text = page_text(&wd);
    assert!(text.contains("DEPARTS from the PS3.15 Basic Application Confidentiality Profile"), "{text}");
    assert!(text.contains("(0008,1030) X\u{2192}K"));
}

/// The page's text up to its Summary heading: what the person signing off reads first.
fn page_top(wd: &Workdir) -> String {
    let text = page_text(wd);
    text.split(" Summary ").next().unwrap_or_default().to_string()
}

#[test]
fn report_says_at_the_top_that_a_departing_release_does_not_conform_and_in_how_many_files() {
    let wd = Workdir::new("report_says_at_the_top_that_a_departing_release_does_not_conform");
    Fixture::ct("PIDREPORT1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1").write(&wd.path("in/a.dcm"));
    Fixture::ct("PIDREPORT1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.2").write(&wd.path("in/b.dcm"));
    std::fs::write(wd.path("site.toml"), "[overrides]\nStudyDescription = \"keep\"\n").unwrap();
    wd.deid(&["--profile", "site.toml"]).assert_code(0);
    wd.kamei(["report", "out", "-o", "report.html", "--profile", "site.toml"]).assert_code(0);
    let top = page_top(&wd);
    assert!(
        top.contains("This release does NOT conform to the PS3.15 Basic Application Confidentiality Profile"),
        "{top}"
    );
    assert!(top.contains("1 rule(s) of the user profile keep more than Table E.1-1 allows"), "{top}");
    assert!(top.contains("(0008,1030) X\u{2192}K"), "{top}");
    assert!(top.contains("2 of the 2 DICOM files of the release do not claim it"), "{top}");
}

#[test]
fn report_says_at_the_top_when_files_of_the_release_do_not_claim_the_basic_profile() {
    let wd = Workdir::new("report_says_at_the_top_when_files_do_not_claim_the_basic_profile");
    Fixture::ct("PIDREPORT1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1").write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    wd.kamei(["report", "out", "-o", "report.html"]).assert_code(0);
    assert!(!page_top(&wd).contains("NOT conform"), "{}", page_top(&wd));
    // A file copied into the release that kamei did not make claims nothing.
    Fixture::ct("PIDREPORT2", "1.2.3.8", "1.2.3.8.1", "1.2.3.8.1.1").write(&wd.path("out/extra.dcm"));
    wd.kamei(["report", "out", "-o", "report.html"]).assert_code(0);
    let top = page_top(&wd);
    assert!(top.contains("This release does NOT conform"), "{top}");
    assert!(top.contains("1 of the 2 DICOM files of the release do not claim it"), "{top}");
    assert!(!top.contains("rule(s) of the user profile"), "{top}");
}

#[test]
fn report_of_a_mirror_release_names_files_by_digest_without_the_originals() {
    let wd = Workdir::new("report_of_a_mirror_release_names_files_by_digest_without_the_originals");
    // A PACS export folder named after the patient; Secondary Capture makes verify list the file.
    Fixture::ct("PIDREPORT1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1")
        .put(str_el(tags::MODALITY, dicom_core::VR::CS, "US"))
        .write(&wd.path("in/YAMADA_TARO_PIDREPORT1/a.dcm"));
    wd.deid(&["--layout", "mirror"]).assert_code(0);
    wd.kamei(["report", "out", "-o", "report.html"]).assert_code(0);
    let text = page_text(&wd);
    assert!(text.contains("pixels-not-cleaned"), "the file is listed: {text}");
    assert!(text.contains("output of input sha256:"), "{text}");
    for forbidden in ["YAMADA", "PIDREPORT"] {
        assert!(!text.contains(forbidden), "{forbidden} on the page");
    }
}

#[test]
fn rv26_09_a_folder_holding_several_outputs_is_refused_with_what_to_run() {
    let wd = Workdir::new("rv26_09_a_folder_holding_several_outputs_is_refused_with_what_to_run");
    Fixture::ct("PIDREPORT1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1").write(&wd.path("in/ct.dcm"));
    std::fs::write(wd.path("labs.csv"), "patient_id,visit_date\nPIDREPORT1,2024-02-15\n").unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvisit_date = \"date\"\n").unwrap();
    let k = key(&wd, "k.key", 4);
    let ks = k.to_str().unwrap();
    wd.kamei(["deid", "in", "-o", "rel/images", "--key", ks, "-q"]).assert_code(0);
    wd.kamei(["clinical", "csv", "labs.csv", "-o", "rel/csv", "--key", ks, "--columns", "cols.toml", "-q"])
        .assert_code(0);
    let run = wd.kamei(["report", "rel", "-o", "report.html"]);
    run.assert_code(2);
    assert!(
        run.stderr().contains("csv, images") && run.stderr().contains("run kamei report on each"),
        "{}",
        run.stderr()
    );
    assert!(!wd.path("report.html").exists());
    wd.kamei(["report", "rel/images", "-o", "report.html"]).assert_code(0);
}

/// An SS-MIX2 message of patient `id` under `root`, in its `<ID[0:3]>/<ID[3:6]>/<ID>` folder.
fn put_ssmix2_adt(wd: &Workdir, root: &str, id: &str) {
    let dir = wd.path(&format!("{root}/{}/{}/{id}/-/ADT-00", &id[..3], &id[3..6]));
    std::fs::create_dir_all(&dir).unwrap();
    let msg = format!(
        "MSH|^~\\&|HIS|H|SS|H|20240102093000||ADT^A08^ADT_A01|X1|P|2.5||||||~ISO IR87||ISO 2022-1994\rPID|0001||{id}^^^^PI||YAMADA^TARO^^^^^L^A||19800101|M\r"
    );
    std::fs::write(dir.join(format!("{id}_-_ADT-00_999999999999999_20240102093000123_-_1")), msg).unwrap();
}

#[test]
fn rv35_02_the_ssmix2_bucket_folders_above_a_masked_patient_folder_are_masked_in_verify_and_report() {
    let wd = Workdir::new("rv35_02_the_ssmix2_bucket_folders_above_a_masked_patient_folder_are_masked");
    put_ssmix2_adt(&wd, "ss", "2234501");
    put_ssmix2_adt(&wd, "ss", "3345678");
    let k = key(&wd, "k.key", 35);
    let link = wd.path("link.csv");
    let (ks, ls) = (k.to_str().unwrap(), link.to_str().unwrap());
    wd.kamei(["clinical", "ss-mix2", "ss", "-o", "out", "--key", ks, "--linkage", ls, "-q"]).assert_code(0);
    // A copy mistake: the original patient folder ends up in the release.
    put_ssmix2_adt(&wd, "out", "2234501");
    let run = wd.kamei(["verify", "out", "--linkage", ls]);
    run.assert_code(1);
    assert!(run.stdout().contains("***/***/***/-/ADT-00/***"), "{}", run.stdout());
    assert!(!run.stdout().contains("223/450") && !run.stderr().contains("223/450"), "{}", run.stdout());
    wd.kamei(["report", "out", "-o", "report.html", "--linkage", ls]);
    let page = std::fs::read_to_string(wd.path("report.html")).unwrap();
    assert!(page.contains("***/***/***/-/ADT-00/***"), "the finding is listed");
    assert!(!page.contains("223/450"), "the report shows six digits of the Patient ID");
}

#[test]
fn rv35_02_the_bucket_folders_of_an_opted_out_number_with_other_leading_zeros_are_masked() {
    let wd = Workdir::new("rv35_02_the_bucket_folders_of_an_opted_out_number_with_other_leading_zeros_are_masked");
    put_ssmix2_adt(&wd, "ss", "3345678");
    let k = key(&wd, "k.key", 38);
    let ks = k.to_str().unwrap();
    wd.kamei(["clinical", "ss-mix2", "ss", "-o", "out", "--key", ks, "-q"]).assert_code(0);
    // The register lists the number without the zeros the archive's folder has.
    std::fs::write(wd.path("optout.txt"), "1234500\n").unwrap();
    put_ssmix2_adt(&wd, "out", "0001234500");
    let run = wd.kamei(["verify", "out", "--exclude-patients", "optout.txt", "--key", ks]);
    run.assert_code(1);
    assert!(run.stdout().contains("***/***/***/-/ADT-00/***"), "{}", run.stdout());
    assert!(!run.stdout().contains("000/123"), "{}", run.stdout());
}
