//! `kamei verify` and `kamei report` on clinical outputs (SS-MIX2, CSV) and on releases made
//! of several outputs: what a release check must and must not report there.

use crate::util::*;
use dicom_dictionary_std::tags;

/// One OML-11 message of patient `id` in its date folder `date` under `root`, with an OBX-5 DT
/// of the same date; segments end in CR.
fn put_message(wd: &Workdir, root: &str, id: &str, date: &str) {
    let dir = wd.path(&format!("{root}/{}/{}/{id}/{date}/OML-11", &id[..3], &id[3..6]));
    std::fs::create_dir_all(&dir).unwrap();
    let msg = format!(
        "MSH|^~\\&|HIS|H|SSMIX2|H|{date}120000||OUL^R22^OUL_R22|C1|P|2.5\rPID|0001||{id}^^^^PI||YAMADA^TARO^^^^^L^A||19600101|M\rOBR|1|000000000012346^HIS||X^Y^JC10|||{date}100000\rOBX|1|DT|X^Y^JC10||{date}||||||F\r"
    );
    std::fs::write(dir.join(format!("{id}_{date}_OML-11_000000000012346_{date}120000000_01_1")), msg).unwrap();
}

/// `clinical ss-mix2 ROOT -o OUT` with key 71, shifting dates, and a linkage table `OUT.csv`.
fn ssmix2(wd: &Workdir, root: &str, out: &str) {
    let k = key(wd, "k.key", 71);
    let link = wd.path(&format!("{out}.csv"));
    let shift = ["--option", "retain-long-modified-dates"];
    let (k, link) = (k.to_str().unwrap(), link.to_str().unwrap());
    wd.kamei(["clinical", "ss-mix2", root, "-o", out, "--key", k, "--linkage", link, "-q", shift[0], shift[1]])
        .assert_code(0);
}

/// The date folder of the one message of an SS-MIX2 output (`<b>/<b>/<pseudonym>/<date>/…`).
fn output_date(wd: &Workdir, out: &str) -> String {
    let files: Vec<_> = wd.files(out).into_iter().filter(|p| !p.to_string_lossy().starts_with("kamei-")).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].iter().nth(3).unwrap().to_string_lossy().into_owned()
}

/// Patient B's shifted date is patient A's real date folder: the release of both, A's own
/// output's message, and the linkage table.
fn two_patients_sharing_a_date(wd: &Workdir) -> String {
    put_message(wd, "b_only", "2345678", "20240410");
    ssmix2(wd, "b_only", "b_out");
    let shifted = output_date(wd, "b_out");
    assert_ne!(shifted, "20240410");
    put_message(wd, "ss", "2345678", "20240410");
    put_message(wd, "ss", "3456789", &shifted);
    ssmix2(wd, "ss", "out");
    shifted
}

#[test]
fn rv35_a_shifted_date_equal_to_another_patients_date_folder_is_no_finding() {
    let wd = Workdir::new("rv35_a_shifted_date_equal_to_another_patients_date_folder_is_no_finding");
    two_patients_sharing_a_date(&wd);
    let link = wd.path("out.csv");
    let run = wd.kamei(["verify", "out", "--linkage", link.to_str().unwrap()]);
    assert_eq!(run.stdout(), "", "{}", run.stderr());
    run.assert_code(0);
    wd.kamei(["verify", "out", "--against", "ss"]).assert_code(0);
}

