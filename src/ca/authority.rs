//! A certification authority: a CA certificate with its key, issuing subordinate CAs, the
//! organisation, personal and time-stamping certificates of units and their leaders, and CRLs.

use std::fmt;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CustomExtension, DistinguishedName, DnType, DnValue, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, PublicKeyData, RevokedCertParams, SerialNumber, SignatureAlgorithm,
};
use time::OffsetDateTime;
use x509_cert::der::Encode;
use x509_cert::der::asn1::{Ia5String, ObjectIdentifier};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};
use zeroize::Zeroizing;

use super::stored::{self, CertificateFacts};
use super::{
    CaError, CertificateDefect, CertifiedKey, KeyAlgorithm, LeafKey, Profile, Publication,
    RevocationReason, RevokedCertificate,
};
use crate::units::{Leader, Unit};

/// userId (RFC 4519 §2.39), which carries the unit's document-exchange code in the subject.
const USER_ID: &[u64] = &[0, 9, 2342, 19200300, 100, 1, 1];
/// id-pe-authorityInfoAccess (RFC 5280 §4.2.2.1).
const AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
/// id-ce-extKeyUsage (RFC 5280 §4.2.1.12).
const EXTENDED_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
/// id-ad-caIssuers (RFC 5280 §4.2.2.1).
const CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
/// `ExtKeyUsageSyntax ::= SEQUENCE { id-kp-timeStamping }` (RFC 5280 §4.2.1.12), DER.
const TIME_STAMPING_ONLY: &[u8] = &[
    0x30, 0x0A, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08,
];
/// What the common name of a time-stamping certificate says: "time-stamping service".
const TIME_STAMPING_SERVICE: &str = "Dịch vụ cấp dấu thời gian";

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
    publication: Option<Publication>,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("path_length", &self.path_length)
            .field("publication", &self.publication)
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
    /// keyUsage keyCertSign and cRLSign; this CA's [`Publication`], if it has one; valid ten
    /// years, within this CA's validity.
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
        self.point_to_publication(&mut params)?;
        params.serial_number = Some(serial(&params, Some(&self.issuer), &key));
        let certificate = params.signed_by(&key, &self.issuer)?;
        Ok(Self::assemble(
            params,
            key,
            certificate.der().to_vec(),
            PathLength::AtMost(0),
        ))
    }

    /// Issues an end-entity certificate for `profile` and `key`.
    ///
    /// Every profile: subject C=VN, O = the unit's name, UID = the unit code, CN as below;
    /// keyUsage digitalSignature and nonRepudiation (critical); basicConstraints cA FALSE;
    /// subject and authority key identifiers; this CA's [`Publication`], if it has one; valid
    /// three years within this CA's validity.
    /// - [`Profile::Organisation`]: CN = the unit's name, no extendedKeyUsage.
    /// - [`Profile::Personal`]: CN = the leader's full name, no extendedKeyUsage and no title
    ///   attribute: official-duty certificates name persons, not positions (Decree
    ///   68/2024/NĐ-CP).
    /// - [`Profile::TimeStamping`]: CN = "<unit name> – Dịch vụ cấp dấu thời gian", or only the
    ///   service's name when that would pass the 64-character bound; extendedKeyUsage
    ///   timeStamping alone, critical (RFC 3161 §2.3).
    pub fn issue(
        &self,
        profile: Profile<'_>,
        key: LeafKey,
        now: SystemTime,
    ) -> Result<CertifiedKey, CaError> {
        let (subject, extensions) = match profile {
            Profile::Organisation { unit } => (end_entity_subject(&unit.name, unit)?, Vec::new()),
            Profile::Personal { unit, leader } => {
                (end_entity_subject(&leader.full_name, unit)?, Vec::new())
            }
            Profile::TimeStamping { unit } => (
                end_entity_subject(&time_stamping_common_name(unit), unit)?,
                vec![time_stamping_only()],
            ),
        };
        self.issue_end_entity(subject, extensions, key, now)
    }

    /// Issues a unit's organisation certificate (its electronic seal); see [`Self::issue`]
    /// with [`Profile::Organisation`].
    pub fn issue_organisation(
        &self,
        unit: &Unit,
        key: LeafKey,
        now: SystemTime,
    ) -> Result<CertifiedKey, CaError> {
        self.issue(Profile::Organisation { unit }, key, now)
    }

    /// Issues a leader's personal certificate; see [`Self::issue`] with [`Profile::Personal`].
    pub fn issue_personal(
        &self,
        unit: &Unit,
        leader: &Leader,
        key: LeafKey,
        now: SystemTime,
    ) -> Result<CertifiedKey, CaError> {
        self.issue(Profile::Personal { unit, leader }, key, now)
    }

    /// Signs a version 2 CRL (RFC 5280 §5) listing `revoked`: CRL number `number`, authority
    /// key identifier = this CA's subject key identifier, a reasonCode entry extension for
    /// every reason but `unspecified` (RFC 5280 §5.3.1), signed with this CA's key.
    ///
    /// CRL numbers must increase with each CRL a CA issues (RFC 5280 §5.2.3); keeping them is
    /// the caller's part.
    pub fn crl(
        &self,
        number: u64,
        this_update: SystemTime,
        next_update: SystemTime,
        revoked: &[RevokedCertificate],
    ) -> Result<Vec<u8>, CaError> {
        if next_update <= this_update {
            return Err(CaError::CrlUpdatesOutOfOrder {
                this_update,
                next_update,
            });
        }
        let revoked_certs = revoked
            .iter()
            .map(|entry| {
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&entry.serial),
                    revocation_time: datetime(entry.revoked_at, entry.revoked_at)?,
                    reason_code: Some(crl_reason(entry.reason)),
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, CaError>>()?;
        // The CRL's authority key identifier must be the CA certificate's subject key
        // identifier (RFC 5280 §5.2.1), however that was derived.
        let key_identifier_method = stored::certificate_facts(&self.certificate_der)
            .ok()
            .and_then(|facts| facts.subject_key_identifier)
            .map_or(KeyIdMethod::Sha256, KeyIdMethod::PreSpecified);
        let params = CertificateRevocationListParams {
            this_update: datetime(this_update, this_update)?,
            next_update: datetime(next_update, next_update)?,
            crl_number: SerialNumber::from(number.to_be_bytes().to_vec()),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method,
        };
        Ok(params.signed_by(&self.issuer)?.der().to_vec())
    }

    /// Where this CA's CRL and certificate are published, if it says.
    pub fn publication(&self) -> Option<&Publication> {
        self.publication.as_ref()
    }

    /// Sets (or with `None`, clears) where this CA's CRL and certificate are published; what
    /// it issues from then on points there.
    pub fn set_publication(&mut self, publication: Option<Publication>) {
        self.publication = publication;
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
            publication: None,
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
            publication: None,
        }
    }

    /// cRLDistributionPoints with one fullName URI (RFC 5280 §4.2.1.13) and authorityInfoAccess
    /// caIssuers (RFC 5280 §4.2.2.1), both non-critical, when this CA has a publication.
    fn point_to_publication(&self, params: &mut CertificateParams) -> Result<(), CaError> {
        let Some(publication) = &self.publication else {
            return Ok(());
        };
        uri(&publication.crl_url)?;
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![publication.crl_url.clone()],
        }];
        let access = AuthorityInfoAccessSyntax(vec![AccessDescription {
            access_method: CA_ISSUERS,
            access_location: GeneralName::UniformResourceIdentifier(uri(
                &publication.certificate_url
            )?),
        }]);
        let content = access
            .to_der()
            .map_err(|_| CaError::UnusablePublicationUrl {
                url: publication.certificate_url.clone(),
            })?;
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                AUTHORITY_INFO_ACCESS,
                content,
            ));
        Ok(())
    }

    fn issue_end_entity(
        &self,
        subject: DistinguishedName,
        extensions: Vec<CustomExtension>,
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
        params.custom_extensions = extensions;
        self.point_to_publication(&mut params)?;
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

/// The common name of a unit's time-stamping service: the unit's name and the service's, or
/// the service's alone when both would pass ub-common-name (O and UID name the unit anyway).
fn time_stamping_common_name(unit: &Unit) -> String {
    let full = format!("{} – {TIME_STAMPING_SERVICE}", unit.name);
    if full.chars().count() <= COMMON_NAME_LIMIT {
        full
    } else {
        TIME_STAMPING_SERVICE.to_owned()
    }
}

/// extendedKeyUsage listing id-kp-timeStamping alone, critical: RFC 3161 §2.3 requires exactly
/// this of a TSA's certificate. rcgen writes its own EKU non-critical, hence a custom extension.
fn time_stamping_only() -> CustomExtension {
    let mut extension =
        CustomExtension::from_oid_content(EXTENDED_KEY_USAGE, TIME_STAMPING_ONLY.to_vec());
    extension.set_criticality(true);
    extension
}

/// A URL as an IA5String, the form of a uniformResourceIdentifier GeneralName (RFC 5280
/// §4.2.1.6).
fn uri(url: &str) -> Result<Ia5String, CaError> {
    let unusable = || CaError::UnusablePublicationUrl {
        url: url.to_owned(),
    };
    if url.is_empty() || !url.is_ascii() {
        return Err(unusable());
    }
    Ia5String::new(url).map_err(|_| unusable())
}

/// kyso's revocation reason as rcgen writes it (the same RFC 5280 §5.3.1 codes).
fn crl_reason(reason: RevocationReason) -> rcgen::RevocationReason {
    match reason {
        RevocationReason::Unspecified => rcgen::RevocationReason::Unspecified,
        RevocationReason::KeyCompromise => rcgen::RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise => rcgen::RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged => rcgen::RevocationReason::AffiliationChanged,
        RevocationReason::Superseded => rcgen::RevocationReason::Superseded,
        RevocationReason::CessationOfOperation => rcgen::RevocationReason::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn => rcgen::RevocationReason::PrivilegeWithdrawn,
    }
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

/// A fresh private key of `algorithm`, PKCS#8 DER (RFC 5208), wiped on drop: ECDSA from ring
/// (through rcgen), RSA from RustCrypto `rsa` (ring cannot generate RSA keys). RSA generation
/// takes a second or more: keep it off async executor threads.
pub fn generate_pkcs8(algorithm: KeyAlgorithm) -> Result<Zeroizing<Vec<u8>>, CaError> {
    let failed = |_| CaError::CannotGenerate { algorithm };
    match algorithm.rsa_modulus_bits() {
        None => {
            let key = KeyPair::generate_for(signature_algorithm(algorithm)).map_err(failed)?;
            Ok(Zeroizing::new(key.serialize_der()))
        }
        Some(bits) => {
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
                .map_err(|_| CaError::CannotGenerate { algorithm })?;
            // SecretDocument wipes its own copy on drop.
            let der = rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(&key)
                .map_err(|_| CaError::CannotGenerate { algorithm })?;
            Ok(Zeroizing::new(der.as_bytes().to_vec()))
        }
    }
}

/// The subject's key: generated, parsed from PKCS#8, a supplied public key or the key of a
/// request, each checked against the declared algorithm.
fn subject_key(key: LeafKey) -> Result<SubjectKey, CaError> {
    match key {
        LeafKey::Generate(algorithm) => {
            let der = generate_pkcs8(algorithm)?;
            subject_key(LeafKey::Pkcs8 {
                der: der.to_vec(),
                algorithm,
            })
        }
        LeafKey::Pkcs8 { der, algorithm } => {
            let der = Zeroizing::new(der);
            let key = KeyPair::from_pkcs8_der_and_sign_algo(
                &der.as_slice().into(),
                signature_algorithm(algorithm),
            )
            .map_err(|source| CaError::KeyRejected { algorithm, source })?;
            check_rsa_size(key.der_bytes(), algorithm)?;
            Ok(SubjectKey::Pair(Box::new(key)))
        }
        LeafKey::Request { der } => {
            let (public_key, algorithm) = super::request::requested_key(&der)
                .map_err(|defect| CaError::BadRequest { defect })?;
            subject_key(LeafKey::External {
                public_key,
                algorithm,
            })
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
pub(super) fn rsa_modulus_bits(public_key: &[u8]) -> Option<usize> {
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
    use crate::ca::RequestDefect;
    use crate::units::demo_province;
    use rsa::pkcs8::EncodePrivateKey;
    use x509_cert::Certificate;
    use x509_cert::crl::CertificateList;
    use x509_cert::der::asn1::ObjectIdentifier;
    use x509_cert::der::oid::AssociatedOid;
    use x509_cert::der::{Decode, Encode, Tag, Tagged};
    use x509_cert::ext::pkix::crl::CrlDistributionPoints;
    use x509_cert::ext::pkix::name::DistributionPointName;
    use x509_cert::ext::pkix::{
        AuthorityKeyIdentifier, BasicConstraints as X509BasicConstraints, CrlNumber, CrlReason,
        ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
    };

    const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

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
    fn rsa_keys_are_generated_at_their_declared_size_and_supplied_ones_must_match_it() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let issued = issuing
            .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::Rsa2048), now())
            .expect("issue organisation");
        let certificate = parse(&issued.certificate_der);
        let spki = &certificate.tbs_certificate.subject_public_key_info;
        assert_eq!(spki.algorithm.oid, RSA_ENCRYPTION);
        assert_eq!(
            rsa_modulus_bits(spki.subject_public_key.raw_bytes()),
            Some(2048)
        );
        let private: rsa::RsaPrivateKey =
            rsa::pkcs8::DecodePrivateKey::from_pkcs8_der(&issued.private_key_pkcs8_der)
                .expect("decode RSA key");
        let certified: rsa::RsaPublicKey =
            rsa::pkcs8::DecodePublicKey::from_public_key_der(&spki.to_der().expect("to der"))
                .expect("decode RSA key");
        assert_eq!(rsa::RsaPublicKey::from(private), certified);

        let error = issuing
            .issue_organisation(
                &unit,
                LeafKey::Pkcs8 {
                    der: issued.private_key_pkcs8_der.clone(),
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
    fn generated_ecdsa_keys_are_pkcs8_of_their_curve() {
        for (algorithm, rcgen_algorithm) in [
            (KeyAlgorithm::EcdsaP256, &rcgen::PKCS_ECDSA_P256_SHA256),
            (KeyAlgorithm::EcdsaP384, &rcgen::PKCS_ECDSA_P384_SHA384),
        ] {
            let der = generate_pkcs8(algorithm).expect("generate pkcs8");
            assert!(
                KeyPair::from_pkcs8_der_and_sign_algo(&der.as_slice().into(), rcgen_algorithm)
                    .is_ok()
            );
        }
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

    fn publication(name: &str) -> Publication {
        Publication {
            crl_url: format!("http://kyso.example/crl/{name}.crl"),
            certificate_url: format!("http://kyso.example/ca/{name}.crt"),
        }
    }

    /// The fullName URIs of the cRLDistributionPoints extension, with its criticality.
    fn crl_distribution_uris(certificate: &Certificate) -> Option<(bool, Vec<String>)> {
        let (critical, points) = extension::<CrlDistributionPoints>(certificate)?;
        let uris = points
            .0
            .iter()
            .flat_map(|point| match &point.distribution_point {
                Some(DistributionPointName::FullName(names)) => names.clone(),
                _ => Vec::new(),
            })
            .map(|name| match name {
                GeneralName::UniformResourceIdentifier(uri) => uri.to_string(),
                other => panic!("unexpected general name {other:?}"),
            })
            .collect();
        Some((critical, uris))
    }

    /// The caIssuers URIs of the authorityInfoAccess extension, with its criticality.
    fn ca_issuers_uris(certificate: &Certificate) -> Option<(bool, Vec<String>)> {
        let (critical, access) = extension::<AuthorityInfoAccessSyntax>(certificate)?;
        let uris = access
            .0
            .iter()
            .map(|description| {
                assert_eq!(description.access_method, CA_ISSUERS);
                match &description.access_location {
                    GeneralName::UniformResourceIdentifier(uri) => uri.to_string(),
                    other => panic!("unexpected general name {other:?}"),
                }
            })
            .collect();
        Some((critical, uris))
    }

    #[test]
    fn a_ca_with_a_publication_points_what_it_issues_to_its_crl_and_certificate() {
        let (mut root, mut issuing) = hierarchy();
        let unit = office();
        let before = issuing
            .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::EcdsaP256), now())
            .expect("issue organisation");
        assert!(crl_distribution_uris(&parse(&before.certificate_der)).is_none());
        assert!(ca_issuers_uris(&parse(&before.certificate_der)).is_none());

        issuing.set_publication(Some(publication("issuing")));
        root.set_publication(Some(publication("root")));
        assert_eq!(issuing.publication(), Some(&publication("issuing")));
        let leaf = issuing
            .issue_personal(
                &unit,
                &unit.leaders[0],
                LeafKey::Generate(KeyAlgorithm::EcdsaP256),
                now(),
            )
            .expect("issue personal");
        let intermediate = root
            .issue_intermediate("Another Issuing CA", "kyso", now())
            .expect("issue intermediate");
        for (der, name) in [
            (leaf.certificate_der.as_slice(), "issuing"),
            (intermediate.certificate_der(), "root"),
        ] {
            let certificate = parse(der);
            assert_eq!(
                crl_distribution_uris(&certificate),
                Some((false, vec![format!("http://kyso.example/crl/{name}.crl")]))
            );
            assert_eq!(
                ca_issuers_uris(&certificate),
                Some((false, vec![format!("http://kyso.example/ca/{name}.crt")]))
            );
        }

        issuing.set_publication(None);
        let after = issuing
            .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::EcdsaP256), now())
            .expect("issue organisation");
        assert!(ca_issuers_uris(&parse(&after.certificate_der)).is_none());
    }

    #[test]
    fn a_publication_url_that_is_not_ascii_is_refused_when_issuing() {
        let (_, mut issuing) = hierarchy();
        issuing.set_publication(Some(Publication {
            crl_url: "http://kyso.example/crl/issuing.crl".to_owned(),
            certificate_url: "http://hòabình.example/ca/issuing.crt".to_owned(),
        }));
        let error = issuing
            .issue_organisation(&office(), LeafKey::Generate(KeyAlgorithm::EcdsaP256), now())
            .expect_err("issue organisation fails");
        assert!(
            matches!(&error, CaError::UnusablePublicationUrl { url } if url.contains("hòabình")),
            "{error}"
        );
    }

    #[test]
    fn a_time_stamping_certificate_has_time_stamping_as_its_only_critical_extended_key_usage() {
        let (root, issuing) = hierarchy();
        let mut unit = office();
        unit.name = "Sở Tài chính tỉnh Hòa Bình".to_owned();
        let issued = issuing
            .issue(
                Profile::TimeStamping { unit: &unit },
                LeafKey::Generate(KeyAlgorithm::EcdsaP256),
                now(),
            )
            .expect("issue time stamping");
        let certificate = parse(&issued.certificate_der);
        let (critical, usages) =
            extension::<ExtendedKeyUsage>(&certificate).expect("extension present");
        assert!(critical);
        assert_eq!(usages.0, vec![TIME_STAMPING]);
        let (_, usage) = extension::<KeyUsage>(&certificate).expect("extension present");
        assert!(usage.digital_signature());
        let (_, common_name) = attribute(&certificate, COMMON_NAME).expect("common name");
        assert!(common_name.starts_with(&unit.name), "{common_name}");
        assert!(
            common_name.ends_with("Dịch vụ cấp dấu thời gian"),
            "{common_name}"
        );
        assert_eq!(
            attribute(&certificate, ORGANISATION),
            Some((Tag::Utf8String, unit.name.clone()))
        );
        assert_eq!(
            attribute(&certificate, UID),
            Some((Tag::Utf8String, unit.code.as_str().to_owned()))
        );

        // A relying party understands the critical extension: the certificate validates for
        // time-stamping and is refused for signing documents.
        let anchors = crate::chain::TrustAnchors::from_der(vec![root.certificate_der().to_vec()])
            .expect("from der");
        let intermediates = vec![issuing.certificate_der().to_vec()];
        let revocation =
            crate::chain::Revocation::new(Vec::new(), crate::chain::RevocationPolicy::SoftFail);
        let purpose =
            crate::chain::Purpose::key_purposes(&["1.3.6.1.5.5.7.3.8"]).expect("key purposes");
        assert!(
            crate::chain::validate_for_purpose(
                &issued.certificate_der,
                &intermediates,
                &anchors,
                now(),
                &revocation,
                &purpose,
            )
            .is_ok()
        );
        assert!(
            crate::chain::validate_signer(
                &issued.certificate_der,
                &intermediates,
                &anchors,
                now(),
                &revocation,
            )
            .is_err()
        );
    }

    #[test]
    fn a_time_stamping_common_name_too_long_with_the_unit_name_names_only_the_service() {
        let (_, issuing) = hierarchy();
        let mut unit = office();
        unit.name = "Trung tâm Phục vụ hành chính công tỉnh Hòa Bình".to_owned();
        let issued = issuing
            .issue(
                Profile::TimeStamping { unit: &unit },
                LeafKey::Generate(KeyAlgorithm::EcdsaP256),
                now(),
            )
            .expect("issue time stamping");
        assert_eq!(
            attribute(&parse(&issued.certificate_der), COMMON_NAME),
            Some((Tag::Utf8String, "Dịch vụ cấp dấu thời gian".to_owned()))
        );
    }

    fn request(key: &KeyPair, common_name: &str) -> Vec<u8> {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .serialize_request(key)
            .expect("serialize request")
            .der()
            .to_vec()
    }

    #[test]
    fn a_request_contributes_only_its_public_key_to_the_certificate() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let requester =
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("generate for");
        let issued = issuing
            .issue(
                Profile::Organisation { unit: &unit },
                LeafKey::Request {
                    der: request(&requester, "Mallory CA"),
                },
                now(),
            )
            .expect("issue for request");
        assert!(issued.private_key_pkcs8_der.is_empty());
        let certificate = parse(&issued.certificate_der);
        assert_eq!(
            certificate
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes(),
            requester.der_bytes()
        );
        assert_eq!(
            attribute(&certificate, COMMON_NAME),
            Some((Tag::Utf8String, unit.name.clone()))
        );
        let (_, constraints) =
            extension::<X509BasicConstraints>(&certificate).expect("extension present");
        assert!(!constraints.ca);
        let (_, usage) = extension::<KeyUsage>(&certificate).expect("extension present");
        assert!(!usage.key_cert_sign());
    }

    fn openssl(arguments: &[&str], dir: &std::path::Path) -> std::process::Output {
        let output = std::process::Command::new("openssl")
            .args(arguments)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            output.status.success(),
            "openssl {arguments:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    #[test]
    fn requests_made_by_openssl_are_certified_with_their_key() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let dir = tempfile::tempdir().expect("tempdir");
        for (new_key, algorithm) in [
            ("ec", KeyAlgorithm::EcdsaP256),
            ("rsa:2048", KeyAlgorithm::Rsa2048),
        ] {
            let mut arguments = vec!["req", "-new", "-newkey", new_key];
            if new_key == "ec" {
                arguments.extend(["-pkeyopt", "ec_paramgen_curve:P-256"]);
            }
            arguments.extend([
                "-nodes", "-subj", "/CN=x", "-outform", "DER", "-keyout", "key.pem", "-out",
                "req.der",
            ]);
            openssl(&arguments, dir.path());
            let der = std::fs::read(dir.path().join("req.der")).expect("read request");
            let issued = issuing
                .issue(
                    Profile::Organisation { unit: &unit },
                    LeafKey::Request { der },
                    now(),
                )
                .expect("issue for request");
            let certificate = parse(&issued.certificate_der);
            let spki = &certificate.tbs_certificate.subject_public_key_info;
            // The certified key is openssl's: its public key in the same SPKI form.
            let output = openssl(
                &["pkey", "-in", "key.pem", "-pubout", "-outform", "DER"],
                dir.path(),
            );
            assert_eq!(output.stdout, spki.to_der().expect("to der"), "{algorithm}");
        }
    }

    #[test]
    fn a_request_whose_signature_does_not_verify_or_that_is_not_der_is_refused() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let requester =
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("generate for");
        let mut der = request(&requester, "x");
        let last = der.len() - 1;
        der[last] ^= 0x01;
        let error = issuing
            .issue(
                Profile::Organisation { unit: &unit },
                LeafKey::Request { der },
                now(),
            )
            .expect_err("issue for request fails");
        assert!(
            matches!(
                error,
                CaError::BadRequest {
                    defect: RequestDefect::BadSignature
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("does not verify"), "{error}");

        let error = issuing
            .issue(
                Profile::Organisation { unit: &unit },
                LeafKey::Request {
                    der: b"-----BEGIN CERTIFICATE REQUEST-----".to_vec(),
                },
                now(),
            )
            .expect_err("issue for request fails");
        assert!(
            matches!(
                error,
                CaError::BadRequest {
                    defect: RequestDefect::NotDer
                }
            ),
            "{error}"
        );
    }

    fn serial_bytes(der: &[u8]) -> Vec<u8> {
        parse(der).tbs_certificate.serial_number.as_bytes().to_vec()
    }

    #[test]
    fn a_revoked_certificate_is_listed_in_the_crl_with_its_reason() {
        let (_, issuing) = hierarchy();
        let unit = office();
        let issue = || {
            issuing
                .issue_organisation(&unit, LeafKey::Generate(KeyAlgorithm::EcdsaP256), now())
                .expect("issue organisation")
        };
        let (compromised, superseded, plain) = (issue(), issue(), issue());
        let revoked_at = now() + Duration::from_secs(600);
        let this_update = now() + Duration::from_secs(3600);
        let next_update = this_update + Duration::from_secs(24 * 3600);
        let revoked = [
            RevokedCertificate {
                serial: serial_bytes(&compromised.certificate_der),
                revoked_at,
                reason: RevocationReason::KeyCompromise,
            },
            RevokedCertificate {
                serial: serial_bytes(&superseded.certificate_der),
                revoked_at,
                reason: RevocationReason::Superseded,
            },
            RevokedCertificate {
                serial: serial_bytes(&plain.certificate_der),
                revoked_at,
                reason: RevocationReason::Unspecified,
            },
        ];
        let der = issuing
            .crl(7, this_update, next_update, &revoked)
            .expect("crl");

        let list = CertificateList::from_der(&der).expect("from der");
        let tbs = &list.tbs_cert_list;
        assert_eq!(tbs.version, x509_cert::Version::V2);
        assert_eq!(tbs.this_update.to_system_time(), this_update);
        assert_eq!(
            tbs.next_update.expect("next update").to_system_time(),
            next_update
        );
        assert_eq!(
            tbs.issuer.to_der().expect("to der"),
            parse(issuing.certificate_der())
                .tbs_certificate
                .subject
                .to_der()
                .expect("to der")
        );
        let extensions = tbs.crl_extensions.as_ref().expect("crl extensions");
        let number = extensions
            .iter()
            .find(|extension| extension.extn_id == CrlNumber::OID)
            .expect("crl number");
        let number = CrlNumber::from_der(number.extn_value.as_bytes()).expect("from der");
        assert_eq!(number.0.as_bytes(), [7]);
        let authority = extensions
            .iter()
            .find(|extension| extension.extn_id == AuthorityKeyIdentifier::OID)
            .expect("authority key identifier");
        let authority =
            AuthorityKeyIdentifier::from_der(authority.extn_value.as_bytes()).expect("from der");
        assert_eq!(
            authority.key_identifier.expect("key identifier").as_bytes(),
            ski(&parse(issuing.certificate_der()))
        );

        let entries = tbs.revoked_certificates.as_ref().expect("entries");
        assert_eq!(entries.len(), 3);
        let reasons: Vec<(Vec<u8>, Option<CrlReason>)> = entries
            .iter()
            .map(|entry| {
                assert_eq!(entry.revocation_date.to_system_time(), revoked_at);
                let reason = entry.crl_entry_extensions.as_ref().and_then(|extensions| {
                    extensions
                        .iter()
                        .find(|extension| extension.extn_id == CrlReason::OID)
                        .map(|extension| {
                            CrlReason::from_der(extension.extn_value.as_bytes()).expect("from der")
                        })
                });
                (entry.serial_number.as_bytes().to_vec(), reason)
            })
            .collect();
        assert_eq!(
            reasons,
            vec![
                (revoked[0].serial.clone(), Some(CrlReason::KeyCompromise)),
                (revoked[1].serial.clone(), Some(CrlReason::Superseded)),
                // RFC 5280 §5.3.1: no reasonCode rather than unspecified.
                (revoked[2].serial.clone(), None),
            ]
        );

        // openssl reads it and verifies its signature with the issuing CA's key.
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("list.crl"), &der).expect("write crl");
        std::fs::write(dir.path().join("issuing-ca.pem"), issuing.certificate_pem())
            .expect("write ca");
        let text = openssl(
            &[
                "crl", "-inform", "DER", "-in", "list.crl", "-noout", "-text",
            ],
            dir.path(),
        );
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("Key Compromise"), "{text}");
        assert!(text.contains("Superseded"), "{text}");
        let verified = openssl(
            &[
                "crl",
                "-inform",
                "DER",
                "-in",
                "list.crl",
                "-CAfile",
                "issuing-ca.pem",
                "-noout",
            ],
            dir.path(),
        );
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&verified.stdout),
            String::from_utf8_lossy(&verified.stderr)
        );
        assert!(said.contains("verify OK"), "{said}");
    }

    #[test]
    fn a_crl_with_no_revocations_or_updates_out_of_order() {
        let (_, issuing) = hierarchy();
        let der = issuing
            .crl(1, now(), now() + Duration::from_secs(3600), &[])
            .expect("crl");
        let list = CertificateList::from_der(&der).expect("from der");
        assert!(list.tbs_cert_list.revoked_certificates.is_none());
        let error = issuing.crl(2, now(), now(), &[]).expect_err("crl fails");
        assert!(
            matches!(error, CaError::CrlUpdatesOutOfOrder { .. }),
            "{error}"
        );
    }

    #[test]
    fn a_reloaded_ca_signs_crls_with_the_authority_key_identifier_of_its_certificate() {
        let (_, issuing) = hierarchy();
        let reloaded =
            CertificateAuthority::from_pem(issuing.certificate_pem(), &issuing.private_key_pem())
                .expect("from pem");
        let der = reloaded
            .crl(3, now(), now() + Duration::from_secs(3600), &[])
            .expect("crl");
        let list = CertificateList::from_der(&der).expect("from der");
        let extensions = list.tbs_cert_list.crl_extensions.expect("crl extensions");
        let authority = extensions
            .iter()
            .find(|extension| extension.extn_id == AuthorityKeyIdentifier::OID)
            .expect("authority key identifier");
        let authority =
            AuthorityKeyIdentifier::from_der(authority.extn_value.as_bytes()).expect("from der");
        assert_eq!(
            authority.key_identifier.expect("key identifier").as_bytes(),
            ski(&parse(issuing.certificate_der()))
        );
    }
}
