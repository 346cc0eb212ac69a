//! The object syntax of ISO 32000-2 §7.2–§7.3: a bounded lexer that turns
//! the bytes at a position into one direct `lopdf::Object`. It never reads
//! past its slice, never recurses deeper than [`MAX_DEPTH`] and never panics.

use lopdf::{Dictionary, Object};

mod strings;

/// Deepest nesting of arrays and dictionaries accepted; real files stay
/// below ten, a hostile one could otherwise exhaust the stack.
pub(super) const MAX_DEPTH: usize = 64;

/// A dictionary entry found by [`Lexer::dictionary_entries`]: where its key
/// (after the `/`) and its value lie in the lexer's slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEntry {
    /// The key's name, escapes undecoded.
    pub key: std::ops::Range<usize>,
    /// The value's bytes.
    pub value: std::ops::Range<usize>,
}

/// Why the bytes at `at` are not valid object syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SyntaxError {
    /// What was expected or found.
    pub what: &'static str,
    /// Offset in the slice the lexer reads.
    pub at: usize,
}

/// White-space characters, ISO 32000-2 §7.2.3 Table 1.
pub(super) fn is_whitespace(byte: u8) -> bool {
    CLASSES[usize::from(byte)] == WHITESPACE
}

/// Delimiter characters, ISO 32000-2 §7.2.3 Table 2.
const fn is_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// Regular characters: everything else (§7.2.3); tokens are runs of them.
pub(super) fn is_regular(byte: u8) -> bool {
    CLASSES[usize::from(byte)] == REGULAR
}

/// [`CLASSES`] values.
const REGULAR: u8 = 0;
const WHITESPACE: u8 = 1;
const DELIMITER: u8 = 2;

