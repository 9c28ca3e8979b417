//! The engine half of ModifyReplicationGroup: the AUTH token on every node, an engine upgrade
//! (every node replaced by one running `upgrade_binary`, one at a time), a new parameter
//! group's values, a step of the in-transit encryption migration, then a graceful promotion when `PrimaryClusterId` names another member.

use std::path::PathBuf;

use crate::engine::{AuthUpdate, TlsMode};
use crate::model::group::TransitEncryptionMode;
use crate::model::modify::{AuthChange, GroupChange};
use crate::state::SharedState;

pub async fn run(
    state: SharedState,
    group_id: String,
    change: GroupChange,
    upgrade_binary: Option<PathBuf>,
) {
    let outcome = apply(&state, &group_id, &change, upgrade_binary).await;
    if let Err(reason) = &outcome {
        tracing::error!(group = %group_id, %reason, "modification failed");
    }
    state
        .model()
        .finish_modify(&group_id, &change, outcome, state.now());
    tracing::info!(group = %group_id, "modification finished");
}

async fn apply(
    state: &SharedState,
    group_id: &str,
    change: &GroupChange,
    upgrade_binary: Option<PathBuf>,
) -> Result<(), String> {
    let no_settings = change.parameter_settings.is_empty();
    let nothing = change.auth.is_none()
        && change.primary_cluster_id.is_none()
        && change.transit_encryption.is_none();
    if nothing && no_settings && upgrade_binary.is_none() {
        return Ok(());
    }
    let update = change.auth.as_ref().map(|auth| match auth {
        AuthChange::Set(token) => AuthUpdate::Set(token.clone()),
        AuthChange::Rotate(token) => AuthUpdate::Rotate(token.clone()),
        AuthChange::Delete => AuthUpdate::Delete,
    });
    // Cluster mode: every change below applies to every shard; the API refuses PrimaryClusterId.
    let handle = state.engine.runtime(group_id).map_err(|e| e.to_string())?;
    let mut runtime = handle.lock().await;
    if let Some(update) = update {
        runtime
            .update_auth(update)
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some(binary) = upgrade_binary {
        let upgraded = runtime.upgrade_engine(binary).await;
        // Even a failed upgrade may have moved the primary role: the model follows the nodes.
        let addresses = runtime.node_addresses();
        let primaries: Vec<String> = primary_indexes(&runtime, state, group_id)
            .into_iter()
            .map(|i| runtime.member_at(i).to_string())
            .collect();
        for primary in primaries {
            state
                .model()
                .primary_moved(group_id, &primary, &addresses, state.now());
        }
        upgraded.map_err(|e| e.to_string())?;
    }
    if let Some(mode) = change.transit_encryption {
        let mode = mode.map(|mode| match mode {
            TransitEncryptionMode::Preferred => TlsMode::Preferred,
            TransitEncryptionMode::Required => TlsMode::Required,
        });
        runtime
            .switch_tls(mode, state.engine.ca())
            .await
            .map_err(|e| e.to_string())?;
    }
    if !no_settings {
        runtime
            .apply_config(&change.parameter_settings)
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some(primary) = &change.primary_cluster_id {
        runtime
            .promote_gracefully(primary)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The node index of each node group's primary, by the model's node group ids.
fn primary_indexes(
    runtime: &crate::engine::Runtime,
    state: &SharedState,
    group_id: &str,
) -> Vec<usize> {
    let node_groups: Vec<String> = match state.model().group(group_id) {
        Ok(group) => group.node_groups.iter().map(|ng| ng.id.clone()).collect(),
        Err(_) => return Vec::new(),
    };
    node_groups
        .iter()
        .filter_map(|id| runtime.primary_of(id))
        .collect()
}
