#!/usr/bin/env bash
# The Debian package (issue 13). Builds it with scripts/package from the build directory of
# the wgpunch under test, checks it with lintian (no error) and its contents and Depends,
# installs it with dpkg -i, and checks the installed artefacts: `systemd-analyze verify` and
# `security --offline` on wgpunch@.service, the man pages render (`man -l`, no groff
# warning), bash completion completes, `wgpunch --version` prints the CMake version.
# Then the installed binary runs as wgpunch@.service would run it (systemd is not PID 1
# here; test_systemd.sh boots one): with the unit's capability bounding set and
# no_new_privs, NOTIFY_SOCKET, `up /etc/wgpunch/IFACE.conf --user wgpunch`, the config
# root:wgpunch 0640. It reports READY=1, the node runs as the wgpunch user with no
# capability and its keeper (the process started) as uid 0 with none either, pings a node
# running the wgpunch under test, serves metrics, reloads on SIGHUP to the keeper (reading
# its config as wgpunch), and stops on SIGTERM with STOPPING=1, its socket removed. Finally
# `dpkg --purge` must leave the machine as it was: users and groups, statoverrides, every
# path the package holds, enabled units.
# The package is installed system-wide: the whole test holds /tmp/wgp-system.lock.
# In a sanitizer build the package holds the instrumented binary; lintian and the exposure
# score judge the shipped artefacts and run in the normal build only.
# Usage: bash test_package.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$ROOT/scripts/lib/netns.sh"
source "$ROOT/scripts/lib/service.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
build_under_test "$1"
require_tools dpkg dpkg-deb lintian systemd-analyze man gzip setpriv socat curl wg ip ping \
  getent cmake cpack dpkg-shlibdeps systemd-sysusers userdel
nl_init package
exec {SYSTEM_LOCK}>/tmp/wgp-system.lock
flock -w 900 "$SYSTEM_LOCK" || fail "another test held /tmp/wgp-system.lock for 15 min"
T0=$SECONDS

dpkg-query -W -f='${db:Status-Abbrev}' wgpunch 2>/dev/null | grep -q '^i' &&
  fail "the wgpunch package is already installed; this test installs and purges it itself"
! getent passwd wgpunch >/dev/null || fail "a user wgpunch exists already; purge would remove it"
! getent group wgpunch >/dev/null || fail "a group wgpunch exists already; purge would remove it"

# Purge on any way out, after the harness stopped our processes (userdel refuses while a
# process runs as wgpunch).
INSTALLED=0
trap '_rc=$?; set +e; (exit $_rc); cleanup; if ((INSTALLED)); then dpkg --purge wgpunch >/dev/null 2>&1; fi; exit $_rc' EXIT

log "=== build the package from $BUILD_DIR"
package_under_test DEB
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD_DIR/CMakeCache.txt")
[[ $DEB == */wgpunch_${VERSION}_amd64.deb ]] || fail "no wgpunch_${VERSION}_amd64.deb: '$DEB'"

depends=$(dpkg-deb -f "$DEB" Depends)
for lib in libsodium23 libb2-1 libldns3 android-libboringssl libstdc++6 libc6; do
  [[ $depends == *"$lib "* || $depends == *"$lib," || $depends == *"$lib" ]] ||
    fail "Depends lacks $lib (dpkg-shlibdeps): $depends"
done
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^$' >"$NL_TMP/paths"
for p in /usr/bin/wgpunch /lib/systemd/system/wgpunch@.service /lib/systemd/system/wgpunch.target \
  /usr/share/man/man8/wgpunch.8.gz /usr/share/man/man5/wgpunch.conf.5.gz \
  /usr/share/bash-completion/completions/wgpunch /usr/share/doc/wgpunch/examples/wg0.conf \
  /usr/share/doc/wgpunch/examples/registry.conf /usr/share/doc/wgpunch/examples/node.conf \
  /usr/share/doc/wgpunch/copyright /usr/share/doc/wgpunch/changelog.gz \
  /usr/lib/sysusers.d/wgpunch.conf; do
  grep -qx "$p" "$NL_TMP/paths" || fail "the package lacks $p"
done
log "ok: contents and Depends ($depends)"

