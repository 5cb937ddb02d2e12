//! Test plugin: Bolt, except that reading a request id panics.

use xprotocol_plugin_sdk::xp;

struct Panicking(xprotocol_bolt::BoltCodec);

impl xp::Framing for Panicking {
    fn probe(&self, prefix: &[u8]) -> xp::Probe {
        self.0.probe(prefix)
    }
    fn split_frame(&self, buf: &[u8]) -> Result<xp::Split, xp::Error> {
        self.0.split_frame(buf)
    }
}

impl xp::Multiplexing for Panicking {
    fn id_width(&self) -> xp::IdWidth {
        self.0.id_width()
    }
    fn frame_head(&self, frame: &[u8]) -> Result<xp::FrameHead, xp::Error> {
        self.0.frame_head(frame)
    }
    fn request_id(&self, _frame: &[u8]) -> Result<u64, xp::Error> {
        panic!("deliberate panic inside a plugin")
    }
    fn set_request_id(&self, frame: &mut [u8], id: u64) -> Result<(), xp::Error> {
        self.0.set_request_id(frame, id)
    }
    fn heartbeat_reply(&self, request: &[u8], dst: &mut bytes::BytesMut) -> Result<(), xp::Error> {
        self.0.heartbeat_reply(request, dst)
    }
    fn heartbeat_request(&self, id: u64, dst: &mut bytes::BytesMut) -> Result<(), xp::Error> {
        self.0.heartbeat_request(id, dst)
    }
    fn goaway(&self, id: u64, dst: &mut bytes::BytesMut) -> Result<(), xp::Error> {
        self.0.goaway(id, dst)
    }
}

impl xp::Codec for Panicking {
    fn name(&self) -> &str {
        "bolt-panicking"
    }
    fn framing(&self) -> &dyn xp::Framing {
        self
    }
    fn multiplexing(&self) -> Option<&dyn xp::Multiplexing> {
        Some(self)
    }
    fn facts(&self, frame: &bytes::Bytes) -> Result<xp::Facts, xp::Error> {
        xp::Codec::facts(&self.0, frame)
    }
}

xprotocol_plugin_sdk::export_codec_plugin!(Panicking(xprotocol_bolt::BoltCodec::new()));
