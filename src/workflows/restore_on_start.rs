//! `--data-dir`: the model a previous run wrote (`model.json`) is loaded at start, and every
//! replication group it holds starts again from its nodes' dirs, through CreateReplicationGroup's
//! own start path, every node and endpoint on the address it had (a new one only when that is
//! taken), with its parameter group's settings, users and TLS mode. Cluster mode disabled: the
//! recorded primary starts first, from its last RDB, the replicas sync from it. Cluster mode
//! enabled: the cluster is formed again with the node groups and slots the model recorded, each
//! shard's recorded primary first, and each primary's last RDB is imported as a restore from a
//! snapshot is (every key to the shard owning its slot). Standalone cache clusters start again
//! through CreateCacheCluster's path: a Redis or Valkey node from its last RDB, Memcached nodes
//! empty (memcached keeps nothing), each on its address.

use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cache_cluster;
use crate::api::create_replication_group::{StartPlan, cluster_spec, start_nodes};
use crate::api::transit_encryption;
use crate::engine::{
    GroupSpec, PreviousAddresses, PreviousClusterAddresses, PreviousMemcached, TlsMode, major_minor,
};
use crate::model::arn::Arn;
use crate::model::cache_cluster::CacheCluster;
use crate::model::group::{Endpoints, ReplicationGroup, Role};
use crate::model::node_memory::node_start_settings;
use crate::model::persist::Comeback;
use crate::model::scope::Scope;
use crate::model::slot_plan::parse_ranges;
use crate::state::SharedState;

/// The model's file in the data dir.
pub const MODEL_FILE: &str = "model.json";
/// Where a node's last RDB waits while the node starts again (it loads it as a restore).
const RESTART_RDB: &str = "restart.rdb";
/// How long start waits for the groups to run again before serving anyway.
const SETTLE_DEADLINE: Duration = Duration::from_secs(60);

/// Loads `model.json` from `dir` when there is one; false when there is none. A document that
/// cannot be read whole is an error: the server refuses to start rather than lose resources.
pub fn load_model(state: &SharedState, dir: &Path) -> Result<bool, String> {
    let path = super::save_model::model_path(dir);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    state.model().load_document(&text).map_err(|why| {
        format!(
            "refusing to start: {} cannot be loaded: {why}",
            path.display()
        )
    })?;
    Ok(true)
}

/// Starts every loaded group and standalone cluster again and waits (up to a deadline) until
/// each has settled.
pub async fn restart_groups(state: &SharedState) {
    let comebacks = state.model().begin_restart(state.now());
    let mut started = Vec::new();
    for comeback in comebacks {
        match comeback {
            Comeback::Group(group) => {
                let id = group.id.to_string();
                match plan(state, &group).await {
                    Ok((plan, config)) => {
                        tracing::info!(group = %id, "bringing the replication group back");
                        started.push(id.clone());
                        start_nodes(state.clone(), id, plan, config, true).await;
                    }
                    Err(why) => {
                        tracing::error!(group = %id, %why, "cannot bring the group back");
                        state.model().fail_create(&id, why, state.now());
                    }
                }
            }
            Comeback::CacheCluster(cluster) => {
                let id = cluster.id.clone();
                match cache_cluster_plan(state, &cluster).await {
                    Ok(plan) => {
                        tracing::info!(cluster = %id, "bringing the cache cluster back");
                        cache_cluster::start(state.clone(), id, plan, true).await;
                    }
                    Err(why) => {
                        tracing::error!(cluster = %id, %why, "cannot bring the cache cluster back");
                        state.model().fail_cluster_create(&id, why, state.now());
                    }
                }
            }
        }
    }
    for id in started {
        crate::api::wait_until_settled(state, &id, SETTLE_DEADLINE).await;
    }
}

/// The local binary a resource brought back runs: of its engine at the version it ran.
async fn restart_binary(
    state: &SharedState,
    engine: &str,
    running: &str,
    asked: &str,
    needs_tls: bool,
) -> Result<PathBuf, String> {
    let wanted = major_minor(running).or_else(|| major_minor(asked));
    let binary = state.engine.choose_binary(engine, wanted, needs_tls).await;
    binary.map(|b| b.path).map_err(|e| e.to_string())
}

/// The `CONFIG SET` pairs a node starts with: its parameter group's (its family default's
/// without one) and its node type's `maxmemory`.
fn parameter_settings(
    state: &SharedState,
    (name, node_type): (Option<&str>, &str),
    engine_version: (&str, &str),
    arn: &Arn,
) -> Vec<(String, String)> {
    let scope = Scope::new(&arn.account, &arn.region);
    let group = name.and_then(|name| state.model().parameter_group(name, &scope).ok());
    node_start_settings(group.as_ref(), node_type, engine_version, &scope)
}

/// The group's start as CreateReplicationGroup would make it, on its previous addresses and
/// with its primaries' last RDBs.
async fn plan(
    state: &SharedState,
    group: &ReplicationGroup,
) -> Result<(StartPlan, Vec<(String, String)>), String> {
    let settings = &group.settings;
    let running = &settings.running_engine_version;
    let needs_tls = settings.transit_encryption;
    let binary = restart_binary(
        state,
        &settings.engine,
        running,
        &settings.engine_version,
        needs_tls,
    )
    .await?;
    let tls = transit_encryption::checked_mode(state, settings, &binary)
        .await
        .map_err(|e| e.to_string())?;
    let config = parameter_settings(
        state,
        (
            settings.cache_parameter_group_name.as_deref(),
            &settings.stored.cache_node_type,
        ),
        (&settings.engine, &settings.engine_version),
        &group.arn,
    );
    let group_dir = state.engine.data_dir().join(group.id.as_str());
    let plan = if group.cluster_enabled {
        cluster_plan(group, &group_dir, binary, tls)?
    } else {
        replicated_plan(group, &group_dir, binary, tls)?
    };
    Ok((plan, config))
}

