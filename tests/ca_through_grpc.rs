//! kyso's certification authority through the real server: certificates
//! issued over gRPC sign at once and validate in pyHanko, which fetches
//! kyso's CRL over HTTP from the certificate's distribution point; revocation
//! stops signing, publishes a CRL openssl reads and checks, and makes Verify
//! report REVOKED for signatures made after the revocation time while those
//! made before stay good; PKCS#10 requests, the time-stamping profile,
//! PKCS#12 imports from an outside CA, and keys on a configured PKCS#11
//! token (SoftHSM2).

#[path = "support/pkcs11.rs"]
mod softhsm;
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use kyso::api::proto::certificate_authority_service_client::CertificateAuthorityServiceClient;
use kyso::api::proto::{
    self, Certificate, CertificateRole, GetCrlRequest, ImportCertificateRequest,
    IssueCertificateRequest, KeyType, ListCertificatesRequest, RevocationReason,
    RevokeCertificateRequest, RevokeCertificateResponse, SignerRole, VerifyRequest,
    import_certificate_request, issue_certificate_request,
};
use kyso::ca::{CertificateAuthority, LeafKey};
use kyso::units::{LeaderId, UnitCode};
use support::server::{KysoServer, LEADER, UNIT, request, runtime};
use support::{
    make_base_pdf, pdfsig_validate, pyhanko_validate, pyhanko_validate_fetching_crls, require_tool,
};
use tonic::Code;

/// Runs one call on a CA-service client of `server`.
fn ca<T, F>(
    server: &KysoServer,
    call: impl FnOnce(CertificateAuthorityServiceClient<tonic::transport::Channel>) -> F,
) -> Result<T, tonic::Status>
where
    F: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    runtime().block_on(async {
        let client = CertificateAuthorityServiceClient::connect(server.url.clone())
            .await
            .expect("connect");
        call(client).await.map(tonic::Response::into_inner)
    })
}

fn issue(
    server: &KysoServer,
    request: IssueCertificateRequest,
) -> Result<Certificate, tonic::Status> {
    ca(
        server,
        |mut c| async move { c.issue_certificate(request).await },
    )
    .map(|response| response.certificate.expect("certificate"))
}

fn issue_generated(
    server: &KysoServer,
    role: CertificateRole,
    leader: &str,
    key_type: KeyType,
) -> Certificate {
    issue(
        server,
        IssueCertificateRequest {
            unit_code: UNIT.to_string(),
            role: role as i32,
            leader_id: leader.to_string(),
            key: Some(issue_certificate_request::Key::Generate(key_type as i32)),
        },
    )
    .expect("issue")
}

fn revoke(
    server: &KysoServer,
    certificate: &str,
    reason: RevocationReason,
    at: Option<SystemTime>,
) -> Result<RevokeCertificateResponse, tonic::Status> {
    let request = RevokeCertificateRequest {
        certificate: certificate.to_string(),
        reason: reason as i32,
        revoked_at: at.map(prost_types::Timestamp::from),
    };
    ca(server, |mut c| async move {
        c.revoke_certificate(request).await
    })
}

/// Signs a fresh one-page PDF as `role` and writes it to `dir/name`.
fn sign_to(
    server: &KysoServer,
    dir: &Path,
    name: &str,
    role: SignerRole,
    leader: &str,
) -> Result<(PathBuf, proto::SignResponse), tonic::Status> {
    let base = make_base_pdf(dir, 1).expect("base PDF (pikepdf)");
    let mut sign_request = request(std::fs::read(base).expect("read"), UNIT, role, leader);
    sign_request.document_id = format!("ca-test-{name}");
    let response = server.sign(sign_request)?;
    let path = dir.join(name);
    std::fs::write(&path, &response.pdf).expect("write signed PDF");
    Ok((path, response))
}

/// A plain HTTP/1.1 GET on the server's port: status and body.
fn http_get(server: &KysoServer, path: &str) -> (u16, Vec<u8>) {
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect for HTTP");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("send GET");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read response");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP header end");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status code");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "expected a sized body:\n{head}"
    );
    (status, response[split + 4..].to_vec())
}

