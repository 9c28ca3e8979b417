//! What IncreaseReplicaCount and DecreaseReplicaCount share: parameters, admission, workflow.

use super::shapes::ReplicationGroupResult;
use crate::protocol::{ApiError, QueryParams};
use crate::state::SharedState;
use crate::workflows::replicas;

pub async fn change_replica_count(
    state: &SharedState,
    params: &QueryParams,
    increase: bool,
) -> Result<ReplicationGroupResult, ApiError> {
    let group_id = params.required("ReplicationGroupId")?;
    // Required by the model for both actions, though every change here is immediate.
    params
        .bool("ApplyImmediately")?
        .ok_or_else(|| ApiError::missing_parameter("ApplyImmediately"))?;
    let new_count = new_replica_count(params)?;
    let to_remove: Vec<String> = if increase {
        vec![]
    } else {
        params
            .list("ReplicasToRemove", "member")?
            .iter()
            .map(|id| id.to_ascii_lowercase())
            .collect()
    };
    let (group, added, removed) = state.model().begin_replica_change(
        group_id,
        new_count,
        &to_remove,
        increase,
        state.now(),
    )?;
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

/// `NewReplicaCount`, or the one `ReplicaConfiguration.ConfigureShard` entry (node group 0001).
fn new_replica_count(params: &QueryParams) -> Result<Option<usize>, ApiError> {
    let direct = params.int_in("NewReplicaCount", 0, 5)?;
    let shards = params.struct_list("ReplicaConfiguration", "ConfigureShard")?;
    match (direct, shards.as_slice()) {
        (Some(_), [_, ..]) => Err(ApiError::InvalidParameterCombination(
            "Give either NewReplicaCount or ReplicaConfiguration, not both.".into(),
        )),
        (Some(count), []) => Ok(Some(count as usize)),
        (None, []) => Ok(None),
        (None, [shard]) => {
            let node_group = shard.required("NodeGroupId")?;
            if node_group != crate::model::group::NODE_GROUP_ID {
                return Err(ApiError::NodeGroupNotFoundFault(format!("Node group {node_group} not found.")));
            }
            let count = shard.int_in("NewReplicaCount", 0, 5)?.ok_or_else(|| ApiError::missing_parameter("NewReplicaCount"))?;
            Ok(Some(count as usize))
        }
        (None, _) => Err(ApiError::InvalidParameterValue(
            "A replication group with cluster mode disabled has one node group: give one ConfigureShard.".into(),
        )),
    }
}
