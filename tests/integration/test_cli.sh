#!/usr/bin/env bash
# The command line contract of DESIGN.md §2/§3 around the tunnel itself:
#  - config mistakes: `wgpunch up` exits non-zero at once with one line naming file, line and
#    key, leaves no interface or socket, and never echoes key material; `wgpunch check` says
#    the same line (exit 1) without starting anything, and "ok" (exit 0) for a good config,
#    the README's examples (examples/) included once their keys are filled in;
#  - a config readable by others gets a warning but runs;
#  - --interface overrides the name taken from the file;
#  - wireguard-go's calling convention: `WG_PROCESS_FOREGROUND=1 wgpunch IFACE` and the
#    daemonizing `wgpunch IFACE` create an unconfigured interface that `wg setconf` and `ip`
#    configure, and that then handshakes with a wireguard-go peer.
# Usage: bash test_cli.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wireguard-go wg ip ping timeout
nl_init cli

ns_create NS_P  # wgpunch
ns_create NS_G  # wireguard-go
veth_link "$NS_P" eth0 "192.0.2.1/24" "$NS_G" eth0 "192.0.2.2/24"
wgp_keypair KP PUBP
wg_keypair KG PUBG

# expect_config_error NAME LINE KEY: `wgpunch up` on $NL_TMP/NAME.conf must fail within 5 s
# with exactly one stderr line naming the file, the line and the key; nothing left behind.
expect_config_error() {
  local name=$1 line=$2 key=$3 rc=0 err
  register_iface "$name"
  timeout 5 ip netns exec "$NS_P" "$WGPUNCH" up "$NL_TMP/$name.conf" \
    >"$NL_TMP/$name.out" 2>"$NL_TMP/$name.err" || rc=$?
  err=$(cat "$NL_TMP/$name.err")
  ((rc != 0 && rc != 124)) || fail "$name: wgpunch up exited with $rc, expected an error exit"
  [[ $(grep -c . <<<"$err") == 1 ]] || fail "$name: expected one line on stderr, got: $err"
  grep -qF "$name.conf" <<<"$err" || fail "$name: message does not name the file: $err"
  grep -Eq "(:|line )$line([^0-9]|$)" <<<"$err" || fail "$name: message does not name line $line: $err"
  grep -qiF "$key" <<<"$err" || fail "$name: message does not name the key $key: $err"
  ! grep -qF "$KP" <<<"$err" || fail "$name: message contains the private key"
  [[ ! -e $(sock_of "$name") ]] || fail "$name: a control socket was left behind"
  ! ip -n "$NS_P" link show "$name" >/dev/null 2>&1 || fail "$name: interface left behind"
  # `wgpunch check` finds the same mistake, the same way, and starts nothing.
  rc=0
  timeout 5 ip netns exec "$NS_P" "$WGPUNCH" check "$NL_TMP/$name.conf" \
    >"$NL_TMP/$name.cout" 2>"$NL_TMP/$name.cerr" || rc=$?
  ((rc == 1)) || fail "$name: wgpunch check exited with $rc, expected 1"
  [[ $(cat "$NL_TMP/$name.cerr") == "$err" ]] ||
    fail "$name: wgpunch check says '$(cat "$NL_TMP/$name.cerr")', up said '$err'"
  [[ ! -s $NL_TMP/$name.cout ]] || fail "$name: wgpunch check printed on stdout: $(cat "$NL_TMP/$name.cout")"
  log "ok: $name rejected by up and by check: $err"
}

# expect_check_ok FILE: `wgpunch check FILE` exits 0 with one line "FILE: ok, ..." and
# creates no interface nor socket.
expect_check_ok() {
  local out ifc
  ifc=$(basename "$1" .conf)
  out=$(ip netns exec "$NS_P" "$WGPUNCH" check "$1" 2>"$NL_TMP/check.err") ||
    fail "wgpunch check $1 failed: $(cat "$NL_TMP/check.err")"
  [[ $out == "$1: ok, interface $ifc, "* && $(grep -c . <<<"$out") == 1 ]] ||
    fail "wgpunch check $1 printed '$out'"
  ! ip -n "$NS_P" link show "$ifc" >/dev/null 2>&1 || fail "wgpunch check created $ifc"
  [[ ! -e $(sock_of "$ifc") ]] || fail "wgpunch check left a socket for $ifc"
  log "ok: $out"
}