/// The class of every byte (§7.2.3 Tables 1 and 2), one load per byte in
/// the lexer's loops.
const CLASSES: [u8; 256] = {
    let mut classes = [REGULAR; 256];
    let mut byte = 0;
    while byte < 256 {
        classes[byte] = match byte as u8 {
            0 | 9 | 10 | 12 | 13 | 32 => WHITESPACE,
            other if is_delimiter(other) => DELIMITER,
            _ => REGULAR,
        };
        byte += 1;
    }
    classes
};

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// A cursor over a byte slice that reads tokens and objects.
pub(super) struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer reading `bytes` from `pos`.
    pub fn new(bytes: &'a [u8], pos: usize) -> Self {
        Self { bytes, pos }
    }

    /// The current offset.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Moves to `pos` (clamped to the end of the slice).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.bytes.len());
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos.checked_add(ahead)?).copied()
    }

    fn error(&self, what: &'static str) -> SyntaxError {
        SyntaxError { what, at: self.pos }
    }

    /// Skips white space and comments; a comment runs to the end of its
    /// line and counts as white space (§7.2.4).
    pub fn skip_whitespace(&mut self) {
        while let Some(byte) = self.peek() {
            if is_whitespace(byte) {
                self.pos += 1;
            } else if byte == b'%' {
                while let Some(byte) = self.peek() {
                    if byte == b'\r' || byte == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The run of regular characters at the cursor, without moving.
    fn token(&self) -> &'a [u8] {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|b| !is_regular(*b))
            .unwrap_or(rest.len());
        rest.get(..len).unwrap_or_default()
    }

    /// After white space, consumes `word` if it is a whole token.
    pub fn keyword(&mut self, word: &[u8]) -> bool {
        let start = self.pos;
        self.skip_whitespace();
        if self.token() == word {
            self.pos += word.len();
            true
        } else {
            self.pos = start;
            false
        }
    }

    /// After white space, consumes an unsigned decimal integer token.
    pub fn unsigned(&mut self) -> Option<u64> {
        let start = self.pos;
        self.skip_whitespace();
        let token = self.token();
        let value = (!token.is_empty() && token.iter().all(u8::is_ascii_digit))
            .then(|| {
                token.iter().try_fold(0u64, |n, d| {
                    n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                })
            })
            .flatten();
        match value {
            Some(_) => self.pos += token.len(),
            None => self.pos = start,
        }
        value
    }

    /// One direct object (§7.3), references `N G R` included.
    pub fn object(&mut self) -> Result<Object, SyntaxError> {
        self.value(0)
    }

    /// Moves past one direct object as [`object`](Self::object) reads it,
    /// with the same errors; a hexadecimal string (a signature's
    /// `/Contents`) is checked without being decoded.
    pub fn skip_object(&mut self) -> Result<(), SyntaxError> {
        self.skip_whitespace();
        if self.peek() == Some(b'<') && self.peek_at(1) != Some(b'<') {
            return self.skip_hex_string();
        }
        self.object().map(drop)
    }

    /// The entries of the dictionary at the cursor (§7.3.7) as byte spans
    /// of the slice: each key's name without its `/`, escapes undecoded,
    /// and its value. Values are checked as [`object`](Self::object) checks
    /// them, but not built: signing rewrites a page or the catalog by
    /// copying the entries it does not change.
    pub fn dictionary_entries(&mut self) -> Result<Vec<RawEntry>, SyntaxError> {
        self.skip_whitespace();
        let start = self.pos;
        if self.bytes.get(start..start + 2) != Some(b"<<") {
            return Err(self.error("dictionary expected"));
        }
        self.pos += 2;
        let mut entries = Vec::with_capacity(8);
        loop {
            self.skip_whitespace();
            match (self.peek(), self.peek_at(1)) {
                (None, _) => {
                    return Err(SyntaxError {
                        what: "unterminated dictionary",
                        at: start,
                    });
                }
                (Some(b'>'), Some(b'>')) => {
                    self.pos += 2;
                    return Ok(entries);
                }
                (Some(b'/'), _) => {
                    let key_start = self.pos + 1;
                    self.skip_value(1)?;
                    let key = key_start..self.pos;
                    self.skip_whitespace();
                    let value_start = self.pos;
                    self.skip_value(1)?;
                    entries.push(RawEntry {
                        key,
                        value: value_start..self.pos,
                    });
                }
                _ => return Err(self.error("dictionary key is not a name")),
            }
        }
    }

    /// Moves past one value as [`value`](Self::value) reads it, with the
    /// same errors, building nothing but the rare literal string.
    fn skip_value(&mut self, depth: usize) -> Result<(), SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error("objects nested too deeply"));
        }
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("end of data where an object was expected")),
            Some(b'/') => {
                // A name is `/` and the regular characters after it (§7.3.5).
                self.pos += 1;
                self.pos += self.token().len();
                Ok(())
            }
            Some(b'(') => self.literal_string().map(drop),
            Some(b'<') if self.peek_at(1) == Some(b'<') => {
                let start = self.pos;
                self.pos += 2;
                loop {
                    self.skip_whitespace();
                    match (self.peek(), self.peek_at(1)) {
                        (None, _) => {
                            return Err(SyntaxError {
                                what: "unterminated dictionary",
                                at: start,
                            });
                        }
                        (Some(b'>'), Some(b'>')) => {
                            self.pos += 2;
                            return Ok(());
                        }
                        (Some(b'/'), _) => {
                            self.skip_value(depth + 1)?;
                            self.skip_value(depth + 1)?;
                        }
                        _ => return Err(self.error("dictionary key is not a name")),
                    }
                }
            }
            Some(b'<') => self.skip_hex_string(),
            Some(b'[') => {
                let start = self.pos;
                self.pos += 1;
                loop {
                    self.skip_whitespace();
                    match self.peek() {
                        None => {
                            return Err(SyntaxError {
                                what: "unterminated array",
                                at: start,
                            });
                        }
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        Some(_) => self.skip_value(depth + 1)?,
                    }
                }
            }
            Some(b'0'..=b'9' | b'+' | b'-' | b'.') => self.number_or_reference().map(drop),
            Some(_) => self.keyword_object().map(drop),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Object, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error("objects nested too deeply"));
        }
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("end of data where an object was expected")),
            Some(b'/') => self.name().map(Object::Name),
            Some(b'(') => self.literal_string(),
            Some(b'<') if self.peek_at(1) == Some(b'<') => {
                self.dictionary(depth).map(Object::Dictionary)
            }
            Some(b'<') => self.hex_string(),
            Some(b'[') => self.array(depth),
            Some(b'0'..=b'9' | b'+' | b'-' | b'.') => self.number_or_reference(),
            Some(_) => self.keyword_object(),
        }
    }

    /// `true`, `false` and `null` (§7.3.2, §7.3.9).
    fn keyword_object(&mut self) -> Result<Object, SyntaxError> {
        let object = match self.token() {
            b"true" => Object::Boolean(true),
            b"false" => Object::Boolean(false),
            b"null" => Object::Null,
            _ => return Err(self.error("unexpected token where an object was expected")),
        };
        self.pos += self.token().len();
        Ok(object)
    }

    /// Integers, reals (§7.3.3) and, when an unsigned integer is followed by
    /// another and `R`, an indirect reference (§7.3.10).
    fn number_or_reference(&mut self) -> Result<Object, SyntaxError> {
        let start = self.pos;
        if let Some(number) = self.unsigned() {
            let after_number = self.pos;
            if let Some(generation) = self.unsigned()
                && self.keyword(b"R")
            {
                let number = u32::try_from(number).map_err(|_| SyntaxError {
                    what: "object number out of range",
                    at: start,
                })?;
                let generation = u16::try_from(generation).map_err(|_| SyntaxError {
                    what: "generation out of range",
                    at: start,
                })?;
                return Ok(Object::Reference((number, generation)));
            }
            self.pos = after_number;
            return i64::try_from(number)
                .map(Object::Integer)
                .map_err(|_| SyntaxError {
                    what: "integer out of range",
                    at: start,
                });
        }
        let token = self.token();
        let unsigned = token
            .strip_prefix(b"+")
            .or_else(|| token.strip_prefix(b"-"))
            .unwrap_or(token);
        let dots = unsigned.iter().filter(|b| **b == b'.').count();
        let digits = unsigned.iter().filter(|b| b.is_ascii_digit()).count();
        if digits == 0 || dots > 1 || digits + dots != unsigned.len() {
            return Err(self.error("malformed number"));
        }
        // The token is ASCII by construction.
        let text = std::str::from_utf8(token).map_err(|_| self.error("malformed number"))?;
        let object = if dots == 0 {
            text.parse::<i64>()
                .map(Object::Integer)
                .map_err(|_| self.error("integer out of range"))?
        } else {
            text.parse::<f32>()
                .map(Object::Real)
                .map_err(|_| self.error("malformed number"))?
        };
        self.pos += token.len();
        Ok(object)
    }

    /// An array (§7.3.6).
    fn array(&mut self, depth: usize) -> Result<Object, SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                None => {
                    return Err(SyntaxError {
                        what: "unterminated array",
                        at: start,
                    });
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Object::Array(items));
                }
                Some(_) => items.push(self.value(depth + 1)?),
            }
        }
    }

    /// A dictionary (§7.3.7): name keys, any values; a later duplicate key
    /// replaces an earlier one.
    fn dictionary(&mut self, depth: usize) -> Result<Dictionary, SyntaxError> {
        let start = self.pos;
        self.pos += 2;
        let mut dictionary = Dictionary::new();
        loop {
            self.skip_whitespace();
            match (self.peek(), self.peek_at(1)) {
                (None, _) => {
                    return Err(SyntaxError {
                        what: "unterminated dictionary",
                        at: start,
                    });
                }
                (Some(b'>'), Some(b'>')) => {
                    self.pos += 2;
                    return Ok(dictionary);
                }
                (Some(b'/'), _) => {
                    let key = self.name()?;
                    let value = self.value(depth + 1)?;
                    dictionary.set(key, value);
                }
                _ => return Err(self.error("dictionary key is not a name")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Result<Object, SyntaxError> {
        Lexer::new(text, 0).object()
    }

    #[test]
    fn the_byte_classes_are_iso_32000_tables_1_and_2() {
        for byte in 0..=255_u8 {
            let whitespace = matches!(byte, 0 | 9 | 10 | 12 | 13 | 32);
            let delimiter = b"()<>[]{}/%".contains(&byte);
            assert_eq!(is_whitespace(byte), whitespace, "{byte}");
            assert_eq!(is_regular(byte), !whitespace && !delimiter, "{byte}");
        }
    }

    #[test]
    fn null_booleans_integers_and_reals_are_read() {
        let Object::Array(items) = parse(b"[null true false 42 -17 +5 3.25 -.5 4. 0.0]").unwrap()
        else {
            panic!("not an array")
        };
        assert_eq!(
            items,
            vec![
                Object::Null,
                Object::Boolean(true),
                Object::Boolean(false),
                Object::Integer(42),
                Object::Integer(-17),
                Object::Integer(5),
                Object::Real(3.25),
                Object::Real(-0.5),
                Object::Real(4.0),
                Object::Real(0.0),
            ]
        );
    }

    #[test]
    fn malformed_or_oversized_numbers_are_errors() {
        for text in [
            &b"1.2.3"[..],
            b"--5",
            b"+",
            b"99999999999999999999",
            b"12abc",
            b"truex",
        ] {
            assert!(parse(text).is_err(), "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn arrays_dictionaries_references_and_comments_nest() {
        let object = parse(b"<< /Type /Page % a comment\n /Kids [3 0 R 4 0 R] /Count 2 /Sub << /A [1 2 3] >> /R 1 2 R >>").unwrap();
        let Object::Dictionary(dict) = object else {
            panic!("not a dictionary")
        };
        assert_eq!(dict.get(b"Type").unwrap(), &Object::Name(b"Page".to_vec()));
        assert_eq!(
            dict.get(b"Kids").unwrap(),
            &Object::Array(vec![Object::Reference((3, 0)), Object::Reference((4, 0))])
        );
        assert_eq!(dict.get(b"R").unwrap(), &Object::Reference((1, 2)));
        let Object::Dictionary(sub) = dict.get(b"Sub").unwrap() else {
            panic!("not a dictionary")
        };
        assert_eq!(
            sub.get(b"A").unwrap(),
            &Object::Array(vec![1.into(), 2.into(), 3.into()])
        );
    }

    #[test]
    fn a_reference_needs_its_r_as_a_whole_token() {
        assert_eq!(parse(b"7 0 R").unwrap(), Object::Reference((7, 0)));
        assert_eq!(parse(b"7 0 Rx").unwrap(), Object::Integer(7));
        assert!(parse(b"[7 0 Rx]").is_err());
        assert!(parse(b"4294967296 0 R").is_err());
    }

    #[test]
    fn malformed_containers_are_errors() {
        for text in [
            &b"<< 1 2 >>"[..],
            b"<< /A 1",
            b"[1 2",
            b"<< /A >>",
            b"}",
            b")",
            b"",
        ] {
            assert!(parse(text).is_err(), "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn nesting_is_limited() {
        let deep = |n: usize| [vec![b'['; n], vec![b']'; n]].concat();
        assert!(parse(&deep(MAX_DEPTH + 1)).is_ok());
        assert_eq!(
            parse(&deep(MAX_DEPTH + 2)).unwrap_err().what,
            "objects nested too deeply"
        );
        assert!(parse(&deep(100_000)).is_err());
    }

    #[test]
    fn no_prefix_of_a_rich_object_and_no_noise_panics() {
        let sample: &[u8] =
            b"<< /A#20 (x\\(y\\053\\\r\n) /B <4 1> /C [1 -2.5 3 0 R true null] /D << /E /F >> >>";
        for end in 0..=sample.len() {
            let _ = parse(&sample[..end]);
        }
        let alphabet = b"<<>>[]()/#\\ 0123456789.+-Rnulltrue\r\n%";
        let mut state = 0x2545_f491_u32;
        for _ in 0..2_000 {
            let noise: Vec<u8> = (0..64)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    alphabet[state as usize % alphabet.len()]
                })
                .collect();
            let _ = parse(&noise);
        }
    }
}