if ((SANITIZED)); then
  log "note: sanitizer build: lintian and the exposure score run in the normal build"
else
  t=$SECONDS
  # Overridden tags (--show-overrides) would count with their own severity: judged without.
  lintian --fail-on error,warning -EvIL +pedantic "$DEB" >"$NL_TMP/lintian.log" 2>&1 ||
    fail "lintian reports errors or warnings: $(grep -E '^[EW]:' "$NL_TMP/lintian.log")"
  log "ok: lintian: no error, no warning; $(grep -cE '^[IPX]:' "$NL_TMP/lintian.log" || true)" \
    "info/pedantic tag(s), 1 justified override, in $((SECONDS - t)) s"
fi

log "=== install with dpkg -i; what the machine was before"
state() {
  sha256sum /etc/passwd /etc/group /etc/shadow /etc/gshadow
  dpkg-statoverride --list | sort
  local p
  while read -r p; do [[ -e $p || -L $p ]] && echo "exists $p"; done <"$NL_TMP/paths"
  find /etc/systemd/system -name 'wgpunch*' 2>/dev/null | sort
  # A control socket left by the purged user would belong to no user (other tests' sockets
  # may come and go here).
  find /run/wireguard -maxdepth 1 -nouser 2>/dev/null | sort
  getent passwd wgpunch || true
}
state >"$NL_TMP/state.before"
INSTALLED=1
dpkg -i "$DEB" >"$NL_TMP/dpkg-install.log" 2>&1 || fail "dpkg -i failed: $(cat "$NL_TMP/dpkg-install.log")"
getent passwd wgpunch >/dev/null || fail "installing did not create the wgpunch user"
WUID=$(id -u wgpunch)
WGID=$(id -g wgpunch)
[[ $(/usr/bin/wgpunch --version) == "wgpunch $VERSION" ]] ||
  fail "installed wgpunch --version says '$(/usr/bin/wgpunch --version)', expected 'wgpunch $VERSION'"
log "ok: installed; user wgpunch is $WUID:$WGID; wgpunch --version: $VERSION"

systemd-analyze verify wgpunch@wg0.service >"$NL_TMP/verify.log" 2>&1 ||
  fail "systemd-analyze verify wgpunch@wg0.service: $(cat "$NL_TMP/verify.log")"
systemd-analyze verify wgpunch.target >"$NL_TMP/verify.log" 2>&1 ||
  fail "systemd-analyze verify wgpunch.target: $(cat "$NL_TMP/verify.log")"
if ((!SANITIZED)); then
  systemd-analyze security --offline=true wgpunch@wg0.service >"$NL_TMP/security.log" 2>&1 ||
    fail "systemd-analyze security: $(tail -n 5 "$NL_TMP/security.log")"
  score=$(sed -n 's/.*Overall exposure level for wgpunch@wg0.service: \([0-9.]*\).*/\1/p' "$NL_TMP/security.log")
  [[ -n $score ]] || fail "no exposure level in: $(tail -n 3 "$NL_TMP/security.log")"
  awk -v s="$score" 'BEGIN { exit !(s <= 3.5) }' || fail "exposure level $score, more than 3.5"
  log "ok: systemd-analyze verify passes; security exposure level $score"
fi

for page in /usr/share/man/man8/wgpunch.8.gz /usr/share/man/man5/wgpunch.conf.5.gz; do
  MANWIDTH=80 man -l "$page" >"$NL_TMP/man.txt" 2>/dev/null || fail "man -l $page failed"
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
  [[ -z $warnings ]] || fail "man -l $page warns: $warnings"
  grep -q "SIGHUP\|reload" "$NL_TMP/man.txt" || fail "$page says nothing of reloading"
done
grep -q "SIGTERM" <(MANWIDTH=80 man -l /usr/share/man/man8/wgpunch.8.gz 2>/dev/null) ||
  fail "wgpunch(8) does not document SIGTERM"
grep -q "ListenPort" <(MANWIDTH=80 man -l /usr/share/man/man8/wgpunch.8.gz 2>/dev/null) ||
  fail "wgpunch(8) does not say what a reload does with ListenPort"
log "ok: wgpunch(8) and wgpunch.conf(5) render without warnings"

