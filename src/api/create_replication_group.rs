//! CreateReplicationGroup: validate everything, insert the group as `creating`, answer, then
//! start the real nodes in the background: a primary and its replicas (cluster mode disabled)
//! or a Redis Cluster of shards (cluster mode enabled, parsed in `cluster_layout`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::cluster_layout::{
    ShardLayout, availability_zones, node_count, parse_shards, wants_cluster_mode,
};
use super::snapshot_restore;
use super::tags::parse_tags;
use super::{group_settings, transit_encryption};
use crate::engine::binaries::ENGINES;
use crate::engine::{ChosenBinary, ClusterSpec, GroupSpec, ShardSpec, major_minor};
use crate::model::arn::{Arn, ResourceKind};
use crate::model::group::{
    Endpoints, GroupStatus, Member, NodeGroupLayout, ReplicationGroup, Role,
};
use crate::model::ids::ReplicationGroupId;
use crate::model::node_memory::node_start_settings;
use crate::model::parameter_group::ParameterGroup;
use crate::model::tags::Tag;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

use super::shapes::ReplicationGroupResult;

pub(super) const AZ_SUFFIXES: [char; 6] = ['a', 'b', 'c', 'd', 'e', 'f'];

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<ReplicationGroupResult, ApiError> {
    super::input_catalogue::check(params, &ctx.region)?;
    let params = &snapshot_restore::with_snapshot_layout(state, params)?;
    let rdbs = snapshot_restore::parse(state, params)?;
    // TLS decides which local binary runs (one built with TLS), and so the default version.
    let needs_tls = transit_encryption::parse_create(params)?.is_some();
    let local_defaults = local_default_versions(state, needs_tls).await;
    let local_default = |engine: &str| {
        let found = local_defaults.iter().find(|(e, _)| *e == engine);
        found.map(|(_, version)| version.clone())
    };
    let parameter_group = parse_parameter_group(state, params, ctx)?;
    let (mut group, shards) =
        parse_group(state, params, ctx, local_default, parameter_group.as_ref())?;
    let port = requested_port(params)?;
    let binary = choose_binary(state, params, &group).await?;
    group.settings.running_engine_version = binary.version.clone();
    let tls = transit_encryption::checked_mode(state, &group.settings, &binary.path).await?;
    // A new node runs with every value its group sets (nothing needs a reboot yet), and with
    // the family defaults where ElastiCache's differ from the engine's, and its node type's
    // memory as `maxmemory`.
    let config = node_start_settings(
        parameter_group.as_ref(),
        &group.settings.stored.cache_node_type,
        (&group.settings.engine, &group.settings.engine_version),
        &ctx.scope(),
    );
    let response = ReplicationGroupResult::from_model(&group);
    let plan = match shards {
        None => StartPlan::Replicated(GroupSpec {
            group_id: group.id.to_string(),
            members: group.members.iter().map(|m| m.cluster_id.clone()).collect(),
            password: group.settings.auth_token.clone(),
            port,
            binary: binary.path,
            seed_rdb: snapshot_restore::single_rdb(rdbs)?,
            tls,
            previous: None,
        }),
        Some(shards) => {
            let shards: Vec<_> = (shards.iter())
                .map(|s| (s.node_group_id.clone(), s.slots.clone()))
                .collect();
            StartPlan::Cluster(ClusterSpec {
                seed_rdbs: rdbs,
                ..cluster_spec(&group, &shards, port, binary.path, tls)
            })
        }
    };
    let (group_id, nodes) = (group.id.to_string(), group.members.len());
    let tags = parse_tags(params)?;
    insert_checked(state, group, &tags, ctx)?;
    tracing::info!(group = %group_id, nodes, cluster_mode = matches!(plan, StartPlan::Cluster(_)), "creating replication group");
    tokio::spawn(start_nodes(state.clone(), group_id, plan, config, false));
    Ok(response)
}

