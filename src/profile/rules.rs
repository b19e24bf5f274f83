//! The compiled form of a profile: a [`RuleSet`] answers "what happens to this tag?" with one
//! hash lookup and no allocation.
//!
//! [`compile`] applies the precedence documented in the module doc of `profile`; nothing here
//! parses text.

use super::selector::{self, Selector, repeating_groups};
use super::table::{RowTarget, TableRow, Tables};
use super::user::{Policy, UserLayer, private_overrides};
use super::{Action, DateShiftPolicy, DeidOption, Options, Rule, RuleSource};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A fast hasher for tag keys (u32 `gggg_eeee`, u16 groups); DoS resistance is not needed, the
/// keys come from the profile, not from files.
#[derive(Default, Clone, Copy)]
struct TagHasher(u64);

impl Hasher for TagHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b) ^ self.0.rotate_left(8));
        }
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        let x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29);
    }
}

type TagMap<K, V> = HashMap<K, V, BuildHasherDefault<TagHasher>>;

fn key(tag: Tag) -> u32 {
    (u32::from(tag.group()) << 16) | u32::from(tag.element())
}

/// One line of `kamei profile show`: a listed attribute or pattern and its effective action.
///
/// # Example
///
/// ```
/// let rules = kamei::profile::Profile::builtin("basic")?.compile();
/// let row = rules.rows().into_iter().find(|r| r.tag == "(0008,0050)").unwrap();
/// assert_eq!((row.name.as_str(), row.action.as_str(), row.source.as_str()), ("Accession Number", "Z", "basic"));
/// # Ok::<(), kamei::profile::ProfileError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    /// The tag or pattern: `(0008,0050)`, `(60xx,3000)`, `(0009,"GEMS_IDEN_01",04)`,
    /// `(gggg,eeee) where gggg is odd`, ...
    pub tag: String,
    /// The attribute name as Table E.1-1 publishes it, else the dictionary keyword or a
    /// description of the pattern.
    pub name: String,
    /// The action: a PS3.15 code (`X`, `Z/D`, ...) or a kamei word (`pseudonymize`,
    /// `shift-date`, `replace`).
    pub action: String,
    /// Where the action comes from: `basic`, `option <name>`, `policy`, `override`, ...
    pub source: String,
}

/// A user profile rule that keeps more of the original than Table E.1-1 (with the options in
/// effect) allows: `keep` where the table removes or replaces, `clean` or `shift-date` where it
/// removes or replaces, or a private creator kept whole. An output made under such a profile
/// does not conform to the Basic Application Confidentiality Profile, so kamei does not claim
/// it (no code 113100 in De-identification Method Code Sequence) and says so in the method
/// text. Stricter rules (remove, empty, dummy, a replacement value) never depart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    /// The attribute or pattern, as in `profile show`: `(0008,1030)`, `(gggg,"ACME 1.0",xx)`.
    pub tag: String,
    /// What the table (with options and kamei's policy) does there: `X`, `Z`, `C`, ...
    pub table: String,
    /// What the user profile does instead: `K`, `C`, `shift-date`.
    pub user: String,
}

/// How much of the original value an action lets through: 0 all of it (keep), 1 part of it
/// (clean, shift-date), 2 none (remove, empty, dummy, replace, UID mapping, pseudonym).
fn retained(action: &Action) -> u8 {
    match action {
        Action::Keep => 0,
        Action::Clean | Action::ShiftDate => 1,
        _ => 2,
    }
}

