//! HTTP/2 listeners: peer sidecars send each RPC as an HTTP/2 stream; it is
//! turned back into the native frame, routed and forwarded like any request,
//! and the native response (or local reply) goes back as HTTP/2.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use http::{HeaderValue, Request, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use xprotocol_core::Http2Message;
use xprotocol_core::transcoding::names;

use crate::cluster::{CLUSTER_HEADER, TIMEOUT_HEADER};
use crate::peer::{accept_h2, never_index_per_message_values, read_body};
use crate::proxy::{PeerHints, Reply, Shared};
use crate::transport::accept_until;

/// Accept HTTP/2 connections from peers until shutdown.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: watch::Receiver<bool>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let connections = shutdown.clone();
    accept_until(listener, shutdown, |tcp| {
        let (shared, acceptor, shutdown) = (shared.clone(), acceptor.clone(), connections.clone());
        tokio::spawn(async move {
            match acceptor {
                None => connection(tcp, shared, shutdown).await,
                Some(acceptor) => {
                    let handshake = acceptor.accept(tcp);
                    // An untrusted or missing client certificate ends here.
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(Duration::from_secs(5), handshake).await
                    {
                        connection(tls, shared, shutdown).await;
                    }
                }
            }
        });
    })
    .await;
}

async fn connection<T>(io: T, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let Ok(mut conn) = accept_h2(
        io,
        shared.options.max_concurrent_streams,
        Duration::from_secs(5),
    )
    .await
    else {
        return;
    };
    shared.stats.peer_connections_accepted.inc();
    loop {
        let next = tokio::select! {
            next = conn.accept() => next,
            _ = shutdown.changed() => return,
        };
        match next {
            Some(Ok((request, respond))) => {
                tokio::spawn(stream(request, respond, shared.clone()));
            }
            Some(Err(_)) | None => return,
        }
    }
}

fn plain_status(status: StatusCode, reason: &str) -> Response<()> {
    let mut response = Response::new(());
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(reason) {
        response.headers_mut().insert("xp-sidecar-error", value);
    }
    response
}

async fn stream(
    request: Request<h2::RecvStream>,
    mut respond: SendResponse<Bytes>,
    shared: Arc<Shared>,
) {
    let (parts, body) = request.into_parts();
    let Ok(body) = read_body(body, shared.options.max_frame_len).await else {
        let _ = respond.send_response(plain_status(StatusCode::PAYLOAD_TOO_LARGE, "body"), true);
        return;
    };
    let message = Http2Message::Request(Request::from_parts(parts, body));
    let headers = message.headers();
    let protocol = headers
        .get(names::PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(codec) = shared.registry.get(protocol).cloned() else {
        let _ = respond.send_response(plain_status(StatusCode::NOT_IMPLEMENTED, "protocol"), true);
        return;
    };
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let hints = PeerHints {
        cluster: text(CLUSTER_HEADER).map(str::to_owned),
        timeout: text(TIMEOUT_HEADER)
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis),
    };
    let native = codec
        .transcoding()
        .and_then(|t| t.from_http2(&message).ok())
        .map(|parts| BytesMut::from(parts.to_bytes()));
    let head = native
        .as_ref()
        .and_then(|frame| codec.multiplexing()?.frame_head(frame).ok());
    let (Some(frame), Some(head)) = (native, head) else {
        let _ = respond.send_response(plain_status(StatusCode::BAD_REQUEST, "transcode"), true);
        return;
    };
    match shared.dispatch(&codec, frame, head, Some(&hints)).await {
        Reply::Frame(reply) => {
            let transcoded = codec.transcoding().map(|t| t.to_http2(&reply.freeze()));
            match transcoded {
                Some(Ok(Http2Message::Response(mut response))) => {
                    never_index_per_message_values(response.headers_mut());
                    let (parts, body) = response.into_parts();
                    let end = body.is_empty();
                    let sent = respond.send_response(Response::from_parts(parts, ()), end);
                    if let (Ok(mut send), false) = (sent, end) {
                        let _ = send.send_data(body, true);
                    }
                }
                _ => {
                    let _ = respond.send_response(
                        plain_status(StatusCode::BAD_GATEWAY, "transcode reply"),
                        true,
                    );
                }
            }
        }
        Reply::Nothing => {
            let _ = respond.send_response(plain_status(StatusCode::NO_CONTENT, ""), true);
        }
        Reply::Unanswerable => {
            let _ = respond.send_response(
                plain_status(StatusCode::BAD_GATEWAY, "no native reply"),
                true,
            );
        }
    }
}
