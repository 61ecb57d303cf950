#!/usr/bin/env bash
# The systemd units as `cmake --install` ships them (BUILD/systemd, made
# from deploy/systemd), with the programs' directory pointed at the
# build's: `systemd-analyze verify` on the broker's unit and on two
# instances of the bridge's template says nothing, and
# `systemd-analyze security --offline=yes` rates each "OK" (exposure
# below 3.0) and prints the scores.
# usage: units.sh BUILD_DIR INSTALLED_BINDIR
set -euo pipefail
build=$1 bindir=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail () { echo "FAIL: $*" >&2; exit 1; }
for u in eventflow-broker.service eventflow-bridge@.service; do
  [ -f "$build/systemd/$u" ] || fail "no $build/systemd/$u"
  sed "s|$bindir/|$build/bin/|g" "$build/systemd/$u" >"$T/$u"
  grep -q "^ExecStart=$build/bin/" "$T/$u" || fail "$u runs nothing from $bindir"
done
cd "$T"
out=$(systemd-analyze verify "$T/eventflow-broker.service" \
        "$T/eventflow-bridge@8081.service" "$T/eventflow-bridge@8082.service" 2>&1) ||
  { echo "$out" >&2; fail "systemd-analyze verify"; }
[ -z "$out" ] || { echo "$out" >&2; fail "systemd-analyze verify has something to say"; }
for u in eventflow-broker.service eventflow-bridge@8081.service; do
  f=$T/$u
  [ -f "$f" ] || cp "$T/eventflow-bridge@.service" "$f"
  line=$(systemd-analyze security --offline=yes "$f" 2>&1 | grep 'Overall exposure level') ||
    fail "no security rating for $u"
  echo "$line"
  score=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
  awk -v s="$score" 'BEGIN { exit !(s < 3.0) }' || fail "$u exposure $score"
done
echo "ok: units verified"
