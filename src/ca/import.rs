//! Certificates an outside CA issued (the Government Cipher Committee's, a public CA's), with
//! their private keys, read from PKCS#12 or PEM and checked before kyso signs with them.
//!
//! [`check_import`] is a chain of small checks, each refusing with the fact that failed: the
//! key algorithm, the key against the certificate, the certificate's validity, its fitness for
//! signing documents and its path to a configured trust anchor ([`crate::chain`]).

use std::fmt;
use std::path::Path;
use std::time::SystemTime;

use x509_cert::Certificate;
use x509_cert::der::Decode;
use zeroize::Zeroizing;

use super::{KeyAlgorithm, RequestDefect};
use crate::chain::{self, ChainError, Constraint, Revocation, RevocationPolicy, TrustAnchors};
use crate::crypto::{CryptoError, RingSigningKey, RsaPadding, SigningKey};
use crate::datetime::rfc3339;
use crate::keyfile::{self, KeyFileError};

pub use crate::keyfile::CertificatesAndKey;

/// A certificate from an outside CA with its key, checked by [`check_import`].
pub struct ImportedIdentity {
    /// The signer's certificate, DER.
    pub certificate_der: Vec<u8>,
    /// The rest of the certificates given, DER, in the order given (issuers of the signer's).
    pub chain_der: Vec<Vec<u8>>,
    /// The private key, PKCS#8 DER, wiped on drop.
    pub private_key_pkcs8_der: Zeroizing<Vec<u8>>,
    /// The key's algorithm.
    pub key_algorithm: KeyAlgorithm,
    /// The certificate's subject (RFC 4514).
    pub subject: String,
    /// The certificate's serial number, upper-case hex, as encoded.
    pub serial_hex: String,
    /// Start of the certificate's validity.
    pub not_before: SystemTime,
    /// End of the certificate's validity.
    pub not_after: SystemTime,
}

impl fmt::Debug for ImportedIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportedIdentity")
            .field("subject", &self.subject)
            .field("serial_hex", &self.serial_hex)
            .field("key_algorithm", &self.key_algorithm)
            .field("private_key_pkcs8_der", &"[elided]")
            .finish_non_exhaustive()
    }
}

/// Why a certificate and key from an outside CA cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The PKCS#12 file's integrity check fails with this password (RFC 7292 §5).
    #[error("the PKCS#12 password is wrong")]
    WrongPassword,
    /// The PKCS#12 file cannot be read.
    #[error("cannot read the PKCS#12 file: {reason}")]
    Pkcs12 {
        /// What the PKCS#12 reader said.
        reason: String,
    },
    /// The PKCS#12 file holds no private key together with its certificate.
    #[error("the PKCS#12 file holds no private key with its certificate")]
    Pkcs12WithoutKey,
    /// A PEM text cannot be read, or lacks the block looked for.
    #[error(transparent)]
    Pem(#[from] KeyFileError),
    /// The PEM key is not an unencrypted PKCS#8 `PRIVATE KEY`.
    #[error(
        "the key is a PEM \"{label}\"; convert it to an unencrypted PKCS#8 key: \
         `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem`"
    )]
    KeyNotPkcs8 {
        /// The PEM label found.
        label: &'static str,
    },
    /// No certificate was given.
    #[error("no certificate was given")]
    NoCertificate,
    /// A certificate is not DER X.509.
    #[error("certificate #{position} (#0 is the signer's) is not a DER X.509 certificate")]
    MalformedCertificate {
        /// Its position in the list, the signer's being 0.
        position: usize,
        /// The DER decoder's reason.
        source: x509_cert::der::Error,
    },
    /// The certificate's key is not one kyso signs with.
    #[error("the certificate's key ({found}) is not ECDSA P-256/P-384 or RSA 2048/3072/4096")]
    UnsupportedKeyAlgorithm {
        /// What the key is.
        found: String,
    },
    /// The private key cannot be loaded.
    #[error("the private key is unusable: {source}")]
    UnusableKey {
        /// The crypto layer's reason.
        source: CryptoError,
    },
    /// The private key is not the one the certificate certifies.
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,
    /// The certificate has expired (RFC 5280 §4.1.2.5).
    #[error("the certificate expired at {}, import time {}", rfc3339(*.not_after), rfc3339(*.at))]
    CertificateExpired {
        /// The certificate's notAfter.
        not_after: SystemTime,
        /// The time of import.
        at: SystemTime,
    },
    /// The certificate is not valid yet (RFC 5280 §4.1.2.5).
    #[error(
        "the certificate is valid only from {}, import time {}",
        rfc3339(*.not_before), rfc3339(*.at)
    )]
    CertificateNotYetValid {
        /// The certificate's notBefore.
        not_before: SystemTime,
        /// The time of import.
        at: SystemTime,
    },
    /// The certificate may not sign documents: a CA certificate, a keyUsage without
    /// digitalSignature or nonRepudiation, or an extendedKeyUsage without a document-signing
    /// purpose ([`chain::Purpose::document_signing`]).
    #[error("the certificate may not sign documents: {reason}")]
    NotForSigning {
        /// The constraint that fails.
        reason: Constraint,
    },
    /// The certificates do not form a valid path to a configured trust anchor at the time of
    /// import.
    #[error("the certificate is not trusted: {source}")]
    Untrusted {
        /// Why the path was refused.
        source: ChainError,
    },
}