fn openssl(args: &[&str]) -> String {
    let openssl = require_tool("openssl").expect("openssl");
    let output = Command::new(openssl)
        .args(args)
        .output()
        .expect("run openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "openssl {args:?} failed:\n{text}");
    text
}

fn verify(server: &KysoServer, pdf: &Path) -> proto::VerifyResponse {
    server
        .verify(VerifyRequest {
            pdf: std::fs::read(pdf).expect("read"),
            ..VerifyRequest::default()
        })
        .expect("verify")
}

#[test]
fn an_issued_certificate_signs_at_once_and_pyhanko_trusts_it_after_fetching_kysos_crl() {
    if require_tool("python").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let certificate = issue_generated(
        &server,
        CertificateRole::Organisation,
        "",
        KeyType::EcdsaP384,
    );
    assert_eq!(certificate.key_algorithm, "ECDSA P-384");
    assert_eq!(certificate.custody, "kyso");
    assert_eq!(certificate.origin, "issued");
    let (pdf, response) = sign_to(
        &server,
        dir.path(),
        "organisation.pdf",
        SignerRole::Organisation,
        "",
    )
    .expect("sign");
    let summary = response.summary.expect("summary");
    assert_eq!(
        summary.certificate_serial, certificate.serial,
        "the newly issued certificate is the unit's signer"
    );
    let report = pyhanko_validate_fetching_crls(&pdf, &server.root_pem()).expect("pyhanko");
    assert!(
        report.intact && report.valid && report.trusted,
        "pyHanko with hard-fail revocation from kyso's CRL endpoint:\n{}",
        report.raw
    );
    if let Some(pdfsig) = pdfsig_validate(&pdf, &server.root_pem()) {
        assert!(
            pdfsig
                .signatures
                .iter()
                .all(|s| s.signature_valid && s.certificate_trusted),
            "pdfsig: {}",
            pdfsig.raw
        );
    }

    // A leader's RSA-2048 key, generated by kyso.
    let leader = issue_generated(&server, CertificateRole::Leader, LEADER, KeyType::Rsa2048);
    assert_eq!(leader.key_algorithm, "RSA 2048");
    assert_eq!(leader.leader_id, LEADER);
    let (pdf, response) = sign_to(
        &server,
        dir.path(),
        "leader.pdf",
        SignerRole::Leader,
        LEADER,
    )
    .expect("sign");
    assert_eq!(
        response.summary.expect("summary").certificate_serial,
        leader.serial
    );
    let report = pyhanko_validate(&pdf, &server.root_pem()).expect("pyhanko");
    assert!(report.trusted && report.valid, "{}", report.raw);

    // The certificate names where its CRL and its issuer are published.
    let pem = dir.path().join("organisation-chain.pem");
    std::fs::write(&pem, &certificate.certificate_chain_pem).expect("write");
    let text = openssl(&[
        "x509",
        "-in",
        pem.to_str().expect("path"),
        "-noout",
        "-text",
    ]);
    assert!(
        text.contains(&format!("URI:{}/crl/issuing.crl", server.url)),
        "CRL distribution point:\n{text}"
    );
    assert!(
        text.contains(&format!("CA Issuers - URI:{}/ca/issuing.crt", server.url)),
        "authority information access:\n{text}"
    );
    let (status, issuer) = http_get(&server, "/ca/issuing.crt");
    assert_eq!(status, 200);
    let issuer_path = dir.path().join("issuing.der");
    std::fs::write(&issuer_path, issuer).expect("write");
    openssl(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        issuer_path.to_str().expect("path"),
        "-noout",
    ]);
    assert_eq!(http_get(&server, "/crl/nobody.crl").0, 404);
}

