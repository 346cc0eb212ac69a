//! Finding signatures and their byte spans in arbitrary bytes must never
//! panic or run unbounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(signatures) = kyso::pdf::embedded_signatures(data) {
        for signature in signatures {
            if let Some(object) = signature.object {
                let _ = kyso::pdf::signature_entries_in_revision(data, data.len(), object);
            }
        }
    }
    let _ = kyso::pdf::changes_after(data, data.len() / 2);
});
