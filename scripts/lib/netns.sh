# Network-namespace harness for wgpunch's integration tests and demo (sourced, not run).
#
# Everything a test creates is registered here and removed by one `cleanup`, which
# nl_init installs as the EXIT/INT/TERM trap: started processes, namespaces, control
# socket files of the interfaces the test used, and the temp dir. Names carry the
# shell's PID so parallel or aborted runs do not clash. Namespaces are only ever joined
# to each other (veth pairs created inside them); the root namespace's interfaces and
# routes are never touched.
#
# Usage:
#   source scripts/lib/netns.sh
#   nl_init mytest                     # temp dir in $NL_TMP, trap cleanup
#   ns_create NS_A                     # NS_A=<unique name>, namespace created, lo up
#   veth_link "$NS_A" eth0 "10.9.0.1/24 fd09::1/64" "$NS_B" eth0 "10.9.0.2/24 fd09::2/64"
#   spawn PIDVAR "$NS_A" LOGFILE cmd args...     # background, PID remembered
#   wait_for "what" SECONDS cmd args...          # bounded poll until cmd succeeds
#   wgo_start "$NS_A" IFACE            # wireguard-go peer; then wg setconf/set via ns_exec

export LC_ALL=C  # stable sort order and tool messages

# Directory the userspace control sockets live in; it is shared by all namespaces.
NL_SOCKDIR=${NL_SOCKDIR:-/var/run/wireguard}
NL_TAG=""          # unique per run, set by nl_init
NL_TMP=""          # per-run temp dir
NL_PIDS=()         # processes to stop in cleanup
NL_NAMESPACES=()   # namespaces to delete in cleanup
NL_IFACES=()       # userspace WireGuard interfaces whose sockets to remove
NL_CLEANED=0
NL_SECRETS=()     # private keys and PSKs that must never appear in a daemon log
declare -A NL_WGP_LOG=()  # wgpunch interface -> its log file

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# fail MSG: report a failed assertion and end the test (cleanup runs from the trap).
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

# Exit status of a skipped test: CTest reports it as "Skipped" (SKIP_RETURN_CODE in
# CMakeLists.txt), never as passed.
NL_SKIP_RC=77
NL_SKIPPED_PARTS=0  # parts of this test skipped so far (skip_part)

# skip MSG: end the test as skipped. Only for a machine that cannot run it at all.
skip() {
  printf 'SKIP: %s\n' "$*"
  exit "$NL_SKIP_RC"
}

# skip_part MSG: a part of the test cannot run on this machine (a property of the machine, such
# as a kernel feature): say so and go on. The rest is still checked, and a test that passes with
# a part skipped ends as skipped, not passed (cleanup sets the exit status).
skip_part() {
  printf 'SKIP: %s\n' "$*"
  NL_SKIPPED_PARTS=$((NL_SKIPPED_PARTS + 1))
}

# need_setup MSG: root or a capability is missing. That is how the test was started, not a
# property of the machine: under WGPUNCH_TESTS_STRICT=1 (scripts/test as root) it fails,
# otherwise the test skips.
need_setup() {
  [[ ${WGPUNCH_TESTS_STRICT:-0} == 1 ]] && fail "$* (WGPUNCH_TESTS_STRICT=1)"
  skip "$*"
}

