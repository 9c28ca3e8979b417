//! The settings CreateReplicationGroup stores for a group (`GroupSettings`), parsed and checked
//! against AWS's rules: Multi-AZ needs automatic failover, the AUTH token's characters, the
//! engine version (resolved through the catalogue), the parameter group's family.

use crate::model::arn::ResourceKind;
use crate::model::catalogue::engine_versions::{self, family_mismatch};
use crate::model::group::GroupSettings;
use crate::model::parameter_group::{ParameterGroup, family_of_version};
use crate::protocol::query::invalid_value;
use crate::protocol::{ApiError, QueryParams};

/// Everything but the layout (members, node groups), which the caller has parsed already and
/// which decides `automatic_failover`. `local_default(engine)` is the version the engine's
/// default local binary runs: what a create without `EngineVersion` gets.
pub(super) fn parse(
    params: &QueryParams,
    automatic_failover: bool,
    local_default: impl Fn(&str) -> Option<String>,
    parameter_group: Option<&ParameterGroup>,
) -> Result<GroupSettings, ApiError> {
    let description = params.required("ReplicationGroupDescription")?.to_string();
    let multi_az = params.bool("MultiAZEnabled")?.unwrap_or(false);
    if multi_az && !automatic_failover {
        return Err(ApiError::InvalidParameterCombination(
            "Multi-AZ requires automatic failover to be enabled.".into(),
        ));
    }
    let auth_token = params
        .optional("AuthToken")
        .map(parse_auth_token)
        .transpose()?;
    let engine = parse_engine(params)?;
    let engine_version = parse_engine_version(params, &engine, local_default)?;
    let settings = GroupSettings {
        description,
        cache_node_type: params
            .optional("CacheNodeType")
            .unwrap_or("cache.t4g.micro")
            .to_string(),
        engine,
        engine_version,
        // Known once the create has chosen the nodes' binary.
        running_engine_version: String::new(),
        automatic_failover,
        multi_az,
        snapshot_retention_limit: params.int_in("SnapshotRetentionLimit", 0, 35)?.unwrap_or(0),
        snapshot_window: params.optional("SnapshotWindow").map(str::to_string),
        transit_encryption: params.bool("TransitEncryptionEnabled")?.unwrap_or(false),
        at_rest_encryption: params.bool("AtRestEncryptionEnabled")?.unwrap_or(false),
        auto_minor_version_upgrade: params.bool("AutoMinorVersionUpgrade")?.unwrap_or(true),
        auth_token,
        snapshotting_cluster_id: None,
        preferred_maintenance_window: params
            .optional("PreferredMaintenanceWindow")
            .map(str::to_string),
        notification_topic_arn: params.optional("NotificationTopicArn").map(str::to_string),
        notification_topic_status: params
            .optional("NotificationTopicArn")
            .map(|_| "active".to_string()),
        cache_parameter_group_name: parameter_group.map(|g| g.name.clone()),
        security_group_ids: params.list("SecurityGroupIds", "SecurityGroupId")?,
        cache_subnet_group_name: ResourceKind::SubnetGroup
            .lookup_key(params.optional("CacheSubnetGroupName").unwrap_or("default")),
        parameters_pending_reboot: false,
    };
    if let Some(parameter_group) = parameter_group {
        check_family(&settings, parameter_group)?;
    }
    Ok(settings)
}

/// The family of the group's parameter group must be that of its engine version.
fn check_family(
    settings: &GroupSettings,
    parameter_group: &ParameterGroup,
) -> Result<(), ApiError> {
    let expected =
        family_of_version(&settings.engine, &settings.engine_version).ok_or_else(|| {
            ApiError::InvalidParameterCombination(format!(
                "Cannot find version {} for {}",
                settings.engine_version, settings.engine
            ))
        })?;
    match family_mismatch(expected, &parameter_group.family) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// `EngineVersion` resolved through the catalogue and reported as AWS reports it (`7.1` ->
/// `7.1.0`), or refused with AWS's error (`Cannot find version 99.9 for redis`); without one,
/// the version the engine's local binary runs (the catalogue's default if it has none).
fn parse_engine_version(
    params: &QueryParams,
    engine: &str,
    local_default: impl Fn(&str) -> Option<String>,
) -> Result<String, ApiError> {
    let asked = params.optional("EngineVersion");
    let local = asked.is_none().then(|| local_default(engine)).flatten();
    match local {
        Some(version) if version != "unknown" => Ok(version),
        _ => Ok(engine_versions::resolve(engine, asked)?
            .version
            .full_version
            .to_string()),
    }
}

pub(super) fn parse_engine(params: &QueryParams) -> Result<String, ApiError> {
    match params.optional("Engine") {
        None => Ok("redis".into()),
        Some(engine)
            if engine.eq_ignore_ascii_case("redis") || engine.eq_ignore_ascii_case("valkey") =>
        {
            Ok(engine.to_ascii_lowercase())
        }
        Some(other) => Err(invalid_value("Engine", other, "redis or valkey")),
    }
}

/// AWS's rules for an AUTH token: 16-128 printable ASCII characters, none of `@`, `"`, `/`.
pub(super) fn parse_auth_token(token: &str) -> Result<String, ApiError> {
    let printable = token
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '@' | '"' | '/'));
    if !(16..=128).contains(&token.len()) || !printable {
        return Err(ApiError::InvalidParameterValue(
            "Invalid AuthToken: it must be 16 to 128 printable characters and cannot contain '@', '\"' or '/'.".into(),
        ));
    }
    Ok(token.to_string())
}
