//! Checks that the test support module makes what it claims and that its
//! validators can tell a good signature from a bad one. If these fail, no
//! other verdict from `support` can be believed.

mod support;

use std::fs;
use std::path::Path;

use support::{InputKind, TestPki};

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

fn stdout_of(args: &[&str], pdf: &Path) -> Option<(bool, String)> {
    let output = support::qpdf(args, pdf)?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Some((output.status.success(), text))
}

/// A PDF signed once by pyHanko with a fresh OpenSSL PKI.
fn signed_once(dir: &Path) -> Option<(std::path::PathBuf, TestPki)> {
    let input = support::make_input(InputKind::ClassicXref, dir)?;
    let pki = support::openssl_test_pki(&dir.join("pki"))?;
    let signed = dir.join("signed-once.pdf");
    support::pyhanko_sign(
        &input,
        &pki.leaf_key,
        &pki.leaf_cert,
        &[&pki.root_cert],
        &signed,
        "Signature1",
    )?;
    Some((signed, pki))
}

#[test]
fn every_signable_fixture_passes_qpdf_check() {
    let dir = scratch();
    for kind in InputKind::SIGNABLE {
        let Some(pdf) = support::make_input(kind, dir.path()) else {
            return;
        };
        let Some(check) = support::qpdf_check(&pdf) else {
            return;
        };
        if let Err(text) = check {
            panic!("{kind:?} fixture fails qpdf --check:\n{text}");
        }
    }
}

#[test]
fn unsignable_fixtures_fail_qpdf_check_without_a_password() {
    let dir = scratch();
    for kind in InputKind::UNSIGNABLE {
        let Some(pdf) = support::make_input(kind, dir.path()) else {
            return;
        };
        let Some(check) = support::qpdf_check(&pdf) else {
            return;
        };
        assert!(check.is_err(), "{kind:?} fixture passes qpdf --check");
    }
}

#[test]
fn base_fixture_carries_the_vietnamese_title_in_utf16() {
    let dir = scratch();
    let Some(pdf) = support::make_base_pdf(dir.path(), 3) else {
        return;
    };
    let bytes = fs::read(&pdf).expect("read base fixture");
    let title: String = "Ủy ban nhân dân tỉnh Hòa Bình"
        .encode_utf16()
        .map(|unit| format!("{unit:04x}"))
        .collect();
    let needle = format!("/Title <feff{title}>");
    assert!(
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
        "base fixture has no UTF-16BE title {needle}"
    );
    let Some((ok, json)) = stdout_of(&["--json=2", "--json-key=pages"], &pdf) else {
        return;
    };
    assert!(ok, "{json}");
    let pages: serde_json::Value = serde_json::from_str(&json).expect("qpdf JSON");
    assert_eq!(pages["pages"].as_array().map(Vec::len), Some(3), "{json}");
}

#[test]
fn classic_fixture_has_only_a_cross_reference_table() {
    let dir = scratch();
    let Some(pdf) = support::make_input(InputKind::ClassicXref, dir.path()) else {
        return;
    };
    let Some((ok, xref)) = stdout_of(&["--show-xref"], &pdf) else {
        return;
    };
    assert!(ok, "{xref}");
    assert!(!xref.contains("compressed; stream ="), "{xref}");
    let bytes = fs::read(&pdf).expect("read fixture");
    assert!(contains(&bytes, b"\nxref\n") && !contains(&bytes, b"/XRefStm"));
}

#[test]
fn xref_stream_fixture_keeps_objects_in_object_streams() {
    let dir = scratch();
    let Some(pdf) = support::make_input(InputKind::XrefStreamWithObjectStreams, dir.path()) else {
        return;
    };
    let Some((ok, xref)) = stdout_of(&["--show-xref"], &pdf) else {
        return;
    };
    assert!(ok && xref.contains("compressed; stream ="), "{xref}");
    let bytes = fs::read(&pdf).expect("read fixture");
    assert!(
        !contains(&bytes, b"\nxref\n"),
        "fixture still has a classic table"
    );
}

