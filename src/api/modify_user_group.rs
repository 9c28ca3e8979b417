//! ModifyUserGroup: users added and removed (the group must still hold a user named
//! `default`); every replication group using it gets the new users on its nodes, and loses
//! the removed ones (`ACL DELUSER` disconnects their clients), before the answer.

use super::user_acl::sync_groups;
use super::users::UserGroupShape;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<UserGroupShape, ApiError> {
    let id = params.required("UserGroupId")?;
    let add = params.list("UserIdsToAdd", "member")?;
    let remove = params.list("UserIdsToRemove", "member")?;
    if let Some(engine) = params.optional("Engine") {
        crate::model::user::parse_engine(engine)?;
    }
    if add.is_empty() && remove.is_empty() && params.optional("Engine").is_none() {
        return Err(ApiError::InvalidParameterCombination(
            "No modifications were requested.".into(),
        ));
    }
    if let Some(both) = add.iter().find(|u| remove.contains(u)) {
        return Err(ApiError::InvalidParameterCombination(format!(
            "User {both} cannot be both added and removed."
        )));
    }
    let (group, affected) = {
        let mut model = state.model();
        super::iam_users::check_user_group(&model, id, &add)?;
        let mut group = model.modify_user_group(id, &add, &remove)?;
        if let Some(engine) = params.optional("Engine") {
            group = model.set_user_group_engine(&group.id, &engine.to_ascii_lowercase())?;
        }
        let affected: Vec<String> = model
            .groups_using_user_group(&group.id)
            .map(|g| g.id.to_string())
            .collect();
        (group, affected)
    };
    sync_groups(state, &affected).await?;
    tracing::info!(user_group = %group.id, users = ?group.user_ids, groups = ?affected, "user group modified");
    Ok(UserGroupShape::new(
        &group,
        &state.model(),
        &ctx.scope(),
        "modifying",
    ))
}
