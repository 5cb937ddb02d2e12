//! The tokio-util adapter frames a real TCP stream on 127.0.0.1, whatever the
//! write boundaries are.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{FramedRead, FramedWrite};
use xprotocol_bolt::{BoltCodec, testdata};
use xprotocol_core::tokio_codec::{FrameCodec, FramedError};
use xprotocol_core::{Codec, Error};

#[tokio::test]
async fn frames_a_tcp_stream_written_in_odd_chunks() {
    let codec: Arc<dyn Codec> = Arc::new(BoltCodec::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut stream_bytes = Vec::new();
    for _ in 0..3 {
        stream_bytes.extend_from_slice(&testdata::REQUEST_151);
        stream_bytes.extend_from_slice(testdata::RESPONSE_111);
    }
    let expected = stream_bytes.clone();
    let writer = tokio::spawn(async move {
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        for chunk in stream_bytes.chunks(7) {
            socket.write_all(chunk).await.unwrap();
            socket.flush().await.unwrap();
        }
        // A frame cut short, then EOF: the reader must report an error, not a frame.
        socket
            .write_all(&testdata::REQUEST_151[..30])
            .await
            .unwrap();
    });
    let (socket, _) = listener.accept().await.unwrap();
    let mut frames = FramedRead::new(socket, FrameCodec::new(codec.clone()));
    let mut got = Vec::new();
    for _ in 0..6 {
        got.extend_from_slice(&frames.next().await.unwrap().unwrap());
    }
    assert_eq!(got, expected);
    let tail = frames.next().await.unwrap();
    assert!(matches!(tail, Err(FramedError::Io(_))), "{tail:?}");
    writer.await.unwrap();
}

#[tokio::test]
async fn framing_errors_surface_as_codec_errors_and_writes_pass_through() {
    let codec: Arc<dyn Codec> = Arc::new(BoltCodec::new());
    let (client, server) = tokio::io::duplex(1024);
    let mut sink = FramedWrite::new(client, FrameCodec::new(codec.clone()));
    sink.send(Bytes::from_static(&testdata::REQUEST_151))
        .await
        .unwrap();
    sink.send(Bytes::from_static(b"\x07garbage-that-is-not-bolt"))
        .await
        .unwrap();
    let mut frames = FramedRead::new(server, FrameCodec::new(codec));
    assert_eq!(
        &frames.next().await.unwrap().unwrap()[..],
        &testdata::REQUEST_151[..]
    );
    let err = frames.next().await.unwrap().unwrap_err();
    assert!(
        matches!(err, FramedError::Codec(Error::BadMagic { found: 0x07, .. })),
        "{err}"
    );
}
