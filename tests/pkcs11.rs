//! Keys on a PKCS#11 token (SoftHSM2): generated on it or imported into it, certified by
//! kyso's development CA, signing PDFs that pyHanko and poppler's pdfsig validate; and the
//! token's refusals (export, wrong PIN, unknown label) reaching the caller as plain errors.
//!
//! Each test runs against its own fresh tokens in a child process (see `support/pkcs11.rs`).

#[path = "support/pkcs11.rs"]
mod softhsm;
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use kyso::ca::{CertificateAuthority, KeyAlgorithm, LeafKey};
use kyso::crypto::{RsaPadding, SignatureAlgorithm, SigningKey, verify_signature};
use kyso::hsm::{HsmError, KeySpec, Pkcs11SigningKey, Token};
use kyso::sign::{SignOptions, Signer, sign_pdf};
use softhsm::{SoftHsm, USER_PIN, with_fresh_tokens};
use support::{assert_validated_by_peers, make_base_pdf};

/// A development root and issuing CA, with the root's certificate written where the
/// validators can read it.
struct DevCa {
    issuing: CertificateAuthority,
    root_pem: PathBuf,
}

impl DevCa {
    fn new(dir: &Path) -> DevCa {
        let now = SystemTime::now();
        let root =
            CertificateAuthority::new_root("kyso HSM test root", "kyso", now).expect("new root");
        let issuing = root
            .issue_intermediate("kyso HSM test issuing CA", "kyso", now)
            .expect("issue intermediate");
        let root_pem = dir.join("root.pem");
        std::fs::write(&root_pem, root.certificate_pem()).expect("write root");
        DevCa { issuing, root_pem }
    }

    /// Certifies the token key as the first demo unit's organisation key and pairs them.
    fn signer(&self, key: Pkcs11SigningKey, algorithm: KeyAlgorithm) -> Signer {
        let unit = kyso::units::demo_province().units()[0].clone();
        let certified = self
            .issuing
            .issue_organisation(
                &unit,
                LeafKey::External {
                    public_key: key.public_key_bytes().to_vec(),
                    algorithm,
                },
                SystemTime::now(),
            )
            .expect("issue a certificate for the token key");
        assert!(certified.private_key_pkcs8_der.is_empty());
        Signer::new(
            Arc::new(key),
            &[
                certified.certificate_der,
                self.issuing.certificate_der().to_vec(),
            ],
        )
        .expect("pair the token key with its certificate")
    }
}

/// Signs `input` with each signer in turn and writes the result to `out`.
fn sign_file(input: &Path, signers: &[&Signer], out: &Path) -> PathBuf {
    let mut pdf = std::fs::read(input).expect("read input");
    for signer in signers {
        pdf = sign_pdf(&pdf, signer, &SignOptions::default(), SystemTime::now())
            .expect("sign through the token")
            .pdf;
    }
    std::fs::write(out, &pdf).expect("write signed PDF");
    out.to_path_buf()
}

fn assert_generated_on_the_token(key: &Pkcs11SigningKey) {
    let protection = key.protection().expect("read protection");
    assert!(
        protection.sensitive && !protection.extractable,
        "{protection:?}"
    );
    assert!(
        protection.always_sensitive && protection.never_extractable,
        "{protection:?}"
    );
    assert!(!protection.secret_readable, "{protection:?}");
}

#[test]
fn a_p256_key_generated_on_the_token_signs_a_pdf_that_pyhanko_and_pdfsig_validate() {
    with_fresh_tokens(&["seal"], |hsm: &SoftHsm| {
        let Some(input) = make_base_pdf(&hsm.dir, 2) else {
            return;
        };
        let ca = DevCa::new(&hsm.dir);
        let token = Token::open(&hsm.config("seal")).expect("open token");
        let key = token
            .generate_key("organisation seal", KeySpec::EcdsaP256, RsaPadding::Pkcs1)
            .expect("generate P-256");
        assert_eq!(key.algorithm(), SignatureAlgorithm::EcdsaP256Sha256);
        assert_eq!(key.id().len(), 20);
        assert_generated_on_the_token(&key);

        let signer = ca.signer(key, KeyAlgorithm::EcdsaP256);
        let signed = sign_file(&input, &[&signer], &hsm.dir.join("p256.pdf"));
        assert_validated_by_peers(&signed, &ca.root_pem, 1);
    });
}

