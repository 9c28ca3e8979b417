//! ModifyCacheCluster of a standalone cluster: stored settings change at once, a new parameter
//! group's values reach the Redis node, and a Memcached cluster really grows or shrinks
//! (`NumCacheNodes`, `CacheNodeIdsToRemove`, `NewAvailabilityZones`) while it is `modifying`:
//! at once with `ApplyImmediately=true`, else (AWS's default) at the cluster's maintenance
//! window, reported as `PendingModifiedValues` until then (`workflows::cluster_maintenance`).
//! `CacheNodeType` likewise: recorded at once or at the window (the nodes' memory does not
//! follow it).

use super::shape::CacheClusterResult;
use crate::model::cache_cluster::{
    CacheCluster, CacheEngine, ClusterStatus, MAX_MEMCACHED_NODES, PendingNodes,
};
use crate::model::parameter_group::ParameterGroup;
use crate::model::resource::Resource;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};
use crate::workflows::{
    cache_cluster, cluster_maintenance as cache_cluster_maintenance, node_memory,
};

/// Parameters that would change what runs (or how it is reached) and have no local equivalent.
const UNSUPPORTED: [&str; 5] = [
    "AuthToken",
    "AuthTokenUpdateStrategy",
    "Engine",
    "LogDeliveryConfigurations",
    "ScaleConfig",
];

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<CacheClusterResult, ApiError> {
    crate::api::input_catalogue::check(params, &ctx.region)?;
    let raw_id = params.required("CacheClusterId")?;
    // AWS defers a node-count change to the maintenance window unless told otherwise.
    let apply_immediately = params.bool("ApplyImmediately")?.unwrap_or(false);
    let cluster = modifiable_cluster(state, params, raw_id)?;
    let node_change = parse_node_change(params, &cluster)?;
    let parameter_group = parse_parameter_group(state, params, &cluster, ctx)?;
    if let Some(version) = params.optional("EngineVersion")
        && version != cluster.settings.engine_version
    {
        return Err(ApiError::InvalidParameterValue(format!(
            "elasticache-local runs one engine version; {version} cannot replace {}.",
            cluster.settings.engine_version
        )));
    }
    let mut updated = store_settings(state, params, raw_id, parameter_group.as_ref())?;
    if let Some(group) = &parameter_group {
        apply_parameter_group(state, &updated.id, group).await;
    }
    let node_type = params.optional("CacheNodeType");
    if let Some(node_type) = node_type {
        let mut model = state.model();
        updated = match apply_immediately {
            true => model.set_cluster_node_type(raw_id, node_type)?,
            false => model.defer_cluster_node_type(raw_id, node_type)?,
        };
    }
    if parameter_group.is_some() || (node_type.is_some() && apply_immediately) {
        // The node's maxmemory follows its node type and the new group's reservation.
        node_memory::apply_to_cache_cluster(state, &updated.id).await;
    }
    let deferred = !apply_immediately && (node_type.is_some() || node_change.is_some());
    match node_change {
        None => {}
        Some((pending, _)) if !apply_immediately => {
            updated = state.model().defer_node_change(raw_id, pending)?;
        }
        Some((pending, add)) => return start_node_change(state, raw_id, pending, add),
    }
    if deferred {
        tracing::info!(cluster = %updated.id, "change deferred to the maintenance window");
        cache_cluster_maintenance::watch(state.clone(), updated.id.clone());
    }
    Ok(CacheClusterResult::standalone(&updated))
}

/// The cluster `raw_id`, when the request may modify it: a standalone cluster (a group's member
/// is modified through its group), no member refused here, and `available`.
fn modifiable_cluster(
    state: &SharedState,
    params: &QueryParams,
    raw_id: &str,
) -> Result<CacheCluster, ApiError> {
    if let Some(group) = state
        .model()
        .groups()
        .find(|g| g.member(&raw_id.to_ascii_lowercase()).is_some())
    {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Cache cluster {raw_id} is a member of replication group {}: modify the replication group instead.",
            group.id
        )));
    }
    crate::api::group_settings::refuse_cache_security_groups(params)?;
    if let Some(name) = UNSUPPORTED.iter().find(|n| params.has(n)) {
        return Err(ApiError::InvalidParameterValue(format!(
            "elasticache-local does not support changing {name} of a cache cluster."
        )));
    }
    let cluster = state.model().cache_cluster(raw_id)?.clone();
    if cluster.status != ClusterStatus::Available {
        // Checked before any setting changes, so a refused request changes nothing.
        return Err(cluster.invalid_state(ClusterStatus::Modifying));
    }
    Ok(cluster)
}

