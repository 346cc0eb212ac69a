//! Path validation against a PKI made in code (rcgen): root → issuing CA →
//! signer, as kyso's own CA issues them, and variations of it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber,
};
use time::OffsetDateTime;

use super::*;

/// 2026-01-01T00:00:00Z, the "now" of these tests.
const NOW: u64 = 1_767_225_600;
const DAY: u64 = 86_400;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn date(seconds: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds as i64).expect("in range")
}

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    der: Vec<u8>,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CountryName, "VN");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = date(NOW - 3650 * DAY);
    params.not_after = date(NOW + 3650 * DAY);
    params
}

fn root_with(name: &str, change: impl FnOnce(&mut CertificateParams)) -> Ca {
    let mut params = ca_params(name);
    change(&mut params);
    let key = KeyPair::generate().expect("key");
    let der = params.self_signed(&key).expect("root").der().to_vec();
    Ca {
        issuer: Issuer::new(params, key),
        der,
    }
}

fn root() -> Ca {
    root_with("Kyso Test Root", |_| {})
}

fn issuing_ca_with(parent: &Ca, change: impl FnOnce(&mut CertificateParams)) -> Ca {
    let mut params = ca_params("Kyso Test Issuing CA");
    params.serial_number = Some(SerialNumber::from(7_u64));
    change(&mut params);
    let key = KeyPair::generate().expect("key");
    let der = params
        .signed_by(&key, &parent.issuer)
        .expect("CA")
        .der()
        .to_vec();
    Ca {
        issuer: Issuer::new(params, key),
        der,
    }
}

/// A personal signer certificate like kyso's CA issues: no EKU,
/// digitalSignature and contentCommitment, serial 1001.
fn signer_with(parent: &Ca, change: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CountryName, "VN");
    params
        .distinguished_name
        .push(DnType::CommonName, "Nguyễn Văn An");
    params.serial_number = Some(SerialNumber::from(1001_u64));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    params.not_before = date(NOW - 365 * DAY);
    params.not_after = date(NOW + 365 * DAY);
    change(&mut params);
    let key = KeyPair::generate().expect("key");
    params
        .signed_by(&key, &parent.issuer)
        .expect("signer")
        .der()
        .to_vec()
}

/// A CRL of `ca` issued at `issued`, valid a week, listing `revoked`
/// (serial, revocation time, reason).
fn crl(ca: &Ca, issued: u64, revoked: &[(u64, u64, Option<RevocationReason>)]) -> Vec<u8> {
    let params = CertificateRevocationListParams {
        this_update: date(issued),
        next_update: date(issued + 7 * DAY),
        crl_number: SerialNumber::from(issued),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|&(serial, when, reason_code)| RevokedCertParams {
                serial_number: SerialNumber::from(serial),
                revocation_time: date(when),
                reason_code,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params.signed_by(&ca.issuer).expect("CRL").der().to_vec()
}

fn anchors(root: &Ca) -> TrustAnchors {
    TrustAnchors::from_der(vec![root.der.clone()]).expect("anchor")
}

fn no_crls() -> Revocation {
    Revocation::new(Vec::new(), RevocationPolicy::SoftFail)
}

fn validate(
    signer: &[u8],
    ca: &Ca,
    root: &Ca,
    revocation: &Revocation,
) -> Result<ValidatedPath, ChainError> {
    validate_signer(
        signer,
        std::slice::from_ref(&ca.der),
        &anchors(root),
        at(NOW),
        revocation,
    )
}

fn refused_for(result: Result<ValidatedPath, ChainError>) -> Constraint {
    match result {
        Err(ChainError::ChainConstraints { reason }) => reason,
        other => panic!("expected a constraint failure, got {other:?}"),
    }
}

#[test]
fn a_kyso_style_signer_validates_and_names_its_anchor() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    let path = validate(&signer, &ca, &root, &no_crls()).expect("valid");
    assert_eq!(path.anchor_subject, "C=VN,CN=Kyso Test Root");
    assert_eq!(path.chain, vec![signer, ca.der.clone(), root.der.clone()]);
    assert_eq!(path.revocation, RevocationStatus::Unknown);
}

#[test]
fn unused_and_unordered_intermediates_are_ignored() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let stranger = issuing_ca_with(&root_with("Other Root", |_| {}), |_| {});
    let signer = signer_with(&ca, |_| {});
    let intermediates = [stranger.der.clone(), ca.der.clone()];
    let path = validate_signer(
        &signer,
        &intermediates,
        &anchors(&root),
        at(NOW),
        &no_crls(),
    );
    assert_eq!(path.expect("valid").chain.len(), 3);
}

