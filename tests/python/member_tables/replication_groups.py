"""Rows of CreateReplicationGroup: each row creates its own small group (one node unless the
member needs more), checks the member where a user sees it (DescribeReplicationGroups,
DescribeCacheClusters, tags, the node through redis-py) and deletes the group. The tables differ
by their base members: one node, a failover pair, cluster mode, TLS, a snapshot to restore."""

import redis

from flowcheck import check, check_eq, poll
from member_tables.harness import Member, Table
from member_tables.rg_support import (
    check_refused_plain,
    counter_fixture,
    create_fixture_group,
    delete_group,
    first_cluster,
    new_id,
    node,
    tls_node,
    wait_available,
)

TOKEN = "a-valid-token-0123456789"
TOPIC = "arn:aws:sns:us-east-1:123456789012:cache-events"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def created(ctx, fixture, response, params):
    """after_valid: the row's group is deleted before the next row."""
    delete_group(ctx, params["ReplicationGroupId"])


def base_of(**members):
    def base(ctx, fixture):
        return {"ReplicationGroupId": new_id(ctx, fixture), "ReplicationGroupDescription": "member table",
                **members}
    return base


def available(params, ctx):
    return wait_available(ctx, params["ReplicationGroupId"])


def effect(check_of):
    """An effect that waits for the row's group to be available, then checks it."""
    def run(ctx, fixture, response, params):
        check_of(ctx, fixture, available(params, ctx), params)
    return run


def reported(member, expected):
    return effect(lambda ctx, f, g, p: check_eq(g.get(member), expected, member))


def cluster_reported(member, read):
    return effect(lambda ctx, f, g, p: check_eq(read(first_cluster(ctx, g["ReplicationGroupId"])), p[member],
                                                 f"the member cluster's {member}"))


def id_effect(ctx, fixture, described, params):
    check_eq(described["ReplicationGroupId"], params["ReplicationGroupId"], "ReplicationGroupId")
    check(node(described).ping(), "the group's primary answers")


def two_nodes(ctx, fixture, described, params):
    check_eq(len(described["MemberClusters"]), 2, "MemberClusters")
    replica = [m for m in described["NodeGroups"][0]["NodeGroupMembers"] if m["CurrentRole"] == "replica"][0]
    address = replica["ReadEndpoint"]
    info = redis.Redis(host=address["Address"], port=address["Port"], socket_timeout=5).info("replication")
    check_eq(info["role"], "slave", "the second node's role")


def zone_effect(ctx, fixture, described, params):
    zone = described["NodeGroups"][0]["NodeGroupMembers"][0]["PreferredAvailabilityZone"]
    check_eq(zone, params["PreferredCacheClusterAZs"][0], "the node's zone")


def engine_effect(ctx, fixture, described, params):
    check_eq(described["Engine"], "valkey", "Engine")
    check("valkey_version" in node(described).info("server"), "the node runs valkey")


def version_effect(ctx, fixture, described, params):
    # valkey 8.0, not the default local valkey (8.1): the version asked for decides the binary.
    cluster = first_cluster(ctx, described["ReplicationGroupId"])
    check(cluster["EngineVersion"].startswith("8.0"), f"EngineVersion {cluster['EngineVersion']}")
    check(node(described).info("server")["valkey_version"].startswith("8.0"), "the node's valkey_version")


def parameter_group_effect(ctx, fixture, described, params):
    cluster = first_cluster(ctx, described["ReplicationGroupId"])
    check_eq(cluster["CacheParameterGroup"]["CacheParameterGroupName"], fixture["parameter_group"],
             "the parameter group")
    check_eq(node(described).info("memory")["maxmemory_policy"], "allkeys-lru", "the node's maxmemory-policy")


def port_effect(ctx, fixture, described, params):
    check_eq(described["NodeGroups"][0]["PrimaryEndpoint"]["Port"], 6390, "the endpoint's port")
    check(node(described).ping(), "the node answers at port 6390")


