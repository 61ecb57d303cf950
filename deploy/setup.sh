#!/usr/bin/env bash
# Install what EventFlow needs from Debian's packages (only what is missing;
# apt-get update only when something is), then configure and build into
# build/. Idempotent and quick when everything is there.
# usage: deploy/setup.sh [--sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake pkg-config
          libzmq3-dev liblmdb-dev libmsgpack-dev libsodium-dev
          libcmocka-dev libjansson-dev libcivetweb-dev curl libcurl4-openssl-dev
          libpcre2-dev json-schema-test-suite
          prometheus)  # promtool: /metrics checked by Prometheus's own parser
PACKAGES+=(clang-format)  # the ctest `format` (.clang-format at the root)
PACKAGES+=(chromium)  # the dashboard's browser tests (tests/e2e, headless)
PACKAGES+=(zlib1g-dev)  # bridge/tools/ef_embed gzips the dashboard at build time
PACKAGES+=(libsystemd-dev systemd dpkg-dev adduser)  # Type=notify (EF_SYSTEMD), systemd-analyze (ctest systemd_units); the .deb (CPack, dpkg-shlibdeps; adduser: its Depends)
PACKAGES+=(nginx openssl)  # tests/integration/test_nginx_lb: nginx in front of two bridges, TLS
PACKAGES+=(faketime)  # ctest integration_clock_jumps: the broker's wall clock stepped (libfaketime)
PACKAGES+=(iptables iproute2)  # tests/chaos/dead_peers.sh as root: a peer's packets dropped (iptables), its ports found (ss)
PACKAGES+=(docker-compose)  # the ctest `containers`: compose.yaml checked by compose itself (no daemon needed)
PACKAGES+=(podman debootstrap)  # the ctest `containers_run`: the images built (on a Debian 12 base made from Debian's archive) and run

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The contract check's npm packages (tests/contract), pinned by its
# package-lock.json; installed here, never fetched while the tests run.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: installing nodejs npm" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f tests/contract/node_modules/.package-lock.json ] ||
   [ tests/contract/package-lock.json -nt tests/contract/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in tests/contract" >&2
  (cd tests/contract && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
# The browser tests' npm packages (tests/e2e: playwright-core, axe-core),
# pinned the same way; they drive Debian's chromium, nothing downloaded.
if [ ! -f tests/e2e/node_modules/.package-lock.json ] ||
   [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in tests/e2e" >&2
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
# The dashboard's npm packages (bridge/www: uPlot), pinned by its
# package-lock.json; the build embeds them into eventflow-bridge.
if [ ! -f bridge/www/node_modules/.package-lock.json ] ||
   [ bridge/www/package-lock.json -nt bridge/www/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in bridge/www" >&2
  (cd bridge/www && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

build=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
flags+=(-DCMAKE_INSTALL_PREFIX=/usr)  # FHS: /usr/bin, /etc/eventflow (README "Install")
if [ "${1:-}" = "--sanitize" ]; then
  build=build-asan
  flags=(-DCMAKE_BUILD_TYPE=Debug -DEF_SANITIZE=ON)
fi
cmake -S . -B "$build" "${flags[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" 2>&1 | grep -E "warning:|error:" || true
test -x "$build/bin/eventflow-broker" && test -x "$build/bin/eventflow" || {
  echo "setup: build failed (run: cmake --build $build)" >&2; exit 1; }
echo "setup: built $build/bin/eventflow-broker and $build/bin/eventflow" >&2
