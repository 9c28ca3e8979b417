"""Rows of ModifyCacheCluster, each table on one fixture cluster its rows share: a one-node
Redis cluster for the stored settings and the parameter group (whose value is read back from
the node), a one-node Memcached cluster that rows grow (NumCacheNodes, NewAvailabilityZones,
AZMode) and `after_valid` shrinks back, and a two-node one that CacheNodeIdsToRemove shrinks and
`after_valid` grows back. A value must show both in the Modify response and in
DescribeCacheClusters."""

import json
import urllib.request

from flowcheck import check, check_eq, poll
from member_tables.cluster_support import (
    BOOLEAN,
    delete_cluster,
    describe,
    fresh_id,
    parameter_group_with_policy,
    redis_node,
    wait_available,
)
from member_tables.harness import Member, Table

TOPIC = "arn:aws:sns:us-east-1:123456789012:member-table-modify"


def redis_fixture(ctx):
    fixture = {"id": fresh_id(ctx, "ccm"), "pg": ctx.name("ccm-pg")}
    client = ctx.client
    parameter_group_with_policy(ctx, fixture["pg"], "allkeys-lfu")
    client.create_cache_cluster(CacheClusterId=fixture["id"], Engine="redis", NumCacheNodes=1)
    ctx.created.append(lambda: delete_cluster(ctx, fixture["id"]))
    wait_available(ctx, fixture["id"])
    return fixture


def memcached_fixture(nodes):
    def setup(ctx):
        fixture = {"id": fresh_id(ctx, "mcm"), "nodes": nodes}
        ctx.client.create_cache_cluster(CacheClusterId=fixture["id"], Engine="memcached", NumCacheNodes=nodes)
        ctx.created.append(lambda: delete_cluster(ctx, fixture["id"]))
        wait_available(ctx, fixture["id"])
        return fixture
    return setup


def settle(ctx, fixture, response, params):
    wait_available(ctx, fixture["id"])


def back_to_size(ctx, fixture, response, params):
    """The fixture's node count again (the newest nodes removed, or nodes added)."""
    cluster = wait_available(ctx, fixture["id"])
    ids = sorted(n["CacheNodeId"] for n in cluster["CacheNodes"])
    if len(ids) == fixture["nodes"]:
        return
    extra = {"CacheNodeIdsToRemove": ids[fixture["nodes"]:]} if len(ids) > fixture["nodes"] else {}
    ctx.client.modify_cache_cluster(CacheClusterId=fixture["id"], NumCacheNodes=fixture["nodes"],
                                    ApplyImmediately=True, **extra)
    wait_available(ctx, fixture["id"])


def both(field, expected=None):
    """The member's value (or `expected`) in `field` of the Modify response and of Describe."""
    def effect(ctx, fixture, response, params):
        want = params[field] if expected is None else expected
        check_eq(response["CacheCluster"].get(field), want, f"the Modify response's {field}")
        check_eq(describe(ctx, fixture["id"]).get(field), want, f"DescribeCacheClusters {field}")
    return effect


def same_cluster(ctx, fixture, response, params):
    check_eq(response["CacheCluster"]["CacheClusterId"], fixture["id"], "the cluster modified")
    check_eq(describe(ctx, fixture["id"])["SnapshotRetentionLimit"], 3, "the base's SnapshotRetentionLimit")


def security_groups(ctx, fixture, response, params):
    for where, cluster in (("response", response["CacheCluster"]), ("describe", describe(ctx, fixture["id"]))):
        ids = [g["SecurityGroupId"] for g in cluster["SecurityGroups"]]
        check_eq(ids, params["SecurityGroupIds"], f"SecurityGroups ({where})")


def topic(arn, status):
    def effect(ctx, fixture, response, params):
        for where, cluster in (("response", response["CacheCluster"]), ("describe", describe(ctx, fixture["id"]))):
            config = cluster.get("NotificationConfiguration") or {}
            check_eq((config.get("TopicArn"), config.get("TopicStatus")), (arn, status),
                     f"NotificationConfiguration ({where})")
    return effect


def parameter_group_applied(ctx, fixture, response, params):
    cluster = wait_available(ctx, fixture["id"])
    check_eq(cluster["CacheParameterGroup"]["CacheParameterGroupName"], fixture["pg"], "the parameter group")
    check_eq(redis_node(cluster).info("memory")["maxmemory_policy"], "allkeys-lfu", "the node's maxmemory_policy")


def ipv4_discovery(ctx, fixture, response, params):
    check_eq(response["CacheCluster"]["SnapshotRetentionLimit"], 3, "the base's change applied with IpDiscovery")
    cluster = wait_available(ctx, fixture["id"])
    check_eq((cluster["NetworkType"], cluster["IpDiscovery"]), ("ipv4", "ipv4"), "NetworkType and IpDiscovery")
    address = cluster["CacheNodes"][0]["Endpoint"]["Address"]
    check(address.count(".") == 3 and ":" not in address, f"an IPv4 node address: {address}")


