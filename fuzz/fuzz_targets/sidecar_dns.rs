//! The example sidecar's DNS code, the two places it reads network bytes:
//! the stub resolver's response parser (compression pointers, CNAME chains,
//! answer caps) and the test responder's query handling. Neither may panic
//! or loop; a parsed answer never holds more addresses than the packet can.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xprotocol_sidecar::dns::fuzzing::{parse_a_response, reply_len};

const HOST: &str = "com.example.UserService";

fuzz_target!(|data: &[u8]| {
    if let Ok(addresses) = parse_a_response(data, HOST) {
        // Every A record takes at least 12 bytes after the 12-byte header.
        assert!(addresses * 12 <= data.len());
    }
    if let Some(len) = reply_len(data, HOST) {
        assert!(len <= 512, "reply of {len} bytes exceeds a UDP DNS message");
    }
});
