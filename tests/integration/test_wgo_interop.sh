#!/usr/bin/env bash
# wgpunch <-> wireguard-go on one veth pair, twice: once with wgpunch initiating (the
# wireguard-go side has no endpoint for it, so only wgpunch can start the handshake) and once
# with wireguard-go initiating (wgpunch has no endpoint and must learn it from the handshake).
# Checks ping both ways, a handshake on both sides, `wgpunch status` naming the peer, the
# learned endpoint, and the clean SIGTERM shutdown of DESIGN.md §2.
# Usage: bash test_wgo_interop.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wireguard-go wg ip ping awk
nl_init interop

ns_create NS_P  # wgpunch
ns_create NS_G  # wireguard-go
veth_link "$NS_P" eth0 "192.0.2.1/24" "$NS_G" eth0 "192.0.2.2/24"

# One round: $1 = who initiates (wgpunch|wgo), $2/$3 interface names, $4/$5 ports.
round() {
  local initiator=$1 ifp=$2 ifg=$3 portp=$4 portg=$5
  log "=== round: $initiator initiates ($ifp:$portp <-> $ifg:$portg)"
  local kp kg pubp pubg
  wgp_keypair kp pubp
  wg_keypair kg pubg
  write_key "$NL_TMP/$ifg.key" "$kg"

  local endpoint_line=""
  [[ $initiator == wgpunch ]] && endpoint_line="Endpoint = 192.0.2.2:$portg"
  write_conf "$NL_TMP/$ifp.conf" <<EOF
# wgpunch side of the interop test
[Interface]
PrivateKey = $kp
ListenPort = $portp
Address = 10.0.0.1/24, fd00::1/64

[Peer]
PublicKey = $pubg
AllowedIPs = 10.0.0.2/32, fd00::2/128
$endpoint_line
EOF

  wgo_start "$NS_G" "$ifg"
  local pid_g=$WGO_PID
  wgo_configure "$NS_G" "$ifg" "$NL_TMP/$ifg.key" "$portg" "10.0.0.2/24 fd00::2/64"
  if [[ $initiator == wgo ]]; then
    ns_exec "$NS_G" wg set "$ifg" peer "$pubp" allowed-ips 10.0.0.1/32,fd00::1/128 \
      endpoint "192.0.2.1:$portp"
  else
    ns_exec "$NS_G" wg set "$ifg" peer "$pubp" allowed-ips 10.0.0.1/32,fd00::1/128
  fi

  local pid_p
  wgp_up pid_p "$NS_P" "$NL_TMP/$ifp.conf"
  wait_for "Address 10.0.0.1/24 on wgpunch's $ifp" 5 \
    bash -c "ip -n '$NS_P' addr show dev '$ifp' | grep -q 'inet 10\.0\.0\.1/24'"

  # Nobody has sent anything yet: no handshake may exist.
  [[ $(handshake_time "$NS_G" "$ifg" "$pubp") == 0 ]] ||
    fail "wireguard-go reports a handshake before any traffic"

  if [[ $initiator == wgpunch ]]; then
    expect_ping "$NS_P" 10.0.0.2 "wgpunch -> wireguard-go, wgpunch initiates"
    expect_ping "$NS_G" 10.0.0.1 "wireguard-go -> wgpunch, reply direction"
  else
    expect_ping "$NS_G" 10.0.0.1 "wireguard-go -> wgpunch, wireguard-go initiates"
    expect_ping "$NS_P" 10.0.0.2 "wgpunch -> wireguard-go, on the learned endpoint"
  fi
  expect_ping "$NS_P" fd00::2 "v6 inside the tunnel"

  local hs
  hs=$(handshake_time "$NS_G" "$ifg" "$pubp")
  [[ -n $hs && $hs != 0 ]] || fail "wg show on wireguard-go shows no latest handshake with wgpunch"
  log "ok: wireguard-go latest handshake at $hs"
  local ep
  ep=$(peer_endpoint "$NS_G" "$ifg" "$pubp")
  [[ $ep == "192.0.2.1:$portp" ]] || fail "wireguard-go sees wgpunch at '$ep', expected 192.0.2.1:$portp"

  # wgpunch's own view, through the stock wg tool and through its status command.
  hs=$(handshake_time "$NS_P" "$ifp" "$pubg")
  [[ -n $hs && $hs != 0 ]] || fail "wg show on wgpunch shows no latest handshake with wireguard-go"
  ep=$(peer_endpoint "$NS_P" "$ifp" "$pubg")
  [[ $ep == "192.0.2.2:$portg" ]] || fail "wgpunch's endpoint for wireguard-go is '$ep', expected 192.0.2.2:$portg"
  local st
  st=$(ns_exec "$NS_P" "$WGPUNCH" status "$ifp") || fail "wgpunch status $ifp failed"
  grep -qF "$pubg" <<<"$st" || fail "wgpunch status does not show peer $pubg: $st"
  ! grep -qF "$kp" <<<"$st" || fail "wgpunch status printed the private key"
  st=$(ns_exec "$NS_P" "$WGPUNCH" status "$ifp" --json) || fail "wgpunch status --json failed"
  grep -qF "\"$pubg\"" <<<"$st" || fail "wgpunch status --json does not name peer $pubg: $st"
  ! grep -qF "$kp" <<<"$st" || fail "wgpunch status --json printed the private key"
  log "ok: wgpunch status shows the peer"

  wgp_stop "$pid_p" "$NS_P" "$ifp"
  log "ok: wgpunch shut down cleanly on SIGTERM"
  stop_pid "$pid_g"
  forget_pid "$pid_g"
}

round wgpunch "$(uniq_iface wpa)" "$(uniq_iface wga)" 51820 51821
round wgo "$(uniq_iface wpb)" "$(uniq_iface wgb)" 52820 52821
log "PASS: wgpunch <-> wireguard-go, both directions of initiation"
