#!/usr/bin/env bash
# Builds the wheel (maturin, `bin` bindings: the release executable plus python/elasticache_local,
# the pytest plugin), checks its manylinux tag with maturin and auditwheel, installs it into a
# FRESH venv and runs examples/pytest/test_example.py there: the file README's "pytest" section
# shows, so README and CI cannot drift apart (checked below too). Then tests/package/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Kept between runs on the same machine: the build tools and the release build's target dir.
CACHE=${ELASTICACHE_LOCAL_WHEEL_CACHE:-/var/tmp/elasticache-local-wheel}
# The oldest glibc the wheel promises to run on; maturin fails the build if the binary needs more.
# Linked against the build machine's glibc (2.36 here), the binary needs GLIBC_2.34 symbols, so
# manylinux2014 (glibc 2.17) is refused; an older tag needs an older glibc to link against.
COMPATIBILITY=manylinux_2_34
work=$(mktemp -d /tmp/elasticache-local-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 - <<'EOF'
import sys
readme, example = open("README.md").read(), open("examples/pytest/test_example.py").read()
sys.exit(0 if f"```python\n{example}```" in readme else "wheel: README's pytest section is not examples/pytest/test_example.py verbatim")
EOF

mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock -w 1800 9 # one build per machine at a time: the target dir is shared
if [ ! -x "$CACHE/tools/bin/maturin" ]; then
  python3 -m venv "$CACHE/tools"
  "$CACHE/tools/bin/pip" install -q 'maturin>=1.5,<2' auditwheel
fi

started=$SECONDS
CARGO_TARGET_DIR="$CACHE/target" "$CACHE/tools/bin/maturin" build --release --locked \
  --compatibility "$COMPATIBILITY" --auditwheel check --out "$work/dist" 2>"$work/maturin.log" \
  || { tail -40 "$work/maturin.log" >&2; exit 1; }
wheel=$(ls "$work"/dist/*.whl)
echo "wheel: built $(basename "$wheel") ($(($(stat -c %s "$wheel") / 1000000)) MB) in $((SECONDS - started)) s"
grep -E 'manylinux|auditwheel|compliant' "$work/maturin.log" | sed 's/^/wheel: maturin: /' || true
"$CACHE/tools/bin/auditwheel" show "$wheel" | tr -s '\n ' ' ' | sed 's/^/wheel: auditwheel show: /; s/$/\n/'
case "$(basename "$wheel")" in
  *"$COMPATIBILITY"_x86_64*) ;;
  *) echo "wheel: $(basename "$wheel") is not tagged $COMPATIBILITY" >&2; exit 1 ;;
esac

# A fresh venv: nothing but the wheel and the example's test dependencies.
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$wheel" pytest boto3 redis
command -v redis-server >/dev/null || { echo "wheel: redis-server is not on PATH" >&2; exit 1; }
PATH="$work/venv/bin:$PATH"
[ "$(command -v elasticache-local)" = "$work/venv/bin/elasticache-local" ] \
  || { echo "wheel: elasticache-local is not on the venv's PATH" >&2; exit 1; }
echo "wheel: installed into a fresh venv: $(elasticache-local --version)"

live_servers() { pgrep -f "^$work/venv/bin/elasticache-local" || true; }
# redis-servers whose parent is gone (reparented to init): what a leaked node looks like.
orphan_redis() { { ps -C redis-server -o pid=,ppid=,stat= 2>/dev/null || true; } | awk '$2 == 1 && $3 !~ /^Z/ {print $1}' | sort; }
before=$(orphan_redis)
(cd examples/pytest && python3 -m pytest -p no:cacheprovider -v test_example.py)
[ -z "$(live_servers)" ] || { echo "wheel: the fixture left elasticache-local running: $(live_servers)" >&2; exit 1; }
leaked=$(comm -13 <(echo "$before") <(orphan_redis) | grep . || true)
[ -z "$leaked" ] || { echo "wheel: orphaned redis-server: $(ps -o pid,ppid,cmd -p "${leaked//$'\n'/,}")" >&2; exit 1; }
echo "wheel: the fixture stopped the server and its nodes"

# The crate too.
exec 9>&-
bash tests/package/run.sh
