//! PKCS#10 certification requests (RFC 2986): only the public key is taken, after the request's
//! signature proves that its sender holds the private key.
//!
//! rcgen's own parser (`CertificateSigningRequestParams::from_der`, feature `x509-parser`) does
//! verify the signature, but it refuses requests carrying extensions it does not model (subject
//! key identifier, certificate policies … which token software adds) and takes the key's
//! algorithm from the signature algorithm, so a P-384 key signed with ecdsa-with-SHA256 would
//! pass for P-256. kyso reads the request with `x509-cert` and checks the signature with its
//! own verifier ([`crate::crypto::verify_signature_with`]) instead.

use x509_cert::der::asn1::{AnyRef, ObjectIdentifier};
use x509_cert::der::{Decode, Reader, SliceReader};
use x509_cert::request::CertReq;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use super::{KeyAlgorithm, RequestDefect};
use crate::crypto::{DigestAlgorithm, EcdsaCurve, PublicKey, VerificationAlgorithm};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// The public key of a request whose signature verifies: the `subjectPublicKey` BIT STRING
/// contents (RSAPublicKey DER or uncompressed point) and its algorithm.
pub(super) fn requested_key(der: &[u8]) -> Result<(Vec<u8>, KeyAlgorithm), RequestDefect> {
    let request = CertReq::from_der(der).map_err(|_| RequestDefect::NotDer)?;
    // The signature covers the certificationRequestInfo exactly as sent (RFC 2986 §4.2), so
    // its bytes are taken from the input rather than re-encoded.
    let signed = certification_request_info(der).ok_or(RequestDefect::NotDer)?;
    let (algorithm, public_key) = spki_key(&request.info.public_key)?;
    let signature_algorithm = match request.algorithm.oid {
        SHA256_WITH_RSA => VerificationAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
        SHA384_WITH_RSA => VerificationAlgorithm::RsaPkcs1(DigestAlgorithm::Sha384),
        SHA512_WITH_RSA => VerificationAlgorithm::RsaPkcs1(DigestAlgorithm::Sha512),
        ECDSA_WITH_SHA256 => VerificationAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
        ECDSA_WITH_SHA384 => VerificationAlgorithm::Ecdsa(DigestAlgorithm::Sha384),
        ECDSA_WITH_SHA512 => VerificationAlgorithm::Ecdsa(DigestAlgorithm::Sha512),
        oid => {
            return Err(RequestDefect::UnsupportedSignatureAlgorithm {
                oid: oid.to_string(),
            });
        }
    };
    let typed = match algorithm {
        KeyAlgorithm::EcdsaP256 => PublicKey::Ecdsa {
            curve: EcdsaCurve::P256,
            point: public_key,
        },
        KeyAlgorithm::EcdsaP384 => PublicKey::Ecdsa {
            curve: EcdsaCurve::P384,
            point: public_key,
        },
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
            PublicKey::Rsa(public_key)
        }
    };
    let signature = request
        .signature
        .as_bytes()
        .ok_or(RequestDefect::BadSignature)?;
    crate::crypto::verify_signature_with(typed, signature_algorithm, signed, signature)
        .map_err(|_| RequestDefect::BadSignature)?;
    Ok((public_key.to_vec(), algorithm))
}

/// The first element of the outer SEQUENCE, with its tag and length.
fn certification_request_info(der: &[u8]) -> Option<&[u8]> {
    let outer = AnyRef::from_der(der).ok()?;
    let mut reader = SliceReader::new(outer.value()).ok()?;
    reader.tlv_bytes().ok()
}

/// The key of a SubjectPublicKeyInfo (RFC 5480 §2, RFC 3279 §2.3.1), if kyso certifies it.
pub(super) fn spki_key(
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<(KeyAlgorithm, &[u8]), RequestDefect> {
    let public_key =
        spki.subject_public_key
            .as_bytes()
            .ok_or_else(|| RequestDefect::UnsupportedKey {
                found: "a key with unused bits".to_owned(),
            })?;
    let algorithm = match spki.algorithm.oid {
        EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|parameters| parameters.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(PRIME256V1) => KeyAlgorithm::EcdsaP256,
                Some(SECP384R1) => KeyAlgorithm::EcdsaP384,
                Some(other) => {
                    return Err(RequestDefect::UnsupportedKey {
                        found: format!("ECDSA on curve {other}"),
                    });
                }
                None => {
                    return Err(RequestDefect::UnsupportedKey {
                        found: "ECDSA without a named curve".to_owned(),
                    });
                }
            }
        }
        RSA_ENCRYPTION => match super::authority::rsa_modulus_bits(public_key) {
            Some(2048) => KeyAlgorithm::Rsa2048,
            Some(3072) => KeyAlgorithm::Rsa3072,
            Some(4096) => KeyAlgorithm::Rsa4096,
            Some(bits) => {
                return Err(RequestDefect::UnsupportedKey {
                    found: format!("RSA {bits}"),
                });
            }
            None => {
                return Err(RequestDefect::UnsupportedKey {
                    found: "a malformed RSA key".to_owned(),
                });
            }
        },
        other => {
            return Err(RequestDefect::UnsupportedKey {
                found: format!("algorithm {other}"),
            });
        }
    };
    Ok((algorithm, public_key))
}
