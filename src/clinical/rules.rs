//! The SS-MIX2 rule table: for every segment, what happens to every field. Kept as data in
//! `profiles/ss-mix2.toml` (embedded at build time), like the DICOM profile, with the source of
//! each segment's rules; checked when loaded and by a test.
//!
//! The table is an allow-list: a field a segment does not list is removed, and a segment the
//! table does not name is removed whole.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use super::values::BirthPrecision;

/// The embedded table's text.
pub const SS_MIX2_TOML: &str = include_str!("../../profiles/ss-mix2.toml");

/// What happens to one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Kept byte for byte.
    Keep,
    /// Removed (emptied).
    Remove,
    /// PID-3: the patient's pseudonym.
    PatientId,
    /// XPN: removed, collected as the patient's (or a relative's) name.
    PersonName,
    /// XCN / NDL: removed, ID and name collected.
    StaffName,
    /// XON: removed, name collected.
    Organization,
    /// XAD: postal-code prefix, country and address type kept; the rest removed and collected.
    Address,
    /// XTN: removed, numbers collected.
    Phone,
    /// CX / ST identifier: removed, collected.
    Identifier,
    /// Generalised birth date.
    BirthDate,
    /// Shifted dates (with retain-long-modified-dates) in these components, else removed.
    ShiftDate {
        /// 1-based components holding a TS/DTM.
        components: Vec<usize>,
    },
    /// Keyed tokens for the entity identifiers in these components.
    Token {
        /// 1-based components holding an EI.
        components: Vec<usize>,
    },
    /// A DICOM UID mapped as `kamei deid` maps it.
    Uid,
    /// Free text: removed, or cleaned with clean-free-text.
    FreeText,
    /// OBX-5, by the value type in OBX-2.
    ObservationValue,
    /// Only these components are kept.
    KeepComponents(Vec<usize>),
}

impl Action {
    /// The action's word in the table and the audit log.
    pub fn word(&self) -> &'static str {
        match self {
            Action::Keep => "keep",
            Action::Remove => "remove",
            Action::PatientId => "patient-id",
            Action::PersonName => "person-name",
            Action::StaffName => "staff-name",
            Action::Organization => "organization",
            Action::Address => "address",
            Action::Phone => "phone",
            Action::Identifier => "identifier",
            Action::BirthDate => "birth-date",
            Action::ShiftDate { .. } => "shift-date",
            Action::Token { .. } => "token",
            Action::Uid => "uid",
            Action::FreeText => "free-text",
            Action::ObservationValue => "observation-value",
            Action::KeepComponents(_) => "keep-components",
        }
    }
}

/// The rules of one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRules {
    /// Where the rules come from.
    pub source: String,
    fields: BTreeMap<usize, Action>,
}

impl SegmentRules {
    /// The action for field `n`; unlisted fields are removed.
    pub fn action(&self, n: usize) -> &Action {
        self.fields.get(&n).unwrap_or(&Action::Remove)
    }

    /// Every listed field and its action.
    pub fn fields(&self) -> impl Iterator<Item = (usize, &Action)> {
        self.fields.iter().map(|(n, a)| (*n, a))
    }
}

/// What happens to OBX-5 for a value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRule {
    /// Kept.
    Keep,
    /// Free text.
    FreeText,
    /// A date (DR: both components).
    ShiftDate,
    /// Removed.
    Remove,
}

