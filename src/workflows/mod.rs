//! Long-running workflows: background tasks that drive the engine and report each step to the
//! model (events, roles, status). They never hold the model lock across an `.await`.

use std::time::{Duration, Instant};

use crate::engine::{ClusterRuntime, EngineError, GroupRuntime};
use crate::model::events::EventKind;
use crate::state::SharedState;

pub mod cluster;
pub mod failover;
pub mod health;
pub mod modify;
pub mod replicas;

/// The cache node id of every member (one node each).
pub const NODE_ID: &str = "0001";

/// A runtime that can bring a failed node back (either mode).
pub trait NodeRecovery: Send {
    fn member_at(&self, index: usize) -> &str;
    fn node_ports(&self) -> Vec<(String, u16)>;
    /// Replaces the node at `index` with a fresh, empty one that rejoins as a replica (as the
    /// primary, in cluster mode, when no replica took over) and waits until it caught up.
    fn recover(&mut self, index: usize) -> impl Future<Output = Result<(), EngineError>> + Send;
}

impl NodeRecovery for GroupRuntime {
    fn member_at(&self, index: usize) -> &str {
        GroupRuntime::member_at(self, index)
    }

    fn node_ports(&self) -> Vec<(String, u16)> {
        GroupRuntime::node_ports(self)
    }

    async fn recover(&mut self, index: usize) -> Result<(), EngineError> {
        self.recover_as_replica(index).await
    }
}

impl NodeRecovery for ClusterRuntime {
    fn member_at(&self, index: usize) -> &str {
        ClusterRuntime::member_at(self, index)
    }

    fn node_ports(&self) -> Vec<(String, u16)> {
        ClusterRuntime::node_ports(self)
    }

    async fn recover(&mut self, index: usize) -> Result<(), EngineError> {
        ClusterRuntime::recover(self, index).await
    }
}

/// Brings the node at `index` back as a fresh replica of the current primary: the
/// `Recovering cache nodes 0001` event, the engine's recovery, the node's port in the model,
/// then how it ended. Recovery is reported as lasting at least `least` (the `aws` timing
/// profile). True when it recovered.
pub async fn recover_node(
    state: &SharedState,
    runtime: &mut impl NodeRecovery,
    group_id: &str,
    index: usize,
    least: Duration,
) -> bool {
    let member = runtime.member_at(index).to_string();
    let recovering = EventKind::RecoveringCacheNodes {
        cluster_id: member.clone(),
        node_id: NODE_ID.into(),
    };
    state.model().record(recovering, state.now());
    let started = Instant::now();
    let outcome = runtime.recover(index).await.map_err(|e| e.to_string());
    state
        .model()
        .set_node_ports(group_id, &runtime.node_ports());
    pause(least.saturating_sub(started.elapsed())).await;
    record_recovery(state, &member, outcome)
}

/// Sleeps, unless there is nothing to wait for (the `fast` profile).
pub async fn pause(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

/// Records how a node's recovery ended: `Finished recovery for cache nodes 0001`, or
/// `Failed to recover cache nodes 0001: <reason>`. True when it recovered.
pub fn record_recovery(state: &SharedState, member: &str, outcome: Result<(), String>) -> bool {
    let (cluster_id, node_id) = (member.to_string(), NODE_ID.to_string());
    let recovered = outcome.is_ok();
    let kind = match outcome {
        Ok(()) => EventKind::FinishedRecovery {
            cluster_id,
            node_id,
        },
        Err(reason) => EventKind::RecoveryFailed {
            cluster_id,
            node_id,
            reason,
        },
    };
    state.model().record(kind, state.now());
    recovered
}
