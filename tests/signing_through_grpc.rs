//! Signing through the real server: every output is judged by pyHanko,
//! poppler's pdfsig and qpdf, never by kyso itself.

mod support;

use kyso::api::proto::SignerRole;
use kyso::ca::KeyAlgorithm;
use std::path::Path;
use support::server::{KysoServer, LEADER, OTHER_UNIT, UNIT, install_organisation_key, request};
use support::{InputKind, assert_validated_by_peers, make_base_pdf, make_input};
use tonic::Code;

/// Signs `input` as the organisation of [`UNIT`], writes the result beside
/// it and checks the input's bytes are kept unchanged as a prefix.
fn sign_file(
    server: &KysoServer,
    input: &Path,
    role: SignerRole,
    leader: &str,
) -> std::path::PathBuf {
    let pdf = std::fs::read(input).expect("read input");
    let response = server
        .sign(request(pdf.clone(), UNIT, role, leader))
        .unwrap_or_else(|status| panic!("signing {} failed: {status}", input.display()));
    assert!(
        response.pdf.starts_with(&pdf),
        "the signed file must begin with the input's bytes unchanged"
    );
    let out = input.with_extension(format!("signed-{}.pdf", role.as_str_name()));
    std::fs::write(&out, &response.pdf).expect("write output");
    out
}

#[test]
fn a_leader_signs_then_the_organisation_and_validators_accept_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 3) else {
        return;
    };
    let server = KysoServer::start(&dir.path().join("data"), &[]);

    let leader_signed = sign_file(&server, &input, SignerRole::Leader, LEADER);
    assert_validated_by_peers(&leader_signed, &server.root_pem(), 1);
    let issued = sign_file(&server, &leader_signed, SignerRole::Organisation, "");
    assert_validated_by_peers(&issued, &server.root_pem(), 2);
}

#[test]
fn every_kind_of_input_seen_in_the_wild_is_signed_as_an_incremental_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    for kind in InputKind::SIGNABLE {
        let kind_dir = dir
            .path()
            .join(format!("{kind:?}").replace(['(', ')', '"', '.'], "_"));
        std::fs::create_dir_all(&kind_dir).expect("dir");
        let Some(input) = make_input(kind, &kind_dir) else {
            return;
        };
        let signed = sign_file(&server, &input, SignerRole::Organisation, "");
        support::assert_validated_by_peers_given_input(&input, &signed, &server.root_pem(), 1);
        // A second signature over the first keeps both valid.
        let twice = sign_file(&server, &signed, SignerRole::Leader, LEADER);
        support::assert_validated_by_peers_given_input(&input, &twice, &server.root_pem(), 2);
    }
}

#[test]
fn a_pdf_signed_by_pyhanko_is_signed_again_and_both_signatures_stay_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 2) else {
        return;
    };
    let data_dir = dir.path().join("data");
    let server = KysoServer::start(&data_dir, &[]);
    // pyHanko signs with the leader's key from kyso's development PKI, so one
    // trust anchor covers both signatures.
    let layout = kyso::ca::DevPki::new(&data_dir);
    let unit = kyso::units::UnitCode::parse(UNIT).expect("unit");
    let leader = kyso::units::LeaderId::parse(LEADER).expect("leader");
    let by_pyhanko = dir.path().join("by-pyhanko.pdf");
    // kyso keeps its keys sealed; pyHanko gets a clear copy in the test's
    // own temporary directory.
    let kek = layout.key_encryption_key(None).expect("key-encryption key");
    let pkcs8 = layout
        .unseal_key(&layout.leader_key_path(&unit, &leader), &kek)
        .expect("unseal the leader key");
    let leader_key = dir.path().join("leader.key.pem");
    std::fs::write(
        &leader_key,
        pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.to_vec())),
    )
    .expect("write the leader key");
    let signed = support::pyhanko_sign(
        &input,
        &leader_key,
        &layout.leader_certificate_path(&unit, &leader),
        &[&layout.issuing_ca_certificate_path()],
        &by_pyhanko,
        "LeaderSignature",
    );
    if signed.is_none() {
        return;
    }
    assert_validated_by_peers(&by_pyhanko, &server.root_pem(), 1);
    let issued = sign_file(&server, &by_pyhanko, SignerRole::Organisation, "");
    assert_validated_by_peers(&issued, &server.root_pem(), 2);
}

