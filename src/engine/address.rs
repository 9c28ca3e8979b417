//! Where nodes and endpoints listen. ElastiCache gives every node and endpoint its own host, so
//! all of them answer on the port asked for (6379 by default). Linux routes the whole of
//! 127.0.0.0/8 to loopback, so each node and endpoint gets its own 127.X.Y.Z from a block
//! chosen at random per server run (never 127.0.0.x, so a user's own redis on 127.0.0.1:6379
//! is never touched), probing that the address and port are free and moving on when they are
//! not (another server, or a test, may use the same block).
//!
//! Where such an address cannot be bound (macOS has only 127.0.0.1), or the port is taken on
//! every address tried (something listening on 0.0.0.0:6379), the pool falls back to
//! 127.0.0.1 with a free port each, and logs once that it did. [`Addressing::Shared`] asks for
//! that from the start.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// How many loopback addresses are tried for one node or endpoint before falling back.
const ADDRESS_ATTEMPTS: u32 = 32;
/// Host numbers in a block: 127.X.0.1 to 127.X.255.254.
const BLOCK_SIZE: u32 = 1 << 16;

/// `--node-addresses`: one loopback address per node and endpoint, or 127.0.0.1 for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Addressing {
    /// Each node and endpoint on its own 127.X.Y.Z, at the port asked for.
    #[default]
    Loopback,
    /// Every node and endpoint on 127.0.0.1, each on a free port of its own.
    Shared,
}

/// An address not chosen yet: the port asked for, on no host. [`AddressPool::for_node`] and
/// [`AddressPool::bind_endpoint`] turn the port into a real address.
pub fn unassigned(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)
}

/// Hands out node and endpoint addresses for one server run (shared by all its engines).
#[derive(Debug)]
pub struct AddressPool {
    /// False once loopback addresses proved unusable (or were never wanted).
    loopback: AtomicBool,
    /// The second octet of this run's block (1..=254).
    block: u8,
    /// The next host number to try in the block: each call takes a new one, so two nodes
    /// starting at once are never handed the same address.
    next: AtomicU32,
    /// Set once the fallback for a taken port has been logged.
    port_fallback_logged: AtomicBool,
}

impl AddressPool {
    pub fn new(addressing: Addressing) -> Self {
        let random = uuid::Uuid::new_v4();
        let bytes = random.as_bytes();
        Self {
            loopback: AtomicBool::new(addressing == Addressing::Loopback),
            block: 1 + bytes[0] % 254,
            next: AtomicU32::new(u32::from_le_bytes([bytes[1], bytes[2], 0, 0])),
            port_fallback_logged: AtomicBool::new(false),
        }
    }

    /// An address for a node that binds it itself: `port` (and, for a cluster node, its bus
    /// port) free on it now. The bus port is `port + 10000` as in Redis, or a free one where
    /// that does not exist or is taken. Returns the address and the bus port.
    pub fn for_node(&self, port: u16, cluster_bus: bool) -> io::Result<(SocketAddrV4, u16)> {
        if self.loopback.load(Ordering::Relaxed) {
            for _ in 0..ADDRESS_ATTEMPTS {
                let ip = self.next_address();
                match probe(SocketAddrV4::new(ip, port)) {
                    Ok(()) => {}
                    Err(error) if error.kind() == io::ErrorKind::AddrInUse => continue,
                    Err(error) if error.kind() == io::ErrorKind::AddrNotAvailable => {
                        self.give_up_loopback(&error);
                        break;
                    }
                    // Out of descriptors, say: the server's trouble, not the address's.
                    Err(error) => return Err(error),
                }
                let bus = if cluster_bus {
                    match bus_port_on(ip, port) {
                        Some(bus) => bus,
                        None => continue,
                    }
                } else {
                    0
                };
                return Ok((SocketAddrV4::new(ip, port), bus));
            }
            self.log_port_fallback(port);
        }
        let shared = SocketAddrV4::new(Ipv4Addr::LOCALHOST, free_port(Ipv4Addr::LOCALHOST)?);
        let bus = if cluster_bus {
            free_port(Ipv4Addr::LOCALHOST)?
        } else {
            0
        };
        Ok((shared, bus))
    }

