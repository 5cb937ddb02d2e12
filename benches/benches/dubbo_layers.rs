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
use xprotocol_benches::dubbo_request_with_string_arg;
use xprotocol_core::{Codec, HeaderEdit};
use xprotocol_dubbo::DubboCodec;
use xprotocol_dubbo::testdata::{MOSN_D2, from_hex};

fn layers(c: &mut Criterion) {
    let codec = DubboCodec::new();
    let codec: &dyn Codec = &codec;
    let (framing, mux, routing, transcoding) = (
        codec.framing(),
        codec.multiplexing().unwrap(),
        codec.routing().unwrap(),
        codec.transcoding().unwrap(),
    );
    let d2 = Bytes::from(from_hex(MOSN_D2));
    let mut scratch = d2.to_vec();
    let message = transcoding.to_http2(&d2).unwrap();
    let mut g = c.benchmark_group("dubbo-D2");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    g.bench_function("split", |b| b.iter(|| framing.split_frame(black_box(&d2))));
    g.bench_function("id_read", |b| b.iter(|| mux.request_id(black_box(&d2))));
    g.bench_function("id_rewrite", |b| {
        b.iter(|| mux.set_request_id(black_box(&mut scratch), 77))
    });
    g.bench_function("frame_head", |b| b.iter(|| mux.frame_head(black_box(&d2))));
    g.bench_function("route_headers", |b| {
        b.iter(|| {
            let route = routing.route_headers(black_box(&d2)).unwrap();
            black_box((
                route.service(),
                route.interface(),
                route.version(),
                route.group(),
                route.method(),
            ));
            black_box(route.header("timeout")).map(str::len)
        })
    });
    g.bench_function("mutate_attachment", |b| {
        b.iter(|| {
            routing.mutate_headers(black_box(&d2), &[HeaderEdit::Set("x-mesh-route", "canary")])
        })
    });
    g.bench_function("to_http2", |b| {
        b.iter(|| transcoding.to_http2(black_box(&d2)))
    });
    g.bench_function("from_http2", |b| {
        b.iter(|| transcoding.from_http2(black_box(&message)))
    });
    g.finish();

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
