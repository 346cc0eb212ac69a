//! One path-building request to webpki: the signer, the candidate
//! intermediates, the anchors allowed for the purpose, the time, the
//! signature algorithms kyso accepts, and optional CRL checking.

use pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, RevocationOptions};

use super::anchors::Usable;
use super::purpose::Purpose;

/// Signature algorithms accepted on certificates and CRLs: RSA PKCS#1 v1.5
/// with SHA-256/384/512 (2048–8192-bit keys), RSA-PSS, ECDSA P-256/P-384.
/// No SHA-1, DSA, P-192 or RSA keys under 2048 bits (webpki refuses them).
static ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
];

/// Everything webpki needs to build a path, borrowed from the caller.
pub(super) struct PathRequest<'a> {
    pub(super) signer: EndEntityCert<'a>,
    pub(super) intermediates: &'a [CertificateDer<'a>],
    anchors: Vec<TrustAnchor<'a>>,
    /// Position of each of `anchors` in the configured [`super::TrustAnchors`].
    anchor_positions: Vec<usize>,
    time: UnixTime,
    purpose: &'a Purpose,
}

/// A path webpki accepted, as owned DER.
#[derive(Debug, Clone)]
pub(super) struct BuiltPath {
    /// The signer then the intermediates, issuer after subject.
    pub(super) certificates: Vec<Vec<u8>>,
    /// Position of the anchor in the configured [`super::TrustAnchors`].
    pub(super) anchor: usize,
}

impl<'a> PathRequest<'a> {
    /// A request for `signer` (RFC 5280 §4.1 DER, refused by webpki if not
    /// a version 3 certificate it can read) at `time`.
    pub(super) fn new(
        signer: &'a CertificateDer<'a>,
        intermediates: &'a [CertificateDer<'a>],
        anchors: Usable<'a>,
        time: UnixTime,
        purpose: &'a Purpose,
    ) -> Result<Self, webpki::Error> {
        Ok(PathRequest {
            signer: EndEntityCert::try_from(signer)?,
            intermediates,
            anchors: anchors.anchors,
            anchor_positions: anchors.positions,
            time,
            purpose,
        })
    }

    /// Builds a path under webpki's budget (100 signature checks, 200,000
    /// path-building calls, 250,000 name-constraint comparisons, 6
    /// intermediates), with RFC 5280 §6.1 validity, basicConstraints,
    /// pathLenConstraint and name-constraint checks, the purpose's EKU on
    /// every certificate, and CRL checks when `revocation` is given.
    pub(super) fn build(
        &self,
        revocation: Option<RevocationOptions<'_>>,
    ) -> Result<BuiltPath, webpki::Error> {
        let path = self.signer.verify_for_usage(
            ALGORITHMS,
            &self.anchors,
            self.intermediates,
            self.time,
            self.purpose.validator(),
            revocation,
            None,
        )?;
        let certificates = std::iter::once(path.end_entity().der().to_vec())
            .chain(
                path.intermediate_certificates()
                    .map(|cert| cert.der().to_vec()),
            )
            .collect();
        // The anchor is an element of `self.anchors`: find which by address.
        let anchor = self
            .anchors
            .iter()
            .position(|anchor| std::ptr::eq(anchor, path.anchor()))
            .and_then(|position| self.anchor_positions.get(position).copied())
            .ok_or(webpki::Error::UnknownIssuer)?;
        Ok(BuiltPath {
            certificates,
            anchor,
        })
    }
}
