//! The health monitor behind automatic failover: one task per group checks every node each
//! interval (process exited, or no PING answer within 500 ms twice in a row: kill -9, SIGSTOP,
//! DEBUG SLEEP) and repairs the first failed node it finds. A failed primary with automatic
//! failover on is replaced by its best replica, like TestFailover; with it off, it is restarted
//! in place (its data is lost, as AWS warns) and the replicas resync from it. A failed replica
//! is replaced. A node that keeps failing is retried with exponential backoff, never in a hot
//! loop. The loop is shared by both modes through [`Monitored`]; the cluster-mode repair lives
//! in `workflows::cluster`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::GroupRuntime;
use crate::engine::changes::{NodeHealth, probe};
use crate::engine::client::NodeClient;
use crate::model::FailoverTicket;
use crate::model::events::EventKind;
use crate::state::SharedState;
use crate::workflows::{NODE_ID, record_recovery, recover_node};

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Starts the monitor of a group (either mode); it ends when the group is stopped.
pub fn spawn(state: SharedState, group_id: String) {
    if let Ok(handle) = state.engine.cluster(&group_id) {
        tokio::spawn(monitor(state, group_id, handle));
    } else if let Ok(handle) = state.engine.group(&group_id) {
        tokio::spawn(monitor(state, group_id, handle));
    }
}

/// What the monitor needs of a group's runtime, in either mode.
pub trait Monitored: Send + 'static {
    fn is_stopped(&self) -> bool;
    /// Each member with a client to ping, or `None` when its process has exited.
    fn health_probes(&mut self) -> Vec<(String, Option<NodeClient>)>;
    /// Re-checks one member under the lock, just before acting on it.
    fn still_failing(&mut self, member: &str) -> impl Future<Output = Option<usize>> + Send;
    fn is_primary(&self, member: &str) -> bool;
    fn member_at(&self, index: usize) -> &str;
    fn node_ports(&self) -> Vec<(String, u16)>;
    /// Repairs the node at `index`, writing events; true when it runs and is synced again.
    fn repair(
        &mut self,
        state: &SharedState,
        ticket: &FailoverTicket,
        index: usize,
    ) -> impl Future<Output = bool> + Send;
}

struct Backoff {
    failures: u32,
    next_try: Instant,
}

/// An unresponsive node must miss this many checks in a row before it is replaced, so a
/// healthy node slowed by a loaded machine is not mistaken for a dead one. An exited process
/// is certain at once.
const STRIKES: u32 = 2;

/// Which nodes have failed how often, and when each may next be repaired: the bookkeeping
/// both monitors (cluster mode disabled and enabled) share.
#[derive(Default)]
pub struct FailureTracker {
    strikes: HashMap<String, u32>,
    backoff: HashMap<String, Backoff>,
}

impl FailureTracker {
    /// Counts this round's failing members and returns those to repair now: exited, or
    /// unresponsive for `STRIKES` rounds, and not waiting out a backoff.
    pub fn observe(&mut self, group_id: &str, failing: Vec<(String, NodeHealth)>) -> Vec<String> {
        let mut unhealthy = Vec::new();
        let mut still_failing = HashMap::new();
        for (member, health) in failing {
            let count = self.strikes.get(&member).copied().unwrap_or(0) + 1;
            let due = self
                .backoff
                .get(&member)
                .is_none_or(|b| Instant::now() >= b.next_try);
            if (health == NodeHealth::Exited || count >= STRIKES) && due {
                unhealthy.push(member.clone());
            } else if health == NodeHealth::Unresponsive {
                tracing::warn!(group = %group_id, %member, "node did not answer a health check");
            }
            still_failing.insert(member, count);
        }
        self.strikes = still_failing;
        unhealthy
    }

    /// Members whose last repair failed, now forgotten: called when every node of the group
    /// answers, so each of them runs again (its failed repair was undone by a later one, e.g.
    /// a replica that could not sync from a primary that was dead too).
    pub fn take_failed_repairs(&mut self) -> Vec<String> {
        let mut members: Vec<String> = self.backoff.drain().map(|(member, _)| member).collect();
        members.sort();
        members
    }

    /// A repair of `member` ended: forget it, or retry later with exponential backoff.
    pub fn repaired(&mut self, member: String, recovered: bool) {
        self.strikes.remove(&member);
        if recovered {
            self.backoff.remove(&member);
            return;
        }
        let entry = self.backoff.entry(member).or_insert(Backoff {
            failures: 0,
            next_try: Instant::now(),
        });
        entry.failures += 1;
        let delay = Duration::from_secs(1 << entry.failures.min(5)).min(MAX_BACKOFF);
        entry.next_try = Instant::now() + delay;
    }
}