#[test]
fn an_rsa_2048_key_generated_on_the_token_signs_with_pkcs1_and_with_pss_and_both_validate() {
    with_fresh_tokens(&["seal"], |hsm: &SoftHsm| {
        let Some(input) = make_base_pdf(&hsm.dir, 1) else {
            return;
        };
        let ca = DevCa::new(&hsm.dir);
        let token = Token::open(&hsm.config("seal")).expect("open token");
        let pkcs1 = token
            .generate_key("organisation seal", KeySpec::Rsa2048, RsaPadding::Pkcs1)
            .expect("generate RSA-2048");
        assert_eq!(pkcs1.algorithm(), SignatureAlgorithm::RsaPkcs1Sha256);
        assert_eq!(pkcs1.max_signature_len(), 256);
        assert_generated_on_the_token(&pkcs1);
        // The same key, found again by its label, signing with PSS.
        let pss = token
            .signing_key("organisation seal", RsaPadding::Pss)
            .expect("find the key again");
        assert_eq!(pss.algorithm(), SignatureAlgorithm::RsaPssSha256);
        assert_eq!(pss.public_key_bytes(), pkcs1.public_key_bytes());
        assert_eq!(pss.id(), pkcs1.id());

        let pkcs1 = ca.signer(pkcs1, KeyAlgorithm::Rsa2048);
        let signed = sign_file(&input, &[&pkcs1], &hsm.dir.join("rsa-pkcs1.pdf"));
        assert_validated_by_peers(&signed, &ca.root_pem, 1);
        let pss = ca.signer(pss, KeyAlgorithm::Rsa2048);
        let signed = sign_file(&input, &[&pss], &hsm.dir.join("rsa-pss.pdf"));
        assert_validated_by_peers(&signed, &ca.root_pem, 1);
    });
}

#[test]
fn keys_of_every_kind_are_generated_unextractable_and_sign_from_several_threads() {
    with_fresh_tokens(&["keys"], |hsm: &SoftHsm| {
        let token = Token::open(&hsm.config("keys")).expect("open token");
        let kinds = [
            (KeySpec::EcdsaP256, SignatureAlgorithm::EcdsaP256Sha256, 72),
            (KeySpec::EcdsaP384, SignatureAlgorithm::EcdsaP384Sha384, 104),
            (KeySpec::Rsa3072, SignatureAlgorithm::RsaPkcs1Sha256, 384),
        ];
        for (spec, algorithm, max_len) in kinds {
            let key = Arc::new(
                token
                    .generate_key(&format!("{spec:?}"), spec, RsaPadding::Pkcs1)
                    .expect("generate"),
            );
            assert_eq!(key.algorithm(), algorithm);
            assert_eq!(key.max_signature_len(), max_len);
            assert_generated_on_the_token(&key);
            let threads: Vec<_> = (0..6u8)
                .map(|n| {
                    let key = Arc::clone(&key);
                    std::thread::spawn(move || {
                        let message = [n; 100];
                        let signature = key.sign(&message).expect("sign");
                        assert!(signature.len() <= key.max_signature_len());
                        verify_signature(
                            key.algorithm(),
                            key.public_key_bytes(),
                            &message,
                            &signature,
                        )
                        .expect("the signature verifies");
                    })
                })
                .collect();
            for thread in threads {
                thread.join().expect("signing thread");
            }
        }
        let error = token
            .generate_key("EcdsaP256", KeySpec::EcdsaP256, RsaPadding::Pkcs1)
            .expect_err("a second key under a taken label");
        assert!(
            matches!(&error, HsmError::KeyLabelTaken { key_label, .. } if key_label == "EcdsaP256"),
            "{error:?}"
        );
    });
}