def tags_effect(ctx, fixture, described, params):
    tags = ctx.client.list_tags_for_resource(ResourceName=described["ARN"])["TagList"]
    check_eq([(t["Key"], t["Value"]) for t in tags], [("team", "payments")], "the group's tags")


def snapshot_effect(ctx, fixture, described, params):
    check_eq(node(described).get("restored"), b"yes", "the restored key")


def transit_effect(ctx, fixture, described, params):
    check_eq(described["TransitEncryptionEnabled"], True, "TransitEncryptionEnabled")
    check_refused_plain(described)
    check(tls_node(described).ping(), "a TLS client is answered")


def auth_effect(ctx, fixture, described, params):
    check_eq(described["AuthTokenEnabled"], True, "AuthTokenEnabled")
    try:
        tls_node(described).ping()
        check(False, "PING without the token was answered")
    except redis.exceptions.AuthenticationError:
        pass
    except redis.exceptions.ResponseError as error:
        check("NOAUTH" in str(error), f"PING without the token: {error}")
    check(tls_node(described, password=TOKEN).ping(), "PING with the token")


def mode_effect(ctx, fixture, described, params):
    check_eq(described.get("TransitEncryptionMode"), "preferred", "TransitEncryptionMode")
    check(node(described).ping(), "a plaintext client is answered in preferred mode")
    check(tls_node(described).ping(), "a TLS client is answered")


def user_group_effect(ctx, fixture, described, params):
    check_eq(described["UserGroupIds"], [fixture["user_group"]], "UserGroupIds")
    client = tls_node(described, username=fixture["user_name"], password=fixture["password"])
    check(client.ping(), "the user group's user is let in")
    check_eq(client.acl_whoami(), fixture["user_name"], "ACL WHOAMI")


SLOW_LOG = {"LogType": "slow-log", "DestinationType": "cloudwatch-logs", "LogFormat": "json", "Enabled": True,
            "DestinationDetails": {"CloudWatchLogsDetails": {"LogGroup": "payments-slow-log"}}}


def log_delivery_effect(ctx, fixture, described, params):
    reported = [(c["LogType"], c["DestinationType"], c["DestinationDetails"], c["LogFormat"], c["Status"])
                for c in described["LogDeliveryConfigurations"]]
    check_eq(reported, [("slow-log", "cloudwatch-logs", SLOW_LOG["DestinationDetails"], "json", "active")],
             "LogDeliveryConfigurations")
    cluster = first_cluster(ctx, described["ReplicationGroupId"])
    check_eq(cluster["ReplicationGroupLogDeliveryEnabled"], True, "the member's ReplicationGroupLogDeliveryEnabled")


def ipv4_network(ctx, fixture, described, params):
    check_eq((described["NetworkType"], described["IpDiscovery"]), ("ipv4", "ipv4"), "NetworkType and IpDiscovery")
    address = described["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
    check(address.count(".") == 3 and ":" not in address, f"an IPv4 primary endpoint: {address}")
    check(node(described).ping(), "the node answers at its IPv4 endpoint")


def cluster_layout(count, replicas):
    def run(ctx, fixture, described, params):
        groups = described["NodeGroups"]
        check_eq(len(groups), count, "node groups")
        check_eq([len(g["NodeGroupMembers"]) for g in groups], [replicas + 1] * count, "members per node group")
        info = node(described).execute_command("CLUSTER", "INFO").decode()
        check(f"cluster_size:{count}" in info, f"the nodes' cluster_size is {count}")
    return run


def node_group_config_effect(ctx, fixture, described, params):
    groups = described["NodeGroups"]
    check_eq([(g["NodeGroupId"], g["Slots"]) for g in groups], [("0007", "0-16383")], "node group id and slots")
    check_eq(groups[0]["NodeGroupMembers"][0]["PreferredAvailabilityZone"], "us-east-1c", "the primary's zone")


def cluster_mode_effect(ctx, fixture, described, params):
    check_eq((described["ClusterEnabled"], described["ClusterMode"]), (True, "enabled"), "cluster mode")
    info = node(described).info("cluster")
    check_eq(info["cluster_enabled"], 1, "the node's cluster_enabled")


def parameter_group(ctx):
    name = ctx.name("rg-params")
    ctx.client.create_cache_parameter_group(CacheParameterGroupName=name, CacheParameterGroupFamily="redis7",
                                            Description="member table")
    ctx.client.modify_cache_parameter_group(CacheParameterGroupName=name, ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}])
    subnets = ctx.name("rg-subnets")
    ctx.client.create_cache_subnet_group(CacheSubnetGroupName=subnets, CacheSubnetGroupDescription="member table",
                                         SubnetIds=["subnet-0123456789abcdef0"])
    return {"parameter_group": name, "subnet_group": subnets}


