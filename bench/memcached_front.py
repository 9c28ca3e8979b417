#!/usr/bin/env python3
"""What a Memcached node's front costs a get: pymemcache round trips through the node's address
(the server's listener that answers Auto Discovery and pipes every connection through the
node's toxics) against the node's memcached reached directly on its Unix socket, and against a
memcached of this script's own on a TCP port (what a node with no front at all would be).

Per round, interleaved (the order rotates between rounds): WARMUP gets, then --gets timed gets
of one 100-byte key on one connection to each target. Prints each round's median per target,
then the median and p99 over every get, and the front's cost: front median minus direct.

Usage: python3 bench/memcached_front.py [--binary PATH] [--rounds 5] [--gets 2000]
Needs boto3, pymemcache and memcached (on PATH or ELASTICACHE_LOCAL_MEMCACHED).
"""

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import failover as fb  # noqa: E402  (Server, make_client, free_port, _die_with_parent)

from pymemcache.client.base import Client  # noqa: E402

CLUSTER = "bench-mc"
WARMUP = 200


def create_cluster(ec):
    ec.create_cache_cluster(CacheClusterId=CLUSTER, Engine="memcached", NumCacheNodes=1)
    deadline = time.monotonic() + 30
    while True:
        cluster = ec.describe_cache_clusters(CacheClusterId=CLUSTER, ShowCacheNodeInfo=True)
        cluster = cluster["CacheClusters"][0]
        if cluster["CacheClusterStatus"] == "available":
            endpoint = cluster["CacheNodes"][0]["Endpoint"]
            return endpoint["Address"], endpoint["Port"]
        if time.monotonic() > deadline:
            raise RuntimeError(f"cluster still {cluster['CacheClusterStatus']}")
        time.sleep(0.05)


def own_memcached(workdir):
    binary = os.environ.get("ELASTICACHE_LOCAL_MEMCACHED") or shutil.which("memcached")
    port = fb.free_port()
    args = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "64"]
    if os.geteuid() == 0:
        args += ["-u", "root"]
    log = open(os.path.join(workdir, "memcached.log"), "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=log, preexec_fn=fb._die_with_parent)
    deadline = time.monotonic() + 10
    while True:
        try:
            Client(("127.0.0.1", port), connect_timeout=0.5).version()
            return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the reference memcached did not start")
            time.sleep(0.01)


def timed_gets(client, n):
    """Per-get round trips (microseconds)."""
    times = []
    for _ in range(n):
        started = time.perf_counter_ns()
        value = client.get("k")
        times.append((time.perf_counter_ns() - started) / 1000)
        assert value == b"v" * 100, value
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--binary", default=os.path.join(root, "target/release/elasticache-local"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gets", type=int, default=2000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-mc-")
    server = fb.Server(args.binary, workdir, keep_nodes=True)
    reference = None
    try:
        address = create_cluster(fb.make_client(server.url))
        sockets = glob.glob(os.path.join(workdir, "server-nodes", "**", "memcached.sock"), recursive=True)
        assert len(sockets) == 1, sockets
        reference, port = own_memcached(workdir)
        targets = {
            "front (node address)": Client(address, no_delay=True),
            "direct (Unix socket)": Client(sockets[0]),
            "own memcached (TCP port)": Client(("127.0.0.1", port), no_delay=True),
        }
        names = list(targets)
        all_times = {name: [] for name in names}
        for client in targets.values():
            client.set("k", b"v" * 100)
            timed_gets(client, WARMUP)
        for round_ in range(args.rounds):
            order = names[round_ % len(names):] + names[: round_ % len(names)]
            line = []
            for name in order:
                times = timed_gets(targets[name], args.gets)
                all_times[name].extend(times)
                line.append(f"{name} {statistics.median(times):.1f}")
            print(f"round {round_ + 1}: " + ", ".join(line) + " (median us)")
        medians = {}
        for name in names:
            times = sorted(all_times[name])
            medians[name] = statistics.median(times)
            p99 = times[int(len(times) * 0.99)]
            print(f"{name:26} median {medians[name]:7.1f} us  p99 {p99:7.1f} us  ({len(times)} gets)")
        cost = medians["front (node address)"] - medians["direct (Unix socket)"]
        print(f"the front's cost per get: {cost:.1f} us over the Unix socket, "
              f"{medians['front (node address)'] - medians['own memcached (TCP port)']:.1f} us over a TCP memcached")
    finally:
        if reference is not None:
            reference.kill()
            reference.wait()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
