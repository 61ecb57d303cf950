#!/usr/bin/env bash
# The Prometheus rules (deploy/prometheus/eventflow-rules.yml, README
# "Operating EventFlow"): promtool check rules, promtool test rules with
# deploy/prometheus/eventflow-rules.test.yml, and every metric name the
# rules use found in a real /metrics scrape of a running broker and bridge
# (with a stream, a consumer group behind it and some HTTP traffic, so the
# per-route and per-group series are there).
# usage: tests/deploy/prometheus_rules.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$1/bin
. "$src/tests/install/lib.sh"
rules=$src/deploy/prometheus/eventflow-rules.yml
command -v promtool >/dev/null || fail "no promtool (Debian's prometheus package: deploy/setup.sh)"

promtool check rules "$rules" >&2 || fail "promtool check rules"
(cd "$src/deploy/prometheus" && promtool test rules eventflow-rules.test.yml >&2) ||
  fail "promtool test rules"

T=$(mktemp -d)
pids=()
cleanup () {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

data=$T/data
"$bin/eventflow-broker" --data-dir "$data" --endpoint 'tcp://127.0.0.1:*' \
  --map-size 64M >"$T/broker.out" 2>"$T/broker.log" &
pids+=($!)
wait_line "$T/broker.log" '"msg":"ready"'
endpoint=$(sed -n 's/.*"msg":"ready".*"endpoint":"\([^"]*\)".*/\1/p' "$T/broker.log" | head -1)
[ -n "$endpoint" ] || fail "no endpoint in the broker's ready line"
port=$(free_port)
"$bin/eventflow-bridge" --listen "127.0.0.1:$port" --broker "$endpoint" --data-dir "$data" \
  --metrics-token scrape-token 2>"$T/bridge.log" &
pids+=($!)
wait_line "$T/bridge.log" '"msg":"ready"'
url=http://127.0.0.1:$port

# a stream with events and a group at its start (lag > 0), and requests
ef () { EVENTFLOW_DATA_DIR=$data EVENTFLOW_BROKER_ENDPOINT=$endpoint "$bin/eventflow" "$@"; }
ef streams create orders >/dev/null || fail "streams create"
printf '{"n":1}\n{"n":2}\n{"n":3}\n' | ef produce orders --type order.created >/dev/null || fail "produce"
ef groups seek orders billing earliest >/dev/null || fail "groups seek"
curl -sf "$url/health" >/dev/null || fail "/health"
curl -sf "$url/ready" >/dev/null || fail "/ready"
curl -s -o /dev/null "$url/api/v1/streams" # 401, counted too
scrape=$T/metrics
curl -sf -H 'Authorization: Bearer scrape-token' "$url/metrics" >"$scrape" || fail "/metrics"
promtool check metrics <"$scrape" >&2 || fail "promtool check metrics"

# The metric names in the rules' expressions: strings, label matchers,
# range selectors and by/without/on/ignoring lists taken out, then every
# name that is not a function, keyword or recorded rule. `up` is made by
# Prometheus itself for every target (not in any /metrics page).
names=$(python3 - "$rules" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
exprs = re.findall(r'^\s*expr:\s*(\|\n(?:\s{10,}.*\n?)+|.*)$', text, re.M)
records = set(re.findall(r'^\s*- record:\s*(\S+)', text, re.M))
keywords = {"and", "or", "unless", "by", "without", "on", "ignoring",
            "group_left", "group_right", "offset", "bool", "inf", "nan"}
found = set()
for e in exprs:
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e.lstrip('|'))
    e = re.sub(r'\{[^}]*\}', '', e)
    e = re.sub(r'\[[^\]]*\]', '', e)
    e = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', '', e)
    for m in re.finditer(r'([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?', e):
        name, call = m.group(1), m.group(2)
        if call or name in keywords or name in records:
            continue
        if re.fullmatch(r'\d+[smhdwy]', name):
            continue
        found.add(name)
print("\n".join(sorted(found)))
PY
)
[ -n "$names" ] || fail "no metric names found in the rules"
missing=0
for n in $names; do
  if [ "$n" = up ]; then continue; fi
  if grep -Eq "^$n(\{| )" "$scrape"; then
    echo "ok: $n" >&2
  else
    echo "FAIL: $n is in the rules but not in the bridge's /metrics" >&2
    missing=1
  fi
done
[ $missing = 0 ] || { cat "$scrape" >&2; fail "metric names missing"; }
echo "prometheus rules: checked, unit-tested, $(echo "$names" | wc -w) names found in a real scrape" >&2
