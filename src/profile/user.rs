//! The TOML schemas: user profiles and kamei's built-in policy file `profiles/basic.toml`.
//!
//! Structure is checked by serde (`deny_unknown_fields`, types); the first structural error
//! stops parsing. Content (keywords, tags, actions, option names, values) is then checked
//! entry by entry and every problem is reported with its position, so `kamei profile check`
//! can list them all at once.

use super::error::Diagnostic;
use super::selector::{self, Selector};
use super::table::{self, RowTarget, Tables};
use super::{Action, DateShiftPolicy, DeidOption, Options};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use toml::Spanned;

/// One per-attribute rule from a profile text: a selector and its action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Override {
    /// What the rule applies to.
    pub selector: Selector,
    /// The action.
    pub action: Action,
}

/// A date shift section, possibly partial (a user profile may set one field).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DateShiftPatch {
    pub max_days: Option<u32>,
    pub keep_weekday: Option<bool>,
}

impl DateShiftPatch {
    /// `base` with the fields this patch sets replaced.
    pub(crate) fn apply(self, base: DateShiftPolicy) -> DateShiftPolicy {
        DateShiftPolicy {
            max_days: self.max_days.unwrap_or(base.max_days),
            keep_weekday: self.keep_weekday.unwrap_or(base.keep_weekday),
        }
    }
}

/// A validated user profile.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserLayer {
    /// Its declared name (`name = "..."`, checked by [`check_name`]): how the output and the
    /// audit name it, instead of its file name.
    pub name: Option<String>,
    /// The built-in profile it extends.
    pub extends: String,
    /// Options it enables.
    pub options: Options,
    /// Strict mode, if set.
    pub strict: Option<bool>,
    /// Date shift fields it sets.
    pub date_shift: DateShiftPatch,
    /// Private creators whose elements are all kept (trimmed).
    pub keep_private_creators: BTreeSet<String>,
    /// Per-attribute overrides, in file order.
    pub overrides: Vec<Override>,
}

/// kamei's policy for a built-in profile (`profiles/basic.toml`), validated.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// `[policy]` rules, in file order.
    pub rules: Vec<Override>,
    /// Remove every group length except (0002,0000).
    pub remove_group_lengths: bool,
    /// Structural removals.
    pub structural_remove: Vec<Selector>,
    /// Overlay group elements follow Overlay Data when it is removed.
    pub overlay_follow: bool,
    /// Overlay elements kept in strict mode when Overlay Data is not removed.
    pub overlay_keep_in_strict: Vec<Selector>,
    /// Group 0002 elements kept for the writer; the rest of group 0002 is removed.
    pub file_meta_keep: Vec<Selector>,
    /// The strict-mode allow-list.
    pub strict_keep: Vec<Selector>,
    /// Date shift defaults.
    pub date_shift: DateShiftPolicy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    name: Option<Spanned<String>>,
    extends: Option<Spanned<String>>,
    options: Option<Vec<Spanned<String>>>,
    strict: Option<bool>,
    keep_private_creators: Option<Vec<Spanned<String>>>,
    date_shift: Option<DateShiftFile>,
    overrides: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DateShiftFile {
    max_days: Option<Spanned<u32>>,
    keep_weekday: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicFile {
    table: Spanned<String>,
    safe_private: Spanned<String>,
    policy: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    structural: StructuralFile,
    strict: StrictFile,
    date_shift: BasicDateShift,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StructuralFile {
    remove_group_lengths: bool,
    remove: Vec<Spanned<String>>,
    overlay_groups_follow_overlay_data: bool,
    overlay_keep_in_strict: Vec<Spanned<String>>,
    file_meta_keep: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictFile {
    keep: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicDateShift {
    max_days: Spanned<u32>,
    keep_weekday: bool,
}

/// The largest date shift a profile may ask for, in days (about 100 years).
pub const MAX_SHIFT_DAYS: u32 = 36_525;

/// The action words of profiles, with the action each stands for (`replace` is a table).
pub(crate) const ACTION_WORDS: [(&str, Action); 8] = [
    ("keep", Action::Keep),
    ("remove", Action::Remove),
    ("empty", Action::Empty),
    ("dummy", Action::Dummy),
    ("clean", Action::Clean),
    ("uid", Action::ReplaceUid),
    ("pseudonymize", Action::Pseudonymize),
    ("shift-date", Action::ShiftDate),
];

/// Collects diagnostics against one text.
struct Sink<'a> {
    text: &'a str,
    diagnostics: Vec<Diagnostic>,
}

impl Sink<'_> {
    fn push(&mut self, offset: usize, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::at(self.text, offset, message));
    }

    fn finish<T>(mut self, value: T) -> Result<T, Vec<Diagnostic>> {
        if self.diagnostics.is_empty() {
            Ok(value)
        } else {
            self.diagnostics.sort_by_key(|d| (d.line, d.column));
            Err(self.diagnostics)
        }
    }
}

fn parse_toml<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, Vec<Diagnostic>> {
    toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let message = e.message().trim().trim_end_matches('.').to_string();
        vec![Diagnostic::at(text, offset, message)]
    })
}

