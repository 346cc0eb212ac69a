//! `kyso verify` on documents made for the purpose: signed by pyHanko with
//! every key algorithm kyso supports, signed by kyso itself, signed twice,
//! certified, form-filled, and manipulated after signing (a flipped byte, a
//! changed page, trailing garbage, a page covered by a new field) or judged
//! against the wrong anchor, after expiry, or with a CRL.
//!
//! The PKI comes from the `openssl` command in a temporary directory (a root
//! CA that is also an `openssl ca` database, so it can revoke and issue
//! CRLs); the documents from pyHanko through `support/pyhanko_cases.py`,
//! which runs a batch of jobs in one Python process.

mod support;

use kyso::api::proto::SignerRole;
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};
use support::server::{KysoServer, LEADER, UNIT, request};
use support::{InputKind, make_base_pdf, make_input, require_tool};

// ---------------------------------------------------------------------------
// Running kyso

fn kyso(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(args)
        .output()
        .expect("run kyso")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// One `kyso verify --json` run: its exit code and report.
struct Verified {
    code: Option<i32>,
    report: Value,
}

impl Verified {
    fn verdict(&self) -> &str {
        self.report["verdict"].as_str().unwrap_or("")
    }

    fn signatures(&self) -> &[Value] {
        self.report["signatures"]
            .as_array()
            .map_or(&[], Vec::as_slice)
    }

    fn signature(&self, index: usize) -> &Value {
        self.signatures()
            .get(index)
            .unwrap_or_else(|| panic!("no signature #{index} in {:#}", self.report))
    }
}

/// `kyso verify PDF --trust ROOT --json EXTRA…`.
fn verify(pdf: &Path, trust: &Path, extra: &[&str]) -> Verified {
    let mut args = vec!["verify", path(pdf), "--trust", path(trust), "--json"];
    args.extend_from_slice(extra);
    let output = kyso(&args);
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "kyso verify {} printed no JSON ({e}):\n{}",
            pdf.display(),
            text(&output)
        )
    });
    Verified {
        code: output.status.code(),
        report,
    }
}

/// Asserts the document and each of its signatures passed: trusted,
/// intact, valid, and the last one covering the whole file.
fn assert_passed(verified: &Verified, signatures: usize) {
    let report = &verified.report;
    assert_eq!(verified.verdict(), "TOTAL_PASSED", "{report:#}");
    assert_eq!(verified.code, Some(0), "{report:#}");
    assert_eq!(verified.signatures().len(), signatures, "{report:#}");
    for signature in verified.signatures() {
        assert_eq!(signature["indication"], "TOTAL_PASSED", "{report:#}");
        for fact in ["byte_range_ok", "intact", "valid", "trusted"] {
            assert_eq!(signature[fact], true, "{fact} in {report:#}");
        }
        assert_eq!(signature["errors"], json!([]), "{report:#}");
    }
    let last = &verified.signatures()[signatures - 1];
    assert_eq!(last["covers_whole_file"], true, "{report:#}");
    assert_eq!(last["modifications"], "none", "{report:#}");
}

// ---------------------------------------------------------------------------
// A throwaway PKI made with openssl

/// The key of a test signer.
#[derive(Clone, Copy, Debug)]
enum KeyKind {
    Rsa2048,
    P256,
    P384,
}

impl KeyKind {
    fn openssl_args(self) -> &'static [&'static str] {
        match self {
            KeyKind::Rsa2048 => &["-newkey", "rsa:2048"],
            KeyKind::P256 => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            KeyKind::P384 => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
        }
    }
}

/// A leaf's key and certificate (PEM).
struct Signer {
    key: PathBuf,
    cert: PathBuf,
}

/// A self-signed root CA (P-256) in `dir` that issues leaves valid for 365
/// days and keeps an `openssl ca` database for revocation and CRLs.
struct Pki {
    dir: PathBuf,
    openssl: PathBuf,
    root: PathBuf,
    root_key: PathBuf,
}

