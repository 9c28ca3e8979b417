#!/usr/bin/env bash
# Builds the repository's Dockerfile (unchanged) on a private dockerd, runs the image the way
# README's "Docker" section does and the Compose file README shows (examples/compose/), and
# checks each: HEALTHCHECK healthy, aws-cli answers, the demo group's primary endpoint answers
# PING, a valkey group made with aws-cli answers PING from the image's valkey-server (and one with
# TLS answers redis-cli --tls from the image's valkey built with TLS), `docker stop` exits 0 within 2 s, and no process of the container is left afterwards.
# The daemon is always stopped by PID at the end, also on failure. Prints the image size and the
# start-to-healthy time. See tests/docker/daemon.sh for the daemon and the base images.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/docker/daemon.sh
. tests/docker/daemon.sh

IMAGE=elasticache-local
CONTAINER=elasticache-local
COMPOSE_FILE=examples/compose/compose.yaml
COMPOSE_PROJECT=elasticache-local-ci
# Measured by the daemon, from the SIGTERM it sends (its `kill` event) to the container's exit
# (its `die` event): the container's own stop time, without the client's start-up (docker-compose
# spends 0.5-3 s starting Python on a loaded machine).
STOP_LIMIT_MS=2000
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
secs() { printf '%d.%03d s' $(($1 / 1000)) $(($1 % 1000)); }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# redis-servers whose parent is gone (reparented to init): what a leaked node looks like.
orphan_redis() { { ps -C redis-server -o pid=,ppid=,stat= 2>/dev/null || true; } | awk '$2 == 1 && $3 !~ /^Z/ {print $1}' | sort; }
compose() { DOCKER_HOST="unix://$DOCKER_SOCK" ELASTICACHE_LOCAL_PORT=${COMPOSE_PORT:-9736} \
  docker-compose -f "$COMPOSE_FILE" -p "$COMPOSE_PROJECT" "$@"; }

cleanup() {
  local rc=$?
  set +e
  if [ -n "$DOCKERD_PID" ]; then
    docker rm -f "$CONTAINER" >/dev/null 2>&1
    compose down --timeout 5 >/dev/null 2>&1
  fi
  stop_daemon
  [ "$rc" -eq 0 ] || echo "docker: FAILED (exit $rc); dockerd log: $DOCKER_LOG" >&2
  exit "$rc"
}

