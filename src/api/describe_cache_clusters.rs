//! DescribeCacheClusters: every replication group member as a cache cluster of one node.

use serde::Serialize;

use super::paging;
use super::shapes::{Empty, Endpoint};
use crate::model::group::{Member, ReplicationGroup};
use crate::protocol::xml::{XmlList, XmlTime};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

/// What AWS assigns when none is given (a weekly one-hour window).
const DEFAULT_MAINTENANCE_WINDOW: &str = "sun:05:00-sun:06:00";

#[derive(Serialize)]
pub struct Output {
    #[serde(rename = "Marker", skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
    #[serde(rename = "CacheClusters")]
    cache_clusters: XmlList<CacheCluster>,
}

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
struct CacheNode {
    cache_node_id: &'static str,
    cache_node_status: &'static str,
    cache_node_create_time: XmlTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<Endpoint>,
    parameter_group_status: &'static str,
    customer_availability_zone: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CacheCluster {
    cache_cluster_id: String,
    cache_node_type: String,
    engine: String,
    engine_version: String,
    cache_cluster_status: &'static str,
    num_cache_nodes: u32,
    preferred_availability_zone: String,
    cache_cluster_create_time: XmlTime,
    preferred_maintenance_window: String,
    pending_modified_values: Empty,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification_configuration: Option<NotificationConfiguration>,
    cache_security_groups: XmlList<Empty>,
    cache_parameter_group: CacheParameterGroupStatus,
    cache_subnet_group_name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_nodes: Option<XmlList<CacheNode>>,
    auto_minor_version_upgrade: bool,
    security_groups: XmlList<SecurityGroupMembership>,
    replication_group_id: String,
    snapshot_retention_limit: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_window: Option<String>,
    auth_token_enabled: bool,
    transit_encryption_enabled: bool,
    at_rest_encryption_enabled: bool,
    #[serde(rename = "ARN")]
    arn: String,
    replication_group_log_delivery_enabled: bool,
    network_type: &'static str,
    ip_discovery: &'static str,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<Output, ApiError> {
    let max = paging::max_records(params)?;
    let show_nodes = params.bool("ShowCacheNodeInfo")?.unwrap_or(false);
    // Every cache cluster here belongs to a replication group.
    let only_standalone = params
        .bool("ShowCacheClustersNotInReplicationGroups")?
        .unwrap_or(false);
    let marker = params.optional("Marker").filter(|m| !m.is_empty());
    let wanted = params
        .optional("CacheClusterId")
        .map(str::to_ascii_lowercase);
    let model = state.model();
    let mut clusters: Vec<(&ReplicationGroup, &Member)> = model
        .groups()
        .flat_map(|g| g.members.iter().map(move |m| (g, m)))
        .filter(|(_, m)| wanted.as_deref().is_none_or(|w| w == m.cluster_id))
        .filter(|_| !only_standalone)
        .collect();
    if let (Some(id), true) = (params.optional("CacheClusterId"), clusters.is_empty()) {
        return Err(ApiError::cache_cluster_not_found(id));
    }
    clusters.sort_by(|a, b| a.1.cluster_id.cmp(&b.1.cluster_id));
    let (page, marker) = paging::page(clusters, |(_, m)| m.cluster_id.as_str(), marker, max);
    let shapes = page
        .into_iter()
        .map(|(g, m)| cache_cluster(g, m, show_nodes))
        .collect();
    Ok(Output {
        marker,
        cache_clusters: XmlList::new("CacheCluster", shapes),
    })
}

fn cache_cluster(group: &ReplicationGroup, member: &Member, show_nodes: bool) -> CacheCluster {
    let settings = &group.settings;
    // Same region and account as the group's ARN: `arn:aws:elasticache:R:A:replicationgroup:ID`.
    let arn_prefix = group
        .arn
        .rsplit_once(":replicationgroup:")
        .map_or("", |(prefix, _)| prefix);
    let status = group.member_status();
    let node = CacheNode {
        cache_node_id: "0001",
        cache_node_status: status,
        cache_node_create_time: XmlTime(member.created_at),
        endpoint: member.port.map(Endpoint::local),
        parameter_group_status: "in-sync",
        customer_availability_zone: member.availability_zone.clone(),
    };
    CacheCluster {
        cache_cluster_id: member.cluster_id.clone(),
        cache_node_type: settings.cache_node_type.clone(),
        engine: settings.engine.clone(),
        engine_version: settings.engine_version.clone(),
        cache_cluster_status: status,
        num_cache_nodes: 1,
        preferred_availability_zone: member.availability_zone.clone(),
        cache_cluster_create_time: XmlTime(member.created_at),
        preferred_maintenance_window: settings
            .preferred_maintenance_window
            .clone()
            .unwrap_or_else(|| DEFAULT_MAINTENANCE_WINDOW.into()),
        pending_modified_values: Empty {},
        notification_configuration: settings.notification_topic_arn.as_ref().map(|arn| {
            NotificationConfiguration {
                topic_arn: arn.clone(),
                topic_status: settings
                    .notification_topic_status
                    .clone()
                    .unwrap_or_else(|| "active".into()),
            }
        }),
        cache_security_groups: XmlList::new("CacheSecurityGroup", vec![]),
        cache_parameter_group: CacheParameterGroupStatus {
            cache_parameter_group_name: settings
                .cache_parameter_group_name
                .clone()
                .unwrap_or_else(|| "default.redis7".into()),
            parameter_apply_status: "in-sync",
            cache_node_ids_to_reboot: XmlList::new("CacheNodeId", vec![]),
        },
        cache_subnet_group_name: "default",
        cache_nodes: show_nodes.then(|| XmlList::new("CacheNode", vec![node])),
        auto_minor_version_upgrade: settings.auto_minor_version_upgrade,
        security_groups: XmlList::new(
            "member",
            settings
                .security_group_ids
                .iter()
                .map(|id| SecurityGroupMembership {
                    security_group_id: id.clone(),
                    status: "active",
                })
                .collect(),
        ),
        replication_group_id: group.id.to_string(),
        snapshot_retention_limit: settings.snapshot_retention_limit,
        snapshot_window: settings.snapshot_window.clone(),
        auth_token_enabled: settings.auth_token.is_some(),
        transit_encryption_enabled: settings.transit_encryption,
        at_rest_encryption_enabled: settings.at_rest_encryption,
        arn: format!("{arn_prefix}:cluster:{}", member.cluster_id),
        replication_group_log_delivery_enabled: false,
        network_type: "ipv4",
        ip_discovery: "ipv4",
    }
}
