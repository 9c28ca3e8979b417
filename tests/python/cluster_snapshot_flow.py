#!/usr/bin/env python3
"""Snapshots of standalone cache clusters with the real clients: boto3 snapshots a Redis (or
Valkey) cache cluster while redis-py has written keys to its node, describes the snapshot as AWS
describes one of a cluster, restores it into a new cache cluster and into a replication group
(and a group's snapshot into a cache cluster), takes a final snapshot on DeleteCacheCluster,
runs a cluster's daily automatic snapshots pruned to its retention limit, and gets boto3's named
exception for each rule (Memcached, a group member's final snapshot, a two-shard snapshot).

Clusters are of ELASTICACHE_TEST_ENGINE (redis by default, or valkey).
Endpoint from ELASTICACHE_ENDPOINT. Run by tests/clients.rs with --time-scale 0.00005 (a day of
automatic snapshots lasts ~4.3 s). Exits 0 with a PASS line, or 1 with the failed check; deletes
what it created either way.
"""

import os
import re
import sys
import traceback
import uuid

import boto3
import redis

from flowcheck import CheckFailed, check, check_eq, poll, step

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT")
ENGINE = os.environ.get("ELASTICACHE_TEST_ENGINE", "redis")
FAMILY = {"redis": "redis7", "valkey": "valkey8"}[ENGINE]
RUN = uuid.uuid4().hex[:6]
KEYS = {f"key:{i}": f"value-{i}" for i in range(100)}
groups, clusters, snapshots = [], [], []


def expect_error(client, name, call, **kwargs):
    exception = getattr(client.exceptions, name)
    try:
        call(**kwargs)
    except exception as error:
        return error.response["Error"]["Message"]
    raise CheckFailed(f"{call.__name__}({kwargs}) did not raise {name}")


