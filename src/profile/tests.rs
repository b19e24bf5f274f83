//! Resolution tests: profile text x options -> rule per tag (K24). Literal tags are allowed
//! here (K17).

use super::*;
use dicom_core::Tag;
use dicom_dictionary_std::tags;

fn basic() -> Profile {
    Profile::builtin("basic").unwrap()
}

fn with(options: &[DeidOption]) -> RuleSet {
    let mut p = basic();
    p.add_options(options.iter().copied()).unwrap();
    p.compile()
}

fn user(text: &str) -> Profile {
    Profile::from_toml_str(text, "test.toml").unwrap()
}

fn r(action: Action, source: RuleSource) -> Rule {
    Rule { action, source }
}

#[test]
fn builtin_basic_loads() {
    let p = Profile::load("basic").unwrap();
    assert_eq!(p.name(), "basic");
    assert!(p.options().is_empty());
    assert!(!p.strict());
    assert_eq!(p.date_shift(), DateShiftPolicy { max_days: 365, keep_weekday: false });
}

#[test]
fn unknown_builtin_name_is_an_error() {
    assert!(matches!(Profile::load("research"), Err(ProfileError::FindBuiltin { .. })));
    assert!(matches!(Profile::builtin("strict"), Err(ProfileError::FindBuiltin { .. })));
}

#[test]
fn basic_column_codes_resolve_to_actions() {
    let rules = basic().compile();
    let cases = [
        (Tag(0x0008, 0x0050), Action::Empty),
        (Tag(0x0010, 0x0030), Action::Empty),
        (Tag(0x0008, 0x0018), Action::ReplaceUid),
        (Tag(0x0008, 0x1140), Action::Conditional(Conditional::XZU)),
        (Tag(0x0008, 0x0080), Action::Conditional(Conditional::XZD)),
        (Tag(0x0020, 0x000D), Action::ReplaceUid),
        (Tag(0x0008, 0x1030), Action::Remove),
        (Tag(0x0010, 0x0040), Action::Empty),
    ];
    for (tag, action) in cases {
        assert_eq!(rules.rule(tag), &r(action, RuleSource::Basic), "{tag}");
    }
}

#[test]
fn each_option_flips_its_rows() {
    use DeidOption::*;
    let cases = [
        (RetainUids, Tag(0x0008, 0x0018), Action::Keep),
        (RetainUids, Tag(0x0008, 0x1140), Action::Keep),
        (RetainLongModifiedDates, Tag(0x0008, 0x0020), Action::Clean),
        (RetainLongFullDates, Tag(0x0008, 0x0020), Action::Keep),
        (CleanDescriptors, Tag(0x0008, 0x1030), Action::Clean),
        (RetainDeviceIdentity, Tag(0x0018, 0x1000), Action::Keep),
        (RetainDeviceIdentity, Tag(0x0008, 0x0055), Action::Clean),
        (RetainInstitutionIdentity, Tag(0x0008, 0x0080), Action::Keep),
        (RetainPatientCharacteristics, Tag(0x0010, 0x1010), Action::Keep),
        (CleanStructuredContent, Tag(0x0040, 0x0555), Action::Clean),
        (CleanGraphics, Tag(0x0070, 0x0001), Action::Clean),
    ];
    for (option, tag, action) in cases {
        let rules = with(&[option]);
        assert_eq!(rules.rule(tag), &r(action, RuleSource::Option(option)), "{option} {tag}");
        // The same option leaves a row without a cell for it alone.
        assert_eq!(rules.rule(Tag(0x0008, 0x0050)).source, RuleSource::Basic, "{option}");
    }
}

#[test]
fn clean_beats_keep_between_options() {
    use DeidOption::*;
    let tag = Tag(0x0018, 0x1200); // Date of Last Calibration: device K, full dates K, modified C
    assert_eq!(with(&[RetainDeviceIdentity]).rule(tag).action, Action::Keep);
    for options in [[RetainDeviceIdentity, RetainLongModifiedDates], [RetainLongModifiedDates, RetainDeviceIdentity]] {
        assert_eq!(with(&options).rule(tag), &r(Action::Clean, RuleSource::Option(RetainLongModifiedDates)));
    }
}

#[test]
fn pixel_options_change_no_attribute_rule() {
    let plain = basic().compile().rows();
    let rules = with(&[DeidOption::CleanPixelData, DeidOption::CleanRecognizableVisualFeatures]);
    assert!(rules.options().contains(&DeidOption::CleanPixelData));
    assert_eq!(rules.rows(), plain);
}

