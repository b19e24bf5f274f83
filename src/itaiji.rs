//! Variant kanji (異体字, itaiji) of Japanese names: one surname is typed `髙橋` in the
//! registered name (IBM/NEC extension characters, old forms kept in the family register) and
//! `高橋` in a nurse's note; `山﨑`/`山崎`, `渡邊`/`渡邉`/`渡辺`, `齋藤`/`齊藤`/`斎藤`/`斉藤`. Unicode
//! NFKC does not fold these (they are distinct characters, not compatibility ones), so a name
//! looked for in one spelling would be left in the other.
//!
//! [`fold`] maps each variant of the table below to one representative, character for
//! character, and the name matchers apply it on both sides (the identifier and the text):
//! [`crate::scrub`] (Clean on DICOM text and file names, clinical free text and output names)
//! and [`crate::verify`]'s dictionary. A fold only widens what is found: a text written in the
//! representative is found for a name written in a variant, and the other way round.
//!
//! Source and rationale of the table: the old forms (旧字体) that the 常用漢字表 (Cabinet
//! notice, 2010) prints in brackets beside its characters, restricted to those seen in
//! surnames and given names (`廣`→`広`, `澤`→`沢`, `濱`→`浜`, `櫻`→`桜`, `國`→`国`, `邊`→`辺`...);
//! the variants that come from the IBM/NEC extension of CP932 (`髙`, `﨑`) and the family
//! register's common variants (`邉`, `嶋`, `嵜`, `渕`, `冨`, `𠮷`), as they are typed for the
//! same names. `斎` and `斉` are different characters, but `斎藤`/`斉藤` are one surname as
//! written by hand and clerks confuse them, so they fold together. Not exhaustive: a variant
//! missing here is matched only as written. The table is data; extend it, not the matchers.

/// Each variant with the representative it is compared as. The representative is the form
/// most often typed (the 常用漢字 form where there is one).
pub const VARIANTS: &[(char, char)] = &[
    ('髙', '高'),
    ('﨑', '崎'),
    ('嵜', '崎'),
    ('碕', '崎'),
    ('邊', '辺'),
    ('邉', '辺'),
    ('齋', '斉'),
    ('齊', '斉'),
    ('斎', '斉'),
    ('澤', '沢'),
    ('濱', '浜'),
    ('濵', '浜'),
    ('嶋', '島'),
    ('嶌', '島'),
    ('廣', '広'),
    ('櫻', '桜'),
    ('國', '国'),
    ('圀', '国'),
    ('德', '徳'),
    ('眞', '真'),
    ('惠', '恵'),
    ('榮', '栄'),
    ('龍', '竜'),
    ('瀨', '瀬'),
    ('萬', '万'),
    ('實', '実'),
    ('壽', '寿'),
    ('彌', '弥'),
    ('與', '与'),
    ('淺', '浅'),
    ('豐', '豊'),
    ('黑', '黒'),
    ('圓', '円'),
    ('關', '関'),
    ('鐵', '鉄'),
    ('條', '条'),
    ('澁', '渋'),
    ('冨', '富'),
    ('增', '増'),
    ('團', '団'),
    ('槇', '槙'),
    ('桒', '桑'),
    ('栁', '柳'),
    ('曾', '曽'),
    ('舘', '館'),
    ('穗', '穂'),
    ('晉', '晋'),
    ('亞', '亜'),
    ('靜', '静'),
    ('淸', '清'),
    ('靑', '青'),
    ('藏', '蔵'),
    ('將', '将'),
    ('兒', '児'),
    ('莊', '荘'),
    ('峯', '峰'),
    ('埜', '野'),
    ('禮', '礼'),
    ('會', '会'),
    ('來', '来'),
    ('愼', '慎'),
    ('巖', '巌'),
    ('嚴', '厳'),
    ('聰', '聡'),
    ('遙', '遥'),
    ('檜', '桧'),
    ('渕', '淵'),
    ('渊', '淵'),
    ('恆', '恒'),
    ('寬', '寛'),
    ('薰', '薫'),
    ('學', '学'),
    ('𠮷', '吉'),
    ('籠', '篭'),
];

/// The representative `c` is compared as ([`VARIANTS`]); any other character as it is.
///
/// ```
/// use kamei::itaiji::fold;
/// assert_eq!(fold('髙'), '高');
/// assert_eq!(fold('齋'), fold('斎'));
/// assert_eq!(fold('高'), '高');
/// ```
pub fn fold(c: char) -> char {
    if (c as u32) < 0x3400 {
        return c;
    }
    VARIANTS.iter().find(|&&(v, _)| v == c).map_or(c, |&(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_folds_each_variant_to_a_representative_that_folds_to_itself() {
        for &(v, r) in VARIANTS {
            assert_eq!(fold(r), r, "{v} -> {r}: a representative must not be a variant");
            assert_ne!(v, r);
        }
        let mut seen: Vec<char> = VARIANTS.iter().map(|&(v, _)| v).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), VARIANTS.len(), "a variant listed twice");
    }

    #[test]
    fn rv17_suspect_1_surname_variants_meet() {
        for group in [&["髙", "高"][..], &["﨑", "崎"], &["邊", "邉", "辺"], &["齋", "齊", "斎", "斉"], &["澤", "沢"]]
        {
            let folded: Vec<char> = group.iter().map(|s| fold(s.chars().next().unwrap())).collect();
            assert!(folded.windows(2).all(|w| w[0] == w[1]), "{group:?}");
        }
    }
}
