//! Native upstream connections: a small pool per endpoint shared by every
//! downstream connection, requests multiplexed by rewriting their ids.
//!
//! Each connection owns an id generator at the codec's id width and a table of
//! pending requests. A request gets the next free id (patched in place), its
//! original id is kept in the table and restored on the response. A response
//! whose id is not pending (late after a timeout, or unknown) is dropped and
//! counted. Heartbeats from the server are answered here; an idle connection
//! gets an active heartbeat, and one that does not answer is closed. A goaway
//! (Dubbo: read-only event) stops new requests on the connection, which closes
//! once its last pending request is answered.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use xprotocol_core::{Codec, FrameKind, Multiplexing, RequestIdGenerator, Split};

use crate::stats::Stats;
use crate::transport::write_frames;

/// What a pending id waits for.
#[derive(Debug)]
enum Pending {
    Call {
        original_id: u64,
        reply: oneshot::Sender<BytesMut>,
    },
    Heartbeat,
}

#[derive(Debug)]
struct Table {
    ids: RequestIdGenerator,
    pending: HashMap<u64, Pending>,
}

/// Options of native upstream connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UpstreamOptions {
    pub(crate) heartbeat_interval: Option<Duration>,
    pub(crate) first_id: u64,
    pub(crate) max_frame_len: usize,
}

/// One multiplexed connection to a native upstream.
#[derive(Debug)]
pub(crate) struct NativeConn {
    codec: Arc<dyn Codec>,
    tx: mpsc::Sender<Bytes>,
    table: Mutex<Table>,
    closed: AtomicBool,
    draining: AtomicBool,
    /// Milliseconds since `epoch` of the last frame read or written.
    last_activity: AtomicU64,
    epoch: Instant,
    tasks: Mutex<Vec<AbortHandle>>,
    stats: Arc<Stats>,
}

/// A request handed to the connection.
#[derive(Debug)]
pub(crate) struct Sent {
    /// The id it went out with.
    pub(crate) id: u64,
    /// The frame as sent (shared, for a local reply if it fails).
    pub(crate) request: Bytes,
    /// The response, for a two-way request.
    pub(crate) receiver: Option<oneshot::Receiver<BytesMut>>,
}

/// Why a request could not be handed to the connection.
#[derive(Debug)]
pub(crate) struct SendFailed(pub(crate) Bytes);

impl NativeConn {
    /// Connect and start the reader, writer and heartbeat tasks.
    pub(crate) async fn connect(
        addr: SocketAddr,
        codec: Arc<dyn Codec>,
        options: UpstreamOptions,
        stats: Arc<Stats>,
    ) -> std::io::Result<Arc<Self>> {
        let mux = codec
            .multiplexing()
            .ok_or_else(|| std::io::Error::other("codec has no multiplexing layer"))?;
        let width = mux.id_width();
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        stats.upstream_connections.inc();
        let (read, write) = stream.into_split();
        let (tx, rx) = mpsc::channel(4096);
        let conn = Arc::new(Self {
            codec,
            tx,
            table: Mutex::new(Table {
                ids: RequestIdGenerator::starting_at(width, options.first_id),
                pending: HashMap::new(),
            }),
            closed: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            last_activity: AtomicU64::new(0),
            epoch: Instant::now(),
            tasks: Mutex::new(Vec::new()),
            stats,
        });
        let mut tasks = vec![
            tokio::spawn({
                let conn = conn.clone();
                async move {
                    write_frames(write, rx, || conn.touch()).await;
                    conn.close();
                }
            })
            .abort_handle(),
            tokio::spawn(read_loop(read, conn.clone(), options.max_frame_len)).abort_handle(),
        ];
        if let Some(interval) = options.heartbeat_interval {
            tasks.push(tokio::spawn(heartbeat_loop(conn.clone(), interval)).abort_handle());
        }
        if let Ok(mut slot) = conn.tasks.lock() {
            *slot = tasks;
        }
        Ok(conn)
    }

    fn mux(&self) -> &dyn Multiplexing {
        // `connect` refused codecs without multiplexing.
        self.codec
            .multiplexing()
            .unwrap_or_else(|| unreachable!("checked in connect"))
    }

