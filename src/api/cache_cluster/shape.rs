//! The `CacheCluster` output shape, for a replication group's member (one node, `0001`) and
//! for a standalone cluster (Redis `0001`, or Memcached nodes with a configuration endpoint).
//! Element order is the botocore model's.

use serde::Serialize;

use crate::api::shapes::{Empty, Endpoint};
use crate::model::arn::{Arn, ResourceKind};
use crate::model::cache_cluster::{CacheCluster, CacheEngine, CacheNode};
use crate::model::catalogue::windows::DEFAULT_MAINTENANCE_WINDOW;
use crate::model::group::{Member, ReplicationGroup};
use crate::model::parameter_group::family_of_version;
use crate::model::resource::Lifecycle;
use crate::protocol::xml::{XmlList, XmlTime};

/// Where AWS sends users for its clients (reported for every engine, as AWS's own examples
/// show it for Redis clusters too).
const CLIENT_DOWNLOAD_PAGE: &str =
    "https://console.aws.amazon.com/elasticache/home#client-download:";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NotificationConfiguration {
    topic_arn: String,
    topic_status: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SecurityGroupMembership {
    security_group_id: String,
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CacheParameterGroupStatus {
    cache_parameter_group_name: String,
    parameter_apply_status: &'static str,
    cache_node_ids_to_reboot: XmlList<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CacheNodeShape {
    cache_node_id: String,
    cache_node_status: &'static str,
    cache_node_create_time: XmlTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<Endpoint>,
    parameter_group_status: &'static str,
    customer_availability_zone: String,
}

/// A standalone Memcached cluster's node-count change in progress, or a group member's node
/// type and engine version waiting for the maintenance window.
#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct PendingModifiedValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_node_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    engine_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_cache_nodes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_node_ids_to_remove: Option<XmlList<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheClusterShape {
    cache_cluster_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration_endpoint: Option<Endpoint>,
    client_download_landing_page: &'static str,
    cache_node_type: String,
    engine: String,
    engine_version: String,
    cache_cluster_status: &'static str,
    num_cache_nodes: usize,
    preferred_availability_zone: String,
    cache_cluster_create_time: XmlTime,
    preferred_maintenance_window: String,
    pending_modified_values: PendingModifiedValues,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification_configuration: Option<NotificationConfiguration>,
    cache_security_groups: XmlList<Empty>,
    cache_parameter_group: CacheParameterGroupStatus,
    cache_subnet_group_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_nodes: Option<XmlList<CacheNodeShape>>,
    auto_minor_version_upgrade: bool,
    security_groups: XmlList<SecurityGroupMembership>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replication_group_id: Option<String>,
    snapshot_retention_limit: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_window: Option<String>,
    auth_token_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_token_last_modified_date: Option<XmlTime>,
    transit_encryption_enabled: bool,
    at_rest_encryption_enabled: bool,
    #[serde(rename = "ARN")]
    arn: String,
    replication_group_log_delivery_enabled: bool,
    /// Always empty: CreateCacheCluster refuses `LogDeliveryConfigurations`, and a group reports
    /// its own deliveries itself.
    log_delivery_configurations: XmlList<Empty>,
    network_type: &'static str,
    ip_discovery: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    transit_encryption_mode: Option<&'static str>,
}

/// `CreateCacheClusterResult`, `DeleteCacheClusterResult`, `RebootCacheClusterResult`...
#[derive(Serialize)]
pub struct CacheClusterResult {
    #[serde(rename = "CacheCluster")]
    pub cache_cluster: CacheClusterShape,
}

impl CacheClusterResult {
    pub fn standalone(cluster: &CacheCluster) -> Self {
        Self {
            cache_cluster: CacheClusterShape::standalone(cluster, true),
        }
    }

    /// A group's member, reporting `status` (a member being removed is `deleting`).
    pub fn member(group: &ReplicationGroup, member: &Member, status: Option<&'static str>) -> Self {
        let mut cache_cluster = CacheClusterShape::member(group, member, true);
        if let Some(status) = status {
            cache_cluster.cache_cluster_status = status;
        }
        Self { cache_cluster }
    }
}

fn apply_status(pending_reboot: bool) -> &'static str {
    match pending_reboot {
        true => "pending-reboot",
        false => "in-sync",
    }
}

fn parameter_group(name: String, nodes_to_reboot: Vec<String>) -> CacheParameterGroupStatus {
    CacheParameterGroupStatus {
        cache_parameter_group_name: name,
        parameter_apply_status: apply_status(!nodes_to_reboot.is_empty()),
        cache_node_ids_to_reboot: XmlList::new("CacheNodeId", nodes_to_reboot),
    }
}

fn notification(
    topic: &Option<String>,
    status: &Option<String>,
) -> Option<NotificationConfiguration> {
    topic.as_ref().map(|arn| NotificationConfiguration {
        topic_arn: arn.clone(),
        topic_status: status.clone().unwrap_or_else(|| "active".into()),
    })
}

fn security_groups(ids: &[String]) -> XmlList<SecurityGroupMembership> {
    let memberships = ids
        .iter()
        .map(|id| SecurityGroupMembership {
            security_group_id: id.clone(),
            status: "active",
        })
        .collect();
    XmlList::new("member", memberships)
}

fn maintenance_window(window: &Option<String>) -> String {
    window
        .clone()
        .unwrap_or_else(|| DEFAULT_MAINTENANCE_WINDOW.into())
}

fn standalone_node(node: &CacheNode) -> CacheNodeShape {
    CacheNodeShape {
        cache_node_id: node.id.clone(),
        cache_node_status: node.status.as_str(),
        cache_node_create_time: XmlTime(node.created_at),
        endpoint: node.address.map(Endpoint::at),
        parameter_group_status: apply_status(node.pending_reboot),
        customer_availability_zone: node.availability_zone.clone(),
    }
}

/// A group member's one node, `0001`, in the member's status.
fn member_node(member: &Member, status: &'static str) -> CacheNodeShape {
    CacheNodeShape {
        cache_node_id: "0001".into(),
        cache_node_status: status,
        cache_node_create_time: XmlTime(member.created_at),
        endpoint: member.address.map(Endpoint::at),
        parameter_group_status: apply_status(member.pending_reboot),
        customer_availability_zone: member.availability_zone.clone(),
    }
}

/// A member's pending values: its group's change deferred to the maintenance window.
fn deferred_of(group: &ReplicationGroup) -> PendingModifiedValues {
    group
        .deferred
        .as_ref()
        .map(|d| PendingModifiedValues {
            cache_node_type: d.change.cache_node_type.clone(),
            engine_version: d
                .change
                .engine_upgrade
                .as_ref()
                .map(|u| u.engine_version.clone()),
            ..PendingModifiedValues::default()
        })
        .unwrap_or_default()
}

impl CacheClusterShape {
    /// A replication group's member: one node, `0001`, with the group's settings.
    pub fn member(group: &ReplicationGroup, member: &Member, show_nodes: bool) -> Self {
        let settings = &group.settings;
        // In the group's account and region.
        let arn = Arn {
            kind: ResourceKind::CacheCluster,
            id: member.cluster_id.clone(),
            ..group.arn.clone()
        };
        let status = group.status_of(member);
        let node = member_node(member, status);
        let to_reboot = match member.pending_reboot {
            true => vec!["0001".to_string()],
            false => vec![],
        };
        let group_name = settings
            .cache_parameter_group_name
            .clone()
            .unwrap_or_else(|| default_parameter_group(group.cluster_enabled).into());
        Self {
            cache_cluster_id: member.cluster_id.clone(),
            configuration_endpoint: None,
            client_download_landing_page: CLIENT_DOWNLOAD_PAGE,
            cache_node_type: settings.stored.cache_node_type.clone(),
            engine: settings.engine.clone(),
            engine_version: settings.engine_version.clone(),
            cache_cluster_status: status,
            num_cache_nodes: 1,
            preferred_availability_zone: member.availability_zone.clone(),
            cache_cluster_create_time: XmlTime(member.created_at),
            preferred_maintenance_window: maintenance_window(
                &settings.stored.preferred_maintenance_window,
            ),
            pending_modified_values: deferred_of(group),
            notification_configuration: notification(
                &settings.stored.notification_topic_arn,
                &settings.stored.notification_topic_status,
            ),
            cache_security_groups: XmlList::new("CacheSecurityGroup", vec![]),
            cache_parameter_group: parameter_group(group_name, to_reboot),
            cache_subnet_group_name: settings.stored.cache_subnet_group_name.clone(),
            cache_nodes: show_nodes.then(|| XmlList::new("CacheNode", vec![node])),
            auto_minor_version_upgrade: settings.stored.auto_minor_version_upgrade,
            security_groups: security_groups(&settings.stored.security_group_ids),
            replication_group_id: Some(group.id.to_string()),
            snapshot_retention_limit: settings.stored.snapshot_retention_limit,
            snapshot_window: settings.stored.snapshot_window.clone(),
            auth_token_enabled: settings.auth_token.is_some(),
            auth_token_last_modified_date: group.auth_token_last_modified.map(XmlTime),
            transit_encryption_enabled: settings.transit_encryption,
            at_rest_encryption_enabled: settings.at_rest_encryption,
            arn: arn.to_string(),
            replication_group_log_delivery_enabled: !settings.log_delivery.is_empty(),
            // The group's deliveries are reported on the group (ReplicationGroupLogDeliveryEnabled).
            log_delivery_configurations: XmlList::new("LogDeliveryConfiguration", vec![]),
            network_type: "ipv4",
            ip_discovery: "ipv4",
            transit_encryption_mode: settings.transit_encryption_mode.map(|m| m.as_str()),
        }
    }

    /// A standalone cluster, with its nodes when `show_nodes` (`ShowCacheNodeInfo`).
    pub fn standalone(cluster: &CacheCluster, show_nodes: bool) -> Self {
        let settings = &cluster.settings;
        let to_reboot = cluster
            .nodes
            .iter()
            .filter(|n| n.pending_reboot)
            .map(|n| n.id.clone())
            .collect();
        let group_name = settings
            .cache_parameter_group_name
            .clone()
            .unwrap_or_else(|| default_group_of(cluster));
        let waiting = cluster.pending.as_ref().or(cluster.deferred_nodes.as_ref());
        let pending = PendingModifiedValues {
            cache_node_type: cluster.deferred_node_type.clone(),
            engine_version: None,
            num_cache_nodes: waiting.map(|p| p.num_cache_nodes),
            cache_node_ids_to_remove: waiting
                .filter(|p| !p.to_remove.is_empty())
                .map(|p| XmlList::new("CacheNodeId", p.to_remove.clone())),
        };
        let nodes = cluster.nodes.iter().map(standalone_node).collect();
        Self {
            cache_cluster_id: cluster.id.clone(),
            configuration_endpoint: cluster.configuration_address.map(Endpoint::at),
            client_download_landing_page: CLIENT_DOWNLOAD_PAGE,
            cache_node_type: settings.stored.cache_node_type.clone(),
            engine: cluster.engine.as_str().into(),
            engine_version: settings.engine_version.clone(),
            cache_cluster_status: cluster.status.as_str(),
            num_cache_nodes: cluster.nodes.len(),
            preferred_availability_zone: cluster.preferred_availability_zone.clone(),
            cache_cluster_create_time: XmlTime(cluster.created_at),
            preferred_maintenance_window: maintenance_window(
                &settings.stored.preferred_maintenance_window,
            ),
            pending_modified_values: pending,
            notification_configuration: notification(
                &settings.stored.notification_topic_arn,
                &settings.stored.notification_topic_status,
            ),
            cache_security_groups: XmlList::new("CacheSecurityGroup", vec![]),
            cache_parameter_group: parameter_group(group_name, to_reboot),
            cache_subnet_group_name: settings.stored.cache_subnet_group_name.clone(),
            cache_nodes: show_nodes.then(|| XmlList::new("CacheNode", nodes)),
            auto_minor_version_upgrade: settings.stored.auto_minor_version_upgrade,
            security_groups: security_groups(&settings.stored.security_group_ids),
            replication_group_id: None,
            snapshot_retention_limit: settings.stored.snapshot_retention_limit,
            snapshot_window: settings.stored.snapshot_window.clone(),
            auth_token_enabled: settings.auth_token.is_some(),
            // A standalone cluster's token is set at creation only (ModifyCacheCluster refuses
            // AuthToken), so its last change is the cluster's creation.
            auth_token_last_modified_date: settings
                .auth_token
                .as_ref()
                .map(|_| XmlTime(cluster.created_at)),
            transit_encryption_enabled: settings.transit_encryption,
            at_rest_encryption_enabled: false,
            arn: cluster.arn.to_string(),
            replication_group_log_delivery_enabled: false,
            log_delivery_configurations: XmlList::new("LogDeliveryConfiguration", vec![]),
            network_type: "ipv4",
            ip_discovery: "ipv4",
            transit_encryption_mode: settings.transit_encryption_mode.map(|m| m.as_str()),
        }
    }
}

/// The group AWS reports for a replication group created without one: its mode's default.
fn default_parameter_group(cluster_enabled: bool) -> &'static str {
    match cluster_enabled {
        true => "default.redis7.cluster.on",
        false => "default.redis7",
    }
}

/// A standalone cluster's default group: its engine's family (`default.memcached1.6`).
fn default_group_of(cluster: &CacheCluster) -> String {
    let family = family_of_version(cluster.engine.as_str(), &cluster.settings.engine_version);
    match (cluster.engine, family) {
        (_, Some(family)) => format!("default.{family}"),
        (CacheEngine::Redis | CacheEngine::Valkey, None) => default_parameter_group(false).into(),
        (CacheEngine::Memcached, None) => {
            let version = &cluster.settings.engine_version;
            let family: Vec<&str> = version.split('.').take(2).collect();
            format!("default.memcached{}", family.join("."))
        }
    }
}
