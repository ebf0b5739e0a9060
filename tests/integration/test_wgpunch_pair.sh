#!/usr/bin/env bash
# wgpunch <-> wgpunch over an IPv6-only underlay (2001:db8::/64 veth, no v4 on it), with a
# preshared key on the peer pair: ping v4 and v6 inside the tunnel both ways, endpoints are
# the v6 underlay addresses, the PSK is reported by `wg show`. Then the same pair with
# mismatched preshared keys must not complete a handshake (so the PSK is really mixed in),
# although B answers A's initiations: A counts each response it rejects (`handshake failed`).
# Usage: bash test_wgpunch_pair.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk
nl_init pair

ns_create NS_A
ns_create NS_B
veth_link "$NS_A" eth0 "2001:db8:1::a/64" "$NS_B" eth0 "2001:db8:1::b/64"

wgp_keypair KA PUBA
wgp_keypair KB PUBB
PSK=$("$WGPUNCH" genpsk) || fail "wgpunch genpsk failed"
is_key "$PSK" || fail "wgpunch genpsk printed '$PSK', not a base64 key"
secret "$PSK"
[[ $PSK != "$("$WGPUNCH" genpsk)" ]] || fail "wgpunch genpsk printed the same key twice"

IFA=$(uniq_iface wpa)
IFB=$(uniq_iface wpb)
peer_conf "$NL_TMP/$IFA.conf" "$KA" 51820 "10.7.0.1/24, fd07::1/64" "$PUBB" "10.7.0.2/32, fd07::2/128" \
  "[2001:db8:1::b]:51821" "$PSK"
peer_conf "$NL_TMP/$IFB.conf" "$KB" 51821 "10.7.0.2/24, fd07::2/64" "$PUBA" "10.7.0.1/32, fd07::1/128" \
  "[2001:db8:1::a]:51820" "$PSK"

log "=== matching preshared keys, IPv6 underlay"
wgp_up PID_A "$NS_A" "$NL_TMP/$IFA.conf"
wgp_up PID_B "$NS_B" "$NL_TMP/$IFB.conf"
expect_ping "$NS_A" 10.7.0.2 "v4 in tunnel, A -> B"
expect_ping "$NS_B" 10.7.0.1 "v4 in tunnel, B -> A"
expect_ping "$NS_A" fd07::2 "v6 in tunnel, A -> B"
expect_ping "$NS_B" fd07::1 "v6 in tunnel, B -> A"

ep=$(peer_endpoint "$NS_A" "$IFA" "$PUBB")
[[ $ep == "[2001:db8:1::b]:51821" ]] || fail "A's endpoint for B is '$ep', expected [2001:db8:1::b]:51821"
ep=$(peer_endpoint "$NS_B" "$IFB" "$PUBA")
[[ $ep == "[2001:db8:1::a]:51820" ]] || fail "B's endpoint for A is '$ep', expected [2001:db8:1::a]:51820"
log "ok: both endpoints are the v6 underlay addresses"
for side in "$NS_A $IFA $PUBB" "$NS_B $IFB $PUBA"; do
  read -r ns ifc peer <<<"$side"
  hs=$(handshake_time "$ns" "$ifc" "$peer")
  [[ -n $hs && $hs != 0 ]] || fail "$ifc shows no handshake with its peer"
  got=$(ns_exec "$ns" wg show "$ifc" preshared-keys | awk -v k="$peer" '$1 == k {print $2}')
  [[ $got == "$PSK" ]] || fail "$ifc does not report the configured preshared key over UAPI"
  st=$(ns_exec "$ns" "$WGPUNCH" status "$ifc") || fail "wgpunch status $ifc failed"
  grep -qF "$peer" <<<"$st" || fail "wgpunch status $ifc does not show its peer"
  ! grep -qF "$PSK" <<<"$st" || fail "wgpunch status $ifc printed the preshared key"
  ! grep -qF "$KA" <<<"$st" && ! grep -qF "$KB" <<<"$st" || fail "wgpunch status $ifc printed a private key"
done
log "ok: handshakes, PSK on both sides, status shows peers and no secrets"

# A burst of near-MTU packets each way (-s 1300 fills most of the 1420 tunnel MTU): every one
# must come back.
burst() {
  local out
  out=$(ns_exec "$1" ping -q -n -c 50 -i 0.01 -s 1300 -W 2 "$2" 2>&1) || true
  grep -q ' 50 received' <<<"$out" || fail "large pings from $1 to $2 lost: $(grep received <<<"$out")"
}
burst "$NS_A" 10.7.0.2
burst "$NS_B" fd07::1
log "ok: 50 large pings each way, none lost"

wgp_stop "$PID_A" "$NS_A" "$IFA"
wgp_stop "$PID_B" "$NS_B" "$IFB"
log "ok: both nodes shut down cleanly"

log "=== mismatched preshared keys: no handshake may complete"
OTHER_PSK=$("$WGPUNCH" genpsk)
secret "$OTHER_PSK"
IFC=$(uniq_iface wpc)
IFD=$(uniq_iface wpd)
peer_conf "$NL_TMP/$IFC.conf" "$KA" 51830 "10.7.0.1/24" "$PUBB" "10.7.0.2/32" "[2001:db8:1::b]:51831" "$PSK"
peer_conf "$NL_TMP/$IFD.conf" "$KB" 51831 "10.7.0.2/24" "$PUBA" "10.7.0.1/32" "[2001:db8:1::a]:51830" \
  "$OTHER_PSK"
wgp_up PID_C "$NS_A" "$NL_TMP/$IFC.conf"
wgp_up PID_D "$NS_B" "$NL_TMP/$IFD.conf"
if ping_ok "$NS_A" 10.7.0.2 4; then
  fail "ping went through although the preshared keys differ"
fi
for side in "$NS_A $IFC $PUBB" "$NS_B $IFD $PUBA"; do
  read -r ns ifc peer <<<"$side"
  hs=$(handshake_time "$ns" "$ifc" "$peer")
  [[ $hs == 0 ]] || fail "$ifc completed a handshake although the preshared keys differ"
done
pid_alive "$PID_C" && pid_alive "$PID_D" || fail "a wgpunch died on a handshake with a wrong PSK"
# That no handshake completed proves something only if one was tried: A initiated, B answered
# (the PSK enters only at the response), and A rejected B's response for its PSK.
failed=$(ns_exec "$NS_A" "$WGPUNCH" status "$IFC" | awk -F': ' '$1 == "  dropped handshake failed" {print $2}')
((${failed:-0} >= 1)) ||
  fail "A counts no failed handshake: no response with the other PSK reached it, the check proves nothing"
log "ok: no handshake with mismatched preshared keys (A rejected $failed responses)"
wgp_stop "$PID_C" "$NS_A" "$IFC"
wgp_stop "$PID_D" "$NS_B" "$IFD"
log "PASS: wgpunch <-> wgpunch over IPv6 with preshared keys"