impl Pki {
    /// A new root "CN=`name`" (basicConstraints critical CA:TRUE, keyUsage
    /// critical keyCertSign and cRLSign, ten years).
    fn new(dir: &Path, name: &str) -> Option<Pki> {
        let openssl = require_tool("openssl")?;
        fs::create_dir_all(dir).expect("PKI directory");
        let pki = Pki {
            dir: dir.to_path_buf(),
            openssl,
            root: dir.join("root.pem"),
            root_key: dir.join("root.key"),
        };
        pki.openssl(
            Command::new(&pki.openssl)
                .args(["req", "-x509", "-days", "3650", "-nodes"])
                .args(["-subj", &format!("/CN={name}")])
                .args(KeyKind::P256.openssl_args())
                .args(["-addext", "basicConstraints=critical,CA:TRUE"])
                .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
                .arg("-keyout")
                .arg(&pki.root_key)
                .arg("-out")
                .arg(&pki.root),
        );
        fs::write(dir.join("index.txt"), "").expect("index.txt");
        fs::write(dir.join("crlnumber"), "1000\n").expect("crlnumber");
        fs::write(
            dir.join("ca.cnf"),
            format!(
                "[ca]\ndefault_ca = test_ca\n\
                 [test_ca]\n\
                 database = {dir}/index.txt\n\
                 crlnumber = {dir}/crlnumber\n\
                 certificate = {dir}/root.pem\n\
                 private_key = {dir}/root.key\n\
                 default_md = sha256\n\
                 default_crl_days = 30\n\
                 crl_extensions = crl_extensions\n\
                 [crl_extensions]\n\
                 authorityKeyIdentifier = keyid:always\n",
                dir = dir.display()
            ),
        )
        .expect("ca.cnf");
        fs::write(
            dir.join("leaf.ext"),
            "basicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature, nonRepudiation\n\
             subjectKeyIdentifier = hash\n\
             authorityKeyIdentifier = keyid\n",
        )
        .expect("leaf.ext");
        Some(pki)
    }

    /// Issues a leaf for a new key of `kind`; `subject` is an openssl
    /// `-subj` string and may be UTF-8.
    fn issue(&self, name: &str, kind: KeyKind, subject: &str) -> Signer {
        let signer = Signer {
            key: self.dir.join(format!("{name}.key")),
            cert: self.dir.join(format!("{name}.pem")),
        };
        let csr = self.dir.join(format!("{name}.csr"));
        self.openssl(
            Command::new(&self.openssl)
                .args(["req", "-new", "-nodes", "-utf8", "-subj", subject])
                .args(kind.openssl_args())
                .arg("-keyout")
                .arg(&signer.key)
                .arg("-out")
                .arg(&csr),
        );
        self.openssl(
            Command::new(&self.openssl)
                .args(["x509", "-req", "-days", "365", "-CAcreateserial"])
                .arg("-in")
                .arg(&csr)
                .arg("-CA")
                .arg(&self.root)
                .arg("-CAkey")
                .arg(&self.root_key)
                .arg("-extfile")
                .arg(self.dir.join("leaf.ext"))
                .arg("-out")
                .arg(&signer.cert),
        );
        signer
    }

    /// Marks `signer` revoked (keyCompromise) in the CA database.
    fn revoke(&self, signer: &Signer) {
        self.openssl(
            Command::new(&self.openssl)
                .arg("ca")
                .arg("-config")
                .arg(self.dir.join("ca.cnf"))
                .arg("-revoke")
                .arg(&signer.cert)
                .args(["-crl_reason", "keyCompromise"]),
        );
    }

    /// A CRL (numbered, 30 days) listing what the database holds as revoked.
    fn crl(&self, name: &str) -> PathBuf {
        let out = self.dir.join(name);
        self.openssl(
            Command::new(&self.openssl)
                .arg("ca")
                .arg("-config")
                .arg(self.dir.join("ca.cnf"))
                .arg("-gencrl")
                .arg("-out")
                .arg(&out),
        );
        out
    }

    fn openssl(&self, command: &mut Command) {
        let output = command.output().expect("run openssl");
        assert!(
            output.status.success(),
            "{command:?} failed:\n{}",
            text(&output)
        );
    }
}

// ---------------------------------------------------------------------------
// Documents made with pyHanko

/// A `sign` job of `pyhanko_cases.py`: `signer` signs `src` into `dst` in
/// field `field`, embedding `root`. Other options are set on the value.
fn sign_job(src: &Path, dst: &Path, signer: &Signer, root: &Path, field: &str) -> Value {
    json!({
        "op": "sign",
        "src": src,
        "dst": dst,
        "key": signer.key,
        "cert": signer.cert,
        "chain": [root],
        "field": field,
    })
}

/// Runs `jobs` in one `pyhanko_cases.py` process; `None` without Python.
fn pyhanko_cases(dir: &Path, jobs: &[Value]) -> Option<()> {
    let python = require_tool("python")?;
    let file = dir.join("pyhanko-jobs.json");
    fs::write(&file, serde_json::to_vec_pretty(jobs).expect("JSON")).expect("write jobs");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pyhanko_cases.py");
    let output = Command::new(python)
        .arg(script)
        .arg(&file)
        .output()
        .expect("run pyhanko_cases.py");
    assert!(
        output.status.success(),
        "pyhanko_cases.py failed:\n{}",
        text(&output)
    );
    Some(())
}

