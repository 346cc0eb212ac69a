//! Building a certificate path from arbitrary DER must never panic.
#![no_main]

use kyso::chain::{Revocation, RevocationPolicy, TrustAnchors, validate_signer};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

fuzz_target!(|data: &[u8]| {
    // Split the input into a signer, an intermediate, an anchor and a CRL.
    let quarter = data.len() / 4;
    let parts: Vec<Vec<u8>> = data.chunks(quarter.max(1)).map(<[u8]>::to_vec).collect();
    let get = |i: usize| parts.get(i).cloned().unwrap_or_default();
    let at = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let anchors = TrustAnchors::from_der(vec![get(2)]).unwrap_or_default();
    let revocation = Revocation::new(vec![get(3)], RevocationPolicy::HardFail);
    let _ = validate_signer(&get(0), &[get(1)], &anchors, at, &revocation);
});
