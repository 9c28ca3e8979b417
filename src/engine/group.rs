//! The processes and endpoints behind one cluster-mode-disabled replication group.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::EngineError;
use super::client::NodeClient;
use super::process::{NodeSpec, RedisProcess};
use super::proxy::EndpointProxy;

/// What the engine needs to start a group: member ids in order (the first is the primary).
#[derive(Debug, Clone)]
pub struct GroupSpec {
    pub group_id: String,
    pub members: Vec<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedGroup {
    pub node_ports: Vec<(String, u16)>,
    pub primary_port: u16,
    pub reader_port: u16,
}

const SYNC_DEADLINE: Duration = Duration::from_secs(10);
const PORT_ATTEMPTS: usize = 5;

/// One member's slot: its id, its port, and its process while one runs.
pub struct NodeSlot {
    pub member: String,
    pub port: u16,
    pub process: Option<RedisProcess>,
}

impl NodeSlot {
    /// A client to ping the node with, or `None` when its process has exited.
    pub fn probe(&mut self, password: Option<String>) -> Option<NodeClient> {
        let running = self.process.as_mut().is_some_and(|p| p.is_running());
        running.then(|| NodeClient::new(self.port, password))
    }

    /// True when the process has exited or does not answer PING in time.
    pub async fn still_failing(&mut self, password: Option<String>) -> bool {
        match self.probe(password) {
            // The server's own trouble (out of descriptors) is no evidence against the node.
            Some(client) => matches!(
                client.ping_within(super::changes::HEALTH_PING_TIMEOUT).await,
                Err(error) if !matches!(error, super::EngineError::Local(_))
            ),
            None => true,
        }
    }

    /// SIGKILLs the node (a frozen one too), so it can never come back on its own.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }
}

pub struct GroupRuntime {
    group_id: String,
    redis_server: PathBuf,
    dir: PathBuf,
    /// Accepted AUTH tokens; the first is the one nodes authenticate with (`masterauth`) and the
    /// engine uses. Two while a ROTATE is in effect, none without auth.
    pub(super) passwords: Vec<String>,
    /// Set once the group is stopped: a health check must never restart its nodes.
    stopped: bool,
    pub(super) nodes: Vec<NodeSlot>,
    /// Index into `nodes` of the current primary.
    pub(super) primary: usize,
    primary_endpoint: EndpointProxy,
    reader_endpoint: EndpointProxy,
}

impl GroupRuntime {
    pub async fn start(
        spec: GroupSpec,
        redis_server: PathBuf,
        dir: PathBuf,
    ) -> Result<(Self, StartedGroup), EngineError> {
        let spec_of = |index: usize, replica_of| {
            node_spec(
                &spec.members[index],
                &redis_server,
                &dir,
                spec.password.clone(),
                0,
                replica_of,
            )
        };
        let primary_spec = spec_of(0, None);
        let primary = start_on_free_port(primary_spec).await?;
        let primary_port = primary.port();
        let mut starting = JoinSet::new();
        for index in 1..spec.members.len() {
            let replica_spec = spec_of(index, Some(primary_port));
            starting.spawn(async move { (index, start_on_free_port(replica_spec).await) });
        }
        let mut replicas: Vec<(usize, RedisProcess)> = Vec::new();
        let mut first_error = None;
        while let Some(joined) = starting.join_next().await {
            match joined {
                Ok((index, Ok(process))) => replicas.push((index, process)),
                Ok((_, Err(error))) => first_error = first_error.or(Some(error)),
                Err(join) => {
                    first_error = first_error.or(Some(EngineError::Replication(join.to_string())))
                }
            }
        }
        if let Some(error) = first_error {
            return Err(error); // dropping the started processes kills and reaps them
        }
        replicas.sort_by_key(|(index, _)| *index);
        let mut nodes = vec![NodeSlot {
            member: spec.members[0].clone(),
            port: primary_port,
            process: Some(primary),
        }];
        nodes.extend(replicas.into_iter().map(|(index, process)| NodeSlot {
            member: spec.members[index].clone(),
            port: process.port(),
            process: Some(process),
        }));
        let io =
            |e: std::io::Error| EngineError::Replication(format!("cannot open an endpoint: {e}"));
        let primary_endpoint =
            EndpointProxy::bind(format!("{}-primary", spec.group_id), vec![primary_port])
                .await
                .map_err(io)?;
        let reader_endpoint = EndpointProxy::bind(format!("{}-reader", spec.group_id), vec![])
            .await
            .map_err(io)?;
        let runtime = Self {
            group_id: spec.group_id,
            redis_server,
            dir,
            passwords: spec.password.into_iter().collect(),
            stopped: false,
            nodes,
            primary: 0,
            primary_endpoint,
            reader_endpoint,
        };
        runtime.refresh_reader_endpoint();
        for replica in 1..runtime.nodes.len() {
            runtime.wait_synced(replica).await?;
        }
        let started = StartedGroup {
            node_ports: runtime.node_ports(),
            primary_port: runtime.primary_endpoint.port(),
            reader_port: runtime.reader_endpoint.port(),
        };
        tracing::info!(group = %runtime.group_id, ?started, "replication group running");
        Ok((runtime, started))
    }

    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    pub fn primary_member(&self) -> &str {
        &self.nodes[self.primary].member
    }

