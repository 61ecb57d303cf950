#!/usr/bin/env bash
# Many idle clients (issue 14, item 9). A broker (CurveZMQ), a bridge and
# the shipped nginx in front of it. First the unloaded figures: a light
# native load's publish latency (LOAD_RATE/s, one event each, for SECS s)
# and new HTTP requests' latency (GET /health, one connection each),
# directly and through nginx. Then NATIVE idle native connections (each
# through its Curve handshake and a HELLO), HTTP idle keep-alive
# connections to the bridge and HTTP more through nginx are opened and
# held: the broker's CPU with nothing else running (SECS s, from
# /proc/PID/stat), the processes' resident memory, the same latencies
# again; then every idle connection closed and the memory read again.
# Prints the figures and each bar (idle CPU < 5% of a core; latency
# within 2x unloaded; memory per connection; memory returned) with a
# verdict. A benchmark, not a test.
# usage: tests/bench/many_clients.sh [NATIVE HTTP] (default 10000 2000)
# env: SECS (20), LOAD_RATE (50), BROKER_BIN (another broker build),
# EF_BENCH_HEARTBEAT (the idle clients ping every MS, as libeventflow did
# before: EF_BENCH_HEARTBEAT=1000 EF_BENCH_HEARTBEAT_ANSWER=5000), HEARTBEAT (the broker's
# --heartbeat-timeout; its default when unset)
set -euo pipefail
cd "$(dirname "$0")/../.."
native=${1:-10000} http=${2:-2000}
secs=${SECS:-20} rate=${LOAD_RATE:-50}
bin=build/bin
[ -x $bin/bench_many ] || bash deploy/setup.sh
ulimit -n "$(ulimit -Hn)"
hz=$(getconf CLK_TCK)

