//! Dates written in free text (a Study Description, an SR text value, a comment, a clinical
//! note): found, and then kept, shifted by the patient's offset, or replaced.
//!
//! A real date left in text beside dates that kamei shifted gives the patient's offset away:
//! subtracting one from the other un-shifts every date of that patient, in every file and in the
//! clinical releases that share the offset. Beside dates that kamei removed, it is the real date
//! itself. So text that kamei cleans follows the profile's dates ([`DateTreatment`]).
//!
//! The spellings found, each standing alone (not inside a longer number or a word; a full-width
//! digit or dot glues as an ASCII one does, so a UID typed in full width holds no date; a date
//! ending in `日` is closed by it, so a time or count glued after it, `2024年1月2日10時`, leaves
//! it alone):
//! - year first: `2024-01-02`, `2024/1/2`, `2024.01.02`, `2024年1月2日`, `20240102` (also with
//!   2, 4 or 6 digits of time glued on, as a DT value: `20240102093000`);
//! - the file's own dates only ([`Which`]), year first with `_` or a space between two-digit
//!   numbers: `Thorax_2024_03_01`, `CT 2024 03 01`; an ISO 8601 ordinal date with or without
//!   its dash (`2024-061`, `2024061`); and, glued to a word, an ordinal or six digits with a
//!   two-digit year (`CT2024061`, `CT240301`, `240301_ax`);
//! - day or month first with a four-digit year: `02/01/2024`, `2.1.2024`, `01-02-2024`;
//! - three numbers with a two-digit year first or last, separated by `/` or `-` (not by dots,
//!   which make version numbers): `24/1/15`, `85-03-15`, `15/01/24`, `1/15/24`, read every
//!   way that makes a date, the year first or last and of one or two digits (`24/1/2` is
//!   2024-01-02 or 24 January 2002), unless the text's four-digit-year dates give the order;
//! - six digits that make a date with a two-digit year (`240102`, `851203`), where the words
//!   around them say so (`撮影日 240102`) or one of their readings falls within the years of
//!   the record's own dates; elsewhere a lab value, a count or an ID;
//! - English month names: `02-JAN-2024`, `2 January 2024`, `02JAN24`, `Jan 2, 2024`,
//!   `Jan. 2 2024`, `2024-Jan-02`;
//! - Japanese era dates: `令和6年1月2日`, `平成元年4月`, `S60.3.15`, `S.60.3.15`, `S60年3月15日`,
//!   `令和6.2.1`, `令和元/5/1`, the era's first kanji `令6.4.1`, and the compact `R060401` (only
//!   a valid date within its era: `S123456` is some code); an era date on a day its era did not
//!   have (`H36.1.2`, `H31.5.1`, `R1.4.30`: [`dates::Era::date`]) is no date, never a file's
//!   own, and replaced in cleaned text as a date-shaped slip is;
//! - any of the numeric dates printed in columns, a one-digit month or day padded with a space
//!   after its separator (`2024/ 2/ 1`, `S60. 3.15`, `H 1. 4. 1`; after an era letter and a space
//!   only in that layout: `R 3.6.1` is a version);
//! - a year and month with no day, shifted as its 15th day ([`dates::middle_of_period`]): with
//!   `年` and `月` (`2024年2月`), in numbers (`2024-03`, `2024/4`, `2024.04`, `03/2024`: a year
//!   of 1900–2099, never inside a longer number or before a day), or with an English month
//!   (`March 2024`, `Mar. 2024`);
//! - a year of one or two digits before `年` (`60年3月15日`, `24年2月1日`): an era year
//!   without its era, or a two-digit Gregorian year, which cannot be told apart;
//! - any of the dates written with `年`, `月`, `日` in kanji numerals (`昭和六十年三月十五日`,
//!   `一九八五年三月十五日`, `二〇二四年二月一日`, `六十年三月十五日`, `三月十五日`): read as their
//!   digits ([`kanji_numerals_as_digits`]); a shifted one is written in ASCII digits;
//! - a month and day without a year: `1月2日`; `March 15`, `1 Feb` and `3/15` where the words
//!   around it say it is a date (`3/15生まれ`, `次回 2/1`, `born March 15`, `3/15(金)`).
//!
//! A date without its year that ends a range or continues a list after a date (`2024/2/1～2/5`,
//! `2024/2/1、2/8`, `2024年2月1日～5日`) or starts a range before one (`12/28～2024/1/5`) is
//! replaced whatever the words around it.
//!
//! A weekday written beside a date (`(木)`, `Thu`, `木曜日`, ` 木`) follows it: the shifted date's
//! weekday, or replaced with it.
//!
//! A shifted date keeps its spelling: separators, zero padding, a month name's case and length,
//! a two-digit year. A date that cannot be shifted safely is replaced by
//! [`crate::scrub::REDACTED`]: an era date, a date without its year, and a date that reads as
//! two different dates (`02/01/2024`, `24/1/15`, `24/1/2`, `240102`, `24年2月1日`).

use crate::dates;
use crate::scrub::REDACTED;
use chrono::{Datelike, NaiveDate};
use regex::{Captures, Regex, RegexSet};
use std::sync::LazyLock;

/// What happens to a date found in text: follows the profile's date options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateTreatment {
    /// Retain Longitudinal Temporal Information with Full Dates: dates stay as written.
    Keep,
    /// Retain Longitudinal Temporal Information with Modified Dates: each date moves by the
    /// patient's offset, in days, as the header's dates do.
    Shift(i64),
    /// No date option: each date is replaced, as the header's dates are removed.
    Replace,
}

/// Which of the dates found are acted on.
///
/// A date stands alone in its text (not inside a word or a longer number), except one of the
/// dates a caller names as the file's own ([`Which::These`], [`Which::AllAndOwn`]), written
/// with its year: that one is found also where a word joins it (`Thorax_20240301`,
/// `CT20240301_ax`, `2024-03-01_0930`), the way series and protocol names carry the exam date.
/// So is one written as an ordinal (`CT2024061`, YYYYDDD) or as six digits with a two-digit
/// year (`CT240301`, `240301_ax`).
/// Any eight digits glued to letters could be some code; the file's own date is not a chance.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    /// Every date standing alone: clinical free text.
    All,
    /// Every date standing alone, and these dates (the file's own) also where a word joins
    /// them: text that kamei cleans in a DICOM file (Clean).
    AllAndOwn(&'a [NaiveDate]),
    /// Only these dates (a file's own dates): text that the profile keeps, where anything else
    /// that looks like a date is left alone.
    These(&'a [NaiveDate]),
}

impl<'a> Which<'a> {
    /// Whether every date found is acted on, not only the listed ones.
    fn is_all(&self) -> bool {
        matches!(self, Which::All | Which::AllAndOwn(_))
    }

    /// The file's own dates, found also where a word joins them.
    fn own(&self) -> &'a [NaiveDate] {
        match self {
            Which::All => &[],
            Which::AllAndOwn(list) | Which::These(list) => list,
        }
    }

    fn wants(&self, date: NaiveDate) -> bool {
        self.is_all() || self.own().contains(&date)
    }

    fn wants_day(&self, month: u32, day: u32) -> bool {
        self.is_all() || self.own().iter().any(|d| d.month() == month && d.day() == day)
    }

    fn wants_month(&self, year: i32, month: u32) -> bool {
        self.is_all() || self.own().iter().any(|d| d.year() == year && d.month() == month)
    }
}

/// How the groups of a pattern read as a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Groups `y`, `m`, `d`: one reading.
    Plain,
    /// Groups `y`, `m`, `d`, where `m` and `d` can also be read the other way round
    /// (`02/01/2024`).
    Swappable,
    /// Groups `era` (a name or a letter), `ey` (a year of the era, or `元`), optional `m`, `d`.
    Era,
    /// Groups `ey` (one or two digits, or `元`), `m`, `d`: a year written before `年` without
    /// an era (`60年3月15日`, `24年2月1日`): Showa 60 or 1960, Reiwa 6 or 2024. It reads two
    /// ways or more, so it is never shifted.
    BareYear,
    /// Groups `m`, `d`: no year.
    NoYear,
    /// Groups `y`, `m`: a year and month written with `年` and `月` and no day (`2024年2月`), or
    /// with an English month name (`March 2024`, `Mar. 2024`). Shifted as the month of its 15th
    /// day moved by the offset ([`dates::middle_of_period`], as in a clinical file name and a DT
    /// of year-month precision): a real month beside shifted dates bounds the offset to about a
    /// month.
    YearMonth,
    /// Groups `y`, `m`: a year and month written in numbers alone (`2024-03`, `2024/4`,
    /// `2024.04`, `03/2024`), read as a [`Form::YearMonth`] when the year is one of 1900–2099
    /// and the month one of 1–12: other numbers (`1234-56`, `3.14`) are no year-month.
    NumericYearMonth,
    /// Groups `era` (a letter), `ey`, `m`, `d`, two digits each with nothing between them
    /// (`R060401`, as export jobs and order systems write era dates): read as an era date only
    /// when it is a valid date within its era, as such a run is also some code (`S123456`).
    CompactEra,
    /// Groups `m`, `d` written `3/15`: no year, and read as a date only where the text around
    /// it says it is one ([`says_date`]); elsewhere it is a fraction (`1/2錠`, half a tablet).
    MonthSlashDay,
    /// Groups `a`, `b`, `c`: three numbers with a two-digit year first or last (`24/1/15`,
    /// `15/01/24`, `1/15/24`), read every way that makes a date ([`ShortReading`]).
    ShortYear,
    /// Groups `y`, `j`: an ISO 8601 ordinal date, a year and the day of the year
    /// (`2024-061`, or `2024061` without the dash), found only as one of the file's own dates
    /// ([`own_only`]).
    Ordinal,
    /// Groups `y`, `m`, `d`: six digits alone (`240102`), a date with a two-digit year as
    /// forms, export jobs and file names write it ([`six_digit_readings`]), or a lab value, a
    /// count or an ID: read as a date only where the text says so ([`says_date`]:
    /// `撮影日 240102`, `date: 240102`) or where one of its readings falls within the years of
    /// the record's own dates ([`Which::own`]).
    SixDigits,
}

/// Which of the numbers `a/b/c` of a [`Form::ShortYear`] match is the year, the month and the
/// day.
// The names say which number comes first; the shared suffix is the point, not noise.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ShortReading {
    /// `yy/m/d`, as Japanese text writes a date with a short year (`24/1/15`).
    YearFirst,
    /// `d/m/yy` (`15/01/24`).
    DayFirst,
    /// `m/d/yy` (`1/15/24`).
    MonthFirst,
}

impl ShortReading {
    /// The names of the groups that hold the year, the month and the day.
    fn groups(self) -> [&'static str; 3] {
        match self {
            ShortReading::YearFirst => ["a", "b", "c"],
            ShortReading::DayFirst => ["c", "b", "a"],
            ShortReading::MonthFirst => ["c", "a", "b"],
        }
    }
}

/// The apostrophe that stands for a century in a two-digit year (`'24`), ASCII or typographic.
const APOSTROPHE: &str = "['\u{2019}]";

/// An English ordinal suffix after a day (`15th`, `1st`).
const ORDINAL: &str = r"(?P<o>(?i:st|nd|rd|th))";

const MONTH: &str = r"(?P<m>(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?))";

/// The patterns, each with how its groups read.
static PATTERNS: LazyLock<Vec<(Form, Regex)>> = LazyLock::new(|| {
    // A digit is ASCII or full width (`２０２４年１月２日`), not any script's digit.
    // `_` stands for one optional space (ASCII or ideographic) where people type one around
    // `年`, `月`, `日` and after an era name (`令和 6 年 2 月 1 日`, `平成 元年`); `PAD` for one
    // that pads a number to two columns after a separator (`2024/ 2/ 1`).
    let p = |form, re: &str| {
        let re = re
            .replace(r"\d", DIGIT)
            .replace("SEP", SEPARATOR)
            .replace("PAD", "[ \u{3000}]?")
            .replace('_', "[ \u{3000}]?");
        (form, Regex::new(&re).expect("valid built-in pattern"))
    };
    vec![
        p(
            Form::Era,
            r"(?P<era>明治|大正|昭和|平成|令和)_(?P<ey>元|\d{1,2})_年(?:_(?P<m>\d{1,2})_月(?:_(?P<d>\d{1,2})_日)?)?",
        ),
        // The era as a letter, a name or the name's first kanji before numbers and separators
        // (`S60.3.15`, `令和6.2.1`, `令和元/5/1`, `令6.4.1`); a space pads a one-digit number to two columns, as
        // legacy systems print dates (`S60. 3.15`, `H 1. 4. 1`).
        p(
            Form::Era,
            r"(?P<era>明治|大正|昭和|平成|令和|[MTSHRＭＴＳＨＲ令平昭大明])(?:[.．]|(?P<sp>[ \x{3000}]))?(?P<ey>元|\d{1,2})(?P<s>SEP)PAD(?P<m>\d{1,2})(?P<t>SEP)PAD(?P<d>\d{1,2})",
        ),
        p(
            Form::Era,
            r"(?P<era>[MTSHRＭＴＳＨＲ令平昭大明])[.．]?(?P<ey>元|\d{1,2})_年_(?P<m>\d{1,2})_月(?:_(?P<d>\d{1,2})_日)?",
        ),
        p(Form::Plain, r"(?P<y>\d{4})_年_(?P<m>\d{1,2})_月_(?P<d>\d{1,2})_日"),
        p(Form::BareYear, r"(?P<ey>元|\d{1,2})_年_(?P<m>\d{1,2})_月_(?P<d>\d{1,2})_日"),
        p(Form::Plain, r"(?P<y>\d{4})(?P<s>SEP)PAD(?P<m>\d{1,2})(?P<t>SEP)PAD(?P<d>\d{1,2})"),
        // `_` or a space between the numbers (`Thorax_2024_03_01`, `CT 2024 03 01`): only the
        // file's own dates ([`spaced_numbers`]). `_` is written `\x{5F}`, as `_` above stands
        // for an optional space.
        p(Form::Plain, r"(?P<y>\d{4})(?P<s>\x{5F})(?P<m>\d{2})(?P<t>\x{5F})(?P<d>\d{2})"),
        p(Form::Plain, r"(?P<y>\d{4})(?P<s> )(?P<m>\d{2})(?P<t> )(?P<d>\d{2})"),
        p(Form::Swappable, r"(?P<d>\d{1,2})(?P<s>SEP)PAD(?P<m>\d{1,2})(?P<t>SEP)PAD(?P<y>\d{4})"),
        p(Form::Plain, r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:\d{6}|\d{4}|\d{2})?"),
        p(
            Form::Plain,
            &format!(
                r"(?P<d>\d{{1,2}})(?:{ORDINAL} (?:of )?|[- /]?){MONTH}\.?[- /]?(?:{APOSTROPHE}(?P<y2>\d{{2}})|(?P<y>\d{{4}}|\d{{2}}))"
            ),
        ),
        // A two-digit year after an apostrophe (`March 1, '24`): a date, and nothing else.
        p(
            Form::Plain,
            &format!(r"{MONTH}\.? (?P<d>\d{{1,2}}){ORDINAL}?,? (?:{APOSTROPHE}(?P<y2>\d{{2}})|(?P<y>\d{{4}}))"),
        ),
        // With or without separators (`2024-Mar-01`, `2024MAR01`, as `01MAR2024` is read).
        p(Form::Plain, &format!(r"(?P<y>\d{{4}})[- /]?{MONTH}[- /]?(?P<d>\d{{1,2}})")),
        // An ISO 8601 ordinal date (`2024-061`, the 61st day of 2024): the file's own dates
        // only ([`own_only`]), as a year, a dash and three digits are as often a case number.
        p(Form::Ordinal, r"(?P<y>\d{4})(?P<s>-)(?P<j>\d{3})"),
        // The same without its dash (`2024061`, YYYYDDD, as some consoles name a series):
        // seven digits are as often a phone or case number, so the file's own dates only too.
        p(Form::Ordinal, r"(?P<y>\d{4})(?P<j>\d{3})"),
        p(Form::NoYear, r"(?P<m>\d{1,2})_月_(?P<d>\d{1,2})_日"),
        p(Form::NoYear, &format!(r"{MONTH}\.? (?P<d>\d{{1,2}}){ORDINAL}?")),
        p(Form::NoYear, &format!(r"(?P<d>\d{{1,2}})(?:{ORDINAL} (?:of )?| ){MONTH}")),
        p(Form::MonthSlashDay, r"(?P<m>\d{1,2})[/／](?P<d>\d{1,2})"),
        // Not with dots, which make version numbers (`10.1.2`).
        p(
            Form::ShortYear,
            r"(?P<a>\d{1,2})(?P<s>[-/－／\x{2212}])PAD(?P<b>\d{1,2})(?P<t>[-/－／\x{2212}])PAD(?P<c>\d{1,2})",
        ),
        p(Form::YearMonth, r"(?P<y>\d{4})_年_(?P<m>\d{1,2})_月"),
        // A year and month alone: `2024-03`, `2024.04`, `2024/4`, `03/2024`, `3/2024`,
        // `03.2024`; a one-digit month only after or before `/` (`2024.4` is as likely a
        // decimal, `2024-3` a subtraction).
        p(Form::NumericYearMonth, r"(?P<y>\d{4})(?P<s>[-.－．\x{2212}\x{2010}-\x{2015}])(?P<m>\d{2})"),
        p(Form::NumericYearMonth, r"(?P<y>\d{4})(?P<s>[/／])(?P<m>\d{1,2})"),
        p(Form::NumericYearMonth, r"(?P<m>\d{2})(?P<s>[-.－．\x{2212}\x{2010}-\x{2015}])(?P<y>\d{4})"),
        p(Form::NumericYearMonth, r"(?P<m>\d{1,2})(?P<s>[/／])(?P<y>\d{4})"),
        p(Form::YearMonth, &format!(r"{MONTH}(?:\.?,? |[-/.]|)(?P<y>\d{{4}})")),
        p(Form::CompactEra, r"(?P<era>[MTSHRＭＴＳＨＲ])(?P<ey>\d{2})(?P<m>\d{2})(?P<d>\d{2})"),
        p(Form::SixDigits, r"(?P<y>\d{2})(?P<m>\d{2})(?P<d>\d{2})"),
    ]
});

