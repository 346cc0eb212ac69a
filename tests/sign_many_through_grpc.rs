//! `SignMany`: many documents on one stream through the real server. Each
//! document is answered once, signed as `Sign` would sign it (judged by
//! pyHanko and pdfsig) or refused as `Sign` would refuse it, and every
//! signed one is in the ledger.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use kyso::api::proto::{SignRequest, SignerRole, sign_many_response};
use support::server::{KysoServer, LEADER, UNIT, request};
use support::{assert_validated_by_peers, make_base_pdf};

fn numbered(pdf: &[u8], role: SignerRole, leader: &str, id: &str) -> SignRequest {
    SignRequest {
        document_id: id.to_string(),
        ..request(pdf.to_vec(), UNIT, role, leader)
    }
}

#[test]
fn a_stream_of_documents_is_signed_each_answered_once_and_a_bad_one_fails_only_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 2) else {
        return;
    };
    let pdf = std::fs::read(&input).expect("read input");
    let mut server = KysoServer::start(&dir.path().join("data"), &[]);

    // 150 documents: more than the server works on at once, so the stream
    // must take requests as earlier ones are answered. Three are bad, each
    // in its own way.
    let mut requests = Vec::new();
    let mut bad = BTreeMap::new();
    for n in 0..150 {
        let id = format!("many-{n}");
        let mut request = if n % 2 == 0 {
            numbered(&pdf, SignerRole::Organisation, "", &id)
        } else {
            numbered(&pdf, SignerRole::Leader, LEADER, &id)
        };
        match n {
            7 => request.pdf = b"%PDF-1.7\nthis is not a PDF".to_vec(),
            40 => request.unit_code = "999.99.99.H99".to_string(),
            99 => request.document_id = String::new(),
            _ => {}
        }
        if matches!(n, 7 | 40 | 99) {
            // What Sign answers for the same request on its own.
            let alone = server
                .sign(request.clone())
                .expect_err("a bad request is refused by Sign");
            bad.insert(n as u64, (alone.code() as i32, alone.message().to_string()));
        }
        requests.push(request);
    }
    let answers = server
        .sign_many(requests.clone())
        .expect("the stream is served to its end");

    assert_eq!(answers.len(), requests.len(), "every request is answered");
    let positions: BTreeSet<u64> = answers.iter().map(|a| a.index).collect();
    assert_eq!(
        positions,
        (0..requests.len() as u64).collect(),
        "each position is answered exactly once"
    );
    let mut signed = Vec::new();
    for answer in &answers {
        let position = usize::try_from(answer.index).expect("position");
        assert_eq!(answer.document_id, requests[position].document_id);
        match &answer.result {
            Some(sign_many_response::Result::Signed(response)) => {
                assert!(
                    !bad.contains_key(&answer.index),
                    "bad request {position} was signed"
                );
                assert!(
                    response.pdf.starts_with(&pdf),
                    "the signed file keeps the input's bytes as its prefix"
                );
                let summary = response.summary.as_ref().expect("a summary");
                assert_eq!(summary.document_id, answer.document_id);
                signed.push((position, response.pdf.clone()));
            }
            Some(sign_many_response::Result::Failure(failure)) => {
                let expected = bad
                    .get(&answer.index)
                    .unwrap_or_else(|| panic!("good request {position} failed: {failure:?}"));
                assert_eq!(
                    (failure.code, failure.message.clone()),
                    *expected,
                    "request {position} fails as Sign fails it"
                );
            }
            None => panic!("answer {position} carries no result"),
        }
    }
    assert_eq!(signed.len(), requests.len() - bad.len());

    // Peers accept what the stream signed, with either signer.
    for (position, bytes) in signed.iter().filter(|(p, _)| *p < 2) {
        let out = dir.path().join(format!("many-{position}.pdf"));
        std::fs::write(&out, bytes).expect("write");
        assert_validated_by_peers(&out, &server.root_pem(), 1);
    }

    // Every signed document is in the ledger once; the refused ones are not.
    let ledger: Vec<String> = server
        .ledger_around_today()
        .into_iter()
        .map(|entry| entry.document_id)
        .collect();
    for (position, _) in &signed {
        let id = &requests[*position].document_id;
        assert_eq!(
            ledger.iter().filter(|recorded| *recorded == id).count(),
            1,
            "{id} is recorded once"
        );
    }
    for position in bad.keys() {
        let id = &requests[usize::try_from(*position).expect("position")].document_id;
        assert!(
            id.is_empty() || !ledger.contains(id),
            "{id} was refused but recorded"
        );
    }
    assert!(server.is_running());
}

#[test]
fn a_client_that_leaves_mid_stream_does_not_stop_the_server_and_what_was_answered_is_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let pdf = std::fs::read(&input).expect("read input");
    let mut server = KysoServer::start(&dir.path().join("data"), &[]);
    let answered = support::server::runtime().block_on(async {
        let mut client = kyso::api::client::signing(&server.url)
            .await
            .expect("connect");
        let (requests, outgoing) = tokio::sync::mpsc::channel(8);
        for n in 0..8 {
            let request = numbered(&pdf, SignerRole::Organisation, "", &format!("left-{n}"));
            requests.send(request).await.expect("queue");
        }
        let mut answers = client
            .sign_many(tokio_stream::wrappers::ReceiverStream::new(outgoing))
            .await
            .expect("stream")
            .into_inner();
        let mut answered = Vec::new();
        for _ in 0..3 {
            let answer = answers.message().await.expect("answer").expect("an answer");
            answered.push(answer.document_id);
        }
        // Leaves with the request side still open and answers unread.
        drop(answers);
        drop(requests);
        answered
    });
    let ledger: Vec<String> = server
        .ledger_around_today()
        .into_iter()
        .map(|entry| entry.document_id)
        .collect();
    for id in &answered {
        assert!(ledger.contains(id), "{id} was answered but is not recorded");
    }
    let after = server
        .sign(numbered(&pdf, SignerRole::Organisation, "", "after"))
        .expect("the server signs after the client left");
    assert!(after.pdf.starts_with(&pdf));
    assert!(server.is_running());
}

