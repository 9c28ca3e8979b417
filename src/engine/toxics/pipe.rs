//! The copy loop of one proxied connection with its proxy's toxics applied per direction:
//! what the endpoint proxy runs instead of `copy_bidirectional`. Bytes go straight through
//! while no toxic acts on the direction; otherwise each chunk goes through the chain and is
//! written when its time comes, while reading goes on (so latency does not cut throughput).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use super::chain::Chain;
use super::registry::{ConnectionLink, ProxyConfig, ToxicRegistry};
use super::{Chunk, Item, Rng, Stream};

/// How many chunks may wait in one direction before reading stops (Toxiproxy buffers 1024
/// chunks in front of a latency toxic).
const MAX_QUEUED: usize = 1024;
const READ_BUFFER: usize = 16 * 1024;

/// How one direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The source closed and the destination was half-closed: the other direction goes on.
    Eof,
    /// A toxic closed the connection, a write failed, or the proxy was disabled.
    Close,
    /// A toxic reset the connection.
    Reset,
}

/// Copies between `client` (accepted on an endpoint's port) and `upstream` until both sides
/// close or a toxic ends the connection.
pub async fn pipe(client: &mut TcpStream, upstream: &mut TcpStream) {
    if pipe_to(client, upstream).await {
        let _ = upstream.set_zero_linger();
    }
}

/// [`pipe`] to an upstream of any kind (a memcached node's forwarder, in memory). True when a
/// toxic reset the connection: the client's side is reset already; the caller resets (or
/// drops) the upstream's.
pub async fn pipe_to<U>(client: &mut TcpStream, upstream: &mut U) -> bool
where
    U: AsyncRead + AsyncWrite + Unpin,
{
    let Some(link) = link_of(client) else {
        let _ = tokio::io::copy_bidirectional(client, upstream).await;
        return false;
    };
    let ending = {
        let (client_read, client_write) = client.split();
        let (upstream_read, upstream_write) = tokio::io::split(&mut *upstream);
        through_toxics(
            &link,
            client_read,
            client_write,
            upstream_read,
            upstream_write,
        )
        .await
    };
    if ending == Ending::Reset {
        let _ = client.set_zero_linger();
    }
    ending == Ending::Reset
}

/// The toxics of the proxy listening where `client` was accepted, if one does.
fn link_of(client: &TcpStream) -> Option<ConnectionLink> {
    match client.local_addr().ok()? {
        std::net::SocketAddr::V4(address) => ToxicRegistry::global().connect(address),
        std::net::SocketAddr::V6(_) => None,
    }
}

/// Both directions through `link`'s toxics, until both end or one is closed or reset.
async fn through_toxics<CR, CW, UR, UW>(
    link: &ConnectionLink,
    mut client_read: CR,
    mut client_write: CW,
    mut upstream_read: UR,
    mut upstream_write: UW,
) -> Ending
where
    CR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
    UR: AsyncRead + Unpin,
    UW: AsyncWrite + Unpin,
{
    if !link.config.borrow().enabled {
        return Ending::Close; // a disabled proxy closes what it accepts
    }
    let up = pump(
        &mut client_read,
        &mut upstream_write,
        Stream::Upstream,
        link.config.clone(),
        link.rng.derive(&[b"upstream"]),
    );
    let down = pump(
        &mut upstream_read,
        &mut client_write,
        Stream::Downstream,
        link.config.clone(),
        link.rng.derive(&[b"downstream"]),
    );
    let ending = both(up, down).await;
    tracing::debug!(proxy = %link.proxy, ?ending, "proxied connection ended");
    ending
}

/// Runs both directions: done when both reach EOF, or at once when one is closed or reset.
async fn both(up: impl Future<Output = Ending>, down: impl Future<Output = Ending>) -> Ending {
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    while !(up_done && down_done) {
        let ending = tokio::select! {
            ending = &mut up, if !up_done => { up_done = true; ending }
            ending = &mut down, if !down_done => { down_done = true; ending }
        };
        if ending != Ending::Eof {
            return ending;
        }
    }
    Ending::Eof
}

/// One direction: reads `src`, runs the chunks through this direction's toxics, writes `dst`.
async fn pump<R, W>(
    src: &mut R,
    dst: &mut W,
    stream: Stream,
    mut config: watch::Receiver<Arc<ProxyConfig>>,
    rng: Rng,
) -> Ending
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut chain = Chain::new(rng);
    let mut queue: VecDeque<Item> = VecDeque::new();
    let mut out = Vec::new();
    let initial = config.borrow_and_update().clone();
    chain.reconcile(&initial.toxics_of(stream), Instant::now(), &mut out);
    queue.extend(out.drain(..));
    let mut buf = vec![0u8; READ_BUFFER];
    let (mut reading, mut following) = (true, true);
    let never = Instant::now() + Duration::from_secs(365 * 86_400);
    loop {
        if let Some(ending) = deliver_due(&mut queue, dst).await {
            return ending;
        }
        let due = queue.front().map(Item::at);
        let wake = chain.wake_at();
        tokio::select! {
            biased;
            changed = config.changed(), if following => {
                if changed.is_err() {
                    following = false; // the proxy is gone: its connections end with it
                    continue;
                }
                let current = config.borrow_and_update().clone();
                if !current.enabled {
                    return Ending::Close;
                }
                chain.reconcile(&current.toxics_of(stream), Instant::now(), &mut out);
            }
            _ = sleep_until(due.unwrap_or(never)), if due.is_some() => {}
            _ = sleep_until(wake.unwrap_or(never)), if wake.is_some() => {
                chain.wake(Instant::now(), &mut out);
            }
            read = src.read(&mut buf), if reading && queue.len() < MAX_QUEUED => {
                let at = Instant::now();
                match read {
                    Ok(n) if n > 0 && chain.is_idle() && queue.is_empty() => {
                        if dst.write_all(&buf[..n]).await.is_err() {
                            return Ending::Close;
                        }
                    }
                    Ok(n) if n > 0 => {
                        let data = buf[..n].to_vec();
                        chain.push(Item::Data(Chunk { data, at }), &mut out);
                    }
                    _ => {
                        reading = false;
                        chain.push(Item::End { at }, &mut out);
                    }
                }
            }
        }
        queue.extend(out.drain(..));
    }
}

/// Delivers the queue's items that are due, in order; `Some` when the direction is over.
async fn deliver_due<W: AsyncWrite + Unpin>(
    queue: &mut VecDeque<Item>,
    dst: &mut W,
) -> Option<Ending> {
    while queue
        .front()
        .is_some_and(|item| item.at() <= Instant::now())
    {
        let item = queue.pop_front()?;
        if let Some(ending) = deliver(item, dst).await {
            return Some(ending);
        }
    }
    None
}

/// Writes or acts on one item that is due; `Some` when the direction is over.
async fn deliver<W: AsyncWrite + Unpin>(item: Item, dst: &mut W) -> Option<Ending> {
    match item {
        Item::Data(chunk) => dst
            .write_all(&chunk.data)
            .await
            .is_err()
            .then_some(Ending::Close),
        Item::End { .. } => {
            let _ = dst.shutdown().await;
            Some(Ending::Eof)
        }
        Item::Close { .. } => Some(Ending::Close),
        Item::Reset { .. } => Some(Ending::Reset),
    }
}
