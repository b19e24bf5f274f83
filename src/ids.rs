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
    fn an_id_without_padding_or_separators_has_no_other_spelling() {
        assert!(other_spellings("1234567").is_empty());
        assert!(other_spellings("AB12345").is_empty());
    }
}