/// An era's name (and a space), its first kanji or its letter not glued to a word, right
/// before a year (`平成36年`, `平成 36年`, `H36年`, `H.36年`; not the `T` of `CT 24年`).
static ERA_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:(?:明治|大正|昭和|平成|令和)[ \x{3000}]?|(?:^|[^A-Za-z0-9_])[MTSHRＭＴＳＨＲ][.．]?|[令平昭大明][.．]?)$",
    )
    .expect("valid built-in pattern")
});

/// Words that say a month and day without a year next to them is a date (a birth, a visit, an
/// operation), before or after it, or a weekday beside it (`3/15(金)`, `Fri 3/15`). Without
/// one, `3/15` is a fraction or a score and `May 5` a dose (`May 5 mg`).
fn says_date(before: &str, after: &str) -> bool {
    const AFTER: &[&str] = &[
        "生",
        "誕生",
        "受診",
        "来院",
        "入院",
        "退院",
        "手術",
        "予約",
        "検査",
        "外来",
        "再診",
        "初診",
        "撮影",
        "施行",
        "visit",
        "appointment",
        "follow-up",
        "follow up",
        "birthday",
    ];
    const BEFORE: &[&str] = &[
        "born",
        "dob",
        "birthday",
        "visit",
        "visited",
        "seen",
        "follow-up",
        "follow up",
        "f/u",
        "due",
        "scheduled",
        "admitted",
        "discharged",
        "date",
        "dated",
        "生年月日",
        "次回",
        "前回",
        "今回",
        "受診日",
        "予約日",
        "入院日",
        "退院日",
        "手術日",
        "検査日",
        "撮影日",
        "施行日",
        "発症日",
        "来院日",
        "予定日",
        "日付",
    ];
    let after = after.trim_start();
    // `受診日: 3/15`, `受診日：3/15`: the word before the colon counts.
    let before = before.trim_end().trim_end_matches([':', '：']).trim_end().to_lowercase();
    // `seen on 3/15`, `visit on Fri 3/15`: the word before `on`, or a weekday, counts.
    let before = before.strip_suffix(" on").unwrap_or(&before).trim_end();
    let lower_after = after.to_lowercase();
    AFTER.iter().any(|w| lower_after.starts_with(w))
        || weekday_after(after).is_some()
        || WEEKDAY_BEFORE.is_match(&format!("{before} "))
        || BEFORE
            .iter()
            .any(|w| before.ends_with(w) && !before[..before.len() - w.len()].ends_with(char::is_alphanumeric))
}

/// How far around a date [`says_date`] and [`slash_date_cue`] look, in bytes: the longest
/// word they know with a weekday and spaces fits many times.
const AROUND: usize = 64;

/// The text before byte `at`, at most [`AROUND`] bytes of it (from a character boundary).
fn words_before(text: &str, at: usize) -> &str {
    let mut from = at.saturating_sub(AROUND);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    &text[from..at]
}

/// The text after byte `at`, at most [`AROUND`] bytes of it (to a character boundary).
fn words_after(text: &str, at: usize) -> &str {
    let mut to = (at + AROUND).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    &text[at..to]
}

/// Words of an amount after `に` (`1/2に減量`, `1/3に希釈`, `1/4に割って`, `1/3になった`): the
/// number before is a fraction something is brought to, not a date.
const AMOUNT_AFTER_NI: &[&str] = &[
    "減", "増", "希釈", "分", "割", "切", "薄", "縮", "短", "低", "落", "下", "上", "抑", "留", "満", "相当", "近",
    "程度", "な", "改善", "悪化", "軽", "半", "まで",
];

/// What makes a number a fraction or a dose after it (`1/2錠`, `1/3量`, `1/2倍`): counters and
/// units.
const FRACTION_AFTER: &[&str] = &[
    "錠",
    "包",
    "本",
    "枚",
    "回",
    "個",
    "量",
    "倍",
    "%",
    "％",
    "程度",
    "以下",
    "以上",
    "未満",
    "ほど",
    "くらい",
    "ぐらい",
    "人",
    "例",
    "名",
    "件",
    "周",
    "割",
    "mg",
    "ml",
    "mL",
];

/// Whether Japanese text says a month and day written with a slash and no year (`4/1`) is a
/// date, where [`says_date`] found no word for it. Fractions and doses (`1/2錠`, `1/3に減量`,
/// `約1/3の症例`) stay, so only these count, and none of them where a fraction word stands
/// before (`約`, `の`, `ほぼ`, `およそ`):
/// - the particle `に` after it, but not before a word of an amount (`4/1にCT施行`, not
///   `1/2に減量`: [`AMOUNT_AFTER_NI`]);
/// - a word of time after it: `以降`, `以来`, `頃`, `ごろ`, `時点`, `午前`, `午後`, `朝`, `昼`,
///   `夕`, `夜`, or a time (`4/1 10:00`, `4/1 10時`);
/// - a range to another month and day (`4/1～4/5`, `4/1〜4/5`, `4/1から4/5`) that goes forward
///   by less than half a year and is followed by no counter, unit or amount
///   ([`FRACTION_AFTER`]: `1/3～1/2錠` stays, and `1/2～1/3に減量`).
fn slash_date_cue(before: &str, day: (u32, u32), after: &str) -> bool {
    let before = before.trim_end_matches([' ', '\u{3000}']);
    if ["約", "の", "ほぼ", "およそ", "×", "x", "X", "*"].iter().any(|w| before.ends_with(w)) {
        return false;
    }
    if let Some(rest) = after.strip_prefix('に') {
        return !AMOUNT_AFTER_NI.iter().any(|w| rest.starts_with(w));
    }
    const TIME_AFTER: [&str; 11] = ["以降", "以来", "頃", "ごろ", "時点", "午前", "午後", "朝", "昼", "夕", "夜"];
    if TIME_AFTER.iter().any(|w| after.starts_with(w)) || TIME_AFTER_DATE.is_match(after) {
        return true;
    }
    range_to_a_later_day(day, after)
}

/// A time after a date: `10:00`, `9時`, after an optional space.
static TIME_AFTER_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&r"^[ \x{3000}]?\d{1,2}(?:[:：]\d{2}|時)".replace(r"\d", DIGIT)).expect("valid built-in pattern")
});

/// A range mark and a month and day after a month and day: `～4/5`, `〜 4/5`, `から4/5`.
static RANGE_TO_DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&r"^\s*(?:[～〜~]|から)\s*(?P<m>\d{1,2})[/／](?P<d>\d{1,2})".replace(r"\d", DIGIT))
        .expect("valid built-in pattern")
});

/// Whether `after` (the text after the month and day `day`) is a range to a later day of the
/// next six months (`4/1～4/5`, `12/28～1/4`; not `1/3～1/2`, a range of fractions), not
/// followed by a counter, a unit or an amount ([`FRACTION_AFTER`], [`AMOUNT_AFTER_NI`]).
fn range_to_a_later_day((m1, d1): (u32, u32), after: &str) -> bool {
    let Some(c) = RANGE_TO_DAY.captures(after) else { return false };
    let end_text = &after[c.get(0).expect("group 0").end()..];
    if end_text.starts_with(is_digit) || end_text.starts_with(['/', '／', '.', '．']) {
        return false;
    }
    let fraction = FRACTION_AFTER.iter().any(|w| end_text.trim_start().starts_with(w))
        || end_text.strip_prefix('に').is_some_and(|rest| AMOUNT_AFTER_NI.iter().any(|w| rest.starts_with(w)));
    let (Some(m), Some(d)) =
        (c.name("m").and_then(|g| number(g.as_str())), c.name("d").and_then(|g| number(g.as_str())))
    else {
        return false;
    };
    // Days in a leap year, so that 2/29 is a day.
    let ordinal = |m: u32, d: u32| NaiveDate::from_ymd_opt(2024, m, d).map(|x| i64::from(x.ordinal()));
    let (Some(from), Some(to)) = (ordinal(m1, d1), ordinal(m, d)) else { return false };
    let forward = (to - from).rem_euclid(366);
    !fraction && (1..=183).contains(&forward)
}

/// Nouns that, after a month and day without a year, make the day a count (`Jun 2 cycles`,
/// `Mar 4 tablets`): compared in lower case, also with a plural `s` or `es`.
/// Words of time (`day`, `week`) are not among them: `seen May 3 day 2 post-op` is a date.
const COUNT_NOUNS: &[&str] = &[
    "cycle",
    "course",
    "dose",
    "tablet",
    "tab",
    "capsule",
    "cap",
    "pill",
    "puff",
    "drop",
    "times",
    "session",
    "fraction",
    "unit",
    "vial",
    "ampoule",
    "amp",
    "injection",
    "bag",
    "pack",
    "shot",
    "mg",
    "mcg",
    "g",
    "kg",
    "ml",
    "l",
    "cc",
    "cm",
    "mm",
    "x",
    "patient",
    "lesion",
    "episode",
];

/// Verbs after the modal `may` (`3 May be stopped`, `2 May help`): a month written `May` after
/// a day and before one of them is the verb, and the day a number.
const VERBS_AFTER_MAY: &[&str] = &[
    "be",
    "been",
    "have",
    "help",
    "need",
    "cause",
    "require",
    "benefit",
    "improve",
    "increase",
    "decrease",
    "reduce",
    "worsen",
    "occur",
    "develop",
    "indicate",
    "suggest",
    "represent",
    "reflect",
    "include",
    "continue",
    "stop",
    "start",
    "resume",
    "take",
    "use",
    "lead",
    "result",
    "affect",
    "persist",
    "recur",
    "return",
    "progress",
    "respond",
    "contribute",
    "explain",
    "mimic",
    "appear",
    "warrant",
    "not",
    "also",
    "still",
    "only",
    "well",
    "lower",
    "raise",
    "show",
    "mask",
    "interfere",
    "consider",
    "experience",
    "get",
    "go",
    "come",
    "make",
    "present",
    "depend",
    "vary",
    "change",
    "remain",
    "become",
    "proceed",
    "want",
    "wish",
    "prefer",
    "feel",
    "see",
    "try",
    "give",
    "receive",
    "exist",
];

/// Units written after a number (`May 5 mg`, `Jan 3 x`): a count whatever their number.
const UNITS: &[&str] = &["mg", "mcg", "g", "kg", "ml", "l", "cc", "cm", "mm", "x", "times"];

/// Whether a month and day without a year in English is a count or a modal verb, not a date,
/// whatever the words before it say. A count: the month comes first and its day, a plain number
/// (never an ordinal: `Jun 2nd` is a date), is directly followed by a count noun in the plural
/// (`seen Jun 2 cycles ago`, `Mar 4 tablets`) or a unit (`May 5 mg`), with no number after the
/// noun (`seen on Mar 4 cycle 2` and `Jun 2 cycles 3` are dates: the count is that number's).
/// A day before its month is never a count (`last seen 12 Jun cycles`). A modal verb: a day and
/// `May` followed by a verb (`3 May be stopped`, not `2 May, be careful`).
fn reads_as_count_or_verb(c: &Captures, after: &str) -> bool {
    let (Some(whole), Some(month), Some(day)) = (c.get(0), c.name("m"), c.name("d")) else {
        return false;
    };
    let rest = after.trim_start();
    if rest.len() == after.len() && !after.is_empty() {
        return false;
    }
    let next: String = rest.chars().take_while(|c| c.is_alphabetic()).flat_map(char::to_lowercase).collect();
    if next.is_empty() {
        return false;
    }
    let day_first = day.start() < month.start();
    if day_first {
        let may = month.as_str().eq_ignore_ascii_case("may");
        return may && VERBS_AFTER_MAY.contains(&next.as_str());
    }
    let ordinal = whole.as_str()[day.end() - whole.start()..].starts_with(|c: char| c.is_alphabetic());
    // A number after the noun is what it counts (`cycle 3`, `cycles 2-4`).
    let number_follows = rest[next.len()..].trim_start().starts_with(|c: char| c.is_ascii_digit());
    if ordinal || number_follows {
        return false;
    }
    let plural = COUNT_NOUNS.iter().any(|w| {
        next.strip_suffix('s') == Some(w) || next.strip_suffix("es") == Some(w) || (next == *w && w.ends_with('s'))
    });
    plural || UNITS.contains(&next.as_str())
}

