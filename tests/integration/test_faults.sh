#!/usr/bin/env bash
# Faults (issue 5, item 6):
#   1. A lossy, reordering underlay between two wgpunch nodes: 10% loss each way, 5 ms delay,
#      25% of the packets overtaking the delayed ones (`tc netem loss 10% delay 5ms reorder 25%
#      50%` on the router's two links when the kernel has sch_netem; otherwise a UDP relay in
#      the router namespace that does the same, see IMPAIR below). The handshake completes,
#      most pings get through, and 16 MiB over TCP arrive intact (SHA-256 at both ends) within
#      a bound; the time is printed. The impairment is checked to be real (drops, reorders).
#   2. A second `wgpunch up` on a running interface's name (same config, another config with
#      --interface, or wireguard-go's `-f IFACE`) fails within 5 s with one line on stderr
#      naming the interface, and the first node keeps running, answering and carrying
#      traffic. A node on a taken UDP port fails too and leaves nothing behind.
#   3. SIGINT shuts down as cleanly as SIGTERM (exit 0, socket, interface and routes gone).
#   4. The registry goes away (SIGKILL, ~15 s) while Alice and Bob (behind NATs) talk directly:
#      their pings keep flowing, nobody dies; the registry restarts on its stale socket, and
#      Alice's and Bob's discovery answers grow again within a bound (time printed).
# Covered elsewhere, not repeated: NAT rebinding / remapping (test_nat_punch.sh steps 4-5,
# test_roaming.sh), SIGTERM clean-up (wgp_stop in netns.sh, used by every wgpunch test).
# Usage: bash test_faults.sh /path/to/wgpunch
#   FAULTS_IMPAIR=netem|relay (default: netem when the kernel has it), FAULTS_MIB=16.
# shellcheck disable=SC2153  # the PID_* variables are set by wgp_up and spawn (printf -v)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/nat.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk tc socat sha256sum ss timeout nft conntrack base32 base64
nl_init faults
MIB=${FAULTS_MIB:-16}
TRANSFER_BOUND=75  # seconds for the lossy transfer
OUTAGE=15          # seconds the registry stays away
RETURN_BOUND=45    # seconds for discovery to get answers again after the registry's return

# ping_stats NS ADDR COUNT INTERVAL: "received transmitted" of COUNT pings (1 s for the last).
ping_stats() {
  ns_exec "$1" timeout 90 ping -n -q -c "$3" -i "$4" -W 1 "$2" 2>/dev/null |
    awk '/packets transmitted/ {print $4, $1}' || true
}

# ---------------------------------------------------------------------------------------
log "=== 1. loss 10%, delay 5 ms, reordering 25% between two wgpunch nodes"
#   A 192.0.2.1 --- 192.0.2.254 R 198.51.100.254 --- 198.51.100.2 B
ns_create NS_A
ns_create NS_R
ns_create NS_B
veth_link "$NS_A" eth0 "192.0.2.1/24" "$NS_R" ra "192.0.2.254/24"
veth_link "$NS_B" eth0 "198.51.100.2/24" "$NS_R" rb "198.51.100.254/24"
ip -n "$NS_A" route add default via 192.0.2.254
ip -n "$NS_B" route add default via 198.51.100.254

# IMPAIR: netem on both router links when the kernel has it (probed in a namespace of ours);
# otherwise the relay: this machine's kernel may lack sch_netem (no module), and a relay in
# userspace gives the same loss, delay and reordering (without netem's correlation).
IMPAIR=${FAULTS_IMPAIR:-}
if [[ -z $IMPAIR ]]; then
  if tc -n "$NS_R" qdisc add dev ra root netem delay 1ms 2>/dev/null; then
    tc -n "$NS_R" qdisc del dev ra root
    IMPAIR=netem
  else
    IMPAIR=relay
  fi
fi
RELAY_PORT=51900
if [[ $IMPAIR == netem ]]; then
  ns_forwarding "$NS_R"
  for dev in ra rb; do
    tc -n "$NS_R" qdisc add dev "$dev" root netem loss 10% delay 5ms reorder 25% 50% ||
      fail "tc netem on $dev failed"
  done
  A_SEES_B=198.51.100.2:51820  # routed through R, netem on the way out of R
  log "impairment: tc netem on the router's links (loss 10% delay 5ms reorder 25% 50%)"
