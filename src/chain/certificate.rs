//! The few certificate facts webpki does not expose, read with x509-cert:
//! subjects as RFC 4514 text, validity ends and extension values.

use std::time::SystemTime;

use der::oid::AssociatedOid;
use der::{Decode, asn1::ObjectIdentifier};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{
    BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, NameConstraints,
    PolicyConstraints,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use super::ChainError;

/// A parsed certificate with the facts path validation asks about.
pub(super) struct Facts {
    certificate: Certificate,
}

impl Facts {
    /// Parses a DER certificate (RFC 5280 §4.1); `role` names it in errors.
    pub(super) fn parse(der: &[u8], role: &str) -> Result<Self, ChainError> {
        Certificate::from_der(der)
            .map(|certificate| Facts { certificate })
            .map_err(|error| ChainError::Malformed {
                reason: format!("{role} is not a DER X.509 certificate: {error}"),
            })
    }

    /// The subject distinguished name as RFC 4514 text.
    pub(super) fn subject(&self) -> String {
        self.certificate.tbs_certificate.subject.to_string()
    }

    /// Whether the subject is an empty sequence (RFC 5280 §4.1.2.6).
    pub(super) fn subject_is_empty(&self) -> bool {
        self.certificate.tbs_certificate.subject.is_empty()
    }

    /// Whether the serial number is greater than zero (RFC 5280 §4.1.2.2).
    pub(super) fn serial_is_positive(&self) -> bool {
        let bytes = self.certificate.tbs_certificate.serial_number.as_bytes();
        let negative = bytes.first().is_some_and(|first| first & 0x80 != 0);
        !negative && bytes.iter().any(|byte| *byte != 0)
    }

    /// The issuer distinguished name (RFC 5280 §4.1.2.4).
    pub(super) fn issuer(&self) -> &Name {
        &self.certificate.tbs_certificate.issuer
    }

    /// The serial number (RFC 5280 §4.1.2.2).
    pub(super) fn serial(&self) -> &SerialNumber {
        &self.certificate.tbs_certificate.serial_number
    }

    /// Whether subject and issuer are the same name: a self-issued
    /// certificate (RFC 5280 §3.2, §6.1).
    pub(super) fn is_self_issued(&self) -> bool {
        let tbs = &self.certificate.tbs_certificate;
        tbs.subject == tbs.issuer
    }

    /// notBefore (RFC 5280 §4.1.2.5).
    pub(super) fn not_before(&self) -> SystemTime {
        self.certificate
            .tbs_certificate
            .validity
            .not_before
            .to_system_time()
    }

    /// notAfter (RFC 5280 §4.1.2.5).
    pub(super) fn not_after(&self) -> SystemTime {
        self.certificate
            .tbs_certificate
            .validity
            .not_after
            .to_system_time()
    }

    /// The subject public key (RFC 5280 §4.1.2.7).
    pub(super) fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.certificate.tbs_certificate.subject_public_key_info
    }

    /// The keyUsage extension (RFC 5280 §4.2.1.3), if present.
    pub(super) fn key_usage(&self) -> Result<Option<KeyUsage>, ChainError> {
        self.extension::<KeyUsage>()
            .map(|found| found.map(|(_, usage)| usage))
    }

    /// The extendedKeyUsage purposes (RFC 5280 §4.2.1.12), if the extension
    /// is present.
    pub(super) fn extended_key_usage(&self) -> Result<Option<Vec<ObjectIdentifier>>, ChainError> {
        self.extension::<ExtendedKeyUsage>()
            .map(|found| found.map(|(_, usage)| usage.0))
    }

    /// The basicConstraints extension (RFC 5280 §4.2.1.9) and whether it is
    /// critical, if present.
    pub(super) fn basic_constraints(&self) -> Result<Option<(bool, BasicConstraints)>, ChainError> {
        self.extension::<BasicConstraints>()
    }

    /// The nameConstraints extension (RFC 5280 §4.2.1.10), if present.
    pub(super) fn name_constraints(&self) -> Result<Option<NameConstraints>, ChainError> {
        self.extension::<NameConstraints>()
            .map(|found| found.map(|(_, value)| value))
    }

    /// The cRLDistributionPoints extension (RFC 5280 §4.2.1.13), if present.
    pub(super) fn crl_distribution_points(
        &self,
    ) -> Result<Option<CrlDistributionPoints>, ChainError> {
        self.extension::<CrlDistributionPoints>()
            .map(|found| found.map(|(_, value)| value))
    }

    /// The policyConstraints extension (RFC 5280 §4.2.1.11), if present.
    pub(super) fn policy_constraints(&self) -> Result<Option<PolicyConstraints>, ChainError> {
        self.extension::<PolicyConstraints>()
            .map(|found| found.map(|(_, value)| value))
    }

    /// Whether the certificate is X.509 version 3 (the only version with
    /// extensions, RFC 5280 §4.1.2.1).
    pub(super) fn is_v3(&self) -> bool {
        self.certificate.tbs_certificate.version == x509_cert::certificate::Version::V3
    }

    /// The first extension of type `T` and its criticality. Duplicates are
    /// refused by webpki (RFC 5280 §4.2: at most one instance per extension).
    fn extension<T: AssociatedOid + for<'a> Decode<'a>>(
        &self,
    ) -> Result<Option<(bool, T)>, ChainError> {
        let extensions = self.certificate.tbs_certificate.extensions.iter().flatten();
        let Some(extension) = extensions.into_iter().find(|ext| ext.extn_id == T::OID) else {
            return Ok(None);
        };
        T::from_der(extension.extn_value.as_bytes())
            .map(|value| Some((extension.critical, value)))
            .map_err(|error| ChainError::Malformed {
                reason: format!("extension {} does not decode: {error}", T::OID),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_a_certificate_are_malformed() {
        let refused = Facts::parse(b"not a certificate", "signer");
        assert!(
            matches!(refused, Err(ChainError::Malformed { reason }) if reason.starts_with("signer"))
        );
    }
}