REDIS = Table(
    "ModifyCacheCluster",
    [
        Member("CacheClusterId", lambda ctx, f: f["id"], same_cluster,
               invalid="no-such-cluster", error="CacheClusterNotFound"),
        Member("SecurityGroupIds", ["sg-0123456789abcdef1"], security_groups,
               invalid=["sg-not-hex"], error="InvalidParameterValue"),
        Member("PreferredMaintenanceWindow", "tue:03:00-tue:04:00", both("PreferredMaintenanceWindow"),
               invalid="tue:03:00-tue:03:10", error="InvalidParameterValue"),
        Member("NotificationTopicArn", TOPIC, topic(TOPIC, "active"),
               invalid="not-a-topic", error="InvalidParameterValue"),
        # After NotificationTopicArn: the cluster has a topic whose status this changes.
        Member("NotificationTopicStatus", "inactive", topic(TOPIC, "inactive"),
               invalid="paused", error="InvalidParameterValue"),
        Member("CacheParameterGroupName", lambda ctx, f: f["pg"], parameter_group_applied,
               invalid="no-such-parameter-group", error="CacheParameterGroupNotFound"),
        Member("AutoMinorVersionUpgrade", False, both("AutoMinorVersionUpgrade"), no_invalid=BOOLEAN),
        Member("SnapshotRetentionLimit", 7, both("SnapshotRetentionLimit"), invalid=36, error="InvalidParameterValue"),
        Member("CacheNodeType", "cache.m5.large", both("CacheNodeType"),
               invalid="cache.bogus.huge", error="InvalidParameterValue"),
        Member("SnapshotWindow", "09:00-10:00", both("SnapshotWindow"), invalid="9am", error="InvalidParameterValue"),
        # ipv4 is the only discovery of an ipv4 network (every one here): a no-op AWS accepts.
        Member("IpDiscovery", "ipv4", ipv4_discovery, invalid="ipv6", error="InvalidParameterCombination"),
    ],
    base=lambda ctx, f: {"CacheClusterId": f["id"], "ApplyImmediately": True, "SnapshotRetentionLimit": 3},
    setup=redis_fixture,
    after_valid=settle,
)


def nodes_now(ctx, fixture):
    cluster = wait_available(ctx, fixture["id"])
    return cluster, sorted(cluster["CacheNodes"], key=lambda n: n["CacheNodeId"])


def grown(ctx, fixture, response, params):
    check_eq(response["CacheCluster"]["PendingModifiedValues"].get("NumCacheNodes"), 2, "pending NumCacheNodes")
    cluster, nodes = nodes_now(ctx, fixture)
    check_eq((cluster["NumCacheNodes"], len(nodes)), (2, 2), "NumCacheNodes and nodes after growing")


def new_node_zone(ctx, fixture, response, params):
    cluster, nodes = nodes_now(ctx, fixture)
    check_eq(nodes[-1]["CustomerAvailabilityZone"], "us-east-1d", "the added node's zone")


def cross_az(ctx, fixture, response, params):
    cluster, nodes = nodes_now(ctx, fixture)
    check_eq(cluster["PreferredAvailabilityZone"], "Multiple", "a cross-az cluster's zone")
    check(len({n["CustomerAvailabilityZone"] for n in nodes}) == 2, f"two zones: {nodes}")


def deferred_to_window(ctx, fixture, response, params):
    """ApplyImmediately=false: the node count waits, pending, until the maintenance window (the
    control route fast-forwards to it), then the cluster grows."""
    answer = response["CacheCluster"]
    check_eq((answer["CacheClusterStatus"], answer["PendingModifiedValues"].get("NumCacheNodes")),
             ("available", 2), "the Modify response: available, NumCacheNodes pending")
    cluster = describe(ctx, fixture["id"])
    check_eq((cluster["NumCacheNodes"], cluster["PendingModifiedValues"].get("NumCacheNodes")), (1, 2),
             "DescribeCacheClusters before the window: one node, two pending")
    request = urllib.request.Request(f"{ctx.endpoint}/_maintenance/{fixture['id']}", method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        check(json.load(answer)["applied"], "the control route applied the deferred change")
    poll("the cluster grown at the window", 60,
         lambda: (lambda c: c["CacheClusterStatus"] == "available" and len(c["CacheNodes"]) == 2
                  and not c["PendingModifiedValues"])(describe(ctx, fixture["id"])))


GROW = Table(
    "ModifyCacheCluster",
    [
        Member("NumCacheNodes", 2, grown, invalid=0, error="InvalidParameterValue"),
        Member("NewAvailabilityZones", ["us-east-1d"], new_node_zone,
               invalid=["mars-1a"], error="InvalidParameterValue"),
        Member("ApplyImmediately", False, deferred_to_window, no_invalid=BOOLEAN),
        Member("AZMode", "cross-az", cross_az, invalid="both-az", error="InvalidParameterValue"),
    ],
    base=lambda ctx, f: {"CacheClusterId": f["id"], "ApplyImmediately": True, "NumCacheNodes": 2},
    setup=memcached_fixture(1),
    after_valid=back_to_size,
)


def node_removed(ctx, fixture, response, params):
    cluster, nodes = nodes_now(ctx, fixture)
    ids = [n["CacheNodeId"] for n in nodes]
    check(params["CacheNodeIdsToRemove"][0] not in ids and len(ids) == 1, f"the node removed: {ids}")


SHRINK = Table(
    "ModifyCacheCluster",
    [
        Member("CacheNodeIdsToRemove", lambda ctx, f: [nodes_now(ctx, f)[1][0]["CacheNodeId"]], node_removed,
               invalid=["0099"], error="InvalidParameterValue"),
    ],
    base=lambda ctx, f: {"CacheClusterId": f["id"], "ApplyImmediately": True, "NumCacheNodes": 1},
    setup=memcached_fixture(2),
    after_valid=back_to_size,
)

TABLES = [REDIS, GROW, SHRINK]
