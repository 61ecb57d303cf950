#!/usr/bin/env bash
# The Debian package installed on this machine, as an operator would:
# `dpkg -i` creates the system user `eventflow`, its data dir (0750) and
# the configs (root:eventflow 0640) and enables no unit; the broker and a
# bridge run as `eventflow` from /usr/bin with the installed configs and
# serve /health; `dpkg -r` keeps the configs, `dpkg --purge` (after the
# test's store is deleted) takes the user, the group and the dirs away,
# leaving the machine as it was. Needs root, and a machine without an
# eventflow package, user or dirs: otherwise it is skipped (exit 77) and
# says why. Waits on log lines, never on sleeps.
# usage: system.sh BUILD_DIR
set -euo pipefail
build=$1
. "$(dirname "$0")/lib.sh"
skip () { echo "SKIPPED: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "dpkg -i needs root (install_package checks the package without it)"
dpkg-query -W eventflow >/dev/null 2>&1 && skip "the eventflow package is installed here already"
getent passwd eventflow >/dev/null && skip "a user eventflow exists here already"
for d in /etc/eventflow /var/lib/eventflow /usr/bin/eventflow-broker; do
  [ -e "$d" ] && skip "$d exists here already (the test would not leave the machine as it was)"
done
T=$(mktemp -d)
pids=()
installed=
cleanup () {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$installed" ]; then
    rm -rf /var/lib/eventflow/*
    dpkg --purge eventflow >/dev/null 2>&1 || true
    rmdir /var/lib/eventflow /etc/eventflow 2>/dev/null || true
  fi
  rm -rf "$T"
}
trap cleanup EXIT

(cd "$build" && cpack -G DEB -B "$T/pkg" >"$T/cpack.log" 2>&1) ||
  { cat "$T/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$T"/pkg/eventflow_*.deb)
installed=1
if ! dpkg -i "$deb" >"$T/dpkg.log" 2>&1; then
  grep -q "lock" "$T/dpkg.log" && { installed=; skip "dpkg is locked by another process"; }
  cat "$T/dpkg.log" >&2; fail "dpkg -i"
fi

IFS=: read -r _ _ uid _ _ home shell < <(getent passwd eventflow) || fail "no user eventflow"
[ "$uid" -lt 1000 ] || fail "eventflow is not a system user (uid $uid)"
[ "$shell" = /usr/sbin/nologin ] || fail "eventflow's shell is $shell"
[ "$home" = /var/lib/eventflow ] || fail "eventflow's home is $home"
[ "$(stat -c '%U:%G %a' /var/lib/eventflow)" = "eventflow:eventflow 750" ] ||
  fail "/var/lib/eventflow is $(stat -c '%U:%G %a' /var/lib/eventflow)"
[ "$(stat -c '%U:%G %a' /etc/eventflow/eventflow-broker.conf)" = "root:eventflow 640" ] ||
  fail "eventflow-broker.conf is $(stat -c '%U:%G %a' /etc/eventflow/eventflow-broker.conf)"
[ -f /usr/lib/systemd/system/eventflow-broker.service ] || fail "no broker unit"
[ -f "/usr/lib/systemd/system/eventflow-bridge@.service" ] || fail "no bridge unit"
! ls /etc/systemd/system/*.wants/eventflow* >/dev/null 2>&1 || fail "a unit was enabled"

# the broker and a bridge as the unit runs them: user eventflow, the
# installed configs, the data dir /var/lib/eventflow
# (setpriv and env exec, and no function runs them: $! is the program)
as_eventflow=(setpriv --reuid=eventflow --regid=eventflow --init-groups
              env EVENTFLOW_DATA_DIR=/var/lib/eventflow)
"${as_eventflow[@]}" EVENTFLOW_BROKER_ENDPOINT='tcp://127.0.0.1:*' /usr/bin/eventflow-broker \
  --config /etc/eventflow/eventflow-broker.conf >/dev/null 2>"$T/broker.log" &
pids+=($!); broker=$!
wait_line "$T/broker.log" '"msg":"ready"'
endpoint=$(sed -n 's/.*"msg":"ready".*"endpoint":"\([^"]*\)".*/\1/p' "$T/broker.log" | head -1)
port=$(free_port)
"${as_eventflow[@]}" EVENTFLOW_BROKER_ENDPOINT="$endpoint" EVENTFLOW_HTTP_LISTEN="127.0.0.1:$port" \
  /usr/bin/eventflow-bridge --config /etc/eventflow/eventflow-bridge.conf 2>"$T/bridge.log" &
pids+=($!); bridge=$!
wait_line "$T/bridge.log" '"msg":"ready"'
curl -sf "http://127.0.0.1:$port/health" | grep -q '"ok"' || fail "/health"
[ "$(stat -c %U /var/lib/eventflow/data.mdb)" = eventflow ] || fail "the store is not eventflow's"
kill -TERM "$bridge"; wait "$bridge" || fail "bridge exit $?"
kill -TERM "$broker"; wait "$broker" || fail "broker exit $?"
grep -q '"msg":"stopped"' "$T/broker.log" || fail "the broker did not stop cleanly"
pids=()

dpkg -r eventflow >/dev/null 2>&1 || fail "dpkg -r"
[ -f /etc/eventflow/eventflow-broker.conf ] || fail "dpkg -r took the configs"
[ ! -e /usr/bin/eventflow-broker ] || fail "dpkg -r left the broker"
rm -rf /var/lib/eventflow/*
dpkg --purge eventflow >/dev/null 2>&1 || fail "dpkg --purge"
installed=
for d in /etc/eventflow /var/lib/eventflow /usr/lib/systemd/system/eventflow-broker.service; do
  [ ! -e "$d" ] || fail "purge left $d"
done
! getent passwd eventflow >/dev/null || fail "purge left the user"
! getent group eventflow >/dev/null || fail "purge left the group"
echo "ok: dpkg -i, run as eventflow, dpkg -r, dpkg --purge"
