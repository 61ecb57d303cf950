#!/usr/bin/env bash
# Install what is missing, build, and run the whole test suite (unit and
# integration tests through ctest). Exits non-zero on any failure.
# usage: deploy/test.sh [--sanitize]   (--sanitize: ASan+UBSan build)
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh "$@"
build=build
[ "${1:-}" = "--sanitize" ] && build=build-asan
cd "$build"
ctest --output-on-failure -j2 --timeout 600
