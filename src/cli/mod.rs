//! The `kyso` command line: argument definitions (clap) and the commands.
//! Exit codes: 0 success, 1 failure, 2 bad usage or bad input.

mod bench;
mod ca;
mod record;
mod report;
mod serve;
mod sign;
mod sign_many;
mod sign_stream;
mod units;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// kyso — signs, verifies and records official PDF documents (PAdES) for a
/// province's e-government.
#[derive(Debug, Parser)]
#[command(name = "kyso", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gRPC service: signing, verification, records and reports
    /// (first start creates the records database with the demo unit registry
    /// and a development PKI in the data directory).
    Serve(serve::ServeArgs),
    /// Sign a PDF, through a running server or offline with a key file.
    Sign(Box<sign::SignArgs>),
    /// Sign many PDFs through a running server on one stream, each recorded
    /// under its own document id (its file name).
    SignMany(sign_many::SignManyArgs),
    /// Verify the signatures of a PDF and report the facts and the verdict.
    Verify(verify::VerifyArgs),
    /// List, add and import the units a server records for.
    Units(units::UnitsArgs),
    /// Report documents a server never signed or verified (paper, unsigned,
    /// signed elsewhere), so the ledger's totals are complete.
    Record(record::RecordArgs),
    /// Signing-rate report for a period, per unit and rolled up (auditors).
    Report(report::ReportArgs),
    /// kyso's certification authority: issue, import, list and revoke
    /// certificates, fetch CRLs.
    Ca(ca::CaArgs),
    /// Load generators: sign documents through a server with concurrent
    /// clients and compare the rate with the raw key operation.
    Bench(bench::BenchArgs),
}

/// How a command failed, which decides the exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The input or the arguments are bad (exit 2).
    #[error("{0}")]
    BadInput(String),
    /// Anything else (exit 1).
    #[error("{0}")]
    Failure(String),
}

impl CliError {
    fn exit_code(&self) -> ExitCode {
        match self {
            CliError::BadInput(_) => ExitCode::from(2),
            CliError::Failure(_) => ExitCode::from(1),
        }
    }
}

/// A runtime for the CLI's calls to a server.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failure(format!("cannot start the async runtime: {e}")))
}

/// A failed call to the server: bad input (exit 2) when the server judged
/// the request itself wrong, otherwise a failure (exit 1).
fn client_error(error: crate::api::client::ClientError) -> CliError {
    if error.is_bad_input() {
        CliError::BadInput(error.to_string())
    } else {
        CliError::Failure(error.to_string())
    }
}

/// Parses the arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).map(|()| ExitCode::SUCCESS),
        Command::Sign(args) => sign::run(*args).map(|()| ExitCode::SUCCESS),
        Command::SignMany(args) => sign_many::run(args).map(|()| ExitCode::SUCCESS),
        Command::Verify(args) => verify::run(args),
        Command::Units(args) => units::run(args).map(|()| ExitCode::SUCCESS),
        Command::Record(args) => record::run(args).map(|()| ExitCode::SUCCESS),
        Command::Report(args) => report::run(args).map(|()| ExitCode::SUCCESS),
        Command::Ca(args) => ca::run(args).map(|()| ExitCode::SUCCESS),
        Command::Bench(args) => bench::run(args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("kyso: {error}");
            error.exit_code()
        }
    }
}
