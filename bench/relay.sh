#!/usr/bin/env bash
# The relay against the direct path (issue 11, DESIGN.md §9), side by side in one run, in the
# NAT topology of §8 (router, registry, Alice and Bob behind NATs):
#   direct  both NATs port-restricted: Alice and Bob punch through, the registry carries nothing
#   relay   Bob's NAT symmetric, the registry with Relay = yes forwards their datagrams
# For each, R rounds of: ping RTT (20 pings, median), iperf3 TCP Alice -> Bob (1 stream, S s).
# Prints medians, the ratios relay/direct, and the registry's CPU time per relayed GB (utime +
# stime of its process, from /proc, over the bytes it counts as relayed).
#   sudo bench/relay.sh [--rounds R] [--seconds S]
# Uses a Release build in build-bench/ (BENCH_BUILD overrides).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib/common.sh"
source "$HERE/../scripts/lib/netns.sh"
source "$HERE/../scripts/lib/nat.sh"

ROUNDS=3
SECONDS_PER_RUN=5
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds R] [--seconds S]" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "run as root (network namespaces)" >&2; exit 1; }
bench_packages iperf3
bench_build wgpunch
WGPUNCH=$BENCH_BUILD/wgpunch
nl_init rbench
REPORT=$NL_TMP/report

# measure MODE: one topology, ROUNDS rounds; appends "MODE rtt_ms mbit cpu_s_per_gb" lines.
measure() {
  local mode=$1 nat_b=cone relay=no i rtt mbit t0 t1 r0 r1 json
  [[ $mode == relay ]] && nat_b=symmetric relay=yes
  nat_topology cone "$nat_b"
  punch_keys
  punch_configs no 5 "$relay"
  punch_up_registry
  punch_up_peers
  ns_exec "$NS_ALICE" ping -n -q -i 0.05 -c 1 -w 10 "$BOB_TUN" >/dev/null 2>&1 ||
    { echo "$mode: no tunnel Alice -> Bob" >&2; exit 1; }
  local path
  path=$(status_field "$NS_ALICE" "$IF_ALICE" "path" "$PUB_BOB")
  echo "$mode: path $path" >&2
  spawn PID_IPERF "$NS_BOB" "$NL_TMP/iperf-$mode.log" iperf3 -s -B "$BOB_TUN"
  wait_for "iperf3 server" 10 bash -c "ip netns exec '$NS_BOB' ss -Hltn 'sport = :5201' | grep -q LISTEN"
  for ((i = 1; i <= ROUNDS; i++)); do
    rtt=$(ns_exec "$NS_ALICE" ping -n -q -c 20 -i 0.05 "$BOB_TUN" |
      awk -F/ '/^rtt/ {print $5}')
    t0=$(cpu_ticks "$PID_REG")
    r0=$(status_field "$NS_REG" "$IF_REG" "registry relayed bytes")
    json=$(ns_exec "$NS_ALICE" iperf3 -c "$BOB_TUN" -t "$SECONDS_PER_RUN" -J)
    t1=$(cpu_ticks "$PID_REG")
    r1=$(status_field "$NS_REG" "$IF_REG" "registry relayed bytes")
    mbit=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f" % (d["end"]["sum_received"]["bits_per_second"] / 1e6))' <<<"$json")
    local per_gb="-"
    if [[ $mode == relay && -n $r1 && $r1 -gt ${r0:-0} ]]; then
      per_gb=$(awk -v t="$((t1 - t0))" -v hz="$CLK_TCK" -v b="$((r1 - r0))" 'BEGIN {printf "%.2f", t / hz / (b / 1e9)}')
    fi
    echo "$mode $rtt $mbit $per_gb" >>"$REPORT"
    echo "$mode round $i: rtt ${rtt} ms, ${mbit} Mbit/s, registry CPU ${per_gb} s/GB" >&2
  done
  stop_pid "$PID_IPERF" 5
  forget_pid "$PID_IPERF"
  for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
    read -r pid ns ifc <<<"$p"
    wgp_stop "$pid" "$ns" "$ifc"
  done
}

# A fresh tag per topology: the NAT helpers name namespaces after it.
NL_TAG_BASE=$NL_TAG
NL_TAG=${NL_TAG_BASE}d
measure direct
NL_TAG=${NL_TAG_BASE}r
measure relay

med() { awk -v m="$1" -v c="$2" '$1 == m {print $c}' "$REPORT" | median; }
d_rtt=$(med direct 2) r_rtt=$(med relay 2) d_mbit=$(med direct 3) r_mbit=$(med relay 3) cpu=$(med relay 4)
echo
echo "relay vs direct, $ROUNDS rounds of ${SECONDS_PER_RUN} s, medians (this machine, $(nproc) cores):"
printf '  %-28s %10s %10s %8s\n' "" direct relay ratio
printf '  %-28s %10s %10s %8s\n' "ping RTT (ms)" "$d_rtt" "$r_rtt" "$(awk -v a="$r_rtt" -v b="$d_rtt" 'BEGIN {printf "%.2f", a / b}')"
printf '  %-28s %10s %10s %8s\n' "TCP Alice -> Bob (Mbit/s)" "$d_mbit" "$r_mbit" "$(awk -v a="$r_mbit" -v b="$d_mbit" 'BEGIN {printf "%.2f", a / b}')"
printf '  %-28s %10s %10s\n' "registry CPU per relayed GB (s)" "-" "$cpu"
