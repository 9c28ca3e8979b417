//! The botocore model's output shapes, built from the model. Element names are exactly the
//! model's member names; lists use the model's `locationName`s.

use serde::Serialize;

use crate::model::group::{Endpoints, NodeGroupLayout, PendingChange, ReplicationGroup, Role};
use crate::protocol::xml::{XmlList, XmlTime};

/// Where a node or endpoint listens: its own loopback address (see `engine::address`).
#[derive(Serialize)]
pub struct Endpoint {
    #[serde(rename = "Address")]
    pub address: String,
    #[serde(rename = "Port")]
    pub port: u16,
}

impl Endpoint {
    pub fn at(address: std::net::SocketAddrV4) -> Self {
        Self {
            address: address.ip().to_string(),
            port: address.port(),
        }
    }
}

#[derive(Serialize)]
pub struct Empty {}

/// `ReplicationGroupPendingModifiedValues`: what a modification in progress will change.
#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PendingModifiedValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic_failover_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit_encryption_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit_encryption_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resharding: Option<ReshardingStatus>,
}

/// `ReshardingStatus`: an online resharding's slot migration.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReshardingStatus {
    pub slot_migration: SlotMigration,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SlotMigration {
    /// A double on the wire (`37.5`).
    pub progress_percentage: f64,
}

