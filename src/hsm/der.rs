//! The few DER structures a PKCS#11 key needs translating: the private parts of a PKCS#8 key
//! (to create token objects from), `RSAPublicKey` and `ECDSA-Sig-Value` (to give the rest of
//! kyso what ring gives), DigestInfo (for CKM_RSA_PKCS) and the OCTET STRING around an EC
//! point. Definite lengths only; a PKCS#8 key is read here only after ring has accepted it.

use zeroize::Zeroizing;

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const SEQUENCE: u8 = 0x30;

/// DER of the namedCurve OID of P-256 (prime256v1, RFC 5480 §2.1.1.1), as CKA_EC_PARAMS holds it.
pub(super) const P256_PARAMETERS: &[u8] =
    &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// DER of the namedCurve OID of P-384 (secp384r1, RFC 5480 §2.1.1.1).
pub(super) const P384_PARAMETERS: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22];

/// The DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1): what RSASSA-PKCS1-v1_5 pads
/// when the token is given only the digest (CKM_RSA_PKCS).
const SHA256_DIGEST_INFO_PREFIX: &[u8] = &[
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The private components of a PKCS#8 key, as unsigned big-endian integers, wiped on drop.
pub(super) enum PrivateParts {
    /// `RSAPrivateKey` (RFC 8017 §A.1.2): n, e, d, p, q, d mod (p−1), d mod (q−1), q⁻¹ mod p.
    Rsa {
        modulus: Zeroizing<Vec<u8>>,
        public_exponent: Zeroizing<Vec<u8>>,
        private_exponent: Zeroizing<Vec<u8>>,
        prime_1: Zeroizing<Vec<u8>>,
        prime_2: Zeroizing<Vec<u8>>,
        exponent_1: Zeroizing<Vec<u8>>,
        exponent_2: Zeroizing<Vec<u8>>,
        coefficient: Zeroizing<Vec<u8>>,
    },
    /// `ECPrivateKey` (RFC 5915 §3): the private scalar.
    Ec { scalar: Zeroizing<Vec<u8>> },
}

/// Reads the private components of a PKCS#8 `PrivateKeyInfo` or `OneAsymmetricKey` (RFC 5208
/// §5, RFC 5958 §2): version, algorithm, then the privateKey OCTET STRING, which holds an
/// `RSAPrivateKey` (`rsa`) or an `ECPrivateKey`.
pub(super) fn pkcs8_private_parts(der: &[u8], rsa: bool) -> Option<PrivateParts> {
    let (info, _) = expect(der, SEQUENCE)?;
    let (_version, rest) = expect(info, INTEGER)?;
    let (_algorithm, rest) = expect(rest, SEQUENCE)?;
    let (private_key, _attributes) = expect(rest, OCTET_STRING)?;
    let (key, _) = expect(private_key, SEQUENCE)?;
    let (_version, rest) = expect(key, INTEGER)?;
    if rsa {
        let mut rest = rest;
        let mut next = || {
            let (value, after) = expect(rest, INTEGER)?;
            rest = after;
            Some(Zeroizing::new(unsigned(value).to_vec()))
        };
        Some(PrivateParts::Rsa {
            modulus: next()?,
            public_exponent: next()?,
            private_exponent: next()?,
            prime_1: next()?,
            prime_2: next()?,
            exponent_1: next()?,
            exponent_2: next()?,
            coefficient: next()?,
        })
    } else {
        let (scalar, _parameters_and_public_key) = expect(rest, OCTET_STRING)?;
        Some(PrivateParts::Ec {
            scalar: Zeroizing::new(scalar.to_vec()),
        })
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 §A.1.1)
/// from the unsigned big-endian values a token returns.
pub(super) fn rsa_public_key(modulus: &[u8], public_exponent: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(modulus.len() + public_exponent.len() + 10);
    write_unsigned_integer(modulus, &mut content);
    write_unsigned_integer(public_exponent, &mut content);
    let mut out = Vec::with_capacity(content.len() + 4);
    write_tlv(SEQUENCE, &content, &mut out);
    out
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 5753 §2.1.1, RFC 3279 §2.2.3)
/// from CKM_ECDSA's output, r and s concatenated at the field size (PKCS #11 Current
/// Mechanisms v2.40, "EC signatures"). The caller checks the length is twice the field size.
pub(super) fn ecdsa_signature_value(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut content = Vec::with_capacity(raw.len() + 6);
    write_unsigned_integer(r, &mut content);
    write_unsigned_integer(s, &mut content);
    let mut out = Vec::with_capacity(content.len() + 3);
    write_tlv(SEQUENCE, &content, &mut out);
    out
}

/// DigestInfo for a SHA-256 digest (RFC 8017 §9.2 step 2).
pub(super) fn sha256_digest_info(digest: &[u8]) -> Vec<u8> {
    [SHA256_DIGEST_INFO_PREFIX, digest].concat()
}

/// An OCTET STRING around `content`: CKA_EC_POINT holds the point DER-encoded this way
/// (PKCS #11 Current Mechanisms v2.40, "ECDSA public key objects").
pub(super) fn octet_string(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 4);
    write_tlv(OCTET_STRING, content, &mut out);
    out
}

/// The uncompressed point of `point_len` bytes in a CKA_EC_POINT value: DER-wrapped as the
/// specification says, or raw as some tokens return it. The lengths tell them apart, since
/// both start with 04.
pub(super) fn ec_point(value: &[u8], point_len: usize) -> Option<&[u8]> {
    let point = if value.len() == point_len {
        value
    } else {
        match expect(value, OCTET_STRING)? {
            (point, []) => point,
            _ => return None,
        }
    };
    (point.len() == point_len && point.first() == Some(&0x04)).then_some(point)
}

/// `bytes` without its leading zero bytes (one zero stays for the value 0).
pub(super) fn unsigned(bytes: &[u8]) -> &[u8] {
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    &bytes[first..]
}

/// The content of a TLV with `tag` at the start of `input`, and what follows it.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *input.first()? != tag {
        return None;
    }
    let first = *input.get(1)?;
    let (length, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let octets = usize::from(first & 0x7F);
        if octets == 0 || octets > 4 {
            return None;
        }
        let length = input
            .get(2..2 + octets)?
            .iter()
            .fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (length, 2 + octets)
    };
    let end = header.checked_add(length)?;
    Some((input.get(header..end)?, input.get(end..)?))
}

