//! Named facts of an HSF frame, named like the other codecs' facts.

use bytes::Bytes;
use xprotocol_core::{Error, FactValue, Facts, FrameKind, Multiplexing, Routing};

use crate::header::{Layout, RESPONSE_HEADER_LEN};
use crate::multiplexing::{kind_of, whole};
use crate::{HsfCodec, PROTOCOL};

impl HsfCodec {
    pub(crate) fn frame_facts(&self, frame: &Bytes) -> Result<Facts, Error> {
        let layout = whole(self, frame)?;
        let head = self.frame_head(frame)?;
        let mut facts = Facts::new(PROTOCOL);
        facts.push("kind", kind_of(&layout, frame).as_str());
        facts.push("oneway", false);
        facts.push("request_id", head.request_id);
        facts.push("frame_length", frame.len() as i64);
        match layout {
            Layout::Heartbeat => {
                facts.push("timeout_ms", head.timeout.map(|t| t.as_millis() as i64));
                return Ok(facts);
            }
            Layout::Response { body_len } => {
                facts.push("serialization_id", i64::from(frame[4]));
                facts.push("status", i64::from(frame[3]));
                facts.push("body_length", body_len as i64);
                debug_assert_eq!(frame.len(), RESPONSE_HEADER_LEN + body_len);
                return Ok(facts);
            }
            Layout::Request(request) => {
                facts.push("serialization_id", i64::from(frame[3]));
                facts.push("timeout_ms", head.timeout.map(|t| t.as_millis() as i64));
                facts.push("body_length", (frame.len() - request.header_len) as i64);
                let mut types = Vec::with_capacity(request.args);
                let mut at = request.types_at();
                for i in 0..request.args {
                    let at_len = 31 + 4 * i;
                    let len = u32::from_be_bytes([
                        frame[at_len],
                        frame[at_len + 1],
                        frame[at_len + 2],
                        frame[at_len + 3],
                    ]) as usize;
                    types.push(FactValue::from(&frame[at..at + len]));
                    at += len;
                }
                facts.push("parameter_types", FactValue::List(types));
                facts.push("argument_count", request.args as i64);
            }
        }
        debug_assert_eq!(kind_of(&layout, frame), FrameKind::Request);
        let route = self.route_headers(frame)?;
        facts.push("service", route.service());
        facts.push("interface", route.interface());
        facts.push("version", route.version());
        facts.push("method", route.method());
        facts.push("group", route.group());
        let headers = route
            .headers()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), FactValue::from(v)))
            .collect();
        facts.push("headers", FactValue::Map(headers));
        Ok(facts)
    }
}
