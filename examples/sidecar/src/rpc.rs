//! A small native RPC server and pipelined client on the xprotocol codecs, for
//! `xproto demo`, the sidecar's integration and fault tests and its load benchmark.
//!
//! The server echoes: a two-way request to a server named `name` is answered
//! with `"{name}:" + body` (Bolt: the response content, plus a response header
//! `server`; Dubbo: a Hessian2 string value). The client shares one TCP
//! connection among any number of concurrent calls: a writer task drains a
//! queue of encoded frames, a reader task hands each response to the call
//! waiting for its request id.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use xprotocol_bolt::header::command_type;
use xprotocol_bolt::routing::keys;
use xprotocol_bolt::{BoltCodec, BoltHeader};
use xprotocol_core::{
    Codec, Error, FrameKind, Framing, Limits, LocalStatus, Multiplexing, RequestIdGenerator,
    Routing, Split,
};
use xprotocol_dubbo::header::{HEADER_LEN, flag};
use xprotocol_dubbo::{DubboCodec, DubboHeader, response_flag, serialization};
use xprotocol_hessian2::{Reader, Value, Writer};

const SOFA_REQUEST_CLASS: &[u8] = b"com.alipay.sofa.rpc.core.request.SofaRequest";
const SOFA_RESPONSE_CLASS: &[u8] = b"com.alipay.sofa.rpc.core.response.SofaResponse";
const BOLT_DEFAULT_VERSION: &str = "1.0";
const DUBBO_VERSION: &str = "2.0.2";
const DUBBO_DEFAULT_VERSION: &str = "0.0.0";
const STRING_DESCRIPTOR: &str = "Ljava/lang/String;";
/// The Bolt response header naming the answering server.
const SERVER_HEADER: &str = "server";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(3);
/// After sending a goaway, a server connection closes once no byte arrived for this long.
pub(crate) const GOAWAY_IDLE: Duration = Duration::from_millis(200);
const READ_CHUNK: usize = 16 * 1024;
const WRITE_BUFFER: usize = 64 * 1024;
const QUEUE_DEPTH: usize = 1024;

static BOLT: LazyLock<BoltCodec> = LazyLock::new(BoltCodec::new);
static DUBBO: LazyLock<DubboCodec> = LazyLock::new(DubboCodec::new);

/// The native protocols this module speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// SOFA Bolt v1, hessian2 codec byte, opaque content.
    Bolt,
    /// Dubbo 2 with Hessian2 bodies.
    Dubbo,
}

impl Protocol {
    /// Both protocols.
    pub const ALL: [Self; 2] = [Self::Bolt, Self::Dubbo];

    /// A codec for the protocol.
    pub fn codec(self) -> Arc<dyn Codec> {
        match self {
            Self::Bolt => Arc::new(BOLT.clone()),
            Self::Dubbo => Arc::new(DUBBO.clone()),
        }
    }

    /// The protocol name (`bolt`, `dubbo`), as the codec names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bolt => xprotocol_bolt::PROTOCOL,
            Self::Dubbo => xprotocol_dubbo::PROTOCOL,
        }
    }

    /// The protocol called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The shared codec instance, with every layer this module uses.
    fn wire(self) -> &'static dyn Wire {
        match self {
            Self::Bolt => &*BOLT,
            Self::Dubbo => &*DUBBO,
        }
    }
}

/// The layers of a codec this module uses, as one object.
trait Wire: Framing + Multiplexing + Routing {}
impl<T: Framing + Multiplexing + Routing> Wire for T {}

/// One RPC call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The service interface (`com.example.EchoService`).
    pub interface: String,
    /// The method.
    pub method: String,
    /// The service version (default: Bolt `1.0`, Dubbo `0.0.0`).
    pub version: Option<String>,
    /// The service group (Bolt: the SOFA uniqueId; Dubbo: attachment `group`).
    pub group: Option<String>,
    /// Extra protocol headers (Bolt header map entries, Dubbo attachments).
    pub headers: Vec<(String, String)>,
    /// The payload: opaque content for Bolt, the one String argument for Dubbo (must be UTF-8).
    pub body: Bytes,
    /// How long [`RpcClient::call`] waits for the reply.
    pub timeout: Duration,
    /// A one-way call: no reply is expected.
    pub oneway: bool,
}

impl Call {
    /// A two-way call with an empty body and a 3 s timeout.
    pub fn new(interface: impl Into<String>, method: impl Into<String>) -> Self {
        Self {
            interface: interface.into(),
            method: method.into(),
            version: None,
            group: None,
            headers: Vec::new(),
            body: Bytes::new(),
            timeout: DEFAULT_TIMEOUT,
            oneway: false,
        }
    }

    /// Set the service version.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Set the service group.
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Add a protocol header.
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((key.into(), value.into()));
        self
    }

    /// Set the body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Set the timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Make the call one-way (or two-way again).
    pub fn with_oneway(mut self, oneway: bool) -> Self {
        self.oneway = oneway;
        self
    }
}

