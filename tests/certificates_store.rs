//! Conformance suite of the certificate register, the CRL store and the
//! signing evidence: every test runs on SQLite and on PostgreSQL (modules
//! `sqlite` and `postgres`), through the public API only.
//!
//! The store never parses what it keeps, so certificates here are byte
//! strings that cover every byte value, not real DER.

#![allow(
    clippy::unwrap_used,
    reason = "outside #[test] functions too, a failed unwrap is a failed test"
)]

#[path = "support/records.rs"]
#[macro_use]
mod records_support;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kyso::ca::{CertificateRole, RevocationReason};
use kyso::datetime::parse_rfc3339;
use kyso::records::{
    CertificateFilter, CertificateOrigin, CertificateRecord, CertificateRevocation,
    CertificateStatus, Direction, DocumentId, DocumentRecord, Fact, GuardedRecord, KeyCustody,
    PublishCrlError, RecordOutcome, RecordStore, RecordsError, RevokeOutcome, RevokedEntry,
    SignatureEvidence,
};
use kyso::units::{LeaderId, UnitCode, demo_province};
use records_support::TestDatabase;

conformance! {
    store: [
        a_certificate_reads_back_exactly_as_given_and_adding_it_again_changes_nothing,
        a_certificate_for_an_unregistered_unit_is_refused_and_nothing_is_stored,
        a_serial_names_one_certificate_per_kyso_ca_but_imported_serials_may_repeat,
        listings_filter_by_unit_role_and_status_judged_at_the_given_instant,
        active_signers_are_the_newest_good_certificates_whose_keys_kyso_holds,
        revoking_twice_keeps_the_first_revocation,
        crl_numbers_grow_from_one_and_each_crl_lists_the_revoked_certificates_of_its_ca,
        a_crl_whose_signing_fails_is_not_stored_and_does_not_use_up_its_number,
        signing_evidence_is_written_with_the_record_and_survives_a_retry_the_ledger_merges,
        signing_evidence_is_stored_whole_with_its_batch_or_not_at_all,
        a_signature_is_acknowledged_only_while_its_certificate_is_not_revoked,
    ],
    database: [
        replicas_publishing_crls_at_once_never_reuse_a_number,
        replicas_revoking_and_registering_at_once_keep_one_revocation_and_one_certificate,
    ],
}

// ----- Helpers ---------------------------------------------------------------------------------

const DEPARTMENT: &str = "000.00.01.H23";
const DISTRICT: &str = "000.00.34.H23";
const LEADER: &str = "tran-quoc-bao";
const ISSUING: &str = "issuing";

fn code(text: &str) -> UnitCode {
    UnitCode::parse(text).unwrap()
}

fn leader_id(text: &str) -> LeaderId {
    LeaderId::parse(text).unwrap()
}

/// An instant written in RFC 3339.
fn at(text: &str) -> SystemTime {
    parse_rfc3339(text).unwrap()
}

async fn seeded(store: &RecordStore) {
    store.seed_units(&demo_province()).await.unwrap();
}

/// Bytes standing for a DER certificate: every byte value, then `name`.
fn der(name: &str) -> Vec<u8> {
    (0..=255_u8).chain(name.bytes()).collect()
}

/// A good organisation certificate of `unit` issued by kyso's issuing CA,
/// valid through 2026, sealed in the register, registered at `registered`.
fn certificate(name: &str, unit: &str, serial: &str, registered: &str) -> CertificateRecord {
    let certificate_der = der(name);
    CertificateRecord {
        fingerprint: CertificateRecord::fingerprint_of(&certificate_der),
        issuer_ca: Some(ISSUING.to_owned()),
        serial: serial.to_owned(),
        subject: format!("CN={name},O=Sở Tài chính tỉnh Hòa Bình,C=VN"),
        unit: Some(code(unit)),
        role: CertificateRole::Organisation,
        key_algorithm: "ECDSA P-256".to_owned(),
        custody: KeyCustody::Sealed {
            armoured: format!("-----BEGIN KYSO SEALED KEY-----\n{name}\n"),
        },
        origin: CertificateOrigin::Issued,
        not_before: at("2026-01-01T00:00:00Z"),
        not_after: at("2026-12-31T23:59:59Z"),
        registered_at: at(registered),
        certificate_der,
        chain_der: vec![der("issuing CA"), der("root CA")],
        revocation: None,
    }
}

