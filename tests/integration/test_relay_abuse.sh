#!/usr/bin/env bash
# The relay under abuse (issue 17 items 1-3, DESIGN.md §9, src/wg/relay.h). The NAT topology
# with Bob behind a symmetric NAT, so Alice and Bob talk through the registry (Relay = yes), and
# on the registry's link Carol: wgp_relay_peer, a real peer of the registry with a session from
# its own socket, which looks peers up in the tunnel (what entitles a pair to the relay) and
# then abuses what that gives it.
#   1. A relay flood: 40 more peers of the registry handshake with it (one wgp_relay_peer each)
#      and Carol looks all of them up; then 5,000 initiations with a bad mac1 from Carol's
#      confirmed endpoint. The registry computes at most 9 keyed BLAKE2s per datagram it took
#      in (counted by an LD_PRELOAD shim, tests/tools/mac_count.c: a count, not a time), and
#      Alice still reaches Bob through it.
#   2. An index takeover: Carol, permitted to Bob, sends an initiation for Bob that reuses the
#      index Bob's traffic for Alice carries (read off the registry's link): Alice's pings to
#      Bob keep getting their replies, and the registry counts the refusal.
#   3. A relayed handshake flood against a second pair: Carol floods Bob through the relay with
#      real initiations (valid mac1, and mac2 from the cookie Bob sends once under load), all
#      from the registry's address at Bob; meanwhile Alice restarts and must reach Bob through
#      the relay (her initiation to Bob comes from the registry's address too), and the
#      registry must complete a handshake it initiates with Bob (its own rekey).
# Usage: bash test_relay_abuse.sh /path/to/wgpunch   (wgp_relay_peer is looked for beside it;
# WGP_RELAY_PEER=/path overrides, e.g. to attack an older build)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"
source "$HERE/../../scripts/lib/mac_count.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
RELAY_PEER=${WGP_RELAY_PEER:-$(dirname "$WGPUNCH")/wgp_relay_peer}
[[ -x $RELAY_PEER ]] || fail "$RELAY_PEER not built (cmake --build ... --target wgp_relay_peer)"
require_tools wg ip ping awk nft conntrack tcpdump timeout cc od ldd python3
nl_init rabuse
CAROL_IP=203.0.113.7
CAROL_TUN=10.0.0.3
CROWD=40
MAX_MACS=9  # Relay::kPartnersTried + our own mac1 check

nat_topology cone symmetric
nat_public_host NS_CAROL "$CAROL_IP"
punch_keys
punch_configs no 5 yes
wgp_keypair KEY_CAROL PUB_CAROL
printf '\n[Peer]\n# carol\nPublicKey = %s\nAllowedIPs = %s/32\n' "$PUB_CAROL" "$CAROL_TUN" >>"$CONF_REG"
: >"$NL_TMP/crowd-keys.txt"
for ((i = 1; i <= CROWD; i++)); do
  wgp_keypair k p
  echo "$k $p" >>"$NL_TMP/crowd-keys.txt"
  printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.1.%d/32\n' "$p" "$i" >>"$CONF_REG"
done
echo "$PUB_BOB" >"$NL_TMP/bob-key.txt"

# The registry runs with the MAC counting shim preloaded (the same PID: the wrapper execs).
REAL_WGPUNCH=$WGPUNCH
mac_count_wrapper WGPUNCH "$REAL_WGPUNCH"
punch_up_registry
WGPUNCH=$REAL_WGPUNCH
punch_up_peers
path_of() { status_field "$1" "$2" "path" "$3"; }
relayed() { [[ $(path_of "$NS_ALICE" "$IF_ALICE" "$PUB_BOB") == "relay via $PUB_REG" ]]; }
ping_ok "$NS_ALICE" "$BOB_TUN" 10 || fail "no ping Alice -> Bob through the relay"
wait_for "Alice's path to Bob through the relay" 10 relayed
log "ok: Alice and Bob talk through the registry"

