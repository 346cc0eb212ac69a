//! PDF syntax (ISO 32000-2 §7.3) written straight into the revision's
//! buffer, in the compact layout of lopdf's `Writer`, byte for byte (the
//! tests hold the two together) — without its per-byte dynamic writes and
//! formatting machinery, which cost more than the rest of a small
//! document's signature. Streams, reals and literal strings that need
//! escapes, all rare in the objects a signature rewrites, are left to lopdf.

use super::reader::RawDictionary;
use lopdf::{Object, ObjectId, StringFormat, Writer};

const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// Every byte's two upper-case hex digits: one copy per byte where a CMS of
/// a thousand bytes and more is written into `/Contents`.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut pairs = [[0; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [HEX_DIGITS[byte >> 4], HEX_DIGITS[byte & 0x0f]];
        byte += 1;
    }
    pairs
};

/// Bytes a name writes as `#` and two hex digits (§7.3.5): delimiters,
/// white-space and everything outside `!`..`~`.
const NAME_ESCAPED: [bool; 256] = {
    let mut escaped = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        escaped[byte] = byte < 33 || byte > 126;
        byte += 1;
    }
    let delimiters = b" \t\n\r\x0C()<>[]{}/%#";
    let mut i = 0;
    while i < delimiters.len() {
        escaped[delimiters[i] as usize] = true;
        i += 1;
    }
    escaped
};

/// Writes `object` as lopdf's `Writer::write_object` does.
pub(super) fn object(out: &mut Vec<u8>, object: &Object) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(true) => out.extend_from_slice(b"true"),
        Object::Boolean(false) => out.extend_from_slice(b"false"),
        Object::Integer(value) => integer(out, *value),
        Object::Name(name_bytes) => name(out, name_bytes),
        Object::String(text, StringFormat::Hexadecimal) => hex_string(out, text),
        Object::String(text, StringFormat::Literal) if !needs_escapes(text) => {
            plain_literal_string(out, text)
        }
        Object::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 && Writer::need_separator(item) {
                    out.push(b' ');
                }
                self::object(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(dictionary) => {
            out.extend_from_slice(b"<<");
            for (key, value) in dictionary {
                entry(out, key, value);
            }
            out.extend_from_slice(b">>");
        }
        Object::Reference(id) => reference(out, *id),
        Object::Real(_) | Object::String(..) | Object::Stream(_) => {
            // Writing into a Vec cannot fail.
            let _ = Writer::write_object(out, object);
        }
    }
}

/// One dictionary entry, key and value, as lopdf writes it inside `<<` `>>`.
pub(super) fn entry(out: &mut Vec<u8>, key: &[u8], value: &Object) {
    name(out, key);
    if Writer::need_separator(value) {
        out.push(b' ');
    }
    object(out, value);
}

/// A dictionary of the input with the entries `set` set: its other entries
/// copied as their bytes are (a key written twice stays so, read as it was
/// read before), then `set`'s, each replacing every entry of its key.
pub(super) fn dictionary_with(
    out: &mut Vec<u8>,
    source: &RawDictionary,
    set: &[(&'static [u8], Object)],
) {
    out.extend_from_slice(b"<<");
    copied_entries(out, source, set);
    for (key, value) in set {
        entry(out, key, value);
    }
    out.extend_from_slice(b">>");
}

/// The entries of a dictionary of the input as their bytes are, but for
/// those of a key `set` sets, without the `<<` `>>` around them.
pub(super) fn copied_entries(
    out: &mut Vec<u8>,
    source: &RawDictionary,
    set: &[(&'static [u8], Object)],
) {
    for (name, value) in source.entries() {
        if !set.iter().any(|(key, _)| RawDictionary::name_is(name, key)) {
            out.push(b'/');
            out.extend_from_slice(name);
            out.push(b' ');
            out.extend_from_slice(value);
        }
    }
}

/// Whether lopdf escapes bytes of `text` in a literal string.
fn needs_escapes(text: &[u8]) -> bool {
    text.iter()
        .any(|b| matches!(b, b'(' | b')' | b'\\' | b'\r'))
}

/// A literal string (§7.3.4.2) as lopdf writes it.
pub(super) fn literal_string(out: &mut Vec<u8>, text: &[u8]) {
    if needs_escapes(text) {
        object(out, &Object::String(text.to_vec(), StringFormat::Literal));
    } else {
        plain_literal_string(out, text);
    }
}

/// A literal string of the bytes `write` appends: written in place, and
/// escaped by lopdf only when one of them needs it.
pub(super) fn literal_string_in_place(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    out.push(b'(');
    let start = out.len();
    write(out);
    if needs_escapes(&out[start..]) {
        let text = out.split_off(start);
        out.pop();
        literal_string(out, &text);
    } else {
        out.push(b')');
    }
}

/// A literal string without bytes to escape.
fn plain_literal_string(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'(');
    out.extend_from_slice(text);
    out.push(b')');
}

/// A name (§7.3.5): delimiters, white-space and bytes outside `!`..`~` as
/// `#` and two hex digits.
pub(super) fn name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    if !name.iter().any(|&byte| NAME_ESCAPED[usize::from(byte)]) {
        out.extend_from_slice(name);
        return;
    }
    for &byte in name {
        if NAME_ESCAPED[usize::from(byte)] {
            out.push(b'#');
            out.extend_from_slice(&HEX_PAIRS[usize::from(byte)]);
        } else {
            out.push(byte);
        }
    }
}

/// A hexadecimal string (§7.3.4.3), upper-case digits.
pub(super) fn hex_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(2 * bytes.len() + 2);
    out.push(b'<');
    hex_digits(out, bytes);
    out.push(b'>');
}

/// Appends `bytes` as upper-case hex digits, two a byte.
pub(super) fn hex_digits(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    out.resize(start + 2 * bytes.len(), 0);
    hex_digits_over(&mut out[start..], bytes);
}

/// Writes `bytes` as upper-case hex digits, two a byte, over the start of
/// `out` (which has room for them). Computed rather than looked up, so the
/// compiler turns the loop into vector code: a CMS is thousands of bytes,
/// and this took a table twice as long.
pub(super) fn hex_digits_over(out: &mut [u8], bytes: &[u8]) {
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = hex_digit(byte >> 4);
        pair[1] = hex_digit(byte & 0x0f);
    }
}

