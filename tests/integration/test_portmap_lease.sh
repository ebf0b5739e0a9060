#!/usr/bin/env bash
# A port mapping's lease shorter than the test (issue 20): the topology of test_portmap.sh, NAT
# B's miniupnpd granting PCP mappings of at most 30 s. Bob maps by PCP (lease <= 30 s) and the
# pair goes direct; then for 40 s, across the first lease's end and a second one's, once a
# second: NAT B holds the DNAT rule of Bob's external port, Bob's status shows the same external
# endpoint with lease left > 0, and both ends stay direct while Alice pings Bob every 0.2 s,
# none lost. At the end Bob counts at least two renewals (at half the lease: about 15 s and
# 30 s), miniupnpd's lease file has the lease extended by at least 30 s and still running, and
# after Bob's clean stop NAT B holds no mapping. Bob runs with --user nobody throughout: the
# mapping is asked, renewed and deleted without privilege. (Without renewals, seen: lease left
# 0 at 38 s.) The test mostly waits (the leases), so it runs beside others (CMakeLists.txt).
# Usage: bash test_portmap_lease.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"
source "$HERE/../../scripts/lib/portmap.sh"

portmap_init portmap_lease "$@"
FIRST_BOUND=10
LEASE=30
WATCH=40  # seconds watched: past the end of the first lease and of a second

portmap_topology
# Bob drops every privilege after setup: the mapping is asked, renewed and deleted over
# ordinary sockets (issue 20 item 4).
BOB_ARGS=(--user nobody)
round_start all "$LEASE"
bob_node=$(cat "/proc/$PID_BOB/task/$PID_BOB/children")  # the keeper's one child
[[ -n $bob_node && $(ps -o user= -p "${bob_node%% *}") == nobody ]] ||
  fail "Bob's node does not run as nobody (keeper $PID_BOB, children '$bob_node')"
wait_for "Bob's PCP mapping" 10 bob_maps_with pcp
wait_for "the path to be direct at both ends" 15 direct_both
external=$(bob_field "port mapping external")
lease=$(bob_field "port mapping lease left seconds")
((lease > 0 && lease <= LEASE)) || fail "Bob's lease is $lease s, expected at most $LEASE"
log "ok: Bob mapped $external by PCP for $lease s; the path is direct"
# What the relay carries from here on: the watch's claim. (How the pair first met, direct or
# through the relay until the next round, is test_portmap's; in a slow sanitizer build it can
# take one round: 2,800 bytes relayed for 10 s before the mapping was tried, once on CI.)
relayed0=$(status_field "$NS_REG" "$IF_REG" "registry relayed bytes")
[[ $relayed0 =~ ^[0-9]+$ ]] || fail "the registry's status has no relayed bytes ('$relayed0')"

# miniupnpd's lease file: "UDP:EXT_PORT:ADDR:PORT:EXPIRY:DESC", EXPIRY in Unix seconds.
lease_expiry() { awk -F: -v p="${external##*:}" '$1 == "UDP" && $2 == p { print $5 }' "$NL_TMP/miniupnpd.leases"; }
expiry0=$(lease_expiry)
[[ $expiry0 =~ ^[0-9]+$ ]] || fail "miniupnpd's lease file has no entry for $external: $(cat "$NL_TMP/miniupnpd.leases")"
ping_log="$NL_TMP/ping.log"
count=$((WATCH * 5))
spawn PING_PID "$NS_ALICE" "$ping_log" ping -n -q -i 0.2 -c "$count" -w $((WATCH + 20)) "$BOB_TUN"
rule="${external##*:} $BOB_LAN:$WG_PORT"
for ((s = 0; s < WATCH; s++)); do
  [[ $(portmap_rules) == "$rule" ]] || fail "after ${s}s NAT B's DNAT rules are '$(portmap_rules)', not Bob's mapping ($rule)"
  [[ $(bob_field "port mapping external") == "$external" ]] ||
    fail "after ${s}s Bob's mapping is '$(bob_field "port mapping external")', not $external"
  left=$(bob_field "port mapping lease left seconds")
  ((left > 0)) || fail "after ${s}s Bob's lease left is $left s"
  direct_both || fail "after ${s}s the path is no longer direct at both ends"
  sleep 1  # the sampling period of this watch, not a readiness wait
done
wait "$PING_PID" || fail "Alice's pings to Bob across the renewals: $(tail -2 "$ping_log")"
grep -q " $count received, 0% packet loss" "$ping_log" ||
  fail "pings lost across the renewals: $(grep transmitted "$ping_log")"
# The gateway's own view: its lease was extended (by at least the two renewals' worth) and
# still runs. (miniupnpd leaves an expired rule in nftables for a while, so the rule alone
# would not show a missed renewal; our status would, but this is the router's record.)
expiry=$(lease_expiry)
[[ $expiry =~ ^[0-9]+$ ]] || fail "miniupnpd's lease file lost $external"
((expiry - expiry0 >= LEASE && expiry > $(date +%s))) ||
  fail "miniupnpd's lease for $external went from $expiry0 to $expiry (now $(date +%s)): not renewed"
renewals=$(bob_field "port mapping renewals")
((renewals >= 2)) || fail "Bob renewed $renewals times in ${WATCH}s of a ${LEASE}s lease"
relayed=$(($(status_field "$NS_REG" "$IF_REG" "registry relayed bytes") - relayed0))
((relayed == 0)) || fail "the registry relayed $relayed bytes during the watch"
log "ok: ${WATCH}s across leases of ${LEASE}s: $renewals renewals, miniupnpd's lease moved $((expiry - expiry0)) s on, the rule and $external held, $count pings, 0 lost, the relay carried nothing meanwhile"
round_stop
log "PASS: a ${LEASE}s PCP lease is renewed at half its lifetime; the mapping and the direct path hold"