/// An English weekday, three letters or in full, in any case (`Thu`, `THURSDAY`).
const WEEKDAY: &str = r"(?i:sun|mon|tue|wed|thu|fri|sat)(?i:day|sday|nesday|rsday|urday)?";

/// The kanji of the weekdays.
const WEEKDAY_KANJI: &str = "[日月火水木金土]";

/// The brackets a weekday is written in after a date: `(木)`, `（木）`, and as Japanese RIS and
/// report templates print it, `【木】`, `[木]`, `［木］`, `〔木〕`, `〈木〉`, `《木》`, `「木」`.
const WEEKDAY_OPEN: &str = r"[(（【\[［〔〈《「『]";

/// The closing brackets of [`WEEKDAY_OPEN`].
const WEEKDAY_CLOSE: &str = r"[)）】\]］〕〉》」』]";

/// A weekday written after a date: `(木)`, `（木曜日）`, `(Thu)`, `【金】` ([`WEEKDAY_OPEN`]),
/// ` Thursday`, `木曜日`, `木曜`, and a kanji alone after a space (` 木`: [`weekday_after`]
/// checks what stands around it).
static WEEKDAY_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^\s*(?:{WEEKDAY_OPEN}\s*(?:(?P<k>{WEEKDAY_KANJI})(?:曜日?)?|(?P<b>{WEEKDAY})\.?)\s*{WEEKDAY_CLOSE}|(?P<e>{WEEKDAY})\.?\b|(?P<j>{WEEKDAY_KANJI})曜日?|(?P<l>{WEEKDAY_KANJI}))"
    ))
    .expect("valid built-in pattern")
});

/// A weekday written before a date: `Thu 2024-02-01`, `Thursday, 1 February 2024`,
/// `木曜日 2024/2/1`.
static WEEKDAY_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?:\b(?P<e>{WEEKDAY})\.?,?\s+|(?P<j>{WEEKDAY_KANJI})曜日?[,、]?\s*)$"))
        .expect("valid built-in pattern")
});

/// A weekday found after a date, as byte offsets into the text after it.
#[derive(Debug, Clone)]
struct WeekdayAt {
    /// The weekday's name (`木`, `Thu`): what a shifted date rewrites.
    name: std::ops::Range<usize>,
    /// Where the weekday ends with its brackets and suffix (`（木曜日）`, `木曜日`): what a
    /// replaced date takes along.
    end: usize,
}

/// The weekday written at the start of `rest` (the text after a date). A kanji alone
/// (`2024/2/1 木`) counts only after a space and before no other letter, digit or kanji:
/// `2/3日` is two or three days, `2024/2/1 火傷` a burn.
fn weekday_after(rest: &str) -> Option<WeekdayAt> {
    let c = WEEKDAY_AFTER.captures(rest)?;
    let whole = c.get(0).expect("group 0");
    if let Some(l) = c.name("l") {
        let spaced = rest[..l.start()].ends_with(char::is_whitespace);
        let alone = rest[l.end()..].chars().next().is_none_or(|n| !n.is_alphanumeric());
        return (spaced && alone).then(|| WeekdayAt { name: l.range(), end: l.end() });
    }
    let name = ["k", "b", "e", "j"].iter().find_map(|n| c.name(n)).expect("one weekday group");
    Some(WeekdayAt { name: name.range(), end: whole.end() })
}

/// The weekday of `date` written like `old`: one kanji (`木`), or an English name in its
/// length and case (`Thu`, `THURSDAY`).
fn weekday_like(old: &str, date: NaiveDate) -> String {
    const KANJI: [char; 7] = ['月', '火', '水', '木', '金', '土', '日'];
    const NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    let i = date.weekday().num_days_from_monday() as usize;
    if !old.is_ascii() {
        return KANJI[i].to_string();
    }
    let name = if old.len() > 3 { NAMES[i].to_string() } else { NAMES[i][..3].to_string() };
    if old.chars().all(|c| c.is_ascii_uppercase()) {
        name.to_ascii_uppercase()
    } else if old.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
        name.to_ascii_lowercase()
    } else {
        name
    }
}

/// The digits a date is written with: ASCII and full width.
const DIGIT: &str = "[0-9０-９]";

/// What separates the parts of a numeric date: `-`, `/`, `.`, their full-width forms, and the
/// dashes people type between digits (the minus sign U+2212 that JIS X 0208 0x215D decodes to,
/// hyphens and dashes U+2010–U+2015, the katakana prolonged sound mark).
const SEPARATOR: &str = r"[-/.－／．\x{2212}\x{2010}-\x{2015}\x{30FC}\x{FF70}]";

/// Every pattern at once: most text holds no date, and one scan says so.
static ANY: LazyLock<RegexSet> =
    LazyLock::new(|| RegexSet::new(PATTERNS.iter().map(|(_, re)| re.as_str())).expect("valid built-in patterns"));

/// Whether `c` is a digit a date is written with.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// The value of a run of ASCII or full-width digits.
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.chars().count() > 9 {
        return None;
    }
    s.chars().try_fold(0u32, |n, c| {
        let d = c.to_digit(10).or_else(|| ('０'..='９').contains(&c).then(|| c as u32 - '０' as u32))?;
        Some(n * 10 + d)
    })
}

/// Whether the match `start..end` of `text` stands alone: not inside a longer number or a
/// decimal (`0.20240102` is a value), not glued to ASCII letters or digits.
pub fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    alone_before(text, start) && alone_after(text, end)
}

/// Whether `c` glues to a date beside it as part of a word or a number: an ASCII letter, `_`, or
/// a digit, ASCII or full width (`１．２．３９２．２０００３６．９１１６．２．６` is a UID written
/// in full width, not a date `９１１６．２．６` inside it).
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || is_digit(c)
}

/// Whether `c` is a dot, ASCII or full width.
fn is_dot(c: char) -> bool {
    c == '.' || c == '．'
}

/// Whether nothing glues to the left of `start`: no letter, digit or decimal point.
fn alone_before(text: &str, start: usize) -> bool {
    text[..start].chars().next_back().is_none_or(|c| !is_word(c) && !is_dot(c))
}

/// Whether nothing glues to the right of `end`: no letter or digit, no decimal digits.
fn alone_after(text: &str, end: usize) -> bool {
    let mut after = text[end..].chars();
    match after.next() {
        None => true,
        Some(c) if is_dot(c) => !after.next().is_some_and(is_digit),
        Some(c) => !is_word(c),
    }
}

/// Whether the match `start..end` of `text` is joined to a word but to no number: a letter or
/// `_` beside it (`Thorax_20240301`, `CT20240301_ax`), no digit, no decimal point before, no
/// decimal digits after (`0.20240102`, `20240102.5` are values).
fn joined_by_word(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let mut after = text[end..].chars();
    let number_before = before.is_some_and(|c| is_digit(c) || c == '.');
    let number_after = match after.next() {
        Some('.') => after.next().is_some_and(is_digit),
        Some(c) => is_digit(c),
        None => false,
    };
    !number_before && !number_after
}

/// Whether a match writes its year, month and day with `_` or a space between them
/// (`2024_03_01`, `2024 03 01`), as series, protocol and content names and legacy consoles'
/// columns write the exam date. Only a file's own date so written is a date
/// ([`Which::own`]): three numbers spaced or joined so are as often a count, a size or some code.
fn spaced_numbers(c: &Captures) -> bool {
    c.name("s").is_some_and(|s| matches!(s.as_str(), "_" | " "))
}

/// Whether a match is read as a date only when it is one of the file's own dates
/// ([`Which::own`]): numbers spaced as a date ([`spaced_numbers`]) and an ordinal date
/// ([`Form::Ordinal`]), which are as often a count, a size or a case number (`2024-061`).
fn own_only(c: &Captures, form: Form) -> bool {
    form == Form::Ordinal || spaced_numbers(c)
}

/// Whether a date ends with `日` (`2024年1月2日`, `令和6年1月2日`, `1月2日`): the kanji closes
/// it, so what is glued after it is no part of it. Japanese text writes the time (`10時`,
/// `10:30`) or a count (`3錠`, `1回目`) right after the day; the date before stands alone.
fn closed_by_day(matched: &str) -> bool {
    matched.ends_with('日')
}

/// Whether the fraction of a second of a DT value follows a date and time of 14 digits
/// (`20240301093000.000000`, the way DT values are printed): it belongs to the date-time and
/// does not make a decimal number of it.
fn fraction_follows(matched: &str, rest: &str) -> bool {
    if matched.len() != 14 || !matched.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some(fraction) = rest.strip_prefix('.') else { return false };
    let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
    (1..=6).contains(&digits) && alone_after(fraction, digits)
}

/// Whether the match `start..end` of `text` goes on with a separator and a number of one or two
/// digits (`2024/1/2x`, `2024.03.45`: a day, or a dotted number); not with a year, as in a
/// range of months (`2024/03-2024/05`).
fn goes_on(text: &str, end: usize) -> bool {
    let mut after = text[end..].chars();
    after.next().is_some_and(is_separator) && (1..=2).contains(&after.take_while(|&c| is_digit(c)).take(3).count())
}

/// Whether an ISO 8601 time follows a date (`2024-01-02T09:30`): the `T` would otherwise glue
/// the date to a word.
fn time_follows(rest: &str) -> bool {
    let mut chars = rest.chars();
    chars.next() == Some('T') && chars.next().is_some_and(|c| c.is_ascii_digit())
}

/// The result of looking at one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Treated {
    /// The text with its dates shifted or replaced.
    pub text: String,
    /// How many dates were shifted or replaced.
    pub changed: usize,
}

/// Shift or replace the dates in `text` that `which` selects, as `how` says. `None` when
/// nothing changed (the caller keeps the original bytes). Give NFKC text: full-width digits
/// are not read as digits.
///
/// ```
/// use kamei::text_dates::{treat, DateTreatment, Which};
/// let t = treat("follow-up of 2024-01-12, seen 12-JAN-2024", DateTreatment::Shift(-10), Which::All).unwrap();
/// assert_eq!(t.text, "follow-up of 2024-01-02, seen 02-JAN-2024");
/// assert_eq!(treat("seen 2024/1/12", DateTreatment::Replace, Which::All).unwrap().text, "seen ***");
/// ```
pub fn treat(text: &str, how: DateTreatment, which: Which) -> Option<Treated> {
    let spans = spans(text, how, which);
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in &spans {
        out.push_str(&text[at..s.start]);
        out.push_str(&s.replacement);
        at = s.end;
    }
    out.push_str(&text[at..]);
    Some(Treated { text: out, changed: spans.len() })
}

/// One date found in a text, and what replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Byte offset where the date starts.
    pub start: usize,
    /// Byte offset just after it.
    pub end: usize,
    /// The shifted date in its spelling, or [`REDACTED`].
    pub replacement: String,
}

/// The dates of `text` that `which` selects and `how` changes, in order and not overlapping:
/// what [`treat`] replaces, for a caller that keeps its own map of the text (clinical free text
/// writes every character outside a date back as it was).
pub fn spans(text: &str, how: DateTreatment, which: Which) -> Vec<Span> {
    if how == DateTreatment::Keep {
        return Vec::new();
    }
    let mut found = spans_as_written(text, how, which);
    // An invisible character inside a date (`2024\u{200B}0301`, a zero-width space or a soft
    // hyphen pasted with it) hides it from every pattern: the text is read again without them,
    // for the file's own dates only, as digits that such a character splits are as often two
    // numbers.
    let own = which.own();
    if own.is_empty() || !text.chars().any(crate::pseudo::is_invisible) {
        return found;
    }
    let mut visible = String::with_capacity(text.len());
    // The byte of `text` each byte of `visible` comes from, and the end.
    let mut origin: Vec<usize> = Vec::with_capacity(text.len() + 1);
    for (at, c) in text.char_indices().filter(|&(_, c)| !crate::pseudo::is_invisible(c)) {
        visible.push(c);
        origin.extend(at..at + c.len_utf8());
    }
    origin.push(text.len());
    for s in spans_as_written(&visible, how, Which::These(own)) {
        let last = (s.start..s.end).rev().find(|&i| visible.is_char_boundary(i)).unwrap_or(s.start);
        let (start, end) = (origin[s.start], origin[last] + visible[last..].chars().next().map_or(0, char::len_utf8));
        // A date read across the character wins over the parts of it read before (`2024/03`
        // of `2024/03/\u{200B}01`); one that overlaps a date read as written loses.
        let overlaps = |f: &Span| f.start < end && start < f.end;
        if found.iter().filter(|f| overlaps(f)).all(|f| start <= f.start && f.end <= end) {
            found.retain(|f| !overlaps(f));
            found.push(Span { start, end, replacement: s.replacement });
        }
    }
    found.sort_by_key(|s| s.start);
    found
}

/// [`spans`] of a text read as it is written (invisible characters and all).
fn spans_as_written(text: &str, how: DateTreatment, which: Which) -> Vec<Span> {
    let Some(digits) = kanji_numerals_as_digits(text) else {
        return digit_spans(text, how, which);
    };
    // Read with the kanji numerals as digits; each span then covers the original characters.
    digit_spans(&digits.text, how, which)
        .into_iter()
        .filter(|s| s.end > s.start)
        .map(|s| {
            // The last character of the span starts at the last char boundary before its end.
            let last = (s.start..s.end).rev().find(|&i| digits.text.is_char_boundary(i)).unwrap_or(s.start);
            let (start, end) = (digits.origin_bytes(s.start).start, digits.origin_bytes(last).end);
            Span { start, end, replacement: s.replacement }
        })
        .collect()
}

/// The kanji digits and the characters of place value (`十`, `百`, `千`) a number is written
/// with in Japanese dates.
fn kanji_digit(c: char) -> Option<u32> {
    "〇一二三四五六七八九".chars().position(|k| k == c).map(|d| d as u32).or((c == '零').then_some(0))
}

/// Whether `c` is a kanji numeral a date may be written with (`〇`–`九`, `零`, `十`, `百`, `千`).
pub fn is_kanji_numeral(c: char) -> bool {
    kanji_digit(c).is_some() || matches!(c, '十' | '百' | '千')
}

/// The value of a run of kanji numerals: digit by digit (`一九八五`, `二〇二四`) or with place
/// values (`六十`, `十五`, `三十一`, `千九百八十五`, `二千二十四`). `None` when it reads neither way.
fn kanji_number(run: &[char]) -> Option<u32> {
    if run.iter().all(|&c| kanji_digit(c).is_some()) {
        return (run.len() <= 4).then(|| run.iter().fold(0, |n, &c| n * 10 + kanji_digit(c).unwrap_or(0)));
    }
    let (mut total, mut digit, mut last_place) = (0u32, None::<u32>, u32::MAX);
    for &c in run {
        if let Some(d) = kanji_digit(c) {
            if digit.is_some() {
                return None;
            }
            digit = Some(d);
            continue;
        }
        let place = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            _ => return None,
        };
        if place >= last_place {
            return None;
        }
        total += digit.take().unwrap_or(1) * place;
        last_place = place;
    }
    Some(total + digit.unwrap_or(0))
}

