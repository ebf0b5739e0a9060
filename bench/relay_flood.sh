#!/usr/bin/env bash
# The relay under a flood (issue 17 item 1): a `Relay = yes` registry with N peers (default
# 10,000; AllowedIPs 10.x.y.z/32 each), every one of which handshakes once (bench_dns_server
# handshakes, as bench/memory.sh), and one of which, the attacker, a real peer with a session
# (wgp_relay_peer), looks every other peer up in the tunnel, which entitles it to initiate to
# each through the relay; then it floods the registry with C handshake initiations with a
# bad mac1 from its own confirmed endpoint, at R a second. Reported, over the flood:
#   MACs per datagram   keyed BLAKE2s computations of the registry (calls of libb2's
#                       blake2s_init_key, counted by the LD_PRELOAD shim tests/tools/mac_count.c)
#                       over the datagrams it took in (the change of its drop counters): a
#                       count, as meaningful on a loaded machine as on a quiet one;
#   CPU per 100k        the registry's utime+stime (/proc/PID/stat) over the same datagrams:
#                       seconds, noisy on a loaded machine;
#   instructions        with `perf stat -e instructions` where the CPU has counters (a VM
#                       often has none: then the line says so).
# Runs against any build (--wgpunch PATH; the tools come from this tree's Release build), so
# the before figure comes from an older wgpunch.
#
# Usage (as root): bench/relay_flood.sh [--peers N] [--count C] [--rate R] [--wgpunch PATH]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../scripts/lib/netns.sh"
source "$HERE/lib/common.sh"
source "$HERE/../scripts/lib/mac_count.sh"

PEERS=10000 COUNT=20000 RATE=2000 WGPUNCH=""
while (($#)); do
  case $1 in
    --peers) PEERS=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --wgpunch) WGPUNCH=$2; shift 2 ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $PEERS =~ ^[1-9][0-9]{0,4}$ && $PEERS -ge 2 && $PEERS -le 60000 && $COUNT =~ ^[1-9][0-9]{0,6}$ &&
  $RATE =~ ^[1-9][0-9]{0,5}$ ]] || { echo "peers 2-60000, count and rate positive" >&2; exit 2; }

require_netns_capable
bench_packages wireguard-tools iproute2
bench_build wgpunch bench_dns_server wgp_relay_peer
[[ -n $WGPUNCH ]] || WGPUNCH=$BENCH_BUILD/wgpunch
WGPUNCH_BIN=$(realpath "$WGPUNCH")
HELPER=$BENCH_BUILD/bench_dns_server
ATTACKER=$BENCH_BUILD/wgp_relay_peer
require_tools wg ip timeout cc od ldd
nl_init bench-rflood

# wgpunch runs through a wrapper that preloads the MAC counter (the same PID).
mac_count_wrapper WGPUNCH "$WGPUNCH_BIN"

ns_create NS_A
ns_create NS_B
veth_link "$NS_A" veth0 "192.0.2.1/24" "$NS_B" veth0 "192.0.2.2/24"

T0=$SECONDS
"$HELPER" keys "$PEERS" | write_conf "$NL_TMP/peer-keys.txt"
wg_keypair KREG PUBREG
IFREG=$(uniq_iface rflood)
{
  printf '[Interface]\nPrivateKey = %s\nListenPort = 51830\nAddress = 10.0.0.1/8\n\n' "$KREG"
  printf '[Registry]\nZone = bench.example.\nPublic = no\nRelay = yes\n'
  peer_sections "$NL_TMP/peer-keys.txt"
} | write_conf "$NL_TMP/$IFREG.conf"
wgp_up PID_REG "$NS_A" "$NL_TMP/$IFREG.conf"
count_peers() { [[ $(ns_exec "$NS_A" wg show "$IFREG" peers | wc -l) -eq $PEERS ]]; }
wait_for "registry to list $PEERS peers" 180 count_peers
log "registry up with $PEERS peers after $((SECONDS - T0)) s"

T0=$SECONDS
out=$(ns_exec "$NS_B" timeout $((PEERS / 300 + 60)) "$HELPER" handshakes --to 192.0.2.1:51830 \
  --server-key "$PUBREG" --keys "$NL_TMP/peer-keys.txt" --bind 192.0.2.2 --rate 600) || true
