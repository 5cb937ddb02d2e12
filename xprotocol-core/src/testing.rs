//! The conformance kit: the codec-independent checks every codec (Bolt, Dubbo,
//! HSF, third-party plugins) runs against its own frames.
//!
//! Each check panics with a message naming the codec, the check and the detail
//! that failed, like `assert!`, so it reads naturally inside `#[test]` functions.
//!
//! ```no_run
//! use xprotocol_core::{Codec, testing::Conformance};
//!
//! fn conformance(codec: &dyn Codec, my_frames: &[Vec<u8>]) {
//!     let kit = Conformance::new(codec);
//!     for frame in my_frames {
//!         kit.check_frame(frame); // split, chunked feeding, ids, HTTP/2, mutation, replies
//!     }
//!     kit.check_arbitrary_inputs(my_frames, 2_000); // proptest: never panics, respects limits
//! }
//! ```

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

pub mod vectors;

use crate::{Codec, Error, FrameHead, FrameKind, HeaderEdit, Limits, LocalStatus, Needed, Split};

/// Split fuzz input into an edit and a frame: `[key len][value len][key][value][frame…]`
/// (lengths one byte each, key and value UTF-8). `None` when the input does not
/// have that shape.
pub fn edit_input(data: &[u8]) -> Option<(&str, &str, &[u8])> {
    let (&[kl, vl], rest) = data.split_first_chunk::<2>()?;
    let (key, rest) = rest.split_at_checked(usize::from(kl))?;
    let (value, frame) = rest.split_at_checked(usize::from(vl))?;
    Some((
        std::str::from_utf8(key).ok()?,
        std::str::from_utf8(value).ok()?,
        frame,
    ))
}

/// Runs the conformance checks against one codec.
#[derive(Clone, Copy)]
pub struct Conformance<'a> {
    codec: &'a dyn Codec,
    limits: Limits,
}

impl std::fmt::Debug for Conformance<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conformance")
            .field("codec", &self.codec.name())
            .finish()
    }
}

impl<'a> Conformance<'a> {
    /// A kit for `codec`, assuming it was built with the default [`Limits`].
    pub fn new(codec: &'a dyn Codec) -> Self {
        Self {
            codec,
            limits: Limits::default(),
        }
    }

    /// A kit for a codec built with `limits`.
    pub fn with_limits(codec: &'a dyn Codec, limits: Limits) -> Self {
        Self { codec, limits }
    }

    fn name(&self) -> &str {
        self.codec.name()
    }

    /// Every per-frame check that applies to `frame` (a whole, valid frame).
    pub fn check_frame(&self, frame: &[u8]) {
        self.check_probe(frame);
        self.check_split(frame);
        self.check_chunked_feeding(frame);
        if self.codec.multiplexing().is_some() {
            self.check_id_rewrite(frame);
            self.check_heartbeat(frame);
        }
        if self.codec.routing().is_some() {
            self.check_mutation(frame);
            self.check_local_replies(frame);
        }
        if self.codec.transcoding().is_some() {
            self.check_http2_round_trip(frame);
        }
    }

    /// Sniffing: the whole frame matches; every prefix is `Match` or `NeedMore`, never `NoMatch`.
    pub fn check_probe(&self, frame: &[u8]) {
        let framing = self.codec.framing();
        assert_eq!(
            framing.probe(frame),
            crate::Probe::Match,
            "{}: probe of a whole frame",
            self.name()
        );
        for k in 0..frame.len() {
            assert_ne!(
                framing.probe(&frame[..k]),
                crate::Probe::NoMatch,
                "{}: probe of a {k}-byte prefix said NoMatch",
                self.name()
            );
        }
    }

    /// Splitting: the whole frame is `Complete(len)`; every prefix is `Incomplete`
    /// with a consistent count (exact counts land exactly on the frame end); two
    /// frames back to back split at the first.
    pub fn check_split(&self, frame: &[u8]) {
        let framing = self.codec.framing();
        let len = frame.len();
        assert_eq!(
            framing.split_frame(frame),
            Ok(Split::Complete(len)),
            "{}: whole frame",
            self.name()
        );
        for k in 0..len {
            match framing.split_frame(&frame[..k]) {
                Ok(Split::Incomplete(Needed::Exact(n))) => {
                    assert_eq!(k + n, len, "{}: exact count at prefix {k}", self.name())
                }
                Ok(Split::Incomplete(Needed::AtLeast(n))) => {
                    assert!(
                        n >= 1 && k + n <= len,
                        "{}: lower bound {n} at prefix {k} of {len}",
                        self.name()
                    )
                }
                other => panic!("{}: prefix {k} of {len} gave {other:?}", self.name()),
            }
        }
        let doubled = [frame, frame].concat();
        assert_eq!(
            framing.split_frame(&doubled),
            Ok(Split::Complete(len)),
            "{}: back to back",
            self.name()
        );
    }

