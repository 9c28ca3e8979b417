//! Cache parameter groups as a scope keeps them: the user's own groups (a family and the
//! values set on it), and the `default.<family>[.cluster.on]` groups every scope has, which
//! are synthesized from the catalogue and can be neither modified nor deleted.
//!
//! What a group's values mean on a node (which reach `CONFIG SET`, under which name) is the
//! catalogue's `node_config`; this file turns a group's values into those settings.

use std::collections::BTreeMap;

use super::Model;
use super::arn::{Arn, ResourceKind};
use super::catalogue::engine_versions::FAMILIES;
use super::catalogue::parameters::{
    ChangeType, NodeConfig, Parameter, client_output_buffer_limit, family_parameters, node_config,
    validate,
};
use super::resource::{Lifecycle, Resource};
use super::scope::Scope;
use crate::protocol::ApiError;

/// AWS's default quota of parameter groups per region (the defaults do not count).
pub const MAX_PARAMETER_GROUPS: usize = 150;
/// AWS takes at most 20 `ParameterNameValues` in one Modify or Reset.
pub const MAX_PARAMETERS_PER_CALL: usize = 20;

/// A parameter group has no status of its own on the API; it only ever exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ParameterGroupStatus {
    Available,
}

impl Lifecycle for ParameterGroupStatus {
    fn as_str(self) -> &'static str {
        "available"
    }
    fn allows(self, _next: Self) -> bool {
        false
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParameterGroup {
    /// Stored lower-case, as AWS does (Terraform's `name` lowercases too).
    pub name: String,
    /// `redis7`: what the API reports as `CacheParameterGroupFamily`.
    pub family: String,
    pub description: String,
    pub arn: Arn,
    /// True for the `default.*` groups.
    pub is_default: bool,
    /// The values the user set (`Source` `user`), by parameter name.
    pub values: BTreeMap<String, String>,
    pub revision: u64,
}

/// One parameter of a group as `DescribeCacheParameters` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupParameter {
    pub parameter: Parameter,
    pub value: String,
    /// `user` when the group sets it, `system` otherwise.
    pub source: &'static str,
}

impl Resource for ParameterGroup {
    const KIND: ResourceKind = ResourceKind::ParameterGroup;
    type Status = ParameterGroupStatus;

    fn id(&self) -> &str {
        &self.name
    }
    fn status(&self) -> ParameterGroupStatus {
        ParameterGroupStatus::Available
    }
    fn set_status(&mut self, _status: ParameterGroupStatus) {}
    fn set_revision(&mut self, revision: u64) {
        self.revision = revision;
    }
    fn not_found(raw_id: &str) -> ApiError {
        ApiError::CacheParameterGroupNotFound(format!("CacheParameterGroup {raw_id} not found."))
    }
    fn already_exists(id: &str) -> ApiError {
        ApiError::CacheParameterGroupAlreadyExists(format!(
            "Cache Parameter Group {id} already exists."
        ))
    }
    fn invalid_state(&self, _wanted: ParameterGroupStatus) -> ApiError {
        ApiError::InvalidCacheParameterGroupState(format!(
            "Cache parameter group {} is not in a valid state.",
            self.name
        ))
    }
}

impl ParameterGroup {
    /// A new user group of `family`, which must be one the catalogue knows.
    pub fn new(
        raw_name: &str,
        family: &str,
        description: &str,
        scope: &Scope,
    ) -> Result<Self, ApiError> {
        if is_default_name(raw_name) {
            return Err(Self::already_exists(&raw_name.to_ascii_lowercase()));
        }
        let name = ResourceKind::ParameterGroup.parse_id(raw_name)?;
        if !FAMILIES.contains(&family) {
            return Err(ApiError::InvalidParameterValue(format!(
                "The parameter CacheParameterGroupFamily {family} is not a valid family: one of {}.",
                FAMILIES.join(", ")
            )));
        }
        Ok(Self {
            arn: Arn::new(ResourceKind::ParameterGroup, scope, &name),
            name,
            family: family.to_string(),
            description: description.to_string(),
            is_default: false,
            values: BTreeMap::new(),
            revision: 0,
        })
    }

    /// The catalogue key of its parameter list: `redis7`, or `redis7.cluster.on` for that
    /// default group (which differs only in `cluster-enabled yes`, shown as `system`).
    fn catalogue_family(&self) -> String {
        if self.is_default && self.name.ends_with(".cluster.on") {
            format!("{}.cluster.on", self.family)
        } else {
            self.family.clone()
        }
    }

