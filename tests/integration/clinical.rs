//! `kamei clinical csv`, `kamei clinical ss-mix2` and `kamei link` on the synthetic fixtures in
//! testdata/clinical/ (fictional people, written by make_fixtures.py) and a DICOM set built
//! here: one key, the same pseudonym and date shift in all three, no identifier left anywhere.

use crate::util::*;
use dicom_dictionary_std::tags;
use kamei::clinical::hl7::Message;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const P1: &str = "1234567890";
const P2: &str = "2345678901";
const CSV_ONLY: &str = "3456789012";
const IMAGES_ONLY: &str = "9999000001";
/// The Study Instance UID that the fixture's OMG-11 IPC-3 names.
const P1_STUDY: &str = "1.2.826.0.1.3680043.8.498.4201";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/clinical")
}

fn fx(name: &str) -> String {
    fixtures().join(name).to_string_lossy().into_owned()
}

/// Images for P1, P2 and a patient with no clinical data; deid with the key and options.
fn images(wd: &Workdir, key: &Path, options: &[&str]) -> Run {
    for (i, (id, study)) in
        [(P1, P1_STUDY), (P2, "1.2.826.0.1.3680043.8.498.4202"), (IMAGES_ONLY, "1.2.826.0.1.3680043.8.498.4203")]
            .iter()
            .enumerate()
    {
        Fixture::ct(id, study, &format!("{study}.1"), &format!("{study}.1.{i}"))
            .write(&wd.path(&format!("dicom/{i}.dcm")));
    }
    let mut args = vec!["deid", "dicom", "-o", "images", "--key", key.to_str().unwrap(), "-q"];
    for o in options {
        args.extend(["--option", o]);
    }
    wd.kamei(args)
}

fn csv_run(wd: &Workdir, key: &Path, options: &[&str], out: &str) -> Run {
    let (labs, sjis, columns) = (fx("labs.csv"), fx("labs_sjis.csv"), fx("columns.example.toml"));
    let link = wd.path(&format!("{out}.linkage.csv"));
    let mut args = vec![
        "clinical",
        "csv",
        &labs,
        &sjis,
        "-o",
        out,
        "--key",
        key.to_str().unwrap(),
        "--columns",
        &columns,
        "--linkage",
        link.to_str().unwrap(),
    ];
    for o in options {
        args.extend(["--option", o]);
    }
    wd.kamei(args)
}

/// `kamei clinical csv in -o out` with the test's own `cols.toml` and key 7, and `options`.
fn csv_of_in(wd: &Workdir, options: &[&str]) -> Run {
    let k = key(wd, "k.key", 7);
    let mut args = vec!["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    for o in options {
        args.extend(["--option", o]);
    }
    wd.kamei(args)
}

fn ssmix2_run(wd: &Workdir, key: &Path, options: &[&str], out: &str) -> Run {
    let root = fx("ss-mix2");
    let link = wd.path(&format!("{out}.linkage.csv"));
    let mut args = vec![
        "clinical",
        "ss-mix2",
        &root,
        "-o",
        out,
        "--key",
        key.to_str().unwrap(),
        "--linkage",
        link.to_str().unwrap(),
    ];
    for o in options {
        args.extend(["--option", o]);
    }
    wd.kamei(args)
}

/// Rows of a UTF-8 CSV output, header first.
fn rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect()
}

fn column<'a>(rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = rows[0].iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    rows[1..].iter().map(|r| r[i].as_str()).collect()
}

/// Image pseudonym of each original ID (hierarchy layout: OUT/<pseudonym>/...), and its
/// StudyDate and StudyInstanceUID.
fn image_patients(wd: &Workdir) -> BTreeMap<String, (String, Option<String>, String)> {
    let mut out = BTreeMap::new();
    for path in wd.dicom_outputs("images") {
        let obj = open(&path);
        let id = text(&obj, tags::PATIENT_ID).unwrap();
        let date = text(&obj, tags::STUDY_DATE).filter(|d| !d.is_empty());
        let study = text(&obj, tags::STUDY_INSTANCE_UID).unwrap();
        out.insert(id.clone(), (id, date, study));
    }
    out
}

fn days(a: &str, b: &str) -> i64 {
    let p = |s: &str| kamei::clinical::values::parse(s).unwrap_or_else(|| panic!("{s} is not a date"));
    (p(b) - p(a)).num_days()
}

/// Output SS-MIX2 files: relative path → bytes.
fn tree(wd: &Workdir, out: &str) -> BTreeMap<String, Vec<u8>> {
    wd.files(out)
        .into_iter()
        .filter(|p| !p.to_string_lossy().starts_with("kamei-"))
        .map(|p| (p.to_string_lossy().into_owned(), std::fs::read(wd.path(out).join(&p)).unwrap()))
        .collect()
}

fn segment<'a>(m: &'a Message, name: &str) -> &'a kamei::clinical::hl7::Segment {
    m.segments.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn same_pseudonym_and_date_shift_in_images_csv_and_ssmix2() {
    let wd = Workdir::new("same_pseudonym_and_date_shift_in_images_csv_and_ssmix2");
    let k = key(&wd, "k.key", 7);
    images(&wd, &k, &["retain-long-modified-dates"]).assert_code(0);
    csv_run(&wd, &k, &["retain-long-modified-dates"], "csv").assert_code(1); // one ragged row
    ssmix2_run(&wd, &k, &["retain-long-modified-dates", "keep-invalid"], "ss").assert_code(1); // one bad message

    let pseudo = |id: &str| {
        kamei::pseudo::Pseudonymizer::new(
            &kamei::pseudo::PseudonymKey::from_bytes([7; 32]),
            kamei::profile::DateShiftPolicy::default(),
        )
        .patient_pseudonym(kamei::pseudo::Patient::Id(id))
    };
    let imgs = image_patients(&wd);
    assert_eq!(imgs.len(), 3);
    let (p1, p2) = (pseudo(P1), pseudo(P2));
    assert!(imgs.contains_key(&p1) && imgs.contains_key(&p2), "{imgs:?}");

    // CSV: the patient-id column holds the image pseudonyms.
    let labs = rows(&wd.path("csv/labs.csv"));
    let ids = column(&labs, "patient_id");
    assert_eq!(ids, [p1.as_str(), &p1, &p2, &pseudo(CSV_ONLY)]);
    let sjis = rows(&wd.path("csv/labs_sjis.csv"));
    assert_eq!(column(&sjis, "患者ID"), [p1.as_str(), &p2]);

    // SS-MIX2: folders, file names and PID-3 hold the same pseudonym.
    let ss = tree(&wd, "ss");
    assert!(
        ss.keys().all(|p| p.starts_with(&format!("{}/{}/{p1}/", &p1[..3], &p1[3..6]))
            || p.starts_with(&format!("{}/{}/{p2}/", &p2[..3], &p2[3..6]))),
        "{:?}",
        ss.keys()
    );
    for (path, bytes) in &ss {
        let name = path.rsplit('/').next().unwrap();
        let m = Message::parse(bytes).unwrap();
        let pid3 = String::from_utf8_lossy(segment(&m, "PID").field(3)).into_owned();
        assert!(name.starts_with(&pid3[..20]), "{path}: PID-3 {pid3}");
        assert!(pid3 == format!("{}^^^^PI", &name[..20]), "{pid3}");
    }

    // One date shift per patient everywhere: images (StudyDate 20240201), CSV (visit_date
    // 2024-02-01), SS-MIX2 (folder 20240402, file-name timestamps, PV1-44).
    let image_shift = days("20240201", imgs[&p1].1.as_deref().unwrap());
    assert!(image_shift < 0);
    assert_eq!(days("2024-02-01", column(&labs, "visit_date")[0]), image_shift);
    assert_eq!(days("2024/02/01", column(&sjis, "受診日")[0]), image_shift);
    assert_eq!(days("2024-02-01", &column(&labs, "collected_at")[0][..10]), image_shift);
    let adt12 = ss.keys().find(|p| p.contains("/ADT-12/") && p.contains(&p1)).unwrap();
    let parts: Vec<&str> = adt12.split('/').collect();
    assert_eq!(days("20240402", parts[3]), image_shift, "date folder");
    let fields: Vec<&str> = parts[5].split('_').collect();
    assert_eq!(fields[1], parts[3], "file-name date = folder date");
    assert_eq!(days("20240402", &fields[4][..8]), image_shift, "file-name timestamp");
    assert_eq!(&fields[4][8..], "090000000", "the time of day is kept");
    let m = Message::parse(&ss[adt12]).unwrap();
    let pv1_44 = String::from_utf8_lossy(segment(&m, "PV1").field(44)).into_owned();
    assert_eq!(days("20240402", &pv1_44[..8]), image_shift, "PV1-44");
    // P2's shift is its own, and the same in images and CSV.
    let shift2 = days("20240201", imgs[&p2].1.as_deref().unwrap());
    assert_eq!(days("2024-04-10", column(&labs, "visit_date")[2]), shift2);

    // The order number maps to one token in both files that carry it, in name and message.
    let tokens: Vec<&str> = ss
        .keys()
        .filter(|p| p.contains("/OMG-01/") || p.contains("/OMG-11/"))
        .map(|p| p.rsplit('/').next().unwrap().split('_').nth(3).unwrap())
        .collect();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0], tokens[1]);
    assert_ne!(tokens[0], "000000000012347");
    let omg11 = ss.iter().find(|(p, _)| p.contains("/OMG-11/")).unwrap().1;
    let m = Message::parse(omg11).unwrap();
    assert!(segment(&m, "ORC").field(2).starts_with(tokens[0].as_bytes()));
    // IPC-3 is the Study Instance UID kamei deid wrote for the same study.
    assert_eq!(String::from_utf8_lossy(segment(&m, "IPC").field(3)), imgs[&p1].2);

    // The link report sees the same patients.
    let report = wd.kamei(["link", "report", "--images", "images", "--clinical", "csv", "ss"]);
    report.assert_code(0);
    let out = report.stdout();
    assert!(out.contains("csv\tcsv\t1\t1\t2\n"), "{out}");
    assert!(out.contains("ss\tss-mix2\t1\t0\t2\n"), "{out}");
    let overlap = out.lines().find(|l| l.starts_with(&format!("csv\t{p1}\tboth"))).unwrap();
    assert!(overlap.ends_with("\t1"), "images on one day inside the clinical range: {overlap}");
}

/// Needles in the three encodings kamei reads: UTF-8, ISO-2022-JP (SS-MIX2), Shift_JIS (CSV).
fn encodings(needle: &str) -> Vec<Vec<u8>> {
    let jis = kamei::charset::CharacterSet::from_value(b"\\ISO 2022 IR 87").unwrap();
    let mut v = vec![needle.as_bytes().to_vec()];
    let j = jis.encode(needle, dicom_core::VR::LT);
    if j.exact && j.bytes != needle.as_bytes() {
        // Inside a longer run the text follows ESC $ B directly and has no ESC ( B after it.
        v.push(
            j.bytes.strip_prefix(b"\x1b$B").unwrap_or(&j.bytes).strip_suffix(b"\x1b(B").unwrap_or(&j.bytes).to_vec(),
        );
    }
    let (s, _, unmappable) = encoding_rs::SHIFT_JIS.encode(needle);
    if !unmappable && s.as_ref() != needle.as_bytes() {
        v.push(s.into_owned());
    }
    v
}

/// Every identifier of the fixtures (names in each script, IDs, birth dates, phones, postal
/// codes, addresses, employer, insurer, order numbers, staff, private notes).
const IDENTIFIERS: &[&str] = &[
    P1,
    P2,
    CSV_ONLY,
    "架空",
    "花子",
    "カクウ",
    "ハナコ",
    "太郎",
    "タロウ",
    "虚構",
    "次郎",
    "キョコウ",
    "ジロウ",
    "ｷｮｺｳ",
    "見本",
    "三子",
    "検証",
    "一郎",
    "ケンショウ",
    "イチロウ",
    "試験",
    "19850315",
    "1985-03-15",
    "1985/03/15",
    "1985年3月15日",
    "19400220",
    "1940-02-20",
    "2001-12-01",
    "03-0000-0000",
    "03-0000-0001",
    "03-0000-0002",
    "03-0000-0003",
    "999-9999",
    "999-9998",
    "999-9997",
    "東京都",
    "06999999",
    "試験健康保険組合",
    "試験商事株式会社",
    "000000000012345",
    "000000000012346",
    "000000000012347",
    "000000000022222",
    "000000000067890",
    "20240401000001",
    "RX0000000777",
    "SP0000000999",
    "V000000000042",
    "ACC0000000123",
    "TESTHOSP",
    "TESTUSR",
    "CANARY",
];

fn assert_absent(wd: &Workdir, dirs: &[&str], stderr: &str, needles: &[&str]) {
    for needle in needles {
        for bytes in encodings(needle) {
            for dir in dirs {
                assert_eq!(wd.tree_contains(dir, &bytes), None, "{needle:?} ({bytes:02x?}) survives in {dir}");
            }
            let (text, _, _) = encoding_rs::UTF_8.decode(&bytes);
            assert!(!stderr.contains(text.as_ref()), "{needle:?} is in a message: {stderr}");
        }
    }
}

#[test]
fn no_identifier_of_the_fixtures_survives() {
    let wd = Workdir::new("no_identifier_of_the_fixtures_survives");
    let k = key(&wd, "k.key", 7);
    // The most permissive settings: dates shifted, free text cleaned, invalid files kept.
    let r1 = images(&wd, &k, &["retain-long-modified-dates"]);
    let r2 = csv_run(&wd, &k, &["retain-long-modified-dates"], "csv");
    let r3 = ssmix2_run(&wd, &k, &["retain-long-modified-dates", "clean-free-text", "keep-invalid"], "ss");
    let stderr = format!("{}{}{}", r1.stderr(), r2.stderr(), r3.stderr());
    // The needles are found where they should be (the search works in each encoding).
    for (needle, file) in [
        ("架空", "ss-mix2/123/456/1234567890/-/ADT-00"),
        ("03-0000-0000", "ss-mix2/123/456/1234567890/-/ADT-00"),
        ("虚構", "labs_sjis.csv"),
        ("ｷｮｺｳ", "labs_sjis.csv"),
    ] {
        let path = fixtures().join(file);
        let bytes = if path.is_dir() {
            std::fs::read(std::fs::read_dir(&path).unwrap().next().unwrap().unwrap().path()).unwrap()
        } else {
            std::fs::read(&path).unwrap()
        };
        assert!(encodings(needle).iter().any(|n| bytes.windows(n.len()).any(|w| w == n)), "{needle} in {file}");
    }
    assert_absent(&wd, &["images", "csv", "ss"], &stderr, IDENTIFIERS);
    // Without the date option no date of the fixtures is left (dates are removed, folders are
    // "-", file-name timestamps are keyed tokens).
    let r4 = csv_run(&wd, &k, &[], "csv-nodates");
    let r5 = ssmix2_run(&wd, &k, &["clean-free-text"], "ss-nodates");
    let stderr = format!("{}{}", r4.stderr(), r5.stderr());
    assert_absent(&wd, &["csv-nodates", "ss-nodates"], &stderr, IDENTIFIERS);
    let dates = [
        "20240401",
        "20240402",
        "20240405",
        "20240410",
        "20240415",
        "20200110",
        "2024-02-01",
        "2024-04",
        "2024/02/01",
        "2024/4/2",
        "2024-05-01",
    ];
    assert_absent(&wd, &["csv-nodates", "ss-nodates"], &stderr, &dates);
    for (path, _) in tree(&wd, "ss-nodates") {
        let parts: Vec<&str> = path.split('/').collect();
        assert_eq!(parts[3], "-", "{path}");
        let ts = parts[5].split('_').nth(4).unwrap();
        assert!(ts.len() == 17 && ts.bytes().all(|b| b.is_ascii_digit()), "{path}");
        assert!(!ts.starts_with("2024") && !ts.starts_with("2020"), "{path}: a token, not the timestamp");
    }
    let labs = rows(&wd.path("csv-nodates/labs.csv"));
    assert!(!labs[0].iter().any(|h| h == "visit_date" || h == "collected_at"), "{:?}", labs[0]);
}

