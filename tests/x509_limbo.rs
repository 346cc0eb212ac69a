//! C2SP x509-limbo through `kyso::chain`.
//!
//! Every case runs twice:
//! - **mapped**: [`validate_for_purpose`] with the case's own purpose
//!   (its `extended_key_usage` list, none = any purpose), its anchors,
//!   intermediates, CRLs (hard fail when the case gives CRLs) and time, with
//!   `max_chain_depth` applied to the returned chain. The outcome must match
//!   `expected_result` unless the case is listed in
//!   `tests/data/limbo-exceptions.json` for that direction, with a reason;
//!   a listed case that no longer diverges fails too.
//! - **documents**: [`validate_signer`], kyso's document-signing policy, on
//!   the same inputs. It may never accept what limbo expects to fail (save a
//!   listed exception) nor what the mapped run refused; where it refuses what
//!   the mapped run accepted, the reason must be the extendedKeyUsage (limbo
//!   leaves are TLS certificates).
//!
//! The peer name (DNS/IP/e-mail) is a TLS notion with no counterpart in a
//! signed PDF: cases that fail only on it are listed as `peer-name`
//! exceptions, and the harness checks with webpki that the name indeed does
//! not match. Anchors kyso refuses to load are left out of the case's set,
//! as a deployment could not configure them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kyso::chain::{
    ChainError, Constraint, Purpose, Revocation, RevocationPolicy, TrustAnchors, ValidatedPath,
    validate_for_purpose, validate_signer,
};
use serde::Deserialize;

/// The "now" of cases without a validation time: after the corpus was made
/// (2026-06-29); their certificates are valid from 1970 to 2969.
const NOW: &str = "2026-07-01T00:00:00+00:00";

#[derive(Deserialize)]
struct Limbo {
    testcases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    expected_result: String,
    trusted_certs: Vec<String>,
    untrusted_intermediates: Vec<String>,
    peer_certificate: String,
    crls: Vec<String>,
    validation_time: Option<String>,
    extended_key_usage: Vec<String>,
    max_chain_depth: Option<usize>,
    expected_peer_name: Option<PeerName>,
}

#[derive(Deserialize)]
struct PeerName {
    kind: String,
    value: String,
}

#[derive(Deserialize)]
struct Exceptions {
    expected_failure_accepted: BTreeMap<String, Accepted>,
    expected_success_refused: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Accepted {
    kind: AcceptedKind,
    reason: String,
}

#[derive(Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum AcceptedKind {
    /// Fails in limbo only because the leaf does not match the TLS peer name.
    PeerName,
    /// A certificate-profile rule that path validation does not enforce.
    Profile,
}

fn corpus() -> PathBuf {
    std::env::var_os("KYSO_LIMBO_JSON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/x509-limbo/limbo.json")
        })
}

fn der_of(pem_text: &str) -> Vec<u8> {
    pem::parse(pem_text).expect("limbo PEM").into_contents()
}

/// ISO 8601 UTC as limbo writes it: `YYYY-MM-DDTHH:MM:SS[.fff]+00:00`.
fn instant(text: &str) -> SystemTime {
    let number = |range: std::ops::Range<usize>| -> u64 { text[range].parse().expect("digits") };
    assert!(text.ends_with("+00:00"), "{text} is not UTC");
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let seconds = number(11..13) * 3600 + number(14..16) * 60 + number(17..19);
    let millis: u64 = match text.as_bytes()[19] {
        b'.' => format!("{:0<3}", &text[20..text.len() - 6])[..3]
            .parse()
            .expect("fraction"),
        _ => 0,
    };
    // Days from civil (Howard Hinnant), for 1970 onwards.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    UNIX_EPOCH + Duration::from_secs(days * 86_400 + seconds) + Duration::from_millis(millis)
}

fn purpose_of(case: &Case) -> Purpose {
    if case.extended_key_usage.is_empty() {
        return Purpose::dangerous_any();
    }
    let oids: Vec<&str> = case
        .extended_key_usage
        .iter()
        .map(|name| match name.as_str() {
            "serverAuth" => "1.3.6.1.5.5.7.3.1",
            "clientAuth" => "1.3.6.1.5.5.7.3.2",
            "codeSigning" => "1.3.6.1.5.5.7.3.3",
            "emailProtection" => "1.3.6.1.5.5.7.3.4",
            "timeStamping" => "1.3.6.1.5.5.7.3.8",
            "OCSPSigning" => "1.3.6.1.5.5.7.3.9",
            "anyExtendedKeyUsage" => "2.5.29.37.0",
            other => panic!("{}: unknown limbo EKU {other}", case.id),
        })
        .collect();
    Purpose::key_purposes(&oids).expect("known OIDs")
}

/// The inputs of a case, as kyso takes them.
struct Inputs {
    anchors: TrustAnchors,
    refused_anchors: usize,
    intermediates: Vec<Vec<u8>>,
    leaf: Vec<u8>,
    revocation: Revocation,
    at: SystemTime,
}

