//! Key custody through the real server: private keys are sealed under a
//! key-encryption key kept beside (not in) the data directory, and nothing in
//! the data directory or the records database holds a key in clear.

mod support;

use kyso::api::proto::SignerRole;
use kyso::api::proto::signing_service_client::SigningServiceClient;
use kyso::ca::DevPki;
use kyso::custody::{self, KeyEncryptionKey};
use kyso::sign::sample::one_page_pdf;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::server::{KysoServer, LEADER, UNIT, prepare_data_dir, request, runtime};

/// Signs a document as the organisation and as a leader of [`UNIT`] on the
/// server at `url`.
fn sign_twice(url: &str) {
    runtime().block_on(async {
        let mut client = SigningServiceClient::connect(url.to_string())
            .await
            .expect("connect");
        for (role, leader) in [(SignerRole::Organisation, ""), (SignerRole::Leader, LEADER)] {
            let response = client
                .sign(request(one_page_pdf(), UNIT, role, leader))
                .await
                .unwrap_or_else(|status| panic!("signing as {role:?} failed: {status}"));
            assert!(response.into_inner().pdf.starts_with(&one_page_pdf()));
        }
    });
}

/// How a `kyso serve` started by hand ended up.
enum Started {
    /// Listening at this URL.
    Listening(Child, String),
    /// Exited before listening, with its standard error.
    Exited(ExitStatus, String),
}

/// Starts `kyso serve` on `data_dir` with extra environment variables, and
/// waits until it listens or exits.
fn start_serve(data_dir: &Path, environment: &[(&str, &str)]) -> Started {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kyso"))
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "error,lopdf=off")
        .env_remove(KeyEncryptionKey::ENVIRONMENT_VARIABLE)
        .envs(environment.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kyso serve");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(address) = line.strip_prefix("kyso listening on ") {
                let _ = sender.send(address.to_string());
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(address) = receiver.recv_timeout(Duration::from_millis(100)) {
            return Started::Listening(child, format!("http://{address}"));
        }
        if let Some(status) = child.try_wait().expect("try wait") {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut stderr)
                .expect("read stderr");
            return Started::Exited(status, stderr);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("kyso serve neither listened nor exited within 120 s");
}

/// Starts `kyso serve` expecting it to refuse, and returns its standard error.
fn refused_start(data_dir: &Path, environment: &[(&str, &str)]) -> String {
    match start_serve(data_dir, environment) {
        Started::Exited(status, stderr) => {
            assert!(!status.success(), "exit status {status}");
            stderr
        }
        Started::Listening(mut child, _) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kyso serve started although it should have refused");
        }
    }
}

/// Every file below `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(next).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// The private scalar inside a P-256 PKCS#8 key as ring and rcgen write it:
/// the `ECPrivateKey` (RFC 5915) version 1, then `OCTET STRING` of 32 bytes.
fn ec_private_scalar(pkcs8: &[u8]) -> Option<&[u8]> {
    let marker = [0x02, 0x01, 0x01, 0x04, 0x20];
    let start = pkcs8.windows(marker.len()).position(|w| w == marker)? + marker.len();
    pkcs8.get(start..start + 32)
}

