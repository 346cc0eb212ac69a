//! The configured trust anchors (kyso's trust store is `certs/anchors/`,
//! one or more PEM certificates per `*.pem` file).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use der::asn1::ObjectIdentifier;
use pki_types::pem::PemObject;
use pki_types::{CertificateDer, TrustAnchor};

use super::ChainError;
use super::certificate::Facts;
use super::profile;
use super::purpose::Purpose;

/// The certificates a deployment trusts, each kept with its subject so a
/// report can say which anchor validated a signature.
///
/// RFC 5280 §6.1.1 (d) makes an anchor a name and a key; kyso additionally
/// refuses, when loading, anchor certificates that could not issue
/// certificates, carry an unknown critical extension or a weak key (see
/// [`TrustAnchors::from_der`]), and applies the anchor's own validity
/// period, extendedKeyUsage and keyUsage (cRLSign) to each validation.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<Anchor>,
}

#[derive(Debug, Clone)]
struct Anchor {
    der: Vec<u8>,
    subject: String,
    extended_key_usage: Option<Vec<ObjectIdentifier>>,
    /// keyUsage absent or asserting cRLSign (RFC 5280 §4.2.1.3).
    may_sign_crls: bool,
    validity: (SystemTime, SystemTime),
    trust_anchor: TrustAnchor<'static>,
}

/// The anchors usable for one validation, as webpki takes them.
pub(super) struct Usable<'a> {
    pub(super) anchors: Vec<TrustAnchor<'a>>,
    /// Position of each in the configured set.
    pub(super) positions: Vec<usize>,
    /// Whether some anchor was left out only for being outside its validity.
    pub(super) left_out_for_time: bool,
}

impl TrustAnchors {
    /// Trust anchors from DER certificates. Refuses the whole set if one is
    /// unusable:
    /// - not a certificate webpki can take as an anchor, or an empty subject
    ///   (RFC 5280 §4.1.2.6);
    /// - an unknown critical extension (RFC 5280 §4.2: a certificate user
    ///   "MUST reject" it — kyso does so for anchors too);
    /// - a version 3 certificate whose basicConstraints is absent or does
    ///   not assert cA, or whose keyUsage lacks keyCertSign (RFC 5280
    ///   §4.2.1.9, §4.2.1.3): such a key may not verify certificates.
    ///   Version 1 roots have no extensions and are taken as they are;
    /// - a key other than RSA ≥ 2048 bits, ECDSA P-256/P-384 or Ed25519.
    pub fn from_der(certificates: Vec<Vec<u8>>) -> Result<Self, ChainError> {
        let anchors = certificates
            .into_iter()
            .enumerate()
            .map(|(index, der)| Anchor::new(der, &format!("#{index}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustAnchors { anchors })
    }

    /// Trust anchors from PEM files, each holding one or more certificates.
    pub fn from_pem_files(paths: &[PathBuf]) -> Result<Self, ChainError> {
        let (anchors, refused) = Self::from_pem_files_leaving_out_unusable(paths)?;
        match refused.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(anchors),
        }
    }

    /// Like [`TrustAnchors::from_pem_files`], but a certificate that cannot
    /// serve as an anchor is left out (and returned with the reason) instead
    /// of refusing the whole set; unreadable files are still an error. For
    /// a caller that names anchors on the command line and wants to be told
    /// which of them count, not to be refused a report.
    pub fn from_pem_files_leaving_out_unusable(
        paths: &[PathBuf],
    ) -> Result<(Self, Vec<ChainError>), ChainError> {
        let mut anchors = Vec::new();
        let mut refused = Vec::new();
        for path in paths {
            let name = path.display().to_string();
            let unreadable = |reason: String| ChainError::Anchor {
                source_name: name.clone(),
                reason,
            };
            let bytes = std::fs::read(path).map_err(|error| unreadable(error.to_string()))?;
            let certificates = CertificateDer::pem_slice_iter(&bytes)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| unreadable(format!("bad PEM: {error}")))?;
            if certificates.is_empty() {
                return Err(unreadable("no CERTIFICATE in the file".to_owned()));
            }
            for certificate in certificates {
                match Anchor::new(certificate.to_vec(), &name) {
                    Ok(anchor) => anchors.push(anchor),
                    Err(error) => refused.push(error),
                }
            }
        }
        Ok((TrustAnchors { anchors }, refused))
    }

    /// Trust anchors from every `*.pem` file of a folder, in name order. An
    /// empty folder gives an empty set, under which nothing validates.
    pub fn from_dir(dir: &Path) -> Result<Self, ChainError> {
        let unreadable = |error: std::io::Error| ChainError::Anchor {
            source_name: dir.display().to_string(),
            reason: error.to_string(),
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            if path.is_file() && path.extension().is_some_and(|ext| ext == "pem") {
                paths.push(path);
            }
        }
        paths.sort();
        Self::from_pem_files(&paths)
    }

    /// How many anchors are configured.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether no anchor is configured.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The anchors' subjects (RFC 4514), in configuration order.
    pub fn subjects(&self) -> impl Iterator<Item = &str> {
        self.anchors.iter().map(|anchor| anchor.subject.as_str())
    }

    /// The anchors whose own extendedKeyUsage, if any, allows `purpose` and,
    /// when `at` is given, whose validity period contains it (kyso holds
    /// anchors to their validity like any certificate of the path).
    pub(super) fn usable(&self, purpose: &Purpose, at: Option<SystemTime>) -> Usable<'_> {
        let mut usable = Usable {
            anchors: Vec::new(),
            positions: Vec::new(),
            left_out_for_time: false,
        };
        for (position, anchor) in self.anchors.iter().enumerate() {
            if !purpose.allows(anchor.extended_key_usage.as_deref()) {
                continue;
            }
            let (not_before, not_after) = anchor.validity;
            if at.is_some_and(|at| at < not_before || at > not_after) {
                usable.left_out_for_time = true;
                continue;
            }
            usable.anchors.push(anchor.trust_anchor.clone());
            usable.positions.push(position);
        }
        usable
    }

