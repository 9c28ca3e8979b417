//! The runtimes behind standalone cache clusters (not in a replication group): one
//! redis-server or valkey-server node `0001`, or a Memcached cluster of nodes (`memcached`). Neither replicates
//! nor fails over: a reboot or a repair brings a node back empty at its address. Every node
//! (and a Memcached cluster's configuration endpoint) gets its own loopback address from the
//! engine's pool, at the `Port` asked for, as replication groups' nodes do.

use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::sync::Arc;

use super::address::{AddressPool, unassigned};
use super::memcached::{
    MemcachedCluster, MemcachedClusterSpec, PreviousMemcached, locate_memcached,
};
use super::node::{NodeSlot, node_spec, set_config, start_on_free_address};
use super::node::{merge_config, start_on_address_or_free};
use super::{Engine, EngineError};

/// The one node id of a standalone Redis cluster.
const REDIS_NODE_ID: &str = "0001";

/// The name of a standalone cluster's node in the toxics registry (its Toxiproxy proxy):
/// `<CacheClusterId>-0001`, unique as a group member's id is (every standalone node is `0001`).
fn redis_node_proxy(cluster_id: &str) -> String {
    format!("{cluster_id}-{REDIS_NODE_ID}")
}

/// Where standalone clusters keep their dirs, under the scope's data dir: the dot keeps it
/// apart from every replication group's dir (group ids have no dots).
const STANDALONE_DIR: &str = "standalone.d";

/// Item memory (`-m`) of every memcached node: the node type's memory is not reserved locally.
const MEMCACHED_MEMORY_MB: u32 = 64;

/// How a standalone Redis or Valkey cluster's node starts.
pub(crate) struct StandaloneRedis {
    /// The redis-server or valkey-server it runs.
    pub binary: PathBuf,
    pub password: Option<String>,
    /// It listens on an address of its own at this port.
    pub port: u16,
    pub tls: Option<super::TlsMode>,
    /// A restore, or a restart: the RDB it loads at start.
    pub seed_rdb: Option<PathBuf>,
    /// A node brought back after a server restart: its previous address, where free.
    pub previous: Option<SocketAddrV4>,
}

/// A standalone cluster's runtime, behind an async mutex like a group's: a reboot, a scaling
/// step and a health repair never interleave.
pub type CacheClusterHandle = Arc<tokio::sync::Mutex<CacheClusterRuntime>>;

pub struct CacheClusterRuntime {
    nodes: StandaloneNodes,
    /// Set once stopped: a health check must never bring its nodes back.
    stopped: bool,
}

enum StandaloneNodes {
    // Both boxed: they differ in size by hundreds of bytes, and a runtime lives on the heap anyway.
    Redis(Box<RedisNode>),
    Memcached(Box<MemcachedCluster>),
}

/// The single redis-server (or valkey-server) of a standalone Redis (or Valkey) cluster.
struct RedisNode {
    slot: NodeSlot,
    redis_server: PathBuf,
    /// Where a restarted node goes if another process took its address meanwhile.
    pool: Arc<AddressPool>,
    dir: PathBuf,
    password: Option<String>,
    /// `CONFIG SET` pairs the node runs with, again after every restart.
    config: Vec<(String, String)>,
    /// Command-line settings of every restart (parameters a reboot applies).
    restart_config: Vec<(String, String)>,
    /// How the node speaks TLS, when it does, again after every restart.
    tls: Option<super::tls::NodeTls>,
}

impl RedisNode {
    fn client(&self) -> super::client::NodeClient {
        self.slot.client()
    }

    /// Kills the node and starts a fresh, empty one on the same port (a new one only if
    /// another process took it meanwhile), with the kept config.
    async fn restart(&mut self) -> Result<(), EngineError> {
        self.slot.kill().await;
        let mut spec = node_spec(
            REDIS_NODE_ID,
            &self.redis_server,
            &self.dir,
            self.password.clone(),
            self.slot.addr,
            None,
        );
        spec.name = self.slot.member.clone(); // its proxy's name; its dir stays `0001`
        spec.startup_config = self.restart_config.clone();
        spec.tls = self.tls.clone();
        let process = start_on_address_or_free(spec, &self.pool).await?;
        self.slot.addr = process.addr();
        self.slot.process = Some(process);
        set_config(&self.client(), &self.config).await
    }
}

impl CacheClusterRuntime {
    /// Every node's id and address, in id order.
    pub fn node_addresses(&self) -> Vec<(String, SocketAddrV4)> {
        match &self.nodes {
            StandaloneNodes::Redis(node) => vec![(REDIS_NODE_ID.to_string(), node.slot.addr)],
            StandaloneNodes::Memcached(cluster) => cluster.node_addresses(),
        }
    }

