//! The processes and endpoints behind one cluster-mode-disabled replication group.

use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::engine::EngineError;
use crate::engine::acl::{self, AclUser};
use crate::engine::address::{AddressPool, unassigned};
use crate::engine::client::NodeClient;
use crate::engine::held_down::HeldDown;
use crate::engine::iam_front::IamGate;
use crate::engine::node::{
    NodeSlot, accept_extra_passwords, apply_config_to, merge_config, node_spec, set_config,
    start_all, start_on_address_or_free, start_on_free_address, wait_replica_synced,
};
use crate::engine::process::NodeSpec;
use crate::engine::proxy::EndpointProxy;
use crate::engine::snapshot::SnapshotSource;
use crate::engine::tls::{CertificateAuthority, NodeTls, TlsMode};

/// What the engine needs to start a group: member ids in order (the first is the primary).
#[derive(Debug, Clone)]
pub struct GroupSpec {
    pub group_id: String,
    pub members: Vec<String>,
    pub password: Option<String>,
    /// The port every node and endpoint listens on (each on its own address).
    pub port: u16,
    /// The server binary every node runs (redis-server or valkey-server).
    pub binary: PathBuf,
    /// A restore: the RDB the primary loads at start (the replicas sync from it).
    pub seed_rdb: Option<PathBuf>,
    /// In-transit encryption: every node speaks TLS, in this mode.
    pub tls: Option<TlsMode>,
    /// A group brought back after a server restart: the addresses it had.
    pub previous: Option<PreviousAddresses>,
}

/// Where a group's endpoints and nodes listened before a restart (nodes in `members` order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousAddresses {
    pub primary_endpoint: SocketAddrV4,
    pub reader_endpoint: SocketAddrV4,
    pub nodes: Vec<SocketAddrV4>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedGroup {
    pub node_addresses: Vec<(String, SocketAddrV4)>,
    pub primary: SocketAddrV4,
    pub reader: SocketAddrV4,
}

pub struct GroupRuntime {
    group_id: String,
    /// The server binary its nodes run, and a node started later runs.
    pub(super) binary: PathBuf,
    dir: PathBuf,
    /// Where nodes started later (a recovery, a new replica) get their address.
    pub(super) pool: Arc<AddressPool>,
    /// The port asked for: every node listens on it, each on its own address.
    pub(super) port: u16,
    /// Accepted AUTH tokens; the first is a new node's `requirepass`. Two while a ROTATE is in
    /// effect, none without auth.
    pub(super) passwords: Vec<String>,
    /// `CONFIG SET` pairs every node runs with (see [`Self::apply_config`]); a node started
    /// later gets them too.
    pub(super) config: Vec<(String, String)>,
    /// Settings every node started from now on gets on its command line (see
    /// [`Self::keep_for_restarts`]).
    restart_config: Vec<(String, String)>,
    /// The ACL users every node knows (a user group's), for nodes started later too.
    pub(super) acl: Vec<AclUser>,
    /// Set once the group is stopped: a health check must never restart its nodes.
    stopped: bool,
    /// How its nodes speak TLS, when they do; a node started later does the same.
    pub(super) tls: Option<NodeTls>,
    pub(super) nodes: Vec<NodeSlot>,
    /// Index into `nodes` of the current primary.
    pub(super) primary: usize,
    primary_endpoint: EndpointProxy,
    reader_endpoint: EndpointProxy,
    /// Members an injected fault holds down (e.g. their AZ lost power), and the black holes
    /// of those whose host is gone.
    pub(super) held: HeldDown,
    /// Replicas that replicate through a relay proxy (`<member>-replication`) on which
    /// toxics delay or cut the replication stream, by member.
    pub(super) relays: std::collections::HashMap<String, EndpointProxy>,
}

