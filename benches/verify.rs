//! Verifying in-process, beside the ideal, for each document × algorithm of
//! issue 6. Each document is signed once by kyso before measuring; the ideal
//! is one SHA-256 over the file, the signature check and the certificate
//! check (the leaf's signature under the root's P-256 key), measured in the
//! same run. The ratio kyso / ideal is printed at the end (goal: at most 2).
//! Trust anchors are loaded once.

#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

mod fixtures;

/// The service's allocator (see src/main.rs), so that kyso is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, criterion_group};
use der::{Decode, Encode};
use fixtures::{ALGORITHMS, Certified, documents, now, report_ratios};
use kyso::chain::TrustAnchors;
use kyso::crypto::{CryptoBackend, DigestAlgorithm, SignatureAlgorithm, verify_signature};
use kyso::sign::{SignOptions, sign_pdf};
use kyso::verify::{Indication, VerifyContext, VerifyPolicy, verify_pdf};
use std::hint::black_box;
use x509_cert::Certificate;

fn group_id(document: &str, algorithm: &str) -> String {
    format!("verify-{document}-{algorithm}")
}

fn groups() -> Vec<String> {
    ["small", "images-10mib", "pages-2000"]
        .iter()
        .flat_map(|document| ALGORITHMS.iter().map(|(_, name)| group_id(document, name)))
        .collect()
}

/// The signature and certificate checks the ideal makes: precomputed inputs,
/// so only the public-key operations are measured.
struct IdealChecks {
    algorithm: SignatureAlgorithm,
    public_key: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
    issuer_key: Vec<u8>,
    tbs_certificate: Vec<u8>,
    certificate_signature: Vec<u8>,
}

impl IdealChecks {
    fn new(certified: &Certified) -> Self {
        let key = certified.key(CryptoBackend::default());
        // About the size of PAdES signed attributes.
        let message = vec![0x31; 180];
        let leaf = Certificate::from_der(&certified.chain[0]).expect("leaf");
        let root = Certificate::from_der(&certified.chain[1]).expect("root");
        Self {
            algorithm: key.algorithm(),
            public_key: key.public_key_bytes().to_vec(),
            signature: key.sign(&message).expect("sign"),
            message,
            issuer_key: root
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes()
                .to_vec(),
            tbs_certificate: leaf.tbs_certificate.to_der().expect("TBS"),
            certificate_signature: leaf.signature.raw_bytes().to_vec(),
        }
    }

    fn run(&self, pdf: &[u8]) {
        black_box(DigestAlgorithm::Sha256.digest(pdf));
        verify_signature(
            self.algorithm,
            &self.public_key,
            &self.message,
            &self.signature,
        )
        .expect("signature");
        // The bench root is ECDSA P-256 (kyso::ca::CertificateAuthority::new_root).
        verify_signature(
            SignatureAlgorithm::EcdsaP256Sha256,
            &self.issuer_key,
            &self.tbs_certificate,
            &self.certificate_signature,
        )
        .expect("certificate");
    }
}

fn bench_verify(c: &mut Criterion) {
    let root = fixtures::root();
    let anchors = TrustAnchors::from_der(vec![root.certificate_der().to_vec()]).expect("anchors");
    let context = VerifyContext {
        anchors: &anchors,
        crls: &[],
        policy: VerifyPolicy::default(),
        at: now(),
    };
    let certified: Vec<_> = ALGORITHMS
        .iter()
        .map(|(algorithm, name)| (*name, Certified::new(&root, *algorithm)))
        .collect();
    for document in documents() {
        for (name, certified) in &certified {
            let (_, signer) = certified.signer(CryptoBackend::default());
            let signed = sign_pdf(&document.bytes, &signer, &SignOptions::default(), now())
                .expect("sign")
                .pdf;
            let report = verify_pdf(&signed, &context).expect("verify");
            assert_eq!(
                report.verdict,
                Indication::TotalPassed,
                "{} {name}: {report:?}",
                document.name
            );
            let ideal = IdealChecks::new(certified);
            let id = group_id(document.name, name);
            let mut group = c.benchmark_group(&id);
            group.throughput(criterion::Throughput::Bytes(signed.len() as u64));
            group.bench_function("kyso", |b| {
                b.iter(|| verify_pdf(black_box(&signed), &context).expect("verify"))
            });
            group.bench_function("ideal", |b| b.iter(|| ideal.run(black_box(&signed))));
            group.finish();
            fixtures::measure_paired(
                &id,
                || {
                    black_box(verify_pdf(black_box(&signed), &context).expect("verify"));
                },
                || ideal.run(black_box(&signed)),
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = fixtures::criterion();
    targets = bench_verify
}

fn main() {
    benches();
    Criterion::default().final_summary();
    report_ratios(
        "verify: kyso / ideal (SHA-256 over the file + signature + certificate check)",
        &groups(),
        2.0,
    );
}
