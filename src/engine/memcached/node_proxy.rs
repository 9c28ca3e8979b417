//! A memcached node's address: a TCP listener the server holds on a loopback address of its
//! own, forwarding each connection to the node's memcached over its Unix socket. It is the
//! node's proxy in the toxics registry (`<CacheClusterId>-<node id>`) for its whole life, and
//! every connection passes its toxics (see [`serve`]). It answers the Auto Discovery
//! commands itself (real memcached does not know them) and forwards everything else byte for
//! byte. Binary-protocol connections (first byte 0x80) are forwarded untouched. Text ones are
//! read command by command: a line is examined only at a command boundary, and a storage
//! command's data block is forwarded without looking at it, so a value that happens to contain
//! `config get cluster` is stored, not answered.
//!
//! Replies stay in order when a client pipelines: the Discovery command is replaced upstream
//! by a marker (`mg` of an absent key with a random opaque token, which memcached echoes as
//! `EN O<token>`), and the reply is spliced into the response stream where the marker's answer
//! comes back, after every reply to the commands sent before it.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddrV4;
use std::path::PathBuf;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::unix::{OwnedReadHalf as UnixRead, OwnedWriteHalf as UnixWrite};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::discovery::{DiscoveryCommand, SharedTopology, TextCommand, classify_line};
use crate::engine::address::AddressPool;
use crate::engine::toxics::registry::Registration;
use crate::engine::toxics::{ToxicRegistry, pipe_to};

/// Longer lines are forwarded without being examined: memcached refuses them anyway, and no
/// command line the proxy must recognise comes close.
const MAX_EXAMINED_LINE: usize = 8192;
const BINARY_MAGIC: u8 = 0x80;
/// What may wait between a connection's toxics and its forwarder (both in one task).
const IN_MEMORY_BUFFER: usize = 64 * 1024;

pub(crate) struct NodeProxy {
    addr: SocketAddrV4,
    closed: watch::Sender<bool>,
    accept_task: JoinHandle<()>,
    /// Lists the node as a proxy of the toxics registry while it lives: the node's network,
    /// not its process, so a replaced node keeps its toxics.
    _toxics: Registration,
}

impl NodeProxy {
    /// Binds `wanted` when it names a free address (a node brought back after a restart), else
    /// an address of its own from `pool` at its port (or 127.0.0.1 with a free port, where the
    /// pool falls back); the listener is held for the node's whole life, so a replaced node
    /// keeps its address and no other process can take it.
    ///
    /// The node is the toxics proxy `proxy_name`, from the start: this listener is the front
    /// its toxics need, so they act at once (no port to move, unlike a Redis node's).
    pub async fn bind(
        proxy_name: &str,
        socket: PathBuf,
        topology: SharedTopology,
        pool: &AddressPool,
        wanted: SocketAddrV4,
    ) -> io::Result<Self> {
        let listener = pool.bind_endpoint_at(wanted).await?;
        let addr = match listener.local_addr()? {
            std::net::SocketAddr::V4(addr) => addr,
            other => return Err(io::Error::other(format!("not an IPv4 address: {other}"))),
        };
        let toxics = ToxicRegistry::global().register_socket(proxy_name, addr, &socket);
        let (closed, closed_rx) = watch::channel(false);
        let accept_task = tokio::spawn(accept_loop(listener, socket, topology, closed_rx));
        tracing::info!(node = proxy_name, %addr, "memcached node proxy listening");
        Ok(Self {
            addr,
            closed,
            accept_task,
            _toxics: toxics,
        })
    }

    pub fn addr(&self) -> SocketAddrV4 {
        self.addr
    }

    /// Stops listening and drops every connection.
    pub fn close(&self) {
        self.closed.send_replace(true);
        self.accept_task.abort();
    }
}

impl Drop for NodeProxy {
    fn drop(&mut self) {
        self.close();
    }
}

async fn accept_loop(
    listener: TcpListener,
    socket: PathBuf,
    topology: SharedTopology,
    closed: watch::Receiver<bool>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let (socket, topology, mut closed) = (socket.clone(), topology.clone(), closed.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = serve(client, socket, topology) => {}
                _ = closed.wait_for(|c| *c) => {}
            }
        });
    }
}

/// Each connection passes the node's toxics (its proxy in the toxics registry, listening at
/// this address) on its way to the forwarder that speaks to memcached, so they act on the
/// bytes as the client sends and receives them, Auto Discovery replies included. The two are
/// joined in memory; they run in this one task.
async fn serve(mut client: TcpStream, socket: PathBuf, topology: SharedTopology) {
    let _ = client.set_nodelay(true);
    let (mut toxic_side, forwarder_side) = tokio::io::duplex(IN_MEMORY_BUFFER);
    let toxics = async move {
        // A reset is the client's to see (its side is reset already); the forwarder's side
        // just ends, and memcached sees the connection closed.
        pipe_to(&mut client, &mut toxic_side).await;
    };
    tokio::join!(toxics, forward(forwarder_side, socket, topology));
}

