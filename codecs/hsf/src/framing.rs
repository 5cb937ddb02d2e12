//! Layer 1: sniffing (`0x0E` + version 1 + type 0/1, or `0x0C`) and splitting.

use xprotocol_core::{Error, Framing, Needed, Probe, Split};

use crate::HsfCodec;
use crate::header::{HEARTBEAT_MAGIC, MAGIC, TYPE_RESPONSE, VERSION, layout};

impl Framing for HsfCodec {
    fn probe(&self, prefix: &[u8]) -> Probe {
        match prefix {
            [] | [MAGIC] | [MAGIC, VERSION] | [HEARTBEAT_MAGIC] | [HEARTBEAT_MAGIC, 0 | 1] => {
                Probe::NeedMore
            }
            [MAGIC, VERSION, ty, ..] if *ty <= TYPE_RESPONSE => Probe::Match,
            [HEARTBEAT_MAGIC, 0 | 1, VERSION, ..] => Probe::Match,
            _ => Probe::NoMatch,
        }
    }

    fn split_frame(&self, buf: &[u8]) -> Result<Split, Error> {
        let layout = match layout(buf, &self.limits)? {
            Ok(layout) => layout,
            Err(more) => return Ok(Split::Incomplete(Needed::AtLeast(more))),
        };
        let len = layout.frame_len();
        Ok(match buf.len() {
            have if have >= len => Split::Complete(len),
            have => Split::Incomplete(Needed::Exact(len - have)),
        })
    }
}
