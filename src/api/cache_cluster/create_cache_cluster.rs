//! CreateCacheCluster: a standalone cluster (Redis or Valkey: one node; Memcached:
//! `NumCacheNodes` nodes and a configuration endpoint), inserted as `creating` and started in the background;
//! or, with `ReplicationGroupId`, one more replica of a cluster-mode-disabled group.

use chrono::{DateTime, Utc};

use super::cluster_settings;
use super::shape::CacheClusterResult;
use crate::api::tags::parse_tags;
use crate::engine::{ChosenBinary, major_minor};
use crate::model::arn::{Arn, ResourceKind};
use crate::model::cache_cluster::{
    CacheCluster, CacheEngine, CacheNode, ClusterSettings, ClusterStatus, NodeStatus,
};
use crate::model::catalogue::engine_versions;
use crate::model::node_memory::node_start_settings;
use crate::model::parameter_group::ParameterGroup;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};
use crate::workflows::cache_cluster::{self, RedisPlan, StartPlan};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<CacheClusterResult, ApiError> {
    crate::api::input_catalogue::check(params, &ctx.region)?;
    let id = ResourceKind::CacheCluster.parse_id(params.required("CacheClusterId")?)?;
    if let Some(group_id) = params.optional("ReplicationGroupId") {
        return super::add_member::run(state, params, ctx, id, group_id);
    }
    let engine = CacheEngine::parse(params.required("Engine")?)?;
    let seed_rdb = restore_of(state, params, engine)?;
    let count = cluster_settings::node_count(params, engine)?;
    let port = cluster_settings::port(params, engine)?;
    let (zones, preferred_zone, cross_az) =
        cluster_settings::zones(params, engine, count, &ctx.region)?;
    // TLS decides which local binary runs (one built with TLS), and so the default version.
    let needs_tls = crate::api::transit_encryption::parse_create(params)?.is_some();
    let default_version = default_version(state, engine, needs_tls).await?;
    let parameter_group = parse_parameter_group(state, params, ctx, engine)?;
    let mut settings = cluster_settings::parse(
        params,
        engine,
        &default_version,
        parameter_group.as_ref(),
        cross_az,
    )?;
    let version = &settings.engine_version;
    let binary = node_binary(state, params, engine, &id, version, needs_tls).await?;
    if let (Some(binary), true) = (&binary, needs_tls) {
        crate::api::transit_encryption::check_binary(state, engine.as_str(), &binary.path).await?;
    }
    settle_versions(
        params,
        &id,
        engine,
        &mut settings,
        binary.as_ref(),
        &default_version,
    )?;
    let config = node_start_settings(
        parameter_group.as_ref(),
        &settings.stored.cache_node_type,
        (engine.as_str(), &settings.engine_version),
        &ctx.scope(),
    );
    let now = state.now();
    let arn = Arn::new(ResourceKind::CacheCluster, &ctx.scope(), &id);
    let cluster = new_cluster(id, engine, settings, zones, preferred_zone, count, arn, now);
    let response = CacheClusterResult::standalone(&cluster);
    let plan = start_plan(binary, &cluster, config, count, port, seed_rdb);
    let cluster_id = cluster.id.clone();
    state
        .model()
        .insert_cache_cluster(cluster, &parse_tags(params)?)?;
    tracing::info!(cluster = %cluster_id, engine = engine.as_str(), nodes = count, "creating cache cluster");
    tokio::spawn(cache_cluster::start(state.clone(), cluster_id, plan, false));
    Ok(response)
}