async fn forward(client: DuplexStream, socket: PathBuf, topology: SharedTopology) {
    let Ok(upstream) = UnixStream::connect(&socket).await else {
        return; // the node is down: the client sees its connection closed, as with a dead host
    };
    let (mut client_read, client_write) = tokio::io::split(client);
    let mut first = vec![0u8; 16 * 1024];
    match client_read.read(&mut first).await {
        Ok(0) | Err(_) => return,
        Ok(n) => first.truncate(n),
    }
    let binary = first[0] == BINARY_MAGIC;
    let client_read = std::io::Cursor::new(first).chain(client_read);
    let (upstream_read, upstream_write) = upstream.into_split();
    if binary {
        until_replies_end(
            copy_then_shutdown(client_read, upstream_write),
            copy_then_shutdown(upstream_read, client_write),
        )
        .await;
        return;
    }
    let (markers, pending) = mpsc::unbounded_channel();
    until_replies_end(
        forward_requests(client_read, upstream_write, markers),
        forward_replies(upstream_read, client_write, pending, topology),
    )
    .await;
}

/// A client that has finished sending still gets every reply; a node that closes (or dies)
/// ends the connection at once, as the client would see without the proxy.
async fn until_replies_end<R, P>(requests: R, replies: P)
where
    R: std::future::Future,
    P: std::future::Future,
{
    tokio::pin!(requests, replies);
    tokio::select! {
        _ = &mut replies => {}
        _ = &mut requests => { replies.await; }
    }
}

async fn copy_then_shutdown(
    mut from: impl tokio::io::AsyncRead + Unpin,
    mut to: impl tokio::io::AsyncWrite + Unpin,
) {
    let _ = tokio::io::copy(&mut from, &mut to).await;
    let _ = to.shutdown().await;
}

/// A Discovery command replaced upstream by `marker`, whose echo is `echo`.
struct Marker {
    command: DiscoveryCommand,
    echo: Vec<u8>,
}

/// Where the request reader is in the client's byte stream.
enum RequestState {
    /// At a command boundary, collecting the next line.
    Line,
    /// Inside a data block: this many bytes (its `\r\n` included) go through unexamined.
    Data(usize),
    /// Inside a line too long to examine, forwarded up to its newline.
    LongLine,
}

async fn forward_requests(
    mut client: impl AsyncRead + Unpin,
    mut upstream: UnixWrite,
    markers: mpsc::UnboundedSender<Marker>,
) -> io::Result<()> {
    let mut pending = Vec::new();
    let mut state = RequestState::Line;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        let out = frame_requests(&mut pending, &mut state, &markers);
        upstream.write_all(&out).await?;
    }
    // What is left is an unfinished line: memcached gets it as it would without the proxy.
    upstream.write_all(&pending).await?;
    upstream.shutdown().await
}

/// Moves every complete unit of `pending` into the bytes to send upstream, replacing each
/// Discovery command by its marker (registered before it is sent).
fn frame_requests(
    pending: &mut Vec<u8>,
    state: &mut RequestState,
    markers: &mpsc::UnboundedSender<Marker>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(pending.len());
    let mut at = 0;
    while at < pending.len() {
        let rest = &pending[at..];
        match *state {
            RequestState::Data(remaining) => {
                let take = remaining.min(rest.len());
                out.extend_from_slice(&rest[..take]);
                at += take;
                *state = match remaining - take {
                    0 => RequestState::Line,
                    left => RequestState::Data(left),
                };
            }
            RequestState::LongLine | RequestState::Line => {
                let Some(newline) = rest.iter().position(|b| *b == b'\n') else {
                    if matches!(state, RequestState::LongLine) || rest.len() > MAX_EXAMINED_LINE {
                        out.extend_from_slice(rest);
                        at = pending.len();
                        *state = RequestState::LongLine;
                    }
                    break;
                };
                let line = &rest[..=newline];
                at += line.len();
                if matches!(state, RequestState::LongLine) {
                    out.extend_from_slice(line);
                    *state = RequestState::Line;
                    continue;
                }
                match classify_line(line) {
                    TextCommand::Discovery(command) => {
                        let (request, echo) = marker_command();
                        let _ = markers.send(Marker { command, echo });
                        out.extend_from_slice(&request);
                    }
                    TextCommand::WithData { bytes } => {
                        out.extend_from_slice(line);
                        *state = RequestState::Data(bytes + 2);
                    }
                    TextCommand::Line => out.extend_from_slice(line),
                }
            }
        }
    }
    pending.drain(..at);
    out
}