# peer_tool ARGS...: wgp_relay_peer as a peer of the registry, from Carol's host.
peer_tool() {
  ns_exec "$NS_CAROL" timeout 90 "$RELAY_PEER" --registry "$REG_IP:$WG_PORT" --registry-key "$PUB_REG" \
    --registry-tunnel-ip "$REG_TUN" --zone "$ZONE" "$@"
}
carol() { peer_tool --key "$KEY_CAROL" --tunnel-ip "$CAROL_TUN" --bind-port 40404 "$@"; }
# reg_dropped: the registry's drop counters summed (every datagram of a flood ends in one).
reg_dropped() {
  ns_exec "$NS_REG" "$WGPUNCH" status "$IF_REG" | awk -F': ' '/^ *dropped / {s += $2} END {print s + 0}'
}
reg_count() { ns_exec "$NS_REG" "$WGPUNCH" status "$IF_REG" | awk -F': ' -v f="$1" '$1 ~ "^ *" f "$" {v = $2} END {print v + 0}'; }

log "=== 1. a flood of bad initiations from a peer that looked up $CROWD others"
i=0
while read -r k _; do
  i=$((i + 1))
  out=$(peer_tool --key "$k" --tunnel-ip "10.0.1.$i") || fail "crowd peer $i: no handshake: $out"
done <"$NL_TMP/crowd-keys.txt"
out=$(carol --lookup-keys "$NL_TMP/crowd-keys.txt") || fail "Carol's lookups failed: $out"
grep -q "answers=$CROWD" <<<"$out" || fail "Carol's lookups were not all answered: $out"
m0=$(mac_count) d0=$(reg_dropped)
out=$(carol --flood-to none --mac1 bad --count 5000 --rate 5000) || fail "Carol's flood failed: $out"
settled() {
  local a
  a=$(reg_dropped)
  sleep 0.5
  [[ $a == "$(reg_dropped)" ]]
}
wait_for "the registry to take in the flood" 30 settled
taken=$(($(reg_dropped) - d0)) spent=$(($(mac_count) - m0))
((taken > 1000)) || fail "the registry took in only $taken of 5,000 datagrams"
per=$(awk -v m="$spent" -v n="$taken" 'BEGIN {printf "%.2f", m / n}')
log "MACS: $spent keyed BLAKE2s for $taken datagrams: $per per datagram (Carol looked up $CROWD peers)"
# Each datagram costs at least our own mac1 check: fewer means the shim did not count.
((spent >= taken)) || fail "the shim counted $spent MACs for $taken datagrams: not preloaded?"
awk -v p="$per" -v b="$MAX_MACS" 'BEGIN {exit !(p <= b)}' ||
  fail "the registry spent $per MACs per relayed initiation, more than $MAX_MACS"
ping_ok "$NS_ALICE" "$BOB_TUN" 5 || fail "Alice no longer reaches Bob through the relay after the flood"
log "ok: at most $MAX_MACS MACs per datagram; the relay still carries Alice and Bob"

log "=== 2. Carol takes Alice's index to steer Bob's traffic for Alice to herself"
# The index Bob's replies to Alice carry: type-4 datagrams of one ping reply's size
# (84-byte ICMP packet, padded to 96: 128 bytes) from the registry to NAT A.
spawn PID_DUMP "$NS_REG" "$NL_TMP/tcpdump.log" timeout 20 tcpdump -i eth0 -n -U --immediate-mode \
  -w "$NL_TMP/relay.pcap" "udp and src port $WG_PORT and dst host $NAT_A_OUT"
wait_for "tcpdump on the registry's link" 5 grep -q "listening on" "$NL_TMP/tcpdump.log"
ns_exec "$NS_ALICE" ping -n -q -c 10 -i 0.1 -W 1 "$BOB_TUN" >/dev/null 2>&1 || true
stop_pid "$PID_DUMP" 5
forget_pid "$PID_DUMP"
ALICE_INDEX=$(python3 - "$NL_TMP/relay.pcap" <<'EOF'
import struct, sys, collections
data = open(sys.argv[1], 'rb').read()
seen = collections.Counter()
at = 24
while at + 16 <= len(data):
    incl = struct.unpack_from('<I', data, at + 8)[0]
    frame = data[at + 16:at + 16 + incl]
    at += 16 + incl
    ihl = (frame[14] & 15) * 4
    udp = frame[14 + ihl + 8:]
    if len(udp) == 128 and udp[:4] == b'\x04\x00\x00\x00':
        seen[struct.unpack_from('<I', udp, 4)[0]] += 1
print('%08x' % seen.most_common(1)[0][0] if seen else '')
EOF
)
[[ -n $ALICE_INDEX ]] || fail "no relayed ping reply to Alice seen on the registry's link"
refused0=$(reg_count "dropped relay refused")
out=$(carol --lookup-keys "$NL_TMP/bob-key.txt" --takeover-index "$ALICE_INDEX" --to "$PUB_BOB" --hold 3) ||
  fail "Carol's takeover attempt failed to run: $out"