/// [`retained`] for an action on an attribute that is a sequence (`sequence`), as the planner
/// applies it to a present sequence: kept, 0 (items by their own rules); cleaned (clean,
/// shift-date, pseudonymize) or X/Z/U* (UIDs replaced, items by their own rules), 1; a dummy (D, and the
/// Z/D, X/D, X/Z/D a present sequence resolves to), 2: the items stay but every unlisted text
/// value in them gets a dummy too, which removes more than cleaning does (Content Sequence's
/// report text); removed or emptied (X, Z, X/Z), 3: nothing.
fn retained_in(action: &Action, sequence: bool) -> u8 {
    use super::Conditional as C;
    if !sequence {
        return retained(action);
    }
    match action {
        Action::Keep => 0,
        Action::Clean | Action::ShiftDate | Action::Pseudonymize | Action::Conditional(C::XZU) => 1,
        Action::Dummy | Action::Conditional(C::ZD | C::XD | C::XZD) => 2,
        _ => 3,
    }
}

/// Whether the planner carries out `action` on Overlay Data by removing it: X, or a clean or
/// date shift, which remove a binary value they cannot look inside.
fn removes_a_bitmap(action: &Action) -> bool {
    matches!(action, Action::Remove | Action::Clean | Action::ShiftDate)
}

/// Rules for the elements of one private creator.
#[derive(Debug, Clone, Default)]
struct CreatorRules {
    /// Every element of this creator is kept (`keep_private_creators`).
    keep_all: Option<Rule>,
    /// Rules by `(group << 8) | offset`: safe private attributes and private overrides.
    by_slot: TagMap<u32, Rule>,
    /// Groups in which some element of this creator may be kept, so its creator element stays.
    groups_with_kept: HashSet<u16>,
}

/// A compiled profile: what happens to each tag. Build it with
/// [`Profile::compile`](super::Profile::compile).
///
/// It owns all its data (`Send + Sync`); share it by reference across worker threads. Lookups
/// ([`rule`](Self::rule), [`private_rule`](Self::private_rule)) do no allocation and return a
/// reference into the set.
///
/// # Example
///
/// ```
/// use dicom_dictionary_std::tags;
/// use kamei::profile::{Action, Profile, RuleSource};
///
/// let rules = Profile::builtin("basic")?.compile();
/// assert_eq!(rules.rule(tags::ACCESSION_NUMBER).action, Action::Empty);
/// assert_eq!(rules.rule(tags::PATIENT_ID).source, RuleSource::Policy);
/// # Ok::<(), kamei::profile::ProfileError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RuleSet {
    exact: TagMap<u32, Rule>,
    groups: TagMap<u16, Rule>,
    private: HashMap<String, CreatorRules>,
    /// The VR Table E.3.10-1 gives each safe private attribute, by creator and slot: an
    /// Implicit VR file does not send it.
    private_vrs: HashMap<String, TagMap<u32, VR>>,
    /// The basic profile column of Table E.1-1 by tag, before options, policy and overrides.
    table_basic: TagMap<u32, Action>,
    options: Options,
    strict: bool,
    date_shift: DateShiftPolicy,
    rows: Vec<RuleRow>,
    departures: Vec<Departure>,
    group_length: Rule,
    unlisted: Rule,
    strict_remove: Rule,
    strict_registered: Rule,
    unknown: Rule,
    private_remove: Rule,
    private_keep: Rule,
}

impl RuleSet {
    /// The rule for a standard data element: any non-private tag, including repeating groups
    /// (50xx, 60xx), group lengths and group 0002. A tag in an odd group is treated as a private
    /// element whose creator is unknown (removed); use [`private_rule`](Self::private_rule) for
    /// private elements.
    pub fn rule(&self, tag: Tag) -> &Rule {
        let (group, element) = (tag.group(), tag.element());
        if group % 2 == 1 {
            return self.private_rule(tag, None);
        }
        if let Some(rule) = self.exact.get(&key(tag)) {
            return rule;
        }
        if element == 0 {
            return &self.group_length;
        }
        if let Some(rule) = self.groups.get(&group) {
            return rule;
        }
        if self.strict && crate::dict::names_registered_uid(tag) {
            &self.strict_registered
        } else if self.strict {
            &self.strict_remove
        } else if selector::in_dictionary(tag) {
            &self.unlisted
        } else {
            &self.unknown
        }
    }

