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
//!
//! Which spellings of a name or an address are looked for is decided by [`crate::names`] and
//! [`crate::addresses`], which `kamei verify` asks too: the release check searches for every
//! spelling Clean removes.

use unicode_normalization::UnicodeNormalization;

/// What replaces each identifier found.
pub const REDACTED: &str = "***";

/// The identifying strings of one patient's file, normalised for matching.
#[derive(Debug, Clone, Default)]
pub struct Identifiers {
    needles: Distinct<Vec<char>>,
    /// Numbers of seven digits or more (phones, IDs; an ID's of six or more) as digits only:
    /// found whatever separators
    /// stand between their digits (`090-3333-4444`, `090 3333 4444`, `(090)3333-4444`).
    digits: Distinct<Vec<char>>,
    /// Date spellings: also found at the start of a date-time (`19850315120000`,
    /// `1985-03-15T12:00`).
    dates: Distinct<Vec<char>>,
    /// The same dates as dates, for a caller that reads every spelling of a date in text
    /// ([`Identifiers::days`]).
    days: Distinct<chrono::NaiveDate>,
    /// The towns of the patient's addresses, found only with a house number beside them
    /// ([`Identifiers::add_street_address`]).
    towns: Distinct<crate::addresses::Town>,
    /// Names run together (`JeanPierre`, `TaroYamada`), with where each word after the first
    /// starts: found only where the text does not write that letter in lower case
    /// ([`Identifiers::add_joined_name`]).
    joined: Distinct<(Vec<char>, Vec<usize>)>,
    /// Pieces of a name typed without a space (`山田` of `山田太郎`): found only where an
    /// honorific follows ([`crate::names::Spellings::before_honorific`]), which is kept.
    honored: Distinct<Vec<char>>,
}

/// Values in the order first added, each once. The set beside the list makes adding a value
/// cost the same however many are held: a file naming 10,000 physicians or holding 80,000 Other
/// Patient IDs builds its identifiers in linear time, not by comparing each new value with
/// every one before it. The list keeps the order the values were added in, so matching is as
/// before.
#[derive(Debug, Clone)]
struct Distinct<T> {
    list: Vec<T>,
    seen: std::collections::HashSet<T>,
    /// For a long list of strings: an automaton that finds every one of them in one pass over
    /// a text ([`Distinct::occurrences`]), built when first needed.
    automaton: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>,
}

impl<T> Default for Distinct<T> {
    fn default() -> Self {
        Distinct { list: Vec::new(), seen: std::collections::HashSet::new(), automaton: std::sync::OnceLock::new() }
    }
}

impl<T: std::hash::Hash + Eq + Clone> Distinct<T> {
    /// Add `value` unless it is held already.
    fn push(&mut self, value: T) {
        if !self.seen.contains(&value) {
            self.seen.insert(value.clone());
            self.list.push(value);
            self.automaton.take();
        }
    }

    /// Whether `value` is held.
    fn contains(&self, value: &T) -> bool {
        self.seen.contains(value)
    }
}

/// From this many strings on, [`Distinct::occurrences`] searches a text for all of them in
/// one pass of an Aho-Corasick automaton rather than one pass each: a file naming 10,000
/// physicians has each of its texts searched in time that follows the text's length.
const AUTOMATON_FROM: usize = 32;

/// A normalised text to search ([`Identifiers::matches`]), and the same as a string for the
/// automaton, made when first needed.
struct Hay<'a> {
    chars: &'a [char],
    /// The text as UTF-8 and, for each byte, the index of the character it belongs to.
    utf8: std::cell::OnceCell<(String, Vec<u32>)>,
}

impl<'a> Hay<'a> {
    fn new(chars: &'a [char]) -> Hay<'a> {
        Hay { chars, utf8: std::cell::OnceCell::new() }
    }

    fn utf8(&self) -> &(String, Vec<u32>) {
        self.utf8.get_or_init(|| {
            let text: String = self.chars.iter().collect();
            let mut char_of = Vec::with_capacity(text.len());
            for (i, c) in self.chars.iter().enumerate() {
                char_of.extend(std::iter::repeat_n(i as u32, c.len_utf8()));
            }
            (text, char_of)
        })
    }
}

impl<T: std::hash::Hash + Eq + Clone> Distinct<T> {
    /// Where each string of the list (`needle_of` each value) occurs in `hay`, as (index in the
    /// list, start character), ordered by index then start: every occurrence, overlapping ones
    /// too, exactly as comparing each string at each place of the text finds them.
    fn occurrences(&self, hay: &Hay<'_>, needle_of: impl Fn(&T) -> &[char]) -> Vec<(usize, usize)> {
        let chars = hay.chars;
        // Each string compared at each place on its own: for a short list, or when the
        // automaton is too large to build (not seen).
        let one_by_one = || {
            let mut found = Vec::new();
            for (i, value) in self.list.iter().enumerate() {
                let needle = needle_of(value);
                if needle.is_empty() || needle.len() > chars.len() {
                    continue;
                }
                for start in 0..=chars.len() - needle.len() {
                    // The first character alone rules out almost every start.
                    if chars[start] == needle[0] && chars[start..start + needle.len()] == *needle {
                        found.push((i, start));
                    }
                }
            }
            found
        };
        if self.list.len() < AUTOMATON_FROM {
            return one_by_one();
        }
        let automaton = self.automaton.get_or_init(|| {
            let patterns: Vec<String> = self.list.iter().map(|v| needle_of(v).iter().collect()).collect();
            aho_corasick::AhoCorasick::builder().match_kind(aho_corasick::MatchKind::Standard).build(patterns).ok()
        });
        let Some(automaton) = automaton else { return one_by_one() };
        let (text, char_of) = hay.utf8();
        let mut found: Vec<(usize, usize)> = automaton
            .find_overlapping_iter(text.as_str())
            .filter(|m| m.end() > m.start())
            .map(|m| (m.pattern().as_usize(), char_of[m.start()] as usize))
            .collect();
        found.sort_unstable();
        found
    }
}

impl<T> std::ops::Deref for Distinct<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.list
    }
}

