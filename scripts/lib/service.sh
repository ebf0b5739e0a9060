# Helpers for the tests of wgpunch as a system service (sourced after netns.sh): a stand-in
# for systemd's notification socket, a switch namespace that joins several nodes on one
# link, and Prometheus's HTTP API.

# notify_listen VAR NS SOCKET: a datagram socket at SOCKET, as systemd's NOTIFY_SOCKET is;
# every message that arrives is appended to SOCKET.log (each ends in a newline). PID in VAR.
notify_listen() {
  local _nl_var=$1 ns=$2 sock=$3
  rm -f "$sock"
  spawn "$_nl_var" "$ns" "$sock.log" socat -u "UNIX-RECV:$sock" STDOUT
  wait_for "notify socket $sock" 5 test -S "$sock"
}

# notify_count SOCKET LINE: how often LINE arrived as a line of a message.
notify_count() { grep -cxF -- "$2" "$1.log" || true; }

# switch_create VAR: a namespace with a bridge br0, to join nodes on one link.
switch_create() {
  ns_create "$1"
  ip -n "${!1}" link add br0 type bridge
  ip -n "${!1}" link set br0 up
}

# switch_port SWITCH NS DEV "ADDRS": NS joins the switch through DEV (addresses ADDRS).
switch_port() {
  local sw=$1 ns=$2 dev=$3 addrs=$4 port="p${#NL_NAMESPACES[@]}$RANDOM"
  veth_link "$ns" "$dev" "$addrs" "$sw" "$port" ""
  ip -n "$sw" link set "$port" master br0
}

# prom_query NS QUERY: the value of the first sample of an instant query against the
# Prometheus server on 127.0.0.1:9090 in NS; empty when there is none yet.
prom_query() {
  ns_exec "$1" curl -sfG --max-time 5 http://127.0.0.1:9090/api/v1/query \
    --data-urlencode "query=$2" |
    python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")'
}

# build_under_test BINARY: the wgpunch under test and its build: WGPUNCH (real path),
# BUILD_DIR (its CMake build directory), SANITIZED (1 in an ASan/UBSan build, else 0).
build_under_test() {
  [[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
  WGPUNCH=$(realpath "$1")
  BUILD_DIR=$(dirname "$WGPUNCH")
  [[ -f $BUILD_DIR/CMakeCache.txt ]] || fail "$WGPUNCH is not in a CMake build directory"
  SANITIZED=0
  if grep -q '^CMAKE_CXX_FLAGS:STRING=.*-fsanitize' "$BUILD_DIR/CMakeCache.txt"; then SANITIZED=1; fi
}

# package_under_test VAR: scripts/package run on BUILD_DIR; the .deb's path in VAR.
package_under_test() {
  local _pk_deb _pk_t=$SECONDS
  _pk_deb=$(WGPUNCH_BUILD_DIR=$BUILD_DIR "$ROOT/scripts/package" 2>"$NL_TMP/package.log" | tail -n1) ||
    fail "scripts/package failed: $(tail -n 20 "$NL_TMP/package.log")"
  [[ -f $_pk_deb ]] || fail "scripts/package made no package: '$_pk_deb'"
  log "ok: $(basename "$_pk_deb"), $(du -k "$_pk_deb" | cut -f1) KiB, in $((SECONDS - _pk_t)) s"
  printf -v "$1" '%s' "$_pk_deb"
}
