//! Revocation checking with CRLs (RFC 5280 §5, §6.3) on top of webpki.
//!
//! webpki consults only the *first* CRL it finds authoritative for each
//! certificate and ignores `revocationDate` and `reasonCode`. So kyso runs
//! it in two passes over a path that already validated without revocation:
//! 1. **evidence**: each CRL that lists a certificate of the candidate set
//!    is tried alone; if webpki, having checked the CRL's issuer, signature
//!    and scope, rejects every path with it, the certificate is revoked and
//!    kyso reads date and reason from that CRL entry;
//! 2. **status**: the CRLs current at the validation time are tried
//!    together, each certificate of the path needing one ("Good"), or the
//!    status is "Unknown" (soft fail) or an error (hard fail).
//!
//! Whatever the policy, a certificate of the path that a CRL of its issuer
//! lists is never "good" nor "not checked": if pass 1 could not prove it
//! revoked (a delta CRL, which webpki does not read, a CRL signed with
//! another key, an unsupported scope …), the status is
//! [`ChainError::RevocationUnknown`].

use std::time::SystemTime;

use der::Decode;
use der::oid::AssociatedOid;
use webpki::{
    CertRevocationList, ExpirationPolicy, OwnedCertRevocationList, RevocationCheckDepth,
    RevocationOptions, RevocationOptionsBuilder, RevocationReason, UnknownStatusPolicy,
};
use x509_cert::ext::pkix::CrlReason;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::DistributionPointName;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use super::certificate::Facts;
use super::error::system_time;
use super::path::{BuiltPath, PathRequest};
use super::{ChainError, TrustAnchors};

/// At most this many CRLs per validation: each costs path-building passes.
const MAX_CRLS: usize = 32;

/// id-ce-cRLNumber (RFC 5280 §5.2.3).
const CRL_NUMBER: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.20");

/// id-ce-expiredCertsOnCRL (ITU-T X.509 §9.5.2.15): the CRL keeps entries of
/// expired certificates.
const EXPIRED_CERTS_ON_CRL: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.60");

/// What to conclude when no usable CRL covers a certificate of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationPolicy {
    /// The status is reported as [`RevocationStatus::Unknown`]; the path is
    /// still returned.
    SoftFail,
    /// Validation fails with [`ChainError::RevocationUnknown`].
    HardFail,
}

/// The CRLs available for a validation (embedded in the signature, the
/// document's DSS, or fetched) and the policy for missing ones.
#[derive(Debug, Clone)]
pub struct Revocation {
    crls: Vec<Vec<u8>>,
    policy: RevocationPolicy,
}

impl Revocation {
    /// DER CRLs and the policy. CRLs that cannot be read or authenticated
    /// are not evidence either way and are left out.
    pub fn new(crls: Vec<Vec<u8>>, policy: RevocationPolicy) -> Self {
        Revocation { crls, policy }
    }
}

/// The revocation status of a validated path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    /// A current CRL covers every certificate of the path and lists none.
    Good,
    /// Some certificate of the path is covered by no usable current CRL.
    Unknown,
    /// A certificate is revoked. [`super::validate_signer`] reports this as
    /// [`ChainError::Revoked`] or [`ChainError::CaRevoked`], never inside a
    /// validated path; the variant lets reports show it beside the others.
    Revoked {
        /// revocationDate of the CRL entry.
        at: SystemTime,
        /// cRLReason (RFC 5280 §5.3.1), when the entry has one.
        reason: Option<String>,
    },
}

/// A CRL webpki could read, with the times kyso checks itself.
struct Crl {
    list: CertRevocationList<'static>,
    this_update: SystemTime,
    next_update: SystemTime,
    keeps_expired: bool,
    /// A cRLNumber extension is present and not critical (RFC 5280 §5.2.3).
    numbered: bool,
    /// The issuingDistributionPoint extension (RFC 5280 §5.2.5), if present.
    scope: Option<IssuingDistributionPoint>,
}

/// Any CRL x509-cert can read, including those webpki refuses (delta
/// CRLs, indirect CRLs …): its issuer and the serial numbers it lists.
struct Listing {
    issuer: Name,
    serials: Vec<SerialNumber>,
}

