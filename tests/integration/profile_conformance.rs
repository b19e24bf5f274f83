//! `deid`, `profile show` and `verify` agree on what the profile does: a release made with a
//! profile verifies clean against its inputs, `profile show` prints what `deid` did, and a
//! re-run with other settings says which one differs.

use crate::util::*;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.93";
const SERIES: &str = "1.2.826.0.1.3680043.8.498.93.1";

fn ct(n: u32) -> Fixture {
    Fixture::ct(CANARY_ID, STUDY, SERIES, &format!("{SERIES}.{n}"))
}

/// A CT of `MAPLEWOOD GENERAL HOSPITAL` whose local coding scheme names the hospital and its
/// address in unlisted text (Coding Scheme Name and Responsible Organization).
fn naming_its_institution() -> Fixture {
    let scheme = item(vec![
        str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "99LOCAL"),
        str_el(tags::CODING_SCHEME_NAME, VR::ST, "MAPLEWOOD GENERAL HOSPITAL local codes"),
        str_el(tags::CODING_SCHEME_RESPONSIBLE_ORGANIZATION, VR::ST, "maplewood-general-hospital, 7 ELM ROAD"),
    ]);
    ct(1)
        .put(str_el(tags::INSTITUTION_NAME, VR::LO, "MAPLEWOOD GENERAL HOSPITAL"))
        .put(str_el(tags::INSTITUTION_ADDRESS, VR::ST, "7 ELM ROAD"))
        .put(seq_el(tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE, vec![scheme]))
}

/// The Coding Scheme Name and Responsible Organization of the one output's first scheme item.
fn scheme_texts(wd: &Workdir) -> (String, String) {
    let obj = open(&wd.only_output("out"));
    let scheme = &items(&obj, tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE)[0];
    (
        item_text(scheme, tags::CODING_SCHEME_NAME).unwrap(),
        item_text(scheme, tags::CODING_SCHEME_RESPONSIBLE_ORGANIZATION).unwrap(),
    )
}

#[test]
fn a_default_release_naming_its_institution_in_kept_text_verifies_clean() {
    let wd = Workdir::new("a_default_release_naming_its_institution_in_kept_text_verifies_clean");
    naming_its_institution().write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let (name, organization) = scheme_texts(&wd);
    assert_eq!(name, "*** local codes");
    assert_eq!(organization, "***, ***");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["MAPLEWOOD", "ELM ROAD"]].concat());
    let verify = wd.kamei(["verify", "out", "--against", "in"]);
    verify.assert_code(0);
}

#[test]
fn retain_institution_identity_keeps_the_institution_named_in_kept_text() {
    let wd = Workdir::new("retain_institution_identity_keeps_the_institution_named_in_kept_text");
    naming_its_institution().write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "retain-institution-identity"]).assert_code(0);
    let (name, organization) = scheme_texts(&wd);
    assert_eq!(name, "MAPLEWOOD GENERAL HOSPITAL local codes");
    assert_eq!(organization, "maplewood-general-hospital, 7 ELM ROAD");
    let verify = wd.kamei(["verify", "out", "--against", "in", "--option", "retain-institution-identity"]);
    verify.assert_code(0);
}

#[test]
fn a_code_string_cleaned_under_clean_descriptors_loses_the_patients_surname() {
    let wd = Workdir::new("a_code_string_cleaned_under_clean_descriptors_loses_the_patients_surname");
    // The patient's name is CANARY^PATIENT: `canary` is a part of it.
    ct(1).put(str_el(tags::REASON_FOR_THE_ATTRIBUTE_MODIFICATION, VR::CS, "canary")).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::REASON_FOR_THE_ATTRIBUTE_MODIFICATION).as_deref(), Some("ANONYMIZED"));
    let verify = wd.kamei(["verify", "out", "--against", "in", "--option", "clean-descriptors"]);
    verify.assert_code(0);
}

