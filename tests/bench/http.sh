#!/usr/bin/env bash
# HTTP ingest through the bridge, beside its ceiling and the seed stacks, in
# one run (DESIGN.md §11): wrk -t2 -c64, keep-alive, ~200-byte JSON POSTs,
#   eventflow   POST /api/v1/streams/orders/events with an API key (durable
#               before 202: fsync group commit in the broker)
#   ceiling     a bare civetweb handler answering 202, no work
#   seed B      Express + PostgreSQL (shared/bench/seed-stacks beside the checkout)
#   seed A      Express + BullMQ, worker running
# A benchmark, not a test. usage: tests/bench/http.sh [DURATION]  (default 20s)
set -euo pipefail
cd "$(dirname "$0")/../.."
dur=${1:-20s}
bin=build/bin
[ -x $bin/eventflow-bridge ] && [ -x $bin/bare_civetweb ] || bash deploy/setup.sh
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
source tests/bench/lib.sh
seed=${EVENTFLOW_SEED_STACKS:-$(bench_shared)/seed-stacks}
lua=$seed/wrk/post.lua
BODY='{"type":"ORDER_CREATED","payload":{"orderId":"ord_8f14e45fceea167a","customerId":"cus_45c48cce2e2d7fbd","amount":12999,"currency":"EUR","items":[{"sku":"SKU-1001","qty":2},{"sku":"SKU-2002","qty":1}],"channel":"web"}}'

dir=$(mktemp -d /tmp/ef-bench-http.XXXXXX)
pids=()
trap 'kill ${pids[*]} 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
bport=$(bench_port); hport=$(bench_port); cport=$(bench_port)
$bin/eventflow-broker --data-dir "$dir/data" --endpoint "tcp://127.0.0.1:$bport" >/dev/null 2>"$dir/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -f "$dir/data/initial-admin" ] && grep -q '"ready"' "$dir/broker.log" && break; sleep 0.1; done
$bin/eventflow-bridge --data-dir "$dir/data" --broker "tcp://127.0.0.1:$bport" --listen "127.0.0.1:$hport" 2>"$dir/bridge.log" &
pids+=($!)
$bin/bare_civetweb "127.0.0.1:$cport" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$hport/ready" >/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$hport/api/v1
pw=$(sed -n 's/^password = //p' "$dir/data/initial-admin")
token=$(curl -s -X POST "$url/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"admin@eventflow.local\",\"password\":\"$pw\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
curl -s -X POST "$url/streams" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"name":"orders"}' >/dev/null
key=$(curl -s -X POST "$url/producers" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"name":"bench"}' | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')

run() { # LABEL URL HDR VALUE DURATION
  WRK_LABEL=$1 WRK_HDR_NAME=$3 WRK_HDR_VALUE=$4 WRK_BODY=$BODY \
    wrk -t2 -c64 -d"$5" -s "$lua" "$2" | sed -n 's/^RESULT //p'
}
run warmup "$url/streams/orders/events" X-API-Key "$key" 5s >/dev/null
ef=$(run eventflow "$url/streams/orders/events" X-API-Key "$key" "$dur")
run warmup "http://127.0.0.1:$cport/" "" "" 5s >/dev/null
ceiling=$(run ceiling "http://127.0.0.1:$cport/" "" "" "$dur")
echo "$ef"
echo "$ceiling"
stored=$($bin/eventflow --broker "tcp://127.0.0.1:$bport" --data-dir "$dir/data" streams get orders | sed -n 's/.*"events":\([0-9]*\).*/\1/p')
echo "eventflow_events_stored $stored"

rps() { sed -n 's/.*"rps":\([0-9.]*\).*/\1/p' | head -1; }
e=$(echo "$ef" | rps); c=$(echo "$ceiling" | rps)
awk -v e="$e" -v c="$c" 'BEGIN {printf "ratio_eventflow_vs_ceiling %.2f (bar 0.85)\n", e / c}'
if [ -x "$seed/bench.sh" ] || [ -f "$seed/bench.sh" ]; then
  out=$dir/seed
  # the seed stacks must be up: their setup.sh (idempotent) starts them
  bash "$seed/setup.sh" >"$dir/seed-setup.log" 2>&1 || true
  RUNS=1 DURATION=$dur ONLY="b a-live" OUTDIR=$out bash "$seed/bench.sh" >/dev/null 2>&1 || true
  b=$(grep '"label":"B"' "$out/results.jsonl" 2>/dev/null | rps)
  a=$(grep '"label":"A-live"' "$out/results.jsonl" 2>/dev/null | rps)
  echo "seed_B_express_pg_rps ${b:-?}"
  echo "seed_A_express_bullmq_rps ${a:-?}"
  [ -n "$b" ] && awk -v e="$e" -v b="$b" 'BEGIN {printf "ratio_eventflow_vs_seed_B %.2f (bar 10)\n", e / b}'
  [ -n "$a" ] && awk -v e="$e" -v a="$a" 'BEGIN {printf "ratio_eventflow_vs_seed_A %.2f (bar 10)\n", e / a}'
else
  echo "seed stacks not found at $seed: run their setup.sh for the comparison" >&2
fi
