//! RFC 5280 rules webpki leaves to the application, checked on the signer
//! before path building and on the CA certificates of the path built.
//! Each refuses what kyso cannot vouch for; none can turn a refusal into an
//! acceptance.

use der::asn1::{ObjectIdentifier, UintRef};
use der::{Decode, Sequence};
use x509_cert::ext::pkix::NameConstraints;
use x509_cert::ext::pkix::name::GeneralName;

use super::certificate::Facts;
use super::error::{ChainError, Constraint};

/// rsaEncryption (RFC 8017 §A.1) and id-RSASSA-PSS (RFC 4055 §3.1) keys.
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// id-ecPublicKey (RFC 5480 §2.1.1) and the named curves kyso verifies.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// id-Ed25519 (RFC 8410 §3), which kyso verifies on CMS signatures.
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// RSAPublicKey (RFC 8017 §A.1.1).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// The signer, before any path is built:
/// - a positive serial number and no nameConstraints (RFC 5280 §4.1.2.2,
///   §4.2.1.10);
/// - a subject that names someone (RFC 5280 §4.1.2.6 allows an empty one
///   with a critical subjectAltName; a document signer must be identified,
///   Decree 23/2025 Art. 16);
/// - keyUsage, if present, with digitalSignature or nonRepudiation, and
///   without keyCertSign or cRLSign, which only a CA may assert
///   (RFC 5280 §4.2.1.3, §4.2.1.9) and webpki refuses CAs as signers;
/// - a key kyso can verify signatures with.
pub(super) fn check_signer(signer: &Facts) -> Result<(), ChainError> {
    if signer.subject_is_empty() {
        return Err(ChainError::Malformed {
            reason: "the signer certificate has an empty subject".to_owned(),
        });
    }
    // RFC 5280 §4.1.2.2: a positive serial number, the key of CRL entries.
    if !signer.serial_is_positive() {
        return Err(ChainError::Malformed {
            reason: "the signer certificate's serial number is not positive".to_owned(),
        });
    }
    // RFC 5280 §4.2.1.10: nameConstraints "MUST be used only in a CA
    // certificate".
    if signer.name_constraints()?.is_some() {
        return Err(ChainError::Malformed {
            reason: "the signer certificate carries nameConstraints".to_owned(),
        });
    }
    if let Some(usage) = signer.key_usage()? {
        let signs = usage.digital_signature() || usage.non_repudiation();
        if !signs || usage.key_cert_sign() || usage.crl_sign() {
            return Err(ChainError::ChainConstraints {
                reason: Constraint::KeyUsage,
            });
        }
    }
    check_key(signer, "signer public key")
}

/// The CA certificates between the signer and the anchor (`issuers[0]`
/// issued the signer):
/// - a non-empty subject (RFC 5280 §4.1.2.6: "MUST" for CAs);
/// - nameConstraints, if present, well-formed and without rfc822Name
///   subtrees (see [`check_name_constraints`]);
/// - no requireExplicitPolicy that would take effect on this path (RFC 5280
///   §6.1.4 (i), §6.1.5 (a)): kyso does not process certificate policies, so
///   it refuses rather than accept a path that needs one;
/// - keyUsage, if present, with keyCertSign (RFC 5280 §6.1.4 (n)): webpki
///   does not check it on CA certificates;
/// - keys kyso accepts.
pub(super) fn check_issuers(signer: &Facts, issuers: &[Facts]) -> Result<(), ChainError> {
    // An explicit-policy requirement of the signer itself applies at once
    // (RFC 5280 §6.1.5 (b)).
    if signer
        .policy_constraints()?
        .is_some_and(|pc| pc.require_explicit_policy == Some(0))
    {
        return Err(policy_required());
    }
    for (position, issuer) in issuers.iter().enumerate() {
        if issuer.subject_is_empty() {
            return Err(ChainError::Malformed {
                reason: "a CA certificate of the path has an empty subject".to_owned(),
            });
        }
        if issuer
            .key_usage()?
            .is_some_and(|usage| !usage.key_cert_sign())
        {
            return Err(ChainError::ChainConstraints {
                reason: Constraint::KeyUsage,
            });
        }
        if let Some(constraints) = issuer.name_constraints()? {
            check_name_constraints(constraints)?;
        }
        if let Some(skip) = issuer
            .policy_constraints()?
            .and_then(|pc| pc.require_explicit_policy)
        {
            // explicit_policy is set to `skip` here, then decremented once per
            // non-self-issued certificate below and once more at wrap-up; at
            // zero a valid policy is required.
            let below = issuers[..position]
                .iter()
                .filter(|cert| !cert.is_self_issued())
                .count();
            if u64::from(skip) <= below as u64 + 1 {
                return Err(policy_required());
            }
        }
        check_key(issuer, "CA public key")?;
    }
    Ok(())
}

/// RFC 5280 §4.2.1.10: at least one subtree list, none empty. And no
/// rfc822Name subtree: §4.2.1.10 applies those to the subject's
/// emailAddress attributes too, which webpki does not check (it compares
/// subjectAltName only) — for a document signer the subject is the
/// identity, so kyso refuses such a CA rather than let it be bypassed.
fn check_name_constraints(constraints: NameConstraints) -> Result<(), ChainError> {
    let lists = [
        constraints.permitted_subtrees,
        constraints.excluded_subtrees,
    ];
    if lists
        .iter()
        .any(|list| list.as_ref().is_some_and(Vec::is_empty))
        || lists.iter().all(Option::is_none)
    {
        return Err(ChainError::Malformed {
            reason: "empty nameConstraints in a CA certificate".to_owned(),
        });
    }
    let rfc822 = lists
        .iter()
        .flatten()
        .flatten()
        .any(|subtree| matches!(subtree.base, GeneralName::Rfc822Name(_)));
    match rfc822 {
        true => Err(ChainError::ChainConstraints {
            reason: Constraint::NameConstraints,
        }),
        false => Ok(()),
    }
}

fn policy_required() -> ChainError {
    ChainError::ChainConstraints {
        reason: Constraint::ExplicitPolicy,
    }
}

/// RSA keys of at least 2048 bits in whole bytes with an odd exponent ≥ 3,
/// ECDSA keys on P-256 or P-384, Ed25519 keys; anything else (DSA, P-192,
/// short RSA …) is refused.
pub(super) fn check_key(cert: &Facts, what: &'static str) -> Result<(), ChainError> {
    let key = cert.public_key();
    let refused = Err(ChainError::UnsupportedAlgorithm { what });
    let oid = key.algorithm.oid;
    if oid == RSA || oid == RSA_PSS {
        let Ok(rsa) = RsaPublicKey::from_der(key.subject_public_key.raw_bytes()) else {
            return refused;
        };
        let modulus = rsa.modulus.as_bytes();
        let bits = modulus.len() * 8
            - modulus
                .first()
                .map_or(8, |top| top.leading_zeros() as usize);
        // RFC 8017 §3.1: an odd public exponent of at least 3.
        let exponent = rsa.public_exponent.as_bytes();
        let exponent_ok = exponent.last().is_some_and(|low| low & 1 == 1) && exponent != [1];
        return if bits >= 2048 && bits % 8 == 0 && exponent_ok {
            Ok(())
        } else {
            refused
        };
    }
    if oid == EC_PUBLIC_KEY {
        let curve = key
            .algorithm
            .parameters
            .as_ref()
            .and_then(|any| any.decode_as::<ObjectIdentifier>().ok());
        return match curve {
            Some(curve) if curve == P256 || curve == P384 => Ok(()),
            _ => refused,
        };
    }
    if oid == ED25519 { Ok(()) } else { refused }
}