#[test]
fn after_revocation_kyso_refuses_to_sign_and_verify_says_revoked_only_for_signatures_made_after_it()
{
    if require_tool("python").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let certificate = issue_generated(
        &server,
        CertificateRole::Organisation,
        "",
        KeyType::EcdsaP256,
    );
    let (before, _) = sign_to(
        &server,
        dir.path(),
        "before.pdf",
        SignerRole::Organisation,
        "",
    )
    .expect("sign before");
    // CRL times have whole seconds: keep the revocation time clear of both.
    std::thread::sleep(Duration::from_millis(2_200));
    let revoked_at = SystemTime::now() - Duration::from_millis(1_100);
    let (after, _) = sign_to(
        &server,
        dir.path(),
        "after.pdf",
        SignerRole::Organisation,
        "",
    )
    .expect("sign after");

    // A key compromise found now, dated back to between the two signatures.
    let response = revoke(
        &server,
        &certificate.fingerprint,
        RevocationReason::KeyCompromise,
        Some(revoked_at),
    )
    .expect("revoke");
    assert!(response.newly_revoked);
    assert!(
        response.crl_number >= 2,
        "the first CRL was published at start"
    );
    let listed = response.certificate.expect("certificate");
    assert_eq!(listed.status, proto::CertificateStatus::Revoked as i32);

    let early = verify(&server, &before);
    assert_eq!(
        early.verdict,
        proto::Indication::TotalPassed as i32,
        "{early:?}"
    );
    let revocation = early.signatures[0].revocation.clone().expect("revocation");
    assert_eq!(revocation.status, "revoked_after_signing", "{early:?}");
    assert_eq!(revocation.reason, "keyCompromise", "{early:?}");

    let late = verify(&server, &after);
    assert_eq!(
        late.verdict,
        proto::Indication::TotalFailed as i32,
        "{late:?}"
    );
    assert_eq!(late.signatures[0].sub_indication, "REVOKED", "{late:?}");
    assert_eq!(
        late.signatures[0]
            .revocation
            .clone()
            .expect("revocation")
            .status,
        "revoked"
    );

    // pyHanko, fetching the CRL itself, no longer trusts the later signature.
    let report = pyhanko_validate_fetching_crls(&after, &server.root_pem()).expect("pyhanko");
    assert!(report.intact && !report.trusted, "{}", report.raw);

    // Signing with the revoked certificate is refused, clearly.
    let refused = sign_to(
        &server,
        dir.path(),
        "refused.pdf",
        SignerRole::Organisation,
        "",
    )
    .expect_err("a revoked certificate must not sign");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("revoked"),
        "{}",
        refused.message()
    );

    // Revoking again keeps the first revocation; a future time is refused.
    let again = revoke(
        &server,
        &certificate.serial,
        RevocationReason::Superseded,
        None,
    )
    .expect("revoke again");
    assert!(!again.newly_revoked);
    let future = revoke(
        &server,
        &certificate.fingerprint,
        RevocationReason::Unspecified,
        Some(SystemTime::now() + Duration::from_secs(3_600)),
    )
    .expect_err("future revocation");
    assert_eq!(future.code(), Code::InvalidArgument);
    let unknown = revoke(&server, "ABCDEF", RevocationReason::Unspecified, None)
        .expect_err("unknown certificate");
    assert_eq!(unknown.code(), Code::NotFound);

    // The CRL served over HTTP lists it and checks out in openssl.
    let (status, crl) = http_get(&server, "/crl/issuing.crl");
    assert_eq!(status, 200);
    let crl_path = dir.path().join("issuing.crl");
    std::fs::write(&crl_path, &crl).expect("write CRL");
    let text = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        crl_path.to_str().expect("path"),
        "-noout",
        "-text",
    ]);
    assert!(
        text.contains(&format!("Serial Number: {}", certificate.serial)),
        "{text}"
    );
    assert!(text.contains("Key Compromise"), "{text}");
    let issuing_ca = kyso::ca::DevPki::new(&server.data_dir).issuing_ca_certificate_path();
    let checked = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        crl_path.to_str().expect("path"),
        "-CAfile",
        issuing_ca.to_str().expect("path"),
        "-noout",
    ]);
    assert!(checked.contains("verify OK"), "{checked}");
    let fetched = ca(&server, |mut c| async move {
        c.get_crl(GetCrlRequest {
            ca: "issuing".into(),
        })
        .await
    })
    .expect("GetCrl");
    assert_eq!(fetched.crl, crl, "gRPC and HTTP serve the same CRL");

    let revoked = ca(&server, |mut c| async move {
        c.list_certificates(ListCertificatesRequest {
            status: proto::CertificateStatus::Revoked as i32,
            ..ListCertificatesRequest::default()
        })
        .await
    })
    .expect("list");
    assert_eq!(revoked.certificates.len(), 1);
    assert_eq!(revoked.certificates[0].fingerprint, certificate.fingerprint);
}

