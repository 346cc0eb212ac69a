//! Cryptographic primitives behind a small interface: digests, signing keys
//! and signature verification. ring is the default backend ([`ring_backend`]);
//! AWS-LC ([`aws_lc_backend`], cargo feature `aws-lc`) holds software keys
//! with a faster RSA. A backend is a [`CryptoBackend`] value, and a key it
//! loads is one more implementation of [`SigningKey`].

#[cfg(feature = "aws-lc")]
mod aws_lc_backend;
mod ring_backend;
mod rsa_pss;

#[cfg(feature = "aws-lc")]
pub use aws_lc_backend::AwsLcSigningKey;
pub use ring_backend::{
    RingSigningKey, legacy_sha1_digest, verify_signature, verify_signature_with,
};

use std::fmt;

/// The library that holds software private keys. Digests and signature
/// verification stay on ring whichever is chosen: only the private-key
/// operation differs in speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoBackend {
    /// ring (always built).
    Ring,
    /// AWS-LC through aws-lc-rs (cargo feature `aws-lc`).
    #[cfg(feature = "aws-lc")]
    AwsLc,
}

impl Default for CryptoBackend {
    /// AWS-LC when built in (the `aws-lc` feature, on by default): it signs
    /// RSA at OpenSSL's rate (0.96 × `openssl speed rsa2048` on an AMD EPYC
    /// with AVX-512 IFMA, where ring reaches 0.43; the two are even on CPUs
    /// without it) and passes the whole suite. ring otherwise.
    fn default() -> Self {
        #[cfg(feature = "aws-lc")]
        return Self::AwsLc;
        #[cfg(not(feature = "aws-lc"))]
        Self::Ring
    }
}

impl CryptoBackend {
    /// Every backend built into this binary, default first.
    pub const ALL: &'static [CryptoBackend] = &[
        #[cfg(feature = "aws-lc")]
        Self::AwsLc,
        Self::Ring,
    ];

    /// Loads a PKCS#8 private key (RSA or ECDSA P-256/P-384) into this backend.
    pub fn signing_key_from_pkcs8(
        self,
        der: &[u8],
        rsa_padding: RsaPadding,
    ) -> Result<Box<dyn SigningKey>, CryptoError> {
        Ok(match self {
            Self::Ring => Box::new(RingSigningKey::from_pkcs8(der, rsa_padding)?),
            #[cfg(feature = "aws-lc")]
            Self::AwsLc => Box::new(AwsLcSigningKey::from_pkcs8(der, rsa_padding)?),
        })
    }

    /// Loads a PKCS#1 `RSAPrivateKey` into this backend.
    pub fn signing_key_from_rsa_pkcs1(
        self,
        der: &[u8],
        rsa_padding: RsaPadding,
    ) -> Result<Box<dyn SigningKey>, CryptoError> {
        Ok(match self {
            Self::Ring => Box::new(RingSigningKey::from_rsa_pkcs1(der, rsa_padding)?),
            #[cfg(feature = "aws-lc")]
            Self::AwsLc => Box::new(AwsLcSigningKey::from_rsa_pkcs1(der, rsa_padding)?),
        })
    }
}

impl fmt::Display for CryptoBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ring => "ring",
            #[cfg(feature = "aws-lc")]
            Self::AwsLc => "aws-lc",
        })
    }
}

/// A digest algorithm kyso uses for PDF byte ranges and signed attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// SHA-384 (FIPS 180-4).
    Sha384,
    /// SHA-512 (FIPS 180-4); Ed25519 in CMS digests with it (RFC 8419 §3).
    Sha512,
}

