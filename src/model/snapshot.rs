//! Snapshots: a record per snapshot (what it was taken of, one `NodeSnapshot` per shard) and its
//! lifecycle `creating -> available` (or `failed`). The RDB files themselves belong to the engine;
//! the model only knows names, sizes and states.

use chrono::{DateTime, Utc};

use super::Model;
use super::arn::{Arn, ResourceKind};
use super::cache_cluster::ClusterStatus;
use super::events::EventKind;
use super::group::GroupStatus;
use super::resource::{Lifecycle, Resource};
use crate::protocol::ApiError;

/// How many manual snapshots a scope may hold unless `--snapshot-quota` says otherwise.
pub const DEFAULT_SNAPSHOT_QUOTA: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SnapshotStatus {
    Creating,
    Available,
    Failed,
}

impl Lifecycle for SnapshotStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::Failed => "failed",
        }
    }
    fn allows(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Creating, Self::Available | Self::Failed)
        )
    }
}

/// `SnapshotSource`: `manual` (CreateSnapshot, CopySnapshot, a final snapshot) or `automated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SnapshotSource {
    Manual,
    Automated,
}

impl SnapshotSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Automated => "automated",
        }
    }
}

/// One shard's part of a snapshot: which node it was taken from and its shard layout.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeSnapshot {
    pub cache_cluster_id: String,
    pub node_group_id: String,
    pub cache_node_id: String,
    /// The shard's slot ranges (`0-8191`), cluster mode enabled only.
    pub slots: Option<String>,
    pub replica_count: usize,
    pub primary_availability_zone: String,
    pub replica_availability_zones: Vec<String>,
    /// The RDB's size in bytes, once written.
    pub size_bytes: Option<u64>,
    pub node_create_time: DateTime<Utc>,
    pub snapshot_create_time: Option<DateTime<Utc>>,
}

/// What a snapshot was taken of, as `Snapshot` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SnapshotOrigin {
    pub replication_group_id: Option<String>,
    pub replication_group_description: Option<String>,
    pub cache_cluster_id: Option<String>,
    pub cache_node_type: String,
    pub engine: String,
    pub engine_version: String,
    pub num_cache_nodes: Option<usize>,
    pub preferred_availability_zone: Option<String>,
    pub cache_cluster_create_time: Option<DateTime<Utc>>,
    pub preferred_maintenance_window: Option<String>,
    pub port: u16,
    pub cache_parameter_group_name: Option<String>,
    pub cache_subnet_group_name: String,
    pub auto_minor_version_upgrade: bool,
    pub snapshot_retention_limit: i64,
    pub snapshot_window: Option<String>,
    /// Set for snapshots of replication groups.
    pub num_node_groups: Option<usize>,
    pub automatic_failover: Option<bool>,
    pub cluster_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// Lower-cased (AWS stores snapshot names so).
    pub name: String,
    pub arn: Arn,
    pub status: SnapshotStatus,
    pub source: SnapshotSource,
    pub origin: SnapshotOrigin,
    pub node_snapshots: Vec<NodeSnapshot>,
    pub created_at: DateTime<Utc>,
    /// Taken of a running group, which stays `snapshotting` until it is done (a copy is not).
    pub holds_group: bool,
    pub revision: u64,
}

impl Resource for Snapshot {
    const KIND: ResourceKind = ResourceKind::Snapshot;
    type Status = SnapshotStatus;

    fn id(&self) -> &str {
        &self.name
    }
    fn status(&self) -> SnapshotStatus {
        self.status
    }
    fn set_status(&mut self, status: SnapshotStatus) {
        self.status = status;
    }
    fn set_revision(&mut self, revision: u64) {
        self.revision = revision;
    }
    fn not_found(raw_id: &str) -> ApiError {
        ApiError::SnapshotNotFoundFault(format!("Snapshot {raw_id} not found."))
    }
    fn already_exists(id: &str) -> ApiError {
        ApiError::SnapshotAlreadyExistsFault(format!("Snapshot {id} already exists."))
    }
    fn invalid_state(&self, _wanted: SnapshotStatus) -> ApiError {
        ApiError::InvalidSnapshotState(format!(
            "Snapshot {} is not in a valid state (status: {}).",
            self.name,
            self.status.as_str()
        ))
    }
}

/// A manual snapshot name: letters, digits and hyphens, a letter first, stored lower-case.
/// Automatic snapshots' names (`automatic.` + ...) are made by the server and are not checked.
pub fn parse_snapshot_name(raw: &str) -> Result<String, ApiError> {
    ResourceKind::Snapshot.parse_id(raw)
}

