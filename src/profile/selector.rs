//! Which attribute(s) a profile key names: keywords, `(gggg,eeee)`, repeating groups and the
//! private form `(gggg,"CREATOR",ee)`.
//!
//! Parsing only; whether an override on a selector is allowed is decided in `user.rs`.

use dicom_core::Tag;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, TagRange, VirtualVr};
use dicom_dictionary_std::StandardDataDictionary;
use std::fmt;

/// The groups a repeating-group attribute `(ggxx,eeee)` occupies: gg00 to gg1E, even (PS3.5 7.6).
pub(crate) fn repeating_groups(base: u16) -> impl Iterator<Item = u16> {
    (0u16..=0x1E).step_by(2).map(move |d| (base & 0xFF00) | d)
}

/// True for the groups in which private data elements may appear (odd, not 0001-0007, not FFFF;
/// PS3.5 7.8.1).
pub(crate) fn is_private_group(group: u16) -> bool {
    group % 2 == 1 && group > 0x0007 && group != 0xFFFF
}

/// One attribute or a family of attributes named in a profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Selector {
    /// One standard tag.
    Tag(Tag),
    /// `(ggxx,eeee)`: element `element` of the even groups gg00 to gg1E.
    RepeatingGroup {
        /// The group with its low byte zero, e.g. 0x6000.
        base: u16,
        /// The element.
        element: u16,
    },
    /// `(ggxx,xxxx)`: every element of the even groups gg00 to gg1E (Curve Data).
    WholeRepeatingGroup {
        /// The group with its low byte zero, e.g. 0x5000.
        base: u16,
    },
    /// `(gggg,eexx)`: the 256 elements ee00 to eeFF of one group.
    RepeatingElement {
        /// The group.
        group: u16,
        /// The element with its low byte zero.
        base: u16,
    },
    /// `(gggg,"CREATOR",ee)`: element offset `ee` in the block of private creator `CREATOR` in
    /// the odd group `gggg` (the notation of TCIA's private tag knowledge base).
    Private {
        /// The odd group.
        group: u16,
        /// The private creator, trimmed.
        creator: String,
        /// The element offset within the creator's block (low byte of the element).
        offset: u8,
    },
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Tag(t) => write!(f, "({:04X},{:04X})", t.group(), t.element()),
            Selector::RepeatingGroup { base, element } => {
                write!(f, "({:02X}xx,{:04X})", base >> 8, element)
            }
            Selector::WholeRepeatingGroup { base } => write!(f, "({:02X}xx,xxxx)", base >> 8),
            Selector::RepeatingElement { group, base } => {
                write!(f, "({:04X},{:02X}xx)", group, base >> 8)
            }
            Selector::Private { group, creator, offset } => {
                write!(f, "({group:04X},\"{creator}\",{offset:02X})")
            }
        }
    }
}

impl Selector {
    /// Every standard tag this selector names (`WholeRepeatingGroup` and `Private` name none
    /// individually).
    pub(crate) fn tags(&self) -> Vec<Tag> {
        match self {
            Selector::Tag(t) => vec![*t],
            Selector::RepeatingGroup { base, element } => repeating_groups(*base).map(|g| Tag(g, *element)).collect(),
            Selector::RepeatingElement { group, base } => (0u16..=0xFF).map(|d| Tag(*group, base | d)).collect(),
            Selector::WholeRepeatingGroup { .. } | Selector::Private { .. } => Vec::new(),
        }
    }

    /// A key that orders selectors by tag: (group, element) with open digits as zero.
    pub(crate) fn sort_key(&self) -> (u16, u16) {
        match self {
            Selector::Tag(t) => (t.group(), t.element()),
            Selector::RepeatingGroup { base, element } => (*base, *element),
            Selector::WholeRepeatingGroup { base } => (*base, 0),
            Selector::RepeatingElement { group, base } => (*group, *base),
            Selector::Private { group, offset, .. } => (*group, u16::from(*offset)),
        }
    }

