//! Injected faults (the control route `POST /_faults`): what AWS's failures do to a group,
//! on its real processes, with the events AWS writes for them.
//!
//! - `kill` (SIGKILL), `restart` (a shutdown, then the node comes back), an Availability Zone
//!   power interruption (every node in the AZ) and an entire-cluster failure take nodes down
//!   and hold them down for the fault's duration ([`outage`]): a primary among them fails over
//!   at once to the least-lagged replica still running (or the one the fault names), and the
//!   nodes come back, empty, only when the fault ends, in their own AZ and at their own address.
//! - `freeze` SIGSTOPs a node (the `DEBUG SLEEP` scenario) and SIGCONTs it after the duration;
//!   the health monitor, not this module, finds a frozen node and fails it over.
//! - `replication-lag` sends a replica's replication stream through a relay proxy with a
//!   toxic on it (by default a cut), so a failover loses exactly the writes it did not get;
//!   naming the primary degrades every replica's link (the primary cut off from the others).
//!
//! In cluster mode the same faults hit a cluster's nodes: a shard primary taken down fails
//! over to a replica of its shard (several shards at once when an AZ goes; the one the fault
//! names for its own shard), and the nodes come back from their own `nodes.conf`, as replicas
//! of their shard. `replication-lag` degrades a replica's link to its shard primary only (the
//! cluster bus stays direct; see `engine::cluster::lag` for how).

mod outage;

use std::time::Duration;

use crate::engine::toxics::spec::NewToxic;
use crate::engine::{EngineError, Runtime};
use crate::state::SharedState;

/// One fault, validated at the edge.
#[derive(Debug, Clone)]
pub struct Fault {
    pub group_id: String,
    pub kind: FaultKind,
    /// How long the fault lasts; `None`: until the server lifts it on its own (a killed node
    /// comes back at once, a frozen one stays frozen until the health monitor replaces it, a
    /// degraded link stays degraded until a failover re-points the replica).
    pub duration: Option<Duration>,
    /// The replica to promote if the primary goes down (instead of the least-lagged one).
    pub promote: Option<String>,
}

#[derive(Debug, Clone)]
pub enum FaultKind {
    Kill { member: String },
    Restart { member: String },
    Freeze { member: String },
    AzPowerInterruption { zone: String },
    ClusterFailure,
    ReplicationLag { member: String, toxic: NewToxic },
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Kill { .. } => "kill",
            Self::Restart { .. } => "restart",
            Self::Freeze { .. } => "freeze",
            Self::AzPowerInterruption { .. } => "az-power-interruption",
            Self::ClusterFailure => "cluster-failure",
            Self::ReplicationLag { .. } => "replication-lag",
        }
    }
}

/// Why a fault was refused; the edge maps each to its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultError {
    /// 404: no such group or member.
    NotFound(String),
    /// 400: the fault does not apply (cluster mode, a zone without nodes, a primary asked to
    /// lag...).
    Invalid(String),
    /// 409: a failover, modification or reboot owns the group right now.
    Busy(String),
}

impl From<EngineError> for FaultError {
    fn from(error: EngineError) -> Self {
        Self::Invalid(error.to_string())
    }
}

/// What was done: the members the fault hit, for the answer.
#[derive(Debug, Clone)]
pub struct Injected {
    pub members: Vec<String>,
    /// The relay proxies carrying degraded replication streams (`replication-lag`).
    pub relays: Vec<String>,
}

/// Applies `fault` now (the nodes are down, frozen or degraded when this returns) and leaves
/// the rest (failover, the wait, the comeback) to a background task.
pub async fn inject(state: &SharedState, fault: Fault) -> Result<Injected, FaultError> {
    let group = state
        .model()
        .group(&fault.group_id)
        .map(|g| (g.cluster_enabled, g.id.to_string()))
        .map_err(|_| {
            FaultError::NotFound(format!("Replication group {} not found.", fault.group_id))
        });
    let (_, group_id) = group?;
    let fault = Fault { group_id, ..fault };
    let handle = state
        .engine
        .runtime(&fault.group_id)
        .map_err(|e| FaultError::NotFound(e.to_string()))?;
    tracing::info!(group = %fault.group_id, fault = fault.kind.name(), duration = ?fault.duration, "fault injected");
    match &fault.kind {
        FaultKind::Freeze { member } => {
            let member = member.clone();
            let mut runtime = handle.lock().await;
            let index = runtime.index_of_member(&member)?;
            let pid = runtime.freeze(index)?;
            drop(runtime);
            if let Some(duration) = fault.duration {
                tokio::spawn(thaw_after(handle, fault.group_id, index, pid, duration));
            }
            Ok(Injected {
                members: vec![member],
                relays: vec![],
            })
        }
        FaultKind::ReplicationLag { member, toxic } => {
            let mut runtime = handle.lock().await;
            degrade(state, &mut runtime, &fault, member, toxic).await
        }
        _ => outage::begin(state, handle, fault).await,
    }
}

async fn thaw_after(
    handle: crate::engine::RuntimeHandle,
    group_id: String,
    index: usize,
    pid: u32,
    duration: Duration,
) {
    tokio::time::sleep(duration).await;
    let mut runtime = handle.lock().await;
    if runtime.is_stopped() {
        return;
    }
    if runtime.thaw(index, pid) {
        tracing::info!(group = %group_id, member = %runtime.member_at(index), ?duration, "frozen node resumed: the freeze ended before a health check replaced it");
    } else {
        tracing::info!(group = %group_id, ?duration, "freeze ended: the frozen node had been replaced meanwhile");
    }
}

/// Degrades the replication of `member` (a replica), or of every replica when it is the
/// primary (of its shard, in cluster mode), and lifts it after the duration.
async fn degrade(
    state: &SharedState,
    runtime: &mut Runtime,
    fault: &Fault,
    member: &str,
    toxic: &NewToxic,
) -> Result<Injected, FaultError> {
    let index = runtime.index_of_member(member)?;
    let mut injected = Injected {
        members: vec![],
        relays: vec![],
    };
    for target in runtime.lag_targets(index) {
        let relay = runtime.degrade_replication(target, toxic.clone()).await?;
        injected.members.push(runtime.member_at(target).to_string());
        injected.relays.push(relay);
    }
    if let Some(duration) = fault.duration {
        let (state, group_id) = (state.clone(), fault.group_id.clone());
        let members = injected.members.clone();
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            restore(&state, &group_id, &members).await;
        });
    }
    Ok(injected)
}

/// Lifts a `replication-lag` fault: each replica follows the primary directly again.
async fn restore(state: &SharedState, group_id: &str, members: &[String]) {
    let Ok(handle) = state.engine.runtime(group_id) else {
        return;
    };
    let mut runtime = handle.lock().await;
    if runtime.is_stopped() {
        return;
    }
    for member in members {
        let Ok(index) = runtime.index_of_member(member) else {
            continue;
        };
        match runtime.restore_replication(index).await {
            Ok(()) => {
                tracing::info!(group = %group_id, %member, "replication lag lifted: the replica follows the primary directly and caught up")
            }
            Err(error) => {
                tracing::warn!(group = %group_id, %member, %error, "replication lag lifted, but the replica did not catch up")
            }
        }
    }
}
