//! A real `kyso serve` process on a free loopback port, and the data
//! directories the tests give it.

use kyso::api::proto::records_service_client::RecordsServiceClient;
use kyso::api::proto::signing_service_client::SigningServiceClient;
use kyso::api::proto::verification_service_client::VerificationServiceClient;
use kyso::api::proto::{
    DocumentEntry, ExportDocumentsRequest, SignManyResponse, SignRequest, SignResponse, SignerRole,
    VerifyRequest, VerifyResponse,
};
use kyso::ca::{DevPki, KeyAlgorithm, LeafKey};
use kyso::datetime::VietnamDate;
use kyso::units::{UnitCode, UnitRegistry};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

/// A province department and two of its leaders in the demo registry.
pub const UNIT: &str = "000.00.01.H23";
/// A leader of [`UNIT`].
pub const LEADER: &str = "tran-quoc-bao";
/// A unit that is not [`UNIT`] (a district).
pub const OTHER_UNIT: &str = "000.00.31.H23";

/// A running `kyso serve`; killed when dropped.
pub struct KysoServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The data directory it serves from.
    pub data_dir: PathBuf,
}

impl KysoServer {
    /// Starts `kyso serve --data-dir DIR --listen 127.0.0.1:0 EXTRA…` and
    /// waits until it prints the port it listens on.
    pub fn start(data_dir: &Path, extra: &[&str]) -> KysoServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kyso"))
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "error,lopdf=off")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
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
        let address = receiver
            .recv_timeout(Duration::from_secs(120))
            .expect("kyso serve did not report its address within 120 s");
        KysoServer {
            child,
            url: format!("http://{address}"),
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// The development root certificate: the trust anchor for its signatures.
    pub fn root_pem(&self) -> PathBuf {
        DevPki::new(&self.data_dir).root_certificate_path()
    }

    /// A signing-service client that takes messages up to 256 MiB.
    async fn signing_client(&self) -> SigningServiceClient<tonic::transport::Channel> {
        SigningServiceClient::connect(self.url.clone())
            .await
            .expect("connect")
            .max_decoding_message_size(256 << 20)
            .max_encoding_message_size(256 << 20)
    }

    /// Sends one Sign call and waits for the answer.
    pub fn sign(&self, request: SignRequest) -> Result<SignResponse, tonic::Status> {
        runtime().block_on(async {
            let mut client = self.signing_client().await;
            client.sign(request).await.map(tonic::Response::into_inner)
        })
    }

    /// Sends `requests` on one SignMany stream and collects every answer,
    /// in the order they came.
    pub fn sign_many(
        &self,
        requests: Vec<SignRequest>,
    ) -> Result<Vec<SignManyResponse>, tonic::Status> {
        runtime().block_on(async {
            let mut client = self.signing_client().await;
            let mut answers = client
                .sign_many(tokio_stream::iter(requests))
                .await?
                .into_inner();
            let mut all = Vec::new();
            while let Some(answer) = answers.message().await? {
                all.push(answer);
            }
            Ok(all)
        })
    }

    /// Runs `call` with a records-service client and waits for it.
    pub fn records<T, F>(
        &self,
        call: impl FnOnce(RecordsServiceClient<tonic::transport::Channel>) -> F,
    ) -> Result<T, tonic::Status>
    where
        F: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        runtime().block_on(async {
            let client = RecordsServiceClient::connect(self.url.clone())
                .await
                .expect("connect")
                .max_decoding_message_size(256 << 20);
            call(client).await.map(tonic::Response::into_inner)
        })
    }

    /// Sends one Verify call and waits for the answer.
    pub fn verify(&self, request: VerifyRequest) -> Result<VerifyResponse, tonic::Status> {
        runtime().block_on(async {
            let mut client = VerificationServiceClient::connect(self.url.clone())
                .await
                .expect("connect")
                .max_decoding_message_size(256 << 20)
                .max_encoding_message_size(256 << 20);
            client
                .verify(request)
                .await
                .map(tonic::Response::into_inner)
        })
    }

    /// The ledger's entries for today, yesterday and tomorrow in Vietnam.
    pub fn ledger_around_today(&self) -> Vec<DocumentEntry> {
        let today = VietnamDate::of(SystemTime::now());
        let request = ExportDocumentsRequest {
            from: VietnamDate::from_day_number(today.day_number() - 1).to_string(),
            to: today.next().to_string(),
            ..ExportDocumentsRequest::default()
        };
        self.records(|mut c| async move {
            let mut stream = c.export_documents(request).await?.into_inner();
            let mut entries = Vec::new();
            while let Some(entry) = stream.message().await? {
                entries.push(entry);
            }
            Ok(tonic::Response::new(entries))
        })
        .expect("export")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the process is alive.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for KysoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A single-threaded Tokio runtime for one blocking call.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A request to sign `pdf` as `role` of `unit`.
pub fn request(pdf: Vec<u8>, unit: &str, role: SignerRole, leader: &str) -> SignRequest {
    SignRequest {
        pdf,
        unit_code: unit.to_string(),
        role: role.into(),
        leader_id: leader.to_string(),
        document_id: "test-document".to_string(),
        ..SignRequest::default()
    }
}

/// Prepares `data_dir` as `kyso serve` would (registry and development
/// PKI), without starting it.
pub fn prepare_data_dir(data_dir: &Path) -> UnitRegistry {
    let registry_path = data_dir.join("units.json");
    let registry = if registry_path.exists() {
        UnitRegistry::load(&registry_path).expect("load registry")
    } else {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let registry = kyso::units::demo_province();
        registry.save(&registry_path).expect("save registry");
        registry
    };
    kyso::ca::ensure_dev_pki(data_dir, &registry, SystemTime::now()).expect("dev pki");
    registry
}

/// Replaces `unit`'s organisation key and certificate with a new key of
/// `algorithm`, issued by the data directory's issuing CA. RSA keys are
/// generated with the RustCrypto `rsa` crate (ring cannot generate them).
pub fn install_organisation_key(data_dir: &Path, unit: &str, algorithm: KeyAlgorithm) {
    use rsa::pkcs8::EncodePrivateKey;
    let registry = prepare_data_dir(data_dir);
    let code = UnitCode::parse(unit).expect("unit code");
    let unit = registry.find(&code).expect("unit in registry");
    let key = match algorithm.rsa_modulus_bits() {
        Some(bits) => {
            let private =
                rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).expect("RSA key");
            LeafKey::Pkcs8 {
                der: private.to_pkcs8_der().expect("PKCS#8").as_bytes().to_vec(),
                algorithm,
            }
        }
        None => LeafKey::Generate(algorithm),
    };
    let layout = DevPki::new(data_dir);
    let issuer = layout.load_issuing_ca().expect("issuing CA");
    let certified = issuer
        .issue_organisation(unit, key, SystemTime::now())
        .expect("issue organisation certificate");
    std::fs::write(
        layout.organisation_certificate_path(&code),
        &certified.certificate_pem,
    )
    .expect("write certificate");
    let key_pem = pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        certified.private_key_pkcs8_der.clone(),
    ));
    std::fs::write(layout.organisation_key_path(&code), key_pem).expect("write key");
}
