//! `xproto to-http2` and `xproto from-http2`: a frame as an HTTP/2 message in
//! JSON, and back.
//!
//! The JSON is `{"message":"request"|"response","headers":{…},"body_hex":"…"}`.
//! `headers` holds the pseudo-headers first (`:method`, `:scheme`,
//! `:authority`, `:path` of a request; `:status` of a response), then every
//! header in `HeaderMap` order; a value is a string, or an array of strings
//! when the name repeats, so nothing is lost.

use std::fmt::Write as _;
use std::io::{Read, Write};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use serde_json::{Map, Value, json};
use xprotocol_core::{Codec, Http2Message, Registry, Transcoding};

use crate::{CliError, codecs, input};

/// Read one frame on stdin and print it as an HTTP/2 message in JSON.
pub(crate) fn to_http2(registry: &Registry, protocol: Option<&str>) -> Result<(), CliError> {
    let (codec, frame) = input::one_frame(registry, protocol)?;
    let message = transcoding(codec.as_ref())?.to_http2(&frame)?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &message_json(&message)?)
        .map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Read an HTTP/2 message in JSON on stdin and write the `protocol` frame it describes.
pub(crate) fn from_http2(registry: &Registry, protocol: &str) -> Result<(), CliError> {
    let codec = codecs::named(registry, protocol)?;
    let transcoding = transcoding(codec.as_ref())?;
    let mut text = String::new();
    std::io::stdin().lock().read_to_string(&mut text)?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("bad JSON on stdin: {e}")))?;
    let parts = transcoding.from_http2(&message_from_json(&json)?)?;
    let mut out = std::io::stdout().lock();
    for piece in parts.pieces() {
        out.write_all(piece)?;
    }
    out.flush()?;
    Ok(())
}

/// The codec's transcoding layer, or exit status 3.
fn transcoding(codec: &dyn Codec) -> Result<&dyn Transcoding, CliError> {
    codec.transcoding().ok_or_else(|| CliError::MissingLayer {
        protocol: codec.name().to_owned(),
        layer: "transcoding",
    })
}

/// A bad-input error.
fn bad(message: String) -> CliError {
    CliError::Input(message)
}

/// The JSON form of an HTTP/2 message.
fn message_json(message: &Http2Message) -> Result<Value, CliError> {
    let mut headers = Map::new();
    let kind = match message {
        Http2Message::Request(request) => {
            let uri = request.uri();
            let pseudo = [
                (":method", Some(request.method().as_str())),
                (":scheme", uri.scheme_str()),
                (":authority", uri.authority().map(|a| a.as_str())),
                (":path", uri.path_and_query().map(|p| p.as_str())),
            ];
            for (name, value) in pseudo {
                if let Some(value) = value {
                    headers.insert(name.to_owned(), value.into());
                }
            }
            "request"
        }
        Http2Message::Response(response) => {
            headers.insert(":status".to_owned(), response.status().as_str().into());
            "response"
        }
    };
    for (name, value) in message.headers() {
        let value = value.to_str().map_err(|_| {
            bad(format!(
                "header `{name}` is not text and cannot be written as JSON"
            ))
        })?;
        match headers.get_mut(name.as_str()) {
            None => {
                headers.insert(name.as_str().to_owned(), value.into());
            }
            Some(Value::Array(values)) => values.push(value.into()),
            Some(first) => *first = Value::Array(vec![first.take(), value.into()]),
        }
    }
    Ok(json!({ "message": kind, "headers": headers, "body_hex": hex_encode(message.body()) }))
}

/// The HTTP/2 message a JSON document describes. `message` defaults to
/// `response` when `:status` is present, else `request`; `:method` defaults to
/// `POST`, `:path` to `/`, `body_hex` to empty.
fn message_from_json(json: &Value) -> Result<Http2Message, CliError> {
    let object = json
        .as_object()
        .ok_or_else(|| bad("the JSON is not an object".into()))?;
    let headers_json = match object.get("headers") {
        Some(Value::Object(map)) => map,
        _ => return Err(bad("`headers` must be an object".into())),
    };
    let body = match object.get("body_hex") {
        None => Bytes::new(),
        Some(Value::String(hex)) => hex_decode(hex)?,
        Some(_) => return Err(bad("`body_hex` must be a string".into())),
    };
    let mut pseudo = Pseudo::default();
    let mut headers = HeaderMap::new();
    for (name, value) in headers_json {
        let values = header_values(name, value)?;
        if name.starts_with(':') {
            let [single] = values[..] else {
                return Err(bad(format!("pseudo-header `{name}` must be one string")));
            };
            pseudo.set(name, single)?;
            continue;
        }
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("bad header name `{name}`")))?;
        for value in values {
            let value = HeaderValue::from_str(value)
                .map_err(|_| bad(format!("bad value of header `{name}`")))?;
            headers.append(header.clone(), value);
        }
    }
    let response = match object.get("message").map(Value::as_str) {
        None => pseudo.status.is_some(),
        Some(Some("request")) => false,
        Some(Some("response")) => true,
        Some(_) => return Err(bad("`message` must be \"request\" or \"response\"".into())),
    };
    let mut message = pseudo.build(response, body)?;
    *message.headers_mut() = headers;
    Ok(message)
}

