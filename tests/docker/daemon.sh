# shellcheck shell=bash
# Sourced by tests/docker/run.sh: a private dockerd and the base images the Dockerfile names.
#
# No image registry is reachable from the machines this runs on, and the host's network must be
# left alone, so the daemon is our own (own data root, exec root, pidfile and socket; no bridge,
# no iptables) and the two base images are made locally under their official tags:
#   debian:bookworm-slim   debootstrap --variant=minbase bookworm, slimmed like the official one
#   rust:1-slim-bookworm   that image + gcc/libc6-dev + the HOST's Rust toolchain and CA bundle
# The data root is kept between runs so that both (and the build cache) are made only once.

DOCKER_ROOT=${ELASTICACHE_LOCAL_DOCKER_ROOT:-/var/tmp/elasticache-local-docker}
DOCKER_SOCK="$DOCKER_ROOT/docker.sock"
DOCKER_PIDFILE="$DOCKER_ROOT/dockerd.pid"
DOCKER_LOG="$DOCKER_ROOT/dockerd.log"
DOCKERD_PID=""
# Debian's client, the same version as its daemon (another `docker` may come first on PATH).
DOCKER_BIN=/usr/bin/docker
docker() { "$DOCKER_BIN" -H "unix://$DOCKER_SOCK" "$@"; }

