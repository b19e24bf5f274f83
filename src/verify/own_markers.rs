//! The fixed texts kamei itself writes into the de-identification markers, which `verify`
//! does not search for the input's identifiers: a patient named `TEST^PATIENT` (a placeholder
//! another tool left) shares the words of `option retain-patient-characteristics` and of the
//! CID 7050 meaning `Retain Patient Characteristics Option`, and a patient named `KAMEI` the
//! word of `kamei 0.1.0`. Only the exact values kamei writes are left out: an earlier tool's
//! De-identification Method value, or a code meaning that is not the standard's for its code,
//! is searched as any other text.

use crate::dataset::{DataSet, Tag};
use crate::profile::DeidOption;
use dicom_dictionary_std::tags;

/// The text of a value that `verify` searches for identifiers, without what kamei itself
/// writes there: De-identification Method (0012,0063) without its values that are kamei's
/// ([`is_own_method_value`]), and a Code Meaning of a De-identification Method Code Sequence
/// (0012,0064) item that is the CID 7050 meaning of the item's DCM code, as kamei writes it,
/// as nothing. `stack` is the path of sequences to the data set `ds` holding the element
/// `tag`, whose text is `text`. Any other text is returned as it is.
pub(crate) fn searched_text(tag: Tag, stack: &[(Tag, usize)], ds: &DataSet, text: String) -> String {
    match stack {
        [] if tag == tags::DEIDENTIFICATION_METHOD => text
            .split('\\')
            .filter(|v| !is_own_method_value(v.trim_matches([' ', '\0'])))
            .collect::<Vec<_>>()
            .join("\\"),
        [(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE, _)] if tag == tags::CODE_MEANING => {
            let standard = ds.ascii(tags::CODING_SCHEME_DESIGNATOR) == Some("DCM")
                && ds
                    .ascii(tags::CODE_VALUE)
                    .and_then(crate::profile::cid_7050_code)
                    .is_some_and(|(_, meaning)| meaning == text.trim_matches([' ', '\0']));
            if standard { String::new() } else { text }
        }
        _ => text,
    }
}

/// Whether one De-identification Method value is one kamei writes
/// ([`crate::profile::Profile::method_label`] and the version before it): `kamei` and a
/// version (`kamei 0.1.0`), a built-in profile's name, or one named by the digest of its
/// text, with its digest (`profile basic sha256:0123456789ab`, `profile
/// basic+user-0123456789ab sha256:…`), an option (`option clean-descriptors`), or the note
/// that the profile departs from the table. A user profile's own name is the user's text, and
/// is searched.
fn is_own_method_value(value: &str) -> bool {
    let hex12 = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(version) = value.strip_prefix("kamei ") {
        return version.starts_with(|c: char| c.is_ascii_digit())
            && version.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    }
    if let Some(rest) = value.strip_prefix("profile ") {
        let Some((name, digest)) = rest.split_once(" sha256:") else { return false };
        let (base, handle) = name.split_once('+').map_or((name, None), |(b, h)| (b, Some(h)));
        let handle_ok = handle.is_none_or(|h| h.strip_prefix("user-").is_some_and(hex12));
        return crate::profile::is_builtin(base) && handle_ok && hex12(digest);
    }
    value == crate::profile::DEPARTS_LABEL || DeidOption::ALL.iter().any(|o| value == format!("option {}", o.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_values_kamei_writes_are_its_own() {
        for own in [
            "kamei 0.1.0",
            "profile basic sha256:0123456789ab",
            "profile basic+user-0123456789ab sha256:abcdef012345",
            "option retain-patient-characteristics",
            crate::profile::DEPARTS_LABEL,
        ] {
            assert!(is_own_method_value(own), "{own}");
        }
        for other in [
            "kamei TEST PATIENT",
            "profile basic+test-patient sha256:0123456789ab",
            "option test patient",
            "TEST PATIENT removal tool",
            "retain-patient-characteristics",
        ] {
            assert!(!is_own_method_value(other), "{other}");
        }
    }
}
