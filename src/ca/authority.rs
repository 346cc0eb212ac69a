//! A certification authority: a CA certificate with its key, issuing subordinate CAs and the
//! organisation and personal certificates of units and their leaders.

use std::fmt;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData, SerialNumber, SignatureAlgorithm,
};
use time::OffsetDateTime;

use super::stored::{self, CertificateFacts};
use super::{CaError, CertificateDefect, CertifiedKey, KeyAlgorithm, LeafKey};
use crate::units::{Leader, Unit};

/// userId (RFC 4519 §2.39), which carries the unit's document-exchange code in the subject.
const USER_ID: &[u64] = &[0, 9, 2342, 19200300, 100, 1, 1];

/// Upper bounds of X.520 attributes (RFC 5280 Appendix A: ub-common-name,
/// ub-organization-name), in characters.
const COMMON_NAME_LIMIT: usize = 64;
const ORGANISATION_NAME_LIMIT: usize = 64;

/// Certificates start an hour before the time of issuance so that a relying party whose clock
/// runs a little behind does not see a certificate that is not yet valid.
const BACKDATE: Duration = Duration::from_secs(60 * 60);

const ROOT_YEARS: i32 = 20;
const INTERMEDIATE_YEARS: i32 = 10;
const END_ENTITY_YEARS: i32 = 3;

/// How many CA certificates may still follow this one in a path (RFC 5280 §4.2.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathLength {
    Unconstrained,
    AtMost(u8),
}

