#!/usr/bin/env bash
# Cost of elasticache-local's primary endpoint proxy.
#
# Starts the server, creates a 1-node replication group and runs redis-benchmark
# (-t set,get; -n 100000 -c 50 and -n 20000 -c 1) against:
#   direct  the node's own port (its ReadEndpoint)
#   proxy   the group's PrimaryEndpoint (the server's TCP proxy in front of the node)
#   socat   socat as a reference proxy to the same node (skipped if socat is not installed)
# and prints rps and p50 for each, then the per-request cost of each proxy at c=1:
#   1e6/rps_proxy - 1e6/rps_direct  (microseconds).
#
# Usage: [REPEAT=3] bench/proxy.sh [BINARY]   (default: target/release/elasticache-local)
# Each run is repeated REPEAT times (targets interleaved) and the medians are reported.
# Everything it starts is stopped on exit (trap EXIT).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BINARY="${1:-$ROOT/target/release/elasticache-local}"
[[ -x "$BINARY" ]] || { echo "no binary at $BINARY: run cargo build --release first" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark is not installed" >&2; exit 1; }

WORK="$(mktemp -d -t bench-proxy-XXXXXX)"
SERVER_PID=""
SOCAT_PID=""

cleanup() {
  local status=$?
  if [[ -n "$SOCAT_PID" ]]; then
    # socat runs in its own session (setsid): its process group is its forked children too.
    kill -TERM -- "-$SOCAT_PID" 2>/dev/null || true
    wait "$SOCAT_PID" 2>/dev/null || true
  fi
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true  # the server stops its redis-servers
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- server and group -------------------------------------------------------------------
"$BINARY" --listen 127.0.0.1:0 >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 200); do
  grep -q "listening on" "$WORK/server.out" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.05
done
URL="$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/server.out")"
[[ -n "$URL" ]] || { echo "server did not start" >&2; exit 1; }

api() {  # unsigned Query API call: api Action Key=Value...
  local args=(-s --fail-with-body "$URL/" -d "Action=$1" -d "Version=2015-02-02")
  shift
  for kv in "$@"; do args+=(-d "$kv"); done
  curl "${args[@]}"
}

api CreateReplicationGroup ReplicationGroupId=bench-proxy \
  ReplicationGroupDescription=proxy-benchmark NumCacheClusters=1 >/dev/null
for _ in $(seq 500); do
  DESC="$(api DescribeReplicationGroups ReplicationGroupId=bench-proxy)"
  grep -q "<Status>available</Status>" <<<"$DESC" && break
  sleep 0.02
done
PROXY_PORT="$(grep -o '<PrimaryEndpoint><Address>127.0.0.1</Address><Port>[0-9]*' <<<"$DESC" | grep -o '[0-9]*$')"
DIRECT_PORT="$(grep -o '<ReadEndpoint><Address>127.0.0.1</Address><Port>[0-9]*' <<<"$DESC" | grep -o '[0-9]*$' | head -1)"
[[ -n "$PROXY_PORT" && -n "$DIRECT_PORT" ]] || { echo "could not read the endpoints: $DESC" >&2; exit 1; }

TARGETS=("direct:$DIRECT_PORT" "proxy:$PROXY_PORT")
if command -v socat >/dev/null; then
  SOCAT_PORT="$(free_port)"
  setsid socat "TCP-LISTEN:$SOCAT_PORT,bind=127.0.0.1,reuseaddr,fork,backlog=512" \
    "TCP:127.0.0.1:$DIRECT_PORT" &
  SOCAT_PID=$!
  for _ in $(seq 100); do
    redis-cli -p "$SOCAT_PORT" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  TARGETS+=("socat:$SOCAT_PORT")
else
  echo "socat not installed: no reference proxy" >&2
fi

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "elasticache-local $URL; node :$DIRECT_PORT, primary endpoint :$PROXY_PORT${SOCAT_PORT:+, socat :$SOCAT_PORT}"
echo

# --- benchmark ----------------------------------------------------------------------------
# Each (target, c) run is repeated REPEAT times, targets interleaved, and the median is kept: one
# c=1 run on 2 cores is easily off by 2x when anything else wakes up.
REPEAT="${REPEAT:-3}"
declare -A RPS P50   # [target,clients,test] = space-separated samples
for rep in $(seq "$REPEAT"); do
  for clients_n in "50 100000" "1 20000"; do
    read -r clients n <<<"$clients_n"
    for target in "${TARGETS[@]}"; do
      name="${target%%:*}"; port="${target##*:}"
      redis-cli -p "$DIRECT_PORT" flushall >/dev/null
      out="$(redis-benchmark -p "$port" -t set,get -n "$n" -c "$clients" --csv -q)"
      while IFS=, read -r test rps _avg _min p50 _rest; do
        test="${test//\"/}"; [[ "$test" == "test" || -z "$test" ]] && continue
        RPS[$name,$clients,$test]+="${rps//\"/} "
        P50[$name,$clients,$test]+="${p50//\"/} "
      done <<<"$out"
    done
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
declare -A MRPS MP50
for key in "${!RPS[@]}"; do
  MRPS[$key]="$(median "${RPS[$key]}")"
  MP50[$key]="$(median "${P50[$key]}")"
done

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median of $REPEAT runs each (all rps samples in the last column)"
printf '%-8s %4s %7s %5s %12s %10s   %s\n' target c n test rps p50_ms "rps samples"
printf '%s\n' "------------------------------------------------------------------------------------------"
for clients_n in "50 100000" "1 20000"; do
  read -r clients n <<<"$clients_n"
  for target in "${TARGETS[@]}"; do
    name="${target%%:*}"
    for test in SET GET; do
      printf '%-8s %4s %7s %5s %12s %10s   %s\n' "$name" "$clients" "$n" "$test" \
        "${MRPS[$name,$clients,$test]}" "${MP50[$name,$clients,$test]}" "${RPS[$name,$clients,$test]}"
    done
  done
done

echo
echo "per-request cost vs direct at c=1 (1e6/rps_proxy - 1e6/rps_direct):"
for target in "${TARGETS[@]:1}"; do
  name="${target%%:*}"
  for test in SET GET; do
    awk -v n="$name" -v t="$test" -v p="${MRPS[$name,1,$test]}" -v d="${MRPS[direct,1,$test]}" \
      'BEGIN { printf "  %-6s %s  %+7.1f us/request  (%.1f vs %.1f us)\n", n, t, 1e6/p - 1e6/d, 1e6/p, 1e6/d }'
  done
done
echo "throughput at c=50 relative to direct:"
for target in "${TARGETS[@]:1}"; do
  name="${target%%:*}"
  for test in SET GET; do
    awk -v n="$name" -v t="$test" -v p="${MRPS[$name,50,$test]}" -v d="${MRPS[direct,50,$test]}" \
      'BEGIN { printf "  %-6s %s  %5.0f%%\n", n, t, 100 * p / d }'
  done
done