/// The honorifics of [`crate::names::HONORIFICS`] as compared, also in katakana (`サン`).
static HONORIFICS: std::sync::LazyLock<Vec<Vec<char>>> = std::sync::LazyLock::new(|| {
    let mut out: Vec<Vec<char>> = Vec::new();
    for h in crate::names::HONORIFICS {
        let n = normalize(h);
        if let Some(k) = crate::names::other_kana(&n) {
            out.push(k);
        }
        out.push(n);
    }
    out
});

/// Whether an honorific stands at `at` in the compared text, right there or after one space.
fn honorific_at(hay: &[char], at: usize) -> bool {
    let at = if hay.get(at) == Some(&' ') { at + 1 } else { at };
    HONORIFICS.iter().any(|h| hay.get(at..at + h.len()).is_some_and(|s| s == h.as_slice()))
}

/// The text as compared: each character's compatibility decomposition (NFKD: full-width
/// letters and digits become ASCII, `ｼﾞ` and `ジ` both become `シ` + U+3099), folded by
/// [`lower`], without Latin diacritics ([`is_diacritic`]: `É` is compared as `e`) and without
/// invisible format characters ([`crate::pseudo::is_invisible`]: `PID88\u{200B}12345` is
/// compared as `pid8812345`, as `kamei verify` compares it), with the
/// index of the original character each compared character comes from. Decomposing character
/// by character keeps that map exact, so a replacement touches only the characters of a match
/// and every other character stays as it was.
fn compared(text: &str) -> (Vec<char>, Vec<usize>) {
    let (hay, _, origin) = compared_cased::<usize>(text, false);
    (hay, origin)
}

/// [`compared`], with each compared character also as written (before [`lower`]) when `cased`
/// (else that copy is empty): only a search for names run together in prose needs it, for the
/// letters where their words join ([`Identifiers::add_joined_name`]); only whether each is in
/// lower case is kept. The original indices are of type `O`, which must hold every character
/// index of `text`: `u32` for any text of less than 4 GiB ([`fits_u32`]), so that a long note
/// (a pasted report of megabytes) takes a small multiple of its size, not 20 bytes a character.
fn compared_cased<O: TryFrom<usize>>(text: &str, cased: bool) -> (Vec<char>, Vec<bool>, Vec<O>) {
    let mut hay = Vec::with_capacity(text.len());
    let mut lowercase = Vec::with_capacity(if cased { text.len() } else { 0 });
    let mut origin = Vec::with_capacity(text.len());
    let index = |i: usize| O::try_from(i).ok().expect("the index type holds every character index of the text");
    for (i, c) in text.chars().enumerate() {
        if c.is_ascii() {
            // A NUL inside a value (`山田\0太郎`, `林\0様`: a copy from a fixed-width field)
            // separates as a space does, so it hides nothing from a rule that allows one.
            hay.push(if c == '\0' { ' ' } else { c.to_ascii_lowercase() });
            if cased {
                lowercase.push(c.is_lowercase());
            }
            origin.push(index(i));
        } else {
            // An invisible character (a zero-width space or a soft hyphen inside a name or an
            // ID: `KAWA\u{AD}GUCHI`) is left out as a diacritic is, so the identifier around it
            // is found and the match covers it.
            for d in std::iter::once(c).nfkd().filter(|&d| !is_diacritic(d) && !crate::pseudo::is_invisible(d)) {
                hay.push(lower(d));
                if cased {
                    lowercase.push(d.is_lowercase());
                }
                origin.push(index(i));
            }
        }
    }
    (hay, lowercase, origin)
}

/// Whether every character index of `text` fits in a `u32` (it has fewer than 4 Gi bytes).
fn fits_u32(text: &str) -> bool {
    u32::try_from(text.len()).is_ok()
}

