//! Verification of a detached CMS SignedData from a PDF signature
//! (`/SubFilter /ETSI.CAdES.detached` or `/adbe.pkcs7.detached`), given the
//! bytes the signature covers.
//!
//! The result is a report of facts ([`CmsVerification`]): whether the signed
//! bytes are intact, whether the signature value is valid for the signer's
//! certificate, which certificate that is, and every problem found on the way.
//! Nothing here decides trust: the certificates and CRLs are handed on for
//! path building and revocation checking. Anything unreadable, unsupported or
//! ambiguous makes the signature not valid; nothing is guessed.
//!
//! Reading is bounded ([`MAX_CMS_LEN`], [`MAX_CERTIFICATES`], [`MAX_CRLS`], a
//! nesting and SET-size budget) and never panics.

mod algorithm;
mod attributes;
mod ber;
pub(in crate::cms) mod ess;
mod public_key;
mod shape;
mod signer;

pub use public_key::verify_signature_value;

use super::CertificateInfo;
use crate::crypto::{DigestAlgorithm, EcdsaCurve, VerificationAlgorithm};
use attributes::SignedAttributeValues;
use cms::signed_data::{EncapsulatedContentInfo, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::ID_DATA;
use der::{Decode, Encode};
use signer::EmbeddedCertificate;
use std::time::SystemTime;
use x509_cert::Certificate;

/// Largest CMS read, in bytes (before any zero padding). A PAdES signature
/// with a chain, CRLs and a time-stamp token is a few tens of kilobytes.
pub const MAX_CMS_LEN: usize = 1 << 20;
/// Most certificates read from a SignedData.
pub const MAX_CERTIFICATES: usize = 64;
/// Most CRLs read from a SignedData.
pub const MAX_CRLS: usize = 64;

/// Why a CMS could not be read at all. Anything wrong past the SignedData's
/// skeleton is a [`CmsProblem`] in the report instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmsReadError {
    /// The ContentInfo is longer than [`MAX_CMS_LEN`].
    #[error("the CMS has {len} bytes; at most {limit} are read")]
    TooLarge {
        /// Its DER length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A BER encoding could not be read.
    #[error("the BER-encoded CMS cannot be read: {reason}")]
    Ber {
        /// What is wrong.
        reason: &'static str,
    },
    /// Non-zero bytes follow the ContentInfo.
    #[error("{count} non-zero bytes follow the CMS ContentInfo")]
    TrailingData {
        /// How many bytes are not zero.
        count: usize,
    },
    /// A part of the skeleton is not DER of the expected shape.
    #[error("the {what} is not DER of the expected shape: {source}")]
    Malformed {
        /// Which part.
        what: &'static str,
        /// The decoder's error.
        source: der::Error,
    },
    /// The ContentInfo holds something else than SignedData (RFC 5652 §5).
    #[error("the ContentInfo holds {content_type}, not SignedData")]
    NotSignedData {
        /// Its content type.
        content_type: ObjectIdentifier,
    },
    /// Values are nested deeper than the budget.
    #[error("the CMS nests values more than {limit} levels deep")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A SET OF has more elements than the budget.
    #[error("a SET OF in the CMS has more than {limit} elements")]
    SetTooLarge {
        /// The limit.
        limit: usize,
    },
    /// More certificates or CRLs than read.
    #[error("the CMS embeds more than {limit} {what}")]
    TooMany {
        /// "certificates" or "CRLs".
        what: &'static str,
        /// The limit.
        limit: usize,
    },
}

/// Which part of an ESS signing-certificate attribute did not fit the signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EssMismatch {
    /// The attribute lists no certificate.
    NoCertificate,
    /// The first certificate hash is not the signer certificate's.
    Hash,
    /// The first issuerSerial names another certificate.
    IssuerSerial,
}

