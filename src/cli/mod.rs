//! The `kyso` command line: argument definitions (clap) and the commands.
//! Exit codes: 0 success, 1 failure, 2 bad usage or bad input.

mod serve;
mod sign;
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
    /// Run the gRPC signing service (creates a development PKI and demo unit
    /// registry in the data directory on first start).
    Serve(serve::ServeArgs),
    /// Sign a PDF, through a running server or offline with a key file.
    Sign(Box<sign::SignArgs>),
    /// Verify the signatures of a PDF and report the facts and the verdict.
    Verify(verify::VerifyArgs),
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

/// Parses the arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).map(|()| ExitCode::SUCCESS),
        Command::Sign(args) => sign::run(*args).map(|()| ExitCode::SUCCESS),
        Command::Verify(args) => verify::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("kyso: {error}");
            error.exit_code()
        }
    }
}
