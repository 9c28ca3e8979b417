#!/usr/bin/env python3
"""Drives elasticache-local with the real boto3 client through a full lifecycle.

Endpoint from ELASTICACHE_ENDPOINT (http://127.0.0.1:PORT); credentials from the usual
AWS_* environment variables. Redis data is checked with `redis-cli` (redis-py is not
needed). Every wait is a poll against a deadline; there are no fixed sleeps.

Exits 0 and prints a short summary on success, exits 1 with a clear message on any failure,
and deletes every replication group it created either way.
"""

import math
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import botocore.exceptions

from flowcheck import CheckFailed, check, check_eq, poll, step, elasticache_client, run_flow

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT")
# The engine of the groups this flow makes (tests/clients.rs runs it on redis and on valkey).
ENGINE = os.environ.get("ELASTICACHE_TEST_ENGINE", "redis")
RUN = uuid.uuid4().hex[:6]  # keeps ids unique when run twice against one server
MAIN_ID = f"boto3-main-{RUN}"
PAGE_IDS = [f"boto3-page-{RUN}-{i:02d}" for i in range(25)]
WAITER_FAST = {"Delay": 1, "MaxAttempts": 30}

created = []  # every group id this run created, for the cleanup in `finally`


def at(endpoint):
    """An endpoint's (address, port): every node and endpoint has its own loopback address."""
    return (endpoint["Address"], endpoint["Port"])


