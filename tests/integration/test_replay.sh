#!/usr/bin/env bash
# Replays and forgery (issue 5, item 4): real packets captured on B's link, sent again by an
# attacker C from another address. A and B are wgpunch nodes on 192.0.2.0/24; C sits on B's
# second link (198.51.100.0/24) and cannot reach A. B has no endpoint configured for A, so
# A's endpoint on B is whatever B learnt from authenticated packets: the thing a replay from
# C would like to move.
#   capture: tcpdump in B's namespace (-w, on B's veth to A) records A's handshake
#            initiation and A's data packets (pings through the tunnel), then stops.
#   (a) every captured data packet from A, replayed from C: B authenticates them and the
#       window rejects each one (`dropped replayed data` grows by exactly that many); no
#       answer reaches C; B's endpoint for A stays 192.0.2.1:51820.
#   (b) A's captured initiation (same TAI64N timestamp), replayed from C: ignored
#       (`dropped replayed handshake` +1), no response to C within 1 s, endpoint unchanged,
#       no new handshake on B.
#   (c) forged data (a captured packet with a bit flipped in the tag, and one in the
#       counter) from C: `dropped decrypt failed` grows by that many, endpoint unchanged.
#   (d) everything captured, both directions, replayed from C: no answer, endpoint unchanged.
#   Then the tunnel still works both ways (B -> A too: B still sends to A's real address).
# Usage: bash test_replay.sh /path/to/wgpunch   (wgp_attack is looked for beside it)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
ATTACK=$(dirname "$WGPUNCH")/wgp_attack
[[ -x $ATTACK ]] || fail "attack tool $ATTACK not built (cmake --build ... --target wgp_attack)"
require_tools wg ip ping awk tcpdump timeout
nl_init replay

ns_create NS_A
ns_create NS_B
ns_create NS_C  # the attacker, on B's second link only
veth_link "$NS_A" eth0 "192.0.2.1/24" "$NS_B" eth0 "192.0.2.2/24"
veth_link "$NS_C" eth0 "198.51.100.66/24" "$NS_B" eth1 "198.51.100.1/24"
B_WG=198.51.100.1:51820  # B's WireGuard port as C sees it
A_EP=192.0.2.1:51820     # A as B must keep seeing it

IFA=$(uniq_iface wra)
IFB=$(uniq_iface wrb)
wgp_keypair KA PUBA
wgp_keypair KB PUBB
write_conf "$NL_TMP/$IFA.conf" <<EOF
[Interface]
PrivateKey = $KA
ListenPort = 51820
Address = 10.8.0.1/24

[Peer]
PublicKey = $PUBB
AllowedIPs = 10.8.0.2/32
Endpoint = 192.0.2.2:51820
EOF
write_conf "$NL_TMP/$IFB.conf" <<EOF
[Interface]
PrivateKey = $KB
ListenPort = 51820
Address = 10.8.0.2/24

[Peer]
PublicKey = $PUBA
AllowedIPs = 10.8.0.1/32
EOF

# counter NAME: B's status counter "  NAME: N" (words as status prints them), 0 when absent.
counter() {
  local v
  v=$(ns_exec "$NS_B" timeout 5 "$WGPUNCH" status "$IFB" |
    awk -v k="  $1" -F': ' '$1 == k {print $2; exit}') || fail "wgpunch status $IFB failed"
  printf '%s' "${v:-0}"
}

# field NAME FILE: value of NAME=... in the attack tool's output.
field() { grep -oE "(^| )$1=[0-9]+" "$2" | head -n 1 | cut -d= -f2; }

# endpoint_unchanged WHAT: B still has A at its real address.
endpoint_unchanged() {
  local ep
  ep=$(peer_endpoint "$NS_B" "$IFB" "$PUBA")
  [[ $ep == "$A_EP" ]] || fail "$1: B's endpoint for A moved to '$ep' (expected $A_EP)"
  ep=$(ns_exec "$NS_B" "$WGPUNCH" status "$IFB" | awk '$1 == "endpoint:" {print $2; exit}')
  [[ $ep == "$A_EP" ]] || fail "$1: wgpunch status shows A's endpoint '$ep' (expected $A_EP)"
  log "ok: $1: B's endpoint for A is still $A_EP"
}

# replay NAME ARGS...: wgp_attack replay from C against B with the capture; output in
# $NL_TMP/NAME.log. Fails unless it matched and sent at least one packet.
replay() {
  local name=$1
  shift
  ns_exec "$NS_C" timeout 30 "$ATTACK" replay --pcap "$NL_TMP/capture.pcap" --target "$B_WG" \
    --from-ip 192.0.2.1 --from-port 51820 --listen-ms 1000 "$@" >"$NL_TMP/$name.log" 2>&1 ||
    fail "wgp_attack replay ($name) failed: $(cat "$NL_TMP/$name.log")"
  log "$name: $(tail -n 1 "$NL_TMP/$name.log")"
  local sent
  sent=$(field sent "$NL_TMP/$name.log")
  ((sent > 0)) || fail "$name: nothing in the capture matched ($(tail -n 1 "$NL_TMP/$name.log"))"
}

