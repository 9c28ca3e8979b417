//! CreateReplicationGroup (cluster mode disabled): validate everything, insert the group as
//! `creating`, answer, then start the real nodes in the background.

use std::time::{Duration, Instant};

use crate::engine::GroupSpec;
use crate::model::group::{Endpoints, GroupSettings, GroupStatus, Member, ReplicationGroup, Role};
use crate::model::ids::ReplicationGroupId;
use crate::protocol::query::invalid_value;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

use super::shapes::ReplicationGroupResult;

const AZ_SUFFIXES: [char; 6] = ['a', 'b', 'c', 'd', 'e', 'f'];

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<ReplicationGroupResult, ApiError> {
    let default_version = state.engine.redis_version().await;
    let group = parse_group(state, params, ctx, &default_version)?;
    let response = ReplicationGroupResult::from_model(&group);
    let spec = GroupSpec {
        group_id: group.id.to_string(),
        members: group.members.iter().map(|m| m.cluster_id.clone()).collect(),
        password: group.settings.auth_token.clone(),
    };
    state.model().insert_group(group)?;
    tracing::info!(group = %spec.group_id, nodes = spec.members.len(), "creating replication group");
    tokio::spawn(start_nodes(state.clone(), spec));
    Ok(response)
}

async fn start_nodes(state: SharedState, spec: GroupSpec) {
    let group_id = spec.group_id.clone();
    match state.engine.start_group(spec).await {
        Ok(started) => {
            let endpoints = Endpoints {
                primary_port: started.primary_port,
                reader_port: started.reader_port,
            };
            let kept =
                state
                    .model()
                    .finish_create(&group_id, &started.node_ports, endpoints, state.now());
            if kept {
                crate::workflows::health::spawn(state.clone(), group_id);
            } else {
                // The group was reset away while its nodes started.
                state.engine.stop_group(&group_id).await;
            }
        }
        Err(error) => {
            tracing::error!(group = %group_id, %error, "replication group could not be created");
            state
                .model()
                .fail_create(&group_id, error.to_string(), state.now());
        }
    }
}

