//! Device rules (`--pixel-rules DIR`) on the real binary: conditions on text in any character
//! set.

use crate::util::*;
use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.47";
const SERIES: &str = "1.2.826.0.1.3680043.8.498.47.1";
const CT_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.2";

fn us(v: u32) -> PrimitiveValue {
    PrimitiveValue::from(v as u16)
}

/// An 8-bit MONOCHROME2 image of `w` × `h` × `frames` with these pixels.
fn grey_image(n: u32, sop_class: &str, modality: &str, w: u32, h: u32, frames: u32, pixels: &[u8]) -> Fixture {
    Fixture::ct(CANARY_ID, STUDY, SERIES, &format!("{SERIES}.{n}"))
        .put(str_el(tags::SOP_CLASS_UID, VR::UI, sop_class))
        .put(str_el(tags::MODALITY, VR::CS, modality))
        .put(DataElement::new(tags::ROWS, VR::US, us(h)))
        .put(DataElement::new(tags::COLUMNS, VR::US, us(w)))
        .put(DataElement::new(tags::BITS_ALLOCATED, VR::US, us(8)))
        .put(DataElement::new(tags::BITS_STORED, VR::US, us(8)))
        .put(DataElement::new(tags::HIGH_BIT, VR::US, us(7)))
        .put(str_el(tags::NUMBER_OF_FRAMES, VR::IS, &frames.to_string()))
        .put(raw_el(tags::PIXEL_DATA, VR::OB, pixels))
}

fn write_rules(wd: &Workdir, text: &str) {
    std::fs::create_dir_all(wd.path("rules")).unwrap();
    std::fs::write(wd.path("rules/site.toml"), text).unwrap();
}

fn deid(wd: &Workdir) -> Run {
    let k = key(wd, "k.key", 9);
    let args = ["deid", "in", "-o", "out", "--key", k.to_str().unwrap(), "-q", "--option", "clean-pixel-data"];
    wd.kamei(args.into_iter().chain(["--pixel-rules", "rules", "--layout", "mirror"]))
}

/// The audit record of the output `name`.
fn record(wd: &Workdir, name: &str) -> serde_json::Value {
    wd.audit("out").into_iter().find(|r| r["output"] == name).unwrap_or_else(|| panic!("no record for {name}"))
}

fn pixels_of(wd: &Workdir, name: &str) -> Vec<u8> {
    raw(&wd.path(&format!("out/{name}")), tags::PIXEL_DATA).expect("pixel data")
}

#[test]
fn a_rule_on_a_non_ascii_value_matches_it_in_the_character_set_the_file_declares_or_in_undeclared_shift_jis() {
    // rv41 01: the condition compared the value's raw bytes as UTF-8, so `線量` matched a UTF-8
    // file only: not ISO 2022 IR 87, not Shift_JIS without (0008,0005), not Latin-1 `Ü`, and
    // the dose screen the rule selects for cleaning was released with its text.
    let wd = Workdir::new("a_rule_on_a_non_ascii_value_matches_it_in_the_character_set_the_file_declares");
    write_rules(
        &wd,
        "[[rule]]\nname = \"dose-ja\"\nsource = \"test\"\nwhen = { Modality = \"CT\", SeriesDescription = \"線量\" }\n\
         blank = [[0, 0, 32, 8]]\n\n\
         [[rule]]\nname = \"dose-de\"\nsource = \"test\"\nwhen = { Modality = \"CT\", SeriesDescription = \"übersicht\" }\n\
         blank = [[0, 0, 32, 8]]\n",
    );
    let mut px = vec![100u8; 64 * 64];
    for y in 0..8 {
        for x in (0..32).step_by(3) {
            px[y * 64 + x] = 250;
        }
    }
    let images: [(&str, Option<&str>, &[u8], &str); 5] = [
        ("utf8.dcm", Some("ISO_IR 192"), "線量レポート".as_bytes(), "dose-ja"),
        ("jis.dcm", Some("\\ISO 2022 IR 87"), b"\x1b$B@~NL%l%]!<%H\x1b(B", "dose-ja"),
        ("jis13.dcm", Some("ISO 2022 IR 13\\ISO 2022 IR 87"), b"\x1b$B@~NL\x1b(J \xd8\xce\xdf\xb0\xc4", "dose-ja"),
        ("sjis.dcm", None, b"\x90\xfc\x97\xca\x83\x8c\x83|\x81[\x83g", "dose-ja"),
        ("latin1.dcm", Some("ISO_IR 100"), b"Dosisbericht \xdcbersicht", "dose-de"),
    ];
    for (n, (name, charset, series, _)) in images.iter().enumerate() {
        let f = grey_image(n as u32 + 1, CT_IMAGE, "CT", 64, 64, 1, &px)
            .put(raw_el(tags::SERIES_DESCRIPTION, VR::LO, series))
            .remove(tags::SPECIFIC_CHARACTER_SET);
        let f = match charset {
            Some(cs) => f.put(str_el(tags::SPECIFIC_CHARACTER_SET, VR::CS, cs)),
            None => f,
        };
        f.write(&wd.path(&format!("in/{name}")));
    }
    deid(&wd).assert_code(0);
    for (name, _, _, rule) in images {
        let r = record(&wd, name);
        let sources: Vec<&str> = r["pixels"]["boxes"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: not cleaned: {r}"))
            .iter()
            .map(|b| b["source"].as_str().unwrap())
            .collect();
        assert!(sources.contains(&format!("rule:{rule}").as_str()), "{name}: {sources:?}");
        let got = pixels_of(&wd, name);
        let left = (0..8).flat_map(|y| (0..32).map(move |x| y * 64 + x)).filter(|&i| got[i] == 250).count();
        assert_eq!(left, 0, "{name}: text pixels left inside the rule's rectangle");
    }
}
