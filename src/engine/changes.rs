//! Changes to a running group: graceful promotion, AUTH token updates, adding and removing
//! replicas, and the health check the automatic-failover monitor runs.

use std::time::{Duration, Instant};

use super::EngineError;
use super::client::NodeClient;
use super::group::{GroupRuntime, NodeSlot, start_on_free_port};

/// How long a healthy node may take to answer PING.
pub const HEALTH_PING_TIMEOUT: Duration = Duration::from_millis(500);
const CATCH_UP_DEADLINE: Duration = Duration::from_secs(5);
/// The pause on the old primary ends by itself after this, should the engine die mid-way.
const PAUSE_SAFETY_MS: &str = "10000";

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

/// How ModifyReplicationGroup changes the AUTH token (`AuthTokenUpdateStrategy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthUpdate {
    /// Only the new token is accepted.
    Set(String),
    /// The new token and the current one are both accepted.
    Rotate(String),
    /// No token is required.
    Delete,
}

impl AuthUpdate {
    /// The tokens nodes accept after this update, the one they authenticate with first.
    pub fn passwords(&self, current: &[String]) -> Vec<String> {
        match self {
            Self::Set(token) => vec![token.clone()],
            Self::Rotate(token) => {
                let mut both = vec![token.clone()];
                both.extend(current.first().cloned());
                both
            }
            Self::Delete => vec![],
        }
    }
}

/// Makes every node accept exactly `passwords` (`ACL SETUSER default`) and authenticate to its
/// primary with the first (`masterauth`).
pub async fn push_passwords(
    clients: Vec<NodeClient>,
    passwords: &[String],
) -> Result<(), EngineError> {
    let mut acl = vec![
        "ACL".to_string(),
        "SETUSER".into(),
        "default".into(),
        "resetpass".into(),
    ];
    if passwords.is_empty() {
        acl.push("nopass".into());
    }
    acl.extend(passwords.iter().map(|p| format!(">{p}")));
    let acl: Vec<&str> = acl.iter().map(String::as_str).collect();
    let masterauth = passwords.first().map_or("", String::as_str);
    for client in clients {
        client
            .command(&["CONFIG", "SET", "masterauth", masterauth])
            .await?;
        client.command(&acl).await?;
    }
    Ok(())
}

impl GroupRuntime {
    /// Promotes `member` with zero acknowledged writes lost: pause writes on the primary, wait
    /// until the target has the primary's offset, promote it, switch the primary endpoint,
    /// re-point every other node (the old primary included), then unpause. Avoids the plain
    /// `FAILOVER` command's 0-1 s wait for a replica ACK.
    pub async fn promote_gracefully(&mut self, member: &str) -> Result<(), EngineError> {
        let target = self
            .index_of(member)
            .ok_or_else(|| EngineError::Replication(format!("{member} is not a member")))?;
        if target == self.primary {
            return Ok(());
        }
        let old_primary = self.client(self.primary);
        old_primary
            .command(&["CLIENT", "PAUSE", PAUSE_SAFETY_MS, "WRITE"])
            .await?;
        let result = self.hand_over(target).await;
        // Unpaused only after the endpoint switch: clients then reconnect to the new primary
        // instead of meeting READONLY on the old one.
        let unpaused = old_primary.command(&["CLIENT", "UNPAUSE"]).await;
        result?;
        unpaused.map(|_| ())
    }

    async fn hand_over(&mut self, target: usize) -> Result<(), EngineError> {
        let offset = self
            .client(self.primary)
            .replication_info()
            .await?
            .master_repl_offset;
        let deadline = Instant::now() + CATCH_UP_DEADLINE;
        while self.client(target).replication_info().await?.replica_offset < offset {
            if Instant::now() > deadline {
                return Err(EngineError::Replication(format!(
                    "{} did not reach the primary's offset {offset} within {CATCH_UP_DEADLINE:?}",
                    self.nodes[target].member
                )));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        self.client(target).replicate_from(None).await?;
        self.make_primary(target).await?;
        tracing::info!(group = %self.group_id(), new_primary = %self.primary_member(), "graceful promotion done");
        Ok(())
    }

    /// Applies a token change to every running node (`ACL SETUSER default` and `masterauth`).
    pub async fn update_auth(&mut self, update: AuthUpdate) -> Result<(), EngineError> {
        let passwords = update.passwords(&self.passwords);
        let clients: Vec<_> = (0..self.nodes.len())
            .filter(|i| self.nodes[*i].process.is_some())
            .map(|i| self.client(i))
            .collect();
        push_passwords(clients, &passwords).await?;
        self.passwords = passwords;
        tracing::info!(group = %self.group_id(), tokens = self.passwords.len(), "auth updated");
        Ok(())
    }

    /// Starts a new replica named `member`, waits until it is linked and caught up, and returns
    /// its port.
    pub async fn add_replica(&mut self, member: &str) -> Result<u16, EngineError> {
        let spec = self.node_spec(member, 0, Some(self.nodes[self.primary].port));
        let process = start_on_free_port(spec).await?;
        self.nodes.push(NodeSlot {
            member: member.to_string(),
            port: process.port(),
            process: Some(process),
        });
        let index = self.nodes.len() - 1;
        self.apply_extra_passwords(index).await?;
        self.wait_synced(index).await?;
        self.refresh_reader_endpoint();
        Ok(self.nodes[index].port)
    }

    /// Stops and forgets a replica.
    pub async fn remove_replica(&mut self, member: &str) -> Result<(), EngineError> {
        let index = self
            .index_of(member)
            .ok_or_else(|| EngineError::Replication(format!("{member} is not a member")))?;
        if index == self.primary {
            return Err(EngineError::Replication(format!("{member} is the primary")));
        }
        let slot = self.nodes.remove(index);
        if index < self.primary {
            self.primary -= 1;
        }
        self.refresh_reader_endpoint();
        if let Some(process) = slot.process {
            process.stop().await;
        }
        Ok(())
    }

    /// What a health check needs, taken under the group's lock: each member with a client to
    /// ping, or `None` when its process has already exited.
    pub fn health_probes(&mut self) -> Vec<(String, Option<NodeClient>)> {
        let password = self.passwords.first().cloned();
        self.nodes
            .iter_mut()
            .map(|n| (n.member.clone(), n.probe(password.clone())))
            .collect()
    }

    /// Re-checks one member under the lock, just before acting on it: the group may have
    /// changed since the probe.
    pub async fn still_failing(&mut self, member: &str) -> Option<usize> {
        let index = self.index_of(member)?;
        let password = self.passwords.first().cloned();
        self.nodes[index]
            .still_failing(password)
            .await
            .then_some(index)
    }

    pub fn member_at(&self, index: usize) -> &str {
        &self.nodes[index].member
    }

    pub fn primary_index(&self) -> usize {
        self.primary
    }

    /// SIGKILLs a node (a frozen one too), so it can never come back on its own.
    pub fn kill_node(&mut self, index: usize) {
        self.nodes[index].kill();
    }
}
