#!/usr/bin/env bash
# An off-path attacker against discovery (issue 10, "How it is checked", integration part;
# DESIGN.md §4 "Where queries are answered", §5). Alice and Bob are behind port-restricted
# NATs, connected directly through discovery as in test_nat_punch.sh. An attacker namespace
# on the public side (on the registry's link, no peer of anyone) forges source addresses
# with raw sockets (wgp_attack) and runs the chain that moved a live tunnel before the
# rewrite:
#   a. a plain DNS query SPOOFED from Bob's public endpoint to the registry (SRV of Alice's
#      record): a registry that took that for Bob would NOTIFY Alice, and a discovery client
#      that then asked in plain DNS from its WireGuard port would have only the 16-bit id
#      to tell the registry's answer from a forgery;
#   b. forged SRV answers "Bob is at ATTACKER:666" for every DNS id 0..65535, sweep after
#      sweep, from the registry's ip:port to Alice's NAT mapping, while the registry's real
#      answer is 2 x DELAY_MS away (a delay on the registry's link: tc netem when the kernel
#      has sch_netem, else a userspace L2 delay line in the router, see delay_line below),
#      DELAY_MS sized so that the forger covers every id within that time (else the test fails).
# Asserted afterwards: the spoofed query reached the registry and the forgeries reached
# Alice's host (counters: the attack really happened); the registry sent no NOTIFY when it
# answered the spoof, and none in the 5 s before (so its per-pair NOTIFY interval cannot be
# what held one back: Bob's own packets to the registry are held back meanwhile, and a run
# where a NOTIFY still fell in those 5 s fails as inconclusive); Alice's endpoint for Bob is
# unchanged and she is not trying the forged address; nothing ever arrives at the forged
# address (an nft counter in the attacker's namespace), also after pings both ways, which
# work; Alice's status counts the plain DNS she ignored (`dropped dns unexpected`).
#   c. The registry with `Public = no` is silent to the attacker's own valid queries and to
#      100 garbage datagrams (nothing from the registry's address reaches the attacker).
#   d. All three nodes restart with `Public = yes`: a flood of valid PTR queries with EDNS
#      65535 is answered within the registry's per-source budget (20 a second, bursts of 20),
#      no answer exceeds 1,232 bytes and the amplification factor (answer bytes / query bytes)
#      stays <= 1232 / query size. (Two peers only: the answer is small; the >= 150-peer case
#      is a test of its own.)
#
# DISCOVERY_ATTACK_REPORT=1 measures instead of judging (for bench/discovery_attack.sh,
# which compares binaries): every assertion about the product becomes a reported value, a
# `RESULT ...` line sums the run up, and the exit status is 0 unless the setup itself fails.
# DISCOVERY_ATTACK_IMPAIR=netem|relay picks the delay (default: netem when available).
# Usage: bash test_discovery_attack.sh /path/to/wgpunch   (wgp_attack is looked for beside
# it; WGP_ATTACK=/path/to/wgp_attack overrides, e.g. to attack an older build)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
ATTACK=${WGP_ATTACK:-$(dirname "$WGPUNCH")/wgp_attack}
[[ -x $ATTACK ]] || fail "attack tool $ATTACK not built (cmake --build ... --target wgp_attack)"
require_tools wg ip ping awk nft conntrack base32 base64 python3 timeout tc
nl_init dattack
REPORT=${DISCOVERY_ATTACK_REPORT:-0}
T_START=$SECONDS

ATTACKER_IP=203.0.113.66
FORGED=$ATTACKER_IP:666  # the address the forged answers give for Bob: the attacker's own
# During the chain the registry is DELAY_MS away from everyone, each way. The spoof reaches it
# 1 x DELAY after it is sent, a NOTIFY it sent would reach Alice at 2 x DELAY, and the answer to
# the plain query she would then send is back at 4 x DELAY: forged answers win only if every id
# arrives within that window of 2 x DELAY, which holds wherever the window falls when the
# slowest sweep of the forger takes at most 1 x DELAY. DELAY_MS is sized to this machine's
# forger (a calibration sweep before the chain: at least MIN_DELAY_MS, 1.5 x its slowest sweep,
# at most MAX_DELAY_MS) and the chain's own sweeps are checked against it: too slow fails.
MIN_DELAY_MS=${DISCOVERY_ATTACK_MIN_DELAY_MS:-500}
MAX_DELAY_MS=4000
# The registry's per-pair NOTIFY interval (src/discovery/registry_service.cpp kNotifyInterval).
NOTIFY_INTERVAL_MS=5000

