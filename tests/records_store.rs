//! Conformance suite of the records store: every test runs on SQLite and on
//! PostgreSQL (modules `sqlite` and `postgres`), through the public API only.
//!
//! PostgreSQL must be reachable (see `support/records.rs`); the tests fail,
//! not skip, when it is not.

#![allow(
    clippy::unwrap_used,
    reason = "outside #[test] functions too, a failed unwrap is a failed test"
)]

#[path = "support/records.rs"]
#[macro_use]
mod records_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use kyso::datetime::{VietnamDate, parse_rfc3339};
use kyso::records::{
    Channel, DateRange, Direction, DocumentEntry, DocumentId, DocumentRecord, Fact, RecordOutcome,
    RecordStore, RecordsError, UnitCounts, UnitsAdded, Verdict,
};
use kyso::units::{
    Leader, LeaderId, Unit, UnitCode, UnitGroup, UnitLevel, UnitsError, demo_province,
};
use records_support::{TestDatabase, XorShift};

conformance! {
    store: [
        units_are_seeded_once_and_read_back_in_order_with_leaders_and_vietnamese_names,
        added_units_may_name_parents_later_in_the_batch_and_replace_units_only_when_asked,
        units_that_would_break_the_registry_are_refused_and_nothing_is_stored,
        recording_the_same_fact_twice_counts_once,
        a_leader_then_an_organisation_signature_make_one_outgoing_document_with_both,
        a_reported_paper_document_counts_in_total_but_not_as_electronic_until_reported_otherwise,
        an_incoming_document_is_electronic_only_when_it_travelled_electronically_and_passed,
        a_report_that_a_document_is_unsigned_never_erases_a_recorded_signature,
        an_incoming_report_with_a_signature_flag_is_inconsistent_and_not_stored,
        a_fact_for_an_unknown_unit_is_refused_and_nothing_is_stored,
        a_batch_is_stored_whole_or_not_at_all_and_counts_a_repeated_document_once,
        a_document_counts_in_the_vietnam_month_in_which_it_was_first_recorded,
        the_daily_counts_equal_a_recount_of_the_ledger_after_a_randomised_workload,
        export_pages_go_through_every_entry_of_the_period_exactly_once,
        the_bench_filler_writes_a_deterministic_ledger_whose_counts_match_a_recount,
    ],
    database: [
        replicas_recording_the_same_documents_at_once_count_each_document_once,
        records_and_units_survive_closing_and_reopening_the_store,
        stores_opening_a_fresh_database_at_once_all_migrate_it_and_one_seeds_it,
    ],
}

// ----- Helpers ---------------------------------------------------------------------------------

const DEPARTMENT: &str = "000.00.01.H23";
const OTHER_DEPARTMENT: &str = "000.00.02.H23";
const DISTRICT: &str = "000.00.34.H23";
const COMMUNE: &str = "000.01.34.H23";
const LEADER: &str = "tran-quoc-bao";
const OTHER_LEADER: &str = "dinh-thi-lan";

fn code(text: &str) -> UnitCode {
    UnitCode::parse(text).unwrap()
}

fn id(text: &str) -> DocumentId {
    DocumentId::parse(text).unwrap()
}

fn leader_id(text: &str) -> LeaderId {
    LeaderId::parse(text).unwrap()
}

/// An instant written in RFC 3339.
fn at(text: &str) -> SystemTime {
    parse_rfc3339(text).unwrap()
}

fn month(text: &str) -> DateRange {
    let (first, last) = VietnamDate::parse_month(text).unwrap();
    DateRange::new(first, last).unwrap()
}

fn record(unit: &str, document: &str, when: &str, fact: Fact) -> DocumentRecord {
    DocumentRecord {
        unit: code(unit),
        document_id: id(document),
        at: at(when),
        fact,
    }
}

fn organisation_signed(serial: &str) -> Fact {
    Fact::OrganisationSigned {
        certificate_serial: serial.to_owned(),
        signature_sha256: None,
    }
}

fn leader_signed(leader: &str, serial: &str) -> Fact {
    Fact::LeaderSigned {
        leader: leader_id(leader),
        certificate_serial: serial.to_owned(),
        signature_sha256: None,
    }
}

fn verified(verdict: Verdict) -> Fact {
    Fact::Verified { verdict }
}

fn reported(direction: Direction, channel: Channel, organisation: bool, leader: bool) -> Fact {
    Fact::Reported {
        direction,
        channel,
        organisation_signed: organisation,
        leader_signed: leader,
    }
}

async fn seeded(store: &RecordStore) {
    store.seed_units(&demo_province()).await.unwrap();
}

/// One unit's counts over a range (zero when it has none).
async fn counts_of(store: &RecordStore, range: DateRange, unit: &str) -> UnitCounts {
    let counts = store.counts(range).await.unwrap();
    counts
        .into_iter()
        .find(|(code, _)| code.as_str() == unit)
        .map(|(_, counts)| counts)
        .unwrap_or_default()
}

