//! Socket plumbing shared by every listener and connection: the accept loop
//! and the writer task that coalesces queued frames into few writes.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// Frames coalesced into one write at most.
const MAX_BATCH: usize = 64;
/// A coalescing buffer grown beyond this by large frames is not kept.
const MAX_KEPT_BUFFER: usize = 256 * 1024;

/// Accept connections (with `TCP_NODELAY`) and hand each to `on_accept`,
/// until `shutdown` changes.
pub(crate) async fn accept_until(
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    mut on_accept: impl FnMut(TcpStream),
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        on_accept(stream);
    }
}

/// Write every frame queued on `rx`, coalescing what is queued at once; stop
/// when every sender is gone or a write fails. `on_write` runs before each write.
///
/// After the first frame arrives the task yields once, so that the requests
/// or responses being produced on the other worker at that moment join the
/// same write: under load one `send` carries many frames instead of one each.
pub(crate) async fn write_frames<W: AsyncWrite + Unpin>(
    mut write: W,
    mut rx: mpsc::Receiver<Bytes>,
    on_write: impl Fn(),
) {
    let mut out = BytesMut::new();
    while let Some(first) = rx.recv().await {
        on_write();
        if rx.is_empty() {
            tokio::task::yield_now().await;
        }
        let written = match rx.try_recv() {
            // One frame: written as it is, without a copy.
            Err(_) => write.write_all(&first).await,
            Ok(second) => {
                out.extend_from_slice(&first);
                out.extend_from_slice(&second);
                for _ in 2..MAX_BATCH {
                    match rx.try_recv() {
                        Ok(frame) => out.extend_from_slice(&frame),
                        Err(_) => break,
                    }
                }
                let written = write.write_all(&out).await;
                out.clear();
                if out.capacity() > MAX_KEPT_BUFFER {
                    out = BytesMut::new();
                }
                written
            }
        };
        if written.is_err() {
            return;
        }
    }
}
