#!/usr/bin/env python3
"""Drives in-transit encryption with the real clients: boto3 creates TLS groups (cluster mode
disabled and enabled, `required` and `preferred`, and a standalone cache cluster; on redis or valkey
nodes, ELASTICACHE_TEST_ENGINE), redis-py
connects with ssl=True against the CA published at /_tls/ca.pem, verifying the certificate and
the endpoint's IP address; a plaintext client fails on a `required` group; a TestFailover over TLS
is survived by reconnecting; ModifyReplicationGroup walks AWS's migration path and refuses the
other transitions with AWS's error codes.

Endpoint from ELASTICACHE_ENDPOINT (http://127.0.0.1:PORT). Every wait is a poll against a
deadline. Exits 0 with a PASS line, or 1 naming the failed step; deletes what it created.
"""

import json
import os
import ssl
import sys
import tempfile
import traceback
import urllib.request
import uuid

import boto3
import botocore.exceptions
from botocore.config import Config

try:
    import redis
    from redis.cluster import RedisCluster
except ImportError:  # valkey-py, redis-py's fork with the same API
    import valkey as redis
    from valkey.cluster import ValkeyCluster as RedisCluster

from flowcheck import CheckFailed, check, check_eq, step
from flowcheck import poll as _poll

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT")
ENGINE = os.environ.get("ELASTICACHE_TEST_ENGINE", "redis")
FAMILY = {"redis": "redis7", "valkey": "valkey8"}[ENGINE]
# A group created without TLS and migrated to it must run a binary built with TLS from the start
# (a migration swaps no binary): on valkey, the version of the TLS build (clients.rs passes it).
# Groups created with TLS name no version: the server picks its TLS build by itself.
PLAINTEXT_VERSION = {"EngineVersion": v} if (v := os.environ.get("ELASTICACHE_TEST_PLAINTEXT_VERSION")) else {}
RUN = uuid.uuid4().hex[:6]
groups = []
clusters = []


def poll(what, timeout, probe, interval=0.1):
    # TLS clients may still be reconnecting after a failover or a migration step.
    return _poll(what, timeout, probe, interval, retry_errors=True)


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as error:
        check_eq(error.response["Error"]["Code"], code, f"{call.__name__}({kwargs}) error code")
        return error.response["Error"]["Message"]
    raise CheckFailed(f"{call.__name__}({kwargs}) succeeded; expected {code}")


def group(client, group_id):
    return client.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]


def wait_available(client, group_id):
    return poll(f"{group_id} available", 90, lambda: (g := group(client, group_id))["Status"] == "available" and g)


def create_group(client, group_id, **kwargs):
    client.create_replication_group(
        ReplicationGroupId=group_id, ReplicationGroupDescription="tls flow", Engine=ENGINE, **kwargs
    )
    groups.append(group_id)
    return wait_available(client, group_id)


def tls_client(endpoint, ca_file, **kwargs):
    """redis-py over TLS, verifying the certificate against the CA and the endpoint's IP."""
    return redis.Redis(
        host=endpoint["Address"],
        port=endpoint["Port"],
        ssl=True,
        ssl_ca_certs=ca_file,
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        ssl_check_hostname=True,
        socket_timeout=5,
        **kwargs,
    )


def plaintext_client(endpoint):
    return redis.Redis(host=endpoint["Address"], port=endpoint["Port"], socket_timeout=5)


def fails(call):
    try:
        call()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return True
    return False


def fetch_ca():
    with urllib.request.urlopen(f"{ENDPOINT}/_tls/ca.pem", timeout=10) as answer:
        check_eq(answer.status, 200, "GET /_tls/ca.pem status")
        pem = answer.read()
    check(pem.startswith(b"-----BEGIN CERTIFICATE-----"), f"a PEM certificate: {pem[:40]!r}")
    handle = tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False)
    handle.write(pem)
    handle.close()
    return handle.name


