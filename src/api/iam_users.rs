//! `iam` users: where they may be (AWS's rules, and the one this server adds), and the IAM
//! auth tokens their clients AUTH with, verified for the engine's IAM gate (`iam_front`).
//!
//! A token is what the AWS SDKs' examples make: a SigV4-presigned
//! `GET http://<replication group id>/?Action=connect&User=<user id>` for the `elasticache`
//! service, expiring in at most 900 seconds, without its scheme. With `--verify-sigv4` its
//! signature is checked by the server's verifier against `--credentials`; without it (every
//! signature accepted, as on the query API) only its form, target, user and expiry are.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::engine::{IamTokens, TokenVerdict};
use crate::model::group::ReplicationGroup;
use crate::model::user::UserAuth;
use crate::model::{Clock, Model};
use crate::protocol::ApiError;
use crate::protocol::sigv4_verify::Verifier;

/// How long a token is valid at most (AWS: 15 minutes).
const MAX_EXPIRES_SECONDS: i64 = 900;

/// Refuses `iam` users among `user_group_ids`' users on `group` where they cannot work: Redis
/// OSS before 7.0 (AWS's rule) and cluster mode enabled, whose nodes' addresses have no IAM
/// gate here (this server's limit).
pub fn check_group(
    model: &Model,
    group: &ReplicationGroup,
    user_group_ids: &[String],
) -> Result<(), ApiError> {
    match has_iam_user(model, user_group_ids) {
        true => refuse_iam_on(group),
        false => Ok(()),
    }
}

/// The rules of [`check_group`] for a group that would hold an `iam` user.
fn refuse_iam_on(group: &ReplicationGroup) -> Result<(), ApiError> {
    let major: u32 = group
        .settings
        .engine_version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if group.settings.engine != "valkey" && major < 7 {
        return Err(ApiError::InvalidParameterCombination(format!(
            "IAM authentication requires Valkey 7.2 or Redis OSS 7.0 and above: replication group {} runs Redis OSS {}.",
            group.id, group.settings.engine_version
        )));
    }
    if group.cluster_enabled {
        return Err(ApiError::InvalidParameterCombination(format!(
            "elasticache-local supports iam users on cluster-mode-disabled replication groups only: replication group {} has cluster mode enabled.",
            group.id
        )));
    }
    Ok(())
}

/// [`check_group`] for every replication group using `user_group_id`, as if it held the
/// users `user_ids` too.
pub fn check_user_group(
    model: &Model,
    user_group_id: &str,
    user_ids: &[String],
) -> Result<(), ApiError> {
    if !user_ids.iter().any(|id| is_iam(model, id)) {
        return Ok(());
    }
    for group in model.groups_using_user_group(user_group_id) {
        refuse_iam_on(group)?;
    }
    Ok(())
}

/// [`check_group`] for every replication group whose nodes know `user_id`, which becomes an
/// `iam` user.
pub fn check_user(model: &Model, user_id: &str) -> Result<(), ApiError> {
    for id in model.groups_using_user(user_id) {
        refuse_iam_on(model.group(&id)?)?;
    }
    Ok(())
}

fn has_iam_user(model: &Model, user_group_ids: &[String]) -> bool {
    user_group_ids
        .iter()
        .filter_map(|id| model.user_group(id).ok())
        .flat_map(|g| g.user_ids.iter())
        .any(|id| is_iam(model, id))
}

fn is_iam(model: &Model, user_id: &str) -> bool {
    model
        .user(user_id)
        .is_ok_and(|u| matches!(u.auth, UserAuth::Iam { .. }))
}

/// The token checker of `group_id`'s IAM gate: its `iam` users (name, internal password); `None`
/// when it has none.
pub fn tokens_for(
    model: &Model,
    group_id: &str,
    verifier: Option<Verifier>,
    clock: Arc<dyn Clock>,
) -> Option<Arc<dyn IamTokens>> {
    let group = model.group(group_id).ok()?;
    let users: HashMap<String, String> = group
        .settings
        .user_group_ids
        .iter()
        .filter_map(|id| model.user_group(id).ok())
        .flat_map(|g| g.user_ids.iter())
        .filter_map(|id| model.user(id).ok())
        .filter_map(|user| match &user.auth {
            UserAuth::Iam { internal_password } => {
                Some((user.name.clone(), internal_password.clone()))
            }
            _ => None,
        })
        .collect();
    if users.is_empty() {
        return None;
    }
    Some(Arc::new(GroupTokens {
        target: group_id.to_ascii_lowercase(),
        users,
        verifier,
        clock,
    }))
}

