//! CreateUserGroup: users (existing, of distinct user names, one named `default`) that a
//! replication group can take as its nodes' ACL users. The answer says `creating`, as AWS's
//! does; the group is usable at once.

use super::tags::parse_tags;
use super::users::{UserGroupShape, user_group_arn};
use crate::model::arn::ResourceKind;
use crate::model::user::parse_engine;
use crate::model::user_group::UserGroup;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<UserGroupShape, ApiError> {
    let id = ResourceKind::UserGroup.parse_id(params.required("UserGroupId")?)?;
    let engine = parse_engine(params.required("Engine")?)?;
    let mut user_ids: Vec<String> = Vec::new();
    for user in params.list("UserIds", "member")? {
        if !user_ids.contains(&user) {
            user_ids.push(user);
        }
    }
    let tags = parse_tags(params)?;
    let group = UserGroup {
        id,
        engine,
        user_ids,
        revision: 0,
    };
    let scope = ctx.scope();
    let mut model = state.model();
    model.insert_user_group(group.clone(), &user_group_arn(&scope, &group.id), &tags)?;
    tracing::info!(user_group = %group.id, users = ?group.user_ids, "user group created");
    Ok(UserGroupShape::new(&group, &model, &scope, "creating"))
}
