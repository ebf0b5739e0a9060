#!/usr/bin/env bash
# The offload data path, wgpunch <-> wgpunch: the TUN opened with a vnet header and TSO/USO,
# UDP GSO and GRO on the socket. Checks, with the real kernel on both ends:
#  - status reports the offloads the kernel took;
#  - TCP bulk data both ways, IPv4 and IPv6 inside, arrives intact (SHA-256), and the
#    counters show super-packets were really split (sender) and coalesced (receiver);
#  - UDP sent with UDP_SEGMENT inside the tunnel (a USO super-packet on the TUN) arrives as
#    whole datagrams with valid checksums (the kernel drops any it cannot verify), and with
#    TUN USO the receiver wrote them coalesced (its counter grew);
#  - every fallback still works: both ends without offloads (WGPUNCH_OFFLOAD=off), and each
#    mix of one end with TUN offloads only and the other with UDP offloads only;
#  - crypto spread over 3 worker threads on one end (each worker sealed and opened, counted per
#    thread in status) and kept on the event loop on the other.
# Usage: bash test_offload.sh /path/to/wgpunch   (OFFLOAD_MIB=N to change the size)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools ip ping socat sha256sum ss timeout python3 awk
MIB=${OFFLOAD_MIB:-32}
nl_init offload

ns_create NS_A
ns_create NS_B
veth_link "$NS_A" eth0 "192.0.2.1/24" "$NS_B" eth0 "192.0.2.2/24"

wgp_keypair KA PUBA
wgp_keypair KB PUBB
IFA=$(uniq_iface woa)
IFB=$(uniq_iface wob)
peer_conf "$NL_TMP/$IFA.conf" "$KA" 51820 "10.9.0.1/24, fd09::1/64" "$PUBB" "10.9.0.2/32, fd09::2/128" \
  192.0.2.2:51820
peer_conf "$NL_TMP/$IFB.conf" "$KB" 51820 "10.9.0.2/24, fd09::2/64" "$PUBA" "10.9.0.1/32, fd09::1/128" \
  192.0.2.1:51820

head -c "${MIB}M" /dev/urandom >"$NL_TMP/payload"

# status_field NS IFACE NAME: the interface's status line "  NAME: value" (words as printed).
status_field() {
  ns_exec "$1" timeout 5 "$WGPUNCH" status "$2" | awk -v k="  $3" -F': ' '$1 == k {print $2; exit}'
}

# pair_up MODE_A MODE_B: both daemons with WGPUNCH_OFFLOAD set to these; tunnel checked.
pair_up() {
  WGPUNCH_OFFLOAD=$1 wgp_up PID_A "$NS_A" "$NL_TMP/$IFA.conf"
  WGPUNCH_OFFLOAD=$2 wgp_up PID_B "$NS_B" "$NL_TMP/$IFB.conf"
  expect_ping "$NS_A" 10.9.0.2 "A ($1) -> B ($2), v4 inside"
  expect_ping "$NS_B" fd09::1 "B ($2) -> A ($1), v6 inside"
}
pair_down() {
  wgp_stop "$PID_A" "$NS_A" "$IFA"
  wgp_stop "$PID_B" "$NS_B" "$IFB"
}

# udp_segmented FROM TO ADDR: 100 sends of 40 x 1000-byte datagrams with UDP_SEGMENT from FROM
# to ADDR in TO; each datagram carries its index and a pattern. At least 90% must arrive
# (UDP may drop under load) and every one that arrives must be intact.
udp_segmented() {
  local from=$1 to=$2 addr=$3 rpid out=$NL_TMP/udp-recv.txt
  rm -f "$out"
  spawn rpid "$to" "$out" timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("0.0.0.0", 7000)); s.settimeout(3)
good = bad = 0
try:
    while good + bad < 4000:
        d = s.recv(2000)
        i = int.from_bytes(d[:4], "big")
        ok = len(d) == 1000 and d[4:] == bytes((i + k) & 0xff for k in range(996))
        good += ok; bad += not ok
except socket.timeout:
    pass
print(good, bad)'
  wait_for "UDP receiver in $to" 10 \
    bash -c "ip netns exec '$to' ss -Hlun 'sport = :7000' | grep -q 7000"
  ns_exec "$from" timeout 20 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_UDP, 103, 1000)  # UDP_SEGMENT: the kernel cuts 1000-byte datagrams
for b in range(100):
    buf = b"".join(((b * 40 + j).to_bytes(4, "big") +
                    bytes(((b * 40 + j) + k) & 0xff for k in range(996))) for j in range(40))
    s.sendto(buf, ("'"$addr"'", 7000))
    time.sleep(0.002)' || fail "segmented UDP sender failed"
  wait_for "UDP receiver to finish" 25 pid_gone "$rpid"
  wait "$rpid" || true
  forget_pid "$rpid"
  read -r good bad <"$out" || fail "UDP receiver printed nothing"
  ((bad == 0)) || fail "$bad of the segmented UDP datagrams arrived damaged"
  ((good >= 3600)) || fail "only $good of 4000 segmented UDP datagrams arrived"
  log "ok: UDP_SEGMENT inside the tunnel: $good of 4000 datagrams intact, none damaged"
}