impl DigestAlgorithm {
    /// Length of the digest in bytes.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha384 => 48,
            DigestAlgorithm::Sha512 => 64,
        }
    }

    /// Hashes the concatenation of `parts` without copying them together
    /// (a PDF's two byte ranges are hashed in place).
    pub fn digest_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        let mut context = ring::digest::Context::new(self.ring_algorithm());
        for part in parts {
            context.update(part);
        }
        context.finish().as_ref().to_vec()
    }

    /// Hashes one byte string.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_parts(&[data])
    }

    /// Hashes one byte string and writes the digest in lower-case hex
    /// (certificate fingerprints, signature-value ids).
    pub fn hex_digest(self, data: &[u8]) -> String {
        self.digest(data)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    fn ring_algorithm(self) -> &'static ring::digest::Algorithm {
        match self {
            DigestAlgorithm::Sha256 => &ring::digest::SHA256,
            DigestAlgorithm::Sha384 => &ring::digest::SHA384,
            DigestAlgorithm::Sha512 => &ring::digest::SHA512,
        }
    }
}

impl DigestAlgorithm {
    /// The algorithm's name, as displayed (`SHA-256`).
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A signature algorithm: key type, padding and digest together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2).
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 8017 §8.1, RFC 4056).
    RsaPssSha256,
    /// ECDSA on P-256 with SHA-256, DER-encoded signature (RFC 5753, X9.62).
    EcdsaP256Sha256,
    /// ECDSA on P-384 with SHA-384, DER-encoded signature.
    EcdsaP384Sha384,
}

impl SignatureAlgorithm {
    /// The digest this algorithm signs with; kyso uses it for the document
    /// digest too, as PAdES recommends.
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            SignatureAlgorithm::EcdsaP384Sha384 => DigestAlgorithm::Sha384,
            _ => DigestAlgorithm::Sha256,
        }
    }

    /// True for the RSA algorithms.
    pub fn is_rsa(self) -> bool {
        matches!(
            self,
            SignatureAlgorithm::RsaPkcs1Sha256 | SignatureAlgorithm::RsaPssSha256
        )
    }
}

impl SignatureAlgorithm {
    /// The algorithm's name, as displayed (`ECDSA P-256 with SHA-256`).
    pub fn name(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256 => "RSA PKCS#1 v1.5 with SHA-256",
            SignatureAlgorithm::RsaPssSha256 => "RSA-PSS with SHA-256",
            SignatureAlgorithm::EcdsaP256Sha256 => "ECDSA P-256 with SHA-256",
            SignatureAlgorithm::EcdsaP384Sha384 => "ECDSA P-384 with SHA-384",
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A signature algorithm as a verifier meets it: padding (or scheme) and
/// digest, without the key. Wider than [`SignatureAlgorithm`], which names
/// only what kyso's own keys sign with; the curve of an ECDSA signature comes
/// from the key ([`PublicKey::Ecdsa`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerificationAlgorithm {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) with this digest.
    RsaPkcs1(DigestAlgorithm),
    /// RSASSA-PSS (RFC 8017 §8.1) with this digest, MGF1 with the same digest
    /// and a salt as long as the digest (RFC 4056 §3, RFC 4055 §3.1).
    RsaPss(DigestAlgorithm),
    /// RSASSA-PSS with this digest, MGF1 with the same digest and a salt of
    /// this many bytes other than the digest's length (pyHanko's default is
    /// the longest salt the key allows). ring verifies only salt = hash
    /// length, so these go to the RustCrypto `rsa` verifier ([`rsa_pss`]).
    RsaPssSalt(DigestAlgorithm, u16),
    /// ECDSA (X9.62) with this digest, DER `ECDSA-Sig-Value` (RFC 5753 §2.1.1).
    Ecdsa(DigestAlgorithm),
    /// Ed25519, pure (RFC 8032 §5.1, RFC 8419).
    Ed25519,
}

impl From<SignatureAlgorithm> for VerificationAlgorithm {
    fn from(algorithm: SignatureAlgorithm) -> Self {
        match algorithm {
            SignatureAlgorithm::RsaPkcs1Sha256 => Self::RsaPkcs1(DigestAlgorithm::Sha256),
            SignatureAlgorithm::RsaPssSha256 => Self::RsaPss(DigestAlgorithm::Sha256),
            SignatureAlgorithm::EcdsaP256Sha256 => Self::Ecdsa(DigestAlgorithm::Sha256),
            SignatureAlgorithm::EcdsaP384Sha384 => Self::Ecdsa(DigestAlgorithm::Sha384),
        }
    }
}

impl fmt::Display for VerificationAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RsaPkcs1(digest) => write!(f, "RSA PKCS#1 v1.5 with {digest}"),
            Self::RsaPss(digest) => write!(f, "RSA-PSS with {digest}"),
            Self::RsaPssSalt(digest, salt) => {
                write!(f, "RSA-PSS with {digest} and a {salt}-byte salt")
            }
            Self::Ecdsa(digest) => write!(f, "ECDSA with {digest}"),
            Self::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

/// The elliptic curves kyso verifies ECDSA signatures on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcdsaCurve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
}

