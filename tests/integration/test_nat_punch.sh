#!/usr/bin/env bash
# NAT hole punching (DESIGN.md §5, §8): a registry on the public side, Alice and Bob each
# behind a port-restricted NAT. Alice and Bob know the registry's address and each other's
# key, not each other's endpoint. They must find each other through the registry and talk
# directly, NAT to NAT:
#   1. Alice pings Bob; the time from start to the first reply is printed. Alice's endpoint
#      for Bob is Bob's NAT outside address as the registry saw it, source "discovered"
#      (and the mirror on Bob's side).
#   2. A burst of pings: the router counts it between the two NATs' outside addresses, and
#      almost nothing reaches the registry's link: the registry may relay (Relay = yes) but
#      relays 0 bytes for a pair that can punch, and both ends show `path: direct`.
#   3. The registry stops and restarts: the direct tunnel keeps working throughout.
#   4. NAT A forgets its mappings and hands out a new port (conntrack flushed): Bob's packets
#      to the old port are now unsolicited. The tunnel must recover through rediscovery
#      within a bounded time (printed), with Bob's endpoint for Alice the new port.
#   5. The same for NAT B, the side that is pinged and has nothing to send by itself.
# Usage: bash test_nat_punch.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack base32 base64
nl_init punch
# Bounds (seconds): first direct reply, recovery after the NAT lost its mappings.
PUNCH_BOUND=20
RECOVER_BOUND=45

nat_topology cone cone
punch_keys
# The registry may relay (DESIGN.md §9), yet a pair that can punch never needs it: it must
# forward nothing here.
punch_configs no 10 yes

# expect_field NS IFACE FIELD WANT [PEER]: a `wgpunch status` line has the value WANT.
expect_field() {
  local got
  got=$(status_field "$1" "$2" "$3" "${5:-}")
  [[ $got == "$4" ]] || fail "$2: status '$3' is '$got', expected '$4'"
}

# first_reply NS ADDR BOUND: ping every 50 ms until one reply arrives (at most BOUND
# seconds); prints the milliseconds since T0, or fails.
first_reply() {
  ns_exec "$1" ping -n -q -i 0.05 -c 1 -w "$3" "$2" >/dev/null 2>&1 || return 1
  echo $(($(now_ms) - T0))
}

log "=== 1. start the registry, then Alice and Bob at once; Alice pings Bob"
punch_up_registry
T0=$(now_ms)
punch_up_peers
MS=$(first_reply "$NS_ALICE" "$BOB_TUN" "$PUNCH_BOUND") ||
  fail "Alice got no ping reply from Bob within ${PUNCH_BOUND}s of starting"
log "TIMING: first direct ping reply Alice -> Bob $MS ms after the peers started"

ep=$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_BOB")
[[ $ep == "$NAT_B_OUT":* ]] || fail "the registry sees Bob at '$ep', not at NAT B ($NAT_B_OUT)"
got=$(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")
[[ $got == "$ep" ]] || fail "Alice's endpoint for Bob is '$got', expected Bob's NAT mapping $ep"
expect_field "$NS_ALICE" "$IF_ALICE" "endpoint source" discovered "$PUB_BOB"
ep=$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_ALICE")
[[ $ep == "$NAT_A_OUT":* ]] || fail "the registry sees Alice at '$ep', not at NAT A ($NAT_A_OUT)"
got=$(peer_endpoint "$NS_BOB" "$IF_BOB" "$PUB_ALICE")
[[ $got == "$ep" ]] || fail "Bob's endpoint for Alice is '$got', expected Alice's NAT mapping $ep"
log "ok: Alice reaches Bob at $(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB"), Bob Alice at $got"
expect_field "$NS_ALICE" "$IF_ALICE" "public endpoint" "$ep"
expect_field "$NS_ALICE" "$IF_ALICE" "endpoint source" config "$PUB_REG"
answers=$(status_field "$NS_ALICE" "$IF_ALICE" "discovery answers")
((answers >= 1)) || fail "Alice's status shows $answers discovery answers"
published=$(status_field "$NS_REG" "$IF_REG" "registry published records")
((published >= 1)) || fail "the registry's status shows $published published records"
expect_ping "$NS_BOB" "$ALICE_TUN" "Bob -> Alice"

log "=== 2. the traffic goes NAT to NAT, not through the registry"
[[ $(ns_exec "$NS_REG" sysctl -n net.ipv4.ip_forward) == 0 ]] ||
  fail "the registry's namespace forwards IPv4"
# Bytes, not packets: two datagrams sent as one UDP GSO send cross the veth links as one
# packet (a slow, sanitized build batches pings that way).
ab0=$(nat_counter direct_ab bytes)
ba0=$(nat_counter direct_ba bytes)
reg0=$(($(nat_counter registry_in bytes) + $(nat_counter registry_out bytes)))
BURST=50
ns_exec "$NS_ALICE" ping -n -q -i 0.02 -s 1000 -c "$BURST" -w 10 "$BOB_TUN" >"$NL_TMP/burst" ||
  fail "burst Alice -> Bob lost packets: $(tail -n 2 "$NL_TMP/burst" | head -n 1)"
