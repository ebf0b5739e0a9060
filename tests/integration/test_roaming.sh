#!/usr/bin/env bash
# Roaming: A and B each on their own link to a router namespace R (192.0.2.0/24 and
# 198.51.100.0/24). Once the tunnel is up, A moves and sends first; B must follow A's new
# endpoint (seen with `wg show` on B) and reach A there.
#   round 1: A = wgpunch roams, B = wireguard-go follows: A's port changes (wg set
#            listen-port), A moves to a new link in another network (203.0.113.0/24, old link
#            deleted), then A is renumbered on that same link. A source address or interface
#            remembered for B is gone each time and must be dropped (as the kernel module
#            does; wireguard-go 0.0.20220316 as the roamer fails these two steps).
#   round 2: A = wireguard-go behind a NAT in R, B = wgpunch follows: the NAT's outside
#            address changes (rebinding), then A's port; packets that are not A's must not
#            move it: A's data replayed from elsewhere, initiations with a valid mac1, garbage.
# Usage: bash test_roaming.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
ATTACK=$(dirname "$WGPUNCH")/wgp_attack
[[ -x $ATTACK ]] || fail "attack tool $ATTACK not built (cmake --build ... --target wgp_attack)"
require_tools wireguard-go wg ip ping awk nft tcpdump timeout
nl_init roam

# topology: fresh A, R, B namespaces (names into NS_A, NS_R, NS_B).
topology() {
  ns_create "NS_A$1"
  ns_create "NS_R$1"
  ns_create "NS_B$1"
  local a="NS_A$1" r="NS_R$1" b="NS_B$1"
  NS_A=${!a} NS_R=${!r} NS_B=${!b}
  ns_forwarding "$NS_R"
  veth_link "$NS_A" eth0 "192.0.2.2/24" "$NS_R" a0 "192.0.2.1/24"
  veth_link "$NS_B" eth0 "198.51.100.2/24" "$NS_R" b0 "198.51.100.1/24"
  ip -n "$NS_A" route add default via 192.0.2.1
  ip -n "$NS_B" route add default via 198.51.100.1
  underlay_ok
}

# expect_endpoint NS IFACE PUB WANT WHAT: B's view of A's endpoint (polled briefly: the last
# packet that moved it may still be in flight).
expect_endpoint() {
  local ns=$1 ifc=$2 pub=$3 want=$4 what=$5 i ep
  for ((i = 0; i < 30; i++)); do
    ep=$(peer_endpoint "$ns" "$ifc" "$pub")
    [[ $ep == "$want" ]] && { log "ok: $what: endpoint $ep"; return 0; }
    sleep 0.1
  done
  fail "$what: endpoint is '$ep', expected $want"
}

# tunnel_both_ways: A sends first (B cannot know where A went), then B answers on its own.
tunnel_both_ways() {
  expect_ping "$NS_A" 10.0.0.2 "$1, A -> B"
  expect_ping "$NS_B" 10.0.0.1 "$1, B -> A"
}

# move_to_new_link: A changes networks: a new link to R in 203.0.113.0/24, old link removed.
move_to_new_link() {
  ip -n "$NS_R" link del a0
  veth_link "$NS_A" eth1 "203.0.113.2/24" "$NS_R" a1 "203.0.113.1/24"
  ip -n "$NS_A" route replace default via 203.0.113.1
  underlay_ok
}

# underlay_ok: A reaches B outside the tunnel (so a tunnel failure is the daemons' fault).
underlay_ok() {
  ping_ok "$NS_A" 198.51.100.2 5 || fail "underlay A -> R -> B broken after the move"
}