#[test]
fn malformed_rows_and_messages_are_reported_and_the_run_goes_on() {
    let wd = Workdir::new("malformed_rows_and_messages_are_reported_and_the_run_goes_on");
    let k = key(&wd, "k.key", 7);
    let run = csv_run(&wd, &k, &[], "csv");
    run.assert_code(1);
    let err = run.stderr();
    assert!(err.contains("labs.csv: line 6: row dropped: 9 fields, the header has 16"), "{err}");
    assert!(err.contains("1 dropped as malformed"), "{err}");
    assert_eq!(rows(&wd.path("csv/labs.csv")).len(), 5, "header + 4 rows (one with an embedded newline)");
    let audit = wd.audit("csv");
    assert_eq!(audit.len(), 2);
    let labs = audit.iter().find(|r| r["output"] == "labs.csv").unwrap();
    assert!(labs["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("line 6")), "{labs}");

    let run = ssmix2_run(&wd, &k, &[], "ss");
    run.assert_code(1);
    let err = run.stderr();
    assert!(err.contains("not copied: the message does not parse: not an HL7 v2 message"), "{err}");
    assert!(err.contains("1 skipped (condition flag 0), 1 failed"), "{err}");
    let files = tree(&wd, "ss");
    assert_eq!(files.len(), 9, "{:?}", files.keys());
    assert!(!files.keys().any(|p| p.contains("/ADT-12/") && p.contains(&kamei_pseudonym(P2))));
    assert!(!files.keys().any(|p| p.ends_with("_0")), "flag 0 files are dropped by default");
    let audit = wd.audit("ss");
    assert_eq!(audit.len(), 11);
    assert_eq!(audit.iter().filter(|r| r["outcome"] == "failed").count(), 1);
    assert_eq!(audit.iter().filter(|r| r["outcome"] == "skipped").count(), 1);
    // A re-run finds everything in place.
    let again = ssmix2_run(&wd, &k, &[], "ss");
    assert!(again.stderr().contains("0 written, 9 already present"), "{}", again.stderr());
    // Another key into the same output is refused.
    let other = key(&wd, "other.key", 8);
    ssmix2_run(&wd, &other, &[], "ss").assert_code(2);
}

fn kamei_pseudonym(id: &str) -> String {
    kamei::pseudo::Pseudonymizer::new(
        &kamei::pseudo::PseudonymKey::from_bytes([7; 32]),
        kamei::profile::DateShiftPolicy::default(),
    )
    .patient_pseudonym(kamei::pseudo::Patient::Id(id))
}

#[test]
fn ssmix2_messages_keep_clinical_content_and_lose_identifiers() {
    let wd = Workdir::new("ssmix2_messages_keep_clinical_content_and_lose_identifiers");
    let k = key(&wd, "k.key", 7);
    ssmix2_run(&wd, &k, &["clean-free-text"], "ss").assert_code(1);
    let files = tree(&wd, "ss");
    let get = |t: &str| {
        let (_, b) = files.iter().find(|(p, _)| p.contains(t) && p.contains(&kamei_pseudonym(P1))).unwrap();
        Message::parse(b).unwrap()
    };
    let adt = get("/ADT-00/");
    let pid = segment(&adt, "PID");
    for n in [5, 11, 13, 14] {
        let f = pid.field(n);
        assert!(!f.contains(&0x1b), "PID-{n} keeps text: {:?}", String::from_utf8_lossy(f));
    }
    assert_eq!(pid.field(7), b"198503", "birth date generalised to year-month");
    assert_eq!(pid.field(8), b"F");
    assert_eq!(pid.field(11), b"^^^^999^JPN^H", "postal prefix, country and type only");
    assert!(segment(&adt, "NK1").field(2).is_empty() && segment(&adt, "NK1").field(13).is_empty());
    let in1 = segment(&adt, "IN1");
    assert!(in1.field(3).is_empty() && in1.field(4).is_empty() && in1.field(10).is_empty());
    assert_eq!(adt.decode(&adt.delimiters.parse_field(segment(&adt, "OBX").field(3))[0][1][0]).text, "身長");
    assert_eq!(segment(&adt, "OBX").field(5), b"158.0");
    let lab = get("/OML-11/");
    let obx: Vec<_> = lab.segments.iter().filter(|s| s.name == "OBX").collect();
    assert_eq!(obx[0].field(5), b"6.1");
    assert_eq!(lab.decode(obx[1].field(5)).text, "陰性", "ST results are kept (cleaned)");
    assert_eq!(lab.decode(obx[2].field(5)).text, "***様 溶血あり 再検 連絡先 ***");
    assert!(segment(&lab, "OBR").field(16).is_empty(), "ordering provider removed");
    let omg = get("/OMG-01/");
    assert!(!omg.segments.iter().any(|s| s.name == "ZE1"), "unlisted Z-segments are removed");
    assert_eq!(omg.decode(segment(&omg, "OBR").field(13)).text, "***様 ***生 咳嗽");
    // Without clean-free-text the text goes.
    ssmix2_run(&wd, &k, &[], "ss2").assert_code(1);
    let files = tree(&wd, "ss2");
    let (_, b) = files.iter().find(|(p, _)| p.contains("/OML-11/") && p.contains(&kamei_pseudonym(P1))).unwrap();
    let lab = Message::parse(b).unwrap();
    let obx: Vec<_> = lab.segments.iter().filter(|s| s.name == "OBX").collect();
    assert_eq!(obx[0].field(5), b"6.1", "numbers are kept");
    assert!(obx[1].field(5).is_empty() && obx[2].field(5).is_empty(), "text values are removed");
    assert!(!lab.segments.iter().any(|s| s.name == "NTE" && !s.field(3).is_empty()));
}

#[test]
fn shift_jis_input_round_trips_its_japanese_text() {
    let wd = Workdir::new("shift_jis_input_round_trips_its_japanese_text");
    let k = key(&wd, "k.key", 7);
    csv_run(&wd, &k, &["retain-long-modified-dates"], "csv").assert_code(1);
    let out = std::fs::read(wd.path("csv/labs_sjis.csv")).unwrap();
    let text = std::str::from_utf8(&out).expect("output is UTF-8");
    let rows = rows(&wd.path("csv/labs_sjis.csv"));
    assert_eq!(rows[0], ["患者ID", "生年月日", "性別", "郵便番号", "受診日", "検査名", "結果", "コメント"]);
    assert_eq!(column(&rows, "検査名"), ["ＨｂＡ１ｃ", "ＨｂＡ１ｃ"]);
    assert_eq!(column(&rows, "生年月日"), ["1985/03", "1940/02"]);
    assert_eq!(column(&rows, "郵便番号"), ["999", "999"]);
    assert_eq!(column(&rows, "コメント"), ["①髙橋医師確認 ***様", "特記なし"], "only the match is replaced");
    // Kept text is the text of the input (CP932 decoding; 髙 is a CP932-only character written
    // as 0xEEE0 by this fixture's encoder, 0xFBFC by others: both read as U+9AD9).
    let input = std::fs::read(fixtures().join("labs_sjis.csv")).unwrap();
    let (decoded, _, bad) = encoding_rs::SHIFT_JIS.decode(&input);
    assert!(!bad);
    for kept in ["患者ID", "ＨｂＡ１ｃ", "特記なし", "コメント", "髙橋医師確認"] {
        assert!(decoded.contains(kept), "{kept} in the input");
        assert!(text.contains(kept), "{kept} in the output");
    }
    // Text that was not changed goes back to the same Shift_JIS bytes.
    for kept in ["ＨｂＡ１ｃ", "特記なし"] {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(kept);
        assert!(input.windows(sjis.len()).any(|w| w == sjis.as_ref()), "{kept}");
    }
    // UTF-8 with BOM input: the BOM is not copied.
    assert!(!std::fs::read(wd.path("csv/labs.csv")).unwrap().starts_with(b"\xEF\xBB\xBF"));
}

#[test]
fn columns_file_problems_and_unknown_columns() {
    let wd = Workdir::new("columns_file_problems_and_unknown_columns");
    let k = key(&wd, "k.key", 7);
    std::fs::write(wd.path("bad.toml"), "[columns]\npatient_id = \"patient-id\"\nvalue = \"shred\"\n").unwrap();
    let labs = fx("labs.csv");
    let run = wd.kamei(["clinical", "csv", &labs, "-o", "out", "--key", k.to_str().unwrap(), "--columns", "bad.toml"]);
    run.assert_code(2);
    assert!(run.stderr().contains("bad.toml:3:9: column \"value\": unknown role \"shred\""), "{}", run.stderr());
    std::fs::write(wd.path("short.toml"), "[columns]\npatient_id = \"patient-id\"\n").unwrap();
    let run =
        wd.kamei(["clinical", "csv", &labs, "-o", "out", "--key", k.to_str().unwrap(), "--columns", "short.toml"]);
    run.assert_code(1);
    assert!(run.stderr().contains("not named in the columns file"), "{}", run.stderr());
    assert!(!run.stderr().contains("patient_name"), "header cells are not printed: {}", run.stderr());
    assert!(!wd.path("out/labs.csv").exists(), "nothing leaves by default");
    // No key: refused before anything is read.
    let run = wd.kamei(["clinical", "csv", &labs, "-o", "out", "--columns", "short.toml"]);
    run.assert_code(2);
    // The linkage table may not go inside the output.
    let run = wd.kamei([
        "clinical",
        "csv",
        &labs,
        "-o",
        "out",
        "--key",
        k.to_str().unwrap(),
        "--columns",
        "short.toml",
        "--linkage",
        "out/link.csv",
    ]);
    run.assert_code(2);
}

#[test]
fn k_anonymity_lists_small_groups() {
    let wd = Workdir::new("k_anonymity_lists_small_groups");
    let k = key(&wd, "k.key", 7);
    csv_run(&wd, &k, &[], "csv");
    let run = wd.kamei(["link", "k-anonymity", "csv/labs.csv"]);
    run.assert_code(1);
    let out = run.stdout();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("birth_date\tage\tsex\tpostal_code\tdepartment\tpatients"));
    assert_eq!(out.lines().count(), 4, "three groups of one patient each: {out}");
    assert!(out.contains("1940-02\t90+\tM\t999\t外科\t1\n"), "{out}");
    let run = wd.kamei(["link", "k-anonymity", "csv/labs.csv", "--quasi", "sex", "--k", "2"]);
    run.assert_code(1);
    assert_eq!(run.stdout(), "sex\tpatients\nM\t1\n");
    wd.kamei(["link", "k-anonymity", "csv/labs.csv", "--quasi", "sex", "--k", "2", "--patient-column", "unit"])
        .assert_code(1);
}

#[test]
fn k_anonymity_counts_ragged_rows_as_malformed_without_printing_them() {
    // rv35: a row with more fields (`BBB,F,山田太郎,0901234567`) or fewer (`CCC`) than the header
    // was grouped with shifted columns and printed as a group (`F  山田太郎  1`), exit as usual.
    let wd = Workdir::new("k_anonymity_counts_ragged_rows_as_malformed_without_printing_them");
    let mut text = String::from("pid,sex,name\n");
    for i in 0..3 {
        text.push_str(&format!("P{i},M,\n"));
    }
    text.push_str("BBB,F,山田太郎,0901234567\nCCC\n");
    std::fs::write(wd.path("r.csv"), text).unwrap();
    let run = wd.kamei(["link", "k-anonymity", "r.csv", "--quasi", "sex", "--quasi", "name", "--k", "3"]);
    run.assert_code(1);
    assert_eq!(run.stdout(), "sex\tname\trows\n", "no group is small, the ragged rows are in none");
    let err = run.stderr();
    assert!(err.contains("line 5: the row has 4 fields, the header has 3"), "{err}");
    assert!(err.contains("line 6: the row has 1 fields, the header has 3"), "{err}");
    assert!(err.contains("2 malformed"), "{err}");
    for value in ["山田太郎", "0901234567", "BBB", "CCC"] {
        assert!(!err.contains(value), "{value} printed: {err}");
    }
    std::fs::write(wd.path("ok.csv"), "pid,sex\nP1,M\nP2,M\n").unwrap();
    wd.kamei(["link", "k-anonymity", "ok.csv", "--quasi", "sex", "--k", "2"]).assert_code(0);
}

/// Peak resident memory (VmHWM) of a child, polled from /proc while it runs, in kB.
fn peak_kb(mut child: std::process::Child) -> (u64, std::process::ExitStatus) {
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            if let Some(line) = s.lines().find(|l| l.starts_with("VmHWM:")) {
                let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
                peak = peak.max(kb);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (peak, status);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn csv_streams_in_flat_memory() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("csv_streams_in_flat_memory: skipped (no /proc)");
        return;
    }
    let wd = Workdir::new("csv_streams_in_flat_memory");
    let k = key(&wd, "k.key", 7);
    std::fs::write(
        wd.path("c.toml"),
        "[columns]\npatient_id = \"patient-id\"\nvisit_date = \"date\"\nvalue = \"keep\"\nnote = \"keep\"\n",
    )
    .unwrap();
    let write = |name: &str, rows: usize| {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(wd.path(name)).unwrap());
        writeln!(f, "patient_id,visit_date,value,note").unwrap();
        for i in 0..rows {
            writeln!(
                f,
                "P{:07},2024-{:02}-{:02},{}.{},\"検査 結果 {i} 異常なし\"",
                i % 5000,
                i % 12 + 1,
                i % 28 + 1,
                i,
                i % 10
            )
            .unwrap();
        }
    };
    write("small.csv", 20_000);
    write("big.csv", 400_000);
    let run = |name: &str| {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_kamei"))
            .args(["clinical", "csv", name, "-o", &format!("out-{name}"), "--key", k.to_str().unwrap()])
            .args(["--columns", "c.toml", "--option", "retain-long-modified-dates", "-q"])
            .current_dir(&wd.root)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let (peak, status) = peak_kb(child);
        assert!(status.success());
        peak
    };
    let small = run("small.csv");
    let big = run("big.csv");
    let big_mb = std::fs::metadata(wd.path("big.csv")).unwrap().len() / 1_000_000;
    assert!(big_mb >= 15, "{big_mb} MB");
    // Twenty times the input, and peak memory grows by less than a tenth of the input.
    assert!(big < small + 8_000, "peak {small} kB for the small file, {big} kB for {big_mb} MB");
}

/// An SS-MIX2 MSH (ISO-2022-JP) for the messages the tests below build.
const SS_MSH: &str = "MSH|^~\\&|HIS|H|SSMIX2|H|20240402143000||OUL^R22^OUL_R22|C1|P|2.5||||||~ISO IR87||ISO 2022-1994";

/// A segment as SS-MIX2 senders write it: each run of text between delimiters in ISO-2022-JP,
/// back to ASCII before every delimiter.
fn jis_segment(segment: &str) -> Vec<u8> {
    let jis = kamei::charset::CharacterSet::from_value(b"\\ISO 2022 IR 87").unwrap();
    let mut out = Vec::new();
    let mut run = String::new();
    for c in segment.chars() {
        if "|^~&".contains(c) {
            out.extend(jis.encode(&run, dicom_core::VR::LT).bytes);
            out.push(c as u8);
            run.clear();
        } else {
            run.push(c);
        }
    }
    out.extend(jis.encode(&run, dicom_core::VR::LT).bytes);
    out
}

/// Write one OML-11 message of patient P1 under `wd/root`, segments ending in CR.
fn put_p1_message(wd: &Workdir, segments: &[Vec<u8>]) {
    let dir = wd.path(&format!("root/123/456/{P1}/20240402/OML-11"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = Vec::new();
    for s in segments {
        bytes.extend_from_slice(s);
        bytes.push(b'\r');
    }
    std::fs::write(dir.join(format!("{P1}_20240402_OML-11_000000000012346_20240402143000000_01_1")), bytes).unwrap();
}

fn ssmix2_root_run(wd: &Workdir, options: &[&str]) -> Run {
    let k = key(wd, "k.key", 7);
    let mut args = vec!["clinical", "ss-mix2", "root", "-o", "out", "--key", k.to_str().unwrap()];
    for o in options {
        args.extend(["--option", o]);
    }
    wd.kamei(args)
}

fn audit_notes(wd: &Workdir) -> Vec<String> {
    wd.audit("out")
        .iter()
        .flat_map(|r| r["notes"].as_array().cloned().unwrap_or_default())
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ssmix2_kept_observation_values_holding_the_patients_name_are_removed() {
    let wd = Workdir::new("ssmix2_kept_observation_values_holding_the_patients_name_are_removed");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F",
        "OBX|1|NM|X^c^99||山本美日||||||F",
        "OBX|2|CWE|X^c^99||01^山本美日様 本人^99||||||F",
        "OBX|3|ID|X^c^99||山本美日||||||F",
        "OBX|4|SN|X^c^99||>^山本美日||||||F",
        "OBX|5|NM|X^c^99||1\\F\\山本美日||||||F",
        "OBX|6|NM|X^c^99||158.0|cm|||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &["山本", "美日"]);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let obx5: Vec<&[u8]> = msg.segments.iter().filter(|s| s.name == "OBX").map(|s| s.field(5)).collect();
    assert_eq!(obx5, [&b""[..], b"01^^99", b"", b"", b"", b"158.0"]);
    let notes = audit_notes(&wd);
    assert!(notes.iter().any(|n| n.contains("OBX-5: a value that does not fit its value type")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("OBX-5: a component holding the patient's identifier")), "{notes:?}");
}

#[test]
fn rv35_01_ssmix2_free_text_reads_a_japanese_date_with_the_hour_glued_after_it() {
    let wd = Workdir::new("rv35_01_ssmix2_free_text_reads_a_japanese_date_with_the_hour_glued_after_it");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I",
        "OBR|1|000000000012346||WBC^x^JC10|||20240402090000",
        "NTE|1||採血 2024年4月2日9時30分 実施",
        "OBX|1|TX|1^x^99||前回 2024年4月2日10時||||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    ssmix2_root_run(&wd, &["clean-free-text"]).assert_code(0);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let text = |name: &str, n: usize| msg.decode(segment(&msg, name).field(n)).text;
    assert_eq!(text("NTE", 3), "採血 ***9時30分 実施");
    assert_eq!(text("OBX", 5), "前回 ***10時");
}

#[test]
fn rv35_05_ssmix2_free_text_shifts_the_message_s_own_dates_joined_to_a_word() {
    let wd = Workdir::new("rv35_05_ssmix2_free_text_shifts_the_message_s_own_dates_joined_to_a_word");
    // OBR-7's date (2024-03-30) and the date folder's (2024-04-02, not MSH-7's), each glued to
    // a word.
    let msh = SS_MSH.replace("20240402143000", "20240401143000");
    let segments = [
        msh.as_str(),
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I",
        "OBR|1|000000000012346||WBC^x^JC10|||20240330090000",
        "NTE|1||CT_20240330 / 20240402_1030 / 検査_2024/04/02 / X_20190501",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    ssmix2_root_run(&wd, &["clean-free-text", "retain-long-modified-dates"]).assert_code(0);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let obr7 = String::from_utf8(segment(&msg, "OBR").field(7).to_vec()).unwrap();
    let obr_day = chrono::NaiveDate::parse_from_str(&obr7[..8], "%Y%m%d").unwrap();
    let shift = obr_day - chrono::NaiveDate::from_ymd_opt(2024, 3, 30).unwrap();
    assert_ne!(shift.num_days(), 0);
    let folder_day = chrono::NaiveDate::from_ymd_opt(2024, 4, 2).unwrap() + shift;
    let want = format!(
        "CT_{} / {}_1030 / 検査_{} / X_20190501",
        obr_day.format("%Y%m%d"),
        folder_day.format("%Y%m%d"),
        folder_day.format("%Y/%m/%d")
    );
    assert_eq!(msg.decode(segment(&msg, "NTE").field(3)).text, want);
}

#[test]
fn ssmix2_jis_text_that_does_not_return_to_ascii_fails_the_message() {
    let wd = Workdir::new("ssmix2_jis_text_that_does_not_return_to_ascii_fails_the_message");
    // OBX-3's text ends without ESC ( B, so the `|` after it would swallow OBX-4 and OBX-5.
    let unterminated = jis_segment("コメント");
    let mut obx = b"OBX|1|ST|X1^".to_vec();
    obx.extend_from_slice(unterminated.strip_suffix(b"\x1b(B").unwrap());
    obx.extend_from_slice(b"||");
    obx.extend(jis_segment("山本美日様 03-1111-2222||||||F"));
    put_p1_message(
        &wd,
        &[jis_segment(SS_MSH), jis_segment("PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F"), obx],
    );
    let run = ssmix2_root_run(&wd, &[]);
    run.assert_code(1);
    assert!(run.stderr().contains("segment 3: text in ISO-2022-JP does not return to ASCII"), "{}", run.stderr());
    assert!(tree(&wd, "out").is_empty(), "the message is not copied");
    assert_absent(&wd, &["out"], &run.stderr(), &["山本", "美日", "03-1111-2222", P1]);
    let audit = wd.audit("out");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["outcome"], "failed");
}

#[test]
fn ssmix2_a_message_with_a_second_pid_fails() {
    let wd = Workdir::new("ssmix2_a_message_with_a_second_pid_fails");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F",
        "PID|0002||2345678901^^^^PI||虚構^次郎^^^^^L^I||19400220|M|||^^^^100-0001^JPN^H^東京都千代田区",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &[]);
    run.assert_code(1);
    assert!(run.stderr().contains("not copied: the message has more than one PID segment"), "{}", run.stderr());
    assert!(tree(&wd, "out").is_empty(), "nothing of the second patient is released");
    assert_absent(&wd, &["out"], &run.stderr(), &[P2, "194002", "虚構"]);
}

#[test]
fn ssmix2_an_unreadable_msh18_is_reported_without_its_value() {
    let wd = Workdir::new("ssmix2_an_unreadable_msh18_is_reported_without_its_value");
    let msh = SS_MSH.replace("~ISO IR87", "1234567890 山本美日 03-1111-2222");
    put_p1_message(&wd, &[jis_segment(&msh), jis_segment("PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F")]);
    let run = ssmix2_root_run(&wd, &[]);
    run.assert_code(1);
    assert!(run.stderr().contains("MSH-18"), "{}", run.stderr());
    assert_eq!(wd.audit("out")[0]["outcome"], "failed");
    assert_absent(&wd, &["out"], &run.stderr(), &[P1, "山本美日", "03-1111-2222", "1111"]);
}

#[test]
fn ssmix2_a_nul_between_a_name_and_its_honorific_hides_it_from_nothing() {
    let wd = Workdir::new("ssmix2_a_nul_between_a_name_and_its_honorific_hides_it_from_nothing");
    let segments =
        [SS_MSH, "PID|0001||1234567890^^^^PI||林^花子^^^^^L^I||19850315|F", "OBX|1|ST|X^c^99||林\0様 来院||||||F"];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    // Found as `林様` is: the NUL goes with the match it stands in.
    assert_eq!(msg.decode(segment(&msg, "OBX").field(5)).text, "*** 来院");
}

#[test]
fn ssmix2_a_name_held_whole_in_one_component_is_cleaned_from_free_text() {
    let wd = Workdir::new("ssmix2_a_name_held_whole_in_one_component_is_cleaned_from_free_text");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本　美日^^^^^^L^I||19850315|F",
        "OBX|1|ST|X^c^99||山本様 美日さん 山本美日様||||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &["山本", "美日"]);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    assert_eq!(msg.decode(segment(&msg, "OBX").field(5)).text, "***様 ***さん ***様");
}

#[test]
fn ssmix2_kept_code_text_holding_the_patients_name_is_removed() {
    let wd = Workdir::new("ssmix2_kept_code_text_holding_the_patients_name_is_removed");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F",
        "OBX|1|NM|X1^山本美日様の身長^99||158.0|cm|||||F",
        "OBX|2|NM|3J010000002327101^身長^JC10||158.0|cm|||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &[]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &["山本", "美日"]);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let obx3: Vec<Vec<u8>> = msg.segments.iter().filter(|s| s.name == "OBX").map(|s| s.field(3).to_vec()).collect();
    assert_eq!(obx3[0], b"X1^^99", "the code's text held the name");
    assert_eq!(obx3[1], jis_segment("3J010000002327101^身長^JC10"), "other codes pass byte for byte");
    let notes = audit_notes(&wd);
    assert!(notes.iter().any(|n| n.contains("OBX-3: a kept component holding the patient's identifier")), "{notes:?}");
}

#[test]
fn csv_free_text_loses_a_birth_date_with_an_english_month_name() {
    let wd = Workdir::new("csv_free_text_loses_a_birth_date_with_an_english_month_name");
    let k = key(&wd, "k.key", 7);
    std::fs::write(
        wd.path("cols.toml"),
        "[columns]\npatient_id = \"patient-id\"\nbirth_date = \"birth-date\"\ncomment = \"free-text\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(
        wd.path("in/labs.csv"),
        "patient_id,birth_date,comment\nP7788123,1985-03-15,\"born 15-MAR-1985; Mar 15, 1985\"\n",
    )
    .unwrap();
    wd.kamei([
        "clinical",
        "csv",
        "in/labs.csv",
        "-o",
        "out",
        "--key",
        k.to_str().unwrap(),
        "--columns",
        "cols.toml",
        "-q",
    ])
    .assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/labs.csv")), "comment"), ["born ***; ***"]);
}

/// The per-patient exports of rv5 case 06: named after the patient's name, birth date and ID.
fn per_patient_exports(wd: &Workdir) {
    std::fs::create_dir_all(wd.path("pp")).unwrap();
    for (name, text) in [
        (
            "YAMADA_TARO_19850315_labs.csv",
            "patient_id,patient_name,birth_date,value\nPID7788123,YAMADA TARO,1985-03-15,5\n",
        ),
        ("佐藤花子_検査.csv", "patient_id,patient_name,value\nPID5566778,佐藤 花子,7\n"),
        ("labs_1234567.csv", "patient_id,value\n0001234567,5\n"),
    ] {
        std::fs::write(wd.path("pp").join(name), text).unwrap();
    }
    std::fs::write(
        wd.path("pp.toml"),
        "[columns]\npatient_id = \"patient-id\"\npatient_name = \"name\"\nbirth_date = \"birth-date\"\nvalue = \"keep\"\n",
    )
    .unwrap();
}

fn csv_names(wd: &Workdir, out: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(wd.path(out))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    names.sort();
    names
}

#[test]
fn csv_output_names_hold_no_name_birth_date_or_id_of_the_rows() {
    let wd = Workdir::new("csv_output_names_hold_no_name_birth_date_or_id_of_the_rows");
    per_patient_exports(&wd);
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei(["clinical", "csv", "pp", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "pp.toml"]);
    run.assert_code(0);
    let names = csv_names(&wd, "out");
    assert_eq!(names.len(), 3, "{names:?}");
    let p = pseudonymizer(7);
    let tag = |n: &str| p.token("csv-output-name", n.as_bytes(), 8);
    let pseudonym = |id: &str| p.patient_pseudonym(kamei::pseudo::Patient::Id(id));
    let mut want = vec![
        format!("{}_labs_{}.csv", pseudonym("PID7788123"), tag("YAMADA_TARO_19850315_labs.csv")),
        format!("{}_検査_{}.csv", pseudonym("PID5566778"), tag("佐藤花子_検査.csv")),
        format!("labs_{}_{}.csv", pseudonym("0001234567"), tag("labs_1234567.csv")),
    ];
    want.sort();
    assert_eq!(names, want);
    let canaries = ["YAMADA", "TARO", "19850315", "1234567", "佐藤", "花子"];
    assert_absent(&wd, &["out"], &run.stderr(), &canaries);
}

#[test]
fn csv_output_names_are_the_same_on_a_second_run_and_never_shared() {
    let wd = Workdir::new("csv_output_names_are_the_same_on_a_second_run_and_never_shared");
    per_patient_exports(&wd);
    std::fs::write(wd.path("pp/TARO_YAMADA_labs.csv"), "patient_id,patient_name,value\nPID7788123,YAMADA TARO,6\n")
        .unwrap();
    std::fs::write(wd.path("pp/YAMADA_labs.csv"), "patient_id,patient_name,value\nPID7788123,YAMADA TARO,6\n").unwrap();
    let k = key(&wd, "k.key", 7);
    for out in ["a", "b"] {
        wd.kamei(["clinical", "csv", "pp", "-o", out, "--key", k.to_str().unwrap(), "--columns", "pp.toml", "-q"])
            .assert_code(0);
    }
    let names = csv_names(&wd, "a");
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(names, csv_names(&wd, "b"));
}

#[test]
fn csv_an_input_named_like_another_input_s_cleaned_name_fails() {
    let wd = Workdir::new("csv_an_input_named_like_another_input_s_cleaned_name_fails");
    let p = pseudonymizer(7);
    let cleaned = format!(
        "labs_{}_{}.csv",
        p.patient_pseudonym(kamei::pseudo::Patient::Id("0001234567")),
        p.token("csv-output-name", b"labs_1234567.csv", 8)
    );
    std::fs::create_dir_all(wd.path("pp")).unwrap();
    std::fs::write(wd.path("pp/labs_1234567.csv"), "patient_id,value\n0001234567,5\n").unwrap();
    std::fs::write(wd.path("pp").join(&cleaned), "patient_id,value\n7654321,6\n").unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvalue = \"keep\"\n").unwrap();
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei(["clinical", "csv", "pp", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"]);
    run.assert_code(1);
    assert!(run.stderr().contains("written under the same output name"), "{}", run.stderr());
    assert_eq!(csv_names(&wd, "out"), [cleaned]);
}

#[test]
fn csv_audit_and_messages_name_no_column_and_no_header_cell() {
    // rv7-06: the audit is released with the data and a "header" may be a patient's row, so
    // columns are named by position (actions, notes); rv7-05: a headerless file's first row
    // (an ID with a letter, a name, an address) is never printed.
    let wd = Workdir::new("csv_audit_and_messages_name_no_column_and_no_header_cell");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(
        wd.path("cols.toml"),
        "[columns]\npatient_id = \"patient-id\"\nvisit_date = \"date\"\nsecret_colname = \"keep\"\nname = \"name\"\n",
    )
    .unwrap();
    std::fs::write(
        wd.path("in/labs.csv"),
        "patient_id,visit_date,secret_colname\nP0001234,2024-01-02,1\nP0001234,notadate,2\n",
    )
    .unwrap();
    std::fs::write(
        wd.path("in/export.csv"),
        "A1234567,山田 太郎,東京都千代田区1-1\nA7654321,佐藤 花子,大阪府大阪市2-2\n",
    )
    .unwrap();
    let run = csv_of_in(&wd, &["retain-long-modified-dates"]);
    run.assert_code(1);
    assert!(run.stderr().contains("line 3: column 2 is not a valid date; emptied"), "{}", run.stderr());
    let audit = std::fs::read_to_string(wd.path("out/kamei-audit.jsonl")).unwrap();
    for needle in ["secret_colname", "visit_date", "patient_id", "A1234567", "山田", "千代田"] {
        assert!(!audit.contains(needle), "{needle} in the audit: {audit}");
        assert!(!run.stderr().contains(needle), "{needle} on stderr: {}", run.stderr());
    }
    let records = wd.audit("out");
    let labs = records.iter().find(|r| r["outcome"] == "written").unwrap();
    let tags: Vec<&str> = labs["actions"].as_array().unwrap().iter().map(|a| a["tag"].as_str().unwrap()).collect();
    assert_eq!(tags[..3], ["column 1", "column 2", "column 3"], "{tags:?}");
    assert_eq!(
        std::fs::read_to_string(wd.path("out/labs.csv")).unwrap().lines().next(),
        Some("patient_id,visit_date,secret_colname")
    );
}

#[test]
fn csv_free_text_loses_the_name_in_either_order_and_its_reading_in_parentheses() {
    // rv9 01 and 13: `TaroYamada` (the other order, run together), and a name cell holding its
    // kana reading in parentheses, whose parts were split at spaces only.
    let wd = Workdir::new("csv_free_text_loses_the_name_in_either_order_and_its_reading_in_parentheses");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nname = \"name\"\nnote = \"free-text\"\n")
        .unwrap();
    std::fs::write(
        wd.path("in/labs.csv"),
        "pid,name,note\nP0001234,YAMADA Taro,seen by TaroYamada\nP0001234,山田 太郎（ヤマダ タロウ）,太郎様 ヤマダ様 来院\n",
    )
    .unwrap();
    csv_of_in(&wd, &[]).assert_code(0);
    let rows = rows(&wd.path("out/labs.csv"));
    assert_eq!(column(&rows, "note"), ["seen by ***", "***様 ***様 来院"]);
}

#[test]
fn csv_free_text_loses_an_original_uid() {
    // rv9 04: a Study Instance UID pasted into a note links the release back to the PACS.
    let wd = Workdir::new("csv_free_text_loses_an_original_uid");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nnote = \"free-text\"\n").unwrap();
    std::fs::write(wd.path("in/labs.csv"), "pid,note\nP0001234,compare with 1.2.826.0.1.3680043.8.498.15618 please\n")
        .unwrap();
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/labs.csv")), "note"), ["compare with *** please"]);
}

#[test]
fn csv_free_text_loses_a_uuid_derived_uid() {
    // rv29 02: a 2.25 UID (PS3.5 B.2) has three components; it is a UID all the same.
    let wd = Workdir::new("csv_free_text_loses_a_uuid_derived_uid");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nnote = \"free-text\"\n").unwrap();
    std::fs::write(
        wd.path("in/labs.csv"),
        "pid,note\nP0001234,see study 2.25.112233445566778899001122334455667788 v3.0.2\n",
    )
    .unwrap();
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/labs.csv")), "note"), ["see study *** v3.0.2"]);
}

