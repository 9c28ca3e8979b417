//! Network toxics on a node's own address: every node is a proxy of the toxics registry named
//! by its member id, and while it has a toxic (or is disabled) a front takes its address and
//! pipes each client connection through the toxics, as an endpoint proxy does.
//!
//! No toxic, no cost: the node listens on its address itself. The first toxic moves its client
//! `port` to a private port (`CONFIG SET port`, as the cluster lag front does), binds the front
//! on the address, and kills the node's client connections so that they reconnect through the
//! front (Toxiproxy's toxics act on open connections too). The last toxic gone, the front
//! closes and the port comes back; connections made through the front live on, untoxic.
//!
//! TLS nodes too: the front is a TCP pipe, so TLS still ends at the node and a client still
//! verifies the node's certificate, issued for the address the front keeps. A `required`
//! node's `tls-port` moves instead of its `port`; a `preferred` node's address is already held
//! by its TLS front (see [`super::tls_front`]), which pipes through the toxics while fronted.
//!
//! The engine's own commands and health checks are no client traffic: [`direct`] sends them to
//! the private port while a front is up. Replicas and slot migrations reach a node at its
//! address, as clients do, so they do pass its toxics (see the README's toxics section).

use std::collections::HashMap;
use std::net::SocketAddrV4;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use redis::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::EngineError;
use super::client::NodeClient;
use super::node::set_config;
use super::toxics::ToxicRegistry;
use super::toxics::registry::{Applied, ProxyConfig, Registration};

/// Node address → the private address its process listens on while fronted.
static DIRECT: LazyLock<Mutex<HashMap<SocketAddrV4, SocketAddrV4>>> =
    LazyLock::new(Default::default);

fn direct_map() -> std::sync::MutexGuard<'static, HashMap<SocketAddrV4, SocketAddrV4>> {
    DIRECT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where the engine reaches the node at `addr`: past its front, when it has one.
pub(crate) fn direct(addr: SocketAddrV4) -> SocketAddrV4 {
    direct_map().get(&addr).copied().unwrap_or(addr)
}

/// True while the node at `addr` listens behind a toxics front.
pub(crate) fn is_fronted(addr: SocketAddrV4) -> bool {
    direct_map().contains_key(&addr)
}

/// A node's listing as a proxy and the task that fronts it while it has toxics; dropping it
/// closes the front (before the node's restart takes its address again).
pub(crate) struct NodeToxics {
    _registration: Registration,
    task: JoinHandle<()>,
    /// The front's accept task while one is up, so [`Self::close`] can wait for its listener.
    accept: AcceptSlot,
}

type AcceptSlot = Arc<Mutex<Option<JoinHandle<()>>>>;

fn take_accept(slot: &AcceptSlot) -> Option<JoinHandle<()>> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).take()
}

impl NodeToxics {
    /// Lists the node `member` at `addr`; `refusal` says why its toxics cannot be set. Returns
    /// once the node's current toxics act: a restarted node whose proxy was parked with
    /// toxics is fronted before the caller talks to it (else a recovery's first commands
    /// could meet the moment its port moves behind the front, refused).
    pub async fn open(
        member: &str,
        addr: SocketAddrV4,
        client: NodeClient,
        refusal: Option<String>,
    ) -> Self {
        let (targets, upstream) = watch::channel(vec![addr]);
        let (applied, applied_rx) = watch::channel(Applied::default());
        let mut first_applied = applied_rx.clone();
        let (registration, config) =
            ToxicRegistry::global().register_node(member, addr, upstream, applied_rx, refusal);
        let accept = AcceptSlot::default();
        let node = Node {
            member: member.to_string(),
            addr,
            client,
            accept: accept.clone(),
        };
        let task = tokio::spawn(follow(node, config, targets, applied));
        // The first round of `follow` fronts the node if its toxics ask for it, then reports.
        let _ = first_applied.changed().await;
        Self {
            _registration: registration,
            task,
            accept,
        }
    }

