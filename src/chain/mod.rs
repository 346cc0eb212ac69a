//! Certificate path validation for signature verification (RFC 5280 §6):
//! from the signer's certificate, through intermediates, to a configured
//! trust anchor, at a given time, for a given purpose, with CRL checking.
//!
//! Path building, signatures, validity, basicConstraints, pathLen, name
//! constraints, unknown critical extensions and extendedKeyUsage are
//! webpki's (the crate lives only in this module); kyso adds the signer's
//! keyUsage, subject, serial and key, rules on the CA
//! certificates webpki leaves out (empty names, rfc822Name constraints,
//! explicit-policy requirements), the anchors' own validity, EKU and
//! constraints, CRL selection and freshness, and the revocation date and
//! reason. Every doubt is a refusal: a wrong "valid" is the worst outcome
//! for a document verifier.
//!
//! Time is an argument: nothing here reads the clock.

mod anchors;
mod certificate;
mod error;
mod path;
mod profile;
mod purpose;
mod revocation;

pub use anchors::TrustAnchors;
pub use error::{ChainError, Constraint};
pub use purpose::Purpose;
pub use revocation::{Revocation, RevocationPolicy, RevocationStatus};

use std::time::SystemTime;

use pki_types::CertificateDer;

use certificate::Facts;
use path::PathRequest;

/// A path that validated: who vouches for the signer, through which
/// certificates, and what is known of their revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedPath {
    /// Subject (RFC 4514) of the trust anchor the path ends at.
    pub anchor_subject: String,
    /// DER certificates: the signer first, then each issuer, the anchor last.
    pub chain: Vec<Vec<u8>>,
    /// Revocation status of the signer and intermediates; never
    /// [`RevocationStatus::Revoked`] (a revoked certificate is an error).
    pub revocation: RevocationStatus,
}

/// Validates the signer certificate for document signing at `at`
/// (the [`Purpose::document_signing`] purpose).
///
/// `intermediates` are candidates in any order (those embedded in the CMS
/// and any known ones); unused ones are ignored.
pub fn validate_signer(
    signer_der: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &TrustAnchors,
    at: SystemTime,
    revocation: &Revocation,
) -> Result<ValidatedPath, ChainError> {
    let purpose = Purpose::document_signing();
    validate_for_purpose(signer_der, intermediates, anchors, at, revocation, &purpose)
}

/// [`validate_signer`] for another [`Purpose`] (e.g. a time-stamping
/// authority's certificate).
pub fn validate_for_purpose(
    signer_der: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &TrustAnchors,
    at: SystemTime,
    revocation: &Revocation,
    purpose: &Purpose,
) -> Result<ValidatedPath, ChainError> {
    let time = error::unix_time(at)?;
    // The instant as webpki sees it (whole seconds), for kyso's own checks.
    let at = error::system_time(time);
    let signer_facts = Facts::parse(signer_der, "signer certificate")?;
    profile::check_signer(&signer_facts)?;

    let signer = CertificateDer::from(signer_der);
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    let usable = anchors.usable(purpose, Some(at));
    let left_out_for_time = usable.left_out_for_time;
    let request = PathRequest::new(&signer, &intermediates, usable, time, purpose)
        .map_err(ChainError::from_webpki)?;

    // The path itself first, so that its faults are reported as such and
    // not hidden behind revocation errors.
    let path = match request.build(None) {
        Ok(path) => path,
        Err(webpki::Error::UnknownIssuer) if left_out_for_time => {
            let all = anchors.usable(purpose, None);
            let request = PathRequest::new(&signer, &intermediates, all, time, purpose)
                .map_err(ChainError::from_webpki)?;
            return Err(anchor_out_of_validity(&request, anchors, at));
        }
        Err(error) => return Err(ChainError::from_webpki(error)),
    };
    let (path, status) = revocation::check(&request, anchors, revocation, path, &signer_facts, at)?;
    let issuers = path.certificates[1..]
        .iter()
        .map(|der| Facts::parse(der, "CA certificate"))
        .collect::<Result<Vec<_>, _>>()?;
    profile::check_issuers(&signer_facts, &issuers)?;

    let (anchor_der, anchor_subject) = anchors
        .anchor(path.anchor)
        .ok_or(ChainError::UnknownIssuer)?;
    let mut chain = path.certificates;
    chain.push(anchor_der.to_vec());
    Ok(ValidatedPath {
        anchor_subject: anchor_subject.to_owned(),
        chain,
        revocation: status,
    })
}

/// The error when a path exists only to an anchor outside its validity
/// period at `at` (a `request` over all anchors).
fn anchor_out_of_validity(
    request: &PathRequest<'_>,
    anchors: &TrustAnchors,
    at: SystemTime,
) -> ChainError {
    match request.build(None) {
        Ok(path) => match anchors.validity(path.anchor) {
            Some((not_before, _)) if at < not_before => ChainError::NotYetValid { not_before, at },
            Some((_, not_after)) if at > not_after => ChainError::Expired { not_after, at },
            _ => ChainError::UnknownIssuer,
        },
        Err(error) => ChainError::from_webpki(error),
    }
}

#[cfg(test)]
mod tests;
