//! Find a patient's own identifiers inside free text and replace them.
//!
//! The Clean action on text (PS3.15 Clean Descriptors, Clean Structured Content, Retain Patient
//! Characteristics' C rows) means: keep the text, without what identifies the patient. kamei
//! cannot know every identifier in the world, but it knows the ones in the same file: the
//! patient's name (every component of every group: alphabetic, ideographic, phonetic), IDs,
//! accession number, birth date in its common spellings, address, phone, and the names of the
//! staff and institution. [`Identifiers`] collects them; [`Identifiers::scrub`] replaces each
//! occurrence with `***`.
//!
//! Matching is on Unicode NFKC text, case-insensitive, so a full-width or lower-case spelling of
//! a name is still found. Latin diacritics are folded (`MÜLLER^JOSÉ` is found as `Muller Jose`;
//! German umlauts and `ß` are also looked for as `ue`, `oe`, `ae`, `ss`: `MUELLER`). ASCII
//! identifiers match whole words only (a surname "LI" does not eat "CLINICAL"); identifiers in
//! other scripts match anywhere (Japanese has no spaces).

use unicode_normalization::UnicodeNormalization;

/// What replaces each identifier found.
pub const REDACTED: &str = "***";

/// The identifying strings of one patient's file, normalised for matching.
#[derive(Debug, Clone, Default)]
pub struct Identifiers {
    needles: Vec<Vec<char>>,
    /// Numbers of seven digits or more (phones, IDs) as digits only: found whatever separators
    /// stand between their digits (`090-3333-4444`, `090 3333 4444`, `(090)3333-4444`).
    digits: Vec<Vec<char>>,
    /// Date spellings: also found at the start of a date-time (`19850315120000`,
    /// `1985-03-15T12:00`).
    dates: Vec<Vec<char>>,
    /// The towns of the patient's addresses, found only with a house number beside them
    /// ([`Identifiers::add_street_address`]).
    towns: Vec<Town>,
    /// Names run together (`JeanPierre`, `TaroYamada`), with where each word after the first
    /// starts: found only where the text does not write that letter in lower case
    /// ([`Identifiers::add_joined_name`]).
    joined: Vec<(Vec<char>, Vec<usize>)>,
}

/// The town of a street address as compared (`登呂` of `静岡市駿河区登呂１−３−５`, `chuo` of
/// `2-11-15 Chuo, Chuo-ku, Sagamihara`): alone it is often an ordinary word (`中央`), with a
/// house number beside it it is where the patient lives.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Town {
    /// Empty for an address whose house number follows its municipality directly
    /// (`旭川市4条通8丁目1-2`): then only its own numbers are looked for ([`Town::numbers`]).
    name: Vec<char>,
    /// A Latin address's own house number (`12` of `12 Oak St`), also looked for without a dash;
    /// `None` for a Japanese town, whose house number follows it in any form.
    latin_number: Option<Vec<char>>,
    /// The fewest numbers the house number after a Japanese town must hold: two after a town
    /// of one character (`緑1-2-3`, `南3条西4丁目`, not `南3号棟`), one otherwise.
    min_numbers: usize,
    /// For a town without a name: the numbers of the address's own house number (`4 8 1 2` of
    /// `4条通8丁目1-2`), found in any spelling.
    numbers: Vec<u32>,
}

/// Numerals a house number is written with (`登呂一丁目三番五号`).
const KANJI_DIGITS: &str = "〇一二三四五六七八九十";

/// The value of a number in kanji numerals (`三` 3, `十二` 12, `二十三` 23, `一〇五` 105).
fn kanji_number(run: &[char]) -> u32 {
    let digit = |c: char| "〇一二三四五六七八九".chars().position(|d| d == c).unwrap_or(0) as u32;
    if !run.contains(&'十') {
        return run.iter().fold(0, |n, &c| n * 10 + digit(c));
    }
    let mut parts = run.split(|&c| c == '十');
    let tens = parts.next().map_or(1, |t| if t.is_empty() { 1 } else { t.iter().fold(0, |n, &c| n * 10 + digit(c)) });
    let ones = parts.next().map_or(0, |o| o.iter().fold(0, |n, &c| n * 10 + digit(c)));
    tens * 10 + ones
}

/// The Japanese house number at `at` of the compared text, when there is one: its length and
/// its numbers. Numbers (Arabic, or kanji before a unit) joined by dashes or `の`, or followed
/// by `丁目`, `番地`, `番`, `号`, `条` (`1-3-5`, `1丁目3番5号`, `一丁目三番五号`, `123番地の4`); after
/// `条` a direction or `通` may come before the next number (`南3条西4丁目12-5`,
/// `4条通8丁目1-2`). A lone number (`1`) is none.
fn house_number(hay: &[char], at: usize) -> Option<(usize, Vec<u32>)> {
    let starts = |i: usize, s: &str| s.chars().enumerate().all(|(k, c)| hay.get(i + k) == Some(&c));
    const UNITS: [&str; 5] = ["丁目", "番地", "番", "号", "条"];
    let (mut i, mut structured, mut numbers) = (at, false, Vec::new());
    loop {
        let digits = hay[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            let run: String = hay[i..i + digits].iter().collect();
            numbers.push(run.parse().unwrap_or(u32::MAX));
            i += digits;
        } else {
            let k = hay[i..].iter().take_while(|c| KANJI_DIGITS.contains(**c)).count();
            if k == 0 || !UNITS.iter().any(|u| starts(i + k, u)) {
                break;
            }
            numbers.push(kanji_number(&hay[i..i + k]));
            i += k;
        }
        let unit = UNITS.into_iter().find(|u| starts(i, u));
        if let Some(u) = unit {
            i += u.chars().count();
            structured = true;
        }
        let number_at = |i: usize| hay.get(i).is_some_and(|&c| c.is_ascii_digit() || KANJI_DIGITS.contains(c));
        if hay.get(i).is_some_and(|&c| c == '-' || c == 'の') && hay.get(i + 1).is_some_and(char::is_ascii_digit) {
            i += 1;
            structured = true;
            continue;
        }
        if unit == Some("条") {
            // `3条西4丁目`, `4条通8丁目`: a direction and `通` before the next number.
            let skip = hay[i..].iter().take(2).take_while(|c| "東西南北通".contains(**c)).count();
            if skip > 0 && number_at(i + skip) {
                i += skip;
                continue;
            }
        }
        if unit.is_some() && number_at(i) {
            continue;
        }
        break;
    }
    (structured && i > at).then_some((i - at, numbers))
}

/// A Latin house number (`2-11-15`, `12`): digits and dashes, starting and ending with a digit.
fn is_latin_house_number(run: &[char]) -> bool {
    run.first().is_some_and(char::is_ascii_digit)
        && run.last().is_some_and(char::is_ascii_digit)
        && run.iter().all(|&c| c.is_ascii_digit() || c == '-')
}

