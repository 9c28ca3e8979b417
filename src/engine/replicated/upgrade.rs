//! An engine upgrade as rolling replacements, AWS's way: each replica is replaced by a node of
//! the new binary that syncs from the primary, then a graceful promotion (writes paused for the
//! hand-over only, no acknowledged write lost) moves the primary role to an upgraded node and
//! the old primary is replaced too. Every node keeps its port.

use std::path::PathBuf;

use super::GroupRuntime;
use crate::engine::EngineError;

impl GroupRuntime {
    /// Replaces every node with one running `binary`, one at a time, keeping the data. A group
    /// of one node gets a helper replica of the new binary to hand the primary role to while
    /// its own node is replaced. Returns the primary's member id afterwards.
    pub async fn upgrade_engine(&mut self, binary: PathBuf) -> Result<String, EngineError> {
        // Every node started from now on (a replacement, a recovery) runs the new binary.
        self.binary = binary;
        let old_primary = self.primary;
        let replicas: Vec<usize> = (0..self.nodes.len())
            .filter(|i| *i != old_primary)
            .collect();
        match replicas.first() {
            None => self.upgrade_alone().await?,
            Some(&successor) => {
                for &index in &replicas {
                    self.replace_with_upgraded(index).await?;
                }
                let successor = self.nodes[successor].member.clone();
                self.promote_gracefully(&successor).await?;
                self.replace_with_upgraded(old_primary).await?;
            }
        }
        tracing::info!(group = %self.group_id(), primary = %self.primary_member(), "engine upgraded on every node");
        Ok(self.primary_member().to_string())
    }

    /// One node replaced: a fresh node of the group's binary on the same port, synced from the
    /// primary.
    async fn replace_with_upgraded(&mut self, index: usize) -> Result<(), EngineError> {
        tracing::info!(group = %self.group_id(), member = %self.nodes[index].member, "replacing node with the upgraded engine");
        self.recover_as_replica(index).await
    }

    /// The only node of a group: a helper replica of the new binary takes the primary role
    /// while the node is replaced, then hands it back and goes.
    async fn upgrade_alone(&mut self) -> Result<(), EngineError> {
        let member = self.primary_member().to_string();
        let helper = format!("{member}-upgrade");
        self.add_replica(&helper).await?;
        let handed_back = self.hand_over_and_back(&member, &helper).await;
        if self.primary_member() == helper {
            // The hand-back failed: the helper keeps serving rather than lose the data.
            return handed_back;
        }
        let removed = self.remove_replica(&helper).await;
        handed_back.and(removed)
    }

    async fn hand_over_and_back(&mut self, member: &str, helper: &str) -> Result<(), EngineError> {
        self.promote_gracefully(helper).await?;
        let index = self
            .index_of(member)
            .ok_or_else(|| EngineError::Replication(format!("{member} is not a member")))?;
        self.replace_with_upgraded(index).await?;
        self.promote_gracefully(member).await
    }
}
