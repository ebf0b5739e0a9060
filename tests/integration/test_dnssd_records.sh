#!/usr/bin/env bash
# DNS-SD records of a registry (DESIGN.md §4), read by three stock resolvers (dig, kdig,
# drill) in the NAT topology of §8: a registry, Alice and Bob behind their NATs, and a
# stranger on the registry's link that is no peer.
#   1. Public = no. In the tunnel (Alice and Bob ask the registry's tunnel address, port
#      53): PTR lists both peers; SRV of Bob is `0 0 <port> <B32>.zone.` with the port the
#      registry sees Bob at and Bob's NAT address as the first A record in ADDITIONAL; the A
#      record at the target and at the instance name; TTL 0 everywhere; the target's label
#      decodes (`base32 -d | base64`) to Bob's key; NXDOMAIN with the SOA for a missing
#      name; REFUSED outside the zone; names match case-insensitively; OPT only when asked;
#      the same PTR list over TCP in the tunnel (`dig +tcp`, where TC sends stub resolvers).
#      The stranger asking on the WireGuard port gets silence: no REFUSED, nothing at all.
#   2. Public = yes (all three nodes restarted): the stranger reads the same records on
#      the WireGuard port.
# In both, the stock wgsd-client's procedure (SRV lookup, port from ANSWER[0], address from
# ADDITIONAL[0], `wg set ... endpoint`) in the tunnel and on the public port sets Bob's
# endpoint on Alice and the tunnel keeps working.
# Usage: bash test_dnssd_records.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack base32 base64 dig kdig drill timeout
nl_init dnssd
STRANGER_IP=203.0.113.7
TOOLS=(dig kdig drill)

nat_topology cone cone
nat_public_host NS_STRANGER "$STRANGER_IP"
punch_keys
# A key that no node has, for NXDOMAIN.
wg_keypair KEY_NOBODY PUB_NOBODY
B32_NOBODY=$(b32_of "$PUB_NOBODY")
SRV_NAME=_wireguard._udp.$ZONE

# try_ask TOOL NS SERVER PORT NAME TYPE [OPTION...]: one query; the tool's full output into
# $NL_TMP/answer (bounded: a lost answer must not hang the test). 1 when no answer came.
try_ask() {
  local tool=$1 ns=$2 server=$3 port=$4 name=$5 type=$6
  shift 6
  case $tool in
    dig) ns_exec "$ns" timeout 10 dig +time=2 +tries=2 "$@" @"$server" -p "$port" "$name" "$type" ;;
    kdig) ns_exec "$ns" timeout 10 kdig +time=2 +retry=1 "$@" @"$server" -p "$port" "$name" "$type" ;;
    drill) ns_exec "$ns" timeout 10 drill "$@" -p "$port" "$name" @"$server" "$type" ;;
  esac >"$NL_TMP/answer" 2>&1
}

# ask: try_ask, and no answer fails the test.
ask() {
  try_ask "$@" || fail "$1 @$3 -p $4 $5 $6: no answer ($(tail -n 1 "$NL_TMP/answer"))"
}

# rcode: the response code of the last answer (dig and kdig say status, drill rcode).
rcode() { grep -oE '(status|rcode): [A-Z]+' "$NL_TMP/answer" | head -n 1 | awk '{print $2}'; }

# section NAME: the records of one section of the last answer, one per line as
# "owner ttl class type rdata...", kdig's `\=` escapes undone.
section() {
  awk -v s="$1" '
    /^;; [A-Z]+ SECTION:/ { cur = $2; next }
    /^;/ || NF == 0 { next }
    cur == s { gsub(/\\=/, "="); $1 = $1; print }' "$NL_TMP/answer"
}

# expect_rcode WANT WHAT
expect_rcode() {
  local got
  got=$(rcode)
  [[ $got == "$1" ]] || fail "$2: rcode '$got', expected $1 (answer: $(tr '\n' ' ' <"$NL_TMP/answer"))"
}

# lower STR / upper STR
lower() { printf '%s' "${1,,}"; }