#[test]
fn a_signer_of_another_hierarchy_has_no_path() {
    let (root, other) = (root(), root_with("Other Root", |_| {}));
    let ca = issuing_ca_with(&other, |_| {});
    let signer = signer_with(&ca, |_| {});
    let refused = validate(&signer, &ca, &root, &no_crls());
    assert!(matches!(refused, Err(ChainError::UnknownIssuer)));
}

#[test]
fn document_signing_and_email_protection_purposes_may_sign() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    for purpose in [
        ExtendedKeyUsagePurpose::EmailProtection,
        ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 36]),
        ExtendedKeyUsagePurpose::Other(vec![1, 2, 840, 113_583, 1, 1, 5]),
    ] {
        let signer = signer_with(&ca, |p| p.extended_key_usages = vec![purpose]);
        assert!(validate(&signer, &ca, &root, &no_crls()).is_ok());
    }
}

#[test]
fn a_server_or_time_stamping_certificate_may_not_sign_documents() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    for purpose in [
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::TimeStamping,
    ] {
        let signer = signer_with(&ca, |p| p.extended_key_usages = vec![purpose]);
        let refused = validate(&signer, &ca, &root, &no_crls());
        assert_eq!(refused_for(refused), Constraint::ExtendedKeyUsage);
    }
}

#[test]
fn an_issuing_ca_restricted_to_tls_cannot_vouch_for_document_signers() {
    let root = root();
    let ca = issuing_ca_with(&root, |p| {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]
    });
    let signer = signer_with(&ca, |_| {});
    assert_eq!(
        refused_for(validate(&signer, &ca, &root, &no_crls())),
        Constraint::ExtendedKeyUsage
    );
}

#[test]
fn a_key_for_encipherment_only_may_not_sign_documents() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |p| {
        p.key_usages = vec![KeyUsagePurpose::KeyEncipherment]
    });
    assert_eq!(
        refused_for(validate(&signer, &ca, &root, &no_crls())),
        Constraint::KeyUsage
    );
}

#[test]
fn an_expired_signer_reports_its_end_of_validity() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |p| p.not_after = date(NOW - DAY));
    match validate(&signer, &ca, &root, &no_crls()) {
        Err(
            error @ ChainError::Expired {
                not_after,
                at: when,
            },
        ) => {
            assert_eq!((not_after, when), (at(NOW - DAY), at(NOW)));
            assert_eq!(error.sub_indication(), "OUT_OF_BOUNDS_NO_POE");
        }
        other => panic!("expected expiry, got {other:?}"),
    }
}

#[test]
fn a_signer_is_checked_at_the_time_given_not_the_clock() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |p| p.not_after = date(NOW - DAY));
    let earlier = validate_signer(
        &signer,
        std::slice::from_ref(&ca.der),
        &anchors(&root),
        at(NOW - 30 * DAY),
        &no_crls(),
    );
    assert!(earlier.is_ok());
}

#[test]
fn an_expired_anchor_validates_nothing() {
    let root = root_with("Kyso Test Root", |p| p.not_after = date(NOW - DAY));
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    let refused = validate(&signer, &ca, &root, &no_crls());
    assert!(
        matches!(refused, Err(ChainError::Expired { not_after, .. }) if not_after == at(NOW - DAY))
    );
}

#[test]
fn a_current_crl_for_each_issuer_makes_the_status_good() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    let crls = vec![
        crl(&ca, NOW - DAY, &[(55, NOW - 9 * DAY, None)]),
        crl(&root, NOW - DAY, &[]),
    ];
    let revocation = Revocation::new(crls, RevocationPolicy::HardFail);
    let path = validate(&signer, &ca, &root, &revocation).expect("valid");
    assert_eq!(path.revocation, RevocationStatus::Good);
}

#[test]
fn a_missing_crl_is_unknown_when_soft_and_an_error_when_hard() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    // Only the signer's issuer publishes: the issuing CA's status is unknown.
    let crls = vec![crl(&ca, NOW - DAY, &[])];
    let soft = Revocation::new(crls.clone(), RevocationPolicy::SoftFail);
    assert_eq!(
        validate(&signer, &ca, &root, &soft)
            .expect("valid")
            .revocation,
        RevocationStatus::Unknown
    );
    let hard = Revocation::new(crls, RevocationPolicy::HardFail);
    let refused = validate(&signer, &ca, &root, &hard);
    assert!(matches!(refused, Err(ChainError::RevocationUnknown)));
    let none = Revocation::new(Vec::new(), RevocationPolicy::HardFail);
    assert!(matches!(
        validate(&signer, &ca, &root, &none),
        Err(ChainError::RevocationUnknown)
    ));
}

