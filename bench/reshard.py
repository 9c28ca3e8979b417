#!/usr/bin/env python3
"""Online resharding benchmark: ModifyReplicationGroupShardConfiguration 2 -> 3 shards (a third of
the slots move) against `redis-cli --cluster reshard` doing the same move on a raw cluster.

Per run, interleaved (the order alternates between runs), each side with N keys spread over every
slot and a redis-py RedisCluster client writing (and counting errors) throughout:

  (a) elasticache-local: a 2-shard group (no replicas); ModifyReplicationGroupShardConfiguration
      NodeGroupCount=3, then DescribeReplicationGroups polled every ~5 ms until `available`. The
      time includes starting the new shard's node and its joining the cluster.
  (b) the floor: 3 raw redis-servers started with the server's cluster flags, two owning the
      slots and the third empty but already joined; `redis-cli --cluster reshard --cluster-from
      <both> --cluster-to <third> --cluster-slots 5461 --cluster-yes` (its defaults otherwise),
      timed as a process.

Afterwards both count errors the writer saw and acknowledged writes missing.

Usage: python3 bench/reshard.py [--runs N] [--keys N] [--binary PATH]
Needs boto3 and redis-py.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster as cb  # noqa: E402  (RawCluster)
import failover as fb  # noqa: E402  (Server, boto3 client, RESP helpers)

GROUP_ID = "bench-reshard"
MOVED_SLOTS = 5461


class Writer:
    """SETs `w:<n>` through a cluster client until stopped; the acknowledged keys and errors."""

    def __init__(self, host, port):
        self.client = redis.RedisCluster(host=host, port=port, socket_timeout=10)
        self.acked, self.errors, self.stop_flag = [], [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        n = 0
        while not self.stop_flag.is_set():
            key = f"w:{n}"
            try:
                self.client.set(key, n)
                self.acked.append(key)
            except Exception as error:  # noqa: BLE001 - redis-py raises more than RedisError
                self.errors.append(f"{key}: {type(error).__name__}: {error}")
            n += 1

    def finish(self):
        self.stop_flag.set()
        self.thread.join()
        lost = sum(1 for key in self.acked if self.client.get(key) is None)
        self.client.close()
        return len(self.acked), len(self.errors), lost, self.errors


def load(host, port, keys):
    client = redis.RedisCluster(host=host, port=port)
    for start in range(0, keys, 10000):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(keys, start + 10000)):
            pipe.set(f"key:{i}", i)
        pipe.execute()
    client.close()


def ours(ec, keys):
    ec.create_replication_group(
        ReplicationGroupId=GROUP_ID, ReplicationGroupDescription="reshard benchmark",
        NumNodeGroups=2, ReplicasPerNodeGroup=0,
    )
    group = wait_status(ec, "available", 60)
    endpoint = group["ConfigurationEndpoint"]
    load(endpoint["Address"], endpoint["Port"], keys)
    writer = Writer(endpoint["Address"], endpoint["Port"])
    start = time.monotonic()
    ec.modify_replication_group_shard_configuration(
        ReplicationGroupId=GROUP_ID, NodeGroupCount=3, ApplyImmediately=True)
    group = wait_status(ec, "available", 600)
    elapsed = time.monotonic() - start
    acked, errors, lost, seen = writer.finish()
    failed = [e["Message"] for e in ec.describe_events(SourceIdentifier=GROUP_ID)["Events"]
              if e["Message"].startswith("Failed")]
    if failed or len(group["NodeGroups"]) != 3:
        raise RuntimeError(f"resharding failed: {failed}")
    delete(ec)
    return elapsed, acked, errors, lost, seen


def wait_status(ec, status, timeout):
    deadline = time.monotonic() + timeout
    while True:
        group = ec.describe_replication_groups(ReplicationGroupId=GROUP_ID)["ReplicationGroups"][0]
        if group["Status"] == status:
            return group
        if time.monotonic() > deadline:
            raise RuntimeError(f"group is {group['Status']} after {timeout} s")
        time.sleep(0.005)


def delete(ec):
    ec.delete_replication_group(ReplicationGroupId=GROUP_ID)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            ec.describe_replication_groups(ReplicationGroupId=GROUP_ID)
        except ec.exceptions.ReplicationGroupNotFoundFault:
            return
        time.sleep(0.01)
    raise RuntimeError("group was not deleted")


class TwoPlusEmpty(cb.RawCluster):
    """Three primaries: the first two own the slots, the third none (already joined)."""

    def form(self):
        for shard in range(3):
            port, bus = fb.free_port(), fb.free_port()
            node = {"shard": shard, "primary": True, "port": port, "bus": bus,
                    "dir": os.path.join(self.workdir, f"raw-{shard}")}
            self.spawn(node)
            self.nodes.append(node)
        for node in self.nodes:
            fb.wait_ping(node["port"], node["proc"])
            node["id"] = cb.text(node["port"], "CLUSTER", "MYID")
        for shard, (first, last) in enumerate(cb.even_slots(2)):
            fb.redis_call(self.nodes[shard]["port"], "CLUSTER", "ADDSLOTSRANGE", first, last)
        for shard, node in enumerate(self.nodes):
            fb.redis_call(node["port"], "CLUSTER", "SET-CONFIG-EPOCH", shard + 1)
        for node in self.nodes:
            for other in self.nodes:
                if other is not node:
                    fb.redis_call(node["port"], "CLUSTER", "MEET", "127.0.0.1", other["port"], other["bus"])
        self.wait_agreed(self.nodes)


def floor(workdir, keys):
    raw = TwoPlusEmpty(workdir, 3, 0)
    try:
        raw.form()
        port = raw.nodes[0]["port"]
        load("127.0.0.1", port, keys)
        writer = Writer("127.0.0.1", port)
        sources = ",".join(n["id"] for n in raw.nodes[:2])
        start = time.monotonic()
        subprocess.run(
            ["redis-cli", "--cluster", "reshard", f"127.0.0.1:{port}", "--cluster-from", sources,
             "--cluster-to", raw.nodes[2]["id"], "--cluster-slots", str(MOVED_SLOTS), "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        elapsed = time.monotonic() - start
        return (elapsed, *writer.finish())
    finally:
        raw.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keys", type=int, default=100000)
    parser.add_argument("--binary", default=os.path.join(fb.ROOT, "target/release/elasticache-local"))
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-reshard-")
    server = fb.Server(args.binary, workdir)
    ec = fb.make_client(server.url)
    rows = {"ours": [], "floor": []}
    try:
        for run in range(args.runs):
            steps = [("ours", lambda: ours(ec, args.keys)),
                     ("floor", lambda: floor(os.path.join(workdir, f"run{run}"), args.keys))]
            for name, step in (steps if run % 2 == 0 else steps[::-1]):
                rows[name].append(step())
            (o, oa, oe, ol, _), (f, fa, fe, fl, _) = rows["ours"][-1], rows["floor"][-1]
            for name in rows:
                if rows[name][-1][4]:
                    print(f"  {name}: first errors: {rows[name][-1][4][:3]}")
            print(f"run {run + 1}: elasticache-local {o:.2f} s ({oa} writes, {oe} errors, {ol} lost); "
                  f"redis-cli --cluster reshard {f:.2f} s ({fa} writes, {fe} errors, {fl} lost)", flush=True)
    finally:
        server.stop()
        complaints = server.complaints()
        shutil.rmtree(workdir, ignore_errors=True)
    med = {name: statistics.median(r[0] for r in rows[name]) for name in rows}
    errors = {name: sum(r[2] + r[3] for r in rows[name]) for name in rows}
    print(f"\n{MOVED_SLOTS} slots (1/3) with ~{args.keys // 3} of {args.keys} keys, {args.runs} runs, medians:")
    print(f"  elasticache-local call to available   {med['ours']:.2f} s   errors+lost {errors['ours']}")
    print(f"  redis-cli --cluster reshard           {med['floor']:.2f} s   errors+lost {errors['floor']}")
    print(f"  ratio {med['ours'] / med['floor']:.2f} (goal <= 1.0)")
    if complaints:
        print(f"  server warnings/errors: {len(complaints)}; first: {complaints[0]}")
    return 0 if med["ours"] <= med["floor"] and errors["ours"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