def required_group(client, ca_file):
    group_id = f"tls-req-{RUN}"
    created = create_group(
        client, group_id, NumCacheClusters=2, AutomaticFailoverEnabled=True, TransitEncryptionEnabled=True
    )
    check_eq(created["TransitEncryptionEnabled"], True, "TransitEncryptionEnabled")
    check_eq(created["TransitEncryptionMode"], "required", "the default TransitEncryptionMode")
    members = client.describe_cache_clusters(CacheClusterId=created["MemberClusters"][0])["CacheClusters"][0]
    check_eq(members["TransitEncryptionEnabled"], True, "a member's TransitEncryptionEnabled")
    check_eq(members["TransitEncryptionMode"], "required", "a member's TransitEncryptionMode")
    primary = created["NodeGroups"][0]["PrimaryEndpoint"]
    client_tls = tls_client(primary, ca_file)
    check_eq(client_tls.set("tls:key", "v1"), True, "SET over TLS")
    check_eq(client_tls.get("tls:key"), b"v1", "GET over TLS")
    check_eq(client_tls.info("server").get("server_name", "redis"), ENGINE, "INFO server: the engine that really runs TLS")
    reader = created["NodeGroups"][0]["ReaderEndpoint"]
    poll("the replica over TLS", 20, lambda: tls_client(reader, ca_file).get("tls:key") == b"v1")
    for member in created["NodeGroups"][0]["NodeGroupMembers"]:
        node = tls_client(member["ReadEndpoint"], ca_file)
        check(node.ping(), f"PING {member['CacheClusterId']} over TLS at its own address")
    step("required: redis-py ssl=True verifies every endpoint's and node's certificate and address")

    with urllib.request.urlopen(f"{ENDPOINT}/_state", timeout=10) as answer:
        state = json.load(answer)
    shown = next(g for g in state["groups"] if g["id"] == group_id)
    check_eq(shown["tls"], "required", "/_state's tls")
    check(all(m["reachable"] for m in shown["members"]), f"the dashboard reaches TLS nodes: {shown['members']}")
    step("/_state says tls: required and reaches the TLS nodes")

    check(fails(lambda: plaintext_client(primary).ping()), "a plaintext client fails on a required group")
    # The system CAs only: the local CA is not among them.
    check(
        fails(lambda: redis.Redis(host=primary["Address"], port=primary["Port"], ssl=True, socket_timeout=5).ping()),
        "a TLS client that does not trust the local CA fails",
    )
    step("required: plaintext and untrusting TLS clients fail")

    old_primary = created["NodeGroups"][0]["NodeGroupMembers"][0]["CacheClusterId"]
    client.test_failover(ReplicationGroupId=group_id, NodeGroupId="0001")
    after = poll(
        "a new primary",
        60,
        lambda: (g := group(client, group_id))["Status"] == "available"
        and any(m["CurrentRole"] == "primary" and m["CacheClusterId"] != old_primary for m in g["NodeGroups"][0]["NodeGroupMembers"])
        and g,
    )
    # The same client as before: its connection to the old primary was closed; it reconnects.
    poll("data over TLS after the failover", 30, lambda: client_tls.get("tls:key") == b"v1")
    check_eq(client_tls.info("replication")["role"], "master", "the primary endpoint's role after failover")
    check_eq(client_tls.set("tls:after", "v2"), True, "a write over TLS after the failover")
    check_eq(after["TransitEncryptionMode"], "required", "the mode after failover")
    step("required: TestFailover over TLS, the client reconnects and reads its data back")
    snapshot_of_required(client, ca_file, group_id)


