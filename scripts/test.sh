#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, unit and integration tests against
# SQLite and against a throwaway PostgreSQL server that this script starts (installing
# PostgreSQL with apt-get if it is missing), the independent Python verifier, the OpenAPI
# validator, the OpenAPI contract (schemathesis, generated clients, linters) and the browser tests.
#
#   scripts/test.sh            everything
#   scripts/test.sh -- NAME    only tests whose name contains NAME (still with PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."

filter=()
if [ "${1:-}" = "--" ]; then shift; filter=("$@"); fi

log() { printf '\n== %s\n' "$*" >&2; }

# --- PostgreSQL -------------------------------------------------------------------------------
pg_bin=""
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "$dir/initdb" ] && pg_bin="$dir"
done
if [ -z "$pg_bin" ]; then
  log "installing PostgreSQL"
  if [ "$(id -u)" != 0 ]; then echo "PostgreSQL is missing and installing it needs root" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && pg_bin="$dir"
  done
fi

# initdb refuses to run as root: run the server as the postgres user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_dir=$(mktemp -d)
[ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stop_pg() {
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT

log "starting PostgreSQL ($("$pg_bin/postgres" --version)) on 127.0.0.1:$pg_port"
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null

export DECISION_LOG_TEST_POSTGRES="postgres://postgres@127.0.0.1:$pg_port/postgres"
export DECISION_LOG_REQUIRE_POSTGRES=1

# --- Python: the independent verifier written from docs/log-format.md ------------------------
venv=target/venv
if [ ! -x "$venv/bin/openapi-spec-validator" ] || [ ! -x "$venv/bin/schemathesis" ] ||
  [ ! -x "$venv/bin/openapi-python-client" ] || [ ! -x "$venv/bin/mypy" ] ||
  ! "$venv/bin/python" -c 'import cryptography, feedparser, jsonschema, rfc3339_validator' 2>/dev/null; then
  log "installing openapi-spec-validator, cryptography, the feed checkers and the contract tools into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==0.7.*" "cryptography>=42" \
    "feedparser==6.0.*" "jsonschema>=4.18" "rfc3339-validator>=0.1.4" \
    "schemathesis==4.32.5" "openapi-python-client==0.29.1" "mypy==2.4.1"
fi
export DECISION_LOG_TEST_PYTHON=$PWD/$venv/bin/python
log "independent verifier: known-answer tests"
"$venv/bin/python" tools/independent-verifier/selftest.py --vectors ledger/tests/vectors

# --- Rust -------------------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test (SQLite and PostgreSQL)"
cargo test --workspace --locked -- "${filter[@]}"

# --- OpenAPI ----------------------------------------------------------------------------------
log "openapi-spec-validator"
"$venv/bin/openapi-spec-validator" openapi/openapi.json

# --- The OpenAPI document as a contract (tests/contract/README.md) ----------------------------
# schemathesis as three callers, the generated Python and TypeScript clients' round trips,
# Redocly and Spectral. Runs with the whole suite, and with a filter only when it is `contract`.
if [ "${#filter[@]}" = 0 ] || [ "${filter[*]}" = contract ]; then
  if ! cmp -s tests/contract/package-lock.json tests/contract/node_modules/.installed-lock.json; then
    log "npm ci (tests/contract)"
    (cd tests/contract && npm ci --no-audit --no-fund --loglevel=error \
      && cp package-lock.json node_modules/.installed-lock.json)
  fi
  cargo build -q --locked
  log "contract: schemathesis, typed clients, Redocly, Spectral"
  "$venv/bin/python" tests/contract/run.py target/debug/decision-log
fi

# --- Browser: the pages in headless Chromium (tests/e2e/README.md) ----------------------------
# Runs with the whole suite, and with a filter only when the filter is `e2e`.
if [ "${#filter[@]}" = 0 ] || [ "${filter[*]}" = e2e ]; then
  chromium=${CHROMIUM:-/usr/bin/chromium}
  if [ ! -x "$chromium" ]; then
    log "installing Chromium"
    if [ "$(id -u)" != 0 ]; then echo "Chromium is missing and installing it needs root" >&2; exit 1; fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  # node_modules is kept between runs and reinstalled only when the lock file changes.
  if ! cmp -s tests/e2e/package-lock.json tests/e2e/node_modules/.installed-lock.json; then
    log "npm ci (tests/e2e)"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error \
      && cp package-lock.json node_modules/.installed-lock.json)
  fi
  cargo build -q --locked
  log "end-to-end browser tests"
  (cd tests/e2e && CHROMIUM="$chromium" DECISION_LOG_BIN="$PWD/../../target/debug/decision-log" npm test --silent)
fi

log "all checks passed"
