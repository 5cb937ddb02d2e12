//! Endpoint resolution by interface name.
//!
//! SOFA Mesh addresses services by interface: a cluster endpoint may be written
//! `bolt://com.example.UserService:12220`, and the sidecar looks the interface
//! name up in DNS (A records) and connects to every address on the given port.
//! [`DnsResolver`] is a minimal stub resolver over UDP, [`StaticResolver`] a fixed
//! table for tests and configuration, and [`DnsResponder`] a tiny authoritative
//! server for tests and the demo.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

const HEADER_LEN: usize = 12;
const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_ANY: u16 = 255;
const CLASS_IN: u16 = 1;
const FLAG_QR: u16 = 0x8000;
const FLAG_AA: u16 = 0x0400;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;
const OPCODE_MASK: u16 = 0x7800;
const RCODE_MASK: u16 = 0x000F;
const RCODE_FORMERR: u16 = 1;
const RCODE_NXDOMAIN: u16 = 3;
const RCODE_NOTIMP: u16 = 4;
/// Compression pointers followed while reading one name (stops pointer loops).
const MAX_POINTER_JUMPS: usize = 16;
/// Answer records examined in one response.
const MAX_ANSWERS: usize = 64;
/// Names accepted as owners of A records: the question plus CNAME targets.
const MAX_ALIASES: usize = 8;
const MAX_WIRE_NAME_LEN: usize = 255;
/// Size of an A answer whose owner is a compression pointer.
const A_ANSWER_LEN: usize = 16;
const MAX_UDP_MESSAGE: usize = 512;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// Future returned by [`Resolve::resolve`].
pub type ResolveFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<SocketAddr>, ResolveError>> + Send + 'a>>;

/// Turns a host (an IP literal or a name such as an interface) and a port into addresses.
pub trait Resolve: Send + Sync + std::fmt::Debug + 'static {
    /// Resolves `host` and pairs every address found with `port`.
    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> ResolveFuture<'a>;
}

/// Why a host could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The name does not exist (NXDOMAIN) or has no A record.
    #[error("no address found for `{host}`")]
    NotFound {
        /// The name looked up.
        host: String,
    },
    /// The DNS server did not answer in time, even after one retry.
    #[error("DNS query for `{host}` timed out")]
    Timeout {
        /// The name looked up.
        host: String,
    },
    /// The host is not a valid DNS name.
    #[error("invalid host name `{name}`: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The server answered with an error other than NXDOMAIN (SERVFAIL, REFUSED, ...).
    #[error("DNS server failed to resolve `{host}` (rcode {rcode})")]
    ServerFailure {
        /// The name looked up.
        host: String,
        /// The response code.
        rcode: u8,
    },
    /// The response could not be parsed or does not answer the query.
    #[error("malformed DNS response: {0}")]
    Malformed(&'static str),
    /// The UDP socket failed.
    #[error("DNS socket error: {0}")]
    Io(#[from] io::Error),
}

fn not_found(host: &str) -> ResolveError {
    let host = host.to_owned();
    ResolveError::NotFound { host }
}

fn with_port(addrs: impl IntoIterator<Item = IpAddr>, port: u16) -> Vec<SocketAddr> {
    let with_port = |ip| SocketAddr::new(ip, port);
    addrs.into_iter().map(with_port).collect()
}

/// Fixed host table, for tests and configuration; IP literals resolve to themselves.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    hosts: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the addresses of `host`; names match ASCII case-insensitively.
    pub fn with_host(mut self, host: &str, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        let key = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        self.hosts.insert(key, addrs.into_iter().collect());
        self
    }
}

impl Resolve for StaticResolver {
    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> ResolveFuture<'a> {
        let key = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        let result = match (host.parse::<IpAddr>(), self.hosts.get(&key)) {
            (Ok(ip), _) => Ok(vec![SocketAddr::new(ip, port)]),
            (_, Some(addrs)) if !addrs.is_empty() => Ok(with_port(addrs.iter().copied(), port)),
            _ => Err(not_found(host)),
        };
        Box::pin(std::future::ready(result))
    }
}