def snapshot_of_required(client, ca_file, group_id):
    """A `required` node has no plaintext port: the snapshot is taken over TLS, and restores."""
    name = f"tls-snap-{RUN}"

    def snapshot_accepted():
        try:
            return client.create_snapshot(ReplicationGroupId=group_id, SnapshotName=name)
        except client.exceptions.InvalidReplicationGroupStateFault:
            return None  # the failover before still recovers the old primary
    poll("CreateSnapshot accepted once the failover has finished", 60, snapshot_accepted)
    try:
        poll(f"snapshot {name} available", 60, lambda: client.describe_snapshots(SnapshotName=name)
             ["Snapshots"][0]["SnapshotStatus"] in ("available", "failed"))
        status = client.describe_snapshots(SnapshotName=name)["Snapshots"][0]["SnapshotStatus"]
        check_eq(status, "available", "the snapshot of a required group")
        restored = create_group(client, f"tls-rst-{RUN}", NumCacheClusters=1, TransitEncryptionEnabled=True,
                                SnapshotName=name)
        primary = restored["NodeGroups"][0]["PrimaryEndpoint"]
        check_eq(tls_client(primary, ca_file).get("tls:after"), b"v2", "the restored key over TLS")
    finally:
        try:
            client.delete_snapshot(SnapshotName=name)
        except botocore.exceptions.ClientError:
            pass
    step("required: CreateSnapshot over TLS, restored into a new TLS group")


def preferred_group(client, ca_file):
    group_id = f"tls-pref-{RUN}"
    created = create_group(
        client, group_id, NumCacheClusters=2, TransitEncryptionEnabled=True, TransitEncryptionMode="preferred"
    )
    check_eq(created["TransitEncryptionMode"], "preferred", "TransitEncryptionMode")
    primary = created["NodeGroups"][0]["PrimaryEndpoint"]
    plaintext_client(primary).set("both", "plain")
    check_eq(tls_client(primary, ca_file).get("both"), b"plain", "TLS reads what plaintext wrote")
    tls_client(primary, ca_file).set("both", "tls")
    check_eq(plaintext_client(primary).get("both"), b"tls", "plaintext reads what TLS wrote")
    node = created["NodeGroups"][0]["NodeGroupMembers"][1]["ReadEndpoint"]
    poll("the replica by both", 20, lambda: plaintext_client(node).get("both") == b"tls" and tls_client(node, ca_file).get("both") == b"tls")
    step("preferred: TLS and plaintext on the same port, endpoints and nodes")


def cluster_mode(client, ca_file):
    group_id = f"tls-cl-{RUN}"
    created = create_group(
        client,
        group_id,
        NumNodeGroups=2,
        ReplicasPerNodeGroup=1,
        CacheParameterGroupName=f"default.{FAMILY}.cluster.on",
        TransitEncryptionEnabled=True,
    )
    check_eq(created["TransitEncryptionMode"], "required", "cluster mode's TransitEncryptionMode")
    configuration = created["ConfigurationEndpoint"]
    cluster = RedisCluster(
        host=configuration["Address"],
        port=configuration["Port"],
        ssl=True,
        ssl_ca_certs=ca_file,
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        ssl_check_hostname=True,
    )
    for i in range(50):
        cluster.set(f"k{i}", i)
    check_eq([cluster.get(f"k{i}") for i in (0, 17, 49)], [b"0", b"17", b"49"], "cluster GETs over TLS")
    check_eq(len(cluster.get_primaries()), 2, "two shards' primaries reached over TLS")
    cluster.close()
    check(fails(lambda: plaintext_client(configuration).ping()), "a plaintext client fails on the configuration endpoint")
    # The migration's step rules hold in cluster mode too (tls_cluster_flow.py walks the steps).
    expect_error(
        "InvalidParameterCombination",
        client.modify_replication_group,
        ReplicationGroupId=group_id,
        TransitEncryptionEnabled=False,
        ApplyImmediately=True,
    )
    step("cluster mode: RedisCluster ssl=True over every shard; plaintext fails; off straight from required is refused")


def modify(client, group_id, **kwargs):
    client.modify_replication_group(ReplicationGroupId=group_id, ApplyImmediately=True, **kwargs)
    return poll(f"{group_id} modified", 60, lambda: (g := group(client, group_id))["Status"] == "available" and g)


