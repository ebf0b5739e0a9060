# shellcheck shell=bash disable=SC2034  # variables here are for the scripts that source this
# The NAT topology of DESIGN.md §8 and the registry/Alice/Bob scenario of §7, for the NAT
# integration tests and the demo (sourced after netns.sh, not run).
#
#                         router (forwards, counts)
#      203.0.113.254 br0 /        | 198.51.100.254  \ 192.0.2.254
#   registry 203.0.113.1      NAT A 198.51.100.1     NAT B 192.0.2.1       (public side)
#   (+ more hosts on br0)     NAT A 10.1.0.1         NAT B 10.2.0.1
#                             alice 10.1.0.2         bob   10.2.0.2        (private side)
#
# Each NAT is a namespace with an nftables `masquerade` on its outside link "wan", a forward
# chain that admits from the outside only what belongs to a connection started inside, and
# an input chain that drops new connections from the outside: a home router with a
# port-restricted cone NAT (Linux keeps a flow's source port when it can, so one inside port
# maps to one outside port whoever the destination is). `symmetric` adds `random`: every
# new destination gets its own random outside port, which defeats hole punching. `plain` is
# the port-restricted NAT without the input filter (plain masquerade, as many routers ship):
# a packet from outside that arrives before the inside host sent anything there leaves a
# connection-tracking entry that makes the host's own packets to that remote leave from
# another port.
#
# The registry's link is a bridge in the router, so further public hosts (a stranger that
# is no peer) can join it. The router counts UDP between the two NATs' outside addresses
# (direct Alice<->Bob traffic) and everything it forwards to or from the registry's link.
#
# Usage:
#   source scripts/lib/netns.sh; source scripts/lib/nat.sh
#   nl_init mytest
#   nat_topology [cone|symmetric|plain] [cone|symmetric|plain]   # NS_ROUTER NS_REG NS_NAT_A NS_NAT_B NS_ALICE NS_BOB
#   nat_public_host VAR 203.0.113.7                  # another host on the registry's link
#   nat_flush "$NS_NAT_B"                            # forget every mapping (conntrack -F)
#   nat_remap "$NS_NAT_B" 51820 40000                # that inside port now leaves as :40000
#   nat_counter direct_ab packets                    # router counters (see nat_router_counters)
#   punch_keys; punch_configs [PUBLIC] [INTERVAL] [RELAY]; punch_up_registry; punch_up_peers

# Public side.
REG_IP=203.0.113.1
REG_GW=203.0.113.254
NAT_A_OUT=198.51.100.1
NAT_A_GW=198.51.100.254
NAT_B_OUT=192.0.2.1
NAT_B_GW=192.0.2.254
# Private side.
ALICE_LAN=10.1.0.2
NAT_A_LAN=10.1.0.1
BOB_LAN=10.2.0.2
NAT_B_LAN=10.2.0.1
# Inside the tunnel, and the WireGuard port every node listens on.
REG_TUN=10.0.0.254
ALICE_TUN=10.0.0.1
BOB_TUN=10.0.0.2
WG_PORT=51820
ZONE=example.net.

# nat_topology [MODE_A] [MODE_B]: build router, registry, two NATs (cone = port-restricted,
# the default, symmetric, or plain: cone without the input filter) and Alice and Bob behind
# them; check the public side is routed and the NATs translate before returning.
nat_topology() {
  local mode_a=${1:-cone} mode_b=${2:-cone}
  nat_router_and_registry
  ns_create NS_NAT_A
  ns_create NS_NAT_B
  ns_create NS_ALICE
  ns_create NS_BOB

  nat_box "$NS_NAT_A" "$NAT_A_OUT" "$NAT_A_GW" "$mode_a" a0 "$NAT_A_LAN"
  nat_box "$NS_NAT_B" "$NAT_B_OUT" "$NAT_B_GW" "$mode_b" b0 "$NAT_B_LAN"
  nat_lan_join "$NS_ALICE" "$NS_NAT_A" "$ALICE_LAN"
  nat_lan_join "$NS_BOB" "$NS_NAT_B" "$BOB_LAN"
  nat_router_counters

  # The underlay works: both private hosts reach the registry through their NATs.
  ping_ok "$NS_ALICE" "$REG_IP" 3 || fail "underlay: alice cannot reach the registry through NAT A"
  ping_ok "$NS_BOB" "$REG_IP" 3 || fail "underlay: bob cannot reach the registry through NAT B"
  ns_exec "$NS_NAT_A" conntrack -F >/dev/null 2>&1 || true
  ns_exec "$NS_NAT_B" conntrack -F >/dev/null 2>&1 || true
}

