#!/usr/bin/env bash
# Clock steps, repeated (issue 14, item 3): runs the ctest program
# integration_clock_jumps N times (default 5). Each run steps the broker's
# wall clock +300 s and then -600 s under libfaketime while a retry waits
# on its 2-4 s backoff and a 3 s consumer group lease is held. Prints the
# measured delays (min/median/max over the runs) and a verdict: PASS when
# every run passed (every retry 2-5 s after its failure, every lease going
# to another member 3-4 s after it was taken).
# usage: tests/chaos/clock_jumps.sh [RUNS] [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
build=${2:-build}
bin="$build/bin/test_broker_clock_jumps"
[ -x "$bin" ] || { echo "clock_jumps: $bin missing (build first)" >&2; exit 2; }
source tests/chaos/figures.sh
chaos_run "clock_jumps" "$runs" "$bin"