/// The version the nodes run (the chosen binary's; Memcached's is the installed one), and a
/// Memcached cluster's `CacheParameterGroupName`, which names one of its default groups.
fn settle_versions(
    params: &QueryParams,
    id: &str,
    engine: CacheEngine,
    settings: &mut ClusterSettings,
    binary: Option<&ChosenBinary>,
    default_version: &str,
) -> Result<(), ApiError> {
    settings.running_engine_version = match binary {
        Some(binary) => binary.version.clone(),
        None => {
            say_if_memcached_differs(id, &settings.engine_version, default_version);
            default_version.to_string()
        }
    };
    if engine == CacheEngine::Memcached {
        // Its default groups are not modelled as parameter groups: the name is checked here.
        settings.cache_parameter_group_name = params
            .optional("CacheParameterGroupName")
            .map(|name| memcached_default_group(name, &settings.engine_version))
            .transpose()?;
    }
    Ok(())
}

/// How the background workflow starts the new cluster's nodes: a Redis or Valkey node with
/// the cluster's password, TLS mode and parameter group settings, or Memcached nodes.
fn start_plan(
    binary: Option<ChosenBinary>,
    cluster: &CacheCluster,
    config: Vec<(String, String)>,
    count: usize,
    port: u16,
    seed_rdb: Option<std::path::PathBuf>,
) -> StartPlan {
    match binary {
        Some(binary) => StartPlan::Redis(RedisPlan {
            binary: binary.path,
            password: cluster.settings.auth_token.clone(),
            tls: (cluster.settings.transit_encryption_mode)
                .map(crate::api::transit_encryption::engine_mode),
            config,
            port,
            seed_rdb,
            previous: None,
        }),
        None => StartPlan::Memcached {
            count,
            port,
            previous: None,
        },
    }
}

/// `SnapshotName` or `SnapshotArns`: the one RDB the node starts from (a snapshot of a
/// cluster-mode-disabled group or of a standalone cluster: one node group). Memcached keeps no
/// data to restore.
fn restore_of(
    state: &SharedState,
    params: &QueryParams,
    engine: CacheEngine,
) -> Result<Option<std::path::PathBuf>, ApiError> {
    let rdbs = crate::api::snapshot_restore::parse(state, params)?;
    if !rdbs.is_empty() && engine.is_memcached() {
        return Err(ApiError::InvalidParameterCombination(
            "Snapshots are only available for Redis and Valkey cache clusters, not memcached."
                .into(),
        ));
    }
    if rdbs.len() > 1 {
        return Err(ApiError::InvalidParameterCombination(format!(
            "A cache cluster restores from one RDB file (a snapshot of one node group); this restore has {}.",
            rdbs.len()
        )));
    }
    Ok(rdbs.into_iter().next())
}

/// What the binary behind the engine is (the default `EngineVersion`). Without memcached
/// installed no Memcached cluster can be had here; without a valkey-server no Valkey one
/// (the refusal says how to get one, as for a group).
async fn default_version(
    state: &SharedState,
    engine: CacheEngine,
    needs_tls: bool,
) -> Result<String, ApiError> {
    match engine {
        CacheEngine::Redis | CacheEngine::Valkey => state
            .engine
            .choose_binary(engine.as_str(), None, needs_tls)
            .await
            .map(|binary| binary.version)
            .map_err(|error| ApiError::InvalidParameterValue(error.to_string())),
        CacheEngine::Memcached => state.engine.memcached_version().await.map_err(|reason| {
            ApiError::InsufficientCacheClusterCapacity(format!(
                "elasticache-local cannot run memcached here: {reason}"
            ))
        }),
    }
}

/// The binary a Redis or Valkey node runs (`None` for Memcached), chosen as a group's is: of
/// the engine and the major.minor of `version` when `EngineVersion` was given, else the
/// closest of the engine, which the log says once (the dashboard shows both versions).
async fn node_binary(
    state: &SharedState,
    params: &QueryParams,
    engine: CacheEngine,
    cluster_id: &str,
    version: &str,
    needs_tls: bool,
) -> Result<Option<ChosenBinary>, ApiError> {
    if engine.is_memcached() {
        return Ok(None);
    }
    let wanted = params
        .optional("EngineVersion")
        .and_then(|_| major_minor(version));
    let engine = engine.as_str();
    let binary = state
        .engine
        .choose_binary(engine, wanted, needs_tls)
        .await
        .map_err(|error| ApiError::InvalidParameterValue(error.to_string()))?;
    if let (false, Some((major, minor))) = (binary.exact, wanted) {
        tracing::warn!(
            cluster = %cluster_id,
            "{engine} {version} requested, running {engine} {}: no local {engine} {major}.{minor} binary (pass --engine-binary {engine}:{major}.{minor}=PATH to run one)",
            binary.version,
        );
    }
    Ok(Some(binary))
}

