#!/usr/bin/env python3
"""The in-transit encryption migration on a cluster-mode-enabled group (2 shards, 1 replica
each), with boto3 and redis-py's RedisCluster: off -> preferred -> required and back, as AWS
documents it. A plaintext RedisCluster client writes first, keeps writing without pause through
the first step and is cut off once `required`; a TLS one (verifying against the CA at
/_tls/ca.pem and each node's IP) reads the same data and keeps writing through the second step;
a new plaintext client fails once `required`; a MOVED names an address served over TLS; every
node's cluster bus answers a verified TLS handshake while TLS is on (and no more once off); the
replicas stay linked; a TestFailover in `required` and one in `preferred` are survived; off is
refused while an AuthToken is set; the status, PendingModifiedValues and events of each step
are checked.

Endpoint from ELASTICACHE_ENDPOINT (http://127.0.0.1:PORT). Every wait is a poll against a
deadline. Exits 0 with a PASS line, or 1 naming the failed step; deletes what it created.
"""

import os
import socket
import ssl
import sys
import tempfile
import threading
import traceback
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

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
# A group created without TLS and migrated must run a binary built with TLS from the start: on
# valkey, the version of the TLS build (clients.rs passes it).
PLAINTEXT_VERSION = {"EngineVersion": v} if (v := os.environ.get("ELASTICACHE_TEST_PLAINTEXT_VERSION")) else {}
GROUP_ID = f"tls-clmig-{uuid.uuid4().hex[:6]}"
KEYS = {f"key:{i}": str(i).encode() for i in range(40)}


def poll(what, timeout, probe, interval=0.1):
    return _poll(what, timeout, probe, interval, retry_errors=True)


def group(client):
    return client.describe_replication_groups(ReplicationGroupId=GROUP_ID)["ReplicationGroups"][0]


def fetch_ca():
    with urllib.request.urlopen(f"{ENDPOINT}/_tls/ca.pem", timeout=10) as answer:
        pem = answer.read()
    check(pem.startswith(b"-----BEGIN CERTIFICATE-----"), f"a PEM certificate: {pem[:40]!r}")
    handle = tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False)
    handle.write(pem)
    handle.close()
    return handle.name


def cluster_client(configuration, ca_file=None):
    tls = {}
    if ca_file:
        tls = dict(ssl=True, ssl_ca_certs=ca_file, ssl_cert_reqs=ssl.CERT_REQUIRED, ssl_check_hostname=True)
    return RedisCluster(host=configuration["Address"], port=configuration["Port"], socket_timeout=5, **tls)


def plaintext_fails(address, port):
    try:
        redis.Redis(host=address, port=port, socket_timeout=3).ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return True
    return False


def data_intact(cluster):
    return all(cluster.get(key) == value for key, value in KEYS.items())


def buses(cluster, ca_file=None):
    """Every node's IP and cluster bus port, from a raw CLUSTER NODES (`ip:port@cport,host`)."""
    node = cluster.get_primaries()[0]
    kind = redis.SSLConnection if ca_file else redis.Connection
    tls = dict(ssl_ca_certs=ca_file, ssl_cert_reqs="required") if ca_file else {}
    connection = kind(host=node.host, port=node.port, socket_timeout=5, **tls)
    try:
        connection.send_command("CLUSTER", "NODES")
        text = connection.read_response().decode()
    finally:
        connection.disconnect()
    found = []
    for line in text.splitlines():
        host_port, bus = line.split()[1].split(",")[0].split("@")
        found.append((host_port.rsplit(":", 1)[0], int(bus)))
    check_eq(len(found), 4, f"CLUSTER NODES lists every node: {text}")
    return found


def replicas_in_sync(cluster):
    """Each replica's replication link is up and it holds as many keys as its primary."""
    replicas = cluster.get_replicas()
    check_eq(len(replicas), 2, "one replica per shard")
    for replica in replicas:
        info = replica.redis_connection.info("replication")
        if info.get("master_link_status") != "up":
            return False
        primary = cluster.get_node(host=info["master_host"], port=info["master_port"])
        if primary is None or primary.redis_connection.dbsize() != replica.redis_connection.dbsize():
            return False
    return True


