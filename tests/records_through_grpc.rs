//! The ledger and the signing-rate report through the real server, on both
//! engines: Sign and Verify record before they answer, document systems
//! report the rest, and the report's figures match counts computed by hand.
//! Replicas on one PostgreSQL count each document once; a server killed with
//! SIGKILL loses no acknowledged record.

mod support;

use kyso::api::proto::{
    self, Channel, Direction, ExportDocumentsRequest, RecordDocumentRequest,
    RecordDocumentsRequest, RecordOutcome, SignerRole, SigningReport, SigningReportRequest,
    VerifyRequest,
};
use kyso::datetime::{VietnamDate, parse_rfc3339};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use support::make_base_pdf;
use support::postgres::TestDatabase;
use support::server::{KysoServer, LEADER, OTHER_UNIT, UNIT, request};
use tonic::Code;

/// Which records engine a server runs on.
enum Engine {
    Sqlite,
    Postgres(TestDatabase),
}

impl Engine {
    fn postgres() -> Self {
        Engine::Postgres(TestDatabase::create())
    }

    fn flags(&self) -> Vec<&str> {
        match self {
            Engine::Sqlite => vec![],
            Engine::Postgres(database) => vec!["--database-url", &database.url],
        }
    }

    fn start(&self, data_dir: &Path) -> KysoServer {
        KysoServer::start(data_dir, &self.flags())
    }
}

fn sign(
    server: &KysoServer,
    pdf: Vec<u8>,
    unit: &str,
    role: SignerRole,
    document: &str,
) -> Vec<u8> {
    let leader = if role == SignerRole::Leader {
        LEADER
    } else {
        ""
    };
    let mut request = request(pdf, unit, role, leader);
    request.document_id = document.to_string();
    server.sign(request).expect("sign").pdf
}

fn reported(
    unit: &str,
    direction: Direction,
    document: &str,
    channel: Channel,
) -> RecordDocumentRequest {
    RecordDocumentRequest {
        unit_code: unit.to_string(),
        direction: direction.into(),
        document_id: document.to_string(),
        channel: channel.into(),
        ..RecordDocumentRequest::default()
    }
}

fn record(server: &KysoServer, request: RecordDocumentRequest) -> RecordOutcome {
    server
        .records(|mut c| async move { c.record_document(request).await })
        .expect("record")
        .outcome()
}

fn verify_as(server: &KysoServer, unit: &str, document: &str, pdf: Vec<u8>) -> proto::Indication {
    server
        .verify(VerifyRequest {
            pdf,
            unit_code: unit.to_string(),
            document_id: document.to_string(),
            ..VerifyRequest::default()
        })
        .expect("verify")
        .verdict()
}

/// Today, yesterday and tomorrow in Vietnam: a range that holds everything
/// the test records now, even across midnight.
fn around_today() -> (String, String) {
    let today = VietnamDate::of(SystemTime::now());
    let yesterday = VietnamDate::from_day_number(today.day_number() - 1);
    (yesterday.to_string(), today.next().to_string())
}

fn signing_report(server: &KysoServer, request: SigningReportRequest) -> SigningReport {
    server
        .records(|mut c| async move { c.get_signing_report(request).await })
        .expect("report")
}

fn report_now(server: &KysoServer, threshold: &str) -> SigningReport {
    let (from, to) = around_today();
    signing_report(
        server,
        SigningReportRequest {
            from,
            to,
            threshold_percent: threshold.to_string(),
            ..SigningReportRequest::default()
        },
    )
}

fn unit_line<'a>(report: &'a SigningReport, unit: &str) -> &'a proto::UnitReport {
    report
        .units
        .iter()
        .find(|u| u.unit_code == unit)
        .unwrap_or_else(|| panic!("unit {unit} missing from the report"))
}

fn counts(line: &proto::UnitReport) -> [u64; 6] {
    let c = line.counts.expect("counts");
    [
        c.outgoing_total,
        c.outgoing_electronic,
        c.organisation_signed,
        c.leader_signed,
        c.incoming_total,
        c.incoming_electronic,
    ]
}