/// Reads a PKCS#12 file (RFC 7292): the certificates (the key's first, then its issuers) and
/// the PKCS#8 private key.
pub fn read_pkcs12(bytes: &[u8], password: &str) -> Result<CertificatesAndKey, ImportError> {
    keyfile::parse_pkcs12(bytes, password, Path::new("PKCS#12")).map_err(|error| match error {
        KeyFileError::Pkcs12Password { .. } => ImportError::WrongPassword,
        KeyFileError::Pkcs12WithoutKey { .. } => ImportError::Pkcs12WithoutKey,
        other => ImportError::Pkcs12 {
            reason: other.to_string(),
        },
    })
}

/// Reads PEM certificates (the key's first, then its issuers) and a PEM PKCS#8 private key
/// (`PRIVATE KEY`, RFC 7468 §10).
pub fn read_pem(
    certificates_pem: &[u8],
    key_pem: &[u8],
) -> Result<CertificatesAndKey, ImportError> {
    let certificates = keyfile::parse_certificates(certificates_pem, Path::new("certificate PEM"))?;
    let key_path = Path::new("private key PEM");
    match keyfile::parse_pem_block(key_pem, key_path, "PRIVATE KEY") {
        Ok(key) => Ok((certificates, Zeroizing::new(key))),
        Err(KeyFileError::NoBlock { .. }) => {
            for label in ["ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"] {
                if keyfile::parse_pem_block(key_pem, key_path, label).is_ok() {
                    return Err(ImportError::KeyNotPkcs8 { label });
                }
            }
            Err(KeyFileError::NoBlock {
                path: key_path.to_path_buf(),
                expected: "PRIVATE KEY",
            }
            .into())
        }
        Err(other) => Err(other.into()),
    }
}

