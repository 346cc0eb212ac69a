//! NIST PKITS (2011 edition) through kyso's PDF path and its chain check.
//!
//! The certificates, CRLs and PKCS#12 keys come from the PyPI package
//! `cryptography-vectors` (pinned in `tests/support/requirements.txt` and
//! found through the venv's python); the expected outcomes from pyHanko's
//! `pkits.json` in `../shared/corpus/pkits/` (see its README). Every case
//! runs two routes on the same inputs: the PKITS trust anchor
//! (`TrustAnchorRootCertificate.crt`) as the only anchor, the case's
//! `other_certs` as intermediates, its CRLs plus `TrustAnchorRootCRL.crl`,
//! hard-fail revocation unless the case says `"revocation": false` (then
//! soft fail), and the validation time [`AT`], inside the 2010–2030
//! validity of the PKITS certificates:
//!
//! - **pdf**: a one-page PDF is signed with the case's end-entity PKCS#12
//!   (password `password`; 243 of the 246 keys are RSA-2048, which kyso
//!   signs with), embedding `other_certs` in the CMS as `kyso sign --p12 …
//!   --chain …` does, and judged by the `kyso verify --json` binary with
//!   `--trust`, `--crl`, `--at` and `--hard-fail-revocation`. The signing
//!   goes through the library calls `kyso sign` makes
//!   ([`keyfile::read_pkcs12`], [`Signer::new`], [`sign_pdf`]) at [`AT`],
//!   because the CLI signs at the clock's time and has no option to take
//!   one: the test would depend on the day it runs, and break once the
//!   PKITS certificates expire at the end of 2030. Where kyso refuses to
//!   sign (three DSA keys, one certificate it cannot parse, three
//!   end-entity certificates outside their validity at [`AT`]) the refusal
//!   is this route's verdict: not valid.
//! - **chain**: [`validate_signer`], the function `kyso verify` runs on a
//!   signature's certificates, on every case, so that the cases kyso cannot
//!   sign still get a verdict on their path.
//!
//! kyso says valid only when both routes do, and the routes must agree
//! whenever kyso signed. Expected valid must come out valid and expected
//! invalid must come out invalid, save the divergences listed in
//! `tests/data/pkits-divergences.json`, each with what both routes say and
//! why that is right for kyso. "No unexpected valid" admits one listed kind
//! only, checked here against `pkits.json` itself: a policy case PKITS
//! fails only under non-default RFC 5280 §6.1.1 initial inputs (kyso
//! validates with the defaults), whose certificates PKITS also lists under
//! the defaults as an expected-valid case. The test fails on a divergence
//! not listed, on one listed with other verdicts, and on a listed one that
//! no longer diverges.
//!
//! `KYSO_PKITS_VERBOSE=1` lists every case's verdicts and kyso's messages.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::SystemTime;

use kyso::chain::{
    ChainError, Revocation, RevocationPolicy, TrustAnchors, ValidatedPath, validate_signer,
};
use kyso::crypto::RsaPadding;
use kyso::datetime::parse_rfc3339;
use kyso::keyfile;
use kyso::sign::{SignOptions, Signer, sign_pdf};
use serde::Deserialize;
use serde_json::Value;

/// The validation and signing time: inside the validity of every PKITS
/// certificate meant to be valid (2010-01-01 to 2030-12-31).
const AT: &str = "2026-11-01T00:00:00Z";

/// The PKCS#12 password of every PKITS key.
const PASSWORD: &str = "password";

/// anyPolicy (RFC 5280 §4.2.1.4), the default user-initial-policy-set.
const ANY_POLICY: &str = "2.5.29.32.0";

/// The only kind of listed divergence where kyso accepts an expected-invalid
/// case.
const DEFAULT_INPUTS: &str = "default-initial-policy-inputs";

#[derive(Deserialize)]
struct Case {
    id: String,
    name: String,
    cert: String,
    #[serde(default)]
    other_certs: Vec<String>,
    #[serde(default)]
    crls: Vec<String>,
    /// Absent: revocation data is required for every certificate.
    revocation: Option<bool>,
    /// RFC 5280 §6.1.1 initial inputs, when not the defaults.
    params: Option<BTreeMap<String, Value>>,
    /// Present when the path must be rejected.
    error: Option<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    /// pyHanko's exception class: a rough category of the reason.
    class: String,
}

