//! Layer 3 for Dubbo: the routing view (body walk, argument skipping,
//! attachments) never panics on any complete frame, and attachment edits of
//! fuzzer-chosen keys/values yield one whole frame that reads back as edited.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xprotocol_core::testing::{Conformance, edit_input};
use xprotocol_dubbo::DubboCodec;

fuzz_target!(|data: &[u8]| {
    let codec = DubboCodec::new();
    let kit = Conformance::new(&codec);
    match edit_input(data) {
        Some((key, value, input)) => {
            kit.check_arbitrary_input(input);
            kit.check_edits(input, key, value);
        }
        None => kit.check_arbitrary_input(data),
    }
});
