//! The crypto hot path on its own: hashing a signed PDF's two byte ranges,
//! each sign and verify algorithm on every backend built in, building and
//! verifying the CMS; then `openssl speed` for RSA-2048 and ECDSA P-256 in
//! the same run, with kyso / OpenSSL signing-rate ratios (issue 6 goal:
//! RSA-2048 signing at least 0.9 × OpenSSL's rate).
//!
//! `cargo bench --bench crypto --features aws-lc` compares ring and AWS-LC
//! side by side. Set `KYSO_BENCH_NO_OPENSSL=1` to skip `openssl speed`.

#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

mod fixtures;

use criterion::{Criterion, criterion_group};
use fixtures::{ALGORITHMS, Certified, documents, human, median_ns};
use kyso::cms::{SignedAttributes, SignedDataTemplate, SignerCertificates, verify_detached};
use kyso::crypto::{CryptoBackend, DigestAlgorithm, verify_signature};
use std::hint::black_box;
use std::process::Command;

/// About the size of PAdES signed attributes: what the key signs.
const SIGNED_ATTRIBUTES_LEN: usize = 180;

/// The `/Contents` gap of a signed PDF, left out of the digest.
const GAP: usize = 16 * 1024;

fn bench_digest(c: &mut Criterion) {
    let mut group = c.benchmark_group("digest-byte-ranges");
    for document in documents() {
        let bytes = &document.bytes;
        let middle = bytes.len() / 2;
        let (before, after) = (&bytes[..middle], &bytes[(middle + GAP).min(bytes.len())..]);
        group.throughput(criterion::Throughput::Bytes(
            (before.len() + after.len()) as u64,
        ));
        group.bench_function(document.name, |b| {
            b.iter(|| DigestAlgorithm::Sha256.digest_parts(black_box(&[before, after])))
        });
    }
    group.finish();
}

fn bench_keys(c: &mut Criterion) {
    let root = fixtures::root();
    let message = vec![0x31; SIGNED_ATTRIBUTES_LEN];
    for (algorithm, name) in ALGORITHMS {
        let certified = Certified::new(&root, algorithm);
        let mut group = c.benchmark_group(format!("key-{name}"));
        for backend in CryptoBackend::ALL {
            let key = certified.key(*backend);
            group.bench_function(format!("sign-{backend}"), |b| {
                b.iter(|| key.sign(black_box(&message)).expect("sign"))
            });
        }
        let key = certified.key(CryptoBackend::default());
        let signature = key.sign(&message).expect("sign");
        group.bench_function("verify", |b| {
            b.iter(|| {
                verify_signature(
                    key.algorithm(),
                    key.public_key_bytes(),
                    black_box(&message),
                    &signature,
                )
                .expect("verify")
            })
        });

        // CMS: signed attributes and SignedData around a ready signature
        // value (the chain is parsed once, as a Signer does), then reading
        // and checking it back over a 2 KB document.
        let certificates = SignerCertificates::from_der_chain(&certified.chain).expect("chain");
        let template = SignedDataTemplate::new(key.algorithm(), &certificates).expect("template");
        let content = fixtures::small_pdf();
        let digest = DigestAlgorithm::Sha256.digest(&content);
        group.bench_function("cms-build", |b| {
            b.iter(|| {
                let attributes =
                    SignedAttributes::new(black_box(&digest), &template).expect("attributes");
                attributes
                    .into_signed_data(&signature, &template)
                    .expect("signed data")
            })
        });
        let attributes = SignedAttributes::new(&digest, &template).expect("attributes");
        let value = key.sign(attributes.to_be_signed()).expect("sign");
        let cms = attributes
            .into_signed_data(&value, &template)
            .expect("signed data");
        group.bench_function("cms-verify", |b| {
            b.iter(|| verify_detached(black_box(&cms), &[&content]).expect("cms"))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = fixtures::criterion();
    targets = bench_digest, bench_keys
}

/// Signs per second `openssl speed -seconds 3 <algorithm>` reports, single
/// thread; `None` when openssl is missing or its output is not understood.
fn openssl_sign_rate(algorithm: &str, row_marker: &str) -> Option<f64> {
    let output = Command::new("openssl")
        .args(["speed", "-seconds", "3", algorithm])
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    // "rsa 2048 bits 0.000683s 0.000020s   1464.9  49123.6": sign/s is the
    // second-to-last column.
    let row = stdout.lines().find(|line| line.contains(row_marker))?;
    let columns: Vec<&str> = row.split_whitespace().collect();
    columns.get(columns.len().checked_sub(2)?)?.parse().ok()
}

fn report_crypto() {
    println!("\ncrypto: medians");
    println!("{:<28} {:>11} {:>12}", "bench", "time", "rate");
    let mut benches = Vec::new();
    for (_, name) in ALGORITHMS {
        for backend in CryptoBackend::ALL {
            benches.push((format!("key-{name}"), format!("sign-{backend}")));
        }
        for bench in ["verify", "cms-build", "cms-verify"] {
            benches.push((format!("key-{name}"), bench.to_string()));
        }
    }
    for document in ["small", "images-10mib", "pages-2000"] {
        benches.push(("digest-byte-ranges".to_string(), document.to_string()));
    }
    for (group, bench) in &benches {
        if let Some(ns) = median_ns(group, bench) {
            println!(
                "{:<28} {:>11} {:>10.0}/s",
                format!("{group}/{bench}"),
                human(ns),
                1e9 / ns
            );
        }
    }

    if std::env::var_os("KYSO_BENCH_NO_OPENSSL").is_some() {
        return;
    }
    println!("\nsigning rate: kyso / `openssl speed -seconds 3` (same run, one thread)");
    println!(
        "{:<10} {:<8} {:>10} {:>12} {:>7} {:>6}",
        "algorithm", "backend", "kyso/s", "openssl/s", "ratio", "goal"
    );
    for (name, openssl_name, marker, goal) in [
        ("rsa2048", "rsa2048", "rsa 2048 bits", Some(0.9)),
        ("p256", "ecdsap256", "(nistp256)", None),
    ] {
        let Some(openssl) = openssl_sign_rate(openssl_name, marker) else {
            println!("{name:<10} openssl speed {openssl_name} gave no rate");
            continue;
        };
        for backend in CryptoBackend::ALL {
            if let Some(ns) = median_ns(&format!("key-{name}"), &format!("sign-{backend}")) {
                let ratio = 1e9 / ns / openssl;
                println!(
                    "{name:<10} {backend:<8} {:>10.0} {openssl:>12.0} {ratio:>7.2} {:>6}",
                    1e9 / ns,
                    goal.map_or("-".to_string(), |goal| format!("≥{goal}")),
                );
            }
        }
    }
}

fn main() {
    benches();
    Criterion::default().final_summary();
    report_crypto();
}
