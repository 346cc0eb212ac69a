//! Checking a signature value against the SubjectPublicKeyInfo of a
//! certificate: the key's type decides which algorithms may use it.

use super::CmsProblem;
use super::algorithm::{ID_ED25519, ID_RSASSA_PSS, PssParameters, RSA_ENCRYPTION};
use crate::crypto::{self, CryptoError, EcdsaCurve, PublicKey, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use der::asn1::UintRef;
use der::{Any, Decode, Sequence, Tag};
use spki::SubjectPublicKeyInfoRef;

/// id-ecPublicKey and the named curves (RFC 5480 §2.1.1, §2.1.1.1).
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// Shortest RSA modulus accepted, in bits (ETSI TS 119 312 and ring's floor).
const RSA_MIN_BITS: usize = 2048;
/// Longest RSA modulus accepted, in bits (ring's ceiling).
const RSA_MAX_BITS: usize = 8192;

/// RSAPublicKey (RFC 8017 §A.1.1).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    // Decoded so the structure is checked whole; ring checks the value
    // (odd, 3 ≤ e < 2³³).
    #[allow(dead_code)]
    public_exponent: UintRef<'a>,
}

/// Verifies `signature` over `message` with the key in `spki_der` (a
/// certificate's SubjectPublicKeyInfo, DER) under `algorithm`.
///
/// This is the function CMS verification checks every signature value with;
/// `tests/wycheproof.rs` runs the Wycheproof vectors against it. The key type
/// must fit the algorithm: `rsaEncryption` keys sign PKCS#1 v1.5 or PSS,
/// `id-RSASSA-PSS` keys only PSS within their parameters (RFC 4055 §1.2,
/// §3.3), `id-ecPublicKey` keys on P-256 or P-384 only ECDSA, Ed25519 keys only
/// Ed25519. RSA moduli must have 2048 to 8192 bits.
pub fn verify_signature_value(
    spki_der: &[u8],
    algorithm: VerificationAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CmsProblem> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|error| CmsProblem::MalformedPublicKey { error })?;
    // The key is a whole number of bytes in every supported key type.
    let key_bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or(CmsProblem::MalformedPublicKey {
            error: Tag::BitString.value_error(),
        })?;
    let parameters = spki.algorithm.parameters;
    let key = match spki.algorithm.oid {
        // RFC 3279 §2.3.1: the parameters are NULL.
        RSA_ENCRYPTION => {
            if !parameters.is_some_and(|p| p.is_null()) {
                return Err(CmsProblem::UnsupportedParameters {
                    oid: RSA_ENCRYPTION,
                });
            }
            rsa_key(key_bytes)?
        }
        ID_RSASSA_PSS => {
            if let Some(parameters) = parameters {
                pss_key_allows(&Any::from(parameters), algorithm)?;
            }
            if !matches!(
                algorithm,
                VerificationAlgorithm::RsaPss(_) | VerificationAlgorithm::RsaPssSalt(..)
            ) {
                return Err(CmsProblem::KeyAlgorithmMismatch {
                    algorithm,
                    key: "an RSASSA-PSS key",
                });
            }
            rsa_key(key_bytes)?
        }
        // RFC 5480 §2.1.1: namedCurve is the only form allowed.
        ID_EC_PUBLIC_KEY => {
            let curve = parameters
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or(CmsProblem::UnsupportedParameters {
                    oid: ID_EC_PUBLIC_KEY,
                })?;
            let curve = match curve {
                SECP256R1 => EcdsaCurve::P256,
                SECP384R1 => EcdsaCurve::P384,
                oid => return Err(CmsProblem::UnsupportedCurve { oid }),
            };
            PublicKey::Ecdsa {
                curve,
                point: key_bytes,
            }
        }
        // RFC 8410 §3: parameters absent.
        ID_ED25519 => {
            if parameters.is_some() {
                return Err(CmsProblem::UnsupportedParameters { oid: ID_ED25519 });
            }
            PublicKey::Ed25519(key_bytes)
        }
        oid => return Err(CmsProblem::UnsupportedPublicKey { oid }),
    };
    crypto::verify_signature_with(key, algorithm, message, signature).map_err(|error| match error {
        CryptoError::KeyAlgorithmMismatch { algorithm, key } => {
            CmsProblem::KeyAlgorithmMismatch { algorithm, key }
        }
        CryptoError::UnsupportedVerification { algorithm, curve } => {
            CmsProblem::UnsupportedVerification { algorithm, curve }
        }
        _ => CmsProblem::SignatureInvalid { algorithm },
    })
}

