#!/usr/bin/env python3
"""An application that keeps writing through a TestFailover, with a redis-py retry policy that
survives what an ElastiCache primary endpoint does meanwhile: connections refused (or timing
out) while the primary is down, then `READONLY` from the old primary's address for the DNS TTL.

Start elasticache-local with AWS-like endpoints, e.g.
    elasticache-local --timing-profile aws --time-scale 0.02 --dns-ttl-ms 250000
or  elasticache-local --endpoint-behaviour aws --promotion-delay-ms 1500 --dns-ttl-ms 2500
then run this with ELASTICACHE_ENDPOINT=http://127.0.0.1:PORT (and any AWS_* credentials).

It prints what the application saw: each kind of error with the window in which it came,
how many writes succeeded, and whether every acknowledged write is still there. The last
line is `PASS ...` or the script exits 1.
"""

import os
import subprocess
import sys
import threading
import time
import uuid

import boto3
import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, ReadOnlyError, TimeoutError
from redis.retry import Retry

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT", "http://127.0.0.1:8000")
GROUP = f"retry-{uuid.uuid4().hex[:6]}"
START = time.monotonic()
EPOCH = time.time()  # START on the wall clock, for the times the node writer reports
# APP=node: the writer is node/failover_retry.js (ioredis) instead of redis-py.
APP = os.environ.get("APP", "python")
HERE = os.path.dirname(os.path.abspath(__file__))
# Every error the retry policy absorbed or gave up on: (seconds since start, kind).
SEEN = []


def kind(error):
    if isinstance(error, ReadOnlyError):
        return "readonly"
    if isinstance(error, TimeoutError):
        return "timeout"
    if "refused" in str(error).lower():
        return "refused"
    return "closed"  # accepted, then closed or reset: no node behind the address yet


class ObservedRetry(Retry):
    """redis-py's Retry, also noting each failure it sees (only to print what happened)."""

    def call_with_retry(self, do, fail, *args, **kwargs):
        def noted(error, *rest):
            SEEN.append((time.monotonic() - START, kind(error)))
            return fail(error, *rest)

        return super().call_with_retry(do, noted, *args, **kwargs)


def app_client(host, port):
    # The policy: back off exponentially (10 ms doubling to 1 s) for up to 12 retries, on the
    # errors a failover causes. READONLY must be in the list: a connection made during the DNS
    # TTL reaches the old primary, now a replica, and redis-py only reconnects (drops the
    # connection and makes a new one) on the errors it retries. Short timeouts so that a node
    # whose host is gone costs 1 s per attempt, not the kernel's minutes.
    return redis.Redis(
        host=host, port=port, socket_connect_timeout=1, socket_timeout=1,
        retry=ObservedRetry(ExponentialBackoff(cap=1.0, base=0.01), retries=12),
        retry_on_error=[ConnectionError, TimeoutError, ReadOnlyError],
    )


