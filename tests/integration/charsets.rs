//! Specific Character Set on the real binary: Japanese and Korean ISO 2022 sets, UTF-8 with bytes
//! that do not decode, items with their own character set. Replaced values leave no byte of the
//! original behind; kept values keep every byte; cleaned text is re-encoded in the set it came in.

use crate::util::*;
use dicom_core::VR;
use dicom_dictionary_std::tags;
use kamei::charset::CharacterSet;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.6";
const SERIES: &str = "1.2.826.0.1.3680043.8.498.6.1";

/// `ISO 2022 IR 13\ISO 2022 IR 87`, padded to even length.
const IR13_IR87: &[u8] = b"ISO 2022 IR 13\\ISO 2022 IR 87 ";
/// `\ISO 2022 IR 87`, padded.
const IR87: &[u8] = b"\\ISO 2022 IR 87 ";

/// japan README §7.3, vector 1: `Kakuu^Hanako=架空^花子=かくう^はなこ` in `\ISO 2022 IR 87`.
const PN_IR87: &[u8] = b"Kakuu^Hanako=\x1b$B2M6u\x1b(B^\x1b$B2V;R\x1b(B=\x1b$B$+$/$&\x1b(B^\x1b$B$O$J$3\x1b(B";
/// japan README §7.3, vector 2: `ｶｸｳ^ﾊﾅｺ=架空^花子=かくう^はなこ` in `ISO 2022 IR 13\ISO 2022 IR 87`
/// (55 bytes, padded with a space after the final `ESC ( J`).
const PN_IR13_IR87: &[u8] =
    b"\xb6\xb8\xb3^\xca\xc5\xba=\x1b$B2M6u\x1b(J^\x1b$B2V;R\x1b(J=\x1b$B$+$/$&\x1b(J^\x1b$B$O$J$3\x1b(J ";

/// Byte runs of every group of the §7.3 name: half-width katakana, kanji, hiragana, romaji.
const NAME_GROUPS: &[&[u8]] =
    &[b"\xb6\xb8\xb3", b"\xca\xc5\xba", b"2M6u", b"2V;R", b"$+$/$&", b"$O$J$3", b"Kakuu", b"Hanako"];

fn ct(n: u32) -> Fixture {
    Fixture::ct(CANARY_ID, STUDY, SERIES, &format!("{SERIES}.{n}"))
}

/// A CT in `charset` whose Patient's Name is `name` (raw bytes).
fn ct_in(charset: &[u8], name: &[u8]) -> Fixture {
    ct(1).put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, charset)).put(raw_el(tags::PATIENT_NAME, VR::PN, name))
}

/// Where any of `runs` occurs in OUT (bytes or names).
fn runs_left(wd: &Workdir, runs: &[&[u8]]) -> Vec<String> {
    runs.iter()
        .filter_map(|r| {
            wd.tree_contains("out", r).map(|f| format!("{:?} in {}", String::from_utf8_lossy(r), f.display()))
        })
        .collect()
}

