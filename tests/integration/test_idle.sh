#!/usr/bin/env bash
# Idle tunnels cost nothing (issue 22, part 1): a full mesh of 8 nodes, each behind its own
# port-restricted NAT, every pair configured by hand (no endpoints: discovery finds them),
# brought up by one ping per pair, then left idle for IDLE seconds (default 200: past the
# 180 s after which an unused session's keys expire, which used to start rediscovery).
# Pairs among nodes 4-7 keep PersistentKeepalive = 25; the other 22 pairs have none.
#   1. Every pair talks directly, NAT to NAT (time for all 28 printed).
#   2. Idle: the router counts handshake initiations between the NATs per pair, the registry
#      its NOTIFYs, each node its log lines. Pairs without keepalive: no handshake at all;
#      with keepalive: WireGuard's own rekeys only (at most one per 120 s per pair); no
#      NOTIFY; no log line. The figures are printed per idle hour and minute.
#   3. After the idle period a pair without keepalive talks again (time printed).
# The test mostly waits (the idle period), so CTest runs it beside others (WGPUNCH_WAITING_TESTS in CMakeLists.txt).
# Usage: bash test_idle.sh /path/to/wgpunch   (WGPUNCH_IDLE_SECONDS overrides IDLE)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"
source "$HERE/../../scripts/lib/mesh.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack
nl_init idle
N=8
IDLE=${WGPUNCH_IDLE_SECONDS:-200}
CONNECT_BOUND=30   # seconds for all 28 pairs to answer a first ping
RESUME_BOUND=10    # seconds for an idle pair to answer again

# keepalive I J: PersistentKeepalive of the pair (both ends the same).
keepalive() { ((($1 >= 4) && ($2 >= 4))) && echo 25 || echo 0; }

mesh_topology "$N" cone
mesh_keys "$N"
mesh_configs "$N" 10 keepalive
mesh_up "$N"

log "=== 1. one ping per pair: all $((N * (N - 1) / 2)) pairs direct"
T0=$(now_ms)
pids=()
for ((i = 0; i < N; i++)); do
  for ((j = i + 1; j < N; j++)); do
    ns_exec "${MESH_HOST[i]}" ping -n -q -c 1 -i 0.2 -w "$CONNECT_BOUND" "${MESH_TUN[j]}" \
      >"$NL_TMP/ping_${i}_$j" 2>&1 &
    pids+=("$!:$i:$j")
  done
done
for entry in "${pids[@]}"; do
  IFS=: read -r pid i j <<<"$entry"
  wait "$pid" || fail "node $i got no reply from node $j within ${CONNECT_BOUND}s"
done
log "TIMING: all $((N * (N - 1) / 2)) pairs answered a first ping within $(($(now_ms) - T0)) ms"
for ((i = 0; i < N; i++)); do
  for ((j = 0; j < N; j++)); do
    ((i == j)) && continue
    path=$(status_field "${MESH_HOST[i]}" "${MESH_IF[i]}" path "${MESH_PUB[j]}")
    [[ $path == direct ]] || fail "node $i: the path to node $j is '$path', not direct"
  done
done
log "ok: every node reaches every other directly"

# What the first contact set going settles (WireGuard's keepalive acks, 10 s) before counting.
sleep 12

# counts: every pair's initiations, the registry's NOTIFYs, every node's log lines.
snapshot() {
  local i j
  for ((i = 0; i < N; i++)); do
    for ((j = 0; j < N; j++)); do ((i == j)) || printf 'hs %s %s %s\n' "$i" "$j" "$(mesh_initiations "$i" "$j")"; done
    printf 'log %s - %s\n' "$i" "$(wc -l <"${NL_WGP_LOG[${MESH_IF[i]}]}")"
  done
  printf 'notify - - %s\n' "$(status_field "$NS_REG" "$IF_REG" "registry notifies sent")"
  printf 'log reg - %s\n' "$(wc -l <"${NL_WGP_LOG[$IF_REG]}")"
}

