//! Online resharding of a running cluster: new shards start as real nodes and meet the
//! cluster, slots move with their keys by the migration protocol (`migration`), and removed
//! shards, once they own no slot, are forgotten by every other node and stop.

use std::collections::HashMap;
use std::net::SocketAddrV4;
use std::time::Instant;

use tokio::task::JoinSet;

use super::migration::{Primary, move_batch};
use super::runtime::{ClusterRuntime, ShardSpec, meet};
use super::slot_map::{moves, slot_owners, target_owners};
use crate::engine::EngineError;
use crate::engine::runtime::Runtime;

const DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);
const POLL: std::time::Duration = std::time::Duration::from_millis(5);
/// Slots migrating at once: each step of a batch is one pipeline per node (see `migration`);
/// small enough that the progress moves in steps of about 1 % when a third of the slots move.
const SLOTS_PER_BATCH: usize = 50;

/// Progress of a slot migration: `(slots moved, slots to move)`, called before the first move
/// and after each one.
pub type Progress<'a> = &'a mut (dyn FnMut(usize, usize) + Send);

impl Runtime {
    /// The cluster-mode-enabled runtime, or an error saying `what` needs one.
    pub fn cluster(&mut self, what: &str) -> Result<&mut ClusterRuntime, EngineError> {
        match self {
            Self::Cluster(cluster) => Ok(cluster),
            Self::Replicated(_) => Err(EngineError::Replication(format!(
                "{what} needs a cluster-mode-enabled group"
            ))),
        }
    }
}

impl ClusterRuntime {
    /// Starts every member of `shards` (primary first, its slots ignored: they come by
    /// migration), lets them meet the cluster, links the replicas and gives the new nodes the
    /// group's passwords, settings and users.
    pub async fn add_shards(&mut self, shards: &[ShardSpec]) -> Result<(), EngineError> {
        let mut specs = Vec::new();
        let mut shard_of = Vec::new();
        for (offset, shard) in shards.iter().enumerate() {
            for member in &shard.members {
                specs.push(self.joining_node_spec(member));
                shard_of.push(self.shard_ids.len() + offset);
            }
        }
        let first_new = self.nodes.len();
        self.start_joining_nodes(specs, shard_of).await?;
        for shard in shards {
            let index = self.shard_ids.len();
            self.shard_ids.push(shard.node_group_id.clone());
            let primary = (first_new..self.nodes.len()).find(|&i| self.nodes[i].shard == index);
            self.primaries.push(primary.unwrap_or(first_new));
        }
        self.meet_new_nodes(first_new).await?;
        for index in first_new..self.nodes.len() {
            let primary = self.primaries[self.nodes[index].shard];
            if index != primary {
                self.follow(index, primary).await?;
            }
            self.apply_extra_passwords(index).await?;
        }
        self.wait_converged(None).await?;
        self.refresh_configuration_endpoint();
        tracing::info!(group = %self.group_id, added = shards.len(), "shards joined the cluster");
        Ok(())
    }

    /// Each new node meets every node directly (gossip alone takes up to a second to spread).
    pub(super) async fn meet_new_nodes(&self, first_new: usize) -> Result<(), EngineError> {
        let mut meetings = JoinSet::new();
        for index in first_new..self.nodes.len() {
            let client = self.client(index);
            let others: Vec<(SocketAddrV4, u16)> = (0..index)
                .map(|other| (self.nodes[other].slot.addr, self.nodes[other].bus_port))
                .collect();
            meetings.spawn(meet(client, others));
        }
        while let Some(joined) = meetings.join_next().await {
            joined.map_err(|e| EngineError::Replication(e.to_string()))??;
        }
        Ok(())
    }

    /// Moves every slot whose owner differs from `target` (slot ranges by node group id; a
    /// shard not named gets none), reporting progress, and waits until every node agrees.
    pub async fn move_slots(
        &mut self,
        target: &[(String, Vec<(u32, u32)>)],
        progress: Progress<'_>,
    ) -> Result<(), EngineError> {
        let by_shard: Vec<Vec<(u32, u32)>> = self
            .shard_ids
            .iter()
            .map(|id| {
                let found = target.iter().find(|(t, _)| t == id);
                found.map(|(_, ranges)| ranges.clone()).unwrap_or_default()
            })
            .collect();
        let wanted = target_owners(&by_shard);
        let view = self
            .client(self.primaries[0])
            .text(&["CLUSTER", "NODES"])
            .await?;
        let shard_of: HashMap<String, usize> = (0..self.shard_ids.len())
            .map(|shard| (self.nodes[self.primaries[shard]].node_id.clone(), shard))
            .collect();
        let planned = moves(&slot_owners(&view), &wanted, &shard_of);
        let mut primaries = Vec::new();
        for shard in 0..self.shard_ids.len() {
            let index = self.primaries[shard];
            let id = self.nodes[index].node_id.clone();
            primaries.push(Primary::open(id, &self.client(index)).await?);
        }
        let started = Instant::now();
        let (total, mut keys) = (planned.len(), 0);
        progress(0, total);
        let mut done = 0;
        for batch in planned.chunks(SLOTS_PER_BATCH) {
            keys += move_batch(&mut primaries, batch).await?;
            done += batch.len();
            progress(done, total);
        }
        let expected: Vec<Option<String>> = wanted
            .iter()
            .map(|shard| shard.map(|s| self.nodes[self.primaries[s]].node_id.clone()))
            .collect();
        self.wait_slots_agree(&expected).await?;
        tracing::info!(group = %self.group_id, slots = total, keys, elapsed = ?started.elapsed(), "slots migrated");
        Ok(())
    }

