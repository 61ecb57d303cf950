#!/usr/bin/env bash
# Soak (issue 14, item 8): mixed load for --minutes (default 60) against a
# real broker and a real bridge, the broker restarted every
# --restart-every minutes (default 10; SIGTERM, and every third time
# kill -9), on the same data dir; the bridge stays up throughout.
#   * native producers (tests/chaos/soak_load.c, libeventflow) to
#     soak-native, HTTP producers through the bridge to soak-http: each
#     event with its own id, a batch retried with the same ids until
#     acknowledged (timeouts, 503 while the broker is away);
#   * consumer groups on both streams whose members (`eventflow consume`
#     processes) join and leave every few seconds;
#   * soak-jobs, a pipeline with a worker step: `eventflow worker` fails
#     20% of its jobs (retried with backoff) and 5% for good (to the DLQ),
#     and the DLQ is replayed every 2 minutes;
#   * every 10 s the broker's and the bridge's RSS (anonymous and file),
#     fds and threads, data.mdb's size, the store's used bytes, the
#     producers' publish latency p50/p99 over the window and the events
#     acknowledged so far go to WORKDIR/samples.jsonl (tests/chaos/soak.py).
# At the end: every acknowledged event is in its stream exactly once,
# every event of the two streams reached some member of its group, every
# job ended PROCESSED (the workers stop failing and the DLQ is replayed),
# and the memory and fd figures are flat (soak.py verify: per broker
# process at the same age, the bridge early vs late). --asan runs the
# broker and the bridge of build-asan (bash deploy/setup.sh --sanitize)
# and adds LeakSanitizer's reports from each clean stop to the verdict.
# usage: tests/chaos/soak.sh [--minutes N] [--restart-every M] [--asan]
#                            [--build DIR] [--workdir DIR] [--keep]
# e.g. a short run while developing: --minutes 3 --restart-every 1
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
minutes=60
restart_every=10
asan=0
build=build
work=
keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --restart-every) restart_every=$2; shift 2 ;;
    --asan) asan=1; shift ;;
    --build) build=$2; shift 2 ;;
    --workdir) work=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
EF=$root/$build/bin/eventflow
LOAD=$root/$build/bin/soak_load
SRV=$root/$build
[ "$asan" = 1 ] && SRV=$root/build-asan
for b in "$EF" "$LOAD" "$SRV/bin/eventflow-broker" "$SRV/bin/eventflow-bridge"; do
  [ -x "$b" ] || { echo "soak: $b missing (build first${asan:+; --asan needs bash deploy/setup.sh --sanitize})" >&2; exit 2; }
done
[ -n "$work" ] || work=$(mktemp -d /tmp/soak.XXXXXX)
mkdir -p "$work"/{p,c,logs,store}
data=$work/data
port=$((20000 + RANDOM % 20000))
bport=$((port + 1))
ep=tcp://127.0.0.1:$port
url=http://127.0.0.1:$bport
run_s=$((minutes * 60))
restart_s=$((restart_every * 60))
# lower rates scale nothing: the point is leaks and loss, not throughput
echo "soak: $minutes min, broker restart every $restart_every min, asan=$asan, workdir $work"
echo "soak: broker $ep, bridge $url"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-report_objects=0}
efa=(--data-dir "$data" --broker "$ep" --timeout 10000)
efc () { "$EF" "${efa[@]}" "$@"; }   # never in the background: kill needs the real pid
now () { date +%s; }
log () { echo "soak: [$(date -u +%T)] $*"; }

epoch=0
broker_start () {
  epoch=$((epoch + 1))
  local logf=$work/logs/broker.$epoch.log
  "$SRV/bin/eventflow-broker" --data-dir "$data" --endpoint "$ep" \
    --log-level warn >"$work/logs/broker.$epoch.out" 2>"$logf" &
  echo $! >"$work/broker.pid"
  echo "$epoch $(now) $!" >>"$work/epochs"
  local i
  for i in $(seq 1 300); do
    efc stats >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$work/broker.pid")" 2>/dev/null || break
    sleep 0.2
  done
  log "broker epoch $epoch did not come up (see $logf)"
  return 1
}
# broker_stop term|kill
broker_stop () {
  local pid; pid=$(cat "$work/broker.pid")
  if [ "$1" = kill ]; then kill -9 "$pid"; else kill -TERM "$pid"; fi
  wait "$pid" 2>/dev/null
  local rc=$?
  echo "$epoch $(now) $1 $rc" >>"$work/stops"
  log "broker epoch $epoch stopped ($1, exit $rc)"
}

