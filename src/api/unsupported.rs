//! Every action of the ElastiCache API (botocore model 2015-02-02), so that a real but
//! unimplemented one gets an error that says so rather than "not valid".

const AWS_ACTIONS: [&str; 75] = [
    "AddTagsToResource",
    "AuthorizeCacheSecurityGroupIngress",
    "BatchApplyUpdateAction",
    "BatchStopUpdateAction",
    "CompleteMigration",
    "CopyServerlessCacheSnapshot",
    "CopySnapshot",
    "CreateCacheCluster",
    "CreateCacheParameterGroup",
    "CreateCacheSecurityGroup",
    "CreateCacheSubnetGroup",
    "CreateGlobalReplicationGroup",
    "CreateReplicationGroup",
    "CreateServerlessCache",
    "CreateServerlessCacheSnapshot",
    "CreateSnapshot",
    "CreateUser",
    "CreateUserGroup",
    "DecreaseNodeGroupsInGlobalReplicationGroup",
    "DecreaseReplicaCount",
    "DeleteCacheCluster",
    "DeleteCacheParameterGroup",
    "DeleteCacheSecurityGroup",
    "DeleteCacheSubnetGroup",
    "DeleteGlobalReplicationGroup",
    "DeleteReplicationGroup",
    "DeleteServerlessCache",
    "DeleteServerlessCacheSnapshot",
    "DeleteSnapshot",
    "DeleteUser",
    "DeleteUserGroup",
    "DescribeCacheClusters",
    "DescribeCacheEngineVersions",
    "DescribeCacheParameterGroups",
    "DescribeCacheParameters",
    "DescribeCacheSecurityGroups",
    "DescribeCacheSubnetGroups",
    "DescribeEngineDefaultParameters",
    "DescribeEvents",
    "DescribeGlobalReplicationGroups",
    "DescribeReplicationGroups",
    "DescribeReservedCacheNodes",
    "DescribeReservedCacheNodesOfferings",
    "DescribeServerlessCacheSnapshots",
    "DescribeServerlessCaches",
    "DescribeServiceUpdates",
    "DescribeSnapshots",
    "DescribeUpdateActions",
    "DescribeUserGroups",
    "DescribeUsers",
    "DisassociateGlobalReplicationGroup",
    "ExportServerlessCacheSnapshot",
    "FailoverGlobalReplicationGroup",
    "IncreaseNodeGroupsInGlobalReplicationGroup",
    "IncreaseReplicaCount",
    "ListAllowedNodeTypeModifications",
    "ListTagsForResource",
    "ModifyCacheCluster",
    "ModifyCacheParameterGroup",
    "ModifyCacheSubnetGroup",
    "ModifyGlobalReplicationGroup",
    "ModifyReplicationGroup",
    "ModifyReplicationGroupShardConfiguration",
    "ModifyServerlessCache",
    "ModifyUser",
    "ModifyUserGroup",
    "PurchaseReservedCacheNodesOffering",
    "RebalanceSlotsInGlobalReplicationGroup",
    "RebootCacheCluster",
    "RemoveTagsFromResource",
    "ResetCacheParameterGroup",
    "RevokeCacheSecurityGroupIngress",
    "StartMigration",
    "TestFailover",
    "TestMigration",
];

pub fn is_aws_action(name: &str) -> bool {
    AWS_ACTIONS.binary_search(&name).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_is_sorted_for_binary_search() {
        assert!(super::AWS_ACTIONS.windows(2).all(|w| w[0] < w[1]));
        assert!(super::is_aws_action("ModifyReplicationGroup"));
        assert!(!super::is_aws_action("Nope"));
    }
}
