//! Independent judges and inputs for kyso's integration tests.
//!
//! kyso's own verifier must not be the only judge of kyso's signatures, so the
//! tests hand each signed PDF to three programs written by other people:
//! pyHanko (through `validate_pyhanko.py`, which uses its Python API rather
//! than scraping the CLI), poppler's `pdfsig` (NSS underneath) and
//! `qpdf --check`. The same module makes the PDFs that kyso signs: a small
//! base document written by pikepdf, and variants of it in every cross-reference
//! style, version and state that a signer meets in the field.
//!
//! Every entry point returns `None` when a tool it needs is missing, after
//! saying so on stderr, so `cargo test` still runs on a bare machine; under
//! `CI` a missing tool is a failure instead. `scripts/test` installs them all.

#![allow(
    dead_code,
    reason = "each test binary includes this module and uses only part of it"
)]

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub mod postgres;
pub mod server;

/// The user password of [`InputKind::Encrypted`] fixtures (the owner
/// password is `owner`).
pub const ENCRYPTED_USER_PASSWORD: &str = "user";

/// Finds an external tool the tests need: `python` and `pyhanko` from the
/// project's venv (or `KYSO_PYTHON` / `KYSO_PYHANKO`), anything else on `PATH`.
///
/// When the tool is missing, panics if the `CI` variable is set (CI must judge
/// with every validator) and otherwise prints a skip notice and returns `None`,
/// so the caller can return early.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    let found = match name {
        "python" => venv_tool("KYSO_PYTHON", "python"),
        "pyhanko" => venv_tool("KYSO_PYHANKO", "pyhanko"),
        "pdfsig" | "qpdf" | "certutil" | "openssl" => on_path(name),
        other => panic!("require_tool: unknown tool {other:?}"),
    };
    if found.is_none() {
        if in_ci() {
            panic!("{name} is missing but CI must run every validator: run scripts/test");
        }
        eprintln!("skipping: {name} missing (run scripts/test)");
    }
    found
}

fn venv_tool(variable: &str, file: &str) -> Option<PathBuf> {
    let path = match env::var_os(variable) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => manifest_dir().join(".venv/bin").join(file),
    };
    path.is_file().then_some(path)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn in_ci() -> bool {
    env::var_os("CI").is_some_and(|value| !value.is_empty())
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn support_script(name: &str) -> PathBuf {
    manifest_dir().join("tests/support").join(name)
}

/// Runs a command that is known to exist; failing to start it is a broken
/// machine, not a test result.
fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

/// Runs a command that must succeed, for fixture and PKI generation.
fn run_ok(command: &mut Command) -> Output {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}",
        output.status,
        text_of(&output)
    );
    output
}

/// stdout, then stderr, as text.
fn text_of(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text
}

// ---------------------------------------------------------------------------
// pyHanko

/// What pyHanko concluded about one embedded signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyhankoSignature {
    /// Fully qualified name of the signature field.
    pub field: String,
    /// `/Sig` or `/DocTimeStamp`.
    pub kind: String,
    /// `/ETSI.CAdES.detached` for PAdES. pyHanko skips signatures whose
    /// /SubFilter it does not know, so they are never listed here.
    pub subfilter: Option<String>,
    /// Digest algorithm, e.g. `sha256`.
    pub md_algorithm: Option<String>,
    /// The signed attributes' message digest matches the byte ranges.
    pub intact: bool,
    /// The CMS signature over the signed attributes verifies.
    pub valid: bool,
    /// A path to the trust root was built and the key usage is acceptable
    /// (pyHanko requires nonRepudiation by default).
    pub trusted: bool,
    /// pyHanko's overall judgement: the above plus modification policy.
    pub bottom_line: bool,
    /// `ENTIRE_FILE`, `ENTIRE_REVISION`, `CONTIGUOUS_BLOCK_FROM_START`, …
    pub coverage: Option<String>,
    /// `NONE`, `LTA_UPDATES`, `FORM_FILLING`, `ANNOTATIONS`, `OTHER`.
    pub modification_level: Option<String>,
    /// Whether later changes are allowed by the DocMDP permissions.
    pub docmdp_ok: Option<bool>,
    /// The signer certificate's subject, as pyHanko prints it.
    pub signer: Option<String>,
    /// Name of pyHanko's trust problem (AdES subindication), if any.
    pub trust_problem: Option<String>,
    /// An exception raised while validating this signature.
    pub error: Option<String>,
}

