#!/usr/bin/env bash
# HTTP consumer throughput: N events stored natively, then read back over
# the bridge by one HTTP consumer fetching pages of LIMIT and committing
# each page (GET …/consumer-groups/G/events, POST …/offsets): first with the
# pages only scanned (the server's figure), then parsed with jansson (a
# consumer's). A benchmark,
# not a test. usage: tests/bench/http_consume.sh [N] [LIMIT]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200000}; limit=${2:-1000}
bin=build/bin
dir=$(mktemp -d /tmp/ef-bench-httpc.XXXXXX)
pids=()
trap 'kill ${pids[*]} 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
bport=$(port); hport=$(port)
$bin/eventflow-broker --data-dir "$dir/data" --endpoint "tcp://127.0.0.1:$bport" >/dev/null 2>"$dir/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -f "$dir/data/initial-admin" ] && grep -q '"ready"' "$dir/broker.log" && break; sleep 0.1; done
$bin/eventflow-bridge --data-dir "$dir/data" --broker "tcp://127.0.0.1:$bport" --listen "127.0.0.1:$hport" 2>"$dir/bridge.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$hport/ready" >/dev/null && break; sleep 0.1; done
export EVENTFLOW_BROKER_ENDPOINT=tcp://127.0.0.1:$bport
$bin/eventflow --data-dir "$dir/data" streams create orders >/dev/null
seq "$n" | sed 's/.*/{"order":&,"amount":12.5,"currency":"EUR","channel":"web","note":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}/' \
  | $bin/eventflow --data-dir "$dir/data" produce orders --type order.created --batch 1000 >/dev/null
url=http://127.0.0.1:$hport/api/v1
pw=$(sed -n 's/^password = //p' "$dir/data/initial-admin")
token=$(curl -s -X POST "$url/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"admin@eventflow.local\",\"password\":\"$pw\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
$bin/bench_http_consume "$url" "$token" orders "$n" "$limit" scan
# the same events again from the start, each page parsed as JSON
curl -s -X POST "$url/streams/orders/consumer-groups/bench/seek" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"to":"earliest"}' >/dev/null
$bin/bench_http_consume "$url" "$token" orders "$n" "$limit" full
