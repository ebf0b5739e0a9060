# shellcheck shell=bash disable=SC2034  # variables here are for the scripts that source this
# Port mapping in the NAT topology (nat.sh; sourced after it, not run): NAT B's box runs
# miniupnpd (Debian's miniupnpd-nftables), which speaks PCP, NAT-PMP and UPnP IGD and programs
# nftables. Its config, pid and lease files live in $NL_TMP; the system's /etc/miniupnpd is
# never read (the package installs no service, so no system instance runs).
#
# What miniupnpd needs from the box:
#   - a public address it accepts as external: it refuses reserved ranges (the documentation
#     ones included), so NAT B's outside is an ordinary unicast range here (PORTMAP_B_OUT);
#     the namespaces reach nothing beyond themselves;
#   - its nftables chains made beforehand: table inet filter chain miniupnpd (forward
#     accepts), table inet nat chains prerouting_miniupnpd (DNAT, jumped to from a prerouting
#     hook) and postrouting_miniupnpd;
#   - the NAT's forward filter admitting flows it DNATed: `ct status dnat accept`.
# A table `portmap_test` on the box's input hook lets a test silence one protocol:
# PCP (version 2) or NAT-PMP (version 0) requests to port 5351, told apart by their first byte.
#
# Usage:
#   source netns.sh; source nat.sh; source portmap.sh
#   portmap_init NAME "$@"               # the binary, checks, the harness
#   portmap_topology                     # or, by hand: portmap_public_range,
#                                        # nat_topology cone symmetric, portmap_router_prepare
#   portmap_miniupnpd_start all|natpmp|pcp|upnp|refuse [MAX_LIFETIME]
#   portmap_rules                        # the DNAT rules miniupnpd made
#   portmap_miniupnpd_stop
# and, for the tests' rounds (punch_configs done; FIRST_BOUND seconds to a first reply):
#   round_start MODE | round_stop, bob_field, path_of, direct_both, bob_maps_with,
#   bob_has_no_mapping

PORTMAP_B_OUT=192.0.3.1
PORTMAP_B_GW=192.0.3.254
PID_MINIUPNPD=""
BOB_ARGS=()  # more arguments for Bob's `wgpunch up` (e.g. --user nobody)

# portmap_public_range: NAT B's outside becomes PORTMAP_B_OUT (call before nat_topology).
portmap_public_range() {
  NAT_B_OUT=$PORTMAP_B_OUT
  NAT_B_GW=$PORTMAP_B_GW
}

# portmap_init NAME ARGS...: a test's start: the wgpunch binary from ARGS (WGPUNCH), root with
# namespaces, the tools (miniupnpd among them), the harness under NAME.
portmap_init() {
  local name=$1
  shift
  [[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
  require_netns_capable
  [[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
  WGPUNCH=$(realpath "$1")
  require_tools wg ip ping awk nft conntrack ss miniupnpd
  nl_init "$name"
}

# portmap_topology: the §8 topology for these tests: NAT A port-restricted, NAT B symmetric with
# the public range above and miniupnpd's chains, keys and configs (Interval 10 s), the registry
# with Relay = yes.
portmap_topology() {
  portmap_public_range
  nat_topology cone symmetric
  portmap_router_prepare
  punch_keys
  punch_configs no 10 yes
}

# portmap_router_prepare: the chains miniupnpd fills, DNATed flows through NAT B's forward
# filter, and the (empty) table that silences a protocol.
portmap_router_prepare() {
  require_tools miniupnpd
  ns_exec "$NS_NAT_B" nft insert rule ip filter forward ct status dnat accept ||
    fail "cannot admit DNATed flows in $NS_NAT_B"
  ns_exec "$NS_NAT_B" nft -f - <<'EOF' || fail "cannot make miniupnpd's chains in $NS_NAT_B"
table inet filter {
  chain miniupnpd {
  }
}
table inet nat {
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    jump prerouting_miniupnpd
  }
}
table ip portmap_test {
  chain input {
    type filter hook input priority -10; policy accept;
  }
}
EOF
}

# portmap_miniupnpd_start MODE [MAX_LIFETIME]: miniupnpd on NAT B with
#   all     PCP, NAT-PMP and UPnP
#   natpmp  NAT-PMP only (UPnP off; PCP requests dropped on the box's input)
#   pcp     PCP only (UPnP off; NAT-PMP requests dropped)
#   upnp    UPnP only (PCP and NAT-PMP off: port 5351 closed)
#   refuse  every protocol on, every mapping refused by its permission rules
# MAX_LIFETIME bounds what PCP grants (seconds; default 86400). Waits until it listens.
portmap_miniupnpd_start() {
  local mode=$1 max=${2:-86400} natpmp=yes upnp=yes rule="allow 1024-65535 10.2.0.0/24 1024-65535"
  ns_exec "$NS_NAT_B" nft flush chain ip portmap_test input
  case $mode in
    all) ;;
    natpmp)
      upnp=no
      ns_exec "$NS_NAT_B" nft add rule ip portmap_test input udp dport 5351 @th,64,8 2 drop
      ;;
    pcp)
      upnp=no
      ns_exec "$NS_NAT_B" nft add rule ip portmap_test input udp dport 5351 @th,64,8 0 drop
      ;;
    upnp) natpmp=no ;;
    refuse)
      # Every mapping denied. PCP and NAT-PMP requests are dropped on the way in: for those
      # two, miniupnpd 2.3.1 walks the whole port range for one it may grant, looking each up
      # in nftables, answers nothing meanwhile and starves every nft and netlink user on the
      # machine for a minute or more (other tests' namespaces included); UPnP's AddPortMapping
      # is refused at once.
      rule=""
      ns_exec "$NS_NAT_B" nft add rule ip portmap_test input udp dport 5351 drop
      ;;
    *) fail "portmap_miniupnpd_start: unknown mode '$mode'" ;;
  esac
  : >"$NL_TMP/miniupnpd.leases"
  cat >"$NL_TMP/miniupnpd.conf" <<EOF
