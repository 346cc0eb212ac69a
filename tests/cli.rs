//! The `kyso` command line as a user runs it: help, offline signing with PEM
//! and PKCS#12 keys, signing through a server, and exit codes (0 success,
//! 1 failure, 2 bad usage or bad input).

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::server::{KysoServer, LEADER, UNIT};
use support::{assert_validated_by_peers, make_base_pdf, openssl_test_pki, require_tool};

fn kyso(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(args)
        .output()
        .expect("run kyso")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn help_explains_the_commands_and_both_ways_of_signing() {
    let top = kyso(&["--help"]);
    assert!(top.status.success());
    let top = text(&top);
    assert!(top.contains("serve") && top.contains("sign"), "{top}");
    let sign = kyso(&["sign", "--help"]);
    assert!(sign.status.success());
    let sign = text(&sign);
    for flag in [
        "--server",
        "--unit",
        "--as",
        "--leader",
        "--key",
        "--p12",
        "--password-file",
        "--cert",
        "--chain",
        "--json",
    ] {
        assert!(sign.contains(flag), "sign --help lacks {flag}:\n{sign}");
    }
    let serve = text(&kyso(&["serve", "--help"]));
    assert!(
        serve.contains("--data-dir") && serve.contains("KYSO_DATA_DIR"),
        "{serve}"
    );
}

#[test]
fn bad_usage_and_bad_input_exit_with_code_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_pdf = dir.path().join("notes.txt");
    std::fs::write(&not_pdf, "this is not a PDF").expect("write");
    let out = dir.path().join("out.pdf");

    let unknown_flag = kyso(&["sign", "--frobnicate"]);
    assert_eq!(
        unknown_flag.status.code(),
        Some(2),
        "{}",
        text(&unknown_flag)
    );

    let no_mode = kyso(&["sign", path(&not_pdf), "-o", path(&out)]);
    assert_eq!(no_mode.status.code(), Some(2), "{}", text(&no_mode));
    assert!(text(&no_mode).contains("--server"), "{}", text(&no_mode));

    let Some(pki) = openssl_test_pki(&dir.path().join("pki")) else {
        return;
    };
    let not_a_pdf = kyso(&[
        "sign",
        path(&not_pdf),
        "-o",
        path(&out),
        "--key",
        path(&pki.leaf_key),
        "--cert",
        path(&pki.leaf_cert),
    ]);
    assert_eq!(not_a_pdf.status.code(), Some(2), "{}", text(&not_a_pdf));
    assert!(
        text(&not_a_pdf).contains("not a PDF"),
        "{}",
        text(&not_a_pdf)
    );
    assert!(!out.exists(), "no output is written for a refused input");

    let missing = kyso(&[
        "sign",
        "/nonexistent.pdf",
        "-o",
        path(&out),
        "--key",
        path(&pki.leaf_key),
        "--cert",
        path(&pki.leaf_cert),
    ]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
}

#[test]
fn offline_signing_with_a_pem_key_gives_a_pdf_validators_accept_and_a_json_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 2) else {
        return;
    };
    let Some(pki) = openssl_test_pki(&dir.path().join("pki")) else {
        return;
    };
    let out = dir.path().join("signed.pdf");
    let output = kyso(&[
        "sign",
        path(&input),
        "-o",
        path(&out),
        "--key",
        path(&pki.leaf_key),
        "--cert",
        path(&pki.leaf_cert),
        "--reason",
        "Ban hành văn bản",
        "--location",
        "Hòa Bình",
        "--json",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(summary["field_name"], "Signature1");
    assert_eq!(summary["signature_algorithm"], "ECDSA P-256 with SHA-256");
    assert!(
        summary["signer_subject"]
            .as_str()
            .unwrap_or("")
            .contains("Test Signer")
    );
    assert_validated_by_peers(&out, &pki.root_cert, 1);
}

#[test]
fn offline_signing_with_pkcs12_needs_the_right_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let Some(pki) = openssl_test_pki(&dir.path().join("pki")) else {
        return;
    };
    let Some(openssl) = require_tool("openssl") else {
        return;
    };
    let p12 = dir.path().join("signer.p12");
    let made = Command::new(openssl)
        .args(["pkcs12", "-export", "-passout", "pass:mật-khẩu"])
        .args([
            "-inkey",
            path(&pki.leaf_key),
            "-in",
            path(&pki.leaf_cert),
            "-certfile",
            path(&pki.root_cert),
        ])
        .args(["-out", path(&p12)])
        .output()
        .expect("openssl pkcs12");
    assert!(made.status.success(), "{}", text(&made));
    let right = dir.path().join("right.txt");
    std::fs::write(&right, "mật-khẩu\n").expect("write");
    let wrong = dir.path().join("wrong.txt");
    std::fs::write(&wrong, "guess\n").expect("write");
    let out = dir.path().join("signed.pdf");

    let refused = kyso(&[
        "sign",
        path(&input),
        "-o",
        path(&out),
        "--p12",
        path(&p12),
        "--password-file",
        path(&wrong),
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("password"), "{}", text(&refused));
    assert!(!out.exists());

    let signed = kyso(&[
        "sign",
        path(&input),
        "-o",
        path(&out),
        "--p12",
        path(&p12),
        "--password-file",
        path(&right),
    ]);
    assert!(signed.status.success(), "{}", text(&signed));
    assert_validated_by_peers(&out, &pki.root_cert, 1);
}

#[test]
fn a_key_that_is_not_the_certificates_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let Some(pki) = openssl_test_pki(&dir.path().join("pki")) else {
        return;
    };
    let out = dir.path().join("signed.pdf");
    // The root's key with the leaf's certificate.
    let output = kyso(&[
        "sign",
        path(&input),
        "-o",
        path(&out),
        "--key",
        path(&pki.root_key),
        "--cert",
        path(&pki.leaf_cert),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("does not belong"),
        "{}",
        text(&output)
    );
}

#[test]
fn signing_through_a_server_writes_the_signed_pdf_and_reports_refusals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let leader = dir.path().join("leader.pdf");
    let output = kyso(&[
        "sign",
        path(&input),
        "-o",
        path(&leader),
        "--server",
        &server.url,
        "--unit",
        UNIT,
        "--as",
        "leader",
        "--leader",
        LEADER,
        "--document-id",
        "VB-2026-001",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("Trần Quốc Bảo"), "{}", text(&output));
    let issued = dir.path().join("issued.pdf");
    let output = kyso(&[
        "sign",
        path(&leader),
        "-o",
        path(&issued),
        "--server",
        &server.url,
        "--unit",
        UNIT,
        "--as",
        "organisation",
        "--document-id",
        "VB-2026-001",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    assert_validated_by_peers(&issued, &server.root_pem(), 2);

    let no_document_id = kyso(&[
        "sign",
        path(&input),
        "-o",
        path(&issued),
        "--server",
        &server.url,
        "--unit",
        UNIT,
        "--as",
        "organisation",
    ]);
    assert_eq!(
        no_document_id.status.code(),
        Some(2),
        "{}",
        text(&no_document_id)
    );
    assert!(
        text(&no_document_id).contains("--document-id"),
        "{}",
        text(&no_document_id)
    );

    let no_leader = kyso(&[
        "sign",
        path(&input),
        "-o",
        path(&issued),
        "--server",
        &server.url,
        "--unit",
        UNIT,
        "--as",
        "leader",
    ]);
    assert_eq!(no_leader.status.code(), Some(2), "{}", text(&no_leader));

    let unknown_unit = kyso(&[
        "sign",
        path(&input),
        "-o",
        path(&issued),
        "--server",
        &server.url,
        "--unit",
        "999.99.99.H99",
        "--as",
        "organisation",
        "--document-id",
        "VB-2026-002",
    ]);
    assert_eq!(
        unknown_unit.status.code(),
        Some(2),
        "{}",
        text(&unknown_unit)
    );

    drop(server);
    let unreachable = kyso(&[
        "sign",
        path(&input),
        "-o",
        path(&issued),
        "--server",
        "http://127.0.0.1:1",
        "--unit",
        UNIT,
        "--as",
        "organisation",
        "--document-id",
        "VB-2026-003",
    ]);
    assert_eq!(unreachable.status.code(), Some(1), "{}", text(&unreachable));
}
