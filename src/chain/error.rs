//! Why a certificate path was refused, as facts, and the ETSI EN 319 102-1
//! sub-indication each fact becomes in a validation report.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pki_types::UnixTime;

use crate::datetime::rfc3339;

/// Why the signer certificate has no valid path to a configured trust anchor.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// A certificate of the path had expired at the validation time
    /// (RFC 5280 §4.1.2.5, §6.1.3 (a)(2)).
    #[error("a certificate of the path expired at {}, validation time {}", rfc3339(*.not_after), rfc3339(*.at))]
    Expired {
        /// The expired certificate's notAfter.
        not_after: SystemTime,
        /// The validation time.
        at: SystemTime,
    },
    /// A certificate of the path was not yet valid at the validation time
    /// (RFC 5280 §4.1.2.5).
    #[error("a certificate of the path is valid only from {}, validation time {}", rfc3339(*.not_before), rfc3339(*.at))]
    NotYetValid {
        /// The certificate's notBefore.
        not_before: SystemTime,
        /// The validation time.
        at: SystemTime,
    },
    /// No path from the signer to a configured trust anchor could be built
    /// (RFC 5280 §6.1: no issuer found among the intermediates and anchors).
    #[error("no certificate path to a configured trust anchor")]
    UnknownIssuer,
    /// A path exists but a certificate in it may not play its role there.
    #[error("certificate path constraint violated: {reason}")]
    ChainConstraints {
        /// The constraint that failed.
        reason: Constraint,
    },
    /// A signature in the path, or a key, uses an algorithm kyso does not
    /// accept (SHA-1, DSA, short RSA keys, curves other than P-256/P-384).
    #[error("unsupported or forbidden algorithm in the {what}")]
    UnsupportedAlgorithm {
        /// Where the algorithm was met.
        what: &'static str,
    },
    /// A certificate's signature does not verify with its issuer's key.
    #[error("a certificate signature does not verify with its issuer's key")]
    BadSignature,
    /// The signer certificate is listed in its issuer's CRL (RFC 5280 §5.3).
    #[error("signer certificate {subject} revoked at {}{}", rfc3339(*.at), reason_suffix(.reason))]
    Revoked {
        /// The revoked certificate's subject (RFC 4514).
        subject: String,
        /// revocationDate of the CRL entry.
        at: SystemTime,
        /// cRLReason of the CRL entry (RFC 5280 §5.3.1), when given.
        reason: Option<String>,
    },
    /// A CA certificate of the path is listed in its issuer's CRL.
    #[error("CA certificate {subject} revoked at {}{}", rfc3339(*.at), reason_suffix(.reason))]
    CaRevoked {
        /// The revoked CA certificate's subject (RFC 4514).
        subject: String,
        /// revocationDate of the CRL entry.
        at: SystemTime,
        /// cRLReason of the CRL entry (RFC 5280 §5.3.1), when given.
        reason: Option<String>,
    },
    /// The hard-fail policy is in force and no usable, current CRL covers
    /// every certificate of the path.
    #[error("revocation status unknown for a certificate of the path (hard-fail policy)")]
    RevocationUnknown,
    /// A certificate or the validation input is not well-formed.
    #[error("malformed certificate path input: {reason}")]
    Malformed {
        /// What could not be read.
        reason: String,
    },
    /// Path building stopped at its work limit: a hostile or absurd input.
    #[error("path building exceeded its limit of {what}")]
    BudgetExceeded {
        /// Which limit.
        what: &'static str,
    },
    /// A trust anchor could not be loaded.
    #[error("trust anchor {source_name} is unusable: {reason}")]
    Anchor {
        /// The file or position the anchor came from.
        source_name: String,
        /// Why it cannot be used.
        reason: String,
    },
}