/// A fact found while verifying, which makes the signature not valid — except
/// [`CmsProblem::DigestMismatch`], which is about the signed bytes only
/// (it makes the report not intact).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmsProblem {
    /// eContent is present: not a detached signature (PAdES requires one,
    /// ETSI EN 319 142-1 §6.3).
    #[error("the SignedData encapsulates its content; a PDF signature is detached")]
    ContentNotDetached,
    /// eContentType or the content-type attribute is not id-data
    /// (RFC 5652 §11.1; ETSI EN 319 142-1 §6.3).
    #[error("the content type is {found}, not id-data")]
    ContentTypeNotData {
        /// The type found.
        found: ObjectIdentifier,
    },
    /// No SignerInfo.
    #[error("the SignedData has no SignerInfo")]
    NoSigner,
    /// More than one SignerInfo; a PDF signature has one (ISO 32000-2 §12.8.3.3).
    #[error("the SignedData has {count} SignerInfos; a PDF signature has one")]
    MultipleSigners {
        /// How many.
        count: usize,
    },
    /// The SignerInfo is not DER of its ASN.1 shape.
    #[error("the SignerInfo is malformed: {error}")]
    MalformedSignerInfo {
        /// The decoder's error.
        error: der::Error,
    },
    /// No signed attributes (PAdES requires them, ETSI EN 319 142-1 §6.3).
    #[error("the SignerInfo has no signed attributes")]
    NoSignedAttributes,
    /// A required signed attribute is missing (RFC 5652 §5.3).
    #[error("the signed attribute {oid} is missing")]
    MissingAttribute {
        /// The attribute type.
        oid: ObjectIdentifier,
    },
    /// An attribute occurs more than once (RFC 5652 §11, RFC 5035 §5).
    #[error("the signed attribute {oid} occurs {count} times")]
    RepeatedAttribute {
        /// The attribute type.
        oid: ObjectIdentifier,
        /// How many times.
        count: usize,
    },
    /// An attribute has other than one value (RFC 5652 §11).
    #[error("the attribute {oid} has {count} values, not one")]
    AttributeValueCount {
        /// The attribute type.
        oid: ObjectIdentifier,
        /// How many values.
        count: usize,
    },
    /// An attribute value is not DER of its type.
    #[error("the attribute {oid} is malformed: {error}")]
    MalformedAttribute {
        /// The attribute type.
        oid: ObjectIdentifier,
        /// The decoder's error.
        error: der::Error,
    },
    /// The message-digest attribute is not the digest of the signed bytes
    /// (RFC 5652 §11.2): the document changed after signing.
    #[error("the message-digest attribute is not the {algorithm} digest of the signed bytes")]
    DigestMismatch {
        /// The digest algorithm used.
        algorithm: DigestAlgorithm,
    },
    /// An algorithm kyso does not verify.
    #[error("the algorithm {oid} is not supported")]
    UnsupportedAlgorithm {
        /// Its identifier.
        oid: ObjectIdentifier,
    },
    /// A supported algorithm with parameters kyso does not verify (RSASSA-PSS
    /// other than RFC 4056's shape, say).
    #[error("the parameters of algorithm {oid} are not supported")]
    UnsupportedParameters {
        /// The algorithm's identifier.
        oid: ObjectIdentifier,
    },
    /// A broken hash (SHA-1, MD5) in the digest or signature algorithm.
    #[error("{name} is too weak to rely on")]
    WeakAlgorithm {
        /// Its name.
        name: &'static str,
    },
    /// The CMSAlgorithmProtection attribute names other algorithms than the
    /// SignerInfo (RFC 6211 §3): an algorithm substitution.
    #[error("the CMSAlgorithmProtection attribute names other algorithms than the SignerInfo")]
    AlgorithmProtectionMismatch,
    /// No embedded certificate matches the signer identifier.
    #[error("no embedded certificate matches the signer identifier")]
    SignerNotFound,
    /// Several different embedded certificates match the signer identifier.
    #[error("{count} different embedded certificates match the signer identifier")]
    AmbiguousSigner {
        /// How many.
        count: usize,
    },
    /// An embedded certificate is not a DER X.509 certificate.
    #[error("embedded certificate {index} is malformed: {error}")]
    MalformedCertificate {
        /// Its position among the certificates (0-based).
        index: usize,
        /// The decoder's error.
        error: der::Error,
    },
    /// The signer's SubjectPublicKeyInfo or key is not DER of its type.
    #[error("the signer's public key is malformed: {error}")]
    MalformedPublicKey {
        /// The decoder's error.
        error: der::Error,
    },
    /// The signer's key is of a type kyso does not verify.
    #[error("the public key algorithm {oid} is not supported")]
    UnsupportedPublicKey {
        /// The key's algorithm identifier.
        oid: ObjectIdentifier,
    },
    /// The signer's ECDSA key is on a curve kyso does not verify.
    #[error("the elliptic curve {oid} is not supported")]
    UnsupportedCurve {
        /// The curve's identifier.
        oid: ObjectIdentifier,
    },
    /// The signer's RSA key is shorter than 2048 bits.
    #[error("the signer's RSA key has {bits} bits; at least 2048 are required")]
    RsaKeyTooShort {
        /// Its modulus length.
        bits: usize,
    },
    /// The signer's RSA key is longer than 8192 bits.
    #[error("the signer's RSA key has {bits} bits; at most 8192 are verified")]
    RsaKeyTooLong {
        /// Its modulus length.
        bits: usize,
    },
    /// The signature algorithm does not fit the signer's key type.
    #[error("an {algorithm} signature cannot be made with {key}")]
    KeyAlgorithmMismatch {
        /// The algorithm the SignerInfo names.
        algorithm: VerificationAlgorithm,
        /// The kind of key the certificate holds.
        key: &'static str,
    },
    /// A key and algorithm pair the crypto backend does not verify.
    #[error("{algorithm} on {curve} cannot be verified")]
    UnsupportedVerification {
        /// The algorithm.
        algorithm: VerificationAlgorithm,
        /// The key's curve.
        curve: EcdsaCurve,
    },
    /// The signature value does not verify with the signer's key.
    #[error("the {algorithm} signature value does not verify with the signer's key")]
    SignatureInvalid {
        /// The algorithm checked.
        algorithm: VerificationAlgorithm,
    },
    /// The ESS signing-certificate(-v2) attribute names another certificate
    /// than the signer's (RFC 5035 §3, RFC 2634 §5.4).
    #[error(
        "the signing-certificate attribute {attribute} does not name the signer certificate ({reason:?})"
    )]
    SigningCertificateMismatch {
        /// signing-certificate or signing-certificate-v2.
        attribute: ObjectIdentifier,
        /// What differs.
        reason: EssMismatch,
    },
}

impl CmsProblem {
    /// True for the problems about the signed bytes alone, which leave the
    /// signature itself valid.
    fn concerns_only_the_signed_bytes(&self) -> bool {
        matches!(self, CmsProblem::DigestMismatch { .. })
    }
}

/// The facts about a detached CMS signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CmsVerification {
    /// The signer's certificate as embedded (DER), found by the SignerInfo's sid.
    pub signer_certificate: Option<Vec<u8>>,
    /// Facts about [`Self::signer_certificate`], read from the decoding
    /// verification made of it (no second parse).
    pub signer_info: Option<CertificateInfo>,
    /// Every embedded certificate (DER, as embedded), for path building.
    pub certificates: Vec<Vec<u8>>,
    /// Every embedded CRL (`CertificateList` DER), for revocation checking.
    pub crls: Vec<Vec<u8>>,
    /// The SignerInfo's digest algorithm, when supported.
    pub digest_algorithm: Option<DigestAlgorithm>,
    /// The SignerInfo's signature algorithm, when supported.
    pub signature_algorithm: Option<VerificationAlgorithm>,
    /// The sid (issuerAndSerialNumber or subjectKeyIdentifier) names exactly
    /// one embedded certificate.
    pub signer_identified: bool,
    /// ESS signing-certificate-v2 (or v1) names the signer certificate by
    /// hash, and by issuerSerial when given. `None` when neither attribute is
    /// present or there is no signer certificate to compare with. A PAdES
    /// (`ETSI.CAdES.detached`) signature must have `Some(true)`.
    pub signing_certificate_matches: Option<bool>,
    /// The message-digest attribute equals the digest of the signed bytes
    /// (RFC 5652 §11.2): the bytes are as signed.
    pub intact: bool,
    /// The signature value verifies over the signed attributes with the
    /// signer certificate's key, under an algorithm that fits the key, and no
    /// problem other than a digest mismatch was found. Says nothing about
    /// trust in the certificate.
    pub valid: bool,
    /// The signing-time attribute, a claim of the signer (not a proof).
    pub signing_time_attribute: Option<SystemTime>,
    /// The signature value.
    pub signature_value: Option<Vec<u8>>,
    /// Each signature-time-stamp token (unsigned attribute, PAdES B-T), DER,
    /// unverified.
    pub signature_time_stamp_tokens: Vec<Vec<u8>>,
    /// Every problem found, in the order found.
    pub problems: Vec<CmsProblem>,
}

impl CmsVerification {
    /// Intact, valid, signer identified, and not a single problem: what the
    /// CMS alone can establish. Trust and revocation are still to be checked.
    pub fn is_verified(&self) -> bool {
        self.intact && self.valid && self.signer_identified && self.problems.is_empty()
    }
}

/// Problems in the order found, each recorded once.
#[derive(Debug, Default)]
struct Problems(Vec<CmsProblem>);

