#!/usr/bin/env bash
# The registry as a hidden primary at scale (issue 12): a wgpunch registry with N live peers
# (default 10,000: one authenticated handshake each, from `bench_dns_server handshakes`) whose
# zone a Knot DNS secondary copies by zone transfer with TSIG. Measures
#   - the registry's memory (VmRSS, VmHWM) with N published peers, a secondary and its journal;
#   - a whole AXFR: as Knot takes it (`knotc zone-retransfer`; knotd's log gives seconds,
#     messages, bytes) and as `kdig -y` reads it from the secondary's address (its time);
#   - the secondary's lag from an endpoint change to Knot's new answer: one peer handshakes
#     again from a new source port, and `kdig @knot` is polled every 10 ms until its SRV shows
#     the new port (--changes times, 1.5 s apart; min, median, max), with knotd's IXFR size;
#   - queries per second, dnsperf against Knot and against the registry's own responder (plain
#     DNS on its WireGuard port, Public = yes) on the same N-peer zone, as bench/dns.sh does for
#     synthetic peers (per peer its SRV and its A, the service PTR every 50 lines, no EDNS;
#     alternating, --rounds rounds of --seconds; both single-threaded: Knot udp-workers 1).
# The time to build an AXFR or IXFR without the network is `bench_micro --benchmark_filter=Zone
# |Axfr|Ixfr`. Topology: three namespaces on one bridge: registry 192.0.2.1 (port 51830), Knot
# 192.0.2.2@53, and a client 192.0.2.3 (handshakes, kdig, dnsperf).
#
# Usage (as root): bench/zone.sh [--peers N] [--changes K] [--seconds S] [--rounds R]
#   [--outstanding Q] [--wgpunch PATH]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../scripts/lib/netns.sh"
source "$HERE/../scripts/lib/knot.sh"
source "$HERE/lib/common.sh"

PEERS=10000 CHANGES=5 SECS=10 ROUNDS=2 OUTSTANDING=200 WGPUNCH=""
while (($#)); do
  case $1 in
    --peers) PEERS=$2; shift 2 ;;
    --changes) CHANGES=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --outstanding) OUTSTANDING=$2; shift 2 ;;
    --wgpunch) WGPUNCH=$2; shift 2 ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $PEERS =~ ^[1-9][0-9]{0,4}$ && $CHANGES =~ ^[1-9][0-9]?$ && $SECS =~ ^[1-9][0-9]?$ &&
  $ROUNDS =~ ^[1-9]$ && $OUTSTANDING =~ ^[1-9][0-9]{0,3}$ ]] ||
  { echo "peers 1-99999, changes 1-99, seconds 1-99, rounds 1-9, outstanding 1-9999" >&2; exit 2; }

require_netns_capable
bench_packages knot knot-dnsutils dnsperf wireguard-tools iproute2
bench_build wgpunch bench_dns_server
[[ -n $WGPUNCH ]] || WGPUNCH=$BENCH_BUILD/wgpunch
WGPUNCH=$(realpath "$WGPUNCH")
HELPER=$BENCH_BUILD/bench_dns_server
require_tools knotd knotc kdig dnsperf wg ip timeout
nl_init bench-zone
ZONE=bench.example.
REG_IP=192.0.2.1 KNOT_IP=192.0.2.2 CLI_IP=192.0.2.3 PORT=51830
KEY_NAME=xfr.bench.
TSIG_SECRET=$(head -c 32 /dev/urandom | base64)
secret "$TSIG_SECRET"

ns_create NS_SW
ip -n "$NS_SW" link add br0 type bridge
ip -n "$NS_SW" link set br0 up
i=0
for host in REG:$REG_IP KNOT:$KNOT_IP CLI:$CLI_IP; do
  ns_create "NS_${host%%:*}"
  var=NS_${host%%:*}
  veth_link "${!var}" eth0 "${host#*:}/24" "$NS_SW" "p$i" ""
  ip -n "$NS_SW" link set "p$i" master br0
  i=$((i + 1))
done

REPORT=$NL_TMP/report.txt
{
  echo "bench/zone.sh: $PEERS peers, wgpunch $WGPUNCH, Knot DNS $(knotd --version | awk '{print $NF}')"
  echo "machine: $(machine_note)"
} >"$REPORT"
note() { printf '%s\n' "$*" >>"$REPORT"; log "$*"; }