/// A CA certificate and its private key, able to issue certificates.
///
/// The key lives in memory in clear, as it does on disk under [`ensure_dev_pki`]: this CA is
/// for development, tests and training.
///
/// [`ensure_dev_pki`]: super::ensure_dev_pki
pub struct CertificateAuthority {
    issuer: Issuer<'static, KeyPair>,
    certificate_der: Vec<u8>,
    certificate_pem: String,
    not_before: SystemTime,
    not_after: SystemTime,
    path_length: PathLength,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("path_length", &self.path_length)
            .field("key", &"[elided]")
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Creates a self-signed root CA with a fresh ECDSA P-256 key: subject C=VN, O and CN as
    /// given; basicConstraints cA (critical, no path length limit); keyUsage keyCertSign and
    /// cRLSign (critical); valid from an hour before `now` for twenty years.
    pub fn new_root(
        common_name: &str,
        organisation: &str,
        now: SystemTime,
    ) -> Result<Self, CaError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let subject = ca_subject(common_name, organisation)?;
        let not_before = datetime(now.checked_sub(BACKDATE).unwrap_or(now), now)?;
        let not_after = years_after(datetime(now, now)?, ROOT_YEARS, now)?;
        let mut params = ca_params(
            subject,
            not_before,
            not_after,
            BasicConstraints::Unconstrained,
        );
        params.serial_number = Some(serial(&params, None, &key));
        let certificate = params.self_signed(&key)?;
        Ok(Self::assemble(
            params,
            key,
            certificate.der().to_vec(),
            PathLength::Unconstrained,
        ))
    }

    /// Issues a subordinate CA with a fresh ECDSA P-256 key: subject C=VN, O and CN as given;
    /// basicConstraints cA with path length 0 (it issues end-entity certificates only);
    /// keyUsage keyCertSign and cRLSign; valid ten years, within this CA's validity.
    pub fn issue_intermediate(
        &self,
        common_name: &str,
        organisation: &str,
        now: SystemTime,
    ) -> Result<CertificateAuthority, CaError> {
        match self.path_length {
            PathLength::AtMost(0) => return Err(CaError::PathLengthExhausted),
            PathLength::AtMost(_) | PathLength::Unconstrained => {}
        }
        let (not_before, not_after) = self.validity(now, INTERMEDIATE_YEARS)?;
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let subject = ca_subject(common_name, organisation)?;
        let mut params = ca_params(
            subject,
            not_before,
            not_after,
            BasicConstraints::Constrained(0),
        );
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(serial(&params, Some(&self.issuer), &key));
        let certificate = params.signed_by(&key, &self.issuer)?;
        Ok(Self::assemble(
            params,
            key,
            certificate.der().to_vec(),
            PathLength::AtMost(0),
        ))
    }

    /// Issues a unit's organisation certificate (its electronic seal): subject CN and O = the
    /// unit's name, C=VN, UID = the unit code.
    ///
    /// Like [`issue_personal`](Self::issue_personal): keyUsage digitalSignature and
    /// nonRepudiation (critical), no extendedKeyUsage, basicConstraints cA FALSE, subject and
    /// authority key identifiers, valid three years within this CA's validity.
    pub fn issue_organisation(
        &self,
        unit: &Unit,
        key: LeafKey,
        now: SystemTime,
    ) -> Result<CertifiedKey, CaError> {
        let subject = end_entity_subject(&unit.name, unit)?;
        self.issue_end_entity(subject, key, now)
    }

    /// Issues a leader's personal certificate: subject CN = the leader's full name, O = the
    /// unit's name, C=VN, UID = the unit code. No title attribute: official-duty certificates
    /// name persons, not positions (Decree 68/2024/NĐ-CP).
    pub fn issue_personal(
        &self,
        unit: &Unit,
        leader: &Leader,
        key: LeafKey,
        now: SystemTime,
    ) -> Result<CertifiedKey, CaError> {
        let subject = end_entity_subject(&leader.full_name, unit)?;
        self.issue_end_entity(subject, key, now)
    }

    /// The CA certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// The CA certificate, PEM (`CERTIFICATE`).
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The CA's private key, PKCS#8 DER.
    pub fn private_key_pkcs8_der(&self) -> &[u8] {
        self.issuer.key().serialized_der()
    }

    /// The CA's private key, PEM (`PRIVATE KEY`).
    pub fn private_key_pem(&self) -> String {
        stored::pem_encode("PRIVATE KEY", self.private_key_pkcs8_der())
    }

    /// Start of the CA certificate's validity.
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// End of the CA certificate's validity; nothing it issues outlives it.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// Reloads a CA from its certificate (PEM `CERTIFICATE`) and PKCS#8 key (PEM
    /// `PRIVATE KEY`).
    ///
    /// The certificate must be a CA certificate (basicConstraints cA, keyCertSign if keyUsage
    /// is present) whose public key is the key's. Its subject is re-encoded as the issuer of
    /// what this CA signs, and its subject key identifier becomes their authority key
    /// identifier. The certificate's signature is not checked: this is for CAs kyso stored.
    pub fn from_pem(cert_pem: &str, key_pkcs8_pem: &str) -> Result<Self, CaError> {
        let der = stored::pem_decode(cert_pem, "CERTIFICATE")
            .map_err(|defect| CaError::UnusableCaCertificate { defect })?;
        let key =
            KeyPair::from_pem(key_pkcs8_pem).map_err(|source| CaError::UnusableCaKey { source })?;
        Self::from_der_and_key(der, key).map_err(|defect| CaError::UnusableCaCertificate { defect })
    }

    /// Reloads a CA from its DER certificate and parsed key; see [`Self::from_pem`].
    pub(super) fn from_der_and_key(der: Vec<u8>, key: KeyPair) -> Result<Self, CertificateDefect> {
        let CertificateFacts {
            subject,
            not_before,
            not_after,
            public_key,
            subject_key_identifier,
            ca_path_length,
            key_usages,
        } = stored::certificate_facts(&der)?;
        let path_length = match ca_path_length {
            Some(None) => PathLength::Unconstrained,
            Some(Some(length)) => PathLength::AtMost(length),
            None => return Err(CertificateDefect::NotCertificateAuthority),
        };
        let key_usages = match key_usages {
            Some(usages) if !usages.contains(&KeyUsagePurpose::KeyCertSign) => {
                return Err(CertificateDefect::NotCertificateAuthority);
            }
            Some(usages) => usages,
            None => Vec::new(),
        };
        if public_key != key.der_bytes() {
            return Err(CertificateDefect::KeyMismatch);
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = subject;
        params.key_usages = key_usages;
        if let Some(identifier) = subject_key_identifier {
            params.key_identifier_method = KeyIdMethod::PreSpecified(identifier);
        }
        let certificate_pem = stored::pem_encode("CERTIFICATE", &der);
        Ok(Self {
            issuer: Issuer::new(params, key),
            certificate_der: der,
            certificate_pem,
            not_before,
            not_after,
            path_length,
        })
    }

    fn assemble(
        params: CertificateParams,
        key: KeyPair,
        certificate_der: Vec<u8>,
        path_length: PathLength,
    ) -> Self {
        let certificate_pem = stored::pem_encode("CERTIFICATE", &certificate_der);
        let not_before = params.not_before.into();
        let not_after = params.not_after.into();
        Self {
            issuer: Issuer::new(params, key),
            certificate_der,
            certificate_pem,
            not_before,
            not_after,
            path_length,
        }
    }

    fn issue_end_entity(
        &self,
        subject: DistinguishedName,
        key: LeafKey,
        now: SystemTime,
    ) -> Result<CertifiedKey, CaError> {
        let (not_before, not_after) = self.validity(now, END_ENTITY_YEARS)?;
        let subject_key = subject_key(key)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = subject;
        params.not_before = not_before;
        params.not_after = not_after;
        // basicConstraints cA FALSE, written explicitly; rcgen adds the subject key identifier
        // alongside it.
        params.is_ca = IsCa::ExplicitNoCa;
        // Document signing, seals included, asserts content commitment (RFC 5280 §4.2.1.3);
        // no extendedKeyUsage, so nothing restricts the key to another purpose.
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(serial(&params, Some(&self.issuer), &subject_key));
        // The certificate is signed with the issuer's key and algorithm (ECDSA); the subject's
        // key only contributes its SubjectPublicKeyInfo, so RSA and external subjects work too.
        let certificate = params.signed_by(&subject_key, &self.issuer)?;
        let certificate_der = certificate.der().to_vec();
        Ok(CertifiedKey {
            certificate_pem: stored::pem_encode("CERTIFICATE", &certificate_der),
            certificate_der,
            private_key_pkcs8_der: match &subject_key {
                SubjectKey::Pair(pair) => pair.serialized_der().to_vec(),
                SubjectKey::External { .. } => Vec::new(),
            },
        })
    }

    /// Validity of a certificate issued at `now` for `years`: from an hour before `now` to
    /// `years` after it, clipped to this CA's own validity, which must include `now`.
    fn validity(
        &self,
        now: SystemTime,
        years: i32,
    ) -> Result<(OffsetDateTime, OffsetDateTime), CaError> {
        if now < self.not_before || now > self.not_after {
            return Err(CaError::IssuerNotValidAt {
                not_before: self.not_before,
                not_after: self.not_after,
                at: now,
            });
        }
        let start = now
            .checked_sub(BACKDATE)
            .unwrap_or(now)
            .max(self.not_before);
        let end = years_after(datetime(now, now)?, years, now)?;
        Ok((
            datetime(start, now)?,
            end.min(datetime(self.not_after, now)?),
        ))
    }
}