/// A text with its kanji numerals before `年`, `月` or `日` written in ASCII digits
/// ([`kanji_numerals_as_digits`]), and the map back to the text it was read from. Only the
/// numbers rewritten are held in the map, so reading a note of megabytes takes about its own
/// size again, not a range per character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsDigits {
    /// The text with the numbers in digits (`昭和60年3月15日`).
    pub text: String,
    /// Each number rewritten, in order.
    runs: Vec<Rewritten>,
}

/// One run of kanji numerals written as digits: where it stands in the result and in the
/// original, in bytes and in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rewritten {
    out_bytes: std::ops::Range<usize>,
    orig_bytes: std::ops::Range<usize>,
    out_chars: std::ops::Range<usize>,
    orig_chars: std::ops::Range<usize>,
}

impl AsDigits {
    /// The byte range of the original text that the character at byte `at` of
    /// [`AsDigits::text`] stands for: the whole run of numerals for a digit written for one.
    pub fn origin_bytes(&self, at: usize) -> std::ops::Range<usize> {
        let len = self.text[at..].chars().next().map_or(0, char::len_utf8);
        Self::origin(&self.runs, at, len, |r| (&r.out_bytes, &r.orig_bytes))
    }

    /// The character range of the original text that character `at` of [`AsDigits::text`]
    /// stands for (as [`AsDigits::origin_bytes`], in characters).
    pub fn origin_chars(&self, at: usize) -> std::ops::Range<usize> {
        Self::origin(&self.runs, at, 1, |r| (&r.out_chars, &r.orig_chars))
    }

    /// The range of the original that position `at` (of a unit `len` long) of the result comes
    /// from, with `side` giving a run's ranges in the unit counted.
    fn origin(
        runs: &[Rewritten],
        at: usize,
        len: usize,
        side: impl Fn(&Rewritten) -> (&std::ops::Range<usize>, &std::ops::Range<usize>),
    ) -> std::ops::Range<usize> {
        // The last run starting at or before `at`.
        let n = runs.partition_point(|r| side(r).0.start <= at);
        let Some(run) = n.checked_sub(1).map(|i| &runs[i]) else { return at..at + len };
        let (out, orig) = side(run);
        if at < out.end {
            return orig.clone();
        }
        let from = at - out.end + orig.end;
        from..from + len
    }
}

/// `text` with each run of kanji numerals that stands before `年`, `月` or `日` written in ASCII
/// digits (`昭和六十年三月十五日` → `昭和60年3月15日`), with the map back to `text`; `None` when
/// there is no such run. The date rules read the result, so a date in kanji numerals is treated
/// as its digits are.
///
/// ```
/// let d = kamei::text_dates::kanji_numerals_as_digits("一九八五年三月十五日生").unwrap();
/// assert_eq!(d.text, "1985年3月15日生");
/// assert_eq!(d.origin_chars(7), 7..9, "`15` stands for `十五`");
/// assert!(kamei::text_dates::kanji_numerals_as_digits("一人で来院").is_none());
/// ```
pub fn kanji_numerals_as_digits(text: &str) -> Option<AsDigits> {
    let is_numeral = is_kanji_numeral;
    if !text.chars().any(is_numeral) {
        return None;
    }
    let mut out = AsDigits { text: String::with_capacity(text.len()), runs: Vec::new() };
    let (mut out_chars, mut orig_chars) = (0, 0);
    let mut chars = text.char_indices().peekable();
    let mut run: Vec<char> = Vec::new();
    while let Some(&(at, c)) = chars.peek() {
        if !is_numeral(c) {
            out.text.push(c);
            chars.next();
            out_chars += 1;
            orig_chars += 1;
            continue;
        }
        // A run of numerals: read whole (a number's run is short; a long run of numerals that
        // is no number is copied as it is).
        run.clear();
        let mut end = at;
        while let Some(&(i, c)) = chars.peek().filter(|&&(_, c)| is_numeral(c)) {
            run.push(c);
            end = i + c.len_utf8();
            chars.next();
        }
        let before_unit = matches!(chars.peek(), Some((_, '年' | '月' | '日')));
        match kanji_number(&run).filter(|_| before_unit) {
            Some(n) => {
                let digits = n.to_string();
                let from = out.text.len();
                out.text.push_str(&digits);
                out.runs.push(Rewritten {
                    out_bytes: from..out.text.len(),
                    orig_bytes: at..end,
                    out_chars: out_chars..out_chars + digits.len(),
                    orig_chars: orig_chars..orig_chars + run.len(),
                });
                out_chars += digits.len();
            }
            None => {
                out.text.push_str(&text[at..end]);
                out_chars += run.len();
            }
        }
        orig_chars += run.len();
    }
    (!out.runs.is_empty()).then_some(out)
}

/// [`spans`] of a text whose numbers are written in digits.
fn digit_spans(text: &str, how: DateTreatment, which: Which) -> Vec<Span> {
    if how == DateTreatment::Keep || !text.chars().any(is_digit) || !ANY.is_match(text) {
        return Vec::new();
    }
    // Every match of every pattern, then the earliest and longest of overlapping ones, so a
    // date is read once (`令和6年1月2日` is an era date, not also `1月2日`).
    let mut found: Vec<(Span, Option<NaiveDate>)> = Vec::new();
    // The order the text writes its years in, read once and only for a short-year match.
    let text_order = std::cell::OnceCell::new();
    for (form, re) in PATTERNS.iter() {
        for c in re.captures_iter(text) {
            let m = c.get(0).expect("group 0");
            let rest = &text[m.end()..];
            let alone = alone_before(text, m.start())
                && (alone_after(text, m.end())
                    || time_follows(rest)
                    || fraction_follows(m.as_str(), rest)
                    || closed_by_day(m.as_str()));
            // Joined to a word, only the file's own dates written with their year count: in
            // full, as an ordinal (`CT2024061`) or as six digits (`CT240301`, `240301_ax`).
            let which = match which {
                _ if alone => which,
                _ if matches!(form, Form::Plain | Form::Swappable | Form::Ordinal | Form::SixDigits)
                    && !which.own().is_empty()
                    && joined_by_word(text, m.start(), m.end()) =>
                {
                    Which::These(which.own())
                }
                _ => continue,
            };
            let which = if own_only(&c, *form) { Which::These(which.own()) } else { which };
            // A numeric year before `年` is read with the month and day by a pattern of its own
            // (`2024年3月15日`, `60年3月15日`); a year in kanji numerals is not, and the month and
            // day go alone (`昭和六十年***`).
            if matches!(form, Form::NoYear | Form::MonthSlashDay)
                && text[..m.start()].strip_suffix('年').is_some_and(|t| t.ends_with(is_digit))
            {
                continue;
            }
            // Full-width digits do not glue as ASCII ones do: `２４年` inside `２０２４年` is no year.
            if *form == Form::BareYear && text[..m.start()].ends_with(is_digit) {
                continue;
            }
            // After an era (`平成36年1月2日`), the year is the era's: the era pattern reads it, or
            // it is no date (a year the era never reached), never a year without its era.
            if *form == Form::BareYear && ERA_BEFORE.is_match(&text[..m.start()]) {
                continue;
            }
            if *form == Form::MonthSlashDay && text[..m.start()].ends_with(['/', '／', '-']) {
                continue;
            }
            // A year and month that goes on with a separator and a day's digits is part of
            // something longer (`2024/1/2x`, `2024.03.45`): a date read whole by another
            // pattern, or no date.
            if *form == Form::NumericYearMonth && goes_on(text, m.end()) {
                continue;
            }
            let english_no_year = *form == Form::NoYear
                && c.name("m").is_some_and(|g| g.as_str().chars().all(|c| c.is_ascii_alphabetic()));
            // The words around it, within a few words: a long note's rest is not read again
            // at each date.
            let (before, after) = (words_before(text, m.start()), words_after(text, m.end()));
            let slash_day = || Some((number(c.name("m")?.as_str())?, number(c.name("d")?.as_str())?));
            let cued = || {
                says_date(before, after)
                    || (*form == Form::MonthSlashDay
                        && slash_day().is_some_and(|day| slash_date_cue(before, day, after)))
            };
            if (*form == Form::MonthSlashDay || english_no_year) && !cued() {
                continue;
            }
            if *form == Form::SixDigits && !(cued() || six_digits_within_own_years(&c, which.own())) {
                continue;
            }
            if english_no_year && reads_as_count_or_verb(&c, &text[m.end()..]) {
                continue;
            }
            let order = match form {
                Form::ShortYear => *text_order.get_or_init(|| year_order(text)),
                _ => None,
            };
            if let Some((replacement, date)) = replacement(&c, *form, how, which, order) {
                found.push((Span { start: m.start(), end: m.end(), replacement }, date));
            }
        }
    }
    found.sort_by_key(|(s, _)| (s.start, usize::MAX - s.end));
    let mut at = 0;
    found.retain(|(s, _)| {
        let keep = s.start >= at;
        if keep {
            at = s.end;
        }
        keep
    });
    with_weekdays(text, with_continuations(text, found))
}

/// What joins the dates of a range (`～`, `〜`, `~`, the dashes, `から`) or a list (`、`, `,`,
/// `・`, `と`).
const JOINER: &str = r"\s*(?:(?P<range>[～〜~\-－\x{2010}-\x{2015}\x{2212}]|から)|[、,，・と])\s*";

/// A date without its year after a date and a [`JOINER`]: a month and day (`2/5`), a day
/// (`5日`), or after a range mark a number alone (`2024/2/1～5`).
static CONTINUES_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    let re = format!(r"^{JOINER}(?:(?P<m>\d{{1,2}})[/／](?P<d>\d{{1,2}})|(?P<day>\d{{1,2}})日|(?P<bare>\d{{1,2}}))");
    Regex::new(&re.replace(r"\d", DIGIT)).expect("valid built-in pattern")
});

/// A month and day or a day without its year before a range mark and a date
/// (`12/28～2024/1/5`).
static CONTINUES_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    let re =
        r"(?:(?P<m>\d{1,2})[/／](?P<d>\d{1,2})|(?P<day>\d{1,2})日)\s*(?:[～〜~\-－\x{2010}-\x{2015}\x{2212}]|から)\s*$";
    Regex::new(&re.replace(r"\d", DIGIT)).expect("valid built-in pattern")
});

/// The spans with the dates written without their year in a range or a list with one of them
/// (`2024/2/1～2/5`, `2024/2/1、2/8、2/15`, `2024年2月1日～5日`, `2024/2/1～5`,
/// `12/28～2024/1/5`), each replaced. Alone, `2/5` is read as a date only where the words around
/// it say so ([`says_date`]); beside a date it is the end of its range or the next of its list,
/// and left real beside a shifted date it gives the offset away.
fn with_continuations(text: &str, mut found: Vec<(Span, Option<NaiveDate>)>) -> Vec<(Span, Option<NaiveDate>)> {
    let mut i = 0;
    while i < found.len() {
        let prev_end = if i == 0 { 0 } else { found[i - 1].0.end };
        if let Some(span) = continuation_before(text, prev_end, found[i].0.start) {
            found.insert(i, (span, None));
            i += 1;
        }
        let next_start = found.get(i + 1).map_or(text.len(), |(s, _)| s.start);
        if let Some(span) = continuation_after(text, found[i].0.end, next_start) {
            found.insert(i + 1, (span, None));
        }
        i += 1;
    }
    found
}

/// A date without its year in `text[end..limit]`, right after a date that ends at `end`
/// (past the weekday written beside it) and a [`JOINER`].
fn continuation_after(text: &str, end: usize, limit: usize) -> Option<Span> {
    let end = end + weekday_after(&text[end..limit]).map_or(0, |w| w.end);
    let c = CONTINUES_AFTER.captures(&text[end..limit])?;
    let whole = c.get(0).expect("group 0");
    let (start, stop) = (end + whole.end() - last_group(&c)?.len(), end + whole.end());
    let rest = &text[stop..];
    let valid = if let (Some(m), Some(d)) = (c.name("m"), c.name("d")) {
        // `1/2錠` is half a tablet.
        const COUNTERS: [char; 9] = ['錠', '包', '本', '枚', '回', '個', '量', '倍', '%'];
        alone_after(text, stop) && !rest.starts_with(COUNTERS) && is_month_day(number(m.as_str())?, number(d.as_str())?)
    } else if let Some(day) = c.name("day") {
        // `5日間` is a length of time.
        !rest.starts_with('間') && is_month_day(1, number(day.as_str())?)
    } else {
        // A number alone after a range mark only: `2024/2/1-5` may be a count, `～5回` is one.
        let bare = number(c.name("bare")?.as_str())?;
        let range_mark = c.name("range").is_some_and(|r| !r.as_str().starts_with(is_separator));
        range_mark
            && is_month_day(1, bare)
            && rest.chars().next().is_none_or(|n| !n.is_alphanumeric() && !matches!(n, '.' | '/' | ':' | '．' | '／'))
    };
    valid.then(|| Span { start, end: stop, replacement: REDACTED.to_string() })
}

/// A month and day or a day without its year in `text[start..end]`, right before a range mark
/// and a date that starts at `end`.
fn continuation_before(text: &str, start: usize, end: usize) -> Option<Span> {
    let c = CONTINUES_BEFORE.captures(&text[start..end])?;
    let at = start + c.get(0).expect("group 0").start();
    let valid = match (c.name("m"), c.name("d"), c.name("day")) {
        (Some(m), Some(d), _) => is_month_day(number(m.as_str())?, number(d.as_str())?),
        (_, _, Some(day)) => is_month_day(1, number(day.as_str())?),
        _ => false,
    };
    let stop = start + [c.name("d"), c.name("day")].into_iter().flatten().next()?.end();
    let stop = if c.name("day").is_some() { stop + '日'.len_utf8() } else { stop };
    (valid && alone_before(text, at)).then(|| Span { start: at, end: stop, replacement: REDACTED.to_string() })
}

/// The last date group matched by [`CONTINUES_AFTER`], with the `日` of a day: the date.
fn last_group<'t>(c: &Captures<'t>) -> Option<&'t str> {
    let whole = c.get(0)?;
    let from = c.name("m").or_else(|| c.name("day")).or_else(|| c.name("bare"))?.start();
    Some(&whole.as_str()[from - whole.start()..])
}

/// Whether `m` and `d` can be a month and a day.
fn is_month_day(m: u32, d: u32) -> bool {
    (1..=12).contains(&m) && (1..=31).contains(&d)
}