impl Problems {
    fn record(&mut self, problem: CmsProblem) {
        if !self.0.contains(&problem) {
            self.0.push(problem);
        }
    }

    /// The value, or `None` with the problem recorded.
    fn keep<T>(&mut self, result: Result<T, CmsProblem>) -> Option<T> {
        result.map_err(|problem| self.record(problem)).ok()
    }
}

/// Verifies a detached CMS `ContentInfo` (DER; zero padding after it is
/// ignored) over `signed_bytes`, the concatenated parts it signs (a PDF's
/// byte ranges).
///
/// Returns `Err` only when the CMS cannot be read as a SignedData at all;
/// every other finding is a fact in the report.
pub fn verify_detached(
    cms_der: &[u8],
    signed_bytes: &[&[u8]],
) -> Result<CmsVerification, CmsReadError> {
    // BER from signers in the field becomes DER first (see `ber`).
    let normalised;
    let cms_der = if ber::needs_normalising(cms_der) {
        normalised = ber::to_der(cms_der)?;
        normalised.as_slice()
    } else {
        cms_der
    };
    let der_bytes = shape::without_padding(cms_der)?;
    shape::check_budget(der_bytes)?;
    let parts = shape::signed_data_parts(der_bytes)?;
    let mut problems = Problems::default();
    let certificates = embedded_certificates(&parts.certificates, &mut problems);
    let mut report = CmsVerification {
        certificates: certificates.iter().map(|c| c.der.to_vec()).collect(),
        crls: parts.crls.iter().map(|crl| crl.to_vec()).collect(),
        ..CmsVerification::default()
    };
    let detached = check_encapsulated_content(&parts.encapsulated, &mut problems);
    let (intact, signature_verified) = match parts.signer_infos.as_slice() {
        [signer_info] => check_signer_info(
            signer_info,
            &certificates,
            detached.then_some(signed_bytes),
            &mut report,
            &mut problems,
        ),
        [] => {
            problems.record(CmsProblem::NoSigner);
            (false, false)
        }
        several => {
            problems.record(CmsProblem::MultipleSigners {
                count: several.len(),
            });
            (false, false)
        }
    };
    report.intact = intact;
    report.valid = signature_verified
        && problems
            .0
            .iter()
            .all(CmsProblem::concerns_only_the_signed_bytes);
    report.problems = problems.0;
    Ok(report)
}

/// Decodes each embedded certificate, keeping the bytes it came as.
fn embedded_certificates<'a>(
    certificates: &[&'a [u8]],
    problems: &mut Problems,
) -> Vec<EmbeddedCertificate<'a>> {
    certificates
        .iter()
        .enumerate()
        .filter_map(
            |(index, &der_bytes)| match Certificate::from_der(der_bytes) {
                Ok(certificate) => Some(EmbeddedCertificate {
                    der: der_bytes,
                    certificate,
                }),
                Err(error) => {
                    problems.record(CmsProblem::MalformedCertificate { index, error });
                    None
                }
            },
        )
        .collect()
}

/// RFC 5652 §5.2 and ETSI EN 319 142-1 §6.3: eContentType id-data, eContent
/// absent. Returns whether the content is detached.
fn check_encapsulated_content(
    encapsulated: &EncapsulatedContentInfo,
    problems: &mut Problems,
) -> bool {
    if encapsulated.econtent_type != ID_DATA {
        problems.record(CmsProblem::ContentTypeNotData {
            found: encapsulated.econtent_type,
        });
    }
    if encapsulated.econtent.is_some() {
        problems.record(CmsProblem::ContentNotDetached);
        return false;
    }
    true
}

