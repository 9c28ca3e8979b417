//! The memory a Redis/Valkey node has for data: its node type's memory less what its parameter
//! group reserves, set on the node as `maxmemory`, so a small node type evicts (per
//! `maxmemory-policy`) or refuses writes with `OOM` as it does on AWS.
//!
//! AWS keeps the reserved part out of `maxmemory` itself: a cache.t3.micro (0.5 GiB) in a
//! default group (`reserved-memory-percent` 25) reports `maxmemory:402653184` (0.375 GiB) in
//! `INFO memory` ("Why is the available memory in my ElastiCache node less than the pricing
//! page says", AWS knowledge center; "Managing reserved memory" in the user guide). The two
//! reservation parameters are mutually exclusive on AWS: a non-zero `reserved-memory` (bytes,
//! the pre-2017 one) is the reservation, else `reserved-memory-percent` of the node's memory.
//! Memcached nodes are left out: their memory (`-m`) is not set from the node type yet.

use super::catalogue::node_types;
use super::parameter_group::ParameterGroup;
use super::scope::Scope;
use super::start_settings::{group_or_family_default, start_settings_of};

/// The node type's memory less `group`'s reservation, in bytes; `None` for a type outside the
/// catalogue (refused at the edge, so only a resource stored by an older version).
pub fn maxmemory(node_type: &str, group: &ParameterGroup) -> Option<u64> {
    let memory = node_types::find(node_type)?.memory_bytes();
    let number = |name: &str| group.value(name).and_then(|v| v.parse::<u64>().ok());
    let reserved = match number("reserved-memory").filter(|bytes| *bytes > 0) {
        Some(bytes) => bytes,
        None => memory * number("reserved-memory-percent").unwrap_or(0).min(100) / 100,
    };
    // Never 0: for redis `maxmemory 0` means no limit at all.
    Some(memory.saturating_sub(reserved).max(1))
}

/// The `maxmemory` pair of a Redis/Valkey node of `node_type` running `group` (without one, the
/// family default group of `engine` `version`); `None` for Memcached.
pub fn maxmemory_setting(
    node_type: &str,
    group: Option<&ParameterGroup>,
    (engine, version): (&str, &str),
    scope: &Scope,
) -> Option<(String, String)> {
    if engine == "memcached" {
        return None;
    }
    let group = group_or_family_default(group, engine, version, scope)?;
    let bytes = maxmemory(node_type, &group)?;
    Some(("maxmemory".to_string(), bytes.to_string()))
}

/// What a new node starts with: its parameter group's start settings (see
/// [`start_settings_of`]) and the `maxmemory` of its node type.
pub fn node_start_settings(
    group: Option<&ParameterGroup>,
    node_type: &str,
    (engine, version): (&str, &str),
    scope: &Scope,
) -> Vec<(String, String)> {
    let mut settings = start_settings_of(group, engine, version, scope);
    settings.extend(maxmemory_setting(
        node_type,
        group,
        (engine, version),
        scope,
    ));
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope::new("000000000000", "us-east-1")
    }

    #[test]
    fn a_default_group_reserves_a_quarter_as_aws_reports_it() {
        let setting = maxmemory_setting("cache.t3.micro", None, ("redis", "7.1"), &scope());
        // AWS's knowledge-center example: cache.t3.micro, default group, INFO memory.
        assert_eq!(setting, Some(("maxmemory".into(), "402653184".into())));
    }

    #[test]
    fn memcached_and_unknown_types_get_no_maxmemory() {
        let memcached = ("memcached", "1.6.22");
        assert_eq!(
            maxmemory_setting("cache.t3.micro", None, memcached, &scope()),
            None
        );
        let valkey = ("valkey", "8.0");
        assert_eq!(
            maxmemory_setting("cache.x9.huge", None, valkey, &scope()),
            None
        );
    }
}
