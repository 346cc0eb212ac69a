//! Key and certificate files: PEM (PKCS#8, PKCS#1, certificates) and
//! PKCS#12. The `pem` and `p12-keystore` crates live only here (the sealed
//! key armour of [`crate::custody`] is PEM-encoded here too).

use crate::crypto::{CryptoBackend, CryptoError, RsaPadding, SigningKey};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What is wrong with a key or certificate file.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not PEM.
    #[error("{path} is not a PEM file: {reason}")]
    NotPem {
        /// The file.
        path: PathBuf,
        /// What the PEM parser said.
        reason: String,
    },
    /// The PEM holds no block of the expected kind.
    #[error("{path} holds no {expected} PEM block")]
    NoBlock {
        /// The file.
        path: PathBuf,
        /// Which label was looked for.
        expected: &'static str,
    },
    /// An EC key in SEC1 form ("EC PRIVATE KEY"), which ring does not load.
    #[error(
        "{path} holds an \"EC PRIVATE KEY\" (SEC1); convert it to PKCS#8: `openssl pkcs8 -topk8 -nocrypt -in {path} -out key-pkcs8.pem`"
    )]
    Sec1Key {
        /// The file.
        path: PathBuf,
    },
    /// The key itself is unusable.
    #[error("{path}: {source}")]
    Key {
        /// The file.
        path: PathBuf,
        /// The crypto layer's error.
        source: CryptoError,
    },
    /// The password does not open the PKCS#12 file (its MAC does not verify).
    #[error("the password does not open the PKCS#12 file {path}")]
    Pkcs12Password {
        /// The file.
        path: PathBuf,
    },
    /// The PKCS#12 file could not be opened.
    #[error("cannot open PKCS#12 {path}: wrong password or damaged file ({reason})")]
    Pkcs12 {
        /// The file.
        path: PathBuf,
        /// What the PKCS#12 parser said.
        reason: String,
    },
    /// A sealed key file cannot be opened (wrong key-encryption key, altered or moved).
    #[error(transparent)]
    Sealed(#[from] crate::custody::CustodyError),
    /// The PKCS#12 file has no private key with certificates.
    #[error("PKCS#12 {path} holds no private key with its certificate")]
    Pkcs12WithoutKey {
        /// The file.
        path: PathBuf,
    },
}

/// A key and the certificate chain that goes with it (signer first).
#[derive(Debug, Clone)]
pub struct KeyMaterial {
    /// The signing key.
    pub key: Arc<dyn SigningKey>,
    /// DER certificates: the signer's first, then issuers.
    pub chain: Vec<Vec<u8>>,
}

