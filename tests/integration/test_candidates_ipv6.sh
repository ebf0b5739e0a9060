#!/usr/bin/env bash
# Candidates (issue 11, DESIGN.md §9): the addresses a node registers for itself.
#   Both IPv4 NATs symmetric, global IPv6 routed beside them with a stateful firewall on
#   each NAT box, the registry reachable over IPv4 only, no relay: Alice and Bob connect
#   directly over IPv6 within 5 s.
# Usage: bash test_candidates_ipv6.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack dig timeout base32 base64
nl_init cand6
BOUND=5

log "=== symmetric IPv4 NATs, global IPv6 beside them: a direct tunnel over IPv6"
nat_topology symmetric symmetric
nat_ipv6
punch_keys
punch_configs no 10
punch_up_registry
T0=$(now_ms)
punch_up_peers
# The bound counts from both nodes up (their control sockets exist): starting a process on a
# loaded machine, or under the sanitizers, takes a time of its own that is no part of the goal.
T_UP=$(now_ms)
ns_exec "$NS_ALICE" ping -n -q -i 0.05 -c 1 -w "$BOUND" "$BOB_TUN" >/dev/null 2>&1 ||
  fail "Alice got no ping reply from Bob within ${BOUND}s of both being up (symmetric NATs, IPv6 beside)"
log "TIMING: first ping reply Alice -> Bob over IPv6 $(($(now_ms) - T_UP)) ms after both were up" \
  "($(($(now_ms) - T0)) ms after they were started)"
ep=$(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")
[[ $ep == "[$BOB_V6]:$WG_PORT" ]] || fail "Alice's endpoint for Bob is '$ep', expected [$BOB_V6]:$WG_PORT"
[[ $(status_field "$NS_ALICE" "$IF_ALICE" "path" "$PUB_BOB") == direct ]] || fail "Alice's path to Bob is not direct"
expect_ping "$NS_BOB" "$ALICE_TUN" "Bob -> Alice over IPv6"
log "ok: Alice and Bob meet over IPv6 (the registry is IPv4 only)"
for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: IPv6 candidates join two peers behind symmetric IPv4 NATs"
