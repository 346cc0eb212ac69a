//! Key custody: software private keys are kept on disk only sealed (encrypted and
//! authenticated) under a key-encryption key (KEK) that lives outside the data directory.
//!
//! # The key-encryption key
//!
//! 32 bytes, taken from the first of:
//! 1. the environment variable `KYSO_KEY_ENCRYPTION_KEY`: 64 hex digits or the standard
//!    base64 (with padding) of 32 bytes;
//! 2. a file of exactly 32 raw bytes, mode 0600 or narrower: the configured
//!    `key_encryption_key_file`, else the caller's default (for the development PKI,
//!    `<data_dir>.kek`, a sibling of the data directory so that a copy of the data directory
//!    alone does not reveal the keys).
//!
//! The file is created with 32 random bytes only when the caller says no key has been sealed
//! yet; otherwise a missing file is an error, since a new KEK could not open the existing keys.
//! A file readable by group or others, or of another length, is refused.
//!
//! # Sealed key files
//!
//! A sealed key is a PEM-like armour (RFC 7468 encapsulation, our own label):
//!
//! ```text
//! -----BEGIN KYSO SEALED PRIVATE KEY-----
//! base64( version || algorithm || nonce || ciphertext || tag )
//! -----END KYSO SEALED PRIVATE KEY-----
//! ```
//!
//! - `version`: one byte, `0x01`;
//! - `algorithm`: one byte, `0x01` = AES-256-GCM (NIST SP 800-38D) with the KEK as key;
//! - `nonce`: 12 random bytes, fresh for every sealing (random 96-bit nonces keep the
//!   collision probability negligible for the few thousand keys one KEK ever seals);
//! - `ciphertext || tag`: the PKCS#8 `PrivateKeyInfo` DER (RFC 5208), encrypted, then the
//!   16-byte GCM tag.
//!
//! The associated data is `"kyso sealed private key" || 0x00 || version || algorithm ||
//! purpose`, where the purpose names the key's slot (for the development PKI, its path relative
//! to the data directory, which names the role, the unit code and the leader). A sealed file
//! copied over another slot, a flipped bit, or another KEK all fail the tag check with
//! [`CustodyError::Decrypt`].
//!
//! Plaintext key buffers are [`Zeroizing`](zeroize::Zeroizing) and wiped when dropped; keys
//! inside ring and rcgen objects are not (those crates do not offer it).

mod kek;
mod sealed;

use std::path::PathBuf;

pub use kek::{KekOrigin, KeyEncryptionKey};
pub use sealed::{SEALED_LABEL, StoredKey, is_sealed, read_key_file, seal, unseal};

/// Why a key-encryption key or a sealed key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CustodyError {
    /// `KYSO_KEY_ENCRYPTION_KEY` is set but is not 32 bytes in hex or base64.
    #[error(
        "KYSO_KEY_ENCRYPTION_KEY must be 64 hex digits or the base64 of 32 bytes ({length} characters given)"
    )]
    EnvironmentKey {
        /// How many characters the variable holds.
        length: usize,
    },
    /// The KEK file is missing although keys were sealed with it.
    #[error(
        "the key-encryption key file {path} is missing but the data directory holds sealed keys; restore it from its backup or set KYSO_KEY_ENCRYPTION_KEY"
    )]
    KeyFileMissing {
        /// The file looked for.
        path: PathBuf,
    },
    /// The KEK file is readable by group or others.
    #[error(
        "the key-encryption key file {path} has mode {mode:o}, readable by others; `chmod 600` it"
    )]
    KeyFilePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The KEK file does not hold exactly 32 bytes.
    #[error("the key-encryption key file {path} holds {length} bytes, not 32")]
    KeyFileLength {
        /// The file.
        path: PathBuf,
        /// Its length.
        length: u64,
    },
    /// The KEK file is not a regular file.
    #[error("the key-encryption key file {path} is not a regular file")]
    KeyFileNotRegular {
        /// The path.
        path: PathBuf,
    },
    /// No default KEK location can be derived (the data directory is `/`).
    #[error(
        "no place for a key-encryption key file beside {data_dir}; configure key_encryption_key_file"
    )]
    NoKeyFileLocation {
        /// The data directory.
        data_dir: PathBuf,
    },
    /// Reading, creating or writing a file failed.
    #[error("cannot read or write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The system random generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The file holds no well-formed sealed-key armour.
    #[error("{path} holds no well-formed KYSO SEALED PRIVATE KEY block")]
    NotSealed {
        /// The file.
        path: PathBuf,
    },
    /// A key file in clear holds no PKCS#8 `PRIVATE KEY` block.
    #[error("{path} holds neither a sealed key nor a PKCS#8 PRIVATE KEY block")]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The sealed data is shorter than its header and tag.
    #[error("{path} is a truncated sealed key ({length} bytes)")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The decoded length.
        length: usize,
    },
    /// The sealed-key format version is not one kyso reads.
    #[error("{path} is a sealed key of format version {version}; this kyso reads version 1")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version byte found.
        version: u8,
    },
    /// The sealing algorithm is not one kyso knows.
    #[error("{path} is sealed with unknown algorithm {algorithm}")]
    UnsupportedAlgorithm {
        /// The file.
        path: PathBuf,
        /// The algorithm byte found.
        algorithm: u8,
    },
    /// The authentication tag did not verify.
    #[error(
        "cannot decrypt {path}: wrong key-encryption key or the file was altered (or moved from another key's place)"
    )]
    Decrypt {
        /// The file.
        path: PathBuf,
    },
}