#[test]
fn rsa_and_ecdsa_keys_of_every_supported_size_sign_documents_validators_accept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    for (algorithm, padding, expected) in [
        (
            KeyAlgorithm::Rsa2048,
            "pkcs1",
            "RSA PKCS#1 v1.5 with SHA-256",
        ),
        (
            KeyAlgorithm::Rsa3072,
            "pkcs1",
            "RSA PKCS#1 v1.5 with SHA-256",
        ),
        (KeyAlgorithm::Rsa2048, "pss", "RSA-PSS with SHA-256"),
        (KeyAlgorithm::EcdsaP256, "pkcs1", "ECDSA P-256 with SHA-256"),
        (KeyAlgorithm::EcdsaP384, "pkcs1", "ECDSA P-384 with SHA-384"),
    ] {
        let data_dir = dir.path().join(format!("data-{algorithm:?}-{padding}"));
        install_organisation_key(&data_dir, UNIT, algorithm);
        let server = KysoServer::start(&data_dir, &["--rsa-padding", padding]);
        let pdf = std::fs::read(&input).expect("read");
        let response = server
            .sign(request(pdf, UNIT, SignerRole::Organisation, ""))
            .unwrap_or_else(|s| panic!("{algorithm:?}/{padding}: {s}"));
        let summary = response.summary.expect("summary");
        assert_eq!(
            summary.signature_algorithm, expected,
            "{algorithm:?}/{padding}"
        );
        let out = dir.path().join(format!("{algorithm:?}-{padding}.pdf"));
        std::fs::write(&out, &response.pdf).expect("write");
        assert_validated_by_peers(&out, &server.root_pem(), 1);
    }
}

#[test]
fn the_summary_names_the_field_signer_serial_and_algorithms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 2) else {
        return;
    };
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let mut sign_request = request(
        std::fs::read(&input).expect("read"),
        UNIT,
        SignerRole::Leader,
        LEADER,
    );
    sign_request.page = 2;
    sign_request.field_name = "ChuKyLanhDao".into();
    sign_request.reason = "Phê duyệt".into();
    let response = server.sign(sign_request).expect("sign");
    let summary = response.summary.expect("summary");
    assert_eq!(summary.field_name, "ChuKyLanhDao");
    assert_eq!(summary.page, 2);
    assert!(
        summary.signer_subject.contains("CN=Trần Quốc Bảo"),
        "{}",
        summary.signer_subject
    );
    assert!(!summary.certificate_serial.is_empty());
    assert_eq!(summary.digest_algorithm, "SHA-256");
    assert_eq!(summary.document_id, "test-document");
    assert!(summary.signing_time.is_some());
}

#[test]
fn broken_encrypted_and_non_pdf_inputs_are_refused_with_invalid_argument_and_the_server_keeps_serving()
 {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = KysoServer::start(&dir.path().join("data"), &["--max-pdf-bytes", "200000"]);
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for kind in InputKind::UNSIGNABLE {
        let Some(path) = make_input(kind, dir.path()) else {
            return;
        };
        inputs.push((format!("{kind:?}"), std::fs::read(path).expect("read")));
    }
    inputs.push(("empty".into(), Vec::new()));
    inputs.push((
        "too large".into(),
        b"%PDF-1.7\n"
            .iter()
            .copied()
            .cycle()
            .take(300_000)
            .collect(),
    ));
    let malformed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/malformed");
    let mut corpus: Vec<_> = std::fs::read_dir(&malformed)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    corpus.retain(|p| p.extension().is_some_and(|e| e == "pdf"));
    corpus.sort();
    for path in corpus {
        let bytes = std::fs::read(&path).expect("read corpus file");
        if bytes.len() < 200_000 {
            inputs.push((path.display().to_string(), bytes));
        }
    }
    let mut refused = 0;
    for (name, pdf) in inputs {
        match server.sign(request(pdf.clone(), UNIT, SignerRole::Organisation, "")) {
            Err(status) => {
                assert_eq!(status.code(), Code::InvalidArgument, "{name}: {status}");
                assert!(
                    !status.message().is_empty(),
                    "{name}: the error must say what is wrong"
                );
                refused += 1;
            }
            // Some corpus files are damaged only in parts a signer never
            // reads; what kyso signs must then still be a sound update.
            Ok(response) => assert!(response.pdf.starts_with(&pdf), "{name}"),
        }
        assert!(server.is_running(), "the server died on {name}");
    }
    assert!(refused >= 5, "only {refused} inputs were refused");
    // Still serving: a good document signs.
    let Some(good) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let response = server
        .sign(request(
            std::fs::read(good).expect("read"),
            UNIT,
            SignerRole::Organisation,
            "",
        ))
        .expect("a good PDF signs after the bad ones");
    assert!(!response.pdf.is_empty());
}

