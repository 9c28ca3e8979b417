"""Rows of the snapshot actions. The fixture is a one-node Redis cluster holding a key, a
one-node replication group, and a snapshot of each; a snapshot's effect is checked in
DescribeSnapshots, its tags, or by restoring it into a new cluster and reading the key back."""

from flowcheck import check, check_eq, poll
from member_tables.cache_clusters import delete_group
from member_tables.cluster_support import (
    delete_cluster,
    delete_snapshot,
    fresh_id,
    redis_node,
    snapshot_available,
    wait_available,
)
from member_tables.harness import Member, Table

BUCKET = "member-table-snapshots"
BOOLEAN = "a boolean: the SDK sends true or false whatever it is given"
TAGS = [{"Key": "team", "Value": "payments"}]
BAD_TAGS = [{"Key": "aws:reserved", "Value": "x"}]


def fixture_of(ctx):
    client = ctx.client
    fixture = {"id": fresh_id(ctx, "sn"), "group": ctx.name("sn-rg"), "snap": ctx.name("sn-cluster"),
               "group_snap": ctx.name("sn-group")}
    client.create_cache_cluster(CacheClusterId=fixture["id"], Engine="redis", NumCacheNodes=1)
    ctx.created.append(lambda: delete_cluster(ctx, fixture["id"]))
    client.create_replication_group(ReplicationGroupId=fixture["group"], ReplicationGroupDescription="member table",
                                    NumCacheClusters=1, Engine="redis")
    ctx.created.append(lambda: delete_group(ctx, fixture["group"]))
    redis_node(wait_available(ctx, fixture["id"])).set("snapped", "yes")
    poll("the group available", 60, lambda: ctx.client.describe_replication_groups(
        ReplicationGroupId=fixture["group"])["ReplicationGroups"][0]["Status"] == "available")
    client.create_snapshot(CacheClusterId=fixture["id"], SnapshotName=fixture["snap"])
    ctx.created.append(lambda: delete_snapshot(ctx, fixture["snap"]))
    client.create_snapshot(ReplicationGroupId=fixture["group"], SnapshotName=fixture["group_snap"])
    ctx.created.append(lambda: delete_snapshot(ctx, fixture["group_snap"]))
    snapshot_available(ctx, fixture["snap"])
    snapshot_available(ctx, fixture["group_snap"])
    return fixture


def fresh_snapshot(ctx, fixture=None):
    return fresh_id(ctx, "snap")


def remove_made(ctx, fixture, response, params):
    name = params.get("TargetSnapshotName") or params.get("SnapshotName")
    if name not in (fixture["snap"], fixture["group_snap"]):
        delete_snapshot(ctx, name)


def restores_key(ctx, snapshot_name=None, arn=None):
    cluster_id = fresh_id(ctx, "snr")
    source = {"SnapshotName": snapshot_name} if snapshot_name else {"SnapshotArns": [arn]}
    ctx.client.create_cache_cluster(CacheClusterId=cluster_id, Engine="redis", **source)
    try:
        check_eq(redis_node(wait_available(ctx, cluster_id)).get("snapped"), b"yes", "the restored key")
    finally:
        delete_cluster(ctx, cluster_id)


def of_cluster(ctx, fixture, response, params):
    snapshot = snapshot_available(ctx, params["SnapshotName"])
    check_eq(snapshot["CacheClusterId"], fixture["id"], "the snapshot's CacheClusterId")
    restores_key(ctx, snapshot_name=params["SnapshotName"])


def of_group(ctx, fixture, response, params):
    snapshot = snapshot_available(ctx, params["SnapshotName"])
    check_eq(snapshot.get("ReplicationGroupId"), fixture["group"], "the snapshot's ReplicationGroupId")


def named(ctx, fixture, response, params):
    check_eq(snapshot_available(ctx, params["SnapshotName"])["SnapshotName"], params["SnapshotName"], "the name")


def tagged_as_asked(name_member):
    def effect(ctx, fixture, response, params):
        snapshot = snapshot_available(ctx, params[name_member])
        tags = ctx.client.list_tags_for_resource(ResourceName=snapshot["ARN"])["TagList"]
        check_eq({t["Key"]: t["Value"] for t in tags}, {"team": "payments"}, "the snapshot's tags")
    return effect


CREATE = Table(
    "CreateSnapshot",
    [
        Member("CacheClusterId", lambda ctx, f: f["id"], of_cluster,
               invalid="no-such-cluster", error="CacheClusterNotFound"),
        Member("SnapshotName", fresh_snapshot, named, invalid="-not-a-name", error="InvalidParameterValue"),
        Member("Tags", TAGS, tagged_as_asked("SnapshotName"), invalid=BAD_TAGS, error="InvalidParameterValue"),
    ],
    base=lambda ctx, f: {"CacheClusterId": f["id"], "SnapshotName": fresh_snapshot(ctx)},
    setup=fixture_of,
    after_valid=remove_made,
)

CREATE_OF_GROUP = Table(
    "CreateSnapshot",
    [
        Member("ReplicationGroupId", lambda ctx, f: f["group"], of_group,
               invalid="no-such-group", error="ReplicationGroupNotFoundFault"),
    ],
    base=lambda ctx, f: {"SnapshotName": fresh_snapshot(ctx)},
    setup=fixture_of,
    after_valid=remove_made,
)


def copied(ctx, fixture, response, params):
    copy = snapshot_available(ctx, params["TargetSnapshotName"])
    check_eq(copy["CacheClusterId"], fixture["id"], "the copy's CacheClusterId")
    restores_key(ctx, snapshot_name=params["TargetSnapshotName"])


