//! The settings CreateReplicationGroup stores for a group (`GroupSettings`), parsed and checked
//! against AWS's rules: Multi-AZ needs automatic failover, the AUTH token's characters, the
//! engine version (resolved through the catalogue), the parameter group's family.

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
    let transit_encryption_mode = super::transit_encryption::parse_create(params)?;
    let transit_encryption = transit_encryption_mode.is_some();
    if auth_token.is_some() && !transit_encryption {
        return Err(auth_token_needs_transit_encryption());
    }
    let user_group_ids = parse_user_group_ids(params, transit_encryption, auth_token.is_some())?;
    let settings = GroupSettings {
        description,
        stored: super::stored_settings::parse(params)?,
        engine,
        engine_version,
        // Known once the create has chosen the nodes' binary.
        running_engine_version: String::new(),
        automatic_failover,
        multi_az,
        transit_encryption,
        transit_encryption_mode,
        at_rest_encryption: params.bool("AtRestEncryptionEnabled")?.unwrap_or(false),
        kms_key_id: params.optional("KmsKeyId").map(str::to_string),
        auth_token,
        snapshotting_cluster_id: None,
        cache_parameter_group_name: parameter_group.map(|g| g.name.clone()),
        parameters_pending_reboot: false,
        user_group_ids,
        log_delivery: super::log_delivery::parse(params)?,
    };
    if let Some(parameter_group) = parameter_group {
        check_family(&settings, parameter_group)?;
        let group_id = params.optional("ReplicationGroupId").unwrap_or_default();
        crate::model::append_only::check(parameter_group, group_id, automatic_failover)?;
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

/// `UserGroupIds`: at most one user group (its users become the nodes' ACL users), which needs
/// in-transit encryption and excludes an AUTH token. Whether it exists is checked with the
/// model, when the group is inserted.
fn parse_user_group_ids(
    params: &QueryParams,
    transit_encryption: bool,
    auth_token: bool,
) -> Result<Vec<String>, ApiError> {
    let ids = params.list("UserGroupIds", "member")?;
    if ids.is_empty() {
        return Ok(ids);
    }
    if ids.len() > 1 {
        return Err(ApiError::InvalidParameterValue(format!(
            "A replication group can use one user group ({} given).",
            ids.len()
        )));
    }
    if !transit_encryption {
        // The message AWS gives (seen from Terraform against the real service).
        return Err(ApiError::InvalidParameterCombination(
            "User group based access control requires encryption-in-transit to be enabled on the replication group.".into(),
        ));
    }
    if auth_token {
        return Err(ApiError::InvalidParameterCombination(
            "AuthToken and UserGroupIds cannot both be given: a replication group authenticates with an AUTH token or with the users of a user group.".into(),
        ));
    }
    Ok(ids)
}

/// AWS's rules for an AUTH token (API reference, `AuthToken`): 16-128 printable ASCII
/// characters whose only non-alphanumeric ones are `!`, `&`, `#`, `$`, `^`, `<`, `>` and `-`.
/// The message starts as AWS's does ("Invalid AuthToken provided.", seen from the real service)
/// and then names the rule.
pub(crate) fn parse_auth_token(token: &str) -> Result<String, ApiError> {
    let allowed = token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!&#$^<>-".contains(c));
    if !(16..=128).contains(&token.len()) || !allowed {
        return Err(ApiError::InvalidParameterValue(
            "Invalid AuthToken provided. It must be 16 to 128 characters long, of letters, digits and only these special characters: !, &, #, $, ^, <, >, -.".into(),
        ));
    }
    Ok(token.to_string())
}

/// AWS accepts an AUTH token only on a group with in-transit encryption (API reference:
/// "AuthToken can be specified only on replication groups where TransitEncryptionEnabled is
/// true"; the wire message is that sentence, AWS's exact one is not on record).
pub(crate) fn auth_token_needs_transit_encryption() -> ApiError {
    ApiError::InvalidParameterValue(
        "AuthToken can be specified only on replication groups where TransitEncryptionEnabled is true.".into(),
    )
}

/// Every group and cache cluster here is in a VPC (its subnet group's), where AWS takes no
/// cache security groups (EC2-Classic only): Create and Modify of both answer AWS's error.
pub(crate) fn refuse_cache_security_groups(params: &QueryParams) -> Result<(), ApiError> {
    if params
        .entries()
        .any(|(key, _)| key.starts_with("CacheSecurityGroupNames."))
    {
        return Err(ApiError::InvalidParameterCombination(
            "Use of cache security groups is not permitted along with cache subnet group.".into(),
        ));
    }
    Ok(())
}

/// Features with no local equivalent are refused up front (no silently different group).
pub(super) fn reject_unsupported(params: &QueryParams) -> Result<(), ApiError> {
    if let Some(cluster) = params.optional("PrimaryClusterId") {
        return Err(ApiError::cache_cluster_not_found(cluster));
    }
    refuse_cache_security_groups(params)?;
    // No global datastore can be created here (CreateGlobalReplicationGroup is not served), so
    // no id names one: AWS's answer for an unknown id.
    if let Some(id) = params.optional("GlobalReplicationGroupId") {
        return Err(ApiError::GlobalReplicationGroupNotFoundFault(format!(
            "Global replication group {id} not found."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_auth_token, reject_unsupported};
    use crate::protocol::QueryParams;

    #[test]
    fn cache_security_groups_are_refused_not_ignored() {
        let code = |key: &str| {
            let params = QueryParams::from_pairs([(key, "x")]);
            reject_unsupported(&params).unwrap_err().code()
        };
        assert_eq!(
            code("CacheSecurityGroupNames.CacheSecurityGroupName.1"),
            "InvalidParameterCombination"
        );
        assert_eq!(
            code("GlobalReplicationGroupId"),
            "GlobalReplicationGroupNotFoundFault"
        );
        assert!(reject_unsupported(&QueryParams::from_pairs([("NumCacheClusters", "1")])).is_ok());
    }

    #[test]
    fn an_auth_token_is_16_to_128_letters_digits_and_the_eight_specials() {
        for good in ["0123456789abcdef", "Abc!&#$^<>-12345", &"x".repeat(128)] {
            assert_eq!(parse_auth_token(good).as_deref(), Ok(good));
        }
        for bad in [
            "0123456789abcde",
            &"x".repeat(129),
            "0123456789abcdef@",
            "0123456789abcdef/",
            "0123456789abcdef\"",
            "0123456789abcdef%",
            "0123456789abcdef_",
            "0123456789 abcdef",
            "0123456789abcdeé",
        ] {
            let error = parse_auth_token(bad).unwrap_err();
            assert_eq!(error.code(), "InvalidParameterValue", "{bad}");
            assert!(
                error.message().starts_with("Invalid AuthToken provided."),
                "{bad}"
            );
        }
    }
}