/// pyHanko's verdict on a whole file.
#[derive(Clone, Debug)]
pub struct PyhankoReport {
    /// Every signature is intact (false when there is none).
    pub intact: bool,
    /// Every signature is cryptographically valid (false when there is none).
    pub valid: bool,
    /// Every signer chains to the given root (false when there is none).
    pub trusted: bool,
    /// The last signature in signing order covers the entire file.
    pub whole_file: bool,
    /// Number of embedded signatures pyHanko recognised.
    pub signatures: usize,
    /// Per signature, in signing order.
    pub details: Vec<PyhankoSignature>,
    /// Set when pyHanko could not open the file at all.
    pub error: Option<String>,
    /// The script's JSON output (or its stderr when it failed).
    pub raw: String,
}

/// Validates every signature in `pdf` with pyHanko, trusting only
/// `trust_root_pem`, with no fetching and soft-fail revocation.
pub fn pyhanko_validate(pdf: &Path, trust_root_pem: &Path) -> Option<PyhankoReport> {
    pyhanko_validate_with(pdf, trust_root_pem, &[])
}

/// [`pyhanko_validate`], but pyHanko fetches each certificate's CRL from its
/// distribution point and fails hard without one: a revoked certificate is
/// not trusted.
pub fn pyhanko_validate_fetching_crls(pdf: &Path, trust_root_pem: &Path) -> Option<PyhankoReport> {
    pyhanko_validate_with(pdf, trust_root_pem, &["--fetch-revocation"])
}

fn pyhanko_validate_with(
    pdf: &Path,
    trust_root_pem: &Path,
    extra: &[&str],
) -> Option<PyhankoReport> {
    let python = require_tool("python")?;
    let output = run(Command::new(python)
        .arg(support_script("validate_pyhanko.py"))
        .arg(pdf)
        .arg("--trust")
        .arg(trust_root_pem)
        .args(extra));
    if !output.status.success() {
        let raw = text_of(&output);
        return Some(PyhankoReport {
            intact: false,
            valid: false,
            trusted: false,
            whole_file: false,
            signatures: 0,
            details: Vec::new(),
            error: Some(raw.trim().to_owned()),
            raw,
        });
    }
    let raw = String::from_utf8_lossy(&output.stdout).into_owned();
    let json: Value = serde_json::from_str(&raw)
        .unwrap_or_else(|e| panic!("validate_pyhanko.py printed no JSON ({e}):\n{raw}"));
    let details: Vec<PyhankoSignature> = json["signatures"]
        .as_array()
        .unwrap_or_else(|| panic!("validate_pyhanko.py: no signatures array:\n{raw}"))
        .iter()
        .map(pyhanko_signature)
        .collect();
    let all =
        |check: fn(&PyhankoSignature) -> bool| !details.is_empty() && details.iter().all(check);
    Some(PyhankoReport {
        intact: all(|s| s.intact),
        valid: all(|s| s.valid),
        trusted: all(|s| s.trusted),
        whole_file: details
            .last()
            .is_some_and(|s| s.coverage.as_deref() == Some("ENTIRE_FILE")),
        signatures: details.len(),
        details,
        error: None,
        raw,
    })
}

fn pyhanko_signature(entry: &Value) -> PyhankoSignature {
    let text = |key: &str| entry[key].as_str().map(str::to_owned);
    let flag = |key: &str| entry[key].as_bool().unwrap_or(false);
    PyhankoSignature {
        field: text("field").unwrap_or_default(),
        kind: text("type").unwrap_or_default(),
        subfilter: text("subfilter"),
        md_algorithm: text("md_algorithm"),
        intact: flag("intact"),
        valid: flag("valid"),
        trusted: flag("trusted"),
        bottom_line: flag("bottom_line"),
        coverage: text("coverage"),
        modification_level: text("modification_level"),
        docmdp_ok: entry["docmdp_ok"].as_bool(),
        signer: text("signer"),
        trust_problem: text("trust_problem"),
        error: text("error"),
    }
}