/// Write back the real date folder of patient A (`3456789`) into its own output's OBX-5, as a
/// release that did not shift it would hold it, recording the new size in the audit log.
fn plant_real_date(wd: &Workdir, real: &str) {
    let k = key(wd, "k.key", 71);
    let pseudonym = kamei::pseudo::Pseudonymizer::new(
        &kamei::pseudo::PseudonymKey::read(&k).unwrap(),
        kamei::profile::DateShiftPolicy::default(),
    )
    .patient_pseudonym(kamei::pseudo::Patient::Id("3456789"));
    let file = wd
        .files("out")
        .into_iter()
        .find(|p| p.to_string_lossy().contains(&pseudonym))
        .unwrap_or_else(|| panic!("no output under {pseudonym}"));
    let path = wd.path("out").join(&file);
    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    let obx = text.split('\r').find(|s| s.starts_with("OBX")).unwrap().to_string();
    let fields: Vec<&str> = obx.split('|').collect();
    let mut planted: Vec<&str> = fields.clone();
    planted[5] = real;
    let text = text.replace(&obx, &planted.join("|"));
    std::fs::write(&path, &text).unwrap();
    let audit = std::fs::read_to_string(wd.path("out/kamei-audit.jsonl")).unwrap();
    let name = file.to_string_lossy().into_owned();
    let lines: Vec<String> = audit
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v["output"].as_str() == Some(name.as_str()) {
                v["output_bytes"] = text.len().into();
            }
            v.to_string()
        })
        .collect();
    std::fs::write(wd.path("out/kamei-audit.jsonl"), lines.join("\n") + "\n").unwrap();
}

#[test]
fn a_real_date_folder_in_its_own_output_is_a_finding_at_its_segment_and_field() {
    let wd = Workdir::new("a_real_date_folder_in_its_own_output_is_a_finding_at_its_segment_and_field");
    let real = two_patients_sharing_a_date(&wd);
    plant_real_date(&wd, &real);
    let link = wd.path("out.csv");
    for run in [
        wd.kamei(["verify", "out", "--linkage", link.to_str().unwrap()]),
        wd.kamei(["verify", "out", "--against", "ss"]),
    ] {
        run.assert_code(1);
        let stdout = run.stdout();
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{}", run.stdout());
        let f: Vec<&str> = lines[0].split('\t').collect();
        assert_eq!(f[1], "OBX-5 (segment 4)", "{}", run.stdout());
        assert!(f[3].contains("input path component (a date)"), "{}", run.stdout());
        assert!(!run.stdout().contains(&real), "{}", run.stdout());
    }
}

#[test]
fn an_excluded_patients_id_in_a_message_is_named_by_field_in_one_plain_wording() {
    let wd = Workdir::new("an_excluded_patients_id_in_a_message_is_named_by_field_in_one_plain_wording");
    put_message(&wd, "ss", "2345678", "20240410");
    ssmix2(&wd, "ss", "out");
    // A copied original message: the patient's ID in PID-3, the file name and folders.
    put_message(&wd, "out", "2345678", "20240410");
    std::fs::write(wd.path("optout.txt"), "2345678\n").unwrap();
    let k = key(&wd, "k.key", 71);
    let run = wd.kamei(["verify", "out", "--exclude-patients", "optout.txt", "--key", k.to_str().unwrap()]);
    run.assert_code(1);
    assert!(run.stdout().lines().any(|l| l.contains("\tPID-3 (segment 2)\t")), "{}", run.stdout());
    assert!(!run.stdout().lines().any(|l| l.contains("OML-11") && l.contains("\tline 1\t")), "{}", run.stdout());
    assert!(!run.stdout().contains("original original"), "{}", run.stdout());
}

#[test]
fn rv35_verify_against_clinical_inputs_keeps_the_names_the_command_kept_on_purpose() {
    let wd = Workdir::new("rv35_verify_against_clinical_inputs_keeps_the_names_the_command_kept_on_purpose");
    std::fs::write(wd.path("labs.csv"), "patient_id,visit_date\nPID123456,2024-02-15\n").unwrap();
    std::fs::write(wd.path("cols.toml"), "[columns]\npatient_id = \"patient-id\"\nvisit_date = \"date\"\n").unwrap();
    let k = key(&wd, "k.key", 71);
    wd.kamei([
        "clinical",
        "csv",
        "labs.csv",
        "-o",
        "csv",
        "--key",
        k.to_str().unwrap(),
        "--columns",
        "cols.toml",
        "-q",
    ])
    .assert_code(0);
    let run = wd.kamei(["verify", "csv", "--against", "labs.csv"]);
    assert_eq!(run.stdout(), "", "{}", run.stderr());
    run.assert_code(0);
    let adt = wd.path("ss/234/567/2345678/-/ADT-00");
    std::fs::create_dir_all(&adt).unwrap();
    std::fs::write(
        adt.join("2345678_-_ADT-00_999999999999999_20240102093000123_-_1"),
        "MSH|^~\\&|HIS|H|SS|H|20240102093000||ADT^A08^ADT_A01|X1|P|2.5\rPID|0001||2345678^^^^PI||YAMADA^TARO^^^^^L^A||19800101|M\r",
    )
    .unwrap();
    ssmix2(&wd, "ss", "out");
    let run = wd.kamei(["verify", "out", "--against", "ss"]);
    assert_eq!(run.stdout(), "", "{}", run.stderr());
    run.assert_code(0);
}