/// Parse an action value: a word, or `{ replace = "..." }`.
fn parse_action(value: &toml::Value) -> Result<Action, String> {
    match value {
        toml::Value::String(word) => {
            ACTION_WORDS.iter().find(|(w, _)| w == word).map(|(_, a)| a.clone()).ok_or_else(|| {
                format!(
                    "unknown action {word:?}: expected one of keep, remove, empty, dummy, clean, \
                     uid, pseudonymize, shift-date or {{ replace = \"...\" }}"
                )
            })
        }
        toml::Value::Table(t) => {
            if t.len() != 1 || !t.contains_key("replace") {
                return Err("an action table must be exactly { replace = \"...\" }".into());
            }
            match t.get("replace") {
                Some(toml::Value::String(v)) => check_replace_value(v).map(|()| Action::Replace(v.clone())),
                _ => Err("the replace value must be a string".into()),
            }
        }
        other => Err(format!("expected an action word or {{ replace = \"...\" }}, found a {}", other.type_str())),
    }
}

/// Longest declared profile name: with the base profile and the digest it fits one LO value
/// of De-identification Method (0012,0063).
pub(crate) const MAX_NAME_LEN: usize = 24;

/// A declared profile name is written into every output and the audit, so it must be a short
/// plain handle (`research-v2`): 1 to [`MAX_NAME_LEN`] ASCII letters, digits, `-`, `_` or
/// `.`, starting with a letter or digit. The message does not repeat the value.
fn check_name(name: &str) -> Result<(), String> {
    let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let starts = name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if plain && starts && name.len() <= MAX_NAME_LEN {
        Ok(())
    } else {
        Err(format!(
            "name must be 1 to {MAX_NAME_LEN} ASCII letters, digits, '-', '_' or '.', starting with a letter or digit (it is written into every output)"
        ))
    }
}

/// A replacement value must be written the same in every character set: printable ASCII, and
/// no backslash (the DICOM value separator).
fn check_replace_value(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("the replace value is empty: use \"empty\" instead".into());
    }
    if !v.bytes().all(|b| (0x20..=0x7E).contains(&b)) || v.contains('\\') {
        return Err(
            "the replace value must be printable ASCII without a backslash (kamei writes it in any character set)"
                .into(),
        );
    }
    Ok(())
}

/// Why an override on this tag is not allowed, if it is not.
fn forbidden_reason(tag: Tag) -> Option<&'static str> {
    if tag.group() == 0x0002 {
        return Some("file meta information (group 0002) is written by kamei");
    }
    if tag.element() == 0x0000 {
        return Some("group lengths are always removed: they would be wrong after de-identification");
    }
    if tag == tags::SPECIFIC_CHARACTER_SET {
        return Some("specific character set is set by kamei to match the values it writes");
    }
    if [
        tags::PATIENT_IDENTITY_REMOVED,
        tags::DEIDENTIFICATION_METHOD,
        tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
        tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
    ]
    .contains(&tag)
    {
        return Some("this de-identification marker is written by kamei");
    }
    None
}

/// The patient's direct identifiers: a user profile may give them any action but `keep`.
/// Kept, they would go out as they are in files that say Patient Identity Removed YES; a site
/// that needs them does not need a de-identifier.
#[allow(deprecated)]
const DIRECT_IDENTIFIERS: [(Tag, &str); 20] = [
    (tags::PATIENT_NAME, "Patient's Name"),
    (tags::PATIENT_ID, "Patient ID"),
    (tags::PATIENT_BIRTH_DATE, "Patient's Birth Date"),
    (tags::OTHER_PATIENT_I_DS, "Other Patient IDs"),
    (tags::OTHER_PATIENT_I_DS_SEQUENCE, "Other Patient IDs Sequence"),
    (tags::OTHER_PATIENT_NAMES, "Other Patient Names"),
    (tags::PATIENT_BIRTH_NAME, "Patient's Birth Name"),
    (tags::PATIENT_MOTHER_BIRTH_NAME, "Patient's Mother's Birth Name"),
    (tags::PATIENT_ADDRESS, "Patient's Address"),
    (tags::PATIENT_TELEPHONE_NUMBERS, "Patient's Telephone Numbers"),
    (tags::MEDICAL_RECORD_LOCATOR, "Medical Record Locator"),
    (tags::PATIENT_TELECOM_INFORMATION, "Patient's Telecom Information"),
    (tags::PERSON_ADDRESS, "Person's Address"),
    (tags::PERSON_TELEPHONE_NUMBERS, "Person's Telephone Numbers"),
    (tags::RESPONSIBLE_PERSON, "Responsible Person"),
    (tags::REFERENCED_PATIENT_PHOTO_SEQUENCE, "Referenced Patient Photo Sequence"),
    (tags::NAME_TO_USE, "Name to Use"),
    (tags::PERSON_NAMES_TO_USE_SEQUENCE, "Person Names to Use Sequence"),
    (tags::ADMISSION_ID, "Admission ID"),
    (tags::PERSON_NAME, "Person Name"),
];