ab=$(($(nat_counter direct_ab bytes) - ab0))
ba=$(($(nat_counter direct_ba bytes) - ba0))
reg=$(($(nat_counter registry_in bytes) + $(nat_counter registry_out bytes) - reg0))
((ab >= BURST * 1000 && ba >= BURST * 1000)) ||
  fail "router saw $ab bytes NAT A -> NAT B and $ba back for a burst of $BURST pings of 1000 bytes"
# 50 pings of 1000 bytes are 100 kB both ways; the registry's link only carries keepalives.
((reg < BURST * 1000 / 10)) || fail "$reg bytes crossed the registry's link during the burst"
log "ok: $BURST pings of 1000 bytes: $ab bytes NAT A -> NAT B, $ba back, $reg bytes on the registry's link"
relayed=$(status_field "$NS_REG" "$IF_REG" "registry relayed bytes")
[[ $relayed == 0 ]] || fail "the registry relayed $relayed bytes for a pair that can punch"
for who in "$NS_ALICE $IF_ALICE $PUB_BOB" "$NS_BOB $IF_BOB $PUB_ALICE"; do
  read -r ns ifc peer <<<"$who"
  [[ $(status_field "$ns" "$ifc" "path" "$peer") == direct ]] || fail "$ifc: the path to $peer is not direct"
done
log "ok: path direct at both ends; the registry (Relay = yes) relayed 0 bytes"

log "=== 3. the registry restarts; the direct tunnel does not notice"
wgp_stop "$PID_REG" "$NS_REG" "$IF_REG"
expect_ping "$NS_ALICE" "$BOB_TUN" "registry down"
punch_up_registry
expect_ping "$NS_ALICE" "$BOB_TUN" "registry restarted"
# Alice and Bob notice the registry lost their sessions (keepalives unanswered) and
# handshake again; it republishes them.
registry_knows_both() {
  local a b
  a=$(handshake_time "$NS_REG" "$IF_REG" "$PUB_ALICE")
  b=$(handshake_time "$NS_REG" "$IF_REG" "$PUB_BOB")
  [[ -n $a && $a != 0 && -n $b && $b != 0 ]]
}
T1=$(now_ms)
wait_for "the restarted registry to handshake with Alice and Bob" 30 registry_knows_both
log "ok: the registry knows both peers again $(($(now_ms) - T1)) ms after restarting"
expect_ping "$NS_ALICE" "$BOB_TUN" "registry back"

# remap_and_recover A|B PORT: that NAT forgets its mappings and maps the WireGuard port to
# PORT from now on. Alice pings Bob until the tunnel is back (bounded, time printed); the
# other side's endpoint for the moved peer must be the new mapping, learnt by discovery.
remap_and_recover() {
  local which=$1 port=$2 nat_ns nat_out moved watch_ns watch_if answers0 refused0 ms got
  if [[ $which == A ]]; then
    nat_ns=$NS_NAT_A nat_out=$NAT_A_OUT moved=$PUB_ALICE watch_ns=$NS_BOB watch_if=$IF_BOB
  else
    nat_ns=$NS_NAT_B nat_out=$NAT_B_OUT moved=$PUB_BOB watch_ns=$NS_ALICE watch_if=$IF_ALICE
  fi
  answers0=$(status_field "$watch_ns" "$watch_if" "discovery answers")
  refused0=$(($(nat_refused "$NS_NAT_A") + $(nat_refused "$NS_NAT_B")))
  nat_remap "$nat_ns" "$WG_PORT" "$port"
  T0=$(now_ms)
  ms=$(first_reply "$NS_ALICE" "$BOB_TUN" "$RECOVER_BOUND") ||
    fail "no ping reply Alice -> Bob within ${RECOVER_BOUND}s after NAT $which changed its mapping"
  log "TIMING: tunnel recovered $ms ms after NAT $which changed its mapping"
  got=$(peer_endpoint "$watch_ns" "$watch_if" "$moved")
  [[ $got == "$nat_out:$port" ]] ||
    fail "$watch_if's endpoint for the peer behind NAT $which is '$got', expected $nat_out:$port"
  (($(status_field "$watch_ns" "$watch_if" "discovery answers") > answers0)) ||
    fail "$watch_if got no new discovery answer after NAT $which changed its mapping"
  # The remapped side's new packets are refused by the other NAT (which only
  # admits the old mapping), or the other side's packets by this NAT's old
  # mapping being gone: either way a NAT must have refused something.
  (($(nat_refused "$NS_NAT_A") + $(nat_refused "$NS_NAT_B") > refused0)) ||
    fail "no NAT refused anything: the old mapping was never really gone"
  expect_ping "$NS_BOB" "$ALICE_TUN" "Bob -> Alice after NAT $which changed its mapping"
  log "ok: the peer behind NAT $which is at $got again, found by rediscovery"
}

log "=== 4. NAT A (the pinging side's) loses its mappings and hands out port 40000"
remap_and_recover A 40000
log "=== 5. NAT B (the pinged side's) loses its mappings and hands out port 40001"
remap_and_recover B 40001

for pid_ns_if in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" \
  "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$pid_ns_if"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: Alice and Bob punched through two port-restricted NATs and recovered from remappings on both"
