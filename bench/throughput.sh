#!/usr/bin/env bash
# Throughput and latency through wgpunch against Debian's wireguard-go (issue 4, benchmark 1).
#
# Two namespaces joined by a veth pair (192.0.2.1 <-> 192.0.2.2, MTU 1500) hold three paths
# at once: the bare veth link (baseline), a wgpunch pair (10.201.0.1 <-> .2, MTU 1420) and a
# wireguard-go pair (10.202.0.1 <-> .2, MTU 1420). Each round measures every path in turn,
# the tunnel order alternating between rounds: ping RTT, then iperf3 TCP with 1 and 4 streams,
# A -> B ("up") and B -> A ("down", iperf3 -R). Prints the medians over the rounds, the ratio
# wgpunch / wireguard-go, the daemons' CPU time per GB moved (utime + stime of both daemons
# of the pair, from /proc, divided by the bytes iperf3 received) and their peak RSS (VmHWM).
#
# Usage (as root): bench/throughput.sh [--rounds N] [--seconds S] [--pings N]
#                                      [--profile SECONDS] [--wgpunch PATH]
#   --rounds N     rounds (default 3)             --seconds S   per iperf3 run (default 5)
#   --pings N      pings per RTT sample, 10 ms apart (default 200)
#   --profile S    afterwards, `perf record -g` both wgpunch daemons for S seconds during a
#                  1-stream iperf3 run and print the top symbols (default 0: off)
#   --wgpunch P    the binary (default: a Release build in build-bench/, built if missing)
# Bounded: every iperf3 and ping has a timeout; everything is removed on exit (trap).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../scripts/lib/netns.sh"
source "$HERE/lib/common.sh"

ROUNDS=3 SECS=5 PINGS=200 PROFILE=0 WGPUNCH=""
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --pings) PINGS=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --wgpunch) WGPUNCH=$2; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]?$ && $SECS =~ ^[1-9][0-9]?$ && $PINGS =~ ^[1-9][0-9]{0,3}$ &&
  $PROFILE =~ ^[0-9]{1,2}$ ]] || { echo "rounds 1-99, seconds 1-99, pings 1-9999, profile 0-99" >&2; exit 2; }

require_netns_capable
bench_packages iperf3 jq wireguard-go wireguard-tools iputils-ping iproute2
((PROFILE == 0)) || bench_packages linux-perf
if [[ -z $WGPUNCH ]]; then
  bench_build wgpunch
  WGPUNCH=$BENCH_BUILD/wgpunch
fi
WGPUNCH=$(realpath "$WGPUNCH")
require_tools iperf3 jq wireguard-go wg ip ping timeout
nl_init bench-tp
RES=$NL_TMP/results.tsv  # path <tab> metric <tab> value
: >"$RES"

ns_create NS_A
ns_create NS_B
veth_link "$NS_A" veth0 "192.0.2.1/24" "$NS_B" veth0 "192.0.2.2/24"

# The wgpunch pair.
IFPA=$(uniq_iface bpa)
IFPB=$(uniq_iface bpb)
wg_keypair KPA PUBPA
wg_keypair KPB PUBPB
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
wgp_conf "$NL_TMP/$IFPA.conf" "$KPA" 51820 10.201.0.1/24 "$PUBPB" 10.201.0.2 192.0.2.2:51820
wgp_conf "$NL_TMP/$IFPB.conf" "$KPB" 51820 10.201.0.2/24 "$PUBPA" 10.201.0.1 192.0.2.1:51820
wgp_up PID_PA "$NS_A" "$NL_TMP/$IFPA.conf"
wgp_up PID_PB "$NS_B" "$NL_TMP/$IFPB.conf"

# The wireguard-go pair.
IFGA=$(uniq_iface bga)
IFGB=$(uniq_iface bgb)
wg_keypair KGA PUBGA
wg_keypair KGB PUBGB
write_key "$NL_TMP/$IFGA.key" "$KGA"
write_key "$NL_TMP/$IFGB.key" "$KGB"
wgo_start "$NS_A" "$IFGA"
PID_GA=$WGO_PID
wgo_start "$NS_B" "$IFGB"
PID_GB=$WGO_PID
wgo_configure "$NS_A" "$IFGA" "$NL_TMP/$IFGA.key" 51821 10.202.0.1/24 1420
wgo_configure "$NS_B" "$IFGB" "$NL_TMP/$IFGB.key" 51821 10.202.0.2/24 1420
ns_exec "$NS_A" wg set "$IFGA" peer "$PUBGB" allowed-ips 10.202.0.2/32 endpoint 192.0.2.2:51821
ns_exec "$NS_B" wg set "$IFGB" peer "$PUBGA" allowed-ips 10.202.0.1/32 endpoint 192.0.2.1:51821

expect_ping "$NS_A" 192.0.2.2 "veth"
expect_ping "$NS_A" 10.201.0.2 "wgpunch pair"
expect_ping "$NS_A" 10.202.0.2 "wireguard-go pair"

spawn PID_IPERF "$NS_B" "$NL_TMP/iperf3-server.log" iperf3 -s -p 5201
wait_for "iperf3 server" 10 bash -c "ip netns exec '$NS_B' ss -Hltn 'sport = :5201' | grep -q LISTEN"