T0=$SECONDS
"$HELPER" keys "$PEERS" | write_conf "$NL_TMP/peer-keys.txt"
wg_keypair KREG PUBREG
IFREG=$(uniq_iface zreg)
{
  printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = 10.0.0.1/8\n\n' "$KREG" "$PORT"
  printf '[Registry]\nZone = %s\nPublic = yes\nSecondary = %s\n' "$ZONE" "$KNOT_IP"
  printf 'TransferKey = hmac-sha256:%s:%s\n' "$KEY_NAME" "$TSIG_SECRET"
  peer_sections "$NL_TMP/peer-keys.txt"
} | write_conf "$NL_TMP/$IFREG.conf"
wgp_up PID_REG "$NS_REG" "$NL_TMP/$IFREG.conf"
count_peers() { [[ $(ns_exec "$NS_REG" wg show "$IFREG" peers | wc -l) -eq $PEERS ]]; }
wait_for "registry to list $PEERS peers" 120 count_peers
log "registry up with $PEERS peers after $((SECONDS - T0)) s"
reg_field() { ns_exec "$NS_REG" "$WGPUNCH" status "$IFREG" 2>/dev/null | awk -F': ' -v f="$1" '$1 ~ "^ *" f "$" {print $2; exit}'; }
knot_secondary PID_KNOT "$NS_KNOT" "$KNOT_IP" "$REG_IP" "$PORT" "$KEY_NAME" "$TSIG_SECRET"
knot_wait_serial "$NS_KNOT" "$KNOT_IP" "$(reg_field "registry zone serial")" 20
KNOTC=(knotc -s "$NL_TMP/knot-$KNOT_IP/run/knot.sock")

# --- every peer handshakes; Knot follows ------------------------------------------------------
T0=$SECONDS
out=$(ns_exec "$NS_CLI" timeout $((PEERS / 300 + 60)) "$HELPER" handshakes --to "$REG_IP:$PORT" \
  --server-key "$PUBREG" --keys "$NL_TMP/peer-keys.txt" --bind "$CLI_IP" --rate 600) || true
log "handshakes: $out ($((SECONDS - T0)) s)"
# Peers whose initiation met a cookie reply (a busy machine puts the device under load) got no
# session: the registry publishes the others.
LIVE=$(awk '{for (i = 1; i < NF; i++) if ($i == "responses") print $(i + 1)}' <<<"$out")
[[ $LIVE =~ ^[0-9]+$ && $LIVE -gt 0 ]] || fail "no handshake answered: $out"
published() { (($(reg_field "registry published records") >= 4 * LIVE)); }
wait_for "the registry to publish $LIVE peers" 30 published
T1=$(date +%s%3N)
knot_wait_serial "$NS_KNOT" "$KNOT_IP" "$(reg_field "registry zone serial")" 30
note "handshake driver: $out; Knot at the registry's serial $(($(date +%s%3N) - T1)) ms after the registry published all"
sleep 2
note "$(printf '%-58s %9s %9s' "memory (KiB)" VmRSS VmHWM)"
note "$(printf '%-58s %9s %9s' "registry, $LIVE live peers, 1 secondary, journal of $(reg_field "registry journal versions")" \
  "$(proc_kib "$PID_REG" VmRSS)" "$(proc_kib "$PID_REG" VmHWM)")"
note "$(printf '%-58s %9s %9s' "knotd, secondary of the same zone" "$(proc_kib "$PID_KNOT" VmRSS)" \
  "$(proc_kib "$PID_KNOT" VmHWM)")"

# --- a whole AXFR ------------------------------------------------------------------------------
axfrs0=$(grep -c "AXFR, incoming.*finished" "$KNOT_LOG" || true)
ns_exec "$NS_KNOT" "${KNOTC[@]}" zone-retransfer "$ZONE" >/dev/null
axfr_done() { (($(grep -c "AXFR, incoming.*finished" "$KNOT_LOG" || true) > axfrs0)); }
wait_for "Knot's forced AXFR" 60 axfr_done
# knot_updated: how long Knot's last refresh took in all (transfer and applying it).
knot_updated() { grep "zone updated" "$KNOT_LOG" | tail -n 1 | sed 's/.*zone updated, \([0-9.]* seconds\).*/refresh with applying it: \1/'; }
sleep 1  # let Knot settle on the new copy before reading it back
note "Knot takes an AXFR: $(grep "AXFR, incoming.*finished" "$KNOT_LOG" | tail -n 1 | sed 's/.*finished, //'); $(knot_updated)"
kdig_axfr() {  # NS SERVER PORT [OPTIONS]: "records messages bytes ms" of one AXFR read by kdig
  local ns=$1 server=$2 p=$3
  shift 3
  ns_exec "$ns" timeout 60 kdig "$@" @"$server" -p "$p" +tcp +timeout=10 "$ZONE" AXFR 2>&1 |
    awk '/^;; Received/ { b = $3; gsub(/\(/, "", $5); m = $5; r = $7 }
         /^;; From/ { for (i = 1; i <= NF; i++) if ($i == "in") t = $(i + 1) }
         END { print r, m, b, t }'
}
read -r r m b t <<<"$(kdig_axfr "$NS_KNOT" "$REG_IP" "$PORT" -y "hmac-sha256:$KEY_NAME:$TSIG_SECRET")"
note "kdig -y reads the registry's AXFR: $r records, $m messages, $b bytes in $t ms (TSIG checked)"

