//! CMS SignedData for PAdES (RFC 5652, ETSI EN 319 122-1), built from the
//! RustCrypto `cms`, `der` and `x509-cert` types — no hand-written DER.
//!
//! Signing is split in two so the key can live anywhere: [`SignedAttributes::new`]
//! gives the DER bytes a key signs, and [`SignedAttributes::into_signed_data`]
//! wraps a signature value into a detached `ContentInfo`. What every
//! signature by one signer repeats is encoded once, in a
//! [`SignedDataTemplate`].

mod algorithms;
mod certificate;
mod encode;
mod ess;
pub mod verify;

pub use certificate::{CertificateError, CertificateInfo, SignerCertificates};
pub use verify::{
    CmsProblem, CmsReadError, CmsVerification, EssMismatch, verify_detached, verify_signature_value,
};

use crate::crypto::SignatureAlgorithm;
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignedData};
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use der::asn1::{OctetStringRef, SetOf};
use der::{Decode, Encode};
use encode::Encoded;

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
    /// Encoding the signed attributes with two different digests changed
    /// more than the digest's bytes (never expected: DER's order of the
    /// attributes does not depend on the digest).
    #[error("the message digest has no fixed place in the encoded signed attributes")]
    DigestPlacement,
}

fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> CmsError {
    move |source| CmsError::Encoding { what, source }
}

/// What every CMS by one signer with one algorithm repeats, DER-encoded
/// once by the `der` types of [`encode`]: the signed attributes around the
/// message digest, and the fields of ContentInfo, SignedData and SignerInfo
/// around the attributes and the signature value. A signature then copies
/// the digest into the attributes, and the value and five headers into the
/// CMS — re-encoding the nested structures for each signature cost more than
/// the rest of a small document's signature.
#[derive(Debug, Clone)]
pub struct SignedDataTemplate {
    algorithm: SignatureAlgorithm,
    /// The signed attributes as an explicit SET OF, with a zero digest.
    attributes: Vec<u8>,
    /// Where the message digest's bytes sit in `attributes`.
    digest_at: usize,
    /// ContentInfo's contentType, id-signedData.
    content_type: Vec<u8>,
    /// SignedData's version, digestAlgorithms, encapContentInfo and
    /// certificates: everything before signerInfos.
    signed_data_fields: Vec<u8>,
    /// SignerInfo's version, sid and digestAlgorithm: everything before the
    /// signed attributes.
    signer_info_fields: Vec<u8>,
    /// SignerInfo's signatureAlgorithm, between the attributes and the value.
    signature_algorithm: Vec<u8>,
}

impl SignedDataTemplate {
    /// Encodes what signatures of `algorithm` by `signer` repeat.
    pub fn new(
        algorithm: SignatureAlgorithm,
        signer: &SignerCertificates,
    ) -> Result<Self, CmsError> {
        let digest_len = algorithm.digest().output_len();
        let zeros = encode_attributes(&vec![0; digest_len], signer)?;
        let ones = encode_attributes(&vec![0xff; digest_len], signer)?;
        // The digest is all that differs between the two. DER orders the
        // SET OF by the attributes' encodings (X.690 §11.6), which differ in
        // length or OID before any digest byte, so the order never depends on
        // the digest; this checks it.
        let digest_at = zeros
            .iter()
            .zip(&ones)
            .position(|(zero, one)| zero != one)
            .filter(|&at| {
                zeros.len() == ones.len()
                    && zeros.get(at + digest_len..) == ones.get(at + digest_len..)
            })
            .ok_or(CmsError::DigestPlacement)?;
        let digest_algorithm = algorithms::digest_identifier(algorithm.digest());
        let mut signer_info_fields = Vec::new();
        encode::VERSION
            .encode_to_vec(&mut signer_info_fields)
            .and_then(|_| {
                Encoded::new(signer.signer_identifier_der())?.encode_to_vec(&mut signer_info_fields)
            })
            .and_then(|_| digest_algorithm.encode_to_vec(&mut signer_info_fields))
            .map_err(encoding("signer info"))?;
        let signature_algorithm = algorithms::signature_identifier(algorithm)?
            .to_der()
            .map_err(encoding("signature algorithm"))?;
        let mut signed_data_fields = Vec::new();
        encode::VERSION
            .encode_to_vec(&mut signed_data_fields)
            .and_then(|_| {
                SetOf::<_, 1>::try_from([digest_algorithm])?.encode_to_vec(&mut signed_data_fields)
            })
            .and_then(|_| {
                EncapsulatedContentInfo {
                    econtent_type: ID_DATA,
                    econtent: None,
                }
                .encode_to_vec(&mut signed_data_fields)
            })
            .and_then(|_| {
                Encoded::new(signer.certificates_der())?.encode_to_vec(&mut signed_data_fields)
            })
            .map_err(encoding("signed data"))?;
        Ok(Self {
            algorithm,
            attributes: zeros,
            digest_at,
            content_type: ID_SIGNED_DATA.to_der().map_err(encoding("content type"))?,
            signed_data_fields,
            signer_info_fields,
            signature_algorithm,
        })
    }

