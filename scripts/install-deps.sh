#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and running mosquitto-token-auth
# need, and only when one is missing: quiet and quick when everything is there already.
# Node.js and npm come from Debian only when `node` or `npm` is not on PATH already (a
# machine may have its own, newer Node.js). Then scripts/browser-deps.sh installs the
# browser tests' npm packages (tests/browser). Uses sudo only when not root. Safe to run any
# number of times, with or without a TTY.
set -euo pipefail

packages=(
  build-essential cmake pkg-config g++ clang-format clang-14
  libfuzzer-14-dev  # scripts/fuzz.sh: libFuzzer for clang-14 (-fsanitize=fuzzer)
  dpkg-dev file  # cpack -G DEB: dpkg-shlibdeps finds the packages' library dependencies
  libhiredis-dev libssl-dev libfmt-dev catch2 nlohmann-json3-dev
  libcli11-dev libcjson-dev
  libboost-dev  # Boost.Beast/Asio (header-only): tokend's HTTP server, the tests' HTTP client
  redis-server mosquitto mosquitto-dev libmosquitto-dev mosquitto-clients
  redis-sentinel  # the Sentinel failover tests run three real sentinels
  curl openssl python3
  chromium  # the dashboard's browser tests (tests/browser) drive /usr/bin/chromium
)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)  # tests/browser: puppeteer-core runs on Node.js
fi
browser_deps="$(dirname "${BASH_SOURCE[0]}")/browser-deps.sh"

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg -s "$pkg" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  exec "$browser_deps"
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}) and not root, no sudo" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
"$browser_deps"
