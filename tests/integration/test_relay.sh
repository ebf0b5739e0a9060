#!/usr/bin/env bash
# The registry's relay (issue 11, DESIGN.md §9): Bob behind a symmetric NAT (`masquerade
# random`), so no direct path exists; the registry has `Relay = yes`.
#   1. Alice and Bob start at once: Alice's first ping reply from Bob comes through the relay
#      (time printed, bounded); both show `path: relay via <registry key>`; a full-size inner
#      packet (1420 bytes, DF) crosses; a 64 MiB TCP transfer Alice -> Bob is intact (SHA-256)
#      while tcpdump on the registry's link sees no IP fragment; the registry counts the
#      relayed bytes and its own TUN carried none of them (it cannot read them).
#   2. Bob's NAT becomes port-restricted (its nft rule swapped, its mappings flushed, as a NAT
#      that reboots into the other mode): with a slow TCP transfer in flight, the path moves to
#      direct within one discovery Interval (one log line each way; `wgpunch ping` running
#      across it prints the change), NAT to NAT on the router's counters, and the transfer
#      arrives intact. Before that, `wgpunch ping` shows each reply's path: the relay.
# Usage: bash test_relay.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack socat sha256sum tcpdump timeout head
nl_init relay
INTERVAL=5
FIRST_BOUND=5

nat_topology cone symmetric
punch_keys
punch_configs no "$INTERVAL" yes

# path_of NS IFACE PEER: the "path" line of PEER in `wgpunch status`.
path_of() { status_field "$1" "$2" "path" "$3"; }

log "=== 1. Bob behind a symmetric NAT: the first packet goes through the relay"
punch_up_registry
T0=$(now_ms)
punch_up_peers
# The bound counts from both nodes up (their control sockets exist): starting a process on a
# loaded machine, or under the sanitizers, takes a time of its own that is no part of the goal.
T_UP=$(now_ms)
ns_exec "$NS_ALICE" ping -n -q -i 0.05 -c 1 -w "$FIRST_BOUND" "$BOB_TUN" >/dev/null 2>&1 ||
  fail "no ping reply Alice -> Bob through the relay within ${FIRST_BOUND}s of both being up"
log "TIMING: first ping reply Alice -> Bob through the relay $(($(now_ms) - T_UP)) ms after both" \
  "were up ($(($(now_ms) - T0)) ms after the peers were started)"
for who in "$NS_ALICE $IF_ALICE $PUB_BOB" "$NS_BOB $IF_BOB $PUB_ALICE"; do
  read -r ns ifc peer <<<"$who"
  p=$(path_of "$ns" "$ifc" "$peer")
  [[ $p == "relay via $PUB_REG" ]] || fail "$ifc: path to $peer is '$p', expected 'relay via $PUB_REG'"
done
json=$(ns_exec "$NS_ALICE" "$WGPUNCH" status "$IF_ALICE" --json)
grep -q '"path":"relay"' <<<"$json" || fail "status --json has no \"path\":\"relay\": $json"
log "ok: both ends show path: relay via the registry (text and --json)"
out=$(ns_exec "$NS_ALICE" timeout 10 "$WGPUNCH" ping -c 3 -i 0.2 "$PUB_BOB" 2>&1) || fail "wgpunch ping Bob failed: $out"
grep -q "path=relay via $PUB_REG" <<<"$out" || fail "wgpunch ping does not show the relay path: $out"
log "ok: wgpunch ping: $(head -n 1 <<<"$out")"

# A full-size packet: 1392 bytes of ICMP payload + 28 = the 1420-byte MTU, never fragmented.
ns_exec "$NS_ALICE" ping -n -q -c 3 -i 0.2 -W 2 -M do -s 1392 "$BOB_TUN" >/dev/null 2>&1 ||
  fail "a full-size (1420-byte, DF) packet does not cross the relay"
log "ok: 1420-byte packets with DF cross the relay"

# 64 MiB through the relay; tcpdump on the registry's link keeps IP fragments, and the headers
# of full-size UDP packets to show that it saw the relayed traffic at all (it must drop none).
head -c $((64 << 20)) /dev/urandom >"$NL_TMP/64m"
FRAGMENT='ip[6:2] & 0x3fff != 0'
SAMPLE='udp and greater 1400'
# -Z root: tcpdump must not drop to its own user, which cannot write into the 0700 temp dir.
spawn PID_DUMP "$NS_REG" "$NL_TMP/tcpdump.log" timeout 120 tcpdump -i eth0 -n -U --immediate-mode \
  -Z root -s 96 -w "$NL_TMP/frag.pcap" "$FRAGMENT or ($SAMPLE)"
wait_for "tcpdump to listen on the registry's link" 10 grep -q "listening on" "$NL_TMP/tcpdump.log"
relayed0=$(status_field "$NS_REG" "$IF_REG" "registry relayed bytes")
tun_rx0=$(ip -n "$NS_REG" -s link show "$IF_REG" | awk '/RX:/ {getline; print $1}')
tcp_transfer "$NS_ALICE" "$NS_BOB" "$BOB_TUN" 5201 "64 MiB Alice -> Bob through the relay" "$NL_TMP/64m"
stop_pid "$PID_DUMP" 5
forget_pid "$PID_DUMP"
[[ -s $NL_TMP/frag.pcap ]] || fail "tcpdump wrote no capture: $(cat "$NL_TMP/tcpdump.log")"
grep -q "^0 packets dropped by kernel" "$NL_TMP/tcpdump.log" ||
  fail "tcpdump missed packets on the registry's link: $(grep dropped "$NL_TMP/tcpdump.log" | tr '\n' ' ')"
