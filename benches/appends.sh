#!/usr/bin/env bash
# Append throughput over HTTP, side by side with a plain-INSERT app (examples/plain_insert.rs):
# the same decision (the OpenAPI example of recordDecision) posted by wrk with 1, 16 and 64
# connections, to the service and to the baseline in turn (A, B, A, B, …), on the same database
# server with the same durability. Prints a Markdown table with throughput, p50/p99, the ratio,
# the bytes written to disk per decision and the batch sizes the sequencer formed.
#
#   benches/appends.sh [sqlite|postgres|postgres4] [SECONDS] [ROUNDS] [CLIENTS…]
#
# `postgres` starts its own PostgreSQL cluster with the server's default durability (fsync on);
# `postgres4` runs four service instances on it, each driven by its own wrk with a quarter of
# the clients, against one plain-INSERT app driven the same way. Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-sqlite}
seconds=${2:-10}
rounds=${3:-2}
shift $(($# < 3 ? $# : 3))
clients=("$@")
[ "${#clients[@]}" -gt 0 ] || clients=(1 16 64)
case "$mode" in sqlite | postgres | postgres4) ;; *) echo "unknown mode $mode" >&2; exit 2 ;; esac
instances=1
[ "$mode" = postgres4 ] && instances=4

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" != 0 ]; then echo "wrk is missing: apt-get install wrk" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

cargo build --release --quiet --locked --bin decision-log --example plain_insert
bin=$PWD/target/release/decision-log
plain=$PWD/target/release/examples/plain_insert
work=$(mktemp -d)
pids=()
pg_ctl=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$pg_ctl" ]; then runuser -u postgres -- "$pg_ctl" -D "$work/pg" -m fast stop >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() { # URL PID LOG
  until curl -sf -o /dev/null "$1"; do
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.2
  done
}

# --- databases --------------------------------------------------------------------------------
if [ "$mode" = sqlite ]; then
  service_db="sqlite://$work/log.db?mode=rwc"
  plain_db="sqlite://$work/plain.db?mode=rwc"
else
  pg_bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | tail -1)")
  pg_ctl=$pg_bin/pg_ctl
  chown postgres "$work"
  pg_port=$(free_port)
  runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
  runuser -u postgres -- "$pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
    -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  for name in service plain; do
    runuser -u postgres -- "$pg_bin/psql" -qh 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE $name"
  done
  service_db="postgres://postgres@127.0.0.1:$pg_port/service"
  plain_db="postgres://postgres@127.0.0.1:$pg_port/plain"
fi

# --- the service: an admin token, a body, a secretariat token ---------------------------------
"$bin" keygen --origin bench.example/log --out "$work/signing.key" >/dev/null
service_urls=()
for i in $(seq 1 "$instances"); do
  port=$(free_port)
  "$bin" serve --bind "127.0.0.1:$port" --database-url "$service_db" --origin bench.example/log \
    --signing-key "$work/signing.key" > "$work/serve$i.out" 2> "$work/serve$i.log" &
  pids+=($!)
  wait_up "http://127.0.0.1:$port/health/ready" "$!" "$work/serve$i.log"
  service_urls+=("http://127.0.0.1:$port")
done
service_pids=("${pids[@]}")
url=${service_urls[0]}
admin=$(grep -ho 'dlt_[A-Za-z0-9_-]*' "$work"/serve*.out | head -1)
curl -sf -o /dev/null -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"slug":"cabinet","name":"Cabinet","kind":"cabinet"}' "$url/api/v1/bodies"
token=$(curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"name":"bench-clerk","role":"secretariat","bodies":["cabinet"]}' "$url/api/v1/tokens" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')

plain_port=$(free_port)
"$plain" "$plain_db" "127.0.0.1:$plain_port" 2> "$work/plain.log" &
pids+=($!)
plain_pid=$!
plain_url=http://127.0.0.1:$plain_port
until curl -s -o /dev/null -X POST "$plain_url/decisions"; do
  kill -0 "$plain_pid" 2>/dev/null || { cat "$work/plain.log" >&2; exit 1; }
  sleep 0.2
done

# --- the load ---------------------------------------------------------------------------------
python3 - openapi/openapi.json > "$work/decision.json" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
op = spec["paths"]["/api/v1/decisions"]["post"]
print(json.dumps(op["requestBody"]["content"]["application/json"]["example"]))
PY
cat > "$work/post.lua" <<LUA
local f = io.open("$work/decision.json")
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA

