//! De-identification profiles: which action applies to which attribute.
//!
//! The built-in profile is generated from DICOM PS3.15 Table E.1-1 (2026d) into `profiles/` and
//! embedded in the binary; a user profile (TOML) extends it with options, per-tag overrides and
//! private creators to keep. [`Profile`] is the loaded description; [`RuleSet`] is its compiled
//! form that the planner asks "what happens to this tag?".
//!
//! This module does no DICOM I/O and knows nothing of files being processed. It reads a file
//! only in [`Profile::load`] and [`check`], to load a user profile.
//!
//! # Sources
//!
//! | embedded file | content |
//! | --- | --- |
//! | `profiles/ps3.15/e1-1.toml` | Table E.1-1 (657 rows, every option column), generated |
//! | `profiles/ps3.15/safe-private.toml` | Table E.3.10-1 (safe private attributes), generated |
//! | `profiles/ps3.15/cid-7050.toml` | CID 7050 (de-identification method codes), generated |
//! | `profiles/basic.toml` | kamei's policy for the built-in profile `basic`, hand-written |
//!
//! The first three are written by `profiles/generate.py` from the CSVs in
//! `../shared/dicom-standard` and must not be edited by hand; a unit test compares
//! `e1-1.toml` with the CSV whenever `../shared` is present.
//!
//! # User profiles
//!
//! A user profile is a TOML file. Every key is optional; unknown keys are errors.
//!
//! ```toml
//! # A short plain handle for this profile (1 to 24 ASCII letters, digits, '-', '_', '.'):
//! # written into De-identification Method (0012,0063) of every output and into the audit.
//! # Without it the profile is named by a digest of its text, never by its file name (a path
//! # can carry a site's or a person's name).
//! name = "research-v2"
//! # The built-in profile this one extends (default "basic", the only one so far).
//! extends = "basic"
//! # PS3.15 options, by their CLI names (DeidOption::name). The two Retain Longitudinal
//! # Temporal Information options are mutually exclusive (E.3.6).
//! options = ["retain-long-modified-dates", "clean-descriptors"]
//! # Strict mode: remove every standard attribute the table does not list unless it is in
//! # the built-in allow-list or an override below keeps it (default false).
//! strict = false
//! # Private creators whose elements are all kept (compared with the trimmed creator value).
//! keep_private_creators = ["SIEMENS CSA HEADER"]
//!
//! [date_shift]
//! # Dates of a patient move back by a keyed number of days in 1..=max_days (default 365).
//! max_days = 180
//! # Shift by whole weeks, so the day of the week is kept (default false; needs max_days >= 7).
//! keep_weekday = true
//!
//! # Per-attribute overrides: the last word, after the table, the options and kamei's policy.
//! # Keys: a keyword ("StudyDescription"), a tag "(gggg,eeee)" in hex, a repeating-group
//! # pattern "(60xx,3000)", or a private element '(gggg,"CREATOR",ee)' (ee = the element
//! # offset in the creator's block, as in TCIA's private tag knowledge base).
//! # Actions: "keep", "remove", "empty", "dummy", "clean", "uid" (keyed UID replacement),
//! # "pseudonymize" (keyed token), "shift-date", or { replace = "VALUE" }.
//! [overrides]
//! StudyDescription = "keep"
//! "(0010,1010)" = "keep"
//! InstitutionName = { replace = "RESEARCH HOSPITAL" }
//! '(0009,"GEMS_IDEN_01",04)' = "keep"
//! StudyDate = "shift-date"
//! ```
//!
//! Checked at load (every problem is reported with its line and column by [`check`]):
//! keywords must exist in the standard dictionary (`dicom-dictionary-std`) and hex tags in the
//! dictionary or Table E.1-1; a tag in an odd group needs the private form; a `replace` value
//! must be non-empty printable ASCII without `\` (kamei writes it in any character set);
//! `uid` needs a UI attribute, `shift-date` a DA or DT one, `pseudonymize` a text one and
//! `replace` a non-binary, non-sequence one; two keys may not name the same attribute.
//! Overrides are refused on group 0002 (file meta, written by kamei), on group lengths, on
//! Specific Character Set (0008,0005) and on the de-identification markers kamei writes
//! (0012,0062), (0012,0063), (0012,0064) and (0028,0303).
//!
//! # Resolution
//!
//! [`Profile::compile`] resolves, for each attribute, in this order (a later step replaces an
//! earlier one):
//!
//! 1. **Basic column** of Table E.1-1 (source [`RuleSource::Basic`]). Codes map to
//!    [`Action`]: K Keep, X Remove, Z Empty, D Dummy, C Clean, U ReplaceUid; the
//!    IOD-dependent codes Z/D, X/Z, X/D, X/Z/D and X/Z/U* become [`Action::Conditional`] for
//!    the planner to resolve against the IOD.
//! 2. **Options**: each enabled option with a cell in the row replaces the basic action
//!    ([`RuleSource::Option`]). When two enabled options give different actions, C beats K
//!    (e.g. Date of Last Calibration (0018,1200) with Retain Device Identity (K) and Retain
//!    Longitudinal Modified Dates (C) is C: shifted). `clean-pixel-data` and
//!    `clean-recognizable-visual-features` have no column: they are kept in
//!    [`Profile::options`] for the pixel stage and change no attribute rule.
//! 3. **kamei policy** from `profiles/basic.toml` ([`RuleSource::Policy`] /
//!    [`RuleSource::Structural`]): Patient ID and Patient's Name are pseudonymized;
//!    Encrypted Attributes Sequence and MAC Parameters Sequence are removed; every group length
//!    (gggg,0000) except (0002,0000) is removed; group 0002 keeps only the elements that
//!    describe the encoding (and (0002,0003) per the table).
//! 4. **User overrides** ([`RuleSource::Override`]): the last word.
//! 5. **Derived rules**: in each overlay group 6000-601E (even) whose Overlay Data resolved to
//!    Remove, every other element is removed too (a half-removed overlay is invalid), unless an
//!    override names it. Masked table rows apply to every matching group: (50xx,xxxx) to every
//!    element of groups 5000-501E even, (60xx,3000) and (60xx,4000) to groups 6000-601E even.
//!
//! An attribute the table does not list is kept ([`RuleSource::Unlisted`]) if the standard
//! dictionary knows it, and removed ([`RuleSource::Unknown`]) otherwise. In **strict mode** it
//! is removed ([`RuleSource::Strict`]) unless it is in the `[strict] keep` allow-list of
//! `basic.toml` or an override names it; attributes the table lists keep their table action
//! (Z, D, U, ... are explicit decisions). When Overlay Data is not removed in strict mode, the
//! overlay elements needed to decode it are kept.
//!
//! **Private data elements** ([`RuleSet::private_rule`]) are removed ([`RuleSource::Private`])
//! unless, checked in this order: (c) a private override names (group, creator, offset) -> that
//! action; (b) the creator is in `keep_private_creators` -> Keep; (a) Retain Safe Private is on
//! and (creator, group, offset) is in Table E.3.10-1 -> Keep. The creator is compared after
//! trimming spaces and NULs, case-sensitively; the group as the table gives it; the offset is
//! the low byte of the element. Without a creator the element is removed.
//!
//! # Example
//!
//! ```
//! use dicom_dictionary_std::tags;
//! use kamei::profile::{Action, DeidOption, Profile, RuleSource};
//!
//! let text = r#"
//! name = "research"
//! options = ["retain-uids"]
//! [overrides]
//! StudyDescription = "keep"
//! "#;
//! let mut profile = Profile::from_toml_str(text, "research.toml")?;
//! profile.add_options([DeidOption::CleanDescriptors])?;
//! let rules = profile.compile();
//! assert_eq!(profile.name(), "basic+research");
//! assert_eq!(rules.rule(tags::SOP_INSTANCE_UID).action, Action::Keep);
//! assert_eq!(rules.rule(tags::STUDY_DESCRIPTION).source, RuleSource::Override);
//! assert_eq!(rules.rule(tags::PATIENT_NAME).action, Action::Pseudonymize);
//! # Ok::<(), kamei::profile::ProfileError>(())
//! ```