impl Model {
    pub fn snapshot(&self, raw_name: &str) -> Result<&Snapshot, ApiError> {
        self.snapshots.get(raw_name)
    }

    /// In name order.
    pub fn snapshots(&self) -> impl Iterator<Item = &Snapshot> {
        self.snapshots.iter()
    }

    /// Adds a `creating` snapshot with its tags. A manual one counts against the quota; a
    /// snapshot of a replication group moves it to `snapshotting` (which it must be allowed:
    /// only an `available` group can be snapshotted).
    pub fn insert_snapshot(
        &mut self,
        snapshot: Snapshot,
        tags: &[super::tags::Tag],
    ) -> Result<(), ApiError> {
        self.snapshots.get(&snapshot.name).map_or(Ok(()), |s| {
            Err(<Snapshot as Resource>::already_exists(&s.name))
        })?;
        let manual = self
            .snapshots
            .iter()
            .filter(|s| s.source == SnapshotSource::Manual)
            .count();
        if snapshot.source == SnapshotSource::Manual && manual >= self.snapshot_quota {
            return Err(ApiError::SnapshotQuotaExceededFault(format!(
                "The request cannot be processed because it would exceed the maximum number of snapshots ({}).",
                self.snapshot_quota
            )));
        }
        if let Some(group_id) = snapshot
            .origin
            .replication_group_id
            .as_ref()
            .filter(|_| snapshot.holds_group)
        {
            let group = self.group(group_id)?;
            if group.status != GroupStatus::Available || group.failover_in_flight {
                let why = match group.failover_in_flight {
                    true => "a failover is in progress".to_string(),
                    false => format!("status: {}", group.status.as_str()),
                };
                return Err(ApiError::InvalidReplicationGroupState(format!(
                    "Replication group {} is not in a valid state to be snapshotted ({why}).",
                    group.id
                )));
            }
        }
        let standalone = match (&snapshot.origin.replication_group_id, snapshot.holds_group) {
            (None, true) => snapshot.origin.cache_cluster_id.clone(),
            _ => None,
        };
        if let Some(cluster_id) = &standalone {
            let cluster = self.cache_cluster(cluster_id)?;
            if cluster.status != ClusterStatus::Available {
                return Err(ApiError::InvalidCacheClusterState(format!(
                    "Cache cluster {} is not in a valid state to be snapshotted (status: {}).",
                    cluster.id,
                    cluster.status.as_str()
                )));
            }
        }
        self.tags.add(&snapshot.arn, tags)?;
        if let Some(cluster_id) = &standalone {
            self.cache_cluster_mut(cluster_id)?.status = ClusterStatus::Snapshotting;
        }
        if let Some(group_id) = snapshot
            .origin
            .replication_group_id
            .clone()
            .filter(|_| snapshot.holds_group)
        {
            self.group_mut(&group_id)?.status = GroupStatus::Snapshotting;
        }
        self.snapshots.insert(snapshot)
    }

    /// The engine wrote every shard's RDB (`sizes` by node group): `available`, and the group
    /// back to `available`, with AWS's event.
    /// `announce`: a snapshot taken of nodes has AWS's event; a copy has none.
    pub fn finish_snapshot(
        &mut self,
        name: &str,
        sizes: &[(String, u64)],
        announce: bool,
        now: DateTime<Utc>,
    ) {
        let Ok(snapshot) = self.snapshots.get_mut(name) else {
            return;
        };
        for node in &mut snapshot.node_snapshots {
            node.size_bytes = sizes
                .iter()
                .find(|(group, _)| *group == node.node_group_id)
                .map(|(_, size)| *size);
            node.snapshot_create_time = Some(now);
        }
        snapshot.status = SnapshotStatus::Available;
        if !announce {
            return;
        }
        let event = finished_event(snapshot, None);
        let holds_group = snapshot.holds_group;
        self.release_group(event, holds_group, now);
    }

    /// The snapshot could not be taken: `failed`, the group back to `available`.
    pub fn fail_snapshot(
        &mut self,
        name: &str,
        reason: String,
        announce: bool,
        now: DateTime<Utc>,
    ) {
        let Ok(snapshot) = self.snapshots.get_mut(name) else {
            return;
        };
        snapshot.status = SnapshotStatus::Failed;
        if !announce {
            return;
        }
        let event = finished_event(snapshot, Some(reason));
        let holds_group = snapshot.holds_group;
        self.release_group(event, holds_group, now);
    }

