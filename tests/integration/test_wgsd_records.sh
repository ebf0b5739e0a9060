#!/usr/bin/env bash
# wgsd's records and names (issue 19 items 1-2, DESIGN.md §11), with the real binary and
# stock clients, in the NAT topology of §8: a registry (Self = yes, SelfEndpoint, a Knot DNS
# secondary), Alice and Bob behind their NATs (wgpunch discovery), and Carol on the
# registry's link (wgpunch without discovery: the registry and the others' keys only).
#   1. dig and kdig in the tunnel: every member's TXT at its instance name exactly as wgsd
#      prints it ("txtvers=1" "pub=<key>" "allowed=<the registry's AllowedIPs, file order>",
#      "name=<Name>" when named), the registry's own record; an SRV answer's ADDITIONAL holds
#      the NAT address first, then the TXT.
#   2. Names: alice.<zone> A/AAAA = her tunnel addresses, a Name's case does not count, an
#      unnamed peer has none; `ping -4 alice.example.net` from Bob, whose resolv.conf names
#      the registry's tunnel address.
#   3. The Knot secondary serves the same TXT, names and self record (they are in the AXFR;
#      Knot's SRV answers add the target's address, not the TXT, as any secondary).
#   4. The stock wgsd-client (jwhited/wgsd, /opt/anchors/wgsd/wgsd-client) on Carol, asking the
#      registry in the tunnel and then Knot: it sets Alice's and Bob's endpoints to the NAT
#      mappings the registry sees and the registry's to SelfEndpoint.
#   5. A reload (SIGHUP) names Carol and renames Bob: the names follow, in the registry and in
#      Knot, with no restart.
# Usage: bash test_wgsd_records.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"
source "$HERE/../../scripts/lib/knot.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk nft conntrack dig kdig knotd base32 base64 timeout
WGSD_CLIENT=${WGSD_CLIENT:-/opt/anchors/wgsd/wgsd-client}
nl_init wgsdrec
CAROL_IP=203.0.113.3
KNOT_IP=203.0.113.9
CAROL_TUN=10.0.0.3
KEY_NAME=xfr.example.
TSIG_SECRET=$(head -c 32 /dev/urandom | base64)
secret "$TSIG_SECRET"
SRV_NAME=_wireguard._udp.$ZONE

nat_topology cone cone
nat_public_host NS_CAROL "$CAROL_IP"
nat_public_host NS_KNOT "$KNOT_IP"
punch_keys
wgp_keypair KEY_CAROL PUB_CAROL
IF_CAROL=$(uniq_iface carol)
B32_CAROL=$(b32_of "$PUB_CAROL")
# Bob's resolver (part 2) is the registry: a file `ip netns exec` mounts as his resolv.conf.
RESOLV_DIR=/etc/netns/$NS_BOB
# (set +e first: under errexit `(exit 1)` would end the trap before cleanup.)
trap 'rc=$?; set +e; rm -rf "$RESOLV_DIR"; (exit $rc); cleanup' EXIT

punch_configs no 2
# reg_conf NAME_BOB NAME_CAROL: the registry's config; an empty name leaves the key out.
reg_conf() {
  write_conf "$CONF_REG" <<EOF
[Interface]
PrivateKey = $KEY_REG
ListenPort = $WG_PORT
Address = $REG_TUN/24, fd00::fe/64

[Registry]
Zone = $ZONE
Self = yes
SelfEndpoint = $REG_IP:$WG_PORT
Secondary = $KNOT_IP
TransferKey = hmac-sha256:$KEY_NAME:$TSIG_SECRET

[Peer]
PublicKey = $PUB_ALICE
AllowedIPs = $ALICE_TUN/32, fd00::1/128
Name = alice

[Peer]
PublicKey = $PUB_BOB
AllowedIPs = $BOB_TUN/32
${1:+Name = $1}

[Peer]
PublicKey = $PUB_CAROL
AllowedIPs = $CAROL_TUN/32, 10.3.0.0/16
${2:+Name = $2}
EOF
}
reg_conf Bob ""
CONF_CAROL=$NL_TMP/$IF_CAROL.conf
write_conf "$CONF_CAROL" <<EOF
[Interface]
PrivateKey = $KEY_CAROL
ListenPort = $WG_PORT
Address = $CAROL_TUN/24

[Peer]
PublicKey = $PUB_REG
AllowedIPs = $REG_TUN/32
Endpoint = $REG_IP:$WG_PORT
PersistentKeepalive = 5

