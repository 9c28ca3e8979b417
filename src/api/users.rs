//! The `User` and `UserGroup` shapes every user and user group action answers, and the
//! parameters the create and modify actions share (how a user authenticates).

use serde::Serialize;

use crate::model::Model;
use crate::model::arn::{Arn, ResourceKind};
use crate::model::scope::Scope;
use crate::model::user::{User, UserAuth, parse_passwords};
use crate::model::user_group::UserGroup;
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};

/// The lowest engine version with ACLs, as AWS reports it.
const MINIMUM_ENGINE_VERSION: &str = "6.0";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Authentication {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub password_count: usize,
}

/// `User` (and the results of CreateUser, ModifyUser, DeleteUser, which are a `User`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserShape {
    pub user_id: String,
    pub user_name: String,
    pub status: &'static str,
    pub engine: String,
    pub minimum_engine_version: &'static str,
    pub access_string: String,
    pub user_group_ids: XmlList<String>,
    pub authentication: Authentication,
    #[serde(rename = "ARN")]
    pub arn: String,
}

impl UserShape {
    /// The user as `model` has it, reported with `status` (`active`, or the `modifying` /
    /// `deleting` AWS answers a change with).
    pub fn new(user: &User, model: &Model, scope: &Scope, status: &'static str) -> Self {
        Self {
            user_id: user.id.clone(),
            user_name: user.name.clone(),
            status,
            engine: user.engine.clone(),
            minimum_engine_version: MINIMUM_ENGINE_VERSION,
            access_string: user.access_string.clone(),
            user_group_ids: XmlList::new("member", model.groups_of_user(&user.id)),
            authentication: Authentication {
                kind: user.auth.type_name(),
                password_count: user.auth.password_count(),
            },
            arn: user_arn(scope, &user.id).to_string(),
        }
    }
}

/// `UserGroup` (and the results of the user group actions, which are a `UserGroup`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserGroupShape {
    pub user_group_id: String,
    pub status: &'static str,
    pub engine: String,
    pub user_ids: XmlList<String>,
    pub minimum_engine_version: &'static str,
    pub replication_groups: XmlList<String>,
    pub serverless_caches: XmlList<String>,
    #[serde(rename = "ARN")]
    pub arn: String,
}

impl UserGroupShape {
    pub fn new(group: &UserGroup, model: &Model, scope: &Scope, status: &'static str) -> Self {
        let replication_groups = model
            .groups_using_user_group(&group.id)
            .map(|g| g.id.to_string())
            .collect();
        Self {
            user_group_id: group.id.clone(),
            status,
            engine: group.engine.clone(),
            user_ids: XmlList::new("member", group.user_ids.clone()),
            minimum_engine_version: MINIMUM_ENGINE_VERSION,
            replication_groups: XmlList::new("member", replication_groups),
            serverless_caches: XmlList::new("member", vec![]),
            arn: user_group_arn(scope, &group.id).to_string(),
        }
    }
}

pub fn user_arn(scope: &Scope, id: &str) -> Arn {
    Arn::new(ResourceKind::User, scope, id)
}

pub fn user_group_arn(scope: &Scope, id: &str) -> Arn {
    Arn::new(ResourceKind::UserGroup, scope, id)
}

