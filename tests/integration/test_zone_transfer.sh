#!/usr/bin/env bash
# The registry as a hidden primary for a real DNS server (issue 12, DESIGN.md §10): the NAT
# topology of §8, a registry with `Secondary = ` a Knot DNS server on the public side and a
# TransferKey (TSIG, hmac-sha256), Alice and Bob behind their NATs, a crowd of 300 more peers
# (so that the zone takes several transfer messages, each signed, the MACs chained), and a
# stranger on the registry's link.
#   1. Knot loads the zone by AXFR at start. Once Alice and Bob connect, `kdig @knot` gives
#      Bob's SRV with NAT B's address first in ADDITIONAL, and the same SOA serial as the
#      registry; every answer Knot gives for the zone's names (SOA, NS, PTR, SRV, A at host and
#      instance names, the candidates of §9, NXDOMAIN) is the registry's own (asked in the tunnel); `kdig -y`
#      reads the registry's AXFR (several messages, TSIG verified by kdig) record for record
#      the same as Knot's copy.
#   2. NAT B remaps Bob's port: Knot serves the new port within 2 s of the registry seeing it
#      (time printed), by IXFR (knotd's log says so), serial equal again.
#   2b. Bob gets a new LAN address: his candidate UPDATE is a new version of the zone too, and
#      Knot serves the new candidate within 2 s of the registry (time printed).
#   3. The stranger (not a listed secondary) gets no transfer even with the right key; the
#      secondary's address with a wrong key gets none (NOTAUTH, the registry logs BADSIG), and
#      none without a key. The TSIG secret never appears in the registry's log.
#   4. A reload with a new ListenPort and a rotated TransferKey: transfers move to the new port
#      (none on the old one); the key waits for a restart, which `status` ("restart needed")
#      and every reload's log line say.
# Usage: bash test_zone_transfer.sh /path/to/wgpunch   (bench_dns_server is looked for beside it)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"
source "$HERE/../../scripts/lib/knot.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
CROWD_TOOL=$(dirname "$WGPUNCH")/bench_dns_server
[[ -x $CROWD_TOOL ]] || fail "$CROWD_TOOL not built (needs libbenchmark-dev, which scripts/test installs)"
require_tools wg ip ping awk nft conntrack kdig knotd timeout base32 base64
nl_init zonexfr
KNOT_IP=203.0.113.9
STRANGER_IP=203.0.113.7
CROWD_IP=203.0.113.8
CROWD=300
KEY_NAME=xfr.example.
TSIG_SECRET=$(head -c 32 /dev/urandom | base64)
secret "$TSIG_SECRET"
LAG_BOUND_MS=2000

nat_topology cone cone
nat_public_host NS_KNOT "$KNOT_IP"
nat_public_host NS_STRANGER "$STRANGER_IP"
nat_public_host NS_CROWD "$CROWD_IP"
punch_keys
punch_configs no 10
sed -i "/^Public = /a NameServer = knot.example.org.\nSecondary = $KNOT_IP\nTransferKey = hmac-sha256:$KEY_NAME:$TSIG_SECRET" \
  "$CONF_REG"
"$CROWD_TOOL" keys "$CROWD" | write_conf "$NL_TMP/crowd-keys.txt"
awk '{ printf "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.9.%d.%d/32\n", $2, int(NR / 250), NR % 250 + 1 }' \
  "$NL_TMP/crowd-keys.txt" >>"$CONF_REG"

reg_serial() { status_field "$NS_REG" "$IF_REG" "registry zone serial"; }
reg_field() { status_field "$NS_REG" "$IF_REG" "$1"; }

log "=== 1. a registry with Knot as its secondary; Alice, Bob and the crowd connect"
punch_up_registry
knot_secondary PID_KNOT "$NS_KNOT" "$KNOT_IP" "$REG_IP" "$WG_PORT" "$KEY_NAME" "$TSIG_SECRET"
# The registry's serial may move on while Knot loads (the peers' records come as they connect):
# Knot must catch up with whatever is current.
knot_serial_is_registry() { [[ $(knot_soa_serial "$NS_KNOT" "$KNOT_IP") == "$(reg_serial)" ]]; }
wait_for "Knot's serial to equal the registry's" 10 knot_serial_is_registry
grep -q "AXFR, incoming.*finished" "$KNOT_LOG" || fail "knotd did not log the AXFR it loaded the zone by"
log "ok: Knot loaded the zone by AXFR (serial $(reg_serial))"
punch_up_peers
expect_ping "$NS_ALICE" "$BOB_TUN" "Alice -> Bob, direct"
out=$(ns_exec "$NS_CROWD" timeout 60 "$CROWD_TOOL" handshakes --to "$REG_IP:$WG_PORT" \
  --server-key "$PUB_REG" --keys "$NL_TMP/crowd-keys.txt" --bind "$CROWD_IP" \
  --sockets "$CROWD" --rate 600) || fail "the crowd's handshakes failed: $out"