fn percent(rate: Option<proto::Rate>) -> String {
    rate.map(|r| r.percent).unwrap_or_default()
}

fn export(server: &KysoServer) -> Vec<proto::DocumentEntry> {
    let (from, to) = around_today();
    let request = ExportDocumentsRequest {
        from,
        to,
        ..ExportDocumentsRequest::default()
    };
    server
        .records(|mut c| async move {
            let response = c.export_documents(request).await?;
            let mut stream = response.into_inner();
            let mut entries = Vec::new();
            while let Some(entry) = stream.message().await? {
                entries.push(entry);
            }
            Ok(tonic::Response::new(entries))
        })
        .expect("export")
}

/// The scenario whose figures are computed by hand below.
///
/// UNIT (a department) issues five documents: d1 signed by its leader then
/// its organisation, d2 signed by the organisation twice (a retry), d3 signed
/// by the organisation, d4 sent on paper, d5 sent electronically unsigned.
/// OTHER_UNIT (a district) issues d6 (organisation signature) and d7 (paper),
/// and receives i1 (d1 as issued: valid, verified twice), i2 (d1 tampered:
/// fails) and i3 (on paper).
fn build_scenario(server: &KysoServer, pdf: &[u8]) {
    let by_leader = sign(server, pdf.to_vec(), UNIT, SignerRole::Leader, "d1");
    let d1 = sign(server, by_leader, UNIT, SignerRole::Organisation, "d1");
    sign(server, pdf.to_vec(), UNIT, SignerRole::Organisation, "d2");
    sign(server, pdf.to_vec(), UNIT, SignerRole::Organisation, "d2");
    sign(server, pdf.to_vec(), UNIT, SignerRole::Organisation, "d3");
    assert_eq!(
        record(
            server,
            reported(UNIT, Direction::Outgoing, "d4", Channel::Paper)
        ),
        RecordOutcome::Created
    );
    record(
        server,
        reported(UNIT, Direction::Outgoing, "d5", Channel::Electronic),
    );
    sign(
        server,
        pdf.to_vec(),
        OTHER_UNIT,
        SignerRole::Organisation,
        "d6",
    );
    record(
        server,
        reported(OTHER_UNIT, Direction::Outgoing, "d7", Channel::Paper),
    );

    assert_eq!(
        verify_as(server, OTHER_UNIT, "i1", d1.clone()),
        proto::Indication::TotalPassed
    );
    assert_eq!(
        verify_as(server, OTHER_UNIT, "i1", d1.clone()),
        proto::Indication::TotalPassed
    );
    let mut tampered = d1;
    let middle = tampered.len() / 3;
    tampered[middle] ^= 0x01;
    assert_ne!(
        verify_as(server, OTHER_UNIT, "i2", tampered),
        proto::Indication::TotalPassed
    );
    record(
        server,
        reported(OTHER_UNIT, Direction::Incoming, "i3", Channel::Paper),
    );
}