#[test]
fn csv_free_text_loses_a_phone_number_in_international_form_whole() {
    // rv9 08: `+81-90-9876-5432` came out as `+***-5432`.
    let wd = Workdir::new("csv_free_text_loses_a_phone_number_in_international_form_whole");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nnote = \"free-text\"\n").unwrap();
    std::fs::write(wd.path("in/labs.csv"), "pid,note\nP0001234,daughter mobile +81-90-9876-5432\n").unwrap();
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/labs.csv")), "note"), ["daughter mobile ***"]);
}

#[test]
fn csv_free_text_shifts_the_weekday_with_the_date_and_loses_a_month_and_day() {
    // rv9 05 and 07: `(木)` stayed beside a shifted date; `3/15生まれ` beside the released
    // birth month gave the birth date back.
    let wd = Workdir::new("csv_free_text_shifts_the_weekday_with_the_date_and_loses_a_month_and_day");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nnote = \"free-text\"\n").unwrap();
    std::fs::write(wd.path("in/labs.csv"), "pid,note\nP0001234,次回 2024/02/01(木)\nP0001234,3/15生まれ 1/2錠\n")
        .unwrap();
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let days = pseudonymizer(7).date_shift_days(kamei::pseudo::Patient::Id("P0001234"));
    let shifted = chrono::NaiveDate::from_ymd_opt(2024, 2, 1).unwrap() + chrono::Duration::days(days);
    let kanji =
        ["月", "火", "水", "木", "金", "土", "日"][chrono::Datelike::weekday(&shifted).num_days_from_monday() as usize];
    let rows = rows(&wd.path("out/labs.csv"));
    assert_eq!(
        column(&rows, "note"),
        [format!("次回 {}({kanji})", shifted.format("%Y/%m/%d")), "***生まれ 1/2錠".to_string()]
    );
}

#[test]
fn csv_date_and_birth_date_columns_read_japanese_era_dates() {
    // rv7 suspect: era spellings were emptied as "not a valid date"; they are dates.
    let wd = Workdir::new("csv_date_and_birth_date_columns_read_japanese_era_dates");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(
        wd.path("cols.toml"),
        "[columns]\npid = \"patient-id\"\nbirth = \"birth-date\"\nvisit = \"date\"\nnote = \"free-text\"\n",
    )
    .unwrap();
    std::fs::write(
        wd.path("in/era.csv"),
        "pid,birth,visit,note\nP0001234,S60.3.15,令和6年2月1日,生 S60.3.15\nP0001234,昭和60年3月15日,R6.2.1,ok\n",
    )
    .unwrap();
    let run = csv_of_in(&wd, &["retain-long-modified-dates"]);
    run.assert_code(0);
    let rows = rows(&wd.path("out/era.csv"));
    assert_eq!(column(&rows, "birth"), ["S60.3", "昭和60年3月"]);
    let days = pseudonymizer(7).date_shift_days(kamei::pseudo::Patient::Id("P0001234"));
    let want = kamei::clinical::values::shift("令和6年2月1日", days).unwrap();
    assert_eq!(column(&rows, "visit")[0], want);
    assert!(want != "令和6年2月1日" && want.contains('年'), "{want}");
    assert_eq!(column(&rows, "note"), ["生 ***", "ok"]);
    assert!(!wd.audit("out")[0]["notes"].to_string().contains("not a valid"));
}

#[test]
fn clinical_csv_refuses_a_largest_shift_beyond_a_century() {
    let wd = Workdir::new("clinical_csv_refuses_a_largest_shift_beyond_a_century");
    let k = key(&wd, "k.key", 7);
    let (labs, columns) = (fx("labs.csv"), fx("columns.example.toml"));
    let args = ["clinical", "csv", &labs, "-o", "out", "--key", k.to_str().unwrap(), "--columns", &columns];
    let run = wd.kamei([&args[..], &["--date-shift-max-days", "100000000"]].concat());
    run.assert_code(2);
    assert!(run.stderr().contains("between 1 and 36525"), "{}", run.stderr());
    assert!(!wd.path("out").exists(), "nothing written");
}

// rv9 (clinical csv): output names, linkage rows of left-out files, re-run accounting.

/// Per-visit exports named after a date: two of patient 0001234567, one of two patients.
fn per_visit_exports(wd: &Workdir) {
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\nid = \"patient-id\"\nvisit = \"date\"\nvalue = \"keep\"\n")
        .unwrap();
    for name in ["labs_20240201.csv", "labs_2024-02-01.csv"] {
        std::fs::write(wd.path("in").join(name), "id,visit,value\n0001234567,2024-02-01,5.5\n").unwrap();
    }
    std::fs::write(
        wd.path("in/ward_20240201.csv"),
        "id,visit,value\n0001234567,2024-02-01,1\n0007654321,2024-02-01,2\n",
    )
    .unwrap();
}

#[test]
fn rv9_06_csv_output_names_shift_the_dates_of_a_one_patient_file() {
    let wd = Workdir::new("rv9_06_csv_output_names_shift_the_dates_of_a_one_patient_file");
    per_visit_exports(&wd);
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let p = pseudonymizer(7);
    let tag = |n: &str| p.token("csv-output-name", n.as_bytes(), 8);
    let days = p.date_shift_days(kamei::pseudo::Patient::Id("0001234567"));
    let visit = kamei::clinical::values::shift("2024-02-01", days).unwrap();
    let mut want = vec![
        format!("labs_{visit}_{}.csv", tag("labs_2024-02-01.csv")),
        format!("labs_{}_{}.csv", visit.replace('-', ""), tag("labs_20240201.csv")),
        // Rows of two patients: no one offset fits the name.
        format!("ward_date_{}.csv", tag("ward_20240201.csv")),
    ];
    want.sort();
    assert_eq!(csv_names(&wd, "out"), want);
    assert_eq!(column(&rows(&wd.path("out").join(&want[0])), "visit"), [visit.as_str()], "name and rows agree");
    assert!(csv_names(&wd, "out").iter().all(|n| !n.contains("20240201") && !n.contains("2024-02-01")));
}

#[test]
fn rv9_06_csv_output_names_lose_their_dates_when_dates_are_removed() {
    let wd = Workdir::new("rv9_06_csv_output_names_lose_their_dates_when_dates_are_removed");
    per_visit_exports(&wd);
    csv_of_in(&wd, &[]).assert_code(0);
    let p = pseudonymizer(7);
    let tag = |n: &str| p.token("csv-output-name", n.as_bytes(), 8);
    let mut want: Vec<String> = ["labs_20240201.csv", "labs_2024-02-01.csv"]
        .iter()
        .map(|n| format!("labs_date_{}.csv", tag(n)))
        .chain([format!("ward_date_{}.csv", tag("ward_20240201.csv"))])
        .collect();
    want.sort();
    assert_eq!(csv_names(&wd, "out"), want, "unique by their tags");
    // The same names on a second run into another folder.
    let k = key(&wd, "k.key", 7);
    wd.kamei(["clinical", "csv", "in", "-o", "again", "--key", k.to_str().unwrap(), "--columns", "cols.toml", "-q"])
        .assert_code(0);
    assert_eq!(csv_names(&wd, "again"), want);
}

#[test]
fn rv9_10_csv_linkage_lists_a_file_left_out_entirely_as_excluded() {
    let wd = Workdir::new("rv9_10_csv_linkage_lists_a_file_left_out_entirely_as_excluded");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\nid = \"patient-id\"\nvalue = \"keep\"\n").unwrap();
    std::fs::write(wd.path("in/labs_0009999999.csv"), "id,value\n0009999999,1\n").unwrap();
    std::fs::write(wd.path("in/mixed_labs.csv"), "id,value\n0001234567,1\n0009999999,2\n").unwrap();
    std::fs::write(wd.path("optout.txt"), "0009999999\n").unwrap();
    let k = key(&wd, "k.key", 7);
    let args = ["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    wd.kamei([&args[..], &["--exclude-patients", "optout.txt", "--linkage", "link.csv"]].concat()).assert_code(0);
    let table = std::fs::read_to_string(wd.path("link.csv")).unwrap();
    let kinds: Vec<(String, String)> = table
        .lines()
        .skip(1)
        .map(|l| {
            let mut f = l.splitn(3, ',');
            (f.next().unwrap().to_string(), f.next().unwrap().to_string())
        })
        .collect();
    let of = |path: &str| kinds.iter().filter(|(_, p)| p == path).map(|(k, _)| k.as_str()).collect::<Vec<_>>();
    assert_eq!(of("in/labs_0009999999.csv"), ["excluded"], "{table}");
    assert_eq!(of("in/mixed_labs.csv"), ["file"], "{table}");
    assert!(!table.contains("0009999999,"), "no patient row for the left-out patient: {table}");
}

#[test]
fn rv9_11_csv_identical_re_run_reports_already_present() {
    let wd = Workdir::new("rv9_11_csv_identical_re_run_reports_already_present");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\nid = \"patient-id\"\nvalue = \"keep\"\n").unwrap();
    std::fs::write(wd.path("in/labs.csv"), "id,value\n0001234567,1\n").unwrap();
    let first = csv_of_in(&wd, &[]);
    first.assert_code(0);
    assert!(first.stderr().contains("1 written, 0 already present, 0 failed"), "{}", first.stderr());
    let again = csv_of_in(&wd, &[]);
    again.assert_code(0);
    assert!(again.stderr().contains("0 written, 1 already present, 0 failed"), "{}", again.stderr());
}

// rv9 review: SS-MIX2 half-width katakana after ESC ( I, HL7 escapes in rewritten free text,
// dates in kept code text, linkage paths of excluded files.

/// Half-width katakana as a 7-bit `ESC ( I` run (JIS X 0201 katakana in G0), back to ASCII.
fn kana7(s: &str) -> Vec<u8> {
    let mut out = b"\x1b(I".to_vec();
    out.extend(s.chars().map(|c| u8::try_from(c as u32 - 0xFF61 + 0x21).unwrap()));
    out.extend_from_slice(b"\x1b(B");
    out
}

/// The one message `ssmix2_root_run` wrote.
fn the_message(wd: &Workdir) -> Message {
    let files = tree(wd, "out");
    assert_eq!(files.len(), 1, "{:?}", files.keys());
    Message::parse(files.values().next().unwrap()).unwrap()
}

#[test]
fn r9_02_ssmix2_a_half_width_name_with_voiced_marks_is_cleaned_from_free_text() {
    let wd = Workdir::new("r9_02_ssmix2_a_half_width_name_with_voiced_marks_is_cleaned_from_free_text");
    // ﾀﾞｲｽｹ after ESC ( I holds 0x5E (ﾞ), which is `^` only in ASCII.
    let pid = [b"PID|0001||1234567890^^^^PI||".to_vec(), kana7("ﾔﾏﾀﾞ"), b"^".to_vec(), kana7("ﾀﾞｲｽｹ")].concat();
    let pid = [pid, b"^^^^^L^P||19850315|M".to_vec()].concat();
    put_p1_message(&wd, &[jis_segment(SS_MSH), pid, jis_segment("NTE|1||ダイスケ様 ヤマダ様 来院")]);
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &["ダイスケ", "ヤマダ"]);
    let msg = the_message(&wd);
    assert_eq!(msg.decode(segment(&msg, "NTE").field(3)).text, "***様 ***様 来院");
}

#[test]
fn r9_03_ssmix2_rewritten_half_width_text_keeps_its_characters_and_components() {
    let wd = Workdir::new("r9_03_ssmix2_rewritten_half_width_text_keeps_its_characters_and_components");
    let pid = [jis_segment("PID|0001||1234567890^^^^PI||山田^太郎^^^^^L^I~"), kana7("ﾔﾏﾀﾞ"), b"^".to_vec()].concat();
    let pid = [pid, kana7("ﾀﾛｳ"), b"^^^^^L^P||19850315|M".to_vec()].concat();
    let nte = [b"NTE|1||".to_vec(), kana7("ｹﾝｻ"), b" ".to_vec(), kana7("ﾔﾏﾀﾞ"), b" ".to_vec(), kana7("ｹﾞﾝｷ")].concat();
    put_p1_message(&wd, &[jis_segment(SS_MSH), pid, nte]);
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    let msg = the_message(&wd);
    let nte = segment(&msg, "NTE").field(3);
    // The name is replaced; ｹﾝｻ and ｹﾞﾝｷ keep their bytes, the ﾞ in katakana mode.
    assert_eq!(nte, [kana7("ｹﾝｻ"), b" *** ".to_vec(), kana7("ｹﾞﾝｷ")].concat());
    assert_eq!(msg.delimiters.parse_field(nte)[0].len(), 1, "NTE-3 is still one component");
    assert_eq!(msg.decode(nte).text, "ｹﾝｻ *** ｹﾞﾝｷ");
}

#[test]
fn r9_12_ssmix2_rewritten_free_text_keeps_its_hl7_escapes() {
    let wd = Workdir::new("r9_12_ssmix2_rewritten_free_text_keeps_its_hl7_escapes");
    let text = "result A\\X0D\\result B\\.sp\\c \\H\\hi\\N\\ \\Zfoo\\ \\C2842\\\\M2442\\ \\X0D0A\\ 2024/02/01";
    put_p1_message(
        &wd,
        &[
            jis_segment(SS_MSH),
            jis_segment("PID|0001||1234567890^^^^PI||YAMADA^TARO^^^^^L^A||19850315|M"),
            format!("NTE|1||{text}").into_bytes(),
            b"NTE|2||nothing to clean\\.sp\\here".to_vec(),
        ],
    );
    let run = ssmix2_root_run(&wd, &["clean-free-text", "retain-long-modified-dates"]);
    run.assert_code(0);
    let days = pseudonymizer(7).date_shift_days(kamei::pseudo::Patient::Id(P1));
    let shifted = kamei::clinical::values::shift("2024/02/01", days).unwrap();
    assert_ne!(shifted, "2024/02/01");
    let msg = the_message(&wd);
    let nte: Vec<&[u8]> = msg.segments.iter().filter(|s| s.name == "NTE").map(|s| s.field(3)).collect();
    assert_eq!(String::from_utf8_lossy(nte[0]), text.replace("2024/02/01", &shifted));
    assert_eq!(nte[1], b"nothing to clean\\.sp\\here");
}

#[test]
fn r9_ssmix2_dates_in_kept_code_text_follow_the_dates() {
    let wd = Workdir::new("r9_ssmix2_dates_in_kept_code_text_follow_the_dates");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F",
        "OBX|1|CWE|X^c^99||01^前回2024/01/15比較^99Z||||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    // Without retain-long-modified-dates: the real date goes.
    let run = ssmix2_root_run(&wd, &[]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &["2024/01/15"]);
    let msg = the_message(&wd);
    assert_eq!(segment(&msg, "OBX").field(5), jis_segment("01^前回***比較^99Z"));
    // With it: shifted by the patient's offset, as every other date.
    std::fs::remove_dir_all(wd.path("out")).unwrap();
    ssmix2_root_run(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let days = pseudonymizer(7).date_shift_days(kamei::pseudo::Patient::Id(P1));
    let shifted = kamei::clinical::values::shift("2024/01/15", days).unwrap();
    let msg = the_message(&wd);
    assert_eq!(segment(&msg, "OBX").field(5), jis_segment(&format!("01^前回{shifted}比較^99Z")));
}

#[test]
fn r9_ssmix2_linkage_rows_of_excluded_files_are_relative_to_root() {
    let wd = Workdir::new("r9_ssmix2_linkage_rows_of_excluded_files_are_relative_to_root");
    let k = key(&wd, "k.key", 7);
    std::fs::write(wd.path("exclude.txt"), format!("{P2}\n")).unwrap();
    let root = fx("ss-mix2");
    let link = wd.path("link.csv");
    let args = [
        "clinical",
        "ss-mix2",
        &root,
        "-o",
        "out",
        "--key",
        k.to_str().unwrap(),
        "--linkage",
        link.to_str().unwrap(),
        "--exclude-patients",
        "exclude.txt",
    ];
    wd.kamei(args).assert_code(0);
    let rows = rows(&link);
    let excluded: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "excluded").collect();
    assert!(!excluded.is_empty(), "{rows:?}");
    for r in rows.iter().filter(|r| matches!(r[0].as_str(), "file" | "failed" | "skipped" | "excluded")) {
        let path = Path::new(&r[1]);
        assert!(path.is_relative() && !r[1].contains(&root), "{r:?}");
        assert!(Path::new(&root).join(path).is_file(), "{r:?} names a file under ROOT");
    }
    assert!(excluded.iter().all(|r| r[1].starts_with(&format!("234/567/{P2}/"))), "{excluded:?}");
}

/// Write `cols.toml` and `in/in.csv` for a test of one CSV input.
fn put_csv(wd: &Workdir, columns: &str, csv: &str) {
    std::fs::write(wd.path("cols.toml"), format!("[columns]\n{columns}")).unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/in.csv"), csv).unwrap();
}

