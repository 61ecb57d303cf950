#!/usr/bin/env bash
# Logins per second, and what a login burst does to concurrent publishing:
# publish throughput alone, then the same publish bench while 4 clients log
# in as fast as they can (argon2id on the broker's hashing threads, never
# on its I/O thread). A benchmark, not a test.
# usage: tests/bench/login.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/../.."
events=${1:-400000}
bin=build/bin
dir=$(mktemp -d /tmp/ef-bench-login.XXXXXX)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
$bin/eventflow-broker --data-dir "$dir/data" --endpoint 'tcp://127.0.0.1:*' >"$dir/out" 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do grep -q '"msg":"ready"' "$dir/log" 2>/dev/null && break; sleep 0.1; done
endpoint=$(sed -n 's/.*"msg":"ready","endpoint":"\([^"]*\)".*/\1/p' "$dir/log")
password=$(sed -n 's/^password = //p' "$dir/data/initial-admin")
export EVENTFLOW_BROKER_ENDPOINT=$endpoint EVENTFLOW_DATA_DIR=$dir/data

alone=$($bin/eventflow bench --stream alone --events "$events" --producers 8 --batch 100 | tail -1)
echo "publish_alone      $alone"
$bin/bench_login "$dir/data" "$endpoint" admin@eventflow.local "$password" 4 8 >"$dir/logins" &
lpid=$!
sleep 1
during=$($bin/eventflow bench --stream during --events "$events" --producers 8 --batch 100 | tail -1)
wait $lpid || true
echo "publish_with_login $during"
echo "login_burst        $(cat "$dir/logins")"
a=$(echo "$alone" | sed -n 's/.*events_per_s=\([0-9.]*\).*/\1/p')
d=$(echo "$during" | sed -n 's/.*events_per_s=\([0-9.]*\).*/\1/p')
awk -v a="$a" -v d="$d" 'BEGIN {printf "publish_during_logins_ratio %.2f\n", d / a}'
