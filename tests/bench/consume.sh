#!/usr/bin/env bash
# Consumer-side figures (DESIGN.md §11), each on a fresh broker:
#  * replay of N stored events to one native consumer (READ pages,
#    FETCH+COMMIT: each commit awaited, carried by the next fetch, or not
#    awaited; push with credit), with CurveZMQ (the default) and plain
#    (--curve off, loopback); the frames the broker sent (bench_zmq probe,
#    and the FETCH page's size) and bare ZeroMQ moving frames of those
#    sizes, with Curve and plain (the ceiling the replay is read against);
#  * publish → delivery latency at RATE events/s for SECONDS through push
#    and long polling, with --durability fsync (the default: delivered once
#    on disk; the disk's own 8 KiB write+fdatasync latency is measured
#    first, beside the data dir) and --durability os.
# A benchmark, not a test. usage: tests/bench/consume.sh [N] [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}; rate=${2:-10000}; secs=${3:-5}
bin=build/bin
[ -x $bin/bench_zmq ] && [ -x $bin/bench_disk ] || bash deploy/setup.sh
source tests/bench/lib.sh
dir=$(mktemp -d /tmp/ef-bench-consume.XXXXXX)
pid=
trap 'bench_stop; rm -rf "$dir"' EXIT

# a broker on a fresh data dir with extra flags; sets pid, endpoint
start() { rm -rf "$dir/data"; bench_start "$dir/data" "$@"; }

echo "# replay of $n events, CurveZMQ"
start
replay=$($bin/bench_consume "$dir/data" "$endpoint" replay "$n")
echo "$replay"
frames=$($bin/bench_zmq probe "$dir/data" "$endpoint" replay)
echo "$frames"
bench_stop
echo "# replay of $n events, plain (--curve off)"
start --curve off
EF_BENCH_CURVE=off $bin/bench_consume "$dir/data" "$endpoint" replay "$n"
bench_stop
# at least 2M events' worth: a run of a second or more
bare=$((n > 2000000 ? n : 2000000))
echo "# bare ZeroMQ, frames of a READ page, of a push and of a FETCH page, $bare events' worth"
field() { echo "$frames" | sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
# a FETCH page of 1000 (slim, as libeventflow asks) is as large as that
# READ page
frames="$frames fetch_frame_bytes=$(echo "$replay" | sed -n 's/^replay_page_bytes=\([0-9]*\).*/\1/p') fetch_frame_events=1000"
for kind in read push fetch; do
  size=$(field ${kind}_frame_bytes) per=$(field ${kind}_frame_events)
  for mode in curve plain; do
    echo "$kind $($bin/bench_zmq bare "$size" $((bare / per)) "$per" $mode)"
  done
done
for d in fsync os; do
  if [ $d = fsync ]; then
    echo "# the disk's own 8 KiB write+fdatasync, beside the data dir ($dir)"
    $bin/bench_disk "$dir" 5000
  fi
  echo "# latency at $rate events/s for ${secs}s, --durability $d, CurveZMQ"
  start --durability $d
  $bin/bench_consume "$dir/data" "$endpoint" latency "$rate" "$secs"
  bench_stop
done
