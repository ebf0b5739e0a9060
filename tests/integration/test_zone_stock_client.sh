#!/usr/bin/env bash
# A client that knows nothing of wgpunch gets what it needs from the registry's secondary alone
# (issue 12, DESIGN.md §10): the NAT topology of §8, a wgpunch registry whose zone a Knot DNS
# secondary copies (TSIG), and on Alice and Bob Debian's wireguard-go configured with `wg`
# only: the registry as a peer (persistent keepalive 5 s, so the registry publishes where each
# NAT maps them), the other side's key with no endpoint, no [Discovery]. A script does what the
# original wgsd-client does, on both sides: for every peer of the interface, `kdig @knot` its
# SRV record, the port from ANSWER[0] and the address from ADDITIONAL[0], `wg set ... endpoint`;
# then a ping. It repeats (once a second, bounded) until Alice and Bob talk directly, NAT to
# NAT (the router counts it), with each other's NAT mapping as endpoint. Time printed.
# Usage: bash test_zone_stock_client.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"
source "$HERE/../../scripts/lib/knot.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack kdig knotd wireguard-go base32 base64
nl_init zonewgo
KNOT_IP=203.0.113.9
KEY_NAME=xfr.example.
TSIG_SECRET=$(head -c 32 /dev/urandom | base64)
secret "$TSIG_SECRET"
CONNECT_BOUND=30

nat_topology cone cone
nat_public_host NS_KNOT "$KNOT_IP"
punch_keys
punch_configs no 10
sed -i "/^Public = /a Secondary = $KNOT_IP\nTransferKey = hmac-sha256:$KEY_NAME:$TSIG_SECRET" "$CONF_REG"
punch_up_registry
knot_secondary PID_KNOT "$NS_KNOT" "$KNOT_IP" "$REG_IP" "$WG_PORT" "$KEY_NAME" "$TSIG_SECRET"
knot_wait_registry "$NS_KNOT" "$KNOT_IP" "$NS_REG" "$IF_REG" 10

# wgo_peer NS IFACE KEY ADDR OTHERPUB OTHERADDR: wireguard-go with the registry and the other side.
wgo_peer() {
  local ns=$1 ifc=$2 key=$3 addr=$4 other=$5 other_addr=$6
  write_key "$NL_TMP/$ifc.key" "$key"
  wgo_start "$ns" "$ifc"
  wgo_configure "$ns" "$ifc" "$NL_TMP/$ifc.key" "$WG_PORT" "$addr/24"
  ns_exec "$ns" wg set "$ifc" peer "$PUB_REG" endpoint "$REG_IP:$WG_PORT" allowed-ips "$REG_TUN/32" \
    persistent-keepalive 5 || fail "wg set (registry) on $ifc failed"
  ns_exec "$ns" wg set "$ifc" peer "$other" allowed-ips "$other_addr/32" ||
    fail "wg set (peer) on $ifc failed"
}
wgo_peer "$NS_ALICE" "$IF_ALICE" "$KEY_ALICE" "$ALICE_TUN" "$PUB_BOB" "$BOB_TUN"
PID_WGO_ALICE=$WGO_PID
wgo_peer "$NS_BOB" "$IF_BOB" "$KEY_BOB" "$BOB_TUN" "$PUB_ALICE" "$ALICE_TUN"
PID_WGO_BOB=$WGO_PID
T0=$(now_ms)
knot_knows() { [[ -n $(wgsd_endpoint "$NS_ALICE" "$KNOT_IP" 53 "$1") ]]; }
wait_for "Knot to serve Alice's SRV" 15 knot_knows "$PUB_ALICE"
wait_for "Knot to serve Bob's SRV" 15 knot_knows "$PUB_BOB"
log "ok: Knot serves both SRV records $(($(now_ms) - T0)) ms after wireguard-go started"

# wgsd_client NS IFACE: the original wgsd-client's pass over every peer of IFACE, Knot as DNS.
wgsd_client() {
  local ns=$1 ifc=$2 peer ep
  for peer in $(ns_exec "$ns" wg show "$ifc" peers); do
    ep=$(wgsd_endpoint "$ns" "$KNOT_IP" 53 "$peer")
    [[ -n $ep ]] || continue  # not published (the registry itself)
    ns_exec "$ns" wg set "$ifc" peer "$peer" endpoint "$ep" || fail "wg set endpoint $ep on $ifc failed"
  done
}
ab0=$(nat_counter direct_ab packets)
T1=$(now_ms)
connected=0
for ((round = 0; round < CONNECT_BOUND; round++)); do
  wgsd_client "$NS_ALICE" "$IF_ALICE"
  wgsd_client "$NS_BOB" "$IF_BOB"
  ns_exec "$NS_BOB" ping -n -q -c 1 -W 1 "$ALICE_TUN" >/dev/null 2>&1 || true
  if ns_exec "$NS_ALICE" ping -n -q -c 1 -W 1 "$BOB_TUN" >/dev/null 2>&1; then
    connected=1
    break
  fi
done
((connected)) || fail "Alice and Bob (wireguard-go) did not connect within $CONNECT_BOUND rounds"
log "TIMING: wireguard-go Alice -> Bob after $((round + 1)) wgsd-client round(s), $(($(now_ms) - T1)) ms"
got=$(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")
[[ $got == "$NAT_B_OUT":* && $got == "$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_BOB")" ]] ||
  fail "Alice's endpoint for Bob is '$got', not Bob's NAT mapping as the registry sees it"
got=$(peer_endpoint "$NS_BOB" "$IF_BOB" "$PUB_ALICE")
[[ $got == "$NAT_A_OUT":* ]] || fail "Bob's endpoint for Alice is '$got', not NAT A's mapping"
ns_exec "$NS_ALICE" ping -n -q -i 0.05 -c 20 -w 5 "$BOB_TUN" >/dev/null || fail "pings Alice -> Bob lost"
ab=$(($(nat_counter direct_ab packets) - ab0))
((ab >= 20)) || fail "the router saw only $ab packets NAT A -> NAT B: not direct"
log "ok: 20 pings NAT to NAT ($ab packets NAT A -> NAT B), endpoints from Knot's answers alone"

for pid in "$PID_WGO_ALICE" "$PID_WGO_BOB"; do
  stop_pid "$pid" 5
  forget_pid "$pid"
done
wgp_stop "$PID_REG" "$NS_REG" "$IF_REG"
log "PASS: wireguard-go on both sides connected NAT to NAT from a Knot secondary's SRV answers"
