#!/usr/bin/env python3
"""TestFailover benchmark for elasticache-local, against a floor done by hand on raw redis-servers.

Per run, interleaved (the order alternates between runs):

  (a) call-to-last-event: TestFailover is sent, then DescribeEvents is polled every ~2 ms
      until 'Finished recovery for cache nodes 0001' is visible. Also the server-side span from
      the events' own Date fields (first event to last), and its phases.
  (b) the longest gap between consecutive acknowledged SETs of a writer looping through the
      primary endpoint (reconnecting at once on any error).
  (c) acknowledged writes missing on the new primary (read back through the primary endpoint).
  (d) the floor: the same kill -> promote max-offset replica -> re-point other replica ->
      restart old node empty as a replica -> wait until synced, done directly with redis
      commands on a 1P+2R set of redis-servers this script starts, with the same writer.

Usage: python3 bench/failover.py [--runs N] [--binary PATH]

Only the standard library and boto3 are used (RESP is spoken over raw sockets). The writer
runs in its own process so the GIL does not couple its timing to the DescribeEvents poller.
"""

import argparse
import ctypes
import datetime as dt
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FINISHED = "Finished recovery for cache nodes 0001"
GROUP_ID = "bench-failover"
NODE_FLAGS = ["--save", "", "--appendonly", "no", "--repl-diskless-sync", "no", "--hz", "100"]

GOAL_RATIO = 2.0
GOAL_CALL_TO_EVENT = 0.3
GOAL_LOST = 0


# --------------------------------------------------------------------------------------------
# A minimal RESP client
# --------------------------------------------------------------------------------------------


class RespError(Exception):
    pass


