//! rv29: instance UIDs kamei must map whatever they look like: under the standard's own root
//! `1.2.840.10008.` (built from a SOP Class UID) and UUID-derived `2.25.<decimal>` UIDs, which
//! have three components only.

use crate::util::*;
use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;

/// Instance UIDs built by appending the acquisition date, time and Patient ID digits to the CT
/// Image Storage SOP Class UID, as some tools do.
const ROOTED_STUDY: &str = "1.2.840.10008.5.1.4.1.1.2.20240102.101500";
const ROOTED_SERIES: &str = "1.2.840.10008.5.1.4.1.1.2.20240102.101500.1";
const ROOTED_SOP: &str = "1.2.840.10008.5.1.4.1.1.2.20240102.101500.7788123";

/// UUID-derived UIDs (PS3.5 B.2).
const UUID_STUDY: &str = "2.25.112233445566778899001122334455667788";
const UUID_SERIES: &str = "2.25.998877665544332211009988776655443322";
const UUID_SOP: &str = "2.25.329800735698586629295641978511506172918";

fn uuid_ct() -> Fixture {
    Fixture::ct(CANARY_ID, UUID_STUDY, UUID_SERIES, UUID_SOP)
}

#[test]
fn an_instance_uid_under_the_standards_root_is_mapped_in_contents_meta_and_path() {
    let wd = Workdir::new("an_instance_uid_under_the_standards_root_is_mapped_in_contents_meta_and_path");
    Fixture::ct(CANARY_ID, ROOTED_STUDY, ROOTED_SERIES, ROOTED_SOP).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let obj = open(&out);
    let p = pseudonymizer(7);
    assert_eq!(text(&obj, tags::SOP_INSTANCE_UID), Some(p.uid(ROOTED_SOP)));
    assert_eq!(text(&obj, tags::STUDY_INSTANCE_UID), Some(p.uid(ROOTED_STUDY)));
    assert_eq!(text(&obj, tags::FRAME_OF_REFERENCE_UID), Some(p.uid(&format!("{ROOTED_STUDY}.9"))));
    assert_eq!(obj.meta().media_storage_sop_instance_uid().trim_end_matches('\0'), p.uid(ROOTED_SOP));
    assert_eq!(text(&obj, tags::SOP_CLASS_UID).as_deref(), Some("1.2.840.10008.5.1.4.1.1.2"), "the class stays");
    // The Patient ID digits and acquisition date the UIDs hold go nowhere: contents, names.
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &["20240102.101500", "7788123"]].concat());
}

#[test]
fn the_standards_well_known_uids_stay_in_instance_uid_attributes() {
    let wd = Workdir::new("the_standards_well_known_uids_stay_in_instance_uid_attributes");
    // A Talairach atlas frame of reference and the Hot Iron palette instance are registered
    // (PS3.6 Table ): the same for every patient.
    uuid_ct()
        .put(str_el(tags::FRAME_OF_REFERENCE_UID, VR::UI, "1.2.840.10008.1.4.1.1"))
        .put(str_el(tags::PALETTE_COLOR_LOOKUP_TABLE_UID, VR::UI, "1.2.840.10008.1.5.1"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, tags::FRAME_OF_REFERENCE_UID).as_deref(), Some("1.2.840.10008.1.4.1.1"));
    assert_eq!(text(&obj, tags::PALETTE_COLOR_LOOKUP_TABLE_UID).as_deref(), Some("1.2.840.10008.1.5.1"));
}

#[test]
fn verify_finds_an_instance_uid_under_the_standards_root_left_in_a_release() {
    let wd = Workdir::new("verify_finds_an_instance_uid_under_the_standards_root_left_in_a_release");
    Fixture::ct(CANARY_ID, ROOTED_STUDY, ROOTED_SERIES, ROOTED_SOP).write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    // Put the original back, as a release made by a tool that kept it would have it.
    let out = wd.only_output("out");
    let mut obj = open(&out);
    obj.put(str_el(tags::STUDY_INSTANCE_UID, VR::UI, ROOTED_STUDY));
    obj.write_to_file(&out).unwrap();
    let run = wd.kamei(["verify", "out", "--against", "in"]);
    run.assert_code(1);
    assert!(run.stdout().contains("(0020,000D)"), "{}", run.stdout());
    assert!(!run.stdout().contains(ROOTED_STUDY), "findings never print the value");
}

