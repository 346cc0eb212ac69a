//! What verification asks of a revision beyond its objects: where an
//! object's values sit in the file (a signature's `/Contents` must be
//! exactly the ByteRange gap) and which objects a later revision redefined.

use super::LazyDocument;
use super::syntax::Lexer;
use super::xref::Entry;
use crate::pdf::PdfError;
use lopdf::{Object, ObjectId};

impl LazyDocument<'_> {
    /// The bytes `[start, end)` of the value under `key` in the dictionary
    /// object `id`, when that object is stored uncompressed (a dictionary
    /// inside an object stream has no place in the file of its own).
    pub(crate) fn value_span(
        &self,
        id: ObjectId,
        key: &[u8],
    ) -> Result<Option<(usize, usize)>, PdfError> {
        let Some(Entry::InUse { offset, generation }) = self.xref.entries.get(&id.0).copied()
        else {
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

    /// Object numbers whose cross-reference entry here differs from the one
    /// in `older` (new, redefined, moved or freed), in ascending order.
    pub(crate) fn redefined_since(&self, older: &LazyDocument<'_>) -> Vec<u32> {
        let mut numbers: Vec<u32> = self
            .xref
            .entries
            .iter()
            .filter(|(number, entry)| older.xref.entries.get(number) != Some(entry))
            .map(|(number, _)| *number)
            .collect();
        // Objects the older revision had that vanished from the newer one.
        numbers.extend(
            older
                .xref
                .entries
                .keys()
                .filter(|number| !self.xref.entries.contains_key(number)),
        );
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    /// The current generation of object `number`, if it is in use.
    pub(crate) fn generation(&self, number: u32) -> Option<u16> {
        match self.xref.entries.get(&number)? {
            Entry::InUse { generation, .. } => Some(*generation),
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
