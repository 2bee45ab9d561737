//! `truce`: the command line. It parses arguments, reads and writes files, draws
//! progress bars, and calls the libraries; nothing else happens here.
//!
//! Exit codes: 0 success; 1 the command ran but found nothing to work on (no rows
//! kept, no snapshot in force) or a verification failed (a proof, a signature, fsck);
//! 2 an error (bad input, bad arguments, I/O).

mod agreement_cmd;
mod assess;
mod accounts_cmd;
mod commands;
mod files;
mod log_cmd;
mod patrol_cmd;
mod progress;
mod report_cmd;
mod serve;
mod warfire_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// truce: ceasefire monitoring. Reads monitoring feeds (satellite fire detections,
/// event data), places each observation against the dated contact line and the agreed
/// zones, and summarises what it found.
///
/// Start with `truce demo`, which runs the whole chain on the data bundled in `demo/`.
#[derive(Parser)]
#[command(name = "truce", version, about, long_about, after_help = "Exit codes: 0 ok, 1 nothing found or verification failed, 2 error.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read feed files (FIRMS, UCDP GED, ACLED CSV; GeoJSON points) into one GeoParquet
    /// file of observations.
    Ingest(commands::IngestArgs),
    /// Place every observation of a GeoParquet file against the control map in force at
    /// its time: side, signed distance to the contact line, zones, region.
    Classify(commands::ClassifyArgs),
    /// Count classified observations per day x side x distance band.
    Summary(commands::SummaryArgs),
    /// Inspect the control map: list snapshots, or export one snapshot's derived
    /// geometry (occupied area, contact line) as GeoJSON.
    #[command(subcommand)]
    Control(commands::ControlCommand),
    /// Run ingest, classify and summary on the bundled demo data (or on a full data
    /// folder), into a data directory.
    Demo(commands::DemoArgs),
    /// Monitors' patrol reports: sign one for submission to the server.
    #[command(subcommand)]
    Patrol(patrol_cmd::PatrolCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(log_cmd::KeysCommand),
    /// The evidence log: a signed, append-only record of ingested batches, decisions and
    /// reports that anyone holding the log's verifier key can check.
    #[command(subcommand)]
    Log(log_cmd::LogCommand),
    /// War-related fires after The Economist's method: classify FIRMS detections into a
    /// daily table by side, or compare a table with the published one.
    Warfires(warfire_cmd::WarfiresArgs),
    /// Validate an agreement file and print its parties, zones, rules and clauses.
    #[command(subcommand)]
    Agreement(agreement_cmd::AgreementCommand),
    /// Fuse the data directory's observations into incidents, place them against the
    /// line and the agreement's zones, and list the violations and coverage gaps.
    Incidents(agreement_cmd::IncidentsArgs),
    /// Record an analyst's decision on an incident: confirm or reject, with a reason.
    Decide(agreement_cmd::DecideArgs),
    /// The obligations the agreement's clauses raise at an instant: who must do what by
    /// when, pending, fulfilled, breached or withdrawn, and why.
    Obligations(agreement_cmd::ObligationsArgs),
    /// Record that a party did what an obligation asked.
    Act(agreement_cmd::ActArgs),
    /// The daily monitoring report for one day: JSON, Markdown, self-contained HTML and
    /// PDF, with the map, the war-fire chart, the obligations board and the accounts.
    Report(report_cmd::ReportArgs),
    /// Pledges, allocations and deliveries per donor and category, share of GDP, heavy
    /// weapons, monthly series, and what changed between two registry versions.
    Pledges(accounts_cmd::PledgesArgs),
    /// Force generation: project well-trained strength toward the agreed target.
    #[command(subcommand)]
    Forces(accounts_cmd::ForcesCommand),
    /// Serve the HTTP API (JSON under /api/v1, OpenAPI at /api/v1/openapi.json) and OGC
    /// API - Features (/ogc) over an agreement and a data directory, with roles by token.
    Serve(serve::ServeArgs),
}

/// Runs one parsed command line.
fn dispatch(cli: Cli) -> anyhow::Result<commands::Outcome> {
    match cli.command {
        Command::Ingest(a) => commands::ingest(a),
        Command::Classify(a) => commands::classify(a),
        Command::Summary(a) => commands::summary(a),
        Command::Control(c) => commands::control(c),
        Command::Demo(a) => commands::demo(a),
        Command::Patrol(c) => patrol_cmd::patrol(c),
        Command::Keys(c) => log_cmd::keys(c),
        Command::Log(c) => log_cmd::log(c),
        Command::Warfires(a) => warfire_cmd::warfires(a),
        Command::Agreement(c) => agreement_cmd::agreement(c),
        Command::Incidents(a) => agreement_cmd::incidents(a),
        Command::Decide(a) => agreement_cmd::decide(a),
        Command::Obligations(a) => agreement_cmd::obligations(a),
        Command::Act(a) => agreement_cmd::act(a),
        Command::Report(a) => report_cmd::report(a),
        Command::Pledges(a) => accounts_cmd::pledges(a),
        Command::Forces(c) => accounts_cmd::forces(c),
        Command::Serve(a) => serve::serve(a),
    }
}

fn main() -> ExitCode {
    // Output piped into `head` and cut short ends truce quietly, as it ends any Unix
    // tool, instead of a panic in `println!` (Rust ignores SIGPIPE by default).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match dispatch(Cli::parse()) {
        Ok(commands::Outcome::Done) => ExitCode::SUCCESS,
        Ok(commands::Outcome::NothingFound(why)) => {
            eprintln!("truce: {why}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("truce: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
