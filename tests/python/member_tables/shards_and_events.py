"""Rows of ModifyReplicationGroupShardConfiguration (on a cluster-mode group of one shard that
each row grows to two, or of two that each row shrinks to one; the nodes' CLUSTER INFO and the
described node groups show the effect, a key written before survives) and of DescribeEvents
(on two groups created one after the other, so a time window can tell their events apart)."""

from datetime import timedelta

import redis

from flowcheck import check, check_eq, poll
from member_tables.harness import Member, Table
from member_tables.rg_support import create_fixture_group, delete_group, group, node, wait_available


def shard_ids(ctx, group_id):
    return [g["NodeGroupId"] for g in group(ctx, group_id)["NodeGroups"]]


def cluster_fixture(shards):
    def setup(ctx):
        group_id = f"shard{shards}{ctx.run}"
        described = create_fixture_group(ctx, group_id, ClusterMode="enabled", NumNodeGroups=shards,
                                         ReplicasPerNodeGroup=0)
        node(described).execute_command("SET", "kept", "across resharding")
        return {"id": group_id}
    return setup


def reshard_to(ctx, group_id, count):
    """Brings the group back to `count` shards (keeping the lowest ids) for the next row."""
    wait_available(ctx, group_id)
    ids = shard_ids(ctx, group_id)
    if len(ids) != count:
        extra = {"NodeGroupsToRetain": sorted(ids)[:count]} if len(ids) > count else {}
        ctx.client.modify_replication_group_shard_configuration(
            ReplicationGroupId=group_id, NodeGroupCount=count, ApplyImmediately=True, **extra)
    poll(f"{group_id} with {count} shards", 120, lambda: group(ctx, group_id)["Status"] == "available"
         and len(shard_ids(ctx, group_id)) == count)


def sharded(count, expect_ids=None):
    def run(ctx, fixture, response, params):
        poll(f"{count} shards", 120, lambda: group(ctx, fixture["id"])["Status"] == "available"
             and len(shard_ids(ctx, fixture["id"])) == count)
        described = group(ctx, fixture["id"])
        if expect_ids:
            check_eq(shard_ids(ctx, fixture["id"]), expect_ids(params), "the node groups left")
        client = node(described)
        check(f"cluster_size:{count}" in client.execute_command("CLUSTER", "INFO").decode(),
              f"the nodes' cluster_size is {count}")
        cluster = redis.RedisCluster(host=client.connection_pool.connection_kwargs["host"],
                                     port=client.connection_pool.connection_kwargs["port"], socket_timeout=5)
        check_eq(cluster.get("kept"), b"across resharding", "a key written before the resharding")
    return run


def new_shard_zone(ctx, fixture, response, params):
    sharded(2)(ctx, fixture, response, params)
    groups = group(ctx, fixture["id"])["NodeGroups"]
    new = [g for g in groups if g["NodeGroupId"] != "0001"][0]
    check_eq(new["NodeGroupMembers"][0]["PreferredAvailabilityZone"], "us-east-1e", "the new shard's zone")


def remove(ctx, fixture):
    delete_group(ctx, fixture["id"])


GROW = [
    Member("ReplicationGroupId", lambda ctx, f: f["id"], sharded(2), invalid="no-such-group",
           error="ReplicationGroupNotFoundFault"),
    Member("NodeGroupCount", 2, sharded(2), invalid=0, error="InvalidParameterValue"),
    Member("ApplyImmediately", True, sharded(2), invalid=False, error="InvalidParameterValue"),
    Member("ReshardingConfiguration", [{"PreferredAvailabilityZones": ["us-east-1e"]}], new_shard_zone,
           invalid=[{"PreferredAvailabilityZones": ["eu-west-1a"]}], error="InvalidParameterValue"),
]

SHRINK = [
    Member("NodeGroupsToRemove", ["0002"], sharded(1, lambda p: ["0001"]), invalid=["0009"],
           error="InvalidParameterValue"),
    Member("NodeGroupsToRetain", ["0002"], sharded(1, lambda p: ["0002"]), invalid=["0009"],
           error="InvalidParameterValue"),
]


def events_fixture(ctx):
    """Two groups, the second created once the first is available: their events' dates differ;
    a third created and deleted, for events of both source types."""
    first, second, deleted = f"evone{ctx.run}", f"evtwo{ctx.run}", f"evdel{ctx.run}"
    create_fixture_group(ctx, deleted, NumCacheClusters=1)
    delete_group(ctx, deleted)
    create_fixture_group(ctx, first, NumCacheClusters=1)
    create_fixture_group(ctx, second, NumCacheClusters=1)
    events = ctx.client.describe_events(Duration=60, MaxRecords=100)["Events"]
    of = lambda gid: [e for e in events if e["SourceIdentifier"].startswith(gid)]  # noqa: E731
    check(of(first) and of(second), "both groups have events")
    return {"first": first, "second": second, "first_last": max(e["Date"] for e in of(first)),
            "second_first": min(e["Date"] for e in of(second))}


