//! The proxies toxics can act on (every endpoint proxy, replication relay and node registers
//! itself under its name while it lives) and their toxics and enabled flag, with Toxiproxy's
//! rules and errors.
//!
//! A node's proxy is the node's network, not its process: when the process goes (a kill, a
//! reboot, a failover's recovery) a proxy with toxics, or disabled, stays listed, parked, and
//! the node's next process takes it over with its toxics. It goes when the node's member does
//! ([`ToxicRegistry::forget_node`]).
//!
//! The registry is one per process ([`ToxicRegistry::global`]): endpoint proxies are opened
//! deep inside the engine's runtimes, and a global lets them register without threading a
//! handle through every runtime. The server keeps the same `Arc` in its state.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use tokio::sync::watch;

use super::Rng;
use super::spec::{self, NewToxic, Stream, ToxicSpec};

/// Toxiproxy's API errors; the HTTP edge maps each to its status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToxicsError {
    #[error("bad request body: {0}")]
    BadRequestBody(String),
    #[error("missing required field: {0}")]
    MissingField(&'static str),
    #[error("proxy not found")]
    ProxyNotFound,
    #[error("proxy already exists")]
    ProxyAlreadyExists,
    #[error("stream was invalid, can be either upstream or downstream")]
    InvalidStream,
    #[error("invalid toxic type")]
    InvalidToxicType,
    #[error("toxic already exists")]
    ToxicAlreadyExists,
    #[error("toxic not found")]
    ToxicNotFound,
    /// Something Toxiproxy allows that an endpoint of a replication group cannot do.
    #[error("{0}")]
    Unsupported(String),
}

/// What a live connection follows: the proxy's enabled flag and its toxics, in order added.
#[derive(Debug, Clone, Default)]
pub struct ProxyConfig {
    pub enabled: bool,
    pub toxics: Vec<ToxicSpec>,
    /// Bumped at every change, so a node's front can say which change it has applied.
    pub version: u64,
}

impl ProxyConfig {
    fn fresh() -> Self {
        Self {
            enabled: true,
            toxics: Vec::new(),
            version: 0,
        }
    }

    /// True when the proxy changes what passes (a toxic, or disabled).
    fn poisons(&self) -> bool {
        !self.toxics.is_empty() || !self.enabled
    }

    pub fn toxics_of(&self, stream: Stream) -> Vec<ToxicSpec> {
        self.toxics
            .iter()
            .filter(|t| t.stream == stream)
            .cloned()
            .collect()
    }
}

struct ProxyEntry {
    registration: u64,
    listen: SocketAddrV4,
    targets: watch::Receiver<Vec<SocketAddrV4>>,
    config: watch::Sender<Arc<ProxyConfig>>,
    connections: u64,
    /// A node's proxy: the version of the config its front has applied (see
    /// [`ToxicRegistry::settled`]); `None` for an endpoint, whose connections follow at once.
    applied: Option<watch::Receiver<Applied>>,
    /// Why no toxic can be set on this proxy (a node whose address cannot be fronted).
    refusal: Option<String>,
    /// A node's proxy (kept, parked, when its process goes with toxics on it).
    node: bool,
    /// What `upstream` shows instead of `targets`: a memcached node's Unix socket.
    socket: Option<String>,
}

/// The `registration` of a parked node proxy: no process holds it.
const PARKED: u64 = 0;

/// What a node's front reports after following a config version.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub version: u64,
    /// Why the toxics do not act (the node's address could not be fronted).
    pub error: Option<String>,
}

/// A proxy as the API shows it.
#[derive(Debug, Clone)]
pub struct ProxyView {
    pub name: String,
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
    /// Upstream toxics first, then downstream, each in the order added (as Toxiproxy lists).
    pub toxics: Vec<ToxicSpec>,
}

/// One connection's hold on its proxy's toxics.
pub struct ConnectionLink {
    pub proxy: String,
    pub config: watch::Receiver<Arc<ProxyConfig>>,
    /// Seeded from the server's seed, the proxy's name and the connection's number.
    pub rng: Rng,
}

