#!/usr/bin/env bash
# Fuzzes elasticache-local against openapi.yaml with schemathesis.
#
# Starts the server on a free loopback port with a fake redis-server (it answers `--version` and
# exits 1 otherwise, so a fuzzed CreateReplicationGroup never starts a node), runs schemathesis's
# examples, coverage and fuzzing phases (25 examples per action, tests/schemathesis/schemathesis.toml)
# with these checks: no 5xx (not_a_server_error); every answer an AWS XML envelope
# (aws_xml_envelope, tests/schemathesis/checks.py; the control endpoints answer JSON); and status
# codes and content types that openapi.yaml declares. Afterwards the server must still be healthy
# with no redis-server running. Prints a summary and exits non-zero on any failure; the server
# is always stopped.
#
# Schemathesis is installed into target/schemathesis-venv when missing (override the place with
# SCHEMATHESIS_VENV). Extra arguments go to `schemathesis run` (e.g. --seed 1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCHEMATHESIS_VERSION=4.32.5
VENV=${SCHEMATHESIS_VENV:-$ROOT/target/schemathesis-venv}
ST=$VENV/bin/schemathesis
if ! "$ST" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  echo "schemathesis.sh: installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Always build: a no-op when the binary is current, and never a stale server.
cargo build --quiet --bin elasticache-local
BIN=$ROOT/target/debug/elasticache-local

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$WORK/redis-server" <<'FAKE'
#!/bin/sh
if [ "$1" = "--version" ]; then
  echo 'Redis server v=7.0.15 sha=0'
  exit 0
fi
exit 1
FAKE
chmod +x "$WORK/redis-server"

# No fixtures or data dir from the caller's environment: nothing but the fuzzer's requests.
env -u ELASTICACHE_LOCAL_FIXTURES -u ELASTICACHE_LOCAL_DATA_DIR -u ELASTICACHE_LOCAL_LISTEN \
  RUST_LOG=info "$BIN" --listen 127.0.0.1:0 --redis-server "$WORK/redis-server" \
  >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!

URL=
for _ in $(seq 1 300); do
  URL=$(sed -n 's/^elasticache-local listening on \(http:\/\/[^ ]*\)$/\1/p' "$WORK/server.out")
  [ -n "$URL" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "schemathesis.sh: the server exited before it was ready:" >&2
    cat "$WORK/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$URL" ]; then
  echo "schemathesis.sh: no ready line from the server within 30 s" >&2
  exit 1
fi
echo "schemathesis.sh: server ready at $URL (pid $SERVER_PID)"

started=$(date +%s)
status=0
PYTHONPATH="$ROOT/tests/schemathesis${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=checks \
  timeout 300 "$ST" --config-file "$ROOT/tests/schemathesis/schemathesis.toml" --no-color run \
  "$ROOT/openapi.yaml" --url "$URL" \
  --phases examples,coverage,fuzzing \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,aws_xml_envelope \
  --workers 2 \
  --report json --report-json-path "$WORK/report.json" \
  "$@" || status=$?
elapsed=$(($(date +%s) - started))

# The server must have survived the run and left nothing running.
health_ok=1
python3 - "$URL" <<'PY' || health_ok=0
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_health", timeout=10) as response:
    health = json.load(response)
assert health["status"] == "ok", health
assert health["redis_processes"] == 0, f"redis-server processes still running: {health}"
PY

echo
echo "schemathesis.sh: summary"
python3 - "$WORK/report.json" "$WORK/server.log" "$status" "$elapsed" <<'PY' || true
import collections, json, re, sys
report_path, log_path, status, elapsed = sys.argv[1:]
try:
    report = json.load(open(report_path))
except (OSError, ValueError):
    report = None
if report:
    cases = report["test_cases"]
    print(f"  test cases: {cases['generated']} generated, {cases['with_failures']} with failures, "
          f"{cases['errored']} errored; unique failures {cases['unique_failures']}; "
          f"errors {len(report['errors'])}")
    for name, phase in report["phases"].items():
        print(f"  phase {name}: {phase['status']}" + (f" ({phase['skip_reason']})" if phase["skip_reason"] else ""))
    print(f"  seed: {report['seed']}")
statuses, actions = collections.Counter(), collections.Counter()
for line in open(log_path, errors="replace"):
    if "api call" not in line:
        continue
    match = re.search(r"status=(\d+)", line)
    statuses[match.group(1) if match else "?"] += 1
    action = re.search(r"action=(\S*)", line)
    name = action.group(1) if action else ""
    actions[name if re.fullmatch(r"[A-Za-z]{1,40}", name) else "(other)"] += 1
print(f"  server answered {sum(statuses.values())} query-API requests; by status: "
      + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
print("  by action: " + ", ".join(f"{a or '(none)'}: {n}" for a, n in actions.most_common()))
print(f"  schemathesis exit status {status}, {elapsed} s")
PY

if [ "$health_ok" != 1 ]; then
  echo "schemathesis.sh: FAILED: the server is unhealthy after the run" >&2
  status=1
fi
if grep -q "panicked" "$WORK/server.log"; then
  echo "schemathesis.sh: FAILED: the server panicked:" >&2
  grep -A3 "panicked" "$WORK/server.log" >&2
  status=1
fi
if [ "$status" != 0 ]; then
  echo "schemathesis.sh: FAILED (exit status $status)" >&2
  exit "$status"
fi
echo "schemathesis.sh: PASSED"
