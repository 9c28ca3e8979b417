//! Faults that take nodes down and keep them down for a while: `kill`, `restart`, an
//! Availability Zone power interruption and an entire-cluster failure. AWS's rules, from the
//! Multi-AZ guide: the least-lagged *available* replica is promoted; a failed node's
//! replacement is created in its own AZ, and for a failed AZ only once the AZ is back; when
//! every node failed, every node is recreated empty with its old endpoint.

use std::time::{Duration, Instant};

use super::{Fault, FaultError, FaultKind, Injected};
use crate::engine::{Runtime, RuntimeHandle};
use crate::model::FailoverTicket;
use crate::model::events::EventKind;
use crate::model::group::{Member, ReplicationGroup, Role};
use crate::state::SharedState;
use crate::workflows::guard::FailoverGuard;
use crate::workflows::{Comeback, NODE_ID, bring_back, record_recovery, since};

/// How often a comeback waiting for a busy group (a TestFailover in flight) looks again.
const BUSY_POLL: Duration = Duration::from_millis(50);

/// Takes the fault's nodes down now and leaves the failover and the comeback to a task.
pub async fn begin(
    state: &SharedState,
    handle: RuntimeHandle,
    fault: Fault,
) -> Result<Injected, FaultError> {
    let members = members_hit(state, &fault)?;
    let ticket = state
        .model()
        .begin_automatic_recovery(&fault.group_id, &members[0])
        .ok_or_else(|| {
            FaultError::Busy(format!(
                "replication group {} is not available (a failover, modification or reboot is in progress)",
                fault.group_id
            ))
        })?;
    let guard = FailoverGuard::new(state.clone(), ticket);
    let graceful = matches!(fault.kind, FaultKind::Restart { .. });
    // The hosts are gone, not only the processes: connects to them time out.
    let host_gone = matches!(
        fault.kind,
        FaultKind::AzPowerInterruption { .. } | FaultKind::ClusterFailure
    );
    let mut runtime = handle.clone().lock_owned().await;
    let mut down = Vec::new();
    for member in &members {
        let index = runtime.index_of_member(member)?;
        runtime.hold_down(index, graceful, host_gone).await;
        down.push(index);
    }
    let (state, handle) = (state.clone(), handle.clone());
    tokio::spawn(async move {
        let started = Instant::now();
        let outcome = fail_over(&state, &mut runtime, guard.ticket(), &down, &fault).await;
        let addresses = runtime.node_addresses();
        drop(runtime);
        state
            .model()
            .set_node_addresses(&fault.group_id, &addresses);
        guard.finish(outcome);
        if let Some(duration) = fault.duration {
            tracing::info!(group = %fault.group_id, fault = fault.kind.name(), elapsed = %since(started), ?duration, "fault: nodes held down until the fault ends");
            tokio::time::sleep(duration.saturating_sub(started.elapsed())).await;
        }
        come_back(&state, &handle, &fault, &down, graceful).await;
        tracing::info!(group = %fault.group_id, fault = fault.kind.name(), elapsed = %since(started), "fault over: every node it took down runs again");
    });
    Ok(Injected {
        members,
        relays: vec![],
    })
}

/// The members the fault takes down, primary first.
fn members_hit(state: &SharedState, fault: &Fault) -> Result<Vec<String>, FaultError> {
    let model = state.model();
    let group = model
        .group(&fault.group_id)
        .map_err(|e| FaultError::NotFound(e.message().to_string()))?;
    let mut members: Vec<&Member> = match &fault.kind {
        FaultKind::Kill { member } | FaultKind::Restart { member } => {
            let found = group.member(member).ok_or_else(|| {
                FaultError::NotFound(format!(
                    "{member} is not a member of replication group {}",
                    fault.group_id
                ))
            })?;
            vec![found]
        }
        FaultKind::AzPowerInterruption { zone } => {
            let in_zone: Vec<_> = group
                .members
                .iter()
                .filter(|m| m.availability_zone == *zone)
                .collect();
            if in_zone.is_empty() {
                return Err(FaultError::Invalid(format!(
                    "no node of replication group {} is in availability zone {zone}",
                    fault.group_id
                )));
            }
            in_zone
        }
        FaultKind::ClusterFailure => group.members.iter().collect(),
        FaultKind::Freeze { .. } | FaultKind::ReplicationLag { .. } => unreachable!(),
    };
    members.sort_by_key(|m| m.role != Role::Primary);
    if let Some(chosen) = &fault.promote {
        check_chosen(group, &members, chosen)?;
    }
    Ok(members.into_iter().map(|m| m.cluster_id.clone()).collect())
}

