//! `kyso ca`: kyso's certification authority — create it, issue, import,
//! list and revoke certificates, fetch CRLs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{Args, Subcommand, ValueEnum};
use zeroize::Zeroizing;

use super::{CliError, client_error, runtime};
use crate::api::client;
use crate::api::proto::{self, import_certificate_request, issue_certificate_request};
use crate::datetime::{parse_rfc3339, rfc3339};

/// Arguments of `kyso ca`.
#[derive(Debug, Args)]
#[command(
    after_help = "Every subcommand but init talks to a running server (--server).\n\
Certificates carry a CRL distribution point and an authority information\n\
access URL under the server's public_url; the server answers them at\n\
GET /crl/<ca>.crl and GET /ca/<ca>.crt, where <ca> is issuing or root.\n\
Exit codes: 0 done, 1 the server could not be reached or failed, 2 bad input\n\
(including a request the server refused as invalid, unknown or already done)."
)]
pub struct CaArgs {
    /// The kyso server.
    #[arg(
        long,
        global = true,
        env = "KYSO_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,
    /// What to do.
    #[command(subcommand)]
    command: CaCommand,
}

/// A certificate's role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    /// The unit's organisation certificate (its seal).
    Organisation,
    /// A leader's personal certificate (with --leader).
    Leader,
    /// A time-stamping certificate (extended key usage timeStamping only, critical).
    TimeStamping,
}

/// A key type on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum KeyTypeArg {
    /// ECDSA on P-256.
    P256,
    /// ECDSA on P-384.
    P384,
    /// RSA, 2048-bit modulus.
    Rsa2048,
    /// RSA, 3072-bit modulus.
    Rsa3072,
}

/// A certificate status on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum StatusArg {
    /// Neither revoked nor expired.
    Good,
    /// Revoked.
    Revoked,
    /// Past its validity.
    Expired,
}