/// The certificate constraint a path violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// A CA certificate was offered as the signer (RFC 5280 §4.2.1.9).
    CaAsSigner,
    /// An end-entity certificate was used as an issuer (RFC 5280 §4.2.1.9).
    EndEntityAsIssuer,
    /// pathLenConstraint exceeded (RFC 5280 §4.2.1.9, §6.1.4 (m)).
    PathLength,
    /// A name falls outside a CA's name constraints (RFC 5280 §4.2.1.10).
    NameConstraints,
    /// The signer's keyUsage allows neither digitalSignature nor
    /// nonRepudiation, or asserts a CA usage (RFC 5280 §4.2.1.3).
    KeyUsage,
    /// An extendedKeyUsage in the path excludes the purpose (RFC 5280 §4.2.1.12).
    ExtendedKeyUsage,
    /// An issuer's keyUsage does not allow signing CRLs (RFC 5280 §4.2.1.3).
    CrlSigner,
    /// The path requires an explicit certificate policy (RFC 5280 §4.2.1.11,
    /// §6.1.5), and kyso does not process policies.
    ExplicitPolicy,
    /// A critical extension kyso does not understand (RFC 5280 §4.2).
    UnknownCriticalExtension,
    /// The certificate's key is explicitly distrusted.
    Distrusted,
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Constraint::CaAsSigner => "a CA certificate is used as the signer",
            Constraint::EndEntityAsIssuer => "an end-entity certificate is used as an issuer",
            Constraint::PathLength => "path length constraint exceeded",
            Constraint::NameConstraints => "name constraints violated",
            Constraint::KeyUsage => "the signer's key usage does not fit signing documents",
            Constraint::ExtendedKeyUsage => "extended key usage excludes the purpose",
            Constraint::CrlSigner => "the CRL issuer may not sign CRLs",
            Constraint::ExplicitPolicy => "the path requires an explicit certificate policy",
            Constraint::UnknownCriticalExtension => "unknown critical extension",
            Constraint::Distrusted => "distrusted key",
        })
    }
}

impl ChainError {
    /// The ETSI EN 319 102-1 (§5.1.3, Table 5) sub-indication for this
    /// failure of the X.509 certificate validation building block. Validation
    /// with proof of existence may later turn an `*_NO_POE` into a final
    /// verdict (e.g. `REVOKED_NO_POE` into `REVOKED`).
    pub fn sub_indication(&self) -> &'static str {
        match self {
            ChainError::Expired { .. } => "OUT_OF_BOUNDS_NO_POE",
            ChainError::NotYetValid { .. } => "NOT_YET_VALID",
            ChainError::UnknownIssuer | ChainError::Anchor { .. } => "NO_CERTIFICATE_CHAIN_FOUND",
            ChainError::ChainConstraints { .. } => "CHAIN_CONSTRAINTS_FAILURE",
            ChainError::UnsupportedAlgorithm { .. } => "CRYPTO_CONSTRAINTS_FAILURE",
            ChainError::Revoked { .. } => "REVOKED_NO_POE",
            ChainError::CaRevoked { .. } => "REVOKED_CA_NO_POE",
            ChainError::RevocationUnknown => "TRY_LATER",
            ChainError::BadSignature
            | ChainError::Malformed { .. }
            | ChainError::BudgetExceeded { .. } => "CERTIFICATE_CHAIN_GENERAL_FAILURE",
        }
    }

    /// Maps a webpki error met while building or checking the path.
    pub(super) fn from_webpki(error: webpki::Error) -> Self {
        use webpki::Error as E;
        let constraint = |reason| ChainError::ChainConstraints { reason };
        #[allow(deprecated)] // webpki still returns the context-less variants in places
        match error {
            E::CertExpired { time, not_after } => ChainError::Expired {
                not_after: system_time(not_after),
                at: system_time(time),
            },
            E::CertNotValidYet { time, not_before } => ChainError::NotYetValid {
                not_before: system_time(not_before),
                at: system_time(time),
            },
            E::UnknownIssuer => ChainError::UnknownIssuer,
            E::CaUsedAsEndEntity => constraint(Constraint::CaAsSigner),
            E::EndEntityUsedAsCa => constraint(Constraint::EndEntityAsIssuer),
            E::PathLenConstraintViolated => constraint(Constraint::PathLength),
            E::NameConstraintViolation => constraint(Constraint::NameConstraints),
            E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
                constraint(Constraint::ExtendedKeyUsage)
            }
            E::IssuerNotCrlSigner => constraint(Constraint::CrlSigner),
            E::UnsupportedCriticalExtension => constraint(Constraint::UnknownCriticalExtension),
            E::CertDistrusted => constraint(Constraint::Distrusted),
            E::UnsupportedSignatureAlgorithm
            | E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKey
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                ChainError::UnsupportedAlgorithm {
                    what: "certificate signature",
                }
            }
            E::UnsupportedCrlSignatureAlgorithm
            | E::UnsupportedCrlSignatureAlgorithmContext(_)
            | E::UnsupportedCrlSignatureAlgorithmForPublicKey
            | E::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_) => {
                ChainError::UnsupportedAlgorithm {
                    what: "CRL signature",
                }
            }
            E::InvalidSignatureForPublicKey | E::InvalidCrlSignatureForPublicKey => {
                ChainError::BadSignature
            }
            E::UnknownRevocationStatus => ChainError::RevocationUnknown,
            E::MaximumSignatureChecksExceeded => ChainError::BudgetExceeded {
                what: "signature checks",
            },
            E::MaximumPathBuildCallsExceeded => ChainError::BudgetExceeded {
                what: "path building calls",
            },
            E::MaximumNameConstraintComparisonsExceeded => ChainError::BudgetExceeded {
                what: "name constraint comparisons",
            },
            E::MaximumPathDepthExceeded => ChainError::BudgetExceeded {
                what: "intermediate certificates in a path",
            },
            // Everything else is an encoding webpki refuses to read (RFC 5280
            // §4.1 structure, DER, versions, malformed extensions or names).
            other => ChainError::Malformed {
                reason: format!("{other:?}"),
            },
        }
    }
}