/// A temporary directory with a PKI (root "CN=Test Root" and a P-256
/// signer "CN=Test Signer, O=kyso tests") and a base document to sign.
struct Case {
    dir: tempfile::TempDir,
    pki: Pki,
    signer: Signer,
    base: PathBuf,
}

impl Case {
    /// `None` when openssl or Python is missing outside CI.
    fn new(pages: usize) -> Option<Case> {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::new(&dir.path().join("pki"), "Test Root")?;
        let signer = pki.issue("signer", KeyKind::P256, "/O=kyso tests/CN=Test Signer");
        let base = make_base_pdf(dir.path(), pages)?;
        Some(Case {
            dir,
            pki,
            signer,
            base,
        })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A job signing `src` into `dst` with the case's signer.
    fn sign_job(&self, src: &Path, dst: &Path, field: &str) -> Value {
        sign_job(src, dst, &self.signer, &self.pki.root, field)
    }

    fn run(&self, jobs: &[Value]) -> Option<()> {
        pyhanko_cases(self.dir.path(), jobs)
    }

    /// The base document signed once by the case's signer, as `signed.pdf`,
    /// followed by `then` in the same Python run.
    fn signed_then(&self, then: &[Value]) -> Option<PathBuf> {
        let signed = self.file("signed.pdf");
        let mut jobs = vec![self.sign_job(&self.base, &signed, "Signature1")];
        jobs.extend_from_slice(then);
        self.run(&jobs)?;
        Some(signed)
    }
}

// ---------------------------------------------------------------------------
// Signed by pyHanko

#[test]
fn signatures_by_pyhanko_with_each_key_algorithm_pass_and_are_trusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(pki) = Pki::new(&dir.path().join("pki"), "Test Root") else {
        return;
    };
    let Some(base) = make_base_pdf(dir.path(), 2) else {
        return;
    };
    let rsa = pki.issue("rsa", KeyKind::Rsa2048, "/CN=RSA Signer");
    let p256 = pki.issue("p256", KeyKind::P256, "/CN=P-256 Signer");
    let p384 = pki.issue("p384", KeyKind::P384, "/CN=P-384 Signer");
    let out = |name: &str| dir.path().join(format!("{name}.pdf"));
    let mut pss = sign_job(&base, &out("rsa-pss"), &rsa, &pki.root, "Signature1");
    // Salt as long as the hash: RFC 4056 §3's recommendation, and what kyso
    // itself writes.
    pss["pss_salt"] = json!(32);
    let mut p384_job = sign_job(&base, &out("p384"), &p384, &pki.root, "Signature1");
    p384_job["md"] = json!("sha384");
    let jobs = [
        sign_job(&base, &out("rsa-pkcs1"), &rsa, &pki.root, "Signature1"),
        pss,
        sign_job(&base, &out("p256"), &p256, &pki.root, "Signature1"),
        p384_job,
    ];
    if pyhanko_cases(dir.path(), &jobs).is_none() {
        return;
    }
    for (name, common_name) in [
        ("rsa-pkcs1", "RSA Signer"),
        ("rsa-pss", "RSA Signer"),
        ("p256", "P-256 Signer"),
        ("p384", "P-384 Signer"),
    ] {
        let verified = verify(&out(name), &pki.root, &[]);
        assert_passed(&verified, 1);
        let signature = verified.signature(0);
        assert_eq!(signature["signer"]["common_name"], common_name, "{name}");
        assert_eq!(signature["trust_anchor"], "CN=Test Root", "{name}");
        assert_eq!(signature["revision"], 2, "{name}");
        assert_eq!(signature["revocation"]["status"], "not_checked", "{name}");
    }
}

/// pyHanko's `prefer_pss` uses the longest salt the key allows: 222 bytes
/// for a 2048-bit key with SHA-256. The RSASSA-PSS-params in the
/// SignerInfo state that length (RFC 4055 §3.1), and RFC 4056 §3 only
/// recommends salt = hash length; a longer salt is no weaker. kyso verifies
/// salt = hash length only (ring's PSS verifiers) and reports these
/// signatures INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE.
#[test]
fn an_rsa_pss_signature_with_pyhankos_default_maximum_salt_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(pki) = Pki::new(&dir.path().join("pki"), "Test Root") else {
        return;
    };
    let Some(base) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let rsa = pki.issue("rsa", KeyKind::Rsa2048, "/CN=RSA Signer");
    let out = dir.path().join("rsa-pss-max-salt.pdf");
    let mut job = sign_job(&base, &out, &rsa, &pki.root, "Signature1");
    job["pss"] = json!(true);
    if pyhanko_cases(dir.path(), &[job]).is_none() {
        return;
    }
    assert_passed(&verify(&out, &pki.root, &[]), 1);
}

