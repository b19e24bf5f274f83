//! Device rules (`--pixel-rules DIR`) on the real binary: conditions on text in any character
//! set, rectangles on tiled whole-slide images (in the Total Pixel Matrix's coordinates), and
//! rectangles that lie outside the image.

use crate::util::*;
use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;

const STUDY: &str = "1.2.826.0.1.3680043.8.498.47";
const SERIES: &str = "1.2.826.0.1.3680043.8.498.47.1";
const CT_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
const WSI: &str = "1.2.840.10008.5.1.4.1.1.77.1.6";

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

/// A 2 × 2 tiled OVERVIEW (TILED_FULL, Total Pixel Matrix 480 × 320, tiles 240 × 160): grey 200,
/// a barcode (stripes of 20) on the label end at columns 300..460, rows 200..240, and "tissue"
/// (120) in the first tile. Returns the whole image, row by row.
fn tiled_overview(wd: &Workdir, organization: &str, extra: impl FnOnce(Fixture) -> Fixture) -> Vec<u8> {
    let (w, h) = (480usize, 320usize);
    let mut full = vec![200u8; w * h];
    for y in 200..240 {
        for x in (300..460).step_by(2) {
            full[y * w + x] = 20;
        }
    }
    for y in 20..60 {
        for x in 20..200 {
            full[y * w + x] = 120;
        }
    }
    let tiles = split(&full);
    let ul = |v: u32| PrimitiveValue::from(v);
    let f = grey_image(70, WSI, "SM", 240, 160, 4, &tiles)
        .put(str_el(tags::IMAGE_TYPE, VR::CS, "DERIVED\\PRIMARY\\OVERVIEW\\NONE"))
        .put(str_el(tags::MANUFACTURER_MODEL_NAME, VR::LO, "S1"))
        .put(str_el(tags::DIMENSION_ORGANIZATION_TYPE, VR::CS, organization))
        .put(DataElement::new(tags::TOTAL_PIXEL_MATRIX_COLUMNS, VR::UL, ul(480)))
        .put(DataElement::new(tags::TOTAL_PIXEL_MATRIX_ROWS, VR::UL, ul(320)));
    extra(f).write(&wd.path("in/overview.dcm"));
    full
}

/// The 480 × 320 image cut into its four 240 × 160 tiles, row by row (TILED_FULL order).
fn split(full: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (ty, tx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        for y in 0..160 {
            let start = (ty * 160 + y) * 480 + tx * 240;
            out.extend_from_slice(&full[start..start + 240]);
        }
    }
    out
}

/// The four tiles put back together.
fn join(tiles: &[u8]) -> Vec<u8> {
    let mut full = vec![0u8; 480 * 320];
    for (t, (ty, tx)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
        for y in 0..160 {
            let start = (ty * 160 + y) * 480 + tx * 240;
            full[start..start + 240].copy_from_slice(&tiles[t * 240 * 160 + y * 240..][..240]);
        }
    }
    full
}

/// The distinct values of `full` inside [x, y, w, h].
fn values_in(full: &[u8], x: usize, y: usize, w: usize, h: usize) -> std::collections::BTreeSet<u8> {
    (y..y + h).flat_map(|r| (x..x + w).map(move |c| full[r * 480 + c])).collect()
}

const LABEL_END_RULE: &str = "[[rule]]\nname = \"s1-label-end\"\nsource = \"test\"\n\
    when = { SOPClassUID = \"1.2.840.10008.5.1.4.1.1.77.1.6\", ImageType = \"OVERVIEW\", ManufacturerModelName = \"S1\" }\n";

#[test]
fn a_rule_rectangle_on_a_tiled_slide_is_in_the_whole_images_coordinates() {
    // rv41 02: the rectangle was taken in each tile's own coordinates: one beyond the first
    // tile's size was dropped (the label end released), one inside it was blanked on every tile.
    let wd = Workdir::new("a_rule_rectangle_on_a_tiled_slide_is_in_the_whole_images_coordinates");
    write_rules(&wd, &format!("{LABEL_END_RULE}blank = [[300, 180, 180, 140]]\n"));
    let src = tiled_overview(&wd, "TILED_FULL", |f| f);
    deid(&wd).assert_code(0);
    let full = join(&pixels_of(&wd, "overview.dcm"));
    assert_eq!(values_in(&full, 300, 180, 180, 140).len(), 1, "the label end is blanked whole");
    let changed = (0..480 * 320).filter(|&i| full[i] != src[i] && !(i % 480 >= 300 && i / 480 >= 180)).count();
    assert_eq!(changed, 0, "pixels outside the rule's rectangle changed");
    let boxes = record(&wd, "overview.dcm")["pixels"]["boxes"].as_array().unwrap().clone();
    let rule: Vec<_> = boxes.iter().filter(|b| b["source"] == "rule:s1-label-end").collect();
    assert_eq!(rule.len(), 1, "{boxes:?}");
    assert_eq!(
        (rule[0]["frame"].as_u64(), rule[0]["x"].as_u64(), rule[0]["y"].as_u64()),
        (Some(4), Some(60), Some(20))
    );
    assert_eq!(rule[0]["in_image"], serde_json::json!([300, 180, 180, 140]));
}

