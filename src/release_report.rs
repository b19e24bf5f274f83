//! `kamei report`: one self-contained HTML page for the person who signs off a release.
//!
//! It reads only the release folder (audit log, run settings, the outputs themselves) and the
//! verify findings given to it, and shows: counts by modality, SOP class and transfer syntax;
//! the profile, options and the effective rule table; failed and skipped inputs with their
//! reasons; verify findings; and, for images whose pixels were cleaned, the cleaned ("after")
//! first frame with the blanked boxes. Never a "before" image, never a value from a file: the
//! page may travel with the release paperwork. No script, no external resource: it renders the
//! same offline, in any browser.

use crate::audit::{self, AuditRecord, Outcome, RunSettings};
use crate::profile::RuleSet;
use crate::verify::Finding;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// A thumbnail of a cleaned image: PNG bytes and the boxes drawn on it.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    /// The output file (relative to the release folder).
    pub file: String,
    /// PNG bytes of the cleaned first frame, boxes already drawn.
    pub png: Vec<u8>,
    /// What found the boxes (rule names, detector), for the caption.
    pub caption: String,
}

/// Everything the page shows.
#[derive(Debug)]
pub struct ReportInput<'a> {
    /// The release folder's name (shown in the title).
    pub title: String,
    /// The run settings (`kamei-run.json`), if present.
    pub settings: Option<RunSettings>,
    /// Every audit record of the release.
    pub records: Vec<AuditRecord>,
    /// The compiled profile, for the rule table.
    pub rules: &'a RuleSet,
    /// Verify findings (their `matched` values are never shown).
    pub findings: &'a [Finding],
    /// Thumbnails of cleaned images.
    pub thumbnails: Vec<Thumbnail>,
    /// Whether the outputs' paths are left off the page (see [`hides_paths`]).
    pub hide_paths: bool,
    /// DICOM files in the release, and how many of them claim the Basic Application
    /// Confidentiality Profile (113100 in their method code sequence), as verify read them.
    pub claims: Claims,
}

/// How many of a release's DICOM files claim the Basic Application Confidentiality Profile.
#[derive(Debug, Clone, Copy, Default)]
pub struct Claims {
    /// DICOM files read.
    pub dicom_files: usize,
    /// Those whose De-identification Method Code Sequence holds 113100.
    pub claiming_basic: usize,
}

/// The paragraph at the top of the page that tells the person signing off that the release
/// does not (wholly) conform to the Basic Application Confidentiality Profile: the user
/// profile's rules that keep more than Table E.1-1 allows, and how many DICOM files do not
/// claim 113100. `None` when the profile departs from nothing and every file claims it.
fn nonconformance_text(rules: &RuleSet, claims: Claims) -> Option<String> {
    let departures = rules.departures();
    let not_claiming = claims.dicom_files.saturating_sub(claims.claiming_basic);
    if departures.is_empty() && not_claiming == 0 {
        return None;
    }
    let mut text =
        String::from("This release does NOT conform to the PS3.15 Basic Application Confidentiality Profile.");
    if !departures.is_empty() {
        let _ = write!(
            text,
            " {} rule(s) of the user profile keep more than Table E.1-1 allows, in every file where the attribute occurs: {}.",
            departures.len(),
            departure_list(departures)
        );
    }
    if claims.dicom_files == 0 {
        return Some(text);
    }
    let files = if claims.dicom_files == 1 { "file" } else { "files" };
    let _ = write!(
        text,
        " {not_claiming} of the {} DICOM {files} of the release do not claim it (no code 113100 in De-identification Method Code Sequence).",
        claims.dicom_files
    );
    Some(text)
}

/// Whether a release's output paths must be left off the page: a `--layout mirror` release
/// keeps each input's folder and file names, which a PACS export or a share often names after
/// the patient, and without the originals (`--against`, `--linkage`, `has_originals`) verify
/// cannot tell which names identify, so it cannot mask them as `***`. The default layout's
/// paths are pseudonyms and digests.
pub fn hides_paths(settings: Option<&RunSettings>, has_originals: bool) -> bool {
    match Output::of(settings) {
        // Its tree is rewritten: pseudonym folders, shifted date folders, data type folders,
        // and file names made of those.
        Output::SsMix2 => false,
        Output::Csv => !has_originals,
        Output::Images => {
            !has_originals && settings.is_none_or(|s| s.layout != crate::layout::Layout::Hierarchy.name())
        }
    }
}

