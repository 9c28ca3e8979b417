//! The health monitor's repair of a failed node, the same in both cluster modes. A failed
//! primary with automatic failover on (always, in cluster mode) is replaced by its best
//! replica, like TestFailover, and comes back as a replica; with it off, or when no replica can
//! take over, it is restarted in place (its data is lost, as AWS warns) and the others resync
//! from it. A failed replica just comes back.

use std::time::Duration;

use crate::engine::Runtime;
use crate::model::FailoverTicket;
use crate::model::events::EventKind;
use crate::state::SharedState;
use crate::workflows::{Comeback, NODE_ID, bring_back, since};

/// Repairs the node at `index`, writing events; true when it runs and is synced again.
pub async fn repair(
    state: &SharedState,
    runtime: &mut Runtime,
    ticket: &FailoverTicket,
    index: usize,
) -> bool {
    let member = runtime.member_at(index).to_string();
    let was_primary = runtime.is_primary(index);
    let automatic_failover = runtime.is_cluster()
        || state
            .model()
            .group(&ticket.group_id)
            .is_ok_and(|g| g.settings.automatic_failover);
    let started = std::time::Instant::now();
    let group = &ticket.group_id;
    let role = if was_primary { "primary" } else { "replica" };
    tracing::warn!(%group, "automatic failover 1/3: {role} {member} failed its health checks; it is killed");
    let record = |kind: EventKind| state.model().record(kind, state.now());
    let failed = match (was_primary, runtime.is_cluster()) {
        (true, true) => "the shard primary",
        (true, false) => "the primary",
        (false, _) => "the replica",
    };
    record(EventKind::NodeFailed {
        cluster_id: member.clone(),
        node_id: NODE_ID.into(),
        reason: format!("{failed} stopped answering"),
    });
    // SIGKILL also ends a frozen (SIGSTOP) node: it must never come back on its own.
    runtime.kill_node(index).await;
    let mut comeback = Comeback::AsReplica;
    if was_primary && automatic_failover {
        match runtime.promote_replacement(index).await {
            Ok(new_primary) => {
                tracing::info!(%group, elapsed = %since(started), "automatic failover 2/3: replica {new_primary} promoted; the primary endpoint now forwards to it");
                state
                    .model()
                    .complete_promotion(ticket, &new_primary, state.now())
            }
            Err(error) => {
                record(EventKind::FailoverFailed {
                    group_id: ticket.group_id.clone(),
                    reason: format!("{error}; the node is restarted in place, empty"),
                });
                comeback = Comeback::AsPrimary;
            }
        }
    } else if was_primary {
        comeback = Comeback::AsPrimary;
    }
    let recovered = bring_back(
        state,
        runtime,
        &ticket.group_id,
        index,
        Duration::ZERO,
        comeback,
    )
    .await;
    let how = match (recovered, comeback) {
        (false, _) => "did not recover (retried with backoff)",
        (true, Comeback::AsReplica) => "is back as an empty replica, in sync",
        (true, Comeback::AsPrimary) => "is back as the primary, empty",
    };
    tracing::info!(%group, elapsed = %since(started), "automatic failover 3/3: {member} {how}");
    recovered
}
