//! ModifyReplicationGroup's `UserGroupIdsToAdd`, `UserGroupIdsToRemove` and
//! `RemoveUserGroups`: which user group's users a group's nodes know. Checked before the
//! group goes `modifying`, applied (model, then every node through the engine) right after.

use super::user_acl::sync_group;
use crate::model::Model;
use crate::protocol::{ApiError, QueryParams};
use crate::state::SharedState;

/// The user groups a modification adds and removes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserGroupChange {
    pub add: Vec<String>,
    pub remove: Vec<String>,
    pub remove_all: bool,
}

/// `None` when the request does not touch user groups.
pub fn parse(params: &QueryParams) -> Result<Option<UserGroupChange>, ApiError> {
    let change = UserGroupChange {
        add: params.list("UserGroupIdsToAdd", "member")?,
        remove: params.list("UserGroupIdsToRemove", "member")?,
        remove_all: params.bool("RemoveUserGroups")?.unwrap_or(false),
    };
    if change == UserGroupChange::default() {
        return Ok(None);
    }
    if change.remove_all && !change.add.is_empty() {
        return Err(ApiError::InvalidParameterCombination(
            "RemoveUserGroups cannot be given with UserGroupIdsToAdd.".into(),
        ));
    }
    Ok(Some(change))
}

/// The group's user groups after `change`, checked against AWS's rules: the user groups exist,
/// at most one remains, and user groups need in-transit encryption and no AUTH token.
pub fn check(
    model: &Model,
    group_id: &str,
    change: &UserGroupChange,
) -> Result<Vec<String>, ApiError> {
    let group = model.group(group_id)?;
    for id in change.add.iter().chain(&change.remove) {
        model.user_group(id)?;
    }
    let mut ids: Vec<String> = match change.remove_all {
        true => vec![],
        false => group
            .settings
            .user_group_ids
            .iter()
            .filter(|id| !change.remove.contains(id))
            .cloned()
            .collect(),
    };
    for id in &change.add {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    if ids.len() > 1 {
        return Err(ApiError::InvalidParameterValue(format!(
            "A replication group can use one user group ({} requested).",
            ids.len()
        )));
    }
    if !change.add.is_empty() && !group.settings.transit_encryption {
        return Err(ApiError::InvalidParameterCombination(
            "User group based access control requires encryption-in-transit to be enabled on the replication group.".into(),
        ));
    }
    if !change.add.is_empty() && group.settings.auth_token.is_some() {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Replication group {} authenticates with an AUTH token: delete it (AuthTokenUpdateStrategy DELETE) before adding a user group.",
            group.id
        )));
    }
    super::iam_users::check_group(model, group, &change.add)?;
    Ok(ids)
}

/// Records the group's new user groups and brings its nodes to their users.
pub async fn apply(state: &SharedState, group_id: &str, ids: Vec<String>) -> Result<(), ApiError> {
    state.model().set_user_groups(group_id, ids)?;
    sync_group(state, group_id).await?;
    Ok(())
}
