//! The host side of the plugin boundary against an adversarial plugin: an
//! in-process ABI object whose every result (split lengths, kinds, ids, text
//! ranges, header names, HTTP/2 bodies, facts JSON) comes from the fuzzer.
//! The host must validate all of it: no panic, complete splits within the
//! buffer, every routing text inside the frame or its arena.
#![no_main]

use std::hint::black_box;
use std::path::Path;

use abi_stable::std_types::{RResult, RSlice, RSliceMut, RStr, RString, RVec, Tuple2};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use xprotocol_core::{Codec, HeaderEdit, LocalStatus, Split};
use xprotocol_plugin_abi::{
    ErrorCode, FfiCodec, FfiCodecBox, FfiEdit, FfiError, FfiHead, FfiHttp2, FfiResult, FfiRoute,
    FfiSplit, FfiText,
};
use xprotocol_plugin_host::PluginCodec;

/// Answers every call from a byte script.
struct Adversary(Vec<u8>);

impl Adversary {
    fn byte(&self, i: usize) -> u8 {
        self.0.get(i % self.0.len().max(1)).copied().unwrap_or(0)
    }
    fn u64(&self, i: usize) -> u64 {
        (0..8).fold(0, |acc, k| (acc << 8) | u64::from(self.byte(i + k)))
    }
    fn text(&self, i: usize) -> FfiText {
        FfiText {
            kind: self.byte(i) % 4,
            start: self.u64(i + 1) as u32 % 512,
            len: self.u64(i + 5) as u32 % 512,
        }
    }
    fn ok_or_err<T>(&self, i: usize, v: T) -> FfiResult<T> {
        match self.byte(i) % 5 {
            0 => RResult::RErr(FfiError {
                code: ErrorCode(u32::from(self.byte(i + 1))),
                close_connection: self.byte(i + 2) & 1 == 1,
                message: RString::from("adversary"),
            }),
            _ => RResult::ROk(v),
        }
    }
    fn bytes(&self, i: usize) -> RVec<u8> {
        let n = usize::from(self.byte(i)) % 64;
        (0..n).map(|k| self.byte(i + 1 + k)).collect()
    }
    fn http2(&self) -> FfiHttp2 {
        let name = String::from_utf8_lossy(&self.bytes(30)).into_owned();
        let value = String::from_utf8_lossy(&self.bytes(31)).into_owned();
        FfiHttp2 {
            request: self.byte(32) & 1 == 1,
            status: u16::from(self.byte(33)) * 3,
            authority: String::from_utf8_lossy(&self.bytes(34)).into_owned().into(),
            path: String::from_utf8_lossy(&self.bytes(35)).into_owned().into(),
            headers: vec![Tuple2(RString::from(name), RString::from(value))].into(),
            body: self.bytes(36),
            body_range: self.text(37),
        }
    }
}