/// A certificate that may be in the path (the signer first).
struct Candidate {
    issuer: Vec<u8>,
    serial: Vec<u8>,
    subject: String,
    not_after: SystemTime,
    /// The distribution points of its cRLDistributionPoints that a CRL's
    /// issuingDistributionPoint can match: neither reason-partitioned nor
    /// with a cRLIssuer (RFC 5280 §6.3.3 (b)(2)(i)).
    distribution_points: Vec<DistributionPointName>,
}

/// Checks the revocation status of `path` (built without revocation).
/// Returns the path finally validated with CRLs, which may differ from
/// `path` when several exist.
pub(super) fn check(
    request: &PathRequest<'_>,
    anchors: &TrustAnchors,
    revocation: &Revocation,
    path: BuiltPath,
    signer: &Facts,
    at: SystemTime,
) -> Result<(BuiltPath, RevocationStatus), ChainError> {
    if revocation.crls.len() > MAX_CRLS {
        return Err(ChainError::BudgetExceeded { what: "CRLs" });
    }
    // No CRL at all: no evidence either way, and nothing below to read —
    // the status the passes would reach with empty lists, without parsing
    // the candidates.
    if revocation.crls.is_empty() {
        return match revocation.policy {
            RevocationPolicy::SoftFail => Ok((path, RevocationStatus::Unknown)),
            RevocationPolicy::HardFail => Err(ChainError::RevocationUnknown),
        };
    }
    let crls: Vec<Crl> = revocation
        .crls
        .iter()
        .filter_map(|der| Crl::parse(der))
        .collect();
    let listings: Vec<Listing> = revocation
        .crls
        .iter()
        .filter_map(|der| Listing::parse(der))
        .collect();
    let candidates = candidates(request, signer);

    // Pass 1, evidence: RFC 5280 §6.3.3 (i)(1) — a listed serial in an
    // authentic, authoritative CRL means revoked, whatever its freshness.
    for crl in &crls {
        if candidates
            .iter()
            .any(|candidate| crl.entry(candidate).is_some())
        {
            let alone = [&crl.list];
            if let Err(webpki::Error::CertRevoked) = request.build(options(
                &alone,
                RevocationCheckDepth::Chain,
                UnknownStatusPolicy::Allow,
            )) {
                return Err(revoked(request, crl, &candidates));
            }
        }
    }

    let (path, status) = status(request, anchors, revocation, path, &crls, &candidates, at)?;
    if listed(&listings, &path)? {
        return Err(ChainError::RevocationUnknown);
    }
    Ok((path, status))
}

/// Pass 2, status: only conforming CRLs (RFC 5280 §5.2.3: a non-critical
/// cRLNumber; §6.3.3 (f): an issuer allowed to sign CRLs) current at the
/// validation time (§6.3.3 (a)(2): nextUpdate after it), issued before each
/// covered certificate expired (§3.3: entries may leave the CRL after
/// expiry), whose scope kyso can match (§6.3.3 (b)) and with which webpki
/// still finds a path.
fn status(
    request: &PathRequest<'_>,
    anchors: &TrustAnchors,
    revocation: &Revocation,
    path: BuiltPath,
    crls: &[Crl],
    candidates: &[Candidate],
    at: SystemTime,
) -> Result<(BuiltPath, RevocationStatus), ChainError> {
    let current: Vec<&CertRevocationList<'static>> = crls
        .iter()
        .filter(|crl| crl.numbered && !anchors.refuses_crls_from(crl.list.issuer()))
        .filter(|crl| crl.next_update > at && crl.issued_while_valid(candidates))
        .filter(|crl| crl.scope_matches(candidates))
        .filter(|crl| usable(request, crl))
        .map(|crl| &crl.list)
        .collect();
    let unknown = |path: BuiltPath| match revocation.policy {
        RevocationPolicy::SoftFail => Ok((path, RevocationStatus::Unknown)),
        RevocationPolicy::HardFail => Err(ChainError::RevocationUnknown),
    };
    if current.is_empty() {
        return unknown(path);
    }
    let deny = options(
        &current,
        RevocationCheckDepth::Chain,
        UnknownStatusPolicy::Deny,
    );
    match request.build(deny) {
        Ok(path) => Ok((path, RevocationStatus::Good)),
        // Only reachable when CRLs that each left a path open close all of
        // them together: report the first listing we can find.
        Err(webpki::Error::CertRevoked) => Err(crls
            .iter()
            .find(|crl| {
                candidates
                    .iter()
                    .any(|candidate| crl.entry(candidate).is_some())
            })
            .map(|crl| revoked(request, crl, candidates))
            .unwrap_or(ChainError::RevocationUnknown)),
        // Some certificate has no usable CRL (or a CRL closes a path only
        // together with others): the path as webpki builds it without
        // requiring a status.
        Err(_) => {
            let allow = options(
                &current,
                RevocationCheckDepth::Chain,
                UnknownStatusPolicy::Allow,
            );
            let path = request.build(allow).map_err(ChainError::from_webpki)?;
            unknown(path)
        }
    }
}