elif [[ $IMPAIR == relay ]]; then
  require_tools python3
  # R does not forward: everything between A and B crosses this relay. A sends to
  # 192.0.2.254:RELAY_PORT, the relay sends on to B from 198.51.100.254:RELAY_PORT and B's
  # replies go back to whoever last wrote from A's side. Each packet: dropped with
  # probability 10%, sent at once with probability 25%, otherwise held for 5 ms, so the
  # immediate ones overtake the held ones. Counts are printed on SIGUSR1 and SIGTERM.
  cat >"$NL_TMP/relay.py" <<'EOF'
import asyncio, random, signal, sys

LOSS, IMMEDIATE, DELAY = 0.10, 0.25, 0.005
a_bind, b_bind, b_dest = sys.argv[1], sys.argv[2], sys.argv[3]


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


class Side(asyncio.DatagramProtocol):
    def __init__(self, name):
        self.name, self.other, self.dest, self.transport = name, None, None, None
        self.stats = dict(forwarded=0, dropped=0, held=0, overtaking=0)
        self.pending = 0

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, src):
        out = self.other
        if self.name == "a":
            out.dest = out.dest or addr(b_dest)
            self.dest = src  # replies go to A's latest address
        if out.dest is None:
            return
        r = random.random()
        if r < LOSS:
            self.stats["dropped"] += 1
        elif r < LOSS + IMMEDIATE * (1 - LOSS):
            if self.pending:
                self.stats["overtaking"] += 1
            out.transport.sendto(data, out.dest)
            self.stats["forwarded"] += 1
        else:
            self.stats["held"] += 1
            self.pending += 1
            asyncio.get_running_loop().call_later(DELAY, self.release, data, out.dest)

    def release(self, data, dest):
        self.pending -= 1
        self.other.transport.sendto(data, dest)
        self.stats["forwarded"] += 1


async def main():
    loop = asyncio.get_running_loop()
    a, b = Side("a"), Side("b")
    a.other, b.other = b, a
    await loop.create_datagram_endpoint(lambda: a, local_addr=addr(a_bind))
    await loop.create_datagram_endpoint(lambda: b, local_addr=addr(b_bind))
    def dump():
        for side in (a, b):
            s = side.stats
            print(f"from {side.name}: " + " ".join(f"{k} {v}" for k, v in s.items()), flush=True)

    done = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, done.set_result, None)
    loop.add_signal_handler(signal.SIGUSR1, dump)
    print("relay ready", flush=True)
    await done
    dump()


asyncio.run(main())
EOF
  spawn PID_RELAY "$NS_R" "$NL_TMP/relay.log" python3 -u "$NL_TMP/relay.py" \
    "192.0.2.254:$RELAY_PORT" "198.51.100.254:$RELAY_PORT" "198.51.100.2:51820"
  wait_for "the impairing relay" 10 grep -q "relay ready" "$NL_TMP/relay.log"
  A_SEES_B=192.0.2.254:$RELAY_PORT
  log "impairment: relay in the router (no sch_netem here): loss 10%, delay 5 ms, 25% overtaking"
else
  fail "FAULTS_IMPAIR is '$IMPAIR', expected netem or relay"
fi

IFA=$(uniq_iface fa)
IFB=$(uniq_iface fb)
wgp_keypair KA PUBA
wgp_keypair KB PUBB
write_conf "$NL_TMP/$IFA.conf" <<EOF
[Interface]
PrivateKey = $KA
ListenPort = 51820
Address = 10.0.0.1/24

[Peer]
PublicKey = $PUBB
AllowedIPs = 10.0.0.2/32
Endpoint = $A_SEES_B
EOF
write_conf "$NL_TMP/$IFB.conf" <<EOF
[Interface]
PrivateKey = $KB
ListenPort = 51820
Address = 10.0.0.2/24

[Peer]
PublicKey = $PUBA
AllowedIPs = 10.0.0.1/32
EOF
wgp_up PID_A "$NS_A" "$NL_TMP/$IFA.conf"
wgp_up PID_B "$NS_B" "$NL_TMP/$IFB.conf"