log "=== config mistakes"
write_conf "$NL_TMP/ebadkey$$.conf" <<EOF
[Interface]
PrivateKey = $KP
ListenPort = 51820
Bogus = 1
EOF
expect_config_error "ebadkey$$" 4 Bogus

write_conf "$NL_TMP/ewgquick$$.conf" <<EOF
[Interface]
PrivateKey = $KP
DNS = 192.0.2.53
EOF
expect_config_error "ewgquick$$" 3 DNS

# A key one character short of valid must be rejected without being echoed.
write_conf "$NL_TMP/eshort$$.conf" <<EOF
[Interface]
PrivateKey = ${KP:1}
EOF
expect_config_error "eshort$$" 2 PrivateKey
! grep -qF "${KP:1:20}" "$NL_TMP/eshort$$.err" || fail "the invalid private key was echoed"

write_conf "$NL_TMP/eaddr$$.conf" <<EOF
[Interface]
PrivateKey = $KP

[Peer]
PublicKey = $PUBG
AllowedIPs = 10.0.0.300/32
EOF
expect_config_error "eaddr$$" 6 AllowedIPs

write_conf "$NL_TMP/esect$$.conf" <<EOF
[Interface]
PrivateKey = $KP
[Tunnel]
EOF
expect_config_error "esect$$" 3 Tunnel

log "=== wgpunch check: the README's examples, keys filled in"
wgp_keypair KR PUBR
wgp_keypair KB PUBB
EXAMPLES=$HERE/../../examples
sed -e "s|REGISTRY_PRIVATE_KEY|$KR|" -e "s|ALICE_PUBLIC_KEY|$PUBP|" -e "s|BOB_PUBLIC_KEY|$PUBB|" \
  "$EXAMPLES/registry.conf" | write_conf "$NL_TMP/xreg$$.conf"
sed -e "s|ALICE_PRIVATE_KEY|$KP|" -e "s|REGISTRY_PUBLIC_KEY|$PUBR|g" -e "s|BOB_PUBLIC_KEY|$PUBB|" \
  "$EXAMPLES/node.conf" | write_conf "$NL_TMP/xnode$$.conf"
expect_check_ok "$NL_TMP/xreg$$.conf"
expect_check_ok "$NL_TMP/xnode$$.conf"
# As shipped, with placeholders: one line naming the first placeholder's line and key.
cp "$EXAMPLES/node.conf" "$NL_TMP/xraw$$.conf"
chmod 0600 "$NL_TMP/xraw$$.conf"
rc=0
err=$("$WGPUNCH" check "$NL_TMP/xraw$$.conf" 2>&1 >/dev/null) || rc=$?
line=$(grep -n '^PrivateKey' "$EXAMPLES/node.conf" | cut -d: -f1)
((rc == 1)) && [[ $err == "wgpunch: $NL_TMP/xraw$$.conf:$line: PrivateKey: "* ]] ||
  fail "wgpunch check on the example with placeholders: exit $rc, '$err'"
log "ok: the example as shipped: $err"

log "=== a world-readable config warns; --interface overrides the file name"
IFW=$(uniq_iface wpw)
write_conf "$NL_TMP/anything.conf" <<EOF
[Interface]
PrivateKey = $KP
ListenPort = 51820
Address = 10.0.0.1/24