dir=$(mktemp -d /tmp/ef-bench-many.XXXXXX)
pids=()
holders=()
cleanup() {
  for h in "${holders[@]}"; do eval "exec ${h}>&-" 2>/dev/null || true; done
  kill "${pids[@]}" 2>/dev/null || true
  [ -f "$dir/nginx/nginx.pid" ] && kill "$(cat "$dir/nginx/nginx.pid")" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
bport=$(port) hport=$(port) nport=$(port)
extra=()
[ -n "${HEARTBEAT:-}" ] && extra+=(--heartbeat-timeout "$HEARTBEAT")
${BROKER_BIN:-$bin/eventflow-broker} --data-dir "$dir/data" --endpoint "tcp://127.0.0.1:$bport" \
  --durability os "${extra[@]}" >/dev/null 2>"$dir/broker.log" &
bpid=$!
pids+=($bpid)
for _ in $(seq 100); do [ -f "$dir/data/initial-admin" ] && grep -q '"ready"' "$dir/broker.log" && break; sleep 0.1; done
$bin/eventflow-bridge --data-dir "$dir/data" --broker "tcp://127.0.0.1:$bport" \
  --listen "127.0.0.1:$hport" 2>"$dir/bridge.log" &
gpid=$!
pids+=($gpid)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$hport/ready" >/dev/null && break; sleep 0.1; done
EVENTFLOW_DATA_DIR="$dir/data" EVENTFLOW_BROKER_ENDPOINT="tcp://127.0.0.1:$bport" \
  $bin/eventflow streams create many >/dev/null

# the shipped nginx config, on loopback, both upstreams this one bridge
mkdir -p "$dir/nginx/logs"
sed -e "s/127.0.0.1:8081 /127.0.0.1:$hport /" -e "s/127.0.0.1:8082 /127.0.0.1:$hport /" \
    -e "s/listen 80;/listen 127.0.0.1:$nport;/" -e '/listen 443 ssl;/d' -e '/ssl_/d' \
    -e "s#/var/log/nginx/#$dir/nginx/logs/#" deploy/nginx/eventflow.conf >"$dir/nginx/eventflow.conf"
cat >"$dir/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx/nginx.pid;
events { worker_connections $((http * 2 + 256)); }
http {
  client_body_temp_path $dir/nginx/body; proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fcgi; uwsgi_temp_path $dir/nginx/uwsgi; scgi_temp_path $dir/nginx/scgi;
  include $dir/nginx/eventflow.conf;
}
EOF
nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/logs/error.log" -g 'daemon on;' \
  2>"$dir/nginx/stderr.log"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$nport/health" >/dev/null && break; sleep 0.1; done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
nginx_rss_kb() { local t=0; for p in $(pgrep -P "$(cat "$dir/nginx/nginx.pid")") "$(cat "$dir/nginx/nginx.pid")"; do
  t=$((t + $(rss_kb "$p"))); done; echo $t; }
threads() { awk '/^Threads/ {print $2}' "/proc/$1/status"; }
# broker CPU over secs s as % of one core
cpu_pct() { local a b; a=$(cpu $bpid); sleep "$secs"; b=$(cpu $bpid)
  awk -v d=$((b - a)) -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.1f", 100 * d / hz / s}'; }
# latencies: publish (light load) and new HTTP requests, direct and via nginx
measure() {
  local tag=$1
  $bin/bench_many load "$dir/data" "tcp://127.0.0.1:$bport" "$secs" "$rate" >"$dir/$tag.pub" &
  local lp=$!
  $bin/bench_many httplat 127.0.0.1 "$hport" 200 >"$dir/$tag.http"
  $bin/bench_many httplat 127.0.0.1 "$nport" 200 >"$dir/$tag.nginx"
  wait $lp
  echo "$tag: publish $(cat "$dir/$tag.pub")"
  echo "$tag: http direct $(cat "$dir/$tag.http")"
  echo "$tag: http via nginx $(cat "$dir/$tag.nginx")"
}
field() { awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' "$dir/$1"; }
# hold: start a holder whose stdin is a fifo kept open on fd $2; wait for "held"
hold() {
  local name=$1 fd=$2; shift 2
  mkfifo "$dir/$name.in"
  "$bin/bench_many" "$@" <"$dir/$name.in" >"$dir/$name.out" 2>"$dir/$name.err" &
  pids+=($!)
  eval "exec ${fd}>\"$dir/$name.in\""
  holders+=("$fd")
}
held() { for _ in $(seq 1800); do grep -q '^held' "$dir/$1.out" 2>/dev/null && return 0
  if [ -s "$dir/$1.err" ]; then cat "$dir/$1.err" >&2; return 1; fi; sleep 0.1; done; return 1; }

echo "many_clients: $native idle native, $http idle HTTP keep-alive (direct) + $http (nginx); load $rate publishes/s; ${secs} s windows"
rss0=$(rss_kb $bpid) grss0=$(rss_kb $gpid) nrss0=$(nginx_rss_kb)
idle0=$(cpu_pct)
echo "unloaded: broker cpu ${idle0}% of a core idle, rss ${rss0} KB; bridge rss ${grss0} KB, $(threads $gpid) threads; nginx rss ${nrss0} KB"
measure unloaded
rss1=$(rss_kb $bpid)

# idle native connections: several processes (each socket takes two
# descriptors there), each with contexts of 1,000 sockets
per=2500 fd=10 i=0 left=$native
while [ "$left" -gt 0 ]; do
  n=$((left < per ? left : per))
  hold native$i $fd native "$dir/data" "tcp://127.0.0.1:$bport" "$n"
  left=$((left - n)) i=$((i + 1)) fd=$((fd + 1))
done
t0=$(date +%s.%N)
for j in $(seq 0 $((i - 1))); do held native$j; done
echo "opened $native native connections in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
hold httpd 20 http 127.0.0.1 "$hport" "$http"
held httpd
hold httpn 21 http 127.0.0.1 "$nport" "$http"
held httpn
echo "opened $http keep-alive connections to the bridge and $http through nginx"
sleep 2
rss2=$(rss_kb $bpid) grss2=$(rss_kb $gpid) nrss2=$(nginx_rss_kb)
idle1=$(cpu_pct)
echo "held: broker cpu ${idle1}% of a core idle, rss ${rss2} KB; bridge rss ${grss2} KB, $(threads $gpid) threads; nginx rss ${nrss2} KB"
measure held

for h in "${holders[@]}"; do eval "exec ${h}>&-"; done
holders=()
for p in "${pids[@]:2}"; do wait "$p" 2>/dev/null || true; done
echo "keep-alives the bridge closed while held: $(sed -n 's/^closed by the server //p' "$dir/httpd.out"); nginx: $(sed -n 's/^closed by the server //p' "$dir/httpn.out")"
pids=("${pids[@]:0:2}")
sleep 3
rss3=$(rss_kb $bpid) grss3=$(rss_kb $gpid) nrss3=$(nginx_rss_kb)
idle2=$(cpu_pct)
echo "closed: broker cpu ${idle2}% of a core idle, rss ${rss3} KB; bridge rss ${grss3} KB, $(threads $gpid) threads; nginx rss ${nrss3} KB"

verdict=PASS
bar() { # name ok text
  if [ "$2" = 1 ]; then echo "  ok   $1: $3"; else echo "  FAIL $1: $3"; verdict=FAIL; fi; }
echo "bars:"
ok=$(awk -v c="$idle1" 'BEGIN {print (c < 5) ? 1 : 0}')
bar "broker idle CPU with $native native connections < 5% of a core" "$ok" "${idle1}% (${idle0}% before)"
per_conn=$(awk -v a="$rss1" -v b="$rss2" -v n="$native" 'BEGIN {printf "%.1f", (b - a) / n}')
echo "  --   broker memory per native connection: ${per_conn} KB ($(( (rss2 - rss1) / 1024 )) MB for $native)"
echo "  --   bridge memory per keep-alive connection: $(awk -v a="$grss0" -v b="$grss2" -v n="$http" 'BEGIN {printf "%.1f", (b - a) / n}') KB"
echo "  --   nginx memory per keep-alive connection: $(awk -v a="$nrss0" -v b="$nrss2" -v n="$http" 'BEGIN {printf "%.1f", (b - a) / n}') KB"
ret=$(awk -v a="$rss1" -v b="$rss2" -v c="$rss3" 'BEGIN {printf "%d", (b > a) ? 100 * (b - c) / (b - a) : 100}')
ok=$(awk -v r="$ret" 'BEGIN {print (r >= 80) ? 1 : 0}')
bar "broker memory returned after they closed (>= 80%)" "$ok" "${ret}% (${rss2} KB -> ${rss3} KB; ${rss1} KB before)"
gret=$(awk -v a="$grss0" -v b="$grss2" -v c="$grss3" 'BEGIN {printf "%d", (b > a) ? 100 * (b - c) / (b - a) : 100}')
echo "  --   bridge memory returned after they closed: ${gret}% (${grss2} KB -> ${grss3} KB; ${grss0} KB before: the stacks of the worker threads that served, at most --threads of them)"
for kind in pub http nginx; do
  for p in p50_ms p99_ms; do
    u=$(field unloaded.$kind $p) h=$(field held.$kind $p)
    ok=$(awk -v u="$u" -v h="$h" 'BEGIN {print (h <= 2 * u || h <= u + 1) ? 1 : 0}')
    bar "$kind $p within 2x unloaded (or +1 ms)" "$ok" "$h ms held vs $u ms unloaded ($(awk -v u="$u" -v h="$h" 'BEGIN {printf "%.2f", (u > 0) ? h / u : 0}')x)"
  done
  e=$(field held.$kind errors)
  bar "$kind errors while held" "$([ "$e" = 0 ] && echo 1 || echo 0)" "$e"
done
echo "verdict: $verdict"
