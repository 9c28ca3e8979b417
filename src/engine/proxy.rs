//! A stable endpoint: a TCP proxy on its own address that forwards each client connection to one
//! of its current targets (round robin). Switching the targets closes every connection to a
//! target that is no longer listed, so clients reconnect to the new primary, as they do when
//! AWS re-points the endpoint's DNS name.

use std::io;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::address::AddressPool;
use super::iam_front::IamGate;
use super::toxics::ToxicRegistry;
use super::toxics::registry::Registration;

pub mod behaviour;

/// The IAM gate an endpoint's new connections go through, when it has one.
type Gate = Arc<RwLock<Option<Arc<IamGate>>>>;

pub struct EndpointProxy {
    name: String,
    addr: SocketAddrV4,
    targets: watch::Sender<Vec<SocketAddrV4>>,
    /// Counts switches, so a delayed switch ([`Self::switch_after`]) yields to a later one.
    generation: Arc<AtomicUsize>,
    accept_task: JoinHandle<()>,
    /// Set while its group has `iam` users: TLS connections then go through it.
    gate: Gate,
    /// Lists the endpoint in the toxics registry while it lives.
    _toxics: Registration,
}

impl EndpointProxy {
    /// Binds an address from `pool` at `port` (the listener is held, so no other process can
    /// take it).
    pub async fn bind(
        name: String,
        pool: &AddressPool,
        port: u16,
        targets: Vec<SocketAddrV4>,
    ) -> io::Result<Self> {
        let listener = pool.bind_endpoint(port).await?;
        Self::serve(name, listener, targets, false)
    }

    /// [`Self::bind`] for a primary endpoint: under the `aws` endpoint behaviour (see
    /// [`behaviour`]) it stops listening while it has no target, so new connections are
    /// refused, as when the DNS name points at a host whose process is down, and it is a
    /// black hole while every target's host is gone, so new connections time out.
    ///
    /// On `wanted` when it names a free host (see [`AddressPool::bind_endpoint_at`]); a
    /// `primary` false endpoint is a plain [`Self::bind`] one.
    pub async fn bind_at(
        name: String,
        pool: &AddressPool,
        wanted: SocketAddrV4,
        primary: bool,
    ) -> io::Result<Self> {
        let listener = pool.bind_endpoint_at(wanted).await?;
        Self::serve(
            name,
            listener,
            vec![],
            primary && behaviour::get().refuse_while_down,
        )
    }

    fn serve(
        name: String,
        listener: TcpListener,
        targets: Vec<SocketAddrV4>,
        mirror_target: bool,
    ) -> io::Result<Self> {
        let addr = match listener.local_addr()? {
            std::net::SocketAddr::V4(addr) => addr,
            other => return Err(io::Error::other(format!("not an IPv4 address: {other}"))),
        };
        let (sender, receiver) = watch::channel(targets);
        let _toxics = ToxicRegistry::global().register(&name, addr, receiver.clone());
        let gate = Gate::default();
        let accept_task =
            tokio::spawn(accept_loop(listener, receiver, mirror_target, gate.clone()));
        tracing::info!(endpoint = %name, %addr, "endpoint proxy listening");
        Ok(Self {
            name,
            addr,
            targets: sender,
            generation: Arc::new(AtomicUsize::new(0)),
            accept_task,
            gate,
            _toxics,
        })
    }

    /// Sends the TLS connections accepted from now on through `gate` (none: straight through).
    pub fn set_iam_gate(&self, gate: Option<Arc<IamGate>>) {
        *self.gate.write().expect("gate poisoned") = gate;
    }

    pub fn addr(&self) -> SocketAddrV4 {
        self.addr
    }

    pub fn targets(&self) -> Vec<SocketAddrV4> {
        self.targets.borrow().clone()
    }

    /// Points the endpoint at new nodes and drops connections to the old ones.
    pub fn switch(&self, targets: Vec<SocketAddrV4>) {
        tracing::info!(endpoint = %self.name, addr = %self.addr, ?targets, "endpoint switched");
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.targets.send_replace(targets);
    }