/// The identity of the instance and of its study and series: every output needs them, valid
/// and its own. A user profile may keep them or map them (`uid`), nothing else: removed or
/// emptied they make an invalid file whose file meta no longer matches it, a dummy or a fixed
/// value gives every output the same identity, and a new SOP Class UID says it is something
/// it is not.
fn identity_action_refused(sel: &Selector, action: &Action) -> Option<String> {
    let tags = sel.tags();
    if tags.contains(&tags::SOP_CLASS_UID) && *action != Action::Keep {
        return Some("the SOP Class UID says what the object is: only \"keep\" is allowed".into());
    }
    let identity = [tags::SOP_INSTANCE_UID, tags::STUDY_INSTANCE_UID, tags::SERIES_INSTANCE_UID];
    (tags.iter().any(|t| identity.contains(t)) && !matches!(action, Action::Keep | Action::ReplaceUid)).then(|| {
        "every output needs its own SOP Instance, Study and Series Instance UID: only \"keep\" or \"uid\" is allowed"
            .into()
    })
}

/// Why `keep` on this selector is refused, if it is: it names a direct identifier.
fn kept_identifier(sel: &Selector) -> Option<String> {
    let names: Vec<&str> =
        sel.tags().iter().filter_map(|t| DIRECT_IDENTIFIERS.iter().find(|(d, _)| d == t).map(|(_, n)| *n)).collect();
    (!names.is_empty()).then(|| {
        format!(
            "\"keep\" would release the patient's {} as it is, in files that say Patient Identity Removed; \
             give it another action (pseudonymize, replace, empty, remove, or shift-date for a date)",
            names.join(", ")
        )
    })
}

const BINARY_VRS: [VR; 17] = [
    VR::AT,
    VR::FD,
    VR::FL,
    VR::OB,
    VR::OD,
    VR::OF,
    VR::OL,
    VR::OV,
    VR::OW,
    VR::SL,
    VR::SQ,
    VR::SS,
    VR::SV,
    VR::UL,
    VR::UN,
    VR::US,
    VR::UV,
];
const TEXT_VRS: [VR; 8] = [VR::AE, VR::LO, VR::LT, VR::PN, VR::SH, VR::ST, VR::UC, VR::UT];

/// Whether `action` makes sense for a value of VR `vr`, its replacement value included (see
/// `check_action_vr`): for a private element, whose VR `profile check` cannot know, the
/// planner asks this of each value.
pub fn action_fits_vr(action: &Action, vr: VR) -> bool {
    check_action_vr(action, Some(vr)).is_ok()
}

/// Whether `action` makes sense for an attribute of VR `vr` (when the dictionary knows it).
fn check_action_vr(action: &Action, vr: Option<VR>) -> Result<(), String> {
    let Some(vr) = vr else { return Ok(()) };
    let ok = match action {
        Action::ReplaceUid => vr == VR::UI,
        Action::ShiftDate => matches!(vr, VR::DA | VR::DT),
        Action::Pseudonymize => TEXT_VRS.contains(&vr),
        Action::Replace(_) => !BINARY_VRS.contains(&vr),
        _ => true,
    };
    if ok {
        match action {
            Action::Replace(v) => check_replace_value_for_vr(v, vr),
            _ => Ok(()),
        }
    } else {
        let what = match action {
            Action::ReplaceUid => "uid applies only to UI attributes",
            Action::ShiftDate => "shift-date applies only to DA and DT attributes",
            Action::Pseudonymize => "pseudonymize applies only to text attributes (AE, LO, LT, PN, SH, ST, UC, UT)",
            _ => "replace applies only to text and number-string attributes",
        };
        Err(format!("{what}; this attribute is {}", vr.to_string()))
    }
}