class Resp:
    def __init__(self, port, timeout=2.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            if not isinstance(arg, bytes):
                arg = str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        return b"".join(out)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by peer")
        self.buf += chunk

    def _line(self):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[: end + 2]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[: n + 2]
        return data

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ConnectionError(f"bad RESP line {line!r}")

    def call(self, *args):
        self.sock.sendall(self.encode(args))
        reply = self.read()
        if isinstance(reply, RespError):
            raise reply
        return reply

    def pipeline(self, commands):
        self.sock.sendall(b"".join(self.encode(c) for c in commands))
        return [self.read() for _ in commands]


def redis_call(port, *args, timeout=2.0):
    """One command on a fresh connection (what the server's NodeClient does)."""
    with Resp(port, timeout) as conn:
        return conn.call(*args)


def sync_counts(port):
    """(sync_full, sync_partial_ok) a node has served as a primary, from INFO stats."""
    text = redis_call(port, "INFO", "stats").decode()
    stats = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return int(stats["sync_full"]), int(stats["sync_partial_ok"])


def replication_info(port):
    text = redis_call(port, "INFO", "replication").decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


# --------------------------------------------------------------------------------------------
# The writer (its own process)
# --------------------------------------------------------------------------------------------


def writer_main(port_value, prefix, stop, acked_count, result_pipe):
    """SET <prefix><i> i in a loop on the port in port_value; reconnect at once on any error.
    Sends back (acknowledged indexes, their monotonic times, errors, connects)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    acked, times = [], []
    errors = connects = 0
    conn = None
    i = 0
    clock = time.monotonic
    while not stop.is_set():
        if conn is None:
            try:
                conn = Resp(port_value.value, timeout=1.0)
                connects += 1
            except OSError:
                errors += 1
                continue
        try:
            reply = conn.call("SET", f"{prefix}{i}", i)
        except (OSError, ConnectionError, RespError, ValueError):
            errors += 1
            conn.close()
            conn = None
            i += 1
            continue
        if reply == "OK":
            times.append(clock())
            acked.append(i)
            acked_count.value += 1
        i += 1
    if conn is not None:
        conn.close()
    result_pipe.send((acked, times, errors, connects))
    result_pipe.close()


class Writer:
    def __init__(self, port, prefix):
        ctx = mp.get_context("fork")
        self.port = ctx.RawValue("i", port)
        self.acked_count = ctx.RawValue("q", 0)
        self.stop_event = ctx.Event()
        self.prefix = prefix
        receive, send = ctx.Pipe(duplex=False)
        self.receive = receive
        self.process = ctx.Process(
            target=writer_main,
            args=(self.port, prefix, self.stop_event, self.acked_count, send),
            daemon=True,
        )
        self.process.start()
        send.close()

    def wait_acks(self, n, timeout):
        deadline = time.monotonic() + timeout
        while self.acked_count.value < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"writer got only {self.acked_count.value} acks, expected {n}")
            time.sleep(0.002)

    def finish(self):
        self.stop_event.set()
        result = self.receive.recv()
        self.process.join(5)
        return result


def longest_gap(times, since):
    """Longest interval between consecutive acks, starting from the last ack before `since`."""
    start = 0
    for k, t in enumerate(times):
        if t < since:
            start = k
    best = (0.0, None)
    for k in range(start + 1, len(times)):
        gap = times[k] - times[k - 1]
        if gap > best[0]:
            best = (gap, times[k - 1] - since)
    return best  # (gap seconds, gap start relative to `since`)


def count_lost(port, prefix, acked):
    """Acknowledged keys that are missing (or hold another value) on the node behind `port`."""
    lost = 0
    with Resp(port, timeout=5.0) as conn:
        for s in range(0, len(acked), 1000):
            batch = acked[s : s + 1000]
            values = conn.call("MGET", *[f"{prefix}{i}" for i in batch])
            lost += sum(1 for i, v in zip(batch, values) if v != str(i).encode())
    return lost


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ping(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server on {port} exited with {proc.returncode}")
        try:
            if redis_call(port, "PING", timeout=0.5) == "PONG":
                return
        except (OSError, ConnectionError, RespError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server on {port} does not answer PING")
        time.sleep(0.002)


class RawGroup:
    """1 primary + 2 replicas of plain redis-server, failed over by hand (the floor)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.ports = [free_port() for _ in range(3)]
        self.procs = [None, None, None]
        self.primary = 0
        self.start_node(0, None)
        for k in (1, 2):
            self.start_node(k, self.ports[0])
        for k in (1, 2):
            self.wait_synced(k)

    def start_node(self, k, replica_of):
        d = os.path.join(self.workdir, f"raw{k}")
        # Disk-based sync leaves a dump.rdb (written by a primary's BGSAVE for a full sync and by
        # the replica that received it) that a restart would load: remove it, so the node
        # really starts empty and needs a full sync.
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d, exist_ok=True)
        cmd = ["redis-server", "--port", str(self.ports[k]), "--bind", "127.0.0.1"]
        cmd += NODE_FLAGS + ["--daemonize", "no", "--protected-mode", "no", "--dir", d]
        if replica_of is not None:
            cmd += ["--replicaof", "127.0.0.1", str(replica_of)]
        log = open(os.path.join(d, "redis.log"), "ab")
        self.procs[k] = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=_die_with_parent
        )
        log.close()
        wait_ping(self.ports[k], self.procs[k])

    def wait_synced(self, k, timeout=10.0):
        target = int(replication_info(self.ports[self.primary])["master_repl_offset"])
        deadline = time.monotonic() + timeout
        while True:
            try:
                info = replication_info(self.ports[k])
            except (OSError, ConnectionError, RespError) as error:
                info = {"error": repr(error)}  # a slow reply is retried until the deadline
            if (
                info.get("master_link_status") == "up"
                and int(info.get("slave_repl_offset", -1)) >= target
            ):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"raw node {k} did not sync: {info}")
            time.sleep(0.001)

    def failover(self, writer):
        """Returns the phase times, in time.monotonic()."""
        old = self.primary
        before = {k: sync_counts(self.ports[k]) for k in range(3) if k != old}
        t0 = time.monotonic()
        self.procs[old].kill()
        self.procs[old].wait()
        offsets = {}
        for k in range(3):
            if k != old:
                try:
                    offsets[k] = int(replication_info(self.ports[k]).get("slave_repl_offset", -1))
                except (OSError, ConnectionError, RespError):
                    pass
        best = min(offsets, key=lambda k: (-offsets[k], k))
        redis_call(self.ports[best], "REPLICAOF", "NO", "ONE")
        self.primary = best
        writer.port.value = self.ports[best]  # the "endpoint switch"
        t_writable = time.monotonic()
        for k in offsets:
            if k != best:
                redis_call(self.ports[k], "REPLICAOF", "127.0.0.1", self.ports[best])
        t_restart = time.monotonic()
        self.start_node(old, self.ports[best])
        t_answering = time.monotonic()
        self.wait_synced(old)
        t_done = time.monotonic()
        after = sync_counts(self.ports[best])
        self.syncs = (after[0] - before[best][0], after[1] - before[best][1])
        return t0, t_writable, t_restart, t_answering, t_done

    def stop(self):
        for p in self.procs:
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


