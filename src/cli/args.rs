//! Command-line arguments as the user typed them (clap derive). No I/O here: [`super::config`]
//! turns them into a validated job.

use clap::{Args, Parser, Subcommand, ValueEnum};
use kamei::walk::Shard;
use std::path::PathBuf;

/// De-identify DICOM archives per DICOM PS3.15 Annex E.
///
/// Exit codes: 0 success; 1 some inputs failed (deid), or a profile is invalid (profile check);
/// 2 usage or setup error, nothing written; 130 interrupted.
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
    /// Show or check de-identification profiles.
    Profile {
        /// What to do with profiles.
        #[command(subcommand)]
        command: ProfileCommand,
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
    /// Built-in profile name (basic) or path to a user profile (TOML) that extends one.
    #[arg(long, value_name = "NAME|PATH", default_value = "basic")]
    pub profile: String,
    /// A PS3.15 option, e.g. retain-uids; repeat for several. See README for the list.
    #[arg(long = "option", value_name = "NAME")]
    pub options: Vec<String>,
    /// Allow-list mode: remove every attribute that is not explicitly kept.
    #[arg(long)]
    pub strict: bool,
    /// Largest date shift in days (default 365, or the profile's).
    #[arg(long, value_name = "DAYS")]
    pub date_shift_max_days: Option<u32>,
    /// Shift dates by whole weeks, keeping the day of the week.
    #[arg(long)]
    pub keep_weekday: bool,
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
    /// machines. Without it: anonymized mode with a random in-memory key.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Worker threads (default: all cores).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Process only shard I of N (1 ≤ I ≤ N): a deterministic share of the inputs, by path.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Output layout.
    #[arg(long, value_enum, default_value_t = LayoutArg::Hierarchy)]
    pub layout: LayoutArg,
    /// Append the re-identification table (original Patient ID → pseudonym, input path →
    /// output path) to FILE, mode 0600. Needs --key; must not be inside OUT.
    #[arg(long, value_name = "FILE")]
    pub linkage: Option<PathBuf>,
    /// Read and plan every input, write nothing, print what would be done.
    #[arg(long)]
    pub dry_run: bool,
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
    /// DIR. DIR is sensitive (the "before" shows identifiers) and must not be inside OUT.
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

/// `--layout` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// OUT/<patient pseudonym>/<study UID>/<series UID>/<SOP UID>.dcm
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
