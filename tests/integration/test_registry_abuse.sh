#!/usr/bin/env bash
# The registry's control plane under abuse (issue 17 items 4 and 5, DESIGN.md §4, §9, §10). The
# NAT topology; on the registry's link a listed Secondary's host (nothing listens there), an
# attacker with raw sockets, a third host H, and Mallory: wgp_relay_peer, a real peer of the
# registry (a session from its own socket) that Alice has as a peer too.
#   1. 200 plain queries SPOOFED from the Secondary's address (a port of the attacker's
#      choosing): what the registry sends that host stays within the per-address budget (20
#      a second, bursts of 20), counted where it arrives.
#   2. Mallory registers as its candidates 127.0.0.1, Alice's own LAN address, the registry's
#      own address and H's, and never answers Alice, who keeps looking it up (Interval 5 s):
#      the registry refuses loopback and its own (counted), Alice sends nothing to her loopback or
#      her own address and the registry's gets nothing, and H gets a probe per discovery
#      round at most (counted at H, over 25 s).
# Usage: bash test_registry_abuse.sh /path/to/wgpunch   (wgp_attack and wgp_relay_peer are
# looked for beside it; WGP_ATTACK and WGP_RELAY_PEER override, e.g. to attack an older build)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
ATTACK=${WGP_ATTACK:-$(dirname "$WGPUNCH")/wgp_attack}
RELAY_PEER=${WGP_RELAY_PEER:-$(dirname "$WGPUNCH")/wgp_relay_peer}
[[ -x $ATTACK && -x $RELAY_PEER ]] || fail "wgp_attack or wgp_relay_peer not built beside $WGPUNCH"
require_tools wg ip ping awk nft conntrack timeout
nl_init rgabuse
SECONDARY_IP=203.0.113.9
ATTACKER_IP=203.0.113.66
H_IP=203.0.113.8
MALLORY_IP=203.0.113.7
MALLORY_TUN=10.0.0.5
CPORT=7777     # the port Mallory registers with its candidates
WATCH=25       # seconds Alice keeps trying Mallory
INTERVAL=5

nat_topology cone cone
nat_public_host NS_SECONDARY "$SECONDARY_IP"
nat_public_host NS_ATTACKER "$ATTACKER_IP"
nat_public_host NS_H "$H_IP"
nat_public_host NS_MALLORY "$MALLORY_IP"
punch_keys
punch_configs no "$INTERVAL"
wgp_keypair KEY_MALLORY PUB_MALLORY
sed -i "/^Public = /a Secondary = $SECONDARY_IP" "$CONF_REG"
printf '\n[Peer]\n# mallory\nPublicKey = %s\nAllowedIPs = %s/32\n' "$PUB_MALLORY" "$MALLORY_TUN" >>"$CONF_REG"
printf '\n[Peer]\n# mallory, found through the registry\nPublicKey = %s\nAllowedIPs = %s/32\n' \
  "$PUB_MALLORY" "$MALLORY_TUN" >>"$CONF_ALICE"

