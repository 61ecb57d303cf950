#!/usr/bin/env bash
# The acknowledgement follows the sync (--durability fsync, the default):
# a broker on a fresh data dir, traced with strace while one event is
# published with the CLI. Prints the writer's fdatasync of data.mdb, its
# write of the meta page (through LMDB's synchronous descriptor), and the
# frames the broker's I/O thread sent the client, with their times; the
# verdict is PASS when the publish's answer (the last frame) left after
# both returned. A proof to read, not a benchmark.
# usage: tests/chaos/ack_after_sync.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=build/bin
[ -x $bin/eventflow-broker ] || bash deploy/setup.sh
command -v strace >/dev/null || apt-get install -y -qq strace >/dev/null
source tests/bench/lib.sh
dir=$(mktemp -d /tmp/ef-ack-sync.XXXXXX)
trap 'bench_stop; rm -rf "$dir"' EXIT
bench_start "$dir/data"
export EVENTFLOW_DATA_DIR=$dir/data EVENTFLOW_BROKER_ENDPOINT=$endpoint
$bin/eventflow streams create acks >/dev/null
trace=$dir/trace
strace -f -tt -T -e trace=fdatasync,pwrite64,pwritev,sendto -p "$pid" \
  -o "$trace" 2>"$dir/strace.err" &
spid=$!
# traced from the moment strace says it attached
for _ in $(seq 200); do grep -q attached "$dir/strace.err" 2>/dev/null && break; sleep 0.05; done
$bin/eventflow produce acks '{"n":1}' --type ack.check
sleep 0.5
kill $spid
wait $spid 2>/dev/null || true
# the writer's syncs and the frames sent; the publish's answer is the last
grep -E 'fdatasync\(|pwrite64\(|pwritev\(|sendto\(' "$trace" | grep -v resumed |
  sed 's/\(".\{24\}\)[^"]*"/\1…"/' | tail -6
# times as seconds: start (strace -tt) and end (start + the -T duration)
awk '
  function secs(t, a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
  function took(l, m) { return match(l, /<[0-9.]+>$/) ? substr(l, RSTART + 1, RLENGTH - 2) : 0 }
  /fdatasync\(/ { sync_end = secs($2) + took($0) }
  /pwrite64\(/  { meta_end = secs($2) + took($0) }
  /sendto\(/    { ack = secs($2) }
  END {
    printf "fdatasync returned %.6f, meta page written %.6f, answer sent %.6f\n", sync_end, meta_end, ack
    if (sync_end && meta_end >= sync_end && ack >= meta_end) {
      print "verdict: PASS (the answer left after the sync and the meta page'"'"'s synchronous write returned)"
      exit 0
    }
    print "verdict: FAIL"
    exit 1
  }' "$trace"