#[test]
fn csv_an_era_date_its_era_did_not_have_is_emptied_and_replaced_never_shifted() {
    // rv35: `H36.01.02` (Heisei ended in its 31st year) was read as 2024-01-02 and written back
    // as a plausible `R05.02.27`; `H31.05.01` (after Heisei's last day) likewise.
    let wd = Workdir::new("csv_an_era_date_its_era_did_not_have_is_emptied_and_replaced_never_shifted");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nday = \"date\"\nnote = \"free-text\"\n",
        "pid,day,note\n\
         P1,H36.01.02,seen H36.01.02 ok\n\
         P1,H31.05.01,seen H31.05.01 ok\n\
         P1,R01.04.30,seen 令和0年5月1日 ok\n\
         P1,H31.04.30,seen R01.05.01 ok\n",
    );
    let run = csv_of_in(&wd, &["retain-long-modified-dates"]);
    run.assert_code(0);
    assert!(run.stderr().contains("3 values emptied"), "{}", run.stderr());
    let out = rows(&wd.path("out/in.csv"));
    let days = column(&out, "day");
    assert_eq!(days[..3], ["", "", ""], "no date: emptied and counted");
    assert!(days[3].starts_with('H') && days[3] != "H31.04.30", "Heisei's last day is a date, shifted: {days:?}");
    assert_eq!(column(&out, "note"), ["seen *** ok"; 4], "an era date in text is replaced, a slip too");
}

#[test]
fn csv_free_text_replaces_a_short_year_date_or_six_digits_that_read_two_ways() {
    // rv35: `24/1/2` was shifted as 2024-01-02 (24 January 2002 read day first) and `240102`
    // kept beside shifted dates.
    let wd = Workdir::new("csv_free_text_replaces_a_short_year_date_or_six_digits_that_read_two_ways");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nday = \"date\"\nnote = \"free-text\"\n",
        "pid,day,note\n\
         P1,2024-03-01,24/1/2 受診\n\
         P1,2024-03-01,ref 240102 ok\n\
         P1,2024-03-01,WBC 350102\n\
         P1,,ref 240102 ok\n\
         P1,,撮影日 240102\n",
    );
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "note"),
        ["*** 受診", "ref *** ok", "WBC 350102", "ref 240102 ok", "撮影日 ***"],
        "six digits are a date within the row's years or after a date word; elsewhere a value"
    );
}

#[test]
fn csv_free_text_loses_the_town_with_its_house_number_of_an_address_column() {
    let wd = Workdir::new("csv_free_text_loses_the_town_with_its_house_number_of_an_address_column");
    put_csv(
        &wd,
        "pid = \"patient-id\"\naddress = \"identifier\"\ncomment = \"free-text\"\n",
        "pid,address,comment\n\
         P7788123,静岡県静岡市駿河区登呂１−３−５,登呂１−３−５に住む / 駿河区登呂1-3-5 / 登呂1丁目3番5号 / 登呂遺跡\n\
         P7788124,神奈川県相模原市中央区中央2-11-15,中央静脈カテーテル 中央2-11-15\n\
         P7788125,\"2-11-15 Chuo, Chuo-ku, Sagamihara\",home 2-11-15 Chuo; Chuo line\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "comment"),
        ["***に住む / 駿河区*** / *** / 登呂遺跡", "中央静脈カテーテル ***", "home ***; Chuo line"]
    );
}

#[test]
fn csv_free_text_loses_a_hyphenated_given_name_run_together() {
    let wd = Workdir::new("csv_free_text_loses_a_hyphenated_given_name_run_together");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nname = \"name\"\ncomment = \"free-text\"\n",
        "pid,name,comment\n\
         P7788123,Jean-Pierre Martin,JeanPierre and MartinJeanPierre called\n\
         P7788124,Kim Eun-Ji,EunJi and EunJiKim called\n\
         P7788125,Yamada/Taro-Dr,TaroYamada and YamadaTaro called; Dr review\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "comment"),
        ["*** and *** called", "*** and *** called", "*** and *** called; Dr review"]
    );
}

#[test]
fn csv_a_birth_date_already_generalised_is_generalised_not_emptied() {
    let wd = Workdir::new("csv_a_birth_date_already_generalised_is_generalised_not_emptied");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nbirth = \"birth-date\"\nbirth_year = { role = \"birth-date\", precision = \"year\" }\n",
        "pid,birth,birth_year\nP1,1985,1985-03\nP2,1985-03,198503\nP3,昭和60年3月,S60.3\nP4,unknown,85\n",
    );
    let run = csv_of_in(&wd, &[]);
    run.assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    assert_eq!(column(&out, "birth"), ["1985", "1985-03", "昭和60年3月", ""]);
    assert_eq!(column(&out, "birth_year"), ["1985", "1985", "1985", ""]);
    assert!(run.stderr().contains("column 2 is not a valid birth-date; emptied"), "{}", run.stderr());
}

#[test]
fn ssmix2_free_text_loses_the_town_with_its_house_number_of_the_address() {
    let wd = Workdir::new("ssmix2_free_text_loses_the_town_with_its_house_number_of_the_address");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F|||^^^^422-8033^JPN^H^静岡県静岡市駿河区登呂１−３−５",
        "NTE|1||自宅 登呂１−３−５ / 駿河区登呂1-3-5 / 登呂一丁目3番5号 / 登呂遺跡 見学",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    assert_eq!(msg.decode(segment(&msg, "NTE").field(3)).text, "自宅 *** / 駿河区*** / *** / 登呂遺跡 見学");
}

#[test]
fn ssmix2_dates_in_kept_code_text_and_kept_components_follow_the_dates() {
    let wd = Workdir::new("ssmix2_dates_in_kept_code_text_and_kept_components_follow_the_dates");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F",
        "ORC|NW|000000000012346|||||||20240402||||外来 2024/01/15^room^bed",
        "OBX|1|NM|X1^前回2024/01/15比較^99||158.0|cm|||||F",
        "OBX|2|NM|20240115^身長^JC10||158.0|cm|||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    ssmix2_root_run(&wd, &[]).assert_code(0);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    assert_eq!(msg.decode(segment(&msg, "ORC").field(13)).text, "外来 ***");
    let obx3: Vec<String> =
        msg.segments.iter().filter(|s| s.name == "OBX").map(|s| msg.decode(s.field(3)).text).collect();
    assert_eq!(obx3, ["X1^前回***比較^99", "20240115^身長^JC10"], "a code of digits stays");
}

#[test]
fn ssmix2_dates_in_kept_code_text_shift_with_the_option() {
    let wd = Workdir::new("ssmix2_dates_in_kept_code_text_shift_with_the_option");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F",
        "OBX|1|NM|X1^前回2024/01/15比較^99||158.0|cm|||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    ssmix2_root_run(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let obx3 = msg.decode(segment(&msg, "OBX").field(3)).text;
    let date = obx3.strip_prefix("X1^前回").and_then(|t| t.strip_suffix("比較^99")).unwrap_or_else(|| panic!("{obx3}"));
    let shift = days("2024/01/15", date);
    assert!(shift != 0 && shift.abs() <= 366, "{obx3}");
    assert_eq!(obx3.matches('/').count(), 2, "the date keeps its spelling: {obx3}");
}

#[test]
fn rv12_03_csv_failures_before_the_output_name_never_print_the_input_name() {
    let wd = Workdir::new("rv12_03_csv_failures_before_the_output_name_never_print_the_input_name");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nv = \"keep\"\n").unwrap();
    // The name holds an opted-out patient's ID; another holds a column the columns file does
    // not name; another is not valid in its encoding.
    std::fs::write(wd.path("in/YAMADA_TARO_1234568_labs.csv"), "patient_id,v\n1234568,1\n7654321,2\n").unwrap();
    std::fs::write(wd.path("in/SATO_HANAKO_7654321_rx.csv"), "patient_id,v,extra\n7654321,1,x\n").unwrap();
    std::fs::write(wd.path("in/SUZUKI_ICHIRO_5555555_notes.csv"), b"patient_id,v\xff\xfe\n5555555,1\n").unwrap();
    std::fs::write(wd.path("optout.txt"), "1234568\n").unwrap();
    let k = key(&wd, "k.key", 7);
    let args = ["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    let run = wd.kamei(args.iter().copied().chain(["--exclude-patients", "optout.txt", "--encoding", "utf-8"]));
    run.assert_code(1);
    let err = run.stderr();
    for secret in ["YAMADA", "TARO", "1234568", "SATO", "HANAKO", "7654321", "SUZUKI", "5555555"] {
        assert!(!err.contains(secret), "{secret} on stderr: {err}");
    }
    // Named as deid names inputs: by position and content hash.
    assert_eq!(err.matches("kamei: input #").count(), 3, "{err}");
    assert!(err.contains("(sha256 "), "{err}");
    // Two inputs of one name: refused by position, not by the name.
    std::fs::create_dir_all(wd.path("in2/a")).unwrap();
    std::fs::create_dir_all(wd.path("in2/b")).unwrap();
    for d in ["a", "b"] {
        std::fs::write(wd.path(&format!("in2/{d}/YAMADA_1234568.csv")), "patient_id,v\n1234568,1\n").unwrap();
    }
    let dup =
        wd.kamei(["clinical", "csv", "in2", "-o", "out2", "--key", k.to_str().unwrap(), "--columns", "cols.toml"]);
    dup.assert_code(2);
    assert!(dup.stderr().contains("inputs #1 and #2"), "{}", dup.stderr());
    assert!(!dup.stderr().contains("YAMADA") && !dup.stderr().contains("1234568"), "{}", dup.stderr());
}

#[test]
fn csv_summary_counts_only_the_patients_of_files_written() {
    let wd = Workdir::new("csv_summary_counts_only_the_patients_of_files_written");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nv = \"keep\"\n").unwrap();
    // The only file fails (its name holds an opted-out patient's ID): its other patient's rows
    // were read, but no one was released.
    std::fs::write(wd.path("in/YAMADA_TARO_1234568_labs.csv"), "patient_id,v\n1234568,1\n7654321,2\n").unwrap();
    std::fs::write(wd.path("optout.txt"), "1234568\n").unwrap();
    let k = key(&wd, "k.key", 7);
    let args = ["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    let run = wd.kamei(args.iter().copied().chain(["--exclude-patients", "optout.txt"]));
    run.assert_code(1);
    assert!(run.stderr().contains("1 failed") && run.stderr().contains("; 0 patients;"), "{}", run.stderr());
}

#[test]
fn rv12_04_csv_linkage_lists_an_input_whose_output_exists_with_other_content() {
    let wd = Workdir::new("rv12_04_csv_linkage_lists_an_input_whose_output_exists_with_other_content");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nv = \"keep\"\n").unwrap();
    std::fs::write(wd.path("in/labs.csv"), "patient_id,v\n7654321,1\n").unwrap();
    let k = key(&wd, "k.key", 7);
    let args =
        ["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml", "--linkage"];
    let link = wd.path("link.csv");
    wd.kamei(args.iter().copied().chain([link.to_str().unwrap()])).assert_code(0);
    std::fs::write(wd.path("in/labs.csv"), "patient_id,v\n7654321,1\n7654321,2\n").unwrap();
    let run = wd.kamei(args.iter().copied().chain([link.to_str().unwrap()]));
    run.assert_code(1);
    let table = std::fs::read_to_string(&link).unwrap();
    let failed: Vec<&str> = table.lines().filter(|l| l.starts_with("failed,")).collect();
    assert_eq!(failed.len(), 1, "{table}");
    assert!(failed[0].contains("in/labs.csv") && failed[0].contains("already exists"), "{table}");
}

#[test]
fn rv12_a_resumed_run_does_not_repeat_linkage_rows() {
    let wd = Workdir::new("rv12_a_resumed_run_does_not_repeat_linkage_rows");
    let k = key(&wd, "k.key", 7);
    for _ in 0..2 {
        // The fixtures hold malformed rows and messages on purpose (exit 1).
        assert!(csv_run(&wd, &k, &[], "csv").code() <= 1);
        assert!(ssmix2_run(&wd, &k, &[], "ss").code() <= 1);
        images(&wd, &k, &[]).assert_code(0);
        let link = wd.path("images.linkage.csv");
        wd.kamei(["deid", "dicom", "-o", "images", "--key", k.to_str().unwrap(), "--linkage", link.to_str().unwrap()])
            .assert_code(0);
    }
    for table in ["csv.linkage.csv", "ss.linkage.csv", "images.linkage.csv"] {
        let text = std::fs::read_to_string(wd.path(table)).unwrap();
        let mut seen = std::collections::HashSet::new();
        for line in text.lines() {
            assert!(seen.insert(line), "{table}: {line} twice");
        }
        assert!(text.lines().any(|l| l.starts_with("file,")), "{table}");
    }
}

#[test]
fn rv12_link_report_says_when_a_folder_cannot_be_checked() {
    let wd = Workdir::new("rv12_link_report_says_when_a_folder_cannot_be_checked");
    let k = key(&wd, "k.key", 7);
    images(&wd, &k, &[]).assert_code(0);
    assert!(csv_run(&wd, &k, &[], "csv").code() <= 1);
    let ok = wd.kamei(["link", "report", "--images", "images", "--clinical", "csv"]);
    ok.assert_code(0);
    std::fs::remove_file(wd.path("csv/kamei-run.json")).unwrap();
    let run = wd.kamei(["link", "report", "--images", "images", "--clinical", "csv"]);
    run.assert_code(1);
    assert!(run.stderr().contains("no kamei-run.json"), "{}", run.stderr());
    assert!(run.stdout().contains("# summary"), "the report is still printed");
    // A deid output given as a clinical folder is no clinical data set.
    let wrong = wd.kamei(["link", "report", "--images", "images", "--clinical", "images"]);
    wrong.assert_code(2);
}

#[test]
fn r13_01_02_csv_free_text_loses_a_one_character_town_or_a_jo_address_with_its_house_number() {
    let wd = Workdir::new("r13_01_02_csv_free_text_loses_a_one_character_town_or_a_jo_address_with_its_house_number");
    put_csv(
        &wd,
        "pid = \"patient-id\"\naddr = \"identifier\"\nmemo = \"free-text\"\n",
        "pid,addr,memo\n\
         P1000001,神奈川県横浜市緑区緑1-2-3,自宅 緑1-2-3 で転倒; 緑１丁目２番３号; 緑色の痰\n\
         P1000004,北海道札幌市中央区南3条西4丁目12-5,自宅 南3条西4丁目12-5; 南3条西4-12-5; 南三条西四丁目12番5号\n\
         P1000005,北海道旭川市4条通8丁目1-2,自宅 4条通8丁目1-2\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "memo"),
        ["自宅 *** で転倒; ***; 緑色の痰", "自宅 ***; ***; ***", "自宅 ***"]
    );
}

#[test]
fn r13_03_csv_free_text_loses_a_house_number_in_kanji_numerals_whole() {
    let wd = Workdir::new("r13_03_csv_free_text_loses_a_house_number_in_kanji_numerals_whole");
    put_csv(
        &wd,
        "pid = \"patient-id\"\naddr = \"identifier\"\nmemo = \"free-text\"\n",
        "pid,addr,memo\nP1000001,静岡県静岡市駿河区登呂１−３−５,自宅 登呂一丁目三番五号 にて転倒\nP1000002,東京都千代田区本町3-4,自宅 本町三丁目四番\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/in.csv")), "memo"), ["自宅 *** にて転倒", "自宅 ***"]);
}

#[test]
fn r13_04_05_csv_free_text_loses_given_names_run_together_from_a_double_hyphen_or_spaces() {
    let wd = Workdir::new("r13_04_05_csv_free_text_loses_given_names_run_together_from_a_double_hyphen_or_spaces");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nname = \"name\"\nmemo = \"free-text\"\n",
        "pid,name,memo\n\
         P2000007,マルタン ジャン＝ピエール,ジャンピエールさん来院; マルタンジャンピエール\n\
         P2000011,Jean Pierre Martin,JeanPierre called; MartinJeanPierre\n\
         P2000010,Mary Ann Smith,MaryAnn called; SmithMaryAnn\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "memo"),
        ["***さん来院; ***", "*** called; ***", "*** called; ***"]
    );
}

#[test]
fn r13_09_csv_free_text_keeps_a_word_that_is_a_hyphenated_given_name_run_together() {
    let wd = Workdir::new("r13_09_csv_free_text_keeps_a_word_that_is_a_hyphenated_given_name_run_together");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nname = \"name\"\nmemo = \"free-text\"\n",
        "pid,name,memo\nP2000005,Wan-Ting Lin,patient wanting to go home; WanTing called\nP2000006,Sun-Day Park,no dialysis on Sunday; SunDay called\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "memo"),
        ["patient wanting to go home; *** called", "no dialysis on Sunday; *** called"]
    );
}

#[test]
fn r13_06_csv_free_text_loses_a_month_and_day_before_a_count_noun_that_is_no_count() {
    let wd = Workdir::new("r13_06_csv_free_text_loses_a_month_and_day_before_a_count_noun_that_is_no_count");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nmemo = \"free-text\"\n",
        "pid,memo\nP1,seen on Jun 2nd cycle 3 started\nP1,seen on Mar 4 cycle 2 started\nP1,last seen 12 Jun cycles resumed\nP1,Jun 2 cycles; May 5 mg\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "memo"),
        [
            "seen on *** cycle 3 started",
            "seen on *** cycle 2 started",
            "last seen *** cycles resumed",
            "Jun 2 cycles; May 5 mg"
        ]
    );
}

#[test]
fn r13_07_ssmix2_a_kept_code_of_digits_holding_the_messages_own_date_is_shifted() {
    let wd = Workdir::new("r13_07_ssmix2_a_kept_code_of_digits_holding_the_messages_own_date_is_shifted");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F",
        "ORC|NW|000000000012346|||||||20240402||||20240402",
        "OBX|1|NM|20240402^BW^99||60|kg|||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    ssmix2_root_run(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let shifted = msg.decode(segment(&msg, "ORC").field(9)).text;
    assert_ne!(shifted, "20240402");
    assert_eq!(msg.decode(segment(&msg, "ORC").field(13)).text, shifted);
    assert_eq!(msg.decode(segment(&msg, "OBX").field(3)).text, format!("{shifted}^BW^99"));
}

#[test]
fn rv17_02_csv_a_multiline_row_before_a_row_whose_quote_is_never_closed_is_kept() {
    let wd = Workdir::new("rv17_02_csv_a_multiline_row_before_a_row_whose_quote_is_never_closed_is_kept");
    put_csv(
        &wd,
        "pid = \"patient-id\"\ncomment = \"free-text\"\n",
        "pid,comment\nP1234567,\"first line\nsecond line\"\nP1234567,\"open quote never closed\nP2222222,next\n",
    );
    let run = csv_of_in(&wd, &[]);
    run.assert_code(1);
    assert_eq!(column(&rows(&wd.path("out/in.csv")), "comment"), ["first line\nsecond line"]);
    let err = run.stderr();
    assert!(err.contains("in.csv: line 4: row dropped"), "{err}");
    assert!(!err.contains("line 2:"), "{err}");
}

#[test]
fn rv17_03_csv_an_id_padded_with_zeros_in_a_file_name_is_replaced_or_left_out() {
    let wd = Workdir::new("rv17_03_csv_an_id_padded_with_zeros_in_a_file_name_is_replaced_or_left_out");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\nid = \"patient-id\"\nvalue = \"keep\"\n").unwrap();
    std::fs::write(wd.path("in/labs_0001234567.csv"), "id,value\n1234567,1\n").unwrap();
    std::fs::write(wd.path("in/ward_0001234567.csv"), "id,value\n2222222,2\n1234567,3\n").unwrap();
    std::fs::write(wd.path("optout.txt"), "1234567\n").unwrap();
    let k = key(&wd, "k.key", 7);
    let args = ["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    wd.kamei(args).assert_code(0);
    let names = csv_names(&wd, "out");
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| !n.contains("1234567")), "{names:?}");
    let pseudonym = kamei_pseudonym("1234567");
    assert!(names.iter().all(|n| n.contains(&pseudonym)), "{names:?}");
    let manifest = std::fs::read_to_string(wd.path("out/kamei-columns.json")).unwrap();
    assert!(!manifest.contains("1234567"), "{manifest}");

    let args = ["clinical", "csv", "in", "-o", "out2", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    let run = wd.kamei([&args[..], &["--exclude-patients", "optout.txt"]].concat());
    run.assert_code(1);
    assert!(!wd.path("out2").read_dir().unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains("1234567")));
    assert!(!run.stderr().contains("1234567"), "{}", run.stderr());
}

#[test]
fn rv17_01_csv_and_ssmix2_free_text_lose_a_date_whose_year_has_two_digits_before_nen() {
    let wd = Workdir::new("rv17_01_csv_and_ssmix2_free_text_lose_a_date_whose_year_has_two_digits_before_nen");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nvisit = \"date\"\ncomment = \"free-text\"\n",
        "pid,visit,comment\n1234567890,2024-02-01,60年3月15日生 24年2月1日受診 S60年3月15日\n",
    );
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山田^太郎^^^^^L^I||19850315|M",
        "OBX|1|TX|9Z^所見^99||60年3月15日生 24年2月1日受診 S60年3月15日||||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    for options in [&[][..], &["retain-long-modified-dates"][..]] {
        for out in ["out", "ss"] {
            let _ = std::fs::remove_dir_all(wd.path(out));
        }
        csv_of_in(&wd, options).assert_code(0);
        assert_eq!(column(&rows(&wd.path("out/in.csv")), "comment"), ["***生 ***受診 ***"], "{options:?}");
        let k = key(&wd, "k.key", 7);
        let args =
            ["clinical", "ss-mix2", "root", "-o", "ss", "--key", k.to_str().unwrap(), "--option", "clean-free-text"];
        let extra: Vec<&str> = options.iter().flat_map(|o| ["--option", *o]).collect();
        wd.kamei([&args[..], &extra[..]].concat()).assert_code(0);
        let files = tree(&wd, "ss");
        let msg = Message::parse(files.values().next().unwrap()).unwrap();
        assert_eq!(msg.decode(segment(&msg, "OBX").field(5)).text, "***生 ***受診 ***", "{options:?}");
    }
}

#[test]
fn rv17_04_ssmix2_free_text_loses_the_patients_other_ids_as_people_type_them() {
    let wd = Workdir::new("rv17_04_ssmix2_free_text_loses_the_patients_other_ids_as_people_type_them");
    let segments = [
        SS_MSH,
        "PID|0001|ALT-445566|1234567890^^^^PI~MR-887766^^^^MR||山田^太郎^^^^^L^I||19850315|M",
        "OBX|1|TX|9Z^所見^99||A 887766 B MR887766 C 445566 D ALT445566 E||||||F",
        "NTE|1||カルテ 887766",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &["887766", "445566"]);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    assert_eq!(msg.decode(segment(&msg, "OBX").field(5)).text, "A *** B *** C *** D *** E");
    assert_eq!(msg.decode(segment(&msg, "NTE").field(3)).text, "カルテ ***");
}

