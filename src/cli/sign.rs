//! `kyso sign`: through a server (`--server`) or offline with a key file.

use super::CliError;
use crate::api::client;
use crate::api::proto::signing_service_client::SigningServiceClient;
use crate::api::proto::{
    CompleteSignatureRequest, PrepareSignatureRequest, SignRequest, SignResponse,
    SignerRole as ProtoRole,
};
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
    kyso sign in.pdf -o out.pdf --p12 signer.p12 --password-file pass.txt\n\n\
    With a key kyso never holds (a USB token, a remote signing service), in two steps:\n  \
    kyso sign in.pdf --server URL --prepare --cert leader.pem --chain chain.pem --unit 000.00.01.H23 \\\n      \
      --as leader --leader nguyen-van-an --document-id D1 -o prepared.json --tbs-out tbs.der\n  \
    openssl pkeyutl -sign -inkey leader.key.pem -rawin -digest sha256 -in tbs.der -out sig.der\n  \
    kyso sign --server URL --complete prepared.json --signature sig.der -o signed.pdf")]
pub struct SignArgs {
    /// The PDF to sign (not with --complete).
    #[arg(required_unless_present = "complete", conflicts_with = "complete")]
    input: Option<PathBuf>,
    /// Where to write the signed PDF (with --prepare: the prepared
    /// signature's handle and data to be signed, JSON).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,

