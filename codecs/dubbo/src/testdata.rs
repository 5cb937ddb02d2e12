//! Dubbo frames for examples, tests and benches, from the layouts documented in
//! the research notes (MOSN's test data). Real peer frames live in the shared
//! vectors and in `interop/`.

/// A two-way hessian2 request, id 5: dubbo 2.0.2, `com.example.HelloService`
/// 1.0.0, `sayHello(String)` with "world", attachments path, interface,
/// version 1.0.0 and group g1 (177 bytes).
pub const REQUEST_177: &[u8] = b"\xda\xbb\xc2\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\xa1\x052.0.2\x18com.example.HelloService\x051.0.0\x08sayHello\x12Ljava/lang/String;\x05worldH\x04path\x18com.example.HelloService\tinterface\x18com.example.HelloService\x07version\x051.0.0\x05group\x02g1Z";

/// MOSN's benchmark request (D2, 523 bytes): an object argument with an inline
/// class definition, then 8 attachments.
pub const MOSN_D2: &str = "dabbc200000000000000004c000001fb05322e362e323030636f6d2e726179636c6f75642e6e6f746966792e6170692e736572766963652e4e6f746966794a6f62526571756573740e322e302e312d7670632d746573740d73746f704e6f746966794a6f62302e4c636f6d2f726179636c6f75642f6e6f746966792f6170692f646f6d61696e2f53746f704e6f746966794a6f623b43302c636f6d2e726179636c6f75642e6e6f746966792e6170692e646f6d61696e2e53746f704e6f746966794a6f62980673746174757306746f70696373046e69636b04747970650a73657373696f6e4b6579066170704b65790561707049640874616f62616f49646001310131013101310131013191e14805612e732e750a2f617574682f7465737405612e732e74103533353632353838393837373133313405612e732e64106b6566752e6b7561696d61692e636f6d04706174683030636f6d2e726179636c6f75642e6e6f746966792e6170692e736572766963652e4e6f746966794a6f625265717565737410647562626f4170706c69636174696f6e14636f6d2d726179636c6f75642d61646d696e2d7809696e746572666163653030636f6d2e726179636c6f75642e6e6f746966792e6170692e736572766963652e4e6f746966794a6f62526571756573740776657273696f6e0e322e302e312d7670632d746573740774696d656f757404353030305a";

/// Decode a hex constant such as [`MOSN_D2`].
///
/// # Panics
/// On bad hex: the constants here are fixed, valid data.
pub fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("valid hex constant"))
        .collect()
}