#[test]
fn rv35_verify_against_an_ssmix2_root_lists_an_input_without_an_audit_record() {
    let wd = Workdir::new("rv35_verify_against_an_ssmix2_root_lists_an_input_without_an_audit_record");
    put_message(&wd, "ss", "2345678", "20240410");
    ssmix2(&wd, "ss", "out");
    // A message added to the storage after the run.
    put_message(&wd, "ss", "3456789", "20240411");
    let run = wd.kamei(["verify", "out", "--against", "ss"]);
    run.assert_code(1);
    let stdout = run.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout());
    assert!(lines[0].starts_with("input sha256:") && lines[0].contains("\tnot-processed\t"), "{}", run.stdout());
}

/// The page's text without tags.
fn page(wd: &Workdir) -> String {
    let page = std::fs::read_to_string(wd.path("report.html")).unwrap();
    let mut text = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn rv35_report_describes_an_ssmix2_output_as_hl7_messages_not_as_dicom() {
    let wd = Workdir::new("rv35_report_describes_an_ssmix2_output_as_hl7_messages_not_as_dicom");
    put_message(&wd, "ss", "2345678", "20240410");
    put_message(&wd, "ss", "3456789", "20240411");
    ssmix2(&wd, "ss", "out");
    wd.kamei(["report", "out", "-o", "report.html"]).assert_code(0);
    let text = page(&wd);
    for dicom in ["layout mirror", "PS3.15 Basic Application", "SOP class", "transfer syntax", "modality"] {
        assert!(!text.contains(dicom), "{dicom}: {text}");
    }
    assert!(text.contains("SS-MIX2 data type files OML-11 2"), "{text}");
    assert!(text.contains("2 patient folders"), "{text}");
    assert!(text.contains("PS3.15 does not apply to HL7 messages"), "{text}");
}

#[test]
fn one_sop_instance_in_two_outputs_of_a_combined_release_is_a_finding() {
    let wd = Workdir::new("one_sop_instance_in_two_outputs_of_a_combined_release_is_a_finding");
    let study = "1.2.826.0.1.3680043.8.498.77";
    Fixture::ct("PID5550001", study, &format!("{study}.1"), &format!("{study}.1.1")).write(&wd.path("day1/a.dcm"));
    // A corrected re-send of the same instance on day 2.
    Fixture::ct("PID5550001", study, &format!("{study}.1"), &format!("{study}.1.1"))
        .put(str_el(tags::SERIES_DESCRIPTION, dicom_core::VR::LO, "corrected"))
        .write(&wd.path("day2/a.dcm"));
    let k = key(&wd, "k.key", 71);
    for day in ["day1", "day2"] {
        wd.kamei(["deid", day, "-o", &format!("release/{day}"), "--key", k.to_str().unwrap(), "-q"]).assert_code(0);
    }
    let run = wd.kamei(["verify", "release", "--report", "report.json"]);
    run.assert_code(1);
    let stdout = run.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout());
    for (line, day) in lines.iter().zip(["day1/", "day2/"]) {
        let f: Vec<&str> = line.split('\t').collect();
        assert!(f[0].starts_with(day), "{line}");
        assert_eq!(&f[1..3], ["(0008,0018)", "shared-instance"], "{line}");
        assert!(f[3].starts_with("2 outputs of the release hold this SOP Instance UID"), "{line}");
    }
    let report = std::fs::read_to_string(wd.path("report.json")).unwrap();
    assert!(!report.contains(&format!("{study}.1.1")), "the original UID");
    // Each day alone holds it once.
    wd.kamei(["verify", "release/day1"]).assert_code(0);
    wd.kamei(["verify", "release/day2"]).assert_code(0);
}