/// The spans with the weekday written next to each date (`2024/02/01(木)`, `Thu 2024-02-01`,
/// `木曜日 2024/2/1`) made to agree with what replaces the date: the shifted date's weekday in
/// the same style, a span of its own so that the brackets and spaces around it stay as written,
/// or replaced with the date. A real weekday beside a shifted date gives the offset away
/// (modulo 7), and beside a removed date it is part of it.
fn with_weekdays(text: &str, found: Vec<(Span, Option<NaiveDate>)>) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::with_capacity(found.len());
    for (i, (mut span, date)) in found.iter().cloned().enumerate() {
        let next_start = found.get(i + 1).map_or(text.len(), |(s, _)| s.start);
        let prev_end = out.last().map_or(0, |s: &Span| s.end);
        let before = WEEKDAY_BEFORE.captures(&text[prev_end..span.start]).map(|c| {
            let w = c.name("e").or_else(|| c.name("j")).expect("weekday group");
            prev_end + w.start()..prev_end + w.end()
        });
        let after = weekday_after(&text[span.end..next_start])
            .map(|w| (span.end + w.name.start..span.end + w.name.end, span.end + w.end));
        match date {
            Some(d) => {
                let weekday = |r: std::ops::Range<usize>| Span {
                    start: r.start,
                    end: r.end,
                    replacement: weekday_like(&text[r], d),
                };
                out.extend(before.map(weekday));
                out.push(span);
                out.extend(after.map(|(name, _)| weekday(name)));
            }
            None => {
                // The weekday goes with the date it named.
                if before.is_some() || after.is_some() {
                    span.replacement = REDACTED.to_string();
                }
                if let Some(b) = before {
                    span.start = b.start;
                }
                if let Some((_, end)) = after {
                    span.end = end;
                }
                out.push(span);
            }
        }
    }
    out
}

/// What replaces one match, and the date it now names when it was shifted: `None` to leave it
/// (not a date, or a date `which` does not want). `order`: the order the text writes its
/// years in ([`year_order`]), for a [`Form::ShortYear`] match.
fn replacement(
    c: &Captures,
    form: Form,
    how: DateTreatment,
    which: Which,
    order: Option<ShortReading>,
) -> Option<(String, Option<NaiveDate>)> {
    let redacted = || (REDACTED.to_string(), None);
    let group = |name: &str| c.name(name).and_then(|g| number(g.as_str()));
    match form {
        Form::NoYear | Form::MonthSlashDay => {
            let m = month(c.name("m")?.as_str())?;
            let d = group("d")?;
            // `May` is a month only in capitals: `may 2 tablets` is a verb and a dose.
            let verb = c.name("m").is_some_and(|g| g.as_str() == "may");
            ((1..=12).contains(&m) && (1..=31).contains(&d) && which.wants_day(m, d) && !verb).then(redacted)
        }
        Form::ShortYear => short_year(c, how, which, order),
        Form::SixDigits => {
            let readings = six_digit_readings(c.name("y")?.as_str(), c.name("m")?.as_str(), c.name("d")?.as_str());
            if !readings.iter().any(|&(date, _)| which.wants(date)) {
                return None;
            }
            match (how, readings.as_slice()) {
                (DateTreatment::Shift(days), [(date, true)]) => {
                    Some(dates::shift(*date, days).map_or_else(redacted, |s| (respell(c, s, ["y", "m", "d"]), Some(s))))
                }
                _ => Some(redacted()),
            }
        }
        Form::BareYear => {
            let (m, d) = (group("m")?, group("d")?);
            ((1..=12).contains(&m) && (1..=31).contains(&d) && which.wants_day(m, d)).then(redacted)
        }
        Form::YearMonth | Form::NumericYearMonth => {
            let (y, m) = (year(c.name("y")?.as_str())?, month(c.name("m")?.as_str())?);
            if form == Form::NumericYearMonth && !(1900..=2099).contains(&y) {
                return None;
            }
            // `may 2024` is a verb and a number, as `may 2 tablets` is.
            if c.name("m").is_some_and(|g| g.as_str() == "may") {
                return None;
            }
            let middle = dates::middle_of_period(y, Some(m))?;
            if !which.wants_month(y, m) {
                return None;
            }
            match how {
                DateTreatment::Shift(days) => {
                    Some(dates::shift(middle, days).map_or_else(redacted, |s| (respell(c, s, ["y", "m", "d"]), None)))
                }
                _ => Some(redacted()),
            }
        }
        Form::CompactEra => {
            // Only a day the era had: `S123456`, `H450101` are some code.
            let date = era_date(c)?;
            which.wants(date).then(redacted)
        }
        Form::Era => {
            // `R 3.6.1` is a version; `R 3. 6. 1`, printed in columns, a date.
            if c.name("sp").is_some()
                && c.name("era").is_some_and(|e| e.as_str().chars().count() == 1)
                && !in_columns(c)
            {
                return None;
            }
            let date = era_date(c);
            let wanted = match date {
                _ if which.is_all() => true,
                Some(d) => which.wants(d),
                None => false,
            };
            wanted.then(redacted)
        }
        Form::Ordinal => {
            let date = NaiveDate::from_yo_opt(year(c.name("y")?.as_str())?, group("j")?)?;
            if !which.wants(date) {
                return None;
            }
            match how {
                DateTreatment::Shift(days) => Some(dates::shift(date, days).map_or_else(redacted, |s| {
                    (format!("{:04}{}{:03}", s.year(), c.name("s").map_or("", |g| g.as_str()), s.ordinal()), Some(s))
                })),
                _ => Some(redacted()),
            }
        }
        Form::Plain | Form::Swappable => {
            // A two-digit year after an apostrophe (`'24`) is group `y2`.
            let y_group = if c.name("y2").is_some() { "y2" } else { "y" };
            let y = year(c.name(y_group)?.as_str())?;
            let m = month(c.name("m")?.as_str())?;
            let d = group("d")?;
            let mut readings: Vec<(NaiveDate, bool)> = Vec::new();
            if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                readings.push((date, false));
            }
            if form == Form::Swappable && m != d {
                if let Some(date) = NaiveDate::from_ymd_opt(y, d, m) {
                    readings.push((date, true));
                }
            }
            if readings.is_empty() {
                // Shaped like a date but none (`2024-13-45`): a typing slip next to a real
                // date is still a date; a bare run of digits is some other number.
                // Dots make version numbers (`2024.13.01`, `0.5.2024`), which stay.
                let text = c.get(0).map_or("", |m| m.as_str());
                let slip = !text.chars().all(is_digit) && !text.contains(['.', '．']);
                return (which.is_all() && slip).then(redacted);
            }
            if !readings.iter().any(|&(date, _)| which.wants(date)) {
                return None;
            }
            match (how, readings.as_slice()) {
                (DateTreatment::Shift(days), [(date, swapped)]) => {
                    Some(dates::shift(*date, days).map_or_else(redacted, |s| {
                        (respell(c, s, if *swapped { [y_group, "d", "m"] } else { [y_group, "m", "d"] }), Some(s))
                    }))
                }
                _ => Some(redacted()),
            }
        }
    }
}

/// The dates six digits `yy`, `mm`, `dd` make with a two-digit year, in every order people
/// write one: `YYMMDD` (as Japanese forms, export jobs and file names do; `true`), `DDMMYY`
/// and `MMDDYY`, each date once. `240102` is 2 January 2024 or 24 January 2002; `851203`
/// reads as `YYMMDD` only. Read so for text and for a clinical file's name alike: a date that
/// reads two ways cannot be shifted safely, as the wrong reading keeps the real day and month
/// where the other reads them.
pub(crate) fn six_digit_readings(a: &str, b: &str, c: &str) -> Vec<(NaiveDate, bool)> {
    let mut out: Vec<(NaiveDate, bool)> = Vec::new();
    for (y, m, d, yymmdd) in [(a, b, c, true), (c, b, a, false), (c, a, b, false)] {
        let date = year(y).zip(number(m)).zip(number(d)).and_then(|((y, m), d)| NaiveDate::from_ymd_opt(y, m, d));
        if let Some(date) = date.filter(|date| !out.iter().any(|(other, _)| other == date)) {
            out.push((date, yymmdd));
        }
    }
    out
}

/// Whether a [`Form::SixDigits`] match reads as a date within the years of the record's own
/// dates (from the first year's first day to the last year's last day): `240102` in a note
/// of a row dated 2024-03-01, not `093015` (a time) nor `123456` (no date), and nothing when
/// the record has no dates of its own.
fn six_digits_within_own_years(c: &Captures, own: &[NaiveDate]) -> bool {
    let (Some(first), Some(last)) = (own.iter().map(|d| d.year()).min(), own.iter().map(|d| d.year()).max()) else {
        return false;
    };
    let (Some(y), Some(m), Some(d)) = (c.name("y"), c.name("m"), c.name("d")) else { return false };
    six_digit_readings(y.as_str(), m.as_str(), d.as_str()).iter().any(|(date, _)| (first..=last).contains(&date.year()))
}

/// Where the dates of a text written with a four-digit year put it, among the slashed and
/// dashed ones (`2024/1/15`, `15/01/2024`): the order the text writes its dates in, which a
/// [`Form::ShortYear`] date of the same text follows. `None` when it writes none or both.
fn year_order(text: &str) -> Option<ShortReading> {
    static FIRST: LazyLock<Regex> = LazyLock::new(|| {
        let re = r"\d{4}[-/－／]PAD\d{1,2}[-/－／]PAD\d{1,2}".replace(r"\d", DIGIT).replace("PAD", "[ \u{3000}]?");
        Regex::new(&re).expect("valid built-in pattern")
    });
    static LAST: LazyLock<Regex> = LazyLock::new(|| {
        let re = r"\d{1,2}[-/－／]PAD\d{1,2}[-/－／]\d{4}".replace(r"\d", DIGIT).replace("PAD", "[ \u{3000}]?");
        Regex::new(&re).expect("valid built-in pattern")
    });
    let writes = |re: &Regex| re.find_iter(text).any(|m| stands_alone(text, m.start(), m.end()));
    match (writes(&FIRST), writes(&LAST)) {
        (true, false) => Some(ShortReading::YearFirst),
        (false, true) => Some(ShortReading::DayFirst),
        _ => None,
    }
}

/// What replaces a [`Form::ShortYear`] match: `None` unless it makes a date that `which` wants.
/// It is read every way that makes a date, the year first or last and of one or two digits
/// (`24/1/2` is 2024-01-02 or 24 January 2002), and shifted only when it reads as one date
/// (`85/3/15`, whose `85` is no day or month), replaced when it reads as two (`24/1/15` is
/// 2024-01-15 or 24 January 2015). `order`, the order the text's other dates write their
/// four-digit year in ([`year_order`]), keeps the readings with the year there: beside
/// `2024/1/15`, `24/1/2` is 2024-01-02 (beside `15/01/2024` the year is last, and the day and
/// month may still read two ways).
fn short_year(
    c: &Captures,
    how: DateTreatment,
    which: Which,
    order: Option<ShortReading>,
) -> Option<(String, Option<NaiveDate>)> {
    let two_digits = |name: &str| c.name(name).is_some_and(|g| g.as_str().chars().count() == 2);
    if c.name("s")?.as_str() != c.name("t")?.as_str() || !(two_digits("a") || two_digits("c")) {
        return None;
    }
    let year_last = |r: ShortReading| r != ShortReading::YearFirst;
    let mut readings: Vec<(NaiveDate, ShortReading)> = Vec::new();
    for reading in [ShortReading::YearFirst, ShortReading::DayFirst, ShortReading::MonthFirst] {
        let [y, m, d] = reading.groups().map(|name| c.name(name).map(|g| g.as_str()).unwrap_or_default());
        let date =
            short_year_number(y).zip(number(m)).zip(number(d)).and_then(|((y, m), d)| NaiveDate::from_ymd_opt(y, m, d));
        if let Some(date) = date.filter(|date| !readings.iter().any(|(other, _)| other == date)) {
            readings.push((date, reading));
        }
    }
    if let Some(order) = order {
        let ordered: Vec<_> = readings.iter().copied().filter(|&(_, r)| year_last(r) == year_last(order)).collect();
        if !ordered.is_empty() {
            readings = ordered;
        }
    }
    if !readings.iter().any(|&(date, _)| which.wants(date)) {
        return None;
    }
    let redacted = || (REDACTED.to_string(), None);
    match (how, readings.as_slice()) {
        (DateTreatment::Shift(days), [(date, reading)]) => {
            Some(dates::shift(*date, days).map_or_else(redacted, |s| (respell(c, s, reading.groups()), Some(s))))
        }
        _ => Some(redacted()),
    }
}

/// A year of one or two digits (`2` → 2002, `24` → 2024, `85` → 1985: within the century up
/// to 30 years ahead of 2000, as [`year`] reads two).
fn short_year_number(s: &str) -> Option<i32> {
    match s.chars().count() {
        1 => Some(2000 + number(s)? as i32),
        2 => year(s),
        _ => None,
    }
}

/// Whether a match's month and day take two columns each, a one-digit number padded with a
/// space after its separator (`H 1. 4. 1`, `S60. 3.15`): the fixed-width layout of legacy
/// systems.
fn in_columns(c: &Captures) -> bool {
    let whole = c.get(0).expect("group 0");
    ["m", "d"]
        .iter()
        .all(|name| c.name(name).is_some_and(|g| g.as_str().chars().count() + usize::from(space_padded(whole, g)) == 2))
}

/// Whether group `g` of the match `whole` is padded with a space after a separator
/// (`2024/ 2/ 1`), not a space around `年` or `月` (`2024 年 2 月`).
fn space_padded(whole: regex::Match, g: regex::Match) -> bool {
    padding(whole, g).is_some()
}

/// The space padding group `g` of the match `whole` after a separator, if any.
fn padding(whole: regex::Match, g: regex::Match) -> Option<char> {
    let mut before = whole.as_str()[..g.start() - whole.start()].chars().rev();
    let space = before.next().filter(|&c| c == ' ' || c == '\u{3000}')?;
    before.next().is_some_and(is_separator).then_some(space)
}

/// The space a match printed in columns pads with: ideographic when it uses one.
fn padding_of(c: &Captures, groups: [&str; 2]) -> char {
    let whole = c.get(0).expect("group 0");
    groups.iter().filter_map(|n| c.name(n)).find_map(|g| padding(whole, g)).unwrap_or(' ')
}

/// Whether `c` is one of the separators of a numeric date ([`SEPARATOR`]).
fn is_separator(c: char) -> bool {
    matches!(c, '-' | '/' | '.' | '－' | '／' | '．' | '\u{2212}' | '\u{2010}'..='\u{2015}' | '\u{30FC}' | '\u{FF70}')
}

/// The date an era match names, when it has a day the era had ([`dates::Era::date`]: not
/// `H36.1.2`, `H31.5.1`, `R1.4.30`).
fn era_date(c: &Captures) -> Option<NaiveDate> {
    let era = dates::Era::named(c.name("era")?.as_str())?;
    let ey = c.name("ey")?.as_str();
    let ey = if ey == "元" { 1 } else { number(ey)? as i32 };
    era.date(ey, number(c.name("m")?.as_str())?, number(c.name("d")?.as_str())?)
}