#[test]
fn policy_pseudonymizes_patient_id_and_name_whatever_the_options() {
    let rules = with(&[DeidOption::RetainPatientCharacteristics, DeidOption::RetainUids]);
    for tag in [tags::PATIENT_ID, tags::PATIENT_NAME] {
        assert_eq!(rules.rule(tag), &r(Action::Pseudonymize, RuleSource::Policy));
    }
    assert_eq!(rules.rule(tags::ENCRYPTED_ATTRIBUTES_SEQUENCE), &r(Action::Remove, RuleSource::Policy));
}

#[test]
fn signatures_and_padding_are_removed() {
    let rules = basic().compile();
    assert_eq!(rules.rule(Tag(0x4FFE, 0x0001)), &r(Action::Remove, RuleSource::Structural));
    assert_eq!(rules.rule(Tag(0xFFFA, 0xFFFA)), &r(Action::Remove, RuleSource::Basic));
    assert_eq!(rules.rule(Tag(0xFFFC, 0xFFFC)), &r(Action::Remove, RuleSource::Basic));
}

#[test]
fn masked_rows_apply_to_every_repeating_group() {
    let rules = basic().compile();
    for g in [0x6000, 0x6002, 0x601E] {
        assert_eq!(rules.rule(Tag(g, 0x3000)), &r(Action::Remove, RuleSource::Basic));
        assert_eq!(rules.rule(Tag(g, 0x4000)), &r(Action::Remove, RuleSource::Basic));
    }
    for g in [0x5000, 0x5010, 0x501E] {
        assert_eq!(rules.rule(Tag(g, 0x0005)), &r(Action::Remove, RuleSource::Basic));
        assert_eq!(rules.rule(Tag(g, 0x3000)), &r(Action::Remove, RuleSource::Basic));
    }
}

#[test]
fn overlay_group_follows_removed_overlay_data() {
    let rules = basic().compile();
    for element in [0x0010, 0x0011, 0x0022, 0x1500] {
        assert_eq!(rules.rule(Tag(0x6002, element)), &r(Action::Remove, RuleSource::Structural));
    }
}

#[test]
fn overlay_group_stays_when_overlay_data_stays() {
    // An override keeping one group's Overlay Data keeps that group only.
    let rules = user("[overrides]\n\"(6000,3000)\" = \"keep\"\n").compile();
    assert_eq!(rules.rule(Tag(0x6000, 0x0010)).action, Action::Keep);
    assert_eq!(rules.rule(Tag(0x6002, 0x0010)).action, Action::Remove);
}

#[test]
fn overlay_data_cleaned_under_clean_graphics_takes_its_group_and_is_shown_so() {
    // A bitmap cannot be cleaned: deid removes Overlay Data, and the group with it, Overlay
    // Comments included. The rules and profile show say so rather than the table's C.
    let rules = with(&[DeidOption::CleanGraphics]);
    let option = RuleSource::Option(DeidOption::CleanGraphics);
    for g in [0x6000, 0x6002, 0x601E] {
        assert_eq!(rules.rule(Tag(g, 0x3000)), &r(Action::Remove, option.clone()), "{g:04X}");
        assert_eq!(rules.rule(Tag(g, 0x4000)), &r(Action::Remove, RuleSource::Structural), "{g:04X}");
        assert_eq!(rules.rule(Tag(g, 0x0010)), &r(Action::Remove, RuleSource::Structural), "{g:04X}");
    }
    let rows = rules.rows();
    let shown = |tag: &str| rows.iter().find(|r| r.tag == tag).map(|r| (r.action.as_str(), r.source.as_str()));
    assert_eq!(shown("(60xx,3000)"), Some(("X", "option clean-graphics")));
    assert_eq!(shown("(60xx,4000)"), Some(("X", "structural")));
    assert_eq!(shown("(60xx,eeee)"), Some(("X", "structural")));
    // The rest of the option is shown as the table gives it.
    assert_eq!(shown("(0070,0001)"), Some(("C", "option clean-graphics")));
    // The basic profile's rows keep their source.
    let basic_rows = basic().compile().rows();
    let row = basic_rows.iter().find(|r| r.tag == "(60xx,4000)").unwrap();
    assert_eq!((row.action.as_str(), row.source.as_str()), ("X", "basic"));
}

#[test]
fn strict_mode_keeps_the_overlay_elements_needed_to_decode_kept_overlays() {
    let p = user("strict = true\n[overrides]\n\"(6000,3000)\" = \"keep\"\n");
    let rules = p.compile();
    assert_eq!(rules.rule(Tag(0x6000, 0x0010)), &r(Action::Keep, RuleSource::Structural));
    assert_eq!(rules.rule(Tag(0x6000, 0x3000)).action, Action::Keep);
    // Overlay Description is free text: strict removes it.
    assert_eq!(rules.rule(Tag(0x6000, 0x0022)), &r(Action::Remove, RuleSource::Strict));
    // Another group's overlay goes whole.
    assert_eq!(rules.rule(Tag(0x6002, 0x0010)).action, Action::Remove);
}

