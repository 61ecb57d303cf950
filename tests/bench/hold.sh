#!/usr/bin/env bash
# The bridge under connections that hold its threads, with its defaults:
# IDLE connections that send nothing, SLOW that send a header line a second,
# POLLS long polls (timeout=15000, one API key) on an empty stream; while
# they are held, the time /health and another key's ingest take to answer,
# three times, and how the long polls were answered.
# A benchmark, not a test. usage: tests/bench/hold.sh [IDLE SLOW POLLS]
# (default 1000 300 200)
set -euo pipefail
cd "$(dirname "$0")/../.."
idle=${1:-1000} slow=${2:-300} polls=${3:-200}
bin=build/bin
[ -x $bin/eventflow-bridge ] || bash deploy/setup.sh
ulimit -n "$(ulimit -Hn)"

dir=$(mktemp -d /tmp/ef-bench-hold.XXXXXX)
pids=()
trap 'kill ${pids[*]} 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
bport=$(port); hport=$(port)
$bin/eventflow-broker --data-dir "$dir/data" --endpoint "tcp://127.0.0.1:$bport" >/dev/null 2>"$dir/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -f "$dir/data/initial-admin" ] && grep -q '"ready"' "$dir/broker.log" && break; sleep 0.1; done
$bin/eventflow-bridge --data-dir "$dir/data" --broker "tcp://127.0.0.1:$bport" --listen "127.0.0.1:$hport" 2>"$dir/bridge.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$hport/ready" >/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$hport/api/v1
pw=$(sed -n 's/^password = //p' "$dir/data/initial-admin")
token=$(curl -s -X POST "$url/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"admin@eventflow.local\",\"password\":\"$pw\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
key() { curl -s -X POST "$url/api-keys" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "{\"name\":\"$1\",\"role\":\"$2\"}" | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p'; }
curl -s -X POST "$url/streams" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"name":"quiet"}' >/dev/null
attacker=$(key attacker admin) other=$(key other producer)

PORT=$hport IDLE=$idle SLOW=$slow POLLS=$polls KEY_A=$attacker KEY_B=$other python3 - <<'EOF'
import os, socket, threading, time, urllib.request
port = int(os.environ["PORT"])
held = []
def open_(text=b""):
    s = socket.create_connection(("127.0.0.1", port))
    if text:
        s.sendall(text)
    held.append(s)
    return s
for _ in range(int(os.environ["IDLE"])):
    open_()
slow = [open_(b"GET /health HTTP/1.1\r\n") for _ in range(int(os.environ["SLOW"]))]
poll = ("GET /api/v1/streams/quiet/consumer-groups/g/events?timeout=15000 HTTP/1.1\r\n"
        "Host: x\r\nX-API-Key: %s\r\n\r\n" % os.environ["KEY_A"]).encode()
polls = [open_(poll) for _ in range(int(os.environ["POLLS"]))]
print("held %d connections" % len(held))
stop = False
def drip():
    n = 0
    while not stop:
        time.sleep(1)
        n += 1
        for s in slow:
            try:
                s.sendall(b"X-Drip-%d: 1\r\n" % n)
            except OSError:
                pass
threading.Thread(target=drip, daemon=True).start()
time.sleep(1)
ingest = urllib.request.Request(
    "http://127.0.0.1:%d/api/v1/streams/default/events" % port,
    data=b'{"type":"t","payload":1}',
    headers={"X-API-Key": os.environ["KEY_B"], "Content-Type": "application/json"})
for _ in range(3):
    t0 = time.time()
    h = urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=30).status
    t1 = time.time()
    i = urllib.request.urlopen(ingest, timeout=30).status
    t2 = time.time()
    print("health %d in %.1f ms, another key's ingest %d in %.1f ms"
          % (h, (t1 - t0) * 1e3, i, (t2 - t1) * 1e3))
    time.sleep(1)
answers = {}
for s in polls:
    s.setblocking(False)
    try:
        code = s.recv(64)[9:12].decode() or "closed"
    except BlockingIOError:
        code = "waiting"
    answers[code] = answers.get(code, 0) + 1
print("long polls:", ", ".join("%s %d" % kv for kv in sorted(answers.items())))
stop = True
EOF
