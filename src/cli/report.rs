//! `kyso report`: the signing-rate report for auditors, or with
//! `--documents` the ledger entries behind it, streamed as CSV.

use super::{CliError, client_error, runtime};
use crate::api::client::{self, ClientError};
use crate::api::proto::{self, ExportDocumentsRequest, SigningReportRequest};
use crate::api::report_from_proto;
use crate::report;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `kyso report`.
#[derive(Debug, Args)]
#[command(
    after_help = "Dates are Vietnam dates (UTC+7), both ends included: a document \
signed at 23:30 on 30 April in Hanoi counts in April.\n\
Examples:\n  \
kyso report --month 2026-04\n  \
kyso report --from 2026-01-01 --to 2026-03-31 --level district --format csv -o q1.csv\n  \
kyso report --month 2026-04 --documents -o ledger.csv\n\
CSV is UTF-8 with a BOM, so spreadsheet programs show Vietnamese names correctly.\n\
Exit codes: 0 done, 1 the server could not be reached or failed, 2 bad input."
)]
pub struct ReportArgs {
    /// The kyso server.
    #[arg(long, env = "KYSO_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// First date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE", requires = "to", conflicts_with = "month")]
    from: Option<String>,
    /// Last date, YYYY-MM-DD (included).
    #[arg(long, value_name = "DATE", requires = "from")]
    to: Option<String>,
    /// A whole month, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM", required_unless_present = "from")]
    month: Option<String>,
    /// Only units of this level.
    #[arg(long, value_enum, conflicts_with_all = ["group", "unit"])]
    level: Option<LevelArg>,
    /// Only units of this group.
    #[arg(long, value_enum, conflicts_with = "unit")]
    group: Option<GroupArg>,
    /// Only this unit.
    #[arg(long, value_name = "CODE")]
    unit: Option<String>,
    /// The rate that ranks units and meets the threshold.
    #[arg(long, value_enum, default_value = "organisation-signed")]
    rank_by: MetricArg,
    /// Flag units below this percentage, e.g. 90 or 87.5 [default: the server's].
    #[arg(long, value_name = "PERCENT")]
    threshold: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: FormatArg,
    /// Instead of the report, every ledger entry of the period (CSV, streamed).
    #[arg(long, conflicts_with_all = ["level", "group", "unit", "format"])]
    documents: bool,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Level on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LevelArg {
    /// Cấp tỉnh.
    Province,
    /// Cấp huyện.
    District,
    /// Cấp xã.
    Commune,
}

/// Group on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum GroupArg {
    /// Văn phòng UBND tỉnh.
    ProvinceOffice,
    /// Sở, ban, ngành.
    Department,
    /// UBND huyện, thành phố.
    District,
    /// UBND xã, phường, thị trấn.
    Commune,
}

/// Metric on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum MetricArg {
    /// Outgoing documents with the organisation signature.
    OrganisationSigned,
    /// Outgoing documents with a leader's signature.
    LeaderSigned,
    /// Outgoing documents sent electronically.
    OutgoingElectronic,
    /// Incoming documents received electronically and validly signed.
    IncomingElectronic,
}

/// Output format on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// An aligned table for people.
    Table,
    /// CSV (UTF-8 with BOM) for spreadsheets.
    Csv,
    /// JSON for scripts.
    Json,
}

pub(super) fn run(args: ReportArgs) -> Result<(), CliError> {
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| {
                CliError::BadInput(format!("cannot create {}: {e}", path.display()))
            })?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let written = if args.documents {
        export(&args, &mut out)
    } else {
        report_once(&args, &mut out)
    };
    written?;
    out.flush()
        .map_err(|e| CliError::Failure(format!("cannot write the output: {e}")))
}

fn write_error(e: impl std::fmt::Display) -> CliError {
    CliError::Failure(format!("cannot write the output: {e}"))
}