ext_ifname=wan
listening_ip=lan
http_port=0
enable_natpmp=$natpmp
enable_upnp=$upnp
secure_mode=yes
system_uptime=yes
lease_file=$NL_TMP/miniupnpd.leases
uuid=3d3cec3a-8cf0-11e0-98ee-001a6b17b7d3
min_lifetime=10
max_lifetime=$max
upnp_table_name=filter
upnp_nat_table_name=nat
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
$rule
deny 0-65535 0.0.0.0/0 0-65535
EOF
  spawn PID_MINIUPNPD "$NS_NAT_B" "$NL_TMP/miniupnpd-$mode.log" \
    miniupnpd -d -f "$NL_TMP/miniupnpd.conf" -P "$NL_TMP/miniupnpd.pid"
  local port=5351 proto=u
  [[ $natpmp == no ]] && port=1900
  wait_for "miniupnpd ($mode) to listen on port $port" 10 \
    bash -c "ip netns exec '$NS_NAT_B' ss -Hln${proto} 'sport = :$port' | grep -q ."
}

# portmap_miniupnpd_stop: SIGTERM (it removes its rules), bounded.
portmap_miniupnpd_stop() {
  [[ -n $PID_MINIUPNPD ]] || return 0
  stop_pid "$PID_MINIUPNPD" 5
  forget_pid "$PID_MINIUPNPD"
  PID_MINIUPNPD=""
  ns_exec "$NS_NAT_B" nft flush chain inet nat prerouting_miniupnpd
  ns_exec "$NS_NAT_B" nft flush chain inet filter miniupnpd
  ns_exec "$NS_NAT_B" nft flush chain ip portmap_test input  # what a mode silenced
}

# portmap_rules: the DNAT rules in NAT B (one line each: "PORT ADDR:PORT").
portmap_rules() {
  ns_exec "$NS_NAT_B" nft list chain inet nat prerouting_miniupnpd |
    awk '/dnat/ { for (i = 1; i < NF; i++) if ($i == "dport") p = $(i + 1); print p, $NF }'
}

bob_field() { status_field "$NS_BOB" "$IF_BOB" "$1"; }
path_of() { status_field "$1" "$2" "path" "$3"; }
direct_both() {
  [[ $(path_of "$NS_ALICE" "$IF_ALICE" "$PUB_BOB") == direct &&
    $(path_of "$NS_BOB" "$IF_BOB" "$PUB_ALICE") == direct ]]
}
bob_maps_with() { [[ $(bob_field "port mapping") == "$1" ]]; }
# Bob gave up: no mapping, and a reason other than "asking" (the search is over).
bob_has_no_mapping() {
  local reason
  reason=$(bob_field "port mapping reason")
  [[ $(bob_field "port mapping") == none && -n $reason && $reason != *asking* ]]
}

# round_start MODE [MAX_LIFETIME]: fresh NAT state, miniupnpd in MODE (none for "absent"), the registry,
# then Alice and Bob at once; Alice pings Bob until the first reply (ms since start in MS).
round_start() {
  nat_flush "$NS_NAT_A"
  nat_flush "$NS_NAT_B"
  [[ $1 == absent ]] || portmap_miniupnpd_start "$@"
  punch_up_registry
  T0=$(now_ms)
  wgp_start PID_ALICE "$NS_ALICE" "$CONF_ALICE"
  wgp_start PID_BOB "$NS_BOB" "$CONF_BOB" "" "${BOB_ARGS[@]}"
  wgp_wait_up "$PID_ALICE" "$CONF_ALICE"
  wgp_wait_up "$PID_BOB" "$CONF_BOB"
  ns_exec "$NS_ALICE" ping -n -q -i 0.05 -c 1 -w "$FIRST_BOUND" "$BOB_TUN" >/dev/null 2>&1 ||
    fail "$1: no ping reply Alice -> Bob within ${FIRST_BOUND}s of starting"
  MS=$(($(now_ms) - T0))
}

# round_stop: Bob, Alice and the registry stop cleanly; NAT B then holds no mapping.
round_stop() {
  local pid_ns_if pid ns ifc
  for pid_ns_if in "$PID_BOB $NS_BOB $IF_BOB" "$PID_ALICE $NS_ALICE $IF_ALICE" \
    "$PID_REG $NS_REG $IF_REG"; do
    read -r pid ns ifc <<<"$pid_ns_if"
    wgp_stop "$pid" "$ns" "$ifc"
  done
  [[ -z $(portmap_rules) ]] || fail "NAT B still maps after Bob stopped: $(portmap_rules)"
  portmap_miniupnpd_stop
}