# --- judging or measuring --------------------------------------------------------------------
VIOLATIONS=()
# expect_that WHAT CMD...: the product behaves as WHAT says when CMD succeeds. A failure
# fails the test, or in report mode is recorded and the run goes on.
expect_that() {
  local what=$1
  shift
  if "$@"; then
    log "ok: $what"
  elif [[ $REPORT == 1 ]]; then
    log "VIOLATED: $what"
    VIOLATIONS+=("$what")
  else
    fail "$what"
  fi
}
ping_works() { ping_ok "$1" "$2" 5; }

# dev_counter NS IFACE FIELD: a device-level `wgpunch status` number, 0 when absent.
dev_counter() {
  local v
  v=$(status_field "$1" "$2" "$3")
  [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

# nft_packets NS TABLE COUNTER: packets counted by a named nft counter.
nft_packets() {
  ns_exec "$1" nft list counter ip "$2" "$3" | awk '$1 == "packets" {print $2; exit}'
}

# nft_datagrams NS TABLE COUNTER PAYLOAD: UDP datagrams of PAYLOAD bytes that a named nft counter
# saw, whether one by one or as runs the kernel carried as one packet (UDP GSO/GRO: one IP and
# UDP header for the run): (bytes - 28 x packets) / PAYLOAD.
nft_datagrams() {
  ns_exec "$1" nft list counter ip "$2" "$3" |
    awk -v p="$4" '$1 == "packets" {printf "%d\n", ($4 - 28 * $2) / p; exit}'
}

# udp_rcvbuf_errors NS: UDP datagrams the kernel of NS dropped for a full receive buffer.
udp_rcvbuf_errors() {
  ns_exec "$1" cat /proc/net/snmp | awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ {print $6; exit}'
}

# kv KEY LINE: the value of KEY=... in a line of key=value words.
kv() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2; exit}'; }

# --- the delay on the registry's link ---------------------------------------------------------
IMPAIR=${DISCOVERY_ATTACK_IMPAIR:-}
if [[ -z $IMPAIR ]]; then
  IMPAIR=relay
  ns_create NS_PROBE
  ip -n "$NS_PROBE" link add p0 type veth peer name p1
  tc -n "$NS_PROBE" qdisc add dev p0 root netem delay 1ms 2>/dev/null && IMPAIR=netem
fi
[[ $IMPAIR == netem || $IMPAIR == relay ]] ||
  fail "DISCOVERY_ATTACK_IMPAIR is '$IMPAIR', expected netem or relay"

# The relay: without sch_netem, the registry's port on the router's bridge is replaced by a
# veth pair whose bridge end is fed by this script, which copies frames between the
# registry's link (reg0) and the pair (dl0), each DELAY ms late, both ways. Layer 2, so
# addresses, ARP and the NATs see exactly what they saw before. One thing a wire does that
# a packet socket does not: veth hands on UDP with the checksum left to offload (only the
# pseudo-header sum in the field), which would go out of here broken (conntrack calls it
# INVALID, the NAT drops it); so the UDP checksum of every unfragmented IPv4 datagram is
# written whole, as a NIC would. Bounded: it holds at most 10,000 frames and exits after
# SECONDS (or on SIGTERM); prints its counts at the end.
cat >"$NL_TMP/delay_line.py" <<'EOF'
import heapq, select, signal, socket, struct, sys, time
ETH_P_ALL, PACKET_OUTGOING = 3, 4
reg_if, bridge_if, delay, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000, float(sys.argv[4])
def open_packet(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, ETH_P_ALL))
    s.setblocking(False)
    return s
