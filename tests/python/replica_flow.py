#!/usr/bin/env python3
"""Replica counts per shard with real clients: boto3 creates a cluster-mode group of 2 shards with
1 replica each, redis-py's RedisCluster writes keys over every slot and keeps writing and reading
from a thread while IncreaseReplicaCount takes every shard to 2 replicas and DecreaseReplicaCount
(ReplicaConfiguration for each shard) back to 1. Checks: no error reached the client, no
acknowledged write is missing, each node group lists the members AWS names, each new replica
follows its shard's primary in CLUSTER NODES, and the removed ones left every node's view.

Endpoint from ELASTICACHE_ENDPOINT (http://127.0.0.1:PORT). Every wait is a poll against a
deadline. Exits 0 with a PASS line, or 1 naming the failed step; deletes what it created.
"""

import os
import sys
import uuid


from flowcheck import check, check_eq, poll, step, elasticache_client, run_flow
from reshard_flow import SEEDED, Traffic, redis

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT")
GROUP = f"replicas-{uuid.uuid4().hex[:6]}"


def change(client, call, **params):
    """Calls the action, polls Describe until available; the node groups' members by id."""
    answer = call(ReplicationGroupId=GROUP, ApplyImmediately=True, **params)["ReplicationGroup"]
    check_eq(answer["Status"], "modifying", "status in the answer")

    def finished():
        group = client.describe_replication_groups(ReplicationGroupId=GROUP)["ReplicationGroups"][0]
        return group if group["Status"] == "available" else None

    group = poll("replica count change to finish", 120, finished, interval=0.01)
    return {g["NodeGroupId"]: sorted(m["CacheClusterId"] for m in g["NodeGroupMembers"])
            for g in group["NodeGroups"]}


def members(*numbers):
    return {shard: [f"{GROUP}-{shard}-{n}" for n in numbers] for shard in ("0001", "0002")}


def view(host, port):
    """CLUSTER NODES of the node at host:port: (address, node id, primary id or '-')."""
    lines = redis.Redis(host=host, port=port).execute_command("CLUSTER", "NODES").decode()
    return [(f[1].split("@")[0], f[0], f[3]) for f in (l.split() for l in lines.splitlines())]


def flow(client):
    client.create_replication_group(
        ReplicationGroupId=GROUP, ReplicationGroupDescription="replica count flow",
        NumNodeGroups=2, ReplicasPerNodeGroup=1)
    client.get_waiter("replication_group_available").wait(
        ReplicationGroupId=GROUP, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    group = client.describe_replication_groups(ReplicationGroupId=GROUP)["ReplicationGroups"][0]
    host, port = group["ConfigurationEndpoint"]["Address"], group["ConfigurationEndpoint"]["Port"]
    cluster = redis.RedisCluster(host=host, port=port)
    for i in range(SEEDED):
        cluster.set(f"seed:{i}", f"seed:{i}")
    step(f"{GROUP}: 2 shards of 1+1, {SEEDED} keys written by RedisCluster")
    traffic = Traffic(redis.RedisCluster(host=host, port=port))
    traffic.start()
    grown = change(client, client.increase_replica_count, NewReplicaCount=2)
    check_eq(grown, members("001", "002", "003"), "members after the increase")
    nodes = client.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]
    address = {c["CacheClusterId"]: f'{c["CacheNodes"][0]["Endpoint"]["Address"]}:{c["CacheNodes"][0]["Endpoint"]["Port"]}'
               for c in nodes if c.get("ReplicationGroupId") == GROUP}
    seen = {addr: (node_id, primary) for addr, node_id, primary in view(host, port)}
    for shard in ("0001", "0002"):
        primary_id = seen[address[f"{GROUP}-{shard}-001"]][0]
        check_eq(seen[address[f"{GROUP}-{shard}-003"]][1], primary_id, f"{shard}'s new replica follows its primary")
    step("1 -> 2 replicas per shard; each new replica follows its shard's primary")
    configure = [{"NodeGroupId": shard, "NewReplicaCount": 1} for shard in ("0001", "0002")]
    shrunk = change(client, client.decrease_replica_count, ReplicaConfiguration=configure)
    check_eq(shrunk, members("001", "002"), "members after the decrease")
    gone = {address[f"{GROUP}-{shard}-003"] for shard in ("0001", "0002")}
    for name in shrunk["0001"] + shrunk["0002"]:
        node_host, node_port = address[name].rsplit(":", 1)
        listed = {addr for addr, _, _ in view(node_host, int(node_port))}
        check(not (listed & gone), f"{name} still lists removed replicas {listed & gone}")
    step("2 -> 1 replicas per shard (the highest-numbered removed); no node lists them any more")
    traffic.stopped.set()
    traffic.join()
    check(not traffic.errors, f"errors the client saw: {traffic.errors[:5]}")
    lost = [k for k, v in traffic.acked.items() if cluster.get(k) != v.encode()]
    check(not lost, f"acknowledged writes missing: {lost[:5]}")
    step(f"{len(traffic.acked)} writes, no error, none lost")


def main():
    client = elasticache_client(ENDPOINT)
    return run_flow("replica flow", ENDPOINT, lambda: flow(client), lambda: delete_group(client))


def delete_group(client):
    try:
        client.delete_replication_group(ReplicationGroupId=GROUP)
    except Exception:  # noqa: BLE001 - already gone
        pass


if __name__ == "__main__":
    sys.exit(main())
