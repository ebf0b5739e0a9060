#!/usr/bin/env bash
# SIGHUP reload (issue 13) and systemd's readiness protocol. Node A (the wgpunch under test)
# and four wgpunch peers B, C, D, E on one switched link. A starts with B, C and D; its config
# is then rewritten: B's Endpoint changed (to B's second address), C untouched, D removed, E
# added; SIGHUP. Checks: the changes apply (wg show: peers, endpoint; ping E through the new
# peer; D unreachable), and the sessions of B and C survive: ping works with no new handshake
# (latest-handshake unchanged on both ends). A broken file on reload changes nothing and
# says why (file, line, key). Through a datagram socket in NOTIFY_SOCKET, A reports READY=1
# once up, RELOADING=1 then READY=1 for each reload, STOPPING=1 on SIGTERM; clean exit.
# Usage: bash test_reload.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/service.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk socat
nl_init reload

switch_create NS_SW
declare -A NS ADDR KEY PUB IFC PID
NODES=(a b c d e)
i=1
for n in "${NODES[@]}"; do
  ns_create "NS_$n"
  NS[$n]=$(eval "printf %s \"\$NS_$n\"")
  ADDR[$n]=192.0.2.$i
  switch_port "$NS_SW" "${NS[$n]}" eth0 "${ADDR[$n]}/24"
  wgp_keypair "KEY_$n" "PUB_$n"
  KEY[$n]=$(eval "printf %s \"\$KEY_$n\"")
  PUB[$n]=$(eval "printf %s \"\$PUB_$n\"")
  IFC[$n]=$(uniq_iface "rl$n")
  i=$((i + 1))
