#!/usr/bin/env bash
# Bulk data through the tunnel, wgpunch <-> wireguard-go: 64 MiB of random bytes each way over
# TCP (socat), the SHA-256 of what arrives compared with what was sent. Prints the rate.
# Usage: bash test_transfer.sh /path/to/wgpunch   (TRANSFER_MIB=N to change the size)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wireguard-go wg ip ping socat sha256sum ss timeout
MIB=${TRANSFER_MIB:-64}
nl_init transfer

ns_create NS_P  # wgpunch
ns_create NS_G  # wireguard-go
veth_link "$NS_P" eth0 "192.0.2.1/24" "$NS_G" eth0 "192.0.2.2/24"

IFP=$(uniq_iface wpt)
IFG=$(uniq_iface wgt)
wgp_keypair KP PUBP
wg_keypair KG PUBG
write_key "$NL_TMP/$IFG.key" "$KG"
write_conf "$NL_TMP/$IFP.conf" <<EOF
[Interface]
PrivateKey = $KP
ListenPort = 51820
Address = 10.0.0.1/24

[Peer]
PublicKey = $PUBG
AllowedIPs = 10.0.0.2/32
Endpoint = 192.0.2.2:51821
EOF

wgo_start "$NS_G" "$IFG"
wgo_configure "$NS_G" "$IFG" "$NL_TMP/$IFG.key" 51821 "10.0.0.2/24"
ns_exec "$NS_G" wg set "$IFG" peer "$PUBP" allowed-ips 10.0.0.1/32 endpoint 192.0.2.1:51820
wgp_up PID_P "$NS_P" "$NL_TMP/$IFP.conf"
expect_ping "$NS_P" 10.0.0.2 "tunnel up before the transfer"

head -c "${MIB}M" /dev/urandom >"$NL_TMP/payload"
log "payload: $MIB MiB"

tcp_transfer "$NS_P" "$NS_G" 10.0.0.2 5001 "wgpunch -> wireguard-go" "$NL_TMP/payload"
tcp_transfer "$NS_G" "$NS_P" 10.0.0.1 5002 "wireguard-go -> wgpunch" "$NL_TMP/payload"

# The tunnel must have carried it: wireguard-go's counters for wgpunch cover both payloads.
read -r rx tx < <(ns_exec "$NS_G" wg show "$IFG" transfer | awk -v k="$PUBP" '$1 == k {print $2, $3}')
min=$((MIB * 1024 * 1024))
((rx >= min && tx >= min)) || fail "wireguard-go counted rx=$rx tx=$tx bytes, expected >= $min each"
log "ok: wireguard-go counters rx=$rx tx=$tx bytes"
pid_alive "$PID_P" || fail "wgpunch died during the transfer"
wgp_stop "$PID_P" "$NS_P" "$IFP"
log "PASS: $MIB MiB each way through wgpunch <-> wireguard-go, checksums equal"