#[test]
fn ir13_ir87_person_name_loses_every_group() {
    let wd = Workdir::new("ir13_ir87_person_name_loses_every_group");
    ct_in(IR13_IR87, PN_IR13_IR87).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let obj = open(&out);
    let pseudonym = text(&obj, tags::PATIENT_ID).unwrap();
    let name = raw(&out, tags::PATIENT_NAME).unwrap();
    assert_eq!(String::from_utf8_lossy(&name).trim_end(), pseudonym, "only the pseudonym, no other group");
    let left = runs_left(&wd, NAME_GROUPS);
    assert!(left.is_empty(), "name groups left: {left:?}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn kept_description_is_byte_identical_in_ir87() {
    let wd = Workdir::new("kept_description_is_byte_identical_in_ir87");
    let desc: &[u8] = b"\x1b$B6;It\x1b(BCT"; // 胸部CT
    ct_in(IR87, PN_IR87).put(raw_el(tags::SERIES_DESCRIPTION, VR::LO, desc)).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(raw(&out, tags::SERIES_DESCRIPTION).as_deref(), Some(desc));
    assert_eq!(raw(&out, tags::SPECIFIC_CHARACTER_SET).as_deref(), Some(IR87));
    assert!(runs_left(&wd, NAME_GROUPS).is_empty());
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn kept_description_is_byte_identical_in_ir13_ir87() {
    let wd = Workdir::new("kept_description_is_byte_identical_in_ir13_ir87");
    let desc: &[u8] = b"\x1b$B6;It\x1b(JCT \xbc\xde\xad\xdd "; // 胸部CT ｼﾞｭﾝ
    ct_in(IR13_IR87, PN_IR13_IR87).put(raw_el(tags::SERIES_DESCRIPTION, VR::LO, desc)).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(raw(&out, tags::SERIES_DESCRIPTION).as_deref(), Some(desc));
    assert!(runs_left(&wd, NAME_GROUPS).is_empty());
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn korean_ir149_description_is_kept_byte_for_byte() {
    let wd = Workdir::new("korean_ir149_description_is_kept_byte_for_byte");
    let name: &[u8] = b"Hong^Gildong=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf"; // Hong^Gildong=홍^길동
    let desc: &[u8] = b"\x1b$)C\xc8\xe4\xba\xce CT "; // 흉부 CT
    ct_in(b"\\ISO 2022 IR 149 ", name).put(raw_el(tags::SERIES_DESCRIPTION, VR::LO, desc)).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(raw(&out, tags::SERIES_DESCRIPTION).as_deref(), Some(desc));
    let left = runs_left(&wd, &[b"\xc8\xab", b"\xb1\xe6\xb5\xbf", b"Gildong"]);
    assert!(left.is_empty(), "name groups left: {left:?}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn utf8_value_with_bytes_that_do_not_decode_is_kept_byte_for_byte() {
    // notes/dicom-rs-0.10.md §6.4: dicom-object turns these bytes into the text `Ab\377\376^C`.
    let wd = Workdir::new("utf8_value_with_bytes_that_do_not_decode_is_kept_byte_for_byte");
    let value: &[u8] = b"Ab\xff\xfe^C";
    ct_in(b"ISO_IR 192", b"CANARY^PATIENT")
        .put(raw_el(tags::SERIES_DESCRIPTION, VR::LO, value))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    assert_eq!(raw(&wd.only_output("out"), tags::SERIES_DESCRIPTION).as_deref(), Some(value));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn item_with_its_own_character_set_is_cleaned_in_that_set() {
    let wd = Workdir::new("item_with_its_own_character_set_is_cleaned_in_that_set");
    // Top level UTF-8 (the name 架空^花子); an item in \ISO 2022 IR 87 whose description names
    // the patient and whose code meaning is kept.
    let code = item(vec![
        raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, IR87),
        str_el(tags::CODE_VALUE, VR::SH, "CTCHEST"),
        str_el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "99LOCAL"),
        raw_el(tags::CODE_MEANING, VR::LO, b"\x1b$B6;It\x1b(BCT"),
        raw_el(tags::SERIES_DESCRIPTION, VR::LO, b"\x1b$B2M6u\x1b(B \x1b$B6;It\x1b(BCT "),
    ]);
    ct_in(b"ISO_IR 192", "Kakuu^Hanako=架空^花子".as_bytes())
        .put(seq_el(tags::PROCEDURE_CODE_SEQUENCE, vec![code]))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let seq = tags::PROCEDURE_CODE_SEQUENCE;
    assert_eq!(raw_in_item(&out, seq, 0, tags::SPECIFIC_CHARACTER_SET).as_deref(), Some(IR87));
    assert_eq!(raw_in_item(&out, seq, 0, tags::CODE_MEANING).as_deref(), Some(&b"\x1b$B6;It\x1b(BCT"[..]));
    let desc = raw_in_item(&out, seq, 0, tags::SERIES_DESCRIPTION).unwrap();
    let trimmed = &desc[..desc.iter().rposition(|&b| b != b' ').unwrap() + 1];
    assert_eq!(trimmed, b"*** \x1b$B6;It\x1b(BCT", "scrubbed, re-encoded in the item's IR 87");
    let left = runs_left(&wd, &[b"2M6u", "架空".as_bytes(), "花子".as_bytes()]);
    assert!(left.is_empty(), "name left: {left:?}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn clean_descriptors_reencodes_a_scrubbed_kanji_description_in_ir87() {
    let wd = Workdir::new("clean_descriptors_reencodes_a_scrubbed_kanji_description_in_ir87");
    let desc: &[u8] = b"\x1b$B6;It\x1b(BCT \x1b$B2M6u\x1b(B "; // 胸部CT 架空
    ct_in(IR87, PN_IR87).put(raw_el(tags::STUDY_DESCRIPTION, VR::LO, desc)).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let bytes = raw(&wd.only_output("out"), tags::STUDY_DESCRIPTION).unwrap();
    let cs = CharacterSet::from_value(IR87).unwrap();
    let decoded = cs.decode(&bytes, VR::LO);
    assert!(decoded.exact, "{bytes:?}");
    assert_eq!(decoded.text.trim_end(), "胸部CT ***");
    // Every switch to JIS X 0208 is followed by a return to ASCII, and the value ends in ASCII.
    let escapes: Vec<&[u8]> = bytes.windows(3).filter(|w| w[0] == 0x1b).collect();
    assert_eq!(escapes, [&b"\x1b$B"[..], b"\x1b(B"], "{bytes:?}");
    assert!(runs_left(&wd, NAME_GROUPS).is_empty());
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn a_misspelled_ir87_term_is_read_as_ir87_and_the_name_scrubbed_from_kept_text() {
    let wd = Workdir::new("a_misspelled_ir87_term_is_read_as_ir87_and_the_name_scrubbed_from_kept_text");
    // `ISO 2022 IR87` (no space) is how some writers spell `ISO 2022 IR 87`. The comment, which
    // the table does not list (kept), names the patient: 架空花子 written together.
    ct_in(b"\\ISO 2022 IR87 ", PN_IR87)
        .put(raw_el(tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP, VR::LT, b"Pt \x1b$B2M6u2V;R\x1b(B ok"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let left = runs_left(&wd, NAME_GROUPS);
    assert!(left.is_empty(), "name groups left: {left:?}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn a_full_name_with_a_one_character_family_name_is_scrubbed_from_kept_text() {
    let wd = Workdir::new("a_full_name_with_a_one_character_family_name_is_scrubbed_from_kept_text");
    ct_in(b"ISO_IR 192", "Hayashi^Taro=林^太郎".as_bytes())
        .put(raw_el(tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP, VR::LT, "患者林太郎様 造影剤".as_bytes()))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let comment = raw(&out, tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP).unwrap();
    assert_eq!(String::from_utf8(comment).unwrap().trim_end(), "患者***様 造影剤");
}

#[test]
fn a_kanji_name_designated_with_esc_dollar_at_is_scrubbed_from_kept_text() {
    let wd = Workdir::new("a_kanji_name_designated_with_esc_dollar_at_is_scrubbed_from_kept_text");
    // `ESC $ @` is the JIS C 6226-1978 designation of the same two-byte codes as `ESC $ B`;
    // legacy Japanese systems write it. The unlisted comment (kept) names the patient, 山田太郎.
    let escapes: [(&[u8], &[u8]); 3] = [(b"\x1b$@", b"\x1b$B"), (b"\x1b$@", b"\x1b$@"), (b"\x1b$B", b"\x1b$@")];
    for (n, (name_esc, text_esc)) in escapes.into_iter().enumerate() {
        let name = [&b"Yamada^Taro="[..], name_esc, b";3ED\x1b(B^", name_esc, b"B@O:\x1b(B"].concat();
        let comment = [&b"patient "[..], text_esc, b";3EDB@O:\x1b(B follow-up"].concat();
        ct(n as u32 + 1)
            .put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, IR87))
            .put(raw_el(tags::PATIENT_NAME, VR::PN, &name))
            .put(raw_el(tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP, VR::LT, &comment))
            .write(&wd.path(&format!("in/{n}.dcm")));
    }
    let run = wd.deid(&[]);
    run.assert_code(0);
    let outputs = wd.dicom_outputs("out");
    assert_eq!(outputs.len(), 3);
    for out in &outputs {
        let comment = raw(out, tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP).unwrap();
        assert_eq!(String::from_utf8_lossy(&comment).trim_end(), "patient *** follow-up", "{}", out.display());
    }
    let left = runs_left(&wd, &[b";3ED", b"B@O:"]);
    assert!(left.is_empty(), "name left: {left:?}");
    // verify reads the names the same way and finds nothing left.
    wd.kamei(["verify", "out", "--against", "in"]).assert_code(0);
}

#[test]
fn a_kept_value_after_an_unknown_escape_is_not_read_as_ascii() {
    let wd = Workdir::new("a_kept_value_after_an_unknown_escape_is_not_read_as_ascii");
    // `ESC $ A` designates a set DICOM does not define. Name and comment use it alike: the
    // bytes after it are compared as bytes, and the comment, which holds them, gets a dummy.
    ct(1)
        .put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, IR87))
        .put(raw_el(tags::PATIENT_NAME, VR::PN, b"Yamada^Taro=\x1b$A;3ED\x1b(B^\x1b$AB@O:\x1b(B"))
        .put(raw_el(tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP, VR::LT, b"patient \x1b$A;3EDB@O:\x1b(B ok"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&[]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let comment = raw(&out, tags::COMMENTS_ON_THE_SCHEDULED_PROCEDURE_STEP).unwrap();
    assert_eq!(comment, b"ANONYMIZED");
    assert!(runs_left(&wd, &[b";3ED", b"B@O:"]).is_empty());
}

/// The CP932 (Shift_JIS) bytes of `text`, as Japanese modalities write them.
fn sjis(text: &str) -> Vec<u8> {
    encoding_rs::SHIFT_JIS.encode(text).0.into_owned()
}

/// `bytes` padded with a space to even length, as a writer stores a text value.
fn padded(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    if v.len() % 2 == 1 {
        v.push(b' ');
    }
    v
}

/// A CT whose Patient's Name is `name` and (0008,0005) is `charset` (absent when empty), with
/// `texts` put in as raw bytes.
fn ct_written(n: u32, charset: &[u8], name: &[u8], texts: &[(dicom_core::Tag, VR, Vec<u8>)]) -> Fixture {
    let mut f = ct(n).put(raw_el(tags::PATIENT_NAME, VR::PN, &padded(name)));
    f = if charset.is_empty() {
        f.remove(tags::SPECIFIC_CHARACTER_SET)
    } else {
        f.put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, &padded(charset)))
    };
    for (tag, vr, v) in texts {
        f = f.put(raw_el(*tag, *vr, &padded(v)));
    }
    f
}

/// The audit notes of the run in `out`, joined.
fn notes(wd: &Workdir) -> String {
    wd.audit("out").iter().map(|l| l["notes"].to_string()).collect::<Vec<_>>().join("\n")
}

#[test]
fn rv18_01_02_a_shift_jis_name_is_cleaned_from_shift_jis_descriptions_in_cp932() {
    // rv18 01 (no (0008,0005)), 02 (ISO_IR 192 name, Shift_JIS descriptions), 03 (ISO_IR 13).
    let wd = Workdir::new("rv18_01_02_a_shift_jis_name_is_cleaned_from_shift_jis_descriptions_in_cp932");
    let texts = || {
        vec![
            (tags::STUDY_DESCRIPTION, VR::LO, sjis("ﾔﾏﾀﾞ 様")),
            (tags::SERIES_DESCRIPTION, VR::LO, sjis("頭部 ﾀﾛｳ")),
            (tags::IMAGE_COMMENTS, VR::LT, sjis("山田太郎 様")),
        ]
    };
    let name = "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎";
    ct_written(1, b"", &sjis(name), &texts()).write(&wd.path("in/1.dcm"));
    ct_written(2, b"ISO_IR 192", name.as_bytes(), &texts()).write(&wd.path("in/2.dcm"));
    ct_written(3, b"ISO_IR 13", &sjis(name), &texts()).write(&wd.path("in/3.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let outputs = wd.dicom_outputs("out");
    assert_eq!(outputs.len(), 3);
    for out in &outputs {
        // Written back in CP932, the value's own bytes: no `?`, the rest byte for byte.
        assert_eq!(raw(out, tags::STUDY_DESCRIPTION).unwrap(), padded(&sjis("*** 様")), "{}", out.display());
        assert_eq!(raw(out, tags::SERIES_DESCRIPTION).unwrap(), padded(&sjis("頭部 ***")), "{}", out.display());
        assert_eq!(raw(out, tags::IMAGE_COMMENTS).unwrap(), padded(&sjis("*** 様")), "{}", out.display());
    }
    let parts: Vec<Vec<u8>> = ["ﾔﾏﾀﾞ", "ﾀﾛｳ", "山田", "太郎"].iter().map(|p| sjis(p)).collect();
    let left = runs_left(&wd, &parts.iter().map(Vec::as_slice).collect::<Vec<_>>());
    assert!(left.is_empty(), "name left: {left:?}");
    let notes = notes(&wd);
    assert!(
        notes.contains("(0008,1030): bytes not valid in the declared Specific Character Set were read as Shift_JIS")
    );
    assert!(notes.contains("written back in CP932"), "{notes}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
    wd.kamei(["verify", "out", "--against", "in"]).assert_code(0);
}

#[test]
fn rv18_03_05_shift_jis_text_is_never_written_with_question_marks_and_kept_values_stay() {
    let wd = Workdir::new("rv18_03_05_shift_jis_text_is_never_written_with_question_marks_and_kept_values_stay");
    // 崖田 (8A52 9363) and 審慶 (9052 8C63) share trail bytes with 山田 (8E52 9363): read as
    // U+FFFD they matched the name, and kept values were rewritten.
    let kept = [(tags::MANUFACTURER, sjis("崖田製作所")), (tags::SOFTWARE_VERSIONS, sjis("審慶版"))];
    let texts = |desc: &str| {
        let mut t = vec![(tags::STUDY_DESCRIPTION, VR::LO, sjis(desc))];
        t.extend(kept.iter().map(|(tag, v)| (*tag, VR::LO, v.clone())));
        t
    };
    ct_written(1, b"", &sjis("山田^太郎"), &texts("山田 様")).write(&wd.path("in/1.dcm"));
    ct_written(2, b"ISO_IR 13", &sjis("山田^太郎"), &texts("崖田 頭部")).write(&wd.path("in/2.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let mut descriptions = Vec::new();
    for out in wd.dicom_outputs("out") {
        for (tag, v) in &kept {
            assert_eq!(raw(&out, *tag).unwrap(), padded(v), "kept byte for byte");
        }
        descriptions.push(raw(&out, tags::STUDY_DESCRIPTION).unwrap());
    }
    descriptions.sort();
    let mut expected = vec![padded(&sjis("*** 様")), padded(&sjis("崖田 頭部"))];
    expected.sort();
    assert_eq!(descriptions, expected);
    assert!(!notes(&wd).contains("kept value held"), "no false claim in the audit");
    // Bytes valid in no reading (a stray 0x80): a dummy when the name is in them, else kept.
    let wd = Workdir::new("rv18_03_undecodable");
    let broken = |s: &str| [&sjis(s)[..], b"\x80"].concat();
    let texts = vec![
        (tags::STUDY_DESCRIPTION, VR::LO, broken("山田 CT")),
        (tags::SERIES_DESCRIPTION, VR::LO, broken("頭部 CT")),
    ];
    ct_written(1, b"", &sjis("山田^太郎"), &texts).write(&wd.path("in/1.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(raw(&out, tags::STUDY_DESCRIPTION).unwrap(), b"ANONYMIZED");
    assert_eq!(raw(&out, tags::SERIES_DESCRIPTION).unwrap(), padded(&broken("頭部 CT")));
}

#[test]
fn rv18_07_a_shift_jis_patient_id_is_cleaned_in_its_ascii_spelling_too() {
    let wd = Workdir::new("rv18_07_a_shift_jis_patient_id_is_cleaned_in_its_ascii_spelling_too");
    ct(1)
        .put(raw_el(tags::PATIENT_ID, VR::LO, &sjis("１２３４５６７")))
        .put(raw_el(tags::STUDY_DESCRIPTION, VR::LO, &padded(&sjis("ID １２３４５６７ / 1234567"))))
        .put(raw_el(tags::IMAGE_COMMENTS, VR::LT, b"pid 0001234567"))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(raw(&out, tags::STUDY_DESCRIPTION).unwrap(), b"ID *** / ***");
    assert!(wd.tree_contains("out", b"1234567").is_none());
    wd.kamei(["verify", "out", "--against", "in"]).assert_code(0);
}

#[test]
fn rv18_08_a_greek_name_in_lower_case_with_final_sigma_is_cleaned() {
    let wd = Workdir::new("rv18_08_a_greek_name_in_lower_case_with_final_sigma_is_cleaned");
    let greek = |s: &str| encoding_rs::ISO_8859_7.encode(s).0.into_owned();
    let texts = vec![
        (tags::STUDY_DESCRIPTION, VR::LO, greek("Παπαδοπουλος CT")),
        (tags::SERIES_DESCRIPTION, VR::LO, greek("κ. Νικος")),
    ];
    ct_written(1, b"ISO_IR 126", &greek("ΠΑΠΑΔΟΠΟΥΛΟΣ^ΝΙΚΟΣ"), &texts).write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(raw(&out, tags::STUDY_DESCRIPTION).unwrap(), b"*** CT");
    assert_eq!(raw(&out, tags::SERIES_DESCRIPTION).unwrap(), padded(&greek("κ. ***")));
    assert!(runs_left(&wd, &[&greek("ουλος"), &greek("ικος"), &greek("ΙΚΟΣ")]).is_empty());
}

#[test]
fn a_cleaned_value_keeps_one_pad_space_not_two() {
    // rv18 suspect 4: `山田 CT ` (its pad) was cleaned to `*** CT  `.
    let wd = Workdir::new("a_cleaned_value_keeps_one_pad_space_not_two");
    let texts = vec![(tags::STUDY_DESCRIPTION, VR::LO, b"CANARY CT ".to_vec())];
    ct_written(1, b"ISO_IR 100", b"CANARY^PATIENT", &texts).write(&wd.path("in/a.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    assert_eq!(raw(&wd.only_output("out"), tags::STUDY_DESCRIPTION).unwrap(), b"*** CT");
}

#[test]
fn rv18_suspect_1_a_romaji_name_is_cleaned_in_kana_from_descriptions() {
    let wd = Workdir::new("rv18_suspect_1_a_romaji_name_is_cleaned_in_kana_from_descriptions");
    ct_in(b"ISO_IR 192", "Yamada^Taro=山田^太郎".as_bytes())
        .put(raw_el(tags::IMAGE_COMMENTS, VR::LT, "やまだ たろう 造影剤".as_bytes()))
        .put(raw_el(tags::STUDY_DESCRIPTION, VR::LO, "ヤマダタロウ 胸部".as_bytes()))
        .put(raw_el(tags::REQUESTED_PROCEDURE_DESCRIPTION, VR::LO, "ヤマダ タロウ 胸部".as_bytes()))
        .put(raw_el(tags::SERIES_DESCRIPTION, VR::LO, "検査：やまだたろう様 ﾔﾏﾀﾞ ﾀﾛｰ".as_bytes()))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let text = |tag| String::from_utf8(raw(&out, tag).unwrap_or_default()).unwrap();
    let padding: &[char] = &[' ', '\0'];
    assert_eq!(text(tags::IMAGE_COMMENTS).trim_end_matches(padding), "*** *** 造影剤");
    assert_eq!(text(tags::STUDY_DESCRIPTION).trim_end_matches(padding), "****** 胸部");
    for (tag, kana) in [
        (tags::STUDY_DESCRIPTION, "ヤマダ"),
        (tags::STUDY_DESCRIPTION, "タロウ"),
        (tags::REQUESTED_PROCEDURE_DESCRIPTION, "ヤマダ"),
        (tags::REQUESTED_PROCEDURE_DESCRIPTION, "タロウ"),
        (tags::SERIES_DESCRIPTION, "やまだ"),
        (tags::SERIES_DESCRIPTION, "ﾀﾛ"),
    ] {
        assert!(!text(tag).contains(kana), "{kana} left: {}", text(tag));
    }
}

/// A CT in `ISO_IR 100` whose Patient's Name is `MÜLLER^JOSÉ` as `name` bytes and whose kept
/// Content Description is `José Müller CT` as `text` bytes.
fn mixed(name: &[u8], text: &[u8]) -> Fixture {
    ct_in(b"ISO_IR 100", name).put(raw_el(tags::CONTENT_DESCRIPTION, VR::LO, text))
}

#[test]
fn rv25_02_kept_utf8_text_holding_a_latin1_name_gets_a_dummy() {
    let wd = Workdir::new("rv25_02_kept_utf8_text_holding_a_latin1_name_gets_a_dummy");
    mixed(b"M\xdcLLER^JOS\xc9", "José Müller CT".as_bytes()).write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    let out = wd.only_output("out");
    assert_eq!(raw(&out, tags::CONTENT_DESCRIPTION).as_deref(), Some(&b"ANONYMIZED"[..]));
    assert!(runs_left(&wd, &["Müller".as_bytes(), b"M\xfcller"]).is_empty());
}

#[test]
fn rv25_02_kept_latin1_text_holding_an_undeclared_utf8_name_is_scrubbed() {
    let wd = Workdir::new("rv25_02_kept_latin1_text_holding_an_undeclared_utf8_name_is_scrubbed");
    mixed("MÜLLER^JOSÉ".as_bytes(), b"Jos\xe9 M\xfcller CT").write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    let out = wd.only_output("out");
    let kept = raw(&out, tags::CONTENT_DESCRIPTION).unwrap();
    assert!(kept.starts_with(b"***") && kept.ends_with(b" CT"), "{}", String::from_utf8_lossy(&kept));
    assert!(!kept.windows(3).any(|w| w == b"Jos" || w == b"ler"), "{}", String::from_utf8_lossy(&kept));
}

#[test]
fn rv25_02_kept_utf8_text_holding_an_ir87_name_gets_a_dummy() {
    let wd = Workdir::new("rv25_02_kept_utf8_text_holding_an_ir87_name_gets_a_dummy");
    ct_in(IR87, PN_IR87)
        .put(raw_el(tags::CONTENT_DESCRIPTION, VR::LO, "架空花子 CT".as_bytes()))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    assert!(runs_left(&wd, &["架空".as_bytes(), "花子".as_bytes()]).is_empty());
}

/// A kept private blob (UN, in a block a user profile keeps) holding `blob`, in a CT whose set
/// is `charset` and Patient's Name `name`.
fn blob_release(wd: &Workdir, charset: &[u8], name: &[u8], blob: &[u8]) -> Run {
    ct_in(charset, name)
        .put(str_el(dicom_core::Tag(0x0009, 0x0010), VR::LO, "ACME BLOB"))
        .put(raw_el(dicom_core::Tag(0x0009, 0x1001), VR::UN, blob))
        .write(&wd.path("in/a.dcm"));
    let profile = wd.path("p.toml");
    std::fs::write(&profile, "extends = \"basic\"\nkeep_private_creators = [\"ACME BLOB\"]\n").unwrap();
    wd.deid(&["--profile", profile.to_str().unwrap()])
}

#[test]
fn rv25_01_a_kept_private_blob_holding_the_name_in_utf8_in_a_latin1_file_is_removed() {
    let wd = Workdir::new("rv25_01_a_kept_private_blob_holding_the_name_in_utf8_in_a_latin1_file_is_removed");
    blob_release(&wd, b"ISO_IR 100", b"M\xdcLLER^JOS\xc9", "note: José Müller".as_bytes()).assert_code(0);
    assert!(raw(&wd.only_output("out"), dicom_core::Tag(0x0009, 0x1001)).is_none());
}

#[test]
fn rv25_01_a_kept_private_blob_holding_the_name_in_euc_jp_in_a_utf8_file_is_removed() {
    let wd = Workdir::new("rv25_01_a_kept_private_blob_holding_the_name_in_euc_jp_in_a_utf8_file_is_removed");
    // 架空 in EUC-JP.
    blob_release(&wd, b"ISO_IR 192", "Kakuu^Hanako=架空^花子".as_bytes(), b"<x>\xb2\xcd\xb6\xf5</x>").assert_code(0);
    assert!(raw(&wd.only_output("out"), dicom_core::Tag(0x0009, 0x1001)).is_none());
}

#[test]
fn rv25_01_verify_reads_a_private_blob_in_euc_jp() {
    let wd = Workdir::new("rv25_01_verify_reads_a_private_blob_in_euc_jp");
    blob_release(&wd, b"ISO_IR 192", "Kakuu^Hanako=架空^花子".as_bytes(), b"<x>ABCD</x>").assert_code(0);
    // A blob another tool left holding 架空 in EUC-JP.
    let out = wd.only_output("out");
    let mut bytes = std::fs::read(&out).unwrap();
    let at = bytes.windows(4).position(|w| w == b"ABCD").unwrap();
    bytes[at..at + 4].copy_from_slice(b"\xb2\xcd\xb6\xf5");
    std::fs::write(&out, &bytes).unwrap();
    let run = wd.kamei(["verify", "out", "--against", "in", "--profile", "p.toml"]);
    run.assert_code(1);
    assert!(run.stdout().contains("(0009,1001)\tresidual-identifier"), "{}", run.stdout());
}

fn euc(text: &str) -> Vec<u8> {
    encoding_rs::EUC_JP.encode(text).0.into_owned()
}

/// `text` in CP932 with `髙` written with its NEC-selected IBM extension code `EE E0` (as
/// Python's and NEC-heritage encoders write it), not the IBM code `FB FC` the encoder writes.
fn sjis_nec(text: &str) -> Vec<u8> {
    text.split('髙').map(sjis).collect::<Vec<_>>().join(&b"\xee\xe0"[..])
}

#[test]
fn rv32_01_a_shift_jis_name_with_an_nec_selected_kanji_under_latin_1_is_cleaned_in_cp932() {
    let wd = Workdir::new("rv32_01_a_shift_jis_name_with_an_nec_selected_kanji_under_latin_1_is_cleaned_in_cp932");
    let texts = vec![
        (tags::ADDITIONAL_PATIENT_HISTORY, VR::LT, sjis_nec("既往歴：髙橋惠子さんは胃癌手術後。")),
        (tags::ADMITTING_DIAGNOSES_DESCRIPTION, VR::LO, sjis_nec("肺癌疑い（髙橋惠子）")),
    ];
    ct_written(1, b"ISO_IR 100", &sjis_nec("ﾀｶﾊｼ^ｹｲｺ=髙橋^惠子"), &texts).write(&wd.path("in/1.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let left = runs_left(&wd, &[b"\xee\xe0\x8b\xb4", b"\xfb\xfc\x8b\xb4", &sjis("惠子"), &sjis("高橋")]);
    assert!(left.is_empty(), "name left: {left:?}");
    // Written back in CP932 with the value's own codes: every character outside the match whole.
    let diagnoses = raw(&out, tags::ADMITTING_DIAGNOSES_DESCRIPTION).unwrap();
    assert_eq!(diagnoses, padded(&sjis("肺癌疑い（***）")), "{}", String::from_utf8_lossy(&diagnoses));
    assert!(notes(&wd).contains("written back in CP932"));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
    wd.kamei(["verify", "out", "--against", "in"]).assert_code(0);
}

#[test]
fn rv32_06_euc_jp_text_under_latin_1_or_no_character_set_is_cleaned_in_euc_jp() {
    let wd = Workdir::new("rv32_06_euc_jp_text_under_latin_1_or_no_character_set_is_cleaned_in_euc_jp");
    let name = euc("YAMADA^TARO=山田^太郎=やまだ^たろう");
    for (n, charset) in [(1, &b"ISO_IR 100"[..]), (2, &b""[..])] {
        let texts = vec![
            (tags::PATIENT_ADDRESS, VR::LO, euc("静岡県静岡市駿河区登呂一丁目3番5号")),
            (tags::PATIENT_COMMENTS, VR::LT, euc("備考 山田太郎様 検査 以上")),
            (tags::IMAGE_COMMENTS, VR::LT, euc("住所 静岡市駿河区登呂一丁目3番5号 以上")),
        ];
        ct_written(n, charset, &name, &texts).write(&wd.path(&format!("in/{n}.dcm")));
    }
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let outputs = wd.dicom_outputs("out");
    assert_eq!(outputs.len(), 2);
    for out in &outputs {
        // Written back in EUC-JP: the bytes outside the matches as they were.
        let comments = raw(out, tags::PATIENT_COMMENTS).unwrap();
        assert!(comments.starts_with(&euc("備考 ")) && comments.ends_with(&padded(&euc(" 検査 以上"))));
        let image = raw(out, tags::IMAGE_COMMENTS).unwrap();
        assert!(image.starts_with(&euc("住所 ")) && image.ends_with(&padded(&euc(" 以上"))));
    }
    let parts: Vec<Vec<u8>> = ["山田", "太郎", "駿河区", "登呂"].iter().map(|p| euc(p)).collect();
    let left = runs_left(&wd, &parts.iter().map(Vec::as_slice).collect::<Vec<_>>());
    assert!(left.is_empty(), "identifiers left: {left:?}");
    assert!(notes(&wd).contains("written back in EUC-JP"));
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn rv32_06_verify_reads_euc_jp_bytes_written_into_a_utf8_release() {
    let wd = Workdir::new("rv32_06_verify_reads_euc_jp_bytes_written_into_a_utf8_release");
    ct_written(1, b"ISO_IR 192", "YAMADA^TARO=山田^太郎".as_bytes(), &[]).write(&wd.path("in/1.dcm"));
    wd.deid(&["--option", "clean-descriptors"]).assert_code(0);
    wd.kamei(["verify", "out", "--against", "in"]).assert_code(0);
    // Another tool writes the name into the release in EUC-JP.
    let out = wd.only_output("out");
    let mut obj = open(&out);
    // (Clearly EUC-JP: `備` is C8 F7. Bytes all in 0xA1-0xDF, as `山田太郎` alone, also read as
    // CP932 half-width katakana and keep that reading.)
    obj.put(raw_el(tags::SERIES_DESCRIPTION, VR::LO, &euc("備考 山田太郎")));
    obj.write_to_file(&out).unwrap();
    let verify = wd.kamei(["verify", "out", "--against", "in"]);
    assert_ne!(verify.code(), 0, "{}", verify.stdout());
    assert!(verify.stdout().contains("residual-identifier"), "{}", verify.stdout());
}

#[test]
fn rv32_04_a_name_written_with_a_variation_selector_is_cleaned_either_way() {
    let wd = Workdir::new("rv32_04_a_name_written_with_a_variation_selector_is_cleaned_either_way");
    let (ivs, svs) = ("\u{E0100}", "\u{FE00}");
    let cases = [
        (format!("葛{ivs}城^実"), "葛城実さんの検査".to_string()),
        ("葛城^実".to_string(), format!("葛{ivs}城 実 様の検査")),
        ("葛城^実".to_string(), format!("葛{svs}城様の検査")),
        (format!("辻{ivs}^亮"), "辻亮さんの検査".to_string()),
    ];
    for (n, (name, text)) in cases.iter().enumerate() {
        let texts = vec![(tags::PATIENT_COMMENTS, VR::LT, text.as_bytes().to_vec())];
        ct_written(n as u32 + 1, b"ISO_IR 192", name.as_bytes(), &texts).write(&wd.path(&format!("in/{n}.dcm")));
    }
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let outputs = wd.dicom_outputs("out");
    assert_eq!(outputs.len(), 4);
    for out in &outputs {
        let comments = String::from_utf8(raw(out, tags::PATIENT_COMMENTS).unwrap()).unwrap();
        let bare: String =
            comments.chars().filter(|c| !matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')).collect();
        assert!(!bare.contains("葛城") && !bare.contains('辻'), "{comments}");
        assert!(!comments.contains(ivs) && !comments.contains(svs), "a selector of the name is left: {comments:?}");
        assert!(comments.trim_end().ends_with("の検査"), "{comments}");
    }
}

#[test]
fn rv32_05_order_and_procedure_identifiers_are_cleaned_from_text() {
    let wd = Workdir::new("rv32_05_order_and_procedure_identifiers_are_cleaned_from_text");
    let ids = ["PL2024030100123", "FL2024030100123", "RP240301123", "PPS240301123", "SPS240301123"];
    let text =
        format!("オーダ番号 {} 依頼ID {} 実施ID {} 予約ID {} オーダ {} 参照", ids[0], ids[2], ids[3], ids[4], ids[1]);
    let request = item(vec![
        str_el(tags::SCHEDULED_PROCEDURE_STEP_ID, VR::SH, ids[4]),
        str_el(tags::REQUESTED_PROCEDURE_ID, VR::SH, ids[2]),
    ]);
    ct(1)
        .put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"ISO_IR 192"))
        .put(str_el(tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST, VR::LO, ids[0]))
        .put(str_el(tags::FILLER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST, VR::LO, ids[1]))
        .put(str_el(tags::REQUESTED_PROCEDURE_ID, VR::SH, ids[2]))
        .put(str_el(tags::PERFORMED_PROCEDURE_STEP_ID, VR::SH, ids[3]))
        .put(seq_el(tags::REQUEST_ATTRIBUTES_SEQUENCE, vec![request]))
        .put(raw_el(tags::PATIENT_COMMENTS, VR::LT, &padded(text.as_bytes())))
        .write(&wd.path("in/a.dcm"));
    let run = wd.deid(&["--option", "clean-descriptors"]);
    run.assert_code(0);
    let out = wd.only_output("out");
    let comments = String::from_utf8(raw(&out, tags::PATIENT_COMMENTS).unwrap()).unwrap();
    assert!(comments.starts_with("オーダ番号 *** 依頼ID ***"), "{comments}");
    let left = runs_left(&wd, &ids.iter().map(|i| i.as_bytes()).collect::<Vec<_>>());
    assert!(left.is_empty(), "order identifiers left: {left:?}");
    assert_no_leak(&wd, "out", &run, CT_CANARIES);
}

#[test]
fn rv32_05_verify_looks_for_order_identifiers() {
    let wd = Workdir::new("rv32_05_verify_looks_for_order_identifiers");
    ct(1)
        .put(str_el(tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST, VR::LO, "PL2024030100123"))
        .write(&wd.path("in/a.dcm"));
    wd.deid(&[]).assert_code(0);
    let out = wd.only_output("out");
    let mut obj = open(&out);
    obj.put(str_el(tags::SERIES_DESCRIPTION, VR::LO, "order PL2024030100123"));
    obj.write_to_file(&out).unwrap();
    let verify = wd.kamei(["verify", "out", "--against", "in"]);
    assert!(verify.stdout().contains("Placer Order Number"), "{}", verify.stdout());
}

#[test]
fn rv32_02_one_issuer_in_two_character_sets_is_one_issuer() {
    let wd = Workdir::new("rv32_02_one_issuer_in_two_character_sets_is_one_issuer");
    let issuer = "静岡市立中央病院";
    let jis = encoding_rs::ISO_2022_JP.encode(issuer).0.into_owned();
    ct(1)
        .put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, IR87))
        .put(raw_el(tags::ISSUER_OF_PATIENT_ID, VR::LO, &padded(&jis)))
        .write(&wd.path("same/1.dcm"));
    ct(2)
        .put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"ISO_IR 192"))
        .put(raw_el(tags::ISSUER_OF_PATIENT_ID, VR::LO, &padded(issuer.as_bytes())))
        .write(&wd.path("same/2.dcm"));
    let k = key(&wd, "key", 7);
    let k = k.to_str().unwrap();
    let run = wd.kamei(["deid", "same", "-o", "out", "--key", k]);
    run.assert_code(0);
    assert!(!run.stderr().contains("Issuer of Patient ID"), "{}", run.stderr());
    // Control: another issuer still warns.
    ct(3)
        .put(raw_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"ISO_IR 192"))
        .put(raw_el(tags::ISSUER_OF_PATIENT_ID, VR::LO, &padded("静岡県立総合病院".as_bytes())))
        .write(&wd.path("same/3.dcm"));
    let run = wd.kamei(["deid", "same", "-o", "out2", "--key", k]);
    run.assert_code(0);
    assert!(run.stderr().contains("Issuer of Patient ID"), "{}", run.stderr());
}

#[test]
fn rv32_03_a_birth_date_in_japanese_spellings_is_cleaned_under_retain_long_full_dates() {
    let wd = Workdir::new("rv32_03_a_birth_date_in_japanese_spellings_is_cleaned_under_retain_long_full_dates");
    let spellings = [
        "生年月日 S35/03/15",
        "生年月日 35/03/15",
        "生年月日：昭和３５年　３月１５日",
        "昭和三十五年三月十五日生",
        "1960(昭和35)年3月15日生",
    ];
    for (n, s) in spellings.iter().enumerate() {
        let texts = vec![(tags::PATIENT_COMMENTS, VR::LT, format!("備考 {s} 以上").into_bytes())];
        ct_written(n as u32 + 1, b"ISO_IR 192", "YAMADA^TARO".as_bytes(), &texts)
            .put(str_el(tags::PATIENT_BIRTH_DATE, VR::DA, "19600315"))
            .write(&wd.path(&format!("in/{n}.dcm")));
    }
    let run = wd.deid(&["--option", "clean-descriptors", "--option", "retain-long-full-dates"]);
    run.assert_code(0);
    for out in wd.dicom_outputs("out") {
        let comments = String::from_utf8(raw(&out, tags::PATIENT_COMMENTS).unwrap()).unwrap();
        assert!(comments.starts_with("備考 ") && comments.trim_end().ends_with(" 以上"), "{comments}");
        for gone in ["35", "３５", "三十五", "15", "１５"] {
            assert!(!comments.contains(gone), "birth date left: {comments}");
        }
    }
}