#[test]
fn two_sequential_signatures_both_pass_and_the_first_is_followed_only_by_ltv_changes() {
    let Some(case) = Case::new(2) else {
        return;
    };
    let second = case.pki.issue("second", KeyKind::P384, "/CN=Second Signer");
    let twice = case.file("twice.pdf");
    let mut job = sign_job(
        &case.file("signed.pdf"),
        &twice,
        &second,
        &case.pki.root,
        "Signature2",
    );
    job["md"] = json!("sha384");
    if case.signed_then(&[job]).is_none() {
        return;
    }
    let verified = verify(&twice, &case.pki.root, &[]);
    assert_passed(&verified, 2);
    let (first, second) = (verified.signature(0), verified.signature(1));
    let report = &verified.report;
    assert_eq!(first["field"], "Signature1", "{report:#}");
    assert_eq!(first["modifications"], "ltv", "{report:#}");
    assert_eq!(first["covers_whole_file"], false, "{report:#}");
    assert_eq!(first["revision"], 2, "{report:#}");
    assert_eq!(second["field"], "Signature2", "{report:#}");
    assert_eq!(second["revision"], 3, "{report:#}");
}

#[test]
fn a_certification_signature_followed_by_an_approval_signature_passes() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let certified = case.file("certified.pdf");
    let approved = case.file("approved.pdf");
    let approver = case.pki.issue("approver", KeyKind::P256, "/CN=Approver");
    let mut certify = case.sign_job(&case.base, &certified, "Certification");
    certify["certify"] = json!(true);
    certify["docmdp"] = json!(2); // form filling and signing allowed (ISO 32000-1 12.8.2.2)
    let approve = sign_job(&certified, &approved, &approver, &case.pki.root, "Approval");
    if case.run(&[certify, approve]).is_none() {
        return;
    }
    assert_passed(&verify(&certified, &case.pki.root, &[]), 1);
    let verified = verify(&approved, &case.pki.root, &[]);
    assert_passed(&verified, 2);
    assert_eq!(verified.signature(0)["field"], "Certification");
    assert_eq!(
        verified.signature(0)["modifications"],
        "ltv",
        "{:#}",
        verified.report
    );
    assert_eq!(verified.signature(1)["field"], "Approval");
}

#[test]
fn a_signature_after_a_no_changes_certification_does_not_pass() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let certified = case.file("certified-p1.pdf");
    let approved = case.file("approved-p1.pdf");
    let approver = case.pki.issue("approver-p1", KeyKind::P256, "/CN=Approver");
    let mut certify = case.sign_job(&case.base, &certified, "Certification");
    certify["certify"] = json!(true);
    certify["docmdp"] = json!(1); // no changes permitted (ISO 32000-1 12.8.2.2)
    let mut approve = sign_job(&certified, &approved, &approver, &case.pki.root, "Approval");
    approve["dangerous_ignore_certification"] = json!(true);
    if case.run(&[certify, approve]).is_none() {
        return;
    }
    assert_passed(&verify(&certified, &case.pki.root, &[]), 1);
    let verified = verify(&approved, &case.pki.root, &[]);
    let report = &verified.report;
    assert_eq!(
        verified.signature(0)["modifications"],
        "other",
        "{report:#}"
    );
    assert_ne!(verified.verdict(), "TOTAL_PASSED", "{report:#}");
    assert_eq!(verified.code, Some(1));
}

#[test]
fn a_form_filled_after_signing_fails_by_default_and_passes_when_form_filling_is_permitted() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let Some(form) = make_input(InputKind::AcroFormTextField, case.dir.path()) else {
        return;
    };
    let signed = case.file("form-signed.pdf");
    let filled = case.file("form-filled.pdf");
    let jobs = [
        case.sign_job(&form, &signed, "Signature1"),
        json!({"op": "fill", "src": signed, "dst": filled, "field": "ho_ten", "value": "Tran Thi B"}),
    ];
    if case.run(&jobs).is_none() {
        return;
    }
    assert_passed(&verify(&signed, &case.pki.root, &[]), 1);

    let strict = verify(&filled, &case.pki.root, &[]);
    let signature = strict.signature(0);
    assert_eq!(
        signature["modifications"], "form_filling",
        "{:#}",
        strict.report
    );
    // The signature itself is sound; the change after it is what fails.
    for fact in ["intact", "valid", "trusted"] {
        assert_eq!(signature[fact], true, "{fact}: {:#}", strict.report);
    }
    assert_eq!(signature["covers_whole_file"], false);
    assert_ne!(strict.verdict(), "TOTAL_PASSED", "{:#}", strict.report);
    assert_eq!(strict.code, Some(1), "{:#}", strict.report);

    let permissive = verify(&filled, &case.pki.root, &["--permit-form-filling"]);
    assert_eq!(
        permissive.verdict(),
        "TOTAL_PASSED",
        "{:#}",
        permissive.report
    );
    assert_eq!(permissive.code, Some(0));
    // Permitting annotations does not permit form filling.
    let annotations = verify(&filled, &case.pki.root, &["--permit-annotations"]);
    assert_ne!(
        annotations.verdict(),
        "TOTAL_PASSED",
        "{:#}",
        annotations.report
    );
}