def remove_resources(ctx, fixture):
    ctx.client.delete_cache_parameter_group(CacheParameterGroupName=fixture["parameter_group"])
    ctx.client.delete_cache_subnet_group(CacheSubnetGroupName=fixture["subnet_group"])


def snapshot_fixture(ctx):
    source = f"snapsrc{ctx.run}"
    described = create_fixture_group(ctx, source, NumCacheClusters=1)
    node(described).set("restored", "yes")
    name = ctx.name("rg-snap")
    ctx.client.create_snapshot(ReplicationGroupId=source, SnapshotName=name)
    ctx.created.append(lambda: ctx.client.delete_snapshot(SnapshotName=name))
    status = lambda: ctx.client.describe_snapshots(SnapshotName=name)["Snapshots"][0]["SnapshotStatus"]  # noqa: E731
    poll("the snapshot available", 60, lambda: status() == "available")
    wait_available(ctx, source)
    ctx.client.copy_snapshot(SourceSnapshotName=name, TargetSnapshotName=f"{name}-export", TargetBucket="tables")
    return {"snapshot": name, "source": source, "export": f"arn:aws:s3:::tables/{name}-export-0001.rdb"}


def remove_snapshot_fixture(ctx, fixture):
    ctx.client.delete_snapshot(SnapshotName=fixture["snapshot"])
    delete_group(ctx, fixture["source"])


def user_group_fixture(ctx):
    user_id, user_group = ctx.name("rgu"), ctx.name("rgug")
    password = "a-long-password-0123456789"
    ctx.client.create_user(UserId=user_id, UserName="default", Engine="redis", AccessString="on ~* +@all",
                           Passwords=[password])
    ctx.client.create_user_group(UserGroupId=user_group, Engine="redis", UserIds=[user_id])
    return {"user": user_id, "user_group": user_group, "user_name": "default", "password": password}


def remove_user_group(ctx, fixture):
    poll("the user group unused", 60, lambda: ctx.client.describe_user_groups(
        UserGroupId=fixture["user_group"])["UserGroups"][0]["Status"] == "active")
    ctx.client.delete_user_group(UserGroupId=fixture["user_group"])
    poll("the user group deleted", 60, lambda: not [
        g for g in ctx.client.describe_user_groups()["UserGroups"] if g["UserGroupId"] == fixture["user_group"]])
    ctx.client.delete_user(UserId=fixture["user"])