def migration(client, ca_file):
    group_id = f"tls-mig-{RUN}"
    created = create_group(client, group_id, NumCacheClusters=2, **PLAINTEXT_VERSION)
    check_eq(created["TransitEncryptionEnabled"], False, "a plaintext group")
    check("TransitEncryptionMode" not in created, "no mode without TLS")
    primary = created["NodeGroups"][0]["PrimaryEndpoint"]
    plaintext_client(primary).set("kept", "yes")
    connected_while_off = plaintext_client(primary)
    check(connected_while_off.ping(), "a plaintext client connected while off")

    for refused in [
        dict(TransitEncryptionEnabled=True),
        dict(TransitEncryptionEnabled=True, TransitEncryptionMode="required"),
        dict(TransitEncryptionMode="preferred"),
        dict(TransitEncryptionEnabled=False, TransitEncryptionMode="preferred"),
    ]:
        expect_error("InvalidParameterCombination", client.modify_replication_group, ReplicationGroupId=group_id, ApplyImmediately=True, **refused)
    expect_error("InvalidParameterValue", client.modify_replication_group, ReplicationGroupId=group_id, ApplyImmediately=True, TransitEncryptionEnabled=True, TransitEncryptionMode="sometimes")
    step("modify: enabling other than with preferred is refused (InvalidParameterCombination)")

    preferred = modify(client, group_id, TransitEncryptionEnabled=True, TransitEncryptionMode="preferred")
    check_eq((preferred["TransitEncryptionEnabled"], preferred["TransitEncryptionMode"]), (True, "preferred"), "after step 1")
    check_eq(plaintext_client(primary).get("kept"), b"yes", "plaintext still served, data kept")
    check_eq(tls_client(primary, ca_file).get("kept"), b"yes", "TLS served")
    required = modify(client, group_id, TransitEncryptionMode="required")
    check_eq(required["TransitEncryptionMode"], "required", "after step 2")
    check(fails(lambda: plaintext_client(primary).ping()), "plaintext refused once required")
    check(fails(lambda: connected_while_off.get("kept")), "the plaintext connection made while off is closed once required")
    check_eq(tls_client(primary, ca_file).get("kept"), b"yes", "data kept over TLS")
    reader = required["NodeGroups"][0]["ReaderEndpoint"]
    poll("the replica in sync over TLS", 20, lambda: tls_client(reader, ca_file).get("kept") == b"yes")
    step("modify: off -> preferred -> required, nodes reconfigured, data kept")

    expect_error("InvalidParameterCombination", client.modify_replication_group, ReplicationGroupId=group_id, ApplyImmediately=True, TransitEncryptionEnabled=False)
    back = modify(client, group_id, TransitEncryptionMode="preferred")
    check_eq(back["TransitEncryptionMode"], "preferred", "back to preferred")
    check_eq(plaintext_client(primary).get("kept"), b"yes", "plaintext accepted again")
    off = modify(client, group_id, TransitEncryptionEnabled=False)
    check_eq(off["TransitEncryptionEnabled"], False, "TLS off")
    check("TransitEncryptionMode" not in off, "no mode once off")
    check_eq(plaintext_client(primary).get("kept"), b"yes", "plaintext, data kept")
    check(fails(lambda: tls_client(primary, ca_file).ping()), "TLS no longer spoken")
    step("modify: required -> preferred -> off; disabling straight from required is refused")


def auth_token_over_tls(client, ca_file):
    """Issue 16 item 2: ROTATE, SET and DELETE keep working on a `required` group, over TLS."""
    token_a, token_b = "tls-token-a-0123456789", "tls-token-b-9876543210"
    group_id = f"tls-auth-{RUN}"
    created = create_group(
        client, group_id, NumCacheClusters=2, AutomaticFailoverEnabled=True,
        TransitEncryptionEnabled=True, AuthToken=token_a,
    )
    check_eq(created["AuthTokenEnabled"], True, "the token is on")
    primary = created["NodeGroups"][0]["PrimaryEndpoint"]

    def accepts(password):
        try:
            return tls_client(primary, ca_file, password=password).ping()
        except redis.exceptions.AuthenticationError:
            return False

    check(accepts(token_a) and not accepts(token_b), "only token A before the rotation")
    check(not accepts(None), "no token: refused over TLS")
    modify(client, group_id, AuthToken=token_b, AuthTokenUpdateStrategy="ROTATE")
    check(accepts(token_a) and accepts(token_b), "both tokens during the rotation, over TLS")
    modify(client, group_id, AuthToken=token_b, AuthTokenUpdateStrategy="SET")
    check(accepts(token_b) and not accepts(token_a), "only token B after SET, over TLS")
    modify(client, group_id, AuthTokenUpdateStrategy="DELETE")
    check(accepts(None), "no token needed after DELETE, still over TLS")
    check(fails(lambda: plaintext_client(primary).ping()), "still no plaintext on a required group")