done
add_addrs "${NS[b]}" eth0 "192.0.2.12/24"  # B's second address, for the changed Endpoint
inner() { printf '10.0.0.%s' "$(($(printf '%d' "'$1") - 96))"; }  # a -> 10.0.0.1, b -> .2 ...

# A's config: interface plus a [Peer] for each name given as "name" or "name=ENDPOINT_ADDR".
a_conf() {
  {
    printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 10.0.0.1/24\n' "${KEY[a]}"
    local spec n ep
    for spec in "$@"; do
      n=${spec%%=*}
      ep=${ADDR[$n]}
      [[ $spec == *=* ]] && ep=${spec#*=}
      printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s:51820\n' \
        "${PUB[$n]}" "$(inner "$n")" "$ep"
    done
  } | write_conf "$NL_TMP/${IFC[a]}.conf"
}

for n in b c d e; do
  peer_conf "$NL_TMP/${IFC[$n]}.conf" "${KEY[$n]}" 51820 "$(inner "$n")/24" "${PUB[a]}" 10.0.0.1/32
  wgp_up "PID_$n" "${NS[$n]}" "$NL_TMP/${IFC[$n]}.conf"
done

notify_listen PID_NOTIFY "${NS[a]}" "$NL_TMP/notify.sock"
a_conf b c d
NOTIFY_SOCKET=$NL_TMP/notify.sock wgp_up PID_A "${NS[a]}" "$NL_TMP/${IFC[a]}.conf"
wait_for "READY=1 from A" 5 bash -c "grep -qx READY=1 '$NL_TMP/notify.sock.log'"
grep -qx 'STATUS=listening on UDP port 51820, 3 peer(s)' "$NL_TMP/notify.sock.log" ||
  fail "READY=1 came without the expected STATUS line: $(cat "$NL_TMP/notify.sock.log")"
log "ok: READY=1 with STATUS once A is up"

for n in b c d; do expect_ping "${NS[a]}" "$(inner "$n")" "A -> $n before the reload"; done
declare -A HS_A HS_P
for n in b c; do
  HS_A[$n]=$(handshake_time "${NS[a]}" "${IFC[a]}" "${PUB[$n]}")
  HS_P[$n]=$(handshake_time "${NS[$n]}" "${IFC[$n]}" "${PUB[a]}")
  [[ ${HS_A[$n]} != 0 && ${HS_P[$n]} != 0 ]] || fail "no handshake between A and $n"
done
sleep 1.2  # a new handshake after this would show a later latest-handshake second

log "=== reload: B's endpoint changed, C untouched, D removed, E added"
a_conf b=192.0.2.12 c e
kill -HUP "$PID_A"
wait_for "A to log the reload" 5 grep -q "reloaded .*1 peer(s) added, 1 removed, 1 changed" \
  "${NL_WGP_LOG[${IFC[a]}]}"
pid_alive "$PID_A" || fail "A died on SIGHUP"
[[ $(notify_count "$NL_TMP/notify.sock" RELOADING=1) == 1 ]] || fail "no RELOADING=1 on reload"
wait_for "READY=1 after the reload" 5 bash -c "[[ \$(grep -cx READY=1 '$NL_TMP/notify.sock.log') == 2 ]]"
grep -q '^MONOTONIC_USEC=[0-9]\+$' "$NL_TMP/notify.sock.log" || fail "RELOADING=1 without MONOTONIC_USEC"
log "ok: RELOADING=1 (with MONOTONIC_USEC) then READY=1"

got=$(ns_exec "${NS[a]}" wg show "${IFC[a]}" peers | sort)
want=$(printf '%s\n' "${PUB[b]}" "${PUB[c]}" "${PUB[e]}" | sort)
[[ $got == "$want" ]] || fail "after the reload A's peers are not {B, C, E}"
ep=$(peer_endpoint "${NS[a]}" "${IFC[a]}" "${PUB[b]}")
[[ $ep == 192.0.2.12:51820 ]] || fail "B's endpoint after the reload is $ep, expected 192.0.2.12:51820"
log "ok: peers are B, C, E; B's endpoint is the new one"

expect_ping "${NS[a]}" "$(inner e)" "A -> E, the added peer"
! ping_ok "${NS[a]}" "$(inner d)" 2 || fail "D, the removed peer, still answers through A"
log "ok: D is unreachable"
for n in b c; do
  expect_ping "${NS[a]}" "$(inner "$n")" "A -> $n after the reload"
  [[ $(handshake_time "${NS[a]}" "${IFC[a]}" "${PUB[$n]}") == "${HS_A[$n]}" ]] ||
    fail "A made a new handshake with $n: its session did not survive the reload"
  [[ $(handshake_time "${NS[$n]}" "${IFC[$n]}" "${PUB[a]}") == "${HS_P[$n]}" ]] ||
    fail "$n made a new handshake with A: the session did not survive the reload"
done
log "ok: the sessions with B (endpoint changed) and C (untouched) survived: no new handshake"

log "=== reload with a broken file: nothing changes"
printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\nMetricsListen = nowhere\n' "${KEY[a]}" |
  write_conf "$NL_TMP/${IFC[a]}.conf"
kill -HUP "$PID_A"
wait_for "A to log the failed reload" 5 grep -q \
  "reload failed, nothing changed: $NL_TMP/${IFC[a]}.conf:4: MetricsListen: " "${NL_WGP_LOG[${IFC[a]}]}"
[[ $(ns_exec "${NS[a]}" wg show "${IFC[a]}" peers | sort) == "$want" ]] ||
  fail "a broken config changed A's peers"
wait_for "READY=1 after the failed reload" 5 \
  bash -c "[[ \$(grep -cx READY=1 '$NL_TMP/notify.sock.log') == 3 ]]"
expect_ping "${NS[a]}" "$(inner c)" "A -> C after the failed reload"

wgp_stop "$PID_A" "${NS[a]}" "${IFC[a]}"
[[ $(notify_count "$NL_TMP/notify.sock" STOPPING=1) == 1 ]] || fail "no STOPPING=1 on SIGTERM"
grep -qx 'STATUS=terminated' "$NL_TMP/notify.sock.log" || fail "STOPPING=1 without STATUS=terminated"
log "ok: STOPPING=1 on SIGTERM, clean exit"
for n in b c d e; do wgp_stop "$(eval "printf %s \"\$PID_$n\"")" "${NS[$n]}" "${IFC[$n]}"; done
log "PASS: reload on SIGHUP keeps untouched sessions; sd_notify READY/RELOADING/STOPPING"
