//! What a new node starts with from its parameter group: the group's own values and the family
//! defaults in which ElastiCache differs from the engines' own (the node type's `maxmemory` is
//! added by `node_memory`).

use std::borrow::Cow;

use super::parameter_group::{ParameterGroup, default_group, family_of_version};
use super::scope::Scope;

/// The family defaults in which ElastiCache differs from redis-server's and valkey-server's own
/// (their `noeviction`, 5 samples and synchronous replica flush): a node started without them
/// would evict, or refuse writes, unlike an ElastiCache node. The other defaults of the
/// families are the engines' own, so a new node is not sent them.
const DIFFERENT_FROM_ENGINE: [&str; 3] = [
    "maxmemory-policy",
    "maxmemory-samples",
    "replica-lazy-flush",
];

impl ParameterGroup {
    /// What a new node starts with: the group's own values, and the family defaults in which
    /// ElastiCache differs from the engine's own (see [`DIFFERENT_FROM_ENGINE`]).
    pub fn start_settings(&self) -> Vec<(String, String)> {
        let mut names: Vec<String> = self.values.keys().cloned().collect();
        for name in DIFFERENT_FROM_ENGINE {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        self.node_settings(Some(&names), true)
    }

    /// The family's default group (`default.<family>`), whose values never change: what a
    /// resource created without `CacheParameterGroupName` runs with.
    pub fn family_default(family: &str, scope: &Scope) -> Self {
        default_group(format!("default.{family}"), family, scope)
    }
}

/// The group a node runs: `group`, or without one the default group of the family of `engine`
/// `version` (`None` for a version of no known family).
pub fn group_or_family_default<'a>(
    group: Option<&'a ParameterGroup>,
    engine: &str,
    version: &str,
    scope: &Scope,
) -> Option<Cow<'a, ParameterGroup>> {
    match group {
        Some(group) => Some(Cow::Borrowed(group)),
        None => family_of_version(engine, version)
            .map(|family| Cow::Owned(ParameterGroup::family_default(family, scope))),
    }
}

/// What a new node starts with: the start settings of the group it runs (see
/// [`group_or_family_default`]).
pub fn start_settings_of(
    group: Option<&ParameterGroup>,
    engine: &str,
    version: &str,
    scope: &Scope,
) -> Vec<(String, String)> {
    group_or_family_default(group, engine, version, scope)
        .map(|group| group.start_settings())
        .unwrap_or_default()
}