/// The upper-case hex digit of a nibble.
#[inline]
fn hex_digit(nibble: u8) -> u8 {
    nibble + b'0' + 7 * u8::from(nibble > 9)
}

/// An integer in decimal.
pub(super) fn integer(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    unsigned(out, value.unsigned_abs());
}

/// An unsigned integer in decimal.
pub(super) fn unsigned(out: &mut Vec<u8>, value: u64) {
    crate::datetime::zero_padded(out, value, 1);
}

/// `value` in decimal, left-padded with zeros to `width` digits (the fixed
/// fields of a cross-reference entry, §7.5.4).
pub(super) fn zero_padded(out: &mut Vec<u8>, value: u64, width: usize) {
    crate::datetime::zero_padded(out, value, width);
}

/// An indirect reference (§7.3.10): `number generation R`.
pub(super) fn reference(out: &mut Vec<u8>, (number, generation): ObjectId) {
    unsigned(out, u64::from(number));
    out.push(b' ');
    unsigned(out, u64::from(generation));
    out.extend_from_slice(b" R");
}

/// The header of an indirect object (§7.3.10): `number generation obj` and a
/// line break.
pub(super) fn object_header(out: &mut Vec<u8>, (number, generation): ObjectId) {
    unsigned(out, u64::from(number));
    out.push(b' ');
    unsigned(out, u64::from(generation));
    out.extend_from_slice(b" obj\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{Dictionary, Stream};

    fn by_lopdf(object: &Object) -> Vec<u8> {
        let mut out = Vec::new();
        Writer::write_object(&mut out, object).expect("write");
        out
    }

    fn by_kyso(object: &Object) -> Vec<u8> {
        let mut out = Vec::new();
        super::object(&mut out, object);
        out
    }

    #[test]
    fn objects_are_written_byte_for_byte_as_lopdf_writes_them() {
        let mut inner = Dictionary::new();
        inner.set("F1", Object::Reference((5, 0)));
        inner.set("Odd Name#(x)", Object::Name(b"A/B\xe9 c".to_vec()));
        let mut dictionary = Dictionary::new();
        dictionary.set("Type", Object::Name(b"Page".to_vec()));
        dictionary.set("Parent", Object::Reference((2, 0)));
        dictionary.set(
            "MediaBox",
            Object::Array(vec![0.into(), (-12).into(), 595.into(), 842.into()]),
        );
        dictionary.set("Rotate", Object::Real(90.0));
        dictionary.set("UserUnit", Object::Real(1.25));
        dictionary.set("Resources", Object::Dictionary(inner));
        dictionary.set("Null", Object::Null);
        dictionary.set("Yes", Object::Boolean(true));
        dictionary.set("No", Object::Boolean(false));
        dictionary.set(
            "Mixed",
            Object::Array(vec![
                Object::Name(b"N".to_vec()),
                1.into(),
                Object::Reference((7, 1)),
                Object::string_literal("plain"),
                Object::String(b"a (b) \\ c\r".to_vec(), StringFormat::Literal),
                Object::String(b"unbalanced ) (".to_vec(), StringFormat::Literal),
                Object::String(vec![0xfe, 0xff, 0x1e, 0xe6], StringFormat::Hexadecimal),
                Object::String(vec![0xe9, b'\n'], StringFormat::Literal),
                Object::Array(vec![]),
                Object::Dictionary(Dictionary::new()),
                i64::MIN.into(),
                i64::MAX.into(),
            ]),
        );
        let objects = [
            Object::Dictionary(dictionary),
            Object::Stream(Stream::new(Dictionary::new(), b"BT ET".to_vec())),
            Object::Integer(0),
            Object::Array(vec![Object::Reference((12, 0)), Object::Reference((13, 0))]),
        ];
        for object in &objects {
            assert_eq!(
                String::from_utf8_lossy(&by_kyso(object)),
                String::from_utf8_lossy(&by_lopdf(object))
            );
        }
    }

    #[test]
    fn bytes_of_any_length_are_written_as_two_upper_case_hex_digits_each() {
        let bytes: Vec<u8> = (0..=255).rev().collect();
        for len in (0..20).chain([256]) {
            let mut written = b"x".to_vec();
            hex_digits(&mut written, &bytes[..len]);
            let expected: String = bytes[..len].iter().map(|b| format!("{b:02X}")).collect();
            assert_eq!(written, [b"x", expected.as_bytes()].concat(), "{len}");
        }
    }

    #[test]
    fn cross_reference_fields_are_zero_padded() {
        let mut out = Vec::new();
        zero_padded(&mut out, 1895, 10);
        out.push(b' ');
        zero_padded(&mut out, 0, 5);
        out.push(b' ');
        zero_padded(&mut out, 12_345_678_901, 10);
        assert_eq!(out, b"0000001895 00000 12345678901");
    }
}
