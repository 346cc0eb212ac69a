//! `kyso serve`: opens the records database (seeding the unit registry on
//! first start), prepares the data directory (development PKI), loads every
//! key once, and serves gRPC with health checking and reflection until it is
//! told to stop.

use crate::api::proto::FILE_DESCRIPTOR_SET;
use crate::api::proto::certificate_authority_service_server::CertificateAuthorityServiceServer;
use crate::api::proto::records_service_server::RecordsServiceServer;
use crate::api::proto::signing_service_server::SigningServiceServer;
use crate::api::proto::verification_service_server::VerificationServiceServer;
use crate::api::{CertificateAuthorityApi, CpuPool, RecordsApi, SigningApi, VerificationApi};
use crate::authority::{Authority, AuthorityError, AuthoritySetup, Tokens};
use crate::ca::{self, CaError};
use crate::chain::{ChainError, TrustAnchors};
use crate::config::ServeConfig;
use crate::keystore::{KeyStore, KeyStoreError};
use crate::records::{RecordStore, RecordsError};
use crate::report::{ReportError, Threshold};
use crate::units::{self, UnitRegistry, UnitsError};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

/// Headroom above the PDF limit for the rest of a gRPC message.
const MESSAGE_OVERHEAD: usize = 1024 * 1024;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The unit registry could not be read or written.
    #[error(transparent)]
    Units(#[from] UnitsError),
    /// The records database could not be opened or seeded.
    #[error(transparent)]
    Records(#[from] RecordsError),
    /// The configured report threshold is not a percentage.
    #[error("report_threshold_percent: {0}")]
    Threshold(#[from] ReportError),
    /// The development PKI could not be made.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// A key could not be loaded.
    #[error(transparent)]
    Keys(#[from] KeyStoreError),
    /// A trust anchor is unusable.
    #[error(transparent)]
    Anchors(#[from] ChainError),
    /// The CA, its register or a configured token could not be set up.
    #[error(transparent)]
    Authority(#[from] AuthorityError),
    /// The signing threads could not be started.
    #[error("cannot start the signing threads: {0}")]
    CpuPool(std::io::Error),
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The gRPC transport failed.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// What the server holds while it runs.
#[derive(Debug)]
pub struct ServerState {
    /// The units it serves.
    pub registry: Arc<UnitRegistry>,
    /// Their keys.
    pub keys: Arc<KeyStore>,
    /// What start-up created (empty when everything already existed).
    pub created: Vec<PathBuf>,
    /// The development root CA certificate, the trust anchor for its signatures.
    pub root_certificate: PathBuf,
    /// The anchors Verify trusts.
    pub anchors: Arc<TrustAnchors>,
    /// The records database.
    pub records: RecordStore,
    /// Whether this start seeded the unit registry into the database.
    pub seeded_units: bool,
    /// Reports flag units below this rate unless a request names its own.
    pub report_threshold: Threshold,
    /// kyso's CA and its certificate register.
    pub authority: Arc<Authority>,
}

/// Opens the records database, seeds the unit registry when it holds none,
/// creates what is missing in the data directory and loads every key.
///
/// The registry seeded is `units.json` in the data directory when it exists
/// (data directories from before the database), otherwise the demo province.
pub async fn prepare(config: &ServeConfig, now: SystemTime) -> Result<ServerState, ServeError> {
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| ServeError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    let report_threshold = Threshold::parse(&config.report_threshold_percent)?;
    let mut created = Vec::new();
    let records = RecordStore::open(&config.records_url()).await?;
    let legacy_registry = data_dir.join("units.json");
    let seed = if legacy_registry.exists() {
        UnitRegistry::load(&legacy_registry)?
    } else {
        units::demo_province()
    };
    let seeded_units = records.seed_units(&seed).await?;
    let registry = records.units().await?;
    let kek =
        ca::DevPki::new(data_dir).key_encryption_key(config.key_encryption_key_file.as_deref())?;
    let public_url = config.public_url();
    let report = ca::ensure_published_dev_pki(data_dir, &registry, &kek, Some(&public_url), now)?;
    created.extend(report.issued);
    let keys = KeyStore::load_data_dir(data_dir, &registry, config.rsa_padding.into(), &kek)?;
    let mut anchor_files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&config.trust_dir) {
        anchor_files.extend(
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "pem")),
        );
        anchor_files.sort();
    }
    if config.trust_development_root {
        anchor_files.push(report.root_pem_path.clone());
    }
    let anchors = Arc::new(TrustAnchors::from_pem_files(&anchor_files)?);
    let keys = Arc::new(keys);
    let authority = Authority::open(AuthoritySetup {
        data_dir,
        store: records.clone(),
        keys: keys.clone(),
        kek,
        tokens: Tokens::new(&config.tokens)?,
        rsa_padding: config.rsa_padding.into(),
        anchors: anchors.clone(),
        public_url: &public_url,
    })?;
    authority
        .register_development_certificates(data_dir, &registry, now)
        .await?;
    authority.load_signers(now).await?;
    authority.refresh_crls(now).await?;
    Ok(ServerState {
        registry: Arc::new(registry),
        keys,
        created,
        root_certificate: report.root_pem_path,
        anchors,
        records,
        seeded_units,
        report_threshold,
        authority: Arc::new(authority),
    })
}

/// Binds `config.listen` (port 0 picks a free port).
pub async fn bind(config: &ServeConfig) -> Result<TcpListener, ServeError> {
    TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            address: config.listen,
            source,
        })
}

/// Serves gRPC on `listener` until `shutdown` completes, then drains
/// in-flight calls.
pub async fn run(
    listener: TcpListener,
    state: &ServerState,
    config: &ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let message_limit = config.max_pdf_bytes + MESSAGE_OVERHEAD;
    // Concurrent signings share durable commits (see records::GroupCommit).
    let recorder = crate::records::GroupCommit::start(state.records.clone());
    // Signing and verifying share one pool of one thread per core.
    let cpu = CpuPool::per_core().map_err(ServeError::CpuPool)?;
    let signing = SigningServiceServer::new(
        SigningApi::new(
            state.registry.clone(),
            state.keys.clone(),
            recorder,
            state.authority.clone(),
            cpu.clone(),
            config.max_pdf_bytes,
        )
        .with_max_streamed_pdf_bytes(config.max_streamed_pdf_bytes),
    )
    .max_decoding_message_size(message_limit)
    .max_encoding_message_size(message_limit + MESSAGE_OVERHEAD);

    let verification = VerificationServiceServer::new(VerificationApi::new(
        state.anchors.clone(),
        state.records.clone(),
        state.authority.clone(),
        cpu,
        config.max_pdf_bytes,
    ))
    .max_decoding_message_size(message_limit)
    .max_encoding_message_size(message_limit);

    let records = RecordsServiceServer::new(RecordsApi::new(
        state.records.clone(),
        state.report_threshold,
    ))
    .max_decoding_message_size(message_limit)
    .max_encoding_message_size(message_limit);

    let certificate_authority = CertificateAuthorityServiceServer::new(
        CertificateAuthorityApi::new(state.authority.clone()),
    )
    .max_decoding_message_size(message_limit)
    .max_encoding_message_size(message_limit);

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<SigningServiceServer<SigningApi>>()
        .await;
    health_reporter
        .set_serving::<VerificationServiceServer<VerificationApi>>()
        .await;
    health_reporter
        .set_serving::<RecordsServiceServer<RecordsApi>>()
        .await;
    health_reporter
        .set_serving::<CertificateAuthorityServiceServer<CertificateAuthorityApi>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| {
            tracing::error!(error = %e, "reflection disabled");
            e
        });

    let mut routes = tonic::service::Routes::from(http_routes(state.authority.clone()))
        .add_service(health)
        .add_service(signing)
        .add_service(verification)
        .add_service(records)
        .add_service(certificate_authority);
    if let Ok(reflection) = reflection {
        routes = routes.add_service(reflection);
    }
    let upkeep = tokio::spawn(upkeep(state.authority.clone()));
    let served = tonic::transport::Server::builder()
        .accept_http1(true)
        .add_routes(routes)
        .serve_with_incoming_shutdown(without_nagle(listener), shutdown)
        .await;
    upkeep.abort();
    served?;
    Ok(())
}

