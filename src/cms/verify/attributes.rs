//! Reading the signed and unsigned attributes of a SignerInfo: each attribute
//! kyso relies on must occur once with one value (RFC 5652 §5.3, §11).

use super::ess::{ID_AA_SIGNING_CERTIFICATE, ID_AA_SIGNING_CERTIFICATE_V2};
use super::{CmsProblem, Problems};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Any, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use std::time::SystemTime;
use x509_cert::attr::Attributes;
use x509_cert::time::Time;

/// content-type (RFC 5652 §11.1).
pub(super) const ID_CONTENT_TYPE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// message-digest (RFC 5652 §11.2).
pub(super) const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// signing-time (RFC 5652 §11.3).
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// CMSAlgorithmProtection (RFC 6211 §2).
const ID_CMS_ALGORITHM_PROTECTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.52");
/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A), an unsigned attribute.
const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// CMSAlgorithmProtection (RFC 6211 §2).
#[derive(Debug, Clone, Sequence)]
pub(super) struct AlgorithmProtection {
    pub(super) digest_algorithm: AlgorithmIdentifierOwned,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub(super) signature_algorithm: Option<AlgorithmIdentifierOwned>,
    #[asn1(
        context_specific = "2",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub(super) mac_algorithm: Option<AlgorithmIdentifierOwned>,
}

/// The signed attributes verification looks at, each read once.
#[derive(Debug, Default)]
pub(super) struct SignedAttributeValues<'a> {
    pub(super) content_type: Option<ObjectIdentifier>,
    pub(super) message_digest: Option<OctetString>,
    pub(super) signing_time: Option<SystemTime>,
    /// ESS signing-certificate-v2 and/or v1, with the attribute type.
    pub(super) signing_certificates: Vec<(ObjectIdentifier, &'a Any)>,
    pub(super) algorithm_protection: Option<AlgorithmProtection>,
}

/// Reads the signed attributes, recording what is missing, repeated or
/// malformed. content-type and message-digest are required whenever signed
/// attributes are present (RFC 5652 §5.3).
pub(super) fn read<'a>(
    attributes: &'a Attributes,
    problems: &mut Problems,
) -> SignedAttributeValues<'a> {
    let mut values = SignedAttributeValues::default();
    for required in [ID_CONTENT_TYPE, ID_MESSAGE_DIGEST] {
        if !attributes.iter().any(|attribute| attribute.oid == required) {
            problems.record(CmsProblem::MissingAttribute { oid: required });
        }
    }
    values.content_type = single(attributes, ID_CONTENT_TYPE, problems)
        .and_then(|value| decoded(ID_CONTENT_TYPE, value, problems));
    values.message_digest = single(attributes, ID_MESSAGE_DIGEST, problems)
        .and_then(|value| decoded(ID_MESSAGE_DIGEST, value, problems));
    values.signing_time = single(attributes, ID_SIGNING_TIME, problems)
        .and_then(|value| decoded::<Time>(ID_SIGNING_TIME, value, problems))
        .map(|time| time.to_system_time());
    // RFC 5035 §5 and RFC 2634 §5.4: one instance each; when both are
    // present both are checked.
    for oid in [ID_AA_SIGNING_CERTIFICATE_V2, ID_AA_SIGNING_CERTIFICATE] {
        if let Some(value) = single(attributes, oid, problems) {
            values.signing_certificates.push((oid, value));
        }
    }
    values.algorithm_protection = single(attributes, ID_CMS_ALGORITHM_PROTECTION, problems)
        .and_then(|value| decoded(ID_CMS_ALGORITHM_PROTECTION, value, problems));
    values
}

/// The value of the attribute `oid` when it occurs exactly once with exactly
/// one value; `None` when absent, and a recorded problem when repeated or
/// multi-valued (RFC 5652 §11.1–§11.3 forbid both).
fn single<'a>(
    attributes: &'a Attributes,
    oid: ObjectIdentifier,
    problems: &mut Problems,
) -> Option<&'a Any> {
    let mut matching = attributes.iter().filter(|attribute| attribute.oid == oid);
    let attribute = matching.next()?;
    let repeated = matching.count();
    if repeated > 0 {
        problems.record(CmsProblem::RepeatedAttribute {
            oid,
            count: repeated.saturating_add(1),
        });
        return None;
    }
    match attribute.values.as_slice() {
        [value] => Some(value),
        values => {
            problems.record(CmsProblem::AttributeValueCount {
                oid,
                count: values.len(),
            });
            None
        }
    }
}

/// Decodes an attribute value (through its DER, since some value types, like
/// `Time`, are CHOICEs).
fn decoded<T: der::DecodeOwned>(
    oid: ObjectIdentifier,
    value: &Any,
    problems: &mut Problems,
) -> Option<T> {
    value
        .to_der()
        .and_then(|der_bytes| T::from_der(&der_bytes))
        .map_err(|error| problems.record(CmsProblem::MalformedAttribute { oid, error }))
        .ok()
}

/// The DER of each signature-time-stamp token among the unsigned attributes
/// (PAdES B-T), for the time-stamp verifier; they are not checked here.
pub(super) fn time_stamp_tokens(unsigned: Option<&Attributes>) -> Vec<Vec<u8>> {
    unsigned
        .into_iter()
        .flat_map(|attributes| attributes.iter())
        .filter(|attribute| attribute.oid == ID_AA_SIGNATURE_TIME_STAMP_TOKEN)
        .flat_map(|attribute| attribute.values.iter())
        .filter_map(|value| value.to_der().ok())
        .collect()
}