log "=== 2. idle for ${IDLE}s"
snapshot >"$NL_TMP/before"
sleep "$IDLE"
snapshot >"$NL_TMP/after"
# Differences, one line per counter: KIND A B DELTA.
join -j1 <(awk '{print $1"/"$2"/"$3, $4}' "$NL_TMP/before" | sort) \
  <(awk '{print $1"/"$2"/"$3, $4}' "$NL_TMP/after" | sort) |
  awk '{split($1, k, "/"); print k[1], k[2], k[3], $3 - $2}' >"$NL_TMP/delta"
read -r hs_plain hs_ka ka_pairs plain_pairs < <(awk -v n="$N" '
  $1 == "hs" && $2 < $3 { pair[$2" "$3] += $4 }
  $1 == "hs" && $2 > $3 { pair[$3" "$2] += $4 }
  END {
    for (p in pair) { split(p, q, " "); if (q[1] >= 4 && q[2] >= 4) { ka += pair[p]; kn++ } else { pl += pair[p]; pn++ } }
    print pl + 0, ka + 0, kn + 0, pn + 0
  }' "$NL_TMP/delta")
notifies=$(awk '$1 == "notify" {print $4}' "$NL_TMP/delta")
log_lines=$(awk '$1 == "log" {s += $4} END {print s + 0}' "$NL_TMP/delta")
per_hour() { awk -v x="$1" -v s="$IDLE" 'BEGIN { printf "%.0f", x * 3600 / s }'; }
log "FIGURES: ${IDLE}s idle, $N nodes: $hs_plain handshake initiations among $plain_pairs pairs without keepalive ($(per_hour "$hs_plain") per idle hour), $hs_ka among $ka_pairs pairs with PersistentKeepalive = 25 ($(per_hour "$hs_ka") per idle hour), $notifies NOTIFYs ($(per_hour "$notifies") per idle hour), $log_lines log lines in all ($(awk -v x="$log_lines" -v s="$IDLE" 'BEGIN { printf "%.1f", x * 60 / s }') per idle minute)"
awk '$4 != 0' "$NL_TMP/delta" | sed 's/^/    changed: /' >&2
((hs_plain == 0)) || fail "$hs_plain handshake initiations between idle pairs without keepalive"
# WireGuard's own schedule: the initiator renews its keys before they expire, at most once
# per REKEY_AFTER_TIME (120 s) per pair, plus one in flight at either end of the window.
max_ka=$((ka_pairs * (IDLE / 120 + 2)))
((hs_ka <= max_ka)) || fail "$hs_ka initiations between keepalive pairs in ${IDLE}s (WireGuard's schedule: <= $max_ka)"
((notifies == 0)) || fail "the registry sent $notifies NOTIFYs while every tunnel was idle"
((log_lines == 0)) || {
  for ((i = 0; i < N; i++)); do tail -n 5 "${NL_WGP_LOG[${MESH_IF[i]}]}" | sed "s/^/    node $i | /" >&2; done
  fail "$log_lines log lines while every tunnel was idle"
}
log "ok: idle tunnels made no handshake beyond WireGuard's schedule, no NOTIFY, no log line"

log "=== 3. an idle pair without keepalive talks again"
T0=$(now_ms)
ns_exec "${MESH_HOST[0]}" ping -n -q -c 1 -i 0.2 -w "$RESUME_BOUND" "${MESH_TUN[1]}" >/dev/null ||
  fail "node 0 got no reply from node 1 within ${RESUME_BOUND}s after the idle period"
log "TIMING: node 0 -> node 1 answered again $(($(now_ms) - T0)) ms after ${IDLE}s idle"

for ((i = 0; i < N; i++)); do wgp_stop "${MESH_PID[i]}" "${MESH_HOST[i]}" "${MESH_IF[i]}"; done
wgp_stop "$PID_REG" "$NS_REG" "$IF_REG"
log "PASS: $N NATed nodes idle for ${IDLE}s: no handshake beyond WireGuard's schedule, no NOTIFY, no log line"
