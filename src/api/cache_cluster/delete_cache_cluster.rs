//! DeleteCacheCluster: a standalone cluster answers `deleting` (with `FinalSnapshotIdentifier`,
//! its node's data is snapshotted first: Redis and Valkey), its nodes stop, then it is
//! forgotten (so the `cache_cluster_deleted` waiter sees `CacheClusterNotFound`); a
//! replication group's replica member is removed from its group; its primary is refused.

use super::shape::CacheClusterResult;
use crate::api::cluster_snapshots::record_of_cluster;
use crate::model::snapshot::{SnapshotSource, parse_snapshot_name};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};
use crate::workflows::cache_cluster;

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<CacheClusterResult, ApiError> {
    let raw_id = params.required("CacheClusterId")?;
    let final_snapshot = params
        .optional("FinalSnapshotIdentifier")
        .map(parse_snapshot_name)
        .transpose()?;
    if final_snapshot.is_some() && state.model().group_of_member(raw_id).is_some() {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Cache cluster {raw_id} is a member of a replication group: a final snapshot is taken of the replication group (DeleteReplicationGroup's FinalSnapshotIdentifier)."
        )));
    }
    if let Some(response) = super::add_member::remove(state, raw_id)? {
        return Ok(response);
    }
    let cluster = {
        let mut model = state.model();
        match &final_snapshot {
            None => model.begin_cluster_delete(raw_id)?,
            Some(name) => {
                let cluster = model.cache_cluster(raw_id)?;
                if cluster.engine.is_memcached() {
                    return Err(ApiError::SnapshotFeatureNotSupportedFault(format!(
                        "Snapshots are not supported for cache cluster {} (engine memcached).",
                        cluster.id
                    )));
                }
                let source = SnapshotSource::Manual;
                let snapshot = record_of_cluster(cluster, name, source, &ctx.scope(), state.now());
                model.begin_cluster_delete_with_snapshot(raw_id, snapshot)?
            }
        }
    };
    let response = CacheClusterResult::standalone(&cluster);
    tracing::info!(cluster = %cluster.id, "deleting cache cluster");
    tokio::spawn(cache_cluster::delete(
        state.clone(),
        cluster.id,
        final_snapshot,
    ));
    Ok(response)
}