/// Checks a certificate from an outside CA and its private key before kyso takes them over:
/// `certificates` is the signer's certificate first, then its issuers (the anchor may be left
/// out); `anchors` are those imports must chain to; `now` is the time of import.
///
/// Refuses, in this order: malformed certificates; a key other than ECDSA P-256/P-384 or RSA
/// 2048/3072/4096; a private key that is not the certificate's; a certificate outside its
/// validity; one that may not sign documents; and one without a valid path to an anchor at
/// `now`. Revocation is not checked here: no CRL is at hand at import.
pub fn check_import(
    certificates: Vec<Vec<u8>>,
    private_key_pkcs8_der: Zeroizing<Vec<u8>>,
    anchors: &TrustAnchors,
    now: SystemTime,
) -> Result<ImportedIdentity, ImportError> {
    let mut certificates = certificates.into_iter();
    let certificate_der = certificates.next().ok_or(ImportError::NoCertificate)?;
    let chain_der: Vec<Vec<u8>> = certificates.collect();
    let certificate = Certificate::from_der(&certificate_der).map_err(|source| {
        ImportError::MalformedCertificate {
            position: 0,
            source,
        }
    })?;
    for (index, der) in chain_der.iter().enumerate() {
        Certificate::from_der(der).map_err(|source| ImportError::MalformedCertificate {
            position: index + 1,
            source,
        })?;
    }
    let key_algorithm = check_key(&certificate, &private_key_pkcs8_der)?;
    let tbs = &certificate.tbs_certificate;
    let not_before = tbs.validity.not_before.to_system_time();
    let not_after = tbs.validity.not_after.to_system_time();
    check_validity(not_before, not_after, now)?;
    check_path(&certificate_der, &chain_der, anchors, now)?;
    Ok(ImportedIdentity {
        subject: tbs.subject.to_string(),
        serial_hex: tbs
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect(),
        not_before,
        not_after,
        key_algorithm,
        certificate_der,
        chain_der,
        private_key_pkcs8_der,
    })
}

/// The certificate's key is one kyso signs with, and the private key is its other half.
fn check_key(certificate: &Certificate, pkcs8: &[u8]) -> Result<KeyAlgorithm, ImportError> {
    let spki = &certificate.tbs_certificate.subject_public_key_info;
    let (algorithm, public_key) =
        super::request::spki_key(spki).map_err(|defect| match defect {
            RequestDefect::UnsupportedKey { found } => {
                ImportError::UnsupportedKeyAlgorithm { found }
            }
            other => ImportError::UnsupportedKeyAlgorithm {
                found: other.to_string(),
            },
        })?;
    let key = RingSigningKey::from_pkcs8(pkcs8, RsaPadding::Pkcs1)
        .map_err(|source| ImportError::UnusableKey { source })?;
    if key.public_key_bytes() != public_key {
        return Err(ImportError::KeyMismatch);
    }
    Ok(algorithm)
}

/// The certificate is valid at the time of import (RFC 5280 §4.1.2.5); checked here so that
/// an expired signer certificate is named as such, not as a fault somewhere in the path.
fn check_validity(
    not_before: SystemTime,
    not_after: SystemTime,
    at: SystemTime,
) -> Result<(), ImportError> {
    if at < not_before {
        return Err(ImportError::CertificateNotYetValid { not_before, at });
    }
    if at > not_after {
        return Err(ImportError::CertificateExpired { not_after, at });
    }
    Ok(())
}