#[test]
fn a_rule_rectangle_across_tile_borders_is_blanked_in_each_tile_it_crosses_and_nowhere_else() {
    let wd = Workdir::new("a_rule_rectangle_across_tile_borders_is_blanked_in_each_tile_it_crosses");
    write_rules(&wd, &format!("{LABEL_END_RULE}blank = [[220, 140, 40, 40]]\n"));
    let src = tiled_overview(&wd, "TILED_FULL", |f| f);
    deid(&wd).assert_code(0);
    let full = join(&pixels_of(&wd, "overview.dcm"));
    assert_eq!(values_in(&full, 220, 140, 40, 40).len(), 1, "the rectangle is blanked whole");
    let inside = |i: usize| (220..260).contains(&(i % 480)) && (140..180).contains(&(i / 480));
    let changed = (0..480 * 320).filter(|&i| full[i] != src[i] && !inside(i)).count();
    assert_eq!(changed, 0, "pixels outside the rule's rectangle changed (the tissue, the other tiles' corners)");
    let boxes = record(&wd, "overview.dcm")["pixels"]["boxes"].as_array().unwrap().clone();
    let mut pieces: Vec<(u64, serde_json::Value)> = boxes
        .iter()
        .filter(|b| b["source"] == "rule:s1-label-end")
        .map(|b| (b["frame"].as_u64().unwrap(), b["in_image"].clone()))
        .collect();
    pieces.sort_by_key(|p| p.0);
    assert_eq!(
        pieces,
        [
            (1, serde_json::json!([220, 140, 20, 20])),
            (2, serde_json::json!([240, 140, 20, 20])),
            (3, serde_json::json!([220, 160, 20, 20])),
            (4, serde_json::json!([240, 160, 20, 20]))
        ]
    );
}

#[test]
fn a_rule_rectangle_outside_the_whole_image_is_noted_in_the_audit() {
    let wd = Workdir::new("a_rule_rectangle_outside_the_whole_image_is_noted_in_the_audit");
    write_rules(&wd, &format!("{LABEL_END_RULE}blank = [[500, 0, 10, 10]]\n"));
    tiled_overview(&wd, "TILED_FULL", |f| f);
    deid(&wd).assert_code(0);
    let notes = record(&wd, "overview.dcm")["notes"].to_string();
    assert!(
        notes.contains("rule s1-label-end: rectangle [500, 0, 10, 10] lies outside the image (480 × 320)"),
        "{notes}"
    );
}

#[test]
fn a_rule_rectangle_on_sparse_tiles_is_placed_by_their_plane_positions_or_the_image_fails() {
    let wd = Workdir::new("a_rule_rectangle_on_sparse_tiles_is_placed_by_their_plane_positions");
    write_rules(&wd, &format!("{LABEL_END_RULE}blank = [[300, 180, 180, 140]]\n"));
    let position = |col: i32, row: i32| {
        item(vec![seq_el(
            tags::PLANE_POSITION_SLIDE_SEQUENCE,
            vec![item(vec![
                DataElement::new(tags::COLUMN_POSITION_IN_TOTAL_IMAGE_PIXEL_MATRIX, VR::SL, PrimitiveValue::from(col)),
                DataElement::new(tags::ROW_POSITION_IN_TOTAL_IMAGE_PIXEL_MATRIX, VR::SL, PrimitiveValue::from(row)),
            ])],
        )])
    };
    let groups = vec![position(1, 1), position(241, 1), position(1, 161), position(241, 161)];
    tiled_overview(&wd, "TILED_SPARSE", |f| f.put(seq_el(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, groups)));
    deid(&wd).assert_code(0);
    let full = join(&pixels_of(&wd, "overview.dcm"));
    assert_eq!(values_in(&full, 300, 180, 180, 140).len(), 1, "the label end is blanked whole");
    // Without positions the rectangle has no place: the image is not released.
    let wd = Workdir::new("a_rule_rectangle_on_sparse_tiles_without_positions_fails_the_image");
    write_rules(&wd, &format!("{LABEL_END_RULE}blank = [[300, 180, 180, 140]]\n"));
    tiled_overview(&wd, "TILED_SPARSE", |f| f);
    deid(&wd).assert_code(1);
    assert!(wd.dicom_outputs("out").is_empty());
    let reason = wd.audit("out")[0]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("s1-label-end") && reason.contains("not released"), "{reason}");
}
