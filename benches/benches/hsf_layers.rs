//! HSF (observed v1 layout) on the real captured request (261 bytes): each
//! layer, next to the Bolt and Dubbo benches.
//!
//! `cargo bench -p xprotocol-benches --bench hsf_layers`. Results: `benches/RESULTS.md`.

use bytes::Bytes;
use xprotocol_benches::bench_request_layers;
use xprotocol_hsf::HsfCodec;
use xprotocol_hsf::testdata::{CAPTURED_REQUEST, from_hex};

fn main() {
    let mut c = criterion::Criterion::default().configure_from_args();
    let frame = Bytes::from(from_hex(CAPTURED_REQUEST));
    bench_request_layers(&mut c, "hsf-261B", &HsfCodec::new(), &frame);
    c.final_summary();
}
