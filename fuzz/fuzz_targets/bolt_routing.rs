//! Layer 3 for Bolt: on any complete frame the routing view never panics, and
//! a Set and a Remove of fuzzer-chosen keys/values yield one whole frame whose
//! header map reads back as edited (`Conformance::check_edits`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xprotocol_bolt::BoltCodec;
use xprotocol_core::testing::Conformance;

fuzz_target!(|data: &[u8]| {
    Conformance::new(&BoltCodec::new()).check_fuzz_input(data);
});
