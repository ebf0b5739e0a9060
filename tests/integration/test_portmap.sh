#!/usr/bin/env bash
# Port mappings (issue 20, DESIGN.md §9): Bob behind a symmetric NAT (`masquerade random`, no
# hole punching) whose box runs miniupnpd; Alice behind a port-restricted NAT; the registry
# with Relay = yes. One topology, miniupnpd's config varied between rounds; every round starts
# the three nodes afresh (NAT mappings flushed) and ends with Bob's clean stop:
#   1. PCP, NAT-PMP and UPnP on (PCP answers first): Bob's status (text and --json) shows the
#      PCP mapping, NAT B's nftables the DNAT to Bob's port; Alice reaches Bob at the mapped
#      port, the path is direct at both ends, and the registry relays 0 bytes. The time from
#      start to the first reply is printed. After Bob stops, NAT B holds no mapping.
#   2-4. Each protocol alone (NAT-PMP, PCP, UPnP): Bob maps with it and the path goes direct.
#   5. miniupnpd's rules deny every mapping (UPnP refuses; PCP and NAT-PMP requests are dropped,
#      see portmap.sh): Bob's status says none and why for each protocol;
#      the pair goes through the relay as before (first reply time printed).
#   6. No miniupnpd at all: the same, the reason "port 5351 closed".
# test_portmap_lease.sh covers renewal of a short lease.
# Usage: bash test_portmap.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"
source "$HERE/../../scripts/lib/portmap.sh"

portmap_init portmap "$@"
FIRST_BOUND=10   # seconds to a first reply (direct or relayed)
DIRECT_BOUND=15  # seconds to a direct path once mapped

portmap_topology

# round_direct MODE PROTOCOL: the pair goes direct through Bob's mapping made with PROTOCOL.
round_direct() {
  local mode=$1 want=$2 rule external took
  round_start "$mode"
  wait_for "$mode: Bob's mapping by $want" 10 bob_maps_with "$want"
  wait_for "$mode: the path to be direct at both ends" "$DIRECT_BOUND" direct_both
  external=$(bob_field "port mapping external")
  rule=$(portmap_rules)
  [[ $rule == "${external##*:} $BOB_LAN:$WG_PORT" ]] ||
    fail "$mode: NAT B's DNAT rules '$rule' are not Bob's mapping $external"
  [[ $(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB") == "$external" ]] ||
    fail "$mode: Alice reaches Bob at $(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB"), not at the mapping $external"
  took=$(grep -o "port mapping: .* maps .*" "${NL_WGP_LOG[$IF_BOB]}" | grep -o "([^(]*search began)" | tail -1)
  log "TIMING: $mode: first reply Alice -> Bob $MS ms after start; Bob mapped $external by $want $took"
  log "ok: $mode: Bob's $want mapping $external (nft: $rule) carries the direct path"
}

log "=== 1. PCP, NAT-PMP and UPnP on: PCP maps, the path is direct, the relay carries nothing"
round_direct all pcp
[[ $(bob_field "port mapping gateway") == "$NAT_B_LAN" ]] || fail "Bob's gateway is '$(bob_field "port mapping gateway")'"
lease=$(bob_field "port mapping lease left seconds")
((lease > 3500 && lease <= 7200)) || fail "Bob's lease left is '$lease' s, expected about 7200"
json=$(ns_exec "$NS_BOB" "$WGPUNCH" status "$IF_BOB" --json)
grep -q '"port_mapping":"pcp"' <<<"$json" || fail "status --json lacks \"port_mapping\":\"pcp\": $json"
grep -q "\"port_mapping_external\":\"$PORTMAP_B_OUT:" <<<"$json" || fail "status --json lacks the external address: $json"
relayed=$(status_field "$NS_REG" "$IF_REG" "registry relayed bytes")
[[ $relayed == 0 ]] || fail "the registry relayed $relayed bytes for a pair with a port mapping"
ab0=$(nat_counter direct_ab bytes)
ns_exec "$NS_ALICE" ping -n -q -i 0.02 -s 1000 -c 20 -w 10 "$BOB_TUN" >/dev/null ||
  fail "a burst Alice -> Bob lost packets over the mapped path"
(($(nat_counter direct_ab bytes) - ab0 >= 20 * 1000)) || fail "the burst did not go NAT to NAT"
grep -q "port mapping: PCP at gateway $NAT_B_LAN maps $PORTMAP_B_OUT:" "${NL_WGP_LOG[$IF_BOB]}" ||
  fail "Bob logged no PCP mapping"
log "ok: registry relayed 0 bytes; a burst went NAT to NAT; status, --json and the log show the mapping"
round_stop
grep -q "port mapping: PCP mapping $PORTMAP_B_OUT:[0-9]* deleted" "${NL_WGP_LOG[$IF_BOB]}" ||
  fail "Bob did not log the deletion of its mapping"
log "ok: after Bob's clean stop NAT B holds no mapping"

log "=== 2. NAT-PMP alone (PCP requests dropped: PCP gives up after its tries)"
round_direct natpmp nat-pmp
round_stop
log "=== 3. PCP alone"
round_direct pcp pcp
round_stop
log "=== 4. UPnP alone (port 5351 closed)"
round_direct upnp upnp
reason=$(bob_field "port mapping reason")
[[ -z $reason ]] || fail "upnp: a reason '$reason' beside a mapping"
round_stop

log "=== 5. miniupnpd refuses every mapping: the relay, as before"
round_start refuse
wait_for "refuse: Bob to give up on a mapping" 15 bob_has_no_mapping
reason=$(bob_field "port mapping reason")
# UPnP is refused outright; PCP and NAT-PMP stay silent (portmap.sh: miniupnpd 2.3.1 would
# walk the whole port range for them, and stalls the machine's nftables meanwhile).
[[ $reason == *"PCP: no answer"* && $reason == *"NAT-PMP: no answer"* &&
  $reason == *"UPnP: AddPortMapping failed: "* ]] ||
  fail "refuse: the reason '$reason' does not name each protocol's refusal"
[[ $(path_of "$NS_ALICE" "$IF_ALICE" "$PUB_BOB") == "relay via $PUB_REG" ]] ||
  fail "refuse: Alice's path to Bob is '$(path_of "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")', expected the relay"
log "TIMING: refuse: first reply Alice -> Bob through the relay $MS ms after start"
log "ok: refuse: no mapping ($reason); the relay carries the pair"
round_stop

log "=== 6. no miniupnpd: the relay, as before"
round_start absent
wait_for "absent: Bob to give up on a mapping" 15 bob_has_no_mapping
reason=$(bob_field "port mapping reason")
[[ $reason == "PCP: port 5351 closed; NAT-PMP: port 5351 closed; UPnP: port 1900 closed" ]] ||
  fail "absent: the reason is '$reason'"
[[ $(path_of "$NS_ALICE" "$IF_ALICE" "$PUB_BOB") == "relay via $PUB_REG" ]] ||
  fail "absent: Alice's path to Bob is not the relay"
log "TIMING: absent: first reply Alice -> Bob through the relay $MS ms after start"
log "ok: absent: no mapping ($reason); the relay carries the pair"
round_stop

log "PASS: Bob behind a symmetric NAT gets a port mapping by PCP, NAT-PMP or UPnP, and the pair goes direct; refused or absent, the relay carries it as before"