    /// A listener for an endpoint at `port`, held by the caller so no other process can take
    /// it: on its own loopback address, or on 127.0.0.1 with a free port.
    pub async fn bind_endpoint(&self, port: u16) -> io::Result<tokio::net::TcpListener> {
        if self.loopback.load(Ordering::Relaxed) {
            for _ in 0..ADDRESS_ATTEMPTS {
                let ip = self.next_address();
                match tokio::net::TcpListener::bind(SocketAddrV4::new(ip, port)).await {
                    Ok(listener) => return Ok(listener),
                    Err(error) if error.kind() == io::ErrorKind::AddrInUse => continue,
                    Err(error) if error.kind() == io::ErrorKind::AddrNotAvailable => {
                        self.give_up_loopback(&error);
                        break;
                    }
                    Err(error) => return Err(error),
                }
            }
            self.log_port_fallback(port);
        }
        tokio::net::TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).await
    }

    /// [`Self::bind_endpoint`], on `wanted` itself when it names a host and is free there (an
    /// endpoint brought back after a restart keeps its address).
    pub async fn bind_endpoint_at(
        &self,
        wanted: SocketAddrV4,
    ) -> io::Result<tokio::net::TcpListener> {
        if !wanted.ip().is_unspecified() {
            match tokio::net::TcpListener::bind(wanted).await {
                Ok(listener) => return Ok(listener),
                Err(error) => {
                    tracing::warn!(%wanted, %error, "cannot listen on the endpoint's previous address: it gets a new one")
                }
            }
        }
        self.bind_endpoint(wanted.port()).await
    }

    /// The cluster bus port for a node brought back at `addr` (its previous address): as
    /// [`Self::for_node`] picks one, `port + 10000` when free there, else any free one.
    pub fn bus_port_at(&self, addr: SocketAddrV4) -> io::Result<u16> {
        bus_port_on(*addr.ip(), addr.port())
            .ok_or_else(|| io::Error::new(io::ErrorKind::AddrInUse, "no free cluster bus port"))
    }

    /// The next host of the block, skipping the network (.0) and broadcast-like (.255) ones.
    fn next_address(&self) -> Ipv4Addr {
        loop {
            let host = self.next.fetch_add(1, Ordering::Relaxed) % BLOCK_SIZE;
            let [_, _, third, fourth] = host.to_be_bytes();
            if fourth != 0 && fourth != 255 {
                return Ipv4Addr::new(127, self.block, third, fourth);
            }
        }
    }

    fn give_up_loopback(&self, error: &io::Error) {
        if self.loopback.swap(false, Ordering::Relaxed) {
            tracing::warn!(%error, block = %format!("127.{}.0.0/16", self.block), "cannot bind a loopback address other than 127.0.0.1 (macOS?): every node and endpoint gets 127.0.0.1 with a port of its own, so endpoints do not report the Port asked for");
        }
    }

    fn log_port_fallback(&self, port: u16) {
        if !self.port_fallback_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                port,
                attempts = ADDRESS_ATTEMPTS,
                "the port asked for is taken on every loopback address tried (something listens on 0.0.0.0:{port}?): such nodes and endpoints get 127.0.0.1 with a port of their own"
            );
        }
    }
}

/// Binds `address` and lets it go at once: free now (a node started next binds it; if another
/// process wins the race, the node's start fails and it is started elsewhere).
fn probe(address: SocketAddrV4) -> io::Result<()> {
    TcpListener::bind(address).map(drop)
}

pub(crate) fn free_port(ip: Ipv4Addr) -> io::Result<u16> {
    Ok(TcpListener::bind(SocketAddrV4::new(ip, 0))?
        .local_addr()?
        .port())
}

/// The cluster bus port for a node at `ip:port`: `port + 10000` when free, else any free one.
fn bus_port_on(ip: Ipv4Addr, port: u16) -> Option<u16> {
    if let Some(bus) = port.checked_add(10000)
        && probe(SocketAddrV4::new(ip, bus)).is_ok()
    {
        return Some(bus);
    }
    free_port(ip).ok().filter(|bus| *bus != port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_get_distinct_loopback_addresses_at_the_port_asked_for() {
        let pool = AddressPool::new(Addressing::Loopback);
        let (first, first_bus) = pool.for_node(6379, true).unwrap();
        let (second, _) = pool.for_node(6379, false).unwrap();
        assert_eq!((first.port(), second.port()), (6379, 6379));
        assert_ne!(first.ip(), second.ip());
        assert_eq!(first.ip().octets()[..2], [127, pool.block]);
        assert_ne!(pool.block, 0, "never 127.0.0.x");
        assert_eq!(first_bus, 16379);
    }

    #[test]
    fn a_taken_address_is_skipped() {
        let pool = AddressPool::new(Addressing::Loopback);
        let start = pool.next.load(Ordering::Relaxed);
        let taken = pool.next_address();
        pool.next.store(start, Ordering::Relaxed);
        let _holder = TcpListener::bind(SocketAddrV4::new(taken, 6379)).unwrap();
        let (chosen, _) = pool.for_node(6379, false).unwrap();
        assert_ne!(chosen.ip(), &taken);
        assert_eq!(chosen.port(), 6379);
    }

    #[tokio::test]
    async fn shared_mode_puts_everything_on_127_0_0_1_with_free_ports() {
        let pool = AddressPool::new(Addressing::Shared);
        let (node, bus) = pool.for_node(6379, true).unwrap();
        assert_eq!(node.ip(), &Ipv4Addr::LOCALHOST);
        assert_ne!(node.port(), 6379);
        assert_ne!(bus, 0);
        let endpoint = pool.bind_endpoint(6379).await.unwrap();
        let address = endpoint.local_addr().unwrap();
        assert!(address.ip().is_loopback() && address.port() != 6379);
    }

    #[tokio::test]
    async fn endpoints_hold_their_own_address_at_the_port_asked_for() {
        let pool = AddressPool::new(Addressing::Loopback);
        let primary = pool.bind_endpoint(6379).await.unwrap();
        let reader = pool.bind_endpoint(6379).await.unwrap();
        let (primary, reader) = (primary.local_addr().unwrap(), reader.local_addr().unwrap());
        assert_eq!((primary.port(), reader.port()), (6379, 6379));
        assert_ne!(primary.ip(), reader.ip());
    }
}