impl Case {
    fn expected(&self) -> &'static str {
        match self.error {
            None => "valid",
            Some(_) => "invalid",
        }
    }
}

#[derive(Deserialize)]
struct Divergences {
    divergences: BTreeMap<String, Divergence>,
}

/// A listed divergence: what kyso says on each route, and why it is right.
#[derive(Deserialize)]
struct Divergence {
    id: String,
    /// "valid" or "invalid", as PKITS expects.
    expected: String,
    /// The chain route's [`Verdict::tag`].
    chain: String,
    /// The PDF route's [`Verdict::tag`].
    pdf: String,
    /// [`DEFAULT_INPUTS`] for an expected-invalid case kyso accepts.
    kind: Option<String>,
    reason: String,
}

/// What one route concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Verdict {
    valid: bool,
    /// "valid"; for the chain route the [`ChainError`] variant (with the
    /// constraint, e.g. `ChainConstraints(ExplicitPolicy)`); for the PDF
    /// route the sub-indication of `kyso verify`, or `sign refused (…)`
    /// with the signing error's variant.
    tag: String,
}

impl Verdict {
    fn valid() -> Self {
        Verdict {
            valid: true,
            tag: "valid".to_owned(),
        }
    }

    fn invalid(tag: String) -> Self {
        Verdict { valid: false, tag }
    }

    fn sign_refused(&self) -> bool {
        self.tag.starts_with("sign refused")
    }
}

/// The PKITS folders of the installed `cryptography-vectors`.
struct Pkits {
    certs: PathBuf,
    crls: PathBuf,
    pkcs12: PathBuf,
}

impl Pkits {
    fn cert(&self, name: &str) -> Vec<u8> {
        read(&self.certs.join(name))
    }

    fn crl(&self, name: &str) -> Vec<u8> {
        read(&self.crls.join(name))
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `KYSO_PKITS_VERBOSE` is set.
fn verbose() -> bool {
    std::env::var_os("KYSO_PKITS_VERBOSE").is_some()
}

/// The PKITS data, found with the venv's python; `None` after a notice when
/// the package is not installed, a failure under `CI` (as `support` does).
fn pkits_data() -> Option<Pkits> {
    let python = support::require_tool("python")?;
    let output = Command::new(&python)
        .args([
            "-c",
            "import cryptography_vectors, os; print(os.path.dirname(cryptography_vectors.__file__))",
        ])
        .output()
        .expect("run the venv python");
    if !output.status.success() {
        let ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty());
        assert!(
            !ci,
            "cryptography-vectors is missing from {} but CI must run PKITS: run scripts/test\n{}",
            python.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!("skipping: cryptography-vectors missing (run scripts/test)");
        return None;
    }
    let root =
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()).join("x509/PKITS_data");
    Some(Pkits {
        certs: root.join("certs"),
        crls: root.join("crls"),
        pkcs12: root.join("pkcs12"),
    })
}

fn corpus() -> Vec<Case> {
    let path = std::env::var_os("KYSO_PKITS_JSON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pkits/pkits.json")
        });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("PKITS expectations at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("pkits.json")
}

fn divergences() -> Divergences {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/pkits-divergences.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("divergences file"))
        .expect("divergences JSON")
}

