//! Layer 4: whenever `to_http2` accepts a frame, `from_http2` gives back the
//! very same bytes.
#![no_main]

use std::hint::black_box;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use xprotocol_bolt::BoltCodec;
use xprotocol_core::testing::Conformance;
use xprotocol_core::{Framing, Split, Transcoding};

fuzz_target!(|data: &[u8]| {
    let codec = BoltCodec::new();
    Conformance::new(&codec).check_arbitrary_input(data);
    let Ok(Split::Complete(len)) = codec.split_frame(black_box(data)) else {
        return;
    };
    let frame = Bytes::copy_from_slice(&data[..len]);
    let Ok(message) = codec.to_http2(black_box(&frame)) else {
        return;
    };
    let back = codec
        .from_http2(black_box(&message))
        .expect("from_http2 of a to_http2 result");
    assert!(
        back == frame[..],
        "HTTP/2 round trip changed the frame:\n in  {frame:02x?}\n out {:02x?}",
        back.to_bytes()
    );
    black_box(back);
});
