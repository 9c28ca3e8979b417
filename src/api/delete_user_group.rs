//! DeleteUserGroup: removes a user group no replication group uses (and its tags). The answer
//! says `deleting`, as AWS's does.

use super::users::{UserGroupShape, user_group_arn};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<UserGroupShape, ApiError> {
    let id = params.required("UserGroupId")?;
    let scope = ctx.scope();
    let mut model = state.model();
    let group = model.user_group(id)?.clone();
    let shape = UserGroupShape::new(&group, &model, &scope, "deleting");
    model.delete_user_group(&group.id, &user_group_arn(&scope, &group.id))?;
    Ok(shape)
}
