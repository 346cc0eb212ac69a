//! Verifying the signatures of an incoming PDF. Facts first — ByteRange,
//! integrity, signature value, trust, revocation, coverage, later changes —
//! then the ETSI EN 319 102-1 indication that sums them up, and a document
//! verdict that fails closed: a document passes only when a signature
//! passed and nothing after any signed revision is forbidden by the policy.

pub mod byte_range;
mod indication;
pub mod report;

pub use report::{
    DocumentReport, Indication, Modification, RevocationFact, SignatureReport, SignerFacts,
    SubIndication,
};

use crate::chain::{self, Revocation, RevocationPolicy, RevocationStatus, TrustAnchors};
use crate::cms::{CmsVerification, verify_detached};
use crate::datetime::{parse_pdf_date, rfc3339};
use crate::pdf::{self, ChangeLevel, EmbeddedSignature};
use std::time::SystemTime;

/// What a deployment allows after a signature, and how revocation is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyPolicy {
    /// Form filling after a signature does not stop the document passing.
    pub permit_form_filling: bool,
    /// Annotations after a signature do not stop the document passing.
    pub permit_annotations: bool,
    /// Soft-fail (missing revocation data is reported) or hard-fail.
    pub revocation: RevocationPolicy,
}

impl Default for VerifyPolicy {
    /// The policy for official documents: nothing but signatures,
    /// timestamps and validation data may follow a signature; soft-fail
    /// revocation.
    fn default() -> Self {
        Self {
            permit_form_filling: false,
            permit_annotations: false,
            revocation: RevocationPolicy::SoftFail,
        }
    }
}

impl VerifyPolicy {
    fn permits(&self, modification: Modification) -> bool {
        match modification {
            Modification::None | Modification::Ltv => true,
            Modification::FormFilling => self.permit_form_filling,
            Modification::Annotations => self.permit_annotations,
            Modification::Other => false,
        }
    }
}

/// Why a file could not be verified at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The input is not a PDF.
    #[error("the input is not a PDF: no %PDF- header in its first 1024 bytes")]
    NotAPdf,
}

/// What verification needs besides the file.
#[derive(Debug, Clone)]
pub struct VerifyContext<'a> {
    /// The configured trust anchors.
    pub anchors: &'a TrustAnchors,
    /// CRLs given by the caller or held by kyso (DER).
    pub crls: &'a [Vec<u8>],
    /// The policy.
    pub policy: VerifyPolicy,
    /// The validation time.
    pub at: SystemTime,
}

/// Evidence of when a signature existed, kept outside the document: kyso's
/// records of the signatures it made. Without a trusted timestamp this is
/// the only proof that a signature predates its certificate's revocation.
pub trait ProofOfExistence {
    /// When the signature with this value (the SignerInfo's `signature`)
    /// is proven to have existed, if it is.
    /// The proof must be for the signer certificate with this serial number
    /// (upper-case hex).
    fn existed_at(&self, signature_value: &[u8], signer_serial: &str) -> Option<SystemTime>;
}

/// No evidence: a revoked certificate fails every signature made with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProofOfExistence;

impl ProofOfExistence for NoProofOfExistence {
    fn existed_at(&self, _signature_value: &[u8], _signer_serial: &str) -> Option<SystemTime> {
        None
    }
}

/// Verifies every signature of `bytes`.
pub fn verify_pdf(
    bytes: &[u8],
    context: &VerifyContext<'_>,
) -> Result<DocumentReport, VerifyError> {
    verify_pdf_with_proof(bytes, context, &NoProofOfExistence)
}

/// Verifies every signature of `bytes`; a signature whose certificate was
/// revoked stays good when `proof` shows it existed before the revocation
/// time.
pub fn verify_pdf_with_proof(
    bytes: &[u8],
    context: &VerifyContext<'_>,
    proof: &dyn ProofOfExistence,
) -> Result<DocumentReport, VerifyError> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(VerifyError::NotAPdf);
    }
    // The cross-reference data is read once; every question below about
    // the latest revision is answered from that reading.
    let unreadable = |error: &dyn std::fmt::Display| DocumentReport {
        verdict: Indication::Indeterminate,
        signatures: Vec::new(),
        errors: vec![format!("the PDF cannot be read: {error}")],
    };
    let document = match pdf::SignedPdf::parse(bytes) {
        Ok(document) => document,
        Err(error) => return Ok(unreadable(&error)),
    };
    let signatures = match document.embedded_signatures() {
        Ok(signatures) => signatures,
        Err(error) => return Ok(unreadable(&error)),
    };
    let revision_ends = pdf::revision_ends(bytes);
    // Validation data in the document (a B-LT document's DSS) counts like
    // CRLs given by the caller; a DSS that cannot be read adds nothing.
    let mut crls = context.crls.to_vec();
    crls.extend(document.document_security_store_crls().unwrap_or_default());
    let context = &VerifyContext {
        crls: &crls,
        ..context.clone()
    };
    let mut reports: Vec<SignatureReport> = signatures
        .iter()
        .map(|signature| verify_signature(&document, signature, &revision_ends, context, proof))
        .collect();
    enforce_certification(&signatures, &mut reports);
    let mut errors = Vec::new();
    if reports.is_empty() {
        errors.push("the document has no signatures".to_string());
    }
    let verdict = indication::document_verdict(&reports, &context.policy);
    Ok(DocumentReport {
        verdict,
        signatures: reports,
        errors,
    })
}

