//! Layer 1: sniffing (`0xdabb`) and splitting on the 16-byte header.

use xprotocol_core::{Error, Framing, Needed, Probe, Split};

use crate::DubboCodec;
use crate::header::{DubboHeader, HEADER_LEN, MAGIC, check_magic};

impl Framing for DubboCodec {
    fn probe(&self, prefix: &[u8]) -> Probe {
        match check_magic(prefix) {
            Err(_) => Probe::NoMatch,
            Ok(()) if prefix.len() < MAGIC.len() => Probe::NeedMore,
            Ok(()) => Probe::Match,
        }
    }

    fn split_frame(&self, buf: &[u8]) -> Result<Split, Error> {
        let Some(header) = DubboHeader::parse(buf)? else {
            return Ok(Split::Incomplete(Needed::AtLeast(HEADER_LEN - buf.len())));
        };
        let len = header.frame_len();
        if len > self.limits.max_frame_len as u64 {
            return Err(Error::FrameTooLarge {
                protocol: crate::PROTOCOL,
                len,
                limit: self.limits.max_frame_len as u64,
            });
        }
        let len = len as usize;
        Ok(match buf.len() {
            have if have >= len => Split::Complete(len),
            have => Split::Incomplete(Needed::Exact(len - have)),
        })
    }
}
