# Helpers shared by the bench/ scripts (sourced, not run). Namespaces, process
# cleanup and daemon start-up come from scripts/lib/netns.sh; this adds what
# only benchmarks need: a Release build, runtime packages, /proc readings and
# medians.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_BUILD=${BENCH_BUILD:-$BENCH_ROOT/build-bench}

# bench_build TARGET...: configure $BENCH_BUILD as Release (once) and build the targets.
# Benchmarks of a Debug or RelWithDebInfo build would not mean much.
bench_build() {
  if [[ ! -f $BENCH_BUILD/CMakeCache.txt ]]; then
    cmake -S "$BENCH_ROOT" -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  local type
  type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BENCH_BUILD/CMakeCache.txt")
  [[ $type == Release ]] || echo "warning: $BENCH_BUILD is a '$type' build, not Release" >&2
  local args=() t
  for t in "$@"; do args+=(--target "$t"); done
  cmake --build "$BENCH_BUILD" -j "$(nproc)" "${args[@]}" >"${BENCH_BUILD}/bench-build.log" 2>&1 || {
    tail -n 30 "$BENCH_BUILD/bench-build.log" >&2
    echo "build of $* failed" >&2
    exit 1
  }
}

# bench_packages PKG...: install the Debian packages a benchmark runs (not needed to build
# or test wgpunch, so scripts/lib/setup.sh does not list them).
bench_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "==> installing ${missing[*]}" >&2
  [[ $(id -u) -eq 0 ]] || { echo "run as root to install ${missing[*]}" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID...: utime + stime of the processes (all threads), in clock ticks.
cpu_ticks() {
  local sum=0 p f
  for p in "$@"; do
    # Fields after the ")" that closes comm: utime and stime are the 12th and 13th.
    f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    read -r -a a <<<"$f"
    sum=$((sum + a[11] + a[12]))
  done
  echo "$sum"
}

# peer_sections KEYFILE: a [Peer] for every key of KEYFILE ("private public" lines, as
# `bench_dns_server keys` writes them) with AllowedIPs 10.x.y.z/32 counted from 10.0.0.2
# (10.0.0.1 is the registry's own address in every benchmark).
peer_sections() {
  awk '{ n = NR + 1
         printf "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.%d/32\n", $2,
           int(n / 65536) % 256, int(n / 256) % 256, n % 256 }' "$1"
}

# proc_kib PID FIELD: a field of /proc/PID/status in KiB (VmRSS, VmHWM, ...).
proc_kib() {
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null
}

# median: the median of the numbers on stdin (one per line); "-" when there are none.
median() {
  sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print "-"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B [DIGITS]: A / B, or "-" when either is missing or B is zero.
ratio() {
  awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
    if (a == "-" || b == "-" || a == "" || b == "" || b + 0 == 0) print "-";
    else printf "%.*f\n", d, a / b }'
}

# machine_note: one line about this machine and how busy it is.
machine_note() {
  printf '%s, %s cores, %s, load average %s\n' "$(uname -r)" "$(nproc)" \
    "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# dnsperf_run NAME SERVER PORT PID QUERYFILE RESULTS: one timed dnsperf run of $SECS seconds
# (-c 1 -T 1 -q $OUTSTANDING, no EDNS, 2 s timeout) against SERVER:PORT, served by process PID;
# appends NAME's queries per second, queries lost and the server's CPU µs per query (utime +
# stime from /proc, meaningful also when dnsperf is the limit) to RESULTS, tab-separated. With
# DNSPERF_NS set, dnsperf runs in that network namespace.
dnsperf_run() {
  local name=$1 server=$2 port=$3 pid=$4 queries=$5 res=$6 c0 c1 out qps completed lost
  local run=()
  [[ -n ${DNSPERF_NS:-} ]] && run=(ip netns exec "$DNSPERF_NS")
  c0=$(cpu_ticks "$pid")
  out=$(timeout $((SECS + 30)) "${run[@]}" dnsperf -s "$server" -p "$port" -d "$queries" -l "$SECS" \
    -c 1 -T 1 -q "$OUTSTANDING" -t 2 2>&1) || { echo "dnsperf against $name failed: $out" >&2; exit 1; }
  c1=$(cpu_ticks "$pid")
  qps=$(awk '/Queries per second:/ {print $4}' <<<"$out")
  completed=$(awk '/Queries completed:/ {print $3}' <<<"$out")
  lost=$(awk '/Queries lost:/ {print $3}' <<<"$out")
  [[ -n $qps && -n $completed ]] || { echo "no dnsperf summary for $name: $out" >&2; exit 1; }
  printf '%s\tqps\t%s\n%s\tlost\t%s\n' "$name" "$qps" "$name" "$lost" >>"$res"
  printf '%s\tcpu_us\t%s\n' "$name" "$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$completed" \
    'BEGIN {printf "%.3f", t / hz / n * 1e6}')" >>"$res"
  echo "[$(date +%H:%M:%S)] $name: $qps queries/s, $lost lost" >&2
}

# dnsperf_value RESULTS NAME METRIC: the median of NAME's METRIC over the runs in RESULTS.
dnsperf_value() { awk -F'\t' -v p="$2" -v m="$3" '$1 == p && $2 == m {print $3}' "$1" | median; }
