//! Free text in clinical records (CSV comment columns, HL7 OBX/NTE text): the patient's own
//! identifiers and the identifier patterns anyone's text may hold are taken out.
//!
//! Two layers, applied in this order on NFKC text (so full-width digits and letters are seen
//! as what they are):
//! 1. the patient's identifiers known to the caller ([`crate::scrub::Identifiers`]: names in
//!    every script, IDs, birth date spellings, address parts, phone numbers), each replaced by
//!    `***`;
//! 2. patterns: e-mail addresses; dates, found and treated by [`crate::text_dates`] (a full
//!    date, `2024/2/1`, `20240201`, `2024年2月1日`, `02-FEB-2024`..., is shifted by the
//!    patient's offset when dates are kept shifted and replaced otherwise; an era date, a date
//!    without its year (`3月15日`) and a date that reads two ways are always replaced); Japanese
//!    phone numbers, postal codes, runs of seven or more digits (IDs, insurance numbers).
//!
//! This is a safety net, not NLP review: names of other people that appear nowhere in the
//! patient's records are not found. The README says so, and free text is removed unless the
//! user asks to keep it cleaned.

use super::values;
use crate::scrub::{Identifiers, REDACTED};
use crate::text_dates::{self, DateTreatment, Which, stands_alone};
use regex::Regex;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// Identifier patterns, applied after the dates ([`crate::text_dates`]), except e-mail
/// addresses, which go first (an address can hold a date: `taro19850315@...`).
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+").expect("valid built-in pattern")
});

static PATTERNS: LazyLock<Vec<(Kind, Regex)>> = LazyLock::new(|| {
    let p = |k, re: &str| (k, Regex::new(re).expect("valid built-in pattern"));
    vec![
        p(Kind::Redact, r"\+81[- ]?\d{1,4}[- ]?\d{1,4}[- ]?\d{3,4}"),
        // Phone numbers with any dash people type (the minus sign that JIS X 0208 0x215D
        // decodes to, the katakana prolonged sound mark), or with spaces.
        p(
            Kind::Redact,
            r"0\d{1,4}[-\x{2010}-\x{2015}\x{2212}\x{30FC}\x{FF70}(]\d{1,4}[-\x{2010}-\x{2015}\x{2212}\x{30FC}\x{FF70})]\d{3,4}|0\d{9,10}",
        ),
        p(Kind::Redact, r"0\d{1,3} \d{2,4} \d{4}"),
        p(Kind::Redact, r"〒 ?\d{3}-?\d{4}|\d{3}-\d{4}"),
        p(Kind::Digits, r"\d{7,}"),
    ]
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Replace with `***`.
    Redact,
    /// A long number: replace, unless it is an eight-digit date the date rule already handled.
    Digits,
}

fn apply(text: &str, kind: Kind, re: &Regex, count: &mut usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in re.find_iter(text) {
        if !stands_alone(text, m.start(), m.end()) {
            continue;
        }
        if kind == Kind::Digits && m.len() == 8 && values::parse(m.as_str()).is_some() {
            continue;
        }
        out.push_str(&text[at..m.start()]);
        out.push_str(REDACTED);
        *count += 1;
        at = m.end();
    }
    out.push_str(&text[at..]);
    out
}

/// The result of cleaning one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The cleaned text (NFKC-normalised when anything changed).
    pub text: String,
    /// How many identifiers and patterns were replaced or shifted.
    pub replaced: usize,
}