log "handshakes: $out ($((SECONDS - T0)) s)"

# The attacker is the first key (tunnel address 10.0.0.2): it looks every peer up.
ATTACK_KEY=$(awk 'NR == 1 {print $1}' "$NL_TMP/peer-keys.txt")
attack() {
  ns_exec "$NS_B" timeout 120 "$ATTACKER" --registry 192.0.2.1:51830 --registry-key "$PUBREG" \
    --key "$ATTACK_KEY" --tunnel-ip 10.0.0.2 --registry-tunnel-ip 10.0.0.1 --zone bench.example. \
    --bind-port 40404 "$@"
}
T0=$SECONDS
out=$(attack --lookup-keys "$NL_TMP/peer-keys.txt") || fail "the attacker's lookups failed: $out"
log "attacker: $(tr '\n' ' ' <<<"$out")($((SECONDS - T0)) s)"

# dropped: the registry's drop counters summed (every datagram of the flood ends in one);
# nothing while a registry busy with the flood does not answer `status` in time.
dropped() {
  local out
  out=$(ns_exec "$NS_A" "$WGPUNCH_BIN" status "$IFREG" 2>/dev/null) || return 0
  awk -F': ' '/^ *dropped / {s += $2} END {print s + 0}' <<<"$out"
}
INSTR=""
if perf stat -e instructions true >/dev/null 2>&1 &&
  ! perf stat -e instructions true 2>&1 | grep -q 'not supported'; then
  perf stat -e instructions -p "$PID_REG" -o "$NL_TMP/perf.txt" &
  PERF_PID=$!
  NL_PIDS+=("$PERF_PID")
  INSTR=yes
fi
m0=$(mac_count) c0=$(cpu_ticks "$PID_REG") d0=$(dropped)
[[ -n $d0 ]] || fail "the registry does not answer status before the flood"
T0=$SECONDS
out=$(attack --flood-to none --mac1 bad --count "$COUNT" --rate "$RATE") ||
  fail "the attacker's flood failed: $out"
log "attacker: $(tr '\n' ' ' <<<"$out")($((SECONDS - T0)) s)"
# The registry may still be working through its socket buffer: wait until it is done.
settled() {
  local a b
  a=$(dropped)
  sleep 1
  b=$(dropped)
  [[ -n $a && $a == "$b" ]]
}
wait_for "the registry to take in the whole flood" 300 settled
m1=$(mac_count) c1=$(cpu_ticks "$PID_REG") d1=$(dropped)
[[ -n $d1 ]] || fail "the registry does not answer status after the flood"
if [[ -n $INSTR ]]; then
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  forget_pid "$PERF_PID"
  INSTR=$(awk '/instructions/ {gsub(",", "", $1); print $1}' "$NL_TMP/perf.txt")
fi
pid_alive "$PID_REG" || fail "the registry died"
taken=$((d1 - d0))
((taken > 0)) || fail "the registry took in none of the flood"
echo
echo "bench/relay_flood.sh: wgpunch $WGPUNCH_BIN"
echo "machine: $(machine_note)"
echo "registry: $PEERS peers, Relay = yes; the attacker looked up all $PEERS"
echo "flood: $COUNT initiations with a bad mac1 at $RATE/s from the attacker's confirmed endpoint"
printf '  %-38s %s\n' "datagrams the registry took in" "$taken"
printf '  %-38s %s\n' "MACs (keyed BLAKE2s) per datagram" \
  "$(awk -v m=$((m1 - m0)) -v n=$taken 'BEGIN {printf "%.2f", m / n}')"
printf '  %-38s %s\n' "registry CPU s per 100k datagrams" \
  "$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v n=$taken 'BEGIN {printf "%.3f", t / hz / n * 100000}')"
if [[ $INSTR =~ ^[1-9][0-9]*$ ]]; then  # perf may run yet count nothing ("<not counted>")
  printf '  %-38s %s\n' "instructions per datagram" "$(awk -v i="$INSTR" -v n=$taken 'BEGIN {printf "%.0f", i / n}')"
else
  printf '  %-38s %s\n' "instructions per datagram" "not supported here (perf: no hardware counters)"
fi
wgp_stop "$PID_REG" "$NS_A" "$IFREG"