#[test]
fn repeating_groups_outside_the_standard_range_are_removed() {
    let rules = basic().compile();
    assert_eq!(rules.rule(Tag(0x6020, 0x3000)), &r(Action::Remove, RuleSource::Unknown));
    assert_eq!(rules.rule(Tag(0x50FE, 0x0005)), &r(Action::Remove, RuleSource::Unknown));
}

#[test]
fn group_lengths_are_removed_except_file_meta() {
    let rules = basic().compile();
    for tag in [Tag(0x0008, 0x0000), Tag(0x0010, 0x0000), Tag(0x6000, 0x0000), Tag(0x0009, 0x0000)] {
        assert_eq!(rules.rule(tag), &r(Action::Remove, RuleSource::Structural), "{tag}");
    }
    assert_eq!(rules.rule(Tag(0x0002, 0x0000)), &r(Action::Keep, RuleSource::Structural));
}

#[test]
fn file_meta_keeps_encoding_elements_only() {
    let rules = basic().compile();
    assert_eq!(rules.rule(tags::TRANSFER_SYNTAX_UID), &r(Action::Keep, RuleSource::Structural));
    assert_eq!(rules.rule(Tag(0x0002, 0x0003)), &r(Action::ReplaceUid, RuleSource::Basic));
    for tag in [Tag(0x0002, 0x0016), Tag(0x0002, 0x0102)] {
        assert_eq!(rules.rule(tag), &r(Action::Remove, RuleSource::Structural), "{tag}");
    }
}

#[test]
fn unlisted_standard_attribute_is_kept_and_unknown_one_removed() {
    let rules = basic().compile();
    assert_eq!(rules.rule(tags::KVP), &r(Action::Keep, RuleSource::Unlisted));
    assert_eq!(rules.rule(tags::ROWS), &r(Action::Keep, RuleSource::Unlisted));
    assert_eq!(rules.rule(Tag(0x0018, 0xFFF0)), &r(Action::Remove, RuleSource::Unknown));
}

#[test]
fn strict_mode_removes_unlisted_and_keeps_allow_listed() {
    let mut p = basic();
    p.set_strict(true);
    let rules = p.compile();
    assert!(rules.strict());
    assert_eq!(rules.rule(tags::KVP), &r(Action::Remove, RuleSource::Strict));
    assert_eq!(rules.rule(tags::ROWS), &r(Action::Keep, RuleSource::Policy));
    assert_eq!(rules.rule(tags::PIXEL_DATA), &r(Action::Keep, RuleSource::Policy));
    assert_eq!(rules.rule(Tag(0x0018, 0xFFF0)), &r(Action::Remove, RuleSource::Strict));
    // Listed attributes keep their table (or policy) action.
    assert_eq!(rules.rule(tags::ACCESSION_NUMBER), &r(Action::Empty, RuleSource::Basic));
    assert_eq!(rules.rule(tags::SOP_INSTANCE_UID), &r(Action::ReplaceUid, RuleSource::Basic));
    assert_eq!(rules.rule(tags::PATIENT_ID), &r(Action::Pseudonymize, RuleSource::Policy));
}

#[test]
fn strict_mode_keeps_uids_that_name_a_registered_class() {
    let mut p = basic();
    p.set_strict(true);
    let rules = p.compile();
    // Type 1 in every SOP Instance Reference Macro item (Referenced Image, Source Image...).
    assert_eq!(rules.rule(tags::REFERENCED_SOP_CLASS_UID), &r(Action::Keep, RuleSource::Policy));
    assert_eq!(rules.rule(tags::REFERENCED_TRANSFER_SYNTAX_UID_IN_FILE), &r(Action::Keep, RuleSource::Policy));
    // An unlisted instance UID is still removed.
    assert_eq!(rules.rule(tags::MULTI_FRAME_SOURCE_SOP_INSTANCE_UID), &r(Action::Remove, RuleSource::Strict));
}

#[test]
fn strict_mode_override_keeps_an_unlisted_attribute() {
    let rules = user("strict = true\n[overrides]\nKVP = \"keep\"\n").compile();
    // Kept as an allow-listed attribute is: the keep restates the unlisted keep.
    assert_eq!(rules.rule(tags::KVP), &r(Action::Keep, RuleSource::Restated(Box::new(RuleSource::Unlisted))));
    assert_eq!(rules.rule(tags::BODY_PART_EXAMINED), &r(Action::Remove, RuleSource::Strict));
}

