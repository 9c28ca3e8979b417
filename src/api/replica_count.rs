//! What IncreaseReplicaCount and DecreaseReplicaCount share: parameters, admission, workflow.
//! The counts are checked for form here; against the group (its cluster mode, node groups,
//! replicas) under the model lock (`model::shard_replicas`).

use super::cluster_layout::MAX_NODES;
use super::shapes::ReplicationGroupResult;
use crate::model::shard_replicas::{ReplicaRequest, ShardCount};
use crate::protocol::{ApiError, QueryParams};
use crate::state::SharedState;
use crate::workflows::replicas;

pub async fn change_replica_count(
    state: &SharedState,
    params: &QueryParams,
    increase: bool,
) -> Result<ReplicationGroupResult, ApiError> {
    let group_id = params.required("ReplicationGroupId")?;
    let request = parse(params, increase)?;
    let (group, added, removed) =
        state
            .model()
            .begin_replica_count_change(group_id, &request, state.now())?;
    tracing::info!(group = %group.id, ?added, ?removed, "changing replica count");
    let response = ReplicationGroupResult::from_model(&group);
    tokio::spawn(replicas::run(
        state.clone(),
        group.id.to_string(),
        increase,
        added,
        removed,
    ));
    Ok(response)
}

fn parse(params: &QueryParams, increase: bool) -> Result<ReplicaRequest, ApiError> {
    // Required by the model for both actions; a change here always begins at once.
    let apply = params
        .bool("ApplyImmediately")?
        .ok_or_else(|| ApiError::missing_parameter("ApplyImmediately"))?;
    if !apply {
        return Err(ApiError::InvalidParameterValue(
            "ApplyImmediately must be true: a replica count change always begins immediately."
                .into(),
        ));
    }
    let new_count = params.int_in("NewReplicaCount", 0, 5)?.map(|n| n as usize);
    let shards = params
        .struct_list("ReplicaConfiguration", "ConfigureShard")?
        .iter()
        .map(|shard| {
            if !shard
                .list("PreferredOutpostArns", "PreferredOutpostArn")?
                .is_empty()
            {
                return Err(ApiError::InvalidParameterValue(
                    "PreferredOutpostArns: elasticache-local runs no Outposts.".into(),
                ));
            }
            let count = shard
                .int_in("NewReplicaCount", 0, 5)?
                .ok_or_else(|| ApiError::missing_parameter("NewReplicaCount"))?;
            Ok(ShardCount {
                node_group_id: shard.required("NodeGroupId")?.to_string(),
                count: count as usize,
                zones: shard.list("PreferredAvailabilityZones", "PreferredAvailabilityZone")?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    if new_count.is_some() && !shards.is_empty() {
        return Err(ApiError::InvalidParameterCombination(
            "Give either NewReplicaCount or ReplicaConfiguration, not both.".into(),
        ));
    }
    let to_remove = match increase {
        true => Vec::new(),
        false => params
            .list("ReplicasToRemove", "member")?
            .iter()
            .map(|id| id.to_ascii_lowercase())
            .collect(),
    };
    Ok(ReplicaRequest {
        increase,
        new_count,
        shards,
        to_remove,
        max_nodes: MAX_NODES,
    })
}