/// `CacheParameterGroupName`: a Redis/Valkey cluster's new group; a Memcached one keeps its
/// family's default.
fn parse_parameter_group(
    state: &SharedState,
    params: &QueryParams,
    cluster: &CacheCluster,
    ctx: &RequestContext,
) -> Result<Option<ParameterGroup>, ApiError> {
    Ok(match params.optional("CacheParameterGroupName") {
        Some(name) if !cluster.engine.is_memcached() => {
            Some(state.model().parameter_group(name, &ctx.scope())?)
        }
        Some(name) => {
            return Err(ApiError::InvalidParameterCombination(format!(
                "Cache parameter group {name}: only the default group serves a Memcached cluster here."
            )));
        }
        None => None,
    })
}

/// A node-count change applied at once: the cluster `modifying` until the nodes changed.
fn start_node_change(
    state: &SharedState,
    raw_id: &str,
    pending: PendingNodes,
    add: usize,
) -> Result<CacheClusterResult, ApiError> {
    let remove = pending.to_remove.clone();
    let cluster = {
        let mut model = state.model();
        // The newer change replaces a deferred one, as on AWS.
        model.cache_cluster_mut(raw_id)?.deferred_nodes = None;
        model.begin_node_change(raw_id, pending)?
    };
    tracing::info!(cluster = %cluster.id, add, ?remove, "changing cache cluster nodes");
    tokio::spawn(cache_cluster::change_nodes(
        state.clone(),
        cluster.id.clone(),
        add,
        remove,
    ));
    Ok(CacheClusterResult::standalone(&cluster))
}

/// `NumCacheNodes` and `CacheNodeIdsToRemove` as AWS checks them: one node for Redis; for
/// Memcached 1-40, and the ids to remove are exactly the nodes fewer. The pending change and
/// the number of nodes to add; `None` when the count stays.
fn parse_node_change(
    params: &QueryParams,
    cluster: &CacheCluster,
) -> Result<Option<(PendingNodes, usize)>, ApiError> {
    let to_remove = params.list("CacheNodeIdsToRemove", "CacheNodeId")?;
    let zones = params.list("NewAvailabilityZones", "PreferredAvailabilityZone")?;
    if let Some(mode) = params.optional("AZMode")
        && !cluster.engine.is_memcached()
    {
        return Err(ApiError::InvalidParameterValue(format!(
            "AZMode {mode} is only valid for Memcached cache clusters."
        )));
    }
    let current = cluster.nodes.len();
    let Some(target) = params.int_in("NumCacheNodes", i64::MIN, i64::MAX)? else {
        if !to_remove.is_empty() || !zones.is_empty() {
            return Err(ApiError::InvalidParameterCombination(
                "CacheNodeIdsToRemove and NewAvailabilityZones need NumCacheNodes.".into(),
            ));
        }
        return Ok(None);
    };
    if target < 1 {
        return Err(ApiError::InvalidParameterValue(format!(
            "NumCacheNodes must be at least 1; {target} was given."
        )));
    }
    let target = target as usize;
    match cluster.engine {
        CacheEngine::Redis | CacheEngine::Valkey if target != 1 => {
            return Err(ApiError::InvalidParameterCombination(format!(
                "A {} cache cluster has exactly one node; NumCacheNodes {target} is not possible: use a replication group for replicas.",
                cluster.engine.display_name()
            )));
        }
        CacheEngine::Redis | CacheEngine::Valkey => return Ok(None),
        CacheEngine::Memcached if target > MAX_MEMCACHED_NODES => {
            return Err(ApiError::NodeQuotaForClusterExceeded(format!(
                "Cannot grow cache cluster {} to {target} nodes: the quota is {MAX_MEMCACHED_NODES} nodes per cluster.",
                cluster.id
            )));
        }
        CacheEngine::Memcached => {}
    }
    check_removal(cluster, current, target, &to_remove)?;
    let add = target.saturating_sub(current);
    if !zones.is_empty() && zones.len() != add {
        return Err(ApiError::InvalidParameterCombination(format!(
            "The number of NewAvailabilityZones ({}) must equal the number of nodes added ({add}).",
            zones.len()
        )));
    }
    if target == current {
        return Ok(None);
    }
    let pending = PendingNodes {
        num_cache_nodes: target,
        to_remove,
        new_zones: zones,
    };
    Ok(Some((pending, add)))
}