#[test]
fn keeping_an_unlisted_attribute_restates_the_unlisted_keep() {
    let rules = user("[overrides]\nContentDescription = \"keep\"\n").compile();
    let rule = rules.rule(tags::CONTENT_DESCRIPTION);
    assert_eq!(rule, &r(Action::Keep, RuleSource::Restated(Box::new(RuleSource::Unlisted))));
    assert!(rule.source.is_unchosen_keep(), "the safety nets still apply");
    assert_eq!(rule.source.to_string(), "override");
}

#[test]
fn keeping_a_safe_private_attribute_restates_the_options_keep() {
    let text = "options = [\"retain-safe-private\"]\n[overrides]\n'(0019,\"GEMS_ACQU_01\",9E)' = \"keep\"\n";
    let rules = user(text).compile();
    let rule = rules.private_rule(Tag(0x0019, 0x109E), Some("GEMS_ACQU_01"));
    let option = RuleSource::Option(DeidOption::RetainSafePrivate);
    assert_eq!(rule, &r(Action::Keep, RuleSource::Restated(Box::new(option))));
    assert!(rule.source.is_unchosen_keep());
    assert_eq!(departures(text), []);
}

#[test]
fn keeping_an_attribute_the_table_rules_is_an_explicit_keep() {
    let rules = user("[overrides]\nStudyDescription = \"keep\"\n").compile();
    assert_eq!(rules.rule(tags::STUDY_DESCRIPTION), &r(Action::Keep, RuleSource::Override));
}

#[test]
fn safe_private_attribute_needs_the_option() {
    // Table E.3.10-1: Philips PET Private Group (7053,xx00) SUV Factor.
    let creator = Some("Philips PET Private Group");
    let element = Tag(0x7053, 0x1000);
    let plain = basic().compile();
    assert_eq!(plain.private_rule(element, creator), &r(Action::Remove, RuleSource::Private));
    let rules = with(&[DeidOption::RetainSafePrivate]);
    let keep = r(Action::Keep, RuleSource::Option(DeidOption::RetainSafePrivate));
    assert_eq!(rules.private_rule(element, creator), &keep);
    // Any block, trailing padding in the creator value.
    assert_eq!(rules.private_rule(Tag(0x7053, 0x1200), Some("Philips PET Private Group ")), &keep);
    // Its creator element stays, as PS3.15 E.3.10 requires.
    assert_eq!(rules.private_rule(Tag(0x7053, 0x0010), creator).action, Action::Keep);
    assert_eq!(plain.private_rule(Tag(0x7053, 0x0010), creator).action, Action::Remove);
    // Not listed: other offset, other group, other creator, no creator.
    for (tag, c) in [
        (Tag(0x7053, 0x1001), creator),
        (Tag(0x7055, 0x1000), creator),
        (element, Some("PHILIPS PET PRIVATE GROUP")),
        (element, None),
    ] {
        assert_eq!(rules.private_rule(tag, c).action, Action::Remove, "{tag} {c:?}");
    }
}

#[test]
fn kept_private_creator_keeps_all_its_elements() {
    let rules = user("keep_private_creators = [\"SIEMENS CSA HEADER\"]\n").compile();
    let csa = Some("SIEMENS CSA HEADER");
    assert_eq!(rules.private_rule(Tag(0x0029, 0x1010), csa), &r(Action::Keep, RuleSource::Private));
    assert_eq!(rules.private_rule(Tag(0x0029, 0x0010), csa).action, Action::Keep);
    assert_eq!(rules.private_rule(Tag(0x0029, 0x1010), Some("SIEMENS MEDCOM HEADER")).action, Action::Remove);
}

#[test]
fn private_elements_pep_57_forbidden_positions_are_removed() {
    let rules = user("keep_private_creators = [\"X\"]\n").compile();
    for tag in [Tag(0x0029, 0x0005), Tag(0x0029, 0x0100), Tag(0x0001, 0x1010), Tag(0xFFFF, 0x1010)] {
        assert_eq!(rules.private_rule(tag, Some("X")).action, Action::Remove, "{tag}");
    }
}

#[test]
fn private_override_applies_by_creator_and_offset() {
    let rules = user("[overrides]\n'(0009,\"GEMS_IDEN_01\",04)' = \"keep\"\n").compile();
    let ge = Some("GEMS_IDEN_01");
    let keep = r(Action::Keep, RuleSource::Override);
    assert_eq!(rules.private_rule(Tag(0x0009, 0x1004), ge), &keep);
    assert_eq!(rules.private_rule(Tag(0x0009, 0x1104), ge), &keep);
    assert_eq!(rules.private_rule(Tag(0x0009, 0x1005), ge).action, Action::Remove);
    assert_eq!(rules.private_rule(Tag(0x0009, 0x1004), None).action, Action::Remove);
    // rule() on a private tag knows no creator: removed.
    assert_eq!(rules.rule(Tag(0x0009, 0x1004)), &r(Action::Remove, RuleSource::Private));
}

