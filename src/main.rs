//! The `kamei` command. Parses arguments, runs the library, maps results to exit codes.

mod cli;

use anyhow::Result;
use clap::Parser;
use cli::args::{Cli, Command, ProfileCommand};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// mimalloc instead of the system allocator: parsing and planning allocate many small values
/// per file, and glibc's malloc/free were about a tenth of the CPU time of a run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes (documented in README and `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// Every input written (or skipped as not DICOM).
    Success = 0,
    /// The run finished but some inputs failed; a checked profile is invalid; verify found
    /// problems.
    SomeFailed = 1,
    /// Usage or setup error: nothing was written.
    Usage = 2,
    /// Interrupted (Ctrl-C, SIGTERM or SIGHUP); run again to finish (a pseudonymized run; an
    /// anonymized one cannot be resumed).
    Interrupted = 130,
}

fn main() -> ExitCode {
    ignore_file_size_signal();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { Exit::Usage } else { Exit::Success };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            kamei::say!("kamei: {}", one_line(&e));
            ExitCode::from(Exit::Usage as u8)
        }
    }
}

/// Ignore SIGXFSZ: under a file size limit (`ulimit -f`, RLIMIT_FSIZE, as batch systems and
/// containers set it) a write past the limit then fails with EFBIG, which kamei handles like a
/// full disk (the input fails with the reason, temporary files are removed, the run goes on),
/// instead of the signal killing the run with no message, no audit record and exit 153.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN at start, before any thread is spawned;
    // no handler runs.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// An error and its causes on one line, each cause once: many of kamei's errors already name
/// their cause in their own message, which `{:#}` would print a second time.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !line.contains(&c) {
            line.push_str(": ");
            line.push_str(&c);
        }
    }
    line
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 | 1 => "warn",
        2 => "debug",
        _ => "trace",
    };
    // The JPEG 2000 codec logs each broken stream itself; kamei reports the failed input once.
    let filter =
        EnvFilter::try_from_env("KAMEI_LOG").unwrap_or_else(|_| EnvFilter::new(format!("{default},jpeg2k=off")));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .without_time()
        .try_init();
}

fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Keygen { output } => {
            kamei::pseudo::PseudonymKey::write_new(&output)?;
            kamei::say!(
                "kamei: wrote a new key to {} (mode 0600). Keep it secret and keep a backup: without it, pseudonyms cannot be reproduced",
                output.display()
            );
            Ok(Exit::Success)
        }
        Command::Deid(args) => deid(&args),
        Command::Verify(args) => Ok(if cli::verify::run(&args)? { Exit::Success } else { Exit::SomeFailed }),
        Command::Report(args) => cli::verify::report(&args).map(|()| Exit::Success),
        Command::Profile { command: ProfileCommand::Show(args) } => {
            let profile = cli::config::profile(&args)?;
            print_profile(&profile);
            Ok(Exit::Success)
        }
        Command::Profile { command: ProfileCommand::Check { path } } => {
            let problems = kamei::profile::check(&path)?;
            if problems.is_empty() {
                println!("{}: ok", path.display());
                let text = std::fs::read_to_string(&path)?;
                let profile = kamei::profile::Profile::from_toml_str(&text, &path.display().to_string())?;
                print_departures(&profile.departures());
                if let Some(warning) = real_dates_warning(&profile) {
                    println!("warning: {warning}");
                }
                return Ok(Exit::Success);
            }
            for d in &problems {
                println!("{}:{}:{}: {}", path.display(), d.line, d.column, d.message);
            }
            Ok(Exit::SomeFailed)
        }
        Command::Clinical { command } => cli::clinical::clinical(&command).map(exit_of),
        Command::Link { command } => cli::clinical::link(&command).map(exit_of),
    }
}

fn exit_of(code: cli::clinical::Code) -> Exit {
    match code {
        cli::clinical::Code::Success => Exit::Success,
        cli::clinical::Code::SomeFailed => Exit::SomeFailed,
        cli::clinical::Code::Interrupted => Exit::Interrupted,
    }
}

fn print_profile(profile: &kamei::profile::Profile) {
    use std::io::Write;
    let rules = profile.compile();
    let opts: Vec<&str> = profile.options().iter().map(|o| o.name()).collect();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "# profile {} sha256:{}", profile.name(), profile.sha256());
    let _ = writeln!(out, "# options: {}", if opts.is_empty() { "(none)".to_string() } else { opts.join(", ") });
    let _ = writeln!(out, "# strict: {}", profile.strict());
    for d in rules.departures() {
        let _ = writeln!(out, "# departs from Table E.1-1: {} {} -> {}", d.tag, d.table, d.user);
    }
    let _ = writeln!(out, "tag\taction\tsource\tname");
    for row in rules.rows() {
        if writeln!(out, "{}\t{}\t{}\t{}", row.tag, row.action, row.source, row.name).is_err() {
            break; // broken pipe (e.g. `| head`) is fine
        }
    }
}

