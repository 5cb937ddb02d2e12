//! The routing fields a hessian2 `SofaRequest` body carries: the method, the
//! target service and the target app, for requests whose header map lacks them
//! (sofa-bolt-node and SOFARPC's hessian2 path put the method only there).
//!
//! The body is one object, class `com.alipay.sofa.rpc.core.request.SofaRequest`,
//! with fields `methodName`, `methodArgSigs`, `targetServiceUniqueName`,
//! `targetAppName`, `requestProps`, … written in the Hessian 2.0 draft (SOFA's
//! Hessian 3.x) or the final spec; both are read.

use xprotocol_core::{Error, Limits, Text};
use xprotocol_hessian2::{Dialect, Reader};

use crate::{PROTOCOL, codec_id};

/// Class name of a SOFA RPC request.
pub(crate) const SOFA_REQUEST_CLASS: &[u8] = b"com.alipay.sofa.rpc.core.request.SofaRequest";

/// Routing fields found in a `SofaRequest` body.
#[derive(Debug, Default)]
pub(crate) struct SofaRequestFields {
    pub(crate) method: Option<Text>,
    pub(crate) service: Option<Text>,
    pub(crate) target_app: Option<Text>,
}

/// The routing fields of `content` (a hessian2 `SofaRequest`), `offset` being
/// where the content starts in the frame. `Ok(None)` for other codecs or classes.
pub(crate) fn read(
    codec: u8,
    class: &[u8],
    content: &[u8],
    offset: usize,
    limits: &Limits,
) -> Result<Option<SofaRequestFields>, Error> {
    if codec != codec_id::HESSIAN2 || class != SOFA_REQUEST_CLASS {
        return Ok(None);
    }
    let Some(dialect) = content
        .first()
        .copied()
        .and_then(Dialect::of_object_message)
    else {
        return Err(Error::Malformed {
            protocol: PROTOCOL,
            field: "SofaRequest",
            reason: "body does not start with a class definition",
        });
    };
    let mut reader = Reader::new(content, limits, PROTOCOL).dialect(dialect);
    let mut fields = SofaRequestFields::default();
    for field in reader.read_object("SofaRequest")? {
        let (name, item) = field?;
        let slot = match name.as_str() {
            Some("methodName") => &mut fields.method,
            Some("targetServiceUniqueName") => &mut fields.service,
            Some("targetAppName") => &mut fields.target_app,
            // The fields after these are the arguments' signatures and props: stop early.
            Some("requestProps") => break,
            _ => continue,
        };
        *slot = item
            .as_str()
            .filter(|s| s.utf16_len() > 0)
            .map(|s| s.to_text(offset));
    }
    Ok(Some(fields))
}