#[test]
fn private_override_beats_safe_private_and_kept_creator() {
    let text = "options = [\"retain-safe-private\"]\nkeep_private_creators = [\"Philips PET Private Group\"]\n[overrides]\n'(7053,\"Philips PET Private Group\",00)' = \"remove\"\n";
    let rules = user(text).compile();
    let c = Some("Philips PET Private Group");
    assert_eq!(rules.private_rule(Tag(0x7053, 0x1000), c), &r(Action::Remove, RuleSource::Override));
    assert_eq!(rules.private_rule(Tag(0x7053, 0x1009), c).action, Action::Keep);
}

#[test]
fn user_overrides_apply_with_the_last_word() {
    let text = r#"
options = ["retain-long-modified-dates", "clean-descriptors"]
[overrides]
StudyDescription = "keep"
"(0010,1010)" = "keep"
InstitutionName = { replace = "RESEARCH HOSPITAL" }
PatientName = "empty"
"#;
    let rules = user(text).compile();
    let o = RuleSource::Override;
    assert_eq!(rules.rule(tags::STUDY_DESCRIPTION), &r(Action::Keep, o.clone()));
    assert_eq!(rules.rule(tags::PATIENT_AGE), &r(Action::Keep, o.clone()));
    assert_eq!(rules.rule(tags::INSTITUTION_NAME), &r(Action::Replace("RESEARCH HOSPITAL".into()), o.clone()));
    assert_eq!(rules.rule(tags::PATIENT_NAME), &r(Action::Empty, o));
    assert_eq!(rules.rule(tags::STUDY_DATE).action, Action::Clean);
}

#[test]
fn user_profile_settings_apply() {
    let p = user("strict = true\noptions = [\"retain-uids\"]\n[date_shift]\nmax_days = 180\nkeep_weekday = true\n");
    assert!(p.name().starts_with("basic+user-") && p.name().len() == "basic+user-".len() + 12, "{}", p.name());
    assert!(p.strict());
    assert!(p.options().contains(&DeidOption::RetainUids));
    assert_eq!(p.date_shift(), DateShiftPolicy { max_days: 180, keep_weekday: true });
    let partial = user("[date_shift]\nmax_days = 30\n");
    assert_eq!(partial.date_shift(), DateShiftPolicy { max_days: 30, keep_weekday: false });
    let mut p = basic();
    p.set_date_shift(DateShiftPolicy { max_days: 14, keep_weekday: true });
    assert_eq!(p.compile().date_shift(), DateShiftPolicy { max_days: 14, keep_weekday: true });
}

#[test]
fn both_temporal_options_are_an_error() {
    let text = "options = [\"retain-long-full-dates\", \"retain-long-modified-dates\"]\n";
    assert!(matches!(Profile::from_toml_str(text, "t.toml"), Err(ProfileError::ValidateProfile { .. })));
    let mut p = user("options = [\"retain-long-full-dates\"]\n");
    let e = p.add_options([DeidOption::RetainLongModifiedDates]).unwrap_err();
    assert!(matches!(e, ProfileError::CombineOptions { .. }));
    assert!(e.to_string().contains("mutually exclusive"));
    assert!(!p.options().contains(&DeidOption::RetainLongModifiedDates), "unchanged on error");
}

#[test]
fn unknown_top_level_key_is_an_error() {
    let e = Profile::from_toml_str("extends = \"basic\"\nstric = true\n", "p.toml").unwrap_err();
    let ProfileError::ValidateProfile { origin, diagnostics } = &e else {
        panic!("unexpected error {e}");
    };
    assert_eq!(origin, "p.toml");
    assert_eq!(diagnostics[0].line, 2);
    assert!(e.to_string().starts_with("profile p.toml is not valid: line 2"), "{e}");
}

#[test]
fn check_reports_problems_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(
        &path,
        "extends = \"basic\"\n\n[overrides]\nStudyDescription = \"keep\"\nStudyDescriptio = \"keep\"\nInstitutionName = \"blank\"\n",
    )
    .unwrap();
    let diagnostics = check(&path).unwrap();
    let got: Vec<(usize, usize, bool)> =
        diagnostics.iter().map(|d| (d.line, d.column, d.message.contains("unknown"))).collect();
    assert_eq!(got, vec![(5, 1, true), (6, 19, true)], "{diagnostics:?}");
    assert!(diagnostics[0].message.contains("keyword"));
    assert!(diagnostics[1].message.contains("action"));
}