/// The `kyso` KEK file beside `data_dir`, opened.
fn default_kek(data_dir: &Path) -> KeyEncryptionKey {
    let path = DevPki::new(data_dir)
        .default_key_encryption_key_path()
        .expect("KEK path");
    KeyEncryptionKey::read_file(&path).expect("KEK file")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Issues the unit a P-256 organisation certificate and its leader an
/// RSA-2048 one, both keys generated and kept by kyso.
fn issue_kept_keys(url: &str) {
    use kyso::api::proto::certificate_authority_service_client::CertificateAuthorityServiceClient;
    use kyso::api::proto::issue_certificate_request::Key;
    use kyso::api::proto::{CertificateRole, IssueCertificateRequest, KeyType};
    runtime().block_on(async {
        let mut client = CertificateAuthorityServiceClient::connect(url.to_string())
            .await
            .expect("connect");
        for (role, leader, key_type) in [
            (CertificateRole::Organisation, "", KeyType::EcdsaP256),
            (CertificateRole::Leader, LEADER, KeyType::Rsa2048),
        ] {
            client
                .issue_certificate(IssueCertificateRequest {
                    unit_code: UNIT.to_string(),
                    role: role as i32,
                    leader_id: leader.to_string(),
                    key: Some(Key::Generate(key_type as i32)),
                })
                .await
                .expect("issue");
        }
    });
}

/// The keys sealed into the certificate register, opened with `kek`. The
/// database is read from a copy, so that the files the server left are
/// searched as it left them.
fn register_keys(data_dir: &Path, kek: &KeyEncryptionKey) -> Vec<Vec<u8>> {
    use kyso::records::{CertificateFilter, KeyCustody, RecordStore};
    let copy = tempfile::tempdir().expect("tempdir");
    for suffix in ["", "-wal", "-shm"] {
        let name = format!("records.db{suffix}");
        if data_dir.join(&name).exists() {
            std::fs::copy(data_dir.join(&name), copy.path().join(&name)).expect("copy");
        }
    }
    runtime().block_on(async {
        let store = RecordStore::open(&RecordStore::sqlite_url(&copy.path().join("records.db")))
            .await
            .expect("open records");
        let records = store
            .certificates(&CertificateFilter::all(std::time::SystemTime::now()))
            .await
            .expect("certificates");
        store.close().await;
        records
            .into_iter()
            .filter_map(|record| match record.custody {
                KeyCustody::Sealed { armoured } => Some(
                    custody::unseal(
                        kek,
                        &kyso::authority::sealing_purpose(&record.fingerprint),
                        armoured.as_bytes(),
                        Path::new("register"),
                    )
                    .expect("unseal a registered key")
                    .to_vec(),
                ),
                _ => None,
            })
            .collect()
    })
}

#[test]
fn after_serving_and_signing_no_file_in_the_data_directory_holds_a_private_key_in_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let server = KysoServer::start(&data_dir, &[]);
    sign_twice(&server.url);
    issue_kept_keys(&server.url);
    sign_twice(&server.url);
    drop(server);

    let kek_path = dir.path().join("data.kek");
    assert!(kek_path.exists(), "the KEK lives beside the data directory");
    let kek = default_kek(&data_dir);
    let layout = DevPki::new(&data_dir);
    let all = files(&data_dir);
    let names: Vec<_> = all.iter().filter_map(|p| p.file_name()).collect();
    assert!(names.iter().any(|name| *name == "records.db"), "{names:?}");

    // Every key file kyso wrote, opened: the secrets to look for.
    let mut secrets: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for path in all
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".key.pem"))
    {
        let armoured = std::fs::read(path).expect("read");
        assert!(
            custody::is_sealed(&armoured),
            "{} is not sealed",
            path.display()
        );
        let pkcs8 = custody::unseal(&kek, &layout.key_purpose(path), &armoured, path)
            .unwrap_or_else(|error| panic!("{error}"));
        let base64 = pem::encode(&pem::Pem::new("X", pkcs8.to_vec()));
        let base64_line = base64.lines().nth(1).expect("a base64 line").to_string();
        // The search below would find this key in a clear PEM file.
        let clear = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.to_vec()));
        assert!(contains(clear.as_bytes(), base64_line.as_bytes()));
        secrets.push((path.clone(), pkcs8.to_vec()));
        secrets.push((path.clone(), base64_line.into_bytes()));
        let scalar = ec_private_scalar(&pkcs8).expect("a P-256 private scalar");
        secrets.push((path.clone(), scalar.to_vec()));
        secrets.push((path.clone(), hex(scalar).into_bytes()));
    }
    // Root, issuing CA, and every unit's organisation and leaders.
    assert!(secrets.len() >= 4 * 4, "{} secrets", secrets.len());
    // Keys kyso generated for certificates issued through its CA live sealed
    // in the records database.
    let registered = register_keys(&data_dir, &kek);
    assert_eq!(
        registered.len(),
        2,
        "the two issued keys are in the register"
    );
    let register = PathBuf::from("records.db (certificate register)");
    for pkcs8 in registered {
        let base64 = pem::encode(&pem::Pem::new("X", pkcs8.clone()));
        let base64_line = base64.lines().nth(1).expect("a base64 line").to_string();
        if let Some(scalar) = ec_private_scalar(&pkcs8) {
            secrets.push((register.clone(), scalar.to_vec()));
            secrets.push((register.clone(), hex(scalar).into_bytes()));
        }
        secrets.push((register.clone(), base64_line.into_bytes()));
        secrets.push((register.clone(), pkcs8));
    }

    let kek_bytes = std::fs::read(&kek_path).expect("read KEK");
    for file in &all {
        let bytes = std::fs::read(file).expect("read");
        // Clear PEM keys of every kind; kyso's own armour is
        // "BEGIN KYSO SEALED PRIVATE KEY", which none of these match (a
        // database page boundary may split that label, so it is not simply
        // removed and searched for "PRIVATE KEY").
        for header in [
            "BEGIN PRIVATE KEY",
            "BEGIN RSA PRIVATE KEY",
            "BEGIN EC PRIVATE KEY",
            "BEGIN ENCRYPTED PRIVATE KEY",
        ] {
            assert!(
                !contains(&bytes, header.as_bytes()),
                "{} holds a PEM private key ({header})",
                file.display()
            );
        }
        assert!(
            !contains(&bytes, &kek_bytes),
            "{} holds the key-encryption key",
            file.display()
        );
        for (key_file, secret) in &secrets {
            assert!(
                !contains(&bytes, secret),
                "{} holds the key of {} in clear",
                file.display(),
                key_file.display()
            );
        }
    }
}

