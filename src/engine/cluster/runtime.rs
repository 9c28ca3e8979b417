//! The processes behind one cluster-mode-enabled replication group: a real Redis Cluster whose
//! shards are the node groups. It is formed directly (slots and config epochs on the primaries,
//! a full-mesh `CLUSTER MEET`, `CLUSTER REPLICATE`) instead of through
//! `redis-cli --cluster create` and its fixed sleeps; see `../shared/spec/redis-mechanics.md`.

use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::topology::{ExpectedNode, disagreement, is_serving};
use crate::engine::EngineError;
use crate::engine::address::{AddressPool, unassigned};
use crate::engine::client::NodeClient;
use crate::engine::held_down::HeldDown;
use crate::engine::node::{NodeSlot, node_spec, start_all, wait_replica_synced};
use crate::engine::process::{ClusterNodeConfig, NodeSpec, RedisProcess};
use crate::engine::proxy::EndpointProxy;
use crate::engine::snapshot::{SnapshotSource, import_into_cluster};
use crate::engine::tls::{CertificateAuthority, NodeTls};

pub use super::spec::{ClusterSpec, PreviousClusterAddresses, ShardSpec, StartedCluster};

/// Forming a cluster, and converging after a failover, normally takes 0.1-2.5 s (Redis keeps a
/// new primary out of service for 2 s after it starts); a loaded machine gets ample room: a
/// recovery right after a resharding went past 20 s twice with the whole suite running.
const CONVERGE_DEADLINE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(5);

/// A node of the cluster: its slot (member, address, process), its shard and its cluster node id.
pub struct ClusterNode {
    pub(super) slot: NodeSlot,
    pub(super) shard: usize,
    pub(super) node_id: String,
    pub(super) bus_port: u16,
}

impl ClusterNode {
    /// A node just started for shard `shard`, with the id the node chose for itself.
    pub(super) async fn started(process: RedisProcess, shard: usize) -> Result<Self, EngineError> {
        let node_id = process.client().text(&["CLUSTER", "MYID"]).await?;
        Ok(Self {
            bus_port: process.spec().cluster.map_or(0, |c| c.bus_port),
            slot: NodeSlot {
                member: process.spec().name.clone(),
                addr: process.addr(),
                process: Some(process),
            },
            shard,
            node_id: node_id.trim().to_string(),
        })
    }
}

/// `CLUSTER MEET`s each of `others` (address and bus port) from `client`'s node.
pub(super) async fn meet(
    client: NodeClient,
    others: Vec<(SocketAddrV4, u16)>,
) -> Result<(), EngineError> {
    for (addr, bus_port) in others {
        let (ip, port) = (addr.ip().to_string(), addr.port().to_string());
        let bus_port = bus_port.to_string();
        client
            .command(&["CLUSTER", "MEET", &ip, &port, &bus_port])
            .await?;
    }
    Ok(())
}

pub struct ClusterRuntime {
    pub(super) group_id: String,
    /// The server binary its nodes run, and a node started later runs.
    pub(super) binary: PathBuf,
    pub(super) dir: PathBuf,
    /// Where a node started again gets its address when its own is taken.
    pub(super) pool: Arc<AddressPool>,
    /// Accepted AUTH tokens, as in a cluster-mode-disabled group.
    pub(super) passwords: Vec<String>,
    /// `CONFIG SET` pairs every node runs with, as in a cluster-mode-disabled group.
    pub(super) config: Vec<(String, String)>,
    /// The ACL users every node knows, as in a cluster-mode-disabled group.
    pub(super) acl: Vec<crate::engine::acl::AclUser>,
    pub(super) stopped: bool,
    pub(super) nodes: Vec<ClusterNode>,
    /// Index into `nodes` of each shard's primary, by shard.
    pub(super) primaries: Vec<usize>,
    /// The node group ids, by shard.
    pub(super) shard_ids: Vec<String>,
    /// How its nodes speak TLS, when they do; a node started again does the same.
    pub(super) tls: Option<NodeTls>,
    pub(super) configuration_endpoint: EndpointProxy,
    /// Members an injected fault holds down, and the black holes of those whose host is gone.
    pub(super) held: HeldDown,
    /// Replicas whose replication runs through a relay (the `replication-lag` fault).
    pub(super) lag: super::lag::LaggedLinks,
}

