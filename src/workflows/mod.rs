//! Long-running workflows: background tasks that drive the engine and report each step to the
//! model (events, roles, status). They never hold the model lock across an `.await`.

use std::time::{Duration, Instant};

use crate::engine::GroupRuntime;
use crate::model::events::EventKind;
use crate::state::SharedState;

pub mod failover;
pub mod health;
pub mod modify;
pub mod replicas;

/// The cache node id of every member (one node each).
pub const NODE_ID: &str = "0001";

/// Brings the node at `index` back as a fresh replica of the current primary: the
/// `Recovering cache nodes 0001` event, the engine's recovery, the node's port in the model,
/// then how it ended. Recovery is reported as lasting at least `least` (the `aws` timing
/// profile). True when it recovered.
pub async fn recover_node(
    state: &SharedState,
    runtime: &mut GroupRuntime,
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
    let outcome = runtime
        .recover_as_replica(index)
        .await
        .map_err(|e| e.to_string());
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
