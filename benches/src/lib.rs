//! Shared pieces of the layer benches (`benches/bolt_layers.rs`) and the
//! allocation test (`tests/allocations.rs`): the two Bolt frames, the baseline
//! splitter, one function per measured operation, and allocation counting.
//!
//! Allocations are counted by `allocation_counter`, whose `#[global_allocator]`
//! wraps `System` and counts per thread: every binary that links this library
//! (the bench and the test) gets it. Counts are allocation calls (a `realloc`
//! counts as one); the bytes column is the bytes requested.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use xprotocol_bolt::{BoltCodec, testdata};
use xprotocol_core::{
    Codec, Error, FrameHead, FrameParts, Framing, HeaderEdit, Http2Message, Multiplexing, Routing,
    Split, Transcoding,
};

/// The header edit the `mutate_header` layer applies (a new key, appended).
pub const MUTATION: HeaderEdit<'static> = HeaderEdit::Set("x-mesh-route", "canary");

/// One frame under test, with the HTTP/2 message it transcodes to.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// `151B` or `64KiB`.
    pub label: &'static str,
    /// The whole frame.
    pub frame: Bytes,
    /// `to_http2(frame)`, the input of `from_http2`.
    pub message: Http2Message,
}

/// The 151-byte request (`testdata::REQUEST_151`) and the same request with
/// 64 KiB of content (`testdata::request_with_content(65536)`, 65 682 bytes).
pub fn fixtures(codec: &BoltCodec) -> Vec<Fixture> {
    [
        ("151B", Bytes::from_static(&testdata::REQUEST_151)),
        ("64KiB", Bytes::from(testdata::request_with_content(65536))),
    ]
    .into_iter()
    .map(|(label, frame)| {
        let message = codec.to_http2(&frame).expect("fixture transcodes");
        Fixture {
            label,
            frame,
            message,
        }
    })
    .collect()
}

/// The least a splitter can do for a Bolt v1 request: read the class (u16 at
/// 14), header (u16 at 16) and content (u32 at 18) lengths and slice. No
/// protocol-code, type, limit or CRC checks.
#[inline]
pub fn baseline_split(buf: &[u8]) -> Option<usize> {
    let fixed = buf.get(..22)?;
    let class = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    let header = usize::from(u16::from_be_bytes([fixed[16], fixed[17]]));
    let content = u32::from_be_bytes([fixed[18], fixed[19], fixed[20], fixed[21]]) as usize;
    buf.get(..22 + class + header + content).map(<[u8]>::len)
}

/// The four layers of one codec, resolved once (as a proxy holding
/// `Arc<dyn Codec>` would), so every call below is a virtual call.
#[derive(Clone, Copy)]
pub struct Layers<'a> {
    /// Layer 1.
    pub framing: &'a dyn Framing,
    /// Layer 2.
    pub mux: &'a dyn Multiplexing,
    /// Layer 3.
    pub routing: &'a dyn Routing,
    /// Layer 4.
    pub transcoding: &'a dyn Transcoding,
}

impl std::fmt::Debug for Layers<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Layers")
    }
}

impl<'a> Layers<'a> {
    /// The layers of `codec`; panics when one is missing.
    pub fn of(codec: &'a dyn Codec) -> Self {
        Self {
            framing: codec.framing(),
            mux: codec.multiplexing().expect("multiplexing"),
            routing: codec.routing().expect("routing"),
            transcoding: codec.transcoding().expect("transcoding"),
        }
    }

    /// Layer 1: length of the frame at the front of `buf`.
    #[inline]
    pub fn split(&self, buf: &[u8]) -> Result<Split, Error> {
        self.framing.split_frame(buf)
    }

    /// Layer 1 as a proxy uses it: split, then cut the frame off the read
    /// buffer without copying (`split_to(len).freeze()`).
    #[inline]
    pub fn split_freeze(&self, read_buf: &mut BytesMut) -> Option<Bytes> {
        match self.framing.split_frame(read_buf) {
            Ok(Split::Complete(len)) => Some(read_buf.split_to(len).freeze()),
            _ => None,
        }
    }

    /// Layer 2: the request id.
    #[inline]
    pub fn id_read(&self, frame: &[u8]) -> Result<u64, Error> {
        self.mux.request_id(frame)
    }

    /// Layer 2: rewrite the request id in place.
    #[inline]
    pub fn id_rewrite(&self, frame: &mut [u8], id: u64) -> Result<(), Error> {
        self.mux.set_request_id(frame, id)
    }

    /// Layer 2: kind, id, timeout, status.
    #[inline]
    pub fn frame_head(&self, frame: &[u8]) -> Result<FrameHead, Error> {
        self.mux.frame_head(frame)
    }