fn the_report_matches_the_hand_computed_scenario(engine: Engine) {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let pdf = std::fs::read(input).expect("read");
    let server = engine.start(&dir.path().join("data"));
    build_scenario(&server, &pdf);

    let report = report_now(&server, "55");
    // [outgoing, electronic, organisation, leader, incoming, incoming electronic]
    let unit = unit_line(&report, UNIT);
    assert_eq!(counts(unit), [5, 4, 3, 1, 0, 0]);
    let rates = unit.rates.clone().expect("rates");
    assert_eq!(percent(rates.outgoing_electronic), "80.0");
    assert_eq!(percent(rates.organisation_signed), "60.0");
    assert_eq!(percent(rates.leader_signed), "20.0");
    assert_eq!(percent(rates.incoming_electronic), "");
    assert_eq!((unit.rank, unit.below_threshold), (1, false));

    let other = unit_line(&report, OTHER_UNIT);
    assert_eq!(counts(other), [2, 1, 1, 0, 3, 1]);
    let rates = other.rates.clone().expect("rates");
    assert_eq!(percent(rates.outgoing_electronic), "50.0");
    assert_eq!(percent(rates.organisation_signed), "50.0");
    assert_eq!(percent(rates.leader_signed), "0.0");
    assert_eq!(percent(rates.incoming_electronic), "33.3");
    assert_eq!((other.rank, other.below_threshold), (2, true));

    // Units that recorded nothing are listed, unranked, after the ranked ones.
    assert_eq!(report.units.len(), 16);
    assert_eq!(report.units[0].unit_code, UNIT);
    assert_eq!(report.units[1].unit_code, OTHER_UNIT);
    assert!(
        report.units[2..]
            .iter()
            .all(|u| u.rank == 0 && u.no_documents)
    );

    let total = report.total.clone().expect("total");
    let c = total.counts.expect("counts");
    assert_eq!(
        [
            c.outgoing_total,
            c.outgoing_electronic,
            c.organisation_signed,
            c.leader_signed,
            c.incoming_total,
            c.incoming_electronic
        ],
        [7, 5, 4, 1, 3, 1]
    );
    let rates = total.rates.expect("rates");
    assert_eq!(percent(rates.outgoing_electronic), "71.4");
    assert_eq!(percent(rates.organisation_signed), "57.1");
    assert_eq!(percent(rates.leader_signed), "14.3");
    assert_eq!(percent(rates.incoming_electronic), "33.3");
    assert_eq!(total.units, 16);

    let group = |g: proto::UnitGroup| {
        report
            .groups
            .iter()
            .find(|r| r.group == i32::from(g))
            .expect("group roll-up")
    };
    let departments = group(proto::UnitGroup::Department);
    assert_eq!(
        (departments.units, departments.units_using_leader_signatures),
        (6, 1)
    );
    let districts = group(proto::UnitGroup::District);
    assert_eq!(districts.units_using_leader_signatures, 0);
    assert_eq!(districts.counts.expect("counts").outgoing_total, 2);

    // One unit's scope holds just that unit.
    let (from, to) = around_today();
    let one = signing_report(
        &server,
        SigningReportRequest {
            from,
            to,
            unit_code: OTHER_UNIT.to_string(),
            ..SigningReportRequest::default()
        },
    );
    assert_eq!(one.units.len(), 1);
    assert_eq!(counts(&one.units[0]), [2, 1, 1, 0, 3, 1]);

    // The ledger holds ten entries: each document once.
    let entries = export(&server);
    let keys: HashSet<_> = entries
        .iter()
        .map(|e| (e.unit_code.clone(), e.direction, e.document_id.clone()))
        .collect();
    assert_eq!((entries.len(), keys.len()), (10, 10));
    let d1 = entries
        .iter()
        .find(|e| e.document_id == "d1")
        .expect("d1 exported");
    assert_eq!(
        d1.leader_signature.clone().expect("leader").leader_id,
        LEADER
    );
    assert!(
        !d1.organisation_signature
            .clone()
            .expect("org")
            .certificate_serial
            .is_empty()
    );
}

#[test]
fn sqlite_report_matches_the_hand_computed_scenario() {
    the_report_matches_the_hand_computed_scenario(Engine::Sqlite);
}

#[test]
fn postgres_report_matches_the_hand_computed_scenario() {
    the_report_matches_the_hand_computed_scenario(Engine::postgres());
}

fn documents_count_in_the_vietnam_month_they_were_issued(engine: Engine) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = engine.start(&dir.path().join("data"));
    let at = |text: &str| Some(parse_rfc3339(text).expect("time").into());
    let mut late = reported(UNIT, Direction::Outgoing, "late-april", Channel::Electronic);
    late.at = at("2026-04-30T23:30:00+07:00");
    let mut early = reported(UNIT, Direction::Outgoing, "early-may", Channel::Paper);
    early.at = at("2026-05-01T00:10:00+07:00");
    let outcomes = server
        .records(|mut c| async move {
            c.record_documents(RecordDocumentsRequest {
                documents: vec![late, early],
            })
            .await
        })
        .expect("record")
        .outcomes;
    assert_eq!(outcomes.len(), 2);
    let month = |month: &str| {
        let report = signing_report(
            &server,
            SigningReportRequest {
                month: month.to_string(),
                unit_code: UNIT.to_string(),
                ..SigningReportRequest::default()
            },
        );
        counts(&report.units[0])
    };
    assert_eq!(month("2026-04"), [1, 1, 0, 0, 0, 0]);
    assert_eq!(month("2026-05"), [1, 0, 0, 0, 0, 0]);
}

