//! The failover workflow after an accepted TestFailover: the primary really fails, the best
//! replica takes over, the old node comes back empty as a replica. Each step writes its event.

use crate::model::FailoverTicket;
use crate::model::events::EventKind;
use crate::state::SharedState;
use crate::workflows::pause;

pub async fn run(state: SharedState, ticket: FailoverTicket) {
    if let Err(reason) = drive(&state, &ticket).await {
        tracing::error!(group = %ticket.group_id, %reason, "failover failed");
        let group_id = ticket.group_id.clone();
        state
            .model()
            .record(EventKind::FailoverFailed { group_id, reason }, state.now());
    }
    state.model().end_failover(&ticket);
}

async fn drive(state: &SharedState, ticket: &FailoverTicket) -> Result<(), String> {
    if state.engine.cluster(&ticket.group_id).is_ok() {
        return super::cluster::test_failover(state, ticket).await;
    }
    let timing = state.settings.failover_timing;
    let handle = state
        .engine
        .group(&ticket.group_id)
        .map_err(|e| e.to_string())?;
    let mut runtime = handle.lock().await;
    pause(timing.before_kill).await;
    let old_index = runtime.kill_primary();
    tracing::info!(group = %ticket.group_id, member = %ticket.old_primary, "primary killed");
    pause(timing.before_promotion).await;
    match runtime.promote_best_replica().await {
        Ok(new_primary) => state
            .model()
            .complete_promotion(ticket, &new_primary, state.now()),
        Err(error) => {
            // No replica could take over: bring the old node back as the primary, so the group
            // is never left without one.
            let restarted = runtime.restart_as_primary(old_index).await;
            let ports = runtime.node_ports();
            state.model().set_node_ports(&ticket.group_id, &ports);
            return Err(match restarted {
                Ok(()) => format!("{error}; the failed primary was restarted empty"),
                Err(restart) => {
                    format!("{error}; restarting the failed primary also failed: {restart}")
                }
            });
        }
    }
    pause(timing.before_recovery).await;
    super::recover_node(
        state,
        &mut *runtime,
        &ticket.group_id,
        old_index,
        timing.recovery_duration,
    )
    .await;
    tracing::info!(group = %ticket.group_id, "failover finished");
    Ok(())
}