/// The `kyso ca` subcommands.
#[derive(Debug, Subcommand)]
enum CaCommand {
    /// Create kyso's root and issuing CA in a data directory (offline; `serve`
    /// does it on first start too).
    Init(InitArgs),
    /// Issue a certificate from kyso's issuing CA.
    Issue {
        /// The unit, e.g. 000.00.01.H23.
        #[arg(long)]
        unit: String,
        /// Whose certificate.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The leader, with --role leader.
        #[arg(long)]
        leader: Option<String>,
        /// Key type kyso (or the token) generates [default: p256].
        #[arg(long, value_enum)]
        key_type: Option<KeyTypeArg>,
        /// Generate the key on this configured PKCS#11 token ([[tokens]] name).
        #[arg(long, requires = "key_label", conflicts_with = "request")]
        token: Option<String>,
        /// The new key's label on the token.
        #[arg(long, requires = "token")]
        key_label: Option<String>,
        /// Certify the key of this PKCS#10 request (DER or PEM); the key stays
        /// where it is.
        #[arg(long, value_name = "CSR", conflicts_with = "key_type")]
        request: Option<PathBuf>,
        /// Write the certificate and its chain (PEM) here.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import a certificate an outside CA issued, with its private key.
    Import {
        /// The unit whose signer it becomes.
        #[arg(long)]
        unit: String,
        /// organisation or leader.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The leader, with --role leader.
        #[arg(long)]
        leader: Option<String>,
        /// A PKCS#12 file (.p12/.pfx); its password comes from
        /// KYSO_PKCS12_PASSWORD or --password-file.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["certificates", "key"])]
        pkcs12: Option<PathBuf>,
        /// A file holding the PKCS#12 password alone.
        #[arg(long, value_name = "FILE", requires = "pkcs12")]
        password_file: Option<PathBuf>,
        /// PEM certificates: the signer's first, then its chain.
        #[arg(long, value_name = "FILE", requires = "key")]
        certificates: Option<PathBuf>,
        /// PEM PKCS#8 private key (unencrypted).
        #[arg(long, value_name = "FILE", requires = "certificates")]
        key: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List registered certificates.
    List {
        /// Only this unit's.
        #[arg(long)]
        unit: Option<String>,
        /// Only this role.
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        /// Only this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a certificate and publish a new CRL.
    Revoke {
        /// The certificate's fingerprint (SHA-256, hex) or serial number.
        certificate: String,
        /// Why: unspecified, key-compromise, ca-compromise, affiliation-changed,
        /// superseded, cessation-of-operation, privilege-withdrawn.
        #[arg(long, default_value = "unspecified")]
        reason: String,
        /// When it stopped being trustworthy (RFC 3339, not in the future)
        /// [default: now].
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Fetch the current CRL (DER) of kyso's issuing or root CA.
    Crl {
        /// issuing or root.
        #[arg(long, default_value = "issuing")]
        ca: String,
        /// Write it here (default: standard output).
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Arguments of `kyso ca init`.
#[derive(Debug, Args)]
struct InitArgs {
    /// TOML config file (default: ./kyso.toml when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory [default: ./kyso-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

pub(super) fn run(args: CaArgs) -> Result<(), CliError> {
    let server = args.server;
    match args.command {
        CaCommand::Init(init) => self::init(init),
        CaCommand::Issue {
            unit,
            role,
            leader,
            key_type,
            token,
            key_label,
            request,
            output,
            json,
        } => {
            let key = match (token, request) {
                (Some(token), _) => issue_certificate_request::Key::Token(proto::TokenKey {
                    token,
                    key_label: key_label.unwrap_or_default(),
                    key_type: key_type_to_proto(key_type) as i32,
                }),
                (None, Some(path)) => {
                    issue_certificate_request::Key::CertificationRequest(read_request(&path)?)
                }
                (None, None) => {
                    issue_certificate_request::Key::Generate(key_type_to_proto(key_type) as i32)
                }
            };
            let request = proto::IssueCertificateRequest {
                unit_code: unit,
                role: role_to_proto(role) as i32,
                leader_id: leader.unwrap_or_default(),
                key: Some(key),
            };
            let response = runtime()?.block_on(async {
                let mut client = client::certificate_authority(&server).await?;
                Ok::<_, client::ClientError>(client.issue_certificate(request).await?.into_inner())
            });
            let certificate = response
                .map_err(client_error)?
                .certificate
                .unwrap_or_default();
            if let Some(path) = output {
                write_file(&path, certificate.certificate_chain_pem.as_bytes())?;
            }
            print_certificates(&[certificate], json)
        }
        CaCommand::Import {
            unit,
            role,
            leader,
            pkcs12,
            password_file,
            certificates,
            key,
            json,
        } => {
            let material = match (pkcs12, certificates, key) {
                (Some(path), _, _) => {
                    let password = match password_file {
                        Some(file) => Zeroizing::new(
                            read_text(&file)?.trim_end_matches(['\r', '\n']).to_string(),
                        ),
                        None => Zeroizing::new(
                            std::env::var("KYSO_PKCS12_PASSWORD").unwrap_or_default(),
                        ),
                    };
                    import_certificate_request::Material::Pkcs12(proto::Pkcs12 {
                        file: read_bytes(&path)?,
                        password: password.to_string(),
                    })
                }
                (None, Some(certificates), Some(key)) => {
                    import_certificate_request::Material::Pem(proto::PemKeyPair {
                        certificates: read_text(&certificates)?,
                        private_key: read_text(&key)?,
                    })
                }
                _ => {
                    return Err(CliError::BadInput(
                        "give --pkcs12 FILE, or --certificates FILE and --key FILE".to_string(),
                    ));
                }
            };
            let request = proto::ImportCertificateRequest {
                unit_code: unit,
                role: role_to_proto(role) as i32,
                leader_id: leader.unwrap_or_default(),
                material: Some(material),
            };
            let response = runtime()?.block_on(async {
                let mut client = client::certificate_authority(&server).await?;
                Ok::<_, client::ClientError>(client.import_certificate(request).await?.into_inner())
            });
            let certificate = response
                .map_err(client_error)?
                .certificate
                .unwrap_or_default();
            print_certificates(&[certificate], json)
        }
        CaCommand::List {
            unit,
            role,
            status,
            json,
        } => {
            let request = proto::ListCertificatesRequest {
                unit_code: unit.unwrap_or_default(),
                role: role.map_or(proto::CertificateRole::Unspecified, role_to_proto) as i32,
                status: status.map_or(
                    proto::CertificateStatus::Unspecified,
                    |status| match status {
                        StatusArg::Good => proto::CertificateStatus::Good,
                        StatusArg::Revoked => proto::CertificateStatus::Revoked,
                        StatusArg::Expired => proto::CertificateStatus::Expired,
                    },
                ) as i32,
            };
            let response = runtime()?.block_on(async {
                let mut client = client::certificate_authority(&server).await?;
                Ok::<_, client::ClientError>(client.list_certificates(request).await?.into_inner())
            });
            print_certificates(&response.map_err(client_error)?.certificates, json)
        }
        CaCommand::Revoke {
            certificate,
            reason,
            at,
            json,
        } => {
            let reason = crate::ca::RevocationReason::parse(&reason).ok_or_else(|| {
                CliError::BadInput(format!(
                    "--reason {reason:?} is not one of unspecified, key-compromise, \
                     ca-compromise, affiliation-changed, superseded, \
                     cessation-of-operation, privilege-withdrawn"
                ))
            })?;
            let revoked_at = at
                .map(|text| {
                    parse_rfc3339(&text).ok_or_else(|| {
                        CliError::BadInput(format!(
                            "--at {text:?} is not an RFC 3339 time like 2026-05-04T09:30:00+07:00"
                        ))
                    })
                })
                .transpose()?;
            let request = proto::RevokeCertificateRequest {
                certificate,
                reason: i32::from(reason.code()),
                revoked_at: revoked_at.map(prost_types::Timestamp::from),
            };
            let response = runtime()?
                .block_on(async {
                    let mut client = client::certificate_authority(&server).await?;
                    Ok::<_, client::ClientError>(
                        client.revoke_certificate(request).await?.into_inner(),
                    )
                })
                .map_err(client_error)?;
            if json {
                let certificate = response.certificate.clone().unwrap_or_default();
                let value = serde_json::json!({
                    "certificate": certificate_json(&certificate),
                    "newly_revoked": response.newly_revoked,
                    "crl_number": response.crl_number,
                });
                println!("{value:#}");
            } else {
                let certificate = response.certificate.unwrap_or_default();
                if response.newly_revoked {
                    println!(
                        "revoked {} ({}); CRL number {} lists it",
                        certificate.subject, certificate.serial, response.crl_number
                    );
                } else {
                    println!(
                        "{} ({}) was already revoked; the first revocation stands",
                        certificate.subject, certificate.serial
                    );
                }
            }
            Ok(())
        }
        CaCommand::Crl { ca, output } => {
            let response = runtime()?
                .block_on(async {
                    let mut client = client::certificate_authority(&server).await?;
                    Ok::<_, client::ClientError>(
                        client
                            .get_crl(proto::GetCrlRequest { ca })
                            .await?
                            .into_inner(),
                    )
                })
                .map_err(client_error)?;
            match output {
                Some(path) => write_file(&path, &response.crl),
                None => std::io::stdout()
                    .write_all(&response.crl)
                    .map_err(|e| CliError::Failure(format!("cannot write the CRL: {e}"))),
            }
        }
    }
}

fn init(args: InitArgs) -> Result<(), CliError> {
    let overrides = crate::config::ServeOverrides {
        data_dir: args.data_dir,
        ..Default::default()
    };
    let config = crate::config::ServeConfig::load(args.config.as_deref(), &overrides)
        .map_err(|e| CliError::BadInput(e.to_string()))?;
    let report = crate::authority::init_authority(
        &config.data_dir,
        config.key_encryption_key_file.as_deref(),
        &config.public_url(),
        SystemTime::now(),
    )
    .map_err(|e| CliError::Failure(e.to_string()))?;
    if report.created {
        println!("created kyso's CA in {}:", config.data_dir.display());
    } else {
        println!(
            "kyso's CA already exists in {}; nothing changed:",
            config.data_dir.display()
        );
    }
    println!("  root CA:    {}", report.root_certificate.display());
    println!("  issuing CA: {}", report.issuing_certificate.display());
    println!(
        "  keys sealed under {}",
        report.key_encryption_key.display()
    );
    Ok(())
}

fn role_to_proto(role: RoleArg) -> proto::CertificateRole {
    match role {
        RoleArg::Organisation => proto::CertificateRole::Organisation,
        RoleArg::Leader => proto::CertificateRole::Leader,
        RoleArg::TimeStamping => proto::CertificateRole::TimeStamping,
    }
}

fn key_type_to_proto(key_type: Option<KeyTypeArg>) -> proto::KeyType {
    match key_type.unwrap_or(KeyTypeArg::P256) {
        KeyTypeArg::P256 => proto::KeyType::EcdsaP256,
        KeyTypeArg::P384 => proto::KeyType::EcdsaP384,
        KeyTypeArg::Rsa2048 => proto::KeyType::Rsa2048,
        KeyTypeArg::Rsa3072 => proto::KeyType::Rsa3072,
    }
}

/// A PKCS#10 request file, DER or PEM (`CERTIFICATE REQUEST`).
fn read_request(path: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = read_bytes(path)?;
    if bytes.starts_with(b"-----BEGIN") {
        return crate::keyfile::parse_pem_block(&bytes, path, "CERTIFICATE REQUEST")
            .map(|der| der.to_vec())
            .map_err(|e| CliError::BadInput(e.to_string()));
    }
    Ok(bytes)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path)
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", path.display())))
}

fn read_text(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", path.display())))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::Failure(format!("cannot write {}: {e}", path.display())))
}

fn time_text(timestamp: Option<&prost_types::Timestamp>) -> String {
    timestamp
        .and_then(|t| SystemTime::try_from(*t).ok())
        .map(rfc3339)
        .unwrap_or_default()
}

fn role_text(certificate: &proto::Certificate) -> String {
    match proto::CertificateRole::try_from(certificate.role) {
        Ok(proto::CertificateRole::Organisation) => "organisation".to_string(),
        Ok(proto::CertificateRole::Leader) => format!("leader {}", certificate.leader_id),
        Ok(proto::CertificateRole::TimeStamping) => "time-stamping".to_string(),
        _ => String::new(),
    }
}

fn status_text(certificate: &proto::Certificate) -> &'static str {
    match proto::CertificateStatus::try_from(certificate.status) {
        Ok(proto::CertificateStatus::Good) => "good",
        Ok(proto::CertificateStatus::Revoked) => "revoked",
        Ok(proto::CertificateStatus::Expired) => "expired",
        _ => "",
    }
}

fn reason_text(certificate: &proto::Certificate) -> String {
    crate::ca::RevocationReason::ALL
        .into_iter()
        .find(|reason| i32::from(reason.code()) == certificate.revocation_reason)
        .map(|reason| reason.as_str().to_string())
        .unwrap_or_default()
}

fn certificate_json(certificate: &proto::Certificate) -> serde_json::Value {
    let mut value = serde_json::json!({
        "fingerprint": certificate.fingerprint,
        "serial": certificate.serial,
        "subject": certificate.subject,
        "issuer": certificate.issuer,
        "unit_code": certificate.unit_code,
        "role": role_text(certificate),
        "key_algorithm": certificate.key_algorithm,
        "custody": certificate.custody,
        "origin": certificate.origin,
        "not_before": time_text(certificate.not_before.as_ref()),
        "not_after": time_text(certificate.not_after.as_ref()),
        "status": status_text(certificate),
        "certificate_chain_pem": certificate.certificate_chain_pem,
    });
    if certificate.revoked_at.is_some() {
        value["revoked_at"] = serde_json::Value::from(time_text(certificate.revoked_at.as_ref()));
        value["revocation_reason"] = serde_json::Value::from(reason_text(certificate));
    }
    value
}

fn print_certificates(certificates: &[proto::Certificate], json: bool) -> Result<(), CliError> {
    if json {
        let values: Vec<serde_json::Value> = certificates.iter().map(certificate_json).collect();
        println!("{:#}", serde_json::Value::from(values));
        return Ok(());
    }
    for certificate in certificates {
        println!("{}", certificate.subject);
        println!("  fingerprint: {}", certificate.fingerprint);
        println!("  serial:      {}", certificate.serial);
        println!(
            "  unit/role:   {} {}",
            certificate.unit_code,
            role_text(certificate)
        );
        println!(
            "  key:         {} ({}, {})",
            certificate.key_algorithm, certificate.custody, certificate.origin
        );
        println!(
            "  valid:       {} to {}",
            time_text(certificate.not_before.as_ref()),
            time_text(certificate.not_after.as_ref())
        );
        let mut status = status_text(certificate).to_string();
        if certificate.revoked_at.is_some() {
            status.push_str(&format!(
                " at {} ({})",
                time_text(certificate.revoked_at.as_ref()),
                reason_text(certificate)
            ));
        }
        println!("  status:      {status}");
    }
    if certificates.is_empty() {
        eprintln!("no certificates match");
    }
    Ok(())
}