    /// The signature algorithm.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }
}

/// The signed attributes for `document_digest`, sorted and encoded by the
/// `der` types as an explicit SET OF.
///
/// Per ETSI EN 319 142-1 §6.3 (PAdES baseline): content-type, message-digest
/// and ESS signing-certificate-v2; no signing-time attribute, since PAdES
/// takes the claimed signing time from the signature dictionary's `/M`.
fn encode_attributes(
    document_digest: &[u8],
    signer: &SignerCertificates,
) -> Result<Vec<u8>, CmsError> {
    let mut content_type = [0; ATTRIBUTE_BUFFER];
    let content_type = single_value_attribute(ID_CONTENT_TYPE, &ID_DATA, &mut content_type)?;
    let digest = OctetStringRef::new(document_digest).map_err(encoding("message digest"))?;
    let mut message_digest = [0; ATTRIBUTE_BUFFER];
    let message_digest = single_value_attribute(ID_MESSAGE_DIGEST, &digest, &mut message_digest)?;
    let signing_certificate = Encoded::new(signer.signing_certificate_der())
        .map_err(encoding("signing-certificate-v2"))?;
    let attributes = SetOf::<_, 3>::try_from([content_type, message_digest, signing_certificate])
        .map_err(encoding("signed attributes"))?;
    // RFC 5652 §5.4: the signature is computed over the DER encoding of
    // the attributes as an explicit SET OF, not over the [0] IMPLICIT form.
    attributes.to_der().map_err(encoding("signed attributes"))
}

/// The signed attributes of a PAdES signature, ready to be signed.
#[derive(Debug, Clone)]
pub struct SignedAttributes {
    /// The attributes as an explicit SET OF, DER.
    der: Vec<u8>,
}

/// Room for a content-type or message-digest attribute (a SHA-512 digest's
/// is 79 bytes).
const ATTRIBUTE_BUFFER: usize = 128;

/// The tag of SignerInfo's `signedAttrs [0] IMPLICIT SET OF` (RFC 5652
/// §5.3): context-specific, constructed, number 0.
const SIGNED_ATTRIBUTES_TAG: u8 = 0xa0;

impl SignedAttributes {
    /// Builds the attributes for a document digest made with the template's
    /// digest algorithm.
    pub fn new(document_digest: &[u8], template: &SignedDataTemplate) -> Result<Self, CmsError> {
        let digest_algorithm = template.algorithm.digest();
        if document_digest.len() != digest_algorithm.output_len() {
            return Err(CmsError::DigestLength {
                algorithm: digest_algorithm,
                expected: digest_algorithm.output_len(),
                actual: document_digest.len(),
            });
        }
        let mut der = template.attributes.clone();
        der[template.digest_at..template.digest_at + document_digest.len()]
            .copy_from_slice(document_digest);
        Ok(Self { der })
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
        template: &SignedDataTemplate,
    ) -> Result<Vec<u8>, CmsError> {
        Ok(assemble_signed_data(&self.der, signature_value, template))
    }
}

/// DER identifier octets of the headers assembled per signature (X.690
/// §8.1.2): universal SEQUENCE, SET and OCTET STRING, and ContentInfo's
/// `[0] EXPLICIT` content (context-specific, constructed, number 0).
const SEQUENCE_TAG: u8 = 0x30;
const SET_TAG: u8 = 0x31;
const OCTET_STRING_TAG: u8 = 0x04;
const EXPLICIT_CONTENT_TAG: u8 = 0xa0;

/// A DER header of contents of `length` bytes: its tag, and its length in
/// the short form below 128, else in the long form with the fewest octets
/// (X.690 §8.1.3, §10.1) — what the `der` crate writes, without building a
/// `Header` for each of the six.
#[derive(Debug, Clone, Copy)]
struct Header {
    tag: u8,
    length: usize,
}

