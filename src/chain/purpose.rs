//! What a signer certificate must be good for: its extended key usage
//! (checked by webpki along the whole path) and its key usage (checked here,
//! since webpki ignores keyUsage in end-entity certificates).

use der::asn1::ObjectIdentifier;
use webpki::{ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter};

use super::error::ChainError;

/// id-kp-documentSigning (RFC 9336).
const DOCUMENT_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.36");
/// id-kp-emailProtection (RFC 5280 §4.2.1.12): S/MIME and CMS signing keys,
/// which most national and commercial CAs issue for document signing.
const EMAIL_PROTECTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
/// Adobe Authentic Documents Trust (AATL) document signing.
const ADOBE_DOCUMENT_SIGNING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.5");

/// The purposes a path is validated for (RFC 5280 §4.2.1.12).
///
/// A certificate without an extendedKeyUsage extension serves any purpose.
/// A certificate with one must list at least one of the purpose's key
/// purposes; this holds for the signer and, as in Mozilla's and webpki's
/// practice, for every intermediate and for the trust anchor, so that a CA
/// restricted to TLS cannot vouch for document signers.
/// anyExtendedKeyUsage (2.5.29.37.0) alone does not satisfy a purpose: RFC
/// 5280 §4.2.1.12 lets applications that need a particular purpose refuse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose {
    key_purposes: Vec<ObjectIdentifier>,
    any: bool,
}

impl Purpose {
    /// Document signing: id-kp-documentSigning, id-kp-emailProtection or
    /// Adobe's document-signing purpose. A certificate whose EKU lists only
    /// serverAuth, clientAuth, timeStamping, codeSigning … is refused.
    pub fn document_signing() -> Self {
        Purpose {
            key_purposes: vec![DOCUMENT_SIGNING, EMAIL_PROTECTION, ADOBE_DOCUMENT_SIGNING],
            any: false,
        }
    }

    /// A purpose given as dotted key-purpose OIDs (e.g. `1.3.6.1.5.5.7.3.8`
    /// for timeStamping); at least one must be listed when a certificate has
    /// an EKU extension.
    pub fn key_purposes(oids: &[&str]) -> Result<Self, ChainError> {
        let key_purposes = oids
            .iter()
            .map(|oid| {
                ObjectIdentifier::new(oid).map_err(|error| ChainError::Malformed {
                    reason: format!("key purpose {oid:?} is not an OID: {error}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Purpose {
            key_purposes,
            any: false,
        })
    }

    /// Accepts any extendedKeyUsage: skips the purpose check entirely. For
    /// conformance suites that validate without a purpose; never for
    /// verifying documents.
    pub fn dangerous_any() -> Self {
        Purpose {
            key_purposes: Vec::new(),
            any: true,
        }
    }

    /// Whether a certificate with these EKU purposes (None: no extension)
    /// may serve this purpose.
    pub(super) fn allows(&self, extended_key_usage: Option<&[ObjectIdentifier]>) -> bool {
        match extended_key_usage {
            None => true,
            Some(listed) => self.any || listed.iter().any(|oid| self.key_purposes.contains(oid)),
        }
    }

    /// The EKU check webpki runs on every certificate of a candidate path.
    pub(super) fn validator(&self) -> EkuValidator<'_> {
        EkuValidator(self)
    }
}

/// [`Purpose`] as webpki's per-certificate EKU check.
pub(super) struct EkuValidator<'a>(&'a Purpose);

impl ExtendedKeyUsageValidator for EkuValidator<'_> {
    // RFC 5280 §4.2.1.12; webpki has already refused an empty EKU extension.
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        let mut empty = true;
        for listed in iter {
            empty = false;
            let listed = listed?;
            if self.0.any
                || self
                    .0
                    .key_purposes
                    .iter()
                    .any(|wanted| KeyPurposeId::new(wanted.as_bytes()) == listed)
            {
                return Ok(());
            }
        }
        match empty {
            true => Ok(()),
            // The context-carrying variant needs a 'static OID; kyso maps both
            // to ChainConstraints (ExtendedKeyUsage) anyway.
            #[allow(deprecated)]
            false => Err(webpki::Error::RequiredEkuNotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
    const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
    const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

    #[test]
    fn a_certificate_without_extended_key_usage_may_sign_documents() {
        assert!(Purpose::document_signing().allows(None));
    }

    #[test]
    fn each_document_signing_purpose_is_accepted() {
        for oid in [DOCUMENT_SIGNING, EMAIL_PROTECTION, ADOBE_DOCUMENT_SIGNING] {
            assert!(Purpose::document_signing().allows(Some(&[SERVER_AUTH, oid])));
        }
    }

    #[test]
    fn server_authentication_or_time_stamping_alone_cannot_sign_documents() {
        let purpose = Purpose::document_signing();
        assert!(!purpose.allows(Some(&[SERVER_AUTH])));
        assert!(!purpose.allows(Some(&[TIME_STAMPING])));
    }

    #[test]
    fn any_extended_key_usage_alone_is_not_document_signing() {
        assert!(!Purpose::document_signing().allows(Some(&[ANY_EXTENDED_KEY_USAGE])));
        assert!(Purpose::dangerous_any().allows(Some(&[ANY_EXTENDED_KEY_USAGE])));
    }

    #[test]
    fn adobe_purpose_has_the_registered_encoding() {
        // 1.2.840.113583.1.1.5 as DER contents, independently encoded.
        let expected = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x2f, 0x01, 0x01, 0x05];
        assert_eq!(ADOBE_DOCUMENT_SIGNING.as_bytes(), expected);
    }

    #[test]
    fn a_key_purpose_that_is_not_an_oid_is_refused() {
        assert!(Purpose::key_purposes(&["server auth"]).is_err());
        assert!(Purpose::key_purposes(&["1.3.6.1.5.5.7.3.8"]).is_ok());
    }
}
