#!/usr/bin/env bash
# Broker memory after readers die mid-read (DESIGN.md §11: memory returns
# to its idle level after load). A fresh broker (CurveZMQ, fsync) holds
# EVENTS events of 200 bytes in one stream; one reader replays it whole
# (the warm-up: pools and caches that stay are part of idle), and after
# SETTLE s the idle memory is read. Then READERS processes, PARALLEL at a
# time, each connect (Curve handshake, HELLO) and replay the stream with
# READ pages of 10000, and are killed with SIGKILL HOLD s into their
# read; SETTLE s after the last, the memory is read again. Memory is
# RssAnon (heap, stacks: what the broker allocated) and VmRSS (with the
# store's file pages it has mapped, which the page cache owns).
# A benchmark, not a test.
# usage: tests/bench/readers.sh [READERS] [EVENTS]   (default 200 500000)
# env: PARALLEL (10), HOLD (0.4), SETTLE (5)
set -euo pipefail
cd "$(dirname "$0")/../.."
readers=${1:-200} events=${2:-500000}
par=${PARALLEL:-10} hold=${HOLD:-0.4} settle=${SETTLE:-5}
bin=build/bin
[ -x $bin/bench_consume ] || bash deploy/setup.sh
source tests/bench/lib.sh
dir=$(mktemp -d /tmp/ef-bench-readers.XXXXXX)
pid=
kids=()
trap '[ ${#kids[@]} -eq 0 ] || kill -9 "${kids[@]}" 2>/dev/null; bench_stop; rm -rf "$dir"' EXIT
data=$dir/data
bench_start "$data"
bpid=$pid
# exec: the pid $! names is the reader itself, so that kill -9 hits it
# (not a subshell whose reader would go on to the end of the stream)
read1() { exec $bin/bench_consume "$data" "$endpoint" replay "$events" read; }
cold_anon=$(bench_kb $bpid RssAnon) cold_rss=$(bench_kb $bpid VmRSS)
(read1 >/dev/null) # fills the stream, reads it once
sleep "$settle"
idle_anon=$(bench_kb $bpid RssAnon) idle_rss=$(bench_kb $bpid VmRSS)
peak=0 killed=0 finished=0
while [ $killed -lt "$readers" ]; do
  kids=()
  for _ in $(seq "$par"); do
    read1 >/dev/null 2>&1 &
    kids+=($!)
  done
  sleep "$hold"
  a=$(bench_kb $bpid RssAnon)
  [ "$a" -gt $peak ] && peak=$a
  for k in "${kids[@]}"; do
    # one that finished before the kill read the whole stream: counted
    kill -0 "$k" 2>/dev/null || finished=$((finished + 1))
    kill -9 "$k" 2>/dev/null || true
  done
  wait "${kids[@]}" 2>/dev/null || true
  killed=$((killed + par))
done
kids=()
sleep "$settle"
after_anon=$(bench_kb $bpid RssAnon) after_rss=$(bench_kb $bpid VmRSS)
echo "readers killed=$killed finished_before_kill=$finished parallel=$par hold_s=$hold settle_s=$settle events=$events"
echo "readers_memory cold_anon_kb=$cold_anon idle_anon_kb=$idle_anon peak_anon_kb=$peak after_anon_kb=$after_anon cold_rss_kb=$cold_rss idle_rss_kb=$idle_rss after_rss_kb=$after_rss"
