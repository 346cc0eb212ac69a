//! CMS SignedData for PAdES (RFC 5652, ETSI EN 319 122-1), built from the
//! RustCrypto `cms`, `der` and `x509-cert` types — no hand-written DER.
//!
//! Signing is split in two so the key can live anywhere: [`SignedAttributes::new`]
//! gives the DER bytes a key signs, and [`SignedAttributes::into_signed_data`]
//! wraps a signature value into a detached `ContentInfo`.

mod algorithms;
mod certificate;
mod ess;
pub mod verify;

pub use certificate::{CertificateError, CertificateInfo, SignerCertificates};
pub use verify::{
    CmsProblem, CmsReadError, CmsVerification, EssMismatch, verify_detached, verify_signature_value,
};

use crate::crypto::SignatureAlgorithm;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use x509_cert::attr::Attribute;

/// What can go wrong while building CMS structures.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    /// A value could not be DER-encoded (it would exceed DER's limits).
    #[error("could not DER-encode the {what}: {source}")]
    Encoding {
        /// Which structure failed.
        what: &'static str,
        /// The der crate's error.
        source: der::Error,
    },
    /// The message digest's length does not fit the digest algorithm.
    #[error("a {algorithm} digest has {expected} bytes, not {actual}")]
    DigestLength {
        /// The signer's digest algorithm.
        algorithm: crate::crypto::DigestAlgorithm,
        /// Bytes the algorithm produces.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
}

fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> CmsError {
    move |source| CmsError::Encoding { what, source }
}

/// The signed attributes of a PAdES signature, ready to be signed.
///
/// Per ETSI EN 319 142-1 §6.3 (PAdES baseline): content-type, message-digest
/// and ESS signing-certificate-v2; no signing-time attribute, since PAdES
/// takes the claimed signing time from the signature dictionary's `/M`.
#[derive(Debug, Clone)]
pub struct SignedAttributes {
    attributes: SetOfVec<Attribute>,
    der: Vec<u8>,
    algorithm: SignatureAlgorithm,
}

impl SignedAttributes {
    /// Builds the attributes for a document digest made with the signer's
    /// digest algorithm.
    pub fn new(
        document_digest: &[u8],
        algorithm: SignatureAlgorithm,
        signer: &SignerCertificates,
    ) -> Result<Self, CmsError> {
        let digest_algorithm = algorithm.digest();
        if document_digest.len() != digest_algorithm.output_len() {
            return Err(CmsError::DigestLength {
                algorithm: digest_algorithm,
                expected: digest_algorithm.output_len(),
                actual: document_digest.len(),
            });
        }
        let content_type = attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA))?;
        let digest = OctetString::new(document_digest).map_err(encoding("message digest"))?;
        let message_digest = attribute(ID_MESSAGE_DIGEST, Any::encode_from(&digest))?;
        let signing_certificate = signer.signing_certificate().clone();
        let attributes =
            SetOfVec::try_from(vec![content_type, message_digest, signing_certificate])
                .map_err(encoding("signed attributes"))?;
        // RFC 5652 §5.4: the signature is computed over the DER encoding of
        // the attributes as an explicit SET OF, not over the [0] IMPLICIT form.
        let der = attributes.to_der().map_err(encoding("signed attributes"))?;
        Ok(Self {
            attributes,
            der,
            algorithm,
        })
    }

    /// The exact bytes the signer signs.
    pub fn to_be_signed(&self) -> &[u8] {
        &self.der
    }

    /// Wraps the signature value into a detached CMS `ContentInfo` carrying
    /// the signer certificate and its intermediates; returns its DER.
    pub fn into_signed_data(
        self,
        signature_value: &[u8],
        signer: &SignerCertificates,
    ) -> Result<Vec<u8>, CmsError> {
        let digest_algorithm = algorithms::digest_identifier(self.algorithm.digest());
        let certificate = signer.signer();
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: certificate.tbs_certificate.issuer.clone(),
                serial_number: certificate.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: digest_algorithm.clone(),
            signed_attrs: Some(self.attributes),
            signature_algorithm: algorithms::signature_identifier(self.algorithm)?,
            signature: OctetString::new(signature_value).map_err(encoding("signature value"))?,
            unsigned_attrs: None,
        };
        let signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![digest_algorithm])
                .map_err(encoding("digest algorithms"))?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent: None,
            },
            certificates: Some(signer.certificate_set().clone()),
            crls: None,
            signer_infos: SignerInfos::try_from(vec![signer_info])
                .map_err(encoding("signer infos"))?,
        };
        let content_info = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).map_err(encoding("signed data"))?,
        };
        content_info.to_der().map_err(encoding("content info"))
    }
}

fn attribute(
    oid: const_oid::ObjectIdentifier,
    value: Result<Any, der::Error>,
) -> Result<Attribute, CmsError> {
    let value = value.map_err(encoding("attribute value"))?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(encoding("attribute"))?,
    })
}

/// The largest DER size a CMS from this signer can have: built once with a
/// zero digest and a signature of the key's maximum length. PDF signing sizes
/// its `/Contents` placeholder from it.
pub fn signed_data_size_bound(
    algorithm: SignatureAlgorithm,
    max_signature_len: usize,
    signer: &SignerCertificates,
) -> Result<usize, CmsError> {
    let digest = vec![0; algorithm.digest().output_len()];
    let attributes = SignedAttributes::new(&digest, algorithm, signer)?;
    // A DER signature value longer than 127 bytes may change its length
    // octets; the maximum-length value gives the largest encoding.
    let der = attributes.into_signed_data(&vec![0xff; max_signature_len], signer)?;
    Ok(der.len())
}

/// Decodes a CMS `ContentInfo` to check its shape (used by tests and, later,
/// by verification).
pub fn decode_signed_data(der_bytes: &[u8]) -> Result<SignedData, der::Error> {
    let content_info = ContentInfo::from_der(der_bytes)?;
    if content_info.content_type != ID_SIGNED_DATA {
        return Err(der::Tag::Sequence.value_error());
    }
    content_info.content.decode_as::<SignedData>()
}