// ---------------------------------------------------------------------------
// pdfsig

/// What pdfsig printed about one signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdfsigSignature {
    /// "Signature Validation: Signature is Valid."
    pub signature_valid: bool,
    /// "Certificate Validation: Certificate is Trusted."
    pub certificate_trusted: bool,
    /// "Total document signed" (rather than "Not total document signed").
    pub total_document_signed: bool,
    /// "Signer Certificate Common Name".
    pub signer: String,
    /// "Signature Field Name".
    pub field: String,
    /// The text after "Signature Validation:", e.g. "Digest Mismatch.".
    pub signature_status: String,
    /// The text after "Certificate Validation:", e.g.
    /// "Certificate issuer isn't Trusted.".
    pub certificate_status: String,
}

/// pdfsig's verdict on a whole file.
#[derive(Clone, Debug)]
pub struct PdfsigReport {
    /// Per signature, in the order pdfsig lists them (file order).
    pub signatures: Vec<PdfsigSignature>,
    /// pdfsig's stdout and stderr, and its exit status.
    pub raw: String,
}

/// Runs `pdfsig` on `pdf` with a throwaway NSS database whose only trust
/// anchor is `trust_root_pem`.
///
/// Two quirks of poppler 22.12 / NSS 3.87 (Debian 12), both seen here:
/// - `-no-ocsp` turns every certificate verdict into "Unknown issue with
///   Certificate or corrupted data.", so it is not passed; test certificates
///   therefore must not name an OCSP responder off this machine.
/// - A signature whose CMS carries only the signer's certificate, after an
///   earlier signature whose CMS also carried the root, gets that same
///   "Unknown issue" verdict although the root is in the database. Signatures
///   that embed the same chain (or all embed none) are judged correctly.
pub fn pdfsig_validate(pdf: &Path, trust_root_pem: &Path) -> Option<PdfsigReport> {
    let pdfsig = require_tool("pdfsig")?;
    let certutil = require_tool("certutil")?;
    let nss = tempfile::tempdir().expect("temporary NSS directory");
    let database = format!("sql:{}", nss.path().display());
    run_ok(Command::new(&certutil).args(["-N", "--empty-password", "-d", &database]));
    run_ok(
        Command::new(&certutil)
            .args(["-A", "-n", "root", "-t", "CT,C,C", "-i"])
            .arg(trust_root_pem)
            .args(["-d", &database]),
    );
    let output = run(Command::new(pdfsig).args(["-nssdir", &database]).arg(pdf));
    let mut raw = text_of(&output);
    let _ = write!(raw, "[pdfsig {}]", output.status);
    Some(PdfsigReport {
        signatures: parse_pdfsig(&String::from_utf8_lossy(&output.stdout)),
        raw,
    })
}

/// Parses pdfsig's listing: a "Signature #N:" line, then "  - Key: value"
/// lines and the bare "  - Total document signed" / "Not total …" line.
fn parse_pdfsig(stdout: &str) -> Vec<PdfsigSignature> {
    let mut signatures: Vec<PdfsigSignature> = Vec::new();
    for line in stdout.lines() {
        if line.starts_with("Signature #") {
            signatures.push(PdfsigSignature {
                signature_valid: false,
                certificate_trusted: false,
                total_document_signed: false,
                signer: String::new(),
                field: String::new(),
                signature_status: String::new(),
                certificate_status: String::new(),
            });
            continue;
        }
        let (Some(current), Some(item)) = (signatures.last_mut(), line.trim().strip_prefix("- "))
        else {
            continue;
        };
        match item.split_once(": ") {
            Some(("Signature Field Name", value)) => current.field = value.to_owned(),
            Some(("Signer Certificate Common Name", value)) => current.signer = value.to_owned(),
            Some(("Signature Validation", value)) => {
                current.signature_valid = value == "Signature is Valid.";
                current.signature_status = value.to_owned();
            }
            Some(("Certificate Validation", value)) => {
                current.certificate_trusted = value == "Certificate is Trusted.";
                current.certificate_status = value.to_owned();
            }
            _ if item == "Total document signed" => current.total_document_signed = true,
            _ => {}
        }
    }
    signatures
}