fn ca_params(
    subject: DistinguishedName,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    constraints: BasicConstraints,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject;
    params.not_before = not_before;
    params.not_after = not_after;
    params.is_ca = IsCa::Ca(constraints);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn ca_subject(common_name: &str, organisation: &str) -> Result<DistinguishedName, CaError> {
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CountryName, country_vietnam()?);
    subject.push(
        DnType::OrganizationName,
        bounded("organizationName", organisation, ORGANISATION_NAME_LIMIT)?,
    );
    subject.push(
        DnType::CommonName,
        bounded("commonName", common_name, COMMON_NAME_LIMIT)?,
    );
    Ok(subject)
}

/// C=VN, O=unit name, UID=unit code, CN=`common_name`, most significant first.
fn end_entity_subject(common_name: &str, unit: &Unit) -> Result<DistinguishedName, CaError> {
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CountryName, country_vietnam()?);
    subject.push(
        DnType::OrganizationName,
        bounded("organizationName", &unit.name, ORGANISATION_NAME_LIMIT)?,
    );
    subject.push(
        DnType::CustomDnType(USER_ID.to_vec()),
        DnValue::Utf8String(unit.code.as_str().to_owned()),
    );
    subject.push(
        DnType::CommonName,
        bounded("commonName", common_name, COMMON_NAME_LIMIT)?,
    );
    Ok(subject)
}

/// countryName is a two-letter PrintableString (RFC 5280 Appendix A, X520countryName).
fn country_vietnam() -> Result<DnValue, CaError> {
    Ok(DnValue::PrintableString("VN".try_into()?))
}

/// A UTF8String value (RFC 5280 §4.1.2.6 prefers UTF8String) within its upper bound.
fn bounded(attribute: &'static str, value: &str, limit: usize) -> Result<DnValue, CaError> {
    let length = value.chars().count();
    if length > limit {
        return Err(CaError::NameTooLong {
            attribute,
            value: value.to_owned(),
            length,
            limit,
        });
    }
    Ok(DnValue::Utf8String(value.to_owned()))
}

/// The subject's key: a key pair rcgen holds, or the public half of a key held elsewhere.
enum SubjectKey {
    Pair(Box<KeyPair>),
    External {
        public_key: Vec<u8>,
        algorithm: &'static SignatureAlgorithm,
    },
}

impl PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        match self {
            Self::Pair(pair) => pair.der_bytes(),
            Self::External { public_key, .. } => public_key,
        }
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match self {
            Self::Pair(pair) => pair.algorithm(),
            Self::External { algorithm, .. } => algorithm,
        }
    }
}

/// The subject's key: generated, parsed from PKCS#8, or a supplied public key, each checked
/// against the declared algorithm.
fn subject_key(key: LeafKey) -> Result<SubjectKey, CaError> {
    match key {
        LeafKey::Generate(algorithm) => match algorithm {
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => Ok(SubjectKey::Pair(Box::new(
                KeyPair::generate_for(signature_algorithm(algorithm))?,
            ))),
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                Err(CaError::CannotGenerate { algorithm })
            }
        },
        LeafKey::Pkcs8 { der, algorithm } => {
            let key = KeyPair::from_pkcs8_der_and_sign_algo(
                &der.as_slice().into(),
                signature_algorithm(algorithm),
            )
            .map_err(|source| CaError::KeyRejected { algorithm, source })?;
            check_rsa_size(key.der_bytes(), algorithm)?;
            Ok(SubjectKey::Pair(Box::new(key)))
        }
        LeafKey::External {
            public_key,
            algorithm,
        } => {
            // An uncompressed point is 04 || X || Y (SEC 1 §2.3.3); whether it lies on the
            // curve is for whoever holds the private key to prove by signing.
            let well_formed = match algorithm {
                KeyAlgorithm::EcdsaP256 => public_key.len() == 65 && public_key[0] == 0x04,
                KeyAlgorithm::EcdsaP384 => public_key.len() == 97 && public_key[0] == 0x04,
                KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                    rsa_modulus_bits(&public_key).is_some()
                }
            };
            if !well_formed {
                return Err(CaError::PublicKeyRejected { algorithm });
            }
            check_rsa_size(&public_key, algorithm)?;
            Ok(SubjectKey::External {
                public_key,
                algorithm: signature_algorithm(algorithm),
            })
        }
    }
}

