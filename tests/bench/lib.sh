# What the benchmark scripts share (sourced, not run): starting and
# stopping a broker on a data dir, free ports, a process's memory.
# The caller sets bin (build/bin) and dir (its temp dir).

# a free TCP port on 127.0.0.1
bench_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# bench_start DATA_DIR [BROKER FLAGS...]: start a broker on DATA_DIR,
# listening on a free port of 127.0.0.1 (or on $BENCH_ENDPOINT); wait
# for its ready line. Sets pid, endpoint and ready_ms (from the start to
# ready: what a restart costs). The log is DATA_DIR.log.
bench_start() {
  local data=$1 t0 ep=${BENCH_ENDPOINT:-'tcp://127.0.0.1:*'}
  shift
  t0=$(date +%s%N)
  : >"$data.log"
  ${BROKER_BIN:-$bin/eventflow-broker} --data-dir "$data" --endpoint "$ep" "$@" \
    >/dev/null 2>"$data.log" &
  pid=$!
  until grep -q '"msg":"ready"' "$data.log" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || { echo "broker on $data did not start:" >&2; tail -3 "$data.log" >&2; return 1; }
    sleep 0.01
  done
  ready_ms=$((($(date +%s%N) - t0) / 1000000))
  endpoint=$(sed -n 's/.*"msg":"ready","endpoint":"\([^"]*\)".*/\1/p' "$data.log" | tail -1)
}

# stop the broker bench_start started (SIGTERM: it commits and closes)
bench_stop() {
  [ -n "${pid:-}" ] || return 0
  kill $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  pid=
}

# bench_kb PID FIELD: a /proc/PID/status memory field in KB (VmRSS,
# RssAnon: the heap and stacks, without the store's mapped file pages)
bench_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# the shared benchmark anchors (redis-streams-baseline.sh, seed-stacks/):
# shared/bench beside the checkout, or beside the directory holding it (a
# worktree's)
bench_shared() {
  local d
  for d in .. ../.. ../../..; do
    [ -d "$d/shared/bench" ] && { echo "$d/shared/bench"; return; }
  done
  echo ../shared/bench
}
