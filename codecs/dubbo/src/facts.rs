//! Named facts of a Dubbo frame, with the key names of the shared test vectors.

use bytes::Bytes;
use xprotocol_core::{Error, FactValue, Facts, FrameKind};
use xprotocol_hessian2::{Item, Value};

use crate::body::{self, response_flag};
use crate::multiplexing::{kind_of, whole_header};
use crate::{DubboCodec, PROTOCOL, serialization, status};

/// An attachment or response value as a fact: strings, numbers, booleans, null;
/// other values are described by their kind.
fn value_fact(value: &Value<'_>) -> FactValue {
    match value {
        Value::Null => FactValue::Null,
        Value::Bool(b) => FactValue::Bool(*b),
        Value::Int(i) => FactValue::Int(i64::from(*i)),
        Value::Long(l) | Value::Date(l) => FactValue::Int(*l),
        Value::Double(d) => FactValue::Str(d.to_string()),
        Value::Str(s) => FactValue::Str(s.to_string_lossy()),
        Value::Binary => "<binary>".into(),
        Value::List => "<list>".into(),
        Value::Map => "<map>".into(),
        Value::Object => "<object>".into(),
        Value::Ref(_) => "<ref>".into(),
        _ => "<value>".into(),
    }
}

fn attachment_fact(map: &mut Vec<(String, FactValue)>, k: Item<'_>, v: Item<'_>) {
    let key = match &k.value {
        Value::Str(s) => s.to_string_lossy(),
        other => format!("{:?}", value_fact(other)),
    };
    map.push((key, value_fact(&v.value)));
}

fn text(s: Option<xprotocol_hessian2::Str<'_>>) -> FactValue {
    s.map_or(FactValue::Null, |s| FactValue::Str(s.to_string_lossy()))
}

impl DubboCodec {
    pub(crate) fn frame_facts(&self, frame: &Bytes) -> Result<Facts, Error> {
        let header = whole_header(frame)?;
        let kind = kind_of(&header, frame);
        let mut facts = Facts::new(PROTOCOL);
        let kind_name = match kind {
            FrameKind::OnewayRequest => "request",
            other => other.as_str(),
        };
        facts.push("kind", kind_name);
        facts.push("twoway", header.is_two_way());
        facts.push("oneway", kind == FrameKind::OnewayRequest);
        facts.push("event", header.is_event());
        facts.push("request_id", header.request_id);
        facts.push("serialization_id", i64::from(header.serialization()));
        facts.push("status", i64::from(header.status));
        facts.push("body_length", i64::from(header.body_len));
        facts.push("frame_length", frame.len() as i64);
        if header.serialization() != serialization::HESSIAN2 || header.is_event() {
            return Ok(facts);
        }
        let mut map = Vec::new();
        if header.is_request() {
            let body = body::request(frame, &self.limits, |k, v| attachment_fact(&mut map, k, v))?;
            let route = xprotocol_core::Routing::route_headers(self, frame)?;
            facts.push("dubbo_version", text(body.dubbo_version));
            facts.push("service", route.service());
            facts.push("body_path", text(body.path));
            facts.push("body_version", text(body.version));
            facts.push("interface", route.interface());
            facts.push("version", route.version());
            facts.push("method", text(body.method));
            facts.push("group", route.group());
            facts.push("parameter_types", text(body.descriptor));
            facts.push(
                "attachments",
                if body.attachments.is_some() {
                    FactValue::Map(map)
                } else {
                    FactValue::Null
                },
            );
            return Ok(facts);
        }
        let body = body::response(frame, header.status, &self.limits, |k, v| {
            attachment_fact(&mut map, k, v)
        })?;
        facts.push(
            "attachments",
            if body.attachments.is_some() {
                FactValue::Map(map)
            } else {
                FactValue::Null
            },
        );
        match (header.status, body.flag) {
            (status::OK, Some(flag)) => {
                facts.push("response_flag", i64::from(flag));
                match flag {
                    response_flag::EXCEPTION | response_flag::EXCEPTION_WITH_ATTACHMENTS => {
                        let message = body
                            .value
                            .and_then(|v| body::exception_message(frame, &v, &self.limits));
                        facts.push("exception_message", message.as_deref());
                    }
                    _ => facts.push(
                        "value",
                        body.value.map_or(FactValue::Null, |v| value_fact(&v.value)),
                    ),
                }
            }
            _ => {
                let message = body.value.and_then(|v| match v.value {
                    Value::Str(s) => Some(s.to_string_lossy()),
                    _ => None,
                });
                facts.push("error_message", message.as_deref());
            }
        }
        Ok(facts)
    }
}
