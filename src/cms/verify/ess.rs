//! The ESS signing-certificate attributes, v1 (RFC 2634 §5.4) and v2
//! (RFC 5035 §3), checked against the signer certificate: they bind the
//! certificate into the signed attributes, so that a different certificate
//! with the same key (or the same issuer and serial) cannot be substituted.

use super::algorithm::{ID_SHA1, digest_algorithm};
use super::{CmsProblem, EssMismatch};
use crate::crypto::{self, DigestAlgorithm};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Any, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// id-aa-signingCertificate (RFC 2634 §5.4).
pub(super) const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// id-aa-signingCertificateV2 (RFC 5035 §3).
pub(super) const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
#[derive(Debug, Clone, Sequence)]
pub(in crate::cms) struct IssuerSerial {
    pub(in crate::cms) issuer: Vec<GeneralName>,
    pub(in crate::cms) serial_number: SerialNumber,
}

/// ESSCertIDv2 (RFC 5035 §4): hashAlgorithm DEFAULT id-sha256.
#[derive(Debug, Clone, Sequence)]
pub(in crate::cms) struct EssCertIdV2 {
    pub(in crate::cms) hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub(in crate::cms) cert_hash: OctetString,
    pub(in crate::cms) issuer_serial: Option<IssuerSerial>,
}

/// SigningCertificateV2 (RFC 5035 §3).
#[derive(Debug, Clone, Sequence)]
pub(in crate::cms) struct SigningCertificateV2 {
    pub(in crate::cms) certs: Vec<EssCertIdV2>,
    pub(in crate::cms) policies: Option<Any>,
}

/// ESSCertID (RFC 2634 §5.4.1): the hash is SHA-1.
#[derive(Debug, Clone, Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    issuer_serial: Option<IssuerSerial>,
}

/// SigningCertificate (RFC 2634 §5.4).
#[derive(Debug, Clone, Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    policies: Option<Any>,
}

/// How the certificate hash was made.
#[derive(Debug, Clone, Copy)]
enum CertificateHash {
    Sha2(DigestAlgorithm),
    /// ESS v1, or a v2 that names SHA-1: acceptable to match a certificate the
    /// chain check verifies anyway, not for signatures.
    LegacySha1,
}

/// Checks one signing-certificate(-v2) attribute value against the signer
/// certificate (`signer_der`: its bytes as embedded, which are hashed).
///
/// Only the first ESSCertID is the signer's (RFC 5035 §3, RFC 2634 §5.4:
/// "the first certificate identified … MUST be the certificate used to verify
/// the signature"); the others may name its issuers and are not checked.
pub(super) fn check(
    attribute: ObjectIdentifier,
    value: &Any,
    signer_der: &[u8],
    signer: &Certificate,
) -> Result<(), CmsProblem> {
    let malformed = |error| CmsProblem::MalformedAttribute {
        oid: attribute,
        error,
    };
    let (hash, cert_hash, issuer_serial) = if attribute == ID_AA_SIGNING_CERTIFICATE_V2 {
        let decoded: SigningCertificateV2 = value.decode_as().map_err(malformed)?;
        let first = decoded
            .certs
            .into_iter()
            .next()
            .ok_or(mismatch(attribute, EssMismatch::NoCertificate))?;
        let hash = match &first.hash_algorithm {
            None => CertificateHash::Sha2(DigestAlgorithm::Sha256),
            Some(identifier) if identifier.oid == ID_SHA1 => CertificateHash::LegacySha1,
            Some(identifier) => CertificateHash::Sha2(digest_algorithm(identifier)?),
        };
        (hash, first.cert_hash, first.issuer_serial)
    } else {
        let decoded: SigningCertificate = value.decode_as().map_err(malformed)?;
        let first = decoded
            .certs
            .into_iter()
            .next()
            .ok_or(mismatch(attribute, EssMismatch::NoCertificate))?;
        (
            CertificateHash::LegacySha1,
            first.cert_hash,
            first.issuer_serial,
        )
    };
    let computed = match hash {
        CertificateHash::Sha2(digest) => digest.digest(signer_der),
        CertificateHash::LegacySha1 => crypto::legacy_sha1_digest(signer_der),
    };
    if computed != cert_hash.as_bytes() {
        return Err(mismatch(attribute, EssMismatch::Hash));
    }
    match issuer_serial {
        Some(issuer_serial) if !names_certificate(&issuer_serial, signer) => {
            Err(mismatch(attribute, EssMismatch::IssuerSerial))
        }
        _ => Ok(()),
    }
}

fn mismatch(attribute: ObjectIdentifier, reason: EssMismatch) -> CmsProblem {
    CmsProblem::SigningCertificateMismatch { attribute, reason }
}

