//! What verification asks of a revision beyond its objects: where an
//! object's values sit in the file (a signature's `/Contents` must be
//! exactly the ByteRange gap) and which objects a later revision redefined.

use super::LazyDocument;
use super::syntax::{Lexer, is_regular, is_whitespace};
use super::xref::Entry;
use crate::pdf::PdfError;
use lopdf::{Object, ObjectId};

/// Bytes [`LazyDocument::dictionary_lacks`] compares at once.
const SCAN_BLOCK: usize = 16;

/// Whether `block` holds any of `needles` (written so that the compiler
/// compares the whole block at once).
#[inline]
fn holds_any(block: &[u8; SCAN_BLOCK], needles: &[u8; 6]) -> bool {
    let [a, b, c, d, e, f] = *needles;
    block
        .iter()
        .map(|&byte| {
            u8::from(byte == a)
                | u8::from(byte == b)
                | u8::from(byte == c)
                | u8::from(byte == d)
                | u8::from(byte == e)
                | u8::from(byte == f)
        })
        .fold(0, |any, hit| any | hit)
        != 0
}

impl LazyDocument<'_> {
    /// The bytes `[start, end)` of the value under `key` in the dictionary
    /// object `id`, when that object is stored uncompressed (a dictionary
    /// inside an object stream has no place in the file of its own).
    pub(crate) fn value_span(
        &self,
        id: ObjectId,
        key: &[u8],
    ) -> Result<Option<(usize, usize)>, PdfError> {
        let Some(Entry::InUse { offset, generation }) = self.xref.entry(id.0) else {
            return Ok(None);
        };
        if generation != id.1 {
            return Ok(None);
        }
        let mut lexer = Lexer::new(self.bytes, offset);
        let header = (lexer.unsigned(), lexer.unsigned(), lexer.keyword(b"obj"));
        let (Some(_), Some(_), true) = header else {
            return Err(PdfError::DamagedCrossReference);
        };
        lexer.skip_whitespace();
        let open = lexer.position();
        if self.bytes.get(open..open + 2) != Some(b"<<") {
            return Ok(None);
        }
        lexer.seek(open + 2);
        // Top-level key/value pairs only (§7.3.7); a nested dictionary's
        // keys are inside its value's span.
        loop {
            lexer.skip_whitespace();
            let at = lexer.position();
            if self.bytes.get(at..at + 2) == Some(b">>") || at >= self.bytes.len() {
                return Ok(None);
            }
            let name = lexer.object().map_err(|e| PdfError::Unreadable {
                reason: format!("object {} {}: {} at byte {}", id.0, id.1, e.what, e.at),
            })?;
            lexer.skip_whitespace();
            let start = lexer.position();
            lexer.skip_object().map_err(|e| PdfError::Unreadable {
                reason: format!("object {} {}: {} at byte {}", id.0, id.1, e.what, e.at),
            })?;
            let end = lexer.position();
            match name {
                Object::Name(found) if found == key => return Ok(Some((start, end))),
                Object::Name(_) => continue,
                _ => return Ok(None),
            }
        }
    }

    /// Whether object `id`, if it can be read at all, is a dictionary (or a
    /// stream's) in which none of `keys` occurs, as proved from its bytes
    /// without parsing them: the walk over a document's pages passes over the thousands that
    /// carry no annotations at the cost of a scan. `false` proves nothing.
    ///
    /// Without `#` there are no escaped names (§7.3.5), so a key is spelt
    /// out in the bytes; without `(` and `%` there are no literal strings
    /// or comments (§7.3.4.2, §7.2.4), so an `endobj` that starts a token
    /// can only be the keyword that closes the object (within the dictionary
    /// it would be a syntax error, and hex strings hold no such letters).
    /// The dictionary lies before it. Every key must be a non-empty name.
    pub(crate) fn dictionary_lacks(&self, id: ObjectId, keys: &[&[u8]]) -> bool {
        let Some(Entry::InUse { offset, generation }) = self.xref.entry(id.0) else {
            return false;
        };
        let mut lexer = Lexer::new(self.bytes, offset);
        let header = (lexer.unsigned(), lexer.unsigned(), lexer.keyword(b"obj"));
        if generation != id.1 || header != (Some(u64::from(id.0)), Some(u64::from(id.1)), true) {
            return false;
        }
        let Some(rest) = self.bytes.get(lexer.position()..) else {
            return false;
        };
        let open = rest.iter().position(|b| !is_whitespace(*b));
        let Some(body) = open.and_then(|open| rest.get(open..)) else {
            return false;
        };
        if !body.starts_with(b"<<") {
            return false;
        }
        // The bytes the scan stops at: what may hide a key or an `endobj`
        // (`#`, `(`, `%`), the first letter of each key (checked for the
        // `/` before it and the rest after it), and the last letter of
        // `endobj`. Any other byte costs one table load; a page's
        // dictionary has a `/` every few bytes, its keys' letters rarely.
        if keys.iter().any(|key| key.is_empty()) {
            return false;
        }
        let mut stops = [false; 256];
        for byte in [b'#', b'(', b'%', b'j'] {
            stops[usize::from(byte)] = true;
        }
        for key in keys {
            stops[usize::from(key[0])] = true;
        }
        // The same set as compares, for passing whole blocks without a
        // stop at vector speed (up to two keys; more are only looked up).
        let needles = match keys {
            [first] => Some([b'#', b'(', b'%', b'j', first[0], first[0]]),
            [first, second] => Some([b'#', b'(', b'%', b'j', first[0], second[0]]),
            _ => None,
        };
        let mut at = 0;
        loop {
            if let Some(needles) = &needles {
                while let Some(block) = body
                    .get(at..at + SCAN_BLOCK)
                    .and_then(|block| <&[u8; SCAN_BLOCK]>::try_from(block).ok())
                    && !holds_any(block, needles)
                {
                    at += SCAN_BLOCK;
                }
            }
            let Some(rest) = body.get(at..) else {
                return false;
            };
            let window = &rest[..rest.len().min(SCAN_BLOCK)];
            let Some(found) = window.iter().position(|byte| stops[usize::from(*byte)]) else {
                if window.is_empty() {
                    return false;
                }
                at += window.len();
                continue;
            };
            at += found;
            let byte = body[at];
            if matches!(byte, b'#' | b'(' | b'%') {
                return false;
            }
            if at > 0 && body[at - 1] == b'/' && keys.iter().any(|key| body[at..].starts_with(key))
            {
                return false;
            }
            if byte == b'j'
                && at >= 6
                && body[..=at].ends_with(b"endobj")
                && !is_regular(body[at - 6])
                && body[at - 6] != b'/'
            {
                return self.budget.charge(at).is_ok();
            }
            at += 1;
        }
    }

    /// Object numbers whose cross-reference entry here differs from the one
    /// in `older` (new, redefined, moved or freed), in ascending order.
    pub(crate) fn redefined_since(&self, older: &LazyDocument<'_>) -> Vec<u32> {
        self.xref.redefined_since(&older.xref)
    }

    /// The current generation of object `number`, if it is in use.
    pub(crate) fn generation(&self, number: u32) -> Option<u16> {
        match self.xref.entry(number)? {
            Entry::InUse { generation, .. } => Some(generation),
            Entry::Compressed { .. } => Some(0),
            Entry::Free => None,
        }
    }
}

impl LazyDocument<'_> {
    /// The decoded data of a stream object (FlateDecode or unfiltered).
    pub(crate) fn stream_data(&self, object: &Object) -> Result<Option<Vec<u8>>, PdfError> {
        match self.resolve(object)? {
            Object::Stream(stream) => super::filters::decode(&stream, &self.budget).map(Some),
            _ => Ok(None),
        }
    }
}