/// A non-negative INTEGER from unsigned big-endian bytes: minimal, with a zero octet when the
/// high bit is set (X.690 §8.3.2).
fn write_unsigned_integer(value: &[u8], out: &mut Vec<u8>) {
    let value = unsigned(value);
    let mut content = Vec::with_capacity(value.len() + 1);
    if value.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(value);
    write_tlv(INTEGER, &content, out);
}

fn write_tlv(tag: u8, content: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let octets: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | octets.len() as u8);
        out.extend_from_slice(&octets);
    }
    out.extend_from_slice(content);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_ecdsa_values_become_minimal_positive_integers() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r has its high bit set: a zero octet keeps it positive
        raw[63] = 0x01; // s is 1 after 31 leading zeros
        assert_eq!(
            ecdsa_signature_value(&raw),
            [
                &[0x30, 0x26, 0x02, 0x21, 0x00, 0x80][..],
                &[0; 31],
                &[0x02, 0x01, 0x01],
            ]
            .concat()
        );
        assert_eq!(
            ecdsa_signature_value(&[0; 96]),
            [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]
        );
    }

    #[test]
    fn an_rsa_public_key_takes_long_form_lengths() {
        let modulus = [&[0x00, 0xC0][..], &[0x11; 255]].concat();
        let encoded = rsa_public_key(&modulus, &[0x01, 0x00, 0x01]);
        // SEQUENCE (2-octet length, 261 + 5 octets) { INTEGER 257 octets, INTEGER 65537 }
        assert_eq!(&encoded[..4], &[0x30, 0x82, 0x01, 0x0A]);
        assert_eq!(&encoded[4..9], &[0x02, 0x82, 0x01, 0x01, 0x00]);
        assert_eq!(
            &encoded[encoded.len() - 5..],
            &[0x02, 0x03, 0x01, 0x00, 0x01]
        );
        assert_eq!(encoded.len(), 4 + 4 + 257 + 5);
    }

    #[test]
    fn an_ec_point_is_read_raw_or_wrapped_and_nothing_else() {
        let point = [&[0x04][..], &[0x5A; 64]].concat();
        assert_eq!(ec_point(&point, 65), Some(&point[..]));
        assert_eq!(ec_point(&octet_string(&point), 65), Some(&point[..]));
        assert_eq!(ec_point(&octet_string(&point), 97), None);
        assert_eq!(ec_point(&point[1..], 65), None);
        let mut trailing = octet_string(&point);
        trailing.push(0);
        assert_eq!(ec_point(&trailing, 65), None);
    }

    #[test]
    fn a_sha256_digest_info_is_51_octets() {
        let info = sha256_digest_info(&[0xAB; 32]);
        assert_eq!(info.len(), 51);
        assert_eq!(
            expect(&info, SEQUENCE).map(|(c, r)| (c.len(), r)),
            Some((49, &[][..]))
        );
    }

    #[test]
    fn truncated_or_foreign_pkcs8_yields_nothing() {
        assert!(pkcs8_private_parts(&[], true).is_none());
        assert!(pkcs8_private_parts(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF], false).is_none());
        assert!(pkcs8_private_parts(&[0x30, 0x03, 0x02, 0x01, 0x00], true).is_none());
    }
}
