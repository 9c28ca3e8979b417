//! The input catalogue on every action that takes its members: node types, availability zones,
//! maintenance and snapshot windows, security group ids, KMS keys, topic ARNs, network types,
//! transit encryption modes and descriptions. One table: each row a member with a value and
//! the answer AWS gives. A valid value on a Modify of a group that does not exist gets past the
//! catalogue to the not-found fault; on a create it creates.

use crate::support::{TestServer, call};

const CREATE_GROUP: &str =
    "Action=CreateReplicationGroup&ReplicationGroupId=cat&ReplicationGroupDescription=d";
const MODIFY_GROUP: &str =
    "Action=ModifyReplicationGroup&ReplicationGroupId=nope&ApplyImmediately=true";
const CREATE_CLUSTER: &str = "Action=CreateCacheCluster&CacheClusterId=cat&Engine=redis";
const MODIFY_CLUSTER: &str = "Action=ModifyCacheCluster&CacheClusterId=nope&ApplyImmediately=true";
const INCREASE: &str = "Action=IncreaseReplicaCount&ReplicationGroupId=nope&ApplyImmediately=true";
const RESHARD: &str = "Action=ModifyReplicationGroupShardConfiguration&ReplicationGroupId=nope&ApplyImmediately=true&NodeGroupCount=2";