mod error;
mod rules;
mod selector;
mod table;
mod user;

pub use error::{Diagnostic, ProfileError};
pub use rules::{Departure, RuleRow, RuleSet};
pub use user::{MAX_SHIFT_DAYS, action_fits_vr};

use error::{FindBuiltinSnafu, ReadProfileSnafu, ValidateProfileSnafu};
use sha2::{Digest, Sha256};
use snafu::ResultExt;
use std::path::Path;
use std::sync::LazyLock;
use table::Tables;
use user::{Policy, UserLayer};

use std::collections::BTreeSet;
use std::fmt;

/// One PS3.15 Annex E option, by its CLI name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeidOption {
    /// Retain Safe Private Option (113111).
    RetainSafePrivate,
    /// Retain UIDs Option (113110).
    RetainUids,
    /// Retain Device Identity Option (113109).
    RetainDeviceIdentity,
    /// Retain Institution Identity Option (113112).
    RetainInstitutionIdentity,
    /// Retain Patient Characteristics Option (113108).
    RetainPatientCharacteristics,
    /// Retain Longitudinal Temporal Information Full Dates Option (113106).
    RetainLongFullDates,
    /// Retain Longitudinal Temporal Information Modified Dates Option (113107).
    RetainLongModifiedDates,
    /// Clean Descriptors Option (113105).
    CleanDescriptors,
    /// Clean Structured Content Option (113104).
    CleanStructuredContent,
    /// Clean Graphics Option (113103).
    CleanGraphics,
    /// Clean Pixel Data Option (113101).
    CleanPixelData,
    /// Clean Recognizable Visual Features Option (113102).
    CleanRecognizableVisualFeatures,
}

