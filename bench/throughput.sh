#!/usr/bin/env bash
# Throughput and latency through wgpunch against wireguard-go (issues 4 and 21, benchmark 1).
#
# Two namespaces joined by a veth pair (192.0.2.1 <-> 192.0.2.2, MTU 1500) hold every path
# at once: the bare veth link (baseline), a wgpunch pair (10.201.0.1 <-> .2), the newest
# wireguard-go (10.203.0.0/24; the main comparison, when its binary is there) and Debian's
# wireguard-go (10.202.0.0/24), all MTU 1420; optionally a second wgpunch build
# (10.204.0.0/24) for a before/after in the same run. Each round measures every path in
# turn, the tunnel order reversed every other round: ping RTT, then iperf3 TCP with 1 and 4
# streams, A -> B ("up") and B -> A ("down", iperf3 -R). Prints the medians over the rounds,
# the ratio of wgpunch to each other tunnel, the daemons' CPU time per GB moved (utime +
# stime of both daemons of the pair, from /proc, divided by the bytes iperf3 received),
# their peak RSS (VmHWM), and the AEAD floor measured in the same run (bench_micro: one
# seal and one open of every 1420-byte packet, per GB of TCP payload).
#
# Usage (as root): bench/throughput.sh [--rounds N] [--seconds S] [--pings N]
#                  [--profile SECONDS] [--wgpunch PATH] [--wgpunch-base PATH] [--wgo-new PATH]
#   --rounds N     rounds (default 3)             --seconds S   per iperf3 run (default 5)
#   --pings N      pings per RTT sample, 10 ms apart (default 200)
#   --profile S    afterwards, `perf record -g` both wgpunch daemons (and wgpunch-base's, when
#                  given) for S seconds during a 1-stream iperf3 run; prints the top symbols
#   --wgpunch P    the binary (default: a Release build in build-bench/, built if missing)
#   --wgpunch-base P  a second wgpunch binary (say, main's) measured as a path of its own
#   --wgo-new P    the newest wireguard-go (default /opt/anchors/wireguard-go-new/wireguard-go
#                  when present; "none" leaves it out). Debian's wireguard-go (on PATH) is
#                  always measured too, as the second comparison.
# Bounded: every iperf3 and ping has a timeout; everything is removed on exit (trap).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../scripts/lib/netns.sh"
source "$HERE/lib/common.sh"

ROUNDS=3 SECS=5 PINGS=200 PROFILE=0 WGPUNCH="" WGPUNCH_BASE="" WGO_NEW=""
WGO_NEW_DEFAULT=/opt/anchors/wireguard-go-new/wireguard-go
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --pings) PINGS=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --wgpunch) WGPUNCH=$2; shift 2 ;;
    --wgpunch-base) WGPUNCH_BASE=$2; shift 2 ;;
    --wgo-new) WGO_NEW=$2; shift 2 ;;
    -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]?$ && $SECS =~ ^[1-9][0-9]?$ && $PINGS =~ ^[1-9][0-9]{0,3}$ &&
  $PROFILE =~ ^[0-9]{1,2}$ ]] || { echo "rounds 1-99, seconds 1-99, pings 1-9999, profile 0-99" >&2; exit 2; }
if [[ -z $WGO_NEW ]]; then
  WGO_NEW=none
  [[ -x $WGO_NEW_DEFAULT ]] && WGO_NEW=$WGO_NEW_DEFAULT
fi
[[ $WGO_NEW == none || -x $WGO_NEW ]] || { echo "--wgo-new $WGO_NEW: not an executable" >&2; exit 2; }
[[ -z $WGPUNCH_BASE || -x $WGPUNCH_BASE ]] ||
  { echo "--wgpunch-base $WGPUNCH_BASE: not an executable" >&2; exit 2; }

require_netns_capable
bench_packages iperf3 jq wireguard-go wireguard-tools iputils-ping iproute2
((PROFILE == 0)) || bench_packages linux-perf
if [[ -z $WGPUNCH ]]; then
  bench_build wgpunch bench_micro
  WGPUNCH=$BENCH_BUILD/wgpunch