const GROUP_NOT_FOUND: &str = "ReplicationGroupNotFoundFault";
const CLUSTER_NOT_FOUND: &str = "CacheClusterNotFound";
const VALUE: &str = "InvalidParameterValue";
const COMBINATION: &str = "InvalidParameterCombination";
const KMS_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// (action's base query, extra members, the error code expected, a text the message names).
fn rows() -> Vec<(&'static str, String, &'static str, &'static str)> {
    let long = "x".repeat(256);
    let row = |base, extra: &str, code, names| (base, extra.to_string(), code, names);
    vec![
        // Node types.
        row(
            CREATE_GROUP,
            "CacheNodeType=cache.bogus.huge",
            VALUE,
            "Invalid Cache Node Type: cache.bogus.huge",
        ),
        row(
            MODIFY_GROUP,
            "CacheNodeType=cache.bogus.huge",
            VALUE,
            "cache.bogus.huge",
        ),
        row(
            MODIFY_GROUP,
            "CacheNodeType=cache.m7g.xlarge",
            GROUP_NOT_FOUND,
            "nope",
        ),
        row(
            CREATE_CLUSTER,
            "CacheNodeType=cache.r6gd.large",
            VALUE,
            "cache.r6gd.large",
        ),
        row(
            MODIFY_CLUSTER,
            "CacheNodeType=cache.t3.huge",
            VALUE,
            "cache.t3.huge",
        ),
        // Past the catalogue to the cluster lookup (a cluster's node type is changed here).
        row(
            MODIFY_CLUSTER,
            "CacheNodeType=cache.t3.small",
            CLUSTER_NOT_FOUND,
            "nope",
        ),
        row(
            CREATE_GROUP,
            "CacheNodeType=cache.r6g.large&DataTieringEnabled=true",
            COMBINATION,
            "cache.r6g.large",
        ),
        row(
            CREATE_GROUP,
            "DataTieringEnabled=true",
            COMBINATION,
            "cache.t4g.micro",
        ),
        row(
            CREATE_GROUP,
            "CacheNodeType=cache.t2.micro&NumCacheClusters=2&AutomaticFailoverEnabled=true",
            COMBINATION,
            "cache.t2.micro",
        ),
        row(
            CREATE_GROUP,
            "CacheNodeType=cache.t1.micro&NumNodeGroups=2&AutomaticFailoverEnabled=true",
            COMBINATION,
            "cache.t1.micro",
        ),
        // Availability zones, wherever they are nested.
        row(
            CREATE_GROUP,
            "NumCacheClusters=2&PreferredCacheClusterAZs.AvailabilityZone.1=us-east-1a&PreferredCacheClusterAZs.AvailabilityZone.2=us-west-2a",
            VALUE,
            "us-west-2a",
        ),
        row(
            CREATE_GROUP,
            "NumCacheClusters=1&PreferredCacheClusterAZs.AvailabilityZone.1=bogus",
            VALUE,
            "PreferredCacheClusterAZs",
        ),
        row(
            CREATE_GROUP,
            "NumNodeGroups=1&NodeGroupConfiguration.NodeGroupConfiguration.1.PrimaryAvailabilityZone=us-east-1z",
            VALUE,
            "PrimaryAvailabilityZone",
        ),
        row(
            CREATE_GROUP,
            "NodeGroupConfiguration.NodeGroupConfiguration.1.ReplicaCount=1&NodeGroupConfiguration.NodeGroupConfiguration.1.ReplicaAvailabilityZones.AvailabilityZone.1=eu-west-1a",
            VALUE,
            "ReplicaAvailabilityZones",
        ),
        row(
            CREATE_CLUSTER,
            "PreferredAvailabilityZone=us-east-1q",
            VALUE,
            "PreferredAvailabilityZone",
        ),
        row(
            MODIFY_CLUSTER,
            "NewAvailabilityZones.PreferredAvailabilityZone.1=mars-1a",
            VALUE,
            "mars-1a",
        ),
        row(
            MODIFY_CLUSTER,
            "NewAvailabilityZones.PreferredAvailabilityZone.1=us-east-1c",
            CLUSTER_NOT_FOUND,
            "nope",
        ),
        row(
            INCREASE,
            "ReplicaConfiguration.ConfigureShard.1.NodeGroupId=0001&ReplicaConfiguration.ConfigureShard.1.NewReplicaCount=1&ReplicaConfiguration.ConfigureShard.1.PreferredAvailabilityZones.PreferredAvailabilityZone.1=us-east-1a&ReplicaConfiguration.ConfigureShard.1.PreferredAvailabilityZones.PreferredAvailabilityZone.2=us-east-9b",
            VALUE,
            "us-east-9b",
        ),
        row(
            INCREASE,
            "ReplicaConfiguration.ConfigureShard.1.NodeGroupId=0001&ReplicaConfiguration.ConfigureShard.1.NewReplicaCount=1&ReplicaConfiguration.ConfigureShard.1.PreferredAvailabilityZones.PreferredAvailabilityZone.1=us-east-1a",
            GROUP_NOT_FOUND,
            "nope",
        ),
        row(
            RESHARD,
            "ReshardingConfiguration.ReshardingConfiguration.1.PreferredAvailabilityZones.AvailabilityZone.1=ap-south-1a",
            VALUE,
            "ap-south-1a",
        ),
        row(
            RESHARD,
            "ReshardingConfiguration.ReshardingConfiguration.1.PreferredAvailabilityZones.AvailabilityZone.1=us-east-1d",
            GROUP_NOT_FOUND,
            "nope",
        ),
        // Windows.
        row(
            CREATE_GROUP,
            "PreferredMaintenanceWindow=sun:05:00-sun:05:30",
            VALUE,
            "sun:05:00-sun:05:30",
        ),
        row(
            MODIFY_GROUP,
            "PreferredMaintenanceWindow=someday",
            VALUE,
            "someday",
        ),
        row(
            MODIFY_GROUP,
            "PreferredMaintenanceWindow=sat:23:30-sun:00:30",
            GROUP_NOT_FOUND,
            "nope",
        ),
        row(
            CREATE_CLUSTER,
            "SnapshotWindow=05:00-05:59",
            VALUE,
            "SnapshotWindow",
        ),
        row(MODIFY_CLUSTER, "SnapshotWindow=5-6", VALUE, "5-6"),
        row(
            MODIFY_CLUSTER,
            "SnapshotWindow=23:30-00:30",
            CLUSTER_NOT_FOUND,
            "nope",
        ),
        row(
            MODIFY_GROUP,
            "PreferredMaintenanceWindow=tue:10:00-tue:12:00&SnapshotWindow=09:00-10:30",
            COMBINATION,
            "tue:10:00-tue:12:00",
        ),
        // Identifiers.
        row(
            CREATE_GROUP,
            "SecurityGroupIds.SecurityGroupId.1=sg-0123",
            VALUE,
            "sg-0123",
        ),
        row(
            MODIFY_GROUP,
            "SecurityGroupIds.SecurityGroupId.1=sg-0123abcd&SecurityGroupIds.SecurityGroupId.2=default",
            VALUE,
            "default",
        ),
        row(
            MODIFY_GROUP,
            "SecurityGroupIds.SecurityGroupId.1=sg-0123456789abcdef0",
            GROUP_NOT_FOUND,
            "nope",
        ),
        row(
            CREATE_CLUSTER,
            "SecurityGroupIds.SecurityGroupId.1=sg-XYZ12345",
            VALUE,
            "sg-XYZ12345",
        ),
        row(
            CREATE_GROUP,
            "AtRestEncryptionEnabled=true&KmsKeyId=my-key",
            VALUE,
            "KmsKeyId",
        ),
        row(
            CREATE_GROUP,
            "NotificationTopicArn=events",
            VALUE,
            "NotificationTopicArn",
        ),
        row(
            MODIFY_GROUP,
            "NotificationTopicArn=arn:aws:sqs:us-east-1:123456789012:q",
            VALUE,
            "arn:aws:sqs",
        ),
        row(
            MODIFY_GROUP,
            "NotificationTopicArn=arn:aws:sns:us-east-1:123456789012:events",
            GROUP_NOT_FOUND,
            "nope",
        ),
        row(MODIFY_CLUSTER, "NotificationTopicArn=topic", VALUE, "topic"),
        // Network type and IP discovery.
        row(CREATE_GROUP, "NetworkType=ipv5", VALUE, "ipv5"),
        row(CREATE_GROUP, "IpDiscovery=dual_stack", VALUE, "IpDiscovery"),
        row(
            CREATE_GROUP,
            "NetworkType=ipv4&IpDiscovery=ipv6",
            COMBINATION,
            "ipv6",
        ),
        row(
            CREATE_CLUSTER,
            "NetworkType=ipv6&IpDiscovery=ipv4",
            COMBINATION,
            "NetworkType",
        ),
        row(MODIFY_GROUP, "IpDiscovery=ipv7", VALUE, "ipv7"),
        // ipv4, the only discovery of an ipv4 network, is the no-op AWS accepts (the request
        // goes on to the group lookup); ipv6 is refused as AWS does on an ipv4 network.
        row(MODIFY_GROUP, "IpDiscovery=ipv4", GROUP_NOT_FOUND, "nope"),
        row(
            MODIFY_CLUSTER,
            "IpDiscovery=ipv4",
            CLUSTER_NOT_FOUND,
            "nope",
        ),
        row(
            MODIFY_GROUP,
            "IpDiscovery=ipv6",
            COMBINATION,
            "NetworkType ipv4",
        ),
        row(
            MODIFY_CLUSTER,
            "IpDiscovery=ipv6",
            COMBINATION,
            "NetworkType ipv4",
        ),
        row(
            CREATE_GROUP,
            "IpDiscovery=ipv6",
            COMBINATION,
            "NetworkType ipv4",
        ),
        // Valid on AWS, refused here: nodes listen on IPv4 loopback addresses only.
        row(
            CREATE_GROUP,
            "NetworkType=dual_stack",
            VALUE,
            "IPv4 loopback",
        ),
        row(
            CREATE_CLUSTER,
            "NetworkType=ipv6&IpDiscovery=ipv6",
            VALUE,
            "NetworkType ipv6",
        ),
        row(
            CREATE_GROUP,
            "NetworkType=dual_stack&IpDiscovery=ipv6",
            VALUE,
            "not served locally",
        ),
        // Transit encryption mode and description.
        row(
            CREATE_GROUP,
            "TransitEncryptionEnabled=true&TransitEncryptionMode=loose",
            VALUE,
            "loose",
        ),
        row(MODIFY_GROUP, "TransitEncryptionMode=loose", VALUE, "loose"),
        row(
            CREATE_GROUP,
            &format!("ReplicationGroupDescription={long}"),
            VALUE,
            "255",
        ),
        row(
            MODIFY_GROUP,
            &format!("ReplicationGroupDescription={long}"),
            VALUE,
            "255",
        ),
        row(
            MODIFY_GROUP,
            &format!("ReplicationGroupDescription={}", &long[..255]),
            GROUP_NOT_FOUND,
            "nope",
        ),
        // No serverless cache runs here, so no serverless snapshot can be restored.
        row(
            CREATE_GROUP,
            "ServerlessCacheSnapshotName=nightly",
            "ServerlessCacheSnapshotNotFoundFault",
            "nightly",
        ),
        // Every group and cluster here is in a VPC: cache security groups are refused alike.
        row(
            MODIFY_GROUP,
            "CacheSecurityGroupNames.CacheSecurityGroupName.1=default",
            COMBINATION,
            "cache subnet group",
        ),
        row(
            CREATE_CLUSTER,
            "CacheSecurityGroupNames.CacheSecurityGroupName.1=default",
            COMBINATION,
            "cache subnet group",
        ),
        row(
            MODIFY_CLUSTER,
            "CacheSecurityGroupNames.CacheSecurityGroupName.1=default",
            COMBINATION,
            "cache subnet group",
        ),
        // No global datastore exists here, so every id is one AWS does not know.
        row(
            CREATE_GROUP,
            "GlobalReplicationGroupId=ldgnf-global",
            "GlobalReplicationGroupNotFoundFault",
            "ldgnf-global",
        ),
        // A list of structures arrives only as its members' fields (as every SDK sends it):
        // refused, not ignored, on the actions that do not serve it.
        row(CREATE_CLUSTER, LOG_DELIVERY, VALUE, "log delivery"),
        row(
            MODIFY_CLUSTER,
            LOG_DELIVERY,
            VALUE,
            "LogDeliveryConfigurations",
        ),
        row(
            MODIFY_CLUSTER,
            "ScaleConfig.ReshardingConfig.ReshardingConfiguration.1.NodeGroupId=0001",
            VALUE,
            "ScaleConfig",
        ),
        row(
            MODIFY_GROUP,
            LOG_DELIVERY,
            VALUE,
            "LogDeliveryConfigurations",
        ),
    ]
}