// ---------------------------------------------------------------------------
// Signed by kyso

#[test]
fn documents_signed_offline_by_kyso_with_each_key_algorithm_pass() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let rsa = case.pki.issue("rsa", KeyKind::Rsa2048, "/CN=RSA Signer");
    let p384 = case.pki.issue("p384", KeyKind::P384, "/CN=P-384 Signer");
    for (name, signer, extra) in [
        ("rsa-pkcs1", &rsa, &[][..]),
        ("rsa-pss", &rsa, &["--rsa-pss"][..]),
        ("p256", &case.signer, &[][..]),
        ("p384", &p384, &[][..]),
    ] {
        let out = case.file(&format!("kyso-{name}.pdf"));
        let mut args = vec![
            "sign",
            path(&case.base),
            "-o",
            path(&out),
            "--key",
            path(&signer.key),
            "--cert",
            path(&signer.cert),
        ];
        args.extend_from_slice(extra);
        let signed = kyso(&args);
        assert!(signed.status.success(), "{name}: {}", text(&signed));
        assert_passed(&verify(&out, &case.pki.root, &[]), 1);
    }
}

#[test]
fn a_leader_then_organisation_document_signed_by_the_kyso_server_passes_both_signatures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 2) else {
        return;
    };
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let pdf = fs::read(&input).expect("read input");
    let leader = server
        .sign(request(pdf, UNIT, SignerRole::Leader, LEADER))
        .expect("leader signs");
    let issued = server
        .sign(request(
            leader.pdf.clone(),
            UNIT,
            SignerRole::Organisation,
            "",
        ))
        .expect("organisation signs");
    let leader_pdf = dir.path().join("leader.pdf");
    let issued_pdf = dir.path().join("issued.pdf");
    fs::write(&leader_pdf, &leader.pdf).expect("write");
    fs::write(&issued_pdf, &issued.pdf).expect("write");
    let root = server.root_pem();

    assert_passed(&verify(&leader_pdf, &root, &[]), 1);
    let verified = verify(&issued_pdf, &root, &[]);
    assert_passed(&verified, 2);
    let report = &verified.report;
    assert_eq!(verified.signature(0)["modifications"], "ltv", "{report:#}");
    // The leader signs with a personal certificate, the unit with its own.
    assert_ne!(
        verified.signature(0)["signer"]["subject"],
        verified.signature(1)["signer"]["subject"],
        "{report:#}"
    );
    assert_eq!(
        verified.signature(0)["trust_anchor"],
        verified.signature(1)["trust_anchor"],
        "{report:#}"
    );
}

// ---------------------------------------------------------------------------
// Manipulated after signing

#[test]
fn a_byte_flipped_inside_the_signed_range_is_a_hash_failure() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let Some(signed) = case.signed_then(&[]) else {
        return;
    };
    let mut bytes = fs::read(&signed).expect("read");
    let original_len = fs::metadata(&case.base).expect("base").len() as usize;
    // The Info dictionary's /Producer of the base document: inside the
    // first byte range, and harmless to parsing, so only the digest differs.
    let at = bytes
        .windows(17)
        .position(|w| w == b"kyso test fixture")
        .expect("the base document's /Producer");
    assert!(at < original_len);
    bytes[at] ^= 0x20; // 'k' -> 'K'
    let tampered = case.file("tampered.pdf");
    fs::write(&tampered, &bytes).expect("write");

    let verified = verify(&tampered, &case.pki.root, &[]);
    let signature = verified.signature(0);
    let report = &verified.report;
    assert_eq!(verified.verdict(), "TOTAL_FAILED", "{report:#}");
    assert_eq!(verified.code, Some(1));
    assert_eq!(signature["indication"], "TOTAL_FAILED", "{report:#}");
    assert_eq!(signature["sub_indication"], "HASH_FAILURE", "{report:#}");
    assert_eq!(signature["intact"], false, "{report:#}");
    assert_eq!(signature["byte_range_ok"], true, "{report:#}");
}

