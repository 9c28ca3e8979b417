//! `Engine` and `EngineVersion` on ModifyReplicationGroup: an upgrade to a newer version of the
//! same engine, or from redis to valkey, resolved through the catalogue and carried out by
//! replacing every node (`workflows::modify`). Downgrades and valkey -> redis are refused, as
//! AWS refuses them; the parameter group moves to the new family's default unless one is given.

use std::path::PathBuf;

use super::group_settings::parse_engine;
use crate::engine::major_minor;
use crate::model::catalogue::engine_versions::resolve;
use crate::model::engine_upgrade::EngineUpgrade;
use crate::model::group::ReplicationGroup;
use crate::model::parameter_group::family_of_version;
use crate::protocol::{ApiError, QueryParams};
use crate::state::SharedState;

/// An accepted upgrade: what the API will report, the binary the new nodes run, and the
/// default parameter group of the new family when the family changes.
pub(super) struct PlannedUpgrade {
    pub upgrade: EngineUpgrade,
    pub binary: PathBuf,
    pub new_family_default: Option<String>,
}

/// The upgrade `Engine`/`EngineVersion` ask of `group_id`, or `None` when they name what it
/// runs already (or are absent).
pub(super) async fn plan(
    state: &SharedState,
    params: &QueryParams,
    group_id: &str,
) -> Result<Option<PlannedUpgrade>, ApiError> {
    let asked_version = params.optional("EngineVersion");
    if params.optional("Engine").is_none() && asked_version.is_none() {
        return Ok(None);
    }
    let group = state.model().group(group_id)?.clone();
    let current = &group.settings;
    let engine = match params.optional("Engine") {
        Some(_) => parse_engine(params)?,
        None => current.engine.clone(),
    };
    let version = match asked_version {
        Some(asked) => resolve(&engine, Some(asked))?
            .version
            .full_version
            .to_string(),
        None if engine == current.engine => return Ok(None),
        // A new engine without a version: the version its local binary runs, as on create.
        None => local_default(state, &engine, current.transit_encryption).await?,
    };
    let (from, to) = (major_minor(&current.engine_version), major_minor(&version));
    if engine == current.engine && from.is_some() && from == to {
        return Ok(None);
    }
    refuse_forbidden(&group, &engine, from, to, &version)?;
    // The replacement nodes of a TLS group speak TLS: their binary must be built with it.
    let needs_tls = current.transit_encryption;
    let binary = state
        .engine
        .choose_binary(&engine, to, needs_tls)
        .await
        .map_err(|error| ApiError::InvalidParameterValue(error.to_string()))?;
    if needs_tls {
        super::transit_encryption::check_binary(state, &engine, &binary.path).await?;
    }
    if !binary.exact {
        tracing::warn!(group = %group.id, "{engine} {version} requested, running {engine} {}: no local binary of that major.minor (pass --engine-binary {engine}:MAJOR.MINOR=PATH to run one)", binary.version);
    }
    let old_family = family_of_version(&current.engine, &current.engine_version);
    let new_family = family_of_version(&engine, &version);
    Ok(Some(PlannedUpgrade {
        new_family_default: new_family
            .filter(|family| Some(*family) != old_family)
            .map(|family| match group.cluster_enabled {
                true => format!("default.{family}.cluster.on"),
                false => format!("default.{family}"),
            }),
        upgrade: EngineUpgrade {
            engine,
            engine_version: version,
            running_engine_version: binary.version,
        },
        binary: binary.path,
    }))
}

async fn local_default(
    state: &SharedState,
    engine: &str,
    needs_tls: bool,
) -> Result<String, ApiError> {
    let binary = state
        .engine
        .choose_binary(engine, None, needs_tls)
        .await
        .map_err(|error| ApiError::InvalidParameterValue(error.to_string()))?;
    match binary.version.as_str() {
        "unknown" => Ok(resolve(engine, None)?.version.full_version.to_string()),
        _ => Ok(binary.version),
    }
}

/// AWS's rules: no downgrade ("you cannot downgrade to an earlier engine version", the API
/// reference says), no move from valkey back to redis, valkey from redis 5 on; and here, a
/// cluster needs a replica in every node group (its only node could not keep its data).
fn refuse_forbidden(
    group: &ReplicationGroup,
    engine: &str,
    from: Option<(u32, u32)>,
    to: Option<(u32, u32)>,
    version: &str,
) -> Result<(), ApiError> {
    let current = &group.settings;
    if current.engine == "valkey" && engine == "redis" {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Cannot modify replication group {} from engine valkey to redis: a move back to Redis OSS needs a new replication group.",
            group.id
        )));
    }
    let downgrade = current.engine == engine && to < from;
    let too_old = current.engine == "redis" && engine == "valkey" && from < Some((5, 0));
    if downgrade || too_old {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Cannot upgrade replication group {} from {} {} to {engine} {version}: you can upgrade to a newer engine version, but you cannot downgrade to an earlier one{}.",
            group.id,
            current.engine,
            current.engine_version,
            if too_old {
                " (valkey needs redis 5.0 or later)"
            } else {
                ""
            },
        )));
    }
    let alone = |ng: &str| group.members.iter().filter(|m| m.node_group == ng).count() < 2;
    if group.cluster_enabled && group.node_groups.iter().any(|ng| alone(&ng.id)) {
        return Err(ApiError::InvalidParameterValue(format!(
            "elasticache-local upgrades the engine of a cluster-mode-enabled replication group only when every node group has a replica to hand its slots to ({} has a node group without one).",
            group.id
        )));
    }
    Ok(())
}