def exported(ctx, fixture, response, params):
    restores_key(ctx, arn=f"arn:aws:s3:::{params['TargetBucket']}/{params['TargetSnapshotName']}-0001.rdb")


COPY = Table(
    "CopySnapshot",
    [
        Member("SourceSnapshotName", lambda ctx, f: f["snap"], copied,
               invalid="no-such-snapshot", error="SnapshotNotFoundFault"),
        Member("TargetSnapshotName", fresh_snapshot, copied,
               invalid=lambda ctx, f: f["group_snap"], error="SnapshotAlreadyExistsFault"),
        Member("TargetBucket", BUCKET, exported, invalid="Not_A_Bucket", error="InvalidParameterValue"),
        Member("Tags", TAGS, tagged_as_asked("TargetSnapshotName"), invalid=BAD_TAGS, error="InvalidParameterValue"),
    ],
    base=lambda ctx, f: {"SourceSnapshotName": f["snap"], "TargetSnapshotName": fresh_snapshot(ctx)},
    setup=fixture_of,
    after_valid=remove_made,
)


def a_copy(ctx, fixture):
    name = fresh_snapshot(ctx)
    ctx.client.copy_snapshot(SourceSnapshotName=fixture["snap"], TargetSnapshotName=name)
    ctx.created.append(lambda: delete_snapshot(ctx, name))
    snapshot_available(ctx, name)
    return name


def snapshot_gone(ctx, fixture, response, params):
    check_eq(response["Snapshot"]["SnapshotStatus"], "deleting", "the Delete response's status")

    def gone():
        try:
            ctx.client.describe_snapshots(SnapshotName=params["SnapshotName"])
        except ctx.client.exceptions.SnapshotNotFoundFault:
            return True
        return False

    poll("the snapshot gone", 60, gone)


DELETE = Table(
    "DeleteSnapshot",
    [Member("SnapshotName", a_copy, snapshot_gone, invalid="no-such-snapshot", error="SnapshotNotFoundFault")],
    setup=fixture_of,
)


def names(response):
    return [s["SnapshotName"] for s in response["Snapshots"]]


def only_group(ctx, fixture, response, params):
    check_eq(names(response), [fixture["group_snap"]], "the group's snapshots")


def only_cluster(ctx, fixture, response, params):
    check_eq(names(response), [fixture["snap"]], "the cluster's snapshots")


def only_named(ctx, fixture, response, params):
    check_eq(names(response), [params["SnapshotName"]], "the snapshot named")


def by_source(ctx, fixture, response, params):
    check(fixture["snap"] in names(response), f"a manual snapshot in the user listing: {names(response)}")
    system = names(ctx.client.describe_snapshots(SnapshotSource="system"))
    check(fixture["snap"] not in system, f"no manual snapshot in the system listing: {system}")


def node_group_config(ctx, fixture, response, params):
    [snapshot] = [s for s in response["Snapshots"] if s["SnapshotName"] == fixture["group_snap"]]
    check(all("NodeGroupConfiguration" in n for n in snapshot["NodeSnapshots"]), f"node groups: {snapshot}")
    plain = ctx.client.describe_snapshots(SnapshotName=fixture["group_snap"])["Snapshots"][0]
    check(all("NodeGroupConfiguration" not in n for n in plain["NodeSnapshots"]), "none without the flag")


def paging_fixture(ctx):
    """The fixture and 19 copies of its snapshot: 21 snapshots, more than a page of 20 (the
    server needs --snapshot-quota above 20, as tests/clients.rs runs it)."""
    fixture = fixture_of(ctx)
    fixture["copies"] = [a_copy(ctx, fixture) for _ in range(19)]
    return fixture


def one_page(ctx, fixture, response, params):
    check_eq(len(response["Snapshots"]), 20, "snapshots on a page of MaxRecords=20")
    check(response.get("Marker"), "a Marker to the rest")


def next_page(ctx, fixture, response, params):
    first = set(names(ctx.client.describe_snapshots(MaxRecords=20)))
    rest = set(names(response))
    check(rest and not rest & first, f"the next page: {rest}")
    everything = {fixture["snap"], fixture["group_snap"], *fixture["copies"]}
    check(everything <= first | rest, "every snapshot on one of the two pages")


PAGING = Table(
    "DescribeSnapshots",
    [
        Member("MaxRecords", 20, one_page, invalid=51, error="InvalidParameterValue"),
        Member("Marker", lambda ctx, f: ctx.client.describe_snapshots(MaxRecords=20)["Marker"], next_page,
               invalid="not-a-marker", error="InvalidParameterValue"),
    ],
    base=lambda ctx, f: {"MaxRecords": 20},
    setup=paging_fixture,
)

DESCRIBE = Table(
    "DescribeSnapshots",
    [
        # The model lists no ReplicationGroupNotFoundFault for DescribeSnapshots: an unknown
        # group's snapshots are an empty list.
        Member("ReplicationGroupId", lambda ctx, f: f["group"], only_group,
               no_invalid="a group id filters the listing; AWS's model has no error for an unknown one"),
        Member("CacheClusterId", lambda ctx, f: f["id"], only_cluster,
               invalid="no-such-cluster", error="CacheClusterNotFound"),
        Member("SnapshotName", lambda ctx, f: f["snap"], only_named,
               invalid="no-such-snapshot", error="SnapshotNotFoundFault"),
        Member("SnapshotSource", "user", by_source, invalid="manual", error="InvalidParameterValue"),
        Member("ShowNodeGroupConfig", True, node_group_config, no_invalid=BOOLEAN),
    ],
    setup=fixture_of,
)

TABLES = [CREATE, CREATE_OF_GROUP, COPY, DELETE, DESCRIBE, PAGING]