/// An RSA key must have the modulus size its declared algorithm names.
fn check_rsa_size(public_key: &[u8], algorithm: KeyAlgorithm) -> Result<(), CaError> {
    if let Some(expected) = algorithm.rsa_modulus_bits() {
        let modulus_bits = rsa_modulus_bits(public_key).unwrap_or(0);
        if modulus_bits != expected {
            return Err(CaError::RsaKeySizeMismatch {
                algorithm,
                modulus_bits,
            });
        }
    }
    Ok(())
}

/// The rcgen algorithm a key of `algorithm` is parsed (and, for ECDSA, generated) as. For RSA
/// it only decides the SubjectPublicKeyInfo (rsaEncryption); the certificate's own signature
/// is always made by the issuer's key.
fn signature_algorithm(algorithm: KeyAlgorithm) -> &'static SignatureAlgorithm {
    match algorithm {
        KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
            &rcgen::PKCS_RSA_SHA256
        }
    }
}

/// Bit length of the modulus in an RSAPublicKey (RFC 8017 §A.1.1):
/// `SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_modulus_bits(public_key: &[u8]) -> Option<usize> {
    let content_after_header = |bytes: &[u8], tag: u8| -> Option<usize> {
        if *bytes.first()? != tag {
            return None;
        }
        let first = *bytes.get(1)?;
        Some(if first < 0x80 {
            2
        } else {
            2 + usize::from(first & 0x7F)
        })
    };
    let sequence_header = content_after_header(public_key, 0x30)?;
    let modulus = public_key.get(sequence_header..)?;
    let integer_header = content_after_header(modulus, 0x02)?;
    let length_octets = modulus.get(2..integer_header)?;
    let length = if length_octets.is_empty() {
        usize::from(*modulus.get(1)?)
    } else {
        length_octets
            .iter()
            .fold(0usize, |n, &b| (n << 8) | usize::from(b))
    };
    let digits = modulus.get(integer_header..integer_header + length)?;
    let significant = digits.iter().position(|&b| b != 0)?;
    let leading = digits[significant].leading_zeros() as usize;
    Some((digits.len() - significant) * 8 - leading)
}

/// A serial number unique per issuance without reading a random source: SHA-256 (through
/// rcgen's key-identifier derivation, RFC 7093 method 1) over the issuer's key, the subject's
/// key, the subject name and the start of validity, truncated to 160 bits with the top bit
/// cleared so it stays a positive INTEGER of at most 20 octets (RFC 5280 §4.1.2.2). Fresh keys
/// make it unique; the name and time keep a reused supplied key from repeating a serial.
fn serial(
    params: &CertificateParams,
    issuer: Option<&Issuer<'_, KeyPair>>,
    subject_key: &impl PublicKeyData,
) -> SerialNumber {
    let mut seed = Vec::new();
    if let Some(issuer) = issuer {
        seed.extend_from_slice(&issuer.key().subject_public_key_info());
    }
    seed.extend_from_slice(&subject_key.subject_public_key_info());
    for (kind, value) in params.distinguished_name.iter() {
        seed.extend_from_slice(format!("{kind:?}={value:?}\u{0}").as_bytes());
    }
    seed.extend_from_slice(&params.not_before.unix_timestamp().to_be_bytes());
    let mut digest = CertificateParams::default().key_identifier(&SerialSeed(&seed));
    if let Some(first) = digest.first_mut() {
        *first &= 0x7F;
    }
    SerialNumber::from_slice(&digest)
}

/// Arbitrary bytes presented as a public key so rcgen's SHA-256 key-identifier derivation can
/// hash them.
struct SerialSeed<'a>(&'a [u8]);

impl PublicKeyData for SerialSeed<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// `instant` as a UTC date-time truncated to whole seconds (certificate times have no
/// fractions); `now` is reported if `instant` cannot be represented.
fn datetime(instant: SystemTime, now: SystemTime) -> Result<OffsetDateTime, CaError> {
    let seconds = instant
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_secs()).ok())
        .ok_or(CaError::TimeOutOfRange { at: now })?;
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| CaError::TimeOutOfRange { at: now })
}

