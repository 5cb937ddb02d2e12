//! Layers 1, 2 and 4 for Dubbo: sniffing, splitting, id read/rewrite and the
//! HTTP/2 round trip on arbitrary bytes (`Conformance::check_arbitrary_input`:
//! no panic, lengths within the input and the limits, transcoding lossless).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xprotocol_core::testing::Conformance;
use xprotocol_dubbo::DubboCodec;

fuzz_target!(|data: &[u8]| {
    let codec = DubboCodec::new();
    Conformance::new(&codec).check_arbitrary_input(data);
});
