//! Identifiers that survived in text kamei keeps (cleaned descriptions, values kept by
//! default, clinical free text): the digit run of a lettered Patient ID, the Issuer of Patient
//! ID, a month and day written with a slash in Japanese text, and a NUL between a name's parts.

use crate::util::*;
use dicom_core::VR;
use dicom_dictionary_std::tags;
use kamei::dataset::{DataSet, Element};
use kamei::read::{Opened, ReadOptions};

/// Edit the single output file below `out` in place (to plant what an older release left).
fn plant(wd: &Workdir, edit: impl FnOnce(&mut DataSet)) {
    let path = wd.only_output("out");
    let mut file = match kamei::read::open(&path, &ReadOptions::default()).unwrap() {
        Opened::Dicom(f) => f,
        other => panic!("{other:?}"),
    };
    edit(&mut file.dataset);
    std::fs::write(&path, kamei::write::to_vec(&file, None).unwrap()).unwrap();
}

/// The top-level value of `tag` in the one output, as UTF-8 text.
fn out_text(wd: &Workdir, tag: dicom_core::Tag) -> String {
    let bytes = raw(&wd.only_output("out"), tag).unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end_matches(['\0', ' ']).to_string()
}

/// `kamei verify out --against in` with `options`.
fn verify(wd: &Workdir, options: &[&str]) -> Run {
    let mut args = vec!["verify", "out", "--against", "in"];
    for o in options {
        args.extend(["--option", o]);
    }
    wd.kamei(args)
}

/// `kamei clinical csv in -o out` with key 7 and `cols.toml` giving `pid` (patient ID), `name`
/// and `note` (free text); `csv` is the file's content. The cleaned notes, in row order.
fn csv_notes(wd: &Workdir, csv: &str) -> Vec<String> {
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nname = \"name\"\nnote = \"free-text\"\n")
        .unwrap();
    std::fs::write(wd.path("in/notes.csv"), csv).unwrap();
    let k = key(wd, "k.key", 7);
    let args = ["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    wd.kamei(args).assert_code(0);
    let mut r = csv::ReaderBuilder::new().from_path(wd.path("out/notes.csv")).unwrap();
    let note = r.headers().unwrap().iter().position(|h| h == "note").unwrap();
    r.records().map(|rec| rec.unwrap()[note].to_string()).collect()
}

#[test]
fn the_digit_run_of_a_lettered_patient_id_is_removed_from_cleaned_text() {
    let wd = Workdir::new("the_digit_run_of_a_lettered_patient_id_is_removed_from_cleaned_text");
    Fixture::ct("PAT0012345", "1.2.3.61", "1.2.3.61.1", "1.2.3.61.1.1")
        .put(str_el(dicom_core::Tag(0x0010, 0x1000), VR::LO, "MRN-12345678"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "0012345 follow-up 12345 mg"))
        .put(str_el(tags::SERIES_DESCRIPTION, VR::LO, "ID 12345678 x 100123456"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    // Seven digits with the zeros are the ID; `12345` without them is five digits, left.
    assert_eq!(out_text(&wd, tags::STUDY_DESCRIPTION), "*** follow-up 12345 mg");
    // Never inside a longer number.
    assert_eq!(out_text(&wd, tags::SERIES_DESCRIPTION), "ID *** x 100123456");
    verify(&wd, &["clean-descriptors"]).assert_code(0);
}

#[test]
fn verify_finds_the_digit_run_of_a_lettered_patient_id() {
    let wd = Workdir::new("verify_finds_the_digit_run_of_a_lettered_patient_id");
    Fixture::ct("PAT0012345", "1.2.3.62", "1.2.3.62.1", "1.2.3.62.1.1").write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, b"0012345 follow-up ".to_vec())));
    let run = verify(&wd, &["clean-descriptors"]);
    run.assert_code(1);
    assert!(run.stdout().contains("(0008,1030)\tresidual-identifier"), "{}", run.stdout());
    assert!(!run.stdout().contains("0012345"), "findings never print the value");
}

#[test]
fn a_csv_note_loses_the_six_digit_run_of_a_lettered_patient_id() {
    let wd = Workdir::new("a_csv_note_loses_the_six_digit_run_of_a_lettered_patient_id");
    let notes = csv_notes(&wd, "pid,name,note\nPAT012345,,012345 再診 12345 mg\n");
    assert_eq!(notes, ["*** 再診 12345 mg"]);
}

