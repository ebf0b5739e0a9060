#!/usr/bin/env bash
# The stock wg tool against a running wgpunch over its control socket (UAPI): wg show,
# wg showconf, and wg set adding a peer, changing its allowed IPs, endpoint, keepalive and
# preshared key, removing it, and changing the listen port (checked with a real handshake
# from a wireguard-go peer to the new port). `wgpunch status` never prints a secret.
# Usage: bash test_uapi.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wireguard-go wg ip ping ss awk
nl_init uapi

ns_create NS_P  # wgpunch
ns_create NS_G  # wireguard-go
veth_link "$NS_P" eth0 "192.0.2.1/24" "$NS_G" eth0 "192.0.2.2/24"

IFP=$(uniq_iface wpu)
IFG=$(uniq_iface wgu)
wgp_keypair KP PUBP
wg_keypair KG PUBG       # the wireguard-go peer used at the end
wg_keypair KX PUBX       # a peer that only exists through wg set
wg_keypair KY PUBY       # a peer from the config file
write_key "$NL_TMP/$IFG.key" "$KG"
write_conf "$NL_TMP/$IFP.conf" <<EOF
[Interface]
PrivateKey = $KP
ListenPort = 51820
Address = 10.0.0.1/24

[Peer]
PublicKey = $PUBY
AllowedIPs = 10.0.0.9/32
PersistentKeepalive = 15
EOF
wgp_up PID_P "$NS_P" "$NL_TMP/$IFP.conf"

w() { ns_exec "$NS_P" wg "$@"; }
# field CMD... : `wg show IFP <what>` output for one peer (the value after the key).
peer_field() { w show "$IFP" "$1" | awk -v k="$2" '$1 == k {$1 = ""; sub(/^ /, ""); print}'; }
# allowed_ips PUB: the peer's allowed IPs sorted (the order over UAPI is the daemon's choice).
allowed_ips() { peer_field allowed-ips "$1" | tr ' ' '\n' | sort | paste -sd' '; }

log "=== wg show / showconf on the configured node"
[[ $(w show "$IFP" public-key) == "$PUBP" ]] || fail "wg show public-key is not the config key's public key"
[[ $(w show "$IFP" private-key) == "$KP" ]] || fail "wg show private-key does not match the config"
[[ $(w show "$IFP" listen-port) == 51820 ]] || fail "wg show listen-port is not 51820"
[[ $(w show "$IFP" peers) == "$PUBY" ]] || fail "wg show peers is not exactly the configured peer"
[[ $(allowed_ips "$PUBY") == 10.0.0.9/32 ]] || fail "configured peer's allowed-ips wrong"
[[ $(peer_field persistent-keepalive "$PUBY") == 15 ]] || fail "configured peer's keepalive is not 15"
conf=$(w showconf "$IFP") || fail "wg showconf failed"
grep -qx "PrivateKey = $KP" <<<"$conf" || fail "wg showconf lacks the interface private key"
grep -qx "ListenPort = 51820" <<<"$conf" || fail "wg showconf lacks ListenPort = 51820"
grep -qx "PublicKey = $PUBY" <<<"$conf" || fail "wg showconf lacks the configured peer"
log "ok: show/showconf reflect the config file"

log "=== wg set: add a peer, change it, remove it"
write_key "$NL_TMP/psk" "$(wg genpsk)"
secret "$(cat "$NL_TMP/psk")"
w set "$IFP" peer "$PUBX" allowed-ips 10.0.0.2/32 || fail "wg set (add peer) failed"
[[ $(w show "$IFP" peers | sort) == "$(printf '%s\n' "$PUBX" "$PUBY" | sort)" ]] ||
  fail "after wg set, peers are not {configured, added}"
[[ $(allowed_ips "$PUBX") == 10.0.0.2/32 ]] || fail "added peer's allowed-ips wrong"
[[ $(peer_field endpoints "$PUBX") == "(none)" ]] || fail "added peer has an endpoint already"

w set "$IFP" peer "$PUBX" allowed-ips 10.0.0.3/32,fd00::3/128 || fail "wg set allowed-ips failed"
got=$(allowed_ips "$PUBX")
[[ $got == "10.0.0.3/32 fd00::3/128" ]] || fail "allowed-ips after replace: '$got'"
w set "$IFP" peer "$PUBX" allowed-ips 10.0.0.3/32,fd00::3/128,10.9.0.0/16 ||
  fail "wg set allowed-ips (extend) failed"
got=$(allowed_ips "$PUBX")
[[ $got == "10.0.0.3/32 10.9.0.0/16 fd00::3/128" ]] || fail "allowed-ips after extend: '$got'"
# An allowed IP moves from one peer to another when given to the second.
w set "$IFP" peer "$PUBY" allowed-ips 10.0.0.9/32,10.9.0.0/16 || fail "wg set (move prefix) failed"
got=$(allowed_ips "$PUBX")
[[ $got == "10.0.0.3/32 fd00::3/128" ]] || fail "10.9.0.0/16 did not leave the first peer: '$got'"