log "crowd: $out"

BOB_SRV=${B32_BOB}._wireguard._udp.$ZONE
# knot_srv NAME: "PORT ADDITIONAL0" of Knot's SRV answer for NAME (empty when none).
knot_srv() {
  ns_exec "$NS_ALICE" kdig @"$KNOT_IP" +norec +timeout=1 +retry=0 +noall +answer +additional "$1" SRV \
    2>/dev/null | awk '$4 == "SRV" && !p { p = $7 } $4 == "A" || $4 == "AAAA" { if (!a) a = $5 }
                       END { if (p) print p, a }'
}
bob_at_registry() { peer_endpoint "$NS_REG" "$IF_REG" "$PUB_BOB"; }
knot_has_bob() {
  local ep
  ep=$(bob_at_registry)
  [[ $(knot_srv "$BOB_SRV") == "${ep##*:} ${ep%:*}" ]]
}
wait_for "Knot to serve Bob's SRV as the registry sees him" 10 knot_has_bob
ep=$(bob_at_registry)
[[ $ep == "$NAT_B_OUT":* ]] || fail "the registry sees Bob at '$ep', not at NAT B ($NAT_B_OUT)"
read -r port first <<<"$(knot_srv "$BOB_SRV")"
[[ $first == "$NAT_B_OUT" ]] || fail "Knot's first ADDITIONAL record for Bob's SRV is '$first', not NAT B"
log "ok: kdig @knot: Bob's SRV port $port, ADDITIONAL[0] $first (NAT B)"
published() { (($(reg_field "registry published records") >= 4 * (CROWD + 2))); }
wait_for "the registry to publish all $((CROWD + 2)) peers" 20 published
wait_for "Knot's serial to equal the registry's" 10 knot_serial_is_registry
log "ok: Knot and the registry serve serial $(reg_serial)"

# ask SERVER NAME TYPE: rcode and records of one answer over TCP, lower case, no TTLs, each
# line prefixed with its section, sorted (ADDITIONAL's first line is checked above). A TXT in
# ADDITIONAL is left out: the registry adds the instance's TXT to an SRV answer as wgsd does
# (DESIGN.md §11), a secondary only the target's addresses; the TXT itself is compared below.
ask() {
  ns_exec "$NS_ALICE" kdig @"$1" +tcp +norec +timeout=2 +retry=1 +noall +comments +answer +authority \
    +additional "$2" "$3" 2>/dev/null | awk '
      /status:/ { s = $0; sub(/.*status: /, "", s); sub(/;.*/, "", s); print "status " s }
      /^;; ANSWER SECTION/ { sec = "an" } /^;; AUTHORITY SECTION/ { sec = "ns" }
      /^;; ADDITIONAL SECTION/ { sec = "ar" } /^;; (EDNS|OPT)/ { sec = "" }
      /^[^;]/ && NF && sec != "" && !(sec == "ar" && $4 == "TXT") { $2 = ""; print sec, tolower($0) }' |
    sort
}
SVC=_wireguard._udp.$ZONE
queries=("$ZONE SOA" "$ZONE NS" "$SVC PTR" "$BOB_SRV SRV" "${B32_ALICE}._wireguard._udp.$ZONE SRV"
  "${B32_BOB}.$ZONE A" "$BOB_SRV A" "${B32_ALICE}.$ZONE AAAA" "nobody.$ZONE A" "_udp.$ZONE PTR"
  "c.${B32_BOB}.$ZONE A" "$BOB_SRV TXT")
