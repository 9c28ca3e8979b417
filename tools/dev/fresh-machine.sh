#!/usr/bin/env bash
# Runs `./dev VERB` (default: test) on a fresh Debian machine, as far as one can be had without
# a VM: a debootstrapped bookworm with only Python (python3, python3-venv) and a C linker, the
# host's Rust toolchain bound in read-only, and a fresh clone of this repository's HEAD. Nothing
# else is installed beforehand: redis-server, memcached, chromium and the Python pieces are
# installed by ./dev inside the chroot, never on the host. It runs in its own pid namespace (so
# the leak check sees only its own processes, and everything dies with it), with CI=true as CI
# runs. Needs root and debootstrap; not part of CI (a full Debian download).
#   tools/dev/fresh-machine.sh [VERB [ARGS]]   ROOTFS=DIR: where the debootstrapped tree is or goes
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
ROOTFS=${ROOTFS:-$REPO/target/fresh-root}
[ "$(id -u)" = 0 ] || { echo "fresh-machine.sh: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
[ $# -gt 0 ] || set -- test

if [ ! -x "$ROOTFS/usr/bin/python3" ]; then
  mkdir -p "$ROOTFS"
  debootstrap --variant=minbase --include=ca-certificates,python3,python3-venv,procps,gcc,libc6-dev \
    bookworm "$ROOTFS"
fi
# As in Debian's container images: packages installed here must not start their services.
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod +x "$ROOTFS/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
# The host's own trusted CAs (a machine behind a TLS-inspecting proxy needs them to reach the
# package registries), as the host's environment names them for pip and Python.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
  chroot "$ROOTFS" update-ca-certificates >/dev/null 2>&1
fi

CLONE=$ROOTFS/work/elasticache-local
# KEEP_CLONE=1 runs again in the clone (and .venv) of the previous call, e.g. to see the second
# run install nothing.
if [ -z "${KEEP_CLONE:-}" ] || [ ! -d "$CLONE" ]; then
  rm -rf "$CLONE"
  git clone -q --no-hardlinks "$REPO" "$CLONE"
  git -C "$CLONE" checkout -q "$(git rev-parse HEAD)"
  # Compiled dependencies only (the project's own crate rebuilds from the clone), to save time;
  # NO_TARGET_COPY=1 builds everything from scratch, PROFILES="debug" copies only that one
  # (`run --debug` needs no release build; each profile is several GB).
  if [ -z "${NO_TARGET_COPY:-}" ]; then
    for profile in ${PROFILES:-debug release}; do
      if [ -d "$REPO/target/$profile/deps" ]; then
        mkdir -p "$CLONE/target"
        cp -a "$REPO/target/$profile" "$CLONE/target/$profile"
      fi
    done
  fi
fi

RUSTUP=${RUSTUP_HOME:-$HOME/.rustup}
CARGO=${CARGO_HOME:-$HOME/.cargo}
# A private mount namespace: the binds vanish with the command.
exec unshare --mount --pid --fork --propagation private bash -c '
  set -euo pipefail
  root=$1 rustup=$2 cargo=$3; shift 3
  mkdir -p "$root/opt/rustup" "$root/opt/cargo"
  mount --bind "$rustup" "$root/opt/rustup" && mount -o remount,bind,ro "$root/opt/rustup"
  mount --bind "$cargo" "$root/opt/cargo"
  mount --rbind /dev "$root/dev"
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount -t tmpfs tmpfs "$root/tmp"
  bundle=/etc/ssl/certs/ca-certificates.crt
  exec chroot "$root" /usr/bin/env -i HOME=/root CI=true TERM=dumb \
    SSL_CERT_FILE=$bundle PIP_CERT=$bundle REQUESTS_CA_BUNDLE=$bundle \
    RUSTUP_HOME=/opt/rustup CARGO_HOME=/opt/cargo PATH=/opt/cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd /work/elasticache-local && ./dev \"\$@\"" dev "$@"
' fresh-machine "$ROOTFS" "$RUSTUP" "$CARGO" "$@"
