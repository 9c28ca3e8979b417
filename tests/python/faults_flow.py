#!/usr/bin/env python3
"""The failover lab with real clients: boto3 creates a group in three zones, redis-py writes
through the primary endpoint, and `POST /_faults` (plain urllib) cuts the replicas' replication
one after the other, then kills the primary: the least-lagged replica is promoted and exactly
the unreplicated writes are gone. Then an Availability Zone power interruption: a redis-py
client with a retry policy keeps writing through it, the primary leaves the zone and the node
comes back there as a replica when the zone is back.

Endpoint from ELASTICACHE_ENDPOINT (http://127.0.0.1:PORT); redis nodes, or valkey with
ELASTICACHE_TEST_ENGINE=valkey. Every wait is a poll against a
deadline. Exits 0 with a PASS line, or 1 naming the failed step; deletes what it created.
"""

import json
import os
import sys
import urllib.error
import urllib.request
import uuid


try:
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry
except ImportError:  # valkey-py, redis-py's fork with the same API
    import valkey as redis
    from valkey.backoff import ExponentialBackoff
    from valkey.retry import Retry

from flowcheck import CheckFailed, check, poll, step, elasticache_client, run_flow

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT")
ENGINE = os.environ.get("ELASTICACHE_TEST_ENGINE", "redis")
GROUP = f"lab-{uuid.uuid4().hex[:6]}"
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
FINISHED = "Finished recovery for cache nodes 0001"


def fault(body):
    request = urllib.request.Request(
        f"{ENDPOINT}/_faults", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise CheckFailed(f"/_faults {body} answered {error.code}: {error.read()!r}") from error


def members(client):
    group = client.describe_replication_groups(ReplicationGroupId=GROUP)["ReplicationGroups"][0]
    return {
        m["CacheClusterId"]: (m["CurrentRole"], m["ReadEndpoint"]["Address"], m["ReadEndpoint"]["Port"])
        for m in group["NodeGroups"][0]["NodeGroupMembers"]
    }


def primary_of(client):
    return next(member for member, (role, _, _) in members(client).items() if role == "primary")


def events(client, source):
    answer = client.describe_events(SourceIdentifier=source, Duration=60)
    return [e["Message"] for e in answer["Events"]]


def wait_event(client, source, message):
    poll(f"{message!r} on {source}", 30, lambda: message in events(client, source))


def lag_then_failover(client, primary):
    for i in range(10):
        primary.set(f"k{i}", "v")
    fault({"type": "replication-lag", "replication_group_id": GROUP, "cache_cluster_id": f"{GROUP}-002"})
    for i in range(10, 20):
        primary.set(f"k{i}", "v")
    fault({"type": "replication-lag", "replication_group_id": GROUP, "cache_cluster_id": f"{GROUP}-003"})
    for i in range(20, 30):
        primary.set(f"k{i}", "v")
    step("30 writes acknowledged; 002 has 10, 003 has 20")
    fault({"type": "kill", "replication_group_id": GROUP, "cache_cluster_id": f"{GROUP}-001"})
    wait_event(client, f"{GROUP}-001", FINISHED)
    check(primary_of(client) == f"{GROUP}-003", f"promoted {primary_of(client)}, not the least lagged")
    kept = poll("the new primary answers", 20, lambda: safe_keys(primary))
    check(sorted(kept) == sorted(f"k{i}".encode() for i in range(20)), f"kept {sorted(kept)}")
    step("kill after lag: 003 (least lagged) promoted, exactly k20..k29 lost")


def safe_keys(client):
    try:
        return client.keys("k*") or None
    except redis.exceptions.RedisError:
        return None


def az_outage(client, primary):
    before = primary_of(client)
    zone = ZONES[int(before.rsplit("-", 1)[1]) - 1]
    answer = fault({"type": "az-power-interruption", "replication_group_id": GROUP,
                    "availability_zone": zone, "duration_seconds": 3})
    check(answer["members"] == [before], answer)
    # Retry policy: reconnects through the primary endpoint until the promotion is done.
    for i in range(50):
        primary.set(f"az{i}", "v")
    after = primary_of(client)
    check(after != before, f"the primary stayed in the failed zone {zone}")
    wait_event(client, before, FINISHED)
    role, address, port = members(client)[before]
    check(role == "replica", f"{before} came back as {role}")
    node = redis.Redis(host=address, port=port, socket_timeout=5)
    poll(f"{before} resynced", 20, lambda: node.get("az49") == b"v")
    check(primary_of(client) == after, "the primary failed back")
    step(f"AZ {zone} outage: {before} -> {after}, 50 writes through it with retries, {before} back as a replica")


def main():
    client = elasticache_client(ENDPOINT)
    return run_flow("faults flow", ENDPOINT, lambda: flow(client), lambda: delete_group(client))


def flow(client):
    client.create_replication_group(
        ReplicationGroupId=GROUP, ReplicationGroupDescription="failover lab",
        NumCacheClusters=3, AutomaticFailoverEnabled=True, PreferredCacheClusterAZs=ZONES,
        Engine=ENGINE,
    )
    client.get_waiter("replication_group_available").wait(
        ReplicationGroupId=GROUP, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    group = client.describe_replication_groups(ReplicationGroupId=GROUP)["ReplicationGroups"][0]
    endpoint = group["NodeGroups"][0]["PrimaryEndpoint"]
    retry = Retry(ExponentialBackoff(cap=0.5, base=0.01), retries=40)
    primary = redis.Redis(
        host=endpoint["Address"], port=endpoint["Port"], socket_timeout=2, retry=retry,
        retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                        redis.exceptions.ReadOnlyError],
    )
    runs = primary.info("server").get("server_name", "redis")
    if runs != ENGINE:
        raise CheckFailed(f"the group's nodes run {runs}, not {ENGINE}")
    step(f"group {GROUP} of {ENGINE} nodes in {ZONES}")
    lag_then_failover(client, primary)
    az_outage(client, primary)


def delete_group(client):
    try:
        client.delete_replication_group(ReplicationGroupId=GROUP)
    except Exception:  # noqa: BLE001 - already gone
        pass


if __name__ == "__main__":
    sys.exit(main())
