#!/usr/bin/env bash
# Discovery under attack, before and after issue 10, measured against any wgpunch build:
#  1. the attack chain of tests/integration/test_discovery_attack.sh (a plain query spoofed
#     from Bob's endpoint, forged SRV answers for every DNS id to Alice's NAT mapping, the
#     registry at least 500 ms away, more if the forger needs it), run --runs times in its
#     report mode (DISCOVERY_ATTACK_REPORT=1, fresh namespaces each time): in how many runs
#     Alice's endpoint for Bob moved to the forged address and datagrams arrived there, what
#     the stranger got from a Public = no registry, and the run's other figures;
#  2. amplification by registry size: a registry with Public = yes and P peers, each of which
#     completed one authenticated handshake (bench_dns_server handshakes), so all P are
#     published; a stranger sends 50 PTR queries claiming EDNS 65535 (wgp_attack dns-flood):
#     the answer's size and answer bytes / query bytes. Then one such query spoofed from a
#     confirmed peer endpoint (wgp_attack spoof-query): the IP bytes the registry sends to
#     that peer for it (what a spoofer can aim at any peer, Public = yes or no).
# The wgp_attack and bench_dns_server of this tree attack whatever --wgpunch names, so an
# older build (e.g. the commit before issue 10) is measured with today's tools.
#
# Usage (as root): bench/discovery_attack.sh [--wgpunch PATH] [--runs N] [--peers "P ..."]
#   --runs N     chain runs (default 5; 0 skips part 1)
#   --peers LIST registry sizes for part 2 (default "10 100 150 1000"; "" skips it)
# BENCH_BUILD=DIR picks the build of the tools (default build-bench, Release).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../scripts/lib/netns.sh"
source "$HERE/lib/common.sh"

RUNS=5 PEER_LIST="10 100 150 1000" WGPUNCH=""
while (($#)); do
  case $1 in
    --wgpunch) WGPUNCH=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --peers) PEER_LIST=$2; shift 2 ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $RUNS =~ ^[0-9]{1,2}$ ]] || { echo "runs 0-99" >&2; exit 2; }
for p in $PEER_LIST; do
  [[ $p =~ ^[1-9][0-9]{0,3}$ ]] || { echo "peers 1-9999 each, got '$p'" >&2; exit 2; }
done

require_netns_capable
if [[ -n $WGPUNCH ]]; then
  bench_build wgp_attack bench_dns_server
else
  bench_build wgpunch wgp_attack bench_dns_server
  WGPUNCH=$BENCH_BUILD/wgpunch
fi
WGPUNCH=$(realpath "$WGPUNCH")
ATTACK=$BENCH_BUILD/wgp_attack
HELPER=$BENCH_BUILD/bench_dns_server
require_tools wg ip nft timeout awk
nl_init bench-dattack
REPORT=$NL_TMP/report.txt
{
  echo "bench/discovery_attack.sh: wgpunch $WGPUNCH"
  echo "machine: $(machine_note)"
} >"$REPORT"

# kv KEY LINE: the value of KEY=... in a line of key=value words.
kv() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2; exit}'; }

# --- 1. the attack chain, RUNS times ------------------------------------------------------
if ((RUNS > 0)); then
  moved=0 reached=0
  echo "1. attack chain (test_discovery_attack.sh, report mode), $RUNS runs:" >>"$REPORT"
  for ((run = 1; run <= RUNS; run++)); do
    out=$(DISCOVERY_ATTACK_REPORT=1 WGP_ATTACK=$ATTACK timeout 300 \
      bash "$HERE/../tests/integration/test_discovery_attack.sh" "$WGPUNCH" 2>"$NL_TMP/run-$run.log") ||
      { tail -n 30 "$NL_TMP/run-$run.log" >&2; fail "chain run $run failed to run"; }
    result=$(grep '^RESULT ' <<<"$out") || fail "chain run $run printed no RESULT line"
    [[ $(kv endpoint_moved "$result") == yes ]] && moved=$((moved + 1))
    (($(kv forged_in "$result") > 0)) && reached=$((reached + 1))
    echo "   run $run: ${result#RESULT }" >>"$REPORT"
    log "chain run $run/$RUNS: ${result#RESULT }"
  done
  echo "   => Alice's endpoint for Bob moved to the forged address in $moved of $RUNS runs;" \
    "datagrams reached the forged address in $reached of $RUNS" >>"$REPORT"
