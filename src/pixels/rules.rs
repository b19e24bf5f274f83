//! Device rules: rectangles to blank on images whose header matches a device signature.
//!
//! Rules are data (TOML), not code, so a data center adds the devices it owns without rebuilding:
//! the built-in files in `profiles/pixels/` are embedded in the binary, and `--pixel-rules DIR`
//! adds every `*.toml` file of a folder. A rule file holds `[[rule]]` tables:
//!
//! ```toml
//! [[rule]]
//! name = "philips-iu22-480"                   # unique, shown in the audit
//! source = "RSNA CTP DicomPixelAnonymizer.script, label Philips IU22"
//! when = { Modality = "US", Manufacturer = "Philips", ManufacturerModelName = "iU22", Rows = 480 }
//! blank = [[0, 0, 640, 47]]                   # x, y, width, height in pixels
//! ultrasound_regions = true                   # also blank outside the US regions (default)
//! detect = true                               # also run the text detector (default)
//! ```
//!
//! `when` maps attribute keywords (top level of the data set) to the value they must have. A
//! string matches a text attribute that contains it, ignoring case (`Manufacturer = "Philips"`
//! matches `Philips Medical Systems`); code strings, UIDs and numbers (CS, UI, IS, DS, US...)
//! must be equal instead (`Modality = "US"` does not match `IVUS`). A list matches when any of
//! its entries does; an integer compares numerically. An absent attribute never matches. Every
//! condition must hold. Text is compared decoded in the file's Specific Character Set (as kamei
//! reads every text value it looks inside), NFKC-normalised, so a condition on a Japanese or
//! accented value matches it whatever character set the file writes it in. Rectangles are
//! clipped to the image.
//!
//! Loading checks every keyword against the dictionary and rejects unknown keys, empty
//! rectangles and duplicate names, with the file, line and column. This module reads files only
//! when asked to load a folder; matching is pure.

use crate::dataset::{DataSet, Tag, VR};
use crate::dict;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The built-in rule files, embedded: (file name, text).
pub const BUILTIN: &[(&str, &str)] = &[
    ("ultrasound.toml", include_str!("../../profiles/pixels/ultrasound.toml")),
    ("ct-nm-screens.toml", include_str!("../../profiles/pixels/ct-nm-screens.toml")),
    ("slides.toml", include_str!("../../profiles/pixels/slides.toml")),
];

/// A rectangle in pixel coordinates: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Rect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width in columns.
    pub width: u32,
    /// Height in rows.
    pub height: u32,
}

impl Rect {
    /// A rectangle.
    pub fn new(x: u32, y: u32, width: u32, height: u32) -> Rect {
        Rect { x, y, width, height }
    }

    /// Right edge (exclusive).
    pub fn right(&self) -> u32 {
        self.x.saturating_add(self.width)
    }

    /// Bottom edge (exclusive).
    pub fn bottom(&self) -> u32 {
        self.y.saturating_add(self.height)
    }

    /// This rectangle clipped to an image of `cols` × `rows`; `None` if nothing is left.
    pub fn clip(&self, cols: u32, rows: u32) -> Option<Rect> {
        let (x0, y0) = (self.x.min(cols), self.y.min(rows));
        let (x1, y1) = (self.right().min(cols), self.bottom().min(rows));
        (x1 > x0 && y1 > y0).then(|| Rect::new(x0, y0, x1 - x0, y1 - y0))
    }

    /// Grown by `margin` on every side, clipped to the image.
    pub fn grow(&self, margin: u32, cols: u32, rows: u32) -> Rect {
        let x0 = self.x.saturating_sub(margin);
        let y0 = self.y.saturating_sub(margin);
        let x1 = self.right().saturating_add(margin).min(cols);
        let y1 = self.bottom().saturating_add(margin).min(rows);
        Rect::new(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0))
    }

    /// Number of pixels.
    pub fn area(&self) -> u64 {
        self.width as u64 * self.height as u64
    }

    /// Whether the two rectangles share at least one pixel.
    pub fn intersects(&self, other: &Rect) -> bool {
        self.x < other.right() && other.x < self.right() && self.y < other.bottom() && other.y < self.bottom()
    }

    /// Whether `other` lies entirely inside this rectangle.
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x && other.y >= self.y && other.right() <= self.right() && other.bottom() <= self.bottom()
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, other: &Rect) -> Rect {
        let x0 = self.x.min(other.x);
        let y0 = self.y.min(other.y);
        let x1 = self.right().max(other.right());
        let y1 = self.bottom().max(other.bottom());
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }
}