/// What a release folder holds, by the profile its `kamei-run.json` records: the page
/// describes DICOM images in DICOM terms (modality, SOP class, PS3.15 conformance) and a
/// clinical output in its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// `deid`'s DICOM images (also a folder without a run file).
    Images,
    /// `clinical ss-mix2`'s SS-MIX2 tree of HL7 messages.
    SsMix2,
    /// `clinical csv`'s CSV files.
    Csv,
}

impl Output {
    fn of(settings: Option<&RunSettings>) -> Output {
        match settings.map(|s| s.profile.as_str()) {
            Some("clinical-ss-mix2") => Output::SsMix2,
            Some("clinical-csv") => Output::Csv,
            _ => Output::Images,
        }
    }

    /// The conformance row of a clinical output: PS3.15 is a DICOM profile.
    fn conformance(self) -> Option<&'static str> {
        match self {
            Output::Images => None,
            Output::SsMix2 => Some(
                "not DICOM: PS3.15 does not apply to HL7 messages; cleaned by kamei's SS-MIX2 rules (README, \"Clinical data\")",
            ),
            Output::Csv => Some(
                "not DICOM: PS3.15 does not apply to CSV files; cleaned by the column roles of kamei clinical csv (README, \"Clinical data\")",
            ),
        }
    }
}

/// The paragraph that says why the page names files by their input's hash ([`hides_paths`]).
fn hidden_paths_text(output: Output) -> &'static str {
    match output {
        Output::Csv => {
            "The outputs keep their input's file names with the identifiers kamei clinical csv finds in them \
             replaced, and such a name can still hold a patient's name: files are named here by their input's \
             SHA-256 in the audit log. Give <code>--against INPUT</code> to show the paths, names holding an \
             identifier as <code>***</code>."
        }
        _ => {
            "The outputs keep their input's folder and file names (layout mirror), which can hold a \
             patient's name: files are named here by their input's SHA-256 in the audit log. Give \
             <code>--against INPUT</code> to show the paths, names holding an identifier as <code>***</code>."
        }
    }
}

/// How the page names an output file: its path in the release, or, when paths are hidden
/// ([`hides_paths`]), `output of input sha256:` and the first 16 hex digits of its input's
/// SHA-256 from the audit log (as `verify` names an input, `grep` finds its record there),
/// `***` when the audit does not know it.
fn shown_file(input: &ReportInput<'_>, file: &str) -> String {
    if !input.hide_paths {
        return file.to_string();
    }
    input
        .records
        .iter()
        .find(|r| r.output.as_deref() == Some(file))
        .and_then(|r| r.input_sha256.as_deref())
        .map_or_else(|| "***".to_string(), |h| format!("output of input sha256:{}", &h[..16.min(h.len())]))
}

