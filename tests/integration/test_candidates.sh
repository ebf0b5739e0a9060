#!/usr/bin/env bash
# Candidates (issue 11, DESIGN.md §9): the addresses a node registers for itself.
#   Alice and Carol behind one NAT that does not hairpin (plain masquerade; a packet from
#      inside to the NAT's own public address is lost). Each registers its LAN address with the
#      registry (an RFC 2136 UPDATE in the tunnel); `dig` in the tunnel shows Carol's two SRV
#      records, the observed public endpoint first in ANSWER and ADDITIONAL; Alice and Carol
#      connect within 5 s, directly on the LAN (Alice's endpoint for Carol is Carol's LAN
#      address), and the NAT's public side carries nothing of theirs.
# (IPv6 candidates: test_candidates_ipv6.sh.)
# Usage: bash test_candidates.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack dig timeout base32 base64
nl_init cand
CAROL_LAN=10.1.0.3
CAROL_TUN=10.0.0.3
BOUND=5

# peer_section KEY ADDR: a [Peer] for a config.
peer_section() { printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n' "$1" "$2"; }

log "=== Alice and Carol behind one NAT without hairpinning"
nat_topology cone cone
ns_create NS_CAROL
nat_lan_join "$NS_CAROL" "$NS_NAT_A" "$CAROL_LAN"
punch_keys
wgp_keypair KEY_CAROL PUB_CAROL
IF_CAROL=$(uniq_iface carol)
CONF_CAROL=$NL_TMP/$IF_CAROL.conf
punch_configs no 10
peer_section "$PUB_CAROL" "$CAROL_TUN" >>"$CONF_REG"
peer_section "$PUB_CAROL" "$CAROL_TUN" >>"$CONF_ALICE"
punch_peer_conf "$CONF_CAROL" "$KEY_CAROL" "$CAROL_TUN" 10 alice "$PUB_ALICE" "$ALICE_TUN"
# No hairpin: from inside NAT A to its own public address, nothing gets through.
ns_exec "$NS_NAT_A" nft add rule ip filter forward iifname '"lan"' ip daddr "$NAT_A_OUT" counter drop
punch_up_registry
T0=$(now_ms)
wgp_start PID_ALICE "$NS_ALICE" "$CONF_ALICE"
wgp_start PID_CAROL "$NS_CAROL" "$CONF_CAROL"
wgp_wait_up "$PID_ALICE" "$CONF_ALICE"
wgp_wait_up "$PID_CAROL" "$CONF_CAROL"
# The bound counts from both nodes up (their control sockets exist): starting a process on a
# loaded machine, or under the sanitizers, takes a time of its own that is no part of the goal.
T_UP=$(now_ms)
ns_exec "$NS_ALICE" ping -n -q -i 0.05 -c 1 -w "$BOUND" "$CAROL_TUN" >/dev/null 2>&1 ||
  fail "Alice got no ping reply from Carol within ${BOUND}s of both being up (same NAT, LAN candidates)"
log "TIMING: first ping reply Alice -> Carol (same NAT) $(($(now_ms) - T_UP)) ms after both were up" \
  "($(($(now_ms) - T0)) ms after they were started)"
ep=$(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_CAROL")
[[ $ep == "$CAROL_LAN:$WG_PORT" ]] || fail "Alice's endpoint for Carol is '$ep', expected her LAN address $CAROL_LAN:$WG_PORT"
ep=$(peer_endpoint "$NS_CAROL" "$IF_CAROL" "$PUB_ALICE")
[[ $ep == "$ALICE_LAN:$WG_PORT" ]] || fail "Carol's endpoint for Alice is '$ep', expected $ALICE_LAN:$WG_PORT"
[[ $(status_field "$NS_ALICE" "$IF_ALICE" "path" "$PUB_CAROL") == direct ]] || fail "Alice's path to Carol is not direct"
log "ok: Alice and Carol reach each other on the LAN ($ALICE_LAN <-> $CAROL_LAN)"
# Their traffic never leaves NAT A for the public side: count what does, other than to the
# registry, across a ping burst.
ns_exec "$NS_NAT_A" nft add counter ip filter to_public
ns_exec "$NS_NAT_A" nft insert rule ip filter forward oifname '"wan"' ip daddr != "$REG_IP" counter name to_public
to_public() { ns_exec "$NS_NAT_A" nft list counter ip filter to_public | awk '$1 == "packets" {print $2}'; }
out0=$(to_public)
ns_exec "$NS_ALICE" ping -n -q -c 20 -i 0.05 "$CAROL_TUN" >/dev/null 2>&1 || fail "ping burst Alice -> Carol failed"
(($(to_public) == out0)) || fail "Alice's traffic to Carol crossed NAT A's public side"
log "ok: a 20-ping burst between them stays on the LAN"

# What the registry publishes for Carol: the public SRV first, then her own.
B32_CAROL=$(b32_of "$PUB_CAROL")
ns_exec "$NS_ALICE" timeout 10 dig +time=2 +tries=2 @"$REG_TUN" "$B32_CAROL._wireguard._udp.$ZONE" SRV \
  >"$NL_TMP/srv" 2>&1 || fail "dig SRV of Carol in the tunnel failed"
srvs=$(awk '$4 == "SRV" && $1 !~ /^;/' "$NL_TMP/srv")
first=$(head -n 1 <<<"$srvs")
[[ $(awk '{print $5}' <<<"$first") == 0 && $(awk '{print $8}' <<<"$first") == "$B32_CAROL.$ZONE" ]] ||
  fail "the first SRV of Carol is not the observed one: $first"
grep -q " c\\.$B32_CAROL\\.$ZONE\$" <<<"$srvs" || fail "no candidate SRV for Carol: $srvs"
extra=$(awk '/^;; ADDITIONAL SECTION:/ {s = 1; next} s && NF && $1 !~ /^;/ {print; exit}' "$NL_TMP/srv")
[[ $(awk '{print $4, $5}' <<<"$extra") == "A $NAT_A_OUT" ]] ||
  fail "the first ADDITIONAL record is not NAT A's address: $extra"
grep -q "c.$B32_CAROL.$ZONE.*A.*$CAROL_LAN" "$NL_TMP/srv" || fail "Carol's LAN address is not in ADDITIONAL"
log "ok: dig shows Carol's observed SRV first (NAT A first in ADDITIONAL) and her LAN candidate"
(($(status_field "$NS_REG" "$IF_REG" "registry candidates registered") >= 2)) ||
  fail "the registry counts fewer than 2 registrations"
for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_CAROL $NS_CAROL $IF_CAROL" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done

log "PASS: LAN candidates join two peers behind one NAT that does not hairpin"