#[test]
fn a_request_stream_that_breaks_ends_the_answers_with_its_error_after_the_documents_it_carried() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let pdf = std::fs::read(&input).expect("read input");
    // Messages over about 1 MiB break the request stream.
    let server = KysoServer::start(&dir.path().join("data"), &["--max-pdf-bytes", "100000"]);
    let mut requests: Vec<SignRequest> = (0..3)
        .map(|n| numbered(&pdf, SignerRole::Organisation, "", &format!("before-{n}")))
        .collect();
    let mut oversized = numbered(&pdf, SignerRole::Organisation, "", "oversized");
    oversized.pdf = vec![b'%'; 3 << 20];
    requests.push(oversized);
    requests.push(numbered(&pdf, SignerRole::Organisation, "", "after"));

    let (answered, ended) = support::server::runtime().block_on(async {
        let mut client = kyso::api::client::signing(&server.url)
            .await
            .expect("connect");
        let mut answers = client
            .sign_many(tokio_stream::iter(requests))
            .await
            .expect("stream")
            .into_inner();
        let mut answered = BTreeSet::new();
        loop {
            match answers.message().await {
                Ok(Some(answer)) => {
                    assert!(
                        matches!(answer.result, Some(sign_many_response::Result::Signed(_))),
                        "{answer:?}"
                    );
                    answered.insert(answer.document_id);
                }
                Ok(None) => return (answered, None),
                Err(status) => return (answered, Some(status)),
            }
        }
    });
    let expected: BTreeSet<String> = (0..3).map(|n| format!("before-{n}")).collect();
    assert_eq!(
        answered, expected,
        "the documents before the break are answered"
    );
    let status = ended.expect("the answers end with the request stream's error");
    assert!(
        matches!(
            status.code(),
            tonic::Code::OutOfRange | tonic::Code::ResourceExhausted
        ),
        "{status:?}"
    );
    let ledger: BTreeSet<String> = server
        .ledger_around_today()
        .into_iter()
        .map(|entry| entry.document_id)
        .collect();
    assert!(expected.is_subset(&ledger), "{ledger:?}");
    assert!(
        !ledger.contains("after"),
        "nothing after the break is signed"
    );
}

#[test]
fn kyso_sign_many_signs_every_file_it_can_and_exits_2_naming_the_one_it_could_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(base) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let pdf = std::fs::read(&base).expect("read input");
    let drafts = dir.path().join("drafts");
    std::fs::create_dir_all(&drafts).expect("drafts dir");
    let mut inputs = Vec::new();
    for name in ["12-QD", "13-QD", "14-CV"] {
        let path = drafts.join(format!("{name}.pdf"));
        std::fs::write(&path, &pdf).expect("write draft");
        inputs.push(path);
    }
    let broken = drafts.join("15-TB.pdf");
    std::fs::write(&broken, b"%PDF-1.7\nnot really").expect("write broken draft");
    inputs.push(broken.clone());
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let issued = dir.path().join("issued");

    let output = Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["sign-many", "--server", &server.url, "--unit", UNIT])
        .args(["--as", "organisation", "--id-prefix", "2026/", "--json"])
        .arg("--out-dir")
        .arg(&issued)
        .args(&inputs)
        .output()
        .expect("run kyso sign-many");
    assert_eq!(
        output.status.code(),
        Some(2),
        "a refused file is bad input: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the report is JSON");
    let files = report.as_array().expect("one entry per file");
    assert_eq!(files.len(), inputs.len());
    for (entry, input) in files.iter().zip(&inputs) {
        assert_eq!(entry["input"].as_str(), input.to_str());
        if *input == broken {
            assert!(entry["output"].is_null(), "{entry}");
            assert_eq!(entry["error_code"], "InvalidArgument", "{entry}");
            assert!(!issued.join("15-TB.pdf").exists());
        } else {
            let signed = issued.join(input.file_name().expect("name"));
            assert_eq!(entry["output"].as_str(), signed.to_str(), "{entry}");
            let bytes = std::fs::read(&signed).expect("signed file written");
            assert!(bytes.starts_with(&pdf));
        }
    }
    assert_validated_by_peers(&issued.join("12-QD.pdf"), &server.root_pem(), 1);

    let ledger: BTreeSet<String> = server
        .ledger_around_today()
        .into_iter()
        .map(|entry| entry.document_id)
        .collect();
    for id in ["2026/12-QD", "2026/13-QD", "2026/14-CV"] {
        assert!(ledger.contains(id), "{id} is recorded under its file name");
    }
    assert!(!ledger.contains("2026/15-TB"));

    // Two inputs with one name would clash: refused before anything is signed.
    let clash = Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["sign-many", "--server", &server.url, "--unit", UNIT])
        .args(["--as", "organisation", "--out-dir"])
        .arg(dir.path().join("elsewhere"))
        .arg(&inputs[0])
        .arg(&inputs[0])
        .output()
        .expect("run kyso sign-many");
    assert_eq!(clash.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&clash.stderr).contains("would clash"));
}
