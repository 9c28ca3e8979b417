#!/usr/bin/env python3
"""Side-by-side API benchmark: elasticache-local against its peers, in one run, interleaved.

    python3 bench/peers.py [--with-moto] [--rounds 3] [--duration 5] [--latency-runs 3]
                           [--binary PATH] [--pin]

Peers: moto_server (with --with-moto the script installs `moto[server]` into
target/bench-venv when it is missing) and fakecloud when the env var FAKECLOUD points at its
binary (never in CI: it takes ~45 min to build on 2 cores). Each server gets one 3-node
replication group (so DescribeReplicationGroups has something to return), then, per round and
per server in turn: DescribeReplicationGroups and DescribeEvents throughput at 8 connections
(wrk with a Lua script) and DescribeEvents filtered to an empty answer (fakecloud records no
events, so this is the like-for-like one); then p50/p99 at 1 connection in --latency-runs runs
of 2 s per action that alternate between the servers; and DescribeReplicationGroups with 50
groups. Each metric is the median over all its runs. Separately: cold start to the first 200
(median of 10) and idle RSS of the API process (redis-server children reported apart). Prints a table per metric with ratios to us.
With --pin every server runs on CPU 1 and wrk on CPU 0 (taskset), which takes the scheduler's
noise out of the comparison. Only 127.0.0.1 is used; every process started is stopped at the end.
"""
import argparse, os, re, signal, statistics, subprocess, sys, tempfile, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/elasticache/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0")
LUA = """wrk.method = "POST"
wrk.body = "{body}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
wrk.headers["Authorization"] = "{auth}"
wrk.headers["X-Amz-Date"] = "20260101T000000Z"
"""


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body, timeout=5):
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": AUTH, "X-Amz-Date": "20260101T000000Z"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read()