/// One condition of a rule: an attribute and the values that match.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The attribute.
    pub tag: Tag,
    /// Any of these matches.
    pub values: Vec<Expected>,
}

/// A value a condition accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// Text: contained (free text) or equal (code strings, UIDs, numbers as text), ignoring case.
    Text(String),
    /// A number, compared numerically.
    Number(f64),
}

/// A device rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Unique name (recorded in the audit for each box it blanks).
    pub name: String,
    /// Where the geometry comes from (documentation; required so every rule is traceable).
    pub source: String,
    /// All must hold.
    pub when: Vec<Condition>,
    /// Rectangles to blank.
    pub blank: Vec<Rect>,
    /// Whether to blank outside the ultrasound regions when the image has them.
    pub ultrasound_regions: bool,
    /// Whether to run the text detector as well.
    pub detect: bool,
}

impl Rule {
    /// Whether one of the rule's rectangles covers any image whole (from the top left corner,
    /// 65535 columns and rows at least: Rows and Columns are 16-bit): with detection off, such
    /// a rule leaves no text unsearched, so `deid` does not warn of it (the built-in
    /// `wsi-label`).
    pub fn blanks_every_pixel(&self) -> bool {
        self.blank.iter().any(|r| r.x == 0 && r.y == 0 && r.width >= 65535 && r.height >= 65535)
    }
}

/// A problem in a rule file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The file (`builtin:NAME` for embedded files).
    pub file: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
    }
}

impl std::error::Error for RuleError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<toml::Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    source: String,
    #[serde(default)]
    description: Option<String>,
    when: BTreeMap<toml::Spanned<String>, toml::Spanned<toml::Value>>,
    #[serde(default)]
    blank: Vec<toml::Spanned<Vec<i64>>>,
    #[serde(default = "yes")]
    ultrasound_regions: bool,
    #[serde(default = "yes")]
    detect: bool,
}

fn yes() -> bool {
    true
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |i| before[i + 1..].chars().count()) + 1;
    (line, column)
}

/// Parse one rule file.
///
/// # Errors
/// [`RuleError`] with the position of the first problem.
pub fn parse(file: &Path, text: &str) -> Result<Vec<Rule>, RuleError> {
    let err = |offset: Option<usize>, message: String| {
        let (line, column) = offset.map_or((0, 0), |o| line_col(text, o));
        RuleError { file: file.to_path_buf(), line, column, message }
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| err(e.span().map(|s| s.start), e.message().to_string()))?;
    let mut rules = Vec::new();
    for spanned in raw.rule {
        let at = spanned.span().start;
        let r = spanned.into_inner();
        let _ = r.description;
        if r.name.trim().is_empty() {
            return Err(err(Some(at), "a rule needs a name".into()));
        }
        if r.source.trim().is_empty() {
            return Err(err(Some(at), format!("rule {:?} needs a source", r.name)));
        }
        if r.when.is_empty() {
            return Err(err(Some(at), format!("rule {:?} needs at least one condition in `when`", r.name)));
        }
        let mut when = Vec::new();
        for (key, value) in &r.when {
            let tag = dict::tag_by_keyword(key.get_ref())
                .ok_or_else(|| err(Some(key.span().start), format!("unknown attribute keyword {:?}", key.get_ref())))?;
            let values = match value.get_ref() {
                toml::Value::Array(items) => items.iter().map(expected).collect::<Option<Vec<_>>>(),
                single => expected(single).map(|v| vec![v]),
            }
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                err(Some(value.span().start), "a condition is a string, a number, or a non-empty list of them".into())
            })?;
            if let Some(message) = never_matches(key.get_ref(), tag, &values) {
                return Err(err(Some(value.span().start), message));
            }
            when.push(Condition { tag, values });
        }
        let mut blank = Vec::new();
        for b in &r.blank {
            match b.get_ref().as_slice() {
                &[x, y, w, h] if x >= 0 && y >= 0 && w > 0 && h > 0 && [x, y, w, h].iter().all(|&v| v <= 65535) => {
                    blank.push(Rect::new(x as u32, y as u32, w as u32, h as u32));
                }
                _ => {
                    return Err(err(
                        Some(b.span().start),
                        "a rectangle is [x, y, width, height] with x, y ≥ 0 and width, height > 0, each at most 65535"
                            .into(),
                    ));
                }
            }
        }
        if blank.is_empty() && r.ultrasound_regions && r.detect {
            return Err(err(
                Some(at),
                format!(
                    "rule {:?} changes nothing: give `blank`, or set `ultrasound_regions` or `detect` to false",
                    r.name
                ),
            ));
        }
        rules.push(Rule {
            name: r.name,
            source: r.source,
            when,
            blank,
            ultrasound_regions: r.ultrasound_regions,
            detect: r.detect,
        });
    }
    Ok(rules)
}

