//! Configuration of `kyso serve`: built-in defaults, then a TOML file, then
//! `KYSO_*` environment variables, then command-line flags (figment).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use crate::scheduling::CpuScheduling;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default unary size limit for a PDF in `Sign` (32 MiB).
pub const DEFAULT_MAX_PDF_BYTES: usize = 32 * 1024 * 1024;

/// Default size limit for a PDF in the streamed `SignStream` (1 GiB).
pub const DEFAULT_MAX_STREAMED_PDF_BYTES: usize = 1024 * 1024 * 1024;

/// Settings of a running server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Where keys, certificates and the unit registry live (`KYSO_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Address the gRPC server listens on (`KYSO_LISTEN`).
    pub listen: SocketAddr,
    /// Largest PDF accepted by the unary `Sign` call (`KYSO_MAX_PDF_BYTES`).
    pub max_pdf_bytes: usize,
    /// Largest PDF accepted by the streamed `SignStream` call
    /// (`KYSO_MAX_STREAMED_PDF_BYTES`); the server holds it once in memory.
    #[serde(default = "default_max_streamed_pdf_bytes")]
    pub max_streamed_pdf_bytes: usize,
    /// Padding the server's RSA keys sign with: `pkcs1` or `pss` (`KYSO_RSA_PADDING`).
    pub rsa_padding: RsaPaddingSetting,
    /// Folder of trust anchors (`*.pem`) for verification (`KYSO_TRUST_DIR`);
    /// a missing folder means no configured anchors.
    pub trust_dir: PathBuf,
    /// Also trust the development root CA in the data directory, so that
    /// documents signed by this server verify (`KYSO_TRUST_DEVELOPMENT_ROOT`).
    /// Turn it off in production.
    pub trust_development_root: bool,
    /// Where the records live (`KYSO_DATABASE_URL`): `postgres://…` for
    /// replicas sharing one database, `sqlite://FILE`, or unset for
    /// `records.db` (SQLite) in the data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Reports flag units whose rate is below this percentage, unless the
    /// request names its own (`KYSO_REPORT_THRESHOLD_PERCENT`), e.g. "90" or "87.5".
    pub report_threshold_percent: String,
    /// The key-encryption key file (`KYSO_KEY_ENCRYPTION_KEY_FILE`): 32 raw
    /// bytes, mode 0600; unset for `<data_dir>.kek`, created on first start.
    /// `KYSO_KEY_ENCRYPTION_KEY` (the key itself, hex or base64) wins over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_encryption_key_file: Option<PathBuf>,
    /// The address relying parties reach this server's HTTP endpoints at
    /// (`KYSO_PUBLIC_URL`), written into every certificate kyso's CA issues:
    /// CRL distribution point `<public_url>/crl/<ca>.crl` and authority
    /// information access `<public_url>/ca/<ca>.crt`. Unset for
    /// `http://<listen>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// PKCS#11 tokens keys may be generated on and signed with (`[[tokens]]`
    /// in the config file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<TokenSetting>,
    /// How Linux schedules the server's threads (`KYSO_CPU_SCHEDULING`):
    /// `batch` (woken threads do not preempt running signatures; more
    /// documents/s under full load) or `normal`. See [`crate::scheduling`].
    #[serde(default)]
    pub cpu_scheduling: CpuScheduling,
}

/// A PKCS#11 token, as configured: `[[tokens]]` with `name`, `module`,
/// `token_label` and `pin_file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSetting {
    /// The name certificates and requests use for it, e.g. `hsm`.
    pub name: String,
    /// The vendor's PKCS#11 module (shared library).
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// A file holding the user PIN alone (mode 0600 or a secrets mount).
    pub pin_file: PathBuf,
}

fn default_max_streamed_pdf_bytes() -> usize {
    DEFAULT_MAX_STREAMED_PDF_BYTES
}

/// The RSA padding setting, as written in config files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RsaPaddingSetting {
    /// PKCS#1 v1.5.
    #[default]
    Pkcs1,
    /// RSASSA-PSS.
    Pss,
}

