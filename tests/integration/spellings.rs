//! Clean of free text finds the patient's identifiers in the spellings people type: an ID with
//! its prefix split off or left out, a name without its accents or with its umlauts spelled out.

use crate::util::*;
use dicom_core::VR;
use dicom_dictionary_std::tags;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.7";

/// A CT of patient `id` named `name`, whose Study, Series and Image Comments hold `texts`,
/// de-identified with Clean Descriptors; the three values as written.
fn cleaned(test: &str, id: &str, name: &str, texts: [&str; 3]) -> (Workdir, Run, [Option<String>; 3]) {
    let wd = Workdir::new(test);
    Fixture::ct(id, STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(tags::PATIENT_NAME, VR::PN, name))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, texts[0]))
        .put(str_el(tags::SERIES_DESCRIPTION, VR::LO, texts[1]))
        .put(str_el(tags::IMAGE_COMMENTS, VR::LT, texts[2]))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let values = [tags::STUDY_DESCRIPTION, tags::SERIES_DESCRIPTION, tags::IMAGE_COMMENTS].map(|t| text(&obj, t));
    (wd, run, values)
}

#[test]
fn an_id_with_its_prefix_split_off_or_left_out_is_cleaned_from_descriptions() {
    let (wd, run, values) = cleaned(
        "an_id_with_its_prefix_split_off_or_left_out_is_cleaned_from_descriptions",
        "PID7788123",
        "ZORBLAX^QUENTIN",
        ["CT PID 7788123", "AX PID-7788123", "old ref 7788123, dose 12345"],
    );
    assert_eq!(values[0].as_deref(), Some("CT ***"));
    assert_eq!(values[1].as_deref(), Some("AX ***"));
    assert_eq!(values[2].as_deref(), Some("old ref ***, dose 12345"), "a short number stays");
    assert_no_leak(&wd, "out", &run, &["7788123"]);
}

#[test]
fn a_name_without_its_accents_or_with_umlauts_spelled_out_is_cleaned_from_descriptions() {
    let (wd, run, values) = cleaned(
        "a_name_without_its_accents_or_with_umlauts_spelled_out_is_cleaned_from_descriptions",
        "PID7788123",
        "MÜLLER^JOSÉ",
        ["CT Muller Jose", "AX MUELLER", "seen by jose, not by Mullerova"],
    );
    assert_eq!(values[0].as_deref(), Some("CT ***"));
    assert_eq!(values[1].as_deref(), Some("AX ***"));
    assert_eq!(values[2].as_deref(), Some("seen by ***, not by Mullerova"), "whole words only");
    assert_no_leak(&wd, "out", &run, &["Muller Jose", "MUELLER", "Jose", "jose"]);
}

#[test]
fn rv17_suspect_1_a_surname_in_its_variant_kanji_is_cleaned_from_descriptions() {
    // The registered name uses `髙` and `﨑` (IBM/NEC extension); the technologist types `高`, `崎`.
    let wd = Workdir::new("rv17_suspect_1_a_surname_in_its_variant_kanji_is_cleaned_from_descriptions");
    Fixture::ct("PID7788123", STUDY, &format!("{STUDY}.1"), &format!("{STUDY}.1.1"))
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::PATIENT_NAME, VR::PN, "Takahashi^Ichiro=髙橋^一郎"))
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, "CT 高橋"))
        .put(str_el(tags::SERIES_DESCRIPTION, VR::LO, "AX 高橋一郎"))
        .put(str_el(tags::IMAGE_COMMENTS, VR::LT, "高橋様 髙橋 高齢"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let values = [tags::STUDY_DESCRIPTION, tags::SERIES_DESCRIPTION, tags::IMAGE_COMMENTS].map(|t| text(&obj, t));
    assert_eq!(values[0].as_deref(), Some("CT ***"));
    assert_eq!(values[1].as_deref(), Some("AX ***"));
    assert_eq!(values[2].as_deref(), Some("***様 *** 高齢"));
    assert_no_leak(&wd, "out", &run, &["高橋", "髙橋"]);
}
