//! What can go wrong issuing, importing, revoking and publishing.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::ca::{CaError, KeyAlgorithm, RevocationReason};
use crate::datetime::rfc3339;

/// Why a CA operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    /// No such unit in the registry.
    #[error("unit {unit} is not registered")]
    UnknownUnit {
        /// The code given.
        unit: String,
    },
    /// The unit has no such leader.
    #[error("unit {unit} has no leader {leader}")]
    UnknownLeader {
        /// The unit.
        unit: String,
        /// The leader given.
        leader: String,
    },
    /// No registered certificate has this fingerprint or serial number.
    #[error("no registered certificate has the fingerprint or serial number {id}")]
    UnknownCertificate {
        /// The identifier given.
        id: String,
    },
    /// A revocation time in the future.
    #[error("the revocation time {} is in the future; revoke when it comes, or give a past time", rfc3339(*.at))]
    RevocationInFuture {
        /// The time given.
        at: SystemTime,
    },
    /// The signer certificate is revoked.
    #[error("the certificate {subject} was revoked at {} ({reason}); kyso no longer signs with it", rfc3339(*.at))]
    Revoked {
        /// Its subject.
        subject: String,
        /// The revocation time.
        at: SystemTime,
        /// Why.
        reason: RevocationReason,
    },
    /// Time-stamping certificates are issued by kyso's CA only.
    #[error("only organisation and leader certificates can be imported")]
    ImportRole,
    /// No token has this name in the configuration.
    #[error("no token named {token:?} is configured ([[tokens]] in the config file)")]
    UnknownToken {
        /// The name given.
        token: String,
    },
    /// Two configured tokens share a name.
    #[error("two [[tokens]] are named {token:?}")]
    DuplicateToken {
        /// The name.
        token: String,
    },
    /// A key type tokens are not asked to generate.
    #[error("kyso does not generate {algorithm} keys on tokens (RSA 2048/3072, ECDSA P-256/P-384)")]
    TokenKeyType {
        /// The algorithm asked for.
        algorithm: KeyAlgorithm,
    },
    /// The CA refused or failed (bad request, names too long, …).
    #[error(transparent)]
    Ca(#[from] CaError),
    /// An imported certificate or key was refused.
    #[error(transparent)]
    Import(#[from] crate::ca::ImportError),
    /// A PKCS#11 token failed.
    #[error(transparent)]
    Token(#[from] crate::hsm::HsmError),
    /// Sealing or opening a key failed.
    #[error(transparent)]
    Custody(#[from] crate::custody::CustodyError),
    /// A key could not be loaded for signing.
    #[error(transparent)]
    KeyFile(#[from] crate::keyfile::KeyFileError),
    /// A certificate and its key do not make a signer.
    #[error(transparent)]
    Sign(#[from] crate::sign::SignError),
    /// The register could not be read or written.
    #[error(transparent)]
    Records(#[from] crate::records::RecordsError),
    /// A CA file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// No CA of kyso's has this name.
    #[error("kyso has no CA named {name:?}; its CAs are \"issuing\" and \"root\"")]
    UnknownCa {
        /// The name given.
        name: String,
    },
    /// Anything else that should not happen.
    #[error("{0}")]
    Internal(String),
}

impl AuthorityError {
    /// The error of a CRL publication: the signing step's own, or the
    /// register's.
    pub(super) fn from_publish(error: crate::records::PublishCrlError<AuthorityError>) -> Self {
        match error {
            crate::records::PublishCrlError::Sign(error) => error,
            crate::records::PublishCrlError::Records(error) => AuthorityError::Records(error),
        }
    }
}