# --- the lag of one endpoint change -----------------------------------------------------------
lags=()
for ((k = 1; k <= CHANGES; k++)); do
  line=$((k * (PEERS / (CHANGES + 1)) + 1))
  sed -n "${line}p" "$NL_TMP/peer-keys.txt" | write_conf "$NL_TMP/one-key.txt"
  pub=$(awk '{print $2}' "$NL_TMP/one-key.txt")
  name="$(printf '%s' "$pub" | base64 -d | base32 -w0)._wireguard._udp.$ZONE"
  srv() { ns_exec "$NS_CLI" kdig @"$KNOT_IP" +norec +short +timeout=1 +retry=0 "$name" SRV 2>/dev/null | awk '{print $3; exit}'; }
  before=$(srv)
  ixfrs0=$(grep -c "IXFR, incoming.*finished" "$KNOT_LOG" || true)
  t0=$(date +%s%3N)
  ns_exec "$NS_CLI" "$HELPER" handshakes --to "$REG_IP:$PORT" --server-key "$PUBREG" \
    --keys "$NL_TMP/one-key.txt" --bind "$CLI_IP" --sockets 1 >/dev/null || true
  for ((i = 0; i < 500; i++)); do
    now=$(srv)
    [[ -n $now && $now != "$before" ]] && break
    sleep 0.01
  done
  t1=$(date +%s%3N)
  [[ -n $now && $now != "$before" ]] || { note "change $k: Knot did not follow within 5 s"; continue; }
  lags+=($((t1 - t0)))
  sleep 0.2  # the log line may follow the answer
  ixfr="$(grep "IXFR, incoming.*finished" "$KNOT_LOG" | tail -n 1 | sed 's/.*finished, //'); $(knot_updated)"
  (($(grep -c "IXFR, incoming.*finished" "$KNOT_LOG" || true) > ixfrs0)) || ixfr="no IXFR logged"
  log "change $k: port $before -> $now, Knot answers $((t1 - t0)) ms after the handshake ($ixfr)"
  sleep 1.5
done
stats=$(printf '%s\n' "${lags[@]}" | sort -n | awk '{v[NR] = $1} END {
  if (NR) printf "min %d, median %d, max %d ms over %d changes", v[1], v[int((NR + 1) / 2)], v[NR], NR }')
note "lag from a peer's handshake at a new port to Knot's new SRV answer: $stats"
note "last IXFR as Knot took it: $(grep "IXFR, incoming.*finished" "$KNOT_LOG" | tail -n 1 | sed 's/.*finished, //')"

# --- queries per second, the registry against Knot on the same zone ---------------------------
"$HELPER" queries --keys "$NL_TMP/peer-keys.txt" --zone "$ZONE" >"$NL_TMP/queries.txt"
RES=$NL_TMP/results.tsv
: >"$RES"
DNSPERF_NS=$NS_CLI
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then
    dnsperf_run registry "$REG_IP" "$PORT" "$PID_REG" "$NL_TMP/queries.txt" "$RES"
    dnsperf_run knot "$KNOT_IP" 53 "$PID_KNOT" "$NL_TMP/queries.txt" "$RES"
  else
    dnsperf_run knot "$KNOT_IP" 53 "$PID_KNOT" "$NL_TMP/queries.txt" "$RES"
    dnsperf_run registry "$REG_IP" "$PORT" "$PID_REG" "$NL_TMP/queries.txt" "$RES"
  fi
done
W=$(dnsperf_value "$RES" registry qps) K=$(dnsperf_value "$RES" knot qps)
WC=$(dnsperf_value "$RES" registry cpu_us) KC=$(dnsperf_value "$RES" knot cpu_us)
{
  echo "dnsperf, $(wc -l <"$NL_TMP/queries.txt")-line query file, ${SECS}s x $ROUNDS rounds (-c 1 -T 1 -q $OUTSTANDING, no EDNS)"
  printf '%-28s %15s %12s %14s\n' "median of $ROUNDS rounds" "registry" "Knot DNS" "registry/Knot"
  printf '%-28s %15s %12s %14s\n' "queries per second" "$W" "$K" "$(ratio "$W" "$K")"
  printf '%-28s %15s %12s %14s\n' "server CPU us per query" "$WC" "$KC" "$(ratio "$WC" "$KC")"
  printf '%-28s %15s %12s\n' "queries lost" "$(dnsperf_value "$RES" registry lost)" "$(dnsperf_value "$RES" knot lost)"
} >>"$REPORT"
pid_alive "$PID_REG" || fail "the registry died"
wgp_stop "$PID_REG" "$NS_REG" "$IFREG"
echo
cat "$REPORT"