/// Whether a CRL of the issuer of a certificate of `path` lists its serial
/// number. Called once pass 1 found no proof of revocation: such a listing
/// is then one kyso cannot use (a delta CRL, another key, an unsupported
/// scope), and the certificate may be revoked.
fn listed(listings: &[Listing], path: &BuiltPath) -> Result<bool, ChainError> {
    for der in &path.certificates {
        let cert = Facts::parse(der, "certificate of the path")?;
        if listings.iter().any(|listing| listing.lists(&cert)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Revocation options for webpki; `nextUpdate` is checked by kyso, which
/// drops stale CRLs instead of failing on the first one.
fn options<'a>(
    crls: &'a [&'a CertRevocationList<'a>],
    depth: RevocationCheckDepth,
    status: UnknownStatusPolicy,
) -> Option<RevocationOptions<'a>> {
    RevocationOptionsBuilder::new(crls).ok().map(|builder| {
        builder
            .with_depth(depth)
            .with_status_policy(status)
            .with_expiration_policy(ExpirationPolicy::Ignore)
            .build()
    })
}

/// Whether webpki still builds a path with `crl` alone: right issuer key,
/// issuer allowed to sign CRLs (RFC 5280 §6.3.3 (f)), supported features.
/// Any refusal leaves the CRL out, as [`Revocation::new`] says: one that
/// fails here would stop webpki at the first certificate it covers, and
/// turn an unusable CRL into a path error (pass 1 already reported the
/// CRLs that prove a revocation).
fn usable(request: &PathRequest<'_>, crl: &Crl) -> bool {
    let alone = [&crl.list];
    request
        .build(options(
            &alone,
            RevocationCheckDepth::Chain,
            UnknownStatusPolicy::Allow,
        ))
        .is_ok()
}

/// The error for a certificate revoked by `crl`: the signer if webpki finds
/// it revoked when only the signer is checked, otherwise the first listed
/// CA certificate.
fn revoked(request: &PathRequest<'_>, crl: &Crl, candidates: &[Candidate]) -> ChainError {
    let alone = [&crl.list];
    let signer_revoked = matches!(
        request.build(options(
            &alone,
            RevocationCheckDepth::EndEntity,
            UnknownStatusPolicy::Allow
        )),
        Err(webpki::Error::CertRevoked)
    );
    let found = match signer_revoked {
        true => candidates
            .iter()
            .take(1)
            .find_map(|c| crl.entry(c).map(|entry| (c, entry))),
        false => candidates
            .iter()
            .skip(1)
            .find_map(|c| crl.entry(c).map(|entry| (c, entry))),
    };
    let Some((candidate, (at, reason))) = found else {
        // webpki saw a listing kyso cannot find again: fail, without the
        // date and reason kyso could not read.
        return ChainError::RevocationUnknown;
    };
    let (subject, reason) = (candidate.subject.clone(), reason.map(str::to_owned));
    match signer_revoked {
        true => ChainError::Revoked {
            subject,
            at,
            reason,
        },
        false => ChainError::CaRevoked {
            subject,
            at,
            reason,
        },
    }
}

/// The signer and every intermediate webpki can read.
fn candidates(request: &PathRequest<'_>, signer: &Facts) -> Vec<Candidate> {
    let signer = Candidate {
        issuer: request.signer.issuer().to_vec(),
        serial: request.signer.serial().to_vec(),
        subject: signer.subject(),
        not_after: signer.not_after(),
        distribution_points: distribution_points(Some(signer)),
    };
    let intermediates = request.intermediates.iter().filter_map(|der| {
        let cert = webpki::EndEntityCert::try_from(der).ok()?;
        // A certificate x509-cert cannot read gets the earliest notAfter, so
        // that no CRL of its issuer can vouch for it (fail closed).
        let facts = Facts::parse(der, "intermediate").ok();
        Some(Candidate {
            issuer: cert.issuer().to_vec(),
            serial: cert.serial().to_vec(),
            subject: facts.as_ref().map(Facts::subject).unwrap_or_default(),
            not_after: facts
                .as_ref()
                .map(Facts::not_after)
                .unwrap_or(SystemTime::UNIX_EPOCH),
            distribution_points: distribution_points(facts.as_ref()),
        })
    });
    std::iter::once(signer).chain(intermediates).collect()
}

/// The names of `cert`'s distribution points without reasons or cRLIssuer;
/// none when the extension is absent or does not decode (then no CRL with
/// a distributionPoint in its issuingDistributionPoint vouches for it).
fn distribution_points(cert: Option<&Facts>) -> Vec<DistributionPointName> {
    let points = cert.and_then(|cert| cert.crl_distribution_points().ok().flatten());
    points
        .into_iter()
        .flat_map(|points| points.0)
        .filter(|point| point.reasons.is_none() && point.crl_issuer.is_none())
        .filter_map(|point| point.distribution_point)
        .collect()
}

impl Crl {
    /// Reads a CRL with webpki (v2, nextUpdate present, no delta or
    /// indirect CRL, no unknown critical extension, cRLNumber per RFC 5280
    /// §5.2.3) and its times with x509-cert; None when either refuses it.
    fn parse(der: &[u8]) -> Option<Self> {
        let list = OwnedCertRevocationList::from_der(der).ok()?;
        let tbs = x509_cert::crl::CertificateList::from_der(der)
            .ok()?
            .tbs_cert_list;
        let extensions = || tbs.crl_extensions.iter().flatten();
        let keeps_expired = extensions().any(|extension| extension.extn_id == EXPIRED_CERTS_ON_CRL);
        let numbered = extensions().any(|ext| ext.extn_id == CRL_NUMBER && !ext.critical);
        // An issuingDistributionPoint kyso cannot read leaves the CRL out.
        let scope = match extensions().find(|ext| ext.extn_id == IssuingDistributionPoint::OID) {
            Some(ext) => Some(IssuingDistributionPoint::from_der(ext.extn_value.as_bytes()).ok()?),
            None => None,
        };
        Some(Crl {
            list: list.into(),
            this_update: tbs.this_update.to_system_time(),
            next_update: tbs.next_update?.to_system_time(),
            keeps_expired,
            numbered,
            scope,
        })
    }

    /// The revocation date and reason of `candidate` if this CRL, from the
    /// candidate's issuer, lists its serial number.
    fn entry(&self, candidate: &Candidate) -> Option<(SystemTime, Option<&'static str>)> {
        if self.list.issuer() != candidate.issuer.as_slice() {
            return None;
        }
        let entry = self.list.find_serial(&candidate.serial).ok()??;
        Some((
            system_time(entry.revocation_date),
            entry.reason_code.map(reason_name),
        ))
    }

    /// Whether this CRL's scope positively covers every candidate of its
    /// issuer (RFC 5280 §6.3.3 (b)(2)(i), (d)). webpki takes a CRL whose
    /// issuingDistributionPoint names a distribution point as authoritative
    /// for a certificate without cRLDistributionPoints, so kyso lets such a
    /// CRL vouch only for certificates that name the same point, and never
    /// lets an indirect or reason-partitioned one vouch. Restricting the
    /// CRLs that may say "good" cannot turn a revocation into an acceptance:
    /// pass 1 and [`listed`] do not use this.
    fn scope_matches(&self, candidates: &[Candidate]) -> bool {
        let Some(scope) = &self.scope else {
            return true;
        };
        if scope.indirect_crl || scope.only_some_reasons.is_some() {
            return false;
        }
        let Some(point) = &scope.distribution_point else {
            // onlyContainsUserCerts / onlyContainsCACerts: webpki's checks.
            return true;
        };
        candidates
            .iter()
            .filter(|candidate| self.list.issuer() == candidate.issuer.as_slice())
            .all(|candidate| {
                candidate
                    .distribution_points
                    .iter()
                    .any(|named| same_point(point, named))
            })
    }

    /// Whether this CRL was issued before every candidate of its issuer
    /// expired, or keeps expired certificates listed.
    fn issued_while_valid(&self, candidates: &[Candidate]) -> bool {
        self.keeps_expired
            || candidates
                .iter()
                .filter(|candidate| self.list.issuer() == candidate.issuer.as_slice())
                .all(|candidate| self.this_update <= candidate.not_after)
    }
}

/// Whether two distribution point names surely name the same point: a
/// common general name (compared as DER values), or the same name relative
/// to the issuer, which the CRL and the certificate share.
fn same_point(crl: &DistributionPointName, cert: &DistributionPointName) -> bool {
    match (crl, cert) {
        (DistributionPointName::FullName(crl), DistributionPointName::FullName(cert)) => {
            crl.iter().any(|name| cert.contains(name))
        }
        (
            DistributionPointName::NameRelativeToCRLIssuer(crl),
            DistributionPointName::NameRelativeToCRLIssuer(cert),
        ) => crl == cert,
        _ => false,
    }
}

impl Listing {
    /// Reads the issuer and the listed serial numbers; None when x509-cert
    /// cannot read the CRL.
    fn parse(der: &[u8]) -> Option<Self> {
        let tbs = x509_cert::crl::CertificateList::from_der(der)
            .ok()?
            .tbs_cert_list;
        Some(Listing {
            issuer: tbs.issuer,
            serials: tbs
                .revoked_certificates
                .unwrap_or_default()
                .into_iter()
                // removeFromCRL (RFC 5280 §5.3.1) un-lists a certificate in a
                // delta CRL: it is no evidence of revocation (a hold in the
                // base CRL is found by pass 1).
                .filter(|entry| !removes(entry))
                .map(|entry| entry.serial_number)
                .collect(),
        })
    }

    /// Whether this CRL is from `cert`'s issuer (by name) and lists its
    /// serial number.
    fn lists(&self, cert: &Facts) -> bool {
        self.issuer == *cert.issuer() && self.serials.contains(cert.serial())
    }
}

/// Whether a CRL entry has the reasonCode removeFromCRL (RFC 5280 §5.3.1).
fn removes(entry: &x509_cert::crl::RevokedCert) -> bool {
    entry.crl_entry_extensions.iter().flatten().any(|ext| {
        ext.extn_id == CrlReason::OID
            && CrlReason::from_der(ext.extn_value.as_bytes())
                .is_ok_and(|reason| reason == CrlReason::RemoveFromCRL)
    })
}

/// The RFC 5280 §5.3.1 name of a CRLReason.
fn reason_name(reason: RevocationReason) -> &'static str {
    match reason {
        RevocationReason::Unspecified => "unspecified",
        RevocationReason::KeyCompromise => "keyCompromise",
        RevocationReason::CaCompromise => "cACompromise",
        RevocationReason::AffiliationChanged => "affiliationChanged",
        RevocationReason::Superseded => "superseded",
        RevocationReason::CessationOfOperation => "cessationOfOperation",
        RevocationReason::CertificateHold => "certificateHold",
        RevocationReason::RemoveFromCrl => "removeFromCRL",
        RevocationReason::PrivilegeWithdrawn => "privilegeWithdrawn",
        RevocationReason::AaCompromise => "aACompromise",
    }
}
