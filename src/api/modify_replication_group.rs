//! ModifyReplicationGroup: every rule checked first (see `Model::begin_modify`), the group goes
//! `modifying`, then the engine applies what touches the nodes (AUTH token, primary) and the
//! group returns to `available` with its events.

use super::engine_upgrade;
use super::replication_group_users;
use super::shapes::ReplicationGroupResult;
use crate::model::catalogue::engine_versions::family_mismatch;
use crate::model::catalogue::parameters::ChangeType;
use crate::model::maintenance::DeferredChange;
use crate::model::modify::{AuthChange, GroupChange};
use crate::model::parameter_group::family_of_version;
use crate::protocol::query::invalid_value;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};
use crate::workflows::{maintenance, modify, node_memory};

/// Members accepted by the model that have no local equivalent: refused rather than silently
/// dropped, so a caller never believes a change was made.
const UNSUPPORTED: [&str; 1] = ["LogDeliveryConfigurations"];

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<ReplicationGroupResult, ApiError> {
    super::input_catalogue::check(params, &ctx.region)?;
    let group_id = params.required("ReplicationGroupId")?;
    let mut change = parse_change(params)?;
    check_transit_encryption(state, group_id, &change)?;
    change.transit_encryption =
        super::transit_encryption::check_modify(state, params, group_id).await?;
    let user_groups = replication_group_users::parse(params)?;
    let new_user_groups = user_groups
        .as_ref()
        .map(|c| replication_group_users::check(&state.model(), group_id, c))
        .transpose()?;
    let planned = engine_upgrade::plan(state, params, group_id).await?;
    let upgrade_binary = planned.map(|planned| {
        // A new family's nodes start from its default group unless the request names one.
        if change.cache_parameter_group_name.is_none() {
            change.cache_parameter_group_name = planned.new_family_default;
        }
        change.engine_upgrade = Some(planned.upgrade);
        planned.binary
    });
    let mut upgrade_binary = upgrade_binary;
    let mut pending_reboot = switch_parameter_group(state, ctx, group_id, &mut change)?;
    check_append_only(state, ctx, group_id, &change)?;
    // AWS's default: what needs the nodes replaced waits for the maintenance window.
    let deferred = match params.bool("ApplyImmediately")? {
        Some(true) => None,
        _ => DeferredChange::split_off(&mut change, &mut upgrade_binary),
    };
    node_memory::add_to_change(state, group_id, &mut change);
    if deferred
        .as_ref()
        .is_some_and(|d| d.change.engine_upgrade.is_some())
    {
        pending_reboot = false; // the parameter group comes with the upgrade's new nodes
    }
    let group = state.model().begin_modify(group_id, &change)?;
    if let Some(deferred) = deferred {
        state.model().defer_change(group_id, deferred)?;
        maintenance::watch(state.clone(), group.id.to_string());
    }
    let users_applied = match new_user_groups {
        Some(ids) => replication_group_users::apply(state, &group.id.to_string(), ids).await,
        None => Ok(()),
    };
    if pending_reboot {
        state.model().mark_pending_reboot(&[group.id.to_string()]);
    }
    // Read again: the user groups changed since `begin_modify`.
    let group = state.model().group(group_id).cloned().unwrap_or(group);
    let response = ReplicationGroupResult::from_model(&group);
    tracing::info!(group = %group.id, ?change.automatic_failover, ?change.primary_cluster_id, auth = ?change.auth.as_ref().map(|a| a.strategy()), "modifying replication group");
    // The workflow runs even when the users could not be applied, so the group leaves
    // `modifying`; the caller learns of the failure.
    let id = group.id.to_string();
    if touches_nothing_running(&change) && upgrade_binary.is_none() {
        // Metadata only: AWS applies it at once and the group stays `available`.
        modify::run(state.clone(), id.clone(), change, None).await;
        let group = state.model().group(&id).cloned().unwrap_or(group);
        users_applied?;
        return Ok(ReplicationGroupResult::from_model(&group));
    }
    tokio::spawn(modify::run(state.clone(), id, change, upgrade_binary));
    users_applied?;
    Ok(response)
}

