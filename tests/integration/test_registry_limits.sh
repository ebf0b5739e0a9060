#!/usr/bin/env bash
# A registry with 150+ live peers is no amplifier and no beacon (issue 10, DESIGN.md §4). The
# NAT topology of §8 with Alice and Bob, plus a crowd of 150 peers that hold a session with the
# registry (one authenticated handshake each, from 150 source ports: bench_dns_server
# handshakes), and a stranger on the registry's link.
#   1. Public = no. The stranger's PTR query claiming EDNS 65535 gets nothing at all, nor do
#      100 garbage datagrams (a scanner learns nothing). Alice, a peer, asks in the tunnel:
#      over UDP the answer fits the tunnel MTU (TC set: the list is longer), and `dig +tcp`
#      lists every one of the 152 peers; plain dig retries over TCP by itself and gets them too.
#   2. Public = yes (registry restarted, the crowd handshakes again): the stranger's PTR query
#      with EDNS 65535 is answered in at most 1,232 bytes with TC set. The amplification factor
#      (answer bytes / query bytes) is printed.
# Usage: bash test_registry_limits.sh /path/to/wgpunch   (wgp_attack and bench_dns_server are
# looked for beside it)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
ATTACK=$(dirname "$WGPUNCH")/wgp_attack
CROWD_TOOL=$(dirname "$WGPUNCH")/bench_dns_server
[[ -x $ATTACK ]] || fail "attack tool $ATTACK not built"
[[ -x $CROWD_TOOL ]] || fail "$CROWD_TOOL not built (needs libbenchmark-dev, which scripts/test installs)"
require_tools wg ip ping awk nft conntrack dig kdig timeout
nl_init reglim
CROWD=150
CROWD_IP=203.0.113.8
STRANGER_IP=203.0.113.7
SRV_NAME=_wireguard._udp.$ZONE
MTU=1420

nat_topology cone cone
nat_public_host NS_STRANGER "$STRANGER_IP"
nat_public_host NS_CROWD "$CROWD_IP"
punch_keys
"$CROWD_TOOL" keys "$CROWD" | write_conf "$NL_TMP/crowd-keys.txt"

# registry_config PUBLIC: the registry of punch_configs plus one [Peer] per crowd key.
registry_config() {
  punch_configs "$1" 10
  awk '{ printf "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.9.%d.%d/32\n", $2, int(NR / 250), NR % 250 + 1 }' \
    "$NL_TMP/crowd-keys.txt" >>"$CONF_REG"
}

# crowd_joins: every crowd peer handshakes with the registry, from its own source port.
crowd_joins() {
  local out
  out=$(ns_exec "$NS_CROWD" timeout 60 "$CROWD_TOOL" handshakes --to "$REG_IP:$WG_PORT" \
    --server-key "$PUB_REG" --keys "$NL_TMP/crowd-keys.txt" --bind "$CROWD_IP" \
    --sockets "$CROWD" --rate 600) || fail "the crowd's handshakes failed: $out"
  log "crowd: $out"
}

# published: how many peers the registry publishes (4 records each).
published() { echo $(($(status_field "$NS_REG" "$IF_REG" "registry published records") / 4)); }

# dig_stats: "SIZE TC ANSWERS" of the dig output in $NL_TMP/answer (SIZE 0: no answer).
dig_stats() {
  awk '/MSG SIZE  rcvd:/ { size = $NF }
       /^;; flags:/ { tc = ($0 ~ / tc[ ;]/) }
       /^[^;].*[ \t]PTR[ \t]/ { n++ }
       END { printf "%d %d %d\n", size, tc, n }' "$NL_TMP/answer"
}

# kdig_65535 NS SERVER PORT: a PTR query for the service claiming EDNS 65535, over UDP, no
# retry over TCP (kdig: dig quietly sends 1232 for any +bufsize above 4096). Output in
# $NL_TMP/answer; prints "SENT RECEIVED TC ANSWERS" (RECEIVED 0: no answer).
kdig_65535() {
  ns_exec "$1" timeout 5 kdig +timeout=2 +retry=0 +bufsize=65535 +ignore +qr @"$2" -p "$3" \
    "$SRV_NAME" PTR >"$NL_TMP/answer" 2>&1 || true
  grep -q 'UDP size: 65535' "$NL_TMP/answer" || fail "kdig did not claim EDNS 65535: $(head -n 20 "$NL_TMP/answer")"
  awk '/^;; Sent [0-9]+ B/ { sent = $3 } /^;; Received [0-9]+ B/ { got = $3 }
       /^;; Flags:/ && / tc/ && sent { tc = 1 } $4 == "PTR" && $1 !~ /^;/ { n++ }
       END { printf "%d %d %d %d\n", sent, got, tc, n }' "$NL_TMP/answer"
}

