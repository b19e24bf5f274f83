//! Patient masters that cross sources: an SS-MIX2 storage (or a CSV master) read with
//! `--identifiers-from` by `clinical csv`, `clinical ss-mix2` and `deid`, and by
//! `verify --against` for the names its HL7 messages give.

use crate::util::*;
use dicom_core::VR;
use dicom_dictionary_std::tags;

/// The patient of the storages below.
const ID: &str = "1234567890";

/// An ADT-00 of the patient: the name in kanji, kana and romaji (PID-5 repetitions), and her
/// husband (NK1-2) in kanji and romaji, who appears nowhere else.
const ADT: [&str; 4] = [
    "MSH|^~\\&|HIS|H|SSMIX2|H|20240102090000||ADT^A08^ADT_A01|A1|P|2.5||||||UNICODE UTF-8",
    "EVN||20240102090000",
    "PID|0001||1234567890^^^^PI||山田^花子^^^^^L^I~ヤマダ^ハナコ^^^^^L^P~YAMADA^HANAKO^^^^^L^A||19850315|F|||^^静岡市^^4220000||^PRN^PH^^^054^2876543",
    "NK1|1|山田^次郎^^^^^L^I~YAMADA^JIRO^^^^^L^A|SPO^夫^HL70063",
];

/// Write one message of the patient (segments ending in CR) under `wd/<root>`, in the SS-MIX2
/// layout, as data type `kind` with order number `order`.
fn put_message(wd: &Workdir, root: &str, kind: &str, order: &str, segments: &[&str]) {
    let dir = wd.path(&format!("{root}/123/456/{ID}/20240102/{kind}"));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes: String = segments.iter().map(|s| format!("{s}\r")).collect();
    let name = format!("{ID}_20240102_{kind}_{order}_20240102090000000_01_1");
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// An OML-11 of the patient whose NTE holds `note`, under `wd/<root>`.
fn put_note(wd: &Workdir, root: &str, note: &str) {
    put_message(
        wd,
        root,
        "OML-11",
        "000000000012346",
        &[
            "MSH|^~\\&|HIS|H|SSMIX2|H|20240102090000||OML^O33^OML_O33|C1|P|2.5||||||UNICODE UTF-8",
            "PID|0001||1234567890^^^^PI||山田^花子^^^^^L^I",
            &format!("NTE|1||{note}"),
        ],
    );
}

/// `kamei clinical csv in -o out --columns cols.toml` with key 7, plus `extra`.
fn csv_run(wd: &Workdir, extra: &[&str]) -> Run {
    let k = key(wd, "k.key", 7);
    let mut args = vec!["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    args.extend_from_slice(extra);
    wd.kamei(args)
}

/// The values of column `name` in the CSV at `path`.
fn column(path: &std::path::Path, name: &str) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new().from_path(path).unwrap();
    let at = r.headers().unwrap().iter().position(|h| h == name).unwrap();
    r.records().map(|rec| rec.unwrap()[at].to_string()).collect()
}

/// The released CSV files' names in `wd/out` (not kamei's own books).
fn released(wd: &Workdir) -> Vec<String> {
    std::fs::read_dir(wd.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv") && !n.starts_with("kamei-"))
        .collect()
}

/// The notes table of the brief: a note naming the husband, who only the ADT's NK1 names.
fn put_notes_table(wd: &Workdir) {
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\n\"患者ID\" = \"patient-id\"\n\"記事\" = \"free-text\"\n").unwrap();
    std::fs::write(wd.path("in/notes.csv"), format!("患者ID,記事\n{ID},夫 山田次郎 同伴 ヤマダさん\n")).unwrap();
}

#[test]
fn csv_notes_lose_the_relative_and_kana_names_an_ss_mix2_master_gives() {
    let wd = Workdir::new("csv_notes_lose_the_relative_and_kana_names_an_ss_mix2_master_gives");
    put_message(&wd, "ssmix", "ADT-00", "999999999999999", &ADT);
    put_notes_table(&wd);
    let run = csv_run(&wd, &["--identifiers-from", "ssmix"]);
    run.assert_code(0);
    let note = column(&wd.path("out/notes.csv"), "記事");
    assert_eq!(note.len(), 1);
    for gone in ["山田", "次郎", "ヤマダ"] {
        assert!(!note[0].contains(gone), "{note:?}");
    }
    assert!(note[0].starts_with("夫 ") && note[0].contains("同伴"), "{note:?}");
    assert!(!run.stderr().contains(ID), "{}", run.stderr());
}

#[test]
fn csv_output_name_loses_the_romaji_name_an_ss_mix2_master_gives() {
    let wd = Workdir::new("csv_output_name_loses_the_romaji_name_an_ss_mix2_master_gives");
    put_message(&wd, "ssmix", "ADT-00", "999999999999999", &ADT);
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nname = \"name\"\nnote = \"free-text\"\n")
        .unwrap();
    // The rows write the name in kanji only, which cannot be turned into romaji.
    std::fs::write(wd.path("in/YAMADA_HANAKO_labs.csv"), format!("pid,name,note\n{ID},山田 花子,異常なし\n")).unwrap();
    csv_run(&wd, &["--identifiers-from", "ssmix"]).assert_code(0);
    let names = released(&wd);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(!names[0].contains("YAMADA") && !names[0].contains("HANAKO"), "{names:?}");
    assert!(names[0].contains("labs"), "{names:?}");
}

