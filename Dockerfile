# syntax=docker/dockerfile:1
# decision-log: build with the locked dependencies, run as a non-root user on Debian slim.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# Build settings of the workspace (the bundled SQLite's compile options).
COPY .cargo .cargo
COPY ledger ledger
COPY migrations migrations
COPY src src
# Compiled in: page templates, the stylesheet and script, and the log-format spec served at
# /log/format. Benches and examples are declared targets, so cargo reads them too.
COPY templates templates
COPY assets assets
COPY docs/log-format.md docs/log-format.md
COPY benches benches
COPY examples examples
# The cache mounts keep downloaded crates and compiled dependencies between builds; the binary is
# copied out of the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin decision-log \
 && cp target/release/decision-log /usr/local/bin/decision-log

FROM debian:bookworm-slim
# ca-certificates for TLS to a remote database; curl for the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 decision-log \
 && useradd --system --uid 10001 --gid decision-log --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin decision-log \
 && mkdir /data /keys \
 && chown decision-log:decision-log /data /keys
COPY --from=builder /usr/local/bin/decision-log /usr/local/bin/decision-log
USER 10001:10001
# The embedded SQLite default (./decision-log.db) lives here; mount a volume to keep it.
WORKDIR /data
ENV DECISION_LOG_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["decision-log"]
CMD ["serve"]
