//! Dates: parse and shift the DICOM date forms (DA, DT) by a whole number of days.
//!
//! Shifting keeps the value's form and precision: `20240201` stays eight digits, `2024.02.01`
//! (the ACR-NEMA form some old files carry) keeps its dots, a DT keeps its time part and offset,
//! a DT of year or year-month precision stays at that precision, a range has both ends shifted.
//! A value that is not a date yields `None`, and the caller decides what replaces it (kamei
//! gives it a dummy or empties it: an unparseable date cannot be shown to be safe).

use chrono::{Datelike, Duration, NaiveDate};

/// Shift a DA value (`YYYYMMDD` or `YYYY.MM.DD`, padding trimmed) by `days`. A range
/// (`A-B`, `-B`, `A-`, as a query writes it and some RIS copy into stored values) has each end
/// shifted, so no real date goes out beside a shifted one.
pub fn shift_da(value: &str, days: i64) -> Option<String> {
    let v = value.trim_matches(|c| c == ' ' || c == '\0');
    shift_one_da(v, days).or_else(|| shift_range(v, days, shift_one_da))
}

/// Shift one DA value (no range).
fn shift_one_da(v: &str, days: i64) -> Option<String> {
    if v.len() == 10 && v.as_bytes()[4] == b'.' && v.as_bytes()[7] == b'.' {
        let d = parse_ymd(&v[0..4], &v[5..7], &v[8..10])?;
        let s = shift(d, days)?;
        return Some(format!("{:04}.{:02}.{:02}", s.year(), s.month(), s.day()));
    }
    if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d = parse_ymd(&v[0..4], &v[4..6], &v[6..8])?;
    Some(format_da(shift(d, days)?))
}

/// Shift a DT value (`YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX]`) by `days`, keeping everything
/// after the date and the original precision. A range (`A-B`, `-B`, `A-`) has each end shifted.
/// Anything else, such as a DT with text or a second date after it (`20200301X20200302`), is
/// not a DT: `None`, never a value whose leading date alone was shifted.
pub fn shift_dt(value: &str, days: i64) -> Option<String> {
    let v = value.trim_matches(|c| c == ' ' || c == '\0');
    shift_one_dt(v, days).or_else(|| shift_range(v, days, shift_one_dt))
}

/// Shift one DT value (no range); `None` unless the whole value follows the DT grammar.
///
/// A DT of reduced precision names a period, not a day: a year (`2021`) or a month (`202103`).
/// It is shifted as the middle of that period ([`middle_of_period`]: 1 July, the 15th) and then
/// cut back to its precision, so a shift of a day moves `2021` nowhere and a shift of 200 days
/// moves it a year back. Read as its first day instead, any shift into the past moved it to the
/// year (month) before, which says the sign of the offset and, beside the full dates the same
/// offset moved, bounds it. A year-month written in text is shifted the same way
/// ([`crate::text_dates`]).
fn shift_one_dt(v: &str, days: i64) -> Option<String> {
    let date_len = dt_date_len(v)?;
    let y: i32 = v[0..4].parse().ok()?;
    let date = match date_len {
        4 => middle_of_period(y, None)?,
        6 => middle_of_period(y, Some(v[4..6].parse().ok()?))?,
        _ => parse_ymd(&v[0..4], &v[4..6], &v[6..8])?,
    };
    let shifted = shift(date, days)?;
    let full = format_da(shifted);
    Some(format!("{}{}", &full[..date_len], &v[date_len..]))
}