/// Why a condition on `keyword` could never hold, when it could not: text expected of an
/// attribute held as a binary number (`Rows = "240"`; Rows is US). Such a rule would be
/// accepted and silently never apply.
fn never_matches(keyword: &str, tag: Tag, values: &[Expected]) -> Option<String> {
    let binary = matches!(dict::known_vr(tag), Some(VR::US | VR::SS | VR::UL | VR::SL | VR::FL | VR::FD));
    let text = values.iter().find_map(|v| match v {
        Expected::Text(t) => Some(t),
        Expected::Number(_) => None,
    })?;
    binary.then(|| match text.parse::<f64>() {
        Ok(_) => format!("{keyword} is a binary number: write {text} without quotes"),
        Err(_) => format!("{keyword} is a binary number: a string never matches it"),
    })
}

fn expected(v: &toml::Value) -> Option<Expected> {
    match v {
        toml::Value::String(s) if !s.trim().is_empty() => Some(Expected::Text(s.trim().to_string())),
        toml::Value::Integer(i) => Some(Expected::Number(*i as f64)),
        toml::Value::Float(f) => Some(Expected::Number(*f)),
        _ => None,
    }
}

/// The built-in rules.
///
/// # Panics
/// Only if an embedded rule file is invalid, which the unit tests rule out.
pub fn builtin() -> Vec<Rule> {
    let mut all = Vec::new();
    for (name, text) in BUILTIN {
        let rules = parse(&PathBuf::from(format!("builtin:{name}")), text).expect("embedded rule files are valid");
        all.extend(rules);
    }
    all
}

/// Load every `*.toml` file of a folder (sorted by name).
///
/// # Errors
/// [`RuleError`] for an unreadable folder or file, or the first problem in a file.
pub fn load_dir(dir: &Path) -> Result<Vec<Rule>, RuleError> {
    let io_err = |p: &Path, e: std::io::Error| RuleError {
        file: p.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("could not read: {e}"),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| io_err(&f, e))?;
        all.extend(parse(&f, &text)?);
    }
    Ok(all)
}

/// Check that rule names are unique.
///
/// # Errors
/// A message naming the duplicate.
pub fn check_unique(rules: &[Rule]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for r in rules {
        if !seen.insert(r.name.as_str()) {
            return Err(format!("two pixel rules are named {:?}", r.name));
        }
    }
    Ok(())
}

/// Whether an attribute is compared by equality rather than containment.
fn compares_equal(tag: Tag) -> bool {
    matches!(
        dict::known_vr(tag),
        Some(
            VR::CS
                | VR::UI
                | VR::IS
                | VR::DS
                | VR::US
                | VR::SS
                | VR::UL
                | VR::SL
                | VR::FL
                | VR::FD
                | VR::DA
                | VR::TM
                | VR::DT
                | VR::AS
        )
    )
}

