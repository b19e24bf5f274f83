//! How people write a patient's ID by hand, for the code that looks for it in text (Clean in
//! [`crate::scrub`], the release check in [`crate::verify`]).
//!
//! Hospital numbers are zero-padded to a fixed width in the systems (`0001234567`) and typed
//! without the padding in notes and reports (`ID 1234567`, `カルテ 001234567`); an ID with
//! separators (`PID-123-456`) is typed without them (`PID123456`). Both spellings are the same
//! identifier.

/// Fewest significant digits an unpadded spelling must keep: shorter numbers stand for too many
/// other things (doses, counts, times) to be removed from text as an ID.
pub const MIN_UNPADDED_DIGITS: usize = 6;

/// Fewest characters a spelling without separators must keep.
const MIN_JOINED: usize = 5;

/// Characters typed between the parts of an ID.
fn separator(c: char) -> bool {
    matches!(c, '-' | ' ' | '_' | '.' | '/')
}

/// The other spellings of `id` (trimmed; the ID itself is not repeated): without separators,
/// and, for a number with leading zeros, with each shorter padding down to none, as long as
/// [`MIN_UNPADDED_DIGITS`] digits are left. Empty when there are none.
///
/// ```
/// assert_eq!(kamei::ids::other_spellings("0001234567"), vec!["001234567", "01234567", "1234567"]);
/// assert_eq!(kamei::ids::other_spellings("PID-CANARY-123"), vec!["PIDCANARY123"]);
/// assert!(kamei::ids::other_spellings("0000012").is_empty());
/// ```
pub fn other_spellings(id: &str) -> Vec<String> {
    let id = crate::pseudo::without_invisible(id);
    let id = id.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    let mut out = Vec::new();
    let joined: String = id.chars().filter(|&c| !separator(c)).collect();
    if joined != id && joined.chars().count() >= MIN_JOINED && joined.chars().any(char::is_alphanumeric) {
        out.push(joined.clone());
    }
    if !joined.is_empty() && joined.bytes().all(|b| b.is_ascii_digit()) {
        let significant = joined.trim_start_matches('0');
        if significant.len() >= MIN_UNPADDED_DIGITS {
            for zeros in (0..joined.len() - significant.len()).rev() {
                let s = format!("{}{significant}", "0".repeat(zeros));
                if s != id && !out.contains(&s) {
                    out.push(s);
                }
            }
        }
    }
    out
}

/// The ID part (CX.1) of a value written in HL7 v2 CX form (`0012345678^^^HOSPA`,
/// `0012345678^^^HOSPA^MR`, `0012345678^^^HOSPA&1.2.392.1&ISO^PI`), as an interface engine
/// copies PID-3 into the DICOM Patient ID; `None` for any other value. Only a value that is
/// clearly CX form counts: four to twelve `^`-separated components, the ID not empty, the check
/// digit (CX.2) empty or at most four letters or digits, its scheme (CX.3) empty or at most ten,
/// and an assigning authority (CX.4) or an identifier type (CX.5) given. An ID that merely
/// holds a `^` (`AB^12`) is not one.
///
/// ```
/// assert_eq!(kamei::ids::cx_id_part("0012345678^^^HOSPA"), Some("0012345678"));
/// assert_eq!(kamei::ids::cx_id_part("0012345678^^^HOSPA^MR"), Some("0012345678"));
/// assert_eq!(kamei::ids::cx_id_part("AB^12"), None);
/// assert_eq!(kamei::ids::cx_id_part("0012345678^^^"), None);
/// ```
pub fn cx_id_part(value: &str) -> Option<&str> {
    let components: Vec<&str> = value.split('^').collect();
    if !(4..=12).contains(&components.len()) {
        return None;
    }
    let id = components[0].trim();
    let code = |c: &str, max: usize| c.len() <= max && c.chars().all(|ch| ch.is_ascii_alphanumeric());
    let named = |c: Option<&&str>| c.is_some_and(|c| !c.trim().is_empty());
    let shaped = !id.is_empty() && code(components[1], 4) && code(components[2], 10);
    (shaped && (named(components.get(3)) || named(components.get(4)))).then_some(id)
}

