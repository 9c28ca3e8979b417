//! DeleteUser: removes the user from every user group (its clients on those groups' nodes are
//! disconnected: `ACL DELUSER`), then deletes it. The answer says `deleting`, as AWS's does.

use super::user_acl::sync_groups;
use super::users::{UserShape, user_arn};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<UserShape, ApiError> {
    let id = params.required("UserId")?;
    let scope = ctx.scope();
    let (shape, affected) = {
        let mut model = state.model();
        let user = model.user(id)?.clone();
        let affected = model.groups_using_user(&user.id);
        let shape = UserShape::new(&user, &model, &scope, "deleting");
        model.delete_user(&user.id, &user_arn(&scope, &user.id))?;
        (shape, affected)
    };
    sync_groups(state, &affected).await?;
    tracing::info!(user = %shape.user_id, groups = ?affected, "user deleted");
    Ok(shape)
}