[Peer]
PublicKey = $PUB_ALICE
AllowedIPs = $ALICE_TUN/32

[Peer]
PublicKey = $PUB_BOB
AllowedIPs = $BOB_TUN/32
EOF

punch_up_registry
knot_secondary PID_KNOT "$NS_KNOT" "$KNOT_IP" "$REG_IP" "$WG_PORT" "$KEY_NAME" "$TSIG_SECRET"
punch_up_peers
wgp_up PID_CAROL "$NS_CAROL" "$CONF_CAROL"

# ask TOOL SERVER NAME TYPE [OPTION...]: one query from Carol (bounded); the records of the
# ANSWER and ADDITIONAL sections, one per line as "section owner ttl class type rdata", kdig's
# `\=` undone. Fails when no answer came.
ask() {
  local tool=$1 server=$2 name=$3 type=$4 out
  shift 4
  case $tool in
    dig) out=$(ns_exec "$NS_CAROL" timeout 10 dig +time=2 +tries=2 "$@" @"$server" "$name" "$type") ;;
    kdig) out=$(ns_exec "$NS_CAROL" timeout 10 kdig +time=2 +retry=1 "$@" @"$server" "$name" "$type") ;;
  esac || fail "$tool @$server $name $type: no answer"
  printf '%s\n' "$out" >"$NL_TMP/answer"
  awk '/^;; [A-Z]+ SECTION:/ { cur = $2; next }
       /^;/ || NF == 0 { next }
       cur == "ANSWER" || cur == "ADDITIONAL" { gsub(/\\=/, "="); $1 = $1; print cur, $0 }' \
    "$NL_TMP/answer"
}

# status_of: the response code of the last answer.
status_of() { grep -oE 'status: [A-Z]+' "$NL_TMP/answer" | head -n 1 | awk '{print $2}'; }

# rdata SECTION TYPE: the data of the records of TYPE in SECTION of `ask`'s output (stdin).
rdata() { awk -v s="$1" -v t="$2" '$1 == s && $5 == t { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }'; }

# txt_of PUB ALLOWED [NAME]: the TXT wgsd prints for a peer.
txt_of() {
  printf '"txtvers=1" "pub=%s" "allowed=%s"%s' "$1" "$2" "${3:+ \"name=$3\"}"
}

# published_all SERVER: the PTR list at SERVER names the four (three members and the registry).
published_all() {
  [[ $(ask dig "$1" "$SRV_NAME" PTR +time=1 +tries=1 | rdata ANSWER PTR | wc -l) == 4 ]]
}
T0=$(now_ms)
wait_for "the registry to publish Alice, Bob, Carol and itself" 20 published_all "$REG_TUN"
log "ok: the registry publishes all four $(($(now_ms) - T0)) ms after the members started"

WANT_ALICE=$(txt_of "$PUB_ALICE" "$ALICE_TUN/32,fd00::1/128" alice)
WANT_BOB=$(txt_of "$PUB_BOB" "$BOB_TUN/32" bob)
WANT_CAROL=$(txt_of "$PUB_CAROL" "$CAROL_TUN/32,10.3.0.0/16")
WANT_REG=$(txt_of "$PUB_REG" "$REG_TUN/32,fd00::fe/128")

