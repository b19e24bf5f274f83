//! Values in clinical exports: dates and date-times in the spellings hospital systems write,
//! birth-date generalisation, age bands and postal-code prefixes.
//!
//! Every function here is pure and works on one value. A value that is not what its column
//! claims (a date column holding `unknown`) yields `None`; the caller empties it and counts it,
//! because a value that cannot be parsed cannot be shown to be safe. Shifting keeps the
//! spelling: `2024/2/1 9:30` stays `YYYY/M/D H:MM`, `20240201` stays eight digits, so
//! downstream loaders that parse one form keep working.

use crate::dates;
use chrono::{Datelike, NaiveDate};
use unicode_normalization::UnicodeNormalization;

/// How a parsed date was spelled, so a shifted or generalised date can be spelled alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `YYYYMMDD`.
    Compact,
    /// `YYYY<sep>M<sep>D` with `-`, `/` or `.`; month and day zero-padded or not.
    Separated { sep: char, pad_month: bool, pad_day: bool },
    /// `YYYY年M月D日`.
    Kanji { pad_month: bool, pad_day: bool },
    /// A Japanese era date `昭和60年3月15日` (`gannen`: the first year written `元年`).
    EraKanji { gannen: bool, pad_month: bool, pad_day: bool },
    /// A Japanese era date by the era's letter, or by its name when `named`, and numbers:
    /// `S60.3.15`, `H01/04/01`, `S.60-3-15`, `令和6.2.1`.
    EraLetter { named: bool, dot: bool, sep: char, pad_year: bool, pad_month: bool, pad_day: bool },
}

/// Parse a Japanese era date at the start of `v`: `昭和60年3月15日` (`元年` for the first year),
/// `S60.3.15`, `S60/3/15`, `S60-3-15`, `S.60.3.15` (upper- or lower-case letter), `令和6.2.1`,
/// `令和元/5/1` (the name before numbers and separators). The year is
/// the era's first year plus the era year less one; a day the era did not have (`H36.1.2`,
/// `H31.5.1`, `R1.4.30`, `令和0年5月1日`: [`dates::Era::date`]) is no date.
fn parse_era(v: &str) -> Option<Parsed<'_>> {
    let first = v.chars().next()?;
    for era in &dates::ERAS {
        let (name, letter) = (era.name, era.letter);
        let in_era = |ey: i32, m: &str, d: &str| era.date(ey, m.parse().ok()?, d.parse().ok()?);
        if let Some(after) = v.strip_prefix(name) {
            let (ey, gannen, after_era) = match after.strip_prefix('元') {
                Some(a) => (1, true, a),
                None => {
                    let n = digits(after);
                    if !(1..=2).contains(&n) {
                        return None;
                    }
                    (after[..n].parse().ok()?, false, &after[n..])
                }
            };
            let Some(after_year) = after_era.strip_prefix('年') else {
                // `令和6.2.1`: the name, then numbers as after a letter.
                let sep = after_era.chars().next()?;
                if !matches!(sep, '.' | '/' | '-') {
                    return None;
                }
                let (month, day, rest) = month_and_day(&after_era[1..], sep)?;
                let date = in_era(ey, month, day)?;
                let pad_year = after.len() - after_era.len() == 2;
                let (pad_month, pad_day) = (month.len() == 2, day.len() == 2);
                let style = Style::EraLetter { named: true, dot: false, sep, pad_year, pad_month, pad_day };
                return valid_time(rest, false).then_some(Parsed { date, style, rest });
            };
            let (month, day, rest) = kanji_month_and_day(after_year)?;
            let date = in_era(ey, month, day)?;
            let style = Style::EraKanji { gannen, pad_month: month.len() == 2, pad_day: day.len() == 2 };
            return valid_time(rest, false).then_some(Parsed { date, style, rest });
        }
        if first.to_ascii_uppercase() == letter {
            let after = &v[1..];
            let dot = after.starts_with('.');
            let after = if dot { &after[1..] } else { after };
            let n = digits(after);
            let sep = after[n..].chars().next()?;
            if !(1..=2).contains(&n) || !matches!(sep, '.' | '/' | '-') {
                return None;
            }
            let (month, day, rest) = month_and_day(&after[n + 1..], sep)?;
            let date = in_era(after[..n].parse().ok()?, month, day)?;
            let (pad_month, pad_day) = (month.len() == 2, day.len() == 2);
            let style = Style::EraLetter { named: false, dot, sep, pad_year: n == 2, pad_month, pad_day };
            return valid_time(rest, false).then_some(Parsed { date, style, rest });
        }
    }
    None
}

