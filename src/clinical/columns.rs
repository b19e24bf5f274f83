//! COLUMNS.toml: the role of every column of a CSV export.
//!
//! Nothing leaves by default: a column the file does not name is an error that names it, before
//! any row is written. One file may describe several exports (a lab export and a prescription
//! export with different column names); only the columns an input actually has are used.
//!
//! ```toml
//! [columns]
//! patient_id = "patient-id"
//! visit_date = "date"
//! birth_date = { role = "birth-date", precision = "year" }
//! age = { role = "age", band = 5 }
//! department = { role = "keep", quasi = true }
//! comment = "free-text"
//! ```
//!
//! Problems are reported with their line and column, like `kamei profile check`.

use super::values::BirthPrecision;
use crate::profile::Diagnostic;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// What happens to a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The patient's original ID: replaced by the pseudonym `kamei deid` writes into Patient ID.
    PatientId,
    /// A date (or a date with a time): shifted by the patient's offset with
    /// `retain-long-modified-dates`, else the column is removed.
    Date,
    /// A date-time: handled exactly like [`Role::Date`] (the time part is kept as written).
    DateTime,
    /// A birth date: generalised to its year or year-month.
    BirthDate {
        /// How much is kept.
        precision: BirthPrecision,
    },
    /// An age in years: over 89 becomes `90+`; optionally grouped in bands.
    Age {
        /// Band width in years (1 = exact age).
        band: u32,
    },
    /// Sex: kept, and a quasi-identifier for the k-anonymity check.
    Sex,
    /// A postal code: its first three digits.
    PostalCode,
    /// Free text: the row's identifiers and identifier patterns removed.
    FreeText,
    /// Kept as it is.
    Keep,
    /// Removed.
    Drop,
    /// A person's name (patient, family, staff): removed, and its parts removed from the row's
    /// free-text columns.
    Name,
    /// Another identifier (phone, insurance number, address): removed, and removed from the
    /// row's free-text columns.
    Identifier,
}

impl Role {
    const WORDS: &'static [&'static str] = &[
        "patient-id",
        "date",
        "datetime",
        "birth-date",
        "age",
        "sex",
        "postal-code",
        "free-text",
        "keep",
        "drop",
        "name",
        "identifier",
    ];

    fn from_word(word: &str) -> Option<Role> {
        Some(match word {
            "patient-id" => Role::PatientId,
            "date" => Role::Date,
            "datetime" => Role::DateTime,
            "birth-date" => Role::BirthDate { precision: BirthPrecision::default() },
            "age" => Role::Age { band: 1 },
            "sex" => Role::Sex,
            "postal-code" => Role::PostalCode,
            "free-text" => Role::FreeText,
            "keep" => Role::Keep,
            "drop" => Role::Drop,
            "name" => Role::Name,
            "identifier" => Role::Identifier,
            _ => return None,
        })
    }

    /// The word used in COLUMNS.toml (and in the audit log).
    pub fn word(self) -> &'static str {
        match self {
            Role::PatientId => "patient-id",
            Role::Date => "date",
            Role::DateTime => "datetime",
            Role::BirthDate { .. } => "birth-date",
            Role::Age { .. } => "age",
            Role::Sex => "sex",
            Role::PostalCode => "postal-code",
            Role::FreeText => "free-text",
            Role::Keep => "keep",
            Role::Drop => "drop",
            Role::Name => "name",
            Role::Identifier => "identifier",
        }
    }

    /// Whether the role is a quasi-identifier by nature (used by the k-anonymity check when no
    /// columns are named): age, birth date, sex, postal code.
    pub fn is_quasi_identifier(self) -> bool {
        matches!(self, Role::Age { .. } | Role::BirthDate { .. } | Role::Sex | Role::PostalCode)
    }

    /// Whether the column's values are removed from the output.
    pub fn is_removed(self) -> bool {
        matches!(self, Role::Drop | Role::Name | Role::Identifier)
    }

    /// Whether the column holds dates shifted (or removed) with the patient's offset.
    pub fn is_date(self) -> bool {
        matches!(self, Role::Date | Role::DateTime)
    }
}

/// One column's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its role.
    pub role: Role,
    /// Marked as a quasi-identifier for the k-anonymity check (`quasi = true`), or one by role.
    pub quasi: bool,
}

/// A parsed COLUMNS.toml.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    columns: BTreeMap<String, Column>,
    sha256: String,
}