def moved_is_followable_over_tls(cluster, ca_file):
    """A key asked of the wrong shard's primary over TLS: its MOVED names an address where a
    TLS client verifying the certificate (and the IP) reads the key."""
    primaries = cluster.get_primaries()
    key = next(k for k in KEYS if cluster.get_node_from_key(k).name != primaries[0].name)
    node = redis.Redis(host=primaries[0].host, port=primaries[0].port, ssl=True, ssl_ca_certs=ca_file, ssl_check_hostname=True, socket_timeout=5)
    try:
        node.get(key)
        raise CheckFailed(f"{key} answered by a primary of the other shard")
    except redis.exceptions.MovedError as error:  # redis-py parses `MOVED <slot> <ip:port>`
        host, port = error.host, error.port
    owner = redis.Redis(host=host, port=int(port), ssl=True, ssl_ca_certs=ca_file, ssl_check_hostname=True, socket_timeout=5)
    check_eq(owner.get(key), KEYS[key], f"{key} read over TLS at the MOVED address {host}:{port}")
    return f"{host}:{port}"


def bus_speaks_tls(ip, bus_port, ca_file):
    """A verified TLS handshake with the node's cluster bus (its certificate names its IP)."""
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with socket.create_connection((ip, bus_port), timeout=3) as raw:
            with context.wrap_socket(raw, server_hostname=ip):
                return True
    except (ssl.SSLError, OSError):
        return False


class Traffic:
    """A client writing `live:<n>` keys without pause on its own thread while a step runs: the
    group stays usable. Errors while connections are closed and remade are counted, not fatal
    (a client retries, as on AWS); every acknowledged write must be readable afterwards."""

    def __init__(self, make_client):
        self.make_client = make_client
        self.acknowledged, self.errors = [], 0
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        cluster, n = self.make_client(), 0
        while self.running:
            try:
                cluster.set(f"live:{n}", n)
                self.acknowledged.append(n)
            except Exception:  # counted: the step may close this client's connections
                self.errors += 1
            n += 1
        cluster.close()

    def stop(self, reader):
        self.running = False
        self.thread.join(30)
        check(len(self.acknowledged) > 0, "the client wrote during the step")
        lost = [n for n in self.acknowledged if reader.get(f"live:{n}") != str(n).encode()]
        check_eq(lost, [], "acknowledged writes lost during the step")
        for n in self.acknowledged:
            reader.delete(f"live:{n}")
        return f"{len(self.acknowledged)} writes acknowledged, {self.errors} retried errors"


def modify(client, expected_pending, **kwargs):
    answer = client.modify_replication_group(ReplicationGroupId=GROUP_ID, ApplyImmediately=True, **kwargs)
    shown = answer["ReplicationGroup"]
    check_eq(shown["Status"], "modifying", f"the status right after {kwargs}")
    pending = shown.get("PendingModifiedValues", {})
    check_eq(
        (pending.get("TransitEncryptionEnabled"), pending.get("TransitEncryptionMode")),
        expected_pending,
        f"PendingModifiedValues after {kwargs}",
    )
    return poll(f"{GROUP_ID} available", 90, lambda: (g := group(client))["Status"] == "available" and g)


def expect_refused(client, **kwargs):
    """ModifyReplicationGroup refused with InvalidParameterCombination, the group untouched."""
    try:
        client.modify_replication_group(ReplicationGroupId=GROUP_ID, ApplyImmediately=True, **kwargs)
    except botocore.exceptions.ClientError as error:
        check_eq(error.response["Error"]["Code"], "InvalidParameterCombination", f"{kwargs} error code")
        return error.response["Error"]["Message"]
    raise CheckFailed(f"{kwargs} was accepted; expected InvalidParameterCombination")


def events_since(client, start):
    events = client.describe_events(SourceIdentifier=GROUP_ID, SourceType="replication-group", StartTime=start)
    return [e["Message"] for e in events["Events"]]