/// The aggregates agree with a recount of the ledger over `range`.
async fn assert_counts_match_recount(store: &RecordStore, range: DateRange) {
    let aggregated = store.counts(range).await.unwrap();
    let recounted = store.counts_from_entries(range).await.unwrap();
    // Units whose aggregates cancelled out to zero may be listed with zeros.
    let nonzero = |counts: Vec<(UnitCode, UnitCounts)>| -> Vec<(UnitCode, UnitCounts)> {
        counts
            .into_iter()
            .filter(|(_, counts)| *counts != UnitCounts::default())
            .collect()
    };
    assert_eq!(nonzero(aggregated), nonzero(recounted));
}

fn outgoing(total: u64, electronic: u64, organisation: u64, leader: u64) -> UnitCounts {
    UnitCounts {
        outgoing_total: total,
        outgoing_electronic: electronic,
        organisation_signed: organisation,
        leader_signed: leader,
        ..UnitCounts::default()
    }
}

fn incoming(total: u64, electronic: u64) -> UnitCounts {
    UnitCounts {
        incoming_total: total,
        incoming_electronic: electronic,
        ..UnitCounts::default()
    }
}

fn new_district() -> Unit {
    Unit {
        code: code("000.00.36.H23"),
        name: "Ủy ban nhân dân huyện Đà Bắc".to_owned(),
        level: UnitLevel::District,
        group: UnitGroup::District,
        parent: None,
        leaders: vec![Leader {
            id: leader_id("xa-van-duc"),
            full_name: "Xa Văn Đức".to_owned(),
        }],
    }
}

fn new_commune() -> Unit {
    Unit {
        code: code("000.01.36.H23"),
        name: "Ủy ban nhân dân xã Tú Lý".to_owned(),
        level: UnitLevel::Commune,
        group: UnitGroup::Commune,
        parent: Some(code("000.00.36.H23")),
        leaders: vec![],
    }
}

// ----- Units -----------------------------------------------------------------------------------

async fn units_are_seeded_once_and_read_back_in_order_with_leaders_and_vietnamese_names(
    store: RecordStore,
) {
    let demo = demo_province();
    assert!(store.seed_units(&demo).await.unwrap());
    let stored = store.units().await.unwrap();
    assert_eq!(stored, demo);
    let office = stored.find(&code("000.00.00.H23")).unwrap();
    assert_eq!(office.name, "Văn phòng Ủy ban nhân dân tỉnh Hòa Bình");
    assert_eq!(office.leaders[0].full_name, "Nguyễn Văn An");

    // A second seeding (another replica, a restart) writes nothing, even a
    // different registry.
    assert!(!store.seed_units(&demo).await.unwrap());
    let smaller = kyso::units::UnitRegistry::new(vec![new_district()]).unwrap();
    assert!(!store.seed_units(&smaller).await.unwrap());
    assert_eq!(store.units().await.unwrap(), demo);
}

async fn added_units_may_name_parents_later_in_the_batch_and_replace_units_only_when_asked(
    store: RecordStore,
) {
    seeded(&store).await;
    let added = store
        .add_units(vec![new_commune(), new_district()], false)
        .await
        .unwrap();
    assert_eq!(
        added,
        UnitsAdded {
            added: 2,
            updated: 0
        }
    );
    let mut expected = demo_province().units().to_vec();
    expected.extend([new_commune(), new_district()]);
    assert_eq!(store.units().await.unwrap().units(), expected.as_slice());

    // An existing code is refused unless replacing is asked for.
    let mut renamed = new_district();
    renamed.name = "Ủy ban nhân dân huyện Đà Bắc (mới)".to_owned();
    renamed.leaders.push(Leader {
        id: leader_id("bui-thi-hoa"),
        full_name: "Bùi Thị Hoa".to_owned(),
    });
    match store.add_units(vec![renamed.clone()], false).await {
        Err(RecordsError::UnitExists { unit }) => assert_eq!(unit, renamed.code),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(store.units().await.unwrap().units(), expected.as_slice());

    let replaced = store.add_units(vec![renamed.clone()], true).await.unwrap();
    assert_eq!(
        replaced,
        UnitsAdded {
            added: 0,
            updated: 1
        }
    );
    // The replaced unit keeps its place in registry order.
    *expected.last_mut().unwrap() = renamed;
    assert_eq!(store.units().await.unwrap().units(), expected.as_slice());
}

async fn units_that_would_break_the_registry_are_refused_and_nothing_is_stored(store: RecordStore) {
    seeded(&store).await;
    let demo = demo_province();

    let mut orphan = new_commune();
    orphan.parent = Some(code("000.00.39.H23"));
    let error = store
        .add_units(vec![new_district(), orphan], false)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RecordsError::Units(UnitsError::UnknownParent { .. })),
        "{error:?}"
    );

    let mut mismatched = new_district();
    mismatched.group = UnitGroup::Department;
    let error = store.add_units(vec![mismatched], false).await.unwrap_err();
    assert!(
        matches!(
            error,
            RecordsError::Units(UnitsError::GroupLevelMismatch { .. })
        ),
        "{error:?}"
    );

    let error = store
        .add_units(vec![new_district(), new_district()], false)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RecordsError::Units(UnitsError::DuplicateUnitCode { .. })
        ),
        "{error:?}"
    );

    // Replacing a district by a commune-level unit leaves its commune with a
    // parent that is not above it.
    let mut demoted = demo.find(&code(DISTRICT)).unwrap().clone();
    demoted.level = UnitLevel::Commune;
    demoted.group = UnitGroup::Commune;
    let error = store.add_units(vec![demoted], true).await.unwrap_err();
    assert!(
        matches!(
            error,
            RecordsError::Units(UnitsError::ParentNotAbove { .. })
        ),
        "{error:?}"
    );

    assert_eq!(store.units().await.unwrap(), demo);
}