def create_errors(client):
    expect_error(
        "InvalidParameterCombination",
        client.create_replication_group,
        ReplicationGroupId=f"tls-bad-{RUN}",
        ReplicationGroupDescription="x",
        TransitEncryptionMode="preferred",
    )
    expect_error(
        "InvalidParameterValue",
        client.create_replication_group,
        ReplicationGroupId=f"tls-bad-{RUN}",
        ReplicationGroupDescription="x",
        TransitEncryptionEnabled=True,
        TransitEncryptionMode="optional",
    )
    step("create: TransitEncryptionMode without TLS or outside the enum is refused")


def standalone(client, ca_file):
    cluster_id = f"tls-cc-{RUN}"
    client.create_cache_cluster(CacheClusterId=cluster_id, Engine=ENGINE, NumCacheNodes=1, TransitEncryptionEnabled=True)
    clusters.append(cluster_id)
    client.get_waiter("cache_cluster_available").wait(CacheClusterId=cluster_id, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    cluster = client.describe_cache_clusters(CacheClusterId=cluster_id, ShowCacheNodeInfo=True)["CacheClusters"][0]
    check_eq((cluster["TransitEncryptionEnabled"], cluster["TransitEncryptionMode"]), (True, "required"), "a standalone cluster's TLS")
    endpoint = cluster["CacheNodes"][0]["Endpoint"]
    check_eq(tls_client(endpoint, ca_file).ping(), True, "PING over TLS to a standalone node")
    check(fails(lambda: plaintext_client(endpoint).ping()), "plaintext fails on a standalone TLS node")
    check_eq(tls_client(endpoint, ca_file).info("server").get("server_name", "redis"), ENGINE, "the standalone node's engine")
    step(f"CreateCacheCluster {ENGINE} with TransitEncryptionEnabled: the node speaks TLS only")


def cleanup(client):
    for group_id in groups:
        try:
            client.delete_replication_group(ReplicationGroupId=group_id)
        except botocore.exceptions.ClientError:
            pass
    for cluster_id in clusters:
        try:
            client.delete_cache_cluster(CacheClusterId=cluster_id)
        except botocore.exceptions.ClientError:
            pass
    for group_id in groups:
        poll(f"{group_id} deleted", 60, lambda: not client.describe_replication_groups()["ReplicationGroups"] or all(g["ReplicationGroupId"] != group_id for g in client.describe_replication_groups()["ReplicationGroups"]))


def main():
    if not ENDPOINT:
        print("set ELASTICACHE_ENDPOINT", file=sys.stderr)
        return 2
    client = boto3.client(
        "elasticache", endpoint_url=ENDPOINT, region_name="us-east-1", config=Config(retries={"max_attempts": 1})
    )
    ca_file = fetch_ca()
    try:
        create_errors(client)
        required_group(client, ca_file)
        preferred_group(client, ca_file)
        cluster_mode(client, ca_file)
        migration(client, ca_file)
        auth_token_over_tls(client, ca_file)
        standalone(client, ca_file)
    except Exception:
        traceback.print_exc()
        print("FAIL tls flow", flush=True)
        cleanup(client)
        return 1
    cleanup(client)
    os.unlink(ca_file)
    print("PASS tls flow", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