ONE_NODE = [
    Member("ReplicationGroupId", lambda ctx, f: new_id(ctx, f, "named"), effect(id_effect),
           invalid="1-starts-with-a-digit", error="InvalidParameterValue"),
    Member("ReplicationGroupDescription", "payments cache", reported("Description", "payments cache"),
           invalid="x" * 300, error="InvalidParameterValue"),
    Member("NumCacheClusters", 2, effect(two_nodes), invalid=0, error="InvalidParameterValue"),
    Member("PreferredCacheClusterAZs", ["us-east-1c"], effect(zone_effect),
           invalid=["eu-west-1a"], error="InvalidParameterValue"),
    Member("Engine", "valkey", effect(engine_effect), invalid="mongodb", error="InvalidParameterValue"),
    Member("CacheParameterGroupName", lambda ctx, f: f["parameter_group"], effect(parameter_group_effect),
           invalid="no-such-parameter-group", error="CacheParameterGroupNotFound"),
    Member("CacheSubnetGroupName", lambda ctx, f: f["subnet_group"],
           cluster_reported("CacheSubnetGroupName", lambda c: c["CacheSubnetGroupName"]),
           invalid="no-such-subnet-group", error="CacheSubnetGroupNotFoundFault"),
    Member("SecurityGroupIds", ["sg-0123456789abcdef0"],
           effect(lambda ctx, f, g, p: check_eq(
               [s["SecurityGroupId"] for s in first_cluster(ctx, g["ReplicationGroupId"])["SecurityGroups"]],
               p["SecurityGroupIds"], "the member cluster's SecurityGroups")),
           invalid=["not-a-security-group"], error="InvalidParameterValue"),
    Member("Tags", [{"Key": "team", "Value": "payments"}], effect(tags_effect),
           invalid=[{"Key": "aws:reserved", "Value": "x"}], error="InvalidParameterValue"),
    Member("PreferredMaintenanceWindow", "tue:03:00-tue:04:30",
           cluster_reported("PreferredMaintenanceWindow", lambda c: c["PreferredMaintenanceWindow"]),
           invalid="tue:03:00-tue:03:30", error="InvalidParameterValue"),
    Member("Port", 6390, effect(port_effect), invalid=70000, error="InvalidParameterValue"),
    Member("NotificationTopicArn", TOPIC,
           cluster_reported("NotificationTopicArn", lambda c: c["NotificationConfiguration"]["TopicArn"]),
           invalid="not-a-topic", error="InvalidParameterValue"),
    Member("AutoMinorVersionUpgrade", False, reported("AutoMinorVersionUpgrade", False),
           no_invalid="a boolean: botocore sends any value as true or false"),
    Member("SnapshotRetentionLimit", 3, reported("SnapshotRetentionLimit", 3),
           invalid=-1, error="InvalidParameterValue"),
    Member("SnapshotWindow", "06:00-07:30", reported("SnapshotWindow", "06:00-07:30"),
           invalid="25:00-26:00", error="InvalidParameterValue"),
    Member("TransitEncryptionEnabled", True, effect(transit_effect),
           no_invalid="a boolean: botocore sends any value as true or false; without it, AuthToken's "
                      "and TransitEncryptionMode's refusals are their rows"),
    Member("AtRestEncryptionEnabled", True, reported("AtRestEncryptionEnabled", True),
           no_invalid="a boolean: botocore sends any value as true or false"),
    Member("KmsKeyId", KMS_KEY, reported("KmsKeyId", KMS_KEY), invalid="not-a-key", error="InvalidParameterValue"),
    Member("LogDeliveryConfigurations", [SLOW_LOG], effect(log_delivery_effect),
           invalid=[{**SLOW_LOG, "LogType": "audit-log"}], error="InvalidParameterValue"),
    # ipv4 is the only network served (nodes listen on IPv4 loopback addresses); dual_stack and
    # ipv6 are refused, and ipv6 discovery is refused on an ipv4 network as AWS does.
    Member("NetworkType", "ipv4", effect(ipv4_network), invalid="dual_stack", error="InvalidParameterValue"),
    Member("IpDiscovery", "ipv4", effect(ipv4_network), invalid="ipv6", error="InvalidParameterCombination"),
    # ServerlessCacheSnapshotName has no valid value here (no serverless caches): see not_yet.py.
]