# nat_router_and_registry: the router (NS_ROUTER) and the registry's namespace (NS_REG) on
# the router's bridge br0; the NATs join the router with nat_box.
nat_router_and_registry() {
  require_tools nft conntrack
  ns_create NS_ROUTER
  ns_create NS_REG
  ns_forwarding "$NS_ROUTER"
  ip -n "$NS_ROUTER" link add br0 type bridge || fail "cannot create the registry's bridge"
  bridge_pin_address "$NS_ROUTER" br0 02:00:00:00:fe:01
  add_addrs "$NS_ROUTER" br0 "$REG_GW/24"
  ip -n "$NS_ROUTER" link set br0 up
  veth_link "$NS_REG" eth0 "$REG_IP/24" "$NS_ROUTER" reg0 ""
  ip -n "$NS_ROUTER" link set reg0 master br0
  ip -n "$NS_REG" route add default via "$REG_GW"
}

# nat_lan_join HOSTNS NATNS ADDR: HOSTNS joins the NAT's LAN (the bridge "lan") with ADDR/24 on
# its eth0 and the NAT as default route. Several hosts may share one LAN (DESIGN.md §8: two
# hosts behind one NAT that does not hairpin).
nat_lan_join() {
  local host=$1 nat=$2 addr=$3 port gw
  port="l${#NL_NAMESPACES[@]}$((RANDOM % 1000))"
  veth_link "$host" eth0 "$addr/24" "$nat" "$port" ""
  ip -n "$nat" link set "$port" master lan || fail "cannot join $host to the LAN of $nat"
  gw=$(ip -n "$nat" -4 -o addr show dev lan | awk '{print $4}' | cut -d/ -f1)
  ip -n "$host" route add default via "$gw" || fail "$host: no default route via $gw"
}

# nat_box NS OUTSIDE GATEWAY MODE ROUTERDEV LANADDR [LEN]: one NAT namespace: "wan" towards the
# router (ROUTERDEV on the router's side; OUTSIDE and GATEWAY in a /LEN, default 24), the LAN
# bridge "lan" with LANADDR/24 (hosts join with nat_lan_join), nftables as described above.
nat_box() {
  local ns=$1 out=$2 gw=$3 mode=$4 rdev=$5 lan=$6 len=${7:-24} flags="" input_drop=" drop"
  [[ $mode == symmetric ]] && flags=" random"
  [[ $mode == plain ]] && input_drop=""  # counted, not dropped: see the head of this file
  [[ $mode == cone || $mode == symmetric || $mode == plain ]] ||
    fail "nat_box: mode '$mode' is not cone, symmetric or plain"
  veth_link "$ns" wan "$out/$len" "$NS_ROUTER" "$rdev" "$gw/$len"
  ip -n "$ns" route add default via "$gw"
  ns_forwarding "$ns"
  ip -n "$ns" link add lan type bridge || fail "cannot create the LAN bridge of $ns"
  bridge_pin_address "$ns" lan 02:00:00:00:fe:02
  add_addrs "$ns" lan "$lan/24"
  ip -n "$ns" link set lan up
  ns_exec "$ns" nft -f - <<EOF || fail "cannot install the NAT rules in $ns"
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade$flags
  }
}
table ip filter {
  # Unsolicited traffic from the outside, counted so a test can see the NAT at work.
  counter refused_forward { }
  counter refused_input { }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" accept
    # Host to host on the LAN bridge (seen here when br_netfilter is loaded).
    iifname "lan" oifname "lan" accept
    counter name refused_forward drop
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" counter name refused_input$input_drop
  }
}
EOF
}

