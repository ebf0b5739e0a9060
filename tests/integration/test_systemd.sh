#!/usr/bin/env bash
# wgpunch@.service under a real systemd (issue 18): Debian 12 with systemd 252 booted in
# systemd-nspawn (private network, unified cgroups, the device BPF programs allowed), the
# package of the wgpunch under test installed with dpkg -i, driven through its life as an
# administrator would, with the unit exactly as shipped:
#   1. start: Type=notify reaches READY (its STATUS= shows the node's); MAINPID is the keeper
#      (uid 0, no capability in any set, bounding set empty, no_new_privs, seccomp) and its one
#      child the node as wgpunch (the same, and uid/gid wgpunch); both in the unit's sandbox
#      (own mount namespace with / read-only, seccomp filter; the online exposure score);
#   2. a tunnel to wireguard-go (in a namespace of the test's, joined to the container's by a
#      veth) passes pings both ways;
#   3. `systemctl reload` succeeds and applies a peer added to the config, with no new handshake
#      on the old peer and no restart;
#   4. `systemctl stop`: the unit ends with success, the interface and /run/wireguard/wg0.sock
#      are gone, `wg show interfaces` lists nothing;
#   5. a second start works (tunnel again), and stops as cleanly;
#   6. negative control: a drop-in with an empty DeviceAllow= makes the start fail (the device
#      policy is really enforced here), and leaves no interface or socket behind;
# and the journal holds no warning, no sanitizer report and no denied operation of the node
# outside the negative control. The journal of the whole life is printed at the end (and the
# unit's last 40 lines on a failure). In a sanitizer build one drop-in sets detect_leaks=0:
# LeakSanitizer stops the world with ptrace, which the unit's filter denies ("LeakSanitizer has
# encountered a fatal error", exit 1 at stop); every other check and report stays.
# The rootfs is debootstrapped into a temp dir (scripts/test shares one between its two passes
# through WGPUNCH_ROOTFS_CACHE, removed at its end), and booted with a throwaway
# writable layer (scripts/lib/container.sh); the container and its cgroups are removed on every
# way out.
# Usage: bash test_systemd.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$ROOT/scripts/lib/netns.sh"
source "$ROOT/scripts/lib/service.sh"
source "$ROOT/scripts/lib/container.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
build_under_test "$1"
require_tools systemd-nspawn debootstrap nsenter findmnt flock tar dpkg-deb wireguard-go wg ip \
  ping pgrep sha256sum
# Machine properties: the container's systemd needs a cgroup2 hierarchy for its device policy.
grep -qw cgroup2 /proc/filesystems || skip "the kernel has no cgroup2 (systemd's device policy needs it)"
nl_init systemd
T0=$SECONDS
# On failure, the unit's journal goes with the other logs that cleanup shows.
journal_at_failure() {
  [[ $1 != 0 && -n $CT_LEADER ]] || return 0
  timeout 10 nsenter -t "$CT_LEADER" -a journalctl -u wgpunch@wg0.service -o short-precise \
    --no-pager -n 40 >"$NL_TMP/journal-at-failure.log" 2>&1
}
trap '_rc=$?; set +e; journal_at_failure $_rc; ct_cleanup; (exit $_rc); cleanup; exit $_rc' EXIT

