//! Keys, certificates and a PDF for unit tests of signing, made by code.

use crate::ca::{CertificateAuthority, KeyAlgorithm, LeafKey};
use crate::crypto::{RingSigningKey, RsaPadding};
use crate::units::{LeaderId, UnitCode};
use std::sync::Arc;
use std::time::Duration;
use std::time::SystemTime;

/// The instant the tests sign at (time is an argument).
pub(crate) fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000)
}

/// A leader's key and its chain (signer, issuing CA), issued at [`now`].
pub(crate) fn leader_key() -> (Arc<RingSigningKey>, Vec<Vec<u8>>) {
    let registry = crate::units::demo_province();
    let unit = registry
        .find(&UnitCode::parse("000.00.01.H23").expect("code"))
        .expect("unit");
    let leader = unit
        .leader(&LeaderId::parse("tran-quoc-bao").expect("id"))
        .expect("leader");
    let root = CertificateAuthority::new_root("Root", "tests", now()).expect("root");
    let issuing = root
        .issue_intermediate("Issuing", "tests", now())
        .expect("issuing");
    let certified = issuing
        .issue_personal(
            unit,
            leader,
            LeafKey::Generate(KeyAlgorithm::EcdsaP256),
            now(),
        )
        .expect("leaf");
    let key = RingSigningKey::from_pkcs8(&certified.private_key_pkcs8_der, RsaPadding::Pkcs1)
        .expect("key");
    (
        Arc::new(key),
        vec![
            certified.certificate_der,
            issuing.certificate_der().to_vec(),
        ],
    )
}

/// One empty A4 page, classic cross-reference table.
pub(crate) fn one_page_pdf() -> Vec<u8> {
    super::sample::one_page_pdf()
}