/// Clean `text`: the patient's `ids`, then the patterns. `shift_days` is the patient's date
/// shift when dates are kept shifted (`None`: dates are replaced). Returns `None` when nothing
/// was found, so the caller can keep the original bytes.
///
/// ```
/// use kamei::clinical::freetext::clean;
/// use kamei::scrub::Identifiers;
/// let mut ids = Identifiers::new();
/// ids.add_person_name("架空^花子");
/// let c = clean("架空様 2024/4/2 来院 TEL 03-0000-0000", &ids, Some(-10)).unwrap();
/// assert_eq!(c.text, "***様 2024/3/23 来院 TEL ***");
/// ```
pub fn clean(text: &str, ids: &Identifiers, shift_days: Option<i64>) -> Option<Cleaned> {
    let mut replaced = 0;
    let mut current: String = match ids.scrub(text) {
        Some(s) => {
            replaced += s.matches(REDACTED).count().max(1);
            s.nfkc().collect()
        }
        None => text.nfkc().collect(),
    };
    // Every pattern needs a digit or an `@`: most text is done here.
    if !current.bytes().any(|b| b.is_ascii_digit() || b == b'@') {
        return (replaced > 0).then_some(Cleaned { text: current, replaced });
    }
    if EMAIL.is_match(&current) {
        current = apply(&current, Kind::Redact, &EMAIL, &mut replaced);
    }
    let how = shift_days.map_or(DateTreatment::Replace, DateTreatment::Shift);
    if let Some(t) = text_dates::treat(&current, how, Which::All) {
        current = t.text;
        replaced += t.changed;
    }
    for (kind, re) in PATTERNS.iter() {
        if re.is_match(&current) {
            current = apply(&current, *kind, re, &mut replaced);
        }
    }
    (replaced > 0).then_some(Cleaned { text: current, replaced })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Identifiers {
        let mut i = Identifiers::new();
        i.add_person_name("架空^花子");
        i.add_person_name("カクウ^ハナコ");
        i.add("1234567890");
        i.add_date("19850315");
        i
    }

    #[test]
    fn patterns_and_identifiers_are_replaced() {
        let cases = [
            ("カクウ ハナコ様より電話", "***様より電話"),
            ("ID 1234567890 確認", "ID *** 確認"),
            ("連絡先 03-0000-0000", "連絡先 ***"),
            ("携帯 09012345678", "携帯 ***"),
            ("+81 3 0000 0000", "***"),
            ("mail hanako@example.jp まで", "mail *** まで"),
            ("〒999-9999 東京都", "*** 東京都"),
            ("住所 999-9999", "住所 ***"),
            ("保険証 12345678", "保険証 ***"),
            ("3月15日に発症", "***に発症"),
            ("生年月日 1985年3月15日", "生年月日 ***"),
            ("生年月日 昭和60年3月15日", "生年月日 ***"),
            ("受診 令和6年2月1日", "受診 ***"),
            ("平成元年4月 手術", "*** 手術"),
            ("S60.3.15生", "***生"),
            ("携帯 090−1111−2222", "携帯 ***"),
            ("携帯 090ー1111ー2222", "携帯 ***"),
            ("携帯 090 1111 2222", "携帯 ***"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input, &ids(), None).map(|c| c.text).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn dates_shift_when_kept_and_go_when_not() {
        let i = Identifiers::new();
        assert_eq!(clean("2024/04/02 CT", &i, Some(-2)).unwrap().text, "2024/03/31 CT");
        assert_eq!(clean("20240402 CT", &i, Some(-2)).unwrap().text, "20240331 CT");
        assert_eq!(clean("2024年4月2日 CT", &i, Some(-2)).unwrap().text, "2024年3月31日 CT");
        assert_eq!(clean("2024/04/02 CT", &i, None).unwrap().text, "*** CT");
        assert_eq!(clean("2024-13-45 CT", &i, Some(-2)).unwrap().text, "*** CT");
    }

    #[test]
    fn clinical_numbers_are_left_alone() {
        let i = Identifiers::new();
        for t in ["WBC 6500 /uL", "PLT 23.4万", "Na 140 mEq/L", "0.000012345678 mg", "pH 7.40", "BP 120/80", "1/2錠"]
        {
            assert_eq!(clean(t, &i, None), None, "{t}");
        }
    }

    #[test]
    fn full_width_text_is_seen() {
        let c = clean("ＴＥＬ ０３－００００－００００", &Identifiers::new(), None).unwrap();
        assert_eq!(c.text, "TEL ***");
    }
}