/// Whether a `replace` value is a valid value of the attribute's VR (PS3.5 6.2): the output
/// must stay valid, so a date that is not a date or a code string too long is refused here,
/// with the profile's line, rather than written into every file.
fn check_replace_value_for_vr(value: &str, vr: VR) -> Result<(), String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let in_range = |s: &str, max: u32| s.parse::<u32>().is_ok_and(|n| n <= max);
    let time = |t: &str| {
        let (hms, fraction) = t.split_once('.').unwrap_or((t, ""));
        let pairs_ok = matches!(hms.len(), 2 | 4 | 6)
            && digits(hms)
            && in_range(&hms[..2], 23)
            && (hms.len() < 4 || in_range(&hms[2..4], 59))
            && (hms.len() < 6 || in_range(&hms[4..6], 60));
        pairs_ok && (fraction.is_empty() || (hms.len() == 6 && fraction.len() <= 6 && digits(fraction)))
    };
    let date = |d: &str| d.len() == 8 && digits(d) && chrono::NaiveDate::parse_from_str(d, "%Y%m%d").is_ok();
    let (ok, expected, max) = match vr {
        VR::DA => (date(value), "a date YYYYMMDD", 8),
        VR::TM => (time(value), "a time HHMMSS[.FFFFFF]", 14),
        VR::DT => {
            let (body, offset) = value.find(['+', '-']).map_or((value, ""), |i| value.split_at(i));
            let offset_ok = offset.is_empty() || (offset.len() == 5 && digits(&offset[1..]));
            let ok = offset_ok
                && match body.len() {
                    4 => digits(body),
                    6 => digits(body) && in_range(&body[4..6], 12),
                    n if n >= 8 => date(&body[..8]) && (n == 8 || time(&body[8..])),
                    _ => false,
                };
            (ok, "a date-time YYYYMMDDHHMMSS", 26)
        }
        VR::AS => {
            let ok =
                value.len() == 4 && digits(&value[..3]) && matches!(value.as_bytes()[3], b'D' | b'W' | b'M' | b'Y');
            (ok, "an age like 045Y", 4)
        }
        VR::IS => (value.trim().parse::<i32>().is_ok(), "an integer", 12),
        VR::DS => (value.trim().parse::<f64>().is_ok_and(f64::is_finite), "a decimal number", 16),
        VR::CS => {
            let ok = value.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ' || b == b'_');
            (ok, "upper-case letters, digits, space or _", 16)
        }
        VR::UI => (crate::shown::is_uid(value), "a UID (digits and dots)", 64),
        VR::AE | VR::SH => (true, "", 16),
        VR::LO | VR::PN => (true, "", 64),
        VR::ST => (true, "", 1024),
        VR::LT => (true, "", 10240),
        _ => (true, "", usize::MAX),
    };
    if !ok {
        return Err(format!("this attribute is {}: the replacement must be {expected}", vr.to_string()));
    }
    if value.chars().count() > max {
        return Err(format!(
            "this attribute is {}: the replacement is longer than its {max} characters",
            vr.to_string()
        ));
    }
    Ok(())
}

/// Whether the standard dictionary or Table E.1-1 knows the attribute(s) a selector names.
fn is_known(sel: &Selector, tables: &Tables) -> bool {
    let listed = tables.e1_1.iter().any(|r| r.target == RowTarget::Standard(sel.clone()));
    listed
        || match sel {
            Selector::Tag(t) => selector::in_dictionary(*t),
            Selector::RepeatingGroup { base, element } => selector::in_dictionary(Tag(*base, *element)),
            Selector::RepeatingElement { group, base } => selector::in_dictionary(Tag(*group, *base)),
            Selector::WholeRepeatingGroup { .. } => false,
            Selector::Private { .. } => true,
        }
}

/// Parse and check a standard (non-private) selector; `user` adds the override restrictions.
fn standard_selector(text: &str, tables: &Tables, user: bool) -> Result<Selector, String> {
    if let Some(reason) = private_hex_reason(text) {
        return Err(reason);
    }
    let sel = selector::parse(text)?;
    if user {
        for tag in sel.tags() {
            if let Some(reason) = forbidden_reason(tag) {
                return Err(format!("{sel} cannot be overridden: {reason}"));
            }
        }
    }
    if !matches!(sel, Selector::Private { .. }) && !is_known(&sel, tables) {
        return Err(format!("{sel} is not an attribute of the standard dictionary or of Table E.1-1"));
    }
    Ok(sel)
}

/// `(gggg,eeee)` with an odd group: private attributes are only addressable with their creator.
fn private_hex_reason(text: &str) -> Option<String> {
    let t = text.trim();
    if t.contains('"') || !t.starts_with('(') {
        return None;
    }
    let group = u16::from_str_radix(t.get(1..5)?, 16).ok()?;
    (group % 2 == 1).then(|| {
        format!(
            "{t} is in an odd group: private attributes are named with their creator, \
             (gggg,\"CREATOR\",ee)"
        )
    })
}

