//! HSF (observed v1 layout) on the real captured request (261 bytes): each
//! layer, next to the Bolt and Dubbo benches.
//!
//! `cargo bench -p xprotocol-benches --bench hsf_layers`. Results: `benches/RESULTS.md`.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::Criterion;
use xprotocol_core::{Codec, HeaderEdit};
use xprotocol_hsf::HsfCodec;
use xprotocol_hsf::testdata::{CAPTURED_REQUEST, from_hex};

fn layers(c: &mut Criterion) {
    let codec = HsfCodec::new();
    let codec: &dyn Codec = &codec;
    let (framing, mux, routing, transcoding) = (
        codec.framing(),
        codec.multiplexing().unwrap(),
        codec.routing().unwrap(),
        codec.transcoding().unwrap(),
    );
    let frame = Bytes::from(from_hex(CAPTURED_REQUEST));
    let mut scratch = frame.to_vec();
    let message = transcoding.to_http2(&frame).unwrap();
    let mut g = c.benchmark_group("hsf-261B");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    g.bench_function("split", |b| {
        b.iter(|| framing.split_frame(black_box(&frame)))
    });
    g.bench_function("id_read", |b| b.iter(|| mux.request_id(black_box(&frame))));
    g.bench_function("id_rewrite", |b| {
        b.iter(|| mux.set_request_id(black_box(&mut scratch), 77))
    });
    g.bench_function("frame_head", |b| {
        b.iter(|| mux.frame_head(black_box(&frame)))
    });
    g.bench_function("route_headers", |b| {
        b.iter(|| {
            let route = routing.route_headers(black_box(&frame)).unwrap();
            black_box((
                route.interface(),
                route.version(),
                route.method(),
                route.group(),
            ))
            .0
            .map(str::len)
        })
    });
    g.bench_function("mutate_props", |b| {
        b.iter(|| {
            routing.mutate_headers(
                black_box(&frame),
                &[HeaderEdit::Set("x-mesh-route", "canary")],
            )
        })
    });
    g.bench_function("to_http2", |b| {
        b.iter(|| transcoding.to_http2(black_box(&frame)))
    });
    g.bench_function("from_http2", |b| {
        b.iter(|| transcoding.from_http2(black_box(&message)))
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    layers(&mut c);
    c.final_summary();
}
