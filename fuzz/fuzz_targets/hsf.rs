//! HSF (observed v1 layout), every layer: sniffing and splitting with the
//! argument-count cap and 64-bit length sums, id rewrite, heartbeats (with the
//! observed-frame opt-in), the props routing view, props edits and the HTTP/2
//! round trip (`Conformance::check_arbitrary_input` and `check_edits`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xprotocol_core::testing::Conformance;
use xprotocol_hsf::HsfCodec;

fuzz_target!(|data: &[u8]| {
    Conformance::new(&HsfCodec::new().with_observed_heartbeats()).check_fuzz_input(data);
});
