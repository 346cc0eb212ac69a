//! PDF signing structure (ISO 32000-2 §12.8): the incremental update that
//! adds a signature field and reserves the signature's `/Contents`, and the
//! embedding of the CMS into that reservation. lopdf lives only here.
//!
//! The phases are plain data: [`prepare_signature`] returns a [`PreparedPdf`]
//! whose two byte ranges a caller hashes and whose placeholder it fills with
//! [`PreparedPdf::embed`]. Between the two, the key may be anywhere.

mod changes;
mod form;
mod input;
mod reader;
mod signatures;
mod update;
mod write;

pub use changes::{ChangeLevel, changes_after, revision_ends};
pub use signatures::{
    EmbeddedSignature, SignatureEntries, SignedPdf, document_security_store_crls,
    embedded_signatures, signature_entries_in_revision,
};

use lopdf::{Dictionary, Object};
use std::sync::Arc;
use std::time::SystemTime;

/// Dictionary lookups that cost nothing more when the key is absent: lopdf's
/// `get` builds an error holding the key as a `String` for every miss, and
/// signing looks up many keys a plain document lacks (`/AcroForm`, `/Perms`,
/// `/Annots`…).
trait Lookup {
    /// The value under `key`, if any.
    fn lookup(&self, key: &[u8]) -> Option<&Object>;
}

impl Lookup for Dictionary {
    fn lookup(&self, key: &[u8]) -> Option<&Object> {
        self.as_hashmap().get(key)
    }
}

/// What is wrong with a PDF or a signing request at the PDF level.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The bytes do not start with a PDF header.
    #[error("the input is not a PDF: no %PDF- header in its first 1024 bytes")]
    NotAPdf,
    /// The file could not be parsed.
    #[error("the PDF cannot be read: {reason}")]
    Unreadable {
        /// What the parser said.
        reason: String,
    },
    /// The cross-reference data does not match the file: kyso does not
    /// repair by scanning, since an update appended to such a file would
    /// point at offsets that do not hold.
    #[error(
        "the PDF's cross-reference data does not match the file (damaged or truncated); \
         repair it first, e.g. `qpdf damaged.pdf repaired.pdf`, and use the repaired file"
    )]
    DamagedCrossReference,
    /// Encrypted PDFs are refused.
    #[error("the PDF is encrypted; kyso signs only unencrypted documents")]
    Encrypted,
    /// A structure the update needs is missing or has the wrong type.
    #[error("the PDF's {what} is missing or malformed")]
    Malformed {
        /// Which structure.
        what: &'static str,
    },
    /// The requested page does not exist.
    #[error("page {requested} does not exist; the document has {pages} page(s)")]
    NoSuchPage {
        /// 1-based page asked for.
        requested: u32,
        /// Pages in the document.
        pages: usize,
    },
    /// The requested field name is already taken.
    #[error("a form field named {name:?} already exists")]
    FieldNameTaken {
        /// The name asked for.
        name: String,
    },
    /// The field name is not usable in a PDF field name.
    #[error("field name {name:?} is invalid: it must be 1–64 characters without '.'")]
    InvalidFieldName {
        /// The name asked for.
        name: String,
    },
    /// A certification signature forbids any change (DocMDP /P 1).
    #[error(
        "the document is certified with \"no changes permitted\" (DocMDP P=1); it cannot be signed again"
    )]
    CertifiedNoChanges,
    /// The CMS does not fit the reserved placeholder.
    #[error("the signature ({needed} bytes) does not fit the reserved {reserved} bytes")]
    SignatureTooLarge {
        /// DER bytes of the CMS.
        needed: usize,
        /// Bytes reserved in `/Contents`.
        reserved: usize,
    },
}