class Server:
    def __init__(self, name, argv_for_port, env=None):
        self.name, self.argv_for_port, self.env = name, argv_for_port, env
        self.proc = None

    def start(self):
        """Starts the server; returns seconds from spawn to the first 200."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        started = time.perf_counter()
        self.proc = subprocess.Popen(PIN_SERVER + self.argv_for_port(self.port), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env={**os.environ, **(self.env or {})})
        deadline = started + 30
        while time.perf_counter() < deadline:
            try:
                # DescribeReplicationGroups: moto answers DescribeEvents with HTTP 500.
                if post(self.url, "Action=DescribeReplicationGroups&Version=2015-02-02", timeout=1)[0] == 200:
                    return time.perf_counter() - started
            except Exception:
                time.sleep(0.001)
        raise RuntimeError(f"{self.name} did not answer within 30 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def rss_mib(self):
        own = read_rss(self.proc.pid)
        children = sum(read_rss(p) for p in child_pids(self.proc.pid))
        return own / 1024, children / 1024


def read_rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


def child_pids(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def create_groups(server, count, nodes, prefix):
    for i in range(count):
        body = (f"Action=CreateReplicationGroup&Version=2015-02-02&ReplicationGroupId={prefix}{i}"
                f"&ReplicationGroupDescription=bench&NumCacheClusters={nodes}")
        try:
            post(server.url, body)
        except urllib.error.HTTPError as error:  # a peer without this action: describe stays empty
            detail = error.read().decode(errors="replace")[:300]
            print(f"{server.name}: CreateReplicationGroup {i} answered HTTP {error.code}: {detail}", file=sys.stderr)
            return
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until no group is still creating
        status, text = post(server.url, "Action=DescribeReplicationGroups&Version=2015-02-02")
        if status == 200 and b"<Status>creating</Status>" not in text:
            return
        time.sleep(0.05)


ACTIONS = ["DescribeReplicationGroups", "DescribeEvents"]
LATENCY_RUN_SECONDS = 2
PIN_SERVER, PIN_LOAD = [], []  # taskset prefixes, set by --pin


def wrk(url, body, connections, duration, lua_dir):
    script = os.path.join(lua_dir, "req.lua")
    with open(script, "w") as f:
        f.write(LUA.format(body=body, auth=AUTH))
    out = subprocess.run(PIN_LOAD + ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{duration}s",
                          "--latency", "-s", script, url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "errors": int(non2xx.group(1)) if non2xx else 0}


def ensure_moto():
    venv = os.path.join(ROOT, "target", "bench-venv")
    exe = os.path.join(venv, "bin", "moto_server")
    if not os.path.exists(exe):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "moto[server]"], check=True)
    return exe


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "elasticache-local"))
    ap.add_argument("--with-moto", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--latency-runs", type=int, default=3, help="1-connection runs per server and round")
    ap.add_argument("--pin", action="store_true")
    args = ap.parse_args()
    if args.pin:
        PIN_SERVER[:] = ["taskset", "-c", "1"]
        PIN_LOAD[:] = ["taskset", "-c", "0"]

    factories = {"elasticache-local": lambda: Server("elasticache-local", lambda p: [args.binary, "--listen", f"127.0.0.1:{p}"])}
    if args.with_moto:
        moto = ensure_moto()
        factories["moto"] = lambda: Server("moto", lambda p: [moto, "-H", "127.0.0.1", "-p", str(p)])
    if os.environ.get("FAKECLOUD"):
        fc = os.environ["FAKECLOUD"]
        # Its default address is 0.0.0.0:4566: always give it a loopback one.
        factories["fakecloud"] = lambda: Server("fakecloud", lambda p: [fc, "--addr", f"127.0.0.1:{p}"])

    results = {}  # (metric, server) -> list of values
    def add(metric, name, value):
        results.setdefault((metric, name), []).append(value)

    for name, make in factories.items():  # cold start and idle memory, interleaved runs of 10
        for _ in range(10):
            s = make()
            try:
                add("cold start to first 200 (ms)", name, s.start() * 1000)
            finally:
                s.stop()
    servers = {name: make() for name, make in factories.items()}
    try:
        for s in servers.values():
            s.start()
            create_groups(s, 1, 3, "three")
            time.sleep(0.5)
            own, children = s.rss_mib()
            add("idle RSS of the API process (MiB)", s.name, own)
            add("RSS of redis-server children (MiB)", s.name, children)
        with tempfile.TemporaryDirectory() as lua_dir:
            for _ in range(args.rounds):
                for s in servers.values():
                    for action in ACTIONS:
                        r8 = wrk(s.url, f"Action={action}&Version=2015-02-02", 8, args.duration, lua_dir)
                        # Requests that failed (moto: HTTP 500 for DescribeEvents) are not throughput.
                        add(f"{action} req/s at 8 conns", s.name, r8["rps"] if r8["errors"] == 0 else float("nan"))
                        add(f"{action} non-2xx", s.name, r8["errors"])
                    # Like for like: fakecloud records no events, so its DescribeEvents answers
                    # an empty list while ours lists the group's; this filter empties both.
                    body = "Action=DescribeEvents&Version=2015-02-02&SourceType=cache-subnet-group"
                    r8 = wrk(s.url, body, 8, args.duration, lua_dir)
                    add("DescribeEvents, empty answer, req/s at 8 conns", s.name,
                        r8["rps"] if r8["errors"] == 0 else float("nan"))
                # A p99 at one connection moves with whatever else the machine does for a few
                # seconds, so it is taken in short runs that alternate between the servers.
                for _ in range(args.latency_runs):
                    for s in servers.values():
                        for action in ACTIONS:
                            r1 = wrk(s.url, f"Action={action}&Version=2015-02-02", 1, LATENCY_RUN_SECONDS, lua_dir)
                            ok = r1["errors"] == 0
                            add(f"{action} p50 ms at 1 conn", s.name, r1["p50"] if ok else float("nan"))
                            add(f"{action} p99 ms at 1 conn", s.name, r1["p99"] if ok else float("nan"))
            for s in servers.values():  # 50 groups (1 node each)
                create_groups(s, 49, 1, "one")  # 50 groups with the 3-node one
            with tempfile.TemporaryDirectory() as lua_dir2:
                for _ in range(args.rounds):
                    for s in servers.values():
                        r = wrk(s.url, "Action=DescribeReplicationGroups&Version=2015-02-02", 8, args.duration, lua_dir2)
                        add("DescribeReplicationGroups, 50 groups, req/s at 8 conns", s.name, r["rps"])
    finally:
        for s in servers.values():
            s.stop()

    names = list(factories)
    metrics = list(dict.fromkeys(m for m, _ in results))
    print(f"{'metric (median over rounds)':58}" + "".join(f"{n:>20}" for n in names) + "   ratio(s) to elasticache-local")
    print("(nan: the server answered errors, e.g. moto's HTTP 500 for DescribeEvents)")
    for m in metrics:
        meds = {n: statistics.median(results[(m, n)]) for n in names if (m, n) in results}
        ours = meds.get("elasticache-local")
        ratios = ", ".join(f"{n} {meds[n] / ours:.2f}x" for n in names[1:] if n in meds and ours)
        print(f"{m:58}" + "".join(f"{meds.get(n, float('nan')):>20.3f}" for n in names) + f"   {ratios}")


if __name__ == "__main__":
    main()