#[test]
fn a_uuid_derived_uid_written_in_cleaned_text_is_mapped() {
    let wd = Workdir::new("a_uuid_derived_uid_written_in_cleaned_text_is_mapped");
    uuid_ct()
        .put(str_el(tags::STUDY_DESCRIPTION, VR::LO, &format!("prior {UUID_SOP}")))
        .put(str_el(tags::IMAGE_COMMENTS, VR::LT, &format!("see study {UUID_STUDY}")))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let p = pseudonymizer(7);
    assert_eq!(text(&obj, tags::IMAGE_COMMENTS), Some(format!("see study {}", p.uid(UUID_STUDY))));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[UUID_SOP, UUID_STUDY, UUID_SERIES]].concat());
}

#[test]
fn a_uuid_derived_uid_in_a_kept_private_creators_ui_value_is_mapped() {
    let wd = Workdir::new("a_uuid_derived_uid_in_a_kept_private_creators_ui_value_is_mapped");
    uuid_ct()
        .put(str_el(Tag(0x0029, 0x0010), VR::LO, "ACME PRIVATE"))
        .put(str_el(Tag(0x0029, 0x1010), VR::UI, UUID_STUDY))
        .write(&wd.path("in/a.dcm"));
    let profile = wd.path("p.toml");
    std::fs::write(&profile, "extends = \"basic\"\nkeep_private_creators = [\"ACME PRIVATE\"]\n").unwrap();
    let run = wd.deid(&["--profile", profile.to_str().unwrap()]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, Tag(0x0029, 0x1010)), Some(pseudonymizer(7).uid(UUID_STUDY)), "the study's new UID");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[UUID_STUDY]].concat());
}

#[test]
fn retain_safe_private_maps_a_uuid_derived_series_uid_like_the_series() {
    let wd = Workdir::new("retain_safe_private_maps_a_uuid_derived_series_uid_like_the_series");
    // NQHeader Analyzed Series UID (0099,xx02), Table E.3.10-1; Version (0099,xx01) stays.
    uuid_ct()
        .put(str_el(Tag(0x0099, 0x0010), VR::LO, "NQHeader"))
        .put(str_el(Tag(0x0099, 0x1001), VR::UI, "2.1"))
        .put(str_el(Tag(0x0099, 0x1002), VR::UI, UUID_SERIES))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-safe-private"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let series = text(&obj, tags::SERIES_INSTANCE_UID);
    assert_eq!(series, Some(pseudonymizer(7).uid(UUID_SERIES)));
    assert_eq!(text(&obj, Tag(0x0099, 0x1002)), series, "the reference follows the series");
    assert_eq!(text(&obj, Tag(0x0099, 0x1001)).as_deref(), Some("2.1"), "a version is no UID");
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[UUID_SERIES]].concat());
}

#[test]
fn verify_finds_a_uuid_derived_uid_left_in_text() {
    let wd = Workdir::new("verify_finds_a_uuid_derived_uid_left_in_text");
    uuid_ct().write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    let out = wd.only_output("out");
    let mut obj = open(&out);
    // Position Reference Indicator: unlisted, kept as it is.
    obj.put(str_el(tags::POSITION_REFERENCE_INDICATOR, VR::LO, &format!("prior {UUID_STUDY}")));
    obj.write_to_file(&out).unwrap();
    let run = wd.kamei(["verify", "out", "--against", "in"]);
    run.assert_code(1);
    assert!(run.stdout().contains("(0020,1040)") && run.stdout().contains("original UID"), "{}", run.stdout());
}

#[test]
fn a_uid_joined_to_a_word_in_cleaned_text_is_mapped() {
    // rv29 03: tools name derived series `MPR_from_<series UID>`.
    let wd = Workdir::new("a_uid_joined_to_a_word_in_cleaned_text_is_mapped");
    let study = "1.2.392.200036.9116.2.5.1.37.2418295482.1";
    let series = "1.2.392.200036.9116.2.5.1.37.2418295482.7";
    Fixture::ct(CANARY_ID, study, series, "1.2.392.200036.9116.2.5.1.37.2418295482.9")
        .put(str_el(tags::DERIVATION_DESCRIPTION, VR::ST, &format!("MPR_from_{series}")))
        .put(str_el(tags::IMAGE_COMMENTS, VR::LT, &format!("series_{series}x")))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    let mapped = pseudonymizer(7).uid(series);
    assert_eq!(text(&obj, tags::DERIVATION_DESCRIPTION), Some(format!("MPR_from_{mapped}")));
    assert_eq!(text(&obj, tags::IMAGE_COMMENTS), Some(format!("series_{mapped}x")));
    assert_no_leak(&wd, "out", &run, &[CT_CANARIES, &[series]].concat());
}