    /// The rule for a private data element `(gggg,xxee)`, where `creator` is the value of its
    /// Private Creator element `(gggg,00xx)` (trimmed; it is trimmed again here), or `None` if
    /// the data set has no creator for its block.
    ///
    /// For a Private Creator element itself `(gggg,0010-00FF)`, pass its own value: it is kept
    /// when some element of its block may be kept (the planner may still drop it when its block
    /// ends up empty). Elements that PS3.5 7.8.1 does not allow (`(gggg,0001-000F)`,
    /// `(gggg,0100-0FFF)`, groups 0001-0007 and FFFF) are removed. An even group is passed on to
    /// [`rule`](Self::rule).
    pub fn private_rule(&self, tag: Tag, creator: Option<&str>) -> &Rule {
        let (group, element) = (tag.group(), tag.element());
        if group % 2 == 0 {
            return self.rule(tag);
        }
        if element == 0 {
            return &self.group_length;
        }
        if !selector::is_private_group(group) || element < 0x10 || (0x100..0x1000).contains(&element) {
            return &self.private_remove;
        }
        let Some(creator) = creator else {
            return &self.private_remove;
        };
        let creator = creator.trim_matches(|c| c == ' ' || c == '\0');
        let Some(rules) = self.private.get(creator) else {
            return &self.private_remove;
        };
        if element <= 0xFF {
            return if rules.keep_all.is_some() || rules.groups_with_kept.contains(&group) {
                &self.private_keep
            } else {
                &self.private_remove
            };
        }
        let slot = (u32::from(group) << 8) | u32::from(element & 0xFF);
        rules.by_slot.get(&slot).or(rules.keep_all.as_ref()).unwrap_or(&self.private_remove)
    }

    /// The VR Table E.3.10-1 gives a private attribute `(gggg,xxee)` of `creator`, if it lists
    /// one with a single VR. An Implicit VR file does not send private VRs, so kamei reads such
    /// values as UN; with this the planner treats them as their table VR, as in Explicit VR.
    pub fn private_vr(&self, tag: Tag, creator: &str) -> Option<VR> {
        let creator = creator.trim_matches(|c| c == ' ' || c == '\0');
        let slot = (u32::from(tag.group()) << 8) | u32::from(tag.element() & 0xFF);
        self.private_vrs.get(creator)?.get(&slot).copied()
    }

    /// The basic profile action Table E.1-1 gives a standard attribute (`Z/D` for Content
    /// Date), whatever the options, policy and overrides make of it; `None` when the table does
    /// not list it. The planner reads it where a value cannot take the effective action (a date
    /// that cannot be shifted): whether the table allows for the attribute being Type 1.
    pub fn table_basic(&self, tag: Tag) -> Option<&Action> {
        self.table_basic.get(&key(tag))
    }

    /// The options in effect.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Whether strict (allow-list) mode is on.
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// The date shift settings.
    pub fn date_shift(&self) -> DateShiftPolicy {
        self.date_shift
    }

    /// Every listed attribute or pattern with its effective action, in tag order (standard
    /// attributes, then private ones, then the defaults for everything not listed); for
    /// `kamei profile show`.
    pub fn rows(&self) -> Vec<RuleRow> {
        self.rows.clone()
    }

    /// The user profile's rules that keep more than the table allows ([`Departure`]), in
    /// profile order; empty for a built-in profile. Non-empty means outputs do not claim the
    /// Basic Application Confidentiality Profile.
    pub fn departures(&self) -> &[Departure] {
        &self.departures
    }
}

/// Sort key of a row: (class, group, element, text). Class 0 = standard, 1 = private,
/// 2 = defaults.
type RowKey = (u8, u16, u16, String);

struct Builder {
    exact: TagMap<u32, Rule>,
    groups: TagMap<u16, Rule>,
    rows: BTreeMap<RowKey, RuleRow>,
}

