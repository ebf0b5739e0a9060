#!/usr/bin/env bash
# Prometheus metrics (issue 13): node A (the wgpunch under test, also a DNS-SD registry) with
# MetricsListen = 127.0.0.1:9586 and a wgpunch peer B on a veth pair. Debian's real
# Prometheus server runs in A's namespace on loopback (temp config and data dir, scrape
# interval 1 s) and scrapes A; its HTTP API returns wgpunch_peer_receive_bytes_total for B,
# which grows by at least what B then sends. `promtool check metrics` accepts the exposition;
# it names B's key, the registry's counters and the build's version, and no private key or
# address. A second node asking for the same MetricsListen fails with one line naming the
# config and the key, leaving no interface behind.
# Usage: bash test_metrics.sh /path/to/wgpunch
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib/netns.sh"
source "$HERE/../../scripts/lib/service.sh"

[[ $# -ge 1 ]] || fail "usage: $0 /path/to/wgpunch"
require_netns_capable
[[ -x $1 ]] || fail "wgpunch binary '$1' not found or not executable"
WGPUNCH=$(realpath "$1")
require_tools wg ip ping awk curl prometheus promtool python3
nl_init metrics

ns_create NS_A
ns_create NS_B
veth_link "$NS_A" eth0 "192.0.2.1/24" "$NS_B" eth0 "192.0.2.2/24"
IFA=$(uniq_iface mta)
IFB=$(uniq_iface mtb)
wgp_keypair KA PUBA
wgp_keypair KB PUBB
write_conf "$NL_TMP/$IFA.conf" <<EOF2
[Interface]
PrivateKey = $KA
ListenPort = 51820
Address = 10.0.0.1/24
MetricsListen = 127.0.0.1:9586

[Registry]
Zone = example.net.

[Peer]
PublicKey = $PUBB
AllowedIPs = 10.0.0.2/32
EOF2
peer_conf "$NL_TMP/$IFB.conf" "$KB" 51820 10.0.0.2/24 "$PUBA" 10.0.0.1/32 192.0.2.1:51820
wgp_up PID_A "$NS_A" "$NL_TMP/$IFA.conf"
wgp_up PID_B "$NS_B" "$NL_TMP/$IFB.conf"
expect_ping "$NS_B" 10.0.0.1 "B -> A"

scrape() { ns_exec "$NS_A" curl -sf --max-time 5 http://127.0.0.1:9586/metrics; }
wait_for "A's metrics endpoint" 5 scrape
scrape >"$NL_TMP/metrics.txt" || fail "cannot scrape http://127.0.0.1:9586/metrics in A's namespace"
ctype=$(ns_exec "$NS_A" curl -sf -o /dev/null -w '%{content_type}' http://127.0.0.1:9586/metrics)
[[ $ctype == "text/plain; version=0.0.4; charset=utf-8" ]] || fail "Content-Type is '$ctype'"
promtool check metrics <"$NL_TMP/metrics.txt" >"$NL_TMP/promtool.log" 2>&1 ||
  fail "promtool check metrics rejects the exposition: $(cat "$NL_TMP/promtool.log")"
log "ok: promtool check metrics accepts the exposition ($(wc -l <"$NL_TMP/metrics.txt") lines)"

has() { grep -qF -- "$1" "$NL_TMP/metrics.txt" || fail "the exposition lacks: $1"; }
has "wgpunch_peer_receive_bytes_total{public_key=\"$PUBB\"} "
has "wgpunch_peer_transmit_bytes_total{public_key=\"$PUBB\"} "
has "wgpunch_peer_path{public_key=\"$PUBB\",path=\"direct\"} 1"
has "wgpunch_peer_endpoint_source{public_key=\"$PUBB\",source=\"roamed\"} 1"
has "wgpunch_dropped_packets_total{reason=\"decrypt_failed\"} 0"
has "wgpunch_registry_published_records "
has "wgpunch_registry_answers_total{path=\"tunnel\"} 0"
has "wgpunch_build_info{version=\"$("$WGPUNCH" --version | cut -d' ' -f2)\"} 1"
has "wgpunch_interface_info{interface=\"$IFA\",public_key=\"$PUBA\"} 1"
hs=$(handshake_time "$NS_A" "$IFA" "$PUBB")
has "wgpunch_peer_last_handshake_timestamp_seconds{public_key=\"$PUBB\"} $hs"
for s in "$KA" "$KB" 192.0.2.; do
  ! grep -qF -- "$s" "$NL_TMP/metrics.txt" || fail "the exposition contains a private key or an address"
done
log "ok: per-peer, drop, registry and build metrics; no private key, no address"

log "=== the real Prometheus server scrapes A"
cat >"$NL_TMP/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: wgpunch
    static_configs:
      - targets: ['127.0.0.1:9586']
EOF2
mkdir "$NL_TMP/prometheus-data"
spawn PID_PROM "$NS_A" "$NL_TMP/prometheus.log" prometheus \
  --config.file="$NL_TMP/prometheus.yml" --storage.tsdb.path="$NL_TMP/prometheus-data" \
  --web.listen-address=127.0.0.1:9090 --log.level=warn
wait_for "Prometheus to be ready" 30 ns_exec "$NS_A" curl -sf http://127.0.0.1:9090/-/ready
query="wgpunch_peer_receive_bytes_total{public_key=\"$PUBB\"}"
wait_for "Prometheus to have scraped A" 15 bash -c \
  "[[ -n \$(source '$HERE/../../scripts/lib/netns.sh'; source '$HERE/../../scripts/lib/service.sh'; prom_query '$NS_A' '$query') ]]"
before=$(prom_query "$NS_A" "$query")
[[ $(prom_query "$NS_A" 'up{job="wgpunch"}') == 1 ]] || fail "Prometheus reports the target down"
log "ok: Prometheus has $query = $before"

# 300 pings of 1000 bytes from B: A receives well over 300 kB more.
ns_exec "$NS_B" ping -q -n -c 300 -i 0.005 -s 1000 10.0.0.1 >/dev/null || fail "ping burst from B failed"
want=$((before + 300 * 1000))
grown() { local v; v=$(prom_query "$NS_A" "$query"); [[ -n $v ]] && ((${v%.*} >= want)); }
wait_for "Prometheus's value to grow past $want" 15 grown
log "ok: Prometheus now has $query = $(prom_query "$NS_A" "$query") (was $before)"
stop_pid "$PID_PROM"
forget_pid "$PID_PROM"

log "=== a MetricsListen that is taken"
IFC=$(uniq_iface mtc)
write_conf "$NL_TMP/$IFC.conf" <<EOF2
[Interface]
PrivateKey = $("$WGPUNCH" genkey)
MetricsListen = 127.0.0.1:9586
EOF2
register_iface "$IFC"
if out=$(ns_exec "$NS_A" "$WGPUNCH" up "$NL_TMP/$IFC.conf" 2>&1); then
  fail "a second node on the same MetricsListen started"
fi
[[ $out == "wgpunch: $NL_TMP/$IFC.conf: MetricsListen: bind 127.0.0.1:9586: Address already in use" ]] ||
  fail "unexpected error for a taken MetricsListen: $out"
[[ $(wc -l <<<"$out") == 1 ]] || fail "the error is more than one line: $out"
! ip -n "$NS_A" link show "$IFC" >/dev/null 2>&1 || fail "the failed node left $IFC behind"
[[ ! -e $(sock_of "$IFC") ]] || fail "the failed node left its control socket behind"
log "ok: $out"

wgp_stop "$PID_A" "$NS_A" "$IFA"
! ns_exec "$NS_A" curl -sf --max-time 2 http://127.0.0.1:9586/metrics >/dev/null ||
  fail "the metrics port still answers after A stopped"
wgp_stop "$PID_B" "$NS_B" "$IFB"
log "PASS: Prometheus scrapes wgpunch's metrics and sees traffic grow"