fn check_removal(
    cluster: &CacheCluster,
    current: usize,
    target: usize,
    to_remove: &[String],
) -> Result<(), ApiError> {
    if let Some(unknown) = to_remove.iter().find(|id| cluster.node(id).is_none()) {
        return Err(ApiError::InvalidParameterValue(format!(
            "Cache node {unknown} does not exist in cache cluster {}.",
            cluster.id
        )));
    }
    if target < current && to_remove.len() != current - target {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Removing {} nodes from {current} needs exactly that many CacheNodeIdsToRemove ({} given).",
            current - target,
            to_remove.len()
        )));
    }
    if target >= current && !to_remove.is_empty() {
        return Err(ApiError::InvalidParameterCombination(format!(
            "CacheNodeIdsToRemove is only valid when NumCacheNodes ({target}) is below the current count ({current})."
        )));
    }
    Ok(())
}

/// The settings stored as given; the cluster as it now is.
fn store_settings(
    state: &SharedState,
    params: &QueryParams,
    raw_id: &str,
    parameter_group: Option<&ParameterGroup>,
) -> Result<CacheCluster, ApiError> {
    let retention = params.int_in("SnapshotRetentionLimit", 0, 35)?;
    let security_groups = params.list("SecurityGroupIds", "SecurityGroupId")?;
    let auto_minor = params.bool("AutoMinorVersionUpgrade")?;
    let topic_status = params.optional("NotificationTopicStatus");
    let cross_az = match params.optional("AZMode") {
        None => None,
        Some("cross-az") => Some(true),
        Some("single-az") => Some(false),
        Some(other) => {
            return Err(crate::protocol::query::invalid_value(
                "AZMode",
                other,
                "single-az or cross-az",
            ));
        }
    };
    if let Some(status) = topic_status.filter(|s| !matches!(*s, "active" | "inactive")) {
        return Err(crate::protocol::query::invalid_value(
            "NotificationTopicStatus",
            status,
            "active or inactive",
        ));
    }
    let mut model = state.model();
    let cluster = model.cache_cluster_mut(raw_id)?;
    let settings = &mut cluster.settings;
    let text = |name: &str| params.optional(name).map(str::to_string);
    if let Some(window) = text("PreferredMaintenanceWindow") {
        settings.stored.preferred_maintenance_window = Some(window);
    }
    if let Some(topic) = text("NotificationTopicArn") {
        settings.stored.notification_topic_arn = Some(topic);
        settings.stored.notification_topic_status = Some("active".into());
    }
    if let Some(status) = topic_status {
        settings.stored.notification_topic_status = Some(status.to_string());
    }
    if let Some(window) = text("SnapshotWindow") {
        settings.stored.snapshot_window = Some(window);
    }
    if let Some(limit) = retention {
        settings.stored.snapshot_retention_limit = limit;
    }
    if !security_groups.is_empty() {
        settings.stored.security_group_ids = security_groups;
    }
    if let Some(auto_minor) = auto_minor {
        settings.stored.auto_minor_version_upgrade = auto_minor;
    }
    if let Some(group) = parameter_group {
        settings.cache_parameter_group_name = Some(group.name.clone());
    }
    if let Some(cross_az) = cross_az {
        set_az_mode(cluster, cross_az);
    }
    Ok(cluster.clone())
}

/// `AZMode`: cross-az reports `Multiple` and places new nodes over three zones in turn.
fn set_az_mode(cluster: &mut CacheCluster, cross_az: bool) {
    cluster.settings.cross_az = cross_az;
    cluster.preferred_availability_zone = match cross_az {
        true => "Multiple".into(),
        false => cluster.zones[0].clone(),
    };
    if cross_az && cluster.zones.len() == 1 {
        let region = cluster.arn.region.clone();
        cluster.zones = ["a", "b", "c"]
            .iter()
            .map(|s| format!("{region}{s}"))
            .collect();
    }
}

/// The new group's values on the running Redis node (`CONFIG SET`); a refusal is logged.
async fn apply_parameter_group(state: &SharedState, cluster_id: &str, group: &ParameterGroup) {
    let settings = group.non_default_settings();
    let Ok(handle) = state.engine.cache_cluster(cluster_id) else {
        return; // still being created: it started with its old group's values
    };
    if let Err(error) = handle.lock().await.apply_config(&settings).await {
        tracing::error!(cluster = %cluster_id, parameter_group = %group.name, %error, "a node refused a parameter");
    }
}