impl ReshardingStatus {
    /// From the model's hundredths of a percent.
    fn from_hundredths(progress: u16) -> Self {
        Self {
            slot_migration: SlotMigration {
                progress_percentage: f64::from(progress) / 100.0,
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeGroupMember {
    pub cache_cluster_id: String,
    pub cache_node_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_endpoint: Option<Endpoint>,
    pub preferred_availability_zone: String,
    /// Omitted with cluster mode enabled, as AWS does: roles are the cluster's business there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_role: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeGroup {
    pub node_group_id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_endpoint: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reader_endpoint: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slots: Option<String>,
    pub node_group_members: XmlList<NodeGroupMember>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationGroupShape {
    pub replication_group_id: String,
    pub description: String,
    pub status: &'static str,
    pub pending_modified_values: PendingModifiedValues,
    pub member_clusters: XmlList<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_groups: Option<XmlList<NodeGroup>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshotting_cluster_id: Option<String>,
    pub automatic_failover: &'static str,
    #[serde(rename = "MultiAZ")]
    pub multi_az: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_endpoint: Option<Endpoint>,
    pub snapshot_retention_limit: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_window: Option<String>,
    pub cluster_enabled: bool,
    pub cache_node_type: String,
    pub auth_token_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token_last_modified_date: Option<XmlTime>,
    pub transit_encryption_enabled: bool,
    pub at_rest_encryption_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub user_group_ids: XmlList<String>,
    pub log_delivery_configurations: XmlList<super::log_delivery::LogDeliveryShape>,
    pub replication_group_create_time: XmlTime,
    pub data_tiering: &'static str,
    pub auto_minor_version_upgrade: bool,
    pub network_type: &'static str,
    pub ip_discovery: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit_encryption_mode: Option<&'static str>,
    pub cluster_mode: &'static str,
    pub engine: String,
}

/// The member daily snapshots are taken from: the one given, else (with a retention and cluster
/// mode disabled) what the engine takes them from, the first replica, else the primary.
fn snapshotting_cluster(group: &ReplicationGroup) -> Option<String> {
    let settings = &group.settings;
    if settings.snapshotting_cluster_id.is_some()
        || settings.stored.snapshot_retention_limit == 0
        || group.cluster_enabled
    {
        return settings.snapshotting_cluster_id.clone();
    }
    let replica = group.members.iter().find(|m| m.role == Role::Replica);
    replica
        .or_else(|| group.primary())
        .map(|m| m.cluster_id.clone())
}

fn enabled(flag: bool) -> &'static str {
    if flag { "enabled" } else { "disabled" }
}

impl ReplicationGroupShape {
    pub fn from_model(group: &ReplicationGroup) -> Self {
        let settings = &group.settings;
        // Node groups appear once the endpoints exist; AWS's create response has none either.
        let node_groups = group.endpoints.map(|endpoints| {
            let node_groups = group
                .node_groups
                .iter()
                .map(|layout| node_group(group, layout, endpoints))
                .collect();
            XmlList::new("NodeGroup", node_groups)
        });
        let configuration_endpoint = match group.endpoints {
            Some(Endpoints::Configuration { address }) => Some(Endpoint::at(address)),
            _ => None,
        };
        let pending = group.pending.clone().unwrap_or_default();
        let automatic_failover = automatic_failover_status(group, &pending);
        Self {
            replication_group_id: group.id.to_string(),
            description: settings.description.clone(),
            status: group.status.as_str(),
            pending_modified_values: PendingModifiedValues::of(pending),
            member_clusters: XmlList::new(
                "ClusterId",
                group.members.iter().map(|m| m.cluster_id.clone()).collect(),
            ),
            node_groups,
            snapshotting_cluster_id: snapshotting_cluster(group),
            automatic_failover,
            multi_az: enabled(settings.multi_az),
            configuration_endpoint,
            snapshot_retention_limit: settings.stored.snapshot_retention_limit,
            snapshot_window: settings.stored.snapshot_window.clone(),
            cluster_enabled: group.cluster_enabled,
            cache_node_type: settings.stored.cache_node_type.clone(),
            auth_token_enabled: settings.auth_token.is_some(),
            auth_token_last_modified_date: group.auth_token_last_modified.map(XmlTime),
            transit_encryption_enabled: settings.transit_encryption,
            at_rest_encryption_enabled: settings.at_rest_encryption,
            kms_key_id: settings.kms_key_id.clone(),
            arn: group.arn.to_string(),
            user_group_ids: XmlList::new("member", settings.user_group_ids.clone()),
            log_delivery_configurations: XmlList::new(
                "LogDeliveryConfiguration",
                (settings.log_delivery.iter())
                    .map(super::log_delivery::LogDeliveryShape::from_model)
                    .collect(),
            ),
            replication_group_create_time: XmlTime(group.created_at),
            data_tiering: "disabled",
            auto_minor_version_upgrade: settings.stored.auto_minor_version_upgrade,
            network_type: "ipv4",
            ip_discovery: "ipv4",
            transit_encryption_mode: settings.transit_encryption_mode.map(|m| m.as_str()),
            cluster_mode: enabled(group.cluster_enabled),
            engine: settings.engine.clone(),
        }
    }
}

/// `AutomaticFailover`: a change in flight shows as `enabling`/`disabling`. A
/// cluster-mode-enabled group has it from the start (AWS's create response says `enabled`); a
/// disabled-mode one is `enabling` until it is running.
fn automatic_failover_status(group: &ReplicationGroup, pending: &PendingChange) -> &'static str {
    let starting = group.endpoints.is_none() && !group.cluster_enabled;
    match (
        group.settings.automatic_failover,
        starting,
        pending.automatic_failover,
    ) {
        (_, _, Some(true)) | (true, true, _) => "enabling",
        (_, _, Some(false)) => "disabling",
        (flag, _, None) => enabled(flag),
    }
}

impl PendingModifiedValues {
    fn of(pending: PendingChange) -> Self {
        Self {
            primary_cluster_id: pending.primary_cluster_id,
            automatic_failover_status: pending.automatic_failover.map(enabled),
            auth_token_status: pending.auth_token_status,
            transit_encryption_enabled: pending.transit_encryption.map(|m| m.is_some()),
            transit_encryption_mode: pending.transit_encryption.flatten().map(|m| m.as_str()),
            resharding: pending
                .resharding_progress
                .map(ReshardingStatus::from_hundredths),
        }
    }
}

/// One node group with its members. With cluster mode disabled it carries the primary and
/// reader endpoints and every member's role and endpoint; with it enabled, its slots only
/// (clients find nodes through the configuration endpoint), as AWS shows it.
fn node_group(
    group: &ReplicationGroup,
    layout: &NodeGroupLayout,
    endpoints: Endpoints,
) -> NodeGroup {
    let cluster_mode = group.cluster_enabled;
    let members = group
        .members
        .iter()
        .filter(|m| m.node_group == layout.id)
        .map(|m| NodeGroupMember {
            cache_cluster_id: m.cluster_id.clone(),
            cache_node_id: "0001",
            read_endpoint: m.address.filter(|_| !cluster_mode).map(Endpoint::at),
            preferred_availability_zone: m.availability_zone.clone(),
            current_role: (!cluster_mode).then(|| m.role.as_str()),
        })
        .collect();
    let (primary_endpoint, reader_endpoint) = match endpoints {
        Endpoints::NodeGroup { primary, reader } => {
            (Some(Endpoint::at(primary)), Some(Endpoint::at(reader)))
        }
        Endpoints::Configuration { .. } => (None, None),
    };
    NodeGroup {
        node_group_id: layout.id.clone(),
        status: group.member_status(),
        primary_endpoint,
        reader_endpoint,
        slots: layout.slots.clone(),
        node_group_members: XmlList::new("NodeGroupMember", members),
    }
}

/// `CreateReplicationGroupResult`, `DeleteReplicationGroupResult`, `TestFailoverResult`, ...
#[derive(Serialize)]
pub struct ReplicationGroupResult {
    #[serde(rename = "ReplicationGroup")]
    pub replication_group: ReplicationGroupShape,
}

impl ReplicationGroupResult {
    pub fn from_model(group: &ReplicationGroup) -> Self {
        Self {
            replication_group: ReplicationGroupShape::from_model(group),
        }
    }
}