# nat_public_host VAR ADDR: a new namespace on the registry's link (bridge br0 in the
# router) with address ADDR/24 and a default route through the router; name into VAR.
nat_public_host() {
  local _ph_var=$1 addr=$2 _ph_dev="h${#NL_NAMESPACES[@]}"
  ns_create "$_ph_var"
  local ns=${!_ph_var}
  veth_link "$ns" eth0 "$addr/24" "$NS_ROUTER" "$_ph_dev" ""
  ip -n "$NS_ROUTER" link set "$_ph_dev" master br0
  ip -n "$ns" route add default via "$REG_GW"
}

# nat_flush NATNS: drop every connection-tracking entry of a NAT: its mappings are gone, and
# replies on the old ones are unsolicited traffic now.
nat_flush() {
  ns_exec "$1" conntrack -F >/dev/null 2>&1 || fail "conntrack -F failed in $1"
}

# nat_remap NATNS INSIDEPORT NEWPORT: from now on UDP from INSIDEPORT leaves the NAT from
# NEWPORT (a NAT that rebooted and hands out other ports), and the old mappings are flushed.
nat_remap() {
  local ns=$1 sport=$2 nport=$3
  ns_exec "$ns" nft insert rule ip nat postrouting oifname '"wan"' udp sport "$sport" \
    masquerade to :"$nport" || fail "cannot remap port $sport in $ns"
  nat_flush "$ns"
}

# nat_ipv6: global IPv6 beside the IPv4 NATs (DESIGN.md §8): the router routes 2001:db8:1::/64
# to NAT A and 2001:db8:2::/64 to NAT B, which forward it without translation behind a
# stateful firewall (from the outside only what belongs to a flow started inside); Alice and
# Bob get ALICE_V6 / BOB_V6. The registry's link stays IPv4 only.
ALICE_V6=2001:db8:1::2
BOB_V6=2001:db8:2::2
nat_ipv6() {
  local side nat host net rdev host_v6 wan_nat wan_router lan_v6
  for side in a b; do
    if [[ $side == a ]]; then
      nat=$NS_NAT_A host=$NS_ALICE net=1 rdev=a0 host_v6=$ALICE_V6
    else
      nat=$NS_NAT_B host=$NS_BOB net=2 rdev=b0 host_v6=$BOB_V6
    fi
    wan_nat=2001:db8:f${net}::1 wan_router=2001:db8:f${net}::fe lan_v6=2001:db8:${net}::1
    add_addrs "$NS_ROUTER" "$rdev" "$wan_router/64"
    add_addrs "$nat" wan "$wan_nat/64"
    add_addrs "$nat" lan "$lan_v6/64"
    add_addrs "$host" eth0 "$host_v6/64"
    ip -n "$NS_ROUTER" -6 route add "2001:db8:${net}::/64" via "$wan_nat" || fail "router: no v6 route to $nat"
    ip -n "$nat" -6 route add default via "$wan_router" || fail "$nat: no v6 default route"
    ip -n "$host" -6 route add default via "$lan_v6" || fail "$host: no v6 default route"
    printf '%s\n' 'table ip6 filter {' '  counter refused_v6 { }' '  chain forward {' \
      '    type filter hook forward priority filter; policy drop;' \
      '    ct state established,related accept' '    iifname "lan" oifname "wan" accept' \
      '    iifname "lan" oifname "lan" accept' '    counter name refused_v6 drop' '  }' '}' | ns_exec "$nat" nft -f - ||
      fail "cannot install the IPv6 firewall in $nat"
  done
  ns_exec "$NS_ALICE" ping -6 -c 1 -W 2 "$BOB_V6" >/dev/null 2>&1 &&
    fail "IPv6: Alice reaches Bob unsolicited: the firewall is open"
  ns_exec "$NS_ALICE" ping -6 -c 1 -W 2 2001:db8:f2::fe >/dev/null 2>&1 ||
    fail "IPv6: Alice cannot reach the router beyond NAT B's side"
}

