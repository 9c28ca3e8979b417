//! Resource kinds and their ARNs: `arn:aws:elasticache:<region>:<account>:<type>:<id>`, with an
//! empty region for the account-wide global datastores. The types are those of the IAM
//! service authorization reference for ElastiCache (`replicationgroup`, `cluster`, ...).

use std::fmt;

use super::scope::Scope;
use crate::protocol::ApiError;

/// Every kind of resource the API manages. A new kind adds a variant here (its ARN type, its
/// event source type, its id rules) and one model file implementing [`super::resource::Resource`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ResourceKind {
    ReplicationGroup,
    CacheCluster,
    SubnetGroup,
    ParameterGroup,
    User,
    UserGroup,
    Snapshot,
    ServerlessCache,
    ServerlessCacheSnapshot,
    GlobalReplicationGroup,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 10] = [
        Self::ReplicationGroup,
        Self::CacheCluster,
        Self::SubnetGroup,
        Self::ParameterGroup,
        Self::User,
        Self::UserGroup,
        Self::Snapshot,
        Self::ServerlessCache,
        Self::ServerlessCacheSnapshot,
        Self::GlobalReplicationGroup,
    ];

    /// The resource type segment of the ARN.
    pub fn arn_type(self) -> &'static str {
        match self {
            Self::ReplicationGroup => "replicationgroup",
            Self::CacheCluster => "cluster",
            Self::SubnetGroup => "subnetgroup",
            Self::ParameterGroup => "parametergroup",
            Self::User => "user",
            Self::UserGroup => "usergroup",
            Self::Snapshot => "snapshot",
            Self::ServerlessCache => "serverlesscache",
            Self::ServerlessCacheSnapshot => "serverlesscachesnapshot",
            Self::GlobalReplicationGroup => "globalreplicationgroup",
        }
    }

    fn from_arn_type(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.arn_type() == raw)
    }

    /// The `SourceType` DescribeEvents files this kind's events under (one of
    /// `events::SOURCE_TYPES`); snapshots and global datastores have none of their own.
    pub fn event_source_type(self) -> Option<&'static str> {
        match self {
            Self::ReplicationGroup => Some("replication-group"),
            Self::CacheCluster => Some("cache-cluster"),
            Self::SubnetGroup => Some("cache-subnet-group"),
            Self::ParameterGroup => Some("cache-parameter-group"),
            Self::User => Some("user"),
            Self::UserGroup => Some("user-group"),
            Self::ServerlessCache => Some("serverless-cache"),
            Self::ServerlessCacheSnapshot => Some("serverless-cache-snapshot"),
            Self::Snapshot | Self::GlobalReplicationGroup => None,
        }
    }

    /// Global datastores span regions: their ARN has an empty region.
    pub fn is_regional(self) -> bool {
        self != Self::GlobalReplicationGroup
    }

    /// Tags are accepted on every kind except global datastores (AddTagsToResource's docs:
    /// "all your ElastiCache resources, with the exception of global replication group").
    pub fn is_taggable(self) -> bool {
        self != Self::GlobalReplicationGroup
    }
}

/// A parsed ElastiCache ARN. `id` is the resource id as it appears in the ARN.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Arn {
    pub kind: ResourceKind,
    /// Empty for global datastores.
    pub region: String,
    pub account: String,
    pub id: String,
}

impl Arn {
    /// The ARN of resource `id` of `kind` in `scope` (the region is dropped for global kinds).
    pub fn new(kind: ResourceKind, scope: &Scope, id: &str) -> Self {
        Self {
            kind,
            region: if kind.is_regional() {
                scope.region.clone()
            } else {
                String::new()
            },
            account: scope.account.clone(),
            id: id.to_string(),
        }
    }

    /// Parses a `ResourceName` as the tag actions take it; anything else is `InvalidARN`.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let invalid = |why: &str| ApiError::InvalidARN(format!("Invalid ARN '{raw}': {why}."));
        let mut parts = raw.splitn(7, ':');
        let mut next = || parts.next().unwrap_or_default();
        let (prefix, partition, service) = (next(), next(), next());
        let (region, account, kind, id) = (next(), next(), next(), next());
        if prefix != "arn" || partition != "aws" || service != "elasticache" {
            return Err(invalid("it must start with arn:aws:elasticache:"));
        }
        let kind = ResourceKind::from_arn_type(kind)
            .ok_or_else(|| invalid("unknown ElastiCache resource type"))?;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("the account must be 12 digits"));
        }
        if kind.is_regional() == region.is_empty() {
            return Err(invalid(if kind.is_regional() {
                "the region is missing"
            } else {
                "a global replication group's ARN has no region"
            }));
        }
        if !Scope::is_valid_region(region) && kind.is_regional() {
            return Err(invalid("the region is not valid"));
        }
        if id.is_empty() {
            return Err(invalid("the resource id is missing"));
        }
        Ok(Self {
            kind,
            region: region.to_string(),
            account: account.to_string(),
            id: id.to_string(),
        })
    }

    /// Whether the resource this names lives in `scope` (a global datastore: in its account).
    pub fn is_in(&self, scope: &Scope) -> bool {
        self.account == scope.account && (!self.kind.is_regional() || self.region == scope.region)
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:aws:elasticache:{}:{}:{}:{}",
            self.region,
            self.account,
            self.kind.arn_type(),
            self.id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope::new("210987654321", "eu-west-1")
    }

    #[test]
    fn every_kind_formats_and_parses_back() {
        for kind in ResourceKind::ALL {
            let arn = Arn::new(kind, &scope(), "my-thing-1");
            let text = arn.to_string();
            assert_eq!(Arn::parse(&text).unwrap(), arn, "{text}");
            let expected_region = if kind.is_regional() { "eu-west-1" } else { "" };
            assert_eq!(
                text,
                format!(
                    "arn:aws:elasticache:{expected_region}:210987654321:{}:my-thing-1",
                    kind.arn_type()
                )
            );
        }
    }

    #[test]
    fn the_documented_examples_parse() {
        let cluster =
            Arn::parse("arn:aws:elasticache:us-west-2:012345678901:cluster:myCluster").unwrap();
        assert_eq!(cluster.kind, ResourceKind::CacheCluster);
        assert_eq!(cluster.id, "myCluster");
        let global =
            Arn::parse("arn:aws:elasticache::012345678901:globalreplicationgroup:ldgnf-my-gds")
                .unwrap();
        assert_eq!(global.kind, ResourceKind::GlobalReplicationGroup);
        assert!(global.is_in(&Scope::new("012345678901", "ap-south-1")));
        assert!(!cluster.is_in(&Scope::new("012345678901", "us-east-1")));
    }

    #[test]
    fn malformed_arns_are_invalid_arn() {
        for bad in [
            "",
            "rg",
            "arn:aws:s3:us-east-1:012345678901:cluster:c",
            "arn:aws-cn:elasticache:us-east-1:012345678901:cluster:c",
            "arn:aws:elasticache:us-east-1:012345678901:bucket:c",
            "arn:aws:elasticache:us-east-1:1234:cluster:c",
            "arn:aws:elasticache::012345678901:cluster:c",
            "arn:aws:elasticache:us-east-1:012345678901:globalreplicationgroup:g",
            "arn:aws:elasticache:US_EAST:012345678901:cluster:c",
            "arn:aws:elasticache:us-east-1:012345678901:cluster:",
            "arn:aws:elasticache:us-east-1:012345678901:cluster",
        ] {
            assert_eq!(Arn::parse(bad).unwrap_err().code(), "InvalidARN", "{bad}");
        }
    }
}