/// The towns of a street address, each named as it stands before its house number: the part
/// of a Japanese address between its last administrative suffix (都 道 府 県 市 区 町 村 郡) and
/// the house number (`登呂` of `静岡県静岡市駿河区登呂１−３−５`); a town of one character is taken
/// alone (needing a house number of two numbers or more after it) and with the piece before it
/// (`緑` and `緑区緑` of `横浜市緑区緑1-2-3`; `南` and `中央区南` of `中央区南3条西4丁目12-5`); a
/// house number right after the municipality gives a town without a name that stands for its
/// own numbers (`4条通8丁目1-2` of `旭川市4条通8丁目1-2`, three numbers or more). Also the words
/// beside the house number in a part of a Latin address written with commas (`Chuo` of `2-11-15
/// Chuo, Chuo-ku, Sagamihara`). An address without a house number gives none.
fn address_towns(address: &str) -> Vec<Town> {
    let mut out: Vec<Town> = Vec::new();
    let separator = |c: char| c.is_whitespace() || matches!(c, ',' | '、' | '，' | '^' | '\\' | '〒');
    let japanese =
        |name: Vec<char>, min_numbers: usize| Town { name, latin_number: None, min_numbers, numbers: Vec::new() };
    for token in address.split(separator).filter(|t| !t.is_ascii()) {
        let hay = normalize(token);
        // A house number in kanji numerals runs to the end of the token or to a sign: `一番` of
        // `一番町1-2-3` is the town's name.
        let Some((p, numbers)) = (0..hay.len()).find_map(|p| {
            if p > 0 && (hay[p - 1].is_ascii_digit() || KANJI_DIGITS.contains(hay[p - 1])) {
                return None;
            }
            let (len, numbers) = house_number(&hay, p)?;
            let kanji = KANJI_DIGITS.contains(hay[p]);
            (!kanji || hay.get(p + len).is_none_or(|c| !c.is_alphabetic())).then_some((p, numbers))
        }) else {
            continue;
        };
        // Where each piece starts: after a suffix that ends a name of two characters or more.
        let mut starts = vec![0];
        for (i, c) in hay[..p].iter().enumerate() {
            let start = *starts.last().expect("one start");
            if "都道府県市区町村郡".contains(*c) && i + 1 - start >= 2 && i + 1 < p {
                starts.push(i + 1);
            }
        }
        let last = *starts.last().expect("one start");
        let town_like = |name: &[char]| {
            name.iter().all(|&c| !c.is_ascii() && !c.is_whitespace() && !c.is_numeric())
                && name.last().is_some_and(|c| !"都道府県".contains(*c))
        };
        if p - last == 1 && town_like(&hay[last..p]) {
            out.push(japanese(hay[last..p].to_vec(), 2));
        }
        let mut from = last;
        if p - from < 2 && starts.len() >= 2 {
            from = starts[starts.len() - 2];
        }
        let name = hay[from..p].to_vec();
        // No town between the city or ward and the house number: the numbers alone, when
        // there are enough of them to name a place (`4条通8丁目1-2`, not `1-2-3`).
        let city = p == 0 || "市区".contains(hay[p - 1]);
        let specific = numbers.len() >= 4 || (numbers.len() >= 3 && hay[p..].contains(&'条'));
        if city && specific {
            out.push(Town { name: Vec::new(), latin_number: None, min_numbers: 1, numbers: numbers.clone() });
        }
        if name.len() >= 2 && town_like(&name) {
            out.push(japanese(name, 1));
        }
    }
    let parts: Vec<&str> =
        address.split([',', '、', '，', '^', '\\']).map(str::trim).filter(|p| !p.is_empty()).collect();
    if parts.len() >= 2 {
        let word = |w: &str| w.chars().all(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '\''));
        for part in parts.iter().filter(|p| p.is_ascii()) {
            let words: Vec<&str> = part.split_whitespace().collect();
            let number = |w: &str| is_latin_house_number(&w.chars().collect::<Vec<char>>());
            let (num, town) = match words.as_slice() {
                [first, rest @ ..] if number(first) && !rest.is_empty() && rest.iter().all(|w| word(w)) => {
                    (*first, rest.join(" "))
                }
                [rest @ .., last]
                    if number(last) && last.contains('-') && !rest.is_empty() && rest.iter().all(|w| word(w)) =>
                {
                    (*last, rest.join(" "))
                }
                _ => continue,
            };
            if town.chars().filter(char::is_ascii_alphabetic).count() >= 3 {
                out.push(Town {
                    name: normalize(&town),
                    latin_number: Some(normalize(num)),
                    min_numbers: 1,
                    numbers: Vec::new(),
                });
            }
        }
    }
    out.dedup();
    out
}

/// The building and room of a Japanese address, written after its house number as a part of
/// their own (`登呂ハイツ202` of `静岡市駿河区登呂1-3-5 登呂ハイツ202`; also `登呂ハイツ202号室`):
/// a name of two characters or more that is no house number, and the room's digits.
fn address_buildings(address: &str) -> Vec<String> {
    let separator = |c: char| c.is_whitespace() || matches!(c, ',' | '、' | '，' | '^' | '\\' | '〒');
    let mut out = Vec::new();
    let mut after_house_number = false;
    for token in address.split(separator).filter(|t| !t.is_empty()) {
        let t: String = token.nfkc().collect();
        let t = t.trim_end_matches("号室").trim_end_matches('号');
        let hay: Vec<char> = t.chars().collect();
        let room = hay.iter().rev().take_while(|c| c.is_ascii_digit()).count();
        let name = &hay[..hay.len() - room];
        if after_house_number
            && room > 0
            && name.len() >= 2
            && !name.iter().all(char::is_ascii)
            && name.iter().all(|c| c.is_alphabetic())
        {
            let (name, room): (String, String) = (name.iter().collect(), hay[hay.len() - room..].iter().collect());
            out.extend([format!("{name}{room}"), format!("{name} {room}"), format!("{name}{room}号室")]);
        }
        let h = normalize(t);
        after_house_number |= (0..h.len()).any(|p| house_number(&h, p).is_some());
    }
    out
}

/// The Latin house number at `at`: digits and dashes, `chome` after a dash allowed
/// (`2-chome 11-15` read as `2-11-15`); its end and the number as compared.
fn latin_run(hay: &[char], at: usize) -> (usize, Vec<char>) {
    let mut k = at;
    let mut run = Vec::new();
    while k < hay.len() {
        let c = hay[k];
        if c.is_ascii_digit() || c == '-' {
            run.push(c);
            k += 1;
        } else if run.last() == Some(&'-') && hay[k..].starts_with(&['c', 'h', 'o', 'm', 'e']) {
            k += 5;
            if hay.get(k).is_some_and(|&c| c == ' ' || c == '-') && hay.get(k + 1).is_some_and(char::is_ascii_digit) {
                k += 1;
            } else {
                run.pop();
                break;
            }
        } else {
            break;
        }
    }
    (k, run)
}

/// Where `town` stands in `hay` with a house number beside it, the number included: after a
/// Japanese town in any form ([`house_number`], one space allowed between them); for a town
/// without a name, its own numbers in any form; before or after a Latin town with a space or
/// comma between them or glued after it, with a dash in it (`2-11-15 Chuo`, `Chuo 2-11-15`,
/// `Chuo2-11-15`, `Chuo 2-chome 11-15`) or as the address wrote it (`12 Oak St`).
fn find_town(hay: &[char], town: &Town) -> Vec<(usize, usize)> {
    let gap = |c: char| c == ' ' || c == ',';
    let mut found = Vec::new();
    let number_before = |p: usize| p > 0 && (hay[p - 1].is_ascii_digit() || KANJI_DIGITS.contains(hay[p - 1]));
    if town.name.is_empty() {
        for p in 0..hay.len() {
            if number_before(p) || (p > 0 && hay[p - 1].is_ascii_alphanumeric()) {
                continue;
            }
            if let Some((n, numbers)) = house_number(hay, p) {
                if numbers == town.numbers && !hay.get(p + n).is_some_and(char::is_ascii_digit) {
                    found.push((p, p + n));
                }
            }
        }
        return found;
    }
    let Some(own) = &town.latin_number else {
        for (start, end) in find_all(hay, &town.name, false, false) {
            let at = if hay.get(end) == Some(&' ') { end + 1 } else { end };
            if let Some((n, numbers)) = house_number(hay, at) {
                if numbers.len() >= town.min_numbers {
                    found.push((start, at + n));
                }
            }
        }
        return found;
    };
    let fits = |run: &[char]| is_latin_house_number(run) && (run.contains(&'-') || run == own.as_slice());
    let word = |i: usize| hay.get(i).is_some_and(|c| c.is_ascii_alphanumeric());
    let name = &town.name;
    for start in 0..hay.len().saturating_sub(name.len() - 1) {
        let end = start + name.len();
        if hay[start..end] != name[..] || (start > 0 && word(start - 1)) {
            continue;
        }
        let glued = hay.get(end).is_some_and(char::is_ascii_digit);
        if word(end) && !glued {
            continue;
        }
        // Before: `2-11-15 Chuo`.
        let mut j = start;
        while j > 0 && start - j < 2 && gap(hay[j - 1]) {
            j -= 1;
        }
        let mut k = j;
        while k > 0 && (hay[k - 1].is_ascii_digit() || hay[k - 1] == '-') {
            k -= 1;
        }
        if !glued && j < start && fits(&hay[k..j]) && (k == 0 || !word(k - 1)) {
            found.push((k, end));
            continue;
        }
        // After: `Chuo 2-11-15`, `Chuo2-11-15`, `Chuo 2-chome 11-15`.
        let mut j = end;
        while j < hay.len() && j - end < 2 && gap(hay[j]) {
            j += 1;
        }
        let (k, run) = latin_run(hay, j);
        if (j > end || (glued && run.contains(&'-'))) && fits(&run) && !word(k) {
            found.push((start, k));
        }
    }
    found
}