impl Header {
    /// Octets of the long form's length, none in the short form.
    fn length_octets(self) -> usize {
        if self.length < 0x80 {
            0
        } else {
            (usize::BITS - self.length.leading_zeros()).div_ceil(8) as usize
        }
    }

    /// Bytes of the header and its contents together.
    fn total(self) -> usize {
        2 + self.length_octets() + self.length
    }

    fn write(self, out: &mut Vec<u8>) {
        out.push(self.tag);
        let be = self.length.to_be_bytes();
        let octets = self.length_octets();
        if octets == 0 {
            out.push(be[be.len() - 1]);
        } else {
            // At most eight octets: the count fits the initial octet's low bits.
            out.push(0x80 | octets as u8);
            out.extend_from_slice(&be[be.len() - octets..]);
        }
    }
}

/// The ContentInfo around `attributes` and `signature_value`: the
/// template's fields as they are, and the headers whose lengths follow from
/// the value's (RFC 5652 §3, §5.1, §5.3).
fn assemble_signed_data(
    attributes: &[u8],
    signature_value: &[u8],
    template: &SignedDataTemplate,
) -> Vec<u8> {
    let value = Header {
        tag: OCTET_STRING_TAG,
        length: signature_value.len(),
    };
    let signer_info = Header {
        tag: SEQUENCE_TAG,
        length: template.signer_info_fields.len()
            + attributes.len()
            + template.signature_algorithm.len()
            + value.total(),
    };
    let signer_infos = Header {
        tag: SET_TAG,
        length: signer_info.total(),
    };
    let signed_data = Header {
        tag: SEQUENCE_TAG,
        length: template.signed_data_fields.len() + signer_infos.total(),
    };
    let explicit = Header {
        tag: EXPLICIT_CONTENT_TAG,
        length: signed_data.total(),
    };
    let content_info = Header {
        tag: SEQUENCE_TAG,
        length: template.content_type.len() + explicit.total(),
    };
    let mut out = Vec::with_capacity(content_info.total());
    content_info.write(&mut out);
    out.extend_from_slice(&template.content_type);
    explicit.write(&mut out);
    signed_data.write(&mut out);
    out.extend_from_slice(&template.signed_data_fields);
    signer_infos.write(&mut out);
    signer_info.write(&mut out);
    out.extend_from_slice(&template.signer_info_fields);
    // The [0] IMPLICIT form differs from the explicit SET OF in its tag only.
    out.push(SIGNED_ATTRIBUTES_TAG);
    out.extend_from_slice(attributes.get(1..).unwrap_or_default());
    out.extend_from_slice(&template.signature_algorithm);
    value.write(&mut out);
    out.extend_from_slice(signature_value);
    out
}

/// The attribute `oid` with the one value `value`, encoded into `buffer`.
fn single_value_attribute<'b>(
    oid: const_oid::ObjectIdentifier,
    value: &impl Encode,
    buffer: &'b mut [u8; ATTRIBUTE_BUFFER],
) -> Result<Encoded<'b>, CmsError> {
    let mut value_buffer = [0; ATTRIBUTE_BUFFER];
    let value = value
        .encode_to_slice(&mut value_buffer)
        .map_err(encoding("attribute value"))?;
    let attribute = encode::SingleValueAttribute {
        oid,
        values: SetOf::try_from([Encoded::new(value).map_err(encoding("attribute value"))?])
            .map_err(encoding("attribute"))?,
    };
    let der = attribute
        .encode_to_slice(buffer)
        .map_err(encoding("attribute"))?;
    Encoded::new(der).map_err(encoding("attribute"))
}