/// The name of an enum value's variant, from its `Debug` form.
fn variant(value: &dyn Debug) -> String {
    let debug = format!("{value:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn chain_verdict(outcome: &Result<ValidatedPath, ChainError>) -> Verdict {
    match outcome {
        Ok(_) => Verdict::valid(),
        Err(ChainError::ChainConstraints { reason }) => {
            Verdict::invalid(format!("ChainConstraints({reason:?})"))
        }
        Err(error) => Verdict::invalid(variant(error)),
    }
}

/// Whether kyso's refusal is of the kind pyHanko's error class names: for
/// the summary only, since PKITS fixes outcomes, not reasons.
fn same_reason_kind(class: &str, chain_tag: &str) -> bool {
    let revocation = ["Revoked", "CaRevoked", "RevocationUnknown"];
    match class {
        "RevokedError" => matches!(chain_tag, "Revoked" | "CaRevoked"),
        "InsufficientRevinfoError" | "StaleRevinfoError" => chain_tag == "RevocationUnknown",
        _ => !revocation.contains(&chain_tag),
    }
}

/// A case's inputs, as both routes take them.
struct Inputs {
    signer: Vec<u8>,
    intermediates: Vec<Vec<u8>>,
    crl_paths: Vec<PathBuf>,
    revocation: Revocation,
    hard_fail: bool,
}

fn inputs(pkits: &Pkits, case: &Case) -> Inputs {
    let mut crls = case.crls.clone();
    crls.push("TrustAnchorRootCRL.crl".to_owned());
    let hard_fail = case.revocation != Some(false);
    let policy = match hard_fail {
        true => RevocationPolicy::HardFail,
        false => RevocationPolicy::SoftFail,
    };
    Inputs {
        signer: pkits.cert(&case.cert),
        intermediates: case.other_certs.iter().map(|n| pkits.cert(n)).collect(),
        crl_paths: crls.iter().map(|n| pkits.crls.join(n)).collect(),
        revocation: Revocation::new(crls.iter().map(|n| pkits.crl(n)).collect(), policy),
        hard_fail,
    }
}

/// What the PDF route shares between cases.
struct PdfRoute<'a> {
    pkits: &'a Pkits,
    base_pdf: Vec<u8>,
    anchor_pem: PathBuf,
    dir: &'a Path,
    at: SystemTime,
}

impl PdfRoute<'_> {
    /// Signs with the case's key, then runs `kyso verify --json`.
    fn run(&self, case: &Case, inputs: &Inputs) -> Verdict {
        let p12 = self.pkits.pkcs12.join(case.cert.replace(".crt", ".p12"));
        let signed = match self.sign(&p12, &inputs.intermediates) {
            Ok(pdf) => pdf,
            Err((refusal, text)) => {
                if verbose() {
                    println!("  {} sign refused: {text}", case.name);
                }
                return Verdict::invalid(format!("sign refused ({refusal})"));
            }
        };
        let out = self.dir.join(format!("{}.pdf", case.name));
        std::fs::write(&out, signed).expect("write the signed PDF");
        let mut command = Command::new(env!("CARGO_BIN_EXE_kyso"));
        command
            .arg("verify")
            .arg(&out)
            .arg("--trust")
            .arg(&self.anchor_pem)
            .args(["--at", AT, "--json"]);
        for crl in &inputs.crl_paths {
            command.arg("--crl").arg(crl);
        }
        if inputs.hard_fail {
            command.arg("--hard-fail-revocation");
        }
        let output = command.output().expect("run kyso verify");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "{}: kyso verify printed no JSON ({e}):\n{stdout}{}",
                case.name,
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let verdict = report["verdict"].as_str().unwrap_or_default();
        assert_eq!(
            output.status.success(),
            verdict == "TOTAL_PASSED",
            "{}: kyso verify exits with {} on verdict {verdict}",
            case.name,
            output.status
        );
        let signatures = report["signatures"].as_array().map_or(0, Vec::len);
        assert_eq!(
            signatures, 1,
            "{}: one signature expected:\n{stdout}",
            case.name
        );
        let signature = &report["signatures"][0];
        if verdict == "TOTAL_PASSED" {
            return Verdict::valid();
        }
        if verbose() {
            println!("  {} kyso verify: {}", case.name, signature["errors"]);
        }
        let sub_indication = signature["sub_indication"].as_str().unwrap_or(verdict);
        Verdict::invalid(sub_indication.to_owned())
    }

    /// The signed PDF, or why kyso refused to sign: the error's variant
    /// (e.g. `KeyFile::Key`) and its message.
    fn sign(&self, p12: &Path, intermediates: &[Vec<u8>]) -> Result<Vec<u8>, (String, String)> {
        let refused = |kind: &str, error: &dyn Debug, text: String| {
            (format!("{kind}::{}", variant(error)), text)
        };
        let material = keyfile::read_pkcs12(p12, PASSWORD, RsaPadding::Pkcs1)
            .map_err(|e| refused("KeyFile", &e, e.to_string()))?;
        let mut chain = material.chain;
        chain.truncate(1);
        chain.extend(intermediates.iter().cloned());
        let signer = Signer::new(Arc::clone(&material.key), &chain)
            .map_err(|e| refused("Sign", &e, e.to_string()))?;
        sign_pdf(&self.base_pdf, &signer, &SignOptions::default(), self.at)
            .map(|signed| signed.pdf)
            .map_err(|e| refused("Sign", &e, e.to_string()))
    }
}

