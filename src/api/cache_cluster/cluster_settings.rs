//! What CreateCacheCluster stores for a standalone cluster, parsed and checked against AWS's
//! rules: one node for Redis and Valkey, 1-40 for Memcached, zones that match the node count, a parameter
//! group of the engine's family. Features with no local equivalent are refused.

use crate::model::cache_cluster::{CacheEngine, ClusterSettings, MAX_MEMCACHED_NODES};
use crate::model::catalogue::engine_versions::{self, family_mismatch};
use crate::model::parameter_group::{ParameterGroup, family_of_version};
use crate::protocol::query::invalid_value;
use crate::protocol::{ApiError, QueryParams};

const AZ_SUFFIXES: [char; 6] = ['a', 'b', 'c', 'd', 'e', 'f'];

/// `NumCacheNodes`: exactly 1 for Redis and Valkey, 1-40 for Memcached (more is the node
/// quota).
pub(super) fn node_count(params: &QueryParams, engine: CacheEngine) -> Result<usize, ApiError> {
    let Some(raw) = params.int_in("NumCacheNodes", i64::MIN, i64::MAX)? else {
        return Ok(1);
    };
    if raw < 1 {
        return Err(ApiError::InvalidParameterValue(format!(
            "NumCacheNodes must be at least 1; {raw} was given."
        )));
    }
    match engine {
        CacheEngine::Redis | CacheEngine::Valkey if raw > 1 => {
            Err(ApiError::InvalidParameterCombination(format!(
                "Cannot create a {} cluster with a NumCacheNodes parameter greater than 1 ({raw} was given): use a replication group for replicas.",
                engine.display_name()
            )))
        }
        CacheEngine::Memcached if raw as usize > MAX_MEMCACHED_NODES => {
            Err(ApiError::NodeQuotaForClusterExceeded(format!(
                "Cannot create a Memcached cluster of {raw} nodes: the quota is {MAX_MEMCACHED_NODES} nodes per cluster."
            )))
        }
        _ => Ok(raw as usize),
    }
}

/// `Port`: where every node (and Memcached's configuration endpoint) listens, each on its own
/// address; AWS's defaults are 6379 for Redis and Valkey, 11211 for Memcached.
pub(super) fn port(params: &QueryParams, engine: CacheEngine) -> Result<u16, ApiError> {
    let default = match engine {
        CacheEngine::Memcached => 11211,
        CacheEngine::Redis | CacheEngine::Valkey => 6379,
    };
    Ok(params
        .int_in("Port", 1, 65535)?
        .map_or(default, |p| p as u16))
}

/// The zones of the first `count` nodes (and those placed later, in turn), the zone
/// `PreferredAvailabilityZone` reports, and whether the cluster is cross-AZ.
pub(super) fn zones(
    params: &QueryParams,
    engine: CacheEngine,
    count: usize,
    region: &str,
) -> Result<(Vec<String>, String, bool), ApiError> {
    let cross_az = match params.optional("AZMode") {
        None | Some("single-az") => false,
        Some("cross-az") if engine == CacheEngine::Memcached => true,
        Some("cross-az") => {
            return Err(ApiError::InvalidParameterValue(
                "AZMode cross-az is only valid for Memcached cache clusters.".into(),
            ));
        }
        Some(other) => return Err(invalid_value("AZMode", other, "single-az or cross-az")),
    };
    let one = params.optional("PreferredAvailabilityZone");
    let many = params.list("PreferredAvailabilityZones", "PreferredAvailabilityZone")?;
    if one.is_some() && !many.is_empty() {
        return Err(ApiError::InvalidParameterCombination(
            "Give PreferredAvailabilityZone or PreferredAvailabilityZones, not both.".into(),
        ));
    }
    if !many.is_empty() && many.len() != count {
        return Err(ApiError::InvalidParameterCombination(format!(
            "The number of PreferredAvailabilityZones ({}) must equal NumCacheNodes ({count}).",
            many.len()
        )));
    }
    let zones = match (one, many.is_empty(), cross_az) {
        (Some(zone), _, false) => vec![zone.to_string()],
        (Some(_), _, true) => {
            return Err(ApiError::InvalidParameterCombination(
                "A cross-az cluster spreads its nodes: give PreferredAvailabilityZones, not one PreferredAvailabilityZone.".into(),
            ));
        }
        (None, false, _) => many,
        (None, true, true) => AZ_SUFFIXES[..3]
            .iter()
            .map(|s| format!("{region}{s}"))
            .collect(),
        (None, true, false) => vec![format!("{region}a")],
    };
    let distinct = zones.iter().any(|z| *z != zones[0]);
    let preferred = match cross_az || distinct {
        true => "Multiple".to_string(),
        false => zones[0].clone(),
    };
    Ok((zones, preferred, cross_az || distinct))
}

