"""What the cache-cluster and snapshot tables share: waiting for a cluster's status or its
deletion (polls against a deadline), reading it back, and talking to its node with redis-py or
pymemcache."""

import itertools

from botocore.exceptions import ClientError

from flowcheck import CheckFailed, check, poll

try:
    import redis
except ImportError:  # valkey-py, redis-py's fork with the same API
    import valkey as redis

_serial = itertools.count(1)
TIMEOUT = 60


BOOLEAN = "a boolean: the SDK sends true or false whatever it is given"


def parameter_group_with_policy(ctx, name, policy):
    """A redis7 parameter group `name` whose maxmemory-policy is `policy` (deleted with the
    table's fixtures), so a cluster that uses it shows the group on its node."""
    client = ctx.client
    client.create_cache_parameter_group(CacheParameterGroupName=name,
                                        CacheParameterGroupFamily="redis7", Description="member table")
    ctx.created.append(lambda: client.delete_cache_parameter_group(CacheParameterGroupName=name))
    client.modify_cache_parameter_group(
        CacheParameterGroupName=name,
        ParameterNameValues=[{"ParameterName": "maxmemory-policy", "ParameterValue": policy}])


def fresh_id(ctx, prefix="cc"):
    """A cluster id of its own for each call (every Create row makes a new cluster)."""
    return f"{prefix}-{ctx.run}-{next(_serial)}"


def describe(ctx, cluster_id):
    answer = ctx.client.describe_cache_clusters(CacheClusterId=cluster_id, ShowCacheNodeInfo=True)
    return answer["CacheClusters"][0]


def wait_available(ctx, cluster_id):
    return poll(
        f"{cluster_id} available",
        TIMEOUT,
        lambda: (lambda c: c if c["CacheClusterStatus"] == "available" else None)(describe(ctx, cluster_id)),
    )


def gone(ctx, cluster_id):
    try:
        describe(ctx, cluster_id)
    except ClientError as error:
        return error.response["Error"]["Code"] == "CacheClusterNotFound"
    return False


def delete_cluster(ctx, cluster_id):
    """Deletes the cluster once it can be (a creating or modifying cluster refuses) and waits
    until it is gone; a cluster that does not exist is already done."""
    if gone(ctx, cluster_id):
        return
    wait_available(ctx, cluster_id)
    ctx.client.delete_cache_cluster(CacheClusterId=cluster_id)
    poll(f"{cluster_id} deleted", TIMEOUT, lambda: gone(ctx, cluster_id))


def created_id(response, params):
    cluster = (response or {}).get("CacheCluster") or {}
    return cluster.get("CacheClusterId") or params.get("CacheClusterId")


def node_address(cluster, node_id="0001"):
    node = next(n for n in cluster["CacheNodes"] if n["CacheNodeId"] == node_id)
    return node["Endpoint"]["Address"], node["Endpoint"]["Port"]


def redis_node(cluster, **kwargs):
    host, port = node_address(cluster)
    return redis.Redis(host=host, port=port, socket_timeout=10, **kwargs)


def refused(call, code):
    """Calls `call()`, which must fail with `code` (for a check that a node refuses a client)."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the refusal is what is checked
        check(code in type(error).__name__ or code in str(error), f"expected {code}, got {error!r}")
        return
    raise CheckFailed(f"expected {code}, the call succeeded")


def snapshot_available(ctx, name):
    def probe():
        snapshots = ctx.client.describe_snapshots(SnapshotName=name)["Snapshots"]
        return snapshots and snapshots[0]["SnapshotStatus"] == "available" and snapshots[0]

    return poll(f"snapshot {name} available", TIMEOUT, probe)


def delete_snapshot(ctx, name):
    try:
        snapshot_available(ctx, name)
        ctx.client.delete_snapshot(SnapshotName=name)
    except (ClientError, CheckFailed):
        pass


TABLES = []  # member_table.py reads TABLES from every module here; this one only has helpers