/// Validates `name` (labels of 1 to 63 letters, digits, `-` or `_`, at most 253
/// bytes, one optional trailing dot) and returns its lowercase wire form.
fn wire_name(name: &str) -> Result<Vec<u8>, ResolveError> {
    let invalid = |reason| {
        let name = name.to_owned();
        ResolveError::InvalidName { name, reason }
    };
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() || trimmed.len() > 253 {
        return Err(invalid("a name must be 1 to 253 bytes long"));
    }
    let mut wire = Vec::with_capacity(trimmed.len() + 2);
    for label in trimmed.split('.') {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|len| (1..=63).contains(len));
        let len = len.ok_or_else(|| invalid("a label must be 1 to 63 bytes long"))?;
        let allowed = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
        if !label.bytes().all(allowed) {
            return Err(invalid("only letters, digits, '-' and '_' are allowed"));
        }
        wire.push(len);
        wire.extend(label.bytes().map(|byte| byte.to_ascii_lowercase()));
    }
    wire.push(0);
    Ok(wire)
}

fn read_u16(packet: &[u8], pos: usize) -> Result<u16, ResolveError> {
    let bytes = packet
        .get(pos..pos + 2)
        .and_then(|bytes| bytes.try_into().ok());
    let bytes = bytes.ok_or(ResolveError::Malformed("message ends early"))?;
    Ok(u16::from_be_bytes(bytes))
}

/// Reads the (possibly compressed) name at `start`: returns its wire form as sent
/// and the offset just past it in the message.
fn read_name(packet: &[u8], start: usize) -> Result<(Vec<u8>, usize), ResolveError> {
    let malformed = ResolveError::Malformed;
    let mut name = Vec::new();
    let (mut pos, mut end, mut jumps) = (start, None, 0);
    loop {
        let len = *packet.get(pos).ok_or(malformed("name runs past the end"))?;
        match len & 0xC0 {
            0x00 if len == 0 => {
                name.push(0);
                return Ok((name, end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let label = packet.get(pos..pos + 1 + usize::from(len));
                let label = label.ok_or(malformed("label runs past the end"))?;
                name.extend_from_slice(label);
                if name.len() >= MAX_WIRE_NAME_LEN {
                    return Err(malformed("name longer than 255 bytes"));
                }
                pos += label.len();
            }
            0xC0 => {
                let low = *packet
                    .get(pos + 1)
                    .ok_or(malformed("pointer runs past the end"))?;
                end.get_or_insert(pos + 2);
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    return Err(malformed("too many compression pointers"));
                }
                pos = usize::from(len & 0x3F) << 8 | usize::from(low);
            }
            _ => return Err(malformed("unsupported label type")),
        }
    }
}

/// Parses the response to the A query `id` for `qname` (wire form), sent for
/// `host`: the A records of the name, directly or through CNAMEs in the response.
fn parse_response(
    packet: &[u8],
    id: u16,
    qname: &[u8],
    host: &str,
) -> Result<Vec<Ipv4Addr>, ResolveError> {
    let malformed = ResolveError::Malformed;
    let flags = read_u16(packet, 2)?;
    if packet.len() < HEADER_LEN || read_u16(packet, 0)? != id {
        return Err(malformed("not a response to the query"));
    } else if flags & FLAG_QR == 0 {
        return Err(malformed("not a response"));
    } else if flags & FLAG_TC != 0 {
        return Err(malformed("truncated response (TCP is not supported)"));
    }
    let rcode = flags & RCODE_MASK;
    if rcode != 0 && rcode != RCODE_NXDOMAIN {
        let (host, rcode) = (host.to_owned(), rcode as u8);
        return Err(ResolveError::ServerFailure { host, rcode });
    }
    let answer_count = usize::from(read_u16(packet, 6)?).min(MAX_ANSWERS);
    let (question, mut pos) = read_name(packet, HEADER_LEN)?;
    if read_u16(packet, 4)? != 1
        || !question.eq_ignore_ascii_case(qname)
        || read_u16(packet, pos)? != TYPE_A
        || read_u16(packet, pos + 2)? != CLASS_IN
    {
        return Err(malformed("question does not match the query"));
    }
    pos += 4;
    if rcode == RCODE_NXDOMAIN {
        return Err(not_found(host));
    }
    let (mut aliases, mut addrs) = (vec![question], Vec::new());
    for _ in 0..answer_count {
        let (owner, after_owner) = read_name(packet, pos)?;
        let record_type = read_u16(packet, after_owner)?;
        let class = read_u16(packet, after_owner + 2)?;
        let data_start = after_owner + 10;
        pos = data_start + usize::from(read_u16(packet, after_owner + 8)?);
        let data = packet.get(data_start..pos);
        let data = data.ok_or(malformed("record data runs past the end"))?;
        if class != CLASS_IN
            || !aliases
                .iter()
                .any(|alias| alias.eq_ignore_ascii_case(&owner))
        {
            continue;
        }
        if record_type == TYPE_A {
            let octets: [u8; 4] = data
                .try_into()
                .map_err(|_| malformed("A record is not 4 bytes"))?;
            addrs.push(Ipv4Addr::from(octets));
        } else if record_type == TYPE_CNAME && aliases.len() < MAX_ALIASES {
            aliases.push(read_name(packet, data_start)?.0);
        }
    }
    if addrs.is_empty() {
        return Err(not_found(host));
    }
    Ok(addrs)
}

/// Entry points for the fuzzer (`fuzz/fuzz_targets/dns.rs`): the two places
/// where this module reads bytes from the network.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use super::{RecordTable, ResolveError, build_reply, parse_response, read_u16, wire_name};

    /// Parse `packet` as the response to an A query for `host`, with the id
    /// the packet itself carries (so the fuzzer gets past the id check).
    pub fn parse_a_response(packet: &[u8], host: &str) -> Result<usize, ResolveError> {
        let id = read_u16(packet, 0)?;
        parse_response(packet, id, &wire_name(host)?, host).map(|addrs| addrs.len())
    }

    /// The responder's reply to `query` when it knows `host` (length of the reply).
    pub fn reply_len(query: &[u8], host: &str) -> Option<usize> {
        let mut records = RecordTable::default();
        if let Ok(name) = wire_name(host) {
            records.insert(name, vec![std::net::Ipv4Addr::LOCALHOST]);
        }
        build_reply(query, &records).map(|r| r.len())
    }
}