fn row_text(rule: &Rule) -> (String, String) {
    (rule.action.code().to_string(), rule.source.to_string())
}

impl Builder {
    fn set_row(&mut self, key: RowKey, tag: String, name: impl FnOnce() -> String, rule: &Rule) {
        let (action, source) = row_text(rule);
        self.rows
            .entry(key)
            .and_modify(|r| {
                r.action.clone_from(&action);
                r.source.clone_from(&source);
            })
            .or_insert_with(|| RuleRow { tag, name: name(), action, source });
    }

    /// Apply `rule` to every tag `sel` names, replacing what an earlier layer said.
    fn apply(&mut self, sel: &Selector, rule: &Rule, name: Option<&str>) {
        match sel {
            Selector::WholeRepeatingGroup { base } => {
                for g in repeating_groups(*base) {
                    self.groups.insert(g, rule.clone());
                }
            }
            Selector::Private { .. } => return,
            _ => {
                for tag in sel.tags() {
                    self.exact.insert(key(tag), rule.clone());
                }
            }
        }
        let (g, e) = sel.sort_key();
        let name = || name.map(str::to_string).or_else(|| sel.keyword().map(str::to_string)).unwrap_or_default();
        self.set_row((0, g, e, sel.to_string()), sel.to_string(), name, rule);
    }
}

/// The table action of one row under `options`: the basic column, unless an enabled option
/// has a cell; among enabled options, C beats K.
pub(crate) fn resolve_row(row: &TableRow, options: &Options) -> Rule {
    let mut chosen: Option<(DeidOption, &Action)> = None;
    for (option, _, action) in &row.options {
        if !options.contains(option) {
            continue;
        }
        match chosen {
            None => chosen = Some((*option, action)),
            Some((_, previous)) => {
                if *action == Action::Clean && *previous != Action::Clean {
                    chosen = Some((*option, action));
                }
            }
        }
    }
    match chosen {
        Some((option, action)) => Rule { action: action.clone(), source: RuleSource::Option(option) },
        None => Rule { action: row.basic.clone(), source: RuleSource::Basic },
    }
}

fn rule(action: Action, source: RuleSource) -> Rule {
    Rule { action, source }
}

/// Everything [`compile`] needs.
pub(crate) struct Inputs<'a> {
    pub tables: &'a Tables,
    pub policy: &'a Policy,
    pub user: Option<&'a UserLayer>,
    pub options: &'a Options,
    pub strict: bool,
    pub date_shift: DateShiftPolicy,
}

