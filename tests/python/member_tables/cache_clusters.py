"""Rows of CreateCacheCluster: every valid row makes a one-node cluster of its own (a new id per
call) and checks the member's effect in DescribeCacheClusters, the tags, or the node itself;
`after_valid` deletes it. The fixture holds what rows name: a parameter group, a subnet group, a
snapshot with a key in it (and its export to a bucket, for SnapshotArns), and a one-node
replication group a cluster can join. The Memcached table covers the members that only mean
something with more than one node."""

from pymemcache.client.base import Client as Memcache

from flowcheck import check, check_eq, poll
from member_tables.cluster_support import (
    BOOLEAN,
    created_id,
    delete_cluster,
    delete_snapshot,
    describe,
    fresh_id,
    gone,
    node_address,
    parameter_group_with_policy,
    redis_node,
    refused,
    snapshot_available,
    wait_available,
)
from member_tables.harness import Member, Table

BUCKET = "member-table-bucket"
TOPIC = "arn:aws:sns:us-east-1:123456789012:member-table"
SUBNETS = ["subnet-0a1b2c3d4e5f60718"]
# botocore serializes any value of a boolean member as true or false: no invalid one reaches the server.


def setup(ctx):
    client = ctx.client
    fixture = {"pg": ctx.name("cc-pg"), "subnets": ctx.name("cc-subnets"), "snap": ctx.name("cc-snap"),
               "source": ctx.name("cc-src"), "group": ctx.name("cc-rg")}
    parameter_group_with_policy(ctx, fixture["pg"], "allkeys-lru")
    client.create_cache_subnet_group(CacheSubnetGroupName=fixture["subnets"],
                                     CacheSubnetGroupDescription="member table", SubnetIds=SUBNETS)
    ctx.created.append(lambda: client.delete_cache_subnet_group(CacheSubnetGroupName=fixture["subnets"]))
    client.create_cache_cluster(CacheClusterId=fixture["source"], Engine="redis", NumCacheNodes=1)
    ctx.created.append(lambda: delete_cluster(ctx, fixture["source"]))
    redis_node(wait_available(ctx, fixture["source"])).set("restored", "yes")
    client.create_snapshot(CacheClusterId=fixture["source"], SnapshotName=fixture["snap"])
    ctx.created.append(lambda: delete_snapshot(ctx, fixture["snap"]))
    snapshot_available(ctx, fixture["snap"])
    export = fixture["snap"] + "-export"
    client.copy_snapshot(SourceSnapshotName=fixture["snap"], TargetSnapshotName=export, TargetBucket=BUCKET)
    fixture["export_arn"] = f"arn:aws:s3:::{BUCKET}/{export}-0001.rdb"
    client.create_replication_group(ReplicationGroupId=fixture["group"], ReplicationGroupDescription="member table",
                                    NumCacheClusters=1, Engine="redis")
    ctx.created.append(lambda: delete_group(ctx, fixture["group"]))
    return fixture


def delete_group(ctx, group_id):
    def state():
        try:
            return ctx.client.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]["Status"]
        except Exception:  # noqa: BLE001 - gone
            return "gone"

    poll(f"{group_id} settled", 60, lambda: state() in ("available", "gone"))
    if state() == "available":
        ctx.client.delete_replication_group(ReplicationGroupId=group_id)
    poll(f"{group_id} deleted", 60, lambda: state() == "gone")


def cleanup(ctx, fixture, response, params):
    delete_cluster(ctx, created_id(response, params))


def reported(field, expected=None):
    """The member's value (or `expected`) as DescribeCacheClusters reports it in `field`."""
    def effect(ctx, fixture, response, params):
        cluster = describe(ctx, params["CacheClusterId"])
        want = params[field] if expected is None else expected
        check_eq(cluster.get(field), want, f"DescribeCacheClusters {field}")
    return effect


def exists(ctx, fixture, response, params):
    check_eq(describe(ctx, params["CacheClusterId"])["CacheClusterId"], params["CacheClusterId"], "the cluster")


def joined_group(ctx, fixture, response, params):
    cluster = describe(ctx, params["CacheClusterId"])
    check_eq(cluster.get("ReplicationGroupId"), fixture["group"], "the cluster's ReplicationGroupId")
    group = ctx.client.describe_replication_groups(ReplicationGroupId=fixture["group"])["ReplicationGroups"][0]
    check(params["CacheClusterId"] in group["MemberClusters"], f"member of the group: {group['MemberClusters']}")
    node = redis_node(wait_available(ctx, params["CacheClusterId"]))
    check_eq(node.info("replication")["role"], "slave", "the new member's role")