    /// Feeding the frame through a read buffer in two chunks, split at every
    /// byte position, followed by a second copy, yields the same two frames.
    pub fn check_chunked_feeding(&self, frame: &[u8]) {
        let framing = self.codec.framing();
        for cut in 0..=frame.len() {
            let mut buf = BytesMut::new();
            let mut frames: Vec<Bytes> = Vec::new();
            for chunk in [&frame[..cut], &frame[cut..], frame] {
                buf.extend_from_slice(chunk);
                while let Split::Complete(n) = framing
                    .split_frame(&buf)
                    .unwrap_or_else(|e| panic!("{}: cut {cut}: {e}", self.name()))
                {
                    frames.push(buf.split_to(n).freeze());
                }
            }
            assert_eq!(frames.len(), 2, "{}: cut at {cut}", self.name());
            assert!(
                frames.iter().all(|f| f[..] == *frame),
                "{}: cut at {cut}",
                self.name()
            );
            assert!(
                buf.is_empty(),
                "{}: cut at {cut}: bytes left over",
                self.name()
            );
        }
    }

    fn head(&self, frame: &[u8]) -> FrameHead {
        let mux = self.codec.multiplexing().expect("multiplexing");
        mux.frame_head(frame)
            .unwrap_or_else(|e| panic!("{}: frame_head: {e}", self.name()))
    }

    /// Request-id rewrite: every id that fits reads back, nothing else changes,
    /// the frame still splits (checksums fixed), out-of-range ids are refused
    /// with the frame untouched, and writing the old id back restores the bytes.
    pub fn check_id_rewrite(&self, frame: &[u8]) {
        let mux = self.codec.multiplexing().expect("multiplexing");
        let head = self.head(frame);
        let width = mux.id_width();
        let before = self.codec.facts(&Bytes::copy_from_slice(frame)).ok();
        for id in [
            0,
            1,
            0x7fff_ffff,
            width.max() / 2 + 1,
            width.max(),
            head.request_id,
        ] {
            let mut copy = frame.to_vec();
            mux.set_request_id(&mut copy, id)
                .unwrap_or_else(|e| panic!("{}: set id {id}: {e}", self.name()));
            assert_eq!(copy.len(), frame.len(), "{}: length changed", self.name());
            assert_eq!(
                mux.request_id(&copy),
                Ok(id),
                "{}: id {id} read back",
                self.name()
            );
            assert_eq!(
                self.head(&copy),
                FrameHead {
                    request_id: id,
                    ..head
                },
                "{}: other fields",
                self.name()
            );
            assert_eq!(
                self.codec.framing().split_frame(&copy),
                Ok(Split::Complete(frame.len())),
                "{}: rewritten frame must split (checksum)",
                self.name()
            );
            if let Some(before) = &before {
                let mut after = self
                    .codec
                    .facts(&Bytes::from(copy.clone()))
                    .expect("facts after rewrite");
                after.push("request_id", i64::try_from(head.request_id).unwrap_or(-1));
                let mut expect = before.clone();
                expect.push("request_id", i64::try_from(head.request_id).unwrap_or(-1));
                assert_eq!(
                    after,
                    expect,
                    "{}: facts other than request_id changed",
                    self.name()
                );
            }
            mux.set_request_id(&mut copy, head.request_id)
                .expect("restore id");
            assert_eq!(
                copy,
                frame,
                "{}: restoring the id restores the bytes",
                self.name()
            );
        }
        if width.max() < u64::MAX {
            let mut copy = frame.to_vec();
            let err = mux.set_request_id(&mut copy, width.max() + 1);
            assert!(
                matches!(err, Err(Error::IdOutOfRange { .. })),
                "{}: out-of-range id: {err:?}",
                self.name()
            );
            assert_eq!(
                copy,
                frame,
                "{}: refused rewrite must not touch the frame",
                self.name()
            );
        }
    }

