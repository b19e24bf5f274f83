//! Opt-out and cohort: the same patients are left out of images, CSV and SS-MIX2, by every
//! command and every shard, and `kamei verify --exclude-patients` proves it.

use crate::util::*;
use kamei::cohort::{Cohort, Register};
use kamei::pseudo::{Patient, PseudonymKey, Pseudonymizer};
use std::path::Path;

const P1: &str = "1234567890";
const P2_OPTED_OUT: &str = "2345678901";
const CSV_ONLY_NOT_IN_COHORT: &str = "3456789012";
const IMAGES_ONLY: &str = "9999000001";
const NOT_IN_COHORT: &str = "8888000001";

fn fx(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/clinical").join(name).to_string_lossy().into_owned()
}

fn pseudonym(key: &Path, id: &str) -> String {
    let key = PseudonymKey::read(key).unwrap();
    Pseudonymizer::new(&key, Default::default()).patient_pseudonym(Patient::Id(id))
}

/// Two images per patient, plus one image without a Patient ID.
fn archive(wd: &Workdir) {
    for (p, id) in [P1, P2_OPTED_OUT, IMAGES_ONLY, NOT_IN_COHORT].iter().enumerate() {
        for n in 0..2 {
            let study = format!("1.2.826.0.1.3680043.8.498.61{p}");
            Fixture::ct(id, &study, &format!("{study}.1"), &format!("{study}.1.{n}"))
                .write(&wd.path(&format!("dicom/p{p}/{n}.dcm")));
        }
    }
    Fixture::ct(
        "",
        "1.2.826.0.1.3680043.8.498.619",
        "1.2.826.0.1.3680043.8.498.619.1",
        "1.2.826.0.1.3680043.8.498.619.1.1",
    )
    .write(&wd.path("dicom/noid/0.dcm"));
    std::fs::write(wd.path("exclude.txt"), format!("# opt-out register, updated 2026-11-20\n\n {P2_OPTED_OUT} \n"))
        .unwrap();
    std::fs::write(
        wd.path("include.csv"),
        format!("patient_id,approved\n{P1},yes\n{P2_OPTED_OUT},yes\n{IMAGES_ONLY},yes\n"),
    )
    .unwrap();
}

fn scope() -> [&'static str; 4] {
    ["--exclude-patients", "exclude.txt", "--include-patients", "include.csv"]
}

#[test]
fn opted_out_and_out_of_cohort_patients_leave_nothing_in_any_release() {
    let wd = Workdir::new("opted_out_and_out_of_cohort_patients_leave_nothing_in_any_release");
    archive(&wd);
    let k = key(&wd, "k.key", 21);
    let ks = k.to_str().unwrap();
    let mut args = vec!["deid", "dicom", "-o", "release/images", "--key", ks];
    args.extend(scope());
    let images = wd.kamei(&args);
    images.assert_code(0);
    assert!(images.stderr().contains("5 inputs of 2 patients left out"), "{}", images.stderr());
    let (labs, columns) = (fx("labs.csv"), fx("columns.example.toml"));
    let mut args = vec!["clinical", "csv", &labs, "-o", "release/csv", "--key", ks, "--columns", &columns];
    args.extend(scope());
    let csv = wd.kamei(&args);
    assert!(csv.stderr().contains("left out"), "{}", csv.stderr());
    let root = fx("ss-mix2");
    let mut args = vec!["clinical", "ss-mix2", &root, "-o", "release/ss-mix2", "--key", ks];
    args.extend(scope());
    let ss = wd.kamei(&args);
    assert!(ss.stderr().contains("1 patient folders"), "{}", ss.stderr());

    // Nothing of the excluded patients: no original ID, no pseudonym, in bytes or names.
    for id in [P2_OPTED_OUT, CSV_ONLY_NOT_IN_COHORT, NOT_IN_COHORT] {
        assert_eq!(wd.tree_contains("release", id.as_bytes()), None, "{id}");
        let p = pseudonym(&k, id);
        assert_eq!(wd.tree_contains("release", p.as_bytes()), None, "pseudonym of {id}");
    }
    // The included patients are there, in all three.
    for p in [pseudonym(&k, P1)] {
        for part in ["images", "csv", "ss-mix2"] {
            assert!(wd.tree_contains(&format!("release/{part}"), p.as_bytes()).is_some(), "{part} lacks P1");
        }
    }
    // Counted in the audit, with a reason and no identifier.
    let audit = wd.audit("release/images");
    let excluded: Vec<&serde_json::Value> = audit.iter().filter(|r| r["outcome"] == "excluded").collect();
    assert_eq!(excluded.len(), 5, "2 opted-out, 2 not in cohort, 1 without ID");
    assert!(excluded.iter().any(|r| r["reason"].as_str().unwrap().contains("opted out")));
    assert!(excluded.iter().any(|r| r["reason"].as_str().unwrap().contains("no Patient ID")));
    assert_eq!(wd.dicom_outputs("release/images").len(), 4);

    // verify confirms it, and finds a planted output of an excluded patient.
    let clean = wd.kamei(["verify", "release", "--exclude-patients", "exclude.txt", "--key", ks]);
    clean.assert_code(0);
    let mut all = vec!["deid", "dicom", "-o", "everyone", "--key", ks, "-q"];
    all.extend(["--include-patients", "include.csv"]);
    wd.kamei(&all).assert_code(0);
    let leaked = wd.path("release/images").join(pseudonym(&k, P2_OPTED_OUT));
    std::fs::rename(wd.path("everyone").join(pseudonym(&k, P2_OPTED_OUT)), &leaked).unwrap();
    let found = wd.kamei(["verify", "release", "--exclude-patients", "exclude.txt", "--key", ks]);
    found.assert_code(1);
    assert!(found.stdout().contains("pseudonym of an excluded patient"), "{}", found.stdout());
}

#[test]
fn shards_exclude_the_same_patients_as_a_whole_run() {
    let wd = Workdir::new("shards_exclude_the_same_patients_as_a_whole_run");
    archive(&wd);
    let k = key(&wd, "k.key", 22);
    let ks = k.to_str().unwrap();
    let mut whole = vec!["deid", "dicom", "-o", "whole", "--key", ks, "-q"];
    whole.extend(scope());
    wd.kamei(&whole).assert_code(0);
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let mut args = vec!["deid", "dicom", "-o", "sharded", "--key", ks, "-q", "--shard", &shard];
        args.extend(scope());
        wd.kamei(&args).assert_code(0);
    }
    let dcm = |dir: &str| -> Vec<_> {
        wd.files(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "dcm")).collect()
    };
    assert_eq!(dcm("whole"), dcm("sharded"));
    let excluded = |dir: &str| wd.audit(dir).iter().filter(|r| r["outcome"] == "excluded").count();
    assert_eq!(excluded("whole"), excluded("sharded"));
}

#[test]
fn a_release_is_resumed_only_with_the_same_registers() {
    let wd = Workdir::new("a_release_is_resumed_only_with_the_same_registers");
    archive(&wd);
    let k = key(&wd, "k.key", 23);
    let ks = k.to_str().unwrap();
    wd.kamei(["deid", "dicom", "-o", "out", "--key", ks, "-q", "--exclude-patients", "exclude.txt"]).assert_code(0);
    std::fs::write(wd.path("exclude2.txt"), format!("{P2_OPTED_OUT}\n{P1}\n")).unwrap();
    let run = wd.kamei(["deid", "dicom", "-o", "out", "--key", ks, "-q", "--exclude-patients", "exclude2.txt"]);
    run.assert_code(2);
    assert!(run.stderr().contains("patient registers"), "{}", run.stderr());
}

