//! ESS signing-certificate-v2 (RFC 5035 §3), which binds the signer
//! certificate into the signed attributes (required by PAdES baseline).

use super::{CmsError, encoding};
use const_oid::db::rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode, Sequence};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
#[derive(Debug, Clone, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// ESSCertIDv2 with the hash algorithm left at its DEFAULT (SHA-256), which
/// DER requires to be omitted.
#[derive(Debug, Clone, Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

/// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies OPTIONAL }
#[derive(Debug, Clone, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// The signing-certificate-v2 attribute for `signer`.
pub(super) fn signing_certificate_v2(signer: &Certificate) -> Result<Attribute, CmsError> {
    let certificate_der = signer.to_der().map_err(encoding("signer certificate"))?;
    let hash = crate::crypto::DigestAlgorithm::Sha256.digest(&certificate_der);
    let value = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(hash).map_err(encoding("certificate hash"))?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    signer.tbs_certificate.issuer.clone(),
                )],
                serial_number: signer.tbs_certificate.serial_number.clone(),
            },
        }],
    };
    let value = Any::encode_from(&value).map_err(encoding("signing-certificate-v2"))?;
    Ok(Attribute {
        oid: ID_AA_SIGNING_CERTIFICATE_V_2,
        values: SetOfVec::try_from(vec![value]).map_err(encoding("signing-certificate-v2"))?,
    })
}
