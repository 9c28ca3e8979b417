//! DescribeCacheClusters: every replication group member as a cache cluster of one node. Each
//! member's XML is encoded once per revision of its group and reused (see
//! `protocol::fragments`).

use serde::Serialize;

use super::encoded_page::{EncodedPage, encode_entries, lookup_entries};
use super::paging;
use super::shapes::{Empty, Endpoint};
use crate::model::arn::{Arn, ResourceKind};
use crate::model::group::{Member, ReplicationGroup};
use crate::protocol::xml::{XmlList, XmlTime};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

/// What AWS assigns when none is given (a weekly one-hour window).
const DEFAULT_MAINTENANCE_WINDOW: &str = "sun:05:00-sun:06:00";

const LIST: &str = "CacheClusters";
const MEMBER: &str = "CacheCluster";

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
    cache_subnet_group_name: String,
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
) -> Result<EncodedPage, ApiError> {
    let show_nodes = params.bool("ShowCacheNodeInfo")?.unwrap_or(false);
    // Every cache cluster here belongs to a replication group.
    let only_standalone = params
        .bool("ShowCacheClustersNotInReplicationGroups")?
        .unwrap_or(false);
    let wanted = params
        .optional("CacheClusterId")
        .map(str::to_ascii_lowercase);
    let cache = &state.encoded_cache_clusters[usize::from(show_nodes)];
    let (entries, marker) = {
        let model = state.model();
        let request = paging::request(&model.pager, LIST, params)?;
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
        let (page, marker) =
            model
                .pager
                .page(LIST, clusters, |(_, m)| m.cluster_id.as_str(), &request);
        let entries = lookup_entries(
            cache,
            &page,
            |(group, member)| (member.cluster_id.as_str(), group.revision),
            |(group, member)| cache_cluster(group, member, show_nodes),
        );
        (entries, marker)
    };
    // Encoding happens outside the model lock.
    let members = encode_entries(entries, cache, MEMBER)?;
    Ok(EncodedPage {
        marker,
        list: LIST,
        member: MEMBER,
        members,
    })
}

fn cache_cluster(group: &ReplicationGroup, member: &Member, show_nodes: bool) -> CacheCluster {
    let settings = &group.settings;
    // In the group's account and region.
    let arn = Arn {
        kind: ResourceKind::CacheCluster,
        id: member.cluster_id.clone(),
        ..group.arn.clone()
    };
    let status = group.member_status();
    let apply_status = if settings.parameters_pending_reboot {
        "pending-reboot"
    } else {
        "in-sync"
    };
    let node = CacheNode {
        cache_node_id: "0001",
        cache_node_status: status,
        cache_node_create_time: XmlTime(member.created_at),
        endpoint: member.address.map(Endpoint::at),
        parameter_group_status: apply_status,
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
                .unwrap_or_else(|| default_parameter_group(group)),
            parameter_apply_status: apply_status,
            cache_node_ids_to_reboot: XmlList::new(
                "CacheNodeId",
                match settings.parameters_pending_reboot {
                    true => vec!["0001".to_string()],
                    false => vec![],
                },
            ),
        },
        cache_subnet_group_name: settings.cache_subnet_group_name.clone(),
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
        arn: arn.to_string(),
        replication_group_log_delivery_enabled: false,
        network_type: "ipv4",
        ip_discovery: "ipv4",
    }
}

/// The group AWS reports for a group created without one: the default of its mode.
fn default_parameter_group(group: &ReplicationGroup) -> String {
    match group.cluster_enabled {
        true => "default.redis7.cluster.on".into(),
        false => "default.redis7".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Action;
    use crate::api::test_support::{answer, ctx, query, state_with, whole_page};
    use crate::model::tests::{group, model_with};

    async fn describe(state: &SharedState, raw: &str) -> String {
        answer(
            Action::DescribeCacheClusters,
            run(state, &query(raw), &ctx()).await,
        )
    }

    fn serialized_whole(
        state: &SharedState,
        marker: Option<&str>,
        ids: &[&str],
        nodes: bool,
    ) -> String {
        let model = state.model();
        let shapes = ids
            .iter()
            .map(|id| {
                let group = model.groups().find(|g| g.member(id).is_some()).unwrap();
                cache_cluster(group, group.member(id).unwrap(), nodes)
            })
            .collect();
        whole_page(
            Action::DescribeCacheClusters,
            marker,
            "CacheClusters",
            MEMBER,
            shapes,
        )
    }

    #[tokio::test]
    async fn reused_encodings_read_exactly_as_a_whole_serialization() {
        let groups = (0..8).map(|i| group(&format!("g{i}"), 3, true)).collect();
        let state = state_with(model_with(groups));
        let all: Vec<String> = (0..8)
            .flat_map(|g| (1..=3).map(move |m| format!("g{g}-00{m}")))
            .collect();
        let ids: Vec<&str> = all.iter().map(String::as_str).collect();
        let marker = state.model().pager.issue(LIST, "g6-002");
        for _ in 0..2 {
            let page = describe(&state, "MaxRecords=20").await;
            assert_eq!(
                page,
                serialized_whole(&state, Some(&marker), &ids[..20], false)
            );
            let query = format!("MaxRecords=20&Marker={marker}&ShowCacheNodeInfo=true");
            let rest = describe(&state, &query).await;
            assert_eq!(rest, serialized_whole(&state, None, &ids[20..], true));
        }
        let one = describe(&state, "CacheClusterId=G1-002&ShowCacheNodeInfo=true").await;
        assert_eq!(one, serialized_whole(&state, None, &["g1-002"], true));
    }

    #[tokio::test]
    async fn a_changed_group_is_encoded_again() {
        let state = state_with(model_with(vec![group("rg", 2, true)]));
        let before = describe(&state, "").await;
        assert!(!before.contains("cache.r7g.large"), "{before}");
        state
            .model()
            .group_mut("rg")
            .unwrap()
            .settings
            .cache_node_type = "cache.r7g.large".into();
        let after = describe(&state, "").await;
        assert_eq!(
            after
                .matches("<CacheNodeType>cache.r7g.large</CacheNodeType>")
                .count(),
            2
        );
        assert_eq!(
            after,
            serialized_whole(&state, None, &["rg-001", "rg-002"], false)
        );
    }
}
