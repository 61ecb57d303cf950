#!/usr/bin/env bash
# Durable ingest, EventFlow beside Redis Streams, in one run on this machine
# (DESIGN.md §11): EventFlow's broker with fsync group commit, 8 producers,
# 200-byte payloads, batches of 100 and unbatched; then Redis XADD with
# appendfsync always (../shared/bench/redis-streams-baseline.sh). Prints the
# figures and the ratios. A benchmark, not a test: run it on purpose.
# usage: tests/bench/ingest.sh [EVENTS]   (default 1000000 batched)
set -euo pipefail
cd "$(dirname "$0")/../.."
events=${1:-1000000}
bin=build/bin
[ -x $bin/eventflow-broker ] || bash deploy/setup.sh
source tests/bench/lib.sh
baseline=${EVENTFLOW_REDIS_BASELINE:-$(bench_shared)/redis-streams-baseline.sh}

dir=$(mktemp -d /tmp/ef-bench.XXXXXX)
pid=
trap 'bench_stop; rm -rf "$dir"' EXIT
bench_start "$dir/data" --durability fsync
export EVENTFLOW_BROKER_ENDPOINT=$endpoint EVENTFLOW_DATA_DIR=$dir/data

run() { $bin/eventflow bench "$@" | tail -1; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

batched=$(run --stream batched --events "$events" --producers 8 --batch 100 --size 200)
unbatched=$(run --stream unbatched --events $((events / 10)) --producers 8 --batch 1 --size 200)
echo "eventflow_batched   $batched"
echo "eventflow_unbatched $unbatched"

if [ -f "$baseline" ]; then
  redis=$(bash "$baseline" 300000)
  echo "$redis"
  r_unp=$(echo "$redis" | awk '/unpipelined/ {print $2}')
  r_pip=$(echo "$redis" | awk '/pipeline100/ {print $2}')
  e_b=$(echo "$batched" | field events_per_s)
  e_u=$(echo "$unbatched" | field events_per_s)
  awk -v a="$e_b" -v b="$r_pip" 'BEGIN {printf "ratio_batched_vs_redis_pipelined   %.2fx (bar 3x)\n", a / b}'
  awk -v a="$e_u" -v b="$r_unp" 'BEGIN {printf "ratio_unbatched_vs_redis_unpipelined %.2fx (bar 4x)\n", a / b}'
else
  echo "redis baseline script not found at $baseline; EventFlow figures only" >&2
fi
