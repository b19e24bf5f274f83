//! Case folding for comparing text case-insensitively, one character for one.
//!
//! Lower-casing alone is not a case fold: Greek writes a final sigma `ς` at the end of a word
//! and `σ` elsewhere, and both are `Σ` in capitals, so `ΠΑΠΑΔΟΠΟΥΛΟΣ` lower-cased character by
//! character (`…σ`) did not equal `Παπαδοπουλος` (`…ς`): a name typed in lower case was kept.
//! Unicode's simple case folding (CaseFolding.txt, status C and S) maps such letters to one
//! form; [`fold`] is lower-casing plus the folds where the two differ. Both the cleaner
//! ([`crate::scrub`]) and `kamei verify` compare through it, so they agree on what matches.

/// The simple case fold of an already lower-cased character: the letters whose lower case is
/// not their case fold (Greek final sigma and the Greek symbol variants, long s, the Latin
/// long s with dot above, Greek prosgegrammeni), each folded to the letter it stands for; any
/// other character as it is.
pub fn fold_lower(c: char) -> char {
    match c {
        'ς' => 'σ',
        'ϐ' => 'β',
        'ϑ' => 'θ',
        'ϕ' => 'φ',
        'ϖ' => 'π',
        'ϰ' => 'κ',
        'ϱ' => 'ρ',
        'ϵ' => 'ε',
        'ſ' => 's',
        'ẛ' => 'ṡ',
        '\u{0345}' | '\u{1FBE}' => 'ι',
        _ => c,
    }
}

/// The case fold of a character, one character for one: its lower case when that is one
/// character (else the character itself), folded by [`fold_lower`].
pub fn fold(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => fold_lower(l),
        _ => fold_lower(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(s: &str) -> String {
        s.chars().map(fold).collect()
    }

    #[test]
    fn greek_final_sigma_folds_with_sigma_and_capital_sigma() {
        assert_eq!(folded("ΠΑΠΑΔΟΠΟΥΛΟΣ"), folded("Παπαδοπουλος"));
        assert_eq!(folded("ΝΙΚΟΣ"), "νικοσ");
        assert_eq!(fold('ς'), fold('Σ'));
        assert_eq!(fold('σ'), fold('Σ'));
    }

    #[test]
    fn other_scripts_fold_as_their_lower_case() {
        assert_eq!(folded("ИВАНОВ Müller ABC"), "иванов müller abc");
        assert_eq!(folded("山田ﾀﾛｳ"), "山田ﾀﾛｳ");
        // A capital whose lower case is two characters stays itself.
        assert_eq!(fold('İ'), 'İ');
        assert_eq!(fold('ſ'), 's');
    }
}
