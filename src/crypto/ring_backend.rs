//! The ring backend: software keys held in memory, parsed once at load.

use super::{
    CryptoError, DigestAlgorithm, EcdsaCurve, PublicKey, RsaPadding, SignatureAlgorithm,
    SigningKey, VerificationAlgorithm,
};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use std::fmt;

/// A software private key held by ring.
pub struct RingSigningKey {
    inner: Inner,
    algorithm: SignatureAlgorithm,
    rng: SystemRandom,
}

enum Inner {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

impl fmt::Debug for RingSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("RingSigningKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl RingSigningKey {
    /// Loads a PKCS#8 private key (RSA or ECDSA P-256/P-384). RSA keys sign
    /// with `rsa_padding`; ECDSA keys with the digest that matches their curve.
    pub fn from_pkcs8(der: &[u8], rsa_padding: RsaPadding) -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        if let Ok(key) =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng)
        {
            return Ok(Self::ecdsa(key, SignatureAlgorithm::EcdsaP256Sha256, rng));
        }
        if let Ok(key) =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_ASN1_SIGNING, der, &rng)
        {
            return Ok(Self::ecdsa(key, SignatureAlgorithm::EcdsaP384Sha384, rng));
        }
        match RsaKeyPair::from_pkcs8(der) {
            Ok(key) => Self::rsa(key, rsa_padding, rng),
            Err(rejected) => Err(CryptoError::UnsupportedKey {
                reason: rejected.to_string(),
            }),
        }
    }

    /// Loads a PKCS#1 `RSAPrivateKey` (PEM label "RSA PRIVATE KEY").
    pub fn from_rsa_pkcs1(der: &[u8], rsa_padding: RsaPadding) -> Result<Self, CryptoError> {
        let key = RsaKeyPair::from_der(der).map_err(|rejected| CryptoError::UnsupportedKey {
            reason: rejected.to_string(),
        })?;
        Self::rsa(key, rsa_padding, SystemRandom::new())
    }

    fn ecdsa(key: EcdsaKeyPair, algorithm: SignatureAlgorithm, rng: SystemRandom) -> Self {
        Self {
            inner: Inner::Ecdsa(key),
            algorithm,
            rng,
        }
    }

    fn rsa(key: RsaKeyPair, padding: RsaPadding, rng: SystemRandom) -> Result<Self, CryptoError> {
        let bits = key.public().modulus_len() * 8;
        // ring refuses RSA keys under 2048 bits already; say so plainly if that changes.
        if bits < 2048 {
            return Err(CryptoError::RsaKeyTooShort { bits });
        }
        let algorithm = match padding {
            RsaPadding::Pkcs1 => SignatureAlgorithm::RsaPkcs1Sha256,
            RsaPadding::Pss => SignatureAlgorithm::RsaPssSha256,
        };
        Ok(Self {
            inner: Inner::Rsa(key),
            algorithm,
            rng,
        })
    }
}