impl FfiCodec for Adversary {
    fn name(&self) -> RString {
        "adversary".into()
    }
    fn capabilities(&self) -> u8 {
        self.byte(0)
    }
    fn id_bits(&self) -> u8 {
        self.byte(1) % 80
    }
    fn probe(&self, _prefix: RSlice<'_, u8>) -> u8 {
        self.byte(2)
    }
    fn split(&self, _buf: RSlice<'_, u8>) -> FfiResult<FfiSplit> {
        self.ok_or_err(
            3,
            FfiSplit {
                kind: self.byte(4) % 4,
                len: self.u64(5) % 1024,
            },
        )
    }
    fn frame_head(&self, _frame: RSlice<'_, u8>) -> FfiResult<FfiHead> {
        let head = FfiHead {
            kind: self.byte(13) % 8,
            request_id: self.u64(14),
            timeout_ms: self.u64(15),
            has_status: self.byte(16) & 1 == 1,
            status: self.byte(17).into(),
        };
        self.ok_or_err(12, head)
    }
    fn request_id(&self, _frame: RSlice<'_, u8>) -> FfiResult<u64> {
        self.ok_or_err(18, self.u64(19))
    }
    fn set_request_id(&self, _frame: RSliceMut<'_, u8>, _id: u64) -> FfiResult<()> {
        self.ok_or_err(20, ())
    }
    fn heartbeat_reply(&self, _request: RSlice<'_, u8>) -> FfiResult<RVec<u8>> {
        self.ok_or_err(21, self.bytes(22))
    }
    fn heartbeat_request(&self, _id: u64) -> FfiResult<RVec<u8>> {
        self.ok_or_err(21, self.bytes(23))
    }
    fn goaway(&self, _id: u64) -> FfiResult<RVec<u8>> {
        self.ok_or_err(21, self.bytes(24))
    }
    fn route_headers(&self, _frame: RSlice<'_, u8>) -> FfiResult<FfiRoute> {
        let headers = (0..usize::from(self.byte(40)) % 8)
            .map(|k| Tuple2(self.text(41 + 18 * k), self.text(50 + 18 * k)))
            .collect();
        let route = FfiRoute {
            service: self.text(60),
            interface: self.text(61),
            version: self.text(62),
            group: self.text(63),
            method: self.text(64),
            headers,
            arena: self.bytes(65),
        };
        self.ok_or_err(39, route)
    }
    fn mutate_headers(
        &self,
        _frame: RSlice<'_, u8>,
        _edits: RSlice<'_, FfiEdit<'_>>,
    ) -> FfiResult<RVec<u8>> {
        self.ok_or_err(25, self.bytes(26))
    }
    fn local_reply(
        &self,
        _request: RSlice<'_, u8>,
        _status: u8,
        _message: RStr<'_>,
    ) -> FfiResult<RVec<u8>> {
        self.ok_or_err(27, self.bytes(28))
    }
    fn to_http2(&self, _frame: RSlice<'_, u8>) -> FfiResult<FfiHttp2> {
        self.ok_or_err(29, self.http2())
    }
    fn from_http2(&self, _message: &FfiHttp2) -> FfiResult<RVec<u8>> {
        self.ok_or_err(29, self.bytes(38))
    }
    fn facts_json(&self, _frame: RSlice<'_, u8>) -> FfiResult<RString> {
        self.ok_or_err(
            70,
            String::from_utf8_lossy(&self.bytes(71)).into_owned().into(),
        )
    }
}

fuzz_target!(|data: &[u8]| {
    let (script, frame) = data.split_at(data.len().min(96));
    let codec = PluginCodec::from_ffi(
        FfiCodecBox::from_value(
            Adversary(script.to_vec()),
            abi_stable::sabi_trait::TD_Opaque,
        ),
        Path::new("<fuzz>"),
    );
    let frame = Bytes::copy_from_slice(frame);
    black_box(codec.framing().probe(&frame));
    if let Ok(Split::Complete(len)) = codec.framing().split_frame(&frame) {
        assert!(
            len > 0 && len <= frame.len(),
            "a complete split must lie within the buffer"
        );
    }
    if let Some(mux) = codec.multiplexing() {
        if let Ok(head) = mux.frame_head(&frame) {
            assert!(mux.id_width().fits(head.request_id));
        }
        black_box(mux.request_id(&frame).ok());
        black_box(mux.set_request_id(&mut frame.to_vec(), 9).ok());
        let mut dst = BytesMut::new();
        black_box(mux.heartbeat_reply(&frame, &mut dst).ok());
    }
    if let Some(routing) = codec.routing() {
        if let Ok(route) = routing.route_headers(&frame) {
            for (k, v) in route.headers() {
                black_box((k, v));
            }
            black_box((
                route.service(),
                route.interface(),
                route.version(),
                route.group(),
                route.method(),
            ));
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
    if let Some(transcoding) = codec.transcoding() {
        if let Ok(message) = transcoding.to_http2(&frame) {
            black_box(transcoding.from_http2(&message).ok());
        }
    }
    black_box(codec.facts(&frame).ok());
});