fn check_temporal(options: &Options) -> Result<(), String> {
    if options.contains(&DeidOption::RetainLongFullDates) && options.contains(&DeidOption::RetainLongModifiedDates) {
        Err(format!(
            "options {} and {} cannot be combined (PS3.15 E.3.6: mutually exclusive)",
            DeidOption::RetainLongFullDates,
            DeidOption::RetainLongModifiedDates
        ))
    } else {
        Ok(())
    }
}

/// Whether two options may be enabled together (PS3.15 E.3.6).
pub(crate) fn temporal_conflict(options: &Options) -> Option<(DeidOption, DeidOption)> {
    check_temporal(options).err().map(|_| (DeidOption::RetainLongFullDates, DeidOption::RetainLongModifiedDates))
}

/// The individual attributes (or whole groups) a selector names, as canonical strings, to find
/// two keys that name the same attribute.
fn atoms(sel: &Selector) -> Vec<String> {
    match sel {
        Selector::WholeRepeatingGroup { base } => {
            selector::repeating_groups(*base).map(|g| format!("({g:04X},xxxx)")).collect()
        }
        Selector::Private { .. } => vec![sel.to_string()],
        _ => sel.tags().into_iter().map(|t| Selector::Tag(t).to_string()).collect(),
    }
}

fn parse_overrides(
    map: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    tables: &Tables,
    user: bool,
    sink: &mut Sink<'_>,
) -> Vec<Override> {
    let mut entries: Vec<_> = map.into_iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for (key, value) in entries {
        let key_text = key.get_ref().as_str();
        let sel = match standard_selector(key_text, tables, user) {
            Ok(s) => s,
            Err(m) => {
                sink.push(key.span().start, m);
                continue;
            }
        };
        let atoms = atoms(&sel);
        if let Some(first) = atoms.iter().find_map(|a| seen.get(a)) {
            sink.push(key.span().start, format!("{key_text} names the same attribute as {first}"));
            continue;
        }
        for atom in atoms {
            seen.insert(atom, key_text.to_string());
        }
        let action = match parse_action(value.get_ref()) {
            Ok(a) => a,
            Err(m) => {
                sink.push(value.span().start, m);
                continue;
            }
        };
        if let Err(m) = check_action_vr(&action, sel.dictionary_vr()) {
            sink.push(value.span().start, format!("{key_text}: {m}"));
            continue;
        }
        if let (true, Action::Keep, Some(m)) = (user, &action, kept_identifier(&sel)) {
            sink.push(value.span().start, format!("{key_text}: {m}"));
            continue;
        }
        if let Some(m) = identity_action_refused(&sel, &action) {
            sink.push(value.span().start, format!("{key_text}: {m}"));
            continue;
        }
        out.push(Override { selector: sel, action });
    }
    out
}

/// Parse and check a user profile.
pub(crate) fn parse_user(text: &str, tables: &Tables) -> Result<UserLayer, Vec<Diagnostic>> {
    let file: UserFile = parse_toml(text)?;
    let mut sink = Sink { text, diagnostics: Vec::new() };
    let mut layer = UserLayer { extends: "basic".into(), ..UserLayer::default() };
    if let Some(name) = file.name {
        match check_name(name.get_ref()) {
            Ok(()) => layer.name = Some(name.get_ref().clone()),
            Err(m) => sink.push(name.span().start, m),
        }
    }
    if let Some(extends) = file.extends {
        if extends.get_ref() != "basic" {
            sink.push(
                extends.span().start,
                format!("unknown built-in profile {:?} (built-in profiles: basic)", extends.get_ref()),
            );
        }
        layer.extends = extends.into_inner();
    }
    for name in file.options.unwrap_or_default() {
        match DeidOption::from_name(name.get_ref()) {
            Some(option) => {
                layer.options.insert(option);
                if let Err(m) = check_temporal(&layer.options) {
                    sink.push(name.span().start, m);
                    layer.options.remove(&option);
                }
            }
            None => sink.push(
                name.span().start,
                format!(
                    "unknown option {:?}: expected one of {}",
                    name.get_ref(),
                    DeidOption::ALL.map(DeidOption::name).join(", ")
                ),
            ),
        }
    }
    layer.strict = file.strict;
    if let Some(ds) = file.date_shift {
        if let Some(days) = &ds.max_days {
            let d = *days.get_ref();
            let min = if ds.keep_weekday == Some(true) { 7 } else { 1 };
            if d < min || d > MAX_SHIFT_DAYS {
                sink.push(days.span().start, format!("max_days must be between {min} and {MAX_SHIFT_DAYS}"));
            }
        }
        layer.date_shift =
            DateShiftPatch { max_days: ds.max_days.map(Spanned::into_inner), keep_weekday: ds.keep_weekday };
    }
    for creator in file.keep_private_creators.unwrap_or_default() {
        let trimmed = creator.get_ref().trim_matches(|c| c == ' ' || c == '\0');
        if trimmed.is_empty() {
            sink.push(creator.span().start, "a private creator to keep is empty");
        } else {
            layer.keep_private_creators.insert(trimmed.to_string());
        }
    }
    layer.overrides = parse_overrides(file.overrides.unwrap_or_default(), tables, true, &mut sink);
    sink.finish(layer)
}