    /// The keyword of the attribute in the standard dictionary, if it has one.
    pub(crate) fn keyword(&self) -> Option<&'static str> {
        let tag = match self {
            Selector::Tag(t) => *t,
            Selector::RepeatingGroup { base, element } => Tag(*base, *element),
            Selector::RepeatingElement { group, base } => Tag(*group, *base),
            Selector::WholeRepeatingGroup { .. } | Selector::Private { .. } => return None,
        };
        if !in_dictionary(tag) {
            return None;
        }
        StandardDataDictionary.by_tag(tag).map(|e| e.alias())
    }

    /// The exact VR of the attribute in the standard dictionary, if known.
    pub(crate) fn dictionary_vr(&self) -> Option<dicom_core::VR> {
        let tag = match self {
            Selector::Tag(t) => *t,
            Selector::RepeatingGroup { base, element } => Tag(*base, *element),
            Selector::RepeatingElement { group, base } => Tag(*group, *base),
            Selector::WholeRepeatingGroup { .. } | Selector::Private { .. } => return None,
        };
        if !in_dictionary(tag) {
            return None;
        }
        match StandardDataDictionary.by_tag(tag).map(|e| e.vr()) {
            Some(VirtualVr::Exact(vr)) => Some(vr),
            _ => None,
        }
    }
}

/// Whether the standard dictionary knows a (non-private, non-group-length) tag.
/// The generic group-length entry the dictionary returns for any (gggg,0000) does not count.
pub(crate) fn in_dictionary(tag: Tag) -> bool {
    tag.group() % 2 == 0
        && StandardDataDictionary
            .by_tag(tag)
            .is_some_and(|e| !matches!(e.tag_range(), TagRange::GroupLength | TagRange::PrivateCreator))
}

fn hex4(s: &str) -> Option<u16> {
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_hexdigit()) { u16::from_str_radix(s, 16).ok() } else { None }
}

fn hex2(s: &str) -> Option<u8> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_hexdigit()) { u8::from_str_radix(s, 16).ok() } else { None }
}

/// `gg` + `xx` (case-insensitive x): the group base.
fn masked_low(s: &str) -> Option<u16> {
    if s.len() == 4 && s[2..].eq_ignore_ascii_case("xx") { hex2(&s[..2]).map(|hi| u16::from(hi) << 8) } else { None }
}

/// Parse a profile key: a dictionary keyword, `(gggg,eeee)` hex (open digits `xx` as PS3.15
/// writes them: `(60xx,3000)`, `(50xx,xxxx)`, `(0020,31xx)`), or `(gggg,"CREATOR",ee)`.
///
/// The error is a lower-case reason. Nothing is checked against the table here.
pub(crate) fn parse(text: &str) -> Result<Selector, String> {
    let t = text.trim();
    if t.starts_with('(') {
        return parse_parenthesised(t);
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "{text:?} is neither a keyword, a (gggg,eeee) tag nor a (gggg,\"CREATOR\",ee) private tag"
        ));
    }
    let entry = StandardDataDictionary
        .by_name(t)
        .ok_or_else(|| format!("unknown keyword {t:?} (keywords are case-sensitive, e.g. StudyDescription)"))?;
    match entry.tag_range() {
        TagRange::Single(tag) => Ok(Selector::Tag(tag)),
        TagRange::Group100(tag) => Ok(Selector::RepeatingGroup { base: tag.group() & 0xFF00, element: tag.element() }),
        TagRange::Element100(tag) => {
            Ok(Selector::RepeatingElement { group: tag.group(), base: tag.element() & 0xFF00 })
        }
        TagRange::GroupLength | TagRange::PrivateCreator => {
            Err(format!("keyword {t:?} names a family of elements that profiles cannot address"))
        }
    }
}