    /// Heartbeats: a heartbeat request gets a heartbeat response with its id; an
    /// active heartbeat and a goaway, where supported, read back as such.
    pub fn check_heartbeat(&self, frame: &[u8]) {
        let mux = self.codec.multiplexing().expect("multiplexing");
        let head = self.head(frame);
        let mut dst = BytesMut::new();
        match mux.heartbeat_reply(frame, &mut dst) {
            Ok(()) => {
                assert_eq!(
                    head.kind,
                    FrameKind::HeartbeatRequest,
                    "{}: replied to a {:?}",
                    self.name(),
                    head.kind
                );
                self.assert_whole(&dst, "heartbeat reply");
                let reply = self.head(&dst);
                assert_eq!(
                    reply.kind,
                    FrameKind::HeartbeatResponse,
                    "{}: heartbeat reply kind",
                    self.name()
                );
                assert_eq!(
                    reply.request_id,
                    head.request_id,
                    "{}: heartbeat reply id",
                    self.name()
                );
            }
            Err(e) => assert!(
                head.kind != FrameKind::HeartbeatRequest || e.is_unsupported(),
                "{}: heartbeat reply failed: {e}",
                self.name()
            ),
        }
        let id = head.request_id & mux.id_width().max();
        let mut ping = BytesMut::new();
        if mux.heartbeat_request(id, &mut ping).is_ok() {
            self.assert_whole(&ping, "active heartbeat");
            let h = self.head(&ping);
            assert_eq!(
                (h.kind, h.request_id),
                (FrameKind::HeartbeatRequest, id),
                "{}: active heartbeat",
                self.name()
            );
        }
        let mut goaway = BytesMut::new();
        if mux.goaway(id, &mut goaway).is_ok() {
            self.assert_whole(&goaway, "goaway");
            assert_eq!(
                self.head(&goaway).kind,
                FrameKind::GoAway,
                "{}: goaway kind",
                self.name()
            );
        }
    }

    fn assert_whole(&self, frame: &[u8], what: &str) {
        assert_eq!(
            self.codec.framing().split_frame(frame),
            Ok(Split::Complete(frame.len())),
            "{}: {what} is not one whole frame",
            self.name()
        );
    }

    /// Header mutation on requests: a new header reads back and everything else
    /// is unchanged; removing it again restores the original bytes. A codec
    /// whose protocol has no header map may refuse edits with `Unsupported`.
    pub fn check_mutation(&self, frame: &[u8]) {
        let routing = self.codec.routing().expect("routing");
        let bytes = Bytes::copy_from_slice(frame);
        let Ok(route) = routing.route_headers(&bytes) else {
            return;
        };
        if self.codec.multiplexing().is_some()
            && !matches!(
                self.head(frame).kind,
                FrameKind::Request | FrameKind::OnewayRequest
            )
        {
            return;
        }
        let key = "x-conformance-ключ";
        let value = "值 1\t%";
        let added = match routing.mutate_headers(&bytes, &[HeaderEdit::Set(key, value)]) {
            Ok(parts) => parts.to_bytes(),
            // A protocol without a header map (binary Thrift) cannot take edits.
            Err(e) if e.is_unsupported() => return,
            Err(e) => panic!("{}: mutate: {e}", self.name()),
        };
        self.assert_whole(&added, "mutated frame");
        let route2 = routing
            .route_headers(&added)
            .expect("route of mutated frame");
        assert_eq!(
            route2.header(key),
            Some(value),
            "{}: new header reads back",
            self.name()
        );
        let old: Vec<_> = route.headers().collect();
        let new: Vec<_> = route2
            .headers()
            .filter(|(k, _)| *k != key.as_bytes())
            .collect();
        assert_eq!(old, new, "{}: other headers kept in order", self.name());
        assert_eq!(
            route.method(),
            route2.method(),
            "{}: method kept",
            self.name()
        );
        assert_eq!(
            route.service(),
            route2.service(),
            "{}: service kept",
            self.name()
        );
        if self.codec.multiplexing().is_some() {
            assert_eq!(
                self.head(frame),
                self.head(&added),
                "{}: head kept",
                self.name()
            );
        }
        let removed = routing
            .mutate_headers(&added, &[HeaderEdit::Remove(key)])
            .unwrap_or_else(|e| panic!("{}: remove: {e}", self.name()))
            .to_bytes();
        assert_eq!(
            &removed[..],
            frame,
            "{}: set then remove restores the frame",
            self.name()
        );
    }