# has_cap_sys_admin: true when this process may create namespaces (CAP_SYS_ADMIN, bit 21 of its
# effective set); root in a container or under `capsh --drop=cap_sys_admin` may lack it.
has_cap_sys_admin() {
  local eff
  eff=$(awk '$1 == "CapEff:" {print $2}' /proc/self/status)
  [[ -n $eff ]] && (((16#$eff >> 21) & 1))
}

# require_netns_capable: root with CAP_SYS_ADMIN (need_setup otherwise) and a TUN device (a
# machine property: skip). Nothing runs in the host's namespace when these are missing.
require_netns_capable() {
  [[ $(id -u) -eq 0 ]] || need_setup "needs root (network namespaces, TUN devices)"
  has_cap_sys_admin || need_setup "needs CAP_SYS_ADMIN (network namespaces); this root lacks it"
  [[ -c /dev/net/tun ]] || skip "/dev/net/tun is missing"
}

# asan_runtime BINARY: the libasan BINARY links, as the loader resolves it; empty for a
# build without AddressSanitizer (scripts/sanitize builds with it).
asan_runtime() { ldd "$1" 2>/dev/null | awk '$1 ~ /^libasan\.so/ {print $3; exit}'; }

# require_tools CMD...: a missing tool is a broken setup (scripts/test installs them), so fail.
require_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || fail "required tool '$t' not found (run scripts/test to install)"
  done
}

# nl_init NAME: start a run: unique tag, temp dir, cleanup trap.
nl_init() {
  local name=${1:-t}
  NL_TAG="${name:0:8}$$"
  NL_TMP=$(mktemp -d "/tmp/wgp-${name}.XXXXXX")
  chmod 0700 "$NL_TMP"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# uniq_iface BASE: an interface name unique to this run, at most 15 characters.
uniq_iface() {
  local n="$1$$"
  printf '%s' "${n:0:15}"
}

# ns_create VAR: create a namespace with a unique name, bring lo up, store the name in VAR.
ns_create() {
  local _nc_name="wgp${NL_TAG}-${1,,}"
  ip netns add "$_nc_name" || fail "cannot create namespace $_nc_name"
  NL_NAMESPACES+=("$_nc_name")
  ip -n "$_nc_name" link set lo up
  # No duplicate address detection on this namespace's links: v6 is usable at once.
  ip netns exec "$_nc_name" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
    net.ipv6.conf.default.accept_dad=0
  printf -v "$1" '%s' "$_nc_name"
}

# ns_exec NS CMD...: run a command inside a namespace.
ns_exec() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# ns_forwarding NS: let a namespace route between its links (v4 and v6).
ns_forwarding() {
  ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# add_addrs NS DEV "ADDR/LEN ...": add v4/v6 addresses (v6 without DAD, so usable at once).
add_addrs() {
  local ns=$1 dev=$2 a
  for a in $3; do
    if [[ $a == *:* ]]; then
      ip -n "$ns" addr add "$a" dev "$dev" nodad || fail "cannot add $a to $dev in $ns"
    else
      ip -n "$ns" addr add "$a" dev "$dev" || fail "cannot add $a to $dev in $ns"
    fi
  done
}

# bridge_pin_address NS BRIDGE MAC: give a bridge an address of its own. Left alone, a bridge
# takes the lowest address among its ports and takes another when a port comes or goes; hosts
# that cached the old one then send to an address no port owns any more, which the bridge floods
# (test_discovery_attack's delay line, which swaps a port, lost a whole attack that way on
# another machine, depending on which random veth address was lowest).
bridge_pin_address() {
  ip -n "$1" link set "$2" address "$3" || fail "cannot set the address of bridge $2 in $1"
}

# veth_link NS1 DEV1 "ADDRS1" NS2 DEV2 "ADDRS2": a veth pair between two namespaces, created
# inside NS1 with its peer moved straight into NS2 (never through the root namespace).
veth_link() {
  local ns1=$1 dev1=$2 addrs1=$3 ns2=$4 dev2=$5 addrs2=$6
  ip -n "$ns1" link add "$dev1" type veth peer name "$dev2" netns "$ns2" ||
    fail "cannot create veth $dev1/$dev2 between $ns1 and $ns2"
  add_addrs "$ns1" "$dev1" "$addrs1"
  add_addrs "$ns2" "$dev2" "$addrs2"
  ip -n "$ns1" link set "$dev1" up
  ip -n "$ns2" link set "$dev2" up
}

# spawn VAR NS LOG CMD...: start CMD in NS in the background (stdout+stderr to LOG), remember
# its PID for cleanup and store it in VAR. `ip netns exec` execs CMD, so the PID is CMD's.
spawn() {
  local _sp_var=$1 _sp_ns=$2 _sp_log=$3
  shift 3
  ip netns exec "$_sp_ns" "$@" >"$_sp_log" 2>&1 &
  NL_PIDS+=("$!")
  printf -v "$_sp_var" '%s' "$!"
}

# wait_for WHAT SECONDS CMD...: poll CMD every 0.1 s until it succeeds; fail after SECONDS.
wait_for() {
  local what=$1 secs=$2
  shift 2
  local i tries=$((secs * 10))
  for ((i = 0; i < tries; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "timed out after ${secs}s waiting for: $what"
}

# try_for SECONDS CMD...: like wait_for but returns 1 instead of failing the test.
try_for() {
  local secs=$1
  shift
  local i tries=$((secs * 10))
  for ((i = 0; i < tries; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# pid_alive PID: true while the process exists and is not a zombie.
pid_alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $st && $st != Z* ]]
}

# pid_gone PID: true once the process has exited (for wait_for).
pid_gone() { ! pid_alive "$1"; }

# stop_pid PID [SECONDS]: SIGTERM, wait (bounded), then SIGKILL; the exit status goes into
# STOP_RC (137 when it had to be killed). Must run in the shell that started PID (no $(...)).
stop_pid() {
  local pid=$1 secs=${2:-5} i
  STOP_RC=0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  if pid_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    STOP_RC=137
    return 0
  fi
  wait "$pid" 2>/dev/null || STOP_RC=$?
}

# forget_pid PID: drop a PID from the cleanup list (after the test stopped it itself).
forget_pid() {
  local p keep=()
  for p in "${NL_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  NL_PIDS=("${keep[@]}")
}

# register_iface NAME: remove NAME's control socket in cleanup.
register_iface() { NL_IFACES+=("$1"); }

# sock_of IFACE: the control socket path of a userspace interface.
sock_of() { printf '%s/%s.sock' "$NL_SOCKDIR" "$1"; }

# wgo_start NS IFACE [LOG]: run wireguard-go in the foreground (so its PID is ours) in NS,
# wait for its control socket; sets WGO_PID. Configure it afterwards with wgo_configure.
# WGO_BIN names another wireguard-go binary (default: the one on PATH).
wgo_start() {
  local ns=$1 ifc=$2 logf=${3:-$NL_TMP/wireguard-go-$2.log}
  register_iface "$ifc"
  WG_PROCESS_FOREGROUND=1 LOG_LEVEL=${WGO_LOG_LEVEL:-error} spawn WGO_PID "$ns" "$logf" "${WGO_BIN:-wireguard-go}" "$ifc"
  wait_for "wireguard-go socket $(sock_of "$ifc")" 10 test -S "$(sock_of "$ifc")"
}

# wgo_configure NS IFACE PRIVKEYFILE PORT "ADDRS" [MTU]: key, port, addresses, link up.
# Peers are added afterwards with `ns_exec NS wg set IFACE peer ...` and wgo_route.
wgo_configure() {
  local ns=$1 ifc=$2 keyf=$3 port=$4 addrs=$5 mtu=${6:-1420}
  ns_exec "$ns" wg set "$ifc" private-key "$keyf" listen-port "$port" ||
    fail "wg set on wireguard-go $ifc failed"
  add_addrs "$ns" "$ifc" "$addrs"
  ip -n "$ns" link set "$ifc" mtu "$mtu" up
}

# wgo_route NS IFACE PREFIX...: route prefixes (a peer's allowed IPs) into the interface.
wgo_route() {
  local ns=$1 ifc=$2 p
  shift 2
  for p in "$@"; do ip -n "$ns" route replace "$p" dev "$ifc"; done
}

# wgp_up VAR NS CONFIG [LOG [ARGS...]]: `wgpunch up CONFIG ARGS...` in NS in the background;
# PID into VAR. The interface is named after the config file (DESIGN.md §2); waits for its
# socket. An empty LOG means the default one.
wgp_up() {
  wgp_start "$@"
  wgp_wait_up "${!1}" "$3"
}

# wgp_start PIDVAR NS CONF [LOGFILE [ARGS...]]: as wgp_up, without waiting for the socket
# (to start several nodes at once; then wgp_wait_up each).
wgp_start() {
  local _wu_var=$1 ns=$2 conf=$3 ifc
  ifc=$(basename "$conf" .conf)
  local logf=${4:-$NL_TMP/wgpunch-$ifc.log}
  shift $(($# < 4 ? $# : 4))
  register_iface "$ifc"
  NL_WGP_LOG[$ifc]=$logf
  spawn "$_wu_var" "$ns" "$logf" "$WGPUNCH" up "$conf" "$@"
}

# wgp_wait_up PID CONF: wait (bounded, 15 s) until the node started from CONF answers on its
# control socket; fail with its log if it exits first.
wgp_wait_up() {
  local pid=$1 conf=$2 ifc i
  ifc=$(basename "$conf" .conf)
  local logf=${NL_WGP_LOG[$ifc]}
  for ((i = 0; i < 750; i++)); do
    [[ -S $(sock_of "$ifc") ]] && return 0
    if ! pid_alive "$pid"; then
      sed 's/^/    | /' "$logf" >&2
      fail "wgpunch up $conf exited before its control socket appeared (log above)"
    fi
    sleep 0.02
  done
  sed 's/^/    | /' "$logf" >&2
  fail "wgpunch up $conf: no control socket $(sock_of "$ifc") after 15s (log above)"
}

# secret VALUE...: remember secrets (keys, PSKs) that no wgpunch log may contain.
secret() { NL_SECRETS+=("$@"); }

# assert_log_clean IFACE: the wgpunch log of IFACE contains none of the registered secrets.
assert_log_clean() {
  local logf=${NL_WGP_LOG[$1]:-} s
  [[ -n $logf && -f $logf ]] || return 0
  for s in "${NL_SECRETS[@]}"; do
    ! grep -qF -- "$s" "$logf" || fail "wgpunch ($1) wrote a private key or PSK into its log"
  done
}

# wgp_stop PID NS IFACE: SIGTERM a wgpunch and check the clean shutdown of DESIGN.md §2:
# exit status 0, control socket removed, interface gone; and no secret in its log.
wgp_stop() {
  local pid=$1 ns=$2 ifc=$3
  stop_pid "$pid" 10
  forget_pid "$pid"
  [[ $STOP_RC == 0 ]] || fail "wgpunch ($ifc) exited with status $STOP_RC after SIGTERM, expected 0"
  [[ ! -e $(sock_of "$ifc") ]] || fail "wgpunch ($ifc) left its socket $(sock_of "$ifc") behind"
  if ip -n "$ns" link show "$ifc" >/dev/null 2>&1; then
    fail "wgpunch ($ifc) left interface $ifc behind in $ns"
  fi
  assert_log_clean "$ifc"
}

# ping_ok NS ADDR [SECONDS]: succeed once one ping gets through within SECONDS (default 10).
ping_ok() {
  local ns=$1 addr=$2 secs=${3:-10} i
  for ((i = 0; i < secs; i++)); do
    ip netns exec "$ns" ping -q -n -c 1 -W 1 "$addr" >/dev/null 2>&1 && return 0
  done
  return 1
}

# expect_ping NS ADDR WHAT: assert ping works (first packets may wait for a handshake).
expect_ping() {
  ping_ok "$1" "$2" 10 || fail "no ping reply from $2 in $1 ($3)"
  log "ok: ping $2 from $1 ($3)"
}

# is_key STR: a WireGuard key in base64 (32 bytes: 43 characters and one '=').
is_key() { [[ $1 =~ ^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$ ]]; }

# wgp_keypair PRIVVAR PUBVAR: a key pair made by `wgpunch genkey`/`pubkey`, checked against
# `wg pubkey` (same Curve25519 public key for the same private key).
wgp_keypair() {
  local _kp_priv _kp_pub
  _kp_priv=$("$WGPUNCH" genkey) || fail "wgpunch genkey failed"
  is_key "$_kp_priv" || fail "wgpunch genkey printed '$_kp_priv', not a base64 key"
  _kp_pub=$(printf '%s\n' "$_kp_priv" | "$WGPUNCH" pubkey) || fail "wgpunch pubkey failed"
  is_key "$_kp_pub" || fail "wgpunch pubkey printed '$_kp_pub', not a base64 key"
  [[ $_kp_pub == "$(printf '%s\n' "$_kp_priv" | wg pubkey)" ]] ||
    fail "wgpunch pubkey and wg pubkey disagree on the same private key"
  secret "$_kp_priv"
  printf -v "$1" '%s' "$_kp_priv"
  printf -v "$2" '%s' "$_kp_pub"
}

# wg_keypair PRIVVAR PUBVAR: a key pair from the stock wg tool.
wg_keypair() {
  local _kp_priv
  _kp_priv=$(wg genkey)
  printf -v "$1" '%s' "$_kp_priv"
  printf -v "$2" '%s' "$(printf '%s\n' "$_kp_priv" | wg pubkey)"
}

# write_key FILE KEY: a key file for `wg set ... private-key FILE` (mode 0600).
write_key() { printf '%s\n' "$2" | write_conf "$1"; }

# write_conf FILE: write stdin to FILE with mode 0600 (configs hold private keys).
write_conf() {
  (umask 077 && cat >"$1")
  chmod 0600 "$1"
}

# peer_conf FILE PRIV PORT ADDRS PEERPUB PEERALLOWED [ENDPOINT [PSK]]: a node config with one
# peer, written like write_conf (mode 0600). An empty ENDPOINT or PSK leaves the key out.
peer_conf() {
  write_conf "$1" <<EOF
[Interface]
PrivateKey = $2
ListenPort = $3
Address = $4

[Peer]
PublicKey = $5
AllowedIPs = $6
${7:+Endpoint = $7}
${8:+PresharedKey = $8}
EOF
}

# handshake_time NS IFACE PUBKEY: the peer's latest handshake (UNIX seconds, 0 = never).
handshake_time() {
  ns_exec "$1" wg show "$2" latest-handshakes | awk -v k="$3" '$1 == k {print $2}'
}

# peer_endpoint NS IFACE PUBKEY: the peer's endpoint as `wg show` prints it.
peer_endpoint() {
  ns_exec "$1" wg show "$2" endpoints | awk -v k="$3" '$1 == k {print $2}'
}

# tcp_transfer FROM_NS TO_NS TO_ADDR PORT WHAT FILE: sends FILE over one TCP connection (socat)
# from FROM_NS to TO_ADDR:PORT in TO_NS and fails unless the SHA-256 of what arrived equals
# FILE's. Bounded: 90 s to send, 30 s more to finish receiving. Logs the rate.
tcp_transfer() {
  local from=$1 to=$2 addr=$3 port=$4 what=$5 file=$6 rpid spid t0 t1 sent got bytes
  local recv=$NL_TMP/recv-$port listen=TCP-LISTEN connect=TCP:$addr:$port
  [[ $addr == *:* ]] && listen=TCP6-LISTEN connect=TCP6:[$addr]:$port
  sent=$(sha256sum <"$file" | cut -d' ' -f1)
  bytes=$(stat -c %s "$file")
  rm -f "$recv"
  spawn rpid "$to" "$NL_TMP/recv-$port.log" \
    socat -u "$listen:$port,reuseaddr" "CREATE:$recv"
  wait_for "receiver listening on $addr:$port" 10 \
    bash -c "ip netns exec '$to' ss -Hltn 'sport = :$port' | grep -q LISTEN"
  t0=$(date +%s.%N)
  # Sender in the background, polled, so that a signal to the test is handled at once.
  spawn spid "$from" "$NL_TMP/send-$port.log" \
    timeout 90 socat -u "OPEN:$file,rdonly" "$connect"
  wait_for "$what: sender to finish" 95 pid_gone "$spid"
  wait "$spid" || fail "$what: sender failed or took over 90 s"
  forget_pid "$spid"
  wait_for "$what: receiver to finish" 30 pid_gone "$rpid"
  t1=$(date +%s.%N)
  wait "$rpid" || fail "$what: receiver failed"
  forget_pid "$rpid"
  got=$(sha256sum <"$recv" | cut -d' ' -f1)
  rm -f "$recv"
  [[ $got == "$sent" ]] || fail "$what: sha256 of received data $got != sent $sent"
  log "ok: $what: $((bytes >> 20)) MiB intact, $(awk -v s="$t0" -v e="$t1" -v b="$bytes" \
    'BEGIN {printf "%.2f s, %.0f Mbit/s", e - s, b * 8 / 1e6 / (e - s)}')"
}

# cleanup: stop every started process, delete every namespace, remove socket files and the
# temp dir; a passing run with a skipped part exits NL_SKIP_RC. Idempotent; installed as the
# EXIT trap by nl_init.
cleanup() {
  local rc=$? p ns ifc f
  [[ $NL_CLEANED == 1 ]] && return 0
  NL_CLEANED=1
  set +e
  for p in "${NL_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${NL_PIDS[@]}"; do
    for _ in {1..30}; do pid_alive "$p" || break; sleep 0.1; done
    pid_alive "$p" && kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  if [[ $rc != 0 && $rc != "$NL_SKIP_RC" && -n $NL_TMP ]]; then
    for f in "$NL_TMP"/*.log; do
      [[ -s $f ]] || continue
      printf -- '--- last lines of %s ---\n' "${f##*/}" >&2
      tail -n 25 "$f" | sed 's/^/    | /' >&2
    done
  fi
  for ns in "${NL_NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  for ifc in "${NL_IFACES[@]}"; do rm -f "$(sock_of "$ifc")"; done
  if [[ -n $NL_TMP && -d $NL_TMP ]]; then
    if [[ $rc != 0 && -n ${NL_KEEP_LOGS:-} ]]; then
      log "logs kept in $NL_TMP"
    else
      rm -rf "$NL_TMP"
    fi
  fi
  if [[ $rc == 0 && $NL_SKIPPED_PARTS -gt 0 ]]; then
    log "$NL_SKIPPED_PARTS part(s) skipped (SKIP lines above), the rest passed: the test counts as skipped"
    exit "$NL_SKIP_RC"
  fi
  return "$rc"
}