/// What to do with one attribute (PS3.15 Table E.1-1a action codes plus kamei's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// K: keep (for a sequence: keep it and process its items).
    Keep,
    /// X: remove the attribute (a sequence with all its items).
    Remove,
    /// Z: replace with a zero-length value (a sequence: zero items).
    Empty,
    /// D: replace with a dummy value valid for the VR (a sequence: keep and process its items).
    Dummy,
    /// C: clean (dates shifted, text scrubbed, AE titles pseudonymized, sequences cleaned).
    Clean,
    /// U: replace a UID by its keyed mapping (`2.25.<128 bits>`).
    ReplaceUid,
    /// Replace by the keyed patient pseudonym (Patient ID, Patient Name) or a keyed token.
    Pseudonymize,
    /// Shift a date or datetime by the patient's offset.
    ShiftDate,
    /// Replace with this value (user override).
    Replace(String),
    /// An IOD-dependent code (Z/D, X/Z, X/D, X/Z/D, X/Z/U*), resolved by the planner.
    Conditional(Conditional),
}

/// The IOD-dependent action codes of Table E.1-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conditional {
    /// Z/D: Z unless D is required (Type 2 vs Type 1).
    ZD,
    /// X/Z: X unless Z is required (Type 3 vs Type 2).
    XZ,
    /// X/D: X unless D is required (Type 3 vs Type 1).
    XD,
    /// X/Z/D: X unless Z or D is required.
    XZD,
    /// X/Z/U*: X unless Z or replacement of contained UIDs is required (sequences).
    XZU,
}

/// Where a rule came from, for `profile show` and the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSource {
    /// The basic profile column of Table E.1-1.
    Basic,
    /// An option column of Table E.1-1.
    Option(DeidOption),
    /// kamei's built-in policy in `profiles/basic.toml` (e.g. pseudonymize Patient ID).
    Policy,
    /// A user profile override.
    Override,
    /// A user override `keep` on an attribute the profile keeps anyway without a decision (the
    /// inner source: an attribute the table does not list, a safe private attribute under
    /// Retain Safe Private, an element of a kept private creator, kamei's policy). It restates
    /// that keep and changes nothing: the value is planned as under the inner source, safety
    /// nets included, and the outputs still claim the profile. Shown as `override`.
    Restated(Box<RuleSource>),
    /// A standard attribute the table does not list: kept, as the profile intends.
    Unlisted,
    /// Strict (allow-list) mode removed an attribute that is not explicitly kept.
    Strict,
    /// A private attribute: removed, or kept by Retain Safe Private / a kept private creator.
    Private,
    /// Structural: group lengths, overlay groups following Overlay Data, signatures.
    Structural,
    /// A tag in an even group that neither Table E.1-1 nor the standard dictionary knows
    /// (a newer attribute or a vendor misusing a standard group): removed, since nothing says
    /// it is safe. Added by kamei's profile module.
    Unknown,
}