/// A numeric value of an attribute: binary (US, SS, UL, SL, FL, FD; `big_endian` says the byte
/// order) or text (IS, DS).
fn number(ds: &DataSet, tag: Tag, big_endian: bool) -> Option<f64> {
    let e = ds.get(tag)?;
    let b = e.bytes()?;
    let vr = if e.vr == VR::UN { dict::known_vr(tag).unwrap_or(VR::UN) } else { e.vr };
    let arr = |n: usize| -> Option<Vec<u8>> {
        let mut v = b.get(..n)?.to_vec();
        if big_endian {
            v.reverse();
        }
        Some(v)
    };
    match vr {
        VR::US => arr(2).map(|v| u16::from_le_bytes([v[0], v[1]]) as f64),
        VR::SS => arr(2).map(|v| i16::from_le_bytes([v[0], v[1]]) as f64),
        VR::UL => arr(4).map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]) as f64),
        VR::SL => arr(4).map(|v| i32::from_le_bytes([v[0], v[1], v[2], v[3]]) as f64),
        VR::FL => arr(4).map(|v| f32::from_le_bytes([v[0], v[1], v[2], v[3]]) as f64),
        VR::FD => arr(8).map(|v| f64::from_le_bytes(v.try_into().expect("8 bytes"))),
        _ => {
            let s = std::str::from_utf8(b).ok()?;
            s.split('\\').next()?.trim_matches(|c: char| c == ' ' || c == '\0').parse().ok()
        }
    }
}

/// The text of attribute `tag` of `ds` as a condition compares it: read in the data set's
/// Specific Character Set as kamei reads every text value it looks inside
/// ([`crate::plan::comparable_text`]: the declared set, else UTF-8, EUC-JP or CP932 where the
/// declared set does not read the bytes cleanly, else byte for byte), NFKC-normalised and
/// case-folded ([`folded`]). ASCII without an escape sequence reads the same in every set and
/// is taken as it is. `None` when the attribute is absent or not a primitive value.
fn condition_text(ds: &DataSet, tag: Tag) -> Option<String> {
    let e = ds.get(tag)?;
    let bytes = e.bytes()?;
    if bytes.is_ascii() && !bytes.contains(&0x1B) {
        return Some(folded(String::from_utf8_lossy(bytes).trim_matches([' ', '\0'])));
    }
    let vr = if e.vr == VR::UN { dict::known_vr(tag).unwrap_or(VR::LO) } else { e.vr };
    Some(folded(&crate::plan::comparable_text(ds, bytes, vr)))
}

/// `text` NFKC-normalised and case-folded ([`crate::case_fold::fold`]), as conditions compare
/// text: `Übersicht` and `übersicht`, `ＣＴ` and `ct` are one text.
fn folded(text: &str) -> String {
    unicode_normalization::UnicodeNormalization::nfkc(text).map(crate::case_fold::fold).collect()
}

