#!/usr/bin/env bash
# Memory of wgpunch (issue 4, benchmark 4): VmRSS and VmHWM from /proc/PID/status of
#  1. an idle node with one peer, after the tunnel is up (a wgpunch pair; a wireguard-go pair
#     beside it for reference), measured --idle seconds after the last ping;
#  2. a registry ([Registry]) with N peers (default 10,000; AllowedIPs 10.x.y.z/32 each):
#     after start (config loaded, one route per peer), then after every peer has completed a
#     handshake initiation with it (bench_dns_server handshakes: one authenticated initiation
#     per peer key, paced below the cookie threshold), when it holds a session and a published
#     endpoint for each peer.
# Keys for the N peers come from `bench_dns_server keys N` (one process, not 2N `wg` runs).
#
# Usage (as root): bench/memory.sh [--peers N] [--idle S] [--wgpunch PATH]
#   --peers N   registry peers (default 10000)   --idle S  wait before reading (default 3)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../scripts/lib/netns.sh"
source "$HERE/lib/common.sh"

PEERS=10000 IDLE=3 WGPUNCH=""
while (($#)); do
  case $1 in
    --peers) PEERS=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --wgpunch) WGPUNCH=$2; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $PEERS =~ ^[1-9][0-9]{0,4}$ && $PEERS -le 60000 && $IDLE =~ ^[0-9]{1,2}$ ]] ||
  { echo "peers 1-60000, idle 0-99" >&2; exit 2; }

require_netns_capable
bench_packages wireguard-go wireguard-tools iputils-ping iproute2
bench_build wgpunch bench_dns_server
[[ -n $WGPUNCH ]] || WGPUNCH=$BENCH_BUILD/wgpunch
WGPUNCH=$(realpath "$WGPUNCH")
HELPER=$BENCH_BUILD/bench_dns_server
require_tools wireguard-go wg ip ping timeout
nl_init bench-mem

ns_create NS_A
ns_create NS_B
veth_link "$NS_A" veth0 "192.0.2.1/24" "$NS_B" veth0 "192.0.2.2/24"

# rss_line WHAT PID: one line of the report.
rss_line() {
  printf '%-54s %9s %9s\n' "$1" "$(proc_kib "$2" VmRSS)" "$(proc_kib "$2" VmHWM)"
}
REPORT=$NL_TMP/report.txt
{
  echo "bench/memory.sh: wgpunch $WGPUNCH"
  echo "machine: $(machine_note)"
  printf '%-54s %9s %9s\n' "process (KiB)" VmRSS VmHWM
} >"$REPORT"

# --- 1. idle nodes with one peer ---------------------------------------------------------
IFPA=$(uniq_iface mpa)
IFPB=$(uniq_iface mpb)
wg_keypair KPA PUBPA
wg_keypair KPB PUBPB
for side in A B; do
  if [[ $side == A ]]; then f=$NL_TMP/$IFPA.conf k=$KPA a=10.201.0.1 p=$PUBPB pa=10.201.0.2 e=192.0.2.2
  else f=$NL_TMP/$IFPB.conf k=$KPB a=10.201.0.2 p=$PUBPA pa=10.201.0.1 e=192.0.2.1; fi
  write_conf "$f" <<EOF
[Interface]
PrivateKey = $k
ListenPort = 51820
Address = $a/24

[Peer]
PublicKey = $p
AllowedIPs = $pa/32
Endpoint = $e:51820
EOF
done
wgp_up PID_PA "$NS_A" "$NL_TMP/$IFPA.conf"
wgp_up PID_PB "$NS_B" "$NL_TMP/$IFPB.conf"

