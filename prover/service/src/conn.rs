//! Connection limits of the gRPC port: at most `max_connections` open
//! connections (one past it is closed at once), and a connection that has
//! not finished its TLS handshake and sent a complete request within
//! `handshake_timeout_s` is closed, so slow or silent connections cannot
//! use up the node's file descriptors. HTTP/2 keepalive pings and the
//! per-connection stream limit are tonic's own settings (`lib.rs`).
//!
//! The accept loop wraps each TCP stream in a [`Conn`] that holds a permit
//! of the connection cap and a deadline; [`ConnLayer`] marks the
//! connection served when a request arrives (the deadline then no longer
//! applies) and maps tonic's OUT_OF_RANGE for an oversized message to
//! RESOURCE_EXHAUSTED, gRPC's code for it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tonic::codegen::http;
use tonic::transport::server::{Connected, TlsConnectInfo};

/// The limits [`incoming`] applies.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Time to finish the handshake and send a first complete request.
    pub handshake_timeout: Duration,
}

/// What the server knows of a connection (a request's extension).
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The peer.
    pub remote: SocketAddr,
    served: Arc<AtomicBool>,
}

impl ConnInfo {
    /// Marks the connection as having sent a complete request.
    fn mark_served(&self) {
        self.served.store(true, Ordering::Relaxed);
    }
}

/// An accepted connection: the TCP stream, a permit of the connection cap
/// (released when the connection is dropped) and the first-request
/// deadline.
#[derive(Debug)]
pub struct Conn {
    io: TcpStream,
    info: ConnInfo,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    _permit: OwnedSemaphorePermit,
}

impl Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        self.info.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.info.served.load(Ordering::Relaxed) {
            this.deadline = None;
        }
        if let Some(d) = &mut this.deadline {
            // Polled on every read, so the timer wakes a connection that
            // waits for bytes that never come.
            if d.as_mut().poll(cx).is_ready() {
                tracing::debug!(remote = %this.info.remote, "closing a connection that sent no request in time");
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no complete request within handshake_timeout_s",
                )));
            }
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Accepts connections on `listener` within `limits`, until the returned
/// stream is dropped. Accept errors (out of file descriptors) are logged
/// and retried after a pause; they never end the server.
pub fn incoming(
    listener: TcpListener,
    limits: ConnLimits,
) -> tokio_stream::wrappers::ReceiverStream<io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(64);
    let cap = Arc::new(Semaphore::new(limits.max_connections));
    tokio::spawn(async move {
        let refused = AtomicU64::new(0);
        loop {
            let accepted = tokio::select! {
                r = listener.accept() => r,
                _ = tx.closed() => return,
            };
            let (stream, remote) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = cap.clone().try_acquire_owned() else {
                // Over the cap: closed at once (the peer sees a reset or
                // EOF and may retry), logged once per 1000.
                if refused.fetch_add(1, Ordering::Relaxed).is_multiple_of(1000) {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        %remote,
                        "connection limit reached: closing new connections"
                    );
                }
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let conn = Conn {
                io: stream,
                info: ConnInfo {
                    remote,
                    served: Arc::new(AtomicBool::new(false)),
                },
                deadline: Some(Box::pin(tokio::time::sleep(limits.handshake_timeout))),
                _permit: permit,
            };
            if tx.send(Ok(conn)).await.is_err() {
                return;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// The layer of [`ConnService`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnLayer;

impl<S> tower::Layer<S> for ConnLayer {
    type Service = ConnService<S>;

    fn layer(&self, inner: S) -> ConnService<S> {
        ConnService { inner }
    }
}

/// Marks a request's connection served, and answers an oversized message
/// with RESOURCE_EXHAUSTED where tonic says OUT_OF_RANGE.
#[derive(Debug, Clone)]
pub struct ConnService<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for ConnService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<http::Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let ext = req.extensions();
        if let Some(info) = ext.get::<ConnInfo>() {
            info.mark_served();
        } else if let Some(info) = ext.get::<TlsConnectInfo<ConnInfo>>() {
            info.get_ref().mark_served();
        }
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut resp = fut.await?;
            oversized_to_resource_exhausted(resp.headers_mut());
            Ok(resp)
        })
    }
}

/// tonic refuses a message over the size limit with OUT_OF_RANGE ("decoded
/// message length too large"), in the headers of a trailers-only response;
/// gRPC's convention for it is RESOURCE_EXHAUSTED.
fn oversized_to_resource_exhausted(headers: &mut http::HeaderMap) {
    let out_of_range = headers
        .get("grpc-status")
        .is_some_and(|v| v.as_bytes() == b"11");
    if !out_of_range {
        return;
    }
    let oversized = headers.get("grpc-message").is_some_and(|m| {
        let m = String::from_utf8_lossy(m.as_bytes()).replace("%20", " ");
        m.contains("decoded message length too large")
    });
    if oversized {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_messages_become_resource_exhausted() {
        let status = tonic::Status::out_of_range(
            "Error, decoded message length too large: found 5000000 bytes, the limit is: 4194304 bytes",
        );
        let mut resp = status.into_http::<()>();
        let h = resp.headers_mut();
        oversized_to_resource_exhausted(h);
        let back = tonic::Status::from_header_map(h).unwrap();
        assert_eq!(back.code(), tonic::Code::ResourceExhausted);
        assert!(back.message().contains("too large"));
        // Another OUT_OF_RANGE stays.
        let mut resp = tonic::Status::out_of_range("slot 9 is past the epoch").into_http::<()>();
        oversized_to_resource_exhausted(resp.headers_mut());
        assert_eq!(
            tonic::Status::from_header_map(resp.headers())
                .unwrap()
                .code(),
            tonic::Code::OutOfRange
        );
    }
}