async fn monitor<R: Monitored>(
    state: SharedState,
    group_id: String,
    handle: Arc<tokio::sync::Mutex<R>>,
) {
    let interval = state.settings.health_check_interval;
    let mut tracker = FailureTracker::default();
    loop {
        tokio::time::sleep(interval).await;
        // Probe without holding the group's lock, so a TestFailover never waits on pings.
        let probes = {
            let mut runtime = handle.lock().await;
            if runtime.is_stopped() {
                return; // deleted or shut down
            }
            runtime.health_probes()
        };
        let failing = probe(probes).await;
        if failing.is_empty() {
            // Its last event says its recovery failed, but it runs: say it recovered.
            for member in tracker.take_failed_repairs() {
                tracing::info!(group = %group_id, %member, "a node whose recovery had failed runs again");
                record_recovery(&state, &member, Ok(()));
            }
        }
        let mut unhealthy = tracker.observe(&group_id, failing);
        if unhealthy.is_empty() {
            continue;
        }
        let mut runtime = handle.lock().await;
        if runtime.is_stopped() {
            return;
        }
        // Primaries first: they are the ones clients are waiting for.
        unhealthy.sort_by_key(|m| !runtime.is_primary(m));
        let Some(index) = runtime.still_failing(&unhealthy[0]).await else {
            continue;
        };
        let member = runtime.member_at(index).to_string();
        let Some(ticket) = state.model().begin_automatic_recovery(&group_id, &member) else {
            continue; // a TestFailover or a modification is in progress: it owns the group
        };
        let recovered = runtime.repair(&state, &ticket, index).await;
        let ports = runtime.node_ports();
        drop(runtime);
        state.model().set_node_ports(&group_id, &ports);
        state.model().end_failover(&ticket);
        tracker.repaired(member, recovered);
    }
}

impl Monitored for GroupRuntime {
    fn is_stopped(&self) -> bool {
        GroupRuntime::is_stopped(self)
    }

    fn health_probes(&mut self) -> Vec<(String, Option<NodeClient>)> {
        GroupRuntime::health_probes(self)
    }

    async fn still_failing(&mut self, member: &str) -> Option<usize> {
        GroupRuntime::still_failing(self, member).await
    }

    fn is_primary(&self, member: &str) -> bool {
        self.primary_member() == member
    }

    fn member_at(&self, index: usize) -> &str {
        GroupRuntime::member_at(self, index)
    }

    fn node_ports(&self) -> Vec<(String, u16)> {
        GroupRuntime::node_ports(self)
    }

    async fn repair(&mut self, state: &SharedState, ticket: &FailoverTicket, index: usize) -> bool {
        repair(state, self, ticket, index).await
    }
}

/// Repairs the node at `index`; true when it is running and synced again.
async fn repair(
    state: &SharedState,
    runtime: &mut GroupRuntime,
    ticket: &FailoverTicket,
    index: usize,
) -> bool {
    let member = runtime.member_at(index).to_string();
    let was_primary = index == runtime.primary_index();
    let automatic_failover = state
        .model()
        .group(&ticket.group_id)
        .is_ok_and(|g| g.settings.automatic_failover);
    tracing::warn!(group = %ticket.group_id, %member, was_primary, "node failed");
    let record = |kind: EventKind| state.model().record(kind, state.now());
    let failure = if was_primary {
        "the primary stopped answering"
    } else {
        "the replica stopped answering"
    };
    record(EventKind::NodeFailed {
        cluster_id: member.clone(),
        node_id: NODE_ID.into(),
        reason: failure.into(),
    });
    // SIGKILL also ends a frozen (SIGSTOP) node: it must never come back on its own.
    runtime.kill_node(index);
    if was_primary && automatic_failover {
        match runtime.promote_best_replica().await {
            Ok(new_primary) => state
                .model()
                .complete_promotion(ticket, &new_primary, state.now()),
            Err(error) => {
                let reason = error.to_string();
                record(EventKind::FailoverFailed {
                    group_id: ticket.group_id.clone(),
                    reason,
                });
                return restart_in_place(state, runtime, index, &member).await;
            }
        }
    } else if was_primary {
        return restart_in_place(state, runtime, index, &member).await;
    }
    recover_node(state, runtime, &ticket.group_id, index, Duration::ZERO).await
}

/// A failed primary without a replica to take over: a fresh, empty node on its port, and the
/// replicas resync from it.
async fn restart_in_place(
    state: &SharedState,
    runtime: &mut GroupRuntime,
    index: usize,
    member: &str,
) -> bool {
    state.model().record(
        EventKind::RecoveringCacheNodes {
            cluster_id: member.into(),
            node_id: NODE_ID.into(),
        },
        state.now(),
    );
    let outcome = runtime
        .restart_as_primary(index)
        .await
        .map_err(|e| e.to_string());
    if outcome.is_ok() {
        // A replica that cannot resync (dead too, when every node was killed) is its own
        // failure, which the monitor repairs next: it says nothing about this node, which runs.
        for replica in (0..runtime.node_ports().len()).filter(|r| *r != index) {
            if let Err(error) = runtime.wait_synced(replica).await {
                let replica = runtime.member_at(replica).to_string();
                tracing::warn!(%member, %replica, %error, "a replica did not resync from the restarted primary");
            }
        }
    }
    record_recovery(state, member, outcome)
}
