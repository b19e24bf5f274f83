//! rv42: safe private attributes kept under `--option retain-safe-private` (or a kept creator)
//! go through the same safety net whatever their byte order, block, encoding or length, and
//! `deid` and `verify` read their values the same way ([`kamei::kept_reading`]).

use crate::util::*;
use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;

const STUDY: &str = "1.2.392.200036.9116.2.6.1.48.2";
const SERIES: &str = "1.2.392.200036.9116.2.6.1.48.3";
const SOP: &str = "1.2.392.200036.9116.2.6.1.48.1.1";
/// A Patient ID of digits, stored by vendors as the number 12345678.
const DIGIT_ID: &str = "0012345678";
const BIG_ENDIAN: &str = "1.2.840.10008.1.2.2";
const PHILIPS: &str = "Philips Imaging DD 001";
const SC2000: &str = "SIEMENS Ultrasound SC2000";

fn ct() -> Fixture {
    Fixture::ct(DIGIT_ID, STUDY, SERIES, SOP)
}

fn ul(tag: Tag, n: u32) -> DataElement<dicom_object::InMemDicomObject> {
    DataElement::new(tag, VR::UL, PrimitiveValue::from(n))
}

/// A CT with Philips safe private ULs (Table E.3.10-1): Frame Number holding the Patient ID's
/// number, Content Item Identifier the birth date (19700101) as `YYYYMMDD`, Voxel Number 42.
fn with_patient_numbers(f: Fixture) -> Fixture {
    f.put(str_el(Tag(0x2001, 0x0010), VR::LO, PHILIPS))
        .put(ul(Tag(0x2001, 0x107C), 12_345_678))
        .put(ul(Tag(0x2001, 0x10C0), 19_700_101))
        .put(ul(Tag(0x2001, 0x10DF), 42))
}

fn ul_of(path: &std::path::Path, tag: Tag) -> Option<u32> {
    open(path).element_opt(tag).unwrap().map(|e| e.to_int::<u32>().unwrap())
}

#[test]
fn a_private_number_equal_to_the_patient_id_or_birth_date_is_removed_from_a_big_endian_file() {
    let wd = Workdir::new("a_private_number_equal_to_the_patient_id_or_birth_date_is_removed_from_a_big_endian_file");
    with_patient_numbers(ct()).ts(BIG_ENDIAN).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-safe-private"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(open(&out).meta().transfer_syntax().trim_end_matches('\0'), BIG_ENDIAN, "written back as it came");
    assert_eq!(ul_of(&out, Tag(0x2001, 0x10DF)), Some(42), "the harmless safe number is kept, read right");
    assert_eq!(ul_of(&out, Tag(0x2001, 0x107C)), None, "the Patient ID as a number");
    assert_eq!(ul_of(&out, Tag(0x2001, 0x10C0)), None, "the birth date as a number");
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(2001,107C): a kept private number equalled the patient's ID"), "{notes}");
}

#[test]
fn verify_reports_a_kept_private_number_equal_to_the_patient_id_in_either_byte_order() {
    for (name, ts) in [("le", "1.2.840.10008.1.2.1"), ("be", BIG_ENDIAN)] {
        let wd = Workdir::new(&format!("verify_reports_a_kept_private_number_equal_to_the_patient_id_{name}"));
        with_patient_numbers(ct()).ts(ts).write(&wd.path("in/a.dcm"));
        // The profile keeps the attribute on purpose (an override of the basic profile's X):
        // deid honours the choice, verify still sees the Patient ID in it.
        let profile = wd.path("keep.toml");
        let toml = format!("[overrides]\n'(2001,\"{PHILIPS}\",7C)' = \"keep\"\n'(2001,\"{PHILIPS}\",DF)' = \"keep\"\n");
        std::fs::write(&profile, toml).unwrap();
        wd.deid(&["--profile", profile.to_str().unwrap()]).assert_code(0);
        assert_eq!(ul_of(&wd.only_output("out"), Tag(0x2001, 0x107C)), Some(12_345_678), "{name}: kept as chosen");
        let run = wd.kamei(["verify", "out", "--against", "in", "--profile", profile.to_str().unwrap()]);
        run.assert_code(1);
        let found = run
            .stdout()
            .lines()
            .any(|l| l.contains("(2001,107C)") && l.contains("residual-identifier") && l.contains("the Patient ID"));
        assert!(found, "{name}: {}", run.stdout());
        assert!(!run.stdout().contains("(2001,10DF)"), "{name}: the harmless number is not reported");
    }
}

/// Two files of one exam: the vendor's creator in block 0x10 of one and 0x11 of the other
/// (another system took 0x10 first).
#[test]
fn a_private_pseudonym_is_the_same_whatever_block_its_creator_took() {
    let wd = Workdir::new("a_private_pseudonym_is_the_same_whatever_block_its_creator_took");
    ct().put(str_el(Tag(0x0009, 0x0010), VR::LO, "GEMS_IDEN_01"))
        .put(str_el(Tag(0x0009, 0x1006), VR::LO, "EXAM4711"))
        .write(&wd.path("in/a.dcm"));
    Fixture::ct(DIGIT_ID, STUDY, SERIES, &format!("{SOP}.2"))
        .put(str_el(Tag(0x0009, 0x0010), VR::LO, "OTHER_VENDOR"))
        .put(str_el(Tag(0x0009, 0x1001), VR::LO, "x"))
        .put(str_el(Tag(0x0009, 0x0011), VR::LO, "GEMS_IDEN_01"))
        .put(str_el(Tag(0x0009, 0x1106), VR::LO, "EXAM4711"))
        .write(&wd.path("in/b.dcm"));
    let toml =
        "keep_private_creators = [\"GEMS_IDEN_01\"]\n[overrides]\n'(0009,\"GEMS_IDEN_01\",06)' = \"pseudonymize\"\n";
    std::fs::write(wd.path("p.toml"), toml).unwrap();
    wd.deid(&["--profile", wd.path("p.toml").to_str().unwrap()]).assert_code(0);
    let mut tokens = Vec::new();
    for out in wd.dicom_outputs("out") {
        let obj = open(&out);
        let token = text(&obj, Tag(0x0009, 0x1006)).or_else(|| text(&obj, Tag(0x0009, 0x1106))).unwrap();
        assert_ne!(token, "EXAM4711");
        tokens.push(token);
    }
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0], tokens[1], "one value of one attribute, one pseudonym");
}

