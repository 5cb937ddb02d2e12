//! Socket plumbing shared by every listener and connection: the accept loop
//! and the writer task that coalesces queued frames into few writes.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// Frames coalesced into one write at most.
const MAX_BATCH: usize = 64;

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
pub(crate) async fn write_frames<W: AsyncWrite + Unpin>(
    mut write: W,
    mut rx: mpsc::Receiver<Bytes>,
    on_write: impl Fn(),
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        on_write();
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(frame) => batch.push(frame),
                Err(_) => break,
            }
        }
        let written = write_all_frames(&mut write, &batch).await;
        batch.clear();
        if written.is_err() {
            return;
        }
    }
}

/// Write frames, copying several small ones into one buffer.
async fn write_all_frames<W: AsyncWrite + Unpin>(
    write: &mut W,
    frames: &[Bytes],
) -> std::io::Result<()> {
    if let [one] = frames {
        return write.write_all(one).await;
    }
    let total: usize = frames.iter().map(Bytes::len).sum();
    let mut out = BytesMut::with_capacity(total);
    for frame in frames {
        out.extend_from_slice(frame);
    }
    write.write_all(&out).await
}
