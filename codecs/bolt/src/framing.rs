//! Layer 1: sniffing and splitting Bolt v1/v2 frames (both may share a connection).

use xprotocol_core::{Error, Framing, Needed, Probe, Split};

use crate::BoltCodec;
use crate::header::{
    BoltHeader, Layout, MIN_FIXED_LEN, PROTO_V1, PROTO_V2, command_type, crc32, layout_of,
};

impl Framing for BoltCodec {
    /// `0x01` then a command type 0..=2, or `0x02`, ver1 1..=2, then a command type.
    fn probe(&self, prefix: &[u8]) -> Probe {
        let type_ok = |b: u8| b <= command_type::ONEWAY;
        match prefix {
            [] | [PROTO_V1] | [PROTO_V2] => Probe::NeedMore,
            [PROTO_V1, ty, ..] if type_ok(*ty) => Probe::Match,
            [PROTO_V2, 1 | 2] => Probe::NeedMore,
            [PROTO_V2, 1 | 2, ty, ..] if type_ok(*ty) => Probe::Match,
            _ => Probe::NoMatch,
        }
    }

    fn split_frame(&self, buf: &[u8]) -> Result<Split, Error> {
        let Some(layout) = layout_of(buf)? else {
            return Ok(Split::Incomplete(Needed::AtLeast(
                MIN_FIXED_LEN - buf.len(),
            )));
        };
        let Some(header) = BoltHeader::parse(buf)? else {
            return Ok(Split::Incomplete(Needed::AtLeast(fixed_missing(
                layout, buf,
            ))));
        };
        let frame_len = header.frame_len();
        if frame_len > self.limits.max_frame_len as u64 {
            return Err(Error::FrameTooLarge {
                protocol: crate::PROTOCOL,
                len: frame_len,
                limit: self.limits.max_frame_len as u64,
            });
        }
        let frame_len = frame_len as usize; // ≤ max_frame_len: fits usize
        if buf.len() < frame_len {
            return Ok(Split::Incomplete(Needed::Exact(frame_len - buf.len())));
        }
        if header.has_crc() && self.verify_crc {
            let (covered, trailer) = buf[..frame_len].split_at(frame_len - 4);
            let found = u32::from_be_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
            let computed = crc32([covered]);
            if found != computed {
                return Err(Error::ChecksumMismatch {
                    protocol: crate::PROTOCOL,
                    found,
                    computed,
                });
            }
        }
        Ok(Split::Complete(frame_len))
    }
}

fn fixed_missing(layout: Layout, buf: &[u8]) -> usize {
    layout.fixed_len() - buf.len()
}
