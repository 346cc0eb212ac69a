//! What verification asks of a revision beyond its objects: where an
//! object's values sit in the file (a signature's `/Contents` must be
//! exactly the ByteRange gap) and which objects a later revision redefined.

use super::LazyDocument;
use super::syntax::{Lexer, is_regular, is_whitespace};
use super::xref::Entry;
use crate::pdf::PdfError;
use lopdf::{Object, ObjectId};

/// The bytes [`LazyDocument::dictionary_lacks`] looks at: what may hide a
/// key or an `endobj` (`#`, `(`, `%`), what starts a key (`/`), and the
/// last letter of `endobj`. A table, so that other bytes cost one load.
const SCAN_STOPS: [bool; 256] = {
    let mut stops = [false; 256];
    let mut i = 0;
    let bytes = *b"#(%/j";
    while i < bytes.len() {
        stops[bytes[i] as usize] = true;
        i += 1;
    }
    stops
};

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
            lexer.object().map_err(|e| PdfError::Unreadable {
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
    /// The dictionary lies before it.
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
        for (at, byte) in body.iter().enumerate() {
            if !SCAN_STOPS[usize::from(*byte)] {
                continue;
            }
            match byte {
                b'#' | b'(' | b'%' => return false,
                // The first letter before the whole key: no call per name.
                b'/' if keys.iter().any(|key| {
                    key.first() == body.get(at + 1) && body[at + 1..].starts_with(key)
                }) =>
                {
                    return false;
                }
                b'j' if at >= 6
                    && body[..=at].ends_with(b"endobj")
                    && !is_regular(body[at - 6])
                    && body[at - 6] != b'/' =>
                {
                    return self.budget.charge(at).is_ok();
                }
                _ => {}
            }
        }
        false
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