// ---------------------------------------------------------------------------
// qpdf

/// `qpdf --check`: `Ok` only on exit status 0. Exit status 3 means qpdf
/// recovered from problems and warned; kyso's output must not cause that, so
/// it is an `Err` carrying qpdf's text, as is any other failure.
pub fn qpdf_check(pdf: &Path) -> Option<Result<(), String>> {
    let output = qpdf(&["--check"], pdf)?;
    Some(if output.status.success() {
        Ok(())
    } else {
        Err(format!("{}[qpdf {}]", text_of(&output), output.status))
    })
}

/// The warnings `qpdf --check` prints for `pdf`, without the `WARNING:` tag
/// and the file name, so that the lists for two files can be compared.
///
/// Some inputs warn before kyso touches them (15 of the 58 signed PDFs in the
/// shared corpus do: linearization hints broken by a later update, a /Size
/// that is too small, damaged xref tables); kyso's output may keep those but
/// must add none, which [`assert_validated_by_peers_given_input`] checks.
pub fn qpdf_warnings(pdf: &Path) -> Option<Vec<String>> {
    let output = qpdf(&["--check"], pdf)?;
    let name = pdf.display().to_string();
    Some(
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .filter_map(|line| line.strip_prefix("WARNING: "))
            .map(|line| line.strip_prefix(name.as_str()).unwrap_or(line).to_owned())
            .collect(),
    )
}

/// Runs `qpdf ARGS… PDF` and returns its output whatever the exit status,
/// for inspections such as `--show-xref` or `--check-linearization`.
pub fn qpdf(args: &[&str], pdf: &Path) -> Option<Output> {
    let qpdf = require_tool("qpdf")?;
    Some(run(Command::new(qpdf).args(args).arg(pdf)))
}

// ---------------------------------------------------------------------------
// All three

/// Asserts that pyHanko, pdfsig and qpdf all accept `pdf`: exactly
/// `expected_signatures` signatures, each intact, valid, trusted to
/// `root_pem` and accepted overall by pyHanko (`bottom_line`, which includes
/// its modification analysis of later revisions), the last one covering the
/// whole file; and `qpdf --check` clean. Panics with the validator's raw
/// output on failure; a validator that is missing outside CI is skipped.
pub fn assert_validated_by_peers(pdf: &Path, root_pem: &Path, expected_signatures: usize) {
    assert_signatures_accepted(pdf, root_pem, expected_signatures);
    if let Some(Err(text)) = qpdf_check(pdf) {
        panic!("qpdf --check rejects {}:\n{text}", pdf.display());
    }
}

/// [`assert_validated_by_peers`] for a `signed` file made from an `input`
/// that already makes qpdf warn: `signed` may repeat `input`'s warnings but
/// must add none and must not make `qpdf --check` fail outright.
pub fn assert_validated_by_peers_given_input(
    input: &Path,
    signed: &Path,
    root_pem: &Path,
    expected_signatures: usize,
) {
    assert_signatures_accepted(signed, root_pem, expected_signatures);
    let (Some(before), Some(after)) = (qpdf_warnings(input), qpdf_warnings(signed)) else {
        return;
    };
    let added: Vec<&String> = after.iter().filter(|w| !before.contains(w)).collect();
    assert!(
        added.is_empty(),
        "qpdf warns about {} but not about its input {}:\n{added:#?}",
        signed.display(),
        input.display()
    );
    if let Some(output) = qpdf(&["--check"], signed) {
        // Exit status 3 is "warnings only", and those were just compared.
        assert!(
            matches!(output.status.code(), Some(0 | 3)),
            "qpdf --check fails on {}:\n{}",
            signed.display(),
            text_of(&output)
        );
    }
}