fn verify_signature(
    document: &pdf::SignedPdf<'_>,
    signature: &EmbeddedSignature,
    revision_ends: &[usize],
    context: &VerifyContext<'_>,
    proof: &dyn ProofOfExistence,
) -> SignatureReport {
    let bytes = document.bytes();
    let mut errors = Vec::new();
    let byte_range = byte_range::check(&signature.byte_range, bytes.len(), signature.contents_span);
    if let Err(defect) = &byte_range {
        errors.push(defect.to_string());
    }
    // The end of the declared signed bytes: the signed revision.
    let signed_end = declared_end(&signature.byte_range).filter(|end| *end <= bytes.len());
    let cms = declared_ranges(&signature.byte_range, bytes.len()).map(|[first, second]| {
        verify_detached(
            &signature.contents,
            &[&bytes[first.0..first.1], &bytes[second.0..second.1]],
        )
    });
    let cms: Option<CmsVerification> = match cms {
        Some(Ok(cms)) => Some(cms),
        Some(Err(error)) => {
            errors.push(format!("the CMS signature cannot be read: {error}"));
            None
        }
        None => None,
    };
    if let Some(cms) = &cms {
        errors.extend(cms.problems.iter().map(ToString::to_string));
    }
    let signer = cms.as_ref().and_then(|c| c.signer_info.clone());

    let (trusted, trust_anchor, revocation, chain_error) = match (
        &cms,
        &cms.as_ref().and_then(|c| c.signer_certificate.clone()),
    ) {
        (Some(cms), Some(signer_der)) => {
            let intermediates: Vec<Vec<u8>> = cms
                .certificates
                .iter()
                .filter(|c| *c != signer_der)
                .cloned()
                .collect();
            let mut crls = cms.crls.clone();
            crls.extend(context.crls.iter().cloned());
            let revocation = Revocation::new(crls, context.policy.revocation);
            match chain::validate_signer(
                signer_der,
                &intermediates,
                context.anchors,
                context.at,
                &revocation,
            ) {
                Ok(path) => {
                    let revocation = match path.revocation {
                        RevocationStatus::Good => RevocationFact::Good,
                        RevocationStatus::Unknown => RevocationFact::NotChecked,
                        RevocationStatus::Revoked { at, reason } => RevocationFact::Revoked {
                            at: rfc3339(at),
                            reason,
                        },
                    };
                    (true, Some(path.anchor_subject), revocation, None)
                }
                Err(error) => {
                    if let Some(upheld) = upheld_by_proof(&error, cms, proof, || {
                        chain::validate_signer(
                            signer_der,
                            &intermediates,
                            context.anchors,
                            context.at,
                            &Revocation::new(Vec::new(), RevocationPolicy::SoftFail),
                        )
                    }) {
                        upheld
                    } else {
                        let revocation = match &error {
                            chain::ChainError::Revoked { at, reason, .. } => {
                                RevocationFact::Revoked {
                                    at: rfc3339(*at),
                                    reason: reason.clone(),
                                }
                            }
                            _ => RevocationFact::NotChecked,
                        };
                        errors.push(error.to_string());
                        (false, None, revocation, Some(error))
                    }
                }
            }
        }
        _ => (false, None, RevocationFact::NotChecked, None),
    };

    let revision = signed_end
        .and_then(|end| revision_ends.iter().position(|r| *r >= end))
        .map_or(0, |index| index + 1);
    // Coverage is a byte-level fact of a sound ByteRange only.
    let covers_whole_file = byte_range.is_ok() && signed_end == Some(bytes.len());
    let modifications = match signed_end {
        Some(end) => match document.changes_after(end) {
            Ok(level) => modification(level),
            Err(error) => {
                errors.push(format!("later revisions cannot be compared: {error}"));
                Modification::Other
            }
        },
        None => Modification::Other,
    };
    let entries = match (signature.object, signed_end) {
        (Some(object), Some(end)) => document
            .signature_entries_in_revision(revision_end(revision_ends, end), object)
            .unwrap_or_default(),
        _ => pdf::SignatureEntries::default(),
    };
    let cades = signature.sub_filter.as_deref() == Some("ETSI.CAdES.detached");
    if cades
        && cms.as_ref().is_some_and(|c| {
            c.signer_certificate.is_some() && c.signing_certificate_matches.is_none()
        })
    {
        errors.push("a PAdES (ETSI.CAdES.detached) signature must carry the ESS signing-certificate-v2 attribute".to_string());
    }
    let facts = indication::Facts {
        byte_range_ok: byte_range.is_ok(),
        cades,
        cms: cms.as_ref(),
        chain_error: chain_error.as_ref(),
        trusted,
    };
    let (indication, sub_indication) = indication::signature_indication(&facts);
    SignatureReport {
        field: signature.field_name.clone(),
        revision,
        signer: signer.map(|info| SignerFacts {
            subject: info.subject,
            common_name: info.common_name,
            organisation: info.organisation,
            serial: info.serial_hex,
            issuer: info.issuer,
        }),
        signing_time: entries
            .signing_time
            .as_deref()
            .and_then(parse_pdf_date)
            .map(rfc3339),
        byte_range_ok: byte_range.is_ok(),
        intact: cms.as_ref().is_some_and(|c| c.intact),
        valid: cms.as_ref().is_some_and(|c| c.valid),
        trusted,
        trust_anchor,
        revocation,
        covers_whole_file,
        modifications,
        indication,
        sub_indication,
        reason: entries.reason,
        location: entries.location,
        errors,
    }
}