    /// Points the endpoint at `now`, and at `later` once `delay` has passed, unless it is
    /// switched again meanwhile: a DNS name whose old answer is cached for a TTL.
    pub fn switch_after(
        &self,
        now: Vec<SocketAddrV4>,
        later: Vec<SocketAddrV4>,
        delay: std::time::Duration,
    ) {
        self.switch(now);
        let generation = self.generation.load(Ordering::Relaxed);
        let (counter, sender) = (Arc::clone(&self.generation), self.targets.clone());
        let name = self.name.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if counter.load(Ordering::Relaxed) == generation {
                tracing::info!(endpoint = %name, targets = ?later, "endpoint switched: the DNS TTL of the old answer ran out");
                sender.send_replace(later);
            }
        });
    }

    /// Stops listening and drops every connection, at once (a stopped group's endpoint must not
    /// accept anything, even while a workflow still holds the runtime).
    pub fn close(&self) {
        self.targets.send_replace(vec![]);
        self.accept_task.abort();
    }
}

impl Drop for EndpointProxy {
    fn drop(&mut self) {
        // Dropping the sender ends every connection task; aborting ends the listener.
        self.accept_task.abort();
        tracing::info!(endpoint = %self.name, addr = %self.addr, "endpoint proxy closed");
    }
}

async fn accept_loop(
    listener: TcpListener,
    mut targets: watch::Receiver<Vec<SocketAddrV4>>,
    mirror_target: bool,
    gate: Gate,
) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut backoff = AcceptBackoff::default();
    let mut holes = super::blackhole::subscribe();
    let addr = match listener.local_addr() {
        Ok(std::net::SocketAddr::V4(addr)) => addr,
        _ => return, // checked by `serve`
    };
    let mut front = behaviour::PrimaryFront::new(listener, addr);
    loop {
        let bound = if mirror_target {
            match front.settle(&mut targets, &mut holes).await {
                Some(listener) => listener,
                None => return, // the endpoint is gone
            }
        } else {
            match front.listener() {
                Some(listener) => listener,
                None => return, // never without one: only `settle` changes it
            }
        };
        let accepted = tokio::select! {
            accepted = bound.accept() => accepted,
            // An emptied target list (or a target's host gone) must change the listener at
            // once, not at the next client.
            changed = behaviour::changed(&mut targets, &mut holes), if mirror_target => {
                if !changed {
                    return; // the endpoint is gone
                }
                continue;
            }
        };
        let client = match accepted {
            Ok((client, _)) => {
                backoff.succeeded();
                client
            }
            Err(error) => {
                backoff.failed(&error).await;
                continue;
            }
        };
        let current = targets.borrow().clone();
        if current.is_empty() {
            continue; // dropping `client` closes it: nothing to forward to
        }
        let target = current[next.fetch_add(1, Ordering::Relaxed) % current.len()];
        let gate = gate.read().expect("gate poisoned").clone();
        let forwarding = forward(client, target, targets.clone(), mirror_target, gate);
        tokio::spawn(forwarding);
    }
}

/// An accept that fails (out of descriptors: the pending connection stays queued) would fail
/// again at once: wait, doubling from 10 ms to 1 s, and log once per streak of failures.
#[derive(Default)]
struct AcceptBackoff {
    delay: Option<std::time::Duration>,
}

impl AcceptBackoff {
    async fn failed(&mut self, error: &io::Error) {
        let delay = match self.delay {
            None => {
                tracing::error!(%error, "endpoint proxy cannot accept a connection (the server is out of resources, not the node); retrying with backoff");
                std::time::Duration::from_millis(10)
            }
            Some(delay) => (delay * 2).min(std::time::Duration::from_secs(1)),
        };
        self.delay = Some(delay);
        tokio::time::sleep(delay).await;
    }

    fn succeeded(&mut self) {
        if self.delay.take().is_some() {
            tracing::info!("endpoint proxy accepts connections again");
        }
    }
}