# nat_refused NATNS: packets from the outside this NAT dropped as unsolicited.
nat_refused() {
  local f i c='$1 == "packets" {print $2; exit}'
  f=$(ns_exec "$1" nft list counter ip filter refused_forward | awk "$c")
  i=$(ns_exec "$1" nft list counter ip filter refused_input | awk "$c")
  echo $((f + i))
}

# nat_router_counters: counters in the router: UDP from NAT A's outside address to NAT B's
# (direct_ab) and back (direct_ba), and everything forwarded into or out of the registry's
# link (registry_in, registry_out).
nat_router_counters() {
  ns_exec "$NS_ROUTER" nft -f - <<EOF || fail "cannot install the router's counters"
table ip count {
  counter direct_ab { }
  counter direct_ba { }
  counter registry_in { }
  counter registry_out { }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ip saddr $NAT_A_OUT ip daddr $NAT_B_OUT udp dport 1-65535 counter name direct_ab
    ip saddr $NAT_B_OUT ip daddr $NAT_A_OUT udp dport 1-65535 counter name direct_ba
    oifname "br0" counter name registry_in
    iifname "br0" counter name registry_out
  }
}
EOF
}

# nat_counter NAME packets|bytes: the value of one router counter.
nat_counter() {
  ns_exec "$NS_ROUTER" nft list counter ip count "$1" |
    awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }'
}

# --- the registry / Alice / Bob scenario (DESIGN.md §7) -------------------------------------

# punch_keys: key pairs for the three nodes (KEY_*/PUB_*), interface names (IF_*), and each
# key's DNS label (B32_*: `base64 -d | base32`, 56 upper-case characters).
punch_keys() {
  wgp_keypair KEY_REG PUB_REG
  wgp_keypair KEY_ALICE PUB_ALICE
  wgp_keypair KEY_BOB PUB_BOB
  IF_REG=$(uniq_iface reg)
  IF_ALICE=$(uniq_iface alice)
  IF_BOB=$(uniq_iface bob)
  B32_REG=$(b32_of "$PUB_REG")
  B32_ALICE=$(b32_of "$PUB_ALICE")
  B32_BOB=$(b32_of "$PUB_BOB")
}

# b32_of KEY: the DNS label of a base64 public key.
b32_of() { printf '%s' "$1" | base64 -d | base32 -w0; }

# The README's example configs (examples/registry.conf, examples/node.conf), which every
# test of the registry/Alice/Bob scenario runs; punch_configs fills in their keys.
EXAMPLES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples" && pwd)

# punch_configs [PUBLIC] [INTERVAL] [RELAY]: the three config files in $NL_TMP (CONF_REG,
# CONF_ALICE, CONF_BOB), made from the examples: the registry publishes (Public = PUBLIC,
# default no; Relay = RELAY, default no); Alice and Bob know the registry's public address
# and each other's key, not each other's endpoint: that is what discovery is for. Their
# keepalive towards the registry is PUNCH_KEEPALIVE (default 5 s, the example's 25 s makes
# the tests slow to see a NAT remap).
punch_configs() {
  local public=${1:-no} interval=${2:-10} relay=${3:-no}
  CONF_REG=$NL_TMP/$IF_REG.conf
  CONF_ALICE=$NL_TMP/$IF_ALICE.conf
  CONF_BOB=$NL_TMP/$IF_BOB.conf
  grep -q "^Endpoint = $REG_IP:$WG_PORT$" "$EXAMPLES/node.conf" ||
    fail "examples/node.conf does not name the registry at $REG_IP:$WG_PORT (nat.sh's topology)"
  sed -e "s|REGISTRY_PRIVATE_KEY|$KEY_REG|" -e "s|ALICE_PUBLIC_KEY|$PUB_ALICE|" \
    -e "s|BOB_PUBLIC_KEY|$PUB_BOB|" -e "s|^Public = no$|Public = $public|" \
    -e "s|^Relay = no$|Relay = $relay|" "$EXAMPLES/registry.conf" | write_conf "$CONF_REG"
  punch_node_conf "$CONF_ALICE" "$KEY_ALICE" "$ALICE_TUN" "$interval" "$PUB_BOB" "$BOB_TUN"
  punch_node_conf "$CONF_BOB" "$KEY_BOB" "$BOB_TUN" "$interval" "$PUB_ALICE" "$ALICE_TUN"
}

