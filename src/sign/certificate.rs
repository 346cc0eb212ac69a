//! What a signature is made for, apart from the key: the signer's
//! certificates, the signature algorithm, and the size of the placeholder.
//! A key kyso holds brings its own algorithm ([`super::Signer`]); a key held
//! elsewhere (a leader's USB token, a remote signing service) is known only
//! through its certificate ([`SignerProfile::for_external_key`]).

use super::SignError;
use crate::cms::{self, CertificateError, CertificateInfo, SignedDataTemplate, SignerCertificates};
use crate::crypto::SignatureAlgorithm;
use const_oid::AssociatedOid;
use const_oid::ObjectIdentifier;
use der::asn1::UintRef;
use der::{Decode, Encode, Sequence};
use x509_cert::Certificate;
use x509_cert::ext::pkix::KeyUsage;

/// rsaEncryption (RFC 8017 §A.1), id-ecPublicKey (RFC 5480 §2.1.1) and the
/// named curves kyso signs on.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// RSA moduli kyso signs with, in bits (ETSI TS 119 312; ring's range).
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// Margin added to the computed CMS size bound (DER length octets of outer
/// structures can grow by a byte or two when inner lengths cross a boundary).
const CONTENTS_MARGIN: usize = 32;

/// RSAPublicKey (RFC 8017 §A.1.1).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    #[allow(dead_code)]
    public_exponent: UintRef<'a>,
}

/// The signer's certificates with the facts every signature by them
/// repeats, built once: the algorithm, the placeholder size, the public key
/// a signature value made elsewhere is checked with.
#[derive(Debug)]
pub struct SignerProfile {
    template: SignedDataTemplate,
    certificate: CertificateInfo,
    /// The signer certificate's SubjectPublicKeyInfo, DER.
    public_key_info: Vec<u8>,
    /// SHA-256 of the signer certificate's DER, lower-case hex.
    fingerprint: String,
    algorithm: SignatureAlgorithm,
    contents_capacity: usize,
}

impl SignerProfile {
    /// The signer certificate (first in `chain`, DER) and its intermediates,
    /// for signatures of `algorithm` at most `max_signature_len` bytes long.
    pub fn new<B: AsRef<[u8]>>(
        chain: &[B],
        algorithm: SignatureAlgorithm,
        max_signature_len: usize,
    ) -> Result<Self, SignError> {
        let certificates = SignerCertificates::from_der_chain(chain)?;
        let certificate = certificates.signer_info();
        let signer = parse(chain)?;
        let public_key_info = signer
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|source| {
                CertificateError::Encoding(Box::new(cms::CmsError::Encoding {
                    what: "subject public key info",
                    source,
                }))
            })?;
        let template = SignedDataTemplate::new(algorithm, &certificates)?;
        let contents_capacity =
            cms::signed_data_size_bound(&template, max_signature_len)? + CONTENTS_MARGIN;
        let fingerprint = chain
            .first()
            .map(|der| crate::crypto::DigestAlgorithm::Sha256.hex_digest(der.as_ref()))
            .unwrap_or_default();
        Ok(Self {
            template,
            certificate,
            public_key_info,
            fingerprint,
            algorithm,
            contents_capacity,
        })
    }

    /// The profile of a key kyso never holds, known only through its
    /// certificate (first in `chain`): the algorithm follows the key
    /// (RSA: PKCS#1 v1.5 with SHA-256; ECDSA P-256 with SHA-256, P-384 with
    /// SHA-384), and the certificate must allow signing documents
    /// (RFC 5280 §4.2.1.3: keyUsage, when present, has digitalSignature or
    /// nonRepudiation).
    pub fn for_external_key<B: AsRef<[u8]>>(chain: &[B]) -> Result<Self, SignError> {
        let signer = parse(chain)?;
        let subject = signer.tbs_certificate.subject.to_string();
        check_key_usage(&signer, &subject)?;
        let (algorithm, max_signature_len) = key_algorithm(&signer, &subject)?;
        Self::new(chain, algorithm, max_signature_len)
    }

    /// The signer certificate's facts.
    pub fn certificate(&self) -> &CertificateInfo {
        &self.certificate
    }

    /// The signature algorithm.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// SHA-256 of the signer certificate's DER, lower-case hex: its id in
    /// kyso's certificate register.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// What every CMS of this profile repeats, encoded once.
    pub(super) fn template(&self) -> &SignedDataTemplate {
        &self.template
    }

    pub(super) fn contents_capacity(&self) -> usize {
        self.contents_capacity
    }

    /// Checks `signature_value` over `message` with the certificate's public
    /// key, through the verifier CMS verification uses.
    pub(super) fn check_signature_value(
        &self,
        message: &[u8],
        signature_value: &[u8],
    ) -> Result<(), SignError> {
        cms::verify_signature_value(
            &self.public_key_info,
            self.algorithm.into(),
            message,
            signature_value,
        )
        .map_err(|problem| SignError::SignatureValueRejected {
            subject: self.certificate.subject.clone(),
            algorithm: self.algorithm,
            problem: problem.to_string(),
        })
    }
}

