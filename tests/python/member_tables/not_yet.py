"""Input members of implemented actions that have no row in the member table yet: each one is a
member whose effect (or refusal) no table checks. Remove an entry when its row lands; the run
fails if an entry has a row, and prints every entry that is left."""

NOT_YET = {
    ("CopySnapshot", "KmsKeyId"),  # refused: snapshots are plain RDB files here (not encrypted); no valid value
    ("CreateCacheCluster", "CacheSecurityGroupNames"),  # no valid value: every group and cluster here is in a VPC, where AWS refuses cache security groups (InvalidParameterCombination, "Use of cache security groups is not permitted along with cache subnet group."; tests/api/input_catalogue.rs)
    ("CreateCacheCluster", "LogDeliveryConfigurations"),  # refused: log delivery is not served by CreateCacheCluster here; no valid value
    ("CreateCacheCluster", "OutpostMode"),  # refused: Outposts are not served locally; no valid value
    ("CreateCacheCluster", "PreferredOutpostArn"),  # refused: Outposts are not served locally; no valid value
    ("CreateCacheCluster", "PreferredOutpostArns"),  # refused: Outposts are not served locally; no valid value
    ("CreateReplicationGroup", "CacheSecurityGroupNames"),  # no valid value: every group and cluster here is in a VPC, where AWS refuses cache security groups (InvalidParameterCombination, "Use of cache security groups is not permitted along with cache subnet group."; tests/api/input_catalogue.rs)
    ("CreateReplicationGroup", "DataTieringEnabled"),  # true is refused (no SSD tiering here); false is the default, so no row can see it
    ("CreateReplicationGroup", "GlobalReplicationGroupId"),  # no global datastores here, so no valid value: every id answers GlobalReplicationGroupNotFoundFault (AWS's fault for an unknown one; tests/api/input_catalogue.rs)
    ("CreateReplicationGroup", "PrimaryClusterId"),  # a group from an existing cluster is not implemented: every value answers CacheClusterNotFound
    ("CreateReplicationGroup", "ServerlessCacheSnapshotName"),  # no serverless caches: every value answers ServerlessCacheSnapshotNotFoundFault, no valid value
    ("CreateSnapshot", "KmsKeyId"),  # refused: snapshots are plain RDB files here (not encrypted); no valid value
    ("DeleteReplicationGroup", "RetainPrimaryCluster"),  # refused (InvalidParameterValue): a standalone cache cluster cannot outlive its group here
    ("DescribeEvents", "Duration"),  # telling it from the default 60 minutes needs events older than a minute: no cheap row
    ("ModifyCacheCluster", "AuthToken"),  # refused: rotating a cache cluster's AUTH token is not served
    ("ModifyCacheCluster", "AuthTokenUpdateStrategy"),  # refused with AuthToken (not served for cache clusters)
    ("ModifyCacheCluster", "CacheSecurityGroupNames"),  # no valid value: every group and cluster here is in a VPC, where AWS refuses cache security groups (InvalidParameterCombination, "Use of cache security groups is not permitted along with cache subnet group."; tests/api/input_catalogue.rs)
    ("ModifyCacheCluster", "Engine"),  # refused: changing a cluster's engine (redis to valkey) is not served for cache clusters
    ("ModifyCacheCluster", "EngineVersion"),  # only the current version is accepted (a no-op); an upgrade is refused (one local binary per version), so no row can show an effect
    ("ModifyCacheCluster", "LogDeliveryConfigurations"),  # refused: log delivery is not served for cache clusters
    ("ModifyCacheCluster", "ScaleConfig"),  # refused: Memcached vertical/horizontal ScaleConfig is not served
    ("ModifyReplicationGroup", "CacheSecurityGroupNames"),  # no valid value: every group and cluster here is in a VPC, where AWS refuses cache security groups (InvalidParameterCombination, "Use of cache security groups is not permitted along with cache subnet group."; tests/api/input_catalogue.rs)
    ("ModifyReplicationGroup", "ClusterMode"),  # only disabled (no change) is accepted; enabled/compatible migrations refused: no visible effect
    ("ModifyReplicationGroup", "LogDeliveryConfigurations"),  # not implemented: refused with InvalidParameterValue
    ("ModifyReplicationGroup", "NodeGroupId"),  # deprecated in the model ("This parameter is not used"): accepted with no effect, as on AWS
}
