//! How people write a street address, for the code that looks for one in text: Clean
//! ([`crate::scrub`]) removes each of these spellings, and `kamei verify` ([`crate::verify`])
//! searches a release for the same ones, so the check never looks for fewer spellings than the
//! scrubber removes.
//!
//! Besides the whole address (looked for as it is), people write parts of it on their own:
//! its postal code ([`postal_codes`]), its municipality with its suffix ([`municipalities`]:
//! `渋谷区`), the town with a house number beside it in any spelling of the number ([`towns`]:
//! `登呂1-3-5`, `登呂一丁目三番五号` of `静岡県静岡市駿河区登呂１−３−５`), and the building with
//! its room ([`buildings`]: `登呂ハイツ202`). The town alone is no identifier: it is often an
//! ordinary word (`中央` of `中央静脈カテーテル`), so a town is not a string to search for but a
//! [`Town`] found with its house number ([`Town::found_in`]).

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// The text as towns are compared: the scrubber's compared form ([`crate::scrub`]:
/// compatibility-decomposed, lower case, without Latin diacritics, every dash between digits
/// as `-`), one character for one of the compared text.
pub fn compared(text: &str) -> Vec<char> {
    crate::scrub::normalize(text)
}

/// What separates the parts of an address written in one value: white space, commas (ASCII,
/// `、`, `，`), a DICOM component or value delimiter (`^`, `\`), and the postal mark `〒`.
fn separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '、' | '，' | '^' | '\\' | '〒')
}

/// The postal codes written in an address (`422-8033` of `〒422-8033 静岡県...`, `12345` or
/// `12345-6789` of a Latin one): written alone too (`〒422-8033`, `ZIP 12345`).
pub fn postal_codes(address: &str) -> Vec<String> {
    static POSTAL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\d{3}-\d{4}|\d{5}(?:-\d{4})?").expect("valid pattern"));
    POSTAL.find_iter(address).map(|m| m.as_str().to_string()).collect()
}

/// The towns of a street address, each found only with a house number beside it
/// ([`Town::found_in`]): the part of a Japanese address between its last administrative suffix
/// (都 道 府 県 市 区 町 村 郡) and the house number (`登呂` of `静岡県静岡市駿河区登呂１−３−５`); a
/// town of one character is taken alone (needing a house number of two numbers or more after
/// it) and with the piece before it (`緑` and `緑区緑` of `横浜市緑区緑1-2-3`; `南` and `中央区南`
/// of `中央区南3条西4丁目12-5`); a house number right after the municipality gives a town
/// without a name that stands for its own numbers (`4条通8丁目1-2` of `旭川市4条通8丁目1-2`, three
/// numbers or more). Also the words beside the house number in a part of a Latin address
/// written with commas (`Chuo` of `2-11-15 Chuo, Chuo-ku, Sagamihara`). An address without a
/// house number gives none.
pub fn towns(address: &str) -> Vec<Town> {
    address_towns(&address.nfkc().collect::<String>())
}

impl Town {
    /// Whether the town stands in `hay` (text as [`compared`]) with a house number beside it.
    pub fn found_in(&self, hay: &[char]) -> bool {
        !find_town(hay, self).is_empty()
    }

    /// The town as a person reads it, for a report: `登呂 + house number`, `12 oak st`, or the
    /// numbers of a town without a name (`4-8-1-2`).
    pub fn label(&self) -> String {
        let name: String = self.name.iter().collect();
        match &self.latin_number {
            Some(number) => format!("{} {name}", number.iter().collect::<String>()),
            None if name.is_empty() => self.numbers.iter().map(u32::to_string).collect::<Vec<_>>().join("-"),
            None => format!("{name} + house number"),
        }
    }
}

/// The town of a street address as compared (`登呂` of `静岡市駿河区登呂１−３−５`, `chuo` of
/// `2-11-15 Chuo, Chuo-ku, Sagamihara`): alone it is often an ordinary word (`中央`), with a
/// house number beside it it is where the patient lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Town {
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
            if k > 0 && structured && !UNITS.iter().any(|u| starts(i + k, u)) {
                // The last number after a unit needs none (`三番地五`, `三番五`).
                numbers.push(kanji_number(&hay[i..i + k]));
                i += k;
                break;
            }
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

