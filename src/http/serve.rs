//! The HTTP accept loop (in place of `axum::serve`, which has no timeouts): each connection
//! must send a request's headers within `header_read` of its first byte, its body within
//! `body_read`, and is closed after `idle` without a request; past `max_connections` a new
//! connection gets a 503 `ServiceUnavailable` and is closed. hyper's own bare answers to
//! malformed requests (400, 414, 431) are replaced by AWS `ErrorResponse` bodies on the way
//! out (see [`timed_io`](super::timed_io)).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::guard::Guard;
use super::protocol_errors::HttpError;
use super::timed_io::{Phase, TimedIo};

/// The largest request body read (the biggest real request is a few KiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    pub header_read: Duration,
    pub body_read: Duration,
    pub idle: Duration,
    pub max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    guard: Arc<Guard>,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut accept_delay: Option<Duration> = None;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => {
                accept_delay = None;
                tcp
            }
            Err(error) => {
                // Out of descriptors the pending connection stays queued: wait, do not spin.
                let delay = accept_delay.map_or(Duration::from_millis(10), |d| {
                    (d * 2).min(Duration::from_secs(1))
                });
                if accept_delay.is_none() {
                    tracing::error!(%error, "cannot accept an API connection (the server is out of resources); retrying with backoff");
                }
                accept_delay = Some(delay);
                tokio::time::sleep(delay).await;
                continue;
            }
        };
        // Responses go out as soon as they are written: with Nagle's algorithm a large
        // answer's last segment can wait for the client's ACK.
        let _ = tcp.set_nodelay(true);
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let app = app.clone();
                let guard = Arc::clone(&guard);
                tokio::spawn(async move {
                    serve_connection(tcp, app, guard, limits).await;
                    drop(permit);
                });
            }
            Err(_) => {
                tokio::spawn(refuse(tcp, limits.max_connections));
            }
        }
    }
}

async fn serve_connection(tcp: TcpStream, app: Router, guard: Arc<Guard>, limits: ServeLimits) {
    let phase = Phase::new();
    let io = TokioIo::new(TimedIo::new(
        tcp,
        phase.clone(),
        limits.header_read,
        limits.idle,
    ));
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let app = app.clone();
        let guard = Arc::clone(&guard);
        let busy = phase.enter_request();
        async move {
            let response = answer(app, &guard, request, limits.body_read).await;
            drop(busy);
            Ok::<_, Infallible>(response)
        }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if let Err(error) = builder.serve_connection(io, service).await {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// Reads the whole body within `body_read` (and at most [`MAX_BODY_BYTES`]), then runs `app`
/// unless `guard` refuses the request.
async fn answer(
    app: Router,
    guard: &Guard,
    request: Request<Incoming>,
    body_read: Duration,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let mut read = std::pin::pin!(axum::body::to_bytes(Body::new(body), MAX_BODY_BYTES));
    // A small body has nearly always arrived with the headers: one poll reads it without
    // registering a timer; only a body still on its way gets the `body_read` deadline.
    let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
    let read = match first {
        Poll::Ready(read) => Ok(read),
        Poll::Pending => tokio::time::timeout(body_read, read).await,
    };
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            // The code the server has always sent for this (an oversized form body).
            let error = HttpError::new(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValue",
                format!("The request body is larger than {MAX_BODY_BYTES} bytes, or was cut off."),
            );
            return error.response_for(path);
        }
        Err(_) => {
            tracing::info!(
                path,
                timeout_ms = body_read.as_millis() as u64,
                "request body not received in time: connection closed"
            );
            let error = HttpError::new(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeout",
                format!(
                    "The request body was not received within {} ms.",
                    body_read.as_millis()
                ),
            );
            let mut response = error.response_for(path);
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            return response;
        }
    };
    if let Some(refusal) = guard.refusal(&parts, &bytes) {
        return refusal;
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    match app.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Past the connection cap: a 503 the SDKs retry, then close.
async fn refuse(mut tcp: TcpStream, max_connections: usize) {
    tracing::warn!(
        max_connections,
        "connection refused: too many open connections"
    );
    let error = HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        format!(
            "The server already has {max_connections} open connections (--max-connections); retry later."
        ),
    );
    let _ = tcp.write_all(&error.raw_http1()).await;
    let _ = tcp.shutdown().await;
    // Drain what the client sent, briefly, so closing does not reset the connection before
    // the client has read the answer.
    let mut sink = [0u8; 1024];
    let drain = async { while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}