[Peer]
PublicKey = $PUBG
AllowedIPs = 10.0.0.2/32
EOF
chmod 0644 "$NL_TMP/anything.conf"
register_iface "$IFW"
NL_WGP_LOG[$IFW]=$NL_TMP/wgpunch-$IFW.log
spawn PID_W "$NS_P" "${NL_WGP_LOG[$IFW]}" "$WGPUNCH" up "$NL_TMP/anything.conf" --interface "$IFW"
wait_for "wgpunch --interface $IFW socket" 15 test -S "$(sock_of "$IFW")"
ip -n "$NS_P" link show "$IFW" >/dev/null 2>&1 || fail "--interface $IFW: no such interface"
! ip -n "$NS_P" link show anything >/dev/null 2>&1 || fail "interface named after the file despite --interface"
grep -qi 'warn' "${NL_WGP_LOG[$IFW]}" || fail "no warning for a config readable by others"
! grep -qF "$KP" "${NL_WGP_LOG[$IFW]}" || fail "the warning shows the private key"
log "ok: warning given, interface $IFW"
wgp_stop "$PID_W" "$NS_P" "$IFW"

# A wireguard-go peer for the drop-in rounds.
IFG=$(uniq_iface wgc)
write_key "$NL_TMP/$IFG.key" "$KG"
write_key "$NL_TMP/p.key" "$KP"
wgo_start "$NS_G" "$IFG"
wgo_configure "$NS_G" "$IFG" "$NL_TMP/$IFG.key" 51821 "10.0.0.2/24"
ns_exec "$NS_G" wg set "$IFG" peer "$PUBP" allowed-ips 10.0.0.1/32 endpoint 192.0.2.1:51820

# configure_dropin IFACE: what wg-quick does to a userspace interface: wg, then ip.
configure_dropin() {
  ns_exec "$NS_P" wg set "$1" private-key "$NL_TMP/p.key" listen-port 51820 \
    peer "$PUBG" allowed-ips 10.0.0.2/32 endpoint 192.0.2.2:51821 || fail "wg set on $1 failed"
  ip -n "$NS_P" addr add 10.0.0.1/24 dev "$1"
  ip -n "$NS_P" link set "$1" up
}

log "=== wireguard-go convention, foreground: WG_PROCESS_FOREGROUND=1 wgpunch IFACE"
IFF=$(uniq_iface wpf)
register_iface "$IFF"
NL_WGP_LOG[$IFF]=$NL_TMP/wgpunch-$IFF.log
WG_PROCESS_FOREGROUND=1 spawn PID_F "$NS_P" "${NL_WGP_LOG[$IFF]}" "$WGPUNCH" "$IFF"
wait_for "foreground wgpunch $IFF socket" 15 test -S "$(sock_of "$IFF")"
pid_alive "$PID_F" || fail "WG_PROCESS_FOREGROUND=1 wgpunch $IFF did not stay in the foreground"
configure_dropin "$IFF"
expect_ping "$NS_P" 10.0.0.2 "drop-in (foreground) -> wireguard-go"
wgp_stop "$PID_F" "$NS_P" "$IFF"

log "=== wireguard-go convention, daemonizing: wgpunch IFACE returns once ready"
IFD=$(uniq_iface wpd)
register_iface "$IFD"
rc=0
timeout 15 ip netns exec "$NS_P" env -u WG_PROCESS_FOREGROUND "$WGPUNCH" "$IFD" \
  >"$NL_TMP/daemon.out" 2>&1 || rc=$?
# Whatever happened, the daemon is the only process left in the namespace: let cleanup end it.
PID_D=""
for p in $(ip netns pids "$NS_P"); do
  NL_PIDS+=("$p")
  PID_D=$p
done
[[ $rc == 0 ]] || fail "wgpunch $IFD exited with $rc: $(cat "$NL_TMP/daemon.out")"
[[ -S $(sock_of "$IFD") ]] || fail "wgpunch $IFD returned before its control socket existed"
[[ -n $PID_D ]] || fail "wgpunch $IFD returned but no daemon runs in the namespace"
configure_dropin "$IFD"
expect_ping "$NS_P" 10.0.0.2 "drop-in (daemon) -> wireguard-go"
kill -TERM "$PID_D"
wait_for "daemonized wgpunch to exit on SIGTERM" 10 pid_gone "$PID_D"
wait_for "socket of $IFD removed" 5 test ! -e "$(sock_of "$IFD")"
! ip -n "$NS_P" link show "$IFD" >/dev/null 2>&1 || fail "interface $IFD left behind"
log "PASS: config errors, warnings, --interface, wireguard-go calling convention"