/// The answer to a call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// The native status (Bolt: 0 success; Dubbo: 20 OK). 0 for one-way calls.
    pub status: u32,
    /// True when the call succeeded.
    pub ok: bool,
    /// The answering server's name, when the reply names it.
    pub server: Option<String>,
    /// The reply body (the echo server answers `"{name}:" + request body`).
    pub body: Bytes,
    /// The error message of a failed call (e.g. a proxy's local reply).
    pub message: Option<String>,
}

impl Reply {
    /// The body as text, when it is UTF-8.
    pub fn body_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No reply came within the call's timeout.
    #[error("the call timed out")]
    Timeout,
    /// The connection is closed (or closed while the call waited).
    #[error("the connection is closed")]
    Closed,
    /// A frame could not be encoded or decoded.
    #[error(transparent)]
    Codec(#[from] Error),
    /// A socket error.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The reply is well framed but not what was expected.
    #[error("bad reply: {0}")]
    BadReply(&'static str),
    /// The call cannot be encoded (e.g. a Dubbo body that is not UTF-8).
    #[error("invalid call: {0}")]
    InvalidCall(&'static str),
}

/// Encode `call` as a request frame with request id `id`.
///
/// Bolt: class `SofaRequest`, headers `service` = `interface:version[:group]`,
/// `sofa_head_method_name`, then the call's headers; content the body.
/// Dubbo: a Hessian2 body (dubbo version, path, version, method,
/// `Ljava/lang/String;`, the body as the one argument) and an attachments map
/// with `path`, `interface`, `version`, `group`, `timeout` and the call's headers.
pub fn encode_request(protocol: Protocol, call: &Call, id: u64) -> Result<Bytes, CallError> {
    match protocol {
        Protocol::Bolt => {
            let id = u32::try_from(id).map_err(|_| Error::IdOutOfRange {
                protocol: xprotocol_bolt::PROTOCOL,
                id,
                bits: 32,
            })?;
            let timeout_ms = i32::try_from(call.timeout.as_millis()).unwrap_or(i32::MAX);
            let mut header = BoltHeader::request(id, timeout_ms);
            if call.oneway {
                header.command_type = command_type::ONEWAY;
            }
            let version = call.version.as_deref().unwrap_or(BOLT_DEFAULT_VERSION);
            let service = match &call.group {
                Some(group) => format!("{}:{version}:{group}", call.interface),
                None => format!("{}:{version}", call.interface),
            };
            let fixed = [
                (keys::SERVICE, service.as_str()),
                (keys::METHOD, &call.method),
            ];
            let given = call.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            let headers: Vec<(&[u8], &[u8])> = (fixed.into_iter().chain(given))
                .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
                .collect();
            let parts = BOLT.encode(&header, SOFA_REQUEST_CLASS, &headers, call.body.clone())?;
            Ok(parts.to_bytes())
        }
        Protocol::Dubbo => {
            let argument = std::str::from_utf8(&call.body)
                .map_err(|_| CallError::InvalidCall("a Dubbo call body must be UTF-8"))?;
            let version = call.version.as_deref().unwrap_or(DUBBO_DEFAULT_VERSION);
            let mut body = Writer::with_capacity(call.body.len() + 256);
            body.string(DUBBO_VERSION)
                .string(&call.interface)
                .string(version)
                .string(&call.method)
                .string(STRING_DESCRIPTOR)
                .string(argument)
                .map_untyped();
            let timeout = call.timeout.as_millis().to_string();
            let interface = Some(call.interface.as_str());
            let known = [
                ("path", interface),
                ("interface", interface),
                ("version", Some(version)),
                ("group", call.group.as_deref()),
                ("timeout", Some(&timeout)),
            ];
            let given = call
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), Some(v.as_str())));
            for (key, value) in known.into_iter().chain(given) {
                if let Some(value) = value {
                    body.string(key).string(value);
                }
            }
            body.map_end();
            let two_way = if call.oneway { 0 } else { flag::TWO_WAY };
            let flag = flag::REQUEST | two_way | serialization::HESSIAN2;
            let mut frame = BytesMut::new();
            put_dubbo_frame(flag, 0, id, body.as_bytes(), &mut frame)?;
            Ok(frame.freeze())
        }
    }
}

/// Decode a response frame (an echo answer or a proxy's local reply).
///
/// Bolt: status from the header, `server` and `xprotocol-error` from the
/// header map (else the content as the message of a failed call). Dubbo:
/// status from the header; status 20 carries a response flag and a String
/// value whose `"{name}:"` prefix names the server; other statuses an error string.
pub fn decode_reply(protocol: Protocol, frame: &Bytes) -> Result<Reply, CallError> {
    if protocol.wire().frame_head(frame)?.kind != FrameKind::Response {
        return Err(CallError::BadReply("not an RPC response"));
    }
    match protocol {
        Protocol::Bolt => {
            let (header, body) = bolt_content(frame)?;
            let status = u32::from(header.status.unwrap_or(xprotocol_bolt::status::SUCCESS));
            let ok = status == u32::from(xprotocol_bolt::status::SUCCESS);
            let route = BOLT.route_headers(frame)?;
            let mut message = route.header(keys::LOCAL_ERROR).map(str::to_owned);
            if !ok && message.is_none() && !body.is_empty() {
                message = Some(String::from_utf8_lossy(&body).into_owned());
            }
            let server = route.header(SERVER_HEADER).map(str::to_owned);
            Ok(Reply {
                status,
                ok,
                server,
                body,
                message,
            })
        }
        Protocol::Dubbo => decode_dubbo_reply(frame),
    }
}

