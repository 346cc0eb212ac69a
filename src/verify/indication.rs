//! From facts to an ETSI EN 319 102-1 indication (§5.1.3), per signature
//! and for the document.

use super::VerifyPolicy;
use super::report::{Indication, SignatureReport, SubIndication};
use crate::chain::ChainError;
use crate::cms::{CmsProblem, CmsVerification};

/// The facts an indication is computed from.
pub(super) struct Facts<'a> {
    pub byte_range_ok: bool,
    /// `/SubFilter /ETSI.CAdES.detached`: PAdES requires ESS
    /// signing-certificate(-v2) (ETSI EN 319 142-1 §6.3).
    pub cades: bool,
    pub cms: Option<&'a CmsVerification>,
    pub chain_error: Option<&'a ChainError>,
    pub trusted: bool,
}

/// The indication of one signature: format, integrity and the signature
/// value first (certain failures), then the certificate (often only
/// indeterminate without more data).
pub(super) fn signature_indication(facts: &Facts<'_>) -> (Indication, Option<SubIndication>) {
    use Indication::{Indeterminate, TotalFailed, TotalPassed};
    if !facts.byte_range_ok {
        return (TotalFailed, Some(SubIndication::FormatFailure));
    }
    let Some(cms) = facts.cms else {
        return (TotalFailed, Some(SubIndication::FormatFailure));
    };
    let weak = cms.problems.iter().any(|p| {
        matches!(
            p,
            CmsProblem::WeakAlgorithm { .. }
                | CmsProblem::UnsupportedAlgorithm { .. }
                | CmsProblem::UnsupportedParameters { .. }
                | CmsProblem::UnsupportedPublicKey { .. }
                | CmsProblem::UnsupportedCurve { .. }
                | CmsProblem::RsaKeyTooShort { .. }
        )
    });
    if weak {
        return (Indeterminate, Some(SubIndication::CryptoConstraintsFailure));
    }
    if cms.signer_certificate.is_none() || !cms.signer_identified {
        return (
            Indeterminate,
            Some(SubIndication::NoSigningCertificateFound),
        );
    }
    if facts.cades && cms.signing_certificate_matches.is_none() {
        return (TotalFailed, Some(SubIndication::FormatFailure));
    }
    if !cms.intact {
        return (TotalFailed, Some(SubIndication::HashFailure));
    }
    if !cms.valid || !cms.is_verified() {
        return (TotalFailed, Some(SubIndication::SigCryptoFailure));
    }
    if let Some(error) = facts.chain_error {
        return match error {
            ChainError::Revoked { .. } | ChainError::CaRevoked { .. } => {
                (TotalFailed, Some(SubIndication::Revoked))
            }
            ChainError::Expired { .. } | ChainError::NotYetValid { .. } => {
                (Indeterminate, Some(SubIndication::OutOfBoundsNoPoe))
            }
            ChainError::UnknownIssuer => {
                (Indeterminate, Some(SubIndication::NoCertificateChainFound))
            }
            ChainError::RevocationUnknown => (Indeterminate, Some(SubIndication::TryLater)),
            ChainError::UnsupportedAlgorithm { .. } => {
                (Indeterminate, Some(SubIndication::CryptoConstraintsFailure))
            }
            ChainError::BadSignature
            | ChainError::Malformed { .. }
            | ChainError::BudgetExceeded { .. } => (
                Indeterminate,
                Some(SubIndication::CertificateChainGeneralFailure),
            ),
            _ => (Indeterminate, Some(SubIndication::ChainConstraintsFailure)),
        };
    }
    if !facts.trusted {
        return (Indeterminate, Some(SubIndication::NoCertificateChainFound));
    }
    (TotalPassed, None)
}

/// The document verdict: TOTAL_PASSED only if a signature passed, none
/// failed for certain, and what follows every signed revision is permitted.
pub(super) fn document_verdict(reports: &[SignatureReport], policy: &VerifyPolicy) -> Indication {
    if reports.is_empty() {
        return Indication::Indeterminate;
    }
    if reports
        .iter()
        .any(|r| r.indication == Indication::TotalFailed)
    {
        return Indication::TotalFailed;
    }
    let passed = reports
        .iter()
        .any(|r| r.indication == Indication::TotalPassed);
    let permitted = reports.iter().all(|r| policy.permits(r.modifications));
    match (passed, permitted) {
        (true, true) => Indication::TotalPassed,
        (_, false) => Indication::TotalFailed,
        (false, true) => Indication::Indeterminate,
    }
}