log "=== the package and a Debian 12 root for it"
# scripts/package installs what is missing with apt: under the lock of the system-wide state.
exec {SYSTEM_LOCK}>/tmp/wgp-system.lock
flock -w 900 "$SYSTEM_LOCK" || fail "another test held /tmp/wgp-system.lock for 15 min"
package_under_test DEB
exec {SYSTEM_LOCK}>&-
# What systemd needs to boot and what the test runs in there, the package's Depends (first of
# each alternative), and the sanitizer runtimes, so that the plain and the ASan package share
# one rootfs.
mapfile -t depends < <(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' | grep .)
t=$SECONDS
ct_rootfs systemd systemd-sysv dbus iproute2 wireguard-tools iputils-ping procps libasan8 \
  libubsan1 "${depends[@]}"
log "ok: rootfs ready in $((SECONDS - t)) s"

log "=== boot systemd in the container"
t=$SECONDS
ct_boot
log "ok: $(ct_exec systemctl --version | head -n 1) is up in $((SECONDS - t)) s (host PID $CT_LEADER)"

log "=== dpkg -i"
ct_exec sh -c 'cat >/root/wgpunch.deb' <"$DEB"
ct_exec dpkg -i /root/wgpunch.deb >"$NL_TMP/dpkg.log" 2>&1 || fail "dpkg -i: $(tail -n 20 "$NL_TMP/dpkg.log")"
WUID=$(ct_exec id -u wgpunch) || fail "installing created no user wgpunch"
WGID=$(ct_exec id -g wgpunch)
UNIT=wgpunch@wg0.service
[[ $(ct_exec systemctl show -P FragmentPath "$UNIT") == /lib/systemd/system/wgpunch@.service ]] ||
  fail "$UNIT is not loaded from the package's unit file"
ct_exec cat /lib/systemd/system/wgpunch@.service | cmp -s "$ROOT/packaging/wgpunch@.service" - ||
  fail "the installed wgpunch@.service differs from packaging/wgpunch@.service"
log "ok: installed; user wgpunch is $WUID:$WGID; $UNIT loads the shipped unit file"
if ((SANITIZED)); then
  # LeakSanitizer stops the world with ptrace, which the unit's system call filter denies; the
  # other checks stay, and their reports go to the journal, which is read at the end.
  ct_exec mkdir -p /etc/systemd/system/wgpunch@.service.d
  printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1\n' |
    ct_exec tee /etc/systemd/system/wgpunch@.service.d/50-sanitizer.conf >/dev/null
  ct_exec systemctl daemon-reload
  log "note: sanitizer build: ASAN_OPTIONS=detect_leaks=0 in a drop-in (no ptrace under the filter)"
fi

log "=== the network: wireguard-go in a namespace of the test's, a veth into the container"
ns_create NS_G
ip -n "$NS_G" link add eth0 type veth peer name host0 netns "$CT_LEADER" ||
  fail "cannot join $NS_G to the container's network namespace"
add_addrs "$NS_G" eth0 "192.0.2.2/24"
ip -n "$NS_G" link set eth0 up
ct_exec ip addr add 192.0.2.1/24 dev host0
ct_exec ip link set host0 up
IFG=$(uniq_iface sdg)
wg_keypair KG PUBG
write_key "$NL_TMP/$IFG.key" "$KG"
wgo_start "$NS_G" "$IFG"
wgo_configure "$NS_G" "$IFG" "$NL_TMP/$IFG.key" 51821 "10.0.0.2/24"
KN=$(wg genkey)
secret "$KN"
PUBN=$(wg pubkey <<<"$KN")
ns_exec "$NS_G" wg set "$IFG" peer "$PUBN" allowed-ips 10.0.0.1/32

# The config as an administrator installs it: root:wgpunch 0640. write_config [EXTRA]: with
# EXTRA appended, written to a new file that replaces the old one (as an editor saves).
CONF=/etc/wgpunch/wg0.conf
write_config() {
  peer_conf "$NL_TMP/wg0.conf" "$KN" 51820 10.0.0.1/24 "$PUBG" 10.0.0.2/32 192.0.2.2:51821
  printf '%s\n' "${1:-}" >>"$NL_TMP/wg0.conf"
  ct_exec sh -c "umask 077; cat >$CONF.new && chown root:wgpunch $CONF.new && chmod 0640 $CONF.new &&
    mv $CONF.new $CONF" <"$NL_TMP/wg0.conf"
}
write_config

# proc_field PID FIELD: a field of /proc/PID/status in the container.
proc_field() { ct_exec awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"; }
# show PROPERTY: the unit's property.
show() { ct_exec systemctl show -P "$1" "$UNIT"; }

# expect_bare PID WHAT UID GID: PID runs as UID/GID (every slot) with no capability in any set,
# an empty bounding set, no_new_privs and a seccomp filter.
expect_bare() {
  local pid=$1 what=$2 uid=$3 gid=$4 f v
  [[ $(proc_field "$pid" Uid) == "$uid $uid $uid $uid" ]] ||
    fail "$what: Uid is '$(proc_field "$pid" Uid)', expected $uid x4"
  [[ $(proc_field "$pid" Gid) == "$gid $gid $gid $gid" ]] ||
    fail "$what: Gid is '$(proc_field "$pid" Gid)', expected $gid x4"
  for f in CapEff CapPrm CapInh CapAmb CapBnd; do
    v=$(proc_field "$pid" "$f")
    [[ $v =~ ^0+$ ]] || fail "$what: $f is $v, expected none"
  done
  [[ $(proc_field "$pid" NoNewPrivs) == 1 ]] || fail "$what: no no_new_privs"
  [[ $(proc_field "$pid" Seccomp) == 2 ]] || fail "$what: no seccomp filter (Seccomp $(proc_field "$pid" Seccomp))"
}

# expect_sandboxed PID WHAT: PID has a mount namespace of its own in which / is read-only and
# /run/wireguard writable (ProtectSystem=strict, RuntimeDirectory=).
expect_sandboxed() {
  local pid=$1 what=$2 opts
  [[ $(ct_exec readlink "/proc/$pid/ns/mnt") != "$(ct_exec readlink /proc/1/ns/mnt)" ]] ||
    fail "$what shares the mount namespace of PID 1"
  opts=$(ct_exec awk '$5 == "/" {o = $6} END {print o}' "/proc/$pid/mountinfo")
  [[ $opts == ro* ]] || fail "$what: / is mounted '$opts', expected read-only"
  opts=$(ct_exec awk '$5 == "/run/wireguard" {o = $6} END {print o}' "/proc/$pid/mountinfo")
  [[ $opts == rw* ]] || fail "$what: /run/wireguard is mounted '$opts', expected writable"
}

# start_and_check WHAT: `systemctl start` returns once READY; sets KEEPER and NODE.
start_and_check() {
  local what=$1 children
  timeout 60 nsenter -t "$CT_LEADER" -a systemctl start "$UNIT" >"$NL_TMP/start.log" 2>&1 ||
    fail "$what: systemctl start failed: $(cat "$NL_TMP/start.log"); $(ct_exec journalctl -u "$UNIT" -n 20 --no-pager)"
  [[ $(show ActiveState)/$(show SubState) == active/running ]] ||
    fail "$what: $UNIT is $(show ActiveState)/$(show SubState) after start"
  [[ $(show StatusText) == "listening on UDP port 51820, 1 peer(s)" ]] ||
    fail "$what: STATUS is '$(show StatusText)', not the node's READY status"
  KEEPER=$(show MainPID)
  children=$(ct_exec cat "/proc/$KEEPER/task/$KEEPER/children")
  read -r -a children <<<"$children"
  ((${#children[@]} == 1)) || fail "$what: the main process has ${#children[@]} children, expected the node"
  NODE=${children[0]}
  log "ok: $what: READY, main PID $KEEPER, node PID $NODE"
}

# ping_from_container ADDR: one reply within 10 s.
ping_from_container() {
  local i
  for ((i = 0; i < 10; i++)); do
    ct_exec ping -q -n -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
  done
  return 1
}

expect_tunnel() {
  ping_from_container 10.0.0.2 || fail "$1: no ping reply from wireguard-go (10.0.0.2)"
  expect_ping "$NS_G" 10.0.0.1 "$1: wireguard-go -> wgpunch under systemd"
  [[ $(ct_exec wg show wg0 latest-handshakes | awk -v k="$PUBG" '$1 == k {print $2}') =~ ^[1-9][0-9]*$ ]] ||
    fail "$1: wg show wg0 shows no handshake with $PUBG"
}

# expect_stopped WHAT: the unit ended well and left nothing behind.
expect_stopped() {
  local what=$1
  [[ $(show ActiveState) == inactive ]] || fail "$what: $UNIT is $(show ActiveState) after stop"
  [[ $(show Result) == success ]] || fail "$what: Result=$(show Result), ExecMainStatus=$(show ExecMainStatus)"
  ! ct_exec ip link show wg0 >/dev/null 2>&1 || fail "$what: the interface wg0 is left"
  ! ct_exec test -e /run/wireguard/wg0.sock ||
    fail "$what: /run/wireguard/wg0.sock is left ($(ct_exec stat -c '%U %A' /run/wireguard/wg0.sock))"
  [[ -z $(ct_exec wg show interfaces) ]] || fail "$what: wg show interfaces lists '$(ct_exec wg show interfaces)'"
  log "ok: $what: inactive, Result=success, no wg0, no socket, wg show interfaces empty"
}

log "=== 1. systemctl start: READY, the keeper and the node, the sandbox"
start_and_check "first start"
expect_bare "$KEEPER" "the main process (keeper)" 0 0
expect_bare "$NODE" "the node" "$WUID" "$WGID"
expect_sandboxed "$KEEPER" "the keeper"
expect_sandboxed "$NODE" "the node"
[[ $(ct_exec cat "/proc/$NODE/comm") == wgpunch && $(ct_exec cat "/proc/$KEEPER/comm") == wgpunch ]] ||
  fail "the unit's processes are not wgpunch"
ct_exec systemd-analyze security "$UNIT" --no-pager >"$NL_TMP/security.log" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' "$NL_TMP/security.log")
[[ -n $score ]] || fail "no exposure level: $(tail -n 3 "$NL_TMP/security.log")"
awk -v s="$score" 'BEGIN { exit !(s <= 3.5) }' || fail "the running unit's exposure level is $score, over 3.5"
log "ok: keeper uid 0 and node uid $WUID, both with no capability, no_new_privs, seccomp, / read-only;" \
  "exposure $score"

log "=== 2. the tunnel to wireguard-go"
expect_tunnel "first start"
HS=$(ct_exec wg show wg0 latest-handshakes | awk -v k="$PUBG" '$1 == k {print $2}')

log "=== 3. systemctl reload applies an added peer"
PUB3=$(wg genkey | wg pubkey)
write_config "$(printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.3/32\n' "$PUB3")"
timeout 30 nsenter -t "$CT_LEADER" -a systemctl reload "$UNIT" >"$NL_TMP/reload.log" 2>&1 ||
  fail "systemctl reload failed: $(cat "$NL_TMP/reload.log"); $(ct_exec journalctl -u "$UNIT" -n 10 --no-pager)"
wait_for "the added peer in wg show wg0 peers" 10 \
  bash -c "nsenter -t $CT_LEADER -a wg show wg0 peers | grep -qxF '$PUB3'"
wait_for "READY after the reload (STATUS with 2 peers)" 10 \
  bash -c "[[ \$(nsenter -t $CT_LEADER -a systemctl show -P StatusText $UNIT) == 'listening on UDP port 51820, 2 peer(s)' ]]"
[[ $(ct_exec wg show wg0 latest-handshakes | awk -v k="$PUBG" '$1 == k {print $2}') == "$HS" ]] ||
  fail "the reload made a new handshake with the old peer"
[[ $(show MainPID) == "$KEEPER" && $(show NRestarts) == 0 ]] || fail "the reload restarted the service"
ct_exec journalctl -u "$UNIT" --no-pager | grep -qF "reloaded $CONF: 1 peer(s) added, 0 removed, 0 changed" ||
  fail "no reload line in the journal"
expect_tunnel "after the reload"
log "ok: reload: peer $PUB3 added, same handshake ($HS) with the old peer, same processes"

log "=== 4. systemctl stop"
timeout 30 nsenter -t "$CT_LEADER" -a systemctl stop "$UNIT" || fail "systemctl stop failed"
expect_stopped "stop"

log "=== 5. a second start"
write_config
start_and_check "second start"
expect_bare "$NODE" "the second node" "$WUID" "$WGID"
expect_tunnel "second start"
timeout 30 nsenter -t "$CT_LEADER" -a systemctl stop "$UNIT" || fail "the second systemctl stop failed"
expect_stopped "second stop"

# What the node logged in its life so far: no warning, no denied operation, no sanitizer.
ct_exec journalctl -u "$UNIT" -o short-precise --no-pager >"$NL_TMP/journal.txt"
if grep -E 'warning|Operation not permitted|Permission denied|AddressSanitizer|LeakSanitizer|runtime error:' \
  "$NL_TMP/journal.txt" >"$NL_TMP/bad.txt"; then
  fail "the journal of the life has: $(cat "$NL_TMP/bad.txt")"
fi

log "=== 6. negative control: an empty DeviceAllow= (only the standard pseudo devices)"
ct_exec mkdir -p /etc/systemd/system/$UNIT.d
printf '[Service]\nDeviceAllow=\n' | ct_exec tee /etc/systemd/system/$UNIT.d/50-no-tun.conf >/dev/null
ct_exec systemctl daemon-reload
# (ProtectClock= adds "char-rtc r" of its own.)
[[ $(show DeviceAllow) != */dev/net/tun* ]] || fail "the drop-in left DeviceAllow='$(show DeviceAllow)'"
if timeout 60 nsenter -t "$CT_LEADER" -a systemctl start "$UNIT" >"$NL_TMP/denied.log" 2>&1; then
  fail "$UNIT started although /dev/net/tun is not allowed: the device policy is not enforced"
fi
denied=$(ct_exec journalctl -u "$UNIT" --no-pager | grep -F /dev/net/tun | tail -n 1)
[[ $denied == *"Operation not permitted"* ]] || fail "the failed start does not name /dev/net/tun: $denied"
timeout 30 nsenter -t "$CT_LEADER" -a systemctl stop "$UNIT" 2>/dev/null || true
ct_exec systemctl reset-failed "$UNIT" 2>/dev/null || true
! ct_exec ip link show wg0 >/dev/null 2>&1 || fail "the denied start left wg0"
! ct_exec test -e /run/wireguard/wg0.sock || fail "the denied start left its socket"
ct_exec rm -r /etc/systemd/system/$UNIT.d
ct_exec systemctl daemon-reload
log "ok: denied: ${denied#*]: }"

log "=== the life in the journal"
ct_exec journalctl -u "$UNIT" -o short-precise --no-pager | sed 's/^/    | /' >&2
log "PASS: wgpunch@.service under systemd $(ct_exec systemctl --version | awk 'NR == 1 {print $2}'):" \
  "READY, keeper and node with no capability, tunnel, reload, stop, restart, device policy enforced" \
  "($((SECONDS - T0)) s)"