#[test]
fn a_stale_crl_proves_nothing_about_the_validation_time() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    let crls = vec![
        crl(&ca, NOW - 30 * DAY, &[]),
        crl(&root, NOW - 30 * DAY, &[]),
    ];
    let revocation = Revocation::new(crls, RevocationPolicy::SoftFail);
    let path = validate(&signer, &ca, &root, &revocation).expect("valid");
    assert_eq!(path.revocation, RevocationStatus::Unknown);
}

#[test]
fn a_revoked_signer_is_refused_with_date_and_reason() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    let listing = crl(
        &ca,
        NOW - DAY,
        &[(1001, NOW - 2 * DAY, Some(RevocationReason::KeyCompromise))],
    );
    let revocation = Revocation::new(vec![listing], RevocationPolicy::SoftFail);
    match validate(&signer, &ca, &root, &revocation) {
        Err(error @ ChainError::Revoked { .. }) => {
            assert_eq!(error.sub_indication(), "REVOKED_NO_POE");
            let ChainError::Revoked {
                subject,
                at: when,
                reason,
            } = error
            else {
                unreachable!()
            };
            assert_eq!(subject, "C=VN,CN=Nguyễn Văn An");
            assert_eq!(when, at(NOW - 2 * DAY));
            assert_eq!(reason.as_deref(), Some("keyCompromise"));
        }
        other => panic!("expected revocation, got {other:?}"),
    }
}

#[test]
fn an_older_crl_placed_first_does_not_hide_a_revocation() {
    // webpki consults only the first CRL it finds for an issuer.
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    let older = crl(&ca, NOW - 3 * DAY, &[]);
    let newer = crl(&ca, NOW - DAY, &[(1001, NOW - 2 * DAY, None)]);
    let revocation = Revocation::new(vec![older, newer], RevocationPolicy::SoftFail);
    let refused = validate(&signer, &ca, &root, &revocation);
    assert!(matches!(
        refused,
        Err(ChainError::Revoked { reason: None, .. })
    ));
}

#[test]
fn a_revoked_issuing_ca_is_reported_as_such() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    let listing = crl(
        &root,
        NOW - DAY,
        &[(7, NOW - 2 * DAY, Some(RevocationReason::CaCompromise))],
    );
    let revocation = Revocation::new(vec![listing], RevocationPolicy::SoftFail);
    match validate(&signer, &ca, &root, &revocation) {
        Err(ChainError::CaRevoked {
            subject, reason, ..
        }) => {
            assert_eq!(subject, "C=VN,CN=Kyso Test Issuing CA");
            assert_eq!(reason.as_deref(), Some("cACompromise"));
        }
        other => panic!("expected a revoked CA, got {other:?}"),
    }
}

#[test]
fn a_crl_signed_by_an_impostor_is_no_evidence() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    // Same issuer name, another key, listing another serial.
    let impostor = issuing_ca_with(&root, |_| {});
    let forged = crl(&impostor, NOW - DAY, &[(4242, NOW - 2 * DAY, None)]);
    let revocation = Revocation::new(vec![forged], RevocationPolicy::SoftFail);
    let path = validate(&signer, &ca, &root, &revocation).expect("valid");
    assert_eq!(path.revocation, RevocationStatus::Unknown);
}

#[test]
fn an_unusable_crl_that_lists_the_signer_leaves_its_status_unknown_even_under_soft_fail() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    // Same issuer name, another key: kyso cannot authenticate the listing.
    let impostor = issuing_ca_with(&root, |_| {});
    let forged = crl(&impostor, NOW - DAY, &[(1001, NOW - 2 * DAY, None)]);
    let revocation = Revocation::new(vec![forged], RevocationPolicy::SoftFail);
    assert!(matches!(
        validate(&signer, &ca, &root, &revocation),
        Err(ChainError::RevocationUnknown)
    ));
}

#[test]
fn a_ca_whose_key_usage_lacks_key_cert_sign_is_refused() {
    // RFC 5280 §6.1.4 (n).
    let root = root();
    let ca = issuing_ca_with(&root, |p| p.key_usages = vec![KeyUsagePurpose::CrlSign]);
    let signer = signer_with(&ca, |_| {});
    let revocation = Revocation::new(vec![], RevocationPolicy::SoftFail);
    assert!(matches!(
        validate(&signer, &ca, &root, &revocation),
        Err(ChainError::ChainConstraints {
            reason: Constraint::KeyUsage
        })
    ));
}

