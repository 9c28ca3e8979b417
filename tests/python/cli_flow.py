#!/usr/bin/env python3
"""Drives elasticache-local with the real `aws` CLI (v1) through a full lifecycle.

Endpoint from ELASTICACHE_ENDPOINT (http://127.0.0.1:PORT); credentials from the usual
AWS_* environment variables; redis nodes, or valkey with ELASTICACHE_TEST_ENGINE=valkey. The nodes are checked with `redis-cli`. Every wait is a poll against
a deadline; there are no fixed sleeps.

The CLI waiters poll every 15 s (the first poll is immediate), so the script first polls
`describe-replication-groups` itself until the state is reached, then runs the waiter, which
must return on its first poll.

Exits 0 and prints a short summary on success, exits 1 with a clear message on any failure,
and deletes every replication group it created either way.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

from flowcheck import CheckFailed, check, check_eq, poll, step, steps

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT")
ENGINE = os.environ.get("ELASTICACHE_TEST_ENGINE", "redis")
RUN = uuid.uuid4().hex[:6]
MAIN_ID = f"cli-main-{RUN}"
AUTH_ID = f"cli-auth-{RUN}"
AUTH_TOKEN = f"cli-token-{RUN}-0123456789"  # 16-128 printable characters

created = []


def aws_raw(*args, timeout=120):
    """Runs `aws elasticache ARGS --endpoint-url ... --output json`; returns (rc, stdout, stderr)."""
    command = ["aws", "elasticache", *args, "--endpoint-url", ENDPOINT, "--output", "json"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"`{' '.join(command)}` did not finish within {timeout}s")
    return done.returncode, done.stdout, done.stderr


def aws(*args, timeout=120):
    """Runs an aws elasticache command that must succeed; returns the parsed JSON (or None)."""
    rc, out, err = aws_raw(*args, timeout=timeout)
    check(rc == 0, f"`aws elasticache {' '.join(args)}` exited {rc}:\n{err.strip()}")
    return json.loads(out) if out.strip() else None


def aws_error(code, operation, *args):
    """Runs a command that must fail with exit code 255 and `An error occurred (CODE)`."""
    rc, out, err = aws_raw(*args)
    check_eq(rc, 255, f"exit code of `aws elasticache {' '.join(args)}` (stderr: {err.strip()!r})")
    expected = f"An error occurred ({code}) when calling the {operation} operation"
    check(expected in err, f"`aws elasticache {' '.join(args)}` stderr lacks {expected!r}: {err.strip()!r}")
    check_eq(out.strip(), "", "stdout of a failed command")
    return err


def at(endpoint):
    """An endpoint's (address, port): every node and endpoint has its own loopback address."""
    return (endpoint["Address"], endpoint["Port"])


