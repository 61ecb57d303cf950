#!/usr/bin/env bash
# EventFlow's performance targets (DESIGN.md §11) from one run on this
# machine: every figure beside its anchor or limit measured in the same
# run, the ratio, the bar and a verdict. It builds the release binaries
# (deploy/setup.sh: RelWithDebInfo into build/), then runs the benchmark
# scripts of tests/bench, each on its own broker on a fresh temp dir on
# 127.0.0.1:
#   ingest.sh    durable native ingest vs Redis Streams appendfsync always
#   consume.sh   replay (push, READ, FETCH+COMMIT awaited, carried, async;
#                Curve and plain) vs
#                bare ZeroMQ with the broker's frames; publish → delivery
#                latency at 10k/s (os; fsync vs the disk's own
#                write+fdatasync)
#   flat.sh      ingest, replay and restart as one stream grows; bytes on
#                disk per event
#   readers.sh   broker memory after 200 readers killed mid-read
#   process.sh   jobs/s and job latency (figures, no bar)
#   http.sh      HTTP ingest vs a bare civetweb 202 handler and the seed
#                stacks (Express+PostgreSQL, Express+BullMQ)
# An anchor that cannot run (redis-server, the seed stacks) says so in its
# line and the run goes on. A benchmark, not a test.
# Prints a table; writes one JSON line per figure to build/race/race-TIME.jsonl
# (or FILE), and each script's own output to build/race/TIME/.
# usage: tests/bench/race.sh [--long] [--levels "0 N ..."] [--json FILE]
#                            [--only "ingest consume ..."] [--from build/race/TIME]
#   quick (the default, ~10 min): flat.sh at 0 and 2M events
#   --long: at 0, 10M, 50M and 100M events (filled with --durability os,
#           batches of 1000; about 35 GiB of disk, checked before filling)
#   --levels: other levels for flat.sh
#   --only: run these scripts only (the others' lines say n/a)
#   --from: no run; the table again from the scripts' output of an earlier run
set -uo pipefail
cd "$(dirname "$0")/../.."
mode=quick levels="0 2000000" json= from= only=
while [ $# -gt 0 ]; do
  case $1 in
    --long) mode=long levels="0 10000000 50000000 100000000" ;;
    --levels) levels=$2; shift ;;
    --json) json=$2; shift ;;
    --from) from=$2; shift ;;
    --only) only=$2; shift ;;
    -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "race: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${from:-build/race/$stamp}
mkdir -p "$out"
json=${json:-build/race/race-$stamp.jsonl}
: >"$json"
host=$(hostname)
# when the figures were taken (with --from: that run's, from its name)
when=$(basename "$out" | sed -n 's/^\([0-9]\{4\}\)\([0-9]\{2\}\)\([0-9]\{2\}\)T\([0-9]\{2\}\)\([0-9]\{2\}\)\([0-9]\{2\}\)Z$/\1-\2-\3T\4:\5:\6Z/p')
[ -n "$when" ] || when=$(date -u +%FT%TZ)
source tests/bench/lib.sh
seed=${EVENTFLOW_SEED_STACKS:-$(bench_shared)/seed-stacks}
measure=500000
[ $mode = long ] && measure=1000000

[ -n "$from" ] || echo "race: building (deploy/setup.sh, RelWithDebInfo)" >&2
[ -n "$from" ] || bash deploy/setup.sh >"$out/setup.log" 2>&1 || { echo "race: build failed, see $out/setup.log" >&2; exit 1; }

# run NAME SECONDS COMMAND...: one script, its output kept in $out/NAME.txt
run() {
  local name=$1 limit=$2 t0=$SECONDS
  shift 2
  [ -z "$from" ] || return 0
  [ -z "$only" ] || [[ " $only " == *" $name "* ]] || { : >"$out/$name.txt"; return 0; }
  echo "race: $name ($*)" >&2
  timeout --kill-after=10 "$limit" "$@" >"$out/$name.txt" 2>"$out/$name.err"
  local rc=$?
  [ $rc -eq 0 ] || echo "race: $name ended with $rc (see $out/$name.err)" >&2
  echo "race: $name took $((SECONDS - t0)) s" >&2
}
# kv FILE KEY: KEY's first value (KEY=NUMBER)
kv() { sed -n "s/.*\b$2=\([0-9.]*\).*/\1/p" "$1" | head -1; }
# sect FILE HEADER KEY: KEY's value in the section of FILE after the line
# starting with "# HEADER"
sect() { awk -v h="# $2" 'index($0, h) == 1 {on = 1; next} /^#/ {on = 0} on' "$1" >"$out/.sect"; kv "$out/.sect" "$3"; }

