//! Signing a PDF as PAdES baseline B-B (ETSI EN 319 142-1), in three phases
//! that are types (pyHanko's `PdfTBSDocument` phases):
//!
//! 1. [`prepare`] reserves the placeholder in a new revision, hashes the byte
//!    ranges and builds the signed attributes, giving a [`PreparedSignature`]:
//!    plain data, which can wait in memory while a key elsewhere signs;
//! 2. any key signs [`PreparedSignature::data_to_be_signed`] — a kyso
//!    [`SigningKey`](crate::crypto::SigningKey), a leader's USB token, a
//!    remote signing service;
//! 3. [`PreparedSignature::complete`] checks the value against the
//!    certificate and embeds the CMS.
//!
//! [`sign_pdf`] is those phases composed, for a key kyso holds.

mod certificate;
mod prepared;
pub mod sample;
mod signer;
#[cfg(test)]
pub(crate) mod testing;

pub use certificate::{SignerProfile, describe_key};
pub use prepared::{
    PreparedSignature, prepare, prepare_owned, prepare_shared, signature_value_sha256,
};
pub use signer::Signer;

use crate::cms::{CertificateError, CmsError};
use crate::crypto::{CryptoError, SignatureAlgorithm};
use crate::pdf::PdfError;
use std::sync::Arc;
use std::time::SystemTime;

/// What can stop a signature.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The PDF cannot be signed as given.
    #[error(transparent)]
    Pdf(#[from] PdfError),
    /// Building the CMS failed.
    #[error(transparent)]
    Cms(#[from] CmsError),
    /// The key failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A certificate could not be parsed.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// The key is not the certificate's key.
    #[error("the private key does not belong to the certificate {subject}")]
    KeyDoesNotMatchCertificate {
        /// The certificate's subject.
        subject: String,
    },
    /// The certificate is not valid at the signing time.
    #[error(
        "the certificate {subject} is not valid at the signing time (valid {not_before} to {not_after})"
    )]
    CertificateNotValidAt {
        /// The certificate's subject.
        subject: String,
        /// Start of validity, RFC 3339.
        not_before: String,
        /// End of validity, RFC 3339.
        not_after: String,
    },
    /// The certificate's keyUsage does not allow signing documents
    /// (RFC 5280 §4.2.1.3: digitalSignature or nonRepudiation is needed).
    #[error(
        "the certificate {subject} may not sign documents: its keyUsage has neither digitalSignature nor nonRepudiation"
    )]
    CertificateNotForSigning {
        /// The certificate's subject.
        subject: String,
    },
    /// The certificate's key is of a kind kyso cannot make signatures for.
    #[error("the certificate {subject} has a key kyso cannot sign with: {reason}")]
    UnsupportedSignerKey {
        /// The certificate's subject.
        subject: String,
        /// What kind of key it is, or what is wrong with it.
        reason: String,
    },
    /// A signature value made elsewhere does not verify with the
    /// certificate's public key over the data to be signed.
    #[error(
        "the signature value does not verify as {algorithm} with the public key of {subject} over the data to be signed ({problem})"
    )]
    SignatureValueRejected {
        /// The certificate's subject.
        subject: String,
        /// The algorithm the value was checked as.
        algorithm: SignatureAlgorithm,
        /// What the verifier said.
        problem: String,
    },
}

/// Optional parts of a signature request.
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// Name of the new field (default: first free `SignatureN`).
    pub field_name: Option<String>,
    /// 1-based page for the widget (default: 1).
    pub page: Option<u32>,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
}

/// A signed PDF and what its new signature is.
#[derive(Debug, Clone)]
pub struct SignedDocument {
    /// The whole signed file.
    pub pdf: Vec<u8>,
    /// Facts about the new signature.
    pub summary: SignatureSummary,
    /// SHA-256 of the signature value (the CMS SignerInfo's `signature`),
    /// lower-case hex: how kyso's records find this very signature again to
    /// prove when it was made.
    pub signature_value_sha256: String,
}

/// A signed PDF in two parts, for documents too large to copy: the input,
/// unchanged, followed by the signature revision.
#[derive(Debug, Clone)]
pub struct SignedParts {
    /// The input document (the signed file's first bytes).
    pub input: Arc<Vec<u8>>,
    /// The revision appended to it.
    pub revision: Vec<u8>,
    /// Facts about the new signature.
    pub summary: SignatureSummary,
    /// SHA-256 of the signature value, lower-case hex.
    pub signature_value_sha256: String,
}

/// Facts about a signature kyso made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureSummary {
    /// The new field's name.
    pub field_name: String,
    /// Page (1-based) holding the widget.
    pub page: u32,
    /// Signer certificate subject (RFC 4514).
    pub signer_subject: String,
    /// Signer certificate serial, upper-case hex.
    pub certificate_serial: String,
    /// Digest algorithm name.
    pub digest_algorithm: String,
    /// Signature algorithm name.
    pub signature_algorithm: String,
    /// The `/M` time.
    pub signing_time: SystemTime,
}

/// Signs `pdf` with `signer` at `now`: [`prepare`], the key signs, then the
/// CMS is embedded.
pub fn sign_pdf(
    pdf: &[u8],
    signer: &Signer,
    options: &SignOptions,
    now: SystemTime,
) -> Result<SignedDocument, SignError> {
    complete_with_own_key(prepare(pdf, signer.profile(), options, now)?, signer)
}

/// [`sign_pdf`] for a document the caller hands over (a request's bytes):
/// the signed file is built in its buffer, so the document is not copied.
pub fn sign_pdf_owned(
    pdf: Vec<u8>,
    signer: &Signer,
    options: &SignOptions,
    now: SystemTime,
) -> Result<SignedDocument, SignError> {
    complete_with_own_key(prepare_owned(pdf, signer.profile(), options, now)?, signer)
}

/// The key of `signer`, whose profile prepared the signature, signs it and
/// the CMS is embedded.
fn complete_with_own_key(
    prepared: PreparedSignature,
    signer: &Signer,
) -> Result<SignedDocument, SignError> {
    let signature_value = signer.key().sign(prepared.data_to_be_signed())?;
    // Signer::new matched the key to the certificate, so a value it produced
    // verifies; checking it again would only slow every signature down.
    prepared.dangerous_complete_unverified(&signature_value)
}

/// [`sign_pdf`] for a large document shared with the caller: the signed file
/// is [`SignedParts::input`] followed by [`SignedParts::revision`], and
/// nothing the size of the document is allocated.
pub fn sign_pdf_shared(
    pdf: Arc<Vec<u8>>,
    signer: &Signer,
    options: &SignOptions,
    now: SystemTime,
) -> Result<SignedParts, SignError> {
    let prepared = prepare_shared(pdf, signer.profile(), options, now)?;
    let signature_value = signer.key().sign(prepared.data_to_be_signed())?;
    prepared.dangerous_complete_parts_unverified(&signature_value)
}