impl ClusterRuntime {
    pub async fn start(
        spec: ClusterSpec,
        dir: PathBuf,
        pool: Arc<AddressPool>,
        ca: Arc<CertificateAuthority>,
    ) -> Result<(Self, StartedCluster), EngineError> {
        let started_at = Instant::now();
        // The endpoint first: a TLS node's certificate names its address too.
        let name = format!("{}-configuration", spec.group_id);
        let wanted = spec.previous.as_ref().map(|p| p.configuration);
        let wanted = wanted.unwrap_or(unassigned(spec.port));
        let configuration_endpoint = EndpointProxy::bind_at(name, &pool, wanted, false)
            .await
            .map_err(|e| {
                EngineError::Replication(format!("cannot open the configuration endpoint: {e}"))
            })?;
        let tls = spec.tls.map(|mode| NodeTls {
            ca,
            mode,
            endpoint_ips: vec![*configuration_endpoint.addr().ip()],
        });
        let nodes = start_nodes(&spec, &dir, &pool, tls.as_ref()).await?;
        let mut primaries = Vec::new();
        for shard in 0..spec.shards.len() {
            primaries.push(nodes.iter().position(|n| n.shard == shard).unwrap_or(0));
        }
        let runtime = Self {
            group_id: spec.group_id.clone(),
            binary: spec.binary.clone(),
            dir,
            pool,
            passwords: spec.password.clone().into_iter().collect(),
            config: Vec::new(),
            acl: Vec::new(),
            stopped: false,
            nodes,
            primaries,
            shard_ids: spec
                .shards
                .iter()
                .map(|s| s.node_group_id.clone())
                .collect(),
            tls,
            configuration_endpoint,
            held: HeldDown::default(),
            lag: Default::default(),
        };
        runtime.form(&spec).await?;
        runtime.wait_converged(None).await?;
        runtime.refresh_configuration_endpoint();
        runtime.restore(&spec).await?;
        let started = StartedCluster {
            node_addresses: runtime.node_addresses(),
            configuration: runtime.configuration_endpoint.addr(),
        };
        tracing::info!(group = %runtime.group_id, ?started, elapsed = ?started_at.elapsed(), "cluster running");
        Ok((runtime, started))
    }

    /// Moves every key of the spec's RDBs into the shard owning its slot, then waits until
    /// each replica has them too.
    async fn restore(&self, spec: &ClusterSpec) -> Result<(), EngineError> {
        if spec.seed_rdbs.is_empty() {
            return Ok(());
        }
        let owners = spec
            .shards
            .iter()
            .enumerate()
            .map(|(shard, s)| (s.slots.clone(), self.nodes[self.primaries[shard]].slot.addr))
            .collect();
        let scratch = self.dir.join("restore.d");
        let tls = self.tls.as_ref();
        import_into_cluster(&spec.seed_rdbs, &owners, &self.binary, &scratch, tls).await?;
        for (index, node) in self.nodes.iter().enumerate() {
            let primary = self.primaries[node.shard];
            if index != primary {
                let member = &node.slot.member;
                wait_replica_synced(&self.client(primary), &self.client(index), member).await?;
            }
        }
        Ok(())
    }

    /// One node per shard a snapshot is taken from: a running replica, else the primary.
    pub fn snapshot_sources(&self) -> Vec<SnapshotSource> {
        (0..self.shard_ids.len())
            .map(|shard| {
                let primary = self.primaries[shard];
                let index = (0..self.nodes.len())
                    .filter(|i| self.nodes[*i].shard == shard && *i != primary)
                    .find(|i| self.nodes[*i].slot.process.is_some())
                    .unwrap_or(primary);
                let node = &self.nodes[index].slot;
                SnapshotSource {
                    node_group_id: self.shard_ids[shard].clone(),
                    member: node.member.clone(),
                    // TLS for a TLS node (a `required` one has no plaintext port).
                    client: node.client(),
                    dir: self.dir.join(&node.member),
                }
            })
            .collect()
    }

