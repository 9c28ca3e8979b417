"""Input members of implemented actions that have no row in the member table yet: each one is a
member whose effect (or refusal) no table checks. Remove an entry when its row lands; the run
fails if an entry has a row, and prints every entry that is left."""

NOT_YET = {
    ("CopySnapshot", "KmsKeyId"),  # refused: snapshots are plain RDB files here (not encrypted); no valid value
    ("CreateCacheCluster", "CacheSecurityGroupNames"),  # always refused (EC2-Classic cache security groups; AWS refuses them in VPC accounts): no valid value
    ("CreateCacheCluster", "LogDeliveryConfigurations"),  # refused: log delivery is not served by CreateCacheCluster here; no valid value
    ("CreateCacheCluster", "OutpostMode"),  # refused: Outposts are not served locally; no valid value
    ("CreateCacheCluster", "PreferredOutpostArn"),  # refused: Outposts are not served locally; no valid value
    ("CreateCacheCluster", "PreferredOutpostArns"),  # refused: Outposts are not served locally; no valid value
    ("CreateReplicationGroup", "CacheSecurityGroupNames"),  # VPC groups only: refused (InvalidParameterCombination), no valid value
    ("CreateReplicationGroup", "DataTieringEnabled"),  # true is refused (no SSD tiering here); false is the default, so no row can see it
    ("CreateReplicationGroup", "GlobalReplicationGroupId"),  # no global datastores here: refused with InvalidParameterValue (AWS: GlobalReplicationGroupNotFoundFault for an unknown one)
    ("CreateReplicationGroup", "IpDiscovery"),  # only ipv4, the default, is served (ipv6 refused): no visible effect to check
    ("CreateReplicationGroup", "NetworkType"),  # only ipv4, the default, is served (ipv6/dual_stack refused): no visible effect to check
    ("CreateReplicationGroup", "PrimaryClusterId"),  # a group from an existing cluster is not implemented: every value answers CacheClusterNotFound
    ("CreateReplicationGroup", "ServerlessCacheSnapshotName"),  # no serverless caches: every value answers ServerlessCacheSnapshotNotFoundFault, no valid value
    ("CreateSnapshot", "KmsKeyId"),  # refused: snapshots are plain RDB files here (not encrypted); no valid value
    ("DeleteReplicationGroup", "RetainPrimaryCluster"),  # refused (InvalidParameterValue): a standalone cache cluster cannot outlive its group here
    ("DescribeEvents", "Duration"),  # telling it from the default 60 minutes needs events older than a minute: no cheap row
    ("ModifyCacheCluster", "AuthToken"),  # refused: rotating a cache cluster's AUTH token is not served
    ("ModifyCacheCluster", "AuthTokenUpdateStrategy"),  # refused with AuthToken (not served for cache clusters)
    ("ModifyCacheCluster", "CacheSecurityGroupNames"),  # always refused (EC2-Classic cache security groups; AWS refuses them in VPC accounts): no valid value
    ("ModifyCacheCluster", "Engine"),  # refused: changing a cluster's engine (redis to valkey) is not served for cache clusters
    ("ModifyCacheCluster", "EngineVersion"),  # only the current version is accepted (a no-op); an upgrade is refused (one local binary per version), so no row can show an effect
    ("ModifyCacheCluster", "IpDiscovery"),  # refused whatever the value, even ipv4 (a no-op AWS accepts)
    ("ModifyCacheCluster", "LogDeliveryConfigurations"),  # refused: log delivery is not served for cache clusters
    ("ModifyCacheCluster", "ScaleConfig"),  # refused: Memcached vertical/horizontal ScaleConfig is not served
    ("ModifyReplicationGroup", "CacheSecurityGroupNames"),  # VPC groups only: refused with InvalidParameterValue (AWS: InvalidParameterCombination)
    ("ModifyReplicationGroup", "ClusterMode"),  # only disabled (no change) is accepted; enabled/compatible migrations refused: no visible effect
    ("ModifyReplicationGroup", "IpDiscovery"),  # refused with InvalidParameterValue for every value (ipv4 included)
    ("ModifyReplicationGroup", "LogDeliveryConfigurations"),  # not implemented: refused with InvalidParameterValue
    ("ModifyReplicationGroup", "NodeGroupId"),  # deprecated in the model ("This parameter is not used"): accepted with no effect, as on AWS
}