#[test]
fn studies_between_keeps_only_the_window_by_original_date() {
    let wd = Workdir::new("studies_between_keeps_only_the_window_by_original_date");
    archive(&wd);
    let k = key(&wd, "k.key", 24);
    // Fixture studies are dated 2024-02-01: a window around it keeps all, one after it none.
    let ks = k.to_str().unwrap();
    wd.kamei(["deid", "dicom", "-o", "in", "--key", ks, "-q", "--studies-between", "2024-01-01", "20240229"])
        .assert_code(0);
    assert_eq!(wd.dicom_outputs("in").len(), 9);
    let run = wd.kamei(["deid", "dicom", "-o", "out", "--key", ks, "--studies-between", "2024-03-01", "2024-03-31"]);
    run.assert_code(0);
    assert_eq!(wd.dicom_outputs("out").len(), 0);
    assert!(run.stderr().contains("9 inputs of 4 patients left out"), "{}", run.stderr());
}

#[test]
fn verify_refuses_a_key_the_release_was_not_made_with() {
    let wd = Workdir::new("verify_refuses_a_key_the_release_was_not_made_with");
    archive(&wd);
    let k = key(&wd, "k.key", 21);
    let other = key(&wd, "other.key", 22);
    let run = wd.kamei(["deid", "dicom", "-o", "release", "--key", k.to_str().unwrap()]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let v = wd.kamei(["verify", "release", "--exclude-patients", "exclude.txt", "--key", other.to_str().unwrap()]);
    assert_eq!(v.code(), 2, "another key would find no pseudonym: {}", v.stderr());
    assert!(v.stderr().contains("fingerprints differ"), "{}", v.stderr());
    let right = wd.kamei(["verify", "release", "--exclude-patients", "exclude.txt", "--key", k.to_str().unwrap()]);
    assert_eq!(right.code(), 1, "the opted-out patient was not excluded from this release: {}", right.stdout());
}

#[test]
fn a_per_patient_export_named_by_an_opted_out_id_leaves_no_file() {
    let wd = Workdir::new("a_per_patient_export_named_by_an_opted_out_id_leaves_no_file");
    archive(&wd);
    let k = key(&wd, "k.key", 21);
    std::fs::create_dir_all(wd.path("pp")).unwrap();
    for id in [P1, P2_OPTED_OUT] {
        std::fs::write(wd.path(&format!("pp/{id}.csv")), format!("patient_id,value\n{id},1\n")).unwrap();
    }
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvalue = \"keep\"\n").unwrap();
    let run = wd.kamei([
        "clinical",
        "csv",
        "pp",
        "-o",
        "out",
        "--key",
        k.to_str().unwrap(),
        "--columns",
        "cols.toml",
        "--exclude-patients",
        "exclude.txt",
    ]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let names: Vec<String> = std::fs::read_dir(wd.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    let tag = pseudonymizer(21).token("csv-output-name", format!("{P1}.csv").as_bytes(), 8);
    assert_eq!(
        names,
        [format!("{}_{tag}.csv", pseudonym(&k, P1))],
        "no original ID in a name, no file for the opted-out"
    );
    let manifest = std::fs::read_to_string(wd.path("out/kamei-columns.json")).unwrap();
    assert!(!manifest.contains(P1) && !manifest.contains(P2_OPTED_OUT), "{manifest}");
}

#[test]
fn verify_of_a_folder_of_outputs_uses_the_image_outputs_profile() {
    let wd = Workdir::new("verify_of_a_folder_of_outputs_uses_the_image_outputs_profile");
    archive(&wd);
    let k = key(&wd, "k.key", 21);
    let ks = k.to_str().unwrap();
    let images =
        wd.kamei(["deid", "dicom", "-o", "release/images", "--key", ks, "--option", "retain-long-modified-dates"]);
    images.assert_code(0);
    std::fs::write(wd.path("labs.csv"), format!("patient_id,value\n{P1},1\n")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvalue = \"keep\"\n").unwrap();
    let csv = wd.kamei(["clinical", "csv", "labs.csv", "-o", "release/csv", "--key", ks, "--columns", "cols.toml"]);
    csv.assert_code(0);
    let v = wd.kamei(["verify", "release"]);
    assert_eq!(v.code(), 0, "shifted dates are allowed by the images' options: {}", v.stdout());
}

#[test]
fn link_report_warns_when_dates_were_shifted_with_other_settings() {
    let wd = Workdir::new("link_report_warns_when_dates_were_shifted_with_other_settings");
    archive(&wd);
    let k = key(&wd, "k.key", 21);
    let ks = k.to_str().unwrap();
    let images = wd.kamei(["deid", "dicom", "-o", "images", "--key", ks, "--option", "retain-long-modified-dates"]);
    images.assert_code(0);
    std::fs::write(wd.path("labs.csv"), format!("patient_id,visit_date\n{P1},2024-02-01\n")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvisit_date = \"date\"\n").unwrap();
    for (out, days) in [("same", "365"), ("other", "30")] {
        let csv = wd.kamei([
            "clinical",
            "csv",
            "labs.csv",
            "-o",
            out,
            "--key",
            ks,
            "--columns",
            "cols.toml",
            "--option",
            "retain-long-modified-dates",
            "--date-shift-max-days",
            days,
        ]);
        csv.assert_code(0);
    }
    let same = wd.kamei(["link", "report", "--images", "images", "--clinical", "same"]);
    assert_eq!(same.code(), 0, "{}", same.stderr());
    let other = wd.kamei(["link", "report", "--images", "images", "--clinical", "other"]);
    assert_eq!(other.code(), 1, "{}", other.stderr());
    assert!(other.stderr().contains("other date shift settings"), "{}", other.stderr());
}

/// The images of `archive` de-identified with `option` (none: dates removed) and the labs of
/// patient P1 with shifted dates, both under one key; the `link report` of the pair.
fn link_report_of_images_with(wd: &Workdir, option: Option<&str>) -> Run {
    archive(wd);
    let k = key(wd, "k.key", 21);
    let ks = k.to_str().unwrap();
    let mut deid = vec!["deid", "dicom", "-o", "images", "--key", ks];
    deid.extend(option.map(|o| ["--option", o]).iter().flatten());
    wd.kamei(deid).assert_code(0);
    std::fs::write(wd.path("labs.csv"), format!("patient_id,visit_date\n{P1},2024-02-01\n")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvisit_date = \"date\"\n").unwrap();
    let args = ["--columns", "cols.toml", "--option", "retain-long-modified-dates"];
    wd.kamei([&["clinical", "csv", "labs.csv", "-o", "csv", "--key", ks][..], &args].concat()).assert_code(0);
    wd.kamei(["link", "report", "--images", "images", "--clinical", "csv"])
}

#[test]
fn link_report_warns_when_the_images_keep_real_dates_beside_shifted_clinical_ones() {
    let wd = Workdir::new("link_report_warns_when_the_images_keep_real_dates_beside_shifted_clinical_ones");
    let run = link_report_of_images_with(&wd, Some("retain-long-full-dates"));
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(run.stderr().contains("shifted dates where the images hold real ones"), "{}", run.stderr());
}

#[test]
fn link_report_leaves_the_image_dates_empty_when_deid_removed_them() {
    let wd = Workdir::new("link_report_leaves_the_image_dates_empty_when_deid_removed_them");
    let run = link_report_of_images_with(&wd, None);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(!run.stdout().contains("1900"), "the dummy date is no date: {}", run.stdout());
    let row = run.stdout().lines().find(|l| l.contains("\tboth\t")).expect("a patient in both").to_string();
    let fields: Vec<&str> = row.split('\t').collect();
    assert_eq!((fields[3], fields[4]), ("", ""), "{row}");
    assert_ne!(fields[5], "", "the clinical dates are there: {row}");
}

#[test]
fn messages_name_a_per_patient_export_by_its_pseudonymized_name() {
    let wd = Workdir::new("messages_name_a_per_patient_export_by_its_pseudonymized_name");
    let k = key(&wd, "k.key", 21);
    std::fs::create_dir_all(wd.path("pp")).unwrap();
    std::fs::write(wd.path(&format!("pp/{P1}.csv")), format!("patient_id,value\n{P1},1\n{P1}\n")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvalue = \"keep\"\n").unwrap();
    let run = wd.kamei(["clinical", "csv", "pp", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"]);
    assert_eq!(run.code(), 1, "a ragged row is dropped: {}", run.stderr());
    assert!(run.stderr().contains("row dropped"), "{}", run.stderr());
    assert!(!run.stderr().contains(P1), "the input name holds the ID: {}", run.stderr());
}

/// A merged record can carry two IDs in one Patient ID (`A\B`, invalid for LO): the opt-out
/// of either patient leaves the image out.
#[test]
fn an_image_whose_patient_id_lists_an_opted_out_patient_is_left_out() {
    let wd = Workdir::new("an_image_whose_patient_id_lists_an_opted_out_patient_is_left_out");
    let study = "1.2.826.0.1.3680043.8.498.71";
    Fixture::ct(&format!("{IMAGES_ONLY}\\{P2_OPTED_OUT}"), study, &format!("{study}.1"), &format!("{study}.1.1"))
        .write(&wd.path("dicom/a.dcm"));
    std::fs::write(wd.path("exclude.txt"), format!("{P2_OPTED_OUT}\n")).unwrap();
    let k = key(&wd, "k.key", 24);
    let run =
        wd.kamei(["deid", "dicom", "-o", "out", "--key", k.to_str().unwrap(), "--exclude-patients", "exclude.txt"]);
    run.assert_code(0);
    assert!(run.stderr().contains("1 inputs of 1 patients left out"), "{}", run.stderr());
    assert!(wd.dicom_outputs("out").is_empty());
}

/// An empty folder named with an excluded patient's pseudonym (left by a release made before
/// the opt-out, emptied by hand) still tells that the patient was there.
#[test]
fn verify_finds_an_empty_folder_named_for_an_excluded_patient() {
    let wd = Workdir::new("verify_finds_an_empty_folder_named_for_an_excluded_patient");
    archive(&wd);
    let k = key(&wd, "k.key", 25);
    let ks = k.to_str().unwrap();
    wd.kamei(["deid", "dicom", "-o", "out", "--key", ks, "-q", "--exclude-patients", "exclude.txt"]).assert_code(0);
    std::fs::create_dir_all(wd.path("out").join(pseudonym(&k, P2_OPTED_OUT)).join("1.2.3")).unwrap();
    let run = wd.kamei(["verify", "out", "--exclude-patients", "exclude.txt", "--key", ks]);
    run.assert_code(1);
    assert!(
        run.stdout().lines().any(|l| l.contains("\tfolder name\t") && l.contains("pseudonym of an excluded patient")),
        "{}",
        run.stdout()
    );
}

/// `１２３４５６７` in Shift_JIS (CP932), padded: what a Japanese modality writes for a Patient
/// ID typed in full-width digits, whatever (0008,0005) says.
const SJIS_FULL_WIDTH_1234567: &[u8] = b"\x82P\x82Q\x82R\x82S\x82T\x82U\x82V ";

/// Images of patient 1234567 whose ID is in Shift_JIS under sets that do not allow it, and the
/// same patient's lab export as Windows writes it (CP932).
fn shift_jis_archive(wd: &Workdir) {
    use dicom_core::VR;
    use dicom_dictionary_std::tags;
    let study = "1.2.826.0.1.3680043.8.498.81";
    for (n, charset) in [&b""[..], b"ISO_IR 13 ", b"ISO_IR 100", b"ISO_IR 192"].into_iter().enumerate() {
        let mut f = Fixture::ct("", study, &format!("{study}.1"), &format!("{study}.1.{n}")).put(raw_el(
            tags::PATIENT_ID,
            VR::LO,
            SJIS_FULL_WIDTH_1234567,
        ));
        if !charset.is_empty() {
            f = f.put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, charset));
        }
        f.write(&wd.path(&format!("dicom/{n}.dcm")));
    }
    let (csv, _, _) = encoding_rs::SHIFT_JIS.encode("患者ID,検査名,結果\n１２３４５６７,HbA1c,5.9\n");
    std::fs::create_dir_all(wd.path("csvin")).unwrap();
    std::fs::write(wd.path("csvin/labs.csv"), csv).unwrap();
    std::fs::write(
        wd.path("cols.toml"),
        "[columns]\n\"患者ID\" = \"patient-id\"\n\"検査名\" = \"keep\"\n\"結果\" = \"keep\"\n",
    )
    .unwrap();
    std::fs::write(wd.path("optout.txt"), "1234567\n").unwrap();
}

#[test]
fn a_shift_jis_patient_id_is_opted_out_like_the_same_patients_csv_rows() {
    let wd = Workdir::new("a_shift_jis_patient_id_is_opted_out_like_the_same_patients_csv_rows");
    shift_jis_archive(&wd);
    let k = key(&wd, "k.key", 31);
    let ks = k.to_str().unwrap();
    let scope = ["--exclude-patients", "optout.txt"];
    let csv = wd.kamei(
        [&["clinical", "csv", "csvin/labs.csv", "-o", "rel/csv", "--key", ks, "--columns", "cols.toml"][..], &scope]
            .concat(),
    );
    assert!(csv.stderr().contains("left out"), "{}", csv.stderr());
    let images = wd.kamei([&["deid", "dicom", "-o", "rel/images", "--key", ks][..], &scope].concat());
    images.assert_code(0);
    assert!(images.stderr().contains("4 inputs of 1 patients left out"), "{}", images.stderr());
    assert!(wd.dicom_outputs("rel/images").is_empty());
    assert_eq!(shift_jis_notes(&wd, "rel/images"), 4, "each exclusion says how the ID was read");
    wd.kamei([&["verify", "rel", "--key", ks][..], &scope].concat()).assert_code(0);
}

#[test]
fn a_shift_jis_patient_id_gets_the_pseudonym_of_the_same_patients_csv_rows() {
    let wd = Workdir::new("a_shift_jis_patient_id_gets_the_pseudonym_of_the_same_patients_csv_rows");
    shift_jis_archive(&wd);
    let k = key(&wd, "k.key", 32);
    let ks = k.to_str().unwrap();
    wd.kamei(["clinical", "csv", "csvin/labs.csv", "-o", "rel/csv", "--key", ks, "--columns", "cols.toml"])
        .assert_code(0);
    let run = wd.kamei(["deid", "dicom", "-o", "rel/images", "--key", ks, "--linkage", "link.csv"]);
    run.assert_code(0);
    let expected = pseudonym(&k, "1234567");
    let rows = std::fs::read_to_string(wd.path("rel/csv/labs.csv")).unwrap();
    assert!(rows.lines().nth(1).unwrap().starts_with(&format!("{expected},")), "{rows}");
    let outputs = wd.dicom_outputs("rel/images");
    assert_eq!(outputs.len(), 4);
    for out in &outputs {
        assert_eq!(text(&open(out), dicom_dictionary_std::tags::PATIENT_ID).unwrap(), expected);
    }
    // The linkage table holds the ID as read; the audit says how, without the value.
    let link = std::fs::read_to_string(wd.path("link.csv")).unwrap();
    assert!(link.lines().any(|l| l == format!("patient,1234567,{expected}")), "{link}");
    assert_eq!(shift_jis_notes(&wd, "rel/images"), 4);
}

/// How many audit notes of `out` say a Patient ID was read as Shift_JIS (none holds the ID).
fn shift_jis_notes(wd: &Workdir, out: &str) -> usize {
    let notes: Vec<String> = wd
        .audit(out)
        .iter()
        .filter_map(|r| r["notes"].as_array().cloned())
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    assert!(notes.iter().all(|n| !n.contains("1234567")), "{notes:?}");
    notes.iter().filter(|n| n.contains("read as Shift_JIS")).count()
}

#[test]
fn studies_between_reads_an_acr_nema_study_date_as_deid_shifts_it() {
    // rv7-10: Study Date `2024.01.02` is shifted by deid as a date, so the window reads it too.
    let wd = Workdir::new("studies_between_reads_an_acr_nema_study_date_as_deid_shifts_it");
    Fixture::ct(
        P1,
        "1.2.826.0.1.3680043.8.498.71",
        "1.2.826.0.1.3680043.8.498.71.1",
        "1.2.826.0.1.3680043.8.498.71.1.1",
    )
    .put(str_el(dicom_dictionary_std::tags::STUDY_DATE, dicom_core::VR::DA, "2024.01.02"))
    .write(&wd.path("dicom/a.dcm"));
    let k = key(&wd, "k.key", 24);
    let ks = k.to_str().unwrap();
    let args = ["deid", "dicom", "--key", ks, "-q", "--option", "retain-long-modified-dates", "--studies-between"];
    let run = wd.kamei(args.iter().copied().chain(["2024-01-01", "2024-01-31", "-o", "in"]));
    run.assert_code(0);
    assert_eq!(wd.dicom_outputs("in").len(), 1, "{}", run.stderr());
    let run = wd.kamei(args.iter().copied().chain(["2024-01-03", "2024-01-31", "-o", "out"]));
    run.assert_code(0);
    assert_eq!(wd.dicom_outputs("out").len(), 0);
}

/// An SS-MIX2 ADT message of folder `folder` whose PID-3 is `pid3`.
fn put_adt(wd: &Workdir, folder: &str, pid3: &str) {
    put_adt_with(wd, folder, pid3, "");
}

/// [`put_adt`], with `more` segments after the PID.
fn put_adt_with(wd: &Workdir, folder: &str, pid3: &str, more: &str) {
    let dir = wd.path(&format!("root/{}/{}/{folder}/-/ADT-00", &folder[..3], &folder[3..6]));
    std::fs::create_dir_all(&dir).unwrap();
    let msg = format!(
        "MSH|^~\\&|HIS|HOSP|SSMIX2|HOSP|20111220224447||ADT^A08^ADT_A01|20111220224447339|P|2.5||||||~ISO IR87||ISO 2022-1994\rEVN||20111220224447\rPID|0001||{pid3}||YAMADA^TARO^^^^^L^A||19850315|M\r{more}"
    );
    std::fs::write(dir.join(format!("{folder}_-_ADT-00_999999999999999_20111220224447339_-_1")), msg).unwrap();
}

#[test]
fn rv12_01_ssmix2_leaves_out_a_message_whose_pid3_repetition_names_a_left_out_patient() {
    let wd = Workdir::new("rv12_01_ssmix2_leaves_out_a_message_whose_pid3_repetition_names_a_left_out_patient");
    put_adt(&wd, "9999999", "9999999^^^^PI~1234568^^^^PI");
    put_adt(&wd, "7777777", "7777777^^^^PI");
    std::fs::write(wd.path("optout.txt"), "1234568\n").unwrap();
    std::fs::write(wd.path("cohort.txt"), "9999999\n7777777\n").unwrap();
    let k = key(&wd, "k.key", 41);
    let ks = k.to_str().unwrap();
    for (flag, register, out) in
        [("--exclude-patients", "optout.txt", "out-x"), ("--include-patients", "cohort.txt", "out-i")]
    {
        let link = format!("{out}.csv");
        let run = wd.kamei(["clinical", "ss-mix2", "root", "-o", out, "--key", ks, flag, register, "--linkage", &link]);
        run.assert_code(0);
        let written: Vec<_> = wd.files(out).into_iter().filter(|p| !p.to_string_lossy().contains("kamei-")).collect();
        assert_eq!(written.len(), 1, "{flag}: only 7777777's message: {written:?}");
        assert!(written[0].to_string_lossy().contains(&pseudonym(&k, "7777777")));
        assert_eq!(wd.tree_contains(out, pseudonym(&k, "9999999").as_bytes()), None, "{flag}");
        let excluded: Vec<_> = wd.audit(out).into_iter().filter(|r| r["outcome"] == "excluded").collect();
        assert_eq!(excluded.len(), 1, "{flag}");
        let table = std::fs::read_to_string(wd.path(&link)).unwrap();
        assert!(table.lines().any(|l| l.starts_with("excluded,999/999/9999999/")), "{table}");
        assert!(run.stderr().contains("(1 files) left out"), "{}", run.stderr());
    }
}

#[test]
fn ssmix2_leaves_out_a_merge_message_whose_mrg1_names_a_left_out_patient() {
    let wd = Workdir::new("ssmix2_leaves_out_a_merge_message_whose_mrg1_names_a_left_out_patient");
    put_adt_with(&wd, "9999999", "9999999^^^^PI", "MRG|1234568^^^^PI||||||YAMADA^JIRO\r");
    put_adt(&wd, "7777777", "7777777^^^^PI");
    std::fs::write(wd.path("optout.txt"), "1234568\n").unwrap();
    std::fs::write(wd.path("cohort.txt"), "9999999\n7777777\n").unwrap();
    let k = key(&wd, "k.key", 44);
    let ks = k.to_str().unwrap();
    for (flag, register, out) in
        [("--exclude-patients", "optout.txt", "out-x"), ("--include-patients", "cohort.txt", "out-i")]
    {
        let run = wd.kamei(["clinical", "ss-mix2", "root", "-o", out, "--key", ks, flag, register]);
        run.assert_code(0);
        let written: Vec<_> = wd.files(out).into_iter().filter(|p| !p.to_string_lossy().contains("kamei-")).collect();
        assert_eq!(written.len(), 1, "{flag}: only 7777777's message: {written:?}");
        assert!(written[0].to_string_lossy().contains(&pseudonym(&k, "7777777")));
        let excluded: Vec<_> = wd.audit(out).into_iter().filter(|r| r["outcome"] == "excluded").collect();
        assert_eq!(excluded.len(), 1, "{flag}");
    }
}

#[test]
fn rv12_02_verify_finds_an_excluded_id_without_its_zero_padding_or_full_width() {
    let wd = Workdir::new("rv12_02_verify_finds_an_excluded_id_without_its_zero_padding_or_full_width");
    let k = key(&wd, "k.key", 42);
    let ks = k.to_str().unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nnote = \"keep\"\n").unwrap();
    std::fs::write(wd.path("optout.txt"), "0001234567\n").unwrap();
    for (n, note) in ["referred from 1234567", "referred from １２３４５６７"].iter().enumerate() {
        let dir = format!("in{n}");
        std::fs::create_dir_all(wd.path(&dir)).unwrap();
        std::fs::write(wd.path(&format!("{dir}/labs.csv")), format!("patient_id,note\n7654321,{note}\n")).unwrap();
        let out = format!("release{n}/csv");
        wd.kamei(["clinical", "csv", &dir, "-o", &out, "--key", ks, "--columns", "cols.toml", "-q"]).assert_code(0);
        let rel = format!("release{n}");
        let run = wd.kamei(["verify", &rel, "--exclude-patients", "optout.txt", "--key", ks]);
        run.assert_code(1);
        assert!(run.stdout().contains("original ID of an excluded patient"), "{}", run.stdout());
        assert!(!run.stdout().contains("1234567") && !run.stderr().contains("1234567"));
    }
}

#[test]
fn rv12_registers_that_are_not_one_id_per_line_are_refused_without_their_values() {
    let wd = Workdir::new("rv12_registers_that_are_not_one_id_per_line_are_refused_without_their_values");
    archive(&wd);
    let k = key(&wd, "k.key", 43);
    let ks = k.to_str().unwrap();
    let bad = [
        ("semicolon-unknown.csv", "番号;氏名\n2345678901;Yamada\n", "line 1"),
        ("name-after-id.txt", "1234567890\n2345678901 Yamada\n", "line 2"),
        ("comma-later.txt", "1234567890\n2345678901,Yamada\n", "line 2"),
        ("scientific.txt", "1234567890\n2.34568E+09\n", "line 2"),
    ];
    for (file, text, line) in bad {
        std::fs::write(wd.path(file), text).unwrap();
        for flag in ["--exclude-patients", "--include-patients"] {
            let run = wd.kamei(["deid", "dicom", "-o", "out", "--key", ks, flag, file]);
            run.assert_code(2);
            assert!(run.stderr().contains(line), "{file}: {}", run.stderr());
            assert!(!run.stderr().contains("2345678901") && !run.stderr().contains("Yamada"), "{}", run.stderr());
        }
        let columns = fx("columns.example.toml");
        let labs = fx("labs.csv");
        let csv = ["clinical", "csv", &labs, "-o", "csv", "--key", ks, "--columns", &columns];
        wd.kamei(csv.iter().copied().chain(["--exclude-patients", file])).assert_code(2);
        let root = fx("ss-mix2");
        let ss = ["clinical", "ss-mix2", &root, "-o", "ss", "--key", ks, "--exclude-patients", file];
        wd.kamei(ss).assert_code(2);
        assert!(!wd.path("out").exists() && !wd.path("csv").exists() && !wd.path("ss").exists());
    }
    // What a hospital's spreadsheet writes is read: an inline comment, Excel's ="..." cells, a
    // semicolon CSV with a known header.
    let good = [
        ("comment.txt", "2345678901 # Yamada, asked 2026-11-02\n"),
        ("excel.txt", "=\"2345678901\"\n"),
        ("semicolon.csv", "patient_id;name\n2345678901;Yamada\n;\n"),
    ];
    for (file, text) in good {
        std::fs::write(wd.path(file), text).unwrap();
        let out = format!("out-{file}");
        let run = wd.kamei(["deid", "dicom", "-o", &out, "--key", ks, "--exclude-patients", file]);
        run.assert_code(0);
        assert!(run.stderr().contains("2 inputs of 1 patients left out"), "{file}: {}", run.stderr());
    }
}

#[test]
fn rv12_an_empty_cohort_is_refused() {
    let wd = Workdir::new("rv12_an_empty_cohort_is_refused");
    archive(&wd);
    let k = key(&wd, "k.key", 44);
    std::fs::write(wd.path("empty.csv"), "patient_id\n\n# nobody yet\n").unwrap();
    let run = wd.kamei(["deid", "dicom", "-o", "out", "--key", k.to_str().unwrap(), "--include-patients", "empty.csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("lists no patient ID"), "{}", run.stderr());
    assert!(!wd.path("out").exists());
}

#[test]
fn rv12_verify_key_without_a_register_checks_the_key() {
    let wd = Workdir::new("rv12_verify_key_without_a_register_checks_the_key");
    archive(&wd);
    let k = key(&wd, "k.key", 45);
    let other = key(&wd, "other.key", 46);
    let ks = k.to_str().unwrap();
    wd.kamei(["deid", "dicom", "-o", "out", "--key", ks, "-q"]).assert_code(0);
    wd.kamei(["verify", "out", "--key", ks]).assert_code(0);
    let run = wd.kamei(["verify", "out", "--key", other.to_str().unwrap()]);
    run.assert_code(2);
    assert!(run.stderr().contains("not the key"), "{}", run.stderr());
}

#[test]
fn verify_finds_an_opted_out_number_whatever_leading_zeros_the_register_or_the_release_writes() {
    for (listed, archived) in [("12345", "0012345"), ("0012345", "12345")] {
        let wd = Workdir::new(&format!("verify_finds_an_opted_out_number_{listed}"));
        let study = "1.2.826.0.1.3680043.8.498.63";
        Fixture::ct(archived, study, &format!("{study}.1"), &format!("{study}.1.1")).write(&wd.path("dicom/a.dcm"));
        let k = key(&wd, "k.key", 25);
        let ks = k.to_str().unwrap();
        // A release made before the patient opted out.
        wd.kamei(["deid", "dicom", "-o", "release/images", "--key", ks, "-q"]).assert_code(0);
        std::fs::write(wd.path("release/notes.txt"), format!("checked: {archived}\n")).unwrap();
        std::fs::write(wd.path("optout.txt"), format!("{listed}\n")).unwrap();
        let cohort = Cohort::new(Some(Register::load(&wd.path("optout.txt")).unwrap()), None, None);
        assert!(cohort.admit(Some(archived), None).is_excluded(), "deid would leave {archived} out");
        let run = wd.kamei(["verify", "release", "--exclude-patients", "optout.txt", "--key", ks]);
        run.assert_code(1);
        let out = run.stdout();
        assert!(out.lines().any(|l| l.contains("pseudonym of an excluded patient")), "{listed}/{archived}: {out}");
        assert!(
            out.lines().any(|l| l.starts_with("notes.txt") && l.contains("original ID of an excluded patient")),
            "{listed}/{archived}: {out}"
        );
    }
}

#[test]
fn rv17_suspect_11_ssmix2_leaves_out_a_merge_message_whose_mrg4_names_a_left_out_patient() {
    let wd = Workdir::new("rv17_suspect_11_ssmix2_leaves_out_a_merge_message_whose_mrg4_names_a_left_out_patient");
    put_adt_with(&wd, "9999999", "9999999^^^^PI", "MRG||||1234568^^^^PI\r");
    put_adt(&wd, "7777777", "7777777^^^^PI");
    std::fs::write(wd.path("optout.txt"), "1234568\n").unwrap();
    let k = key(&wd, "k.key", 45);
    let run = wd.kamei([
        "clinical",
        "ss-mix2",
        "root",
        "-o",
        "out",
        "--key",
        k.to_str().unwrap(),
        "--exclude-patients",
        "optout.txt",
    ]);
    run.assert_code(0);
    let written: Vec<_> = wd.files("out").into_iter().filter(|p| !p.to_string_lossy().contains("kamei-")).collect();
    assert_eq!(written.len(), 1, "only 7777777's message: {written:?}");
    assert!(written[0].to_string_lossy().contains(&pseudonym(&k, "7777777")));
}

#[test]
fn rv17_suspect_9_csv_a_file_name_holding_an_opted_out_id_that_no_row_gives_fails() {
    let wd = Workdir::new("rv17_suspect_9_csv_a_file_name_holding_an_opted_out_id_that_no_row_gives_fails");
    let k = key(&wd, "k.key", 46);
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nnote = \"keep\"\n").unwrap();
    std::fs::write(wd.path("optout.txt"), "1234567\n").unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/labs_1234567_x.csv"), "patient_id,note\n7654321,ok\n").unwrap();
    std::fs::write(wd.path("in/labs_7654321.csv"), "patient_id,note\n7654321,ok\n").unwrap();
    let ks = k.to_str().unwrap();
    let run = wd.kamei([
        "clinical",
        "csv",
        "in",
        "-o",
        "out",
        "--key",
        ks,
        "--columns",
        "cols.toml",
        "--exclude-patients",
        "optout.txt",
    ]);
    run.assert_code(1);
    let names: Vec<String> =
        wd.files("out").iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.contains("1234567")), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("labs_") && n.ends_with(".csv")),
        "the other file is written: {names:?}"
    );
    assert!(!run.stderr().contains("1234567"), "{}", run.stderr());
}

