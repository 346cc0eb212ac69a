//! Signing with a key kyso never holds (a leader's USB token, a remote
//! signing service): PrepareSignature answers the bytes to sign, openssl
//! signs them outside kyso, CompleteSignature checks and embeds the value.
//! The keys and certificates come from a CA built here with `kyso::ca`, so
//! kyso's server never sees the private keys; pyHanko and pdfsig judge the
//! results.

mod support;

use kyso::api::proto::signing_service_client::SigningServiceClient;
use kyso::api::proto::{
    CompleteSignatureRequest, DocumentEntry, PrepareSignatureRequest, PrepareSignatureResponse,
    SignResponse, SignerRole,
};
use kyso::ca::{CertificateAuthority, KeyAlgorithm, LeafKey};
use kyso::units::{LeaderId, UnitCode};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};
use support::server::{KysoServer, LEADER, UNIT, runtime};
use support::{assert_validated_by_peers, make_base_pdf, require_tool};
use tonic::Code;

/// A key outside kyso with its certificate, issued by a CA made here.
struct ExternalKey {
    root_pem: PathBuf,
    certificate_der: Vec<u8>,
    certificate_pem: PathBuf,
    chain_der: Vec<Vec<u8>>,
    chain_pem: PathBuf,
    key_pem: PathBuf,
}

/// Issues a personal certificate to [`LEADER`] of [`UNIT`] for `key` at
/// `issued_at`, from a root and issuing CA made at the same instant; writes
/// the files into `dir` under `name`.
fn external_key(dir: &Path, name: &str, key: LeafKey, issued_at: SystemTime) -> ExternalKey {
    let registry = kyso::units::demo_province();
    let unit = registry
        .find(&UnitCode::parse(UNIT).expect("unit code"))
        .expect("unit");
    let leader = unit
        .leader(&LeaderId::parse(LEADER).expect("leader id"))
        .expect("leader");
    let root = CertificateAuthority::new_root("Test Root", "kyso tests", issued_at).expect("root");
    let issuing = root
        .issue_intermediate("Test Issuing CA", "kyso tests", issued_at)
        .expect("issuing CA");
    let certified = issuing
        .issue_personal(unit, leader, key, issued_at)
        .expect("personal certificate");
    let write = |file: String, text: &str| {
        let path = dir.join(file);
        std::fs::write(&path, text).expect("write");
        path
    };
    let key_pem = if certified.private_key_pkcs8_der.is_empty() {
        dir.join(format!("{name}.key.pem"))
    } else {
        write(format!("{name}.key.pem"), &certified.private_key_pem())
    };
    ExternalKey {
        root_pem: write(format!("{name}-root.pem"), root.certificate_pem()),
        certificate_der: certified.certificate_der.clone(),
        certificate_pem: write(format!("{name}.pem"), &certified.certificate_pem),
        chain_der: vec![issuing.certificate_der().to_vec()],
        chain_pem: write(format!("{name}-chain.pem"), issuing.certificate_pem()),
        key_pem,
    }
}

/// An RSA-2048 key made by openssl (fast in debug builds), as PKCS#8 DER.
fn openssl_rsa_key(dir: &Path) -> Option<LeafKey> {
    let openssl = require_tool("openssl")?;
    let pem_path = dir.join("rsa-generated.key.pem");
    let output = Command::new(&openssl)
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&pem_path)
        .output()
        .expect("run openssl genpkey");
    assert!(
        output.status.success(),
        "openssl genpkey failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let der = pem::parse(std::fs::read(&pem_path).expect("read key"))
        .expect("PEM")
        .into_contents();
    Some(LeafKey::Pkcs8 {
        der,
        algorithm: KeyAlgorithm::Rsa2048,
    })
}