class Writer(threading.Thread):
    """Writes key N = N, one after the other; a write the policy gave up on is tried again, so
    the application never skips one. `acknowledged` holds the writes the server confirmed."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.client, self.stop, self.acknowledged, self.gave_up = client, threading.Event(), [], 0
        self.last_ok = 0.0

    def run(self):
        n = 0
        while not self.stop.is_set():
            try:
                self.client.set(f"order:{n}", n)
            except (ConnectionError, TimeoutError, ReadOnlyError):
                self.gave_up += 1  # the retry budget ran out: the app tries the same write again
                continue
            self.acknowledged.append(n)
            self.last_ok = time.monotonic() - START
            n += 1


class NodeWriter(threading.Thread):
    """The ioredis writer in node/, read from its output lines: the same fields as Writer."""

    def __init__(self, host, port):
        super().__init__(daemon=True)
        self.process = subprocess.Popen(
            ["node", os.path.join(HERE, "node", "failover_retry.js"), host, str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.acknowledged, self.gave_up, self.last_ok, self.count = [], 0, 0.0, 0
        self.stop = self  # stop.set() closes node's stdin

    def set(self):
        self.process.stdin.close()

    def run(self):
        for line in self.process.stdout:
            word, *rest = line.split()
            if word == "error":
                SEEN.append((int(rest[0]) / 1000 - EPOCH, rest[1]))
            elif word == "gaveup":
                self.gave_up += 1
            elif word == "progress" and int(rest[1]) > self.count:
                self.count, self.last_ok = int(rest[1]), int(rest[0]) / 1000 - EPOCH
            elif word == "done":
                self.count = int(rest[0])
            self.acknowledged = list(range(self.count))
        self.process.wait()


def events(client, source):
    return [e["Message"] for e in client.describe_events(SourceIdentifier=source, Duration=60)["Events"]]


def poll(what, timeout, probe):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.25)
    raise SystemExit(f"FAIL: timed out waiting for {what}")


def window(kind_name, since):
    times = [t - since for t, k in SEEN if k == kind_name]
    return (min(times), max(times), len(times)) if times else None


def report(writer, called):
    print("TestFailover called at t=0 (seconds below are from that call)")
    for name in ("refused", "timeout", "closed", "readonly"):
        seen = window(name, called)
        if seen:
            print(f"  {name:8}: {seen[2]:4} errors from {seen[0]:6.2f} s to {seen[1]:6.2f} s")
        else:
            print(f"  {name:8}: none")
    print(f"  writes acknowledged: {len(writer.acknowledged)}; retry budget exhausted {writer.gave_up} times")
    spans = {name: window(name, called) for name in ("refused", "timeout", "closed", "readonly")}
    return {name: (s[1] - s[0] if s else 0.0, s[2] if s else 0) for name, s in spans.items()}


def main():
    client = boto3.client("elasticache", endpoint_url=ENDPOINT)
    client.create_replication_group(
        ReplicationGroupId=GROUP, ReplicationGroupDescription="failover retry example",
        NumCacheClusters=2, AutomaticFailoverEnabled=True,
    )
    try:
        run(client)
    finally:
        delete(client)


def delete(client):
    """Deletes the group once the failover has finished (AWS refuses while it is in progress:
    under the aws profile the old primary's recovery takes 10 min times --time-scale)."""

    def deleted():
        try:
            client.delete_replication_group(ReplicationGroupId=GROUP)
            return True
        except client.exceptions.InvalidReplicationGroupStateFault:
            return False

    poll(f"{GROUP} deletable", 900, deleted)


def run(client):
    client.get_waiter("replication_group_available").wait(
        ReplicationGroupId=GROUP, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    group = client.describe_replication_groups(ReplicationGroupId=GROUP)["ReplicationGroups"][0]
    endpoint = group["NodeGroups"][0]["PrimaryEndpoint"]
    if APP == "node":
        writer = NodeWriter(endpoint["Address"], endpoint["Port"])
    else:
        writer = Writer(app_client(endpoint["Address"], endpoint["Port"]))
    writer.start()
    poll("the first writes", 10, lambda: len(writer.acknowledged) > 100)
    called = time.monotonic() - START
    client.test_failover(ReplicationGroupId=GROUP, NodeGroupId="0001")
    primary = group["NodeGroups"][0]["NodeGroupMembers"][0]["CacheClusterId"]
    done = f"Failover from primary node {primary}"
    poll("the promotion", 300, lambda: any(m.startswith(done) for m in events(client, primary)))
    # After the promotion the DNS TTL runs: writes may still fail (READONLY, or closed while the
    # old node has not come back yet). Done once writes have gone through for 2 s in a row
    # after the last error the policy saw.
    poll("2 s of writes without errors", 300, lambda: SEEN and writer.last_ok - max(t for t, _ in SEEN) > 2)
    writer.stop.set()
    writer.join(10)
    spans = report(writer, called)
    check = redis.Redis(host=endpoint["Address"], port=endpoint["Port"], socket_timeout=5)
    assert check.info("replication")["role"] == "master"
    values = check.mget([f"order:{n}" for n in writer.acknowledged])
    lost = [n for n, v in zip(writer.acknowledged, values) if v is None or int(v) != n]
    print(f"  acknowledged writes missing after the failover: {len(lost)} {lost[:10]}")
    summary = " ".join(f"{k}_s={v[0]:.2f} {k}_errors={v[1]}" for k, v in spans.items())
    print(f"SUMMARY writes={len(writer.acknowledged)} lost={len(lost)} {summary}")
    if lost:
        raise SystemExit(f"FAIL: {len(lost)} acknowledged writes lost")
    print(f"PASS the {APP} application kept writing through the failover of {GROUP}")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as error:  # a clear line, then exit 1
        print(f"FAIL: {error!r}", file=sys.stderr)
        raise