log "=== round 1: wgpunch (A) roams, wireguard-go (B) follows"
topology 1
IFA=$(uniq_iface wpr)
IFB=$(uniq_iface wgr)
wgp_keypair KA PUBA
wg_keypair KB PUBB
write_key "$NL_TMP/$IFB.key" "$KB"
peer_conf "$NL_TMP/$IFA.conf" "$KA" 51820 10.0.0.1/24 "$PUBB" 10.0.0.2/32 198.51.100.2:51821
wgo_start "$NS_B" "$IFB"
wgo_configure "$NS_B" "$IFB" "$NL_TMP/$IFB.key" 51821 10.0.0.2/24
ns_exec "$NS_B" wg set "$IFB" peer "$PUBA" allowed-ips 10.0.0.1/32
wgp_up PID_A "$NS_A" "$NL_TMP/$IFA.conf"

tunnel_both_ways "before moving"
expect_endpoint "$NS_B" "$IFB" "$PUBA" 192.0.2.2:51820 "B sees A at its first address"

ns_exec "$NS_A" wg set "$IFA" listen-port 51830 || fail "wg set listen-port on wgpunch failed"
tunnel_both_ways "A's port changed to 51830"
expect_endpoint "$NS_B" "$IFB" "$PUBA" 192.0.2.2:51830 "B followed A's new port"

move_to_new_link
tunnel_both_ways "A moved to 203.0.113.2 on a new link"
expect_endpoint "$NS_B" "$IFB" "$PUBA" 203.0.113.2:51830 "B followed A to the new network"

# Same link, new address (a DHCP renumbering): a source address remembered for B is now
# gone, and wgpunch must stop using it.
ip -n "$NS_A" addr del 203.0.113.2/24 dev eth1
ip -n "$NS_A" addr add 203.0.113.3/24 dev eth1
ip -n "$NS_A" route replace default via 203.0.113.1
underlay_ok
tunnel_both_ways "A renumbered to 203.0.113.3 on the same link"
expect_endpoint "$NS_B" "$IFB" "$PUBA" 203.0.113.3:51830 "B followed A's new address"
expect_endpoint "$NS_A" "$IFA" "$PUBB" 198.51.100.2:51821 "A still sends to B's static endpoint"
wgp_stop "$PID_A" "$NS_A" "$IFA"

log "=== round 2: wireguard-go (A) behind a NAT that rebinds, wgpunch (B) follows"
# Here A's own sockets stay put and the path changes under it: R masquerades A towards B,
# then R's outside address changes (the kernel drops the old NAT mappings) and A's port
# changes. What B sees of A moves, which is what a follower has to cope with.
topology 2
ns_exec "$NS_R" sysctl -qw net.ipv4.conf.all.promote_secondaries=1
ns_exec "$NS_R" nft -f - <<'EOF' || fail "cannot install the NAT in the router namespace"
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "b0" masquerade
  }
}
EOF
IFA=$(uniq_iface wgs)
IFB=$(uniq_iface wps)
wg_keypair KA PUBA
wgp_keypair KB PUBB
write_key "$NL_TMP/$IFA.key" "$KA"
peer_conf "$NL_TMP/$IFB.conf" "$KB" 51821 10.0.0.2/24 "$PUBA" 10.0.0.1/32
wgp_up PID_B "$NS_B" "$NL_TMP/$IFB.conf"
wgo_start "$NS_A" "$IFA"
wgo_configure "$NS_A" "$IFA" "$NL_TMP/$IFA.key" 51820 10.0.0.1/24
ns_exec "$NS_A" wg set "$IFA" peer "$PUBB" allowed-ips 10.0.0.2/32 endpoint 198.51.100.2:51821

tunnel_both_ways "before moving"
expect_endpoint "$NS_B" "$IFB" "$PUBA" 198.51.100.1:51820 "wgpunch sees A at the NAT's address"

ip -n "$NS_R" addr add 198.51.100.3/24 dev b0
ip -n "$NS_R" addr del 198.51.100.1/24 dev b0
underlay_ok
tunnel_both_ways "the NAT's outside address changed to 198.51.100.3"
expect_endpoint "$NS_B" "$IFB" "$PUBA" 198.51.100.3:51820 "wgpunch followed the NAT rebinding"

ns_exec "$NS_A" wg set "$IFA" listen-port 51830
tunnel_both_ways "A's port changed to 51830"
expect_endpoint "$NS_B" "$IFB" "$PUBA" 198.51.100.3:51830 "wgpunch followed A's new port"

