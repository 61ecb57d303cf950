# The chaos commands' shared part (sourced): run a test program RUNS times,
# gather the "figure: NAME MS" lines it prints, print min/median/max of
# each figure over the runs, and a verdict (PASS when every run exited 0).
# chaos_run NAME RUNS COMMAND...; returns 0 on PASS, 1 on FAIL.
chaos_run () {
  local name=$1 runs=$2; shift 2
  local figs failed=0 i out
  figs=$(mktemp)
  for i in $(seq 1 "$runs"); do
    if out=$("$@" 2>&1); then
      echo "$name: run $i/$runs passed"
    else
      failed=$((failed + 1))
      echo "$name: run $i/$runs FAILED:"
      echo "$out" | grep -E "ERROR|FAILED|LINE" | head -8 | sed 's/^/  /'
    fi
    echo "$out" | awk '$1 == "figure:" { print $2, $3 }' >> "$figs"
  done
  echo "$name: figures over $runs runs (ms): name min median max (n)"
  sort -k1,1 -k2,2n "$figs" | awk '
    function flush() { if (n) printf "  %-36s %6d %6d %6d  (%d)\n", key, v[1], v[int((n + 1) / 2)], v[n], n }
    $1 != key { flush(); key = $1; n = 0 }
    { v[++n] = $2 }
    END { flush() }'
  rm -f "$figs"
  if [ "$failed" -eq 0 ]; then
    echo "$name: verdict PASS ($runs of $runs runs passed)"
    return 0
  fi
  echo "$name: verdict FAIL ($failed of $runs runs failed)"
  return 1
}
