#!/usr/bin/env python3
"""Snapshots and restores with the real clients: boto3 takes, describes (filters, node group
configuration, its paginator), copies, exports and deletes snapshots; redis-py writes keys
before and reads them back after restores into new groups of both cluster modes (a different
number of shards too), from an exported object (arn:aws:s3:::bucket/key) and from an RDB made
by a plain redis-server this script starts and stops by PID; a final snapshot on delete; and
boto3's named exception for each rule.

Groups are of ELASTICACHE_TEST_ENGINE (redis by default, or valkey).

Usage: snapshot_flow.py DATA_DIR (the server's --data-dir; bucket B is DATA_DIR/s3.d/B/).
Endpoint from ELASTICACHE_ENDPOINT. Run by tests/clients.rs with --snapshot-quota 30 --time-scale 0.00005.
Exits 0 with a PASS line, or 1 with the failed check; deletes what it created either way.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

import boto3
import redis
from redis.cluster import RedisCluster

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT")
DATA_DIR = sys.argv[1] if len(sys.argv) > 1 else None
RUN = uuid.uuid4().hex[:6]
# The engine of every group (redis or valkey): tests/clients.rs runs the flow on both.
ENGINE = os.environ.get("ELASTICACHE_TEST_ENGINE", "redis")
QUOTA = 30
BUCKET = f"bucket-{RUN}"
KEYS = {f"key:{i}": f"value-{i}" for i in range(200)}
groups, snapshots, clusters = [], [], []


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def step(message):
    print(f"ok   {message}", flush=True)


def wait_for(what, probe, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise CheckFailed(f"timed out waiting for {what}")


def expect_error(client, name, call, **kwargs):
    exception = getattr(client.exceptions, name)
    try:
        call(**kwargs)
    except exception as error:
        return error.response
    raise CheckFailed(f"{call.__name__}({kwargs}) did not raise {name}")


def create_group(client, group_id, **kwargs):
    kwargs.setdefault("Engine", ENGINE)
    client.create_replication_group(
        ReplicationGroupId=group_id, ReplicationGroupDescription="snapshots", **kwargs
    )
    groups.append(group_id)
    client.get_waiter("replication_group_available").wait(
        ReplicationGroupId=group_id, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    return client.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]


def primary_client(group):
    endpoint = group["NodeGroups"][0]["PrimaryEndpoint"]
    return redis.Redis(host=endpoint["Address"], port=endpoint["Port"], decode_responses=True)


def cluster_client(group):
    endpoint = group["ConfigurationEndpoint"]
    return RedisCluster(host=endpoint["Address"], port=endpoint["Port"], decode_responses=True)


def check_keys(connection, where):
    for key, value in KEYS.items():
        got = connection.get(key)
        check(got == value, f"{where}: {key} is {got!r}, not {value!r}")


def snapshot_of(client, name):
    found = client.describe_snapshots(SnapshotName=name, ShowNodeGroupConfig=True)["Snapshots"]
    check(len(found) == 1, f"DescribeSnapshots(SnapshotName={name}) gave {len(found)}")
    return found[0]


def wait_available(client, name):
    return wait_for(
        f"snapshot {name} available",
        lambda: (lambda s: s if s["SnapshotStatus"] == "available" else None)(
            snapshot_of(client, name)
        ),
    )


def take_snapshot(client, name, **source):
    answer = client.create_snapshot(SnapshotName=name, **source)["Snapshot"]
    snapshots.append(name)
    check(answer["SnapshotStatus"] == "creating", f"CreateSnapshot answered {answer['SnapshotStatus']}")
    return wait_available(client, name)


def replicated_flow(client):
    source_id = f"snap-src-{RUN}"
    source = create_group(client, source_id, NumCacheClusters=2)
    connection = primary_client(source)
    server_info = connection.info("server")
    check(("valkey_version" in server_info) == (ENGINE == "valkey"), f"{ENGINE} nodes: {server_info}")
    for key, value in KEYS.items():
        connection.set(key, value)
    wait_for("the replica has every key", lambda: int(
        redis.Redis(**endpoint_of(source, replica=True)).dbsize()) == len(KEYS))
    answer = client.create_snapshot(ReplicationGroupId=source_id, SnapshotName=f"s1-{RUN}")
    snapshots.append(f"s1-{RUN}")
    check(answer["Snapshot"]["SnapshotStatus"] == "creating", "CreateSnapshot answers creating")
    status = client.describe_replication_groups(ReplicationGroupId=source_id)["ReplicationGroups"][0]["Status"]
    check(status in ("snapshotting", "available"), f"group status during a snapshot: {status}")
    snap = wait_available(client, f"s1-{RUN}")
    node = snap["NodeSnapshots"][0]
    check(node["CacheClusterId"] == f"{source_id}-002", f"taken from the replica, not {node}")
    check(node["CacheSize"].endswith(" MB"), f"CacheSize {node.get('CacheSize')}")
    check(snap["SnapshotSource"] == "manual" and snap["ReplicationGroupId"] == source_id, f"{snap}")
    check(snap["ARN"].endswith(f":snapshot:s1-{RUN}"), snap["ARN"])
    wait_for("the group is available again", lambda: client.describe_replication_groups(
        ReplicationGroupId=source_id)["ReplicationGroups"][0]["Status"] == "available")
    events = client.describe_events(SourceIdentifier=source_id, SourceType="replication-group")["Events"]
    wanted = f"Snapshot succeeded for snapshot with ID 's1-{RUN}' of replication group with ID '{source_id}'"
    check(any(e["Message"] == wanted for e in events), f"no '{wanted}' in {[e['Message'] for e in events]}")
    step("CreateSnapshot of a replication group: from the replica, creating -> available, the event")

    restored = create_group(client, f"snap-dst-{RUN}", SnapshotName=f"s1-{RUN}", NumCacheClusters=2)
    check_keys(primary_client(restored), "restored group")
    step("a new cluster-mode-disabled group restored from the snapshot has every key")

    client.copy_snapshot(SourceSnapshotName=f"s1-{RUN}", TargetSnapshotName=f"s1-copy-{RUN}")
    snapshots.append(f"s1-copy-{RUN}")
    wait_available(client, f"s1-copy-{RUN}")
    client.copy_snapshot(SourceSnapshotName=f"s1-{RUN}", TargetSnapshotName=f"export-{RUN}",
                         TargetBucket=BUCKET)
    exported = os.path.join(DATA_DIR, "s3.d", BUCKET, f"export-{RUN}-0001.rdb")
    check(os.path.getsize(exported) > 0, f"{exported} is empty")
    from_bucket = create_group(client, f"snap-s3-{RUN}",
                               SnapshotArns=[f"arn:aws:s3:::{BUCKET}/export-{RUN}-0001.rdb"])
    check_keys(primary_client(from_bucket), "group restored from the exported object")
    step("CopySnapshot, an export to the bucket's directory, and a restore from that object's ARN")

    client.delete_replication_group(ReplicationGroupId=f"snap-dst-{RUN}",
                                    FinalSnapshotIdentifier=f"final-{RUN}")
    snapshots.append(f"final-{RUN}")
    client.get_waiter("replication_group_deleted").wait(
        ReplicationGroupId=f"snap-dst-{RUN}", WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    groups.remove(f"snap-dst-{RUN}")
    final = wait_available(client, f"final-{RUN}")
    check(final["NodeSnapshots"][0].get("CacheSize"), f"{final}")
    again = create_group(client, f"snap-fin-{RUN}", SnapshotName=f"final-{RUN}")
    check_keys(primary_client(again), "group restored from the final snapshot")
    step("FinalSnapshotIdentifier: the snapshot is taken before the nodes stop, and restores")
    return source_id


def endpoint_of(group, replica=False):
    member = group["NodeGroups"][0]["NodeGroupMembers"][1 if replica else 0]["ReadEndpoint"]
    return {"host": member["Address"], "port": member["Port"]}


def cluster_flow(client):
    source_id = f"snap-cm-{RUN}"
    source = create_group(client, source_id, NumNodeGroups=2, ReplicasPerNodeGroup=1,
                          ClusterMode="enabled")
    connection = cluster_client(source)
    for key, value in KEYS.items():
        connection.set(key, value)
    connection.close()
    snap = take_snapshot(client, f"cm-{RUN}", ReplicationGroupId=source_id)
    nodes = snap["NodeSnapshots"]
    check([n["NodeGroupId"] for n in nodes] == ["0001", "0002"], f"{nodes}")
    check(all(n["NodeGroupConfiguration"].get("Slots") for n in nodes), f"no slots in {nodes}")
    plain = client.describe_snapshots(SnapshotName=f"cm-{RUN}")["Snapshots"][0]
    check("NodeGroupConfiguration" not in plain["NodeSnapshots"][0], "config without ShowNodeGroupConfig")
    check(snap["NumNodeGroups"] == 2, f"NumNodeGroups {snap.get('NumNodeGroups')}")
    step("CreateSnapshot of a cluster: one node snapshot per shard, with ShowNodeGroupConfig's slots")

    same = create_group(client, f"snap-cm2-{RUN}", SnapshotName=f"cm-{RUN}")
    check(len(same["NodeGroups"]) == 2, f"restored into {len(same['NodeGroups'])} shards")
    slots = sorted(g["Slots"] for g in same["NodeGroups"])
    check(slots == sorted(n["NodeGroupConfiguration"]["Slots"] for n in nodes), f"slots {slots}")
    check_keys(cluster_client(same), "cluster restored with the snapshot's layout")
    three = create_group(client, f"snap-cm3-{RUN}", SnapshotName=f"cm-{RUN}", NumNodeGroups=3,
                         ClusterMode="enabled")
    check(len(three["NodeGroups"]) == 3, "three shards")
    check_keys(cluster_client(three), "cluster restored into three shards")
    step("restores of a cluster snapshot: its own layout, and re-sharded into 3 node groups")


def user_rdb_flow(client):
    work = tempfile.mkdtemp(prefix="user-rdb-")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--dir", work,
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        plain = redis.Redis(port=port, decode_responses=True)
        wait_for("the user's redis-server", lambda: _pings(plain), timeout=20)
        for key, value in KEYS.items():
            plain.set(key, value)
        plain.save()
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    rdb = os.path.join(work, "dump.rdb")
    try:
        mine = create_group(client, f"snap-user-{RUN}", SnapshotArns=[f"file://{rdb}"])
        check_keys(primary_client(mine), "group restored from a user's RDB")
        spread = create_group(client, f"snap-userc-{RUN}", SnapshotArns=[rdb], NumNodeGroups=2,
                              ClusterMode="enabled")
        check_keys(cluster_client(spread), "cluster restored from a user's RDB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    step("a user's RDB (made by a plain redis-server) restores into both cluster modes")


def _pings(connection):
    try:
        return connection.ping()
    except redis.exceptions.ConnectionError:
        return False


def describe_flow(client, source_id):
    for i in range(22):
        client.copy_snapshot(SourceSnapshotName=f"s1-{RUN}", TargetSnapshotName=f"page-{RUN}-{i:02}")
        snapshots.append(f"page-{RUN}-{i:02}")
    pages, names = 0, []
    for page in client.get_paginator("describe_snapshots").paginate(
            SnapshotSource="user", PaginationConfig={"PageSize": 20}):
        pages += 1
        names.extend(s["SnapshotName"] for s in page["Snapshots"])
    check(pages >= 2 and len(names) == len(set(names)), f"{pages} pages, {len(names)} names")
    check(all(f"page-{RUN}-{i:02}" in names for i in range(22)), "the paginator missed copies")
    check(client.describe_snapshots(SnapshotSource="system")["Snapshots"] == [], "no automatic ones")
    by_group = client.describe_snapshots(ReplicationGroupId=source_id)["Snapshots"]
    check({s["SnapshotName"] for s in by_group} >= {f"s1-{RUN}"}, "ReplicationGroupId filter")
    by_cluster = client.describe_snapshots(CacheClusterId=f"{source_id}-002")["Snapshots"]
    check(any(s["SnapshotName"] == f"s1-{RUN}" for s in by_cluster), "CacheClusterId filter")
    step("DescribeSnapshots: the paginator, SnapshotSource, ReplicationGroupId, CacheClusterId")

    arn = snapshot_of(client, f"s1-{RUN}")["ARN"]
    client.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "team", "Value": "cache"}])
    tags = client.list_tags_for_resource(ResourceName=arn)["TagList"]
    check(tags == [{"Key": "team", "Value": "cache"}], f"tags {tags}")
    step("a snapshot's ARN takes tags")


def error_flow(client, source_id):
    expect_error(client, "SnapshotAlreadyExistsFault", client.create_snapshot,
                 ReplicationGroupId=source_id, SnapshotName=f"s1-{RUN}")
    expect_error(client, "SnapshotAlreadyExistsFault", client.copy_snapshot,
                 SourceSnapshotName=f"s1-{RUN}", TargetSnapshotName=f"s1-copy-{RUN}")
    expect_error(client, "SnapshotAlreadyExistsFault", client.copy_snapshot,
                 SourceSnapshotName=f"s1-{RUN}", TargetSnapshotName=f"export-{RUN}",
                 TargetBucket=BUCKET)
    response = expect_error(client, "SnapshotNotFoundFault", client.describe_snapshots,
                            SnapshotName="no-such-snapshot")
    check(response["ResponseMetadata"]["HTTPStatusCode"] == 404, "SnapshotNotFoundFault is 404")
    expect_error(client, "SnapshotNotFoundFault", client.delete_snapshot, SnapshotName="nope")
    expect_error(client, "SnapshotNotFoundFault", client.copy_snapshot,
                 SourceSnapshotName="nope", TargetSnapshotName="nope2")
    expect_error(client, "SnapshotNotFoundFault", client.create_replication_group,
                 ReplicationGroupId=f"snap-none-{RUN}", ReplicationGroupDescription="x",
                 SnapshotName="nope")
    expect_error(client, "ReplicationGroupNotFoundFault", client.create_snapshot,
                 ReplicationGroupId="no-such-group", SnapshotName=f"x-{RUN}")
    expect_error(client, "CacheClusterNotFoundFault", client.create_snapshot,
                 CacheClusterId="no-such-cluster", SnapshotName=f"x-{RUN}")
    expect_error(client, "InvalidParameterValueException", client.create_replication_group,
                 ReplicationGroupId=f"snap-bad-{RUN}", ReplicationGroupDescription="x",
                 SnapshotArns=["arn:aws:s3:::nobucket/none.rdb"])
    expect_error(client, "InvalidParameterCombinationException", client.create_replication_group,
                 ReplicationGroupId=f"snap-bad-{RUN}", ReplicationGroupDescription="x",
                 SnapshotName=f"cm-{RUN}", ClusterMode="disabled")
    memcached_id = f"snap-mc-{RUN}"
    client.create_cache_cluster(CacheClusterId=memcached_id, Engine="memcached",
                                CacheNodeType="cache.t3.micro", NumCacheNodes=1)
    clusters.append(memcached_id)
    expect_error(client, "SnapshotFeatureNotSupportedFault", client.create_snapshot,
                 CacheClusterId=memcached_id, SnapshotName=f"mc-{RUN}")
    manual = len(client.describe_snapshots(SnapshotSource="user", MaxRecords=50)["Snapshots"])
    for i in range(QUOTA - manual):
        client.copy_snapshot(SourceSnapshotName=f"s1-{RUN}", TargetSnapshotName=f"fill-{RUN}-{i}")
        snapshots.append(f"fill-{RUN}-{i}")
    expect_error(client, "SnapshotQuotaExceededFault", client.copy_snapshot,
                 SourceSnapshotName=f"s1-{RUN}", TargetSnapshotName=f"over-{RUN}")
    expect_error(client, "SnapshotQuotaExceededFault", client.create_snapshot,
                 ReplicationGroupId=source_id, SnapshotName=f"over-{RUN}")
    step("boto3's named exceptions: AlreadyExists, NotFound (404), Quota, FeatureNotSupported, ...")


def automatic_flow(client):
    """The server runs with --time-scale 0.00005: a day of automatic snapshots lasts ~4.3 s."""
    group_id = f"snap-auto-{RUN}"
    group = create_group(client, group_id, SnapshotRetentionLimit=2, SnapshotWindow="05:00-06:00")
    primary_client(group).set("auto", "kept")
    seen = set()

    def three_days():
        found = client.describe_snapshots(ReplicationGroupId=group_id, SnapshotSource="system")["Snapshots"]
        check(len(found) <= 2, f"retention 2 kept {len(found)}")
        for snap in found:
            check(snap["SnapshotSource"] == "automated", f"{snap['SnapshotSource']}")
            seen.add(snap["SnapshotName"])
        return len(seen) >= 3 and all(s["SnapshotStatus"] == "available" for s in found) and found
    found = wait_for("three daily automatic snapshots", three_days, timeout=120)
    pattern = re.compile(rf"^automatic\.{group_id}-\d{{4}}-\d\d-\d\d-05-\d\d$")
    check(all(pattern.match(name) for name in seen), f"names {sorted(seen)}")
    restored = create_group(client, f"snap-autor-{RUN}", SnapshotName=found[-1]["SnapshotName"])
    check(primary_client(restored).get("auto") == "kept", "restored from an automatic snapshot")
    client.delete_replication_group(ReplicationGroupId=group_id)
    client.get_waiter("replication_group_deleted").wait(
        ReplicationGroupId=group_id, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    groups.remove(group_id)
    left = client.describe_snapshots(ReplicationGroupId=group_id, SnapshotSource="system")["Snapshots"]
    check(left == [], f"automatic snapshots outlived their group: {left}")
    step("automatic snapshots: daily in the window, named automatic.<group>-..., pruned to the limit")


def cleanup(client):
    for group_id in groups:
        try:
            client.delete_replication_group(ReplicationGroupId=group_id)
        except Exception as error:  # noqa: BLE001 - best effort, reported
            print(f"cleanup: {group_id}: {error}")
    for cluster_id in clusters:
        try:
            client.delete_cache_cluster(CacheClusterId=cluster_id)
        except Exception as error:  # noqa: BLE001
            print(f"cleanup: {cluster_id}: {error}")
    for group_id in groups:
        try:
            client.get_waiter("replication_group_deleted").wait(
                ReplicationGroupId=group_id, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        except Exception as error:  # noqa: BLE001
            print(f"cleanup wait: {group_id}: {error}")
    for name in snapshots:
        try:
            wait_for(f"{name} settled", lambda: _settled(client, name), timeout=60)
            client.delete_snapshot(SnapshotName=name)
        except client.exceptions.SnapshotNotFoundFault:
            pass
    left = client.describe_snapshots()["Snapshots"]
    check(left == [], f"snapshots left: {[s['SnapshotName'] for s in left]}")


def _settled(client, name):
    try:
        return snapshot_of(client, name)["SnapshotStatus"] != "creating"
    except client.exceptions.SnapshotNotFoundFault:
        return True


def main():
    check(ENDPOINT and DATA_DIR, "ELASTICACHE_ENDPOINT and DATA_DIR are required")
    client = boto3.client("elasticache", endpoint_url=ENDPOINT, region_name="us-east-1")
    try:
        source_id = replicated_flow(client)
        cluster_flow(client)
        user_rdb_flow(client)
        describe_flow(client, source_id)
        error_flow(client, source_id)
        automatic_flow(client)
    except Exception:  # noqa: BLE001 - every failure is reported with its traceback
        traceback.print_exc()
        try:
            cleanup(client)
        finally:
            sys.exit(1)
    cleanup(client)
    print("PASS snapshot_flow", flush=True)


if __name__ == "__main__":
    main()
