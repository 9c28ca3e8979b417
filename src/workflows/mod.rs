//! Long-running workflows: background tasks that drive the engine and report each step to the
//! model (events, roles, status). They never hold the model lock across an `.await`.

use std::time::{Duration, Instant};

use crate::engine::Runtime;
use crate::model::events::EventKind;
use crate::state::SharedState;

pub mod automatic_snapshots;
pub mod cache_cluster;
pub mod cluster_maintenance;
pub mod failover;
pub mod faults;
mod guard;
pub mod health;
pub mod maintenance;
pub mod modify;
pub mod node_memory;
mod repair;
pub mod replicas;
pub mod resharding;
pub mod restore_on_start;
pub mod restore_scopes;
pub mod save_model;
pub mod snapshot;

/// The cache node id of every member (one node each).
pub const NODE_ID: &str = "0001";

/// Brings the node at `index` back as a fresh replica of the current primary. See
/// [`bring_back`].
pub async fn recover_node(
    state: &SharedState,
    runtime: &mut Runtime,
    group_id: &str,
    index: usize,
    least: Duration,
) -> bool {
    bring_back(state, runtime, group_id, index, least, Comeback::AsReplica).await
}

/// How a failed node comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comeback {
    /// A fresh replica of the current primary.
    AsReplica,
    /// The primary again, empty (no replica took over); the others resync from it.
    AsPrimary,
}

/// Brings the node at `index` back: the `Recovering cache nodes 0001` event, the engine's
/// recovery, the node's address in the model, then how it ended. Recovery is reported as lasting
/// at least `least` (the `aws` timing profile). True when it recovered.
pub async fn bring_back(
    state: &SharedState,
    runtime: &mut Runtime,
    group_id: &str,
    index: usize,
    least: Duration,
    how: Comeback,
) -> bool {
    let member = runtime.member_at(index).to_string();
    let recovering = EventKind::RecoveringCacheNodes {
        cluster_id: member.clone(),
        node_id: NODE_ID.into(),
    };
    state.model().record(recovering, state.now());
    let started = Instant::now();
    let outcome = match how {
        Comeback::AsReplica => runtime.recover(index).await,
        Comeback::AsPrimary => match runtime.restart_failed_primary(index).await {
            Ok(()) => {
                runtime.wait_resynced_from(index).await;
                Ok(())
            }
            Err(error) => Err(error),
        },
    };
    let outcome = outcome.map_err(|e| e.to_string());
    state
        .model()
        .set_node_addresses(group_id, &runtime.node_addresses());
    pause(least.saturating_sub(started.elapsed())).await;
    record_recovery(state, &member, outcome)
}

/// The time since `started`, for the failover narration: `1.234s`.
pub fn since(started: Instant) -> String {
    format!("{:.3}s", started.elapsed().as_secs_f64())
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
