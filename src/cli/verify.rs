//! `kyso verify`: the facts about every signature of a PDF, and the verdict.

use super::CliError;
use crate::chain::{RevocationPolicy, TrustAnchors};
use crate::datetime::{parse_rfc3339, rfc3339};
use crate::keyfile;
use crate::verify::{
    self, DocumentReport, Indication, RevocationFact, VerifyContext, VerifyPolicy,
};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

/// The trust store used when no `--trust` is given.
const DEFAULT_TRUST_DIR: &str = "certs/anchors";

/// Arguments of `kyso verify`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 the document verdict is TOTAL_PASSED, 1 it is not, \
2 bad usage or an unreadable file.\n\
Without --trust, the anchors are the *.pem files in $KYSO_TRUST_DIR or ./certs/anchors."
)]
pub struct VerifyArgs {
    /// The PDF to verify.
    input: PathBuf,
    /// A trust anchor (PEM certificate file); repeatable.
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
    /// A CRL (DER or PEM) to consult; repeatable.
    #[arg(long, value_name = "FILE")]
    crl: Vec<PathBuf>,
    /// Validation time, RFC 3339 (e.g. 2026-11-27T08:00:00+07:00) [default: now].
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Print the report as JSON (the contract described in the README).
    #[arg(long)]
    json: bool,
    /// Let form filling after a signature pass (official documents: no).
    #[arg(long)]
    permit_form_filling: bool,
    /// Let annotations after a signature pass (official documents: no).
    #[arg(long)]
    permit_annotations: bool,
    /// Fail (INDETERMINATE) when no revocation data covers a certificate.
    #[arg(long)]
    hard_fail_revocation: bool,
}

pub(super) fn run(args: VerifyArgs) -> Result<ExitCode, CliError> {
    let at = match &args.at {
        Some(text) => parse_rfc3339(text)
            .ok_or_else(|| CliError::BadInput(format!("--at {text:?} is not an RFC 3339 time")))?,
        None => SystemTime::now(),
    };
    let (anchors, anchor_warnings) = load_anchors(&args.trust)?;
    for warning in &anchor_warnings {
        eprintln!("kyso: {warning}");
    }
    let crls = args
        .crl
        .iter()
        .map(|path| read_crl(path))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = std::fs::read(&args.input)
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", args.input.display())))?;
    let context = VerifyContext {
        anchors: &anchors,
        crls: &crls,
        policy: VerifyPolicy {
            permit_form_filling: args.permit_form_filling,
            permit_annotations: args.permit_annotations,
            revocation: if args.hard_fail_revocation {
                RevocationPolicy::HardFail
            } else {
                RevocationPolicy::SoftFail
            },
        },
        at,
    };
    let (mut report, unreadable) = match verify::verify_pdf(&bytes, &context) {
        Ok(report) => (report, false),
        Err(error) => (
            DocumentReport {
                verdict: Indication::TotalFailed,
                signatures: Vec::new(),
                errors: vec![error.to_string()],
            },
            true,
        ),
    };
    report.errors.extend(anchor_warnings);
    if args.json {
        let json =
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Failure(e.to_string()))?;
        println!("{json}");
    } else {
        print_human(&args.input, &report, at);
    }
    Ok(if unreadable {
        ExitCode::from(2)
    } else if report.verdict == Indication::TotalPassed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The anchors named with `--trust` (those that cannot serve as anchors
/// are left out and reported), or the trust store folder.
fn load_anchors(files: &[PathBuf]) -> Result<(TrustAnchors, Vec<String>), CliError> {
    let bad = |e: crate::chain::ChainError| CliError::BadInput(format!("trust anchors: {e}"));
    if !files.is_empty() {
        let (anchors, refused) =
            TrustAnchors::from_pem_files_leaving_out_unusable(files).map_err(bad)?;
        let refused = refused
            .iter()
            .map(|e| format!("trust anchor left out: {e}"))
            .collect();
        return Ok((anchors, refused));
    }
    let dir = std::env::var_os("KYSO_TRUST_DIR")
        .map_or_else(|| PathBuf::from(DEFAULT_TRUST_DIR), PathBuf::from);
    let anchors = if dir.is_dir() {
        TrustAnchors::from_dir(&dir).map_err(bad)?
    } else {
        TrustAnchors::default()
    };
    Ok((anchors, Vec::new()))
}

/// A CRL file, DER or PEM ("X509 CRL").
fn read_crl(path: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", path.display())))?;
    if bytes.starts_with(b"-----BEGIN") {
        keyfile::parse_pem_block(&bytes, path, "X509 CRL")
            .map_err(|e| CliError::BadInput(e.to_string()))
    } else {
        Ok(bytes)
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "NO" }
}

/// The JSON name of a report value (`TOTAL_PASSED`, `form_filling`), so
/// the human output uses the same words as the JSON contract.
fn name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

fn print_human(input: &Path, report: &DocumentReport, at: SystemTime) {
    println!(
        "{}: {} (validation time {})",
        input.display(),
        name(&report.verdict),
        rfc3339(at)
    );
    for error in &report.errors {
        println!("  ! {error}");
    }
    for (index, signature) in report.signatures.iter().enumerate() {
        println!(
            "\nSignature #{} — field {} (revision {})",
            index + 1,
            signature.field,
            signature.revision
        );
        if let Some(signer) = &signature.signer {
            println!(
                "  signer:        {}",
                signer.common_name.as_deref().unwrap_or(&signer.subject)
            );
            if let Some(organisation) = &signer.organisation {
                println!("  organisation:  {organisation}");
            }
            println!("  serial:        {}", signer.serial);
            println!("  issuer:        {}", signer.issuer);
        }
        if let Some(time) = &signature.signing_time {
            println!("  signing time:  {time} (claimed by the signer)");
        }
        if let Some(reason) = &signature.reason {
            println!("  reason:        {reason}");
        }
        if let Some(location) = &signature.location {
            println!("  location:      {location}");
        }
        println!("  byte range ok: {}", yes_no(signature.byte_range_ok));
        println!("  intact:        {}", yes_no(signature.intact));
        println!("  valid:         {}", yes_no(signature.valid));
        println!(
            "  trusted:       {}{}",
            yes_no(signature.trusted),
            signature
                .trust_anchor
                .as_deref()
                .map(|a| format!(" (anchor {a})"))
                .unwrap_or_default()
        );
        let revocation = match &signature.revocation {
            RevocationFact::Good => "good".to_string(),
            RevocationFact::Revoked { at, reason } => format!(
                "REVOKED at {at}{}",
                reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            RevocationFact::RevokedAfterSigning {
                at,
                reason,
                signed_at,
            } => format!(
                "good at signing: revoked at {at}{}, after kyso made this signature at {signed_at}",
                reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            RevocationFact::NotChecked => "not checked (no revocation data)".to_string(),
        };
        println!("  revocation:    {revocation}");
        println!("  whole file:    {}", yes_no(signature.covers_whole_file));
        println!("  changed after: {}", name(&signature.modifications));
        println!(
            "  indication:    {}{}",
            name(&signature.indication),
            signature
                .sub_indication
                .map(|s| format!(" / {}", name(&s)))
                .unwrap_or_default()
        );
        for error in &signature.errors {
            println!("  ! {error}");
        }
    }
}