    pub fn client(&self, index: usize) -> NodeClient {
        NodeClient::new(self.nodes[index].port, self.passwords.first().cloned())
    }

    pub fn index_of(&self, member: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.member == member)
    }

    /// The reader endpoint spreads over the running replicas, or the primary when there are none.
    pub(super) fn refresh_reader_endpoint(&self) {
        let replicas: Vec<u16> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| *i != self.primary && n.process.is_some())
            .map(|(_, n)| n.port)
            .collect();
        let targets = if replicas.is_empty() {
            vec![self.nodes[self.primary].port]
        } else {
            replicas
        };
        if self.reader_endpoint.targets() != targets {
            self.reader_endpoint.switch(targets);
        }
    }

    pub(super) fn point_primary_endpoint(&self) {
        self.primary_endpoint
            .switch(vec![self.nodes[self.primary].port]);
    }

    /// Waits until the replica at `index` is linked to the current primary and has applied
    /// everything the primary had when the wait began (offsets, not link status alone).
    pub async fn wait_synced(&self, index: usize) -> Result<(), EngineError> {
        let primary = self.client(self.primary);
        let replica = self.client(index);
        wait_replica_synced(&primary, &replica, &self.nodes[index].member).await
    }

    /// Starts a fresh, empty node for `index` on its old port (a new port only if another
    /// process took it meanwhile), as a replica of `replica_of` or as a primary.
    pub(super) async fn restart_node(
        &mut self,
        index: usize,
        replica_of: Option<u16>,
    ) -> Result<(), EngineError> {
        if let Some(mut old) = self.nodes[index].process.take() {
            old.kill();
        }
        let spec = self.node_spec(
            &self.nodes[index].member,
            self.nodes[index].port,
            replica_of,
        );
        let process = match RedisProcess::start(spec.clone()).await {
            Ok(process) => process,
            Err(error) if is_port_taken(&error) => start_on_free_port(spec).await?,
            Err(error) => return Err(error),
        };
        self.nodes[index].port = process.port();
        self.nodes[index].process = Some(process);
        self.apply_extra_passwords(index).await
    }

    /// How a node of this group starts: with the group's current first token.
    pub(super) fn node_spec(&self, member: &str, port: u16, replica_of: Option<u16>) -> NodeSpec {
        let password = self.passwords.first().cloned();
        node_spec(
            member,
            &self.redis_server,
            &self.dir,
            password,
            port,
            replica_of,
        )
    }

    /// Makes the running node at `index` the primary: points the primary endpoint at it (which
    /// drops the connections held to the old one), re-points every other running node to it,
    /// and spreads the reader endpoint over the replicas.
    pub(super) async fn make_primary(&mut self, index: usize) -> Result<(), EngineError> {
        self.primary = index;
        self.point_primary_endpoint();
        let port = self.nodes[index].port;
        for other in 0..self.nodes.len() {
            if other != index && self.nodes[other].process.is_some() {
                self.client(other).replicate_from(Some(port)).await?;
            }
        }
        self.refresh_reader_endpoint();
        Ok(())
    }

    /// A node starts with the first token as `requirepass`; during a ROTATE the old token must
    /// be accepted too.
    pub(super) async fn apply_extra_passwords(&self, index: usize) -> Result<(), EngineError> {
        for extra in self.passwords.iter().skip(1) {
            self.client(index)
                .command(&["ACL", "SETUSER", "default", &format!(">{extra}")])
                .await?;
        }
        Ok(())
    }

    /// The current port of every member.
    pub fn node_ports(&self) -> Vec<(String, u16)> {
        self.nodes
            .iter()
            .map(|n| (n.member.clone(), n.port))
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
        self.primary_endpoint.close();
        self.reader_endpoint.close();
        tracing::info!(group = %self.group_id, "replication group stopped");
    }
}