# human numbers: 1234567 -> 1.23M
num() {
  awk -v x="$1" 'BEGIN {
    if (x == "") print "-"; else if (x >= 1e6) printf "%.2fM\n", x / 1e6;
    else if (x >= 1e4) printf "%.1fk\n", x / 1e3; else if (x >= 100) printf "%.0f\n", x;
    else printf "%.3g\n", x }'
}

fmt='%-58s %12s  %-38.38s %6s %15s  %s\n'
printf "$fmt" figure EventFlow "anchor / limit" ratio bar verdict >"$out/table.txt"
fails=0
# row FIGURE VALUE UNIT ANCHOR ANCHOR_TEXT [OP BAR [SLACK]]: the ratio
# VALUE/ANCHOR against the bar (ok when ratio OP BAR, or, with SLACK,
# when VALUE is within SLACK of ANCHOR on the right side); without OP a
# figure with no bar. A missing VALUE or ANCHOR: n/a, and ANCHOR_TEXT
# says why.
row() {
  local fig=$1 val=$2 unit=$3 anc=$4 atext=$5 op=${6:-} bar=${7:-} slack=${8:-} ratio=null ok=null verdict
  if [ -z "$val" ] || { [ -n "$op" ] && [ -z "$anc" ]; }; then
    verdict=n/a
  elif [ -z "$op" ]; then
    verdict=--
    [ -n "$anc" ] && ratio=$(awk -v v="$val" -v a="$anc" 'BEGIN {printf "%.3f", a ? v / a : 0}')
  else
    ratio=$(awk -v v="$val" -v a="$anc" 'BEGIN {printf "%.3f", a ? v / a : 0}')
    ok=$(awk -v r="$ratio" -v b="$bar" -v op="$op" -v v="$val" -v a="$anc" -v s="$slack" 'BEGIN {
      ok = (op == ">=") ? r >= b : r <= b
      if (!ok && s != "") ok = (op == ">=") ? v >= a - s : v <= a + s
      print ok ? "true" : "false" }')
    verdict=$([ "$ok" = true ] && echo ok || echo FAIL)
    [ "$ok" = true ] || fails=$((fails + 1))
  fi
  local shown_anc=$atext
  [ -n "$anc" ] && shown_anc="$(num "$anc") $atext"
  local shown_bar=-
  [ -n "$op" ] && shown_bar="$op $bar${slack:+ (±$slack)}"
  printf "$fmt" "$fig" "$(num "$val") $unit" "$shown_anc" \
    "$([ "$ratio" = null ] && echo - || printf '%.2f' "$ratio")" "$shown_bar" "$verdict" >>"$out/table.txt"
  printf '{"figure":"%s","value":%s,"unit":"%s","anchor":%s,"anchor_what":"%s","ratio":%s,"bar":"%s","ok":%s,"time":"%s","host":"%s","mode":"%s"}\n' \
    "$fig" "${val:-null}" "$unit" "${anc:-null}" "$atext" "$ratio" "${op:+$op $bar}" "$ok" \
    "$when" "$host" "$mode" >>"$json"
}

# ------------------------------------------------------------- ingest
run ingest 900 bash tests/bench/ingest.sh 1000000
f=$out/ingest.txt
e_b=$(grep '^eventflow_batched' "$f" | kv /dev/stdin events_per_s)
e_u=$(grep '^eventflow_unbatched' "$f" | kv /dev/stdin events_per_s)
r_pip=$(awk '/^redis_.*pipeline100/ {print $2}' "$f")
r_unp=$(awk '/^redis_.*unpipelined/ {print $2}' "$f")
why="Redis XADD always, pipelined 100"
[ -n "$r_pip" ] || why="Redis did not run (see ingest.err)"
row "durable ingest, 8 prod x batch 100 x 200 B, fsync, Curve" "$e_b" ev/s "$r_pip" "$why" ">=" 3
why="Redis XADD always, unpipelined"
[ -n "$r_unp" ] || why="Redis did not run"
row "durable publish, unbatched, 8 producers" "$e_u" ev/s "$r_unp" "$why" ">=" 4

