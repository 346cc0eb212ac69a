//! Reading back the CA certificates this module stores, and writing PEM.
//!
//! rcgen (as configured for kyso, without its `x509-parser` feature) can write certificates but
//! not read them, and reloading a CA needs a few facts from its certificate: the subject name
//! (re-encoded byte for byte as the issuer name of what it signs, RFC 5280 §4.1.2.4), the
//! validity, the public key, the subject key identifier and the CA constraints. This is a small,
//! strict DER reader for exactly those facts. It is meant for certificates kyso wrote into its
//! own data directory, not for certificates from the outside world: those go through `cms`.
//! It does not check the certificate's signature.

use std::time::SystemTime;

use rcgen::{DistinguishedName, DnType, DnValue, KeyUsagePurpose};

use super::CertificateDefect;

/// The facts of a CA certificate needed to issue under it.
#[derive(Debug)]
pub(super) struct CertificateFacts {
    /// The subject, in the order and string types it was encoded with.
    pub subject: DistinguishedName,
    /// Start of the validity period.
    pub not_before: SystemTime,
    /// End of the validity period.
    pub not_after: SystemTime,
    /// The subjectPublicKey BIT STRING's bytes (after the unused-bits octet).
    pub public_key: Vec<u8>,
    /// The subjectKeyIdentifier, when present.
    pub subject_key_identifier: Option<Vec<u8>>,
    /// `Some(path length constraint)` when basicConstraints says cA = TRUE.
    pub ca_path_length: Option<Option<u8>>,
    /// The keyUsage bits, when the extension is present.
    pub key_usages: Option<Vec<KeyUsagePurpose>>,
}

// Universal tags (X.690 §8.1.2) and the context tags of TBSCertificate (RFC 5280 §4.1).
const BOOLEAN: u8 = 0x01;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OBJECT_IDENTIFIER: u8 = 0x06;
const UTF8_STRING: u8 = 0x0C;
const PRINTABLE_STRING: u8 = 0x13;
const IA5_STRING: u8 = 0x16;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const VERSION: u8 = 0xA0;
const ISSUER_UNIQUE_ID: u8 = 0x81;
const SUBJECT_UNIQUE_ID: u8 = 0x82;
const EXTENSIONS: u8 = 0xA3;

const SUBJECT_KEY_IDENTIFIER: &[u64] = &[2, 5, 29, 14];
const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];

/// A reader over concatenated DER TLVs. Only single-byte tags and definite lengths of up to
/// four octets are accepted: that covers every certificate field read here.
struct Der<'a> {
    input: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// Reads one TLV whatever its tag: `(tag, contents)`.
    fn any(&mut self) -> Result<(u8, &'a [u8]), CertificateDefect> {
        let (&tag, rest) = self
            .input
            .split_first()
            .ok_or(CertificateDefect::Truncated)?;
        if tag & 0x1F == 0x1F {
            return Err(CertificateDefect::UnsupportedEncoding);
        }
        let (&first, mut rest) = rest.split_first().ok_or(CertificateDefect::Truncated)?;
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            let octets = usize::from(first & 0x7F);
            // 0x80 is the indefinite form, which DER forbids (X.690 §10.1).
            if octets == 0 || octets > 4 || octets > rest.len() {
                return Err(CertificateDefect::UnsupportedEncoding);
            }
            let (length_octets, after) = rest.split_at(octets);
            rest = after;
            length_octets
                .iter()
                .fold(0usize, |length, &octet| (length << 8) | usize::from(octet))
        };
        if length > rest.len() {
            return Err(CertificateDefect::Truncated);
        }
        let (contents, after) = rest.split_at(length);
        self.input = after;
        Ok((tag, contents))
    }

    /// Reads one TLV that must carry `tag`, naming `field` if it does not.
    fn expect(&mut self, tag: u8, field: &'static str) -> Result<&'a [u8], CertificateDefect> {
        match self.peek_tag() {
            Some(found) if found == tag => self.any().map(|(_, contents)| contents),
            found => Err(CertificateDefect::UnexpectedField { field, found }),
        }
    }

    /// Reads a TLV with `tag` if it comes next.
    fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, CertificateDefect> {
        if self.peek_tag() == Some(tag) {
            self.any().map(|(_, contents)| Some(contents))
        } else {
            Ok(None)
        }
    }

    fn finish(&self, field: &'static str) -> Result<(), CertificateDefect> {
        match self.peek_tag() {
            None => Ok(()),
            found => Err(CertificateDefect::UnexpectedField { field, found }),
        }
    }
}

