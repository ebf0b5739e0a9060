#!/usr/bin/env bash
# A stand-in for the wgpunch CLI (DESIGN.md §2) built from wireguard-go, wg and ip, used only
# to check the integration-test harness itself against a known-good implementation:
#   bash tests/integration/test_wgo_interop.sh scripts/lib/wgo-shim.sh
# It implements `up CONFIG [--interface NAME]`, `status [IFACE] [--json]` and
# `genkey|pubkey|genpsk`. It is not wgpunch and is never what the tests are meant to pass on.
set -euo pipefail

usage() {
  echo "usage: wgo-shim.sh up CONFIG [--interface NAME] | status [IFACE] [--json] | genkey|pubkey|genpsk" >&2
  exit 2
}

trim() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  printf '%s' "${s%"${s##*[![:space:]]}"}"
}

# up CONFIG: split the wg-quick style file into what `wg setconf` takes and what ip does.
cmd_up() {
  local conf="" ifc=""
  while (($#)); do
    case $1 in
      --interface) ifc=$2; shift 2 ;;
      *) conf=$1; shift ;;
    esac
  done
  [[ -r $conf ]] || { echo "wgo-shim: cannot read $conf" >&2; exit 1; }
  [[ -n $ifc ]] || ifc=$(basename "$conf" .conf)

  local setconf addrs=() routes=() mtu=1420 section="" line key val
  setconf=$(mktemp)
  chmod 0600 "$setconf"
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%%#*}
    line=$(trim "$line")
    [[ -z $line ]] && continue
    if [[ $line == \[*\] ]]; then
      section=${line,,}
      echo "$line" >>"$setconf"
      continue
    fi
    key=$(trim "${line%%=*}")
    val=$(trim "${line#*=}")
    case "$section/${key,,}" in
      "[interface]/address") IFS=', ' read -ra a <<<"$val"; addrs+=("${a[@]}") ;;
      "[interface]/mtu") mtu=$val ;;
      "[peer]/allowedips")
        IFS=', ' read -ra a <<<"$val"
        routes+=("${a[@]}")
        echo "$key = $val" >>"$setconf"
        ;;
      *) echo "$key = $val" >>"$setconf" ;;
    esac
  done <"$conf"

  WG_PROCESS_FOREGROUND=1 wireguard-go "$ifc" &
  local wgo=$!
  trap 'kill -TERM $wgo 2>/dev/null; wait $wgo; rm -f "$setconf"; exit 0' TERM INT
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -S /var/run/wireguard/$ifc.sock ]] && break
    sleep 0.1
  done
  wg setconf "$ifc" "$setconf"
  rm -f "$setconf"
  local a
  for a in "${addrs[@]}"; do
    [[ -n $a ]] && ip addr add "$a" dev "$ifc" $([[ $a == *:* ]] && echo nodad)
  done
  ip link set "$ifc" mtu "$mtu" up
  for a in "${routes[@]}"; do
    [[ -n $a ]] && ip route replace "$a" dev "$ifc"
  done
  echo "wgo-shim: $ifc up" >&2
  wait "$wgo"
}

cmd_status() {
  local ifc="" json=0
  while (($#)); do
    case $1 in
      --json) json=1 ;;
      *) ifc=$1 ;;
    esac
    shift
  done
  if ((json == 0)); then
    exec wg show ${ifc:+"$ifc"}
  fi
  # JSON built from `wg show dump`, private key left out.
  local first=1
  printf '['
  local dump
  dump=$(wg show ${ifc:-all} dump)
  local cur=""
  while IFS=$'\t' read -ra f; do
    if [[ -z $ifc ]]; then
      local name=${f[0]}
      f=("${f[@]:1}")
    else
      local name=$ifc
    fi
    if ((${#f[@]} == 4)); then  # interface line: private public port fwmark
      [[ -n $cur ]] && printf ']}'
      ((first)) || printf ','
      first=0
      cur=$name
      printf '{"interface":"%s","public_key":"%s","listen_port":%s,"peers":[' "$name" "${f[1]}" "${f[2]}"
      local pfirst=1
    else
      ((pfirst)) || printf ','
      pfirst=0
      printf '{"public_key":"%s","endpoint":"%s","allowed_ips":"%s","latest_handshake":%s}' \
        "${f[0]}" "${f[2]}" "${f[3]}" "${f[4]}"
    fi
  done <<<"$dump"
  [[ -n $cur ]] && printf ']}'
  printf ']\n'
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  status) shift; cmd_status "$@" ;;
  genkey | pubkey | genpsk) exec wg "$1" ;;
  *) usage ;;
esac
