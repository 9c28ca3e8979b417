//! The proxies toxics can act on (every endpoint proxy, replication relay and node registers
//! itself under its name while it lives) and their toxics and enabled flag, with Toxiproxy's
//! rules and errors.
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
}

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

    fn insert(
        self: &Arc<Self>,
        name: &str,
        listen: SocketAddrV4,
        targets: watch::Receiver<Vec<SocketAddrV4>>,
        applied: Option<watch::Receiver<Applied>>,
        refusal: Option<String>,
    ) -> (Registration, watch::Receiver<Arc<ProxyConfig>>) {
        let registration = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (config, follower) = watch::channel(Arc::new(ProxyConfig {
            enabled: true,
            toxics: Vec::new(),
            version: 0,
        }));
        let entry = ProxyEntry {
            registration,
            listen,
            targets,
            config,
            connections: 0,
            applied,
            refusal,
        };
        self.lock().insert(name.to_string(), entry);
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
        let poisons = !config.toxics.is_empty() || !config.enabled;
        if let Some(refusal) = entry.refusal.as_ref().filter(|_| poisons) {
            return Err(ToxicsError::Unsupported(format!("{name}: {refusal}")));
        }
        config.version += 1;
        entry.config.send_replace(Arc::new(config));
        Ok(())
    }
}

fn view(name: &str, entry: &ProxyEntry) -> ProxyView {
    let config = entry.config.borrow().clone();
    let upstream = entry
        .targets
        .borrow()
        .iter()
        .map(|target| target.to_string())
        .collect::<Vec<_>>()
        .join(",");
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
        if proxies
            .get(&self.name)
            .is_some_and(|e| e.registration == self.registration)
        {
            proxies.remove(&self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, port)
    }

    fn registry_with(name: &str, port: u16) -> (Arc<ToxicRegistry>, Registration) {
        let registry = Arc::new(ToxicRegistry::new());
        let (_sender, targets) = watch::channel(vec![local(7000)]);
        let registration = registry.register(name, local(port), targets);
        (registry, registration)
    }

    fn latency(name: &str) -> NewToxic {
        spec::parse_create(
            format!(r#"{{"name":"{name}","type":"latency","attributes":{{"latency":5}}}}"#)
                .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn toxics_are_named_uniquely_and_found_by_name() {
        let (registry, _guard) = registry_with("g-primary", 1);
        registry.add_toxic("g-primary", latency("a")).unwrap();
        assert_eq!(
            registry.add_toxic("g-primary", latency("a")),
            Err(ToxicsError::ToxicAlreadyExists)
        );
        assert_eq!(
            registry.add_toxic("nope", latency("a")),
            Err(ToxicsError::ProxyNotFound)
        );
        assert_eq!(registry.toxic("g-primary", "a").unwrap().name, "a");
        assert_eq!(
            registry.remove_toxic("g-primary", "b"),
            Err(ToxicsError::ToxicNotFound)
        );
        registry.remove_toxic("g-primary", "a").unwrap();
        assert!(registry.proxy("g-primary").unwrap().toxics.is_empty());
        let view = registry.proxy("g-primary").unwrap();
        assert_eq!(view.upstream, "127.0.0.1:7000");
        assert_eq!(view.listen, "127.0.0.1:1");
    }

    #[tokio::test]
    async fn a_node_proxy_settles_when_its_front_reports_and_may_refuse_toxics() {
        let registry = Arc::new(ToxicRegistry::new());
        let (_sender, targets) = watch::channel(vec![local(7000)]);
        let (applied, reports) = watch::channel(Applied::default());
        let (_node, mut follower) =
            registry.register_node("g-001", local(4), targets.clone(), reports, None);
        registry.add_toxic("g-001", latency("a")).unwrap();
        let version = follower.borrow_and_update().version;
        let short = std::time::Duration::from_millis(50);
        assert!(
            registry.settled("g-001", short).await.is_err(),
            "not applied yet"
        );
        applied.send_replace(Applied {
            version,
            error: Some("no front".into()),
        });
        assert_eq!(
            registry.settled("g-001", short).await,
            Err("no front".into())
        );
        applied.send_replace(Applied {
            version,
            error: None,
        });
        assert_eq!(registry.settled("g-001", short).await, Ok(()));

        let (_reports, refused) = watch::channel(Applied::default());
        let why = Some("TLS".to_string());
        let (_tls, _) = registry.register_node("g-002", local(5), targets, refused, why);
        assert_eq!(
            registry.add_toxic("g-002", latency("a")),
            Err(ToxicsError::Unsupported("g-002: TLS".into()))
        );
        assert!(registry.set_enabled("g-002", false).is_err());
        assert!(registry.set_enabled("g-002", true).is_ok());
    }

    #[test]
    fn a_connection_sees_changes_and_dropping_the_guard_unlists() {
        let (registry, guard) = registry_with("g-reader", 2);
        let mut link = registry.connect(local(2)).unwrap();
        assert!(registry.connect(local(3)).is_none());
        registry.set_enabled("g-reader", false).unwrap();
        assert!(link.config.has_changed().unwrap());
        assert!(!link.config.borrow_and_update().enabled);
        registry.reset();
        assert!(link.config.borrow_and_update().enabled);
        drop(guard);
        assert_eq!(
            registry.proxy("g-reader").unwrap_err(),
            ToxicsError::ProxyNotFound
        );
    }
}