/// How a member's node is started: in its own dir under the group's, authenticating with
/// `password`; port 0 asks for a free one.
pub(super) fn node_spec(
    member: &str,
    redis_server: &std::path::Path,
    group_dir: &std::path::Path,
    password: Option<String>,
    port: u16,
    replica_of: Option<u16>,
) -> NodeSpec {
    NodeSpec {
        name: member.to_string(),
        redis_server: redis_server.to_path_buf(),
        dir: group_dir.join(member),
        port,
        password,
        replica_of,
        cluster: None,
    }
}

pub(super) fn is_port_taken(error: &EngineError) -> bool {
    error.to_string().contains("Address already in use")
}

/// Asks the kernel for a free port and starts the node on it; if another process takes the
/// port between the probe and redis-server's bind, tries again with a new one.
pub(super) async fn start_on_free_port(mut spec: NodeSpec) -> Result<RedisProcess, EngineError> {
    let mut last_error = None;
    for _ in 0..PORT_ATTEMPTS {
        let no_port =
            |e: std::io::Error| EngineError::start(&spec.name, format!("no free port: {e}"));
        spec.port = free_port().map_err(no_port)?;
        if let Some(cluster) = &mut spec.cluster {
            cluster.bus_port = free_port().map_err(no_port)?;
            if cluster.bus_port == spec.port {
                continue; // the kernel handed the same port out twice
            }
        }
        match RedisProcess::start(spec.clone()).await {
            Ok(process) => return Ok(process),
            Err(error) if is_port_taken(&error) => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| EngineError::start(&spec.name, "no free port")))
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until `replica` is linked to `primary` and has applied everything the primary had
/// when the wait began (offsets, not link status alone).
pub(super) async fn wait_replica_synced(
    primary: &NodeClient,
    replica: &NodeClient,
    member: &str,
) -> Result<(), EngineError> {
    let deadline = Instant::now() + SYNC_DEADLINE;
    // A command that times out on a loaded machine is "not yet", not a failure: only the
    // deadline ends the wait.
    let mut target_offset = None;
    let mut last_state = String::from("no answer yet");
    loop {
        if target_offset.is_none() {
            target_offset = primary
                .replication_info()
                .await
                .ok()
                .map(|p| p.master_repl_offset);
        }
        // The primary's replication id is read on every poll: Redis gives a primary a new
        // id when its first replica attaches (it creates the backlog then), so an id read
        // before that would never match.
        let polled = (
            replica.replication_info().await,
            primary.replication_info().await,
        );
        match (polled, target_offset) {
            ((Ok(info), Ok(primary_now)), Some(target)) => {
                if info.link_up
                    && info.master_replid == primary_now.master_replid
                    && info.replica_offset >= target
                {
                    return Ok(());
                }
                last_state = format!(
                    "link up: {}, offset {} of {target}, replication id {} vs the primary's {}",
                    info.link_up,
                    info.replica_offset,
                    info.master_replid,
                    primary_now.master_replid
                );
            }
            ((Err(error), _) | (_, Err(error)), _) => last_state = error.to_string(),
            _ => {}
        }
        if Instant::now() > deadline {
            return Err(EngineError::Replication(format!(
                "{} did not catch up with the primary within {SYNC_DEADLINE:?} ({last_state})",
                member
            )));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