/// The replica chosen for promotion must be a running replica of a node group whose primary
/// the fault takes down (in cluster mode, of that shard).
fn check_chosen(
    group: &ReplicationGroup,
    down: &[&Member],
    chosen: &str,
) -> Result<(), FaultError> {
    let refuse = |why: String| {
        Err(FaultError::Invalid(format!(
            "{chosen}, the replica chosen for promotion, {why}"
        )))
    };
    let Some(replica) = group.member(chosen) else {
        return refuse(format!("is not a member of replication group {}", group.id));
    };
    if replica.role == Role::Primary {
        return refuse(format!(
            "is the primary of node group {}",
            replica.node_group
        ));
    }
    if down.iter().any(|m| m.cluster_id == chosen) {
        return refuse("is taken down by this fault".to_string());
    }
    let shard_primary_down = down
        .iter()
        .any(|m| m.role == Role::Primary && m.node_group == replica.node_group);
    if !shard_primary_down {
        return refuse(format!(
            "is a replica of node group {}, whose primary this fault does not take down",
            replica.node_group
        ));
    }
    Ok(())
}

/// The events of the nodes a fault took down: a restart's shutdown, else the node's failure and
/// why.
fn record_nodes_down(state: &SharedState, runtime: &Runtime, down: &[usize], fault: &Fault) {
    let record = |kind: EventKind| state.model().record(kind, state.now());
    let reason = match &fault.kind {
        FaultKind::AzPowerInterruption { zone } => format!("power interrupted in {zone}"),
        FaultKind::ClusterFailure => "every node of the cluster failed".into(),
        _ => "the node stopped answering".into(),
    };
    for index in down {
        let (cluster_id, node_id) = (runtime.member_at(*index).to_string(), NODE_ID.to_string());
        record(match fault.kind {
            FaultKind::Restart { .. } => EventKind::CacheNodeShutdown {
                cluster_id,
                node_id,
            },
            _ => EventKind::NodeFailed {
                cluster_id,
                node_id,
                reason: reason.clone(),
            },
        });
    }
}

/// The events of the failure, and the promotion when the primary is down, automatic failover
/// is on and a replica still runs.
async fn fail_over(
    state: &SharedState,
    runtime: &mut Runtime,
    ticket: &FailoverTicket,
    down: &[usize],
    fault: &Fault,
) -> Result<(), String> {
    record_nodes_down(state, runtime, down, fault);
    // One primary in cluster mode disabled; in cluster mode, each shard's whose primary is down
    // and that has a node left. A shard wholly down (every node in the failed AZ) has no
    // replica to promote: it is unavailable until its nodes come back, as on AWS, while the
    // other shards fail over and serve.
    let (primaries, stranded): (Vec<usize>, Vec<usize>) = down
        .iter()
        .copied()
        .filter(|i| runtime.is_primary(*i))
        .partition(|i| runtime.shard_survives(*i, down));
    if !stranded.is_empty() {
        let stranded: Vec<&str> = stranded.iter().map(|i| runtime.member_at(*i)).collect();
        tracing::info!(group = %ticket.group_id, ?stranded, "no node of their shard is left: unavailable until the fault ends, with no failover");
    }
    let automatic = runtime.is_cluster()
        || state
            .model()
            .group(&ticket.group_id)
            .is_ok_and(|g| g.settings.automatic_failover);
    if primaries.is_empty() || !automatic {
        return Ok(()); // no failover: the primary comes back in place when the fault ends
    }
    let started = Instant::now();
    let old_primaries: Vec<String> = primaries
        .iter()
        .map(|i| runtime.member_at(*i).to_string())
        .collect();
    tracing::info!(group = %ticket.group_id, ?old_primaries, "primary down: promoting a replica");
    let promoted = runtime
        .promote_replacements(&primaries, fault.promote.as_deref())
        .await;
    match promoted {
        Ok(new_primaries) => {
            tracing::info!(group = %ticket.group_id, ?new_primaries, elapsed = %since(started), "fault: replica promoted; the endpoints now forward to it");
            for (old_primary, new_primary) in old_primaries.into_iter().zip(new_primaries) {
                let shard_ticket = FailoverTicket {
                    old_primary,
                    ..ticket.clone()
                };
                state
                    .model()
                    .complete_promotion(&shard_ticket, &new_primary, state.now());
            }
            Ok(())
        }
        Err(error) => Err(format!(
            "{error}; the primary comes back empty, in place, when the fault ends"
        )),
    }
}

