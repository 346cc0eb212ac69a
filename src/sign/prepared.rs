//! Phase 1 and 3 of a signature: the prepared revision with its signed
//! attributes, waiting for a signature value, and the embedding of the CMS.

use super::{SignError, SignOptions, SignatureSummary, SignedDocument, SignedParts, SignerProfile};
use crate::cms::SignedAttributes;
use crate::crypto::SignatureAlgorithm;
use crate::datetime::rfc3339;
use crate::pdf::{self, PreparedPdf, SignatureSpec};
use std::sync::Arc;
use std::time::SystemTime;

/// A signature reserved in a new revision of a PDF, waiting for the value a
/// key makes over [`data_to_be_signed`](Self::data_to_be_signed). Plain data:
/// it can be held while a key elsewhere signs, and completed once.
#[derive(Debug)]
pub struct PreparedSignature {
    pdf: PreparedPdf,
    attributes: SignedAttributes,
    profile: Arc<SignerProfile>,
    summary: SignatureSummary,
}

/// Phase 1: appends to `pdf` the revision that reserves a signature by
/// `profile`'s certificate at `now` (refused when the certificate is not
/// valid then, RFC 5280 §4.1.2.5), hashes its byte ranges and builds the
/// signed attributes (ETSI EN 319 142-1 §6.3).
pub fn prepare(
    pdf: &[u8],
    profile: &Arc<SignerProfile>,
    options: &SignOptions,
    now: SystemTime,
) -> Result<PreparedSignature, SignError> {
    prepare_with(profile, options, now, |spec| {
        pdf::prepare_signature(pdf, spec)
    })
}

/// [`prepare`] for a document the caller hands over: the signed file is
/// built in its buffer, without a copy of the document.
pub fn prepare_owned(
    pdf: Vec<u8>,
    profile: &Arc<SignerProfile>,
    options: &SignOptions,
    now: SystemTime,
) -> Result<PreparedSignature, SignError> {
    prepare_with(profile, options, now, |spec| {
        pdf::prepare_signature_owned(pdf, spec)
    })
}

/// [`prepare`] for a document shared with the caller: nothing the size of
/// the document is allocated, and [`PreparedSignature::complete_parts`]
/// returns the document and the signature revision apart (streamed signing
/// of large documents).
pub fn prepare_shared(
    pdf: Arc<Vec<u8>>,
    profile: &Arc<SignerProfile>,
    options: &SignOptions,
    now: SystemTime,
) -> Result<PreparedSignature, SignError> {
    prepare_with(profile, options, now, |spec| {
        pdf::prepare_signature_shared(pdf, spec)
    })
}