impl GroupRuntime {
    pub async fn start(
        spec: GroupSpec,
        dir: PathBuf,
        pool: Arc<AddressPool>,
        ca: Arc<CertificateAuthority>,
    ) -> Result<(Self, StartedGroup), EngineError> {
        // The endpoints first: a TLS node's certificate names their addresses too, since
        // they forward to whichever node is primary (or a replica) at the time.
        let (primary_endpoint, reader_endpoint) = bind_endpoints(&spec, &pool).await?;
        let tls = spec.tls.map(|mode| NodeTls {
            ca,
            mode,
            endpoint_ips: vec![*primary_endpoint.addr().ip(), *reader_endpoint.addr().ip()],
        });
        let nodes = start_nodes(&spec, &dir, &pool, &tls).await?;
        let runtime = Self {
            group_id: spec.group_id,
            binary: spec.binary,
            dir,
            pool,
            port: spec.port,
            passwords: spec.password.into_iter().collect(),
            config: Vec::new(),
            restart_config: Vec::new(),
            acl: Vec::new(),
            stopped: false,
            tls,
            nodes,
            primary: 0,
            primary_endpoint,
            reader_endpoint,
            held: HeldDown::default(),
            relays: Default::default(),
        };
        runtime.point_primary_endpoint();
        runtime.refresh_reader_endpoint();
        for replica in 1..runtime.nodes.len() {
            runtime.wait_synced(replica).await?;
        }
        let started = StartedGroup {
            node_addresses: runtime.node_addresses(),
            primary: runtime.primary_endpoint.addr(),
            reader: runtime.reader_endpoint.addr(),
        };
        tracing::info!(group = %runtime.group_id, primary_endpoint = %started.primary, reader_endpoint = %started.reader, nodes = started.node_addresses.len(), "replication group running");
        Ok((runtime, started))
    }

    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// The node a snapshot is taken from: `preferred` when it runs, else the first running
    /// replica, else the primary (as AWS picks one when `SnapshottingClusterId` is unset).
    pub fn snapshot_source(&self, preferred: Option<&str>) -> SnapshotSource {
        let running = |i: &usize| self.nodes[*i].process.is_some();
        let index = preferred
            .and_then(|member| self.index_of(member))
            .filter(running)
            .or_else(|| {
                (0..self.nodes.len())
                    .filter(|i| *i != self.primary)
                    .find(running)
            })
            .unwrap_or(self.primary);
        let node = &self.nodes[index];
        SnapshotSource {
            node_group_id: crate::engine::SINGLE_NODE_GROUP.to_string(),
            member: node.member.clone(),
            // The node's own client: TLS for a TLS node (a `required` one has no plaintext port).
            client: self.client(index),
            dir: self.dir.join(&node.member),
        }
    }

    pub fn primary_member(&self) -> &str {
        &self.nodes[self.primary].member
    }

    pub fn client(&self, index: usize) -> NodeClient {
        self.nodes[index].client()
    }

