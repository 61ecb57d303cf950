#!/usr/bin/env bash
# The install and the Debian package (README "Install"), without touching
# the machine: `DESTDIR=T cmake --install` and `--prefix T` put every file
# where GNUInstallDirs says; a program built with the installed
# eventflow.pc links and runs; `cpack -G DEB` makes the package, whose
# contents, control fields and maintainer scripts are checked, and whose
# extracted broker and bridge serve /health and take a publish on a temp
# data dir. Waits on log lines (tail -F), never on sleeps.
# usage: package.sh BUILD_DIR BINDIR LIBDIR INCLUDEDIR CONFDIR DATADIR UNITDIR
#   (the full paths CMake configured; UNITDIR relative to the prefix)
set -euo pipefail
build=$1 bindir=$2 libdir=$3 incdir=$4 confdir=$5 datadir=$6 unitdir=$7
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
T=$(mktemp -d)
pids=()
cleanup () {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${EF_TEST_KEEP:-}" ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
need () { for f in "$@"; do [ -e "$f" ] || fail "missing $f"; done; }

declare -A had  # what the machine holds already (it must not gain them)
for f in "$confdir" "$datadir" "$bindir/eventflow-broker"; do
  [ -e "$f" ] && had[$f]=1
done

# --- cmake --install with DESTDIR: the configured FHS paths ---------------
DESTDIR=$T/destdir cmake --install "$build" >/dev/null
D=$T/destdir
need "$D$bindir/eventflow-broker" "$D$bindir/eventflow-bridge" "$D$bindir/eventflow" \
     "$D$libdir/libeventflow.a" "$D$libdir/pkgconfig/eventflow.pc" \
     "$D$incdir/eventflow/ef_client.h" "$D$incdir/eventflow/ef_error.h" \
     "$D$confdir/eventflow-broker.conf" "$D$confdir/eventflow-bridge.conf" \
     "$D$prefix/$unitdir/eventflow-broker.service" \
     "$D$prefix/$unitdir/eventflow-bridge@.service"
[ -d "$D$datadir" ] || fail "no data dir $datadir"
[ -x "$D$bindir/eventflow-broker" ] || fail "broker not executable"
# the units name the installed programs and dirs
grep -q "^ExecStart=$bindir/eventflow-broker " "$D$prefix/$unitdir/eventflow-broker.service" ||
  fail "broker unit does not run $bindir/eventflow-broker"
grep -q "^ReadWritePaths=$datadir\$" "$D$prefix/$unitdir/eventflow-broker.service" ||
  fail "broker unit does not write $datadir"
# the installed configs are the example files
cmp -s "$D$confdir/eventflow-broker.conf" "$(dirname "$0")/../../deploy/eventflow-broker.conf.example" ||
  fail "eventflow-broker.conf is not deploy/eventflow-broker.conf.example"

# --- cmake --install --prefix: relative paths move under it (DESTDIR too:
# a /usr build's /etc and /var paths are absolute, and stay so) -----------
DESTDIR=$T/pd cmake --install "$build" --prefix "$T/prefix" >/dev/null
P=$T/pd$T/prefix
need "$P/bin/eventflow-broker" "$P/include/eventflow/ef_client.h"
find "$P" -name libeventflow.a | grep -q . || fail "no libeventflow.a under --prefix"

# --- a client built from the installed header, library and eventflow.pc ---
cat > "$T/client.c" <<'C'
#include <stdio.h>
#include "eventflow/ef_client.h"
#include "eventflow/ef_error.h"
int
main (void)
{
    ef_client_t *c = ef_client_new ("tcp://127.0.0.1:5555");
    if (!c)
        return 1;
    printf ("%s\n", ef_strerror (EF_EINVAL));
    ef_client_destroy (&c);
    return 0;
}
C
pc="pkg-config --define-variable=prefix=$D$prefix"
cflags=$(PKG_CONFIG_PATH=$D$libdir/pkgconfig $pc --cflags eventflow)
libs=$(PKG_CONFIG_PATH=$D$libdir/pkgconfig $pc --libs eventflow)
cc -o "$T/client" "$T/client.c" $cflags $libs || fail "client does not build with eventflow.pc"
"$T/client" | grep -q . || fail "client does not run"

# nothing of the above went onto the machine itself
for f in "$confdir" "$datadir" "$bindir/eventflow-broker"; do
  [ -n "${had[$f]:-}" ] || [ ! -e "$f" ] || fail "$f was installed on the machine"
done

# --- the Debian package ----------------------------------------------------
(cd "$build" && cpack -G DEB -B "$T/pkg" >"$T/cpack.log" 2>&1) ||
  { cat "$T/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$T"/pkg/eventflow_*.deb)
contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
for f in ".$bindir/eventflow-broker" ".$bindir/eventflow-bridge" ".$bindir/eventflow" \
         ".$libdir/libeventflow.a" ".$libdir/pkgconfig/eventflow.pc" \
         ".$incdir/eventflow/ef_client.h" ".$confdir/eventflow-broker.conf" \
         ".$confdir/eventflow-bridge.conf" ".$prefix/$unitdir/eventflow-broker.service" \
         ".$prefix/$unitdir/eventflow-bridge@.service" ".$datadir/"; do
  grep -qxF "$f" <<<"$contents" || fail "the package lacks $f"
done
depends=$(dpkg-deb -f "$deb" Depends)
for d in adduser libzmq5 liblmdb0 libsodium23 libcivetweb1 libsystemd0; do
  grep -q "$d" <<<"$depends" || fail "Depends lacks $d: $depends"
done
dpkg-deb -e "$deb" "$T/control"
grep -qxF "$confdir/eventflow-broker.conf" "$T/control/conffiles" || fail "configs are not conffiles"
for s in postinst prerm postrm; do
  [ -x "$T/control/$s" ] || fail "no $s"
  sh -n "$T/control/$s" || fail "$s does not parse"
done
grep -q "adduser --system" "$T/control/postinst" || fail "postinst makes no system user"
grep -q "install -d -o eventflow -g eventflow -m 0750 $datadir" "$T/control/postinst" ||
  fail "postinst does not give $datadir to eventflow"
! grep -Eq "systemctl (enable|start)|deb-systemd-helper enable" "$T/control/postinst" ||
  fail "postinst enables or starts a unit"

# --- the packaged broker and bridge, run from their extracted paths -------
R=$T/root
dpkg-deb -x "$deb" "$R"
data=$T/data
"$R$bindir/eventflow-broker" --data-dir "$data" --endpoint 'tcp://127.0.0.1:*' \
  >"$T/broker.out" 2>"$T/broker.log" &
pids+=($!); broker=$!
wait_line "$T/broker.log" '"msg":"ready"'
endpoint=$(sed -n 's/.*"msg":"ready".*"endpoint":"\([^"]*\)".*/\1/p' "$T/broker.log" | head -1)
[ -n "$endpoint" ] || fail "no endpoint in the broker's ready line"
port=$(free_port)
"$R$bindir/eventflow-bridge" --listen "127.0.0.1:$port" --broker "$endpoint" --data-dir "$data" \
  2>"$T/bridge.log" &
pids+=($!); bridge=$!
wait_line "$T/bridge.log" '"msg":"ready"'
url=http://127.0.0.1:$port
curl -sf "$url/health" >/dev/null || fail "/health"
password=$(sed -n 's/^password = //p' "$data/initial-admin")
token=$(curl -sf -X POST "$url/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"admin@eventflow.local\",\"password\":\"$password\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') || fail "login"
key=$(curl -sf -X POST "$url/api/v1/producers" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"name":"package-test"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])') || fail "producer key"
event=$(curl -sf -X POST "$url/api/v1/streams/default/events" -H "X-API-Key: $key" \
  -H 'Content-Type: application/json' -d '{"type":"package.test","payload":{"n":1}}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["event_id"])') || fail "publish"
curl -sf "$url/api/v1/events/$event" -H "Authorization: Bearer $token" | grep -q '"package.test"' ||
  fail "the event is not read back"
# the packaged CLI, with the local admin key in the data dir
EVENTFLOW_DATA_DIR=$data EVENTFLOW_BROKER_ENDPOINT=$endpoint "$R$bindir/eventflow" \
  get "$event" | grep -q package.test || fail "eventflow get from the package"
kill -TERM "$bridge"; wait "$bridge" || fail "bridge exit $?"
kill -TERM "$broker"; wait "$broker" || fail "broker exit $?"
grep -q '"msg":"stopped"' "$T/broker.log" || fail "the broker did not stop cleanly"
pids=()
echo "ok: install, pkg-config, package $(basename "$deb")"