#[test]
fn an_appended_revision_that_changes_page_content_fails_the_document() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let changed = case.file("changed.pdf");
    let change = json!({"op": "change_content", "src": case.file("signed.pdf"), "dst": changed, "text": "PAID IN FULL"});
    if case.signed_then(&[change]).is_none() {
        return;
    }
    let verified = verify(&changed, &case.pki.root, &[]);
    let signature = verified.signature(0);
    let report = &verified.report;
    assert_eq!(signature["modifications"], "other", "{report:#}");
    assert_eq!(signature["covers_whole_file"], false, "{report:#}");
    assert_eq!(signature["intact"], true, "{report:#}");
    assert_eq!(verified.verdict(), "TOTAL_FAILED", "{report:#}");
    assert_eq!(verified.code, Some(1));
    // No permission makes a content change acceptable.
    let lenient = verify(
        &changed,
        &case.pki.root,
        &["--permit-form-filling", "--permit-annotations"],
    );
    assert_eq!(lenient.verdict(), "TOTAL_FAILED", "{:#}", lenient.report);
}

#[test]
fn garbage_after_the_last_eof_marker_is_a_change_that_does_not_pass() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let Some(signed) = case.signed_then(&[]) else {
        return;
    };
    let mut bytes = fs::read(&signed).expect("read");
    bytes.extend_from_slice(b"this line belongs to no revision\n");
    let trailing = case.file("trailing-garbage.pdf");
    fs::write(&trailing, &bytes).expect("write");

    let verified = verify(&trailing, &case.pki.root, &[]);
    let signature = verified.signature(0);
    let report = &verified.report;
    assert_eq!(signature["modifications"], "other", "{report:#}");
    assert_eq!(signature["covers_whole_file"], false, "{report:#}");
    assert_ne!(verified.verdict(), "TOTAL_PASSED", "{report:#}");
    assert_eq!(verified.code, Some(1));
}

/// An empty signature field added after signing, whose widget covers the
/// first page with a white box and new text, changes what the page shows
/// without touching a content stream (the "sneaky signature" attack of
/// Mainka et al., IEEE S&P 2021). pyHanko classes it FORM_FILLING; official
/// documents permit neither that nor anything but signatures and validation
/// data after a signature.
#[test]
fn an_empty_signature_field_whose_appearance_covers_the_page_does_not_pass() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let covered = case.file("covered.pdf");
    let overlay = json!({"op": "overlay_signature_field", "src": case.file("signed.pdf"), "dst": covered, "field": "Overlay", "text": "PAID IN FULL"});
    if case.signed_then(&[overlay]).is_none() {
        return;
    }
    let verified = verify(&covered, &case.pki.root, &[]);
    let report = &verified.report;
    assert_ne!(
        verified.signature(0)["modifications"],
        "ltv",
        "an unsigned field is not a signature: {report:#}"
    );
    assert_ne!(verified.verdict(), "TOTAL_PASSED", "{report:#}");
    assert_eq!(verified.code, Some(1));
}

// ---------------------------------------------------------------------------
// Trust, time and revocation

#[test]
fn a_signature_judged_against_another_root_has_no_certificate_chain() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let Some(signed) = case.signed_then(&[]) else {
        return;
    };
    let Some(other) = Pki::new(&case.file("other-pki"), "Other Root") else {
        return;
    };
    let verified = verify(&signed, &other.root, &[]);
    let signature = verified.signature(0);
    let report = &verified.report;
    assert_eq!(verified.verdict(), "INDETERMINATE", "{report:#}");
    assert_eq!(verified.code, Some(1));
    assert_eq!(signature["indication"], "INDETERMINATE", "{report:#}");
    assert_eq!(
        signature["sub_indication"], "NO_CERTIFICATE_CHAIN_FOUND",
        "{report:#}"
    );
    assert_eq!(signature["trusted"], false, "{report:#}");
    assert_eq!(signature["trust_anchor"], Value::Null, "{report:#}");
    // Integrity and the signature value do not depend on trust.
    assert_eq!(signature["intact"], true, "{report:#}");
    assert_eq!(signature["valid"], true, "{report:#}");
}

#[test]
fn a_signer_validated_after_its_certificate_expired_is_out_of_bounds() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let Some(signed) = case.signed_then(&[]) else {
        return;
    };
    // The leaf lives 365 days, the root ten years.
    let later = SystemTime::now() + Duration::from_secs(2 * 365 * 24 * 3600);
    let at = kyso::datetime::rfc3339(later);
    let verified = verify(&signed, &case.pki.root, &["--at", &at]);
    let signature = verified.signature(0);
    let report = &verified.report;
    assert_eq!(verified.verdict(), "INDETERMINATE", "{report:#}");
    assert_eq!(verified.code, Some(1));
    assert_eq!(signature["indication"], "INDETERMINATE", "{report:#}");
    assert_eq!(
        signature["sub_indication"], "OUT_OF_BOUNDS_NO_POE",
        "{report:#}"
    );
    assert_eq!(signature["trusted"], false, "{report:#}");
    assert_eq!(signature["intact"], true, "{report:#}");
    // The same file validated now passes.
    assert_passed(&verify(&signed, &case.pki.root, &[]), 1);
}

