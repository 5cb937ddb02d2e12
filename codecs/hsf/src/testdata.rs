//! Real HSF frames for tests, examples and benches.
//!
//! Provenance: the unit tests of the HSF plugin Alibaba contributed to MOSN
//! (`pkg/stream/xprotocol/subprotocol/hsfrpc_test.go` on the `refs/pull/180/head`
//! ref of mosn/mosn, 2018, Apache-2.0): a request captured from a real HSF
//! consumer (`com.test.pandora.hsf.HelloService:1.0.0.daily`, `sayHello("world")`)
//! followed in the same read by three heartbeats; and the plugin's response
//! test frame. No other public HSF capture is known.

/// The captured request (261 bytes): id 0, timeout 2000 ms, serialization 4,
/// one `java.lang.String` argument, props `Consumer-AppName`, `target_group`,
/// `_TID` (null) and `eagleeye_context` (a nested map).
pub const CAPTURED_REQUEST: &str = concat!(
    "0e0100040000030000000000000000000007d00000002d000000080000000100000010000000060000008f636f6d2e74",
    "6573742e70616e646f72612e6873662e48656c6c6f536572766963653a312e302e302e6461696c7973617948656c6c6f",
    "6a6176612e6c616e672e537472696e6705776f726c644810436f6e73756d65722d4170704e616d650f6873662d736572",
    "7665722d64656d6f0c7461726765745f67726f75700448534631045f5449444e106561676c656579655f636f6e746578",
    "744807747261636549641e30613937363336373135333530383237383631303731303031643030363105727063496401",
    "39106561676c6545796555736572446174614e5a5a",
);

/// The three heartbeats that followed the request in the capture (18 bytes
/// each: ids 1, 2, 3, timeout 3000 ms).
pub const CAPTURED_HEARTBEATS: &str = concat!(
    "0c0001000000000000000000000100000bb80c0001000000000000000000000200000bb80c0001000000000000000000",
    "000300000bb8",
);

/// The plugin's response test frame: id 0x12345678, status 0, serialization 2, empty body.
pub const PLUGIN_RESPONSE: &str = "0e01010002000000000000001234567800000000";

/// Decode one of the hex constants here.
///
/// # Panics
/// On bad hex: the constants are fixed, valid data.
pub fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("valid hex constant"))
        .collect()
}
