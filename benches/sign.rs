//! Signing a small PDF in-process, beside the ideal: one SHA-256 over the
//! file plus one key operation, measured in the same run. The ratio
//! kyso / ideal is printed at the end (goal: at most 1.3).

#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

use criterion::{Criterion, criterion_group};
use kyso::ca::{CertificateAuthority, KeyAlgorithm, LeafKey};
use kyso::crypto::{DigestAlgorithm, RingSigningKey, RsaPadding, SigningKey};
use kyso::sign::{SignOptions, Signer, sign_pdf};
use rsa::pkcs8::EncodePrivateKey;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A fixed instant inside the test certificates' validity (time is an argument).
fn now() -> SystemTime {
    SystemTime::now()
}

/// A valid one-page PDF of about 2 KB, built byte by byte with a correct
/// cross-reference table.
fn small_pdf() -> Vec<u8> {
    let text = "BT /F1 12 Tf 72 720 Td (Quyet dinh ve viec ban hanh quy che) Tj ET ".repeat(20);
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_string(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len() + 1),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>".to_string(),
    ];
    let mut pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// A signer of `algorithm` with a certificate from a throwaway CA.
fn signer(algorithm: KeyAlgorithm) -> (Arc<dyn SigningKey>, Signer) {
    let root = CertificateAuthority::new_root("Bench Root", "kyso bench", now()).expect("root");
    let registry = kyso::units::demo_province();
    let unit = &registry.units()[0];
    let key = match algorithm.rsa_modulus_bits() {
        Some(bits) => LeafKey::Pkcs8 {
            der: rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
                .expect("RSA key")
                .to_pkcs8_der()
                .expect("PKCS#8")
                .as_bytes()
                .to_vec(),
            algorithm,
        },
        None => LeafKey::Generate(algorithm),
    };
    let certified = root
        .issue_organisation(unit, key, now())
        .expect("certificate");
    let key: Arc<dyn SigningKey> = Arc::new(
        RingSigningKey::from_pkcs8(&certified.private_key_pkcs8_der, RsaPadding::Pkcs1)
            .expect("key"),
    );
    let chain = [
        certified.certificate_der.clone(),
        root.certificate_der().to_vec(),
    ];
    let signer = Signer::new(key.clone(), &chain).expect("signer");
    (key, signer)
}

const ALGORITHMS: [(KeyAlgorithm, &str); 2] = [
    (KeyAlgorithm::EcdsaP256, "p256"),
    (KeyAlgorithm::Rsa2048, "rsa2048"),
];

fn bench_sign(c: &mut Criterion) {
    let pdf = small_pdf();
    let options = SignOptions::default();
    let at = now();
    for (algorithm, name) in ALGORITHMS {
        let (key, signer) = signer(algorithm);
        let mut group = c.benchmark_group(format!("sign-small-{name}"));
        group.bench_function("kyso", |b| {
            b.iter(|| sign_pdf(black_box(&pdf), &signer, &options, at).expect("sign"))
        });
        group.bench_function("ideal", |b| {
            b.iter(|| {
                let digest = DigestAlgorithm::Sha256.digest(black_box(&pdf));
                key.sign(&digest).expect("key operation")
            })
        });
        group.finish();
    }
}

fn criterion_home() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion")
}

/// Median estimate, in nanoseconds, that criterion stored for a bench.
fn median_ns(group: &str, bench: &str) -> Option<f64> {
    let path = criterion_home()
        .join(group)
        .join(bench)
        .join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn report_ratios() {
    println!(
        "\n{:<22} {:>12} {:>12} {:>8} {:>6}",
        "bench", "kyso", "ideal", "ratio", "goal"
    );
    for (_, name) in ALGORITHMS {
        let group = format!("sign-small-{name}");
        if let (Some(kyso), Some(ideal)) = (median_ns(&group, "kyso"), median_ns(&group, "ideal")) {
            println!(
                "{group:<22} {:>10.1}µs {:>10.1}µs {:>8.2} {:>6}",
                kyso / 1000.0,
                ideal / 1000.0,
                kyso / ideal,
                "≤1.3"
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .output_directory(&criterion_home())
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_sign
}

fn main() {
    benches();
    Criterion::default().final_summary();
    report_ratios();
}
