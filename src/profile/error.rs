//! Errors and diagnostics of profile loading.
//!
//! Messages name the step and the profile (path or origin) and the offending key; they never
//! carry a value from a DICOM file (a profile is not patient data) and never echo a `replace`
//! value.

use super::DeidOption;
use snafu::Snafu;
use std::fmt;
use std::path::PathBuf;

/// One problem in a profile, at a 1-based line and column of its TOML text.
///
/// Returned by [`check`](super::check) and carried by [`ProfileError::ValidateProfile`].
///
/// # Example
///
/// ```
/// let d = kamei::profile::Diagnostic { line: 3, column: 1, message: "unknown action".into() };
/// assert_eq!(d.to_string(), "3:1: unknown action");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column (in characters) of the offending key or value.
    pub column: usize,
    /// What is wrong, lower case, without a final period.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl Diagnostic {
    /// A diagnostic at byte offset `offset` of `text`.
    pub(crate) fn at(text: &str, offset: usize, message: impl Into<String>) -> Diagnostic {
        let (line, column) = line_column(text, offset);
        Diagnostic { line, column, message: message.into() }
    }
}

/// 1-based (line, column in characters) of a byte offset; offsets past the end or inside a
/// character are clamped.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn summary(diagnostics: &[Diagnostic]) -> String {
    match diagnostics {
        [] => "no details".to_string(),
        [one] => format!("line {} column {}: {}", one.line, one.column, one.message),
        [first, rest @ ..] => format!(
            "line {} column {}: {} (and {} more problem{})",
            first.line,
            first.column,
            first.message,
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    }
}

/// Why a profile could not be loaded or changed.
#[derive(Debug, Snafu)]
#[snafu(visibility(pub(crate)))]
#[non_exhaustive]
pub enum ProfileError {
    /// The name is neither a built-in profile nor a path to a file.
    #[snafu(display("unknown built-in profile {name:?} (built-in profiles: basic)"))]
    FindBuiltin {
        /// The requested name.
        name: String,
    },
    /// A user profile file could not be read.
    #[snafu(display("could not read profile {}", path.display()))]
    ReadProfile {
        /// The profile path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A profile text is not valid: TOML syntax, unknown keys, unknown keywords or actions,
    /// forbidden overrides. Every problem found is in `diagnostics`.
    #[snafu(display("profile {origin} is not valid: {}", summary(diagnostics)))]
    ValidateProfile {
        /// Where the text came from (a path, or `basic.toml (built-in)`).
        origin: String,
        /// Every problem, in text order.
        diagnostics: Vec<Diagnostic>,
    },
    /// Two options that PS3.15 declares mutually exclusive were enabled together.
    #[snafu(display("options {first} and {second} cannot be combined (PS3.15 E.3.6: mutually exclusive)"))]
    CombineOptions {
        /// One option.
        first: DeidOption,
        /// The other option.
        second: DeidOption,
    },
    /// The data embedded in the binary (generated tables, `basic.toml`) did not load; a build
    /// problem, caught by the unit tests.
    #[snafu(display("embedded profile data {what} did not load: {message}"))]
    LoadEmbedded {
        /// Which embedded file.
        what: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_is_one_based_and_counts_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // 'é' is two bytes: the '=' after it is the fourth character.
        assert_eq!(line_column(text, text.find(" = 2").unwrap() + 1), (2, 4));
        assert_eq!(line_column(text, 1000), (3, 1));
    }

    #[test]
    fn validate_error_summarises_first_problem_and_count() {
        let e = ProfileError::ValidateProfile {
            origin: "p.toml".into(),
            diagnostics: vec![
                Diagnostic { line: 2, column: 3, message: "unknown action".into() },
                Diagnostic { line: 4, column: 1, message: "unknown keyword".into() },
            ],
        };
        assert_eq!(e.to_string(), "profile p.toml is not valid: line 2 column 3: unknown action (and 1 more problem)");
    }
}
