# Install-and-build steps shared by scripts/test and scripts/demo (sourced, not run).
# Expects ROOT (the repository root); honours WGPUNCH_BUILD_DIR and WGPUNCH_BUILD_TYPE.

BUILD=${WGPUNCH_BUILD_DIR:-$ROOT/build}
BUILD_TYPE=${WGPUNCH_BUILD_TYPE:-RelWithDebInfo}

# Debian 12 packages: toolchain and libraries, then what the integration tests and demo run.
WGPUNCH_PACKAGES=(
  build-essential cmake pkg-config
  android-libboringssl-dev libsodium-dev libb2-dev libldns-dev libboost-dev libboost-system-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev nlohmann-json3-dev
  wireguard-go wireguard-tools iproute2 nftables iputils-ping procps socat python3 util-linux
  iperf3 tcpdump bind9-dnsutils knot-dnsutils knot ldnsutils conntrack coreutils
  dpkg-dev lintian man-db systemd passwd prometheus curl systemd-container debootstrap
  libnatpmp-dev libminiupnpc-dev miniupnpd-nftables
)

# missing_packages: the packages above that are not installed, one per line.
missing_packages() {
  local p
  for p in "${WGPUNCH_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || echo "$p"
  done
}

# install_missing: apt-get only when something is missing (and only then apt-get update).
install_missing() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    echo "==> all required Debian packages are installed"
    return 0
  fi
  echo "==> installing: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  # --no-install-recommends matters: wireguard-tools recommends a kernel image.
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# build_wgpunch [TARGET...]: configure into $BUILD and build (everything without targets).
build_wgpunch() {
  echo "==> configuring ($BUILD_TYPE) in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
  local targets=()
  local t
  for t in "$@"; do targets+=(--target "$t"); done
  echo "==> building with $(nproc) jobs"
  cmake --build "$BUILD" -j "$(nproc)" "${targets[@]}"
}
