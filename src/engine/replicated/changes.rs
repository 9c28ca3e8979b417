//! Changes to a running group: graceful promotion, AUTH token updates, adding and removing
//! replicas, and what the automatic-failover monitor's health check reads.

use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use super::GroupRuntime;
use crate::engine::EngineError;
use crate::engine::address::unassigned;
use crate::engine::auth::{AuthUpdate, push_passwords};
use crate::engine::client::NodeClient;
use crate::engine::node::{NodeSlot, start_on_free_address};

const CATCH_UP_DEADLINE: Duration = Duration::from_secs(5);
/// The pause on the old primary ends by itself after this, should the engine die mid-way.
const PAUSE_SAFETY_MS: &str = "10000";

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

    /// Applies a token change to every running node (`ACL SETUSER default`).
    pub async fn update_auth(&mut self, update: AuthUpdate) -> Result<(), EngineError> {
        let passwords = update.passwords(&self.passwords);
        push_passwords(self.running_clients(), &passwords).await?;
        self.passwords = passwords;
        tracing::info!(group = %self.group_id(), tokens = self.passwords.len(), "auth updated");
        Ok(())
    }

    /// Starts a new replica named `member`, waits until it is linked and caught up, and returns
    /// its address.
    pub async fn add_replica(&mut self, member: &str) -> Result<SocketAddrV4, EngineError> {
        let primary = Some(self.nodes[self.primary].addr);
        let spec = self.node_spec(member, unassigned(self.port), primary);
        let process = start_on_free_address(spec, &self.pool).await?;
        self.nodes.push(NodeSlot {
            member: member.to_string(),
            addr: process.addr(),
            process: Some(process),
        });
        let index = self.nodes.len() - 1;
        self.apply_extra_passwords(index).await?;
        self.wait_synced(index).await?;
        self.refresh_reader_endpoint();
        Ok(self.nodes[index].addr)
    }

    /// Stops and forgets a replica.
    pub async fn remove_replica(&mut self, member: &str) -> Result<(), EngineError> {
        let index = self
            .index_of(member)
            .ok_or_else(|| EngineError::Replication(format!("{member} is not a member")))?;
        if index == self.primary {
            return Err(EngineError::Replication(format!("{member} is the primary")));
        }
        let mut slot = self.nodes.remove(index);
        // Removed while its host was gone: the address is no one's now.
        self.held.host_back(member);
        if index < self.primary {
            self.primary -= 1;
        }
        self.refresh_reader_endpoint();
        if let Some(process) = slot.process.take() {
            process.stop().await;
        }
        Ok(())
    }

    /// What a health check needs, taken under the group's lock: each member with a client to
    /// ping, or `None` when its process has already exited.
    pub fn health_probes(&mut self) -> Vec<(String, Option<NodeClient>)> {
        let held = &self.held;
        self.nodes
            .iter_mut()
            .filter(|n| !held.contains(&n.member))
            .map(|n| (n.member.clone(), n.probe()))
            .collect()
    }

    /// Re-checks one member under the lock, just before acting on it: the group may have
    /// changed since the probe.
    pub async fn still_failing(&mut self, member: &str) -> Option<usize> {
        let index = self.index_of(member)?;
        self.nodes[index].still_failing().await.then_some(index)
    }

    pub fn member_at(&self, index: usize) -> &str {
        &self.nodes[index].member
    }

    pub fn primary_index(&self) -> usize {
        self.primary
    }

    /// SIGKILLs a node (a frozen one too), so it can never come back on its own.
    pub async fn kill_node(&mut self, index: usize) {
        self.nodes[index].kill().await;
        if index == self.primary {
            self.primary_endpoint_down(false);
        }
    }
}