    /// Layer 3: the routing view, then read service and method from it.
    #[inline]
    pub fn route_headers(&self, frame: &Bytes) -> Result<usize, Error> {
        let route = self.routing.route_headers(frame)?;
        let service = black_box(route.service()).map_or(0, str::len);
        let method = black_box(route.method()).map_or(0, str::len);
        Ok(service + method)
    }

    /// Layer 3: set one header; the new frame as parts (not joined).
    #[inline]
    pub fn mutate_header(&self, frame: &Bytes) -> Result<FrameParts, Error> {
        self.routing.mutate_headers(frame, &[MUTATION])
    }

    /// Layer 4: frame → HTTP/2 message.
    #[inline]
    pub fn to_http2(&self, frame: &Bytes) -> Result<Http2Message, Error> {
        self.transcoding.to_http2(frame)
    }

    /// Layer 4: HTTP/2 message → frame parts (not joined).
    #[inline]
    pub fn from_http2(&self, message: &Http2Message) -> Result<FrameParts, Error> {
        self.transcoding.from_http2(message)
    }

    /// What MOSN's Bolt `Decode` covers, done the layered way: cut the frame
    /// off the read buffer, read its head, build the routing view and read
    /// service and method. Returns the request id.
    #[inline]
    pub fn proxy_decode(&self, read_buf: &mut BytesMut) -> Option<u64> {
        let frame = self.split_freeze(read_buf)?;
        let head = self.frame_head(&frame).ok()?;
        black_box(self.route_headers(&frame).ok()?);
        Some(head.request_id)
    }
}

/// One measured operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// [`baseline_split`].
    Baseline,
    /// [`Layers::split`].
    Split,
    /// [`Layers::split_freeze`].
    SplitFreeze,
    /// [`Layers::id_read`].
    IdRead,
    /// [`Layers::id_rewrite`].
    IdRewrite,
    /// [`Layers::frame_head`].
    FrameHead,
    /// [`Layers::route_headers`].
    RouteHeaders,
    /// [`Layers::mutate_header`].
    MutateHeader,
    /// [`Layers::to_http2`].
    ToHttp2,
    /// [`Layers::from_http2`].
    FromHttp2,
    /// [`Layers::proxy_decode`].
    ProxyDecode,
}

impl Op {
    /// Every operation, in table order.
    pub const ALL: [Self; 11] = [
        Self::Baseline,
        Self::Split,
        Self::SplitFreeze,
        Self::IdRead,
        Self::IdRewrite,
        Self::FrameHead,
        Self::RouteHeaders,
        Self::MutateHeader,
        Self::ToHttp2,
        Self::FromHttp2,
        Self::ProxyDecode,
    ];

    /// Bench name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Baseline => "baseline_split",
            Self::Split => "split",
            Self::SplitFreeze => "split_freeze",
            Self::IdRead => "id_read",
            Self::IdRewrite => "id_rewrite",
            Self::FrameHead => "frame_head",
            Self::RouteHeaders => "route_headers",
            Self::MutateHeader => "mutate_header",
            Self::ToHttp2 => "to_http2",
            Self::FromHttp2 => "from_http2",
            Self::ProxyDecode => "proxy_decode",
        }
    }
}

/// A read buffer holding `copies` copies of `frame` back to back, already in
/// the shared (reference-counted) state a proxy's read buffer is in after its
/// first `split_to`, so cutting frames off it allocates nothing.
pub fn read_buffer(frame: &[u8], copies: usize) -> BytesMut {
    let mut buf = BytesMut::with_capacity(frame.len() * copies);
    for _ in 0..copies {
        buf.extend_from_slice(frame);
    }
    drop(buf.split_to(0)); // promote to shared: the one allocation happens here
    buf
}