#[test]
fn rv17_suspect_1_csv_and_ssmix2_a_surname_in_its_variant_kanji_is_cleaned() {
    let wd = Workdir::new("rv17_suspect_1_csv_and_ssmix2_a_surname_in_its_variant_kanji_is_cleaned");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nname = \"name\"\ncomment = \"free-text\"\n",
        "pid,name,comment\n\
         1234567891,山﨑 太郎,山崎太郎、山崎さん\n\
         1234567892,渡辺 健,渡邊、渡邉\n\
         1234567893,齋藤 花子,斎藤、斉藤、齊藤\n",
    );
    // A one-patient file whose name holds the surname in the other spelling.
    std::fs::write(wd.path("in/labs_高橋.csv"), "pid,name,comment\n1234567890,髙橋 一郎,高橋一郎が 高橋さん 髙橋様\n")
        .unwrap();
    csv_of_in(&wd, &[]).assert_code(0);
    let names = csv_names(&wd, "out");
    assert!(names.iter().all(|n| !n.contains("高橋")), "{names:?}");
    let one = names.iter().find(|n| n.starts_with("labs_")).unwrap();
    assert_eq!(column(&rows(&wd.path(&format!("out/{one}"))), "comment"), ["***が ***さん ***様"]);
    assert_eq!(column(&rows(&wd.path("out/in.csv")), "comment"), ["***、***さん", "***、***", "***、***、***"]);

    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||齋藤^一郎^^^^^L^I||19850315|M",
        "OBX|1|TX|9Z^所見^99||斎藤一郎、斉藤さん 渡邊 高齢||||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    let k = key(&wd, "k.key", 7);
    let args = ["clinical", "ss-mix2", "root", "-o", "ss", "--key", k.to_str().unwrap(), "--option", "clean-free-text"];
    wd.kamei(args).assert_code(0);
    let files = tree(&wd, "ss");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    assert_eq!(msg.decode(segment(&msg, "OBX").field(5)).text, "***、***さん 渡邊 高齢");
}

#[test]
fn rv17_suspect_2_csv_and_ssmix2_free_text_lose_dates_in_kanji_numerals() {
    let wd = Workdir::new("rv17_suspect_2_csv_and_ssmix2_free_text_lose_dates_in_kanji_numerals");
    let text = "昭和六十年三月十五日生 一九八五年三月十五日 六十年三月十五日 三月十五日 二〇二四年二月一日受診";
    put_csv(
        &wd,
        "pid = \"patient-id\"\nbirth = \"birth-date\"\nvisit = \"date\"\ncomment = \"free-text\"\n",
        &format!("pid,birth,visit,comment\n1234567890,1985-03-15,2024-02-01,{text}\n"),
    );
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山田^太郎^^^^^L^I||19850315|M",
        &format!("OBX|1|TX|9Z^所見^99||{text}||||||F"),
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    for (options, last) in [(&[][..], "***受診"), (&["retain-long-modified-dates"][..], "")] {
        for out in ["out", "ss"] {
            let _ = std::fs::remove_dir_all(wd.path(out));
        }
        csv_of_in(&wd, options).assert_code(0);
        let k = key(&wd, "k.key", 7);
        let args =
            ["clinical", "ss-mix2", "root", "-o", "ss", "--key", k.to_str().unwrap(), "--option", "clean-free-text"];
        let extra: Vec<&str> = options.iter().flat_map(|o| ["--option", *o]).collect();
        wd.kamei([&args[..], &extra[..]].concat()).assert_code(0);
        let files = tree(&wd, "ss");
        let msg = Message::parse(files.values().next().unwrap()).unwrap();
        let csv_text = column(&rows(&wd.path("out/in.csv")), "comment")[0].to_string();
        for cleaned in [csv_text, msg.decode(segment(&msg, "OBX").field(5)).text] {
            assert!(cleaned.starts_with("***生 *** *** *** "), "{options:?}: {cleaned}");
            assert!(
                !cleaned.contains("三月") && !cleaned.contains("二月") && !cleaned.contains("2024年2月1日"),
                "{cleaned}"
            );
            if last.is_empty() {
                // Shifted, as the digit spellings are: no longer the real visit date.
                assert!(cleaned.ends_with("日受診") && cleaned.contains('年'), "{cleaned}");
            } else {
                assert!(cleaned.ends_with(last), "{cleaned}");
            }
        }
    }
}

#[test]
fn rv17_suspect_6_13_csv_free_text_loses_a_one_character_name_with_any_honorific_and_spaced_numbers() {
    let wd = Workdir::new(
        "rv17_suspect_6_13_csv_free_text_loses_a_one_character_name_with_any_honorific_and_spaced_numbers",
    );
    put_csv(
        &wd,
        "pid = \"patient-id\"\nname = \"name\"\ncomment = \"free-text\"\n",
        "pid,name,comment\n\
         1234567890,林 花,林くん 林 様 林患者 林Ns 林さま 林先生 林檎\n\
         1234567891,佐藤 一,携帯 090.1111.2222 / 81-90-1111-2222 / 番号 1234 5678 9012 / 1234-5678-9012 / ver 0.12.3456\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "comment"),
        ["*** *** *** *** *** *** 林檎", "携帯 *** / *** / 番号 *** / *** / ver 0.12.3456"]
    );
}

#[test]
fn rv17_suspect_10_17_ssmix2_guarantor_identifiers_and_numbers_broken_by_escapes_are_cleaned() {
    let wd = Workdir::new("rv17_suspect_10_17_ssmix2_guarantor_identifiers_and_numbers_broken_by_escapes_are_cleaned");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山田^太郎^^^^^L^I||19850315|M|||||^PRN^PH^^^^^^^^^090-1111-2222",
        "GT1|1|G-7788991|高橋^四郎^^^^^L^I||西新宿2-8-1^^新宿区^東京都^1600023^JPN^H|^PRN^PH^^^^^^^^^03-5555-6666",
        "OBX|1|TX|9Z^所見^99||保証人 高橋四郎 西新宿2-8-1 03-5555-6666 番号 G-7788991 高橋様||||||F",
        "NTE|1||ID 1234\\.br\\567890 TEL 090\\F\\1111\\F\\2222",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    assert!(msg.segments.iter().all(|s| s.name != "GT1"), "GT1 is still removed whole");
    assert_eq!(msg.decode(segment(&msg, "OBX").field(5)).text, "保証人 *** *** *** 番号 *** ***様");
    assert_eq!(msg.decode(segment(&msg, "NTE").field(3)).text, "ID *** TEL ***");
    assert_absent(&wd, &["out"], &run.stderr(), &["高橋", "西新宿", "7788991", "567890", "2222"]);
}

#[test]
fn rv17_suspect_14_csv_free_text_loses_an_apostrophe_name_typed_otherwise_and_satoh() {
    let wd = Workdir::new("rv17_suspect_14_csv_free_text_loses_an_apostrophe_name_typed_otherwise_and_satoh");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nname = \"name\"\ncomment = \"free-text\"\n",
        "pid,name,comment\n\
         1234567890,Mary-Jane O'Neil,O’Neil ONeil oneil seen; one nil\n\
         1234567891,SATO Hanako,SATOH SATOU Sato-san SATOSHI\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "comment"),
        ["*** *** *** seen; one nil", "*** *** ***-san SATOSHI"]
    );
}

#[test]
fn rv17_suspect_7_csv_spreadsheet_mangled_ids_are_read_as_the_register_reads_them() {
    let wd = Workdir::new("rv17_suspect_7_csv_spreadsheet_mangled_ids_are_read_as_the_register_reads_them");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nvalue = \"keep\"\n",
        "pid,value\n\"=\"\"0001234567\"\"\",1\n'0001234567,2\n1234567.0,3\n\"=\"\"0007654321\"\"\",4\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "pid"),
        [
            kamei_pseudonym("0001234567"),
            kamei_pseudonym("0001234567"),
            kamei_pseudonym("1234567"),
            kamei_pseudonym("0007654321")
        ]
    );
    std::fs::write(wd.path("optout.txt"), "1234567\n").unwrap();
    let _ = std::fs::remove_dir_all(wd.path("out"));
    let k = key(&wd, "k.key", 7);
    let args = ["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    wd.kamei([&args[..], &["--exclude-patients", "optout.txt"]].concat());
    assert_eq!(column(&rows(&wd.path("out/in.csv")), "value"), ["4"], "the opted-out patient's rows are left out");
}

#[test]
fn rv17_suspect_16_ssmix2_a_numeric_value_holding_the_patient_id_with_a_zero_added_is_removed() {
    let wd = Workdir::new("rv17_suspect_16_ssmix2_a_numeric_value_holding_the_patient_id_with_a_zero_added_is_removed");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山田^太郎^^^^^L^I||19850315|M",
        "OBX|1|NM|X^c^99||01234567890||||||F",
        "OBX|2|NM|X^c^99||+1234567890||||||F",
        "OBX|3|NM|X^c^99||42||||||F",
        "OBX|4|TX|X^c^99||ID 01234567890 noted||||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &["1234567890"]);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let obx5: Vec<&[u8]> = msg.segments.iter().filter(|s| s.name == "OBX").map(|s| s.field(5)).collect();
    assert_eq!(obx5, [&b""[..], b"", b"42", b"ID *** noted"]);
}

#[test]
fn rv18_suspect_1_csv_free_text_loses_a_romaji_name_in_kana_and_a_kana_name_in_romaji() {
    let wd = Workdir::new("rv18_suspect_1_csv_free_text_loses_a_romaji_name_in_kana_and_a_kana_name_in_romaji");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nname = \"name\"\ncomment = \"free-text\"\n",
        "pid,name,comment\n\
         P7788123,Yamada Taro,やまだたろう様 ヤマダ タロー ｻﾄｳ no\n\
         P7788124,サトウ ユウコ,Sato Yuko and SATOH; YukoSato called\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "comment"),
        ["***様 *** *** ｻﾄｳ no", "*** *** and ***; *** called"]
    );
}

#[test]
fn rv17_suspect_5_csv_free_text_loses_the_parts_of_a_name_typed_without_a_space() {
    let wd = Workdir::new("rv17_suspect_5_csv_free_text_loses_the_parts_of_a_name_typed_without_a_space");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nname = \"name\"\ncomment = \"free-text\"\n",
        "pid,name,comment\n\
         P7788123,山田太郎,山田さんに説明 太郎 様 来院 山田は不在\n\
         P7788124,佐々木健一,佐々木様 健一くん 健一 一般\n\
         P7788125,やまだはなこ,はなこさん やまださま はな\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "comment"),
        ["***さんに説明 *** 様 来院 ***は不在", "***様 ***くん 健一 一般", "***さん ***さま はな"]
    );
}

#[test]
fn rv17_suspect_4_csv_free_text_loses_identifiers_another_row_of_the_patient_gives() {
    let wd = Workdir::new("rv17_suspect_4_csv_free_text_loses_identifiers_another_row_of_the_patient_gives");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nname = \"name\"\nbirth = \"birth-date\"\ncomment = \"free-text\"\n",
        "pid,name,birth,comment\n\
         P7788123,山田太郎,1985-03-15,初診\n\
         P7788124,佐藤花子,1990-01-02,佐藤さん\n\
         P7788123,,,山田太郎さん 19850315 '85.3.15 来院 2024/02/01\n\
         Ｐ７７８８１２３,,,山田さん 85.3.15生\n",
    );
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    let comments = column(&out, "comment");
    assert_eq!(comments[1], "***さん");
    assert!(comments[2].starts_with("***さん *** '*** 来院 20"), "{}", comments[2]);
    assert!(!comments[2].contains("2024/02/01"), "other dates are shifted: {}", comments[2]);
    assert_eq!(comments[3], "***さん ***生");
}

#[test]
fn rv17_suspect_8_csv_a_year_month_in_the_file_name_is_shifted_or_removed_with_the_dates() {
    let wd = Workdir::new("rv17_suspect_8_csv_a_year_month_in_the_file_name_is_shifted_or_removed_with_the_dates");
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nday = \"date\"\n").unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/labs_2024-02.csv"), "pid,day\nP7788123,2024-02-15\n").unwrap();
    std::fs::write(wd.path("in/labs_202402.csv"), "pid,day\nP7788123,2024-02-15\n").unwrap();
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let outputs: Vec<PathBuf> = wd
        .files("out")
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "csv") && !p.to_string_lossy().contains("kamei-"))
        .collect();
    let names: Vec<String> = outputs.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    // The rows' date, shifted: the 15th, so the name's month is the row's month.
    let day = column(&rows(&wd.path("out").join(&outputs[0])), "day")[0].to_string();
    let (y, m) = (&day[0..4], &day[5..7]);
    assert!(names.iter().any(|n| n.starts_with(&format!("labs_{y}-{m}_"))), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with(&format!("labs_{y}{m}_"))), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("2024-02") || n.contains("202402")), "{names:?}");
    let wd2 = Workdir::new("rv17_suspect_8_csv_a_year_month_in_the_file_name_is_removed_without_dates");
    std::fs::write(wd2.path("cols.toml"), "[columns]\npid = \"patient-id\"\nday = \"date\"\n").unwrap();
    std::fs::create_dir_all(wd2.path("in")).unwrap();
    std::fs::write(wd2.path("in/labs_2024-02.csv"), "pid,day\nP7788123,2024-02-15\n").unwrap();
    csv_of_in(&wd2, &[]).assert_code(0);
    let names: Vec<String> =
        wd2.files("out").iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(names.iter().any(|n| n.starts_with("labs_date_")), "{names:?}");
}

#[test]
fn rv17_suspect_15_csv_euc_jp_is_read_as_euc_jp_and_an_ambiguous_file_fails() {
    let wd = Workdir::new("rv17_suspect_15_csv_euc_jp_is_read_as_euc_jp_and_an_ambiguous_file_fails");
    put_csv(&wd, "pid = \"patient-id\"\nnote = \"keep\"\n", "");
    let euc = |t: &str| encoding_rs::EUC_JP.encode(t).0.into_owned();
    std::fs::write(wd.path("in/in.csv"), euc("pid,note\nP7788123,胸部レントゲン 異常なし\n")).unwrap();
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/in.csv")), "note"), ["胸部レントゲン 異常なし"]);
    let wd = Workdir::new("rv17_suspect_15_csv_an_ambiguous_euc_jp_file_fails");
    put_csv(&wd, "pid = \"patient-id\"\nnote = \"keep\"\n", "");
    std::fs::write(wd.path("in/in.csv"), euc("pid,note\nP7788123,山田\n")).unwrap();
    let run = csv_of_in(&wd, &[]);
    run.assert_code(1);
    assert!(run.stderr().contains("--encoding euc-jp"), "{}", run.stderr());
    assert!(!wd.path("out/in.csv").exists());
}

/// `kamei clinical csv in -o out` with `cols.toml`, key 7 and `--identifiers-from` each of
/// `masters`.
fn csv_with_masters(wd: &Workdir, masters: &[&str]) -> Run {
    let k = key(wd, "k.key", 7);
    let mut args = vec!["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    for m in masters {
        args.extend(["--identifiers-from", m]);
    }
    wd.kamei(args)
}

#[test]
fn csv_notes_lose_the_names_a_patient_master_gives() {
    // rv22 suspect 2: a data warehouse export splits the patient master (name, birth date)
    // from the notes table, which has no name column; the notes kept `山田さん`.
    let wd = Workdir::new("csv_notes_lose_the_names_a_patient_master_gives");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(
        wd.path("cols.toml"),
        "[columns]\n\"患者ID\" = \"patient-id\"\n\"氏名\" = \"name\"\n\"生年月日\" = \"birth-date\"\n\"記事\" = \"free-text\"\n",
    )
    .unwrap();
    std::fs::write(wd.path("master.csv"), "患者ID,氏名,生年月日\n0001234567,山田 太郎,1985/03/15\n").unwrap();
    std::fs::write(wd.path("in/notes.csv"), "患者ID,記事\n0001234567,山田さん 昭和60年3月15日生 来院\n").unwrap();
    let run = csv_with_masters(&wd, &["master.csv"]);
    run.assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/notes.csv")), "記事"), ["***さん ***生 来院"]);
}

#[test]
fn csv_run_into_the_same_out_with_another_patient_master_is_refused() {
    let wd = Workdir::new("csv_run_into_the_same_out_with_another_patient_master_is_refused");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nname = \"name\"\nnote = \"free-text\"\n")
        .unwrap();
    std::fs::write(wd.path("m1.csv"), "pid,name\nP1,山田 太郎\n").unwrap();
    std::fs::write(wd.path("m2.csv"), "pid,name\nP1,山田 太郎\nP2,佐藤 花子\n").unwrap();
    std::fs::write(wd.path("in/notes.csv"), "pid,note\nP2,佐藤さん\n").unwrap();
    csv_with_masters(&wd, &["m1.csv"]).assert_code(0);
    csv_with_masters(&wd, &["m2.csv"]).assert_code(2);
    csv_with_masters(&wd, &[]).assert_code(2);
    assert_eq!(column(&rows(&wd.path("out/notes.csv")), "note"), ["佐藤さん"]);
}

#[test]
fn csv_patient_master_that_does_not_fit_the_columns_stops_the_run_by_its_position() {
    let wd = Workdir::new("csv_patient_master_that_does_not_fit_the_columns_stops_the_run_by_its_position");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nnote = \"free-text\"\n").unwrap();
    std::fs::write(wd.path("master_0001234567.csv"), "pid,kana\nP1,ヤマダ\n").unwrap();
    std::fs::write(wd.path("in/notes.csv"), "pid,note\nP1,ヤマダさん\n").unwrap();
    let run = csv_with_masters(&wd, &["master_0001234567.csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("--identifiers-from #1"), "{}", run.stderr());
    assert!(!run.stderr().contains("0001234567") && !run.stderr().contains("kana"), "{}", run.stderr());
    assert!(!wd.path("out/notes.csv").exists());
}

/// The names of the CSV files `kamei clinical csv` wrote in `out` (not its own books).
fn released_names(wd: &Workdir, out: &str) -> Vec<String> {
    csv_names(wd, out).into_iter().filter(|n| !n.starts_with("kamei-")).collect()
}

#[test]
fn rv22_13_csv_a_per_patient_export_without_a_row_to_release_is_not_written_nor_named() {
    let wd = Workdir::new("rv22_13_csv_a_per_patient_export_without_a_row_to_release_is_not_written_nor_named");
    std::fs::write(wd.path("cols.toml"), "[columns]\n\"患者ID\" = \"patient-id\"\n\"結果\" = \"keep\"\n").unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/labs_0001234567_山田太郎.csv"), "患者ID,結果\r\n").unwrap();
    std::fs::write(wd.path("in/labs_0001234568.csv"), "患者ID,結果\r\n0001234568,1.0\r\n").unwrap();
    let run = csv_of_in(&wd, &[]);
    run.assert_code(0);
    assert!(run.stderr().contains("1 files not written: no row to release"), "{}", run.stderr());
    let released = released_names(&wd, "out");
    assert_eq!(released.len(), 1, "{released:?}");
    assert!(!released[0].contains("0001234568"), "{released:?}");
    let audit = std::fs::read_to_string(wd.path("out/kamei-audit.jsonl")).unwrap();
    for text in [run.stderr(), audit] {
        assert!(!text.contains("0001234567") && !text.contains("山田太郎"), "{text}");
    }
    // Its only row dropped: not written either, the row's problem named by the input's place.
    std::fs::write(wd.path("in/op_0001234570_田中.csv"), "患者ID,結果\r\n,1.2\r\n").unwrap();
    let run = csv_of_in(&wd, &[]);
    run.assert_code(1);
    assert!(run.stderr().contains("input #3 (sha256 ") && run.stderr().contains("row dropped"), "{}", run.stderr());
    assert!(!run.stderr().contains("田中") && !run.stderr().contains("0001234570"), "{}", run.stderr());
    assert!(!released_names(&wd, "out").iter().any(|n| n.contains("田中")));
}

#[test]
fn rv22_02_csv_a_patient_id_a_spreadsheet_rewrote_is_dropped_never_pseudonymized() {
    let wd = Workdir::new("rv22_02_csv_a_patient_id_a_spreadsheet_rewrote_is_dropped_never_pseudonymized");
    put_csv(
        &wd,
        "\"患者ID\" = \"patient-id\"\n\"値\" = \"keep\"\n",
        "患者ID,値\r\n1234567890,0.3\r\n1.23457E+09,0.5\r\n\"1,234,567,890\",6.1\r\n9999999999,0.1\r\n",
    );
    std::fs::write(wd.path("optout.txt"), "1234567890\n").unwrap();
    let run = csv_of_in_with(&wd, "out", &["--exclude-patients", "optout.txt"]);
    run.assert_code(1);
    assert!(run.stderr().contains("2 dropped as malformed"), "{}", run.stderr());
    assert!(run.stderr().contains("spreadsheet rewrote"), "{}", run.stderr());
    let out = rows(&wd.path("out/in.csv"));
    assert_eq!(column(&out, "値"), ["0.1"]);
}

/// `kamei clinical csv in -o OUT` with the test's `cols.toml`, key 7 and these extra arguments.
fn csv_of_in_with(wd: &Workdir, out: &str, extra: &[&str]) -> Run {
    let k = key(wd, "k.key", 7);
    let args = ["clinical", "csv", "in", "-o", out, "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    wd.kamei([&args[..], extra].concat())
}

const NAME_AND_NOTE: &str = "pid = \"patient-id\"\nname = \"name\"\ncomment = \"free-text\"\n";

#[test]
fn rv22_09_csv_a_name_with_an_honorific_glued_to_it_is_found_in_text_and_file_name() {
    let wd = Workdir::new("rv22_09_csv_a_name_with_an_honorific_glued_to_it_is_found_in_text_and_file_name");
    std::fs::write(wd.path("cols.toml"), format!("[columns]\n{NAME_AND_NOTE}kana = \"name\"\n")).unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(
        wd.path("in/山田太郎_labs.csv"),
        "pid,name,kana,comment\n0001234567,山田太郎様,ヤマダタロウ様,山田太郎が来院 ヤマダタロウ\n",
    )
    .unwrap();
    csv_of_in(&wd, &[]).assert_code(0);
    let released = released_names(&wd, "out");
    assert!(released.len() == 1 && !released[0].contains("山田"), "{released:?}");
    assert_eq!(column(&rows(&wd.path("out").join(&released[0])), "comment"), ["***が来院 ***"]);
}

#[test]
fn rv22_16_csv_a_name_with_a_flag_glued_to_it_is_found_in_text() {
    let wd = Workdir::new("rv22_16_csv_a_name_with_a_flag_glued_to_it_is_found_in_text");
    put_csv(
        &wd,
        NAME_AND_NOTE,
        "pid,name,comment\n0001234567,山田太郎【同姓同名】,山田太郎が来院 VIP対応\n0001234568,鈴木一郎※,鈴木一郎さん 鈴木さん\n\
         0001234569,★佐藤花子,佐藤花子が来院\n0001234570,田中次郎[VIP],田中次郎氏 同姓同名あり\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(
        column(&rows(&wd.path("out/in.csv")), "comment"),
        ["***が来院 VIP対応", "***さん ***さん", "***が来院", "***氏 同姓同名あり"]
    );
}

#[test]
fn rv22_10_csv_a_former_name_after_a_colon_is_found_in_text() {
    let wd = Workdir::new("rv22_10_csv_a_former_name_after_a_colon_is_found_in_text");
    put_csv(
        &wd,
        NAME_AND_NOTE,
        "pid,name,comment\n0001234567,山田　花子（旧姓：佐藤）,佐藤さんとして受診歴あり\n0001234568,鈴木 和子 (旧姓:高橋),旧姓高橋で登録\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/in.csv")), "comment"), ["***さんとして受診歴あり", "旧姓***で登録"]);
}

