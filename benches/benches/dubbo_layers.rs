//! Dubbo on MOSN's benchmark request D2 (523 bytes): each layer, the full
//! routing view against MOSN's figures (1 934 ns for the first four strings,
//! 8 659 ns / 87 allocations to reach the attachments), the cost of skipping
//! arguments per KiB, and attachment mutation.
//!
//! `cargo bench -p xprotocol-benches --bench dubbo_layers`. Results: `benches/RESULTS.md`.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput};
use xprotocol_benches::{bench_request_layers, dubbo_request_with_string_arg};
use xprotocol_core::Codec;
use xprotocol_dubbo::DubboCodec;
use xprotocol_dubbo::testdata::{MOSN_D2, from_hex};

fn layers(c: &mut Criterion) {
    let codec = DubboCodec::new();
    let d2 = Bytes::from(from_hex(MOSN_D2));
    bench_request_layers(c, "dubbo-D2", &codec, &d2);
    let routing = codec.routing().expect("routing");

    // Reaching the attachments means skipping every argument: cost per KiB of a
    // string argument (UTF-16 lengths are walked byte by byte).
    let mut g = c.benchmark_group("dubbo-arg-skip");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    for kib in [1usize, 16, 64] {
        let frame = dubbo_request_with_string_arg(kib * 1024);
        g.throughput(Throughput::Bytes((kib * 1024) as u64));
        g.bench_with_input(
            BenchmarkId::new("route_headers", format!("{kib}KiB")),
            &frame,
            |b, f| {
                b.iter(|| {
                    routing
                        .route_headers(black_box(f))
                        .map(|r| r.header_count())
                })
            },
        );
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    layers(&mut c);
    c.final_summary();
}
