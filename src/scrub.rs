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
//! a name is still found. ASCII identifiers match whole words only (a surname "LI" does not
//! eat "CLINICAL"); identifiers in other scripts match anywhere (Japanese has no spaces).

use unicode_normalization::UnicodeNormalization;

/// What replaces each identifier found.
pub const REDACTED: &str = "***";

/// The identifying strings of one patient's file, normalised for matching.
#[derive(Debug, Clone, Default)]
pub struct Identifiers {
    needles: Vec<Vec<char>>,
}

fn normalize(text: &str) -> Vec<char> {
    text.nfkc().map(lower).collect()
}

fn lower(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

impl Identifiers {
    /// An empty set.
    pub fn new() -> Identifiers {
        Identifiers::default()
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// Number of distinct identifiers collected.
    pub fn len(&self) -> usize {
        self.needles.len()
    }

    /// Add one identifier (trimmed; too short to be specific → ignored: fewer than two
    /// characters).
    pub fn add(&mut self, value: &str) {
        let v = normalize(value.trim_matches(|c: char| c.is_whitespace() || c == '\0'));
        if v.len() < 2 || !v.iter().any(|c| c.is_alphanumeric()) {
            return;
        }
        if !self.needles.contains(&v) {
            self.needles.push(v);
        }
    }

    /// Add a decoded Person Name value: every component of every group, and each group's
    /// components joined by a space in both orders ("Taro Yamada" and "Yamada Taro").
    pub fn add_person_name(&mut self, pn: &str) {
        for value in pn.split('\\') {
            for group in value.split('=') {
                let parts: Vec<&str> = group.split('^').map(str::trim).filter(|p| !p.is_empty()).collect();
                for p in &parts {
                    self.add(p);
                }
                if parts.len() >= 2 {
                    self.add(&parts.join(" "));
                    let mut rev = parts.clone();
                    rev.reverse();
                    self.add(&rev.join(" "));
                    self.add(&parts.concat());
                }
            }
        }
    }

    /// Add a DA value in the spellings people type: `19850315`, `1985-03-15`, `1985/03/15`,
    /// `1985.03.15`, `1985/3/15`, `1985年3月15日`.
    pub fn add_date(&mut self, da: &str) {
        for s in crate::dates::common_spellings(da) {
            self.add(&s);
        }
    }

    /// Whether `text` contains any identifier.
    pub fn found_in(&self, text: &str) -> bool {
        let hay = normalize(text);
        self.needles.iter().any(|n| !find_all(&hay, n).is_empty())
    }

    /// Replace every identifier in `text` with [`REDACTED`]. `None` when there is nothing to
    /// replace (the caller then keeps the original bytes untouched).
    pub fn scrub(&self, text: &str) -> Option<String> {
        let original: Vec<char> = text.nfkc().collect();
        let hay: Vec<char> = original.iter().copied().map(lower).collect();
        let mut ranges: Vec<(usize, usize)> = self.needles.iter().flat_map(|n| find_all(&hay, n)).collect();
        if ranges.is_empty() {
            return None;
        }
        ranges.sort_unstable();
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
/// alphanumeric ends.
fn find_all(hay: &[char], needle: &[char]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if needle.is_empty() || needle.len() > hay.len() {
        return found;
    }
    let word = |c: char| c.is_ascii_alphanumeric();
    for start in 0..=hay.len() - needle.len() {
        let end = start + needle.len();
        if hay[start..end] != *needle {
            continue;
        }
        let left_ok = !word(needle[0]) || start == 0 || !word(hay[start - 1]);
        let right_ok = !word(needle[needle.len() - 1]) || end == hay.len() || !word(hay[end]);
        if left_ok && right_ok {
            found.push((start, end));
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
    fn text_without_identifiers_is_left_alone() {
        assert_eq!(ids().scrub("CHEST PA AND LATERAL"), None);
    }

    #[test]
    fn one_character_identifiers_are_ignored() {
        let mut i = Identifiers::new();
        i.add("A");
        assert!(i.is_empty());
    }
}