#[test]
fn rv22_12_csv_a_romaji_name_with_long_vowel_marks_is_found_in_kana_and_ascii() {
    let wd = Workdir::new("rv22_12_csv_a_romaji_name_with_long_vowel_marks_is_found_in_kana_and_ascii");
    put_csv(
        &wd,
        NAME_AND_NOTE,
        "pid,name,comment\n0001234567,SATŌ Tarō,さとう様 たろうさん Satou Tarou\n0001234568,Ôno Hanako,おおの様 はなこさん\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/in.csv")), "comment"), ["***様 ***さん *** ***", "***様 ***さん"]);
}

#[test]
fn rv22_14_csv_a_six_digit_id_glued_to_a_prefix_is_removed_from_text() {
    let wd = Workdir::new("rv22_14_csv_a_six_digit_id_glued_to_a_prefix_is_removed_from_text");
    put_csv(
        &wd,
        "pid = \"patient-id\"\ncomment = \"free-text\"\n",
        "pid,comment\n123456,ID123456の患者\n123456,カルテNo123456 参照\n123456,値 1234.56\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/in.csv")), "comment"), ["ID***の患者", "カルテNo*** 参照", "値 1234.56"]);
}

#[test]
fn rv22_05_csv_a_phone_number_with_its_area_code_in_parentheses_is_removed_from_text() {
    let wd = Workdir::new("rv22_05_csv_a_phone_number_with_its_area_code_in_parentheses_is_removed_from_text");
    put_csv(
        &wd,
        "pid = \"patient-id\"\ncomment = \"free-text\"\n",
        "pid,comment\nP1,長女 自宅(03)1234-5678\nP1,勤務先（0466）12-3456\nP1,紹介元 (045) 987-6543\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    assert_eq!(column(&rows(&wd.path("out/in.csv")), "comment"), ["長女 自宅***", "勤務先***", "紹介元 ***"]);
}

#[test]
fn rv22_06_07_csv_dates_of_file_names_with_underscores_ranges_months_and_eras_are_not_left_real() {
    let wd =
        Workdir::new("rv22_06_07_csv_dates_of_file_names_with_underscores_ranges_months_and_eras_are_not_left_real");
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nday = \"date\"\n").unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let names = [
        "labs_2024_02_01",
        "rx_2024_2_1",
        "ct_20240201-0205",
        "mr_2024-02-01_02-05",
        "img_Feb2024",
        "op_H31.04",
        "adm_R060201",
    ];
    for n in names {
        std::fs::write(wd.path(&format!("in/{n}.csv")), "pid,day\nP7788123,2024-02-01\n").unwrap();
    }
    csv_of_in(&wd, &[]).assert_code(0);
    let mut stems: Vec<String> =
        released_names(&wd, "out").iter().map(|n| n[..n.len() - "_0123abcd.csv".len()].to_string()).collect();
    stems.sort();
    assert_eq!(stems, ["adm_date", "ct_date", "img_date", "labs_date", "mr_date", "op_date", "rx_date"]);
    let _ = std::fs::remove_dir_all(wd.path("out"));
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let released = released_names(&wd, "out");
    assert_eq!(released.len(), names.len(), "{released:?}");
    for real in ["2024_02_01", "2024_2_1", "0205", "02-05", "Feb2024", "H31", "R06", " "] {
        assert!(!released.iter().any(|n| n.contains(real)), "{real}: {released:?}");
    }
}

/// The shifted `YYYY-MM-DD` of a date column as `Y/M/D` without padding (`2023/8/25`).
fn unpadded_slash(iso: &str) -> String {
    let n: Vec<u32> = iso.split('-').map(|p| p.parse().unwrap()).collect();
    format!("{}/{}/{}", n[0], n[1], n[2])
}

#[test]
fn rv22_01_csv_and_ssmix2_free_text_lose_the_end_of_a_range_or_list_without_its_year() {
    let wd = Workdir::new("rv22_01_csv_and_ssmix2_free_text_lose_the_end_of_a_range_or_list_without_its_year");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nvisit = \"date\"\ncomment = \"free-text\"\n",
        "pid,visit,comment\n\
         1234567890,2024-02-01,入院期間 2024/2/1～2/5\n\
         1234567890,2024-02-01,前回2024/2/1、今回2/8\n\
         1234567890,2024-02-01,2024/2/1、2/8、2/15に投与\n",
    );
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山田^太郎^^^^^L^I||19850315|M",
        "OBX|1|TX|9Z^所見^99||入院期間 2024/2/1から2/5||||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    let start = unpadded_slash(column(&out, "visit")[0]);
    assert_eq!(
        column(&out, "comment"),
        [format!("入院期間 {start}～***"), format!("前回{start}、今回***"), format!("{start}、***、***に投与")]
    );
    let k = key(&wd, "k.key", 7);
    let args = ["clinical", "ss-mix2", "root", "-o", "ss", "--key", k.to_str().unwrap()];
    let options = ["--option", "clean-free-text", "--option", "retain-long-modified-dates"];
    wd.kamei([&args[..], &options[..]].concat()).assert_code(0);
    let files = tree(&wd, "ss");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    assert_eq!(msg.decode(segment(&msg, "OBX").field(5)).text, format!("入院期間 {start}から***"));
}

#[test]
fn rv22_03_csv_free_text_dates_printed_in_columns_are_shifted_or_removed() {
    let wd = Workdir::new("rv22_03_csv_free_text_dates_printed_in_columns_are_shifted_or_removed");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nbirth = \"birth-date\"\nvisit = \"date\"\ncomment = \"free-text\"\n",
        "pid,birth,visit,comment\n\
         1234567890,1985/03/15,2024/02/01,生年月日 S60. 3.15 初診 2024/ 2/ 1\n\
         1234567890,1985/03/15,2024/02/01,生 1985/ 3/15 前回 H31. 4. 1 次回 R 6. 3. 1\n",
    );
    csv_of_in(&wd, &[]).assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    assert_eq!(column(&out, "comment"), ["生年月日 *** 初診 ***", "生 *** 前回 *** 次回 ***"]);
    let _ = std::fs::remove_dir_all(wd.path("out"));
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    let visit = column(&out, "visit")[0];
    let (y, m, d) = (&visit[0..4], visit[5..7].trim_start_matches('0'), visit[8..10].trim_start_matches('0'));
    let columns = format!("{y}/{m:>2}/{d:>2}");
    assert_eq!(
        column(&out, "comment"),
        [format!("生年月日 *** 初診 {columns}"), "生 *** 前回 *** 次回 ***".to_string()],
        "the birth date goes, the visit is shifted in its columns"
    );
}

#[test]
fn rv22_04_csv_free_text_loses_the_birth_date_written_with_spaces_even_when_dates_are_shifted() {
    let wd = Workdir::new("rv22_04_csv_free_text_loses_the_birth_date_written_with_spaces_even_when_dates_are_shifted");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nbirth = \"birth-date\"\ncomment = \"free-text\"\n",
        "pid,birth,comment\n\
         1234567890,1985/03/15,生年月日:1985年 3月15日\n\
         1234567890,1985/03/15,生年月日 １９８５年　３月１５日\n\
         1234567890,1985/03/15,1985 年 3 月 15 日生まれ\n",
    );
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    assert_eq!(column(&out, "comment"), ["生年月日:***", "生年月日 ***", "***生まれ"]);
}

#[test]
fn rv22_08_csv_free_text_shifts_a_japanese_weekday_written_without_brackets() {
    let wd = Workdir::new("rv22_08_csv_free_text_shifts_a_japanese_weekday_written_without_brackets");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nvisit = \"date\"\ncomment = \"free-text\"\n",
        "pid,visit,comment\n\
         1234567890,2024-02-01,2024年2月1日木曜日 来院\n\
         1234567890,2024-02-01,2024/2/1 木 来院\n\
         1234567890,2024-02-01,2024/2/1（木曜日）来院\n",
    );
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    let visit = column(&out, "visit")[0];
    let day = chrono::NaiveDate::parse_from_str(visit, "%Y-%m-%d").unwrap();
    let weekday =
        ['月', '火', '水', '木', '金', '土', '日'][chrono::Datelike::weekday(&day).num_days_from_monday() as usize];
    let start = unpadded_slash(visit);
    let (y, m, d) = (chrono::Datelike::year(&day), chrono::Datelike::month(&day), chrono::Datelike::day(&day));
    assert_eq!(
        column(&out, "comment"),
        [
            format!("{y}年{m}月{d}日{weekday}曜日 来院"),
            format!("{start} {weekday} 来院"),
            format!("{start}（{weekday}曜日）来院"),
        ]
    );
}

#[test]
fn rv35_01_csv_free_text_reads_a_japanese_date_with_the_hour_glued_after_it() {
    let wd = Workdir::new("rv35_01_csv_free_text_reads_a_japanese_date_with_the_hour_glued_after_it");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nvisit = \"date\"\ncomment = \"free-text\"\n",
        "pid,visit,comment\n\
         1234567890,2024-01-02,採血 2024年1月2日9時30分 実施\n\
         1234567890,2024-01-02,前回 2024年01月02日10:30\n\
         1234567890,2024-01-02,2024年1月2日3錠\n\
         1234567890,2024-01-02,1月2日10時 受診\n",
    );
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    let visit = column(&out, "visit")[0];
    let day = chrono::NaiveDate::parse_from_str(visit, "%Y-%m-%d").unwrap();
    let (y, m, d) = (chrono::Datelike::year(&day), chrono::Datelike::month(&day), chrono::Datelike::day(&day));
    assert_eq!(
        column(&out, "comment"),
        [
            format!("採血 {y}年{m}月{d}日9時30分 実施"),
            format!("前回 {y}年{m:02}月{d:02}日10:30"),
            format!("{y}年{m}月{d}日3錠"),
            "***10時 受診".to_string(),
        ]
    );
    // Without the option the dates go.
    std::fs::remove_dir_all(wd.path("out")).unwrap();
    csv_of_in(&wd, &[]).assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    assert_eq!(column(&out, "comment"), ["採血 ***9時30分 実施", "前回 ***10:30", "***3錠", "***10時 受診"]);
}

#[test]
fn rv35_05_csv_free_text_shifts_the_row_s_own_date_joined_to_a_word() {
    let wd = Workdir::new("rv35_05_csv_free_text_shifts_the_row_s_own_date_joined_to_a_word");
    put_csv(
        &wd,
        "pid = \"patient-id\"\nvisit = \"date\"\ncomment = \"free-text\"\n",
        "pid,visit,comment\n\
         1234567890,2024-01-02,CT_20240102 / 20240102_1030 / 検査_2024/01/02 / 2024-01-02_MR / X_20190501\n",
    );
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    let visit = column(&out, "visit")[0];
    assert_ne!(visit, "2024-01-02");
    let (dashed, digits, slashed) = (visit.to_string(), visit.replace('-', ""), visit.replace('-', "/"));
    assert_eq!(
        column(&out, "comment"),
        [format!("CT_{digits} / {digits}_1030 / 検査_{slashed} / {dashed}_MR / X_20190501")],
        "the row's own date is shifted; another date glued to a word is some code and stays"
    );
    std::fs::remove_dir_all(wd.path("out")).unwrap();
    csv_of_in(&wd, &[]).assert_code(0);
    let out = rows(&wd.path("out/in.csv"));
    assert_eq!(column(&out, "comment"), ["CT_*** / ***_1030 / 検査_*** / ***_MR / X_20190501"]);
}

#[test]
fn rv22_17_csv_free_text_loses_an_era_date_written_with_its_era_name_and_numbers() {
    let wd = Workdir::new("rv22_17_csv_free_text_loses_an_era_date_written_with_its_era_name_and_numbers");
    put_csv(
        &wd,
        "pid = \"patient-id\"\ncomment = \"free-text\"\n",
        "pid,comment\n\
         1234567890,初診 令和6.2.1\n\
         1234567890,手術 平成31.4.30\n\
         1234567890,退院 令和元/5/1\n\
         1234567890,次回 令和６．３．１\n",
    );
    for options in [&[][..], &["retain-long-modified-dates"][..]] {
        let _ = std::fs::remove_dir_all(wd.path("out"));
        csv_of_in(&wd, options).assert_code(0);
        let out = rows(&wd.path("out/in.csv"));
        assert_eq!(column(&out, "comment"), ["初診 ***", "手術 ***", "退院 ***", "次回 ***"], "{options:?}");
    }
}

#[test]
fn rv22_11_csv_a_missing_input_or_a_dangling_link_in_a_folder_fails_and_the_rest_is_written() {
    let wd = Workdir::new("rv22_11_csv_a_missing_input_or_a_dangling_link_in_a_folder_fails_and_the_rest_is_written");
    put_csv(&wd, "pid = \"patient-id\"\nvalue = \"keep\"\n", "pid,value\nP1,1\n");
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei([
        "clinical",
        "csv",
        "in/in.csv",
        "in/gone.csv",
        "-o",
        "out",
        "--key",
        k.to_str().unwrap(),
        "--columns",
        "cols.toml",
    ]);
    run.assert_code(1);
    assert!(run.stderr().contains("input #2") && !run.stderr().contains("gone"), "{}", run.stderr());
    assert!(wd.path("out/in.csv").exists());
    std::os::unix::fs::symlink("/nonexistent/share/b.csv", wd.path("in/b.csv")).unwrap();
    let run = csv_of_in_with(&wd, "out2", &[]);
    run.assert_code(1);
    assert!(run.stderr().contains("1 written, 0 already present, 1 failed"), "{}", run.stderr());
    assert!(wd.path("out2/in.csv").exists());
}

#[test]
fn rv22_15_ssmix2_an_observation_number_that_is_the_messages_date_follows_the_dates() {
    let wd = Workdir::new("rv22_15_ssmix2_an_observation_number_that_is_the_messages_date_follows_the_dates");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F",
        "OBR|1|000000000012346||X1^CRP^JC10|||20240402100000",
        "OBX|1|NM|A^a^99||20240402||||||F",
        "OBX|2|SN|C^c^99||^20240402||||||F",
        "OBX|3|CQ|I^i^99||20240402^d||||||F",
        "OBX|4|NM|Z^z^99||20240403||||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    ssmix2_root_run(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let shifted = msg.decode(segment(&msg, "OBR").field(7)).text[..8].to_string();
    assert_ne!(shifted, "20240402");
    let values: Vec<String> =
        msg.segments.iter().filter(|s| s.name == "OBX").map(|s| msg.decode(s.field(5)).text).collect();
    assert_eq!(values, [shifted.clone(), format!("^{shifted}"), format!("{shifted}^d"), "20240403".to_string()]);

    let _ = std::fs::remove_dir_all(wd.path("out"));
    ssmix2_root_run(&wd, &[]).assert_code(0);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let values: Vec<String> =
        msg.segments.iter().filter(|s| s.name == "OBX").map(|s| msg.decode(s.field(5)).text).collect();
    assert_eq!(values, ["", "", "^d", "20240403"], "removed without the option");
}

/// A file name written by Windows in Shift_JIS (CP932), as `std::fs` takes its bytes.
fn cp932_name(dir: &Path, name: &str) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(name);
    dir.join(std::ffi::OsStr::from_bytes(&bytes))
}

#[test]
fn an_id_in_a_shift_jis_file_name_is_replaced_by_the_pseudonym() {
    let wd = Workdir::new("an_id_in_a_shift_jis_file_name_is_replaced_by_the_pseudonym");
    put_csv(&wd, "pid = \"patient-id\"\nvisit = \"date\"\n", "pid\n");
    std::fs::remove_file(wd.path("in/in.csv")).unwrap();
    std::fs::write(cp932_name(&wd.path("in"), "検査_１２３４５６７８９０.csv"), "pid,visit\n1234567890,2024-02-15\n")
        .unwrap();
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let names: Vec<String> = wd.files("out").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let output = names.iter().find(|n| n.ends_with(".csv") && !n.starts_with("kamei")).expect("an output");
    assert!(output.starts_with("検査_"), "the name is read as Shift_JIS: {names:?}");
    assert!(!output.contains(char::REPLACEMENT_CHARACTER), "{names:?}");
    use unicode_normalization::UnicodeNormalization;
    assert!(!output.nfkc().collect::<String>().contains("1234567890"), "{names:?}");
}

#[test]
fn a_file_name_that_reads_as_no_encoding_is_not_released() {
    let wd = Workdir::new("a_file_name_that_reads_as_no_encoding_is_not_released");
    put_csv(&wd, "pid = \"patient-id\"\nvisit = \"date\"\n", "pid\n");
    std::fs::remove_file(wd.path("in/in.csv")).unwrap();
    // 0x82 0x50 is CP932 "１"; a lone 0xFF is neither UTF-8 nor CP932.
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::OsStr::from_bytes(b"\xff\x82\x50\x82\x51PQ.csv");
    std::fs::write(wd.path("in").join(name), "pid,visit\n1234567890,2024-02-15\n").unwrap();
    csv_of_in(&wd, &[]).assert_code(0);
    let names: Vec<String> = wd.files("out").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let output = names.iter().find(|n| n.ends_with(".csv") && !n.starts_with("kamei")).expect("an output");
    assert!(output.starts_with("unreadable-name_"), "nothing of the name is kept: {names:?}");
}

#[test]
fn ssmix2_a_shift_jis_message_is_read_cleaned_and_written_as_iso_2022_jp() {
    // rv22 suspect 9: Shift_JIS messages (not SS-MIX2, but common) lost every kanji text with
    // exit 0. `ソ` and `表` end in 0x5C (the escape character) and `－` in 0x7C (the field
    // separator): only a message decoded before it is split keeps its fields. `－` is JIS
    // 0x215D, which reads as U+2212 (the pinned JIS mapping).
    let wd = Workdir::new("ssmix2_a_shift_jis_message_is_read_cleaned_and_written_as_iso_2022_jp");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F",
        "OBX|1|ST|X^c^99||山本様 ソ連表示－確認 2024/04/02 ｶﾅ 電話090-1111-2222||||||F",
    ];
    let sjis: Vec<Vec<u8>> = segments.iter().map(|s| encoding_rs::SHIFT_JIS.encode(s).0.into_owned()).collect();
    put_p1_message(&wd, &sjis);
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &["山本", "美日", "1111"]);
    let files = tree(&wd, "out");
    let bytes = files.values().next().unwrap();
    assert!(bytes.is_ascii(), "written in ISO-2022-JP");
    let msg = Message::parse(bytes).unwrap();
    assert_eq!(msg.decode(segment(&msg, "OBX").field(5)).text, "***様 ソ連表示\u{2212}確認 *** カナ 電話***");
    assert!(audit_notes(&wd).iter().any(|n| n.contains("read as Shift_JIS")), "{:?}", audit_notes(&wd));
    assert!(run.stderr().contains("1 messages read as Shift_JIS"), "{}", run.stderr());
}

#[test]
fn csv_excel_unicode_text_in_utf16_is_read_and_written_as_utf8() {
    // rv22 suspect 11: Excel's "Unicode テキスト" (UTF-16 LE with a byte order mark, tabs) was
    // refused ("header row is not valid in the file's encoding").
    let wd = Workdir::new("csv_excel_unicode_text_in_utf16_is_read_and_written_as_utf8");
    put_csv(&wd, "\"患者ID\" = \"patient-id\"\n\"氏名\" = \"name\"\n\"記事\" = \"free-text\"\n", "");
    let text = "患者ID\t氏名\t記事\r\n0001234567\t山田 太郎\t山田さん 来院\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(wd.path("in/in.csv"), bytes).unwrap();
    let k = key(&wd, "k.key", 7);
    let run = wd.kamei([
        "clinical",
        "csv",
        "in",
        "-o",
        "out",
        "--key",
        k.to_str().unwrap(),
        "--columns",
        "cols.toml",
        "--delimiter",
        "tab",
    ]);
    run.assert_code(0);
    let out = std::fs::read(wd.path("out/in.csv")).unwrap();
    let out = String::from_utf8(out).expect("UTF-8");
    assert_eq!(out, format!("患者ID,記事\n{},***さん 来院\n", kamei_pseudonym("0001234567")));
}