IFGA=$(uniq_iface mga)
IFGB=$(uniq_iface mgb)
wg_keypair KGA PUBGA
wg_keypair KGB PUBGB
write_key "$NL_TMP/$IFGA.key" "$KGA"
write_key "$NL_TMP/$IFGB.key" "$KGB"
wgo_start "$NS_A" "$IFGA"
PID_GA=$WGO_PID
wgo_configure "$NS_A" "$IFGA" "$NL_TMP/$IFGA.key" 51821 10.202.0.1/24 1420
ns_exec "$NS_A" wg set "$IFGA" peer "$PUBGB" allowed-ips 10.202.0.2/32 endpoint 192.0.2.2:51821
wgo_start "$NS_B" "$IFGB"
PID_GB=$WGO_PID
wgo_configure "$NS_B" "$IFGB" "$NL_TMP/$IFGB.key" 51821 10.202.0.2/24 1420
ns_exec "$NS_B" wg set "$IFGB" peer "$PUBGA" allowed-ips 10.202.0.1/32 endpoint 192.0.2.1:51821

expect_ping "$NS_A" 10.201.0.2 "wgpunch pair"
expect_ping "$NS_A" 10.202.0.2 "wireguard-go pair"
ns_exec "$NS_A" ping -q -n -c 20 -i 0.05 10.201.0.2 >/dev/null
ns_exec "$NS_A" ping -q -n -c 20 -i 0.05 10.202.0.2 >/dev/null
sleep "$IDLE"
{
  rss_line "wgpunch, idle, 1 peer, tunnel up (initiator)" "$PID_PA"
  rss_line "wgpunch, idle, 1 peer, tunnel up (responder)" "$PID_PB"
  rss_line "wireguard-go, idle, 1 peer (initiator)" "$PID_GA"
  rss_line "wireguard-go, idle, 1 peer (responder)" "$PID_GB"
} >>"$REPORT"
for p in "$PID_PA" "$PID_PB" "$PID_GA" "$PID_GB"; do stop_pid "$p" 10; forget_pid "$p"; done

# --- 2. a registry with $PEERS peers -------------------------------------------------------
T0=$SECONDS
"$HELPER" keys "$PEERS" | write_conf "$NL_TMP/peer-keys.txt"
wg_keypair KREG PUBREG
IFREG=$(uniq_iface mreg)
{
  printf '[Interface]\nPrivateKey = %s\nListenPort = 51830\nAddress = 10.0.0.1/8\n\n' "$KREG"
  printf '[Registry]\nZone = bench.example.\nPublic = no\n'
  peer_sections "$NL_TMP/peer-keys.txt"
} | write_conf "$NL_TMP/$IFREG.conf"
log "registry config: $PEERS peers, keys and config written in $((SECONDS - T0)) s"

T0=$SECONDS
wgp_up PID_REG "$NS_A" "$NL_TMP/$IFREG.conf"
count_peers() { [[ $(ns_exec "$NS_A" wg show "$IFREG" peers | wc -l) -eq $PEERS ]]; }
wait_for "registry to list $PEERS peers" 120 count_peers
log "registry up with $PEERS peers after $((SECONDS - T0)) s"
sleep "$IDLE"
rss_line "registry, $PEERS peers configured, no handshake" "$PID_REG" >>"$REPORT"

T0=$SECONDS
# The initiations come from the other namespace, from 64 source ports.
out=$(ns_exec "$NS_B" timeout $((PEERS / 300 + 60)) "$HELPER" handshakes --to 192.0.2.1:51830 \
  --server-key "$PUBREG" --keys "$NL_TMP/peer-keys.txt" --bind 192.0.2.2 --rate 600) || true
log "handshakes: $out ($((SECONDS - T0)) s)"
with_endpoint=$(ns_exec "$NS_A" wg show "$IFREG" endpoints | awk '$2 != "(none)"' | wc -l)
sleep "$IDLE"
rss_line "registry, $PEERS peers, $with_endpoint with session+endpoint" "$PID_REG" >>"$REPORT"
pid_alive "$PID_REG" || fail "the registry died"
{
  echo "handshake driver: $out"
  echo "(wgpunch pair: MTU 1420, ${IDLE}s idle after 20 pings; registry: [Registry] with one"
  echo " /32 route per peer; RSS read ${IDLE}s after each step)"
} >>"$REPORT"
echo
cat "$REPORT"