/// The same date and time `years` later; 29 February becomes 28 February in common years.
fn years_after(
    start: OffsetDateTime,
    years: i32,
    now: SystemTime,
) -> Result<OffsetDateTime, CaError> {
    let year = start.year() + years;
    start
        .replace_year(year)
        .or_else(|_| start.replace_day(28).and_then(|day| day.replace_year(year)))
        .map_err(|_| CaError::TimeOutOfRange { at: now })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::demo_province;
    use rsa::pkcs8::EncodePrivateKey;
    use x509_cert::Certificate;
    use x509_cert::der::asn1::ObjectIdentifier;
    use x509_cert::der::{Decode, Encode, Tag, Tagged};
    use x509_cert::ext::pkix::{
        AuthorityKeyIdentifier, BasicConstraints as X509BasicConstraints, ExtendedKeyUsage,
        KeyUsage, SubjectKeyIdentifier,
    };

    const COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
    const ORGANISATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
    const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
    const TITLE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.12");
    const UID: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1");
    const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

    /// 2025-03-01T01:02:03Z, a fixed instant.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_790_923)
    }

    fn years(n: u64) -> Duration {
        Duration::from_secs(n * 365 * 24 * 60 * 60)
    }

    fn parse(der: &[u8]) -> Certificate {
        Certificate::from_der(der).expect("from der")
    }

    /// The subject attributes as (type, string tag, text), in order.
    fn subject(certificate: &Certificate) -> Vec<(ObjectIdentifier, Tag, String)> {
        certificate
            .tbs_certificate
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .map(|attribute| {
                let text = String::from_utf8(attribute.value.value().to_vec()).expect("from utf8");
                (attribute.oid, attribute.value.tag(), text)
            })
            .collect()
    }

    fn attribute(certificate: &Certificate, oid: ObjectIdentifier) -> Option<(Tag, String)> {
        subject(certificate)
            .into_iter()
            .find(|(kind, _, _)| *kind == oid)
            .map(|(_, tag, text)| (tag, text))
    }

    fn extension<'a, T: Decode<'a> + x509_cert::der::oid::AssociatedOid>(
        certificate: &'a Certificate,
    ) -> Option<(bool, T)> {
        certificate
            .tbs_certificate
            .get::<T>()
            .expect("extension decodes")
    }

    fn validity(certificate: &Certificate) -> (SystemTime, SystemTime) {
        let validity = &certificate.tbs_certificate.validity;
        (
            validity.not_before.to_system_time(),
            validity.not_after.to_system_time(),
        )
    }

    fn ski(certificate: &Certificate) -> Vec<u8> {
        extension::<SubjectKeyIdentifier>(certificate)
            .expect("extension present")
            .1
            .0
            .as_bytes()
            .to_vec()
    }

    fn aki(certificate: &Certificate) -> Vec<u8> {
        extension::<AuthorityKeyIdentifier>(certificate)
            .expect("extension present")
            .1
            .key_identifier
            .expect("key identifier")
            .as_bytes()
            .to_vec()
    }

    fn hierarchy() -> (CertificateAuthority, CertificateAuthority) {
        let root =
            CertificateAuthority::new_root("Test Root", "Ủy ban nhân dân tỉnh Hòa Bình", now())
                .expect("new root");
        let issuing = root
            .issue_intermediate("Test Issuing CA", "kyso", now())
            .expect("issue intermediate");
        (root, issuing)
    }

    fn office() -> Unit {
        demo_province().units()[0].clone()
    }

    fn rsa_pkcs8(bits: usize) -> Vec<u8> {
        let key =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).expect("generate RSA key");
        key.to_pkcs8_der()
            .expect("to pkcs8 der")
            .as_bytes()
            .to_vec()
    }

    #[test]
    fn root_is_a_self_signed_critical_ca_valid_for_twenty_years() {
        let (root, _) = hierarchy();
        let certificate = parse(root.certificate_der());
        let tbs = &certificate.tbs_certificate;
        assert_eq!(
            tbs.issuer.to_der().expect("to der"),
            tbs.subject.to_der().expect("to der")
        );
        let (critical, constraints) =
            extension::<X509BasicConstraints>(&certificate).expect("extension present");
        assert!(critical && constraints.ca);
        assert_eq!(constraints.path_len_constraint, None);
        let (critical, usage) = extension::<KeyUsage>(&certificate).expect("extension present");
        assert!(critical && usage.key_cert_sign() && usage.crl_sign());
        assert!(!usage.digital_signature());
        let (not_before, not_after) = validity(&certificate);
        assert_eq!(not_before, now() - BACKDATE);
        assert!(not_after >= now() + years(20) && not_after < now() + years(20) + years(1) / 12);
        assert_eq!(
            attribute(&certificate, ORGANISATION),
            Some((Tag::Utf8String, "Ủy ban nhân dân tỉnh Hòa Bình".to_owned()))
        );
        assert_eq!(
            attribute(&certificate, COUNTRY),
            Some((Tag::PrintableString, "VN".to_owned()))
        );
        assert_eq!(certificate.signature_algorithm.oid, ECDSA_WITH_SHA256);
        assert!(
            root.certificate_pem()
                .starts_with("-----BEGIN CERTIFICATE-----\n")
        );
    }

    #[test]
    fn intermediate_has_path_length_zero_and_chains_to_the_root_by_name_and_key_id() {
        let (root, issuing) = hierarchy();
        let root_certificate = parse(root.certificate_der());
        let certificate = parse(issuing.certificate_der());
        assert_eq!(
            certificate.tbs_certificate.issuer.to_der().expect("to der"),
            root_certificate
                .tbs_certificate
                .subject
                .to_der()
                .expect("to der")
        );
        assert_eq!(aki(&certificate), ski(&root_certificate));
        let (critical, constraints) =
            extension::<X509BasicConstraints>(&certificate).expect("extension present");
        assert!(critical && constraints.ca);
        assert_eq!(constraints.path_len_constraint, Some(0));
        let (_, not_after) = validity(&certificate);
        assert!(not_after >= now() + years(10) && not_after < now() + years(11));
    }

    #[test]
    fn intermediate_cannot_issue_another_ca() {
        let (_, issuing) = hierarchy();
        let error = issuing
            .issue_intermediate("Below", "kyso", now())
            .expect_err("issue intermediate fails");
        assert!(matches!(error, CaError::PathLengthExhausted));
    }

    #[test]
    fn organisation_certificate_names_the_unit_in_utf8_with_its_code_as_uid() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let issued = issuing
            .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::EcdsaP256), now())
            .expect("issue organisation");
        let certificate = parse(&issued.certificate_der);
        let name = "Văn phòng Ủy ban nhân dân tỉnh Hòa Bình".to_owned();
        assert_eq!(
            subject(&certificate),
            vec![
                (COUNTRY, Tag::PrintableString, "VN".to_owned()),
                (ORGANISATION, Tag::Utf8String, name.clone()),
                (UID, Tag::Utf8String, "000.00.00.H23".to_owned()),
                (COMMON_NAME, Tag::Utf8String, name),
            ]
        );
        assert_eq!(
            stored::pem_decode(&issued.certificate_pem, "CERTIFICATE").expect("pem decode"),
            issued.certificate_der
        );
        assert!(KeyPair::try_from(issued.private_key_pkcs8_der.as_slice()).is_ok());
    }

    #[test]
    fn end_entity_certificates_are_for_signing_documents_only() {
        let (_, issuing) = hierarchy();
        let issuing_certificate = parse(issuing.certificate_der());
        let unit = office();
        let organisation = issuing
            .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::EcdsaP256), now())
            .expect("issue organisation");
        let personal = issuing
            .issue_personal(
                &unit,
                &unit.leaders[0],
                LeafKey::Generate(KeyAlgorithm::EcdsaP384),
                now(),
            )
            .expect("issue personal");
        for issued in [organisation, personal] {
            let certificate = parse(&issued.certificate_der);
            let (critical, usage) = extension::<KeyUsage>(&certificate).expect("extension present");
            assert!(critical);
            assert!(usage.digital_signature() && usage.non_repudiation());
            assert!(!usage.key_cert_sign() && !usage.key_encipherment());
            assert!(extension::<ExtendedKeyUsage>(&certificate).is_none());
            let (critical, constraints) =
                extension::<X509BasicConstraints>(&certificate).expect("extension present");
            assert!(critical && !constraints.ca);
            assert_eq!(ski(&certificate).len(), 20);
            assert_eq!(aki(&certificate), ski(&issuing_certificate));
            assert_eq!(
                certificate.tbs_certificate.issuer.to_der().expect("to der"),
                issuing_certificate
                    .tbs_certificate
                    .subject
                    .to_der()
                    .expect("to der")
            );
            let (not_before, not_after) = validity(&certificate);
            assert_eq!(not_before, now() - BACKDATE);
            assert!(not_after >= now() + years(3) && not_after < now() + years(3) + years(1) / 12);
            assert_eq!(certificate.signature_algorithm.oid, ECDSA_WITH_SHA256);
        }
    }

    #[test]
    fn personal_certificate_names_the_leader_and_carries_no_title() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let leader = &unit.leaders[1];
        let issued = issuing
            .issue_personal(
                &unit,
                leader,
                LeafKey::Generate(KeyAlgorithm::EcdsaP256),
                now(),
            )
            .expect("issue personal");
        let certificate = parse(&issued.certificate_der);
        assert_eq!(
            attribute(&certificate, COMMON_NAME),
            Some((Tag::Utf8String, "Bùi Thị Hương".to_owned()))
        );
        assert_eq!(
            attribute(&certificate, ORGANISATION),
            Some((Tag::Utf8String, unit.name.clone()))
        );
        assert_eq!(
            attribute(&certificate, UID),
            Some((Tag::Utf8String, "000.00.00.H23".to_owned()))
        );
        assert_eq!(attribute(&certificate, TITLE), None);
    }

    #[test]
    fn supplied_rsa_key_is_certified_under_the_ecdsa_issuer() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let der = rsa_pkcs8(2048);
        let issued = issuing
            .issue_organisation(
                &unit,
                LeafKey::Pkcs8 {
                    der: der.clone(),
                    algorithm: KeyAlgorithm::Rsa2048,
                },
                now(),
            )
            .expect("issue organisation");
        let certificate = parse(&issued.certificate_der);
        assert_eq!(
            certificate
                .tbs_certificate
                .subject_public_key_info
                .algorithm
                .oid,
            RSA_ENCRYPTION
        );
        assert_eq!(certificate.signature_algorithm.oid, ECDSA_WITH_SHA256);
        assert_eq!(issued.private_key_pkcs8_der, der);
        let public_key = rsa::RsaPublicKey::from(
            rsa::pkcs8::DecodePrivateKey::from_pkcs8_der(&der)
                .map(|key: rsa::RsaPrivateKey| key)
                .expect("decode RSA key"),
        );
        let certified = rsa::pkcs8::DecodePublicKey::from_public_key_der(
            &certificate
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .expect("to der"),
        )
        .map(|key: rsa::RsaPublicKey| key)
        .expect("decode RSA key");
        assert_eq!(certified, public_key);
    }

    #[test]
    fn an_external_public_key_is_certified_without_a_private_key() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let held = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("generate for");
        let issued = issuing
            .issue_organisation(
                &unit,
                LeafKey::External {
                    public_key: held.der_bytes().to_vec(),
                    algorithm: KeyAlgorithm::EcdsaP256,
                },
                now(),
            )
            .expect("issue organisation");
        let certificate = parse(&issued.certificate_der);
        assert_eq!(
            certificate
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes(),
            held.der_bytes()
        );
        assert!(issued.private_key_pkcs8_der.is_empty());

        for (public_key, algorithm) in [
            (held.der_bytes()[1..].to_vec(), KeyAlgorithm::EcdsaP256),
            (held.der_bytes().to_vec(), KeyAlgorithm::EcdsaP384),
            (held.der_bytes().to_vec(), KeyAlgorithm::Rsa2048),
        ] {
            let error = issuing
                .issue_organisation(
                    &unit,
                    LeafKey::External {
                        public_key,
                        algorithm,
                    },
                    now(),
                )
                .expect_err("issue organisation fails");
            assert!(
                matches!(error, CaError::PublicKeyRejected { .. }),
                "{error}"
            );
        }
    }

    #[test]
    fn rsa_keys_cannot_be_generated_and_must_match_their_declared_size() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let error = issuing
            .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::Rsa2048), now())
            .expect_err("issue organisation fails");
        assert!(matches!(
            error,
            CaError::CannotGenerate {
                algorithm: KeyAlgorithm::Rsa2048
            }
        ));
        let error = issuing
            .issue_organisation(
                &unit,
                LeafKey::Pkcs8 {
                    der: rsa_pkcs8(2048),
                    algorithm: KeyAlgorithm::Rsa3072,
                },
                now(),
            )
            .expect_err("issue organisation fails");
        assert!(matches!(
            error,
            CaError::RsaKeySizeMismatch {
                algorithm: KeyAlgorithm::Rsa3072,
                modulus_bits: 2048
            }
        ));
    }

    #[test]
    fn supplied_key_of_another_algorithm_than_declared_is_rejected() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let p384 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("generate for");
        let error = issuing
            .issue_organisation(
                &unit,
                LeafKey::Pkcs8 {
                    der: p384.serialize_der(),
                    algorithm: KeyAlgorithm::EcdsaP256,
                },
                now(),
            )
            .expect_err("issue organisation fails");
        assert!(matches!(
            error,
            CaError::KeyRejected {
                algorithm: KeyAlgorithm::EcdsaP256,
                ..
            }
        ));
        let accepted = issuing.issue_organisation(
            &unit,
            LeafKey::Pkcs8 {
                der: p384.serialize_der(),
                algorithm: KeyAlgorithm::EcdsaP384,
            },
            now(),
        );
        assert!(accepted.is_ok());
    }

    #[test]
    fn one_supplied_key_certified_twice_gets_two_serial_numbers() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let der = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .expect("generate for")
            .serialize_der();
        let key = || LeafKey::Pkcs8 {
            der: der.clone(),
            algorithm: KeyAlgorithm::EcdsaP256,
        };
        let serial = |issued: &CertifiedKey| {
            parse(&issued.certificate_der)
                .tbs_certificate
                .serial_number
                .as_bytes()
                .to_vec()
        };
        let organisation = issuing
            .issue_organisation(&unit, key(), now())
            .expect("issue organisation");
        let personal = issuing
            .issue_personal(&unit, &unit.leaders[0], key(), now())
            .expect("issue personal");
        let later = issuing
            .issue_organisation(&unit, key(), now() + Duration::from_secs(1))
            .expect("issue organisation");
        assert_ne!(serial(&organisation), serial(&personal));
        assert_ne!(serial(&organisation), serial(&later));
        assert!(serial(&organisation).len() <= 20);
    }

    #[test]
    fn issuing_outside_the_ca_validity_is_refused_and_near_its_end_is_clipped() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let key = || LeafKey::Generate(KeyAlgorithm::EcdsaP256);
        let error = issuing
            .issue_organisation(&unit, key(), now() - years(1))
            .expect_err("issue organisation fails");
        assert!(matches!(error, CaError::IssuerNotValidAt { .. }));
        assert!(
            error.to_string().contains("2025-03-01T00:02:03Z"),
            "{error}"
        );
        let error = issuing
            .issue_organisation(&unit, key(), now() + years(11))
            .expect_err("issue organisation fails");
        assert!(matches!(error, CaError::IssuerNotValidAt { .. }));

        let late = now() + years(9);
        let issued = issuing
            .issue_organisation(&unit, key(), late)
            .expect("issue organisation");
        let (_, not_after) = validity(&parse(&issued.certificate_der));
        assert_eq!(not_after, issuing.not_after());
    }

    #[test]
    fn names_longer_than_the_x520_bounds_are_refused() {
        let (_, issuing) = hierarchy();
        let mut unit = office();
        unit.name =
            "Trung tâm Phục vụ hành chính công và Kiểm soát thủ tục hành chính tỉnh Hòa Bình"
                .to_owned();
        let error = issuing
            .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::EcdsaP256), now())
            .expect_err("issue organisation fails");
        assert!(matches!(error, CaError::NameTooLong { limit: 64, .. }));
    }

    #[test]
    fn a_reloaded_ca_issues_certificates_that_chain_like_the_original() {
        let (_, issuing) = hierarchy();
        let reloaded =
            CertificateAuthority::from_pem(issuing.certificate_pem(), &issuing.private_key_pem())
                .expect("from pem");
        assert_eq!(reloaded.certificate_der(), issuing.certificate_der());
        assert_eq!(
            reloaded.private_key_pkcs8_der(),
            issuing.private_key_pkcs8_der()
        );
        assert_eq!(reloaded.not_before(), issuing.not_before());
        assert_eq!(reloaded.not_after(), issuing.not_after());
        assert!(matches!(
            reloaded.issue_intermediate("Below", "kyso", now()),
            Err(CaError::PathLengthExhausted)
        ));

        let unit = office();
        let issued = reloaded
            .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::EcdsaP256), now())
            .expect("issue organisation");
        let certificate = parse(&issued.certificate_der);
        let issuing_certificate = parse(issuing.certificate_der());
        assert_eq!(
            certificate.tbs_certificate.issuer.to_der().expect("to der"),
            issuing_certificate
                .tbs_certificate
                .subject
                .to_der()
                .expect("to der")
        );
        assert_eq!(aki(&certificate), ski(&issuing_certificate));
    }

    #[test]
    fn reloading_refuses_a_foreign_key_a_leaf_certificate_and_garbage() {
        let (root, issuing) = hierarchy();
        let error =
            CertificateAuthority::from_pem(issuing.certificate_pem(), &root.private_key_pem())
                .expect_err("from pem fails");
        assert!(matches!(
            error,
            CaError::UnusableCaCertificate {
                defect: CertificateDefect::KeyMismatch
            }
        ));

        let leaf = issuing
            .issue_organisation(&office(), LeafKey::Generate(KeyAlgorithm::EcdsaP256), now())
            .expect("issue organisation");
        let error = CertificateAuthority::from_pem(&leaf.certificate_pem, &leaf.private_key_pem())
            .expect_err("from pem fails");
        assert!(matches!(
            error,
            CaError::UnusableCaCertificate {
                defect: CertificateDefect::NotCertificateAuthority
            }
        ));

        let error = CertificateAuthority::from_pem("not a certificate", &root.private_key_pem())
            .expect_err("from pem fails");
        assert!(matches!(
            error,
            CaError::UnusableCaCertificate {
                defect: CertificateDefect::NotPem
            }
        ));
        let error = CertificateAuthority::from_pem(root.certificate_pem(), "not a key")
            .expect_err("from pem fails");
        assert!(matches!(error, CaError::UnusableCaKey { .. }));

        let mut truncated = root.certificate_der().to_vec();
        truncated.truncate(truncated.len() / 2);
        let error = CertificateAuthority::from_pem(
            &stored::pem_encode("CERTIFICATE", &truncated),
            &root.private_key_pem(),
        )
        .expect_err("from pem fails");
        assert!(matches!(
            error,
            CaError::UnusableCaCertificate {
                defect: CertificateDefect::Truncated
            }
        ));
    }

    #[test]
    fn rsa_modulus_size_is_read_from_the_public_key() {
        for bits in [2048, 3072] {
            let der = rsa_pkcs8(bits);
            let key = KeyPair::from_pkcs8_der_and_sign_algo(
                &der.as_slice().into(),
                &rcgen::PKCS_RSA_SHA256,
            )
            .expect("from pkcs8 der and sign algo");
            assert_eq!(rsa_modulus_bits(key.der_bytes()), Some(bits));
        }
        assert_eq!(rsa_modulus_bits(&[0x30]), None);
    }

    #[test]
    fn debug_output_does_not_reveal_private_keys() {
        let (root, _) = hierarchy();
        assert!(format!("{root:?}").contains("key: \"[elided]\""));
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("generate for");
        let leaf = LeafKey::Pkcs8 {
            der: key.serialize_der(),
            algorithm: KeyAlgorithm::EcdsaP256,
        };
        assert_eq!(format!("{leaf:?}"), "Pkcs8 { algorithm: EcdsaP256, .. }");
    }
}