# check_records TOOL SERVER WHERE: part 1 and the name records of part 2 at one server.
check_records() {
  local tool=$1 server=$2 where="$1 @$2" b32 want got
  for who in ALICE BOB CAROL REG; do
    b32=B32_$who
    want=WANT_$who
    got=$(ask "$tool" "$server" "${!b32}.$SRV_NAME" TXT | rdata ANSWER TXT)
    want=${!want}
    # In its tunnel the registry's own record carries its relay offer after wgsd's strings
    # (dnssd/relay_offer.h); a secondary's copy is wgsd's alone.
    [[ $who == REG && $server == "$REG_TUN" ]] && want+=' "relay=no"'
    [[ $got == "$want" ]] || fail "$where: TXT of $who is '$got', wgsd prints '$want'"
  done
  ask "$tool" "$server" "$B32_ALICE.$SRV_NAME" SRV >"$NL_TMP/srv"
  [[ $(awk '$1 == "ADDITIONAL"' "$NL_TMP/srv" | head -n 1 | awk '{print $5, $6}') == "A $NAT_A_OUT" ]] ||
    fail "$where: SRV of Alice, the first ADDITIONAL is not NAT A's address: $(tr '\n' '|' <"$NL_TMP/srv")"
  # The TXT after it is the registry's (as wgsd's); a secondary adds the target's addresses only.
  [[ $server != "$REG_TUN" || $(rdata ADDITIONAL TXT <"$NL_TMP/srv") == "$WANT_ALICE" ]] ||
    fail "$where: SRV of Alice has not her TXT in ADDITIONAL: $(tr '\n' '|' <"$NL_TMP/srv")"
  got=$(ask "$tool" "$server" "$B32_REG.$SRV_NAME" SRV | rdata ANSWER SRV)
  [[ ${got,,} == "0 0 $WG_PORT ${B32_REG,,}.$ZONE" ]] ||
    fail "$where: the registry's own SRV is '$got', not at its SelfEndpoint port"
  [[ $(ask "$tool" "$server" "$B32_REG.$ZONE" A | rdata ANSWER A) == "$REG_IP" ]] ||
    fail "$where: the registry's own A is not its SelfEndpoint address"
  [[ $(ask "$tool" "$server" "alice.$ZONE" A | rdata ANSWER A) == "$ALICE_TUN" ]] ||
    fail "$where: alice.$ZONE A is not $ALICE_TUN"
  [[ $(ask "$tool" "$server" "alice.$ZONE" AAAA | rdata ANSWER AAAA) == "fd00::1" ]] ||
    fail "$where: alice.$ZONE AAAA is not fd00::1"
  [[ $(ask "$tool" "$server" "BOB.$ZONE" A | rdata ANSWER A) == "$BOB_TUN" ]] ||
    fail "$where: BOB.$ZONE A (Name = Bob) is not $BOB_TUN"
  ask "$tool" "$server" "carol.$ZONE" A >/dev/null
  [[ $(status_of) == NXDOMAIN ]] || fail "$where: carol.$ZONE (no Name) is $(status_of), not NXDOMAIN"
  log "ok: $where: TXT of the 3 members and the registry as wgsd prints them, SRV's ADDITIONAL, self record, names"
}

log "=== 1-2. The records in the tunnel (Carol asks the registry's tunnel address)"
for tool in dig kdig; do check_records "$tool" "$REG_TUN"; done

# Bob's resolver asks the registry for every name (in the tunnel): ping by name.
mkdir -p "$RESOLV_DIR"
printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$REG_TUN" >"$RESOLV_DIR/resolv.conf"
[[ $(ns_exec "$NS_BOB" getent ahostsv4 "alice.${ZONE%.}" | awk 'NR == 1 {print $1}') == "$ALICE_TUN" ]] ||
  fail "Bob's resolver does not resolve alice.${ZONE%.} to $ALICE_TUN"
T1=$(now_ms)
ping_name() { ns_exec "$NS_BOB" ping -4 -q -n -c 1 -W 1 "alice.${ZONE%.}" >/dev/null 2>&1; }
wait_for "a reply to ping -4 alice.${ZONE%.} from Bob" 15 ping_name
log "ok: ping -4 alice.${ZONE%.} from Bob (resolver: the registry's tunnel address), $(($(now_ms) - T1)) ms"

log "=== 3. The Knot secondary serves the same records"
# The registry commits a zone version at most once a second, so the version with the members
# may come after the one Knot loaded first: wait for it to reach Knot, then for Knot to hold
# whatever is current.
knot_has_alice_txt() { [[ $(ask dig "$KNOT_IP" "$B32_ALICE.$SRV_NAME" TXT | rdata ANSWER TXT) == "$WANT_ALICE" ]]; }
wait_for "Knot to serve Alice's TXT" 15 knot_has_alice_txt
knot_wait_registry "$NS_KNOT" "$KNOT_IP" "$NS_REG" "$IF_REG" 15
for tool in dig kdig; do check_records "$tool" "$KNOT_IP"; done

log "=== 4. The stock wgsd-client on Carol"
if [[ ! -x $WGSD_CLIENT ]]; then
  skip_part "the stock wgsd-client is not at $WGSD_CLIENT (set WGSD_CLIENT)"