/// A second SS-MIX2 message of folder `folder`: an OML-11 whose NTE-3 is `note`.
fn put_lab_note(wd: &Workdir, folder: &str, note: &str) {
    let dir = wd.path(&format!("root/{}/{}/{folder}/20240402/OML-11", &folder[..3], &folder[3..6]));
    std::fs::create_dir_all(&dir).unwrap();
    let msg = format!(
        "MSH|^~\\&|HIS|HOSP|SSMIX2|HOSP|20240402143000||OML^O33^OML_O33|C1|P|2.5||||||~ISO IR87||ISO 2022-1994\rPID|0001||{folder}^^^^PI||YAMADA^TARO^^^^^L^A||19850315|M\rNTE|1||{note}\r"
    );
    std::fs::write(dir.join(format!("{folder}_20240402_OML-11_000000000012346_20240402143000000_01_1")), msg).unwrap();
}

#[test]
fn ssmix2_leaves_out_every_message_of_both_records_of_a_merge_when_either_id_opted_out() {
    // rv22 suspect 1: the merge says the old and the surviving ID are one person; only the
    // ADT^A40 carrying the MRG was left out, the rest of the surviving folder (labs, a note
    // quoting the old ID) was released.
    let wd = Workdir::new("ssmix2_leaves_out_every_message_of_both_records_of_a_merge_when_either_id_opted_out");
    put_adt_with(&wd, "1234567890", "1234567890^^^^PI", "MRG|7777777^^^^PI||||||YAMADA^JIRO\r");
    put_lab_note(&wd, "1234567890", "old record 7777777");
    put_lab_note(&wd, "7777777", "before the merge");
    put_lab_note(&wd, "2345678901", "another patient");
    let k = key(&wd, "k.key", 47);
    let ks = k.to_str().unwrap();
    for listed in ["7777777", "1234567890"] {
        let register = format!("optout-{listed}.txt");
        std::fs::write(wd.path(&register), format!("{listed}\n")).unwrap();
        let out = format!("out-{listed}");
        let link = format!("{out}.csv");
        let run = wd.kamei([
            "clinical",
            "ss-mix2",
            "root",
            "-o",
            &out,
            "--key",
            ks,
            "--exclude-patients",
            &register,
            "--linkage",
            &link,
        ]);
        run.assert_code(0);
        let written: Vec<_> = wd.files(&out).into_iter().filter(|p| !p.to_string_lossy().contains("kamei-")).collect();
        assert_eq!(written.len(), 1, "{listed}: only 2345678901's message: {written:?}");
        assert!(written[0].to_string_lossy().contains(&pseudonym(&k, "2345678901")));
        for id in ["1234567890", "7777777"] {
            assert_eq!(wd.tree_contains(&out, pseudonym(&k, id).as_bytes()), None, "{listed}: {id}");
        }
        let excluded: Vec<_> = wd.audit(&out).into_iter().filter(|r| r["outcome"] == "excluded").collect();
        assert_eq!(excluded.len(), 3, "{listed}");
        assert!(excluded.iter().all(|r| !r.to_string().contains("7777777")));
        let table = std::fs::read_to_string(wd.path(&link)).unwrap();
        assert_eq!(table.lines().filter(|l| l.starts_with("excluded,")).count(), 3, "{table}");
        assert!(run.stderr().contains("2 patient folders (3 files) left out"), "{}", run.stderr());
    }
}