fn parse<B: AsRef<[u8]>>(chain: &[B]) -> Result<Certificate, CertificateError> {
    let first = chain.first().ok_or(CertificateError::Missing)?;
    Certificate::from_der(first.as_ref())
        .map_err(|source| CertificateError::NotACertificate { index: 0, source })
}

/// RFC 5280 §4.2.1.3: a certificate whose keyUsage lacks both
/// digitalSignature and nonRepudiation (contentCommitment) is not for
/// signatures on documents.
fn check_key_usage(signer: &Certificate, subject: &str) -> Result<(), SignError> {
    let extensions = signer.tbs_certificate.extensions.iter().flatten();
    let Some(extension) = extensions.into_iter().find(|e| e.extn_id == KeyUsage::OID) else {
        return Ok(());
    };
    let usage = KeyUsage::from_der(extension.extn_value.as_bytes()).map_err(|error| {
        SignError::UnsupportedSignerKey {
            subject: subject.to_string(),
            reason: format!("its keyUsage extension does not decode: {error}"),
        }
    })?;
    if usage.digital_signature() || usage.non_repudiation() {
        Ok(())
    } else {
        Err(SignError::CertificateNotForSigning {
            subject: subject.to_string(),
        })
    }
}

/// The algorithm a key signs with and its longest signature, in bytes.
/// The signer key of a DER certificate as people name it: "RSA 2048",
/// "ECDSA P-256", "ECDSA P-384"; an error for keys kyso cannot sign with.
pub fn describe_key(certificate_der: &[u8]) -> Result<String, SignError> {
    let signer = parse(&[certificate_der])?;
    let subject = signer.tbs_certificate.subject.to_string();
    let (algorithm, max_signature_len) = key_algorithm(&signer, &subject)?;
    Ok(match algorithm {
        SignatureAlgorithm::EcdsaP256Sha256 => "ECDSA P-256".to_string(),
        SignatureAlgorithm::EcdsaP384Sha384 => "ECDSA P-384".to_string(),
        SignatureAlgorithm::RsaPkcs1Sha256 | SignatureAlgorithm::RsaPssSha256 => {
            format!("RSA {}", max_signature_len * 8)
        }
    })
}

fn key_algorithm(
    signer: &Certificate,
    subject: &str,
) -> Result<(SignatureAlgorithm, usize), SignError> {
    let unsupported = |reason: String| SignError::UnsupportedSignerKey {
        subject: subject.to_string(),
        reason,
    };
    let spki = &signer.tbs_certificate.subject_public_key_info;
    match spki.algorithm.oid {
        RSA_ENCRYPTION => {
            let key = RsaPublicKey::from_der(spki.subject_public_key.raw_bytes())
                .map_err(|e| unsupported(format!("its RSA public key does not decode: {e}")))?;
            let modulus = key.modulus.as_bytes();
            let bits = modulus.first().map_or(0, |first| {
                modulus.len() * 8 - first.leading_zeros() as usize
            });
            if !RSA_BITS.contains(&bits) {
                return Err(unsupported(format!(
                    "an RSA key of {bits} bits (kyso signs with 2048 to 8192)"
                )));
            }
            // RSASSA-PKCS1-v1_5 values are exactly as long as the modulus.
            Ok((SignatureAlgorithm::RsaPkcs1Sha256, modulus.len()))
        }
        // RFC 5480 §2.1.1: namedCurve only. DER ECDSA-Sig-Value: SEQUENCE of
        // two INTEGERs, each up to the field size plus a leading zero byte.
        ID_EC_PUBLIC_KEY => match spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        {
            Some(SECP256R1) => Ok((SignatureAlgorithm::EcdsaP256Sha256, 2 + 2 * (2 + 33))),
            Some(SECP384R1) => Ok((SignatureAlgorithm::EcdsaP384Sha384, 2 + 2 * (2 + 49))),
            Some(curve) => Err(unsupported(format!(
                "an ECDSA key on curve {curve} (kyso signs on P-256 and P-384)"
            ))),
            None => Err(unsupported(
                "an ECDSA key without a named curve".to_string(),
            )),
        },
        oid => Err(unsupported(format!(
            "a key of type {oid} (kyso signs with RSA and ECDSA keys)"
        ))),
    }
}
