//! Cache subnet groups: a name, a description and the subnet ids a caller gave. There is no
//! VPC here, so the ids are accepted as given (in AWS's `subnet-<hex>` form) and each is shown
//! in a synthesized availability zone of the scope's region, deterministic per id, inside one
//! synthesized VPC per scope. A `default` group always exists, as in every AWS region.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::arn::{Arn, ResourceKind};
use super::group::ReplicationGroup;
use super::resource::{Lifecycle, Resource};
use super::scope::Scope;
use super::tags::Tag;
use crate::protocol::ApiError;

pub const DEFAULT_NAME: &str = "default";
/// AWS's default quotas: subnets per subnet group, and subnet groups per region.
pub const MAX_SUBNETS_PER_GROUP: usize = 20;
pub const MAX_GROUPS_PER_SCOPE: usize = 150;
/// The zones a subnet is spread over (`<region>a`...).
const ZONE_SUFFIXES: [char; 3] = ['a', 'b', 'c'];

/// Subnet groups have no status on the wire; the one state is `available`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubnetGroupStatus;

impl Lifecycle for SubnetGroupStatus {
    fn as_str(self) -> &'static str {
        "available"
    }
    fn allows(self, _next: Self) -> bool {
        true
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubnetGroup {
    /// Lower-cased, as AWS stores it.
    pub name: String,
    pub description: String,
    /// In the order given, without repeats.
    pub subnet_ids: Vec<String>,
    pub revision: u64,
}

impl Resource for SubnetGroup {
    const KIND: ResourceKind = ResourceKind::SubnetGroup;
    type Status = SubnetGroupStatus;

    fn id(&self) -> &str {
        &self.name
    }
    fn status(&self) -> SubnetGroupStatus {
        SubnetGroupStatus
    }
    fn set_status(&mut self, _status: SubnetGroupStatus) {}
    fn set_revision(&mut self, revision: u64) {
        self.revision = revision;
    }
    fn not_found(raw_id: &str) -> ApiError {
        ApiError::CacheSubnetGroupNotFoundFault(format!("Cache subnet group {raw_id} not found."))
    }
    fn already_exists(id: &str) -> ApiError {
        ApiError::CacheSubnetGroupAlreadyExists(format!("Cache subnet group {id} already exists."))
    }
    fn invalid_state(&self, _wanted: SubnetGroupStatus) -> ApiError {
        ApiError::InvalidParameterValue(format!("Cache subnet group {} is busy.", self.name))
    }
}

impl SubnetGroup {
    /// The `default` group every scope has: three subnets, one per synthesized zone.
    pub fn default_group() -> Self {
        Self {
            name: DEFAULT_NAME.into(),
            description: "Default CacheSubnetGroup".into(),
            subnet_ids: (0..ZONE_SUFFIXES.len())
                .map(|i| format!("subnet-{}", short_hash(&format!("default-{i}"), 17)))
                .collect(),
            revision: 0,
        }
    }

    pub fn is_default(&self) -> bool {
        self.name == DEFAULT_NAME
    }
}

/// Validates `SubnetIds`: at least one, at most [`MAX_SUBNETS_PER_GROUP`] distinct, each
/// `subnet-` and 8 or 17 lower-case hex digits (the forms EC2 issues; anything else does not
/// exist on AWS, which answers `InvalidSubnet`). Returns them deduplicated, in order.
pub fn parse_subnet_ids(raw: &[String]) -> Result<Vec<String>, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::missing_parameter("SubnetIds"));
    }
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    for id in raw {
        let hex = id.strip_prefix("subnet-").unwrap_or("");
        let well_formed = matches!(hex.len(), 8 | 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(ApiError::InvalidSubnet(format!(
                "The subnet ID '{id}' does not exist"
            )));
        }
        if seen.insert(id.clone()) {
            ids.push(id.clone());
        }
    }
    if ids.len() > MAX_SUBNETS_PER_GROUP {
        return Err(ApiError::CacheSubnetQuotaExceededFault(format!(
            "The request cannot be processed because it would exceed the allowed number of \
             subnets in a cache subnet group ({MAX_SUBNETS_PER_GROUP}; {} requested).",
            ids.len()
        )));
    }
    Ok(ids)
}

/// The zone subnet `id` is shown in: `<region>a`, `b` or `c`, the same for the same id.
pub fn zone_of(subnet_id: &str, scope: &Scope) -> String {
    let digest = Sha256::digest(subnet_id.as_bytes());
    let suffix = ZONE_SUFFIXES[digest[0] as usize % ZONE_SUFFIXES.len()];
    format!("{}{suffix}", scope.region)
}

/// The one VPC every subnet of a scope is shown in (`vpc-` and 17 hex digits).
pub fn vpc_of(scope: &Scope) -> String {
    format!(
        "vpc-{}",
        short_hash(&format!("{}/{}", scope.account, scope.region), 17)
    )
}

fn short_hash(text: &str, len: usize) -> String {
    let mut hex = hex::encode(Sha256::digest(text.as_bytes()));
    hex.truncate(len);
    hex
}

impl super::Model {
    pub fn subnet_group(&self, raw_name: &str) -> Result<&SubnetGroup, ApiError> {
        self.subnet_groups.get(raw_name)
    }

    /// In name order.
    pub fn subnet_groups(&self) -> impl Iterator<Item = &SubnetGroup> {
        self.subnet_groups.iter()
    }