# compare_answers: every question asked of both; returns 1 at the first disagreement (in
# MISMATCH).
compare_answers() {
  local q r k
  for q in "${queries[@]}"; do
    # shellcheck disable=SC2086
    r=$(ask "$REG_TUN" $q) k=$(ask "$KNOT_IP" $q)
    if [[ -z $r || $r != "$k" ]]; then
      MISMATCH="'$q':
--- registry:
$(head -n 8 <<<"$r")
--- knot:
$(head -n 8 <<<"$k")"
      return 1
    fi
  done
}
# The registry answers from what it publishes now, and makes that a zone version (a new serial,
# what Knot transfers) at most once a second: its answers may run up to one version ahead of
# Knot's. After a disagreement that version must come, and then the two must agree.
serial_moved() { [[ $(reg_serial) != "$1" ]]; }
for ((round = 1; ; round++)); do
  serial0=$(reg_serial)
  compare_answers && break
  ((round < 4)) || fail "Knot and the registry disagree on $MISMATCH"
  wait_for "a zone version after $serial0 (the registry's answers are ahead of it: $MISMATCH)" 5 \
    serial_moved "$serial0"
  wait_for "Knot's serial to equal the registry's" 10 knot_serial_is_registry
  log "the registry's answers were ahead of serial $serial0 (Knot's): compared again at $(reg_serial)"
done
log "ok: Knot's answers equal the registry's for ${#queries[@]} questions (SOA, NS, PTR of $((CROWD + 2)), SRV, A, candidates, NXDOMAIN, NODATA)"
# Bob registered his LAN address (LocalCandidates): the second SRV and c.<B32> reach Knot too.
b32=${B32_BOB,,}  # kdig writes each = of the label as \=: compare up to the first
[[ $(ask "$KNOT_IP" "$BOB_SRV" SRV) == *"srv 1 0 "*" c.${b32%%=*}"* ]] ||
  fail "Knot serves no candidate SRV for Bob: $(ask "$KNOT_IP" "$BOB_SRV" SRV)"
[[ $(ask "$KNOT_IP" "c.${B32_BOB}.$ZONE" A) == *"$BOB_LAN"* ]] ||
  fail "Knot serves no candidate address for Bob: $(ask "$KNOT_IP" "c.${B32_BOB}.$ZONE" A)"

# The registry's AXFR as kdig reads it (verifying every message's TSIG), against Knot's copy.
axfr() {  # NS SERVER PORT [KDIG OPTIONS]: the records, sorted, lower case, no TTLs
  local ns=$1 server=$2 p=$3
  shift 3
  ns_exec "$ns" timeout 10 kdig "$@" @"$server" -p "$p" +tcp +timeout=3 +retry=0 "$ZONE" AXFR \
    >"$NL_TMP/axfr.raw" 2>&1 || true
  awk '/^[^;]/ && NF && $4 != "TSIG" { $2 = ""; print tolower($0) }' "$NL_TMP/axfr.raw" | sort -u
}
from_registry=$(axfr "$NS_KNOT" "$REG_IP" "$WG_PORT" -y "hmac-sha256:$KEY_NAME:$TSIG_SECRET")
cp "$NL_TMP/axfr.raw" "$NL_TMP/axfr-registry.raw"
! grep -qE "^;; (WARNING|ERROR)" "$NL_TMP/axfr-registry.raw" ||
  fail "kdig complains about the registry's AXFR: $(grep -E '^;; (WARNING|ERROR)' "$NL_TMP/axfr-registry.raw" | head -n 3)"
messages=$(awk '/^;; Received/ { for (i = 1; i <= NF; i++) if ($i ~ /^\(/) { gsub(/\(/, "", $i); print $i } }' \
  "$NL_TMP/axfr-registry.raw")
((messages > 1)) || fail "the registry's AXFR of $((CROWD + 2)) peers took $messages message(s), expected several"
tsigs=$(grep -c "ANY.TSIG" "$NL_TMP/axfr-registry.raw" || true)
((tsigs == messages)) || fail "$messages AXFR messages but $tsigs TSIG records: every message must be signed"
from_knot=$(axfr "$NS_KNOT" "$KNOT_IP" 53)
n=$(wc -l <<<"$from_registry")
((n >= 4 * (CROWD + 2) + 2)) || fail "the registry's AXFR has only $n records"
[[ $from_registry == "$from_knot" ]] || fail "Knot's copy differs from the registry's AXFR:
$(diff <(echo "$from_registry") <(echo "$from_knot") | head -n 10)"
log "ok: kdig -y reads the registry's AXFR: $n records in $messages messages, each TSIG-signed, the same as Knot's copy"