fn inputs(case: &Case) -> Inputs {
    let mut kept = Vec::new();
    let mut refused_anchors = 0;
    for der in case.trusted_certs.iter().map(|pem| der_of(pem)) {
        match TrustAnchors::from_der(vec![der.clone()]) {
            Ok(_) => kept.push(der),
            Err(_) => refused_anchors += 1,
        }
    }
    let crls: Vec<Vec<u8>> = case.crls.iter().map(|pem| der_of(pem)).collect();
    // A case that gives CRLs expects them to be used: hard fail. Without
    // CRLs the case does not ask for revocation checking: soft fail.
    let policy = match crls.is_empty() {
        true => RevocationPolicy::SoftFail,
        false => RevocationPolicy::HardFail,
    };
    Inputs {
        anchors: TrustAnchors::from_der(kept).expect("each anchor loaded alone"),
        refused_anchors,
        intermediates: case
            .untrusted_intermediates
            .iter()
            .map(|pem| der_of(pem))
            .collect(),
        leaf: der_of(&case.peer_certificate),
        revocation: Revocation::new(crls, policy),
        at: instant(case.validation_time.as_deref().unwrap_or(NOW)),
    }
}

/// limbo's `max_chain_depth`: the most non-self-issued intermediates.
fn within_depth(case: &Case, path: &ValidatedPath) -> bool {
    let Some(max) = case.max_chain_depth else {
        return true;
    };
    let intermediates = &path.chain[1..path.chain.len() - 1];
    let logical = intermediates
        .iter()
        .filter(|der| {
            let der = pki_types_der(der);
            let cert = webpki::EndEntityCert::try_from(&der).expect("in a path");
            cert.subject() != cert.issuer()
        })
        .count();
    logical <= max
}

fn pki_types_der(der: &[u8]) -> pki_types::CertificateDer<'_> {
    pki_types::CertificateDer::from(der)
}

/// Whether webpki says the leaf does not match the case's peer name.
fn peer_name_mismatch(case: &Case, leaf: &[u8]) -> bool {
    let Some(name) = &case.expected_peer_name else {
        return false;
    };
    assert!(
        matches!(name.kind.as_str(), "DNS" | "IP"),
        "{}: {}",
        case.id,
        name.kind
    );
    let der = pki_types_der(leaf);
    let cert = webpki::EndEntityCert::try_from(&der).expect("leaf parses");
    match pki_types::ServerName::try_from(name.value.as_str()) {
        Ok(server_name) => cert.verify_is_valid_for_subject_name(&server_name).is_err(),
        Err(_) => true,
    }
}

type Outcome = Result<ValidatedPath, ChainError>;

fn run(case: &Case, inputs: &Inputs, purpose: Option<&Purpose>) -> Outcome {
    let Inputs {
        anchors,
        intermediates,
        leaf,
        revocation,
        at,
        ..
    } = inputs;
    let result = match purpose {
        Some(purpose) => {
            validate_for_purpose(leaf, intermediates, anchors, *at, revocation, purpose)
        }
        None => validate_signer(leaf, intermediates, anchors, *at, revocation),
    }?;
    match within_depth(case, &result) {
        true => Ok(result),
        false => Err(ChainError::BudgetExceeded {
            what: "limbo max_chain_depth",
        }),
    }
}

fn is_eku_refusal(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Err(ChainError::ChainConstraints {
            reason: Constraint::ExtendedKeyUsage
        })
    )
}

#[derive(Default)]
struct Tally {
    accepted: usize,
    refused: usize,
    listed_accepted: BTreeMap<AcceptedKind, usize>,
    listed_refused: usize,
    anchors_refused: usize,
    documents_accepted: usize,
    documents_refused_for_eku: usize,
    problems: Vec<String>,
}

impl Ord for AcceptedKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

impl PartialOrd for AcceptedKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn check(case: &Case, exceptions: &Exceptions, tally: &mut Tally) {
    let inputs = inputs(case);
    tally.anchors_refused += inputs.refused_anchors;
    let expect_success = match case.expected_result.as_str() {
        "SUCCESS" => true,
        "FAILURE" => false,
        other => panic!("{}: expected_result {other}", case.id),
    };
    let id = &case.id;
    let mapped = run(case, &inputs, Some(&purpose_of(case)));
    let documents = run(case, &inputs, None);
    let accepted_exception = exceptions.expected_failure_accepted.get(id);
    let refused_exception = exceptions.expected_success_refused.get(id);

