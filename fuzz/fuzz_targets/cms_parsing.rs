//! Verifying an arbitrary CMS over arbitrary bytes must never panic, and
//! must never call a random blob a valid signature.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.len() / 3;
    let (cms, signed) = data.split_at(split.min(data.len()));
    if let Ok(report) = kyso::cms::verify_detached(cms, &[signed]) {
        let _ = report.is_verified();
    }
});