#[test]
fn check_accepts_a_valid_profile_and_reports_unreadable_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.toml");
    std::fs::write(&path, "options = [\"retain-uids\"]\n").unwrap();
    assert_eq!(check(&path).unwrap(), vec![]);
    let missing = dir.path().join("missing.toml");
    assert!(matches!(check(&missing), Err(ProfileError::ReadProfile { .. })));
}

#[test]
fn load_reads_a_user_profile_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("research.toml");
    std::fs::write(&path, "name = \"study-42\"\noptions = [\"retain-uids\"]\n").unwrap();
    let p = Profile::load(path.to_str().unwrap()).unwrap();
    assert_eq!(p.name(), "basic+study-42", "the declared name, not the file name");
    assert!(p.options().contains(&DeidOption::RetainUids));
    let missing = dir.path().join("missing.toml");
    assert!(matches!(Profile::load(missing.to_str().unwrap()), Err(ProfileError::ReadProfile { .. })));
}

#[test]
fn sha256_changes_with_options_strict_and_user_text() {
    let a = basic();
    assert_eq!(a.sha256(), basic().sha256());
    assert_eq!(a.sha256().len(), 64);
    let mut b = basic();
    b.add_options([DeidOption::RetainUids]).unwrap();
    assert_ne!(a.sha256(), b.sha256());
    let mut c = basic();
    c.set_strict(true);
    assert_ne!(a.sha256(), c.sha256());
    assert_ne!(user("strict = false\n").sha256(), user("strict = false \n").sha256());
}

#[test]
fn method_code_reads_cid_7050() {
    assert_eq!(method_code(None), ("113100", "Basic Application Confidentiality Profile"));
    assert_eq!(method_code(Some(DeidOption::RetainUids)), ("113110", "Retain UIDs Option"));
    assert_eq!(
        method_code(Some(DeidOption::RetainInstitutionIdentity)),
        ("113112", "Retain Institution Identity Option")
    );
    for option in DeidOption::ALL {
        assert!(method_code(Some(option)).1.ends_with("Option"), "{option}");
    }
}

#[test]
fn rows_list_table_policy_and_overrides_in_tag_order() {
    let text = "options = [\"retain-safe-private\"]\nkeep_private_creators = [\"SIEMENS CSA HEADER\"]\n[overrides]\nInstitutionName = { replace = \"SECRET-NAME\" }\n";
    let rows = user(text).compile().rows();
    let find = |tag: &str| rows.iter().find(|r| r.tag == tag).unwrap_or_else(|| panic!("{tag}"));
    let accession = find("(0008,0050)");
    assert_eq!(
        (accession.name.as_str(), accession.action.as_str(), accession.source.as_str()),
        ("Accession Number", "Z", "basic")
    );
    assert_eq!(find("(0010,0020)").action, "pseudonymize");
    assert_eq!(find("(0010,0020)").name, "Patient ID");
    let institution = find("(0008,0080)");
    assert_eq!((institution.action.as_str(), institution.source.as_str()), ("replace", "override"));
    assert!(rows.iter().all(|r| !r.action.contains("SECRET")));
    assert_eq!(find("(60xx,3000)").action, "X");
    assert_eq!(find("(60xx,eeee)").source, "structural");
    assert_eq!(find("(4FFE,0001)").source, "structural");
    assert_eq!(find("(gggg,eeee) where gggg is odd").action, "C");
    assert_eq!(find("(7053,\"Philips PET Private Group\",00)").action, "K");
    assert_eq!(find("(gggg,\"SIEMENS CSA HEADER\",xx)").action, "K");
    assert_eq!(find("(gggg,0000)").action, "X");
    // Standard rows are sorted by tag.
    let standard: Vec<&RuleRow> = rows.iter().take_while(|r| !r.tag.contains("gggg")).collect();
    assert!(standard.len() > 600);
    // Open digits sort as 0, except a whole-group row, which comes after the group's elements.
    let key = |r: &RuleRow| r.tag.replace("xxxx", "FFFF").replace("eeee", "FFFF").replace('x', "0");
    for w in standard.windows(2) {
        assert!(key(w[0]) <= key(w[1]), "not in tag order: {} before {}", w[0].tag, w[1].tag);
    }
}

#[test]
fn action_codes_and_sources_display_for_the_audit() {
    assert_eq!(Action::Replace("X".into()).to_string(), "replace");
    assert_eq!(Action::Conditional(Conditional::XZU).to_string(), "X/Z/U*");
    assert_eq!(RuleSource::Option(DeidOption::RetainUids).to_string(), "option retain-uids");
}