# The handshake itself crosses the lossy path (retried every 5 s when lost).
T0=$(now_ms)
ns_exec "$NS_A" ping -n -q -c 1 -i 0.2 -w 30 10.0.0.2 >/dev/null 2>&1 ||
  fail "no ping reply through the lossy path within 30 s (no handshake?)"
log "TIMING: first ping reply through the lossy path after $(($(now_ms) - T0)) ms"

# 100 pings: each crosses the loss twice (0.9^2 = 81% expected); at least 60 must return.
read -r rcv sent < <(ping_stats "$NS_A" 10.0.0.2 100 0.02)
((sent == 100 && rcv >= 60)) || fail "lossy path: $rcv of $sent pings answered, expected >= 60 of 100"
log "ok: $rcv of $sent pings answered through the lossy path"

head -c "${MIB}M" /dev/urandom >"$NL_TMP/payload"
SENT=$(sha256sum <"$NL_TMP/payload" | cut -d' ' -f1)
spawn PID_RECV "$NS_B" "$NL_TMP/recv.log" socat -u TCP-LISTEN:5001,reuseaddr "CREATE:$NL_TMP/recv"
wait_for "receiver listening on 10.0.0.2:5001" 10 \
  bash -c "ip netns exec '$NS_B' ss -Hltn 'sport = :5001' | grep -q LISTEN"
T0=$(now_ms)
spawn PID_SEND "$NS_A" "$NL_TMP/send.log" \
  timeout "$TRANSFER_BOUND" socat -u "OPEN:$NL_TMP/payload,rdonly" TCP:10.0.0.2:5001
wait_for "the lossy transfer to finish" $((TRANSFER_BOUND + 5)) pid_gone "$PID_SEND"
wait "$PID_SEND" || fail "the $MIB MiB transfer through the lossy path failed or took over ${TRANSFER_BOUND}s"
forget_pid "$PID_SEND"
wait_for "the receiver to finish" 20 pid_gone "$PID_RECV"
wait "$PID_RECV" || fail "the receiver of the lossy transfer failed"
forget_pid "$PID_RECV"
MS=$(($(now_ms) - T0))
RECEIVED=$(sha256sum <"$NL_TMP/recv" | cut -d' ' -f1)
[[ $RECEIVED == "$SENT" ]] || fail "lossy transfer: sha256 received $RECEIVED != sent $SENT"
log "TIMING: $MIB MiB over TCP through the lossy path in $MS ms ($(awk -v m="$MIB" -v t="$MS" \
  'BEGIN {printf "%.1f", m * 8 * 1.048576 * 1000 / t}') Mbit/s), sha256 equal at both ends"

# The impairment was real.
if [[ $IMPAIR == netem ]]; then
  drops=0
  for dev in ra rb; do
    d=$(tc -n "$NS_R" -s qdisc show dev "$dev" | awk '/dropped/ {gsub(",", ""); print $7; exit}')
    drops=$((drops + ${d:-0}))
  done
  ((drops > 100)) || fail "netem dropped only $drops packets during the transfer"
  log "ok: netem dropped $drops packets"
else
  kill -USR1 "$PID_RELAY"
  wait_for "the relay's counts" 5 grep -q '^from b' "$NL_TMP/relay.log"
  grep '^from' "$NL_TMP/relay.log" | sed 's/^/    relay /' >&2
  drops=$(awk '/^from/ {s += $6} END {print s + 0}' "$NL_TMP/relay.log")
  over=$(awk '/^from/ {s += $10} END {print s + 0}' "$NL_TMP/relay.log")
  ((drops > 100 && over > 100)) || fail "the relay dropped $drops and reordered $over packets only"
  log "ok: the relay dropped $drops packets and sent $over ahead of held ones"
fi
{ pid_alive "$PID_A" && pid_alive "$PID_B"; } || fail "a wgpunch node died on the lossy path"