/// A year of four digits, or of two (`85` → 1985, `24` → 2024: within the century up to 30
/// years ahead of 2000).
fn year(s: &str) -> Option<i32> {
    let y = number(s)? as i32;
    Some(match s.chars().count() {
        4 => y,
        2 if y <= 30 => 2000 + y,
        2 => 1900 + y,
        _ => return None,
    })
}

/// The English months, lower case (also read in CSV file names).
pub(crate) const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A month given as a number or an English name.
fn month(s: &str) -> Option<u32> {
    if let Some(m) = number(s) {
        return Some(m);
    }
    let l = s.to_ascii_lowercase();
    let i = MONTH_NAMES.iter().position(|name| name.starts_with(&l[..3.min(l.len())]))?;
    Some(i as u32 + 1)
}

/// The match `c` rewritten with `date`: each group keeps its width and style (zero padding,
/// a two-digit year, a month name's case and length), reading the groups named by the three
/// names as the year, the month and the day (`["y", "d", "m"]` for a day and month read the
/// other way round; a [`ShortReading`]'s groups).
fn respell(c: &Captures, date: NaiveDate, [y_group, m_group, d_group]: [&str; 3]) -> String {
    let whole = c.get(0).expect("group 0");
    // `2024/1/12` is written without padding, `2024/01/12` with it; `2024/11/12` says nothing
    // and is padded.
    let unpadded = [m_group, d_group].iter().any(|n| c.name(n).is_some_and(|g| g.as_str().chars().count() == 1));
    // `2024/ 2/ 1` is printed in columns: a one-digit month or day padded with a space.
    let columns = [m_group, d_group].iter().any(|n| c.name(n).is_some_and(|g| space_padded(whole, g)));
    let mut parts: Vec<(usize, usize, String)> = Vec::new();
    if let Some(g) = c.name("o") {
        let suffix = dates::ordinal_suffix(&date.day().to_string());
        let suffix = if g.as_str().chars().all(|c| c.is_ascii_uppercase()) {
            suffix.to_ascii_uppercase()
        } else {
            suffix.to_string()
        };
        parts.push((g.start() - whole.start(), g.end() - whole.start(), suffix));
    }
    for (name, value) in [(y_group, date.year() as u32), (m_group, date.month()), (d_group, date.day())] {
        let Some(g) = c.name(name) else { continue };
        let old = g.as_str();
        let padded = name != y_group && columns;
        let space = padding(whole, g).filter(|_| padded);
        let start = g.start() - space.map_or(0, char::len_utf8);
        let new = if old.chars().all(is_digit) {
            let width = old.chars().count();
            // A two-digit or one-digit year stays short (`24`, `2` of 2002; `10` after 2009).
            let value = if width <= 2 && name == y_group { value % 100 } else { value };
            if name == y_group {
                format!("{value:0width$}")
            } else if padded && value < 10 {
                format!("{}{value}", padding_of(c, [m_group, d_group]))
            } else if padded || unpadded {
                value.to_string()
            } else {
                format!("{value:02}")
            }
        } else {
            month_name_like(old, value)
        };
        let new = if old.chars().any(|c| ('０'..='９').contains(&c)) { full_width(&new) } else { new };
        parts.push((start - whole.start(), g.end() - whole.start(), new));
    }
    parts.sort_by_key(|p| p.0);
    let text = whole.as_str();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, new) in parts {
        out.push_str(&text[at..start]);
        out.push_str(&new);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// `text` with its ASCII digits in full width, as the date they replace was written.
fn full_width(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_digit() { wide(c).unwrap_or(c) } else { c }).collect()
}

/// The full-width form (U+FF01–U+FF5E) of a printable ASCII character other than space.
pub fn wide(c: char) -> Option<char> {
    char::from_u32(c as u32 + 0xFEE0).filter(|w| ('！'..='～').contains(w))
}