#[test]
fn rule_set_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RuleSet>();
    assert_send_sync::<Profile>();
}

#[test]
fn a_user_profile_without_a_name_is_named_by_a_digest_of_its_text_never_its_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("Dr-Yamada-Taro.toml");
    let b = dir.path().join("other.toml");
    std::fs::write(&a, "options = [\"retain-uids\"]\n").unwrap();
    std::fs::write(&b, "options = [\"retain-uids\"]\n").unwrap();
    let (pa, pb) = (Profile::load(a.to_str().unwrap()).unwrap(), Profile::load(b.to_str().unwrap()).unwrap());
    assert!(!pa.name().contains("Yamada") && !pa.method_label().contains("Yamada"), "{}", pa.method_label());
    assert_eq!(pa.name(), pb.name(), "the same text gives the same handle");
    let other = Profile::from_toml_str("options = [\"clean-descriptors\"]\n", "x.toml").unwrap();
    assert_ne!(pa.name(), other.name());
}

#[test]
fn a_declared_profile_name_must_be_a_short_plain_handle() {
    for bad in ["", "/home/yamada/site", "Yamada Taro", "-x", "a\\b", "山田", "abcdefghijklmnopqrstuvwxyz"] {
        let text = format!("name = {bad:?}\n");
        let err = Profile::from_toml_str(&text, "p.toml").unwrap_err().to_string();
        assert!(err.contains("p.toml"), "{bad:?}: {err}");
    }
    assert_eq!(Profile::from_toml_str("name = \"site_A.v2\"\n", "p.toml").unwrap().name(), "basic+site_A.v2");
}

#[test]
fn the_method_label_names_the_base_the_handle_the_digest_and_each_option_in_short_values() {
    let mut p = Profile::from_toml_str("name = \"abcdefghijklmnopqrstuvwx\"\n", "p.toml").unwrap();
    p.add_options([DeidOption::CleanRecognizableVisualFeatures, DeidOption::RetainLongModifiedDates]).unwrap();
    let label = p.method_label();
    let values: Vec<&str> = label.split('\\').collect();
    assert_eq!(values[0], format!("profile basic+abcdefghijklmnopqrstuvwx sha256:{}", &p.sha256()[..12]));
    assert!(values.contains(&"option retain-long-modified-dates"), "{values:?}");
    assert!(values.iter().all(|v| v.len() <= 64), "{values:?}");
}

#[test]
fn the_method_label_does_not_claim_clean_recognizable_visual_features_which_kamei_does_not_do() {
    let mut p = basic();
    p.add_options([DeidOption::CleanRecognizableVisualFeatures]).unwrap();
    assert!(!p.method_label().contains("recognizable"), "{}", p.method_label());
    assert!(p.options().contains(&DeidOption::CleanRecognizableVisualFeatures), "still recorded for the audit");
}

fn departures(text: &str) -> Vec<(String, String, String)> {
    user(text).departures().into_iter().map(|d| (d.tag, d.table, d.user)).collect()
}

#[test]
fn a_builtin_profile_departs_from_nothing() {
    assert!(basic().departures().is_empty());
    assert!(!basic().method_label().contains(DEPARTS_LABEL));
}

#[test]
fn keeping_an_attribute_the_table_removes_is_a_departure() {
    assert_eq!(
        departures("[overrides]\nStudyDescription = \"keep\"\n"),
        [("(0008,1030)".into(), "X".into(), "K".into())]
    );
    assert!(user("[overrides]\nStudyDescription = \"keep\"\n").method_label().ends_with(DEPARTS_LABEL));
}

#[test]
fn cleaning_or_shifting_where_the_table_removes_is_a_departure() {
    let d = departures("[overrides]\nStudyDescription = \"clean\"\nAcquisitionDate = \"shift-date\"\n");
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!((d[0].2.as_str(), d[1].2.as_str()), ("C", "shift-date"));
}

#[test]
fn stricter_rules_do_not_depart() {
    let text = "[overrides]\nStudyDescription = \"remove\"\nInstitutionName = { replace = \"A HOSPITAL\" }\n\
                Manufacturer = \"remove\"\nAccessionNumber = \"pseudonymize\"\nSeriesDescription = \"dummy\"\n";
    assert_eq!(departures(text), []);
}

#[test]
fn keeping_what_the_table_or_an_option_already_keeps_does_not_depart() {
    assert_eq!(departures("[overrides]\nModality = \"keep\"\nImageType = \"keep\"\n"), []);
    let text = "options = [\"retain-device-identity\"]\n[overrides]\nDeviceSerialNumber = \"keep\"\n";
    assert_eq!(departures(text), []);
}