def redis_cli(address, *args, password=None):
    host, port = address
    command = ["redis-cli", "-h", host, "-p", str(port)]
    if password is not None:
        command += ["-a", password, "--no-auth-warning"]
    try:
        done = subprocess.run(command + list(args), capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "<redis-cli timed out>"
    return (done.stdout + done.stderr).strip()


def replication_info(port, password=None):
    fields = {}
    for line in redis_cli(port, "INFO", "replication", password=password).splitlines():
        if ":" in line:
            key, value = line.strip().split(":", 1)
            fields[key] = value
    return fields


def port_closed(port):
    try:
        with socket.create_connection(port, timeout=1):
            return False
    except OSError:
        return True


def describe(group_id):
    groups = aws("describe-replication-groups", "--replication-group-id", group_id)["ReplicationGroups"]
    check_eq(len(groups), 1, f"groups described for {group_id}")
    return groups[0]


def wait_available(group_id):
    poll(f"{group_id} available", 30, lambda: describe(group_id)["Status"] == "available", interval=0.2)
    started = time.monotonic()
    aws("wait", "replication-group-available", "--replication-group-id", group_id, timeout=60)
    took = time.monotonic() - started
    check(took < 10, f"`wait replication-group-available` took {took:.1f}s on an available group")


def wait_deleted(group_id):
    def gone():
        rc, _out, err = aws_raw("describe-replication-groups", "--replication-group-id", group_id)
        if rc == 0:
            return False
        check("(ReplicationGroupNotFoundFault)" in err, f"unexpected describe error while deleting: {err.strip()!r}")
        return True

    poll(f"{group_id} deleted", 30, gone, interval=0.2)
    started = time.monotonic()
    aws("wait", "replication-group-deleted", "--replication-group-id", group_id, timeout=60)
    took = time.monotonic() - started
    check(took < 10, f"`wait replication-group-deleted` took {took:.1f}s on a deleted group")


def run():
    # --- create a 3-node group with automatic failover ------------------------------------------
    created.append(MAIN_ID)
    group = aws(
        "create-replication-group",
        "--replication-group-id", MAIN_ID,
        "--replication-group-description", "cli flow main group",
        "--num-cache-clusters", "3",
        "--automatic-failover-enabled",
        "--cache-node-type", "cache.t3.micro",
        "--engine", ENGINE,
        "--tags", "Key=suite,Value=cli",
    )["ReplicationGroup"]
    check_eq(group["ReplicationGroupId"], MAIN_ID, "created id")
    check_eq(group["Status"], "creating", "status right after create")
    members = [f"{MAIN_ID}-001", f"{MAIN_ID}-002", f"{MAIN_ID}-003"]
    check_eq(group["MemberClusters"], members, "MemberClusters")
    wait_available(MAIN_ID)
    step(f"create-replication-group {MAIN_ID} (creating), then available; `wait replication-group-available` returns")

    group = describe(MAIN_ID)
    check_eq(group["AutomaticFailover"], "enabled", "AutomaticFailover")
    check_eq(group["AuthTokenEnabled"], False, "AuthTokenEnabled")
    node_group = group["NodeGroups"][0]
    check_eq(node_group["NodeGroupId"], "0001", "NodeGroupId")
    primary_port = at(node_group["PrimaryEndpoint"])
    reader_port = at(node_group["ReaderEndpoint"])
    check_eq(primary_port[1], 6379, "PrimaryEndpoint port (each endpoint has its own address)")
    check(primary_port[0] != reader_port[0], "primary and reader endpoints share an address")
    node_ports = {m["CacheClusterId"]: at(m["ReadEndpoint"]) for m in node_group["NodeGroupMembers"]}
    roles = {m["CacheClusterId"]: m["CurrentRole"] for m in node_group["NodeGroupMembers"]}
    check_eq(sorted(node_ports), members, "NodeGroupMembers")
    check_eq(roles, {members[0]: "primary", members[1]: "replica", members[2]: "replica"}, "roles")
    old_primary = members[0]
    text = subprocess.run(
        ["aws", "elasticache", "describe-replication-groups", "--replication-group-id", MAIN_ID,
         "--endpoint-url", ENDPOINT, "--query", "ReplicationGroups[0].NodeGroups[0].PrimaryEndpoint.Port",
         "--output", "text"],
        capture_output=True, text=True, timeout=60,
    ).stdout.strip()
    check_eq(text, str(primary_port[1]), "--query ... --output text primary port")
    step(f"describe-replication-groups: 3 members, {old_primary} primary, PrimaryEndpoint :{primary_port}")

    # --- data through the primary endpoint --------------------------------------------------------
    check_eq(redis_cli(primary_port, "PING"), "PONG", "PING via primary endpoint")
    server = redis_cli(primary_port, "INFO", "server")
    check(("server_name:valkey" in server) == (ENGINE == "valkey"), f"{ENGINE} nodes: INFO server {server[:200]!r}")
    keys = {f"cli:key:{i}": f"cli-{RUN}-{i}" for i in range(5)}
    for key, value in keys.items():
        check_eq(redis_cli(primary_port, "SET", key, value), "OK", f"SET {key}")
    for cid, port in node_ports.items():
        for key, value in keys.items():
            poll(f"{key} on {cid}", 15, lambda p=port, k=key, v=value: redis_cli(p, "GET", k) == v)
    poll("GET via reader endpoint", 15, lambda: redis_cli(reader_port, "GET", "cli:key:0") == keys["cli:key:0"])
    step("redis-cli: keys set via PrimaryEndpoint are readable on every node and the ReaderEndpoint")

    # --- error cases: exit code 255 and the error code on stderr ----------------------------------
    aws_error("ReplicationGroupNotFoundFault", "DescribeReplicationGroups",
              "describe-replication-groups", "--replication-group-id", f"cli-missing-{RUN}")
    aws_error("ReplicationGroupAlreadyExists", "CreateReplicationGroup",
              "create-replication-group", "--replication-group-id", MAIN_ID,
              "--replication-group-description", "dup", "--num-cache-clusters", "1")
    aws_error("InvalidParameterCombination", "CreateReplicationGroup",
              "create-replication-group", "--replication-group-id", f"cli-af1-{RUN}",
              "--replication-group-description", "af with one node", "--num-cache-clusters", "1",
              "--automatic-failover-enabled")
    aws_error("CacheClusterNotFound", "DescribeCacheClusters",
              "describe-cache-clusters", "--cache-cluster-id", f"cli-missing-{RUN}-001")
    aws_error("InvalidParameterValue", "TestFailover",
              "test-failover", "--replication-group-id", MAIN_ID, "--node-group-id", "not-a-number")
    aws_error("NodeGroupNotFoundFault", "TestFailover",
              "test-failover", "--replication-group-id", MAIN_ID, "--node-group-id", "0002")
    aws_error("ReplicationGroupNotFoundFault", "TestFailover",
              "test-failover", "--replication-group-id", f"cli-missing-{RUN}", "--node-group-id", "0001")
    aws_error("InvalidParameterValue", "CreateReplicationGroup",
              "create-replication-group", "--replication-group-id", f"cli-short-{RUN}",
              "--replication-group-description", "short token", "--num-cache-clusters", "1",
              "--auth-token", "short")
    step("error cases exit 255 with the error code on stderr (NotFound, AlreadyExists, "
         "InvalidParameterCombination, CacheClusterNotFound, InvalidParameterValue, NodeGroupNotFoundFault)")

    # --- AuthToken ----------------------------------------------------------------------------------
    created.append(AUTH_ID)
    group = aws(
        "create-replication-group",
        "--replication-group-id", AUTH_ID,
        "--replication-group-description", "cli flow auth group",
        "--num-cache-clusters", "2",
        "--engine", ENGINE,
        "--auth-token", AUTH_TOKEN, "--transit-encryption-enabled",
        "--transit-encryption-mode", "preferred",  # redis-cli below speaks plaintext
    )["ReplicationGroup"]
    check_eq(group["AuthTokenEnabled"], True, "AuthTokenEnabled in the create response")
    check(AUTH_TOKEN not in json.dumps(group), "the create response echoes the auth token")
    wait_available(AUTH_ID)
    group = describe(AUTH_ID)
    check_eq(group["AuthTokenEnabled"], True, "AuthTokenEnabled in describe")
    check(AUTH_TOKEN not in json.dumps(group), "describe leaks the auth token")
    auth_primary = at(group["NodeGroups"][0]["PrimaryEndpoint"])
    auth_nodes = [at(m["ReadEndpoint"]) for m in group["NodeGroups"][0]["NodeGroupMembers"]]
    for port in [auth_primary] + auth_nodes:
        reply = redis_cli(port, "PING")
        check(reply.startswith("NOAUTH"), f"PING without auth on :{port}: expected NOAUTH, got {reply!r}")
        check_eq(redis_cli(port, "PING", password=AUTH_TOKEN), "PONG", f"PING with -a TOKEN on :{port}")
        reply = redis_cli(port, "PING", password="wrong-token-0123456789")
        check("WRONGPASS" in reply or "NOAUTH" in reply, f"PING with a wrong token on :{port}: {reply!r}")
    check_eq(redis_cli(auth_primary, "SET", "cli:auth", RUN, password=AUTH_TOKEN), "OK", "SET with auth")
    poll("auth replica to replicate", 15,
         lambda: redis_cli(auth_nodes[1], "GET", "cli:auth", password=AUTH_TOKEN) == RUN)
    step(f"--auth-token: {AUTH_ID} refuses redis-cli without auth (NOAUTH), accepts -a TOKEN, replicates with auth")

    # --- CLI pagination over describe-cache-clusters -----------------------------------------------
    page = aws("describe-cache-clusters", "--page-size", "20", "--max-items", "2")
    check_eq(len(page["CacheClusters"]), 2, "--max-items 2 cache clusters")
    check(page.get("NextToken"), "--max-items 2 over 5 clusters gave no NextToken")
    rest = aws("describe-cache-clusters", "--page-size", "20", "--starting-token", page["NextToken"])
    ids = [c["CacheClusterId"] for c in page["CacheClusters"] + rest["CacheClusters"]]
    check_eq(len(ids), len(set(ids)), "cache clusters seen once across --starting-token")
    check(set(members + [f"{AUTH_ID}-001", f"{AUTH_ID}-002"]) <= set(ids), f"missing clusters in {ids}")
    step(f"describe-cache-clusters --max-items/--starting-token: {len(ids)} clusters, each once")

    # --- test-failover -------------------------------------------------------------------------------
    since = (datetime.now(timezone.utc) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    group = aws("test-failover", "--replication-group-id", MAIN_ID, "--node-group-id", "0001")["ReplicationGroup"]
    check_eq(group["ReplicationGroupId"], MAIN_ID, "test-failover response id")

    def recovered():
        events = aws("describe-events", "--source-identifier", old_primary, "--source-type", "cache-cluster",
                     "--start-time", since)["Events"]
        return any(e["Message"] == "Finished recovery for cache nodes 0001" for e in events)

    poll(f"'Finished recovery for cache nodes 0001' on {old_primary}", 60, recovered, interval=0.2)

    events = aws("describe-events", "--start-time", since, "--page-size", "20")["Events"]
    events = [e for e in events if e["SourceIdentifier"] in set([MAIN_ID] + members)]
    messages = [(e["SourceIdentifier"], e["Message"]) for e in events]
    check_eq(len(events), 5, f"failover events ({messages})")
    match = re.fullmatch(r"Failover from primary node (\S+) to replica node (\S+) completed", events[2]["Message"])
    check(match and match.group(1) == old_primary, f"unexpected failover message {events[2]['Message']!r}")
    new_primary = match.group(2)
    check(new_primary in members[1:], f"bad new primary {new_primary!r}")
    failover_message = f"Failover from primary node {old_primary} to replica node {new_primary} completed"
    check_eq(messages, [
        (old_primary, "Finished recovery for cache nodes 0001"),
        (old_primary, "Recovering cache nodes 0001"),
        (MAIN_ID, failover_message),
        (old_primary, failover_message),
        (MAIN_ID, "Test Failover API called for node group 0001"),
    ], "failover events, newest first")
    step(f"test-failover: {old_primary} -> {new_primary}; describe-events shows the 5 events newest first")

    group = describe(MAIN_ID)
    roles = {m["CacheClusterId"]: m["CurrentRole"] for m in group["NodeGroups"][0]["NodeGroupMembers"]}
    check_eq(roles[new_primary], "primary", f"{new_primary} role")
    check_eq(roles[old_primary], "replica", f"{old_primary} role")
    check_eq(at(group["NodeGroups"][0]["PrimaryEndpoint"]), primary_port, "PrimaryEndpoint after failover")
    poll("primary endpoint role:master", 15, lambda: replication_info(primary_port).get("role") == "master")
    for key, value in keys.items():
        check_eq(redis_cli(primary_port, "GET", key), value, f"{key} via primary endpoint after failover")
    check_eq(redis_cli(primary_port, "SET", "cli:after", RUN), "OK", "write via primary endpoint after failover")
    poll("post-failover write on the old primary", 30,
         lambda: redis_cli(node_ports[old_primary], "GET", "cli:after") == RUN)
    step("after failover: roles swapped, same PrimaryEndpoint answers role:master, keys intact, old primary replicates")

    # --- delete --------------------------------------------------------------------------------------
    for group_id in (MAIN_ID, AUTH_ID):
        group = aws("delete-replication-group", "--replication-group-id", group_id)["ReplicationGroup"]
        check_eq(group["Status"], "deleting", f"{group_id} status after delete")
    for group_id in (MAIN_ID, AUTH_ID):
        wait_deleted(group_id)
        created.remove(group_id)
    aws_error("ReplicationGroupNotFoundFault", "DescribeReplicationGroups",
              "describe-replication-groups", "--replication-group-id", MAIN_ID)
    for port in list(node_ports.values()) + [primary_port, reader_port, auth_primary] + auth_nodes:
        poll(f"port {port} to close", 15, lambda p=port: port_closed(p))
    step("delete-replication-group (deleting), NotFound afterwards, `wait replication-group-deleted`, ports closed")


def cleanup():
    for group_id in list(created):
        try:
            aws_raw("delete-replication-group", "--replication-group-id", group_id, timeout=60)
        except Exception as error:  # noqa: BLE001 - cleanup is best effort
            print(f"cleanup: deleting {group_id}: {error}", file=sys.stderr)


def main():
    if not ENDPOINT:
        print("FAIL: set ELASTICACHE_ENDPOINT=http://127.0.0.1:PORT", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        run()
    except Exception as error:  # noqa: BLE001 - report any failure clearly
        if not isinstance(error, CheckFailed):
            import traceback

            traceback.print_exc()
        print(f"FAIL (aws cli flow, after {len(steps)} passed steps): {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        cleanup()
    print(f"PASS aws cli flow against {ENDPOINT}: {len(steps)} steps in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
