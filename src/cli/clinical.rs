//! `kamei clinical ...` and `kamei link ...`: arguments, setup checks and reporting for the
//! clinical data commands. The work is in `kamei::clinical`; this file turns flags into jobs
//! (failing before anything is read, exit code 2) and prints summaries to stderr and machine
//! output to stdout.

use super::args::ProfileArgs;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use kamei::clinical::{self, ClinicalOption, Problem};
use kamei::pseudo::Pseudonymizer;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// `kamei clinical ...`
#[derive(Debug, Subcommand)]
pub enum ClinicalCommand {
    /// De-identify CSV exports column by column (COLUMNS.toml gives every column a role).
    Csv(CsvArgs),
    /// De-identify an SS-MIX2 standardized storage tree into a new tree under pseudonyms.
    #[command(name = "ss-mix2")]
    SsMix2(SsMix2Args),
    /// Print the SS-MIX2 rule table: field, action, source (tab-separated).
    Rules,
}

/// `kamei link ...`
#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Which patients appear in images only, clinical data only, or both, per data set, with the
    /// date-range overlap per patient (tab-separated on stdout).
    Report(ReportArgs),
    /// List the groups of a CSV release smaller than k on its quasi-identifiers.
    #[command(name = "k-anonymity")]
    KAnonymity(KAnonArgs),
}

/// The key and date shift settings every clinical command shares with `kamei deid`.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Key file (from `kamei keygen`), the same key the images were de-identified with. Required:
    /// linking clinical data to images is the point. It must not be inside OUT or an INPUT
    /// (exit 2: with the key, every pseudonym can be reversed); a key readable by group or
    /// others gives a warning.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// An option: retain-long-modified-dates (shift dates by the patient's offset, as deid does
    /// with the same option); ss-mix2 also takes clean-free-text and keep-invalid. Repeatable.
    #[arg(long = "option", value_name = "NAME")]
    pub options: Vec<String>,
    /// The deid profile whose [date_shift] settings to use (built-in name or TOML path), so
    /// shifts match the images; its retain-long-modified-dates option applies too.
    #[arg(long, value_name = "NAME|PATH", default_value = "basic")]
    pub profile: String,
    /// Largest date shift in days: must equal the value deid used (default 365 or the
    /// profile's).
    #[arg(long, value_name = "DAYS")]
    pub date_shift_max_days: Option<u32>,
    /// Shift by whole weeks: must match deid's --keep-weekday.
    #[arg(long)]
    pub keep_weekday: bool,
    /// Append the re-identification table (original ID → pseudonym, input → output) to FILE,
    /// mode 0600. Must not be inside the output or an input.
    #[arg(long, value_name = "FILE")]
    pub linkage: Option<PathBuf>,
    /// fsync every output before it is renamed into place.
    #[arg(long)]
    pub sync: bool,
    /// Print only problems, no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Input encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncodingArg {
    /// UTF-8 if there is a byte order mark or the file is valid UTF-8, else Shift_JIS or EUC-JP,
    /// whichever the whole file is valid in (both: the one that reads as more kana; a tie fails).
    Auto,
    /// UTF-8 (with or without byte order mark).
    #[value(name = "utf-8")]
    Utf8,
    /// Shift_JIS / CP932 (Windows-31J).
    #[value(name = "shift_jis", alias = "cp932", alias = "sjis")]
    ShiftJis,
    /// EUC-JP.
    #[value(name = "euc-jp", alias = "eucjp")]
    EucJp,
}

/// `kamei clinical csv ...`
#[derive(Debug, Args)]
pub struct CsvArgs {
    /// CSV files, or folders (their .csv, .tsv and .txt files, recursively).
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder; each input is written as OUT_DIR/<its file name>, UTF-8, with every
    /// identifier its rows give (ID, name, birth date...) replaced in the name by the pseudonym,
    /// a date in the name shifted with the rows' dates or replaced, and a keyed tag added (see
    /// README).
    #[arg(short, long, value_name = "OUT_DIR")]
    pub output: PathBuf,
    /// The role of every column (TOML; see README and testdata/clinical/columns.example.toml).
    #[arg(long, value_name = "COLUMNS.toml")]
    pub columns: PathBuf,
    /// Input encoding.
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
    pub encoding: EncodingArg,
    /// Field delimiter: one character, or `tab`.
    #[arg(long, value_name = "CHAR", default_value = ",")]
    pub delimiter: String,
    /// A CSV file read only for each patient's identifying values (a patient master: its
    /// patient-id, name, identifier, postal-code and birth-date columns, roles from
    /// --columns), or an SS-MIX2 storage root (a folder: its PID and NK1 names, addresses,
    /// phones and birth dates); every input's free text and output name is cleaned of them
    /// too. Not released. Repeatable.
    #[arg(long, value_name = "FILE|DIR")]
    pub identifiers_from: Vec<PathBuf>,
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub cohort: super::args::CohortArgs,
}

