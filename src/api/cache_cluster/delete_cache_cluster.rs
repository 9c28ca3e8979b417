//! DeleteCacheCluster: a standalone cluster answers `deleting`, its nodes stop, then it is
//! forgotten (so the `cache_cluster_deleted` waiter sees `CacheClusterNotFound`); a
//! replication group's replica member is removed from its group; its primary is refused.

use super::shape::CacheClusterResult;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};
use crate::workflows::cache_cluster;

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<CacheClusterResult, ApiError> {
    let raw_id = params.required("CacheClusterId")?;
    if params.optional("FinalSnapshotIdentifier").is_some() {
        return Err(ApiError::InvalidParameterValue(
            "elasticache-local does not support snapshots (FinalSnapshotIdentifier).".into(),
        ));
    }
    if let Some(response) = super::add_member::remove(state, raw_id)? {
        return Ok(response);
    }
    let cluster = state.model().begin_cluster_delete(raw_id)?;
    let response = CacheClusterResult::standalone(&cluster);
    tracing::info!(cluster = %cluster.id, "deleting cache cluster");
    tokio::spawn(cache_cluster::delete(state.clone(), cluster.id));
    Ok(response)
}