log "=== 2. NAT B remaps Bob: Knot serves his new port within ${LAG_BOUND_MS} ms of the registry"
ixfrs0=$(grep -c "IXFR, incoming.*finished" "$KNOT_LOG" || true)
# Both moments are taken inside the namespaces, by one shell each that probes every 10 ms: spawning
# `ip netns exec` per probe would add its own cost, which on a loaded machine is a good part of
# the bound, to the lag measured. Each prints the start of its last probe that failed, and the
# start and end of its first that succeeded (ms): the lag is at most the end of Knot's success
# minus the start of the registry's last failure, and the bound is checked on that.
# poll_script CONDITION: that shell's script (CONDITION is shell code; 60 s at most).
poll_script() {
  printf 'p=$(date +%%s%%3N); end=$((SECONDS + 60)); while ((SECONDS < end)); do t=$(date +%%s%%3N); if %s; then echo "$p $t $(date +%%s%%3N)"; exit 0; fi; p=$t; sleep 0.01; done; exit 1' "$1"
}
spawn PID_KNOT_POLL "$NS_ALICE" "$NL_TMP/knot-poll.out" bash -c "$(poll_script \
  "kdig @$KNOT_IP +norec +timeout=1 +retry=0 +short '$BOB_SRV' SRV 2>/dev/null | grep -q ' 40001 '")"
spawn PID_REG_POLL "$NS_REG" "$NL_TMP/registry-poll.out" bash -c "$(poll_script \
  "wg show $IF_REG endpoints | grep -q '$PUB_BOB.$NAT_B_OUT:40001'")"
nat_remap "$NS_NAT_B" "$WG_PORT" 40001
# Bob's next packets to the registry, until it has seen the new port (bounded).
for ((i = 0; i < 20; i++)); do
  pid_alive "$PID_REG_POLL" || break
  ns_exec "$NS_BOB" ping -n -q -c 1 -W 1 "$REG_TUN" >/dev/null 2>&1 || true
done
wait_for "the registry to see Bob at NAT B's new port" 10 pid_gone "$PID_REG_POLL"
wait "$PID_REG_POLL" || fail "the registry never saw Bob at NAT B's new port (it has $(bob_at_registry))"
forget_pid "$PID_REG_POLL"
wait_for "Knot to serve Bob's new port" 30 pid_gone "$PID_KNOT_POLL"
wait "$PID_KNOT_POLL" || fail "Knot still serves '$(knot_srv "$BOB_SRV")' for Bob"
forget_pid "$PID_KNOT_POLL"
[[ $(knot_srv "$BOB_SRV") == "40001 $NAT_B_OUT" ]] || fail "Knot serves '$(knot_srv "$BOB_SRV")' for Bob"
read -r _ _ knot_to <"$NL_TMP/knot-poll.out"
read -r reg_from _ <"$NL_TMP/registry-poll.out"
LAG=$((knot_to - reg_from))
log "TIMING: Knot serves Bob's new port at most $LAG ms after the registry saw it"
((LAG <= LAG_BOUND_MS)) || fail "Knot took up to $LAG ms to serve Bob's new port (bound ${LAG_BOUND_MS} ms)"
wait_for "Knot's serial to equal the registry's" 5 knot_serial_is_registry
ixfrs=$(grep -c "IXFR, incoming.*finished" "$KNOT_LOG" || true)
((ixfrs > ixfrs0)) || fail "knotd logged no IXFR after the remap"
log "ok: by IXFR (knotd: $(grep "IXFR, incoming.*finished" "$KNOT_LOG" | tail -n 1 | sed 's/.*finished, //'))"

log "=== 2b. Bob gets another address: Knot serves his new candidate within ${LAG_BOUND_MS} ms of the registry"
# A candidate UPDATE changes the zone as an endpoint does: a new version, NOTIFY, IXFR.
NEW_LAN=10.2.0.77
ip -n "$NS_BOB" addr add "$NEW_LAN/24" dev eth0
candidate_at() { [[ $(ask "$1" "c.${B32_BOB}.$ZONE" A) == *"$NEW_LAN"* ]]; }
wait_for "the registry to publish Bob's new candidate" 10 candidate_at "$REG_TUN"
T0=$(now_ms)
for ((i = 0; i < 100; i++)); do
  candidate_at "$KNOT_IP" && break
  sleep 0.02
done
LAG_C=$(($(now_ms) - T0))
candidate_at "$KNOT_IP" || fail "Knot does not serve Bob's new candidate $NEW_LAN (the zone's serial did not follow it)"
log "TIMING: Knot serves Bob's new candidate $LAG_C ms after the registry"
((LAG_C <= LAG_BOUND_MS)) || fail "Knot took $LAG_C ms to serve Bob's new candidate (bound ${LAG_BOUND_MS} ms)"
wait_for "Knot's serial to equal the registry's" 5 knot_serial_is_registry