/// The text as compared: each character's compatibility decomposition (NFKD: full-width
/// letters and digits become ASCII, `ｼﾞ` and `ジ` both become `シ` + U+3099), folded by
/// [`lower`], without Latin diacritics ([`is_diacritic`]: `É` is compared as `e`), with the
/// index of the original character each compared character comes from. Decomposing character
/// by character keeps that map exact, so a replacement touches only the characters of a match
/// and every other character stays as it was.
fn compared(text: &str) -> (Vec<char>, Vec<usize>) {
    let (hay, _, origin) = compared_cased(text);
    (hay, origin)
}

/// [`compared`], with each compared character also as written (before [`lower`]): for the
/// letters where names run together ([`Identifiers::add_joined_name`]).
fn compared_cased(text: &str) -> (Vec<char>, Vec<char>, Vec<usize>) {
    let mut hay = Vec::with_capacity(text.len());
    let mut cased = Vec::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        if c.is_ascii() {
            hay.push(c.to_ascii_lowercase());
            cased.push(c);
            origin.push(i);
        } else {
            for d in std::iter::once(c).nfkd().filter(|&d| !is_diacritic(d)) {
                hay.push(lower(d));
                cased.push(d);
                origin.push(i);
            }
        }
    }
    (hay, cased, origin)
}