class Server:
    def __init__(self, binary, workdir, extra_args=(), keep_nodes=False):
        self.log_path = os.path.join(workdir, "server.log")
        self.log = open(self.log_path, "wb")
        # Every node on 127.0.0.1 with a port of its own: the script's RESP client reads the
        # nodes' INFO at 127.0.0.1:<port> (the default gives each node its own 127.X.Y.Z).
        args = [binary, "--listen", "127.0.0.1:0", "--failover-quota", "1000",
                "--node-addresses", "shared", *extra_args]
        if keep_nodes:
            args += ["--data-dir", os.path.join(workdir, "server-nodes")]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env={**os.environ, "NO_COLOR": "1"},
        )
        line = self.proc.stdout.readline().decode().strip()
        if "listening on http://" not in line:
            self.stop()
            raise RuntimeError(f"server did not start: {line!r}; see {self.log_path}")
        self.url = line.split("listening on ", 1)[1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def complaints(self):
        with open(self.log_path, errors="replace") as log:
            return [l.rstrip() for l in log if " WARN " in l or " ERROR " in l]


# --------------------------------------------------------------------------------------------
# The elasticache-local side
# --------------------------------------------------------------------------------------------


def make_client(url):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "elasticache",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


def describe_group(ec):
    group = ec.describe_replication_groups(ReplicationGroupId=GROUP_ID)["ReplicationGroups"][0]
    return group


def create_group(ec):
    ec.create_replication_group(
        ReplicationGroupId=GROUP_ID,
        ReplicationGroupDescription="failover benchmark",
        NumCacheClusters=3,
        AutomaticFailoverEnabled=True,
    )
    deadline = time.monotonic() + 30
    while True:
        group = describe_group(ec)
        if group["Status"] == "available":
            return group
        if time.monotonic() > deadline:
            raise RuntimeError(f"group still {group['Status']}")
        time.sleep(0.01)


def primary_member(group):
    for m in group["NodeGroups"][0]["NodeGroupMembers"]:
        if m["CurrentRole"] == "primary":
            return m["CacheClusterId"]
    raise RuntimeError("group has no primary")


def events_since(ec, start_wall, **filters):
    start = dt.datetime.fromtimestamp(start_wall, dt.timezone.utc)
    return ec.describe_events(StartTime=start, MaxRecords=100, **filters)["Events"]


def test_failover(ec, deadline=30.0):
    """TestFailover, retried while the previous failover is still marked in flight (the server
    writes 'Finished recovery' just before it clears that flag, and after a failed recovery the
    group may need a repair first). Returns (t_sent, retries)."""
    retries = 0
    end = time.monotonic() + deadline
    while True:
        t_sent = time.monotonic()
        try:
            ec.test_failover(ReplicationGroupId=GROUP_ID, NodeGroupId="0001")
            return t_sent, retries
        except ec.exceptions.InvalidReplicationGroupStateFault:
            if time.monotonic() > end:
                raise
            retries += 1
            time.sleep(0.002)


def warm_up(ec):
    """botocore loads and compiles each operation's model on its first call (tens of ms):
    make those first calls before anything is timed."""
    events_since(ec, time.time() - 1, SourceIdentifier="none", SourceType="cache-cluster")
    try:
        ec.test_failover(ReplicationGroupId="bench-none", NodeGroupId="0001")
    except ec.exceptions.ClientError:
        pass


def run_elasticache(ec, endpoint_port, run, poll_interval):
    group = describe_group(ec)
    old_primary = primary_member(group)
    syncs_before = {
        m["CacheClusterId"]: sync_counts(m["ReadEndpoint"]["Port"])
        for m in group["NodeGroups"][0]["NodeGroupMembers"]
    }
    redis_call(endpoint_port, "FLUSHALL")
    prefix = f"a{run}:"
    writer = Writer(endpoint_port, prefix)
    try:
        writer.wait_acks(200, 10)
        time.sleep(0.05)
        call_wall = time.time()
        t_sent, retries = test_failover(ec)
        t_answered = time.monotonic()
        polls = 0
        poll_times = []
        failure = None
        deadline = t_sent + 30
        while True:
            t_poll = time.monotonic()
            events = events_since(
                ec, call_wall - 0.005, SourceIdentifier=old_primary, SourceType="cache-cluster"
            )
            polls += 1
            poll_times.append(time.monotonic() - t_poll)
            done = [e for e in events if e["Message"] == FINISHED]
            failed = [e for e in events if e["Message"].startswith("Failed")]
            if done:
                t_visible = time.monotonic()
                break
            if failed or time.monotonic() > deadline:
                failure = failed[0]["Message"] if failed else "no 'Finished recovery' within 30 s"
                break
            time.sleep(poll_interval)
        # Let the writer show it is writing again after recovery, then stop it.
        seen = writer.acked_count.value
        try:
            writer.wait_acks(seen + 50, 10)
        except RuntimeError:
            if failure is None:
                raise
    finally:
        acked, times, errors, connects = writer.finish()
    try:
        lost = count_lost(endpoint_port, prefix, acked)
    except (OSError, ConnectionError, RespError) as error:
        if failure is None:
            raise
        lost = f"? ({error})"
    gap, gap_at = longest_gap(times, t_sent)
    syncs = None
    try:
        after = describe_group(ec)
        new_primary = primary_member(after)
        port = next(
            m["ReadEndpoint"]["Port"]
            for m in after["NodeGroups"][0]["NodeGroupMembers"]
            if m["CacheClusterId"] == new_primary
        )
        full, partial = sync_counts(port)
        syncs = (full - syncs_before[new_primary][0], partial - syncs_before[new_primary][1])
    except (OSError, ConnectionError, RespError, KeyError, StopIteration):
        if failure is None:
            raise
    common = {
        "syncs": syncs,
        "call": t_answered - t_sent,
        "polls": polls,
        "poll_rt": statistics.median(poll_times),
        "retries": retries,
        "gap": gap,
        "gap_at": gap_at,
        "lost": lost,
        "acked": len(acked),
        "errors": errors,
        "connects": connects,
    }
    if failure is not None:
        return {**common, "failed": failure, "total": time.monotonic() - t_sent}

    # Server-side span from the events' own dates (millisecond resolution).
    all_events = events_since(ec, call_wall - 0.005)
    mine = [
        e
        for e in all_events
        if e["SourceIdentifier"] in (GROUP_ID, old_primary)
        and not e["Message"].startswith("Cache cluster")
    ]
    mine.sort(key=lambda e: e["Date"])
    first = next(e for e in mine if e["Message"].startswith("Test Failover API called"))
    last = next(e for e in reversed(mine) if e["Message"] == FINISHED)
    promoted = next(e for e in mine if e["Message"].startswith("Failover from primary"))
    recovering = next(e for e in mine if e["Message"].startswith("Recovering cache nodes"))
    span = (last["Date"] - first["Date"]).total_seconds()
    return {
        **common,
        "failed": None,
        "total": t_visible - t_sent,
        "span": span,
        "ev_promote": (promoted["Date"] - first["Date"]).total_seconds(),
        "ev_recover": (last["Date"] - recovering["Date"]).total_seconds(),
        "detect": (t_visible - t_sent) - span,
    }


def run_floor(raw, run):
    port = raw.ports[raw.primary]
    redis_call(port, "FLUSHALL")
    prefix = f"d{run}:"
    writer = Writer(port, prefix)
    try:
        writer.wait_acks(200, 10)
        time.sleep(0.05)
        t0, t_writable, t_restart, t_answering, t_done = raw.failover(writer)
        seen = writer.acked_count.value
        writer.wait_acks(seen + 50, 10)
    finally:
        acked, times, errors, connects = writer.finish()
    lost = count_lost(raw.ports[raw.primary], prefix, acked)
    gap, gap_at = longest_gap(times, t0)
    return {
        "total": t_done - t0,
        "writable": t_writable - t0,
        "restart": t_answering - t_restart,
        "syncs": raw.syncs,
        "sync": t_done - t_answering,
        "gap": gap,
        "gap_at": gap_at,
        "lost": lost,
        "acked": len(acked),
        "errors": errors,
        "connects": connects,
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def ms(x):
    return f"{x * 1000:8.1f}"


def stats_row(label, values, fmt, goal=""):
    med, lo, hi = statistics.median(values), min(values), max(values)
    return f"  {label:<44} {fmt(med)} {fmt(lo)} {fmt(hi)}   {goal}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="failovers of each kind (>= 10)")
    parser.add_argument(
        "--binary",
        default=os.path.join(ROOT, "target", "release", "elasticache-local"),
        help="the elasticache-local binary",
    )
    parser.add_argument(
        "--poll-ms", type=float, default=2.0, help="sleep between DescribeEvents polls"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (server and node logs)")
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra elasticache-local argument (repeatable), e.g. --server-arg=--health-check-interval-ms=60000",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print every run")
    args = parser.parse_args()
    if args.runs < 10:
        print(f"note: --runs {args.runs} is below the 10 runs the medians are meant for")
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"no binary at {args.binary}: run `cargo build --release` first")

    # SIGTERM/SIGINT unwind through the finally blocks, so nothing is left running.
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)

    workdir = tempfile.mkdtemp(prefix="bench-failover-")
    server = raw = ec = None
    results_a, results_d = [], []
    try:
        server = Server(args.binary, workdir, args.server_arg, keep_nodes=args.keep)
        ec = make_client(server.url)
        warm_up(ec)
        group = create_group(ec)
        endpoint_port = group["NodeGroups"][0]["PrimaryEndpoint"]["Port"]
        raw = RawGroup(workdir)
        print(f"load average at start: {open('/proc/loadavg').read().split(' ', 3)[:3]}")
        print(
            f"elasticache-local {server.url}, group {GROUP_ID} (3 nodes, primary endpoint "
            f":{endpoint_port}); floor: redis-server :{raw.ports}; {args.runs} runs each",
            flush=True,
        )
        for run in range(args.runs):
            order = ("a", "d") if run % 2 == 0 else ("d", "a")
            for kind in order:
                if kind == "a":
                    r = run_elasticache(ec, endpoint_port, run, args.poll_ms / 1000)
                    results_a.append(r)
                    if r["failed"]:
                        line = (
                            f"  run {run:2d} (a) FAILED after {ms(r['total'])} ms: {r['failed']}"
                            f"  gap {ms(r['gap'])} (at {ms(r['gap_at'])})  lost {r['lost']}/{r['acked']}"
                        )
                    else:
                        line = (
                        f"  run {run:2d} (a) total {ms(r['total'])} ms  span {ms(r['span'])}"
                        f"  promote@{ms(r['ev_promote'])}  recover {ms(r['ev_recover'])}"
                        f"  gap {ms(r['gap'])} (at {ms(r['gap_at'])})  lost {r['lost']}/{r['acked']}"
                        f"  polls {r['polls']} retries {r['retries']}  syncs full/partial {r['syncs'][0]}/{r['syncs'][1]}"
                        )
                else:
                    r = run_floor(raw, run)
                    results_d.append(r)
                    line = (
                        f"  run {run:2d} (d) total {ms(r['total'])} ms  writable@{ms(r['writable'])}"
                        f"  restart {ms(r['restart'])}  sync {ms(r['sync'])}"
                        f"  syncs full/partial {r['syncs'][0]}/{r['syncs'][1]}"
                        f"  gap {ms(r['gap'])} (at {ms(r['gap_at'])})  lost {r['lost']}/{r['acked']}"
                    )
                if not args.quiet:
                    print(line, flush=True)
    finally:
        if ec is not None:
            ec.close()
        if raw is not None:
            raw.stop()
        if server is not None:
            server.stop()
            complaints = server.complaints()
            if complaints:
                print(f"\nserver log: {len(complaints)} WARN/ERROR lines, e.g.:")
                for line in complaints[:5]:
                    print("  " + line[:300])
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"load average at end: {open('/proc/loadavg').read().split(' ', 3)[:3]}")
    A, D = [r for r in results_a if not r["failed"]], results_d
    failed = [r for r in results_a if r["failed"]]
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    ok = lambda cond: "ok" if cond else "MISSED"
    num = lambda x: f"{x:8.0f}"
    print()
    print(f"  {'metric (n=' + str(len(results_a)) + ' each)':<44} {'median':>8} {'min':>8} {'max':>8}   goal")
    print("  " + "-" * 96)
    if failed:
        print(f"  {'(a) FAILED failovers (left out of (a))':<44} {len(failed):8d}{'':18}   "
              f"{failed[0]['failed'][:60]}")
    if A:
        print(stats_row(f"(a) TestFailover -> 'Finished recovery' [ms]", [r["total"] for r in A], ms,
                        f"< {GOAL_CALL_TO_EVENT * 1000:.0f} ms: {ok(med(A, 'total') < GOAL_CALL_TO_EVENT)}"))
        print(stats_row("    server span, event Dates first->last", [r["span"] for r in A], ms))
        print(stats_row("      called -> failover completed (promoted)", [r["ev_promote"] for r in A], ms))
        print(stats_row("      recovering -> finished recovery", [r["ev_recover"] for r in A], ms))
        print(stats_row("    TestFailover call latency", [r["call"] for r in A], ms))
        print(stats_row("    client overhead: (a) - span", [r["detect"] for r in A], ms))
    print(stats_row("(d) floor: kill -> old node synced [ms]", [r["total"] for r in D], ms))
    print(stats_row("      floor: kill -> new primary writable", [r["writable"] for r in D], ms))
    print(stats_row("      floor: restart old node -> answers PING", [r["restart"] for r in D], ms))
    print(stats_row("      floor: answers PING -> synced", [r["sync"] for r in D], ms))
    if A:
        ratio = med(A, "total") / med(D, "total")
        print(f"  {'ratio (a)/(d) of medians':<44} {ratio:8.2f}{'':18}   < {GOAL_RATIO:.0f}x: {ok(ratio < GOAL_RATIO)}")
    R = results_a  # (b) and (c) count every run, failed recoveries too
    print(stats_row("(b) longest write gap, primary endpoint [ms]", [r["gap"] for r in R], ms))
    print(stats_row("    longest write gap, floor [ms]", [r["gap"] for r in D], ms))
    lost_a = [r["lost"] for r in R if isinstance(r["lost"], int)]
    unknown = len(R) - len(lost_a)
    print(stats_row("(c) acknowledged writes lost", lost_a, num,
                    f"{GOAL_LOST}: {ok(max(lost_a) <= GOAL_LOST and not unknown)} (total {sum(lost_a)}"
                    + (f", {unknown} runs not checked)" if unknown else ")")))
    print(stats_row("    acknowledged writes lost, floor", [r["lost"] for r in D], num,
                    f"(total {sum(r['lost'] for r in D)})"))
    print(stats_row("    acknowledged writes per run", [r["acked"] for r in R], num))
    print(stats_row("    writer errors per run (reconnects)", [r["errors"] for r in R], num))
    print(stats_row("    DescribeEvents polls per run", [r["polls"] for r in R], num))
    print(stats_row("    DescribeEvents round trip (median per run)", [r["poll_rt"] for r in R], ms))
    restored = sum(1 for r in R if r["syncs"] and r["syncs"][0] == 0)
    print(f"  {'    recoveries without a full sync':<44} {restored:8d}{'':18}   "
          "(the 'empty' node loaded a leftover dump.rdb and resynced partially)")
    print(f"  {'    floor recoveries without a full sync':<44} "
          f"{sum(1 for r in D if r['syncs'][0] == 0):8d}")
    print(stats_row("    TestFailover retries (group busy)", [r["retries"] for r in R], num))

if __name__ == "__main__":
    main()
