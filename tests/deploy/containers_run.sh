#!/usr/bin/env bash
# The container images built and run (deploy/Dockerfile, the layout of
# deploy/compose.yaml), with podman from Debian, which runs here where a
# Docker engine does not:
# * Debian 12 base images: taken as they are when podman has them, else
#   made from Debian's archive with debootstrap (minbase) and imported
#   under the names the Dockerfile starts FROM (debian:12, debian:12-slim);
#   nothing comes from a container registry;
# * the runtime and nginx images built from the tree (`--pull=never`;
#   `--format docker`, since an OCI image keeps no HEALTHCHECK);
# * compose's layout: the bridges and nginx in the broker container's
#   network namespace (`--network container:…`, as compose's
#   `network_mode: service:broker`), the ports published on the broker's:
#   the broker, two bridges and nginx with a self-signed certificate, the
#   data in a named volume; each container waited on through its own
#   HEALTHCHECK;
# * through nginx's published HTTPS port (`curl --cacert`): /health, the
#   first admin's login (DATA/initial-admin, read from the volume), a
#   stream made, an event published and read back; the processes run as
#   the eventflow user (uid 10001), not root;
# * `podman stop` (SIGTERM): every container exits 0, the broker after
#   committing what it accepted; a broker started again on the volume
#   serves the event.
# Skipped (77), saying why, when podman cannot run a container here.
# usage: tests/deploy/containers_run.sh
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
fail () { echo "FAIL: $*" >&2; exit 1; }
skip () { echo "SKIP: $*" >&2; exit 77; }
say () { echo "containers_run: $*" >&2; }

