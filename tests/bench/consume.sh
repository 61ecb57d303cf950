#!/usr/bin/env bash
# Consumer-side figures (DESIGN.md §11), each on a fresh broker:
#  * replay of N stored events to one native consumer (READ pages,
#    FETCH+COMMIT, push with credit), with CurveZMQ (the default) and plain
#    (--curve off, loopback);
#  * publish → delivery latency at RATE events/s for SECONDS through push
#    and long polling, with --durability fsync (the default: delivered once
#    on disk) and --durability os.
# A benchmark, not a test. usage: tests/bench/consume.sh [N] [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}; rate=${2:-10000}; secs=${3:-5}
bin=build/bin
dir=$(mktemp -d /tmp/ef-bench-consume.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT

# start a broker on a fresh data dir with extra flags; sets pid, endpoint
start() {
    rm -rf "$dir/data"
    $bin/eventflow-broker --data-dir "$dir/data" --endpoint 'tcp://127.0.0.1:*' \
        "$@" >/dev/null 2>"$dir/log" &
    pid=$!
    for _ in $(seq 100); do grep -q '"msg":"ready"' "$dir/log" 2>/dev/null && break; sleep 0.1; done
    endpoint=$(sed -n 's/.*"msg":"ready","endpoint":"\([^"]*\)".*/\1/p' "$dir/log")
}
stop() { kill $pid; wait $pid 2>/dev/null || true; pid=; }

echo "# replay of $n events, CurveZMQ"
start
$bin/bench_consume "$dir/data" "$endpoint" replay "$n"
stop
echo "# replay of $n events, plain (--curve off)"
start --curve off
EF_BENCH_CURVE=off $bin/bench_consume "$dir/data" "$endpoint" replay "$n"
stop
for d in fsync os; do
    echo "# latency at $rate events/s for ${secs}s, --durability $d, CurveZMQ"
    start --durability $d
    $bin/bench_consume "$dir/data" "$endpoint" latency "$rate" "$secs"
    stop
done
