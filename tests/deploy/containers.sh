#!/usr/bin/env bash
# The container files (deploy/Dockerfile, deploy/compose.yaml, README
# "Containers"), checked without a Docker daemon, which this machine does
# not have (so the image is neither built nor run here):
# * the Dockerfile: Debian 12 bases only; every COPY source is in the
#   build context and not left out by .dockerignore; every package it
#   installs is known to apt (Debian's archive); the runtime stage installs
#   the package of every library the built binaries link to; it runs as a
#   non-root user with a HEALTHCHECK and a volume for /var/lib/eventflow;
# * the health check script parses;
# * compose.yaml through compose's own validator (`docker compose config`,
#   else Debian's docker-compose): one broker, two bridges, nginx.
# Skipped (77), saying why, when no compose is installed.
# usage: tests/deploy/containers.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$1/bin
fail () { echo "FAIL: $*" >&2; exit 1; }
df=$src/deploy/Dockerfile
cd "$src"

sh -n deploy/docker/healthcheck.sh || fail "deploy/docker/healthcheck.sh does not parse"

# --- the Dockerfile -------------------------------------------------------
bases=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' "$df")
for b in $bases; do
  case $b in debian:12|debian:12-slim|build|runtime|nginx) ;;
    *) fail "base image $b is not Debian 12" ;; esac
done
# COPY sources (not --from=): in the tree, and not ignored
sed -n '/^COPY /{/--from/d;s/^COPY //;p}' "$df" | while read -r line; do
  set -- $line
  while [ $# -gt 1 ]; do
    s=$1; shift
    [ "$s" = . ] && continue
    if [ ! -e "$s" ]; then
      # deploy/nginx/eventflow.conf ships with the load balancer's work
      [ "$s" = deploy/nginx/eventflow.conf ] &&
        { echo "NOTE: $s is not in this tree yet" >&2; continue; }
      fail "COPY $s: no such file"
    fi
    while read -r ig; do
      case $ig in ''|'#'*) continue ;; esac
      case $s in "$ig"|"$ig"/*) fail "COPY $s is left out by .dockerignore ($ig)" ;; esac
    done < .dockerignore
  done
done
for keep in bridge/www/node_modules clients broker bridge CMakeLists.txt; do
  grep -qxF "$keep" .dockerignore && fail ".dockerignore leaves out $keep"
done
# the packages of each apt-get install, per stage
stage_pkgs () {  # stage name: its packages
  awk -v st="$1" '/^FROM /{cur=($NF==st)} cur' "$df" |
    sed -n '/apt-get install/,/&&.*rm -rf/p' | tr ' \\' '\n\n' |
    grep -E '^[a-z0-9][a-z0-9.+-]+$' |
    grep -vxE 'apt-get|install|rm|DEBIAN_FRONTEND=noninteractive' || true
}
known=$(apt-cache pkgnames)  # this machine's apt lists: Debian 12's archive
for st in build runtime nginx; do
  pkgs=$(stage_pkgs "$st")
  [ -n "$pkgs" ] || fail "no packages found in stage $st"
  for p in $pkgs; do
    grep -qxF "$p" <<<"$known" || fail "stage $st: $p is not a Debian package here"
  done
done
runtime=$(stage_pkgs runtime)
for b in eventflow-broker eventflow-bridge eventflow; do
  [ -x "$bin/$b" ] || fail "no $bin/$b (build first)"
  for lib in $(readelf -d "$bin/$b" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    path=$(ldd "$bin/$b" | awk -v l="$lib" '$1==l {print $3}')
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null) ||
      fail "$b: no package has $lib ($path)"
    pkg=${pkg%%:*}
    case $pkg in libc6) continue ;; esac  # in every Debian image
    echo "$runtime" | grep -qxF "$pkg" ||
      fail "$b links $lib ($pkg), which the runtime stage does not install"
  done
done
run=$(awk '/^FROM .* AS runtime/{cur=1;next} /^FROM /{cur=0} cur' "$df")
user=$(echo "$run" | sed -n 's/^USER \([^:]*\).*/\1/p')
[ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] || fail "the runtime stage runs as root"
echo "$run" | grep -q '^HEALTHCHECK ' && echo "$run" | grep -qF 'CMD ["/usr/local/bin/eventflow-healthcheck"]' || fail "no HEALTHCHECK"
echo "$run" | grep -q '^VOLUME \["/var/lib/eventflow"\]' || fail "no volume for /var/lib/eventflow"
echo "Dockerfile: checked (no daemon: not built)" >&2

# --- compose.yaml, by compose itself ----------------------------------------
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
else
  echo "SKIP: neither 'docker compose' nor docker-compose is installed" >&2
  exit 77
fi
export EVENTFLOW_METRICS_TOKEN=containers-test
out=$("${compose[@]}" -f deploy/compose.yaml config) || fail "compose config refused deploy/compose.yaml"
services=$("${compose[@]}" -f deploy/compose.yaml config --services | sort | tr '\n' ' ')
[ "$services" = "bridge1 bridge2 broker nginx " ] || fail "services: $services"
# without the metrics token it is refused (nginx would make /metrics public)
! env -u EVENTFLOW_METRICS_TOKEN "${compose[@]}" -f deploy/compose.yaml config >/dev/null 2>&1 ||
  fail "compose accepted no EVENTFLOW_METRICS_TOKEN"
echo "$out" | grep -q 'EVENTFLOW_HTTP_LISTEN: 127.0.0.1:8081' &&
  echo "$out" | grep -q 'EVENTFLOW_HTTP_LISTEN: 127.0.0.1:8082' || fail "the bridges' listen addresses"
echo "compose.yaml: ${compose[*]} config passes (no daemon: not run)" >&2