/// Checks the one SignerInfo; returns (intact, signature verified).
/// `signed_bytes` is `None` when the content is not detached.
fn check_signer_info(
    der_bytes: &[u8],
    certificates: &[EmbeddedCertificate<'_>],
    signed_bytes: Option<&[&[u8]]>,
    report: &mut CmsVerification,
    problems: &mut Problems,
) -> (bool, bool) {
    let decoded = SignerInfo::from_der(der_bytes)
        .and_then(|info| shape::signed_attributes(der_bytes).map(|raw| (info, raw)));
    let (signer_info, raw_signed_attributes) = match decoded {
        Ok(decoded) => decoded,
        Err(error) => {
            problems.record(CmsProblem::MalformedSignerInfo { error });
            return (false, false);
        }
    };
    report.signature_value = Some(signer_info.signature.as_bytes().to_vec());
    report.signature_time_stamp_tokens =
        attributes::time_stamp_tokens(signer_info.unsigned_attrs.as_ref());

    let digest = algorithm::digest_algorithm(&signer_info.digest_alg);
    let signature_algorithm =
        algorithm::signature_algorithm(&signer_info.signature_algorithm, &digest);
    report.digest_algorithm = problems.keep(digest);
    report.signature_algorithm = problems.keep(signature_algorithm);

    let signer = problems.keep(signer::identify(&signer_info.sid, certificates));
    report.signer_identified = signer.is_some();
    report.signer_certificate = signer.map(|signer| signer.der.to_vec());
    report.signer_info = signer.map(|signer| CertificateInfo::of(&signer.certificate));

    let (Some(attributes), Some(raw_signed_attributes)) =
        (&signer_info.signed_attrs, raw_signed_attributes)
    else {
        problems.record(CmsProblem::NoSignedAttributes);
        return (false, false);
    };
    let values = attributes::read(attributes, problems);
    report.signing_time_attribute = values.signing_time;
    check_content_type_attribute(&values, problems);
    let intact = match (
        signed_bytes,
        report.digest_algorithm,
        &values.message_digest,
    ) {
        (Some(signed_bytes), Some(digest), Some(expected)) => {
            check_message_digest(digest, expected.as_bytes(), signed_bytes, problems)
        }
        _ => false,
    };
    if let Some(protection) = &values.algorithm_protection {
        check_algorithm_protection(protection, &signer_info, problems);
    }
    let Some(signer) = signer else {
        return (intact, false);
    };
    report.signing_certificate_matches = check_signing_certificate(&values, signer, problems);
    let Some(algorithm) = report.signature_algorithm else {
        return (intact, false);
    };
    let verified = check_signature(
        signer,
        algorithm,
        raw_signed_attributes,
        signer_info.signature.as_bytes(),
        problems,
    );
    (intact, verified)
}

/// RFC 5652 §11.1: the content-type attribute equals eContentType, which
/// PAdES fixes to id-data.
fn check_content_type_attribute(values: &SignedAttributeValues<'_>, problems: &mut Problems) {
    if let Some(found) = values.content_type
        && found != ID_DATA
    {
        problems.record(CmsProblem::ContentTypeNotData { found });
    }
}

/// RFC 5652 §5.4, §11.2: the message-digest attribute is the digest of the
/// content, here the concatenated signed bytes.
fn check_message_digest(
    digest: DigestAlgorithm,
    expected: &[u8],
    signed_bytes: &[&[u8]],
    problems: &mut Problems,
) -> bool {
    if digest.digest_parts(signed_bytes) == expected {
        return true;
    }
    problems.record(CmsProblem::DigestMismatch { algorithm: digest });
    false
}

/// RFC 6211 §3: when CMSAlgorithmProtection is present, its algorithms are
/// the SignerInfo's, compared by DER; a SignedData names a signature
/// algorithm there, never a MAC algorithm.
fn check_algorithm_protection(
    protection: &attributes::AlgorithmProtection,
    signer_info: &SignerInfo,
    problems: &mut Problems,
) {
    let same = protection.digest_algorithm == signer_info.digest_alg
        && protection.signature_algorithm.as_ref() == Some(&signer_info.signature_algorithm)
        && protection.mac_algorithm.is_none();
    if !same {
        problems.record(CmsProblem::AlgorithmProtectionMismatch);
    }
}

/// RFC 5035 §3 / RFC 2634 §5.4: every ESS signing-certificate attribute
/// present names the signer certificate. `None` when there is none.
fn check_signing_certificate(
    values: &SignedAttributeValues<'_>,
    signer: &EmbeddedCertificate<'_>,
    problems: &mut Problems,
) -> Option<bool> {
    if values.signing_certificates.is_empty() {
        return None;
    }
    let mut all_match = true;
    for &(attribute, value) in &values.signing_certificates {
        if let Err(problem) = ess::check(attribute, value, signer.der, &signer.certificate) {
            problems.record(problem);
            all_match = false;
        }
    }
    Some(all_match)
}

/// RFC 5652 §5.4, §5.6: the signature value verifies over the signed
/// attributes, as received, under the SET OF tag, with the signer's key.
fn check_signature(
    signer: &EmbeddedCertificate<'_>,
    algorithm: VerificationAlgorithm,
    raw_signed_attributes: &[u8],
    signature: &[u8],
    problems: &mut Problems,
) -> bool {
    let spki = match signer
        .certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
    {
        Ok(spki) => spki,
        Err(error) => {
            problems.record(CmsProblem::MalformedPublicKey { error });
            return false;
        }
    };
    let message = shape::signed_attributes_message(raw_signed_attributes);
    problems
        .keep(verify_signature_value(
            &spki, algorithm, &message, signature,
        ))
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::{CertificateAuthority, KeyAlgorithm, LeafKey};
    use crate::cms::{
        SignedAttributes, SignedDataTemplate, SignerCertificates, algorithms, decode_signed_data,
    };
    use crate::crypto::{RingSigningKey, RsaPadding, SigningKey};
    use crate::units::demo_province;
    use cms::cert::IssuerAndSerialNumber;
    use cms::content_info::{CmsVersion, ContentInfo};
    use cms::signed_data::{CertificateSet, SignedData, SignerIdentifier, SignerInfos};
    use const_oid::db::rfc5911::ID_SIGNED_DATA;
    use der::Any;
    use der::asn1::{OctetString, SetOfVec};
    use std::path::Path;
    use std::process::Command;
    use std::time::Duration;
    use x509_cert::attr::Attribute;
    use x509_cert::ext::pkix::SubjectKeyIdentifier;

    /// The two byte ranges of a PDF signature.
    const PART_ONE: &[u8] = b"%PDF-1.7 ... /Contents <";
    const PART_TWO: &[u8] = b"> ... %%EOF\n";

    /// 2025-03-01T01:02:03Z.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_790_923)
    }

    /// A key with its certificate (first) and the issuing CA's.
    struct Signer {
        key: RingSigningKey,
        chain: Vec<Vec<u8>>,
    }

    impl Signer {
        fn new(key: LeafKey, padding: RsaPadding) -> Self {
            let root = CertificateAuthority::new_root("Test Root", "kyso", now()).expect("root");
            let issuing = root
                .issue_intermediate("Test Issuing CA", "kyso", now())
                .expect("intermediate");
            let unit = demo_province().units()[0].clone();
            let certified = issuing
                .issue_organisation(&unit, key, now())
                .expect("organisation certificate");
            Self {
                key: RingSigningKey::from_pkcs8(&certified.private_key_pkcs8_der, padding)
                    .expect("key"),
                chain: vec![
                    certified.certificate_der,
                    issuing.certificate_der().to_vec(),
                ],
            }
        }

        fn ecdsa(algorithm: KeyAlgorithm) -> Self {
            Self::new(LeafKey::Generate(algorithm), RsaPadding::Pkcs1)
        }

        fn certificates(&self) -> SignerCertificates {
            SignerCertificates::from_der_chain(&self.chain).expect("chain")
        }

        fn template(&self) -> SignedDataTemplate {
            SignedDataTemplate::new(self.key.algorithm(), &self.certificates()).expect("template")
        }

        fn certificate(&self) -> Certificate {
            Certificate::from_der(&self.chain[0]).expect("certificate")
        }

        /// A CMS made by kyso's signing path over [`PART_ONE`] and [`PART_TWO`].
        fn kyso_cms(&self) -> Vec<u8> {
            let algorithm = self.key.algorithm();
            let digest = algorithm.digest().digest_parts(&[PART_ONE, PART_TWO]);
            let template = self.template();
            let attributes = SignedAttributes::new(&digest, &template).expect("attributes");
            let signature = self.key.sign(attributes.to_be_signed()).expect("sign");
            attributes
                .into_signed_data(&signature, &template)
                .expect("signed data")
        }

        /// content-type, message-digest and signing-certificate-v2 for the
        /// signed parts.
        fn standard_attributes(&self) -> Vec<Attribute> {
            let digest = self
                .key
                .algorithm()
                .digest()
                .digest_parts(&[PART_ONE, PART_TWO]);
            vec![
                attribute(attributes::ID_CONTENT_TYPE, &ID_DATA),
                attribute(
                    attributes::ID_MESSAGE_DIGEST,
                    &OctetString::new(digest).expect("digest"),
                ),
                crate::cms::ess::signing_certificate_v2(&self.certificate()).expect("ess"),
            ]
        }

        /// A CMS built here from the cms crate's types: `attributes` signed
        /// (or, when `None`, the parts themselves), then `edit` applied to
        /// the SignerInfo.
        fn custom_cms(
            &self,
            attributes: Option<Vec<Attribute>>,
            edit: impl FnOnce(&mut SignerInfo),
        ) -> Vec<u8> {
            let algorithm = self.key.algorithm();
            let signed_attrs = attributes.map(|a| SetOfVec::try_from(a).expect("attribute set"));
            let to_be_signed = match &signed_attrs {
                Some(set) => set.to_der().expect("encode"),
                None => [PART_ONE, PART_TWO].concat(),
            };
            let certificate = self.certificate();
            let mut signer_info = SignerInfo {
                version: CmsVersion::V1,
                sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                    issuer: certificate.tbs_certificate.issuer.clone(),
                    serial_number: certificate.tbs_certificate.serial_number.clone(),
                }),
                digest_alg: algorithms::digest_identifier(algorithm.digest()),
                signed_attrs,
                signature_algorithm: algorithms::signature_identifier(algorithm)
                    .expect("algorithm"),
                signature: OctetString::new(self.key.sign(&to_be_signed).expect("sign"))
                    .expect("signature"),
                unsigned_attrs: None,
            };
            edit(&mut signer_info);
            wrap(&self.chain, vec![signer_info], |_| {})
        }
    }

    use crate::cms::tests::attribute;

    /// A ContentInfo around a SignedData with these certificates and signers.
    fn wrap(
        chain: &[Vec<u8>],
        signer_infos: Vec<SignerInfo>,
        edit: impl FnOnce(&mut SignedData),
    ) -> Vec<u8> {
        let certificates = chain
            .iter()
            .map(|der_bytes| {
                cms::cert::CertificateChoices::Certificate(
                    Certificate::from_der(der_bytes).expect("certificate"),
                )
            })
            .collect::<Vec<_>>();
        let digest_algorithms = signer_infos
            .iter()
            .map(|info| info.digest_alg.clone())
            .collect::<Vec<_>>();
        let mut signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(digest_algorithms).expect("digests"),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent: None,
            },
            certificates: Some(CertificateSet::try_from(certificates).expect("certificates")),
            crls: None,
            signer_infos: SignerInfos::try_from(signer_infos).expect("signer infos"),
        };
        edit(&mut signed_data);
        content_info(&signed_data)
    }

    fn content_info(signed_data: &SignedData) -> Vec<u8> {
        ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(signed_data).expect("signed data"),
        }
        .to_der()
        .expect("content info")
    }

    fn verify(cms_der: &[u8]) -> CmsVerification {
        verify_detached(cms_der, &[PART_ONE, PART_TWO]).expect("readable CMS")
    }

    /// Length of the tag and length octets of the TLV at the start of `tlv`.
    fn header_length(tlv: &[u8]) -> usize {
        let mut reader = der::SliceReader::new(tlv).expect("reader");
        let header = der::Header::decode(&mut reader).expect("header");
        usize::try_from(header.encoded_len().expect("length")).expect("usize")
    }

    fn position(haystack: &[u8], needle: &[u8]) -> usize {
        haystack
            .windows(needle.len())
            .position(|window| window == needle)
            .expect("present")
    }

    #[test]
    fn a_cms_signed_by_kyso_verifies_with_every_fact_reported() {
        for (key, digest) in [
            (KeyAlgorithm::EcdsaP256, DigestAlgorithm::Sha256),
            (KeyAlgorithm::EcdsaP384, DigestAlgorithm::Sha384),
        ] {
            let signer = Signer::ecdsa(key);
            let report = verify(&signer.kyso_cms());
            assert_eq!(report.problems, vec![], "{key}");
            assert!(report.intact && report.valid && report.signer_identified);
            assert!(report.is_verified());
            assert_eq!(report.signing_certificate_matches, Some(true));
            assert_eq!(report.digest_algorithm, Some(digest));
            assert_eq!(
                report.signature_algorithm,
                Some(VerificationAlgorithm::Ecdsa(digest))
            );
            assert_eq!(report.signer_certificate.as_ref(), Some(&signer.chain[0]));
            assert_eq!(report.certificates.len(), 2);
            assert!(report.certificates.contains(&signer.chain[1]));
            assert!(report.crls.is_empty());
            assert_eq!(report.signing_time_attribute, None);
            assert!(report.signature_value.is_some());
        }
    }

    #[test]
    fn a_cms_signed_by_kyso_with_an_rsa_key_verifies_in_both_paddings() {
        let pkcs8 = {
            use rsa::pkcs8::EncodePrivateKey;
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                .expect("generate RSA key")
                .to_pkcs8_der()
                .expect("pkcs8")
                .as_bytes()
                .to_vec()
        };
        let pkcs1 = Signer::new(
            LeafKey::Pkcs8 {
                der: pkcs8.clone(),
                algorithm: KeyAlgorithm::Rsa2048,
            },
            RsaPadding::Pkcs1,
        );
        let pss = Signer {
            key: RingSigningKey::from_pkcs8(&pkcs8, RsaPadding::Pss).expect("key"),
            chain: pkcs1.chain.clone(),
        };
        for (signer, algorithm) in [
            (
                &pkcs1,
                VerificationAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
            ),
            (&pss, VerificationAlgorithm::RsaPss(DigestAlgorithm::Sha256)),
        ] {
            let report = verify(&signer.kyso_cms());
            assert!(report.is_verified(), "{algorithm}: {:?}", report.problems);
            assert_eq!(report.signature_algorithm, Some(algorithm));
        }
    }

    #[test]
    fn a_flipped_byte_in_the_signed_bytes_makes_the_document_not_intact() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let cms_der = signer.kyso_cms();
        let mut changed = PART_TWO.to_vec();
        changed[0] ^= 0x01;
        let report = verify_detached(&cms_der, &[PART_ONE, &changed]).expect("readable");
        assert!(!report.intact);
        assert_eq!(
            report.problems,
            vec![CmsProblem::DigestMismatch {
                algorithm: DigestAlgorithm::Sha256
            }]
        );
        // The signature itself is still the signer's: the facts stay apart.
        assert!(report.valid);
        assert!(!report.is_verified());
    }

    #[test]
    fn a_flipped_byte_in_the_signature_value_makes_it_invalid() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let mut cms_der = signer.kyso_cms();
        let signature = verify(&cms_der).signature_value.expect("signature");
        let at = position(&cms_der, &signature) + signature.len() - 1;
        cms_der[at] ^= 0x01;
        let report = verify(&cms_der);
        assert!(report.intact);
        assert!(!report.valid);
        assert_eq!(
            report.problems,
            vec![CmsProblem::SignatureInvalid {
                algorithm: VerificationAlgorithm::Ecdsa(DigestAlgorithm::Sha256)
            }]
        );
    }

    #[test]
    fn a_swapped_signer_certificate_leaves_the_signer_unidentified() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let other = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let mut signed_data = decode_signed_data(&signer.kyso_cms()).expect("decode");
        let certificates = other
            .chain
            .iter()
            .map(|der_bytes| {
                cms::cert::CertificateChoices::Certificate(
                    Certificate::from_der(der_bytes).expect("certificate"),
                )
            })
            .collect::<Vec<_>>();
        signed_data.certificates = Some(CertificateSet::try_from(certificates).expect("set"));
        let report = verify(&content_info(&signed_data));
        assert!(!report.signer_identified);
        assert!(!report.valid);
        assert!(report.intact);
        assert_eq!(report.signer_certificate, None);
        assert_eq!(report.problems, vec![CmsProblem::SignerNotFound]);
    }

    #[test]
    fn an_ess_hash_naming_another_certificate_makes_the_signature_invalid() {
        // The attribute substitution attack: the signed attributes bind
        // another certificate than the one the signature is checked with.
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let other = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let algorithm = signer.key.algorithm();
        let digest = algorithm.digest().digest_parts(&[PART_ONE, PART_TWO]);
        let attributes = SignedAttributes::new(&digest, &other.template()).expect("attributes");
        let signature = signer.key.sign(attributes.to_be_signed()).expect("sign");
        let cms_der = attributes
            .into_signed_data(&signature, &signer.template())
            .expect("cms");
        let report = verify(&cms_der);
        assert!(report.intact && report.signer_identified);
        assert_eq!(report.signing_certificate_matches, Some(false));
        assert!(!report.valid);
        assert_eq!(
            report.problems,
            vec![CmsProblem::SigningCertificateMismatch {
                attribute: ess::ID_AA_SIGNING_CERTIFICATE_V2,
                reason: EssMismatch::Hash
            }]
        );
    }

    #[test]
    fn a_signer_named_by_subject_key_identifier_is_found() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let (_, ski) = signer
            .certificate()
            .tbs_certificate
            .get::<SubjectKeyIdentifier>()
            .expect("extension")
            .expect("present");
        let cms_der = signer.custom_cms(Some(signer.standard_attributes()), |info| {
            info.version = CmsVersion::V3;
            info.sid = SignerIdentifier::SubjectKeyIdentifier(ski);
        });
        let report = verify(&cms_der);
        assert!(report.is_verified(), "{:?}", report.problems);
    }

    #[test]
    fn two_signer_infos_are_refused() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let one = signer.custom_cms(Some(signer.standard_attributes()), |_| {});
        let signer_info = decode_signed_data(&one)
            .expect("decode")
            .signer_infos
            .0
            .as_slice()[0]
            .clone();
        let mut second = signer_info.clone();
        second.signature = OctetString::new(vec![1, 2, 3]).expect("signature");
        let report = verify(&wrap(&signer.chain, vec![signer_info, second], |_| {}));
        assert!(!report.valid && !report.intact);
        assert_eq!(
            report.problems,
            vec![CmsProblem::MultipleSigners { count: 2 }]
        );
        let none = verify(&wrap(&signer.chain, Vec::new(), |_| {}));
        assert_eq!(none.problems, vec![CmsProblem::NoSigner]);
    }

    #[test]
    fn an_encapsulated_content_is_refused_as_not_detached() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let mut signed_data = decode_signed_data(&signer.kyso_cms()).expect("decode");
        signed_data.encap_content_info.econtent = Some(
            Any::encode_from(&OctetString::new([PART_ONE, PART_TWO].concat()).expect("content"))
                .expect("any"),
        );
        let report = verify(&content_info(&signed_data));
        assert!(!report.valid && !report.intact);
        assert!(report.problems.contains(&CmsProblem::ContentNotDetached));
    }

    #[test]
    fn a_content_type_other_than_data_is_refused() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let mut attributes = signer.standard_attributes();
        attributes[0] = attribute(attributes::ID_CONTENT_TYPE, &ID_SIGNED_DATA);
        let report = verify(&signer.custom_cms(Some(attributes), |_| {}));
        assert!(!report.valid);
        assert_eq!(
            report.problems,
            vec![CmsProblem::ContentTypeNotData {
                found: ID_SIGNED_DATA
            }]
        );
    }

    #[test]
    fn a_missing_or_repeated_message_digest_is_neither_intact_nor_valid() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let mut missing = signer.standard_attributes();
        missing.remove(1);
        let report = verify(&signer.custom_cms(Some(missing), |_| {}));
        assert!(!report.intact && !report.valid);
        assert_eq!(
            report.problems,
            vec![CmsProblem::MissingAttribute {
                oid: attributes::ID_MESSAGE_DIGEST
            }]
        );

        let mut repeated = signer.standard_attributes();
        repeated.push(attribute(
            attributes::ID_MESSAGE_DIGEST,
            &OctetString::new(vec![0; 32]).expect("digest"),
        ));
        let report = verify(&signer.custom_cms(Some(repeated), |_| {}));
        assert!(!report.intact && !report.valid);
        assert_eq!(
            report.problems,
            vec![CmsProblem::RepeatedAttribute {
                oid: attributes::ID_MESSAGE_DIGEST,
                count: 2
            }]
        );
    }

    #[test]
    fn no_signed_attributes_is_refused() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let report = verify(&signer.custom_cms(None, |_| {}));
        assert!(!report.intact && !report.valid);
        assert_eq!(report.problems, vec![CmsProblem::NoSignedAttributes]);
    }

    #[test]
    fn a_sha1_digest_algorithm_is_weak_and_neither_intact_nor_valid() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let mut attributes = signer.standard_attributes();
        attributes[1] = attribute(
            attributes::ID_MESSAGE_DIGEST,
            &OctetString::new(crate::crypto::legacy_sha1_digest(
                &[PART_ONE, PART_TWO].concat(),
            ))
            .expect("digest"),
        );
        let report = verify(&signer.custom_cms(Some(attributes), |info| {
            info.digest_alg = spki::AlgorithmIdentifierOwned {
                oid: algorithm::ID_SHA1,
                parameters: None,
            };
        }));
        assert!(!report.intact && !report.valid);
        assert_eq!(report.digest_algorithm, None);
        assert_eq!(
            report.problems,
            vec![CmsProblem::WeakAlgorithm { name: "SHA-1" }]
        );
    }

    #[test]
    fn an_rsa_signature_algorithm_with_an_ecdsa_key_is_invalid() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let cms_der = signer.custom_cms(Some(signer.standard_attributes()), |info| {
            info.signature_algorithm =
                algorithms::signature_identifier(crate::crypto::SignatureAlgorithm::RsaPkcs1Sha256)
                    .expect("identifier");
        });
        let report = verify(&cms_der);
        assert!(!report.valid);
        assert_eq!(
            report.problems,
            vec![CmsProblem::KeyAlgorithmMismatch {
                algorithm: VerificationAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
                key: "an ECDSA key"
            }]
        );
    }

    #[test]
    fn algorithm_protection_naming_another_digest_is_refused() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let algorithm = signer.key.algorithm();
        let protection = |digest| attributes::AlgorithmProtection {
            digest_algorithm: algorithms::digest_identifier(digest),
            signature_algorithm: Some(
                algorithms::signature_identifier(algorithm).expect("identifier"),
            ),
            mac_algorithm: None,
        };
        let oid = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.52");
        let mut same = signer.standard_attributes();
        same.push(attribute(oid, &protection(DigestAlgorithm::Sha256)));
        assert!(verify(&signer.custom_cms(Some(same), |_| {})).is_verified());
        let mut other = signer.standard_attributes();
        other.push(attribute(oid, &protection(DigestAlgorithm::Sha384)));
        let report = verify(&signer.custom_cms(Some(other), |_| {}));
        assert!(!report.valid);
        assert_eq!(
            report.problems,
            vec![CmsProblem::AlgorithmProtectionMismatch]
        );
    }

    #[test]
    fn unsorted_signed_attributes_verify_over_the_bytes_as_received_only() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let cms_der = signer.kyso_cms();
        let sorted = SetOfVec::try_from(signer.standard_attributes())
            .expect("set")
            .to_der()
            .expect("encode");
        // The same attributes in reverse order: same length, other bytes.
        let header_len = header_length(&sorted);
        let mut reader = der::SliceReader::new(&sorted[header_len..]).expect("reader");
        let mut elements = Vec::new();
        while !der::Reader::is_finished(&reader) {
            elements.push(der::Reader::tlv_bytes(&mut reader).expect("tlv").to_vec());
        }
        elements.reverse();
        let mut unsorted = sorted[..header_len].to_vec();
        unsorted.extend(elements.concat());
        assert_ne!(unsorted, sorted);
        let at = position(&cms_der, &sorted[1..]);
        let old_signature = verify(&cms_der).signature_value.expect("signature");

        // Signed as sorted, sent unsorted: re-encoding would "repair" it.
        let mut resent = cms_der.clone();
        resent[at..at + sorted.len() - 1].copy_from_slice(&unsorted[1..]);
        let report = verify(&resent);
        assert!(!report.valid, "verified over a re-encoding");
        assert!(matches!(
            report.problems.as_slice(),
            [CmsProblem::SignatureInvalid { .. }]
        ));

        // Signed unsorted (a signature of the same length, so no length
        // changes), sent unsorted: valid.
        let new_signature = (0..64)
            .map(|_| signer.key.sign(&unsorted).expect("sign"))
            .find(|signature| signature.len() == old_signature.len())
            .expect("a signature of the same length");
        let signature_at = position(&resent, &old_signature);
        resent[signature_at..signature_at + old_signature.len()].copy_from_slice(&new_signature);
        let report = verify(&resent);
        assert!(report.is_verified(), "{:?}", report.problems);
    }

    #[test]
    fn every_single_byte_corruption_is_reported_without_panic() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let cms_der = signer.kyso_cms();
        let signature = verify(&cms_der).signature_value.expect("signature");
        let attributes = SetOfVec::try_from(signer.standard_attributes())
            .expect("set")
            .to_der()
            .expect("encode");
        // Bytes whose change must make the signature not valid: the signer
        // certificate, the signed attributes and the signature value.
        let covered = [
            (position(&cms_der, &signer.chain[0]), signer.chain[0].len()),
            (position(&cms_der, &attributes[1..]) - 1, attributes.len()),
            (position(&cms_der, &signature), signature.len()),
        ];
        // Bytes no signature covers and nothing relies on: the SignedData's
        // version and advisory digestAlgorithms (before the first
        // certificate), and the issuing CA's certificate, which is only
        // handed on for path building.
        let first_certificate =
            position(&cms_der, &signer.chain[0]).min(position(&cms_der, &signer.chain[1]));
        let issuer_at = position(&cms_der, &signer.chain[1]);
        let unprotected = |at: usize| {
            at < first_certificate || (issuer_at..issuer_at + signer.chain[1].len()).contains(&at)
        };
        for at in 0..cms_der.len() {
            let mut corrupted = cms_der.clone();
            corrupted[at] ^= 0xff;
            let Ok(report) = verify_detached(&corrupted, &[PART_ONE, PART_TWO]) else {
                continue;
            };
            let in_covered = covered
                .iter()
                .any(|&(start, len)| (start..start + len).contains(&at));
            assert!(
                !report.valid || (!in_covered && unprotected(at)),
                "byte {at} changed and still valid: {:?}",
                report.problems
            );
        }
        for len in 0..cms_der.len() {
            if let Ok(report) = verify_detached(&cms_der[..len], &[PART_ONE, PART_TWO]) {
                assert!(!report.valid, "truncated to {len} and still valid");
            }
        }
    }

    #[test]
    fn garbage_and_oversized_inputs_are_refused_without_panic() {
        assert!(verify_detached(&[], &[]).is_err());
        assert!(verify_detached(b"not DER at all", &[]).is_err());
        assert!(matches!(
            verify_detached(&[0x30, 0x03, 0x06, 0x01, 0x00], &[]),
            Err(CmsReadError::Malformed { .. })
        ));
        let data = ContentInfo {
            content_type: ID_DATA,
            content: Any::encode_from(&OctetString::new(vec![1]).expect("octets")).expect("any"),
        }
        .to_der()
        .expect("encode");
        assert!(matches!(
            verify_detached(&data, &[]),
            Err(CmsReadError::NotSignedData { .. })
        ));
        let mut huge = vec![0x30, 0x83, 0x20, 0x00, 0x00];
        huge.resize(0x20_0005, 0);
        assert!(matches!(
            verify_detached(&huge, &[]),
            Err(CmsReadError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_padded_cms_from_a_pdf_contents_string_verifies() {
        let signer = Signer::ecdsa(KeyAlgorithm::EcdsaP256);
        let mut cms_der = signer.kyso_cms();
        cms_der.resize(cms_der.len() + 4096, 0);
        assert!(verify(&cms_der).is_verified());
    }

    /// Runs `openssl` with `args` in `dir`; `None` when openssl is missing.
    fn openssl(dir: &Path, args: &[&str]) -> Option<()> {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Some(())
    }

    /// A detached CMS made by `openssl cms -sign` over the two parts, with a
    /// fresh self-signed certificate for a key made by `genpkey_args`.
    fn openssl_cms(genpkey_args: &[&str], sign_args: &[&str]) -> Option<Vec<u8>> {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut genpkey = vec!["genpkey", "-out", "key.pem"];
        genpkey.extend(genpkey_args);
        openssl(dir.path(), &genpkey)?;
        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "key.pem",
                "-subj",
                "/CN=Người ký thử OpenSSL/O=kyso",
                "-utf8",
                "-days",
                "30",
                "-out",
                "cert.pem",
            ],
        )?;
        std::fs::write(dir.path().join("data.bin"), [PART_ONE, PART_TWO].concat())
            .expect("write data");
        let mut sign = vec![
            "cms", "-sign", "-binary", "-in", "data.bin", "-signer", "cert.pem", "-inkey",
            "key.pem", "-outform", "DER", "-out", "cms.der",
        ];
        sign.extend(sign_args);
        openssl(dir.path(), &sign)?;
        Some(std::fs::read(dir.path().join("cms.der")).expect("read cms"))
    }

    /// One `openssl cms -sign` run: key generation, signing options, and
    /// what the report must say.
    struct OpensslCase {
        genpkey: &'static [&'static str],
        sign: &'static [&'static str],
        algorithm: VerificationAlgorithm,
        signing_certificate_matches: Option<bool>,
    }

    #[test]
    fn cms_made_by_openssl_verifies() {
        use DigestAlgorithm::{Sha256, Sha384, Sha512};
        const RSA: &[&str] = &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
        const P256: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
        const P384: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"];
        let cases = [
            OpensslCase {
                genpkey: RSA,
                sign: &["-md", "sha256", "-cades"],
                algorithm: VerificationAlgorithm::RsaPkcs1(Sha256),
                signing_certificate_matches: Some(true),
            },
            OpensslCase {
                genpkey: RSA,
                sign: &["-md", "sha512"],
                algorithm: VerificationAlgorithm::RsaPkcs1(Sha512),
                signing_certificate_matches: None,
            },
            OpensslCase {
                genpkey: RSA,
                sign: &[
                    "-md",
                    "sha256",
                    "-keyopt",
                    "rsa_padding_mode:pss",
                    "-keyopt",
                    "rsa_pss_saltlen:digest",
                ],
                algorithm: VerificationAlgorithm::RsaPss(Sha256),
                signing_certificate_matches: None,
            },
            OpensslCase {
                genpkey: P256,
                sign: &["-md", "sha256", "-keyid", "-cades"],
                algorithm: VerificationAlgorithm::Ecdsa(Sha256),
                signing_certificate_matches: Some(true),
            },
            OpensslCase {
                genpkey: P256,
                sign: &["-md", "sha384"],
                algorithm: VerificationAlgorithm::Ecdsa(Sha384),
                signing_certificate_matches: None,
            },
            OpensslCase {
                genpkey: P384,
                sign: &["-md", "sha384"],
                algorithm: VerificationAlgorithm::Ecdsa(Sha384),
                signing_certificate_matches: None,
            },
        ];
        for case in cases {
            let sign = case.sign;
            let Some(cms_der) = openssl_cms(case.genpkey, sign) else {
                eprintln!("openssl is not installed; skipping the OpenSSL interoperability test");
                return;
            };
            let report = verify(&cms_der);
            assert!(report.is_verified(), "{sign:?}: {:?}", report.problems);
            assert_eq!(report.signature_algorithm, Some(case.algorithm), "{sign:?}");
            assert_eq!(
                report.signing_certificate_matches, case.signing_certificate_matches,
                "{sign:?}"
            );
            // OpenSSL adds a signing-time attribute.
            assert!(report.signing_time_attribute.is_some());
            let mut changed = PART_ONE.to_vec();
            changed[0] ^= 1;
            let changed = verify_detached(&cms_der, &[&changed, PART_TWO]).expect("readable");
            assert!(!changed.intact && !changed.is_verified());
        }
    }

    #[test]
    fn an_ed25519_cms_verifies() {
        // OpenSSL 3.0 cannot make an Ed25519 CMS ("no default digest"), so the
        // CMS is assembled here (RFC 8419 §3: SHA-512 for the message digest,
        // pure Ed25519 over the signed attributes) and only the certificate
        // and the signature value come from openssl.
        let dir = tempfile::tempdir().expect("tempdir");
        let made = openssl(
            dir.path(),
            &["genpkey", "-algorithm", "ED25519", "-out", "key.pem"],
        )
        .and_then(|()| {
            openssl(
                dir.path(),
                &[
                    "req",
                    "-x509",
                    "-new",
                    "-key",
                    "key.pem",
                    "-subj",
                    "/CN=Ed25519 test",
                    "-days",
                    "30",
                    "-outform",
                    "DER",
                    "-out",
                    "cert.der",
                ],
            )
        });
        if made.is_none() {
            eprintln!("openssl is not installed; skipping the Ed25519 test");
            return;
        }
        let certificate_der = std::fs::read(dir.path().join("cert.der")).expect("cert");
        let certificate = Certificate::from_der(&certificate_der).expect("certificate");
        let digest = DigestAlgorithm::Sha512.digest_parts(&[PART_ONE, PART_TWO]);
        let signed_attrs = SetOfVec::try_from(vec![
            attribute(attributes::ID_CONTENT_TYPE, &ID_DATA),
            attribute(
                attributes::ID_MESSAGE_DIGEST,
                &OctetString::new(digest).expect("digest"),
            ),
            crate::cms::ess::signing_certificate_v2(&certificate).expect("ess"),
        ])
        .expect("set");
        std::fs::write(
            dir.path().join("tbs.bin"),
            signed_attrs.to_der().expect("encode"),
        )
        .expect("write");
        openssl(
            dir.path(),
            &[
                "pkeyutl",
                "-sign",
                "-rawin",
                "-inkey",
                "key.pem",
                "-in",
                "tbs.bin",
                "-out",
                "signature.bin",
            ],
        )
        .expect("openssl");
        let signature = std::fs::read(dir.path().join("signature.bin")).expect("signature");
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: certificate.tbs_certificate.issuer.clone(),
                serial_number: certificate.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: algorithms::digest_identifier(DigestAlgorithm::Sha512),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: spki::AlgorithmIdentifierOwned {
                oid: algorithm::ID_ED25519,
                parameters: None,
            },
            signature: OctetString::new(signature).expect("signature"),
            unsigned_attrs: None,
        };
        let report = verify(&wrap(&[certificate_der], vec![signer_info], |_| {}));
        assert!(report.is_verified(), "{:?}", report.problems);
        assert_eq!(
            report.signature_algorithm,
            Some(VerificationAlgorithm::Ed25519)
        );
        assert_eq!(report.digest_algorithm, Some(DigestAlgorithm::Sha512));
    }
}