#[test]
fn hybrid_fixture_has_a_classic_table_and_an_xref_stream() {
    let dir = scratch();
    let Some(pdf) = support::make_input(InputKind::Hybrid, dir.path()) else {
        return;
    };
    let bytes = fs::read(&pdf).expect("read fixture");
    assert!(contains(&bytes, b"\nxref\n"), "no classic xref table");
    assert!(contains(&bytes, b"/XRefStm "), "no /XRefStm in the trailer");
    let Some((ok, xref)) = stdout_of(&["--show-xref"], &pdf) else {
        return;
    };
    assert!(ok, "{xref}");
    assert!(
        xref.contains("uncompressed;") && xref.contains("compressed; stream ="),
        "{xref}"
    );
    // The page tree sits in the object stream, so a reader that ignores
    // /XRefStm cannot read the document.
    let Some((ok, text)) = stdout_of(&["--ignore-xref-streams", "--check"], &pdf) else {
        return;
    };
    assert!(!ok, "readable without the xref stream:\n{text}");
}

#[test]
fn linearized_fixture_passes_the_linearization_check() {
    let dir = scratch();
    let Some(pdf) = support::make_input(InputKind::Linearized, dir.path()) else {
        return;
    };
    let Some((ok, text)) = stdout_of(&["--check-linearization"], &pdf) else {
        return;
    };
    assert!(ok && text.contains("no linearization errors"), "{text}");
}

#[test]
fn incremental_fixture_has_two_revisions() {
    let dir = scratch();
    let Some(pdf) = support::make_input(InputKind::IncrementallyUpdated, dir.path()) else {
        return;
    };
    let bytes = fs::read(&pdf).expect("read fixture");
    let eofs = bytes.windows(5).filter(|w| w == b"%%EOF").count();
    assert_eq!(eofs, 2, "expected two revisions");
    assert!(contains(&bytes, b"/Prev "), "second trailer has no /Prev");
}

#[test]
fn version_fixtures_declare_their_version_in_the_header() {
    let dir = scratch();
    for version in ["1.4", "1.5", "1.6", "1.7", "2.0"] {
        let Some(pdf) = support::make_input(InputKind::Version(version), dir.path()) else {
            return;
        };
        let bytes = fs::read(&pdf).expect("read fixture");
        let header = format!("%PDF-{version}\n");
        assert!(
            bytes.starts_with(header.as_bytes()),
            "{version}: wrong header"
        );
    }
}

#[test]
fn encrypted_fixture_has_an_encrypt_dictionary() {
    let dir = scratch();
    let Some(pdf) = support::make_input(InputKind::Encrypted, dir.path()) else {
        return;
    };
    let bytes = fs::read(&pdf).expect("read fixture");
    assert!(contains(&bytes, b"/Encrypt"), "no /Encrypt in the trailer");
    let password = format!("--password={}", support::ENCRYPTED_USER_PASSWORD);
    let Some((ok, text)) = stdout_of(&["--show-encryption", &password], &pdf) else {
        return;
    };
    assert!(ok && text.contains("R = 6"), "{text}");
    let Some((ok, text)) = stdout_of(&["--check", &password], &pdf) else {
        return;
    };
    assert!(ok, "{text}");
}

#[test]
fn text_field_fixture_has_one_filled_text_field() {
    let dir = scratch();
    let Some(pdf) = support::make_input(InputKind::AcroFormTextField, dir.path()) else {
        return;
    };
    let Some((ok, json)) = stdout_of(&["--json=2", "--json-key=acroform"], &pdf) else {
        return;
    };
    assert!(ok, "{json}");
    let form: serde_json::Value = serde_json::from_str(&json).expect("qpdf JSON");
    let fields = form["acroform"]["fields"].as_array().expect("fields");
    assert_eq!(fields.len(), 1, "{json}");
    assert_eq!(fields[0]["fieldtype"], "/Tx", "{json}");
    assert_eq!(fields[0]["value"], "u:Nguyen Van A", "{json}");
}

#[test]
fn pyhanko_signed_fixture_is_accepted_by_every_peer() {
    let dir = scratch();
    let Some(pdf) = support::make_input(InputKind::PyhankoSigned, dir.path()) else {
        return;
    };
    let root = dir.path().join("pyhanko-pki/root.pem");
    support::assert_validated_by_peers(&pdf, &root, 1);
}

