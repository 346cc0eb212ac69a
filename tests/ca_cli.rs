//! `kyso ca` as an operator runs it: init a CA offline, serve from it, issue,
//! list, revoke and fetch the CRL, with JSON for scripts and the exit codes
//! (0 done, 1 failure, 2 bad input).

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::require_tool;
use support::server::{KysoServer, UNIT};

fn kyso(server: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(args)
        .env("KYSO_SERVER", server)
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
fn an_operator_inits_the_ca_then_issues_lists_revokes_and_fetches_the_crl() {
    let Some(openssl) = require_tool("openssl") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");

    let init = kyso("", &["ca", "init", "--data-dir", path(&data)]);
    assert!(init.status.success(), "{}", text(&init));
    assert!(text(&init).contains("created kyso's CA"), "{}", text(&init));
    let root = kyso::ca::DevPki::new(&data).root_certificate_path();
    let root_before = std::fs::read(&root).expect("root certificate");
    let again = kyso("", &["ca", "init", "--data-dir", path(&data)]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    // serve keeps the CA init made.
    let server = KysoServer::start(&data, &[]);
    assert_eq!(std::fs::read(&root).expect("root"), root_before);

    let issued = kyso(
        &server.url,
        &[
            "ca",
            "issue",
            "--unit",
            UNIT,
            "--role",
            "organisation",
            "--key-type",
            "p256",
            "--json",
            "-o",
            path(&dir.path().join("seal.pem")),
        ],
    );
    assert!(issued.status.success(), "{}", text(&issued));
    let issued: serde_json::Value = serde_json::from_slice(&issued.stdout).expect("json");
    let fingerprint = issued[0]["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string();
    assert_eq!(issued[0]["status"], "good");
    assert_eq!(issued[0]["custody"], "kyso");
    assert!(dir.path().join("seal.pem").exists());

    let listed = kyso(
        &server.url,
        &[
            "ca",
            "list",
            "--unit",
            UNIT,
            "--role",
            "organisation",
            "--json",
        ],
    );
    assert!(listed.status.success(), "{}", text(&listed));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    let listed = listed.as_array().expect("array");
    assert_eq!(
        listed.len(),
        2,
        "the development certificate and the issued one"
    );
    assert!(listed.iter().any(|c| c["origin"] == "development"));

    let bad_reason = kyso(
        &server.url,
        &["ca", "revoke", &fingerprint, "--reason", "bored"],
    );
    assert_eq!(bad_reason.status.code(), Some(2), "{}", text(&bad_reason));
    let unknown = kyso(&server.url, &["ca", "revoke", "00FF00"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));

    let revoked = kyso(
        &server.url,
        &["ca", "revoke", &fingerprint, "--reason", "superseded"],
    );
    assert!(revoked.status.success(), "{}", text(&revoked));
    assert!(text(&revoked).contains("CRL number"), "{}", text(&revoked));
    let listed = kyso(
        &server.url,
        &["ca", "list", "--status", "revoked", "--json"],
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(listed[0]["fingerprint"], fingerprint.as_str());
    assert_eq!(listed[0]["revocation_reason"], "superseded");

    let crl = dir.path().join("issuing.crl");
    let fetched = kyso(&server.url, &["ca", "crl", "-o", path(&crl)]);
    assert!(fetched.status.success(), "{}", text(&fetched));
    let shown = Command::new(&openssl)
        .args([
            "crl",
            "-inform",
            "DER",
            "-noout",
            "-text",
            "-in",
            path(&crl),
        ])
        .output()
        .expect("openssl crl");
    assert!(shown.status.success(), "{}", text(&shown));
    assert!(text(&shown).contains("Superseded"), "{}", text(&shown));

    let unreachable = kyso("http://127.0.0.1:9", &["ca", "list"]);
    assert_eq!(unreachable.status.code(), Some(1), "{}", text(&unreachable));
}
