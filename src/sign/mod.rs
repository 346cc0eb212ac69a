//! Signing a PDF as PAdES baseline B-B (ETSI EN 319 142-1), in three phases:
//! prepare the revision and its placeholder ([`crate::pdf`]), sign the
//! digest of the signed attributes with any [`SigningKey`], embed the CMS.

use crate::cms::{
    self, CertificateError, CertificateInfo, CmsError, SignedAttributes, SignerCertificates,
};
use crate::crypto::{CryptoError, SignatureAlgorithm, SigningKey};
use crate::datetime::rfc3339;
use crate::pdf::{self, PdfError, SignatureSpec};
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
}

/// A key with its certificate chain, checked and sized once, then reused for
/// every document.
#[derive(Debug)]
pub struct Signer {
    key: Arc<dyn SigningKey>,
    certificates: SignerCertificates,
    certificate: CertificateInfo,
    contents_capacity: usize,
}

/// Margin added to the computed CMS size bound (DER length octets of outer
/// structures can grow by a byte or two when inner lengths cross a boundary).
const CONTENTS_MARGIN: usize = 32;

impl Signer {
    /// Pairs `key` with its certificate (first in `chain`) and intermediates,
    /// refusing a key that is not the certificate's.
    pub fn new<B: AsRef<[u8]>>(key: Arc<dyn SigningKey>, chain: &[B]) -> Result<Self, SignError> {
        let certificates = SignerCertificates::from_der_chain(chain)?;
        let certificate = certificates.signer_info();
        if certificate.public_key != key.public_key_bytes() {
            return Err(SignError::KeyDoesNotMatchCertificate {
                subject: certificate.subject,
            });
        }
        let contents_capacity =
            cms::signed_data_size_bound(key.algorithm(), key.max_signature_len(), &certificates)?
                + CONTENTS_MARGIN;
        Ok(Self {
            key,
            certificates,
            certificate,
            contents_capacity,
        })
    }

    /// The signer certificate's facts.
    pub fn certificate(&self) -> &CertificateInfo {
        &self.certificate
    }

    /// The key's signature algorithm.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.key.algorithm()
    }
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

/// Signs `pdf` with `signer` at `now`.
pub fn sign_pdf(
    pdf: &[u8],
    signer: &Signer,
    options: &SignOptions,
    now: SystemTime,
) -> Result<SignedDocument, SignError> {
    let certificate = &signer.certificate;
    if !certificate.is_valid_at(now) {
        return Err(SignError::CertificateNotValidAt {
            subject: certificate.subject.clone(),
            not_before: rfc3339(certificate.not_before),
            not_after: rfc3339(certificate.not_after),
        });
    }
    let algorithm = signer.key.algorithm();
    let spec = SignatureSpec {
        field_name: options.field_name.clone(),
        page: options.page,
        reason: options.reason.clone(),
        location: options.location.clone(),
        signer_name: certificate.common_name.clone(),
        signing_time: now,
        contents_capacity: signer.contents_capacity,
    };

    // Phase 1: the revision with its reserved /Contents, and the digest of
    // everything else.
    let prepared = pdf::prepare_signature(pdf, &spec)?;
    let document_digest = algorithm.digest().digest_parts(&prepared.signed_ranges());
    let attributes = SignedAttributes::new(&document_digest, algorithm, &signer.certificates)?;

    // Phase 2: the key signs the DER signed attributes.
    let signature_value = signer.key.sign(attributes.to_be_signed())?;

    // Phase 3: the CMS goes into the placeholder.
    let cms_der = attributes.into_signed_data(&signature_value, &signer.certificates)?;
    let summary = SignatureSummary {
        field_name: prepared.field_name().to_string(),
        page: prepared.page(),
        signer_subject: certificate.subject.clone(),
        certificate_serial: certificate.serial_hex.clone(),
        digest_algorithm: algorithm.digest().to_string(),
        signature_algorithm: algorithm.to_string(),
        signing_time: now,
    };
    let pdf = prepared.embed(&cms_der)?;
    Ok(SignedDocument { pdf, summary })
}
