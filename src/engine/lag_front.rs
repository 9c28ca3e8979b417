//! A front on a cluster node's own address that sends chosen peers elsewhere: the connections
//! coming from a lagged replica's address go to its replication relay (the proxy with the
//! toxics), every other connection (clients, the engine, the other replicas) goes straight
//! to the node, which listens on a private port meanwhile (as during the in-transit
//! encryption migration, see `tls_switch`).
//!
//! Why a front and not the node's announced address: a Redis Cluster replica replicates from
//! the address its primary announces on the bus, the same for every node, and `REPLICAOF` is
//! refused in cluster mode; the front keeps the announced address and tells the replicas
//! apart by where they connect from (each node has its own loopback address and the lagged
//! replica's `bind-source-addr` is set to it).

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Where each source address's connections go instead of the node.
type Routes = Arc<Mutex<HashMap<Ipv4Addr, SocketAddrV4>>>;

pub(crate) struct LagFront {
    /// The node's private address (its `port` moved there).
    node: SocketAddrV4,
    routes: Routes,
    accept_task: JoinHandle<()>,
}

impl LagFront {
    /// Binds the node's address `addr` (the node's listener just left it) and forwards to
    /// `node`, its private address.
    pub async fn bind(addr: SocketAddrV4, node: SocketAddrV4) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let routes = Routes::default();
        let accept_task = tokio::spawn(accept_loop(listener, node, routes.clone()));
        Ok(Self {
            node,
            routes,
            accept_task,
        })
    }

    pub fn node(&self) -> SocketAddrV4 {
        self.node
    }

    /// Connections from `source` go to `target` from now on.
    pub fn route(&self, source: Ipv4Addr, target: SocketAddrV4) {
        self.lock().insert(source, target);
    }

    /// Connections from `source` go to the node again; true when no route is left.
    pub fn unroute(&self, source: Ipv4Addr) -> bool {
        let mut routes = self.lock();
        routes.remove(&source);
        routes.is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Ipv4Addr, SocketAddrV4>> {
        // Never held across an `.await`; a panic elsewhere leaves the map usable.
        self.routes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for LagFront {
    /// Stops listening; the connections already forwarded live on until either side closes
    /// them, so lifting the fault resets no client.
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

async fn accept_loop(listener: TcpListener, node: SocketAddrV4, routes: Routes) {
    loop {
        match listener.accept().await {
            Ok((client, peer)) => {
                let target = match peer {
                    SocketAddr::V4(peer) => routes
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(peer.ip())
                        .copied(),
                    SocketAddr::V6(_) => None,
                };
                tokio::spawn(forward(client, target.unwrap_or(node)));
            }
            // Out of descriptors: the connection stays queued; try again shortly.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

async fn forward(mut client: TcpStream, target: SocketAddrV4) {
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        return; // dropping `client` closes it, as the node's refusal would
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
