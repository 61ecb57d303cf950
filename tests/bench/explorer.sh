#!/usr/bin/env bash
# The explorer's paging end to end: a real broker and bridge, one stream of
# EVENTS events (default 1000000, loaded with `eventflow bench` in 100
# rounds, each ending with RARE events (default 10) of type
# order.refunded: 1 in 1000 by default), then 20 consecutive pages
# of GET /api/v1/events?stream=orders&limit=50 (the explorer's request)
# followed by next_cursor (else by page+1 while has_more, as an older
# explorer did), timed with curl -w '%{time_total}': a plain
# listing, a type that matches rarely, a type that matches nothing, a
# payload search that matches nothing with a string eq and with exists
# (every event parsed). Prints p50 and max per listing in ms.
# A benchmark, not a test. usage: tests/bench/explorer.sh [EVENTS [RARE]]
# (EF_BIN: the directory of the binaries to measure, default build/bin)
set -euo pipefail
cd "$(dirname "$0")/../.."
events=${1:-1000000}
rare=${2:-10}
rounds=100
bin=${EF_BIN:-build/bin}
[ -x "$bin/eventflow-bridge" ] || bash deploy/setup.sh

dir=$(mktemp -d /tmp/ef-bench-explorer.XXXXXX)
pids=()
trap 'kill ${pids[*]} 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
bport=$(port); hport=$(port)
$bin/eventflow-broker --data-dir "$dir/data" --endpoint "tcp://127.0.0.1:$bport" \
  --durability os >/dev/null 2>"$dir/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -f "$dir/data/initial-admin" ] && grep -q '"ready"' "$dir/broker.log" && break; sleep 0.1; done
export EVENTFLOW_BROKER_ENDPOINT=tcp://127.0.0.1:$bport EVENTFLOW_DATA_DIR=$dir/data

start=$(date +%s)
per=$((events / rounds))
for _ in $(seq $rounds); do
  $bin/eventflow bench --stream orders --events $((per - rare)) --producers 2 \
    --batch 500 --size 100 --type order.created >/dev/null
  $bin/eventflow bench --stream orders --events "$rare" --producers 1 \
    --batch "$rare" --size 100 --type order.refunded >/dev/null
done
stored=$($bin/eventflow streams get orders | sed -n 's/.*"events":\([0-9]*\).*/\1/p')
echo "loaded $stored events in $(($(date +%s) - start)) s ($((rare * rounds)) order.refunded)"

$bin/eventflow-bridge --data-dir "$dir/data" --broker "tcp://127.0.0.1:$bport" \
  --listen "127.0.0.1:$hport" 2>"$dir/bridge.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$hport/ready" >/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$hport/api/v1
pw=$(sed -n 's/^password = //p' "$dir/data/initial-admin")
token=$(curl -s -X POST "$url/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"admin@eventflow.local\",\"password\":\"$pw\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')

pages() { # LABEL QUERY: 20 pages by next_cursor (else page+1)
  local cursor="" page=1 times=() items=0 n=0
  for _ in $(seq 20); do
    local t
    t=$(curl -s -o "$dir/body" -w '%{time_total}' -H "Authorization: Bearer $token" \
      "$url/events?stream=orders&limit=50&$2${cursor:+&cursor=$cursor}&page=$page")
    times+=("$t")
    n=$((n + 1))
    items=$((items + $(tr , '\n' <"$dir/body" | grep -c '"event_id"' || true)))
    cursor=$(sed -n 's/.*"next_cursor":"\([0-9.]*\)".*/\1/p' "$dir/body")
    page=1
    if [ -z "$cursor" ]; then
      grep -q '"has_more":true' "$dir/body" || break
      page=$((${#times[@]} + 1))
    fi
  done
  printf '%s\n' "${times[@]}" | sort -g | awk -v l="$1" -v n="$n" -v i="$items" \
    '{ t[NR] = $1 * 1000 } END { printf "%-36s pages %2d  items %4d  p50 %7.1f ms  max %7.1f ms\n", l, n, i, t[int((NR + 1) / 2)], t[NR] }'
}
pages "plain" ""
pages "type order.refunded (rare)" "type=order.refunded"
pages "type order.none (no match)" "type=order.none"
pages "where /d:eq:\"none\" (no match)" "where=/d:eq:%22none%22"
pages "where /nope:exists (no match)" "where=/nope:exists"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/events?stream=orders&limit=50&page=1001")
echo "page=1001 limit=50 (deeper than search-scan): HTTP $code"