/// The pyHanko and pdfsig halves of [`assert_validated_by_peers`].
fn assert_signatures_accepted(pdf: &Path, root_pem: &Path, expected_signatures: usize) {
    let name = pdf.display();
    if let Some(report) = pyhanko_validate(pdf, root_pem) {
        let raw = &report.raw;
        assert_eq!(
            report.signatures, expected_signatures,
            "pyHanko found {} signatures in {name}, expected {expected_signatures}:\n{raw}",
            report.signatures
        );
        for s in &report.details {
            assert!(
                s.intact && s.valid && s.trusted && s.bottom_line,
                "pyHanko rejects signature {} in {name}:\n{raw}",
                s.field
            );
        }
        assert!(
            report.whole_file,
            "pyHanko: the last signature in {name} does not cover the entire file:\n{raw}"
        );
    }
    if let Some(report) = pdfsig_validate(pdf, root_pem) {
        let raw = &report.raw;
        assert_eq!(
            report.signatures.len(),
            expected_signatures,
            "pdfsig found {} signatures in {name}, expected {expected_signatures}:\n{raw}",
            report.signatures.len()
        );
        for s in &report.signatures {
            assert!(
                s.signature_valid && s.certificate_trusted,
                "pdfsig rejects signature {} in {name}:\n{raw}",
                s.field
            );
        }
        assert!(
            report
                .signatures
                .last()
                .is_some_and(|s| s.total_document_signed),
            "pdfsig: the last signature in {name} does not sign the total document:\n{raw}"
        );
    }
}

// ---------------------------------------------------------------------------
// Input fixtures

/// The shapes of input PDF a signer must handle (or refuse cleanly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// Classic `xref` table, no object streams (ISO 32000-1 7.5.4).
    ClassicXref,
    /// Cross-reference stream with objects in object streams (7.5.7, 7.5.8).
    XrefStreamWithObjectStreams,
    /// Classic table plus `/XRefStm` to a stream listing the compressed
    /// objects, which include the page tree (7.5.8.4).
    Hybrid,
    /// Linearized ("fast web view", Annex F).
    Linearized,
    /// A classic file with one appended revision redefining `/Info` (7.5.6).
    IncrementallyUpdated,
    /// A classic file whose header claims this version, "1.4" to "2.0".
    Version(&'static str),
    /// AES-256 encrypted (R6) with user password [`ENCRYPTED_USER_PASSWORD`].
    Encrypted,
    /// The first 60 % of a classic file.
    Truncated,
    /// A PNG signature and some text, named `.pdf`.
    NotAPdf,
    /// A classic file with an AcroForm holding one filled text field.
    AcroFormTextField,
    /// Signed once by pyHanko with a throwaway OpenSSL PKI in
    /// `dir/pyhanko-pki` (root at `dir/pyhanko-pki/root.pem`). To sign with
    /// another key, use [`pyhanko_sign`].
    PyhankoSigned,
}

impl InputKind {
    /// Well-formed, unencrypted inputs that a signer must accept.
    pub const SIGNABLE: [InputKind; 11] = [
        InputKind::ClassicXref,
        InputKind::XrefStreamWithObjectStreams,
        InputKind::Hybrid,
        InputKind::Linearized,
        InputKind::IncrementallyUpdated,
        InputKind::Version("1.4"),
        InputKind::Version("1.5"),
        InputKind::Version("1.6"),
        InputKind::Version("1.7"),
        InputKind::Version("2.0"),
        InputKind::AcroFormTextField,
    ];

    /// Inputs a signer must refuse with an error rather than sign.
    pub const UNSIGNABLE: [InputKind; 3] = [
        InputKind::Encrypted,
        InputKind::Truncated,
        InputKind::NotAPdf,
    ];
}

