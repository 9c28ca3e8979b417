//! The engine half of ModifyReplicationGroup: the AUTH token on every node, then a graceful
//! promotion when `PrimaryClusterId` names another member.

use crate::engine::AuthUpdate;
use crate::model::modify::{AuthChange, GroupChange};
use crate::state::SharedState;

pub async fn run(state: SharedState, group_id: String, change: GroupChange) {
    let outcome = apply(&state, &group_id, &change).await;
    if let Err(reason) = &outcome {
        tracing::error!(group = %group_id, %reason, "modification failed");
    }
    state
        .model()
        .finish_modify(&group_id, &change, outcome, state.now());
    tracing::info!(group = %group_id, "modification finished");
}

async fn apply(state: &SharedState, group_id: &str, change: &GroupChange) -> Result<(), String> {
    if change.auth.is_none() && change.primary_cluster_id.is_none() {
        return Ok(());
    }
    let update = change.auth.as_ref().map(|auth| match auth {
        AuthChange::Set(token) => AuthUpdate::Set(token.clone()),
        AuthChange::Rotate(token) => AuthUpdate::Rotate(token.clone()),
        AuthChange::Delete => AuthUpdate::Delete,
    });
    // Cluster mode: only the token can change here (the API refuses PrimaryClusterId).
    let handle = state.engine.runtime(group_id).map_err(|e| e.to_string())?;
    let mut runtime = handle.lock().await;
    if let Some(update) = update {
        runtime
            .update_auth(update)
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