/// A valid path to an anchor for document signing (RFC 5280 §6), whose signer may sign
/// documents: keyUsage, basicConstraints and extendedKeyUsage are [`chain`]'s checks.
fn check_path(
    certificate_der: &[u8],
    chain_der: &[Vec<u8>],
    anchors: &TrustAnchors,
    now: SystemTime,
) -> Result<(), ImportError> {
    let revocation = Revocation::new(Vec::new(), RevocationPolicy::SoftFail);
    match chain::validate_signer(certificate_der, chain_der, anchors, now, &revocation) {
        Ok(_) => Ok(()),
        Err(ChainError::ChainConstraints {
            reason:
                reason @ (Constraint::KeyUsage | Constraint::CaAsSigner | Constraint::ExtendedKeyUsage),
        }) => Err(ImportError::NotForSigning { reason }),
        Err(source) => Err(ImportError::Untrusted { source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::{CertificateAuthority, CertifiedKey, LeafKey, Profile};
    use crate::units::{Unit, demo_province};
    use std::time::Duration;

    /// 2025-03-01T01:02:03Z, a fixed instant.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_790_923)
    }

    fn years(n: u64) -> Duration {
        Duration::from_secs(n * 365 * 24 * 60 * 60)
    }

    fn office() -> Unit {
        demo_province().units()[0].clone()
    }

    /// An outside CA (root and issuing CA) created at `at`.
    fn outside_ca(at: SystemTime) -> (CertificateAuthority, CertificateAuthority) {
        let root =
            CertificateAuthority::new_root("Outside Root", "Outside CA", at).expect("new root");
        let issuing = root
            .issue_intermediate("Outside Issuing CA", "Outside CA", at)
            .expect("issue intermediate");
        (root, issuing)
    }

    fn leaf(issuing: &CertificateAuthority, at: SystemTime) -> CertifiedKey {
        issuing
            .issue_organisation(&office(), LeafKey::Generate(KeyAlgorithm::EcdsaP256), at)
            .expect("issue organisation")
    }

    fn anchors(root: &CertificateAuthority) -> TrustAnchors {
        TrustAnchors::from_der(vec![root.certificate_der().to_vec()]).expect("from der")
    }

    fn key(leaf: &CertifiedKey) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(leaf.private_key_pkcs8_der.clone())
    }

    /// `openssl pkcs12 -export` of the leaf, its key and the issuing CA, under `secret`.
    fn pkcs12(leaf: &CertifiedKey, issuing: &CertificateAuthority) -> Vec<u8> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("k.pem"), leaf.private_key_pem()).expect("write key");
        std::fs::write(path("c.pem"), &leaf.certificate_pem).expect("write certificate");
        std::fs::write(path("chain.pem"), issuing.certificate_pem()).expect("write chain");
        let output = std::process::Command::new("openssl")
            .args([
                "pkcs12",
                "-export",
                "-inkey",
                "k.pem",
                "-in",
                "c.pem",
                "-certfile",
                "chain.pem",
                "-passout",
                "pass:secret",
                "-out",
                "x.p12",
            ])
            .current_dir(dir.path())
            .output()
            .expect("run openssl");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read(path("x.p12")).expect("read pkcs12")
    }

    #[test]
    fn an_openssl_pkcs12_from_an_outside_ca_is_imported_with_its_anchor_configured() {
        let (root, issuing) = outside_ca(now());
        let leaf = leaf(&issuing, now());
        let (certificates, key) =
            read_pkcs12(&pkcs12(&leaf, &issuing), "secret").expect("read pkcs12");
        assert_eq!(certificates[0], leaf.certificate_der);
        assert!(certificates.contains(&issuing.certificate_der().to_vec()));
        assert_eq!(*key, leaf.private_key_pkcs8_der);

        let identity = check_import(certificates, key, &anchors(&root), now()).expect("import");
        assert_eq!(identity.certificate_der, leaf.certificate_der);
        assert_eq!(identity.chain_der, vec![issuing.certificate_der().to_vec()]);
        assert_eq!(identity.key_algorithm, KeyAlgorithm::EcdsaP256);
        assert!(
            identity.subject.contains(&office().name),
            "{}",
            identity.subject
        );
        let certificate = Certificate::from_der(&leaf.certificate_der).expect("from der");
        let serial: String = certificate
            .tbs_certificate
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(identity.serial_hex, serial);
        assert_eq!(identity.not_before, now() - Duration::from_secs(3600));
        assert!(identity.not_after > now() + years(2));
        assert!(!format!("{identity:?}").contains(&format!("{:?}", leaf.private_key_pkcs8_der)));
    }

    #[test]
    fn a_wrong_pkcs12_password_is_named_as_such() {
        let (_, issuing) = outside_ca(now());
        let leaf = leaf(&issuing, now());
        let error =
            read_pkcs12(&pkcs12(&leaf, &issuing), "not the secret").expect_err("read pkcs12 fails");
        assert!(matches!(error, ImportError::WrongPassword), "{error}");
        assert!(error.to_string().contains("password is wrong"), "{error}");
    }

    #[test]
    fn pem_certificates_and_a_pkcs8_key_are_imported_and_other_key_forms_are_named() {
        let (root, issuing) = outside_ca(now());
        let leaf = leaf(&issuing, now());
        let pem = format!("{}{}", leaf.certificate_pem, issuing.certificate_pem());
        let (certificates, key) =
            read_pem(pem.as_bytes(), leaf.private_key_pem().as_bytes()).expect("read pem");
        assert_eq!(certificates.len(), 2);
        assert!(check_import(certificates, key, &anchors(&root), now()).is_ok());

        let sec1 = crate::keyfile::encode_pem("EC PRIVATE KEY", b"not really");
        let error = read_pem(pem.as_bytes(), sec1.as_bytes()).expect_err("read pem fails");
        assert!(
            matches!(
                error,
                ImportError::KeyNotPkcs8 {
                    label: "EC PRIVATE KEY"
                }
            ),
            "{error}"
        );
        let error = read_pem(b"no certificates here", leaf.private_key_pem().as_bytes())
            .expect_err("read pem fails");
        assert!(matches!(error, ImportError::Pem(_)), "{error}");
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let (root, issuing) = outside_ca(now());
        let leaf_one = leaf(&issuing, now());
        let leaf_two = leaf(&issuing, now());
        let error = check_import(
            vec![
                leaf_one.certificate_der.clone(),
                issuing.certificate_der().to_vec(),
            ],
            key(&leaf_two),
            &anchors(&root),
            now(),
        )
        .expect_err("import fails");
        assert!(matches!(error, ImportError::KeyMismatch), "{error}");
        assert!(error.to_string().contains("does not match"), "{error}");
    }

    #[test]
    fn a_certificate_whose_anchor_is_not_configured_is_refused() {
        let (_, issuing) = outside_ca(now());
        let other_root =
            CertificateAuthority::new_root("Another Root", "Another CA", now()).expect("new root");
        let leaf = leaf(&issuing, now());
        let error = check_import(
            vec![
                leaf.certificate_der.clone(),
                issuing.certificate_der().to_vec(),
            ],
            key(&leaf),
            &anchors(&other_root),
            now(),
        )
        .expect_err("import fails");
        assert!(
            matches!(
                error,
                ImportError::Untrusted {
                    source: ChainError::UnknownIssuer
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("trust anchor"), "{error}");
    }

    #[test]
    fn an_expired_certificate_is_refused() {
        let (root, issuing) = outside_ca(now() - years(5));
        let leaf = leaf(&issuing, now() - years(4));
        let error = check_import(
            vec![
                leaf.certificate_der.clone(),
                issuing.certificate_der().to_vec(),
            ],
            key(&leaf),
            &anchors(&root),
            now(),
        )
        .expect_err("import fails");
        assert!(
            matches!(error, ImportError::CertificateExpired { at, .. } if at == now()),
            "{error}"
        );
        assert!(error.to_string().contains("expired"), "{error}");
    }

    #[test]
    fn certificates_that_may_not_sign_documents_are_refused() {
        let (root, issuing) = outside_ca(now());
        let unit = office();
        let time_stamping = issuing
            .issue(
                Profile::TimeStamping { unit: &unit },
                LeafKey::Generate(KeyAlgorithm::EcdsaP256),
                now(),
            )
            .expect("issue time stamping");
        let error = check_import(
            vec![
                time_stamping.certificate_der.clone(),
                issuing.certificate_der().to_vec(),
            ],
            key(&time_stamping),
            &anchors(&root),
            now(),
        )
        .expect_err("import fails");
        assert!(
            matches!(
                error,
                ImportError::NotForSigning {
                    reason: Constraint::ExtendedKeyUsage
                }
            ),
            "{error}"
        );

        let error = check_import(
            vec![issuing.certificate_der().to_vec()],
            Zeroizing::new(issuing.private_key_pkcs8_der().to_vec()),
            &anchors(&root),
            now(),
        )
        .expect_err("import fails");
        assert!(
            matches!(error, ImportError::NotForSigning { .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("may not sign documents"),
            "{error}"
        );
    }

    #[test]
    fn a_key_kyso_does_not_sign_with_is_refused() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("generate for");
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Ed25519 signer");
        let certificate = params.self_signed(&key).expect("self signed");
        let error = check_import(
            vec![certificate.der().to_vec()],
            Zeroizing::new(key.serialize_der()),
            &TrustAnchors::default(),
            now(),
        )
        .expect_err("import fails");
        assert!(
            matches!(&error, ImportError::UnsupportedKeyAlgorithm { found } if found.contains("1.3.101.112")),
            "{error}"
        );
    }
}
