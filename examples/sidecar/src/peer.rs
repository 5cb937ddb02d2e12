//! The HTTP/2 hop between sidecars: one h2 connection per peer carries every
//! stream; each RPC travels as the lossless HTTP/2 message of its codec's
//! transcoding layer, optionally over mTLS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use h2::RecvStream;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use xprotocol_core::transcoding::names;

use crate::stats::Stats;

/// Flow-control windows of the hop: large enough that a 64 KiB RPC never
/// waits for a window update.
const STREAM_WINDOW: u32 = 4 * 1024 * 1024;
const CONNECTION_WINDOW: u32 = 16 * 1024 * 1024;
const MAX_H2_FRAME: u32 = 256 * 1024;

/// An HTTP/2 client connection to a peer sidecar.
#[derive(Debug)]
pub(crate) struct PeerConn {
    send: h2::client::SendRequest<Bytes>,
    dead: Arc<AtomicBool>,
}

/// Why a call over the hop failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PeerError {
    #[error("peer connection: {0}")]
    H2(#[from] h2::Error),
    #[error("peer connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("peer body exceeds {0} bytes")]
    TooLarge(usize),
}

impl PeerConn {
    /// Connect (TLS when `tls` is given) and start the connection task.
    /// With `keepalive`, an HTTP/2 PING goes out every interval and a
    /// connection whose PING is not answered within the interval is dropped.
    pub(crate) async fn connect(
        addr: SocketAddr,
        tls: Option<&Arc<rustls::ClientConfig>>,
        keepalive: Option<Duration>,
        stats: &Arc<Stats>,
    ) -> Result<Self, PeerError> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        match tls {
            None => Self::handshake(tcp, keepalive, stats).await,
            Some(config) => {
                let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
                let stream = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await?;
                Self::handshake(stream, keepalive, stats).await
            }
        }
    }

    async fn handshake<T>(
        io: T,
        keepalive: Option<Duration>,
        stats: &Arc<Stats>,
    ) -> Result<Self, PeerError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (send, mut connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_frame_size(MAX_H2_FRAME)
            .handshake(io)
            .await?;
        let dead = Arc::new(AtomicBool::new(false));
        let ping_pong = connection.ping_pong();
        let flag = dead.clone();
        let driver = tokio::spawn(async move {
            let _ = connection.await;
            flag.store(true, Ordering::Release);
        });
        if let (Some(interval), Some(ping_pong)) = (keepalive, ping_pong) {
            let (dead, stats, driver) = (dead.clone(), stats.clone(), driver.abort_handle());
            tokio::spawn(keepalive_loop(ping_pong, interval, dead, stats, driver));
        }
        Ok(Self { send, dead })
    }

    /// Whether the connection has ended.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// Send one request and wait for its response (a one-way request's
    /// response is an empty acknowledgement).
    pub(crate) async fn call(
        &self,
        request: http::Request<Bytes>,
        max_body: usize,
    ) -> Result<http::Response<Bytes>, PeerError> {
        let mut send = self.send.clone().ready().await?;
        let (parts, body) = request.into_parts();
        let head = http::Request::from_parts(parts, ());
        let (response, mut stream) = send.send_request(head, body.is_empty())?;
        if !body.is_empty() {
            stream.send_data(body, true)?;
        }
        let response = response.await?;
        let (parts, body) = response.into_parts();
        let body = read_body(body, max_body).await?;
        Ok(http::Response::from_parts(parts, body))
    }
}

async fn keepalive_loop(
    mut ping_pong: h2::PingPong,
    interval: Duration,
    dead: Arc<AtomicBool>,
    stats: Arc<Stats>,
    driver: tokio::task::AbortHandle,
) {
    loop {
        tokio::time::sleep(interval).await;
        if dead.load(Ordering::Acquire) {
            return;
        }
        stats.heartbeats_sent.inc();
        match tokio::time::timeout(interval, ping_pong.ping(h2::Ping::opaque())).await {
            Ok(Ok(_)) => stats.heartbeat_replies_received.inc(),
            _ => {
                dead.store(true, Ordering::Release);
                driver.abort();
                return;
            }
        }
    }
}

/// Keep the values that differ in every message (the request id, the time
/// left) out of the HPACK dynamic table: indexing them would only evict the
/// entries that do repeat (protocol, interface, method, headers).
pub(crate) fn never_index_per_message_values(headers: &mut http::HeaderMap) {
    for name in [names::REQUEST_ID, crate::cluster::TIMEOUT_HEADER] {
        if let Some(value) = headers.get_mut(name) {
            value.set_sensitive(true);
        }
    }
}

/// Read a whole HTTP/2 body, releasing flow control as it goes; a body that
/// arrives in one DATA frame is not copied.
pub(crate) async fn read_body(mut body: RecvStream, max: usize) -> Result<Bytes, PeerError> {
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        let len = first.as_ref().map_or(0, Bytes::len) + rest.len() + chunk.len();
        if len > max {
            return Err(PeerError::TooLarge(max));
        }
        match &first {
            None => first = Some(chunk),
            Some(f) => {
                if rest.is_empty() {
                    rest.extend_from_slice(f);
                }
                rest.extend_from_slice(&chunk);
            }
        }
    }
    Ok(if rest.is_empty() {
        first.unwrap_or_default()
    } else {
        rest.freeze()
    })
}

/// Server side of the hop: the h2 handshake with the same windows, and a
/// cap on concurrent streams (beyond it the peer waits, as HTTP/2 says).
pub(crate) async fn accept_h2<T>(
    io: T,
    max_concurrent_streams: usize,
    handshake_timeout: Duration,
) -> Result<h2::server::Connection<T, Bytes>, PeerError>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let handshake = h2::server::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_frame_size(MAX_H2_FRAME)
        .max_concurrent_streams(u32::try_from(max_concurrent_streams).unwrap_or(u32::MAX))
        .handshake(io);
    tokio::time::timeout(handshake_timeout, handshake)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "h2 handshake timeout"))?
        .map_err(PeerError::from)
}