# counter NS NAME RULE: an nftables counter NAME in NS counting what RULE matches (input or
# output hook as RULE's first word says); counted NS NAME: its packets.
counter() {
  local ns=$1 name=$2 hook=$3
  shift 3
  ns_exec "$ns" nft -f - <<EOF || fail "cannot install counter $name in $ns"
table inet watch_$name {
  counter $name { }
  chain c {
    type filter hook $hook priority filter; policy accept;
    $* counter name $name
  }
}
EOF
}
counted() {
  ns_exec "$1" nft list counter inet "watch_$2" "$2" | awk '{ for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}
counter "$NS_SECONDARY" answers input udp sport "$WG_PORT" udp dport 4444
counter "$NS_H" probes input udp dport "$CPORT"
counter "$NS_REG" own input udp dport "$CPORT"
counter "$NS_ALICE" loop output oifname lo udp dport "$CPORT"

punch_up_registry
reg_field() { status_field "$NS_REG" "$IF_REG" "$1"; }

log "=== 1. 200 queries spoofed from the Secondary's address, any port"
T0=$(now_ms)
out=$(ns_exec "$NS_ATTACKER" timeout 20 "$ATTACK" spoof-query --from "$SECONDARY_IP:4444" \
  --target "$REG_IP:$WG_PORT" --zone "$ZONE" --count 200 --gap-ms 1) || fail "wgp_attack spoof-query failed: $out"
took_ms=$(($(now_ms) - T0))
grep -q "sent=200 " <<<"$out" || fail "the attacker did not send 200 queries: $out"
got() { counted "$NS_SECONDARY" answers; }
answered=0
for ((i = 0; i < 20; i++)); do  # let the last answers arrive; the count only grows
  answered=$(got)
  sleep 0.1
  [[ $(got) == "$answered" ]] && break
done
budget=$((20 + 20 * (took_ms + 999) / 1000))
log "the Secondary's host got $answered answers to 200 spoofed queries in $took_ms ms (budget $budget)"
((answered <= budget)) || fail "the registry reflected $answered answers at the Secondary's address (budget $budget)"
((answered > 0)) || fail "no answer at all: the Secondary's own queries must still be answered"
log "ok: the per-address budget holds for a listed Secondary's address too"

log "=== 2. Mallory registers 127.0.0.1, Alice's own address, the registry's and H's"
spawn PID_MALLORY "$NS_MALLORY" "$NL_TMP/mallory.log" timeout $((WATCH + 30)) "$RELAY_PEER" \
  --registry "$REG_IP:$WG_PORT" --registry-key "$PUB_REG" --key "$KEY_MALLORY" --tunnel-ip "$MALLORY_TUN" \
  --registry-tunnel-ip "$REG_TUN" --zone "$ZONE" --bind-port 40405 \
  --register "127.0.0.1,$ALICE_LAN,$REG_IP,$H_IP" --register-port "$CPORT" --hold $((WATCH + 10))
wait_for "Mallory's registration" 10 grep -q "^register=" "$NL_TMP/mallory.log"
grep -q "^register=4 rcode=0" "$NL_TMP/mallory.log" ||
  fail "the registry did not take Mallory's UPDATE: $(cat "$NL_TMP/mallory.log")"
wgp_up PID_ALICE "$NS_ALICE" "$CONF_ALICE"
T0=$SECONDS
# Alice looks a peer up only while she has packets for it (issue 22): a ping a second to
# Mallory's tunnel address for the whole watch keeps her searching round after round.
spawn PID_NEED "$NS_ALICE" "$NL_TMP/ping-mallory.log" ping -n -i 1 -w $((WATCH + 5)) "$MALLORY_TUN"
trying() { [[ -n $(status_field "$NS_ALICE" "$IF_ALICE" "trying" "$PUB_MALLORY") ]]; }
wait_for "Alice to try Mallory" 10 trying
log "Alice tries Mallory at: $(status_field "$NS_ALICE" "$IF_ALICE" "trying" "$PUB_MALLORY")"
while ((SECONDS - T0 < WATCH)); do
  pid_alive "$PID_ALICE" || fail "Alice died"
  sleep 1
done
probes=$(counted "$NS_H" probes) loop=$(counted "$NS_ALICE" loop) own=$(counted "$NS_REG" own)
refused=$(reg_field "registry candidates refused")
bound=$((WATCH / INTERVAL + 2))
log "in ${WATCH}s: H got $probes initiations (bound $bound), Alice's loopback/own address $loop, the registry's $own; the registry refused ${refused:-0} candidates"
((loop == 0)) || fail "Alice sent $loop initiations to her loopback or her own address"
((own == 0)) || fail "the registry's own address got $own initiations meant for Mallory"
((${refused:-0} == 2)) || fail "the registry refused ${refused:-0} of Mallory's candidates, expected 2 (loopback, its own)"
((probes > 0)) || fail "H got no probe at all: the test saw no discovery"
((probes <= bound)) || fail "H got $probes initiations in ${WATCH}s: more than a probe per discovery round"
log "ok: nothing to loopback or our own addresses; a probe per round at most to a third host"

stop_pid "$PID_NEED" 2
forget_pid "$PID_NEED"
stop_pid "$PID_MALLORY" 5
forget_pid "$PID_MALLORY"
wgp_stop "$PID_ALICE" "$NS_ALICE" "$IF_ALICE"
wgp_stop "$PID_REG" "$NS_REG" "$IF_REG"
log "PASS: a listed Secondary's address gets no more than anyone's; a peer's candidates cannot aim us at loopback, ourselves, the registry or, beyond a probe a round, anyone"