fn decode_dubbo_reply(frame: &Bytes) -> Result<Reply, CallError> {
    let header = DubboHeader::parse(frame)?.ok_or(CallError::BadReply("truncated header"))?;
    let limits = Limits::default();
    let mut reader = Reader::at(frame, HEADER_LEN, &limits, xprotocol_dubbo::PROTOCOL);
    let status = u32::from(header.status);
    let mut reply = Reply {
        status,
        ..Reply::default()
    };
    if header.status != xprotocol_dubbo::status::OK {
        if !reader.is_empty() {
            reply.message = string_value(&mut reader, "error message")?;
        }
        return Ok(reply);
    }
    match reader.read_int("response flag")? {
        response_flag::VALUE | response_flag::VALUE_WITH_ATTACHMENTS => {
            let text = string_value(&mut reader, "response value")?.unwrap_or_default();
            reply.server = text.split_once(':').map(|(name, _)| name.to_owned());
            reply.body = Bytes::from(text);
            reply.ok = true;
        }
        response_flag::NULL_VALUE | response_flag::NULL_VALUE_WITH_ATTACHMENTS => reply.ok = true,
        response_flag::EXCEPTION | response_flag::EXCEPTION_WITH_ATTACHMENTS => {
            reply.message = Some(match reader.read_value()?.value {
                Value::Str(s) => s.to_string_lossy(),
                _ => "remote exception".to_owned(),
            });
        }
        _ => return Err(CallError::BadReply("unknown Dubbo response flag")),
    }
    Ok(reply)
}

/// A Hessian2 string (`None` for null); any other value is a bad reply naming `what`.
fn string_value(reader: &mut Reader<'_>, what: &'static str) -> Result<Option<String>, CallError> {
    match reader.read_value()?.value {
        Value::Str(s) => Ok(Some(s.to_string_lossy())),
        Value::Null => Ok(None),
        _ => Err(CallError::BadReply(what)),
    }
}

/// The fixed header and the content of a whole Bolt frame.
fn bolt_content(frame: &Bytes) -> Result<(BoltHeader, Bytes), CallError> {
    let header = BoltHeader::parse(frame)?.ok_or(CallError::BadReply("truncated header"))?;
    let start = header.content_at();
    let end = start.saturating_add(header.content_len as usize);
    if end > frame.len() {
        return Err(CallError::BadReply("content runs past the frame"));
    }
    Ok((header, frame.slice(start..end)))
}

fn put_dubbo_frame(
    flag: u8,
    status: u8,
    id: u64,
    body: &[u8],
    dst: &mut BytesMut,
) -> Result<(), CallError> {
    let body_len =
        u32::try_from(body.len()).map_err(|_| CallError::InvalidCall("body too large"))?;
    dst.reserve(HEADER_LEN + body.len());
    DubboHeader {
        flag,
        status,
        request_id: id,
        body_len,
    }
    .write(dst);
    dst.put_slice(body);
    Ok(())
}

/// The next whole frame from `rd` (`None` at end of stream); a framing error ends the stream.
async fn next_frame(
    rd: &mut OwnedReadHalf,
    buf: &mut BytesMut,
    protocol: Protocol,
) -> Result<Option<Bytes>, CallError> {
    loop {
        match protocol.wire().split_frame(buf)? {
            Split::Complete(len) => return Ok(Some(buf.split_to(len).freeze())),
            Split::Incomplete(needed) => buf.reserve(needed.bytes().max(READ_CHUNK)),
        }
        if rd.read_buf(buf).await? == 0 {
            return Ok(None);
        }
    }
}

/// A frame to write, and when (not before) to write it.
type Outgoing = (Bytes, Option<Instant>);

/// Write queued frames in order, flushing whenever the queue runs dry; shut the
/// socket down once every sender is gone.
async fn write_loop(mut queue: mpsc::Receiver<Outgoing>, wr: OwnedWriteHalf) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, wr);
    while let Some((frame, due)) = queue.recv().await {
        if let Some(due) = due.filter(|&due| due > Instant::now()) {
            out.flush().await?;
            tokio::time::sleep_until(due).await;
        }
        out.write_all(&frame).await?;
        if queue.is_empty() {
            out.flush().await?;
        }
    }
    out.shutdown().await
}

/// How an echo server behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// The server's name, echoed in every answer.
    pub name: String,
    /// The protocol spoken.
    pub protocol: Protocol,
    /// Delay every answer by this much (other requests keep being read meanwhile).
    pub delay: Option<Duration>,
    /// After answering this many two-way requests on a connection, send the
    /// codec's goaway (Bolt goaway, Dubbo read-only event), keep answering, and
    /// close the connection once it has been idle for 200 ms.
    pub goaway_after: Option<u64>,
}