# The bytes the processes that do the writing have written to disk so far.
written() { # PIDS…
  local total=0 pid
  for pid in "$@"; do
    total=$((total + $(awk '$1 == "write_bytes:" {print $2}' "/proc/$pid/io" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
writers() { # the app's PIDS…, and the PostgreSQL server's processes
  echo "$@"
  if [ -n "$pg_ctl" ]; then pgrep -u postgres -f postgres | tr '\n' ' '; fi
}

# One run: wrk with CLIENTS connections spread over URLS; sets rps, p50, p99, errors, bytes.
run() { # CLIENTS PATH PIDS URLS…
  local c=$1 path=$2 pids_of=$3; shift 3
  local urls=("$@") n=${#urls[@]} before after i
  local per=$(((c + n - 1) / n))
  before=$(written $(writers $pids_of))
  local loads=()
  for i in "${!urls[@]}"; do
    wrk -t1 -c"$per" -d"${seconds}s" --latency -s "$work/post.lua" "${urls[$i]}$path" > "$work/wrk$i.out" &
    loads+=($!)
  done
  wait "${loads[@]}"
  after=$(written $(writers $pids_of))
  read -r rps p50 p99 errors requests < <(python3 - "$work"/wrk*.out <<'PY'
import re, sys
def ms(text):
    found = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not found:
        sys.exit(f"wrk printed a latency of {text!r}")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = requests = errors = 0
p50 = p99 = 0.0
for path in sys.argv[1:]:
    out = open(path).read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests += int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(bad.group(1)) if bad else 0
    p50 = max(p50, ms(re.search(r"50%\s+(\S+)", out).group(1)))
    p99 = max(p99, ms(re.search(r"99%\s+(\S+)", out).group(1)))
print(f"{rps:.0f} {p50:.1f} {p99:.1f} {errors} {requests}")
PY
  )
  rm -f "$work"/wrk*.out
  bytes=$(((after - before) / (requests > 0 ? requests : 1)))
}

batches() { # the sequencer's batch-size histogram: count and sum, over every instance
  local u count=0 sum=0 c s
  for u in "${service_urls[@]}"; do
    read -r c s < <(curl -sf "$u/metrics" | awk '
      /^decision_log_append_batch_size_count/ {c = $2}
      /^decision_log_append_batch_size_sum/ {s = $2}
      END {print c + 0, s + 0}')
    count=$((count + c)); sum=$((sum + ${s%.*}))
  done
  echo "$count $sum"
}

plain_urls=()
for _ in "${service_urls[@]}"; do plain_urls+=("$plain_url"); done
echo
echo "$mode, $instances instance(s), $(nproc) CPUs, wrk ${seconds}s per run, $rounds rounds (A, B, A, B)"
echo
echo "| clients | round | service /s | p50 ms | p99 ms | plain /s | p50 ms | p99 ms | ratio | mean batch | bytes written/decision (service, plain) | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for c in "${clients[@]}"; do
  for r in $(seq 1 "$rounds"); do
    read -r b0 s0 < <(batches)
    run "$c" /api/v1/decisions "${service_pids[*]}" "${service_urls[@]}"
    s_rps=$rps s_p50=$p50 s_p99=$p99 s_err=$errors s_bytes=$bytes
    read -r b1 s1 < <(batches)
    run "$c" /decisions "$plain_pid" "${plain_urls[@]}"
    mean=$(python3 -c "print(f'{($s1 - $s0) / max($b1 - $b0, 1):.1f}')")
    ratio=$(python3 -c "print(f'{$s_rps / max($rps, 1):.2f}')")
    echo "| $c | $r | $s_rps | $s_p50 | $s_p99 | $rps | $p50 | $p99 | ${ratio}× | $mean | $s_bytes, $bytes | $s_err, $errors |"
  done
done

# Where the bytes are: the service's database against the canonical entries it holds.
echo
if [ "$mode" = sqlite ]; then
  python3 - "$work/log.db" "$work/plain.db" <<'PY'
import sqlite3, sys, os
db = sqlite3.connect(sys.argv[1])
n, canonical = db.execute("SELECT count(*), sum(length(canonical)) FROM log_entries").fetchone()
pages = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall() \
    if db.execute("SELECT 1 FROM pragma_compile_options WHERE compile_options = 'ENABLE_DBSTAT_VTAB'").fetchone() else []
def on_disk(path):
    return sum(os.path.getsize(path + suffix) for suffix in ("", "-wal") if os.path.exists(path + suffix))
size = on_disk(sys.argv[1])
plain = sqlite3.connect(sys.argv[2])
pn, pbytes = plain.execute("SELECT count(*), sum(length(body)) FROM plain_decisions").fetchone()
print(f"service database: {n} entries, {size / n:.0f} bytes each on disk (with its write-ahead log); "
      f"canonical entries {canonical / n:.0f} bytes each")
print(f"plain database: {pn} rows of {pbytes / max(pn, 1):.0f} bytes, {on_disk(sys.argv[2]) / max(pn, 1):.0f} bytes each on disk")
for name, bytes_ in pages[:12]:
    print(f"  {name}: {bytes_ / n:.0f} bytes per entry")
PY
else
  runuser -u postgres -- "$pg_bin/psql" -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d service -c "
    SELECT 'service database: ' || count(*) || ' entries, '
      || (pg_database_size('service') / count(*)) || ' bytes each; canonical entries '
      || (sum(length(canonical)) / count(*)) || ' bytes each' FROM log_entries"
  runuser -u postgres -- "$pg_bin/psql" -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d service -c "
    SELECT '  ' || relname || ': ' || (pg_total_relation_size(c.oid) / (SELECT count(*) FROM log_entries))
      || ' bytes per entry' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 12"
fi