else
  # run_wgsd_client DNS: one pass over Carol's peers; then each endpoint is the one published.
  run_wgsd_client() {
    ns_exec "$NS_CAROL" timeout 30 "$WGSD_CLIENT" -device "$IF_CAROL" -dns "$1" -zone "$ZONE" \
      >"$NL_TMP/wgsd-client.log" 2>&1 || fail "wgsd-client -dns $1 failed: $(tr '\n' '|' <"$NL_TMP/wgsd-client.log")"
    for who in ALICE BOB; do
      pub=PUB_$who
      want=$(peer_endpoint "$NS_REG" "$IF_REG" "${!pub}")
      got=$(peer_endpoint "$NS_CAROL" "$IF_CAROL" "${!pub}")
      [[ -n $want && $got == "$want" ]] ||
        fail "wgsd-client -dns $1 set $who's endpoint to '$got'; the registry sees $who at '$want'"
    done
    [[ $(peer_endpoint "$NS_CAROL" "$IF_CAROL" "$PUB_REG") == "$REG_IP:$WG_PORT" ]] ||
      fail "wgsd-client -dns $1: the registry's endpoint is not its SelfEndpoint"
    log "ok: wgsd-client -dns $1 set Alice's, Bob's and the registry's endpoints to the published ones"
  }
  for who in ALICE BOB; do
    pub=PUB_$who
    [[ $(peer_endpoint "$NS_CAROL" "$IF_CAROL" "${!pub}") == "(none)" ]] ||
      fail "Carol has an endpoint for $who before wgsd-client ran"
  done
  run_wgsd_client "$REG_TUN:53"
  expect_ping "$NS_CAROL" "$REG_TUN" "Carol to the registry after wgsd-client"
  # Forget the endpoints (the peers again without one), then from Knot.
  ns_exec "$NS_CAROL" wg set "$IF_CAROL" peer "$PUB_ALICE" remove peer "$PUB_BOB" remove
  ns_exec "$NS_CAROL" wg set "$IF_CAROL" peer "$PUB_ALICE" allowed-ips "$ALICE_TUN/32" \
    peer "$PUB_BOB" allowed-ips "$BOB_TUN/32"
  run_wgsd_client "$KNOT_IP:53"
fi

log "=== 5. A reload names Carol and renames Bob"
SERIAL=$(status_field "$NS_REG" "$IF_REG" "registry zone serial")
reg_conf robert carol
kill -HUP "$PID_REG"
carol_named() { [[ $(ask dig "$REG_TUN" "carol.$ZONE" A +time=1 +tries=1 | rdata ANSWER A) == "$CAROL_TUN" ]]; }
T2=$(now_ms)
wait_for "carol.$ZONE after the reload" 10 carol_named
log "ok: carol.$ZONE answers $(($(now_ms) - T2)) ms after SIGHUP"
[[ $(ask dig "$REG_TUN" "$B32_CAROL.$SRV_NAME" TXT | rdata ANSWER TXT) == "$(txt_of "$PUB_CAROL" "$CAROL_TUN/32,10.3.0.0/16" carol)" ]] ||
  fail "Carol's TXT has not name=carol after the reload"
ask dig "$REG_TUN" "bob.$ZONE" A >/dev/null
[[ $(status_of) == NXDOMAIN ]] || fail "bob.$ZONE after the rename is $(status_of), not NXDOMAIN"
[[ $(ask dig "$REG_TUN" "robert.$ZONE" A | rdata ANSWER A) == "$BOB_TUN" ]] || fail "robert.$ZONE is not $BOB_TUN"
NEW=$(status_field "$NS_REG" "$IF_REG" "registry zone serial")
[[ $NEW != "$SERIAL" ]] || fail "the reload made no new zone version (serial $SERIAL)"
knot_wait_serial "$NS_KNOT" "$KNOT_IP" "$NEW" 15
[[ $(ask kdig "$KNOT_IP" "carol.$ZONE" A | rdata ANSWER A) == "$CAROL_TUN" ]] ||
  fail "Knot does not serve carol.$ZONE after the reload"
handshakes=$(ns_exec "$NS_REG" wg show "$IF_REG" latest-handshakes | awk '$2 > 0' | wc -l)
((handshakes == 3)) || fail "the registry has $handshakes members with a handshake after the reload"
log "ok: the reload renamed Bob and named Carol, in the registry and in Knot (serial $SERIAL -> $NEW)"

for p in "$PID_CAROL $NS_CAROL $IF_CAROL" "$PID_ALICE $NS_ALICE $IF_ALICE" \
  "$PID_BOB $NS_BOB $IF_BOB" "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$p"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: wgsd's TXT records, the registry's own record and names, read by dig, kdig, a Knot secondary and the stock wgsd-client"
