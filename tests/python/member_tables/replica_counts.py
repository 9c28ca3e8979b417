"""Rows of IncreaseReplicaCount, DecreaseReplicaCount, TestFailover, DeleteReplicationGroup and
DescribeReplicationGroups, each on a small fixture group: the effect is read from
DescribeReplicationGroups and the nodes (a replica's INFO says it replicates, a failed-over
primary's says master, a deleted group's endpoint no longer answers)."""

import redis

from flowcheck import check, check_eq, poll
from member_tables.harness import Member, Table
from member_tables.rg_support import (
    create_fixture_group,
    delete_group,
    gone,
    group,
    node,
    wait_available,
)


def members(ctx, group_id):
    return group(ctx, group_id)["NodeGroups"][0]["NodeGroupMembers"]


def replicas(ctx, group_id):
    return [m["CacheClusterId"] for m in members(ctx, group_id) if m["CurrentRole"] == "replica"]


def replicating(ctx, group_id, count):
    described = wait_available(ctx, group_id)
    check_eq(len(described["MemberClusters"]), count + 1, "MemberClusters")
    for member in described["NodeGroups"][0]["NodeGroupMembers"]:
        if member["CurrentRole"] == "replica":
            endpoint = member["ReadEndpoint"]
            info = redis.Redis(host=endpoint["Address"], port=endpoint["Port"], socket_timeout=5).info("replication")
            check_eq(info["role"], "slave", f"{member['CacheClusterId']}'s node role")


def count_effect(count):
    return lambda ctx, f, response, params: replicating(ctx, f["id"], count)


def set_replicas(ctx, group_id, count):
    """Brings the group back to `count` replicas for the next row."""
    wait_available(ctx, group_id)
    now = len(replicas(ctx, group_id))
    if now < count:
        ctx.client.increase_replica_count(ReplicationGroupId=group_id, NewReplicaCount=count, ApplyImmediately=True)
    elif now > count:
        ctx.client.decrease_replica_count(ReplicationGroupId=group_id, NewReplicaCount=count, ApplyImmediately=True)
    poll(f"{group_id} with {count} replicas", 90,
         lambda: group(ctx, group_id)["Status"] == "available" and len(replicas(ctx, group_id)) == count)


def fixture_group(prefix, **params):
    def setup(ctx):
        group_id = f"{prefix}{ctx.run}"
        create_fixture_group(ctx, group_id, **params)
        return {"id": group_id}
    return setup


def remove(ctx, fixture):
    delete_group(ctx, fixture["id"])


def back_to(count):
    return lambda ctx, f, response, params: set_replicas(ctx, f["id"], count)


def zones_effect(ctx, fixture, response, params):
    replicating(ctx, fixture["id"], 1)
    zones = [m["PreferredAvailabilityZone"] for m in members(ctx, fixture["id"]) if m["CurrentRole"] == "replica"]
    check_eq(zones, ["us-east-1d"], "the new replica's zone")


def replica_removed(ctx, fixture, response, params):
    replicating(ctx, fixture["id"], 1)
    check(params["ReplicasToRemove"][0] not in group(ctx, fixture["id"])["MemberClusters"], "the replica removed")


def recoveries(ctx, group_id):
    """The failover events of the group's members: AWS's last one is the old primary's recovery."""
    events = ctx.client.describe_events(Duration=60, MaxRecords=100)["Events"]
    return [e["Message"] for e in events if e["SourceIdentifier"].startswith(group_id)
            and e["Message"].startswith(("Finished recovery", "Failed to recover", "Failover failed"))]


def failed_over(ctx, fixture, response, params):
    old = fixture["primary"]
    seen = fixture.setdefault("recoveries", 0)
    poll("the failover's recovery event", 90, lambda: len(recoveries(ctx, fixture["id"])) > seen)
    fixture["recoveries"] = len(recoveries(ctx, fixture["id"]))
    check(recoveries(ctx, fixture["id"])[0].startswith("Finished recovery"), "the old primary recovered")
    poll("a new primary", 90, lambda: group(ctx, fixture["id"])["Status"] == "available" and [
        m for m in members(ctx, fixture["id"]) if m["CurrentRole"] == "primary" and m["CacheClusterId"] != old])
    fixture["primary"] = [m["CacheClusterId"] for m in members(ctx, fixture["id"]) if m["CurrentRole"] == "primary"][0]
    primary = [m for m in members(ctx, fixture["id"]) if m["CacheClusterId"] == fixture["primary"]][0]
    endpoint = primary["ReadEndpoint"]
    info = redis.Redis(host=endpoint["Address"], port=endpoint["Port"], socket_timeout=5).info("replication")
    check_eq(info["role"], "master", "the new primary's node role")


