//! Failover steps on a group's real processes, following the cluster-mode-disabled recipe in
//! `../shared/spec/redis-mechanics.md`: kill the primary, promote the replica with the highest
//! applied offset, switch the primary endpoint, re-point the other replicas, and later restart
//! the old node empty as a replica.

use super::GroupRuntime;
use crate::engine::EngineError;
use crate::engine::node::{Candidate, best_candidate};

impl GroupRuntime {
    /// Promotes the best replica (`REPLICAOF NO ONE`), or `chosen` when it runs and answers,
    /// points the primary endpoint at it (which drops the connections to the old node),
    /// re-points the other running replicas and returns the new primary's member id.
    pub async fn promote_best_replica(
        &mut self,
        chosen: Option<&str>,
    ) -> Result<String, EngineError> {
        let mut candidates = Vec::new();
        for index in 0..self.nodes.len() {
            if index == self.primary || self.nodes[index].process.is_none() {
                continue;
            }
            // A replica that does not answer is skipped, not waited for.
            if let Ok(info) = self.client(index).replication_info().await {
                candidates.push(Candidate {
                    index,
                    priority: info.replica_priority,
                    offset: info.replica_offset,
                });
            }
        }
        let best = match chosen {
            Some(member) => candidates
                .iter()
                .find(|c| self.nodes[c.index].member == member)
                .cloned()
                .ok_or_else(|| {
                    EngineError::Replication(format!(
                        "{member}, the replica chosen for promotion, is not a running replica"
                    ))
                })?,
            None => self.least_lagged(&candidates)?,
        };
        self.client(best.index).replicate_from(None).await?;
        self.relays.clear(); // every replica follows the new primary directly
        let old_primary = self.nodes[self.primary].addr;
        self.primary = best.index;
        self.point_primary_endpoint_after_failover(old_primary);
        let new_primary = self.nodes[best.index].addr;
        for candidate in candidates.iter().filter(|c| c.index != best.index) {
            if let Err(error) = self
                .client(candidate.index)
                .replicate_from(Some(new_primary))
                .await
            {
                tracing::warn!(%error, member = %self.nodes[candidate.index].member, "could not re-point replica");
            }
        }
        self.refresh_reader_endpoint();
        tracing::info!(group = %self.group_id(), new_primary = %self.primary_member(), offset = best.offset, "replica promoted");
        Ok(self.primary_member().to_string())
    }

    /// The replica with the highest applied offset (see [`best_candidate`]).
    fn least_lagged(&self, candidates: &[Candidate]) -> Result<Candidate, EngineError> {
        best_candidate(candidates).cloned().ok_or_else(|| {
            EngineError::Replication(format!(
                "no replica could be promoted ({} answered; replicas with replica-priority 0 are never promoted)",
                candidates.len()
            ))
        })
    }

    /// Brings a failed primary back as the primary when no replica could take over, so the
    /// group is never left without one. Its data is gone, as on AWS.
    pub async fn restart_as_primary(&mut self, index: usize) -> Result<(), EngineError> {
        self.restart_node(index, None).await?;
        self.make_primary(index).await
    }

    /// Replaces the node at `index` with a fresh, empty redis-server that replicates from the
    /// current primary, and waits until it is linked and caught up.
    pub async fn recover_as_replica(&mut self, index: usize) -> Result<(), EngineError> {
        let primary = self.nodes[self.primary].addr;
        self.restart_node(index, Some(primary)).await?;
        self.wait_synced(index).await?;
        self.refresh_reader_endpoint();
        Ok(())
    }
}