const LOG_DELIVERY: &str = "LogDeliveryConfigurations.LogDeliveryConfigurationRequest.1.LogType=slow-log&LogDeliveryConfigurations.LogDeliveryConfigurationRequest.1.DestinationType=cloudwatch-logs&LogDeliveryConfigurations.LogDeliveryConfigurationRequest.1.LogFormat=json";

#[tokio::test]
async fn every_catalogue_member_is_checked_on_every_action_that_takes_it() {
    let server = TestServer::start();
    let mut failures = Vec::new();
    for (base, extra, code, names) in rows() {
        // A later duplicate key wins in the decoder, so `extra` may override the base.
        let query = format!("{base}&Version=2015-02-02&{extra}");
        let (status, body, _) = call(&server, reqwest::Method::POST, "", &query, None).await;
        let expected_status = if code.ends_with("NotFoundFault") || code == CLUSTER_NOT_FOUND {
            404
        } else {
            400
        };
        let ok = status == expected_status
            && body.contains(&format!("<Code>{code}</Code>"))
            && body.contains(names);
        if !ok {
            failures.push(format!("{base} & {extra}: want {expected_status} {code} naming {names}, got {status} {body}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn valid_catalogue_values_create_a_group_and_a_cluster() {
    let server = TestServer::start();
    let valid = "CacheNodeType=cache.r7g.large&PreferredMaintenanceWindow=sun:05:00-sun:06:00\
&SnapshotWindow=06:00-07:00&SecurityGroupIds.SecurityGroupId.1=sg-0123abcd\
&NotificationTopicArn=arn:aws:sns:us-east-1:123456789012:events&NetworkType=ipv4&IpDiscovery=ipv4";
    let group = format!(
        "Action=CreateReplicationGroup&Version=2015-02-02&ReplicationGroupId=valid\
&ReplicationGroupDescription={}&NumCacheClusters=1\
&PreferredCacheClusterAZs.AvailabilityZone.1=us-east-1f&AtRestEncryptionEnabled=true\
&KmsKeyId={KMS_KEY}&{valid}",
        "d".repeat(255)
    );
    let (status, body, _) = call(&server, reqwest::Method::POST, "", &group, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<CacheNodeType>cache.r7g.large</CacheNodeType>"),
        "{body}"
    );
    // Stored as given and reported back by every describe, as AWS reports it.
    let (_, described, _) = call(
        &server,
        reqwest::Method::POST,
        "",
        "Action=DescribeReplicationGroups&Version=2015-02-02&ReplicationGroupId=valid",
        None,
    )
    .await;
    assert!(
        described.contains(&format!("<KmsKeyId>{KMS_KEY}</KmsKeyId>")),
        "{described}"
    );
    let cluster = format!(
        "Action=CreateCacheCluster&Version=2015-02-02&CacheClusterId=validcc&Engine=redis\
&PreferredAvailabilityZone=us-east-1e&{valid}"
    );
    let (status, body, _) = call(&server, reqwest::Method::POST, "", &cluster, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<PreferredAvailabilityZone>us-east-1e</PreferredAvailabilityZone>"),
        "{body}"
    );
    assert!(
        body.contains(
            "<PreferredMaintenanceWindow>sun:05:00-sun:06:00</PreferredMaintenanceWindow>"
        ),
        "{body}"
    );
}