impl SigningKey for RingSigningKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn public_key_bytes(&self) -> &[u8] {
        match &self.inner {
            Inner::Rsa(key) => key.public_key().as_ref(),
            Inner::Ecdsa(key) => key.public_key().as_ref(),
        }
    }

    fn max_signature_len(&self) -> usize {
        match &self.inner {
            Inner::Rsa(key) => key.public().modulus_len(),
            // DER ECDSA-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }, each up
            // to the field size plus a leading zero byte.
            Inner::Ecdsa(_) => match self.algorithm {
                SignatureAlgorithm::EcdsaP384Sha384 => 2 + 2 * (2 + 49),
                _ => 2 + 2 * (2 + 33),
            },
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let failed = |_| CryptoError::SigningFailed {
            algorithm: self.algorithm,
        };
        match &self.inner {
            Inner::Rsa(key) => {
                let padding: &dyn signature::RsaEncoding = match self.algorithm {
                    SignatureAlgorithm::RsaPssSha256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(padding, &self.rng, message, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
            Inner::Ecdsa(key) => Ok(key
                .sign(&self.rng, message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
        }
    }
}

/// Verifies `signature` over `message` with a public key given as the
/// contents of a certificate's `subjectPublicKey` BIT STRING. RSA keys under
/// 2048 bits are refused by ring's parameter sets.
pub fn verify_signature(
    algorithm: SignatureAlgorithm,
    public_key: &[u8],
    message: &[u8],
    signature_value: &[u8],
) -> Result<(), CryptoError> {
    let key = match algorithm {
        SignatureAlgorithm::RsaPkcs1Sha256 | SignatureAlgorithm::RsaPssSha256 => {
            PublicKey::Rsa(public_key)
        }
        SignatureAlgorithm::EcdsaP256Sha256 => PublicKey::Ecdsa {
            curve: EcdsaCurve::P256,
            point: public_key,
        },
        SignatureAlgorithm::EcdsaP384Sha384 => PublicKey::Ecdsa {
            curve: EcdsaCurve::P384,
            point: public_key,
        },
    };
    verify_signature_with(key, algorithm.into(), message, signature_value)
        .map_err(|_| CryptoError::BadSignature { algorithm })
}

/// Verifies `signature` over `message` with a typed public key and the
/// algorithm a signature claims; the pair must fit (RSA key with an RSA
/// padding, ECDSA key with ECDSA, Ed25519 with Ed25519). This is the one place
/// kyso checks a signature value. ring refuses RSA keys outside 2048–8192 bits,
/// public exponents outside 3–2³³−1, compressed ECDSA points and non-DER
/// ECDSA signatures.
pub fn verify_signature_with(
    key: PublicKey<'_>,
    algorithm: VerificationAlgorithm,
    message: &[u8],
    signature_value: &[u8],
) -> Result<(), CryptoError> {
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    use VerificationAlgorithm::{Ecdsa, Ed25519, RsaPkcs1, RsaPss};
    let (parameters, key_bytes): (&'static dyn signature::VerificationAlgorithm, &[u8]) =
        match (key, algorithm) {
            (PublicKey::Rsa(der), RsaPkcs1(Sha256)) => {
                (&signature::RSA_PKCS1_2048_8192_SHA256, der)
            }
            (PublicKey::Rsa(der), RsaPkcs1(Sha384)) => {
                (&signature::RSA_PKCS1_2048_8192_SHA384, der)
            }
            (PublicKey::Rsa(der), RsaPkcs1(Sha512)) => {
                (&signature::RSA_PKCS1_2048_8192_SHA512, der)
            }
            (PublicKey::Rsa(der), VerificationAlgorithm::RsaPssSalt(digest, salt)) => {
                return super::rsa_pss::verify(der, digest, salt, message, signature_value);
            }
            (PublicKey::Rsa(der), RsaPss(Sha256)) => (&signature::RSA_PSS_2048_8192_SHA256, der),
            (PublicKey::Rsa(der), RsaPss(Sha384)) => (&signature::RSA_PSS_2048_8192_SHA384, der),
            (PublicKey::Rsa(der), RsaPss(Sha512)) => (&signature::RSA_PSS_2048_8192_SHA512, der),
            (PublicKey::Ecdsa { curve, point }, Ecdsa(digest)) => {
                let parameters: &'static dyn signature::VerificationAlgorithm =
                    match (curve, digest) {
                        (EcdsaCurve::P256, Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
                        (EcdsaCurve::P256, Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
                        (EcdsaCurve::P384, Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
                        (EcdsaCurve::P384, Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
                        (_, Sha512) => {
                            return Err(CryptoError::UnsupportedVerification { algorithm, curve });
                        }
                    };
                (parameters, point)
            }
            (PublicKey::Ed25519(bytes), Ed25519) => (&signature::ED25519, bytes),
            (key, algorithm) => {
                return Err(CryptoError::KeyAlgorithmMismatch {
                    algorithm,
                    key: match key {
                        PublicKey::Rsa(_) => "an RSA key",
                        PublicKey::Ecdsa { .. } => "an ECDSA key",
                        PublicKey::Ed25519(_) => "an Ed25519 key",
                    },
                });
            }
        };
    signature::UnparsedPublicKey::new(parameters, key_bytes)
        .verify(message, signature_value)
        .map_err(|_| CryptoError::SignatureRejected { algorithm })
}

/// SHA-1, for one legacy use only: matching a certificate against an ESS
/// `ESSCertID` hash (RFC 2634 §5.4.1), where the certificate itself is
/// verified by other means. Never for signatures or document digests.
pub fn legacy_sha1_digest(data: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p256_key() -> RingSigningKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .expect("generate P-256");
        RingSigningKey::from_pkcs8(pkcs8.as_ref(), RsaPadding::Pkcs1).expect("load P-256")
    }

    #[test]
    fn a_p256_signature_verifies_with_its_public_key_and_not_over_other_data() {
        let key = p256_key();
        assert_eq!(key.algorithm(), SignatureAlgorithm::EcdsaP256Sha256);
        let sig = key.sign(b"signed attributes").expect("sign");
        assert!(sig.len() <= key.max_signature_len());
        verify_signature(
            key.algorithm(),
            key.public_key_bytes(),
            b"signed attributes",
            &sig,
        )
        .expect("verifies");
        assert!(
            verify_signature(
                key.algorithm(),
                key.public_key_bytes(),
                b"other bytes",
                &sig
            )
            .is_err()
        );
    }

    #[test]
    fn garbage_is_not_accepted_as_a_private_key() {
        let err = RingSigningKey::from_pkcs8(b"not a key", RsaPadding::Pkcs1).unwrap_err();
        assert!(matches!(err, CryptoError::UnsupportedKey { .. }), "{err}");
    }
}