    /// Every parameter with its value and source, sorted by name.
    pub fn parameters(&self) -> Vec<GroupParameter> {
        family_parameters(&self.catalogue_family())
            .unwrap_or_default()
            .into_iter()
            .map(|parameter| match self.values.get(parameter.name) {
                Some(value) => GroupParameter {
                    value: value.clone(),
                    source: "user",
                    parameter,
                },
                None => GroupParameter {
                    value: parameter.default.to_string(),
                    source: Parameter::SOURCE,
                    parameter,
                },
            })
            .collect()
    }

    /// The value of `name` in this group (the user's, else the family default).
    pub fn value(&self, name: &str) -> Option<String> {
        self.parameters()
            .into_iter()
            .find(|p| p.parameter.name == name)
            .map(|p| p.value)
    }

    /// True when `cluster-enabled` is `yes`: groups created with it run cluster mode enabled.
    pub fn cluster_enabled(&self) -> bool {
        self.value("cluster-enabled").as_deref() == Some("yes")
    }

    /// True when `appendonly` is `yes`: the nodes write an append-only file, which rules out
    /// automatic failover (see `append_only.rs`).
    pub fn append_only(&self) -> bool {
        self.value("appendonly").as_deref() == Some("yes")
    }

    /// The `CONFIG SET` pairs that bring a node to this group's values for `names` (all
    /// parameters when `None`), skipping what the service handles itself (`Service`) and, unless
    /// `with_reboot`, the `requires-reboot` ones.
    pub fn node_settings(
        &self,
        names: Option<&[String]>,
        with_reboot: bool,
    ) -> Vec<(String, String)> {
        let all = self.parameters();
        let value_of = |name: &str| {
            all.iter()
                .find(|p| p.parameter.name == name)
                .map_or(String::new(), |p| p.value.clone())
        };
        let mut settings: Vec<(String, String)> = Vec::new();
        let wanted = all.iter().filter(|p| {
            names.is_none_or(|n| n.iter().any(|w| w == p.parameter.name))
                && (with_reboot || p.parameter.change_type == ChangeType::Immediate)
        });
        for p in wanted {
            let setting = match node_config(p.parameter.name, &p.value) {
                NodeConfig::Direct => (p.parameter.name.to_string(), p.value.clone()),
                NodeConfig::Renamed { name, value } => (name.to_string(), value),
                NodeConfig::ClientOutputBufferLimit { class } => {
                    let prefix = format!("client-output-buffer-limit-{class}");
                    let hard = value_of(&format!("{prefix}-hard-limit"));
                    let soft = value_of(&format!("{prefix}-soft-limit"));
                    let seconds = value_of(&format!("{prefix}-soft-seconds"));
                    if hard.is_empty() || soft.is_empty() || seconds.is_empty() {
                        continue; // the node-type specific replica limits are not modelled
                    }
                    let value = client_output_buffer_limit(class, &hard, &soft, &seconds);
                    ("client-output-buffer-limit".to_string(), value)
                }
                NodeConfig::Service(_) | NodeConfig::Startup => continue,
            };
            if !settings.contains(&setting) {
                settings.push(setting);
            }
        }
        settings
    }

    /// The settings that differ from the family defaults (what a node needs after a reset).
    pub fn non_default_settings(&self) -> Vec<(String, String)> {
        let names: Vec<String> = self.values.keys().cloned().collect();
        if names.is_empty() {
            return vec![];
        }
        self.node_settings(Some(&names), true)
    }

    /// The non-default settings only a restart applies (`requires-reboot`, and the startup
    /// ones such as `databases`): what a rebooted node starts with, on its command line.
    pub fn reboot_settings(&self) -> Vec<(String, String)> {
        let names: Vec<String> = self.values.keys().cloned().collect();
        let immediate = self.node_settings(Some(&names), false);
        let mut settings: Vec<(String, String)> = self
            .non_default_settings()
            .into_iter()
            .filter(|setting| !immediate.contains(setting))
            .collect();
        for (name, value) in &self.values {
            if node_config(name, value) == NodeConfig::Startup {
                settings.push((name.clone(), value.clone()));
            }
        }
        settings
    }
}

