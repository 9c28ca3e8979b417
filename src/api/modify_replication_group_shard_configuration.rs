//! ModifyReplicationGroupShardConfiguration: online resharding of a cluster-mode-enabled
//! group. The parameters are parsed here, checked against the group and admitted under one
//! model lock (`model::resharding`), and the real work (new shards' nodes, slot migration,
//! removed shards leaving) runs in the background (`workflows::resharding`).

use super::cluster_layout::{MAX_NODE_GROUPS, MAX_NODES};
use super::shapes::ReplicationGroupResult;
use crate::model::ids::parse_node_group_id;
use crate::model::resharding::{ReshardRequest, ShardZones};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};
use crate::workflows::resharding;

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<ReplicationGroupResult, ApiError> {
    super::input_catalogue::check(params, &ctx.region)?;
    let group_id = params.required("ReplicationGroupId")?;
    let request = parse(params)?;
    let (group, plan) =
        state
            .model()
            .begin_resharding(group_id, &request, &ctx.region, state.now())?;
    tracing::info!(group = %group.id, added = ?plan.added.iter().map(|(id, _)| id).collect::<Vec<_>>(), removed = ?plan.removed, "resharding accepted");
    let response = ReplicationGroupResult::from_model(&group);
    tokio::spawn(resharding::run(state.clone(), plan));
    Ok(response)
}

/// Every parameter, checked for form before the group is looked at.
fn parse(params: &QueryParams) -> Result<ReshardRequest, ApiError> {
    let count = params
        .int_in("NodeGroupCount", 1, 500)?
        .ok_or_else(|| ApiError::missing_parameter("NodeGroupCount"))?;
    let apply = params
        .bool("ApplyImmediately")?
        .ok_or_else(|| ApiError::missing_parameter("ApplyImmediately"))?;
    if !apply {
        return Err(ApiError::InvalidParameterValue(
            "ApplyImmediately must be true: shard reconfiguration always begins immediately."
                .into(),
        ));
    }
    let configuration = params
        .struct_list("ReshardingConfiguration", "ReshardingConfiguration")?
        .iter()
        .map(|entry| {
            Ok(ShardZones {
                node_group_id: entry
                    .optional("NodeGroupId")
                    .map(parse_node_group_id)
                    .transpose()?,
                zones: entry.list("PreferredAvailabilityZones", "AvailabilityZone")?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let ids = |name: &str, member: &str| -> Result<Vec<String>, ApiError> {
        let listed = params.list(name, member)?;
        listed.iter().map(|id| parse_node_group_id(id)).collect()
    };
    Ok(ReshardRequest {
        node_group_count: count as usize,
        configuration,
        to_remove: ids("NodeGroupsToRemove", "NodeGroupToRemove")?,
        to_retain: ids("NodeGroupsToRetain", "NodeGroupToRetain")?,
        max_node_groups: MAX_NODE_GROUPS as usize,
        max_nodes: MAX_NODES,
    })
}
