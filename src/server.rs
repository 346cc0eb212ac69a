//! `kyso serve`: opens the records database (seeding the unit registry on
//! first start), prepares the data directory (development PKI), loads every
//! key once, and serves gRPC with health checking and reflection until it is
//! told to stop.

use crate::api::proto::FILE_DESCRIPTOR_SET;
use crate::api::proto::records_service_server::RecordsServiceServer;
use crate::api::proto::signing_service_server::SigningServiceServer;
use crate::api::proto::verification_service_server::VerificationServiceServer;
use crate::api::{RecordsApi, SigningApi, VerificationApi};
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
use std::time::SystemTime;
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
    let report = ca::ensure_dev_pki_with_kek(data_dir, &registry, &kek, now)?;
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
    let anchors = TrustAnchors::from_pem_files(&anchor_files)?;
    Ok(ServerState {
        registry: Arc::new(registry),
        keys: Arc::new(keys),
        created,
        root_certificate: report.root_pem_path,
        anchors: Arc::new(anchors),
        records,
        seeded_units,
        report_threshold,
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
    let signing = SigningServiceServer::new(SigningApi::new(
        state.registry.clone(),
        state.keys.clone(),
        state.records.clone(),
        config.max_pdf_bytes,
    ))
    .max_decoding_message_size(message_limit)
    .max_encoding_message_size(message_limit + MESSAGE_OVERHEAD);

    let verification = VerificationServiceServer::new(VerificationApi::new(
        state.anchors.clone(),
        state.records.clone(),
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
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| {
            tracing::error!(error = %e, "reflection disabled");
            e
        });

    let mut router = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(signing)
        .add_service(verification)
        .add_service(records);
    if let Ok(reflection) = reflection {
        router = router.add_service(reflection);
    }
    router
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    Ok(())
}