# ------------------------------------------------------------ consume
run consume 900 bash tests/bench/consume.sh 1000000 10000 5
f=$out/consume.txt
for kind in push read fetch_commit fetch_with_commit fetch_commit_async \
  member_fetch_commit_async; do
  frame=push
  [ $kind = read ] && frame=read
  case $kind in *fetch*) grep -q '^fetch bare_zmq' "$f" && frame=fetch ;; esac
  v=$(sect "$f" "replay of 1000000 events, CurveZMQ" "replay_${kind}_events_per_s")
  bc=$(grep "^$frame bare_zmq_curve" "$f" | kv /dev/stdin events_per_s)
  bp=$(grep "^$frame bare_zmq_plain" "$f" | kv /dev/stdin events_per_s)
  p=$(sect "$f" "replay of 1000000 events, plain" "replay_${kind}_events_per_s")
  case $kind in
    push) name=push ;; read) name=READ ;; fetch_commit) name=FETCH+COMMIT ;;
    fetch_with_commit) name="FETCH carrying COMMIT" ;;
    fetch_commit_async) name="FETCH+async COMMIT" ;;
    member_fetch_commit_async) name="member FETCH+async COMMIT" ;;
  esac
  row "replay $name, Curve" "$v" ev/s 2000000 "target" ">=" 1
  row "replay $name, Curve, vs bare ZeroMQ Curve" "$v" ev/s "$bc" "bare ZMQ Curve, $frame frames" ">=" 0.5
  row "replay $name, plain, vs bare ZeroMQ plain" "$p" ev/s "$bp" "bare ZMQ plain, $frame frames" ">=" 0.5
done
frames=$(grep '^read_frame_bytes' "$f")
disk_p50=$(kv "$f" disk_write_fdatasync_8k_p50_ms)
disk_p99=$(kv "$f" disk_write_fdatasync_8k_p99_ms)
disk_max=$(kv "$f" disk_write_fdatasync_8k_max_ms)
for way in push longpoll; do
  v=$(sect "$f" "latency at 10000 events/s for 5s, --durability os" "${way}_p99_ms")
  row "publish->delivery p99 at 10k/s, os, $way" "$v" ms 1 "limit" "<=" 1
done
for way in push longpoll; do
  v=$(sect "$f" "latency at 10000 events/s for 5s, --durability fsync" "${way}_p99_ms")
  row "publish->delivery p99 at 10k/s, fsync, $way" "$v" ms "$disk_p99" "disk 8 KiB write+fdatasync p99" "<=" 2
done
row "disk 8 KiB write+fdatasync p50 (max $disk_max ms)" "$disk_p50" ms "" "the limit's own figure"

# --------------------------------------------------------------- flat
run flat $([ $mode = long ] && echo 14400 || echo 1800) env MEASURE=$measure bash tests/bench/flat.sh $levels
f=$out/flat.txt
l0=$(grep '^flat level=0 ' "$f")
i0=$(echo "$l0" | kv /dev/stdin ingest_events_per_s)
p0=$(echo "$l0" | kv /dev/stdin replay_events_per_s)
s0=$(echo "$l0" | kv /dev/stdin restart_ms)
grep '^flat level=' "$f" | grep -v '^flat level=0 ' | while read -r line; do
  lv=$(echo "$line" | kv /dev/stdin level)
  lvn=$(num "$lv")
  row "ingest after $lvn events in the stream, vs empty" "$(echo "$line" | kv /dev/stdin ingest_events_per_s)" ev/s "$i0" "at 0 events" ">=" 0.9
  row "replay after $lvn events in the stream, vs empty" "$(echo "$line" | kv /dev/stdin replay_events_per_s)" ev/s "$p0" "at 0 events" ">=" 0.9
  row "restart with $lvn events, vs empty" "$(echo "$line" | kv /dev/stdin restart_ms)" ms "$s0" "at 0 events" "<=" 1.1 50
  echo "$fails" >"$out/.fails"