struct GroupTokens {
    /// The host a token names: the replication group's id, lowercase.
    target: String,
    users: HashMap<String, String>,
    verifier: Option<Verifier>,
    /// The server's clock, which API signatures are checked against too.
    clock: Arc<dyn Clock>,
}

impl IamTokens for GroupTokens {
    fn check(&self, user: &str, token: &str) -> TokenVerdict {
        let Some(password) = self.users.get(user) else {
            return TokenVerdict::NotIam;
        };
        let now = self.clock.now();
        match verify_token(self.verifier.as_ref(), token, &self.target, user, now) {
            Ok(()) => TokenVerdict::Valid(password.clone()),
            Err(why) => {
                tracing::info!(user, why, "IAM auth token refused");
                TokenVerdict::Invalid
            }
        }
    }
}

/// Checks `token` for user `user` of the cache reached as `target`, at `now`.
pub fn verify_token(
    verifier: Option<&Verifier>,
    token: &str,
    target: &str,
    user: &str,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let token = token
        .strip_prefix("https://")
        .or_else(|| token.strip_prefix("http://"))
        .unwrap_or(token);
    let (host, rest) = token.split_once('/').ok_or("no path")?;
    let query = rest.strip_prefix('?').ok_or("no query string")?;
    if !host.eq_ignore_ascii_case(target) {
        return Err(format!("signed for {host}, not {target}"));
    }
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    if param("Action") != "connect" || param("User") != user {
        return Err("not a connect token for this user".into());
    }
    let expires: i64 = param("X-Amz-Expires")
        .parse()
        .map_err(|_| "no X-Amz-Expires")?;
    let date = NaiveDateTime::parse_from_str(param("X-Amz-Date"), "%Y%m%dT%H%M%SZ")
        .map_err(|_| "no X-Amz-Date")?
        .and_utc();
    if now > date + Duration::seconds(expires.min(MAX_EXPIRES_SECONDS)) {
        return Err("expired".into());
    }
    match verifier {
        Some(verifier) => {
            let mut headers = HeaderMap::new();
            let host = HeaderValue::from_str(host).map_err(|_| "bad host")?;
            headers.insert(axum::http::header::HOST, host);
            verifier
                .verify("GET", "/", Some(query), &headers, b"", now)
                .map_err(|e| e.to_string())
        }
        None if param("X-Amz-Algorithm") == "AWS4-HMAC-SHA256"
            && !param("X-Amz-Credential").is_empty()
            && !param("X-Amz-Signature").is_empty() =>
        {
            Ok(())
        }
        None => Err("not SigV4-presigned".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "mygroup/?Action=connect&User=iamuser&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261203%2Fus-east-1%2Felasticache%2Faws4_request&X-Amz-Date=20261203T142343Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=43dbffaaeaa41e7e08040aa6606ec892e5439efa46853ea2a10465846aa7ef43";

    fn at(time: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%M%SZ")
            .unwrap()
            .and_utc()
    }

    /// The token is botocore's (tests/python/iam_auth_token.py with AKID/secret).
    #[test]
    fn a_botocore_token_verifies_for_its_group_user_and_quarter_hour() {
        let verifier = Verifier::new(vec![("AKID".into(), "secret".into())]);
        let wrong = Verifier::new(vec![("AKID".into(), "other".into())]);
        let now = at("20261203T143000Z");
        let check = |v, token: &str, target, user, now| verify_token(v, token, target, user, now);
        assert_eq!(
            check(Some(&verifier), TOKEN, "mygroup", "iamuser", now),
            Ok(())
        );
        assert_eq!(check(None, TOKEN, "MyGroup", "iamuser", now), Ok(()));
        let with_scheme = format!("http://{TOKEN}");
        assert_eq!(
            check(Some(&verifier), &with_scheme, "mygroup", "iamuser", now),
            Ok(())
        );
        assert!(check(Some(&wrong), TOKEN, "mygroup", "iamuser", now).is_err());
        assert!(check(Some(&verifier), TOKEN, "other", "iamuser", now).is_err());
        assert!(check(Some(&verifier), TOKEN, "mygroup", "someone", now).is_err());
        let later = at("20261203T143900Z");
        assert_eq!(
            check(Some(&verifier), TOKEN, "mygroup", "iamuser", later),
            Err("expired".into())
        );
        assert!(
            check(
                None,
                "mygroup/?Action=connect&User=iamuser",
                "mygroup",
                "iamuser",
                now
            )
            .is_err()
        );
        assert!(check(None, "a-password-0123456789", "mygroup", "iamuser", now).is_err());
    }
}