/// One resolved rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The action.
    pub action: Action,
    /// Why this action applies.
    pub source: RuleSource,
}

impl fmt::Display for DeidOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl DeidOption {
    /// Every option, in CLI order.
    pub const ALL: [DeidOption; 12] = [
        DeidOption::RetainSafePrivate,
        DeidOption::RetainUids,
        DeidOption::RetainDeviceIdentity,
        DeidOption::RetainInstitutionIdentity,
        DeidOption::RetainPatientCharacteristics,
        DeidOption::RetainLongFullDates,
        DeidOption::RetainLongModifiedDates,
        DeidOption::CleanDescriptors,
        DeidOption::CleanStructuredContent,
        DeidOption::CleanGraphics,
        DeidOption::CleanPixelData,
        DeidOption::CleanRecognizableVisualFeatures,
    ];

    /// The CLI name, e.g. `retain-uids`.
    pub fn name(self) -> &'static str {
        match self {
            DeidOption::RetainSafePrivate => "retain-safe-private",
            DeidOption::RetainUids => "retain-uids",
            DeidOption::RetainDeviceIdentity => "retain-device-identity",
            DeidOption::RetainInstitutionIdentity => "retain-institution-identity",
            DeidOption::RetainPatientCharacteristics => "retain-patient-characteristics",
            DeidOption::RetainLongFullDates => "retain-long-full-dates",
            DeidOption::RetainLongModifiedDates => "retain-long-modified-dates",
            DeidOption::CleanDescriptors => "clean-descriptors",
            DeidOption::CleanStructuredContent => "clean-structured-content",
            DeidOption::CleanGraphics => "clean-graphics",
            DeidOption::CleanPixelData => "clean-pixel-data",
            DeidOption::CleanRecognizableVisualFeatures => "clean-recognizable-visual-features",
        }
    }

    /// Parse a CLI name.
    pub fn from_name(name: &str) -> Option<DeidOption> {
        DeidOption::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// Date shift settings: every date of a patient moves back by one per-patient number of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateShiftPolicy {
    /// The largest shift, in days; shifts are drawn from 1..=max_days days into the past.
    pub max_days: u32,
    /// Shift by whole weeks only, so the day of the week is kept.
    pub keep_weekday: bool,
}

impl Default for DateShiftPolicy {
    fn default() -> Self {
        DateShiftPolicy { max_days: 365, keep_weekday: false }
    }
}

/// The set of options in effect.
pub type Options = BTreeSet<DeidOption>;

impl Action {
    /// The PS3.15 action code (`K`, `X`, `Z`, `D`, `C`, `U`, `Z/D`, `X/Z`, `X/D`, `X/Z/D`,
    /// `X/Z/U*`) or kamei's word for its own actions (`pseudonymize`, `shift-date`, `replace`;
    /// never the replacement value).
    pub fn code(&self) -> &'static str {
        match self {
            Action::Keep => "K",
            Action::Remove => "X",
            Action::Empty => "Z",
            Action::Dummy => "D",
            Action::Clean => "C",
            Action::ReplaceUid => "U",
            Action::Pseudonymize => "pseudonymize",
            Action::ShiftDate => "shift-date",
            Action::Replace(_) => "replace",
            Action::Conditional(Conditional::ZD) => "Z/D",
            Action::Conditional(Conditional::XZ) => "X/Z",
            Action::Conditional(Conditional::XD) => "X/D",
            Action::Conditional(Conditional::XZD) => "X/Z/D",
            Action::Conditional(Conditional::XZU) => "X/Z/U*",
        }
    }
}

