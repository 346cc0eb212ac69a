//! Reading the input PDF: what an incremental update needs to know about it.

use super::reader::{LazyDocument, RawDictionary};
use super::{Lookup, PdfError};
use lopdf::{Dictionary, Object, ObjectId};

/// The input, read lazily, and the facts about its last revision.
pub(super) struct InputDocument<'a> {
    /// The document; objects are read from it on demand.
    pub document: LazyDocument<'a>,
    /// Offset named by the last `startxref`: the new revision's `/Prev`.
    pub last_xref_offset: usize,
    /// Whether the last section is a cross-reference stream (the update then
    /// writes one too, ISO 32000-2 §7.5.8.4).
    pub last_xref_is_stream: bool,
    /// The first object number the update may use.
    pub next_object_number: u32,
    /// The catalog's id, from the trailer's `/Root`.
    pub root: ObjectId,
}

impl<'a> InputDocument<'a> {
    /// Reads the header, the cross-reference chain and the trailer; damaged
    /// cross-reference data is refused, never rebuilt by scanning.
    pub fn parse(input: &'a [u8]) -> Result<Self, PdfError> {
        let head = &input[..input.len().min(1024)];
        if !head.windows(5).any(|w| w == b"%PDF-") {
            return Err(PdfError::NotAPdf);
        }
        let document = LazyDocument::parse(input)?;
        let root = document
            .trailer()
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| PdfError::Malformed {
                what: "trailer /Root",
            })?;
        let next_object_number = document
            .declared_size()
            .unwrap_or(0)
            .max(document.max_object_number().saturating_add(1));
        Ok(Self {
            last_xref_offset: document.last_xref_offset(),
            last_xref_is_stream: document.last_xref_is_stream(),
            document,
            next_object_number,
            root,
        })
    }

    /// A dictionary object by id, read as its entries' bytes.
    pub fn raw_dictionary(
        &self,
        id: ObjectId,
        what: &'static str,
    ) -> Result<RawDictionary<'a>, PdfError> {
        self.document
            .dictionary(id)?
            .ok_or(PdfError::Malformed { what })
    }

    /// Follows a reference (if it is one) to the object; a reference to
    /// nothing is the null object.
    pub fn resolve(&self, object: &Object) -> Result<Object, PdfError> {
        self.document.resolve(object)
    }

    /// The value under `key` in `dictionary`, resolved; null when absent.
    pub fn entry(&self, dictionary: &Dictionary, key: &[u8]) -> Result<Object, PdfError> {
        match dictionary.lookup(key) {
            Some(value) => self.resolve(value),
            None => Ok(Object::Null),
        }
    }
}