/// `kamei clinical ss-mix2 ...`
#[derive(Debug, Args)]
pub struct SsMix2Args {
    /// The standardized storage root (ROOT/<ID[0:3]>/<ID[3:6]>/<ID>/<date>/<type>/<file>).
    #[arg(value_name = "ROOT")]
    pub root: PathBuf,
    /// Output root: the same layout under pseudonyms.
    #[arg(short, long, value_name = "OUT_ROOT")]
    pub output: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// An SS-MIX2 storage root (a folder) or a CSV patient master (roles from --columns) read
    /// only for each patient's identifying values: every message's free text is cleaned of
    /// its patient's values there too. Not released. Repeatable.
    #[arg(long, value_name = "FILE|DIR")]
    pub identifiers_from: Vec<PathBuf>,
    /// The roles of a CSV --identifiers-from's columns (as `clinical csv --columns`).
    #[arg(long, value_name = "COLUMNS.toml")]
    pub columns: Option<PathBuf>,
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub cohort: super::args::CohortArgs,
}

/// `kamei link report ...`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The output folder of `kamei deid`.
    #[arg(long, value_name = "OUT")]
    pub images: PathBuf,
    /// Output folders of `kamei clinical csv` or `kamei clinical ss-mix2`.
    #[arg(long, value_name = "OUT_DIR", required = true, num_args = 1..)]
    pub clinical: Vec<PathBuf>,
}

/// `kamei link k-anonymity ...`
#[derive(Debug, Args)]
pub struct KAnonArgs {
    /// A CSV release (UTF-8), e.g. a `kamei clinical csv` output.
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,
    /// A quasi-identifier column (repeatable). Default: the columns whose role in --columns is
    /// age, birth-date, sex or postal-code (or marked quasi = true), else those recorded in the
    /// output folder's kamei-columns.json.
    #[arg(long = "quasi", value_name = "COL")]
    pub quasi: Vec<String>,
    /// Smallest allowed group (patients).
    #[arg(long, value_name = "K", default_value_t = clinical::kanon::DEFAULT_K)]
    pub k: usize,
    /// COLUMNS.toml that describes the file (for quasi-identifier and patient-id columns).
    #[arg(long, value_name = "COLUMNS.toml")]
    pub columns: Option<PathBuf>,
    /// The column that identifies patients (groups count distinct patients); default from
    /// --columns or kamei-columns.json; without one, rows are counted.
    #[arg(long, value_name = "COL")]
    pub patient_column: Option<String>,
}

/// How a clinical command ended (mapped to exit codes in main.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Everything written (exit 0).
    Success,
    /// Some rows, messages or files failed, or k-anonymity violations or a key mismatch were
    /// found (exit 1).
    SomeFailed,
    /// Ctrl-C (exit 130).
    Interrupted,
}

/// Prints problems to stderr, one line each, naming the input and the row or segment.
struct Console;

impl clinical::Reporter for Console {
    fn problem(&self, input: &str, problem: &Problem) {
        kamei::say!("kamei: {}: {}", super::report::sanitize(input), super::report::sanitize(&problem.to_string()));
    }
}

fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&flag);
    let _ = ctrlc::set_handler(move || f.store(true, Ordering::Relaxed));
    flag
}