fi

# --- 2. amplification by registry size ------------------------------------------------------
if [[ -n ${PEER_LIST// /} ]]; then
  ns_create NS_A  # the registry
  ns_create NS_B  # its peers (the handshake driver) and the stranger
  veth_link "$NS_A" veth0 "192.0.2.1/24" "$NS_B" veth0 "192.0.2.2/24"
  # Everything the registry sends to B, in IP bytes (fragments included).
  ns_exec "$NS_B" nft -f - <<EOF || fail "cannot install B's counter"
table ip bench {
  counter from_registry { }
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr 192.0.2.1 counter name from_registry
  }
}
EOF
  from_registry_bytes() {
    ns_exec "$NS_B" nft list counter ip bench from_registry | awk '$1 == "packets" {print $4; exit}'
  }
  {
    echo "2. a stranger's PTR query with EDNS 65535 to a Public = yes registry with P published peers"
    printf '   %6s %9s %9s %9s %10s %13s %14s\n' P records query answer factor truncated \
      "to_peer(IP B)"
  } >>"$REPORT"
  for peers in $PEER_LIST; do
    IFREG=$(uniq_iface "areg$peers")
    "$HELPER" keys "$peers" | write_conf "$NL_TMP/peer-keys.txt"
    wg_keypair KREG PUBREG
    {
      printf '[Interface]\nPrivateKey = %s\nListenPort = 51830\nAddress = 10.0.0.1/8\n\n' "$KREG"
      printf '[Registry]\nZone = bench.example.\nPublic = yes\n'
      peer_sections "$NL_TMP/peer-keys.txt"
    } | write_conf "$NL_TMP/$IFREG.conf"
    wgp_up PID_REG "$NS_A" "$NL_TMP/$IFREG.conf"
    hs=$(ns_exec "$NS_B" timeout $((peers / 300 + 30)) "$HELPER" handshakes --to 192.0.2.1:51830 \
      --server-key "$PUBREG" --keys "$NL_TMP/peer-keys.txt" --bind 192.0.2.2 --rate 600) || true
    # (awk reads to the end: an early exit would SIGPIPE the writer of a long listing)
    published=$(ns_exec "$NS_A" "$WGPUNCH" status "$IFREG" |
      awk -F': ' '!n && $1 ~ /registry published records/ {print $2; n = 1}')
    flood=$(ns_exec "$NS_B" timeout 30 "$ATTACK" dns-flood --target 192.0.2.1:51830 \
      --zone bench.example. --count 50 --rate 200 --listen-ms 1000) ||
      fail "dns-flood against $peers peers failed: $flood"
    log "$peers peers ($hs): $flood"
    # One query spoofed from a peer's confirmed endpoint (the driver's sockets are closed by
    # now, so only the counter sees the answer).
    peer_ep=$(ns_exec "$NS_A" wg show "$IFREG" endpoints | awk '!n && $2 ~ /^192\.0\.2\.2:/ {print $2; n = 1}')
    to_peer=-
    if [[ -n $peer_ep ]]; then
      before=$(from_registry_bytes)
      ns_exec "$NS_B" timeout 10 "$ATTACK" spoof-query --from "$peer_ep" --target 192.0.2.1:51830 \
        --zone bench.example. --edns 65535 --count 1 >/dev/null || fail "spoof-query failed"
      sleep 1
      to_peer=$(($(from_registry_bytes) - before))
    fi
    printf '   %6s %9s %9s %9s %10s %13s %14s\n' "$peers" "${published:--}" \
      "$(kv query_size "$flood")" "$(kv largest_answer "$flood")" "$(kv largest_factor "$flood")" \
      "$(kv truncated "$flood")/$(kv answers "$flood")" "$to_peer" >>"$REPORT"
    wgp_stop "$PID_REG" "$NS_A" "$IFREG"
  done
  echo "   (query = the stranger's PTR query in bytes, answer = the largest answer's DNS bytes," \
    "factor = answer / query; to_peer = IP bytes the registry sent to a peer's endpoint for" \
    "one spoofed query, EDNS 65535, whose own IP size is $(( $(kv query_size "$flood") + 28 )))" >>"$REPORT"
fi
echo
cat "$REPORT"
