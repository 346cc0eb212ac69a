//! `kyso bench sign`, the load generator, against a real server.

mod support;

use std::process::Command;
use support::server::{KysoServer, UNIT};

#[test]
fn the_load_generator_signs_through_the_server_and_reports_rates_that_add_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let unary = measure(&server, &[], "Sign");
    let streamed = measure(
        &server,
        &["--rpc", "sign-many", "--window", "8"],
        "SignMany",
    );

    // Every measured document is a real, recorded signature.
    let signed = server
        .ledger_around_today()
        .into_iter()
        .filter(|entry| entry.unit_code == UNIT && entry.document_id.starts_with("bench-"))
        .count();
    assert!(
        signed as f64 >= unary + streamed,
        "{signed} bench entries in the ledger, {unary} + {streamed} documents reported"
    );
}

/// Runs `kyso bench sign` with `extra` arguments for a second, checks its
/// JSON report adds up and names `rpc`; the documents it measured.
fn measure(server: &KysoServer, extra: &[&str], rpc: &str) -> f64 {
    let output = Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["bench", "sign", "--server", &server.url])
        .args(["--issue", "--key-type", "p256", "--clients", "4"])
        .args(["--seconds", "1", "--json"])
        .args(extra)
        .output()
        .expect("run kyso bench sign");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the report is JSON");
    let number = |field: &str| {
        report[field]
            .as_f64()
            .unwrap_or_else(|| panic!("{field} is a number in {report}"))
    };
    assert!(
        report["rpc"]
            .as_str()
            .is_some_and(|name| name.starts_with(rpc)),
        "{report}"
    );
    let documents = number("documents");
    assert!(documents > 0.0, "{report}");
    assert_eq!(number("failures"), 0.0);
    assert_eq!(number("clients"), 4.0);
    let per_second = number("documents_per_second");
    assert!(
        (per_second - documents / number("seconds")).abs() < 1e-6,
        "{report}"
    );
    assert!(number("latency_p50_ms") <= number("latency_p99_ms"));
    assert!(number("latency_p99_ms") <= number("latency_max_ms"));
    // The raw rate is measured before and after the load, and averaged.
    let raw = number("raw_signatures_per_second");
    let (before, after) = (
        number("raw_before_per_second"),
        number("raw_after_per_second"),
    );
    assert!(before > 0.0 && after > 0.0, "{report}");
    assert!((raw - (before + after) / 2.0).abs() < 1e-6, "{report}");
    assert!((number("ratio_to_raw") - per_second / raw).abs() < 1e-9);
    // Linux tells a process its CPU time: the load generator's own share.
    let share = number("client_share_of_cores");
    assert!(share > 0.0 && share < 1.0, "{report}");
    assert!(number("client_cpu_ms_per_document") > 0.0);
    assert!(
        (number("ratio_to_raw_on_cores_left") - per_second / (raw * (1.0 - share))).abs() < 1e-9,
        "{report}"
    );

    documents
}