def fail_over(client, shard):
    """TestFailover on `shard`, until its old primary has recovered (as a replica)."""
    members = {m["CacheClusterId"] for m in shard["NodeGroupMembers"]}
    since = datetime.now(timezone.utc) - timedelta(seconds=2)
    client.test_failover(ReplicationGroupId=GROUP_ID, NodeGroupId=shard["NodeGroupId"])

    def recovered():
        events = client.describe_events(SourceType="cache-cluster", StartTime=since)["Events"]
        done = [e for e in events if e["SourceIdentifier"] in members]
        return any(e["Message"].startswith("Finished recovery") for e in done) and done

    done = poll(f"the failover of {shard['NodeGroupId']} and the old primary's recovery", 90, recovered)
    check(any(e["Message"].startswith("Failover from primary node") for e in done), f"a failover event: {done}")


def to_preferred(client, configuration, ca_file):
    created = group(client)
    check_eq(created["TransitEncryptionEnabled"], False, "a plaintext cluster")
    plain = cluster_client(configuration)
    for key, value in KEYS.items():
        plain.set(key, value)
    for refused in [dict(TransitEncryptionEnabled=True), dict(TransitEncryptionEnabled=True, TransitEncryptionMode="required")]:
        expect_refused(client, **refused)
    step("cluster mode: enabling other than with preferred is refused (InvalidParameterCombination)")

    since = datetime.now(timezone.utc) - timedelta(seconds=2)
    traffic = Traffic(lambda: cluster_client(configuration))
    preferred = modify(client, (True, "preferred"), TransitEncryptionEnabled=True, TransitEncryptionMode="preferred")
    during = traffic.stop(plain)
    check_eq((preferred["TransitEncryptionEnabled"], preferred["TransitEncryptionMode"]), (True, "preferred"), "after step 1")
    check("PendingModifiedValues" not in preferred or not preferred["PendingModifiedValues"], f"nothing pending once available: {preferred.get('PendingModifiedValues')}")
    check(data_intact(plain), "the plaintext client from before still reads every key")
    plain.set("written:plain", "during-preferred")
    tls = cluster_client(configuration, ca_file)
    check(data_intact(tls), "a TLS RedisCluster client reads every key, on both shards")
    check_eq(tls.get("written:plain"), b"during-preferred", "TLS reads what plaintext wrote")
    check_eq(len(tls.get_primaries()), 2, "both shards' primaries reached over TLS")
    check(all(bus_speaks_tls(ip, bus, ca_file) for ip, bus in buses(tls, ca_file)), "every node's cluster bus speaks TLS")
    messages = events_since(client, since)
    check(any(m == f"In-transit encryption mode changed to preferred for replication group {GROUP_ID}" for m in messages), f"the step's event: {messages}")
    step(f"cluster mode: off -> preferred; plaintext and TLS RedisCluster clients both served, data kept, bus on TLS (plaintext traffic during the step: {during})")
    return plain, tls


def to_required(client, configuration, ca_file, plain, tls):
    traffic = Traffic(lambda: cluster_client(configuration, ca_file))
    required = modify(client, (True, "required"), TransitEncryptionMode="required")
    during = traffic.stop(tls)
    check_eq(required["TransitEncryptionMode"], "required", "after step 2")
    try:
        plain.get("key:0")
        raise CheckFailed("the plaintext client connected while off still served once required")
    except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException, OSError):
        pass
    plain.close()
    check(plaintext_fails(configuration["Address"], configuration["Port"]), "a plaintext client fails on the configuration endpoint")
    node = tls.get_primaries()[0]
    check(plaintext_fails(node.host, node.port), "a plaintext client fails on a node's own address")
    poll("every key over TLS once required", 30, lambda: data_intact(tls))
    poll("every replica linked to its primary (TLS: no plaintext port is left) with its keys", 30, lambda: replicas_in_sync(tls))
    moved_to = moved_is_followable_over_tls(tls, ca_file)
    check(all(bus_speaks_tls(ip, bus, ca_file) for ip, bus in buses(tls, ca_file)), "every node's cluster bus still speaks TLS")
    step(f"cluster mode: preferred -> required; plaintext refused (new and old connections), the TLS client keeps its data (TLS traffic during the step: {during}); MOVED names {moved_to}, served over TLS")

    fail_over(client, required["NodeGroups"][0])
    fresh = cluster_client(configuration, ca_file)
    poll("every key through a new TLS client after the failover", 30, lambda: data_intact(fresh))
    poll("the first TLS client after the failover", 30, lambda: data_intact(tls))
    check_eq(tls.set("written:after-failover", "yes"), True, "a write over TLS after the failover")
    fresh.close()
    step("cluster mode, required: TestFailover over TLS, the client reconnects and keeps its data")