/// Signs `tbs` with `key_pem` the way a token or a script would:
/// `openssl pkeyutl -sign -rawin -digest sha256` for ECDSA, `openssl dgst
/// -sha256 -sign` for RSA PKCS#1 v1.5.
fn openssl_sign(dir: &Path, key_pem: &Path, tbs: &[u8], rsa: bool) -> Option<Vec<u8>> {
    let openssl = require_tool("openssl")?;
    let tbs_path = dir.join("tbs.der");
    let sig_path = dir.join("sig.der");
    std::fs::write(&tbs_path, tbs).expect("write tbs");
    let mut command = Command::new(openssl);
    if rsa {
        command
            .args(["dgst", "-sha256", "-sign"])
            .arg(key_pem)
            .arg("-out")
            .arg(&sig_path)
            .arg(&tbs_path);
    } else {
        command
            .args(["pkeyutl", "-sign", "-rawin", "-digest", "sha256", "-inkey"])
            .arg(key_pem)
            .arg("-in")
            .arg(&tbs_path)
            .arg("-out")
            .arg(&sig_path);
    }
    let output = command.output().expect("run openssl");
    assert!(
        output.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(std::fs::read(sig_path).expect("read signature"))
}

fn signing_client(
    server: &KysoServer,
) -> impl std::future::Future<Output = SigningServiceClient<tonic::transport::Channel>> {
    let url = server.url.clone();
    async move {
        SigningServiceClient::connect(url)
            .await
            .expect("connect")
            .max_decoding_message_size(256 << 20)
            .max_encoding_message_size(256 << 20)
    }
}

fn prepare(
    server: &KysoServer,
    request: PrepareSignatureRequest,
) -> Result<PrepareSignatureResponse, tonic::Status> {
    runtime().block_on(async {
        let mut client = signing_client(server).await;
        client
            .prepare_signature(request)
            .await
            .map(tonic::Response::into_inner)
    })
}

fn complete(
    server: &KysoServer,
    handle: &str,
    value: &[u8],
) -> Result<SignResponse, tonic::Status> {
    let request = CompleteSignatureRequest {
        handle: handle.to_string(),
        signature_value: value.to_vec(),
    };
    runtime().block_on(async {
        let mut client = signing_client(server).await;
        client
            .complete_signature(request)
            .await
            .map(tonic::Response::into_inner)
    })
}

/// A PrepareSignature request for `key` as [`LEADER`] of [`UNIT`].
fn leader_request(pdf: Vec<u8>, key: &ExternalKey, document: &str) -> PrepareSignatureRequest {
    PrepareSignatureRequest {
        pdf,
        signer_certificate: key.certificate_der.clone(),
        chain: key.chain_der.clone(),
        unit_code: UNIT.to_string(),
        role: SignerRole::Leader.into(),
        leader_id: LEADER.to_string(),
        document_id: document.to_string(),
        ..PrepareSignatureRequest::default()
    }
}

/// The ledger's entries for today, yesterday and tomorrow in Vietnam.
fn ledger(server: &KysoServer) -> Vec<DocumentEntry> {
    server.ledger_around_today()
}

fn entry<'a>(entries: &'a [DocumentEntry], document: &str) -> Option<&'a DocumentEntry> {
    entries.iter().find(|e| e.document_id == document)
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    kyso::crypto::DigestAlgorithm::Sha256.digest(bytes)
}