/// The options row: each option in effect, Clean Recognizable Visual Features marked as not
/// performed (kamei accepts and records it but does not alter faces or other recognizable
/// features, and the outputs do not claim it).
fn options_text(options: &[String]) -> String {
    if options.is_empty() {
        return "(none)".into();
    }
    let not_done = crate::profile::DeidOption::CleanRecognizableVisualFeatures.name();
    options
        .iter()
        .map(|o| {
            if o == not_done {
                format!("{o} (NOT performed: faces and other recognizable features are left as they are)")
            } else {
                o.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each departing rule as `tag table→user` (`(0008,1030) X→K`), `; `-separated.
fn departure_list(departures: &[crate::profile::Departure]) -> String {
    departures.iter().map(|d| format!("{} {}\u{2192}{}", d.tag, d.table, d.user)).collect::<Vec<_>>().join("; ")
}

/// The conformance row: whether the rules keep more than PS3.15 Table E.1-1 allows (a user
/// profile's departures), each such rule as `tag table→user`.
fn conformance_text(rules: &RuleSet) -> (bool, String) {
    let departures = rules.departures();
    if departures.is_empty() {
        return (true, "PS3.15 Basic Application Confidentiality Profile (with the options listed)".into());
    }
    let text = format!(
        "DEPARTS from the PS3.15 Basic Application Confidentiality Profile: {} rule(s) of the user profile keep more than Table E.1-1 allows: {}",
        departures.len(),
        departure_list(departures)
    );
    (false, text)
}

/// Read every audit record of a release folder.
///
/// # Errors
/// The audit error if a log cannot be read.
pub fn read_audit(out: &Path) -> Result<Vec<AuditRecord>, audit::Error> {
    let mut records = Vec::new();
    let mut names: Vec<_> =
        std::fs::read_dir(out).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_else(|_| Vec::new());
    names.sort();
    for p in names {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with("kamei-audit") && name.ends_with(".jsonl") {
            records.extend(audit::read_records(&p)?);
        }
    }
    Ok(records)
}

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:70em}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left;font-size:.9em}\
th{background:#f3f3f3}td code{word-break:break-all}.num{text-align:right}.bad{color:#a00;font-weight:bold}.ok{color:#070;font-weight:bold}\
figure{display:inline-block;margin:.5em;text-align:center}figure img{max-width:256px;max-height:256px;border:1px solid #999}\
figcaption{font-size:.8em;max-width:256px;word-break:break-all}code{font-size:.85em}";

fn count_table(out: &mut String, title: &str, counts: &BTreeMap<String, usize>) {
    let _ = write!(out, "<table><tr><th>{}</th><th>files</th></tr>", escape(title));
    for (k, n) in counts {
        let label = if k.is_empty() { "(none)" } else { k.as_str() };
        let _ = write!(out, "<tr><td>{}</td><td class=\"num\">{n}</td></tr>", escape(label));
    }
    out.push_str("</table>");
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Written => "written",
        Outcome::Present => "already present",
        Outcome::Skipped => "skipped",
        Outcome::Failed => "failed",
        Outcome::Excluded => "excluded",
        Outcome::Superseded => "superseded (removed)",
    }
}

/// How many inputs the records describe: one per input path (`input_path_key`), whatever
/// contents it held over the runs (a `written` record of the content it held on day 1 stays
/// beside the `present` record of its corrected content when both make the same output, and a
/// `superseded` record beside the new content's); a record without a path key (an anonymized
/// run's) is one input.
fn input_count(records: &[AuditRecord]) -> usize {
    let keys: std::collections::HashSet<&str> = records.iter().filter_map(|r| r.input_path_key.as_deref()).collect();
    keys.len() + records.iter().filter(|r| r.input_path_key.is_none()).count()
}

/// Render the page.
pub fn render(input: &ReportInput<'_>) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>kamei release report: {}</title><style>{STYLE}</style></head><body>",
        escape(&input.title)
    );
    let _ = write!(h, "<h1>Release report: <code>{}</code></h1>", escape(&input.title));
    let verdict = if input.findings.is_empty() {
        "<p class=\"ok\" id=\"verdict\">kamei verify found nothing.</p>".to_string()
    } else {
        let n = input.findings.len();
        let noun = if n == 1 { "problem" } else { "problems" };
        format!("<p class=\"bad\" id=\"verdict\">kamei verify found {n} {noun}: see below.</p>")
    };
    h.push_str(&verdict);
    if let Some(text) = nonconformance_text(input.rules, input.claims) {
        let _ = write!(h, "<p class=\"bad\" id=\"departs\">{}</p>", escape(&text));
    }

    // Outcomes.
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut modality: BTreeMap<String, usize> = BTreeMap::new();
    let mut sop: BTreeMap<String, usize> = BTreeMap::new();
    let mut ts: BTreeMap<String, usize> = BTreeMap::new();
    let mut data_types: BTreeMap<String, usize> = BTreeMap::new();
    let mut patients: std::collections::BTreeSet<String> = Default::default();
    let output = Output::of(input.settings.as_ref());
    for r in &input.records {
        *outcomes.entry(outcome_word(r.outcome).to_string()).or_default() += 1;
        if matches!(r.outcome, Outcome::Written | Outcome::Present) {
            *modality.entry(r.modality.clone().unwrap_or_default()).or_default() += 1;
            *sop.entry(sop_class_label(r.sop_class_uid.as_deref())).or_default() += 1;
            *ts.entry(transfer_syntax_label(r.transfer_syntax.as_deref())).or_default() += 1;
            let parts: Vec<&str> = r.output.as_deref().map(|o| o.split('/').collect()).unwrap_or_default();
            // The patient's folder: the first in the default layout, the third in SS-MIX2's
            // (`<bucket>/<bucket>/<pseudonym>/<date>/<data type>/<file>`).
            let patient = if output == Output::SsMix2 { parts.get(2) } else { parts.first() };
            if let Some(p) = patient {
                patients.insert(p.to_string());
            }
            if parts.len() >= 2 {
                *data_types.entry(parts[parts.len() - 2].to_string()).or_default() += 1;
            }
        }
    }
    h.push_str("<h2 id=\"summary\">Summary</h2>");
    count_table(&mut h, "outcome", &outcomes);
    let inputs = input_count(&input.records);
    let records = if inputs == input.records.len() {
        String::new()
    } else {
        format!(
            " ({} audit records: an input path whose content changed between runs has one for each content)",
            input.records.len()
        )
    };
    let _ = match output {
        Output::Images => write!(
            h,
            "<p>{inputs} inputs{records}; {} top-level folders (patients, in the default layout).</p>",
            patients.len()
        ),
        Output::SsMix2 => write!(
            h,
            "<p>{inputs} inputs (HL7 messages){records}; {} patient folders (pseudonyms).</p>",
            patients.len()
        ),
        Output::Csv => write!(h, "<p>{inputs} inputs (CSV files){records}.</p>"),
    };

    h.push_str("<h2 id=\"settings\">Profile and options</h2><table>");
    match &input.settings {
        Some(s) => {
            let rows = [
                ("mode", s.mode.clone()),
                ("key fingerprint", s.key_fingerprint.clone().unwrap_or_else(|| "(none: anonymized)".into())),
                ("profile", format!("{} (sha256 {})", s.profile, s.profile_sha256)),
                ("strict (allow-list) mode", if input.rules.strict() { "yes" } else { "no" }.into()),
                ("options", options_text(&s.options)),
                ("layout", s.layout.clone()),
                ("kamei version", s.kamei_version.clone()),
            ];
            for (k, v) in rows {
                // Strict mode is a DICOM profile's.
                if output != Output::Images && k.starts_with("strict") {
                    continue;
                }
                let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v));
            }
        }
        None => h.push_str("<tr><td>no kamei-run.json in the release folder</td></tr>"),
    }
    let (conforms, conformance) = match output.conformance() {
        Some(text) => (true, text.to_string()),
        None => conformance_text(input.rules),
    };
    let class = if conforms { "" } else { " class=\"bad\"" };
    let _ = write!(h, "<tr><th>conformance</th><td{class} id=\"conformance\">{}</td></tr>", escape(&conformance));
    h.push_str("</table>");
    if input.hide_paths {
        let _ = write!(h, "<p>{}</p>", hidden_paths_text(output));
    }

    h.push_str("<h2 id=\"counts\">Contents</h2>");
    match output {
        Output::Images => {
            count_table(&mut h, "modality", &modality);
            count_table(&mut h, "SOP class", &sop);
            count_table(&mut h, "transfer syntax", &ts);
        }
        Output::SsMix2 => count_table(&mut h, "SS-MIX2 data type", &data_types),
        Output::Csv => {
            let written = input.records.iter().filter(|r| matches!(r.outcome, Outcome::Written | Outcome::Present));
            let _ = write!(h, "<p>{} CSV files.</p>", written.count());
        }
    }

    h.push_str("<h2 id=\"verify\">Verify findings</h2>");
    if input.findings.is_empty() {
        h.push_str("<p>None.</p>");
    } else {
        h.push_str("<table><tr><th>file</th><th>location</th><th>kind</th><th>detail</th></tr>");
        for f in input.findings {
            let kind =
                serde_json::to_value(f.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&shown_file(input, &f.file)),
                escape(&f.location),
                escape(&kind),
                escape(&f.detail)
            );
        }
        h.push_str("</table>");
    }

    h.push_str("<h2 id=\"problems\">Failed and skipped inputs</h2>");
    let problems: Vec<&AuditRecord> =
        input.records.iter().filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::Skipped)).collect();
    if problems.is_empty() {
        h.push_str("<p>None.</p>");
    } else {
        h.push_str("<table><tr><th>input (sha256)</th><th>outcome</th><th>reason</th></tr>");
        for r in problems {
            let id = r.input_sha256.as_deref().map(|s| &s[..16.min(s.len())]).unwrap_or("(unreadable entry)");
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(id),
                outcome_word(r.outcome),
                escape(r.reason.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</table>");
    }

    if output != Output::Images {
        // No image, and no DICOM rule table: the clinical rules are the README's.
        let _ = writeln!(h, "<p><small>Generated by kamei {}.</small></p></body></html>", env!("CARGO_PKG_VERSION"));
        return h;
    }
    h.push_str("<h2 id=\"pixels\">Cleaned images</h2>");
    if input.thumbnails.is_empty() {
        h.push_str("<p>No image had its pixels cleaned.</p>");
    } else {
        for t in &input.thumbnails {
            let _ = write!(
                h,
                "<figure><img alt=\"cleaned first frame\" src=\"data:image/png;base64,{}\"><figcaption><code>{}</code><br>{}</figcaption></figure>",
                base64(&t.png),
                escape(&shown_file(input, &t.file)),
                escape(&t.caption)
            );
        }
    }

    h.push_str("<h2 id=\"rules\">Effective rules</h2><details><summary>Every attribute the profile lists</summary>");
    h.push_str("<table><tr><th>tag</th><th>name</th><th>action</th><th>source</th></tr>");
    for row in input.rules.rows() {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.tag),
            escape(&row.name),
            escape(&row.action),
            escape(&row.source)
        );
    }
    h.push_str("</table></details>");
    let _ = writeln!(h, "<p><small>Generated by kamei {}.</small></p></body></html>", env!("CARGO_PKG_VERSION"));
    h
}