# ---------------------------------------------------------------------------------------
log "=== 2. a second 'up' on a running interface's name fails clearly; the first is untouched"
# expect_second_up_fails WHAT CMD...: CMD fails within 5 s, one stderr line naming IFA.
expect_second_up_fails() {
  local what=$1 rc=0 err
  shift
  ns_exec "$NS_A" timeout 5 "$@" >"$NL_TMP/second.out" 2>"$NL_TMP/second.err" || rc=$?
  err=$(cat "$NL_TMP/second.err")
  ((rc != 0 && rc != 124)) || fail "$what: exited with $rc, expected an error exit within 5 s"
  [[ $(grep -c . <<<"$err") == 1 ]] || fail "$what: expected one line on stderr, got: $err"
  grep -qF "$IFA" <<<"$err" || fail "$what: the error does not name $IFA: $err"
  grep -qF "$(sock_of "$IFA")" <<<"$err" && grep -qF -- "--interface" <<<"$err" ||
    fail "$what: the error does not say where ($(sock_of "$IFA")) and how to pick another name: $err"
  ! grep -qF "$KA" <<<"$err" || fail "$what: the error shows the private key"
  pid_alive "$PID_A" || fail "$what: the first wgpunch on $IFA died"
  [[ -S $(sock_of "$IFA") ]] || fail "$what: the first node's socket $(sock_of "$IFA") is gone"
  # (Output captured first: with pipefail, grep -q closing the pipe early could fail ip/wg.)
  grep -qxF "$PUBA" <<<"$(ns_exec "$NS_A" wg show "$IFA" public-key)" ||
    fail "$what: the first node no longer answers on its socket"
  grep -q 'inet 10\.0\.0\.1/24' <<<"$(ip -n "$NS_A" addr show dev "$IFA")" ||
    fail "$what: $IFA lost its address"
  expect_ping "$NS_A" 10.0.0.2 "first node still carries traffic after: $what"
  log "ok: $what: exit $rc, '$err'"
}
expect_second_up_fails "same config again" "$WGPUNCH" up "$NL_TMP/$IFA.conf"
# Another config (another port, another key) under the same name.
write_conf "$NL_TMP/other.conf" <<EOF
[Interface]
PrivateKey = $KB
ListenPort = 51830
Address = 10.9.0.1/24
EOF
expect_second_up_fails "another config with --interface $IFA" \
  "$WGPUNCH" up "$NL_TMP/other.conf" --interface "$IFA"
expect_second_up_fails "wireguard-go's convention: wgpunch -f $IFA" "$WGPUNCH" -f "$IFA"

# Another name on a taken UDP port: fails, and its TUN device does not stay behind.
IFX=$(uniq_iface fx)
register_iface "$IFX"
sed 's/^ListenPort = .*/ListenPort = 51820/' "$NL_TMP/other.conf" | write_conf "$NL_TMP/$IFX.conf"
rc=0
ns_exec "$NS_A" timeout 5 "$WGPUNCH" up "$NL_TMP/$IFX.conf" >"$NL_TMP/port.out" 2>&1 || rc=$?
((rc != 0 && rc != 124)) || fail "a node on taken port 51820 exited with $rc, expected an error"
grep -q 51820 "$NL_TMP/port.out" || fail "the taken-port error does not name port 51820: $(cat "$NL_TMP/port.out")"
! ip -n "$NS_A" link show "$IFX" >/dev/null 2>&1 || fail "the failed node left $IFX behind"
[[ ! -e $(sock_of "$IFX") ]] || fail "the failed node left its socket behind"
expect_ping "$NS_A" 10.0.0.2 "first node after a port clash"
log "ok: taken port: exit $rc, '$(tail -n 1 "$NL_TMP/port.out")', nothing left behind"

# ---------------------------------------------------------------------------------------
log "=== 3. SIGINT: clean shutdown like SIGTERM"
kill -INT "$PID_A"
wait_for "wgpunch to exit on SIGINT" 10 pid_gone "$PID_A"
rc=0
wait "$PID_A" || rc=$?
forget_pid "$PID_A"
((rc == 0)) || fail "wgpunch exited with $rc after SIGINT, expected 0"
[[ ! -e $(sock_of "$IFA") ]] || fail "SIGINT: socket $(sock_of "$IFA") left behind"
! ip -n "$NS_A" link show "$IFA" >/dev/null 2>&1 || fail "SIGINT: interface $IFA left behind"
[[ -z $(ip -n "$NS_A" route show 10.0.0.0/24) ]] || fail "SIGINT: routes into $IFA left behind"
grep -q "interrupted, shutting down" "${NL_WGP_LOG[$IFA]}" || fail "SIGINT: no shutdown line logged"
assert_log_clean "$IFA"
log "ok: SIGINT: exit 0, socket, interface and routes gone"
wgp_stop "$PID_B" "$NS_B" "$IFB"