/// Reads the CA facts from a DER certificate.
pub(super) fn certificate_facts(der: &[u8]) -> Result<CertificateFacts, CertificateDefect> {
    let mut outer = Der::new(der);
    let certificate = outer.expect(SEQUENCE, "Certificate")?;
    outer.finish("end of certificate")?;
    let mut certificate = Der::new(certificate);
    let mut tbs = Der::new(certificate.expect(SEQUENCE, "tbsCertificate")?);

    tbs.optional(VERSION)?;
    tbs.expect(INTEGER, "serialNumber")?;
    tbs.expect(SEQUENCE, "signature")?;
    tbs.expect(SEQUENCE, "issuer")?;
    let mut validity = Der::new(tbs.expect(SEQUENCE, "validity")?);
    let not_before = time_value(&mut validity)?;
    let not_after = time_value(&mut validity)?;
    validity.finish("end of validity")?;
    let subject = name(tbs.expect(SEQUENCE, "subject")?)?;
    let mut spki = Der::new(tbs.expect(SEQUENCE, "subjectPublicKeyInfo")?);
    spki.expect(SEQUENCE, "algorithm")?;
    let public_key = match spki.expect(BIT_STRING, "subjectPublicKey")?.split_first() {
        Some((0, key)) => key.to_vec(),
        _ => return Err(CertificateDefect::UnsupportedEncoding),
    };
    tbs.optional(ISSUER_UNIQUE_ID)?;
    tbs.optional(SUBJECT_UNIQUE_ID)?;

    let mut facts = CertificateFacts {
        subject,
        not_before,
        not_after,
        public_key,
        subject_key_identifier: None,
        ca_path_length: None,
        key_usages: None,
    };
    if let Some(extensions) = tbs.optional(EXTENSIONS)? {
        let mut list = Der::new(Der::new(extensions).expect(SEQUENCE, "extensions")?);
        while !list.is_empty() {
            extension(list.expect(SEQUENCE, "extension")?, &mut facts)?;
        }
    }
    tbs.finish("end of tbsCertificate")?;
    Ok(facts)
}

fn extension(der: &[u8], facts: &mut CertificateFacts) -> Result<(), CertificateDefect> {
    let mut fields = Der::new(der);
    let id = object_identifier(fields.expect(OBJECT_IDENTIFIER, "extnID")?)?;
    fields.optional(BOOLEAN)?;
    let mut value = Der::new(fields.expect(OCTET_STRING, "extnValue")?);
    if id == SUBJECT_KEY_IDENTIFIER {
        facts.subject_key_identifier = Some(value.expect(OCTET_STRING, "keyIdentifier")?.to_vec());
    } else if id == BASIC_CONSTRAINTS {
        let mut constraints = Der::new(value.expect(SEQUENCE, "basicConstraints")?);
        let is_ca = constraints
            .optional(BOOLEAN)?
            .is_some_and(|flag| flag != [0]);
        let path_length = match constraints.optional(INTEGER)? {
            None => None,
            Some(&[length]) if length < 0x80 => Some(length),
            Some(_) => return Err(CertificateDefect::UnsupportedEncoding),
        };
        facts.ca_path_length = is_ca.then_some(path_length);
    } else if id == KEY_USAGE {
        let bits = value.expect(BIT_STRING, "keyUsage")?;
        facts.key_usages = Some(key_usages(bits));
    }
    Ok(())
}

/// KeyUsage BIT STRING (RFC 5280 §4.2.1.3): bit 0 is the first octet's most significant bit.
fn key_usages(bits: &[u8]) -> Vec<KeyUsagePurpose> {
    const ORDER: [KeyUsagePurpose; 9] = [
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DataEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::EncipherOnly,
        KeyUsagePurpose::DecipherOnly,
    ];
    let octets = bits.get(1..).unwrap_or_default();
    ORDER
        .iter()
        .enumerate()
        .filter(|(bit, _)| {
            octets
                .get(bit / 8)
                .is_some_and(|octet| octet & (0x80 >> (bit % 8)) != 0)
        })
        .map(|(_, usage)| *usage)
        .collect()
}