log "=== offloads on both ends"
pair_up on on
offloads=$(status_field "$NS_A" "$IFA" offloads)
log "A's offloads: $offloads"
[[ $offloads == *tun-tso4*tun-tso6* ]] || fail "A: TUN TSO offloads missing: '$offloads'"
[[ $offloads == *udp-gso*udp-gro* ]] || fail "A: UDP GSO/GRO missing: '$offloads'"
tcp_transfer "$NS_A" "$NS_B" 10.9.0.2 5001 "A -> B, v4 inside" "$NL_TMP/payload"
tcp_transfer "$NS_B" "$NS_A" fd09::1 5002 "B -> A, v6 inside" "$NL_TMP/payload"
split=$(status_field "$NS_A" "$IFA" "tun frames split")
coalesced=$(status_field "$NS_B" "$IFB" "tun packets coalesced")
log "A split ${split:-0} TSO super-packets; B coalesced ${coalesced:-0} packets into others"
((${split:-0} > 0)) || fail "A never read a TSO super-packet from its TUN"
((${coalesced:-0} > 0)) || fail "B never coalesced received TCP segments"
# With TUN USO (Linux 6.2+) these reach wgpunch as super-packets it splits, and B writes runs
# of the received datagrams as GSO_UDP_L4 super-packets; before, the kernel splits them itself
# and B writes them one by one. Either way they must arrive whole; only with USO on both ends
# does this check wgpunch's own USO path (a machine property, so skipped without it).
offloads_b=$(status_field "$NS_B" "$IFB" offloads)
USO=no
if [[ $offloads == *tun-uso4* && $offloads_b == *tun-uso4*tun-uso6* ]]; then
  USO=yes
else
  skip_part "TUN USO: this kernel has none (A: '$offloads', B: '$offloads_b'), so wgpunch's" \
    "splitting of USO super-packets and B's coalescing of UDP are not checked"
fi
split=$(status_field "$NS_A" "$IFA" "tun frames split")
udp_segmented "$NS_A" "$NS_B" 10.9.0.2
bad=$(status_field "$NS_A" "$IFA" "tun bad frames")
[[ -z $bad ]] || fail "A counted $bad TUN frames it could not parse"
# The counters of the UDP phase: A's split super-packets, B's packets merged into another's frame.
split_udp=$(($(status_field "$NS_A" "$IFA" "tun frames split") - ${split:-0}))
coalesced_udp=$(($(status_field "$NS_B" "$IFB" "tun packets coalesced") - ${coalesced:-0}))
log "UDP phase: A split $split_udp USO super-packets, B coalesced $coalesced_udp UDP datagrams into others"
if [[ $USO == yes ]]; then
  ((split_udp > 0)) || fail "A never read a USO super-packet from its TUN (USO on)"
  ((coalesced_udp > 0)) || fail "B never coalesced received UDP datagrams (USO on)"
fi
pair_down

log "=== offloads off on both ends"
pair_up off off
[[ $(status_field "$NS_A" "$IFA" offloads) == none ]] || fail "WGPUNCH_OFFLOAD=off left offloads on"
tcp_transfer "$NS_A" "$NS_B" 10.9.0.2 5003 "A -> B, no offloads" "$NL_TMP/payload"
tcp_transfer "$NS_B" "$NS_A" fd09::1 5004 "B -> A, no offloads" "$NL_TMP/payload"
pair_down

log "=== TUN offloads only on A, UDP offloads only on B"
pair_up tun udp
[[ $(status_field "$NS_A" "$IFA" offloads) != *udp-* ]] || fail "WGPUNCH_OFFLOAD=tun left UDP offloads on"
[[ $(status_field "$NS_B" "$IFB" offloads) != *tun-* ]] || fail "WGPUNCH_OFFLOAD=udp left TUN offloads on"
tcp_transfer "$NS_A" "$NS_B" 10.9.0.2 5005 "A (tun) -> B (udp)" "$NL_TMP/payload"
tcp_transfer "$NS_B" "$NS_A" 10.9.0.1 5006 "B (udp) -> A (tun)" "$NL_TMP/payload"
udp_segmented "$NS_B" "$NS_A" 10.9.0.1
pair_down

log "=== crypto on 3 worker threads on A, on the event loop alone on B"
WGPUNCH_CRYPTO_WORKERS=3 wgp_up PID_A "$NS_A" "$NL_TMP/$IFA.conf"
WGPUNCH_CRYPTO_WORKERS=0 wgp_up PID_B "$NS_B" "$NL_TMP/$IFB.conf"
expect_ping "$NS_A" 10.9.0.2 "A (3 workers) -> B (none)"
[[ $(status_field "$NS_A" "$IFA" "crypto workers") == 3 ]] || fail "A does not report 3 crypto workers"
[[ $(status_field "$NS_B" "$IFB" "crypto workers") == 0 ]] || fail "B does not report 0 crypto workers"
tcp_transfer "$NS_A" "$NS_B" 10.9.0.2 5007 "A (3 workers) -> B (none)" "$NL_TMP/payload"
tcp_transfer "$NS_B" "$NS_A" fd09::1 5008 "B (none) -> A (3 workers)" "$NL_TMP/payload"
# Where A's crypto ran: seals and opens per thread, the event loop's first. Each worker must
# have taken part in both (a pool that ran every job on the event loop would show zeros).
seals=$(status_field "$NS_A" "$IFA" "crypto seals per thread")
opens=$(status_field "$NS_A" "$IFA" "crypto opens per thread")
log "A's seals per thread: $seals; opens per thread: $opens"
for what in seals opens; do
  read -r -a n <<<"${!what}"
  ((${#n[@]} == 4)) || fail "A's $what per thread: '${!what}', expected 4 counts (event loop + 3 workers)"
  for t in 1 2 3; do ((n[t] > 0)) || fail "A's worker $t ran no $what: '${!what}'"; done
done
[[ -z $(status_field "$NS_B" "$IFB" "crypto seals per thread") ]] ||
  fail "B (no workers) reports crypto per thread"
pair_down

log "PASS: offloads on, off and mixed, crypto workers 0 and 3: TCP intact both ways, segmented UDP intact"