# wait_healthy CONTAINER SECONDS: polls the HEALTHCHECK's status.
wait_healthy() {
  local deadline=$((SECONDS + $2)) status
  while :; do
    status=$(docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' "$1")
    [ "$status" = "running healthy" ] && return 0
    if [ "${status%% *}" != running ] || [ "$SECONDS" -ge "$deadline" ]; then
      echo "docker: $1 is '$status', not 'running healthy'; its output:" >&2
      docker logs --tail 30 "$1" >&2
      return 1
    fi
    sleep 0.2
  done
}

# check_api PORT: aws-cli against the API, then PING and SET/GET through the primary endpoint.
check_api() {
  local out status address port pong
  out=$(aws elasticache describe-replication-groups --endpoint-url "http://127.0.0.1:$1" \
    --replication-group-id demo --output text \
    --query 'ReplicationGroups[0].[Status,NodeGroups[0].PrimaryEndpoint.Address,NodeGroups[0].PrimaryEndpoint.Port]')
  read -r status address port <<<"$out"
  [ "$status" = available ] || { echo "docker: demo group is '$out', not available" >&2; return 1; }
  pong=$(redis-cli -h "$address" -p "$port" PING)
  [ "$pong" = PONG ] || { echo "docker: PING $address:$port answered '$pong'" >&2; return 1; }
  redis-cli -h "$address" -p "$port" SET ci-key ci-value >/dev/null
  [ "$(redis-cli -h "$address" -p "$port" GET ci-key)" = ci-value ]
  echo "docker: aws-cli: demo group available; PING $address:$port (primary endpoint): $pong"
  check_valkey "$1"
  check_valkey_tls "$1"
}

# check_valkey PORT: the image's valkey-server behind an Engine=valkey group: create one, PING
# its primary endpoint, see `server_name:valkey` in INFO server, delete it.
check_valkey() {
  local e="--endpoint-url=http://127.0.0.1:$1" out address port pong server
  aws elasticache create-replication-group "$e" --replication-group-id ci-valkey \
    --replication-group-description valkey --engine valkey --num-cache-clusters 1 >/dev/null
  aws elasticache wait replication-group-available "$e" --replication-group-id ci-valkey
  out=$(aws elasticache describe-replication-groups "$e" --replication-group-id ci-valkey --output text \
    --query 'ReplicationGroups[0].NodeGroups[0].PrimaryEndpoint.[Address,Port]')
  read -r address port <<<"$out"
  pong=$(redis-cli -h "$address" -p "$port" PING)
  [ "$pong" = PONG ] || { echo "docker: PING valkey $address:$port answered '$pong'" >&2; return 1; }
  server=$(redis-cli -h "$address" -p "$port" INFO server | tr -d '\r' | grep '^server_name:' || true)
  [ "$server" = server_name:valkey ] || { echo "docker: the valkey group runs '$server'" >&2; return 1; }
  aws elasticache delete-replication-group "$e" --replication-group-id ci-valkey >/dev/null
  aws elasticache wait replication-group-deleted "$e" --replication-group-id ci-valkey
  echo "docker: aws-cli: valkey group available; PING $address:$port: $pong ($server); deleted"
}

# check_valkey_tls PORT: a valkey group with TLS runs the image's valkey built with TLS: redis-cli
# --tls, verifying against the CA the server publishes, reads its INFO server; then deleted.
check_valkey_tls() {
  local e="--endpoint-url=http://127.0.0.1:$1" out address port ca info
  aws elasticache create-replication-group "$e" --replication-group-id ci-valkey-tls \
    --replication-group-description valkey --engine valkey --num-cache-clusters 1 \
    --transit-encryption-enabled >/dev/null
  aws elasticache wait replication-group-available "$e" --replication-group-id ci-valkey-tls
  out=$(aws elasticache describe-replication-groups "$e" --replication-group-id ci-valkey-tls --output text \
    --query 'ReplicationGroups[0].NodeGroups[0].PrimaryEndpoint.[Address,Port]')
  read -r address port <<<"$out"
  ca=$(mktemp)
  python3 -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())' \
    "http://127.0.0.1:$1/_tls/ca.pem" >"$ca"
  info=$(redis-cli --tls --cacert "$ca" -h "$address" -p "$port" INFO server | tr -d '\r')
  rm -f "$ca"
  grep -qx 'server_name:valkey' <<<"$info" && grep -qx 'valkey_version:8.0.1' <<<"$info" ||
    { echo "docker: the valkey TLS group answered over TLS: $info" >&2; return 1; }
  aws elasticache delete-replication-group "$e" --replication-group-id ci-valkey-tls >/dev/null
  aws elasticache wait replication-group-deleted "$e" --replication-group-id ci-valkey-tls
  echo "docker: aws-cli: valkey TLS group available; redis-cli --tls $address:$port: valkey 8.0.1, certificate verified; deleted"
}

# stop_time_ms ID SINCE_EPOCH: from the daemon's first `kill` event of the container after
# SINCE_EPOCH to its `die` event.
stop_time_ms() {
  docker events --since "$2" --until "$(date +%s.%N)" --filter "container=$1" \
    --format '{{.Action}} {{.TimeNano}}' | awk '
      $1 == "kill" && !kill { kill = $2 }
      $1 == "die" && kill { print int(($2 - kill) / 1000000); found = 1; exit }
      END { if (!found) print "none" }'
}