/// The parameter group family of an engine version a group runs: the catalogue's row for a
/// listed or full version (`7.1`, `6.2.6`), else the row of the same major.minor, else of the
/// same major (the local redis-server's own version, `7.0.15`, is the default one).
pub fn family_of_version(engine: &str, version: &str) -> Option<&'static str> {
    use super::catalogue::engine_versions::{CATALOGUE, resolve};
    if let Ok(resolved) = resolve(engine, Some(version)) {
        return Some(resolved.version.family);
    }
    let parts: Vec<&str> = version.split('.').collect();
    let prefix = |n: usize| parts.iter().take(n).copied().collect::<Vec<_>>().join(".");
    let rows = || CATALOGUE.iter().filter(|v| v.engine == engine);
    let same = |n: usize| {
        let wanted = prefix(n);
        rows()
            .rfind(|v| {
                v.full_version
                    .split('.')
                    .take(n)
                    .collect::<Vec<_>>()
                    .join(".")
                    == wanted
            })
            .map(|v| v.family)
    };
    same(2).or_else(|| same(1))
}

/// `default.redis7`, `default.redis7.cluster.on`, ...: the names of the groups every scope has.
fn is_default_name(raw: &str) -> bool {
    default_group_names().any(|(name, _)| name.eq_ignore_ascii_case(raw))
}

/// Every default group's name and family: one per family, and a `.cluster.on` one for every
/// family that has cluster mode (redis3.2 on).
fn default_group_names() -> impl Iterator<Item = (String, &'static str)> {
    FAMILIES.iter().flat_map(|family| {
        let has_cluster_mode = family_parameters(family)
            .unwrap_or_default()
            .iter()
            .any(|p| p.name == "cluster-enabled");
        let plain = (format!("default.{family}"), *family);
        let cluster = has_cluster_mode.then(|| (format!("default.{family}.cluster.on"), *family));
        std::iter::once(plain).chain(cluster)
    })
}

pub(super) fn default_group(name: String, family: &str, scope: &Scope) -> ParameterGroup {
    ParameterGroup {
        arn: Arn::new(ResourceKind::ParameterGroup, scope, &name),
        description: format!("Default parameter group for {family}"),
        family: family.to_string(),
        name,
        is_default: true,
        values: BTreeMap::new(),
        revision: 0,
    }
}

/// What a Modify or Reset changed, for the caller to carry to the nodes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParameterChange {
    /// The `CONFIG SET` pairs of the changed `immediate` parameters.
    pub immediate: Vec<(String, String)>,
    /// True when a changed parameter only takes effect on reboot.
    pub needs_reboot: bool,
    /// The replication groups (ids) that use the group.
    pub groups_in_use: Vec<String>,
}

fn refuse_default(group: &ParameterGroup, what: &str) -> Result<(), ApiError> {
    if group.is_default {
        return Err(ApiError::InvalidCacheParameterGroupState(format!(
            "Cannot {what} the default cache parameter group {}: default parameter groups cannot be changed. Create a parameter group of family {} and use it instead.",
            group.name, group.family
        )));
    }
    Ok(())
}

impl Model {
    /// A parameter group of this scope, default or the user's, by any-case name.
    pub fn parameter_group(&self, raw: &str, scope: &Scope) -> Result<ParameterGroup, ApiError> {
        if let Some((name, family)) =
            default_group_names().find(|(n, _)| n.eq_ignore_ascii_case(raw))
        {
            return Ok(default_group(name, family, scope));
        }
        self.parameter_groups.get(raw).cloned()
    }

