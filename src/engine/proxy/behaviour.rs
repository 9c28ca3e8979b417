//! How a primary endpoint behaves around a failover (`--endpoint-behaviour`), one setting per
//! server run like the nodes' command names:
//! - `fast`: it always accepts; while the primary is down a new connection is accepted and then
//!   closed, and the promotion re-points it at once.
//! - `aws`: like the DNS name of an ElastiCache primary endpoint. While the primary is down
//!   nothing listens (new connections are refused), or, when the primary's host is gone (an
//!   AZ power interruption), the endpoint is a black hole like that host (new connections
//!   time out); after the promotion new connections still
//!   go to the old primary's address for a DNS TTL, so a client that connects then reaches the
//!   recovered old primary, now a replica, and gets `READONLY You can't write against a read
//!   only replica.`

use std::net::SocketAddrV4;
use std::sync::RwLock;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::engine::blackhole::{self, BlackHole};

/// The endpoint behaviour of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EndpointBehaviour {
    /// Show what the target shows while the primary is down: refused while its process is
    /// down, a black hole (connects time out) while its host is gone.
    pub refuse_while_down: bool,
    /// How long after a promotion new connections still reach the old primary's address.
    pub dns_ttl: Duration,
}

static BEHAVIOUR: RwLock<EndpointBehaviour> = RwLock::new(EndpointBehaviour {
    refuse_while_down: false,
    dns_ttl: Duration::ZERO,
});

/// Sets the behaviour for every endpoint opened from now on (at startup).
pub fn set(behaviour: EndpointBehaviour) {
    *BEHAVIOUR.write().unwrap_or_else(|p| p.into_inner()) = behaviour;
}

pub fn get() -> EndpointBehaviour {
    *BEHAVIOUR.read().unwrap_or_else(|p| p.into_inner())
}

/// How long a listener that could not be bound again waits before the next try.
const REBIND_RETRY: Duration = Duration::from_millis(20);

/// What a primary endpoint under the `aws` behaviour shows a new connection, like its DNS
/// name would: its target's answer.
enum Front {
    /// A node to forward to: accepted.
    Listening(TcpListener),
    /// No target (the primary's process is down): nothing listens, the connect is refused.
    Refusing,
    /// Every target is a host that is gone ([`blackhole`]): the connect times out.
    BlackHoled(#[allow(dead_code)] BlackHole),
}

/// The listener of a primary endpoint under the `aws` behaviour, made to match its targets.
pub(super) struct PrimaryFront {
    addr: SocketAddrV4,
    front: Front,
}

impl PrimaryFront {
    pub(super) fn new(listener: TcpListener, addr: SocketAddrV4) -> Self {
        Self {
            addr,
            front: Front::Listening(listener),
        }
    }

    /// The listener, when the endpoint listens.
    pub(super) fn listener(&self) -> Option<&TcpListener> {
        match &self.front {
            Front::Listening(listener) => Some(listener),
            _ => None,
        }
    }

    /// Makes the listener match the targets (and the gone hosts), and returns it once there
    /// is one to accept on; waits while there is none. `None` once the endpoint is gone.
    pub(super) async fn settle(
        &mut self,
        targets: &mut watch::Receiver<Vec<SocketAddrV4>>,
        holes: &mut watch::Receiver<u64>,
    ) -> Option<&TcpListener> {
        loop {
            holes.borrow_and_update();
            let current = targets.borrow_and_update().clone();
            if current.is_empty() {
                if !matches!(self.front, Front::Refusing) {
                    self.front = Front::Refusing;
                    tracing::info!(addr = %self.addr, "primary endpoint not listening: the primary is down, new connections are refused");
                }
            } else if current.iter().all(|t| blackhole::is_gone(*t)) {
                if !matches!(self.front, Front::BlackHoled(_)) {
                    self.front = Front::Refusing; // frees the address for the black hole
                    self.front = Front::BlackHoled(self.retry(BlackHole::open).await);
                    tracing::info!(addr = %self.addr, targets = ?current, "primary endpoint black-holed: its target's host is gone, new connections time out");
                }
            } else {
                if !matches!(self.front, Front::Listening(_)) {
                    self.front = Front::Refusing;
                    self.front = Front::Listening(self.retry(listen).await);
                    tracing::info!(addr = %self.addr, "primary endpoint listening again");
                }
                let Front::Listening(listener) = &self.front else {
                    unreachable!()
                };
                return Some(listener);
            }
            if !changed(targets, holes).await {
                return None;
            }
        }
    }

    /// Binds the endpoint's address again, retrying while the kernel still holds it.
    async fn retry<T, F>(&self, bind: impl Fn(SocketAddrV4) -> F) -> T
    where
        F: Future<Output = std::io::Result<T>>,
    {
        loop {
            match bind(self.addr).await {
                Ok(bound) => return bound,
                Err(error) => {
                    tracing::warn!(addr = %self.addr, %error, "primary endpoint cannot bind its address again yet");
                    tokio::time::sleep(REBIND_RETRY).await;
                }
            }
        }
    }
}

async fn listen(addr: SocketAddrV4) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Waits for a change of the targets or of the gone hosts; false once the endpoint is gone.
pub(super) async fn changed(
    targets: &mut watch::Receiver<Vec<SocketAddrV4>>,
    holes: &mut watch::Receiver<u64>,
) -> bool {
    tokio::select! {
        changed = targets.changed() => changed.is_ok(),
        // The registry lives as long as the process: its sender is never dropped.
        _ = holes.changed() => true,
    }
}
