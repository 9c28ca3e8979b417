//! What both cluster modes share about a node: its slot (member, address, process), how it is
//! started on a free address, how a replica is known to have caught up, how nodes are probed for
//! health, how AUTH tokens are pushed, and which replica is promoted.

use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::EngineError;
use super::address::AddressPool;
use super::client::NodeClient;
use super::process::{NodeSpec, RedisProcess};

const SYNC_DEADLINE: Duration = Duration::from_secs(10);
const PORT_ATTEMPTS: usize = 5;
/// How long a healthy node may take to answer PING.
pub const HEALTH_PING_TIMEOUT: Duration = Duration::from_millis(500);

/// One member's slot: its id, its address, and its process while one runs.
pub struct NodeSlot {
    pub member: String,
    pub addr: SocketAddrV4,
    pub process: Option<RedisProcess>,
}

/// The member is gone for good (its group deleted, itself removed): its node's proxy goes too.
/// While the slot lives its node's proxy outlives each process, toxics and all (a restarted
/// node keeps its network; see [`super::toxics::registry`]).
impl Drop for NodeSlot {
    fn drop(&mut self) {
        // The process first: its proxy is parked, then forgotten.
        drop(self.process.take());
        super::toxics::ToxicRegistry::global().forget_node(&self.member);
    }
}

impl NodeSlot {
    /// A client to ping the node with, or `None` when its process has exited.
    pub fn probe(&mut self) -> Option<NodeClient> {
        let running = self.process.as_mut().is_some_and(|p| p.is_running());
        running.then(|| self.client())
    }

    /// A client of the node, over TLS when its process speaks TLS.
    pub fn client(&self) -> NodeClient {
        match &self.process {
            Some(process) => process.client(),
            None => NodeClient::new(self.addr),
        }
    }

    /// True when the process has exited or does not answer PING in time.
    pub async fn still_failing(&mut self) -> bool {
        match self.probe() {
            // The server's own trouble (out of descriptors) is no evidence against the node.
            Some(client) => matches!(
                client.ping_within(HEALTH_PING_TIMEOUT).await,
                Err(error) if !matches!(error, EngineError::Local(_))
            ),
            None => true,
        }
    }

    /// SIGKILLs the node (a frozen one too), so it can never come back on its own.
    pub async fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill().await;
        }
    }
}

/// How a member's node is started: in its own dir under the group's, authenticating with
/// `password`, at `addr` (an [`super::address::unassigned`] one names only the port asked for).
pub(crate) fn node_spec(
    member: &str,
    redis_server: &std::path::Path,
    group_dir: &std::path::Path,
    password: Option<String>,
    addr: SocketAddrV4,
    replica_of: Option<SocketAddrV4>,
) -> NodeSpec {
    NodeSpec {
        name: member.to_string(),
        redis_server: redis_server.to_path_buf(),
        dir: group_dir.join(member),
        addr,
        password,
        replica_of,
        cluster: None,
        startup_config: Vec::new(),
        seed_rdb: None,
        tls: None,
    }
}

pub(crate) fn is_port_taken(error: &EngineError) -> bool {
    error.to_string().contains("Address already in use")
}

/// Starts the node on its spec's address, or on a new one if another process took it
/// meanwhile.
pub(crate) async fn start_on_address_or_free(
    spec: NodeSpec,
    pool: &AddressPool,
) -> Result<RedisProcess, EngineError> {
    match RedisProcess::start(spec.clone()).await {
        Ok(process) => Ok(process),
        Err(error) if is_port_taken(&error) => start_on_free_address(spec, pool).await,
        Err(error) => Err(error),
    }
}

/// A node starts with the first token as `requirepass`; during a ROTATE the others must be
/// accepted too.
pub(crate) async fn accept_extra_passwords(
    client: &NodeClient,
    passwords: &[String],
) -> Result<(), EngineError> {
    for extra in passwords.iter().skip(1) {
        client
            .command(&["ACL", "SETUSER", "default", &format!(">{extra}")])
            .await?;
    }
    Ok(())
}

/// `CONFIG SET name value` for each setting, in order (one at a time: a refusal names its
/// setting).
pub(crate) async fn set_config(
    client: &NodeClient,
    settings: &[(String, String)],
) -> Result<(), EngineError> {
    for (name, value) in settings {
        client
            .command(&["CONFIG", "SET", name, value])
            .await
            .map_err(|e| EngineError::Replication(format!("CONFIG SET {name} {value:?}: {e}")))?;
    }
    Ok(())
}

/// Records `settings` in a runtime's kept config: a name set again takes the new value.
pub(crate) fn merge_config(kept: &mut Vec<(String, String)>, settings: &[(String, String)]) {
    for (name, value) in settings {
        match kept.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1.clone_from(value),
            None => kept.push((name.clone(), value.clone())),
        }
    }
}

/// `CONFIG SET`s `settings` on every node `clients` reaches, after keeping them in `kept` for
/// nodes started later (a restarted or added node gets `kept` at start).
pub(crate) async fn apply_config_to(
    clients: Vec<NodeClient>,
    kept: &mut Vec<(String, String)>,
    settings: &[(String, String)],
) -> Result<(), EngineError> {
    merge_config(kept, settings);
    for client in clients {
        set_config(&client, settings).await?;
    }
    Ok(())
}

