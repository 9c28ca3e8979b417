//! Long-running workflows: background tasks that drive the engine and report each step to the
//! model (events, roles, status). They never hold the model lock across an `.await`.

use crate::model::events::EventKind;
use crate::state::SharedState;

pub mod failover;
pub mod health;
pub mod modify;
pub mod replicas;

/// The cache node id of every member (one node each).
pub const NODE_ID: &str = "0001";

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