#[test]
fn a_zero_width_space_in_a_patient_id_changes_neither_the_pseudonym_nor_the_opt_out() {
    // rv22 suspect 6: copied from a web-based record screen, `="0001234567"` followed by a
    // zero-width space was not read as Excel's text formula: another pseudonym, no opt-out.
    let wd = Workdir::new("a_zero_width_space_in_a_patient_id_changes_neither_the_pseudonym_nor_the_opt_out");
    let k = key(&wd, "k.key", 48);
    let ks = k.to_str().unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nnote = \"free-text\"\n").unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(
        wd.path("in/a.csv"),
        "pid,note\n=\"0001234567\"\u{200B},a\n\u{FEFF}0001234567\u{2060},b\n0001234567\u{200C},ID 1234567\n7654321,c\n",
    )
    .unwrap();
    wd.kamei(["clinical", "csv", "in", "-o", "out", "--key", ks, "--columns", "cols.toml", "-q"]).assert_code(0);
    let out = std::fs::read_to_string(wd.path("out/a.csv")).unwrap();
    let expected = pseudonym(&k, "0001234567");
    assert_eq!(out.lines().filter(|l| l.starts_with(&format!("{expected},"))).count(), 3, "{out}");
    assert!(out.contains(&format!("{expected},ID ***")), "{out}");
    // The images agree: a Patient ID with a zero-width space gets the same pseudonym.
    let study = "1.2.826.0.1.3680043.8.498.64";
    Fixture::ct("0001234567\u{200B}", study, &format!("{study}.1"), &format!("{study}.1.1"))
        .put(str_el(dicom_dictionary_std::tags::SPECIFIC_CHARACTER_SET, dicom_core::VR::CS, "ISO_IR 192"))
        .write(&wd.path("dicom/a.dcm"));
    wd.kamei(["deid", "dicom", "-o", "images", "--key", ks, "-q"]).assert_code(0);
    let image = wd.dicom_outputs("images").pop().unwrap();
    assert_eq!(text(&open(&image), dicom_dictionary_std::tags::PATIENT_ID).unwrap(), expected);
    // The opt-out register leaves every spelling out.
    std::fs::write(wd.path("optout.txt"), "1234567\n").unwrap();
    let run = wd.kamei([
        "clinical",
        "csv",
        "in",
        "-o",
        "out-x",
        "--key",
        ks,
        "--columns",
        "cols.toml",
        "--exclude-patients",
        "optout.txt",
    ]);
    run.assert_code(0);
    let out = std::fs::read_to_string(wd.path("out-x/a.csv")).unwrap();
    assert_eq!(out.lines().count(), 2, "only 7654321's row: {out}");
    assert!(run.stderr().contains("3 rows of 1 patients left out"), "{}", run.stderr());
}