fn sop_class_label(uid: Option<&str>) -> String {
    let Some(uid) = uid else { return String::new() };
    let name = match uid {
        "1.2.840.10008.5.1.4.1.1.2" => "CT Image Storage",
        "1.2.840.10008.5.1.4.1.1.4" => "MR Image Storage",
        "1.2.840.10008.5.1.4.1.1.7" => "Secondary Capture Image Storage",
        "1.2.840.10008.5.1.4.1.1.6.1" => "Ultrasound Image Storage",
        "1.2.840.10008.5.1.4.1.1.3.1" => "Ultrasound Multi-frame Image Storage",
        "1.2.840.10008.5.1.4.1.1.1" => "Computed Radiography Image Storage",
        "1.2.840.10008.5.1.4.1.1.1.1" => "Digital X-Ray Image Storage - For Presentation",
        "1.2.840.10008.5.1.4.1.1.20" => "Nuclear Medicine Image Storage",
        "1.2.840.10008.5.1.4.1.1.128" => "PET Image Storage",
        "1.2.840.10008.5.1.4.1.1.481.2" => "RT Dose Storage",
        _ => "",
    };
    if name.is_empty() { uid.to_string() } else { format!("{name} ({uid})") }
}

fn transfer_syntax_label(uid: Option<&str>) -> String {
    use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
    let Some(uid) = uid else { return String::new() };
    match dicom_transfer_syntax_registry::TransferSyntaxRegistry.get(uid) {
        Some(ts) => format!("{} ({uid})", ts.name()),
        None => uid.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, enc) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(plain.as_bytes()), enc);
        }
    }

    #[test]
    fn page_never_shows_a_matched_identifier() {
        let rules = crate::profile::Profile::builtin("basic").unwrap().compile();
        let finding = Finding {
            file: "A/b.dcm".into(),
            location: "(0008,1030)".into(),
            kind: crate::verify::FindingKind::ResidualIdentifier,
            detail: "contains an original Person Name (alphabetic)".into(),
            matched: Some("yamada".into()),
            path: None,
        };
        let page = render(&ReportInput {
            title: "out".into(),
            settings: None,
            records: vec![],
            rules: &rules,
            findings: std::slice::from_ref(&finding),
            thumbnails: vec![],
            hide_paths: false,
            claims: Claims::default(),
        });
        assert!(!page.contains("yamada"));
        assert!(page.contains("(0008,1030)"));
        assert!(page.starts_with("<!DOCTYPE html>"));
    }
}