#[test]
fn a_leader_key_kyso_never_holds_signs_in_two_steps_and_validators_accept_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 2) else {
        return;
    };
    let key = external_key(
        dir.path(),
        "leader",
        LeafKey::Generate(KeyAlgorithm::EcdsaP256),
        SystemTime::now(),
    );
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let pdf = std::fs::read(&input).expect("read");

    let prepared =
        prepare(&server, leader_request(pdf.clone(), &key, "two-step-1")).expect("prepare");
    assert!(prepared.handle.len() >= 32, "handle {:?}", prepared.handle);
    assert_eq!(prepared.digest, sha256(&prepared.data_to_be_signed));
    assert_eq!(prepared.digest_algorithm, "SHA-256");
    assert_eq!(prepared.signature_algorithm, "ECDSA P-256 with SHA-256");
    let expires_at = prepared.expires_at.expect("expires_at");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after epoch")
        .as_secs() as i64;
    assert!(expires_at.seconds > now && expires_at.seconds <= now + 3600);
    assert!(
        entry(&ledger(&server), "two-step-1").is_none(),
        "nothing is recorded before completion"
    );

    let Some(value) = openssl_sign(dir.path(), &key.key_pem, &prepared.data_to_be_signed, false)
    else {
        return;
    };
    let signed = complete(&server, &prepared.handle, &value).expect("complete");
    assert!(signed.pdf.starts_with(&pdf), "the input's bytes are kept");
    let summary = signed.summary.expect("summary");
    assert_eq!(summary.document_id, "two-step-1");
    let out = dir.path().join("two-step.pdf");
    std::fs::write(&out, &signed.pdf).expect("write");
    assert_validated_by_peers(&out, &key.root_pem, 1);

    let entries = ledger(&server);
    let recorded = entry(&entries, "two-step-1").expect("the signature is in the ledger");
    assert_eq!(recorded.unit_code, UNIT);
    let leader = recorded
        .leader_signature
        .as_ref()
        .expect("leader signature");
    assert_eq!(leader.leader_id, LEADER);
    assert_eq!(leader.certificate_serial, summary.certificate_serial);
}

#[test]
fn an_rsa_organisation_key_kyso_never_holds_signs_in_two_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let Some(rsa) = openssl_rsa_key(dir.path()) else {
        return;
    };
    let key = external_key(dir.path(), "rsa", rsa, SystemTime::now());
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let mut request = leader_request(std::fs::read(&input).expect("read"), &key, "rsa-1");
    request.role = SignerRole::Organisation.into();
    request.leader_id = String::new();
    let prepared = prepare(&server, request).expect("prepare");
    assert_eq!(prepared.signature_algorithm, "RSA PKCS#1 v1.5 with SHA-256");
    let Some(value) = openssl_sign(dir.path(), &key.key_pem, &prepared.data_to_be_signed, true)
    else {
        return;
    };
    assert_eq!(value.len(), 256);
    let signed = complete(&server, &prepared.handle, &value).expect("complete");
    let out = dir.path().join("rsa.pdf");
    std::fs::write(&out, &signed.pdf).expect("write");
    assert_validated_by_peers(&out, &key.root_pem, 1);
    let entries = ledger(&server);
    let recorded = entry(&entries, "rsa-1").expect("recorded");
    assert!(recorded.organisation_signature.is_some());
}