#[test]
fn csv_run_with_an_ss_mix2_master_that_cannot_be_read_stops_before_writing() {
    let wd = Workdir::new("csv_run_with_an_ss_mix2_master_that_cannot_be_read_stops_before_writing");
    put_message(&wd, "ssmix", "ADT-00", "999999999999999", &ADT);
    // A message not in the layout: the identifiers it holds would be missing.
    std::fs::write(wd.path(&format!("ssmix/123/456/{ID}/20240102/ADT-00/{ID}_stray")), "MSH|^~\\&|\r").unwrap();
    put_notes_table(&wd);
    let run = csv_run(&wd, &["--identifiers-from", "ssmix"]);
    run.assert_code(2);
    assert!(run.stderr().contains("--identifiers-from #1: SS-MIX2 storage: entry #"), "{}", run.stderr());
    assert!(!run.stderr().contains(ID), "{}", run.stderr());
    assert!(!wd.path("out/notes.csv").exists());
}

#[test]
fn ssmix2_free_text_loses_a_relative_only_the_master_storage_names() {
    let wd = Workdir::new("ssmix2_free_text_loses_a_relative_only_the_master_storage_names");
    put_message(&wd, "master", "ADT-00", "999999999999999", &ADT);
    put_note(&wd, "root", "夫 次郎さん 同伴 YAMADA JIRO");
    let k = key(&wd, "k.key", 7);
    let args =
        ["clinical", "ss-mix2", "root", "-o", "out", "--key", k.to_str().unwrap(), "--option", "clean-free-text"];
    let mut with = args.to_vec();
    with.extend(["--identifiers-from", "master"]);
    wd.kamei(with).assert_code(0);
    let out = tree(&wd, "out");
    let message = out.iter().find(|(p, _)| p.to_string_lossy().contains("OML-11")).map(|(_, b)| b).unwrap();
    let text = String::from_utf8_lossy(message);
    assert!(text.contains("同伴"), "{text}");
    for gone in ["次郎", "JIRO"] {
        assert!(!text.contains(gone), "{text}");
    }
    // Another master (or none) would clean otherwise: a second run into OUT is refused.
    wd.kamei(args).assert_code(2);
}