/// The whole table.
#[derive(Debug, Clone)]
pub struct RuleTable {
    segments: HashMap<String, SegmentRules>,
    values: HashMap<String, ValueRule>,
    /// How much of PID-7 is kept.
    pub birth_precision: BirthPrecision,
    sha256: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct TableFile {
    version: u32,
    birth_date: BirthSection,
    observation_value: ValueSection,
    segment: Vec<SegmentSection>,
    #[serde(default)]
    keep_components: BTreeMap<String, Vec<usize>>,
    #[serde(default)]
    shift_components: BTreeMap<String, Vec<usize>>,
    #[serde(default)]
    token_components: BTreeMap<String, Vec<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BirthSection {
    precision: BirthPrecision,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ValueSection {
    #[allow(dead_code)]
    source: String,
    keep: Vec<String>,
    free_text: Vec<String>,
    shift_date: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SegmentSection {
    name: String,
    source: String,
    #[serde(default)]
    keep: Vec<usize>,
    #[serde(default)]
    patient_id: Vec<usize>,
    #[serde(default)]
    person_name: Vec<usize>,
    #[serde(default)]
    staff_name: Vec<usize>,
    #[serde(default)]
    organization: Vec<usize>,
    #[serde(default)]
    address: Vec<usize>,
    #[serde(default)]
    phone: Vec<usize>,
    #[serde(default)]
    identifier: Vec<usize>,
    #[serde(default)]
    birth_date: Vec<usize>,
    #[serde(default)]
    shift_date: Vec<usize>,
    #[serde(default)]
    token: Vec<usize>,
    #[serde(default)]
    uid: Vec<usize>,
    #[serde(default)]
    free_text: Vec<usize>,
    #[serde(default)]
    observation_value: Vec<usize>,
}

fn field_key(key: &str) -> Result<(String, usize), String> {
    let (seg, n) = key.split_once('-').ok_or_else(|| format!("{key:?} is not SEG-N"))?;
    let n: usize = n.parse().map_err(|_| format!("{key:?} is not SEG-N"))?;
    Ok((seg.to_string(), n))
}

impl RuleTable {
    /// The built-in table (`profiles/ss-mix2.toml`).
    pub fn builtin() -> &'static RuleTable {
        static TABLE: LazyLock<RuleTable> =
            LazyLock::new(|| RuleTable::parse(SS_MIX2_TOML).expect("profiles/ss-mix2.toml is valid (tested)"));
        &TABLE
    }

    /// Parse a rule table.
    ///
    /// # Errors
    /// A message naming the segment or field: TOML errors, a field listed twice, a component
    /// list for a field that does not use it, an unknown segment in a component list, a kept
    /// OBX-5 value type whose values kamei cannot check.
    pub fn parse(text: &str) -> Result<RuleTable, String> {
        let file: TableFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if file.version != 1 {
            return Err(format!("version {} is not supported (expected 1)", file.version));
        }
        let mut segments = HashMap::new();
        for s in file.segment {
            if s.name.len() != 3 || !s.name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                return Err(format!("{:?} is not a segment name", s.name));
            }
            let mut fields = BTreeMap::new();
            let lists: [(&Vec<usize>, Action); 14] = [
                (&s.keep, Action::Keep),
                (&s.patient_id, Action::PatientId),
                (&s.person_name, Action::PersonName),
                (&s.staff_name, Action::StaffName),
                (&s.organization, Action::Organization),
                (&s.address, Action::Address),
                (&s.phone, Action::Phone),
                (&s.identifier, Action::Identifier),
                (&s.birth_date, Action::BirthDate),
                (&s.shift_date, Action::ShiftDate { components: vec![1] }),
                (&s.token, Action::Token { components: vec![1] }),
                (&s.uid, Action::Uid),
                (&s.free_text, Action::FreeText),
                (&s.observation_value, Action::ObservationValue),
            ];
            for (list, action) in lists {
                for &n in list {
                    if n == 0 {
                        return Err(format!("{}: field numbers start at 1", s.name));
                    }
                    if let Some(earlier) = fields.insert(n, action.clone()) {
                        return Err(format!("{}-{n} is listed under {} and {}", s.name, earlier.word(), action.word()));
                    }
                }
            }
            if segments.insert(s.name.clone(), SegmentRules { source: s.source, fields }).is_some() {
                return Err(format!("segment {} is listed twice", s.name));
            }
        }
        for (key, comps) in &file.keep_components {
            let (seg, n) = field_key(key)?;
            let rules = segments.get_mut(&seg).ok_or_else(|| format!("{key}: segment {seg} has no rules"))?;
            if let Some(a) = rules.fields.get(&n) {
                return Err(format!("{key} is listed under {} and keep-components", a.word()));
            }
            rules.fields.insert(n, Action::KeepComponents(comps.clone()));
        }
        for (table, want) in [(&file.shift_components, "shift-date"), (&file.token_components, "token")] {
            for (key, comps) in table {
                let (seg, n) = field_key(key)?;
                let rules = segments.get_mut(&seg).ok_or_else(|| format!("{key}: segment {seg} has no rules"))?;
                match rules.fields.get_mut(&n) {
                    Some(Action::ShiftDate { components } | Action::Token { components })
                        if comps.iter().all(|&c| c >= 1) =>
                    {
                        *components = comps.clone();
                    }
                    _ => return Err(format!("{key} has components listed but its action is not {want}")),
                }
            }
        }
        let mut values = HashMap::new();
        for (list, rule) in [
            (&file.observation_value.keep, ValueRule::Keep),
            (&file.observation_value.free_text, ValueRule::FreeText),
            (&file.observation_value.shift_date, ValueRule::ShiftDate),
        ] {
            for t in list {
                if values.insert(t.clone(), rule).is_some() {
                    return Err(format!("value type {t} is listed twice"));
                }
                // A kept value goes out byte for byte: only types whose values kamei can check
                // (super::hl7::datatype) may be kept.
                if rule == ValueRule::Keep && super::hl7::datatype::layout(t).is_none() {
                    return Err(format!("value type {t} cannot be kept: kamei has no check for its values"));
                }
            }
        }
        use sha2::Digest;
        let sha256 = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        Ok(RuleTable { segments, values, birth_precision: file.birth_date.precision, sha256 })
    }

    /// The rules of a segment; `None` if the table does not name it (it is removed).
    pub fn segment(&self, name: &str) -> Option<&SegmentRules> {
        self.segments.get(name)
    }

    /// What happens to OBX-5 with value type `value_type` (OBX-2).
    pub fn value_rule(&self, value_type: &str) -> ValueRule {
        self.values.get(value_type.trim()).copied().unwrap_or(ValueRule::Remove)
    }

    /// SHA-256 of the table's text (recorded in the audit log).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Every rule as `(field, action, source)` rows, sorted by segment and field, for
    /// `kamei clinical rules`.
    pub fn rows(&self) -> Vec<(String, String, String)> {
        let mut names: Vec<&String> = self.segments.keys().collect();
        names.sort();
        let mut rows = Vec::new();
        for name in names {
            let s = &self.segments[name];
            for (n, a) in s.fields() {
                let word = match a {
                    Action::KeepComponents(c)
                    | Action::ShiftDate { components: c }
                    | Action::Token { components: c }
                        if c.as_slice() != [1] =>
                    {
                        format!("{} {:?}", a.word(), c)
                    }
                    _ => a.word().to_string(),
                };
                rows.push((format!("{name}-{n}"), word, s.source.clone()));
            }
            rows.push((
                format!("{name}-*"),
                "remove".to_string(),
                "kamei policy: unlisted fields are removed".to_string(),
            ));
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_loads_and_says_what_the_issue_asks() {
        let t = RuleTable::builtin();
        let pid = t.segment("PID").unwrap();
        assert_eq!(pid.action(3), &Action::PatientId);
        for n in [5, 6, 9] {
            assert_eq!(pid.action(n), &Action::PersonName, "PID-{n}");
        }
        assert_eq!(pid.action(7), &Action::BirthDate);
        assert_eq!(pid.action(11), &Action::Address);
        assert_eq!(pid.action(13), &Action::Phone);
        assert_eq!(pid.action(14), &Action::Phone);
        assert_eq!(pid.action(33), &Action::ShiftDate { components: vec![1] });
        assert_eq!(pid.action(10), &Action::Remove);
        assert_eq!(pid.action(99), &Action::Remove);
        assert_eq!(t.segment("NK1").unwrap().action(2), &Action::PersonName);
        assert_eq!(t.segment("NK1").unwrap().action(13), &Action::Organization);
        assert_eq!(t.segment("PV1").unwrap().action(7), &Action::StaffName);
        assert_eq!(t.segment("PV1").unwrap().action(3), &Action::KeepComponents(vec![1]));
        assert_eq!(t.segment("ORC").unwrap().action(12), &Action::StaffName);
        assert_eq!(t.segment("IN1").unwrap().action(3), &Action::Identifier);
        assert_eq!(t.segment("IN1").unwrap().action(10), &Action::Identifier);
        assert_eq!(t.segment("OBX").unwrap().action(5), &Action::ObservationValue);
        assert_eq!(t.segment("NTE").unwrap().action(3), &Action::FreeText);
        assert_eq!(t.segment("SPM").unwrap().action(17), &Action::ShiftDate { components: vec![1, 2] });
        assert_eq!(t.segment("OBR").unwrap().action(29), &Action::Token { components: vec![1, 2] });
        assert!(t.segment("ZPR").is_none());
        assert_eq!(t.value_rule("NM"), ValueRule::Keep);
        assert_eq!(t.value_rule("TX"), ValueRule::FreeText);
        assert_eq!(t.value_rule("DT"), ValueRule::ShiftDate);
        assert_eq!(t.value_rule("ED"), ValueRule::Remove);
        assert_eq!(t.birth_precision, BirthPrecision::YearMonth);
        assert!(t.rows().iter().all(|(_, _, source)| !source.is_empty()));
    }

    #[test]
    fn a_field_under_two_actions_is_refused() {
        let text = SS_MIX2_TOML.replace("keep = [1, 8, 15,", "keep = [1, 3, 8, 15,");
        let err = RuleTable::parse(&text).unwrap_err();
        assert!(err.contains("PID-3"), "{err}");
    }

    #[test]
    fn a_kept_value_type_without_a_check_is_refused() {
        let text = SS_MIX2_TOML.replace("keep = [\"NM\",", "keep = [\"XPN\", \"NM\",");
        let err = RuleTable::parse(&text).unwrap_err();
        assert!(err.contains("XPN cannot be kept"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = SS_MIX2_TOML.replace("[[segment]]\nname = \"EVN\"", "[[segment]]\nname = \"EVN\"\nshred = [1]");
        assert!(RuleTable::parse(&text).unwrap_err().contains("shred"));
    }
}
