#!/usr/bin/env bash
# Page latency on a log of N decisions (default 100,000): p50 and p99 of every kind of page and
# feed, measured with wrk against a release build on SQLite. Everything runs on 127.0.0.1.
#
#   benches/pages.sh [N] [SECONDS_PER_PAGE] [CONNECTIONS]
#
# No page may cost time proportional to the size of the log, so the figures should not move
# with N. Prints a Markdown table, the form docs/BENCHMARKS.md records runs in.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
seconds=${2:-10}
connections=${3:-8}

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" != 0 ]; then echo "wrk is missing: apt-get install wrk" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

cargo build --release --quiet --bin decision-log --example seed
bin=$PWD/target/release/decision-log
work=$(mktemp -d)
server=""
trap 'if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
db="sqlite://$work/log.db?mode=rwc"

echo "seeding $n decisions" >&2
"$(dirname "$bin")/examples/seed" "$db" "$n" 2>&1 | tail -1 >&2
# The seeded decisions are the cabinet's; its page and the body filters need it registered.
python3 - "$work/log.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT OR IGNORE INTO bodies (slug, name, kind, created_at, created_by) "
           "VALUES ('cabinet', 'Cabinet', 'cabinet', '2026-01-01T00:00:00Z', 'bench')")
db.commit()
PY

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$bin" serve --bind "127.0.0.1:$port" --database-url "$db" --origin bench.example/log \
  > "$work/serve.out" 2> "$work/serve.log" &
server=$!
until curl -sf "$url/health/ready" >/dev/null; do
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.2
done
id=$(curl -sf "$url/api/v1/decisions?limit=1" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')

echo
echo "$n decisions, SQLite, $(nproc) CPUs, wrk -c$connections -d${seconds}s, anonymous reader"
echo
echo "| page | status | p50 | p99 | requests/s |"
echo "|---|---|---|---|---|"
for path in "/" "/?body=cabinet" "/decisions/$id" "/bodies/cabinet" "/stats" \
  "/feeds/decisions.atom" "/search?q=depot"; do
  status=$(curl -s -o /dev/null -w '%{http_code}' "$url$path")
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$url$path")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  rps=$(awk '$1 == "Requests/sec:" {print $2}' <<<"$out")
  shown=${path/$id/<id>}
  echo "| \`$shown\` | $status | $p50 | $p99 | $rps |"
done
