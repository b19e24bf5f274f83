//! Encapsulated documents a user profile keeps (issue 2): `deid` releases the PDF or CDA as it
//! is and notes it in the audit; `verify` reports the document, as the identifiers of its input
//! found in its text (inside a FlateDecode stream too) or, where none is found, as
//! `kept-document`.

use crate::util::*;
use dicom_core::VR;
use dicom_dictionary_std::tags;
use std::io::Write;

/// A one-page PDF whose content stream (compressed) prints `line`, its pieces kerned apart.
fn pdf(line: &str) -> Vec<u8> {
    let (a, b) = line.split_at(line.len() / 2);
    let content = format!("BT /F1 12 Tf 72 720 Td [({a})-15({b})] TJ ET");
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(content.as_bytes()).unwrap();
    let data = z.finish().unwrap();
    let mut v = format!("%PDF-1.4\n4 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n", data.len()).into_bytes();
    v.extend(data);
    v.extend(b"\nendstream\nendobj\n%%EOF\n");
    if v.len() % 2 == 1 {
        v.push(b'\n');
    }
    v
}

/// An Encapsulated PDF of the canary patient holding `document`, as `in/{name}.dcm`.
fn encapsulated_pdf(wd: &Workdir, name: &str, document: Vec<u8>) {
    let sop = format!("1.2.826.0.1.3680043.8.498.45.{}", name.len());
    let mut f = Fixture::ct(CANARY_ID, "1.2.826.0.1.3680043.8.498.45", "1.2.826.0.1.3680043.8.498.45.1", &sop)
        .put(str_el(tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.104.1"))
        .put(str_el(tags::MODALITY, VR::CS, "DOC"))
        .put(str_el(tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT, VR::LO, "application/pdf"))
        .put(raw_el(tags::ENCAPSULATED_DOCUMENT, VR::OB, &document));
    for t in [
        tags::PIXEL_DATA,
        tags::ROWS,
        tags::COLUMNS,
        tags::BITS_ALLOCATED,
        tags::BITS_STORED,
        tags::HIGH_BIT,
        tags::PIXEL_REPRESENTATION,
        tags::SAMPLES_PER_PIXEL,
        tags::PHOTOMETRIC_INTERPRETATION,
        tags::IMAGE_TYPE,
    ] {
        f = f.remove(t);
    }
    f.write(&wd.path(&format!("in/{name}.dcm")));
}

/// A user profile that keeps the document (it departs from PS3.15).
const KEEP_DOCUMENT: &str = "extends = \"basic\"\n[overrides]\n\"(0042,0011)\" = \"keep\"\n";

/// `deid` with [`KEEP_DOCUMENT`].
fn release_keeping_documents(wd: &Workdir) {
    std::fs::write(wd.path("keep-doc.toml"), KEEP_DOCUMENT).unwrap();
    wd.deid(&["--profile", "keep-doc.toml"]).assert_code(0);
}

/// `file → kind` of each finding at (0042,0011).
fn document_findings(run: &Run) -> Vec<String> {
    run.stdout()
        .lines()
        .filter(|l| l.contains("\t(0042,0011)\t"))
        .map(|l| l.split('\t').nth(2).unwrap().to_string())
        .collect()
}

#[test]
fn a_kept_encapsulated_document_is_noted_in_the_audit() {
    let wd = Workdir::new("a_kept_encapsulated_document_is_noted_in_the_audit");
    encapsulated_pdf(&wd, "report", pdf("normal study"));
    release_keeping_documents(&wd);
    let notes: Vec<String> =
        wd.audit("out")[0]["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect();
    assert!(notes.iter().any(|n| n == kamei::plan::KEPT_DOCUMENT_NOTE), "{notes:?}");
}

#[test]
fn verify_finds_the_patients_name_in_a_kept_pdfs_compressed_text() {
    let wd = Workdir::new("verify_finds_the_patients_name_in_a_kept_pdfs_compressed_text");
    encapsulated_pdf(&wd, "report", pdf(&format!("Patient CANARY PATIENT ID {CANARY_ID}")));
    release_keeping_documents(&wd);
    let run = wd.kamei(["verify", "out", "--against", "in", "--profile", "keep-doc.toml"]);
    run.assert_code(1);
    let found = document_findings(&run);
    assert!(!found.is_empty() && found.iter().all(|k| k == "residual-identifier"), "{}", run.stdout());
    assert!(!run.stdout().contains(CANARY_ID), "never the value");
}

#[test]
fn verify_reports_a_kept_document_it_finds_nothing_in() {
    let wd = Workdir::new("verify_reports_a_kept_document_it_finds_nothing_in");
    encapsulated_pdf(&wd, "report", pdf("normal study"));
    release_keeping_documents(&wd);
    for args in [vec!["verify", "out", "--against", "in"], vec!["verify", "out"]] {
        let run = wd.kamei(args.iter().copied().chain(["--profile", "keep-doc.toml"]));
        run.assert_code(1);
        assert_eq!(document_findings(&run), ["kept-document"], "{}", run.stdout());
    }
}

#[test]
fn a_document_the_basic_profile_replaces_is_no_finding() {
    let wd = Workdir::new("a_document_the_basic_profile_replaces_is_no_finding");
    encapsulated_pdf(&wd, "report", pdf(&format!("Patient CANARY PATIENT ID {CANARY_ID}")));
    wd.deid(&[]).assert_code(0);
    let run = wd.kamei(["verify", "out", "--against", "in"]);
    assert!(document_findings(&run).is_empty(), "{}", run.stdout());
}