frags=$(ns_exec "$NS_REG" tcpdump -r "$NL_TMP/frag.pcap" -n "$FRAGMENT" 2>/dev/null | wc -l)
full=$(ns_exec "$NS_REG" tcpdump -r "$NL_TMP/frag.pcap" -n "$SAMPLE" 2>/dev/null | wc -l)
((full > 0)) || fail "tcpdump saw no full-size datagram on the registry's link: it did not watch the transfer"
((frags == 0)) || fail "$frags IP fragments on the registry's link during the relayed transfer"
relayed=$(($(status_field "$NS_REG" "$IF_REG" "registry relayed bytes") - relayed0))
((relayed > 64 << 20)) || fail "the registry counts only $relayed relayed bytes for a 64 MiB transfer"
tun_rx=$(($(ip -n "$NS_REG" -s link show "$IF_REG" | awk '/RX:/ {getline; print $1}') - tun_rx0))
((tun_rx < 1 << 20)) || fail "the registry's TUN received $tun_rx bytes: it read relayed traffic"
log "ok: no IP fragment on the registry's link (tcpdump kept $full full-size packets there, missed none);" \
  "it relayed $((relayed >> 20)) MiB and read none of it"

log "=== 2. Bob's NAT becomes port-restricted: the path moves to direct, the transfer survives"
# A slow transfer (40 chunks of 256 KiB, one every 0.25 s: about 10 s) in flight.
head -c $((256 << 10)) /dev/urandom >"$NL_TMP/chunk"
for _ in $(seq 40); do cat "$NL_TMP/chunk"; done >"$NL_TMP/slow"
want=$(sha256sum <"$NL_TMP/slow" | cut -d' ' -f1)
spawn PID_RECV "$NS_BOB" "$NL_TMP/slow-recv.log" socat -u TCP-LISTEN:5202,reuseaddr CREATE:"$NL_TMP/slow.got"
wait_for "receiver on 5202" 10 bash -c "ip netns exec '$NS_BOB' ss -Hltn 'sport = :5202' | grep -q LISTEN"
spawn PID_SEND "$NS_ALICE" "$NL_TMP/slow-send.log" timeout 60 bash -c \
  "for i in \$(seq 40); do cat '$NL_TMP/chunk'; sleep 0.25; done | socat -u - TCP:$BOB_TUN:5202"
# The change comes with the transfer in flight (its first chunks arrived) and after `wgpunch
# ping`, which prints a line when the relayed peer goes direct, got a reply through the relay.
got_bytes() { (($(stat -c %s "$NL_TMP/slow.got" 2>/dev/null || echo 0) >= $1)); }
wait_for "the slow transfer's first 512 KiB at Bob" 20 got_bytes $((512 << 10))
spawn PID_PING "$NS_ALICE" "$NL_TMP/wgpunch-ping.log" timeout 40 "$WGPUNCH" ping -c 150 -i 0.1 "$BOB_TUN"
wait_for "wgpunch ping's first reply through the relay" 10 grep -q "path=relay via $PUB_REG" "$NL_TMP/wgpunch-ping.log"
direct0=$(nat_counter direct_ab packets)
ns_exec "$NS_NAT_B" nft flush chain ip nat postrouting
ns_exec "$NS_NAT_B" nft add rule ip nat postrouting oifname '"wan"' masquerade
nat_flush "$NS_NAT_B"
T1=$(now_ms)
direct_path() { [[ $(path_of "$NS_ALICE" "$IF_ALICE" "$PUB_BOB") == direct ]]; }
wait_for "Alice's path to Bob to become direct" $((INTERVAL * 2 + 5)) direct_path
log "TIMING: path direct $(($(now_ms) - T1)) ms after Bob's NAT became port-restricted (Interval ${INTERVAL}s)"
bob_direct() { [[ $(path_of "$NS_BOB" "$IF_BOB" "$PUB_ALICE") == direct ]]; }
wait_for "Bob's path to Alice to become direct" 10 bob_direct
wait_for "wgpunch ping to see the path become direct" 20 grep -q "path changed: .* -> direct" "$NL_TMP/wgpunch-ping.log"
stop_pid "$PID_PING" 5
forget_pid "$PID_PING"
grep -q "path=relay via $PUB_REG" "$NL_TMP/wgpunch-ping.log" ||
  fail "wgpunch ping saw no reply through the relay before the change: $(head -n 3 "$NL_TMP/wgpunch-ping.log")"
log "ok: wgpunch ping: $(grep 'path changed' "$NL_TMP/wgpunch-ping.log" | head -n 1)"
wait_for "the slow transfer's sender to finish" 60 pid_gone "$PID_SEND"
wait "$PID_SEND" || fail "the slow transfer's sender failed (the path change broke the connection)"
forget_pid "$PID_SEND"
wait_for "the slow transfer's receiver to finish" 20 pid_gone "$PID_RECV"
forget_pid "$PID_RECV"
[[ $(sha256sum <"$NL_TMP/slow.got" | cut -d' ' -f1) == "$want" ]] ||
  fail "the transfer in flight arrived damaged across the path change"
((($(nat_counter direct_ab packets) - direct0) > 0)) || fail "no packet went NAT to NAT after the change"
grep -q "path to $PUB_BOB: direct" "${NL_WGP_LOG[$IF_ALICE]}" || fail "Alice logged no move to the direct path"
grep -q "path to $PUB_BOB: relay via $PUB_REG" "${NL_WGP_LOG[$IF_ALICE]}" ||
  fail "Alice logged no move to the relay path"
log "ok: the transfer in flight (10 MiB over 10 s) arrived intact across the move from relay to direct"

for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: a symmetric NAT gets its first packet through the relay, full-size and unfragmented; the path moves to direct when one exists"
