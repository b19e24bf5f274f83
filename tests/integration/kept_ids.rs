//! The patient's own identifiers in values kamei keeps: values an option keeps (Retain Device
//! Identity, Retain Institution Identity), kept private text and numbers, and the spellings of
//! a Patient ID (HL7 CX form, EUC-JP, ISO-2022-JP) that the pseudonym, the opt-out and the
//! search of kept text must all read as the same patient.

use crate::util::*;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;

/// A private block `ACME` in group 0009 holding `elements` (offset, VR, value).
fn with_acme(mut f: Fixture, elements: Vec<DataElement<dicom_object::InMemDicomObject>>) -> Fixture {
    f = f.put(str_el(Tag(0x0009, 0x0010), VR::LO, "ACME"));
    for e in elements {
        f = f.put(e);
    }
    f
}

/// A user profile keeping the whole `ACME` block, checked valid.
fn keep_acme(wd: &Workdir) -> String {
    let p = wd.path("acme.toml");
    std::fs::write(&p, "name = \"acme\"\nkeep_private_creators = [\"ACME\"]\n").unwrap();
    wd.kamei(["profile", "check", p.to_str().unwrap()]).assert_code(0);
    p.to_string_lossy().into_owned()
}

/// The top-level value of `tag` in the one output, as UTF-8 text.
fn out_text(wd: &Workdir, tag: Tag) -> Option<String> {
    raw(&wd.only_output("out"), tag).map(|b| String::from_utf8_lossy(&b).trim_end_matches(['\0', ' ']).to_string())
}

/// The pseudonym a run with key byte 7 gives the Patient ID `id`.
fn pseudonym(id: &str) -> String {
    pseudonymizer(7).patient_pseudonym(kamei::pseudo::Patient::Id(id))
}