/// `EngineVersion` resolves through the catalogue as a group's does (`7.1` is `7.1.0`, memcached
/// versions are named in full, `99.9` is refused). Without one: `default_version`, what the local
/// binary runs.
fn engine_version(
    params: &QueryParams,
    engine: CacheEngine,
    default_version: &str,
) -> Result<String, ApiError> {
    match params.optional("EngineVersion") {
        Some(asked) => Ok(engine_versions::resolve(engine.as_str(), Some(asked))?
            .version
            .full_version
            .to_string()),
        None => Ok(default_version.to_string()),
    }
}

/// Everything stored as given (the `EngineVersion` resolved); `default_version` when no
/// `EngineVersion`.
pub(super) fn parse(
    params: &QueryParams,
    engine: CacheEngine,
    default_version: &str,
    parameter_group: Option<&ParameterGroup>,
    cross_az: bool,
) -> Result<ClusterSettings, ApiError> {
    reject_unsupported(params, engine)?;
    let auth_token = params
        .optional("AuthToken")
        .map(crate::api::group_settings::parse_auth_token)
        .transpose()?;
    let transit_encryption_mode = crate::api::transit_encryption::parse_create(params)?;
    if transit_encryption_mode.is_some() && engine == CacheEngine::Memcached {
        return Err(ApiError::InvalidParameterCombination(
            "elasticache-local does not support in-transit encryption (TLS) for memcached.".into(),
        ));
    }
    let settings = ClusterSettings {
        stored: crate::api::stored_settings::parse(params)?,
        engine_version: engine_version(params, engine, default_version)?,
        // Known once the create has chosen the nodes' binary.
        running_engine_version: String::new(),
        cache_parameter_group_name: parameter_group.map(|g| g.name.clone()),
        transit_encryption: transit_encryption_mode.is_some(),
        transit_encryption_mode,
        auth_token,
        cross_az,
    };
    if let Some(group) = parameter_group {
        check_parameter_group(engine, &settings.engine_version, group)?;
    }
    Ok(settings)
}

/// A Redis or Valkey cluster's group must be of its version's family, and not cluster mode;
/// Memcached has no parameter groups here beyond its default.
fn check_parameter_group(
    engine: CacheEngine,
    version: &str,
    group: &ParameterGroup,
) -> Result<(), ApiError> {
    if engine == CacheEngine::Memcached {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Cache parameter group {} is of family {}, not a memcached family.",
            group.name, group.family
        )));
    }
    if group.cluster_enabled() {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Cache parameter group {} enables cluster mode, which a standalone cache cluster cannot use.",
            group.name
        )));
    }
    let engine = engine.as_str();
    let expected = family_of_version(engine, version).ok_or_else(|| {
        ApiError::InvalidParameterCombination(format!("Cannot find version {version} for {engine}"))
    })?;
    family_mismatch(expected, &group.family).map_or(Ok(()), Err)
}

/// Refused up front, so a caller never gets a cluster that silently differs from its request.
fn reject_unsupported(params: &QueryParams, engine: CacheEngine) -> Result<(), ApiError> {
    let unsupported = |what: &str| {
        ApiError::InvalidParameterValue(format!("elasticache-local does not support {what}."))
    };
    for (name, what) in [
        ("OutpostMode", "Outposts (OutpostMode)"),
        ("PreferredOutpostArn", "Outposts (PreferredOutpostArn)"),
        ("PreferredOutpostArns", "Outposts (PreferredOutpostArns)"),
        ("LogDeliveryConfigurations", "log delivery"),
    ] {
        // `has`: a list of structures arrives only as its members' fields.
        if params.has(name) {
            return Err(unsupported(what));
        }
    }
    crate::api::group_settings::refuse_cache_security_groups(params)?;
    // NetworkType and IpDiscovery: `input_catalogue::check` (ipv4 only, as the actions share).
    if engine == CacheEngine::Memcached
        && (params.optional("AuthToken").is_some()
            || params
                .optional("SnapshotRetentionLimit")
                .is_some_and(|v| v != "0"))
    {
        return Err(ApiError::InvalidParameterCombination(
            "AuthToken and snapshots are only available for Redis cache clusters.".into(),
        ));
    }
    Ok(())
}