#[test]
fn sqlite_documents_count_in_the_vietnam_month_they_were_issued() {
    documents_count_in_the_vietnam_month_they_were_issued(Engine::Sqlite);
}

#[test]
fn postgres_documents_count_in_the_vietnam_month_they_were_issued() {
    documents_count_in_the_vietnam_month_they_were_issued(Engine::postgres());
}

fn bad_records_are_refused_clearly_and_nothing_is_stored(engine: Engine) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = engine.start(&dir.path().join("data"));
    let refused = |request: RecordDocumentRequest| {
        server
            .records(|mut c| async move { c.record_document(request).await })
            .expect_err("refused")
    };
    let unknown = refused(reported(
        "999.99.99.H23",
        Direction::Outgoing,
        "x",
        Channel::Paper,
    ));
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    assert!(unknown.message().contains("999.99.99.H23"), "{unknown:?}");
    let bad_code = refused(reported("H23", Direction::Outgoing, "x", Channel::Paper));
    assert_eq!(bad_code.code(), Code::InvalidArgument);
    let no_direction = refused(reported(UNIT, Direction::Unspecified, "x", Channel::Paper));
    assert_eq!(no_direction.code(), Code::InvalidArgument);
    assert!(
        no_direction.message().contains("direction"),
        "{no_direction:?}"
    );
    let no_id = refused(reported(UNIT, Direction::Outgoing, "", Channel::Paper));
    assert_eq!(no_id.code(), Code::InvalidArgument);
    let mut signed_incoming = reported(UNIT, Direction::Incoming, "x", Channel::Electronic);
    signed_incoming.organisation_signed = true;
    assert_eq!(refused(signed_incoming).code(), Code::InvalidArgument);

    // A batch with one bad document stores none of them.
    let batch = vec![
        reported(UNIT, Direction::Outgoing, "good", Channel::Paper),
        reported("999.99.99.H23", Direction::Outgoing, "bad", Channel::Paper),
    ];
    let status = server
        .records(|mut c| async move {
            c.record_documents(RecordDocumentsRequest { documents: batch })
                .await
        })
        .expect_err("refused");
    assert_eq!(status.code(), Code::NotFound);

    // A Sign without a document id is refused before anything is signed.
    let signing = server
        .sign(kyso::api::proto::SignRequest {
            document_id: String::new(),
            ..request(b"%PDF-1.7".to_vec(), UNIT, SignerRole::Organisation, "")
        })
        .expect_err("refused");
    assert_eq!(signing.code(), Code::InvalidArgument);
    assert!(signing.message().contains("document_id"), "{signing:?}");

    // A report with a period that ends before it starts, or no period.
    let backwards = server
        .records(|mut c| async move {
            c.get_signing_report(SigningReportRequest {
                from: "2026-05-01".into(),
                to: "2026-04-01".into(),
                ..SigningReportRequest::default()
            })
            .await
        })
        .expect_err("refused");
    assert_eq!(backwards.code(), Code::InvalidArgument, "{backwards:?}");
    let no_period = server
        .records(|mut c| async move { c.get_signing_report(SigningReportRequest::default()).await })
        .expect_err("refused");
    assert_eq!(no_period.code(), Code::InvalidArgument);

    // The server still serves, and nothing was stored.
    let report = report_now(&server, "");
    let total = report.total.expect("total").counts.expect("counts");
    assert_eq!((total.outgoing_total, total.incoming_total), (0, 0));
    assert!(export(&server).is_empty());
}

#[test]
fn sqlite_bad_records_are_refused_clearly_and_nothing_is_stored() {
    bad_records_are_refused_clearly_and_nothing_is_stored(Engine::Sqlite);
}

