#!/bin/sh
# The container's health check (deploy/Dockerfile): a bridge is healthy
# when it answers GET /health on its listen address, a broker when it
# answers STATS to the data dir's local admin key (eventflow stats).
# Which one runs is read from the processes' command lines (the pattern
# is written so that grep's own command line does not match it).
set -eu
if grep -qa 'eventflow-bridg[e]' /proc/[0-9]*/cmdline 2>/dev/null; then
  listen=${EVENTFLOW_HTTP_LISTEN:-127.0.0.1:8080}
  host=${listen%:*} port=${listen##*:}
  case $host in 0.0.0.0|"*"|"") host=127.0.0.1 ;; esac
  exec curl -fsS -o /dev/null --max-time 4 "http://$host:$port/health"
fi
# the broker binds EVENTFLOW_BROKER_ENDPOINT; reach it on loopback
endpoint=${EVENTFLOW_BROKER_ENDPOINT:-tcp://127.0.0.1:5555}
case $endpoint in tcp://0.0.0.0:*|tcp://\*:*) endpoint=tcp://127.0.0.1:${endpoint##*:} ;; esac
exec eventflow --broker "$endpoint" --timeout 4000 stats >/dev/null