    pub fn index_of(&self, member: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.member == member)
    }

    /// The reader endpoint spreads over the running replicas, or the primary when there are none.
    pub(super) fn refresh_reader_endpoint(&self) {
        let replicas: Vec<SocketAddrV4> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| *i != self.primary && n.process.is_some())
            .map(|(_, n)| n.addr)
            .collect();
        let targets = if replicas.is_empty() {
            vec![self.nodes[self.primary].addr]
        } else {
            replicas
        };
        if self.reader_endpoint.targets() != targets {
            self.reader_endpoint.switch(targets);
        }
    }

    pub(super) fn point_primary_endpoint(&self) {
        self.primary_endpoint
            .switch(vec![self.nodes[self.primary].addr]);
    }

    /// The primary is down: under the `aws` endpoint behaviour the primary endpoint stops
    /// listening, so new connections are refused until a node is primary again. When its
    /// `host_gone`, the endpoint keeps pointing at it, as its DNS name does, and so is a black
    /// hole like that host (see `proxy::behaviour`).
    pub(super) fn primary_endpoint_down(&self, host_gone: bool) {
        if crate::engine::proxy::behaviour::get().refuse_while_down && !host_gone {
            self.primary_endpoint.switch(vec![]);
        }
    }

    /// After a promotion from the primary at `old`: with a DNS TTL (the `aws` endpoint
    /// behaviour) new connections still reach `old` for the TTL, then the new primary.
    pub(super) fn point_primary_endpoint_after_failover(&self, old: SocketAddrV4) {
        let ttl = crate::engine::proxy::behaviour::get().dns_ttl;
        let new = vec![self.nodes[self.primary].addr];
        if ttl.is_zero() {
            self.primary_endpoint.switch(new);
        } else {
            self.primary_endpoint.switch_after(vec![old], new, ttl);
        }
    }

    /// Waits until the replica at `index` is linked to the current primary and has applied
    /// everything the primary had when the wait began (offsets, not link status alone).
    pub async fn wait_synced(&self, index: usize) -> Result<(), EngineError> {
        let primary = self.client(self.primary);
        let replica = self.client(index);
        wait_replica_synced(&primary, &replica, &self.nodes[index].member).await
    }

    /// Starts a fresh, empty node for `index` on its old address (a new one only if another
    /// process took it meanwhile), as a replica of `replica_of` or as a primary.
    pub(super) async fn restart_node(
        &mut self,
        index: usize,
        replica_of: Option<SocketAddrV4>,
    ) -> Result<(), EngineError> {
        self.nodes[index].kill().await;
        // The host is back: its address stops being a black hole right before the node
        // starts there again.
        self.held.host_back(&self.nodes[index].member);
        let spec = self.node_spec(
            &self.nodes[index].member,
            self.nodes[index].addr,
            replica_of,
        );
        let process = start_on_address_or_free(spec, &self.pool).await?;
        self.nodes[index].addr = process.addr();
        self.nodes[index].process = Some(process);
        self.apply_extra_passwords(index).await
    }

    /// How a node of this group starts: with the group's current first token.
    pub(super) fn node_spec(
        &self,
        member: &str,
        addr: SocketAddrV4,
        replica_of: Option<SocketAddrV4>,
    ) -> NodeSpec {
        let password = self.passwords.first().cloned();
        let mut spec = node_spec(member, &self.binary, &self.dir, password, addr, replica_of);
        spec.startup_config = self.restart_config.clone();
        spec.tls = self.tls.clone();
        spec
    }

    /// Makes the running node at `index` the primary: points the primary endpoint at it (which
    /// drops the connections held to the old one), re-points every other running node to it,
    /// and spreads the reader endpoint over the replicas.
    pub(super) async fn make_primary(&mut self, index: usize) -> Result<(), EngineError> {
        self.primary = index;
        self.relays.clear();
        self.point_primary_endpoint();
        let addr = self.nodes[index].addr;
        for other in 0..self.nodes.len() {
            if other != index && self.nodes[other].process.is_some() {
                self.client(other).replicate_from(Some(addr)).await?;
            }
        }
        self.refresh_reader_endpoint();
        Ok(())
    }

    /// A node starts with the first token as `requirepass`; during a ROTATE the old token must
    /// be accepted too.
    pub(super) async fn apply_extra_passwords(&self, index: usize) -> Result<(), EngineError> {
        accept_extra_passwords(&self.client(index), &self.passwords).await?;
        set_config(&self.client(index), &self.config).await?;
        acl::apply(&self.client(index), &self.acl, &[]).await
    }

    /// A client of each node whose process runs.
    pub(super) fn running_clients(&self) -> Vec<NodeClient> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].process.is_some())
            .map(|i| self.client(i))
            .collect()
    }

    /// Makes every running node know exactly `users` (see [`acl::apply`]) and keeps them for
    /// nodes started later.
    pub async fn apply_users(&mut self, users: Vec<AclUser>) -> Result<(), EngineError> {
        acl::apply_to(self.running_clients(), &mut self.acl, users).await
    }

    /// Sends the TLS clients of both endpoints through an IAM gate verifying `tokens` (see
    /// `iam_front`), or through none. A group without TLS has no gate: its `iam` users are
    /// refused by the API, as ElastiCache's need TLS.
    pub fn set_iam(
        &mut self,
        tokens: Option<Arc<dyn crate::engine::IamTokens>>,
    ) -> Result<(), EngineError> {
        for endpoint in [&self.primary_endpoint, &self.reader_endpoint] {
            let gate = match (&tokens, &self.tls) {
                (Some(tokens), Some(tls)) => Some(Arc::new(
                    IamGate::new(&tls.ca, endpoint.addr(), Arc::clone(tokens))
                        .map_err(EngineError::Replication)?,
                )),
                _ => None,
            };
            endpoint.set_iam_gate(gate);
        }
        Ok(())
    }

    /// `CONFIG SET`s `settings` on every running node and keeps them for nodes started later.
    pub async fn apply_config(&mut self, settings: &[(String, String)]) -> Result<(), EngineError> {
        apply_config_to(self.running_clients(), &mut self.config, settings).await
    }

    /// Starts every node started from now on with `settings` on its command line, leaving
    /// the running ones as they are: what a reboot applies.
    pub fn keep_for_restarts(&mut self, settings: &[(String, String)]) {
        merge_config(&mut self.restart_config, settings);
    }

    /// One documented step of the in-transit encryption migration on every running node (see
    /// `tls_switch`), their data kept; then every replica is back in sync.
    pub async fn switch_tls(
        &mut self,
        mode: Option<TlsMode>,
        ca: Arc<CertificateAuthority>,
    ) -> Result<(), EngineError> {
        let tls = mode.map(|mode| NodeTls {
            ca,
            mode,
            endpoint_ips: vec![
                *self.primary_endpoint.addr().ip(),
                *self.reader_endpoint.addr().ip(),
            ],
        });
        for node in &mut self.nodes {
            if let Some(process) = node.process.as_mut() {
                crate::engine::tls_switch::switch(process, tls.clone()).await?;
            }
        }
        self.tls = tls;
        for replica in (0..self.nodes.len()).filter(|i| *i != self.primary) {
            if self.nodes[replica].process.is_some() {
                self.wait_synced(replica).await?;
            }
        }
        Ok(())
    }

    /// The current address of every member.
    pub fn node_addresses(&self) -> Vec<(String, SocketAddrV4)> {
        self.nodes
            .iter()
            .map(|n| (n.member.clone(), n.addr))
            .collect()
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    pub async fn stop(&mut self) {
        self.stopped = true;
        let mut stopping = JoinSet::new();
        for node in &mut self.nodes {
            if let Some(process) = node.process.take() {
                stopping.spawn(process.stop());
            }
        }
        while stopping.join_next().await.is_some() {}
        self.held.clear();
        self.primary_endpoint.close();
        self.reader_endpoint.close();
        tracing::info!(group = %self.group_id, "replication group stopped");
    }
}