#[test]
fn a_restart_with_the_same_kek_signs_again_and_with_another_kek_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let server = KysoServer::start(&data_dir, &[]);
    sign_twice(&server.url);
    drop(server);

    let server = KysoServer::start(&data_dir, &[]);
    sign_twice(&server.url);
    drop(server);

    // The same KEK given in the environment, in hex, opens the keys too.
    let kek_hex = hex(&std::fs::read(dir.path().join("data.kek")).expect("read KEK"));
    match start_serve(&data_dir, &[("KYSO_KEY_ENCRYPTION_KEY", &kek_hex)]) {
        Started::Listening(mut child, url) => {
            sign_twice(&url);
            let _ = child.kill();
            let _ = child.wait();
        }
        Started::Exited(status, stderr) => panic!("{status}: {stderr}"),
    }

    let other = "ab".repeat(32);
    let stderr = refused_start(&data_dir, &[("KYSO_KEY_ENCRYPTION_KEY", &other)]);
    assert!(stderr.contains("cannot decrypt"), "{stderr}");
    assert!(stderr.contains("wrong key-encryption key"), "{stderr}");
    assert!(stderr.contains(".key.pem"), "{stderr}");

    let stderr = refused_start(&data_dir, &[("KYSO_KEY_ENCRYPTION_KEY", "not a key")]);
    assert!(stderr.contains("KYSO_KEY_ENCRYPTION_KEY"), "{stderr}");
}

#[test]
fn a_missing_or_shared_kek_file_is_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    prepare_data_dir(&data_dir);
    let kek_path = dir.path().join("data.kek");

    std::fs::set_permissions(&kek_path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let stderr = refused_start(&data_dir, &[]);
    assert!(stderr.contains("data.kek"), "{stderr}");
    assert!(stderr.contains("chmod 600"), "{stderr}");

    let moved = dir.path().join("backup.kek");
    std::fs::rename(&kek_path, &moved).expect("rename");
    let stderr = refused_start(&data_dir, &[]);
    assert!(stderr.contains("is missing"), "{stderr}");
    assert!(!kek_path.exists(), "no new KEK replaces the lost one");
}

#[test]
fn a_sealed_key_with_a_flipped_byte_or_swapped_with_another_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    prepare_data_dir(&data_dir);
    let layout = DevPki::new(&data_dir);
    let unit = kyso::units::UnitCode::parse(UNIT).expect("unit");
    let leader = kyso::units::LeaderId::parse(LEADER).expect("leader");
    let organisation = layout.organisation_key_path(&unit);
    let leader_key = layout.leader_key_path(&unit, &leader);
    let original = std::fs::read(&organisation).expect("read");

    // One base64 character of the ciphertext changed: one byte of the file.
    let mut flipped = original.clone();
    let body = flipped
        .iter()
        .position(|&b| b == b'\n')
        .expect("a header line")
        + 30;
    flipped[body] = if flipped[body] == b'A' { b'B' } else { b'A' };
    std::fs::write(&organisation, &flipped).expect("write");
    let stderr = refused_start(&data_dir, &[]);
    assert!(stderr.contains("cannot decrypt"), "{stderr}");
    assert!(stderr.contains("organisation.key.pem"), "{stderr}");

    // Two intact sealed keys swapped: each is bound to its own place.
    let leader_original = std::fs::read(&leader_key).expect("read");
    std::fs::write(&organisation, &leader_original).expect("write");
    std::fs::write(&leader_key, &original).expect("write");
    let stderr = refused_start(&data_dir, &[]);
    assert!(stderr.contains("cannot decrypt"), "{stderr}");
    assert!(stderr.contains(".key.pem"), "{stderr}");

    // Put back in place, they open again.
    std::fs::write(&organisation, &original).expect("write");
    std::fs::write(&leader_key, &leader_original).expect("write");
    let server = KysoServer::start(&data_dir, &[]);
    sign_twice(&server.url);
}