/// Waits until a group has left `creating` (used for fixtures, before the server says it is
/// ready). Returns its status then.
pub async fn wait_until_settled(
    state: &SharedState,
    group_id: &str,
    deadline: Duration,
) -> Option<GroupStatus> {
    let until = Instant::now() + deadline;
    loop {
        let status = state.model().group(group_id).ok().map(|g| g.status);
        if status != Some(GroupStatus::Creating) || Instant::now() > until {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn parse_group(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
    default_version: &str,
) -> Result<ReplicationGroup, ApiError> {
    let id = ReplicationGroupId::parse(params.required("ReplicationGroupId")?)?;
    let description = params.required("ReplicationGroupDescription")?.to_string();
    reject_unsupported(params)?;
    let node_count = node_count(params)?;
    let automatic_failover = params.bool("AutomaticFailoverEnabled")?.unwrap_or(false);
    let multi_az = params.bool("MultiAZEnabled")?.unwrap_or(false);
    if automatic_failover && node_count < 2 {
        return Err(ApiError::InvalidParameterCombination(
            "When using automatic failover, there must be at least 2 cache clusters in the replication group.".into(),
        ));
    }
    if multi_az && !automatic_failover {
        return Err(ApiError::InvalidParameterCombination(
            "Multi-AZ requires automatic failover to be enabled.".into(),
        ));
    }
    let zones = availability_zones(params, node_count, &ctx.region)?;
    let now = state.now();
    let members = zones
        .into_iter()
        .enumerate()
        .map(|(index, zone)| Member {
            cluster_id: id.member_id(index),
            role: if index == 0 {
                Role::Primary
            } else {
                Role::Replica
            },
            availability_zone: zone,
            port: None,
            created_at: now,
        })
        .collect();
    let auth_token = params
        .optional("AuthToken")
        .map(parse_auth_token)
        .transpose()?;
    let settings = GroupSettings {
        description,
        cache_node_type: params
            .optional("CacheNodeType")
            .unwrap_or("cache.t4g.micro")
            .to_string(),
        engine: parse_engine(params)?,
        engine_version: params
            .optional("EngineVersion")
            .unwrap_or(default_version)
            .to_string(),
        automatic_failover,
        multi_az,
        tags: parse_tags(params)?,
        snapshot_retention_limit: params.int_in("SnapshotRetentionLimit", 0, 35)?.unwrap_or(0),
        snapshot_window: params.optional("SnapshotWindow").map(str::to_string),
        transit_encryption: params.bool("TransitEncryptionEnabled")?.unwrap_or(false),
        at_rest_encryption: params.bool("AtRestEncryptionEnabled")?.unwrap_or(false),
        auto_minor_version_upgrade: params.bool("AutoMinorVersionUpgrade")?.unwrap_or(true),
        auth_token,
        snapshotting_cluster_id: None,
        preferred_maintenance_window: params
            .optional("PreferredMaintenanceWindow")
            .map(str::to_string),
        notification_topic_arn: params.optional("NotificationTopicArn").map(str::to_string),
        notification_topic_status: params
            .optional("NotificationTopicArn")
            .map(|_| "active".to_string()),
        cache_parameter_group_name: params
            .optional("CacheParameterGroupName")
            .map(str::to_string),
        security_group_ids: params.list("SecurityGroupIds", "SecurityGroupId")?,
    };
    let _ = params.int_in("Port", 1, 65535)?; // validated, then ignored: nodes get free ports
    Ok(ReplicationGroup {
        arn: format!(
            "arn:aws:elasticache:{}:{}:replicationgroup:{id}",
            ctx.region, state.settings.account_id
        ),
        auth_token_last_modified: settings.auth_token.as_ref().map(|_| now),
        id,
        status: GroupStatus::Creating,
        settings,
        members,
        endpoints: None,
        created_at: now,
        failover_in_flight: false,
        pending: None,
    })
}

/// Cluster mode enabled and features with no local equivalent are refused up front, so a
/// caller never gets a group that silently differs from what it asked for.
fn reject_unsupported(params: &QueryParams) -> Result<(), ApiError> {
    let cluster_mode = params
        .optional("ClusterMode")
        .is_some_and(|m| m.eq_ignore_ascii_case("enabled"))
        || params.int_in("NumNodeGroups", 1, 500)?.unwrap_or(1) > 1
        || params
            .optional("CacheParameterGroupName")
            .is_some_and(|p| p.ends_with(".cluster.on"))
        || params
            .struct_list("NodeGroupConfiguration", "NodeGroupConfiguration")?
            .len()
            > 1;
    if cluster_mode {
        return Err(ApiError::InvalidParameterValue(
            "elasticache-local does not support cluster mode enabled yet; create a group with one node group.".into(),
        ));
    }
    if let Some(cluster) = params.optional("PrimaryClusterId") {
        return Err(ApiError::cache_cluster_not_found(cluster));
    }
    if params.optional("GlobalReplicationGroupId").is_some() {
        return Err(ApiError::InvalidParameterValue(
            "elasticache-local does not support global datastores (GlobalReplicationGroupId)."
                .into(),
        ));
    }
    Ok(())
}

/// `NumCacheClusters` (1-6), or `ReplicasPerNodeGroup` / one `NodeGroupConfiguration`'s
/// `ReplicaCount` (0-5) plus the primary.
fn node_count(params: &QueryParams) -> Result<usize, ApiError> {
    let clusters = params.int_in("NumCacheClusters", 1, 6)?;
    let node_groups = params.struct_list("NodeGroupConfiguration", "NodeGroupConfiguration")?;
    let replicas = match (
        params.int_in("ReplicasPerNodeGroup", 0, 5)?,
        node_groups.first(),
    ) {
        (Some(n), _) => Some(n),
        (None, Some(config)) => config.int_in("ReplicaCount", 0, 5)?,
        (None, None) => None,
    };
    match (clusters, replicas) {
        (Some(c), Some(r)) if c != r + 1 => Err(ApiError::InvalidParameterCombination(format!(
            "NumCacheClusters ({c}) and ReplicasPerNodeGroup ({r}) disagree: a node group of {c} cache clusters has {} replicas.",
            c - 1
        ))),
        (Some(c), _) => Ok(c as usize),
        (None, Some(r)) => Ok(r as usize + 1),
        (None, None) => Ok(1),
    }
}

fn availability_zones(
    params: &QueryParams,
    count: usize,
    region: &str,
) -> Result<Vec<String>, ApiError> {
    let given = params.list("PreferredCacheClusterAZs", "AvailabilityZone")?;
    if given.is_empty() {
        return Ok((0..count)
            .map(|i| format!("{region}{}", AZ_SUFFIXES[i % AZ_SUFFIXES.len()]))
            .collect());
    }
    if given.len() != count {
        return Err(ApiError::InvalidParameterCombination(format!(
            "The number of PreferredCacheClusterAZs ({}) must equal the number of cache clusters ({count}).",
            given.len()
        )));
    }
    Ok(given)
}

fn parse_engine(params: &QueryParams) -> Result<String, ApiError> {
    match params.optional("Engine") {
        None => Ok("redis".into()),
        Some(engine)
            if engine.eq_ignore_ascii_case("redis") || engine.eq_ignore_ascii_case("valkey") =>
        {
            Ok(engine.to_ascii_lowercase())
        }
        Some(other) => Err(invalid_value("Engine", other, "redis or valkey")),
    }
}

/// AWS's rules for an AUTH token: 16-128 printable ASCII characters, none of `@`, `"`, `/`.
pub(super) fn parse_auth_token(token: &str) -> Result<String, ApiError> {
    let printable = token
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '@' | '"' | '/'));
    if !(16..=128).contains(&token.len()) || !printable {
        return Err(ApiError::InvalidParameterValue(
            "Invalid AuthToken: it must be 16 to 128 printable characters and cannot contain '@', '\"' or '/'.".into(),
        ));
    }
    Ok(token.to_string())
}

fn parse_tags(params: &QueryParams) -> Result<Vec<(String, String)>, ApiError> {
    params
        .struct_list("Tags", "Tag")?
        .into_iter()
        .map(|tag| {
            let key = tag.required("Key")?.to_string();
            Ok((key, tag.optional("Value").unwrap_or("").to_string()))
        })
        .collect()
}