/// The number of date digits (4, 6 or 8) of a value that is one DT as PS3.5 6.2 defines it:
/// date and time digits in whole components (4 to 14 digits, a valid month, day, hour, minute and
/// second), a fraction of 1–6 digits only after the seconds, and an optional UTC offset
/// `+HHMM`/`-HHMM`. `None` for anything else.
fn dt_date_len(v: &str) -> Option<usize> {
    let (body, offset) = match v.rfind(['+', '-']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    if let Some(o) = offset {
        let ok = o.len() == 4 && o.bytes().all(|b| b.is_ascii_digit()) && &o[..2] <= "14" && &o[2..] <= "59";
        if !ok {
            return None;
        }
    }
    let (digits, fraction) = match body.split_once('.') {
        Some((d, f)) => (d, Some(f)),
        None => (body, None),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 4 | 6 | 8 | 10 | 12 | 14) {
        return None;
    }
    if let Some(f) = fraction {
        if digits.len() != 14 || !(1..=6).contains(&f.len()) || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let time_ok =
        [(8, "23"), (10, "59"), (12, "60")].iter().all(|&(at, max)| digits.get(at..at + 2).is_none_or(|t| t <= max));
    time_ok.then_some(digits.len().min(8))
}

/// Shift a range `A-B` (either end may be missing, not both) whose ends `one` shifts; the first
/// `-` that splits the value into two shiftable ends is the range's (a DT end may carry a
/// `-HHMM` offset of its own).
fn shift_range(v: &str, days: i64, one: fn(&str, i64) -> Option<String>) -> Option<String> {
    let end = |s: &str| if s.is_empty() { Some(String::new()) } else { one(s, days) };
    v.match_indices('-').find_map(|(i, _)| {
        let (a, b) = (&v[..i], &v[i + 1..]);
        if a.is_empty() && b.is_empty() {
            return None;
        }
        Some(format!("{}-{}", end(a)?, end(b)?))
    })
}

/// Shift a digits-only timestamp `YYYYMMDD[HHMMSS[fff]]` (the SS-MIX2 file name's, 17 digits)
/// by `days`, keeping the digits after the date; `None` for anything else.
pub fn shift_digit_stamp(value: &str, days: i64) -> Option<String> {
    if !(8..=17).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{}{}", shift_one_da(&value[..8], days)?, &value[8..]))
}

/// The spellings people write a date in, from a DA value (`YYYYMMDD`): `19850315`,
/// `1985-03-15`, `1985/03/15`, `1985.03.15`, `1985/3/15`, `1985-3-15`, `1985年3月15日`,
/// `1985年03月15日`, the day-first and month-first forms `15.03.1985`, `15/03/1985`,
/// `03/15/1985`, `3/15/1985`, the two-digit-year forms `85/03/15`, `85/3/15`, `85.03.15`, `85-03-15`,
/// `85.3.15`, `85-3-15`, `85年3月15日`, and the Japanese era forms `昭和60年3月15日`,
/// `昭和60年03月15日`, `S60.3.15`, `S60/3/15`, `S60.03.15`, `S.60.3.15`, `S60年3月15日`, and the
/// era year alone `60/3/15`, `60.3.15`, `60年3月15日` (from the era's
/// tenth year; year 1 also as `元年`), and the English month-name forms of
/// [`month_name_spellings`] (`15-MAR-1985`, `Mar 15, 1985`...). Empty for a value that is not
/// eight digits or not a date. Used to find a birth date in free text (cleaning, and
/// `kamei verify`), which compare without case.
pub fn common_spellings(da: &str) -> Vec<String> {
    let d = da.trim_matches(|c| c == ' ' || c == '\0');
    if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let (y, m, dd) = (&d[0..4], &d[4..6], &d[6..8]);
    let (mt, dt) = (m.trim_start_matches('0'), dd.trim_start_matches('0'));
    let yy = &y[2..];
    let mut out = vec![
        d.to_string(),
        format!("{y}-{m}-{dd}"),
        format!("{y}/{m}/{dd}"),
        format!("{y}.{m}.{dd}"),
        format!("{y}.{mt}.{dt}"),
        format!("{y}/{mt}/{dt}"),
        format!("{y}-{mt}-{dt}"),
        format!("{y}年{mt}月{dt}日"),
        format!("{y}年{m}月{dd}日"),
        format!("{yy}/{m}/{dd}"),
        format!("{yy}/{mt}/{dt}"),
        format!("{yy}.{m}.{dd}"),
        format!("{yy}-{m}-{dd}"),
        format!("{yy}.{mt}.{dt}"),
        format!("{yy}-{mt}-{dt}"),
        format!("{yy}年{mt}月{dt}日"),
        format!("{dd}.{m}.{y}"),
        format!("{dt}.{mt}.{y}"),
        format!("{dd}/{m}/{y}"),
        format!("{dt}/{mt}/{y}"),
        format!("{dd}-{m}-{y}"),
        format!("{m}/{dd}/{y}"),
        format!("{mt}/{dt}/{y}"),
        format!("{y} {m} {dd}"),
        format!("{y} {mt} {dt}"),
        format!("{dt}.{mt}.{yy}"),
        format!("{dd}.{m}.{yy}"),
        format!("{dd}/{m}/{yy}"),
        format!("{dt}/{mt}/{yy}"),
    ];
    if let Some((name, letter, year)) = parse_ymd(y, m, dd).and_then(japanese_era) {
        let mut years = vec![year.to_string()];
        if year == 1 {
            years.push("元".to_string());
        }
        for ey in years {
            out.push(format!("{name}{ey}年{mt}月{dt}日"));
            out.push(format!("{name}{ey}年{m}月{dd}日"));
        }
        out.push(format!("{letter}{year}.{mt}.{dt}"));
        out.push(format!("{letter}{year}/{mt}/{dt}"));
        out.push(format!("{letter}{year}.{m}.{dd}"));
        out.push(format!("{letter}{year}-{mt}-{dt}"));
        out.push(format!("{letter}{year}-{m}-{dd}"));
        out.push(format!("{letter}.{year}.{mt}.{dt}"));
        out.push(format!("{letter}.{year}.{m}.{dd}"));
        out.push(format!("{letter}{year}年{mt}月{dt}日"));
        // The era year without its letter, as forms ask for it (`生年月日 昭和 60/3/15`);
        // not for years 1–9, whose `6/3/15` is too short to mean a birth date.
        if year >= 10 {
            out.push(format!("{year}/{mt}/{dt}"));
            out.push(format!("{year}.{mt}.{dt}"));
            out.push(format!("{year}年{mt}月{dt}日"));
        }
    }
    out.extend(japanese_form_spellings(y, m, dd));
    out.extend(month_name_spellings(y, m, dd));
    out.dedup();
    out
}

/// More spellings of a date that Japanese RIS, HIS and forms print (`y`, `m`, `dd`: the digits
/// of a DA value): an era date with its month and day zero-padded (`S35/03/15`, `S35.03.15`,
/// `昭和35年03月15日`) and its era year too (`S05/03/15`, `H05.03.15`); the era year alone
/// zero-padded (`35/03/15`, `35.03.15`, from the era's tenth year as unpadded); kanji numerals
/// (`昭和三十五年三月十五日`, `一九六〇年三月十五日`); and the official double form with the
/// era year in brackets (`1960(昭和35)年3月15日`, `1960年(昭和35年)3月15日`,
/// `昭和35(1960)年3月15日`). Compared after NFKD, so full-width digits and brackets match too.
fn japanese_form_spellings(y: &str, m: &str, dd: &str) -> Vec<String> {
    let (mt, dt) = (m.trim_start_matches('0'), dd.trim_start_matches('0'));
    let Some((name, letter, year)) = parse_ymd(y, m, dd).and_then(japanese_era) else {
        return Vec::new();
    };
    let (month, day) = (mt.parse::<u32>().unwrap_or(0), dt.parse::<u32>().unwrap_or(0));
    let mut out = Vec::new();
    for ey in [year.to_string(), format!("{year:02}")] {
        for sep in ['/', '.', '-'] {
            out.push(format!("{letter}{ey}{sep}{m}{sep}{dd}"));
            out.push(format!("{letter}{ey}{sep}{mt}{sep}{dt}"));
        }
        out.push(format!("{letter}.{ey}.{m}.{dd}"));
        out.push(format!("{name}{ey}年{m}月{dd}日"));
    }
    if year >= 10 {
        out.push(format!("{year}/{m}/{dd}"));
        out.push(format!("{year}.{m}.{dd}"));
        out.push(format!("{year}年{m}月{dd}日"));
    }
    let era_year = if year == 1 { "元".to_string() } else { kanji_number(year.unsigned_abs()) };
    let (km, kd) = (kanji_number(month), kanji_number(day));
    out.push(format!("{name}{era_year}年{km}月{kd}日"));
    let digits: String = y.chars().filter_map(|c| c.to_digit(10)).map(|d| KANJI_DIGITS[d as usize]).collect();
    out.push(format!("{digits}年{km}月{kd}日"));
    for (mm, ddd) in [(mt, dt), (m, dd)] {
        out.push(format!("{y}({name}{year})年{mm}月{ddd}日"));
        out.push(format!("{y}年({name}{year}年){mm}月{ddd}日"));
        out.push(format!("{name}{year}({y})年{mm}月{ddd}日"));
        out.push(format!("{name}{year}年({y}年){mm}月{ddd}日"));
    }
    out
}

/// The kanji numerals of the digits 0–9 (`〇` for zero, as years are written digit by digit).
const KANJI_DIGITS: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// A number below 100 in kanji numerals as dates write it: `三`, `十五`, `三十五`.
fn kanji_number(n: u32) -> String {
    let (tens, ones) = (n / 10 % 10, n % 10);
    let mut out = String::new();
    if tens > 1 {
        out.push(KANJI_DIGITS[tens as usize]);
    }
    if tens > 0 {
        out.push('十');
    }
    if ones > 0 || n == 0 {
        out.push(KANJI_DIGITS[ones as usize]);
    }
    out
}

/// English month names as hospital systems print them: the three-letter abbreviation, the full
/// name, and `Sept`.
const MONTHS: [&[&str]; 12] = [
    &["Jan", "January"],
    &["Feb", "February"],
    &["Mar", "March"],
    &["Apr", "April"],
    &["May"],
    &["Jun", "June"],
    &["Jul", "July"],
    &["Aug", "August"],
    &["Sep", "September", "Sept"],
    &["Oct", "October"],
    &["Nov", "November"],
    &["Dec", "December"],
];

/// The English month-name spellings of a date (`y`, `m`, `dd`: the digits of a DA value), as
/// RIS/HIS exports and letters write it: day first (`15-MAR-1985`, the Oracle `DD-MON-YYYY` and
/// `DD-MON-YY` forms, `15MAR1985`, `15 March 1985`, `15/Mar/1985`), month first
/// (`Mar 15, 1985`, `March 15 1985`, `Mar. 15, 1985`) and year first (`1985-Mar-15`,
/// `1985 Mar 15`, `1985/Mar/15`); the day with and without its leading zero, and as an ordinal
/// (`15th March 1985`, `15th of March 1985`, `March 15th, 1985`). Empty for a month
/// that is not 01–12. Callers compare without case (`15-mar-1985` is the same spelling).
pub fn month_name_spellings(y: &str, m: &str, dd: &str) -> Vec<String> {
    let Some(names) = m.parse::<usize>().ok().and_then(|i| i.checked_sub(1)).and_then(|i| MONTHS.get(i)) else {
        return Vec::new();
    };
    let yy = y.get(2..).unwrap_or(y);
    let dt = dd.trim_start_matches('0');
    let days: &[&str] = if dt == dd { &[dd] } else { &[dd, dt] };
    let mut out = Vec::new();
    for (i, mon) in names.iter().enumerate() {
        for d in days {
            out.extend([
                format!("{d}-{mon}-{y}"),
                format!("{d} {mon} {y}"),
                format!("{d}/{mon}/{y}"),
                format!("{d}{mon}{y}"),
                format!("{d}-{mon}-{yy}"),
                format!("{mon} {d}, {y}"),
                format!("{mon} {d} {y}"),
                format!("{y}-{mon}-{d}"),
                format!("{y} {mon} {d}"),
                format!("{y}/{mon}/{d}"),
            ]);
            if i == 0 {
                out.extend([format!("{d}{mon}{yy}"), format!("{mon}. {d}, {y}")]);
            }
        }
        // The day as an ordinal, as letters write it: `15th March 1985`, `March 15th, 1985`.
        let nth = format!("{dt}{}", ordinal_suffix(dt));
        out.extend([
            format!("{nth} {mon} {y}"),
            format!("{nth} of {mon} {y}"),
            format!("{mon} {nth}, {y}"),
            format!("{mon} {nth} {y}"),
        ]);
    }
    out
}

/// The English ordinal suffix of a day number (`1st`, `2nd`, `3rd`, `11th`, `22nd`).
pub fn ordinal_suffix(day: &str) -> &'static str {
    let n: u32 = day.parse().unwrap_or(0);
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// The six-digit spelling `YYMMDD` of a DA value (`850315`), which forms and file names use.
/// Kept apart from [`common_spellings`]: six digits also stand for other things (a time, a
/// decimal's digits), so it is looked for only where the date's own patient is (Clean, and
/// `kamei verify` in the output made from that patient's input).
pub fn short_spelling(da: &str) -> Option<String> {
    let d = da.trim_matches(|c| c == ' ' || c == '\0');
    (d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit())).then(|| d[2..].to_string())
}

/// A Japanese era (gengō): how dates name it and the days it lasted. An era year that the era
/// never reached (`H36`: Heisei ended in its 31st year) or a day outside the era (`H31.05.01`,
/// `R01.04.30`) is no date: read as one, a typo would become a plausible date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Era {
    /// Its name (`令和`).
    pub name: &'static str,
    /// Its letter (`R`), ASCII.
    pub letter: char,
    /// Its first day, `(year, month, day)`.
    first: (i32, u32, u32),
    /// Its last day, `None` for the current era.
    last: Option<(i32, u32, u32)>,
}