    /// Ends the front and returns once its listener is closed, so the address is free (the
    /// node goes down and its restart, or a black hole, takes the address).
    pub async fn close(self) {
        self.task.abort();
        if let Some(accept) = take_accept(&self.accept) {
            accept.abort();
            let _ = accept.await;
        }
    }
}

impl Drop for NodeToxics {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(accept) = take_accept(&self.accept) {
            accept.abort();
        }
    }
}

struct Node {
    member: String,
    addr: SocketAddrV4,
    client: NodeClient,
    accept: AcceptSlot,
}

/// Fronts the node while its config has toxics or disables it, and reports each version.
async fn follow(
    node: Node,
    mut config: watch::Receiver<Arc<ProxyConfig>>,
    targets: watch::Sender<Vec<SocketAddrV4>>,
    applied: watch::Sender<Applied>,
) {
    let mut front: Option<Front> = None;
    loop {
        let current = config.borrow_and_update().clone();
        let wanted = !current.toxics.is_empty() || !current.enabled;
        let mut error = None;
        if wanted && front.is_none() {
            match Front::open(&node).await {
                Ok(opened) => {
                    targets.send_replace(vec![opened.private]);
                    front = Some(opened);
                }
                Err(cause) => {
                    tracing::error!(node = %node.member, error = %cause, "cannot front the node: its toxics do not act");
                    error = Some(format!("cannot put toxics on {}: {cause}", node.member));
                }
            }
        } else if !wanted && let Some(open) = front.take() {
            open.close(&node).await;
            targets.send_replace(vec![node.addr]);
        }
        let version = current.version;
        applied.send_replace(Applied { version, error });
        if config.changed().await.is_err() {
            return;
        }
    }
}

/// The front on a node's address while its process listens on `private`.
struct Front {
    private: SocketAddrV4,
    /// The setting moved to `private` (`port`, or `tls-port` for a `required` TLS node);
    /// `None` for a `preferred` node, whose TLS front already holds the address and pipes
    /// its connections through the toxics while the node is fronted.
    moved: Option<&'static str>,
    accept: AcceptSlot,
    /// Removes the [`DIRECT`] entry however the front ends (a task aborted with the node).
    _direct: DirectEntry,
}

struct DirectEntry(SocketAddrV4);

impl Drop for DirectEntry {
    fn drop(&mut self) {
        direct_map().remove(&self.0);
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        if let Some(accept) = take_accept(&self.accept) {
            accept.abort();
        }
    }
}

impl Front {
    /// TLS passes through: the bytes are piped as they are, so a TLS client still verifies
    /// the node's own certificate (issued for the address the front keeps).
    async fn open(node: &Node) -> Result<Self, EngineError> {
        if let Some(private) = super::tls_front::private_tls_of(node.addr) {
            return Ok(Self::behind_tls_front(node, private).await);
        }
        let setting = serving_setting(node).await?;
        let free = super::address::free_port(*node.addr.ip())
            .map_err(|e| EngineError::Replication(format!("no private port: {e}")))?;
        let private = SocketAddrV4::new(*node.addr.ip(), free);
        set_config(&node.client, &[port_setting(setting, private)]).await?;
        let direct = {
            direct_map().insert(node.addr, private);
            DirectEntry(node.addr)
        };
        let listener = match TcpListener::bind(node.addr).await {
            Ok(listener) => listener,
            Err(error) => {
                let back = set_config(&node.client, &[port_setting(setting, node.addr)]).await;
                return Err(EngineError::Replication(format!(
                    "cannot bind {}: {error} (port back: {back:?})",
                    node.addr
                )));
            }
        };
        *node.accept.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(tokio::spawn(accept_loop(listener, private)));
        kill_client_connections(&node.client).await;
        tracing::info!(node = %node.member, addr = %node.addr, %private, setting, "node fronted: its client connections go through its toxics");
        Ok(Self {
            private,
            moved: Some(setting),
            accept: node.accept.clone(),
            _direct: direct,
        })
    }

