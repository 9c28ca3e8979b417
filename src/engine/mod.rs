//! The engine: real redis-server and valkey-server processes, replication, promotion and the endpoint proxies.
//! Knows nothing of HTTP or XML; speaks in member ids and addresses.

mod acl;
pub(crate) mod address;
mod auth;
pub mod binaries;
mod blackhole;
pub(crate) mod client;
mod cluster;
mod error;
mod held_down;
mod iam_front;
mod lag_front;
// Parts (node pids, the topology) are only read by its own tests.
#[allow(dead_code, unused_imports)]
mod memcached;
mod node;
mod node_command;
mod node_toxics;
mod ping;
pub mod process;
mod proxy;
mod replicated;
pub mod restricted;
mod runtime;
pub(crate) mod snapshot;
mod standalone;
pub mod tls;
mod tls_front;
mod tls_switch;
pub(crate) mod toxics;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) use acl::AclUser;
pub use address::Addressing;
pub(crate) use auth::AuthUpdate;
pub use binaries::Binaries;
pub(crate) use binaries::{ChosenBinary, MajorMinor, major_minor};
pub(crate) use cluster::topology::{SLOT_COUNT, even_slot_ranges};
pub(crate) use cluster::{ClusterSpec, PreviousClusterAddresses, ShardSpec, StartedCluster};
pub(crate) use error::EngineError;
pub(crate) use iam_front::{IamTokens, TokenVerdict};
pub(crate) use memcached::PreviousMemcached;
pub(crate) use node::{NodeHealth, probe};
pub use proxy::behaviour::EndpointBehaviour;
pub(crate) use proxy::behaviour::set as set_endpoint_behaviour;
pub(crate) use replicated::{GroupSpec, PreviousAddresses, StartedGroup};
pub(crate) use runtime::{Runtime, RuntimeHandle};
pub(crate) use standalone::{CacheClusterHandle, StandaloneRedis};
pub use tls::{CertificateAuthority, TlsMode};

/// The one node group of a cluster-mode-disabled group.
pub(crate) const SINGLE_NODE_GROUP: &str = "0001";

pub struct Engine {
    /// The server binaries nodes can run (their versions learned once, shared by every engine
    /// made with [`Engine::with_data_dir`]).
    binaries: Binaries,
    data_dir: PathBuf,
    /// Where nodes and endpoints listen; one pool per server run, shared like `version`.
    addresses: Arc<address::AddressPool>,
    groups: Mutex<HashMap<String, RuntimeHandle>>,
    /// Standalone cache clusters (Redis or Memcached), by cluster id: see `standalone`.
    cache_clusters: Mutex<HashMap<String, CacheClusterHandle>>,
    /// Signs every TLS node's certificate; one per server run, shared like `addresses`.
    ca: Arc<CertificateAuthority>,
}

impl Engine {
    /// An engine whose only binary is `redis_server` (unit tests, benches).
    pub fn new(redis_server: PathBuf, data_dir: PathBuf) -> Self {
        Self::with_binaries(Binaries::redis_only(redis_server), data_dir)
    }

    pub fn with_binaries(binaries: Binaries, data_dir: PathBuf) -> Self {
        Self {
            binaries,
            data_dir,
            addresses: Arc::new(address::AddressPool::new(Addressing::default())),
            groups: Mutex::new(HashMap::new()),
            cache_clusters: Mutex::new(HashMap::new()),
            ca: Arc::new(
                CertificateAuthority::generate().expect("an ECDSA key can always be made"),
            ),
        }
    }

    /// The same engine, its TLS nodes' certificates signed by `ca` (the user's
    /// `--tls-ca-cert`).
    pub fn with_ca(self, ca: CertificateAuthority) -> Self {
        Self {
            ca: Arc::new(ca),
            ..self
        }
    }

    /// The CA TLS nodes' certificates chain to: what clients verify them against.
    pub fn ca(&self) -> Arc<CertificateAuthority> {
        self.ca.clone()
    }

    /// Whether the nodes of `binary` can speak TLS (see [`tls::binary_supports_tls`]).
    pub async fn binary_supports_tls(&self, binary: &Path) -> bool {
        tls::binary_supports_tls(binary).await
    }