/// A meta get of a key nobody stores, with a random opaque token (memcached allows 31
/// characters after the `O`); memcached answers it `EN O<token>`, which can appear nowhere
/// else in the reply stream since the token was never sent to any client.
fn marker_command() -> (Vec<u8>, Vec<u8>) {
    let token = &uuid::Uuid::new_v4().simple().to_string()[..31];
    let request = format!("mg elasticache-local:discovery:{token} O{token}\r\n");
    (
        request.into_bytes(),
        format!("EN O{token}\r\n").into_bytes(),
    )
}

async fn forward_replies(
    mut upstream: UnixRead,
    mut client: impl AsyncWrite + Unpin,
    mut markers: mpsc::UnboundedReceiver<Marker>,
    topology: SharedTopology,
) -> io::Result<()> {
    let mut waiting: VecDeque<Marker> = VecDeque::new();
    let mut held = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = upstream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        held.extend_from_slice(&buf[..n]);
        // A marker is registered before it is sent, so its echo never arrives first.
        while let Ok(marker) = markers.try_recv() {
            waiting.push_back(marker);
        }
        let out = splice_replies(&mut held, &mut waiting, &topology);
        client.write_all(&out).await?;
    }
    client.write_all(&held).await?;
    client.shutdown().await
}

/// Moves what can be sent from `held` to the client's bytes, with each marker's echo replaced
/// by the Discovery reply; keeps back only a tail that may be the start of the next echo.
fn splice_replies(
    held: &mut Vec<u8>,
    waiting: &mut VecDeque<Marker>,
    topology: &SharedTopology,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(held.len());
    loop {
        let Some(marker) = waiting.front() else {
            out.append(held);
            return out;
        };
        match find(held, &marker.echo) {
            Some(at) => {
                out.extend_from_slice(&held[..at]);
                let reply = super::discovery::discovery_reply(marker.command, &topology.current());
                out.extend_from_slice(&reply);
                held.drain(..at + marker.echo.len());
                waiting.pop_front();
            }
            None => {
                let keep = held.len().min(marker.echo.len() - 1);
                out.extend(held.drain(..held.len() - keep));
                return out;
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::memcached::discovery::{DiscoveredNode, discovery_reply};

    /// Feeds `input` one byte at a time, as the slowest network would deliver it.
    fn frame_bytewise(input: &[u8]) -> (Vec<u8>, Vec<Marker>) {
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let (mut pending, mut state, mut out) = (Vec::new(), RequestState::Line, Vec::new());
        for byte in input {
            pending.push(*byte);
            out.extend(frame_requests(&mut pending, &mut state, &sender));
        }
        assert!(pending.is_empty(), "everything complete was sent on");
        let mut markers = Vec::new();
        while let Ok(marker) = receiver.try_recv() {
            markers.push(marker);
        }
        (out, markers)
    }

    #[test]
    fn only_commands_at_boundaries_are_replaced_however_the_bytes_arrive() {
        let data = "set k 0 0 20\r\nconfig get cluster\r\n\r\n";
        let input = format!("{data}config get cluster\r\nget k\r\n");
        let (out, markers) = frame_bytewise(input.as_bytes());
        assert_eq!(markers.len(), 1);
        let out = String::from_utf8(out).unwrap();
        let marker = out
            .strip_prefix(data)
            .and_then(|rest| rest.strip_suffix("get k\r\n"))
            .unwrap_or_else(|| panic!("{out:?}"));
        assert!(
            marker.starts_with("mg elasticache-local:discovery:"),
            "{marker}"
        );
        let echo = String::from_utf8(markers[0].echo.clone()).unwrap();
        let token = echo.strip_prefix("EN O").unwrap().trim_end();
        assert!(
            marker.ends_with(&format!(" O{token}\r\n")),
            "{marker} / {echo}"
        );
    }

    #[test]
    fn the_reply_is_spliced_where_the_echo_comes_back_however_the_bytes_arrive() {
        let topology = SharedTopology::empty();
        topology.publish(vec![DiscoveredNode {
            hostname: "h".into(),
            ip: "127.0.0.1".into(),
            port: 1,
        }]);
        let echo = b"EN O0123456789abcdef0123456789abcde\r\n".to_vec();
        let mut waiting = VecDeque::from([Marker {
            command: DiscoveryCommand::ConfigGetCluster,
            echo: echo.clone(),
        }]);
        let stream = [b"STORED\r\nEN\r\n".as_slice(), &echo, b"END\r\n"].concat();
        let (mut held, mut out) = (Vec::new(), Vec::new());
        for byte in stream {
            held.push(byte);
            out.extend(splice_replies(&mut held, &mut waiting, &topology));
        }
        assert!(held.is_empty() && waiting.is_empty());
        let reply = discovery_reply(DiscoveryCommand::ConfigGetCluster, &topology.current());
        let expected = [b"STORED\r\nEN\r\n".as_slice(), &reply, b"END\r\n"].concat();
        assert_eq!(String::from_utf8(out), String::from_utf8(expected));
    }
}