/// `profile check`'s note on a valid profile that keeps more than Table E.1-1 allows: valid,
/// but its outputs will not claim the basic profile.
fn print_departures(departures: &[kamei::profile::Departure]) {
    if departures.is_empty() {
        return;
    }
    println!(
        "note: {} rule(s) keep more than PS3.15 Table E.1-1 allows; outputs will say \"{}\" in De-identification Method and claim no code (113100 and the option codes) in its code sequence:",
        departures.len(),
        kamei::profile::DEPARTS_LABEL
    );
    for d in departures {
        println!("  {}: table {}, this profile {}", d.tag, d.table, d.user);
    }
}

/// The warning `profile check` and `deid` give for a profile that keeps real dates beside
/// shifted ones ([`kamei::profile::Profile::real_dates_beside_shifted`]), naming the rules
/// (tags, never values); `None` when it keeps none.
fn real_dates_warning(profile: &kamei::profile::Profile) -> Option<String> {
    let kept = profile.real_dates_beside_shifted();
    if kept.is_empty() {
        return None;
    }
    Some(format!(
        "the profile keeps {} real date attribute(s) ({}) while it shifts the other dates: one real date released beside shifted ones gives each patient's date shift away, and with it every real date of that patient; shift or remove them instead",
        kept.len(),
        kept.join(", ")
    ))
}

fn deid(args: &cli::args::DeidArgs) -> Result<Exit> {
    init_logging(args.verbose);
    let interrupt = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(cli::report::Tally::default());
    {
        let flag = Arc::clone(&interrupt);
        let tally = Arc::clone(&tally);
        // Installed before anything else (reading the profile and the key takes tens of
        // milliseconds): a scheduler's early SIGTERM then also ends with 130, not 143.
        // First Ctrl-C (or SIGTERM/SIGHUP: a batch scheduler stopping the job): finish the
        // files in progress and stop. Second: stop now (temporary files are removed by the
        // next run; no final file is ever half-written), saying so first: the `interrupted:`
        // line is the one a wrapper reads to know the run did not finish. The handler runs on
        // a thread of its own (not in signal context), so printing is safe.
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::Relaxed) {
                tally.stopped_at_once();
                std::process::exit(Exit::Interrupted as i32);
            }
        });
    }
    let (job, ui) = cli::config::deid(args)?;
    tally.set_up(job.pseudo.is_keyed(), ui.quiet);
    if job.layout == kamei::layout::Layout::Mirror && !ui.quiet {
        kamei::say!(
            "kamei: warning: --layout mirror copies input paths into OUT; folder and file names often carry patient names or IDs"
        );
    }
    let departures = job.profile.departures();
    if !departures.is_empty() && !ui.quiet {
        kamei::say!(
            "kamei: warning: profile {} keeps more than PS3.15 Table E.1-1 allows in {} rule(s) (`kamei profile check` lists them): outputs do not claim the Basic Application Confidentiality Profile (no code 113100)",
            job.profile.name(),
            departures.len()
        );
    }
    if let Some(warning) = real_dates_warning(&job.profile).filter(|_| !ui.quiet) {
        kamei::say!("kamei: warning: {warning}");
    }
    if job.profile.options().contains(&kamei::profile::DeidOption::CleanRecognizableVisualFeatures) && !ui.quiet {
        kamei::say!(
            "kamei: warning: option clean-recognizable-visual-features is recorded in the audit, but kamei does not find or alter faces (photographs, surface renderings of the head): review such series yourself; outputs do not claim code 113102"
        );
    }
    let console = cli::report::Console::new(ui.quiet, ui.verbose, ui.show_paths, Arc::clone(&tally));
    let summary = kamei::pipeline::run(&job, &console, &interrupt);
    console.finish();
    let summary = summary?;
    let shard_label = (job.shard.count > 1).then(|| job.shard.label());
    let audit = job.out.join(kamei::audit::audit_file_name(shard_label.as_deref()));
    if !ui.quiet {
        cli::report::summary(&summary, job.dry_run, &audit.display().to_string());
    } else {
        cli::report::previews_warning(&summary);
        cli::report::damaged_audit_warning(&summary);
    }
    cli::report::empty_inputs_warning(&summary, args.allow_empty, ui.quiet);
    let resumable = job.pseudo.is_keyed();
    if let Some(why) = &summary.aborted {
        kamei::say!(
            "kamei: stopped: {why}; {} inputs not processed; the outputs written are complete; make room, then {}",
            summary.not_processed(),
            cli::report::how_to_finish(resumable)
        );
        return Ok(Exit::SomeFailed);
    }
    if summary.interrupted {
        // Printed even with --quiet: the run did not finish, and an unattended wrapper's log
        // must say whether running it again finishes it.
        kamei::say!(
            "kamei: interrupted: {} inputs not processed; {}",
            summary.not_processed(),
            cli::report::how_to_finish(resumable)
        );
    }
    Ok(if summary.interrupted {
        Exit::Interrupted
    } else if summary.failed > 0 || (summary.no_input_file && !args.allow_empty) {
        // INPUTs that hold no file at all: a mount that failed must not look like a release.
        Exit::SomeFailed
    } else {
        Exit::Success
    })
}