impl ServerOptions {
    /// An echo server called `name`, without delay or goaway.
    pub fn new(name: impl Into<String>, protocol: Protocol) -> Self {
        Self {
            name: name.into(),
            protocol,
            delay: None,
            goaway_after: None,
        }
    }
}

/// Counters of an echo server, shared by all its connections (read with `load`).
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Two-way requests received.
    pub requests: AtomicU64,
    /// One-way requests received.
    pub oneway: AtomicU64,
    /// Heartbeat requests answered.
    pub heartbeats: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Goaway frames sent.
    pub goaways: AtomicU64,
    /// Bad frames: undecodable requests (answered with a codec-error local
    /// reply) and framing errors (the connection was closed).
    pub errors: AtomicU64,
    /// The lowest and highest request id seen on two-way requests.
    id_range: Mutex<Option<(u64, u64)>>,
    /// The protocol headers (attachments) of the last two-way request.
    last_headers: Mutex<Vec<(String, String)>>,
}

impl ServerStats {
    /// The lowest request id seen on a two-way request.
    pub fn min_request_id(&self) -> Option<u64> {
        self.id_range.lock().ok().and_then(|r| r.map(|(lo, _)| lo))
    }

    /// The highest request id seen on a two-way request.
    pub fn max_request_id(&self) -> Option<u64> {
        self.id_range.lock().ok().and_then(|r| r.map(|(_, hi)| hi))
    }

    /// A protocol header (or attachment) of the last two-way request.
    pub fn last_header(&self, key: &str) -> Option<String> {
        let headers = self.last_headers.lock().ok()?;
        headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn record(&self, protocol: Protocol, frame: &Bytes, id: u64) {
        if let Ok(mut range) = self.id_range.lock() {
            let (lo, hi) = range.unwrap_or((id, id));
            *range = Some((lo.min(id), hi.max(id)));
        }
        let codec = protocol.codec();
        if let Some(Ok(route)) = codec.routing().map(|r| r.route_headers(frame)) {
            let headers = route
                .headers()
                .map(|(k, v)| {
                    (
                        String::from_utf8_lossy(k).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    )
                })
                .collect();
            if let Ok(mut last) = self.last_headers.lock() {
                *last = headers;
            }
        }
    }
}

/// Serve the echo protocol on `listener` until an accept fails. Dropping the
/// future closes every connection it accepted.
pub async fn serve(
    listener: TcpListener,
    options: ServerOptions,
    stats: Arc<ServerStats>,
) -> io::Result<()> {
    let options = Arc::new(options);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                    ) => continue,
                    Err(e) => return Err(e),
                };
                stats.connections.fetch_add(1, Relaxed);
                // Nagle only adds latency to small pipelined frames; failing to disable it is harmless.
                let _ = stream.set_nodelay(true);
                connections.spawn(serve_connection(stream, options.clone(), stats.clone()));
            }
            Some(_) = connections.join_next() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, options: Arc<ServerOptions>, stats: Arc<ServerStats>) {
    let (mut rd, wr) = stream.into_split();
    let (queue, pending_writes) = mpsc::channel(QUEUE_DEPTH);
    let reading = async move {
        let mut buf = BytesMut::new();
        let (mut answered, mut draining) = (0u64, false);
        loop {
            let next = next_frame(&mut rd, &mut buf, options.protocol);
            let next = if draining {
                match tokio::time::timeout(GOAWAY_IDLE, next).await {
                    Ok(next) => next,
                    Err(_) => break,
                }
            } else {
                next.await
            };
            let frame = match next {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(_) => {
                    stats.errors.fetch_add(1, Relaxed);
                    break;
                }
            };
            let mut out = BytesMut::new();
            match respond(&options, &stats, &frame, &mut out) {
                Ok(true) => answered += 1,
                Ok(false) => {}
                Err(_) => {
                    stats.errors.fetch_add(1, Relaxed);
                }
            }
            if !draining
                && options.goaway_after.is_some_and(|n| answered >= n)
                && options.protocol.wire().goaway(0, &mut out).is_ok()
            {
                stats.goaways.fetch_add(1, Relaxed);
                draining = true;
            }
            if !out.is_empty() {
                let due = options.delay.map(|delay| Instant::now() + delay);
                if queue.send((out.freeze(), due)).await.is_err() {
                    break;
                }
            }
        }
    };
    // The writer ends once `reading` drops the queue and every answer is written.
    let _ = tokio::join!(reading, write_loop(pending_writes, wr));
}

/// Answer one frame into `out`; `Ok(true)` when it was a two-way request.
fn respond(
    options: &ServerOptions,
    stats: &ServerStats,
    frame: &Bytes,
    out: &mut BytesMut,
) -> Result<bool, CallError> {
    let protocol = options.protocol;
    let head = protocol.wire().frame_head(frame)?;
    match head.kind {
        FrameKind::Request => {
            stats.requests.fetch_add(1, Relaxed);
            stats.record(protocol, frame, head.request_id);
            if let Err(e) = echo(options, frame, head.request_id, out) {
                stats.errors.fetch_add(1, Relaxed);
                let message = e.to_string();
                let status = LocalStatus::CodecError;
                protocol.wire().local_reply(frame, status, &message, out)?;
            }
            Ok(true)
        }
        FrameKind::OnewayRequest => {
            stats.oneway.fetch_add(1, Relaxed);
            Ok(false)
        }
        FrameKind::HeartbeatRequest => {
            stats.heartbeats.fetch_add(1, Relaxed);
            protocol.wire().heartbeat_reply(frame, out)?;
            Ok(false)
        }
        _ => Ok(false),
    }
}

