//! `kyso verify` against the shared public corpus: published attacks,
//! controls and edge cases with known verdicts, and malformed files that
//! must never crash it, hang it, or carry a valid signature.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

fn load(path: &Path) -> Value {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("JSON")
}

/// What one run of `kyso verify --json` gave.
enum Outcome {
    Report(Value),
    Crash(String),
}

/// Address space one verification may use (512 MiB): "a few hundred MiB at
/// most, whatever the file contains". Enforced with util-linux `prlimit`
/// where it exists; an allocation beyond it aborts the process, which the
/// test counts as a crash.
const MEMORY_LIMIT_BYTES: u64 = 512 * 1024 * 1024;

/// Runs `kyso verify --json` with a wall-clock and a memory limit; a panic,
/// a signal, a timeout or output that is not JSON is a crash.
fn verify(
    dir: &Path,
    file: &str,
    trust: Option<&str>,
    at: Option<&str>,
    max_seconds: u64,
) -> Outcome {
    let kyso = env!("CARGO_BIN_EXE_kyso");
    let mut command = if Path::new("/usr/bin/prlimit").exists() {
        let mut command = Command::new("/usr/bin/prlimit");
        command
            .arg(format!("--as={MEMORY_LIMIT_BYTES}"))
            .arg("--")
            .arg(kyso);
        command
    } else {
        Command::new(kyso)
    };
    command.current_dir(dir).args(["verify", file, "--json"]);
    if let Some(trust) = trust {
        command.args(["--trust", trust]);
    }
    if let Some(at) = at {
        command.args(["--at", at]);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kyso");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(max_seconds) {
            let _ = child.kill();
            let _ = child.wait();
            return Outcome::Crash(format!("no answer within {max_seconds} s"));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = child.wait_with_output().expect("output");
    match status.code() {
        Some(0..=2) => {}
        code => {
            return Outcome::Crash(format!(
                "exit {code:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    match serde_json::from_slice(&output.stdout) {
        Ok(report) => Outcome::Report(report),
        Err(e) => Outcome::Crash(format!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )),
    }
}

/// The facts the corpus pins, as kyso reports them.
fn facts(report: &Value) -> serde_json::Map<String, Value> {
    let signatures = report["signatures"].as_array().cloned().unwrap_or_default();
    let valid = signatures
        .iter()
        .filter(|s| s["byte_range_ok"] == true && s["intact"] == true && s["valid"] == true)
        .count();
    let mut facts = serde_json::Map::new();
    facts.insert(
        "accepted".into(),
        Value::Bool(report["verdict"] == "TOTAL_PASSED"),
    );
    facts.insert("signatures".into(), signatures.len().into());
    facts.insert("valid_signatures".into(), valid.into());
    // A file kyso cannot read has no signature covering it.
    let last_covers = signatures
        .last()
        .is_some_and(|s| s["covers_whole_file"] == true);
    facts.insert("covers_whole_file".into(), Value::Bool(last_covers));
    facts
}

/// Every signature is sound, intact, valid and followed only by permitted
/// changes, and the one thing missing is a path to a trust anchor.
fn passes_but_for_trust(report: &Value) -> bool {
    let signatures = report["signatures"].as_array().cloned().unwrap_or_default();
    !signatures.is_empty()
        && signatures.iter().all(|s| {
            s["byte_range_ok"] == true
                && s["intact"] == true
                && s["valid"] == true
                && (s["modifications"] == "none" || s["modifications"] == "ltv")
                && s["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"
        })
}

#[test]
fn every_signed_corpus_pdf_meets_its_expectation_or_a_listed_decision() {
    let dir = corpus().join("pdf-signatures");
    let entries = load(&dir.join("expected.json"));
    let decisions =
        load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus-decisions.json"));
    let mut failures = Vec::new();
    let mut used_exceptions = 0;
    let entries = entries.as_array().expect("array");
    for entry in entries {
        let file = entry["file"].as_str().expect("file");
        let max_seconds = entry["expect"]["max_seconds"].as_u64().unwrap_or(10);
        let report = match verify(
            &dir,
            file,
            entry["trust"].as_str(),
            entry["at"].as_str(),
            max_seconds,
        ) {
            Outcome::Report(report) => report,
            Outcome::Crash(why) => {
                failures.push(format!("{file}: crash: {why}"));
                continue;
            }
        };
        let got = facts(&report);
        let exceptions = &decisions["exceptions"][file];
        for (key, expected) in entry["expect"].as_object().expect("expect") {
            let Some(actual) = got.get(key) else { continue };
            if actual == expected {
                if exceptions.get(key).is_some() {
                    failures.push(format!(
                        "{file}: {key} now meets the expectation; remove the listed exception"
                    ));
                }
            } else if let Some(reason) = exceptions.get(key) {
                used_exceptions += 1;
                // A control refused only for its anchor must pass every
                // other check, or the exception would hide a real failure.
                if reason.as_str().is_some_and(|r| r.starts_with("anchor:"))
                    && !passes_but_for_trust(&report)
                {
                    failures.push(format!(
                        "{file}: refused for more than its anchor: {report}"
                    ));
                }
            } else {
                failures.push(format!(
                    "{file}: {key} is {actual}, expected {expected}; report: {report}"
                ));
            }
        }
        // A valid signature is never reported for an attack.
        if entry["class"] == "attack" && got["accepted"] == true {
            failures.push(format!("{file}: an attack was accepted"));
        }
        if entry["class"] == "policy" {
            let pinned = &decisions["policy"][file]["verdict"];
            if pinned.is_null() {
                failures.push(format!(
                    "{file}: policy entry without a pinned verdict (kyso says {})",
                    report["verdict"]
                ));
            } else if *pinned != report["verdict"] {
                failures.push(format!(
                    "{file}: verdict {} differs from the pinned {pinned}",
                    report["verdict"]
                ));
            }
        }
    }
    println!(
        "pdf-signatures: {} files, {} divergences listed as decisions, {} failures",
        entries.len(),
        used_exceptions,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn no_malformed_pdf_crashes_the_verifier_hangs_it_or_carries_a_valid_signature() {
    let dir = corpus().join("malformed");
    let entries = load(&dir.join("expected.json"));
    let mut failures = Vec::new();
    let entries = entries.as_array().expect("array");
    for entry in entries {
        let file = entry["file"].as_str().expect("file");
        let max_seconds = entry["expect"]["max_seconds"].as_u64().unwrap_or(10).min(3);
        match verify(&dir, file, None, None, max_seconds) {
            Outcome::Crash(why) => failures.push(format!("{file}: {why}")),
            Outcome::Report(report) => {
                let got = facts(&report);
                if got["accepted"] == true || got["valid_signatures"] != 0 {
                    failures.push(format!("{file}: reported a valid signature: {report}"));
                }
                if let Some(expected) = entry["expect"]["signatures"].as_u64()
                    && got["signatures"] != expected
                {
                    failures.push(format!(
                        "{file}: {} signatures, expected {expected}",
                        got["signatures"]
                    ));
                }
            }
        }
    }
    println!(
        "malformed: {} files, {} failures",
        entries.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} malformed-corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