/// Pipes `client` to `target` until either side closes or the target is switched away.
/// `wait_for_gone_host`: a connect to a target whose host is gone hangs as the client's own
/// would (the `aws` primary endpoint, which accepted just before the host went); otherwise the
/// client is closed at once, as when its node is down.
async fn forward(
    mut client: TcpStream,
    target: SocketAddrV4,
    mut targets: watch::Receiver<Vec<SocketAddrV4>>,
    wait_for_gone_host: bool,
    gate: Option<Arc<IamGate>>,
) {
    if !wait_for_gone_host && super::blackhole::is_gone(target) {
        return;
    }
    let still_listed = |t: &Vec<SocketAddrV4>| t.contains(&target);
    let connected = tokio::select! {
        connected = TcpStream::connect(target) => connected,
        _ = targets.wait_for(|t| !still_listed(t)) => return,
    };
    let Ok(mut upstream) = connected else {
        return; // the node is down: the client sees its connection closed, as with a dead host
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let gate = match gate {
        Some(gate) => tokio::select! {
            tls = starts_with_tls(&client) => tls.then_some(gate),
            _ = targets.wait_for(|t| !still_listed(t)) => return,
        },
        None => None,
    };
    if let Some(gate) = gate {
        // Through the gate, toxics do not apply (they act on the TCP streams it ends).
        tokio::select! {
            _ = gate.serve(client, upstream, target) => {}
            _ = targets.wait_for(|t| !still_listed(t)) => {}
        }
        return;
    }
    tokio::select! {
        _ = super::toxics::pipe(&mut client, &mut upstream) => {}
        _ = targets.wait_for(|t| !still_listed(t)) => {}
    }
}

/// Whether the client's first byte opens a TLS handshake (a `preferred` endpoint also takes
/// plaintext clients, which the gate leaves alone: an `iam` user cannot log in so). Clients
/// speak first, in TLS as in RESP.
async fn starts_with_tls(client: &TcpStream) -> bool {
    let mut first = [0u8; 1];
    matches!(client.peek(&mut first).await, Ok(1)) && first[0] == 0x16
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo_server() -> (SocketAddrV4, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = SocketAddrV4::new(
            std::net::Ipv4Addr::LOCALHOST,
            listener.local_addr().unwrap().port(),
        );
        let task = tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 || socket.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (port, task)
    }

    #[tokio::test]
    async fn forwards_and_closes_connections_to_a_target_switched_away() {
        let (first, _a) = echo_server().await;
        let (second, _b) = echo_server().await;
        let pool = AddressPool::new(crate::engine::address::Addressing::Loopback);
        let proxy = EndpointProxy::bind("test".into(), &pool, 6379, vec![first])
            .await
            .unwrap();
        assert_eq!(proxy.addr().port(), 6379);
        let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");

        proxy.switch(vec![second]);
        // The old connection is closed by the proxy: a read returns 0 (EOF) or an error.
        let mut rest = [0u8; 4];
        let closed =
            tokio::time::timeout(std::time::Duration::from_secs(5), client.read(&mut rest))
                .await
                .unwrap();
        assert!(matches!(closed, Ok(0) | Err(_)));

        let mut fresh = TcpStream::connect(proxy.addr()).await.unwrap();
        fresh.write_all(b"pong").await.unwrap();
        fresh.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    }

    /// How a connect to `addr` within 500 ms ends, from a blocking thread as a client's would.
    async fn connect_kind(addr: SocketAddrV4) -> Option<io::ErrorKind> {
        let limit = std::time::Duration::from_millis(500);
        tokio::task::spawn_blocking(move || {
            std::net::TcpStream::connect_timeout(&addr.into(), limit).err()
        })
        .await
        .unwrap()
        .map(|e| e.kind())
    }

    async fn wait_connect(addr: SocketAddrV4, expected: impl Fn(Option<io::ErrorKind>) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let seen = connect_kind(addr).await;
            if expected(seen) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{addr}: {seen:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn a_mirroring_endpoint_is_a_black_hole_while_its_host_is_gone_a_plain_one_closes() {
        let gone = match std::net::TcpListener::bind("127.3.4.6:0")
            .unwrap()
            .local_addr()
        {
            Ok(std::net::SocketAddr::V4(addr)) => addr,
            other => panic!("{other:?}"),
        };
        let hole = crate::engine::blackhole::BlackHole::host_gone(gone)
            .await
            .unwrap();
        let pool = AddressPool::new(crate::engine::address::Addressing::Loopback);
        let open = |name: &str, mirror| {
            let name = name.to_string();
            let pool = &pool;
            async move {
                let listener = pool.bind_endpoint(6379).await.unwrap();
                EndpointProxy::serve(name, listener, vec![gone], mirror).unwrap()
            }
        };
        let mirroring = open("mirroring", true).await;
        let plain = open("plain", false).await;
        let timed_out = |k: Option<io::ErrorKind>| {
            matches!(k, Some(io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock))
        };
        wait_connect(mirroring.addr(), timed_out).await;
        // The plain endpoint accepts and closes at once (the `fast` behaviour), not hanging.
        let mut client = TcpStream::connect(plain.addr()).await.unwrap();
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), client.read(&mut buf));
        assert!(matches!(read.await.unwrap(), Ok(0) | Err(_)));
        // Once the host is back the endpoint listens again, with no switch of its targets.
        drop(hole);
        wait_connect(mirroring.addr(), |k| k.is_none()).await;
    }
}