/// A date's era name, letter and era year written as `style` writes it (`元` for the first
/// year when the input wrote it so).
fn era_parts(date: NaiveDate, gannen: bool, pad_year: bool) -> Option<(&'static str, char, String)> {
    let (name, letter, ey) = dates::japanese_era(date)?;
    let ey = match ey {
        1 if gannen => "元".to_string(),
        n if pad_year => format!("{n:02}"),
        n => n.to_string(),
    };
    Some((name, letter, ey))
}

/// A date found at the start of a value, with everything after it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed<'a> {
    date: NaiveDate,
    style: Style,
    /// The time (and zone) after the date, untouched by a shift.
    rest: &'a str,
}

/// The month and day after a date's `年` (`3月15日 09:30`): one or two digits before `月` and
/// before `日`, and what follows the day.
fn kanji_month_and_day(after_year: &str) -> Option<(&str, &str, &str)> {
    let m = digits(after_year);
    let after_month = after_year[m..].strip_prefix('月')?;
    let d = digits(after_month);
    let rest = after_month[d..].strip_prefix('日')?;
    if !(1..=2).contains(&m) || !(1..=2).contains(&d) {
        return None;
    }
    Some((&after_year[..m], &after_month[..d], rest))
}

/// The month and day after a date's year and its separator (`3/15 09:30` with `/`): one or two
/// digits each, the same separator between them, and what follows the day.
fn month_and_day(after_year: &str, sep: char) -> Option<(&str, &str, &str)> {
    let m = digits(after_year);
    let after_month = after_year[m..].strip_prefix(sep)?;
    let d = digits(after_month);
    if !(1..=2).contains(&m) || !(1..=2).contains(&d) {
        return None;
    }
    Some((&after_year[..m], &after_month[..d], &after_month[d..]))
}

fn digits(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// Parse the date at the start of `v` (already trimmed and width-normalised).
fn parse_date(v: &str) -> Option<Parsed<'_>> {
    if v.starts_with(|c: char| !c.is_ascii_digit()) {
        return parse_era(v);
    }
    let lead = digits(v);
    if lead >= 8 && !v[4..].starts_with(['-', '/', '.', '年']) {
        let date = ymd(&v[0..4], &v[4..6], &v[6..8])?;
        let rest = &v[8..];
        // Compact forms: the time follows directly (HL7/DICOM style) or after a separator.
        return valid_time(rest, true).then_some(Parsed { date, style: Style::Compact, rest });
    }
    if lead != 4 {
        return None;
    }
    let sep = v[4..].chars().next()?;
    if sep == '年' {
        let (month, day, rest) = kanji_month_and_day(&v[4 + '年'.len_utf8()..])?;
        let date = ymd(&v[0..4], month, day)?;
        let style = Style::Kanji { pad_month: month.len() == 2, pad_day: day.len() == 2 };
        return valid_time(rest, false).then_some(Parsed { date, style, rest });
    }
    if !matches!(sep, '-' | '/' | '.') {
        return None;
    }
    let (month, day, rest) = month_and_day(&v[5..], sep)?;
    let date = ymd(&v[0..4], month, day)?;
    let style = Style::Separated { sep, pad_month: month.len() == 2, pad_day: day.len() == 2 };
    valid_time(rest, false).then_some(Parsed { date, style, rest })
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Whether `rest` (what follows a date) is empty or a time of day with an optional fraction and
/// zone: ` 09:30`, `T09:30:15.123+09:00`, ` 9:30`, `Z`; `compact` also allows HL7-style
/// `0930`, `093015.123+0900` right after an eight-digit date. Anything else (text after a date)
/// makes the value "not a date", so nothing unexpected rides along in a date column.
fn valid_time(rest: &str, compact: bool) -> bool {
    if rest.is_empty() {
        return true;
    }
    let b = rest.as_bytes();
    if compact && b[0].is_ascii_digit() {
        let n = digits(rest);
        if !matches!(n, 2 | 4 | 6) {
            return false;
        }
        let mut tail = &rest[n..];
        if let Some(f) = tail.strip_prefix('.') {
            let k = digits(f);
            if k == 0 {
                return false;
            }
            tail = &f[k..];
        }
        return valid_zone(tail, false);
    }
    let Some(t) = rest.strip_prefix([' ', 'T']) else { return false };
    let t = t.trim_start_matches(' ');
    let h = digits(t);
    if !(1..=2).contains(&h) {
        return false;
    }
    let mut tail = &t[h..];
    let mut parts = 0;
    while let Some(x) = tail.strip_prefix(':') {
        let k = digits(x);
        if k != 2 || parts == 2 {
            return false;
        }
        parts += 1;
        tail = &x[k..];
    }
    if parts == 0 {
        return false;
    }
    if let Some(f) = tail.strip_prefix('.') {
        let k = digits(f);
        if k == 0 {
            return false;
        }
        tail = &f[k..];
    }
    valid_zone(tail.trim_start_matches(' '), true)
}

fn valid_zone(z: &str, colon: bool) -> bool {
    if z.is_empty() || z == "Z" {
        return true;
    }
    let Some(off) = z.strip_prefix(['+', '-']) else { return false };
    let b = off.as_bytes();
    match b.len() {
        4 => b.iter().all(u8::is_ascii_digit),
        5 => colon && b[2] == b':' && b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit),
        _ => false,
    }
}