fn random_query_id() -> u16 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 48) as u16
}

fn message_header(id: u16, flags: u16, questions: u16, answers: u16) -> Vec<u8> {
    let mut message = Vec::with_capacity(MAX_UDP_MESSAGE);
    for field in [id, flags, questions, answers, 0, 0] {
        message.extend_from_slice(&field.to_be_bytes());
    }
    message
}

/// Minimal DNS stub resolver over UDP: A records only, no cache.
#[derive(Debug, Clone)]
pub struct DnsResolver {
    server: SocketAddr,
    timeout: Duration,
}

impl DnsResolver {
    /// A resolver asking `server`, waiting 2 s per attempt (two attempts).
    pub fn new(server: SocketAddr) -> Self {
        let timeout = DEFAULT_TIMEOUT;
        Self { server, timeout }
    }

    /// Sets how long each of the two attempts waits for an answer.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Queries the A records of `host`, retrying once after a timeout.
    pub async fn lookup(&self, host: &str) -> Result<Vec<Ipv4Addr>, ResolveError> {
        let qname = wire_name(host)?;
        let id = random_query_id();
        let mut query = message_header(id, FLAG_RD, 1, 0);
        query.extend_from_slice(&qname);
        query.extend_from_slice(&[TYPE_A.to_be_bytes(), CLASS_IN.to_be_bytes()].concat());
        let local_ip: IpAddr = match (self.server.is_ipv4(), self.server.ip().is_loopback()) {
            (true, true) => Ipv4Addr::LOCALHOST.into(),
            (true, false) => Ipv4Addr::UNSPECIFIED.into(),
            (false, true) => Ipv6Addr::LOCALHOST.into(),
            (false, false) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let socket = UdpSocket::bind(SocketAddr::new(local_ip, 0)).await?;
        // Connected: the kernel drops datagrams from anyone but the server.
        socket.connect(self.server).await?;
        let mut buf = vec![0u8; 2 * MAX_UDP_MESSAGE];
        for _attempt in 0..2 {
            socket.send(&query).await?;
            let deadline = tokio::time::Instant::now() + self.timeout;
            while let Ok(received) = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await
            {
                let packet = buf.get(..received?).unwrap_or_default();
                // A late answer to an earlier query, or a stray datagram: keep waiting.
                if packet.get(..2) == Some(&id.to_be_bytes()[..]) {
                    return parse_response(packet, id, &qname, host);
                }
            }
        }
        let host = host.to_owned();
        Err(ResolveError::Timeout { host })
    }
}

impl Resolve for DnsResolver {
    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> ResolveFuture<'a> {
        Box::pin(async move {
            if let Ok(ip) = host.parse::<IpAddr>() {
                return Ok(vec![SocketAddr::new(ip, port)]);
            }
            let addrs = self.lookup(host).await?;
            Ok(with_port(addrs.into_iter().map(IpAddr::V4), port))
        })
    }
}

