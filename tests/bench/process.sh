#!/usr/bin/env bash
# Processing figures: jobs/s through a one-step worker pipeline with a
# no-op handler on one and on four workers, and the cost of JSON Schema
# validation at ingest (events/s without and with a schema), on a fresh
# broker with fsync. A benchmark, not a test.
# usage: tests/bench/process.sh [JOBS] [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=${1:-100000}; events=${2:-400000}
bin=build/bin
dir=$(mktemp -d /tmp/ef-bench-process.XXXXXX)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
$bin/eventflow-broker --data-dir "$dir/data" --endpoint 'tcp://127.0.0.1:*' >/dev/null 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do grep -q '"msg":"ready"' "$dir/log" 2>/dev/null && break; sleep 0.1; done
endpoint=$(sed -n 's/.*"msg":"ready","endpoint":"\([^"]*\)".*/\1/p' "$dir/log")
$bin/bench_process "$dir/data" "$endpoint" jobs "$jobs" 1
$bin/bench_process "$dir/data" "$endpoint" jobs "$jobs" 4
$bin/bench_process "$dir/data" "$endpoint" validate "$events"