# punch_node_conf FILE KEY ADDR INTERVAL OTHERPUB OTHERADDR: examples/node.conf (Alice's) for
# the node with key KEY at ADDR whose other peer is OTHERPUB at OTHERADDR.
punch_node_conf() {
  sed -e "s|ALICE_PRIVATE_KEY|$2|" -e "s|REGISTRY_PUBLIC_KEY|$PUB_REG|g" \
    -e "s|BOB_PUBLIC_KEY|$5|" -e "s|^Address = $ALICE_TUN/24$|Address = $3/24|" \
    -e "s|^AllowedIPs = $BOB_TUN/32$|AllowedIPs = $6/32|" -e "s|^Interval = 10$|Interval = $4|" \
    -e "s|^PersistentKeepalive = 25$|PersistentKeepalive = ${PUNCH_KEEPALIVE:-5}|" \
    "$EXAMPLES/node.conf" | write_conf "$1"
}

# punch_peer_conf FILE KEY ADDR INTERVAL OTHERNAME OTHERPUB OTHERADDR: a further node (Carol)
# in the scenario, as punch_node_conf (OTHERNAME is for the reader of the file).
punch_peer_conf() { punch_node_conf "$1" "$2" "$3" "$4" "$6" "$7"; }

# punch_up_registry: start the registry (PID_REG).
punch_up_registry() { wgp_up PID_REG "$NS_REG" "$CONF_REG"; }

# punch_up_peers: start Alice and Bob at once (PID_ALICE, PID_BOB), then wait for both.
punch_up_peers() {
  wgp_start PID_ALICE "$NS_ALICE" "$CONF_ALICE"
  wgp_start PID_BOB "$NS_BOB" "$CONF_BOB"
  wgp_wait_up "$PID_ALICE" "$CONF_ALICE"
  wgp_wait_up "$PID_BOB" "$CONF_BOB"
}

# status_field NS IFACE FIELD [PEERKEY]: one line of `wgpunch status` ("endpoint source",
# "discovery answers", ...), at device level or in the block of PEERKEY.
status_field() {
  local ns=$1 ifc=$2 field=$3 peer=${4:-}
  ns_exec "$ns" "$WGPUNCH" status "$ifc" 2>/dev/null | awk -v f="$field" -v p="$peer" '
    /^peer: / { inpeer = 1; mine = ($2 == p) }
    {
      line = $0; sub(/^ +/, "", line)
      if (index(line, f ": ") == 1 && ((p == "" && !inpeer) || (p != "" && mine))) {
        print substr(line, length(f) + 3); exit
      }
    }'
}

# now_ms: a monotonic-enough clock in milliseconds for timings.
now_ms() { date +%s%3N; }

# wgsd_endpoint NS SERVER PORT PEERKEY: what the stock wgsd-client reads for one peer: the SRV
# of its instance name, the port from ANSWER[0] and the address from ADDITIONAL[0], asked of
# SERVER:PORT from NS (kdig, one try). Prints ADDR:PORT ([v6]:PORT), nothing when no answer.
wgsd_endpoint() {
  ns_exec "$1" kdig @"$2" -p "$3" +norec +timeout=1 +retry=0 +noall +answer +additional \
    "$(b32_of "$4")._wireguard._udp.$ZONE" SRV 2>/dev/null |
    awk '$4 == "SRV" && port == "" { port = $7 }
         ($4 == "A" || $4 == "AAAA") && addr == "" { addr = ($4 == "AAAA") ? "[" $5 "]" : $5 }
         END { if (port != "" && addr != "") print addr ":" port }'
}