def remove_events_fixture(ctx, fixture):
    delete_group(ctx, fixture["first"])
    delete_group(ctx, fixture["second"])


def sources(response):
    return {e["SourceIdentifier"] for e in response["Events"]}


def only_source(ctx, fixture, response, params):
    check(response["Events"], "events of the member cluster")
    check_eq(sources(response), {params["SourceIdentifier"]}, "the events' sources")


def only_type(ctx, fixture, response, params):
    check(response["Events"], "events of that type")
    check_eq({e["SourceType"] for e in response["Events"]}, {"replication-group"}, "the events' source types")


def of_group(response, group_id):
    return [s for s in sources(response) if s == group_id or s.startswith(f"{group_id}-")]


def from_second(ctx, fixture, response, params):
    check(of_group(response, fixture["second"]), "the second group's events")
    check(not of_group(response, fixture["first"]), "none of the first group's (all before StartTime)")


def until_first(ctx, fixture, response, params):
    check(of_group(response, fixture["first"]), "the first group's events")
    check(not of_group(response, fixture["second"]), "none of the second group's (all after EndTime)")


def twenty(ctx, fixture, response, params):
    check_eq(len(response["Events"]), 20, "events on the page")
    check(response.get("Marker"), "a Marker for the rest")


def page_two(ctx, fixture, response, params):
    first = ctx.client.describe_events(Duration=60, MaxRecords=20)["Events"]
    check(response["Events"], "events on the next page")
    check(response["Events"][0] not in first, "the next page starts after the first")


def many_events(ctx):
    """More than 20 events (each one-node group makes a few), for the paging rows."""
    fixture = events_fixture(ctx)
    n = 0
    while len(ctx.client.describe_events(Duration=60, MaxRecords=100)["Events"]) <= 20:
        n += 1
        group_id = f"evmore{ctx.run}-{n}"
        create_fixture_group(ctx, group_id, NumCacheClusters=1)
        fixture.setdefault("more", []).append(group_id)
    return fixture


def remove_many_events(ctx, fixture):
    remove_events_fixture(ctx, fixture)
    for group_id in fixture.get("more", []):
        delete_group(ctx, group_id)


EVENTS = [
    Member("SourceIdentifier", lambda ctx, f: f"{f['first']}-001", only_source,
           no_invalid="any identifier is a valid filter (one of no resource lists no events)"),
    Member("SourceType", "replication-group", only_type, invalid="bogus", error="InvalidParameterValue"),
    Member("StartTime", lambda ctx, f: f["second_first"] - timedelta(milliseconds=1), from_second,
           no_invalid="a timestamp: botocore refuses a value that is not one before sending it"),
    Member("EndTime", lambda ctx, f: f["first_last"] + timedelta(milliseconds=1), until_first,
           no_invalid="a timestamp: botocore refuses a value that is not one before sending it"),
    Member("MaxRecords", 20, twenty, invalid=10, error="InvalidParameterValue"),
    Member("Marker", lambda ctx, f: ctx.client.describe_events(Duration=60, MaxRecords=20)["Marker"], page_two,
           invalid="garbage", error="InvalidParameterValue"),
]


TABLES = [
    Table("ModifyReplicationGroupShardConfiguration", GROW,
          base=lambda ctx, f: {"ReplicationGroupId": f["id"], "NodeGroupCount": 2, "ApplyImmediately": True},
          setup=cluster_fixture(1), teardown=remove, after_valid=lambda ctx, f, r, p: reshard_to(ctx, f["id"], 1)),
    Table("ModifyReplicationGroupShardConfiguration", SHRINK,
          base=lambda ctx, f: {"ReplicationGroupId": f["id"], "NodeGroupCount": 1, "ApplyImmediately": True},
          setup=cluster_fixture(2), teardown=remove, after_valid=lambda ctx, f, r, p: reshard_to(ctx, f["id"], 2)),
    Table("DescribeEvents", [m for m in EVENTS if m.name not in ("MaxRecords", "Marker")],
          setup=events_fixture, teardown=remove_events_fixture),
    Table("DescribeEvents", [m for m in EVENTS if m.name in ("MaxRecords", "Marker")],
          base=lambda ctx, f: {"Duration": 60}, setup=many_events, teardown=remove_many_events),
]