fn read(path: &Path) -> Result<Vec<u8>, KeyFileError> {
    std::fs::read(path).map_err(|source| KeyFileError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a private key PEM file: PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY").
pub fn read_private_key(
    path: &Path,
    rsa_padding: RsaPadding,
) -> Result<Arc<dyn SigningKey>, KeyFileError> {
    let bytes = read(path)?;
    parse_private_key(&bytes, path, rsa_padding)
}

/// Parses a private key PEM (see [`read_private_key`]); `path` names it in errors.
pub fn parse_private_key(
    bytes: &[u8],
    path: &Path,
    rsa_padding: RsaPadding,
) -> Result<Arc<dyn SigningKey>, KeyFileError> {
    let blocks = pem::parse_many(bytes).map_err(|e| KeyFileError::NotPem {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let key_error = |source| KeyFileError::Key {
        path: path.to_path_buf(),
        source,
    };
    for block in blocks {
        let key = match block.tag() {
            "PRIVATE KEY" => {
                CryptoBackend::default().signing_key_from_pkcs8(block.contents(), rsa_padding)
            }
            "RSA PRIVATE KEY" => {
                CryptoBackend::default().signing_key_from_rsa_pkcs1(block.contents(), rsa_padding)
            }
            "EC PRIVATE KEY" => {
                return Err(KeyFileError::Sec1Key {
                    path: path.to_path_buf(),
                });
            }
            _ => continue,
        };
        return Ok(Arc::from(key.map_err(key_error)?));
    }
    Err(KeyFileError::NoBlock {
        path: path.to_path_buf(),
        expected: "PRIVATE KEY",
    })
}

/// Loads a PKCS#8 `PrivateKeyInfo` DER (RFC 5208), e.g. an unsealed key;
/// `path` names it in errors.
pub fn private_key_from_pkcs8(
    der: &[u8],
    path: &Path,
    rsa_padding: RsaPadding,
) -> Result<Arc<dyn SigningKey>, KeyFileError> {
    let key = CryptoBackend::default()
        .signing_key_from_pkcs8(der, rsa_padding)
        .map_err(|source| KeyFileError::Key {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(Arc::from(key))
}

/// Reads every certificate in a PEM file, in file order, as DER.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, KeyFileError> {
    let bytes = read(path)?;
    parse_certificates(&bytes, path)
}

/// Parses every "CERTIFICATE" block of a PEM text; `path` names it in errors.
pub fn parse_certificates(bytes: &[u8], path: &Path) -> Result<Vec<Vec<u8>>, KeyFileError> {
    let blocks = pem::parse_many(bytes).map_err(|e| KeyFileError::NotPem {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let certificates: Vec<Vec<u8>> = blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    if certificates.is_empty() {
        return Err(KeyFileError::NoBlock {
            path: path.to_path_buf(),
            expected: "CERTIFICATE",
        });
    }
    Ok(certificates)
}

/// Reads a PKCS#12 file: its private key and certificate chain.
pub fn read_pkcs12(
    path: &Path,
    password: &str,
    rsa_padding: RsaPadding,
) -> Result<KeyMaterial, KeyFileError> {
    let bytes = read(path)?;
    let (certificates, pkcs8) = parse_pkcs12(&bytes, password, path)?;
    let key = CryptoBackend::default()
        .signing_key_from_pkcs8(&pkcs8, rsa_padding)
        .map_err(|source| KeyFileError::Key {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(KeyMaterial {
        key: Arc::from(key),
        chain: certificates,
    })
}

/// Certificates (DER, the key's own first) and the key's PKCS#8 DER, wiped
/// when dropped.
pub type CertificatesAndKey = (Vec<Vec<u8>>, zeroize::Zeroizing<Vec<u8>>);

/// The certificates (the key's first) and the PKCS#8 private key of a
/// PKCS#12 file's bytes; `path` names the file in errors. A password that
/// does not open the file is [`KeyFileError::Pkcs12Password`].
pub fn parse_pkcs12(
    bytes: &[u8],
    password: &str,
    path: &Path,
) -> Result<CertificatesAndKey, KeyFileError> {
    let store = p12_keystore::KeyStore::from_pkcs12(
        bytes,
        password,
        p12_keystore::Pkcs12ImportPolicy::Strict,
    )
    .map_err(|error| match error {
        p12_keystore::error::Error::MacError(_) => KeyFileError::Pkcs12Password {
            path: path.to_path_buf(),
        },
        other => KeyFileError::Pkcs12 {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    })?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| KeyFileError::Pkcs12WithoutKey {
            path: path.to_path_buf(),
        })?;
    let certificates: Vec<Vec<u8>> = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
    if certificates.is_empty() {
        return Err(KeyFileError::Pkcs12WithoutKey {
            path: path.to_path_buf(),
        });
    }
    Ok((
        certificates,
        zeroize::Zeroizing::new(chain.key().as_der().to_vec()),
    ))
}

/// The contents of the first PEM block labelled `label` in `bytes`.
pub fn parse_pem_block(
    bytes: &[u8],
    path: &Path,
    label: &'static str,
) -> Result<Vec<u8>, KeyFileError> {
    let blocks = pem::parse_many(bytes).map_err(|e| KeyFileError::NotPem {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    blocks
        .into_iter()
        .find(|b| b.tag() == label)
        .map(pem::Pem::into_contents)
        .ok_or_else(|| KeyFileError::NoBlock {
            path: path.to_path_buf(),
            expected: label,
        })
}

/// `contents` as one PEM block labelled `label` (RFC 7468 §2: base64 lines of 64 characters,
/// `\n` line endings).
pub fn encode_pem(label: &str, contents: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, contents), config)
}