/// True for a change the nodes never see and that AWS reports no progress of (description,
/// windows, retention, notification topic...): no `modifying` status for it.
fn touches_nothing_running(change: &GroupChange) -> bool {
    change.automatic_failover.is_none()
        && change.multi_az.is_none()
        && change.primary_cluster_id.is_none()
        && change.auth.is_none()
        && change.engine_upgrade.is_none()
        && change.transit_encryption.is_none()
        && change.parameter_settings.is_empty()
        && change.cache_parameter_group_name.is_none()
}

/// AOF and automatic failover exclude each other: judged on the group as the change leaves it
/// (its automatic failover, its parameter group after any switch).
fn check_append_only(
    state: &SharedState,
    ctx: &RequestContext,
    group_id: &str,
    change: &GroupChange,
) -> Result<(), ApiError> {
    let model = state.model();
    let group = model.group(group_id)?;
    let settings = &group.settings;
    let automatic_failover = change
        .automatic_failover
        .unwrap_or(settings.automatic_failover);
    let name = change
        .cache_parameter_group_name
        .as_ref()
        .or(settings.cache_parameter_group_name.as_ref());
    match name.map(|name| model.parameter_group(name, &ctx.scope())) {
        Some(Ok(parameter_group)) => crate::model::append_only::check(
            &parameter_group,
            group.id.as_str(),
            automatic_failover,
        ),
        _ => Ok(()),
    }
}

/// A new AUTH token (SET, ROTATE) needs a group with in-transit encryption, as on AWS (a
/// token with a step of the migration in the same request is judged by the current state).
fn check_transit_encryption(
    state: &SharedState,
    group_id: &str,
    change: &GroupChange,
) -> Result<(), ApiError> {
    let new_token = matches!(
        change.auth,
        Some(AuthChange::Set(_) | AuthChange::Rotate(_))
    );
    let model = state.model();
    let settings = &model.group(group_id)?.settings;
    if new_token && !settings.transit_encryption {
        return Err(super::group_settings::auth_token_needs_transit_encryption());
    }
    if change.auth.is_some() && !settings.user_group_ids.is_empty() {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Replication group {group_id} authenticates with the users of a user group: it has no AUTH token to change."
        )));
    }
    Ok(())
}

/// `CacheParameterGroupName`: the new group must exist, be of the group's family and of its
/// cluster mode. The nodes get the new group's `immediate` value of every parameter either
/// group sets; true when a `requires-reboot` value differs (the group goes `pending-reboot`).
fn switch_parameter_group(
    state: &SharedState,
    ctx: &RequestContext,
    group_id: &str,
    change: &mut GroupChange,
) -> Result<bool, ApiError> {
    let Some(name) = change.cache_parameter_group_name.clone() else {
        return Ok(false);
    };
    let model = state.model();
    let scope = ctx.scope();
    let group = model.group(group_id)?;
    let new = model.parameter_group(&name, &scope)?;
    let settings = &group.settings;
    let current_family = family_of_version(&settings.engine, &settings.engine_version);
    // After an upgrade in the same request, the group's family is the new version's.
    let expected = match &change.engine_upgrade {
        Some(upgrade) => family_of_version(&upgrade.engine, &upgrade.engine_version),
        None => current_family,
    }
    .unwrap_or(new.family.as_str());
    if let Some(error) = family_mismatch(expected, &new.family) {
        return Err(error);
    }
    if new.cluster_enabled() != group.cluster_enabled {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Cache parameter group {} has cluster-enabled {}, but replication group {} runs cluster mode {}: elasticache-local does not change a group's cluster mode.",
            new.name,
            if new.cluster_enabled() { "yes" } else { "no" },
            group.id,
            if group.cluster_enabled {
                "enabled"
            } else {
                "disabled"
            },
        )));
    }
    let old_name = settings
        .cache_parameter_group_name
        .clone()
        .unwrap_or_else(|| {
            let family = current_family.unwrap_or(expected);
            match group.cluster_enabled {
                true => format!("default.{family}.cluster.on"),
                false => format!("default.{family}"),
            }
        });
    let old = model.parameter_group(&old_name, &scope).ok();
    let mut names: Vec<String> = new.values.keys().cloned().collect();
    names.extend(old.iter().flat_map(|o| o.values.keys().cloned()));
    names.sort();
    names.dedup();
    let reboot_differs = new.parameters().iter().any(|p| {
        p.parameter.change_type == ChangeType::RequiresReboot
            && names.iter().any(|n| n == p.parameter.name)
            && old.as_ref().and_then(|o| o.value(p.parameter.name)) != Some(p.value.clone())
    });
    change.parameter_settings = new.node_settings(Some(&names), false);
    change.cache_parameter_group_name = Some(new.name);
    Ok(reboot_differs)
}