/// Responder table: lowercase wire-form name → addresses.
type RecordTable = HashMap<Vec<u8>, Vec<Ipv4Addr>>;

#[derive(Debug, Default)]
struct ResponderState {
    records: Mutex<RecordTable>,
    answered: AtomicU64,
}

/// Tiny authoritative DNS server on `127.0.0.1`, for tests and the demo: answers
/// A queries from its table (TTL 0), NXDOMAIN for unknown names and FORMERR for
/// garbage. It runs as a tokio task that stops when the responder is dropped.
#[derive(Debug)]
pub struct DnsResponder {
    local_addr: SocketAddr,
    state: Arc<ResponderState>,
    task: JoinHandle<()>,
}

impl DnsResponder {
    /// Binds `127.0.0.1:0` and starts serving `records` on the current tokio
    /// runtime; fails when called outside one.
    pub fn bind(records: impl IntoIterator<Item = (String, Vec<Ipv4Addr>)>) -> io::Result<Self> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let std_socket = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        std_socket.set_nonblocking(true)?;
        let local_addr = std_socket.local_addr()?;
        let socket = {
            let _runtime_entered = runtime.enter();
            UdpSocket::from_std(std_socket)?
        };
        let state = Arc::new(ResponderState::default());
        let task = runtime.spawn(serve(socket, Arc::clone(&state)));
        let responder = Self {
            local_addr,
            state,
            task,
        };
        responder.set_records(records);
        Ok(responder)
    }

    /// Address the responder listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Replaces the whole table; names match ASCII case-insensitively, and
    /// names that are not valid DNS names are left out.
    pub fn set_records(&self, records: impl IntoIterator<Item = (String, Vec<Ipv4Addr>)>) {
        let valid = |(name, addrs): (String, _)| Some((wire_name(&name).ok()?, addrs));
        let table = records.into_iter().filter_map(valid).collect();
        *self
            .state
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = table;
    }

    /// Responses sent so far (answers, NXDOMAIN and errors alike).
    pub fn queries_answered(&self) -> u64 {
        self.state.answered.load(Ordering::Relaxed)
    }
}

