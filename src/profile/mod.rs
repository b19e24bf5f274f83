//! De-identification profiles: which action applies to which attribute.
//!
//! The built-in profile is generated from DICOM PS3.15 Table E.1-1 (2026d) into `profiles/` and
//! embedded in the binary; a user profile (TOML) extends it with options, per-tag overrides and
//! private creators to keep. [`Profile`] is the loaded description; [`RuleSet`] is its compiled
//! form that the planner asks "what happens to this tag?".
//!
//! This module does no DICOM I/O and knows nothing of files being processed.

use dicom_core::Tag;
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
    /// A standard attribute the table does not list: kept, as the profile intends.
    Unlisted,
    /// Strict (allow-list) mode removed an attribute that is not explicitly kept.
    Strict,
    /// A private attribute: removed, or kept by Retain Safe Private / a kept private creator.
    Private,
    /// Structural: group lengths, overlay groups following Overlay Data, signatures.
    Structural,
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

#[allow(unused)]
fn _tag_is_used(_: Tag) {}