#[test]
fn ssmix2_free_text_loses_a_relative_another_message_of_the_patient_names() {
    let wd = Workdir::new("ssmix2_free_text_loses_a_relative_another_message_of_the_patient_names");
    put_message(&wd, "root", "ADT-00", "999999999999999", &ADT);
    put_note(&wd, "root", "夫 次郎さん 同伴");
    let k = key(&wd, "k.key", 7);
    let args =
        ["clinical", "ss-mix2", "root", "-o", "out", "--key", k.to_str().unwrap(), "--option", "clean-free-text"];
    wd.kamei(args).assert_code(0);
    let out = tree(&wd, "out");
    let message = out.iter().find(|(p, _)| p.to_string_lossy().contains("OML-11")).map(|(_, b)| b).unwrap();
    let text = String::from_utf8_lossy(message);
    assert!(text.contains("同伴") && !text.contains("次郎"), "{text}");
}

/// A CT of the patient whose Study Description names her husband, who the file does not name.
fn put_image(wd: &Workdir) {
    Fixture::ct(ID, "1.2.3.71", "1.2.3.71.1", "1.2.3.71.1.1")
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT CHEST WITH YAMADA JIRO"))
        .write(&wd.path("in/a.dcm"));
}

#[test]
fn deid_kept_text_loses_a_relative_only_an_ss_mix2_master_names() {
    let wd = Workdir::new("deid_kept_text_loses_a_relative_only_an_ss_mix2_master_names");
    put_message(&wd, "ssmix", "ADT-00", "999999999999999", &ADT);
    put_image(&wd);
    wd.deid(&["--option", "clean-descriptors", "--identifiers-from", "ssmix"]).assert_code(0);
    let description = text(&open(&wd.only_output("out")), tags::STUDY_DESCRIPTION).unwrap();
    assert!(description.starts_with("CT CHEST WITH"), "{description}");
    assert!(!description.contains("YAMADA") && !description.contains("JIRO"), "{description}");
}

#[test]
fn deid_kept_text_loses_a_name_a_csv_master_gives_by_its_columns() {
    let wd = Workdir::new("deid_kept_text_loses_a_name_a_csv_master_gives_by_its_columns");
    put_image(&wd);
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nspouse = \"name\"\n").unwrap();
    std::fs::write(wd.path("master.csv"), format!("pid,spouse\n{ID},YAMADA JIRO\n")).unwrap();
    let run = wd.deid(&["--option", "clean-descriptors", "--identifiers-from", "master.csv", "--columns", "cols.toml"]);
    run.assert_code(0);
    let description = text(&open(&wd.only_output("out")), tags::STUDY_DESCRIPTION).unwrap();
    assert!(!description.contains("YAMADA") && !description.contains("JIRO"), "{description}");
}

#[test]
fn deid_run_into_the_same_out_with_another_master_is_refused() {
    let wd = Workdir::new("deid_run_into_the_same_out_with_another_master_is_refused");
    put_message(&wd, "ssmix", "ADT-00", "999999999999999", &ADT);
    put_image(&wd);
    wd.deid(&["--option", "clean-descriptors", "--identifiers-from", "ssmix"]).assert_code(0);
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(2);
    assert!(run.stderr().contains("--identifiers-from"), "{}", run.stderr());
}

#[test]
fn verify_against_an_ss_mix2_storage_finds_the_names_of_its_adt_messages() {
    let wd = Workdir::new("verify_against_an_ss_mix2_storage_finds_the_names_of_its_adt_messages");
    put_message(&wd, "ssmix", "ADT-00", "999999999999999", &ADT);
    // A release made without the master: the husband's name stays in the note.
    put_notes_table(&wd);
    csv_run(&wd, &[]).assert_code(0);
    assert!(column(&wd.path("out/notes.csv"), "記事")[0].contains("次郎"));
    let run = wd.kamei(["verify", "out", "--against", "ssmix"]);
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout(), run.stderr());
    assert!(run.stdout().contains("notes.csv"), "{}", run.stdout());
    assert!(!run.stdout().contains("次郎") && !run.stderr().contains("次郎"));
}
