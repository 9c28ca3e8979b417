//! An address whose host is gone (its Availability Zone lost power): on AWS a connect to it
//! times out, its SYN unanswered, instead of being refused as when only the process died.
//!
//! Loopback always answers, so a gone host is faked: a listener bound on exactly that address
//! with a listen backlog of 0, whose accept queue (one entry) is filled by a connection of our
//! own and never accepted. The kernel then drops every further SYN (a full accept queue), so a
//! client's connect hangs until its own timeout. Holding the address also keeps any other
//! process from taking it while the host is "down". Dropping the [`BlackHole`] frees it.
//!
//! A registry of the gone addresses lets an endpoint that forwards to one behave like it.

use std::collections::HashSet;
use std::io;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

/// How long our own filling connection may take. Without SYN cookies a backlog-0 listener
/// answers no SYN at all, ours included: then it is a black hole without the filler.
const FILL_TIMEOUT: Duration = Duration::from_millis(500);

struct Registry {
    gone: Mutex<HashSet<SocketAddrV4>>,
    /// Bumped at every change, so a proxy can wait for one.
    changes: watch::Sender<u64>,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry {
    gone: Mutex::new(HashSet::new()),
    changes: watch::channel(0).0,
});

fn gone() -> std::sync::MutexGuard<'static, HashSet<SocketAddrV4>> {
    REGISTRY.gone.lock().unwrap_or_else(|p| p.into_inner())
}

/// True while `addr` is a registered black hole (its host is gone).
pub fn is_gone(addr: SocketAddrV4) -> bool {
    gone().contains(&addr)
}

/// Notified whenever an address becomes, or stops being, a registered black hole.
pub fn subscribe() -> watch::Receiver<u64> {
    REGISTRY.changes.subscribe()
}

/// An address held as a black hole until dropped.
pub struct BlackHole {
    addr: SocketAddrV4,
    registered: bool,
    _listener: TcpListener,
    _filler: Option<TcpStream>,
}

impl BlackHole {
    /// Makes `addr` (whose process is gone) a black hole and registers it as a gone host.
    pub async fn host_gone(addr: SocketAddrV4) -> io::Result<Self> {
        let mut hole = Self::open(addr).await?;
        gone().insert(addr);
        hole.registered = true;
        REGISTRY.changes.send_modify(|n| *n += 1);
        Ok(hole)
    }

    /// Makes `addr` a black hole without registering it (an endpoint's own address).
    pub async fn open(addr: SocketAddrV4) -> io::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        // The killed node's connections may linger in TIME_WAIT on this address and port.
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::V4(addr))?;
        let listener = socket.listen(0)?;
        let filler = tokio::time::timeout(FILL_TIMEOUT, TcpStream::connect(addr)).await;
        let filler = match filler {
            Ok(Ok(stream)) => Some(stream),
            Ok(Err(error)) => return Err(error),
            Err(_) => None, // no SYN cookies: the empty queue answers nothing already
        };
        Ok(Self {
            addr,
            registered: false,
            _listener: listener,
            _filler: filler,
        })
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        if self.registered {
            gone().remove(&self.addr);
            REGISTRY.changes.send_modify(|n| *n += 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A free address on loopback, not 127.0.0.1 (a gone host gets its own IP).
    fn free_addr() -> SocketAddrV4 {
        let probe = std::net::TcpListener::bind("127.3.4.5:0").unwrap();
        match probe.local_addr().unwrap() {
            SocketAddr::V4(addr) => addr,
            other => panic!("{other}"),
        }
    }

    fn connect(addr: SocketAddrV4) -> io::Result<std::net::TcpStream> {
        std::net::TcpStream::connect_timeout(&addr.into(), Duration::from_millis(500))
    }

    #[tokio::test]
    async fn a_third_party_connect_times_out_and_the_address_is_free_again_after() {
        let addr = free_addr();
        let hole = BlackHole::host_gone(addr).await.unwrap();
        assert!(is_gone(addr));
        let outcome = tokio::task::spawn_blocking(move || connect(addr))
            .await
            .unwrap();
        let error = outcome.expect_err("a connect to a black hole must not succeed");
        assert!(
            matches!(
                error.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ),
            "expected a timeout, got {error:?}"
        );
        drop(hole);
        assert!(!is_gone(addr));
        let refused = tokio::task::spawn_blocking(move || connect(addr))
            .await
            .unwrap();
        assert_eq!(
            refused.expect_err("nothing listens").kind(),
            io::ErrorKind::ConnectionRefused
        );
        // The address can be bound again, as a node restarting there needs.
        std::net::TcpListener::bind(addr).unwrap();
    }
}
