//! Named facts of a Bolt frame, with the key names of the shared test vectors.

use bytes::Bytes;
use xprotocol_core::{Error, FactValue, Facts, FrameKind, Routing};

use crate::header_map::RawEntry;
use crate::multiplexing::{kind_of, whole_header};
use crate::routing::keys;
use crate::{BoltCodec, PROTOCOL};

impl BoltCodec {
    pub(crate) fn frame_facts(&self, frame: &Bytes) -> Result<Facts, Error> {
        let header = whole_header(frame)?;
        let kind = kind_of(&header)?;
        let mut facts = Facts::new(PROTOCOL);
        let kind_name = match kind {
            FrameKind::OnewayRequest => "request",
            other => other.as_str(),
        };
        facts.push("kind", kind_name);
        facts.push("oneway", kind == FrameKind::OnewayRequest);
        facts.push("request_id", i64::from(header.request_id));
        facts.push("cmd_code", i64::from(header.cmd_code));
        facts.push("codec", i64::from(header.codec));
        if let Some(timeout) = header.timeout {
            facts.push("timeout_ms", i64::from(timeout));
        }
        if let Some(status) = header.status {
            facts.push("status", i64::from(status));
            facts.push("is_error", status != crate::status::SUCCESS);
        }
        facts.push("class_name", &frame[header.fixed_len()..header.header_at()]);
        let mut map = Vec::new();
        for entry in self.entries(frame, &header)? {
            if let RawEntry {
                key: Some(k),
                value: Some(v),
            } = entry?
            {
                map.push((
                    String::from_utf8_lossy(&frame[k.0..k.0 + k.1]).into_owned(),
                    FactValue::from(&frame[v.0..v.0 + v.1]),
                ));
            }
        }
        facts.push("header_map", FactValue::Map(map));
        if kind.is_request() && kind != FrameKind::HeartbeatRequest {
            let route = self.route_headers(frame)?;
            facts.push("service", route.service());
            facts.push("interface", route.interface());
            facts.push("version", route.version());
            facts.push("group", route.group());
            facts.push("method", route.method());
            let in_header = route.header(keys::METHOD).is_some();
            let location = route
                .method
                .as_ref()
                .map(|_| if in_header { "header" } else { "hessian2-body" });
            facts.push("method_location", location);
            let mut target_app = route
                .header(keys::TARGET_APP)
                .filter(|s| !s.is_empty())
                .map(str::to_owned);
            if target_app.is_none() {
                let body = self.sofa_request(frame, &header)?;
                let app = body.and_then(|b| b.target_app);
                target_app = app.map(|t| String::from_utf8_lossy(t.bytes(frame)).into_owned());
            }
            facts.push("target_app", target_app.as_deref());
        }
        facts.push("class_length", i64::from(header.class_len));
        facts.push("header_length", i64::from(header.header_len));
        facts.push("body_length", i64::from(header.content_len));
        facts.push("bolt_proto", i64::from(header.proto));
        facts.push("bolt_version", header.ver1.map(i64::from));
        facts.push("switch", header.switch.map(i64::from));
        facts.push("crc", header.has_crc());
        facts.push("fixed_header_length", header.fixed_len() as i64);
        facts.push("frame_length", frame.len() as i64);
        Ok(facts)
    }
}
