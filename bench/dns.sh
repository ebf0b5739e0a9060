#!/usr/bin/env bash
# DNS-SD queries per second: wgpunch's registry responder against Knot DNS serving the same
# records (issue 4, benchmark 3), in one run, on loopback (127.0.0.1) only.
#
# bench_dns_server (bench/dns/registry_server.cpp) runs wgp::dnssd::Responder with N synthetic
# peers (default 1,000) on 127.0.0.1, one thread, recvmmsg/sendmmsg batches of 64 through the
# node's UdpSocket. It measures the responder and the node's socket path, not the WireGuard
# handshakes by which a real registry learns its peers. Knot DNS (knotd) serves a zone file
# written by the same helper from the same peers (PTR, SRV, A at the instance and host names,
# the same SOA). dnsperf replays one query file against each (per peer its SRV and A, and the
# service PTR every 50 queries; no EDNS, so both cut the PTR answer to 512 bytes with TC),
# alternating the servers for --rounds rounds. Prints the median QPS of each, the ratio, and
# each server's CPU time per query (utime + stime from /proc, which stays meaningful when the
# load generator rather than the server is the limit).
#
# Usage: bench/dns.sh [--seconds S] [--rounds N] [--peers N] [--knot-workers W] [--outstanding Q]
#   --seconds S       per dnsperf run (default 10)      --rounds N  (default 2)
#   --peers N         published peers (default 1000)
#   --knot-workers W  Knot's udp-workers (default 1, like the single-threaded responder)
#   --outstanding Q   dnsperf -q (default 200)
# Root is needed only to install knot/dnsperf when they are missing.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib/common.sh"

SECS=10 ROUNDS=2 PEERS=1000 KNOT_WORKERS=1 OUTSTANDING=200
while (($#)); do
  case $1 in
    --seconds) SECS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --peers) PEERS=$2; shift 2 ;;
    --knot-workers) KNOT_WORKERS=$2; shift 2 ;;
    --outstanding) OUTSTANDING=$2; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $SECS =~ ^[1-9][0-9]?$ && $ROUNDS =~ ^[1-9]$ && $PEERS =~ ^[1-9][0-9]{0,4}$ &&
  $KNOT_WORKERS =~ ^[1-9]$ && $OUTSTANDING =~ ^[1-9][0-9]{0,3}$ ]] ||
  { echo "seconds 1-99, rounds 1-9, peers 1-99999, knot-workers 1-9, outstanding 1-9999" >&2; exit 2; }

bench_packages knot dnsperf knot-dnsutils iproute2
bench_build bench_dns_server
SERVER=$BENCH_BUILD/bench_dns_server
for t in knotd dnsperf kdig ss; do
  command -v "$t" >/dev/null || { echo "$t not found" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/wgp-bench-dns.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in {1..30}; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'bench/dns.sh: %s\n' "$*" >&2; exit 1; }

# free_port: a port nobody listens on (UDP or TCP).
free_port() {
  local p
  for _ in {1..50}; do
    p=$((20000 + RANDOM % 30000))
    if [[ -z $(ss -Hlun "sport = :$p") && -z $(ss -Hltn "sport = :$p") ]]; then
      echo "$p"
      return
    fi
  done
  die "no free port found"
}

ZONE=bench.example.
"$SERVER" zonefile --peers "$PEERS" --zone "$ZONE" >"$TMP/zone.txt"
"$SERVER" queries --peers "$PEERS" --zone "$ZONE" >"$TMP/queries.txt"
QLINES=$(wc -l <"$TMP/queries.txt")

# Our responder.
PORT_W=$(free_port)
"$SERVER" serve --port "$PORT_W" --peers "$PEERS" --zone "$ZONE" \
  --seconds $((ROUNDS * (SECS + 30) + 120)) 2>"$TMP/responder.log" &
PID_W=$!
PIDS+=("$PID_W")

