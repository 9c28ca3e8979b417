//! DeleteReplicationGroup: answer `deleting`, take the final snapshot when
//! `FinalSnapshotIdentifier` asks for one, stop the nodes and endpoints, then forget the group,
//! so the `replication_group_deleted` waiter sees `ReplicationGroupNotFoundFault`.

use super::shapes::ReplicationGroupResult;
use super::snapshots::record_of_group;
use crate::model::snapshot::{SnapshotSource, parse_snapshot_name};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<ReplicationGroupResult, ApiError> {
    let raw_id = params.required("ReplicationGroupId")?;
    if params.bool("RetainPrimaryCluster")? == Some(true) {
        return Err(ApiError::InvalidParameterValue(
            "elasticache-local does not support RetainPrimaryCluster: a standalone cache cluster cannot outlive its group here.".into(),
        ));
    }
    let final_snapshot = params
        .optional("FinalSnapshotIdentifier")
        .map(parse_snapshot_name)
        .transpose()?;
    let group = {
        let mut model = state.model();
        match &final_snapshot {
            None => model.begin_delete(raw_id)?,
            Some(name) => {
                let group = model.group(raw_id)?;
                let snapshot = record_of_group(
                    group,
                    name,
                    SnapshotSource::Manual,
                    None,
                    &ctx.scope(),
                    state.now(),
                );
                model.begin_delete_with_snapshot(raw_id, snapshot)?
            }
        }
    };
    let response = ReplicationGroupResult::from_model(&group);
    let state = state.clone();
    let group_id = group.id.to_string();
    tracing::info!(group = %group_id, "deleting replication group");
    tokio::spawn(async move {
        if let Some(name) = final_snapshot {
            let of = crate::workflows::snapshot::SnapshotOf::Group {
                group_id: group_id.clone(),
                preferred: None,
            };
            crate::workflows::snapshot::take(&state, &name, &of).await;
        }
        state.engine.stop_group(&group_id).await;
        // Automatic snapshots go with their group, as on AWS; manual ones stay. Before the
        // group goes, so a client that sees it gone never sees them (none is being taken: a
        // `deleting` group takes none).
        crate::workflows::automatic_snapshots::prune(&state, &group_id, 0);
        state.model().finish_delete(&group_id, state.now());
        tracing::info!(group = %group_id, "replication group deleted");
    });
    Ok(response)
}
