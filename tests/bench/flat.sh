#!/usr/bin/env bash
# Cost per event as one stream grows (DESIGN.md §11: flat from an empty
# store to 100M events), and bytes on disk per event. One stream, "flat",
# is filled to each LEVEL in turn with 200-byte payloads by a broker run
# with --durability os and batches of 1000 (4 producers), then synced:
# the fill is setup, not a figure (fill_s says what it took). At each
# level the broker is restarted with fsync (the default) three times (the
# median start-to-ready time is the restart figure), then it measures
#   ingest   MEASURE more events, 8 producers, batches of 100, 200 B, fsync
#            (as tests/bench/ingest.sh's batched figure)
#   replay   those MEASURE events read back by one native consumer (READ
#            pages of 10000, CurveZMQ), from where they start in the stream
#   disk     data.mdb's allocated size (du), less the empty store's,
#            divided by the events stored
# The page cache is left as it is (warm). A benchmark, not a test.
# usage: tests/bench/flat.sh [LEVEL...]   (default 0 2000000)
# env: MEASURE (500000)
set -euo pipefail
cd "$(dirname "$0")/../.."
levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(0 2000000)
m=${MEASURE:-500000}
bin=build/bin
[ -x $bin/bench_consume ] || bash deploy/setup.sh
source tests/bench/lib.sh
dir=$(mktemp -d /tmp/ef-bench-flat.XXXXXX)
pid=
trap 'bench_stop; rm -rf "$dir"' EXIT
data=$dir/data
# the store may grow past the defaults' 64 GiB map and 10 GiB per org
big=(--map-size 1024G --quota-stored-bytes 0)

# room: ~500 B per event (record, index, half-full pages) and 1 GiB more
last=${levels[$((${#levels[@]} - 1))]}
need_kb=$(((last + 3 * m * ${#levels[@]}) / 1024 * 500 + 1048576))
avail_kb=$(df -Pk "$dir" | awk 'NR == 2 {print $4}')
if [ "$avail_kb" -lt "$need_kb" ]; then
  echo "flat: $last events need about $((need_kb / 1048576)) GiB free in $(dirname "$dir");" \
    "$((avail_kb / 1048576)) GiB are: not filling" >&2
  exit 1
fi

cli() { EVENTFLOW_BROKER_ENDPOINT=$endpoint EVENTFLOW_DATA_DIR=$data $bin/eventflow "$@"; }
count() { cli streams get flat | sed -n 's/.*"events":\([0-9]*\).*/\1/p'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
mdb_bytes() { du -B1 "$data/data.mdb" | cut -f1; }

bench_start "$data" --durability os "${big[@]}"
cli streams create flat >/dev/null
bench_stop
empty=$(mdb_bytes)
stored=0
for level in "${levels[@]}"; do
  bench_start "$data" --durability os "${big[@]}"
  t0=$(date +%s%N)
  if [ "$level" -gt "$stored" ]; then
    cli bench --stream flat --events $((level - stored)) --producers 4 --batch 1000 \
      --size 200 --inflight 8 >/dev/null
  fi
  bench_stop
  # the fill's pages on disk before anything is timed: the OS writing
  # them back would be charged to the measured ingest
  sync "$data/data.mdb"
  fill_s=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
  bytes=$(mdb_bytes)
  events=$stored
  [ "$level" -gt "$stored" ] && events=$level
  per=$(awk -v b="$bytes" -v e="$empty" -v n="$events" 'BEGIN {printf "%.1f", n ? (b - e) / n : 0}')
  starts=()
  for _ in 1 2 3; do
    bench_start "$data" "${big[@]}"
    starts+=("$ready_ms")
    bench_stop
  done
  restart=$(median "${starts[@]}")
  bench_start "$data" "${big[@]}"
  ingests=() replays=()
  for _ in 1 2 3; do
    before=$(count)
    ingests+=("$(cli bench --stream flat --events "$m" --producers 8 --batch 100 --size 200 | tail -1 | field events_per_s)")
    replays+=("$($bin/bench_consume "$data" "$endpoint" replay "$m" read flat "$before" | field replay_read_events_per_s)")
  done
  ingest=$(median "${ingests[@]}") replay=$(median "${replays[@]}")
  stored=$(count)
  bench_stop
  echo "flat level=$level events=$events fill_s=$fill_s restart_ms=$restart ingest_events_per_s=$ingest replay_events_per_s=$replay data_mdb_bytes=$bytes empty_bytes=$empty bytes_per_event=$per"
done