#[test]
fn csv_and_ssmix2_take_retain_long_modified_dates_from_the_profile_as_deid_does() {
    // rv22 suspect 13: `--profile p.toml` gave its [date_shift] but not its options: the dates
    // deid shifted with the same profile were removed here.
    let wd = Workdir::new("csv_and_ssmix2_take_retain_long_modified_dates_from_the_profile_as_deid_does");
    std::fs::write(
        wd.path("p.toml"),
        "name = \"p\"\nextends = \"basic\"\noptions = [\"retain-long-modified-dates\"]\n[date_shift]\nmax_days = 30\n",
    )
    .unwrap();
    put_csv(&wd, "pid = \"patient-id\"\nvisit = \"date\"\n", "pid,visit\n1234567890,2024-02-01\n");
    let k = key(&wd, "k.key", 7);
    let ks = k.to_str().unwrap();
    let run =
        wd.kamei(["clinical", "csv", "in", "-o", "out", "--key", ks, "--columns", "cols.toml", "--profile", "p.toml"]);
    run.assert_code(0);
    let visits = rows(&wd.path("out/in.csv"));
    let visit = column(&visits, "visit")[0];
    let shift = days("2024-02-01", visit);
    assert!(shift != 0 && shift.abs() <= 30, "shifted within the profile's 30 days: {visit}");
    put_p1_message(&wd, &[SS_MSH.as_bytes().to_vec(), b"PID|0001||1234567890^^^^PI||".to_vec()]);
    let run = wd.kamei(["clinical", "ss-mix2", "root", "-o", "ss", "--key", ks, "--profile", "p.toml"]);
    run.assert_code(0);
    let files = tree(&wd, "ss");
    let (path, _) = files.iter().find(|(p, _)| p.contains("OML-11")).unwrap();
    assert!(!path.contains("/-/"), "the date folder is shifted, not `-`: {path}");
}

/// The findings of `kamei verify OUT --linkage TABLE` that report an input path name.
fn path_name_findings(wd: &Workdir, out: &str, table: &str) -> Vec<String> {
    let run = wd.kamei(["verify", out, "--linkage", table]);
    assert!(run.code() <= 1, "{}", run.stderr());
    run.stdout().lines().filter(|l| l.contains("input path component")).map(str::to_string).collect()
}

#[test]
fn rv26_08_verify_linkage_does_not_report_the_names_clinical_commands_keep() {
    let wd = Workdir::new("rv26_08_verify_linkage_does_not_report_the_names_clinical_commands_keep");
    let k = key(&wd, "k.key", 7);
    // The fixture holds a message that fails on purpose (exit 1).
    ssmix2_run(&wd, &k, &[], "ss").assert_code(1);
    assert_eq!(path_name_findings(&wd, "ss", "ss.linkage.csv"), Vec::<String>::new(), "data type folders are kept");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(wd.path("in/labs.csv"), "patient_id,visit_date\n1234567890,2024-02-15\n").unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvisit_date = \"date\"\n").unwrap();
    let ks = k.to_str().unwrap();
    wd.kamei([
        "clinical",
        "csv",
        "in",
        "-o",
        "csv",
        "--key",
        ks,
        "--columns",
        "cols.toml",
        "--linkage",
        "csv.link.csv",
    ])
    .assert_code(0);
    assert!(wd.path("csv/labs.csv").exists());
    assert_eq!(path_name_findings(&wd, "csv", "csv.link.csv"), Vec::<String>::new(), "labs.csv is kept");
    // An image release keeping its input's names (mirror layout) is still checked: a folder
    // named for the patient is reported.
    Fixture::ct(P1, P1_STUDY, &format!("{P1_STUDY}.1"), &format!("{P1_STUDY}.1.1"))
        .write(&wd.path("dicom/YAMADA_HANAKO/a.dcm"));
    Fixture::ct(
        P2,
        "1.2.826.0.1.3680043.8.498.4202",
        "1.2.826.0.1.3680043.8.498.4202.1",
        "1.2.826.0.1.3680043.8.498.4202.1.1",
    )
    .write(&wd.path("dicom/SUZUKI_ICHIRO/b.dcm"));
    wd.kamei([
        "deid",
        "dicom",
        "-o",
        "mirror",
        "--key",
        ks,
        "--layout",
        "mirror",
        "--linkage",
        "mirror.link.csv",
        "-q",
    ])
    .assert_code(0);
    assert!(!path_name_findings(&wd, "mirror", "mirror.link.csv").is_empty());
    // And an original ID from the table is found in a clinical release.
    std::fs::write(wd.path("csv/note.txt"), format!("patient {P1}")).unwrap();
    wd.kamei(["verify", "csv", "--linkage", "csv.link.csv"]).assert_code(1);
}

#[test]
fn rv26_10_two_commands_appending_to_one_linkage_table_at_once_write_whole_rows() {
    let wd = Workdir::new("rv26_10_two_commands_appending_to_one_linkage_table_at_once_write_whole_rows");
    for run in ["a", "b"] {
        std::fs::create_dir_all(wd.path(run)).unwrap();
        for i in 0..600 {
            let body = format!("patient_id,visit_date\n{run}{i:07},2024-02-15\n");
            std::fs::write(wd.path(&format!("{run}/labs_{i:04}.csv")), body).unwrap();
        }
    }
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvisit_date = \"date\"\n").unwrap();
    let k = key(&wd, "k.key", 7);
    let spawn = |run: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kamei"))
            .args(["clinical", "csv", run, "-o", &format!("out-{run}"), "--key", k.to_str().unwrap()])
            .args(["--columns", "cols.toml", "--linkage", "link.csv", "-q"])
            .current_dir(&wd.root)
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn("a"), spawn("b"));
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(wd.path("link.csv")).unwrap();
    let rows: Vec<Vec<String>> = rdr.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 3), "a row cut or glued to another");
    assert_eq!(rows.iter().filter(|r| r[0] == "kind").count(), 1, "one header");
    assert_eq!(rows.iter().filter(|r| r[0] == "file").count(), 1200, "a file row for every output");
    assert_eq!(rows.iter().filter(|r| r[0] == "patient").count(), 1200, "a patient row for every patient");
}

/// Write an SS-MIX2 OML-11 message of P1 under `wd/root`: date folder `date`, file-name
/// timestamp `ts` (17 digits), note `note` (so that no two messages have the same bytes).
fn put_p1_lab(wd: &Workdir, date: &str, ts: &str, note: &str) {
    let dir = wd.path(&format!("root/123/456/{P1}/{date}/OML-11"));
    std::fs::create_dir_all(&dir).unwrap();
    let msg = format!(
        "MSH|^~\\&|HIS|HOSP|SSMIX2|HOSP|{ts}||OML^O33^OML_O33|C{ts}|P|2.5||||||~ISO IR87||ISO 2022-1994\rPID|0001||{P1}^^^^PI||YAMADA^TARO^^^^^L^A||19850315|M\rNTE|1||{note}\r"
    );
    std::fs::write(dir.join(format!("{P1}_{date}_OML-11_000000000012346_{ts}_01_1")), msg).unwrap();
}

/// `kamei clinical ss-mix2 root -o out` with key 7 and `--linkage link.csv`, dates removed.
fn ssmix2_root_linked(wd: &Workdir) -> Run {
    let k = key(wd, "k.key", 7);
    wd.kamei(["clinical", "ss-mix2", "root", "-o", "out", "--key", k.to_str().unwrap(), "--linkage", "link.csv"])
}

#[test]
fn rv26_02_ssmix2_output_names_without_dates_do_not_depend_on_the_patients_other_messages() {
    let wd = Workdir::new("rv26_02_ssmix2_output_names_without_dates_do_not_depend_on_the_patients_other_messages");
    put_p1_lab(&wd, "20240402", "20240402143000000", "first");
    // Two messages sharing a timestamp (in two date folders, which both become `-`).
    put_p1_lab(&wd, "20240403", "20240402143000000", "second");
    let run = ssmix2_root_linked(&wd);
    run.assert_code(0);
    let before = tree(&wd, "out");
    assert_eq!(before.len(), 2, "{before:?}");
    // The storage grows: a message whose timestamp sorts before the others arrives.
    put_p1_lab(&wd, "20240401", "20240401080000000", "third");
    let run = ssmix2_root_linked(&wd);
    run.assert_code(0);
    assert!(
        run.stderr().contains("1 written, 2 already present, 0 skipped (condition flag 0), 0 failed"),
        "{}",
        run.stderr()
    );
    let after = tree(&wd, "out");
    assert_eq!(after.len(), 3, "exactly the new message is added: {after:?}");
    for (name, bytes) in &before {
        assert_eq!(after.get(name), Some(bytes), "{name} keeps its name and bytes");
    }
    // The linkage table names each input once, each with its own output.
    let rows = rows(&wd.path("link.csv"));
    let files: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "file").collect();
    assert_eq!(files.len(), 3, "{rows:?}");
    let inputs: std::collections::BTreeSet<&str> = files.iter().map(|r| r[1].as_str()).collect();
    let outputs: std::collections::BTreeSet<&str> = files.iter().map(|r| r[2].as_str()).collect();
    assert_eq!((inputs.len(), outputs.len()), (3, 3), "{rows:?}");
    assert!(outputs.iter().all(|o| after.contains_key(*o)), "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r[0] == "patient").count(), 1, "{rows:?}");
    assert!(!rows.iter().any(|r| r[0] == "failed"), "{rows:?}");
    // A run from scratch gives the same names.
    std::fs::rename(wd.path("out"), wd.path("out-first")).unwrap();
    std::fs::remove_file(wd.path("link.csv")).unwrap();
    ssmix2_root_linked(&wd).assert_code(0);
    assert_eq!(tree(&wd, "out"), after);
    // No date is left in the names, and `verify` and `link report` take the output.
    for name in after.keys() {
        let parts: Vec<&str> = name.split('/').collect();
        assert_eq!(parts[3], "-", "{name}");
        let ts = parts[5].split('_').nth(4).unwrap();
        assert!(ts.len() == 17 && ts.bytes().all(|b| b.is_ascii_digit()), "{name}");
        assert!(!["20240402143000000", "20240401080000000"].contains(&ts), "{name}");
    }
    wd.kamei(["verify", "out", "--linkage", "link.csv"]).assert_code(0);
    images(&wd, &wd.path("k.key"), &[]).assert_code(0);
    let report = wd.kamei(["link", "report", "--images", "images", "--clinical", "out"]);
    report.assert_code(0);
    let both = format!("{}\tboth", kamei_pseudonym(P1));
    assert!(report.stdout().lines().any(|l| l.contains(&both)), "{}", report.stdout());
}

#[test]
fn linkage_tables_of_deid_csv_and_ssmix2_spell_one_patients_id_one_way() {
    // One patient, `0012345678`, spelled as each source had it: plain in the images and the
    // SS-MIX2 storage, full-width and with a zero-width space stuck to it in the CSV export.
    let wd = Workdir::new("linkage_tables_of_deid_csv_and_ssmix2_spell_one_patients_id_one_way");
    let id = "0012345678";
    let k = key(&wd, "k.key", 7);
    let ks = k.to_str().unwrap();
    let study = "1.2.826.0.1.3680043.8.498.2701";
    Fixture::ct(id, study, &format!("{study}.1"), &format!("{study}.1.1")).write(&wd.path("dicom/a.dcm"));
    let study = "1.2.826.0.1.3680043.8.498.2702";
    Fixture::ct(&format!("{id}\u{200B}"), study, &format!("{study}.1"), &format!("{study}.1.1"))
        .put(str_el(tags::SPECIFIC_CHARACTER_SET, dicom_core::VR::CS, "ISO_IR 192"))
        .write(&wd.path("dicom/b.dcm"));
    wd.kamei(["deid", "dicom", "-o", "images", "--key", ks, "--linkage", "link.csv", "-q"]).assert_code(0);
    put_csv(
        &wd,
        "pid = \"patient-id\"\nvalue = \"keep\"\n",
        "pid,value\n\u{FF10}\u{FF10}\u{FF11}\u{FF12}\u{FF13}\u{FF14}\u{FF15}\u{FF16}\u{FF17}\u{FF18},1\n=\"0012345678\"\u{200B},2\n",
    );
    wd.kamei(["clinical", "csv", "in", "-o", "csv", "--key", ks, "--columns", "cols.toml", "--linkage", "link.csv"])
        .assert_code(0);
    let dir = wd.path(&format!("root/001/234/{id}/-/ADT-00"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{id}_-_ADT-00_999999999999999_20240401093000000_-_1")),
        format!("MSH|^~\\&|HIS|HOSP|SSMIX2|HOSP|20240401093000||ADT^A08^ADT_A01|C1|P|2.5||||||~ISO IR87||ISO 2022-1994\rPID|0001||{id}^^^^PI||YAMADA^TARO^^^^^L^A||19850315|M\r"),
    )
    .unwrap();
    wd.kamei(["clinical", "ss-mix2", "root", "-o", "ss", "--key", ks, "--linkage", "link.csv"]).assert_code(0);
    let rows = rows(&wd.path("link.csv"));
    let patients: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "patient").collect();
    assert_eq!(patients.len(), 1, "one row for the patient: {patients:?}");
    assert_eq!(patients[0][1], id, "the ID as the pseudonym reads it");
    assert_eq!(patients[0][2], kamei_pseudonym(id));
    assert_eq!(rows.iter().filter(|r| r[0] == "file").count(), 4, "{rows:?}");
}

/// Write one ADT-00 message of patient `id` under `wd/root`.
fn put_adt(wd: &Workdir, id: &str, bytes: &[u8]) {
    let dir = wd.path(&format!("root/{}/{}/{id}/-/ADT-00", &id[..3], &id[3..6]));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{id}_-_ADT-00_999999999999999_20240401093000123_-_1")), bytes).unwrap();
}

/// An ADT^A08 message declaring `msh18`, with the PID name and address bytes as given (PID-7
/// birth date 19850315, PID-13 phone 03-5555-7777 after the address).
fn adt_with(id: &str, msh18: &str, name: &[u8], address: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "MSH|^~\\&|HIS|H|SSMIX2|H|20240401093000||ADT^A08^ADT_A01|1|P|2.5||||||{msh18}||ISO 2022-1994\rEVN||20240401093000\rPID|0001||{id}^^^^PI||"
    )
    .into_bytes();
    out.extend_from_slice(name);
    out.extend_from_slice(b"||19850315|F|||");
    out.extend_from_slice(address);
    out.extend_from_slice(b"||^PRN^PH^^^^^^^^^03-5555-7777\r");
    out
}

fn sjis(text: &str) -> Vec<u8> {
    encoding_rs::SHIFT_JIS.encode(text).0.into_owned()
}

#[test]
fn rv30_01_ssmix2_shift_jis_under_a_declared_utf8_or_jis_is_not_split_inside_a_character() {
    let wd = Workdir::new("rv30_01_ssmix2_shift_jis_under_a_declared_utf8_or_jis_is_not_split_inside_a_character");
    // `−` is 0x81 0x7C and `ポ` 0x83 0x7C in Shift_JIS: their second byte is `|`.
    let address = sjis("^^^^999-9999^JPN^H^東京都架空区試験町１−２−３");
    put_adt(&wd, "1234567890", &adt_with("1234567890", "UNICODE UTF-8", &sjis("ポール^花子^^^^^L^I"), &address));
    let mut jis_name = jis_segment("架空^花子");
    jis_name.extend_from_slice(b"^^^^^L^I");
    put_adt(&wd, "2234567890", &adt_with("2234567890", "~ISO IR87", &jis_name, &address));
    let run = ssmix2_root_run(&wd, &["retain-long-modified-dates"]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &["19850315", "03-5555-7777", "ポール", "架空", "試験町"]);
    let files = tree(&wd, "out");
    assert_eq!(files.len(), 2);
    for bytes in files.values() {
        let msg = Message::parse(bytes).unwrap();
        let pid = segment(&msg, "PID");
        assert_eq!((pid.field(8), pid.field(13), pid.field(15)), (&b"F"[..], &b""[..], &b""[..]));
    }
    let notes = audit_notes(&wd);
    assert!(
        notes.iter().any(|n| n.contains("read as Shift_JIS (MSH-18 declares UTF-8) and written as UTF-8")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("read as Shift_JIS (SS-MIX2 text is ISO-2022-JP")), "{notes:?}");
}

#[test]
fn rv30_03_ssmix2_identifiers_inside_hl7_escapes_are_cleaned() {
    let wd = Workdir::new("rv30_03_ssmix2_identifiers_inside_hl7_escapes_are_cleaned");
    let mut z_jis = b"NTE|5||see \\Z".to_vec();
    z_jis.extend(jis_segment("架空花子"));
    z_jis.extend_from_slice(b"\\ today");
    let mut segments: Vec<Vec<u8>> = vec![
        jis_segment(SS_MSH),
        jis_segment(
            "PID|0001||1234567890^^^^PI||架空^花子^^^^^L^I~KAKUU^HANAKO^^^^^L^A||19850315|F|||||^PRN^PH^^^^^^^^^03-5555-7777",
        ),
        b"OBR|1|000000000012346||1^TEST^JC10|||20240402143000".to_vec(),
    ];
    for s in [
        &b"NTE|2||see \\Z03-5555-7777\\ today"[..],
        b"NTE|3||see \\ZKAKUU HANAKO\\ today",
        b"NTE|4||see \\C1234567890\\ today",
        b"NTE|6||see \\.in 1234567890\\ today",
        b"NTE|7||\\.in 4\\indented \\C2842\\",
        b"OBX|1|CE|X^Y^JC10||01^\\Z1234567890\\^99||||||F",
        b"OBX|2|FT|X^Y^JC10||\\.ti1234567890\\ok||||||F",
    ] {
        segments.push(s.to_vec());
    }
    segments.push(z_jis);
    put_p1_message(&wd, &segments);
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &["1234567890", "03-5555-7777", "KAKUU", "HANAKO", "架空", "花子"]);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let nte7 = msg.segments.iter().find(|s| s.name == "NTE" && s.field(1) == b"7").unwrap();
    assert_eq!(nte7.field(3), b"\\.in 4\\indented \\C2842\\", "escapes HL7 defines stay as they came");
}

#[test]
fn rv30_04_csv_output_names_lose_the_name_written_in_the_other_script() {
    let wd = Workdir::new("rv30_04_csv_output_names_lose_the_name_written_in_the_other_script");
    std::fs::write(
        wd.path("cols.toml"),
        "[columns]\npatient_id = \"patient-id\"\nkana_name = \"name\"\ncomment = \"free-text\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    for (file, name) in [
        ("KAKUU_HANAKO.csv", "カクウ ハナコ"),
        ("labs_HanakoKakuu.csv", "カクウ ハナコ"),
        ("kakuu_hanako_labs.csv", "カクウ ハナコ"),
        ("やまだ_たろう.csv", "YAMADA TARO"),
    ] {
        std::fs::write(wd.path(&format!("in/{file}")), format!("patient_id,kana_name,comment\n1234567890,{name},ok\n"))
            .unwrap();
    }
    csv_of_in(&wd, &[]).assert_code(0);
    let names = released_names(&wd, "out");
    assert_eq!(names.len(), 4, "{names:?}");
    for n in &names {
        let lower = n.to_lowercase();
        assert!(!["kakuu", "hanako", "やまだ", "たろう"].iter().any(|p| lower.contains(p)), "{names:?}");
    }
}

#[test]
fn rv30_05_ssmix2_a_patients_damaged_message_withholds_their_free_text_instead_of_cleaning_it() {
    let wd = Workdir::new("rv30_05_ssmix2_a_patients_damaged_message_withholds_their_free_text_instead_of_cleaning_it");
    // The ADT-00, the only message with the names and address, has a damaged NTE after its PID.
    let mut adt =
        jis_segment("MSH|^~\\&|HIS|H|SSMIX2|H|20240401093000||ADT^A08^ADT_A01|1|P|2.5||||||~ISO IR87||ISO 2022-1994");
    adt.push(b'\r');
    adt.extend(jis_segment("PID|0001||1234567890^^^^PI||架空^花子^^^^^L^I~カクウ^ハナコ^^^^^L^P||19850315|F|||^^^^999-9999^JPN^H^東京都架空区試験町１−２−３"));
    adt.extend_from_slice(b"\rNTE|1||\x1b$B2M\r");
    put_adt(&wd, P1, &adt);
    put_p1_message(
        &wd,
        &[
            jis_segment(SS_MSH),
            jis_segment("PID|0001||1234567890^^^^PI"),
            jis_segment("NTE|1||カクウハナコ様　架空さん　住所　試験町１−２−３"),
            jis_segment("OBX|1|NM|X^c^99||158.0|cm|||||F"),
        ],
    );
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(1);
    assert_absent(&wd, &["out"], &run.stderr(), &["カクウ", "ハナコ", "架空", "試験町"]);
    let files = tree(&wd, "out");
    assert_eq!(files.len(), 1, "the damaged message is not copied, the other one is");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    assert!(msg.segments.iter().any(|s| s.name == "OBX" && s.field(5) == b"158.0"));
    let notes = audit_notes(&wd);
    assert!(notes.iter().any(|n| n.contains("free text removed, not cleaned")), "{notes:?}");
}

#[test]
fn rv30_05_csv_a_patients_unreadable_row_withholds_their_free_text_instead_of_cleaning_it() {
    let wd = Workdir::new("rv30_05_csv_a_patients_unreadable_row_withholds_their_free_text_instead_of_cleaning_it");
    put_csv(
        &wd,
        "patient_id = \"patient-id\"\nname = \"name\"\nvisit_date = \"date\"\ncomment = \"free-text\"\n",
        "patient_id,name,visit_date,comment\n\
         1234567890,架空 花子,2024-04-01,ok,extra\n\
         1234567890,,2024-04-02,架空花子さん来院\n\
         2234567890,山田 太郎,2024-04-02,山田さん来院\n",
    );
    let run = csv_of_in(&wd, &[]);
    run.assert_code(1);
    assert!(run.stderr().contains("free text removed, not cleaned"), "{}", run.stderr());
    assert!(run.stderr().contains("line 2"), "{}", run.stderr());
    assert_eq!(column(&rows(&wd.path("out/in.csv")), "comment"), ["", "***さん来院"]);
}

#[test]
fn rv30_06_csv_a_patient_master_row_that_cannot_be_read_stops_the_run() {
    let wd = Workdir::new("rv30_06_csv_a_patient_master_row_that_cannot_be_read_stops_the_run");
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(
        wd.path("cols.toml"),
        "[columns]\npatient_id = \"patient-id\"\nname = \"name\"\npostal_code = \"postal-code\"\ncomment = \"free-text\"\n",
    )
    .unwrap();
    std::fs::write(wd.path("in/notes.csv"), "patient_id,comment\n2234567890,山田太郎さん来院\n").unwrap();
    for (i, master) in [
        "patient_id,name,postal_code\n1234567890,架空 花子,999-9999\n2234567890,山田 太郎\n",
        "patient_id,name,postal_code\n2234567890,山田 太郎,123-4567,x\n",
        "patient_id,name,postal_code\n2234567890,\"山田 太郎,123-4567\n",
    ]
    .iter()
    .enumerate()
    {
        let path = format!("master{i}.csv");
        std::fs::write(wd.path(&path), master).unwrap();
        let run = csv_with_masters(&wd, &[&path]);
        run.assert_code(2);
        assert!(run.stderr().contains("--identifiers-from #1: line "), "{}", run.stderr());
        assert!(!run.stderr().contains("山田"), "{}", run.stderr());
        assert!(!wd.path("out/notes.csv").exists());
    }
}

