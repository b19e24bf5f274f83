//! The HL7 v2.5 value types whose OBX-5 values kamei may keep, and what each component of such
//! a value must look like (HL7 v2.5 chapter 2A).
//!
//! A kept value goes out byte for byte, so it is only kept when it is what its type says: a
//! number that is a number cannot hold a name, a comparator is one of six. [`check`] tells
//! whether a value fits its type and hands back the pieces that can still hold something
//! identifying (numbers, codes, the text shown with a code), which the caller checks against the
//! patient's identifiers.
//!
//! What this module must not do: decide about identifiers (that is the caller's policy) or
//! change bytes.

use super::{Delimiters, Field, Text, decode};

/// What one component (or subcomponent) of a value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// NM (2A.47): an optional sign, digits and at most one decimal point.
    Number,
    /// TM (2A.75): `HH[MM[SS[.S[S[S[S]]]]]][+/-ZZZZ]`.
    Time,
    /// SN.1 (2A.71): empty, `>`, `<`, `>=`, `<=`, `=` or `<>`.
    Comparator,
    /// SN.3 (2A.71): empty, `-`, `+`, `/`, `.` or `:`.
    Separator,
    /// A value from a code table (ID, IS, the identifier, coding system and version components of
    /// CE/CWE/CNE): printable ASCII.
    Code,
    /// The text that comes with a code (CE/CWE/CNE text, alternate text, original text; CQ
    /// units): any text that decodes exactly.
    Text,
}

/// The components of a value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The type's name, as HL7 spells it (safe to show: it is this table's, not the input's).
    pub name: &'static str,
    parts: &'static [Part],
    /// Components after the listed ones repeat the last part (NA, MA).
    repeat_last: bool,
    /// Components may hold subcomponents, each of the component's part (MA, CQ units).
    subcomponents: bool,
}

const fn layout_of(name: &'static str, parts: &'static [Part], repeat_last: bool, subcomponents: bool) -> Layout {
    Layout { name, parts, repeat_last, subcomponents }
}

use Part::{Code, Comparator, Number, Separator, Text as Txt, Time};

/// Every value type kamei can check, so may keep.
const LAYOUTS: [Layout; 12] = [
    layout_of("NM", &[Number], false, false),
    layout_of("SN", &[Comparator, Number, Separator, Number], false, false),
    layout_of("NR", &[Number, Number], false, false),
    layout_of("NA", &[Number], true, false),
    layout_of("MA", &[Number], true, true),
    layout_of("CQ", &[Number, Txt], false, true),
    layout_of("TM", &[Time], false, false),
    layout_of("ID", &[Code], false, false),
    layout_of("IS", &[Code], false, false),
    layout_of("CE", &[Code, Txt, Code, Code, Txt, Code], false, false),
    layout_of("CWE", &[Code, Txt, Code, Code, Txt, Code, Code, Code, Txt], false, false),
    layout_of("CNE", &[Code, Txt, Code, Code, Txt, Code, Code, Code, Txt], false, false),
];

/// The layout of value type `value_type` (OBX-2), if kamei can check its values.
pub fn layout(value_type: &str) -> Option<Layout> {
    LAYOUTS.iter().find(|l| l.name == value_type).copied()
}

/// One piece of a value that fits its type and may still identify someone: a number, a time, a
/// code or a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// 0-based repetition.
    pub rep: usize,
    /// 0-based component.
    pub comp: usize,
    /// 0-based subcomponent.
    pub sub: usize,
    /// What the piece is.
    pub part: Part,
    /// The decoded text; `None` for a [`Part::Text`] that does not decode exactly (it cannot be
    /// checked).
    pub text: Option<String>,
}