    /// A `preferred` node: its TLS front pipes new connections through the toxics from now
    /// on; the engine speaks TLS to the private TLS port.
    async fn behind_tls_front(node: &Node, private: SocketAddrV4) -> Self {
        direct_map().insert(node.addr, private);
        let direct = DirectEntry(node.addr);
        kill_client_connections(&node.client).await;
        tracing::info!(node = %node.member, addr = %node.addr, %private, "node fronted: its TLS front pipes client connections through its toxics");
        Self {
            private,
            moved: None,
            accept: AcceptSlot::default(),
            _direct: direct,
        }
    }

    /// Gives the address back to the node (the front's listener must be gone first).
    async fn close(self, node: &Node) {
        if let Some(accept) = take_accept(&self.accept) {
            accept.abort();
            let _ = accept.await;
        }
        let Some(setting) = self.moved else {
            tracing::info!(node = %node.member, addr = %node.addr, "node unfronted: no toxic left");
            return;
        };
        let mut result = Ok(());
        for _ in 0..50 {
            result = set_config(&node.client, &[port_setting(setting, node.addr)]).await;
            if result.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        match result {
            Ok(()) => {
                tracing::info!(node = %node.member, addr = %node.addr, "node unfronted: no toxic left")
            }
            Err(error) => {
                tracing::error!(node = %node.member, %error, "the node's port did not come back to its address")
            }
        }
    }
}

/// The setting whose port is the node's address: `port`, or `tls-port` for a `required` TLS
/// node (its `port` is 0).
async fn serving_setting(node: &Node) -> Result<&'static str, EngineError> {
    for setting in ["port", "tls-port"] {
        if listening_port(&node.client, setting).await? == node.addr.port() {
            return Ok(setting);
        }
    }
    Err(EngineError::Replication(format!(
        "{} does not listen on its address {} itself (a replication-lag front has it)",
        node.member, node.addr
    )))
}

fn port_setting(setting: &str, addr: SocketAddrV4) -> (String, String) {
    (setting.to_string(), addr.port().to_string())
}

/// The port `setting` (`port`, `tls-port`) names; 0 when it is off.
async fn listening_port(client: &NodeClient, setting: &str) -> Result<u16, EngineError> {
    let reply = client.command(&["CONFIG", "GET", setting]).await?;
    let port = match reply {
        Value::Array(items) => items.get(1).cloned(),
        Value::Map(pairs) => pairs.first().map(|(_, v)| v.clone()),
        _ => None,
    };
    match port {
        Some(Value::BulkString(bytes)) => String::from_utf8_lossy(&bytes).parse().ok(),
        _ => None,
    }
    .ok_or_else(|| EngineError::Replication(format!("CONFIG GET {setting}: no port")))
}

/// Kills the node's connections of clients and replicas (not the engine's, not its own link
/// to its primary), so they reconnect through the front.
async fn kill_client_connections(client: &NodeClient) {
    let Ok(list) = client.text(&["CLIENT", "LIST"]).await else {
        return;
    };
    let (engine_user, _) = super::restricted::engine_credentials();
    for line in list.lines() {
        let field = |name: &str| {
            line.split(' ')
                .find_map(|f| f.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
        };
        let own = field("user") == Some(engine_user);
        let master_link = field("flags").is_some_and(|f| f.contains('M'));
        if let (false, false, Some(id)) = (own, master_link, field("id")) {
            let _ = client.command(&["CLIENT", "KILL", "ID", id]).await;
        }
    }
}

async fn accept_loop(listener: TcpListener, node: SocketAddrV4) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                tokio::spawn(forward(client, node));
            }
            // Out of descriptors: the connection stays queued; try again shortly.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn forward(mut client: TcpStream, node: SocketAddrV4) {
    let Ok(mut upstream) = TcpStream::connect(node).await else {
        return; // dropping `client` closes it, as the node's refusal would
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    super::toxics::pipe(&mut client, &mut upstream).await;
}