#[test]
fn pyhanko_signature_on_each_signable_fixture_is_accepted_by_every_peer() {
    let dir = scratch();
    let Some(pki) = support::openssl_test_pki(&dir.path().join("pki")) else {
        return;
    };
    for kind in InputKind::SIGNABLE {
        let Some(input) = support::make_input(kind, dir.path()) else {
            return;
        };
        let out = dir.path().join(format!("signed-{}", file_name(&input)));
        let signed = support::pyhanko_sign(
            &input,
            &pki.leaf_key,
            &pki.leaf_cert,
            &[&pki.root_cert],
            &out,
            "Signature1",
        );
        if signed.is_none() {
            return;
        }
        support::assert_validated_by_peers(&out, &pki.root_cert, 1);
    }
}

#[test]
fn validators_report_each_fact_of_a_good_signature() {
    let dir = scratch();
    let Some((pdf, pki)) = signed_once(dir.path()) else {
        return;
    };
    if let Some(report) = support::pyhanko_validate(&pdf, &pki.root_cert) {
        assert_eq!(report.signatures, 1, "{}", report.raw);
        assert!(
            report.intact && report.valid && report.trusted,
            "{}",
            report.raw
        );
        assert!(report.whole_file, "{}", report.raw);
        let only = &report.details[0];
        assert_eq!(only.field, "Signature1");
        assert_eq!(only.subfilter.as_deref(), Some("/ETSI.CAdES.detached"));
        assert_eq!(only.md_algorithm.as_deref(), Some("sha256"));
        assert_eq!(only.coverage.as_deref(), Some("ENTIRE_FILE"));
        assert_eq!(only.modification_level.as_deref(), Some("NONE"));
        assert!(
            only.signer
                .as_deref()
                .is_some_and(|s| s.contains("Test Signer"))
        );
    }
    if let Some(report) = support::pdfsig_validate(&pdf, &pki.root_cert) {
        let expected = support::PdfsigSignature {
            signature_valid: true,
            certificate_trusted: true,
            total_document_signed: true,
            signer: "Test Signer".to_owned(),
            field: "Signature1".to_owned(),
            signature_status: "Signature is Valid.".to_owned(),
            certificate_status: "Certificate is Trusted.".to_owned(),
        };
        assert_eq!(report.signatures, [expected], "{}", report.raw);
    }
}

#[test]
fn second_signature_leaves_the_first_covering_only_its_revision() {
    let dir = scratch();
    let Some((once, pki)) = signed_once(dir.path()) else {
        return;
    };
    let twice = dir.path().join("signed-twice.pdf");
    let chain = [pki.root_cert.as_path()];
    if support::pyhanko_sign(&once, &pki.leaf_key, &pki.leaf_cert, &chain, &twice, "Sig2").is_none()
    {
        return;
    }
    support::assert_validated_by_peers(&twice, &pki.root_cert, 2);
    if let Some(report) = support::pyhanko_validate(&twice, &pki.root_cert) {
        let first = &report.details[0];
        assert_eq!(
            first.coverage.as_deref(),
            Some("ENTIRE_REVISION"),
            "{}",
            report.raw
        );
        assert_eq!(
            first.modification_level.as_deref(),
            Some("FORM_FILLING"),
            "{}",
            report.raw
        );
    }
    if let Some(report) = support::pdfsig_validate(&twice, &pki.root_cert) {
        assert!(
            !report.signatures[0].total_document_signed,
            "{}",
            report.raw
        );
    }
}