completion=$(bash -c 'source /usr/share/bash-completion/completions/wgpunch
  COMP_WORDS=(wgpunch st); COMP_CWORD=1; _wgpunch; echo "${COMPREPLY[*]}"
  COMP_WORDS=(wgpunch up --u); COMP_CWORD=2; _wgpunch; echo "${COMPREPLY[*]}"')
[[ $completion == $'status\n--user' ]] || fail "bash completion gave: $completion"
log "ok: bash completion"

log "=== the installed binary as wgpunch@.service runs it"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' /lib/systemd/system/wgpunch@.service)
[[ -n $caps ]] || fail "the unit has no CapabilityBoundingSet"
bounding="-all"
for c in $caps; do bounding+=",+$(tr 'A-Z' 'a-z' <<<"${c#CAP_}")"; done
grep -qx 'ExecStart=/usr/bin/wgpunch up /etc/wgpunch/%i.conf --user wgpunch' \
  /lib/systemd/system/wgpunch@.service || fail "the unit's ExecStart is not what this test runs"

ns_create NS_I  # the installed wgpunch
ns_create NS_T  # the wgpunch under test
veth_link "$NS_I" eth0 "192.0.2.1/24" "$NS_T" eth0 "192.0.2.2/24"
IFI=$(uniq_iface pki)
IFT=$(uniq_iface pkt)
wgp_keypair KI PUBI
wgp_keypair KT PUBT
CONF=/etc/wgpunch/$IFI.conf
iconf() {
  cat <<EOF2
[Interface]
PrivateKey = $KI
ListenPort = 51820
Address = 10.0.0.1/24
MetricsListen = 127.0.0.1:9586

[Peer]
PublicKey = $PUBT
AllowedIPs = 10.0.0.2/32
Endpoint = 192.0.2.2:51820
$1
EOF2
}
iconf "" | write_conf "$CONF"
chown root:wgpunch "$CONF"
chmod 0640 "$CONF"
trap '_rc=$?; set +e; (exit $_rc); cleanup; rm -f "$CONF"; if ((INSTALLED)); then dpkg --purge wgpunch >/dev/null 2>&1; fi; exit $_rc' EXIT
peer_conf "$NL_TMP/$IFT.conf" "$KT" 51820 10.0.0.2/24 "$PUBI" 10.0.0.1/32
wgp_up PID_T "$NS_T" "$NL_TMP/$IFT.conf"

notify_listen PID_NOTIFY "$NS_I" "$NL_TMP/notify.sock"
register_iface "$IFI"
NL_WGP_LOG[$IFI]=$NL_TMP/installed.log
spawn PID_I "$NS_I" "$NL_TMP/installed.log" env NOTIFY_SOCKET="$NL_TMP/notify.sock" \
  setpriv --bounding-set="$bounding" --inh-caps=-all --ambient-caps=-all --no-new-privs \
  /usr/bin/wgpunch up "$CONF" --user wgpunch
wait_for "READY=1 from the installed wgpunch" 10 grep -qx READY=1 "$NL_TMP/notify.sock.log"
pid_alive "$PID_I" || fail "the installed wgpunch exited"
status_of() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"; }
read -r -a kids <<<"$(cat "/proc/$PID_I/task/$PID_I/children")"
((${#kids[@]} == 1)) || fail "the installed wgpunch (the keeper) has ${#kids[@]} children, expected the node"
NODE_I=${kids[0]}
[[ $(status_of "$NODE_I" Uid) == "$WUID $WUID $WUID $WUID" ]] ||
  fail "the installed wgpunch's node runs as uid '$(status_of "$NODE_I" Uid)', expected wgpunch ($WUID)"
[[ $(status_of "$PID_I" Uid) == "0 0 0 0" ]] ||
  fail "the installed wgpunch's keeper runs as uid '$(status_of "$PID_I" Uid)', expected 0"
for f in CapEff CapPrm CapInh CapBnd CapAmb; do
  for p in "$NODE_I" "$PID_I"; do
    [[ $(status_of "$p" $f) =~ ^0+$ ]] || fail "the installed wgpunch (pid $p) keeps $f $(status_of "$p" $f)"
  done
done
! grep -q "warning" "$NL_TMP/installed.log" ||
  fail "the installed wgpunch warned: $(grep warning "$NL_TMP/installed.log")"
log "ok: READY=1; the node runs as wgpunch, its keeper as uid 0, neither with a capability" \
  "(bounding set was: $caps); no warning"

expect_ping "$NS_I" 10.0.0.2 "installed wgpunch -> wgpunch under test"
# Each output is read whole before it is searched: `cmd | grep -q` under pipefail fails
# whenever grep has its match and exits while cmd is still writing (cmd dies of SIGPIPE),
# which is how this check once failed on a faster machine.
status=$(ns_exec "$NS_I" /usr/bin/wgpunch status "$IFI") || fail "installed wgpunch status failed"
grep -qF "$PUBT" <<<"$status" || fail "installed wgpunch status lacks the peer"
metrics=$(ns_exec "$NS_I" curl -sS -f --max-time 5 http://127.0.0.1:9586/metrics) ||
  fail "cannot scrape the installed wgpunch's metrics"
grep -q "^wgpunch_peer_receive_bytes_total{public_key=\"$PUBT\"} [1-9]" <<<"$metrics" ||
  fail "the installed wgpunch's metrics lack received bytes from the peer:" \
    "$(grep '^wgpunch_peer_receive_bytes_total' <<<"$metrics")"
log "ok: tunnel, status and metrics of the installed binary"

hs=$(handshake_time "$NS_I" "$IFI" "$PUBT")
iconf "PersistentKeepalive = 7" >"$CONF.new"
chown root:wgpunch "$CONF.new"
chmod 0640 "$CONF.new"
mv "$CONF.new" "$CONF"  # as an editor saves: a new file in place of the old one
kill -HUP "$PID_I"
wait_for "the installed wgpunch to reload" 5 grep -q "reloaded $CONF: 0 peer(s) added, 0 removed, 1 changed" \
  "$NL_TMP/installed.log"
[[ $(ns_exec "$NS_I" wg show "$IFI" persistent-keepalive | awk '{print $2}') == 7 ]] ||
  fail "the reload did not set the keepalive"
[[ $(handshake_time "$NS_I" "$IFI" "$PUBT") == "$hs" ]] || fail "the reload made a new handshake"
wait_for "READY=1 after the reload" 5 bash -c "[[ \$(grep -cx READY=1 '$NL_TMP/notify.sock.log') == 2 ]]"
log "ok: SIGHUP as wgpunch re-read the root:wgpunch 0640 config and applied it"

stop_pid "$PID_I" 10
forget_pid "$PID_I"
[[ $STOP_RC == 0 ]] || fail "the installed wgpunch exited with $STOP_RC on SIGTERM"
grep -qx STOPPING=1 "$NL_TMP/notify.sock.log" || fail "no STOPPING=1 on SIGTERM"
! ip -n "$NS_I" link show "$IFI" >/dev/null 2>&1 || fail "the installed wgpunch left $IFI behind"
[[ ! -e $(sock_of "$IFI") ]] || fail "the installed wgpunch left $(sock_of "$IFI") behind"
assert_log_clean "$IFI"
log "ok: SIGTERM: STOPPING=1, exit 0, interface and socket gone"
wgp_stop "$PID_T" "$NS_T" "$IFT"
rm -f "$CONF"

log "=== purge"
t=$SECONDS
dpkg --purge wgpunch >"$NL_TMP/dpkg-purge.log" 2>&1 || fail "dpkg --purge failed: $(cat "$NL_TMP/dpkg-purge.log")"
INSTALLED=0
state >"$NL_TMP/state.after"
diff -u "$NL_TMP/state.before" "$NL_TMP/state.after" >"$NL_TMP/state.diff" ||
  fail "the machine differs after purge: $(cat "$NL_TMP/state.diff")"
! dpkg-query -W -f='${db:Status-Abbrev}' wgpunch 2>/dev/null | grep -q '^[ic]' ||
  fail "dpkg still knows wgpunch after purge"
log "ok: purged in $((SECONDS - t)) s; users, groups, statoverrides, files, units as before"
log "PASS: package built, checked, installed, run as the service would, purged ($((SECONDS - T0)) s)"