/// Build the rule set: table (basic column, then options), policy and structural rules, user
/// overrides, then the derived rules (overlay groups, strict allow-list, private creators).
pub(crate) fn compile(inp: &Inputs<'_>) -> RuleSet {
    let mut b = Builder { exact: TagMap::default(), groups: TagMap::default(), rows: BTreeMap::new() };
    let private_remove = rule(Action::Remove, RuleSource::Private);

    // 1. Table E.1-1: basic column, then enabled options (C beats K).
    let mut private_row = None;
    let mut table_basic = TagMap::default();
    for row in &inp.tables.e1_1 {
        let r = resolve_row(row, inp.options);
        match &row.target {
            RowTarget::Standard(sel) => {
                for tag in sel.tags() {
                    table_basic.insert(key(tag), row.basic.clone());
                }
                b.apply(sel, &r, Some(&row.name))
            }
            RowTarget::Private => private_row = Some((row, r)),
        }
    }
    if let Some((row, r)) = private_row {
        let r = if r.action == Action::Remove { private_remove.clone() } else { r };
        b.set_row((1, 0, 0, String::new()), row.published.clone(), || row.name.clone(), &r);
    }

    // 2. kamei policy and structural rules.
    let policy = inp.policy;
    for o in &policy.rules {
        b.apply(&o.selector, &rule(o.action.clone(), RuleSource::Policy), None);
    }
    let structural_remove = rule(Action::Remove, RuleSource::Structural);
    let structural_keep = rule(Action::Keep, RuleSource::Structural);
    // Command elements (PS3.7) have no place in a stored data set: only a damaged tag puts a
    // value there, and it can be anything, so the planner removes every one, including the
    // few Table E.1-1 lists (Requested SOP Instance UID, U); the rows say so.
    for row in &inp.tables.e1_1 {
        if let RowTarget::Standard(sel) = &row.target {
            if !sel.tags().is_empty() && sel.tags().iter().all(|t| t.group() == 0x0000) {
                b.apply(sel, &structural_remove, None);
            }
        }
    }
    b.groups.insert(0x0000, structural_remove.clone());
    b.set_row(
        (0, 0x0000, 0xFFFF, String::new()),
        "(0000,xxxx)".into(),
        || "Command elements inside a data set".into(),
        &structural_remove,
    );
    for sel in &policy.file_meta_keep {
        b.apply(sel, &structural_keep, None);
    }
    b.groups.insert(0x0002, structural_remove.clone());
    b.set_row(
        (0, 0x0002, 0xFFFF, String::new()),
        "(0002,xxxx)".into(),
        || "Other file meta information elements".into(),
        &structural_remove,
    );
    for sel in &policy.structural_remove {
        b.apply(sel, &structural_remove, None);
    }
    let group_length = if policy.remove_group_lengths { structural_remove.clone() } else { structural_keep.clone() };
    b.set_row(
        (2, 0, 0, String::new()),
        "(gggg,0000)".into(),
        || "Group lengths (except (0002,0000))".into(),
        &group_length,
    );

    // 3. User overrides (standard attributes; private ones below). An override that keeps
    //    more than the rule it replaces is a departure from the table.
    let mut departures = Vec::new();
    if let Some(user) = inp.user {
        for o in &user.overrides {
            if let Some(before) = b.departed_rule(&o.selector, &o.action) {
                departures.push(Departure {
                    tag: o.selector.to_string(),
                    table: before.code().to_string(),
                    user: o.action.code().to_string(),
                });
            }
            let source = b.restated(&o.selector, &o.action).unwrap_or(RuleSource::Override);
            b.apply(&o.selector, &rule(o.action.clone(), source), None);
        }
    }

    // 4. Overlay groups follow Overlay Data when it is removed; in strict mode an overlay that
    //    stays keeps the elements needed to decode it. Overlay Data is a bitmap: cleaning it
    //    (Clean Graphics) removes it, as the planner removes every binary value it cleans, and
    //    its group goes with it, so the rules and the rows say X for every element of the group.
    let mut removed_overlays = Vec::new();
    for g in repeating_groups(0x6000) {
        let data_key = key(Tag(g, tags::OVERLAY_DATA.inner().element()));
        let data = b.exact.get(&data_key).map(|r| r.action.clone());
        if policy.overlay_follow && data.as_ref().is_some_and(removes_a_bitmap) {
            b.groups.insert(g, structural_remove.clone());
            for (k, r) in b.exact.iter_mut().filter(|(k, _)| (*k >> 16) as u16 == g) {
                if r.action != Action::Remove {
                    let source = if *k == data_key { r.source.clone() } else { RuleSource::Structural };
                    *r = rule(Action::Remove, source);
                }
            }
            removed_overlays.push(g);
        } else if inp.strict {
            for sel in &policy.overlay_keep_in_strict {
                let (_, element) = sel.sort_key();
                b.exact.entry(key(Tag(g, element))).or_insert_with(|| structural_keep.clone());
            }
        }
    }
    b.overlay_rows_removed(&removed_overlays);
    if removed_overlays.len() == 16 {
        b.set_row(
            (0, 0x6000, 0xFFFF, String::new()),
            "(60xx,eeee)".into(),
            || "Overlay group elements (follow Overlay Data)".into(),
            &structural_remove,
        );
    } else {
        for g in removed_overlays {
            b.set_row(
                (0, g, 0xFFFF, String::new()),
                format!("({g:04X},eeee)"),
                || "Overlay group elements (follow Overlay Data)".into(),
                &structural_remove,
            );
        }
    }

    // 5. Strict mode: unlisted attributes are removed unless allow-listed.
    let default_keep = rule(Action::Keep, RuleSource::Unlisted);
    let strict_remove = rule(Action::Remove, RuleSource::Strict);
    if inp.strict {
        let allowed = rule(Action::Keep, RuleSource::Policy);
        for sel in &policy.strict_keep {
            let mut any_new = false;
            for tag in sel.tags() {
                if let std::collections::hash_map::Entry::Vacant(v) = b.exact.entry(key(tag)) {
                    v.insert(allowed.clone());
                    any_new = true;
                }
            }
            if any_new {
                b.apply_row_only(sel, &allowed);
            }
        }
    }
    // A UID that names a registered class, syntax or scheme (Referenced SOP Class UID in every
    // reference macro, Transfer Syntax UID...) identifies no one and is Type 1 wherever it is
    // used, so strict mode keeps it; the planner refuses a file whose value is not a UID.
    let strict_registered = rule(Action::Keep, RuleSource::Policy);
    if inp.strict {
        b.set_row(
            (2, 0, 1, String::new()),
            "(gggg,eeee)".into(),
            || "Any UID attribute naming a registered class, syntax or scheme (strict mode)".into(),
            &strict_registered,
        );
    }
    let (default_rule, default_name) = if inp.strict {
        (&strict_remove, "Any other standard attribute (strict mode)")
    } else {
        (&default_keep, "Any other standard attribute in the dictionary")
    };
    b.set_row((2, 1, 0, String::new()), "(gggg,eeee)".into(), || default_name.into(), default_rule);
    if !inp.strict {
        unlisted_value_rows(&mut b, inp.options);
    }
    let unknown = rule(Action::Remove, RuleSource::Unknown);
    if !inp.strict {
        b.set_row(
            (2, 2, 0, String::new()),
            "(gggg,eeee)".into(),
            || "Any other even-group element unknown to the dictionary".into(),
            &unknown,
        );
    }

    // Even groups 5020-50FE and 6020-60FE are outside the repeating groups PS3.5 7.6 allows;
    // the dictionary still resolves them to curve/overlay attributes, so without this they would
    // be kept as unlisted. They are removed as unknown.
    for base in [0x5000u16, 0x6000] {
        for low in (0x20u16..=0xFE).step_by(2) {
            b.groups.entry(base | low).or_insert_with(|| unknown.clone());
        }
    }

    // 6. Private elements.
    let mut private_vrs: HashMap<String, TagMap<u32, VR>> = HashMap::new();
    for row in &inp.tables.safe_private {
        let (group, offset) = row.slot();
        if let [a, b] = row.vr.as_bytes() {
            if let Some(vr) = VR::from_binary([*a, *b]) {
                let slot = (u32::from(group) << 8) | u32::from(offset);
                private_vrs.entry(row.creator.clone()).or_default().insert(slot, vr);
            }
        }
    }
    let mut private: HashMap<String, CreatorRules> = HashMap::new();
    if inp.options.contains(&DeidOption::RetainSafePrivate) {
        let keep = rule(Action::Keep, RuleSource::Option(DeidOption::RetainSafePrivate));
        for row in &inp.tables.safe_private {
            let (group, offset) = row.slot();
            let slot = (u32::from(group) << 8) | u32::from(offset);
            private.entry(row.creator.clone()).or_default().by_slot.insert(slot, keep.clone());
            let tag = format!("({group:04X},\"{}\",{offset:02X})", row.creator);
            b.set_row((1, group, u16::from(offset), row.creator.clone()), tag, || row.name.clone(), &keep);
        }
    }
    let private_keep = rule(Action::Keep, RuleSource::Private);
    if let Some(user) = inp.user {
        for creator in &user.keep_private_creators {
            departures.push(Departure {
                tag: format!("(gggg,\"{creator}\",xx)"),
                table: private_remove.action.code().to_string(),
                user: private_keep.action.code().to_string(),
            });
            private.entry(creator.clone()).or_default().keep_all = Some(private_keep.clone());
            b.set_row(
                (1, 0xFFFF, 0, creator.clone()),
                format!("(gggg,\"{creator}\",xx)"),
                || "Every element of this private creator".into(),
                &private_keep,
            );
        }
        for (group, creator, offset, action) in private_overrides(user) {
            let slot = (u32::from(group) << 8) | u32::from(offset);
            let kept_before = private.get(creator).and_then(|c| c.by_slot.get(&slot).or(c.keep_all.as_ref()));
            let before = kept_before.unwrap_or(&private_remove);
            let r = rule(action.clone(), restated_keep(before, action).unwrap_or(RuleSource::Override));
            if retained(action) < retained(&before.action) {
                departures.push(Departure {
                    tag: format!("({group:04X},\"{creator}\",{offset:02X})"),
                    table: before.action.code().to_string(),
                    user: action.code().to_string(),
                });
            }
            private.entry(creator.to_string()).or_default().by_slot.insert(slot, r.clone());
            let tag = format!("({group:04X},\"{creator}\",{offset:02X})");
            b.set_row((1, group, u16::from(offset), creator.to_string()), tag, || "Private attribute".into(), &r);
        }
    }
    for rules in private.values_mut() {
        let kept: HashSet<u16> = rules
            .by_slot
            .iter()
            .filter(|(_, r)| r.action != Action::Remove)
            .map(|(slot, _)| (slot >> 8) as u16)
            .collect();
        rules.groups_with_kept = kept;
    }

    RuleSet {
        exact: b.exact,
        groups: b.groups,
        private,
        private_vrs,
        table_basic,
        options: inp.options.clone(),
        strict: inp.strict,
        date_shift: inp.date_shift,
        rows: b.rows.into_values().collect(),
        departures,
        group_length,
        unlisted: default_keep,
        strict_remove,
        strict_registered,
        unknown,
        private_remove,
        private_keep,
    }
}