/// Name ::= SEQUENCE OF RelativeDistinguishedName (RFC 5280 §4.1.2.4), one attribute per RDN
/// and each attribute type once: the only names rcgen can write back identically.
fn name(der: &[u8]) -> Result<DistinguishedName, CertificateDefect> {
    let mut name = DistinguishedName::new();
    let mut rdns = Der::new(der);
    while !rdns.is_empty() {
        let mut rdn = Der::new(rdns.expect(SET, "RelativeDistinguishedName")?);
        let mut attribute = Der::new(rdn.expect(SEQUENCE, "AttributeTypeAndValue")?);
        if !rdn.is_empty() {
            return Err(CertificateDefect::UnsupportedName);
        }
        let kind = DnType::from_oid(&object_identifier(
            attribute.expect(OBJECT_IDENTIFIER, "AttributeType")?,
        )?);
        let (tag, contents) = attribute.any()?;
        attribute.finish("end of AttributeTypeAndValue")?;
        let text = std::str::from_utf8(contents).map_err(|_| CertificateDefect::UnsupportedName)?;
        let value = match tag {
            UTF8_STRING => DnValue::Utf8String(text.to_owned()),
            PRINTABLE_STRING => DnValue::PrintableString(
                text.try_into()
                    .map_err(|_| CertificateDefect::UnsupportedName)?,
            ),
            IA5_STRING => DnValue::Ia5String(
                text.try_into()
                    .map_err(|_| CertificateDefect::UnsupportedName)?,
            ),
            _ => return Err(CertificateDefect::UnsupportedName),
        };
        if name.get(&kind).is_some() {
            return Err(CertificateDefect::UnsupportedName);
        }
        name.push(kind, value);
    }
    Ok(name)
}

/// OBJECT IDENTIFIER contents (X.690 §8.19) as arcs.
fn object_identifier(contents: &[u8]) -> Result<Vec<u64>, CertificateDefect> {
    let mut subidentifiers = Vec::new();
    let mut value: u64 = 0;
    for (index, &octet) in contents.iter().enumerate() {
        if value > u64::MAX >> 7 {
            return Err(CertificateDefect::UnsupportedEncoding);
        }
        value = (value << 7) | u64::from(octet & 0x7F);
        if octet & 0x80 == 0 {
            subidentifiers.push(value);
            value = 0;
        } else if index + 1 == contents.len() {
            return Err(CertificateDefect::Truncated);
        }
    }
    let (&first, rest) = subidentifiers
        .split_first()
        .ok_or(CertificateDefect::UnsupportedEncoding)?;
    let (arc0, arc1) = match first {
        0..40 => (0, first),
        40..80 => (1, first - 40),
        _ => (2, first - 80),
    };
    Ok([arc0, arc1]
        .into_iter()
        .chain(rest.iter().copied())
        .collect())
}

/// Time ::= UTCTime | GeneralizedTime, in the forms RFC 5280 §4.1.2.5 allows:
/// `YYMMDDHHMMSSZ` (years 1950–2049) and `YYYYMMDDHHMMSSZ`.
fn time_value(der: &mut Der<'_>) -> Result<SystemTime, CertificateDefect> {
    let (tag, contents) = der.any()?;
    let digits = match (tag, contents.split_last()) {
        (UTC_TIME | GENERALIZED_TIME, Some((b'Z', digits))) => digits,
        _ => return Err(CertificateDefect::UnsupportedTime),
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(CertificateDefect::UnsupportedTime);
    }
    let number = |range: std::ops::Range<usize>| {
        digits
            .get(range)
            .map(|part| part.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
            .ok_or(CertificateDefect::UnsupportedTime)
    };
    let (year, rest) = match (tag, digits.len()) {
        (UTC_TIME, 12) => {
            let short = number(0..2)?;
            (
                if short >= 50 {
                    1900 + short
                } else {
                    2000 + short
                },
                2,
            )
        }
        (GENERALIZED_TIME, 14) => (number(0..4)?, 4),
        _ => return Err(CertificateDefect::UnsupportedTime),
    };
    let field = |index: usize| {
        number(rest + 2 * index..rest + 2 * index + 2)
            .and_then(|n| u8::try_from(n).map_err(|_| CertificateDefect::UnsupportedTime))
    };
    let month = time::Month::try_from(field(0)?).map_err(|_| CertificateDefect::UnsupportedTime)?;
    let (day, hour, minute, second) = (field(1)?, field(2)?, field(3)?, field(4)?);
    let date = time::Date::from_calendar_date(i32::from(year), month, day)
        .and_then(|date| date.with_hms(hour, minute, second))
        .map_err(|_| CertificateDefect::UnsupportedTime)?;
    Ok(date.assume_utc().into())
}

/// The contents of the first PEM block labelled `label` (RFC 7468), e.g. `CERTIFICATE`.
pub(super) fn pem_decode(text: &str, label: &str) -> Result<Vec<u8>, CertificateDefect> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).ok_or(CertificateDefect::NotPem)? + begin.len();
    let length = text[start..].find(&end).ok_or(CertificateDefect::NotPem)?;
    base64_decode(&text[start..start + length]).ok_or(CertificateDefect::NotPem)
}