# no_answer NAME: the attacker heard nothing back during the replay and the second after it.
no_answer() {
  local r
  r=$(field replies "$NL_TMP/$1.log")
  ((r == 0)) || fail "$1: B sent $r datagram(s) back to the attacker C"
  log "ok: $1: B sent nothing to C"
}

log "=== capture A's handshake and data on B's link"
# -Z root: tcpdump must not drop to its own user, which cannot write into the 0700 temp dir.
# --immediate-mode: without it packets wait in a kernel ring block (up to a second) and are
# lost when tcpdump is stopped.
spawn DUMP_PID "$NS_B" "$NL_TMP/tcpdump.log" tcpdump -i eth0 -n -U --immediate-mode -Z root \
  -w "$NL_TMP/capture.pcap" udp port 51820
wait_for "tcpdump to listen" 10 grep -q "listening on" "$NL_TMP/tcpdump.log"
wgp_up PID_B "$NS_B" "$NL_TMP/$IFB.conf"
wgp_up PID_A "$NS_A" "$NL_TMP/$IFA.conf"
expect_ping "$NS_A" 10.8.0.2 "tunnel up (handshake captured)"
ns_exec "$NS_A" ping -n -q -c 10 -i 0.05 -W 1 10.8.0.2 >/dev/null || fail "pings A -> B lost"
sleep 0.3
stop_pid "$DUMP_PID" 5
forget_pid "$DUMP_PID"
[[ -s $NL_TMP/capture.pcap ]] || fail "tcpdump wrote no capture: $(cat "$NL_TMP/tcpdump.log")"
log "captured: $(grep -E 'packets? captured' "$NL_TMP/tcpdump.log" || echo '?')"
endpoint_unchanged "before the attack"
HS0=$(handshake_time "$NS_B" "$IFB" "$PUBA")
((HS0 > 0)) || fail "B shows no handshake with A"

log "=== (a) A's data packets replayed from C"
before=$(counter "dropped replayed data")
replay data --type 4
sent=$(field sent "$NL_TMP/data.log")
((sent >= 11)) || fail "(a) only $sent data packets of A were captured, expected at least 11 pings"
got=$(($(counter "dropped replayed data") - before))
((got == sent)) || fail "(a) 'dropped replayed data' grew by $got for $sent replayed data packets"
log "ok: (a) all $sent replayed data packets rejected by the replay window"
no_answer data
endpoint_unchanged "(a) after replayed data"

log "=== (b) A's initiation replayed from C (same TAI64N timestamp)"
before=$(counter "dropped replayed handshake")
replay init --type 1 --limit 1
got=$(($(counter "dropped replayed handshake") - before))
((got == 1)) || fail "(b) 'dropped replayed handshake' grew by $got for one replayed initiation"
(($(field responses "$NL_TMP/init.log") == 0)) || fail "(b) B answered the replayed initiation"
no_answer init
endpoint_unchanged "(b) after the replayed initiation"
HS1=$(handshake_time "$NS_B" "$IFB" "$PUBA")
[[ $HS1 == "$HS0" ]] || fail "(b) B's latest handshake with A changed ($HS0 -> $HS1) after a replay"

log "=== (c) forged data packets from C"
before=$(counter "dropped decrypt failed")
replay forged-tag --type 4 --flip -1
replay forged-counter --type 4 --flip 8 --limit 1
want=$(($(field sent "$NL_TMP/forged-tag.log") + $(field sent "$NL_TMP/forged-counter.log")))
got=$(($(counter "dropped decrypt failed") - before))
((got == want)) || fail "(c) 'dropped decrypt failed' grew by $got for $want forged packets"
log "ok: (c) $want forged data packets failed authentication"
no_answer forged-tag
no_answer forged-counter
endpoint_unchanged "(c) after forged data"

log "=== (d) the whole capture, both directions, replayed from C"
ns_exec "$NS_C" timeout 30 "$ATTACK" replay --pcap "$NL_TMP/capture.pcap" --target "$B_WG" \
  --listen-ms 1000 >"$NL_TMP/all.log" 2>&1 || fail "wgp_attack replay (all) failed: $(cat "$NL_TMP/all.log")"
log "all: $(tail -n 1 "$NL_TMP/all.log")"
(($(field sent "$NL_TMP/all.log") == $(field captured "$NL_TMP/all.log"))) ||
  fail "(d) not every captured datagram was replayed: $(tail -n 1 "$NL_TMP/all.log")"
no_answer all
endpoint_unchanged "(d) after replaying everything"
HS1=$(handshake_time "$NS_B" "$IFB" "$PUBA")
[[ $HS1 == "$HS0" ]] || fail "(d) B's latest handshake with A changed ($HS0 -> $HS1) after a replay"

log "=== the tunnel still works both ways"
pid_alive "$PID_B" || fail "wgpunch B died during the replays"
expect_ping "$NS_A" 10.8.0.2 "A -> B after the replays"
expect_ping "$NS_B" 10.8.0.1 "B -> A after the replays (B still sends to A's real address)"
endpoint_unchanged "after the final pings"
wgp_stop "$PID_A" "$NS_A" "$IFA"
wgp_stop "$PID_B" "$NS_B" "$IFB"
log "PASS: replayed data and initiation, forged data: rejected, counted, endpoint never moved"