/// A vendor's byte string: a binary header, `payload`, two NULs.
fn blob(payload: &[u8]) -> Vec<u8> {
    let mut v = vec![1, 2, 0, 0];
    v.extend_from_slice(payload);
    v.extend_from_slice(&[0, 0]);
    v
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn with_sc2000(f: Fixture) -> Fixture {
    f.put(str_el(tags::MODALITY, VR::CS, "US")).put(str_el(Tag(0x0129, 0x0010), VR::LO, SC2000)).put(raw_el(
        Tag(0x0129, 0x1008),
        VR::OB,
        &[1, 2, 3, 4],
    ))
}

#[test]
fn a_kept_private_byte_string_holding_the_frame_of_reference_or_a_referenced_uid_is_removed() {
    let wd = Workdir::new("a_kept_private_byte_string_holding_the_frame_of_reference_or_a_referenced_uid_is_removed");
    let frame_of_reference = format!("{STUDY}.9"); // the fixture's
    let referenced = "1.2.392.200036.9116.2.6.1.48.444.333.222";
    let reference = item(vec![
        str_el(tags::REFERENCED_SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
        str_el(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, referenced),
    ]);
    with_sc2000(ct())
        .put(seq_el(tags::REFERENCED_IMAGE_SEQUENCE, vec![reference]))
        .put(raw_el(Tag(0x0129, 0x1010), VR::OB, &blob(frame_of_reference.as_bytes())))
        .put(raw_el(Tag(0x0129, 0x1022), VR::OB, &blob(referenced.as_bytes())))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-safe-private"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(raw(&out, Tag(0x0129, 0x1008)).as_deref(), Some(&[1u8, 2, 3, 4][..]), "the harmless blob is kept");
    for uid in [frame_of_reference.as_str(), referenced] {
        assert_eq!(wd.tree_contains("out", uid.as_bytes()), None, "an original UID in a kept blob");
    }
    let notes = wd.audit("out")[0]["notes"].to_string();
    assert!(notes.contains("(0129,1010)") && notes.contains("(0129,1022)"), "{notes}");
}

#[test]
fn a_kept_private_byte_string_holding_a_date_or_uid_in_utf16_or_an_era_date_in_cp932_is_removed() {
    let wd =
        Workdir::new("a_kept_private_byte_string_holding_a_date_or_uid_in_utf16_or_an_era_date_in_cp932_is_removed");
    // 令和6年2月1日, the fixture's Study Date 20240201 as an era date, in CP932.
    let era_cp932 = b"\x97\xdf\x98\x61\x36\x94\x4e\x32\x8c\x8e\x31\x93\xfa";
    with_sc2000(ct())
        .put(raw_el(Tag(0x0129, 0x1010), VR::OB, &blob(&utf16le("exam 20240201"))))
        .put(raw_el(Tag(0x0129, 0x1022), VR::OB, &blob(&utf16le(SERIES))))
        .put(str_el(Tag(0x0119, 0x0010), VR::LO, SC2000))
        .put(raw_el(Tag(0x0119, 0x1001), VR::OB, &blob(era_cp932)))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-safe-private"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert!(raw(&out, Tag(0x0129, 0x1008)).is_some(), "the harmless blob is kept");
    for (tag, what) in [
        (Tag(0x0129, 0x1010), "the exam date in UTF-16"),
        (Tag(0x0129, 0x1022), "the Series UID in UTF-16"),
        (Tag(0x0119, 0x1001), "the exam date as an era date in CP932"),
    ] {
        assert_eq!(raw(&out, tag), None, "{what}");
    }
    assert_eq!(wd.tree_contains("out", &utf16le(SERIES)), None);
}

#[test]
fn a_short_safe_private_uid_holding_the_patient_id_or_birth_date_is_mapped() {
    let wd = Workdir::new("a_short_safe_private_uid_holding_the_patient_id_or_birth_date_is_mapped");
    ct().put(str_el(Tag(0x0099, 0x0010), VR::LO, "NQHeader"))
        .put(str_el(Tag(0x0099, 0x1001), VR::UI, "2.1"))
        .put(str_el(Tag(0x0099, 0x1002), VR::UI, DIGIT_ID))
        .put(str_el(Tag(0x0129, 0x0010), VR::LO, SC2000))
        .put(str_el(Tag(0x0129, 0x1002), VR::UI, "19700101"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-safe-private"]);
    run.assert_code(0);
    let obj = open(&wd.only_output("out"));
    assert_eq!(text(&obj, Tag(0x0099, 0x1001)).as_deref(), Some("2.1"), "a version is kept as it is");
    let p = pseudonymizer(7);
    assert_eq!(text(&obj, Tag(0x0099, 0x1002)), Some(p.uid(DIGIT_ID)), "the Patient ID");
    assert_eq!(text(&obj, Tag(0x0129, 0x1002)), Some(p.uid("19700101")), "the birth date");
    assert_no_leak(&wd, "out", &run, &[DIGIT_ID, "19700101"]);
}