/// Cluster mode disabled: the recorded primary starts first from its last RDB, the replicas
/// sync from it.
fn replicated_plan(
    group: &ReplicationGroup,
    group_dir: &Path,
    binary: PathBuf,
    tls: Option<TlsMode>,
) -> Result<StartPlan, String> {
    // The recorded primary first: the engine starts members[0] as the primary.
    let mut members: Vec<_> = group.members.iter().collect();
    members.sort_by_key(|m| m.role != Role::Primary);
    let Some(Endpoints::NodeGroup { primary, reader }) = group.endpoints else {
        return Err(NO_ENDPOINTS.into());
    };
    let seed_rdb = previous_rdb(&group_dir.join(&members[0].cluster_id))?;
    let spec = GroupSpec {
        group_id: group.id.to_string(),
        members: members.iter().map(|m| m.cluster_id.clone()).collect(),
        password: group.settings.auth_token.clone(),
        port: primary.port(),
        binary,
        seed_rdb,
        tls,
        previous: Some(PreviousAddresses {
            primary_endpoint: primary,
            reader_endpoint: reader,
            nodes: members
                .iter()
                .map(|m| {
                    m.address
                        .unwrap_or(crate::engine::address::unassigned(primary.port()))
                })
                .collect(),
        }),
    };
    Ok(StartPlan::Replicated(spec))
}

/// Cluster mode enabled: the cluster is formed again with the node groups and slots the model
/// saved (after any resharding), each shard's recorded primary as its primary, and every key
/// of each primary's last RDB moved into the shard owning its slot, as a restore does.
fn cluster_plan(
    group: &ReplicationGroup,
    group_dir: &Path,
    binary: PathBuf,
    tls: Option<TlsMode>,
) -> Result<StartPlan, String> {
    let Some(Endpoints::Configuration { address }) = group.endpoints else {
        return Err(NO_ENDPOINTS.into());
    };
    let shards: Vec<(String, Vec<(u32, u32)>)> = (group.node_groups.iter())
        .map(|g| (g.id.clone(), parse_ranges(g.slots.as_deref().unwrap_or(""))))
        .collect();
    let mut spec = cluster_spec(group, &shards, address.port(), binary, tls);
    for shard in &spec.shards {
        let Some(primary) = shard.members.first() else {
            return Err(format!("node group {} has no members", shard.node_group_id));
        };
        spec.seed_rdbs
            .extend(previous_rdb(&group_dir.join(primary))?);
    }
    let nodes = (group.members.iter())
        .filter_map(|m| m.address.map(|addr| (m.cluster_id.clone(), addr)))
        .collect();
    spec.previous = Some(PreviousClusterAddresses {
        configuration: address,
        nodes,
    });
    Ok(StartPlan::Cluster(spec))
}

const NO_ENDPOINTS: &str = "it never had endpoints (it was still being created)";

/// A standalone cluster's start as CreateCacheCluster would make it, each node on its previous
/// address: a Redis or Valkey node from its last RDB, Memcached nodes empty (they keep nothing).
async fn cache_cluster_plan(
    state: &SharedState,
    cluster: &CacheCluster,
) -> Result<cache_cluster::StartPlan, String> {
    let nodes: Vec<(String, SocketAddrV4)> = (cluster.nodes.iter())
        .filter_map(|n| n.address.map(|addr| (n.id.clone(), addr)))
        .collect();
    if cluster.engine.is_memcached() {
        let configuration = cluster.configuration_address.ok_or(NO_ENDPOINTS)?;
        return Ok(cache_cluster::StartPlan::Memcached {
            count: nodes.len(),
            port: configuration.port(),
            previous: Some(PreviousMemcached {
                configuration,
                nodes,
            }),
        });
    }
    let &[(_, address)] = nodes.as_slice() else {
        return Err(NO_ENDPOINTS.into());
    };
    let settings = &cluster.settings;
    let engine = cluster.engine.as_str();
    let (running, asked) = (&settings.running_engine_version, &settings.engine_version);
    let binary = restart_binary(state, engine, running, asked, settings.transit_encryption).await?;
    let name = settings.cache_parameter_group_name.as_deref();
    Ok(cache_cluster::StartPlan::Redis(cache_cluster::RedisPlan {
        binary,
        password: settings.auth_token.clone(),
        tls: settings
            .transit_encryption_mode
            .map(transit_encryption::engine_mode),
        config: parameter_settings(
            state,
            (name, &settings.stored.cache_node_type),
            (engine, asked),
            &cluster.arn,
        ),
        port: address.port(),
        seed_rdb: previous_rdb(&state.engine.standalone_node_dir(&cluster.id))?,
        previous: Some(address),
    }))
}

/// Moves the node's last `dump.rdb` aside so its start loads it (a start removes `dump.rdb`);
/// `None` when it never saved one (it held no data).
fn previous_rdb(node_dir: &Path) -> Result<Option<PathBuf>, String> {
    let dump = node_dir.join("dump.rdb");
    let kept = node_dir.join(RESTART_RDB);
    match std::fs::rename(&dump, &kept) {
        Ok(()) => Ok(Some(kept)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Ok(kept.exists().then_some(kept))
        }
        Err(error) => Err(format!("cannot keep {}: {error}", dump.display())),
    }
}