    /// Waits until every running node sees `expected` as the owner of each slot (replicas
    /// learn it by gossip).
    async fn wait_slots_agree(&self, expected: &[Option<String>]) -> Result<(), EngineError> {
        let deadline = Instant::now() + DEADLINE;
        for index in 0..self.nodes.len() {
            if self.nodes[index].slot.process.is_none() {
                continue;
            }
            loop {
                let view = self.client(index).text(&["CLUSTER", "NODES"]).await;
                if view.is_ok_and(|v| slot_owners(&v) == expected) {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(EngineError::Replication(format!(
                        "{} did not learn the new slot owners within {DEADLINE:?}",
                        self.nodes[index].slot.member
                    )));
                }
                tokio::time::sleep(POLL).await;
            }
        }
        Ok(())
    }

    /// The slots each shard's primary owns now, by node group id, in shard order.
    pub async fn slot_layout(&self) -> Result<Vec<(String, Vec<u32>)>, EngineError> {
        let view = self
            .client(self.primaries[0])
            .text(&["CLUSTER", "NODES"])
            .await?;
        let owners = slot_owners(&view);
        Ok((0..self.shard_ids.len())
            .map(|shard| {
                let id = &self.nodes[self.primaries[shard]].node_id;
                let slots = (0..owners.len() as u32)
                    .filter(|&slot| owners[slot as usize].as_ref() == Some(id))
                    .collect();
                (self.shard_ids[shard].clone(), slots)
            })
            .collect())
    }

    /// Removes the shards named `node_group_ids`, which must own no slot any more: every
    /// other node forgets their nodes (as `redis-cli --cluster del-node` does), then they stop.
    pub async fn remove_shards(&mut self, node_group_ids: &[String]) -> Result<(), EngineError> {
        let layout = self.slot_layout().await?;
        if let Some((id, _)) = layout
            .iter()
            .find(|(id, slots)| node_group_ids.contains(id) && !slots.is_empty())
        {
            return Err(EngineError::Replication(format!(
                "node group {id} still owns slots; it cannot leave the cluster"
            )));
        }
        let leaving: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| node_group_ids.contains(&self.shard_ids[self.nodes[i].shard]))
            .collect();
        self.forget_and_stop(&leaving).await?;
        self.drop_shards(node_group_ids);
        self.wait_converged(None).await?;
        self.refresh_configuration_endpoint();
        tracing::info!(group = %self.group_id, removed = ?node_group_ids, "shards left the cluster");
        Ok(())
    }

    /// The `leaving` nodes leave the cluster: every other running node forgets them, then
    /// they stop (the caller then drops them from the runtime).
    pub(super) async fn forget_and_stop(&mut self, leaving: &[usize]) -> Result<(), EngineError> {
        let ids: Vec<String> = leaving
            .iter()
            .map(|&i| self.nodes[i].node_id.clone())
            .collect();
        self.forget_everywhere(leaving, &ids).await?;
        let mut stopping = JoinSet::new();
        for &index in leaving {
            if let Some(process) = self.nodes[index].slot.process.take() {
                stopping.spawn(process.stop());
            }
        }
        while stopping.join_next().await.is_some() {}
        Ok(())
    }

    /// `CLUSTER FORGET` of each of `ids` on every running node but the `leaving` ones.
    async fn forget_everywhere(
        &self,
        leaving: &[usize],
        ids: &[String],
    ) -> Result<(), EngineError> {
        let mut forgetting = JoinSet::new();
        for index in 0..self.nodes.len() {
            if leaving.contains(&index) || self.nodes[index].slot.process.is_none() {
                continue;
            }
            let client = self.client(index);
            let ids = ids.to_vec();
            forgetting.spawn(async move {
                for id in ids {
                    match client.command(&["CLUSTER", "FORGET", &id]).await {
                        // Already forgotten (a retried step): nothing to do.
                        Err(error) if error.to_string().contains("Unknown node") => {}
                        other => {
                            other?;
                        }
                    }
                }
                Ok::<(), EngineError>(())
            });
        }
        while let Some(joined) = forgetting.join_next().await {
            joined.map_err(|e| EngineError::Replication(e.to_string()))??;
        }
        Ok(())
    }

    /// Takes the removed shards and their nodes out of the runtime, renumbering the rest.
    fn drop_shards(&mut self, node_group_ids: &[String]) {
        let kept_shards: Vec<usize> = (0..self.shard_ids.len())
            .filter(|&s| !node_group_ids.contains(&self.shard_ids[s]))
            .collect();
        let new_shard = |old: usize| kept_shards.iter().position(|&s| s == old);
        let primary_ids: Vec<String> = kept_shards
            .iter()
            .map(|&s| self.nodes[self.primaries[s]].node_id.clone())
            .collect();
        let nodes = std::mem::take(&mut self.nodes);
        self.nodes = nodes
            .into_iter()
            .filter_map(|mut node| {
                node.shard = new_shard(node.shard)?;
                Some(node)
            })
            .collect();
        self.shard_ids = kept_shards
            .iter()
            .map(|&s| self.shard_ids[s].clone())
            .collect();
        self.point_primaries_at(&primary_ids);
    }
}