/// The name of month `m` written like `old`: full or three letters (`Sept` → `Oct`), in its
/// case (`JAN`, `jan`, `Jan`).
fn month_name_like(old: &str, m: u32) -> String {
    let full = MONTH_NAMES[(m - 1) as usize];
    let name = if old.len() > 4 { full.to_string() } else { full[..3].to_string() };
    if old.chars().all(|c| c.is_ascii_uppercase()) {
        name.to_ascii_uppercase()
    } else if old.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
        let mut chars = name.chars();
        chars.next().map(|f| f.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(text: &str, days: i64) -> Option<String> {
        treat(text, DateTreatment::Shift(days), Which::All).map(|t| t.text)
    }

    #[test]
    fn a_short_year_date_that_reads_one_way_shifts_keeping_its_spelling() {
        assert_eq!(shift("受診 85/3/15", -10).unwrap(), "受診 85/3/5");
        assert_eq!(shift("seen 85-03-15.", 1).unwrap(), "seen 85-03-16.");
        assert_eq!(shift("seen 1/31/85", 1).unwrap(), "seen 2/1/85");
        assert_eq!(shift("９９／１２／３１", 1).unwrap(), "００／０１／０１");
    }

    #[test]
    fn a_short_year_date_that_reads_two_ways_is_replaced() {
        assert_eq!(shift("受診 24/1/15 外来", -10).unwrap(), "受診 *** 外来");
        assert_eq!(shift("seen 15/01/24", -10).unwrap(), "seen ***");
        let replaced = treat("24/1/15", DateTreatment::Replace, Which::All).unwrap();
        assert_eq!(replaced.text, "***");
    }

    #[test]
    fn a_short_year_date_with_a_one_digit_number_reads_two_ways_and_is_replaced() {
        // rv35: `24/1/2` was shifted as 2024-01-02, though read day first it is 24 January 2002.
        assert_eq!(shift("受診 24/1/2 外来", -10).unwrap(), "受診 *** 外来");
        assert_eq!(shift("seen 12/1/5", -10).unwrap(), "seen ***");
        assert_eq!(shift("seen 3/3/24", -10).unwrap(), "seen ***", "2024-03-03 or 2003-03-24");
        // One reading only: `85` is no day or month, and a year of 2085 is no reading.
        assert_eq!(shift("受診 85/1/2", -10).unwrap(), "受診 84/12/23");
    }

    #[test]
    fn a_short_year_date_follows_the_order_of_the_text_s_four_digit_year_dates() {
        // Beside a date written year first, a short one is year first too.
        assert_eq!(shift("2024/1/15 初診、24/1/2 再診", -10).unwrap(), "2024/1/5 初診、23/12/23 再診");
        assert_eq!(shift("2024-01-15 and 24-01-02", 1).unwrap(), "2024-01-16 and 24-01-03");
        // Beside one written year last, the year is last: `24/1/2` is 24 January 2002, and a
        // day and month that read both ways stay replaced.
        assert_eq!(shift("15/01/2024, 24/1/2", 1).unwrap(), "16/01/2024, 25/1/2");
        assert_eq!(shift("15/01/2024, 2/1/24", 1).unwrap(), "16/01/2024, ***");
        // Both orders in one text say nothing.
        assert_eq!(shift("2024/1/15, 15/01/2024, 24/1/2", 1).unwrap(), "2024/1/16, 16/01/2024, ***");
    }

    #[test]
    fn six_digits_are_a_date_where_the_text_says_so_or_within_the_record_s_years() {
        // rv35: `240102` was kept in a note beside shifted dates, though a file name's six
        // digits are read as a date.
        let own = [NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()];
        let cleaned =
            |text: &str, days: i64| treat(text, DateTreatment::Shift(days), Which::AllAndOwn(&own)).map(|t| t.text);
        // Within the record's years: 2 January 2024 or 24 January 2002, replaced.
        assert_eq!(cleaned("ref 240102 ok", -10).unwrap(), "ref *** ok");
        // One reading only (`85` is no day or month): shifted in its spelling.
        assert_eq!(shift("撮影日 851203", -10).unwrap(), "撮影日 851123");
        assert_eq!(shift("date: 851203", 1).unwrap(), "date: 851204");
        assert_eq!(shift("検査日：240102", 1).unwrap(), "検査日：***");
        // Without a cue or outside the record's years: a value, a count or an ID stays.
        for text in ["WBC 350102", "lot 851203", "time 093015", "no 123456", "1240102", "ID240102"] {
            assert_eq!(cleaned(text, -10), None, "{text}");
        }
        assert_eq!(shift("ref 240102 ok", -10), None, "no dates of its own: no years to fall within");
        assert_eq!(shift("240102 施行", -10).unwrap(), "*** 施行", "a date word after it");
        // Kept text: only the file's own date.
        let day = [NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()];
        assert!(treat("scan 240102", DateTreatment::Replace, Which::These(&day)).is_some());
        assert_eq!(treat("scan 240103", DateTreatment::Replace, Which::These(&day)), None);
    }

    #[test]
    fn a_short_year_date_in_kept_text_is_acted_on_only_when_it_is_a_file_date() {
        let own = [NaiveDate::from_ymd_opt(2024, 1, 15).unwrap()];
        let t = treat("CT 24/1/15", DateTreatment::Shift(-3), Which::These(&own)).unwrap();
        assert_eq!(t.text, "CT ***");
        let other = [NaiveDate::from_ymd_opt(2023, 6, 1).unwrap()];
        assert_eq!(treat("CT 24/1/15", DateTreatment::Shift(-3), Which::These(&other)), None);
    }

    #[test]
    fn three_short_numbers_that_make_no_date_or_use_dots_stay() {
        assert_eq!(shift("taper 40/20/10 mg", 5), None);
        assert_eq!(shift("ratio 1/2/3", 5), None);
        assert_eq!(shift("version 10.1.15", 5), None);
        assert_eq!(shift("24/1-15", 5), None);
        assert_eq!(shift("2024-01-15", 1).unwrap(), "2024-01-16");
    }

    #[test]
    fn year_first_dates_shift_keeping_their_spelling() {
        assert_eq!(shift("of 2024-01-12.", -10).unwrap(), "of 2024-01-02.");
        assert_eq!(shift("2024/1/12", -10).unwrap(), "2024/1/2");
        assert_eq!(shift("2024/12/31", 1).unwrap(), "2025/01/01");
        assert_eq!(shift("2024.03.01", -1).unwrap(), "2024.02.29");
        assert_eq!(shift("2024年3月1日", -1).unwrap(), "2024年2月29日");
        assert_eq!(shift("acquired 20240102", 1).unwrap(), "acquired 20240103");
    }

    fn replace(text: &str) -> Option<String> {
        treat(text, DateTreatment::Replace, Which::All).map(|t| t.text)
    }

    #[test]
    fn the_weekday_beside_a_shifted_date_is_the_shifted_dates() {
        // 2024-02-01 was a Thursday; 39 days earlier, 2023-12-24, a Sunday.
        assert_eq!(shift("次回 2024/02/01(木)", -39).unwrap(), "次回 2023/12/24(日)");
        assert_eq!(shift("2024年2月1日（木曜日）", -39).unwrap(), "2023年12月24日（日曜日）");
        assert_eq!(shift("CT Thu 2024-02-01", -39).unwrap(), "CT Sun 2023-12-24");
        assert_eq!(shift("Thursday, 1 February 2024", -39).unwrap(), "Sunday, 24 December 2023");
        assert_eq!(shift("2024-02-01 (THU)", -39).unwrap(), "2023-12-24 (SUN)");
    }

    #[test]
    fn rv32_07_a_weekday_in_lenticular_or_square_brackets_follows_its_date() {
        // 2024-03-01 was a Friday; 34 days earlier, 2024-01-27, a Saturday.
        for (open, close) in [("【", "】"), ("[", "]"), ("〔", "〕"), ("［", "］")] {
            let text = format!("検査日 2024/3/1{open}金{close} 造影");
            assert_eq!(shift(&text, -34).unwrap(), format!("検査日 2024/1/27{open}土{close} 造影"));
            assert_eq!(replace(&text).unwrap(), "検査日 *** 造影");
        }
    }

    #[test]
    fn the_weekday_beside_a_replaced_date_goes_with_it() {
        assert_eq!(replace("次回 2024/02/01(木) 来院").unwrap(), "次回 *** 来院");
        assert_eq!(replace("CT Thu 2024-02-01").unwrap(), "CT ***");
        assert_eq!(replace("3月15日(金)").unwrap(), "***");
    }

    #[test]
    fn a_month_and_day_without_a_year_is_a_date_where_the_text_says_so() {
        for t in [
            "3/15生まれ",
            "2/1 受診",
            "次回 2/1",
            "3/15(金)",
            "born March 15",
            "seen on 1 Feb",
            "Feb 1st visit",
            "next visit 3/15",
            "follow-up 3/15",
            "visit on Fri 3/15",
        ] {
            assert!(replace(t).is_some_and(|r| r.contains("***")), "{t}");
        }
        for t in [
            "1/2錠 内服",
            "BP 120/80",
            "2/3 of the lesion",
            "you may 2 tablets",
            "2024/1/2x",
            "restarted on 1/2 dose",
            "May 5 mg",
            "Apr 1 tablet",
            "Jun 2 cycles",
        ] {
            assert_eq!(replace(t), None, "{t}");
        }
        assert_eq!(replace("3/15(Fri) seen").unwrap(), "*** seen", "the bracketed weekday goes whole");
    }

    #[test]
    fn ids6_a_slash_month_and_day_in_japanese_text_is_a_date_after_a_particle_time_or_range() {
        for (t, want) in [
            ("4/1にCT施行", "***にCT施行"),
            ("4/1(月)", "***"),
            ("4/1～4/5 休み", "***～*** 休み"),
            ("4/1〜4/5", "***〜***"),
            ("4/1から4/5まで", "***から***まで"),
            ("12/28～1/4 休診", "***～*** 休診"),
            ("4/1以降 内服中止", "***以降 内服中止"),
            ("4/1 10:00 受付", "*** 10:00 受付"),
            ("入院日: 4/1", "入院日: ***"),
        ] {
            assert_eq!(replace(t).as_deref(), Some(want), "{t}");
        }
        for t in [
            "1/2錠",
            "1/3に減量",
            "1/2になった",
            "約1/3の症例",
            "全体の1/3に相当",
            "1/3～1/2錠",
            "1/2～1/3に減量",
            "1/3～1/2",
            "2/3以下",
            "1/10に希釈",
        ] {
            assert_eq!(replace(t), None, "{t}");
        }
    }

    #[test]
    fn ids6_kanji_numerals_are_read_in_a_map_the_size_of_the_numbers() {
        // A long text with a date in kanji numerals at each end: the map holds the two numbers
        // rewritten, not a range per character, and each span still covers its original.
        let middle = "所見なし。".repeat(20_000);
        let text = format!("三月十五日{middle}四月一日");
        let d = kanji_numerals_as_digits(&text).unwrap();
        assert_eq!(d.runs.len(), 4);
        let spans = spans(&text, DateTreatment::Replace, Which::All);
        assert_eq!(spans.len(), 2);
        assert_eq!(&text[spans[0].start..spans[0].end], "三月十五日");
        assert_eq!(&text[spans[1].start..spans[1].end], "四月一日");
    }

    #[test]
    fn a_month_and_day_followed_by_a_count_noun_or_may_as_a_verb_is_no_date() {
        for t in [
            "seen Jun 2 cycles ago",
            "after Mar 4 cycles",
            "follow-up 3 May be stopped",
            "seen 2 May help",
            "visit Jan 3 times",
            "due Oct 5 doses",
        ] {
            assert_eq!(replace(t), None, "{t}");
        }
        for (t, want) in [
            ("seen 3 May", "seen ***"),
            ("next visit May 3", "next visit ***"),
            ("seen 3 May for follow-up", "seen *** for follow-up"),
            ("next visit May 3 at clinic", "next visit *** at clinic"),
            ("seen Jun 2 by Dr X", "seen *** by Dr X"),
            ("seen 3 May follow-up", "seen *** follow-up"),
            ("seen May 3 day 2 post-op", "seen *** day 2 post-op"),
        ] {
            assert_eq!(replace(t).as_deref(), Some(want), "{t}");
        }
    }

    #[test]
    fn an_ordinal_day_before_a_count_noun_is_a_date() {
        assert_eq!(replace("seen on Jun 2nd cycle 3 started").as_deref(), Some("seen on *** cycle 3 started"));
        assert_eq!(replace("seen on Jun 2nd cycles").as_deref(), Some("seen on *** cycles"));
    }

    #[test]
    fn a_singular_count_noun_followed_by_a_number_does_not_count_the_day() {
        assert_eq!(replace("seen on Mar 4 cycle 2 started").as_deref(), Some("seen on *** cycle 2 started"));
        assert_eq!(replace("seen Jun 2 cycles 3-4").as_deref(), Some("seen *** cycles 3-4"));
    }

    #[test]
    fn a_day_before_its_month_is_never_a_count() {
        assert_eq!(replace("last seen 12 Jun cycles resumed").as_deref(), Some("last seen *** cycles resumed"));
    }

    #[test]
    fn after_a_date_word_a_singular_count_noun_is_no_evidence_of_a_count() {
        assert_eq!(replace("seen Jun 2 cycle").as_deref(), Some("seen *** cycle"));
        assert_eq!(replace("seen Jun 2 cycles ago"), None, "the plural is");
    }

    #[test]
    fn may_followed_by_a_comma_is_the_month() {
        assert_eq!(
            replace("seen on 2 May, be careful with dose").as_deref(),
            Some("seen on ***, be careful with dose")
        );
        assert_eq!(replace("seen 2 May help"), None);
    }

    #[test]
    fn a_date_time_run_shifts_its_date_and_keeps_its_time() {
        assert_eq!(shift("at 20240102093000", 1).unwrap(), "at 20240103093000");
        assert_eq!(shift("at 2024-01-02T09:30", 1).unwrap(), "at 2024-01-03T09:30");
    }

    #[test]
    fn month_names_shift_in_their_case_and_length() {
        assert_eq!(shift("12-JAN-2024", 31).unwrap(), "12-FEB-2024");
        assert_eq!(shift("Jan 12, 2024", 31).unwrap(), "Feb 12, 2024");
        assert_eq!(shift("12 January 2024", 31).unwrap(), "12 February 2024");
        assert_eq!(shift("12jan24", 31).unwrap(), "12feb24");
        assert_eq!(shift("2024-Sept-30", 1).unwrap(), "2024-Oct-01");
        assert_eq!(shift("the 1st of March 2024", 1).unwrap(), "the 2nd of March 2024");
        assert_eq!(shift("March 15th, 2024", 7).unwrap(), "March 22nd, 2024");
    }

    #[test]
    fn a_day_first_date_shifts_when_it_reads_one_way_only() {
        assert_eq!(shift("15/03/2024", 1).unwrap(), "16/03/2024");
        assert_eq!(shift("03/15/2024", 1).unwrap(), "03/16/2024");
        assert_eq!(shift("02/01/2024", 1).unwrap(), "***");
    }

    #[test]
    fn era_and_yearless_dates_are_replaced_even_when_shifting() {
        assert_eq!(shift("昭和60年3月15日 生", 5).unwrap(), "*** 生");
        assert_eq!(shift("S.60.3.15", 5).unwrap(), "***");
        assert_eq!(shift("3月15日に来院", 5).unwrap(), "***に来院");
    }

    #[test]
    fn rv17_01_a_date_with_a_year_of_two_digits_before_nen_is_replaced_even_when_shifting() {
        assert_eq!(shift("60年3月15日生 24年2月1日受診", 5).unwrap(), "***生 ***受診");
        assert_eq!(replace("60年3月15日生").unwrap(), "***生");
        assert_eq!(shift("元年5月1日 入院", 5).unwrap(), "*** 入院");
        // With a space around `年`, `月`, `日` or after the era; `元` after an era letter.
        assert_eq!(shift("令和 6 年 2 月 1 日 受診", 5).unwrap(), "*** 受診");
        assert_eq!(shift("平成 元年 3月15日生", 5).unwrap(), "***生");
        assert_eq!(shift("H元.3.15 生", 5).unwrap(), "*** 生");
        assert_eq!(shift("2024 年 2 月 1 日 受診", 1).unwrap(), "2024 年 2 月 2 日 受診", "spaces kept");
        assert_eq!(shift("平成元年4月 手術", 5).unwrap(), "*** 手術", "a space after is no part of it");
        assert_eq!(shift("６０年３月１５日", 5).unwrap(), "***");
        assert_eq!(shift("２０２４年３月１５日", 1).unwrap(), "２０２４年３月１６日", "a full-width four-digit year");
        assert_eq!(shift("2024年3月15日", 1).unwrap(), "2024年3月16日");
        assert_eq!(shift("160年3月15日", 1), None, "a year of three digits is no date");
        assert_eq!(shift("24年2月13日", 1).unwrap(), "***");
    }

    #[test]
    fn rv17_01_an_era_letter_before_a_year_with_nen_is_an_era_date() {
        assert_eq!(shift("S60年3月15日生", 5).unwrap(), "***生");
        assert_eq!(shift("H元年4月 手術", 5).unwrap(), "*** 手術");
        let own = [NaiveDate::from_ymd_opt(1985, 3, 15).unwrap()];
        let t = treat("S60年3月15日", DateTreatment::Shift(5), Which::These(&own)).unwrap();
        assert_eq!(t.text, "***");
    }

    #[test]
    fn rv17_01_a_month_and_day_after_a_year_in_kanji_numerals_is_removed() {
        // rv17 suspect 2: the year in kanji numerals is read too, and goes with the date.
        assert_eq!(replace("昭和六十年3月15日生").unwrap(), "***生");
    }

    #[test]
    fn rv17_suspect_2_kanji_numerals_read_as_digits() {
        let digits = |t: &str| kanji_numerals_as_digits(t).map(|d| d.text);
        assert_eq!(digits("昭和六十年三月十五日").as_deref(), Some("昭和60年3月15日"));
        assert_eq!(digits("二〇二四年十二月三十一日").as_deref(), Some("2024年12月31日"));
        assert_eq!(digits("二千二十四年二月一日").as_deref(), Some("2024年2月1日"));
        assert_eq!(digits("一人 十分 百"), None);
        assert_eq!(digits("十十年"), None, "not a number");
        assert_eq!(shift("一九八五年三月十五日", 1).unwrap(), "1985年3月16日");
        assert_eq!(shift("受診 令和六年二月一日(木)", 1).unwrap(), "受診 ***");
        assert_eq!(replace("三月十五日生").unwrap(), "***生");
        let d = kanji_numerals_as_digits("x三十一日").unwrap();
        let origin: Vec<_> = (0..4).map(|i| d.origin_chars(i)).collect();
        assert_eq!(origin, vec![0..1, 1..4, 1..4, 4..5]);
        let bytes: Vec<_> = d.text.char_indices().map(|(i, _)| d.origin_bytes(i)).collect();
        assert_eq!(bytes, vec![0..1, 1..10, 1..10, 10..13]);
    }

    #[test]
    fn rv17_01_a_bare_year_date_in_kept_text_is_acted_on_only_for_a_file_date_s_month_and_day() {
        let own = [NaiveDate::from_ymd_opt(2024, 2, 1).unwrap()];
        let t = treat("CT 24年2月1日", DateTreatment::Shift(-3), Which::These(&own)).unwrap();
        assert_eq!(t.text, "CT ***");
        assert_eq!(treat("CT 24年6月1日", DateTreatment::Shift(-3), Which::These(&own)), None);
    }

    #[test]
    fn replace_takes_every_date_and_keep_none() {
        let t = treat("2024-01-02 and 03-JAN-2024", DateTreatment::Replace, Which::All).unwrap();
        assert_eq!(t.text, "*** and ***");
        assert_eq!(t.changed, 2);
        assert_eq!(treat("2024-01-02", DateTreatment::Keep, Which::All), None);
    }

    #[test]
    fn numbers_that_are_not_dates_stay() {
        assert_eq!(shift("ID 12345678, ratio 0.20240102, v2024.1", 3), None);
        assert_eq!(shift("series 20241399", 3), None);
        assert_eq!(shift("AB20240102", 3), None);
    }

    #[test]
    fn a_date_shaped_slip_is_replaced_in_cleaned_text_but_a_version_number_stays() {
        assert_eq!(shift("2024-13-45 CT", 3).unwrap(), "*** CT");
        assert_eq!(shift("filter 0.5.2024 / code 99.99.9999 / ref 2024.13.01", 3), None);
        let own = [NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()];
        assert_eq!(treat("2024-13-45", DateTreatment::Replace, Which::These(&own)), None);
    }

    #[test]
    fn only_the_chosen_dates_are_acted_on() {
        let own = [NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()];
        let t = treat("exam 2024/01/02, protocol of 2019-05-01", DateTreatment::Shift(1), Which::These(&own)).unwrap();
        assert_eq!(t.text, "exam 2024/01/03, protocol of 2019-05-01");
        assert_eq!(treat("1月2日", DateTreatment::Replace, Which::These(&own)).unwrap().text, "***");
        assert_eq!(treat("2月1日", DateTreatment::Replace, Which::These(&own)), None);
    }

    #[test]
    fn full_width_dates_are_read_and_shifted_in_full_width() {
        assert_eq!(shift("２０２４年１月１２日", -10).unwrap(), "２０２４年１月２日");
        assert_eq!(shift("CT ２０２４／０１／１２", -10).unwrap(), "CT ２０２４／０１／０２");
        assert_eq!(shift("2024\u{2212}01\u{2212}12", -10).unwrap(), "2024\u{2212}01\u{2212}02");
        assert_eq!(shift("Ｒ6.1.2", 1).unwrap(), "***");
        assert_eq!(shift("S60-3-15", 1).unwrap(), "***");
        assert_eq!(shift("१२३४-०१-०२", 1), None);
    }

    #[test]
    fn rv22_01_the_end_of_a_range_or_list_without_its_year_goes_with_its_start() {
        assert_eq!(shift("入院期間 2024/2/1～2/5", 1).unwrap(), "入院期間 2024/2/2～***");
        assert_eq!(shift("2024/2/1、2/8、2/15に投与", 1).unwrap(), "2024/2/2、***、***に投与");
        assert_eq!(shift("2024/2/1-2/5", 1).unwrap(), "2024/2/2-***");
        assert_eq!(shift("2024年2月1日～5日 入院", 1).unwrap(), "2024年2月2日～*** 入院");
        assert_eq!(shift("2024/2/1～5 入院", 1).unwrap(), "2024/2/2～*** 入院");
        assert_eq!(shift("2024/2/1(木)～2/5(月)", 1).unwrap(), "2024/2/2(金)～***");
        assert_eq!(shift("12/28～2024/1/5", 1).unwrap(), "***～2024/1/6");
        assert_eq!(shift("CT 2024/4/2～4/5 (03)", 1).unwrap(), "CT 2024/4/3～*** (03)");
        assert_eq!(replace("2024/2/1～2/5").unwrap(), "***～***");
        let own = [NaiveDate::from_ymd_opt(2024, 4, 2).unwrap()];
        let t = treat("CT 2024/4/2～4/5", DateTreatment::Shift(1), Which::These(&own)).unwrap();
        assert_eq!(t.text, "CT 2024/4/3～***", "kept text: the range of a file's own date");
    }

    #[test]
    fn rv22_01_numbers_after_a_date_that_are_no_range_end_stay() {
        for (t, want) in [
            ("2024/2/1から5日間入院", "2024/2/2から5日間入院"),
            ("2024/2/1～5回目", "2024/2/2～5回目"),
            ("2024/2/1-5 cycles", "2024/2/2-5 cycles"),
            ("2024/2/1、1/2錠", "2024/2/2、1/2錠"),
            ("2024/2/1 BP 120/80", "2024/2/2 BP 120/80"),
            ("2024/2/1、13/5", "2024/2/2、13/5"),
        ] {
            assert_eq!(shift(t, 1).as_deref(), Some(want), "{t}");
        }
    }

    #[test]
    fn rv22_01_today_before_a_month_and_day_says_it_is_a_date() {
        assert_eq!(replace("今回2/1 外来").unwrap(), "今回*** 外来");
        assert_eq!(shift("前回2024/1/15、今回2/1", 1).unwrap(), "前回2024/1/16、今回***");
    }

    #[test]
    fn rv22_03_dates_printed_in_columns_are_read() {
        assert_eq!(shift("初診 2024/ 2/ 1", 1).unwrap(), "初診 2024/ 2/ 2");
        assert_eq!(shift("2024/ 2/ 1", -1).unwrap(), "2024/ 1/31", "two columns kept");
        assert_eq!(shift("2024/ 2/15", 1).unwrap(), "2024/ 2/16");
        assert_eq!(shift("1985/ 3/15", 1).unwrap(), "1985/ 3/16");
        for t in ["S60. 3.15", "H31. 4. 1", "R 6. 3. 1", "H 1. 4. 1", "S 60. 3.15", "Ｈ３１．　４．　１"] {
            assert_eq!(shift(t, 1).as_deref(), Some("***"), "{t}");
        }
        assert_eq!(shift("24/ 1/15", 1).as_deref(), Some("***"));
    }

    #[test]
    fn rv22_03_a_version_after_an_era_letter_and_a_space_stays() {
        for t in ["R 3.6.1", "R 4.3.2 package", "H 2.0.1", "ratio 3. 15", "CRP 3.15"] {
            assert_eq!(shift(t, 1), None, "{t}");
        }
        assert_eq!(shift("R 3.10.12", 1).as_deref(), Some("***"), "two columns each: a date");
    }

    #[test]
    fn rv22_17_an_era_name_before_numbers_and_separators_is_an_era_date() {
        for t in
            ["令和6.2.1", "平成31.4.30", "令和元/5/1", "令和６．３．１", "令和6-2-1", "昭和 60. 3.15", "平成元/4/1"]
        {
            assert_eq!(shift(&format!("初診 {t} 来院"), 1).as_deref(), Some("初診 *** 来院"), "{t}");
        }
        let own = [NaiveDate::from_ymd_opt(2024, 2, 1).unwrap()];
        let t = treat("CT 令和6.2.1", DateTreatment::Shift(1), Which::These(&own)).unwrap();
        assert_eq!(t.text, "CT ***");
        assert_eq!(treat("CT 令和6.2.2", DateTreatment::Shift(1), Which::These(&own)), None);
    }

    #[test]
    fn rv22_08_a_japanese_weekday_without_brackets_follows_its_date() {
        // 2024-02-01 was a Thursday; 39 days earlier, 2023-12-24, a Sunday.
        assert_eq!(shift("2024年2月1日木曜日 来院", -39).unwrap(), "2023年12月24日日曜日 来院");
        assert_eq!(shift("2024年2月1日 木曜 来院", -39).unwrap(), "2023年12月24日 日曜 来院");
        assert_eq!(shift("2024/2/1 木 来院", -39).unwrap(), "2023/12/24 日 来院");
        assert_eq!(shift("木曜日 2024/2/1", -39).unwrap(), "日曜日 2023/12/24");
        assert_eq!(shift("2024/2/1（木曜日）来院", -39).unwrap(), "2023/12/24（日曜日）来院", "brackets as written");
        assert_eq!(replace("2024/2/1 木 来院").unwrap(), "*** 来院");
        assert_eq!(replace("木曜日 2024/2/1 来院").unwrap(), "*** 来院");
        assert_eq!(replace("3/15 金曜 来院").unwrap(), "*** 来院");
    }

    #[test]
    fn rv22_08_a_kanji_that_is_no_weekday_stays() {
        assert_eq!(shift("2024/2/1 火傷", -39).unwrap(), "2023/12/24 火傷");
        assert_eq!(shift("2024/2/1 月1回", -39).unwrap(), "2023/12/24 月1回");
        assert_eq!(shift("2024/2/1日勤", -39).as_deref(), Some("2023/12/24日勤"), "no weekday glued without 曜");
        assert_eq!(replace("2/3日 様子見"), None, "two or three days");
    }

    #[test]
    fn rv22_suspect_4_a_year_and_month_moves_as_its_15th_day() {
        assert_eq!(shift("2024年2月から内服", -120).unwrap(), "2023年10月から内服");
        assert_eq!(shift("２０２４年０２月頃", 31).unwrap(), "２０２４年０３月頃");
        assert_eq!(replace("2024年2月から").unwrap(), "***から");
        assert_eq!(shift("二〇二四年二月", 31).unwrap(), "2024年3月");
        assert_eq!(shift("2024年2月1日", 1).unwrap(), "2024年2月2日", "a whole date is read whole");
        assert_eq!(shift("2024年13月", 1), None);
        let own = [NaiveDate::from_ymd_opt(2024, 2, 1).unwrap()];
        assert!(treat("CT 2024年2月", DateTreatment::Shift(1), Which::These(&own)).is_some());
        assert_eq!(treat("CT 2023年2月", DateTreatment::Shift(1), Which::These(&own)), None);
    }

    #[test]
    fn the_files_own_date_joined_to_a_word_is_acted_on_and_another_is_not() {
        let own = [NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()];
        let shift_own = |t: &str| treat(t, DateTreatment::Shift(-3), Which::These(&own)).map(|t| t.text);
        assert_eq!(shift_own("Thorax_20240301").as_deref(), Some("Thorax_20240227"));
        assert_eq!(shift_own("CT20240301_ax").as_deref(), Some("CT20240227_ax"));
        assert_eq!(shift_own("2024-03-01_0930").as_deref(), Some("2024-02-27_0930"));
        // Part of a number or of a decimal, it is some other value.
        assert_eq!(shift_own("ref 120240301 / 0.20240301 / 20240301.5"), None);
        let all = |t: &str| treat(t, DateTreatment::Replace, Which::AllAndOwn(&own)).map(|t| t.text);
        assert_eq!(all("Thorax_20240301 / CT 2019-05-01").as_deref(), Some("Thorax_*** / CT ***"));
        assert_eq!(all("code X20190501"), None, "a date not the file's own glued to letters stays");
        assert_eq!(treat("Thorax_20240301", DateTreatment::Replace, Which::All), None);
    }

    #[test]
    fn a_date_time_with_its_fraction_of_a_second_is_a_date() {
        let own = [NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()];
        let t = treat("acq 20240301093000.000000", DateTreatment::Shift(-1), Which::These(&own)).unwrap();
        assert_eq!(t.text, "acq 20240229093000.000000");
        assert_eq!(treat("acq 20240301093000.1234567", DateTreatment::Shift(-1), Which::These(&own)), None);
    }

    #[test]
    fn rv35_01_a_date_closed_by_day_is_read_with_a_time_or_count_glued_after_it() {
        for (text, want) in [
            ("CT 2024年1月2日10時 撮影", "CT 2024年1月1日10時 撮影"),
            ("2024年1月2日9時30分", "2024年1月1日9時30分"),
            ("2024年01月02日10:30", "2024年01月01日10:30"),
            ("2024年1月2日1回目", "2024年1月1日1回目"),
            ("2024年1月2日3錠", "2024年1月1日3錠"),
            ("２０２４年１月２日１０時", "２０２４年１月１日１０時"),
        ] {
            assert_eq!(shift(text, -1).as_deref(), Some(want), "{text}");
        }
        for text in ["1月2日10時", "令和6年1月2日10時", "24年1月2日10時", "二〇二四年一月二日10時"]
        {
            assert_eq!(replace(text).as_deref(), Some("***10時"), "{text}");
        }
        let own = [NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()];
        let t = treat("CT 2024年1月2日10時", DateTreatment::Replace, Which::These(&own)).unwrap();
        assert_eq!(t.text, "CT ***10時", "kept text: the file's own date");
        // Still not inside a longer number before it.
        assert_eq!(replace("12024年1月2日10時"), None);
    }

    #[test]
    fn rv30_a_year_and_month_in_numbers_or_an_english_name_moves_as_its_15th_day() {
        // 15 March 2024 moved 20 days back is 24 February.
        for (text, want) in [
            ("CT 2024-03 follow-up", "CT 2024-02 follow-up"),
            ("CT 2024/03 follow-up", "CT 2024/02 follow-up"),
            ("CT 2024.03 follow-up", "CT 2024.02 follow-up"),
            ("CT 2024/3 follow-up", "CT 2024/2 follow-up"),
            ("CT 03/2024 follow-up", "CT 02/2024 follow-up"),
            ("CT 3/2024 follow-up", "CT 2/2024 follow-up"),
            ("CT 03.2024 follow-up", "CT 02.2024 follow-up"),
            ("CT March 2024 follow-up", "CT February 2024 follow-up"),
            ("CT Mar 2024 follow-up", "CT Feb 2024 follow-up"),
            ("CT Mar. 2024 follow-up", "CT Feb. 2024 follow-up"),
            ("CT MAR-2024 follow-up", "CT FEB-2024 follow-up"),
            ("CT ２０２４／０３", "CT ２０２４／０２"),
        ] {
            assert_eq!(shift(text, -20).as_deref(), Some(want), "{text}");
        }
        // A day or two does not move the month (the middle of it does not leave it).
        assert_eq!(shift("since 2024-03", -1), Some("since 2024-03".to_string()));
        assert_eq!(replace("since 2024-03, Mar 2024 and 03/2024").unwrap(), "since ***, *** and ***");
        assert_eq!(replace("FY 2023/04-2024/03").unwrap(), "FY ***-***", "a range of months");
        // A whole date is read whole.
        assert_eq!(shift("2024-03-15", -20).unwrap(), "2024-02-24");
        assert_eq!(shift("15 March 2024", -20).unwrap(), "24 February 2024");
        assert_eq!(shift("March 15, 2024", -20).unwrap(), "February 24, 2024");
        let own = [NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()];
        assert!(treat("CT 2024-03", DateTreatment::Replace, Which::These(&own)).is_some());
        assert_eq!(treat("CT 2023-03", DateTreatment::Replace, Which::These(&own)), None);
    }

    #[test]
    fn rv30_numbers_that_are_no_year_and_month_stay() {
        for text in [
            "2024-0312",
            "12024-03",
            "2024-13",
            "1234-05",
            "pi 3.1416",
            "ratio 2.2024",
            "2024.4 mg",
            "2024-3",
            "BP 120/80",
            "may 2024 patients",
            "code 2024.03.45",
            "2024/1/2x",
            "v 2024.03.1a",
        ] {
            assert_eq!(replace(text), None, "{text}");
        }
    }

    #[test]
    fn an_era_date_the_era_did_not_have_is_never_one_of_the_file_s_dates() {
        // rv35: `H36.01.02` is no date (Heisei ended in its 31st year), not 2024-01-02; nor
        // `H31.05.01` (Heisei's last day was 2019-04-30) 2019-05-01, nor `R01.04.30` 2019-04-30.
        let own =
            [(2024, 1, 2), (2019, 5, 1), (2019, 4, 30)].map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap());
        for text in ["seen H36.01.02", "seen H31.05.01", "seen R01.04.30", "seen 平成36年1月2日", "seen H360102"] {
            assert_eq!(treat(text, DateTreatment::Replace, Which::These(&own)), None, "{text}");
        }
        assert!(treat("seen H31.04.30", DateTreatment::Replace, Which::These(&own)).is_some());
        assert!(treat("seen R01.05.01", DateTreatment::Replace, Which::These(&own)).is_some());
        // In cleaned text a date-shaped era slip goes as `2024-13-45` does, never shifted.
        for text in ["seen H36.01.02", "seen H31.05.01", "seen 令和0年5月1日"] {
            assert_eq!(shift(text, -5).unwrap(), "seen ***", "{text}");
        }
    }

    #[test]
    fn rv30_a_compact_era_date_and_an_era_s_first_kanji_before_numbers_are_era_dates() {
        for text in ["adm R060401 ok", "adm H310430 ok", "adm 令6.4.1 ok", "adm 平31.4.30 ok", "adm 昭60/3/15 ok"] {
            assert_eq!(replace(text).unwrap(), "adm *** ok", "{text}");
            assert_eq!(shift(text, -5).unwrap(), "adm *** ok", "an era date is replaced when shifting: {text}");
        }
        assert_eq!(replace("令6年4月1日").unwrap(), "***");
        // Not a date, an era year the era never had, glued to a word or a number: kept.
        for text in ["lot S123456", "H450101", "R0604011", "XR060401", "大1.2", "R 3.6.1"] {
            assert_eq!(replace(text), None, "{text}");
        }
        let own = [NaiveDate::from_ymd_opt(2024, 4, 1).unwrap()];
        assert!(treat("R060401", DateTreatment::Replace, Which::These(&own)).is_some());
        assert_eq!(treat("R060402", DateTreatment::Replace, Which::These(&own)), None);
    }

    #[test]
    fn rv30_a_number_in_a_full_width_uid_is_no_date() {
        let uid = "１．２．３９２．２０００３６．９１１６．２．６．１．４８";
        assert_eq!(shift(uid, -10), None);
        assert_eq!(replace(&format!("ref {uid} 2024/03/01")).unwrap(), format!("ref {uid} ***"));
        // Full-width digits glue as ASCII ones do: `１２０２４０３０１` is one number.
        assert_eq!(replace("ref １２０２４０３０１"), None);
    }

    #[test]
    fn a_shift_out_of_range_replaces() {
        assert_eq!(shift("9999-12-31", 1).unwrap(), "***");
    }

    #[test]
    fn a_year_first_month_name_without_separators_is_a_date() {
        assert_eq!(shift("CT 2024MAR01", 2).unwrap(), "CT 2024MAR03");
        assert_eq!(shift("CT 2024Mar1 ax", -1).unwrap(), "CT 2024Feb29 ax");
    }

    #[test]
    fn a_two_digit_year_after_an_apostrophe_is_a_date() {
        assert_eq!(shift("seen March 1, '24", 2).unwrap(), "seen March 3, '24");
        assert_eq!(shift("seen 1 Mar \u{2019}24", 2).unwrap(), "seen 3 Mar \u{2019}24");
        assert_eq!(shift("seen Dec 9, '24", 30).unwrap(), "seen Jan 8, '25");
    }

    #[test]
    fn an_ordinal_date_is_found_only_as_one_of_the_files_own_dates() {
        let own = [NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()];
        let t = treat("CT 2024-061", DateTreatment::Shift(2), Which::These(&own)).unwrap();
        assert_eq!(t.text, "CT 2024-063");
        assert_eq!(treat("CT 2024-061", DateTreatment::Replace, Which::AllAndOwn(&own)).unwrap().text, "CT ***");
        // Another day of the year, or any such run in clinical text, is a case number.
        assert_eq!(treat("case 2024-062", DateTreatment::Replace, Which::These(&own)), None);
        assert_eq!(treat("case 2024-062", DateTreatment::Replace, Which::AllAndOwn(&own)), None);
        assert_eq!(treat("case 2024-061", DateTreatment::Replace, Which::All), None);
    }

    #[test]
    fn an_ordinal_date_without_its_dash_is_found_only_as_one_of_the_files_own_dates() {
        let own = [NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()];
        assert_eq!(treat("CT 2024061", DateTreatment::Replace, Which::These(&own)).unwrap().text, "CT ***");
        assert_eq!(treat("CT2024061_ax", DateTreatment::Replace, Which::AllAndOwn(&own)).unwrap().text, "CT***_ax");
        assert_eq!(treat("CT 2024061", DateTreatment::Shift(2), Which::These(&own)).unwrap().text, "CT 2024063");
        // Another day, any such run in clinical text, or part of a longer number: not a date.
        assert_eq!(treat("tel 2024062", DateTreatment::Replace, Which::AllAndOwn(&own)), None);
        assert_eq!(treat("no 2024061", DateTreatment::Replace, Which::All), None);
        assert_eq!(treat("no 20240612", DateTreatment::Replace, Which::These(&own)), None);
    }

    #[test]
    fn six_digits_glued_to_a_word_are_found_only_as_one_of_the_files_own_dates() {
        let own = [NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()];
        assert_eq!(treat("CT240301", DateTreatment::Replace, Which::These(&own)).unwrap().text, "CT***");
        assert_eq!(treat("240301_ax", DateTreatment::Replace, Which::AllAndOwn(&own)).unwrap().text, "***_ax");
        // Another date, or no own dates at all: some code.
        assert_eq!(treat("CT240302", DateTreatment::Replace, Which::These(&own)), None);
        assert_eq!(treat("CT240301", DateTreatment::Replace, Which::All), None);
        assert_eq!(treat("CT2403011", DateTreatment::Replace, Which::These(&own)), None);
    }

    #[test]
    fn an_own_date_broken_by_an_invisible_character_is_found() {
        let own = [NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()];
        let t = treat("CT 2024\u{200B}0301 ax", DateTreatment::Replace, Which::These(&own)).unwrap();
        assert_eq!(t.text, "CT *** ax");
        let t = treat("CT 2024/03/\u{00AD}01", DateTreatment::Shift(1), Which::AllAndOwn(&own)).unwrap();
        assert_eq!(t.text, "CT 2024/03/02");
        // Not another date: digits an invisible character splits are as often two numbers.
        assert_eq!(treat("CT 2024\u{200B}0302", DateTreatment::Replace, Which::These(&own)), None);
        assert_eq!(treat("CT 2024\u{200B}0301", DateTreatment::Replace, Which::All), None);
    }
}