def node_zone(ctx, fixture, response, params):
    cluster = describe(ctx, params["CacheClusterId"])
    check_eq(cluster["CacheNodes"][0]["CustomerAvailabilityZone"], params["PreferredAvailabilityZone"], "node zone")
    check_eq(cluster["PreferredAvailabilityZone"], params["PreferredAvailabilityZone"], "cluster zone")


def runs_engine(ctx, fixture, response, params):
    node = redis_node(wait_available(ctx, params["CacheClusterId"]))
    check_eq(node.info("server").get("server_name", "redis"), params["Engine"], "INFO server: the engine running")
    check_eq(describe(ctx, params["CacheClusterId"])["Engine"], params["Engine"], "Engine")


def version_reported(ctx, fixture, response, params):
    version = describe(ctx, params["CacheClusterId"])["EngineVersion"]
    check(version.startswith(params["EngineVersion"] + "."), f"EngineVersion {version} of {params['EngineVersion']}")


def parameter_group_applied(ctx, fixture, response, params):
    cluster = wait_available(ctx, params["CacheClusterId"])
    check_eq(cluster["CacheParameterGroup"]["CacheParameterGroupName"], fixture["pg"], "the parameter group")
    check_eq(redis_node(cluster).info("memory")["maxmemory_policy"], "allkeys-lru", "the node's maxmemory_policy")


def subnet_group_reported(ctx, fixture, response, params):
    check_eq(describe(ctx, params["CacheClusterId"])["CacheSubnetGroupName"], fixture["subnets"], "subnet group")


def security_groups_reported(ctx, fixture, response, params):
    ids = [g["SecurityGroupId"] for g in describe(ctx, params["CacheClusterId"])["SecurityGroups"]]
    check_eq(ids, params["SecurityGroupIds"], "SecurityGroups")


def tagged(ctx, fixture, response, params):
    arn = describe(ctx, params["CacheClusterId"])["ARN"]
    tags = ctx.client.list_tags_for_resource(ResourceName=arn)["TagList"]
    check_eq({t["Key"]: t["Value"] for t in tags}, {"team": "payments"}, "the cluster's tags")


def restored(ctx, fixture, response, params):
    node = redis_node(wait_available(ctx, params["CacheClusterId"]))
    check_eq(node.get("restored"), b"yes", "the key of the snapshot on the new node")


def listens_on_port(ctx, fixture, response, params):
    cluster = wait_available(ctx, params["CacheClusterId"])
    check_eq(node_address(cluster)[1], params["Port"], "the node's endpoint port")
    check(redis_node(cluster).ping(), "the node answers at that port")


def topic_reported(ctx, fixture, response, params):
    config = describe(ctx, params["CacheClusterId"]).get("NotificationConfiguration") or {}
    check_eq((config.get("TopicArn"), config.get("TopicStatus")), (TOPIC, "active"), "NotificationConfiguration")


def needs_password(ctx, fixture, response, params):
    cluster = wait_available(ctx, params["CacheClusterId"])
    check_eq(cluster["AuthTokenEnabled"], True, "AuthTokenEnabled")
    tls = {"ssl": True, "ssl_cert_reqs": None}
    refused(lambda: redis_node(cluster, **tls).ping(), "uthentication")
    check(redis_node(cluster, password=params["AuthToken"], **tls).ping(), "PING with the token")


def speaks_tls(ctx, fixture, response, params):
    cluster = wait_available(ctx, params["CacheClusterId"])
    check_eq(cluster["TransitEncryptionEnabled"], True, "TransitEncryptionEnabled")
    check(redis_node(cluster, ssl=True, ssl_cert_reqs=None).ping(), "PING over TLS")
    refused(lambda: redis_node(cluster, socket_timeout=2).ping(), "Error")


def on_ipv4(field):
    def effect(ctx, fixture, response, params):
        cluster = wait_available(ctx, params["CacheClusterId"])
        check_eq(cluster[field], "ipv4", field)
        address = node_address(cluster)[0]
        check(address.count(".") == 3 and ":" not in address, f"an IPv4 node address: {address}")
    return effect


TLS = {"TransitEncryptionEnabled": True}