    /// Every parameter group of this scope, the defaults included, in name order.
    pub fn parameter_groups(&self, scope: &Scope) -> Vec<ParameterGroup> {
        let mut all: Vec<ParameterGroup> = default_group_names()
            .map(|(name, family)| default_group(name, family, scope))
            .chain(self.parameter_groups.iter().cloned())
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    pub fn create_parameter_group(
        &mut self,
        group: ParameterGroup,
        tags: &[super::tags::Tag],
    ) -> Result<ParameterGroup, ApiError> {
        if self.parameter_groups.get(&group.name).is_ok() {
            return Err(ParameterGroup::already_exists(&group.name));
        }
        if self.parameter_groups.len() >= MAX_PARAMETER_GROUPS {
            return Err(ApiError::CacheParameterGroupQuotaExceeded(format!(
                "The request would exceed the maximum of {MAX_PARAMETER_GROUPS} cache parameter groups."
            )));
        }
        self.tags.add(&group.arn, tags)?;
        self.parameter_groups.insert(group.clone())?;
        Ok(group)
    }

    /// Sets `values` (already parsed: at most 20, each once) on a user group.
    pub fn modify_parameter_group(
        &mut self,
        raw: &str,
        scope: &Scope,
        values: &[(String, String)],
    ) -> Result<(String, ParameterChange), ApiError> {
        let group = self.parameter_group(raw, scope)?;
        refuse_default(&group, "modify")?;
        let names = values.iter().map(|(name, value)| {
            validate(&group.family, name, value).map(|canonical| canonical.to_string())
        });
        let names: Vec<String> = names.collect::<Result<_, _>>()?;
        self.refuse_aof_with_failover(&group, &names, values)?;
        let stored = self.parameter_groups.get_mut(raw)?;
        for (name, (_, value)) in names.iter().zip(values) {
            stored.values.insert(name.clone(), value.clone());
        }
        let stored = stored.clone();
        Ok((stored.name.clone(), self.change_of(&stored, &names)))
    }

    /// Resets the named parameters (or all, with `None`) of a user group to the family
    /// defaults: they are `system` again.
    pub fn reset_parameter_group(
        &mut self,
        raw: &str,
        scope: &Scope,
        names: Option<&[String]>,
    ) -> Result<(String, ParameterChange), ApiError> {
        let group = self.parameter_group(raw, scope)?;
        refuse_default(&group, "reset")?;
        let known = group.parameters();
        let names: Vec<String> = match names {
            None => group.values.keys().cloned().collect(),
            Some(names) => names
                .iter()
                .map(
                    |name| match known.iter().find(|p| p.parameter.name == name) {
                        Some(p) if p.parameter.modifiable => Ok(name.clone()),
                        Some(_) => Err(ApiError::InvalidParameterValue(format!(
                            "Parameter {name} is not modifiable."
                        ))),
                        None => Err(ApiError::InvalidParameterValue(format!(
                            "Parameter {name} doesn't exist in parameter group family {}.",
                            group.family
                        ))),
                    },
                )
                .collect::<Result<_, _>>()?,
        };
        let stored = self.parameter_groups.get_mut(raw)?;
        for name in &names {
            stored.values.remove(name);
        }
        let stored = stored.clone();
        Ok((stored.name.clone(), self.change_of(&stored, &names)))
    }

    fn change_of(&self, group: &ParameterGroup, names: &[String]) -> ParameterChange {
        let needs_reboot = group.parameters().iter().any(|p| {
            names.iter().any(|n| n == p.parameter.name)
                && p.parameter.change_type == ChangeType::RequiresReboot
        });
        ParameterChange {
            immediate: group.node_settings(Some(names), false),
            needs_reboot,
            groups_in_use: self.groups_using(&group.name),
        }
    }

    /// The replication groups of this scope whose parameter group is `name`.
    pub fn groups_using(&self, name: &str) -> Vec<String> {
        self.groups()
            .filter(|g| {
                g.settings
                    .cache_parameter_group_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .map(|g| g.id.to_string())
            .collect()
    }

    /// Deletes a user group; refused for defaults and for groups a replication group uses.
    pub fn delete_parameter_group(&mut self, raw: &str, scope: &Scope) -> Result<(), ApiError> {
        let group = self.parameter_group(raw, scope)?;
        refuse_default(&group, "delete")?;
        if let Some(user) = self.groups_using(&group.name).first() {
            return Err(ApiError::InvalidCacheParameterGroupState(format!(
                "Cache parameter group {} is in use by replication group {user}.",
                group.name
            )));
        }
        if let Some(user) = self.clusters_using(&group.name).first() {
            return Err(ApiError::InvalidCacheParameterGroupState(format!(
                "Cache parameter group {} is in use by cache cluster {user}.",
                group.name
            )));
        }
        if let Some(removed) = self.parameter_groups.remove(raw) {
            self.tags.forget(&removed.arn);
        }
        Ok(())
    }

    /// Marks every group in `ids` as having parameters that wait for a reboot.
    pub fn mark_pending_reboot(&mut self, ids: &[String]) {
        for id in ids {
            if let Ok(group) = self.group_mut(id) {
                group.settings.parameters_pending_reboot = true;
                for member in &mut group.members {
                    member.pending_reboot = true;
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "parameter_group_tests.rs"]
mod tests;