else
  bench_build bench_micro
fi
WGPUNCH=$(realpath "$WGPUNCH")
[[ -z $WGPUNCH_BASE ]] || WGPUNCH_BASE=$(realpath "$WGPUNCH_BASE")
require_tools iperf3 jq wireguard-go wg ip ping timeout
nl_init bench-tp
RES=$NL_TMP/results.tsv  # path <tab> metric <tab> value
: >"$RES"

ns_create NS_A
ns_create NS_B
veth_link "$NS_A" veth0 "192.0.2.1/24" "$NS_B" veth0 "192.0.2.2/24"

# The tunnels, in the order of the odd rounds: each has its address at B, the PIDs of its
# two daemons (A's first) and its binary.
TUNNELS=()
declare -A ADDR=([veth]=192.0.2.2) DAEMONS=([veth]="") BINARY=()

wgp_conf() {  # FILE PRIV PORT ADDR PEERPUB PEERIP PEERPORT
  write_conf "$1" <<EOF
[Interface]
PrivateKey = $2
ListenPort = $3
Address = $4
MTU = 1420

[Peer]
PublicKey = $5
AllowedIPs = $6/32
Endpoint = $7
EOF
}

# wgpunch_pair NAME BINARY NET PORT: a wgpunch pair, NET.1 in A and NET.2 in B (a /24).
wgpunch_pair() {
  local name=$1 bin=$2 net=$3 port=$4 ifa ifb ka pa kb pb pid_a pid_b
  ifa=$(uniq_iface "p${#TUNNELS[@]}a")
  ifb=$(uniq_iface "p${#TUNNELS[@]}b")
  wg_keypair ka pa
  wg_keypair kb pb
  wgp_conf "$NL_TMP/$ifa.conf" "$ka" "$port" "$net.1/24" "$pb" "$net.2" "192.0.2.2:$port"
  wgp_conf "$NL_TMP/$ifb.conf" "$kb" "$port" "$net.2/24" "$pa" "$net.1" "192.0.2.1:$port"
  WGPUNCH=$bin wgp_up pid_a "$NS_A" "$NL_TMP/$ifa.conf"
  WGPUNCH=$bin wgp_up pid_b "$NS_B" "$NL_TMP/$ifb.conf"
  TUNNELS+=("$name")
  ADDR[$name]=$net.2
  DAEMONS[$name]="$pid_a $pid_b"
  BINARY[$name]=$bin
}

# wgo_pair NAME BINARY NET PORT: a wireguard-go pair, configured with wg.
wgo_pair() {
  local name=$1 bin=$2 net=$3 port=$4 ifa ifb ka pa kb pb pid_a
  ifa=$(uniq_iface "g${#TUNNELS[@]}a")
  ifb=$(uniq_iface "g${#TUNNELS[@]}b")
  wg_keypair ka pa
  wg_keypair kb pb
  write_key "$NL_TMP/$ifa.key" "$ka"
  write_key "$NL_TMP/$ifb.key" "$kb"
  WGO_BIN=$bin wgo_start "$NS_A" "$ifa"
  pid_a=$WGO_PID
  WGO_BIN=$bin wgo_start "$NS_B" "$ifb"
  wgo_configure "$NS_A" "$ifa" "$NL_TMP/$ifa.key" "$port" "$net.1/24" 1420
  wgo_configure "$NS_B" "$ifb" "$NL_TMP/$ifb.key" "$port" "$net.2/24" 1420
  ns_exec "$NS_A" wg set "$ifa" peer "$pb" allowed-ips "$net.2/32" endpoint "192.0.2.2:$port"
  ns_exec "$NS_B" wg set "$ifb" peer "$pa" allowed-ips "$net.1/32" endpoint "192.0.2.1:$port"
  TUNNELS+=("$name")
  ADDR[$name]=$net.2
  DAEMONS[$name]="$pid_a $WGO_PID"
  BINARY[$name]=$bin
}