/// Allocations (calls, bytes) per run of `op` on `fx`, averaged over `n` runs
/// on this thread. Setup (buffers, copies) is not counted.
pub fn allocs_per_frame(layers: Layers<'_>, fx: &Fixture, op: Op, n: usize) -> (f64, f64) {
    let mut scratch = fx.frame.to_vec();
    let mut read_buf = match op {
        Op::SplitFreeze | Op::ProxyDecode => read_buffer(&fx.frame, n),
        _ => BytesMut::new(),
    };
    let frame = &fx.frame;
    let info = allocation_counter::measure(|| {
        for i in 0..n {
            match op {
                Op::Baseline => {
                    let _ = black_box(baseline_split(black_box(frame)));
                }
                Op::Split => {
                    let _ = black_box(layers.split(black_box(frame)));
                }
                Op::SplitFreeze => {
                    let _ = black_box(layers.split_freeze(black_box(&mut read_buf)));
                }
                Op::IdRead => {
                    let _ = black_box(layers.id_read(black_box(frame)));
                }
                Op::IdRewrite => {
                    let _ = black_box(layers.id_rewrite(black_box(&mut scratch), i as u64));
                }
                Op::FrameHead => {
                    let _ = black_box(layers.frame_head(black_box(frame)));
                }
                Op::RouteHeaders => {
                    let _ = black_box(layers.route_headers(black_box(frame)));
                }
                Op::MutateHeader => {
                    let _ = black_box(layers.mutate_header(black_box(frame)));
                }
                Op::ToHttp2 => {
                    let _ = black_box(layers.to_http2(black_box(frame)));
                }
                Op::FromHttp2 => {
                    let _ = black_box(layers.from_http2(black_box(&fx.message)));
                }
                Op::ProxyDecode => {
                    let _ = black_box(layers.proxy_decode(black_box(&mut read_buf)));
                }
            }
        }
    });
    (
        info.count_total as f64 / n as f64,
        info.bytes_total as f64 / n as f64,
    )
}

/// The allocation table (every op, both frames) as Markdown, averaged over `n` runs.
pub fn alloc_table(n: usize) -> String {
    let codec = BoltCodec::new();
    let layers = Layers::of(&codec);
    let fixtures = fixtures(&codec);
    let mut out = String::from(
        "| op | allocs/frame 151B | bytes/frame 151B | allocs/frame 64KiB | bytes/frame 64KiB |\n|---|---:|---:|---:|---:|\n",
    );
    for op in Op::ALL {
        out.push_str(&format!("| {} |", op.name()));
        for fx in &fixtures {
            let (count, bytes) = allocs_per_frame(layers, fx, op, n);
            out.push_str(&format!(" {count:.2} | {bytes:.0} |"));
        }
        out.push('\n');
    }
    out
}

/// A Dubbo request (hessian2, two-way) with one `String` argument of
/// `arg_len` ASCII characters and three attachments: for the cost of skipping
/// arguments to reach the attachments.
pub fn dubbo_request_with_string_arg(arg_len: usize) -> Bytes {
    let mut body = xprotocol_hessian2::Writer::new();
    body.string("2.0.2")
        .string("com.example.EchoService")
        .string("1.0.0")
        .string("echo")
        .string("Ljava/lang/String;")
        .string(&"x".repeat(arg_len))
        .map_untyped()
        .string("path")
        .string("com.example.EchoService")
        .string("group")
        .string("g1")
        .string("timeout")
        .int(3000)
        .map_end();
    let body = body.into_bytes();
    let mut frame = BytesMut::new();
    xprotocol_dubbo::DubboHeader {
        flag: 0xc2,
        status: 0,
        request_id: 1,
        body_len: body.len() as u32,
    }
    .write(&mut frame);
    frame.extend_from_slice(&body);
    frame.freeze()
}

/// Criterion benches of every layer of `codec` on one request `frame`, in a
/// group named `group`: split, id read and rewrite, frame head, the routing
/// view (reading interface, method, version and group), one header edit, and
/// both HTTP/2 directions. Calls go through the `dyn` layers, as in a proxy.
pub fn bench_request_layers(
    c: &mut criterion::Criterion,
    group: &str,
    codec: &dyn Codec,
    frame: &Bytes,
) {
    use std::time::Duration;
    let layers = Layers::of(codec);
    let mut scratch = frame.to_vec();
    let message = layers.to_http2(frame).expect("the frame transcodes");
    let mut g = c.benchmark_group(group);
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    g.bench_function("split", |b| b.iter(|| layers.split(black_box(frame))));
    g.bench_function("id_read", |b| b.iter(|| layers.id_read(black_box(frame))));
    g.bench_function("id_rewrite", |b| {
        b.iter(|| layers.id_rewrite(black_box(&mut scratch), 77))
    });
    g.bench_function("frame_head", |b| {
        b.iter(|| layers.frame_head(black_box(frame)))
    });
    g.bench_function("route_headers", |b| {
        b.iter(|| {
            let route = layers
                .routing
                .route_headers(black_box(frame))
                .expect("routing view");
            black_box((
                route.interface(),
                route.method(),
                route.version(),
                route.group(),
            ))
            .0
            .map(str::len)
        })
    });
    g.bench_function("mutate_header", |b| {
        b.iter(|| layers.mutate_header(black_box(frame)))
    });
    g.bench_function("to_http2", |b| b.iter(|| layers.to_http2(black_box(frame))));
    g.bench_function("from_http2", |b| {
        b.iter(|| layers.from_http2(black_box(&message)))
    });
    g.finish();
}