/// Two files, each with an Issuer of Patient ID (`HOSPA`, `東大病院`) written into a coding
/// scheme's name, which the profile keeps by default, and into the Study Description.
fn issuers(wd: &Workdir) {
    for (i, issuer) in ["HOSPA", "東大病院"].iter().enumerate() {
        let scheme = item(vec![
            str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "99LOCAL"),
            str_el(tags::CODING_SCHEME_NAME, VR::ST, &format!("{issuer} local codes")),
        ]);
        let study = format!("1.2.3.63{i}");
        Fixture::ct(&format!("PID77881{i}"), &study, &format!("{study}.1"), &format!("{study}.1.1"))
            .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
            .put(str_el(tags::ISSUER_OF_PATIENT_ID, VR::LO, issuer))
            // Not the fixture's canaries, which share a word with its staff's names.
            .put(str_el(tags::INSTITUTION_NAME, VR::LO, "SHIZUOKA GENERAL"))
            .put(str_el(tags::INSTITUTION_ADDRESS, VR::ST, "2 SHIZUOKA ROAD"))
            .put(seq_el(tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE, vec![scheme]))
            .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, &format!("{issuer} CT")))
            .write(&wd.path(&format!("in/{i}.dcm")));
    }
}

/// The Coding Scheme Name of each output, sorted.
fn scheme_names(wd: &Workdir) -> Vec<String> {
    let mut v: Vec<String> = wd
        .dicom_outputs("out")
        .iter()
        .map(|p| item_text(&items(&open(p), tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE)[0], tags::CODING_SCHEME_NAME))
        .map(|t| t.unwrap_or_default())
        .collect();
    v.sort();
    v
}

#[test]
fn the_issuer_of_patient_id_is_scrubbed_from_text_kept_by_default() {
    let wd = Workdir::new("the_issuer_of_patient_id_is_scrubbed_from_text_kept_by_default");
    issuers(&wd);
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    assert_eq!(scheme_names(&wd), ["*** local codes", "*** local codes"]);
    assert_no_leak(&wd, "out", &run, &["HOSPA", "東大病院"]);
    let v = verify(&wd, &["clean-descriptors"]);
    v.assert_code(0);
}

#[test]
fn retain_institution_identity_keeps_the_issuer_in_kept_text_and_verify_agrees() {
    let wd = Workdir::new("retain_institution_identity_keeps_the_issuer_in_kept_text_and_verify_agrees");
    issuers(&wd);
    let opts = ["--option", "clean-descriptors", "--option", "retain-institution-identity"];
    wd.deid(&opts).assert_code(0);
    assert_eq!(scheme_names(&wd), ["HOSPA local codes", "東大病院 local codes"]);
    // The issuer the profile does not keep is still gone from the text Clean cleans.
    for p in wd.dicom_outputs("out") {
        let d = text(&open(&p), tags::STUDY_DESCRIPTION).unwrap_or_default();
        assert_eq!(d, "*** CT");
    }
    let v = verify(&wd, &["clean-descriptors", "retain-institution-identity"]);
    assert_eq!(v.code(), 0, "{}", v.stdout());
}

#[test]
fn a_month_and_day_with_a_slash_in_japanese_text_is_a_date_where_the_text_says_so() {
    let wd = Workdir::new("a_month_and_day_with_a_slash_in_japanese_text_is_a_date_where_the_text_says_so");
    let notes = csv_notes(
        &wd,
        "pid,name,note\n\
         P0001234,,4/1にCT施行\n\
         P0001234,,4/1(月) 来院なし\n\
         P0001234,,4/1～4/5 休み\n\
         P0001234,,12/28～1/4 休診 4/1 10:00 受付\n\
         P0001234,,1/2錠 1/3に減量 約1/3の症例 1/3～1/2錠 1/2～1/3に減量 2/3以下\n",
    );
    assert_eq!(
        notes,
        [
            "***にCT施行",
            "*** 来院なし",
            "***～*** 休み",
            "***～*** 休診 *** 10:00 受付",
            "1/2錠 1/3に減量 約1/3の症例 1/3～1/2錠 1/2～1/3に減量 2/3以下"
        ]
    );
}

#[test]
fn verify_finds_an_exam_day_written_with_a_slash_in_japanese_text() {
    let wd = Workdir::new("verify_finds_an_exam_day_written_with_a_slash_in_japanese_text");
    Fixture::ct("PID7788123", "1.2.3.64", "1.2.3.64.1", "1.2.3.64.1.1")
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "2/1にCT施行"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    assert_eq!(out_text(&wd, tags::STUDY_DESCRIPTION), "***にCT施行");
    verify(&wd, &["clean-descriptors"]).assert_code(0);
    plant(&wd, |ds| ds.put(Element::new(tags::STUDY_DESCRIPTION, VR::LO, "2/1にCT施行 ".as_bytes().to_vec())));
    let run = verify(&wd, &["clean-descriptors"]);
    run.assert_code(1);
    assert!(run.stdout().contains("(0008,1030)"), "{}", run.stdout());
}

#[test]
fn a_nul_between_the_parts_of_a_name_hides_it_from_nothing() {
    let wd = Workdir::new("a_nul_between_the_parts_of_a_name_hides_it_from_nothing");
    let notes = csv_notes(
        &wd,
        "pid,name,note\nP0001234,林 花子,\"林\0様 来院\"\nP0001234,,\"山田\0太郎 090\x001111\x002222\"\nP0001234,山田 太郎,\n",
    );
    // Found as `林様` and `山田 太郎` are: the NUL goes with the match it stands in.
    assert_eq!(notes, ["*** 来院", "*** ***", ""]);
}
