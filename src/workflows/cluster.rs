//! Workflows on a cluster-mode-enabled group: TestFailover on one shard, and the health
//! monitor's repair of a failed node. The steps and events are those of cluster mode disabled;
//! the engine does the promotion with `CLUSTER FAILOVER TAKEOVER` and the recovery from the
//! node's own `nodes.conf`.

use std::time::Duration;

use crate::engine::ClusterRuntime;
use crate::engine::client::NodeClient;
use crate::model::FailoverTicket;
use crate::model::events::EventKind;
use crate::state::SharedState;
use crate::workflows::health::Monitored;
use crate::workflows::{NODE_ID, pause, recover_node};

/// TestFailover on the ticket's node group: its primary is killed, its best replica takes
/// over, every node agrees, and the old node comes back as a replica.
pub async fn test_failover(state: &SharedState, ticket: &FailoverTicket) -> Result<(), String> {
    let timing = state.settings.failover_timing;
    let handle = state
        .engine
        .cluster(&ticket.group_id)
        .map_err(|e| e.to_string())?;
    let mut runtime = handle.lock().await;
    let shard = runtime
        .shard_of(&ticket.node_group_id)
        .ok_or_else(|| format!("node group {} has no running shard", ticket.node_group_id))?;
    pause(timing.before_kill).await;
    let old_index = runtime.kill_shard_primary(shard);
    tracing::info!(group = %ticket.group_id, member = %ticket.old_primary, "shard primary killed");
    pause(timing.before_promotion).await;
    match runtime.take_over(shard).await {
        Ok(new_primary) => state
            .model()
            .complete_promotion(ticket, &new_primary, state.now()),
        Err(error) => {
            // No replica took over: the old node comes back from its nodes.conf as the shard's
            // primary (empty), so its slots are served again.
            let restarted = runtime.recover(old_index).await;
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
    recover_node(
        state,
        &mut *runtime,
        &ticket.group_id,
        old_index,
        timing.recovery_duration,
    )
    .await;
    tracing::info!(group = %ticket.group_id, node_group = %ticket.node_group_id, "failover finished");
    Ok(())
}

impl Monitored for ClusterRuntime {
    fn is_stopped(&self) -> bool {
        ClusterRuntime::is_stopped(self)
    }

    fn health_probes(&mut self) -> Vec<(String, Option<NodeClient>)> {
        ClusterRuntime::health_probes(self)
    }

    async fn still_failing(&mut self, member: &str) -> Option<usize> {
        ClusterRuntime::still_failing(self, member).await
    }

    fn is_primary(&self, member: &str) -> bool {
        self.index_of(member)
            .is_some_and(|index| ClusterRuntime::is_primary(self, index))
    }

    fn member_at(&self, index: usize) -> &str {
        ClusterRuntime::member_at(self, index)
    }

    fn node_ports(&self) -> Vec<(String, u16)> {
        ClusterRuntime::node_ports(self)
    }

    /// A failed shard primary is replaced by its best replica (automatic failover is always on
    /// in cluster mode), then the node comes back as a replica; a failed replica just comes back.
    async fn repair(&mut self, state: &SharedState, ticket: &FailoverTicket, index: usize) -> bool {
        let member = self.member_at(index).to_string();
        let was_primary = ClusterRuntime::is_primary(self, index);
        tracing::warn!(group = %ticket.group_id, %member, was_primary, "cluster node failed");
        let record = |kind: EventKind| state.model().record(kind, state.now());
        record(EventKind::NodeFailed {
            cluster_id: member.clone(),
            node_id: NODE_ID.into(),
            reason: if was_primary {
                "the shard primary stopped answering".into()
            } else {
                "the replica stopped answering".into()
            },
        });
        // SIGKILL also ends a frozen (SIGSTOP) node: it must never come back on its own.
        self.kill_node(index);
        if was_primary {
            let shard = self.shard_at(index);
            match self.take_over(shard).await {
                Ok(new_primary) => {
                    state
                        .model()
                        .complete_promotion(ticket, &new_primary, state.now())
                }
                Err(error) => record(EventKind::FailoverFailed {
                    group_id: ticket.group_id.clone(),
                    reason: format!("{error}; the node is restarted in place, empty"),
                }),
            }
        }
        recover_node(state, self, &ticket.group_id, index, Duration::ZERO).await
    }
}