fn parse_change(params: &QueryParams) -> Result<GroupChange, ApiError> {
    super::group_settings::refuse_cache_security_groups(params)?;
    // `has`: a list of structures arrives only as its members' fields.
    if let Some(name) = UNSUPPORTED.iter().find(|name| params.has(name)) {
        return Err(ApiError::InvalidParameterValue(format!(
            "elasticache-local does not support {name}."
        )));
    }
    if params
        .optional("ClusterMode")
        .is_some_and(|m| !m.eq_ignore_ascii_case("disabled"))
    {
        return Err(ApiError::InvalidParameterValue(
            "elasticache-local does not migrate a replication group between cluster modes (ClusterMode enabled or compatible).".into(),
        ));
    }
    params.bool("ApplyImmediately")?; // validated here, applied by `run`
    let description = params
        .optional("ReplicationGroupDescription")
        .map(str::to_string);
    if description.as_ref().is_some_and(|d| d.len() > 255) {
        return Err(ApiError::InvalidParameterValue(
            "ReplicationGroupDescription must be at most 255 characters.".into(),
        ));
    }
    let lower = |name: &str| params.optional(name).map(str::to_ascii_lowercase);
    Ok(GroupChange {
        description,
        automatic_failover: params.bool("AutomaticFailoverEnabled")?,
        multi_az: params.bool("MultiAZEnabled")?,
        primary_cluster_id: lower("PrimaryClusterId"),
        snapshotting_cluster_id: lower("SnapshottingClusterId"),
        auth: parse_auth(params)?,
        cache_node_type: params.optional("CacheNodeType").map(str::to_string),
        engine_upgrade: None, // planned by `engine_upgrade::plan`
        preferred_maintenance_window: params
            .optional("PreferredMaintenanceWindow")
            .map(parse_window)
            .transpose()?,
        notification_topic_arn: params.optional("NotificationTopicArn").map(str::to_string),
        notification_topic_status: parse_one_of(
            params,
            "NotificationTopicStatus",
            &["active", "inactive"],
        )?,
        cache_parameter_group_name: params
            .optional("CacheParameterGroupName")
            .map(str::to_string),
        parameter_settings: vec![],
        transit_encryption: None, // checked against the group by `transit_encryption`
        snapshot_retention_limit: params.int_in("SnapshotRetentionLimit", 0, 35)?,
        snapshot_window: params.optional("SnapshotWindow").map(str::to_string),
        auto_minor_version_upgrade: params.bool("AutoMinorVersionUpgrade")?,
        security_group_ids: match params.optional("SecurityGroupIds") {
            Some(_) => Some(vec![]), // the bare key: an empty list
            None => Some(params.list("SecurityGroupIds", "SecurityGroupId")?)
                .filter(|ids| !ids.is_empty()),
        },
    })
}