fn parse_parenthesised(t: &str) -> Result<Selector, String> {
    let malformed = || format!("malformed tag {t:?}: expected (gggg,eeee) in hex or (gggg,\"CREATOR\",ee)");
    let inner = t.strip_prefix('(').and_then(|s| s.strip_suffix(')')).ok_or_else(malformed)?;
    if inner.contains('"') {
        // (gggg,"CREATOR",ee)
        let (group, rest) = inner.split_once(',').ok_or_else(malformed)?;
        let rest = rest.strip_prefix('"').ok_or_else(malformed)?;
        let (creator, rest) = rest.rsplit_once('"').ok_or_else(malformed)?;
        let offset = rest.strip_prefix(',').ok_or_else(malformed)?;
        let group = hex4(group).ok_or_else(malformed)?;
        let offset = hex2(offset).ok_or_else(malformed)?;
        if creator.contains('"') {
            return Err(malformed());
        }
        if !is_private_group(group) {
            return Err(format!("{t:?}: group {group:04X} is not a private group (odd, above 0007, not FFFF)"));
        }
        let creator = creator.trim_matches(|c| c == ' ' || c == '\0');
        if creator.is_empty() {
            return Err(format!("{t:?}: the private creator is empty"));
        }
        return Ok(Selector::Private { group, creator: creator.to_string(), offset });
    }
    let (g, e) = inner.split_once(',').ok_or_else(malformed)?;
    let (g, e) = (g.trim(), e.trim());
    if let Some(group) = hex4(g) {
        if let Some(element) = hex4(e) {
            return Ok(Selector::Tag(Tag(group, element)));
        }
        if let Some(base) = masked_low(e) {
            return Ok(Selector::RepeatingElement { group, base });
        }
        return Err(malformed());
    }
    if let Some(base) = masked_low(g) {
        if base % 0x200 != 0 {
            return Err(format!("{t:?}: repeating groups start at an even group"));
        }
        if let Some(element) = hex4(e) {
            return Ok(Selector::RepeatingGroup { base, element });
        }
        if e.eq_ignore_ascii_case("xxxx") {
            return Ok(Selector::WholeRepeatingGroup { base });
        }
    }
    Err(malformed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_selector_form() {
        let cases: &[(&str, Selector)] = &[
            ("StudyDescription", Selector::Tag(Tag(0x0008, 0x1030))),
            ("(0010,1010)", Selector::Tag(Tag(0x0010, 0x1010))),
            ("(0010,10aa)", Selector::Tag(Tag(0x0010, 0x10AA))),
            ("OverlayData", Selector::RepeatingGroup { base: 0x6000, element: 0x3000 }),
            ("(60xx,3000)", Selector::RepeatingGroup { base: 0x6000, element: 0x3000 }),
            ("(50xx,xxxx)", Selector::WholeRepeatingGroup { base: 0x5000 }),
            ("(0020,31xx)", Selector::RepeatingElement { group: 0x0020, base: 0x3100 }),
            (
                "(0009,\"GEMS_IDEN_01\",04)",
                Selector::Private { group: 0x0009, creator: "GEMS_IDEN_01".into(), offset: 4 },
            ),
            (
                "(0029,\"SIEMENS CSA HEADER \",10)",
                Selector::Private { group: 0x0029, creator: "SIEMENS CSA HEADER".into(), offset: 0x10 },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&parse(text).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn rejects_malformed_and_unknown_selectors() {
        for text in [
            "StudyDescriptio",
            "studydescription",
            "(0010,101)",
            "(0010;1010)",
            "(61xx,3000)",
            "(0010,\"X\",04)",
            "(0009,\"\",04)",
            "(0009,\"X\",4)",
            "Study Description",
            "GenericGroupLength",
            "",
        ] {
            assert!(parse(text).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn display_is_canonical_upper_case_hex() {
        for (text, shown) in [
            ("(0010,10aa)", "(0010,10AA)"),
            ("(60xx,3000)", "(60xx,3000)"),
            ("(50xx,xxxx)", "(50xx,xxxx)"),
            ("(0009,\"GEMS_IDEN_01\",04)", "(0009,\"GEMS_IDEN_01\",04)"),
        ] {
            assert_eq!(parse(text).unwrap().to_string(), shown);
        }
    }

    #[test]
    fn repeating_groups_are_the_even_groups_00_to_1e() {
        let groups: Vec<u16> = repeating_groups(0x6000).collect();
        assert_eq!(groups.len(), 16);
        assert_eq!(groups[0], 0x6000);
        assert_eq!(groups[15], 0x601E);
        assert!(groups.iter().all(|g| g % 2 == 0));
    }
}