def complete_udp_checksum(frame):
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return frame  # not Ethernet + IPv4 + UDP
    ihl = (frame[14] & 0x0F) * 4
    total = int.from_bytes(frame[16:18], "big")
    if struct.unpack("!H", frame[20:22])[0] & 0x3FFF or total > len(frame) - 14 or total < ihl + 8:
        return frame  # a fragment (the checksum covers the whole datagram), or cut short
    ip = frame[14 : 14 + total]
    udp = bytearray(ip[ihl:])
    udp[6:8] = b"\0\0"
    data = ip[12:20] + bytes([0, 17]) + len(udp).to_bytes(2, "big") + udp + b"\0" * (len(udp) % 2)
    total_sum = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total_sum >> 16:
        total_sum = (total_sum & 0xFFFF) + (total_sum >> 16)
    udp[6:8] = ((~total_sum & 0xFFFF) or 0xFFFF).to_bytes(2, "big")
    return frame[: 14 + ihl] + bytes(udp) + frame[14 + total :]
reg, bridge = open_packet(reg_if), open_packet(bridge_if)
other = {reg: bridge, bridge: reg}
held, seq = [], 0
n = {"from_registry": 0, "to_registry": 0, "dropped": 0}
end = time.monotonic() + seconds
def stop(*_):
    global end
    end = 0
signal.signal(signal.SIGTERM, stop)
print("delay line ready", flush=True)
while True:
    now = time.monotonic()
    if now >= end:
        break
    while held and held[0][0] <= now:
        _, _, out, frame = heapq.heappop(held)
        try:
            out.send(frame)
            n["from_registry" if out is bridge else "to_registry"] += 1
        except OSError:
            n["dropped"] += 1
    wait = min(end - now, held[0][0] - now if held else 0.05)
    ready, _, _ = select.select([reg, bridge], [], [], max(0.0, wait))
    for s in ready:
        for _ in range(64):
            try:
                frame, addr = s.recvfrom(65535)
            except BlockingIOError:
                break
            if addr[2] == PACKET_OUTGOING:
                continue
            if len(held) >= 10000:
                n["dropped"] += 1
            else:
                frame = complete_udp_checksum(frame)
                heapq.heappush(held, (time.monotonic() + delay, seq, other[s], frame))
                seq += 1
print(" ".join("%s=%d" % kv for kv in n.items()), flush=True)
EOF

# delay_on: the registry is DELAY_MS away from everyone from now on, both ways; checked
# with a ping from the router (RTT >= 2 x DELAY_MS).
delay_on() {
  if [[ $IMPAIR == netem ]]; then
    tc -n "$NS_REG" qdisc add dev eth0 root netem delay "${DELAY_MS}ms" limit 100000 ||
      fail "tc netem on the registry's link failed"
    tc -n "$NS_ROUTER" qdisc add dev reg0 root netem delay "${DELAY_MS}ms" limit 100000 ||
      fail "tc netem on the router's side of the registry's link failed"
  else
    ip -n "$NS_ROUTER" link set reg0 nomaster
    ip -n "$NS_ROUTER" link add dl0 type veth peer name dl1
    ip -n "$NS_ROUTER" link set dl1 master br0
    ip -n "$NS_ROUTER" link set dl0 up
    ip -n "$NS_ROUTER" link set dl1 up
    spawn PID_DELAY "$NS_ROUTER" "$NL_TMP/delay_line.log" \
      python3 -u "$NL_TMP/delay_line.py" reg0 dl0 "$DELAY_MS" 60
    wait_for "the delay line" 10 grep -q "delay line ready" "$NL_TMP/delay_line.log"
  fi
  local rtt
  rtt=$(ns_exec "$NS_ROUTER" ping -n -c 1 -W $((2 * DELAY_MS / 1000 + 3)) "$REG_IP" |
    awk -F'time=' '/time=/ {print int($2)}')
  [[ -n $rtt ]] || fail "no ping reply from the registry through the delay ($IMPAIR)"
  ((rtt >= 2 * DELAY_MS)) || fail "the registry answers a ping in $rtt ms despite the delay"
  log "delay on the registry's link ($IMPAIR): ping RTT $rtt ms"
}