/// Releases the nodes and brings each back empty: a primary no replica replaced as the
/// primary (first, so the others resync from it), every other as a replica.
async fn come_back(
    state: &SharedState,
    handle: &RuntimeHandle,
    fault: &Fault,
    down: &[usize],
    graceful: bool,
) {
    let first = member_name(handle, down[0]).await;
    let ticket = loop {
        let admitted = state
            .model()
            .begin_automatic_recovery(&fault.group_id, &first);
        if let Some(ticket) = admitted {
            break ticket;
        }
        if state.model().group(&fault.group_id).is_err() {
            return; // deleted meanwhile
        }
        tokio::time::sleep(BUSY_POLL).await;
    };
    let guard = FailoverGuard::new(state.clone(), ticket);
    let mut runtime = handle.lock().await;
    if runtime.is_stopped() {
        return;
    }
    let mut order = down.to_vec();
    order.sort_by_key(|i| !runtime.is_primary(*i));
    if runtime.is_cluster() && order.len() > 1 {
        come_back_together(state, &mut runtime, fault, &order, graceful).await;
        drop(runtime);
        guard.finish(Ok(()));
        return;
    }
    for index in order {
        runtime.release(index);
        let how = if runtime.is_primary(index) {
            Comeback::AsPrimary
        } else {
            Comeback::AsReplica
        };
        let started = Instant::now();
        let member = runtime.member_at(index).to_string();
        let recovered = bring_back(
            state,
            &mut runtime,
            &fault.group_id,
            index,
            Duration::ZERO,
            how,
        )
        .await;
        tracing::info!(group = %fault.group_id, %member, comeback = ?how, recovered, elapsed = %since(started), "fault: node back");
        if graceful && recovered {
            let kind = EventKind::CacheNodeRestarted {
                cluster_id: member,
                node_id: NODE_ID.into(),
            };
            state.model().record(kind, state.now());
        }
    }
    drop(runtime);
    guard.finish(Ok(()));
}

/// A cluster's nodes come back together: a shard whose nodes were all down serves again only
/// once its primary runs, and the cluster converges only once every shard serves.
async fn come_back_together(
    state: &SharedState,
    runtime: &mut Runtime,
    fault: &Fault,
    order: &[usize],
    graceful: bool,
) {
    let started = Instant::now();
    let members: Vec<String> = order
        .iter()
        .map(|i| runtime.member_at(*i).to_string())
        .collect();
    for (index, member) in order.iter().zip(&members) {
        runtime.release(*index);
        let recovering = EventKind::RecoveringCacheNodes {
            cluster_id: member.clone(),
            node_id: NODE_ID.into(),
        };
        state.model().record(recovering, state.now());
    }
    let outcome = runtime.recover_cluster_nodes(order).await;
    let addresses = runtime.node_addresses();
    state
        .model()
        .set_node_addresses(&fault.group_id, &addresses);
    let outcome = outcome.map_err(|e| e.to_string());
    tracing::info!(group = %fault.group_id, ?members, ok = outcome.is_ok(), elapsed = %since(started), "fault: nodes back");
    for member in members {
        let recovered = record_recovery(state, &member, outcome.clone());
        if graceful && recovered {
            let kind = EventKind::CacheNodeRestarted {
                cluster_id: member,
                node_id: NODE_ID.into(),
            };
            state.model().record(kind, state.now());
        }
    }
}

async fn member_name(handle: &RuntimeHandle, index: usize) -> String {
    handle.lock().await.member_at(index).to_string()
}
