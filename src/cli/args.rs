//! Command-line arguments as the user typed them (clap derive). No I/O here: [`super::config`]
//! turns them into a validated job.

use clap::{Args, Parser, Subcommand, ValueEnum};
use kamei::walk::Shard;
use std::path::PathBuf;

/// De-identify DICOM archives per DICOM PS3.15 Annex E.
///
/// Exit codes: 0 success; 1 some inputs failed (deid, clinical), rows were dropped (clinical
/// csv), something was found (verify), a profile is invalid (profile check), groups smaller than
/// k (link k-anonymity) or another key or date shift (link report); 2 usage or setup error,
/// nothing written; 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "kamei", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a new random 32-byte key (file mode 0600). Refuses to overwrite an existing file.
    Keygen {
        /// Where to write the key. Keep it apart from released data: with it, pseudonyms can be
        /// recomputed from original IDs.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// De-identify DICOM files and folders into OUT.
    Deid(DeidArgs),
    /// Check a release: conformance to the profile, residual identifiers, uncleaned pixels,
    /// unfinished temporary files, and (with --against) inputs the release never processed.
    /// A path holding an identifier is printed as `***`.
    Verify(VerifyArgs),
    /// Write a self-contained HTML report on a release for the person who signs it off.
    Report(ReportArgs),
    /// Show or check de-identification profiles.
    Profile {
        /// What to do with profiles.
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// De-identify clinical data (CSV exports, SS-MIX2 storage) with the same pseudonyms and
    /// date shifts as deid.
    Clinical {
        /// What to de-identify.
        #[command(subcommand)]
        command: super::clinical::ClinicalCommand,
    },
    /// Release checks across de-identified data sets: linkage report, k-anonymity.
    Link {
        /// Which check.
        #[command(subcommand)]
        command: super::clinical::LinkCommand,
    },
}

/// `kamei profile ...`
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Print the effective rule for every attribute the profile lists.
    Show(ProfileArgs),
    /// Validate a user profile (TOML); prints each problem with its line and column.
    Check {
        /// The profile file.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
}

/// Profile selection, shared by `deid` and `profile show`.
#[derive(Debug, Args, Clone)]
pub struct ProfileArgs {
    /// Built-in profile name (basic, the default) or path to a user profile (TOML) that
    /// extends one.
    #[arg(long, value_name = "NAME|PATH")]
    pub profile: Option<String>,
    /// A PS3.15 option, e.g. retain-uids; repeat for several. See README for the list.
    #[arg(long = "option", value_name = "NAME")]
    pub options: Vec<String>,
    /// Allow-list mode: remove every attribute that is not explicitly kept.
    #[arg(long)]
    pub strict: bool,
    /// Largest date shift in days, 1 to 36525 (default 365, or the profile's).
    #[arg(long, value_name = "DAYS")]
    pub date_shift_max_days: Option<u32>,
    /// Shift dates by whole weeks, keeping the day of the week.
    #[arg(long)]
    pub keep_weekday: bool,
}

/// The release's scope: the opt-out register and the cohort (shared by `deid`, `clinical csv`
/// and `clinical ss-mix2`, which decide the same way from the original Patient ID).
#[derive(Debug, Args, Clone, Default)]
pub struct CohortArgs {
    /// Opt-out register: original Patient IDs to leave out entirely, one per line (`#`
    /// comments, blank lines allowed), or a CSV (comma, tab, semicolon) with a patient_id
    /// column; a line that is not one ID refuses the register. Exclusion wins over inclusion.
    #[arg(long, value_name = "FILE")]
    pub exclude_patients: Option<PathBuf>,
    /// Cohort: only these original Patient IDs are processed (same format; an empty register
    /// is refused). Inputs without a Patient ID are then left out and counted.
    #[arg(long, value_name = "FILE")]
    pub include_patients: Option<PathBuf>,
}

/// `kamei deid ...`
#[derive(Debug, Args)]
pub struct DeidArgs {
    /// DICOM files or folders to de-identify (folders are walked recursively).
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder. Created if missing; a re-run into the same folder resumes.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Key file (from `kamei keygen`): pseudonymized mode, reproducible across runs and
    /// machines. Without it: anonymized mode with a random in-memory key. A key of all zero
    /// bytes is refused (exit 2), and so is a key inside OUT or an INPUT (exit 2: with the key,
    /// every pseudonym can be reversed). A key readable by group or others gives a warning.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub cohort: CohortArgs,
    /// A patient master read only for each patient's identifying values: a CSV file (roles
    /// from --columns) or an SS-MIX2 storage root (a folder: its PID and NK1 names, addresses,
    /// phones, birth dates). Each file's kept text (clean-descriptors...) is cleaned of the
    /// values of its Patient ID too. Not released; part of the run's settings. Repeatable.
    #[arg(long, value_name = "FILE|DIR")]
    pub identifiers_from: Vec<PathBuf>,
    /// The roles of a CSV --identifiers-from's columns (as `kamei clinical csv --columns`).
    #[arg(long, value_name = "COLUMNS.toml", requires = "identifiers_from")]
    pub columns: Option<PathBuf>,
    /// Keep only studies whose original Study Date is between FROM and TO, inclusive
    /// (YYYYMMDD or YYYY-MM-DD); images without a Study Date are left out and counted.
    #[arg(long, num_args = 2, value_names = ["FROM", "TO"])]
    pub studies_between: Option<Vec<String>>,
    /// Worker threads (default: all cores).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Process only shard I of N (1 ≤ I ≤ N): a deterministic share of the inputs, by path.
    /// Needs --key (shards agree only through a shared key; exit 2 without it).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Output layout.
    #[arg(long, value_enum, default_value_t = LayoutArg::Hierarchy)]
    pub layout: LayoutArg,
    /// Append the re-identification table (original Patient ID → pseudonym, input path →
    /// output path) to FILE, mode 0600. Needs --key; must not be inside OUT.
    #[arg(long, value_name = "FILE")]
    pub linkage: Option<PathBuf>,
    /// Read and plan every input, write nothing, print what would be done (against an existing
    /// OUT: refuse other settings, count finished work, and how many earlier outputs a changed
    /// input would supersede).
    #[arg(long)]
    pub dry_run: bool,
    /// Accept INPUTs that hold no file at all (exit 0). Without it such a run fails (exit 1): an
    /// export mount that failed must not look like a finished release to a script.
    #[arg(long)]
    pub allow_empty: bool,
    /// fsync every output before it is renamed into place (durable against power loss; slower).
    #[arg(long)]
    pub sync: bool,
    /// With --option clean-pixel-data: add the pixel rules (*.toml) of DIR to the built-in ones
    /// (see README, "Burned-in text").
    #[arg(long, value_name = "DIR")]
    pub pixel_rules: Option<PathBuf>,
    /// With --option clean-pixel-data: clean every image with pixel data, whatever its header
    /// says.
    #[arg(long)]
    pub clean_all_pixels: bool,
    /// With --option clean-pixel-data: trust Burned In Annotation NO on the modalities and SOP
    /// classes that usually carry burned-in text (by default they are cleaned anyway).
    #[arg(long, conflicts_with = "clean_all_pixels")]
    pub trust_burned_in_no: bool,
    /// Write a PNG of each cleaned image's first frame, before and after, boxes outlined, under
    /// DIR. DIR is sensitive (the "before" shows identifiers) and must not be inside OUT; a DIR
    /// that cannot be created or written is a usage error (exit 2).
    #[arg(long, value_name = "DIR")]
    pub previews: Option<PathBuf>,
    /// Name inputs by path in messages (paths may contain identifiers; default: by number and
    /// content hash).
    #[arg(long)]
    pub show_paths: bool,
    /// Print nothing but errors.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More messages: -v lists skipped inputs, -vv adds debug logging.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Where the original identifiers come from (`verify`, `report`).
#[derive(Debug, Args, Clone, Default)]
pub struct OriginalsArgs {
    /// The original inputs: their identifying values are searched for in the release.
    #[arg(long, value_name = "INPUT", num_args = 1..)]
    pub against: Vec<PathBuf>,
    /// The linkage table of the release: its original Patient IDs and input path names are
    /// searched for.
    #[arg(long, value_name = "FILE")]
    pub linkage: Option<PathBuf>,
}

/// `kamei verify ...`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The release folder (a `kamei deid` output).
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    #[command(flatten)]
    pub originals: OriginalsArgs,
    /// Profile and options the release was made with (default: those recorded in
    /// OUT/kamei-run.json).
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Write every finding, with the identifier it matched, as JSON to FILE (mode 0600; it
    /// holds identifiers: keep it with the linkage table, never inside OUT).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Opt-out register: confirm that no pseudonym or original ID (in any spelling) of a listed
    /// patient appears anywhere in the release (images, CSV, SS-MIX2, file names). Needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub exclude_patients: Option<PathBuf>,
    /// The key the release was made with: verify refuses (exit 2) a release whose
    /// kamei-run.json records another key's fingerprint; with --exclude-patients, it also
    /// computes the excluded patients' pseudonyms.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Accept a release that holds no output (no DICOM file, no clinical file): without it such
    /// a release is a finding (exit 1), since an empty or unfinished release is no release.
    #[arg(long)]
    pub allow_empty: bool,
}

/// `kamei report ...`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The release folder (a `kamei deid` output).
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// Where to write the HTML page (it holds no identifier and no "before" image).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Original identifiers, to include residual-identifier findings (values are not shown).
    #[command(flatten)]
    pub originals: OriginalsArgs,
    /// Profile and options (default: those recorded in OUT/kamei-run.json).
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `--layout` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// OUT/<patient pseudonym>/<study UID>/<series UID>/<SOP UID>.dcm (different outputs of one
    /// SOP UID: the lowest output SHA-256 keeps that name, the others add 12 hex digits of their
    /// own output SHA-256 before .dcm)
    Hierarchy,
    /// OUT/<input path relative to INPUT> (paths may carry identifiers)
    Mirror,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_repeat_and_shard_parses() {
        let cli = Cli::try_parse_from([
            "kamei",
            "deid",
            "in",
            "-o",
            "out",
            "--option",
            "retain-uids",
            "--option",
            "clean-descriptors",
            "--shard",
            "2/5",
        ])
        .unwrap();
        let Command::Deid(d) = cli.command else { panic!() };
        assert_eq!(d.profile.options, ["retain-uids", "clean-descriptors"]);
        assert_eq!(d.shard, Some(Shard { index: 2, count: 5 }));
    }

    #[test]
    fn pixel_flags_parse() {
        let cli = Cli::try_parse_from([
            "kamei",
            "deid",
            "in",
            "-o",
            "out",
            "--option",
            "clean-pixel-data",
            "--pixel-rules",
            "rules",
            "--clean-all-pixels",
            "--previews",
            "prev",
        ])
        .unwrap();
        let Command::Deid(d) = cli.command else { panic!() };
        assert_eq!(d.pixel_rules, Some(PathBuf::from("rules")));
        assert!(d.clean_all_pixels && !d.trust_burned_in_no);
        assert_eq!(d.previews, Some(PathBuf::from("prev")));
        let both = ["kamei", "deid", "in", "-o", "o", "--clean-all-pixels", "--trust-burned-in-no"];
        assert!(Cli::try_parse_from(both).is_err());
    }

    #[test]
    fn deid_needs_an_output() {
        assert!(Cli::try_parse_from(["kamei", "deid", "in"]).is_err());
    }

    #[test]
    fn bad_shard_is_a_usage_error() {
        assert!(Cli::try_parse_from(["kamei", "deid", "in", "-o", "o", "--shard", "0/3"]).is_err());
    }
}