/// A combining diacritical mark (accents, umlaut, cedilla, tilde... in the blocks U+0300–036F,
/// U+1AB0–1AFF, U+1DC0–1DFF, U+20D0–20FF, U+FE20–FE2F): left out of the compared text, so a name
/// typed without its accents is still found. The kana voicing marks (U+3099, U+309A) are not
/// among them: `ジ` and `シ` are different sounds.
pub(crate) fn is_diacritic(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// The German spelling of `value` without umlauts and `ß` (`MÜLLER` → `MUELLER`, `Straße` →
/// `Strasse`), when it holds any: typed so on keyboards and in systems without them.
fn umlauts_spelled_out(value: &str) -> Option<String> {
    let composed: String = value.nfc().collect();
    let mut out = String::with_capacity(composed.len() + 4);
    for c in composed.chars() {
        match c {
            'Ä' => out.push_str("AE"),
            'Ö' => out.push_str("OE"),
            'Ü' => out.push_str("UE"),
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c => out.push(c),
        }
    }
    (out != composed).then_some(out)
}

/// Whether a word written beside a name in one field is a note about it, not a part of it
/// (`山田 花子（旧姓 佐藤）`, `Smith John (MD)`, `Jr`): looked for in text, it would wipe the word
/// everywhere.
fn is_name_annotation(word: &str) -> bool {
    const NOTES: &[&str] = &["旧姓", "本名", "通称", "別名", "様", "殿", "さん"];
    const TITLES: &[&str] = &["md", "jr", "sr", "phd", "dr", "mr", "mrs", "ms", "ii", "iii", "rn", "nee", "née"];
    NOTES.contains(&word) || TITLES.iter().any(|t| word.trim_end_matches('.').eq_ignore_ascii_case(t))
}

/// The parts of an address people write on their own, for Clean: the municipality (`渋谷区` of
/// `東京都渋谷区渋谷1-2-3`; `Shibuya-ku` of `1-2-3 Shibuya, Shibuya-ku, Tokyo`), named with its
/// administrative suffix (市 区 町 村 郡; `-shi`, `-ku`, `-cho`, `-machi`, `-mura`, `-gun`). Left
/// out: the town without a suffix (`中央` of `相模原市中央区中央`, `Chuo`: often an ordinary word,
/// `中央静脈`), house numbers and postal codes (the whole address and its postal code are looked
/// for as they are), and a Japanese prefecture (`東京都`, `北海道`: it names millions of people).
pub(crate) fn address_parts(address: &str) -> Vec<String> {
    const LATIN_SUFFIXES: &[&str] = &["-shi", "-ku", "-cho", "-machi", "-mura", "-gun"];
    let separator = |c: char| c.is_whitespace() || matches!(c, ',' | '、' | '，' | '^' | '\\' | '〒');
    let mut out: Vec<String> = Vec::new();
    for token in address.split(separator) {
        // A Japanese address runs its parts together: cut after each administrative suffix
        // that ends a name of two characters or more (`町田市` stays one part).
        let mut pieces = Vec::new();
        let mut piece = String::new();
        for c in token.chars() {
            piece.push(c);
            if matches!(c, '都' | '道' | '府' | '県' | '市' | '区' | '町' | '村' | '郡') && piece.chars().count() >= 2
            {
                pieces.push(std::mem::take(&mut piece));
            }
        }
        for piece in pieces {
            let municipality = piece.ends_with(['市', '区', '町', '村', '郡']);
            if municipality && piece.chars().count() >= 2 && !piece.chars().any(char::is_numeric) {
                out.push(piece);
            }
        }
        let lower = token.to_lowercase();
        if LATIN_SUFFIXES.iter().any(|s| lower.ends_with(s) && lower.len() > s.len() + 2) {
            out.push(token.to_string());
        }
    }
    out.dedup();
    out
}

/// The spellings of an ID with its prefix split off: the digit run alone (`PID7788123` →
/// `7788123`) and the letters and the digits with a space or a dash between them (`PID 7788123`,
/// `PID-7788123`, also without the digits' zero padding; also for digits before letters). An
/// ID of three or more letter and digit runs is also spelled with a space or a dash between
/// every two runs (`AB12CD345678` as `AB 12 CD 345678`, `AB-12-CD-345678`).
/// Only a run of at least
/// [`crate::ids::MIN_UNPADDED_DIGITS`] digits without its zero padding is specific enough to be
/// looked for on its own: a shorter number stands for too many other things in text.
pub(crate) fn split_id_spellings(id: &str) -> Vec<String> {
    let joined: String = id.nfkc().filter(|c| c.is_alphanumeric()).collect();
    let mut runs: Vec<(bool, String)> = Vec::new();
    for c in joined.chars() {
        let digit = c.is_ascii_digit();
        match runs.last_mut() {
            Some((d, run)) if *d == digit => run.push(c),
            _ => runs.push((digit, c.to_string())),
        }
    }
    let specific = |run: &str| run.trim_start_matches('0').len() >= crate::ids::MIN_UNPADDED_DIGITS;
    let mut out: Vec<String> = runs.iter().filter(|(d, r)| *d && specific(r)).map(|(_, r)| r.clone()).collect();
    if let [(d0, a), (d1, b)] = runs.as_slice() {
        let (digits, letters) = if *d0 { (a, b) } else { (b, a) };
        if d0 != d1 && specific(digits) {
            // The digits also without their zero padding (`MRN0000123456` → `MRN 123456`).
            let mut numbers = vec![digits.clone()];
            numbers.extend(crate::ids::other_spellings(digits));
            for n in &numbers {
                for sep in [' ', '-'] {
                    out.push(if *d0 { format!("{n}{sep}{letters}") } else { format!("{letters}{sep}{n}") });
                }
            }
        }
    }
    if runs.len() >= 3 && joined.chars().count() >= crate::ids::MIN_UNPADDED_DIGITS {
        let parts: Vec<&str> = runs.iter().map(|(_, r)| r.as_str()).collect();
        out.push(parts.join(" "));
        out.push(parts.join("-"));
    }
    out
}

fn normalize(text: &str) -> Vec<char> {
    compared(text).0
}

/// The character compared: lower case, and every dash people type between digits (minus sign
/// U+2212, which JIS X 0208 0x215D decodes to; the katakana prolonged sound mark; hyphens and
/// dashes U+2010–U+2015) folded to `-`. One character for one, so match positions stay valid.
fn lower(c: char) -> char {
    if matches!(c, '\u{2212}' | '\u{30FC}' | '\u{FF70}' | '\u{2010}'..='\u{2015}') {
        return '-';
    }
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Hiragana and katakana spell the same reading: the other script's spelling of `chars`, when
/// it holds kana of one of them.
fn other_kana(chars: &[char]) -> Option<Vec<char>> {
    let swap = |c: char| match c {
        '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
        '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    };
    let other: Vec<char> = chars.iter().copied().map(swap).collect();
    (other != chars).then_some(other)
}

/// What stands between the words of one part of a name (`Jean-Pierre`, `ジャン＝ピエール`,
/// `ジャン゠ピエール`, `Jean_Pierre`), compared after NFKC (`＝` is `=`).
const HYPHENS: [char; 5] = ['-', '‐', '=', '゠', '_'];

/// Honorifics written after a name in Japanese text; a one-character name part (`林`) is only
/// specific enough to look for with one of them (`林様`).
const HONORIFICS: [&str; 7] = ["様", "さま", "さん", "氏", "殿", "君", "ちゃん"];

/// Characters that may stand between the digits of a phone number or ID as written by hand.
fn digit_separator(c: char) -> bool {
    matches!(c, '-' | ' ' | '(' | ')' | '.' | '/')
}

impl Identifiers {
    /// An empty set.
    pub fn new() -> Identifiers {
        Identifiers::default()
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty() && self.dates.is_empty() && self.towns.is_empty() && self.joined.is_empty()
    }

    /// Every match of every identifier in the normalised text `hay`, as char ranges. `glued`:
    /// an identifier holding a digit is also found between letters (see [`Identifiers::find_in_name`]).
    /// `cased`: the same characters as written ([`compared_cased`]).
    fn matches(&self, hay: &[char], cased: &[char], glued: bool) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = self.needles.iter().flat_map(|n| find_all(hay, n, false, glued)).collect();
        found.extend(self.dates.iter().flat_map(|n| find_all(hay, n, true, glued)));
        found.extend(self.digits.iter().flat_map(|d| find_digits(hay, d)));
        found.extend(self.towns.iter().flat_map(|t| find_town(hay, t)));
        for (needle, joins) in &self.joined {
            let marked = |start: usize| joins.iter().all(|j| !cased[start + j].is_lowercase());
            // A file name is no prose: `yamadataro.dcm` is the name in any case.
            found.extend(find_all(hay, needle, false, glued).into_iter().filter(|&(start, _)| glued || marked(start)));
        }
        found
    }

    /// Number of distinct identifiers collected (each date spelling counts).
    pub fn len(&self) -> usize {
        self.needles.len() + self.dates.len() + self.towns.len() + self.joined.len()
    }

    /// Add one identifier (trimmed; too short to be specific → ignored: fewer than two
    /// characters). Kana is also looked for in the other kana script, a value with umlauts also
    /// spelled without them (`MÜLLER` also as `MUELLER`), and a value holding seven digits or more
    /// with only separators between them also as its digits.
    pub fn add(&mut self, value: &str) {
        if let Some(spelled) = umlauts_spelled_out(value) {
            self.add_one(&spelled);
        }
        self.add_one(value);
    }

    fn add_one(&mut self, value: &str) {
        let v = normalize(value.trim_matches(|c: char| c.is_whitespace() || c == '\0'));
        if v.len() < 2 || !v.iter().any(|c| c.is_alphanumeric()) {
            return;
        }
        let digits: Vec<char> = v.iter().copied().filter(char::is_ascii_digit).collect();
        if digits.len() >= 7
            && v.iter().all(|&c| c.is_ascii_digit() || digit_separator(c))
            && !self.digits.contains(&digits)
        {
            self.digits.push(digits);
        }
        if let Some(other) = other_kana(&v) {
            if !self.needles.contains(&other) {
                self.needles.push(other);
            }
        }
        if !self.needles.contains(&v) {
            self.needles.push(v);
        }
    }

    /// Add a birth date also as the six digits `YYMMDD` (`850315`) forms and notes use (a
    /// whole word: never inside a longer number).
    pub fn add_birth_date_typed(&mut self, da: &str) {
        self.add_date(da);
        if let Some(s) = crate::dates::short_spelling(da) {
            let v = normalize(&s);
            if !self.dates.contains(&v) {
                self.dates.push(v);
            }
        }
    }

    /// Add a patient ID or other ID, with the other spellings people type it in (without its
    /// zero padding, without separators: [`crate::ids::other_spellings`]; with its prefix split
    /// off or left out: `PID 7788123`, `7788123`).
    pub fn add_id(&mut self, id: &str) {
        self.add(id);
        for s in crate::ids::other_spellings(id) {
            self.add(&s);
        }
        for s in split_id_spellings(id) {
            self.add(&s);
            for t in crate::ids::other_spellings(&s) {
                self.add(&t);
            }
        }
    }

    /// Add a decoded Person Name value: every component of every group, and each group's
    /// components joined by a space in both orders ("Taro Yamada" and "Yamada Taro"). A
    /// component that holds a whole name (`山本　美日`) is split at its spaces too; a part of one
    /// character is looked for with an honorific after it (`林様`).
    pub fn add_person_name(&mut self, pn: &str) {
        for value in pn.split('\\') {
            for group in value.split('=') {
                let components: Vec<String> = group.split('^').map(|p| p.nfkc().collect::<String>()).collect();
                // Units: split at spaces, and at what people put between the parts of a name in
                // one field (`山田 太郎（ヤマダ タロウ）`, `Yamada/Taro`, `ジョン・スミス`); each unit
                // is a word or words joined by a hyphen (`Jean-Pierre`, `Eun-Ji`, `Yamada-Taro`).
                let units: Vec<Vec<&str>> = components
                    .iter()
                    .flat_map(|c| c.split(|ch: char| ch.is_whitespace() || "()/・".contains(ch)))
                    .map(|u| u.split(HYPHENS).filter(|w| !w.is_empty() && !is_name_annotation(w)).collect())
                    .filter(|u: &Vec<&str>| !u.is_empty())
                    .collect();
                let words: Vec<&str> = units.iter().flatten().copied().collect();
                self.add_joined_names(&units);
                for u in units.iter().filter(|u| u.len() >= 2) {
                    self.add(&u.join(" "));
                }
                for w in &words {
                    if w.chars().count() == 1 && !w.is_ascii() {
                        for h in HONORIFICS {
                            self.add(&format!("{w}{h}"));
                        }
                    }
                }
                if words.len() >= 2 {
                    // The words spaced, in either order (`Taro Yamada`).
                    let mut rev = words.clone();
                    rev.reverse();
                    for w in [&words, &rev] {
                        self.add(&w.join(" "));
                    }
                }
                let mut parts: Vec<&str> = components.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect();
                for w in words {
                    if !parts.contains(&w) {
                        parts.push(w);
                    }
                }
                for p in &parts {
                    self.add(p);
                }
                if parts.len() >= 2 {
                    self.add(&parts.join(" "));
                    let mut rev = parts.clone();
                    rev.reverse();
                    self.add(&rev.join(" "));
                    self.add_joined_name(&parts);
                }
            }
        }
    }

    /// The words of a name run together ([`Identifiers::add_joined_name`]): all of them in the
    /// order written and reversed (`TaroYamada`, `YamadaTaro`); the words of a hyphenated part
    /// (`JeanPierre` of `Jean-Pierre`, also `JeanPierre` and `PierrePaul` of `Jean-Pierre-Paul`)
    /// and the parts with their words joined, in either order (`MartinJeanPierre`). A name of
    /// four words or fewer: every ordered choice of two or more of its words of two characters
    /// or more (`JeanPierre`, `MartinJeanPierre` of `Jean Pierre Martin`: which words are the
    /// given names is not known).
    fn add_joined_names(&mut self, units: &[Vec<&str>]) {
        let words: Vec<&str> = units.iter().flatten().copied().collect();
        if words.len() < 2 {
            return;
        }
        let mut rev = words.clone();
        rev.reverse();
        self.add_joined_name(&words);
        self.add_joined_name(&rev);
        for u in units.iter().filter(|u| u.len() >= 2) {
            for len in 2..=u.len() {
                for run in u.windows(len) {
                    self.add_joined_name(run);
                }
            }
        }
        if units.len() >= 2 && units.iter().any(|u| u.len() >= 2) {
            let mut joined: Vec<String> = units.iter().map(|u| u.concat()).collect();
            for _ in 0..2 {
                let parts: Vec<&str> = joined.iter().map(String::as_str).collect();
                self.add_joined_name(&parts);
                joined.reverse();
            }
        }
        let long: Vec<&str> = words.iter().copied().filter(|w| w.chars().count() >= 2).collect();
        if long.len() <= 4 {
            let mut chosen = Vec::new();
            self.add_orderings(&long, &mut vec![false; long.len()], &mut chosen);
        }
    }

    /// Every ordering of two or more of `words` not yet `used`, after `chosen`.
    fn add_orderings<'w>(&mut self, words: &[&'w str], used: &mut Vec<bool>, chosen: &mut Vec<&'w str>) {
        if chosen.len() >= 2 {
            let run = chosen.clone();
            self.add_joined_name(&run);
        }
        for i in 0..words.len() {
            if !used[i] {
                used[i] = true;
                chosen.push(words[i]);
                self.add_orderings(words, used, chosen);
                chosen.pop();
                used[i] = false;
            }
        }
    }

    /// Add a name's words run together (`JeanPierre` of `Jean` + `Pierre`): found, in any case
    /// but its joins, only where the text writes each word after the first starting with a
    /// letter not in lower case (`JeanPierre`, `JEANPIERRE`, `jeanPierre`; scripts without case
    /// always). So the run-together name that is also a word is left where the text writes the
    /// word (`Wan-Ting` finds `WanTing`, not `wanting`; `Sun-Day` finds `SunDay`, not `Sunday`);
    /// a name run together all in lower case (`jeanpierre`) is not found.
    fn add_joined_name(&mut self, words: &[&str]) {
        let mut variants = vec![words.iter().map(|w| w.to_string()).collect::<Vec<String>>()];
        if words.iter().any(|w| umlauts_spelled_out(w).is_some()) {
            variants.push(words.iter().map(|w| umlauts_spelled_out(w).unwrap_or_else(|| w.to_string())).collect());
        }
        for variant in variants {
            let mut needle = Vec::new();
            let mut joins = Vec::new();
            for w in &variant {
                let n = normalize(w.trim());
                if n.is_empty() {
                    return;
                }
                if !needle.is_empty() {
                    joins.push(needle.len());
                }
                needle.extend(n);
            }
            if needle.len() < 2 || joins.is_empty() {
                continue;
            }
            if let Some(other) = other_kana(&needle) {
                let entry = (other, joins.clone());
                if !self.joined.contains(&entry) {
                    self.joined.push(entry);
                }
            }
            let entry = (needle, joins);
            if !self.joined.contains(&entry) {
                self.joined.push(entry);
            }
        }
    }

    /// Add a street address: its town with a house number beside it, in any spelling of the
    /// number (`登呂1-3-5`, `登呂１丁目３番５号`, `駿河区登呂1-3-5` of `静岡県静岡市駿河区登呂１−３−５`;
    /// `2-11-15 Chuo` of `2-11-15 Chuo, Chuo-ku, Sagamihara`). The town alone is left: it is
    /// often an ordinary word (`中央` of `中央静脈カテーテル`). A value without a house number
    /// adds nothing. The whole address is added with [`Identifiers::add`].
    pub fn add_street_address(&mut self, address: &str) {
        for town in address_towns(&address.nfkc().collect::<String>()) {
            if !self.towns.contains(&town) {
                self.towns.push(town);
            }
        }
        for building in address_buildings(address) {
            self.add(&building);
        }
    }

    /// Add a DA value in the spellings people type: `19850315`, `1985-03-15`, `1985/03/15`,
    /// `1985.03.15`, `1985.3.15`, `1985/3/15`, `1985年3月15日`, English month names
    /// (`15-MAR-1985`, `Mar 15, 1985`; any case) ([`crate::dates::common_spellings`]).
    pub fn add_date(&mut self, da: &str) {
        for s in crate::dates::common_spellings(da) {
            let v = normalize(&s);
            if !self.dates.contains(&v) {
                self.dates.push(v);
            }
        }
    }

    /// Whether `text` contains any identifier.
    pub fn found_in(&self, text: &str) -> bool {
        let (hay, cased, _) = compared_cased(text);
        !self.matches(&hay, &cased, false).is_empty()
    }

    /// Where identifiers stand in `text`: ranges of character indices of `text` (start
    /// inclusive, end exclusive), sorted; a match covers every character it touches, and
    /// matches may overlap. Empty when there is none. For a caller that replaces them with
    /// something else than [`REDACTED`] (an output file name).
    pub fn find(&self, text: &str) -> Vec<(usize, usize)> {
        self.find_with(text, false)
    }

    /// Like [`Identifiers::find`], for a file name: an identifier holding a digit (an ID, a
    /// date, a phone number) is also found glued to letters (`labs1234567`, `19850315labs`),
    /// as names are typed without separators; never inside a longer number. A name run together
    /// is found in any case (`yamadataro.dcm`).
    pub fn find_in_name(&self, text: &str) -> Vec<(usize, usize)> {
        self.find_with(text, true)
    }

    fn find_with(&self, text: &str, glued: bool) -> Vec<(usize, usize)> {
        let (hay, cased, origin) = compared_cased(text);
        let mut ranges = self.matches(&hay, &cased, glued);
        if ranges.is_empty() {
            return ranges;
        }
        let chars: Vec<char> = text.chars().collect();
        // From compared characters to original ones; a match also covers the diacritics typed
        // as characters of their own after its last letter (`e` + U+0301), which compared left out.
        for r in ranges.iter_mut() {
            let mut end = origin[r.1 - 1] + 1;
            while chars.get(end).is_some_and(|&c| is_diacritic(c)) {
                end += 1;
            }
            *r = (origin[r.0], end);
        }
        ranges.sort_unstable();
        ranges.dedup();
        ranges
    }

    /// Replace every identifier in `text` with [`REDACTED`]; every other character stays as it
    /// was (no normalisation outside the matches). `None` when there is nothing to replace
    /// (the caller then keeps the original bytes untouched).
    pub fn scrub(&self, text: &str) -> Option<String> {
        let ranges = self.find(text);
        if ranges.is_empty() {
            return None;
        }
        let original: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in ranges {
            if end <= at {
                continue;
            }
            if start >= at {
                out.extend(&original[at..start]);
                out.push_str(REDACTED);
            }
            at = end;
        }
        out.extend(&original[at..]);
        Some(out)
    }
}

