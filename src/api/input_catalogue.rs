//! The catalogue checks for the members CreateReplicationGroup, ModifyReplicationGroup,
//! CreateCacheCluster, ModifyCacheCluster, IncreaseReplicaCount and
//! ModifyReplicationGroupShardConfiguration share: each action calls [`check`] first, so a
//! node type, zone, window or identifier AWS refuses is refused the same way everywhere,
//! wherever the member is nested.

use crate::model::catalogue::{formats, node_types, windows, zones};
use crate::protocol::{ApiError, QueryParams};

/// The members that hold one availability zone, as the last name segment before the index
/// (`PreferredCacheClusterAZs.AvailabilityZone.2` is named by `PreferredCacheClusterAZs`).
const ZONE_MEMBERS: [&str; 6] = [
    "PreferredCacheClusterAZs",
    "PreferredAvailabilityZone",
    "PreferredAvailabilityZones",
    "NewAvailabilityZones",
    "PrimaryAvailabilityZone",
    "ReplicaAvailabilityZones",
];

/// The node type a create gets without `CacheNodeType` (see `stored_settings`).
pub(crate) const DEFAULT_NODE_TYPE: &str = "cache.t4g.micro";

/// Every catalogue member present in `params`, checked against the request's `region`.
pub(crate) fn check(params: &QueryParams, region: &str) -> Result<(), ApiError> {
    check_node_type(params)?;
    for (key, value) in params.entries() {
        if let Some(member) = zone_member(key) {
            zones::check(member, value, region)?;
        }
        if key.starts_with("SecurityGroupIds.") {
            formats::check_security_group_id(value)?;
        }
    }
    windows::check(
        params.optional("PreferredMaintenanceWindow"),
        params.optional("SnapshotWindow"),
    )?;
    if let Some(key) = params.optional("KmsKeyId") {
        formats::check_kms_key_id(key)?;
    }
    if let Some(topic) = params.optional("NotificationTopicArn") {
        formats::check_topic_arn(topic)?;
    }
    let (network_type, ip_discovery) = (
        params.optional("NetworkType"),
        params.optional("IpDiscovery"),
    );
    // Every subnet group here supports ipv4 only (SupportedNetworkTypes), so a request
    // without NetworkType, and every Modify, is of an ipv4 network: IpDiscovery ipv4 is the
    // no-op AWS accepts, ipv6 the combination AWS refuses on an ipv4 network.
    formats::check_network(Some(network_type.unwrap_or("ipv4")), ip_discovery)?;
    refuse_ipv6(network_type)?;
    super::transit_encryption::parse_mode(params)?;
    check_description(params)
}

/// The zone member naming `key`, if `key` is one (`...ReplicaAvailabilityZones.AvailabilityZone.1`).
fn zone_member(key: &str) -> Option<&'static str> {
    let segments: Vec<&str> = key.split('.').collect();
    ZONE_MEMBERS
        .into_iter()
        .find(|member| segments.contains(member))
}

/// `CacheNodeType` of the catalogue, and what the type supports: data tiering (r6gd), and
/// automatic failover or Multi-AZ (not T1; T2 only in cluster mode).
fn check_node_type(params: &QueryParams) -> Result<(), ApiError> {
    let given = params.optional("CacheNodeType");
    let node_type = node_types::parse(given.unwrap_or(DEFAULT_NODE_TYPE))?;
    if params.bool("DataTieringEnabled")? == Some(true) {
        node_types::check_data_tiering(node_type)?;
        // Nodes here keep every key in memory: claiming SSD tiering would be untrue.
        return Err(ApiError::InvalidParameterCombination(
            "elasticache-local does not tier data to SSD: DataTieringEnabled=true is not served locally.".into(),
        ));
    }
    let failover = params.bool("AutomaticFailoverEnabled")? == Some(true)
        || params.bool("MultiAZEnabled")? == Some(true);
    if given.is_some() && failover {
        node_types::check_automatic_failover(node_type, cluster_mode(params))?;
    }
    Ok(())
}

/// Whether the request asks for cluster mode (more than one shard, a shard layout, the
/// `ClusterMode` member or a `.cluster.on` parameter group).
fn cluster_mode(params: &QueryParams) -> bool {
    params
        .optional("NumNodeGroups")
        .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 1))
        || params
            .entries()
            .any(|(key, _)| key.starts_with("NodeGroupConfiguration."))
        || params.optional("ClusterMode") == Some("enabled")
        || params
            .optional("CacheParameterGroupName")
            .is_some_and(|g| g.ends_with(".cluster.on"))
}

/// Valid on AWS, but every node and endpoint here listens on an IPv4 loopback address: an
/// IPv6 or dual-stack group would report what its nodes do not do. (IpDiscovery ipv6 needs
/// one of them: `formats::check_network` refuses it with ipv4.)
fn refuse_ipv6(network_type: Option<&str>) -> Result<(), ApiError> {
    match network_type {
        Some(value @ ("ipv6" | "dual_stack")) => Err(ApiError::InvalidParameterValue(format!(
            "elasticache-local serves nodes on IPv4 loopback addresses only: NetworkType {value} is not served locally."
        ))),
        _ => Ok(()),
    }
}

/// `ReplicationGroupDescription` at most 255 characters, on Create as on Modify.
fn check_description(params: &QueryParams) -> Result<(), ApiError> {
    match params.optional("ReplicationGroupDescription") {
        Some(description) if description.chars().count() > 255 => {
            Err(ApiError::InvalidParameterValue(
                "ReplicationGroupDescription must be at most 255 characters.".into(),
            ))
        }
        _ => Ok(()),
    }
}