/// `None` for an era date outside the eras (before 1868-01-25).
fn format_date(date: NaiveDate, style: Style) -> Option<String> {
    let (y, m, d) = (date.year(), date.month(), date.day());
    Some(match style {
        Style::Compact => format!("{y:04}{m:02}{d:02}"),
        Style::Separated { sep, pad_month, pad_day } => {
            format!("{y:04}{sep}{}{sep}{}", pad(m, pad_month), pad(d, pad_day))
        }
        Style::Kanji { pad_month, pad_day } => format!("{y:04}年{}月{}日", pad(m, pad_month), pad(d, pad_day)),
        Style::EraKanji { gannen, pad_month, pad_day } => {
            let (name, _, ey) = era_parts(date, gannen, false)?;
            format!("{name}{ey}年{}月{}日", pad(m, pad_month), pad(d, pad_day))
        }
        Style::EraLetter { named, dot, sep, pad_year, pad_month, pad_day } => {
            let (name, letter, ey) = era_parts(date, false, pad_year)?;
            let era = if named { name.to_string() } else { letter.to_string() };
            let dot = if dot { "." } else { "" };
            format!("{era}{dot}{ey}{sep}{}{sep}{}", pad(m, pad_month), pad(d, pad_day))
        }
    })
}

fn pad(n: u32, padded: bool) -> String {
    if padded { format!("{n:02}") } else { n.to_string() }
}

/// Trim and width-normalise a value (full-width digits and separators, common in Japanese
/// exports, become ASCII: `２０２４／０２／０１` → `2024/02/01`).
pub fn normalize(value: &str) -> String {
    let v = value.trim();
    if v.is_ascii() {
        return v.to_string(); // NFKC leaves ASCII as it is
    }
    v.nfkc().collect::<String>().trim().to_string()
}

/// Parse a date or date-time in a common spelling and return the date: `2024-02-01`,
/// `2024/2/1`, `2024.02.01`, `20240201`, `2024年2月1日`, each optionally followed by a time
/// (` 09:30`, `T09:30:15.123+09:00`, HL7-style `202402010930`). `None` if it is not one.
pub fn parse(value: &str) -> Option<NaiveDate> {
    parse_date(&normalize(value)).map(|p| p.date)
}

/// Shift a date or date-time (any form [`parse`] reads) by `days`, keeping its spelling and its
/// time part. `None` if it is not a date or the result leaves years 1–9999.
///
/// ```
/// use kamei::clinical::values::shift;
/// assert_eq!(shift("2024/03/01 09:30", -1).as_deref(), Some("2024/02/29 09:30"));
/// assert_eq!(shift("2024年3月1日", -1).as_deref(), Some("2024年2月29日"));
/// ```
pub fn shift(value: &str, days: i64) -> Option<String> {
    let v = normalize(value);
    let p = parse_date(&v)?;
    let shifted = dates::shift(p.date, days)?;
    Some(in_width_of(&format!("{}{}", format_date(shifted, p.style)?, p.rest), value))
}