/// Rows (for `profile show` only) that say what the planner does with an unlisted value by
/// its VR, since the default row says `K unlisted`: a date follows the profile's dates
/// (kept under Retain Longitudinal Full Dates, shifted under Modified Dates, else a dummy), a
/// person's name gets a dummy, and a UID is mapped (kept under Retain UIDs) unless it names a
/// registered class, syntax or scheme.
fn unlisted_value_rows(b: &mut Builder, options: &Options) {
    let date = if options.contains(&DeidOption::RetainLongFullDates) {
        Action::Keep
    } else if options.contains(&DeidOption::RetainLongModifiedDates) {
        Action::ShiftDate
    } else {
        Action::Dummy
    };
    let uid = if options.contains(&DeidOption::RetainUids) { Action::Keep } else { Action::ReplaceUid };
    let rows: [(u16, Action, &str); 3] = [
        (2, date, "Any other DA or DT attribute in the dictionary (follows the profile's dates)"),
        (3, Action::Dummy, "Any other PN attribute in the dictionary"),
        (4, uid, "Any other UI attribute in the dictionary, except one naming a registered class, syntax or scheme"),
    ];
    for (slot, action, name) in rows {
        b.set_row(
            (2, 0, slot, String::new()),
            "(gggg,eeee)".into(),
            || name.into(),
            &rule(action, RuleSource::Unlisted),
        );
    }
}

