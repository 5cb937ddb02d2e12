//! Native listeners: applications connect here with their own protocol, which
//! is detected per connection from the first bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, watch};
use xprotocol_core::{Codec, Detection, ErrorAction, FrameKind, LocalStatus, Registry, Split};

use crate::proxy::{Reply, Shared};
use crate::transport::{accept_until, write_frames};

/// Bytes read before giving up on detecting the protocol.
const MAX_DETECT_PREFIX: usize = 1024;

/// Accept native connections until shutdown.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    registry: Registry,
    shutdown: watch::Receiver<bool>,
) {
    let registry = Arc::new(registry);
    let connections = shutdown.clone();
    accept_until(listener, shutdown, |stream| {
        shared.stats.downstream_connections.inc();
        tokio::spawn(connection(
            stream,
            shared.clone(),
            registry.clone(),
            connections.clone(),
        ));
    })
    .await;
}

async fn connection(
    stream: TcpStream,
    shared: Arc<Shared>,
    registry: Arc<Registry>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (mut read, write) = stream.into_split();
    let (tx, rx) = mpsc::channel::<Bytes>(4096);
    let writer = tokio::spawn(write_frames(write, rx, || {}));
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut codec: Option<Arc<dyn Codec>> = None;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let kill = Arc::new(Notify::new());
    let mut killed = false;
    'read: loop {
        if codec.is_none() {
            match registry.detect(&buf) {
                Detection::Matched(c) => codec = Some(c),
                Detection::Unknown => break 'read,
                Detection::NeedMore if buf.len() >= MAX_DETECT_PREFIX => break 'read,
                Detection::NeedMore => {}
            }
        }
        if let Some(codec) = &codec {
            loop {
                match codec.framing().split_frame(&buf) {
                    Ok(Split::Complete(len)) => {
                        let frame = buf.split_to(len);
                        if !on_frame(codec, frame, &shared, &tx, &in_flight, &kill) {
                            break 'read;
                        }
                    }
                    Ok(Split::Incomplete(needed)) => {
                        if buf.len().saturating_add(needed.bytes()) > shared.options.max_frame_len {
                            shared.stats.codec_errors.inc();
                            break 'read;
                        }
                        buf.reserve(needed.bytes().min(shared.options.max_frame_len));
                        break;
                    }
                    Err(_) => {
                        // The stream cannot be framed any more: only this connection is closed.
                        shared.stats.codec_errors.inc();
                        break 'read;
                    }
                }
            }
        }
        let read_more = tokio::select! {
            n = read.read_buf(&mut buf) => n,
            _ = shutdown.changed() => break 'read,
            _ = kill.notified() => {
                killed = true;
                break 'read;
            }
        };
        match read_more {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    drop(tx);
    if killed {
        writer.abort();
    } else {
        // Pending requests still hold senders: the writer ends after their replies.
        let _ = writer.await;
    }
}

/// Handle one frame from the application; `false` closes the connection.
fn on_frame(
    codec: &Arc<dyn Codec>,
    frame: BytesMut,
    shared: &Arc<Shared>,
    tx: &mpsc::Sender<Bytes>,
    in_flight: &Arc<AtomicUsize>,
    kill: &Arc<Notify>,
) -> bool {
    let Some(mux) = codec.multiplexing() else {
        return false;
    };
    let head = match mux.frame_head(&frame) {
        Ok(head) => head,
        Err(e) => {
            shared.stats.codec_errors.inc();
            if e.action() == ErrorAction::CloseConnection {
                return false;
            }
            // Only this request is bad: answer it natively when the id is readable.
            let Ok(id) = mux.request_id(&frame) else {
                return false;
            };
            return match shared.local_reply(
                codec,
                &frame,
                id,
                true,
                LocalStatus::CodecError,
                &e.to_string(),
            ) {
                Reply::Frame(reply) => tx.try_send(reply.freeze()).is_ok(),
                _ => false,
            };
        }
    };
    match head.kind {
        FrameKind::HeartbeatRequest => match shared.heartbeat_reply(codec, &frame) {
            Some(reply) => tx.try_send(reply).is_ok(),
            None => true,
        },
        FrameKind::Request | FrameKind::OnewayRequest => {
            let two_way = head.kind == FrameKind::Request;
            if in_flight.load(Ordering::Acquire) >= shared.options.max_concurrent_streams {
                let reply = shared.local_reply(
                    codec,
                    &frame,
                    head.request_id,
                    two_way,
                    LocalStatus::Overloaded,
                    "too many concurrent requests on this connection",
                );
                return match reply {
                    Reply::Frame(reply) => tx.try_send(reply.freeze()).is_ok(),
                    Reply::Nothing => true,
                    Reply::Unanswerable => false,
                };
            }
            in_flight.fetch_add(1, Ordering::AcqRel);
            let (codec, shared, tx, in_flight, kill) = (
                codec.clone(),
                shared.clone(),
                tx.clone(),
                in_flight.clone(),
                kill.clone(),
            );
            tokio::spawn(async move {
                let reply = shared.dispatch(&codec, frame, head, None).await;
                in_flight.fetch_sub(1, Ordering::AcqRel);
                match reply {
                    Reply::Frame(reply) => {
                        let _ = tx.send(reply.freeze()).await;
                    }
                    Reply::Nothing => {}
                    // Closing is the only honest answer the caller can get.
                    Reply::Unanswerable => kill.notify_one(),
                }
            });
            true
        }
        // Responses, heartbeat replies and goaways from an application are
        // not expected on a listener: ignored.
        _ => true,
    }
}
