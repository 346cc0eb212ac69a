//! The signer's certificate chain as CMS embeds it, and the facts about a
//! certificate that the rest of kyso needs (kept in kyso's own types).

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{CertificateSet, SignerIdentifier};
use der::asn1::ContextSpecificRef;
use der::{Decode, Encode, TagMode, TagNumber};
use std::time::SystemTime;
use x509_cert::Certificate;

/// What is wrong with a certificate given to kyso.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// The bytes are not a DER X.509 certificate.
    #[error("certificate {index} is not a DER X.509 certificate: {source}")]
    NotACertificate {
        /// Position in the chain (0 = signer).
        index: usize,
        /// The decoder's error.
        source: der::Error,
    },
    /// No certificate was given at all.
    #[error("no signer certificate was given")]
    Missing,
    /// The certificates could not be encoded into CMS structures.
    #[error("cannot encode the signer's certificates for CMS: {0}")]
    Encoding(#[from] Box<super::CmsError>),
}

/// The signer certificate and the intermediates embedded beside it.
///
/// What every signature by this signer repeats — the certificate set, the
/// SignerIdentifier and the ESS signing-certificate-v2 attribute — is
/// DER-encoded once, here, and written into each CMS as it is.
#[derive(Debug, Clone)]
pub struct SignerCertificates {
    signer: Certificate,
    /// SignedData's `certificates [0] IMPLICIT CertificateSet` (RFC 5652 §5.1).
    certificates_der: Vec<u8>,
    /// SignerInfo's `sid`: issuerAndSerialNumber (RFC 5652 §5.3).
    signer_identifier_der: Vec<u8>,
    /// The ESS signing-certificate-v2 attribute naming the signer.
    signing_certificate_der: Vec<u8>,
}

impl SignerCertificates {
    /// Parses the signer certificate (first) and its chain (issuers after it),
    /// all DER.
    pub fn from_der_chain<B: AsRef<[u8]>>(chain: &[B]) -> Result<Self, CertificateError> {
        let mut parsed = chain.iter().enumerate().map(|(index, der)| {
            Certificate::from_der(der.as_ref())
                .map_err(|source| CertificateError::NotACertificate { index, source })
        });
        let signer = parsed.next().ok_or(CertificateError::Missing)??;
        let intermediates = parsed.collect::<Result<Vec<_>, _>>()?;
        let choices = std::iter::once(&signer)
            .chain(&intermediates)
            .map(|c| CertificateChoices::Certificate(c.clone()))
            .collect::<Vec<_>>();
        let encoding = |what| {
            move |source| {
                CertificateError::Encoding(Box::new(super::CmsError::Encoding { what, source }))
            }
        };
        let certificate_set =
            CertificateSet::try_from(choices).map_err(encoding("certificate set"))?;
        let certificates_der = ContextSpecificRef {
            tag_number: TagNumber::N0,
            tag_mode: TagMode::Implicit,
            value: &certificate_set,
        }
        .to_der()
        .map_err(encoding("certificate set"))?;
        let signer_identifier_der =
            SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: signer.tbs_certificate.issuer.clone(),
                serial_number: signer.tbs_certificate.serial_number.clone(),
            })
            .to_der()
            .map_err(encoding("signer identifier"))?;
        let signing_certificate_der = super::ess::signing_certificate_v2(&signer)
            .map_err(Box::new)?
            .to_der()
            .map_err(encoding("signing-certificate-v2"))?;
        Ok(Self {
            signer,
            certificates_der,
            signer_identifier_der,
            signing_certificate_der,
        })
    }

    /// SignedData's `[0] IMPLICIT CertificateSet`, DER.
    pub(super) fn certificates_der(&self) -> &[u8] {
        &self.certificates_der
    }

    /// The SignerIdentifier naming the signer certificate, DER.
    pub(super) fn signer_identifier_der(&self) -> &[u8] {
        &self.signer_identifier_der
    }

    /// The ESS signing-certificate-v2 attribute naming the signer, DER.
    pub(super) fn signing_certificate_der(&self) -> &[u8] {
        &self.signing_certificate_der
    }

    /// Facts about the signer certificate.
    pub fn signer_info(&self) -> CertificateInfo {
        CertificateInfo::of(&self.signer)
    }
}