REDIS = Table(
    "CreateCacheCluster",
    [
        Member("CacheClusterId", lambda ctx, f: fresh_id(ctx), exists,
               invalid="-starts-with-a-hyphen", error="InvalidParameterValue"),
        Member("ReplicationGroupId", lambda ctx, f: f["group"], joined_group,
               invalid="no-such-group", error="ReplicationGroupNotFoundFault"),
        Member("PreferredAvailabilityZone", "us-east-1c", node_zone,
               invalid="eu-west-1a", error="InvalidParameterValue"),
        Member("CacheNodeType", "cache.m5.large", reported("CacheNodeType"),
               invalid="cache.bogus.huge", error="InvalidParameterValue"),
        Member("Engine", "valkey", runs_engine, invalid="mongodb", error="InvalidParameterValue"),
        Member("EngineVersion", "6.2", version_reported, invalid="99.9", error="InvalidParameterCombination"),
        Member("CacheParameterGroupName", lambda ctx, f: f["pg"], parameter_group_applied,
               invalid="no-such-parameter-group", error="CacheParameterGroupNotFound"),
        Member("CacheSubnetGroupName", lambda ctx, f: f["subnets"], subnet_group_reported,
               invalid="no-such-subnet-group", error="CacheSubnetGroupNotFoundFault"),
        Member("SecurityGroupIds", ["sg-0123456789abcdef0"], security_groups_reported,
               invalid=["not-a-security-group"], error="InvalidParameterValue"),
        Member("Tags", [{"Key": "team", "Value": "payments"}], tagged,
               invalid=[{"Key": "aws:reserved", "Value": "x"}], error="InvalidParameterValue"),
        Member("SnapshotArns", lambda ctx, f: [f["export_arn"]], restored,
               invalid=["arn:aws:s3:::no-such-bucket/none.rdb"], error="InvalidParameterValue"),
        Member("SnapshotName", lambda ctx, f: f["snap"], restored,
               invalid="no-such-snapshot", error="SnapshotNotFoundFault"),
        Member("PreferredMaintenanceWindow", "mon:03:00-mon:04:00", reported("PreferredMaintenanceWindow"),
               invalid="mon:03:00-mon:03:30", error="InvalidParameterValue"),
        Member("Port", 6390, listens_on_port, invalid=70000, error="InvalidParameterValue"),
        Member("NotificationTopicArn", TOPIC, topic_reported, invalid="not-a-topic", error="InvalidParameterValue"),
        Member("AutoMinorVersionUpgrade", False, reported("AutoMinorVersionUpgrade"), no_invalid=BOOLEAN),
        Member("SnapshotRetentionLimit", 5, reported("SnapshotRetentionLimit"),
               invalid=36, error="InvalidParameterValue"),
        Member("SnapshotWindow", "07:00-08:00", reported("SnapshotWindow"),
               invalid="25:00-26:00", error="InvalidParameterValue"),
        Member("NetworkType", "ipv4", on_ipv4("NetworkType"), invalid="ipv5", error="InvalidParameterValue"),
        Member("IpDiscovery", "ipv4", on_ipv4("IpDiscovery"), invalid="ipv5", error="InvalidParameterValue"),
    ],
    base=lambda ctx, f: {"CacheClusterId": fresh_id(ctx), "Engine": "redis"},
    setup=setup,
    after_valid=cleanup,
)

# AuthToken and TLS run on the TLS-capable valkey binary (ELASTICACHE_LOCAL_ENGINE_BINARIES).
SECURE = Table(
    "CreateCacheCluster",
    [
        Member("AuthToken", "a-long-token-of-20-chars", needs_password,
               invalid="short", error="InvalidParameterValue"),
        Member("TransitEncryptionEnabled", True, speaks_tls, no_invalid=BOOLEAN),
    ],
    base=lambda ctx, f: {"CacheClusterId": fresh_id(ctx), "Engine": "valkey", **TLS},
    after_valid=cleanup,
)


def memcached_nodes(ctx, fixture, response, params):
    cluster = wait_available(ctx, params["CacheClusterId"])
    check_eq(len(cluster["CacheNodes"]), params["NumCacheNodes"], "nodes")
    for node in cluster["CacheNodes"]:
        mc = Memcache((node["Endpoint"]["Address"], node["Endpoint"]["Port"]), connect_timeout=5, timeout=5)
        mc.set("k", b"v")
        check_eq(mc.get("k"), b"v", f"pymemcache on node {node['CacheNodeId']}")
        mc.close()


def spread_over_zones(ctx, fixture, response, params):
    cluster = describe(ctx, params["CacheClusterId"])
    check_eq(cluster["PreferredAvailabilityZone"], "Multiple", "a cross-az cluster's zone")
    zones = {n["CustomerAvailabilityZone"] for n in cluster["CacheNodes"]}
    check_eq(len(zones), 2, f"the two nodes' distinct zones ({zones})")