def failover_pair(ctx):
    fixture = fixture_group("tf", NumCacheClusters=2, AutomaticFailoverEnabled=True)(ctx)
    fixture["primary"] = [m["CacheClusterId"] for m in members(ctx, fixture["id"]) if m["CurrentRole"] == "primary"][0]
    return fixture


def fresh_group(ctx, fixture):
    """A new one-node group per Delete call (the invalid calls' are removed at the table's end)."""
    fixture["n"] += 1
    group_id = f"del{ctx.run}-{fixture['n']}"
    described = create_fixture_group(ctx, group_id, NumCacheClusters=1)
    node(described).set("kept", "in the final snapshot")
    fixture["last"] = described
    return {"ReplicationGroupId": group_id}


def deleted(ctx, fixture, response, params):
    check_eq(response["ReplicationGroup"]["Status"], "deleting", "the status answered")
    poll("the group gone", 90, lambda: gone(ctx, params["ReplicationGroupId"]))
    try:
        node(fixture["last"]).ping()
        check(False, "the deleted group's endpoint still answers")
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        pass


def final_snapshot(ctx, fixture, response, params):
    name = params["FinalSnapshotIdentifier"]
    ctx.created.append(lambda: ctx.client.delete_snapshot(SnapshotName=name))
    poll("the final snapshot available", 90, lambda: [
        s for s in ctx.client.describe_snapshots(SnapshotName=name)["Snapshots"] if s["SnapshotStatus"] == "available"])
    snapshot = ctx.client.describe_snapshots(SnapshotName=name)["Snapshots"][0]
    check_eq(snapshot["ReplicationGroupId"], params["ReplicationGroupId"], "the snapshot's group")
    poll("the group gone", 90, lambda: gone(ctx, params["ReplicationGroupId"]))
    restored = f"{params['ReplicationGroupId']}r"
    ctx.client.create_replication_group(ReplicationGroupId=restored, ReplicationGroupDescription="restored",
                                        NumCacheClusters=1, SnapshotName=name)
    try:
        check_eq(node(wait_available(ctx, restored)).get("kept"), b"in the final snapshot", "the restored key")
    finally:
        delete_group(ctx, restored)


def an_existing_snapshot(ctx, fixture):
    name = ctx.name("taken")
    if "taken" not in fixture:
        ctx.client.create_snapshot(ReplicationGroupId=fixture["source"], SnapshotName=name)
        ctx.created.append(lambda: ctx.client.delete_snapshot(SnapshotName=name))
        fixture["taken"] = name
    return name


def delete_fixture(ctx):
    fixture = {"n": 0, "source": f"delsrc{ctx.run}"}
    create_fixture_group(ctx, fixture["source"], NumCacheClusters=1)
    return fixture


def listed(ctx, fixture, response, params):
    check_eq([g["ReplicationGroupId"] for g in response["ReplicationGroups"]], [fixture["ids"][0]], "the listing")


def many_groups(ctx):
    """21 one-node groups: one more than the smallest page."""
    ids = [f"page{ctx.run}-{n:02}" for n in range(21)]
    for group_id in ids:
        ctx.client.create_replication_group(ReplicationGroupId=group_id, ReplicationGroupDescription="paging",
                                            NumCacheClusters=1)
        ctx.created.append(lambda group_id=group_id: delete_group(ctx, group_id))
    for group_id in ids:
        wait_available(ctx, group_id)
    return {"ids": ids}


def first_page(ctx, fixture):
    return ctx.client.describe_replication_groups(MaxRecords=20)


def page_of_20(ctx, fixture, response, params):
    check_eq(len(response["ReplicationGroups"]), 20, "groups on the page")
    check(response.get("Marker"), "a Marker for the rest")


def next_page(ctx, fixture, response, params):
    first = {g["ReplicationGroupId"] for g in first_page(ctx, fixture)["ReplicationGroups"]}
    rest = {g["ReplicationGroupId"] for g in response["ReplicationGroups"]}
    check(rest and not rest & first, f"the next page has other groups ({sorted(rest)[:3]}...)")
    check(set(fixture["ids"]) <= first | rest, "every group on the two pages")


def remove_many(ctx, fixture):
    for group_id in fixture["ids"]:
        delete_group(ctx, group_id)