/// Append the echo answer to a two-way request (nothing is appended on error).
fn echo(
    options: &ServerOptions,
    frame: &Bytes,
    id: u64,
    out: &mut BytesMut,
) -> Result<(), CallError> {
    let name = options.name.as_str();
    match options.protocol {
        Protocol::Bolt => {
            let (request, content) = bolt_content(frame)?;
            let mut echoed = BytesMut::with_capacity(name.len() + 1 + content.len());
            echoed.put_slice(name.as_bytes());
            echoed.put_u8(b':');
            echoed.put_slice(&content);
            let mut header =
                BoltHeader::response(request.request_id, xprotocol_bolt::status::SUCCESS);
            if let (Some(ver1), Some(switch)) = (request.ver1, request.switch) {
                header = header.v2(ver1, switch);
            }
            header.codec = request.codec;
            let headers: [(&[u8], &[u8]); 1] = [(SERVER_HEADER.as_bytes(), name.as_bytes())];
            let parts = BOLT.encode(&header, SOFA_RESPONSE_CLASS, &headers, echoed.freeze())?;
            parts.write_to(out);
        }
        Protocol::Dubbo => {
            let limits = Limits::default();
            let mut reader = Reader::at(frame, HEADER_LEN, &limits, xprotocol_dubbo::PROTOCOL);
            for field in [
                "dubbo version",
                "path",
                "version",
                "method",
                "parameter types",
            ] {
                reader.read_str_field(field)?;
            }
            let argument = match reader.read_value()?.value {
                Value::Str(s) => s.to_string_lossy(),
                Value::Null => String::new(),
                _ => return Err(CallError::InvalidCall("the argument is not a string")),
            };
            let mut body = Writer::with_capacity(name.len() + argument.len() + 16);
            body.int(response_flag::VALUE)
                .string(&format!("{name}:{argument}"));
            let status = xprotocol_dubbo::status::OK;
            put_dubbo_frame(serialization::HESSIAN2, status, id, body.as_bytes(), out)?;
        }
    }
    Ok(())
}

/// Calls waiting for their reply, and the request ids of the connection.
#[derive(Debug)]
struct Pending {
    ids: RequestIdGenerator,
    waiters: HashMap<u64, oneshot::Sender<Bytes>>,
    closed: bool,
}

/// What a client's reader task shares with its callers.
#[derive(Debug)]
struct Shared {
    pending: Mutex<Pending>,
    goaways: AtomicU64,
    heartbeats: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_id(&self) -> Result<u64, CallError> {
        let mut pending = self.lock();
        if pending.closed {
            return Err(CallError::Closed);
        }
        Ok(pending.ids.next_id())
    }

    /// A fresh id (never one still waiting) and the receiver of its reply.
    fn register(&self) -> Result<(Waiting<'_>, oneshot::Receiver<Bytes>), CallError> {
        let mut pending = self.lock();
        if pending.closed {
            return Err(CallError::Closed);
        }
        let id = loop {
            let id = pending.ids.next_id();
            if !pending.waiters.contains_key(&id) {
                break id;
            }
        };
        let (reply, receiver) = oneshot::channel();
        pending.waiters.insert(id, reply);
        let waiting = Waiting {
            shared: self,
            id,
            answered: false,
        };
        Ok((waiting, receiver))
    }

    fn complete(&self, id: u64, frame: Bytes) {
        if let Some(waiter) = self.lock().waiters.remove(&id) {
            // The caller may have given up meanwhile: nothing to do then.
            let _ = waiter.send(frame);
        }
    }

    /// Refuse new calls and fail the waiting ones with [`CallError::Closed`].
    fn close(&self) {
        let mut pending = self.lock();
        pending.closed = true;
        pending.waiters.clear();
    }
}

/// A registered call; dropping it unanswered (timeout, error, cancellation) forgets its id.
struct Waiting<'a> {
    shared: &'a Shared,
    id: u64,
    answered: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.shared.lock().waiters.remove(&self.id);
        }
    }
}

/// A pipelined client on one TCP connection: `call` takes `&self`, so many
/// tasks may call at once; responses are matched to calls by request id.
/// Dropping the client flushes queued frames and closes the connection.
#[derive(Debug)]
pub struct RpcClient {
    protocol: Protocol,
    queue: mpsc::Sender<Outgoing>,
    shared: Arc<Shared>,
}

