#!/usr/bin/env bash
# Dead peers, repeated (issue 14, item 4): runs the ctest program
# integration_dead_peers N times (default 5) against a broker with
# --heartbeat-timeout 1000. A worker process holding a job and a consumer
# group member process holding a 30 s lease vanish; the figures are the
# times until the job ran on another worker and the lease went to another
# member. Two ways to vanish: SIGSTOP (always), and, as root with
# iptables, packets of the peer's connections dropped on the loopback
# (no FIN, no RST: what a host that vanished looks like). Verdict PASS
# when every run passed: each detection within the timeout plus 1 s
# (2000 ms), and peers back with their routing id losing nothing.
# usage: tests/chaos/dead_peers.sh [RUNS] [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
build=${2:-build}
bin="$build/bin/test_broker_dead_peers"
[ -x "$bin" ] || { echo "dead_peers: $bin missing (build first)" >&2; exit 2; }
source tests/chaos/figures.sh
status=0
chaos_run "dead_peers (SIGSTOP)" "$runs" "$bin" || status=1
if [ "$(id -u)" -eq 0 ] && command -v iptables >/dev/null &&
   iptables -S INPUT >/dev/null 2>&1; then
  chaos_run "dead_peers (iptables drop)" "$runs" env EF_DEAD_PEERS_DROP=1 "$bin" || status=1
else
  echo "dead_peers (iptables drop): not run (needs root and iptables)"
fi
exit $status