w set "$IFP" peer "$PUBX" endpoint 192.0.2.77:51999 persistent-keepalive 25 \
  preshared-key "$NL_TMP/psk" || fail "wg set endpoint/keepalive/psk failed"
[[ $(peer_field endpoints "$PUBX") == 192.0.2.77:51999 ]] || fail "endpoint not set"
[[ $(peer_field persistent-keepalive "$PUBX") == 25 ]] || fail "keepalive not 25"
[[ $(peer_field preshared-keys "$PUBX") == "$(cat "$NL_TMP/psk")" ]] || fail "psk not set"
w set "$IFP" peer "$PUBX" endpoint "[2001:db8::77]:51998" persistent-keepalive off ||
  fail "wg set v6 endpoint failed"
[[ $(peer_field endpoints "$PUBX") == "[2001:db8::77]:51998" ]] || fail "v6 endpoint not set"
[[ $(peer_field persistent-keepalive "$PUBX") == off ]] || fail "keepalive not off"

st=$(ns_exec "$NS_P" "$WGPUNCH" status "$IFP") || fail "wgpunch status failed"
grep -qF "$PUBX" <<<"$st" || fail "wgpunch status does not show the peer added with wg set"
sj=$(ns_exec "$NS_P" "$WGPUNCH" status "$IFP" --json) || fail "wgpunch status --json failed"
grep -qF "\"$PUBX\"" <<<"$sj" || fail "wgpunch status --json does not show the added peer"
sa=$(ns_exec "$NS_P" "$WGPUNCH" status) || fail "wgpunch status (all interfaces) failed"
grep -qF "$PUBX" <<<"$sa" || fail "wgpunch status without IFACE does not show $IFP's peers"
for out in "$st" "$sj" "$sa"; do
  ! grep -qF "$KP" <<<"$out" || fail "wgpunch status printed the private key"
  ! grep -qF "$(cat "$NL_TMP/psk")" <<<"$out" || fail "wgpunch status printed a preshared key"
done
log "ok: wgpunch status shows the peer, no secrets"

w set "$IFP" peer "$PUBX" remove || fail "wg set remove failed"
[[ $(w show "$IFP" peers) == "$PUBY" ]] || fail "peer still listed after remove"
# Output captured first: under pipefail, grep -q closing the pipe early would
# make the writer die of SIGPIPE and hide a match.
conf=$(w showconf "$IFP")
[[ $conf != *"$PUBX"* ]] || fail "removed peer still in showconf"
log "ok: add / allowed-ips / endpoint / keepalive / psk / remove"

log "=== wg set listen-port, then a wireguard-go peer handshakes to the new port"
w set "$IFP" listen-port 52777 || fail "wg set listen-port failed"
[[ $(w show "$IFP" listen-port) == 52777 ]] || fail "listen-port not 52777 after wg set"
wait_for "wgpunch listening on udp 52777" 5 \
  bash -c "ip netns exec '$NS_P' ss -Hlun 'sport = :52777' | grep -q ."
if [[ -n $(ns_exec "$NS_P" ss -Hlun 'sport = :51820') ]]; then
  fail "wgpunch still listens on the old port 51820"
fi
wgo_start "$NS_G" "$IFG"
wgo_configure "$NS_G" "$IFG" "$NL_TMP/$IFG.key" 51821 "10.0.0.2/24"
ns_exec "$NS_G" wg set "$IFG" peer "$PUBP" allowed-ips 10.0.0.1/32 endpoint 192.0.2.1:52777
w set "$IFP" peer "$PUBG" allowed-ips 10.0.0.2/32 || fail "wg set (wireguard-go peer) failed"
ip -n "$NS_P" route replace 10.0.0.2/32 dev "$IFP"
expect_ping "$NS_G" 10.0.0.1 "wireguard-go -> wgpunch on the new port"
expect_ping "$NS_P" 10.0.0.2 "wgpunch -> wireguard-go, peer added over UAPI"
[[ $(peer_field endpoints "$PUBG") == 192.0.2.2:51821 ]] || fail "wgpunch did not learn the peer's endpoint"
hs=$(peer_field latest-handshakes "$PUBG")
[[ -n $hs && $hs != 0 ]] || fail "no handshake recorded for the UAPI-added peer"
read -r rx tx <<<"$(peer_field transfer "$PUBG")"
((rx > 0 && tx > 0)) || fail "transfer counters for the UAPI-added peer are rx=$rx tx=$tx"
log "ok: listen port changed live, handshake and counters on the new port"

wgp_stop "$PID_P" "$NS_P" "$IFP"
log "PASS: wg show/showconf/set against wgpunch"