impl RpcClient {
    /// Connect to `addr`.
    pub async fn connect(addr: SocketAddr, protocol: Protocol) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (rd, wr) = stream.into_split();
        let (queue, to_write) = mpsc::channel(QUEUE_DEPTH);
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                ids: RequestIdGenerator::new(protocol.wire().id_width()),
                waiters: HashMap::new(),
                closed: false,
            }),
            goaways: AtomicU64::new(0),
            heartbeats: AtomicU64::new(0),
        });
        let reader = tokio::spawn(read_replies(
            rd,
            protocol,
            shared.clone(),
            queue.downgrade(),
        ));
        let writer_shared = shared.clone();
        tokio::spawn(async move {
            // Ends when the client is dropped (queue drained) or the socket fails.
            let _ = write_loop(to_write, wr).await;
            reader.abort();
            writer_shared.close();
        });
        Ok(Self {
            protocol,
            queue,
            shared,
        })
    }

    /// Make a call and wait at most `call.timeout` for its reply. A one-way
    /// call returns `Reply { ok: true, status: 0, .. }` once it is queued for writing.
    pub async fn call(&self, call: &Call) -> Result<Reply, CallError> {
        if call.oneway {
            let frame = encode_request(self.protocol, call, self.shared.next_id()?)?;
            self.send(frame).await?;
            return Ok(Reply {
                ok: true,
                ..Reply::default()
            });
        }
        let (waiting, reply) = self.shared.register()?;
        let frame = encode_request(self.protocol, call, waiting.id)?;
        let reply = self.exchange(frame, waiting, reply, call.timeout).await?;
        decode_reply(self.protocol, &reply)
    }

    /// Send a heartbeat request and wait (at most 3 s) for its answer; returns the round-trip time.
    pub async fn heartbeat(&self) -> Result<Duration, CallError> {
        let started = Instant::now();
        let (waiting, reply) = self.shared.register()?;
        let mut frame = BytesMut::new();
        self.protocol
            .wire()
            .heartbeat_request(waiting.id, &mut frame)?;
        let reply = self
            .exchange(frame.freeze(), waiting, reply, HEARTBEAT_TIMEOUT)
            .await?;
        match self.protocol.wire().frame_head(&reply)?.kind {
            FrameKind::HeartbeatResponse => Ok(started.elapsed()),
            _ => Err(CallError::BadReply("expected a heartbeat response")),
        }
    }

    /// Write arbitrary bytes on the connection (for malformed-frame tests).
    pub async fn send_raw(&self, bytes: &[u8]) -> Result<(), CallError> {
        self.send(Bytes::copy_from_slice(bytes)).await
    }

    /// Goaway frames (Bolt goaway, Dubbo read-only events) received. Calls
    /// already sent still complete; new calls are still sent.
    pub fn goaways_received(&self) -> u64 {
        self.shared.goaways.load(Relaxed)
    }

    /// Heartbeat requests received from the peer (each is answered).
    pub fn heartbeats_received(&self) -> u64 {
        self.shared.heartbeats.load(Relaxed)
    }

    /// Calls waiting for a reply.
    pub fn pending_calls(&self) -> usize {
        self.shared.lock().waiters.len()
    }

    /// True once the connection is closed: every call fails with [`CallError::Closed`].
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    async fn send(&self, frame: Bytes) -> Result<(), CallError> {
        self.queue
            .send((frame, None))
            .await
            .map_err(|_| CallError::Closed)
    }

    async fn exchange(
        &self,
        frame: Bytes,
        mut waiting: Waiting<'_>,
        reply: oneshot::Receiver<Bytes>,
        timeout: Duration,
    ) -> Result<Bytes, CallError> {
        let answered = async {
            self.send(frame).await?;
            reply.await.map_err(|_| CallError::Closed)
        };
        let frame = tokio::time::timeout(timeout, answered)
            .await
            .map_err(|_| CallError::Timeout)??;
        waiting.answered = true;
        Ok(frame)
    }
}

/// The client's reader: hand responses to their callers, count goaways, answer
/// the peer's heartbeats; on end of stream or a framing error, close.
async fn read_replies(
    mut rd: OwnedReadHalf,
    protocol: Protocol,
    shared: Arc<Shared>,
    queue: mpsc::WeakSender<Outgoing>,
) {
    let mut buf = BytesMut::new();
    while let Ok(Some(frame)) = next_frame(&mut rd, &mut buf, protocol).await {
        let Ok(head) = protocol.wire().frame_head(&frame) else {
            continue;
        };
        match head.kind {
            FrameKind::Response | FrameKind::HeartbeatResponse => {
                shared.complete(head.request_id, frame);
            }
            FrameKind::GoAway => {
                shared.goaways.fetch_add(1, Relaxed);
            }
            FrameKind::HeartbeatRequest => {
                shared.heartbeats.fetch_add(1, Relaxed);
                let mut answer = BytesMut::new();
                if protocol.wire().heartbeat_reply(&frame, &mut answer).is_ok()
                    && let Some(queue) = queue.upgrade()
                {
                    let _ = queue.send((answer.freeze(), None)).await;
                }
            }
            _ => {}
        }
    }
    shared.close();
}

#[cfg(test)]
mod tests {
    use tokio::task::JoinHandle;

    use super::*;

    type Server = JoinHandle<io::Result<()>>;