/// Images of one patient whose ID is written in `id_bytes` under each of `charsets` (empty:
/// no (0008,0005)), and an opt-out register listing `listed`.
fn one_patient_in_charsets(wd: &Workdir, id_bytes: &[&[u8]], charsets: &[&[u8]], listed: &str) {
    use dicom_core::VR;
    use dicom_dictionary_std::tags;
    let study = "1.2.826.0.1.3680043.8.498.82";
    let mut n = 0;
    for id in id_bytes {
        for charset in charsets {
            let sop = format!("{study}.1.{n}");
            let mut f = Fixture::ct("", study, &format!("{study}.1"), &sop).put(raw_el(tags::PATIENT_ID, VR::LO, id));
            f = if charset.is_empty() {
                f.remove(tags::SPECIFIC_CHARACTER_SET)
            } else {
                f.put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, charset))
            };
            f.write(&wd.path(&format!("dicom/{n}.dcm")));
            n += 1;
        }
    }
    std::fs::write(wd.path("optout.txt"), format!("{listed}\n")).unwrap();
}

/// Each image's Patient ID after `deid dicom -o OUT`, and the run's audit notes.
fn image_ids(wd: &Workdir, out: &str) -> Vec<String> {
    wd.dicom_outputs(out).iter().map(|p| text(&open(p), dicom_dictionary_std::tags::PATIENT_ID).unwrap()).collect()
}

