#!/usr/bin/env bash
# Install what is missing, build, and run EventFlow on its embedded default:
# the broker on tcp://127.0.0.1:5555 with its data in ./var/eventflow.
# The environment chooses otherwise: EVENTFLOW_DATA_DIR,
# EVENTFLOW_BROKER_ENDPOINT, EVENTFLOW_DURABILITY (see README.md).
# Runs in the foreground; Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh

endpoint=${EVENTFLOW_BROKER_ENDPOINT:-tcp://127.0.0.1:5555}
data=${EVENTFLOW_DATA_DIR:-./var/eventflow}
mkdir -p "$(dirname "$data")"
cat <<MSG

EventFlow broker starting on $endpoint (data in $data).
In another terminal, try:

  export PATH=\$PWD/build/bin:\$PATH EVENTFLOW_BROKER_ENDPOINT=$endpoint
  eventflow streams create orders
  eventflow produce orders '{"id":1,"total":9.5}' --type order.created
  eventflow read orders
  eventflow tail -f orders
  eventflow bench --events 200000 --producers 8 --batch 100

Stop with Ctrl-C.
MSG
exec build/bin/eventflow-broker --data-dir "$data" --endpoint "$endpoint"