/// The accepted connections with Nagle's algorithm off: a small answer goes
/// out at once instead of waiting up to 40 ms for the client's delayed ACK
/// (`serve_with_incoming` leaves accepted sockets as the OS made them).
fn without_nagle(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|accepted| {
        accepted.inspect(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::warn!(%error, "cannot turn Nagle's algorithm off");
            }
        })
    })
}

/// How often a server republishes CRLs near their nextUpdate and picks up
/// certificates other replicas issued or revoked.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Keeps CRLs current and signers in step with the register, until aborted.
async fn upkeep(authority: Arc<Authority>) {
    let mut interval = tokio::time::interval(UPKEEP_INTERVAL);
    interval.tick().await;
    loop {
        interval.tick().await;
        let now = SystemTime::now();
        if let Err(error) = authority.refresh_crls(now).await {
            tracing::warn!(%error, "cannot republish CRLs; retrying in a minute");
        }
        if let Err(error) = authority.load_signers(now).await {
            tracing::warn!(%error, "cannot reload signers from the certificate register");
        }
    }
}

/// The plain HTTP endpoints served beside gRPC on the same port, for relying
/// parties: `GET /crl/<ca>.crl` (the CA's current CRL, DER) and
/// `GET /ca/<ca>.crt` (its certificate, DER), where `<ca>` is `issuing` or
/// `root` — the addresses written into every certificate kyso's CA issues.
fn http_routes(authority: Arc<Authority>) -> axum::Router {
    use axum::extract::{Path, State};
    use axum::http::{StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;

    async fn crl(State(authority): State<Arc<Authority>>, Path(file): Path<String>) -> Response {
        let Some(name) = file.strip_suffix(".crl") else {
            return (StatusCode::NOT_FOUND, "no such CRL\n").into_response();
        };
        match authority.current_crl(name, SystemTime::now()).await {
            Ok(crl) => (
                [
                    (header::CONTENT_TYPE, "application/pkix-crl"),
                    (header::CACHE_CONTROL, "max-age=300"),
                ],
                crl.der,
            )
                .into_response(),
            Err(AuthorityError::UnknownCa { .. }) => {
                (StatusCode::NOT_FOUND, "no such CRL\n").into_response()
            }
            Err(error) => {
                tracing::error!(%error, "cannot serve a CRL");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the CRL cannot be read now; retry\n",
                )
                    .into_response()
            }
        }
    }

    async fn certificate(
        State(authority): State<Arc<Authority>>,
        Path(file): Path<String>,
    ) -> Response {
        match file
            .strip_suffix(".crt")
            .and_then(|name| authority.ca_certificate(name))
        {
            Some(der) => (
                [(header::CONTENT_TYPE, "application/pkix-cert")],
                der.to_vec(),
            )
                .into_response(),
            None => (StatusCode::NOT_FOUND, "no such CA certificate\n").into_response(),
        }
    }

    axum::Router::new()
        .route("/crl/{file}", get(crl))
        .route("/ca/{file}", get(certificate))
        .with_state(authority)
}