    match (expect_success, &mapped) {
        (true, Ok(_)) => tally.accepted += 1,
        (false, Err(_)) => tally.refused += 1,
        (false, Ok(_)) => match accepted_exception {
            Some(listed)
                if listed.kind == AcceptedKind::PeerName
                    && !peer_name_mismatch(case, &inputs.leaf) =>
            {
                tally
                    .problems
                    .push(format!("{id}: listed as peer-name but the name matches"));
            }
            Some(listed) => *tally.listed_accepted.entry(listed.kind).or_default() += 1,
            None => tally
                .problems
                .push(format!("{id}: UNEXPECTED SUCCESS (mapped purpose)")),
        },
        (true, Err(error)) => match refused_exception {
            Some(_) => tally.listed_refused += 1,
            None => tally
                .problems
                .push(format!("{id}: unexpected refusal: {error}")),
        },
    }
    let diverged = expect_success != mapped.is_ok();
    if !diverged && (accepted_exception.is_some() || refused_exception.is_some()) {
        tally.problems.push(format!(
            "{id}: listed as an exception but no longer diverges"
        ));
    }
    if accepted_exception.is_some() && refused_exception.is_some() {
        tally
            .problems
            .push(format!("{id}: listed in both directions"));
    }

    // The document-signing policy is the mapped run with kyso's purpose.
    match (&documents, &mapped) {
        (Ok(_), _) if !expect_success && accepted_exception.is_none() => {
            tally
                .problems
                .push(format!("{id}: UNEXPECTED SUCCESS (document signing)"));
        }
        (Ok(_), Err(error)) if !is_eku_refusal(&mapped) => {
            tally.problems.push(format!(
                "{id}: documents accepted what the mapped run refused: {error}"
            ));
        }
        (Ok(_), _) => tally.documents_accepted += 1,
        (Err(_), Ok(_)) if is_eku_refusal(&documents) => tally.documents_refused_for_eku += 1,
        (Err(error), Ok(_)) => {
            tally
                .problems
                .push(format!("{id}: documents refused, not for EKU: {error}"));
        }
        (Err(_), Err(_)) => {}
    }
}

#[test]
fn every_limbo_case_meets_its_expectation_or_a_listed_exception() {
    let path = corpus();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("x509-limbo corpus at {}: {error}", path.display()));
    let limbo: Limbo = serde_json::from_str(&text).expect("limbo.json");
    let exceptions_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/limbo-exceptions.json"
    );
    let exceptions: Exceptions =
        serde_json::from_str(&std::fs::read_to_string(exceptions_path).expect("exceptions file"))
            .expect("exceptions JSON");

    let mut tally = Tally::default();
    for case in &limbo.testcases {
        check(case, &exceptions, &mut tally);
    }
    let ids: Vec<&String> = limbo.testcases.iter().map(|case| &case.id).collect();
    let listed = exceptions
        .expected_failure_accepted
        .keys()
        .chain(exceptions.expected_success_refused.keys());
    for id in listed {
        if !ids.contains(&id) {
            tally.problems.push(format!(
                "{id}: listed as an exception but not in the corpus"
            ));
        }
    }
    for (id, listed) in &exceptions.expected_failure_accepted {
        assert!(
            !listed.reason.trim().is_empty(),
            "{id}: exception without a reason"
        );
    }
    for (id, reason) in &exceptions.expected_success_refused {
        assert!(
            !reason.trim().is_empty(),
            "{id}: exception without a reason"
        );
    }

    let peer = tally
        .listed_accepted
        .get(&AcceptedKind::PeerName)
        .copied()
        .unwrap_or(0);
    let profile = tally
        .listed_accepted
        .get(&AcceptedKind::Profile)
        .copied()
        .unwrap_or(0);
    println!(
        "x509-limbo: {} cases: {} passed ({} accepted as expected, {} expected failures), \
         {} exceptions ({} peer-name and {} profile failures accepted, {} successes refused), \
         {} anchors refused at load; document-signing policy: {} accepted, {} refused for EKU; \
         {} problems",
        limbo.testcases.len(),
        tally.accepted + tally.refused,
        tally.accepted,
        tally.refused,
        peer + profile + tally.listed_refused,
        peer,
        profile,
        tally.listed_refused,
        tally.anchors_refused,
        tally.documents_accepted,
        tally.documents_refused_for_eku,
        tally.problems.len(),
    );
    assert!(
        tally.problems.is_empty(),
        "divergences:\n{}",
        tally.problems.join("\n")
    );
}

#[test]
fn a_limbo_revocation_reports_the_date_of_its_crl_entry() {
    let path = corpus();
    let limbo: Limbo =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("limbo.json")).expect("JSON");
    let case = limbo
        .testcases
        .iter()
        .find(|case| case.id == "crl::revoked-certificate-with-crl")
        .expect("the revoked-certificate case");
    let inputs = inputs(case);
    match run(case, &inputs, Some(&purpose_of(case))) {
        Err(ChainError::Revoked { at, reason, .. }) => {
            assert_eq!(at, instant("2023-12-31T00:00:00+00:00"));
            assert_eq!(reason, None);
        }
        other => panic!("expected a revoked signer, got {other:?}"),
    }
}
