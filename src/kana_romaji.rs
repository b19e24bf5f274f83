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

/// Hepburn syllables and their Kunrei-shiki spellings (ISO 3602), longest first: `shi` is
/// `si`, `chi` `ti`, `tsu` `tu`, `fu` `hu`, `ji` `zi`, and the contracted sounds `sha` `sya`,
/// `cho` `tyo`, `ju` `zyu`...; a doubled `ch` is written `tch` (`Itchi`, `Hatcho`) and is `tt`.
const HEPBURN_KUNREI: [(&str, &str); 20] = [
    ("tchi", "tti"),
    ("tcha", "ttya"),
    ("tchu", "ttyu"),
    ("tcho", "ttyo"),
    ("shi", "si"),
    ("sha", "sya"),
    ("shu", "syu"),
    ("sho", "syo"),
    ("chi", "ti"),
    ("cha", "tya"),
    ("chu", "tyu"),
    ("cho", "tyo"),
    ("tsu", "tu"),
    ("ji", "zi"),
    ("ja", "zya"),
    ("ju", "zyu"),
    ("jo", "zyo"),
    ("fu", "hu"),
    // Nihon-shiki writes ぢ, づ and their contractions so; Hepburn reads them as ず, じ.
    ("zu", "du"),
    ("ji", "di"),
];

/// A system of romaji spelling, besides the modified Hepburn most systems write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Romanization {
    /// Kunrei-shiki (ISO 3602): `si`, `ti`, `tu`, `hu`, `zi`, `sya`, `zyu` for Hepburn's
    /// `shi`, `chi`, `tsu`, `fu`, `ji`, `sha`, `ju`.
    Kunrei,
    /// Nihon-shiki: Kunrei, with ぢ and づ written `di`, `du` (Hepburn's `ji`, `zu` read so).
    NihonShiki,
    /// Hepburn, of a word written in Kunrei-shiki or Nihon-shiki.
    Hepburn,
}

impl Romanization {
    /// Every one, in the order [`other_romanizations`] gives them.
    pub const ALL: [Romanization; 3] = [Romanization::Kunrei, Romanization::NihonShiki, Romanization::Hepburn];
}

/// A name's romaji word spelled in another romanisation: `Kawaguti` of `KAWAGUCHI` in
/// Kunrei-shiki, `Tsuda` of `Tuda` in Hepburn. `None` when `word` is not romaji (`Smith`), is
/// spelled the same, or would have fewer than [`MIN_ROMAJI_ALONE`] letters (`Tie` of `Chie` is
/// an English word). The result keeps the word's case (all capitals, or a capital first letter).
pub fn romanized(word: &str, to: Romanization) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    if !is_romaji(&lower) {
        return None;
    }
    let s = match to {
        // ず and じ as written.
        Romanization::Kunrei => respelled(&lower, &HEPBURN_KUNREI[..18], false),
        Romanization::NihonShiki => respelled(&lower, &HEPBURN_KUNREI, false),
        Romanization::Hepburn => respelled(&lower, &HEPBURN_KUNREI, true),
    };
    if s == lower || s.len() < MIN_ROMAJI_ALONE {
        return None;
    }
    let capitals = word.len() > 1 && word.bytes().all(|b| !b.is_ascii_lowercase());
    Some(if capitals {
        s.to_ascii_uppercase()
    } else if word.bytes().next().is_some_and(|b| b.is_ascii_uppercase()) {
        s[..1].to_ascii_uppercase() + &s[1..]
    } else {
        s
    })
}

/// The other romanisations of a name's romaji word ([`romanized`] in each [`Romanization`]):
/// Kunrei-shiki and Nihon-shiki of a Hepburn word (`Kawaguti` of `KAWAGUCHI`, `Sibata` of
/// `Shibata`, `Zyunko` of `Junko`, `Tuda` of `Tsuda`), and Hepburn of a Kunrei or Nihon-shiki
/// one (`Tsuda` of `TUDA`, `Chiba` of `Tiba`): passports, schools and older systems write
/// Kunrei, so a patient registered in one spelling is typed in the other.
///
/// ```
/// let r = kamei::kana_romaji::other_romanizations("KAWAGUCHI");
/// assert!(r.contains(&"KAWAGUTI".to_string()));
/// assert!(kamei::kana_romaji::other_romanizations("Tuda").contains(&"Tsuda".to_string()));
/// ```
pub fn other_romanizations(word: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in Romanization::ALL.into_iter().filter_map(|to| romanized(word, to)) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// `word` with each syllable of `pairs` written the other way: from the first of a pair to the
/// second, or with `back` from the second to the first; read left to right, the longest
/// spelling first, each letter rewritten at most once, and only where a syllable starts (at the
/// start, after a vowel, `n`, `'` or a doubled consonant: `Isshiki` is `Issiki`).
fn respelled(word: &str, pairs: &[(&str, &str)], back: bool) -> String {
    let mut out = String::with_capacity(word.len() + 4);
    let mut rest = word;
    while !rest.is_empty() {
        let starts_syllable = out.is_empty()
            || out.ends_with(|c: char| is_vowel(c) || c == 'n' || c == '\'')
            || out.chars().last().is_some_and(|c| rest.starts_with(c));
        let hit = starts_syllable
            .then(|| {
                pairs
                    .iter()
                    .map(|&(h, k)| if back { (k, h) } else { (h, k) })
                    .filter(|(from, _)| rest.starts_with(from))
                    .max_by_key(|(from, _)| from.len())
            })
            .flatten();
        match hit {
            Some((from, to)) => {
                out.push_str(to);
                rest = &rest[from.len()..];
            }
            None => {
                let c = rest.chars().next().expect("not empty");
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
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

    #[test]
    fn hepburn_and_kunrei_spell_each_other() {
        let k = |w: &str| romanized(w, Romanization::Kunrei);
        assert_eq!(k("Kawaguchi").as_deref(), Some("Kawaguti"));
        assert_eq!(k("Tsuda").as_deref(), Some("Tuda"));
        assert_eq!(k("Shibata").as_deref(), Some("Sibata"));
        assert_eq!(k("JUNKO").as_deref(), Some("ZYUNKO"));
        assert_eq!(k("Fujita").as_deref(), Some("Huzita"));
        assert_eq!(k("Isshiki").as_deref(), Some("Issiki"));
        assert_eq!(k("Matsuura").as_deref(), Some("Matuura"));
        assert_eq!(k("Yamada"), None);
        assert_eq!(k("Smith"), None);
        assert_eq!(romanized("Tsuzuki", Romanization::NihonShiki).as_deref(), Some("Tuduki"));
        let h = |w: &str| romanized(w, Romanization::Hepburn);
        assert_eq!(h("Tiba").as_deref(), Some("Chiba"));
        assert_eq!(h("Kawaguti").as_deref(), Some("Kawaguchi"));
        assert_eq!(h("Zyunko").as_deref(), Some("Junko"));
        assert_eq!(h("Tuduki").as_deref(), Some("Tsuzuki"));
        assert_eq!(h("Itti").as_deref(), Some("Itchi"));
    }
}