/// Inserts the group with its tags, which reach its members too (the API reference's `Tag`:
/// "replicated to all nodes"), once its subnet group is known to exist, under one lock.
fn insert_checked(
    state: &SharedState,
    group: ReplicationGroup,
    tags: &[Tag],
    ctx: &RequestContext,
) -> Result<(), ApiError> {
    let mut model = state.model();
    model.subnet_group(&group.settings.stored.cache_subnet_group_name)?;
    if let Some(taken) = group
        .members
        .iter()
        .find(|m| model.cache_cluster(&m.cluster_id).is_ok())
    {
        return Err(ApiError::CacheClusterAlreadyExists(format!(
            "Cache cluster {} already exists.",
            taken.cluster_id
        )));
    }
    for id in &group.settings.user_group_ids {
        model.user_group(id)?;
    }
    super::iam_users::check_group(&model, &group, &group.settings.user_group_ids)?;
    let members: Vec<Arn> = group
        .members
        .iter()
        .map(|m| Arn::new(ResourceKind::CacheCluster, &ctx.scope(), &m.cluster_id))
        .collect();
    model.insert_group_with_tags(group, tags)?;
    for member in &members {
        model.tags.add(member, tags)?;
    }
    Ok(())
}

/// `CacheParameterGroupName`, when given: it must exist in this scope (`default.*` always do).
fn parse_parameter_group(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<Option<ParameterGroup>, ApiError> {
    params
        .optional("CacheParameterGroupName")
        .map(|name| state.model().parameter_group(name, &ctx.scope()))
        .transpose()
}

/// What the engine is asked to start.
pub(crate) enum StartPlan {
    Replicated(GroupSpec),
    Cluster(ClusterSpec),
}

/// `Port`: what every node and endpoint of the group listens on (AWS's default, 6379, unless
/// asked otherwise); each has its own loopback address, so the port repeats.
fn requested_port(params: &QueryParams) -> Result<u16, ApiError> {
    let port = params.int_in("Port", 1, 65535)?;
    Ok(port.map_or(DEFAULT_PORT, |port| port as u16))
}

const DEFAULT_PORT: u16 = 6379;

/// The cluster the engine starts for `group`: each shard (node group id and slot ranges) with
/// its members, the primary first (the engine starts each shard's first member as its primary).
pub(crate) fn cluster_spec(
    group: &ReplicationGroup,
    shards: &[(String, Vec<(u32, u32)>)],
    port: u16,
    binary: PathBuf,
    tls: Option<crate::engine::TlsMode>,
) -> ClusterSpec {
    ClusterSpec {
        group_id: group.id.to_string(),
        shards: shards
            .iter()
            .map(|(node_group_id, slots)| {
                let mut members: Vec<&Member> = (group.members.iter())
                    .filter(|m| &m.node_group == node_group_id)
                    .collect();
                members.sort_by_key(|m| m.role != Role::Primary);
                ShardSpec {
                    node_group_id: node_group_id.clone(),
                    slots: slots.clone(),
                    members: members.iter().map(|m| m.cluster_id.clone()).collect(),
                }
            })
            .collect(),
        password: group.settings.auth_token.clone(),
        port,
        binary,
        seed_rdbs: Vec::new(),
        tls,
        previous: None,
    }
}

/// The version each engine's default local binary runs (`unknown` if unknown), learned once.
async fn local_default_versions(
    state: &SharedState,
    needs_tls: bool,
) -> Vec<(&'static str, String)> {
    let mut versions = Vec::new();
    for (engine, _) in ENGINES {
        if let Ok(binary) = state.engine.choose_binary(engine, None, needs_tls).await {
            versions.push((engine, binary.version));
        }
    }
    versions
}

/// The local binary the group's nodes run: of the engine and major.minor asked for, else the
/// closest of the engine, which the log says once (the dashboard shows both versions). No
/// binary of the engine at all refuses the create, saying how to get one.
async fn choose_binary(
    state: &SharedState,
    params: &QueryParams,
    group: &ReplicationGroup,
) -> Result<ChosenBinary, ApiError> {
    let settings = &group.settings;
    let wanted = params
        .optional("EngineVersion")
        .and_then(|_| major_minor(&settings.engine_version));
    let binary = state
        .engine
        .choose_binary(&settings.engine, wanted, settings.transit_encryption)
        .await
        .map_err(|error| ApiError::InvalidParameterValue(error.to_string()))?;
    if let (false, Some((major, minor))) = (binary.exact, wanted) {
        let engine = &settings.engine;
        tracing::warn!(
            group = %group.id,
            "{engine} {} requested, running {engine} {}: no local {engine} {major}.{minor} binary (pass --engine-binary {engine}:{major}.{minor}=PATH to run one)",
            settings.engine_version, binary.version,
        );
    }
    Ok(binary)
}

/// Applies the parameter group's settings to the group's freshly started nodes (and keeps them
/// for nodes started later); on refusal the group stops.
async fn apply_start_config(
    state: &SharedState,
    group_id: &str,
    config: &[(String, String)],
) -> Result<(), crate::engine::EngineError> {
    if config.is_empty() {
        return Ok(());
    }
    let handle = state.engine.runtime(group_id)?;
    let applied = handle.lock().await.apply_config(config).await;
    if applied.is_err() {
        state.engine.stop_group(group_id).await;
    }
    applied
}

/// Gives a user group's users to the group's fresh nodes; on refusal the group stops.
async fn apply_start_users(
    state: &SharedState,
    group_id: &str,
) -> Result<(), crate::engine::EngineError> {
    let uses_users = state
        .model()
        .group(group_id)
        .is_ok_and(|g| !g.settings.user_group_ids.is_empty());
    if !uses_users {
        return Ok(());
    }
    let applied = super::user_acl::sync_group(state, group_id).await;
    if applied.is_err() {
        state.engine.stop_group(group_id).await;
    }
    applied
}

/// Starts the nodes, applies the parameter group and users, and makes the group `available`
/// (`restart`: a group brought back after a server restart, whose members are not new).
pub(crate) async fn start_nodes(
    state: SharedState,
    group_id: String,
    plan: StartPlan,
    config: Vec<(String, String)>,
    restart: bool,
) {
    let started = match plan {
        StartPlan::Replicated(spec) => state.engine.start_group(spec).await.map(|started| {
            let endpoints = Endpoints::NodeGroup {
                primary: started.primary,
                reader: started.reader,
            };
            (started.node_addresses, endpoints)
        }),
        StartPlan::Cluster(spec) => state.engine.start_cluster(spec).await.map(|started| {
            let endpoints = Endpoints::Configuration {
                address: started.configuration,
            };
            (started.node_addresses, endpoints)
        }),
    };
    let started = match started {
        Ok(started) => apply_start_config(&state, &group_id, &config)
            .await
            .map(|()| started),
        Err(error) => Err(error),
    };
    let started = match started {
        Ok(started) => apply_start_users(&state, &group_id).await.map(|()| started),
        Err(error) => Err(error),
    };
    match started {
        Ok((node_addresses, endpoints)) => {
            let kept = if restart {
                state
                    .model()
                    .finish_restart(&group_id, &node_addresses, endpoints)
            } else {
                state
                    .model()
                    .finish_create(&group_id, &node_addresses, endpoints, state.now())
            };
            if kept {
                crate::workflows::automatic_snapshots::spawn(
                    state.clone(),
                    crate::workflows::snapshot::SnapshotOf::Group {
                        group_id: group_id.clone(),
                        preferred: None,
                    },
                );
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

/// Waits until a group has left `creating` (fixtures, before the server is ready); its status.
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

/// The group as requested, and its shards when cluster mode is enabled.
fn parse_group(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
    local_default: impl Fn(&str) -> Option<String>,
    parameter_group: Option<&ParameterGroup>,
) -> Result<(ReplicationGroup, Option<Vec<ShardLayout>>), ApiError> {
    let id = ReplicationGroupId::parse(params.required("ReplicationGroupId")?)?;
    params.required("ReplicationGroupDescription")?; // missing: refused before the layout
    group_settings::reject_unsupported(params)?;
    let shards =
        if wants_cluster_mode(params, parameter_group.map(ParameterGroup::cluster_enabled))? {
            Some(parse_shards(params)?)
        } else {
            None
        };
    let now = state.now();
    let (members, node_groups, automatic_failover) = match &shards {
        None => replicated_members(params, &id, &ctx.region, now)?,
        Some(shards) => cluster_members(params, &id, shards, &ctx.region, now)?,
    };
    let settings =
        group_settings::parse(params, automatic_failover, local_default, parameter_group)?;
    let group = ReplicationGroup {
        arn: Arn::new(ResourceKind::ReplicationGroup, &ctx.scope(), id.as_str()),
        auth_token_last_modified: settings.auth_token.as_ref().map(|_| now),
        id,
        status: GroupStatus::Creating,
        settings,
        members,
        cluster_enabled: shards.is_some(),
        node_groups,
        endpoints: None,
        created_at: now,
        failover_in_flight: false,
        pending: None,
        deferred: None,
        revision: 0,
    };
    Ok((group, shards))
}

type Layout = (Vec<Member>, Vec<NodeGroupLayout>, bool);

/// Cluster mode disabled: node group `0001` of `<id>-001`...; automatic failover as asked.
fn replicated_members(
    params: &QueryParams,
    id: &ReplicationGroupId,
    region: &str,
    now: DateTime<Utc>,
) -> Result<Layout, ApiError> {
    let node_count = node_count(params)?;
    let automatic_failover = params.bool("AutomaticFailoverEnabled")?.unwrap_or(false);
    if automatic_failover && node_count < 2 {
        return Err(ApiError::InvalidParameterCombination(
            "When using automatic failover, there must be at least 2 cache clusters in the replication group.".into(),
        ));
    }
    let zones = availability_zones(params, node_count, region)?;
    let members = zones
        .into_iter()
        .enumerate()
        .map(|(index, zone)| member(id.member_id(index), "0001", index == 0, zone, now))
        .collect();
    Ok((members, vec![NodeGroupLayout::single()], automatic_failover))
}

/// Cluster mode enabled: `<id>-<node group>-001` (the primary), `-002`... per shard. Automatic
/// failover is always on, as AWS requires.
fn cluster_members(
    params: &QueryParams,
    id: &ReplicationGroupId,
    shards: &[ShardLayout],
    region: &str,
    now: DateTime<Utc>,
) -> Result<Layout, ApiError> {
    if params.bool("AutomaticFailoverEnabled")? == Some(false) {
        return Err(ApiError::InvalidParameterCombination(
            "Automatic failover must be enabled for a replication group with cluster mode enabled."
                .into(),
        ));
    }
    let mut members = Vec::new();
    for (shard_index, shard) in shards.iter().enumerate() {
        for index in 0..=shard.replica_count {
            let default_zone = format!(
                "{region}{}",
                AZ_SUFFIXES[(shard_index + index) % AZ_SUFFIXES.len()]
            );
            let zone = match index {
                0 => shard.primary_zone.clone(),
                n => shard.replica_zones.get(n - 1).cloned(),
            }
            .unwrap_or(default_zone);
            let cluster_id = format!("{id}-{}-{:03}", shard.node_group_id, index + 1);
            members.push(member(
                cluster_id,
                &shard.node_group_id,
                index == 0,
                zone,
                now,
            ));
        }
    }
    let node_groups = shards
        .iter()
        .map(|shard| NodeGroupLayout {
            id: shard.node_group_id.clone(),
            slots: Some(shard.slots_text()),
        })
        .collect();
    Ok((members, node_groups, true))
}

fn member(
    cluster_id: String,
    node_group: &str,
    primary: bool,
    availability_zone: String,
    now: DateTime<Utc>,
) -> Member {
    Member {
        cluster_id,
        node_group: node_group.to_string(),
        role: if primary {
            Role::Primary
        } else {
            Role::Replica
        },
        availability_zone,
        address: None,
        created_at: now,
        rebooting: false,
        pending_reboot: false,
    }
}