    /// The same engine, its nodes and endpoints placed as `addressing` says.
    pub fn with_addressing(self, addressing: Addressing) -> Self {
        Self {
            addresses: Arc::new(address::AddressPool::new(addressing)),
            ..self
        }
    }

    /// An engine with no groups yet that runs the same binaries (their versions learned once
    /// for both), places nodes from the same address pool and keeps its groups' dirs under
    /// `data_dir`: one per account and region, so groups of the same id in two of them never
    /// share a dir.
    pub fn with_data_dir(&self, data_dir: PathBuf) -> Self {
        Self {
            binaries: self.binaries.clone(),
            data_dir,
            addresses: Arc::clone(&self.addresses),
            groups: Mutex::new(HashMap::new()),
            cache_clusters: Mutex::new(HashMap::new()),
            ca: Arc::clone(&self.ca),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The binary a group of `engine` at `wanted` (major.minor; `None`: the engine's default)
    /// runs, built with TLS when `needs_tls` and there is one: see [`Binaries::choose`].
    pub(crate) async fn choose_binary(
        &self,
        engine: &str,
        wanted: Option<MajorMinor>,
        needs_tls: bool,
    ) -> Result<ChosenBinary, EngineError> {
        self.binaries.choose(engine, wanted, needs_tls).await
    }

    /// Starts every node of a group, links the replicas and opens its endpoints.
    pub(crate) async fn start_group(&self, spec: GroupSpec) -> Result<StartedGroup, EngineError> {
        let group_id = spec.group_id.clone();
        let dir = self.data_dir.join(&group_id);
        let (runtime, started) =
            replicated::GroupRuntime::start(spec, dir, self.addresses.clone(), self.ca()).await?;
        self.register(group_id, Runtime::Replicated(runtime));
        Ok(started)
    }

    /// Starts every node of a cluster-mode-enabled group, forms the cluster and opens its
    /// configuration endpoint.
    pub(crate) async fn start_cluster(
        &self,
        spec: ClusterSpec,
    ) -> Result<StartedCluster, EngineError> {
        let group_id = spec.group_id.clone();
        let dir = self.data_dir.join(&group_id);
        let (runtime, started) =
            cluster::ClusterRuntime::start(spec, dir, self.addresses.clone(), self.ca()).await?;
        self.register(group_id, Runtime::Cluster(runtime));
        Ok(started)
    }

    fn register(&self, group_id: String, runtime: Runtime) {
        self.groups
            .lock()
            .expect("engine registry poisoned")
            .insert(group_id, Arc::new(tokio::sync::Mutex::new(runtime)));
    }

    /// The runtime of a running group, in either cluster mode.
    pub(crate) fn runtime(&self, group_id: &str) -> Result<RuntimeHandle, EngineError> {
        self.groups
            .lock()
            .expect("engine registry poisoned")
            .get(group_id)
            .cloned()
            .ok_or_else(|| EngineError::UnknownGroup(group_id.to_string()))
    }

    /// Stops a group's nodes and closes its endpoints.
    pub(crate) async fn stop_group(&self, group_id: &str) {
        let handle = self
            .groups
            .lock()
            .expect("engine registry poisoned")
            .remove(group_id);
        if let Some(runtime) = handle {
            runtime.lock().await.stop().await;
        }
    }

    /// Stops everything. A group whose workflow does not yield within a moment is left to
    /// `Drop`, which kills and reaps its processes when the runtime ends the workflow.
    pub(crate) async fn shutdown(&self) {
        let handles: Vec<RuntimeHandle> = self
            .groups
            .lock()
            .expect("engine registry poisoned")
            .drain()
            .map(|(_, h)| h)
            .collect();
        for handle in handles {
            let stop = async move { handle.lock().await.stop().await };
            let _ = tokio::time::timeout(Duration::from_secs(2), stop).await;
        }
        for handle in self.drain_cache_clusters() {
            let stop = async move { handle.lock().await.stop().await };
            let _ = tokio::time::timeout(Duration::from_secs(2), stop).await;
        }
    }
}
