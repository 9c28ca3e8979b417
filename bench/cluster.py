#!/usr/bin/env python3
"""Cluster-mode benchmark for elasticache-local, against floors done by hand on raw redis-servers.

Per run, interleaved (the order alternates between runs):

  (a) create-to-available: CreateReplicationGroup with NumNodeGroups x ReplicasPerNodeGroup, then
      DescribeReplicationGroups polled every ~2 ms until the group is `available`.
  (b) call-to-last-event: TestFailover on node group 0002, then DescribeEvents polled every ~2 ms
      until 'Finished recovery for cache nodes 0001' of <id>-0002-001 is visible.
  (c) the floors, on redis-servers this script starts with the same flags: spawn -> every node
      reports cluster_state:ok with every slot and node known and every replica linked (formed
      the same direct way: ADDSLOTSRANGE + SET-CONFIG-EPOCH, full-mesh MEET, REPLICATE); and
      SIGKILL shard 2's primary -> CLUSTER FAILOVER TAKEOVER on its replica -> every live node
      sees it as primary -> restart the old node from its nodes.conf -> linked as a replica and
      seen as one by every node.

Usage: python3 bench/cluster.py [--runs N] [--shards 3] [--replicas 1] [--binary PATH]

Only the standard library and boto3 are used; RESP helpers come from bench/failover.py.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import failover as fb  # noqa: E402  (the RESP client, Server and boto3 helpers)

GROUP_ID = "bench-cluster"
FINISHED = "Finished recovery for cache nodes 0001"
GOAL_CREATE_RATIO = 1.3
SLOTS = 16384


def even_slots(shards):
    per, first, ranges = SLOTS / shards, 0, []
    for index in range(shards):
        last = SLOTS - 1 if index == shards - 1 else round((index + 1) * per - 1)
        ranges.append((first, last))
        first = last + 1
    return ranges


def text(port, *args):
    reply = fb.redis_call(port, *args)
    return reply.decode() if isinstance(reply, bytes) else reply


# --------------------------------------------------------------------------------------------
# The floor: a cluster formed and failed over by hand
# --------------------------------------------------------------------------------------------


class RawCluster:
    def __init__(self, workdir, shards, replicas):
        self.workdir, self.shards, self.replicas = workdir, shards, replicas
        self.nodes = []  # dicts: shard, port, bus, dir, proc, id

    def spawn(self, node):
        os.makedirs(node["dir"], exist_ok=True)
        node["proc"] = subprocess.Popen(
            ["redis-server", "--port", str(node["port"]), "--bind", "127.0.0.1",
             *fb.NODE_FLAGS, "--dir", node["dir"],
             "--cluster-enabled", "yes", "--cluster-config-file", os.path.join(node["dir"], "nodes.conf"),
             "--cluster-port", str(node["bus"]), "--cluster-node-timeout", "500",
             "--cluster-replica-validity-factor", "0", "--cluster-require-full-coverage", "no",
             "--cluster-allow-replica-migration", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=fb._die_with_parent,
        )

    def form(self):
        """Spawn -> ready, in seconds."""
        start = time.monotonic()
        for shard in range(self.shards):
            for k in range(1 + self.replicas):
                port, bus = fb.free_port(), fb.free_port()
                node = {"shard": shard, "primary": k == 0, "port": port, "bus": bus,
                        "dir": os.path.join(self.workdir, f"raw-{shard}-{k}")}
                self.spawn(node)
                self.nodes.append(node)
        for node in self.nodes:
            fb.wait_ping(node["port"], node["proc"])
            node["id"] = text(node["port"], "CLUSTER", "MYID")
        for shard, (first, last) in enumerate(even_slots(self.shards)):
            primary = self.primary_of(shard)
            fb.redis_call(primary["port"], "CLUSTER", "ADDSLOTSRANGE", first, last)
            fb.redis_call(primary["port"], "CLUSTER", "SET-CONFIG-EPOCH", shard + 1)
        for node in self.nodes:
            with fb.Resp(node["port"]) as conn:
                for other in self.nodes:
                    if other is not node:
                        conn.call("CLUSTER", "MEET", "127.0.0.1", other["port"], other["bus"])
        for node in self.nodes:
            if not node["primary"]:
                self.retry(lambda n=node: fb.redis_call(
                    n["port"], "CLUSTER", "REPLICATE", self.primary_of(n["shard"])["id"]))
        self.wait_agreed(self.nodes)
        return time.monotonic() - start

    def primary_of(self, shard):
        return next(n for n in self.nodes if n["shard"] == shard and n["primary"])

    @staticmethod
    def retry(action, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return action()
            except (fb.RespError, OSError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.002)

    def agrees(self, node, live):
        info = text(node["port"], "CLUSTER", "INFO")
        if ("cluster_state:ok" not in info or f"cluster_slots_ok:{SLOTS}" not in info
                or f"cluster_known_nodes:{len(self.nodes)}" not in info):
            return False
        view = {line.split()[0]: line.split() for line in
                text(node["port"], "CLUSTER", "NODES").splitlines()}
        for other in live:
            fields = view.get(other["id"])
            if fields is None or "fail" in fields[2] or "handshake" in fields[2]:
                return False
            want = "master" if other["primary"] else "slave"
            if want not in fields[2]:
                return False
            if not other["primary"] and fields[3] != self.primary_of(other["shard"])["id"]:
                return False
        if not node["primary"]:
            return fb.replication_info(node["port"]).get("master_link_status") == "up"
        return True

    def wait_agreed(self, live, timeout=30.0):
        deadline = time.monotonic() + timeout
        pending = list(live)
        while pending:
            pending = [n for n in pending if not self.safe(lambda n=n: self.agrees(n, live))]
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"raw cluster did not converge ({len(pending)} nodes)")
            if pending:
                time.sleep(0.002)

    @staticmethod
    def safe(check):
        try:
            return check()
        except (fb.RespError, OSError, ConnectionError):
            return False

    def failover(self, shard=1):
        """Kill shard's primary -> TAKEOVER -> agreed -> old node back as a replica, in seconds."""
        old, new = self.primary_of(shard), next(
            n for n in self.nodes if n["shard"] == shard and not n["primary"])
        start = time.monotonic()
        old["proc"].kill()
        old["proc"].wait()
        fb.redis_call(new["port"], "CLUSTER", "FAILOVER", "TAKEOVER")
        old["primary"], new["primary"] = False, True
        self.wait_agreed([n for n in self.nodes if n is not old])
        dump = os.path.join(old["dir"], "dump.rdb")
        if os.path.exists(dump):
            os.remove(dump)  # the node comes back empty, as the server's does
        self.spawn(old)
        fb.wait_ping(old["port"], old["proc"])
        self.wait_agreed(self.nodes)
        return time.monotonic() - start

    def stop(self):
        for node in self.nodes:
            if node.get("proc") and node["proc"].poll() is None:
                node["proc"].kill()
                node["proc"].wait()
        self.nodes = []


