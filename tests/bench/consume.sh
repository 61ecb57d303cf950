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

# each replay figure against bare ZeroMQ sending frames of a page's size
# (1000 events) with the same setting (tests/bench/bench_zmq_curve.c)
versus() {
    local out=$1 mode=$2 bytes bare
    bytes=$(sed -n 's/^replay_page_bytes=\([0-9]*\).*/\1/p' "$out")
    [ -n "$bytes" ] || return 0
    # the best of three: the limit, on a machine that is shared
    bare=$(for _ in 1 2 3; do $bin/bench_zmq_curve "$bytes" 2000 "$mode"; done |
        sort -t= -k2 -n -r | head -1)
    echo "$bare"
    awk -v bare="$bare" '
        BEGIN { split(bare, kv, /[ =]/); fps = kv[2] }
        /^replay_.*_events_per_s=/ {
            split($1, f, "="); ev = fps * 1000
            printf "%s_vs_bare_zmq=%.2f (bare: %.0f events/s in frames of 1000)\n",
                   f[1], f[2] / ev, ev }' "$out"
}

echo "# replay of $n events, CurveZMQ"
start
$bin/bench_consume "$dir/data" "$endpoint" replay "$n" | tee "$dir/curve"
stop
versus "$dir/curve" curve
echo "# replay of $n events, plain (--curve off)"
start --curve off
EF_BENCH_CURVE=off $bin/bench_consume "$dir/data" "$endpoint" replay "$n" |
    tee "$dir/plain"
stop
versus "$dir/plain" off
for d in fsync os; do
    echo "# latency at $rate events/s for ${secs}s, --durability $d, CurveZMQ"
    start --durability $d
    $bin/bench_consume "$dir/data" "$endpoint" latency "$rate" "$secs"
    stop
done