log "=== 1. Public = no: a registry of $((CROWD + 2)) live peers"
registry_config no
punch_up_registry
punch_up_peers
crowd_joins
wait_for "the registry to publish all $((CROWD + 2)) peers" 20 \
  bash -c "(( \$(\"$WGPUNCH\" status \"$IF_REG\" 2>/dev/null | awk -F': ' '/registry published records/ {print \$2}') / 4 >= $((CROWD + 2)) ))" \
  2>/dev/null || true
n=$(published)
((n >= CROWD + 2)) || fail "the registry publishes $n peers, expected $((CROWD + 2))"
log "ok: the registry publishes $n peers"

# The stranger: a PTR query claiming EDNS 65535 on the WireGuard port, then 100 garbage
# datagrams from the attack tool (which counts any reply).
ignored0=$(status_field "$NS_REG" "$IF_REG" "registry ignored strangers")
read -r sent size tc count <<<"$(kdig_65535 "$NS_STRANGER" "$REG_IP" "$WG_PORT")"
((size == 0)) || fail "the stranger got an answer of $size bytes with Public = no"
out=$(ns_exec "$NS_STRANGER" timeout 30 "$ATTACK" garbage --target "$REG_IP:$WG_PORT" --count 100 \
  --rate 1000) || fail "wgp_attack garbage failed: $out"
replies=$(tr ' ' '\n' <<<"$out" | awk -F= '$1 == "replies" {print $2}')
[[ $replies == 0 ]] || fail "the registry answered $replies of 100 garbage datagrams from a stranger: $out"
ignored=$(status_field "$NS_REG" "$IF_REG" "registry ignored strangers")
((ignored > ignored0)) || fail "the registry's status does not count the ignored stranger"
log "ok: silence to the stranger: no answer to PTR with EDNS 65535, 0 replies to 100 garbage datagrams"

# Alice, in the tunnel. UDP: within the MTU, truncated. TCP: everything.
read -r sent size tc count <<<"$(kdig_65535 "$NS_ALICE" "$REG_TUN" 53)"
((size > 0 && size <= MTU - 28)) || fail "in-tunnel UDP answer of $size bytes exceeds the MTU ($MTU)"
((tc == 1)) || fail "in-tunnel UDP answer of $size bytes with $count PTRs is not marked TC"
log "ok: in-tunnel UDP answer $size bytes ($count PTRs, TC) for an MTU of $MTU"
ns_exec "$NS_ALICE" timeout 10 dig +time=2 +tries=2 +tcp @"$REG_TUN" "$SRV_NAME" PTR \
  >"$NL_TMP/answer" 2>&1 || fail "no TCP answer in the tunnel: $(tail -n 2 "$NL_TMP/answer")"
read -r size tc count <<<"$(dig_stats)"
((count == CROWD + 2 && tc == 0)) || fail "dig +tcp in the tunnel lists $count PTRs (TC $tc), expected $((CROWD + 2))"
log "ok: dig +tcp in the tunnel lists all $count peers ($size bytes)"
ns_exec "$NS_ALICE" timeout 10 dig +time=2 +tries=2 @"$REG_TUN" "$SRV_NAME" PTR \
  >"$NL_TMP/answer" 2>&1 || fail "plain dig in the tunnel got nothing"
read -r size tc count <<<"$(dig_stats)"
((count == CROWD + 2)) || fail "plain dig (UDP, then TCP on TC) lists $count PTRs, expected $((CROWD + 2))"
grep -q 'Truncated, retrying in TCP mode' "$NL_TMP/answer" ||
  log "note: dig did not say it retried over TCP"
log "ok: plain dig in the tunnel falls back to TCP by itself and lists all $count peers"
expect_ping "$NS_ALICE" "$BOB_TUN" "Alice -> Bob with the crowd around"
for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done

log "=== 2. Public = yes: the stranger is answered, in 1,232 bytes at most"
registry_config yes
punch_up_registry
crowd_joins
n=$(published)
((n >= CROWD)) || fail "the public registry publishes $n peers, expected at least $CROWD"
read -r query_size size tc count <<<"$(kdig_65535 "$NS_STRANGER" "$REG_IP" "$WG_PORT")"
((size > 0 && size <= 1232)) || fail "plain answer of $size bytes to EDNS 65535 (limit 1232)"
((tc == 1)) || fail "plain answer of $size bytes ($count of $n PTRs) is not marked TC"
log "TIMING: amplification $size / ${query_size:-?} bytes = $(awk -v a="$size" -v b="${query_size:-1}" \
  'BEGIN { printf "%.1f", a / b }')x with $n peers published ($count PTRs in the answer, TC)"
wgp_stop "$PID_REG" "$NS_REG" "$IF_REG"
log "PASS: $((CROWD + 2)) live peers: silence to strangers, plain answers <= 1232 bytes, in-tunnel UDP within the MTU, the whole list over TCP"
