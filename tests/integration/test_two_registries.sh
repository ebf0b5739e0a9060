#!/usr/bin/env bash
# Two registries that share no state (issue 12 part 1, DESIGN.md §10): the NAT topology of §8
# with a second registry on the registry's link (203.0.113.2, tunnel 10.0.0.253). Alice and
# Bob name both (`[Discovery] Registry = KEY1, KEY2`), register with both, ask either.
#   1. Registry 1 runs, then stops; registry 2 alone is up when Alice and Bob start: they
#      still discover each other and talk directly, NAT to NAT (time printed), the endpoints
#      marked discovered.
#   2. Registry 2 stops and registry 1 restarts: once it knows them again, NAT B remaps Bob's
#      port, and the tunnel is recovered through registry 1 alone (time printed), Alice's
#      endpoint for Bob being the new mapping.
# Usage: bash test_two_registries.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack
nl_init tworeg
REG2_IP=203.0.113.2
REG2_TUN=10.0.0.253
PUNCH_BOUND=20
RECOVER_BOUND=45

nat_topology cone cone
nat_public_host NS_REG2 "$REG2_IP"
punch_keys
wgp_keypair KEY_REG2 PUB_REG2
IF_REG2=$(uniq_iface regb)
punch_configs no 2
# Registry 2: registry 1's config with its own key and tunnel address.
CONF_REG2=$NL_TMP/$IF_REG2.conf
sed -e "s|^PrivateKey = .*|PrivateKey = $KEY_REG2|" -e "s|^Address = .*|Address = $REG2_TUN/24|" \
  "$CONF_REG" | write_conf "$CONF_REG2"
# Alice and Bob: both registries, each a [Peer] with its public address and a keepalive.
for conf in "$CONF_ALICE" "$CONF_BOB"; do
  sed -i "s|^Registry = .*|Registry = $PUB_REG, $PUB_REG2|" "$conf"
  cat >>"$conf" <<EOF2

[Peer]
# registry 2
PublicKey = $PUB_REG2
AllowedIPs = $REG2_TUN/32
Endpoint = $REG2_IP:$WG_PORT
PersistentKeepalive = 5
EOF2
done
grep -q "^Registry = $PUB_REG, $PUB_REG2" "$CONF_ALICE" || fail "Alice's config does not name both registries"

first_reply() {  # NS ADDR BOUND: ms since T0 to the first ping reply (every 50 ms), or fail
  ns_exec "$1" ping -n -q -i 0.05 -c 1 -w "$3" "$2" >/dev/null 2>&1 || return 1
  echo $(($(now_ms) - T0))
}

log "=== 1. registry 1 stopped, registry 2 up: Alice and Bob start and connect directly"
punch_up_registry
wgp_stop "$PID_REG" "$NS_REG" "$IF_REG"
wgp_up PID_REG2 "$NS_REG2" "$CONF_REG2"
T0=$(now_ms)
punch_up_peers
MS=$(first_reply "$NS_ALICE" "$BOB_TUN" "$PUNCH_BOUND") ||
  fail "no direct ping reply Alice -> Bob within ${PUNCH_BOUND}s with registry 1 down"
log "TIMING: first ping reply Alice -> Bob $MS ms after the peers started (registry 1 down)"
got=$(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")
[[ $got == "$NAT_B_OUT":* ]] || fail "Alice's endpoint for Bob is '$got', not NAT B's mapping"
[[ $(status_field "$NS_ALICE" "$IF_ALICE" "endpoint source" "$PUB_BOB") == discovered ]] ||
  fail "Alice's endpoint for Bob is not marked discovered"
got=$(peer_endpoint "$NS_BOB" "$IF_BOB" "$PUB_ALICE")
[[ $got == "$NAT_A_OUT":* ]] || fail "Bob's endpoint for Alice is '$got', not NAT A's mapping"
ab0=$(nat_counter direct_ab packets)
ns_exec "$NS_ALICE" ping -n -q -i 0.05 -c 20 -w 5 "$BOB_TUN" >/dev/null || fail "pings Alice -> Bob lost"
(($(nat_counter direct_ab packets) - ab0 >= 20)) || fail "the pings did not go NAT to NAT"
log "ok: direct NAT to NAT through registry 2 alone (Alice sees Bob at $(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB"))"

log "=== 2. registry 2 stops, registry 1 restarts; NAT B remaps Bob; recovered through registry 1"
wgp_stop "$PID_REG2" "$NS_REG2" "$IF_REG2"
punch_up_registry
registry_knows_both() {
  local a b
  a=$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_ALICE")
  b=$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_BOB")
  [[ $a == "$NAT_A_OUT":* && $b == "$NAT_B_OUT":* ]]
}
T1=$(now_ms)
wait_for "registry 1 to know Alice and Bob" 30 registry_knows_both
log "ok: registry 1 knows both $(($(now_ms) - T1)) ms after starting"
nat_remap "$NS_NAT_B" "$WG_PORT" 40001
T0=$(now_ms)
MS=$(first_reply "$NS_ALICE" "$BOB_TUN" "$RECOVER_BOUND") ||
  fail "no ping reply Alice -> Bob within ${RECOVER_BOUND}s after NAT B's remap, registry 2 down"
log "TIMING: tunnel recovered $MS ms after NAT B changed its mapping (registry 1 only)"
got=$(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")
[[ $got == "$NAT_B_OUT:40001" ]] || fail "Alice's endpoint for Bob is '$got', expected $NAT_B_OUT:40001"
expect_ping "$NS_BOB" "$ALICE_TUN" "Bob -> Alice after the remap"

for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: two registries: either one alone lets Alice and Bob connect and recover from a remap"