fn leader_certificate(name: &str, serial: &str, registered: &str) -> CertificateRecord {
    CertificateRecord {
        role: CertificateRole::Leader(leader_id(LEADER)),
        custody: KeyCustody::Token {
            token: "softhsm".to_owned(),
            key_label: format!("{name}-key"),
        },
        ..certificate(name, DEPARTMENT, serial, registered)
    }
}

fn fingerprints<'a>(certificates: impl IntoIterator<Item = &'a CertificateRecord>) -> Vec<&'a str> {
    certificates
        .into_iter()
        .map(|certificate| certificate.fingerprint.as_str())
        .collect()
}

fn revoked_entry(serial: &str, when: &str, reason: RevocationReason) -> RevokedEntry {
    RevokedEntry {
        serial: serial.to_owned(),
        at: at(when),
        reason,
    }
}

/// A `sign` callback that makes a stand-in CRL naming its number and serials.
fn fake_crl(number: u64, revoked: &[RevokedEntry]) -> Result<Vec<u8>, std::convert::Infallible> {
    let serials: Vec<&str> = revoked.iter().map(|entry| entry.serial.as_str()).collect();
    Ok(format!("CRL {number}: {}", serials.join(" ")).into_bytes())
}

fn signing_record(document: &str, when: &str, fact: Fact) -> DocumentRecord {
    DocumentRecord {
        unit: code(DEPARTMENT),
        document_id: DocumentId::parse(document).unwrap(),
        at: at(when),
        fact,
    }
}

fn sha256_hex(seed: &str) -> String {
    CertificateRecord::fingerprint_of(seed.as_bytes())
}

// ----- Register --------------------------------------------------------------------------------

async fn a_certificate_reads_back_exactly_as_given_and_adding_it_again_changes_nothing(
    store: RecordStore,
) {
    seeded(&store).await;
    let sealed = certificate("seal", DEPARTMENT, "0A1B2C", "2026-01-02T08:00:00Z");
    let mut imported = CertificateRecord {
        issuer_ca: None,
        unit: None,
        role: CertificateRole::TimeStamping,
        custody: KeyCustody::External,
        origin: CertificateOrigin::Imported,
        chain_der: Vec::new(),
        // Already revoked when imported, at a time before it was recorded.
        revocation: Some(CertificateRevocation {
            at: at("2025-12-01T00:00:00Z"),
            reason: RevocationReason::CaCompromise,
            recorded_at: at("2026-01-03T00:00:00Z"),
        }),
        ..certificate("imported", DEPARTMENT, "0A1B2C", "2026-01-03T08:00:00Z")
    };
    // Instants before 1970 and with microseconds survive too.
    imported.not_before = UNIX_EPOCH - Duration::from_micros(1);
    let development = CertificateRecord {
        custody: KeyCustody::DataDirectory,
        origin: CertificateOrigin::Development,
        issuer_ca: Some("development".to_owned()),
        ..leader_certificate("dev leader", "01", "2026-01-04T08:00:00Z")
    };
    for certificate in [&sealed, &imported, &development] {
        assert!(store.add_certificate(certificate).await.unwrap());
    }
    for certificate in [&sealed, &imported, &development] {
        assert_eq!(
            store.certificate(&certificate.fingerprint).await.unwrap(),
            Some(certificate.clone())
        );
    }

    // `serve` registers the development PKI again at every start.
    let restarted = CertificateRecord {
        registered_at: at("2026-02-01T08:00:00Z"),
        ..development.clone()
    };
    assert!(!store.add_certificate(&restarted).await.unwrap());
    assert_eq!(
        store.certificate(&development.fingerprint).await.unwrap(),
        Some(development.clone())
    );
    assert_eq!(
        store
            .certificate_by_serial(ISSUING, "0A1B2C")
            .await
            .unwrap(),
        Some(sealed.clone())
    );
    assert_eq!(
        store
            .certificate_by_serial("development", "01")
            .await
            .unwrap(),
        Some(development.clone())
    );
    assert_eq!(
        store.certificate_by_serial(ISSUING, "01").await.unwrap(),
        None
    );
    assert_eq!(store.certificate(&sha256_hex("none")).await.unwrap(), None);
    let all = store
        .certificates(&CertificateFilter::all(at("2026-06-01T00:00:00Z")))
        .await
        .unwrap();
    assert_eq!(all, vec![sealed, imported, development]);
}