#[test]
fn keeping_a_private_creator_whole_or_an_unsafe_private_element_departs() {
    let d = departures("keep_private_creators = [\"ACME 1.0\"]\n[overrides]\n'(0019,\"ACME 2.0\",10)' = \"keep\"\n");
    assert_eq!(
        d,
        [
            ("(gggg,\"ACME 1.0\",xx)".into(), "X".into(), "K".into()),
            ("(0019,\"ACME 2.0\",10)".into(), "X".into(), "K".into())
        ]
    );
}

#[test]
fn keeping_a_safe_private_attribute_under_retain_safe_private_does_not_depart() {
    let row = &table::tables().unwrap().safe_private[0];
    let (group, offset) = row.slot();
    let text = format!(
        "options = [\"retain-safe-private\"]\n[overrides]\n'({group:04X},\"{}\",{offset:02X})' = \"keep\"\n",
        row.creator
    );
    assert_eq!(departures(&text), []);
}

#[test]
fn a_dummy_on_a_sequence_the_table_removes_departs() {
    // D keeps a sequence's items (their values processed): the reference to the patient's
    // photograph would survive, so the outputs must not claim the basic profile.
    let d =
        departures("[overrides]\nReferencedPatientPhotoSequence = \"dummy\"\nOtherPatientIDsSequence = \"empty\"\n");
    assert_eq!(d, [("(0010,1100)".to_string(), "X".to_string(), "D".to_string())]);
    // On a value that is not a sequence, a dummy lets nothing through.
    assert_eq!(departures("[overrides]\nStudyDescription = \"dummy\"\n"), []);
}

#[test]
fn cleaning_a_sequence_the_table_replaces_by_a_dummy_departs() {
    // D on a present sequence gives every unlisted text value of its items a dummy (an SR's
    // report text); clean only scrubs the identifiers kamei knows, so it keeps more.
    for keyword in [
        "ContentSequence",
        "GraphicAnnotationSequence",
        "VerifyingObserverSequence",
        "PersonIdentificationCodeSequence",
    ] {
        let d = departures(&format!("[overrides]\n{keyword} = \"clean\"\n"));
        assert_eq!(d.len(), 1, "{keyword}: {d:?}");
        assert_eq!((d[0].1.as_str(), d[0].2.as_str()), ("D", "C"), "{keyword}");
        assert!(user(&format!("[overrides]\n{keyword} = \"clean\"\n")).method_label().ends_with(DEPARTS_LABEL));
    }
}

#[test]
fn a_dummy_on_a_sequence_the_table_gives_x_z_d_does_not_depart() {
    // A present X/Z/D sequence (Institution Code Sequence) is given D by kamei: the same.
    assert_eq!(departures("[overrides]\nInstitutionCodeSequence = \"dummy\"\n"), []);
    // Cleaning it still departs.
    assert_eq!(departures("[overrides]\nInstitutionCodeSequence = \"clean\"\n").len(), 1);
}

#[test]
fn command_elements_are_removed_and_shown_removed() {
    // deid removes every (0000,xxxx) element found in a data set; Table E.1-1's U on
    // Requested SOP Instance UID must not be what profile show prints.
    let rules = basic().compile();
    for tag in [Tag(0x0000, 0x1001), Tag(0x0000, 0x1000), Tag(0x0000, 0x0100)] {
        assert_eq!(rules.rule(tag).action, Action::Remove, "{tag}");
    }
    let rows = rules.rows();
    let row = rows.iter().find(|r| r.tag == "(0000,1001)").unwrap();
    assert_eq!((row.action.as_str(), row.source.as_str()), ("X", "structural"));
}

#[test]
fn unlisted_dates_names_and_uids_are_shown_as_deid_treats_them() {
    let shown = |rules: &RuleSet, what: &str| {
        let rows = rules.rows();
        rows.iter().find(|r| r.name.starts_with(what)).map(|r| r.action.clone())
    };
    let plain = basic().compile();
    assert_eq!(shown(&plain, "Any other DA or DT").as_deref(), Some("D"));
    assert_eq!(shown(&plain, "Any other PN").as_deref(), Some("D"));
    assert_eq!(shown(&plain, "Any other UI").as_deref(), Some("U"));
    let modified = with(&[DeidOption::RetainLongModifiedDates]);
    assert_eq!(shown(&modified, "Any other DA or DT").as_deref(), Some("shift-date"));
    let uids = with(&[DeidOption::RetainUids]);
    assert_eq!(shown(&uids, "Any other UI").as_deref(), Some("K"));
}