    /// The validity period (notBefore, notAfter) of the anchor at `index`.
    pub(super) fn validity(&self, index: usize) -> Option<(SystemTime, SystemTime)> {
        self.anchors.get(index).map(|anchor| anchor.validity)
    }

    /// Whether an anchor named `issuer` (DER contents of the Name) has a
    /// keyUsage without cRLSign: its CRLs are not to be used (RFC 5280
    /// §6.3.3 (f)). webpki does not check this for anchors.
    pub(super) fn refuses_crls_from(&self, issuer: &[u8]) -> bool {
        self.anchors
            .iter()
            .any(|anchor| !anchor.may_sign_crls && anchor.trust_anchor.subject.as_ref() == issuer)
    }

    /// The DER certificate and subject of the anchor at `index`.
    pub(super) fn anchor(&self, index: usize) -> Option<(&[u8], &str)> {
        self.anchors
            .get(index)
            .map(|anchor| (anchor.der.as_slice(), anchor.subject.as_str()))
    }
}

impl Anchor {
    fn new(der: Vec<u8>, source_name: &str) -> Result<Self, ChainError> {
        let refuse = |reason: String| ChainError::Anchor {
            source_name: source_name.to_owned(),
            reason,
        };
        let certificate = CertificateDer::from(der.as_slice());
        let trust_anchor = webpki::anchor_from_trusted_cert(&certificate)
            .map_err(|error| refuse(format!("{error:?}")))?
            .to_owned();
        // webpki reads anchors ignoring unknown critical extensions; its
        // end-entity parser applies RFC 5280 §4.2 and tells us about them.
        if let Err(webpki::Error::UnsupportedCriticalExtension) =
            webpki::EndEntityCert::try_from(&certificate)
        {
            return Err(refuse(
                "unknown critical extension (RFC 5280 §4.2)".to_owned(),
            ));
        }
        let facts =
            Facts::parse(&der, "trust anchor").map_err(|error| refuse(error.to_string()))?;
        if facts.subject_is_empty() {
            // RFC 5280 §4.1.2.6: a CA's subject MUST be non-empty; kyso
            // reports the anchor by its subject.
            return Err(refuse("empty subject".to_owned()));
        }
        if facts.is_v3() {
            check_may_issue(&facts).map_err(refuse)?;
        }
        profile::check_key(&facts, "anchor public key").map_err(|e| refuse(e.to_string()))?;
        let may_sign_crls = facts
            .key_usage()
            .map_err(|e| refuse(e.to_string()))?
            .is_none_or(|usage| usage.crl_sign());
        Ok(Anchor {
            subject: facts.subject(),
            extended_key_usage: facts
                .extended_key_usage()
                .map_err(|e| refuse(e.to_string()))?,
            may_sign_crls,
            validity: (facts.not_before(), facts.not_after()),
            trust_anchor,
            der,
        })
    }
}

/// RFC 5280 §4.2.1.9 (cA asserted) and §4.2.1.3 (keyCertSign, when keyUsage
/// is present) for a version 3 anchor certificate.
fn check_may_issue(facts: &Facts) -> Result<(), String> {
    match facts.basic_constraints().map_err(|e| e.to_string())? {
        Some((_, constraints)) if constraints.ca => {}
        Some(_) => return Err("basicConstraints does not assert cA (RFC 5280 §4.2.1.9)".to_owned()),
        // A version 3 root without basicConstraints is refused (x509-limbo
        // rfc5280::root-missing-basic-constraints), even when named
        // explicitly: fail closed.
        None => {
            return Err("no basicConstraints: not a CA certificate (RFC 5280 §4.2.1.9)".to_owned());
        }
    }
    match facts.key_usage().map_err(|e| e.to_string())? {
        Some(usage) if !usage.key_cert_sign() => {
            Err("keyUsage lacks keyCertSign (RFC 5280 §4.2.1.3)".to_owned())
        }
        _ => Ok(()),
    }
}