// ----- Recording -------------------------------------------------------------------------------

async fn recording_the_same_fact_twice_counts_once(store: RecordStore) {
    seeded(&store).await;
    let april = month("2026-04");
    let signed = record(
        DEPARTMENT,
        "12/STC-VP",
        "2026-04-10T09:00:00+07:00",
        organisation_signed("0A1B"),
    );
    assert_eq!(store.record(&signed).await.unwrap(), RecordOutcome::Created);
    assert_eq!(
        store.record(&signed).await.unwrap(),
        RecordOutcome::Unchanged
    );
    // A retry an hour later is still the same signature.
    let retried = DocumentRecord {
        at: at("2026-04-10T10:00:00+07:00"),
        ..signed.clone()
    };
    assert_eq!(
        store.record(&retried).await.unwrap(),
        RecordOutcome::Unchanged
    );

    let checked = record(
        DEPARTMENT,
        "7/UBND",
        "2026-04-11T09:00:00+07:00",
        verified(Verdict::Passed),
    );
    assert_eq!(
        store.record(&checked).await.unwrap(),
        RecordOutcome::Created
    );
    assert_eq!(
        store.record(&checked).await.unwrap(),
        RecordOutcome::Unchanged
    );

    let paper = record(
        DEPARTMENT,
        "13/STC-VP",
        "2026-04-12T09:00:00+07:00",
        reported(Direction::Outgoing, Channel::Paper, false, false),
    );
    assert_eq!(store.record(&paper).await.unwrap(), RecordOutcome::Created);
    assert_eq!(
        store.record(&paper).await.unwrap(),
        RecordOutcome::Unchanged
    );

    let counts = counts_of(&store, april, DEPARTMENT).await;
    assert_eq!(
        counts,
        UnitCounts {
            incoming_total: 1,
            incoming_electronic: 1,
            outgoing_total: 2,
            outgoing_electronic: 1,
            organisation_signed: 1,
            leader_signed: 0,
        }
    );
    assert_counts_match_recount(&store, april).await;
}

async fn a_leader_then_an_organisation_signature_make_one_outgoing_document_with_both(
    store: RecordStore,
) {
    seeded(&store).await;
    let april = month("2026-04");
    let document = "45/QĐ-STC";
    let by_leader = record(
        DEPARTMENT,
        document,
        "2026-04-20T14:00:00+07:00",
        leader_signed(LEADER, "11AA"),
    );
    let by_organisation = record(
        DEPARTMENT,
        document,
        "2026-04-20T14:05:00+07:00",
        organisation_signed("22BB"),
    );
    assert_eq!(
        store.record(&by_leader).await.unwrap(),
        RecordOutcome::Created
    );
    assert_eq!(
        counts_of(&store, april, DEPARTMENT).await,
        outgoing(1, 1, 0, 1)
    );
    assert_eq!(
        store.record(&by_organisation).await.unwrap(),
        RecordOutcome::Updated
    );
    assert_eq!(
        counts_of(&store, april, DEPARTMENT).await,
        outgoing(1, 1, 1, 1)
    );

    // Another leader's later signature does not replace the first.
    let second_leader = record(
        DEPARTMENT,
        document,
        "2026-04-20T15:00:00+07:00",
        leader_signed(OTHER_LEADER, "33CC"),
    );
    assert_eq!(
        store.record(&second_leader).await.unwrap(),
        RecordOutcome::Unchanged
    );

    let entry = store
        .entry(&code(DEPARTMENT), Direction::Outgoing, &id(document))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.date.to_string(), "2026-04-20");
    assert_eq!(entry.first_recorded_at, by_leader.at);
    assert_eq!(entry.channel, Channel::Electronic);
    let leader = entry.leader_signature.unwrap();
    assert_eq!(leader.leader, Some(leader_id(LEADER)));
    assert_eq!(leader.certificate_serial, "11AA");
    assert_eq!(leader.at, by_leader.at);
    let organisation = entry.organisation_signature.unwrap();
    assert_eq!(organisation.certificate_serial, "22BB");
    assert_eq!(organisation.at, by_organisation.at);
    assert_eq!(organisation.leader, None);
    assert_eq!(entry.verdict, None);
    assert!(
        store
            .entry(&code(DEPARTMENT), Direction::Incoming, &id(document))
            .await
            .unwrap()
            .is_none()
    );
    assert_counts_match_recount(&store, april).await;
}

