//! CreateSnapshot: of a replication group (one RDB per node group, each from a replica where
//! the shard has one), of one member cache cluster of a cluster-mode-disabled group (its own
//! node), or of a standalone Redis or Valkey cache cluster (its node). Answers `creating`; the
//! group (or cluster) is `snapshotting` until the RDBs are written.

use super::cluster_snapshots::begin_cluster_snapshot;
use super::snapshot_shape::SnapshotResult;
use super::snapshots::{begin_group_snapshot, refuse_kms_key, spawn_take};
use super::tags::parse_tags;
use crate::model::cache_cluster::CacheEngine;
use crate::model::snapshot::{SnapshotSource, parse_snapshot_name};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};
use crate::workflows::snapshot::SnapshotOf;

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<SnapshotResult, ApiError> {
    let name = parse_snapshot_name(params.required("SnapshotName")?)?;
    refuse_kms_key(params)?;
    let tags = parse_tags(params)?;
    let manual = SnapshotSource::Manual;
    let snapshot = match source_of(state, params)? {
        SnapshotOf::Group {
            group_id,
            preferred,
        } => {
            let member = preferred.as_deref();
            begin_group_snapshot(state, &group_id, &name, manual, member, &ctx.scope(), &tags)?
        }
        SnapshotOf::CacheCluster(cluster_id) => {
            begin_cluster_snapshot(state, &cluster_id, &name, manual, &ctx.scope(), &tags)?
        }
    };
    tracing::info!(snapshot = %name, "creating snapshot");
    spawn_take(state, &snapshot);
    Ok(SnapshotResult::of(&snapshot))
}

/// What to snapshot: a group (and the member asked for, if any), or a standalone cluster.
fn source_of(state: &SharedState, params: &QueryParams) -> Result<SnapshotOf, ApiError> {
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
        (Some(group_id), None) => Ok(SnapshotOf::Group {
            group_id: model.group(group_id)?.id.to_string(),
            preferred: None,
        }),
        (None, Some(cluster_id)) => {
            if let Ok(cluster) = model.cache_cluster(cluster_id) {
                return match cluster.engine {
                    CacheEngine::Memcached => {
                        Err(ApiError::SnapshotFeatureNotSupportedFault(format!(
                            "Snapshots are not supported for cache cluster {} (engine memcached).",
                            cluster.id
                        )))
                    }
                    CacheEngine::Redis | CacheEngine::Valkey => {
                        Ok(SnapshotOf::CacheCluster(cluster.id.clone()))
                    }
                };
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
            Ok(SnapshotOf::Group {
                group_id: group.id.to_string(),
                preferred: Some(member),
            })
        }
    }
}