/// There is one local memcached: a cluster asking for another major.minor runs it anyway, and
/// the log says so plainly (the dashboard shows both versions).
fn say_if_memcached_differs(cluster_id: &str, requested: &str, running: &str) {
    if major_minor(requested) != major_minor(running) {
        tracing::warn!(
            cluster = %cluster_id,
            "memcached {requested} requested, running memcached {running}: the local memcached is the only one (set ELASTICACHE_LOCAL_MEMCACHED=PATH to run another)",
        );
    }
}

/// `CacheParameterGroupName`, when given: a Redis or Valkey group must exist in this scope;
/// for Memcached only its `default.memcached*` groups are known.
fn parse_parameter_group(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
    engine: CacheEngine,
) -> Result<Option<ParameterGroup>, ApiError> {
    let Some(name) = params.optional("CacheParameterGroupName") else {
        return Ok(None);
    };
    let memcached_default = name.to_ascii_lowercase().starts_with("default.memcached");
    match (engine, memcached_default) {
        (CacheEngine::Memcached, true) => Ok(None),
        (CacheEngine::Redis | CacheEngine::Valkey, true) => {
            Err(ApiError::InvalidParameterCombination(format!(
                "Cache parameter group {name} is a memcached group; a {} cache cluster needs a {} one.",
                engine.display_name(),
                engine.as_str()
            )))
        }
        _ => state.model().parameter_group(name, &ctx.scope()).map(Some),
    }
}

/// A Memcached cluster's `CacheParameterGroupName`: one of the `default.memcached1.x` groups
/// (their values are memcached's own defaults), of the family of the cluster's version, as AWS
/// checks; any other name is a group that does not exist here.
fn memcached_default_group(name: &str, engine_version: &str) -> Result<String, ApiError> {
    let name = name.to_ascii_lowercase();
    let family = name
        .strip_prefix("default.")
        .filter(|family| engine_versions::MEMCACHED_FAMILIES.contains(family))
        .ok_or_else(|| {
            ApiError::CacheParameterGroupNotFound(format!("CacheParameterGroup {name} not found."))
        })?;
    // From major.minor, not the catalogue: the local memcached's version (the default) may be
    // one AWS does not list.
    let expected = match major_minor(engine_version) {
        Some((major, minor)) => format!("memcached{major}.{minor}"),
        None => return Ok(name),
    };
    match engine_versions::family_mismatch(&expected, family) {
        Some(error) => Err(error),
        None => Ok(name),
    }
}

#[allow(clippy::too_many_arguments)]
fn new_cluster(
    id: String,
    engine: CacheEngine,
    settings: ClusterSettings,
    zones: Vec<String>,
    preferred_availability_zone: String,
    count: usize,
    arn: Arn,
    now: DateTime<Utc>,
) -> CacheCluster {
    let nodes = (0..count)
        .map(|n| CacheNode {
            id: format!("{:04}", n + 1),
            status: NodeStatus::Creating,
            created_at: now,
            address: None,
            availability_zone: zones[n % zones.len()].clone(),
            pending_reboot: false,
        })
        .collect();
    CacheCluster {
        id,
        status: ClusterStatus::Creating,
        engine,
        settings,
        nodes,
        preferred_availability_zone,
        zones,
        configuration_address: None,
        arn,
        created_at: now,
        pending: None,
        deferred_nodes: None,
        deferred_node_type: None,
        revision: 0,
    }
}
