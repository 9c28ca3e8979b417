//! An engine upgrade of a cluster, shard by shard, as in a cluster-mode-disabled group: each
//! replica restarts on the new binary from its own `nodes.conf` (it rejoins as the replica it
//! was and resyncs), then the primary role moves to an upgraded replica with writes paused on
//! the old primary until the replica has its offset (`CLUSTER FAILOVER TAKEOVER`, as Redis's
//! election cannot win a vote with fewer than 3 primaries), and the old primary restarts on the
//! new binary as a replica.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::ClusterRuntime;
use crate::engine::EngineError;

const CATCH_UP_DEADLINE: Duration = Duration::from_secs(5);
/// The pause on the old primary ends by itself after this, should the engine die mid-way.
const PAUSE_SAFETY_MS: &str = "10000";

impl ClusterRuntime {
    /// Whether every shard has a replica to hand its slots to during an upgrade.
    pub fn every_shard_has_a_replica(&self) -> bool {
        (0..self.shard_ids.len()).all(|shard| !self.replicas_of(shard).is_empty())
    }

    /// Replaces every node with one running `binary`, shard by shard, keeping the data; returns
    /// each shard's primary member afterwards.
    pub async fn upgrade_engine(&mut self, binary: PathBuf) -> Result<Vec<String>, EngineError> {
        if !self.every_shard_has_a_replica() {
            return Err(EngineError::Replication(
                "every node group needs a replica to keep its data through an engine upgrade"
                    .into(),
            ));
        }
        self.binary = binary;
        for shard in 0..self.shard_ids.len() {
            let old_primary = self.primaries[shard];
            let replicas = self.replicas_of(shard);
            for &replica in &replicas {
                self.recover(replica).await?;
            }
            self.hand_over(shard, replicas[0]).await?;
            self.recover(old_primary).await?;
        }
        tracing::info!(group = %self.group_id, "engine upgraded on every node");
        Ok(self
            .primaries
            .iter()
            .map(|&i| self.member_at(i).to_string())
            .collect())
    }

    /// Moves `shard`'s primary role to `target` with no acknowledged write lost: writes paused
    /// on the old primary until the target has its offset, then the takeover.
    async fn hand_over(&mut self, shard: usize, target: usize) -> Result<(), EngineError> {
        let old_primary = self.client(self.primaries[shard]);
        old_primary
            .command(&["CLIENT", "PAUSE", PAUSE_SAFETY_MS, "WRITE"])
            .await?;
        let result = self.take_over_when_caught_up(shard, target).await;
        let unpaused = old_primary.command(&["CLIENT", "UNPAUSE"]).await;
        result?;
        unpaused.map(|_| ())
    }

    async fn take_over_when_caught_up(
        &mut self,
        shard: usize,
        target: usize,
    ) -> Result<(), EngineError> {
        let primary = self.client(self.primaries[shard]);
        let offset = primary.replication_info().await?.master_repl_offset;
        let deadline = Instant::now() + CATCH_UP_DEADLINE;
        while self.client(target).replication_info().await?.replica_offset < offset {
            if Instant::now() > deadline {
                return Err(EngineError::Replication(format!(
                    "{} did not reach its primary's offset {offset} within {CATCH_UP_DEADLINE:?}",
                    self.member_at(target)
                )));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let old_primary = self.primaries[shard];
        self.client(target)
            .command(&["CLUSTER", "FAILOVER", "TAKEOVER"])
            .await?;
        self.primaries[shard] = target;
        self.wait_converged(None).await?;
        self.refresh_configuration_endpoint();
        tracing::info!(group = %self.group_id, new_primary = %self.member_at(target), old_primary = %self.member_at(old_primary), "shard primary handed over");
        Ok(())
    }
}
