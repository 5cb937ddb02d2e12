//! Bolt frames for examples, tests and benches, derived from the documented
//! layout (see `docs/` and the shared research notes). Real peer frames live in
//! the shared vectors and in `interop/`.

/// v1 request, id 111, timeout 3000, class `SofaRequest`, headers
/// `service=com.example.HelloService:1.0` and `sofa_head_method_name=sayHello`,
/// content `hello` (151 bytes).
pub const REQUEST_151: [u8; 151] = *b"\x01\x01\x00\x01\x01\x00\x00\x00\x6f\x01\x00\x00\x0b\xb8\x00\x2c\x00\x50\x00\x00\x00\x05com.alipay.sofa.rpc.core.request.SofaRequest\x00\x00\x00\x07service\x00\x00\x00\x1ccom.example.HelloService:1.0\x00\x00\x00\x15sofa_head_method_name\x00\x00\x00\x08sayHellohello";

/// v1 response to [`REQUEST_151`] (class `SofaResponse`, content `world`).
pub const RESPONSE_111: &[u8] = b"\x01\x00\x00\x02\x01\x00\x00\x00\x6f\x01\x00\x00\x00\x2e\x00\x00\x00\x00\x00\x05com.alipay.sofa.rpc.core.response.SofaResponseworld";

/// The fixed header and header map of [`REQUEST_151`] with a content of
/// `content_len` bytes (`hello` repeated): for benches across body sizes.
pub fn request_with_content(content_len: usize) -> Vec<u8> {
    let mut frame = REQUEST_151[..146].to_vec();
    frame[18..22].copy_from_slice(&(content_len as u32).to_be_bytes());
    frame.extend(b"hello".iter().cycle().take(content_len));
    frame
}