command -v podman >/dev/null || skip "podman is not installed"
# podman's default limits for a container (nofile 1M, nproc 4M) are above
# what this machine lets a process raise them to: ask for ones it allows
limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=32768:32768)
tag=eventflow-test-$$
tmp=$(mktemp -d)
cleanup () {
  for c in nginx bridge1 bridge2 broker again; do
    podman rm -f -t 10 "$tag-$c" >/dev/null 2>&1 || true
  done
  podman volume rm -f "$tag" >/dev/null 2>&1 || true
  podman rmi -f "$tag:runtime" "$tag:nginx" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- Debian 12 base images --------------------------------------------------
if ! podman image exists docker.io/library/debian:12 ||
   ! podman image exists docker.io/library/debian:12-slim; then
  command -v debootstrap >/dev/null || skip "no debian:12 image and no debootstrap"
  say "making debian:12 from Debian's archive (debootstrap --variant=minbase bookworm)"
  debootstrap --variant=minbase bookworm "$tmp/rootfs" http://deb.debian.org/debian \
    >"$tmp/debootstrap.log" 2>&1 || { tail -5 "$tmp/debootstrap.log" >&2; fail "debootstrap"; }
  tar -C "$tmp/rootfs" -c . | podman import - docker.io/library/debian:12 >/dev/null
  podman tag docker.io/library/debian:12 docker.io/library/debian:12-slim
  rm -rf "$tmp/rootfs"
fi
podman run --rm "${limits[@]}" --network none docker.io/library/debian:12 true \
  2>"$tmp/run.err" || { cat "$tmp/run.err" >&2; skip "podman cannot run a container here"; }

# --- the images -------------------------------------------------------------
[ -d bridge/www/node_modules/uplot ] || fail "bridge/www/node_modules is missing: run deploy/setup.sh first"
say "building the runtime and nginx images (podman build --pull=never)"
podman build -q --format docker "${limits[@]}" --network host --pull=never -f deploy/Dockerfile \
  -t "$tag:runtime" . >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log" >&2; fail "podman build (runtime)"; }
podman build -q --format docker "${limits[@]}" --network host --pull=never -f deploy/Dockerfile \
  --target nginx -t "$tag:nginx" . >"$tmp/build-nginx.log" 2>&1 ||
  { tail -30 "$tmp/build-nginx.log" >&2; fail "podman build (nginx)"; }
user=$(podman image inspect -f '{{.Config.User}}' "$tag:runtime")
[ "$user" = eventflow:eventflow ] || fail "the image runs as '$user'"

# --- compose's layout ------------------------------------------------------
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
  -keyout "$tmp/tls/eventflow.key" -out "$tmp/tls/eventflow.crt" 2>/dev/null
chmod 0644 "$tmp/tls/eventflow.key"
podman volume create "$tag" >/dev/null
run () { podman run -d "${limits[@]}" "$@" >/dev/null; }
run --name "$tag-broker" -p "127.0.0.1:$port:443" -v "$tag:/var/lib/eventflow" \
  -e EVENTFLOW_BROKER_ENDPOINT=tcp://0.0.0.0:5555 -e EVENTFLOW_MAP_SIZE=1G \
  "$tag:runtime" eventflow-broker

# a container's HEALTHCHECK, run until it passes (it waits up to 4 s
# itself; a container that exited fails at once)
healthy () {
  local c=$1 i
  for i in $(seq 1 60); do
    [ "$(podman inspect -f '{{.State.Running}}' "$c")" = true ] ||
      { podman logs "$c" 2>&1 | tail -20 >&2; fail "$c exited"; }
    podman healthcheck run "$c" >/dev/null 2>&1 && return 0
  done
  podman logs "$c" 2>&1 | tail -20 >&2
  fail "$c never became healthy"
}
healthy "$tag-broker"
for b in 1 2; do
  run --name "$tag-bridge$b" --network "container:$tag-broker" -v "$tag:/var/lib/eventflow:ro" \
    -e EVENTFLOW_HTTP_LISTEN=127.0.0.1:808$b -e EVENTFLOW_BROKER_ENDPOINT=tcp://127.0.0.1:5555 \
    -e EVENTFLOW_METRICS_TOKEN=containers-test -e EVENTFLOW_HTTP_TRUSTED_PROXIES=127.0.0.1 \
    "$tag:runtime" eventflow-bridge
done
healthy "$tag-bridge1"
healthy "$tag-bridge2"
run --name "$tag-nginx" --network "container:$tag-broker" -v "$tmp/tls:/etc/eventflow/tls:ro" "$tag:nginx"
healthy "$tag-nginx"
say "broker, two bridges and nginx healthy (HTTPS published on 127.0.0.1:$port)"

# --- used through nginx ----------------------------------------------------
api=https://127.0.0.1:$port
c=(curl -sS --fail-with-body --cacert "$tmp/tls/eventflow.crt" --max-time 10)
"${c[@]}" "$api/health" | grep -q '"ok"' || fail "/health through nginx"
[ "$(podman exec "$tag-broker" id -u)" = 10001 ] || fail "the broker does not run as uid 10001"
[ "$(podman exec "$tag-bridge1" id -u)" = 10001 ] || fail "a bridge does not run as uid 10001"
creds=$(podman exec "$tag-broker" cat /var/lib/eventflow/initial-admin)
email=$(sed -n 's/^email = //p' <<<"$creds")
pw=$(sed -n 's/^password = //p' <<<"$creds")
token=$("${c[@]}" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$pw\"}" "$api/api/v1/auth/login" |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
  fail "login through nginx"
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
"${c[@]}" "${auth[@]}" -d '{"name":"boxed"}' "$api/api/v1/streams" >/dev/null || fail "create a stream"
"${c[@]}" "${auth[@]}" -d '{"event_id":"0192f0c1-0000-7000-8000-00000000c0de","type":"box.test","payload":{"n":1}}' \
  "$api/api/v1/streams/boxed/events" >/dev/null || fail "publish"
"${c[@]}" "${auth[@]}" "$api/api/v1/events?stream=boxed" | grep -q '0192f0c1-0000-7000-8000-00000000c0de' ||
  fail "read back"
say "through nginx: health, login, a stream made, an event published and read back"

# --- stopped, and the data kept ----------------------------------------------
for c in nginx bridge1 bridge2 broker; do
  podman stop -t 30 "$tag-$c" >/dev/null
  code=$(podman inspect -f '{{.State.ExitCode}}' "$tag-$c")
  [ "$code" = 0 ] || { podman logs "$tag-$c" 2>&1 | tail -10 >&2; fail "$c exited $code on SIGTERM"; }
done
podman run -d "${limits[@]}" --name "$tag-again" -v "$tag:/var/lib/eventflow" \
  -e EVENTFLOW_BROKER_ENDPOINT=tcp://127.0.0.1:5555 -e EVENTFLOW_MAP_SIZE=1G \
  "$tag:runtime" eventflow-broker >/dev/null
healthy "$tag-again"
podman exec "$tag-again" eventflow --broker tcp://127.0.0.1:5555 read boxed |
  grep -q '0192f0c1-0000-7000-8000-00000000c0de' || fail "the event after a restart on the volume"
say "every container exited 0 on SIGTERM; a new broker on the volume serves the event"
echo "containers_run: passed" >&2