#[test]
fn a_pkcs10_request_and_a_time_stamping_certificate_get_their_profiles() {
    let Some(_) = require_tool("openssl") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let key = dir.path().join("leader.key.pem");
    let csr = dir.path().join("leader.csr");
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=Someone Else/O=Not this unit",
        "-keyout",
        key.to_str().expect("path"),
        "-outform",
        "DER",
        "-out",
        csr.to_str().expect("path"),
    ]);
    let certificate = issue(
        &server,
        IssueCertificateRequest {
            unit_code: UNIT.to_string(),
            role: CertificateRole::Leader as i32,
            leader_id: LEADER.to_string(),
            key: Some(issue_certificate_request::Key::CertificationRequest(
                std::fs::read(&csr).expect("read CSR"),
            )),
        },
    )
    .expect("issue from request");
    assert_eq!(certificate.custody, "external");
    assert!(
        certificate.subject.contains("Trần Quốc Bảo") && !certificate.subject.contains("Someone"),
        "the subject comes from the register, not the request: {}",
        certificate.subject
    );
    let pem = dir.path().join("leader.pem");
    std::fs::write(&pem, &certificate.certificate_chain_pem).expect("write");
    let certified_key = openssl(&[
        "x509",
        "-in",
        pem.to_str().expect("path"),
        "-noout",
        "-pubkey",
    ]);
    let request_key = openssl(&["pkey", "-in", key.to_str().expect("path"), "-pubout"]);
    assert_eq!(certified_key, request_key, "the request's key is certified");

    // A damaged request is refused as invalid.
    let mut damaged = std::fs::read(&csr).expect("read CSR");
    let last = damaged.len() - 3;
    damaged[last] ^= 0x55;
    let refused = issue(
        &server,
        IssueCertificateRequest {
            unit_code: UNIT.to_string(),
            role: CertificateRole::Organisation as i32,
            key: Some(issue_certificate_request::Key::CertificationRequest(
                damaged,
            )),
            ..IssueCertificateRequest::default()
        },
    )
    .expect_err("damaged request");
    assert_eq!(
        refused.code(),
        Code::InvalidArgument,
        "{}",
        refused.message()
    );

    let tsa = issue_generated(
        &server,
        CertificateRole::TimeStamping,
        "",
        KeyType::EcdsaP256,
    );
    let pem = dir.path().join("tsa.pem");
    std::fs::write(&pem, &tsa.certificate_chain_pem).expect("write");
    let text = openssl(&[
        "x509",
        "-in",
        pem.to_str().expect("path"),
        "-noout",
        "-text",
    ]);
    let eku = text
        .split("X509v3 Extended Key Usage: critical")
        .nth(1)
        .unwrap_or_else(|| panic!("no critical extended key usage:\n{text}"));
    let usages = eku.lines().nth(1).expect("usages").trim();
    assert_eq!(usages, "Time Stamping", "{text}");

    // Bad requests: unknown unit, leader without id, no key.
    let unknown = issue(
        &server,
        IssueCertificateRequest {
            unit_code: "999.99.99.H99".to_string(),
            role: CertificateRole::Organisation as i32,
            key: Some(issue_certificate_request::Key::Generate(
                KeyType::EcdsaP256 as i32,
            )),
            ..IssueCertificateRequest::default()
        },
    )
    .expect_err("unknown unit");
    assert_eq!(unknown.code(), Code::NotFound);
    let no_leader = issue(
        &server,
        IssueCertificateRequest {
            unit_code: UNIT.to_string(),
            role: CertificateRole::Leader as i32,
            key: Some(issue_certificate_request::Key::Generate(
                KeyType::EcdsaP256 as i32,
            )),
            ..IssueCertificateRequest::default()
        },
    )
    .expect_err("leader without id");
    assert_eq!(no_leader.code(), Code::InvalidArgument);
}

/// An outside CA (standing in for the Government Cipher Committee's) with a
/// leader certificate and key written as PEM files in `dir`.
struct OutsideIdentity {
    anchors: PathBuf,
    certificate: PathBuf,
    chain: PathBuf,
    key: PathBuf,
}

