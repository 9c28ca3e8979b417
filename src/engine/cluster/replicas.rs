//! Replica counts per shard of a running cluster (Increase/DecreaseReplicaCount with cluster
//! mode enabled): a new replica starts like a new shard's node does (`reshard`), meets the
//! cluster, follows its shard's primary by `CLUSTER REPLICATE` and syncs; a removed one is
//! forgotten by every other node first (as `redis-cli --cluster del-node` does), then stops.

use super::runtime::{ClusterNode, ClusterRuntime};
use crate::engine::EngineError;
use crate::engine::address::unassigned;
use crate::engine::node::{node_spec, start_all, wait_replica_synced};
use crate::engine::process::{ClusterNodeConfig, NodeSpec};

impl ClusterRuntime {
    /// The spec of a node joining this cluster: the group's binary, password and TLS, a fresh
    /// cluster configuration (it learns the cluster by `CLUSTER MEET`).
    pub(super) fn joining_node_spec(&self, member: &str) -> NodeSpec {
        let port = self.nodes[0].slot.addr.port();
        let password = self.passwords.first().cloned();
        let addr = unassigned(port);
        let mut spec = node_spec(member, &self.binary, &self.dir, password, addr, None);
        spec.cluster = Some(ClusterNodeConfig {
            bus_port: 0,
            keep_config: false,
        });
        spec.tls = self.tls.clone();
        spec
    }

    /// Starts `specs` and appends them to the nodes, each in its shard (by index).
    pub(super) async fn start_joining_nodes(
        &mut self,
        specs: Vec<NodeSpec>,
        shard_of: Vec<usize>,
    ) -> Result<(), EngineError> {
        for (process, shard) in start_all(specs, &self.pool)
            .await?
            .into_iter()
            .zip(shard_of)
        {
            self.nodes.push(ClusterNode::started(process, shard).await?);
        }
        Ok(())
    }

    /// Starts one replica per `(member, node group id)`, lets each meet the cluster, follow
    /// its shard's primary and take the group's passwords, settings and users, and waits
    /// until each has caught up with its primary and every node agrees on the topology.
    /// On failure the nodes that started stay in the runtime (see `node_addresses`).
    pub async fn add_replicas(&mut self, added: &[(String, String)]) -> Result<(), EngineError> {
        let mut specs = Vec::new();
        let mut shard_of = Vec::new();
        for (member, node_group) in added {
            let shard = self
                .shard_ids
                .iter()
                .position(|id| id == node_group)
                .ok_or_else(|| {
                    EngineError::Replication(format!("no node group {node_group} in the cluster"))
                })?;
            specs.push(self.joining_node_spec(member));
            shard_of.push(shard);
        }
        let first_new = self.nodes.len();
        self.start_joining_nodes(specs, shard_of).await?;
        self.meet_new_nodes(first_new).await?;
        for index in first_new..self.nodes.len() {
            let primary = self.primaries[self.nodes[index].shard];
            self.follow(index, primary).await?;
            self.apply_extra_passwords(index).await?;
        }
        for index in first_new..self.nodes.len() {
            let primary = self.primaries[self.nodes[index].shard];
            let member = self.nodes[index].slot.member.clone();
            wait_replica_synced(&self.client(primary), &self.client(index), &member).await?;
        }
        self.wait_converged(None).await?;
        self.refresh_configuration_endpoint();
        tracing::info!(group = %self.group_id, added = added.len(), "replicas joined the cluster");
        Ok(())
    }

    /// Removes the replicas `members`: every other node forgets them, then they stop. A
    /// member that is a primary now (after a failover) is refused before anything changes.
    pub async fn remove_replicas(&mut self, members: &[String]) -> Result<(), EngineError> {
        let mut leaving = Vec::new();
        for member in members {
            let index = self.index_of(member).ok_or_else(|| {
                EngineError::Replication(format!("{member} is not a node of the cluster"))
            })?;
            if self.primaries.contains(&index) {
                return Err(EngineError::Replication(format!(
                    "{member} is its shard's primary; it cannot be removed as a replica"
                )));
            }
            leaving.push(index);
        }
        self.forget_and_stop(&leaving).await?;
        self.drop_nodes(&leaving);
        self.wait_converged(None).await?;
        self.refresh_configuration_endpoint();
        tracing::info!(group = %self.group_id, removed = ?members, "replicas left the cluster");
        Ok(())
    }

    /// Takes the nodes at `leaving` (none a primary) out, keeping each shard's primary index.
    fn drop_nodes(&mut self, leaving: &[usize]) {
        let primary_ids: Vec<String> = self
            .primaries
            .iter()
            .map(|&i| self.nodes[i].node_id.clone())
            .collect();
        let nodes = std::mem::take(&mut self.nodes);
        self.nodes = nodes
            .into_iter()
            .enumerate()
            .filter(|(index, _)| !leaving.contains(index))
            .map(|(_, node)| node)
            .collect();
        self.point_primaries_at(&primary_ids);
    }
}