    /// The snapshot's source (a group, or a standalone cluster) back to `available`.
    fn release_group(&mut self, event: EventKind, holds_group: bool, now: DateTime<Utc>) {
        if holds_group
            && let EventKind::SnapshotFinished {
                source_type,
                source_id,
                ..
            } = &event
        {
            match *source_type {
                "replication-group" => {
                    if let Ok(group) = self.group_mut(source_id)
                        && group.status == GroupStatus::Snapshotting
                    {
                        group.status = GroupStatus::Available;
                    }
                }
                _ => {
                    if let Ok(cluster) = self.cache_cluster_mut(source_id)
                        && cluster.status == ClusterStatus::Snapshotting
                    {
                        cluster.status = ClusterStatus::Available;
                    }
                }
            }
        }
        self.record(event, now);
    }

    /// DeleteReplicationGroup with `FinalSnapshotIdentifier`: the group goes `deleting` (as
    /// [`Model::begin_delete`] allows) and the final snapshot is inserted `creating`, both or
    /// neither.
    pub fn begin_delete_with_snapshot(
        &mut self,
        raw_id: &str,
        mut snapshot: Snapshot,
    ) -> Result<super::group::ReplicationGroup, ApiError> {
        snapshot.holds_group = false;
        let group = self.group(raw_id)?;
        if group.status != GroupStatus::Available || group.failover_in_flight {
            return Err(ApiError::InvalidReplicationGroupState(format!(
                "Replication group {} is not in a valid state to take a final snapshot and be deleted (status: {}).",
                group.id,
                group.status.as_str()
            )));
        }
        self.insert_snapshot(snapshot, &[])?;
        self.begin_delete(raw_id)
    }

    /// DeleteCacheCluster with `FinalSnapshotIdentifier` (a standalone Redis or Valkey
    /// cluster): the cluster goes `deleting` and the final snapshot is inserted `creating`,
    /// both or neither; only an `available` cluster can take it.
    pub fn begin_cluster_delete_with_snapshot(
        &mut self,
        raw_id: &str,
        mut snapshot: Snapshot,
    ) -> Result<super::cache_cluster::CacheCluster, ApiError> {
        snapshot.holds_group = false;
        let cluster = self.cache_cluster(raw_id)?;
        if cluster.status != ClusterStatus::Available {
            return Err(ApiError::InvalidCacheClusterState(format!(
                "Cache cluster {} is not in a valid state to take a final snapshot and be deleted (status: {}).",
                cluster.id,
                cluster.status.as_str()
            )));
        }
        self.insert_snapshot(snapshot, &[])?;
        self.begin_cluster_delete(raw_id)
    }

    /// Removes a snapshot that is not being created; the record as it was, for the answer.
    pub fn delete_snapshot(&mut self, raw_name: &str) -> Result<Snapshot, ApiError> {
        let snapshot = self.snapshots.get(raw_name)?;
        if snapshot.status == SnapshotStatus::Creating {
            return Err(ApiError::InvalidSnapshotState(format!(
                "Snapshot {} is not in a valid state to be deleted (status: creating).",
                snapshot.name
            )));
        }
        let snapshot = self
            .snapshots
            .remove(raw_name)
            .expect("the snapshot was just found");
        self.tags.forget(&snapshot.arn);
        Ok(snapshot)
    }

    /// Names of the automatic snapshots of `source_id` (a group, or a standalone cluster),
    /// oldest first.
    pub fn automatic_snapshots_of(&self, source_id: &str) -> Vec<String> {
        let mut found: Vec<&Snapshot> = self
            .snapshots
            .iter()
            .filter(|s| s.source == SnapshotSource::Automated)
            .filter(|s| {
                let origin = &s.origin;
                match &origin.replication_group_id {
                    Some(group) => group == source_id,
                    None => origin.cache_cluster_id.as_deref() == Some(source_id),
                }
            })
            .collect();
        found.sort_by_key(|s| s.created_at);
        found.into_iter().map(|s| s.name.clone()).collect()
    }
}

fn finished_event(snapshot: &Snapshot, failure: Option<String>) -> EventKind {
    let (source_type, source_id) = match (
        &snapshot.origin.replication_group_id,
        &snapshot.origin.cache_cluster_id,
    ) {
        (Some(group), _) => ("replication-group", group.clone()),
        (None, Some(cluster)) => ("cache-cluster", cluster.clone()),
        (None, None) => ("cache-cluster", String::new()),
    };
    EventKind::SnapshotFinished {
        source_type,
        source_id,
        snapshot: snapshot.name.clone(),
        failure,
    }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