/// What the new signature field and dictionary say, borrowed from the
/// request and the certificate for the time the revision is written.
#[derive(Debug, Clone, Copy)]
pub struct SignatureSpec<'a> {
    /// Name of the new field; `None` picks an unused `SignatureN`.
    pub field_name: Option<&'a str>,
    /// 1-based page for the (invisible) widget; `None` is the first page.
    pub page: Option<u32>,
    /// `/Reason`.
    pub reason: Option<&'a str>,
    /// `/Location`.
    pub location: Option<&'a str>,
    /// `/Name`: the signer's name.
    pub signer_name: Option<&'a str>,
    /// `/M`: the claimed signing time.
    pub signing_time: SystemTime,
    /// Bytes reserved for the DER CMS (the hex placeholder is twice as long).
    pub contents_capacity: usize,
}

/// A PDF with the signature revision appended and its `/Contents` reserved:
/// the input, unchanged, then the revision. The placeholder itself is not
/// held: it is outside the signed byte ranges, and [`PreparedPdf::embed`]
/// writes the CMS in its place, so each of its bytes is written once.
#[derive(Debug, Clone)]
pub struct PreparedPdf {
    input: Input,
    /// The revision without the `/Contents` hex string.
    revision: Vec<u8>,
    /// Offset in `revision` where the `<` that opens `/Contents` goes.
    contents_at: usize,
    /// Bytes of the `/Contents` hex string, `<` and `>` included.
    contents_len: usize,
    field_name: String,
    page: u32,
}

/// The input of a [`PreparedPdf`]: a copy, or the caller's handed-over
/// buffer, with room for the revision (the signed file is built in it), or
/// shared with the caller (the signed file is
/// the input followed by [`SignedParts::revision`], never copied whole).
#[derive(Debug, Clone)]
enum Input {
    Owned(Vec<u8>),
    Shared(Arc<Vec<u8>>),
}

impl Input {
    fn bytes(&self) -> &[u8] {
        match self {
            Input::Owned(bytes) => bytes,
            Input::Shared(bytes) => bytes,
        }
    }
}

/// A signed PDF in two parts: the input, unchanged and shared, and the
/// revision appended to it.
#[derive(Debug, Clone)]
pub struct SignedParts {
    /// The input document.
    pub input: Arc<Vec<u8>>,
    /// The signature revision that follows it.
    pub revision: Vec<u8>,
}

impl PreparedPdf {
    /// The byte ranges the signature covers, in order: everything but
    /// `/Contents` (the input, then the revision around the placeholder).
    pub fn signed_ranges(&self) -> [&[u8]; 3] {
        let (before, after) = self.revision.split_at(self.contents_at);
        [self.input.bytes(), before, after]
    }

    /// The `/ByteRange` values.
    pub fn byte_range(&self) -> [usize; 4] {
        let contents_start = self.input.bytes().len() + self.contents_at;
        [
            0,
            contents_start,
            contents_start + self.contents_len,
            self.revision.len() - self.contents_at,
        ]
    }

    /// The name of the new signature field.
    pub fn field_name(&self) -> &str {
        &self.field_name
    }

    /// The 1-based page holding the widget.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Bytes the placeholder can hold.
    pub fn capacity(&self) -> usize {
        (self.contents_len - 2) / 2
    }

    /// Writes the DER CMS into the placeholder (hex, zero-padded) and returns
    /// the signed PDF. Fails, never truncates, when the CMS is too large.
    pub fn embed(self, cms_der: &[u8]) -> Result<Vec<u8>, PdfError> {
        self.check_fits(cms_der)?;
        let mut whole = match self.input {
            // Made or grown with room for the revision.
            Input::Owned(bytes) => bytes,
            Input::Shared(shared) => {
                let mut whole =
                    Vec::with_capacity(shared.len() + self.revision.len() + self.contents_len);
                whole.extend_from_slice(&shared);
                whole
            }
        };
        write_revision_with_contents(
            &mut whole,
            &self.revision,
            self.contents_at,
            self.contents_len,
            cms_der,
        );
        Ok(whole)
    }

    /// [`embed`](Self::embed), returning the input and the revision apart,
    /// so a large document is never copied whole.
    pub fn embed_parts(self, cms_der: &[u8]) -> Result<SignedParts, PdfError> {
        self.check_fits(cms_der)?;
        let mut revision = Vec::with_capacity(self.revision.len() + self.contents_len);
        write_revision_with_contents(
            &mut revision,
            &self.revision,
            self.contents_at,
            self.contents_len,
            cms_der,
        );
        let input = match self.input {
            Input::Owned(bytes) => Arc::new(bytes),
            Input::Shared(bytes) => bytes,
        };
        Ok(SignedParts { input, revision })
    }

