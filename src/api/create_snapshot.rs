//! CreateSnapshot: of a replication group (one RDB per node group, each from a replica where
//! the shard has one), or of one member cache cluster of a cluster-mode-disabled group (its own
//! node). Answers `creating`; the group is `snapshotting` until the RDBs are written.

use super::snapshot_shape::SnapshotResult;
use super::snapshots::{begin_group_snapshot, refuse_kms_key, spawn_take};
use super::tags::parse_tags;
use crate::model::cache_cluster::CacheEngine;
use crate::model::snapshot::{SnapshotSource, parse_snapshot_name};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<SnapshotResult, ApiError> {
    let name = parse_snapshot_name(params.required("SnapshotName")?)?;
    refuse_kms_key(params)?;
    let tags = parse_tags(params)?;
    let (group_id, member) = source_of(state, params)?;
    let snapshot = begin_group_snapshot(
        state,
        &group_id,
        &name,
        SnapshotSource::Manual,
        member.as_deref(),
        &ctx.scope(),
        &tags,
    )?;
    tracing::info!(snapshot = %name, group = %group_id, "creating snapshot");
    spawn_take(state, &snapshot);
    Ok(SnapshotResult::of(&snapshot))
}

/// The group to snapshot and the member asked for, if any.
fn source_of(
    state: &SharedState,
    params: &QueryParams,
) -> Result<(String, Option<String>), ApiError> {
    let model = state.model();
    match (
        params.optional("ReplicationGroupId"),
        params.optional("CacheClusterId"),
    ) {
        (Some(_), Some(_)) => Err(ApiError::InvalidParameterCombination(
            "Only one of ReplicationGroupId and CacheClusterId can be specified.".into(),
        )),
        (None, None) => Err(ApiError::InvalidParameterCombination(
            "Either ReplicationGroupId or CacheClusterId must be specified.".into(),
        )),
        (Some(group_id), None) => Ok((model.group(group_id)?.id.to_string(), None)),
        (None, Some(cluster_id)) => {
            if let Ok(cluster) = model.cache_cluster(cluster_id) {
                return Err(match cluster.engine {
                    CacheEngine::Memcached => ApiError::SnapshotFeatureNotSupportedFault(format!(
                        "Snapshots are not supported for cache cluster {} (engine memcached).",
                        cluster.id
                    )),
                    CacheEngine::Redis | CacheEngine::Valkey => {
                        ApiError::InvalidParameterValue(format!(
                            "elasticache-local takes snapshots of replication groups and their members only, not of standalone cache cluster {}.",
                            cluster.id
                        ))
                    }
                });
            }
            let group = model
                .group_of_member(cluster_id)
                .ok_or_else(|| ApiError::cache_cluster_not_found(cluster_id))?;
            if group.cluster_enabled {
                return Err(ApiError::InvalidParameterValue(format!(
                    "Cache cluster {cluster_id} belongs to replication group {}, which has cluster mode enabled: snapshot the replication group (ReplicationGroupId) instead.",
                    group.id
                )));
            }
            let member = crate::model::arn::ResourceKind::CacheCluster.lookup_key(cluster_id);
            Ok((group.id.to_string(), Some(member)))
        }
    }
}