impl Rule {
    /// Whether every condition holds for this data set (`big_endian`: byte order of its binary
    /// values). Text is compared decoded in the file's character set, so a condition on a
    /// Japanese or accented value matches it in any character set the file declares (or in the
    /// Shift_JIS a modality writes without declaring it).
    pub fn matches(&self, ds: &DataSet, big_endian: bool) -> bool {
        self.when.iter().all(|c| {
            let text = condition_text(ds, c.tag);
            c.values.iter().any(|v| match v {
                Expected::Number(n) => number(ds, c.tag, big_endian).is_some_and(|x| (x - n).abs() < 1e-9),
                Expected::Text(t) => {
                    let Some(text) = &text else { return false };
                    let t = folded(t);
                    if compares_equal(c.tag) {
                        text.split('\\').any(|part| part.trim() == t)
                    } else {
                        text.contains(&t)
                    }
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Element;
    use dicom_dictionary_std::tags;

    fn ds() -> DataSet {
        DataSet::from_elements([
            Element::new(tags::MODALITY, VR::CS, b"US".to_vec()),
            Element::new(tags::MANUFACTURER, VR::LO, b"Philips Medical Systems ".to_vec()),
            Element::new(tags::MANUFACTURER_MODEL_NAME, VR::LO, b"iU22".to_vec()),
            Element::new(tags::ROWS, VR::US, 480u16.to_le_bytes().to_vec()),
        ])
    }

    #[test]
    fn builtin_rule_files_load_and_have_unique_names() {
        let rules = builtin();
        assert!(rules.len() >= 10, "{}", rules.len());
        check_unique(&rules).unwrap();
        for r in &rules {
            assert!(!r.source.is_empty());
        }
    }

    #[test]
    fn the_label_image_of_a_slide_is_blanked_whole_and_its_other_images_are_not() {
        let slide = |image_type: &str| {
            DataSet::from_elements([
                Element::new(tags::IMAGE_TYPE, VR::CS, image_type.as_bytes().to_vec()),
                Element::new(tags::SOP_CLASS_UID, VR::UI, b"1.2.840.10008.5.1.4.1.1.77.1.6\0".to_vec()),
            ])
        };
        let rules = builtin();
        let label: Vec<&Rule> =
            rules.iter().filter(|r| r.matches(&slide("ORIGINAL\\PRIMARY\\LABEL\\NONE"), false)).collect();
        assert_eq!(label.len(), 1);
        assert_eq!(
            label[0].blank.iter().filter_map(|b| b.clip(1200, 400)).collect::<Vec<_>>(),
            [Rect::new(0, 0, 1200, 400)]
        );
        for other in ["DERIVED\\PRIMARY\\OVERVIEW\\NONE", "ORIGINAL\\PRIMARY\\VOLUME\\NONE"] {
            assert!(!rules.iter().any(|r| r.matches(&slide(other), false)), "{other}");
        }
    }

    #[test]
    fn matches_contains_for_text_and_equality_for_codes_and_numbers() {
        let text = r#"
[[rule]]
name = "a"
source = "test"
when = { Modality = "US", Manufacturer = "philips", ManufacturerModelName = ["HDI", "iu22"], Rows = 480 }
blank = [[0, 0, 640, 47]]
"#;
        let rules = parse(Path::new("t.toml"), text).unwrap();
        assert!(rules[0].matches(&ds(), false));
        let mut other = ds();
        other.put(Element::new(tags::MODALITY, VR::CS, b"IVUS".to_vec()));
        assert!(!rules[0].matches(&other, false), "US must not match IVUS");
        let mut other = ds();
        other.put(Element::new(tags::ROWS, VR::US, 600u16.to_le_bytes().to_vec()));
        assert!(!rules[0].matches(&other, false));
        let mut be = ds();
        be.put(Element::new(tags::ROWS, VR::US, 480u16.to_be_bytes().to_vec()));
        assert!(rules[0].matches(&be, true));
        let mut absent = ds();
        absent.remove(tags::MANUFACTURER);
        assert!(!rules[0].matches(&absent, false));
    }

    #[test]
    fn text_conditions_match_the_decoded_value_in_any_character_set() {
        let rule = |when: &str| {
            let text = format!("[[rule]]\nname = \"a\"\nsource = \"s\"\nwhen = {{ {when} }}\nblank = [[0, 0, 1, 1]]\n");
            parse(Path::new("r.toml"), &text).unwrap().remove(0)
        };
        let image = |charset: Option<&[u8]>, tag: Tag, value: &[u8]| {
            let mut ds = DataSet::from_elements([Element::new(tag, VR::LO, value.to_vec())]);
            if let Some(cs) = charset {
                ds.put(Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, cs.to_vec()));
            }
            ds
        };
        let ja = rule(r#"SeriesDescription = "線量""#);
        let series = |charset, value| image(charset, tags::SERIES_DESCRIPTION, value);
        // 線量レポート in ISO 2022 IR 87 (JIS X 0208 after ESC $ B), with and without IR 13.
        let jis = b"\x1b$B@~NL%l%]!<%H\x1b(B";
        assert!(ja.matches(&series(Some(b"\\ISO 2022 IR 87"), jis), false));
        assert!(ja.matches(&series(Some(b"ISO 2022 IR 13\\ISO 2022 IR 87"), jis), false));
        assert!(ja.matches(&series(Some(b"ISO_IR 192"), "線量レポート".as_bytes()), false));
        assert!(ja.matches(&series(None, b"\x90\xfc\x97\xca"), false), "CP932 bytes, no (0008,0005)");
        assert!(!ja.matches(&series(Some(b"\\ISO 2022 IR 87"), b"\x1b$B%l%]!<%H\x1b(B"), false), "レポート");
        let de = rule(r#"InstitutionName = "München""#);
        let institution = |charset, value| image(charset, tags::INSTITUTION_NAME, value);
        assert!(de.matches(&institution(Some(b"ISO_IR 100"), b"Klinikum M\xdcNCHEN"), false), "case folded");
        assert!(de.matches(&institution(Some(b"ISO_IR 192"), "Klinikum München".as_bytes()), false));
        assert!(!de.matches(&institution(Some(b"ISO_IR 100"), b"Klinikum Munchen"), false));
    }

    #[test]
    fn a_quoted_number_for_a_binary_attribute_is_an_error_not_a_rule_that_never_applies() {
        let rule = |when: &str| {
            format!("[[rule]]\nname = \"a\"\nsource = \"s\"\nwhen = {{ {when} }}\nblank = [[0, 0, 1, 1]]\n")
        };
        let e = parse(Path::new("r.toml"), &rule(r#"Rows = "240""#)).unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (4, "Rows is a binary number: write 240 without quotes"));
        let e = parse(Path::new("r.toml"), &rule(r#"Columns = ["640", 800]"#)).unwrap_err();
        assert!(e.message.starts_with("Columns is a binary number"), "{}", e.message);
        assert!(parse(Path::new("r.toml"), &rule("Rows = 240")).is_ok());
        assert!(parse(Path::new("r.toml"), &rule(r#"SeriesNumber = "3""#)).is_ok(), "IS is text");
    }

    #[test]
    fn a_rectangle_too_large_is_refused_saying_the_limit() {
        let text = "[[rule]]\nname = \"a\"\nsource = \"s\"\nwhen = { Rows = 1 }\nblank = [[4294967295, 0, 1, 1]]\n";
        let e = parse(Path::new("r.toml"), text).unwrap_err();
        assert!(e.message.contains("at most 65535"), "{}", e.message);
    }

    #[test]
    fn errors_name_the_position() {
        let text = "[[rule]]\nname = \"a\"\nsource = \"s\"\nwhen = { Modalty = \"US\" }\nblank = [[0, 0, 1, 1]]\n";
        let e = parse(Path::new("x.toml"), text).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("Modalty"), "{e}");
        let text = "[[rule]]\nname = \"a\"\nsource = \"s\"\nwhen = { Modality = \"US\" }\nblank = [[0, 0, 0, 1]]\n";
        assert!(parse(Path::new("x.toml"), text).unwrap_err().message.contains("rectangle"));
        let text = "[[rule]]\nname = \"a\"\nsource = \"s\"\nwhen = { Modality = \"US\" }\ncolour = 1\n";
        assert!(parse(Path::new("x.toml"), text).is_err());
    }

    #[test]
    fn rect_clip_grow_union() {
        let r = Rect::new(630, 470, 20, 20);
        assert_eq!(r.clip(640, 480), Some(Rect::new(630, 470, 10, 10)));
        assert_eq!(Rect::new(700, 0, 5, 5).clip(640, 480), None);
        assert_eq!(Rect::new(1, 1, 2, 2).grow(3, 10, 10), Rect::new(0, 0, 6, 6));
        assert_eq!(Rect::new(0, 0, 2, 2).union(&Rect::new(5, 5, 1, 1)), Rect::new(0, 0, 6, 6));
    }
}