/// What a signature whose signer certificate is revoked reports when `proof`
/// shows kyso made it before the revocation time and the path is sound but
/// for the revocation (`path_without_revocation`): trusted, with the
/// revocation reported as after signing. `None` otherwise: the revocation
/// stands.
fn upheld_by_proof(
    error: &chain::ChainError,
    cms: &CmsVerification,
    proof: &dyn ProofOfExistence,
    path_without_revocation: impl FnOnce() -> Result<chain::ValidatedPath, chain::ChainError>,
) -> Option<(
    bool,
    Option<String>,
    RevocationFact,
    Option<chain::ChainError>,
)> {
    let chain::ChainError::Revoked { at, reason, .. } = error else {
        return None;
    };
    let signer = cms.signer_info.as_ref()?;
    let signed_at = proof.existed_at(cms.signature_value.as_deref()?, &signer.serial_hex)?;
    if signed_at >= *at {
        return None;
    }
    let path = path_without_revocation().ok()?;
    let revocation = RevocationFact::RevokedAfterSigning {
        at: rfc3339(*at),
        reason: reason.clone(),
        signed_at: rfc3339(signed_at),
    };
    Some((true, Some(path.anchor_subject), revocation, None))
}

/// A certification signature with DocMDP P=1 permits no change at all;
/// ISO 32000-2 §12.8.2.2.2 makes an exception only for validation data and
/// document timestamps (which `modifications` already calls ltv). So a later
/// ordinary signature after it is a forbidden change, whatever the policy.
fn enforce_certification(signatures: &[EmbeddedSignature], reports: &mut [SignatureReport]) {
    for index in 0..signatures.len() {
        if signatures[index].docmdp_permission != Some(1) {
            continue;
        }
        let revision = reports[index].revision;
        let signed_later = signatures
            .iter()
            .zip(reports.iter())
            .any(|(signature, report)| !signature.document_timestamp && report.revision > revision);
        if signed_later {
            let report = &mut reports[index];
            report.modifications = Modification::Other;
            report.errors.push(
                "the document is certified with \"no changes permitted\" (DocMDP P=1) and was signed again afterwards"
                    .to_string(),
            );
        }
    }
}

/// The revision end a signed range ends in: the first `%%EOF` at or after it.
fn revision_end(revision_ends: &[usize], signed_end: usize) -> usize {
    revision_ends
        .iter()
        .copied()
        .find(|end| *end >= signed_end)
        .unwrap_or(signed_end)
}

/// `c + d` of a ByteRange `[a b c d]`.
fn declared_end(values: &[i64]) -> Option<usize> {
    let [_, _, c, d] = <[i64; 4]>::try_from(values).ok()?;
    usize::try_from(c.checked_add(d)?).ok()
}

/// The two declared ranges, when they lie inside the file (whether or not
/// the ByteRange is sound: integrity is reported even for a bad gap).
fn declared_ranges(values: &[i64], file_len: usize) -> Option<[(usize, usize); 2]> {
    let [a, b, c, d] = <[i64; 4]>::try_from(values)
        .ok()?
        .map(|v| usize::try_from(v).ok());
    let (a, b, c, d) = (a?, b?, c?, d?);
    let first = (a, a.checked_add(b)?);
    let second = (c, c.checked_add(d)?);
    (first.1 <= file_len && second.1 <= file_len).then_some([first, second])
}

fn modification(level: ChangeLevel) -> Modification {
    match level {
        ChangeLevel::None => Modification::None,
        ChangeLevel::Ltv => Modification::Ltv,
        ChangeLevel::FormFilling => Modification::FormFilling,
        ChangeLevel::Annotations => Modification::Annotations,
        ChangeLevel::Other => Modification::Other,
    }
}
