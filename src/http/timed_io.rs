//! The socket under each HTTP connection, with the connection's deadlines: while no request
//! is in flight, a read that has to wait past the idle deadline (no byte of a next request) or
//! the header deadline (a request begun but its headers not complete) fails with `TimedOut`,
//! which makes hyper close the connection. It also swaps hyper's own bare answers to requests
//! it cannot parse (400, 414, 431 with `content-length: 0`; no handler ever sends those
//! without a body) for AWS `ErrorResponse` bodies.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::protocol_errors::HttpError;

#[derive(Debug)]
struct PhaseState {
    in_flight: usize,
    /// When the connection last became idle (opened, or its last request answered).
    idle_since: Option<Instant>,
    /// When the first byte of a request arrived, until its headers are parsed.
    headers_since: Option<Instant>,
    /// The reader that waited without a deadline while a request was in flight: woken when
    /// the connection turns idle, so that it waits again with the idle deadline.
    reader: Option<std::task::Waker>,
}

/// Where a connection is: idle, reading a request's headers, or serving requests.
#[derive(Debug, Clone)]
pub struct Phase(Arc<Mutex<PhaseState>>);

/// Held while a request is served (its body read, its handler run).
pub struct InFlight(Phase);

impl Phase {
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(PhaseState {
            in_flight: 0,
            idle_since: Some(Instant::now()),
            headers_since: None,
            reader: None,
        })))
    }

    fn with<T>(&self, f: impl FnOnce(&mut PhaseState) -> T) -> T {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut state)
    }

    pub fn enter_request(&self) -> InFlight {
        self.with(|s| {
            s.in_flight += 1;
            s.idle_since = None;
            s.headers_since = None;
        });
        InFlight(self.clone())
    }

    fn bytes_read(&self) {
        self.with(|s| {
            if s.in_flight == 0 && s.headers_since.is_none() {
                s.headers_since = Some(Instant::now());
                s.idle_since = None;
            }
        });
    }

    /// The deadline of the current wait, and what it is for; without one, `waker` is kept
    /// to be woken when the connection turns idle.
    fn deadline(
        &self,
        header_read: Duration,
        idle: Duration,
        waker: &std::task::Waker,
    ) -> Option<(Instant, &'static str)> {
        self.with(|s| match (s.in_flight, s.headers_since, s.idle_since) {
            (0, Some(since), _) => Some((since + header_read, "request headers not complete")),
            (0, None, Some(since)) => Some((since + idle, "idle")),
            _ => {
                s.reader = Some(waker.clone());
                None
            }
        })
    }
}

impl Default for Phase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let reader = self.0.with(|s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            if s.in_flight > 0 {
                return None;
            }
            s.idle_since = Some(Instant::now());
            s.reader.take()
        });
        if let Some(reader) = reader {
            reader.wake();
        }
    }
}

pub struct TimedIo {
    inner: TcpStream,
    phase: Phase,
    header_read: Duration,
    idle: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    /// A replacement answer still to be written.
    pending: Vec<u8>,
}

impl TimedIo {
    pub fn new(inner: TcpStream, phase: Phase, header_read: Duration, idle: Duration) -> Self {
        Self {
            inner,
            phase,
            header_read,
            idle,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            pending: Vec::new(),
        }
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

/// hyper's automatic answer to an unparsable request, as the AWS error to send instead.
fn replacement_for(head: &[u8]) -> Option<HttpError> {
    // Every answer passes here: only a 400, 414 or 431 status line is read any further.
    let status = head.get(9..12)?;
    if !head.starts_with(b"HTTP/1.") || !matches!(status, b"400" | b"414" | b"431") {
        return None;
    }
    let text = std::str::from_utf8(head.get(..head.len().min(512))?).ok()?;
    let rest = text
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| text.strip_prefix("HTTP/1.0 "))?;
    let end = text.find("\r\n\r\n")?;
    if !text[..end]
        .to_ascii_lowercase()
        .contains("\r\ncontent-length: 0")
    {
        return None;
    }
    let (status, code, message) = match rest.get(..3)? {
        "400" => (
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The request is not valid HTTP/1.1.",
        ),
        "414" => (
            StatusCode::URI_TOO_LONG,
            "RequestURITooLong",
            "The request URI is too long.",
        ),
        "431" => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "RequestHeaderFieldsTooLarge",
            "The request headers are too large or too many.",
        ),
        _ => return None,
    };
    tracing::info!(status = status.as_u16(), code, "malformed request answered");
    Some(HttpError::new(status, code, message))
}

fn timed_out(what: &'static str) -> io::Error {
    tracing::debug!(reason = what, "connection closed by its timeout");
    io::Error::new(io::ErrorKind::TimedOut, what)
}

impl AsyncRead for TimedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.phase.bytes_read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => {
                let Some((deadline, what)) =
                    this.phase.deadline(this.header_read, this.idle, cx.waker())
                else {
                    return Poll::Pending;
                };
                let now = Instant::now();
                if now >= deadline {
                    return Poll::Ready(Err(timed_out(what)));
                }
                // Each answered request moves the idle deadline later; re-arming the timer for
                // every request costs a trip through tokio's timer wheel. The armed timer is
                // moved only to come sooner or once it has fired; firing early only wakes this
                // read, which then arms the real deadline.
                let armed = this.sleep.deadline().into_std();
                if deadline < armed || armed <= now {
                    this.sleep.as_mut().reset(deadline.into());
                }
                while this.sleep.as_mut().poll(cx).is_ready() {
                    if Instant::now() >= deadline {
                        return Poll::Ready(Err(timed_out(what)));
                    }
                    this.sleep.as_mut().reset(deadline.into());
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if let Some(error) = replacement_for(buf) {
            this.pending = error.raw_http1();
            // The bare answer counts as written; the replacement goes out in its place.
            let _ = this.poll_drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        // hyper writes a head in a buffer of its own, the first; its bare error answers
        // (no body) are that buffer alone.
        if let Some(head) = bufs.first()
            && let Some(error) = replacement_for(head)
        {
            this.pending = error.raw_http1();
            let _ = this.poll_drain(cx)?;
            return Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        // One writev of head and body, not a copy of both into one buffer first.
        self.inner.is_write_vectored()
    }
}
