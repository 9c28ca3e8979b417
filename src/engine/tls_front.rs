//! The front of a `preferred` TLS node: ElastiCache accepts TLS and plaintext clients on the
//! same port in that mode, which redis-server cannot (its `port` and `tls-port` differ). The
//! front holds the node's advertised address and hands each connection, by its first byte, to
//! the node's private TLS port (0x16, a TLS handshake record) or its private plaintext port.
//! Bytes pass through untouched: TLS ends at the node, not here.

use std::io;
use std::net::SocketAddrV4;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

pub struct TlsFront {
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
        Ok(Self {
            accept_task,
            _alive: alive,
        })
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accept_task.abort();
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
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
        _ = alive.changed() => {}
    }
}