/// Writes a fixture of `kind` into `dir` and returns its path (file names
/// say what they are, e.g. `hybrid-xref.pdf`). `None` when a tool is missing
/// outside CI; panics when a present tool fails.
pub fn make_input(kind: InputKind, dir: &Path) -> Option<PathBuf> {
    // Every valid kind derives from the same three-page base document.
    let base = || make_base_pdf(dir, 3);
    let derived = |name: &str| dir.join(name);
    let path = match kind {
        InputKind::ClassicXref => qpdf_write(
            &["--object-streams=disable"],
            &base()?,
            &derived("classic-xref.pdf"),
        )?,
        InputKind::XrefStreamWithObjectStreams => qpdf_write(
            &["--object-streams=generate"],
            &base()?,
            &derived("xref-stream-object-streams.pdf"),
        )?,
        InputKind::Linearized => {
            qpdf_write(&["--linearize"], &base()?, &derived("linearized.pdf"))?
        }
        InputKind::Version(version) => {
            assert!(
                ["1.4", "1.5", "1.6", "1.7", "2.0"].contains(&version),
                "make_input: no fixture for PDF version {version}"
            );
            let force = format!("--force-version={version}");
            qpdf_write(
                &["--object-streams=disable", &force],
                &base()?,
                &derived(&format!("version-{version}.pdf")),
            )?
        }
        InputKind::Encrypted => {
            let out = derived("encrypted-aes256.pdf");
            let qpdf = require_tool("qpdf")?;
            run_ok(
                Command::new(qpdf)
                    .args(["--encrypt", ENCRYPTED_USER_PASSWORD, "owner", "256", "--"])
                    .arg(base()?)
                    .arg(&out),
            );
            out
        }
        InputKind::Hybrid => {
            let classic = make_input(InputKind::ClassicXref, dir)?;
            fixture_script(&["hybrid"], &[&classic, &derived("hybrid-xref.pdf")])?
        }
        InputKind::IncrementallyUpdated => {
            let classic = make_input(InputKind::ClassicXref, dir)?;
            fixture_script(
                &["incremental"],
                &[&classic, &derived("incremental-update.pdf")],
            )?
        }
        InputKind::Truncated => {
            let classic = make_input(InputKind::ClassicXref, dir)?;
            let bytes = fs::read(&classic).expect("read classic fixture");
            let out = derived("truncated-60-percent.pdf");
            fs::write(&out, &bytes[..bytes.len() * 6 / 10]).expect("write truncated fixture");
            out
        }
        InputKind::NotAPdf => {
            let out = derived("not-a-pdf.pdf");
            let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
            bytes.extend_from_slice(b"This is not a PDF, whatever its name says.\n");
            fs::write(&out, bytes).expect("write not-a-pdf fixture");
            out
        }
        InputKind::AcroFormTextField => {
            let out = derived("acroform-text-field.pdf");
            fixture_script(&["base", "--pages", "3", "--text-field"], &[&out])?
        }
        InputKind::PyhankoSigned => {
            let classic = make_input(InputKind::ClassicXref, dir)?;
            let pki = openssl_test_pki(&dir.join("pyhanko-pki"))?;
            let out = derived("pyhanko-signed.pdf");
            pyhanko_sign(
                &classic,
                &pki.leaf_key,
                &pki.leaf_cert,
                &[&pki.root_cert],
                &out,
                "Signature1",
            )?;
            out
        }
    };
    Some(path)
}

/// Writes the base document: `pages` pages of text, the Vietnamese title
/// "Ủy ban nhân dân tỉnh Hòa Bình" as a UTF-16 Info `/Title`, classic xref,
/// PDF 1.7. Returns `dir/base-{pages}p.pdf`.
pub fn make_base_pdf(dir: &Path, pages: usize) -> Option<PathBuf> {
    let out = dir.join(format!("base-{pages}p.pdf"));
    fixture_script(&["base", "--pages", &pages.to_string()], &[&out])
}

/// Runs `make_fixture.py ARGS… PATHS…`; the last path is the output.
fn fixture_script(args: &[&str], paths: &[&Path]) -> Option<PathBuf> {
    let python = require_tool("python")?;
    // argparse wants the subcommand first, then positionals, then options.
    let (command, options) = args.split_first().expect("a make_fixture.py subcommand");
    run_ok(
        Command::new(python)
            .arg(support_script("make_fixture.py"))
            .arg(command)
            .args(paths)
            .args(options),
    );
    paths.last().map(|path| path.to_path_buf())
}