TABLES = [
    Table("IncreaseReplicaCount", [
        Member("ReplicationGroupId", lambda ctx, f: f["id"], count_effect(1), invalid="no-such-group",
               error="ReplicationGroupNotFoundFault"),
        Member("NewReplicaCount", 2, count_effect(2), invalid=6, error="InvalidParameterValue"),
        Member("ApplyImmediately", True, count_effect(1), invalid=False, error="InvalidParameterValue"),
    ], base=lambda ctx, f: {"ReplicationGroupId": f["id"], "NewReplicaCount": 1, "ApplyImmediately": True},
        setup=fixture_group("inc", NumCacheClusters=1), teardown=remove, after_valid=back_to(0)),
    Table("IncreaseReplicaCount", [
        Member("ReplicaConfiguration",
               [{"NodeGroupId": "0001", "NewReplicaCount": 1,
                 "PreferredAvailabilityZones": ["us-east-1a", "us-east-1d"]}],
               zones_effect,
               invalid=[{"NodeGroupId": "0001", "NewReplicaCount": 1,
                         "PreferredAvailabilityZones": ["us-east-1a", "eu-west-1a"]}],
               error="InvalidParameterValue"),
    ], base=lambda ctx, f: {"ReplicationGroupId": f["id"], "ApplyImmediately": True},
        setup=fixture_group("incz", NumCacheClusters=1), teardown=remove, after_valid=back_to(0)),
    Table("DecreaseReplicaCount", [
        Member("ReplicationGroupId", lambda ctx, f: f["id"], count_effect(1), invalid="no-such-group",
               error="ReplicationGroupNotFoundFault"),
        Member("NewReplicaCount", 0, count_effect(0), invalid=-1, error="InvalidParameterValue"),
        Member("ApplyImmediately", True, count_effect(1), invalid=False, error="InvalidParameterValue"),
    ], base=lambda ctx, f: {"ReplicationGroupId": f["id"], "NewReplicaCount": 1, "ApplyImmediately": True},
        setup=fixture_group("dec", NumCacheClusters=3), teardown=remove, after_valid=back_to(2)),
    Table("DecreaseReplicaCount", [
        Member("ReplicasToRemove", lambda ctx, f: replicas(ctx, f["id"])[-1:], replica_removed,
               invalid=["no-such-cluster"], error="InvalidParameterValue"),
        Member("ReplicaConfiguration", [{"NodeGroupId": "0001", "NewReplicaCount": 1}], count_effect(1),
               invalid=[{"NodeGroupId": "0009", "NewReplicaCount": 1}], error="NodeGroupNotFoundFault"),
    ], base=lambda ctx, f: {"ReplicationGroupId": f["id"], "ApplyImmediately": True},
        setup=fixture_group("decr", NumCacheClusters=3), teardown=remove, after_valid=back_to(2)),
    Table("TestFailover", [
        Member("ReplicationGroupId", lambda ctx, f: f["id"], failed_over, invalid="no-such-group",
               error="ReplicationGroupNotFoundFault"),
        Member("NodeGroupId", "0001", failed_over, invalid="0009", error="NodeGroupNotFoundFault"),
    ], base=lambda ctx, f: {"ReplicationGroupId": f["id"], "NodeGroupId": "0001"},
        setup=failover_pair, teardown=remove),
    Table("DeleteReplicationGroup", [
        Member("ReplicationGroupId", lambda ctx, f: fresh_group(ctx, f)["ReplicationGroupId"], deleted,
               invalid="no-such-group", error="ReplicationGroupNotFoundFault"),
        Member("FinalSnapshotIdentifier", lambda ctx, f: ctx.name(f"final{f['n']}"), final_snapshot,
               invalid=an_existing_snapshot, error="SnapshotAlreadyExistsFault"),
    ], base=fresh_group, setup=delete_fixture, teardown=lambda ctx, f: delete_group(ctx, f["source"])),
    Table("DescribeReplicationGroups", [
        Member("ReplicationGroupId", lambda ctx, f: f["ids"][0], listed, invalid="no-such-group",
               error="ReplicationGroupNotFoundFault"),
        Member("MaxRecords", 20, page_of_20, invalid=10, error="InvalidParameterValue"),
        Member("Marker", lambda ctx, f: first_page(ctx, f)["Marker"], next_page, invalid="garbage",
               error="InvalidParameterValue"),
    ], setup=many_groups, teardown=remove_many),
]