    /// Whether the connection can take new requests.
    pub(crate) fn is_usable(&self) -> bool {
        !self.closed.load(Ordering::Acquire) && !self.draining.load(Ordering::Acquire)
    }

    /// Whether the connection is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Requests waiting for a response.
    pub(crate) fn pending(&self) -> usize {
        self.table.lock().map(|t| t.pending.len()).unwrap_or(0)
    }

    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_activity.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let now = self.epoch.elapsed().as_millis();
        let last = u128::from(self.last_activity.load(Ordering::Relaxed));
        Duration::from_millis(u64::try_from(now.saturating_sub(last)).unwrap_or(u64::MAX))
    }

    /// Take the next id that is not pending (after a wrap-around an old one may
    /// still be) and register `pending` under it.
    fn register(&self, pending: Pending) -> Option<u64> {
        let mut table = self.table.lock().ok()?;
        let attempts = table.pending.len() + 1;
        for _ in 0..attempts {
            let id = table.ids.next_id();
            if let Entry::Vacant(slot) = table.pending.entry(id) {
                slot.insert(pending);
                return Some(id);
            }
        }
        None
    }

    /// Send a request: a two-way request gets a fresh id, and the receiver
    /// yields its response with the original id restored.
    pub(crate) async fn send(
        &self,
        mut frame: BytesMut,
        original_id: u64,
        two_way: bool,
    ) -> Result<Sent, SendFailed> {
        if !self.is_usable() {
            return Err(SendFailed(frame.freeze()));
        }
        let (id, receiver) = if two_way {
            let (reply, receiver) = oneshot::channel();
            let Some(id) = self.register(Pending::Call { original_id, reply }) else {
                return Err(SendFailed(frame.freeze()));
            };
            if self.mux().set_request_id(&mut frame, id).is_err() {
                self.cancel(id);
                return Err(SendFailed(frame.freeze()));
            }
            self.stats.ids_rewritten.inc();
            (id, Some(receiver))
        } else {
            (original_id, None)
        };
        let frame = frame.freeze();
        if self.tx.send(frame.clone()).await.is_err() {
            self.cancel(id);
            return Err(SendFailed(frame));
        }
        Ok(Sent {
            id,
            request: frame,
            receiver,
        })
    }

    /// Forget a pending request (its caller timed out): a response arriving
    /// later is dropped and counted as late.
    pub(crate) fn cancel(&self, id: u64) {
        if let Ok(mut table) = self.table.lock() {
            table.pending.remove(&id);
        }
        self.close_if_drained();
    }

    /// Close now: every pending caller sees its receiver fail.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Ok(mut table) = self.table.lock() {
            table.pending.clear();
        }
        if let Ok(mut tasks) = self.tasks.lock() {
            for task in tasks.drain(..) {
                task.abort();
            }
        }
    }

    fn close_if_drained(&self) {
        if self.draining.load(Ordering::Acquire) && self.pending() == 0 {
            self.close();
        }
    }

    /// Handle one frame read from the upstream.
    fn on_frame(&self, mut frame: BytesMut) -> Result<(), xprotocol_core::Error> {
        let mux = self.mux();
        let head = mux.frame_head(&frame)?;
        match head.kind {
            FrameKind::Response | FrameKind::HeartbeatResponse => {
                let pending = self
                    .table
                    .lock()
                    .ok()
                    .and_then(|mut t| t.pending.remove(&head.request_id));
                match pending {
                    Some(Pending::Call { original_id, reply }) => {
                        mux.set_request_id(&mut frame, original_id)?;
                        // The caller may have given up: then this is late too.
                        if reply.send(frame).is_err() {
                            self.stats.late_responses.inc();
                        }
                    }
                    Some(Pending::Heartbeat) => self.stats.heartbeat_replies_received.inc(),
                    None => self.stats.late_responses.inc(),
                }
                self.close_if_drained();
            }
            FrameKind::HeartbeatRequest => {
                let mut reply = BytesMut::new();
                mux.heartbeat_reply(&frame, &mut reply)?;
                self.stats.heartbeats_answered.inc();
                if self.tx.try_send(reply.freeze()).is_err() {
                    self.close();
                }
            }
            FrameKind::GoAway => {
                self.stats.goaways_received.inc();
                self.draining.store(true, Ordering::Release);
                self.close_if_drained();
            }
            // Requests from the server side are not part of this sidecar's model.
            _ => {}
        }
        Ok(())
    }
}

