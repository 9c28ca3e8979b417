#!/usr/bin/env python3
"""Fault-injection benchmark: for each `POST /_faults` type that takes a group's primary down,
the time from the injection until the group is available again, against the floor of doing
the same by hand on raw redis-servers (1 primary + 2 replicas, as bench/failover.py does).

Two moments per run, from just before the fault is injected (the POST is sent; by hand, the
signal):
  writable  a SET on a fresh connection to the primary endpoint is acknowledged (probed every
            ~2 ms, each probe with a 0.5 s timeout; by hand: the promoted or recreated primary)
  complete  every node answers, exactly one is primary, and every replica's link is up with
            its offset caught up with the primary's (the old primary back as a replica)

Faults (each on a fresh 3-node group in us-east-1a/b/c, the primary in 1a):
  kill, restart                      the primary; no duration
  freeze                             the primary (SIGSTOP); no duration, so the health monitor
                                     must find it (two missed 500 ms PINGs): by hand the floor
                                     skips detection, so the gap is mostly detection
  az-power-interruption              us-east-1a for 1 s (the floor waits the same 1 s)
  cluster-failure                    every node, recreated empty; no duration
replication-lag is not here: it degrades a replica's link but never takes the group down.

Usage: python3 bench/faults.py [--runs N] [--binary PATH]
"""

import argparse
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from failover import (  # noqa: E402  (the RESP client, raw group and server of bench/failover.py)
    ROOT,
    RawGroup,
    Resp,
    RespError,
    Server,
    make_client,
)

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
FAULTS = ["kill", "restart", "freeze", "az-power-interruption", "cluster-failure"]
ERRORS = (OSError, ConnectionError, RespError)


class At(Resp):
    """bench/failover.py's RESP client on any address: every endpoint and node of a group has
    its own loopback address; a raw redis-server's is 127.0.0.1 (`at` is (host, port))."""

    def __init__(self, at, timeout=2.0):
        self.sock = socket.create_connection(at, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()


def replication_info(at, timeout=2.0):
    with At(at, timeout=timeout) as conn:
        text = conn.call("INFO", "replication").decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def local(port):
    return ("127.0.0.1", port)


def writable(at, key):
    """One SET on a fresh connection; True once acknowledged."""
    try:
        with At(at, timeout=0.5) as conn:
            return conn.call("SET", key, "1") == "OK"
    except ERRORS:
        return False


def complete(nodes):
    """Every node answers, one primary, every replica linked and caught up with it."""
    infos = []
    for at in nodes:
        try:
            # Short: while a host is gone (az-power-interruption, cluster-failure) its address
            # answers no SYN, and a connect that hit it would wait for the kernel's 1 s SYN
            # retransmission, measuring that instead of the node's return.
            infos.append(replication_info(at, timeout=0.1))
        except ERRORS:
            return False
    primaries = [i for i in infos if i.get("role") == "master"]
    if len(primaries) != 1:
        return False
    target = int(primaries[0]["master_repl_offset"])
    return all(
        i.get("master_link_status") == "up" and int(i.get("slave_repl_offset", -1)) >= target
        for i in infos
        if i.get("role") != "master"
    )


def wait(what, timeout, probe):
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out: {what}")
        time.sleep(0.002)
    return time.monotonic()


# --------------------------------------------------------------------------------------------
# elasticache-local
# --------------------------------------------------------------------------------------------


def post_fault(url, body):
    request = urllib.request.Request(
        f"{url}/_faults", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def fault_body(fault, group, primary):
    body = {"type": fault, "replication_group_id": group}
    if fault in ("kill", "restart", "freeze"):
        body["cache_cluster_id"] = primary
    if fault == "az-power-interruption":
        body.update(availability_zone=ZONES[0], duration_seconds=1)
    return body


def create(ec, group):
    ec.create_replication_group(
        ReplicationGroupId=group, ReplicationGroupDescription="fault benchmark",
        NumCacheClusters=3, AutomaticFailoverEnabled=True, PreferredCacheClusterAZs=ZONES,
    )
    ec.get_waiter("replication_group_available").wait(
        ReplicationGroupId=group, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})
    g = ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]
    node_group = g["NodeGroups"][0]
    members = node_group["NodeGroupMembers"]
    primary = next(m["CacheClusterId"] for m in members if m["CurrentRole"] == "primary")
    address = lambda e: (e["Address"], e["Port"])  # noqa: E731
    nodes = [address(m["ReadEndpoint"]) for m in members]
    return address(node_group["PrimaryEndpoint"]), nodes, primary