#[test]
fn validators_reject_a_signature_over_altered_bytes() {
    let dir = scratch();
    let Some((pdf, pki)) = signed_once(dir.path()) else {
        return;
    };
    // The Info dictionary's /Producer lies in the first signed range.
    let mut bytes = fs::read(&pdf).expect("read signed file");
    let at = bytes
        .windows(17)
        .position(|w| w == b"kyso test fixture")
        .expect("producer string in the signed file");
    bytes[at] = b'K';
    let altered = dir.path().join("altered.pdf");
    fs::write(&altered, bytes).expect("write altered file");
    if let Some(report) = support::pyhanko_validate(&altered, &pki.root_cert) {
        assert_eq!(report.signatures, 1, "{}", report.raw);
        assert!(!report.intact && !report.trusted, "{}", report.raw);
    }
    if let Some(report) = support::pdfsig_validate(&altered, &pki.root_cert) {
        assert_eq!(report.signatures.len(), 1, "{}", report.raw);
        assert!(!report.signatures[0].signature_valid, "{}", report.raw);
        assert_eq!(
            report.signatures[0].signature_status, "Digest Mismatch.",
            "{}",
            report.raw
        );
    }
}

#[test]
fn validators_do_not_trust_a_signer_from_another_root() {
    let dir = scratch();
    let Some((pdf, _)) = signed_once(dir.path()) else {
        return;
    };
    let Some(stranger) = support::openssl_test_pki(&dir.path().join("stranger")) else {
        return;
    };
    if let Some(report) = support::pyhanko_validate(&pdf, &stranger.root_cert) {
        assert!(
            report.intact && report.valid && !report.trusted,
            "{}",
            report.raw
        );
    }
    if let Some(report) = support::pdfsig_validate(&pdf, &stranger.root_cert) {
        let only = &report.signatures[0];
        assert!(
            only.signature_valid && !only.certificate_trusted,
            "{}",
            report.raw
        );
    }
}

#[test]
fn validators_find_no_signature_in_an_unsigned_file() {
    let dir = scratch();
    let Some(pdf) = support::make_input(InputKind::ClassicXref, dir.path()) else {
        return;
    };
    let Some(pki) = support::openssl_test_pki(&dir.path().join("pki")) else {
        return;
    };
    if let Some(report) = support::pyhanko_validate(&pdf, &pki.root_cert) {
        assert_eq!(report.signatures, 0, "{}", report.raw);
        assert!(!report.intact && !report.whole_file, "{}", report.raw);
    }
    if let Some(report) = support::pdfsig_validate(&pdf, &pki.root_cert) {
        assert!(report.signatures.is_empty(), "{}", report.raw);
    }
}

#[test]
fn pyhanko_reports_an_unreadable_file_as_an_error() {
    let dir = scratch();
    let Some(pdf) = support::make_input(InputKind::NotAPdf, dir.path()) else {
        return;
    };
    let Some(pki) = support::openssl_test_pki(&dir.path().join("pki")) else {
        return;
    };
    if let Some(report) = support::pyhanko_validate(&pdf, &pki.root_cert) {
        assert!(
            report.error.is_some() && report.signatures == 0,
            "{}",
            report.raw
        );
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("fixture path has a file name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn signing_an_input_that_already_warns_is_judged_against_that_input() {
    let dir = scratch();
    let Some(classic) = support::make_input(InputKind::ClassicXref, dir.path()) else {
        return;
    };
    // A trailer /Size larger than needed makes qpdf warn; the xref offsets
    // stay right because the trailer follows the table.
    let bytes = fs::read(&classic).expect("read fixture");
    let at = bytes
        .windows(9)
        .position(|w| w == b"/Size 11 ")
        .expect("classic fixture has /Size 11");
    let mut warned = bytes.clone();
    warned[at..at + 9].copy_from_slice(b"/Size 99 ");
    let input = dir.path().join("oversized-size.pdf");
    fs::write(&input, warned).expect("write fixture");
    let Some(warnings) = support::qpdf_warnings(&input) else {
        return;
    };
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("reported number of objects (99)")),
        "{warnings:?}"
    );

    let Some(pki) = support::openssl_test_pki(&dir.path().join("pki")) else {
        return;
    };
    let signed = dir.path().join("oversized-size-signed.pdf");
    let chain = [pki.root_cert.as_path()];
    if support::pyhanko_sign(
        &input,
        &pki.leaf_key,
        &pki.leaf_cert,
        &chain,
        &signed,
        "Sig",
    )
    .is_none()
    {
        return;
    }
    support::assert_validated_by_peers_given_input(&input, &signed, &pki.root_cert, 1);
}