fn reason_suffix(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map(|reason| format!(" ({reason})"))
        .unwrap_or_default()
}

/// An instant as webpki counts it: whole seconds since 1970 (RFC 5280
/// §4.1.2.5 times have a one-second resolution, so truncation is exact for
/// certificate times and rounds the validation time down).
pub(super) fn unix_time(at: SystemTime) -> Result<UnixTime, ChainError> {
    at.duration_since(UNIX_EPOCH)
        .map(UnixTime::since_unix_epoch)
        .map_err(|_| ChainError::Malformed {
            reason: "validation time before 1970".to_owned(),
        })
}

/// The `SystemTime` of a webpki instant.
pub(super) fn system_time(time: UnixTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(time.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_certificate_is_out_of_bounds_without_proof_of_existence() {
        let error = ChainError::from_webpki(webpki::Error::CertExpired {
            time: UnixTime::since_unix_epoch(Duration::from_secs(2_000)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(1_000)),
        });
        assert!(matches!(error, ChainError::Expired { .. }));
        assert_eq!(error.sub_indication(), "OUT_OF_BOUNDS_NO_POE");
    }

    #[test]
    fn a_missing_path_is_no_certificate_chain_found() {
        let error = ChainError::from_webpki(webpki::Error::UnknownIssuer);
        assert_eq!(error.sub_indication(), "NO_CERTIFICATE_CHAIN_FOUND");
    }

    #[test]
    fn a_wrong_extended_key_usage_is_a_chain_constraints_failure() {
        let error = ChainError::from_webpki(webpki::Error::EmptyEkuExtension);
        assert_eq!(error.sub_indication(), "CHAIN_CONSTRAINTS_FAILURE");
    }

    #[test]
    fn a_revoked_ca_differs_from_a_revoked_signer() {
        let revoked = |ca: bool| {
            let (subject, at, reason) = ("CN=x".to_owned(), UNIX_EPOCH, None);
            match ca {
                true => ChainError::CaRevoked {
                    subject,
                    at,
                    reason,
                },
                false => ChainError::Revoked {
                    subject,
                    at,
                    reason,
                },
            }
        };
        assert_eq!(revoked(false).sub_indication(), "REVOKED_NO_POE");
        assert_eq!(revoked(true).sub_indication(), "REVOKED_CA_NO_POE");
    }

    #[test]
    fn a_validation_time_before_1970_is_refused() {
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert!(matches!(
            unix_time(before),
            Err(ChainError::Malformed { .. })
        ));
    }
}