    /// Edits with any key and value on any complete frame never panic; an edit
    /// that succeeds yields one whole frame in which `Set` leaves exactly one
    /// `key` with `value` and `Remove` leaves none.
    pub fn check_edits(&self, frame: &[u8], key: &str, value: &str) {
        let Some(routing) = self.codec.routing() else {
            return;
        };
        let frame = Bytes::copy_from_slice(frame);
        let readable = routing.route_headers(&frame).is_ok();
        if let Ok(set) = routing.mutate_headers(black_box(&frame), &[HeaderEdit::Set(key, value)]) {
            let set = set.to_bytes();
            self.assert_whole(&set, "Set result");
            if readable {
                let after = routing
                    .route_headers(&set)
                    .expect("routing view of a Set result");
                let found: Vec<_> = after
                    .headers()
                    .filter(|(k, _)| *k == key.as_bytes())
                    .collect();
                assert_eq!(
                    found,
                    [(key.as_bytes(), value.as_bytes())],
                    "{}: Set must leave exactly one {key:?}",
                    self.name()
                );
            }
        }
        if let Ok(removed) = routing.mutate_headers(black_box(&frame), &[HeaderEdit::Remove(key)]) {
            let removed = removed.to_bytes();
            self.assert_whole(&removed, "Remove result");
            if let Ok(after) = routing.route_headers(&removed) {
                assert!(
                    after.headers().all(|(k, _)| k != key.as_bytes()),
                    "{}: Remove left {key:?}",
                    self.name()
                );
            }
        }
    }

    /// Local replies: for a two-way request, every [`LocalStatus`] yields one whole
    /// response frame with the request's id and a native status (or the codec
    /// refuses local replies altogether with `Error::Unsupported`).
    pub fn check_local_replies(&self, frame: &[u8]) {
        let routing = self.codec.routing().expect("routing");
        let Some(mux) = self.codec.multiplexing() else {
            return;
        };
        let head = self.head(frame);
        if head.kind != FrameKind::Request {
            return;
        }
        for status in LocalStatus::ALL {
            let mut dst = BytesMut::new();
            match routing.local_reply(frame, status, "proxy says no: 拒绝", &mut dst) {
                Ok(()) => {}
                // A codec may refuse replies it cannot build faithfully, all of them.
                Err(e) if e.is_unsupported() && dst.is_empty() => return,
                Err(e) => panic!("{}: local reply {status:?}: {e}", self.name()),
            }
            self.assert_whole(&dst, "local reply");
            let reply = mux.frame_head(&dst).expect("local reply head");
            assert_eq!(
                reply.kind,
                FrameKind::Response,
                "{}: {status:?} reply kind",
                self.name()
            );
            assert_eq!(
                reply.request_id,
                head.request_id,
                "{}: {status:?} reply id",
                self.name()
            );
            assert!(
                reply.status.is_some(),
                "{}: {status:?} reply has a status",
                self.name()
            );
        }
    }

    /// HTTP/2: native → HTTP/2 → native is byte-identical; the id and kind travel
    /// in `xp-request-id` / `xp-kind`, responses carry `xp-status`.
    pub fn check_http2_round_trip(&self, frame: &[u8]) {
        let transcoding = self.codec.transcoding().expect("transcoding");
        let bytes = Bytes::copy_from_slice(frame);
        let message = transcoding
            .to_http2(&bytes)
            .unwrap_or_else(|e| panic!("{}: to_http2: {e}", self.name()));
        let back = transcoding
            .from_http2(&message)
            .unwrap_or_else(|e| panic!("{}: from_http2: {e}", self.name()));
        assert!(
            back == *frame,
            "{}: HTTP/2 round trip is not byte-identical",
            self.name()
        );
        let headers = message.headers();
        if let Some(mux) = self.codec.multiplexing() {
            let head = mux.frame_head(frame).expect("head");
            let id = headers
                .get(crate::transcoding::names::REQUEST_ID)
                .and_then(|v| v.to_str().ok());
            assert_eq!(
                id,
                Some(head.request_id.to_string().as_str()),
                "{}: xp-request-id",
                self.name()
            );
            let kind = headers
                .get(crate::transcoding::names::KIND)
                .and_then(|v| v.to_str().ok());
            assert_eq!(kind, Some(head.kind.as_str()), "{}: xp-kind", self.name());
            if head.kind == FrameKind::Response {
                assert!(
                    headers.contains_key(crate::transcoding::names::STATUS),
                    "{}: xp-status",
                    self.name()
                );
            }
        }
        for forbidden in [
            "connection",
            "transfer-encoding",
            "te",
            "keep-alive",
            "upgrade",
            "host",
            "content-length",
        ] {
            assert!(
                !headers.contains_key(forbidden),
                "{}: connection-specific header {forbidden}",
                self.name()
            );
        }
    }