#[test]
fn crls_report_the_signer_good_until_it_is_listed_and_then_revoked() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let Some(signed) = case.signed_then(&[]) else {
        return;
    };
    let before = case.pki.crl("before-revocation.crl");
    case.pki.revoke(&case.signer);
    let after = case.pki.crl("after-revocation.crl");

    let good = verify(&signed, &case.pki.root, &["--crl", path(&before)]);
    assert_passed(&good, 1);
    assert_eq!(
        good.signature(0)["revocation"],
        json!({"status": "good"}),
        "{:#}",
        good.report
    );
    // A CRL that covers the signer satisfies hard-fail too.
    let hard = verify(
        &signed,
        &case.pki.root,
        &["--crl", path(&before), "--hard-fail-revocation"],
    );
    assert_passed(&hard, 1);

    let revoked = verify(&signed, &case.pki.root, &["--crl", path(&after)]);
    let signature = revoked.signature(0);
    let report = &revoked.report;
    assert_eq!(signature["revocation"]["status"], "revoked", "{report:#}");
    assert_eq!(
        signature["revocation"]["reason"], "keyCompromise",
        "{report:#}"
    );
    assert!(
        signature["revocation"]["at"].as_str().is_some(),
        "{report:#}"
    );
    assert_eq!(signature["indication"], "TOTAL_FAILED", "{report:#}");
    assert_eq!(signature["sub_indication"], "REVOKED", "{report:#}");
    assert_eq!(signature["trusted"], false, "{report:#}");
    assert_eq!(revoked.verdict(), "TOTAL_FAILED", "{report:#}");
    assert_eq!(revoked.code, Some(1));
}

#[test]
fn a_crl_in_the_documents_security_store_is_consulted_like_a_given_one() {
    let Some(case) = Case::new(1) else {
        return;
    };
    case.pki.revoke(&case.signer);
    let after = case.pki.crl("dss-after-revocation.crl");
    let with_dss = case.file("with-dss.pdf");
    let Some(signed) = case.signed_then(&[json!({
        "op": "add_dss",
        "src": path(&case.file("signed.pdf")),
        "dst": path(&with_dss),
        "crls": [path(&after)],
    })]) else {
        return;
    };
    assert!(signed.exists());
    let revoked = verify(&with_dss, &case.pki.root, &[]);
    let report = &revoked.report;
    let signature = revoked.signature(0);
    assert_eq!(signature["modifications"], "ltv", "{report:#}");
    assert_eq!(signature["revocation"]["status"], "revoked", "{report:#}");
    assert_eq!(signature["sub_indication"], "REVOKED", "{report:#}");
    assert_eq!(revoked.verdict(), "TOTAL_FAILED", "{report:#}");
}

#[test]
fn without_revocation_data_a_signature_soft_fails_and_hard_fail_makes_it_indeterminate() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let Some(signed) = case.signed_then(&[]) else {
        return;
    };
    let soft = verify(&signed, &case.pki.root, &[]);
    assert_passed(&soft, 1);
    assert_eq!(
        soft.signature(0)["revocation"],
        json!({"status": "not_checked"}),
        "{:#}",
        soft.report
    );

    let hard = verify(&signed, &case.pki.root, &["--hard-fail-revocation"]);
    let report = &hard.report;
    assert_eq!(hard.verdict(), "INDETERMINATE", "{report:#}");
    assert_eq!(hard.code, Some(1));
    assert_eq!(
        hard.signature(0)["indication"],
        "INDETERMINATE",
        "{report:#}"
    );
    assert_eq!(
        hard.signature(0)["revocation"]["status"],
        "not_checked",
        "{report:#}"
    );
}

// ---------------------------------------------------------------------------
// What the report says

