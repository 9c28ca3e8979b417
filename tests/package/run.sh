#!/usr/bin/env bash
# The crate as published: `cargo package` succeeds with the expected files, and
# `cargo install --locked` from the packaged .crate builds a server that starts, answers
# /_health and stops its demo group's nodes on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Kept between runs on the same machine. Its own target dir: sharing the wheel's release one made
# each of the two rebuild the crate after the other (same crate name and bin output path). A debug
# build: it proves the packaged crate builds and runs, at a third of a release build's cost.
CACHE=${ELASTICACHE_LOCAL_PACKAGE_CACHE:-/var/tmp/elasticache-local-package}
work=$(mktemp -d /tmp/elasticache-local-package.XXXXXX)
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server"; wait "$server" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --allow-dirty: CI packages a clean clone; locally uncommitted edits would otherwise refuse.
cargo package --locked --allow-dirty --no-verify --list >"$work/list"
for required in Cargo.toml Cargo.lock README.md LICENSE-MIT LICENSE-APACHE src/main.rs src/lib.rs \
  fixtures/demo.json; do
  grep -qxF "$required" "$work/list" || { echo "package: $required is not in the crate" >&2; exit 1; }
done
unwanted=$(grep -E '^(tests|bench|docs|python|examples|\.ci)/|^(Dockerfile|pyproject\.toml)$' "$work/list" || true)
[ -z "$unwanted" ] || { echo "package: unexpected files in the crate: $unwanted" >&2; exit 1; }
cargo package --locked --allow-dirty --no-verify >/dev/null 2>"$work/package.log" \
  || { cat "$work/package.log" >&2; exit 1; }
crate=$(ls target/package/elasticache-local-*.crate)
echo "package: $(basename "$crate"): $(wc -l <"$work/list") files, $(($(stat -c %s "$crate") / 1000)) kB"

# Unpacked from the .crate alone: what `cargo install elasticache-local` would build. Always at
# the same path (the archive keeps the files' times): an unchanged crate is not rebuilt.
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock -w 1800 9
rm -rf "$CACHE/crate"
mkdir -p "$CACHE/crate"
tar -xzf "$crate" -C "$CACHE/crate"
started=$SECONDS
cargo install --quiet --locked --debug --path "$CACHE/crate/$(basename "$crate" .crate)" \
  --root "$work/root" --target-dir "$CACHE/target" 2>"$work/install.log" || { tail -30 "$work/install.log" >&2; exit 1; }
echo "package: cargo install --locked --debug from the .crate: $((SECONDS - started)) s"

"$work/root/bin/elasticache-local" --listen 127.0.0.1:0 --fixtures fixtures/demo.json \
  >"$work/out" 2>"$work/log" &
server=$!
deadline=$((SECONDS + 60))
until url=$(sed -n 's/^elasticache-local listening on //p' "$work/out" 2>/dev/null) && [ -n "$url" ]; do
  if ! kill -0 "$server" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    echo "package: the installed binary printed no ready line; its log:" >&2
    tail "$work/log" >&2
    exit 1
  fi
  sleep 0.2
done
health=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/_health").read().decode())' "$url")
grep -q '"status":"ok"' <<<"$health" || { echo "package: /_health answered $health" >&2; exit 1; }
nodes=$(pgrep -P "$server" -x redis-server | wc -l)
[ "$nodes" -eq 3 ] || { echo "package: expected the demo group's 3 redis-server, saw $nodes" >&2; exit 1; }
node_pids=$(pgrep -P "$server" -x redis-server)
kill -TERM "$server"
wait "$server"
server=""
left=$(for pid in $node_pids; do [ -d "/proc/$pid" ] && echo "$pid"; done || true)
[ -z "$left" ] || { echo "package: redis-server left after SIGTERM: $left" >&2; exit 1; }
echo "package: the installed binary served /_health with the demo group's 3 nodes and stopped them"
