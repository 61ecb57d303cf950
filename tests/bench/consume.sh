#!/usr/bin/env bash
# Consumer-side figures (DESIGN.md §11): replay of N stored events to one
# native consumer (READ pages, FETCH+COMMIT, push with credit), and publish
# → delivery latency at RATE events/s through push and long polling, all on
# a fresh broker with fsync. A benchmark, not a test.
# usage: tests/bench/consume.sh [N] [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}; rate=${2:-10000}; secs=${3:-5}
bin=build/bin
dir=$(mktemp -d /tmp/ef-bench-consume.XXXXXX)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
$bin/eventflow-broker --data-dir "$dir/data" --endpoint 'tcp://127.0.0.1:*' >/dev/null 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do grep -q '"msg":"ready"' "$dir/log" 2>/dev/null && break; sleep 0.1; done
endpoint=$(sed -n 's/.*"msg":"ready","endpoint":"\([^"]*\)".*/\1/p' "$dir/log")
$bin/bench_consume "$dir/data" "$endpoint" replay "$n"
$bin/bench_consume "$dir/data" "$endpoint" latency "$rate" "$secs"
