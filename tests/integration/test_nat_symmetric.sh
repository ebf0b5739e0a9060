#!/usr/bin/env bash
# Behind a symmetric NAT hole punching cannot work, and wgpunch must fail gracefully
# (DESIGN.md §8: a symmetric NAT is `masquerade random`). Bob's NAT gives every destination
# its own random port: the registry sees Bob at one port, Alice's packets to that port are
# unsolicited at NAT B, and Bob's packets reach NAT A from a port Alice never sent to, so
# her port-restricted NAT drops them too. Over a few punching rounds:
#   - every node stays up, and exits cleanly on SIGTERM;
#   - Alice keeps getting answers from the registry (discovery works, punching does not),
#     she keeps trying Bob where the registry published him, but that never becomes her
#     endpoint (no authenticated packet came from there), and no handshake with Bob ever
#     completes (the registry has no `Relay = yes` here; test_relay.sh runs this NAT with it);
#   - both NATs refused the punching packets (the NAT model is what it claims to be);
#   - the tunnels to the registry keep working;
#   - while packets keep waiting, Alice's search gives up after its bounded rounds (~90 s):
#     one log line, and `status` for Bob, say "no direct path ...; the registry offers no
#     relay" (Relay = no), and no log line ever claims a try "through registry".
# The test mostly waits for the search to give up, so CTest runs it beside others
# (WGPUNCH_WAITING_TESTS in CMakeLists.txt).
# Usage: bash test_nat_symmetric.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack base32 base64
nl_init natsym
# Long enough for three rounds of unanswered handshakes (5 s each) and rediscovery.
ROUNDS_SECONDS=16
# A search gives up after ~90 s (DiscoveryService::kMaxRounds); the bound has room.
GIVE_UP_BOUND=120

nat_topology cone symmetric
punch_keys
punch_configs no 10
punch_up_registry
punch_up_peers

log "=== Alice tries to reach Bob behind a symmetric NAT for ${ROUNDS_SECONDS}s"
if ns_exec "$NS_ALICE" ping -n -q -i 0.5 -c 1 -w "$ROUNDS_SECONDS" "$BOB_TUN" >/dev/null 2>&1; then
  fail "Alice reached Bob through a symmetric NAT: the NAT model or the registry is wrong"
fi
for p in "$PID_REG registry" "$PID_ALICE Alice" "$PID_BOB Bob"; do
  read -r pid who <<<"$p"
  pid_alive "$pid" || fail "$who's wgpunch died while punching failed"
done
hs=$(handshake_time "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")
[[ -z $hs || $hs == 0 ]] || fail "Alice shows a handshake with Bob behind a symmetric NAT"
answers=$(status_field "$NS_ALICE" "$IF_ALICE" "discovery answers")
((answers >= 2)) || fail "Alice got $answers discovery answers; she should keep asking"
ep=$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_BOB")
# What the registry published is only a candidate: Alice tries it, and without an
# authenticated answer from there it never becomes her endpoint for Bob.
trying=$(status_field "$NS_ALICE" "$IF_ALICE" "trying" "$PUB_BOB")
[[ $trying == *"$ep"* ]] || fail "Alice is not trying Bob where the registry published him ($ep): '$trying'"
[[ $(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB") == "(none)" ]] ||
  fail "Alice has an endpoint for Bob ($(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")) though he never answered"
((${ep##*:} != WG_PORT)) || log "note: NAT B happened to keep port $WG_PORT for the registry"
(($(nat_refused "$NS_NAT_A") > 0 && $(nat_refused "$NS_NAT_B") > 0)) ||
  fail "a NAT refused nothing: A $(nat_refused "$NS_NAT_A"), B $(nat_refused "$NS_NAT_B")"
log "ok: no crash, $answers discovery answers, no handshake with Bob; NATs refused" \
  "$(nat_refused "$NS_NAT_A") (A) and $(nat_refused "$NS_NAT_B") (B) punching packets"
expect_ping "$NS_ALICE" "$REG_TUN" "Alice's tunnel to the registry"
expect_ping "$NS_BOB" "$REG_TUN" "Bob's tunnel to the registry"

log "=== Alice keeps sending to Bob until her search gives up (at most ${GIVE_UP_BOUND}s)"
GIVE_UP="no direct path after 4 rounds; the registry offers no relay"
gave_up() { grep -q "giving up on peer $PUB_BOB for now: $GIVE_UP" "${NL_WGP_LOG[$IF_ALICE]}"; }
ns_exec "$NS_ALICE" ping -n -q -i 1 -w "$GIVE_UP_BOUND" "$BOB_TUN" >/dev/null 2>&1 &
PID_PING=$!
NL_PIDS+=("$PID_PING")
wait_for "Alice's search for Bob to give up" "$GIVE_UP_BOUND" gave_up
lines=$(grep -c "giving up on peer $PUB_BOB" "${NL_WGP_LOG[$IF_ALICE]}")
((lines == 1)) || fail "Alice logged $lines give-up lines for Bob"
why=$(status_field "$NS_ALICE" "$IF_ALICE" discovery "$PUB_BOB")
[[ $why == "gave up: $GIVE_UP" ]] || fail "Alice's status for Bob says '$why'"
for ifc in "$IF_ALICE" "$IF_BOB"; do
  ! grep -q "through registry" "${NL_WGP_LOG[$ifc]}" || fail "$ifc claims a try through the registry, which does not relay"
done
kill "$PID_PING" 2>/dev/null || true
log "ok: Alice gave up on Bob, once: status says '$why'"
for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: behind a symmetric NAT punching fails gracefully"
