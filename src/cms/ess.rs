//! ESS signing-certificate-v2 (RFC 5035 §3), which binds the signer
//! certificate into the signed attributes (required by PAdES baseline).

use super::verify::ess::{EssCertIdV2, IssuerSerial, SigningCertificateV2};
use super::{CmsError, encoding};
use const_oid::db::rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;

/// The signing-certificate-v2 attribute for `signer`.
pub(super) fn signing_certificate_v2(signer: &Certificate) -> Result<Attribute, CmsError> {
    let certificate_der = signer.to_der().map_err(encoding("signer certificate"))?;
    let hash = crate::crypto::DigestAlgorithm::Sha256.digest(&certificate_der);
    // hashAlgorithm is left at its DEFAULT (SHA-256), which DER omits.
    let value = SigningCertificateV2 {
        policies: None,
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(hash).map_err(encoding("certificate hash"))?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    signer.tbs_certificate.issuer.clone(),
                )],
                serial_number: signer.tbs_certificate.serial_number.clone(),
            }),
        }],
    };
    let value = Any::encode_from(&value).map_err(encoding("signing-certificate-v2"))?;
    Ok(Attribute {
        oid: ID_AA_SIGNING_CERTIFICATE_V_2,
        values: SetOfVec::try_from(vec![value]).map_err(encoding("signing-certificate-v2"))?,
    })
}
