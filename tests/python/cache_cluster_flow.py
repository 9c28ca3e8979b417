#!/usr/bin/env python3
"""Drives elasticache-local's cache cluster actions with the real clients: boto3 (and its
`cache_cluster_available` / `cache_cluster_deleted` waiters), redis-py for a standalone Redis
cluster and a replication group's members, pymemcache for Memcached nodes, and raw sockets for
the Auto Discovery answer.

Endpoint from ELASTICACHE_ENDPOINT (http://127.0.0.1:PORT). Every wait is a poll against a
deadline. Exits 0 with a PASS line, or 1 naming the failed step; deletes what it created.
"""

import os
import socket
import sys
import uuid

import botocore.exceptions
from pymemcache.client.base import Client as Memcache

try:
    import redis
except ImportError:  # valkey-py, redis-py's fork with the same API (./dev test installs redis-py)
    import valkey as redis

from flowcheck import CheckFailed, check, check_eq, poll, step, elasticache_client, run_flow

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT")
# The engine of the standalone node and the group (tests/clients.rs runs it on redis and valkey).
ENGINE = os.environ.get("ELASTICACHE_TEST_ENGINE", "redis")
RUN = uuid.uuid4().hex[:6]
REDIS_ID = f"cc-redis-{RUN}"
MEMCACHED_ID = f"cc-mc-{RUN}"
GROUP_ID = f"cc-rg-{RUN}"
MEMBER_ID = f"cc-member-{RUN}"
WAITER = {"Delay": 1, "MaxAttempts": 60}

clusters = []  # standalone cluster ids to clean up
groups = []


