//! The Verify RPC on the real server: a document the server signed passes,
//! a tampered one fails with the right facts, a non-PDF is refused.

mod support;

use kyso::api::proto::{Indication, Modification, SignerRole, VerifyRequest};
use support::make_base_pdf;
use support::server::{KysoServer, LEADER, UNIT, request};
use tonic::Code;

fn verify_request(pdf: Vec<u8>) -> VerifyRequest {
    VerifyRequest {
        pdf,
        document_id: "incoming-1".into(),
        ..VerifyRequest::default()
    }
}

#[test]
fn a_document_the_server_signed_twice_verifies_as_total_passed_through_grpc() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 2) else {
        return;
    };
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let pdf = std::fs::read(input).expect("read");
    let leader = server
        .sign(request(pdf, UNIT, SignerRole::Leader, LEADER))
        .expect("leader signs")
        .pdf;
    let issued = server
        .sign(request(leader, UNIT, SignerRole::Organisation, ""))
        .expect("organisation signs")
        .pdf;

    let answer = server
        .verify(verify_request(issued.clone()))
        .expect("verify");
    assert_eq!(answer.verdict(), Indication::TotalPassed, "{answer:?}");
    assert_eq!(answer.document_id, "incoming-1");
    assert_eq!(answer.signatures.len(), 2);
    let [first, second] = [&answer.signatures[0], &answer.signatures[1]];
    assert_eq!(first.modifications(), Modification::Ltv);
    assert!(!first.covers_whole_file);
    assert!(second.covers_whole_file && second.trusted && second.intact && second.valid);
    assert_eq!(
        first.signer.as_ref().expect("signer").common_name,
        "Trần Quốc Bảo"
    );
    assert!(
        first.trust_anchor.contains("kyso Development Root CA"),
        "{}",
        first.trust_anchor
    );
    // The server consults its own CA's CRLs for the certificates it issued.
    assert_eq!(
        second.revocation.as_ref().expect("revocation").status,
        "good"
    );

    // One digit of the first page's /MediaBox changed: still a readable
    // PDF, no longer the signed bytes.
    let mut tampered = issued;
    let media_box = tampered
        .windows(9)
        .position(|w| w == b"/MediaBox")
        .expect("a MediaBox");
    let digit = media_box
        + tampered[media_box..]
            .iter()
            .position(|b| (b'1'..=b'8').contains(b))
            .expect("a digit");
    tampered[digit] += 1;
    let answer = server.verify(verify_request(tampered)).expect("verify");
    assert_ne!(answer.verdict(), Indication::TotalPassed);
    let last = answer.signatures.last().expect("signature");
    assert!(!last.intact);
    assert_eq!(last.sub_indication, "HASH_FAILURE");
}

#[test]
fn verify_refuses_what_is_not_a_pdf_and_reports_an_unsigned_pdf_as_not_passed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let status = server
        .verify(verify_request(b"GIF89a not a pdf".to_vec()))
        .expect_err("not a PDF");
    assert_eq!(status.code(), Code::InvalidArgument, "{status}");
    let status = server
        .verify(verify_request(Vec::new()))
        .expect_err("empty");
    assert_eq!(status.code(), Code::InvalidArgument, "{status}");

    let answer = server
        .verify(verify_request(std::fs::read(input).expect("read")))
        .expect("verify");
    assert_ne!(answer.verdict(), Indication::TotalPassed);
    assert!(answer.signatures.is_empty());
    assert!(
        answer.errors.iter().any(|e| e.contains("no signatures")),
        "{:?}",
        answer.errors
    );
}