    /// Sign through this kyso server, e.g. http://127.0.0.1:50051.
    #[arg(long, value_name = "URL", conflicts_with_all = ["key", "p12"])]
    server: Option<String>,
    /// With --server and --cert: reserve a signature for a key kyso never
    /// holds; writes the handle and the data to be signed (JSON) to -o.
    #[arg(long, requires_all = ["server", "cert"], conflicts_with = "complete")]
    prepare: bool,
    /// With --prepare: also write the exact bytes to sign (DER) here, for
    /// `openssl pkeyutl -sign -rawin` or `openssl dgst -sign`.
    #[arg(long, value_name = "FILE", requires = "prepare")]
    tbs_out: Option<PathBuf>,
    /// With --server: complete a prepared signature, given its handle or the
    /// JSON file --prepare wrote; needs --signature.
    #[arg(long, value_name = "HANDLE|FILE", requires_all = ["server", "signature"])]
    complete: Option<String>,
    /// With --complete: the raw signature value (DER ECDSA-Sig-Value, or the
    /// RSA PKCS#1 v1.5 signature), as openssl writes it.
    #[arg(long, value_name = "FILE", requires = "complete")]
    signature: Option<PathBuf>,
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
    /// Offline or with --prepare: the signer's certificate, PEM.
    #[arg(long, value_name = "CERT.pem")]
    cert: Option<PathBuf>,
    /// Offline or with --prepare: intermediate CA certificates to embed, PEM.
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

/// What `kyso sign --prepare` writes: everything a signer outside kyso needs.
#[derive(Debug, Serialize, serde::Deserialize)]
struct PreparedFile {
    /// Pass to `--complete`.
    handle: String,
    /// The exact bytes to sign, hex.
    data_to_be_signed: String,
    /// Their hash, hex, for signers that take a pre-hashed input.
    digest: String,
    digest_algorithm: String,
    signature_algorithm: String,
    expires_at: String,
    field_name: String,
    page: u32,
    signer_subject: String,
    certificate_serial: String,
}

pub(super) fn run(args: SignArgs) -> Result<(), CliError> {
    if let (Some(server), Some(handle)) = (&args.server, &args.complete) {
        let summary = complete_remote(server, &args, handle)?;
        return report(&args, None, &summary);
    }
    let input = args
        .input
        .clone()
        .ok_or_else(|| CliError::BadInput("say which PDF to sign".into()))?;
    if let (Some(server), false) = (&args.server, args.prepare) {
        let size = std::fs::metadata(&input)
            .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", input.display())))?
            .len();
        if size >= super::sign_stream::STREAM_FROM_BYTES {
            let request = remote_request(&args, Vec::new())?;
            let summary = super::sign_stream::sign_streamed(server, request, &input, &args.output)?;
            let summary = summary_from_proto(&args, summary);
            return report(&args, Some(&input), &summary);
        }
    }
    let pdf = std::fs::read(&input)
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", input.display())))?;
    if let (Some(server), true) = (&args.server, args.prepare) {
        return prepare_remote(server, &args, pdf);
    }
    let summary = match &args.server {
        Some(server) => sign_remote(server, &args, pdf)?,
        None => sign_offline(&args, pdf)?,
    };
    report(&args, Some(&input), &summary)
}

fn report(args: &SignArgs, input: Option<&Path>, summary: &Summary) -> Result<(), CliError> {
    if args.json {
        let json =
            serde_json::to_string_pretty(&summary).map_err(|e| CliError::Failure(e.to_string()))?;
        println!("{json}");
    } else {
        let input = input.map_or_else(
            || "the prepared signature".to_string(),
            |path| path.display().to_string(),
        );
        println!(
            "signed {} → {}\n  field {} on page {}\n  signer {}\n  serial {}\n  {} at {}",
            input,
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

fn sign_offline(args: &SignArgs, pdf: Vec<u8>) -> Result<Summary, CliError> {
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
    let signed = sign::sign_pdf_owned(pdf, &signer, &options(args), SystemTime::now()).map_err(
        |e| match e {
            sign::SignError::Pdf(_) | sign::SignError::CertificateNotValidAt { .. } => {
                CliError::BadInput(e.to_string())
            }
            other => CliError::Failure(other.to_string()),
        },
    )?;
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

/// The role, unit and document id every call through a server needs.
fn remote_role(args: &SignArgs) -> Result<ProtoRole, CliError> {
    if args.unit.is_none() {
        return Err(CliError::BadInput("--server needs --unit CODE".into()));
    }
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
    Ok(role)
}

/// The `Sign` request for `pdf` as the arguments describe it.
fn remote_request(args: &SignArgs, pdf: Vec<u8>) -> Result<SignRequest, CliError> {
    let role = remote_role(args)?;
    let options = options(args);
    Ok(SignRequest {
        pdf,
        unit_code: args.unit.clone().unwrap_or_default(),
        role: role.into(),
        leader_id: args.leader.clone().unwrap_or_default(),
        document_id: args.document_id.clone().unwrap_or_default(),
        reason: options.reason.unwrap_or_default(),
        location: options.location.unwrap_or_default(),
        page: options.page.unwrap_or(0),
        field_name: options.field_name.unwrap_or_default(),
    })
}

fn sign_remote(server: &str, args: &SignArgs, pdf: Vec<u8>) -> Result<Summary, CliError> {
    let request = remote_request(args, pdf)?;
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
    signed_summary(args, response)
}

fn signed_summary(args: &SignArgs, response: SignResponse) -> Result<Summary, CliError> {
    write_output(&args.output, &response.pdf)?;
    Ok(summary_from_proto(
        args,
        response.summary.unwrap_or_default(),
    ))
}

fn summary_from_proto(args: &SignArgs, s: crate::api::proto::SignatureSummary) -> Summary {
    let signing_time = s
        .signing_time
        .map(|t| UNIX_EPOCH + Duration::from_secs(u64::try_from(t.seconds).unwrap_or(0)))
        .map(rfc3339)
        .unwrap_or_default();
    Summary {
        output: args.output.clone(),
        field_name: s.field_name,
        page: s.page,
        signer_subject: s.signer_subject,
        certificate_serial: s.certificate_serial,
        digest_algorithm: s.digest_algorithm,
        signature_algorithm: s.signature_algorithm,
        signing_time,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn timestamp(t: Option<prost_types::Timestamp>) -> String {
    t.map(|t| UNIX_EPOCH + Duration::from_secs(u64::try_from(t.seconds).unwrap_or(0)))
        .map(rfc3339)
        .unwrap_or_default()
}

async fn signing_client(
    server: &str,
    max_message_bytes: usize,
) -> Result<SigningServiceClient<tonic::transport::Channel>, client::ClientError> {
    Ok(SigningServiceClient::new(client::connect(server).await?)
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(max_message_bytes))
}

/// `--prepare`: reserves the signature on the server and writes what the
/// signer outside kyso needs.
fn prepare_remote(server: &str, args: &SignArgs, pdf: Vec<u8>) -> Result<(), CliError> {
    let role = remote_role(args)?;
    let bad = |e: keyfile::KeyFileError| CliError::BadInput(e.to_string());
    let cert = args
        .cert
        .as_ref()
        .ok_or_else(|| CliError::BadInput("--prepare needs --cert CERT.pem".into()))?;
    let mut certificates = keyfile::read_certificates(cert).map_err(bad)?;
    // The first certificate of --cert is the signer's; the rest of that file
    // and --chain are embedded beside it.
    if let Some(extra) = &args.chain {
        certificates.extend(keyfile::read_certificates(extra).map_err(bad)?);
    }
    let mut certificates = certificates.into_iter();
    let signer_certificate = certificates
        .next()
        .ok_or_else(|| CliError::BadInput(format!("{} holds no certificate", cert.display())))?;
    let options = options(args);
    let limit = DEFAULT_MAX_PDF_BYTES.max(pdf.len()) * 2 + 1024 * 1024;
    let request = PrepareSignatureRequest {
        pdf,
        signer_certificate,
        chain: certificates.collect(),
        unit_code: args.unit.clone().unwrap_or_default(),
        role: role.into(),
        leader_id: args.leader.clone().unwrap_or_default(),
        document_id: args.document_id.clone().unwrap_or_default(),
        reason: options.reason.unwrap_or_default(),
        location: options.location.unwrap_or_default(),
        page: options.page.unwrap_or(0),
        field_name: options.field_name.unwrap_or_default(),
    };
    let response = super::runtime()?
        .block_on(async {
            signing_client(server, limit)
                .await?
                .prepare_signature(request)
                .await
                .map(tonic::Response::into_inner)
                .map_err(client::ClientError::from)
        })
        .map_err(super::client_error)?;
    if let Some(path) = &args.tbs_out {
        write_output(path, &response.data_to_be_signed)?;
    }
    let summary = response.summary.clone().unwrap_or_default();
    let prepared = PreparedFile {
        handle: response.handle,
        data_to_be_signed: hex(&response.data_to_be_signed),
        digest: hex(&response.digest),
        digest_algorithm: response.digest_algorithm,
        signature_algorithm: response.signature_algorithm,
        expires_at: timestamp(response.expires_at),
        field_name: summary.field_name,
        page: summary.page,
        signer_subject: summary.signer_subject,
        certificate_serial: summary.certificate_serial,
    };
    let json =
        serde_json::to_string_pretty(&prepared).map_err(|e| CliError::Failure(e.to_string()))?;
    write_output(&args.output, format!("{json}\n").as_bytes())?;
    if args.json {
        println!("{json}");
    } else {
        println!(
            "prepared a signature by {} ({}), to complete before {}\n  handle {}",
            prepared.signer_subject,
            prepared.signature_algorithm,
            prepared.expires_at,
            prepared.handle
        );
    }
    Ok(())
}

/// `--complete`: sends the signature value for a prepared signature.
fn complete_remote(server: &str, args: &SignArgs, handle: &str) -> Result<Summary, CliError> {
    // A path to the JSON --prepare wrote, or the handle itself.
    let handle = if Path::new(handle).is_file() {
        let text = std::fs::read_to_string(handle)
            .map_err(|e| CliError::BadInput(format!("cannot read {handle}: {e}")))?;
        serde_json::from_str::<PreparedFile>(&text)
            .map_err(|e| {
                CliError::BadInput(format!(
                    "{handle} is not a file written by kyso sign --prepare: {e}"
                ))
            })?
            .handle
    } else {
        handle.to_string()
    };
    let path = args
        .signature
        .as_ref()
        .ok_or_else(|| CliError::BadInput("--complete needs --signature FILE".into()))?;
    let signature_value = std::fs::read(path)
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", path.display())))?;
    let request = CompleteSignatureRequest {
        handle,
        signature_value,
    };
    let limit = DEFAULT_MAX_PDF_BYTES * 2 + 1024 * 1024;
    let response = super::runtime()?
        .block_on(async {
            signing_client(server, limit)
                .await?
                .complete_signature(request)
                .await
                .map(tonic::Response::into_inner)
                .map_err(client::ClientError::from)
        })
        .map_err(super::client_error)?;
    signed_summary(args, response)
}