impl fmt::Display for Action {
    /// Writes [`Action::code`]: a replacement value is never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl RuleSource {
    /// The source whose treatment a value gets: the inner source of a [`RuleSource::Restated`]
    /// keep, otherwise this one.
    pub fn effective(&self) -> &RuleSource {
        match self {
            RuleSource::Restated(inner) => inner.effective(),
            other => other,
        }
    }

    /// Whether a keep from this source is one no one chose for the attribute: the table does
    /// not list it (kept, as the profile intends), kamei's policy keeps it, or a private element
    /// kept by Retain Safe Private (Table E.3.10-1 says the attribute is safe, not this file's
    /// value) or a kept private creator. `deid` maps the UIDs of such values and passes them
    /// through its safety net; `kamei verify` checks the same values.
    pub fn is_unchosen_keep(&self) -> bool {
        matches!(
            self.effective(),
            RuleSource::Unlisted
                | RuleSource::Policy
                | RuleSource::Private
                | RuleSource::Option(DeidOption::RetainSafePrivate)
        )
    }
}

impl fmt::Display for RuleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleSource::Basic => f.write_str("basic"),
            RuleSource::Option(o) => write!(f, "option {o}"),
            RuleSource::Policy => f.write_str("policy"),
            RuleSource::Override | RuleSource::Restated(_) => f.write_str("override"),
            RuleSource::Unlisted => f.write_str("unlisted"),
            RuleSource::Strict => f.write_str("strict"),
            RuleSource::Private => f.write_str("private"),
            RuleSource::Structural => f.write_str("structural"),
            RuleSource::Unknown => f.write_str("unknown"),
        }
    }
}

/// The built-in profile names.
const BUILTINS: [&str; 1] = ["basic"];

/// Whether `name` is a built-in profile's name (`basic`): what a De-identification Method value
/// kamei writes names ([`Profile::method_label`]), so `kamei verify` can tell its own text.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

static POLICY: LazyLock<Result<Policy, String>> = LazyLock::new(|| {
    let tables = table::tables().map_err(|e| e.to_string())?;
    user::parse_basic(table::BASIC_TOML, tables)
        .map_err(|diagnostics| diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
});

fn policy() -> Result<&'static Policy, ProfileError> {
    match &*POLICY {
        Ok(p) => Ok(p),
        Err(message) => Err(ProfileError::LoadEmbedded { what: "basic.toml", message: message.clone() }),
    }
}

/// A loaded profile: the built-in table and policy, plus the layers a user profile and the
/// command line add (options, strict mode, date shift, overrides, private creators).
///
/// Compile it once with [`compile`](Self::compile) and share the [`RuleSet`].
///
/// # Example
///
/// ```
/// use kamei::profile::{DeidOption, Profile};
///
/// let mut profile = Profile::load("basic")?;
/// let before = profile.sha256();
/// profile.add_options([DeidOption::RetainUids])?;
/// profile.set_strict(true);
/// assert_ne!(profile.sha256(), before);
/// assert!(profile.compile().strict());
/// # Ok::<(), kamei::profile::ProfileError>(())
/// ```
#[derive(Clone)]
pub struct Profile {
    name: String,
    tables: &'static Tables,
    policy: &'static Policy,
    user: Option<UserLayer>,
    user_text: Option<String>,
    options: Options,
    strict: bool,
    date_shift: DateShiftPolicy,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("options", &self.options)
            .field("strict", &self.strict)
            .field("date_shift", &self.date_shift)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A user profile's name: its base and its declared `name` (`basic+research-v2`), or, without
/// one, its base and the first 12 hex digits of the SHA-256 of its text (`basic+user-3fa2b1c4d5e6`):
/// a handle that tells two profiles apart and names no site, person or path.
fn user_profile_name(layer: &user::UserLayer, text: &str) -> String {
    match &layer.name {
        Some(name) => format!("{}+{name}", layer.extends),
        None => format!("{}+user-{}", layer.extends, &hex::encode(Sha256::digest(text.as_bytes()))[..12]),
    }
}

fn check_options(options: &Options) -> Result<(), ProfileError> {
    match user::temporal_conflict(options) {
        Some((first, second)) => Err(ProfileError::CombineOptions { first, second }),
        None => Ok(()),
    }
}

impl Profile {
    /// A built-in profile by name; `"basic"` is the only one: PS3.15 Basic Profile plus
    /// kamei's policy, no options, not strict.
    ///
    /// # Errors
    ///
    /// [`ProfileError::FindBuiltin`] for another name; [`ProfileError::LoadEmbedded`] if the
    /// embedded data is broken (a build problem).
    pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
        if !BUILTINS.contains(&name) {
            return FindBuiltinSnafu { name }.fail();
        }
        let tables = table::tables()?;
        let policy = policy()?;
        Ok(Profile {
            name: name.to_string(),
            tables,
            policy,
            user: None,
            user_text: None,
            options: Options::new(),
            strict: false,
            date_shift: policy.date_shift,
        })
    }