/// Why COLUMNS.toml could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file has problems, each with its line and column.
    Invalid {
        /// The path.
        path: PathBuf,
        /// Every problem, in text order.
        diagnostics: Vec<Diagnostic>,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Read { path, .. } => write!(f, "could not read the columns file {}", path.display()),
            Error::Invalid { path, diagnostics } => {
                write!(f, "the columns file {} is invalid:", path.display())?;
                for d in diagnostics {
                    write!(f, "\n  {}:{d}", path.display())?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read { source, .. } => Some(source),
            Error::Invalid { .. } => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSchema {
    columns: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

impl Columns {
    /// Read and validate a COLUMNS.toml file.
    ///
    /// # Errors
    /// [`Error::Read`], or [`Error::Invalid`] with every problem and its line.
    pub fn load(path: &Path) -> Result<Columns, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.into(), source })?;
        Columns::parse(&text).map_err(|diagnostics| Error::Invalid { path: path.into(), diagnostics })
    }

    /// Parse COLUMNS.toml text.
    ///
    /// # Errors
    /// Every problem found, with its line and column.
    pub fn parse(text: &str) -> Result<Columns, Vec<Diagnostic>> {
        let file: FileSchema = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            vec![Diagnostic::at(text, offset, e.message().trim().trim_end_matches('.').to_string())]
        })?;
        let mut problems = Vec::new();
        let mut columns = BTreeMap::new();
        for (name, value) in file.columns {
            let key = name.get_ref().trim().to_string();
            if key.is_empty() {
                problems.push(Diagnostic::at(text, name.span().start, "a column name is empty"));
                continue;
            }
            match parse_column(value.get_ref()) {
                Ok(c) => {
                    columns.insert(key, c);
                }
                Err(m) => problems.push(Diagnostic::at(text, value.span().start, format!("column {key:?}: {m}"))),
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|d| (d.line, d.column));
            return Err(problems);
        }
        use sha2::Digest;
        let sha256 = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        Ok(Columns { columns, sha256 })
    }

    /// The settings of a column by its header name (trimmed), if the file names it.
    pub fn get(&self, header: &str) -> Option<Column> {
        self.columns.get(header.trim()).copied()
    }

    /// Every column the file names, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Column)> {
        self.columns.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// SHA-256 of the file's text (recorded in the audit log).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

fn parse_column(value: &toml::Value) -> Result<Column, String> {
    let unknown_role = |w: &str| format!("unknown role {w:?}; the roles are {}", Role::WORDS.join(", "));
    match value {
        toml::Value::String(word) => {
            let role = Role::from_word(word).ok_or_else(|| unknown_role(word))?;
            Ok(Column { role, quasi: role.is_quasi_identifier() })
        }
        toml::Value::Table(t) => {
            let word = match t.get("role") {
                Some(toml::Value::String(w)) => w,
                Some(_) => return Err("role must be a string".into()),
                None => return Err("a column table needs a role, e.g. { role = \"keep\" }".into()),
            };
            let mut role = Role::from_word(word).ok_or_else(|| unknown_role(word))?;
            let mut quasi = role.is_quasi_identifier();
            for (k, v) in t {
                match k.as_str() {
                    "role" => {}
                    "quasi" => {
                        let toml::Value::Boolean(b) = v else { return Err("quasi must be true or false".into()) };
                        if *b && role.is_removed() {
                            return Err("a removed column cannot be a quasi-identifier of the release".into());
                        }
                        quasi = *b;
                    }
                    "precision" => {
                        let Role::BirthDate { precision } = &mut role else {
                            return Err(format!("precision does not apply to role {word:?}"));
                        };
                        *precision = match v.as_str() {
                            Some("year") => BirthPrecision::Year,
                            Some("year-month") => BirthPrecision::YearMonth,
                            _ => return Err("precision must be \"year\" or \"year-month\"".into()),
                        };
                    }
                    "band" => {
                        let Role::Age { band } = &mut role else {
                            return Err(format!("band does not apply to role {word:?}"));
                        };
                        match v.as_integer() {
                            Some(n @ 1..=30) => *band = n as u32,
                            _ => return Err("band must be a whole number of years between 1 and 30".into()),
                        }
                    }
                    other => {
                        return Err(format!(
                            "unknown key {other:?}; expected role, quasi, precision (birth-date) or band (age)"
                        ));
                    }
                }
            }
            Ok(Column { role, quasi })
        }
        other => Err(format!("expected a role word or a table, found a {}", other.type_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../testdata/clinical/columns.example.toml");

    #[test]
    fn example_file_loads() {
        let c = Columns::parse(EXAMPLE).unwrap();
        assert_eq!(c.get("patient_id").unwrap().role, Role::PatientId);
        assert_eq!(c.get("birth_date").unwrap().role, Role::BirthDate { precision: BirthPrecision::YearMonth });
        assert!(c.get("sex").unwrap().quasi);
        assert!(c.get("no such column").is_none());
    }

    #[test]
    fn tables_set_options() {
        let c = Columns::parse(
            "[columns]\nb = { role = \"birth-date\", precision = \"year\" }\na = { role = \"age\", band = 5 }\nd = { role = \"keep\", quasi = true }\n",
        )
        .unwrap();
        assert_eq!(c.get("b").unwrap().role, Role::BirthDate { precision: BirthPrecision::Year });
        assert_eq!(c.get("a").unwrap().role, Role::Age { band: 5 });
        assert_eq!(c.get("d").unwrap(), Column { role: Role::Keep, quasi: true });
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "[columns]\nok = \"keep\"\nbad = \"shred\"\nx = { role = \"keep\", band = 3 }\ny = { role = \"age\", colour = 1 }\nz = 3\n";
        let d = Columns::parse(text).unwrap_err();
        let lines: Vec<usize> = d.iter().map(|d| d.line).collect();
        assert_eq!(lines, [3, 4, 5, 6], "{d:?}");
        assert!(d[0].message.contains("unknown role \"shred\""), "{}", d[0].message);
        assert!(d[1].message.contains("band does not apply"), "{}", d[1].message);
        assert!(d[2].message.contains("unknown key \"colour\""), "{}", d[2].message);
    }

    #[test]
    fn unknown_top_level_keys_are_refused() {
        let d = Columns::parse("[columns]\na = \"keep\"\n[extra]\nb = 1\n").unwrap_err();
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("unknown field"), "{}", d[0].message);
    }
}
