//! Finding the signer's certificate among the embedded ones by the
//! SignerInfo's `sid` (RFC 5652 §5.3, §10.2.4).

use super::CmsProblem;
use cms::signed_data::SignerIdentifier;
use der::Encode;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

/// A certificate from the SignedData's `certificates`, decoded, with the
/// bytes it was embedded as (hashed for ESS, handed out for path building).
#[derive(Debug, Clone)]
pub(super) struct EmbeddedCertificate<'a> {
    pub(super) der: &'a [u8],
    pub(super) certificate: Certificate,
}

/// The one embedded certificate `sid` names.
///
/// `issuerAndSerialNumber` matches the issuer Name by DER and the serial
/// number; `subjectKeyIdentifier` matches the certificate's SKI extension
/// (RFC 5280 §4.2.1.2). The same certificate embedded twice is one match;
/// two different certificates that both match make the signer ambiguous,
/// which is refused rather than guessed.
pub(super) fn identify<'c, 'a>(
    sid: &SignerIdentifier,
    certificates: &'c [EmbeddedCertificate<'a>],
) -> Result<&'c EmbeddedCertificate<'a>, CmsProblem> {
    let mut found: Option<&'c EmbeddedCertificate<'a>> = None;
    let mut distinct = 0_usize;
    for candidate in certificates.iter().filter(|c| names(sid, &c.certificate)) {
        if found.is_some_and(|first| first.der == candidate.der) {
            continue;
        }
        distinct = distinct.saturating_add(1);
        found.get_or_insert(candidate);
    }
    match (found, distinct) {
        (Some(certificate), 1) => Ok(certificate),
        (None, _) => Err(CmsProblem::SignerNotFound),
        (Some(_), count) => Err(CmsProblem::AmbiguousSigner { count }),
    }
}

fn names(sid: &SignerIdentifier, certificate: &Certificate) -> bool {
    let tbs = &certificate.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            id.serial_number == tbs.serial_number
                && matches!(
                    (id.issuer.to_der(), tbs.issuer.to_der()),
                    (Ok(wanted), Ok(issuer)) if wanted == issuer
                )
        }
        SignerIdentifier::SubjectKeyIdentifier(wanted) => match tbs.get::<SubjectKeyIdentifier>() {
            Ok(Some((_, ski))) => ski.0.as_bytes() == wanted.0.as_bytes(),
            _ => false,
        },
    }
}