impl Builder {
    /// The action in force on a tag `sel` names that lets through less than `action` would
    /// (see [`retained`]), if any: what an override with `action` departs from. Tags not yet
    /// ruled are unlisted and kept, so nothing departs there.
    fn departed_rule(&self, sel: &Selector, action: &Action) -> Option<Action> {
        let sequence = {
            let tags = sel.tags();
            !tags.is_empty() && tags.iter().all(|t| crate::dict::known_vr(*t) == Some(VR::SQ))
        };
        let stronger = |r: &Rule| retained_in(action, sequence) < retained_in(&r.action, sequence);
        match sel {
            Selector::WholeRepeatingGroup { base } => repeating_groups(*base)
                .find_map(|g| self.groups.get(&g).filter(|r| stronger(r)).map(|r| r.action.clone())),
            Selector::Private { .. } => None,
            _ => sel.tags().into_iter().find_map(|tag| {
                let ruled = self.exact.get(&key(tag)).or_else(|| self.groups.get(&tag.group()));
                ruled.filter(|r| stronger(r)).map(|r| r.action.clone())
            }),
        }
    }

    /// The source of a user `keep` on `sel` that restates what the profile does anyway
    /// ([`RuleSource::Restated`]): every tag it names is kept without a decision, by the rule
    /// in force or, not yet ruled and in the dictionary, as an unlisted attribute (in strict
    /// mode too: a keep there adds to the allow-list, whose values keep the safety nets).
    /// `None` for any other action or when some tag is ruled otherwise.
    fn restated(&self, sel: &Selector, action: &Action) -> Option<RuleSource> {
        if *action != Action::Keep || matches!(sel, Selector::WholeRepeatingGroup { .. } | Selector::Private { .. }) {
            return None;
        }
        let unlisted = rule(Action::Keep, RuleSource::Unlisted);
        let mut inner: Option<RuleSource> = None;
        for tag in sel.tags() {
            let ruled = self.exact.get(&key(tag)).or_else(|| self.groups.get(&tag.group()));
            let before = match ruled {
                Some(r) => r,
                None if selector::in_dictionary(tag) => &unlisted,
                None => return None,
            };
            let source = restated_keep(before, action)?;
            if inner.as_ref().is_some_and(|i| *i != source) {
                return None;
            }
            inner = Some(source);
        }
        inner
    }