#[test]
fn the_human_report_shows_vietnamese_names_reason_and_location_intact() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let signer = case.pki.issue(
        "nguyen-van-an",
        KeyKind::P256,
        "/O=UBND tỉnh Hòa Bình/CN=Nguyễn Văn An",
    );
    let signed = case.file("vietnamese.pdf");
    let mut job = sign_job(&case.base, &signed, &signer, &case.pki.root, "Signature1");
    job["reason"] = json!("Phê duyệt văn bản");
    job["location"] = json!("Hòa Bình");
    if case.run(&[job]).is_none() {
        return;
    }
    let output = kyso(&["verify", path(&signed), "--trust", path(&case.pki.root)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let human = String::from_utf8(output.stdout).expect("the human report is UTF-8");
    for expected in [
        "Nguyễn Văn An",
        "UBND tỉnh Hòa Bình",
        "Phê duyệt văn bản",
        "Hòa Bình",
    ] {
        assert!(human.contains(expected), "{expected:?} missing:\n{human}");
    }
    assert!(
        !human.contains('\u{FFFD}') && !human.contains("\\u") && !human.contains("\\x"),
        "escaped or replaced characters:\n{human}"
    );

    let verified = verify(&signed, &case.pki.root, &[]);
    let named = &verified.signature(0)["signer"];
    assert_eq!(
        named["common_name"], "Nguyễn Văn An",
        "{:#}",
        verified.report
    );
    assert_eq!(named["organisation"], "UBND tỉnh Hòa Bình");
}

#[test]
fn reason_and_location_are_reported_as_signed_by_pyhanko_and_by_kyso() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let by_pyhanko = case.file("pyhanko-reason.pdf");
    let mut job = case.sign_job(&case.base, &by_pyhanko, "Signature1");
    job["reason"] = json!("Ký ban hành (bản chính)");
    job["location"] = json!("Thành phố Hòa Bình");
    if case.run(&[job]).is_none() {
        return;
    }
    let by_kyso = case.file("kyso-reason.pdf");
    let signed = kyso(&[
        "sign",
        path(&case.base),
        "-o",
        path(&by_kyso),
        "--key",
        path(&case.signer.key),
        "--cert",
        path(&case.signer.cert),
        "--reason",
        "Ký ban hành (bản chính)",
        "--location",
        "Thành phố Hòa Bình",
    ]);
    assert!(signed.status.success(), "{}", text(&signed));
    for pdf in [&by_pyhanko, &by_kyso] {
        let verified = verify(pdf, &case.pki.root, &[]);
        assert_passed(&verified, 1);
        let signature = verified.signature(0);
        assert_eq!(signature["reason"], "Ký ban hành (bản chính)", "{pdf:?}");
        assert_eq!(signature["location"], "Thành phố Hòa Bình", "{pdf:?}");
    }
    // Without them, nothing is invented.
    let plain = case.file("plain.pdf");
    let signed = kyso(&[
        "sign",
        path(&case.base),
        "-o",
        path(&plain),
        "--key",
        path(&case.signer.key),
        "--cert",
        path(&case.signer.cert),
    ]);
    assert!(signed.status.success(), "{}", text(&signed));
    let verified = verify(&plain, &case.pki.root, &[]);
    assert_eq!(verified.signature(0)["reason"], Value::Null);
    assert_eq!(verified.signature(0)["location"], Value::Null);
}

#[test]
fn exit_codes_are_2_for_unreadable_input_1_for_not_passed_and_0_for_passed() {
    let Some(case) = Case::new(1) else {
        return;
    };
    let Some(signed) = case.signed_then(&[]) else {
        return;
    };
    let root = path(&case.pki.root);
    let code = |pdf: &str, json: bool| {
        let mut args = vec!["verify", pdf, "--trust", root];
        if json {
            args.push("--json");
        }
        kyso(&args).status.code()
    };
    let Some(not_a_pdf) = make_input(InputKind::NotAPdf, case.dir.path()) else {
        return;
    };
    let missing = case.file("no-such-file.pdf");
    let mut tampered = fs::read(&signed).expect("read");
    tampered.extend_from_slice(b"garbage\n");
    let not_passed = case.file("not-passed.pdf");
    fs::write(&not_passed, tampered).expect("write");
    for json in [false, true] {
        assert_eq!(code(path(&missing), json), Some(2), "missing, json {json}");
        assert_eq!(
            code(path(&not_a_pdf), json),
            Some(2),
            "not a PDF, json {json}"
        );
        // An unsigned document is not passed either.
        assert_eq!(
            code(path(&case.base), json),
            Some(1),
            "unsigned, json {json}"
        );
        assert_eq!(
            code(path(&not_passed), json),
            Some(1),
            "tampered, json {json}"
        );
        assert_eq!(code(path(&signed), json), Some(0), "signed, json {json}");
    }
    // Bad usage: a validation time that is not RFC 3339.
    let bad_time = kyso(&[
        "verify",
        path(&signed),
        "--trust",
        root,
        "--at",
        "yesterday",
    ]);
    assert_eq!(bad_time.status.code(), Some(2), "{}", text(&bad_time));
}