async fn a_reported_paper_document_counts_in_total_but_not_as_electronic_until_reported_otherwise(
    store: RecordStore,
) {
    seeded(&store).await;
    let april = month("2026-04");
    let paper = record(
        DISTRICT,
        "88/UBND",
        "2026-04-03T08:00:00+07:00",
        reported(Direction::Outgoing, Channel::Paper, true, false),
    );
    assert_eq!(store.record(&paper).await.unwrap(), RecordOutcome::Created);
    assert_eq!(
        counts_of(&store, april, DISTRICT).await,
        outgoing(1, 0, 1, 0)
    );
    let entry = store
        .entry(&code(DISTRICT), Direction::Outgoing, &id("88/UBND"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.channel, Channel::Paper);
    let signature = entry.organisation_signature.unwrap();
    assert_eq!(signature.certificate_serial, "");
    assert_eq!(signature.at, paper.at);

    // The document system corrects itself: it went out electronically.
    let corrected = record(
        DISTRICT,
        "88/UBND",
        "2026-04-04T08:00:00+07:00",
        reported(Direction::Outgoing, Channel::Electronic, false, false),
    );
    assert_eq!(
        store.record(&corrected).await.unwrap(),
        RecordOutcome::Updated
    );
    assert_eq!(
        counts_of(&store, april, DISTRICT).await,
        outgoing(1, 1, 1, 0)
    );

    // Paper incoming documents that kyso verified are not electronic either.
    let received = record(
        DISTRICT,
        "5/STC",
        "2026-04-05T08:00:00+07:00",
        reported(Direction::Incoming, Channel::Paper, false, false),
    );
    assert_eq!(
        store.record(&received).await.unwrap(),
        RecordOutcome::Created
    );
    let checked = record(
        DISTRICT,
        "5/STC",
        "2026-04-05T09:00:00+07:00",
        verified(Verdict::Passed),
    );
    assert_eq!(
        store.record(&checked).await.unwrap(),
        RecordOutcome::Updated
    );
    let counts = counts_of(&store, april, DISTRICT).await;
    assert_eq!((counts.incoming_total, counts.incoming_electronic), (1, 0));
    assert_counts_match_recount(&store, april).await;
}

async fn an_incoming_document_is_electronic_only_when_it_travelled_electronically_and_passed(
    store: RecordStore,
) {
    seeded(&store).await;
    let april = month("2026-04");
    let unit = OTHER_DEPARTMENT;
    let document = "301/UBND-KT";
    let check = |when: &str, verdict| record(unit, document, when, verified(verdict));

    let failed = check("2026-04-14T08:00:00+07:00", Verdict::Failed);
    assert_eq!(store.record(&failed).await.unwrap(), RecordOutcome::Created);
    assert_eq!(counts_of(&store, april, unit).await, incoming(1, 0));

    // A later verification (the sender re-signed) replaces the verdict.
    let passed = check("2026-04-15T08:00:00+07:00", Verdict::Passed);
    assert_eq!(store.record(&passed).await.unwrap(), RecordOutcome::Updated);
    assert_eq!(counts_of(&store, april, unit).await, incoming(1, 1));

    // A verification from before that arrives late (a retried call) does not.
    let late = check("2026-04-14T12:00:00+07:00", Verdict::Indeterminate);
    assert_eq!(store.record(&late).await.unwrap(), RecordOutcome::Unchanged);

    let indeterminate = check("2026-04-16T08:00:00+07:00", Verdict::Indeterminate);
    assert_eq!(
        store.record(&indeterminate).await.unwrap(),
        RecordOutcome::Updated
    );
    assert_eq!(counts_of(&store, april, unit).await, incoming(1, 0));
    let entry = store
        .entry(&code(unit), Direction::Incoming, &id(document))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.verdict, Some(Verdict::Indeterminate));
    assert_eq!(entry.first_recorded_at, failed.at);
    assert_eq!(entry.channel, Channel::Electronic);

    // Reported without verification: counted, not electronic.
    let unverified = record(
        unit,
        "302/UBND-KT",
        "2026-04-16T09:00:00+07:00",
        reported(Direction::Incoming, Channel::Electronic, false, false),
    );
    assert_eq!(
        store.record(&unverified).await.unwrap(),
        RecordOutcome::Created
    );
    assert_eq!(counts_of(&store, april, unit).await, incoming(2, 0));
    assert_counts_match_recount(&store, april).await;
}