fn prepare_with(
    profile: &Arc<SignerProfile>,
    options: &SignOptions,
    now: SystemTime,
    prepare_pdf: impl FnOnce(&SignatureSpec<'_>) -> Result<pdf::PreparedPdf, pdf::PdfError>,
) -> Result<PreparedSignature, SignError> {
    let certificate = profile.certificate();
    if !certificate.is_valid_at(now) {
        return Err(SignError::CertificateNotValidAt {
            subject: certificate.subject.clone(),
            not_before: rfc3339(certificate.not_before),
            not_after: rfc3339(certificate.not_after),
        });
    }
    let algorithm = profile.algorithm();
    let spec = SignatureSpec {
        field_name: options.field_name.as_deref(),
        page: options.page,
        reason: options.reason.as_deref(),
        location: options.location.as_deref(),
        signer_name: certificate.common_name.as_deref(),
        signing_time: now,
        contents_capacity: profile.contents_capacity(),
    };
    let prepared = prepare_pdf(&spec)?;
    let document_digest = algorithm.digest().digest_parts(&prepared.signed_ranges());
    let attributes = SignedAttributes::new(&document_digest, profile.template())?;
    let summary = SignatureSummary {
        field_name: prepared.field_name().to_string(),
        page: prepared.page(),
        signer_subject: certificate.subject.clone(),
        certificate_serial: certificate.serial_hex.clone(),
        // Names, not `to_string`: formatting costs more than the copy.
        digest_algorithm: algorithm.digest().name().to_owned(),
        signature_algorithm: algorithm.name().to_owned(),
        signing_time: now,
    };
    Ok(PreparedSignature {
        pdf: prepared,
        attributes,
        profile: Arc::clone(profile),
        summary,
    })
}

impl PreparedSignature {
    /// The exact bytes the key signs: the DER signed attributes as an
    /// explicit SET OF (RFC 5652 §5.4). A signer that hashes its input
    /// (`openssl pkeyutl -rawin -digest sha256`, `openssl dgst -sign`) signs
    /// these.
    pub fn data_to_be_signed(&self) -> &[u8] {
        self.attributes.to_be_signed()
    }

    /// The hash of [`data_to_be_signed`](Self::data_to_be_signed) with the
    /// algorithm's digest, for signers that take a pre-hashed input.
    pub fn digest(&self) -> Vec<u8> {
        self.profile
            .algorithm()
            .digest()
            .digest(self.data_to_be_signed())
    }

    /// The algorithm the value must be made with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.profile.algorithm()
    }

    /// What the signature will be once completed.
    pub fn summary(&self) -> &SignatureSummary {
        &self.summary
    }

    /// The prepared file's size in bytes (what holding it costs).
    pub fn size(&self) -> usize {
        let [_, _, after_start, after_len] = self.pdf.byte_range();
        after_start + after_len
    }

    /// The signer certificate's fingerprint (SHA-256 of its DER, hex).
    pub fn certificate_fingerprint(&self) -> &str {
        self.profile.fingerprint()
    }

    /// Checks `signature_value` with the certificate's public key over the
    /// data to be signed, leaving the prepared signature usable either way.
    pub fn check_signature_value(&self, signature_value: &[u8]) -> Result<(), SignError> {
        self.profile
            .check_signature_value(self.data_to_be_signed(), signature_value)
    }

    /// Phase 3 for a value made elsewhere: checks it
    /// ([`check_signature_value`](Self::check_signature_value)), then embeds
    /// the CMS and returns the signed PDF.
    pub fn complete(self, signature_value: &[u8]) -> Result<SignedDocument, SignError> {
        self.check_signature_value(signature_value)?;
        self.dangerous_complete_unverified(signature_value)
    }

    /// Phase 3 without checking the value: only for values made by a key
    /// already matched to the certificate (see [`super::Signer::new`]). A
    /// wrong value would give a PDF whose signature is invalid.
    pub fn dangerous_complete_unverified(
        self,
        signature_value: &[u8],
    ) -> Result<SignedDocument, SignError> {
        let cms_der = self
            .attributes
            .into_signed_data(signature_value, self.profile.template())?;
        let pdf = self.pdf.embed(&cms_der)?;
        Ok(SignedDocument {
            pdf,
            summary: self.summary,
            signature_value_sha256: signature_value_sha256(signature_value),
        })
    }

    /// [`dangerous_complete_unverified`](Self::dangerous_complete_unverified)
    /// returning the document and the signature revision apart.
    pub fn dangerous_complete_parts_unverified(
        self,
        signature_value: &[u8],
    ) -> Result<SignedParts, SignError> {
        let cms_der = self
            .attributes
            .into_signed_data(signature_value, self.profile.template())?;
        let parts = self.pdf.embed_parts(&cms_der)?;
        Ok(SignedParts {
            input: parts.input,
            revision: parts.revision,
            summary: self.summary,
            signature_value_sha256: signature_value_sha256(signature_value),
        })
    }
}