install_engine() {
  local need=()
  [ -x /usr/sbin/dockerd ] || need+=(docker.io)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v docker-compose >/dev/null || need+=(docker-compose)
  command -v redis-cli >/dev/null || need+=(redis-tools)
  if [ ${#need[@]} -gt 0 ]; then
    echo "docker: installing ${need[*]}"
    apt-get update -qq
    # policy-rc.d keeps the packages from starting the system's docker daemon.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# A daemon left by an earlier run that was itself SIGKILLed: ours if its command line names our
# data root (the lock taken in run.sh means it is not a concurrent run's).
stop_stale_daemon() {
  [ -f "$DOCKER_PIDFILE" ] || return 0
  local pid
  pid=$(cat "$DOCKER_PIDFILE")
  if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--data-root $DOCKER_ROOT/data"; then
    echo "docker: stopping the stale dockerd $pid of an earlier run"
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 30 || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DOCKER_PIDFILE"
}

# wait_gone PID SECONDS: polls until the process is gone; fails if it is still there.
wait_gone() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

start_daemon() {
  mkdir -p "$DOCKER_ROOT"
  stop_stale_daemon
  rm -f "$DOCKER_SOCK"
  /usr/sbin/dockerd --data-root "$DOCKER_ROOT/data" --exec-root "$DOCKER_ROOT/exec" \
    --pidfile "$DOCKER_PIDFILE" -H "unix://$DOCKER_SOCK" \
    --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    >"$DOCKER_LOG" 2>&1 &
  DOCKERD_PID=$!
  local deadline=$((SECONDS + 60))
  until docker version >/dev/null 2>&1; do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "docker: dockerd did not come up; its log:" >&2
      tail -30 "$DOCKER_LOG" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "docker: private dockerd $DOCKERD_PID on $DOCKER_SOCK (data root $DOCKER_ROOT/data)"
}

# Always called (trap): the daemon by PID, then anything it started under our exec root.
stop_daemon() {
  [ -n "$DOCKERD_PID" ] || return 0
  kill -TERM "$DOCKERD_PID" 2>/dev/null || true
  if ! wait_gone "$DOCKERD_PID" 30; then
    echo "docker: dockerd $DOCKERD_PID ignored SIGTERM for 30 s; SIGKILL" >&2
    kill -KILL "$DOCKERD_PID" 2>/dev/null || true
  fi
  wait "$DOCKERD_PID" 2>/dev/null || true
  local left
  left=$(pgrep -f -- "$DOCKER_ROOT/exec" || true)
  if [ -n "$left" ]; then
    echo "docker: left after dockerd stopped, killing: $(ps -o pid=,comm= -p "${left//$'\n'/,}" | tr '\n' ' ')" >&2
    for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  echo "docker: dockerd $DOCKERD_PID stopped"
  DOCKERD_PID=""
}

# The first URI among apt's Debian sources whose suites include $1 (deb822 and one-line forms).
apt_mirror() {
  local suite=$1 files
  files=$(ls /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  # shellcheck disable=SC2086
  awk -v suite="$suite" '
    function found(uri) { print uri; exit }
    FNR == 1 { uris = ""; suites = "" }
    /^deb[ \t]/ { sub(/\[[^]]*\][ \t]*/, ""); if ($3 == suite) found($2) }
    /^URIs:/ { uris = $2 }
    /^Suites:/ { suites = " " substr($0, 8) " " }
    /^[ \t]*$/ || /^Components:/ {
      if (uris != "" && index(suites, " " suite " ")) found(uris)
      if (/^[ \t]*$/) { uris = ""; suites = "" }
    }' $files
}

make_debian_image() {
  local mirror security rootfs="$DOCKER_ROOT/rootfs.tmp"
  mirror=$(apt_mirror bookworm)
  mirror=${mirror:-http://deb.debian.org/debian}
  security=$(apt_mirror bookworm-security)
  security=${security:-http://deb.debian.org/debian-security}
  echo "docker: debian:bookworm-slim absent: debootstrap --variant=minbase bookworm $mirror"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$DOCKER_ROOT/debootstrap.log" 2>&1 \
    || { tail -20 "$DOCKER_ROOT/debootstrap.log" >&2; return 1; }
  rm -f "$rootfs/etc/apt/sources.list"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$security" >"$rootfs/etc/apt/sources.list.d/debian.sources"
  # What makes the official image "slim": no docs, manuals or locales, now or from later installs.
  printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\npath-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n' \
    >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
  printf 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };\nAPT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };\nAcquire::Languages "none";\n' \
    >"$rootfs/etc/apt/apt.conf.d/docker-clean"
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$rootfs"/usr/share/{man,info,locale}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log
  tar --numeric-owner -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  rm -rf "$rootfs"
}

# rust:1-slim-bookworm's layout (CARGO_HOME=/usr/local/cargo on PATH) with the host's toolchain;
# rebuilt when the host's rustc changes (label).
make_rust_image() {
  local sysroot version context="$DOCKER_ROOT/rust-context.tmp"
  sysroot=$(rustc --print sysroot)
  version=$(rustc --version)
  [ "$(docker image inspect -f '{{index .Config.Labels "host-rustc"}}' rust:1-slim-bookworm 2>/dev/null)" = "$version" ] && return 0
  echo "docker: rust:1-slim-bookworm absent or not $version: making it from the host's toolchain"
  rm -rf "$context"
  mkdir -p "$context/rust"
  tar -C "$sysroot" --exclude=./share/doc --exclude=./lib/rustlib/src -c . | tar -C "$context/rust" -x
  cp /etc/ssl/certs/ca-certificates.crt "$context/ca-certificates.crt"
  cat >"$context/Dockerfile" <<EOF
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY rust /usr/local/rust
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /usr/local/cargo/bin && rustc --version && cargo --version
LABEL host-rustc="$version"
EOF
  docker build -q --network host -t rust:1-slim-bookworm "$context" >/dev/null
  rm -rf "$context"
}

make_base_images() {
  local named
  named=$(awk 'toupper($1) == "FROM" {print $2}' Dockerfile | sort -u | tr '\n' ' ')
  if [ "$named" != "debian:bookworm-slim rust:1-slim-bookworm " ]; then
    echo "docker: the Dockerfile names base images '$named'; this script makes only debian:bookworm-slim and rust:1-slim-bookworm" >&2
    return 1
  fi
  docker image inspect debian:bookworm-slim >/dev/null 2>&1 || make_debian_image
  make_rust_image
}