fn report_once(args: &ReportArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let request = SigningReportRequest {
        from: args.from.clone().unwrap_or_default(),
        to: args.to.clone().unwrap_or_default(),
        month: args.month.clone().unwrap_or_default(),
        level: args
            .level
            .map(|l| match l {
                LevelArg::Province => proto::UnitLevel::Province,
                LevelArg::District => proto::UnitLevel::District,
                LevelArg::Commune => proto::UnitLevel::Commune,
            })
            .unwrap_or(proto::UnitLevel::Unspecified)
            .into(),
        group: args
            .group
            .map(|g| match g {
                GroupArg::ProvinceOffice => proto::UnitGroup::ProvinceOffice,
                GroupArg::Department => proto::UnitGroup::Department,
                GroupArg::District => proto::UnitGroup::District,
                GroupArg::Commune => proto::UnitGroup::Commune,
            })
            .unwrap_or(proto::UnitGroup::Unspecified)
            .into(),
        unit_code: args.unit.clone().unwrap_or_default(),
        rank_by: match args.rank_by {
            MetricArg::OrganisationSigned => proto::Metric::OrganisationSigned,
            MetricArg::LeaderSigned => proto::Metric::LeaderSigned,
            MetricArg::OutgoingElectronic => proto::Metric::OutgoingElectronic,
            MetricArg::IncomingElectronic => proto::Metric::IncomingElectronic,
        }
        .into(),
        threshold_percent: args.threshold.clone().unwrap_or_default(),
    };
    let server = args.server.clone();
    let answer = runtime()?
        .block_on(async {
            client::records(&server)
                .await?
                .get_signing_report(request)
                .await
                .map_err(ClientError::from)
        })
        .map_err(client_error)?
        .into_inner();
    let report = report_from_proto(&answer).map_err(|e| {
        CliError::Failure(format!(
            "the server's report is not one this kyso reads: {e}"
        ))
    })?;
    match args.format {
        FormatArg::Table => report::write_table(&report, &mut *out),
        FormatArg::Csv => report::write_csv(&report, &mut *out),
        FormatArg::Json => report::write_json(&report, &mut *out),
    }
    .map_err(write_error)
}

/// Streams the ledger entries as CSV, row by row as they arrive.
fn export(args: &ReportArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let request = ExportDocumentsRequest {
        from: args.from.clone().unwrap_or_default(),
        to: args.to.clone().unwrap_or_default(),
        month: args.month.clone().unwrap_or_default(),
    };
    let server = args.server.clone();
    out.write_all(b"\xEF\xBB\xBF").map_err(write_error)?;
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record([
            "unit_code",
            "direction",
            "document_id",
            "date",
            "channel",
            "organisation_signed_at",
            "organisation_certificate",
            "leader_signed_at",
            "leader_id",
            "leader_certificate",
            "verdict",
        ])
        .map_err(write_error)?;
    let signed_at = |s: &Option<proto::AppliedSignature>| {
        s.as_ref()
            .and_then(|s| s.at)
            .and_then(|t| std::time::SystemTime::try_from(t).ok())
            .map(crate::datetime::rfc3339)
            .unwrap_or_default()
    };
    let rows = runtime()?.block_on(async {
        let mut stream = client::records(&server)
            .await
            .map_err(client_error)?
            .export_documents(request)
            .await
            .map_err(|s| client_error(s.into()))?
            .into_inner();
        let mut rows = 0u64;
        while let Some(entry) = stream.message().await.map_err(|s| client_error(s.into()))? {
            let direction = match proto::Direction::try_from(entry.direction) {
                Ok(proto::Direction::Outgoing) => "outgoing",
                Ok(proto::Direction::Incoming) => "incoming",
                _ => "",
            };
            let channel = match proto::Channel::try_from(entry.channel) {
                Ok(proto::Channel::Electronic) => "electronic",
                Ok(proto::Channel::Paper) => "paper",
                _ => "",
            };
            let organisation = entry.organisation_signature.clone().unwrap_or_default();
            let leader = entry.leader_signature.clone().unwrap_or_default();
            let record = [
                entry.unit_code.as_str(),
                direction,
                entry.document_id.as_str(),
                entry.date.as_str(),
                channel,
                &signed_at(&entry.organisation_signature),
                organisation.certificate_serial.as_str(),
                &signed_at(&entry.leader_signature),
                leader.leader_id.as_str(),
                leader.certificate_serial.as_str(),
                entry.verdict.as_str(),
            ];
            writer.write_record(record).map_err(write_error)?;
            rows += 1;
        }
        Ok::<u64, CliError>(rows)
    })?;
    writer.flush().map_err(write_error)?;
    eprintln!("kyso: {rows} ledger entries exported");
    Ok(())
}
