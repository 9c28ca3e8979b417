//! DeleteReplicationGroup: answer `deleting`, stop the nodes and endpoints, then forget the
//! group, so the `replication_group_deleted` waiter sees `ReplicationGroupNotFoundFault`.

use super::shapes::ReplicationGroupResult;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<ReplicationGroupResult, ApiError> {
    let raw_id = params.required("ReplicationGroupId")?;
    if params.bool("RetainPrimaryCluster")? == Some(true) {
        return Err(ApiError::InvalidParameterValue(
            "elasticache-local does not support RetainPrimaryCluster: a standalone cache cluster cannot outlive its group here.".into(),
        ));
    }
    // FinalSnapshotIdentifier is accepted and ignored: there are no snapshots locally.
    let group = state.model().begin_delete(raw_id)?;
    let response = ReplicationGroupResult::from_model(&group);
    let state = state.clone();
    let group_id = group.id.to_string();
    tracing::info!(group = %group_id, "deleting replication group");
    tokio::spawn(async move {
        state.engine.stop_group(&group_id).await;
        state.model().finish_delete(&group_id, state.now());
        tracing::info!(group = %group_id, "replication group deleted");
    });
    Ok(response)
}