def redis_cli(address, *args, password=None):
    """Runs redis-cli against (host, port); returns stdout stripped (errors included)."""
    host, port = address
    command = ["redis-cli", "-h", host, "-p", str(port)]
    if password is not None:
        command += ["-a", password, "--no-auth-warning"]
    try:
        done = subprocess.run(command + list(args), capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "<redis-cli timed out>"
    return (done.stdout + done.stderr).strip()


def replication_info(port):
    fields = {}
    for line in redis_cli(port, "INFO", "replication").splitlines():
        if ":" in line:
            key, value = line.strip().split(":", 1)
            fields[key] = value
    return fields


def port_closed(address):
    import socket

    try:
        with socket.create_connection(address, timeout=1):
            return False
    except OSError:
        return True


def expect_error(exception_class, code, status, call, *args, **kwargs):
    """Calls call(**kwargs) and checks it raises exception_class with this code and HTTP status."""
    try:
        call(*args, **kwargs)
    except exception_class as error:
        check_eq(error.response["Error"]["Code"], code, f"{call.__name__} error code")
        check_eq(error.response["ResponseMetadata"]["HTTPStatusCode"], status, f"{call.__name__} HTTP status")
        check(error.response["Error"].get("Message"), f"{call.__name__} {code} has no message")
        return error
    except botocore.exceptions.ClientError as error:
        raise CheckFailed(
            f"{call.__name__}({kwargs}) raised {type(error).__name__} "
            f"(code {error.response['Error'].get('Code')!r}), expected {exception_class.__name__}"
        )
    raise CheckFailed(f"{call.__name__}({kwargs}) succeeded, expected {exception_class.__name__}")


def the_group(client, group_id):
    groups = client.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"]
    check_eq(len(groups), 1, f"groups described for {group_id}")
    return groups[0]


def members_by_id(group):
    return {m["CacheClusterId"]: m for m in group["NodeGroups"][0]["NodeGroupMembers"]}


def run(client):
    errors = client.exceptions

    # --- create a 3-node group with automatic failover ------------------------------------
    # Mixed case on purpose: ElastiCache stores ids lower-case.
    created.append(MAIN_ID)
    response = client.create_replication_group(
        ReplicationGroupId=MAIN_ID.upper(),
        ReplicationGroupDescription="boto3 flow main group",
        NumCacheClusters=3,
        AutomaticFailoverEnabled=True,
        CacheNodeType="cache.t3.micro",
        Engine=ENGINE,
        Tags=[{"Key": "suite", "Value": "boto3"}],
    )
    group = response["ReplicationGroup"]
    check_eq(response["ResponseMetadata"]["HTTPStatusCode"], 200, "create HTTP status")
    check_eq(group["ReplicationGroupId"], MAIN_ID, "created id (lower-cased)")
    check_eq(group["Status"], "creating", "status right after create")
    check_eq(group["Description"], "boto3 flow main group", "description")
    expected_members = [f"{MAIN_ID}-001", f"{MAIN_ID}-002", f"{MAIN_ID}-003"]
    check_eq(group["MemberClusters"], expected_members, "MemberClusters")
    step(f"create_replication_group {MAIN_ID}: status creating, members {expected_members}")

    started = time.monotonic()
    client.get_waiter("replication_group_available").wait(ReplicationGroupId=MAIN_ID, WaiterConfig=WAITER_FAST)
    step(f"replication_group_available waiter returned in {time.monotonic() - started:.2f}s")

    # --- describe and check the shape ------------------------------------------------------
    group = the_group(client, MAIN_ID)
    check_eq(group["Status"], "available", "status after waiter")
    check_eq(group["AutomaticFailover"], "enabled", "AutomaticFailover")
    check_eq(group["ClusterEnabled"], False, "ClusterEnabled")
    check_eq(group["MemberClusters"], expected_members, "described MemberClusters")
    check_eq(len(group["NodeGroups"]), 1, "node group count")
    node_group = group["NodeGroups"][0]
    check_eq(node_group["NodeGroupId"], "0001", "NodeGroupId")
    check_eq(node_group["Status"], "available", "node group status")
    primary_endpoint = node_group["PrimaryEndpoint"]
    reader_endpoint = node_group["ReaderEndpoint"]
    # Ports like AWS: both endpoints on 6379, each on its own loopback address.
    check_eq(primary_endpoint["Port"], 6379, "PrimaryEndpoint port")
    check_eq(reader_endpoint["Port"], 6379, "ReaderEndpoint port")
    check(primary_endpoint["Address"].startswith("127."), f"bad primary address {primary_endpoint!r}")
    primary_port = at(primary_endpoint)
    reader_port = at(reader_endpoint)
    check(primary_port != reader_port, "primary and reader endpoints share an address")
    members = node_group["NodeGroupMembers"]
    check_eq(sorted(m["CacheClusterId"] for m in members), expected_members, "NodeGroupMembers ids")
    roles = {m["CacheClusterId"]: m["CurrentRole"] for m in members}
    check_eq(sorted(roles.values()), ["primary", "replica", "replica"], "member roles")
    old_primary = next(cid for cid, role in roles.items() if role == "primary")
    check_eq(old_primary, f"{MAIN_ID}-001", "initial primary")
    node_ports = {m["CacheClusterId"]: at(m["ReadEndpoint"]) for m in members}
    for m in members:
        check_eq(m["ReadEndpoint"]["Port"], 6379, f"{m['CacheClusterId']} ReadEndpoint port")
        check_eq(m["CacheNodeId"], "0001", f"{m['CacheClusterId']} CacheNodeId")
    check_eq(len(set(node_ports.values()) | {primary_port, reader_port}), 5, "distinct addresses (3 nodes + 2 proxies)")
    step(f"describe: 3 members, primary {old_primary}, PrimaryEndpoint :{primary_port}, ReaderEndpoint :{reader_port}")

    # The real redis-servers agree with the described roles.
    info = poll(
        "primary to see 2 connected replicas",
        15,
        lambda: (lambda i: i if i.get("connected_slaves") == "2" else None)(replication_info(node_ports[old_primary])),
    )
    check_eq(info.get("role"), "master", f"{old_primary} INFO role")
    for cid, port in node_ports.items():
        if cid != old_primary:
            info = poll(f"{cid} link up", 15, lambda p=port: (lambda i: i if i.get("master_link_status") == "up" else None)(replication_info(p)))
            check_eq(info.get("role"), "slave", f"{cid} INFO role")
            check_eq((info.get("master_host"), info.get("master_port")), (node_ports[old_primary][0], str(node_ports[old_primary][1])), f"{cid} master")
    for cid, port in node_ports.items():
        server = {k: v for k, v in (line.split(":", 1) for line in redis_cli(port, "INFO", "server").splitlines() if ":" in line)}
        check_eq(server.get("server_name", "redis").strip(), ENGINE, f"{cid} INFO server: the engine that really runs")
    step(f"INFO replication on each node matches the described roles; every node runs {ENGINE}")

    # --- data through the primary endpoint, replicated to every replica ---------------------
    keys = {f"boto3:key:{i}": f"value-{RUN}-{i}" for i in range(10)}
    for key, value in keys.items():
        check_eq(redis_cli(primary_port, "SET", key, value), "OK", f"SET {key} via primary endpoint")
    check_eq(redis_cli(primary_port, "GET", "boto3:key:0"), keys["boto3:key:0"], "GET via primary endpoint")
    for cid, port in node_ports.items():
        if cid == old_primary:
            continue
        for key, value in keys.items():
            poll(f"{key} on replica {cid} (:{port})", 15, lambda p=port, k=key, v=value: redis_cli(p, "GET", k) == v)
        reply = redis_cli(port, "SET", "boto3:on-replica", "x")
        check("READONLY" in reply, f"replica {cid} accepted a write: {reply!r}")
    poll("key via reader endpoint", 15, lambda: redis_cli(reader_port, "GET", "boto3:key:9") == keys["boto3:key:9"])
    step(f"{len(keys)} keys written via PrimaryEndpoint, read back on both replicas and the ReaderEndpoint; replicas are read-only")

    # --- error cases -------------------------------------------------------------------------
    expect_error(errors.ReplicationGroupNotFoundFault, "ReplicationGroupNotFoundFault", 404,
                 client.describe_replication_groups, ReplicationGroupId=f"boto3-missing-{RUN}")
    expect_error(errors.ReplicationGroupAlreadyExistsFault, "ReplicationGroupAlreadyExists", 400,
                 client.create_replication_group, ReplicationGroupId=MAIN_ID,
                 ReplicationGroupDescription="dup", NumCacheClusters=1)
    error = expect_error(errors.InvalidParameterCombinationException, "InvalidParameterCombination", 400,
                         client.create_replication_group, ReplicationGroupId=f"boto3-af1-{RUN}",
                         ReplicationGroupDescription="af with one node", NumCacheClusters=1,
                         AutomaticFailoverEnabled=True)
    expect_error(errors.ReplicationGroupNotFoundFault, "ReplicationGroupNotFoundFault", 404,
                 client.describe_replication_groups, ReplicationGroupId=f"boto3-af1-{RUN}")
    expect_error(errors.CacheClusterNotFoundFault, "CacheClusterNotFound", 404,
                 client.describe_cache_clusters, CacheClusterId=f"boto3-missing-{RUN}-001")
    expect_error(errors.InvalidParameterValueException, "InvalidParameterValue", 400,
                 client.describe_replication_groups, MaxRecords=10)
    expect_error(errors.InvalidParameterValueException, "InvalidParameterValue", 400,
                 client.test_failover, ReplicationGroupId=MAIN_ID, NodeGroupId="abc")
    expect_error(errors.ReplicationGroupNotFoundFault, "ReplicationGroupNotFoundFault", 404,
                 client.test_failover, ReplicationGroupId=f"boto3-missing-{RUN}", NodeGroupId="0001")
    expect_error(errors.NodeGroupNotFoundFault, "NodeGroupNotFoundFault", 404,
                 client.test_failover, ReplicationGroupId=MAIN_ID, NodeGroupId="0002")
    # The main group is untouched by the rejected calls.
    check_eq(members_by_id(the_group(client, MAIN_ID))[old_primary]["CurrentRole"], "primary", "primary after rejected calls")
    step("error cases: NotFound 404, AlreadyExists 400, InvalidParameterCombination 400, CacheClusterNotFound 404, "
         "InvalidParameterValue 400, NodeGroupNotFoundFault 404")

    # --- engine versions: resolved through the catalogue, reported as AWS reports them ----------
    version_id = f"boto3-v71-{RUN}"
    created.append(version_id)
    client.create_replication_group(ReplicationGroupId=version_id, ReplicationGroupDescription="version",
                                    NumCacheClusters=1, Engine="redis", EngineVersion="7.1")
    client.get_waiter("replication_group_available").wait(ReplicationGroupId=version_id, WaiterConfig=WAITER_FAST)
    cluster = client.describe_cache_clusters(CacheClusterId=f"{version_id}-001")["CacheClusters"][0]
    check_eq((cluster["Engine"], cluster["EngineVersion"]), ("redis", "7.1.0"), "EngineVersion 7.1 reported")
    error = expect_error(errors.InvalidParameterCombinationException, "InvalidParameterCombination", 400,
                         client.create_replication_group, ReplicationGroupId=f"boto3-v99-{RUN}",
                         ReplicationGroupDescription="unknown version", EngineVersion="99.9")
    check_eq(error.response["Error"]["Message"], "Cannot find version 99.9 for redis", "unknown version message")
    client.delete_replication_group(ReplicationGroupId=version_id)
    client.get_waiter("replication_group_deleted").wait(ReplicationGroupId=version_id, WaiterConfig=WAITER_FAST)
    created.remove(version_id)
    step("EngineVersion 7.1 reported as 7.1.0; 99.9 refused with InvalidParameterCombination "
         "'Cannot find version 99.9 for redis'")

    # --- paginators ---------------------------------------------------------------------------
    for group_id in PAGE_IDS:
        created.append(group_id)
        response = client.create_replication_group(
            ReplicationGroupId=group_id, ReplicationGroupDescription="page filler", NumCacheClusters=1
        )
        check_eq(response["ReplicationGroup"]["Status"], "creating", f"{group_id} status after create")
    waiter = client.get_waiter("replication_group_available")
    for group_id in PAGE_IDS:
        waiter.wait(ReplicationGroupId=group_id, WaiterConfig=WAITER_FAST)

    # TestFailover on a group without automatic failover is refused.
    expect_error(errors.InvalidReplicationGroupStateFault, "InvalidReplicationGroupState", 400,
                 client.test_failover, ReplicationGroupId=PAGE_IDS[0], NodeGroupId="0001")

    all_groups = client.describe_replication_groups(MaxRecords=100)
    check("Marker" not in all_groups, "MaxRecords=100 over <=100 groups returned a Marker")
    total = len(all_groups["ReplicationGroups"])
    check(total >= 26, f"expected at least 26 groups, described {total}")

    pages = []
    iterator = client.get_paginator("describe_replication_groups").paginate(PaginationConfig={"PageSize": 20})
    for page in iterator:
        pages.append([g["ReplicationGroupId"] for g in page["ReplicationGroups"]])
        check(len(pages) <= total, "describe_replication_groups paginator does not terminate")
    seen = [gid for page in pages for gid in page]
    check_eq(len(pages), math.ceil(total / 20), "describe_replication_groups page count")
    check(all(len(page) == 20 for page in pages[:-1]), f"non-final pages not full: {[len(p) for p in pages]}")
    check(all(len(page) <= 20 for page in pages), "a page exceeds PageSize 20")
    duplicates = sorted({gid for gid in seen if seen.count(gid) > 1})
    check(not duplicates, f"groups seen more than once while paging: {duplicates}")
    check_eq(len(seen), total, "groups seen while paging vs. one unpaged describe")
    missing = sorted(set([MAIN_ID] + PAGE_IDS) - set(seen))
    check(not missing, f"groups never seen while paging: {missing}")
    for page in pages:
        check(page, "an empty page")

    # The same by hand: MaxRecords=20, then the Marker.
    first = client.describe_replication_groups(MaxRecords=20)
    check_eq(len(first["ReplicationGroups"]), 20, "first manual page size")
    check(first.get("Marker"), "first manual page has no Marker")
    second = client.describe_replication_groups(MaxRecords=20, Marker=first["Marker"])
    check_eq([g["ReplicationGroupId"] for g in first["ReplicationGroups"] + second["ReplicationGroups"]][:40],
             seen[:40], "manual Marker paging order")
    step(f"describe_replication_groups paginator: {total} groups in {len(pages)} pages of <=20, each id once, terminates")

    expected_clusters = set(expected_members) | {f"{g}-001" for g in PAGE_IDS}
    cluster_pages = []
    for page in client.get_paginator("describe_cache_clusters").paginate(
        ShowCacheNodeInfo=True, PaginationConfig={"PageSize": 20}
    ):
        cluster_pages.append(page["CacheClusters"])
        check(len(cluster_pages) <= 100, "describe_cache_clusters paginator does not terminate")
    clusters = [c for page in cluster_pages for c in page]
    cluster_ids = [c["CacheClusterId"] for c in clusters]
    check(all(len(page) <= 20 for page in cluster_pages), "a cache cluster page exceeds 20")
    check(len(cluster_pages) >= 2, f"expected >=2 cache cluster pages, got {len(cluster_pages)}")
    check_eq(len(cluster_ids), len(set(cluster_ids)), "cache clusters seen exactly once")
    missing = sorted(expected_clusters - set(cluster_ids))
    check(not missing, f"cache clusters never seen while paging: {missing}")
    by_id = {c["CacheClusterId"]: c for c in clusters}
    for cid in expected_members:
        cluster = by_id[cid]
        check_eq(cluster["ReplicationGroupId"], MAIN_ID, f"{cid} ReplicationGroupId")
        check_eq(cluster["CacheClusterStatus"], "available", f"{cid} status")
        check_eq(cluster["Engine"], ENGINE, f"{cid} engine")
        nodes = cluster.get("CacheNodes", [])
        check_eq(len(nodes), 1, f"{cid} CacheNodes with ShowCacheNodeInfo")
        check_eq(at(nodes[0]["Endpoint"]), node_ports[cid], f"{cid} CacheNode endpoint")
    single = client.describe_cache_clusters(CacheClusterId=expected_members[1], ShowCacheNodeInfo=True)["CacheClusters"]
    check_eq([c["CacheClusterId"] for c in single], [expected_members[1]], "describe_cache_clusters by id")
    step(f"describe_cache_clusters paginator: {len(cluster_ids)} clusters in {len(cluster_pages)} pages, node endpoints match")

    # --- test_failover --------------------------------------------------------------------------
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    response = client.test_failover(ReplicationGroupId=MAIN_ID, NodeGroupId="0001")
    check_eq(response["ReplicationGroup"]["ReplicationGroupId"], MAIN_ID, "test_failover response id")

    def recovered():
        events = client.describe_events(SourceIdentifier=old_primary, SourceType="cache-cluster", StartTime=since)["Events"]
        return events if any(e["Message"] == "Finished recovery for cache nodes 0001" for e in events) else None

    poll(f"'Finished recovery for cache nodes 0001' on {old_primary}", 60, recovered, interval=0.2)

    ours = set([MAIN_ID] + expected_members)
    events = [
        e
        for page in client.get_paginator("describe_events").paginate(StartTime=since, PaginationConfig={"PageSize": 20})
        for e in page["Events"]
        if e["SourceIdentifier"] in ours
    ]
    check_eq(len(events), 5, f"events since the failover ({[(e['SourceIdentifier'], e['Message']) for e in events]})")
    dates = [e["Date"] for e in events]
    check(dates == sorted(dates, reverse=True), f"events are not newest first: {dates}")
    failover = re.fullmatch(r"Failover from primary node (\S+) to replica node (\S+) completed", events[2]["Message"])
    check(failover, f"unexpected failover message {events[2]['Message']!r}")
    check_eq(failover.group(1), old_primary, "failover 'from' node")
    new_primary = failover.group(2)
    check(new_primary in expected_members and new_primary != old_primary, f"bad new primary {new_primary!r}")
    failover_message = f"Failover from primary node {old_primary} to replica node {new_primary} completed"
    expected_sequence = [  # oldest first
        ("replication-group", MAIN_ID, "Test Failover API called for node group 0001"),
        ("cache-cluster", old_primary, failover_message),
        ("replication-group", MAIN_ID, failover_message),
        ("cache-cluster", old_primary, "Recovering cache nodes 0001"),
        ("cache-cluster", old_primary, "Finished recovery for cache nodes 0001"),
    ]
    actual = [(e["SourceType"], e["SourceIdentifier"], e["Message"]) for e in events]
    check_eq(actual, list(reversed(expected_sequence)), "failover event sequence (newest first)")

    group_events = client.describe_events(SourceIdentifier=MAIN_ID, SourceType="replication-group", Duration=60)["Events"]
    check_eq([e["Message"] for e in group_events][:2], [failover_message, "Test Failover API called for node group 0001"],
             "replication-group events (Duration=60)")
    future = client.describe_events(SourceIdentifier=MAIN_ID, StartTime=datetime.now(timezone.utc) + timedelta(hours=1))
    check_eq(future["Events"], [], "events starting in the future")
    step(f"test_failover: {old_primary} -> {new_primary}; 5 events in order, newest first")

    group = the_group(client, MAIN_ID)
    check_eq(group["Status"], "available", "status after failover")
    roles = {cid: m["CurrentRole"] for cid, m in members_by_id(group).items()}
    check_eq(roles[new_primary], "primary", f"{new_primary} role after failover")
    check_eq(roles[old_primary], "replica", f"{old_primary} role after failover")
    check_eq(sorted(roles.values()), ["primary", "replica", "replica"], "roles after failover")
    endpoint = group["NodeGroups"][0]["PrimaryEndpoint"]
    check_eq(at(endpoint), primary_port, "PrimaryEndpoint stable across failover")
    check_eq({cid: at(m["ReadEndpoint"]) for cid, m in members_by_id(group).items()}, node_ports, "node addresses after failover")

    info = poll("primary endpoint role:master", 15, lambda: (lambda i: i if i.get("role") == "master" else None)(replication_info(primary_port)))
    check_eq(info["role"], "master", "INFO replication via primary endpoint")
    check_eq(replication_info(node_ports[new_primary]).get("role"), "master", f"{new_primary} INFO role")
    for key, value in keys.items():
        check_eq(redis_cli(primary_port, "GET", key), value, f"{key} via primary endpoint after failover")
    check_eq(redis_cli(primary_port, "SET", "boto3:after-failover", RUN), "OK", "write via primary endpoint after failover")
    for cid, port in node_ports.items():
        if cid == new_primary:
            continue
        poll(f"{cid} replicating from {new_primary}", 30, lambda p=port: (lambda i: i.get("role") == "slave"
             and i.get("master_host") == node_ports[new_primary][0] and i.get("master_port") == str(node_ports[new_primary][1])
             and i.get("master_link_status") == "up")(replication_info(p)))
        poll(f"post-failover write on {cid}", 15, lambda p=port: redis_cli(p, "GET", "boto3:after-failover") == RUN)
    step("after failover: roles swapped in describe, PrimaryEndpoint unchanged and role:master, old keys readable, "
         "new writes reach both replicas (old primary included)")

    # --- delete everything ------------------------------------------------------------------------
    for group_id in [MAIN_ID] + PAGE_IDS:
        response = client.delete_replication_group(ReplicationGroupId=group_id)
        check_eq(response["ReplicationGroup"]["Status"], "deleting", f"{group_id} status after delete")
    waiter = client.get_waiter("replication_group_deleted")
    for group_id in [MAIN_ID] + PAGE_IDS:
        waiter.wait(ReplicationGroupId=group_id, WaiterConfig=WAITER_FAST)
        created.remove(group_id)
    expect_error(errors.ReplicationGroupNotFoundFault, "ReplicationGroupNotFoundFault", 404,
                 client.describe_replication_groups, ReplicationGroupId=MAIN_ID)
    expect_error(errors.CacheClusterNotFoundFault, "CacheClusterNotFound", 404,
                 client.describe_cache_clusters, CacheClusterId=old_primary)
    remaining = {g["ReplicationGroupId"] for g in client.describe_replication_groups(MaxRecords=100)["ReplicationGroups"]}
    check(not remaining & set([MAIN_ID] + PAGE_IDS), f"deleted groups still listed: {sorted(remaining & set([MAIN_ID] + PAGE_IDS))}")
    for port in list(node_ports.values()) + [primary_port, reader_port]:
        poll(f"port {port} to close after delete", 15, lambda p=port: port_closed(p))
    step(f"deleted {1 + len(PAGE_IDS)} groups; replication_group_deleted waiter; nodes and proxies closed")


def cleanup(client):
    for group_id in list(created):
        try:
            client.delete_replication_group(ReplicationGroupId=group_id)
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "ReplicationGroupNotFoundFault":
                print(f"cleanup: deleting {group_id}: {error}", file=sys.stderr)
        except Exception as error:  # noqa: BLE001 - cleanup is best effort
            print(f"cleanup: deleting {group_id}: {error}", file=sys.stderr)


def main():
    client = elasticache_client(ENDPOINT)
    return run_flow("boto3 flow", ENDPOINT, lambda: run(client), lambda: cleanup(client))


if __name__ == "__main__":
    sys.exit(main())