FAILOVER_PAIR = [
    Member("AutomaticFailoverEnabled", True, reported("AutomaticFailover", "enabled"),
           invalid=False, error="InvalidParameterCombination"),  # Multi-AZ (the base) needs failover
]

MULTI_AZ = [
    Member("MultiAZEnabled", True, reported("MultiAZ", "enabled"),
           no_invalid="a boolean: botocore sends any value as true or false; Multi-AZ without failover "
                      "is AutomaticFailoverEnabled's invalid row"),
]

CLUSTER = [
    Member("NumNodeGroups", 2, effect(cluster_layout(2, 0)), invalid=0, error="InvalidParameterValue"),
    Member("ReplicasPerNodeGroup", 1, effect(cluster_layout(1, 1)), invalid=6, error="InvalidParameterValue"),
    Member("NodeGroupConfiguration",
           [{"NodeGroupId": "0007", "Slots": "0-16383", "ReplicaCount": 0, "PrimaryAvailabilityZone": "us-east-1c"}],
           effect(node_group_config_effect),
           invalid=[{"NodeGroupId": "0001", "Slots": "0-100", "ReplicaCount": 0}], error="InvalidParameterValue"),
]

VALKEY = [
    Member("EngineVersion", "8.0", effect(version_effect), invalid="99.9", error="InvalidParameterCombination"),
]

# Without any layout member in the base, so ClusterMode alone decides.
CLUSTER_MODE = [
    Member("ClusterMode", "enabled", effect(cluster_mode_effect), invalid="sometimes",
           error="InvalidParameterValue"),
]

TLS = [
    Member("AuthToken", TOKEN, effect(auth_effect), invalid="short", error="InvalidParameterValue"),
    Member("TransitEncryptionMode", "preferred", effect(mode_effect), invalid="loose",
           error="InvalidParameterValue"),
    Member("UserGroupIds", lambda ctx, f: [f["user_group"]], effect(user_group_effect),
           invalid=["no-such-user-group"], error="UserGroupNotFound"),
]

RESTORE = [
    Member("SnapshotName", lambda ctx, f: f["snapshot"], effect(snapshot_effect),
           invalid="no-such-snapshot", error="SnapshotNotFoundFault"),
    Member("SnapshotArns", lambda ctx, f: [f["export"]], effect(snapshot_effect),
           invalid=["arn:aws:s3:::tables/no-such-object.rdb"], error="InvalidParameterValue"),
]

TABLES = [
    Table("CreateReplicationGroup", ONE_NODE, base=base_of(NumCacheClusters=1),
          setup=counter_fixture(parameter_group), teardown=remove_resources, after_valid=created),
    Table("CreateReplicationGroup", FAILOVER_PAIR, base=base_of(NumCacheClusters=2, MultiAZEnabled=True),
          setup=counter_fixture(), after_valid=created),
    Table("CreateReplicationGroup", MULTI_AZ, base=base_of(NumCacheClusters=2, AutomaticFailoverEnabled=True),
          setup=counter_fixture(), after_valid=created),
    Table("CreateReplicationGroup", CLUSTER, base=base_of(ClusterMode="enabled", NumNodeGroups=1,
                                                          ReplicasPerNodeGroup=0),
          setup=counter_fixture(), after_valid=created),
    Table("CreateReplicationGroup", VALKEY, base=base_of(NumCacheClusters=1, Engine="valkey"),
          setup=counter_fixture(), after_valid=created),
    Table("CreateReplicationGroup", CLUSTER_MODE, base=base_of(), setup=counter_fixture(), after_valid=created),
    Table("CreateReplicationGroup", TLS, base=base_of(NumCacheClusters=1, TransitEncryptionEnabled=True),
          setup=counter_fixture(user_group_fixture), teardown=remove_user_group, after_valid=created),
    Table("CreateReplicationGroup", RESTORE, base=base_of(NumCacheClusters=1),
          setup=counter_fixture(snapshot_fixture), teardown=remove_snapshot_fixture, after_valid=created),
]