replies=$({ ns_exec "$NS_ALICE" ping -n -c 10 -i 0.2 -W 1 "$BOB_TUN" 2>/dev/null || true; } |
  awk '/packets transmitted/ {print $4}')  # ping fails when no reply came: the check says so
log "index $ALICE_INDEX: Carol $(tr '\n' ' ' <<<"$out"); Alice's pings answered: ${replies:-0}/10"
((${replies:-0} >= 8)) || fail "Carol took Alice's index: only ${replies:-0} of 10 pings answered"
(($(reg_count "dropped relay refused") > ${refused0:-0})) ||
  fail "the registry counts no refused relay datagram for the takeover"
log "ok: Alice's index stays hers; the takeover was refused"

log "=== 3. Carol floods Bob through the relay; Alice restarts, and the registry handshakes with Bob anew"
# Every relayed initiation reaches Bob from the registry's address, so Carol's flood and Alice's
# relayed handshake (and the registry's own with Bob) share Bob's per-source bucket (20/s).
spawn PID_FLOOD "$NS_CAROL" "$NL_TMP/flood.log" timeout 90 "$RELAY_PEER" --registry "$REG_IP:$WG_PORT" \
  --registry-key "$PUB_REG" --registry-tunnel-ip "$REG_TUN" --zone "$ZONE" --key "$KEY_CAROL" \
  --tunnel-ip "$CAROL_TUN" --bind-port 40404 --lookup-keys "$NL_TMP/bob-key.txt" \
  --flood-to "$PUB_BOB" --mac1 valid --cookies yes --count 150000 --rate 3000
wait_for "Carol's flood to start" 20 grep -q "^lookups=1 " "$NL_TMP/flood.log"
# Alice's restart: a new handshake of hers with the registry, then a relayed one that Bob answers.
wgp_stop "$PID_ALICE" "$NS_ALICE" "$IF_ALICE"
T0=$(now_ms)
wgp_up PID_ALICE "$NS_ALICE" "$CONF_ALICE"
ping_ok "$NS_ALICE" "$BOB_TUN" 20 || fail "under Carol's flood, Alice did not reach Bob through the relay in 20 s"
log "TIMING: Alice reaches Bob through the relay $(($(now_ms) - T0)) ms after her restart (a cookie round from the loaded registry included)"
# The registry's own handshake with Bob, initiated by the registry: Bob's peer made anew there
# (at the endpoint it had), with a keepalive that needs a session.
BOB_EP=$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_BOB")
[[ -n $BOB_EP && $BOB_EP != "(none)" ]] || fail "the registry has no endpoint for Bob"
ns_exec "$NS_REG" wg set "$IF_REG" peer "$PUB_BOB" remove || fail "wg set ... remove failed"
T0=$(now_ms)
ns_exec "$NS_REG" wg set "$IF_REG" peer "$PUB_BOB" allowed-ips "$BOB_TUN/32" endpoint "$BOB_EP" \
  persistent-keepalive 1 || fail "wg set ... endpoint $BOB_EP failed"
registry_bob() { (($(handshake_time "$NS_REG" "$IF_REG" "$PUB_BOB") > 0)); }
try_for 20 registry_bob || fail "under Carol's flood, the registry's handshake with Bob did not complete in 20 s"
log "TIMING: the registry's own handshake with Bob $(($(now_ms) - T0)) ms after it began"
pid_alive "$PID_FLOOD" || fail "the flood ended before the checks: $(cat "$NL_TMP/flood.log")"
limited=$(reg_count "dropped relay rate limited")
stop_pid "$PID_FLOOD" 5
forget_pid "$PID_FLOOD"
log "ok: the registry kept Carol's flood to a few a second (${limited:-0} relayed initiations over budget)"

for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: the relay spends a bounded number of MACs per datagram, keeps each index to its pair, and keeps one peer's flood from cutting another pair or the registry off"
