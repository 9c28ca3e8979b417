//! The engine half of ModifyReplicationGroupShardConfiguration: new shards' nodes start and
//! join, slots move with their keys (progress reported to the model as it goes), removed
//! shards leave. The group's runtime lock is held throughout, so no failover or health repair
//! interleaves with the migration; the model lock is taken only for short updates.

use crate::engine::{EngineError, RuntimeHandle, ShardSpec};
use crate::model::resharding::ReshardPlan;
use crate::state::SharedState;

pub async fn run(state: SharedState, plan: ReshardPlan) {
    let group_id = plan.group_id.clone();
    let (outcome, layout, addresses) = match state.engine.runtime(&group_id) {
        Ok(handle) => reshard(&state, &handle, &plan).await,
        Err(error) => (Err(error), Vec::new(), Vec::new()),
    };
    let failure = outcome.err().map(|error| error.to_string());
    match &failure {
        Some(reason) => tracing::error!(group = %group_id, %reason, "resharding failed"),
        None => tracing::info!(group = %group_id, shards = layout.len(), "resharding done"),
    }
    state
        .model()
        .finish_resharding(&plan, &layout, &addresses, failure, state.now());
}

type Layout = Vec<(String, Vec<u32>)>;
type Addresses = Vec<(String, std::net::SocketAddrV4)>;

/// Runs every step; whatever happened, what the cluster runs afterwards (its slots by shard
/// and its nodes' addresses), so the model shows the truth even after a failure.
async fn reshard(
    state: &SharedState,
    handle: &RuntimeHandle,
    plan: &ReshardPlan,
) -> (Result<(), EngineError>, Layout, Addresses) {
    let mut runtime = handle.lock().await;
    let addresses_before = runtime.node_addresses();
    let cluster = match runtime.cluster("resharding") {
        Ok(cluster) => cluster,
        Err(error) => return (Err(error), Vec::new(), addresses_before),
    };
    let shards: Vec<ShardSpec> = plan
        .added
        .iter()
        .map(|(id, members)| ShardSpec {
            node_group_id: id.clone(),
            slots: Vec::new(),
            members: members.iter().map(|m| m.cluster_id.clone()).collect(),
        })
        .collect();
    let mut last_percent = None;
    let mut progress = |done: usize, total: usize| {
        // At most one model update per whole percent: a migration moves thousands of slots.
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        if last_percent != Some(percent) {
            last_percent = Some(percent);
            state
                .model()
                .set_resharding_progress(&plan.group_id, done, total);
        }
    };
    let mut outcome = Ok(());
    if !shards.is_empty() {
        outcome = cluster.add_shards(&shards).await;
    }
    if outcome.is_ok() {
        outcome = cluster.move_slots(&plan.target, &mut progress).await;
    }
    if outcome.is_ok() && !plan.removed.is_empty() {
        outcome = cluster.remove_shards(&plan.removed).await;
    }
    let layout = cluster.slot_layout().await.unwrap_or_default();
    (outcome, layout, cluster.node_addresses())
}
