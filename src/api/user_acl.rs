//! What a replication group's nodes must know of users, computed from the model and applied
//! through the engine (`ACL SETUSER`, `ACL DELUSER`): the users of its user group, or, without
//! one, the `default` user with full access (its AUTH token, if any, is the engine's business).

use std::sync::Arc;

use crate::engine::{AclUser, EngineError};
use crate::model::Model;
use crate::state::SharedState;

/// The ACL users of `group_id`'s nodes: its user group's users, `default` among them (a user
/// group always has one); without a user group, `default` with full access and no password.
fn acl_users(model: &Model, group_id: &str) -> Vec<AclUser> {
    let user_group_ids = model
        .group(group_id)
        .map(|g| g.settings.user_group_ids.clone())
        .unwrap_or_default();
    let users: Vec<AclUser> = user_group_ids
        .iter()
        .filter_map(|id| model.user_group(id).ok())
        .flat_map(|group| group.user_ids.iter())
        .filter_map(|id| model.user(id).ok())
        .map(|user| AclUser {
            name: user.name.clone(),
            rules: user.acl_rules(),
        })
        .collect();
    if users.is_empty() {
        let all = ["on", "nopass", "allkeys", "allchannels", "allcommands"];
        return vec![AclUser {
            name: "default".into(),
            rules: all.map(str::to_string).to_vec(),
        }];
    }
    users
}

/// Brings `group_id`'s nodes to the model's users. The users are read once the group's runtime
/// is locked, so two changes applied one after the other leave the later one on the nodes.
pub async fn sync_group(state: &SharedState, group_id: &str) -> Result<(), EngineError> {
    let handle = state.engine.runtime(group_id)?;
    let mut runtime = handle.lock().await;
    let (users, iam) = {
        let model = state.model();
        let iam = super::iam_users::tokens_for(
            &model,
            group_id,
            state.settings.verifier.clone(),
            Arc::clone(&state.clock),
        );
        (acl_users(&model, group_id), iam)
    };
    runtime.apply_users(users).await?;
    runtime.set_iam(iam)
}

/// [`sync_group`] for each group; a group whose nodes are gone (deleted meanwhile) is skipped.
pub async fn sync_groups(state: &SharedState, group_ids: &[String]) -> Result<(), EngineError> {
    for id in group_ids {
        match sync_group(state, id).await {
            Err(EngineError::UnknownGroup(_)) | Ok(()) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