    /// An echo server on 127.0.0.1 and a client connected to it.
    async fn setup(options: ServerOptions) -> (Arc<RpcClient>, Arc<ServerStats>, Server) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(ServerStats::default());
        let protocol = options.protocol;
        let server = tokio::spawn(serve(listener, options, stats.clone()));
        let client = RpcClient::connect(addr, protocol).await.unwrap();
        (Arc::new(client), stats, server)
    }

    async fn eventually(what: &str, condition: impl Fn() -> bool) {
        for _ in 0..300 {
            if condition() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for {what}");
    }

    fn echo_call(body: impl Into<Bytes>) -> Call {
        Call::new("com.example.EchoService", "echo").with_body(body)
    }

    fn count(counter: &AtomicU64) -> u64 {
        counter.load(Relaxed)
    }

    /// Mostly short bodies, some Chinese and emoji, two large ones (64 KiB, and
    /// 40 000 UTF-16 units: a chunked Hessian2 string with surrogate pairs).
    fn body_for(i: usize) -> String {
        match i % 50 {
            0 => format!("{i}:{}", "x".repeat(64 * 1024)),
            1 => format!("{i}:{}", "你好🚀".repeat(10_000)),
            n if n % 2 == 0 => format!("你好，世界 🚀 {i}"),
            _ => format!("m{i}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_on_one_connection_are_matched_by_id() {
        for protocol in Protocol::ALL {
            let (client, stats, _server) = setup(ServerOptions::new("alpha", protocol)).await;
            let mut calls = JoinSet::new();
            for i in 0..200 {
                let client = client.clone();
                calls.spawn(async move { (i, client.call(&echo_call(body_for(i))).await) });
            }
            while let Some(done) = calls.join_next().await {
                let (i, reply) = done.unwrap();
                let reply = reply.unwrap();
                assert_eq!((reply.ok, reply.server.as_deref()), (true, Some("alpha")));
                assert_eq!(
                    reply.body_str(),
                    Some(format!("alpha:{}", body_for(i)).as_str())
                );
            }
            assert_eq!(
                (count(&stats.requests), count(&stats.connections)),
                (200, 1)
            );
            assert_eq!(client.pending_calls(), 0);
        }
    }

    #[tokio::test]
    async fn oneway_calls_are_counted_and_heartbeats_answered() {
        for protocol in Protocol::ALL {
            let (client, stats, _server) = setup(ServerOptions::new("gamma", protocol)).await;
            let oneway = echo_call("fire").with_oneway(true);
            for _ in 0..3 {
                let reply = client.call(&oneway).await.unwrap();
                assert_eq!((reply.ok, reply.status, reply.body.len()), (true, 0, 0));
            }
            client.heartbeat().await.unwrap();
            // Frames are handled in order: this answer comes after the one-way calls.
            assert!(client.call(&echo_call("sync")).await.unwrap().ok);
            let counts = [&stats.oneway, &stats.heartbeats, &stats.requests].map(count);
            assert_eq!(counts, [3, 1, 1]);
            assert_eq!(client.pending_calls(), 0);
        }
    }

    #[tokio::test]
    async fn calls_time_out_on_a_slow_server_and_fail_closed_when_it_goes_away() {
        for protocol in Protocol::ALL {
            let mut options = ServerOptions::new("slow", protocol);
            options.delay = Some(Duration::from_millis(300));
            let (client, _stats, server) = setup(options).await;
            let quick = echo_call("first").with_timeout(Duration::from_millis(50));
            assert!(matches!(client.call(&quick).await, Err(CallError::Timeout)));
            assert_eq!(client.pending_calls(), 0);
            // The late answer to the first call is dropped, not given to the second.
            let reply = client.call(&echo_call("second")).await.unwrap();
            assert_eq!(reply.body_str(), Some("slow:second"));

            let waiting = client.clone();
            let call = tokio::spawn(async move { waiting.call(&echo_call("never")).await });
            eventually("the call to be pending", || client.pending_calls() == 1).await;
            server.abort();
            let outcome = tokio::time::timeout(Duration::from_secs(2), call).await;
            assert!(matches!(outcome.unwrap().unwrap(), Err(CallError::Closed)));
            assert!(client.is_closed());
            assert!(matches!(
                client.call(&echo_call("late")).await,
                Err(CallError::Closed)
            ));
            assert!(matches!(client.heartbeat().await, Err(CallError::Closed)));
        }
    }

    #[tokio::test]
    async fn goaway_after_n_requests_lets_calls_in_flight_complete() {
        for protocol in Protocol::ALL {
            let mut options = ServerOptions::new("draining", protocol);
            options.goaway_after = Some(2);
            let (client, stats, _server) = setup(options).await;
            let calls: Vec<Call> = (0..4).map(|i| echo_call(format!("{i}"))).collect();
            let (a, b, c, d) = tokio::join!(
                client.call(&calls[0]),
                client.call(&calls[1]),
                client.call(&calls[2]),
                client.call(&calls[3])
            );
            assert!([a, b, c, d].into_iter().all(|reply| reply.unwrap().ok));
            eventually("a goaway", || client.goaways_received() == 1).await;
            assert_eq!(count(&stats.goaways), 1);
            eventually("the drained connection to close", || client.is_closed()).await;
        }
    }

    #[tokio::test]
    async fn a_malformed_frame_closes_the_connection() {
        for protocol in Protocol::ALL {
            let (client, stats, _server) = setup(ServerOptions::new("strict", protocol)).await;
            client
                .send_raw(b"\xffnot a frame, not even close")
                .await
                .unwrap();
            eventually("the connection to close", || client.is_closed()).await;
            assert_eq!(count(&stats.errors), 1);
            assert!(matches!(
                client.call(&echo_call("x")).await,
                Err(CallError::Closed)
            ));
        }
    }

    #[test]
    fn requests_decode_with_the_codecs_routing_view() {
        let call = echo_call("hi").with_version("2.0").with_group("blue");
        let call = call.with_header("x-lane", "canary");
        for protocol in Protocol::ALL {
            let codec = protocol.codec();
            assert_eq!(Protocol::from_name(codec.name()), Some(protocol));
            let frame = encode_request(protocol, &call, 7).unwrap();
            let head = codec.multiplexing().unwrap().frame_head(&frame).unwrap();
            assert_eq!((head.kind, head.request_id), (FrameKind::Request, 7));
            let route = codec.routing().unwrap().route_headers(&frame).unwrap();
            assert_eq!(route.interface(), Some("com.example.EchoService"));
            assert_eq!(route.method(), Some("echo"));
            assert_eq!(
                (route.version(), route.group()),
                (Some("2.0"), Some("blue"))
            );
            assert_eq!(route.header("x-lane"), Some("canary"));
            let oneway = encode_request(protocol, &call.clone().with_oneway(true), 8).unwrap();
            let kind = codec
                .multiplexing()
                .unwrap()
                .frame_head(&oneway)
                .unwrap()
                .kind;
            assert_eq!(kind, FrameKind::OnewayRequest);
        }
        let plain = echo_call("");
        let bolt = encode_request(Protocol::Bolt, &plain, 1).unwrap();
        let route = BOLT.route_headers(&bolt).unwrap();
        assert_eq!((route.version(), route.group()), (Some("1.0"), None));
        assert_eq!(
            BOLT.frame_head(&bolt).unwrap().timeout,
            Some(DEFAULT_TIMEOUT)
        );
        let dubbo = encode_request(Protocol::Dubbo, &plain, 1 << 40).unwrap();
        let route = DUBBO.route_headers(&dubbo).unwrap();
        assert_eq!(
            (route.version(), route.header("timeout")),
            (Some("0.0.0"), Some("3000"))
        );
        assert!(matches!(
            encode_request(Protocol::Bolt, &plain, 1 << 40),
            Err(CallError::Codec(_))
        ));
    }

    #[test]
    fn local_replies_and_bad_frames_decode_as_errors() {
        for (protocol, native) in [(Protocol::Bolt, 6), (Protocol::Dubbo, 60)] {
            let request = encode_request(protocol, &echo_call("x"), 9).unwrap();
            let mut out = BytesMut::new();
            let no_route = LocalStatus::NoRoute;
            protocol
                .wire()
                .local_reply(&request, no_route, "no route: 你好", &mut out)
                .unwrap();
            let reply = decode_reply(protocol, &out.freeze()).unwrap();
            assert_eq!((reply.ok, reply.status), (false, native));
            assert_eq!(reply.message.as_deref(), Some("no route: 你好"));
            assert!(matches!(
                decode_reply(protocol, &request),
                Err(CallError::BadReply(_))
            ));
            let truncated = request.slice(..request.len() - 1);
            assert!(matches!(
                decode_reply(protocol, &truncated),
                Err(CallError::Codec(_))
            ));
        }
        let binary = echo_call(Bytes::from_static(b"\xff\xfe"));
        let refused = encode_request(Protocol::Dubbo, &binary, 1);
        assert!(matches!(refused, Err(CallError::InvalidCall(_))));
    }

    #[test]
    fn an_undecodable_dubbo_request_gets_a_codec_error_reply() {
        let mut body = Writer::new();
        body.string(DUBBO_VERSION)
            .string("a.B")
            .string("0.0.0")
            .string("m");
        body.string("I").int(5); // an int argument: not what the echo server takes
        let mut frame = BytesMut::new();
        let two_way = flag::REQUEST | flag::TWO_WAY | serialization::HESSIAN2;
        put_dubbo_frame(two_way, 0, 3, body.as_bytes(), &mut frame).unwrap();
        let (options, stats) = (
            ServerOptions::new("picky", Protocol::Dubbo),
            ServerStats::default(),
        );
        let mut out = BytesMut::new();
        assert!(respond(&options, &stats, &frame.freeze(), &mut out).unwrap());
        let reply = decode_reply(Protocol::Dubbo, &out.freeze()).unwrap();
        assert_eq!(
            reply.status,
            u32::from(xprotocol_dubbo::status::BAD_REQUEST)
        );
        assert!(reply.message.unwrap().contains("argument is not a string"));
        assert_eq!((count(&stats.requests), count(&stats.errors)), (1, 1));
    }
}