#[test]
fn the_cli_prepares_and_completes_around_openssl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let Some(openssl) = require_tool("openssl") else {
        return;
    };
    let key = external_key(
        dir.path(),
        "leader",
        LeafKey::Generate(KeyAlgorithm::EcdsaP256),
        SystemTime::now(),
    );
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let kyso = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_kyso"))
            .arg("sign")
            .args(args)
            .output()
            .expect("run kyso sign")
    };
    let prepared_json = dir.path().join("prepared.json");
    let tbs = dir.path().join("tbs.der");
    let output = kyso(&[
        input.as_os_str(),
        "--server".as_ref(),
        server.url.as_ref(),
        "--prepare".as_ref(),
        "--cert".as_ref(),
        key.certificate_pem.as_os_str(),
        "--chain".as_ref(),
        key.chain_pem.as_os_str(),
        "--unit".as_ref(),
        UNIT.as_ref(),
        "--as".as_ref(),
        "leader".as_ref(),
        "--leader".as_ref(),
        LEADER.as_ref(),
        "--document-id".as_ref(),
        "cli-1".as_ref(),
        "-o".as_ref(),
        prepared_json.as_os_str(),
        "--tbs-out".as_ref(),
        tbs.as_os_str(),
    ]);
    assert!(
        output.status.success(),
        "prepare: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&prepared_json).expect("read json")).expect("json");
    assert!(json["handle"].as_str().is_some_and(|h| h.len() >= 32));

    let sig = dir.path().join("sig.der");
    let status = Command::new(openssl)
        .args(["pkeyutl", "-sign", "-rawin", "-digest", "sha256", "-inkey"])
        .arg(&key.key_pem)
        .arg("-in")
        .arg(&tbs)
        .arg("-out")
        .arg(&sig)
        .status()
        .expect("openssl");
    assert!(status.success());

    let signed = dir.path().join("signed.pdf");
    let complete_args = [
        "--server".as_ref(),
        server.url.as_ref(),
        "--complete".as_ref(),
        prepared_json.as_os_str(),
        "--signature".as_ref(),
        sig.as_os_str(),
        "-o".as_ref(),
        signed.as_os_str(),
    ];
    let output = kyso(&complete_args);
    assert!(
        output.status.success(),
        "complete: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_validated_by_peers(&signed, &key.root_pem, 1);
    assert!(entry(&ledger(&server), "cli-1").is_some());

    // The handle is spent: a second completion fails with exit code 1
    // (FAILED_PRECONDITION), and says why.
    let again = kyso(&complete_args);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already completed"));
}

#[test]
fn a_wrong_signature_value_is_refused_nothing_is_recorded_and_the_right_one_still_completes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let key = external_key(
        dir.path(),
        "leader",
        LeafKey::Generate(KeyAlgorithm::EcdsaP256),
        SystemTime::now(),
    );
    let other = external_key(
        dir.path(),
        "other",
        LeafKey::Generate(KeyAlgorithm::EcdsaP256),
        SystemTime::now(),
    );
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let pdf = std::fs::read(&input).expect("read");
    let prepared = prepare(&server, leader_request(pdf, &key, "wrong-1")).expect("prepare");
    let tbs = &prepared.data_to_be_signed;

    let Some(by_other_key) = openssl_sign(dir.path(), &other.key_pem, tbs, false) else {
        return;
    };
    let refused = complete(&server, &prepared.handle, &by_other_key).expect_err("other key");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        refused.message().contains("does not verify"),
        "{}",
        refused.message()
    );

    let right = openssl_sign(dir.path(), &key.key_pem, tbs, false).expect("openssl");
    let mut flipped = right.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    let refused = complete(&server, &prepared.handle, &flipped).expect_err("flipped");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        entry(&ledger(&server), "wrong-1").is_none(),
        "a refused value records nothing"
    );

    let signed = complete(&server, &prepared.handle, &right).expect("the right value completes");
    let out = dir.path().join("right.pdf");
    std::fs::write(&out, &signed.pdf).expect("write");
    assert_validated_by_peers(&out, &key.root_pem, 1);
    assert!(entry(&ledger(&server), "wrong-1").is_some());
}

#[test]
fn a_handle_completes_only_once_and_an_unknown_handle_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let key = external_key(
        dir.path(),
        "leader",
        LeafKey::Generate(KeyAlgorithm::EcdsaP256),
        SystemTime::now(),
    );
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let pdf = std::fs::read(&input).expect("read");
    let prepared = prepare(&server, leader_request(pdf, &key, "once-1")).expect("prepare");
    let Some(value) = openssl_sign(dir.path(), &key.key_pem, &prepared.data_to_be_signed, false)
    else {
        return;
    };
    complete(&server, &prepared.handle, &value).expect("first completion");
    let again = complete(&server, &prepared.handle, &value).expect_err("second completion");
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    assert!(
        again.message().contains("already completed"),
        "{}",
        again.message()
    );

    let unknown = complete(&server, &"ab".repeat(32), &value).expect_err("unknown handle");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    assert!(
        unknown.message().contains("no prepared signature"),
        "{}",
        unknown.message()
    );
}

#[test]
fn an_expired_certificate_is_refused_at_prepare() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    // Issued five years ago for three years: expired two years ago.
    let five_years_ago = SystemTime::now() - Duration::from_secs(5 * 366 * 24 * 3600);
    let key = external_key(
        dir.path(),
        "expired",
        LeafKey::Generate(KeyAlgorithm::EcdsaP256),
        five_years_ago,
    );
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let pdf = std::fs::read(&input).expect("read");
    let refused = prepare(&server, leader_request(pdf, &key, "expired-1")).expect_err("expired");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused.message().contains("not valid at the signing time"),
        "{}",
        refused.message()
    );
}