# ---------------------------------------------------------------------------------------
log "=== 4. the registry goes away for ${OUTAGE}s and comes back"
nat_topology cone cone
punch_keys
punch_configs no 10
punch_up_registry
punch_up_peers
ns_exec "$NS_ALICE" ping -n -q -c 1 -i 0.1 -w 20 "$BOB_TUN" >/dev/null 2>&1 ||
  fail "Alice got no ping reply from Bob within 20 s of starting"
src=$(status_field "$NS_ALICE" "$IF_ALICE" "endpoint source" "$PUB_BOB")
[[ $src == discovered ]] || fail "Alice's endpoint source for Bob is '$src', expected discovered"
log "ok: Alice and Bob talk directly (Bob's endpoint $src)"

# answers_of NS IFACE: a node's "discovery answers" counter.
answers_of() { status_field "$1" "$2" "discovery answers"; }

kill -KILL "$PID_REG"
wait "$PID_REG" 2>/dev/null || true
forget_pid "$PID_REG"
T_DOWN=$(now_ms)
log "registry killed (SIGKILL)"
read -r rcv sent < <(ping_stats "$NS_ALICE" "$BOB_TUN" $((OUTAGE * 5)) 0.2)
((sent == OUTAGE * 5 && rcv >= sent - 1)) ||
  fail "registry away: Alice -> Bob $rcv of $sent pings answered, expected all (one lost at most)"
{ pid_alive "$PID_ALICE" && pid_alive "$PID_BOB"; } || fail "Alice or Bob died while the registry was away"
log "ok: registry away $(($(now_ms) - T_DOWN)) ms: $rcv of $sent pings Alice -> Bob answered"
a0=$(answers_of "$NS_ALICE" "$IF_ALICE")
b0=$(answers_of "$NS_BOB" "$IF_BOB")
[[ $a0 =~ ^[0-9]+$ && $b0 =~ ^[0-9]+$ ]] || fail "no discovery answers counter: Alice '$a0', Bob '$b0'"

# The registry comes back on the socket path its killed predecessor left behind.
[[ -e $(sock_of "$IF_REG") ]] && log "the killed registry left $(sock_of "$IF_REG") behind (stale)"
wgp_up PID_REG "$NS_REG" "$CONF_REG" "$NL_TMP/wgpunch-$IF_REG-restarted.log"
T_UP=$(now_ms)
answers_grew() {
  (($(answers_of "$NS_ALICE" "$IF_ALICE") > a0 && $(answers_of "$NS_BOB" "$IF_BOB") > b0))
}
wait_for "Alice's and Bob's discovery answers to grow after the registry's return" \
  "$RETURN_BOUND" answers_grew
MS=$(($(now_ms) - T_UP))
log "TIMING: discovery answers again ${MS} ms after the registry came back" \
  "(Alice $a0 -> $(answers_of "$NS_ALICE" "$IF_ALICE"), Bob $b0 -> $(answers_of "$NS_BOB" "$IF_BOB"))"
expect_ping "$NS_ALICE" "$BOB_TUN" "Alice -> Bob after the registry's return"
src=$(status_field "$NS_ALICE" "$IF_ALICE" "endpoint source" "$PUB_BOB")
[[ $src == discovered ]] || fail "after the registry's return Bob's endpoint source is '$src'"
for pid_ns_if in "$PID_ALICE $NS_ALICE $IF_ALICE" "$PID_BOB $NS_BOB $IF_BOB" \
  "$PID_REG $NS_REG $IF_REG"; do
  read -r pid ns ifc <<<"$pid_ns_if"
  wgp_stop "$pid" "$ns" "$ifc"
done
log "PASS: lossy reordering underlay, registry outage and return, second up refused, SIGINT clean"
