//! Signing in-process, beside the ideal, for each document × algorithm of
//! issue 6: the ideal is one SHA-256 over the file plus one key operation,
//! measured in the same run. kyso signs as the service does, a document it
//! owns (a request's bytes): the copy each iteration hands it is made
//! before the clock starts. The ratio kyso / ideal is printed at the end
//! (goal: at most 1.3, whatever the page count). Keys and chains are loaded
//! once, before measuring.
//!
//! `cargo bench --bench sign` uses the default backend; with
//! `--features aws-lc`, the RSA rows are measured on both backends.

#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

mod fixtures;

/// The service's allocator (see src/main.rs), so that kyso is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::BatchSize;
use criterion::{Criterion, criterion_group};
use fixtures::{ALGORITHMS, Certified, documents, now, report_ratios};
use kyso::crypto::{CryptoBackend, DigestAlgorithm, SigningKey};
use kyso::sign::{SignOptions, sign_pdf_owned};
use std::hint::black_box;

/// Group ids of this run, in order, for the ratio table.
fn groups() -> Vec<String> {
    let mut groups = Vec::new();
    for document in ["small", "images-10mib", "pages-2000"] {
        for (_, algorithm) in ALGORITHMS {
            for backend in CryptoBackend::ALL {
                groups.push(group_id(document, algorithm, *backend));
            }
        }
    }
    groups
}

fn group_id(document: &str, algorithm: &str, backend: CryptoBackend) -> String {
    format!("sign-{document}-{algorithm}-{backend}")
}

fn bench_sign(c: &mut Criterion) {
    let root = fixtures::root();
    let certified: Vec<_> = ALGORITHMS
        .iter()
        .map(|(algorithm, name)| (*name, Certified::new(&root, *algorithm)))
        .collect();
    let options = SignOptions::default();
    let at = now();
    for document in documents() {
        let pdf = &document.bytes;
        for (name, certified) in &certified {
            for backend in CryptoBackend::ALL {
                // ECDSA speed is the same on both backends; measure it once.
                if *name == "p256" && *backend != CryptoBackend::default() {
                    continue;
                }
                let (key, signer) = certified.signer(*backend);
                let id = group_id(document.name, name, *backend);
                let mut group = c.benchmark_group(&id);
                group.throughput(criterion::Throughput::Bytes(pdf.len() as u64));
                let sign = |owned: Vec<u8>| {
                    sign_pdf_owned(black_box(owned), &signer, &options, at).expect("sign")
                };
                group.bench_function("kyso", |b| {
                    b.iter_batched(|| pdf.clone(), sign, BatchSize::LargeInput)
                });
                group.bench_function("ideal", |b| b.iter(|| ideal(&*key, black_box(pdf))));
                group.finish();
                fixtures::measure_paired_with_input(
                    &id,
                    pdf.len(),
                    || pdf.clone(),
                    |owned| black_box(sign(owned)),
                    || {
                        black_box(ideal(&*key, black_box(pdf)));
                    },
                );
            }
        }
    }
}

/// What signing cannot avoid: read every byte once, one private-key operation.
fn ideal(key: &dyn SigningKey, pdf: &[u8]) -> Vec<u8> {
    let digest = DigestAlgorithm::Sha256.digest(pdf);
    key.sign(&digest).expect("key operation")
}

criterion_group! {
    name = benches;
    config = fixtures::criterion();
    targets = bench_sign
}

fn main() {
    benches();
    Criterion::default().final_summary();
    report_ratios(
        "sign: kyso / ideal (SHA-256 over the file + one key operation)",
        &groups(),
        1.3,
    );
}
