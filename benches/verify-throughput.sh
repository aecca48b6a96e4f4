#!/usr/bin/env bash
# End-to-end verifier throughput on a log of N entries (default 100,000), next to
# `openssl dgst -sha256` over the same canonical entry bytes. Everything runs on 127.0.0.1.
#
#   benches/verify-throughput.sh [N]
#
# Prints one line per measurement, then each verifier's throughput as a ratio to openssl's over
# the same bytes, measured in this one run; docs/BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
cargo build --release --quiet --bin decision-log --example seed
bin=$PWD/target/release/decision-log
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

"$(dirname "$bin")/examples/seed" "sqlite://$work/log.db?mode=rwc" "$n" 2>&1 | tail -1
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --bind "127.0.0.1:$port" --database-url "sqlite://$work/log.db?mode=rwc" \
  --origin bench.example/log > serve.out 2> serve.log &
server=$!
url=http://127.0.0.1:$port
until curl -sf "$url/api/v1/log/key" > /dev/null; do sleep 0.2; done
# A benchmark may take the key from the log; an auditor takes it from the operator.
vkey=$(curl -sf "$url/api/v1/log/key")
until curl -sf "$url/api/v1/log/checkpoint" | sed -n 2p | grep -qx "$n"; do sleep 0.2; done

echo "== verify --url (HTTP, JSON pages of 1000)"
"$bin" verify --url "$url" --vkey "$vkey" --json | tee url.json
echo "== export, then verify --file"
t0=$(date +%s.%N); "$bin" export --url "$url" > log.jsonl 2>/dev/null; t1=$(date +%s.%N)
echo "export: $(stat -c %s log.jsonl) bytes in $(python3 -c "print(f'{$t1-$t0:.2f}')")s"
"$bin" verify --file log.jsonl --vkey "$vkey" --json | tee file.json
echo "== verify --database-url"
"$bin" verify --database-url "sqlite://$work/log.db?mode=rwc" --json | tee database.json

echo "== openssl dgst -sha256 over the same canonical entries"
python3 - "$url" "$n" > entries.bin <<'PY'
import sys, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
def path(i):
    groups = []
    while True:
        groups.append(i % 1000); i //= 1000
        if i == 0: break
    groups.reverse()
    return "/".join([f"x{g:03d}" for g in groups[:-1]] + [f"{groups[-1]:03d}"])
for t in range((n + 255) // 256):
    w = min(256, n - t * 256)
    suffix = "" if w == 256 else f".p/{w}"
    data = urllib.request.urlopen(f"{url}/tlog/tile/entries/{path(t)}{suffix}").read()
    i = 0
    while i < len(data):
        length = int.from_bytes(data[i:i + 2], "big"); i += 2
        out.write(data[i:i + length]); i += length
PY
bytes=$(stat -c %s entries.bin)
# The fastest of five runs over the cached file: the floor the verifiers are compared with.
best=
for _ in 1 2 3 4 5; do
  t0=$(date +%s.%N); openssl dgst -sha256 entries.bin > /dev/null; t1=$(date +%s.%N)
  best=$(python3 -c "t = $t1 - $t0; b = '$best'; print(t if not b or t < float(b) else b)")
done
openssl dgst -sha256 entries.bin
python3 - "$bytes" "$best" "$n" <<'PY'
import json, sys
size, seconds, n = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
openssl = size / seconds / 1e6
print(f"openssl: {size} bytes in {seconds:.3f}s = {openssl:.1f} MB/s ({n / seconds:.0f} entries/s)")
print("== ratios to openssl (verifier MB/s of canonical entry bytes / openssl MB/s)")
for name in ("file", "database", "url"):
    report = json.load(open(f"{name}.json"))
    assert report["ok"], report
    mbps = report["megabytes_per_second"]
    print(f"verify --{name:<9} {mbps:8.1f} MB/s  {mbps / openssl:.3f}x")
PY