impl fmt::Display for EcdsaCurve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
        })
    }
}

/// A public key taken out of a certificate's SubjectPublicKeyInfo, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKey<'a> {
    /// An RSA key: the `RSAPublicKey` DER (RFC 8017 §A.1.1).
    Rsa(&'a [u8]),
    /// An ECDSA key: the curve and the uncompressed point (SEC 1 §2.3.3).
    Ecdsa {
        /// The key's curve, from the SPKI parameters.
        curve: EcdsaCurve,
        /// The point, `04 || X || Y`.
        point: &'a [u8],
    },
    /// An Ed25519 key: 32 bytes (RFC 8410 §4).
    Ed25519(&'a [u8]),
}

/// Which RSA padding a loaded RSA key signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RsaPadding {
    /// PKCS#1 v1.5 (the default: what most validators and tokens expect).
    #[default]
    Pkcs1,
    /// PSS.
    Pss,
}

/// What can go wrong in the crypto layer.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The private key is not a PKCS#8 or PKCS#1 key of a supported type.
    #[error(
        "the private key is not a supported key (RSA 2048–8192 bits, ECDSA P-256 or P-384): {reason}"
    )]
    UnsupportedKey {
        /// What ring said about the key.
        reason: String,
    },
    /// The RSA key is shorter than kyso accepts.
    #[error("RSA keys must have at least 2048 bits; this one has {bits}")]
    RsaKeyTooShort {
        /// Modulus length of the key.
        bits: usize,
    },
    /// The key refused to sign (should not happen with software keys).
    #[error("the {algorithm} key failed to sign")]
    SigningFailed {
        /// The algorithm that failed.
        algorithm: SignatureAlgorithm,
    },
    /// A signature did not verify.
    #[error("the {algorithm} signature does not verify with the given public key")]
    BadSignature {
        /// The algorithm that was checked.
        algorithm: SignatureAlgorithm,
    },
    /// The signature algorithm does not fit the key (an ECDSA signature and
    /// an RSA key, say).
    #[error("an {algorithm} signature cannot be checked with {key}")]
    KeyAlgorithmMismatch {
        /// The algorithm the signature claims.
        algorithm: VerificationAlgorithm,
        /// The kind of key given ("an RSA key", …).
        key: &'static str,
    },
    /// The backend has no implementation of this key and algorithm pair
    /// (ring verifies ECDSA with SHA-256 and SHA-384 only).
    #[error("verifying {algorithm} on {curve} is not supported")]
    UnsupportedVerification {
        /// The algorithm asked for.
        algorithm: VerificationAlgorithm,
        /// The key's curve.
        curve: EcdsaCurve,
    },
    /// A signature did not verify (or the key was refused by the backend).
    #[error("the {algorithm} signature does not verify with the given public key")]
    SignatureRejected {
        /// The algorithm that was checked.
        algorithm: VerificationAlgorithm,
    },
}

/// A private key that signs messages: software (ring) today; PKCS#11 and
/// remote keys implement the same trait.
pub trait SigningKey: Send + Sync + fmt::Debug {
    /// The algorithm this key signs with.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// The public key as it stands in a certificate's `subjectPublicKey` BIT
    /// STRING (RSAPublicKey DER for RSA, the uncompressed point for ECDSA), to
    /// match the key against its certificate.
    fn public_key_bytes(&self) -> &[u8];
    /// The longest signature this key can produce, in bytes (sizes the PDF placeholder).
    fn max_signature_len(&self) -> usize;
    /// Signs `message` (hashing it with [`SignatureAlgorithm::digest`]).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError>;
}
