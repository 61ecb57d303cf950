#!/usr/bin/env bash
# Processing figures: jobs/s through a one-step worker pipeline with a
# no-op handler on one and on four workers, the job latency (publish →
# the handler's call, events published one at a time at RATE/s for 5 s)
# on one and on four workers, and the cost of JSON Schema validation at
# ingest (events/s without and with a schema), on a fresh broker with
# fsync. A benchmark, not a test.
# usage: tests/bench/process.sh [JOBS] [EVENTS] [RATE]   (RATE: 2000)
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=${1:-100000}; events=${2:-400000}; rate=${3:-2000}
bin=build/bin
[ -x $bin/bench_process ] || bash deploy/setup.sh
source tests/bench/lib.sh
dir=$(mktemp -d /tmp/ef-bench-process.XXXXXX)
pid=
trap 'bench_stop; rm -rf "$dir"' EXIT
bench_start "$dir/data"
$bin/bench_process "$dir/data" "$endpoint" jobs "$jobs" 1
$bin/bench_process "$dir/data" "$endpoint" jobs "$jobs" 4
$bin/bench_process "$dir/data" "$endpoint" latency "$rate" 5 1
$bin/bench_process "$dir/data" "$endpoint" latency "$rate" 5 4
$bin/bench_process "$dir/data" "$endpoint" validate "$events"
