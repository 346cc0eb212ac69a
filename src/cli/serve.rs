//! `kyso serve`.

use super::CliError;
use crate::config::{CpuScheduling, RsaPaddingSetting, ServeConfig, ServeOverrides};
use crate::server;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::SystemTime;

/// Arguments of `kyso serve`. Each flag can also come from the config file
/// or from `KYSO_DATA_DIR`, `KYSO_LISTEN`, `KYSO_MAX_PDF_BYTES`, `KYSO_RSA_PADDING`.
#[derive(Debug, Args)]
#[command(
    after_help = "Settings are layered: defaults < config file < environment < flags.\n\
Environment: KYSO_DATA_DIR, KYSO_LISTEN, KYSO_MAX_PDF_BYTES, KYSO_MAX_STREAMED_PDF_BYTES,\n\
KYSO_RSA_PADDING, KYSO_TRUST_DIR, KYSO_TRUST_DEVELOPMENT_ROOT (true: Verify also trusts the data\n\
directory's development root; turn it off in production), KYSO_DATABASE_URL,\n\
KYSO_REPORT_THRESHOLD_PERCENT (default 90), KYSO_PUBLIC_URL, KYSO_CPU_SCHEDULING.\n\
The same port answers gRPC and plain HTTP: GET /crl/issuing.crl and\n\
/crl/root.crl (current CRLs, DER), GET /ca/issuing.crt and /ca/root.crt.\n\
PKCS#11 tokens for `kyso ca issue --token` are configured in the config file:\n\
[[tokens]] name = \"hsm\", module = \"/usr/lib/softhsm/libsofthsm2.so\",\n\
token_label = \"kyso\", pin_file = \"/run/secrets/hsm-pin\".\n\
Records (units, the document ledger, report figures) live in records.db\n\
(SQLite) in the data directory, or in PostgreSQL with --database-url\n\
postgres://... (several replicas may share one database and the same keys).\n\
On first start the database gets the demo unit registry and the data directory\n\
a development PKI (root CA, issuing CA, an organisation certificate per unit,\n\
personal certificates for its leaders); later starts reuse them, and issue\n\
development certificates for units added since."
)]
pub struct ServeArgs {
    /// TOML config file (default: ./kyso.toml when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory for keys, certificates and the unit registry [default: ./kyso-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:50051].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Largest PDF one Sign call accepts, in bytes [default: 33554432].
    #[arg(long, value_name = "BYTES")]
    max_pdf_bytes: Option<usize>,
    /// Padding for the server's RSA keys [default: pkcs1].
    #[arg(long, value_name = "PADDING")]
    rsa_padding: Option<RsaPaddingArg>,
    /// Folder of trust anchors (*.pem) for Verify [default: ./certs/anchors].
    #[arg(long, value_name = "DIR")]
    trust_dir: Option<PathBuf>,
    /// Records database: postgres://USER@HOST/DB or sqlite://FILE
    /// [default: sqlite records.db in the data directory].
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Base URL relying parties reach this server's HTTP endpoints at, written
    /// into certificates kyso's CA issues (CRL distribution point, CA issuers)
    /// [default: http://<listen>].
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// How Linux schedules the server's threads: batch (woken threads do not
    /// preempt running signatures: more documents/s under full load) or
    /// normal [default: batch].
    #[arg(long, value_name = "POLICY")]
    cpu_scheduling: Option<CpuSchedulingArg>,
}

/// The threads' scheduling policy on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CpuSchedulingArg {
    /// SCHED_BATCH.
    Batch,
    /// The default policy (SCHED_OTHER).
    Normal,
}

/// RSA padding on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RsaPaddingArg {
    /// PKCS#1 v1.5.
    Pkcs1,
    /// RSASSA-PSS.
    Pss,
}

pub(super) fn run(args: ServeArgs) -> Result<(), CliError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours for a terminal only, not for a log file or journald.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let overrides = ServeOverrides {
        data_dir: args.data_dir,
        listen: args.listen,
        max_pdf_bytes: args.max_pdf_bytes,
        rsa_padding: args.rsa_padding.map(|p| match p {
            RsaPaddingArg::Pkcs1 => RsaPaddingSetting::Pkcs1,
            RsaPaddingArg::Pss => RsaPaddingSetting::Pss,
        }),
        trust_dir: args.trust_dir,
        database_url: args.database_url,
        public_url: args.public_url,
        cpu_scheduling: args.cpu_scheduling.map(|p| match p {
            CpuSchedulingArg::Batch => CpuScheduling::Batch,
            CpuSchedulingArg::Normal => CpuScheduling::Normal,
        }),
    };
    let mut config = ServeConfig::load(args.config.as_deref(), &overrides)
        .map_err(|e| CliError::BadInput(e.to_string()))?;
    // Before any thread starts: every thread of the server inherits it.
    if let Err(error) = crate::scheduling::apply_to_this_thread(config.cpu_scheduling) {
        tracing::warn!("{error}; the threads keep the default policy");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failure(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let listener = server::bind(&config)
            .await
            .map_err(|e| CliError::Failure(e.to_string()))?;
        let address = listener
            .local_addr()
            .map_err(|e| CliError::Failure(e.to_string()))?;
        // Certificates name the address this server really answers at (the
        // port, when --listen asked for any).
        if config.public_url.is_none() {
            config.public_url = Some(format!("http://{address}"));
        }
        let state = server::prepare(&config, SystemTime::now())
            .await
            .map_err(|e| CliError::Failure(e.to_string()))?;
        print_state(&config, &state);
        // Tests and scripts read this line to find the port.
        println!("kyso listening on {address}");
        server::run(listener, &state, &config, shutdown_signal())
            .await
            .map_err(|e| CliError::Failure(e.to_string()))?;
        state.records.close().await;
        println!("kyso stopped");
        Ok(())
    })
}

/// Says what start-up found and created.
fn print_state(config: &ServeConfig, state: &server::ServerState) {
    println!("kyso data directory: {}", config.data_dir.display());
    println!(
        "records: {} database{}",
        match state.records.engine() {
            crate::records::Engine::Sqlite => "SQLite",
            crate::records::Engine::Postgres => "PostgreSQL",
        },
        if state.seeded_units {
            ", seeded with the unit registry"
        } else {
            ""
        }
    );
    if state.created.is_empty() {
        println!("reusing existing keys and certificates");
    } else {
        println!("created {} files (development PKI):", state.created.len());
        for path in &state.created {
            println!("  {}", path.display());
        }
    }
    println!(
        "trust anchor for development signatures: {}",
        state.root_certificate.display()
    );
    println!(
        "{} units, {} signing keys, {} trust anchors loaded",
        state.registry.units().len(),
        state.keys.len(),
        state.anchors.len()
    );
    println!(
        "CRLs and CA certificates over HTTP: {}/crl/issuing.crl, {}/ca/issuing.crt",
        config.public_url(),
        config.public_url()
    );
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