/// Counts for the summary line, and everything that fails the test.
#[derive(Default)]
struct Tally {
    valid_as_expected: usize,
    invalid_as_expected: usize,
    listed_valid_refused: usize,
    listed_invalid_accepted: usize,
    signed: usize,
    sign_refused: usize,
    /// Expected refusals whose reason is of another kind than pyHanko's.
    other_reason_kind: Vec<String>,
    problems: Vec<String>,
}

impl Tally {
    fn problem(&mut self, text: String) {
        self.problems.push(text);
    }
}

fn check(
    case: &Case,
    all: &[Case],
    chain: &Verdict,
    pdf: &Verdict,
    listed: Option<&Divergence>,
    tally: &mut Tally,
) {
    let name = &case.name;
    let expect_valid = case.error.is_none();
    match pdf.sign_refused() {
        false => tally.signed += 1,
        true => tally.sign_refused += 1,
    }
    if !pdf.sign_refused() && pdf.valid != chain.valid {
        tally.problem(format!(
            "{name}: the routes disagree: chain {}, pdf {}",
            chain.tag, pdf.tag
        ));
    }
    let kyso_valid = chain.valid && pdf.valid;
    if let Some(error) = &case.error
        && !kyso_valid
        && !same_reason_kind(&error.class, &chain.tag)
    {
        tally
            .other_reason_kind
            .push(format!("{name}: PKITS {}, kyso {}", error.class, chain.tag));
    }
    let diverges = chain.valid != expect_valid || pdf.valid != expect_valid;
    let expected = case.expected();
    let Some(entry) = listed else {
        match (diverges, expect_valid) {
            (false, true) => tally.valid_as_expected += 1,
            (false, false) => tally.invalid_as_expected += 1,
            (true, false) if chain.valid || pdf.valid => tally.problem(format!(
                "{name}: UNEXPECTED VALID (chain {}, pdf {})",
                chain.tag, pdf.tag
            )),
            (true, _) => tally.problem(format!(
                "{name}: expected {expected}, unlisted divergence: chain {}, pdf {}",
                chain.tag, pdf.tag
            )),
        }
        return;
    };
    if !diverges {
        tally.problem(format!(
            "{name}: listed as a divergence, but kyso now says {expected} as PKITS does"
        ));
        return;
    }
    if entry.id != case.id || entry.expected != expected {
        tally.problem(format!(
            "{name}: listed as id {} expected {}, PKITS has id {} expected {expected}",
            entry.id, entry.expected, case.id
        ));
    }
    if entry.chain != chain.tag || entry.pdf != pdf.tag {
        tally.problem(format!(
            "{name}: listed as chain {:?}, pdf {:?}; kyso now says chain {:?}, pdf {:?}",
            entry.chain, entry.pdf, chain.tag, pdf.tag
        ));
    }
    if entry.reason.trim().is_empty() {
        tally.problem(format!("{name}: listed without a reason"));
    }
    match expect_valid {
        true => {
            if entry.kind.is_some() {
                tally.problem(format!("{name}: a refused valid case takes no kind"));
            }
            tally.listed_valid_refused += 1;
        }
        false => {
            check_default_inputs_divergence(case, all, entry, tally);
            tally.listed_invalid_accepted += 1;
        }
    }
}