wgpunch_pair wgpunch "$WGPUNCH" 10.201.0 51820
[[ -z $WGPUNCH_BASE ]] || wgpunch_pair wgpunch-base "$WGPUNCH_BASE" 10.204.0 51823
[[ $WGO_NEW == none ]] || wgo_pair wgo-new "$WGO_NEW" 10.203.0 51822
wgo_pair wgo-debian "$(command -v wireguard-go)" 10.202.0 51821

expect_ping "$NS_A" 192.0.2.2 "veth"
for t in "${TUNNELS[@]}"; do expect_ping "$NS_A" "${ADDR[$t]}" "$t pair"; done

spawn PID_IPERF "$NS_B" "$NL_TMP/iperf3-server.log" iperf3 -s -p 5201
wait_for "iperf3 server" 10 bash -c "ip netns exec '$NS_B' ss -Hltn 'sport = :5201' | grep -q LISTEN"

# measure_rtt PATH: PINGS pings 10 ms apart; records the median and mean RTT (ms).
measure_rtt() {
  local path=$1 out times
  ping_ok "$NS_A" "${ADDR[$path]}" 5 || fail "$path: no ping reply before the RTT sample"
  out=$(ns_exec "$NS_A" timeout $((PINGS / 50 + 20)) ping -n -i 0.01 -W 1 -c "$PINGS" \
    "${ADDR[$path]}" 2>&1) || true
  times=$(grep -o 'time=[0-9.]*' <<<"$out" | cut -d= -f2)
  [[ -n $times ]] || fail "$path: no ping replies"
  printf '%s\trtt_median\t%s\n' "$path" "$(median <<<"$times")" >>"$RES"
  printf '%s\trtt_avg\t%s\n' "$path" \
    "$(awk '{s += $1} END {printf "%.4f", s / NR}' <<<"$times")" >>"$RES"
  printf '%s\trtt_replies\t%s\n' "$path" "$(wc -l <<<"$times")" >>"$RES"
}

# measure_tcp PATH STREAMS DIR: one iperf3 run; records Gbit/s, retransmits and the daemons'
# CPU seconds per GB received.
measure_tcp() {
  local path=$1 streams=$2 dir=$3 json=$NL_TMP/iperf.json c0 c1 bps bytes retr name
  local rflag=()
  [[ $dir == down ]] && rflag=(-R)
  name="tcp${streams}_$dir"
  # shellcheck disable=SC2086
  c0=$(cpu_ticks ${DAEMONS[$path]})
  if ! ns_exec "$NS_A" timeout $((SECS + 30)) iperf3 -c "${ADDR[$path]}" -p 5201 -t "$SECS" \
    -P "$streams" "${rflag[@]}" -J >"$json" 2>"$NL_TMP/iperf.err"; then
    log "$path $name: iperf3 failed: $(jq -r '.error // empty' "$json" 2>/dev/null) $(head -c 300 "$NL_TMP/iperf.err")"
    return 0
  fi
  # shellcheck disable=SC2086
  c1=$(cpu_ticks ${DAEMONS[$path]})
  bps=$(jq -r '.end.sum_received.bits_per_second' "$json")
  bytes=$(jq -r '.end.sum_received.bytes' "$json")
  retr=$(jq -r '.end.sum_sent.retransmits // 0' "$json")
  printf '%s\t%s\t%s\n' "$path" "$name" "$(awk -v b="$bps" 'BEGIN {printf "%.3f", b / 1e9}')" >>"$RES"
  printf '%s\t%s_retr\t%s\n' "$path" "$name" "$retr" >>"$RES"
  if [[ -n ${DAEMONS[$path]} ]]; then
    printf '%s\t%s_cpu\t%s\n' "$path" "$name" \
      "$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v b="$bytes" 'BEGIN {printf "%.3f", t / hz / (b / 1e9)}')" >>"$RES"
  fi
  log "$path $name: $(awk -v b="$bps" 'BEGIN {printf "%.2f", b / 1e9}') Gbit/s, $retr retransmits"
}