    /// Any bytes at all: no layer panics, a complete frame never exceeds the
    /// input or `max_frame_len`, and whatever transcodes round-trips exactly.
    pub fn check_arbitrary_input(&self, data: &[u8]) {
        let framing = self.codec.framing();
        black_box(framing.probe(black_box(data)));
        let Ok(Split::Complete(len)) = framing.split_frame(black_box(data)) else {
            return;
        };
        assert!(
            len <= data.len() && len <= self.limits.max_frame_len,
            "{}: split length {len}",
            self.name()
        );
        let frame = Bytes::copy_from_slice(&data[..len]);
        black_box(self.codec.facts(&frame).ok());
        if let Some(mux) = self.codec.multiplexing() {
            black_box(mux.frame_head(&frame).ok());
            let mut copy = frame.to_vec();
            black_box(mux.set_request_id(&mut copy, 7).ok());
            let mut dst = BytesMut::new();
            black_box(mux.heartbeat_reply(&frame, &mut dst).ok());
        }
        if let Some(routing) = self.codec.routing() {
            if let Ok(route) = routing.route_headers(&frame) {
                assert!(
                    route.header_count() <= self.limits.max_header_entries,
                    "{}: header entries",
                    self.name()
                );
                black_box((route.service(), route.method(), route.header("x")));
            }
            black_box(
                routing
                    .mutate_headers(&frame, &[HeaderEdit::Set("k", "v")])
                    .ok(),
            );
            let mut dst = BytesMut::new();
            black_box(
                routing
                    .local_reply(&frame, LocalStatus::Timeout, "t", &mut dst)
                    .ok(),
            );
        }
        if let Some(Ok(message)) = self.codec.transcoding().map(|t| t.to_http2(&frame)) {
            let back = self.codec.transcoding().map(|t| t.from_http2(&message));
            assert!(
                matches!(&back, Some(Ok(b)) if *b == frame[..]),
                "{}: a frame that transcodes must round-trip: {back:?}",
                self.name()
            );
        }
    }

    /// One fuzz input for a routing target: `[key len][value len][key][value][frame…]`
    /// runs [`Conformance::check_arbitrary_input`] on the frame and
    /// [`Conformance::check_edits`] with that key and value; any other input
    /// runs `check_arbitrary_input` on all of it.
    pub fn check_fuzz_input(&self, data: &[u8]) {
        match edit_input(data) {
            Some((key, value, frame)) => {
                self.check_arbitrary_input(frame);
                self.check_edits(frame, key, value);
            }
            None => self.check_arbitrary_input(data),
        }
    }

    /// Property test: random bytes, and the `seeds` with random truncation, byte
    /// flips and extensions, pass [`Conformance::check_arbitrary_input`].
    pub fn check_arbitrary_inputs(&self, seeds: &[Vec<u8>], cases: u32) {
        let seeds: Vec<Vec<u8>> = if seeds.is_empty() {
            vec![Vec::new()]
        } else {
            seeds.to_vec()
        };
        let mutated = (
            0..seeds.len(),
            proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 0..16),
        )
            .prop_map(move |(i, flips, cut, tail)| {
                let mut data = seeds[i].clone();
                for (at, byte) in flips {
                    if !data.is_empty() {
                        let at = at % data.len();
                        data[at] = byte;
                    }
                }
                data.truncate(cut % (data.len() + 1) + usize::from(cut % 2 == 0) * data.len());
                data.extend(tail);
                data
            });
        let strategy = prop_oneof![proptest::collection::vec(any::<u8>(), 0..512), mutated];
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&strategy, |data| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.check_arbitrary_input(&data)
            }))
            .map_err(|_| TestCaseError::fail("check_arbitrary_input panicked"))
        });
        if let Err(e) = result {
            panic!("{}: arbitrary input: {e}", self.name());
        }
    }
}