/// The eras a date may be written in, newest first, from Meiji's first day as the Gregorian
/// calendar counts it (1868-01-25) to Reiwa.
pub const ERAS: [Era; 5] = [
    Era { name: "令和", letter: 'R', first: (2019, 5, 1), last: None },
    Era { name: "平成", letter: 'H', first: (1989, 1, 8), last: Some((2019, 4, 30)) },
    Era { name: "昭和", letter: 'S', first: (1926, 12, 25), last: Some((1989, 1, 7)) },
    Era { name: "大正", letter: 'T', first: (1912, 7, 30), last: Some((1926, 12, 24)) },
    Era { name: "明治", letter: 'M', first: (1868, 1, 25), last: Some((1912, 7, 29)) },
];

impl Era {
    /// The era a date names by its name (`令和`), its name's first kanji (`令`), or its letter
    /// in either case and in ASCII or full width (`R`, `r`, `Ｒ`).
    pub fn named(era: &str) -> Option<&'static Era> {
        let first = era.chars().next()?;
        let letter = if ('Ａ'..='Ｚ').contains(&first) || ('ａ'..='ｚ').contains(&first) {
            char::from_u32(first as u32 - 0xFEE0)?
        } else {
            first
        };
        ERAS.iter().find(|e| {
            e.name == era
                || (era.chars().count() == 1 && (e.name.starts_with(first) || e.letter == letter.to_ascii_uppercase()))
        })
    }

    /// Its first day.
    pub fn first_day(&self) -> NaiveDate {
        let (y, m, d) = self.first;
        NaiveDate::from_ymd_opt(y, m, d).expect("an era's first day is a date")
    }

    /// Its last day (`None` for the current era).
    pub fn last_day(&self) -> Option<NaiveDate> {
        self.last.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
    }

    /// The Gregorian year of the era's year `year` (1 is the first).
    pub fn gregorian_year(&self, year: i32) -> i32 {
        self.first.0 + year - 1
    }

    /// The date `month`/`day` of the era's year `year`, when the era had that day: `None` for
    /// a year before the first (`R0`) or one the era never reached (`H36.1.2`), and for a day
    /// before its first day or after its last (`H31.5.1`, `R1.4.30`, `S64.1.8`).
    pub fn date(&self, year: i32, month: u32, day: u32) -> Option<NaiveDate> {
        if year < 1 {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(self.gregorian_year(year), month, day)?;
        (date >= self.first_day() && self.last_day().is_none_or(|last| date <= last)).then_some(date)
    }

    /// Whether the era had a day of its year `year`, or of `month` of it: a birth date
    /// generalised to its year or month (`S64`, `平成元年1月`: the era began or ended in it).
    pub fn holds_period(&self, year: i32, month: Option<u32>) -> bool {
        let y = self.gregorian_year(year);
        let (from, to) = match month {
            Some(m) => {
                let from = NaiveDate::from_ymd_opt(y, m, 1);
                (from, from.and_then(last_of_month))
            }
            None => (NaiveDate::from_ymd_opt(y, 1, 1), NaiveDate::from_ymd_opt(y, 12, 31)),
        };
        let (Some(from), Some(to)) = (from, to) else { return false };
        year >= 1 && to >= self.first_day() && self.last_day().is_none_or(|last| from <= last)
    }
}