/// The one admissible acceptance of an expected-invalid case: it sets an
/// RFC 5280 §6.1.1 initial input other than the default, and `pkits.json`
/// holds the same certificates and CRLs with default inputs as an
/// expected-valid case.
fn check_default_inputs_divergence(
    case: &Case,
    all: &[Case],
    entry: &Divergence,
    tally: &mut Tally,
) {
    let name = &case.name;
    if entry.kind.as_deref() != Some(DEFAULT_INPUTS) {
        tally.problem(format!(
            "{name}: an accepted invalid case must be of kind {DEFAULT_INPUTS}"
        ));
        return;
    }
    let non_default = case.params.iter().flatten().any(|(input, value)| {
        match input.as_str() {
            "user_initial_policy_set" => value
                .as_array()
                .is_some_and(|set| !set.iter().any(|oid| oid == ANY_POLICY)),
            // initial_explicit_policy, initial_policy_mapping_inhibit,
            // initial_any_policy_inhibit: false by default.
            _ => value == &Value::Bool(true),
        }
    });
    if !non_default {
        tally.problem(format!(
            "{name}: listed as {DEFAULT_INPUTS} but sets no non-default initial input"
        ));
    }
    let twin = all.iter().any(|other| {
        other.cert == case.cert
            && other.other_certs == case.other_certs
            && other.crls == case.crls
            && other.params.is_none()
            && other.error.is_none()
    });
    if !twin {
        tally.problem(format!(
            "{name}: listed as {DEFAULT_INPUTS} but PKITS has no expected-valid case with \
             the same certificates under default inputs"
        ));
    }
}

#[test]
fn every_pkits_case_meets_its_expectation_or_a_listed_divergence() {
    let Some(pkits) = pkits_data() else {
        return;
    };
    let cases = corpus();
    let listed = divergences();
    let at = parse_rfc3339(AT).expect("AT is RFC 3339");
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(base_pdf) = support::make_base_pdf(dir.path(), 1) else {
        return;
    };
    let anchor = pkits.cert("TrustAnchorRootCertificate.crt");
    let anchors = TrustAnchors::from_der(vec![anchor.clone()]).expect("the PKITS trust anchor");
    let anchor_pem = dir.path().join("trust-anchor.pem");
    let pem_text = pem::encode(&pem::Pem::new("CERTIFICATE", anchor));
    std::fs::write(&anchor_pem, pem_text).expect("write the anchor PEM");
    let route = PdfRoute {
        pkits: &pkits,
        base_pdf: read(&base_pdf),
        anchor_pem,
        dir: dir.path(),
        at,
    };

    let mut tally = Tally::default();
    for case in &cases {
        let inputs = inputs(&pkits, case);
        let outcome = validate_signer(
            &inputs.signer,
            &inputs.intermediates,
            &anchors,
            at,
            &inputs.revocation,
        );
        if let (true, Err(error)) = (verbose(), &outcome) {
            println!("  {} validate_signer: {error}", case.name);
        }
        let chain = chain_verdict(&outcome);
        let pdf = route.run(case, &inputs);
        if verbose() {
            println!(
                "{} {} expected {}: chain {}, pdf {}",
                case.id,
                case.name,
                case.expected(),
                chain.tag,
                pdf.tag
            );
        }
        let entry = listed.divergences.get(&case.name);
        check(case, &cases, &chain, &pdf, entry, &mut tally);
    }
    let names: BTreeSet<&str> = cases.iter().map(|case| case.name.as_str()).collect();
    for name in listed.divergences.keys() {
        if !names.contains(name.as_str()) {
            tally.problem(format!("{name}: listed, but not a PKITS case"));
        }
    }

    if verbose() && !tally.other_reason_kind.is_empty() {
        println!(
            "expected refusals for a reason of another kind than pyHanko's:\n  {}",
            tally.other_reason_kind.join("\n  ")
        );
    }
    println!(
        "PKITS: {} cases: {} valid as expected, {} invalid as expected, {} listed divergences \
         ({} expected-valid refused, {} expected-invalid accepted under default initial \
         policy inputs); pdf route: {} signed and verified by kyso verify, {} refused by the \
         signer; {} expected refusals for another kind of reason than pyHanko's; {} problems",
        cases.len(),
        tally.valid_as_expected,
        tally.invalid_as_expected,
        tally.listed_valid_refused + tally.listed_invalid_accepted,
        tally.listed_valid_refused,
        tally.listed_invalid_accepted,
        tally.signed,
        tally.sign_refused,
        tally.other_reason_kind.len(),
        tally.problems.len()
    );
    assert!(
        tally.problems.is_empty(),
        "PKITS divergences:\n{}",
        tally.problems.join("\n")
    );
}
