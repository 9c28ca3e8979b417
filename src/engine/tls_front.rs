//! The front of a `preferred` TLS node: ElastiCache accepts TLS and plaintext clients on the
//! same port in that mode, which redis-server cannot (its `port` and `tls-port` differ). The
//! front holds the node's advertised address and hands each connection, by its first byte, to
//! the node's private TLS port (0x16, a TLS handshake record) or its private plaintext port.
//! Bytes pass through untouched: TLS ends at the node, not here.
//!
//! The front is also where a `preferred` node's toxics act: while the node is fronted for
//! toxics (see [`super::node_toxics`]) each new connection is piped through them.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddrV4;
use std::sync::{LazyLock, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// The address each live front holds → where it sends TLS connections.
static HELD: LazyLock<Mutex<HashMap<SocketAddrV4, SocketAddrV4>>> = LazyLock::new(Default::default);

fn held() -> std::sync::MutexGuard<'static, HashMap<SocketAddrV4, SocketAddrV4>> {
    HELD.lock().unwrap_or_else(|p| p.into_inner())
}

/// The private TLS port of the `preferred` node whose front holds `addr`, if one does.
pub(crate) fn private_tls_of(addr: SocketAddrV4) -> Option<SocketAddrV4> {
    held().get(&addr).copied()
}

pub struct TlsFront {
    addr: SocketAddrV4,
    targets: FrontTargets,
    accept_task: JoinHandle<()>,
    /// Dropped with the front: every connection it forwards ends then.
    _alive: watch::Sender<()>,
}

/// Where a front sends each kind of connection.
#[derive(Debug, Clone, Copy)]
pub struct FrontTargets {
    pub tls: SocketAddrV4,
    pub plaintext: SocketAddrV4,
}

impl TlsFront {
    /// Binds `addr` (an error that says "Address already in use" when it is taken, as a node's
    /// own bind does) and serves it until dropped.
    pub async fn bind(addr: SocketAddrV4, targets: FrontTargets) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let (alive, watching) = watch::channel(());
        let accept_task = tokio::spawn(accept_loop(listener, targets, watching));
        held().insert(addr, targets.tls);
        Ok(Self {
            addr,
            targets,
            accept_task,
            _alive: alive,
        })
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accept_task.abort();
        let mut held = held();
        if held.get(&self.addr) == Some(&self.targets.tls) {
            held.remove(&self.addr);
        }
    }
}

async fn accept_loop(listener: TcpListener, targets: FrontTargets, alive: watch::Receiver<()>) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                tokio::spawn(forward(client, targets, alive.clone()));
            }
            // Out of descriptors: the connection stays queued; try again shortly.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

async fn forward(mut client: TcpStream, targets: FrontTargets, mut alive: watch::Receiver<()>) {
    let mut first = [0u8; 1];
    let peeked = tokio::select! {
        peeked = client.peek(&mut first) => peeked,
        _ = alive.changed() => return,
    };
    let target = match peeked {
        Ok(1) if first[0] == TLS_HANDSHAKE => targets.tls,
        Ok(1) => targets.plaintext,
        _ => return,
    };
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let fronted = client.local_addr().is_ok_and(
        |at| matches!(at, std::net::SocketAddr::V4(at) if super::node_toxics::is_fronted(at)),
    );
    if fronted {
        tokio::select! {
            _ = super::toxics::pipe(&mut client, &mut upstream) => {}
            _ = alive.changed() => {}
        }
        return;
    }
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
        _ = alive.changed() => {}
    }
}
