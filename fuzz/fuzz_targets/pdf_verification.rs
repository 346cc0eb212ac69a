//! The whole verifier on arbitrary bytes: no panic, and no valid signature
//! without a trust anchor.
#![no_main]

use kyso::chain::TrustAnchors;
use kyso::verify::{Indication, VerifyContext, VerifyPolicy, verify_pdf};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

fuzz_target!(|data: &[u8]| {
    let anchors = TrustAnchors::default();
    let context = VerifyContext {
        anchors: &anchors,
        crls: &[],
        policy: VerifyPolicy::default(),
        at: UNIX_EPOCH + Duration::from_secs(1_795_000_000),
    };
    if let Ok(report) = verify_pdf(data, &context) {
        assert_ne!(report.verdict, Indication::TotalPassed, "passed with no trust anchor");
    }
});
