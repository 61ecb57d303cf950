#!/usr/bin/env bash
# Fuzz every target of tests/fuzz (or those named) for a set time each,
# one after the other, with clang's libFuzzer and ASan+UBSan: builds
# build-fuzz (-DEF_FUZZ=ON, CC=clang), starts each target from its
# committed corpus (tests/fuzz/corpus/<target>, read only) and keeps what
# it finds in build-fuzz/fuzz-corpus/<target>; crashes, leaks, timeouts
# (10 s an input) and out-of-memory inputs land in build-fuzz/fuzz-out/
# with each target's log (an input is a timeout after FUZZ_TIMEOUT
# seconds, 10 by default, and reported as slow after as long: libFuzzer
# measures wall-clock time, so on a
# machine busy with other work, or with the fuzzer niced, give it more,
# e.g. FUZZ_TIMEOUT=300). Prints one line per target: its time, the
# inputs run, libFuzzer's coverage (cov: edges, ft: features), the
# inputs it added to its corpus, and the findings. Exits 1 if any.
# A finding becomes a regression: fix the code, then copy the input to
# tests/fuzz/corpus/<target>/regress-<what> (ctest fuzz_replay_<target>).
# usage: tests/fuzz/run.sh [seconds-per-target] [target...]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] &&
  targets=(proto json jsonmp jwt schema patch config bridge)
build=build-fuzz
if ! command -v clang >/dev/null ||
   ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
     >/dev/null 2>&1; then
  echo "run.sh: needs clang and libFuzzer: apt-get install clang libclang-rt-dev" >&2
  exit 2
fi

CC=clang cmake -S . -B "$build" -DEF_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS_DEBUG="-g -O1" >/dev/null
cmake --build "$build" -j"$(nproc)" \
  --target "${targets[@]/#/fuzz_}" 2>&1 | grep -E "warning:|error:" || true

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
mkdir -p "$build/fuzz-out"
printf '%-7s %6s %10s %6s %6s %5s  %s\n' target secs execs cov ft new findings
found=0
for t in "${targets[@]}"; do
  work=$build/fuzz-corpus/$t
  log=$build/fuzz-out/$t.log
  mkdir -p "$work"
  rm -f "$build/fuzz-out/$t"-*
  start=$(date +%s)
  rc=0
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" \
    -timeout="${FUZZ_TIMEOUT:-10}" -report_slow_units="${FUZZ_TIMEOUT:-10}" \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-out/$t-" \
    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  new=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  findings=$(cd "$build/fuzz-out" && ls "$t"-* 2>/dev/null | grep -v '\.log$' |
             tr '\n' ' ' || true)
  if [ -z "$execs" ]; then  # stopped at a finding: no final stats
    execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
  fi
  if [ "$rc" -ne 0 ] || [ -n "$findings" ]; then
    found=1
    findings=${findings:-"exit $rc (see $log)"}
  fi
  printf '%-7s %6s %10s %6s %6s %5s  %s\n' "$t" "$took" "${execs:-?}" \
    "${cov:-?}" "${ft:-?}" "${new:-?}" "${findings:-none}"
done
exit "$found"
