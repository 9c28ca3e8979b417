//! ModifyUser: a new access string (or one appended to), passwords or engine; the change
//! reaches every node of every replication group whose user group holds the user before the
//! answer (which says `modifying`, as AWS's does).

use super::user_acl::sync_groups;
use super::users::{UserShape, check_iam_user_name, parse_auth};
use crate::model::user::{User, UserAuth, parse_access_string, parse_engine};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<UserShape, ApiError> {
    let id = params.required("UserId")?;
    let access = params.optional("AccessString");
    let append = params.optional("AppendAccessString");
    if access.is_some() && append.is_some() {
        return Err(ApiError::InvalidParameterCombination(
            "AccessString and AppendAccessString cannot both be given.".into(),
        ));
    }
    let auth = parse_auth(params)?;
    let engine = params.optional("Engine").map(parse_engine).transpose()?;
    if access.is_none() && append.is_none() && auth.is_none() && engine.is_none() {
        return Err(ApiError::InvalidParameterCombination(
            "No modifications were requested.".into(),
        ));
    }
    let (user, affected) = {
        let mut model = state.model();
        let mut user = model.user(id)?.clone();
        check_password_required(params, &user, auth.as_ref())?;
        if let Some(access) = access {
            user.access_string = parse_access_string(access)?;
        }
        if let Some(append) = append {
            user.access_string = parse_access_string(&format!("{} {append}", user.access_string))?;
        }
        if let Some(auth) = auth {
            user.auth = auth;
            check_iam_user_name(&user)?;
            if matches!(user.auth, crate::model::user::UserAuth::Iam { .. }) {
                super::iam_users::check_user(&model, &user.id)?;
            }
        }
        if let Some(engine) = engine {
            user.engine = engine;
        }
        let user = model.replace_user(user)?;
        let affected = model.groups_using_user(&user.id);
        (user, affected)
    };
    sync_groups(state, &affected).await?;
    tracing::info!(user = %user.id, groups = ?affected, "user modified");
    Ok(UserShape::new(
        &user,
        &state.model(),
        &ctx.scope(),
        "modifying",
    ))
}

/// `NoPasswordRequired=false` alone (no `Passwords`, no `AuthenticationMode`) keeps a password user's passwords (it
/// needs one already); on a user with no password (no-password or iam) it would leave the user
/// unable to authenticate, so it is refused as CreateUser refuses a user without any.
fn check_password_required(
    params: &QueryParams,
    user: &User,
    auth: Option<&UserAuth>,
) -> Result<(), ApiError> {
    // With Passwords or an AuthenticationMode the request says how the user authenticates.
    let asks_password = auth.is_none() && params.bool("NoPasswordRequired")? == Some(false);
    if asks_password && !matches!(user.auth, UserAuth::Password(_)) {
        return Err(ApiError::InvalidParameterValue(format!(
            "User {} has no password: NoPasswordRequired false needs Passwords.",
            user.id
        )));
    }
    Ok(())
}
