//! The one error type of the API: each variant is an AWS wire `Code`. It knows no HTTP: the
//! status each code travels with is chosen at the edge (`http::error`).

/// An error as ElastiCache puts it on the wire. The variant names are the wire codes
/// (which differ from the botocore shape names: see `../shared/spec/elasticache-api.md`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", self.code(), self.message())]
pub enum ApiError {
    MissingAction(String),
    InvalidAction(String),
    MissingParameter(String),
    InvalidParameterValue(String),
    InvalidParameterCombination(String),
    ReplicationGroupNotFoundFault(String),
    ReplicationGroupAlreadyExists(String),
    InvalidReplicationGroupState(String),
    CacheClusterNotFound(String),
    CacheClusterAlreadyExists(String),
    InvalidCacheClusterState(String),
    NodeGroupNotFoundFault(String),
    TestFailoverNotAvailableFault(String),
    APICallRateForCustomerExceeded(String),
    InsufficientCacheClusterCapacity(String),
    NodeGroupsPerReplicationGroupQuotaExceeded(String),
    NodeQuotaForClusterExceeded(String),
    MissingAuthenticationToken(String),
    IncompleteSignature(String),
    InvalidClientTokenId(String),
    SignatureDoesNotMatch(String),
    InvalidARN(String),
    TagQuotaPerResourceExceeded(String),
    TagNotFound(String),
    CacheSubnetGroupNotFoundFault(String),
    CacheSubnetGroupAlreadyExists(String),
    CacheSubnetGroupQuotaExceeded(String),
    CacheSubnetQuotaExceededFault(String),
    CacheSubnetGroupInUse(String),
    InvalidSubnet(String),
    SubnetInUse(String),
    UserNotFound(String),
    UserGroupNotFound(String),
    UserAlreadyExists(String),
    DuplicateUserName(String),
    UserGroupAlreadyExists(String),
    DefaultUserRequired(String),
    DefaultUserAssociatedToUserGroup(String),
    InvalidUserState(String),
    InvalidUserGroupState(String),
    UserQuotaExceeded(String),
    UserGroupQuotaExceeded(String),
    SnapshotNotFoundFault(String),
    SnapshotAlreadyExistsFault(String),
    SnapshotQuotaExceededFault(String),
    SnapshotFeatureNotSupportedFault(String),
    InvalidSnapshotState(String),
    ServerlessCacheNotFoundFault(String),
    ServerlessCacheSnapshotNotFoundFault(String),
    GlobalReplicationGroupNotFoundFault(String),
    CacheParameterGroupNotFound(String),
    CacheParameterGroupAlreadyExists(String),
    CacheParameterGroupQuotaExceeded(String),
    InvalidCacheParameterGroupState(String),
    InternalFailure(String),
}