/// Facts about one certificate, in kyso's types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Subject, RFC 4514 string (UTF-8 kept).
    pub subject: String,
    /// The subject's common name, when it has one.
    pub common_name: Option<String>,
    /// The subject's organisation, when it has one.
    pub organisation: Option<String>,
    /// Issuer, RFC 4514 string.
    pub issuer: String,
    /// Serial number, upper-case hex without separators.
    pub serial_hex: String,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
    /// The `subjectPublicKey` BIT STRING contents.
    pub public_key: Vec<u8>,
}

impl CertificateInfo {
    /// Parses one DER certificate.
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, CertificateError> {
        let certificate = Certificate::from_der(der_bytes)
            .map_err(|source| CertificateError::NotACertificate { index: 0, source })?;
        Ok(Self::of(&certificate))
    }

    pub(super) fn of(certificate: &Certificate) -> Self {
        let tbs = &certificate.tbs_certificate;
        Self {
            subject: rfc4514(&tbs.subject),
            common_name: attribute_text(&tbs.subject, const_oid::db::rfc4519::CN),
            organisation: attribute_text(&tbs.subject, const_oid::db::rfc4519::O),
            issuer: rfc4514(&tbs.issuer),
            serial_hex: tbs
                .serial_number
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect(),
            not_before: tbs.validity.not_before.to_system_time(),
            not_after: tbs.validity.not_after.to_system_time(),
            public_key: tbs
                .subject_public_key_info
                .subject_public_key
                .raw_bytes()
                .to_vec(),
        }
    }

    /// True when `at` lies inside the validity period (RFC 5280 §4.1.2.5: both ends inclusive).
    pub fn is_valid_at(&self, at: SystemTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

/// The first attribute `oid` of a name (e.g. commonName 2.5.4.3), decoded
/// from UTF8String, PrintableString or BMPString.
fn attribute_text(
    name: &x509_cert::name::Name,
    oid: const_oid::ObjectIdentifier,
) -> Option<String> {
    use der::asn1::{BmpString, PrintableStringRef, Utf8StringRef};
    let value = name
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)?
        .value
        .clone();
    match der::Tagged::tag(&value) {
        der::Tag::Utf8String => Utf8StringRef::try_from(&value).ok().map(|s| s.to_string()),
        der::Tag::PrintableString => PrintableStringRef::try_from(&value)
            .ok()
            .map(|s| s.to_string()),
        der::Tag::BmpString => value.decode_as::<BmpString>().ok().map(|s| s.to_string()),
        _ => None,
    }
}

/// Attribute types that names are spelt with nearly always (RFC 4519,
/// RFC 5280 Appendix A, PKCS #9 emailAddress), whose names are looked up in
/// the OID database once rather than for every name.
const COMMON_ATTRIBUTE_TYPES: [const_oid::ObjectIdentifier; 17] = {
    use const_oid::db::rfc4519;
    [
        rfc4519::CN,
        rfc4519::O,
        rfc4519::OU,
        rfc4519::C,
        rfc4519::L,
        rfc4519::ST,
        rfc4519::STREET,
        rfc4519::SERIAL_NUMBER,
        rfc4519::TITLE,
        rfc4519::SN,
        rfc4519::GIVEN_NAME,
        rfc4519::DC,
        rfc4519::UID,
        rfc4519::POSTAL_CODE,
        // emailAddress (PKCS #9), pseudonym, organizationIdentifier.
        const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1"),
        const_oid::ObjectIdentifier::new_unwrap("2.5.4.65"),
        const_oid::ObjectIdentifier::new_unwrap("2.5.4.97"),
    ]
};

/// The name the OID database gives an attribute type, as x509-cert's
/// `Display` looks it up (a walk over the whole database), remembered for
/// the common types.
fn attribute_type_name(oid: &const_oid::ObjectIdentifier) -> Option<&'static str> {
    type Names = Vec<(const_oid::ObjectIdentifier, Option<&'static str>)>;
    static COMMON: std::sync::OnceLock<Names> = std::sync::OnceLock::new();
    let common = COMMON.get_or_init(|| {
        COMMON_ATTRIBUTE_TYPES
            .iter()
            .map(|oid| (*oid, shortest_name(oid)))
            .collect()
    });
    match common.iter().find(|(known, _)| known == oid) {
        Some((_, name)) => *name,
        None => shortest_name(oid),
    }
}

/// The shortest of the names the OID database has for `oid`, the first of
/// equally short ones (x509-cert 0.2's private `shortest_name_by_oid`).
fn shortest_name(oid: &const_oid::ObjectIdentifier) -> Option<&'static str> {
    let mut best: Option<&'static str> = None;
    for name in const_oid::db::DB.find_names_for_oid(*oid) {
        if best.is_none_or(|previous| name.len() < previous.len()) {
            best = Some(name);
        }
    }
    best
}