    fn check_fits(&self, cms_der: &[u8]) -> Result<(), PdfError> {
        if cms_der.len() > self.capacity() {
            return Err(PdfError::SignatureTooLarge {
                needed: cms_der.len(),
                reserved: self.capacity(),
            });
        }
        Ok(())
    }
}

/// Appends `revision` to `out` with the `/Contents` hex string of
/// `contents_len` bytes at `contents_at`: the CMS in upper-case hex, padded
/// with zeros (ISO 32000-2 §12.8.1: the padding is part of the value).
fn write_revision_with_contents(
    out: &mut Vec<u8>,
    revision: &[u8],
    contents_at: usize,
    contents_len: usize,
    cms_der: &[u8],
) {
    let (before, after) = revision.split_at(contents_at);
    out.extend_from_slice(before);
    out.push(b'<');
    let hex_start = out.len();
    let hex_end = hex_start + contents_len - 2;
    // Zeros, then the hex digits over their start (the caller checked that
    // the CMS fits).
    out.resize(hex_end, b'0');
    write::hex_digits_over(&mut out[hex_start..], cms_der);
    out.push(b'>');
    out.extend_from_slice(after);
}

/// Appends a revision to `input` that adds an invisible signature field and
/// a signature dictionary whose `/Contents` is reserved for
/// `spec.contents_capacity` bytes; the input's bytes are kept unchanged.
pub fn prepare_signature(input: &[u8], spec: &SignatureSpec) -> Result<PreparedPdf, PdfError> {
    let revision = write_revision(input, spec)?;
    // The copy has room for the revision and its `/Contents`: the signed
    // file is built in it.
    let mut owned = Vec::with_capacity(input.len() + revision.bytes.len() + revision.contents_len);
    owned.extend_from_slice(input);
    Ok(prepared(Input::Owned(owned), revision))
}

/// [`prepare_signature`] for an input the caller hands over: the revision
/// is appended to it in place, so the document is not copied (a request's
/// bytes, owned by the service that signs them).
pub fn prepare_signature_owned(
    input: Vec<u8>,
    spec: &SignatureSpec,
) -> Result<PreparedPdf, PdfError> {
    let revision = write_revision(&input, spec)?;
    let mut owned = input;
    owned.reserve_exact(revision.bytes.len() + revision.contents_len);
    Ok(prepared(Input::Owned(owned), revision))
}

/// [`prepare_signature`] for an input shared with the caller: nothing the
/// size of the document is allocated (large documents streamed in).
pub fn prepare_signature_shared(
    input: Arc<Vec<u8>>,
    spec: &SignatureSpec,
) -> Result<PreparedPdf, PdfError> {
    let revision = write_revision(&input, spec)?;
    Ok(prepared(Input::Shared(input), revision))
}

fn write_revision(
    input: &[u8],
    spec: &SignatureSpec,
) -> Result<update::SignatureRevision, PdfError> {
    let document = input::InputDocument::parse(input)?;
    let plan = form::plan_signature_field(&document, spec)?;
    update::write_signature_revision(input, &document, plan, spec)
}

fn prepared(input: Input, revision: update::SignatureRevision) -> PreparedPdf {
    PreparedPdf {
        input,
        revision: revision.bytes,
        contents_at: revision.contents_at,
        contents_len: revision.contents_len,
        field_name: revision.field_name,
        page: revision.page,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_as_not_a_pdf() {
        let spec = SignatureSpec {
            field_name: None,
            page: None,
            reason: None,
            location: None,
            signer_name: None,
            signing_time: SystemTime::UNIX_EPOCH,
            contents_capacity: 100,
        };
        let err = prepare_signature(b"\x89PNG\r\n\x1a\n not a pdf", &spec).unwrap_err();
        assert!(matches!(err, PdfError::NotAPdf), "{err}");
    }
}
