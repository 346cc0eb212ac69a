//! `kyso record`: tells a server about a document it never signed or
//! verified, so the ledger's totals (the reports' denominators) are complete.

use super::{CliError, client_error, runtime};
use crate::api::client;
use crate::api::proto::{self, RecordDocumentRequest};
use crate::datetime::parse_rfc3339;
use clap::{Args, ValueEnum};

/// Arguments of `kyso record`.
#[derive(Debug, Args)]
#[command(after_help = "Example: an outgoing document sent on paper:\n  \
kyso record --unit 000.00.01.H23 --direction outgoing --document-id 123/UBND-VP --channel paper\n\
Recording is idempotent: the same unit, direction and document id count once.\n\
Exit codes: 0 recorded, 1 the server could not be reached or failed, 2 bad input.")]
pub struct RecordArgs {
    /// The kyso server.
    #[arg(long, env = "KYSO_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The unit's code, e.g. 000.00.01.H23.
    #[arg(long)]
    unit: String,
    /// Outgoing (issued by the unit) or incoming (received).
    #[arg(long, value_enum)]
    direction: DirectionArg,
    /// The document-management system's id for the document.
    #[arg(long, value_name = "ID")]
    document_id: String,
    /// How the document travelled.
    #[arg(long, value_enum)]
    channel: ChannelArg,
    /// Outgoing: the organisation signature was applied outside kyso.
    #[arg(long)]
    organisation_signed: bool,
    /// Outgoing: a leader's signature was applied outside kyso.
    #[arg(long)]
    leader_signed: bool,
    /// When it was issued or received, RFC 3339 [default: now].
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
}

/// Direction on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum DirectionArg {
    /// Văn bản đi.
    Outgoing,
    /// Văn bản đến.
    Incoming,
}

/// Channel on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ChannelArg {
    /// Over the network between document systems.
    Electronic,
    /// On paper.
    Paper,
}

pub(super) fn run(args: RecordArgs) -> Result<(), CliError> {
    let at = match &args.at {
        Some(text) => Some(
            parse_rfc3339(text)
                .ok_or_else(|| {
                    CliError::BadInput(format!("--at {text:?} is not an RFC 3339 time"))
                })?
                .into(),
        ),
        None => None,
    };
    let request = RecordDocumentRequest {
        unit_code: args.unit,
        direction: match args.direction {
            DirectionArg::Outgoing => proto::Direction::Outgoing,
            DirectionArg::Incoming => proto::Direction::Incoming,
        }
        .into(),
        document_id: args.document_id,
        channel: match args.channel {
            ChannelArg::Electronic => proto::Channel::Electronic,
            ChannelArg::Paper => proto::Channel::Paper,
        }
        .into(),
        organisation_signed: args.organisation_signed,
        leader_signed: args.leader_signed,
        at,
    };
    let server = args.server;
    let answer = runtime()?
        .block_on(async {
            client::records(&server)
                .await?
                .record_document(request)
                .await
                .map_err(client::ClientError::from)
        })
        .map_err(client_error)?
        .into_inner();
    let outcome = match proto::RecordOutcome::try_from(answer.outcome) {
        Ok(proto::RecordOutcome::Created) => "recorded (new document)",
        Ok(proto::RecordOutcome::Updated) => "recorded (document updated)",
        Ok(proto::RecordOutcome::Unchanged) => "already recorded (nothing changed)",
        _ => "recorded",
    };
    println!("{outcome}");
    Ok(())
}
