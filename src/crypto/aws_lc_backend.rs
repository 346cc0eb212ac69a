//! The AWS-LC backend (cargo feature `aws-lc`): software keys held by
//! aws-lc-rs, whose API mirrors ring's. Its RSA private-key operation is
//! markedly faster than ring's (AVX2/AVX-512 Montgomery multiplication), which
//! is what RSA signing time is made of; ECDSA P-256 is on a par.

use super::{CryptoError, RsaPadding, SignatureAlgorithm, SigningKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use std::fmt;

/// A software private key held by AWS-LC.
pub struct AwsLcSigningKey {
    inner: Inner,
    algorithm: SignatureAlgorithm,
    rng: SystemRandom,
}

enum Inner {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

impl fmt::Debug for AwsLcSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("AwsLcSigningKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl AwsLcSigningKey {
    /// Loads a PKCS#8 private key (RSA or ECDSA P-256/P-384). RSA keys sign
    /// with `rsa_padding`; ECDSA keys with the digest that matches their curve.
    pub fn from_pkcs8(der: &[u8], rsa_padding: RsaPadding) -> Result<Self, CryptoError> {
        if let Ok(key) = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            return Ok(Self::ecdsa(key, SignatureAlgorithm::EcdsaP256Sha256));
        }
        if let Ok(key) = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_ASN1_SIGNING, der) {
            return Ok(Self::ecdsa(key, SignatureAlgorithm::EcdsaP384Sha384));
        }
        match RsaKeyPair::from_pkcs8(der) {
            Ok(key) => Self::rsa(key, rsa_padding),
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
        Self::rsa(key, rsa_padding)
    }

    fn ecdsa(key: EcdsaKeyPair, algorithm: SignatureAlgorithm) -> Self {
        Self {
            inner: Inner::Ecdsa(key),
            algorithm,
            rng: SystemRandom::new(),
        }
    }

    fn rsa(key: RsaKeyPair, padding: RsaPadding) -> Result<Self, CryptoError> {
        // AWS-LC accepts 1024-bit keys; kyso does not (same floor as ring).
        let bits = key.public_modulus_len() * 8;
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
            rng: SystemRandom::new(),
        })
    }
}

impl SigningKey for AwsLcSigningKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn public_key_bytes(&self) -> &[u8] {
        match &self.inner {
            // RSAPublicKey DER (RFC 8017 §A.1.1), as ring gives it.
            Inner::Rsa(key) => key.public_key().as_ref(),
            Inner::Ecdsa(key) => key.public_key().as_ref(),
        }
    }

    fn max_signature_len(&self) -> usize {
        match &self.inner {
            Inner::Rsa(key) => key.public_modulus_len(),
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
                let padding: &'static dyn signature::RsaEncoding = match self.algorithm {
                    SignatureAlgorithm::RsaPssSha256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0; key.public_modulus_len()];
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{RingSigningKey, verify_signature};

    fn p256_pkcs8() -> Vec<u8> {
        EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &SystemRandom::new(),
        )
        .expect("generate P-256")
        .as_ref()
        .to_vec()
    }

    fn rsa2048_pkcs8() -> Vec<u8> {
        use aws_lc_rs::encoding::AsDer;
        RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .expect("generate RSA-2048")
            .as_der()
            .expect("PKCS#8")
            .as_ref()
            .to_vec()
    }

    #[test]
    fn aws_lc_signatures_verify_with_the_ring_verifier_for_every_algorithm() {
        let cases = [
            (p256_pkcs8(), RsaPadding::Pkcs1),
            (rsa2048_pkcs8(), RsaPadding::Pkcs1),
            (rsa2048_pkcs8(), RsaPadding::Pss),
        ];
        for (pkcs8, padding) in cases {
            let key = AwsLcSigningKey::from_pkcs8(&pkcs8, padding).expect("load");
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
    }

    #[test]
    fn both_backends_see_the_same_public_key_and_algorithm() {
        for pkcs8 in [p256_pkcs8(), rsa2048_pkcs8()] {
            let aws = AwsLcSigningKey::from_pkcs8(&pkcs8, RsaPadding::Pss).expect("aws-lc");
            let ring = RingSigningKey::from_pkcs8(&pkcs8, RsaPadding::Pss).expect("ring");
            assert_eq!(aws.public_key_bytes(), ring.public_key_bytes());
            assert_eq!(aws.algorithm(), ring.algorithm());
            assert_eq!(aws.max_signature_len(), ring.max_signature_len());
        }
    }

    #[test]
    fn garbage_is_not_accepted_as_a_private_key() {
        let err = AwsLcSigningKey::from_pkcs8(b"not a key", RsaPadding::Pkcs1).unwrap_err();
        assert!(matches!(err, CryptoError::UnsupportedKey { .. }), "{err}");
    }
}
