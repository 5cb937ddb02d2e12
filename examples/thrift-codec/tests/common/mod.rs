//! Frames built by hand from the Thrift spec (framed transport + binary
//! protocol), independent of the codec's own encoder, and a tiny struct reader.
#![allow(dead_code)]

pub(crate) const CALL: u8 = 1;
pub(crate) const REPLY: u8 = 2;
pub(crate) const EXCEPTION: u8 = 3;
pub(crate) const ONEWAY: u8 = 4;

pub(crate) const T_STOP: u8 = 0;
pub(crate) const T_I32: u8 = 8;
pub(crate) const T_STRING: u8 = 11;

/// `u32 length ‖ message`.
pub(crate) fn framed(message: &[u8]) -> Vec<u8> {
    let mut f = (message.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(message);
    f
}

/// A strict message: `i32 0x8001_0000 | type ‖ string name ‖ i32 seqid ‖ body`, framed.
pub(crate) fn strict(ty: u8, name: &str, seqid: i32, body: &[u8]) -> Vec<u8> {
    let mut m = (0x8001_0000u32 | u32::from(ty)).to_be_bytes().to_vec();
    m.extend_from_slice(&(name.len() as i32).to_be_bytes());
    m.extend_from_slice(name.as_bytes());
    m.extend_from_slice(&seqid.to_be_bytes());
    m.extend_from_slice(body);
    framed(&m)
}

/// A non-strict message: `string name ‖ i8 type ‖ i32 seqid ‖ body`, framed.
pub(crate) fn loose(ty: u8, name: &str, seqid: i32, body: &[u8]) -> Vec<u8> {
    let mut m = (name.len() as i32).to_be_bytes().to_vec();
    m.extend_from_slice(name.as_bytes());
    m.push(ty);
    m.extend_from_slice(&seqid.to_be_bytes());
    m.extend_from_slice(body);
    framed(&m)
}

/// Struct builder.
#[derive(Default)]
pub(crate) struct Struct(Vec<u8>);

impl Struct {
    pub(crate) fn new() -> Self {
        Self::default()
    }
    pub(crate) fn string(mut self, id: i16, s: &str) -> Self {
        self.0.push(T_STRING);
        self.0.extend_from_slice(&id.to_be_bytes());
        self.0.extend_from_slice(&(s.len() as i32).to_be_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    pub(crate) fn i32(mut self, id: i16, v: i32) -> Self {
        self.0.push(T_I32);
        self.0.extend_from_slice(&id.to_be_bytes());
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub(crate) fn end(mut self) -> Vec<u8> {
        self.0.push(T_STOP);
        self.0
    }
}

/// A field value read back by [`read_struct`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    Str(String),
    I32(i32),
}

/// The fields of a struct holding only string and i32 fields, and the bytes after it.
pub(crate) fn read_struct(body: &[u8]) -> (Vec<(i16, Field)>, &[u8]) {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let ty = body[at];
        if ty == T_STOP {
            return (out, &body[at + 1..]);
        }
        let id = i16::from_be_bytes([body[at + 1], body[at + 2]]);
        let n = i32::from_be_bytes(body[at + 3..at + 7].try_into().unwrap());
        match ty {
            T_STRING => {
                let s = &body[at + 7..at + 7 + n as usize];
                out.push((id, Field::Str(String::from_utf8(s.to_vec()).unwrap())));
                at += 7 + n as usize;
            }
            T_I32 => {
                out.push((id, Field::I32(n)));
                at += 7;
            }
            other => panic!("field type {other} in a test struct"),
        }
    }
}

/// The parts of a message read by hand: (strict, type, name, seqid, body).
pub(crate) fn read_message(frame: &[u8]) -> (bool, u8, String, i32, Vec<u8>) {
    let len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
    assert_eq!(len + 4, frame.len(), "frame length");
    let m = &frame[4..];
    let word = i32::from_be_bytes(m[..4].try_into().unwrap());
    if word < 0 {
        assert_eq!(word as u32 & 0xffff_0000, 0x8001_0000);
        let n = i32::from_be_bytes(m[4..8].try_into().unwrap()) as usize;
        let name = String::from_utf8(m[8..8 + n].to_vec()).unwrap();
        let seqid = i32::from_be_bytes(m[8 + n..12 + n].try_into().unwrap());
        (true, word as u8, name, seqid, m[12 + n..].to_vec())
    } else {
        let n = word as usize;
        let name = String::from_utf8(m[4..4 + n].to_vec()).unwrap();
        let seqid = i32::from_be_bytes(m[5 + n..9 + n].try_into().unwrap());
        (false, m[4 + n], name, seqid, m[9 + n..].to_vec())
    }
}

/// A catalog of valid frames of every kind and style.
pub(crate) fn catalog() -> Vec<(&'static str, Vec<u8>)> {
    let echo_args = Struct::new().string(1, "héllo, 世界").end();
    let add_args = Struct::new().i32(1, 2).i32(2, 40).end();
    let echo_result = Struct::new().string(0, "héllo, 世界").end();
    let exc = Struct::new()
        .string(1, "Unknown function nope")
        .i32(2, 1)
        .end();
    vec![
        ("strict call", strict(CALL, "echo", 1, &echo_args)),
        ("strict call, empty name", strict(CALL, "", 0, &[T_STOP])),
        (
            "strict multiplexed call",
            strict(CALL, "Echo:add", 7, &add_args),
        ),
        ("strict oneway", strict(ONEWAY, "notify", 3, &echo_args)),
        ("strict reply", strict(REPLY, "echo", 1, &echo_result)),
        ("strict exception", strict(EXCEPTION, "nope", -5, &exc)),
        (
            "strict call, negative seqid",
            strict(CALL, "ping", -1, &[T_STOP]),
        ),
        ("loose call", loose(CALL, "echo", 2, &echo_args)),
        ("loose call, empty name", loose(CALL, "", 9, &[T_STOP])),
        (
            "loose multiplexed call",
            loose(CALL, "Echo:echo", 0x7fff_ffff, &echo_args),
        ),
        ("loose oneway", loose(ONEWAY, "notify", 4, &echo_args)),
        (
            "loose reply",
            loose(REPLY, "add", 2, &Struct::new().i32(0, 42).end()),
        ),
        ("loose exception", loose(EXCEPTION, "ping", 8, &exc)),
    ]
}

/// The kit's per-frame checks, plus edits with a key and value (binary Thrift
/// has no header map: the kit accepts the codec's `Unsupported`).
pub(crate) fn conformance(codec: &xprotocol_example_thrift::ThriftCodec, frame: &[u8]) {
    let kit = xprotocol_core::testing::Conformance::new(codec);
    kit.check_frame(frame);
    kit.check_edits(frame, "x-k", "v");
}