cleanup () {
  local p
  for p in $(cat "$work"/*.pids 2>/dev/null) $(cat "$work/broker.pid" "$work/bridge.pid" "$work/sampler.pid" 2>/dev/null); do
    kill -TERM "$p" 2>/dev/null
  done
}
trap 'cleanup; exit 130' INT TERM

broker_start || exit 1
"$SRV/bin/eventflow-bridge" --listen "127.0.0.1:$bport" --broker "$ep" \
  --data-dir "$data" --log-level warn \
  >"$work/logs/bridge.out" 2>"$work/logs/bridge.log" &
echo $! >"$work/bridge.pid"
for i in $(seq 1 100); do
  curl -sf "$url/ready" >/dev/null && break
  sleep 0.2
done

efc streams create soak-native >/dev/null
efc streams create soak-http >/dev/null
efc streams create soak-jobs --pipeline '[{"type":"worker","service":"soak","max_attempts":3,"backoff":{"base_ms":100,"max_ms":2000},"timeout_ms":10000}]' >/dev/null
key=$(efc apikeys create soak-http --role producer --streams soak-http | jq -r .api_key)
[ -n "$key" ] && [ "$key" != null ] || { echo "soak: no API key" >&2; cleanup; exit 1; }

# The worker: fails a fraction of its jobs (read from a file, so the end
# can stop the failures): exit 1 = retried, exit 100 = to the DLQ.
echo "20 5" >"$work/fail_rate"
cat >"$work/job.sh" <<EOF
read -r retry fatal <"$work/fail_rate"
cat >/dev/null
r=\$((RANDOM % 100))
[ \$r -lt "\$fatal" ] && { echo "soak: failed for good" >&2; exit 100; }
[ \$r -lt \$((fatal + retry)) ] && { echo "soak: failed, retry" >&2; exit 1; }
echo '{"ok":true}'
EOF
workers=()
for i in 1 2; do
  "$EF" "${efa[@]}" worker --service soak --exec "bash $work/job.sh" \
    >/dev/null 2>"$work/logs/worker.$i.log" &
  workers+=($!)
done
printf '%s\n' "${workers[@]}" >"$work/workers.pids"

# Producers: rates in events/s and batch sizes.
producers=()
for i in 1 2; do
  "$LOAD" native "$data" "$ep" soak-native 60 10 "$work/p/native-$i" \
    2>"$work/logs/native-$i.log" &
  producers+=($!)
  "$LOAD" http "$url" "$key" soak-http 40 5 "$work/p/http-$i" \
    2>"$work/logs/http-$i.log" &
  producers+=($!)
done
"$LOAD" native "$data" "$ep" soak-jobs 10 2 "$work/p/jobs-1" \
  2>"$work/logs/jobs-1.log" &
producers+=($!)
printf '%s\n' "${producers[@]}" >"$work/producers.pids"

python3 tests/chaos/soak.py sample "$work" "$EF" "$ep" &
echo $! >"$work/sampler.pid"

# Consumer group members: each a `consume` process whose event ids go
# to its own file; started and stopped as the run goes on.
member_n=0
declare -A members=()   # pid -> stream
member_start () {  # STREAM GROUP
  member_n=$((member_n + 1))
  "$EF" "${efa[@]}" consume "$1" --group "$2" --commit-every 50 \
    2>>"$work/logs/consume.$member_n.log" \
    > >(grep --line-buffered -o '"event_id":"[0-9a-f-]*"' | cut -d'"' -f4 \
        >"$work/c/$1.$member_n.ids") &
  members[$!]=$1
  printf '%s\n' "${!members[@]}" >"$work/members.pids"
}
member_stop () {  # PID
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  unset "members[$1]"
  printf '%s\n' "${!members[@]}" >"$work/members.pids"
}
member_churn () {
  local s pids n
  for s in soak-native soak-http; do
    pids=()
    for p in "${!members[@]}"; do [ "${members[$p]}" = "$s" ] && pids+=("$p"); done
    n=${#pids[@]}
    # keep 1 to 3 members: join, or leave, at random
    if [ "$n" -eq 0 ] || { [ "$n" -lt 3 ] && [ $((RANDOM % 2)) -eq 0 ]; }; then
      member_start "$s" "g-$s"
    else
      member_stop "${pids[RANDOM % n]}"
    fi
  done
}
member_start soak-native g-soak-native
member_start soak-http g-soak-http

start=$(now)
end=$((start + run_s))
next_restart=$((start + restart_s))
next_replay=$((start + 120))
next_churn=$((start + 15))
restarts=0
replays=0
log "load running"
while [ "$(now)" -lt "$end" ]; do
  t=$(now)
  if [ "$t" -ge "$next_restart" ]; then
    restarts=$((restarts + 1))
    how=term
    [ $((restarts % 3)) -eq 2 ] && how=kill
    broker_stop $how
    broker_start || break
    log "broker epoch $epoch up (restart $restarts)"
    next_restart=$((next_restart + restart_s))
  fi
  if [ "$t" -ge "$next_replay" ]; then
    n=$(efc dlq replay --all --stream soak-jobs 2>&1 | tr '\n' ' ')
    replays=$((replays + 1))
    log "dlq replay: $n"
    next_replay=$((next_replay + 120))
  fi
  if [ "$t" -ge "$next_churn" ]; then
    member_churn
    next_churn=$((t + 10 + RANDOM % 30))
  fi
  sleep 1
done

log "stopping the load"
for p in "${producers[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${producers[@]}"; do wait "$p" 2>/dev/null; done
cat "$work"/logs/native-*.log "$work"/logs/http-*.log "$work"/logs/jobs-*.log | grep "acknowledged" | sed 's/^/  /'

# The jobs: stop failing, replay what is dead, wait until all processed.
echo "0 0" >"$work/fail_rate"
efc dlq replay --all --stream soak-jobs >/dev/null 2>&1
for i in $(seq 1 180); do
  pending=$(efc read soak-jobs | grep -vc '"status":"PROCESSED"')
  [ "$pending" -eq 0 ] && break
  [ $((i % 20)) -eq 0 ] && efc dlq replay --all --stream soak-jobs >/dev/null 2>&1
  sleep 1
done
log "jobs not PROCESSED after the end: $pending"

# The groups: one member each until its lag is 0.
for p in "${!members[@]}"; do member_stop "$p"; done
member_start soak-native g-soak-native
member_start soak-http g-soak-http
for i in $(seq 1 120); do
  lag=$( { efc groups list soak-native; efc groups list soak-http; } | jq '[.groups[].lag] | add' | awk '{s += $1} END {print s + 0}')
  [ "$lag" -eq 0 ] && break
  sleep 1
done
sleep 1
for p in "${!members[@]}"; do member_stop "$p"; done
log "group lag at the end: $lag"

for s in soak-native soak-http soak-jobs; do
  efc read "$s" >"$work/store/$s.jsonl"
done
for p in "${workers[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
kill -TERM "$(cat "$work/sampler.pid")" 2>/dev/null
wait "$(cat "$work/sampler.pid")" 2>/dev/null
bpid=$(cat "$work/bridge.pid")
kill -TERM "$bpid"; wait "$bpid" 2>/dev/null
echo "bridge $(now) term $?" >>"$work/stops"
broker_stop term

cat >"$work/end.json" <<EOF
{"minutes": $minutes, "restart_every": $restart_every, "asan": $asan,
 "restarts": $restarts, "replays": $replays, "jobs_pending": $pending,
 "group_lag": $lag}
EOF
python3 tests/chaos/soak.py verify "$work"
status=$?
[ "$keep" = 1 ] || [ "$status" -ne 0 ] || rm -rf "$data"
echo "soak: workdir $work (samples.jsonl, logs/)"
exit $status
