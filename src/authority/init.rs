//! `kyso ca init`: kyso's root and issuing CA in a data directory, their keys
//! sealed under the key-encryption key, before any server starts.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::AuthorityError;
use crate::ca::{self, DevPki};
use crate::units::UnitRegistry;

/// What `init_authority` found or made.
#[derive(Debug, Clone)]
pub struct InitReport {
    /// False when the CA already existed (nothing was changed).
    pub created: bool,
    /// The root CA certificate (PEM): the trust anchor relying parties install.
    pub root_certificate: PathBuf,
    /// The issuing CA certificate (PEM).
    pub issuing_certificate: PathBuf,
    /// The key-encryption key file the CA keys are sealed under (or the
    /// environment variable's name when the key came from there).
    pub key_encryption_key: PathBuf,
}

/// Creates the root and issuing CA under `data_dir` unless they exist, the
/// issuing CA naming the root's CRL and certificate under `public_url`. Unit
/// and leader certificates follow when `kyso serve` first starts.
pub fn init_authority(
    data_dir: &Path,
    key_encryption_key_file: Option<&Path>,
    public_url: &str,
    now: SystemTime,
) -> Result<InitReport, AuthorityError> {
    std::fs::create_dir_all(data_dir).map_err(|source| AuthorityError::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let layout = DevPki::new(data_dir);
    let existed = layout.marker_path().exists();
    let kek = layout.key_encryption_key(key_encryption_key_file)?;
    let no_units = UnitRegistry::new(Vec::new())
        .map_err(|error| AuthorityError::Internal(error.to_string()))?;
    ca::ensure_published_dev_pki(data_dir, &no_units, &kek, Some(public_url), now)?;
    let key_encryption_key =
        if std::env::var_os(crate::custody::KeyEncryptionKey::ENVIRONMENT_VARIABLE).is_some() {
            PathBuf::from(format!(
                "${}",
                crate::custody::KeyEncryptionKey::ENVIRONMENT_VARIABLE
            ))
        } else {
            match key_encryption_key_file {
                Some(file) => file.to_path_buf(),
                None => layout.default_key_encryption_key_path()?,
            }
        };
    Ok(InitReport {
        created: !existed,
        root_certificate: layout.root_certificate_path(),
        issuing_certificate: layout.issuing_ca_certificate_path(),
        key_encryption_key,
    })
}
