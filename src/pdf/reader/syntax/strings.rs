//! Strings and names (ISO 32000-2 §7.3.4–§7.3.5): literal strings with
//! their escapes, hexadecimal strings, and names with `#xx` escapes.

use super::{Lexer, SyntaxError, hex_value};
use lopdf::{Object, StringFormat};

impl Lexer<'_> {
    /// A name with `#xx` escapes decoded (§7.3.5). A `#` not followed by two
    /// hex digits is kept literally, as qpdf does, rather than refusing the file.
    pub(super) fn name(&mut self) -> Result<Vec<u8>, SyntaxError> {
        self.pos += 1;
        let token = self.token();
        self.pos += token.len();
        let mut name = Vec::with_capacity(token.len());
        let mut i = 0;
        while let Some(&byte) = token.get(i) {
            let escaped = (byte == b'#')
                .then(|| {
                    Some((hex_value(*token.get(i + 1)?)? << 4) | hex_value(*token.get(i + 2)?)?)
                })
                .flatten();
            match escaped {
                Some(decoded) => {
                    name.push(decoded);
                    i += 3;
                }
                None => {
                    name.push(byte);
                    i += 1;
                }
            }
        }
        Ok(name)
    }

    /// A literal string (§7.3.4.2): balanced parentheses, escapes, octal
    /// codes, line continuations, and any unescaped end-of-line read as LF.
    pub(super) fn literal_string(&mut self) -> Result<Object, SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut open = 0usize;
        loop {
            let Some(byte) = self.peek() else {
                return Err(SyntaxError {
                    what: "unterminated literal string",
                    at: start,
                });
            };
            self.pos += 1;
            match byte {
                b'(' => {
                    open += 1;
                    out.push(byte);
                }
                b')' if open == 0 => break,
                b')' => {
                    open -= 1;
                    out.push(byte);
                }
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                b'\\' => self.escape(&mut out),
                _ => out.push(byte),
            }
        }
        Ok(Object::String(out, StringFormat::Literal))
    }

    /// The byte(s) after a backslash in a literal string (§7.3.4.2 Table 3).
    fn escape(&mut self, out: &mut Vec<u8>) {
        let Some(byte) = self.peek() else { return };
        self.pos += 1;
        match byte {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            // A backslash before an end-of-line continues the string.
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            b'\n' => {}
            b'0'..=b'7' => {
                // Up to three octal digits; overflow of the high-order digit is ignored.
                let mut code = byte - b'0';
                for _ in 0..2 {
                    match self.peek() {
                        Some(digit @ b'0'..=b'7') => {
                            code = code.wrapping_mul(8).wrapping_add(digit - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                out.push(code);
            }
            // `\(`, `\)`, `\\`, and an unknown escape whose backslash is ignored.
            other => out.push(other),
        }
    }

    /// A hexadecimal string (§7.3.4.3): white space ignored, an odd final
    /// digit read as if followed by 0.
    pub(super) fn hex_string(&mut self) -> Result<Object, SyntaxError> {
        // A signature's `/Contents` is tens of kilobytes of digits: the
        // closing `>` bounds the output, reserved once.
        let body = self.bytes.get(self.pos + 1..).unwrap_or_default();
        let digits = body.iter().position(|b| *b == b'>').unwrap_or(body.len());
        let mut out = Vec::with_capacity(digits.div_ceil(2));
        self.hex_digits(Some(&mut out))?;
        Ok(Object::String(out, StringFormat::Hexadecimal))
    }

    /// Moves past a hexadecimal string, checking it as
    /// [`hex_string`](Self::hex_string) does, without decoding it.
    pub(in crate::pdf::reader) fn skip_hex_string(&mut self) -> Result<(), SyntaxError> {
        self.hex_digits(None)
    }

    /// Reads the digits of the hexadecimal string at the cursor into `out`
    /// (when given), through its closing `>`.
    fn hex_digits(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        let mut high: Option<u8> = None;
        loop {
            // Two digits in a row, the bulk of any hex string: one byte out.
            while high.is_none()
                && let Some(&[first, second]) = self.bytes.get(self.pos..self.pos + 2)
                && (HEX_DIGITS[usize::from(first)] | HEX_DIGITS[usize::from(second)]) < 16
            {
                if let Some(out) = out.as_deref_mut() {
                    out.push(
                        (HEX_DIGITS[usize::from(first)] << 4) | HEX_DIGITS[usize::from(second)],
                    );
                }
                self.pos += 2;
            }
            let Some(byte) = self.peek() else {
                return Err(SyntaxError {
                    what: "unterminated hex string",
                    at: start,
                });
            };
            self.pos += 1;
            let value = HEX_DIGITS[usize::from(byte)];
            if value < 16 {
                match high.take() {
                    Some(high) => {
                        if let Some(out) = out.as_deref_mut() {
                            out.push((high << 4) | value);
                        }
                    }
                    None => high = Some(value),
                }
                continue;
            }
            if byte == b'>' {
                break;
            }
            if value == HEX_WHITESPACE {
                continue;
            }
            return Err(SyntaxError {
                what: "invalid digit in hex string",
                at: self.pos - 1,
            });
        }
        if let (Some(out), Some(high)) = (out, high) {
            out.push(high << 4);
        }
        Ok(())
    }
}

/// [`HEX_DIGITS`] of a white-space byte (§7.2.3 Table 1).
const HEX_WHITESPACE: u8 = 0xfe;

/// The value of each byte as a hexadecimal digit; [`HEX_WHITESPACE`] for
/// white space, 0xff for anything else.
const HEX_DIGITS: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = match byte as u8 {
            digit @ b'0'..=b'9' => digit - b'0',
            digit @ b'a'..=b'f' => digit - b'a' + 10,
            digit @ b'A'..=b'F' => digit - b'A' + 10,
            0 | 9 | 10 | 12 | 13 | 32 => HEX_WHITESPACE,
            _ => 0xff,
        };
        byte += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Result<Object, SyntaxError> {
        Lexer::new(text, 0).object()
    }

    fn string(text: &[u8]) -> Vec<u8> {
        match parse(text).unwrap() {
            Object::String(bytes, _) => bytes,
            other => panic!("not a string: {other:?}"),
        }
    }

    fn name(text: &[u8]) -> Vec<u8> {
        match parse(text).unwrap() {
            Object::Name(bytes) => bytes,
            other => panic!("not a name: {other:?}"),
        }
    }

    #[test]
    fn literal_strings_balance_parentheses_and_decode_escapes() {
        assert_eq!(string(b"(a (nested) string)"), b"a (nested) string");
        assert_eq!(string(br"(\n\r\t\b\f\(\)\\)"), b"\n\r\t\x08\x0c()\\");
        assert_eq!(string(br"(\053\0534\5\777)"), b"++4\x05\xff");
        assert_eq!(
            string(b"(line\\\r\ncontinued\\\nhere)"),
            b"linecontinuedhere"
        );
        assert_eq!(string(b"(a\r\nb\rc\nd)"), b"a\nb\nc\nd");
        assert_eq!(string(br"(\q)"), b"q");
        assert_eq!(string(b"(unbalanced \\) is fine)"), b"unbalanced ) is fine");
        assert!(parse(b"(never closed").is_err());
        assert!(parse(b"(ends in a backslash\\").is_err());
    }

    #[test]
    fn hex_strings_skip_white_space_and_pad_an_odd_digit() {
        assert_eq!(string(b"<48 65 6C6c\n6F>"), b"Hello");
        assert_eq!(string(b"<901FA>"), [0x90, 0x1f, 0xa0]);
        assert_eq!(string(b"<>"), b"");
        assert!(parse(b"<4G>").is_err());
        assert!(parse(b"<48").is_err());
    }

    #[test]
    fn names_decode_hex_escapes_and_keep_a_lone_number_sign() {
        assert_eq!(name(b"/Lime#20Green"), b"Lime Green");
        assert_eq!(name(b"/paired#28#29parentheses"), b"paired()parentheses");
        assert_eq!(name(b"/A#"), b"A#");
        assert_eq!(name(b"/A#4"), b"A#4");
        assert_eq!(name(b"/ "), b"");
        assert_eq!(name(b"/Type/Page"), b"Type");
    }
}