    /// The node a snapshot of the cluster is written from: its one Redis or Valkey node (its
    /// RDB stands for node group `0001`, as a cluster-mode-disabled group's does, so either
    /// restores the other). Memcached keeps no data on disk: none.
    pub fn snapshot_source(&self) -> Result<super::snapshot::SnapshotSource, EngineError> {
        match &self.nodes {
            StandaloneNodes::Redis(node) => Ok(super::snapshot::SnapshotSource {
                node_group_id: super::SINGLE_NODE_GROUP.to_string(),
                member: REDIS_NODE_ID.to_string(),
                client: node.client(),
                dir: node.dir.join(REDIS_NODE_ID),
            }),
            StandaloneNodes::Memcached(_) => Err(EngineError::Replication(
                "a Memcached cluster has no data to snapshot".into(),
            )),
        }
    }

    /// The Auto Discovery endpoint of a Memcached cluster.
    pub fn configuration_address(&self) -> Option<SocketAddrV4> {
        match &self.nodes {
            StandaloneNodes::Redis(_) => None,
            StandaloneNodes::Memcached(cluster) => Some(cluster.configuration_address()),
        }
    }

    /// Restarts each node in `node_ids`, empty, at its address (its Memcached Auto Discovery
    /// version is bumped, as for any node change); a Redis node starts with `settings` on its
    /// command line from now on. Unknown ids are refused by the API.
    pub async fn reboot(
        &mut self,
        node_ids: &[String],
        settings: &[(String, String)],
    ) -> Result<(), EngineError> {
        match &mut self.nodes {
            StandaloneNodes::Redis(node) => {
                merge_config(&mut node.restart_config, settings);
                node.restart().await
            }
            StandaloneNodes::Memcached(cluster) => {
                for id in node_ids {
                    cluster.replace_node(id).await?;
                }
                Ok(())
            }
        }
    }

    /// `CONFIG SET`s `settings` on the Redis node and keeps them for its restarts.
    pub async fn apply_config(&mut self, settings: &[(String, String)]) -> Result<(), EngineError> {
        match &mut self.nodes {
            StandaloneNodes::Redis(node) => {
                merge_config(&mut node.config, settings);
                set_config(&node.client(), settings).await
            }
            StandaloneNodes::Memcached(_) => Ok(()),
        }
    }

    /// Adds `count` Memcached nodes; their ids.
    pub async fn add_nodes(&mut self, count: usize) -> Result<Vec<String>, EngineError> {
        match &mut self.nodes {
            StandaloneNodes::Memcached(cluster) => cluster.add_nodes(count).await,
            StandaloneNodes::Redis(_) => Err(EngineError::Replication(
                "a Redis cache cluster has exactly one node".into(),
            )),
        }
    }

    /// Removes the Memcached nodes `ids`.
    pub async fn remove_nodes(&mut self, ids: &[String]) -> Result<(), EngineError> {
        match &mut self.nodes {
            StandaloneNodes::Memcached(cluster) => cluster.remove_nodes(ids).await,
            StandaloneNodes::Redis(_) => Err(EngineError::Replication(
                "a Redis cache cluster has exactly one node".into(),
            )),
        }
    }