/// SHA-256 of a signature value, lower-case hex.
pub fn signature_value_sha256(signature_value: &[u8]) -> String {
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = crate::crypto::DigestAlgorithm::Sha256.digest(signature_value);
    // Formatting each byte through `format!` cost more than the hash itself;
    // the string is sized once.
    let mut hex = String::with_capacity(2 * digest.len());
    for &byte in &digest {
        hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;
    use crate::sign::Signer;
    use crate::sign::testing::{leader_key, now, one_page_pdf};
    use std::time::Duration;

    #[test]
    fn a_value_made_outside_completes_a_signature_prepared_from_the_certificate_alone() {
        let (key, chain) = leader_key();
        let profile = Arc::new(SignerProfile::for_external_key(&chain).expect("profile"));
        assert_eq!(profile.algorithm(), key.algorithm());
        let prepared =
            prepare(&one_page_pdf(), &profile, &SignOptions::default(), now()).expect("prepare");
        assert_eq!(
            prepared.digest(),
            crate::crypto::DigestAlgorithm::Sha256.digest(prepared.data_to_be_signed())
        );
        let value = key.sign(prepared.data_to_be_signed()).expect("sign");
        let summary = prepared.summary().clone();
        let signed = prepared.complete(&value).expect("complete");
        assert_eq!(signed.summary, summary);
        assert!(signed.pdf.starts_with(&one_page_pdf()));
    }

    #[test]
    fn a_document_handed_over_is_signed_exactly_as_a_borrowed_copy_would_be() {
        let (key, chain) = leader_key();
        let profile = Arc::new(SignerProfile::for_external_key(&chain).expect("profile"));
        let options = SignOptions::default();
        let borrowed = prepare(&one_page_pdf(), &profile, &options, now()).expect("prepare");
        let handed_over =
            prepare_owned(one_page_pdf(), &profile, &options, now()).expect("prepare");
        assert_eq!(
            handed_over.data_to_be_signed(),
            borrowed.data_to_be_signed()
        );
        let value = key.sign(borrowed.data_to_be_signed()).expect("sign");
        let borrowed = borrowed.complete(&value).expect("complete");
        let handed_over = handed_over.complete(&value).expect("complete");
        assert_eq!(handed_over.pdf, borrowed.pdf);
        assert_eq!(handed_over.summary, borrowed.summary);
    }

    #[test]
    fn an_external_key_gets_the_same_placeholder_as_the_key_held_by_kyso() {
        let (key, chain) = leader_key();
        let signer = Signer::new(key, &chain).expect("signer");
        let external = SignerProfile::for_external_key(&chain).expect("profile");
        assert_eq!(
            external.contents_capacity(),
            signer.profile().contents_capacity()
        );
    }

    #[test]
    fn a_value_by_another_key_or_with_a_flipped_bit_is_rejected_and_the_signature_stays_usable() {
        let (key, chain) = leader_key();
        let (other, _) = leader_key();
        let profile = Arc::new(SignerProfile::for_external_key(&chain).expect("profile"));
        let prepared =
            prepare(&one_page_pdf(), &profile, &SignOptions::default(), now()).expect("prepare");
        let right = key.sign(prepared.data_to_be_signed()).expect("sign");
        let mut flipped = right.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let by_other = other.sign(prepared.data_to_be_signed()).expect("sign");
        for wrong in [&by_other, &flipped] {
            assert!(matches!(
                prepared.check_signature_value(wrong),
                Err(SignError::SignatureValueRejected { .. })
            ));
        }
        prepared
            .complete(&right)
            .expect("the right value still completes");
    }

    #[test]
    fn the_signature_value_hash_is_lower_case_hex_sha256() {
        let value = b"a signature value";
        assert_eq!(
            signature_value_sha256(value),
            crate::crypto::DigestAlgorithm::Sha256.hex_digest(value)
        );
    }

    #[test]
    fn a_certificate_is_refused_outside_its_validity() {
        let (_, chain) = leader_key();
        let profile = Arc::new(SignerProfile::for_external_key(&chain).expect("profile"));
        let later = now() + Duration::from_secs(4 * 366 * 24 * 3600);
        let refused = prepare(&one_page_pdf(), &profile, &SignOptions::default(), later);
        assert!(matches!(
            refused,
            Err(SignError::CertificateNotValidAt { .. })
        ));
    }
}