impl Drop for DnsResponder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(socket: UdpSocket, state: Arc<ResponderState>) {
    let mut buf = vec![0u8; 2 * MAX_UDP_MESSAGE];
    loop {
        let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let reply = {
            let records = state.records.lock().unwrap_or_else(PoisonError::into_inner);
            build_reply(buf.get(..len).unwrap_or_default(), &records)
        };
        if let Some(reply) = reply
            && socket.send_to(&reply, peer).await.is_ok()
        {
            state.answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The responder's reply to `query`, or `None` for a response or a message too
/// short to carry an id.
fn build_reply(query: &[u8], records: &RecordTable) -> Option<Vec<u8>> {
    let (id, flags) = (read_u16(query, 0).ok()?, read_u16(query, 2).ok()?);
    if query.len() < HEADER_LEN || flags & FLAG_QR != 0 {
        return None;
    }
    let reply_flags = FLAG_QR | FLAG_AA | (flags & FLAG_RD);
    if flags & OPCODE_MASK != 0 {
        return Some(message_header(id, reply_flags | RCODE_NOTIMP, 0, 0));
    }
    let question = read_name(query, HEADER_LEN)
        .and_then(|(name, end)| Ok((name, read_u16(query, end)?, read_u16(query, end + 2)?)));
    let (name, qtype, qclass) = match question {
        Ok(question) if read_u16(query, 4).ok() == Some(1) => question,
        _ => return Some(message_header(id, reply_flags | RCODE_FORMERR, 0, 0)),
    };
    let asks_for_a = qclass == CLASS_IN && (qtype == TYPE_A || qtype == TYPE_ANY);
    let (rcode, addrs) = match records.get(&name.to_ascii_lowercase()) {
        None => (RCODE_NXDOMAIN, &[][..]),
        Some(addrs) if asks_for_a => (0, addrs.as_slice()),
        Some(_) => (0, &[][..]),
    };
    let room = MAX_UDP_MESSAGE.saturating_sub(HEADER_LEN + name.len() + 4) / A_ANSWER_LEN;
    let sent = addrs.get(..room).unwrap_or(addrs);
    let truncated = if sent.len() < addrs.len() { FLAG_TC } else { 0 };
    let answer_count = u16::try_from(sent.len()).unwrap_or(0);
    let mut reply = message_header(id, reply_flags | truncated | rcode, 1, answer_count);
    reply.extend_from_slice(&name);
    reply.extend_from_slice(&[qtype.to_be_bytes(), qclass.to_be_bytes()].concat());
    for addr in sent {
        // Owner: pointer to the question name at offset 12; TTL 0; 4 bytes of data.
        reply.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4]);
        reply.extend_from_slice(&addr.octets());
    }
    Some(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "com.example.UserService";
    /// An A answer for the question name (pointer to offset 12), TTL 30, 10.0.0.7.
    const A_ANSWER: [u8; 16] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, 0, 7];

    fn table(name: &str, last_octets: &[u8]) -> Vec<(String, Vec<Ipv4Addr>)> {
        let addr = |last: &u8| Ipv4Addr::new(10, 0, 0, *last);
        vec![(name.to_owned(), last_octets.iter().map(addr).collect())]
    }

    fn sockets(port: u16, last_octets: &[u8]) -> Vec<SocketAddr> {
        let addr = |last: &u8| IpAddr::from([10, 0, 0, *last]);
        with_port(last_octets.iter().map(addr), port)
    }

    /// A response to query `id` for `name`, with `answers` appended.
    fn response(id: u16, flags: u16, answer_count: u16, name: &str, answers: &[u8]) -> Vec<u8> {
        let mut packet = message_header(id, FLAG_QR | flags, 1, answer_count);
        packet.extend_from_slice(&wire_name(name).unwrap());
        packet.extend_from_slice(&[0, 1, 0, 1]);
        packet.extend_from_slice(answers);
        packet
    }

    fn parse(packet: &[u8]) -> Result<Vec<Ipv4Addr>, ResolveError> {
        parse_response(packet, 7, &wire_name("svc").unwrap(), "svc")
    }

    #[tokio::test]
    async fn resolves_through_the_responder() {
        let responder = DnsResponder::bind(table(SERVICE, &[1, 2])).unwrap();
        let resolver = DnsResolver::new(responder.local_addr());
        let found = resolver.resolve(SERVICE, 12220).await.unwrap();
        assert_eq!(found, sockets(12220, &[1, 2]));
        let found = resolver.resolve("COM.EXAMPLE.userservice.", 1).await;
        assert_eq!(found.unwrap(), sockets(1, &[1, 2]));
        let missing = resolver
            .resolve("com.example.Missing", 1)
            .await
            .unwrap_err();
        assert_eq!(
            missing.to_string(),
            "no address found for `com.example.Missing`"
        );
        responder.set_records(table(SERVICE, &[3]));
        let changed = resolver.resolve(SERVICE, 1).await.unwrap();
        assert_eq!(changed, sockets(1, &[3]));
        assert_eq!(responder.queries_answered(), 4);
        // Literals never reach the server; invalid names are refused before sending.
        let literal = resolver.resolve("10.0.0.9", 5).await.unwrap();
        assert_eq!(literal, sockets(5, &[9]));
        let invalid = resolver.resolve("bad name", 1).await;
        assert!(matches!(invalid, Err(ResolveError::InvalidName { .. })));
        assert_eq!(responder.queries_answered(), 4);
    }

    #[tokio::test]
    async fn times_out_after_one_retry_against_a_silent_server() {
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let resolver =
            DnsResolver::new(silent.local_addr().unwrap()).with_timeout(Duration::from_millis(100));
        let started = std::time::Instant::now();
        let error = resolver.lookup(SERVICE).await.unwrap_err();
        assert!(matches!(error, ResolveError::Timeout { host } if host == SERVICE));
        assert!(started.elapsed() >= Duration::from_millis(200));
        let mut buf = [0u8; 512];
        for _attempt in 0..2 {
            let len = silent.try_recv(&mut buf).unwrap();
            let query = &buf[..len];
            assert_eq!(read_u16(query, 2).unwrap(), FLAG_RD);
            let (name, end) = read_name(query, HEADER_LEN).unwrap();
            assert_eq!(name, b"\x03com\x07example\x0buserservice\x00");
            assert_eq!(&query[end..], [0, 1, 0, 1]);
        }
        assert!(silent.try_recv(&mut buf).is_err(), "exactly one retry");
    }

    #[test]
    fn validates_names() {
        let wire = wire_name("com.Example.User_Service-2.").unwrap();
        assert_eq!(wire, b"\x03com\x07example\x0euser_service-2\x00");
        let long_label = "a".repeat(64);
        let long_name = format!("{0}.{0}.{0}.{1}", "a".repeat(63), "b".repeat(62));
        assert!(wire_name(&long_name[1..]).is_ok(), "253 bytes is the limit");
        let bad_names = ["", ".", "a..b", ".a", "a b", "é.com", "a/b"];
        for bad in bad_names
            .into_iter()
            .chain([long_label.as_str(), &long_name])
        {
            let error = wire_name(bad);
            assert!(
                matches!(error, Err(ResolveError::InvalidName { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parses_answers_and_cname_chains() {
        let direct = response(7, 0, 1, "SVC", &A_ANSWER);
        assert_eq!(parse(&direct).unwrap(), [Ipv4Addr::new(10, 0, 0, 7)]);
        // CNAME svc -> real (at offset 33), A for real, and an A for an unrelated name.
        let cname = [
            0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 9, 0, 7, 4, b'r', b'e', b'a', b'l', 0xC0, 12,
        ];
        let a_for_real = [0xC0, 33, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 10, 0, 0, 8];
        let a_for_other = [1, b'x', 0, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 10, 0, 0, 9];
        let answers = [&cname[..], &a_for_real, &a_for_other].concat();
        let chain = response(7, 0, 3, "svc", &answers);
        assert_eq!(parse(&chain).unwrap(), [Ipv4Addr::new(10, 0, 0, 8)]);
    }

    #[test]
    fn rejects_bad_responses_without_panicking() {
        let good = response(7, 0, 1, "svc", &A_ANSWER);
        for len in 0..good.len() {
            assert!(parse(&good[..len]).is_err(), "prefix of {len} bytes");
        }
        let mut query = good.clone();
        query[2] &= 0x7F;
        let answer_with = |head: &[u8]| [head, &A_ANSWER[2..]].concat();
        let long_a = [&A_ANSWER[..11], &[5, 1, 2, 3, 4, 5]].concat();
        let fails_with = |packet: Vec<u8>, expected: &str| {
            let message = parse(&packet).unwrap_err().to_string();
            assert!(message.contains(expected), "{message}");
        };
        let svc = |flags, count, answers: &[u8]| response(7, flags, count, "svc", answers);
        fails_with(response(8, 0, 1, "svc", &A_ANSWER), "to the query");
        fails_with(query, "not a response");
        fails_with(
            response(7, 0, 1, "other", &A_ANSWER),
            "question does not match",
        );
        fails_with(svc(3, 0, &[]), "no address found for `svc`");
        fails_with(svc(0, 0, &[]), "no address found for `svc`");
        fails_with(svc(2, 0, &[]), "(rcode 2)");
        fails_with(svc(FLAG_TC, 1, &A_ANSWER), "truncated");
        fails_with(svc(0, 1, &long_a), "A record is not 4 bytes");
        fails_with(svc(0, 2, &A_ANSWER), "name runs past the end");
        // An owner pointing at itself (offset 21), and two pointing at each other.
        fails_with(svc(0, 1, &answer_with(&[0xC0, 21])), "compression pointers");
        fails_with(
            svc(0, 1, &answer_with(&[0xC0, 23, 0xC0, 21])),
            "compression",
        );
        // A huge answer count: only the first MAX_ANSWERS records are read.
        let flood = response(7, 0, u16::MAX, "svc", &A_ANSWER.repeat(MAX_ANSWERS));
        assert_eq!(parse(&flood).unwrap().len(), MAX_ANSWERS);
        // Pseudo-random garbage, alone and behind a valid header.
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for round in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let noise = &seed.to_le_bytes().repeat(10)[..round % 80];
            assert!(parse(noise).is_err());
            let _ = parse(&[&good[..12], noise].concat());
            let _ = build_reply(noise, &RecordTable::new());
        }
    }

    #[test]
    fn responder_answers_nxdomain_and_formerr() {
        let records = RecordTable::from([(wire_name("svc").unwrap(), vec![Ipv4Addr::LOCALHOST])]);
        let mut query = message_header(7, FLAG_RD, 1, 0);
        query.extend_from_slice(&[3, b'S', b'v', b'C', 0, 0, 1, 0, 1]);
        let reply = build_reply(&query, &records).unwrap();
        assert_eq!(parse(&reply).unwrap(), [Ipv4Addr::LOCALHOST]);
        assert_eq!(&reply[13..16], b"SvC", "question echoed as sent");
        query[14] = b'x';
        let unknown = build_reply(&query, &records).unwrap();
        let nxdomain = message_header(7, FLAG_QR | FLAG_AA | FLAG_RD | RCODE_NXDOMAIN, 1, 0);
        assert_eq!(unknown, [&nxdomain[..], &query[12..]].concat());
        let garbage = build_reply(&[&query[..12], &[0xFF, 0xFF]].concat(), &records).unwrap();
        let formerr = message_header(7, FLAG_QR | FLAG_AA | FLAG_RD | RCODE_FORMERR, 0, 0);
        assert_eq!(garbage, formerr);
        assert_eq!(build_reply(&query[..11], &records), None);
        assert_eq!(build_reply(&reply, &records), None, "responses are ignored");
    }

    #[tokio::test]
    async fn static_resolver_matches_case_insensitively() {
        let resolver = StaticResolver::new().with_host(SERVICE, [IpAddr::from([10, 0, 0, 1])]);
        let found = resolver.resolve("COM.example.userservice", 80).await;
        assert_eq!(found.unwrap(), sockets(80, &[1]));
        let literal = resolver.resolve("::1", 80).await.unwrap();
        assert_eq!(literal, [SocketAddr::from((Ipv6Addr::LOCALHOST, 80))]);
        let missing = resolver.resolve("other", 80).await;
        assert!(matches!(missing, Err(ResolveError::NotFound { .. })));
    }
}