# Packets from elsewhere that are not A's, sent to B from R's address (R's own ports), must not
# move the endpoint, also where they get furthest: A's own data packets captured on B's link and
# replayed (they authenticate; only the replay window refuses them), and initiations with a
# VALID mac1 (B's public key is all that takes) and garbage inside, among the garbage of every
# other kind. Each is waited for in B's counters, then the endpoint is read.
spawn DUMP_PID "$NS_B" "$NL_TMP/tcpdump.log" tcpdump -i eth0 -n -U --immediate-mode -Z root -c 3 \
  -w "$NL_TMP/capture.pcap" udp and src host 198.51.100.3 and src port 51830
wait_for "tcpdump to listen" 10 grep -q "listening on" "$NL_TMP/tcpdump.log"
ns_exec "$NS_A" ping -n -q -c 5 -i 0.1 -W 1 10.0.0.2 >/dev/null || fail "pings A -> B lost"
wait_for "tcpdump to capture 3 of A's packets" 10 pid_gone "$DUMP_PID"
forget_pid "$DUMP_PID"
# b_counter NAME: B's status counter "  NAME: N", 0 when absent.
b_counter() {
  local v
  v=$(ns_exec "$NS_B" timeout 5 "$WGPUNCH" status "$IFB" | awk -v k="  $1" -F': ' '$1 == k {print $2; exit}')
  printf '%s' "${v:-0}"
}
# field NAME FILE: value of NAME=... in the attack tool's output.
field() { grep -oE "(^| )$1=[0-9]+" "$2" | head -n 1 | cut -d= -f2; }
counter_at_least() { (($(b_counter "$1") >= $2)); }
replayed0=$(b_counter "dropped replayed data")
failed0=$(b_counter "dropped handshake failed")
mac0=$(b_counter "dropped bad mac1")
ns_exec "$NS_R" timeout 30 "$ATTACK" replay --pcap "$NL_TMP/capture.pcap" --target 198.51.100.2:51821 \
  --type 4 >"$NL_TMP/replay.log" 2>&1 || fail "wgp_attack replay failed: $(cat "$NL_TMP/replay.log")"
replayed=$(field sent "$NL_TMP/replay.log")
((replayed > 0)) || fail "no data packet of A's in the capture to replay: $(cat "$NL_TMP/replay.log")"
ns_exec "$NS_R" timeout 30 "$ATTACK" garbage --target 198.51.100.2:51821 --count 64 --pubkey "$PUBB" \
  >"$NL_TMP/garbage.log" 2>&1 || fail "wgp_attack garbage failed: $(cat "$NL_TMP/garbage.log")"
valid_mac1=$(field kind_valid_mac1_initiation "$NL_TMP/garbage.log")
((valid_mac1 > 0)) || fail "the garbage held no initiation with a valid mac1: $(cat "$NL_TMP/garbage.log")"
wait_for "B to refuse the $replayed replayed data packets" 10 \
  counter_at_least "dropped replayed data" $((replayed0 + replayed))
wait_for "B to fail the $valid_mac1 valid-mac1 initiations in the handshake" 10 \
  counter_at_least "dropped handshake failed" $((failed0 + valid_mac1))
wait_for "B to drop the garbage with a bad mac1" 10 counter_at_least "dropped bad mac1" $((mac0 + 1))
log "ok: B refused $replayed replayed data packets of A's, $valid_mac1 valid-mac1 initiations and" \
  "the rest of $(field sent "$NL_TMP/garbage.log") garbage datagrams from R's address"
pid_alive "$PID_B" || fail "wgpunch died on forged packets"
expect_endpoint "$NS_B" "$IFB" "$PUBA" 198.51.100.3:51830 "forged packets did not move the endpoint"
expect_ping "$NS_B" 10.0.0.1 "tunnel still up after forged packets"
wgp_stop "$PID_B" "$NS_B" "$IFB"
log "PASS: roaming, wgpunch as the roamer and as the follower"
