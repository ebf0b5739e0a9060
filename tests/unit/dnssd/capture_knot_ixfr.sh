#!/usr/bin/env bash
# Captures Knot DNS's IXFR answers for zone_transfer_test.cpp (knot_ixfr_captures.h): the
# expected bytes of our IXFR come from another implementation, not from the journal that our
# build_transfer serializes. Run by hand as root (a private network namespace); prints the
# header on stdout:   bash tests/unit/dnssd/capture_knot_ixfr.sh > tests/unit/dnssd/knot_ixfr_captures.h
#
# The zone is written here from DESIGN.md §4, not by our code: per peer n (key_n of the test:
# byte i = i * 37 + 1, byte 0 = n, byte 1 = n >> 8; address 198.51.100.n) a PTR, an SRV to
# <B32>.example.net., an A at the instance name and one at the host name, and (§11) wgsd's TXT at
# the instance name ("txtvers=1" "pub=<base64 key>" "allowed=", the test's peers have no
# AllowedIPs), all TTL 0, with the test's SOA and NS. Versions (as IxfrStepsThroughTheJournal commits them): 100 = peers 1-3 at
# port 51820; 101 = peer 2 moved to port 40001; 105 = peer 4 (port 9) added. knotd loads each
# with `zonefile-load: difference`, so its journal holds the two changesets, and answers IXFR
# requests over TCP (a request built here, RFC 1995 §3: the question and our SOA in AUTHORITY).
set -euo pipefail
[[ ${1:-} == --inside ]] || exec unshare -n bash "$0" --inside
ip link set lo up
DIR=$(mktemp -d /tmp/knot-ixfr.XXXXXX)
trap 'kill "$KNOT" 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT

zone() {  # SERIAL: the zone file of that version
  python3 - "$1" <<'PY'
import base64, sys
serial = int(sys.argv[1])
peers = {1: 51820, 2: 51820, 3: 51820}
if serial >= 101: peers[2] = 40001
if serial >= 105: peers[4] = 9
z = "example.net."
print(f"{z} 0 IN SOA {z} hostmaster.{z} {serial} 60 10 86400 0")
print(f"{z} 0 IN NS {z}")
for n, port in sorted(peers.items()):
    key = bytearray((i * 37 + 1) & 0xFF for i in range(32))
    key[0], key[1] = n & 0xFF, n >> 8
    b32 = base64.b32encode(bytes(key)).decode().replace("=", "\\=")  # Knot: '=' escaped
    inst = f"{b32}._wireguard._udp.{z}"
    print(f"_wireguard._udp.{z} 0 IN PTR {inst}")
    print(f"{inst} 0 IN SRV 0 0 {port} {b32}.{z}")
    print(f"{inst} 0 IN A 198.51.100.{n}")
    print(f"{b32}.{z} 0 IN A 198.51.100.{n}")
    pub = base64.b64encode(bytes(key)).decode()
    print(f'{inst} 0 IN TXT "txtvers=1" "pub={pub}" "allowed="')
PY
}

cat >"$DIR/knot.conf" <<CONF
server:
    rundir: "$DIR"
    listen: 127.0.0.1@5353
log:
  - target: stderr
    any: warning
database:
    storage: "$DIR"
acl:
  - id: local
    address: 127.0.0.1
    action: transfer
zone:
  - domain: example.net.
    storage: "$DIR"
    file: "$DIR/example.net.zone"
    zonefile-load: difference
    journal-content: changes
    acl: local
CONF
zone 100 >"$DIR/example.net.zone"
knotd -c "$DIR/knot.conf" 2>"$DIR/knotd.log" &
KNOT=$!
serial() { kdig @127.0.0.1 -p 5353 +short example.net SOA 2>/dev/null | awk '{print $3}'; }
wait_serial() {
  for _ in $(seq 100); do [[ $(serial) == "$1" ]] && return 0; sleep 0.1; done
  echo "knotd does not serve serial $1: $(cat "$DIR/knotd.log")" >&2
  exit 1
}
wait_serial 100
for s in 101 105; do
  zone "$s" >"$DIR/example.net.zone"
  knotc -c "$DIR/knot.conf" zone-reload example.net. >/dev/null
  wait_serial "$s"
done

cat <<HEAD
// Knot DNS's IXFR answers for zone_transfer_test.cpp, captured from knotd
// $(knotd --version | awk '{print $NF}') on $(date -u +%Y-%m-%d) by capture_knot_ixfr.sh, which describes the
// zone and its versions: one hex string per answer (one message each, without
// the TCP length). Generated: do not edit, capture again.
#pragma once

namespace wgp::dnssd::testing {

HEAD
python3 - <<'PY'
import socket, struct
def name(text):
    return b"".join(bytes([len(l)]) + l.encode() for l in text.rstrip(".").split(".")) + b"\0"
def request(serial):
    header = struct.pack("!HHHHHH", 0xbeef, 0, 1, 0, 1, 0)
    question = name("example.net.") + struct.pack("!HH", 251, 1)  # IXFR IN
    soa = name("example.net.") + name("hostmaster.example.net.") + struct.pack("!IIIII", serial, 0, 0, 0, 0)
    authority = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 0, len(soa)) + soa
    return header + question + authority
def answers(serial):
    # Every message of the answer: read until knotd has sent nothing for a second (it keeps
    # the connection open after the transfer).
    s = socket.create_connection(("127.0.0.1", 5353), timeout=5)
    q = request(serial)
    s.sendall(struct.pack("!H", len(q)) + q)
    data = b""
    s.settimeout(1)
    try:
        while chunk := s.recv(65536):
            data += chunk
    except socket.timeout:
        pass
    out = []
    while len(data) >= 2:
        n = struct.unpack("!H", data[:2])[0]
        out.append(data[2:2 + n])
        data = data[2 + n:]
    return out
for serial, what in ((100, "from 100: both changesets"), (101, "from 101: the last one"),
                     (105, "from 105: up to date"), (99, "from 99, a serial Knot never had")):
    msgs = answers(serial)
    assert len(msgs) == 1, f"expected one message for {serial}, got {len(msgs)}"
    h = msgs[0].hex()
    print(f"// IXFR {what}.")
    print(f"inline constexpr const char kKnotIxfrFrom{serial}[] =")
    for i in range(0, len(h), 96):
        print(f'    "{h[i:i + 96]}"' + (";" if i + 96 >= len(h) else ""))
    print()
PY
echo "}  // namespace wgp::dnssd::testing"