measure_path() {
  local path=$1 s d
  measure_rtt "$path"
  for s in 1 4; do
    for d in up down; do measure_tcp "$path" "$s" "$d"; done
  done
}

# aead_floor: CPU seconds per GB of TCP payload that one seal and one open of every packet
# cost on one core of this machine now (bench_micro's 1420-byte batches; a full packet
# carries 1368 bytes of TCP payload: 1420 less 20 IP, 20 TCP and 12 timestamp bytes).
aead_floor() {
  local json
  json=$(timeout 120 "$BENCH_BUILD/bench_micro" --benchmark_filter='^BM_(Seal|Open)Batch$' \
    --benchmark_min_time=0.3 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_format=json 2>/dev/null) || { echo "-"; return 0; }
  jq -r '[.benchmarks[] | select(.aggregate_name == "median") | .bytes_per_second] |
    if length == 2 then ((1e9 / .[0] + 1e9 / .[1]) * 1420 / 1368 * 1000 | round / 1000)
    else "-" end' <<<"$json"
}

T0=$SECONDS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "machine: $(machine_note)"
for ((r = 1; r <= ROUNDS; r++)); do
  log "=== round $r of $ROUNDS ($(cut -d' ' -f1-3 /proc/loadavg))"
  order=("${TUNNELS[@]}")
  if ((r % 2 == 0)); then
    order=()
    for ((i = ${#TUNNELS[@]} - 1; i >= 0; i--)); do order+=("${TUNNELS[i]}"); done
  fi
  for p in "${order[@]}" veth; do measure_path "$p"; done
  for t in wgpunch wgpunch-base; do
    [[ -n ${DAEMONS[$t]:-} ]] || continue
    for pid in ${DAEMONS[$t]}; do pid_alive "$pid" || fail "a $t daemon died during round $r"; done
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
FLOOR=$(aead_floor)

# value PATH METRIC: the median over the rounds.
value() { awk -F'\t' -v p="$1" -v m="$2" '$1 == p && $2 == m {print $3}' "$RES" | median; }

# row LABEL METRIC [noveth]: one line of the table: every path, then wgpunch / each tunnel.
OTHERS=()
for t in "${TUNNELS[@]}"; do [[ $t == wgpunch ]] || OTHERS+=("$t"); done
row() {
  local label=$1 m=$2 p t line
  line=$(printf '%-24s' "$label")
  if [[ ${3:-} == noveth ]]; then line+=$(printf ' %9s' -); else line+=$(printf ' %9s' "$(value veth "$m")"); fi
  for t in "${TUNNELS[@]}"; do line+=$(printf ' %11s' "$(value "$t" "$m")"); done
  p=$(value wgpunch "$m")
  for t in "${OTHERS[@]}"; do line+=$(printf ' %9s' "$(ratio "$p" "$(value "$t" "$m")")"); done
  printf '%s\n' "$line"
}

{
  echo
  echo "bench/throughput.sh: $ROUNDS rounds, iperf3 ${SECS}s per run, $PINGS pings per RTT sample"
  echo "machine: $(machine_note)"
  echo "load average (1, 5, 15 min): $LOAD_START when the rounds began, $LOAD_END after them"
  for t in "${TUNNELS[@]}"; do
    case $t in
      wgo-*) echo "$t: ${BINARY[$t]} ($("${BINARY[$t]}" --version 2>/dev/null | head -n 1))" ;;
      *) echo "$t: ${BINARY[$t]}" ;;
    esac
  done
  echo
  head=$(printf '%-24s %9s' "median of $ROUNDS rounds" veth)
  for t in "${TUNNELS[@]}"; do head+=$(printf ' %11s' "$t"); done
  for t in "${OTHERS[@]}"; do head+=$(printf ' %9s' "wgp/${t#wgo-}"); done
  printf '%s\n' "$head"
  for m in tcp1_up tcp1_down tcp4_up tcp4_down; do row "TCP $m (Gbit/s)" "$m"; done
  for m in rtt_median rtt_avg; do row "ping $m (ms)" "$m"; done
  for m in tcp1_up tcp1_down tcp4_up tcp4_down; do row "CPU s/GB $m" "${m}_cpu" noveth; done
  for m in tcp1_up tcp1_down tcp4_up tcp4_down; do row "retransmits $m" "${m}_retr"; done
  line=$(printf '%-24s %9s' "peak RSS KiB A/B" -)
  for t in "${TUNNELS[@]}"; do
    read -r a b <<<"${DAEMONS[$t]}"
    line+=$(printf ' %11s' "$(proc_kib "$a" VmHWM)/$(proc_kib "$b" VmHWM)")
  done
  printf '%s\n' "$line"
  echo "AEAD floor (one seal + one open per packet, bench_micro, this run): $FLOOR CPU s per GB"
  echo "(CPU s/GB: utime+stime of both daemons of the pair per 10^9 bytes received by iperf3;"
  echo " the veth column has no daemon. A ratio wgp/X > 1 means wgpunch's figure is higher.)"
  echo "took $((SECONDS - T0)) s"
} | tee "$NL_TMP/table.txt"

# Optional profile of wgpunch's data path: both daemons during one 1-stream run A -> B.
profile_pair() {
  local name=$1 pid_a pid_b perf_a perf_b load side f
  read -r pid_a pid_b <<<"${DAEMONS[$name]}"
  echo
  echo "profile of $name: perf record -g, ${PROFILE}s, during iperf3 -P 1 A -> B"
  spawn load "$NS_A" "$NL_TMP/iperf-profile-$name.log" \
    timeout $((PROFILE + 30)) iperf3 -c "${ADDR[$name]}" -p 5201 -t $((PROFILE + 2))
  sleep 1
  perf record -F 999 -g -p "$pid_a" -o "$NL_TMP/perf-$name-sender.data" -- sleep "$PROFILE" \
    >/dev/null 2>"$NL_TMP/perf-$name-a.log" &
  perf_a=$!
  perf record -F 999 -g -p "$pid_b" -o "$NL_TMP/perf-$name-receiver.data" -- sleep "$PROFILE" \
    >/dev/null 2>"$NL_TMP/perf-$name-b.log" &
  perf_b=$!
  NL_PIDS+=("$perf_a" "$perf_b")
  wait "$perf_a" || log "perf record ($name sender) failed: $(tail -n 3 "$NL_TMP/perf-$name-a.log")"
  wait "$perf_b" || log "perf record ($name receiver) failed: $(tail -n 3 "$NL_TMP/perf-$name-b.log")"
  wait_for "profile iperf3 to finish" $((PROFILE + 35)) pid_gone "$load"
  for side in sender receiver; do
    f=$NL_TMP/perf-$name-$side.data
    [[ -s $f ]] || continue
    echo
    echo "--- $name $side side (A -> B) ---"
    echo "self time by object (libcrypto.so.0 = BoringSSL, i.e. ChaCha20-Poly1305; it has no symbols):"
    perf report -i "$f" --stdio --no-children --sort dso -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -n 6
    echo "time including callees, by system call entry (the per-packet kernel paths):"
    perf report -i "$f" --stdio --children --sort sym -g none 2>/dev/null |
      grep -E '\] (__x64_sys_[a-z_]+|tun_chr_(read|write)_iter|net_rx_action|schedule)$' | head -n 10
    echo "top symbols by self time:"
    perf report -i "$f" --stdio --no-children --sort dso,sym --percent-limit 1 -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -n 15
  done
}

if ((PROFILE > 0)); then
  # wgpunch-base (the "before", when given) and wgpunch, one after the other.
  for t in wgpunch-base wgpunch; do [[ -z ${DAEMONS[$t]:-} ]] || profile_pair "$t"; done
  if [[ -n ${BENCH_PERF_KEEP:-} ]]; then
    cp "$NL_TMP"/perf-*.data "$BENCH_PERF_KEEP"/ && log "perf data copied to $BENCH_PERF_KEEP"
  fi
fi