#[test]
fn a_crl_issued_after_the_signer_expired_cannot_vouch_for_it() {
    // RFC 5280 §3.3: an expired certificate may leave the CRL.
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |p| p.not_after = date(NOW - 10 * DAY));
    let crls = vec![crl(&ca, NOW - DAY, &[]), crl(&root, NOW - DAY, &[])];
    let revocation = Revocation::new(crls, RevocationPolicy::SoftFail);
    let then = at(NOW - 20 * DAY);
    let path = validate_signer(
        &signer,
        std::slice::from_ref(&ca.der),
        &anchors(&root),
        then,
        &revocation,
    );
    assert_eq!(path.expect("valid").revocation, RevocationStatus::Unknown);
}

#[test]
fn a_leaf_certificate_cannot_be_a_trust_anchor() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |_| {});
    assert!(matches!(
        TrustAnchors::from_der(vec![signer]),
        Err(ChainError::Anchor { .. })
    ));
}

#[test]
fn anchors_are_read_from_every_pem_file_of_a_folder() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (first, second) = (root(), root_with("Second Root", |_| {}));
    let pem = |der: &[u8]| pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()));
    std::fs::write(dir.path().join("a.pem"), pem(&first.der)).expect("write");
    std::fs::write(dir.path().join("b.pem"), pem(&second.der)).expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not an anchor").expect("write");
    let anchors = TrustAnchors::from_dir(dir.path()).expect("anchors");
    let subjects: Vec<&str> = anchors.subjects().collect();
    assert_eq!(subjects, ["C=VN,CN=Kyso Test Root", "C=VN,CN=Second Root"]);
}

#[test]
fn a_file_without_a_certificate_is_not_silently_skipped() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("empty.pem"), "no PEM here").expect("write");
    assert!(matches!(
        TrustAnchors::from_dir(dir.path()),
        Err(ChainError::Anchor { .. })
    ));
}

#[test]
fn a_signer_key_that_may_sign_certificates_is_refused() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let signer = signer_with(&ca, |p| {
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
    });
    assert_eq!(
        refused_for(validate(&signer, &ca, &root, &no_crls())),
        Constraint::KeyUsage
    );
}

#[test]
fn a_ca_with_email_name_constraints_is_refused() {
    // The subject's emailAddress would escape them (webpki checks SANs only).
    let root = root();
    let ca = issuing_ca_with(&root, |p| {
        p.name_constraints = Some(rcgen::NameConstraints {
            permitted_subtrees: vec![rcgen::GeneralSubtree::Rfc822Name("tinh.gov.vn".into())],
            excluded_subtrees: Vec::new(),
        });
    });
    let signer = signer_with(&ca, |_| {});
    assert_eq!(
        refused_for(validate(&signer, &ca, &root, &no_crls())),
        Constraint::NameConstraints
    );
}

/// policyConstraints (2.5.29.36, non-critical) with requireExplicitPolicy.
fn require_explicit_policy(skip: u8) -> rcgen::CustomExtension {
    rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 36], vec![0x30, 0x03, 0x80, 0x01, skip])
}

#[test]
fn a_path_that_needs_an_explicit_policy_is_refused() {
    let root = root();
    let ca = issuing_ca_with(&root, |p| {
        p.custom_extensions = vec![require_explicit_policy(0)]
    });
    let signer = signer_with(&ca, |_| {});
    assert_eq!(
        refused_for(validate(&signer, &ca, &root, &no_crls())),
        Constraint::ExplicitPolicy
    );
}

#[test]
fn an_explicit_policy_required_only_beyond_the_path_does_not_matter() {
    let root = root();
    let ca = issuing_ca_with(&root, |p| {
        p.custom_extensions = vec![require_explicit_policy(2)]
    });
    let signer = signer_with(&ca, |_| {});
    assert!(validate(&signer, &ca, &root, &no_crls()).is_ok());
}

#[test]
fn an_ecdsa_p384_signer_is_accepted() {
    let root = root();
    let ca = issuing_ca_with(&root, |_| {});
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Sở Tài chính");
    params.not_before = date(NOW - DAY);
    params.not_after = date(NOW + DAY);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("P-384 key");
    let signer = params
        .signed_by(&key, &ca.issuer)
        .expect("signer")
        .der()
        .to_vec();
    assert!(validate(&signer, &ca, &root, &no_crls()).is_ok());
}