def zones_as_asked(ctx, fixture, response, params):
    cluster = describe(ctx, params["CacheClusterId"])
    zones = [n["CustomerAvailabilityZone"] for n in sorted(cluster["CacheNodes"], key=lambda n: n["CacheNodeId"])]
    check_eq(zones, params["PreferredAvailabilityZones"], "the nodes' zones")


MEMCACHED = Table(
    "CreateCacheCluster",
    [
        Member("NumCacheNodes", 2, memcached_nodes, invalid=0, error="InvalidParameterValue"),
        Member("AZMode", "cross-az", spread_over_zones, invalid="both-az", error="InvalidParameterValue"),
        Member("PreferredAvailabilityZones", ["us-east-1b", "us-east-1d"], zones_as_asked,
               invalid=["us-east-1b", "us-east-1z"], error="InvalidParameterValue"),
    ],
    base=lambda ctx, f: {"CacheClusterId": fresh_id(ctx, "mc"), "Engine": "memcached", "NumCacheNodes": 2},
    after_valid=cleanup,
)

TABLES = [REDIS, SECURE, MEMCACHED]


# DeleteCacheCluster: every call deletes a cluster made for it (left ones go with ctx.created).
def new_cluster(ctx, fixture=None):
    cluster_id = fresh_id(ctx, "ccd")
    ctx.client.create_cache_cluster(CacheClusterId=cluster_id, Engine="redis", NumCacheNodes=1)
    ctx.created.append(lambda: delete_cluster(ctx, cluster_id))
    redis_node(wait_available(ctx, cluster_id)).set("final", "kept")
    return cluster_id


def deleted(ctx, fixture, response, params):
    check_eq(response["CacheCluster"]["CacheClusterStatus"], "deleting", "the Delete response's status")
    poll("the cluster gone", 60, lambda: gone(ctx, params["CacheClusterId"]))


def final_snapshot_taken(ctx, fixture, response, params):
    deleted(ctx, fixture, response, params)
    name = params["FinalSnapshotIdentifier"]
    ctx.created.append(lambda: delete_snapshot(ctx, name))
    snapshot = snapshot_available(ctx, name)
    check_eq(snapshot["CacheClusterId"], params["CacheClusterId"], "the final snapshot's cluster")
    restored_id = fresh_id(ctx, "ccd")
    ctx.client.create_cache_cluster(CacheClusterId=restored_id, Engine="redis", SnapshotName=name)
    ctx.created.append(lambda: delete_cluster(ctx, restored_id))
    check_eq(redis_node(wait_available(ctx, restored_id)).get("final"), b"kept", "the key in the final snapshot")


DELETE = Table(
    "DeleteCacheCluster",
    [
        Member("CacheClusterId", new_cluster, deleted, invalid="no-such-cluster", error="CacheClusterNotFound"),
        Member("FinalSnapshotIdentifier", lambda ctx, f: ctx.name("final"), final_snapshot_taken,
               invalid="-not-a-name", error="InvalidParameterValue"),
    ],
    base=lambda ctx, f: {"CacheClusterId": new_cluster(ctx)},
)


# DescribeCacheClusters: 21 clusters (20 to a page), one of them a replication group's member.
def many_clusters(ctx):
    client = ctx.client
    fixture = {"id": fresh_id(ctx, "ccl"), "group": ctx.name("ccl-rg"), "extra": []}
    client.create_cache_cluster(CacheClusterId=fixture["id"], Engine="redis", NumCacheNodes=1)
    ctx.created.append(lambda: delete_cluster(ctx, fixture["id"]))
    client.create_replication_group(ReplicationGroupId=fixture["group"], ReplicationGroupDescription="member table",
                                    NumCacheClusters=1, Engine="redis")
    ctx.created.append(lambda: delete_group(ctx, fixture["group"]))
    for _ in range(19):
        extra = fresh_id(ctx, "ccl")
        client.create_cache_cluster(CacheClusterId=extra, Engine="memcached", NumCacheNodes=1)
        ctx.created.append(lambda extra=extra: delete_cluster(ctx, extra))
        fixture["extra"].append(extra)
    for cluster_id in [fixture["id"]] + fixture["extra"]:
        wait_available(ctx, cluster_id)
    group = poll("the group available", 60, lambda: (lambda g: g["Status"] == "available" and g)(
        client.describe_replication_groups(ReplicationGroupId=fixture["group"])["ReplicationGroups"][0]))
    fixture["member"] = group["MemberClusters"][0]
    return fixture


