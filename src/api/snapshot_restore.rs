//! A create's `SnapshotName` or `SnapshotArns`: the RDB files every new node group starts from.
//! A snapshot of this scope gives one RDB per node group; an ARN names one RDB a user made with
//! any redis-server: `arn:aws:s3:::bucket/key` (the bucket's directory, see `copy_snapshot`),
//! `file:///path` or an absolute path. With cluster mode disabled the primary loads the RDB at
//! start; with it enabled every key moves to the shard owning its slot (see `engine::snapshot`),
//! so a snapshot restores into any number of node groups.

use std::path::{Component, Path, PathBuf};

use crate::model::snapshot::{Snapshot, SnapshotStatus};
use crate::protocol::{ApiError, QueryParams};
use crate::state::SharedState;

/// The RDBs to restore, or none when the create names no snapshot.
pub fn parse(state: &SharedState, params: &QueryParams) -> Result<Vec<PathBuf>, ApiError> {
    // Serverless caches are not served here, so no serverless snapshot exists to restore.
    if let Some(name) = params.optional("ServerlessCacheSnapshotName") {
        return Err(ApiError::ServerlessCacheSnapshotNotFoundFault(format!(
            "Serverless cache snapshot {name} not found."
        )));
    }
    let arns = params.list("SnapshotArns", "SnapshotArn")?;
    match (params.optional("SnapshotName"), arns.is_empty()) {
        (Some(_), false) => Err(ApiError::InvalidParameterCombination(
            "Only one of SnapshotName and SnapshotArns can be specified.".into(),
        )),
        (Some(name), true) => {
            let snapshot = available_snapshot(state, name)?;
            Ok(snapshot
                .node_snapshots
                .iter()
                .map(|node| {
                    state
                        .engine
                        .snapshot_file(&snapshot.name, &node.node_group_id)
                })
                .collect())
        }
        (None, false) => arns.iter().map(|arn| rdb_of_arn(state, arn)).collect(),
        (None, true) => Ok(Vec::new()),
    }
}

/// A cluster-mode snapshot restored without a layout of the request's own: the new group gets
/// the snapshot's node groups and slots, as AWS restores it.
pub fn with_snapshot_layout(
    state: &SharedState,
    params: &QueryParams,
) -> Result<QueryParams, ApiError> {
    let Some(name) = params.optional("SnapshotName") else {
        return Ok(params.clone());
    };
    let snapshot = available_snapshot(state, name)?;
    let own_layout = params.optional("NumNodeGroups").is_some()
        || !params
            .struct_list("NodeGroupConfiguration", "NodeGroupConfiguration")?
            .is_empty()
        || params.optional("ClusterMode").is_some()
        || params.optional("CacheParameterGroupName").is_some();
    if !snapshot.origin.cluster_enabled || own_layout {
        return Ok(params.clone());
    }
    let mut extra = vec![("ClusterMode".to_string(), "enabled".to_string())];
    for (index, node) in snapshot.node_snapshots.iter().enumerate() {
        let prefix = format!(
            "NodeGroupConfiguration.NodeGroupConfiguration.{}",
            index + 1
        );
        extra.push((format!("{prefix}.NodeGroupId"), node.node_group_id.clone()));
        if let Some(slots) = &node.slots {
            extra.push((format!("{prefix}.Slots"), slots.clone()));
        }
    }
    Ok(params.with_defaults(extra))
}

/// With cluster mode disabled the one primary loads the RDB itself: one file only.
pub fn single_rdb(rdbs: Vec<PathBuf>) -> Result<Option<PathBuf>, ApiError> {
    match rdbs.len() {
        0 | 1 => Ok(rdbs.into_iter().next()),
        n => Err(ApiError::InvalidParameterCombination(format!(
            "A replication group with cluster mode disabled restores from one RDB file; this restore has {n} (one per node group). Enable cluster mode to restore them."
        ))),
    }
}

fn available_snapshot(state: &SharedState, name: &str) -> Result<Snapshot, ApiError> {
    let snapshot = state.model().snapshot(name)?.clone();
    if snapshot.status != SnapshotStatus::Available {
        return Err(ApiError::InvalidSnapshotState(format!(
            "Snapshot {} is not available to restore from (status: {}).",
            snapshot.name,
            crate::model::resource::Lifecycle::as_str(snapshot.status)
        )));
    }
    Ok(snapshot)
}

fn rdb_of_arn(state: &SharedState, arn: &str) -> Result<PathBuf, ApiError> {
    let invalid = |why: &str| {
        ApiError::InvalidParameterValue(format!("Invalid SnapshotArns value '{arn}': {why}."))
    };
    let path = if let Some(object) = arn.strip_prefix("arn:aws:s3:::") {
        let (bucket, key) = object
            .split_once('/')
            .ok_or_else(|| invalid("it must name a bucket and a key"))?;
        let key_path = Path::new(key);
        if bucket.is_empty()
            || bucket.contains("..")
            || !key_path
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(invalid("the bucket or key is not valid"));
        }
        state.engine.bucket_dir(bucket).join(key_path)
    } else if let Some(path) = arn.strip_prefix("file://") {
        PathBuf::from(path)
    } else {
        PathBuf::from(arn)
    };
    if !path.is_absolute() {
        return Err(invalid(
            "expected arn:aws:s3:::bucket/key, file:///path or an absolute path",
        ));
    }
    if !path.is_file() {
        return Err(invalid(&format!("no RDB file at {}", path.display())));
    }
    Ok(path)
}