    /// A built-in profile name, or the path of a user profile (TOML).
    ///
    /// A spec that is not a built-in name is read as a path if it has an extension, contains a
    /// path separator or exists.
    ///
    /// # Errors
    ///
    /// [`ProfileError::FindBuiltin`] for a name that is neither; [`ProfileError::ReadProfile`]
    /// if the file cannot be read; [`ProfileError::ValidateProfile`] if it is not valid.
    pub fn load(spec: &str) -> Result<Profile, ProfileError> {
        if BUILTINS.contains(&spec) {
            return Profile::builtin(spec);
        }
        let path = Path::new(spec);
        let is_path = path.extension().is_some()
            || spec.contains('/')
            || spec.contains(std::path::MAIN_SEPARATOR)
            || path.exists();
        if !is_path {
            return FindBuiltinSnafu { name: spec }.fail();
        }
        match profile_text(path)? {
            Ok(text) => Profile::from_toml_str(&text, spec),
            Err(diagnostic) => ValidateProfileSnafu { origin: spec, diagnostics: vec![diagnostic] }.fail(),
        }
    }

    /// A user profile from its TOML text; `origin` (usually the path) names it in errors only.
    /// The profile's name is the base profile and the declared `name`, or a digest of the text
    /// (`user_profile_name` in this module): never the file name, which goes into every output.
    ///
    /// # Errors
    ///
    /// [`ProfileError::ValidateProfile`] with every problem found (see the module doc for the
    /// format and checks); [`ProfileError::LoadEmbedded`] if the embedded data is broken.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let tables = table::tables()?;
        let layer = user::parse_user(text, tables)
            .map_err(|diagnostics| ProfileError::ValidateProfile { origin: origin.to_string(), diagnostics })?;
        let mut profile = Profile::builtin(&layer.extends)?;
        profile.name = user_profile_name(&layer, text);
        profile.options.extend(layer.options.iter().copied());
        check_options(&profile.options)?;
        profile.strict = layer.strict.unwrap_or(profile.strict);
        profile.date_shift = layer.date_shift.apply(profile.date_shift);
        profile.user = Some(layer);
        profile.user_text = Some(text.to_string());
        Ok(profile)
    }

    /// The profile's name: `basic`, or for a user profile the base and its handle
    /// (`basic+research-v2`, `basic+user-3fa2b1c4d5e6`: see `user_profile_name` in this module). Written into
    /// De-identification Method (0012,0063) and the audit, so it never holds a path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The method text of De-identification Method (0012,0063) after kamei's version, as LO
    /// values (each at most 64 characters): the profile's name with the first 12 hex digits of
    /// its digest, then one value per option in effect (`option clean-descriptors`).
    /// A profile whose rules keep more than Table E.1-1 allows ([`Departure`]) adds the value
    /// `departs from PS3.15 basic profile`. Clean Recognizable Visual Features is not listed:
    /// kamei accepts and audits that option but does nothing for it, and the method text
    /// claims only what was done.
    pub fn method_label(&self) -> String {
        let digest = self.sha256();
        let mut values = vec![format!("profile {} sha256:{}", self.name, &digest[..12])];
        values.extend(
            self.options
                .iter()
                .filter(|o| **o != DeidOption::CleanRecognizableVisualFeatures)
                .map(|o| format!("option {}", o.name())),
        );
        if !self.departures().is_empty() {
            values.push(DEPARTS_LABEL.to_string());
        }
        values.join("\\")
    }

    /// The user profile's rules that keep more than Table E.1-1 with the options in effect
    /// allows (see [`RuleSet::departures`]); empty for a built-in profile.
    pub fn departures(&self) -> Vec<Departure> {
        if self.user.is_none() {
            return Vec::new();
        }
        self.compile().departures().to_vec()
    }

    /// The user profile's `keep` rules on a standard date (a DA or DT attribute) that depart
    /// from the table ([`Departure`]) while the profile shifts the other dates (the option
    /// Retain Longitudinal Temporal Information with Modified Dates, or a `shift-date` rule):
    /// one real date released beside shifted ones gives the patient's shift away, hence every
    /// real date of the patient. Each as `profile show` names it (`(0008,0020)`); empty when
    /// there is none or nothing is shifted. `profile check` and `deid` warn about them.
    pub fn real_dates_beside_shifted(&self) -> Vec<String> {
        let Some(user) = &self.user else { return Vec::new() };
        let rules = self.compile();
        let shift = Action::ShiftDate.code();
        let shifts = self.options.contains(&DeidOption::RetainLongModifiedDates)
            || rules.rows().iter().any(|r| r.action == shift);
        if !shifts {
            return Vec::new();
        }
        let is_date = |t: &crate::dataset::Tag| {
            matches!(crate::dict::known_vr(*t), Some(crate::dataset::VR::DA | crate::dataset::VR::DT))
        };
        let departing: Vec<&str> =
            rules.departures().iter().filter(|d| d.user == Action::Keep.code()).map(|d| d.tag.as_str()).collect();
        user.overrides
            .iter()
            .filter(|o| o.action == Action::Keep && o.selector.tags().iter().any(is_date))
            .map(|o| o.selector.to_string())
            .filter(|t| departing.contains(&t.as_str()))
            .collect()
    }

    /// Hex SHA-256 over every source text that went into this profile (the generated tables,
    /// `basic.toml`, the user profile) and the settings changed since loading (options, strict
    /// mode, date shift), for the audit log: two runs with the same digest applied the same
    /// rules.
    pub fn sha256(&self) -> String {
        let mut h = Sha256::new();
        let mut part = |label: &str, bytes: &[u8]| {
            h.update(label.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        part("kamei-profile-v1", b"");
        part("ps3.15/e1-1.toml", table::E1_1_TOML.as_bytes());
        part("ps3.15/safe-private.toml", table::SAFE_PRIVATE_TOML.as_bytes());
        part("ps3.15/cid-7050.toml", table::CID_7050_TOML.as_bytes());
        part("basic.toml", table::BASIC_TOML.as_bytes());
        if let Some(text) = &self.user_text {
            part("user", text.as_bytes());
        }
        let options: Vec<&str> = self.options.iter().map(|o| o.name()).collect();
        part("options", options.join(",").as_bytes());
        part("strict", if self.strict { b"true" } else { b"false" });
        let ds = format!("{},{}", self.date_shift.max_days, self.date_shift.keep_weekday);
        part("date_shift", ds.as_bytes());
        hex::encode(h.finalize())
    }

    /// Enable more options (e.g. from the command line).
    ///
    /// # Errors
    ///
    /// [`ProfileError::CombineOptions`] if the result would hold both Retain Longitudinal
    /// Temporal Information options (PS3.15 E.3.6); the profile is then unchanged.
    pub fn add_options(&mut self, opts: impl IntoIterator<Item = DeidOption>) -> Result<(), ProfileError> {
        let mut next = self.options.clone();
        next.extend(opts);
        check_options(&next)?;
        self.options = next;
        Ok(())
    }

    /// Turn strict (allow-list) mode on or off.
    pub fn set_strict(&mut self, strict: bool) {
        self.strict = strict;
    }

    /// Replace the date shift settings.
    pub fn set_date_shift(&mut self, policy: DateShiftPolicy) {
        self.date_shift = policy;
    }

    /// The options in effect.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Whether strict mode is on.
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// The date shift settings.
    pub fn date_shift(&self) -> DateShiftPolicy {
        self.date_shift
    }

    /// Resolve every rule (see the module doc) into a [`RuleSet`] for fast lookups.
    pub fn compile(&self) -> RuleSet {
        rules::compile(&rules::Inputs {
            tables: self.tables,
            policy: self.policy,
            user: self.user.as_ref(),
            options: &self.options,
            strict: self.strict,
            date_shift: self.date_shift,
        })
    }
}

/// The value De-identification Method (0012,0063) gains when the profile departs from Table
/// E.1-1 ([`Profile::method_label`]).
pub const DEPARTS_LABEL: &str = "departs from PS3.15 basic profile";

/// The CID 7050 code (code value, code meaning) for the De-identification Method Code
/// Sequence: `None` is the Basic Application Confidentiality Profile (113100), `Some(option)`
/// the option's code (113101-113112). Scheme designator: `DCM`. Read from the generated
/// `profiles/ps3.15/cid-7050.toml`.
///
/// # Panics
///
/// Only if the embedded CID 7050 data lacks a code, which a unit test rules out.
///
/// # Example
///
/// ```
/// assert_eq!(
///     kamei::profile::method_code(None),
///     ("113100", "Basic Application Confidentiality Profile")
/// );
/// ```
pub fn method_code(option: Option<DeidOption>) -> (&'static str, &'static str) {
    let value = table::cid_code_value(option);
    let meaning = table::tables()
        .ok()
        .and_then(|t| t.cid_7050.iter().find(|c| c.value == value))
        .map(|c| c.meaning.as_str())
        .expect("the embedded CID 7050 table lists codes 113100-113112 (unit-tested)");
    (value, meaning)
}

/// The CID 7050 code (value and meaning, as the embedded table gives them) whose Code Value
/// is `value`, if CID 7050 has one: how kamei reads the method codes an input already carries
/// from an earlier de-identification, writing them back with the standard's meaning rather
/// than the earlier tool's text.
pub fn cid_7050_code(value: &str) -> Option<(&'static str, &'static str)> {
    let tables = table::tables().ok()?;
    tables.cid_7050.iter().find(|c| c.value == value).map(|c| (c.value.as_str(), c.meaning.as_str()))
}

/// Validate a user profile file: every problem with its 1-based line and column; an empty list
/// means the profile is valid.
///
/// # Errors
///
/// [`ProfileError::ReadProfile`] if the file cannot be read; [`ProfileError::LoadEmbedded`] if
/// the embedded data is broken.
pub fn check(path: &Path) -> Result<Vec<Diagnostic>, ProfileError> {
    let text = match profile_text(path)? {
        Ok(text) => text,
        Err(diagnostic) => return Ok(vec![diagnostic]),
    };
    let tables = table::tables()?;
    Ok(user::parse_user(&text, tables).err().unwrap_or_default())
}

/// A profile file's text, or where it stops being UTF-8 (TOML is UTF-8 only; a comment typed
/// in an editor that saves Shift_JIS is the usual cause), so the user is told which line to fix.
fn profile_text(path: &Path) -> Result<Result<String, Diagnostic>, ProfileError> {
    // Only a regular file, of a bounded size ([`crate::setting_file`]): `/dev/zero` or a FIFO
    // given by mistake would be read until memory runs out or wait for ever.
    let bytes = crate::setting_file::read(path).context(ReadProfileSnafu { path })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Ok(text)),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // `valid` is UTF-8 by construction.
            let before = std::str::from_utf8(valid).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
            let message = "the file is not UTF-8 text from here on (an editor saved it in another encoding, e.g. Shift_JIS): save it as UTF-8".to_string();
            Ok(Err(Diagnostic { line, column, message }))
        }
    }
}

#[cfg(test)]
mod tests;