def all_ids(ctx, **params):
    ids, marker = [], None
    while True:
        page = ctx.client.describe_cache_clusters(**params, **({"Marker": marker} if marker else {}))
        ids += [c["CacheClusterId"] for c in page["CacheClusters"]]
        marker = page.get("Marker")
        if not marker:
            return ids


def only_that_one(ctx, fixture, response, params):
    check_eq([c["CacheClusterId"] for c in response["CacheClusters"]], [fixture["id"]], "the clusters listed")


def one_page(ctx, fixture, response, params):
    check_eq(len(response["CacheClusters"]), 20, "clusters on a page of MaxRecords=20")
    check(response.get("Marker"), "a Marker to the rest")


def second_page(ctx, fixture, response, params):
    first = ctx.client.describe_cache_clusters(MaxRecords=20)
    ids = {c["CacheClusterId"] for c in response["CacheClusters"]}
    check(ids and not ids & {c["CacheClusterId"] for c in first["CacheClusters"]}, f"the next page: {ids}")


def node_info(ctx, fixture, response, params):
    check(all(c.get("CacheNodes") for c in response["CacheClusters"]), "CacheNodes of every cluster")
    plain = ctx.client.describe_cache_clusters(CacheClusterId=fixture["id"])["CacheClusters"][0]
    check("CacheNodes" not in plain, "no CacheNodes without ShowCacheNodeInfo")


def not_in_groups(ctx, fixture, response, params):
    ids = all_ids(ctx, ShowCacheClustersNotInReplicationGroups=True)
    check(fixture["member"] not in ids and fixture["id"] in ids, f"the group's member left out: {ids}")
    check(fixture["member"] in all_ids(ctx), "the member listed without the flag")


DESCRIBE = Table(
    "DescribeCacheClusters",
    [
        Member("CacheClusterId", lambda ctx, f: f["id"], only_that_one,
               invalid="no-such-cluster", error="CacheClusterNotFound"),
        Member("MaxRecords", 20, one_page, invalid=19, error="InvalidParameterValue"),
        Member("Marker", lambda ctx, f: ctx.client.describe_cache_clusters(MaxRecords=20)["Marker"], second_page,
               invalid="not-a-marker", error="InvalidParameterValue"),
        Member("ShowCacheNodeInfo", True, node_info, no_invalid=BOOLEAN),
        Member("ShowCacheClustersNotInReplicationGroups", True, not_in_groups, no_invalid=BOOLEAN),
    ],
    base=lambda ctx, f: {"MaxRecords": 20},
    setup=many_clusters,
)


# RebootCacheCluster: the node restarts (empty: no persistence), with its events.
def reboot_fixture(ctx):
    cluster_id = fresh_id(ctx, "ccr")
    ctx.client.create_cache_cluster(CacheClusterId=cluster_id, Engine="redis", NumCacheNodes=1)
    ctx.created.append(lambda: delete_cluster(ctx, cluster_id))
    wait_available(ctx, cluster_id)
    return {"id": cluster_id}


def with_key(ctx, fixture):
    redis_node(describe(ctx, fixture["id"])).set("before-reboot", "1")
    return fixture["id"]


def rebooted(ctx, fixture, response, params):
    check_eq(response["CacheCluster"]["CacheClusterStatus"], "rebooting cache cluster nodes", "status")
    node = redis_node(wait_available(ctx, fixture["id"]))
    check_eq(node.get("before-reboot"), None, "the key after the reboot (the node restarted)")
    events = ctx.client.describe_events(SourceIdentifier=fixture["id"], SourceType="cache-cluster", Duration=60)
    check("Cache node 0001 restarted" in [e["Message"] for e in events["Events"]], "the restart event")


REBOOT = Table(
    "RebootCacheCluster",
    [
        Member("CacheClusterId", with_key, rebooted, invalid="no-such-cluster", error="CacheClusterNotFound"),
        Member("CacheNodeIdsToReboot", lambda ctx, f: (with_key(ctx, f), ["0001"])[1], rebooted,
               invalid=["0009"], error="InvalidParameterValue"),
    ],
    base=lambda ctx, f: {"CacheClusterId": f["id"], "CacheNodeIdsToReboot": ["0001"]},
    setup=reboot_fixture,
    after_valid=lambda ctx, f, response, params: wait_available(ctx, f["id"]),
)

TABLES += [DELETE, DESCRIBE, REBOOT]