async fn read_loop(
    mut read: tokio::net::tcp::OwnedReadHalf,
    conn: Arc<NativeConn>,
    max_frame_len: usize,
) {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    'read: loop {
        loop {
            match conn.codec.framing().split_frame(&buf) {
                Ok(Split::Complete(len)) => {
                    let frame = buf.split_to(len);
                    if conn.on_frame(frame).is_err() {
                        break 'read;
                    }
                }
                Ok(Split::Incomplete(needed)) => {
                    let want = buf.len().saturating_add(needed.bytes());
                    if want > max_frame_len {
                        break 'read;
                    }
                    buf.reserve(needed.bytes().max(4096));
                    break;
                }
                Err(_) => break 'read,
            }
        }
        match read.read_buf(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => conn.touch(),
        }
    }
    conn.close();
}

async fn heartbeat_loop(conn: Arc<NativeConn>, interval: Duration) {
    let mut outstanding: Option<(u64, Instant)> = None;
    loop {
        tokio::time::sleep(interval / 2).await;
        if conn.is_closed() {
            return;
        }
        if let Some((id, sent)) = outstanding {
            let answered = conn
                .table
                .lock()
                .map(|t| !t.pending.contains_key(&id))
                .unwrap_or(true);
            if answered {
                outstanding = None;
            } else if sent.elapsed() >= interval {
                // No answer within an interval: the upstream is gone.
                conn.close();
                return;
            }
        }
        if outstanding.is_none() && conn.idle_for() >= interval {
            let Some(id) = conn.register(Pending::Heartbeat) else {
                continue;
            };
            let mut frame = BytesMut::new();
            if conn.mux().heartbeat_request(id, &mut frame).is_err() {
                conn.cancel(id);
                return; // The codec has no heartbeat: nothing to do.
            }
            conn.stats.heartbeats_sent.inc();
            if conn.tx.send(frame.freeze()).await.is_err() {
                return;
            }
            outstanding = Some((id, Instant::now()));
        }
    }
}

/// The pool of connections to one endpoint for one codec.
#[derive(Debug)]
pub(crate) struct NativePool {
    addr: SocketAddr,
    codec: Arc<dyn Codec>,
    size: usize,
    conns: tokio::sync::Mutex<Vec<Arc<NativeConn>>>,
    next: AtomicUsize,
}

impl NativePool {
    pub(crate) fn new(addr: SocketAddr, codec: Arc<dyn Codec>, size: usize) -> Self {
        Self {
            addr,
            codec,
            size: size.max(1),
            conns: tokio::sync::Mutex::new(Vec::new()),
            next: AtomicUsize::new(0),
        }
    }

    /// A usable connection: round robin over the pool, opening connections
    /// until the pool is full. Closed and drained connections are dropped.
    pub(crate) async fn connection(
        &self,
        options: UpstreamOptions,
        connect_timeout: Duration,
        stats: &Arc<Stats>,
    ) -> std::io::Result<Arc<NativeConn>> {
        let mut conns = self.conns.lock().await;
        conns.retain(|c| !c.is_closed());
        let usable = conns.iter().filter(|c| c.is_usable()).count();
        if usable < self.size {
            let connect =
                NativeConn::connect(self.addr, self.codec.clone(), options, stats.clone());
            let conn = tokio::time::timeout(connect_timeout, connect)
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timeout")
                })??;
            conns.push(conn.clone());
            return Ok(conn);
        }
        let usable: Vec<&Arc<NativeConn>> = conns.iter().filter(|c| c.is_usable()).collect();
        let i = self.next.fetch_add(1, Ordering::Relaxed) % usable.len().max(1);
        usable
            .get(i)
            .map(|c| Arc::clone(c))
            .ok_or_else(|| std::io::Error::other("empty pool"))
    }

    /// Close every connection.
    pub(crate) fn close(&self) {
        if let Ok(conns) = self.conns.try_lock() {
            for conn in conns.iter() {
                conn.close();
            }
        }
    }
}