delay_off() {
  if [[ $IMPAIR == netem ]]; then
    tc -n "$NS_REG" qdisc del dev eth0 root
    tc -n "$NS_ROUTER" qdisc del dev reg0 root
  else
    stop_pid "$PID_DELAY" 5
    forget_pid "$PID_DELAY"
    log "delay line: $(tail -n 1 "$NL_TMP/delay_line.log")"
    ip -n "$NS_ROUTER" link del dl0
    ip -n "$NS_ROUTER" link set reg0 master br0
  fi
}

# --- topology, nodes, direct tunnel ----------------------------------------------------------
nat_topology cone cone
nat_public_host NS_ATTACKER "$ATTACKER_IP"
# The attacker's side: a count of what reaches the forged address (and is dropped there, as
# nothing listens), and of anything at all that comes from the registry's address.
ns_exec "$NS_ATTACKER" nft -f - <<EOF || fail "cannot install the attacker's counters"
table ip attacker {
  counter forged_in { }
  counter from_registry { }
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr $REG_IP counter name from_registry
    udp dport ${FORGED##*:} counter name forged_in drop
  }
}
EOF
# Alice's side: what arrives from the registry's ip:port (keepalives, and the forgeries).
ns_exec "$NS_ALICE" nft -f - <<EOF || fail "cannot install Alice's counter"
table ip alice {
  counter from_registry_port { }
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr $REG_IP udp sport $WG_PORT counter name from_registry_port
  }
}
EOF
punch_keys
punch_configs no 10

log "=== 1. registry, Alice and Bob (Public = no); Alice and Bob punch a direct tunnel"
punch_up_registry
punch_up_peers
ns_exec "$NS_ALICE" ping -n -q -i 0.05 -c 1 -w 20 "$BOB_TUN" >/dev/null ||
  fail "Alice got no ping reply from Bob within 20 s (setup: discovery and punching)"