#[test]
fn rv26_01_a_utf8_patient_id_under_latin1_or_no_charset_is_the_same_patient_and_opted_out() {
    let wd = Workdir::new("rv26_01_a_utf8_patient_id_under_latin1_or_no_charset_is_the_same_patient_and_opted_out");
    let utf8 = "１２３４５６７ ".as_bytes();
    one_patient_in_charsets(&wd, &[utf8], &[b"", b"ISO_IR 100", b"ISO_IR 6 "], "1234567");
    let k = key(&wd, "k.key", 33);
    let ks = k.to_str().unwrap();
    wd.kamei(["deid", "dicom", "-o", "images", "--key", ks, "-q"]).assert_code(0);
    let ids = image_ids(&wd, "images");
    assert_eq!(ids, vec![pseudonym(&k, "1234567"); 3]);
    let notes: Vec<String> = wd
        .audit("images")
        .iter()
        .flat_map(|r| r["notes"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    assert_eq!(
        notes.iter().filter(|n| n.contains("(0010,0020)") && n.contains("read as UTF-8")).count(),
        3,
        "{notes:?}"
    );
    wd.kamei(["deid", "dicom", "-o", "left-out", "--key", ks, "-q", "--exclude-patients", "optout.txt"]).assert_code(0);
    assert!(wd.dicom_outputs("left-out").is_empty());
}

#[test]
fn rv26_03_a_patient_id_with_a_jis_hyphen_is_one_patient_in_every_encoding() {
    let wd = Workdir::new("rv26_03_a_patient_id_with_a_jis_hyphen_is_one_patient_in_every_encoding");
    // ２０２４－０００１２３: JIS X 0208 row 1 cell 61 is U+2212 through the JIS table, U+FF0D
    // through CP932 and UTF-8.
    let jis: &[u8] = b"\x1b$B#2#0#2#4!]#0#0#0#1#2#3\x1b(B";
    one_patient_in_charsets(&wd, &[jis], &[b"\\ISO 2022 IR 87"], "2024-000123");
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("２０２４－０００１２３");
    Fixture::ct(
        "2024-000123",
        "1.2.826.0.1.3680043.8.498.83",
        "1.2.826.0.1.3680043.8.498.83.1",
        "1.2.826.0.1.3680043.8.498.83.1.1",
    )
    .write(&wd.path("dicom/ascii.dcm"));
    Fixture::ct(
        "",
        "1.2.826.0.1.3680043.8.498.84",
        "1.2.826.0.1.3680043.8.498.84.1",
        "1.2.826.0.1.3680043.8.498.84.1.1",
    )
    .put(raw_el(dicom_dictionary_std::tags::PATIENT_ID, dicom_core::VR::LO, &sjis))
    .write(&wd.path("dicom/sjis.dcm"));
    let k = key(&wd, "k.key", 34);
    let ks = k.to_str().unwrap();
    wd.kamei(["deid", "dicom", "-o", "images", "--key", ks, "-q"]).assert_code(0);
    assert_eq!(image_ids(&wd, "images"), vec![pseudonym(&k, "2024-000123"); 3]);
    wd.kamei(["deid", "dicom", "-o", "left-out", "--key", ks, "-q", "--exclude-patients", "optout.txt"]).assert_code(0);
    assert!(wd.dicom_outputs("left-out").is_empty());
}

#[test]
fn deid_leaves_out_an_image_whose_other_patient_ids_name_an_opted_out_patient() {
    // The same person under two IDs (a merged record, another system's number): the opt-out of
    // either is the person's. (0010,1000) Other Patient IDs and each item of (0010,1002) Other
    // Patient IDs Sequence name the patient's other IDs.
    use dicom_dictionary_std::tags;
    let wd = Workdir::new("deid_leaves_out_an_image_whose_other_patient_ids_name_an_opted_out_patient");
    let image = |id: &str, n: u32| {
        let study = format!("1.2.826.0.1.3680043.8.498.27{n}");
        Fixture::ct(id, &study, &format!("{study}.1"), &format!("{study}.1.1"))
    };
    image("7777777", 1)
        .put(str_el(dicom_core::Tag(0x0010, 0x1000), dicom_core::VR::LO, &format!("X-1\\{P2_OPTED_OUT}")))
        .write(&wd.path("dicom/element.dcm"));
    image("7777778", 2)
        .put(seq_el(
            tags::OTHER_PATIENT_I_DS_SEQUENCE,
            vec![item(vec![
                str_el(tags::PATIENT_ID, dicom_core::VR::LO, &format!("\u{FF12}{}", &P2_OPTED_OUT[1..])),
                str_el(tags::ISSUER_OF_PATIENT_ID, dicom_core::VR::LO, "HOSP_B"),
            ])],
        ))
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, dicom_core::VR::CS, "ISO_IR 192"))
        .write(&wd.path("dicom/sequence.dcm"));
    image("7777779", 3)
        .put(str_el(dicom_core::Tag(0x0010, 0x1000), dicom_core::VR::LO, "X-2"))
        .write(&wd.path("dicom/other.dcm"));
    std::fs::write(wd.path("exclude.txt"), format!("{P2_OPTED_OUT}\n")).unwrap();
    std::fs::write(wd.path("include.txt"), "7777777\n7777778\n7777779\n").unwrap();
    let k = key(&wd, "k.key", 27);
    let ks = k.to_str().unwrap();
    let run = wd.kamei(["deid", "dicom", "-o", "out", "--key", ks, "--exclude-patients", "exclude.txt"]);
    run.assert_code(0);
    let outputs = wd.dicom_outputs("out");
    assert_eq!(outputs.len(), 1, "only the image without an opted-out ID: {outputs:?}");
    assert_eq!(text(&open(&outputs[0]), tags::PATIENT_ID).unwrap(), pseudonym(&k, "7777779"));
    let excluded: Vec<_> = wd.audit("out").into_iter().filter(|r| r["outcome"] == "excluded").collect();
    assert_eq!(excluded.len(), 2);
    assert!(excluded.iter().all(|r| r["reason"].as_str().unwrap().contains("opted out")), "{excluded:?}");
    assert!(excluded.iter().all(|r| !r.to_string().contains(P2_OPTED_OUT)));
    // The cohort is decided by the Patient ID: other IDs (another issuer's numbers) need not
    // be listed.
    let run = wd.kamei(["deid", "dicom", "-o", "cohort", "--key", ks, "--include-patients", "include.txt"]);
    run.assert_code(0);
    assert_eq!(wd.dicom_outputs("cohort").len(), 3);
}