# --------------------------------------------------------------------------------------------
# The elasticache-local side
# --------------------------------------------------------------------------------------------


def server_create(ec, shards, replicas):
    start = time.monotonic()
    ec.create_replication_group(
        ReplicationGroupId=GROUP_ID, ReplicationGroupDescription="cluster benchmark",
        NumNodeGroups=shards, ReplicasPerNodeGroup=replicas,
    )
    while True:
        group = ec.describe_replication_groups(ReplicationGroupId=GROUP_ID)["ReplicationGroups"][0]
        if group["Status"] == "available":
            return time.monotonic() - start
        if group["Status"] != "creating" or time.monotonic() - start > 60:
            raise RuntimeError(f"group is {group['Status']}")
        time.sleep(0.002)


def server_failover(ec):
    start_wall, start = time.time(), time.monotonic()
    ec.test_failover(ReplicationGroupId=GROUP_ID, NodeGroupId="0002")
    while True:
        events = fb.events_since(ec, start_wall - 1, SourceType="cache-cluster",
                                 SourceIdentifier=f"{GROUP_ID}-0002-001")
        if any(e["Message"] == FINISHED for e in events):
            return time.monotonic() - start
        if time.monotonic() - start > 60:
            raise RuntimeError("no 'Finished recovery' event within 60 s")
        time.sleep(0.002)


def server_delete(ec):
    ec.delete_replication_group(ReplicationGroupId=GROUP_ID)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            ec.describe_replication_groups(ReplicationGroupId=GROUP_ID)
        except ec.exceptions.ReplicationGroupNotFoundFault:
            return
        time.sleep(0.01)
    raise RuntimeError("group was not deleted")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--binary", default=os.path.join(fb.ROOT, "target/release/elasticache-local"))
    args = parser.parse_args()
    if args.shards < 2:
        parser.error("--shards must be at least 2 (the failover is on node group 0002)")
    workdir = tempfile.mkdtemp(prefix="bench-cluster-")
    server = fb.Server(args.binary, workdir)
    ec = fb.make_client(server.url)
    ec.describe_events(MaxRecords=20)  # botocore compiles each operation on first use
    rows = {"create": [], "floor_create": [], "failover": [], "floor_failover": []}
    try:
        for run in range(args.runs):
            def ours():
                rows["create"].append(server_create(ec, args.shards, args.replicas))
                rows["failover"].append(server_failover(ec))
                server_delete(ec)

            def floor():
                raw = RawCluster(os.path.join(workdir, f"run{run}"), args.shards, args.replicas)
                try:
                    rows["floor_create"].append(raw.form())
                    rows["floor_failover"].append(raw.failover())
                finally:
                    raw.stop()

            for step in ((ours, floor) if run % 2 == 0 else (floor, ours)):
                step()
            print(f"run {run + 1}: create {rows['create'][-1]:.3f} s (floor {rows['floor_create'][-1]:.3f}), "
                  f"failover {rows['failover'][-1] * 1000:.1f} ms (floor {rows['floor_failover'][-1] * 1000:.1f})",
                  flush=True)
    finally:
        server.stop()
        complaints = server.complaints()
        shutil.rmtree(workdir, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"\n{args.shards} shards x (1 + {args.replicas}), {args.runs} runs, medians:")
    print(f"  create-to-available  {med['create']:.3f} s   floor {med['floor_create']:.3f} s   "
          f"ratio {med['create'] / med['floor_create']:.2f} (goal <= {GOAL_CREATE_RATIO})")
    print(f"  call-to-last-event   {med['failover'] * 1000:.1f} ms  floor {med['floor_failover'] * 1000:.1f} ms  "
          f"ratio {med['failover'] / med['floor_failover']:.2f}")
    if complaints:
        print(f"  server warnings/errors: {len(complaints)}; first: {complaints[0]}")
    return 0 if med["create"] / med["floor_create"] <= GOAL_CREATE_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