declare -A ADDR=([veth]=192.0.2.2 [wgpunch]=10.201.0.2 [wireguard-go]=10.202.0.2)
declare -A DAEMONS=([veth]="" [wgpunch]="$PID_PA $PID_PB" [wireguard-go]="$PID_GA $PID_GB")

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

T0=$SECONDS
log "machine: $(machine_note)"
for ((r = 1; r <= ROUNDS; r++)); do
  log "=== round $r of $ROUNDS"
  if ((r % 2)); then order=(wgpunch wireguard-go veth); else order=(wireguard-go wgpunch veth); fi
  for p in "${order[@]}"; do measure_path "$p"; done
  pid_alive "$PID_PA" && pid_alive "$PID_PB" || fail "a wgpunch daemon died during round $r"
done

# value PATH METRIC: the median over the rounds.
value() { awk -F'\t' -v p="$1" -v m="$2" '$1 == p && $2 == m {print $3}' "$RES" | median; }

{
  echo
  echo "bench/throughput.sh: $ROUNDS rounds, iperf3 ${SECS}s per run, $PINGS pings per RTT sample"
  echo "machine: $(machine_note)"
  echo "wgpunch: $WGPUNCH; wireguard-go: $(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null)"
  echo
  printf '%-26s %10s %10s %13s %16s\n' "median of $ROUNDS rounds" veth wgpunch wireguard-go "wgpunch/wg-go"
  for m in tcp1_up tcp1_down tcp4_up tcp4_down; do
    v=$(value veth $m) p=$(value wgpunch $m) g=$(value wireguard-go $m)
    printf '%-26s %10s %10s %13s %16s\n' "TCP $m (Gbit/s)" "$v" "$p" "$g" "$(ratio "$p" "$g")"
  done
  for m in rtt_median rtt_avg; do
    v=$(value veth $m) p=$(value wgpunch $m) g=$(value wireguard-go $m)
    printf '%-26s %10s %10s %13s %16s\n' "ping $m (ms)" "$v" "$p" "$g" "$(ratio "$p" "$g")"
  done
  for m in tcp1_up tcp1_down tcp4_up tcp4_down; do
    p=$(value wgpunch ${m}_cpu) g=$(value wireguard-go ${m}_cpu)
    printf '%-26s %10s %10s %13s %16s\n' "CPU s/GB $m" "-" "$p" "$g" "$(ratio "$p" "$g")"
  done
  for m in tcp1_up tcp1_down tcp4_up tcp4_down; do
    v=$(value veth ${m}_retr) p=$(value wgpunch ${m}_retr) g=$(value wireguard-go ${m}_retr)
    printf '%-26s %10s %10s %13s %16s\n' "TCP retransmits $m" "$v" "$p" "$g" ""
  done
  printf '%-26s %10s %10s %13s\n' "peak RSS VmHWM (KiB) A/B" "-" \
    "$(proc_kib "$PID_PA" VmHWM)/$(proc_kib "$PID_PB" VmHWM)" \
    "$(proc_kib "$PID_GA" VmHWM)/$(proc_kib "$PID_GB" VmHWM)"
  echo "(CPU s/GB: utime+stime of both daemons of the pair per 10^9 bytes received by iperf3;"
  echo " the veth column has no daemon. Ratios > 1 mean wgpunch is higher.)"
  echo "took $((SECONDS - T0)) s"
} | tee "$NL_TMP/table.txt"

# Optional profile of wgpunch's data path: both daemons during one 1-stream run A -> B.
if ((PROFILE > 0)); then
  echo
  echo "profile: perf record -g, ${PROFILE}s, during iperf3 -P 1 A -> B through wgpunch"
  spawn PID_LOAD "$NS_A" "$NL_TMP/iperf-profile.log" \
    timeout $((PROFILE + 30)) iperf3 -c 10.201.0.2 -p 5201 -t $((PROFILE + 2))
  sleep 1
  perf record -F 999 -g -p "$PID_PA" -o "$NL_TMP/perf-sender.data" -- sleep "$PROFILE" \
    >/dev/null 2>"$NL_TMP/perf-a.log" &
  PERF_A=$!
  perf record -F 999 -g -p "$PID_PB" -o "$NL_TMP/perf-receiver.data" -- sleep "$PROFILE" \
    >/dev/null 2>"$NL_TMP/perf-b.log" &
  PERF_B=$!
  NL_PIDS+=("$PERF_A" "$PERF_B")
  wait "$PERF_A" || log "perf record (sender) failed: $(tail -n 3 "$NL_TMP/perf-a.log")"
  wait "$PERF_B" || log "perf record (receiver) failed: $(tail -n 3 "$NL_TMP/perf-b.log")"
  wait_for "profile iperf3 to finish" $((PROFILE + 35)) pid_gone "$PID_LOAD"
  for side in sender receiver; do
    f=$NL_TMP/perf-$side.data
    [[ -s $f ]] || continue
    echo
    echo "--- wgpunch $side side (A -> B) ---"
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
  if [[ -n ${BENCH_PERF_KEEP:-} ]]; then
    cp "$NL_TMP"/perf-*.data "$BENCH_PERF_KEEP"/ && log "perf data copied to $BENCH_PERF_KEEP"
  fi
fi
