//! What verification asks of a revision beyond its objects: where an
//! object's values sit in the file (a signature's `/Contents` must be
//! exactly the ByteRange gap) and which objects a later revision redefined.

use super::LazyDocument;
use super::syntax::{Lexer, is_regular, is_whitespace};
use super::xref::Entry;
use crate::pdf::PdfError;
use lopdf::{Object, ObjectId};
use memchr::memmem;
use std::sync::LazyLock;

/// The keyword that closes an indirect object (ISO 32000-2 §7.3.10).
const ENDOBJ_KEYWORD: &[u8] = b"endobj";

/// Most bytes [`LazyDocument::dictionary_lacks`] searches from an object's
/// `<<`; a longer dictionary proves nothing there and is read whole.
const MAX_SCANNED: usize = 4096;

/// [`ENDOBJ_KEYWORD`]'s searcher, built once.
static ENDOBJ: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(ENDOBJ_KEYWORD));

/// Names [`LazyDocument::dictionary_lacks`] looks for, each searched for
/// as written with its `/`, by a searcher built once for a whole walk.
pub(crate) struct Keys {
    searchers: Vec<memmem::Finder<'static>>,
}

impl Keys {
    /// The keys `names` (without their `/`).
    pub(crate) fn new(names: &[&[u8]]) -> Self {
        let searchers = names
            .iter()
            .map(|name| memmem::Finder::new(&[b"/", *name].concat()).into_owned())
            .collect();
        Self { searchers }
    }
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
    /// The dictionary lies before it.
    pub(crate) fn dictionary_lacks(&self, id: ObjectId, keys: &Keys) -> bool {
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
        // A node worth proving so is short; the search stops there, so a
        // file without `endobj` costs each node a bounded scan, not the
        // rest of the file (the whole-object reader charges the budget).
        let body = &body[..body.len().min(MAX_SCANNED)];
        // The `endobj` that ends the object: the first one that starts a
        // token (not the tail of a name or of another word).
        let mut from = 0;
        let end = loop {
            let Some(found) = ENDOBJ.find(body.get(from..).unwrap_or_default()) else {
                return false;
            };
            let at = from + found;
            if at > 0 && !is_regular(body[at - 1]) && body[at - 1] != b'/' {
                break at;
            }
            from = at + 1;
        };
        // Before it, nothing that may hide a key or an `endobj` (`#`, `(`,
        // `%`), and no name that spells a key (a name's letters are regular
        // characters, so none runs on past the delimiter before `endobj`).
        let dictionary = &body[..end];
        if memchr::memchr3(b'#', b'(', b'%', dictionary).is_some()
            || keys
                .searchers
                .iter()
                .any(|key| key.find(dictionary).is_some())
        {
            return false;
        }
        self.budget.charge(end + ENDOBJ_KEYWORD.len() - 1).is_ok()
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
