//! One name written in romaji and in kana: a Person Name whose alphabetic group is `Yamada^Taro`
//! is typed `やまだ たろう` or `ヤマダタロウ` in a description, and a name known only in kana
//! (`ヤマダ^タロウ`) is typed `Yamada Taro` in a note. [`crate::names::of_group`] adds the
//! spellings this module gives, so Clean and `kamei verify` look for them alike.
//!
//! The conversion itself is the `wana_kana` crate's (Hepburn and Kunrei input, both kana
//! scripts); this module adds what a name's romaji leaves open: romaji written without its long
//! vowels (`Taro` is `たろう`, `Ono` is `おおの`, `Yuko` is `ゆうこ`), or with `h` for them
//! (`SATOH`, `Ohno`), `m` for `ん` before `b`, `m`, `p` (`Homma`, `Namba`), and `n` before a vowel
//! that may be `ん` (`Shinichi` is `しんいち`). Each open choice gives a spelling of its own, up
//! to [`MAX_SPELLINGS`] a word.

use wana_kana::ConvertJapanese;

/// At most this many spellings of one word: beyond it each open choice keeps fewer of its
/// alternatives (first two, then the one as written), so a long word does not give thousands.
pub const MAX_SPELLINGS: usize = 64;

/// Romaji spelled from kana is looked for alone only with at least this many letters: shorter
/// ones (`son`, `ten`, `man`, `ai`) are words of English and of medical abbreviations. They are
/// still looked for run together with the name's other words (`JunYamada`).
pub const MIN_ROMAJI_ALONE: usize = 4;

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'i' | 'u' | 'e' | 'o')
}

/// Whether `word` is romaji as a Japanese name is written: ASCII letters (and `'` after an
/// `n`), none of the letters Hepburn and Kunrei romaji do not use (`l`, `q`, `x`, `v`, and `c`
/// outside `ch`), which the converter reads as small kana or leaves.
fn is_romaji(word: &str) -> bool {
    let w = word.as_bytes();
    !w.is_empty()
        && w.iter().all(|b| b.is_ascii_lowercase() || *b == b'\'')
        && w.iter().enumerate().all(|(i, &b)| match b {
            b'l' | b'q' | b'x' | b'v' => false,
            b'c' => w.get(i + 1) == Some(&b'h'),
            _ => true,
        })
}

/// Every concatenation of one alternative of each choice, in order, at most [`MAX_SPELLINGS`].
fn combinations(mut choices: Vec<Vec<String>>) -> Vec<String> {
    for keep in [usize::MAX, 2, 1] {
        let count = choices.iter().fold(1usize, |n, c| n.saturating_mul(c.len().min(keep)));
        if count <= MAX_SPELLINGS {
            for c in choices.iter_mut() {
                c.truncate(keep);
            }
            break;
        }
    }
    let mut out = vec![String::new()];
    for alternatives in &choices {
        let alternatives = &alternatives[..alternatives.len().min(MAX_SPELLINGS)];
        out = out.iter().flat_map(|s| alternatives.iter().map(move |a| format!("{s}{a}"))).collect();
        out.truncate(MAX_SPELLINGS);
    }
    out
}

/// The choices of how a romaji word may have been meant, syllable sound by syllable sound: a
/// long `o` or `u` written short, with `h`, or doubled (`o` → `o`, `ou`, `oo`, `o-`, where
/// `-` is the katakana prolonged sound mark); `m` before `b`, `m`, `p` as `n`; `n` before a
/// vowel also as `ん` (`n'`).
fn romaji_choices(word: &str) -> Vec<Vec<String>> {
    let c: Vec<char> = word.chars().collect();
    let at = |i: usize| c.get(i).copied();
    let one = |s: &str| vec![s.to_string()];
    let many = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let mut choices = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let next = at(i + 1);
        let after = at(i + 2);
        match (c[i], next) {
            ('o', Some('h')) if after.is_none_or(|a| !is_vowel(a) && a != 'y') => {
                choices.push(many(&["ou", "oo", "o-"]));
                i += 2;
            }
            ('o', Some('u' | 'o')) => {
                choices.push(many(&["ou", "oo", "o-"]));
                i += 2;
            }
            ('u', Some('u')) => {
                choices.push(many(&["uu", "u-"]));
                i += 2;
            }
            ('o', n) if n.is_none_or(|n| !is_vowel(n)) => {
                choices.push(many(&["o", "ou", "oo", "o-"]));
                i += 1;
            }
            ('u', n) if n.is_none_or(|n| !is_vowel(n)) && i > 0 => {
                choices.push(many(&["u", "uu", "u-"]));
                i += 1;
            }
            ('m', Some('b' | 'm' | 'p')) => {
                choices.push(one("n"));
                i += 1;
            }
            ('n', Some(n)) if (is_vowel(n) || n == 'y') && i > 0 && is_vowel(c[i - 1]) => {
                choices.push(many(&["n", "n'"]));
                i += 1;
            }
            (ch, _) => {
                choices.push(one(&ch.to_string()));
                i += 1;
            }
        }
    }
    choices
}