#[test]
fn a_pkcs8_key_imported_onto_the_token_signs_and_the_token_refuses_to_export_it() {
    use rsa::pkcs8::EncodePrivateKey;
    with_fresh_tokens(&["imported"], |hsm: &SoftHsm| {
        let Some(input) = make_base_pdf(&hsm.dir, 1) else {
            return;
        };
        let ca = DevCa::new(&hsm.dir);
        let token = Token::open(&hsm.config("imported")).expect("open token");

        // A P-384 key that kyso's CA made in software, and an RSA-3072 key.
        let unit = kyso::units::demo_province().units()[0].clone();
        let software = ca
            .issuing
            .issue_organisation(
                &unit,
                LeafKey::Generate(KeyAlgorithm::EcdsaP384),
                SystemTime::now(),
            )
            .expect("issue a software P-384 key");
        let rsa = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 3072)
            .expect("RSA key")
            .to_pkcs8_der()
            .expect("PKCS#8")
            .as_bytes()
            .to_vec();

        let ecdsa = token
            .import_pkcs8(
                "old seal",
                &software.private_key_pkcs8_der,
                RsaPadding::Pkcs1,
            )
            .expect("import P-384");
        assert_eq!(ecdsa.algorithm(), SignatureAlgorithm::EcdsaP384Sha384);
        let rsa = token
            .import_pkcs8("old leader key", &rsa, RsaPadding::Pss)
            .expect("import RSA-3072");
        assert_eq!(rsa.algorithm(), SignatureAlgorithm::RsaPssSha256);
        for key in [&ecdsa, &rsa] {
            let protection = key.protection().expect("read protection");
            assert!(
                protection.sensitive && !protection.extractable,
                "{protection:?}"
            );
            assert!(!protection.secret_readable, "{protection:?}");
            // The token knows the key once lived outside it.
            assert!(
                !protection.always_sensitive && !protection.never_extractable,
                "{protection:?}"
            );
        }
        // Found again by label, the imported key is the one the software certificate names.
        let again = token
            .signing_key("old seal", RsaPadding::Pkcs1)
            .expect("find the imported key");
        assert_eq!(again.public_key_bytes(), ecdsa.public_key_bytes());

        let ecdsa = ca.signer(ecdsa, KeyAlgorithm::EcdsaP384);
        let rsa = ca.signer(rsa, KeyAlgorithm::Rsa3072);
        let signed = sign_file(&input, &[&ecdsa, &rsa], &hsm.dir.join("imported.pdf"));
        assert_validated_by_peers(&signed, &ca.root_pem, 2);

        let error = token
            .import_pkcs8(
                "old seal",
                &software.private_key_pkcs8_der,
                RsaPadding::Pkcs1,
            )
            .expect_err("a second import under the same label");
        assert!(matches!(error, HsmError::KeyLabelTaken { .. }), "{error:?}");
        let error = token
            .import_pkcs8("garbage", b"not a key", RsaPadding::Pkcs1)
            .expect_err("importing garbage");
        assert!(
            matches!(error, HsmError::Pkcs8Unsupported { .. }),
            "{error:?}"
        );
    });
}

#[test]
fn a_wrong_pin_is_refused_with_a_clear_error() {
    with_fresh_tokens(&["guarded"], |hsm: &SoftHsm| {
        let wrong = hsm.config_with_pin("guarded", "999999");
        assert!(!format!("{wrong:?}").contains("999999"), "{wrong:?}");
        let error = Token::open(&wrong).expect_err("a wrong PIN");
        assert!(
            matches!(&error, HsmError::PinIncorrect { token_label } if token_label == "guarded"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "the PIN for token \"guarded\" is incorrect"
        );

        // The right PIN still opens it, and nothing prints the PIN.
        let token = Token::open(&hsm.config("guarded")).expect("the right PIN");
        let key = token
            .generate_key("seal", KeySpec::EcdsaP256, RsaPadding::Pkcs1)
            .expect("generate");
        for shown in [format!("{token:?}"), format!("{key:?}")] {
            assert!(!shown.contains(USER_PIN), "{shown}");
        }
    });
}

#[test]
fn a_key_label_that_is_not_on_the_token_is_a_clear_error() {
    with_fresh_tokens(&["seal"], |hsm: &SoftHsm| {
        let token = Token::open(&hsm.config("seal")).expect("open token");
        token
            .generate_key("present", KeySpec::EcdsaP256, RsaPadding::Pkcs1)
            .expect("generate");
        let error = token
            .signing_key("absent", RsaPadding::Pkcs1)
            .expect_err("an unknown key label");
        assert!(
            matches!(&error, HsmError::KeyNotFound { key_label, token_label }
                if key_label == "absent" && token_label == "seal"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "no private key labelled \"absent\" on token \"seal\""
        );

        let error = Token::open(&hsm.config("no such token")).expect_err("an unknown token");
        assert!(matches!(error, HsmError::TokenNotFound { .. }), "{error:?}");
        let mut config = hsm.config("seal");
        config.module = hsm.dir.join("missing.so");
        let error = Token::open(&config).expect_err("a missing module");
        assert!(
            matches!(error, HsmError::ModuleNotFound { .. }),
            "{error:?}"
        );
    });
}

#[test]
fn token_keys_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + std::fmt::Debug>() {}
    shareable::<Pkcs11SigningKey>();
    shareable::<Token>();
}