fn qpdf_write(args: &[&str], input: &Path, out: &Path) -> Option<PathBuf> {
    let qpdf = require_tool("qpdf")?;
    run_ok(Command::new(qpdf).args(args).arg(input).arg(out));
    Some(out.to_path_buf())
}

/// Signs `input` with pyHanko into `out` (PAdES B-B, `/ETSI.CAdES.detached`,
/// SHA-256, invisible, as an incremental update), in signature field `field`
/// (created when absent). `chain_pem` certificates are embedded in the CMS.
pub fn pyhanko_sign(
    input: &Path,
    key_pem: &Path,
    cert_pem: &Path,
    chain_pem: &[&Path],
    out: &Path,
    field: &str,
) -> Option<()> {
    let python = require_tool("python")?;
    let mut command = Command::new(python);
    command
        .arg(support_script("sign_pyhanko.py"))
        .arg(input)
        .arg(out)
        .arg("--key")
        .arg(key_pem)
        .arg("--cert")
        .arg(cert_pem)
        .args(["--field", field]);
    for chain in chain_pem {
        command.arg("--chain").arg(chain);
    }
    run_ok(&mut command);
    Some(())
}

/// A two-level P-256 PKI made with the `openssl` command, for tests of this
/// module and for inputs signed by a third party. kyso's own tests build
/// their PKI with kyso's code.
#[derive(Clone, Debug)]
pub struct TestPki {
    /// Self-signed root "CN=Test Root" (CA, keyCertSign, cRLSign).
    pub root_cert: PathBuf,
    /// The root's private key (PKCS#8 PEM).
    pub root_key: PathBuf,
    /// Leaf "CN=Test Signer, O=kyso tests" issued by the root, keyUsage
    /// digitalSignature and nonRepudiation, no AIA or CRL distribution point.
    pub leaf_cert: PathBuf,
    /// The leaf's private key (PKCS#8 PEM).
    pub leaf_key: PathBuf,
}

/// Creates `dir` and a fresh [`TestPki`] in it.
pub fn openssl_test_pki(dir: &Path) -> Option<TestPki> {
    let openssl = require_tool("openssl")?;
    fs::create_dir_all(dir).expect("create PKI directory");
    let pki = TestPki {
        root_cert: dir.join("root.pem"),
        root_key: dir.join("root.key"),
        leaf_cert: dir.join("leaf.pem"),
        leaf_key: dir.join("leaf.key"),
    };
    let csr = dir.join("leaf.csr");
    let extensions = dir.join("leaf.ext");
    fs::write(
        &extensions,
        "basicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature, nonRepudiation\n\
         subjectKeyIdentifier = hash\n\
         authorityKeyIdentifier = keyid\n",
    )
    .expect("write leaf extensions");
    let p256 = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run_ok(
        Command::new(&openssl)
            .args(["req", "-x509", "-days", "3650", "-subj", "/CN=Test Root"])
            .args(p256)
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            .arg("-keyout")
            .arg(&pki.root_key)
            .arg("-out")
            .arg(&pki.root_cert),
    );
    run_ok(
        Command::new(&openssl)
            .args(["req", "-new", "-subj", "/O=kyso tests/CN=Test Signer"])
            .args(p256)
            .arg("-keyout")
            .arg(&pki.leaf_key)
            .arg("-out")
            .arg(&csr),
    );
    run_ok(
        Command::new(&openssl)
            .args(["x509", "-req", "-days", "365", "-CAcreateserial"])
            .arg("-in")
            .arg(&csr)
            .arg("-CA")
            .arg(&pki.root_cert)
            .arg("-CAkey")
            .arg(&pki.root_key)
            .arg("-extfile")
            .arg(&extensions)
            .arg("-out")
            .arg(&pki.leaf_cert),
    );
    Some(pki)
}
