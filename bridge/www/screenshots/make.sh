#!/usr/bin/env bash
# Regenerate the README's dashboard tour: start a broker and a bridge from
# build/bin over a temporary data dir, seed streams, events, keys, a group
# with lag, workers (one failing into the DLQ) and users, and save a
# 1280x800 PNG of each page here. Needs what deploy/setup.sh installs
# (Debian's chromium, tests/e2e's npm packages) and a build.
# usage: bash bridge/www/screenshots/make.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
exec node bridge/www/screenshots/make.mjs "$@"
