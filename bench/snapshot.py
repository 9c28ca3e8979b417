#!/usr/bin/env python3
"""Snapshot and restore benchmark: a 1-node group holding SIZE of data (incompressible values,
so the RDB is as big as the data) is snapshotted with CreateSnapshot and restored with
CreateReplicationGroup(SnapshotName), against the floor of doing the same by hand on a raw
redis-server holding the same data, in the same run:

  snapshot  ours: CreateSnapshot sent -> DescribeSnapshots says `available` (polled every 10 ms)
            floor: BGSAVE sent -> `rdb_bgsave_in_progress:0` with a new `rdb_last_save_time`,
            then the RDB copied to another directory (ours copies it into the snapshot's files)
  restore   ours: CreateReplicationGroup(SnapshotName, 1 node) sent -> the group `available`
            and DBSIZE through its primary endpoint equal to the source's
            floor: a new redis-server started on a copy of that RDB -> PING answers and
            `loading:0`, DBSIZE equal

The goal (issue 18): each within 1.2x of its floor. Each measurement is repeated --runs times;
medians are printed.

Usage: python3 bench/snapshot.py [--size-mb 1024] [--value-bytes 4096] [--runs 3] [--binary PATH]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from failover import ROOT, Resp, Server, free_port, make_client, wait_ping  # noqa: E402

GROUP_ID = "snapbench"
BATCH = 500


class At(Resp):
    """bench/failover.py's RESP client on any (host, port): endpoints have their own addresses."""

    def __init__(self, at, timeout=60.0):
        import socket

        self.sock = socket.create_connection(at, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()


def info(conn, section):
    text = conn.call("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def load(at, size_mb, value_bytes):
    """SIZE of incompressible values: slices of one random block, each key its own offset."""
    block = os.urandom(4 * 1024 * 1024)
    count = size_mb * 1024 * 1024 // value_bytes
    with At(at) as conn:
        for start in range(0, count, BATCH):
            commands = []
            for i in range(start, min(start + BATCH, count)):
                offset = (i * 7919) % (len(block) - value_bytes)
                commands.append(("SET", f"key:{i}", block[offset:offset + value_bytes]))
            conn.pipeline(commands)
        return conn.call("DBSIZE")


def poll(what, probe, timeout=600, interval=0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(interval)


def endpoint(ec, group_id):
    group = ec.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
    if group["Status"] != "available":
        return None
    address = group["NodeGroups"][0]["PrimaryEndpoint"]
    return (address["Address"], address["Port"])


def create(ec, group_id, **kwargs):
    ec.create_replication_group(ReplicationGroupId=group_id, ReplicationGroupDescription="bench",
                                NumCacheClusters=1, **kwargs)
    return poll(f"{group_id} available", lambda: endpoint(ec, group_id))


def delete(ec, group_id):
    ec.delete_replication_group(ReplicationGroupId=group_id)

    def gone():
        try:
            ec.describe_replication_groups(ReplicationGroupId=group_id)
            return False
        except ec.exceptions.ReplicationGroupNotFoundFault:
            return True
    poll(f"{group_id} deleted", gone)


def ours(ec, run, keys):
    name = f"snap-{run}"
    started = time.monotonic()
    ec.create_snapshot(ReplicationGroupId=GROUP_ID, SnapshotName=name)
    poll("snapshot available", lambda: ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]
         ["SnapshotStatus"] == "available")
    snapshot_s = time.monotonic() - started
    restored_id = f"restored-{run}"
    started = time.monotonic()
    at = create(ec, restored_id, SnapshotName=name)
    with At(at) as conn:
        restored_keys = conn.call("DBSIZE")
    restore_s = time.monotonic() - started
    if restored_keys != keys:
        raise RuntimeError(f"restored {restored_keys} keys of {keys}")
    delete(ec, restored_id)
    ec.delete_snapshot(SnapshotName=name)
    return snapshot_s, restore_s


def raw_server(dir_, port):
    os.makedirs(dir_, exist_ok=True)
    return subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", dir_,
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def floor(raw_port, workdir, run, keys):
    with At(("127.0.0.1", raw_port)) as conn:
        before = int(info(conn, "persistence")["rdb_saves"])
        started = time.monotonic()
        conn.call("BGSAVE")

        def saved():
            persistence = info(conn, "persistence")
            return persistence["rdb_bgsave_in_progress"] == "0" and int(persistence["rdb_saves"]) > before
        poll("BGSAVE done", saved)
    target = os.path.join(workdir, f"floor-{run}")
    os.makedirs(target, exist_ok=True)
    shutil.copyfile(os.path.join(workdir, "raw", "dump.rdb"), os.path.join(target, "dump.rdb"))
    snapshot_s = time.monotonic() - started
    port = free_port()
    started = time.monotonic()
    proc = raw_server(target, port)
    try:
        wait_ping(port, proc, timeout=600)
        with At(("127.0.0.1", port)) as conn:
            poll("RDB loaded", lambda: info(conn, "persistence")["loading"] == "0")
            restored_keys = conn.call("DBSIZE")
        restore_s = time.monotonic() - started
    finally:
        proc.kill()
        proc.wait()
    shutil.rmtree(target, ignore_errors=True)
    if restored_keys != keys:
        raise RuntimeError(f"floor restored {restored_keys} keys of {keys}")
    return snapshot_s, restore_s


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--value-bytes", type=int, default=4096)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "elasticache-local"))
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="snapbench-")
    server = Server(args.binary, workdir, extra_args=["--data-dir", os.path.join(workdir, "data"),
                                                      "--snapshot-quota", "1000"])
    raw_port = free_port()
    raw = raw_server(os.path.join(workdir, "raw"), raw_port)
    try:
        wait_ping(raw_port, raw)
        ec = make_client(server.url)
        at = create(ec, GROUP_ID)
        t = time.monotonic()
        keys = load(at, args.size_mb, args.value_bytes)
        raw_keys = load(("127.0.0.1", raw_port), args.size_mb, args.value_bytes)
        print(f"loaded {keys} keys of {args.value_bytes} B ({args.size_mb} MB) into the group and "
              f"{raw_keys} into the raw redis-server in {time.monotonic() - t:.1f} s", flush=True)
        rows = []
        for run in range(args.runs):
            mine = ours(ec, run, keys)
            base = floor(raw_port, workdir, run, raw_keys)
            rows.append((mine, base))
            print(f"run {run + 1}: snapshot {mine[0]:.2f} s (floor {base[0]:.2f} s), "
                  f"restore {mine[1]:.2f} s (floor {base[1]:.2f} s)", flush=True)
        for index, what in enumerate(["snapshot", "restore"]):
            mine = statistics.median(r[0][index] for r in rows)
            base = statistics.median(r[1][index] for r in rows)
            verdict = "within" if mine <= 1.2 * base else "NOT within"
            print(f"{what:8} median {mine:.2f} s, floor {base:.2f} s: {mine / base:.2f}x ({verdict} 1.2x)")
        delete(ec, GROUP_ID)
    finally:
        raw.kill()
        raw.wait()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