def expect_error(code, status, call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as error:
        check_eq(error.response["Error"]["Code"], code, f"{call.__name__} error code")
        check_eq(error.response["ResponseMetadata"]["HTTPStatusCode"], status, f"{code} status")
        return error.response["Error"]["Message"]
    raise CheckFailed(f"{call.__name__}({kwargs}) succeeded; expected {code}")


def describe(client, cluster_id):
    answer = client.describe_cache_clusters(CacheClusterId=cluster_id, ShowCacheNodeInfo=True)
    return answer["CacheClusters"][0]


def messages(client, source):
    events = client.describe_events(SourceIdentifier=source, SourceType="cache-cluster", Duration=60)
    return [e["Message"] for e in events["Events"]]


def discovery(address, command=b"config get cluster\r\n"):
    """The Auto Discovery answer as the ElastiCache cluster clients parse it: version, nodes."""
    with socket.create_connection(address, timeout=5) as conn:
        conn.sendall(command)
        reply = b""
        while not reply.endswith(b"END\r\n"):
            chunk = conn.recv(4096)
            check(chunk, f"Auto Discovery answer cut short: {reply!r}")
            reply += chunk
    lines = [line for line in reply.decode().replace("\r", "").split("\n") if line]
    check_eq(len(lines), 4, f"Auto Discovery lines in {reply!r}")
    check(lines[0].startswith("CONFIG cluster 0 "), f"header {lines[0]!r}")
    nodes = [tuple(n.split("|")) for n in lines[2].split(" ")]
    return int(lines[1]), [(host, ip, int(port)) for host, ip, port in nodes]


def node_addresses(cluster):
    """Every node's (Address, Port), as DescribeCacheClusters reports them."""
    return {n["CacheNodeId"]: (n["Endpoint"]["Address"], n["Endpoint"]["Port"]) for n in cluster["CacheNodes"]}


def own_addresses(addresses, port, what):
    """Every address at `port` (AWS's default for the engine), each on an IP of its own."""
    check(all(p == port for _, p in addresses), f"{what} at port {port}: {addresses}")
    check_eq(len({ip for ip, _ in addresses}), len(addresses), f"distinct IPs of {what}")


def standalone_redis(client):
    created = client.create_cache_cluster(
        CacheClusterId=REDIS_ID, Engine=ENGINE, CacheNodeType="cache.t3.micro", NumCacheNodes=1
    )["CacheCluster"]
    clusters.append(REDIS_ID)
    check_eq(created["CacheClusterStatus"], "creating", "status after create")
    client.get_waiter("cache_cluster_available").wait(CacheClusterId=REDIS_ID, WaiterConfig=WAITER)
    cluster = describe(client, REDIS_ID)
    check_eq(cluster["NumCacheNodes"], 1, "NumCacheNodes")
    check("ReplicationGroupId" not in cluster, "a standalone cluster names no group")
    address = node_addresses(cluster)["0001"]
    own_addresses([address], 6379, "the redis node")
    node = redis.Redis(host=address[0], port=address[1], socket_timeout=10)
    node.set("greeting", "hello")
    check_eq(node.get("greeting"), b"hello", "GET through the node endpoint")
    check_eq(node.info("replication")["role"], "master", "a standalone node's role")
    check_eq(cluster["Engine"], ENGINE, "Engine")
    check_eq(node.info("server").get("server_name", "redis"), ENGINE, "INFO server: the engine that really runs")
    step(f"standalone {ENGINE}: created, cache_cluster_available waiter, redis-py SET/GET")

    rebooting = client.reboot_cache_cluster(CacheClusterId=REDIS_ID, CacheNodeIdsToReboot=["0001"])
    check_eq(rebooting["CacheCluster"]["CacheClusterStatus"], "rebooting cache cluster nodes", "reboot status")
    client.get_waiter("cache_cluster_available").wait(CacheClusterId=REDIS_ID, WaiterConfig=WAITER)
    check_eq(node_addresses(describe(client, REDIS_ID))["0001"], address, "the node's address after a reboot")
    check_eq(node.get("greeting"), None, "data after the reboot (the node restarts empty)")
    seen = messages(client, REDIS_ID)
    for message in ["Cache node 0001 shutdown", "Cache node 0001 restarted"]:
        check(message in seen, f"event {message!r} in {seen}")
    step(f"standalone {ENGINE}: RebootCacheCluster restarts the node empty, with its events")


def memcached(client):
    client.create_cache_cluster(
        CacheClusterId=MEMCACHED_ID, Engine="memcached", CacheNodeType="cache.t3.micro",
        NumCacheNodes=2, AZMode="cross-az",
    )
    clusters.append(MEMCACHED_ID)
    client.get_waiter("cache_cluster_available").wait(CacheClusterId=MEMCACHED_ID, WaiterConfig=WAITER)
    cluster = describe(client, MEMCACHED_ID)
    check_eq(cluster["PreferredAvailabilityZone"], "Multiple", "a cross-az cluster's zone")
    ports = node_addresses(cluster)
    check_eq(sorted(ports), ["0001", "0002"], "node ids")
    config_address = (cluster["ConfigurationEndpoint"]["Address"], cluster["ConfigurationEndpoint"]["Port"])
    own_addresses(list(ports.values()) + [config_address], 11211, "the memcached nodes and configuration endpoint")
    for node_id, address in ports.items():
        mc = Memcache(address, connect_timeout=5, timeout=5)
        mc.set(f"key-{node_id}", f"value-{node_id}".encode())
        check_eq(mc.get(f"key-{node_id}"), f"value-{node_id}".encode(), f"pymemcache GET on {node_id}")
        mc.close()
    version, nodes = discovery(config_address)
    check_eq(version, 1, "Auto Discovery version of a new cluster")
    check_eq(sorted((ip, p) for _, ip, p in nodes), sorted(ports.values()), "Auto Discovery nodes")
    check(all(host == ip for host, ip, _ in nodes), f"Auto Discovery hostnames are the node addresses: {nodes}")
    check_eq(discovery(ports["0001"])[0], 1, "a node answers Auto Discovery too")
    step("memcached: 2 real nodes, pymemcache SET/GET on each, Auto Discovery answer")

    grown = client.modify_cache_cluster(CacheClusterId=MEMCACHED_ID, NumCacheNodes=3, ApplyImmediately=True)
    check_eq(grown["CacheCluster"]["PendingModifiedValues"].get("NumCacheNodes"), 3, "pending NumCacheNodes")
    client.get_waiter("cache_cluster_available").wait(CacheClusterId=MEMCACHED_ID, WaiterConfig=WAITER)
    ports = node_addresses(describe(client, MEMCACHED_ID))
    check_eq(sorted(ports), ["0001", "0002", "0003"], "node ids after growing")
    own_addresses(list(ports.values()) + [config_address], 11211, "the grown cluster's nodes")
    version, nodes = discovery(config_address)
    check_eq((version, len(nodes)), (2, 3), "Auto Discovery after growing")
    client.modify_cache_cluster(
        CacheClusterId=MEMCACHED_ID, NumCacheNodes=2, CacheNodeIdsToRemove=["0001"], ApplyImmediately=True
    )
    client.get_waiter("cache_cluster_available").wait(CacheClusterId=MEMCACHED_ID, WaiterConfig=WAITER)
    ports = node_addresses(describe(client, MEMCACHED_ID))
    check_eq(sorted(ports), ["0002", "0003"], "node ids after CacheNodeIdsToRemove")
    version, nodes = discovery(config_address)
    check_eq((version, sorted((ip, p) for _, ip, p in nodes)), (3, sorted(ports.values())), "Auto Discovery after shrinking")
    seen = messages(client, MEMCACHED_ID)
    check(any(m.startswith("Added cache node 0003 in availability zone") for m in seen), f"added event in {seen}")
    check("Removed cache node 0001" in seen, f"removed event in {seen}")
    step("memcached: ModifyCacheCluster grows and shrinks (CacheNodeIdsToRemove), versions bumped, events")

    kill_memcached_node(client, ports["0002"])


def memcached_pid(node_id):
    """The pid of the memcached serving `node_id` of this run's cluster (its socket names it)."""
    needle = f"/{MEMCACHED_ID}/{node_id}/memcached.sock"
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline and "memcached" in cmdline:
            return int(entry)
    return None


def kill_memcached_node(client, address):
    mc = Memcache(address, connect_timeout=5, timeout=5)
    mc.set("survivor", b"before")
    mc.close()
    pid = poll("the memcached pid of node 0002", 5, lambda: memcached_pid("0002"))
    os.kill(pid, 9)
    poll("the recovery event", 30, lambda: "Finished recovery for cache nodes 0002" in messages(client, MEMCACHED_ID))

    def fresh_node_answers():
        try:
            probe = Memcache(address, connect_timeout=2, timeout=2)
            value = probe.get("survivor")
            probe.set("after", b"yes")
            probe.close()
            return ("empty",) if value is None else None
        except Exception:  # noqa: BLE001 - not back yet
            return None

    poll("the replaced node, empty, at the same address", 15, fresh_node_answers)
    check(memcached_pid("0002") not in (None, pid), "a new memcached process serves node 0002")
    step("memcached: a killed node is replaced empty at its address, with recovery events")


def members(client):
    client.create_replication_group(
        ReplicationGroupId=GROUP_ID, ReplicationGroupDescription="members", NumCacheClusters=1, Engine=ENGINE
    )
    groups.append(GROUP_ID)
    client.get_waiter("replication_group_available").wait(ReplicationGroupId=GROUP_ID, WaiterConfig=WAITER)
    primary = describe(client, f"{GROUP_ID}-001")["CacheNodes"][0]["Endpoint"]
    redis.Redis(host=primary["Address"], port=primary["Port"]).set("shared", "yes")
    standalone = client.describe_cache_clusters(ShowCacheClustersNotInReplicationGroups=True)["CacheClusters"]
    ids = {c["CacheClusterId"] for c in standalone}
    check(REDIS_ID in ids and f"{GROUP_ID}-001" not in ids, f"ShowCacheClustersNotInReplicationGroups: {ids}")
    step("ShowCacheClustersNotInReplicationGroups lists only standalone clusters")

    added = client.create_cache_cluster(CacheClusterId=MEMBER_ID, ReplicationGroupId=GROUP_ID)["CacheCluster"]
    check_eq(added["ReplicationGroupId"], GROUP_ID, "the new member's group")
    client.get_waiter("cache_cluster_available").wait(CacheClusterId=MEMBER_ID, WaiterConfig=WAITER)
    client.get_waiter("replication_group_available").wait(ReplicationGroupId=GROUP_ID, WaiterConfig=WAITER)
    group = client.describe_replication_groups(ReplicationGroupId=GROUP_ID)["ReplicationGroups"][0]
    check(MEMBER_ID in group["MemberClusters"], f"MemberClusters {group['MemberClusters']}")
    member = describe(client, MEMBER_ID)["CacheNodes"][0]["Endpoint"]
    replica = redis.Redis(host=member["Address"], port=member["Port"], socket_timeout=10)
    poll("the new member to sync", 10, lambda: replica.get("shared") == b"yes")
    check_eq(replica.info("replication")["role"], "slave", "the new member's role")
    check_eq(replica.info("server").get("server_name", "redis"), ENGINE, "the new member's engine")
    step("CreateCacheCluster --replication-group-id adds a replica that syncs and is a member")

    message = expect_error("InvalidCacheClusterState", 400, client.delete_cache_cluster, CacheClusterId=f"{GROUP_ID}-001")
    check("primary" in message, f"the refusal names the primary: {message}")
    deleting = client.delete_cache_cluster(CacheClusterId=MEMBER_ID)["CacheCluster"]
    check_eq(deleting["CacheClusterStatus"], "deleting", "a removed member's status")
    client.get_waiter("cache_cluster_deleted").wait(CacheClusterId=MEMBER_ID, WaiterConfig=WAITER)
    client.get_waiter("replication_group_available").wait(ReplicationGroupId=GROUP_ID, WaiterConfig=WAITER)
    group = client.describe_replication_groups(ReplicationGroupId=GROUP_ID)["ReplicationGroups"][0]
    check_eq(group["MemberClusters"], [f"{GROUP_ID}-001"], "members after removing the replica")
    step("DeleteCacheCluster removes a replica member and refuses the primary")


def errors(client):
    expect_error("InvalidParameterCombination", 400, client.create_cache_cluster,
                 CacheClusterId=f"cc-two-{RUN}", Engine=ENGINE, NumCacheNodes=2)
    expect_error("InvalidParameterCombination", 400, client.create_cache_cluster,
                 CacheClusterId=f"cc-version-{RUN}", Engine=ENGINE, EngineVersion="99.9")
    expect_error("CacheClusterAlreadyExists", 400, client.create_cache_cluster,
                 CacheClusterId=REDIS_ID, Engine="redis")
    expect_error("CacheClusterAlreadyExists", 400, client.create_cache_cluster,
                 CacheClusterId=f"{GROUP_ID}-001", Engine="redis")
    expect_error("NodeQuotaForClusterExceeded", 400, client.create_cache_cluster,
                 CacheClusterId=f"cc-big-{RUN}", Engine="memcached", NumCacheNodes=41)
    expect_error("NodeQuotaForClusterExceeded", 400, client.modify_cache_cluster,
                 CacheClusterId=MEMCACHED_ID, NumCacheNodes=41, ApplyImmediately=True)
    expect_error("InvalidParameterCombination", 400, client.modify_cache_cluster,
                 CacheClusterId=MEMCACHED_ID, NumCacheNodes=1, ApplyImmediately=True)
    expect_error("InvalidParameterCombination", 400, client.modify_cache_cluster,
                 CacheClusterId=REDIS_ID, NumCacheNodes=2, ApplyImmediately=True)
    for call, kwargs in [
        (client.describe_cache_clusters, {}),
        (client.delete_cache_cluster, {}),
        (client.modify_cache_cluster, {"NumCacheNodes": 1}),
        (client.reboot_cache_cluster, {"CacheNodeIdsToReboot": ["0001"]}),
    ]:
        expect_error("CacheClusterNotFound", 404, call, CacheClusterId=f"cc-none-{RUN}", **kwargs)
    expect_error("InvalidParameterValue", 400, client.reboot_cache_cluster,
                 CacheClusterId=REDIS_ID, CacheNodeIdsToReboot=["0002"])
    # Memcached's parameter groups are its default.memcached1.x ones, of the version's family.
    expect_error("CacheParameterGroupNotFound", 404, client.create_cache_cluster,
                 CacheClusterId=f"cc-mcpg-{RUN}", Engine="memcached", NumCacheNodes=1,
                 CacheParameterGroupName="default.memcached-made-up")
    expect_error("InvalidParameterCombination", 400, client.create_cache_cluster,
                 CacheClusterId=f"cc-mcpg-{RUN}", Engine="memcached", NumCacheNodes=1,
                 EngineVersion="1.6.22", CacheParameterGroupName="default.memcached1.4")
    step("invalid combinations get AWS's errors (InvalidParameterCombination, CacheClusterAlreadyExists, "
         "NodeQuotaForClusterExceeded, CacheClusterNotFound 404, CacheParameterGroupNotFound 404)")


def delete_all(client):
    for cluster_id in [REDIS_ID, MEMCACHED_ID]:
        deleting = client.delete_cache_cluster(CacheClusterId=cluster_id)["CacheCluster"]
        check_eq(deleting["CacheClusterStatus"], "deleting", f"{cluster_id} status on delete")
    for cluster_id in [REDIS_ID, MEMCACHED_ID]:
        client.get_waiter("cache_cluster_deleted").wait(CacheClusterId=cluster_id, WaiterConfig=WAITER)
        clusters.remove(cluster_id)
    client.delete_replication_group(ReplicationGroupId=GROUP_ID)
    client.get_waiter("replication_group_deleted").wait(ReplicationGroupId=GROUP_ID, WaiterConfig=WAITER)
    groups.remove(GROUP_ID)
    check(memcached_pid("0002") is None and memcached_pid("0003") is None, "memcached processes after delete")
    step("DeleteCacheCluster: cache_cluster_deleted waiter; no memcached left")


def cleanup(client):
    for cluster_id in list(clusters):
        try:
            client.delete_cache_cluster(CacheClusterId=cluster_id)
        except Exception as error:  # noqa: BLE001 - cleanup is best effort
            print(f"cleanup: deleting {cluster_id}: {error}", file=sys.stderr)
    for group_id in list(groups):
        try:
            client.delete_replication_group(ReplicationGroupId=group_id)
        except Exception as error:  # noqa: BLE001
            print(f"cleanup: deleting {group_id}: {error}", file=sys.stderr)


def main():
    client = elasticache_client(ENDPOINT)

    def body():
        standalone_redis(client)
        memcached(client)
        members(client)
        errors(client)
        delete_all(client)

    return run_flow("cache cluster flow", ENDPOINT, body, lambda: cleanup(client))


if __name__ == "__main__":
    sys.exit(main())