/// How the user authenticates, from `AuthenticationMode`, `Passwords` and
/// `NoPasswordRequired`; `None` when the request says nothing of it (a ModifyUser that keeps
/// it).
pub fn parse_auth(params: &QueryParams) -> Result<Option<UserAuth>, ApiError> {
    let mode = params.optional("AuthenticationMode.Type");
    let mode_passwords = params.list("AuthenticationMode.Passwords", "member")?;
    let passwords = params.list("Passwords", "member")?;
    let no_password = params.bool("NoPasswordRequired")?;
    if !mode_passwords.is_empty() && !passwords.is_empty() {
        return Err(ApiError::InvalidParameterCombination(
            "Passwords and AuthenticationMode.Passwords cannot both be given.".into(),
        ));
    }
    let passwords = if passwords.is_empty() {
        mode_passwords
    } else {
        passwords
    };
    if no_password == Some(true) && !passwords.is_empty() {
        return Err(ApiError::InvalidParameterCombination(
            "Passwords cannot be given with NoPasswordRequired true.".into(),
        ));
    }
    match (mode, no_password) {
        // An iam user authenticates with IAM auth tokens only.
        (Some("iam"), Some(true)) => Err(ApiError::InvalidParameterCombination(
            "NoPasswordRequired cannot be true with AuthenticationMode iam.".into(),
        )),
        (Some("iam"), _) if !passwords.is_empty() => Err(ApiError::InvalidParameterCombination(
            "Passwords cannot be given with AuthenticationMode iam.".into(),
        )),
        (Some("iam"), _) => Ok(Some(UserAuth::new_iam())),
        (Some("no-password-required"), Some(false)) | (Some("password"), Some(true)) => {
            Err(ApiError::InvalidParameterCombination(
                "NoPasswordRequired contradicts AuthenticationMode.Type.".into(),
            ))
        }
        (Some("no-password-required"), _) | (None, Some(true)) if passwords.is_empty() => {
            Ok(Some(UserAuth::NoPasswordRequired))
        }
        (Some("no-password-required"), _) => Err(ApiError::InvalidParameterCombination(
            "Passwords cannot be given with AuthenticationMode no-password-required.".into(),
        )),
        (Some("password"), _) | (None, _) if !passwords.is_empty() => {
            Ok(Some(UserAuth::Password(parse_passwords(&passwords)?)))
        }
        (Some("password"), _) => Err(ApiError::InvalidParameterValue(
            "AuthenticationMode password needs Passwords (one or two).".into(),
        )),
        (Some(other), _) => Err(crate::protocol::query::invalid_value(
            "AuthenticationMode.Type",
            other,
            "password, no-password-required or iam",
        )),
        (None, _) => Ok(None),
    }
}

/// AWS's rule for `iam` users: their user name is their id (the `User` of an IAM auth token,
/// and the name it AUTHs with). The message is AWS's (seen from the real service).
pub fn check_iam_user_name(user: &User) -> Result<(), ApiError> {
    if matches!(user.auth, UserAuth::Iam { .. }) && user.id != user.name {
        return Err(ApiError::InvalidParameterCombination(
            "User Id and User name must be same for authentication type: iam".into(),
        ));
    }
    Ok(())
}

/// `UserName`: the name clients AUTH with, printable ASCII without spaces.
pub fn parse_user_name(raw: &str) -> Result<String, ApiError> {
    if raw.is_empty() || raw.len() > 120 || !raw.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::InvalidParameterValue(format!(
            "Invalid UserName '{raw}': it must be 1 to 120 printable characters without spaces."
        )));
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(pairs: &[(&str, &str)]) -> Result<Option<UserAuth>, ApiError> {
        parse_auth(&QueryParams::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn a_user_authenticates_with_passwords_or_none_and_never_both() {
        const P: &str = "0123456789abcdef";
        assert_eq!(auth(&[]), Ok(None));
        assert_eq!(
            auth(&[("Passwords.member.1", P)]),
            Ok(Some(UserAuth::Password(vec![P.into()])))
        );
        assert_eq!(
            auth(&[
                ("AuthenticationMode.Type", "password"),
                ("AuthenticationMode.Passwords.member.1", P)
            ]),
            Ok(Some(UserAuth::Password(vec![P.into()])))
        );
        assert_eq!(
            auth(&[("NoPasswordRequired", "true")]),
            Ok(Some(UserAuth::NoPasswordRequired))
        );
        assert_eq!(
            auth(&[("AuthenticationMode.Type", "no-password-required")]),
            Ok(Some(UserAuth::NoPasswordRequired))
        );
        let code = |pairs: &[(&str, &str)]| auth(pairs).unwrap_err().code();
        assert_eq!(
            code(&[("NoPasswordRequired", "true"), ("Passwords.member.1", P)]),
            "InvalidParameterCombination"
        );
        assert_eq!(
            code(&[("AuthenticationMode.Type", "password")]),
            "InvalidParameterValue"
        );
        assert!(matches!(
            auth(&[("AuthenticationMode.Type", "iam")]),
            Ok(Some(UserAuth::Iam { .. }))
        ));
        assert_eq!(
            code(&[
                ("AuthenticationMode.Type", "iam"),
                ("AuthenticationMode.Passwords.member.1", P)
            ]),
            "InvalidParameterCombination"
        );
        assert_eq!(
            code(&[("AuthenticationMode.Type", "nope")]),
            "InvalidParameterValue"
        );
        assert_eq!(
            code(&[("Passwords.member.1", "short")]),
            "InvalidParameterValue"
        );
    }
}
