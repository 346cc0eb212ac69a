//! `kyso sign-many`: many PDFs through one `SignMany` stream, for a clerk
//! issuing a day's documents at once. Each file is recorded under its own
//! document id (its file name without `.pdf`, after `--id-prefix`); a file
//! the server refuses is reported and the others are still signed.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use super::CliError;
use super::sign::RoleArg;
use crate::api::client;
use crate::api::proto::{SignRequest, SignerRole as ProtoRole, sign_many_response};
use crate::config::DEFAULT_MAX_PDF_BYTES;

/// Files read ahead of the server's answers.
const READ_AHEAD: usize = 8;

/// Arguments of `kyso sign-many`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    kyso sign-many --server http://127.0.0.1:50051 --unit 000.00.01.H23 --as organisation \\\n      \
      --out-dir issued/ --id-prefix 2026/ drafts/*.pdf\n\n\
    Each file is recorded under the document id <prefix><file name without .pdf> and written \
    to --out-dir under its own name. Exit status: 0 when every file was signed, 2 when the \
    server refused one as bad input (the others are signed), 1 on any other failure.")]
pub struct SignManyArgs {
    /// The PDFs to sign (each at most the server's unary limit, 32 MiB by
    /// default; `kyso sign` streams larger ones).
    #[arg(required = true, value_name = "PDF")]
    inputs: Vec<PathBuf>,
    /// Directory the signed PDFs are written to, each under its input's name.
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// The kyso server.
    #[arg(long, value_name = "URL", env = "KYSO_SERVER")]
    server: String,
    /// The unit whose key signs, e.g. 000.00.01.H23.
    #[arg(long, value_name = "CODE")]
    unit: String,
    /// Sign as the organisation or as a leader.
    #[arg(long = "as", value_name = "ROLE")]
    role: RoleArg,
    /// With --as leader: the leader's id within the unit.
    #[arg(long, value_name = "ID")]
    leader: Option<String>,
    /// Put before each file name to make its document id.
    #[arg(long, value_name = "TEXT", default_value = "")]
    id_prefix: String,
    /// /Reason of every signature.
    #[arg(long)]
    reason: Option<String>,
    /// /Location of every signature.
    #[arg(long)]
    location: Option<String>,
    /// Print one JSON report of every file on stdout.
    #[arg(long)]
    json: bool,
}

/// What happened to one file.
#[derive(Debug, Serialize)]
struct FileReport {
    input: PathBuf,
    document_id: String,
    /// The signed PDF, when it was signed.
    output: Option<PathBuf>,
    /// The gRPC status code and message, when it was not.
    error_code: Option<String>,
    error: Option<String>,
    /// The server judged the file itself bad (exit 2 rather than 1).
    #[serde(skip)]
    bad_input: bool,
}

/// One input, checked before anything is sent.
struct Planned {
    input: PathBuf,
    output: PathBuf,
    document_id: String,
}

pub(super) fn run(args: SignManyArgs) -> Result<(), CliError> {
    let role = match (args.role, &args.leader) {
        (RoleArg::Organisation, None) => ProtoRole::Organisation,
        (RoleArg::Organisation, Some(_)) => {
            return Err(CliError::BadInput(
                "--leader goes with --as leader only".into(),
            ));
        }
        (RoleArg::Leader, Some(_)) => ProtoRole::Leader,
        (RoleArg::Leader, None) => {
            return Err(CliError::BadInput("--as leader needs --leader ID".into()));
        }
    };
    let plan = plan(&args)?;
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| CliError::Failure(format!("cannot create {}: {e}", args.out_dir.display())))?;
    let template = SignRequest {
        unit_code: args.unit.clone(),
        role: role.into(),
        leader_id: args.leader.clone().unwrap_or_default(),
        reason: args.reason.clone().unwrap_or_default(),
        location: args.location.clone().unwrap_or_default(),
        ..SignRequest::default()
    };
    let reports = super::runtime()?.block_on(sign_all(&args.server, template, &plan))?;
    if args.json {
        let json =
            serde_json::to_string_pretty(&reports).map_err(|e| CliError::Failure(e.to_string()))?;
        println!("{json}");
    }
    let failed: Vec<&FileReport> = reports.iter().filter(|r| r.output.is_none()).collect();
    if !args.json {
        for report in &failed {
            eprintln!(
                "kyso: {}: {}",
                report.input.display(),
                report.error.as_deref().unwrap_or("not signed")
            );
        }
        println!(
            "signed {} of {} files into {}",
            reports.len() - failed.len(),
            reports.len(),
            args.out_dir.display()
        );
    }
    if failed.is_empty() {
        return Ok(());
    }
    let summary = format!(
        "{} of {} files were not signed",
        failed.len(),
        reports.len()
    );
    if failed.iter().any(|report| report.bad_input) {
        Err(CliError::BadInput(summary))
    } else {
        Err(CliError::Failure(summary))
    }
}

/// Checks every input before anything is signed: readable, within the
/// unary limit, and with an output name and document id of its own.
fn plan(args: &SignManyArgs) -> Result<Vec<Planned>, CliError> {
    let mut outputs = HashSet::new();
    let mut plan = Vec::with_capacity(args.inputs.len());
    for input in &args.inputs {
        let size = std::fs::metadata(input)
            .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", input.display())))?
            .len();
        if size > DEFAULT_MAX_PDF_BYTES as u64 {
            return Err(CliError::BadInput(format!(
                "{} has {size} bytes, more than one SignMany request takes; sign it with \
                 `kyso sign`, which streams large files",
                input.display()
            )));
        }
        let (Some(name), Some(stem)) = (input.file_name(), input.file_stem()) else {
            return Err(CliError::BadInput(format!(
                "{} names no file",
                input.display()
            )));
        };
        let output = args.out_dir.join(name);
        if !outputs.insert(output.clone()) {
            return Err(CliError::BadInput(format!(
                "two inputs are named {}: their signed files and document ids would clash",
                name.to_string_lossy()
            )));
        }
        if same_file(input, &output) {
            return Err(CliError::BadInput(format!(
                "--out-dir would overwrite the input {}",
                input.display()
            )));
        }
        plan.push(Planned {
            input: input.clone(),
            output,
            document_id: format!("{}{}", args.id_prefix, stem.to_string_lossy()),
        });
    }
    Ok(plan)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Sends every planned file on one stream, reading them a few ahead of the
/// answers, and writes each signed PDF as its answer comes.
async fn sign_all(
    server: &str,
    template: SignRequest,
    plan: &[Planned],
) -> Result<Vec<FileReport>, CliError> {
    let mut client = client::signing(server)
        .await
        .map_err(super::client_error)?
        .max_decoding_message_size(2 * DEFAULT_MAX_PDF_BYTES + 1024 * 1024)
        .max_encoding_message_size(DEFAULT_MAX_PDF_BYTES + 1024 * 1024);
    let (requests, outgoing) = tokio::sync::mpsc::channel(READ_AHEAD);
    let to_read: Vec<(PathBuf, String)> = plan
        .iter()
        .map(|p| (p.input.clone(), p.document_id.clone()))
        .collect();
    let reader = tokio::task::spawn_blocking(move || -> Result<(), CliError> {
        for (input, document_id) in to_read {
            let pdf = std::fs::read(&input)
                .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", input.display())))?;
            let request = SignRequest {
                pdf,
                document_id,
                ..template.clone()
            };
            if requests.blocking_send(request).is_err() {
                break;
            }
        }
        Ok(())
    });
    let mut answers = client
        .sign_many(tokio_stream::wrappers::ReceiverStream::new(outgoing))
        .await
        .map_err(|status| super::client_error(status.into()))?
        .into_inner();
    let on_terminal = std::io::stderr().is_terminal();
    let mut reports: Vec<Option<FileReport>> = plan.iter().map(|_| None).collect();
    let (mut signed, mut failed) = (0usize, 0usize);
    while let Some(answer) = answers
        .message()
        .await
        .map_err(|status| super::client_error(status.into()))?
    {
        let Some(planned) = usize::try_from(answer.index)
            .ok()
            .and_then(|index| plan.get(index))
        else {
            return Err(CliError::Failure(format!(
                "the server answered position {}, which was never sent",
                answer.index
            )));
        };
        let report = match answer.result {
            Some(sign_many_response::Result::Signed(response)) => {
                write_atomically(&planned.output, &response.pdf)?;
                signed += 1;
                FileReport {
                    input: planned.input.clone(),
                    document_id: planned.document_id.clone(),
                    output: Some(planned.output.clone()),
                    error_code: None,
                    error: None,
                    bad_input: false,
                }
            }
            Some(sign_many_response::Result::Failure(failure)) => {
                failed += 1;
                let code = tonic::Code::from(failure.code);
                let refusal = client::ClientError::Refused {
                    code,
                    message: failure.message.clone(),
                };
                FileReport {
                    input: planned.input.clone(),
                    document_id: planned.document_id.clone(),
                    output: None,
                    error_code: Some(format!("{code:?}")),
                    error: Some(failure.message),
                    bad_input: refusal.is_bad_input(),
                }
            }
            None => {
                return Err(CliError::Failure(format!(
                    "the server's answer for {} carries no result",
                    planned.input.display()
                )));
            }
        };
        if let Some(slot) = usize::try_from(answer.index)
            .ok()
            .and_then(|i| reports.get_mut(i))
        {
            *slot = Some(report);
        }
        if on_terminal {
            eprint!(
                "\rsigned {signed} of {}{}   ",
                plan.len(),
                if failed > 0 {
                    format!(", {failed} refused")
                } else {
                    String::new()
                }
            );
        }
    }
    if on_terminal {
        eprintln!();
    }
    reader
        .await
        .map_err(|e| CliError::Failure(format!("reading the files failed: {e}")))??;
    reports
        .into_iter()
        .zip(plan)
        .map(|(report, planned)| {
            report.ok_or_else(|| {
                CliError::Failure(format!(
                    "the server ended the stream without answering for {}",
                    planned.input.display()
                ))
            })
        })
        .collect()
}

/// Writes `bytes` to `path` through a temporary file beside it, so a
/// signed file is either whole or absent.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let partial = path.with_extension("pdf.part");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| CliError::Failure(format!("cannot write {}: {e}", path.display())))
}
