//! The runtime behind one Memcached cache cluster: its nodes (`0001`, `0002`, ...), each a
//! memcached process behind its own [`NodeProxy`] address (a loopback address of its own at
//! the cluster's port, 11211 by default, as on AWS), and a configuration endpoint on an
//! address of its own that forwards to the node proxies, so it answers Auto Discovery like
//! any node. Memcached has no
//! replication: a dead node is replaced empty at the same address.

use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::discovery::{DiscoveredNode, SharedTopology, Topology};
use super::node_proxy::NodeProxy;
use super::process::{MemcachedNodeSpec, MemcachedProcess, query_version};
use crate::engine::EngineError;
use crate::engine::address::{AddressPool, unassigned};
use crate::engine::proxy::EndpointProxy;

/// A node that does not answer `version` within this long is dead to the health check.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// True if the node answers a real `version` command within [`PROBE_TIMEOUT`].
async fn answers(process: &MemcachedProcess) -> bool {
    let socket = process.spec().socket_path();
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, query_version(&socket)).await,
        Ok(Ok(_))
    )
}

/// The name of node `id`'s proxy in the toxics registry: the cluster's id and the node's, as
/// AWS names a node in its DNS name (`<cluster>.<hash>.0001...`), so it is unique per cluster
/// where the node id alone (`0001`) is not.
pub(crate) fn toxics_proxy_name(cluster_id: &str, node_id: &str) -> String {
    format!("{cluster_id}-{node_id}")
}

/// How a Memcached cluster starts.
#[derive(Debug, Clone)]
pub(crate) struct MemcachedClusterSpec {
    pub cluster_id: String,
    pub memcached: PathBuf,
    /// The cluster's own dir; each node gets one under it.
    pub dir: PathBuf,
    /// Item memory per node (`-m`), from the node type.
    pub memory_mb: u32,
    /// Where the nodes and the configuration endpoint listen (the engine's pool).
    pub pool: Arc<AddressPool>,
    /// The port every node and the configuration endpoint listen on (`Port`), each on its own
    /// address.
    pub port: u16,
}

/// Where a Memcached cluster's configuration endpoint and nodes (by id) listened before a
/// server restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreviousMemcached {
    pub configuration: SocketAddrV4,
    pub nodes: Vec<(String, SocketAddrV4)>,
}

/// A running node: its id, its address, and its process while one runs.
struct MemcachedNode {
    id: String,
    proxy: NodeProxy,
    process: Option<MemcachedProcess>,
}

pub(crate) struct MemcachedCluster {
    spec: MemcachedClusterSpec,
    nodes: Vec<MemcachedNode>,
    /// Node ids are never reused: the next one added gets this number.
    next_id: u32,
    topology: SharedTopology,
    configuration_endpoint: EndpointProxy,
}

impl MemcachedCluster {
    /// Starts `count` nodes and the configuration endpoint (Auto Discovery version 1).
    pub async fn start(spec: MemcachedClusterSpec, count: usize) -> Result<Self, EngineError> {
        let wanted = unassigned(spec.port);
        let mut cluster = Self::open(spec, wanted).await?;
        cluster.start_nodes(count).await?;
        // The first published list is the cluster's version 1.
        cluster.publish();
        tracing::info!(cluster = %cluster.spec.cluster_id, nodes = count, "memcached cluster started");
        Ok(cluster)
    }

    /// A cluster brought back after a server restart: the same node ids, each node and the
    /// configuration endpoint on its previous address where that is free, every node empty.
    pub async fn start_again(
        spec: MemcachedClusterSpec,
        previous: &PreviousMemcached,
    ) -> Result<Self, EngineError> {
        let mut cluster = Self::open(spec, previous.configuration).await?;
        let numbers = previous
            .nodes
            .iter()
            .filter_map(|(id, _)| id.parse::<u32>().ok());
        cluster.next_id = numbers.max().unwrap_or(0) + 1;
        let listed = previous.nodes.iter().map(|(id, addr)| (id.clone(), *addr));
        cluster.start_listed(listed.collect()).await?;
        cluster.publish();
        let nodes = previous.nodes.len();
        tracing::info!(cluster = %cluster.spec.cluster_id, nodes, "memcached cluster started again");
        Ok(cluster)
    }