log "=== 3. no transfer for a stranger, a wrong key or no key"
refused0=$(reg_field "registry transfers refused")
stranger=$(axfr "$NS_STRANGER" "$REG_IP" "$WG_PORT" -y "hmac-sha256:$KEY_NAME:$TSIG_SECRET")
[[ -z $stranger ]] || fail "the stranger got $(wc -l <<<"$stranger") records by AXFR: $(head -n 5 "$NL_TMP/axfr.raw")"
wrong=$(axfr "$NS_KNOT" "$REG_IP" "$WG_PORT" -y "hmac-sha256:$KEY_NAME:$(head -c 32 /dev/urandom | base64)")
[[ -z $wrong ]] || fail "a wrong TSIG key got $(wc -l <<<"$wrong") records by AXFR"
grep -qE "NOTAUTH|BADSIG" "$NL_TMP/axfr.raw" || fail "no NOTAUTH/BADSIG for a wrong key: $(head -n 5 "$NL_TMP/axfr.raw")"
grep -q "BADSIG" "${NL_WGP_LOG[$IF_REG]}" || fail "the registry did not log the BADSIG"
unsigned=$(axfr "$NS_KNOT" "$REG_IP" "$WG_PORT")
[[ -z $unsigned ]] || fail "an unsigned request got $(wc -l <<<"$unsigned") records by AXFR"
refused=$(reg_field "registry transfers refused")
((refused >= refused0 + 3)) || fail "the registry counts $((refused - refused0)) refused transfers, expected 3"
log "ok: stranger, wrong key, no key: no transfer (NOTAUTH + BADSIG for the wrong key; $((refused - refused0)) refusals counted)"
grep -q "ACL, denied\|TSIG\|BADSIG" "$KNOT_LOG" && log "note: knotd logged a TSIG or ACL problem: $(grep -m1 "ACL, denied\|TSIG\|BADSIG" "$KNOT_LOG")"

log "=== 4. a reload: a new ListenPort moves the transfers; a new TransferKey waits for a restart, and says so"
NEW_PORT=51999
NEW_SECRET=$(head -c 32 /dev/urandom | base64)
secret "$NEW_SECRET"
sed -i "s/^ListenPort = $WG_PORT\$/ListenPort = $NEW_PORT/; s|^TransferKey = .*|TransferKey = hmac-sha256:$KEY_NAME:$NEW_SECRET|" \
  "$CONF_REG"
reloads() { grep -c "reloaded " "${NL_WGP_LOG[$IF_REG]}" || true; }
r0=$(reloads)
kill -HUP "$PID_REG"
reloaded() { (($(reloads) > r0)); }
wait_for "the registry to reload" 10 reloaded
moved=$(axfr "$NS_KNOT" "$REG_IP" "$NEW_PORT" -y "hmac-sha256:$KEY_NAME:$TSIG_SECRET")
[[ -n $moved ]] || fail "no zone transfer on the new ListenPort $NEW_PORT after the reload: $(head -n 3 "$NL_TMP/axfr.raw")"
stale=$(axfr "$NS_KNOT" "$REG_IP" "$WG_PORT" -y "hmac-sha256:$KEY_NAME:$TSIG_SECRET")
[[ -z $stale ]] || fail "zone transfers are still served on the old port $WG_PORT"
pending=$(reg_field "restart needed")
[[ $pending == "[Registry] TransferKey" ]] || fail "status says 'restart needed: $pending', expected the TransferKey"
r0=$(reloads)
kill -HUP "$PID_REG"
wait_for "the registry to reload again" 10 reloaded
last=$(grep "reloaded " "${NL_WGP_LOG[$IF_REG]}" | tail -n 1)
grep -q "restart needed: \[Registry\] TransferKey" <<<"$last" ||
  fail "the second reload does not say the TransferKey still waits: $last"
log "ok: transfers moved to port $NEW_PORT (the old key still runs); every reload and status say: restart needed: $pending"

for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: Knot copies the registry's zone by AXFR and IXFR with TSIG, serves what the registry serves, follows a remap in $LAG ms and a new candidate in $LAG_C ms; no transfer to a stranger, a wrong key or none; a reload moves the transfers to the new port and names the key that waits for a restart"