fn options(names: &[String], allowed: &[ClinicalOption], command: &str) -> Result<Vec<ClinicalOption>> {
    let mut out = Vec::new();
    for name in names {
        match ClinicalOption::from_name(name).filter(|o| allowed.contains(o)) {
            Some(o) => out.push(o),
            None => {
                let known: Vec<&str> = allowed.iter().map(|o| o.name()).collect();
                bail!("unknown option {name:?} for {command}; the options are: {}", known.join(", "));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The deid profile of `--profile`, with `--date-shift-max-days` / `--keep-weekday`.
fn profile(k: &KeyArgs) -> Result<kamei::profile::Profile> {
    super::config::profile(&ProfileArgs {
        profile: Some(k.profile.clone()),
        options: Vec::new(),
        strict: false,
        date_shift_max_days: k.date_shift_max_days,
        keep_weekday: k.keep_weekday,
    })
}

fn pseudonymizer(k: &KeyArgs) -> Result<Pseudonymizer> {
    let key = super::config::read_key(&k.key)?;
    Ok(Pseudonymizer::new(&key, profile(k)?.date_shift()))
}

/// The `--option`s given, and those the profile's `options` list that the clinical commands
/// share with deid (`retain-long-modified-dates`), so that "the same profile as deid" keeps
/// the same dates (rv22 suspect 13). The others (`retain-device-identity`...) are about DICOM.
fn options_with_profile(k: &KeyArgs, allowed: &[ClinicalOption], command: &str) -> Result<Vec<ClinicalOption>> {
    let mut out = options(&k.options, allowed, command)?;
    if profile(k)?.options().contains(&kamei::profile::DeidOption::RetainLongModifiedDates) {
        out.push(ClinicalOption::RetainLongModifiedDates);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn absolute(p: &Path) -> Result<PathBuf> {
    super::config::absolute(p)
}

/// Refuse the key file or a linkage table inside the output or an input
/// ([`super::config::keep_apart`]), and an output inside an input (or the reverse), by name and
/// by file system identity ([`super::config::within`]: a bind mount); and a linkage table that
/// is the key file or another file that is no linkage table
/// ([`super::config::check_linkage_file`]).
fn check_paths(out: &Path, inputs: &[PathBuf], linkage: Option<&Path>, k: &KeyArgs) -> Result<PathBuf> {
    let out_abs = absolute(out)?;
    if out.exists() && !out.is_dir() {
        bail!("output {} exists and is not a folder", out.display());
    }
    for (i, input) in inputs.iter().enumerate() {
        if !input.exists() {
            // Not a setup error: a missing input (rotated away, a link to an unmounted share)
            // fails on its own when it is read, the others are processed (exit 1), as in deid.
            continue;
        }
        let abs = absolute(input)?;
        // By name, and by (device, inode): the same folder reached through another mount point.
        let inside = |a: &Path, b: &Path| a.starts_with(b) || super::config::within(a, b);
        if inside(&abs, &out_abs) || (abs.is_dir() && inside(&out_abs, &abs)) {
            bail!(
                "the output folder (-o) and INPUT argument #{} overlap; choose an output folder outside the inputs",
                i + 1
            );
        }
    }
    super::config::keep_apart("the key file (--key)", &k.key, &out_abs, inputs)?;
    if let Some(link) = linkage {
        super::config::keep_apart("the linkage table", link, &out_abs, inputs)?;
        let fingerprint = pseudonymizer(k)?.key_fingerprint().to_string();
        super::config::check_linkage_file(link, Some(&k.key), Some(&fingerprint))?;
    }
    Ok(out_abs)
}

/// Run `kamei clinical ...`.
pub fn clinical(command: &ClinicalCommand) -> Result<Code> {
    match command {
        ClinicalCommand::Csv(args) => csv(args),
        ClinicalCommand::SsMix2(args) => ssmix2(args),
        ClinicalCommand::Rules => {
            use std::io::Write;
            let table = clinical::rules::RuleTable::builtin();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "# ss-mix2 rules sha256:{}", table.sha256());
            let _ = writeln!(out, "field\taction\tsource");
            for (field, action, source) in table.rows() {
                if writeln!(out, "{field}\t{action}\t{source}").is_err() {
                    break;
                }
            }
            Ok(Code::Success)
        }
    }
}

/// Whether a file found in an input folder is read as a CSV export (by its extension).
fn csv_extension(p: &Path) -> bool {
    p.extension().is_some_and(|x| matches!(x.to_string_lossy().to_ascii_lowercase().as_str(), "csv" | "tsv" | "txt"))
}

/// The CSV files of the inputs: files as given (one that does not exist fails when it is
/// read), and the CSV files of folders, links followed. An entry of a folder that cannot be
/// read — a link to nothing (`b.csv` → a share not mounted), a link loop, a folder without
/// permission — is kept too, so that it fails, is counted and makes the run exit 1: a file
/// skipped silently would be a lost export reported as released.
fn csv_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(input)
                .follow_links(true)
                .into_iter()
                .filter_map(|e| match e {
                    Ok(e) => (e.file_type().is_file() && csv_extension(e.path())).then(|| e.into_path()),
                    Err(e) => {
                        let dangling = e.io_error().is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound);
                        e.path().filter(|p| !dangling || csv_extension(p)).map(Path::to_path_buf)
                    }
                })
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    let mut names = std::collections::HashMap::new();
    for (i, f) in files.iter().enumerate() {
        let name = f.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        // Named by their place among the inputs: a per-patient export's name holds the ID.
        if let Some(first) = names.insert(name, i + 1) {
            bail!(
                "inputs #{first} and #{} have the same file name; outputs are named after their input, so rename one",
                i + 1
            );
        }
    }
    Ok(files)
}

/// Read the `--identifiers-from` sources: CSV masters (roles from `columns`) and SS-MIX2
/// storage roots (folders). Each is named by its position only (a master's file name may hold
/// an ID); one inside OUT is refused (it would be released), and so is a storage holding OUT
/// (it would read the outputs).
pub(crate) fn identifier_sources(
    paths: &[PathBuf],
    out: &Path,
    columns: Option<&clinical::columns::Columns>,
    options: &clinical::csv::CsvOptions,
    pseudo: &Pseudonymizer,
    interrupt: &AtomicBool,
) -> Result<clinical::csv::IdentifierSources> {
    for (i, p) in paths.iter().enumerate() {
        if !p.exists() {
            bail!(
                "--identifiers-from #{}: does not exist; give a CSV file (a patient master) or an SS-MIX2 storage root",
                i + 1
            );
        }
        let abs = absolute(p)?;
        if abs.starts_with(absolute(out)?) || super::config::within(&abs, out) {
            bail!("--identifiers-from #{}: lies inside the output folder, which is released; keep it outside", i + 1);
        }
        if p.is_dir() && (absolute(out)?.starts_with(&abs) || super::config::within(out, &abs)) {
            bail!(
                "--identifiers-from #{}: the output folder lies inside this SS-MIX2 storage; write it elsewhere",
                i + 1
            );
        }
    }
    clinical::csv::IdentifierSources::read(paths, columns, options, pseudo, interrupt)
        .map_err(|(i, e)| anyhow::anyhow!("--identifiers-from #{i}: {e}"))
}

fn csv(args: &CsvArgs) -> Result<Code> {
    let opts = options_with_profile(&args.key, &[ClinicalOption::RetainLongModifiedDates], "clinical csv")?;
    let columns = clinical::columns::Columns::load(&args.columns)?;
    let delimiter = match args.delimiter.as_str() {
        "tab" | "\\t" | "\t" => b'\t',
        d if d.len() == 1 && d != "\"" && d != "\n" && d != "\r" => d.as_bytes()[0],
        _ => bail!("--delimiter must be one ASCII character (or `tab`)"),
    };
    let out = check_paths(&args.output, &args.inputs, args.key.linkage.as_deref(), &args.key)?;
    let inputs = csv_inputs(&args.inputs)?;
    let pseudo = pseudonymizer(&args.key)?;
    let encoding = match args.encoding {
        EncodingArg::Auto => clinical::csv::Encoding::Auto,
        EncodingArg::Utf8 => clinical::csv::Encoding::Utf8,
        EncodingArg::ShiftJis => clinical::csv::Encoding::ShiftJis,
        EncodingArg::EucJp => clinical::csv::Encoding::EucJp,
    };
    let options = clinical::csv::CsvOptions {
        retain_dates: opts.contains(&ClinicalOption::RetainLongModifiedDates),
        encoding,
        delimiter,
        cohort: Some(std::sync::Arc::new(super::config::cohort(&args.cohort, None, args.key.linkage.as_deref())?))
            .filter(|c| c.is_active()),
    };
    let interrupt = interrupt_flag();
    let sources = identifier_sources(&args.identifiers_from, &out, Some(&columns), &options, &pseudo, &interrupt)?;
    let job = clinical::csv::CsvJob {
        inputs,
        out,
        columns,
        pseudo,
        options,
        linkage: args.key.linkage.clone(),
        sync: args.key.sync,
        sources,
    };
    let s = clinical::csv::run(&job, &Console, &interrupt)?;
    if !args.key.quiet {
        let secs = s.elapsed.as_secs_f64().max(1e-9);
        let mb = s.bytes as f64 / 1e6;
        kamei::say!(
            "kamei: {} files ({:.1} MB) in {:.2} s: {} written, {} already present, {} failed; {} rows read, {} written, {} dropped as malformed, {} values emptied; {} patients; {:.1} MB/s",
            s.files,
            mb,
            secs,
            s.written,
            s.present,
            s.failed,
            s.rows_read,
            s.rows_written,
            s.rows_dropped,
            s.values_emptied,
            s.patients,
            mb / secs
        );
        if s.rows_excluded > 0 {
            kamei::say!(
                "kamei: {} rows of {} patients left out (opted out or not in the cohort){}",
                s.rows_excluded,
                s.patients_excluded,
                if s.excluded_files > 0 {
                    format!("; {} files not written (all their rows left out)", s.excluded_files)
                } else {
                    String::new()
                }
            );
        }
        if s.empty_files > 0 {
            kamei::say!(
                "kamei: {} files not written: no row to release (their names were checked against no row)",
                s.empty_files
            );
        }
        kamei::say!("kamei: audit log {}", job.out.join(kamei::audit::AUDIT_FILE).display());
    }
    Ok(if s.interrupted {
        kamei::say!("kamei: interrupted; run the same command again to finish");
        Code::Interrupted
    } else if s.failed > 0 || s.rows_dropped > 0 {
        Code::SomeFailed
    } else {
        Code::Success
    })
}

fn ssmix2(args: &SsMix2Args) -> Result<Code> {
    let opts = options_with_profile(&args.key, &ClinicalOption::ALL, "clinical ss-mix2")?;
    if !args.root.is_dir() {
        bail!("{} is not a folder (the SS-MIX2 standardized storage root)", args.root.display());
    }
    let out = check_paths(&args.output, std::slice::from_ref(&args.root), args.key.linkage.as_deref(), &args.key)?;
    let jobs = match args.jobs {
        Some(0) => bail!("--jobs must be at least 1"),
        Some(n) => n,
        None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    let mut job = clinical::ssmix2::SsMix2Job {
        root: args.root.clone(),
        out,
        pseudo: pseudonymizer(&args.key)?,
        options: opts,
        linkage: args.key.linkage.clone(),
        jobs,
        sync: args.key.sync,
        cohort: super::config::cohort(&args.cohort, None, args.key.linkage.as_deref())?,
        sources: Default::default(),
    };
    let interrupt = interrupt_flag();
    let columns = args.columns.as_deref().map(clinical::columns::Columns::load).transpose()?;
    let options = clinical::csv::CsvOptions::default();
    job.sources =
        identifier_sources(&args.identifiers_from, &job.out, columns.as_ref(), &options, &job.pseudo, &interrupt)?;
    let s = clinical::ssmix2::run(&job, &Console, &interrupt)?;
    if !args.key.quiet {
        let secs = s.elapsed.as_secs_f64().max(1e-9);
        kamei::say!(
            "kamei: {} patients, {} files ({:.1} MB) in {:.2} s: {} written, {} already present, {} skipped (condition flag 0), {} failed; {} unlisted segments removed",
            s.patients,
            s.files,
            s.bytes as f64 / 1e6,
            secs,
            s.written,
            s.present,
            s.skipped_invalid,
            s.failed,
            s.segments_removed
        );
        if s.read_as_shift_jis > 0 {
            kamei::say!(
                "kamei: {} messages read as Shift_JIS (SS-MIX2 text is ISO-2022-JP) and written as ISO-2022-JP (or as the UTF-8 MSH-18 declares); see the audit notes",
                s.read_as_shift_jis
            );
        }
        if s.excluded_patients > 0 || s.excluded_files > 0 {
            // Files also count messages of admitted folders whose PID-3 names a left-out patient.
            kamei::say!(
                "kamei: {} patient folders ({} files) left out (opted out or not in the cohort)",
                s.excluded_patients,
                s.excluded_files
            );
        }
        kamei::say!("kamei: audit log {}", job.out.join(kamei::audit::AUDIT_FILE).display());
    }
    if s.merged_ids > 0 {
        // The IDs themselves go only to the linkage table (never to stderr).
        let table = if job.linkage.is_some() {
            "the linkage table lists them as `merged` rows: give deid and clinical csv the same --linkage table, or add them to the register"
        } else {
            "run again with --linkage FILE to have them listed as `merged` rows, then give deid and clinical csv the same table or add them to the register"
        };
        kamei::say!(
            "kamei: warning: {} patient ID(s) not in the opt-out register were left out because a merge makes them an opted-out patient; {table}",
            s.merged_ids
        );
    }
    Ok(if s.interrupted {
        kamei::say!("kamei: interrupted; run the same command again to finish");
        Code::Interrupted
    } else if s.failed > 0 {
        Code::SomeFailed
    } else {
        Code::Success
    })
}

/// Run `kamei link ...`.
pub fn link(command: &LinkCommand) -> Result<Code> {
    match command {
        LinkCommand::Report(args) => report(args),
        LinkCommand::KAnonymity(args) => kanon(args),
    }
}

fn date(r: &clinical::link_report::Range, first: bool) -> String {
    r.0.map(|(a, b)| if first { a } else { b }).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn report(args: &ReportArgs) -> Result<Code> {
    use std::io::Write;
    let r = clinical::link_report::build(&args.images, &args.clinical)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "# summary")?;
    writeln!(out, "dataset\tkind\timages_only\tclinical_only\tboth")?;
    for (i, d) in r.datasets.iter().enumerate() {
        let c = r.counts(i);
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            super::report::sanitize(&d.name),
            d.kind,
            c.images_only,
            c.clinical_only,
            c.both
        )?;
    }
    writeln!(out, "# patients")?;
    writeln!(out, "dataset\tpseudonym\tin\timages_first\timages_last\tclinical_first\tclinical_last\toverlap_days")?;
    let none = clinical::link_report::Range::default();
    for d in &r.datasets {
        let ids: std::collections::BTreeSet<&String> = r.images.keys().chain(d.patients.keys()).collect();
        for id in ids {
            let (img, cli) = (r.images.get(id), d.patients.get(id));
            let place = match (img, cli) {
                (Some(_), Some(_)) => "both",
                (Some(_), None) => "images",
                _ => "clinical",
            };
            let (img, cli) = (img.unwrap_or(&none), cli.unwrap_or(&none));
            let overlap = img.overlap_days(cli).map(|n| n.to_string()).unwrap_or_default();
            writeln!(
                out,
                "{}\t{}\t{place}\t{}\t{}\t{}\t{}\t{overlap}",
                super::report::sanitize(&d.name),
                super::report::sanitize(id),
                date(img, true),
                date(img, false),
                date(cli, true),
                date(cli, false)
            )?;
        }
    }
    out.flush()?;
    for name in &r.key_mismatch {
        kamei::say!(
            "kamei: warning: {} was de-identified with another key than the images; its pseudonyms cannot match",
            super::report::sanitize(name)
        );
    }
    for name in &r.shift_mismatch {
        kamei::say!(
            "kamei: warning: {} was de-identified with other date shift settings than the images (--date-shift-max-days, --keep-weekday); its dates do not line up with theirs",
            super::report::sanitize(name)
        );
    }
    for name in &r.real_beside_shifted {
        kamei::say!(
            "kamei: warning: {} holds shifted dates where the images hold real ones, or the reverse (retain-long-modified-dates on one side, retain-long-full-dates on the other): its dates do not line up with theirs, and together they give each patient's date offset away; de-identify both with the same temporal option",
            super::report::sanitize(name)
        );
    }
    for name in &r.unchecked {
        kamei::say!(
            "kamei: warning: {} has no kamei-run.json recording its key: whether it was made with the same key and date shift settings cannot be checked",
            super::report::sanitize(name)
        );
    }
    if let Some((read, recorded)) = r.images_unread {
        kamei::say!(
            "kamei: warning: the image folder's audit log records {recorded} outputs, but only {read} DICOM files were read there (removed, renamed or damaged since?): the report understates the images"
        );
    }
    let checked = r.key_mismatch.is_empty()
        && r.images_unread.is_none()
        && r.shift_mismatch.is_empty()
        && r.real_beside_shifted.is_empty()
        && r.unchecked.is_empty();
    Ok(if checked { Code::Success } else { Code::SomeFailed })
}

fn kanon(args: &KAnonArgs) -> Result<Code> {
    use std::io::Write;
    if args.k < 2 {
        bail!("--k must be at least 2");
    }
    let mut quasi = args.quasi.clone();
    let mut patient = args.patient_column.clone();
    if let Some(path) = &args.columns {
        let columns = clinical::columns::Columns::load(path)?;
        let header = csv::ReaderBuilder::new()
            .from_path(&args.file)
            .and_then(|mut r| r.headers().cloned())
            .with_context(|| format!("could not read {}", args.file.display()))?;
        for h in header.iter() {
            if let Some(c) = columns.get(h) {
                if c.quasi && args.quasi.is_empty() {
                    quasi.push(h.to_string());
                }
                if c.role == clinical::columns::Role::PatientId && patient.is_none() {
                    patient = Some(h.to_string());
                }
            }
        }
    } else if let Some(dir) = args.file.parent() {
        let manifest = clinical::csv::read_manifest(if dir.as_os_str().is_empty() { Path::new(".") } else { dir })?;
        let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some(entry) = manifest.get(&name) {
            if quasi.is_empty() {
                quasi = entry.quasi.clone();
            }
            if patient.is_none() {
                patient = entry.patient_id.clone();
            }
        }
    }
    if quasi.is_empty() {
        bail!("no quasi-identifier columns: name them with --quasi, or give --columns COLUMNS.toml");
    }
    let r = clinical::kanon::check(&args.file, &quasi, patient.as_deref(), args.k)?;
    let mut out = std::io::stdout().lock();
    let unit = if r.counts_patients { "patients" } else { "rows" };
    let header: Vec<String> = r.columns.iter().map(|c| super::report::sanitize(c)).collect();
    writeln!(out, "{}\t{unit}", header.join("\t"))?;
    for g in &r.small {
        let values: Vec<String> = g.values.iter().map(|v| super::report::sanitize(v)).collect();
        writeln!(out, "{}\t{}", values.join("\t"), g.size)?;
    }
    out.flush()?;
    // A ragged row: its line and field count, never its values.
    for (line, fields) in &r.malformed {
        kamei::say!(
            "kamei: line {line}: the row has {fields} fields, the header has {}; left out of every group",
            r.width
        );
    }
    kamei::say!(
        "kamei: {} rows, {} groups on {}; {} smaller than k={} ({unit}); {} malformed",
        r.rows,
        r.groups,
        header.join(", "),
        r.small.len(),
        args.k,
        r.malformed.len()
    );
    Ok(if r.small.is_empty() && r.malformed.is_empty() { Code::Success } else { Code::SomeFailed })
}

#[cfg(test)]
mod tests {
    use super::super::args::{Cli, Command};
    use super::*;
    use clap::Parser;

    #[test]
    fn clinical_commands_parse() {
        let cli = Cli::try_parse_from([
            "kamei",
            "clinical",
            "csv",
            "a.csv",
            "b.csv",
            "-o",
            "out",
            "--key",
            "k",
            "--columns",
            "c.toml",
            "--option",
            "retain-long-modified-dates",
            "--encoding",
            "cp932",
        ])
        .unwrap();
        let Command::Clinical { command: ClinicalCommand::Csv(a) } = cli.command else { panic!() };
        assert_eq!(a.inputs.len(), 2);
        assert_eq!(a.encoding, EncodingArg::ShiftJis);
        assert!(
            Cli::try_parse_from(["kamei", "clinical", "csv", "a.csv", "-o", "out", "--columns", "c"]).is_err(),
            "--key is required"
        );
        assert!(Cli::try_parse_from(["kamei", "clinical", "ss-mix2", "root", "-o", "o", "--key", "k"]).is_ok());
        assert!(Cli::try_parse_from(["kamei", "link", "report", "--images", "i", "--clinical", "a", "b"]).is_ok());
        assert!(Cli::try_parse_from(["kamei", "link", "k-anonymity", "f.csv", "--quasi", "age", "--k", "5"]).is_ok());
    }

    #[test]
    fn options_are_checked_per_command() {
        assert!(
            options(&["clean-free-text".into()], &[ClinicalOption::RetainLongModifiedDates], "clinical csv").is_err()
        );
        assert_eq!(
            options(&["keep-invalid".into(), "keep-invalid".into()], &ClinicalOption::ALL, "x").unwrap(),
            [ClinicalOption::KeepInvalid]
        );
    }
}