#[test]
fn nobody_signs_with_a_key_that_is_not_theirs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let pdf = std::fs::read(input).expect("read");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    // A leader of one unit is not a leader of another.
    let status = server
        .sign(request(pdf.clone(), OTHER_UNIT, SignerRole::Leader, LEADER))
        .expect_err("another unit's leader must be refused");
    assert_eq!(status.code(), Code::NotFound, "{status}");
    // An unknown unit has no keys.
    let status = server
        .sign(request(
            pdf.clone(),
            "999.99.99.H99",
            SignerRole::Organisation,
            "",
        ))
        .expect_err("unknown unit");
    assert_eq!(status.code(), Code::NotFound, "{status}");
    // Malformed requests say which field is wrong.
    for (unit, role, leader, field) in [
        ("not a code", SignerRole::Organisation, "", "unit_code"),
        (UNIT, SignerRole::Unspecified, "", "role"),
        (UNIT, SignerRole::Leader, "", "leader_id"),
        (UNIT, SignerRole::Organisation, LEADER, "leader_id"),
    ] {
        let status = server
            .sign(request(pdf.clone(), unit, role, leader))
            .expect_err("malformed request");
        assert_eq!(status.code(), Code::InvalidArgument, "{status}");
        assert!(
            status.message().contains(field),
            "{field}: {}",
            status.message()
        );
    }
}

#[test]
fn grpc_health_and_reflection_are_served() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let dir = tempfile::tempdir().expect("tempdir");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    support::server::runtime().block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(server.url.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        let mut health = HealthClient::new(channel.clone());
        let answer = health
            .check(HealthCheckRequest {
                service: "kyso.v1.SigningService".into(),
            })
            .await
            .expect("health check")
            .into_inner();
        assert_eq!(answer.status, ServingStatus::Serving as i32);

        let mut reflection = ServerReflectionClient::new(channel);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut answers = reflection
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .expect("reflection")
            .into_inner();
        let answer = answers
            .message()
            .await
            .expect("answer")
            .expect("one answer");
        let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
            panic!("unexpected reflection answer")
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        assert!(
            names.contains(&"kyso.v1.SigningService".to_string()),
            "{names:?}"
        );
        assert!(
            names.contains(&"grpc.health.v1.Health".to_string()),
            "{names:?}"
        );
    });
}

/// The name and Linux scheduling policy of each thread of process `pid`
/// (field 41 of `/proc/PID/task/TID/stat`: 0 is `SCHED_OTHER`, 3 `SCHED_BATCH`).
#[cfg(target_os = "linux")]
fn thread_policies(pid: u32) -> Vec<(String, u32)> {
    let mut policies = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("tasks") {
        let stat = std::fs::read_to_string(task.expect("task").path().join("stat")).expect("stat");
        // The name is in parentheses and may hold spaces; fields follow it.
        let (head, rest) = stat.rsplit_once(')').expect("stat format");
        let name = head
            .split_once('(')
            .map_or("", |(_, name)| name)
            .to_string();
        let policy = rest
            .split_whitespace()
            .nth(41 - 3)
            .and_then(|field| field.parse().ok())
            .expect("policy field");
        policies.push((name, policy));
    }
    policies
}

#[cfg(target_os = "linux")]
#[test]
fn every_server_thread_runs_under_the_batch_policy_unless_configured_normal() {
    const SCHED_OTHER: u32 = 0;
    const SCHED_BATCH: u32 = 3;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = KysoServer::start(&data, &[]);
    // The runtime's workers, the signing threads and the records writer. A
    // thread takes its name once it first runs, which on a busy machine may
    // be a moment after the server reports its port.
    let expected = ["tokio-rt-worker", "kyso-cpu-0", "sqlx-sqlite-wor"];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let policies = loop {
        let policies = thread_policies(server.pid());
        let named = |wanted: &str| policies.iter().any(|(name, _)| name == wanted);
        if expected.iter().all(|wanted| named(wanted)) {
            break policies;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all of {expected:?} in {policies:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(
        policies.iter().all(|(_, policy)| *policy == SCHED_BATCH),
        "{policies:?}"
    );
    drop(server);

    let server = KysoServer::start(&data, &["--cpu-scheduling", "normal"]);
    let policies = thread_policies(server.pid());
    assert!(
        policies.iter().all(|(_, policy)| *policy == SCHED_OTHER),
        "{policies:?}"
    );
}
