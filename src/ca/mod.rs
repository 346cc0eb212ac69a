//! kyso's own certification authority, for internal use, tests and training (made with rcgen).
//!
//! The hierarchy is root → issuing CA → end-entity certificates of two kinds:
//! - **organisation** certificates, the unit's electronic seal: subject CN and O are the unit's
//!   name, UID its document-exchange code;
//! - **personal** certificates of leaders: CN is the person's full name, O and UID their
//!   unit's. No title attribute: the title comes from each document (Decree 68/2024/NĐ-CP).
//!
//! All subject text is encoded as UTF8String so Vietnamese names survive intact. CA keys are
//! ECDSA P-256. End-entity keys are generated here (ECDSA) or supplied as PKCS#8 (any
//! [`KeyAlgorithm`], RSA included, since only the public key goes into the certificate), or
//! only their public key is, when a token holds the private key ([`LeafKey::External`]).
//!
//! [`ensure_dev_pki`] lays out a complete development PKI for a [`UnitRegistry`] under the data
//! directory, its private keys sealed under a key-encryption key ([`crate::custody`]). rcgen is used in this module only; the rest of kyso sees DER, PEM and the types
//! below. Time is always an argument.
//!
//! [`UnitRegistry`]: crate::units::UnitRegistry

mod authority;
mod dev_pki;
mod stored;

use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::datetime::rfc3339;

pub use authority::CertificateAuthority;
pub use dev_pki::{DevPki, DevPkiReport, ensure_dev_pki, ensure_dev_pki_with_kek};

/// A key algorithm for end-entity certificates.
///
/// rcgen with ring can generate only the ECDSA keys; RSA keys must be supplied
/// ([`LeafKey::Pkcs8`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on NIST P-384 with SHA-384.
    EcdsaP384,
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
}

impl KeyAlgorithm {
    /// The modulus size of an RSA algorithm, in bits; `None` for ECDSA.
    pub fn rsa_modulus_bits(self) -> Option<usize> {
        match self {
            Self::EcdsaP256 | Self::EcdsaP384 => None,
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
            Self::Rsa4096 => Some(4096),
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EcdsaP256 => "ECDSA P-256",
            Self::EcdsaP384 => "ECDSA P-384",
            Self::Rsa2048 => "RSA 2048",
            Self::Rsa3072 => "RSA 3072",
            Self::Rsa4096 => "RSA 4096",
        })
    }
}

/// The key an end-entity certificate is issued for.
pub enum LeafKey {
    /// Generate a fresh key (ECDSA only; RSA fails with [`CaError::CannotGenerate`]).
    Generate(KeyAlgorithm),
    /// Use this PKCS#8 private key (RFC 5208), which must be of `algorithm`.
    Pkcs8 {
        /// The DER-encoded `PrivateKeyInfo`.
        der: Vec<u8>,
        /// The key's algorithm (and for RSA, its size), checked against the key.
        algorithm: KeyAlgorithm,
    },
    /// Certify a public key whose private key is held elsewhere (an HSM token): the issued
    /// [`CertifiedKey`] carries no private key.
    External {
        /// The key as it stands in a certificate's `subjectPublicKey` BIT STRING: the
        /// `RSAPublicKey` DER (RFC 8017 §A.1.1) or the uncompressed point (SEC 1 §2.3.3).
        public_key: Vec<u8>,
        /// The key's algorithm (and for RSA, its size), checked against the key.
        algorithm: KeyAlgorithm,
    },
}

impl fmt::Debug for LeafKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Generate(algorithm) => f.debug_tuple("Generate").field(algorithm).finish(),
            Self::Pkcs8 { algorithm, .. } => f
                .debug_struct("Pkcs8")
                .field("algorithm", algorithm)
                .finish_non_exhaustive(),
            Self::External { algorithm, .. } => f
                .debug_struct("External")
                .field("algorithm", algorithm)
                .finish_non_exhaustive(),
        }
    }
}

/// An issued certificate with its private key.
///
/// The key is plain bytes in memory and is not zeroized on drop yet.
#[derive(Clone, PartialEq, Eq)]
pub struct CertifiedKey {
    /// The certificate, DER.
    pub certificate_der: Vec<u8>,
    /// The certificate, PEM (`CERTIFICATE`).
    pub certificate_pem: String,
    /// The private key, PKCS#8 DER (`PrivateKeyInfo`); empty for a [`LeafKey::External`] key,
    /// which stays where it is held.
    pub private_key_pkcs8_der: Vec<u8>,
}

impl CertifiedKey {
    /// The private key as PEM (`PRIVATE KEY`, RFC 7468 §10).
    pub fn private_key_pem(&self) -> String {
        stored::pem_encode("PRIVATE KEY", &self.private_key_pkcs8_der)
    }
}

impl fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertifiedKey")
            .field(
                "certificate_der",
                &format_args!("{} bytes", self.certificate_der.len()),
            )
            .field("private_key_pkcs8_der", &"[elided]")
            .finish_non_exhaustive()
    }
}