    /// Slots and a distinct config epoch on each primary (before it knows any other node, as
    /// `SET-CONFIG-EPOCH` requires), every node meets every other directly (gossip alone takes
    /// up to a second to spread), then each replica follows its primary.
    async fn form(&self, spec: &ClusterSpec) -> Result<(), EngineError> {
        for (shard, shard_spec) in spec.shards.iter().enumerate() {
            let primary = self.client(self.primaries[shard]);
            let mut addslots = vec!["CLUSTER".to_string(), "ADDSLOTSRANGE".into()];
            for (first, last) in &shard_spec.slots {
                addslots.extend([first.to_string(), last.to_string()]);
            }
            let addslots: Vec<&str> = addslots.iter().map(String::as_str).collect();
            primary.command(&addslots).await?;
            let epoch = (shard + 1).to_string();
            primary
                .command(&["CLUSTER", "SET-CONFIG-EPOCH", &epoch])
                .await?;
        }
        let mut meetings = JoinSet::new();
        for (index, node) in self.nodes.iter().enumerate() {
            let client = self.client(index);
            let others: Vec<(SocketAddrV4, u16)> = self
                .nodes
                .iter()
                .filter(|other| other.node_id != node.node_id)
                .map(|other| (other.slot.addr, other.bus_port))
                .collect();
            meetings.spawn(meet(client, others));
        }
        while let Some(joined) = meetings.join_next().await {
            joined.map_err(|e| EngineError::Replication(e.to_string()))??;
        }
        for index in 0..self.nodes.len() {
            let primary = self.primaries[self.nodes[index].shard];
            if index != primary {
                self.follow(index, primary).await?;
            }
        }
        Ok(())
    }

