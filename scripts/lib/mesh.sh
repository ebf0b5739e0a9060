# shellcheck shell=bash disable=SC2034  # variables here are for the scripts that source this
# N hosts, each behind a NAT of its own (nat.sh's nat_box), around nat.sh's router and
# registry, every pair of them peers configured by hand: the mesh for tests that watch many
# tunnels at once (sourced after netns.sh and nat.sh, not run).
#
#   NAT i: outside 198.51.100.(16i+1)/28 (router .16i+14), LAN 10.(20+i).0.0/24, host .2;
#   host i is 10.0.0.(i+1) in the tunnel, the registry 10.0.0.254.
#
# Usage:
#   mesh_topology N [MODE]          # MESH_NAT[i] MESH_HOST[i] MESH_OUT[i] MESH_TUN[i]; NS_REG ...
#   mesh_keys N                     # MESH_KEY[i] MESH_PUB[i] MESH_IF[i]; KEY_REG PUB_REG IF_REG
#   mesh_configs N INTERVAL KEEPALIVE_FN   # KEEPALIVE_FN I J prints the pair's keepalive (0: none)
#   mesh_up N                       # the registry and every node (PID_REG, MESH_PID[i])
#   mesh_initiations I J            # handshake initiations the router saw from NAT I to NAT J

mesh_topology() {
  local n=$1 mode=${2:-cone} i var
  nat_router_and_registry
  MESH_NAT=() MESH_HOST=() MESH_OUT=() MESH_TUN=()
  for ((i = 0; i < n; i++)); do
    ns_create "NS_MESH_NAT_$i"
    var="NS_MESH_NAT_$i"
    MESH_NAT+=("${!var}")
    ns_create "NS_MESH_HOST_$i"
    var="NS_MESH_HOST_$i"
    MESH_HOST+=("${!var}")
    MESH_OUT+=("198.51.100.$((16 * i + 1))")
    MESH_TUN+=("10.0.0.$((i + 1))")
    nat_box "${MESH_NAT[i]}" "${MESH_OUT[i]}" "198.51.100.$((16 * i + 14))" "$mode" "m$i" \
      "10.$((20 + i)).0.1" 28
    nat_lan_join "${MESH_HOST[i]}" "${MESH_NAT[i]}" "10.$((20 + i)).0.2"
  done
  mesh_counters "$n"
  for ((i = 0; i < n; i++)); do
    ping_ok "${MESH_HOST[i]}" "$REG_IP" 3 || fail "underlay: mesh host $i cannot reach the registry"
    ns_exec "${MESH_NAT[i]}" conntrack -F >/dev/null 2>&1 || true
  done
}

# mesh_counters N: in the router, one counter per ordered pair of NATs for the handshake
# initiations between them (UDP of 8 + 148 bytes whose payload starts 01 00 00 00).
mesh_counters() {
  local n=$1 i j
  {
    echo 'table ip mesh {'
    for ((i = 0; i < n; i++)); do
      for ((j = 0; j < n; j++)); do ((i == j)) || echo "  counter hs_${i}_$j { }"; done
    done
    echo '  chain forward {'
    echo '    type filter hook forward priority filter; policy accept;'
    for ((i = 0; i < n; i++)); do
      for ((j = 0; j < n; j++)); do
        ((i == j)) || echo "    ip saddr ${MESH_OUT[i]} ip daddr ${MESH_OUT[j]} udp length 156" \
          "@th,64,32 0x01000000 counter name hs_${i}_$j"
      done
    done
    echo '  }'
    echo '}'
  } | ns_exec "$NS_ROUTER" nft -f - || fail "cannot install the mesh's handshake counters"
}

mesh_initiations() {
  ns_exec "$NS_ROUTER" nft list counter ip mesh "hs_$1_$2" |
    awk '{ for (i = 1; i < NF; i++) if ($i == "packets") { print $(i + 1); exit } }'
}

mesh_keys() {
  local n=$1 i k p
  wgp_keypair KEY_REG PUB_REG
  IF_REG=$(uniq_iface reg)
  MESH_KEY=() MESH_PUB=() MESH_IF=()
  for ((i = 0; i < n; i++)); do
    wgp_keypair k p
    MESH_KEY+=("$k")
    MESH_PUB+=("$p")
    MESH_IF+=("$(uniq_iface "m${i}_")")
  done
}

# mesh_configs N INTERVAL KEEPALIVE_FN: CONF_REG and MESH_CONF[i]. Each node knows the
# registry's address (keepalive every 5 s) and every other node's key, not where it is.
mesh_configs() {
  local n=$1 interval=$2 keepalive_fn=$3 i j ka
  CONF_REG=$NL_TMP/$IF_REG.conf
  {
    printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = %s/24\n\n' \
      "$KEY_REG" "$WG_PORT" "$REG_TUN"
    printf '[Registry]\nZone = %s\n' "$ZONE"
    for ((i = 0; i < n; i++)); do
      printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n' "${MESH_PUB[i]}" "${MESH_TUN[i]}"
    done
  } | write_conf "$CONF_REG"
  MESH_CONF=()
  for ((i = 0; i < n; i++)); do
    MESH_CONF+=("$NL_TMP/${MESH_IF[i]}.conf")
    {
      printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = %s/24\n\n' \
        "${MESH_KEY[i]}" "$WG_PORT" "${MESH_TUN[i]}"
      printf '[Discovery]\nRegistry = %s\nZone = %s\nInterval = %s\n\n' "$PUB_REG" "$ZONE" "$interval"
      printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s:%s\nPersistentKeepalive = 5\n' \
        "$PUB_REG" "$REG_TUN" "$REG_IP" "$WG_PORT"
      for ((j = 0; j < n; j++)); do
        ((i == j)) && continue
        printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n' "${MESH_PUB[j]}" "${MESH_TUN[j]}"
        ka=$("$keepalive_fn" "$i" "$j")
        ((ka == 0)) || printf 'PersistentKeepalive = %s\n' "$ka"
      done
    } | write_conf "${MESH_CONF[i]}"
  done
}

mesh_up() {
  local n=$1 i
  wgp_up PID_REG "$NS_REG" "$CONF_REG"
  MESH_PID=()
  for ((i = 0; i < n; i++)); do
    wgp_start "MESH_PID_$i" "${MESH_HOST[i]}" "${MESH_CONF[i]}"
  done
  for ((i = 0; i < n; i++)); do
    local var="MESH_PID_$i"
    MESH_PID+=("${!var}")
    wgp_wait_up "${!var}" "${MESH_CONF[i]}"
  done
}
