//! Reading the input PDF: what an incremental update needs to know about it.

use super::PdfError;
use lopdf::xref::XrefRecovery;
use lopdf::{Document, LoadOptions, Object, ObjectId};

/// Largest stream lopdf may inflate while loading (xref and object streams).
const MAX_DECOMPRESSED_STREAM: usize = 64 * 1024 * 1024;

/// The parsed input and the facts about its last revision.
pub(super) struct InputDocument {
    pub document: Document,
    /// Offset named by the last `startxref`: the new revision's `/Prev`.
    pub last_xref_offset: usize,
    /// Whether the last section is a cross-reference stream (the update then
    /// writes one too, ISO 32000-2 §7.5.8.4).
    pub last_xref_is_stream: bool,
    /// The first object number the update may use.
    pub next_object_number: u32,
    pub root: ObjectId,
}

impl InputDocument {
    pub fn parse(input: &[u8]) -> Result<Self, PdfError> {
        let head = &input[..input.len().min(1024)];
        if !head.windows(5).any(|w| w == b"%PDF-") {
            return Err(PdfError::NotAPdf);
        }
        let options = LoadOptions {
            strict: false,
            max_decompressed_size: Some(MAX_DECOMPRESSED_STREAM),
            ..LoadOptions::default()
        };
        let document = Document::load_mem_with_options(input, options).map_err(|e| match e {
            lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_) => PdfError::Encrypted,
            other => PdfError::Unreadable {
                reason: other.to_string(),
            },
        })?;
        if document.trailer.has(b"Encrypt") || document.was_encrypted() {
            return Err(PdfError::Encrypted);
        }
        if document.xref_recovery == Some(XrefRecovery::Reconstructed) {
            return Err(PdfError::DamagedCrossReference);
        }
        let last_xref_offset = document.xref_start;
        let last_xref_is_stream = match input.get(last_xref_offset..) {
            Some(rest) => !trim_leading_whitespace(rest).starts_with(b"xref"),
            None => return Err(PdfError::DamagedCrossReference),
        };
        let root = document
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| PdfError::Malformed { what: "trailer /Root" })?;
        let declared_size = document
            .trailer
            .get(b"Size")
            .and_then(Object::as_i64)
            .ok()
            .and_then(|size| u32::try_from(size).ok())
            .unwrap_or(0);
        let next_object_number = declared_size.max(document.max_id.saturating_add(1));
        Ok(Self {
            document,
            last_xref_offset,
            last_xref_is_stream,
            next_object_number,
            root,
        })
    }

    /// A dictionary object by id.
    pub fn dictionary(&self, id: ObjectId, what: &'static str) -> Result<&lopdf::Dictionary, PdfError> {
        self.document
            .get_dictionary(id)
            .map_err(|_| PdfError::Malformed { what })
    }

    /// Follows a reference (if it is one) to the object.
    pub fn resolve<'a>(&'a self, object: &'a Object) -> Option<&'a Object> {
        self.document.dereference(object).ok().map(|(_, o)| o)
    }
}

fn trim_leading_whitespace(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0)
        .unwrap_or(bytes.len());
    &bytes[start..]
}