/// True when `issuer_serial` names `certificate`: the same serial, and an
/// issuer made only of directory names equal (by DER) to the certificate's
/// issuer (RFC 5035 §4: "the issuer name of the certificate").
fn names_certificate(issuer_serial: &IssuerSerial, certificate: &Certificate) -> bool {
    let tbs = &certificate.tbs_certificate;
    let Ok(issuer) = tbs.issuer.to_der() else {
        return false;
    };
    issuer_serial.serial_number == tbs.serial_number
        && !issuer_serial.issuer.is_empty()
        && issuer_serial.issuer.iter().all(|name| match name {
            GeneralName::DirectoryName(name) => name.to_der().is_ok_and(|der| der == issuer),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::{CertificateAuthority, KeyAlgorithm, LeafKey};
    use crate::units::demo_province;
    use der::Decode;
    use std::time::{Duration, SystemTime};

    fn certificate() -> (Vec<u8>, Certificate) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_790_923);
        let root = CertificateAuthority::new_root("Test Root", "kyso", now).expect("root");
        let unit = demo_province().units()[0].clone();
        let certified = root
            .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::EcdsaP256), now)
            .expect("issue");
        let parsed = Certificate::from_der(&certified.certificate_der).expect("parse");
        (certified.certificate_der, parsed)
    }

    fn issuer_serial(certificate: &Certificate, serial: &[u8]) -> IssuerSerial {
        IssuerSerial {
            issuer: vec![GeneralName::DirectoryName(
                certificate.tbs_certificate.issuer.clone(),
            )],
            serial_number: SerialNumber::new(serial).expect("serial"),
        }
    }

    fn v2(
        hash_algorithm: Option<AlgorithmIdentifierOwned>,
        hash: Vec<u8>,
        issuer_serial: Option<IssuerSerial>,
    ) -> Any {
        let certs = vec![EssCertIdV2 {
            hash_algorithm,
            cert_hash: OctetString::new(hash).expect("hash"),
            issuer_serial,
        }];
        Any::encode_from(&SigningCertificateV2 {
            certs,
            policies: None,
        })
        .expect("encode")
    }

    fn sha(oid: &str) -> Option<AlgorithmIdentifierOwned> {
        Some(AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap(oid),
            parameters: None,
        })
    }

    #[test]
    fn v2_with_the_signer_hash_and_issuer_serial_matches() {
        let (der_bytes, certificate) = certificate();
        let serial = certificate
            .tbs_certificate
            .serial_number
            .as_bytes()
            .to_vec();
        let value = v2(
            None,
            DigestAlgorithm::Sha256.digest(&der_bytes),
            Some(issuer_serial(&certificate, &serial)),
        );
        assert_eq!(
            check(
                ID_AA_SIGNING_CERTIFICATE_V2,
                &value,
                &der_bytes,
                &certificate
            ),
            Ok(())
        );
        let sha384 = v2(
            sha("2.16.840.1.101.3.4.2.2"),
            DigestAlgorithm::Sha384.digest(&der_bytes),
            None,
        );
        assert_eq!(
            check(
                ID_AA_SIGNING_CERTIFICATE_V2,
                &sha384,
                &der_bytes,
                &certificate
            ),
            Ok(())
        );
    }

    #[test]
    fn v2_with_the_right_hash_but_another_serial_does_not_match() {
        let (der_bytes, certificate) = certificate();
        let value = v2(
            None,
            DigestAlgorithm::Sha256.digest(&der_bytes),
            Some(issuer_serial(&certificate, &[0x01, 0x02])),
        );
        assert_eq!(
            check(
                ID_AA_SIGNING_CERTIFICATE_V2,
                &value,
                &der_bytes,
                &certificate
            ),
            Err(mismatch(
                ID_AA_SIGNING_CERTIFICATE_V2,
                EssMismatch::IssuerSerial
            ))
        );
    }

    #[test]
    fn v2_naming_another_certificate_hash_or_none_does_not_match() {
        let (der_bytes, certificate) = certificate();
        let value = v2(None, DigestAlgorithm::Sha256.digest(b"another"), None);
        assert_eq!(
            check(
                ID_AA_SIGNING_CERTIFICATE_V2,
                &value,
                &der_bytes,
                &certificate
            ),
            Err(mismatch(ID_AA_SIGNING_CERTIFICATE_V2, EssMismatch::Hash))
        );
        let empty = Any::encode_from(&SigningCertificateV2 {
            certs: Vec::new(),
            policies: None,
        })
        .expect("encode");
        assert_eq!(
            check(
                ID_AA_SIGNING_CERTIFICATE_V2,
                &empty,
                &der_bytes,
                &certificate
            ),
            Err(mismatch(
                ID_AA_SIGNING_CERTIFICATE_V2,
                EssMismatch::NoCertificate
            ))
        );
        let md5 = v2(sha("1.2.840.113549.2.5"), vec![0; 16], None);
        assert_eq!(
            check(ID_AA_SIGNING_CERTIFICATE_V2, &md5, &der_bytes, &certificate),
            Err(CmsProblem::WeakAlgorithm { name: "MD5" })
        );
    }

    #[test]
    fn v1_matches_by_sha1_hash_only_for_the_signer_certificate() {
        let (der_bytes, certificate) = certificate();
        let encode = |hash: Vec<u8>| {
            Any::encode_from(&SigningCertificate {
                certs: vec![EssCertId {
                    cert_hash: OctetString::new(hash).expect("hash"),
                    issuer_serial: None,
                }],
                policies: None,
            })
            .expect("encode")
        };
        let right = encode(crypto::legacy_sha1_digest(&der_bytes));
        assert_eq!(
            check(ID_AA_SIGNING_CERTIFICATE, &right, &der_bytes, &certificate),
            Ok(())
        );
        let wrong = encode(crypto::legacy_sha1_digest(b"another"));
        assert_eq!(
            check(ID_AA_SIGNING_CERTIFICATE, &wrong, &der_bytes, &certificate),
            Err(mismatch(ID_AA_SIGNING_CERTIFICATE, EssMismatch::Hash))
        );
    }

    #[test]
    fn a_value_that_is_not_signing_certificate_v2_is_malformed() {
        let (der_bytes, certificate) = certificate();
        let value = Any::encode_from(&7_u8).expect("encode");
        assert!(matches!(
            check(
                ID_AA_SIGNING_CERTIFICATE_V2,
                &value,
                &der_bytes,
                &certificate
            ),
            Err(CmsProblem::MalformedAttribute { .. })
        ));
        let _ = Certificate::from_der(&der_bytes).expect("still a certificate");
    }
}