EP_BOB_AT_REG=$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_BOB")
EP_ALICE_AT_REG=$(peer_endpoint "$NS_REG" "$IF_REG" "$PUB_ALICE")
EP_BOB_BEFORE=$(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")
[[ $EP_BOB_BEFORE == "$EP_BOB_AT_REG" && $EP_BOB_AT_REG == "$NAT_B_OUT":* ]] ||
  fail "setup: Alice reaches Bob at '$EP_BOB_BEFORE', the registry sees him at '$EP_BOB_AT_REG'"
[[ $EP_ALICE_AT_REG == "$NAT_A_OUT":* ]] || fail "setup: the registry sees Alice at '$EP_ALICE_AT_REG'"
log "ok: direct tunnel; Alice -> Bob at $EP_BOB_BEFORE, the registry sees Alice at $EP_ALICE_AT_REG"

log "=== 2. the chain: a query spoofed from Bob's endpoint, then forged answers for every id"
forge() {  # ROUNDS SECONDS: forged answers to Alice's mapping (output: the tool's counts)
  ns_exec "$NS_ATTACKER" timeout 60 "$ATTACK" forge-srv --from "$REG_IP:$WG_PORT" \
    --target "$EP_ALICE_AT_REG" --zone "$ZONE" --key "$PUB_BOB" --forged "$FORGED" \
    --rounds "$1" --seconds "$2" || fail "wgp_attack forge-srv failed"
}
# Calibration: how fast this machine forges, now (load, sanitizers), on the chain's path.
calibration=$(forge 3 20)
CALIBRATION_MS=$(kv sweep_max_ms "$calibration")
DELAY_MS=$(awk -v s="$CALIBRATION_MS" -v lo="$MIN_DELAY_MS" \
  'BEGIN {d = int(1.5 * s / 100 + 1) * 100; print (d < lo ? lo : d)}')
((DELAY_MS <= MAX_DELAY_MS)) || fail "a sweep of every id takes $CALIBRATION_MS ms on this machine," \
  "so the registry would have to be $DELAY_MS ms away (at most $MAX_DELAY_MS): too slow to test the claim"
log "calibration: $calibration"
log "the slowest of 3 sweeps took $CALIBRATION_MS ms: the registry is $DELAY_MS ms away during the chain"
delay_on
# The registry's NOTIFY and plain-answer counters, read every 0.1 s with when each read began
# and ended (ms), from now until the chain is over: they show whether any NOTIFY went out in the
# 5 s before the spoof was answered (then the per-pair interval could be what held one back).
registry_poll() {
  local st t0
  for ((i = 0; i < 900; i++)); do
    t0=$(now_ms)
    st=$(ns_exec "$NS_REG" "$WGPUNCH" status "$IF_REG" 2>/dev/null) || continue
    printf '%s %s %s %s\n' "$t0" "$(now_ms)" \
      "$(awk -F': ' '$1 == "  registry notifies sent" {v = $2} END {print v + 0}' <<<"$st")" \
      "$(awk -F': ' '$1 == "  registry answered plain" {v = $2} END {print v + 0}' <<<"$st")"
    sleep 0.1
  done
}
# Bob's own packets to the registry are held back at NAT B during the chain. His discovery asks
# about Alice after every unanswered handshake (every few seconds at times), a NOTIFY for the
# very pair the spoof claims, and the registry's per-pair interval would then hold back a NOTIFY
# for the spoof whether or not the registry would send one. His endpoint stays confirmed there.
ns_exec "$NS_NAT_B" nft -f - <<EOF || fail "cannot hold back Bob's packets to the registry"
table ip hold {
  counter bob_to_registry { }
  chain forward {
    type filter hook forward priority -10; policy accept;
    ip daddr $REG_IP udp dport $WG_PORT counter name bob_to_registry drop
  }
}
EOF
registry_poll >"$NL_TMP/registry-poll.txt" 2>/dev/null &
PID_POLL=$!
NL_PIDS+=("$PID_POLL")
# notify_quiet_ms: how long, at least, no NOTIFY has gone out (by the poll so far).
notify_quiet_ms() {
  awk '{ if ($3 != n) { n = $3; since = $2 } last = $1 } END { print (NR ? last - since : 0) }' \
    "$NL_TMP/registry-poll.txt"
}
quiet() { (($(notify_quiet_ms) >= NOTIFY_INTERVAL_MS + 1000)); }
wait_for "6 s without a NOTIFY from the registry (the punch's are over)" 30 quiet
plain0=$(dev_counter "$NS_REG" "$IF_REG" "registry answered plain")
notify0=$(dev_counter "$NS_REG" "$IF_REG" "registry notifies sent")
unexpected0=$(dev_counter "$NS_ALICE" "$IF_ALICE" "dropped dns unexpected")
ANSWER_BYTES=$(kv answer_bytes "$calibration")
arrived0=$(nft_datagrams "$NS_ALICE" alice from_registry_port "$ANSWER_BYTES")
rcvbuf0=$(udp_rcvbuf_errors "$NS_ALICE")
T_SPOOF=$(now_ms)
spoof=$(ns_exec "$NS_ATTACKER" timeout 10 "$ATTACK" spoof-query --from "$EP_BOB_AT_REG" \
  --target "$REG_IP:$WG_PORT" --zone "$ZONE" --key "$PUB_ALICE" --count 1) ||
  fail "wgp_attack spoof-query failed: $spoof"
log "spoof-query: $spoof"
# The forger runs from the spoof until a moment after the window [2, 4] x DELAY has closed.
forge=$(forge 30 "$(awk -v d="$DELAY_MS" 'BEGIN {print 4 * d / 1000 + 0.5}')")
log "forge-srv: $forge"
SWEEP_MS=$(kv sweep_max_ms "$forge")
SWEEP_FITS=yes
awk -v s="$SWEEP_MS" -v d="$DELAY_MS" 'BEGIN {exit !(s > 0 && s <= d)}' || SWEEP_FITS=no
if [[ $SWEEP_FITS == no && $REPORT != 1 ]]; then
  fail "the forger's slowest sweep took $SWEEP_MS ms, more than the $DELAY_MS ms it may: some ids" \
    "would miss the window of the registry's answer, so this run cannot prove the claim"
fi
# The registry's real answer to a query Alice sent on a NOTIFY is back 4 x DELAY_MS after
# the spoof; wait for that, and a moment for the node to act on it.
while (($(now_ms) - T_SPOOF < 4 * DELAY_MS + 500)); do sleep 0.1; done
stop_pid "$PID_POLL" 2
forget_pid "$PID_POLL"
rcvbuf_errors=$(($(udp_rcvbuf_errors "$NS_ALICE") - rcvbuf0))

plain=$(($(dev_counter "$NS_REG" "$IF_REG" "registry answered plain") - plain0))
notified=$(($(dev_counter "$NS_REG" "$IF_REG" "registry notifies sent") - notify0))
unexpected=$(($(dev_counter "$NS_ALICE" "$IF_ALICE" "dropped dns unexpected") - unexpected0))
arrived=$(($(nft_datagrams "$NS_ALICE" alice from_registry_port "$ANSWER_BYTES") - arrived0))
sent=$(kv sent "$forge")
log "registry: $plain plain answers, $notified NOTIFYs; Alice's host: $arrived datagrams from" \
  "the registry's ip:port ($sent forged), her node ignored $unexpected as unexpected DNS," \
  "kernel receive-buffer drops $rcvbuf_errors"
# That the attack really happened: the spoof reached the registry, which took it for Bob's
# (a confirmed endpoint may ask in plain DNS), and at least one whole sweep of forgeries got
# through NAT A to Alice's host.
((plain >= 1)) || fail "the spoofed query got no plain answer: it never reached the registry as Bob's"
((arrived >= 65536)) || fail "only $arrived forged answers reached Alice's host (sent $sent;" \
  "NAT A refused $(nat_refused "$NS_NAT_A") packets from outside)"
# The NOTIFY counter around the moment the spoof was answered (the first read that saw the plain
# answer, the read before it, and the last read that ended 5 s before that one began).
read -r n_quiet n_before n_answered < <(awk -v p0="$plain0" -v gap="$NOTIFY_INTERVAL_MS" '
  { s[NR] = $1; e[NR] = $2; n[NR] = $3; p[NR] = $4 }
  END {
    for (i = 1; i <= NR && p[i] <= p0; i++) {}
    if (i > NR || i == 1) { print "? ? ?"; exit }
    for (q = i - 1; q >= 1 && e[q] > s[i - 1] - gap; q--) {}
    print (q >= 1 ? n[q] : "?"), n[i - 1], n[i]
  }' "$NL_TMP/registry-poll.txt")
log "registry poll: $(awk 'NR == 1 {s = $1; n = $3} END {printf "%d reads over %.1f s, NOTIFY counter %d -> %d", NR, ($2 - s) / 1000, n, $3}' \
  "$NL_TMP/registry-poll.txt"); around the spoof: $n_quiet (5 s before), $n_before, $n_answered (answered)"
[[ $n_answered != "?" ]] || fail "the poll of the registry's counters never saw the spoof answered"
[[ $n_quiet != "?" && $n_quiet == "$n_before" ]] ||
  fail "inconclusive: the registry sent a NOTIFY within 5 s before it answered the spoof" \
    "($n_quiet -> $n_before), so its per-pair interval could be what held one back"
SPOOF_NOTIFIES=$((n_answered - n_before))
log "Bob's packets to the registry held back at NAT B during the chain:" \
  "$(nft_packets "$NS_NAT_B" hold bob_to_registry)"
ns_exec "$NS_NAT_B" nft delete table ip hold
ep_now=$(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")
trying=$(status_field "$NS_ALICE" "$IF_ALICE" trying "$PUB_BOB")
forged_in=$(nft_packets "$NS_ATTACKER" attacker forged_in)
ENDPOINT_MOVED=no
[[ $ep_now == "$EP_BOB_BEFORE" ]] || ENDPOINT_MOVED=yes
expect_that "Alice's endpoint for Bob is still $EP_BOB_BEFORE (it is '$ep_now')" \
  test "$ENDPOINT_MOVED" == no
expect_that "Alice is not trying the forged address (trying: '${trying:-nothing}')" \
  test "${trying/$ATTACKER_IP/}" == "$trying"
expect_that "the registry sent no NOTIFY when it answered the spoofed plain query ($SPOOF_NOTIFIES), and none in the 5 s before (its NOTIFY interval held nothing back)" \
  test "$SPOOF_NOTIFIES" -eq 0
expect_that "Alice's node counts the forged answers as unexpected DNS ($unexpected)" \
  test "$unexpected" -ge 1
delay_off

log "=== 3. the tunnel: pings both ways, nothing to the forged address"
PING_AB=ok PING_BA=ok
ping_works "$NS_ALICE" "$BOB_TUN" || PING_AB=fail
ping_works "$NS_BOB" "$ALICE_TUN" || PING_BA=fail
expect_that "ping Alice -> Bob after the attack" test "$PING_AB" == ok
expect_that "ping Bob -> Alice after the attack" test "$PING_BA" == ok
ns_exec "$NS_ALICE" ping -n -q -i 0.02 -c 20 -w 5 "$BOB_TUN" >/dev/null 2>&1 || true
FORGED_IN=$(nft_packets "$NS_ATTACKER" attacker forged_in)
ep_after=$(peer_endpoint "$NS_ALICE" "$IF_ALICE" "$PUB_BOB")
log "datagrams at the forged address $FORGED: $forged_in right after the chain, $FORGED_IN after the pings"
expect_that "nothing arrived at the forged address $FORGED ($FORGED_IN datagrams)" \
  test "$FORGED_IN" -eq 0
expect_that "Alice's endpoint for Bob after the pings is $EP_BOB_BEFORE (it is '$ep_after')" \
  test "$ep_after" == "$EP_BOB_BEFORE"

log "=== 4. Public = no: the registry is silent to the attacker's own queries and garbage"
ignored0=$(dev_counter "$NS_REG" "$IF_REG" "registry ignored strangers")
from_reg0=$(nft_packets "$NS_ATTACKER" attacker from_registry)
ptr=$(ns_exec "$NS_ATTACKER" timeout 20 "$ATTACK" dns-flood --target "$REG_IP:$WG_PORT" \
  --zone "$ZONE" --count 50 --rate 500 --listen-ms 500) || fail "wgp_attack dns-flood failed: $ptr"
srv=$(ns_exec "$NS_ATTACKER" timeout 20 "$ATTACK" dns-flood --target "$REG_IP:$WG_PORT" \
  --zone "$ZONE" --key "$PUB_BOB" --edns 0 --count 20 --rate 500 --listen-ms 500) ||
  fail "wgp_attack dns-flood (SRV) failed: $srv"
junk=$(ns_exec "$NS_ATTACKER" timeout 20 "$ATTACK" garbage --target "$REG_IP:$WG_PORT" \
  --count 100 --rate 1000) || fail "wgp_attack garbage failed"
sleep 0.5
ignored=$(($(dev_counter "$NS_REG" "$IF_REG" "registry ignored strangers") - ignored0))
from_reg=$(($(nft_packets "$NS_ATTACKER" attacker from_registry) - from_reg0))
SILENT_ANSWERS=$(($(kv answers "$ptr") + $(kv answers "$srv")))
SILENT_FROM_REG=$from_reg
log "PTR (EDNS 65535): $ptr"
log "SRV (no EDNS): $srv"
log "garbage: $(tail -n 1 <<<"$junk")"
log "the registry ignored $ignored stranger queries; $from_reg datagrams came from it"
(($(kv queries "$ptr") == 50 && $(kv queries "$srv") == 20)) || fail "the attacker's queries were not all sent"
expect_that "the registry ignores the stranger's 70 queries (counted $ignored)" test "$ignored" -ge 70
expect_that "no answer to the stranger's queries ($SILENT_ANSWERS)" test "$SILENT_ANSWERS" -eq 0
expect_that "nothing at all from the registry reached the attacker ($from_reg)" test "$from_reg" -eq 0

log "=== 5. Public = yes (all three restarted): valid queries are answered, never amplified much"
for pid_ns_if in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" \
  "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$pid_ns_if"
  wgp_stop "$pid" "$ns" "$ifc"
done
punch_configs yes 10
punch_up_registry
punch_up_peers
published_both() {
  [[ $(status_field "$NS_REG" "$IF_REG" "registry published records") -ge 2 ]]
}
wait_for "the public registry to publish Alice and Bob" 15 published_both
flood=$(ns_exec "$NS_ATTACKER" timeout 30 "$ATTACK" dns-flood --target "$REG_IP:$WG_PORT" \
  --zone "$ZONE" --count 200 --rate 1000 --listen-ms 1000) || fail "wgp_attack dns-flood failed: $flood"
log "PTR flood (EDNS 65535) against Public = yes: $flood"
queries=$(kv queries "$flood")
query_size=$(kv query_size "$flood")
ANSWERS=$(kv answers "$flood")
LARGEST=$(kv largest_answer "$flood")
AMPLIFICATION=$(kv amplification "$flood")
((queries == 200)) || fail "only $queries of 200 queries were sent"
# The registry answers one address at most 20 times a second (bursts of 20): the flood of 200
# in 0.2 s gets about 24 answers, and what any one (possibly spoofed) address can be sent is
# bounded in volume, not only per answer.
expect_that "the public registry answers the valid queries, within its per-source budget ($ANSWERS of $queries)" \
  test "$ANSWERS" -ge 15 -a "$ANSWERS" -le 60
expect_that "the answers are records, not refusals ($(kv refused "$flood") refused, $(kv empty "$flood") empty)" \
  test "$(kv refused "$flood")" -eq 0 -a "$(kv empty "$flood")" -eq 0
expect_that "no answer exceeds 1232 bytes (largest $LARGEST)" test "$LARGEST" -le 1232
bound=$(awk -v q="$query_size" 'BEGIN {printf "%.3f", 1232 / q}')
expect_that "amplification $AMPLIFICATION <= 1232 / $query_size = $bound" \
  awk -v a="$AMPLIFICATION" -v b="$bound" 'BEGIN {exit !(a <= b)}'

for pid_ns_if in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" \
  "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$pid_ns_if"
  wgp_stop "$pid" "$ns" "$ifc"
done

if [[ $REPORT == 1 ]]; then
  printf 'RESULT endpoint_moved=%s forged_in=%s ping_ab=%s ping_ba=%s notifies=%s ' \
    "$ENDPOINT_MOVED" "$FORGED_IN" "$PING_AB" "$PING_BA" "$notified"
  printf 'forged_sent=%s forged_arrived=%s alice_ignored=%s silent_answers=%s silent_from_registry=%s ' \
    "$sent" "$arrived" "$unexpected" "$SILENT_ANSWERS" "$SILENT_FROM_REG"
  printf 'public_answers=%s largest_answer=%s query_size=%s amplification=%s sweep_ms=%s ' \
    "$ANSWERS" "$LARGEST" "$query_size" "$AMPLIFICATION" "$SWEEP_MS"
  printf 'delay_ms=%s sweep_fits=%s spoof_notifies=%s ' "$DELAY_MS" "$SWEEP_FITS" "$SPOOF_NOTIFIES"
  printf 'violations=%d seconds=%d\n' "${#VIOLATIONS[@]}" $((SECONDS - T_START))
  exit 0
fi
log "PASS: the spoofed chain moved nothing and reached nothing; the registry is silent to strangers and no amplifier ($((SECONDS - T_START)) s)"