impl ApiError {
    /// The `<Code>` element: boto3 picks its exception class by this string.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingAction(_) => "MissingAction",
            Self::InvalidAction(_) => "InvalidAction",
            Self::MissingParameter(_) => "MissingParameter",
            Self::InvalidParameterValue(_) => "InvalidParameterValue",
            Self::InvalidParameterCombination(_) => "InvalidParameterCombination",
            Self::ReplicationGroupNotFoundFault(_) => "ReplicationGroupNotFoundFault",
            Self::ReplicationGroupAlreadyExists(_) => "ReplicationGroupAlreadyExists",
            Self::InvalidReplicationGroupState(_) => "InvalidReplicationGroupState",
            Self::CacheClusterNotFound(_) => "CacheClusterNotFound",
            Self::CacheClusterAlreadyExists(_) => "CacheClusterAlreadyExists",
            Self::InvalidCacheClusterState(_) => "InvalidCacheClusterState",
            Self::NodeGroupNotFoundFault(_) => "NodeGroupNotFoundFault",
            Self::TestFailoverNotAvailableFault(_) => "TestFailoverNotAvailableFault",
            Self::APICallRateForCustomerExceeded(_) => "APICallRateForCustomerExceeded",
            Self::InsufficientCacheClusterCapacity(_) => "InsufficientCacheClusterCapacity",
            Self::NodeGroupsPerReplicationGroupQuotaExceeded(_) => {
                "NodeGroupsPerReplicationGroupQuotaExceeded"
            }
            Self::NodeQuotaForClusterExceeded(_) => "NodeQuotaForClusterExceeded",
            Self::MissingAuthenticationToken(_) => "MissingAuthenticationToken",
            Self::IncompleteSignature(_) => "IncompleteSignature",
            Self::InvalidClientTokenId(_) => "InvalidClientTokenId",
            Self::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            Self::InvalidARN(_) => "InvalidARN",
            Self::TagQuotaPerResourceExceeded(_) => "TagQuotaPerResourceExceeded",
            Self::TagNotFound(_) => "TagNotFound",
            Self::CacheSubnetGroupNotFoundFault(_) => "CacheSubnetGroupNotFoundFault",
            Self::CacheSubnetGroupAlreadyExists(_) => "CacheSubnetGroupAlreadyExists",
            Self::CacheSubnetGroupQuotaExceeded(_) => "CacheSubnetGroupQuotaExceeded",
            Self::CacheSubnetQuotaExceededFault(_) => "CacheSubnetQuotaExceededFault",
            Self::CacheSubnetGroupInUse(_) => "CacheSubnetGroupInUse",
            Self::InvalidSubnet(_) => "InvalidSubnet",
            Self::SubnetInUse(_) => "SubnetInUse",
            Self::UserNotFound(_) => "UserNotFound",
            Self::UserGroupNotFound(_) => "UserGroupNotFound",
            Self::UserAlreadyExists(_) => "UserAlreadyExists",
            Self::DuplicateUserName(_) => "DuplicateUserName",
            Self::UserGroupAlreadyExists(_) => "UserGroupAlreadyExists",
            Self::DefaultUserRequired(_) => "DefaultUserRequired",
            Self::DefaultUserAssociatedToUserGroup(_) => "DefaultUserAssociatedToUserGroup",
            Self::InvalidUserState(_) => "InvalidUserState",
            Self::InvalidUserGroupState(_) => "InvalidUserGroupState",
            Self::UserQuotaExceeded(_) => "UserQuotaExceeded",
            Self::UserGroupQuotaExceeded(_) => "UserGroupQuotaExceeded",
            Self::SnapshotNotFoundFault(_) => "SnapshotNotFoundFault",
            Self::SnapshotAlreadyExistsFault(_) => "SnapshotAlreadyExistsFault",
            Self::SnapshotQuotaExceededFault(_) => "SnapshotQuotaExceededFault",
            Self::SnapshotFeatureNotSupportedFault(_) => "SnapshotFeatureNotSupportedFault",
            Self::InvalidSnapshotState(_) => "InvalidSnapshotState",
            Self::ServerlessCacheNotFoundFault(_) => "ServerlessCacheNotFoundFault",
            Self::ServerlessCacheSnapshotNotFoundFault(_) => "ServerlessCacheSnapshotNotFoundFault",
            Self::GlobalReplicationGroupNotFoundFault(_) => "GlobalReplicationGroupNotFoundFault",
            Self::CacheParameterGroupNotFound(_) => "CacheParameterGroupNotFound",
            Self::CacheParameterGroupAlreadyExists(_) => "CacheParameterGroupAlreadyExists",
            Self::CacheParameterGroupQuotaExceeded(_) => "CacheParameterGroupQuotaExceeded",
            Self::InvalidCacheParameterGroupState(_) => "InvalidCacheParameterGroupState",
            Self::InternalFailure(_) => "InternalFailure",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::MissingAction(m)
            | Self::InvalidAction(m)
            | Self::MissingParameter(m)
            | Self::InvalidParameterValue(m)
            | Self::InvalidParameterCombination(m)
            | Self::ReplicationGroupNotFoundFault(m)
            | Self::ReplicationGroupAlreadyExists(m)
            | Self::InvalidReplicationGroupState(m)
            | Self::CacheClusterNotFound(m)
            | Self::CacheClusterAlreadyExists(m)
            | Self::InvalidCacheClusterState(m)
            | Self::NodeGroupNotFoundFault(m)
            | Self::TestFailoverNotAvailableFault(m)
            | Self::APICallRateForCustomerExceeded(m)
            | Self::InsufficientCacheClusterCapacity(m)
            | Self::NodeGroupsPerReplicationGroupQuotaExceeded(m)
            | Self::NodeQuotaForClusterExceeded(m)
            | Self::MissingAuthenticationToken(m)
            | Self::IncompleteSignature(m)
            | Self::InvalidClientTokenId(m)
            | Self::SignatureDoesNotMatch(m)
            | Self::InvalidARN(m)
            | Self::TagQuotaPerResourceExceeded(m)
            | Self::TagNotFound(m)
            | Self::CacheSubnetGroupNotFoundFault(m)
            | Self::CacheSubnetGroupAlreadyExists(m)
            | Self::CacheSubnetGroupQuotaExceeded(m)
            | Self::CacheSubnetQuotaExceededFault(m)
            | Self::CacheSubnetGroupInUse(m)
            | Self::SubnetInUse(m)
            | Self::InvalidSubnet(m)
            | Self::UserNotFound(m)
            | Self::UserGroupNotFound(m)
            | Self::UserAlreadyExists(m)
            | Self::DuplicateUserName(m)
            | Self::UserGroupAlreadyExists(m)
            | Self::DefaultUserRequired(m)
            | Self::DefaultUserAssociatedToUserGroup(m)
            | Self::InvalidUserState(m)
            | Self::InvalidUserGroupState(m)
            | Self::UserQuotaExceeded(m)
            | Self::UserGroupQuotaExceeded(m)
            | Self::SnapshotNotFoundFault(m)
            | Self::SnapshotAlreadyExistsFault(m)
            | Self::SnapshotQuotaExceededFault(m)
            | Self::SnapshotFeatureNotSupportedFault(m)
            | Self::InvalidSnapshotState(m)
            | Self::ServerlessCacheNotFoundFault(m)
            | Self::ServerlessCacheSnapshotNotFoundFault(m)
            | Self::GlobalReplicationGroupNotFoundFault(m)
            | Self::CacheParameterGroupNotFound(m)
            | Self::CacheParameterGroupAlreadyExists(m)
            | Self::CacheParameterGroupQuotaExceeded(m)
            | Self::InvalidCacheParameterGroupState(m)
            | Self::InternalFailure(m) => m,
        }
    }

    /// `Sender` for client faults, `Receiver` for ours (the query-protocol convention).
    pub fn fault_type(&self) -> &'static str {
        match self {
            Self::InternalFailure(_) => "Receiver",
            _ => "Sender",
        }
    }

    pub fn replication_group_not_found(id: &str) -> Self {
        Self::ReplicationGroupNotFoundFault(format!("Replication group {id} not found."))
    }

    pub fn cache_cluster_not_found(id: &str) -> Self {
        Self::CacheClusterNotFound(format!("Cache cluster {id} not found."))
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::MissingParameter(format!("The request must contain the parameter {name}."))
    }
}
