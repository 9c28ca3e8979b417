//! `--data-dir`: the model a previous run wrote (`model.json`) is loaded at start, and every
//! replication group it holds starts again from its nodes' dirs, through CreateReplicationGroup's
//! own start path: the recorded primary starts first, from its last RDB, the replicas sync from
//! it, every node and endpoint on the address it had (a new one only when that is taken), with
//! its parameter group's settings, users and TLS mode. Cluster mode enabled groups are not
//! brought back yet, nor standalone cache clusters: they come back `create-failed` (deletable)
//! and the log says so.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::api::create_replication_group::{StartPlan, start_nodes};
use crate::api::transit_encryption;
use crate::engine::{GroupSpec, PreviousAddresses, major_minor};
use crate::model::group::{Endpoints, ReplicationGroup, Role};
use crate::model::persist::Comeback;
use crate::model::scope::Scope;
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
    let path = dir.join(MODEL_FILE);
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

/// Starts every loaded group again and waits (up to a deadline) until each has settled.
pub async fn restart_groups(state: &SharedState) {
    let comebacks = state.model().begin_restart(state.now());
    let mut started = Vec::new();
    for comeback in comebacks {
        match comeback {
            Comeback::NotRestored { kind, id } => {
                tracing::warn!(%id, "a {kind} is not brought back after a restart yet: it is create-failed, delete it")
            }
            Comeback::Restart(group) => {
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
        }
    }
    for id in started {
        crate::api::wait_until_settled(state, &id, SETTLE_DEADLINE).await;
    }
}

/// The group's start as CreateReplicationGroup would make it, on its previous addresses and
/// with its primary's last RDB.
async fn plan(
    state: &SharedState,
    group: &ReplicationGroup,
) -> Result<(StartPlan, Vec<(String, String)>), String> {
    let settings = &group.settings;
    let wanted = major_minor(&settings.running_engine_version)
        .or_else(|| major_minor(&settings.engine_version));
    let binary = state
        .engine
        .choose_binary(&settings.engine, wanted, settings.transit_encryption)
        .await
        .map_err(|e| e.to_string())?;
    let tls = transit_encryption::checked_mode(state, settings, &binary.path)
        .await
        .map_err(|e| e.to_string())?;
    let scope = Scope::new(&group.arn.account, &group.arn.region);
    let config = match &settings.cache_parameter_group_name {
        Some(name) => state
            .model()
            .parameter_group(name, &scope)
            .map(|p| p.non_default_settings())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    // The recorded primary first: the engine starts members[0] as the primary.
    let mut members: Vec<_> = group.members.iter().collect();
    members.sort_by_key(|m| m.role != Role::Primary);
    let Some(Endpoints::NodeGroup { primary, reader }) = group.endpoints else {
        return Err("it never had endpoints (it was still being created)".into());
    };
    let group_dir = state.engine.data_dir().join(group.id.as_str());
    let seed_rdb = previous_rdb(&group_dir.join(&members[0].cluster_id))?;
    let spec = GroupSpec {
        group_id: group.id.to_string(),
        members: members.iter().map(|m| m.cluster_id.clone()).collect(),
        password: settings.auth_token.clone(),
        port: primary.port(),
        binary: binary.path,
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
    Ok((StartPlan::Replicated(spec), config))
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