/// The patient folders (pseudonyms) under `out`.
fn patient_folders(wd: &Workdir) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(wd.path("out"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn values_kept_by_device_and_institution_options_lose_the_patients_own_identifiers() {
    let wd = Workdir::new("values_kept_by_device_and_institution_options_lose_the_patients_own_identifiers");
    let address = "2-11-15 Chuo, Chuo-ku, Sagamihara";
    Fixture::ct("PID778812", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1")
        .put(str_el(tags::PATIENT_NAME, VR::PN, "YAMADA^HANAKO"))
        .put(str_el(tags::PATIENT_ADDRESS, VR::LO, address))
        .put(str_el(tags::STATION_NAME, VR::SH, "YAMADA HANAKO"))
        .put(str_el(tags::INSTITUTION_NAME, VR::LO, "PID778812 CLINIC"))
        .put(str_el(tags::DEVICE_SERIAL_NUMBER, VR::LO, "DOB 19700101"))
        .put(str_el(tags::INSTITUTION_ADDRESS, VR::ST, address))
        .put(str_el(tags::INSTITUTIONAL_DEPARTMENT_NAME, VR::LO, "WARD OF HANAKO YAMADA"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "retain-device-identity", "--option", "retain-institution-identity"]);
    run.assert_code(0);
    let institution = out_text(&wd, tags::INSTITUTION_NAME).unwrap();
    assert!(institution.contains("CLINIC"), "the institution's own words stay: {institution}");
    let department = out_text(&wd, tags::INSTITUTIONAL_DEPARTMENT_NAME).unwrap();
    assert!(department.contains("WARD OF"), "{department}");
    for tag in [
        tags::STATION_NAME,
        tags::INSTITUTION_NAME,
        tags::DEVICE_SERIAL_NUMBER,
        tags::INSTITUTION_ADDRESS,
        tags::INSTITUTIONAL_DEPARTMENT_NAME,
    ] {
        let v = out_text(&wd, tag).unwrap_or_default();
        for needle in ["YAMADA", "HANAKO", "PID778812", "19700101", "2-11-15"] {
            assert!(!v.contains(needle), "{tag}: {v}");
        }
    }
    assert_no_leak(&wd, "out", &run, &["YAMADA", "HANAKO", "PID778812", "19700101", "2-11-15"]);
}

#[test]
fn a_patient_id_in_hl7_cx_form_has_the_pseudonym_of_its_id_part() {
    let wd = Workdir::new("a_patient_id_in_hl7_cx_form_has_the_pseudonym_of_its_id_part");
    Fixture::ct("0012345678^^^HOSPA", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1").write(&wd.path("in/a.dcm"));
    Fixture::ct("0012345678^^^HOSPA^MR", "1.2.3.2", "1.2.3.2.1", "1.2.3.2.1.1").write(&wd.path("in/b.dcm"));
    wd.deid(&[]).assert_code(0);
    assert_eq!(patient_folders(&wd), vec![pseudonym("0012345678")], "the clinical records' pseudonym");
}

#[test]
fn an_opt_out_of_the_id_part_leaves_out_a_patient_id_in_hl7_cx_form() {
    let wd = Workdir::new("an_opt_out_of_the_id_part_leaves_out_a_patient_id_in_hl7_cx_form");
    Fixture::ct("0012345678^^^HOSPA^MR", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1").write(&wd.path("in/a.dcm"));
    Fixture::ct("0099999999^^^HOSPA^MR", "1.2.3.2", "1.2.3.2.1", "1.2.3.2.1.1").write(&wd.path("in/b.dcm"));
    std::fs::write(wd.path("optout.txt"), "0012345678\n").unwrap();
    wd.deid(&["--exclude-patients", "optout.txt"]).assert_code(0);
    assert_eq!(patient_folders(&wd), vec![pseudonym("0099999999")]);
}

#[test]
fn the_id_part_of_a_cx_patient_id_is_scrubbed_from_kept_text() {
    let wd = Workdir::new("the_id_part_of_a_cx_patient_id_is_scrubbed_from_kept_text");
    let f = Fixture::ct("AB1234^^^HOSPA", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1");
    with_acme(f, vec![str_el(Tag(0x0009, 0x1011), VR::LO, "seen AB1234 today")]).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--profile", &keep_acme(&wd)]);
    run.assert_code(0);
    assert_eq!(out_text(&wd, Tag(0x0009, 0x1011)).as_deref(), Some("seen *** today"));
    assert_no_leak(&wd, "out", &run, &["AB1234"]);
}

#[test]
fn a_one_character_surname_before_an_honorific_is_scrubbed_from_kept_text() {
    let wd = Workdir::new("a_one_character_surname_before_an_honorific_is_scrubbed_from_kept_text");
    let f = Fixture::ct("PID778812", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1")
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::PATIENT_NAME, VR::PN, "林^太郎"));
    let notes = "林様 撮影。林さん、林くん、林 氏、林殿、林ちゃん、林サン";
    with_acme(f, vec![str_el(Tag(0x0009, 0x1011), VR::LT, notes), str_el(Tag(0x0009, 0x1012), VR::LO, "森林 公園")])
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--profile", &keep_acme(&wd)]);
    run.assert_code(0);
    let kept = out_text(&wd, Tag(0x0009, 0x1011)).unwrap();
    assert!(!kept.contains('林'), "{kept}");
    assert!(kept.contains("撮影"), "the rest of the text stays: {kept}");
    assert_eq!(out_text(&wd, Tag(0x0009, 0x1012)).as_deref(), Some("森林 公園"), "林 in a word is left");
}

#[test]
fn a_one_character_surname_beside_another_part_of_the_name_is_scrubbed_from_kept_text() {
    let wd = Workdir::new("a_one_character_surname_beside_another_part_of_the_name_is_scrubbed_from_kept_text");
    let f = Fixture::ct("PID778812", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1")
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::PATIENT_NAME, VR::PN, "林^太郎^一"));
    with_acme(f, vec![str_el(Tag(0x0009, 0x1011), VR::LT, "患者 林太郎 撮影")]).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--profile", &keep_acme(&wd)]);
    run.assert_code(0);
    let kept = out_text(&wd, Tag(0x0009, 0x1011)).unwrap();
    assert!(!kept.contains('林'), "{kept}");
}

#[test]
fn the_patients_phone_in_telecom_information_is_scrubbed_from_kept_private_text() {
    let wd = Workdir::new("the_patients_phone_in_telecom_information_is_scrubbed_from_kept_private_text");
    let f = Fixture::ct("PID778812", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1")
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .put(str_el(tags::PATIENT_TELECOM_INFORMATION, VR::LT, "tel:03-1234-5678"));
    let spellings = ["0312345678", "(03)1234-5678", "０３－１２３４－５６７８"];
    let elements = (0..3).map(|i| str_el(Tag(0x0009, 0x1011 + i as u16), VR::LO, &format!("tel {}", spellings[i])));
    with_acme(f, elements.collect()).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--profile", &keep_acme(&wd)]);
    run.assert_code(0);
    for i in 0..3u16 {
        let kept = out_text(&wd, Tag(0x0009, 0x1011 + i)).unwrap();
        assert!(!kept.contains("5678") && !kept.contains("５６７８"), "{kept}");
    }
}

#[test]
fn the_patients_phone_is_scrubbed_from_kept_private_text_in_its_international_form() {
    let wd = Workdir::new("the_patients_phone_is_scrubbed_from_kept_private_text_in_its_international_form");
    let f = Fixture::ct("PID778812", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1").put(str_el(
        tags::PATIENT_TELEPHONE_NUMBERS,
        VR::SH,
        "03-1234-5678",
    ));
    with_acme(f, vec![str_el(Tag(0x0009, 0x1011), VR::LO, "call +81-3-1234-5678")]).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--profile", &keep_acme(&wd)]);
    run.assert_code(0);
    assert_eq!(out_text(&wd, Tag(0x0009, 0x1011)).as_deref(), Some("call +***"));
}

#[test]
fn a_kept_private_number_equal_to_the_patient_id_or_birth_date_is_removed() {
    let wd = Workdir::new("a_kept_private_number_equal_to_the_patient_id_or_birth_date_is_removed");
    let f = Fixture::ct("0012345678", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1");
    with_acme(
        f,
        vec![
            DataElement::new(Tag(0x0009, 0x1011), VR::UL, PrimitiveValue::from(19700101u32)),
            DataElement::new(Tag(0x0009, 0x1012), VR::SL, PrimitiveValue::from(12345678i32)),
            DataElement::new(Tag(0x0009, 0x1013), VR::FD, PrimitiveValue::from(12345678f64)),
            DataElement::new(Tag(0x0009, 0x1014), VR::UL, PrimitiveValue::from(512u32)),
        ],
    )
    .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--profile", &keep_acme(&wd)]);
    run.assert_code(0);
    let out = wd.only_output("out");
    for offset in [0x11, 0x12, 0x13] {
        assert_eq!(raw(&out, Tag(0x0009, 0x1000 | offset)), None, "(0009,10{offset:02X})");
    }
    assert_eq!(raw(&out, Tag(0x0009, 0x1014)), Some(512u32.to_le_bytes().to_vec()), "other numbers stay");
}

/// A CT without (0008,0005) whose Patient ID has these bytes.
fn ct_with_id_bytes(id: &[u8], n: u32) -> Fixture {
    let mut id = id.to_vec();
    if id.len() % 2 == 1 {
        id.push(b' ');
    }
    Fixture::ct("X", &format!("1.2.3.{n}"), &format!("1.2.3.{n}.1"), &format!("1.2.3.{n}.1.1"))
        .remove(tags::SPECIFIC_CHARACTER_SET)
        .put(raw_el(tags::PATIENT_ID, VR::LO, &id))
}

/// `１２３４５６７` in EUC-JP and in ISO-2022-JP (JIS X 0208 designated with `ESC $ B`).
const EUC_JP_ID: &[u8] = b"\xa3\xb1\xa3\xb2\xa3\xb3\xa3\xb4\xa3\xb5\xa3\xb6\xa3\xb7";
const ISO_2022_JP_ID: &[u8] = b"\x1b$B#1#2#3#4#5#6#7\x1b(B";

#[test]
fn a_patient_id_in_euc_jp_or_iso_2022_jp_has_the_pseudonym_of_its_text() {
    let wd = Workdir::new("a_patient_id_in_euc_jp_or_iso_2022_jp_has_the_pseudonym_of_its_text");
    ct_with_id_bytes(EUC_JP_ID, 1).write(&wd.path("in/euc.dcm"));
    ct_with_id_bytes(ISO_2022_JP_ID, 2).write(&wd.path("in/jis.dcm"));
    ct_with_id_bytes(EUC_JP_ID, 3)
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"))
        .write(&wd.path("in/u.dcm"));
    wd.deid(&[]).assert_code(0);
    assert_eq!(patient_folders(&wd), vec![pseudonym("1234567")], "the pseudonym of the ID in a CSV");
    let notes: Vec<String> = wd
        .audit("out")
        .iter()
        .flat_map(|r| r["notes"].as_array().cloned().unwrap_or_default())
        .map(|n| n.to_string())
        .collect();
    assert_eq!(notes.iter().filter(|n| n.contains("read as EUC-JP")).count(), 2, "{notes:?}");
    assert_eq!(notes.iter().filter(|n| n.contains("read as ISO-2022-JP")).count(), 1, "{notes:?}");
}

#[test]
fn an_opt_out_leaves_out_a_patient_id_in_euc_jp_or_iso_2022_jp() {
    let wd = Workdir::new("an_opt_out_leaves_out_a_patient_id_in_euc_jp_or_iso_2022_jp");
    ct_with_id_bytes(EUC_JP_ID, 1).write(&wd.path("in/euc.dcm"));
    ct_with_id_bytes(ISO_2022_JP_ID, 2).write(&wd.path("in/jis.dcm"));
    ct_with_id_bytes(b"7654321", 3).write(&wd.path("in/other.dcm"));
    std::fs::write(wd.path("optout.txt"), "1234567\n").unwrap();
    wd.deid(&["--exclude-patients", "optout.txt"]).assert_code(0);
    assert_eq!(patient_folders(&wd), vec![pseudonym("7654321")]);
}

#[test]
fn the_text_of_an_euc_jp_patient_id_is_scrubbed_from_kept_text() {
    let wd = Workdir::new("the_text_of_an_euc_jp_patient_id_is_scrubbed_from_kept_text");
    let f = ct_with_id_bytes(EUC_JP_ID, 1);
    with_acme(f, vec![str_el(Tag(0x0009, 0x1011), VR::LO, "ID 1234567 seen")]).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--profile", &keep_acme(&wd)]);
    run.assert_code(0);
    assert_eq!(out_text(&wd, Tag(0x0009, 0x1011)).as_deref(), Some("ID *** seen"));
}

#[test]
fn a_kept_institution_name_sharing_a_word_with_the_patients_name_is_kept() {
    // The options keep the institution's and device's own names: the patient 中村 at 中村病院
    // shares a word with them, and only the patient's whole name is the patient's.
    let wd = Workdir::new("a_kept_institution_name_sharing_a_word_with_the_patients_name_is_kept");
    Fixture::ct("PID778813", "1.2.3.2", "1.2.3.2.1", "1.2.3.2.1.1")
        .put(str_el(tags::PATIENT_NAME, VR::PN, "YAMADA^HANAKO"))
        .put(str_el(tags::INSTITUTION_NAME, VR::LO, "YAMADA CLINIC"))
        .put(str_el(tags::STATION_NAME, VR::SH, "HANAKO YAMADA"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "retain-device-identity", "--option", "retain-institution-identity"]).assert_code(0);
    assert_eq!(out_text(&wd, tags::INSTITUTION_NAME).as_deref(), Some("YAMADA CLINIC"));
    let station = out_text(&wd, tags::STATION_NAME).unwrap_or_default();
    assert!(!station.contains("HANAKO"), "{station}");
}
