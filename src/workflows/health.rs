//! The health monitor behind automatic failover: one task per group checks every node each
//! interval (process exited, or no PING answer within 500 ms twice in a row: kill -9, SIGSTOP,
//! DEBUG SLEEP) and repairs the first failed node it finds. A failed primary with automatic
//! failover on is replaced by its best replica, like TestFailover; with it off, it is restarted
//! in place (its data is lost, as AWS warns) and the replicas resync from it. A failed replica
//! is replaced. A node that keeps failing is retried with exponential backoff, never in a hot
//! loop. The loop and the repair (`workflows::repair`) are the same in both modes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::engine::{NodeHealth, RuntimeHandle, probe};
use crate::state::SharedState;
use crate::workflows::guard::FailoverGuard;
use crate::workflows::record_recovery;
use crate::workflows::repair::repair;

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Starts the monitor of a group (either mode); it ends when the group is stopped.
pub fn spawn(state: SharedState, group_id: String) {
    if let Ok(handle) = state.engine.runtime(&group_id) {
        tokio::spawn(monitor(state, group_id, handle));
    }
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

async fn monitor(state: SharedState, group_id: String, handle: RuntimeHandle) {
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
        unhealthy.sort_by_key(|m| !runtime.is_primary_member(m));
        let Some(index) = runtime.still_failing(&unhealthy[0]).await else {
            continue;
        };
        let member = runtime.member_at(index).to_string();
        let Some(ticket) = state.model().begin_automatic_recovery(&group_id, &member) else {
            continue; // a TestFailover or a modification is in progress: it owns the group
        };
        let guard = FailoverGuard::new(state.clone(), ticket);
        let recovered = repair(&state, &mut runtime, guard.ticket(), index).await;
        let addresses = runtime.node_addresses();
        drop(runtime);
        state.model().set_node_addresses(&group_id, &addresses);
        guard.finish(Ok(())); // the repair wrote its own events
        tracker.repaired(member, recovered);
    }
}