/// The hiragana spellings of a name's romaji word (`Taro` → `たろ`, `たろう`, `たろお`, `たろー`;
/// `SATOH` → `さとう`...), two characters or more; none when `word` is not romaji
/// (`is_romaji`: `Smith`, `Lee`). The katakana and half-width forms are found through these
/// ([`crate::names::other_kana`], and the NFKC comparison of [`crate::scrub`]).
///
/// ```
/// let k = kamei::kana_romaji::kana_of_romaji("SATOH");
/// assert!(k.contains(&"さとう".to_string()));
/// assert!(kamei::kana_romaji::kana_of_romaji("Smith").is_empty());
/// ```
pub fn kana_of_romaji(word: &str) -> Vec<String> {
    let lower = word.to_ascii_lowercase();
    if !is_romaji(&lower) {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for spelling in combinations(romaji_choices(&lower)) {
        let kana = spelling.to_hiragana();
        let clean = kana.chars().all(|c| matches!(c, '\u{3041}'..='\u{3096}' | 'ー'));
        if clean && kana.chars().count() >= 2 && !out.contains(&kana) {
            out.push(kana);
        }
    }
    out
}

/// Whether `word` is kana only (hiragana, katakana, the prolonged sound mark).
fn is_kana(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | 'ー'))
}

/// The romaji spellings of a name's kana word, Hepburn as people type it: as converted
/// (`たろう` → `tarou`, `しんいち` → `shin'ichi`), and with long vowels short or with `h`
/// (`taro`, `taroh`, `taroo`; `yuko` of `ゆうこ`), `m` for `ん` before `b`, `m`, `p` (`homma`),
/// the apostrophe left out (`shinichi`). The first spelling is the one as converted, the second
/// the one with every long vowel short. Empty when `word` is not kana.
///
/// ```
/// let r = kamei::kana_romaji::romaji_of_kana("サトウ");
/// assert_eq!(&r[..2], &["satou".to_string(), "sato".to_string()]);
/// assert!(r.contains(&"satoh".to_string()));
/// ```
pub fn romaji_of_kana(word: &str) -> Vec<String> {
    if !is_kana(word) {
        return Vec::new();
    }
    let converted = word.to_romaji().to_ascii_lowercase();
    if !converted.bytes().all(|b| b.is_ascii_lowercase() || b == b'\'') {
        return Vec::new();
    }
    let short = combinations(kana_romaji_choices(&converted).into_iter().map(|c| vec![c[1].clone()]).collect());
    let mut out = vec![converted.clone()];
    out.extend(short);
    for s in combinations(kana_romaji_choices(&converted)) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The choices of how a converted kana word is typed in romaji; each choice's first
/// alternative is the one as converted, its second the short one (the same when there is none).
fn kana_romaji_choices(converted: &str) -> Vec<Vec<String>> {
    let c: Vec<char> = converted.chars().collect();
    let many = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let mut choices = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match (c[i], c.get(i + 1).copied()) {
            ('o', Some('u')) => {
                choices.push(many(&["ou", "o", "oh", "oo"]));
                i += 2;
            }
            ('o', Some('o')) => {
                choices.push(many(&["oo", "o", "oh", "ou"]));
                i += 2;
            }
            ('u', Some('u')) => {
                choices.push(many(&["uu", "u"]));
                i += 2;
            }
            ('n', Some('\'')) => {
                choices.push(many(&["n'", "n"]));
                i += 2;
            }
            ('n', Some('b' | 'm' | 'p')) => {
                choices.push(many(&["n", "n", "m"]));
                i += 1;
            }
            (ch, _) => {
                choices.push(vec![ch.to_string(), ch.to_string()]);
                i += 1;
            }
        }
    }
    choices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn romaji_gives_kana_with_and_without_long_vowels() {
        let k = kana_of_romaji("Taro");
        for w in ["たろ", "たろう", "たろお", "たろー"] {
            assert!(k.contains(&w.to_string()), "{w}: {k:?}");
        }
        assert!(kana_of_romaji("Yamada").contains(&"やまだ".to_string()));
        assert!(kana_of_romaji("SATOH").contains(&"さとう".to_string()));
        assert!(kana_of_romaji("Ohno").contains(&"おおの".to_string()));
        assert!(kana_of_romaji("Ono").contains(&"おおの".to_string()));
        assert!(kana_of_romaji("Yuko").contains(&"ゆうこ".to_string()));
        assert!(kana_of_romaji("Homma").contains(&"ほんま".to_string()));
        assert!(kana_of_romaji("Shinichi").contains(&"しんいち".to_string()));
        assert!(kana_of_romaji("Ohashi").contains(&"おはし".to_string()));
    }

    #[test]
    fn words_that_are_not_romaji_give_no_kana() {
        for w in ["Smith", "Lee", "Xu", "Mary", "O'Neil", "Chris", "Müller"] {
            assert!(kana_of_romaji(w).is_empty(), "{w}: {:?}", kana_of_romaji(w));
        }
    }

    #[test]
    fn kana_gives_hepburn_romaji_as_typed() {
        let r = romaji_of_kana("たろう");
        for w in ["tarou", "taro", "taroh", "taroo"] {
            assert!(r.contains(&w.to_string()), "{w}: {r:?}");
        }
        assert!(romaji_of_kana("ユウコ").contains(&"yuko".to_string()));
        assert!(romaji_of_kana("しんいち").contains(&"shinichi".to_string()));
        assert!(romaji_of_kana("ほんま").contains(&"homma".to_string()));
        assert!(romaji_of_kana("タロー").contains(&"taro".to_string()));
        assert!(romaji_of_kana("山田").is_empty());
    }

    #[test]
    fn a_long_word_gives_a_bounded_number_of_spellings() {
        assert!(kana_of_romaji("toyotomohoutou").len() <= MAX_SPELLINGS);
        assert!(romaji_of_kana("とうきょうとうぶんこう").len() <= MAX_SPELLINGS + 1);
    }
}
