//! The failover workflow after an accepted TestFailover, the same in both cluster modes: the
//! primary of the ticket's node group really fails, its best replica takes over, and the old
//! node comes back empty as a replica. Each step writes its event. The engine decides how each
//! step is done in the group's mode (`REPLICAOF NO ONE` or `CLUSTER FAILOVER TAKEOVER`).

use std::future::Future;
use std::time::Instant;

use crate::model::FailoverTicket;
use crate::state::SharedState;
use crate::workflows::guard::FailoverGuard;
use crate::workflows::{pause, recover_node, since};

pub async fn run(state: SharedState, ticket: FailoverTicket) {
    let workflow = {
        let (state, ticket) = (state.clone(), ticket.clone());
        async move { drive(&state, &ticket).await }
    };
    supervise(state, ticket, workflow).await;
}

/// Runs `workflow` under a [`FailoverGuard`]: whether it succeeds, fails or panics, the group
/// leaves the in-flight state with an event saying how it ended.
async fn supervise(
    state: SharedState,
    ticket: FailoverTicket,
    workflow: impl Future<Output = Result<(), String>>,
) {
    let guard = FailoverGuard::new(state, ticket);
    let outcome = workflow.await;
    guard.finish(outcome);
}

async fn drive(state: &SharedState, ticket: &FailoverTicket) -> Result<(), String> {
    let timing = state.settings.failover_timing;
    let handle = state
        .engine
        .runtime(&ticket.group_id)
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let (group, old_primary) = (&ticket.group_id, &ticket.old_primary);
    tracing::info!(%group, node_group = %ticket.node_group_id, "failover 1/5: TestFailover accepted; primary {old_primary} will fail");
    let mut runtime = handle.lock().await;
    let old_index = runtime
        .primary_of(&ticket.node_group_id)
        .ok_or_else(|| format!("node group {} has no running shard", ticket.node_group_id))?;
    pause(timing.before_kill).await;
    runtime.kill_node(old_index).await;
    tracing::info!(%group, elapsed = %since(started), "failover 2/5: primary {old_primary} killed; clients on it lose their connections and the primary endpoint has no node");
    pause(timing.before_promotion).await;
    match runtime.promote_replacement(old_index).await {
        Ok(new_primary) => {
            tracing::info!(%group, elapsed = %since(started), "failover 3/5: replica {new_primary} promoted; the primary endpoint now forwards to it and accepts writes");
            state
                .model()
                .complete_promotion(ticket, &new_primary, state.now())
        }
        Err(error) => {
            // No replica could take over: bring the old node back as the primary, so the group
            // (or the shard's slots) is never left without one.
            let restarted = runtime.restart_failed_primary(old_index).await;
            let addresses = runtime.node_addresses();
            state
                .model()
                .set_node_addresses(&ticket.group_id, &addresses);
            return Err(match restarted {
                Ok(()) => format!("{error}; the failed primary was restarted empty"),
                Err(restart) => {
                    format!("{error}; restarting the failed primary also failed: {restart}")
                }
            });
        }
    }
    pause(timing.before_recovery).await;
    tracing::info!(%group, elapsed = %since(started), "failover 4/5: recovering {old_primary} as a new, empty replica");
    let least = timing.recovery_duration;
    let recovered = recover_node(state, &mut runtime, &ticket.group_id, old_index, least).await;
    let outcome = if recovered {
        "recovered and in sync"
    } else {
        "did not recover (see its events)"
    };
    tracing::info!(%group, elapsed = %since(started), "failover 5/5: {old_primary} {outcome}; failover finished");
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;
    use crate::api::test_support::state_with;
    use crate::model::events::EventQuery;
    use crate::model::group::GroupStatus;
    use crate::model::tests::{group, model_with};

    fn accepted_failover(state: &SharedState) -> Result<FailoverTicket, String> {
        state
            .model()
            .begin_test_failover("rg", "0001", "default", Utc::now())
            .map_err(|e| e.to_string())
    }

    /// The group after a workflow ended: its status, whether a failover is still in flight,
    /// and the newest event's message.
    fn aftermath(state: &SharedState) -> (GroupStatus, bool, String) {
        let model = state.model();
        let group = model.group("rg").unwrap();
        let now = Utc::now();
        let newest = model.events.query(&EventQuery {
            source_id: Some("rg".into()),
            source_type: None,
            start: now - Duration::hours(1),
            end: now + Duration::hours(1),
            before_seq: None,
            max_records: 1,
        });
        let message = newest.events.first().map(|e| e.message.clone());
        (
            group.status,
            group.failover_in_flight,
            message.unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn a_panicking_failover_leaves_the_group_available_for_the_next_one() {
        let state = state_with(model_with(vec![group("rg", 2, true)]));
        let ticket = accepted_failover(&state).unwrap();
        let refused = accepted_failover(&state).unwrap_err();
        assert!(refused.contains("already in progress"), "{refused}");
        let workflow = async { panic!("injected failure in the middle of a failover") };
        let joined = tokio::spawn(supervise(state.clone(), ticket, workflow)).await;
        assert!(joined.unwrap_err().is_panic());
        let (status, in_flight, newest) = aftermath(&state);
        assert_eq!(status, GroupStatus::Available);
        assert!(!in_flight, "the guard cleared failover_in_flight");
        assert_eq!(
            newest,
            "Failover failed: the failover workflow panicked; the group is available again"
        );
        accepted_failover(&state).expect("a new TestFailover is accepted");
    }

    #[tokio::test]
    async fn a_failover_whose_engine_step_fails_reports_why_and_frees_the_group() {
        // The model has the group but the engine runs no nodes for it: the very first engine
        // step fails.
        let state = state_with(model_with(vec![group("rg", 2, true)]));
        let ticket = accepted_failover(&state).unwrap();
        run(state.clone(), ticket).await;
        let (status, in_flight, newest) = aftermath(&state);
        assert_eq!(status, GroupStatus::Available);
        assert!(!in_flight);
        assert_eq!(
            newest,
            "Failover failed: replication group rg has no running nodes"
        );
        accepted_failover(&state).expect("a new TestFailover is accepted");
    }
}