impl From<RsaPaddingSetting> for crate::crypto::RsaPadding {
    fn from(setting: RsaPaddingSetting) -> Self {
        match setting {
            RsaPaddingSetting::Pkcs1 => crate::crypto::RsaPadding::Pkcs1,
            RsaPaddingSetting::Pss => crate::crypto::RsaPadding::Pss,
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("kyso-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            max_pdf_bytes: DEFAULT_MAX_PDF_BYTES,
            max_streamed_pdf_bytes: DEFAULT_MAX_STREAMED_PDF_BYTES,
            rsa_padding: RsaPaddingSetting::Pkcs1,
            trust_dir: PathBuf::from("certs/anchors"),
            trust_development_root: true,
            database_url: None,
            report_threshold_percent: "90".to_string(),
            key_encryption_key_file: None,
            public_url: None,
            tokens: Vec::new(),
            cpu_scheduling: CpuScheduling::default(),
        }
    }
}

/// Flags given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServeOverrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--max-pdf-bytes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pdf_bytes: Option<usize>,
    /// `--rsa-padding`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rsa_padding: Option<RsaPaddingSetting>,
    /// `--trust-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--public-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// `--cpu-scheduling`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_scheduling: Option<CpuScheduling>,
}

/// What is wrong with the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A named config file does not exist.
    #[error("config file {path} does not exist")]
    MissingFile {
        /// The file named by `--config`.
        path: PathBuf,
    },
    /// A value is missing or malformed.
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
}

impl ServeConfig {
    /// The records database URL: the configured one, or SQLite in the data
    /// directory.
    pub fn records_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => crate::records::RecordStore::sqlite_url(&self.data_dir.join("records.db")),
        }
    }

    /// The base URL of this server's HTTP endpoints, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }

    /// Layers defaults, `config_file` (or `./kyso.toml` when it exists and
    /// none is named), the environment and `overrides`.
    pub fn load(
        config_file: Option<&Path>,
        overrides: &ServeOverrides,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(ServeConfig::default()));
        match config_file {
            Some(path) if !path.exists() => {
                return Err(ConfigError::MissingFile {
                    path: path.to_path_buf(),
                });
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file("kyso.toml")),
        }
        figment
            // Only the settings' own variables: other KYSO_* variables (the
            // test tools', the CLI's) are not server configuration.
            .merge(Env::prefixed("KYSO_").only(&[
                "data_dir",
                "listen",
                "max_pdf_bytes",
                "max_streamed_pdf_bytes",
                "rsa_padding",
                "trust_dir",
                "trust_development_root",
                "database_url",
                "report_threshold_percent",
                "key_encryption_key_file",
                "public_url",
                "cpu_scheduling",
            ]))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_config_file_which_wins_over_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("kyso.toml");
        std::fs::write(&file, "data_dir = \"/srv/kyso\"\nmax_pdf_bytes = 1000\n").expect("write");
        let overrides = ServeOverrides {
            max_pdf_bytes: Some(2000),
            ..ServeOverrides::default()
        };
        let config = ServeConfig::load(Some(&file), &overrides).expect("load");
        assert_eq!(config.data_dir, PathBuf::from("/srv/kyso"));
        assert_eq!(config.max_pdf_bytes, 2000);
        assert_eq!(config.listen, ServeConfig::default().listen);
    }

    #[test]
    fn the_threads_run_as_batch_unless_the_config_file_says_normal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("kyso.toml");
        std::fs::write(&file, "data_dir = \"/srv/kyso\"\n").expect("write");
        let config = ServeConfig::load(Some(&file), &ServeOverrides::default()).expect("load");
        assert_eq!(config.cpu_scheduling, CpuScheduling::Batch);
        std::fs::write(&file, "cpu_scheduling = \"normal\"\n").expect("write");
        let config = ServeConfig::load(Some(&file), &ServeOverrides::default()).expect("load");
        assert_eq!(config.cpu_scheduling, CpuScheduling::Normal);
        std::fs::write(&file, "cpu_scheduling = \"fifo\"\n").expect("write");
        let refused = ServeConfig::load(Some(&file), &ServeOverrides::default());
        assert!(refused.is_err(), "only batch and normal exist");
    }

    #[test]
    fn an_unknown_key_in_the_config_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("kyso.toml");
        std::fs::write(&file, "data_dr = \"typo\"\n").expect("write");
        assert!(ServeConfig::load(Some(&file), &ServeOverrides::default()).is_err());
    }
}
