//! BER to DER for CMS received from other signers. ISO 32000-1 §12.8.3.3
//! asks for DER, but signers in the field (older Acrobat and iText among
//! them) write the outer SignedData with indefinite lengths and constructed
//! OCTET STRINGs. X.690 §10 gives each BER value one DER form; this module
//! rewrites only the two BER liberties seen in the field — indefinite
//! lengths (§8.1.3.6) and constructed string encodings (§8.7.3) — and keeps
//! everything else, so what the signer signed (the DER signed attributes,
//! RFC 5652 §5.4) is unchanged.

use super::CmsReadError;

/// Deepest nesting followed (as the DER walk's limit).
const MAX_DEPTH: usize = 40;

/// Whether `bytes` uses an indefinite length anywhere a DER reader would
/// trip on it: the outermost element is enough to tell in practice, but the
/// whole first level is checked.
pub(super) fn needs_normalising(bytes: &[u8]) -> bool {
    bytes.get(1) == Some(&0x80)
}

/// The DER form of the first BER element in `bytes` (trailing bytes ignored).
pub(super) fn to_der(bytes: &[u8]) -> Result<Vec<u8>, CmsReadError> {
    let mut out = Vec::with_capacity(bytes.len());
    let (_, _) = element(bytes, 0, &mut out)?;
    Ok(out)
}

fn malformed(reason: &'static str) -> CmsReadError {
    CmsReadError::Ber { reason }
}

/// Copies one element starting at `bytes[0]` into `out` in DER form and
/// returns (bytes consumed, true when it was an end-of-contents marker).
fn element(bytes: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<(usize, bool), CmsReadError> {
    if depth > MAX_DEPTH {
        return Err(malformed("nested too deeply"));
    }
    let (tag, tag_len) = read_tag(bytes)?;
    let rest = bytes.get(tag_len..).ok_or_else(|| malformed("truncated"))?;
    let first_length_byte = *rest.first().ok_or_else(|| malformed("truncated"))?;
    if tag == [0] && first_length_byte == 0 {
        return Ok((2, true)); // end-of-contents (X.690 §8.1.5)
    }
    let constructed = tag[0] & 0x20 != 0;
    let mut content = Vec::new();
    let consumed = if first_length_byte == 0x80 {
        if !constructed {
            return Err(malformed("indefinite length on a primitive value"));
        }
        let mut position = tag_len + 1;
        loop {
            let remaining = bytes
                .get(position..)
                .ok_or_else(|| malformed("truncated"))?;
            let (used, end) = element(remaining, depth + 1, &mut content)?;
            position += used;
            if end {
                break position;
            }
        }
    } else {
        let (length, length_len) = definite_length(rest)?;
        let start = tag_len + length_len;
        let end = start
            .checked_add(length)
            .ok_or_else(|| malformed("length overflows"))?;
        let value = bytes
            .get(start..end)
            .ok_or_else(|| malformed("truncated"))?;
        if constructed {
            let mut position = 0;
            while position < value.len() {
                let (used, end_marker) = element(&value[position..], depth + 1, &mut content)?;
                if end_marker {
                    return Err(malformed("end-of-contents inside a definite length"));
                }
                position += used;
            }
        } else {
            content.extend_from_slice(value);
        }
        end
    };
    // A constructed OCTET STRING / BIT STRING … becomes primitive, its
    // segments' contents concatenated (X.690 §8.7.3, DER §10.2).
    let string_tag = matches!(tag[0], 0x24 | 0x23 | 0x2c | 0x33 | 0x36 | 0x3c);
    let (out_tag, out_content) = if string_tag && tag.len() == 1 {
        let mut joined = Vec::with_capacity(content.len());
        let mut position = 0;
        while position < content.len() {
            let (_, inner_tag_len) = read_tag(&content[position..])?;
            let (length, length_len) = definite_length(&content[position + inner_tag_len..])?;
            let start = position + inner_tag_len + length_len;
            let segment = content
                .get(start..start + length)
                .ok_or_else(|| malformed("truncated segment"))?;
            joined.extend_from_slice(segment);
            position = start + length;
        }
        (vec![tag[0] & !0x20], joined)
    } else {
        (tag.to_vec(), content)
    };
    out.extend_from_slice(&out_tag);
    write_length(out, out_content.len());
    out.extend_from_slice(&out_content);
    Ok((consumed, false))
}

/// The identifier octets (X.690 §8.1.2), high-tag-number form included.
fn read_tag(bytes: &[u8]) -> Result<(&[u8], usize), CmsReadError> {
    let first = *bytes.first().ok_or_else(|| malformed("truncated"))?;
    if first & 0x1f != 0x1f {
        return Ok((&bytes[..1], 1));
    }
    let more = bytes.get(1..).ok_or_else(|| malformed("truncated"))?;
    let extra = more
        .iter()
        .take(4)
        .position(|b| b & 0x80 == 0)
        .ok_or_else(|| malformed("tag too long"))?;
    Ok((&bytes[..extra + 2], extra + 2))
}

/// A definite length (X.690 §8.1.3): value and octets used.
fn definite_length(bytes: &[u8]) -> Result<(usize, usize), CmsReadError> {
    let first = *bytes.first().ok_or_else(|| malformed("truncated"))?;
    if first < 0x80 {
        return Ok((usize::from(first), 1));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 || count > 4 {
        return Err(malformed("unsupported length"));
    }
    let octets = bytes.get(1..=count).ok_or_else(|| malformed("truncated"))?;
    let length = octets
        .iter()
        .fold(0usize, |n, b| (n << 8) | usize::from(*b));
    Ok((length, count + 1))
}

/// The DER (shortest) length octets.
fn write_length(out: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        out.push(length as u8);
        return;
    }
    let bytes = length.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_lengths_become_definite_and_constructed_octet_strings_primitive() {
        // SEQUENCE (indefinite) { OCTET STRING constructed (indefinite) { 04 02 AA BB, 04 01 CC }, INTEGER 5 }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, 0xaa, 0xbb, 0x04, 0x01, 0xcc, 0x00, 0x00, 0x02,
            0x01, 0x05, 0x00, 0x00,
        ];
        let der = to_der(&ber).expect("normalised");
        assert_eq!(
            der,
            [0x30, 0x08, 0x04, 0x03, 0xaa, 0xbb, 0xcc, 0x02, 0x01, 0x05]
        );
    }

    #[test]
    fn der_input_comes_out_unchanged() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xff];
        assert_eq!(to_der(&der).expect("der"), der);
    }

    #[test]
    fn truncated_or_unterminated_ber_is_refused_without_panicking() {
        for len in 0..12 {
            let ber = [
                0x30, 0x80, 0x24, 0x80, 0x04, 0x02, 0xaa, 0xbb, 0x00, 0x00, 0x00, 0x00,
            ];
            let _ = to_der(&ber[..len]);
        }
        assert!(to_der(&[0x30, 0x80, 0x02, 0x01, 0x05]).is_err());
    }
}