/// `AuthToken` must come with `AuthTokenUpdateStrategy`: SET and ROTATE need a token, DELETE
/// must not have one.
fn parse_auth(params: &QueryParams) -> Result<Option<AuthChange>, ApiError> {
    let token = params.optional("AuthToken");
    let strategy = parse_one_of(
        params,
        "AuthTokenUpdateStrategy",
        &["SET", "ROTATE", "DELETE"],
    )?;
    let change = match (strategy.as_deref(), token) {
        (None, None) => return Ok(None),
        (None, Some(_)) => {
            return Err(ApiError::InvalidParameterCombination(
                "AuthToken must be specified with AuthTokenUpdateStrategy.".into(),
            ));
        }
        (Some("DELETE"), None) => AuthChange::Delete,
        (Some("DELETE"), Some(_)) => {
            return Err(ApiError::InvalidParameterCombination(
                "AuthToken cannot be given with AuthTokenUpdateStrategy DELETE.".into(),
            ));
        }
        (Some(_), None) => return Err(ApiError::missing_parameter("AuthToken")),
        (Some("SET"), Some(token)) => {
            AuthChange::Set(super::group_settings::parse_auth_token(token)?)
        }
        (Some(_), Some(token)) => {
            AuthChange::Rotate(super::group_settings::parse_auth_token(token)?)
        }
    };
    Ok(Some(change))
}

fn parse_one_of(
    params: &QueryParams,
    name: &str,
    allowed: &[&str],
) -> Result<Option<String>, ApiError> {
    match params.optional(name) {
        None => Ok(None),
        Some(value) if allowed.contains(&value) => Ok(Some(value.to_string())),
        Some(value) => Err(invalid_value(name, value, &allowed.join(" or "))),
    }
}

/// `ddd:hh24:mi-ddd:hh24:mi`, e.g. `sun:23:00-mon:01:30`.
fn parse_window(raw: &str) -> Result<String, ApiError> {
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let valid_end = |end: &str| {
        let mut parts = end.split(':');
        let (Some(day), Some(hour), Some(minute), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        DAYS.contains(&day.to_ascii_lowercase().as_str())
            && hour.len() == 2
            && minute.len() == 2
            && hour.parse::<u32>().is_ok_and(|h| h < 24)
            && minute.parse::<u32>().is_ok_and(|m| m < 60)
    };
    match raw.split_once('-') {
        Some((start, end)) if valid_end(start) && valid_end(end) => Ok(raw.to_ascii_lowercase()),
        _ => Err(invalid_value(
            "PreferredMaintenanceWindow",
            raw,
            "ddd:hh24:mi-ddd:hh24:mi",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_windows_follow_the_aws_format() {
        assert_eq!(
            parse_window("Sun:23:00-mon:01:30").unwrap(),
            "sun:23:00-mon:01:30"
        );
        for bad in [
            "sun:23:00",
            "xyz:01:00-sun:02:00",
            "sun:24:00-mon:01:00",
            "sun:1:00-mon:01:00",
        ] {
            assert_eq!(
                parse_window(bad).unwrap_err().code(),
                "InvalidParameterValue",
                "{bad}"
            );
        }
    }

    #[test]
    fn auth_token_needs_its_strategy() {
        let code = |pairs: &[(&str, &str)]| {
            parse_auth(&QueryParams::from_pairs(pairs.iter().copied()))
                .unwrap_err()
                .code()
        };
        assert_eq!(
            code(&[("AuthToken", "0123456789abcdefgh")]),
            "InvalidParameterCombination"
        );
        assert_eq!(
            code(&[("AuthTokenUpdateStrategy", "SET")]),
            "MissingParameter"
        );
        assert_eq!(
            code(&[
                ("AuthTokenUpdateStrategy", "DELETE"),
                ("AuthToken", "0123456789abcdefgh")
            ]),
            "InvalidParameterCombination"
        );
        assert_eq!(
            code(&[("AuthTokenUpdateStrategy", "REPLACE")]),
            "InvalidParameterValue"
        );
        let rotate = parse_auth(&QueryParams::from_pairs([
            ("AuthTokenUpdateStrategy", "ROTATE"),
            ("AuthToken", "0123456789abcdefgh"),
        ]));
        assert_eq!(
            rotate.unwrap(),
            Some(AuthChange::Rotate("0123456789abcdefgh".into()))
        );
    }
}
