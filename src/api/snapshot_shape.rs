//! The botocore `Snapshot` shape (and `NodeSnapshot`), built from the model's record; shared by
//! every snapshot action.

use serde::Serialize;

use crate::model::resource::Lifecycle;
use crate::model::snapshot::{NodeSnapshot, Snapshot, SnapshotOrigin};
use crate::protocol::xml::{XmlList, XmlTime};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeGroupConfigurationShape {
    pub node_group_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slots: Option<String>,
    pub replica_count: usize,
    pub primary_availability_zone: String,
    pub replica_availability_zones: XmlList<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeSnapshotShape {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_cluster_id: Option<String>,
    /// None for a standalone cache cluster's snapshot, as AWS reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_group_id: Option<String>,
    pub cache_node_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_group_configuration: Option<NodeGroupConfigurationShape>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_size: Option<String>,
    pub cache_node_create_time: XmlTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_create_time: Option<XmlTime>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapshotShape {
    pub snapshot_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_group_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_cluster_id: Option<String>,
    pub snapshot_status: &'static str,
    pub snapshot_source: &'static str,
    pub cache_node_type: String,
    pub engine: String,
    pub engine_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_cache_nodes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_availability_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_cluster_create_time: Option<XmlTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_maintenance_window: Option<String>,
    pub port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_parameter_group_name: Option<String>,
    pub cache_subnet_group_name: String,
    pub auto_minor_version_upgrade: bool,
    pub snapshot_retention_limit: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_window: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_node_groups: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic_failover: Option<&'static str>,
    pub node_snapshots: XmlList<NodeSnapshotShape>,
    #[serde(rename = "ARN")]
    pub arn: String,
}

impl SnapshotShape {
    /// The snapshot as described; `NodeGroupConfiguration`s only when `show_node_groups`
    /// (DescribeSnapshots' `ShowNodeGroupConfig`; the other actions always include them).
    pub fn from_model(snapshot: &Snapshot, show_node_groups: bool) -> Self {
        let origin = &snapshot.origin;
        let nodes = snapshot
            .node_snapshots
            .iter()
            .map(|node| node_shape(node, origin, show_node_groups))
            .collect();
        Self {
            snapshot_name: snapshot.name.clone(),
            replication_group_id: origin.replication_group_id.clone(),
            replication_group_description: origin.replication_group_description.clone(),
            cache_cluster_id: origin.cache_cluster_id.clone(),
            snapshot_status: snapshot.status.as_str(),
            snapshot_source: snapshot.source.as_str(),
            cache_node_type: origin.cache_node_type.clone(),
            engine: origin.engine.clone(),
            engine_version: origin.engine_version.clone(),
            num_cache_nodes: origin.num_cache_nodes,
            preferred_availability_zone: origin.preferred_availability_zone.clone(),
            cache_cluster_create_time: origin.cache_cluster_create_time.map(XmlTime),
            preferred_maintenance_window: origin.preferred_maintenance_window.clone(),
            port: origin.port,
            cache_parameter_group_name: origin.cache_parameter_group_name.clone(),
            cache_subnet_group_name: origin.cache_subnet_group_name.clone(),
            auto_minor_version_upgrade: origin.auto_minor_version_upgrade,
            snapshot_retention_limit: origin.snapshot_retention_limit,
            snapshot_window: origin.snapshot_window.clone(),
            num_node_groups: origin.num_node_groups,
            automatic_failover: origin
                .automatic_failover
                .map(|on| if on { "enabled" } else { "disabled" }),
            node_snapshots: XmlList::new("NodeSnapshot", nodes),
            arn: snapshot.arn.to_string(),
        }
    }
}

fn node_shape(node: &NodeSnapshot, origin: &SnapshotOrigin, show: bool) -> NodeSnapshotShape {
    NodeSnapshotShape {
        // AWS names the source node only with cluster mode disabled.
        cache_cluster_id: (!origin.cluster_enabled).then(|| node.cache_cluster_id.clone()),
        node_group_id: (origin.replication_group_id.is_some()).then(|| node.node_group_id.clone()),
        cache_node_id: node.cache_node_id.clone(),
        node_group_configuration: show.then(|| NodeGroupConfigurationShape {
            node_group_id: node.node_group_id.clone(),
            slots: node.slots.clone(),
            replica_count: node.replica_count,
            primary_availability_zone: node.primary_availability_zone.clone(),
            replica_availability_zones: XmlList::new(
                "AvailabilityZone",
                node.replica_availability_zones.clone(),
            ),
        }),
        cache_size: node.size_bytes.map(cache_size),
        cache_node_create_time: XmlTime(node.node_create_time),
        snapshot_create_time: node.snapshot_create_time.map(XmlTime),
    }
}

/// `CacheSize` as AWS writes it (`5 MB`, `0 MB` for a nearly empty node), from the RDB's bytes.
fn cache_size(bytes: u64) -> String {
    format!("{} MB", bytes.div_ceil(1024 * 1024))
}

/// `CreateSnapshotResult`, `CopySnapshotResult`, `DeleteSnapshotResult`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapshotResult {
    pub snapshot: SnapshotShape,
}

impl SnapshotResult {
    pub fn of(snapshot: &Snapshot) -> Self {
        Self {
            snapshot: SnapshotShape::from_model(snapshot, true),
        }
    }
}
