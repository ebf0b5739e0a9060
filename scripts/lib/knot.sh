# shellcheck shell=bash
# A Knot DNS secondary of the registry's zone for the integration tests (sourced after netns.sh
# and nat.sh, not run): knotd in a namespace of the test, its config, database and socket in the
# test's temp dir, its log beside the daemons' (printed on failure), stopped by the harness.
#
#   knot_secondary PIDVAR NS ADDR PRIMARY_IP PRIMARY_PORT KEYNAME SECRET
#       knotd listening on ADDR@53, secondary for $ZONE from PRIMARY_IP@PRIMARY_PORT with the
#       TSIG key KEYNAME/SECRET (hmac-sha256) on everything it exchanges with the primary; it
#       accepts NOTIFY only from PRIMARY_IP with that key, and serves AXFR to ADDR itself (so
#       that a test can read Knot's copy whole). Sets KNOT_LOG.
#   knot_soa_serial NS ADDR                  the serial Knot serves (empty when none)
#   knot_wait_serial NS ADDR SERIAL SECONDS  until Knot serves SERIAL (bounded; fails after)
#   knot_wait_registry NS ADDR REGNS REGIF SECONDS  until Knot serves the registry's serial

knot_secondary() {
  local _ks_var=$1 ns=$2 addr=$3 primary=$4 port=$5 keyname=$6 secret=$7
  local dir=$NL_TMP/knot-$addr
  require_tools knotd kdig
  mkdir -p "$dir/run" "$dir/db"
  (umask 077 && cat >"$dir/knot.conf") <<EOF
server:
    rundir: "$dir/run"
    listen: $addr@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "$dir/db"
key:
  - id: $keyname
    algorithm: hmac-sha256
    secret: $secret
remote:
  - id: registry
    address: $primary@$port
    key: $keyname
acl:
  - id: notify_from_registry
    address: $primary
    key: $keyname
    action: notify
  - id: transfer_to_self
    address: $addr
    action: transfer
zone:
  - domain: $ZONE
    storage: "$dir/db"
    master: registry
    acl: [notify_from_registry, transfer_to_self]
    zonefile-sync: -1
    zonefile-load: none
EOF
  KNOT_LOG=$NL_TMP/knotd-$addr.log
  spawn "$_ks_var" "$ns" "$KNOT_LOG" knotd -c "$dir/knot.conf"
}

knot_soa_serial() {
  ns_exec "$1" kdig @"$2" +norec +short +timeout=1 +retry=0 "$ZONE" SOA 2>/dev/null |
    awk '{print $3; exit}'
}

knot_wait_serial() {
  local ns=$1 addr=$2 want=$3 secs=$4 i
  for ((i = 0; i < secs * 10; i++)); do
    [[ $(knot_soa_serial "$ns" "$addr") == "$want" ]] && return 0
    sleep 0.1
  done
  fail "Knot ($addr) does not serve serial $want after ${secs}s (it serves '$(knot_soa_serial "$ns" "$addr")')"
}

# knot_wait_registry NS ADDR REGNS REGIF SECONDS: until Knot serves the serial the registry
# serves at that moment (both read each round: the registry may commit a newer version while
# Knot transfers the last, and then Knot must follow it, not match a serial read once).
knot_wait_registry() {
  local ns=$1 addr=$2 reg_ns=$3 reg_if=$4 secs=$5 i reg=""
  for ((i = 0; i < secs * 10; i++)); do
    reg=$(status_field "$reg_ns" "$reg_if" "registry zone serial")
    [[ -n $reg && $(knot_soa_serial "$ns" "$addr") == "$reg" ]] && return 0
    sleep 0.1
  done
  fail "Knot ($addr) does not serve the registry's serial '$reg' after ${secs}s" \
    "(it serves '$(knot_soa_serial "$ns" "$addr")')"
}