#[test]
fn postgres_bad_records_are_refused_clearly_and_nothing_is_stored() {
    bad_records_are_refused_clearly_and_nothing_is_stored(Engine::postgres());
}

#[test]
fn two_replicas_on_one_postgresql_count_every_document_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let pdf = Arc::new(std::fs::read(input).expect("read"));
    let engine = Engine::postgres();
    let data_dir = dir.path().join("data");
    let first = Arc::new(engine.start(&data_dir));
    // The second replica shares the keys (the data directory) and the database.
    let second = Arc::new(engine.start(&data_dir));

    // Four clients, two per replica; clients 0 and 1 (and 2 and 3) sign the
    // same documents on different replicas at the same time, each document
    // with the leader's key and then the organisation's.
    let documents = 30;
    let threads: Vec<_> = (0..4)
        .map(|client| {
            let server = if client % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let pdf = pdf.clone();
            std::thread::spawn(move || {
                for n in 0..documents {
                    let id = format!("replica-{}-{n}", client / 2);
                    let signed = sign(&server, pdf.to_vec(), UNIT, SignerRole::Leader, &id);
                    sign(&server, signed, UNIT, SignerRole::Organisation, &id);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("client thread");
    }

    for server in [&first, &second] {
        let report = report_now(server, "");
        assert_eq!(
            counts(unit_line(&report, UNIT)),
            [
                2 * documents,
                2 * documents,
                2 * documents,
                2 * documents,
                0,
                0
            ]
        );
    }
    let entries = export(&first);
    assert_eq!(entries.len(), 2 * documents as usize);
}

fn an_acknowledged_signature_survives_a_sigkill(engine: Engine) {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let pdf = Arc::new(std::fs::read(input).expect("read"));
    let data_dir = dir.path().join("data");
    let server = Arc::new(Mutex::new(Some(engine.start(&data_dir))));
    let url = server
        .lock()
        .expect("lock")
        .as_ref()
        .expect("server")
        .url
        .clone();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));

    // Four clients sign as fast as they can until the server dies.
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let pdf = pdf.clone();
            let url = url.clone();
            let acknowledged = acknowledged.clone();
            std::thread::spawn(move || {
                let runtime = support::server::runtime();
                runtime.block_on(async {
                    let Ok(mut signing) =
                        proto::signing_service_client::SigningServiceClient::connect(url).await
                    else {
                        return;
                    };
                    for n in 0.. {
                        let id = format!("burst-{client}-{n}");
                        let mut request = request(pdf.to_vec(), UNIT, SignerRole::Organisation, "");
                        request.document_id = id.clone();
                        match signing.sign(request).await {
                            Ok(_) => acknowledged.lock().expect("lock").push(id),
                            Err(_) => return,
                        }
                    }
                });
            })
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().expect("lock").len() < 40 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL (dropping the server kills it) while the clients keep signing.
    drop(server.lock().expect("lock").take());
    for client in clients {
        client.join().expect("client thread");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 40,
        "only {} signatures before the kill",
        acknowledged.len()
    );

    let restarted = engine.start(&data_dir);
    let entries = export(&restarted);
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &entries {
        *stored.entry(entry.document_id.clone()).or_default() += 1;
    }
    for id in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(&1),
            "acknowledged {id} is not stored exactly once"
        );
    }
    // Calls cut off by the kill may or may not have been stored, but the
    // report counts what the ledger holds, each document once.
    let report = report_now(&restarted, "");
    assert_eq!(
        unit_line(&report, UNIT)
            .counts
            .expect("counts")
            .outgoing_total,
        stored.len() as u64
    );
    assert!(stored.values().all(|n| *n == 1));
}

#[test]
fn sqlite_an_acknowledged_signature_survives_a_sigkill() {
    an_acknowledged_signature_survives_a_sigkill(Engine::Sqlite);
}

#[test]
fn postgres_an_acknowledged_signature_survives_a_sigkill() {
    an_acknowledged_signature_survives_a_sigkill(Engine::postgres());
}