    /// Adds a new group with its tags (none kept on refusal), within the scope's quota.
    pub fn insert_subnet_group(
        &mut self,
        group: SubnetGroup,
        arn: &Arn,
        tags: &[Tag],
    ) -> Result<(), ApiError> {
        if self.subnet_groups.get(&group.name).is_ok() {
            return Err(SubnetGroup::already_exists(&group.name));
        }
        if self.subnet_groups.len() >= MAX_GROUPS_PER_SCOPE {
            return Err(ApiError::CacheSubnetGroupQuotaExceeded(format!(
                "The request cannot be processed because it would exceed the allowed number of \
                 cache subnet groups ({MAX_GROUPS_PER_SCOPE})."
            )));
        }
        self.tags.add(arn, tags)?;
        self.subnet_groups.insert(group)
    }

    /// The replication groups whose nodes live in subnet group `name`.
    pub fn groups_in_subnet_group<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a ReplicationGroup> + 'a {
        self.groups
            .iter()
            .filter(move |g| g.settings.stored.cache_subnet_group_name == name)
    }

    /// Changes a group's description and/or subnets. `default` cannot be changed; a subnet
    /// that hosts a node (its zone is a node's zone) of a group using it cannot be removed.
    pub fn modify_subnet_group(
        &mut self,
        raw_name: &str,
        description: Option<String>,
        subnet_ids: Option<Vec<String>>,
        scope: &Scope,
    ) -> Result<SubnetGroup, ApiError> {
        let current = self.subnet_group(raw_name)?;
        if current.is_default() {
            return Err(ApiError::InvalidParameterValue(
                "The default cache subnet group cannot be modified.".into(),
            ));
        }
        if let Some(new_ids) = &subnet_ids {
            let used_zones: BTreeSet<&str> = self
                .groups_in_subnet_group(&current.name)
                .flat_map(|g| g.members.iter().map(|m| m.availability_zone.as_str()))
                .collect();
            let kept_zones: BTreeSet<String> =
                new_ids.iter().map(|id| zone_of(id, scope)).collect();
            let removed_in_use = current.subnet_ids.iter().find(|id| {
                !new_ids.contains(id)
                    && used_zones.contains(zone_of(id, scope).as_str())
                    && !kept_zones.contains(&zone_of(id, scope))
            });
            if let Some(id) = removed_in_use {
                return Err(ApiError::SubnetInUse(format!(
                    "The subnet {id} is in use by a cache node of cache subnet group {}.",
                    current.name
                )));
            }
        }
        let group = self.subnet_groups.get_mut(raw_name)?;
        if let Some(description) = description {
            group.description = description;
        }
        if let Some(ids) = subnet_ids {
            group.subnet_ids = ids;
        }
        Ok(group.clone())
    }

    /// Deletes a group that no replication group uses; `default` cannot be deleted.
    pub fn delete_subnet_group(&mut self, raw_name: &str, arn: &Arn) -> Result<(), ApiError> {
        let group = self.subnet_group(raw_name)?;
        if group.is_default() {
            return Err(ApiError::InvalidParameterValue(
                "The default cache subnet group cannot be deleted.".into(),
            ));
        }
        if let Some(user) = self.groups_in_subnet_group(&group.name).next() {
            return Err(ApiError::CacheSubnetGroupInUse(format!(
                "Cache subnet group {} is currently in use by replication group {}.",
                group.name, user.id
            )));
        }
        self.subnet_groups.remove(raw_name);
        self.tags.forget(arn);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn subnet_ids_must_look_like_ec2s() {
        assert_eq!(
            parse_subnet_ids(&ids(&[
                "subnet-0123abcd",
                "subnet-0123456789abcdef0",
                "subnet-0123abcd"
            ]))
            .unwrap(),
            ids(&["subnet-0123abcd", "subnet-0123456789abcdef0"])
        );
        for bad in [
            "sub-0123abcd",
            "subnet-",
            "subnet-0123ABCD",
            "subnet-012",
            "subnet-xyz12345",
        ] {
            let error = parse_subnet_ids(&ids(&[bad])).unwrap_err();
            assert_eq!(error.code(), "InvalidSubnet", "{bad}");
        }
        assert_eq!(
            parse_subnet_ids(&[]).unwrap_err().code(),
            "MissingParameter"
        );
        let many: Vec<String> = (0..21).map(|i| format!("subnet-{i:08x}")).collect();
        assert_eq!(
            parse_subnet_ids(&many).unwrap_err().code(),
            "CacheSubnetQuotaExceededFault"
        );
        assert!(parse_subnet_ids(&many[..20]).is_ok());
    }

    #[test]
    fn zones_and_vpc_are_deterministic_and_of_the_region() {
        let scope = Scope::new("123456789012", "eu-west-3");
        let zone = zone_of("subnet-0123abcd", &scope);
        assert_eq!(zone, zone_of("subnet-0123abcd", &scope));
        assert!(["eu-west-3a", "eu-west-3b", "eu-west-3c"].contains(&zone.as_str()));
        let zones: BTreeSet<String> = (0..30)
            .map(|i| zone_of(&format!("subnet-{i:08x}"), &scope))
            .collect();
        assert_eq!(zones.len(), 3, "subnets spread over the three zones");
        assert_eq!(vpc_of(&scope), vpc_of(&scope));
        assert_ne!(
            vpc_of(&scope),
            vpc_of(&Scope::new("123456789012", "us-east-1"))
        );
        assert_eq!(vpc_of(&scope).len(), "vpc-".len() + 17);
    }
}