async fn a_report_that_a_document_is_unsigned_never_erases_a_recorded_signature(
    store: RecordStore,
) {
    seeded(&store).await;
    let april = month("2026-04");
    let document = "77/STC-NS";
    for fact in [leader_signed(LEADER, "AB01"), organisation_signed("CD02")] {
        store
            .record(&record(
                DEPARTMENT,
                document,
                "2026-04-21T10:00:00+07:00",
                fact,
            ))
            .await
            .unwrap();
    }
    let unsigned = record(
        DEPARTMENT,
        document,
        "2026-04-21T11:00:00+07:00",
        reported(Direction::Outgoing, Channel::Electronic, false, false),
    );
    assert_eq!(
        store.record(&unsigned).await.unwrap(),
        RecordOutcome::Unchanged
    );
    // Signed outside kyso, says the system: kyso's own record stays.
    let signed_elsewhere = record(
        DEPARTMENT,
        document,
        "2026-04-21T12:00:00+07:00",
        reported(Direction::Outgoing, Channel::Electronic, true, true),
    );
    assert_eq!(
        store.record(&signed_elsewhere).await.unwrap(),
        RecordOutcome::Unchanged
    );
    let on_paper = record(
        DEPARTMENT,
        document,
        "2026-04-21T13:00:00+07:00",
        reported(Direction::Outgoing, Channel::Paper, false, false),
    );
    assert_eq!(
        store.record(&on_paper).await.unwrap(),
        RecordOutcome::Updated
    );
    assert_eq!(
        counts_of(&store, april, DEPARTMENT).await,
        outgoing(1, 0, 1, 1)
    );
    let entry = store
        .entry(&code(DEPARTMENT), Direction::Outgoing, &id(document))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        entry.organisation_signature.unwrap().certificate_serial,
        "CD02"
    );
    assert_eq!(entry.leader_signature.unwrap().certificate_serial, "AB01");
    assert_counts_match_recount(&store, april).await;
}