/// The phone numbers written in `value` (a Patient's Telephone Numbers value, a line of
/// Patient's Telecom Information such as `tel:03-1234-5678`), as their digits, in the spellings
/// people write the same number: a run of digits with separators (`-`, space, `(`, `)`, `.`)
/// of seven digits or more as its digits (`0312345678` of `(03)1234-5678`), and a Japanese
/// number also in its other form: the domestic `0…` as the international `81…`
/// (`+81-3-1234-5678`) and the reverse. A caller finds these digits whatever separators
/// stand between them in text.
///
/// ```
/// assert_eq!(kamei::ids::phone_digits("tel:03-1234-5678"), vec!["0312345678", "81312345678"]);
/// assert_eq!(kamei::ids::phone_digits("+81 3 1234 5678"), vec!["81312345678", "0312345678"]);
/// ```
pub fn phone_digits(value: &str) -> Vec<String> {
    let value: String = unicode_normalization::UnicodeNormalization::nfkc(value).collect();
    let mut out: Vec<String> = Vec::new();
    // Runs of digits, `+` and separators; a run longer than any phone number is two numbers
    // written with a space between them, read apart.
    let phone_char = |c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.' | '\u{2212}');
    for run in value.split(|c: char| !phone_char(c)) {
        let digits: String = run.chars().filter(char::is_ascii_digit).collect();
        let pieces: Vec<&str> = if digits.len() > 13 { run.split(' ').collect() } else { vec![run] };
        for piece in pieces {
            let digits: String = piece.chars().filter(char::is_ascii_digit).collect();
            // Seven digits or more, six of them after any zero padding: `0012345` in an ID is
            // a padded number, not a phone (see [`MIN_UNPADDED_DIGITS`]).
            if digits.len() < 7 || digits.trim_start_matches('0').len() < MIN_UNPADDED_DIGITS {
                continue;
            }
            let international = piece.trim_start().starts_with('+') || (digits.starts_with("81") && digits.len() >= 11);
            let mut spellings = vec![digits.clone()];
            if international && digits.starts_with("81") {
                spellings.push(format!("0{}", &digits[2..]));
            } else if digits.starts_with('0') && !digits.starts_with("00") {
                spellings.push(format!("81{}", &digits[1..]));
            }
            for d in spellings {
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_padded_number_is_also_written_with_less_padding() {
        assert_eq!(other_spellings("0001234567"), vec!["001234567", "01234567", "1234567"]);
    }

    #[test]
    fn padding_is_not_dropped_below_six_digits() {
        assert!(other_spellings("0000012345").is_empty());
        assert_eq!(other_spellings("0123456"), vec!["123456"]);
    }

    #[test]
    fn separators_are_dropped() {
        assert_eq!(other_spellings("PID-CANARY-123"), vec!["PIDCANARY123"]);
        assert_eq!(other_spellings("00-1234-567"), vec!["001234567", "01234567", "1234567"]);
    }

    #[test]
    fn a_cx_value_gives_its_id_part_and_other_values_none() {
        assert_eq!(cx_id_part("AB1234^^^HOSPA"), Some("AB1234"));
        assert_eq!(cx_id_part("1234^5^M10^HOSPA"), Some("1234"));
        assert_eq!(cx_id_part("1234^^^^MR"), Some("1234"));
        assert_eq!(cx_id_part("^^^HOSPA"), None);
        assert_eq!(cx_id_part("A^B C^D^E"), None);
        assert_eq!(cx_id_part("1234567"), None);
    }

    #[test]
    fn a_phone_number_is_also_found_in_its_international_form() {
        assert_eq!(phone_digits("(03)1234-5678"), vec!["0312345678", "81312345678"]);
        assert_eq!(phone_digits("+81-90-1111-2222"), vec!["819011112222", "09011112222"]);
        assert_eq!(
            phone_digits("03-1234-5678\\090 1111 2222"),
            vec!["0312345678", "81312345678", "09011112222", "819011112222"]
        );
        assert!(phone_digits("ext 1234").is_empty());
        assert!(phone_digits("PID0012345").is_empty(), "a padded number of five digits is no phone");
    }

    #[test]
    fn an_id_without_padding_or_separators_has_no_other_spelling() {
        assert!(other_spellings("1234567").is_empty());
        assert!(other_spellings("AB12345").is_empty());
    }
}