/// [`towns`], of an address already compatibility-normalised (NFKC).
fn address_towns(address: &str) -> Vec<Town> {
    let mut out: Vec<Town> = Vec::new();
    let japanese =
        |name: Vec<char>, min_numbers: usize| Town { name, latin_number: None, min_numbers, numbers: Vec::new() };
    for token in address.split(separator).filter(|t| !t.is_ascii()) {
        let hay = compared(token);
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
                    name: compared(&town),
                    latin_number: Some(compared(num)),
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
/// a name of two characters or more that is no house number, and the room's digits; written
/// as people write them (`登呂ハイツ202`, `登呂ハイツ 202`, `登呂ハイツ202号室`).
pub fn buildings(address: &str) -> Vec<String> {
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
        let h = compared(t);
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

/// Where `town` stands in `hay` (text as [`compared`]) with a house number beside it, the number included: after a
/// Japanese town in any form ([`house_number`], one space allowed between them); for a town
/// without a name, its own numbers in any form; before or after a Latin town with a space or
/// comma between them or glued after it, with a dash in it (`2-11-15 Chuo`, `Chuo 2-11-15`,
/// `Chuo2-11-15`, `Chuo 2-chome 11-15`) or as the address wrote it (`12 Oak St`).
pub(crate) fn find_town(hay: &[char], town: &Town) -> Vec<(usize, usize)> {
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
        for (start, end) in crate::scrub::find_all(hay, &town.name, false, false) {
            // `登呂町1-3-5` of an address writing `登呂1丁目3番5号`: people add the `町`.
            let end = if hay.get(end) == Some(&'町') && town.name.last() != Some(&'町') { end + 1 } else { end };
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

/// The parts of an address people write on their own: the municipality (`渋谷区` of
/// `東京都渋谷区渋谷1-2-3`; `Shibuya-ku` of `1-2-3 Shibuya, Shibuya-ku, Tokyo`), named with its
/// administrative suffix (市 区 町 村 郡; `-shi`, `-ku`, `-cho`, `-machi`, `-mura`, `-gun`). Left
/// out: the town without a suffix (`中央` of `相模原市中央区中央`, `Chuo`: often an ordinary word,
/// `中央静脈`), house numbers and postal codes (the whole address and its postal code are looked
/// for as they are), and a Japanese prefecture (`東京都`, `北海道`: it names millions of people).
pub fn municipalities(address: &str) -> Vec<String> {
    const LATIN_SUFFIXES: &[&str] = &["-shi", "-ku", "-cho", "-machi", "-mura", "-gun"];
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_town_named_with_kanji_numerals_keeps_its_name() {
        assert_eq!(towns("宮城県仙台市青葉区一番町1-2-3"), ["一番町"]);
    }

    #[test]
    fn an_address_gives_its_municipality_not_its_town_or_prefecture() {
        assert_eq!(municipalities("〒150-0002 東京都渋谷区渋谷1丁目2-3"), ["渋谷区"]);
        assert_eq!(municipalities("北海道札幌市中央区北1条西2丁目"), ["札幌市", "中央区"]);
        assert_eq!(municipalities("神奈川県相模原市中央区中央2-11-15"), ["相模原市", "中央区"]);
        assert_eq!(municipalities("東京都町田市"), ["町田市"]);
        assert_eq!(municipalities("1-2-3 Shibuya, Shibuya-ku, Tokyo 150-0002, Japan"), ["Shibuya-ku"]);
        assert!(municipalities("12 Oak St, Chuo").is_empty());
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

    /// The text `find_town` takes out of `text` for the first town of `address`.
    fn found(address: &str, text: &str) -> Vec<String> {
        let hay = compared(text);
        let town = &super::towns(address)[0];
        find_town(&hay, town).into_iter().map(|(s, e)| hay[s..e].iter().collect()).collect()
    }

    #[test]
    fn a_town_is_found_with_the_last_number_after_a_unit_or_with_machi_added() {
        // rv22 suspect 14: `***五` kept the last number, `登呂町1-3-5` stayed.
        let address = "静岡県静岡市駿河区登呂1丁目3番5号";
        assert_eq!(found(address, "自宅 登呂一丁目三番地五 在住"), ["登呂一丁目三番地五"]);
        assert_eq!(found(address, "登呂町1-3-5"), ["登呂町1-3-5"]);
        assert!(found(address, "登呂町の遺跡").is_empty());
    }
}
