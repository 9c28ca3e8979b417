//! CreateUser: a new RBAC user (id, user name, engine, access string, how it authenticates),
//! with its tags. It reaches nodes once a user group of a replication group holds it.

use super::tags::parse_tags;
use super::users::{UserShape, check_iam_user_name, parse_auth, parse_user_name, user_arn};
use crate::model::arn::ResourceKind;
use crate::model::user::{User, parse_access_string, parse_engine};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<UserShape, ApiError> {
    let id = ResourceKind::User.parse_id(params.required("UserId")?)?;
    let name = parse_user_name(params.required("UserName")?)?;
    let engine = parse_engine(params.required("Engine")?)?;
    let access_string = parse_access_string(params.required("AccessString")?)?;
    let auth = parse_auth(params)?.ok_or_else(|| {
        ApiError::InvalidParameterValue(
            "A user needs Passwords, or NoPasswordRequired true (or AuthenticationMode).".into(),
        )
    })?;
    let tags = parse_tags(params)?;
    let user = User {
        id,
        name,
        engine,
        access_string,
        auth,
        revision: 0,
    };
    check_iam_user_name(&user)?;
    let scope = ctx.scope();
    let mut model = state.model();
    model.insert_user(user.clone(), &user_arn(&scope, &user.id), &tags)?;
    tracing::info!(user = %user.id, user_name = %user.name, "user created");
    Ok(UserShape::new(&user, &model, &scope, "active"))
}