    /// Replaces every node whose process exited or does not answer, empty at its address.
    /// Returns the ids replaced (empty once stopped).
    pub async fn repair_failed_nodes(&mut self) -> Result<Vec<String>, EngineError> {
        if self.stopped {
            return Ok(vec![]);
        }
        match &mut self.nodes {
            StandaloneNodes::Memcached(cluster) => cluster.check_health().await,
            StandaloneNodes::Redis(node) => {
                if !node.slot.still_failing().await {
                    return Ok(vec![]);
                }
                node.restart().await?;
                Ok(vec![REDIS_NODE_ID.to_string()])
            }
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    pub async fn stop(&mut self) {
        self.stopped = true;
        match &mut self.nodes {
            StandaloneNodes::Redis(node) => {
                if let Some(process) = node.slot.process.take() {
                    process.stop().await;
                }
            }
            StandaloneNodes::Memcached(cluster) => cluster.stop().await,
        }
    }
}

impl Engine {
    fn standalone_dir(&self, cluster_id: &str) -> PathBuf {
        self.data_dir.join(STANDALONE_DIR).join(cluster_id)
    }

    /// Starts the node of a standalone Redis or Valkey cluster as `start` says; its address.
    pub(crate) async fn start_redis_cluster(
        &self,
        cluster_id: &str,
        start: StandaloneRedis,
    ) -> Result<SocketAddrV4, EngineError> {
        let dir = self.standalone_dir(cluster_id);
        let tls = start.tls.map(|mode| super::tls::NodeTls {
            ca: self.ca(),
            mode,
            endpoint_ips: Vec::new(),
        });
        let mut spec = node_spec(
            REDIS_NODE_ID,
            &start.binary,
            &dir,
            start.password.clone(),
            start.previous.unwrap_or(unassigned(start.port)),
            None,
        );
        spec.name = redis_node_proxy(cluster_id); // its proxy's name; its dir stays `0001`
        spec.tls = tls.clone();
        spec.seed_rdb = start.seed_rdb;
        let process = start_on_free_address(spec, &self.addresses).await?;
        let addr = process.addr();
        let node = RedisNode {
            slot: NodeSlot {
                member: redis_node_proxy(cluster_id),
                addr,
                process: Some(process),
            },
            redis_server: start.binary,
            pool: self.addresses.clone(),
            dir,
            password: start.password,
            config: Vec::new(),
            restart_config: Vec::new(),
            tls,
        };
        self.register_cache_cluster(cluster_id, StandaloneNodes::Redis(Box::new(node)));
        tracing::info!(cluster = %cluster_id, %addr, "standalone cache cluster node running");
        Ok(addr)
    }

    /// Where a standalone cluster's Redis node keeps its RDB (what a restart starts from).
    pub(crate) fn standalone_node_dir(&self, cluster_id: &str) -> PathBuf {
        self.standalone_dir(cluster_id).join(REDIS_NODE_ID)
    }

    /// Starts `count` Memcached nodes and the configuration endpoint, each on an address of its
    /// own at `port`; with `previous` (a cluster brought back after a restart), its node ids
    /// on their previous addresses instead.
    pub(crate) async fn start_memcached_cluster(
        &self,
        cluster_id: &str,
        count: usize,
        port: u16,
        previous: Option<&PreviousMemcached>,
    ) -> Result<(), EngineError> {
        let memcached = locate_memcached(None).map_err(|e| EngineError::start(cluster_id, e))?;
        let spec = MemcachedClusterSpec {
            cluster_id: cluster_id.to_string(),
            memcached,
            dir: self.standalone_dir(cluster_id),
            memory_mb: MEMCACHED_MEMORY_MB,
            pool: self.addresses.clone(),
            port,
        };
        let cluster = match previous {
            Some(previous) => MemcachedCluster::start_again(spec, previous).await?,
            None => MemcachedCluster::start(spec, count).await?,
        };
        self.register_cache_cluster(cluster_id, StandaloneNodes::Memcached(Box::new(cluster)));
        Ok(())
    }

    /// The version `memcached -V` reports (the default `EngineVersion`), or why there is none.
    pub(crate) async fn memcached_version(&self) -> Result<String, String> {
        let memcached = locate_memcached(None)?;
        super::memcached::memcached_version(&memcached).await
    }

    fn register_cache_cluster(&self, cluster_id: &str, nodes: StandaloneNodes) {
        let runtime = CacheClusterRuntime {
            nodes,
            stopped: false,
        };
        self.cache_clusters
            .lock()
            .expect("engine registry poisoned")
            .insert(
                cluster_id.to_string(),
                Arc::new(tokio::sync::Mutex::new(runtime)),
            );
    }

    /// The runtime of a running standalone cluster.
    pub(crate) fn cache_cluster(
        &self,
        cluster_id: &str,
    ) -> Result<CacheClusterHandle, EngineError> {
        self.cache_clusters
            .lock()
            .expect("engine registry poisoned")
            .get(cluster_id)
            .cloned()
            .ok_or_else(|| EngineError::UnknownGroup(cluster_id.to_string()))
    }

    /// Stops a standalone cluster's nodes and removes its dir.
    pub(crate) async fn stop_cache_cluster(&self, cluster_id: &str) {
        let handle = self
            .cache_clusters
            .lock()
            .expect("engine registry poisoned")
            .remove(cluster_id);
        if let Some(runtime) = handle {
            runtime.lock().await.stop().await;
        }
        let _ = std::fs::remove_dir_all(self.standalone_dir(cluster_id));
    }

    /// Every standalone cluster's runtime, removed from the registry (for shutdown).
    pub(super) fn drain_cache_clusters(&self) -> Vec<CacheClusterHandle> {
        self.cache_clusters
            .lock()
            .expect("engine registry poisoned")
            .drain()
            .map(|(_, handle)| handle)
            .collect()
    }
}
