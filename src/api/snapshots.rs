//! What the snapshot actions share: a replication group's snapshot record (what CreateSnapshot,
//! a final snapshot and an automatic one insert), and starting the workflow that takes it.

use chrono::{DateTime, Utc};

use crate::model::arn::{Arn, ResourceKind};
use crate::model::group::{Endpoints, NodeGroupLayout, ReplicationGroup, Role};
use crate::model::scope::Scope;
use crate::model::snapshot::{
    NodeSnapshot, Snapshot, SnapshotOrigin, SnapshotSource, SnapshotStatus,
};
use crate::model::stored_settings::StoredSettings;
use crate::model::tags::Tag;
use crate::protocol::ApiError;
use crate::state::SharedState;
use crate::workflows::snapshot::SnapshotOf;

/// The port a snapshot reports when its source has no address yet.
pub(super) const DEFAULT_PORT: u16 = 6379;

/// A `creating` snapshot of `group`, one node snapshot per node group. `member` names the node
/// asked for (CreateSnapshot's `CacheClusterId`), reported as the snapshot's cache cluster.
pub fn record_of_group(
    group: &ReplicationGroup,
    name: &str,
    source: SnapshotSource,
    member: Option<&str>,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Snapshot {
    let settings = &group.settings;
    let port = match group.endpoints {
        Some(Endpoints::NodeGroup { primary, .. }) => primary.port(),
        Some(Endpoints::Configuration { address }) => address.port(),
        None => DEFAULT_PORT,
    };
    let node_snapshots = group
        .node_groups
        .iter()
        .map(|layout| node_snapshot_of(group, layout, member))
        .collect();
    let origin = SnapshotOrigin {
        replication_group_id: Some(group.id.to_string()),
        replication_group_description: Some(settings.description.clone()),
        cache_cluster_id: member.map(str::to_string),
        num_node_groups: Some(group.node_groups.len()),
        automatic_failover: Some(settings.automatic_failover),
        cluster_enabled: group.cluster_enabled,
        ..origin_of(
            &settings.stored,
            settings.engine.clone(),
            settings.engine_version.clone(),
            settings.cache_parameter_group_name.clone(),
            port,
            group.created_at,
        )
    };
    creating(name, source, origin, node_snapshots, scope, now)
}

/// One node group's snapshot: taken of `member` if it is in this node group, else of a
/// replica, else of the primary.
fn node_snapshot_of(
    group: &ReplicationGroup,
    layout: &NodeGroupLayout,
    member: Option<&str>,
) -> NodeSnapshot {
    let members: Vec<_> = group
        .members
        .iter()
        .filter(|m| m.node_group == layout.id)
        .collect();
    let primary = members.iter().find(|m| m.role == Role::Primary);
    let source = member
        .and_then(|id| members.iter().find(|m| m.cluster_id == id))
        .or_else(|| members.iter().find(|m| m.role == Role::Replica))
        .or(primary)
        .or(members.first());
    NodeSnapshot {
        cache_cluster_id: source.map(|m| m.cluster_id.clone()).unwrap_or_default(),
        node_group_id: layout.id.clone(),
        cache_node_id: crate::workflows::NODE_ID.to_string(),
        slots: layout.slots.clone(),
        replica_count: members.len().saturating_sub(1),
        primary_availability_zone: primary
            .map(|m| m.availability_zone.clone())
            .unwrap_or_default(),
        replica_availability_zones: members
            .iter()
            .filter(|m| m.role == Role::Replica)
            .map(|m| m.availability_zone.clone())
            .collect(),
        size_bytes: None,
        node_create_time: source.map_or(group.created_at, |m| m.created_at),
        snapshot_create_time: None,
    }
}

/// What a snapshot's origin copies from any source (group or standalone cluster); the fields
/// of one kind only are left empty for the caller to fill.
pub(super) fn origin_of(
    stored: &StoredSettings,
    engine: String,
    engine_version: String,
    cache_parameter_group_name: Option<String>,
    port: u16,
    created_at: DateTime<Utc>,
) -> SnapshotOrigin {
    SnapshotOrigin {
        replication_group_id: None,
        replication_group_description: None,
        cache_cluster_id: None,
        cache_node_type: stored.cache_node_type.clone(),
        engine,
        engine_version,
        num_cache_nodes: None,
        preferred_availability_zone: None,
        cache_cluster_create_time: Some(created_at),
        preferred_maintenance_window: stored.preferred_maintenance_window.clone(),
        port,
        cache_parameter_group_name,
        cache_subnet_group_name: stored.cache_subnet_group_name.clone(),
        auto_minor_version_upgrade: stored.auto_minor_version_upgrade,
        snapshot_retention_limit: stored.snapshot_retention_limit,
        snapshot_window: stored.snapshot_window.clone(),
        num_node_groups: None,
        automatic_failover: None,
        cluster_enabled: false,
    }
}

/// A new snapshot record, `creating` until the workflow has written its RDB files.
pub(super) fn creating(
    name: &str,
    source: SnapshotSource,
    origin: SnapshotOrigin,
    node_snapshots: Vec<NodeSnapshot>,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Snapshot {
    Snapshot {
        name: name.to_string(),
        arn: Arn::new(ResourceKind::Snapshot, scope, name),
        status: SnapshotStatus::Creating,
        source,
        origin,
        node_snapshots,
        created_at: now,
        holds_group: true,
        revision: 0,
    }
}

/// Inserts a `creating` snapshot of `group_id` (the group goes `snapshotting`) and returns it;
/// the caller then runs [`crate::workflows::snapshot::take`].
pub fn begin_group_snapshot(
    state: &SharedState,
    group_id: &str,
    name: &str,
    source: SnapshotSource,
    member: Option<&str>,
    scope: &Scope,
    tags: &[Tag],
) -> Result<Snapshot, ApiError> {
    let now = state.now();
    let mut model = state.model();
    let group = model.group(group_id)?;
    let snapshot = record_of_group(group, name, source, member, scope, now);
    model.insert_snapshot(snapshot.clone(), tags)?;
    Ok(snapshot)
}

/// Starts taking a snapshot inserted by [`begin_group_snapshot`] (or of a standalone cluster,
/// `cluster_snapshots`), in the background.
pub fn spawn_take(state: &SharedState, snapshot: &Snapshot) {
    let state = state.clone();
    let name = snapshot.name.clone();
    let origin = &snapshot.origin;
    let of = match &origin.replication_group_id {
        Some(group_id) => SnapshotOf::Group {
            group_id: group_id.clone(),
            preferred: origin.cache_cluster_id.clone(),
        },
        None => SnapshotOf::CacheCluster(origin.cache_cluster_id.clone().unwrap_or_default()),
    };
    tokio::spawn(async move {
        crate::workflows::snapshot::take(&state, &name, &of).await;
    });
}

/// `KmsKeyId`: snapshots are plain RDB files here.
pub fn refuse_kms_key(params: &crate::protocol::QueryParams) -> Result<(), ApiError> {
    match params.optional("KmsKeyId") {
        Some(_) => Err(ApiError::InvalidParameterValue(
            "elasticache-local does not encrypt snapshots (KmsKeyId): they are plain RDB files."
                .into(),
        )),
        None => Ok(()),
    }
}
