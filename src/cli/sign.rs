//! `kyso sign`: through a server (`--server`) or offline with a key file.

use super::CliError;
use crate::api::client;
use crate::api::proto::{SignRequest, SignerRole as ProtoRole};
use crate::config::DEFAULT_MAX_PDF_BYTES;
use crate::crypto::RsaPadding;
use crate::datetime::rfc3339;
use crate::keyfile::{self, KeyMaterial};
use crate::sign::{self, SignOptions, Signer};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whose signature the server applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// The unit's organisation certificate.
    Organisation,
    /// A leader's personal certificate (needs --leader).
    Leader,
}

/// Arguments of `kyso sign`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    kyso sign in.pdf -o out.pdf --server http://127.0.0.1:50051 --unit 000.00.01.H23 --as leader --leader nguyen-van-an\n  \
    kyso sign in.pdf -o out.pdf --key key.pem --cert cert.pem --chain chain.pem\n  \
    kyso sign in.pdf -o out.pdf --p12 signer.p12 --password-file pass.txt")]
pub struct SignArgs {
    /// The PDF to sign.
    input: PathBuf,
    /// Where to write the signed PDF.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,

    /// Sign through this kyso server, e.g. http://127.0.0.1:50051.
    #[arg(long, value_name = "URL", requires_all = ["unit", "role"], conflicts_with_all = ["key", "p12"])]
    server: Option<String>,
    /// With --server: the unit whose key signs, e.g. 000.00.01.H23.
    #[arg(long, value_name = "CODE", requires = "server")]
    unit: Option<String>,
    /// With --server: sign as the organisation or as a leader.
    #[arg(long = "as", value_name = "ROLE", requires = "server")]
    role: Option<RoleArg>,
    /// With --as leader: the leader's id within the unit.
    #[arg(long, value_name = "ID", requires = "server")]
    leader: Option<String>,
    /// With --server (required): the document-management system's id for the
    /// document; the server records the signature under it.
    #[arg(long, value_name = "ID", requires = "server")]
    document_id: Option<String>,

    /// Offline: PEM private key (PKCS#8 or PKCS#1); needs --cert.
    #[arg(
        long,
        value_name = "KEY.pem",
        requires = "cert",
        conflicts_with = "p12"
    )]
    key: Option<PathBuf>,
    /// Offline: PKCS#12 file holding the key and its certificates.
    #[arg(long, value_name = "FILE.p12")]
    p12: Option<PathBuf>,
    /// With --p12: file whose first line is the password (default: empty password).
    #[arg(long, value_name = "FILE", requires = "p12")]
    password_file: Option<PathBuf>,
    /// Offline: the signer's certificate, PEM.
    #[arg(long, value_name = "CERT.pem")]
    cert: Option<PathBuf>,
    /// Offline: intermediate CA certificates to embed, PEM.
    #[arg(long, value_name = "CHAIN.pem")]
    chain: Option<PathBuf>,
    /// Offline: sign RSA keys with RSA-PSS instead of PKCS#1 v1.5.
    #[arg(long)]
    rsa_pss: bool,

    /// /Reason of the signature.
    #[arg(long)]
    reason: Option<String>,
    /// /Location of the signature.
    #[arg(long)]
    location: Option<String>,
    /// Page (1-based) for the signature widget [default: 1].
    #[arg(long, value_name = "N")]
    page: Option<u32>,
    /// Name of the new signature field [default: first free SignatureN].
    #[arg(long, value_name = "NAME")]
    field: Option<String>,
    /// Print the signature summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// What `kyso sign` reports.
#[derive(Debug, Serialize)]
struct Summary {
    output: PathBuf,
    field_name: String,
    page: u32,
    signer_subject: String,
    certificate_serial: String,
    digest_algorithm: String,
    signature_algorithm: String,
    signing_time: String,
}

pub(super) fn run(args: SignArgs) -> Result<(), CliError> {
    let pdf = std::fs::read(&args.input)
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", args.input.display())))?;
    let summary = match &args.server {
        Some(server) => sign_remote(server, &args, pdf)?,
        None => sign_offline(&args, &pdf)?,
    };
    if args.json {
        let json =
            serde_json::to_string_pretty(&summary).map_err(|e| CliError::Failure(e.to_string()))?;
        println!("{json}");
    } else {
        println!(
            "signed {} → {}\n  field {} on page {}\n  signer {}\n  serial {}\n  {} at {}",
            args.input.display(),
            summary.output.display(),
            summary.field_name,
            summary.page,
            summary.signer_subject,
            summary.certificate_serial,
            summary.signature_algorithm,
            summary.signing_time
        );
    }
    Ok(())
}

fn options(args: &SignArgs) -> SignOptions {
    SignOptions {
        field_name: args.field.clone(),
        page: args.page,
        reason: args.reason.clone(),
        location: args.location.clone(),
    }
}

fn write_output(path: &Path, pdf: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, pdf)
        .map_err(|e| CliError::Failure(format!("cannot write {}: {e}", path.display())))
}