/// An opted-out patient `1111111`, whose record was merged (ADT^A40, MRG) into `2222222`, and an
/// unrelated `3333333`, in SS-MIX2 under `root`; a CSV of all three in `labs.csv`; the register
/// `optout.txt`. Runs `clinical ss-mix2 --exclude-patients` with the linkage table `link.csv`
/// (key 45), and returns the run.
fn merged_opt_out_release(wd: &Workdir) -> Run {
    put_adt(wd, "1111111", "1111111^^^^PI");
    put_adt_with(wd, "2222222", "2222222^^^^PI", "MRG|1111111^^^^PI\r");
    put_adt(wd, "3333333", "3333333^^^^PI");
    std::fs::write(
        wd.path("labs.csv"),
        "pid,d,value\n1111111,2024-01-02,1.0\n2222222,2024-01-05,2.0\n3333333,2024-01-06,3.0\n",
    )
    .unwrap();
    std::fs::write(wd.path("col.toml"), "[columns]\npid = \"patient-id\"\nd = \"date\"\nvalue = \"keep\"\n").unwrap();
    std::fs::write(wd.path("optout.txt"), "1111111\n").unwrap();
    let k = key(wd, "k.key", 45);
    let ks = k.to_str().unwrap();
    let args = ["clinical", "ss-mix2", "root", "-o", "rel/ss", "--key", ks, "--exclude-patients", "optout.txt"];
    wd.kamei(args.iter().copied().chain(["--linkage", "link.csv"]))
}