/// A CT with one graphics overlay in group 6000, its comments naming the patient's doctor.
fn with_overlay() -> Fixture {
    let us = |tag: Tag, v: u16| DataElement::new(tag, VR::US, PrimitiveValue::from(v));
    ct(1)
        .put(us(Tag(0x6000, 0x0010), 8))
        .put(us(Tag(0x6000, 0x0011), 8))
        .put(str_el(Tag(0x6000, 0x0040), VR::CS, "G"))
        .put(DataElement::new(Tag(0x6000, 0x0050), VR::SS, PrimitiveValue::I16([1, 1].into_iter().collect())))
        .put(us(Tag(0x6000, 0x0100), 1))
        .put(us(Tag(0x6000, 0x0102), 0))
        .put(raw_el(Tag(0x6000, 0x3000), VR::OW, &[0xFF; 8]))
        .put(str_el(Tag(0x6000, 0x4000), VR::LT, "marked by Dr CANARYDOC"))
}

#[test]
fn profile_show_under_clean_graphics_prints_the_overlay_group_removed_as_deid_removes_it() {
    let wd = Workdir::new("profile_show_under_clean_graphics_prints_the_overlay_group_removed_as_deid_removes_it");
    with_overlay().write(&wd.path("in/a.dcm"));
    let show = wd.kamei(["profile", "show", "--option", "clean-graphics"]);
    show.assert_code(0);
    let out = show.stdout();
    for row in
        ["(60xx,3000)\tX\toption clean-graphics\t", "(60xx,4000)\tX\tstructural\t", "(60xx,eeee)\tX\tstructural\t"]
    {
        assert!(out.lines().any(|l| l.starts_with(row)), "{row:?} in\n{out}");
    }
    let run = wd.deid(&["--option", "clean-graphics"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    for element in [0x0010, 0x0011, 0x0040, 0x0050, 0x0100, 0x0102, 0x3000, 0x4000] {
        assert!(obj.element_opt(Tag(0x6000, element)).unwrap().is_none(), "(6000,{element:04X}) removed");
    }
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

/// Write a user profile into the work folder; its path.
fn user_profile(wd: &Workdir, toml: &str) -> String {
    let p = wd.path("profile.toml");
    std::fs::write(&p, toml).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn a_dummy_on_institution_code_sequence_keeps_the_basic_profile_claim() {
    let wd = Workdir::new("a_dummy_on_institution_code_sequence_keeps_the_basic_profile_claim");
    let code = item(vec![
        str_el(tags::CODE_VALUE, VR::SH, "MGH01"),
        str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "99LOCAL"),
        str_el(tags::CODE_MEANING, VR::LO, "MAPLEWOOD GENERAL HOSPITAL"),
    ]);
    ct(1).put(seq_el(tags::INSTITUTION_CODE_SEQUENCE, vec![code])).write(&wd.path("in/a.dcm"));
    // What kamei does with a present X/Z/D sequence anyway: D.
    let p = user_profile(&wd, "[overrides]\nInstitutionCodeSequence = \"dummy\"\n");
    let check = wd.kamei(["profile", "check", &p]);
    check.assert_code(0);
    assert!(!check.stdout().contains("keep more than"), "{}", check.stdout());
    let run = wd.deid(&["--profile", &p]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert!(method_codes(&obj).iter().any(|c| c == "113100"), "{:?}", method_codes(&obj));
    let code = &items(&obj, tags::INSTITUTION_CODE_SEQUENCE)[0];
    assert_eq!(item_text(code, tags::CODE_MEANING).as_deref(), Some("ANONYMIZED"));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["MAPLEWOOD", "MGH01"]].concat());
}

#[test]
fn a_rerun_with_another_date_shift_names_the_setting_that_differs() {
    let wd = Workdir::new("a_rerun_with_another_date_shift_names_the_setting_that_differs");
    ct(1).write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "retain-long-modified-dates"]).assert_code(0);
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--date-shift-max-days", "30"]);
    run.assert_code(2);
    let err = run.stderr();
    assert!(
        err.contains("--date-shift-max-days") && err.contains("365 days in the earlier run, 30 days in this one"),
        "{err}"
    );
    assert!(!err.contains("profile differs"), "{err}");
    let run = wd.deid(&["--option", "retain-long-modified-dates", "--keep-weekday"]);
    run.assert_code(2);
    assert!(run.stderr().contains("--keep-weekday"), "{}", run.stderr());
}