fn outside_identity(dir: &Path) -> OutsideIdentity {
    let now = SystemTime::now();
    let registry = kyso::units::demo_province();
    let unit = registry
        .find(&UnitCode::parse(UNIT).expect("code"))
        .expect("unit");
    let leader = unit
        .leader(&LeaderId::parse(LEADER).expect("leader"))
        .expect("leader");
    let root =
        CertificateAuthority::new_root("Outside Root CA", "Ban Cơ yếu (test)", now).expect("root");
    let issuing = root
        .issue_intermediate("Outside Issuing CA", "Ban Cơ yếu (test)", now)
        .expect("issuing");
    let certified = issuing
        .issue_personal(
            unit,
            leader,
            LeafKey::Generate(kyso::ca::KeyAlgorithm::EcdsaP256),
            now,
        )
        .expect("leader certificate");
    let anchors = dir.join("anchors");
    std::fs::create_dir_all(&anchors).expect("anchors dir");
    std::fs::write(anchors.join("outside-root.pem"), root.certificate_pem()).expect("write");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    OutsideIdentity {
        anchors,
        certificate: write("outside-leader.pem", &certified.certificate_pem),
        chain: write("outside-chain.pem", issuing.certificate_pem()),
        key: write("outside-leader.key.pem", &certified.private_key_pem()),
    }
}

fn import(
    server: &KysoServer,
    material: import_certificate_request::Material,
) -> Result<Certificate, tonic::Status> {
    let request = ImportCertificateRequest {
        unit_code: UNIT.to_string(),
        role: CertificateRole::Leader as i32,
        leader_id: LEADER.to_string(),
        material: Some(material),
    };
    ca(server, |mut c| async move {
        c.import_certificate(request).await
    })
    .map(|response| response.certificate.expect("certificate"))
}

#[test]
fn a_pkcs12_from_openssl_imports_and_signs_while_a_wrong_password_or_key_is_refused() {
    if require_tool("openssl").is_none() || require_tool("python").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = outside_identity(dir.path());
    let p12 = dir.path().join("leader.p12");
    openssl(&[
        "pkcs12",
        "-export",
        "-inkey",
        outside.key.to_str().expect("path"),
        "-in",
        outside.certificate.to_str().expect("path"),
        "-certfile",
        outside.chain.to_str().expect("path"),
        "-passout",
        "pass:mật-khẩu",
        "-out",
        p12.to_str().expect("path"),
    ]);
    let server = KysoServer::start(
        &dir.path().join("data"),
        &["--trust-dir", outside.anchors.to_str().expect("path")],
    );
    let pkcs12 = |password: &str| {
        import_certificate_request::Material::Pkcs12(proto::Pkcs12 {
            file: std::fs::read(&p12).expect("read p12"),
            password: password.to_string(),
        })
    };

    let wrong = import(&server, pkcs12("wrong")).expect_err("wrong password");
    assert_eq!(wrong.code(), Code::InvalidArgument);
    assert!(wrong.message().contains("password"), "{}", wrong.message());

    let other_key = dir.path().join("other.key.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        other_key.to_str().expect("path"),
    ]);
    let certificates = format!(
        "{}{}",
        std::fs::read_to_string(&outside.certificate).expect("read"),
        std::fs::read_to_string(&outside.chain).expect("read")
    );
    let mismatched = import(
        &server,
        import_certificate_request::Material::Pem(proto::PemKeyPair {
            certificates: certificates.clone(),
            private_key: std::fs::read_to_string(&other_key).expect("read"),
        }),
    )
    .expect_err("mismatched key");
    assert_eq!(mismatched.code(), Code::InvalidArgument);
    assert!(
        mismatched.message().contains("match"),
        "{}",
        mismatched.message()
    );

    let imported = import(&server, pkcs12("mật-khẩu")).expect("import");
    assert_eq!(imported.origin, "imported");
    assert_eq!(imported.custody, "kyso");
    let (pdf, response) = sign_to(
        &server,
        dir.path(),
        "imported.pdf",
        SignerRole::Leader,
        LEADER,
    )
    .expect("sign");
    assert_eq!(
        response.summary.expect("summary").certificate_serial,
        imported.serial
    );
    let root = outside.anchors.join("outside-root.pem");
    let report = pyhanko_validate(&pdf, &root).expect("pyhanko");
    assert!(report.trusted && report.valid, "{}", report.raw);

    // Without the outside root configured, the same file is refused.
    let untrusting = KysoServer::start(&dir.path().join("data-2"), &[]);
    let untrusted = import(&untrusting, pkcs12("mật-khẩu")).expect_err("no anchor");
    assert_eq!(untrusted.code(), Code::InvalidArgument);
}