    /// The cluster with no node yet, its configuration endpoint at `wanted`.
    async fn open(spec: MemcachedClusterSpec, wanted: SocketAddrV4) -> Result<Self, EngineError> {
        let topology = SharedTopology::empty();
        let name = format!("{}-configuration", spec.cluster_id);
        let endpoint = EndpointProxy::bind_at(name, &spec.pool, wanted, false)
            .await
            .map_err(|e| EngineError::start(&spec.cluster_id, e.to_string()))?;
        Ok(Self {
            spec,
            nodes: Vec::new(),
            next_id: 1,
            topology,
            configuration_endpoint: endpoint,
        })
    }

    /// Adds `count` nodes (the next ids) and publishes the new list. Returns their ids. If a
    /// node fails to start, the ones that did start are kept and published, and the error is
    /// returned.
    pub async fn add_nodes(&mut self, count: usize) -> Result<Vec<String>, EngineError> {
        let before = self.nodes.len();
        let started = self.start_nodes(count).await;
        let added: Vec<String> = self.nodes[before..].iter().map(|n| n.id.clone()).collect();
        if !added.is_empty() {
            self.publish();
        }
        started.map(|()| added)
    }

    /// Removes the nodes `ids` (unknown ids are refused before anything changes): they leave
    /// the published list first, so clients stop using them, then stop.
    pub async fn remove_nodes(&mut self, ids: &[String]) -> Result<(), EngineError> {
        if let Some(unknown) = ids.iter().find(|id| self.index_of(id).is_none()) {
            return Err(EngineError::start(unknown, "no such cache node"));
        }
        let (removed, kept) = std::mem::take(&mut self.nodes)
            .into_iter()
            .partition(|n| ids.contains(&n.id));
        self.nodes = kept;
        self.publish();
        let mut stopping = JoinSet::new();
        for node in removed {
            node.proxy.close();
            if let Some(process) = node.process {
                stopping.spawn(process.stop());
            }
        }
        while stopping.join_next().await.is_some() {}
        Ok(())
    }

    /// Replaces node `id` with a fresh, empty memcached at the same address, and publishes a
    /// new configuration version.
    pub async fn replace_node(&mut self, id: &str) -> Result<(), EngineError> {
        let index = self
            .index_of(id)
            .ok_or_else(|| EngineError::start(id, "no such cache node"))?;
        if let Some(mut old) = self.nodes[index].process.take() {
            old.kill().await;
        }
        let process = MemcachedProcess::start(self.node_spec(id)).await?;
        self.nodes[index].process = Some(process);
        self.publish();
        tracing::info!(cluster = %self.spec.cluster_id, node = id, "memcached node replaced");
        Ok(())
    }

    /// Finds nodes whose process has exited or does not answer `version`, and replaces each
    /// empty. Returns the ids replaced (for the events the API writes).
    pub async fn check_health(&mut self) -> Result<Vec<String>, EngineError> {
        let mut dead = Vec::new();
        for node in &mut self.nodes {
            let alive = match &mut node.process {
                Some(process) => process.is_running() && answers(process).await,
                None => false,
            };
            if !alive {
                dead.push(node.id.clone());
            }
        }
        for id in &dead {
            self.replace_node(id).await?;
        }
        Ok(dead)
    }

    /// Stops every node and closes every address; the nodes' proxies leave the toxics registry.
    pub async fn stop(&mut self) {
        self.configuration_endpoint.close();
        let mut stopping = JoinSet::new();
        for node in self.nodes.drain(..) {
            node.proxy.close();
            if let Some(process) = node.process {
                stopping.spawn(process.stop());
            }
        }
        while stopping.join_next().await.is_some() {}
        tracing::info!(cluster = %self.spec.cluster_id, "memcached cluster stopped");
    }

