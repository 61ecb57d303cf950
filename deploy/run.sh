#!/usr/bin/env bash
# Install what is missing, build, and run EventFlow on its embedded default:
# the broker on tcp://127.0.0.1:5555 (data in ./var/eventflow) and the HTTP
# bridge on http://127.0.0.1:8080. The environment chooses otherwise:
# EVENTFLOW_DATA_DIR, EVENTFLOW_BROKER_ENDPOINT, EVENTFLOW_HTTP_LISTEN (so
# two instances can run side by side). Runs in the foreground; Ctrl-C
# stops both cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh

export EVENTFLOW_DATA_DIR=${EVENTFLOW_DATA_DIR:-./var/eventflow}
export EVENTFLOW_BROKER_ENDPOINT=${EVENTFLOW_BROKER_ENDPOINT:-tcp://127.0.0.1:5555}
export EVENTFLOW_HTTP_LISTEN=${EVENTFLOW_HTTP_LISTEN:-127.0.0.1:8080}
data=$EVENTFLOW_DATA_DIR
url=http://$EVENTFLOW_HTTP_LISTEN

build/bin/eventflow-broker &
broker=$!
bridge=
stop() {
  [ -n "$bridge" ] && kill "$bridge" 2>/dev/null
  kill "$broker" 2>/dev/null
  wait 2>/dev/null
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

# the broker is ready when it answers (its keys exist by then)
for _ in $(seq 100); do
  build/bin/eventflow --timeout 300 stats >/dev/null 2>&1 && break
  kill -0 "$broker" 2>/dev/null || { echo "the broker did not start" >&2; exit 1; }
  sleep 0.1
done
build/bin/eventflow-bridge &
bridge=$!
for _ in $(seq 100); do
  curl -sf "$url/health" >/dev/null 2>&1 && break
  kill -0 "$bridge" 2>/dev/null || { echo "the bridge did not start" >&2; exit 1; }
  sleep 0.1
done

# the first admin, as the broker wrote it on its first start
admin_email=$(sed -n 's/^email = //p' "$data/initial-admin" 2>/dev/null || true)
admin_password=$(sed -n 's/^password = //p' "$data/initial-admin" 2>/dev/null || true)

cat <<MSG

EventFlow is running.
  Dashboard:  $url/
  sign in as: ${admin_email:-admin@eventflow.local}   password: ${admin_password:-(see $data/initial-admin)}
              (the first admin, kept in $data/initial-admin; a password changed since is not shown there)
  HTTP API:   $url/api/v1   (health: $url/health, metrics: $url/metrics)
  broker:     $EVENTFLOW_BROKER_ENDPOINT   data: $data

Try it (paste into another terminal, in this directory):

  PASSWORD=\$(sed -n 's/^password = //p' $data/initial-admin)
  TOKEN=\$(curl -s -X POST $url/api/v1/auth/login -H 'Content-Type: application/json' \\
      -d "{\\"email\\":\\"admin@eventflow.local\\",\\"password\\":\\"\$PASSWORD\\"}" \\
      | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p')
  curl -s -X POST $url/api/v1/streams -H "Authorization: Bearer \$TOKEN" \\
      -H 'Content-Type: application/json' -d '{"name":"orders"}'; echo
  KEY=\$(curl -s -X POST $url/api/v1/producers -H "Authorization: Bearer \$TOKEN" \\
      -H 'Content-Type: application/json' -d '{"name":"shop"}' \\
      | sed -n 's/.*"api_key":"\\([^"]*\\)".*/\\1/p')
  EVENT=\$(curl -s -X POST $url/api/v1/streams/orders/events -H "X-API-Key: \$KEY" \\
      -H 'Content-Type: application/json' -d '{"type":"order.created","payload":{"id":1,"total":9.5}}' \\
      | sed -n 's/.*"event_id":"\\([^"]*\\)".*/\\1/p')
  curl -s $url/api/v1/events/\$EVENT -H "Authorization: Bearer \$TOKEN"; echo

Or natively, with the CLI (it uses the local admin key in $data):

  export PATH=\$PWD/build/bin:\$PATH
  eventflow produce orders '{"id":2}' --type order.created
  eventflow tail -f orders

Stop with Ctrl-C.
MSG
wait "$bridge"