async fn a_certificate_for_an_unregistered_unit_is_refused_and_nothing_is_stored(
    store: RecordStore,
) {
    seeded(&store).await;
    let stranger = "000.00.99.H23";
    let orphan = certificate("orphan", stranger, "77", "2026-01-02T08:00:00Z");
    match store.add_certificate(&orphan).await {
        Err(RecordsError::UnknownUnit { unit }) => assert_eq!(unit, code(stranger)),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(store.certificate(&orphan.fingerprint).await.unwrap(), None);
    assert_eq!(
        store.certificate_by_serial(ISSUING, "77").await.unwrap(),
        None
    );
}

async fn a_serial_names_one_certificate_per_kyso_ca_but_imported_serials_may_repeat(
    store: RecordStore,
) {
    seeded(&store).await;
    let first = certificate("first", DEPARTMENT, "42", "2026-01-02T08:00:00Z");
    assert!(store.add_certificate(&first).await.unwrap());
    let clash = certificate("clash", DISTRICT, "42", "2026-01-03T08:00:00Z");
    assert!(store.add_certificate(&clash).await.is_err());
    assert_eq!(store.certificate(&clash.fingerprint).await.unwrap(), None);

    // Another kyso CA, and outside CAs, may use the same serial.
    let other_ca = CertificateRecord {
        issuer_ca: Some("development".to_owned()),
        ..certificate("other CA", DEPARTMENT, "42", "2026-01-04T08:00:00Z")
    };
    assert!(store.add_certificate(&other_ca).await.unwrap());
    for name in ["outside one", "outside two"] {
        let imported = CertificateRecord {
            issuer_ca: None,
            origin: CertificateOrigin::Imported,
            custody: KeyCustody::External,
            ..certificate(name, DEPARTMENT, "42", "2026-01-05T08:00:00Z")
        };
        assert!(store.add_certificate(&imported).await.unwrap());
    }
    assert_eq!(
        store.certificate_by_serial(ISSUING, "42").await.unwrap(),
        Some(first)
    );
    let all = store
        .certificates(&CertificateFilter::all(at("2026-06-01T00:00:00Z")))
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
}

async fn listings_filter_by_unit_role_and_status_judged_at_the_given_instant(store: RecordStore) {
    seeded(&store).await;
    let department_seal = certificate("department seal", DEPARTMENT, "01", "2026-01-02T08:00:00Z");
    let district_seal = certificate("district seal", DISTRICT, "02", "2026-01-03T08:00:00Z");
    let leader = leader_certificate("leader", "03", "2026-01-04T08:00:00Z");
    let short_lived = CertificateRecord {
        not_after: at("2026-03-31T23:59:59Z"),
        ..certificate("short-lived", DEPARTMENT, "04", "2026-01-05T08:00:00Z")
    };
    let revoked = certificate("revoked", DISTRICT, "05", "2026-01-06T08:00:00Z");
    // Registered earlier than the others but added last: listings follow
    // registration time, not insertion.
    let early = certificate("early", DEPARTMENT, "06", "2026-01-01T08:00:00Z");
    for certificate in [
        &department_seal,
        &district_seal,
        &leader,
        &short_lived,
        &revoked,
        &early,
    ] {
        assert!(store.add_certificate(certificate).await.unwrap());
    }
    store
        .revoke_certificate(
            &revoked.fingerprint,
            at("2026-02-01T00:00:00Z"),
            RevocationReason::Superseded,
            at("2026-02-01T00:05:00Z"),
        )
        .await
        .unwrap();

    let june = at("2026-06-01T00:00:00Z");
    let list = |filter: CertificateFilter| {
        let store = store.clone();
        async move { store.certificates(&filter).await.unwrap() }
    };
    let all = list(CertificateFilter::all(june)).await;
    assert_eq!(
        fingerprints(&all),
        fingerprints([
            &early,
            &department_seal,
            &district_seal,
            &leader,
            &short_lived,
            &revoked,
        ])
    );
    let department = list(CertificateFilter {
        unit: Some(code(DEPARTMENT)),
        ..CertificateFilter::all(june)
    })
    .await;
    assert_eq!(
        fingerprints(&department),
        fingerprints([&early, &department_seal, &leader, &short_lived])
    );
    let leaders = list(CertificateFilter {
        role_kind: Some("leader".to_owned()),
        ..CertificateFilter::all(june)
    })
    .await;
    assert_eq!(leaders, vec![leader.clone()]);
    let good = list(CertificateFilter {
        status: Some(CertificateStatus::Good),
        ..CertificateFilter::all(june)
    })
    .await;
    assert_eq!(
        fingerprints(&good),
        fingerprints([&early, &department_seal, &district_seal, &leader])
    );
    let expired = list(CertificateFilter {
        status: Some(CertificateStatus::Expired),
        ..CertificateFilter::all(june)
    })
    .await;
    assert_eq!(expired, vec![short_lived.clone()]);
    let revoked_list = list(CertificateFilter {
        status: Some(CertificateStatus::Revoked),
        ..CertificateFilter::all(june)
    })
    .await;
    assert_eq!(fingerprints(&revoked_list), fingerprints([&revoked]));
    assert_eq!(
        revoked_list[0].status(june),
        CertificateStatus::Revoked,
        "the listed record carries its revocation"
    );

    // In March the short-lived certificate was good; in 2027 all but the
    // revoked one have expired; before 2026 none had expired (not yet valid
    // is not expired).
    let march = at("2026-03-01T00:00:00Z");
    let good_in_march = list(CertificateFilter {
        unit: Some(code(DEPARTMENT)),
        role_kind: Some("organisation".to_owned()),
        status: Some(CertificateStatus::Good),
        at: march,
    })
    .await;
    assert_eq!(
        fingerprints(&good_in_march),
        fingerprints([&early, &department_seal, &short_lived])
    );
    for (instant, expired_count) in [
        (at("2027-01-01T00:00:00Z"), 5),
        (at("2025-06-01T00:00:00Z"), 0),
    ] {
        for status in [CertificateStatus::Good, CertificateStatus::Expired] {
            let listed = list(CertificateFilter {
                status: Some(status),
                ..CertificateFilter::all(instant)
            })
            .await;
            let expected = if status == CertificateStatus::Expired {
                expired_count
            } else {
                5 - expired_count
            };
            assert_eq!(listed.len(), expected, "{status:?}");
            assert!(
                listed
                    .iter()
                    .all(|certificate| certificate.status(instant) == status)
            );
        }
    }
}

async fn active_signers_are_the_newest_good_certificates_whose_keys_kyso_holds(store: RecordStore) {
    seeded(&store).await;
    let old_seal = certificate("old seal", DEPARTMENT, "01", "2026-01-02T08:00:00Z");
    let new_seal = certificate("new seal", DEPARTMENT, "02", "2026-03-02T08:00:00Z");
    // Newer still, but revoked.
    let revoked_seal = certificate("revoked seal", DEPARTMENT, "03", "2026-04-02T08:00:00Z");
    // Newer still, but its key is on a USB token kyso never holds.
    let usb_seal = CertificateRecord {
        custody: KeyCustody::External,
        ..certificate("usb seal", DEPARTMENT, "04", "2026-05-02T08:00:00Z")
    };
    // The district's only organisation certificate has expired by June.
    let expired_seal = CertificateRecord {
        not_after: at("2026-04-30T23:59:59Z"),
        ..certificate("expired seal", DISTRICT, "05", "2026-01-02T08:00:00Z")
    };
    let old_leader = leader_certificate("old leader", "06", "2026-01-03T08:00:00Z");
    let development_leader = CertificateRecord {
        custody: KeyCustody::DataDirectory,
        origin: CertificateOrigin::Development,
        ..leader_certificate("dev leader", "07", "2026-02-03T08:00:00Z")
    };
    for certificate in [
        &old_seal,
        &new_seal,
        &revoked_seal,
        &usb_seal,
        &expired_seal,
        &old_leader,
        &development_leader,
    ] {
        assert!(store.add_certificate(certificate).await.unwrap());
    }
    let outcome = store
        .revoke_certificate(
            &revoked_seal.fingerprint,
            at("2026-04-10T00:00:00Z"),
            RevocationReason::KeyCompromise,
            at("2026-04-10T01:00:00Z"),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, RevokeOutcome::Revoked(_)));

    let june = store
        .active_signers(at("2026-06-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        fingerprints(&june),
        fingerprints([&development_leader, &new_seal])
    );
    // In February the district's seal was still valid (a revocation counts
    // whenever it is declared; registration time is not judged).
    let february = store
        .active_signers(at("2026-02-15T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        fingerprints(&february),
        fingerprints([&expired_seal, &development_leader, &new_seal])
    );
    assert!(
        store
            .active_signers(at("2027-06-01T00:00:00Z"))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn revoking_twice_keeps_the_first_revocation(store: RecordStore) {
    seeded(&store).await;
    let seal = certificate("seal", DEPARTMENT, "0F", "2026-01-02T08:00:00Z");
    store.add_certificate(&seal).await.unwrap();
    let first = CertificateRevocation {
        // Declared in the past: the key was compromised before anyone noticed.
        at: at("2026-03-01T00:00:00Z"),
        reason: RevocationReason::KeyCompromise,
        recorded_at: at("2026-03-05T10:00:00Z"),
    };
    let revoked = CertificateRecord {
        revocation: Some(first),
        ..seal.clone()
    };
    assert_eq!(
        store
            .revoke_certificate(&seal.fingerprint, first.at, first.reason, first.recorded_at)
            .await
            .unwrap(),
        RevokeOutcome::Revoked(revoked.clone())
    );
    assert_eq!(
        store
            .revoke_certificate(
                &seal.fingerprint,
                at("2026-03-06T00:00:00Z"),
                RevocationReason::Superseded,
                at("2026-03-06T00:00:00Z"),
            )
            .await
            .unwrap(),
        RevokeOutcome::AlreadyRevoked(revoked.clone())
    );
    assert_eq!(
        store.certificate(&seal.fingerprint).await.unwrap(),
        Some(revoked)
    );
    assert_eq!(
        store
            .revoke_certificate(
                &sha256_hex("unknown"),
                first.at,
                first.reason,
                first.recorded_at
            )
            .await
            .unwrap(),
        RevokeOutcome::NotFound
    );
    assert_eq!(
        store.revoked_certificates(ISSUING).await.unwrap(),
        vec![revoked_entry(
            "0F",
            "2026-03-01T00:00:00Z",
            RevocationReason::KeyCompromise
        )]
    );
}

// ----- CRLs ------------------------------------------------------------------------------------

async fn crl_numbers_grow_from_one_and_each_crl_lists_the_revoked_certificates_of_its_ca(
    store: RecordStore,
) {
    seeded(&store).await;
    assert_eq!(store.latest_crl(ISSUING).await.unwrap(), None);
    let seals: Vec<CertificateRecord> = ["0A", "0B", "0C"]
        .iter()
        .map(|serial| certificate(serial, DEPARTMENT, serial, "2026-01-02T08:00:00Z"))
        .collect();
    let foreign = CertificateRecord {
        issuer_ca: Some("development".to_owned()),
        ..certificate("development", DEPARTMENT, "0D", "2026-01-02T08:00:00Z")
    };
    for certificate in seals.iter().chain([&foreign]) {
        store.add_certificate(certificate).await.unwrap();
    }
    store
        .revoke_certificate(
            &foreign.fingerprint,
            at("2026-02-01T00:00:00Z"),
            RevocationReason::Unspecified,
            at("2026-02-01T00:00:00Z"),
        )
        .await
        .unwrap();

    let this_update = at("2026-02-01T12:00:00Z");
    let next_update = at("2026-02-08T12:00:00Z");
    let mut seen = Vec::new();
    let first = store
        .publish_crl(ISSUING, this_update, next_update, |number, revoked| {
            seen.push((number, revoked.to_vec()));
            fake_crl(number, revoked)
        })
        .await
        .unwrap();
    assert_eq!(first.number, 1);
    assert_eq!(first.der, b"CRL 1: ".to_vec());
    assert_eq!(
        (first.this_update, first.next_update),
        (this_update, next_update)
    );
    assert_eq!(seen, vec![(1, Vec::new())]);

    store
        .revoke_certificate(
            &seals[1].fingerprint,
            at("2026-02-02T00:00:00Z"),
            RevocationReason::AffiliationChanged,
            at("2026-02-02T01:00:00Z"),
        )
        .await
        .unwrap();
    let second = store
        .publish_crl(ISSUING, this_update, next_update, |number, revoked| {
            assert_eq!(number, 2);
            assert_eq!(
                revoked,
                [revoked_entry(
                    "0B",
                    "2026-02-02T00:00:00Z",
                    RevocationReason::AffiliationChanged
                )]
            );
            fake_crl(number, revoked)
        })
        .await
        .unwrap();
    assert_eq!(second.der, b"CRL 2: 0B".to_vec());

    store
        .revoke_certificate(
            &seals[0].fingerprint,
            at("2026-02-03T00:00:00Z"),
            RevocationReason::CessationOfOperation,
            at("2026-02-03T00:00:00Z"),
        )
        .await
        .unwrap();
    let later = at("2026-02-03T12:00:00Z");
    let third = store
        .publish_crl(ISSUING, later, next_update, |number, revoked| {
            assert_eq!(
                revoked,
                [
                    revoked_entry(
                        "0A",
                        "2026-02-03T00:00:00Z",
                        RevocationReason::CessationOfOperation
                    ),
                    revoked_entry(
                        "0B",
                        "2026-02-02T00:00:00Z",
                        RevocationReason::AffiliationChanged
                    ),
                ]
            );
            fake_crl(number, revoked)
        })
        .await
        .unwrap();
    assert_eq!(third.number, 3);
    assert_eq!(store.latest_crl(ISSUING).await.unwrap(), Some(third));

    // Each CA numbers its own CRLs.
    let development = store
        .publish_crl("development", this_update, next_update, fake_crl)
        .await
        .unwrap();
    assert_eq!(development.number, 1);
    assert_eq!(development.der, b"CRL 1: 0D".to_vec());
    assert_eq!(store.latest_crl(ISSUING).await.unwrap().unwrap().number, 3);
}

async fn a_crl_whose_signing_fails_is_not_stored_and_does_not_use_up_its_number(
    store: RecordStore,
) {
    seeded(&store).await;
    let this_update = at("2026-02-01T12:00:00Z");
    let next_update = at("2026-02-08T12:00:00Z");
    let failed = store
        .publish_crl(ISSUING, this_update, next_update, |_, _| {
            Err::<Vec<u8>, _>("the token is locked")
        })
        .await;
    match failed {
        Err(PublishCrlError::Sign(reason)) => assert_eq!(reason, "the token is locked"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(store.latest_crl(ISSUING).await.unwrap(), None);
    let published = store
        .publish_crl(ISSUING, this_update, next_update, fake_crl)
        .await
        .unwrap();
    assert_eq!(published.number, 1);
}

async fn replicas_publishing_crls_at_once_never_reuse_a_number(database: TestDatabase) {
    let first = database.open().await;
    seeded(&first).await;
    let replicas = [first, database.open().await];
    let this_update = at("2026-02-01T12:00:00Z");
    let next_update = at("2026-02-08T12:00:00Z");
    let tasks: Vec<_> = (0..8_usize)
        .map(|task| {
            let store = replicas[task % replicas.len()].clone();
            tokio::spawn(async move {
                let mut numbers = Vec::new();
                for _ in 0..5 {
                    let crl = store
                        .publish_crl(ISSUING, this_update, next_update, fake_crl)
                        .await
                        .unwrap();
                    numbers.push(crl.number);
                }
                numbers
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for task in tasks {
        let published = task.await.unwrap();
        // One task's CRLs come out in growing order.
        assert!(published.windows(2).all(|pair| pair[0] < pair[1]));
        numbers.extend(published);
    }
    let distinct: BTreeSet<u64> = numbers.iter().copied().collect();
    assert_eq!(distinct.len(), numbers.len(), "a CRL number was reused");
    assert_eq!(distinct, (1..=40).collect());
    let latest = replicas[1].latest_crl(ISSUING).await.unwrap().unwrap();
    assert_eq!(latest.number, 40);
    assert_eq!(latest.der, b"CRL 40: ".to_vec());
    for replica in &replicas {
        replica.close().await;
    }
}

async fn replicas_revoking_and_registering_at_once_keep_one_revocation_and_one_certificate(
    database: TestDatabase,
) {
    let first = database.open().await;
    seeded(&first).await;
    let replicas = [first, database.open().await];
    let seal = certificate("seal", DEPARTMENT, "0A", "2026-01-02T08:00:00Z");
    let tasks: Vec<_> = (0..6_u64)
        .map(|task| {
            let store = replicas[task as usize % replicas.len()].clone();
            let seal = seal.clone();
            tokio::spawn(async move {
                let added = store.add_certificate(&seal).await.unwrap();
                let when = at("2026-03-01T00:00:00Z") + Duration::from_secs(task);
                let outcome = store
                    .revoke_certificate(&seal.fingerprint, when, RevocationReason::Superseded, when)
                    .await
                    .unwrap();
                (added, outcome)
            })
        })
        .collect();
    let mut added = 0;
    let mut revoked = Vec::new();
    let mut kept = Vec::new();
    for task in tasks {
        let (was_added, outcome) = task.await.unwrap();
        added += usize::from(was_added);
        match outcome {
            RevokeOutcome::Revoked(certificate) => revoked.push(certificate),
            RevokeOutcome::AlreadyRevoked(certificate) => kept.push(certificate),
            RevokeOutcome::NotFound => panic!("the certificate was added before"),
        }
    }
    assert_eq!(added, 1, "one replica registers the certificate");
    assert_eq!(revoked.len(), 1, "one replica revokes it");
    assert!(kept.iter().all(|certificate| *certificate == revoked[0]));
    assert_eq!(
        replicas[0].certificate(&seal.fingerprint).await.unwrap(),
        Some(revoked[0].clone())
    );
    for replica in &replicas {
        replica.close().await;
    }
}

// ----- Signing evidence ------------------------------------------------------------------------

fn organisation_signed(serial: &str, signature_sha256: Option<&str>) -> Fact {
    Fact::OrganisationSigned {
        certificate_serial: serial.to_owned(),
        signature_sha256: signature_sha256.map(str::to_owned),
    }
}

async fn signing_evidence_is_written_with_the_record_and_survives_a_retry_the_ledger_merges(
    store: RecordStore,
) {
    seeded(&store).await;
    let document = "45/QĐ-STC";
    let first_signature = sha256_hex("first signature value");
    let signed = signing_record(
        document,
        "2026-04-20T14:00:00+07:00",
        organisation_signed("0A1B", Some(&first_signature)),
    );
    assert_eq!(store.record(&signed).await.unwrap(), RecordOutcome::Created);
    let evidence = SignatureEvidence {
        signed_at: signed.at,
        unit: code(DEPARTMENT),
        document_id: signed.document_id.clone(),
        leader: None,
        certificate_serial: "0A1B".to_owned(),
    };
    assert_eq!(
        store.signature_evidence(&first_signature).await.unwrap(),
        Some(evidence.clone())
    );

    // A retry signs again (a new signature value) with a renewed
    // certificate; the ledger keeps the first signature, the evidence of
    // both stays.
    let second_signature = sha256_hex("second signature value");
    let retried = signing_record(
        document,
        "2026-04-20T14:05:00+07:00",
        organisation_signed("0C1D", Some(&second_signature)),
    );
    assert_eq!(
        store.record(&retried).await.unwrap(),
        RecordOutcome::Unchanged
    );
    assert_eq!(
        store.signature_evidence(&second_signature).await.unwrap(),
        Some(SignatureEvidence {
            signed_at: retried.at,
            certificate_serial: "0C1D".to_owned(),
            ..evidence.clone()
        })
    );
    assert_eq!(
        store.signature_evidence(&first_signature).await.unwrap(),
        Some(evidence.clone())
    );
    let entry = store
        .entry(&code(DEPARTMENT), Direction::Outgoing, &signed.document_id)
        .await
        .unwrap()
        .unwrap();
    let kept = entry.organisation_signature.unwrap();
    assert_eq!(kept.at, signed.at);
    assert_eq!(kept.certificate_serial, "0A1B");
    assert_eq!(
        kept.signature_sha256.as_deref(),
        Some(first_signature.as_str())
    );

    // Recording one signature twice keeps its first evidence.
    let replayed = signing_record(
        document,
        "2026-04-21T09:00:00+07:00",
        organisation_signed("0A1B", Some(&first_signature)),
    );
    store.record(&replayed).await.unwrap();
    assert_eq!(
        store.signature_evidence(&first_signature).await.unwrap(),
        Some(evidence)
    );

    // A leader's signature, in a batch, carries the leader.
    let leader_signature = sha256_hex("leader signature value");
    let by_leader = signing_record(
        document,
        "2026-04-20T13:00:00+07:00",
        Fact::LeaderSigned {
            leader: leader_id(LEADER),
            certificate_serial: "11AA".to_owned(),
            signature_sha256: Some(leader_signature.clone()),
        },
    );
    let other_signature = sha256_hex("other document signature value");
    let other = signing_record(
        "47/QĐ-STC",
        "2026-04-20T15:00:00+07:00",
        organisation_signed("0A1B", Some(&other_signature)),
    );
    assert_eq!(
        store.record_all(&[by_leader, other]).await.unwrap(),
        vec![RecordOutcome::Updated, RecordOutcome::Created]
    );
    assert_eq!(
        store
            .signature_evidence(&leader_signature)
            .await
            .unwrap()
            .and_then(|evidence| evidence.leader),
        Some(leader_id(LEADER))
    );
    assert!(
        store
            .signature_evidence(&other_signature)
            .await
            .unwrap()
            .is_some()
    );

    // Without a digest, the entry's signature has none and nothing else is
    // written.
    let without = signing_record(
        "46/QĐ-STC",
        "2026-04-22T09:00:00+07:00",
        organisation_signed("0A1B", None),
    );
    store.record(&without).await.unwrap();
    let entry = store
        .entry(&code(DEPARTMENT), Direction::Outgoing, &without.document_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.organisation_signature.unwrap().signature_sha256, None);
    assert_eq!(
        store
            .signature_evidence(&sha256_hex("never made"))
            .await
            .unwrap(),
        None
    );
}

async fn signing_evidence_is_stored_whole_with_its_batch_or_not_at_all(store: RecordStore) {
    seeded(&store).await;
    let digest = sha256_hex("signature");
    let signed = signing_record(
        "8/UBND",
        "2026-04-11T09:00:00+07:00",
        organisation_signed("0A", Some(&digest)),
    );
    // A digest that is not lower-case hex SHA-256 is refused.
    for malformed in [
        digest.to_uppercase(),
        digest[..62].to_owned(),
        String::new(),
    ] {
        let bad = DocumentRecord {
            fact: organisation_signed("0A", Some(&malformed)),
            ..signed.clone()
        };
        assert!(matches!(
            store.record(&bad).await,
            Err(RecordsError::InconsistentFact { .. })
        ));
    }
    // A batch whose other fact fails stores neither the entry nor the evidence.
    let stranger = signing_record(
        "9/UBND",
        "2026-04-11T09:00:00+07:00",
        organisation_signed("0A", None),
    );
    let stranger = DocumentRecord {
        unit: code("000.00.99.H23"),
        ..stranger
    };
    assert!(matches!(
        store.record_all(&[signed.clone(), stranger]).await,
        Err(RecordsError::UnknownUnit { .. })
    ));
    assert_eq!(
        store
            .entry(&code(DEPARTMENT), Direction::Outgoing, &signed.document_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.signature_evidence(&digest).await.unwrap(), None);
    store.record(&signed).await.unwrap();
    assert_eq!(
        store
            .signature_evidence(&digest)
            .await
            .unwrap()
            .map(|evidence| evidence.signed_at),
        Some(signed.at)
    );
}

async fn a_signature_is_acknowledged_only_while_its_certificate_is_not_revoked(store: RecordStore) {
    seeded(&store).await;
    let seal = certificate("seal", DEPARTMENT, "0F", "2026-01-02T08:00:00Z");
    let other_seal = certificate("other seal", DISTRICT, "10", "2026-01-02T08:00:00Z");
    store.add_certificate(&seal).await.unwrap();
    store.add_certificate(&other_seal).await.unwrap();
    let guarded = |document: &str, seed: &str, fingerprint: &str| GuardedRecord {
        record: signing_record(
            document,
            "2026-04-20T14:00:00+07:00",
            organisation_signed("0F", Some(&sha256_hex(seed))),
        ),
        unrevoked_certificate: Some(fingerprint.to_owned()),
    };
    let before = guarded("1/STC", "before", &seal.fingerprint);
    assert_eq!(
        store
            .record_guarded(std::slice::from_ref(&before))
            .await
            .unwrap(),
        vec![RecordOutcome::Created]
    );

    let revocation = CertificateRevocation {
        at: at("2026-04-20T15:00:00+07:00"),
        reason: RevocationReason::KeyCompromise,
        recorded_at: at("2026-04-20T15:05:00+07:00"),
    };
    store
        .revoke_certificate(
            &seal.fingerprint,
            revocation.at,
            revocation.reason,
            revocation.recorded_at,
        )
        .await
        .unwrap();
    // A batch holding a signature of the revoked certificate stores nothing,
    // not even the other certificate's signature, and says why.
    let after = guarded("2/STC", "after", &seal.fingerprint);
    let elsewhere = GuardedRecord {
        record: DocumentRecord {
            unit: code(DISTRICT),
            ..guarded("3/UBND", "elsewhere", &other_seal.fingerprint).record
        },
        ..guarded("3/UBND", "elsewhere", &other_seal.fingerprint)
    };
    let refused = store
        .record_guarded(&[elsewhere.clone(), after.clone()])
        .await
        .unwrap_err();
    match &refused {
        RecordsError::CertificateRevoked {
            subject,
            revocation: found,
        } => {
            assert_eq!(subject, &seal.subject);
            assert_eq!(found, &revocation);
        }
        other => panic!("expected CertificateRevoked, got {other:?}"),
    }
    let message = refused.to_string();
    assert!(
        message.contains("revoked at 2026-04-20T08:00:00Z") && message.contains("key_compromise"),
        "{message}"
    );
    for (unit, record) in [(DEPARTMENT, &after), (DISTRICT, &elsewhere)] {
        assert_eq!(
            store
                .entry(&code(unit), Direction::Outgoing, &record.record.document_id)
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(
        store
            .signature_evidence(&sha256_hex("after"))
            .await
            .unwrap(),
        None
    );
    // The other certificate still signs; an unguarded fact (a document
    // system's report) is not the register's business.
    assert_eq!(
        store.record_guarded(&[elsewhere]).await.unwrap(),
        vec![RecordOutcome::Created]
    );
    assert_eq!(
        store.record(&after.record).await.unwrap(),
        RecordOutcome::Created
    );
}