#[test]
fn rv30_02_csv_shift_jis_split_on_a_delimiter_that_is_a_trail_byte_keeps_every_row() {
    let wd = Workdir::new("rv30_02_csv_shift_jis_split_on_a_delimiter_that_is_a_trail_byte_keeps_every_row");
    std::fs::write(
        wd.path("cols.toml"),
        "[columns]\npatient_id = \"patient-id\"\nname = \"name\"\naddress = \"identifier\"\nresult = \"keep\"\ncomment = \"free-text\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    let text = "patient_id|name|address|result|comment\r\n\
                1234567890|ポール 花子|東京都架空区試験町１−２−３|5.1|ポール様ソファ\r\n\
                2234567890|山田 太郎|大阪府架空市|4.9|ボタン\r\n";
    let mut bytes = sjis(text);
    bytes.extend_from_slice(b"3234567890|\x85\x40|x|1.0|y\r\n"); // 0x8540 is no character: dropped
    std::fs::write(wd.path("in/labs.csv"), bytes).unwrap();
    let k = key(&wd, "k.key", 7);
    let args = ["clinical", "csv", "in", "-o", "out", "--key", k.to_str().unwrap(), "--columns", "cols.toml"];
    for encoding in ["shift_jis", "auto"] {
        let _ = std::fs::remove_dir_all(wd.path("out"));
        let run = wd.kamei(args.iter().copied().chain(["--delimiter", "|", "--encoding", encoding]));
        run.assert_code(1);
        assert!(run.stderr().contains("line 4: row dropped: column 2 is not valid shift_jis"), "{}", run.stderr());
        let rows = rows(&wd.path("out/labs.csv"));
        assert_eq!(column(&rows, "result"), ["5.1", "4.9"]);
        assert_eq!(column(&rows, "comment"), ["***様ソファ", "ボタン"]);
    }
}

/// Peak resident memory (kB) of `kamei ARGS` run in `wd`, which must succeed.
fn kamei_peak_kb(wd: &Workdir, args: &[&str]) -> u64 {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kamei"))
        .args(args)
        .current_dir(&wd.root)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (peak, status) = peak_kb(child);
    assert!(status.success(), "{args:?}");
    peak
}

/// A long report as pasted into a note: dates, numbers, a phone number, the patient's name.
fn report_text(bytes: usize) -> String {
    let line = "CT 2024/04/02: lesion 12 mm in S6, WBC 6500, CRP 0.3. Dr. X (03-1234-5678) reviewed. 山本様. ";
    line.repeat(bytes / line.len() + 1)
}

#[test]
fn rv30_ssmix2_cleaning_a_large_note_takes_memory_linear_in_its_size() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipped (no /proc)");
        return;
    }
    let wd = Workdir::new("rv30_ssmix2_cleaning_a_large_note_takes_memory_linear_in_its_size");
    let k = key(&wd, "k.key", 7);
    let pid = jis_segment("PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F");
    let mut peaks = Vec::new();
    for (root, size) in [("small", 1_000), ("big", 4_000_000)] {
        let nte = jis_segment(&format!("NTE|1||{}", report_text(size)));
        let dir = wd.path(&format!("{root}/123/456/{P1}/20240402/OML-11"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes = Vec::new();
        for s in [jis_segment(SS_MSH), pid.clone(), nte] {
            bytes.extend_from_slice(&s);
            bytes.push(b'\r');
        }
        std::fs::write(dir.join(format!("{P1}_20240402_OML-11_000000000012346_20240402143000000_01_1")), bytes)
            .unwrap();
        let out = format!("out-{root}");
        let args =
            ["clinical", "ss-mix2", root, "-o", &out, "--key", k.to_str().unwrap(), "--option", "clean-free-text"];
        peaks.push(kamei_peak_kb(&wd, &args));
        let files = tree(&wd, &out);
        let msg = Message::parse(files.values().next().unwrap()).unwrap();
        let text = msg.decode(segment(&msg, "NTE").field(3)).text;
        assert!(!text.contains("山本") && !text.contains("2024/04/02") && !text.contains("1234-5678"));
        assert!(text.contains("lesion 12 mm in S6, WBC 6500, CRP 0.3"));
    }
    // rv30: 566 MB for a 4 MB note (about 140 times); now a small multiple of it (about 22
    // times, of which 5 bytes a byte are the UTF-8 copy and character map the identifier
    // search's automaton makes of a long text).
    let (small, big) = (peaks[0], peaks[1]);
    assert!(big < small + 30 * 4_000, "peak {small} kB for a small note, {big} kB for a 4 MB one");
}

#[test]
fn rv30_csv_cleaning_a_large_free_text_cell_takes_memory_linear_in_its_size() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipped (no /proc)");
        return;
    }
    let wd = Workdir::new("rv30_csv_cleaning_a_large_free_text_cell_takes_memory_linear_in_its_size");
    let k = key(&wd, "k.key", 7);
    std::fs::write(
        wd.path("c.toml"),
        "[columns]\npatient_id = \"patient-id\"\nname = \"name\"\ncomment = \"free-text\"\n",
    )
    .unwrap();
    let mut peaks = Vec::new();
    for (name, size) in [("small.csv", 1_000), ("big.csv", 3_500_000)] {
        let text = format!("patient_id,name,comment\n1234567890,山本 美日,\"{}\"\n", report_text(size));
        std::fs::write(wd.path(name), text).unwrap();
        let out = format!("out-{name}");
        let args = ["clinical", "csv", name, "-o", &out, "--key", k.to_str().unwrap(), "--columns", "c.toml", "-q"];
        peaks.push(kamei_peak_kb(&wd, &args));
        let rows = rows(&wd.path(&format!("{out}/{name}")));
        let comment = &column(&rows, "comment")[0];
        assert!(!comment.contains("山本") && !comment.contains("2024/04/02") && !comment.contains("1234-5678"));
    }
    let (small, big) = (peaks[0], peaks[1]);
    assert!(big < small + 20 * 3_500, "peak {small} kB for a small cell, {big} kB for a 3.5 MB one");
}

#[test]
fn ids6_csv_cleaning_a_large_cell_with_kanji_numerals_takes_memory_linear_in_its_size() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipped (no /proc)");
        return;
    }
    let wd = Workdir::new("ids6_csv_cleaning_a_large_cell_with_kanji_numerals_takes_memory_linear_in_its_size");
    let k = key(&wd, "k.key", 7);
    std::fs::write(
        wd.path("c.toml"),
        "[columns]\npatient_id = \"patient-id\"\nname = \"name\"\ncomment = \"free-text\"\n",
    )
    .unwrap();
    // A date in kanji numerals and a numeral that is no date in every line: the text is read
    // again with the numbers as digits.
    let line = "CT 令和六年四月二日: lesion 12 mm, 一部に石灰化. 山本様. ";
    let mut peaks = Vec::new();
    for (name, size) in [("small.csv", 1_000), ("big.csv", 3_500_000)] {
        let text = line.repeat(size / line.len() + 1);
        std::fs::write(wd.path(name), format!("patient_id,name,comment\n1234567890,山本 美日,\"{text}\"\n")).unwrap();
        let out = format!("out-{name}");
        let args = ["clinical", "csv", name, "-o", &out, "--key", k.to_str().unwrap(), "--columns", "c.toml", "-q"];
        peaks.push(kamei_peak_kb(&wd, &args));
        let rows = rows(&wd.path(&format!("{out}/{name}")));
        let comment = &column(&rows, "comment")[0];
        assert!(!comment.contains("山本") && !comment.contains("四月二日") && comment.contains("一部に石灰化"));
    }
    // The map back from digits to kanji held a range per character (16 bytes, with a copy of
    // the text as characters and an index per byte: about 32 times the cell); now one entry
    // per number rewritten.
    let (small, big) = (peaks[0], peaks[1]);
    assert!(big < small + 20 * 3_500, "peak {small} kB for a small cell, {big} kB for a 3.5 MB one");
}

#[test]
fn rv30_ssmix2_a_message_added_later_with_a_new_name_spelling_cleans_the_older_one_again() {
    let wd = Workdir::new("rv30_ssmix2_a_message_added_later_with_a_new_name_spelling_cleans_the_older_one_again");
    // The older message gives the name in kanji only; its note holds it in kana.
    put_p1_message(
        &wd,
        &[SS_MSH, "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F", "NTE|1||ヤマモト様 来院"]
            .map(jis_segment),
    );
    let first = ssmix2_root_run(&wd, &["clean-free-text"]);
    first.assert_code(0);
    let older = tree(&wd, "out");
    assert_eq!(older.len(), 1);
    // A later message gives the kana spelling: the older note must lose it too.
    let dir = wd.path(&format!("root/123/456/{P1}/-/ADT-00"));
    std::fs::create_dir_all(&dir).unwrap();
    let later = [
        SS_MSH.replace("OUL^R22^OUL_R22", "ADT^A08^ADT_A01"),
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I~ヤマモト^ミカ^^^^^L^P||19850315|F".to_string(),
    ];
    let mut bytes = Vec::new();
    for s in &later {
        bytes.extend(jis_segment(s));
        bytes.push(b'\r');
    }
    std::fs::write(dir.join(format!("{P1}_-_ADT-00_999999999999999_20240403100000000_-_1")), bytes).unwrap();
    let second = ssmix2_root_run(&wd, &["clean-free-text"]);
    second.assert_code(0);
    assert!(second.stderr().contains("cleaned again"), "{}", second.stderr());
    assert!(!second.stderr().contains("already has this output name"), "{}", second.stderr());
    assert_absent(&wd, &["out"], &second.stderr(), &["ヤマモト", "山本"]);
    let now = tree(&wd, "out");
    assert_eq!(now.len(), 2);
    let (path, _) = older.iter().next().unwrap();
    assert!(now.contains_key(path), "the older message keeps its output name");
    let notes = audit_notes(&wd);
    assert!(notes.iter().any(|n| n.contains("its earlier output was replaced")), "{notes:?}");
    // A third run finds everything as it is.
    let third = ssmix2_root_run(&wd, &["clean-free-text"]);
    third.assert_code(0);
    assert_eq!(tree(&wd, "out"), now);
    assert!(!third.stderr().contains("cleaned again"), "{}", third.stderr());
}

#[test]
fn rv30_ssmix2_an_output_name_another_message_claims_still_fails() {
    // Re-cleaning replaces only an output the audit log records as made of the same bytes.
    let wd = Workdir::new("rv30_ssmix2_an_output_name_another_message_claims_still_fails");
    let segments = [SS_MSH, "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F", "NTE|1||first"];
    put_p1_message(&wd, &segments.map(jis_segment));
    ssmix2_root_run(&wd, &["clean-free-text"]).assert_code(0);
    let before = tree(&wd, "out");
    let segments = [SS_MSH, "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F", "NTE|1||changed"];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &["clean-free-text"]);
    run.assert_code(1);
    assert!(run.stderr().contains("another message already has this output name"), "{}", run.stderr());
    assert_eq!(tree(&wd, "out"), before);
}

#[test]
fn rv30_ssmix2_a_utf8_byte_order_mark_before_msh_is_accepted() {
    let wd = Workdir::new("rv30_ssmix2_a_utf8_byte_order_mark_before_msh_is_accepted");
    let msh = jis_segment(SS_MSH);
    let mut first = b"\xEF\xBB\xBF".to_vec();
    first.extend_from_slice(&msh);
    put_p1_message(&wd, &[first, jis_segment("PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F")]);
    let run = ssmix2_root_run(&wd, &[]);
    run.assert_code(0);
    let files = tree(&wd, "out");
    let bytes = files.values().next().unwrap();
    assert!(bytes.starts_with(b"MSH|"), "written without the mark");
    assert_absent(&wd, &["out"], &run.stderr(), &["山本", P1]);
}

#[test]
fn rv30_ssmix2_an_id_exported_as_a_float_in_an_observation_value_is_removed() {
    let wd = Workdir::new("rv30_ssmix2_an_id_exported_as_a_float_in_an_observation_value_is_removed");
    let segments = [
        SS_MSH,
        "PID|0001||1234567890^^^^PI||山本^美日^^^^^L^I||19850315|F",
        "OBX|1|NM|X^c^99||1234567890.0||||||F",
        "OBX|2|NM|X^c^99||158.0|cm|||||F",
    ];
    put_p1_message(&wd, &segments.map(jis_segment));
    let run = ssmix2_root_run(&wd, &[]);
    run.assert_code(0);
    assert_absent(&wd, &["out"], &run.stderr(), &[P1]);
    let files = tree(&wd, "out");
    let msg = Message::parse(files.values().next().unwrap()).unwrap();
    let obx5: Vec<&[u8]> = msg.segments.iter().filter(|s| s.name == "OBX").map(|s| s.field(5)).collect();
    assert_eq!(obx5, [&b""[..], b"158.0"]);
}

#[test]
fn rv30_csv_an_unquoted_number_formula_id_cell_is_the_same_patient() {
    let wd = Workdir::new("rv30_csv_an_unquoted_number_formula_id_cell_is_the_same_patient");
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\ncomment = \"free-text\"\n").unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    std::fs::write(
        wd.path("in/labs.csv"),
        "patient_id,comment\n\"=\"\"0001234567\"\"\",a\n=0001234567,b\n0001234567,\"ID 1,234,567 確認\"\n",
    )
    .unwrap();
    let run = csv_of_in(&wd, &[]);
    run.assert_code(0);
    let rows = rows(&wd.path("out/labs.csv"));
    let ids = column(&rows, "patient_id");
    let p = kamei_pseudonym("0001234567");
    assert_eq!(ids, [p.as_str(); 3]);
    assert_eq!(column(&rows, "comment")[2], "ID *** 確認");
}

#[test]
fn rv30_csv_free_text_shifts_year_months_and_loses_compact_era_dates_and_full_width_uids() {
    let wd = Workdir::new("rv30_csv_free_text_shifts_year_months_and_loses_compact_era_dates_and_full_width_uids");
    let uid = "１．２．３９２．２０００３６．９１１６．２．６．１．４８";
    put_csv(
        &wd,
        "pid = \"patient-id\"\nday = \"date\"\nnote = \"free-text\"\n",
        &format!("pid,day,note\nP7788123,2024-02-15,CT 2024-02 / Feb 2024 / R060401 / 令6.4.1 / {uid} end\n"),
    );
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let rows = rows(&wd.path("out/in.csv"));
    // The row's 15 February shifted: the month a year-month of February moves to.
    let day = chrono::NaiveDate::parse_from_str(column(&rows, "day")[0], "%Y-%m-%d").unwrap();
    let want = format!("CT {} / {} / *** / *** / *** end", day.format("%Y-%m"), day.format("%b %Y"));
    assert_eq!(column(&rows, "note"), [want.as_str()]);
}

#[test]
fn rv30_csv_a_six_digit_date_in_the_file_name_is_shifted_or_replaced() {
    let wd = Workdir::new("rv30_csv_a_six_digit_date_in_the_file_name_is_shifted_or_replaced");
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nday = \"date\"\n").unwrap();
    std::fs::create_dir_all(wd.path("in")).unwrap();
    for n in ["labs_851203", "labs_240401", "labs_240401_1234", "labs_010424"] {
        std::fs::write(wd.path(&format!("in/{n}.csv")), "pid,day\nP7788123,1985-12-03\n").unwrap();
    }
    csv_of_in(&wd, &["retain-long-modified-dates"]).assert_code(0);
    let out = wd.path("out");
    let released = released_names(&wd, "out");
    // The row's date is the name's: `851203` reads as 3 December 1985 only, and is shifted so.
    let shifted_of = |name: &str| {
        let day = column(&rows(&out.join(name)), "day")[0].to_string();
        chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap().format("%y%m%d").to_string()
    };
    let one = released.iter().find(|n| n.starts_with("labs_") && !n.starts_with("labs_date")).expect("a shifted name");
    assert!(one.starts_with(&format!("labs_{}_", shifted_of(one))), "{released:?}");
    // `240401` and `010424` read two ways (YYMMDD, DDMMYY): replaced, not shifted in one.
    let mut stems: Vec<String> =
        released.iter().map(|n| n[..n.len() - "_0123abcd.csv".len()].to_string()).filter(|s| s != &one[..11]).collect();
    stems.sort();
    assert_eq!(stems, ["labs_date", "labs_date", "labs_date_1234"], "{released:?}");
    for real in ["851203", "240401", "010424"] {
        assert!(!released.iter().any(|n| n.contains(real)), "{real}: {released:?}");
    }
}

#[test]
fn rv35_06_every_ssmix2_input_failing_on_its_path_has_its_own_audit_record() {
    // Three of the failing files hold the same bytes as the good one: each is an input of its
    // own and gets its own record, not one record per content.
    let wd = Workdir::new("rv35_06_every_ssmix2_input_failing_on_its_path_has_its_own_audit_record");
    let msg = "MSH|^~\\&|HIS|H|SS|H|20240102093000||ADT^A08^ADT_A01|X1|P|2.5||||||~ISO IR87||ISO 2022-1994\rPID|0001||7654321^^^^PI||YAMADA^TARO^^^^^L^A||19800101|M\r";
    let base = "ss/765/432/7654321";
    for rel in [
        "20240102/ADT-00/7654321_20240102_ADT-00_999999999999999_20240102093000123_-_1",
        "-/ADT-00/7654321_YAMADA_TARO_19800101.hl7",
        "-/memo.txt",
        "2024XX02/ADT-00/7654321_2024XX02_ADT-00_999999999999999_20240102093000123_-_1",
    ] {
        let path = wd.path(&format!("{base}/{rel}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, msg).unwrap();
    }
    let k = key(&wd, "k.key", 36);
    let run = wd.kamei(["clinical", "ss-mix2", "ss", "-o", "out", "--key", k.to_str().unwrap(), "-q"]);
    run.assert_code(1);
    let audit = wd.audit("out");
    let outcomes: Vec<&str> = audit.iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "written").count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == "failed").count(), 3, "{outcomes:?}");
    assert!(audit.iter().filter(|r| r["outcome"] == "failed").all(|r| r["input_sha256"].is_string()
        && r["input_bytes"].as_u64() == Some(msg.len() as u64)
        && r["reason"].is_string()));
    wd.kamei(["report", "out", "-o", "report.html"]).assert_code(0);
    let page = std::fs::read_to_string(wd.path("report.html")).unwrap();
    assert!(page.contains("4 inputs"), "the report counts every input");
}

/// Two patients as extension-less DICOM files (a PACS export's names) and a CSV of them, each
/// released with key 37: `deid --layout mirror` into `rel/images`, `clinical csv` into `rel/csv`.
fn extensionless_release(wd: &Workdir) {
    for (n, id) in ["0001234500", "2234501"].iter().enumerate() {
        let study = format!("1.2.826.0.1.3680043.8.498.935{n}");
        Fixture::ct(id, &study, &format!("{study}.1"), &format!("{study}.1.1"))
            .write(&wd.path(&format!("pacs/EXAM1/IM00000{}", n + 1)));
    }
    std::fs::write(wd.path("labs.csv"), "pid,d,v\n0001234500,2024-01-02,1\n2234501,2024-02-03,2\n").unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npid = \"patient-id\"\nd = \"date\"\nv = \"keep\"\n").unwrap();
    let k = key(wd, "k.key", 37);
    let ks = k.to_str().unwrap();
    let opt = ["--option", "retain-long-modified-dates", "-q"];
    let deid = ["deid", "pacs", "-o", "rel/images", "--key", ks, "--layout", "mirror"];
    wd.kamei(deid.iter().chain(&opt)).assert_code(0);
    let csv = ["clinical", "csv", "labs.csv", "-o", "rel/csv", "--key", ks, "--columns", "cols.toml"];
    wd.kamei(csv.iter().chain(&opt)).assert_code(0);
}

#[test]
fn rv35_04_link_report_reads_extensionless_images_of_a_mirror_release() {
    let wd = Workdir::new("rv35_04_link_report_reads_extensionless_images_of_a_mirror_release");
    extensionless_release(&wd);
    assert!(wd.files("rel/images").iter().all(|p| p.extension().is_none_or(|x| x != "dcm")));
    let run = wd.kamei(["link", "report", "--images", "rel/images", "--clinical", "rel/csv"]);
    run.assert_code(0);
    assert!(run.stdout().contains("csv\tcsv\t0\t0\t2"), "{}", run.stdout());
}

#[test]
fn rv35_04_link_report_says_when_the_images_audit_records_outputs_it_did_not_read() {
    let wd = Workdir::new("rv35_04_link_report_says_when_the_images_audit_records_outputs_it_did_not_read");
    extensionless_release(&wd);
    let gone = wd.files("rel/images").into_iter().find(|p| p.to_string_lossy().contains("IM000001")).unwrap();
    std::fs::remove_file(wd.path("rel/images").join(gone)).unwrap();
    let run = wd.kamei(["link", "report", "--images", "rel/images", "--clinical", "rel/csv"]);
    run.assert_code(1);
    assert!(run.stderr().contains("records 2 outputs, but only 1 DICOM files were read"), "{}", run.stderr());
}

#[test]
fn rv35_04_link_report_refuses_a_csv_output_without_its_manifest() {
    let wd = Workdir::new("rv35_04_link_report_refuses_a_csv_output_without_its_manifest");
    extensionless_release(&wd);
    std::fs::remove_file(wd.path("rel/csv/kamei-columns.json")).unwrap();
    let run = wd.kamei(["link", "report", "--images", "rel/images", "--clinical", "rel/csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("kamei-columns.json"), "{}", run.stderr());
    assert!(!run.stdout().contains("ss-mix2"), "not read as an SS-MIX2 tree: {}", run.stdout());
}

#[test]
fn rv35_04_link_report_refuses_a_clinical_output_given_as_images() {
    let wd = Workdir::new("rv35_04_link_report_refuses_a_clinical_output_given_as_images");
    extensionless_release(&wd);
    let run = wd.kamei(["link", "report", "--images", "rel/csv", "--clinical", "rel/csv"]);
    run.assert_code(2);
    assert!(run.stderr().contains("clinical-csv output, not images"), "{}", run.stderr());
}
