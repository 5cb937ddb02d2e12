//! Layer 3 for Bolt: on any complete frame the routing view never panics, and
//! a Set and a Remove of fuzzer-chosen keys/values yield one whole frame whose
//! header map reads back as edited (`Conformance::check_edits`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xprotocol_bolt::BoltCodec;
use xprotocol_core::testing::{Conformance, edit_input};

fuzz_target!(|data: &[u8]| {
    let codec = BoltCodec::new();
    let kit = Conformance::new(&codec);
    match edit_input(data) {
        Some((key, value, input)) => {
            kit.check_arbitrary_input(input);
            kit.check_edits(input, key, value);
        }
        None => kit.check_arbitrary_input(data),
    }
});