    /// `CLUSTER REPLICATE` on `replica`, retried until the node has learned the primary's id
    /// through the handshake (it answers "Unknown node" until then).
    pub(super) async fn follow(&self, replica: usize, primary: usize) -> Result<(), EngineError> {
        let primary_id = self.nodes[primary].node_id.clone();
        let client = self.client(replica);
        let deadline = Instant::now() + CONVERGE_DEADLINE;
        loop {
            match client.command(&["CLUSTER", "REPLICATE", &primary_id]).await {
                Ok(_) => return Ok(()),
                Err(error) if Instant::now() > deadline => return Err(error),
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// The topology every node must agree on: each shard's primary, every other node a replica
    /// of its shard's primary. `except` (a dead node) and nodes without a process (held down
    /// by a fault, which every other node sees failed) are left out.
    fn expected_topology(&self, except: Option<usize>) -> Vec<ExpectedNode> {
        (0..self.nodes.len())
            .filter(|index| Some(*index) != except && self.nodes[*index].slot.process.is_some())
            .map(|index| {
                let node = &self.nodes[index];
                let primary = self.primaries[node.shard];
                ExpectedNode {
                    node_id: node.node_id.clone(),
                    addr: node.slot.addr,
                    replica_of: (primary != index).then(|| self.nodes[primary].node_id.clone()),
                }
            })
            .collect()
    }

    /// Waits until every running node (but `except`) serves every slot and sees the expected
    /// topology, and every running replica is linked to its primary and caught up.
    pub(super) async fn wait_converged(&self, except: Option<usize>) -> Result<(), EngineError> {
        let expected = self.expected_topology(except);
        let deadline = Instant::now() + CONVERGE_DEADLINE;
        let running: Vec<usize> = (0..self.nodes.len())
            .filter(|i| Some(*i) != except && self.nodes[*i].slot.process.is_some())
            .collect();
        let mut pending = running.clone();
        while !pending.is_empty() {
            let mut still = Vec::new();
            let mut last = String::new();
            for &index in &pending {
                match self.node_disagreement(index, &expected).await {
                    None => {}
                    Some(why) => {
                        last = format!("{}: {why}", self.nodes[index].slot.member);
                        still.push(index);
                    }
                }
            }
            pending = still;
            if pending.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                return Err(EngineError::Replication(format!(
                    "cluster {} did not converge within {CONVERGE_DEADLINE:?} ({last})",
                    self.group_id
                )));
            }
            tokio::time::sleep(POLL).await;
        }
        for &index in &running {
            let primary = self.primaries[self.nodes[index].shard];
            let primary_runs = self.nodes[primary].slot.process.is_some();
            if index != primary && Some(primary) != except && primary_runs {
                let member = &self.nodes[index].slot.member;
                wait_replica_synced(&self.client(primary), &self.client(index), member).await?;
            }
        }
        Ok(())
    }

    async fn node_disagreement(&self, index: usize, expected: &[ExpectedNode]) -> Option<String> {
        let client = self.client(index);
        let info = match client.text(&["CLUSTER", "INFO"]).await {
            Ok(info) => info,
            Err(error) => return Some(error.to_string()),
        };
        if !is_serving(&info, self.nodes.len()) {
            return Some("not serving every slot yet".into());
        }
        match client.text(&["CLUSTER", "NODES"]).await {
            Ok(nodes) => disagreement(&nodes, expected),
            Err(error) => Some(error.to_string()),
        }
    }

    /// The configuration endpoint spreads new connections over every running node: any of
    /// them answers `CLUSTER SLOTS` for a cluster client's bootstrap.
    pub(super) fn refresh_configuration_endpoint(&self) {
        let addresses: Vec<SocketAddrV4> = self
            .nodes
            .iter()
            .filter(|n| n.slot.process.is_some())
            .map(|n| n.slot.addr)
            .collect();
        if self.configuration_endpoint.targets() != addresses {
            self.configuration_endpoint.switch(addresses);
        }
    }

    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    pub fn client(&self, index: usize) -> NodeClient {
        self.nodes[index].slot.client()
    }

    /// Each shard's primary index again after nodes were taken out: the node with the shard's
    /// primary's id, in shard order.
    pub(super) fn point_primaries_at(&mut self, primary_ids: &[String]) {
        self.primaries = primary_ids
            .iter()
            .map(|id| {
                let found = self.nodes.iter().position(|n| &n.node_id == id);
                found.unwrap_or(0)
            })
            .collect();
    }

    pub fn index_of(&self, member: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.slot.member == member)
    }

    pub fn member_at(&self, index: usize) -> &str {
        &self.nodes[index].slot.member
    }

    /// The node index of the primary of the shard whose node group id is `node_group_id`.
    pub fn shard_primary(&self, node_group_id: &str) -> Option<usize> {
        let shard = self.shard_ids.iter().position(|id| id == node_group_id)?;
        Some(self.primaries[shard])
    }

    pub fn is_primary(&self, index: usize) -> bool {
        self.primaries.contains(&index)
    }

    /// The current address of every member.
    pub fn node_addresses(&self) -> Vec<(String, SocketAddrV4)> {
        self.nodes
            .iter()
            .map(|n| (n.slot.member.clone(), n.slot.addr))
            .collect()
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// How the node at `index` restarts: on its address and bus port, from its own
    /// `nodes.conf`.
    pub(super) fn restart_spec(&self, index: usize) -> NodeSpec {
        let node = &self.nodes[index];
        let mut spec = node_spec(
            &node.slot.member,
            &self.binary,
            &self.dir,
            self.passwords.first().cloned(),
            node.slot.addr,
            None,
        );
        spec.cluster = Some(ClusterNodeConfig {
            bus_port: node.bus_port,
            keep_config: true,
        });
        spec.tls = self.tls.clone();
        spec
    }

    pub async fn stop(&mut self) {
        self.stopped = true;
        let mut stopping = JoinSet::new();
        for node in &mut self.nodes {
            if let Some(process) = node.slot.process.take() {
                stopping.spawn(process.stop());
            }
        }
        while stopping.join_next().await.is_some() {}
        self.held.clear();
        self.forget_all_lag();
        self.configuration_endpoint.close();
        tracing::info!(group = %self.group_id, "cluster stopped");
    }
}

/// Starts every node of every shard at once, each alone in its own cluster, and learns its id.
async fn start_nodes(
    spec: &ClusterSpec,
    dir: &std::path::Path,
    pool: &Arc<AddressPool>,
    tls: Option<&NodeTls>,
) -> Result<Vec<ClusterNode>, EngineError> {
    let mut specs = Vec::new();
    let mut shards = Vec::new();
    for (shard, shard_spec) in spec.shards.iter().enumerate() {
        for member in &shard_spec.members {
            let password = spec.password.clone();
            let previous = spec.previous.as_ref().and_then(|p| p.of(member));
            // Back on its previous address, with a bus port there; else the pool picks both.
            let (addr, bus_port) = match previous.map(|a| (a, pool.bus_port_at(a))) {
                Some((addr, Ok(bus_port))) => (addr, bus_port),
                _ => (unassigned(spec.port), 0),
            };
            let mut node = node_spec(member, &spec.binary, dir, password, addr, None);
            node.cluster = Some(ClusterNodeConfig {
                bus_port,
                keep_config: false,
            });
            node.tls = tls.cloned();
            specs.push(node);
            shards.push(shard);
        }
    }
    let mut nodes = Vec::new();
    for (process, shard) in start_all(specs, pool).await?.into_iter().zip(shards) {
        nodes.push(ClusterNode::started(process, shard).await?);
    }
    Ok(nodes)
}