fn keyword_list(
    list: Vec<Spanned<String>>,
    tables: &Tables,
    sink: &mut Sink<'_>,
    accept: impl Fn(&Selector) -> bool,
    what: &str,
) -> Vec<Selector> {
    let mut out = Vec::new();
    for item in list {
        match standard_selector(item.get_ref(), tables, false) {
            Ok(sel) if accept(&sel) => out.push(sel),
            Ok(sel) => sink.push(item.span().start, format!("{sel} cannot be listed in {what}")),
            Err(m) => sink.push(item.span().start, m),
        }
    }
    out
}

/// Parse and check kamei's policy file for a built-in profile.
pub(crate) fn parse_basic(text: &str, tables: &Tables) -> Result<Policy, Vec<Diagnostic>> {
    let file: BasicFile = parse_toml(text)?;
    let mut sink = Sink { text, diagnostics: Vec::new() };
    if file.table.get_ref() != table::E1_1_NAME {
        sink.push(file.table.span().start, format!("the table must be {}", table::E1_1_NAME));
    }
    if file.safe_private.get_ref() != table::SAFE_PRIVATE_NAME {
        sink.push(
            file.safe_private.span().start,
            format!("the safe private table must be {}", table::SAFE_PRIVATE_NAME),
        );
    }
    let rules = parse_overrides(file.policy, tables, false, &mut sink);
    let s = file.structural;
    let single = |sel: &Selector| matches!(sel, Selector::Tag(_));
    let structural_remove = keyword_list(s.remove, tables, &mut sink, single, "structural.remove");
    let overlay = |sel: &Selector| matches!(sel, Selector::RepeatingGroup { base: 0x6000, .. });
    let overlay_keep_in_strict =
        keyword_list(s.overlay_keep_in_strict, tables, &mut sink, overlay, "structural.overlay_keep_in_strict");
    let meta = |sel: &Selector| matches!(sel, Selector::Tag(t) if t.group() == 0x0002);
    let file_meta_keep = keyword_list(s.file_meta_keep, tables, &mut sink, meta, "structural.file_meta_keep");
    let standard = |sel: &Selector| matches!(sel, Selector::Tag(_) | Selector::RepeatingGroup { .. });
    let strict_keep = keyword_list(file.strict.keep, tables, &mut sink, standard, "strict.keep");
    let days = *file.date_shift.max_days.get_ref();
    if days == 0 || days > MAX_SHIFT_DAYS {
        sink.push(file.date_shift.max_days.span().start, "max_days out of range");
    }
    sink.finish(Policy {
        rules,
        remove_group_lengths: s.remove_group_lengths,
        structural_remove,
        overlay_follow: s.overlay_groups_follow_overlay_data,
        overlay_keep_in_strict,
        file_meta_keep,
        strict_keep,
        date_shift: DateShiftPolicy { max_days: days, keep_weekday: file.date_shift.keep_weekday },
    })
}