async fn an_incoming_report_with_a_signature_flag_is_inconsistent_and_not_stored(
    store: RecordStore,
) {
    seeded(&store).await;
    for (organisation, leader) in [(true, false), (false, true)] {
        let claim = record(
            DEPARTMENT,
            "9/BQL",
            "2026-04-22T10:00:00+07:00",
            reported(
                Direction::Incoming,
                Channel::Electronic,
                organisation,
                leader,
            ),
        );
        match store.record(&claim).await {
            Err(RecordsError::InconsistentFact {
                unit, document_id, ..
            }) => {
                assert_eq!(unit, code(DEPARTMENT));
                assert_eq!(document_id, id("9/BQL"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        store
            .entry(&code(DEPARTMENT), Direction::Incoming, &id("9/BQL"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.counts(month("2026-04")).await.unwrap().is_empty());
}

async fn a_fact_for_an_unknown_unit_is_refused_and_nothing_is_stored(store: RecordStore) {
    seeded(&store).await;
    let stranger = "000.00.99.H23";
    for fact in [
        organisation_signed("01"),
        verified(Verdict::Passed),
        reported(Direction::Outgoing, Channel::Paper, false, false),
    ] {
        let direction = fact.direction();
        match store
            .record(&record(stranger, "1/X", "2026-04-22T10:00:00+07:00", fact))
            .await
        {
            Err(RecordsError::UnknownUnit { unit }) => assert_eq!(unit, code(stranger)),
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            store
                .entry(&code(stranger), direction, &id("1/X"))
                .await
                .unwrap()
                .is_none()
        );
    }
    assert!(store.counts(month("2026-04")).await.unwrap().is_empty());
    assert!(
        store
            .entries(month("2026-04"), None, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_batch_is_stored_whole_or_not_at_all_and_counts_a_repeated_document_once(
    store: RecordStore,
) {
    seeded(&store).await;
    let april = month("2026-04");
    let when = "2026-04-23T10:00:00+07:00";
    let batch = vec![
        record(DEPARTMENT, "A", when, organisation_signed("01")),
        record(DEPARTMENT, "B", when, leader_signed(LEADER, "02")),
        record(DEPARTMENT, "A", when, organisation_signed("01")),
        record(DEPARTMENT, "A", when, leader_signed(LEADER, "02")),
        record(DISTRICT, "A", when, verified(Verdict::Passed)),
    ];
    assert_eq!(
        store.record_all(&batch).await.unwrap(),
        vec![
            RecordOutcome::Created,
            RecordOutcome::Created,
            RecordOutcome::Unchanged,
            RecordOutcome::Updated,
            RecordOutcome::Created,
        ]
    );
    assert_eq!(
        counts_of(&store, april, DEPARTMENT).await,
        outgoing(2, 2, 1, 2)
    );
    assert_eq!(counts_of(&store, april, DISTRICT).await, incoming(1, 1));
    let before = store.counts(april).await.unwrap();

    // One record names an unknown unit: nothing of the batch is stored, not
    // even the records before it.
    let bad_unit = vec![
        record(DEPARTMENT, "C", when, organisation_signed("03")),
        record(DEPARTMENT, "B", when, organisation_signed("03")),
        record("000.00.99.H23", "D", when, organisation_signed("04")),
    ];
    assert!(matches!(
        store.record_all(&bad_unit).await,
        Err(RecordsError::UnknownUnit { .. })
    ));
    let inconsistent = vec![
        record(DEPARTMENT, "E", when, organisation_signed("05")),
        record(
            DEPARTMENT,
            "F",
            when,
            reported(Direction::Incoming, Channel::Paper, true, false),
        ),
    ];
    assert!(matches!(
        store.record_all(&inconsistent).await,
        Err(RecordsError::InconsistentFact { .. })
    ));
    assert_eq!(store.counts(april).await.unwrap(), before);
    for document in ["C", "E"] {
        assert!(
            store
                .entry(&code(DEPARTMENT), Direction::Outgoing, &id(document))
                .await
                .unwrap()
                .is_none()
        );
    }
    let b = store
        .entry(&code(DEPARTMENT), Direction::Outgoing, &id("B"))
        .await
        .unwrap()
        .unwrap();
    assert!(b.organisation_signature.is_none());
    assert_eq!(store.record_all(&[]).await.unwrap(), vec![]);
    assert_counts_match_recount(&store, april).await;
}

async fn a_document_counts_in_the_vietnam_month_in_which_it_was_first_recorded(store: RecordStore) {
    seeded(&store).await;
    let (april, may) = (month("2026-04"), month("2026-05"));
    // 16:30 UTC on 30 April: still April in Hanoi.
    let late_april = record(
        DEPARTMENT,
        "100/STC",
        "2026-04-30T23:30:00+07:00",
        organisation_signed("01"),
    );
    // 17:10 UTC on 30 April: already May in Hanoi.
    let early_may = record(
        DEPARTMENT,
        "101/STC",
        "2026-05-01T00:10:00+07:00",
        organisation_signed("01"),
    );
    store.record(&late_april).await.unwrap();
    store.record(&early_may).await.unwrap();
    // Its leader signs in May; the document stays under its first date.
    store
        .record(&record(
            DEPARTMENT,
            "100/STC",
            "2026-05-02T09:00:00+07:00",
            leader_signed(LEADER, "02"),
        ))
        .await
        .unwrap();

    assert_eq!(
        counts_of(&store, april, DEPARTMENT).await,
        outgoing(1, 1, 1, 1)
    );
    assert_eq!(
        counts_of(&store, may, DEPARTMENT).await,
        outgoing(1, 1, 1, 0)
    );
    let entry = store
        .entry(&code(DEPARTMENT), Direction::Outgoing, &id("100/STC"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.date.to_string(), "2026-04-30");
    let last_of_april = VietnamDate::parse("2026-04-30").unwrap();
    let one_day = DateRange::new(last_of_april, last_of_april).unwrap();
    assert_eq!(
        counts_of(&store, one_day, DEPARTMENT).await.outgoing_total,
        1
    );
    let export: Vec<String> = store
        .entries(may, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.document_id.to_string())
        .collect();
    assert_eq!(export, vec!["101/STC"]);
    assert_counts_match_recount(&store, april).await;
    assert_counts_match_recount(&store, may).await;
}

/// A random fact about one of `documents` documents of `units`, within
/// March to May 2026.
fn random_record(random: &mut XorShift, units: &[UnitCode], documents: u64) -> DocumentRecord {
    let unit = units[random.below(units.len() as u64) as usize].clone();
    let number = random.below(documents);
    let outgoing = number.is_multiple_of(2);
    let base = at("2026-03-01T00:00:00+07:00");
    let when = base + Duration::from_secs(random.below(92 * 86_400));
    let channel = if random.chance(80) {
        Channel::Electronic
    } else {
        Channel::Paper
    };
    let fact = match (outgoing, random.below(4)) {
        (true, 0) => organisation_signed(&format!("{:04X}", random.below(4))),
        (true, 1) => leader_signed(
            [LEADER, OTHER_LEADER][random.below(2) as usize],
            &format!("{:04X}", random.below(4)),
        ),
        (true, _) => reported(
            Direction::Outgoing,
            channel,
            random.chance(30),
            random.chance(30),
        ),
        (false, 0 | 1) => verified(
            [Verdict::Passed, Verdict::Failed, Verdict::Indeterminate][random.below(3) as usize],
        ),
        (false, _) => reported(Direction::Incoming, channel, false, false),
    };
    DocumentRecord {
        unit,
        document_id: id(&format!("{number}/RND")),
        at: when,
        fact,
    }
}

async fn the_daily_counts_equal_a_recount_of_the_ledger_after_a_randomised_workload(
    store: RecordStore,
) {
    seeded(&store).await;
    let units: Vec<UnitCode> = demo_province()
        .units()
        .iter()
        .take(5)
        .map(|unit| unit.code.clone())
        .collect();
    let mut random = XorShift::new(20_260_430);
    let mut recorded = 0;
    while recorded < 3000 {
        let size = 1 + random.below(60) as usize;
        let batch: Vec<DocumentRecord> = (0..size)
            .map(|_| random_record(&mut random, &units, 400))
            .collect();
        if size == 1 {
            store.record(&batch[0]).await.unwrap();
        } else {
            store.record_all(&batch).await.unwrap();
        }
        recorded += size;
    }
    let quarter = DateRange::new(
        VietnamDate::parse("2026-03-01").unwrap(),
        VietnamDate::parse("2026-05-31").unwrap(),
    )
    .unwrap();
    for range in [
        month("2026-03"),
        month("2026-04"),
        month("2026-05"),
        quarter,
    ] {
        assert_counts_match_recount(&store, range).await;
    }
    let counts = store.counts(quarter).await.unwrap();
    let documents: u64 = counts
        .iter()
        .map(|(_, counts)| counts.incoming_total + counts.outgoing_total)
        .sum();
    assert!(documents > 1000, "{documents} documents");

    // Rebuilding the aggregates from the ledger finds what recording kept.
    store.rebuild_daily_counts().await.unwrap();
    assert_eq!(store.counts(quarter).await.unwrap(), counts);
}

async fn export_pages_go_through_every_entry_of_the_period_exactly_once(store: RecordStore) {
    seeded(&store).await;
    let april = month("2026-04");
    let units = [DEPARTMENT, OTHER_DEPARTMENT, DISTRICT, COMMUNE];
    let mut expected = BTreeSet::new();
    let mut batch = Vec::new();
    for number in 0..150 {
        let unit = units[number % units.len()];
        // Ids that sort differently by bytes and by locale rules.
        let document = match number % 3 {
            0 => format!("{number}/UBND"),
            1 => format!("Công văn {number}"),
            _ => format!("a-{number}"),
        };
        let fact = if number.is_multiple_of(2) {
            organisation_signed("01")
        } else {
            verified(Verdict::Passed)
        };
        // Several entries a day, of several units and both directions.
        let day = 1 + number % 10;
        let when = format!("2026-04-{day:02}T10:00:00+07:00");
        let direction = fact.direction();
        batch.push(record(unit, &document, &when, fact));
        expected.insert((
            format!("2026-04-{day:02}"),
            unit.to_owned(),
            direction.as_str(),
            document,
        ));
    }
    // Outside the period: not exported.
    batch.push(record(
        DEPARTMENT,
        "ngoài kỳ",
        "2026-05-01T10:00:00+07:00",
        organisation_signed("01"),
    ));
    store.record_all(&batch).await.unwrap();

    let mut seen: Vec<DocumentEntry> = Vec::new();
    let mut after = None;
    loop {
        let page = store.entries(april, after.as_ref(), 7).await.unwrap();
        assert!(page.len() <= 7);
        let Some(last) = page.last() else { break };
        after = Some((last.unit.clone(), last.direction, last.document_id.clone()));
        seen.extend(page);
    }
    let keys: Vec<(String, String, &'static str, String)> = seen
        .iter()
        .map(|entry| {
            (
                entry.date.to_string(),
                entry.unit.to_string(),
                entry.direction.as_str(),
                entry.document_id.to_string(),
            )
        })
        .collect();
    // Exactly once each, by date then key in byte order.
    assert_eq!(keys.len(), expected.len());
    assert_eq!(keys, expected.into_iter().collect::<Vec<_>>());
    assert!(seen.iter().all(|entry| april.contains(entry.date)));
    assert!(store.entries(april, None, 0).await.unwrap().is_empty());

    // A cursor that names no entry is refused rather than guessed at.
    let nowhere = (code(DEPARTMENT), Direction::Outgoing, id("không có"));
    assert!(matches!(
        store.entries(april, Some(&nowhere), 7).await,
        Err(RecordsError::Database(_))
    ));
}

async fn the_bench_filler_writes_a_deterministic_ledger_whose_counts_match_a_recount(
    store: RecordStore,
) {
    seeded(&store).await;
    let units: Vec<UnitCode> = demo_province()
        .units()
        .iter()
        .take(4)
        .map(|unit| unit.code.clone())
        .collect();
    let april = month("2026-04");
    store
        .fill_for_bench(&units, 20_000, april, 7)
        .await
        .unwrap();
    assert_counts_match_recount(&store, april).await;
    let counts = store.counts(april).await.unwrap();
    assert_eq!(counts.len(), 4);
    let mut total = UnitCounts::default();
    for (_, unit_counts) in &counts {
        total.add(unit_counts);
    }
    assert_eq!(total.incoming_total + total.outgoing_total, 20_000);
    let share = |part: u64, whole: u64| part * 100 / whole;
    assert!(
        (40..=60).contains(&share(total.outgoing_total, 20_000)),
        "{total:?}"
    );
    assert!(
        (70..=90).contains(&share(total.outgoing_electronic, total.outgoing_total)),
        "{total:?}"
    );
    assert!(
        (60..=80).contains(&share(total.organisation_signed, total.outgoing_total)),
        "{total:?}"
    );
    assert!(
        (40..=70).contains(&share(total.incoming_electronic, total.incoming_total)),
        "{total:?}"
    );
    assert!(store.counts(month("2026-05")).await.unwrap().is_empty());

    // The same seed adds nothing; another seed adds as many again.
    store
        .fill_for_bench(&units, 20_000, april, 7)
        .await
        .unwrap();
    assert_eq!(store.counts(april).await.unwrap(), counts);
    store
        .fill_for_bench(&units[..1], 1_000, april, 8)
        .await
        .unwrap();
    let first = counts_of(&store, april, units[0].as_str()).await;
    assert_eq!(
        first.incoming_total + first.outgoing_total,
        counts[0].1.incoming_total + counts[0].1.outgoing_total + 1_000
    );
    assert!(matches!(
        store
            .fill_for_bench(&[code("000.00.99.H23")], 10, april, 9)
            .await,
        Err(RecordsError::UnknownUnit { .. })
    ));
}

// ----- Several stores on one database ----------------------------------------------------------

async fn replicas_recording_the_same_documents_at_once_count_each_document_once(
    database: TestDatabase,
) {
    let first = database.open().await;
    seeded(&first).await;
    let mut replicas = vec![first];
    for _ in 1..4 {
        replicas.push(database.open().await);
    }
    let units: Vec<UnitCode> = [DEPARTMENT, DISTRICT]
        .iter()
        .map(|unit| code(unit))
        .collect();
    let tasks: Vec<_> = (0..8_u64)
        .map(|task| {
            let store = replicas[task as usize % replicas.len()].clone();
            let units = units.clone();
            tokio::spawn(async move {
                let mut random = XorShift::new(1000 + task);
                let mut created = Vec::new();
                for _ in 0..200 {
                    // 100 documents: 50 numbers × 2 units.
                    let record = random_record(&mut random, &units, 50);
                    let key = (
                        record.unit.clone(),
                        record.fact.direction(),
                        record.document_id.clone(),
                    );
                    if store.record(&record).await.unwrap() == RecordOutcome::Created {
                        created.push(key);
                    }
                }
                created
            })
        })
        .collect();
    let mut created = Vec::new();
    for task in tasks {
        created.extend(task.await.unwrap());
    }
    let distinct: BTreeSet<_> = created.iter().cloned().collect();
    assert_eq!(
        created.len(),
        distinct.len(),
        "a document was created twice"
    );

    let quarter = DateRange::new(
        VietnamDate::parse("2026-03-01").unwrap(),
        VietnamDate::parse("2026-05-31").unwrap(),
    )
    .unwrap();
    let store = &replicas[0];
    assert_counts_match_recount(store, quarter).await;
    let mut per_unit: BTreeMap<UnitCode, u64> = BTreeMap::new();
    for (unit, _, _) in &distinct {
        *per_unit.entry(unit.clone()).or_default() += 1;
    }
    for (unit, counts) in store.counts(quarter).await.unwrap() {
        assert_eq!(
            counts.incoming_total + counts.outgoing_total,
            per_unit[&unit],
            "{unit}"
        );
    }
    let exported = store.entries(quarter, None, 1000).await.unwrap();
    assert_eq!(exported.len(), distinct.len());
    for replica in replicas {
        replica.close().await;
    }
}

async fn records_and_units_survive_closing_and_reopening_the_store(database: TestDatabase) {
    let store = database.open().await;
    seeded(&store).await;
    store
        .add_units(vec![new_district(), new_commune()], false)
        .await
        .unwrap();
    let signed = record(
        "000.01.36.H23",
        "3/UBND",
        "2026-04-08T08:00:00+07:00",
        leader_signed("xa-van-duc", "0F"),
    );
    store.record(&signed).await.unwrap();
    let registry = store.units().await.unwrap();
    let entry = store
        .entry(&signed.unit, Direction::Outgoing, &signed.document_id)
        .await
        .unwrap();
    let counts = store.counts(month("2026-04")).await.unwrap();
    store.close().await;

    let reopened = database.open().await;
    assert_eq!(reopened.engine(), database.engine);
    assert_eq!(reopened.units().await.unwrap(), registry);
    assert!(!reopened.seed_units(&demo_province()).await.unwrap());
    assert_eq!(
        reopened
            .entry(&signed.unit, Direction::Outgoing, &signed.document_id)
            .await
            .unwrap(),
        entry
    );
    assert_eq!(reopened.counts(month("2026-04")).await.unwrap(), counts);
    assert_eq!(
        reopened.record(&signed).await.unwrap(),
        RecordOutcome::Unchanged
    );
    reopened.close().await;
}

async fn stores_opening_a_fresh_database_at_once_all_migrate_it_and_one_seeds_it(
    database: TestDatabase,
) {
    let openings: Vec<_> = (0..4)
        .map(|_| {
            let url = database.url.clone();
            tokio::spawn(async move {
                let store = RecordStore::open(&url).await.unwrap();
                let seeded = store.seed_units(&demo_province()).await.unwrap();
                (store, seeded)
            })
        })
        .collect();
    let mut seeders = 0;
    let mut stores = Vec::new();
    for opening in openings {
        let (store, seeded) = opening.await.unwrap();
        seeders += usize::from(seeded);
        stores.push(store);
    }
    assert_eq!(seeders, 1);
    for store in stores {
        assert_eq!(store.units().await.unwrap(), demo_province());
        store.close().await;
    }
}

// ----- Engine-independent ------------------------------------------------------------------------

#[test]
fn a_database_url_of_another_engine_is_refused_without_showing_its_password() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let error = runtime
        .block_on(RecordStore::open("mysql://kyso:hunter2@127.0.0.1/kyso"))
        .unwrap_err();
    assert!(
        matches!(error, RecordsError::DatabaseUrl { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(!message.contains("hunter2"), "{message}");
    assert!(message.contains("kyso:***@"), "{message}");
}