/// The group's primary and reader endpoints, at the addresses they had before a restart.
async fn bind_endpoints(
    spec: &GroupSpec,
    pool: &AddressPool,
) -> Result<(EndpointProxy, EndpointProxy), EngineError> {
    let io = |e: std::io::Error| EngineError::Replication(format!("cannot open an endpoint: {e}"));
    let name = |role: &str| format!("{}-{role}", spec.group_id);
    let wanted = |pick: fn(&PreviousAddresses) -> SocketAddrV4| {
        spec.previous
            .as_ref()
            .map(pick)
            .unwrap_or(unassigned(spec.port))
    };
    let primary =
        EndpointProxy::bind_at(name("primary"), pool, wanted(|p| p.primary_endpoint), true)
            .await
            .map_err(io)?;
    let reader = EndpointProxy::bind_at(name("reader"), pool, wanted(|p| p.reader_endpoint), false)
        .await
        .map_err(io)?;
    Ok((primary, reader))
}

/// Starts the first member as the primary (seeded from the group's RDB, if any), then the
/// others as its replicas, each at its previous address when the group is restored.
async fn start_nodes(
    spec: &GroupSpec,
    dir: &Path,
    pool: &Arc<AddressPool>,
    tls: &Option<NodeTls>,
) -> Result<Vec<NodeSlot>, EngineError> {
    let previous = spec.previous.as_ref();
    let spec_of = |index: usize, replica_of| {
        let mut node = node_spec(
            &spec.members[index],
            &spec.binary,
            dir,
            spec.password.clone(),
            previous
                .and_then(|p| p.nodes.get(index).copied())
                .unwrap_or(unassigned(spec.port)),
            replica_of,
        );
        node.tls = tls.clone();
        node
    };
    let mut primary_spec = spec_of(0, None);
    primary_spec.seed_rdb = spec.seed_rdb.clone();
    let primary = start_on_free_address(primary_spec, pool).await?;
    let primary_addr = primary.addr();
    let replicas = (1..spec.members.len()).map(|index| spec_of(index, Some(primary_addr)));
    let mut processes = vec![primary];
    processes.extend(start_all(replicas.collect(), pool).await?);
    Ok(spec
        .members
        .iter()
        .zip(processes)
        .map(|(member, process)| NodeSlot {
            member: member.clone(),
            addr: process.addr(),
            process: Some(process),
        })
        .collect())
}
