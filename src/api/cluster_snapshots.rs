//! Snapshots of standalone Redis and Valkey cache clusters: the record (one node snapshot, its
//! RDB standing for node group `0001`, so it restores into a cache cluster or a
//! cluster-mode-disabled group alike), inserted `creating` while the cluster is `snapshotting`.

use chrono::{DateTime, Utc};

use crate::model::cache_cluster::CacheCluster;
use crate::model::scope::Scope;
use crate::model::snapshot::{NodeSnapshot, Snapshot, SnapshotOrigin, SnapshotSource};
use crate::model::tags::Tag;
use crate::protocol::ApiError;
use crate::state::SharedState;

use super::snapshots::{DEFAULT_PORT, creating, origin_of};

/// A `creating` snapshot of the standalone `cluster`, as AWS describes one: the cluster's
/// fields (`CacheClusterId`, `NumCacheNodes`, `PreferredAvailabilityZone`), no group's.
pub fn record_of_cluster(
    cluster: &CacheCluster,
    name: &str,
    source: SnapshotSource,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Snapshot {
    let settings = &cluster.settings;
    let node = cluster.nodes.first();
    let port = node
        .and_then(|n| n.address)
        .map_or(DEFAULT_PORT, |a| a.port());
    let node_snapshot = NodeSnapshot {
        cache_cluster_id: cluster.id.clone(),
        node_group_id: crate::engine::SINGLE_NODE_GROUP.to_string(),
        cache_node_id: crate::workflows::NODE_ID.to_string(),
        slots: None,
        replica_count: 0,
        primary_availability_zone: cluster.preferred_availability_zone.clone(),
        replica_availability_zones: Vec::new(),
        size_bytes: None,
        node_create_time: node.map_or(cluster.created_at, |n| n.created_at),
        snapshot_create_time: None,
    };
    let origin = SnapshotOrigin {
        cache_cluster_id: Some(cluster.id.clone()),
        num_cache_nodes: Some(cluster.nodes.len()),
        preferred_availability_zone: Some(cluster.preferred_availability_zone.clone()),
        ..origin_of(
            &settings.stored,
            cluster.engine.as_str().to_string(),
            settings.engine_version.clone(),
            settings.cache_parameter_group_name.clone(),
            port,
            cluster.created_at,
        )
    };
    creating(name, source, origin, vec![node_snapshot], scope, now)
}

/// Inserts a `creating` snapshot of the standalone cluster `cluster_id` (it goes
/// `snapshotting`) and returns it; the caller then runs [`super::snapshots::spawn_take`].
pub fn begin_cluster_snapshot(
    state: &SharedState,
    cluster_id: &str,
    name: &str,
    source: SnapshotSource,
    scope: &Scope,
    tags: &[Tag],
) -> Result<Snapshot, ApiError> {
    let now = state.now();
    let mut model = state.model();
    let cluster = model.cache_cluster(cluster_id)?;
    let snapshot = record_of_cluster(cluster, name, source, scope, now);
    model.insert_snapshot(snapshot.clone(), tags)?;
    Ok(snapshot)
}
