# shellcheck shell=bash
# Counting the MACs (keyed BLAKE2s: mac1, mac2) a wgpunch computes, without touching its
# build: the LD_PRELOAD shim tests/tools/mac_count.c counts libb2's blake2s_init_key calls in
# a shared 8-byte file. For test_relay_abuse.sh and bench/relay_flood.sh (sourced after
# scripts/lib/netns.sh: it uses NL_TMP and fail).
#   mac_count_wrapper VAR WGPUNCH   builds the shim and a wrapper script that runs WGPUNCH with
#                                   it preloaded (exec: the same PID); the wrapper's path into VAR
#   mac_count                       the count so far
MAC_COUNT_SHIM_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/tools" && pwd)/mac_count.c

mac_count_wrapper() {
  local _mc_var=$1 target=$2
  cc -O2 -shared -fPIC -o "$NL_TMP/mac_count.so" "$MAC_COUNT_SHIM_SRC" -ldl ||
    fail "cannot build the MAC counting shim $MAC_COUNT_SHIM_SRC"
  MAC_COUNT_FILE=$NL_TMP/macs.bin
  head -c 8 /dev/zero >"$MAC_COUNT_FILE"
  # An ASan build refuses to start unless its runtime is the first library
  # loaded: preload the very libasan the binary links, then the shim.
  local preload=$NL_TMP/mac_count.so asan
  asan=$(asan_runtime "$target")
  [[ -z $asan ]] || preload=$asan:$preload
  printf '#!/bin/sh\nLD_PRELOAD=%s WGP_MAC_COUNT_FILE=%s exec %s "$@"\n' \
    "$preload" "$MAC_COUNT_FILE" "$target" >"$NL_TMP/wgpunch-counted"
  chmod 755 "$NL_TMP/wgpunch-counted"
  printf -v "$_mc_var" '%s' "$NL_TMP/wgpunch-counted"
}

mac_count() { od -An -tu8 -N8 "$MAC_COUNT_FILE" | tr -d ' '; }