/// A combining diacritical mark (accents, umlaut, cedilla, tilde... in the blocks U+0300–036F,
/// U+1AB0–1AFF, U+1DC0–1DFF, U+20D0–20FF, U+FE20–FE2F) or a variation selector (U+FE00–FE0F,
/// U+E0100–E01EF: `葛` + U+E0100 is the same kanji in the glyph a family register prints, which
/// NFKC keeps): left out of the compared text, so a name typed without its accents or selectors
/// is still found, and a match covers the ones written after its last letter. The kana voicing
/// marks (U+3099, U+309A) are not among them: `ジ` and `シ` are different sounds.
pub(crate) fn is_diacritic(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// The spellings of an ID with its prefix split off: the digit run alone (`PID7788123` →
/// `7788123`) and the letters and the digits with a space or a dash between them (`PID 7788123`,
/// `PID-7788123`, also without the digits' zero padding; also for digits before letters). An
/// ID of three or more letter and digit runs is also spelled with a space or a dash between
/// every two runs (`AB12CD345678` as `AB 12 CD 345678`, `AB-12-CD-345678`).
/// Only a run of at least [`crate::ids::MIN_UNPADDED_DIGITS`] digits as written (`0012345` of
/// `PAT0012345`) is specific enough to be looked for on its own, and without its zero padding
/// only when that many remain (`12345` is not looked for): a shorter number stands for too many
/// other things in text.
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
    // A run of six digits or more is looked for as written, zeros and all (`0012345` of
    // `PAT0012345`: hospitals write the number without its letters); with zeros before fewer
    // than six others, only when it holds three different digits, as `kamei verify` asks of a
    // number (`000001` of `CT000001` is no more an ID than a counter). Without its zeros only
    // when six digits remain ([`crate::ids::other_spellings`], which `add_id` asks).
    let specific = |run: &str| {
        let distinct = || run.bytes().collect::<std::collections::HashSet<u8>>().len();
        let significant = run.trim_start_matches('0').len();
        significant >= crate::ids::MIN_UNPADDED_DIGITS
            || (run.len() >= crate::ids::MIN_UNPADDED_DIGITS && distinct() >= 3)
    };
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

/// The text as compared ([`compared`]), without the map to the original characters.
pub(crate) fn normalize(text: &str) -> Vec<char> {
    compared(text).0
}

/// An identifier as compared ([`normalize`]), without the spaces and NULs around it: a value
/// padded with NUL (`山田太郎\0`, as an odd-length value is) is the name, and compared NUL is a
/// space, which would make the name's match take the space after it.
fn as_needle(value: &str) -> Vec<char> {
    let blank = |c: &char| c.is_whitespace() || *c == '\0';
    let v = normalize(value.trim_matches(|c: char| blank(&c)));
    let start = v.iter().position(|c| !blank(c)).unwrap_or(v.len());
    let end = v.iter().rposition(|c| !blank(c)).map_or(start, |i| i + 1);
    v[start..end].to_vec()
}

/// The character compared: case folded ([`crate::case_fold::fold`]), and every dash people type between digits (minus sign
/// U+2212, which JIS X 0208 0x215D decodes to; the katakana prolonged sound mark; hyphens and
/// dashes U+2010–U+2015) folded to `-`, typographic apostrophes to `'`, variant kanji to their
/// representative ([`crate::itaiji::fold`]: `髙` is compared as `高`). One character for one, so
/// match positions stay valid.
fn lower(c: char) -> char {
    if matches!(c, '\u{2212}' | '\u{30FC}' | '\u{FF70}' | '\u{2010}'..='\u{2015}') {
        return '-';
    }
    crate::case_fold::fold(same_letter(c))
}

/// Characters written for one another in names: typographic apostrophes as `'` (`O’Neil` is
/// `O'Neil`), variant kanji as their representative ([`crate::itaiji::fold`]). Shared by Clean
/// and `verify`'s dictionary, so both compare names alike.
pub(crate) fn same_letter(c: char) -> char {
    if matches!(c, '\u{2018}' | '\u{2019}' | '\u{02BC}') {
        return '\'';
    }
    crate::itaiji::fold(c)
}

/// Characters that may stand between the digits of a phone number or ID as written by hand,
/// and what a line wrap or an HL7 escape puts there in decoded text (a line break of `\.br\`,
/// `|` of `\F\`: `1234\.br\567890`, `090\F\1111\F\2222` in an SS-MIX2 note), and the
/// thousands separator a spreadsheet writes in a number (`1,234,567` of `0001234567`).
fn digit_separator(c: char) -> bool {
    matches!(c, '-' | ' ' | '(' | ')' | '.' | ',' | '/' | '\n' | '\r' | '\t' | '|')
}

impl Identifiers {
    /// An empty set.
    pub fn new() -> Identifiers {
        Identifiers::default()
    }

    /// The dates added ([`Identifiers::add_date`]: a birth date), for a caller that finds them
    /// in any spelling its date rules read (`1985年 3月15日`, `S60. 3.15`).
    pub fn days(&self) -> &[chrono::NaiveDate] {
        &self.days
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
            && self.dates.is_empty()
            && self.towns.is_empty()
            && self.joined.is_empty()
            && self.honored.is_empty()
    }

    /// Every match of every identifier in the normalised text `hay`, as char ranges. `glued`:
    /// an identifier holding a digit is also found between letters (see [`Identifiers::find_in_name`]).
    /// `lowercase`: whether each is written in lower case ([`compared_cased`]), needed when
    /// names run together are looked for in prose ([`Identifiers::needs_cased`]).
    fn matches(&self, hay: &[char], lowercase: &[bool], glued: bool) -> Vec<(usize, usize)> {
        let text = Hay::new(hay);
        let mut found: Vec<(usize, usize)> = Vec::new();
        for (i, start) in self.needles.occurrences(&text, |n| n) {
            found.extend(match_at(hay, &self.needles[i], start, false, glued));
        }
        for (i, start) in self.dates.occurrences(&text, |n| n) {
            found.extend(match_at(hay, &self.dates[i], start, true, glued));
        }
        found.extend(self.dates.iter().flat_map(|n| find_spaced_date(hay, n)));
        found.extend(self.digits.iter().flat_map(|d| find_digits(hay, d)));
        found.extend(self.towns.iter().flat_map(|t| crate::addresses::find_town(hay, t)));
        for (i, start) in self.honored.occurrences(&text, |n| n) {
            found.extend(
                match_at(hay, &self.honored[i], start, false, glued).filter(|&(_, end)| honorific_at(hay, end)),
            );
        }
        for (i, start) in self.joined.occurrences(&text, |(n, _)| n) {
            let (needle, joins) = &self.joined[i];
            let marked = |start: usize| joins.iter().all(|j| !lowercase[start + j]);
            // A file name is no prose: `yamadataro.dcm` is the name in any case.
            found.extend(match_at(hay, needle, start, false, glued).filter(|&(start, _)| glued || marked(start)));
        }
        found
    }

    /// Number of distinct identifiers collected (each date spelling counts).
    pub fn len(&self) -> usize {
        self.needles.len() + self.dates.len() + self.towns.len() + self.joined.len() + self.honored.len()
    }

    /// Add one identifier (trimmed; too short to be specific → ignored: fewer than two
    /// characters). Kana is also looked for in the other kana script, a value with umlauts also
    /// spelled without them (`MÜLLER` also as `MUELLER`), and a value holding seven digits or more
    /// with only separators between them also as its digits.
    pub fn add(&mut self, value: &str) {
        if let Some(spelled) = crate::names::umlauts_spelled_out(value) {
            self.add_one(&spelled);
        }
        self.add_one(value);
    }

    fn add_one(&mut self, value: &str) {
        let v = as_needle(value);
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
        if let Some(other) = crate::names::other_kana(&v) {
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
            let v = as_needle(&s);
            if !self.dates.contains(&v) {
                self.dates.push(v);
            }
        }
    }

    /// Add a patient ID or other ID, with the other spellings people type it in (without its
    /// zero padding, without separators: [`crate::ids::other_spellings`]; with its prefix split
    /// off or left out: `PID 7788123`, `7788123`). A value in HL7 CX form
    /// (`AB1234^^^HOSPA`) also adds its ID part ([`crate::ids::cx_id_part`]) the same way, and
    /// the phone numbers a value holds are found by their digits also in their other national
    /// or international form ([`crate::ids::phone_digits`]: `+81-3-1234-5678` of `03-1234-5678`).
    pub fn add_id(&mut self, id: &str) {
        let id = &*crate::pseudo::without_invisible(id);
        for value in id.split('\\') {
            if let Some(part) = crate::ids::cx_id_part(value.trim_matches(|c: char| c.is_whitespace() || c == '\0')) {
                self.add_id(part);
            }
        }
        for digits in crate::ids::phone_digits(id) {
            let v: Vec<char> = digits.chars().collect();
            if !self.digits.contains(&v) {
                self.digits.push(v);
            }
        }
        let mut spellings = vec![id.to_string()];
        spellings.extend(crate::ids::other_spellings(id));
        for s in split_id_spellings(id) {
            spellings.extend(crate::ids::other_spellings(&s));
            spellings.push(s);
        }
        for s in &spellings {
            self.add(s);
            self.add_id_digits(s);
        }
    }

    /// Keep a spelling of an ID that is a number of six digits or more
    /// ([`crate::ids::MIN_UNPADDED_DIGITS`]) among the numbers found by their digits, as longer
    /// numbers are: then it is also found glued after letters (`ID123456`, `カルテNo123456`, as
    /// notes write a six-digit カルテ番号), never inside a longer number.
    fn add_id_digits(&mut self, spelling: &str) {
        let v = as_needle(spelling);
        if v.len() >= crate::ids::MIN_UNPADDED_DIGITS && v.iter().all(char::is_ascii_digit) && !self.digits.contains(&v)
        {
            self.digits.push(v);
        }
    }

    /// Add a decoded Person Name value: every spelling of each of its groups that
    /// [`crate::names::of_group`] gives (each part and word, spaced in either order, run
    /// together; a part of one character with an honorific after it, `林様`). A name run
    /// together is found only where the text writes each word after the first starting with a
    /// letter not in lower case (see [`crate::names::Spellings::joined`]).
    pub fn add_person_name(&mut self, pn: &str) {
        for value in pn.split('\\') {
            for group in value.split('=') {
                let spellings = crate::names::of_group(group);
                for s in &spellings.spaced {
                    self.add(s);
                }
                for words in &spellings.joined {
                    self.add_joined_name(words);
                }
                for piece in &spellings.before_honorific {
                    self.add_honored(piece);
                }
            }
        }
    }

    /// Add a name's words run together (`JeanPierre` of `Jean` + `Pierre`): found, in any case
    /// but its joins, only where the text writes each word after the first starting with a
    /// letter not in lower case (`JeanPierre`, `JEANPIERRE`, `jeanPierre`; scripts without case
    /// always). So the run-together name that is also a word is left where the text writes the
    /// word (`Wan-Ting` finds `WanTing`, not `wanting`; `Sun-Day` finds `SunDay`, not `Sunday`);
    /// a name run together all in lower case (`jeanpierre`) is not found.
    fn add_joined_name(&mut self, words: &[String]) {
        let mut variants = vec![words.iter().map(|w| w.to_string()).collect::<Vec<String>>()];
        if words.iter().any(|w| crate::names::umlauts_spelled_out(w).is_some()) {
            variants.push(
                words.iter().map(|w| crate::names::umlauts_spelled_out(w).unwrap_or_else(|| w.to_string())).collect(),
            );
        }
        for variant in variants {
            let mut needle = Vec::new();
            let mut joins = Vec::new();
            for w in &variant {
                let n = as_needle(w);
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
            if let Some(other) = crate::names::other_kana(&needle) {
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

    /// Add a part of a name of one character (`林` of `林^太郎`), found only where an honorific
    /// follows it (`林様`, `林 さん`, `林サン`): alone, one character stands for too many words to
    /// be removed from text; before an honorific it is the patient.
    pub fn add_name_part_before_honorific(&mut self, part: &str) {
        let n = as_needle(part);
        if n.is_empty() || !n.iter().any(|c| c.is_alphanumeric()) || self.honored.contains(&n) {
            return;
        }
        self.honored.push(n);
    }

    /// Add a piece of a name typed without a space, found only before an honorific
    /// ([`crate::names::Spellings::before_honorific`]), also in the other kana script.
    fn add_honored(&mut self, piece: &str) {
        let n = as_needle(piece);
        if n.len() < 2 {
            return;
        }
        if let Some(other) = crate::names::other_kana(&n) {
            if !self.honored.contains(&other) {
                self.honored.push(other);
            }
        }
        if !self.honored.contains(&n) {
            self.honored.push(n);
        }
    }

    /// Add a street address: its town with a house number beside it, in any spelling of the
    /// number (`登呂1-3-5`, `登呂１丁目３番５号`, `駿河区登呂1-3-5` of `静岡県静岡市駿河区登呂１−３−５`;
    /// `2-11-15 Chuo` of `2-11-15 Chuo, Chuo-ku, Sagamihara`). The town alone is left: it is
    /// often an ordinary word (`中央` of `中央静脈カテーテル`). A value without a house number
    /// adds nothing. The whole address is added with [`Identifiers::add`].
    pub fn add_street_address(&mut self, address: &str) {
        for town in crate::addresses::towns(address) {
            if !self.towns.contains(&town) {
                self.towns.push(town);
            }
        }
        for building in crate::addresses::buildings(address) {
            self.add(&building);
        }
    }

    /// Add a DA value in the spellings people type: `19850315`, `1985-03-15`, `1985/03/15`,
    /// `1985.03.15`, `1985.3.15`, `1985/3/15`, `1985年3月15日`, English month names
    /// (`15-MAR-1985`, `Mar 15, 1985`; any case) ([`crate::dates::common_spellings`]).
    pub fn add_date(&mut self, da: &str) {
        let day = chrono::NaiveDate::parse_from_str(da.trim_matches(|c| c == ' ' || c == '\0'), "%Y%m%d").ok();
        if let Some(day) = day.filter(|d| !self.days.contains(d)) {
            self.days.push(day);
        }
        for s in crate::dates::common_spellings(da) {
            let v = as_needle(&s);
            if !self.dates.contains(&v) {
                self.dates.push(v);
            }
        }
    }

    /// Whether the letters as written are needed: names run together are looked for, and not
    /// in a file name (`glued`), where they are found in any case.
    fn needs_cased(&self, glued: bool) -> bool {
        !glued && !self.joined.is_empty()
    }

    /// Whether `text` contains any identifier.
    pub fn found_in(&self, text: &str) -> bool {
        let (hay, lowercase, _) = if fits_u32(text) {
            compared_cased::<u32>(text, self.needs_cased(false))
        } else {
            let (hay, lowercase, _) = compared_cased::<usize>(text, self.needs_cased(false));
            (hay, lowercase, Vec::new())
        };
        !self.matches(&hay, &lowercase, false).is_empty()
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
        if fits_u32(text) { self.find_indexed::<u32>(text, glued) } else { self.find_indexed::<usize>(text, glued) }
    }

    /// [`Identifiers::find_with`], with the compared text's original indices held as `O`.
    fn find_indexed<O: TryFrom<usize> + Copy>(&self, text: &str, glued: bool) -> Vec<(usize, usize)>
    where
        usize: TryFrom<O>,
    {
        let (hay, lowercase, origin) = compared_cased::<O>(text, self.needs_cased(glued));
        let mut ranges = self.matches(&hay, &lowercase, glued);
        if ranges.is_empty() {
            return ranges;
        }
        drop((hay, lowercase));
        let at = |h: usize| usize::try_from(origin[h]).ok().expect("an index of the text");
        // From compared characters to original ones; a match also covers the diacritics typed
        // as characters of their own after its last letter (`e` + U+0301), which compared left out.
        let chars: Vec<char> = if text.chars().any(is_diacritic) { text.chars().collect() } else { Vec::new() };
        for r in ranges.iter_mut() {
            let mut end = at(r.1 - 1) + 1;
            while chars.get(end).is_some_and(|&c| is_diacritic(c)) {
                end += 1;
            }
            *r = (at(r.0), end);
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

    /// Replace every percent-encoded run of `text` (RFC 3986: a URL's path segment, query name
    /// or value, between `/ ? & = # ;` and spaces) that holds an identifier once decoded with
    /// [`REDACTED`], whole: `name=OKADA%5EJUNICHI` and `name=%E5%B1%B1...` become `name=***`.
    /// `readings` gives the texts the decoded bytes may be (UTF-8, the data set's set).
    /// `None` when no run holds one.
    pub fn scrub_percent_encoded(&self, text: &str, readings: impl Fn(&[u8]) -> Vec<String>) -> Option<String> {
        if !text.contains('%') {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut run = String::new();
        let mut flush = |run: &mut String, out: &mut String| {
            let decoded = percent_decode(run);
            if decoded.is_some_and(|bytes| readings(&bytes).iter().any(|t| self.found_in(t))) {
                out.push_str(REDACTED);
                changed = true;
            } else {
                out.push_str(run);
            }
            run.clear();
        };
        for c in text.chars() {
            if matches!(c, '/' | '?' | '&' | '=' | '#' | ';') || c.is_whitespace() {
                flush(&mut run, &mut out);
                out.push(c);
            } else {
                run.push(c);
            }
        }
        flush(&mut run, &mut out);
        changed.then_some(out)
    }
}

/// The bytes a run of URL text stands for, each `%XX` decoded (`+` read as a space, as a query
/// writes it); `None` when it holds no valid escape.
pub fn percent_decode(run: &str) -> Option<Vec<u8>> {
    let bytes = run.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut escaped = false;
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                escaped = true;
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    escaped.then_some(out)
}

/// All matches of `needle` in `hay` as char ranges, honouring word boundaries at ASCII
/// alphanumeric ends (for a date, a time may follow). `glued`: a needle holding a digit needs
/// only number boundaries (no digit next to a digit end). A number that may be padded
/// ([`paddable`]) is also found with zeros added before it (`1234567` in `0001234567`, as a
/// system pads it to a fixed width); the match then covers the zeros.
pub(crate) fn find_all(hay: &[char], needle: &[char], date: bool, glued: bool) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if needle.is_empty() || needle.len() > hay.len() {
        return found;
    }
    for start in 0..=hay.len() - needle.len() {
        let end = start + needle.len();
        // The first character alone rules out almost every start: checked before the slice.
        if hay[start] != needle[0] || hay[start..end] != *needle {
            continue;
        }
        found.extend(match_at(hay, needle, start, date, glued));
    }
    found
}

/// Where a date spelling `needle` stands in `hay` with spaces after its separators, `年` or
/// `月` (`昭和35年 3月15日` of `昭和３５年　３月１５日`, `S35/ 3/15`: forms printed in columns
/// pad with spaces, full-width ones with the ideographic space), whole and standing alone as
/// [`find_all`] finds a date. Only matches holding such a space: [`find_all`] finds the others.
fn find_spaced_date(hay: &[char], needle: &[char]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let Some((&first, &last)) = needle.first().zip(needle.last()) else { return found };
    let word = |c: char| c.is_ascii_alphanumeric();
    for start in (0..hay.len()).filter(|&i| hay[i] == first) {
        let (mut i, mut j, mut spaced) = (start, 0, false);
        while let Some(&want) = needle.get(j) {
            match hay.get(i) {
                Some(&c) if c == want => j += 1,
                Some(&c) if c.is_whitespace() && j > 0 && !needle[j - 1].is_ascii_digit() => spaced = true,
                _ => break,
            }
            i += 1;
        }
        if j < needle.len() || !spaced {
            continue;
        }
        let left_ok = !word(first) || start == 0 || !word(hay[start - 1]);
        let right_ok =
            !word(last) || i == hay.len() || !word(hay[i]) || crate::dates::time_follows(hay[i..].iter().copied());
        if left_ok && right_ok {
            found.push((start, i));
        }
    }
    found
}

/// The match [`find_all`] makes of `needle`, which occurs in `hay` at `start`: with the zeros
/// padding it before it (an ID), if it stands as a word there (not inside a longer word or
/// number, a decimal number or a kana word).
fn match_at(hay: &[char], needle: &[char], start: usize, date: bool, glued: bool) -> Option<(usize, usize)> {
    let numbers_only = glued && needle.iter().any(char::is_ascii_digit);
    let word = |c: char| if numbers_only { c.is_ascii_digit() } else { c.is_ascii_alphanumeric() };
    let end = start + needle.len();
    let zeros =
        if !date && paddable(needle) { hay[..start].iter().rev().take_while(|&&c| c == '0').count() } else { 0 };
    let start = start - zeros;
    let left_ok = !word(needle[0]) || start == 0 || !word(hay[start - 1]);
    let right_ok = !word(needle[needle.len() - 1])
        || end == hay.len()
        || !word(hay[end])
        || (date && crate::dates::time_follows(hay[end..].iter().copied()));
    (left_ok && right_ok && !inside_a_decimal(hay, start, end, needle) && !inside_a_kana_word(hay, start, end))
        .then_some((start, end))
}

/// Whether `needle` is a number a system may pad with zeros to a fixed width: digits only, not
/// starting with a zero, and at least [`crate::ids::MIN_UNPADDED_DIGITS`] of them (a shorter
/// number with zeros before it is too often something else).
fn paddable(needle: &[char]) -> bool {
    needle.len() >= crate::ids::MIN_UNPADDED_DIGITS && needle[0] != '0' && needle.iter().all(char::is_ascii_digit)
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
/// `1,234,567`): the digits of an ID or a date are never part of one, a measurement's are. A
/// whole number with a zero fraction (`1234567890.0`, an ID exported as a floating-point
/// number) is the number itself.
fn inside_a_decimal(hay: &[char], start: usize, end: usize, needle: &[char]) -> bool {
    if !needle.iter().all(char::is_ascii_digit) {
        return false;
    }
    let point = |c: char| c == '.' || c == ',';
    let before = start >= 2 && point(hay[start - 1]) && hay[start - 2].is_ascii_digit();
    let zero_fraction =
        || hay[end] == '.' && hay[end + 1..].iter().take_while(|c| c.is_ascii_digit()).all(|&c| c == '0');
    let after = end + 1 < hay.len() && point(hay[end]) && hay[end + 1].is_ascii_digit() && !zero_fraction();
    before || after
}

/// Which of `numbers` (each a string of ASCII digits: a phone number's digits,
/// [`crate::ids::phone_digits`]) stand in `text` as Clean finds them: as one number, with at
/// most two separators between two digits (`(03)1234-5678`, `+81 3 1234 5678`, `０３-１２３４`),
/// no digit just before or after, and not a decimal number. By index into `numbers`, for
/// `kamei verify`, which looks for what Clean removes with the same rule.
pub fn numbers_in(text: &str, numbers: &[&str]) -> Vec<usize> {
    if numbers.is_empty() || !text.chars().any(|c| c.is_numeric()) {
        return Vec::new();
    }
    let (hay, _) = compared(text);
    numbers
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            let digits: Vec<char> = n.chars().collect();
            !digits.is_empty() && !find_digits(&hay, &digits).is_empty()
        })
        .map(|(i, _)| i)
        .collect()
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
        let decimal = separators.len() == 1 && matches!(separators[0], '.' | ',');
        if matched == digits.len()
            && hay.get(at).is_none_or(|c| !c.is_ascii_digit())
            && !decimal
            && !inside_a_decimal(hay, start, at, digits)
        {
            found.push((start, at));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rv30_an_id_written_with_thousands_separators_is_found() {
        let mut i = Identifiers::new();
        i.add_id("0001234567");
        for text in ["ID 1,234,567 確認", "ID 1.234.567 確認", "ID １，２３４，５６７"] {
            assert!(i.found_in(text), "{text}");
        }
        // One comma alone is a decimal comma, not a thousands separator.
        assert!(!i.found_in("ratio 1234,567"));
    }

    #[test]
    fn ids6_the_digit_run_of_a_lettered_id_is_found_alone_with_its_zeros() {
        let mut i = Identifiers::new();
        i.add_id("PAT0012345");
        assert_eq!(i.scrub("0012345 follow-up").as_deref(), Some("*** follow-up"));
        assert_eq!(i.scrub("PAT 0012345").as_deref(), Some("***"));
        // Five digits without the zeros are too common; inside a longer number it is another.
        for text in ["12345 mg", "100123456", "0.0012345"] {
            assert!(!i.found_in(text), "{text}");
        }
        let mut counter = Identifiers::new();
        counter.add_id("CT000001");
        assert!(!counter.found_in("000001"), "two different digits alone are a counter, not an ID");
    }

    #[test]
    fn ids6_a_value_padded_with_nul_is_found_without_the_space_after_it() {
        let mut i = Identifiers::new();
        i.add_person_name("山田^太郎\0");
        i.add("山田太郎\0");
        assert_eq!(i.scrub("patient 山田太郎 follow-up").as_deref(), Some("patient *** follow-up"));
    }

    #[test]
    fn ids6_a_nul_separates_as_a_space() {
        let mut i = Identifiers::new();
        i.add_person_name("林^花子");
        i.add_name_part_before_honorific("林");
        assert!(!i.scrub("林\0様 来院").unwrap().contains('林'));
        assert_eq!(i.scrub("経過\0良好"), None, "a NUL no match covers stays as it was");
        let mut id = Identifiers::new();
        id.add_id("0012345678");
        assert_eq!(id.scrub("ID 0012\x00345678").as_deref(), Some("ID ***"));
    }

    #[test]
    fn rv30_an_id_exported_as_a_float_with_a_zero_fraction_is_found() {
        let mut i = Identifiers::new();
        i.add_id("1234567890");
        for text in ["1234567890.0", "1234567890.00", "ID 1234567890.0 確認"] {
            assert!(i.found_in(text), "{text}");
        }
        for text in ["1234567890.5", "0.1234567890", "1234567890.05"] {
            assert!(!i.found_in(text), "{text}");
        }
    }

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
    fn rv17_suspect_1_variant_kanji_of_a_name_match_either_way() {
        let pairs = [
            ("髙橋^一郎", "高橋さん 一郎"),
            ("高橋^一郎", "髙橋さん"),
            ("山﨑^太郎", "山崎太郎"),
            ("渡邊^健", "渡辺先生 渡邉"),
            ("齋藤^花", "斎藤 斉藤 齊藤"),
            ("澤田^恵", "沢田 惠"),
            ("濱田^真", "浜田 眞"),
            ("廣瀬^櫻", "広瀬 桜"),
        ];
        for (name, text) in pairs {
            let mut i = Identifiers::new();
            i.add_person_name(name);
            let out = i.scrub(text).unwrap_or_default();
            assert!(!out.chars().any(|c| !c.is_ascii() && !"さん先生".contains(c)), "{name}: {text} -> {out}");
        }
        let mut i = Identifiers::new();
        i.add_person_name("髙橋^一郎");
        assert_eq!(i.find_in_name("CT_高橋.dcm"), vec![(3, 5)]);
        assert!(i.scrub("高齢 橋本").is_none());
    }

    #[test]
    fn rv17_suspect_14_typographic_apostrophe_and_romanised_long_vowels() {
        let mut i = Identifiers::new();
        i.add_person_name("O'Neil^Mary-Jane");
        assert_eq!(i.scrub("O’Neil ONeil Oneil o'neil").as_deref(), Some("*** *** *** ***"));
        let mut i = Identifiers::new();
        i.add_person_name("SATO^Hanako");
        assert_eq!(i.scrub("SATOH Satou sato SATOSHI").as_deref(), Some("*** *** *** SATOSHI"));
        let mut i = Identifiers::new();
        i.add_person_name("SATOH^Hanako");
        assert_eq!(i.scrub("SATO Satou").as_deref(), Some("*** ***"));
    }

    #[test]
    fn rv17_suspect_17_a_number_broken_by_a_line_or_a_field_escape_is_found() {
        let mut i = Identifiers::new();
        i.add_id("1234567890");
        i.add("090-1111-2222");
        assert_eq!(i.scrub("ID 1234\n567890 / 1234\r\n567890 ok").as_deref(), Some("ID *** / *** ok"));
        assert_eq!(i.scrub("TEL 090|1111|2222").as_deref(), Some("TEL ***"));
        assert!(i.scrub("1234\n\n\n567890").is_none(), "three separators in a row are no gap in a number");
    }

    #[test]
    fn rv18_suspect_1_a_romaji_name_is_found_in_kana_glued_or_spaced() {
        let mut ids = Identifiers::new();
        ids.add_person_name("Yamada^Taro=山田^太郎");
        for text in ["ヤマダタロウ 胸部", "やまだたろう 胸部", "ﾔﾏﾀﾞﾀﾛｳ 胸部", "ヤマダ タロー 胸部"]
        {
            let out = ids.scrub(text).unwrap_or_default();
            assert!(out.starts_with("***") && out.ends_with(" 胸部") && !out.contains('ヤ'), "{text}: {out} {ids:?}");
        }
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
    fn rv32_03_a_birth_date_padded_with_spaces_in_columns_is_found_whole() {
        let mut ids = Identifiers::new();
        ids.add_birth_date_typed("19600315");
        assert_eq!(ids.scrub("生年月日：昭和３５年　３月１５日 以上").as_deref(), Some("生年月日：*** 以上"));
        assert_eq!(ids.scrub("生年月日 S35/ 3/15").as_deref(), Some("生年月日 ***"));
        assert_eq!(ids.scrub("備考 1960(昭和35)年3月15日生").as_deref(), Some("備考 ***生"));
        // A digit never continues across a space: `35年 3月15日1` is not the date.
        assert_eq!(ids.scrub("1960年 3月151"), None);
    }

    #[test]
    fn rv32_04_a_name_with_a_variation_selector_matches_the_name_without_one() {
        let cleaned = |name: &str, text: &str| {
            let mut ids = Identifiers::new();
            ids.add_person_name(name);
            ids.scrub(text).unwrap_or_default()
        };
        assert_eq!(cleaned("葛\u{E0100}城^実", "葛城実さんの検査"), "***の検査");
        assert_eq!(cleaned("葛城^実", "葛\u{E0100}城実さんの検査"), "***の検査");
        assert_eq!(cleaned("辻\u{E0100}^亮", "辻亮さんの検査"), "***の検査");
        // The whole name is replaced, with a selector written after its last character.
        assert_eq!(cleaned("葛城^実", "葛\u{FE00}城\u{FE00}様の検査"), "***様の検査");
        assert_eq!(cleaned("葛城^実", "検査 葛城\u{E0100} 実"), "検査 ***");
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
    fn rv22_14_a_six_digit_id_is_found_glued_after_letters_never_inside_a_number() {
        let mut i = Identifiers::new();
        i.add_id("123456");
        for t in ["ID123456の患者", "カルテNo123456 参照", "pt123456", "ID 123456"] {
            assert_eq!(i.scrub(t).map(|s| s.contains("123456")), Some(false), "{t}");
        }
        assert_eq!(i.scrub("1234567 9123456"), None);
    }

    #[test]
    fn a_long_list_of_identifiers_finds_what_each_finds_alone() {
        // Past AUTOMATON_FROM strings, one pass of the automaton: the same matches as each
        // string looked for on its own, after characters of several UTF-8 bytes too.
        let text = "山田様 ＤＯＣ００５ and DOC039, DOC0050; DOC012x DOC01 やまだDOC007 DOC039DOC039 (DOC020)";
        let names: Vec<String> = (0..40).map(|k| format!("DOC{k:03}")).collect();
        let mut many = Identifiers::new();
        for n in &names {
            many.add(n);
        }
        assert!(many.needles.len() >= AUTOMATON_FROM);
        let mut alone: Vec<(usize, usize)> = names
            .iter()
            .flat_map(|n| {
                let mut one = Identifiers::new();
                one.add(n);
                one.find(text)
            })
            .collect();
        alone.sort_unstable();
        alone.dedup();
        assert_eq!(many.find(text), alone);
        assert_eq!(alone.len(), 4, "{alone:?}");
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
    fn rv17_03_an_id_is_found_with_zeros_added_before_it() {
        let mut i = Identifiers::new();
        i.add_id("1234567");
        assert_eq!(i.scrub("ID 0001234567 check").unwrap(), "ID *** check");
        assert_eq!(i.scrub("value 01234567").unwrap(), "value ***");
        assert_eq!(i.find_in_name("labs_0001234567"), [(5, 15)]);
        assert!(i.scrub("ratio 0.001234567").is_none(), "a decimal");
        assert!(i.scrub("ID 11234567").is_none(), "a longer number");
        let mut short = Identifiers::new();
        short.add_id("12345");
        assert!(short.scrub("ID 0012345").is_none(), "too short to be taken for padded");
        let mut birth = Identifiers::new();
        birth.add_date("19850315");
        assert!(birth.scrub("lot 019850315").is_none(), "a date is not padded");
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
        // ids6: the run as written (seven digits) is the ID; five without the zeros are not.
        assert_eq!(padded.scrub("PID 0012345 and 12345").as_deref(), Some("*** and 12345"));
    }

    #[test]
    fn a_percent_encoded_name_in_a_url_is_replaced_whole() {
        let mut i = Identifiers::new();
        i.add_person_name("OKADA^JUNICHI");
        i.add_person_name("山田^太郎");
        let utf8 = |b: &[u8]| vec![String::from_utf8_lossy(b).into_owned()];
        let url = "http://pacs/wado?name=OKADA%5EJUNICHI&x=%E5%B1%B1%E7%94%B0&study=CT";
        assert_eq!(i.scrub_percent_encoded(url, utf8).as_deref(), Some("http://pacs/wado?name=***&x=***&study=CT"));
        assert_eq!(i.scrub_percent_encoded("http://pacs/a%20b?q=CT", utf8), None);
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
