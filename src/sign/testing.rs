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
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ];
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (index, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{body}\nendobj\n", index + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend(b"xref\n0 4\n0000000000 65535 f \n");
    for offset in offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend(
        format!("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    pdf
}