/// All matches of `needle` in `hay` as char ranges, honouring word boundaries at ASCII
/// alphanumeric ends (for a date, a time may follow). `glued`: a needle holding a digit needs
/// only number boundaries (no digit next to a digit end).
fn find_all(hay: &[char], needle: &[char], date: bool, glued: bool) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if needle.is_empty() || needle.len() > hay.len() {
        return found;
    }
    let numbers_only = glued && needle.iter().any(char::is_ascii_digit);
    let word = |c: char| if numbers_only { c.is_ascii_digit() } else { c.is_ascii_alphanumeric() };
    for start in 0..=hay.len() - needle.len() {
        let end = start + needle.len();
        // The first character alone rules out almost every start: checked before the slice.
        if hay[start] != needle[0] || hay[start..end] != *needle {
            continue;
        }
        let left_ok = !word(needle[0]) || start == 0 || !word(hay[start - 1]);
        let right_ok = !word(needle[needle.len() - 1])
            || end == hay.len()
            || !word(hay[end])
            || (date && crate::dates::time_follows(hay[end..].iter().copied()));
        if left_ok && right_ok && !inside_a_decimal(hay, start, end, needle) && !inside_a_kana_word(hay, start, end) {
            found.push((start, end));
        }
    }
    found
}

/// The kana script of a character: hiragana or katakana (with its prolonged sound mark).
fn kana_script(c: char) -> Option<bool> {
    match c {
        '\u{3041}'..='\u{309F}' => Some(false),
        '\u{30A0}'..='\u{30FF}' => Some(true),
        _ => None,
    }
}

/// Whether a short kana match (one or two characters, `アイ`, `はな`) stands inside a longer
/// word of its own script (`アイソトープ`, `はなみず`): a given name that short is also a piece of
/// many words. It counts when the characters beside it are of another script or none, or when
/// an honorific follows (`はなさん`).
fn inside_a_kana_word(hay: &[char], start: usize, end: usize) -> bool {
    // In kana: a kanji honorific (`様`) is of another script and needs no list.
    const KANA_HONORIFICS: [&str; 4] = ["さん", "さま", "くん", "ちゃん"];
    let Some(script) = kana_script(hay[start]) else { return false };
    if end - start > 2 || hay[start..end].iter().any(|&c| kana_script(c) != Some(script)) {
        return false;
    }
    let same = |c: char| kana_script(c) == Some(script);
    let honorific = || {
        let rest: String = hay[end..].iter().take(3).collect();
        KANA_HONORIFICS.iter().any(|h| rest.starts_with(h))
    };
    (start > 0 && same(hay[start - 1])) || (end < hay.len() && same(hay[end]) && !honorific())
}