/// `out` written in the width of `original`: an ASCII digit, separator or letter whose
/// full-width form `original` uses is written full width (`２０２４／０１／０２` shifted stays
/// full width; the value was read NFKC-normalised).
fn in_width_of(out: &str, original: &str) -> String {
    let wide = crate::text_dates::wide;
    let digits_wide = original.chars().any(|c| ('０'..='９').contains(&c));
    out.chars()
        .map(|c| match wide(c) {
            Some(w) if (c.is_ascii_digit() && digits_wide) || original.contains(w) => w,
            _ => c,
        })
        .collect()
}

/// How much of a birth date is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BirthPrecision {
    /// The year only (`1985`).
    Year,
    /// Year and month (`1985-03`, `1985/03`, `198503`, `1985年3月`), the form Japanese hospitals'
    /// anonymization notices use.
    #[default]
    YearMonth,
}

/// Generalise a birth date to its year or year-month, in the spelling of the input. A birth
/// date written already generalised (`1985`, `1985年`, `1985-03`, `198503`, `1985年3月`,
/// `昭和60年3月`, `S60.3`) is generalised alike: a year-month to its year or kept, a year kept as
/// the year. `None` if the value is none of these.
///
/// ```
/// use kamei::clinical::values::{generalize_birth_date, BirthPrecision};
/// assert_eq!(generalize_birth_date("1985/3/15", BirthPrecision::YearMonth).as_deref(), Some("1985/3"));
/// assert_eq!(generalize_birth_date("1985-03", BirthPrecision::YearMonth).as_deref(), Some("1985-03"));
/// assert_eq!(generalize_birth_date("1985-03", BirthPrecision::Year).as_deref(), Some("1985"));
/// assert_eq!(generalize_birth_date("1985", BirthPrecision::YearMonth).as_deref(), Some("1985"));
/// ```
pub fn generalize_birth_date(value: &str, precision: BirthPrecision) -> Option<String> {
    let v = normalize(value);
    let (date, style) = match parse_date(&v) {
        Some(p) => (p.date, Some(p.style)),
        None => parse_year_month(&v)?,
    };
    let (y, m) = (date.year(), date.month());
    let general = match (precision, style) {
        (BirthPrecision::Year, _) | (_, None) => format!("{y:04}"),
        (BirthPrecision::YearMonth, Some(Style::Compact)) => format!("{y:04}{m:02}"),
        (BirthPrecision::YearMonth, Some(Style::Separated { sep, pad_month, .. })) => {
            format!("{y:04}{sep}{}", pad(m, pad_month))
        }
        (BirthPrecision::YearMonth, Some(Style::Kanji { pad_month, .. })) => {
            format!("{y:04}年{}月", pad(m, pad_month))
        }
        (BirthPrecision::YearMonth, Some(Style::EraKanji { gannen, pad_month, .. })) => {
            let (name, _, ey) = era_parts(date, gannen, false)?;
            format!("{name}{ey}年{}月", pad(m, pad_month))
        }
        (BirthPrecision::YearMonth, Some(Style::EraLetter { named, dot, sep, pad_year, pad_month, .. })) => {
            let (name, letter, ey) = era_parts(date, false, pad_year)?;
            let era = if named { name.to_string() } else { letter.to_string() };
            format!("{era}{}{ey}{sep}{}", if dot { "." } else { "" }, pad(m, pad_month))
        }
    };
    Some(in_width_of(&general, value))
}