pub struct ToxicRegistry {
    proxies: Mutex<BTreeMap<String, ProxyEntry>>,
    seed: AtomicU64,
    next_id: AtomicU64,
}

static GLOBAL: LazyLock<Arc<ToxicRegistry>> = LazyLock::new(|| Arc::new(ToxicRegistry::new()));

impl Default for ToxicRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl ToxicRegistry {
    pub fn new() -> Self {
        // Unseeded runs still differ from each other, as Toxiproxy's do.
        let seed = u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap());
        Self {
            proxies: Mutex::new(BTreeMap::new()),
            seed: AtomicU64::new(seed),
            next_id: AtomicU64::new(1),
        }
    }

    pub fn global() -> Arc<ToxicRegistry> {
        GLOBAL.clone()
    }

    /// Makes the toxics' random draws repeat (`--toxics-seed`).
    pub fn set_seed(&self, seed: u64) {
        self.seed.store(seed, Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, ProxyEntry>> {
        self.proxies.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lists the proxy `name` listening on `listen` and forwarding to `targets`, until
    /// the returned guard drops. A proxy registered again under the same name replaces the
    /// old one (a group recreated with the same id), with no toxics.
    pub fn register(
        self: &Arc<Self>,
        name: &str,
        listen: SocketAddrV4,
        targets: watch::Receiver<Vec<SocketAddrV4>>,
    ) -> Registration {
        self.insert(name, listen, targets, None, None).0
    }

    /// [`Self::register`] for a proxy whose upstream is the Unix socket `socket` (a memcached
    /// node: its front is permanent, so its toxics act at once, as an endpoint's do).
    pub fn register_socket(
        self: &Arc<Self>,
        name: &str,
        listen: SocketAddrV4,
        socket: &std::path::Path,
    ) -> Registration {
        let (_, targets) = watch::channel(Vec::new());
        let (registration, _) = self.insert(name, listen, targets, None, None);
        if let Some(entry) = self.lock().get_mut(name) {
            entry.socket = Some(format!("unix:{}", socket.display()));
        }
        registration
    }

    /// [`Self::register`] for a node: toxics act only once its front has applied them, so the
    /// node follows the returned config and reports each version it applied on `applied`.
    /// With a `refusal`, adding a toxic or disabling the proxy is refused with that reason.
    pub fn register_node(
        self: &Arc<Self>,
        name: &str,
        listen: SocketAddrV4,
        targets: watch::Receiver<Vec<SocketAddrV4>>,
        applied: watch::Receiver<Applied>,
        refusal: Option<String>,
    ) -> (Registration, watch::Receiver<Arc<ProxyConfig>>) {
        self.insert(name, listen, targets, Some(applied), refusal)
    }

    /// Unlists the node proxy `name` if it is parked (its member is gone for good).
    pub fn forget_node(&self, name: &str) {
        let mut proxies = self.lock();
        if proxies.get(name).is_some_and(|e| e.registration == PARKED) {
            proxies.remove(name);
            tracing::info!(
                proxy = name,
                "node gone: its parked proxy and toxics with it"
            );
        }
    }

    fn insert(
        self: &Arc<Self>,
        name: &str,
        listen: SocketAddrV4,
        targets: watch::Receiver<Vec<SocketAddrV4>>,
        applied: Option<watch::Receiver<Applied>>,
        refusal: Option<String>,
    ) -> (Registration, watch::Receiver<Arc<ProxyConfig>>) {
        let registration = self.next_id.fetch_add(1, Ordering::Relaxed);
        let node = applied.is_some();
        let mut proxies = self.lock();
        // A node's new process on the same address takes over its parked proxy and toxics.
        let kept = proxies.remove(name).filter(|old| {
            node && old.registration == PARKED && old.listen == listen && refusal.is_none()
        });
        let (config, connections) = match kept {
            Some(old) => (old.config, old.connections),
            None => (watch::channel(Arc::new(ProxyConfig::fresh())).0, 0),
        };
        let follower = config.subscribe();
        let entry = ProxyEntry {
            registration,
            listen,
            targets,
            config,
            connections,
            applied,
            refusal,
            node,
            socket: None,
        };
        proxies.insert(name.to_string(), entry);
        drop(proxies);
        let guard = Registration {
            registry: self.clone(),
            name: name.to_string(),
            registration,
        };
        (guard, follower)
    }

    /// Waits until the proxy `name`'s last change acts (a node's front is up or down as its
    /// toxics ask), at most `limit`; the reason when it does not.
    pub async fn settled(&self, name: &str, limit: std::time::Duration) -> Result<(), String> {
        let (version, applied) = {
            let proxies = self.lock();
            let Some(entry) = proxies.get(name) else {
                return Ok(());
            };
            (entry.config.borrow().version, entry.applied.clone())
        };
        let Some(mut applied) = applied else {
            return Ok(());
        };
        let wait = applied.wait_for(|done| done.version >= version);
        match tokio::time::timeout(limit, wait).await {
            Ok(Ok(done)) => done.error.clone().map_or(Ok(()), Err),
            Ok(Err(_)) => Ok(()), // the node is gone, and its proxy with it
            Err(_) => Err(format!("{name}: its front did not follow within {limit:?}")),
        }
    }

    /// A new connection accepted on `listen`, or `None` when no proxy listens there.
    pub fn connect(&self, listen: SocketAddrV4) -> Option<ConnectionLink> {
        let mut proxies = self.lock();
        let (name, entry) = proxies.iter_mut().find(|(_, e)| e.listen == listen)?;
        let number = entry.connections;
        entry.connections += 1;
        let seed = Rng::new(self.seed.load(Ordering::Relaxed));
        Some(ConnectionLink {
            proxy: name.clone(),
            config: entry.config.subscribe(),
            rng: seed.derive(&[name.as_bytes(), &number.to_le_bytes()]),
        })
    }

    pub fn proxies(&self) -> Vec<ProxyView> {
        self.lock().iter().map(|(n, e)| view(n, e)).collect()
    }

    pub fn proxy(&self, name: &str) -> Result<ProxyView, ToxicsError> {
        let proxies = self.lock();
        let entry = proxies.get(name).ok_or(ToxicsError::ProxyNotFound)?;
        Ok(view(name, entry))
    }

    /// Disabling drops every connection and closes new ones at once; enabling restores.
    pub fn set_enabled(&self, name: &str, enabled: bool) -> Result<ProxyView, ToxicsError> {
        self.change(name, |config| {
            config.enabled = enabled;
            Ok(())
        })?;
        self.proxy(name)
    }

    pub fn toxic(&self, proxy: &str, toxic: &str) -> Result<ToxicSpec, ToxicsError> {
        self.proxy(proxy)?
            .toxics
            .into_iter()
            .find(|t| t.name == toxic)
            .ok_or(ToxicsError::ToxicNotFound)
    }

    pub fn add_toxic(&self, proxy: &str, toxic: NewToxic) -> Result<ToxicSpec, ToxicsError> {
        let spec = ToxicSpec {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            revision: 0,
            name: toxic.name,
            kind: toxic.kind,
            stream: toxic.stream,
            toxicity: toxic.toxicity,
        };
        self.change(proxy, |config| {
            if config.toxics.iter().any(|t| t.name == spec.name) {
                return Err(ToxicsError::ToxicAlreadyExists);
            }
            config.toxics.push(spec.clone());
            Ok(())
        })?;
        tracing::info!(proxy, toxic = %spec.name, r#type = spec.kind.type_name(), stream = spec.stream.as_str(), toxicity = spec.toxicity, attributes = %spec.kind.attributes(), "toxic added");
        Ok(spec)
    }

    /// Applies an update body (Toxiproxy's `attributes` and `toxicity`) to a toxic.
    pub fn update_toxic(
        &self,
        proxy: &str,
        toxic: &str,
        body: &[u8],
    ) -> Result<ToxicSpec, ToxicsError> {
        let mut updated = None;
        self.change(proxy, |config| {
            let current = config
                .toxics
                .iter_mut()
                .find(|t| t.name == toxic)
                .ok_or(ToxicsError::ToxicNotFound)?;
            let (kind, toxicity) = spec::parse_update(current, body)?;
            current.kind = kind;
            current.toxicity = toxicity;
            current.revision += 1;
            updated = Some(current.clone());
            Ok(())
        })?;
        let spec = updated.ok_or(ToxicsError::ToxicNotFound)?;
        tracing::info!(proxy, toxic, attributes = %spec.kind.attributes(), toxicity = spec.toxicity, "toxic updated");
        Ok(spec)
    }

    pub fn remove_toxic(&self, proxy: &str, toxic: &str) -> Result<(), ToxicsError> {
        self.change(proxy, |config| {
            let before = config.toxics.len();
            config.toxics.retain(|t| t.name != toxic);
            if config.toxics.len() == before {
                return Err(ToxicsError::ToxicNotFound);
            }
            Ok(())
        })?;
        tracing::info!(proxy, toxic, "toxic removed");
        Ok(())
    }

    /// Toxiproxy's `POST /reset`: every proxy enabled, every toxic removed. Connection numbers
    /// start again from 0 too, so a seeded run replays after a reset.
    pub fn reset(&self) {
        let mut proxies = self.lock();
        for entry in proxies.values_mut() {
            entry.connections = 0;
            entry.config.send_modify(|config| {
                *config = Arc::new(ProxyConfig {
                    enabled: true,
                    toxics: Vec::new(),
                    version: config.version + 1,
                })
            });
        }
        tracing::info!("toxics reset: every proxy enabled, every toxic removed");
    }

    fn change(
        &self,
        name: &str,
        edit: impl FnOnce(&mut ProxyConfig) -> Result<(), ToxicsError>,
    ) -> Result<(), ToxicsError> {
        let proxies = self.lock();
        let entry = proxies.get(name).ok_or(ToxicsError::ProxyNotFound)?;
        let mut config = ProxyConfig::clone(&entry.config.borrow());
        edit(&mut config)?;
        if let Some(refusal) = entry.refusal.as_ref().filter(|_| config.poisons()) {
            return Err(ToxicsError::Unsupported(format!("{name}: {refusal}")));
        }
        config.version += 1;
        entry.config.send_replace(Arc::new(config));
        Ok(())
    }
}

fn view(name: &str, entry: &ProxyEntry) -> ProxyView {
    let config = entry.config.borrow().clone();
    let upstream = entry.socket.clone().unwrap_or_else(|| {
        let targets = entry.targets.borrow();
        let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        targets.join(",")
    });
    let mut toxics = config.toxics_of(Stream::Upstream);
    toxics.extend(config.toxics_of(Stream::Downstream));
    ProxyView {
        name: name.to_string(),
        listen: entry.listen.to_string(),
        upstream,
        enabled: config.enabled,
        toxics,
    }
}

/// Keeps a proxy listed; dropping it removes the proxy (unless it was registered anew).
pub struct Registration {
    registry: Arc<ToxicRegistry>,
    name: String,
    registration: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut proxies = self.registry.lock();
        let Some(entry) = proxies
            .get_mut(&self.name)
            .filter(|e| e.registration == self.registration)
        else {
            return;
        };
        if entry.node && entry.config.borrow().poisons() {
            // Parked: the node's next process takes its toxics over.
            entry.registration = PARKED;
            entry.applied = None;
            entry.targets = watch::channel(vec![entry.listen]).1;
            return;
        }
        proxies.remove(&self.name);
    }
}

#[cfg(test)]
mod tests;
