//! Failover and recovery on a cluster's real processes, following the cluster-mode recipe in
//! `../shared/spec/redis-mechanics.md`: kill the shard primary, `CLUSTER FAILOVER TAKEOVER` on
//! its replica with the best applied offset (Redis's own election cannot win a vote with fewer
//! than 3 primaries; TAKEOVER needs none), wait until every node agrees, then restart the old
//! node from its `nodes.conf`, which makes it rejoin as a replica of the new primary.

use super::ClusterRuntime;
use crate::engine::EngineError;
use crate::engine::acl::{self, AclUser};
use crate::engine::auth::{AuthUpdate, push_passwords};
use crate::engine::client::NodeClient;
use crate::engine::node::{
    Candidate, accept_extra_passwords, apply_config_to, best_candidate, set_config,
    start_on_address_or_free,
};

/// How many times the replicas of a shard are asked before none is found to take over.
const ELECT_ROUNDS: usize = 3;

impl ClusterRuntime {
    /// SIGKILLs a node (a frozen one too), so it can never come back on its own.
    pub async fn kill_node(&mut self, index: usize) {
        self.forget_lag(index).await;
        self.nodes[index].slot.kill().await;
    }

    /// The shard (by index) of the node at `index`.
    pub fn shard_at(&self, index: usize) -> usize {
        self.nodes[index].shard
    }

    /// Makes the best running replica of each of `shards` its primary with `CLUSTER FAILOVER
    /// TAKEOVER` (a replica Redis has already promoted by itself is kept), waits until every
    /// running node agrees and returns the new primaries' member ids. Several shards at once
    /// when their primaries failed together (e.g. in one AZ): every takeover first, then one
    /// convergence, since the cluster serves every slot again only once each has a primary. The new primaries, by shard given;
    /// the node at `chosen` takes over its own shard instead of the best replica.
    pub async fn take_over_shards(
        &mut self,
        shards: &[usize],
        chosen: Option<usize>,
    ) -> Result<Vec<String>, EngineError> {
        let mut promoted = Vec::new();
        for &shard in shards {
            let best = match chosen.filter(|&c| self.nodes[c].shard == shard) {
                Some(chosen) => self.take_over_by(shard, chosen).await?,
                None => self.elect(shard).await?,
            };
            self.primaries[shard] = best;
            promoted.push(best);
        }
        self.wait_converged(None).await?;
        self.refresh_configuration_endpoint();
        let members: Vec<String> = promoted
            .iter()
            .map(|&index| self.member_at(index).to_string())
            .collect();
        for (shard, member) in shards.iter().zip(&members) {
            tracing::info!(group = %self.group_id, %member, node_group = %self.shard_ids[*shard], "replica took over");
        }
        Ok(members)
    }

    /// The replica of `shard` that takes over (the one Redis promoted already, or the best
    /// candidate, to which `CLUSTER FAILOVER TAKEOVER` is sent).
    async fn elect(&self, shard: usize) -> Result<usize, EngineError> {
        let mut candidates = Vec::new();
        // A running replica that misses one answer on a loaded machine is not dead: ask again
        // a few times before the shard is declared without one.
        for _ in 0..ELECT_ROUNDS {
            for index in self.replicas_of(shard) {
                // A replica that does not answer is skipped, not waited for.
                if let Ok(info) = self.client(index).replication_info().await {
                    if info.role == "master" {
                        return Ok(index);
                    }
                    candidates.push(Candidate {
                        index,
                        priority: info.replica_priority,
                        offset: info.replica_offset,
                    });
                }
            }
            if !candidates.is_empty() || self.replicas_of(shard).is_empty() {
                break;
            }
        }
        let Some(best) = best_candidate(&candidates).cloned() else {
            return Err(EngineError::Replication(format!(
                "no replica of node group {} could take over ({} answered)",
                self.shard_ids[shard],
                candidates.len()
            )));
        };
        self.client(best.index)
            .command(&["CLUSTER", "FAILOVER", "TAKEOVER"])
            .await?;
        Ok(best.index)
    }