/// A date written without its day, as a birth date already generalised: a year (`1985`,
/// `1985年`, `昭和60年`) or a year and month (`1985-03`, `1985/3`, `1985.03`, `198503`,
/// `1985年3月`, `昭和60年3月`, `S60.3`, `S.60/03`). The last day of that month (of December for a
/// year alone, so an era year-month is read in its era) and the style that writes a year and
/// month alike, `None` for a year alone.
fn parse_year_month(v: &str) -> Option<(NaiveDate, Option<Style>)> {
    let last_day = |y: i32, m: u32| {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
    };
    let month = |s: &str| s.parse::<u32>().ok().filter(|m| (1..=12).contains(m));
    // A month of one or two digits, then `suffix` and nothing else (`3月` with suffix `月`).
    let month_then = |s: &str, suffix: &str| -> Option<(u32, bool)> {
        let n = digits(s);
        if !(1..=2).contains(&n) || &s[n..] != suffix {
            return None;
        }
        Some((month(&s[..n])?, n == 2))
    };
    if v.starts_with(|c: char| c.is_ascii_digit()) {
        let n = digits(v);
        let y: i32 = v.get(..4)?.parse().ok().filter(|&y| y >= 1)?;
        match (n, &v[n..]) {
            (6, "") => return Some((last_day(y, month(&v[4..6])?)?, Some(Style::Compact))),
            (4, "" | "年") => return Some((last_day(y, 12)?, None)),
            (4, rest) => {
                if let Some(after) = rest.strip_prefix('年') {
                    let (m, pad_month) = month_then(after, "月")?;
                    return Some((last_day(y, m)?, Some(Style::Kanji { pad_month, pad_day: false })));
                }
                let sep = rest.chars().next()?;
                if !matches!(sep, '-' | '/' | '.') {
                    return None;
                }
                let (m, pad_month) = month_then(&rest[1..], "")?;
                return Some((last_day(y, m)?, Some(Style::Separated { sep, pad_month, pad_day: false })));
            }
            _ => return None,
        }
    }
    let first = v.chars().next()?;
    // The last day of the period within the era: `S64.1` is a month of Showa though the era
    // ended on its 7th day.
    let in_era = |era: &dates::Era, ey: i32, month: Option<u32>, date: NaiveDate| {
        era.holds_period(ey, month).then(|| era.last_day().map_or(date, |last| date.min(last)))
    };
    for era in &dates::ERAS {
        let (name, letter, y0) = (era.name, era.letter, era.gregorian_year(1));
        if let Some(after) = v.strip_prefix(name) {
            let (ey, gannen, rest) = match after.strip_prefix('元') {
                Some(a) => (1, true, a),
                None => {
                    let n = digits(after);
                    if !(1..=2).contains(&n) {
                        return None;
                    }
                    (after[..n].parse::<i32>().ok()?, false, &after[n..])
                }
            };
            let rest = rest.strip_prefix('年')?;
            let y = y0 + ey - 1;
            let (date, month, style) = if rest.is_empty() {
                (last_day(y, 12)?, None, None)
            } else {
                let (m, pad_month) = month_then(rest, "月")?;
                (last_day(y, m)?, Some(m), Some(Style::EraKanji { gannen, pad_month, pad_day: false }))
            };
            return in_era(era, ey, month, date).map(|date| (date, style));
        }
        if first.to_ascii_uppercase() == letter {
            let after = &v[1..];
            let dot = after.starts_with('.');
            let after = if dot { &after[1..] } else { after };
            let n = digits(after);
            if (1..=2).contains(&n) && n == after.len() {
                // `S60`: an era year alone.
                let ey: i32 = after.parse().ok()?;
                let date = last_day(y0 + ey - 1, 12)?;
                return in_era(era, ey, None, date).map(|date| (date, None));
            }
            let sep = after[n..].chars().next()?;
            if !(1..=2).contains(&n) || !matches!(sep, '.' | '/' | '-') {
                return None;
            }
            let ey: i32 = after[..n].parse().ok()?;
            let (m, pad_month) = month_then(&after[n + 1..], "")?;
            let date = last_day(y0 + ey - 1, m)?;
            let style = Style::EraLetter { named: false, dot, sep, pad_year: n == 2, pad_month, pad_day: false };
            return in_era(era, ey, Some(m), date).map(|date| (date, Some(style)));
        }
    }
    None
}

/// The oldest age kept as is; older ages are grouped (HIPAA Safe Harbor and OHDSI practice).
pub const MAX_EXACT_AGE: u32 = 89;

/// The label of the top age group.
pub const TOP_AGE_GROUP: &str = "90+";

/// Group an age in years: ages over [`MAX_EXACT_AGE`] become [`TOP_AGE_GROUP`]; with `band`
/// above 1, younger ages become `lo-hi` bands (`band = 5`: `50-54`). Accepts `54`, `54歳`,
/// `54Y`, `054Y` (DICOM AS), `54.5`; ages given in months, weeks or days (`6M`, `3W`, `10D`,
/// `6ヶ月`) are under one year and become `0` (or the first band). `None` if it is not an age.
pub fn age_group(value: &str, band: u32) -> Option<String> {
    let v = normalize(value);
    let n = digits(&v);
    if n == 0 || n > 3 {
        return None;
    }
    let number: u32 = v[..n].parse().ok()?;
    let mut unit = &v[n..];
    if let Some(f) = unit.strip_prefix('.') {
        let k = digits(f);
        if k == 0 {
            return None;
        }
        unit = &f[k..];
    }
    let years = match unit.trim() {
        "" | "Y" | "y" | "歳" | "才" => number,
        "M" | "m" | "W" | "w" | "D" | "d" | "ヶ月" | "か月" | "カ月" | "ヵ月" | "週" | "日" => 0,
        _ => return None,
    };
    if years > MAX_EXACT_AGE {
        return Some(TOP_AGE_GROUP.to_string());
    }
    if band <= 1 {
        return Some(years.to_string());
    }
    let lo = years / band * band;
    let hi = (lo + band - 1).min(MAX_EXACT_AGE);
    Some(format!("{lo}-{hi}"))
}