done
[ -f "$out/.fails" ] && fails=$(cat "$out/.fails")
last=$(grep '^flat level=' "$f" | tail -1)
if [ -n "$last" ]; then
  row "bytes on disk per event (du data.mdb at $(num "$(echo "$last" | kv /dev/stdin level)"))" \
    "$(echo "$last" | kv /dev/stdin bytes_per_event)" B 300 "payload 200 + 100" "<=" 1
else
  row "bytes on disk per event" "" B 300 "flat.sh did not run: $(tail -1 "$out/flat.err")" "<=" 1
fi
[ -s "$out/flat.err" ] && grep -q 'not filling' "$out/flat.err" && cat "$out/flat.err" >&2

# ------------------------------------------------------------ readers
run readers 600 bash tests/bench/readers.sh 200 500000
f=$out/readers.txt
mb() { [ -n "$1" ] && awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
row "broker RssAnon after 200 readers kill -9'd mid-read" "$(mb "$(kv "$f" after_anon_kb)")" MB \
  "$(mb "$(kv "$f" idle_anon_kb)")" "MB idle (after one whole replay)" "<=" 1.1 4
row "broker VmRSS after them (with mapped store pages)" "$(mb "$(kv "$f" after_rss_kb)")" MB \
  "$(mb "$(kv "$f" idle_rss_kb)")" "MB idle VmRSS"

# ------------------------------------------------------------ process
run process 900 bash tests/bench/process.sh 100000 200000 2000
f=$out/process.txt
row "jobs/s, no-op handler, 1 worker" "$(awk '/^jobs +1 worker/ {print $4}' "$f")" jobs/s "" ""
row "jobs/s, no-op handler, 4 workers" "$(awk '/^jobs +4 workers/ {print $4}' "$f")" jobs/s "" ""
for w in 1_worker 4_workers; do
  line=$(grep "^job_latency_$w " "$f")
  row "job latency p50, ${w/_/ }, 2000 jobs/s" "$(echo "$line" | kv /dev/stdin p50_ms)" ms "" ""
  row "job latency p99, ${w/_/ }, 2000 jobs/s" "$(echo "$line" | kv /dev/stdin p99_ms)" ms "" ""
done

# --------------------------------------------------------------- http
# the seed stacks are started by http.sh when they are not up; stopped
# again after if this run started them
seeds_up=0
[ -f /tmp/seedstacks/run/a-api.pid ] && kill -0 "$(cat /tmp/seedstacks/run/a-api.pid)" 2>/dev/null && seeds_up=1
run http 1200 bash tests/bench/http.sh 15s
[ -n "$from" ] || [ $seeds_up = 1 ] || [ ! -f "$seed/stop.sh" ] || bash "$seed/stop.sh" >>"$out/http.err" 2>&1
f=$out/http.txt
rps() { grep "\"label\":\"$1\"" "$f" | sed -n 's/.*"rps":\([0-9.]*\).*/\1/p' | head -1; }
e=$(rps eventflow) c=$(rps ceiling)
b=$(awk '/^seed_B_express_pg_rps/ {print $2}' "$f" | grep -v '?')
a=$(awk '/^seed_A_express_bullmq_rps/ {print $2}' "$f" | grep -v '?')
row "HTTP ingest via the bridge (durable before 202)" "$e" req/s "$c" "bare civetweb 202 handler" ">=" 0.85
row "HTTP ingest vs Express+PostgreSQL" "$e" req/s "$b" "$([ -n "$b" ] && echo "seed B" || echo "seed B did not run (see http.err)")" ">=" 10
row "HTTP ingest vs Express+BullMQ" "$e" req/s "$a" "$([ -n "$a" ] && echo "seed A, worker running" || echo "seed A did not run (see http.err)")" ">=" 10

# ------------------------------------------------------------- report
{
  echo "EventFlow race ($mode), $when, $host: $(nproc) cores," \
    "$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem/ {print $2}') GiB RAM"
  echo "replay frames (200 B payloads): $frames"
  echo
  cat "$out/table.txt"
  echo
  echo "$fails bar(s) not met; JSON: $json; each script's output: $out/"
} | tee "$out/report.txt"