def delete(ec, group):
    deadline = time.monotonic() + 60
    while True:
        try:
            ec.delete_replication_group(ReplicationGroupId=group)
            return
        except ec.exceptions.InvalidReplicationGroupStateFault:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def run_local(server, ec, fault, run):
    group = f"bench-{fault[:12]}-{run}"
    endpoint, nodes, primary = create(ec, group)
    wait("group complete before the fault", 30, lambda: complete(nodes))
    t0 = time.monotonic()
    post_fault(server.url, fault_body(fault, group, primary))
    t_write = wait("writable", 60, lambda: writable(endpoint, "probe"))
    t_done = wait("complete", 60, lambda: complete(nodes))
    delete(ec, group)
    return t_write - t0, t_done - t0


# --------------------------------------------------------------------------------------------
# The floor, by hand
# --------------------------------------------------------------------------------------------


def promote(raw, old):
    """The least-lagged other node becomes primary, the third follows it. Returns its index."""
    offsets = {}
    for k in range(3):
        if k != old:
            offsets[k] = int(replication_info(local(raw.ports[k])).get("slave_repl_offset", -1))
    best = min(offsets, key=lambda k: (-offsets[k], k))
    with Resp(raw.ports[best]) as conn:
        conn.call("REPLICAOF", "NO", "ONE")
    raw.primary = best
    for k in offsets:
        if k != best:
            with Resp(raw.ports[k]) as conn:
                conn.call("REPLICAOF", "127.0.0.1", raw.ports[best])
    return best


def floor_run(workdir, fault):
    raw = RawGroup(workdir)
    try:
        old = raw.primary
        t0 = time.monotonic()
        if fault == "cluster-failure":
            for p in raw.procs:
                p.kill()
                p.wait()
            raw.start_node(0, None)
            raw.primary = 0
            t_write = wait("raw writable", 10, lambda: writable(local(raw.ports[0]), "probe"))
            for k in (1, 2):
                raw.start_node(k, raw.ports[0])
        else:
            if fault == "freeze":
                raw.procs[old].send_signal(signal.SIGSTOP)  # detection skipped: the floor
            raw.procs[old].kill()
            raw.procs[old].wait()
            best = promote(raw, old)
            t_write = wait("raw writable", 10, lambda: writable(local(raw.ports[best]), "probe"))
            if fault == "az-power-interruption":
                time.sleep(1)  # the zone is out for the fault's 1 s, as on the server
            raw.start_node(old, raw.ports[best])
        t_done = wait("raw complete", 30, lambda: complete([local(p) for p in raw.ports]))
        return t_write - t0, t_done - t0
    finally:
        raw.stop()


# --------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "debug", "elasticache-local"))
    args = parser.parse_args()
    results = {f: {"local": [], "floor": []} for f in FAULTS}
    with tempfile.TemporaryDirectory() as workdir:
        server = Server(args.binary, workdir, extra_args=["--access-log", "off"])
        try:
            ec = make_client(server.url)
            for run in range(args.runs):
                for fault in FAULTS:
                    results[fault]["local"].append(run_local(server, ec, fault, run))
                    results[fault]["floor"].append(floor_run(workdir, fault))
                    print(f"run {run + 1}: {fault} done", file=sys.stderr, flush=True)
        finally:
            server.stop()
    med = lambda xs, i: statistics.median(x[i] for x in xs) * 1000  # noqa: E731
    print(f"medians of {args.runs} runs, ms from injection "
          f"(writable = SET acknowledged via the primary endpoint; complete = every node back and in sync)")
    print(f"{'fault':24} {'writable':>9} {'floor':>7} {'complete':>9} {'floor':>7}")
    for fault, r in results.items():
        print(f"{fault:24} {med(r['local'], 0):9.0f} {med(r['floor'], 0):7.0f} "
              f"{med(r['local'], 1):9.0f} {med(r['floor'], 1):7.0f}")


if __name__ == "__main__":
    main()