#[test]
fn rv35_03_ssmix2_names_the_ids_it_left_out_by_a_merge_in_the_linkage_table_and_warns_without_them() {
    let wd = Workdir::new("rv35_03_ssmix2_names_the_ids_it_left_out_by_a_merge_in_the_linkage_table");
    let run = merged_opt_out_release(&wd);
    run.assert_code(0);
    let table = std::fs::read_to_string(wd.path("link.csv")).unwrap();
    assert!(table.lines().any(|l| l == "merged,2222222,1111111"), "{table}");
    assert!(run.stderr().contains("1 patient ID(s) not in the opt-out register were left out"), "{}", run.stderr());
    assert!(!run.stderr().contains("2222222") && !run.stderr().contains("1111111"), "{}", run.stderr());
}

#[test]
fn rv35_03_clinical_csv_with_the_shared_linkage_table_leaves_out_a_merged_opted_out_person() {
    let wd = Workdir::new("rv35_03_clinical_csv_with_the_shared_linkage_table_leaves_out_a_merged_opted_out_person");
    merged_opt_out_release(&wd).assert_code(0);
    let k = wd.path("k.key");
    let ks = k.to_str().unwrap();
    let args = ["clinical", "csv", "labs.csv", "-o", "rel/csv", "--key", ks, "--columns", "col.toml"];
    let run = wd.kamei(args.iter().copied().chain(["--exclude-patients", "optout.txt", "--linkage", "link.csv"]));
    run.assert_code(0);
    let out = std::fs::read_to_string(wd.path("rel/csv/labs.csv")).unwrap();
    assert!(!out.contains(&pseudonym(&k, "2222222")), "{out}");
    assert!(!out.contains(&pseudonym(&k, "1111111")), "{out}");
    assert!(out.contains(&pseudonym(&k, "3333333")), "{out}");
}

#[test]
fn rv35_03_deid_with_the_shared_linkage_table_leaves_out_a_merged_opted_out_person() {
    let wd = Workdir::new("rv35_03_deid_with_the_shared_linkage_table_leaves_out_a_merged_opted_out_person");
    merged_opt_out_release(&wd).assert_code(0);
    for (n, id) in ["2222222", "3333333"].iter().enumerate() {
        let study = format!("1.2.826.0.1.3680043.8.498.953{n}");
        Fixture::ct(id, &study, &format!("{study}.1"), &format!("{study}.1.1"))
            .write(&wd.path(&format!("dicom/{n}.dcm")));
    }
    let k = wd.path("k.key");
    let args = ["deid", "dicom", "-o", "rel/images", "--key", k.to_str().unwrap(), "--exclude-patients", "optout.txt"];
    wd.kamei(args.iter().copied().chain(["--linkage", "link.csv", "-q"])).assert_code(0);
    let outputs = wd.dicom_outputs("rel/images");
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!(text(&open(&outputs[0]), dicom_dictionary_std::tags::PATIENT_ID), Some(pseudonym(&k, "3333333")));
}

#[test]
fn rv35_03_verify_with_the_linkage_table_finds_a_merged_opted_out_persons_pseudonym() {
    let wd = Workdir::new("rv35_03_verify_with_the_linkage_table_finds_a_merged_opted_out_persons_pseudonym");
    merged_opt_out_release(&wd).assert_code(0);
    let k = wd.path("k.key");
    let ks = k.to_str().unwrap();
    // A CSV made without the table releases the surviving record's row.
    let args = ["clinical", "csv", "labs.csv", "-o", "rel/csv", "--key", ks, "--columns", "col.toml", "-q"];
    wd.kamei(args.iter().copied().chain(["--exclude-patients", "optout.txt"])).assert_code(0);
    let verify = ["verify", "rel", "--exclude-patients", "optout.txt", "--key", ks];
    let run = wd.kamei(verify.iter().copied().chain(["--linkage", "link.csv"]));
    run.assert_code(1);
    assert!(run.stdout().contains("pseudonym of an excluded patient"), "{}", run.stdout());
}

/// rv34 02: a release made before the opt-out holds an image whose Patient ID holds several
/// values, one of them the listed patient's (`A\B`, a merged record), and one whose Other
/// Patient IDs name the listed patient. `deid --exclude-patients` leaves both out; `verify
/// --exclude-patients` asks the same question (`Cohort::admit_image`) of the patients the inputs
/// (`--against`) and the linkage table name, and reports both files; the image of another
/// patient is not reported.
#[test]
fn rv34_02_verify_finds_the_images_deid_leaves_out_for_a_multi_valued_or_other_id() {
    let wd = Workdir::new("rv34_02_verify_finds_the_images_deid_leaves_out_for_a_multi_valued_or_other_id");
    let image = |id: &str, n: u32| {
        let study = format!("1.2.826.0.1.3680043.8.498.34{n}");
        Fixture::ct(id, &study, &format!("{study}.1"), &format!("{study}.1.1"))
    };
    let merged = format!("{IMAGES_ONLY}\\{P2_OPTED_OUT}");
    image(&merged, 1).write(&wd.path("dicom/merged.dcm"));
    image("7777777", 2)
        .put(str_el(dicom_core::Tag(0x0010, 0x1000), dicom_core::VR::LO, P2_OPTED_OUT))
        .write(&wd.path("dicom/other.dcm"));
    image(P1, 3).write(&wd.path("dicom/plain.dcm"));
    let k = key(&wd, "k.key", 34);
    let ks = k.to_str().unwrap();
    // Delivered before the opt-out.
    wd.kamei(["deid", "dicom", "-o", "release", "--key", ks, "--linkage", "link.csv", "-q"]).assert_code(0);
    std::fs::write(wd.path("exclude.txt"), format!("{P2_OPTED_OUT}\n")).unwrap();
    // deid with the register leaves both out.
    wd.kamei(["deid", "dicom", "-o", "now", "--key", ks, "--exclude-patients", "exclude.txt", "-q"]).assert_code(0);
    assert_eq!(wd.dicom_outputs("now").len(), 1);
    let verify = |more: &[&str]| {
        let mut args =
            vec!["verify", "release", "--exclude-patients", "exclude.txt", "--key", ks, "--report", "r.json"];
        args.extend(more);
        wd.kamei(&args)
    };
    // The pseudonyms matched as an excluded patient's (from the sensitive --report file: the
    // findings printed mask the folder names that hold them).
    let matched = || -> Vec<String> {
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(wd.path("r.json")).unwrap()).unwrap();
        let mut found: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["detail"].as_str().unwrap_or_default().contains("pseudonym of an excluded patient"))
            .filter_map(|f| f["matched"].as_str().map(str::to_string))
            .collect();
        found.sort();
        found.dedup();
        found
    };
    // With the inputs: both images, under the pseudonyms of their own Patient IDs.
    let run = verify(&["--against", "dicom"]);
    run.assert_code(1);
    let mut expected: Vec<String> =
        [pseudonym(&k, &merged), pseudonym(&k, "7777777")].iter().map(|p| kamei::verify::normalize(p)).collect();
    expected.sort();
    assert_eq!(matched(), expected, "{}", run.stdout());
    assert!(!run.stdout().contains(&pseudonym(&k, P1)), "{}", run.stdout());
    assert!(!matched().contains(&kamei::verify::normalize(&pseudonym(&k, P1))));
    // With the linkage table only: the multi-valued Patient ID (the table has no Other IDs),
    // and a note says what cannot be checked.
    let run = verify(&["--linkage", "link.csv"]);
    run.assert_code(1);
    assert_eq!(matched(), vec![kamei::verify::normalize(&pseudonym(&k, &merged))], "{}", run.stdout());
    assert!(run.stderr().contains("Other Patient IDs"), "{}", run.stderr());
    // Messages never print the IDs.
    for run in [verify(&["--against", "dicom"]), verify(&["--linkage", "link.csv"])] {
        assert!(!run.stderr().contains(P2_OPTED_OUT) && !run.stderr().contains(IMAGES_ONLY), "{}", run.stderr());
    }
}
