//! Layer 3 for Dubbo: the routing view (body walk, argument skipping,
//! attachments) never panics on any complete frame, and attachment edits of
//! fuzzer-chosen keys/values yield one whole frame that reads back as edited.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xprotocol_core::testing::Conformance;
use xprotocol_dubbo::DubboCodec;

fuzz_target!(|data: &[u8]| {
    Conformance::new(&DubboCodec::new()).check_fuzz_input(data);
});