fn sign_offline(args: &SignArgs, pdf: &[u8]) -> Result<Summary, CliError> {
    let bad = |e: keyfile::KeyFileError| CliError::BadInput(e.to_string());
    let padding = if args.rsa_pss {
        RsaPadding::Pss
    } else {
        RsaPadding::Pkcs1
    };
    let material = match (&args.key, &args.p12) {
        (Some(key), None) => {
            let cert = args
                .cert
                .as_ref()
                .ok_or_else(|| CliError::BadInput("--key needs --cert".into()))?;
            let mut chain = keyfile::read_certificates(cert).map_err(bad)?;
            chain.truncate(1);
            KeyMaterial {
                key: keyfile::read_private_key(key, padding).map_err(bad)?,
                chain,
            }
        }
        (None, Some(p12)) => {
            let password = match &args.password_file {
                Some(file) => std::fs::read_to_string(file)
                    .map_err(|e| {
                        CliError::BadInput(format!("cannot read {}: {e}", file.display()))
                    })?
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
                None => String::new(),
            };
            let mut material = keyfile::read_pkcs12(p12, &password, padding).map_err(bad)?;
            if let Some(cert) = &args.cert {
                let mut chain = keyfile::read_certificates(cert).map_err(bad)?;
                chain.truncate(1);
                chain.extend(material.chain.into_iter().skip(1));
                material.chain = chain;
            }
            material
        }
        _ => {
            return Err(CliError::BadInput(
                "say how to sign: --server URL (with --unit and --as), or --key KEY.pem --cert CERT.pem, or --p12 FILE.p12"
                    .into(),
            ));
        }
    };
    let mut chain = material.chain;
    if let Some(extra) = &args.chain {
        chain.extend(keyfile::read_certificates(extra).map_err(bad)?);
    }
    let signer =
        Signer::new(material.key, &chain).map_err(|e| CliError::BadInput(e.to_string()))?;
    let signed =
        sign::sign_pdf(pdf, &signer, &options(args), SystemTime::now()).map_err(|e| match e {
            sign::SignError::Pdf(_) | sign::SignError::CertificateNotValidAt { .. } => {
                CliError::BadInput(e.to_string())
            }
            other => CliError::Failure(other.to_string()),
        })?;
    write_output(&args.output, &signed.pdf)?;
    let s = signed.summary;
    Ok(Summary {
        output: args.output.clone(),
        field_name: s.field_name,
        page: s.page,
        signer_subject: s.signer_subject,
        certificate_serial: s.certificate_serial,
        digest_algorithm: s.digest_algorithm,
        signature_algorithm: s.signature_algorithm,
        signing_time: rfc3339(s.signing_time),
    })
}

fn sign_remote(server: &str, args: &SignArgs, pdf: Vec<u8>) -> Result<Summary, CliError> {
    let role = match args.role {
        Some(RoleArg::Organisation) => ProtoRole::Organisation,
        Some(RoleArg::Leader) if args.leader.is_some() => ProtoRole::Leader,
        Some(RoleArg::Leader) => {
            return Err(CliError::BadInput("--as leader needs --leader ID".into()));
        }
        None => {
            return Err(CliError::BadInput(
                "--server needs --as organisation|leader".into(),
            ));
        }
    };
    if args.document_id.is_none() {
        return Err(CliError::BadInput(
            "--server needs --document-id ID: the server records each signed document \
             under the document-management system's id"
                .into(),
        ));
    }
    let options = options(args);
    let request = SignRequest {
        pdf,
        unit_code: args.unit.clone().unwrap_or_default(),
        role: role.into(),
        leader_id: args.leader.clone().unwrap_or_default(),
        document_id: args.document_id.clone().unwrap_or_default(),
        reason: options.reason.unwrap_or_default(),
        location: options.location.unwrap_or_default(),
        page: options.page.unwrap_or(0),
        field_name: options.field_name.unwrap_or_default(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failure(format!("cannot start the async runtime: {e}")))?;
    let limit = DEFAULT_MAX_PDF_BYTES.max(request.pdf.len()) * 2 + 1024 * 1024;
    let response = runtime
        .block_on(client::sign(server, request, limit))
        .map_err(|e| {
            if e.is_bad_input() {
                CliError::BadInput(e.to_string())
            } else {
                CliError::Failure(e.to_string())
            }
        })?;
    write_output(&args.output, &response.pdf)?;
    let s = response.summary.unwrap_or_default();
    let signing_time = s
        .signing_time
        .map(|t| UNIX_EPOCH + Duration::from_secs(u64::try_from(t.seconds).unwrap_or(0)))
        .map(rfc3339)
        .unwrap_or_default();
    Ok(Summary {
        output: args.output.clone(),
        field_name: s.field_name,
        page: s.page,
        signer_subject: s.signer_subject,
        certificate_serial: s.certificate_serial,
        digest_algorithm: s.digest_algorithm,
        signature_algorithm: s.signature_algorithm,
        signing_time,
    })
}