    /// Every node's id and address, in id order.
    pub fn node_addresses(&self) -> Vec<(String, SocketAddrV4)> {
        self.nodes
            .iter()
            .map(|n| (n.id.clone(), n.proxy.addr()))
            .collect()
    }

    pub fn configuration_address(&self) -> SocketAddrV4 {
        self.configuration_endpoint.addr()
    }

    /// What Auto Discovery answers now.
    pub fn topology(&self) -> Topology {
        self.topology.current()
    }

    /// The memcached pid of every running node, by id (tests check none outlives the cluster).
    pub fn node_pids(&self) -> Vec<(String, u32)> {
        self.nodes
            .iter()
            .filter_map(|n| n.process.as_ref().map(|p| (n.id.clone(), p.pid())))
            .collect()
    }

    async fn start_nodes(&mut self, count: usize) -> Result<(), EngineError> {
        let mut listed = Vec::new();
        for _ in 0..count {
            listed.push((format!("{:04}", self.next_id), unassigned(self.spec.port)));
            self.next_id += 1;
        }
        self.start_listed(listed).await
    }

    /// Starts a node of each id, its proxy at the address given (an unassigned one: a new
    /// address at the cluster's port).
    async fn start_listed(
        &mut self,
        listed: Vec<(String, SocketAddrV4)>,
    ) -> Result<(), EngineError> {
        let mut starting = JoinSet::new();
        for (id, wanted) in listed {
            let spec = self.node_spec(&id);
            let topology = self.topology.clone();
            let pool = self.spec.pool.clone();
            let name = toxics_proxy_name(&self.spec.cluster_id, &id);
            starting.spawn(async move {
                let proxy = NodeProxy::bind(&name, spec.socket_path(), topology, &pool, wanted)
                    .await
                    .map_err(|e| EngineError::start(&id, e.to_string()))?;
                let process = MemcachedProcess::start(spec).await?;
                Ok::<_, EngineError>(MemcachedNode {
                    id,
                    proxy,
                    process: Some(process),
                })
            });
        }
        let mut first_error = None;
        while let Some(joined) = starting.join_next().await {
            match joined {
                Ok(Ok(node)) => self.nodes.push(node),
                Ok(Err(error)) => first_error = first_error.or(Some(error)),
                Err(error) => {
                    let detail = format!("node start task failed: {error}");
                    first_error =
                        first_error.or(Some(EngineError::start(&self.spec.cluster_id, detail)));
                }
            }
        }
        self.nodes.sort_by(|a, b| a.id.cmp(&b.id));
        first_error.map_or(Ok(()), Err)
    }

    fn node_spec(&self, id: &str) -> MemcachedNodeSpec {
        MemcachedNodeSpec {
            node_id: id.to_string(),
            memcached: self.spec.memcached.clone(),
            dir: self.spec.dir.join(id),
            memory_mb: self.spec.memory_mb,
        }
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// Each node's own address; its hostname is that IP too, the `Address` DescribeCacheClusters
    /// reports (there is no DNS name to give locally).
    fn discovered_nodes(&self) -> Vec<DiscoveredNode> {
        self.nodes
            .iter()
            .map(|n| DiscoveredNode {
                hostname: n.proxy.addr().ip().to_string(),
                ip: n.proxy.addr().ip().to_string(),
                port: n.proxy.addr().port(),
            })
            .collect()
    }

    fn publish(&mut self) {
        let version = self.topology.publish(self.discovered_nodes());
        self.point_endpoint();
        tracing::info!(cluster = %self.spec.cluster_id, version, "auto discovery configuration published");
    }

    fn point_endpoint(&self) {
        let nodes = self.nodes.iter().map(|n| n.proxy.addr()).collect();
        self.configuration_endpoint.switch(nodes);
    }
}
