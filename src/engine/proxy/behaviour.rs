//! How a primary endpoint behaves around a failover (`--endpoint-behaviour`), one setting per
//! server run like the nodes' command names:
//! - `fast`: it always accepts; while the primary is down a new connection is accepted and then
//!   closed, and the promotion re-points it at once.
//! - `aws`: like the DNS name of an ElastiCache primary endpoint. While the primary is down
//!   nothing listens (new connections are refused); after the promotion new connections still
//!   go to the old primary's address for a DNS TTL, so a client that connects then reaches the
//!   recovered old primary, now a replica, and gets `READONLY You can't write against a read
//!   only replica.`

use std::net::{SocketAddr, SocketAddrV4};
use std::sync::RwLock;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

/// The endpoint behaviour of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EndpointBehaviour {
    /// Stop listening while the primary is down.
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

/// Makes `listener` match the targets: closed while there are none (connections are refused),
/// bound again at the same address once there are. `None` once the endpoint is gone.
pub(super) async fn listen_while_targeted(
    listener: &mut Option<TcpListener>,
    targets: &mut watch::Receiver<Vec<SocketAddrV4>>,
) -> Option<()> {
    if !targets.borrow_and_update().is_empty() {
        return Some(());
    }
    let Some(closed) = listener.take() else {
        return Some(()); // never bound: nothing to reopen
    };
    let addr: SocketAddr = closed.local_addr().ok()?;
    drop(closed);
    tracing::info!(%addr, "primary endpoint not listening: the primary is down, new connections are refused");
    targets.wait_for(|t| !t.is_empty()).await.ok()?;
    loop {
        match TcpListener::bind(addr).await {
            Ok(bound) => {
                tracing::info!(%addr, "primary endpoint listening again");
                *listener = Some(bound);
                return Some(());
            }
            Err(error) => {
                tracing::warn!(%addr, %error, "primary endpoint cannot listen again yet");
                tokio::time::sleep(REBIND_RETRY).await;
            }
        }
    }
}