/// A PEM block labelled `label`, base64 lines of 64 characters (RFC 7468 §2), ending in `\n`.
pub(super) fn pem_encode(label: &str, der: &[u8]) -> String {
    let encoded = base64_encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (index, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if index <= chunk.len() {
                out.push(char::from(BASE64_ALPHABET[((n >> shift) & 0x3F) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding; whitespace between characters is ignored.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !symbols.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(symbols.len() / 4 * 3);
    let quads = symbols.chunks(4);
    let last = quads.len().saturating_sub(1);
    for (index, quad) in quads.enumerate() {
        let padding = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && index != last) {
            return None;
        }
        let mut n: u32 = 0;
        for &symbol in &quad[..4 - padding] {
            let value = BASE64_ALPHABET.iter().position(|&a| a == symbol)?;
            n = (n << 6) | value as u32;
        }
        n <<= 6 * padding as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_padding_length() {
        for length in 0..10 {
            let bytes: Vec<u8> = (0..length).map(|i| (i * 37 + 200) as u8).collect();
            let encoded = base64_encode(&bytes);
            assert_eq!(
                base64_decode(&encoded).expect("base64 decode"),
                bytes,
                "{encoded}"
            );
        }
        assert_eq!(base64_encode(b"Ma"), "TWE=");
        assert_eq!(base64_decode("TW\nE=").expect("base64 decode"), b"Ma");
        assert!(base64_decode("TWE").is_none());
        assert!(base64_decode("TW==TWE=").is_none());
        assert!(base64_decode("T*E=").is_none());
    }

    #[test]
    fn pem_block_is_found_among_other_text_and_lines_are_64_characters() {
        let der: Vec<u8> = (0..100).collect();
        let pem = pem_encode("CERTIFICATE", &der);
        assert!(pem.lines().all(|line| line.len() <= 64));
        let text = format!("subject=whatever\n{pem}trailing");
        assert_eq!(pem_decode(&text, "CERTIFICATE").expect("pem decode"), der);
        assert_eq!(
            pem_decode(&pem, "PRIVATE KEY").expect_err("pem decode fails"),
            CertificateDefect::NotPem
        );
    }

    #[test]
    fn object_identifiers_decode_to_arcs() {
        // 0.9.2342.19200300.100.1.1 (userId) and 2.5.29.19 (basicConstraints).
        let uid = [0x09, 0x92, 0x26, 0x89, 0x93, 0xF2, 0x2C, 0x64, 0x01, 0x01];
        assert_eq!(
            object_identifier(&uid).expect("object identifier"),
            vec![0, 9, 2342, 19200300, 100, 1, 1]
        );
        assert_eq!(
            object_identifier(&[0x55, 0x1D, 0x13]).expect("object identifier"),
            vec![2, 5, 29, 19]
        );
        assert_eq!(
            object_identifier(&[0x55, 0x9D]).expect_err("object identifier fails"),
            CertificateDefect::Truncated
        );
    }

    #[test]
    fn utc_and_generalized_times_are_read_as_utc_instants() {
        let read = |tag: u8, text: &str| {
            let mut der = vec![tag, text.len() as u8];
            der.extend_from_slice(text.as_bytes());
            time_value(&mut Der::new(&der))
        };
        let epoch = |seconds: u64| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
        assert_eq!(read(UTC_TIME, "700101000000Z").expect("read"), epoch(0));
        assert_eq!(
            read(UTC_TIME, "491231235959Z").expect("read"),
            epoch(2_524_607_999)
        );
        assert_eq!(
            read(GENERALIZED_TIME, "20500101000000Z").expect("read"),
            epoch(2_524_608_000)
        );
        assert!(read(UTC_TIME, "701301000000Z").is_err());
        assert!(read(UTC_TIME, "7001010000Z").is_err());
        assert!(read(UTC_TIME, "700101000000+0700").is_err());
    }

    #[test]
    fn lengths_past_the_end_and_indefinite_lengths_are_refused() {
        assert_eq!(
            Der::new(&[0x30, 0x05, 0x00]).any().expect_err("any fails"),
            CertificateDefect::Truncated
        );
        assert_eq!(
            Der::new(&[0x30, 0x80, 0x00, 0x00])
                .any()
                .expect_err("any fails"),
            CertificateDefect::UnsupportedEncoding
        );
        assert_eq!(
            certificate_facts(&[0x02, 0x01, 0x00]).expect_err("certificate facts fails"),
            CertificateDefect::UnexpectedField {
                field: "Certificate",
                found: Some(0x02)
            }
        );
    }
}