def create_cluster(client, cluster_id, **kwargs):
    kwargs.setdefault("Engine", ENGINE)
    client.create_cache_cluster(CacheClusterId=cluster_id, NumCacheNodes=1, **kwargs)
    clusters.append(cluster_id)
    client.get_waiter("cache_cluster_available").wait(
        CacheClusterId=cluster_id, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return client.describe_cache_clusters(CacheClusterId=cluster_id, ShowCacheNodeInfo=True)["CacheClusters"][0]


def node_client(cluster):
    endpoint = cluster["CacheNodes"][0]["Endpoint"]
    return redis.Redis(host=endpoint["Address"], port=endpoint["Port"], decode_responses=True)


def create_group(client, group_id, **kwargs):
    client.create_replication_group(
        ReplicationGroupId=group_id, ReplicationGroupDescription="from a cluster's snapshot",
        Engine=ENGINE, **kwargs)
    groups.append(group_id)
    client.get_waiter("replication_group_available").wait(
        ReplicationGroupId=group_id, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    group = client.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
    endpoint = group["NodeGroups"][0]["PrimaryEndpoint"]
    return redis.Redis(host=endpoint["Address"], port=endpoint["Port"], decode_responses=True)


def check_keys(connection, where):
    for key, value in KEYS.items():
        got = connection.get(key)
        check(got == value, f"{where}: {key} is {got!r}, not {value!r}")


def snapshot_of(client, name):
    return client.describe_snapshots(SnapshotName=name)["Snapshots"][0]


def wait_snapshot(client, name):
    return poll(f"snapshot {name} available", 60,
                lambda: (s := snapshot_of(client, name))["SnapshotStatus"] == "available" and s)


def cluster_status(client, cluster_id):
    return client.describe_cache_clusters(CacheClusterId=cluster_id)["CacheClusters"][0]["CacheClusterStatus"]


def snapshot_and_restore(client):
    source_id = f"cc-src-{RUN}"
    source = create_cluster(client, source_id)
    connection = node_client(source)
    for key, value in KEYS.items():
        connection.set(key, value)
    name = f"cc-snap-{RUN}"
    created = client.create_snapshot(CacheClusterId=source_id, SnapshotName=name)["Snapshot"]
    snapshots.append(name)
    check_eq(created["SnapshotStatus"], "creating", "CreateSnapshot's status")
    seen = {cluster_status(client, source_id)}
    snapshot = poll("the snapshot available", 60, lambda: (
        seen.add(cluster_status(client, source_id)),
        (s := snapshot_of(client, name))["SnapshotStatus"] == "available" and s)[1])
    check(seen <= {"snapshotting", "available"}, f"the cluster's statuses while snapshotted: {seen}")
    poll("the cluster available again", 30, lambda: cluster_status(client, source_id) == "available")
    check_eq(snapshot["CacheClusterId"], source_id, "the snapshot's CacheClusterId")
    check("ReplicationGroupId" not in snapshot, f"a cluster's snapshot names a group: {snapshot}")
    check_eq((snapshot["NumCacheNodes"], snapshot["Engine"]), (1, ENGINE), "NumCacheNodes, Engine")
    node = snapshot["NodeSnapshots"][0]
    check("NodeGroupId" not in node, f"a cluster's node snapshot names a node group: {node}")
    check_eq(node["CacheNodeId"], "0001", "the node snapshot's CacheNodeId")
    check(int(node["CacheSize"].split()[0]) > 0, f"CacheSize {node['CacheSize']}")
    by_cluster = client.describe_snapshots(CacheClusterId=source_id)["Snapshots"]
    check_eq([s["SnapshotName"] for s in by_cluster], [name], "DescribeSnapshots(CacheClusterId)")
    step(f"CreateSnapshot(CacheClusterId) of a {ENGINE} cache cluster: snapshotting, then available, described as a cluster's")

    restored = create_cluster(client, f"cc-dst-{RUN}", SnapshotName=name)
    check_keys(node_client(restored), "the cache cluster restored from the snapshot")
    check_keys(create_group(client, f"cc-rg-{RUN}", NumCacheClusters=2, SnapshotName=name),
               "the replication group restored from the cluster's snapshot")
    step("the cluster's snapshot restores into a new cache cluster and into a replication group")
    return source_id


def group_snapshot_into_cluster(client):
    group_id = f"cc-rg-{RUN}"
    name = f"rg-snap-{RUN}"
    client.create_snapshot(ReplicationGroupId=group_id, SnapshotName=name)
    snapshots.append(name)
    wait_snapshot(client, name)
    check_keys(node_client(create_cluster(client, f"cc-from-rg-{RUN}", SnapshotName=name)),
               "a cache cluster restored from a group's snapshot")
    step("a cluster-mode-disabled group's snapshot restores into a cache cluster")


def final_snapshot(client, source_id):
    name = f"cc-final-{RUN}"
    answer = client.delete_cache_cluster(CacheClusterId=source_id, FinalSnapshotIdentifier=name)
    snapshots.append(name)
    check_eq(answer["CacheCluster"]["CacheClusterStatus"], "deleting", "DeleteCacheCluster's status")
    client.get_waiter("cache_cluster_deleted").wait(
        CacheClusterId=source_id, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    clusters.remove(source_id)
    check_eq(snapshot_of(client, name)["SnapshotStatus"], "available", "the final snapshot")
    check_keys(node_client(create_cluster(client, f"cc-fin-{RUN}", SnapshotName=name)),
               "a cluster restored from the final snapshot")
    step("DeleteCacheCluster FinalSnapshotIdentifier: the node's data snapshotted before it stops")


def automatic(client):
    cluster_id = f"cc-auto-{RUN}"
    connection = node_client(create_cluster(client, cluster_id, SnapshotRetentionLimit=2,
                                            SnapshotWindow="05:00-06:00"))
    connection.set("auto", "kept")
    seen = set()

    def three_days():
        found = client.describe_snapshots(CacheClusterId=cluster_id, SnapshotSource="system")["Snapshots"]
        check(len(found) <= 2, f"retention 2 kept {len(found)}")
        seen.update(s["SnapshotName"] for s in found)
        return len(seen) >= 3 and all(s["SnapshotStatus"] == "available" for s in found) and found
    found = poll("three daily automatic snapshots of the cluster", 120, three_days)
    pattern = re.compile(rf"^automatic\.{cluster_id}-\d{{4}}-\d\d-\d\d-05-\d\d$")
    check(all(pattern.match(name) for name in seen), f"names {sorted(seen)}")
    restored = create_cluster(client, f"cc-autor-{RUN}", SnapshotName=found[-1]["SnapshotName"])
    check_eq(node_client(restored).get("auto"), "kept", "restored from an automatic snapshot")
    client.delete_cache_cluster(CacheClusterId=cluster_id)
    client.get_waiter("cache_cluster_deleted").wait(
        CacheClusterId=cluster_id, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    clusters.remove(cluster_id)
    # Listed unfiltered: with no cluster and no snapshot of that id left, a filter by it is
    # CacheClusterNotFound (DescribeSnapshots' modelled error for an id that names nothing).
    system = client.describe_snapshots(SnapshotSource="system")["Snapshots"]
    left = [s["SnapshotName"] for s in system if s.get("CacheClusterId") == cluster_id]
    check_eq(left, [], "automatic snapshots left after their cluster")
    expect_error(client, "CacheClusterNotFoundFault", client.describe_snapshots,
                 CacheClusterId=cluster_id, SnapshotSource="system")
    step("a cache cluster's automatic snapshots: daily in the window, pruned to the limit, gone with it")


def errors(client):
    memcached_id = f"cc-mc-{RUN}"
    client.create_cache_cluster(CacheClusterId=memcached_id, Engine="memcached", NumCacheNodes=1)
    clusters.append(memcached_id)
    client.get_waiter("cache_cluster_available").wait(
        CacheClusterId=memcached_id, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    expect_error(client, "SnapshotFeatureNotSupportedFault", client.delete_cache_cluster,
                 CacheClusterId=memcached_id, FinalSnapshotIdentifier=f"mc-final-{RUN}")
    expect_error(client, "InvalidParameterCombinationException", client.create_cache_cluster,
                 CacheClusterId=f"cc-mcr-{RUN}", Engine="memcached", SnapshotName=f"cc-snap-{RUN}")
    expect_error(client, "InvalidParameterCombinationException", client.delete_cache_cluster,
                 CacheClusterId=f"cc-rg-{RUN}-002", FinalSnapshotIdentifier=f"member-{RUN}")
    expect_error(client, "SnapshotNotFoundFault", client.create_cache_cluster,
                 CacheClusterId=f"cc-none-{RUN}", Engine=ENGINE, SnapshotName=f"none-{RUN}")
    expect_error(client, "SnapshotAlreadyExistsFault", client.create_snapshot,
                 CacheClusterId=f"cc-dst-{RUN}", SnapshotName=f"cc-snap-{RUN}")
    sharded = f"cc-sharded-{RUN}"
    client.create_replication_group(ReplicationGroupId=sharded, ReplicationGroupDescription="two shards",
                                    Engine=ENGINE, NumNodeGroups=2, ReplicasPerNodeGroup=1,
                                    AutomaticFailoverEnabled=True,
                                    CacheParameterGroupName=f"default.{FAMILY}.cluster.on")
    groups.append(sharded)
    client.get_waiter("replication_group_available").wait(
        ReplicationGroupId=sharded, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    two = f"two-shards-{RUN}"
    client.create_snapshot(ReplicationGroupId=sharded, SnapshotName=two)
    snapshots.append(two)
    wait_snapshot(client, two)
    message = expect_error(client, "InvalidParameterCombinationException", client.create_cache_cluster,
                           CacheClusterId=f"cc-two-{RUN}", Engine=ENGINE, SnapshotName=two)
    check("one RDB file" in message, message)
    step("named exceptions: Memcached (FeatureNotSupported, InvalidParameterCombination), a member's final "
         "snapshot, a missing or existing snapshot, a two-shard snapshot into a cache cluster")


def cleanup(client):
    for cluster_id in clusters:
        try:
            client.delete_cache_cluster(CacheClusterId=cluster_id)
        except Exception as error:  # noqa: BLE001 - best effort, reported
            print(f"cleanup: {cluster_id}: {error}")
    for group_id in groups:
        try:
            client.delete_replication_group(ReplicationGroupId=group_id)
        except Exception as error:  # noqa: BLE001
            print(f"cleanup: {group_id}: {error}")
    for group_id in groups:
        client.get_waiter("replication_group_deleted").wait(
            ReplicationGroupId=group_id, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    for cluster_id in clusters:
        client.get_waiter("cache_cluster_deleted").wait(
            CacheClusterId=cluster_id, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    for name in snapshots:
        try:
            client.delete_snapshot(SnapshotName=name)
        except client.exceptions.SnapshotNotFoundFault:
            pass
    left = client.describe_snapshots()["Snapshots"]
    check_eq([s["SnapshotName"] for s in left], [], "snapshots left")


def main():
    check(ENDPOINT, "ELASTICACHE_ENDPOINT is required")
    client = boto3.client("elasticache", endpoint_url=ENDPOINT, region_name="us-east-1")
    try:
        source_id = snapshot_and_restore(client)
        group_snapshot_into_cluster(client)
        errors(client)
        final_snapshot(client, source_id)
        automatic(client)
        cleanup(client)
    except Exception:  # noqa: BLE001 - every failure is reported with its traceback
        traceback.print_exc()
        try:
            cleanup(client)
        finally:
            sys.exit(1)
    print(f"PASS standalone cluster snapshots on {ENGINE}", flush=True)


if __name__ == "__main__":
    main()
