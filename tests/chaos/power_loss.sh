#!/usr/bin/env bash
# Power loss, in full (README "Reliability"): 1,000 random power cuts of one
# recorded run under load, for --durability fsync (the verdict: every
# acknowledged event survives, in order, and the store opens) and for
# --durability os (measured: what a cut loses; unsynced writes each kept or
# not, or a kernel flusher's pass in offset order cut; with and without
# writeback of what is old), with a real broker started
# on 20 of the rebuilt stores each. fsync publishes flat out; os at 5,000
# events/s (flat out, os writes so much that 1,000 rebuilds take long).
# Usage: tests/chaos/power_loss.sh [BUILD_DIR] (default build); CUTS,
# SECONDS_, RATE, WRITEBACK_MS, SEED override.
set -euo pipefail
build=${1:-build}
bin="$build/bin/chaos_power_loss"
[ -x "$bin" ] || { echo "power_loss.sh: no $bin (build first)" >&2; exit 2; }
cuts=${CUTS:-1000}
secs=${SECONDS_:-3}
seed=${SEED:-$(date +%s)}
echo "== --durability fsync"
fsync=0
"$bin" --durability fsync --cuts "$cuts" --seconds "$secs" --brokers 20 \
  --seed "$seed" || fsync=$?
echo
echo "== --durability os, the kernel writing back what is ${WRITEBACK_MS:-500} ms old"
"$bin" --durability os --cuts "$cuts" --seconds "$secs" --brokers 20 \
  --rate "${RATE:-5000}" --writeback-ms "${WRITEBACK_MS:-500}" --seed "$seed"
echo
echo "== --durability os, a flusher's pass in offset order cut, what is ${WRITEBACK_MS:-500} ms old written back"
"$bin" --durability os --cuts "$cuts" --seconds "$secs" --brokers 20 \
  --rate "${RATE:-5000}" --writeback-ms "${WRITEBACK_MS:-500}" --flusher \
  --seed "$seed"
echo
echo "== --durability os, no writeback before the cut"
"$bin" --durability os --cuts "$cuts" --seconds "$secs" --brokers 20 \
  --rate "${RATE:-5000}" --seed "$seed"
echo
echo "power_loss.sh: verdict $([ $fsync = 0 ] && echo PASS || echo FAIL) (fsync)"
exit $fsync