/// Every private override of a user layer (the private form), as (group, creator, offset, action).
pub(crate) fn private_overrides(layer: &UserLayer) -> impl Iterator<Item = (u16, &str, u8, &Action)> {
    layer.overrides.iter().filter_map(|o| match &o.selector {
        Selector::Private { group, creator, offset } => Some((*group, creator.as_str(), *offset, &o.action)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::table::tables;

    fn user(text: &str) -> Result<UserLayer, Vec<Diagnostic>> {
        parse_user(text, tables().unwrap())
    }

    fn messages(text: &str) -> Vec<(usize, String)> {
        user(text).unwrap_err().into_iter().map(|d| (d.line, d.message)).collect()
    }

    #[test]
    fn builtin_policy_file_parses() {
        let p = parse_basic(table::BASIC_TOML, tables().unwrap()).unwrap();
        assert_eq!(p.date_shift, DateShiftPolicy { max_days: 365, keep_weekday: false });
        assert!(p.remove_group_lengths && p.overlay_follow);
        assert!(p.strict_keep.contains(&Selector::Tag(tags::PIXEL_DATA)));
        assert!(
            p.rules.contains(&Override { selector: Selector::Tag(tags::PATIENT_ID), action: Action::Pseudonymize })
        );
    }

    #[test]
    fn override_forms_parse() {
        let layer = user(
            r#"
[overrides]
StudyDescription = "keep"
"(0010,1010)" = "keep"
InstitutionName = { replace = "RESEARCH HOSPITAL" }
'(0009,"GEMS_IDEN_01",04)' = "keep"
AccessionNumber = "pseudonymize"
StudyDate = "shift-date"
"#,
        )
        .unwrap();
        let got: Vec<_> = layer.overrides.iter().map(|o| (o.selector.to_string(), o.action.clone())).collect();
        assert_eq!(
            got,
            vec![
                ("(0008,1030)".to_string(), Action::Keep),
                ("(0010,1010)".to_string(), Action::Keep),
                ("(0008,0080)".to_string(), Action::Replace("RESEARCH HOSPITAL".into())),
                ("(0009,\"GEMS_IDEN_01\",04)".to_string(), Action::Keep),
                ("(0008,0050)".to_string(), Action::Pseudonymize),
                ("(0008,0020)".to_string(), Action::ShiftDate),
            ]
        );
    }

    #[test]
    fn every_action_word_parses() {
        for (word, action) in ACTION_WORDS {
            let text = format!("[overrides]\n'(0009,\"X\",01)' = \"{word}\"\n");
            assert_eq!(user(&text).unwrap().overrides[0].action, action, "{word}");
        }
    }

    #[test]
    fn unknown_top_level_key_is_an_error() {
        let m = messages("extends = \"basic\"\nstrictness = true\n");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].0, 2);
        assert!(m[0].1.contains("unknown field"), "{}", m[0].1);
    }

    #[test]
    fn toml_syntax_error_has_its_position() {
        let d = user("options = [\"retain-uids\"]\nstrict = \n").unwrap_err();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, 2, "{:?}", d[0]);
    }

    #[test]
    fn unknown_date_shift_key_is_an_error() {
        assert!(user("[date_shift]\nmax_day = 10\n").is_err());
    }

    #[test]
    fn both_temporal_options_are_an_error() {
        let m = messages("options = [\"retain-long-full-dates\", \"retain-long-modified-dates\"]\n");
        assert_eq!(m.len(), 1);
        assert!(m[0].1.contains("mutually exclusive"));
    }

    #[test]
    fn unknown_option_is_an_error() {
        let m = messages("options = [\"retain-everything\"]\n");
        assert!(m[0].1.starts_with("unknown option \"retain-everything\""));
    }

    #[test]
    fn replace_values_must_be_printable_ascii_without_backslash() {
        for bad in ["caf\u{e9}", "A\\\\B", "", "tab\\there"] {
            let text = format!("[overrides]\nInstitutionName = {{ replace = \"{bad}\" }}\n");
            assert!(user(&text).is_err(), "{bad:?} should be rejected");
        }
        assert!(user("[overrides]\nInstitutionName = { replace = \"A-1 (x)\" }\n").is_ok());
    }

    #[test]
    fn replace_values_must_be_valid_for_the_attributes_vr() {
        let check = |key: &str, value: &str| user(&format!("[overrides]\n{key} = {{ replace = \"{value}\" }}\n"));
        for (key, bad) in [
            ("StudyDate", "notadate"),
            ("StudyDate", "20240230"),
            ("StudyTime", "xyz"),
            ("StudyTime", "2560"),
            ("PatientAge", "ABCD"),
            ("AcquisitionDateTime", "2024-01-01"),
            ("PatientSex", "female"),
            ("StationName", "A STATION NAME TOO LONG"),
            ("PatientWeight", "heavy"),
        ] {
            let e = check(key, bad).unwrap_err();
            assert!(e[0].message.contains("this attribute is"), "{key} = {bad}: {}", e[0].message);
        }
        for (key, good) in [
            ("StudyDate", "20240229"),
            ("StudyTime", "101500.25"),
            ("PatientAge", "045Y"),
            ("AcquisitionDateTime", "20240101101500"),
            ("PatientSex", "O"),
            ("StationName", "STATION 1"),
            ("PatientWeight", "70.5"),
        ] {
            assert!(check(key, good).is_ok(), "{key} = {good}");
        }
    }

    #[test]
    fn forbidden_overrides_report_a_reason() {
        for (key, reason) in [
            ("\"(0002,0013)\"", "file meta"),
            ("TransferSyntaxUID", "file meta"),
            ("SpecificCharacterSet", "character set"),
            ("PatientIdentityRemoved", "marker"),
            ("DeidentificationMethod", "marker"),
            ("DeidentificationMethodCodeSequence", "marker"),
            ("LongitudinalTemporalInformationModified", "marker"),
            ("\"(0008,0000)\"", "group length"),
        ] {
            let m = messages(&format!("[overrides]\n{key} = \"keep\"\n"));
            assert!(m[0].1.contains(reason), "{key}: {}", m[0].1);
        }
    }

    #[test]
    fn keeping_a_direct_identifier_is_refused_other_actions_are_not() {
        for key in [
            "PatientName",
            "PatientID",
            "PatientBirthDate",
            "OtherPatientIDsSequence",
            "PatientAddress",
            "PatientTelecomInformation",
            "NameToUse",
            "PersonNamesToUseSequence",
            "AdmissionID",
            "PersonName",
        ] {
            let m = messages(&format!("[overrides]\n{key} = \"keep\"\n"));
            assert!(m[0].1.contains("Patient Identity Removed"), "{key}: {}", m[0].1);
        }
        assert!(user("[overrides]\nPatientBirthDate = \"shift-date\"\n").is_ok());
        assert!(user("[overrides]\nPatientName = { replace = \"ANON\" }\n").is_ok());
    }

    #[test]
    fn the_instance_study_and_series_uids_can_only_be_kept_or_mapped_and_the_class_only_kept() {
        for (key, action) in [
            ("SOPInstanceUID", "\"remove\""),
            ("SOPInstanceUID", "\"empty\""),
            ("StudyInstanceUID", "{ replace = \"1.2.3\" }"),
            ("SeriesInstanceUID", "\"dummy\""),
            ("SOPClassUID", "\"uid\""),
            ("SOPClassUID", "\"remove\""),
        ] {
            let m = messages(&format!("[overrides]\n{key} = {action}\n"));
            assert!(m[0].1.contains("is allowed"), "{key} = {action}: {}", m[0].1);
        }
        for ok in ["SOPInstanceUID = \"keep\"", "StudyInstanceUID = \"uid\"", "SOPClassUID = \"keep\""] {
            assert!(user(&format!("[overrides]\n{ok}\n")).is_ok(), "{ok}");
        }
    }

    #[test]
    fn private_tags_need_the_creator_form() {
        let m = messages("[overrides]\n\"(0009,1004)\" = \"keep\"\n");
        assert!(m[0].1.contains("CREATOR"), "{}", m[0].1);
    }

    #[test]
    fn unknown_hex_tag_is_an_error() {
        let m = messages("[overrides]\n\"(0010,9999)\" = \"keep\"\n");
        assert!(m[0].1.contains("not an attribute"), "{}", m[0].1);
    }

    #[test]
    fn action_must_fit_the_vr() {
        for (key, action) in [
            ("StudyDescription", "\"uid\""),
            ("StudyDescription", "\"shift-date\""),
            ("ReferencedImageSequence", "{ replace = \"x\" }"),
            ("Rows", "\"pseudonymize\""),
        ] {
            assert!(user(&format!("[overrides]\n{key} = {action}\n")).is_err(), "{key} {action}");
        }
        assert!(user("[overrides]\nStudyInstanceUID = \"uid\"\nStudyDate = \"shift-date\"\n").is_ok());
    }

    #[test]
    fn two_keys_for_one_attribute_are_an_error() {
        let m = messages("[overrides]\nStudyDescription = \"keep\"\n\"(0008,1030)\" = \"remove\"\n");
        assert_eq!(m.len(), 1);
        assert!(m[0].1.contains("same attribute"));
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "\
extends = \"basic\"
options = [\"clean-descriptors\"]

[overrides]
StudyDescriptio = \"keep\"
InstitutionName = \"keepp\"
PatientAge = \"keep\"
";
        let m = messages(text);
        assert_eq!(m.len(), 2, "{m:?}");
        assert_eq!(m[0].0, 5);
        assert!(m[0].1.contains("unknown keyword \"StudyDescriptio\""));
        assert_eq!(m[1].0, 6);
        assert!(m[1].1.contains("unknown action \"keepp\""));
    }

    #[test]
    fn date_shift_fields_are_checked() {
        assert!(user("[date_shift]\nmax_days = 0\n").is_err());
        assert!(user("[date_shift]\nmax_days = 3\nkeep_weekday = true\n").is_err());
        let l = user("[date_shift]\nkeep_weekday = true\n").unwrap();
        assert_eq!(l.date_shift, DateShiftPatch { max_days: None, keep_weekday: Some(true) });
    }

    #[test]
    fn extends_only_builtin_names() {
        assert!(user("extends = \"basic\"\n").is_ok());
        assert!(user("extends = \"research\"\n").is_err());
    }
}