# check_container ID PORT STARTED_MS LIMIT_MS STOP...: healthy, API and Redis, then the stop
# command, after which the container must have exited 0 within LIMIT_MS of its SIGTERM, and
# nothing of the container left.
check_container() {
  local id=$1 port=$2 started=$3 limit=$4 top pids redis since command_ms stop_ms code left
  shift 4
  wait_healthy "$id" 300
  echo "docker: start to healthy: $(secs $(($(now_ms) - started)))"
  check_api "$port"
  top=$(docker top "$id" -eo pid,comm)
  pids=$(awk 'NR > 1 {print $1}' <<<"$top")
  redis=$(awk 'NR > 1 && $2 == "redis-server"' <<<"$top" | wc -l)
  [ "$redis" -ge 3 ] || { echo "docker: expected 3 redis-server in the container, saw $redis" >&2; return 1; }
  since=$(date +%s.%N)
  command_ms=$(now_ms)
  "$@" >/dev/null 2>&1
  command_ms=$(($(now_ms) - command_ms))
  stop_ms=$(stop_time_ms "$id" "$since")
  code=$(docker inspect -f '{{.State.ExitCode}}' "$id")
  [ "$stop_ms" != none ] || { echo "docker: no kill/die events for the container after '$*'" >&2; return 1; }
  echo "docker: '$*' took $(secs "$command_ms"); SIGTERM to exit: $(secs "$stop_ms"); the container exited $code"
  [ "$stop_ms" -le "$limit" ] || { echo "docker: the container took over $(secs "$limit") to stop" >&2; return 1; }
  [ "$code" -eq 0 ] || { echo "docker: the container exited $code, not 0" >&2; return 1; }
  left=$(for pid in $pids; do [ -d "/proc/$pid" ] && echo "$pid"; done || true)
  [ -z "$left" ] || { echo "docker: left running: $(ps -o pid,ppid,cmd -p "${left//$'\n'/,}")" >&2; return 1; }
  echo "docker: all $(wc -w <<<"$pids") processes of the container (tini, server, $redis redis-server) are gone"
}

# README's Compose section shows the file this runs, verbatim.
python3 - "$COMPOSE_FILE" <<'EOF'
import sys
readme, compose = open("README.md").read(), open(sys.argv[1]).read()
sys.exit(0 if f"```yaml\n{compose}```" in readme else f"docker: README does not show {sys.argv[1]} verbatim")
EOF

install_engine
mkdir -p "$DOCKER_ROOT"
exec 9>"$DOCKER_ROOT/lock"
flock -w 1800 9 # one run per machine at a time: the data root and the image tag are shared
trap cleanup EXIT
trap 'exit 130' INT TERM
start_daemon
make_base_images

# README, "Docker": build.
# The build stages are tagged too: the legacy builder's cache is its untagged intermediate
# images, which `image prune` would otherwise delete with the stale ones (the dependency layer,
# the valkey built with TLS).
started=$(now_ms)
# In the background, so that the INT/TERM trap runs at once instead of after the build.
{ docker build --network host --target valkey-tls -t "$IMAGE-valkey-tls" . \
  && docker build --network host --target build -t "$IMAGE-build" . \
  && docker build --network host -t "$IMAGE" .; } >"$DOCKER_ROOT/build.log" 2>&1 &
wait $! || { tail -40 "$DOCKER_ROOT/build.log" >&2; exit 1; }
echo "docker: docker build took $(secs $(($(now_ms) - started)))"
docker image prune -f >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
echo "docker: image $IMAGE: $((size / 1000000)) MB"

# Left by an earlier run that was SIGKILLed before its cleanup (the daemon keeps stopped ones).
docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
compose down >/dev/null 2>&1 || true
orphans_before=$(orphan_redis)

# README, "Docker": run with the demo group.
port=$(free_port)
started=$(now_ms)
docker run -d --name "$CONTAINER" --network host \
  -e ELASTICACHE_LOCAL_LISTEN="127.0.0.1:$port" "$IMAGE" >/dev/null
check_container "$CONTAINER" "$port" "$started" "$STOP_LIMIT_MS" docker stop "$CONTAINER"
docker rm "$CONTAINER" >/dev/null

# README, "Docker Compose": the same checks on the service the Compose file defines. `up` uses the
# image built above (Compose builds only an absent image; its own build, through the newer docker
# CLI on PATH, missed the daemon's build cache and rebuilt from scratch).
COMPOSE_PORT=$(free_port)
started=$(now_ms)
compose up -d >"$DOCKER_ROOT/compose.log" 2>&1 || { tail -20 "$DOCKER_ROOT/compose.log" >&2; exit 1; }
id=$(compose ps -q elasticache)
check_container "$id" "$COMPOSE_PORT" "$started" "$STOP_LIMIT_MS" compose stop
compose down >>"$DOCKER_ROOT/compose.log" 2>&1

orphans_after=$(orphan_redis)
leaked=$(comm -13 <(echo "$orphans_before") <(echo "$orphans_after") | grep . || true)
[ -z "$leaked" ] || { echo "docker: orphaned redis-server: $(ps -o pid,ppid,cmd -p "${leaked//$'\n'/,}")" >&2; exit 1; }
echo "docker: no orphaned redis-server; image, docker run and Compose: ok"