/// A distinguished name as RFC 4514 text, character for character what
/// x509-cert's `Display` writes (RDNs last first, `,` between them, `+`
/// inside one, values escaped, unnamed or non-string values as `oid=#hex`).
fn rfc4514(name: &x509_cert::name::Name) -> String {
    let mut out = String::new();
    for (i, rdn) in name.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            // Writing to a String cannot fail.
            let _ = write_attribute(&mut out, atv);
        }
    }
    out
}

/// One `type=value` of [`rfc4514`] (x509-cert 0.2's
/// `AttributeTypeAndValue` `Display`).
fn write_attribute(
    out: &mut String,
    atv: &x509_cert::attr::AttributeTypeAndValue,
) -> std::fmt::Result {
    use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
    use der::{Encode, Tag, Tagged};
    use std::fmt::Write;
    let value = match atv.value.tag() {
        Tag::PrintableString => PrintableStringRef::try_from(&atv.value)
            .ok()
            .map(|s| s.as_str()),
        Tag::Utf8String => Utf8StringRef::try_from(&atv.value).ok().map(|s| s.as_str()),
        Tag::Ia5String => Ia5StringRef::try_from(&atv.value).ok().map(|s| s.as_str()),
        Tag::TeletexString => TeletexStringRef::try_from(&atv.value)
            .ok()
            .map(|s| s.as_str()),
        _ => None,
    };
    if let (Some(key), Some(value)) = (attribute_type_name(&atv.oid), value) {
        write!(out, "{}=", key.to_ascii_uppercase())?;
        let mut chars = value.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '#' if i == 0 => out.push_str("\\#"),
                ' ' if i == 0 || chars.peek().is_none() => out.push_str("\\ "),
                '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                '\x00'..='\x1f' | '\x7f' => write!(out, "\\{:02x}", c as u8)?,
                _ => out.push(c),
            }
        }
    } else {
        let value = atv.value.to_der().map_err(|_| std::fmt::Error)?;
        write!(out, "{}=#", atv.oid)?;
        for byte in value {
            write!(out, "{byte:02x}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use x509_cert::name::Name;

    #[test]
    fn names_are_written_as_x509_cert_writes_them() {
        let names = [
            "CN=Ủy ban nhân dân tỉnh Hòa Bình,O=UBND,C=VN",
            "CN=a\\,b+UID=x,OU=\\#hash,L=\\ lead and trail\\ ,ST=q\\\"uote<>;",
            "DC=example,DC=org,emailAddress=a@b.vn,serialNumber=123,title=T,SN=S,givenName=G",
            "2.5.4.97=VATVN-0101,postalCode=10000,street=1 Hang Bai,pseudonym=p",
            "1.2.3.4=#0c0474657374,CN=x",
            "CN=#04020102",
        ];
        for text in names {
            let name = Name::from_str(text).expect(text);
            assert_eq!(rfc4514(&name), name.to_string(), "{text}");
        }
        let empty = Name::default();
        assert_eq!(rfc4514(&empty), empty.to_string());
    }
}