    /// Rows of overlay elements in the `removed` groups (a pattern row `(60xx,eeee)` only when
    /// every overlay group is removed) that still show an action other than X: X, from the same
    /// source for Overlay Data (a bitmap its option's C removes) and `structural` for the rest.
    fn overlay_rows_removed(&mut self, removed: &[u16]) {
        let all = removed.len() == 16;
        for ((class, group, element, _), row) in &mut self.rows {
            let pattern = row.tag.starts_with("(60xx,");
            let applies = *class == 0 && if pattern { all } else { removed.contains(group) };
            if !applies || row.action == Action::Remove.code() {
                continue;
            }
            row.action = Action::Remove.code().to_string();
            if *element != tags::OVERLAY_DATA.inner().element() {
                row.source = RuleSource::Structural.to_string();
            }
        }
    }

    /// Add or update the row of `sel` without touching the lookup maps.
    fn apply_row_only(&mut self, sel: &Selector, rule: &Rule) {
        let (g, e) = sel.sort_key();
        let name = || sel.keyword().map(str::to_string).unwrap_or_default();
        self.set_row((0, g, e, sel.to_string()), sel.to_string(), name, rule);
    }
}

/// The source a user `action` on an attribute ruled `before` takes when it restates a keep the
/// profile makes without a decision ([`RuleSource::is_unchosen_keep`]): `keep` over such a keep.
fn restated_keep(before: &Rule, action: &Action) -> Option<RuleSource> {
    let unchosen = before.action == Action::Keep && before.source.is_unchosen_keep();
    (*action == Action::Keep && unchosen).then(|| RuleSource::Restated(Box::new(before.source.effective().clone())))
}