# expect_rr SECTION INDEX OWNER TYPE RDATA WHAT: record INDEX (1-based) of SECTION has this
# owner (compared case-insensitively: kdig lower-cases the names it prints for the
# question), TTL 0, class IN, TYPE and RDATA (exact: names we write stay upper case).
expect_rr() {
  local sect=$1 idx=$2 owner=$3 type=$4 rdata=$5 what=$6 rr
  rr=$(section "$sect" | sed -n "${idx}p")
  read -r r_owner r_ttl r_class r_type r_rdata <<<"$rr"
  [[ $(lower "$r_owner") == "$(lower "$owner")" && $r_ttl == 0 && $r_class == IN &&
    $r_type == "$type" && $r_rdata == "$rdata" ]] ||
    fail "$what: $sect record $idx is '$rr', expected '$owner 0 IN $type $rdata'"
}

# check_zone TOOL NS SERVER PORT WHERE: every record check of this test with one resolver
# from one host.
check_zone() {
  local tool=$1 ns=$2 server=$3 port=$4 where="$1 $5" ptrs want target label port_b
  ask "$tool" "$ns" "$server" "$port" "$SRV_NAME" PTR
  expect_rcode NOERROR "$where: PTR $SRV_NAME"
  ptrs=$(section ANSWER | awk '$4 == "PTR" && $2 == 0 {print $5}' | sort | tr '\n' ' ')
  want=$(printf '%s\n' "$B32_ALICE.$SRV_NAME" "$B32_BOB.$SRV_NAME" | sort | tr '\n' ' ')
  [[ $ptrs == "$want" ]] || fail "$where: PTR lists '$ptrs', expected '$want' (TTL 0)"

  port_b=$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_BOB")
  port_b=${port_b##*:}
  target=$B32_BOB.$ZONE
  ask "$tool" "$ns" "$server" "$port" "$B32_BOB.$SRV_NAME" SRV
  expect_rcode NOERROR "$where: SRV of Bob"
  expect_rr ANSWER 1 "$B32_BOB.$SRV_NAME" SRV "0 0 $port_b $target" "$where: SRV of Bob"
  expect_rr ADDITIONAL 1 "$target" A "$NAT_B_OUT" "$where: SRV of Bob, first additional"
  label=$(section ANSWER | awk '{print $8}' | cut -d. -f1)
  [[ $(printf '%s' "$label" | base32 -d | base64) == "$PUB_BOB" ]] ||
    fail "$where: SRV target label '$label' does not decode (base32 -d | base64) to Bob's key"

  ask "$tool" "$ns" "$server" "$port" "$target" A
  expect_rcode NOERROR "$where: A of Bob"
  expect_rr ANSWER 1 "$target" A "$NAT_B_OUT" "$where: A of Bob"
  ask "$tool" "$ns" "$server" "$port" "$B32_ALICE.$SRV_NAME" A
  expect_rcode NOERROR "$where: A of Alice at her instance name"
  expect_rr ANSWER 1 "$B32_ALICE.$SRV_NAME" A "$NAT_A_OUT" "$where: A of Alice at her instance name"

  ask "$tool" "$ns" "$server" "$port" "$B32_NOBODY.$SRV_NAME" SRV
  expect_rcode NXDOMAIN "$where: SRV of a key nobody has"
  [[ $(section ANSWER) == "" ]] || fail "$where: NXDOMAIN with records in ANSWER"
  section AUTHORITY | awk -v z="$ZONE" 'tolower($1) == z && $4 == "SOA" {f = 1} END {exit !f}' ||
    fail "$where: NXDOMAIN without the zone's SOA in AUTHORITY"

  ask "$tool" "$ns" "$server" "$port" www.example.org. A
  expect_rcode REFUSED "$where: a name outside the zone"
  [[ $(section ANSWER) == "" ]] || fail "$where: REFUSED with records in ANSWER"
  log "ok: $where: PTR, SRV (+A), A at target and instance name, NXDOMAIN+SOA, REFUSED outside"
}

# published_both: the registry serves both peers (their handshakes confirmed endpoints).
published_both() {
  try_ask dig "$NS_ALICE" "$REG_TUN" 53 "$SRV_NAME" PTR +time=1 +tries=1 &&
    [[ $(section ANSWER | grep -c PTR) == 2 ]]
}

log "=== 1. Public = no: in the tunnel every peer may ask; a stranger is refused"
punch_configs no 10
punch_up_registry
punch_up_peers
T0=$(now_ms)
for ((i = 0; i < 50; i++)); do published_both && break; sleep 0.2; done
published_both || fail "the registry does not publish both peers 10 s after they started"
log "ok: both peers published $(($(now_ms) - T0)) ms after they started"

for tool in "${TOOLS[@]}"; do
  check_zone "$tool" "$NS_ALICE" "$REG_TUN" 53 "in the tunnel from Alice"
done
ask dig "$NS_BOB" "$REG_TUN" 53 "$B32_ALICE.$SRV_NAME" SRV
expect_rcode NOERROR "dig in the tunnel from Bob: SRV of Alice"
expect_rr ADDITIONAL 1 "$B32_ALICE.$ZONE" A "$NAT_A_OUT" "dig from Bob: SRV of Alice, first additional"
log "ok: Bob reads Alice's SRV record in the tunnel too"

# Case-insensitive names; the answer keeps our upper-case names in the data.
ask dig "$NS_ALICE" "$REG_TUN" 53 "$(lower "$B32_BOB.$SRV_NAME")" SRV
expect_rcode NOERROR "dig, lower-case SRV name"
rr=$(section ANSWER | head -n 1)
[[ $(awk '{print $8}' <<<"$rr") == "$B32_BOB.$ZONE" ]] ||
  fail "lower-case query: SRV target is not Bob's upper-case name: '$rr'"
ask dig "$NS_ALICE" "$REG_TUN" 53 "$(lower "$B32_BOB.$ZONE")" A
expect_rcode NOERROR "dig, lower-case A name"
[[ $(section ANSWER | awk '{print $5}') == "$NAT_B_OUT" ]] || fail "lower-case A query: no address"
log "ok: lower-case names are answered, the data keeps upper-case names"

# EDNS(0): an OPT record in the answer only when the query carried one.
ask dig "$NS_ALICE" "$REG_TUN" 53 "$B32_BOB.$SRV_NAME" SRV +noedns
! grep -q 'OPT PSEUDOSECTION' "$NL_TMP/answer" || fail "OPT record in the answer to a query without one"
[[ $(section ADDITIONAL | head -n 1 | awk '{print $4, $5}') == "A $NAT_B_OUT" ]] ||
  fail "+noedns: the first ADDITIONAL record is not Bob's NAT address: $(section ADDITIONAL | head -n 1)"
ask dig "$NS_ALICE" "$REG_TUN" 53 "$B32_BOB.$SRV_NAME" SRV +edns=0
grep -q 'EDNS: version: 0' "$NL_TMP/answer" || fail "no OPT record in the answer to an EDNS query"
log "ok: OPT in the answer exactly when the query had one"

# wgsd_client NS SERVER PORT IFACE PEERKEY: what the stock wgsd-client does for one peer: the
# SRV of its instance name, the port from ANSWER[0] and the address from ADDITIONAL[0], then
# `wg set IFACE peer KEY endpoint ADDR:PORT`. Prints the endpoint it set.
wgsd_client() {
  local ns=$1 server=$2 port=$3 ifc=$4 key=$5 srv_port addr
  ask kdig "$ns" "$server" "$port" "$(b32_of "$key").$SRV_NAME" SRV
  srv_port=$(section ANSWER | awk 'NR == 1 && $4 == "SRV" {print $7}')
  addr=$(section ADDITIONAL | awk 'NR == 1 && ($4 == "A" || $4 == "AAAA") {print $5}')
  [[ -n $srv_port && -n $addr ]] || fail "wgsd-client's lookup of $key found no SRV port and address"
  [[ $addr == *:* ]] && addr="[$addr]"
  ns_exec "$ns" wg set "$ifc" peer "$key" endpoint "$addr:$srv_port" ||
    fail "wg set $ifc peer endpoint $addr:$srv_port failed"
  echo "$addr:$srv_port"
}

# The stock wgsd-client's procedure in the tunnel (-dns=10.0.0.254:53): Alice's endpoint for
# Bob, set through `wg set`, is NAT B's mapping, and the tunnel keeps working.
ep=$(wgsd_client "$NS_ALICE" "$REG_TUN" 53 "$IF_ALICE" "$PUB_BOB")
[[ $ep == "$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_BOB")" ]] ||
  fail "wgsd-client's lookup in the tunnel gave $ep, the registry sees Bob at $(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_BOB")"
[[ $(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB") == "$ep" ]] || fail "wg set endpoint $ep did not apply"
expect_ping "$NS_ALICE" "$BOB_TUN" "after a wgsd-client style endpoint update"
log "ok: wgsd-client's lookup and wg set in the tunnel: Bob at $ep"

# The whole list over TCP, in the tunnel (what a UDP answer's TC points to).
ask dig "$NS_ALICE" "$REG_TUN" 53 "$SRV_NAME" PTR +tcp
expect_rcode NOERROR "dig +tcp in the tunnel: PTR"
[[ $(section ANSWER | grep -c PTR) == 2 ]] || fail "dig +tcp in the tunnel: PTR does not list both peers"
log "ok: dig +tcp in the tunnel lists both peers"

# A stranger gets silence on the WireGuard port, whatever it asks with (one short try each).
for tool in "${TOOLS[@]}"; do
  case $tool in
    dig) opts=(+time=1 +tries=1) ;;
    kdig) opts=(+time=1 +retry=0) ;;
    drill) opts=() ;;
  esac
  for q in "$SRV_NAME PTR" "$B32_BOB.$SRV_NAME SRV"; do
    # drill cannot be told to wait less than its 5 s: one question is enough for it.
    [[ $tool == drill && $q != "$SRV_NAME PTR" ]] && continue
    read -r qname qtype <<<"$q"
    if try_ask "$tool" "$NS_STRANGER" "$REG_IP" "$WG_PORT" "$qname" "$qtype" "${opts[@]}" &&
      [[ -n $(rcode) ]]; then
      fail "$tool from a stranger ($q) got an answer with Public = no: $(tr '\n' ' ' <"$NL_TMP/answer")"
    fi
    [[ -z $(rcode) ]] || fail "$tool from a stranger ($q): an answer came: $(rcode)"
  done
done
log "ok: the stranger gets no answer at all on the WireGuard port (dig, kdig, drill)"
ignored=$(status_field "$NS_REG" "$IF_REG" "registry ignored strangers")
((ignored >= 2 * ${#TOOLS[@]} - 1)) || fail "the registry's status counts $ignored ignored queries"
tunnel=$(status_field "$NS_REG" "$IF_REG" "registry answered in tunnel")
((tunnel >= 6 * ${#TOOLS[@]})) || fail "the registry's status counts $tunnel answers in the tunnel"
expect_ping "$NS_ALICE" "$BOB_TUN" "the DNS traffic left the tunnel working"
for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done

log "=== 2. Public = yes: anyone may ask on the WireGuard port"
punch_configs yes 10
punch_up_registry
punch_up_peers
for ((i = 0; i < 50; i++)); do published_both && break; sleep 0.2; done
published_both || fail "the public registry does not publish both peers 10 s after they started"
for tool in "${TOOLS[@]}"; do
  check_zone "$tool" "$NS_STRANGER" "$REG_IP" "$WG_PORT" "from a stranger on the WireGuard port"
done
# The stock wgsd-client against the public registry's WireGuard port (from Alice's host, an
# ephemeral port: a stranger to the registry, answered because the zone is public).
ep=$(wgsd_client "$NS_ALICE" "$REG_IP" "$WG_PORT" "$IF_ALICE" "$PUB_BOB")
[[ $(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB") == "$ep" ]] || fail "wg set endpoint $ep did not apply"
expect_ping "$NS_ALICE" "$BOB_TUN" "after a wgsd-client style update from the public port"
log "ok: wgsd-client's lookup on the public WireGuard port and wg set: Bob at $ep"
for p in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: dig, kdig and drill read the registry's records in the tunnel and, when public, on the WireGuard port"