/// The last day of the month of `d`.
fn last_of_month(d: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

/// The Japanese era of a date (Meiji from 1868-01-25 to Reiwa): its name, its letter and the
/// year within it (1 is the era's first year).
pub fn japanese_era(date: NaiveDate) -> Option<(&'static str, char, i32)> {
    ERAS.iter().find(|e| date >= e.first_day()).map(|e| (e.name, e.letter, date.year() - e.first.0 + 1))
}

/// Whether the characters after a date (`rest`, lower-cased) start a date-time's time part:
/// `t`, or a run of 2, 4 or 6 digits (HH, HHMM, HHMMSS; a fraction may follow). So
/// `19850315120000` and `1985-03-15T12:00` hold the date `19850315` / `1985-03-15`.
pub fn time_follows(rest: impl Iterator<Item = char>) -> bool {
    let mut run = 0;
    for c in rest {
        if run == 0 && c == 't' {
            return true;
        }
        if !c.is_ascii_digit() {
            return matches!(run, 2 | 4 | 6) && !c.is_ascii_alphabetic();
        }
        run += 1;
        // A run of seven digits or more is no time, however it ends: stop reading, so that a
        // caller asking at every position of a long run of digits does not read it to its end.
        if run > 6 {
            return false;
        }
    }
    matches!(run, 2 | 4 | 6)
}

/// Shift a date by `days`; `None` if the result leaves years 1–9999.
pub fn shift(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    let s = date.checked_add_signed(Duration::days(days))?;
    (1..=9999).contains(&s.year()).then_some(s)
}

/// The day that stands for a period of reduced precision when it is shifted: the 15th of a
/// month (`Some(month)`), or 1 July of a year (`None`). Shifting it and keeping the period's
/// precision moves the period by the offset rounded to whole periods, without telling the
/// offset's sign. A DT of year or year-month precision and a year-month written in text are
/// shifted by this one rule. `None` when the month is not one.
pub fn middle_of_period(year: i32, month: Option<u32>) -> Option<NaiveDate> {
    match month {
        Some(m) => NaiveDate::from_ymd_opt(year, m, 15),
        None => NaiveDate::from_ymd_opt(year, 7, 1),
    }
}

/// Format as DA (`YYYYMMDD`).
pub fn format_da(d: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

fn parse_ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_follows_reads_no_further_than_seven_digits() {
        // A long run of digits (a pasted number in a note) is asked about at every position:
        // reading each to its end made the search quadratic.
        let endless = "1234567".chars().chain(std::iter::repeat_with(|| panic!("read past seven digits")));
        assert!(!time_follows(endless));
        assert!(time_follows("1200".chars()));
        assert!(time_follows("120000 ".chars()));
        assert!(!time_follows("1200000".chars()));
    }

    #[test]
    fn spellings_include_two_digit_years_and_japanese_eras() {
        let s = common_spellings("19850315");
        for want in [
            "85/03/15",
            "85/3/15",
            "昭和60年3月15日",
            "S60.3.15",
            "S60/3/15",
            "S.60.3.15",
            "60/3/15",
            "S60-3-15",
            "1985 03 15",
            "15.3.85",
            "15th March 1985",
            "March 15th, 1985",
        ] {
            assert!(s.iter().any(|x| x == want), "{want} missing from {s:?}");
        }
        assert!(common_spellings("19890108").iter().any(|x| x == "平成元年1月8日"));
        assert!(common_spellings("19890107").iter().any(|x| x == "昭和64年1月7日"));
    }

    #[test]
    fn spellings_include_short_and_era_years_without_zeros_and_with_nen() {
        for short in ["85.3.15", "85-3-15", "85年3月15日", "S60年3月15日", "60年3月15日"] {
            assert!(common_spellings("19850315").iter().any(|x| x == short), "{short}");
        }
    }

    #[test]
    fn rv32_03_spellings_include_padded_era_forms_kanji_numerals_and_the_double_form() {
        let s = common_spellings("19600315");
        for want in [
            "S35/03/15",
            "35/03/15",
            "昭和三十五年三月十五日",
            "一九六〇年三月十五日",
            "1960(昭和35)年3月15日",
            "1960年(昭和35年)3月15日",
            "昭和35(1960)年3月15日",
        ] {
            assert!(s.contains(&want.to_string()), "{want}: {s:?}");
        }
        let s = common_spellings("19930401");
        assert!(s.contains(&"H05.04.01".to_string()) && s.contains(&"平成五年四月一日".to_string()), "{s:?}");
        assert_eq!(
            (kanji_number(3), kanji_number(10), kanji_number(15), kanji_number(30)),
            ("三".into(), "十".into(), "十五".into(), "三十".into())
        );
    }

    #[test]
    fn spellings_include_the_year_first_dotted_form_without_zeros() {
        assert!(common_spellings("19850315").iter().any(|x| x == "1985.3.15"));
        assert!(common_spellings("19850305").iter().any(|x| x == "5/3/1985"));
    }

    #[test]
    fn spellings_include_english_month_names_day_month_or_year_first() {
        let s = common_spellings("19850315");
        for want in [
            "15-Mar-1985",
            "15Mar1985",
            "15-Mar-85",
            "Mar 15, 1985",
            "15 March 1985",
            "March 15, 1985",
            "15/Mar/1985",
            "1985-Mar-15",
            "Mar. 15, 1985",
        ] {
            assert!(s.iter().any(|x| x == want), "{want} missing from {s:?}");
        }
    }

    #[test]
    fn month_names_are_written_with_and_without_the_day_s_zero() {
        let s = month_name_spellings("2001", "09", "05");
        for want in ["05-Sep-2001", "5 September 2001", "Sept 5, 2001"] {
            assert!(s.iter().any(|x| x == want), "{want} missing from {s:?}");
        }
        assert!(month_name_spellings("2001", "13", "05").is_empty());
    }

    #[test]
    fn da_shifts_across_month_and_year() {
        assert_eq!(shift_da("20240301", -1).as_deref(), Some("20240229"));
        assert_eq!(shift_da("20240101", -1).as_deref(), Some("20231231"));
        assert_eq!(shift_da("20240101 ", 10).as_deref(), Some("20240111"));
    }

    #[test]
    fn da_keeps_the_acr_nema_dotted_form() {
        assert_eq!(shift_da("1993.08.22", -22).as_deref(), Some("1993.07.31"));
    }

    #[test]
    fn da_rejects_what_is_not_a_date() {
        for v in ["", "2024", "20241301", "abcdefgh", "2024-02-01"] {
            assert_eq!(shift_da(v, -1), None, "{v}");
        }
    }

    #[test]
    fn dt_keeps_time_offset_and_precision() {
        assert_eq!(shift_dt("20240301120000.123456+0900", -1).as_deref(), Some("20240229120000.123456+0900"));
        assert_eq!(shift_dt("202403", -20).as_deref(), Some("202402"));
        assert_eq!(shift_dt("2024", -200).as_deref(), Some("2023"));
        assert_eq!(shift_dt("20240301", -1).as_deref(), Some("20240229"));
        assert_eq!(shift_dt("20", -1), None);
    }

    #[test]
    fn a_reduced_precision_dt_is_shifted_as_the_middle_of_its_period() {
        // Read as 1 January (the 1st), a shift of one day into the past moved the period back.
        assert_eq!(shift_dt("2021", -1).as_deref(), Some("2021"));
        assert_eq!(shift_dt("202103", -1).as_deref(), Some("202103"));
        assert_eq!(shift_dt("2021", 1).as_deref(), Some("2021"));
        assert_eq!(shift_dt("202103", 16).as_deref(), Some("202103"));
        assert_eq!(shift_dt("202103", 17).as_deref(), Some("202104"));
        assert_eq!(shift_dt("202103", -15).as_deref(), Some("202102"));
        assert_eq!(shift_dt("2021", -182).as_deref(), Some("2020"));
        assert_eq!(shift_dt("2021", -181).as_deref(), Some("2021"));
        assert_eq!(shift_dt("2021-202103", -1).as_deref(), Some("2021-202103"), "a range's ends alike");
        assert_eq!(shift_dt("202113", -1), None);
    }

    #[test]
    fn dt_with_anything_after_its_date_that_is_not_a_time_is_not_a_dt() {
        for v in
            ["20200301X20200302", "20200301101010 20200302", "2020030110101020200302", "20200301250000", "2020030110.5"]
        {
            assert_eq!(shift_dt(v, -1), None, "{v}");
        }
    }

    #[test]
    fn a_dt_range_has_both_ends_shifted() {
        assert_eq!(shift_dt("20200301101010-20200302", -1).as_deref(), Some("20200229101010-20200301"));
        assert_eq!(shift_dt("20200301-0500-20200302+0900", -1).as_deref(), Some("20200229-0500-20200301+0900"));
        assert_eq!(shift_dt("-20200302", -1).as_deref(), Some("-20200301"));
        assert_eq!(shift_dt("20200301-0500", -1).as_deref(), Some("20200229-0500"), "an offset, not a range");
    }

    #[test]
    fn a_da_range_has_both_ends_shifted() {
        assert_eq!(shift_da("20200301-20200305", -1).as_deref(), Some("20200229-20200304"));
        assert_eq!(shift_da("20200301-", -1).as_deref(), Some("20200229-"));
        assert_eq!(shift_da("-", -1), None);
        assert_eq!(shift_da("20200301-2020030X", -1), None);
    }

    #[test]
    fn a_digit_stamp_keeps_its_time_digits() {
        assert_eq!(shift_digit_stamp("20240301093000123", -1).as_deref(), Some("20240229093000123"));
        assert_eq!(shift_digit_stamp("202403010930001232", -1), None);
    }

    #[test]
    fn interval_between_two_dates_is_kept() {
        let a = shift_da("20240110", -100).unwrap();
        let b = shift_da("20240301", -100).unwrap();
        let pa = NaiveDate::parse_from_str(&a, "%Y%m%d").unwrap();
        let pb = NaiveDate::parse_from_str(&b, "%Y%m%d").unwrap();
        assert_eq!((pb - pa).num_days(), 51);
    }
}