    /// `CLUSTER FAILOVER TAKEOVER` on `chosen`, a running replica of `shard`.
    async fn take_over_by(&self, shard: usize, chosen: usize) -> Result<usize, EngineError> {
        if !self.replicas_of(shard).contains(&chosen) {
            return Err(EngineError::Replication(format!(
                "{} is not a running replica of node group {}",
                self.member_at(chosen),
                self.shard_ids[shard]
            )));
        }
        self.client(chosen)
            .command(&["CLUSTER", "FAILOVER", "TAKEOVER"])
            .await?;
        Ok(chosen)
    }

    pub(super) fn replicas_of(&self, shard: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| {
                self.nodes[i].shard == shard
                    && i != self.primaries[shard]
                    && self.nodes[i].slot.process.is_some()
            })
            .collect()
    }

    /// Restarts the node at `index` empty, from its own `nodes.conf` (so it rejoins as the node
    /// it was: a replica of its shard's current primary, or that primary when no replica took
    /// over), and waits until the whole cluster agrees and it has caught up.
    pub async fn recover(&mut self, index: usize) -> Result<(), EngineError> {
        self.recover_together(&[index]).await
    }

    /// [`Self::recover`] for several nodes at once (a whole AZ, or every node): each restarts
    /// first, then one convergence, since the cluster serves every slot again only once each
    /// shard has its primary back.
    pub async fn recover_together(&mut self, indices: &[usize]) -> Result<(), EngineError> {
        for &index in indices {
            self.restart_in_place(index).await?;
        }
        self.wait_converged(None).await?;
        self.refresh_configuration_endpoint();
        Ok(())
    }

    async fn restart_in_place(&mut self, index: usize) -> Result<(), EngineError> {
        self.kill_node(index).await;
        // The host is back: its address stops being a black hole right before the node
        // starts there again.
        self.held.host_back(&self.nodes[index].slot.member);
        let process = start_on_address_or_free(self.restart_spec(index), &self.pool).await?;
        let node = &mut self.nodes[index];
        node.slot.addr = process.addr();
        node.bus_port = process.spec().cluster.map_or(node.bus_port, |c| c.bus_port);
        node.slot.process = Some(process);
        self.apply_extra_passwords(index).await
    }

    /// A node starts with the first token as `requirepass`; during a ROTATE the old token must
    /// be accepted too.
    pub(super) async fn apply_extra_passwords(&self, index: usize) -> Result<(), EngineError> {
        accept_extra_passwords(&self.client(index), &self.passwords).await?;
        set_config(&self.client(index), &self.config).await?;
        acl::apply(&self.client(index), &self.acl, &[]).await
    }

    /// A client of each node whose process runs.
    fn running_clients(&self) -> Vec<NodeClient> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].slot.process.is_some())
            .map(|i| self.client(i))
            .collect()
    }

    /// Makes every running node know exactly `users`, as in a cluster-mode-disabled group.
    pub async fn apply_users(&mut self, users: Vec<AclUser>) -> Result<(), EngineError> {
        acl::apply_to(self.running_clients(), &mut self.acl, users).await
    }

    /// `CONFIG SET`s `settings` on every running node and keeps them for nodes started later.
    pub async fn apply_config(&mut self, settings: &[(String, String)]) -> Result<(), EngineError> {
        apply_config_to(self.running_clients(), &mut self.config, settings).await
    }

    /// Applies a token change to every running node, as in a cluster-mode-disabled group.
    pub async fn update_auth(&mut self, update: AuthUpdate) -> Result<(), EngineError> {
        let passwords = update.passwords(&self.passwords);
        push_passwords(self.running_clients(), &passwords).await?;
        self.passwords = passwords;
        Ok(())
    }

    /// What a health check needs, taken under the group's lock: each member with a client to
    /// ping, or `None` when its process has already exited.
    pub fn health_probes(&mut self) -> Vec<(String, Option<NodeClient>)> {
        let held = &self.held;
        self.nodes
            .iter_mut()
            .filter(|n| !held.contains(&n.slot.member))
            .map(|n| (n.slot.member.clone(), n.slot.probe()))
            .collect()
    }

    /// Re-checks one member under the lock, just before acting on it.
    pub async fn still_failing(&mut self, member: &str) -> Option<usize> {
        let index = self.index_of(member)?;
        self.nodes[index]
            .slot
            .still_failing()
            .await
            .then_some(index)
    }
}