/// An RSA key of an accepted size. The size is counted here, exactly, so the
/// report can say how short a refused key is.
fn rsa_key(key_bytes: &[u8]) -> Result<PublicKey<'_>, CmsProblem> {
    let key = RsaPublicKey::from_der(key_bytes)
        .map_err(|error| CmsProblem::MalformedPublicKey { error })?;
    let modulus = key.modulus.as_bytes();
    let bits = match modulus.first() {
        Some(&first) => modulus
            .len()
            .saturating_mul(8)
            .saturating_sub(first.leading_zeros() as usize),
        None => 0,
    };
    if bits < RSA_MIN_BITS {
        return Err(CmsProblem::RsaKeyTooShort { bits });
    }
    if bits > RSA_MAX_BITS {
        return Err(CmsProblem::RsaKeyTooLong { bits });
    }
    Ok(PublicKey::Rsa(key_bytes))
}

/// An `id-RSASSA-PSS` key with parameters restricts its signatures to the
/// same hash and mask hash and a salt at least as long (RFC 4055 §3.3).
fn pss_key_allows(parameters: &Any, algorithm: VerificationAlgorithm) -> Result<(), CmsProblem> {
    let restriction = PssParameters::read(parameters)?;
    let allowed = match algorithm {
        VerificationAlgorithm::RsaPss(digest) => {
            restriction.digest == digest
                && restriction.mask_digest == digest
                && usize::try_from(restriction.salt_length)
                    .is_ok_and(|salt| salt <= digest.output_len())
        }
        VerificationAlgorithm::RsaPssSalt(digest, salt) => {
            restriction.digest == digest
                && restriction.mask_digest == digest
                && restriction.salt_length <= u32::from(salt)
        }
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(CmsProblem::KeyAlgorithmMismatch {
            algorithm,
            key: "an RSASSA-PSS key with other parameters",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DigestAlgorithm;
    use rsa::pkcs8::EncodePublicKey;

    fn rsa_spki(bits: usize) -> Vec<u8> {
        let key =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).expect("generate RSA key");
        key.to_public_key()
            .to_public_key_der()
            .expect("spki")
            .as_bytes()
            .to_vec()
    }

    /// SubjectPublicKeyInfo for id-ecPublicKey on `curve` (DER OID bytes)
    /// with a dummy uncompressed point of `point_len` bytes.
    fn ec_spki(curve: &[u8], point_len: usize) -> Vec<u8> {
        let mut algorithm = vec![0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
        algorithm.extend(curve);
        let mut point = vec![0x00, 0x04];
        point.extend(std::iter::repeat_n(0x11, point_len - 1));
        let mut body = vec![0x30, algorithm.len() as u8];
        body.extend(algorithm);
        body.push(0x03);
        body.push(point.len() as u8);
        body.extend(point);
        let mut spki = vec![0x30, body.len() as u8];
        spki.extend(body);
        spki
    }

    const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];

    #[test]
    fn an_rsa_key_under_2048_bits_is_reported_with_its_size() {
        let spki = rsa_spki(1024);
        assert_eq!(
            verify_signature_value(
                &spki,
                VerificationAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
                b"message",
                &[0; 128]
            ),
            Err(CmsProblem::RsaKeyTooShort { bits: 1024 })
        );
    }

    #[test]
    fn an_ecdsa_or_ed25519_algorithm_with_an_rsa_key_is_a_mismatch() {
        let spki = rsa_spki(2048);
        for algorithm in [
            VerificationAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
            VerificationAlgorithm::Ed25519,
        ] {
            assert!(matches!(
                verify_signature_value(&spki, algorithm, b"message", &[0; 256]),
                Err(CmsProblem::KeyAlgorithmMismatch {
                    key: "an RSA key",
                    ..
                })
            ));
        }
    }

    #[test]
    fn an_rsa_algorithm_with_an_ecdsa_key_is_a_mismatch() {
        let spki = ec_spki(P256, 65);
        assert!(matches!(
            verify_signature_value(
                &spki,
                VerificationAlgorithm::RsaPss(DigestAlgorithm::Sha256),
                b"message",
                &[0; 64]
            ),
            Err(CmsProblem::KeyAlgorithmMismatch {
                key: "an ECDSA key",
                ..
            })
        ));
    }

    #[test]
    fn ecdsa_with_sha512_and_curves_other_than_p256_and_p384_are_unsupported() {
        assert!(matches!(
            verify_signature_value(
                &ec_spki(P256, 65),
                VerificationAlgorithm::Ecdsa(DigestAlgorithm::Sha512),
                b"message",
                &[0; 64]
            ),
            Err(CmsProblem::UnsupportedVerification { .. })
        ));
        assert!(matches!(
            verify_signature_value(
                &ec_spki(SECP256K1, 65),
                VerificationAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
                b"message",
                &[0; 64]
            ),
            Err(CmsProblem::UnsupportedCurve { .. })
        ));
    }

    #[test]
    fn garbage_is_a_malformed_public_key() {
        assert!(matches!(
            verify_signature_value(
                b"not a key",
                VerificationAlgorithm::Ed25519,
                b"message",
                &[0; 64]
            ),
            Err(CmsProblem::MalformedPublicKey { .. })
        ));
    }
}