/// Takes a free address from `pool` for the port the spec asks for and starts the node on it;
/// if another process takes the address between the probe and redis-server's bind, tries again
/// with a new one.
pub(crate) async fn start_on_free_address(
    mut spec: NodeSpec,
    pool: &AddressPool,
) -> Result<RedisProcess, EngineError> {
    let mut last_error = None;
    let asked_port = spec.addr.port();
    // An address already chosen (a node brought back after a restart) is tried first.
    if !spec.addr.ip().is_unspecified() {
        match RedisProcess::start(spec.clone()).await {
            Ok(process) => return Ok(process),
            Err(error) if is_port_taken(&error) => {
                tracing::warn!(node = %spec.name, addr = %spec.addr, "its previous address is taken: it gets a new one");
            }
            Err(error) => return Err(error),
        }
    }
    for _ in 0..PORT_ATTEMPTS {
        let no_address =
            |e: std::io::Error| EngineError::start(&spec.name, format!("no free address: {e}"));
        let (addr, bus_port) = pool
            .for_node(asked_port, spec.cluster.is_some())
            .map_err(no_address)?;
        spec.addr = addr;
        if let Some(cluster) = &mut spec.cluster {
            cluster.bus_port = bus_port;
        }
        match RedisProcess::start(spec.clone()).await {
            Ok(process) => return Ok(process),
            Err(error) if is_port_taken(&error) => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| EngineError::start(&spec.name, "no free address")))
}

/// Starts every node at once, each on a free address; the processes come back in `specs`'
/// order. On any failure the ones already started are dropped, which kills and reaps them.
pub(crate) async fn start_all(
    specs: Vec<NodeSpec>,
    pool: &std::sync::Arc<AddressPool>,
) -> Result<Vec<RedisProcess>, EngineError> {
    let mut starting = JoinSet::new();
    for (index, spec) in specs.into_iter().enumerate() {
        let pool = pool.clone();
        starting.spawn(async move { (index, start_on_free_address(spec, &pool).await) });
    }
    let mut started = Vec::new();
    let mut first_error = None;
    while let Some(joined) = starting.join_next().await {
        match joined {
            Ok((index, Ok(process))) => started.push((index, process)),
            Ok((_, Err(error))) => first_error = first_error.or(Some(error)),
            Err(join) => {
                first_error = first_error.or(Some(EngineError::Replication(join.to_string())))
            }
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    started.sort_by_key(|(index, _)| *index);
    Ok(started.into_iter().map(|(_, process)| process).collect())
}

/// Waits until `replica` is linked to `primary` and has applied everything the primary had
/// when the wait began (offsets, not link status alone).
pub(crate) async fn wait_replica_synced(
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

/// Pings every probe at once (none holds the group's lock), returning the failing members.
pub async fn probe(probes: Vec<(String, Option<NodeClient>)>) -> Vec<(String, NodeHealth)> {
    let mut pings = tokio::task::JoinSet::new();
    let mut failing = Vec::new();
    for (member, client) in probes {
        match client {
            None => failing.push((member, NodeHealth::Exited)),
            Some(client) => {
                pings.spawn(async move {
                    let healthy = match client.ping_within(HEALTH_PING_TIMEOUT).await {
                        Ok(()) => true,
                        Err(EngineError::Local(error)) => {
                            tracing::error!(%member, %error, "health check could not run: the server itself is out of resources (not a node failure; the node is kept)");
                            true
                        }
                        Err(_) => false,
                    };
                    (member, healthy)
                });
            }
        }
    }
    while let Some(joined) = pings.join_next().await {
        if let Ok((member, false)) = joined {
            failing.push((member, NodeHealth::Unresponsive));
        }
    }
    failing
}

/// Why a node failed a health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeHealth {
    Exited,
    Unresponsive,
}

/// A replica considered for promotion, ordered Sentinel-style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub index: usize,
    pub priority: i64,
    pub offset: i64,
}

/// Lowest non-zero priority, then highest applied offset, then the lowest member index (a
/// stable tie-break). Priority 0 means "never promote", as in Redis.
pub fn best_candidate(candidates: &[Candidate]) -> Option<&Candidate> {
    candidates
        .iter()
        .filter(|c| c.priority != 0)
        .min_by_key(|c| (c.priority, std::cmp::Reverse(c.offset), c.index))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(index: usize, priority: i64, offset: i64) -> Candidate {
        Candidate {
            index,
            priority,
            offset,
        }
    }

    #[test]
    fn the_most_advanced_replica_wins() {
        let all = [
            candidate(1, 100, 10),
            candidate(2, 100, 30),
            candidate(3, 100, 20),
        ];
        assert_eq!(best_candidate(&all).unwrap().index, 2);
    }

    #[test]
    fn ties_go_to_the_lowest_member_and_priority_zero_never_wins() {
        let all = [
            candidate(2, 100, 30),
            candidate(1, 100, 30),
            candidate(3, 0, 99),
        ];
        assert_eq!(best_candidate(&all).unwrap().index, 1);
        assert_eq!(best_candidate(&[candidate(3, 0, 99)]), None);
    }

    #[test]
    fn a_lower_priority_beats_a_higher_offset() {
        let all = [candidate(1, 10, 5), candidate(2, 100, 50)];
        assert_eq!(best_candidate(&all).unwrap().index, 1);
    }
}