/// Whether a match of a number stands inside a decimal number (`0.123456`, `123456.5`,
/// `1,234,567`): the digits of an ID or a date are never part of one, a measurement's are.
fn inside_a_decimal(hay: &[char], start: usize, end: usize, needle: &[char]) -> bool {
    if !needle.iter().all(char::is_ascii_digit) {
        return false;
    }
    let point = |c: char| c == '.' || c == ',';
    let before = start >= 2 && point(hay[start - 1]) && hay[start - 2].is_ascii_digit();
    let after = end + 1 < hay.len() && point(hay[end]) && hay[end + 1].is_ascii_digit();
    before || after
}

/// All places where the digits `digits` stand in `hay` as one number, with at most two
/// separators between two digits and no digit just before or after (char ranges).
fn find_digits(hay: &[char], digits: &[char]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for start in 0..hay.len() {
        if hay[start] != digits[0] || (start > 0 && hay[start - 1].is_ascii_digit()) {
            continue;
        }
        let (mut at, mut matched) = (start + 1, 1);
        while matched < digits.len() && at < hay.len() {
            let mut gap = 0;
            while at < hay.len() && digit_separator(hay[at]) && gap < 2 {
                at += 1;
                gap += 1;
            }
            if at < hay.len() && hay[at] == digits[matched] {
                at += 1;
                matched += 1;
            } else {
                break;
            }
        }
        // One `.` or `,` and no other separator: a decimal number (`0.123456`), not a phone or
        // an ID typed in groups.
        let separators: Vec<char> = hay[start..at].iter().copied().filter(|c| !c.is_ascii_digit()).collect();
        let decimal = separators.len() == 1 && separators[0] == '.';
        if matched == digits.len() && hay.get(at).is_none_or(|c| !c.is_ascii_digit()) && !decimal {
            found.push((start, at));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Identifiers {
        let mut i = Identifiers::new();
        i.add_person_name("Yamada^Tarou=山田^太郎=やまだ^たろう");
        i.add("PID12345");
        i.add_date("19850315");
        i
    }

    #[test]
    fn replaces_each_name_group() {
        let i = ids();
        assert_eq!(i.scrub("CT for YAMADA").as_deref(), Some("CT for ***"));
        assert_eq!(i.scrub("山田様 胸部CT").as_deref(), Some("***様 胸部CT"));
        assert_eq!(i.scrub("やまだ たろう").as_deref(), Some("***"));
    }

    #[test]
    fn full_width_spellings_are_found() {
        assert_eq!(ids().scrub("ＰＩＤ１２３４５ follow-up").as_deref(), Some("*** follow-up"));
    }

    #[test]
    fn ascii_identifiers_match_whole_words_only() {
        let mut i = Identifiers::new();
        i.add_person_name("LI^WEI");
        assert_eq!(i.scrub("CLINICAL TRIAL"), None);
        assert_eq!(i.scrub("Dr LI review").as_deref(), Some("Dr *** review"));
    }

    #[test]
    fn birth_date_spellings_are_found() {
        let i = ids();
        for t in ["born 1985-03-15", "DOB 1985/3/15", "1985年3月15日生", "19850315"] {
            assert!(i.scrub(t).unwrap().contains(REDACTED), "{t}");
        }
    }

    #[test]
    fn a_birth_date_with_an_english_month_name_is_found_in_any_case() {
        let i = ids();
        for t in [
            "DOB 15-MAR-1985 checked",
            "DOB 15MAR1985 checked",
            "DOB Mar 15, 1985 checked",
            "DOB 15 March 1985 checked",
            "DOB MARCH 15, 1985 checked",
            "DOB 15/Mar/1985 checked",
            "DOB 1985-mar-15 checked",
            "DOB 1985.3.15 checked",
        ] {
            assert_eq!(i.scrub(t).as_deref(), Some("DOB *** checked"), "{t}");
        }
    }

    #[test]
    fn a_birth_date_spelling_inside_a_longer_number_is_left_alone() {
        let i = ids();
        for t in ["115-MAR-1985", "15-MAR-19851", "21985.3.15", "1985.3.151", "Mar 15, 19850"] {
            assert_eq!(i.scrub(t), None, "{t}");
        }
    }

    #[test]
    fn a_name_is_found_run_together_in_either_order() {
        let mut i = Identifiers::new();
        i.add_person_name("YAMADA Taro");
        for t in ["seen by TaroYamada", "seen by YamadaTaro", "seen by taro yamada"] {
            assert_eq!(i.scrub(t).as_deref(), Some("seen by ***"), "{t}");
        }
    }

    #[test]
    fn a_name_with_its_reading_in_parentheses_or_parts_joined_by_a_slash_gives_each_part() {
        let mut i = Identifiers::new();
        i.add_person_name("山田 太郎（ヤマダ タロウ）");
        assert_eq!(i.scrub("太郎様 ヤマダ様").as_deref(), Some("***様 ***様"));
        let mut latin = Identifiers::new();
        latin.add_person_name("Yamada/Taro");
        assert_eq!(latin.scrub("seen YAMADA Taro").as_deref(), Some("seen ***"));
        let mut dash = Identifiers::new();
        dash.add_person_name("Yamada-Taro");
        assert_eq!(dash.scrub("seen Taro").as_deref(), Some("seen ***"));
    }

    #[test]
    fn a_hyphenated_given_name_is_found_run_together_and_with_the_family_name() {
        let mut i = Identifiers::new();
        i.add_person_name("Jean-Pierre Martin");
        for t in ["seen by JeanPierre", "seen by Jean Pierre", "seen by MartinJeanPierre", "seen by JeanPierreMartin"] {
            assert_eq!(i.scrub(t).as_deref(), Some("seen by ***"), "{t}");
        }
        let mut kim = Identifiers::new();
        kim.add_person_name("Kim Eun-Ji");
        for t in ["seen by EunJi", "seen by EunJiKim", "seen by KimEunJi"] {
            assert_eq!(kim.scrub(t).as_deref(), Some("seen by ***"), "{t}");
        }
        let mut dicom = Identifiers::new();
        dicom.add_person_name("Martin^Jean-Pierre");
        assert_eq!(dicom.scrub("seen by JeanPierre Martin").as_deref(), Some("seen by *** ***"));
    }

    #[test]
    fn a_name_with_a_title_after_a_hyphen_is_found_run_together_in_either_order() {
        let mut i = Identifiers::new();
        i.add_person_name("Yamada/Taro-Dr");
        assert_eq!(i.scrub("TaroYamada and YamadaTaro").as_deref(), Some("*** and ***"));
        assert_eq!(i.scrub("Dr review").as_deref(), None, "the title is no part of the name");
    }

    #[test]
    fn a_short_kana_name_is_not_found_inside_a_word_of_its_script() {
        let mut i = Identifiers::new();
        i.add_person_name("ヤマダ^アイ");
        i.add_person_name("やまだ^はな");
        assert_eq!(i.scrub("アイソトープ はなみず").as_deref(), None);
        assert_eq!(i.scrub("アイが来院 はなさん アイ様").as_deref(), Some("***が来院 ***さん ***様"));
    }

    #[test]
    fn a_note_beside_a_name_is_no_part_of_it() {
        let mut i = Identifiers::new();
        i.add_person_name("山田 花子（旧姓 佐藤）");
        i.add_person_name("Smith John (MD)");
        assert_eq!(i.scrub("旧姓 MD 確認").as_deref(), None);
        assert_eq!(i.scrub("佐藤様").as_deref(), Some("***様"), "the maiden name is a name");
    }

    #[test]
    fn find_gives_the_character_ranges_of_each_identifier() {
        let mut i = Identifiers::new();
        i.add_person_name("YAMADA^TARO");
        i.add_date("19850315");
        assert_eq!(i.find("Yamada_Taro_19850315_labs"), [(0, 6), (7, 11), (12, 20)]);
        assert_eq!(i.find_in_name("山田_yamadataro"), [(3, 13)]);
        assert!(i.find("labs").is_empty());
        assert!(i.find("labs19850315").is_empty());
    }

    #[test]
    fn r13_01_a_one_character_town_with_its_house_number_is_found_and_alone_is_left() {
        let mut i = Identifiers::new();
        i.add_street_address("神奈川県横浜市緑区緑1-2-3");
        for t in ["自宅 緑1-2-3 で転倒", "自宅 緑１丁目２番３号 で転倒", "自宅 緑区緑1-2-3 で転倒"]
        {
            assert_eq!(i.scrub(t).as_deref(), Some("自宅 *** で転倒"), "{t}");
        }
        assert_eq!(i.scrub("緑色の痰 緑3号棟"), None, "the town alone, or with one number");
    }

    #[test]
    fn r13_02_a_jo_address_is_found_in_any_spelling() {
        let mut i = Identifiers::new();
        i.add_street_address("北海道札幌市中央区南3条西4丁目12-5");
        for t in ["自宅 南3条西4丁目12-5", "自宅 南3条西4-12-5", "自宅 南三条西四丁目12番5号"] {
            assert_eq!(i.scrub(t).as_deref(), Some("自宅 ***"), "{t}");
        }
        let mut asahikawa = Identifiers::new();
        asahikawa.add_street_address("北海道旭川市4条通8丁目1-2");
        assert_eq!(asahikawa.scrub("自宅 4条通8丁目1-2; 四条通八丁目1番2号").as_deref(), Some("自宅 ***; ***"));
        assert_eq!(asahikawa.scrub("4条通9丁目1-2 1-2"), None, "another house number");
    }

    #[test]
    fn r13_03_a_house_number_in_kanji_numerals_is_removed_whole() {
        let mut i = Identifiers::new();
        i.add_street_address("静岡県静岡市駿河区登呂１−３−５");
        assert_eq!(i.scrub("自宅 登呂一丁目三番五号 にて").as_deref(), Some("自宅 *** にて"));
        let mut honcho = Identifiers::new();
        honcho.add_street_address("東京都千代田区本町3-4");
        assert_eq!(honcho.scrub("自宅 本町三丁目四番").as_deref(), Some("自宅 ***"));
    }

    #[test]
    fn a_town_named_with_kanji_numerals_keeps_its_name() {
        assert_eq!(towns("宮城県仙台市青葉区一番町1-2-3"), ["一番町"]);
    }

    #[test]
    fn a_latin_town_glued_to_its_house_number_or_with_chome_is_found() {
        let mut chuo = Identifiers::new();
        chuo.add_street_address("2-11-15 Chuo, Chuo-ku, Sagamihara");
        assert_eq!(chuo.scrub("at Chuo2-11-15; Chuo 2-chome 11-15.").as_deref(), Some("at ***; ***."));
        assert_eq!(chuo.scrub("Chuo2 line"), None);
    }

    #[test]
    fn the_building_and_room_of_an_address_are_found() {
        let mut i = Identifiers::new();
        i.add_street_address("静岡県静岡市駿河区登呂1-3-5 登呂ハイツ202");
        assert_eq!(i.scrub("自宅 登呂ハイツ202 訪問").as_deref(), Some("自宅 *** 訪問"));
        assert_eq!(i.scrub("登呂ハイツ 202号室").as_deref(), Some("***号室"));
    }

    #[test]
    fn r13_04_katakana_given_names_joined_by_a_double_hyphen_are_split() {
        for name in
            ["マルタン ジャン＝ピエール", "マルタン ジャン゠ピエール", "MARTIN^JEAN-PIERRE=マルタン^ジャン＝ピエール"]
        {
            let mut i = Identifiers::new();
            i.add_person_name(name);
            let t = "ジャンピエールさん来院; ジャン ピエール; マルタンジャンピエール";
            assert_eq!(i.scrub(t).as_deref(), Some("***さん来院; ***; ***"), "{name}");
        }
    }

    #[test]
    fn r13_05_spaced_given_names_are_found_run_together() {
        let mut i = Identifiers::new();
        i.add_person_name("Jean Pierre Martin");
        assert_eq!(i.scrub("JeanPierre called; MartinJeanPierre").as_deref(), Some("*** called; ***"));
        let mut mary = Identifiers::new();
        mary.add_person_name("Mary Ann Smith");
        assert_eq!(mary.scrub("MaryAnn called; SmithMaryAnn").as_deref(), Some("*** called; ***"));
    }

    #[test]
    fn an_underscore_joins_given_names_like_a_hyphen() {
        let mut i = Identifiers::new();
        i.add_person_name("Jean_Pierre Martin");
        assert_eq!(i.scrub("JeanPierre and Jean Pierre").as_deref(), Some("*** and ***"));
    }

    #[test]
    fn part_of_a_three_word_hyphenated_name_is_found_run_together() {
        let mut i = Identifiers::new();
        i.add_person_name("Jean-Pierre-Paul Martin");
        assert_eq!(i.scrub("JeanPierre; PierrePaul").as_deref(), Some("***; ***"));
    }

    #[test]
    fn r13_09_a_name_run_together_is_found_only_with_its_joins_marked() {
        let mut i = Identifiers::new();
        i.add_person_name("Wan-Ting Lin");
        i.add_person_name("Sun-Day Park");
        assert_eq!(i.scrub("patient wanting to go home; Wanting; on Sunday"), None);
        assert_eq!(i.scrub("WanTing called; WANTING; SunDay").as_deref(), Some("*** called; ***; ***"));
    }

    #[test]
    fn in_a_file_name_a_number_is_found_glued_to_letters_but_not_inside_a_longer_number() {
        let mut i = Identifiers::new();
        i.add_id("0001234567");
        i.add_person_name("LI^WEI");
        assert_eq!(i.find_in_name("labs1234567"), [(4, 11)]);
        assert!(i.find_in_name("labs12345678").is_empty());
        assert!(i.find_in_name("clinical").is_empty(), "a name part is still a whole word");
    }

    #[test]
    fn text_without_identifiers_is_left_alone() {
        assert_eq!(ids().scrub("CHEST PA AND LATERAL"), None);
    }

    #[test]
    fn phone_numbers_are_found_whatever_separates_their_digits() {
        let mut i = Identifiers::new();
        i.add("090-3333-4444");
        for t in ["携帯 090−3333−4444", "090ー3333ー4444", "090 3333 4444", "(090)3333-4444", "０９０３３３３４４４４"]
        {
            assert_eq!(i.scrub(t).map(|s| s.contains(REDACTED)), Some(true), "{t}");
        }
        assert_eq!(i.scrub("1090333344445"), None);
    }

    #[test]
    fn kana_names_are_found_in_either_kana_script() {
        let mut i = Identifiers::new();
        i.add_person_name("カクウ^ハナコ");
        assert_eq!(i.scrub("かくう はなこ 様").as_deref(), Some("*** 様"));
    }

    #[test]
    fn a_whole_name_in_one_component_is_split_at_its_spaces() {
        let mut i = Identifiers::new();
        i.add_person_name("山本\u{3000}美日^^^");
        assert_eq!(i.scrub("山本様 美日さん 山本美日様").as_deref(), Some("***様 ***さん ***様"));
    }

    #[test]
    fn one_kanji_name_parts_are_found_before_an_honorific() {
        let mut i = Identifiers::new();
        i.add_person_name("林^花");
        assert_eq!(i.scrub("林様 花さん").as_deref(), Some("*** ***"));
        assert_eq!(i.scrub("森林浴"), None);
    }

    #[test]
    fn characters_outside_a_match_are_kept_as_they_were() {
        let mut i = Identifiers::new();
        i.add_person_name("ZORBLAX^QUENTIN=架空^花子");
        assert_eq!(i.scrub("ZORBLAX contrast 5µg ½ dose").as_deref(), Some("*** contrast 5µg ½ dose"));
        assert_eq!(i.scrub("ＣＴ検査 架空 ① ｼﾝｿﾞｳ").as_deref(), Some("ＣＴ検査 *** ① ｼﾝｿﾞｳ"));
        assert_eq!(i.scrub("ｚｏｒｂｌａｘ様").as_deref(), Some("***様"));
    }

    #[test]
    fn half_width_kana_matches_full_width_kana() {
        let mut i = Identifiers::new();
        i.add_person_name("シンゾウ^ジロウ");
        assert_eq!(i.scrub("ｼﾝｿﾞｳ ｼﾞﾛｳ").as_deref(), Some("***"));
        assert_eq!(i.scrub("ｼﾞﾛｳ様").as_deref(), Some("***様"));
    }

    #[test]
    fn a_birth_date_is_found_at_the_start_of_a_date_time() {
        let i = ids();
        for t in ["19850315120000", "1985-03-15T12:00", "DT 19850315093000.123"] {
            assert!(i.scrub(t).unwrap_or_default().contains(REDACTED), "{t}");
        }
        assert_eq!(i.scrub("198503151"), None);
    }

    #[test]
    fn one_character_identifiers_are_ignored() {
        let mut i = Identifiers::new();
        i.add("A");
        assert!(i.is_empty());
    }

    #[test]
    fn an_id_is_found_without_its_zero_padding_or_separators() {
        let mut i = Identifiers::new();
        i.add_id("0001234567");
        i.add_id("PID-CANARY-123");
        assert_eq!(i.scrub("ID 1234567 check").unwrap(), "ID *** check");
        assert_eq!(i.scrub("カルテ 001234567").unwrap(), "カルテ ***");
        assert_eq!(i.scrub("ref PIDCANARY123").unwrap(), "ref ***");
        assert!(i.scrub("dose 12345678").is_none());
    }

    #[test]
    fn the_digits_of_an_id_inside_a_decimal_number_are_left_alone() {
        let mut i = Identifiers::new();
        i.add_id("0000123456");
        assert_eq!(i.scrub("ratio 0.123456 and ID 123456").unwrap(), "ratio 0.123456 and ID ***");
        assert!(i.scrub("factor 123456.5").is_none());
    }

    #[test]
    fn a_birth_date_is_found_as_six_digits() {
        let mut i = Identifiers::new();
        i.add_birth_date_typed("19850315");
        assert_eq!(i.scrub("born 850315").unwrap(), "born ***");
        assert!(i.scrub("8503150").is_none());
    }

    #[test]
    fn an_id_is_found_with_its_prefix_split_off_or_left_out() {
        let mut i = Identifiers::new();
        i.add_id("PID7788123");
        for t in ["ref PID 7788123 seen", "ref PID-7788123 seen", "ref 7788123 seen", "ref 778-8123 seen"] {
            assert_eq!(i.scrub(t).as_deref(), Some("ref *** seen"), "{t}");
        }
        assert!(i.scrub("ref 77881234 and 1778812 and 7788.123").is_none(), "never inside another number");
    }

    #[test]
    fn an_address_gives_its_municipality_not_its_town_or_prefecture() {
        assert_eq!(address_parts("〒150-0002 東京都渋谷区渋谷1丁目2-3"), ["渋谷区"]);
        assert_eq!(address_parts("北海道札幌市中央区北1条西2丁目"), ["札幌市", "中央区"]);
        assert_eq!(address_parts("神奈川県相模原市中央区中央2-11-15"), ["相模原市", "中央区"]);
        assert_eq!(address_parts("東京都町田市"), ["町田市"]);
        assert_eq!(address_parts("1-2-3 Shibuya, Shibuya-ku, Tokyo 150-0002, Japan"), ["Shibuya-ku"]);
        assert!(address_parts("12 Oak St, Chuo").is_empty());
    }

    fn towns(address: &str) -> Vec<String> {
        address_towns(address).into_iter().map(|t| t.name.into_iter().collect()).collect()
    }

    #[test]
    fn an_address_gives_the_town_before_its_house_number() {
        assert_eq!(towns("静岡県静岡市駿河区登呂１−３−５"), ["登呂"]);
        assert_eq!(towns("〒150-0002 東京都渋谷区渋谷1丁目2-3"), ["渋谷"]);
        assert_eq!(towns("神奈川県相模原市中央区中央2-11-15"), ["中央"]);
        assert_eq!(towns("北海道札幌市中央区北1条西2丁目"), ["北", "中央区北"]);
        assert_eq!(towns("横浜市中区元町1-2-3"), ["元町"]);
        assert_eq!(towns("東京都港区三田一丁目4-1"), ["三田"]);
        assert_eq!(towns("登呂１−３−５"), ["登呂"]);
        assert_eq!(towns("2-11-15 Chuo, Chuo-ku, Sagamihara"), ["chuo"]);
        assert_eq!(towns("12 Oak St, Springfield"), ["oak st"]);
        assert!(towns("東京都町田市").is_empty(), "no house number");
        assert!(towns("090-1111-2222").is_empty());
        assert!(towns("PID 123-456").is_empty(), "one part is no Latin address");
    }

    #[test]
    fn a_town_with_a_house_number_is_found_in_any_spelling_and_alone_is_left() {
        let mut i = Identifiers::new();
        i.add_street_address("静岡県静岡市駿河区登呂１−３−５");
        for t in ["住所 登呂１−３−５ 確認", "住所 登呂1-3-5 確認", "住所 登呂1丁目3番5号 確認", "住所 登呂 1-3-5 確認"]
        {
            assert_eq!(i.scrub(t).as_deref(), Some("住所 *** 確認"), "{t}");
        }
        assert_eq!(i.scrub("登呂遺跡 見学 登呂1"), None, "the town alone, or with a lone number");
        let mut chuo = Identifiers::new();
        chuo.add_street_address("神奈川県相模原市中央区中央2-11-15");
        chuo.add_street_address("2-11-15 Chuo, Chuo-ku, Sagamihara");
        assert_eq!(chuo.scrub("中央静脈カテーテル 中央2丁目11番15号").as_deref(), Some("中央静脈カテーテル ***"));
        assert_eq!(chuo.scrub("lives at 2-11-15 Chuo, and Chuo 3-1").as_deref(), Some("lives at ***, and ***"));
        assert_eq!(chuo.scrub("Chuo line 2 stops"), None);
        let mut oak = Identifiers::new();
        oak.add_street_address("12 Oak St, Springfield");
        assert_eq!(oak.scrub("at 12 Oak St today; 3 Oak St").as_deref(), Some("at *** today; 3 Oak St"));
    }

    #[test]
    fn an_id_of_several_letter_and_digit_runs_is_found_with_them_split() {
        let mut i = Identifiers::new();
        i.add_id("AB12CD345678");
        for t in ["ref AB 12 CD 345678 seen", "ref AB-12-CD-345678 seen", "ref ab-12-cd-345678 seen"] {
            assert_eq!(i.scrub(t).as_deref(), Some("ref *** seen"), "{t}");
        }
        assert!(i.scrub("ref AB 12 CD 3456789 seen").is_none(), "never inside another number");
    }

    #[test]
    fn the_digits_of_an_id_are_looked_for_alone_only_when_six_or_more_remain_without_padding() {
        let mut i = Identifiers::new();
        i.add_id("PID12345");
        i.add_id("MRN0000123456");
        assert!(i.scrub("dose 12345 mg").is_none(), "five digits stand for too many things");
        assert!(i.scrub("PID 12345").is_none());
        assert_eq!(i.scrub("MRN 123456").as_deref(), Some("***"));
        assert_eq!(i.scrub("no 0000123456").as_deref(), Some("no ***"));
        let mut padded = Identifiers::new();
        padded.add_id("PID0012345");
        assert!(padded.scrub("PID 0012345 and 12345").is_none(), "five significant digits are not enough");
    }

    #[test]
    fn a_name_is_found_without_its_accents() {
        let mut i = Identifiers::new();
        i.add_person_name("MÜLLER^JOSÉ");
        assert_eq!(i.scrub("seen by Muller Jose today").as_deref(), Some("seen by *** today"));
        assert_eq!(i.scrub("JOSE").as_deref(), Some("***"));
        assert_eq!(i.scrub("muller").as_deref(), Some("***"));
    }

    #[test]
    fn a_name_with_umlauts_is_found_spelled_out() {
        let mut i = Identifiers::new();
        i.add_person_name("MÜLLER^JOSÉ");
        assert_eq!(i.scrub("Dr MUELLER called").as_deref(), Some("Dr *** called"));
        assert_eq!(i.scrub("Mueller Jose").as_deref(), Some("***"));
    }

    #[test]
    fn accents_in_the_text_are_covered_by_the_match() {
        let mut i = Identifiers::new();
        i.add_person_name("MULLER^JOSE");
        assert_eq!(i.scrub("Müller, José.").as_deref(), Some("***, ***."));
        // Decomposed spelling: the accent is a character of its own after the letter.
        assert_eq!(i.scrub("Jose\u{301} ok").as_deref(), Some("*** ok"));
        assert_eq!(i.find("Jose\u{301} ok"), [(0, 5)]);
    }

    #[test]
    fn kana_voicing_marks_are_not_folded_like_accents() {
        let mut i = Identifiers::new();
        i.add_person_name("ジロウ");
        assert!(i.scrub("シロウ").is_none());
    }
}