/// What is wrong with a CA certificate that was to be reloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CertificateDefect {
    /// No PEM block with the expected label, or its base64 is invalid.
    #[error("no well-formed PEM block with the expected label")]
    NotPem,
    /// A DER length runs past the end of the data.
    #[error("the DER encoding is truncated")]
    Truncated,
    /// A DER construct outside the subset kyso writes (long tags, indefinite or huge lengths).
    #[error("the DER encoding uses a form kyso does not read")]
    UnsupportedEncoding,
    /// A field is missing or has another tag than X.509 prescribes.
    #[error("expected {field}, found tag {found:02X?}")]
    UnexpectedField {
        /// The field expected at that point.
        field: &'static str,
        /// The tag found instead, if any.
        found: Option<u8>,
    },
    /// The subject has a multi-valued RDN, a repeated attribute, or a string type other than
    /// UTF8String, PrintableString or IA5String.
    #[error("the subject name has a form kyso cannot re-encode")]
    UnsupportedName,
    /// A validity time is not `YYMMDDHHMMSSZ` or `YYYYMMDDHHMMSSZ` (RFC 5280 §4.1.2.5).
    #[error("a validity time is not in RFC 5280 form")]
    UnsupportedTime,
    /// basicConstraints does not say cA = TRUE, or keyUsage lacks keyCertSign (RFC 5280 §4.2.1.9, §4.2.1.3).
    #[error("the certificate is not a CA certificate that may sign certificates")]
    NotCertificateAuthority,
    /// The private key is not the one certified.
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,
}

/// Why a certificate could not be issued or a CA could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// rcgen with ring cannot generate keys of this algorithm.
    #[error("cannot generate {algorithm} keys; supply the key as PKCS#8 instead")]
    CannotGenerate {
        /// The algorithm asked for.
        algorithm: KeyAlgorithm,
    },
    /// A supplied PKCS#8 key is malformed or not of the declared algorithm.
    #[error("the supplied PKCS#8 key is not a usable {algorithm} key")]
    KeyRejected {
        /// The declared algorithm.
        algorithm: KeyAlgorithm,
        /// rcgen's (ring's) reason.
        source: rcgen::Error,
    },
    /// A supplied public key is not a well-formed key of the declared algorithm.
    #[error("the supplied public key is not a {algorithm} public key")]
    PublicKeyRejected {
        /// The declared algorithm.
        algorithm: KeyAlgorithm,
    },
    /// A supplied RSA key has another modulus size than declared.
    #[error("the supplied key was declared {algorithm} but has a {modulus_bits}-bit modulus")]
    RsaKeySizeMismatch {
        /// The declared algorithm.
        algorithm: KeyAlgorithm,
        /// The key's actual modulus size.
        modulus_bits: usize,
    },
    /// A subject attribute exceeds its X.520 upper bound (RFC 5280 Appendix A).
    #[error("{attribute} {value:?} has {length} characters; the limit is {limit}")]
    NameTooLong {
        /// The attribute, e.g. `commonName`.
        attribute: &'static str,
        /// The refused value.
        value: String,
        /// Its length in characters.
        length: usize,
        /// The upper bound.
        limit: usize,
    },
    /// The issuing CA's certificate is not valid at the time of issuance.
    #[error(
        "the issuing CA is valid from {} to {}, not at {}",
        rfc3339(*.not_before), rfc3339(*.not_after), rfc3339(*.at)
    )]
    IssuerNotValidAt {
        /// Start of the CA's validity.
        not_before: SystemTime,
        /// End of the CA's validity.
        not_after: SystemTime,
        /// The time of issuance asked for.
        at: SystemTime,
    },
    /// A time cannot be written in a certificate (before 1970 or past year 9999).
    #[error("the time {} cannot be used in a certificate", rfc3339(*.at))]
    TimeOutOfRange {
        /// The time of issuance asked for.
        at: SystemTime,
    },
    /// The CA's path length constraint forbids issuing another CA below it (RFC 5280 §4.2.1.9).
    #[error("this CA's path length constraint forbids issuing CA certificates")]
    PathLengthExhausted,
    /// A CA certificate handed to [`CertificateAuthority::from_pem`] cannot be used.
    #[error("unusable CA certificate: {defect}")]
    UnusableCaCertificate {
        /// What is wrong with it.
        defect: CertificateDefect,
    },
    /// A CA key handed to [`CertificateAuthority::from_pem`] is not a PKCS#8 key rcgen can use.
    #[error("unusable CA private key")]
    UnusableCaKey {
        /// rcgen's reason.
        source: rcgen::Error,
    },
    /// A CA certificate stored in the data directory cannot be used.
    #[error("stored CA certificate {path} is unusable: {defect}")]
    InvalidStoredCertificate {
        /// The certificate file.
        path: PathBuf,
        /// What is wrong with it.
        defect: CertificateDefect,
    },
    /// A CA key stored in the data directory cannot be used.
    #[error("stored CA private key {path} is unusable")]
    InvalidStoredKey {
        /// The key file.
        path: PathBuf,
        /// rcgen's reason.
        source: rcgen::Error,
    },
    /// rcgen failed to build or sign a certificate or to generate a key.
    #[error("certificate generation failed")]
    Rcgen(#[from] rcgen::Error),
    /// The key-encryption key is unusable, or a sealed key cannot be opened.
    #[error(transparent)]
    Custody(#[from] crate::custody::CustodyError),
    /// Reading or writing a PKI file or directory failed.
    #[error("cannot read or write {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
}
