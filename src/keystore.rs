//! The signing keys a server holds, loaded once at start-up and looked up by
//! unit and role for every request. A unit's signers are only ever its own:
//! the lookup is keyed by the unit code, so no request can reach another
//! unit's organisation key or a leader of another unit.

use crate::ca::DevPki;
use crate::crypto::{RsaPadding, SigningKey};
use crate::custody::{self, KeyEncryptionKey, StoredKey};
use crate::keyfile::{self, KeyFileError};
use crate::sign::{SignError, Signer};
use crate::units::{LeaderId, UnitCode, UnitRegistry};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

/// Whose key signs, within one unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignerRole {
    /// The unit's organisation certificate (its electronic seal).
    Organisation,
    /// A leader's personal certificate.
    Leader(LeaderId),
}

/// What can go wrong finding or loading a signer.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// No such unit in the registry.
    #[error("unit {unit} is not registered")]
    UnknownUnit {
        /// The code asked for.
        unit: String,
    },
    /// The unit has no such leader.
    #[error("unit {unit} has no leader {leader}")]
    UnknownLeader {
        /// The unit.
        unit: String,
        /// The leader asked for.
        leader: String,
    },
    /// The unit or leader exists but no key is installed for it.
    #[error("no {role} key is installed for unit {unit}")]
    NoKey {
        /// The unit.
        unit: String,
        /// "organisation" or "leader <id>".
        role: String,
    },
    /// A key or certificate file is unusable.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// A key does not go with its certificate.
    #[error("{path}: {source}")]
    Signer {
        /// The certificate file.
        path: PathBuf,
        /// Why the pair was refused.
        source: SignError,
    },
}

/// Every signer the server can use, ready to sign. Certificates issued or
/// imported while the server runs replace a unit's signer for their role
/// ([`install`](Self::install)); a request that already holds a signer
/// finishes with it.
#[derive(Debug, Default)]
pub struct KeyStore {
    signers: RwLock<HashMap<(UnitCode, SignerRole), Arc<Signer>>>,
}

impl KeyStore {
    /// Loads the keys the development PKI laid out in `data_dir` (see
    /// [`DevPki`]): each unit's organisation key and its leaders' keys, with
    /// the issuing CA and root from `pki/chain.pem` embedded beside them.
    /// Sealed keys are opened with `kek`; a key an operator placed in clear is
    /// read too, with a warning.
    pub fn load_data_dir(
        data_dir: &Path,
        registry: &UnitRegistry,
        rsa_padding: RsaPadding,
        kek: &KeyEncryptionKey,
    ) -> Result<Self, KeyStoreError> {
        let layout = DevPki::new(data_dir);
        let issuers = keyfile::read_certificates(&layout.chain_path())?;
        let store = KeyStore::default();
        for unit in registry.units() {
            let mut credentials = vec![(
                SignerRole::Organisation,
                layout.organisation_certificate_path(&unit.code),
                layout.organisation_key_path(&unit.code),
            )];
            credentials.extend(unit.leaders.iter().map(|leader| {
                (
                    SignerRole::Leader(leader.id.clone()),
                    layout.leader_certificate_path(&unit.code, &leader.id),
                    layout.leader_key_path(&unit.code, &leader.id),
                )
            }));
            for (role, certificate, key) in credentials {
                if certificate.exists() {
                    let purpose = layout.key_purpose(&key);
                    let key = read_key(&key, &purpose, kek, rsa_padding)?;
                    let signer = load_pair(&certificate, key, &issuers)?;
                    store.install(unit.code.clone(), role, signer);
                }
            }
        }
        Ok(store)
    }

    /// Adds a signer (tests).
    pub fn insert(&mut self, unit: UnitCode, role: SignerRole, signer: Arc<Signer>) {
        self.install(unit, role, signer);
    }

    /// Makes `signer` the signer for `role` in `unit`, replacing the one
    /// before it (a certificate issued or imported while serving).
    pub fn install(&self, unit: UnitCode, role: SignerRole, signer: Arc<Signer>) {
        self.signers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((unit, role), signer);
    }

    /// Removes the signer for `role` in `unit` when it is still `signer`
    /// (its certificate was revoked); true when it was removed.
    pub fn remove_if(&self, unit: &UnitCode, role: &SignerRole, signer: &Arc<Signer>) -> bool {
        let mut signers = self.signers.write().unwrap_or_else(PoisonError::into_inner);
        let key = (unit.clone(), role.clone());
        if signers
            .get(&key)
            .is_some_and(|current| Arc::ptr_eq(current, signer))
        {
            signers.remove(&key);
            return true;
        }
        false
    }

    /// Every loaded signer with its unit and role.
    pub fn signers(&self) -> Vec<(UnitCode, SignerRole, Arc<Signer>)> {
        self.signers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|((unit, role), signer)| (unit.clone(), role.clone(), signer.clone()))
            .collect()
    }

    /// How many signers are loaded.
    pub fn len(&self) -> usize {
        self.signers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True when no signer is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The signer for `role` in `unit`. When none is installed, the error
    /// says why from `registry`: no such unit, no such leader, or no key.
    /// A signer installed for a unit added since `registry` was read (a
    /// certificate issued for it through the CA) is found all the same.
    pub fn signer(
        &self,
        registry: &UnitRegistry,
        unit: &UnitCode,
        role: &SignerRole,
    ) -> Result<Arc<Signer>, KeyStoreError> {
        if let Some(signer) = self
            .signers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(unit.clone(), role.clone()))
        {
            return Ok(signer.clone());
        }
        let registered = registry
            .find(unit)
            .ok_or_else(|| KeyStoreError::UnknownUnit {
                unit: unit.to_string(),
            })?;
        let role_name = match role {
            SignerRole::Organisation => "organisation".to_string(),
            SignerRole::Leader(leader) => {
                if registered.leader(leader).is_none() {
                    return Err(KeyStoreError::UnknownLeader {
                        unit: unit.to_string(),
                        leader: leader.to_string(),
                    });
                }
                format!("leader {leader}")
            }
        };
        Err(KeyStoreError::NoKey {
            unit: unit.to_string(),
            role: role_name,
        })
    }
}

/// Reads the key file `path`: sealed for `purpose` under `kek`, or in clear.
fn read_key(
    path: &Path,
    purpose: &str,
    kek: &KeyEncryptionKey,
    rsa_padding: RsaPadding,
) -> Result<Arc<dyn SigningKey>, KeyStoreError> {
    let stored = custody::read_key_file(path, purpose, kek).map_err(KeyFileError::from)?;
    Ok(match stored {
        StoredKey::Sealed(pkcs8) => keyfile::private_key_from_pkcs8(&pkcs8, path, rsa_padding)?,
        StoredKey::Clear(pem) => keyfile::parse_private_key(&pem, path, rsa_padding)?,
    })
}

/// Puts a certificate with its key, and `issuers` after it.
fn load_pair(
    certificate_path: &Path,
    key: Arc<dyn SigningKey>,
    issuers: &[Vec<u8>],
) -> Result<Arc<Signer>, KeyStoreError> {
    let mut chain = keyfile::read_certificates(certificate_path)?;
    chain.truncate(1);
    chain.extend(issuers.iter().cloned());
    let signer = Signer::new(key, &chain).map_err(|source| KeyStoreError::Signer {
        path: certificate_path.to_path_buf(),
        source,
    })?;
    Ok(Arc::new(signer))
}