/// The largest DER size a CMS from this template can have: built once with
/// a zero digest and a signature of the key's maximum length. PDF signing
/// sizes its `/Contents` placeholder from it.
pub fn signed_data_size_bound(
    template: &SignedDataTemplate,
    max_signature_len: usize,
) -> Result<usize, CmsError> {
    let digest = vec![0; template.algorithm.digest().output_len()];
    let attributes = SignedAttributes::new(&digest, template)?;
    // A DER signature value longer than 127 bytes may change its length
    // octets; the maximum-length value gives the largest encoding.
    let der = attributes.into_signed_data(&vec![0xff; max_signature_len], template)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::{CertificateAuthority, KeyAlgorithm, LeafKey};
    use cms::cert::IssuerAndSerialNumber;
    use cms::content_info::CmsVersion;
    use cms::signed_data::{CertificateSet, SignerIdentifier, SignerInfo, SignerInfos};
    use der::Any;
    use der::asn1::{OctetString, SetOfVec};
    use std::time::{Duration, SystemTime};
    use x509_cert::Certificate;
    use x509_cert::attr::Attribute;

    /// A signer certificate and its issuer, DER.
    fn chain() -> Vec<Vec<u8>> {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let root = CertificateAuthority::new_root("Root", "tests", now).expect("root");
        let unit = crate::units::demo_province().units()[0].clone();
        let certified = root
            .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::EcdsaP256), now)
            .expect("leaf");
        vec![certified.certificate_der, root.certificate_der().to_vec()]
    }

    /// A signed attribute with one value, for tests building CMS by hand.
    pub(super) fn attribute(
        oid: const_oid::ObjectIdentifier,
        value: &(impl der::EncodeValue + der::Tagged),
    ) -> Attribute {
        Attribute {
            oid,
            values: SetOfVec::try_from(vec![Any::encode_from(value).expect("value")])
                .expect("values"),
        }
    }

    /// The CMS as the `cms` and `x509-cert` crates' owned types build it.
    fn reference_cms(
        digest: &[u8],
        algorithm: SignatureAlgorithm,
        chain: &[Vec<u8>],
        signature_value: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let certificates: Vec<Certificate> = chain
            .iter()
            .map(|der| Certificate::from_der(der).expect("certificate"))
            .collect();
        let signer = &certificates[0];
        let attributes = SetOfVec::try_from(vec![
            attribute(ID_CONTENT_TYPE, &ID_DATA),
            attribute(
                ID_MESSAGE_DIGEST,
                &OctetString::new(digest).expect("digest"),
            ),
            ess::signing_certificate_v2(signer).expect("ess"),
        ])
        .expect("attributes");
        let digest_algorithm = algorithms::digest_identifier(algorithm.digest());
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: signer.tbs_certificate.issuer.clone(),
                serial_number: signer.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: digest_algorithm.clone(),
            signed_attrs: Some(attributes.clone()),
            signature_algorithm: algorithms::signature_identifier(algorithm).expect("algorithm"),
            signature: OctetString::new(signature_value).expect("value"),
            unsigned_attrs: None,
        };
        let choices = certificates
            .iter()
            .map(|c| cms::cert::CertificateChoices::Certificate(c.clone()))
            .collect::<Vec<_>>();
        let signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![digest_algorithm]).expect("digests"),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent: None,
            },
            certificates: Some(CertificateSet::try_from(choices).expect("certificates")),
            crls: None,
            signer_infos: SignerInfos::try_from(vec![signer_info]).expect("signer infos"),
        };
        let content_info = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).expect("signed data"),
        };
        (
            attributes.to_der().expect("attributes"),
            content_info.to_der().expect("content info"),
        )
    }

    #[test]
    fn the_cms_is_byte_for_byte_what_the_cms_crate_types_encode() {
        let chain = chain();
        let signer = SignerCertificates::from_der_chain(&chain).expect("signer");
        for algorithm in [
            SignatureAlgorithm::RsaPkcs1Sha256,
            SignatureAlgorithm::RsaPssSha256,
            SignatureAlgorithm::EcdsaP256Sha256,
            SignatureAlgorithm::EcdsaP384Sha384,
        ] {
            let digest: Vec<u8> = (0..algorithm.digest().output_len() as u8).collect();
            for value_len in [70, 72, 256, 512] {
                let value = vec![0xa5; value_len];
                let template = SignedDataTemplate::new(algorithm, &signer).expect("template");
                let attributes = SignedAttributes::new(&digest, &template).expect("new");
                let (to_be_signed, cms) = reference_cms(&digest, algorithm, &chain, &value);
                assert_eq!(attributes.to_be_signed(), to_be_signed, "{algorithm}");
                let built = attributes
                    .into_signed_data(&value, &template)
                    .expect("signed data");
                assert_eq!(built, cms, "{algorithm}, {value_len}-byte value");
                decode_signed_data(&built).expect("decodes as the cms crate's SignedData");
            }
        }
    }

    #[test]
    fn a_digest_of_the_wrong_length_is_refused() {
        let signer = SignerCertificates::from_der_chain(&chain()).expect("signer");
        let template = SignedDataTemplate::new(SignatureAlgorithm::EcdsaP256Sha256, &signer)
            .expect("template");
        let refused = SignedAttributes::new(&[0; 20], &template);
        assert!(matches!(refused, Err(CmsError::DigestLength { .. })));
    }
}