#[test]
fn a_key_generated_on_a_configured_pkcs11_token_signs_through_the_server() {
    softhsm::with_fresh_tokens(&["kyso-ca"], |hsm| {
        if require_tool("python").is_none() {
            return;
        }
        let pin_file = hsm.dir.join("pin");
        std::fs::write(&pin_file, format!("{}\n", softhsm::USER_PIN)).expect("write pin");
        let config = hsm.dir.join("kyso.toml");
        std::fs::write(
            &config,
            format!(
                "[[tokens]]\nname = \"hsm\"\nmodule = \"{}\"\ntoken_label = \"kyso-ca\"\npin_file = \"{}\"\n",
                hsm.module.display(),
                pin_file.display()
            ),
        )
        .expect("write config");
        let data = hsm.dir.join("data");
        let server = KysoServer::start(&data, &["--config", config.to_str().expect("path")]);
        let token_key = |label: &str, key_type: KeyType| IssueCertificateRequest {
            unit_code: UNIT.to_string(),
            role: CertificateRole::Organisation as i32,
            leader_id: String::new(),
            key: Some(issue_certificate_request::Key::Token(proto::TokenKey {
                token: "hsm".to_string(),
                key_label: label.to_string(),
                key_type: key_type as i32,
            })),
        };
        let certificate =
            issue(&server, token_key("seal-2026", KeyType::EcdsaP256)).expect("issue on the token");
        assert_eq!(certificate.custody, "token:hsm/seal-2026");
        let (pdf, response) = sign_to(&server, &hsm.dir, "hsm.pdf", SignerRole::Organisation, "")
            .expect("sign with the token key");
        assert_eq!(
            response.summary.expect("summary").certificate_serial,
            certificate.serial
        );
        let report = pyhanko_validate(&pdf, &server.root_pem()).expect("pyhanko");
        assert!(report.trusted && report.valid, "{}", report.raw);

        let taken =
            issue(&server, token_key("seal-2026", KeyType::EcdsaP256)).expect_err("label taken");
        assert_eq!(taken.code(), Code::AlreadyExists, "{}", taken.message());
        let unknown = issue(
            &server,
            IssueCertificateRequest {
                key: Some(issue_certificate_request::Key::Token(proto::TokenKey {
                    token: "nowhere".to_string(),
                    key_label: "x".to_string(),
                    key_type: KeyType::EcdsaP256 as i32,
                })),
                ..token_key("", KeyType::EcdsaP256)
            },
        )
        .expect_err("unknown token");
        assert_eq!(unknown.code(), Code::NotFound);

        // A restarted server finds the token key through the register.
        drop(server);
        let server = KysoServer::start(&data, &["--config", config.to_str().expect("path")]);
        let (_, response) = sign_to(&server, &hsm.dir, "again.pdf", SignerRole::Organisation, "")
            .expect("sign after restart");
        assert_eq!(
            response.summary.expect("summary").certificate_serial,
            certificate.serial
        );
    });
}

#[test]
fn a_unit_added_while_serving_signs_once_kyso_issues_it_a_certificate() {
    use kyso::api::proto::{AddUnitsRequest, Unit, UnitGroup, UnitLevel};
    let dir = tempfile::tempdir().expect("tempdir");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let code = "000.00.07.H23";
    server
        .records(|mut client| async move {
            client
                .add_units(AddUnitsRequest {
                    units: vec![Unit {
                        code: code.to_string(),
                        name: "Sở Tư pháp tỉnh Hòa Bình".to_string(),
                        level: UnitLevel::Province as i32,
                        group: UnitGroup::Department as i32,
                        ..Unit::default()
                    }],
                    update_existing: false,
                })
                .await
        })
        .expect("add unit");
    let mut request = request(
        kyso::sign::sample::one_page_pdf(),
        code,
        SignerRole::Organisation,
        "",
    );
    request.document_id = "new-unit-1".to_string();
    let before = server.sign(request.clone()).expect_err("no key yet");
    assert_eq!(before.code(), Code::NotFound, "{}", before.message());

    let certificate = issue(
        &server,
        IssueCertificateRequest {
            unit_code: code.to_string(),
            role: CertificateRole::Organisation as i32,
            leader_id: String::new(),
            key: Some(issue_certificate_request::Key::Generate(
                KeyType::EcdsaP256 as i32,
            )),
        },
    )
    .expect("issue for the new unit");
    assert!(
        certificate.subject.contains("Sở Tư pháp"),
        "{}",
        certificate.subject
    );
    let signed = server.sign(request).expect("the new unit signs");
    assert_eq!(
        signed.summary.expect("summary").certificate_serial,
        certificate.serial
    );
}