def back_to_off(client, configuration, ca_file, tls):
    expect_refused(client, TransitEncryptionEnabled=False)
    preferred = modify(client, (True, "preferred"), TransitEncryptionMode="preferred")
    check_eq(preferred["TransitEncryptionMode"], "preferred", "back to preferred")
    plain = cluster_client(configuration)
    check_eq(plain.get("written:after-failover"), b"yes", "plaintext accepted again")
    # The recovered node restarts in `preferred` (its front, TLS bus) from its nodes.conf.
    fail_over(client, preferred["NodeGroups"][1])
    poll("every key over plaintext after a failover in preferred", 30, lambda: data_intact(plain))
    poll("every key over TLS after a failover in preferred", 30, lambda: data_intact(tls))
    poll("the replicas linked again", 30, lambda: replicas_in_sync(tls))
    step("cluster mode, back in preferred: a failover on the other shard, both kinds of client keep their data")
    tls.close()
    # An AUTH token is never left without TLS: off is refused until the token is deleted.
    modify(client, (None, None), AuthToken="cluster-tls-token-0123456789", AuthTokenUpdateStrategy="SET")
    message = expect_refused(client, TransitEncryptionEnabled=False)
    check("AuthToken" in message, f"the refusal names the token: {message}")
    modify(client, (None, None), AuthTokenUpdateStrategy="DELETE")
    step("cluster mode: TLS cannot be turned off while the group has an AuthToken")
    off = modify(client, (False, None), TransitEncryptionEnabled=False)
    check_eq(off["TransitEncryptionEnabled"], False, "TLS off")
    check("TransitEncryptionMode" not in off, "no mode once off")
    poll("every key over plaintext once off", 30, lambda: data_intact(plain))
    check(not any(bus_speaks_tls(ip, bus, ca_file) for ip, bus in buses(plain)), "no cluster bus speaks TLS once off")
    try:
        cluster_client(configuration, ca_file).get("key:0")
        raise CheckFailed("a TLS RedisCluster client still served once off")
    except (redis.exceptions.ConnectionError, redis.exceptions.RedisClusterException, OSError):
        pass
    plain.close()
    step("cluster mode: required -> preferred -> off (not straight from required), data kept, TLS gone")


def main():
    if not ENDPOINT:
        print("set ELASTICACHE_ENDPOINT", file=sys.stderr)
        return 2
    client = boto3.client(
        "elasticache", endpoint_url=ENDPOINT, region_name="us-east-1", config=Config(retries={"max_attempts": 1})
    )
    ca_file = fetch_ca()
    try:
        client.create_replication_group(
            ReplicationGroupId=GROUP_ID,
            ReplicationGroupDescription="tls cluster migration",
            NumNodeGroups=2,
            ReplicasPerNodeGroup=1,
            CacheParameterGroupName=f"default.{FAMILY}.cluster.on",
            Engine=ENGINE,
            **PLAINTEXT_VERSION,
        )
        created = poll(f"{GROUP_ID} available", 90, lambda: (g := group(client))["Status"] == "available" and g)
        configuration = created["ConfigurationEndpoint"]
        plain, tls = to_preferred(client, configuration, ca_file)
        to_required(client, configuration, ca_file, plain, tls)
        back_to_off(client, configuration, ca_file, tls)
    except Exception:
        traceback.print_exc()
        print("FAIL tls cluster flow", flush=True)
        cleanup(client)
        return 1
    cleanup(client)
    os.unlink(ca_file)
    print("PASS tls cluster flow", flush=True)
    return 0


def cleanup(client):
    try:
        client.delete_replication_group(ReplicationGroupId=GROUP_ID)
    except botocore.exceptions.ClientError:
        return
    poll(f"{GROUP_ID} deleted", 60, lambda: all(g["ReplicationGroupId"] != GROUP_ID for g in client.describe_replication_groups()["ReplicationGroups"]))


if __name__ == "__main__":
    sys.exit(main())