/// The values of one JSON header: a string, or an array of strings.
fn header_values<'a>(name: &str, value: &'a Value) -> Result<Vec<&'a str>, CliError> {
    let not_text = || {
        bad(format!(
            "header `{name}` must be a string or an array of strings"
        ))
    };
    match value {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().ok_or_else(not_text))
            .collect(),
        _ => Err(not_text()),
    }
}

/// The pseudo-headers of a JSON message.
#[derive(Debug, Default)]
struct Pseudo<'a> {
    /// `:method`.
    method: Option<&'a str>,
    /// `:scheme`.
    scheme: Option<&'a str>,
    /// `:authority`.
    authority: Option<&'a str>,
    /// `:path`.
    path: Option<&'a str>,
    /// `:status`.
    status: Option<&'a str>,
}

impl<'a> Pseudo<'a> {
    /// Record pseudo-header `name`.
    fn set(&mut self, name: &str, value: &'a str) -> Result<(), CliError> {
        let slot = match name {
            ":method" => &mut self.method,
            ":scheme" => &mut self.scheme,
            ":authority" => &mut self.authority,
            ":path" => &mut self.path,
            ":status" => &mut self.status,
            _ => return Err(bad(format!("unknown pseudo-header `{name}`"))),
        };
        *slot = Some(value);
        Ok(())
    }

    /// A request or a response with these pseudo-headers, no headers, and `body`.
    fn build(&self, response: bool, body: Bytes) -> Result<Http2Message, CliError> {
        if response {
            if let Some(name) = [
                (":method", self.method),
                (":scheme", self.scheme),
                (":authority", self.authority),
                (":path", self.path),
            ]
            .iter()
            .find_map(|(name, v)| v.map(|_| name))
            {
                return Err(bad(format!("a response has no `{name}`")));
            }
            let status = self
                .status
                .ok_or_else(|| bad("a response needs `:status`".into()))?;
            let status = StatusCode::from_bytes(status.as_bytes())
                .map_err(|_| bad(format!("bad :status `{status}`")))?;
            let mut response = http::Response::new(body);
            *response.status_mut() = status;
            return Ok(Http2Message::Response(response));
        }
        if self.status.is_some() {
            return Err(bad("a request has no `:status`".into()));
        }
        let method = self.method.unwrap_or("POST");
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| bad(format!("bad :method `{method}`")))?;
        let mut uri = Uri::builder().path_and_query(self.path.unwrap_or("/"));
        if let Some(scheme) = self.scheme {
            uri = uri.scheme(scheme);
        }
        if let Some(authority) = self.authority {
            uri = uri.authority(authority);
        }
        let uri = uri
            .build()
            .map_err(|e| bad(format!("bad :scheme, :authority or :path: {e}")))?;
        let mut request = http::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        Ok(Http2Message::Request(request))
    }
}

/// Lower-case hex.
fn hex_encode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(text, "{b:02x}");
    }
    text
}

/// Bytes from hex digits (either case).
fn hex_decode(text: &str) -> Result<Bytes, CliError> {
    let invalid = || bad("`body_hex` is not an even number of hex digits".into());
    if !text.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let digit = |b: u8| char::from(b).to_digit(16).ok_or_else(invalid);
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| Ok((digit(pair[0])? << 4 | digit(pair[1])?) as u8))
        .collect::<Result<Vec<u8>, CliError>>()
        .map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex_encode(b"\x00\xffA"), "00ff41");
        assert_eq!(
            hex_decode("00FF41").unwrap(),
            Bytes::from_static(b"\x00\xffA")
        );
        assert!(hex_decode("abc").is_err());
        assert!(hex_decode("zz").is_err());
        assert!(hex_decode("+1").is_err());
    }

    #[test]
    fn repeated_headers_become_arrays_and_back() {
        let mut request = http::Request::new(Bytes::from_static(b"hi"));
        request
            .headers_mut()
            .append("a", HeaderValue::from_static("1"));
        request
            .headers_mut()
            .append("b", HeaderValue::from_static("2"));
        request
            .headers_mut()
            .append("a", HeaderValue::from_static("3"));
        let json = message_json(&Http2Message::Request(request)).unwrap();
        assert_eq!(json["headers"]["a"], json!(["1", "3"]));
        assert_eq!(json["headers"]["b"], json!("2"));
        let back = message_from_json(&json).unwrap();
        let values: Vec<_> = back.headers().get_all("a").iter().collect();
        assert_eq!(values, ["1", "3"]);
        assert_eq!(back.body(), &Bytes::from_static(b"hi"));
    }
}