/// Check a parsed value against its type's layout.
///
/// Returns `None` when the value does not fit: more components than the type has,
/// subcomponents where it has none, a number that is not NM, a time that is not TM, a
/// comparator or separator outside SN's, a code that is not printable ASCII. Otherwise every
/// non-empty piece except comparators and separators, with its text.
pub fn check(layout: &Layout, field: &Field, d: &Delimiters, text: Text) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    for (r, rep) in field.iter().enumerate() {
        let used = rep.iter().rposition(|c| c.iter().any(|s| !s.is_empty())).map_or(0, |i| i + 1);
        if used > layout.parts.len() && !layout.repeat_last {
            return None;
        }
        for (c, comp) in rep[..used].iter().enumerate() {
            let part = layout.parts[c.min(layout.parts.len() - 1)];
            if !layout.subcomponents && comp.iter().skip(1).any(|s| !s.is_empty()) {
                return None;
            }
            for (s, bytes) in comp.iter().enumerate().filter(|(_, b)| !b.is_empty()) {
                let piece = |text| Piece { rep: r, comp: c, sub: s, part, text };
                match part {
                    Number | Time => {
                        let fits = if part == Number { is_number(bytes) } else { is_time(bytes) };
                        if !fits {
                            return None;
                        }
                        pieces.push(piece(Some(String::from_utf8_lossy(bytes).into_owned())));
                    }
                    Comparator if matches!(&bytes[..], b">" | b"<" | b">=" | b"<=" | b"=" | b"<>") => {}
                    Separator if matches!(&bytes[..], b"-" | b"+" | b"/" | b"." | b":") => {}
                    Comparator | Separator => return None,
                    Code => {
                        let v = decode(bytes, d, text);
                        if !v.exact || v.nonstandard || !v.text.chars().all(|ch| (' '..='~').contains(&ch)) {
                            return None;
                        }
                        pieces.push(piece(Some(v.text)));
                    }
                    Txt => {
                        let v = decode(bytes, d, text);
                        pieces.push(piece(v.exact.then_some(v.text)));
                    }
                }
            }
        }
    }
    Some(pieces)
}

/// NM: `[+|-]digits[.digits]` with at least one digit; surrounding spaces are tolerated.
fn is_number(bytes: &[u8]) -> bool {
    let s = bytes.trim_ascii();
    let s = s.strip_prefix(b"+").or_else(|| s.strip_prefix(b"-")).unwrap_or(s);
    let digits = s.iter().filter(|b| b.is_ascii_digit()).count();
    let points = s.iter().filter(|&&b| b == b'.').count();
    digits > 0 && points <= 1 && digits + points == s.len()
}

/// TM: `HH[MM[SS[.S[S[S[S]]]]]][+/-ZZZZ]`.
fn is_time(bytes: &[u8]) -> bool {
    let (time, zone) = match bytes.iter().position(|&b| b == b'+' || b == b'-') {
        Some(p) => (&bytes[..p], Some(&bytes[p + 1..])),
        None => (bytes, None),
    };
    let (hms, fraction) = match time.iter().position(|&b| b == b'.') {
        Some(p) => (&time[..p], Some(&time[p + 1..])),
        None => (time, None),
    };
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    matches!(hms.len(), 2 | 4 | 6)
        && digits(hms)
        && fraction.is_none_or(|f| hms.len() == 6 && (1..=4).contains(&f.len()) && digits(f))
        && zone.is_none_or(|z| z.len() == 4 && digits(z))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(value_type: &str, value: &str) -> Option<Vec<Piece>> {
        let d = Delimiters::default();
        check(&layout(value_type).unwrap(), &d.parse_field(value.as_bytes()), &d, Text::Utf8)
    }

    #[test]
    fn numbers_must_be_numbers() {
        for ok in ["158.0", "-3", "+.5", "7.", " 6.1 ", "1~2"] {
            assert!(run("NM", ok).is_some(), "{ok}");
        }
        for bad in ["山本美日", "1\\F\\x", "1.2.3", "<5", "1e3", "1^2", "1&2", "."] {
            assert!(run("NM", bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn structured_numbers_follow_the_sn_grammar() {
        for ok in [">^100", "^1^:^128", "<=^0.5", "^2^+", "^10^-^20", "<>^3"] {
            assert!(run("SN", ok).is_some(), "{ok}");
        }
        for bad in [">^山本美日", "^1^x^2", "^1^-^2^5", "=>^1"] {
            assert!(run("SN", bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn codes_are_printable_ascii_and_texts_are_returned_for_checking() {
        let pieces = run("CWE", "01^本人^99").unwrap();
        let texts: Vec<_> = pieces.iter().map(|p| (p.comp, p.part, p.text.clone().unwrap())).collect();
        assert_eq!(texts, [(0, Code, "01".into()), (1, Txt, "本人".into()), (2, Code, "99".into())]);
        assert!(run("ID", "F").is_some());
        assert!(run("ID", "山本美日").is_none(), "an ID is a table code");
        assert!(run("CE", "1^2^3^4^5^6^7").is_none(), "CE has six components");
    }

    #[test]
    fn times_follow_the_tm_grammar() {
        for ok in ["09", "0930", "093015.25", "0930+0900"] {
            assert!(run("TM", ok).is_some(), "{ok}");
        }
        for bad in ["9", "0930.5", "093015.12345", "09:30"] {
            assert!(run("TM", bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn arrays_repeat_numbers_and_only_ma_has_subcomponents() {
        assert!(run("NA", "1^2^3^4^5").is_some());
        assert!(run("MA", "1&2^3&4").is_some());
        assert!(run("NA", "1&2").is_none());
        assert!(run("CQ", "5^mg&milligram&ISO+").is_some());
    }
}