# Knot DNS, configured only for this zone, listening on loopback only.
PORT_K=$(free_port)
while [[ $PORT_K == "$PORT_W" ]]; do PORT_K=$(free_port); done
mkdir -p "$TMP/knot/run" "$TMP/knot/db"
cat >"$TMP/knot/knot.conf" <<EOF
server:
    rundir: "$TMP/knot/run"
    listen: 127.0.0.1@$PORT_K
    udp-workers: $KNOT_WORKERS
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$TMP/knot/db"
log:
  - target: stderr
    any: warning
zone:
  - domain: $ZONE
    file: "$TMP/zone.txt"
    journal-content: none
    zonefile-sync: -1
EOF
knotd -c "$TMP/knot/knot.conf" 2>"$TMP/knot.log" &
PID_K=$!
PIDS+=("$PID_K")

# ask PORT TYPE NAME: the answer and additional records without TTLs, lower case, sorted.
ask() {
  kdig @127.0.0.1 -p "$1" +norec +noall +answer +additional -t "$2" "$3" 2>/dev/null |
    awk '{ $2 = ""; print tolower($0) }' | sort
}
ready() { [[ -n $(ask "$1" SOA "$ZONE") ]]; }
for ((i = 0; i < 100; i++)); do
  if ready "$PORT_W" && ready "$PORT_K"; then break; fi
  sleep 0.1
done
ready "$PORT_W" || die "the responder does not answer: $(tail -n 5 "$TMP/responder.log")"
ready "$PORT_K" || die "knotd does not answer: $(tail -n 5 "$TMP/knot.log")"

# The two must serve the same records: compare an SRV (with its ADDITIONAL), an A, the SOA.
read -r srv_name _ < <(sed -n 1p "$TMP/queries.txt")
read -r a_name _ < <(sed -n 2p "$TMP/queries.txt")
for q in "SRV $srv_name" "A $a_name" "SOA $ZONE"; do
  # shellcheck disable=SC2086
  w=$(ask "$PORT_W" $q) k=$(ask "$PORT_K" $q)
  [[ -n $w && $w == "$k" ]] || die "the servers disagree on '$q':
responder: $w
knot:      $k"
done
log "both servers give the same SRV (+ADDITIONAL A), A and SOA answers for $PEERS peers"

RES=$TMP/results.tsv
: >"$RES"
run_dnsperf() { dnsperf_run "$1" 127.0.0.1 "$2" "$3" "$TMP/queries.txt" "$RES"; }

T0=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then
    run_dnsperf wgpunch "$PORT_W" "$PID_W"
    run_dnsperf knot "$PORT_K" "$PID_K"
  else
    run_dnsperf knot "$PORT_K" "$PID_K"
    run_dnsperf wgpunch "$PORT_W" "$PID_W"
  fi
done

value() { dnsperf_value "$RES" "$1" "$2"; }
W=$(value wgpunch qps) K=$(value knot qps)
WC=$(value wgpunch cpu_us) KC=$(value knot cpu_us)
echo
echo "bench/dns.sh: $PEERS peers, $QLINES-line query file (SRV, A, PTR), dnsperf ${SECS}s x $ROUNDS rounds"
echo "  (-c 1 -T 1 -q $OUTSTANDING, no EDNS); Knot DNS $(knotd --version | awk '{print $NF}'), udp-workers $KNOT_WORKERS"
echo "machine: $(machine_note)"
printf '%-28s %15s %12s %16s\n' "median of $ROUNDS rounds" "wgpunch resp." "Knot DNS" "wgpunch/Knot"
printf '%-28s %15s %12s %16s\n' "queries per second" "$W" "$K" "$(ratio "$W" "$K")"
printf '%-28s %15s %12s %16s\n' "server CPU us per query" "$WC" "$KC" "$(ratio "$WC" "$KC")"
printf '%-28s %15s %12s\n' "queries lost" "$(value wgpunch lost)" "$(value knot lost)"
printf '%-28s %15s %12s\n' "server peak RSS (KiB)" "$(proc_kib "$PID_W" VmHWM)" "$(proc_kib "$PID_K" VmHWM)"
echo "took $((SECONDS - T0)) s"