/// The first three digits of a Japanese postal code (`422-8033`, `4228033`, `〒422-8033`,
/// full-width digits), which name a wide area rather than a street. `None` if the value is not
/// a 7-digit code (or already a 3-digit prefix, which is returned as is).
pub fn postal_prefix(value: &str) -> Option<String> {
    let v = normalize(value);
    let v = v.trim_start_matches('〒').trim();
    let compact: String = v.chars().filter(|&c| c != '-' && c != ' ').collect();
    let ok_shape = compact.len() == 7 || compact.len() == 3;
    let hyphen_ok = !v.contains('-') || (v.len() == 8 && v.as_bytes()[3] == b'-');
    if !ok_shape || !hyphen_ok || !compact.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(compact[..3].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_width_date_is_shifted_and_generalised_in_full_width() {
        assert_eq!(shift("２０２４年１月２日", -10).as_deref(), Some("２０２３年１２月２３日"));
        assert_eq!(shift("２０２４／０１／０２", 1).as_deref(), Some("２０２４／０１／０３"));
        assert_eq!(shift("2024/01/02", 1).as_deref(), Some("2024/01/03"), "ASCII stays ASCII");
        let general = generalize_birth_date("１９８５－０３－１５", BirthPrecision::YearMonth);
        assert_eq!(general.as_deref(), Some("１９８５－０３"));
    }

    #[test]
    fn era_dates_are_read_generalised_and_shifted_in_their_spelling() {
        // rv7 suspect: a date column written in the era calendar is a date, not "not a date".
        assert_eq!(parse("S60.3.15"), NaiveDate::from_ymd_opt(1985, 3, 15));
        assert_eq!(parse("昭和60年3月15日"), NaiveDate::from_ymd_opt(1985, 3, 15));
        assert_eq!(parse("令和6年2月1日"), NaiveDate::from_ymd_opt(2024, 2, 1));
        assert_eq!(parse("平成元年4月1日"), NaiveDate::from_ymd_opt(1989, 4, 1));
        assert_eq!(parse("Ｈ０１．０４．０１"), NaiveDate::from_ymd_opt(1989, 4, 1));
        assert_eq!(parse("s.60/3/15"), NaiveDate::from_ymd_opt(1985, 3, 15));
        for not_a_date in ["昭和1年1月1日", "S60.13.15", "S60.3.15x", "X60.3.15", "昭和60年3月", "令和0年5月1日"]
        {
            assert_eq!(parse(not_a_date), None, "{not_a_date}");
        }
        let ym = BirthPrecision::YearMonth;
        assert_eq!(generalize_birth_date("S60.3.15", ym).as_deref(), Some("S60.3"));
        assert_eq!(generalize_birth_date("昭和60年03月15日", ym).as_deref(), Some("昭和60年03月"));
        assert_eq!(generalize_birth_date("昭和60年3月15日", BirthPrecision::Year).as_deref(), Some("1985"));
        assert_eq!(shift("令和6年2月1日", -10).as_deref(), Some("令和6年1月22日"));
        assert_eq!(shift("令和元年5月3日", -10).as_deref(), Some("平成31年4月23日"), "across eras");
        assert_eq!(shift("平成31年4月23日", 10).as_deref(), Some("令和1年5月03日"));
        assert_eq!(shift("H01.04.01 09:30", 1).as_deref(), Some("H01.04.02 09:30"));
        assert_eq!(shift("S.60-3-15", 1).as_deref(), Some("S.60-3-16"));
    }

    #[test]
    fn an_era_year_or_day_the_era_did_not_have_is_no_date() {
        // rv35: `H36.01.02` (Heisei ended in its 31st year) was read as 2024-01-02 and written
        // back as a plausible `R05...`; it is a value that is not a date, emptied and counted.
        for not_a_date in [
            "H36.01.02",
            "平成36年1月2日",
            "H31.05.01",
            "R01.04.30",
            "令和元年4月30日",
            "S65.1.1",
            "S64.1.8",
            "T16.1.1",
            "T15.12.25",
            "M46.1.1",
            "M1.1.24",
            "R0.5.1",
            "令和0/5/1",
        ] {
            assert_eq!(parse(not_a_date), None, "{not_a_date}");
            assert_eq!(shift(not_a_date, -10), None, "{not_a_date}");
        }
        // The first and last days of each era are dates.
        assert_eq!(parse("H31.04.30"), NaiveDate::from_ymd_opt(2019, 4, 30));
        assert_eq!(parse("R01.05.01"), NaiveDate::from_ymd_opt(2019, 5, 1));
        assert_eq!(parse("S64.1.7"), NaiveDate::from_ymd_opt(1989, 1, 7));
        assert_eq!(parse("T15.12.24"), NaiveDate::from_ymd_opt(1926, 12, 24));
        assert_eq!(parse("M45.7.29"), NaiveDate::from_ymd_opt(1912, 7, 29));
        // A generalised birth date: a year or month the era had a day of.
        let ym = BirthPrecision::YearMonth;
        assert_eq!(generalize_birth_date("S64.1", ym).as_deref(), Some("S64.1"), "Showa's last month");
        assert_eq!(generalize_birth_date("S64", BirthPrecision::Year).as_deref(), Some("1989"));
        for not_a_period in ["H36.1", "H31.5", "平成36年", "S65", "令和0年5月"] {
            assert_eq!(generalize_birth_date(not_a_period, ym), None, "{not_a_period}");
        }
    }

    #[test]
    fn rv22_suspect_16_an_era_name_before_numbers_is_a_date_and_an_era_year_alone_a_birth_year() {
        assert_eq!(parse("令和6.2.1"), NaiveDate::from_ymd_opt(2024, 2, 1));
        assert_eq!(parse("平成元/4/1"), NaiveDate::from_ymd_opt(1989, 4, 1));
        assert_eq!(parse("令和６．２．１"), NaiveDate::from_ymd_opt(2024, 2, 1));
        assert_eq!(parse("令和6.13.1"), None);
        assert_eq!(shift("令和6.2.1", -10).as_deref(), Some("令和6.1.22"));
        assert_eq!(shift("令和01/05/03", -10).as_deref(), Some("平成31/04/23"), "across eras");
        let ym = BirthPrecision::YearMonth;
        assert_eq!(generalize_birth_date("昭和60.3.15", ym).as_deref(), Some("昭和60.3"));
        assert_eq!(generalize_birth_date("S60", ym).as_deref(), Some("1985"));
        assert_eq!(generalize_birth_date("H01", BirthPrecision::Year).as_deref(), Some("1989"));
        assert_eq!(generalize_birth_date("S0", ym), None);
    }

    #[test]
    fn common_date_forms_shift_and_keep_their_spelling() {
        let cases = [
            ("2024-03-01", "2024-02-29"),
            ("2024/03/01", "2024/02/29"),
            ("2024.03.01", "2024.02.29"),
            ("20240301", "20240229"),
            ("2024/3/1", "2024/2/29"),
            ("2024-3-01", "2024-2-29"),
            ("2024年3月1日", "2024年2月29日"),
            ("2024年03月01日", "2024年02月29日"),
            ("2024-03-01 09:30", "2024-02-29 09:30"),
            ("2024-03-01T09:30:15", "2024-02-29T09:30:15"),
            ("2024-03-01T09:30:15.123+09:00", "2024-02-29T09:30:15.123+09:00"),
            ("2024/03/01 9:30", "2024/02/29 9:30"),
            ("2024-03-01 09:30:00Z", "2024-02-29 09:30:00Z"),
            ("202403010930", "202402290930"),
            ("20240301093015.123+0900", "20240229093015.123+0900"),
            ("20240301 09:30", "20240229 09:30"),
            ("２０２４／０３／０１", "２０２４／０２／２９"),
            (" 2024-03-01 ", "2024-02-29"),
            ("2024年3月1日 10:00", "2024年2月29日 10:00"),
        ];
        for (input, want) in cases {
            assert_eq!(shift(input, -1).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn what_is_not_a_date_is_refused() {
        for v in [
            "",
            "unknown",
            "2024",
            "202403",
            "2024-13-01",
            "2024-02-30",
            "2024/02/01 ward 3",
            "2024-02-01x",
            "01/02/2024",
            "2024-02-01 25",
            "2024-02-01 09:30:15:16",
            "2024-0201",
            "20240301 abc",
            "202403010",
            "2024年3月",
        ] {
            assert_eq!(shift(v, -1), None, "{v:?}");
        }
    }

    #[test]
    fn shift_keeps_intervals_across_forms() {
        let a = parse(&shift("2024-01-10", -100).unwrap()).unwrap();
        let b = parse(&shift("2024/3/1 10:00", -100).unwrap()).unwrap();
        assert_eq!((b - a).num_days(), 51);
    }

    #[test]
    fn birth_dates_generalise_in_their_own_spelling() {
        use BirthPrecision::*;
        let cases = [
            ("1985-03-15", YearMonth, "1985-03"),
            ("1985/3/15", YearMonth, "1985/3"),
            ("19850315", YearMonth, "198503"),
            ("1985年3月15日", YearMonth, "1985年3月"),
            ("1985-03-15", Year, "1985"),
            ("19850315", Year, "1985"),
        ];
        for (v, p, want) in cases {
            assert_eq!(generalize_birth_date(v, p).as_deref(), Some(want), "{v}");
        }
        assert_eq!(generalize_birth_date("March 1985", Year), None);
    }

    #[test]
    fn a_birth_date_already_generalised_is_generalised_alike() {
        use BirthPrecision::*;
        let cases = [
            ("1985", YearMonth, "1985"),
            ("1985", Year, "1985"),
            ("1985年", YearMonth, "1985"),
            ("1985-03", YearMonth, "1985-03"),
            ("1985-03", Year, "1985"),
            ("1985/3", YearMonth, "1985/3"),
            ("1985.03", YearMonth, "1985.03"),
            ("198503", YearMonth, "198503"),
            ("198503", Year, "1985"),
            ("1985年3月", YearMonth, "1985年3月"),
            ("昭和60年3月", YearMonth, "昭和60年3月"),
            ("昭和60年3月", Year, "1985"),
            ("昭和60年", YearMonth, "1985"),
            ("平成元年2月", YearMonth, "平成元年2月"),
            ("S60.3", YearMonth, "S60.3"),
            ("S60.3", Year, "1985"),
            ("１９８５－０３", YearMonth, "１９８５－０３"),
        ];
        for (v, p, want) in cases {
            assert_eq!(generalize_birth_date(v, p).as_deref(), Some(want), "{v} {p:?}");
        }
        for v in ["198513", "1985-13", "85", "19850", "1985-3-", "昭和1年1月", "S600", "unknown", "60/3/15", "850315"]
        {
            assert_eq!(generalize_birth_date(v, YearMonth), None, "{v}");
        }
    }

    #[test]
    fn ages_over_89_are_grouped_and_bands_work() {
        let cases = [
            ("54", 1, Some("54")),
            ("54歳", 1, Some("54")),
            ("054Y", 1, Some("54")),
            ("54.5", 1, Some("54")),
            ("89", 1, Some("89")),
            ("90", 1, Some("90+")),
            ("104", 1, Some("90+")),
            ("６ヶ月", 1, Some("0")),
            ("3W", 1, Some("0")),
            ("54", 5, Some("50-54")),
            ("87", 5, Some("85-89")),
            ("92", 5, Some("90+")),
            ("0", 10, Some("0-9")),
            ("", 1, None),
            ("about 50", 1, None),
            ("1000", 1, None),
            ("54 years", 1, None),
        ];
        for (v, band, want) in cases {
            assert_eq!(age_group(v, band).as_deref(), want, "{v} band {band}");
        }
    }

    #[test]
    fn postal_codes_keep_three_digits() {
        let cases = [
            ("422-8033", Some("422")),
            ("4228033", Some("422")),
            ("〒422-8033", Some("422")),
            ("４２２－８０３３", Some("422")),
            ("422", Some("422")),
            ("42-28033", None),
            ("422-803", None),
            ("ABC-DEFG", None),
            ("", None),
        ];
        for (v, want) in cases {
            assert_eq!(postal_prefix(v).as_deref(), want, "{v}");
        }
    }
}
