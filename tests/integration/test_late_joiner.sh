#!/usr/bin/env bash
# A node that joins later connects directly between two plain masquerade NATs, NATs without
# an input filter (issue 22, part 3; nat.sh's `plain`). There, a packet that reaches a NAT
# before its host sent anything to the sender leaves a connection-tracking entry behind, and
# the host's own packets to that sender then leave from another port, which the sender's NAT
# drops: a late joiner's first handshake used to do that to the other side's NAT, and both
# kept it so by retrying every 5 s. wgpunch opens its own NAT first (a hop-limited opener)
# and probes a moment later, on both sides.
#   1. The registry and Alice run; Bob starts 10 s later and pings Alice: the time from his
#      start to the first reply is printed (bounded); both endpoints are the NATs' own ports
#      (51820), the traffic goes NAT to NAT, and no early packet reached NAT A unsolicited.
#   2. Alice restarts (now she is the late one) and pings Bob: the same.
#   3. `wgpunch ping -c1` (as ping(8) takes it) works, and without -I it only picks an
#      interface of its own network namespace; -I with a peer the interface lacks says so.
# Usage: bash test_late_joiner.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack
nl_init late
JOIN_BOUND=10  # seconds from the late node's start to its first reply

nat_topology plain plain
punch_keys
punch_configs no 10
punch_up_registry

# unsolicited NATNS: packets from outside that reached the NAT box itself (plain NATs count
# them in refused_input without dropping them: each leaves an entry behind).
unsolicited() { ns_exec "$1" nft list counter ip filter refused_input | awk '$1 == "packets" {print $2}'; }

# late_join LATE_PID_VAR LATE_NS LATE_CONF LATE_IF OTHER_TUN OTHER_PUB OTHER_NAT_OUT EARLY_NAT_NS
late_join() {
  local var=$1 ns=$2 conf=$3 ifc=$4 other=$5 other_pub=$6 other_out=$7 nat=$8 t0 ms ep before
  before=$(unsolicited "$nat")
  t0=$(now_ms)
  wgp_up "$var" "$ns" "$conf"
  ns_exec "$ns" ping -n -q -i 0.1 -c 1 -w "$JOIN_BOUND" "$other" >/dev/null ||
    fail "$ifc got no reply from $other within ${JOIN_BOUND}s of starting"
  ms=$(($(now_ms) - t0))
  ep=$(peer_endpoint "$ns" "$ifc" "$other_pub")
  [[ $ep == "$other_out:$WG_PORT" ]] || fail "$ifc reaches $other at '$ep', not at $other_out:$WG_PORT"
  [[ $(status_field "$ns" "$ifc" path "$other_pub") == direct ]] || fail "$ifc: the path is not direct"
  (($(unsolicited "$nat") == before)) ||
    fail "$((($(unsolicited "$nat") - before))) packets reached the other NAT before its host sent"
  log "TIMING: late joiner $ifc: first reply $ms ms after its start, at $ep, direct"
}

log "=== 1. Alice runs; Bob joins 10 s later and pings her"
wgp_up PID_ALICE "$NS_ALICE" "$CONF_ALICE"
sleep 10  # Alice alone for a while: the state under test, not a wait for readiness
ab0=$(nat_counter direct_ab bytes)
late_join PID_BOB "$NS_BOB" "$CONF_BOB" "$IF_BOB" "$ALICE_TUN" "$PUB_ALICE" "$NAT_A_OUT" "$NS_NAT_A"
expect_ping "$NS_ALICE" "$BOB_TUN" "Alice -> Bob"
(($(nat_counter direct_ab bytes) > ab0)) || fail "nothing went from NAT A to NAT B directly"

log "=== 2. Alice restarts: now she is the late one, and pings Bob"
wgp_stop "$PID_ALICE" "$NS_ALICE" "$IF_ALICE"
# NAT A forgets Alice's old flows, as after a while; Bob's NAT keeps his.
nat_flush "$NS_NAT_A"
sleep 10
late_join PID_ALICE "$NS_ALICE" "$CONF_ALICE" "$IF_ALICE" "$BOB_TUN" "$PUB_BOB" "$NAT_B_OUT" "$NS_NAT_B"
expect_ping "$NS_BOB" "$ALICE_TUN" "Bob -> Alice"

log "=== wgpunch ping keeps to its own network namespace (-c1 as ping(8) takes it)"
out=$(ns_exec "$NS_ALICE" "$WGPUNCH" ping -c1 -W2 "$BOB_TUN" 2>&1) || fail "wgpunch ping -c1 Bob: $out"
[[ $out == "reply from $BOB_TUN ($PUB_BOB): seq=1 time="*" ms path=direct" ]] || fail "wgpunch ping -c1 Bob printed: $(printf "%q" "$out") (Bob is $PUB_BOB)"
# Alice's own address is a peer of Bob's interface (another namespace), not of hers.
rc=0
out=$(ns_exec "$NS_ALICE" "$WGPUNCH" ping -c1 "$ALICE_TUN" 2>&1) || rc=$?
[[ $rc == 2 && $out == "wgpunch ping: no interface running in this network namespace has a peer '$ALICE_TUN'"* ]] ||
  fail "wgpunch ping of a peer only another namespace's interface has: exit $rc, '$out'"
rc=0
out=$(ns_exec "$NS_ALICE" "$WGPUNCH" ping -c1 -I "$IF_ALICE" "$ALICE_TUN" 2>&1) || rc=$?
[[ $rc == 2 && $out == "wgpunch ping: interface $IF_ALICE has no peer '$ALICE_TUN'"* ]] ||
  fail "wgpunch ping -I $IF_ALICE of a peer it lacks: exit $rc, '$out'"
log "ok: wgpunch ping: $out"

for who in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$who"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: late joiners between plain masquerade NATs connect directly"
