#!/usr/bin/env bash
# Builds a Release tree for the /usr prefix and turns it into Debian packages with
# `cpack -G DEB`: mosquitto-token-auth-plugin, -tokend and -tokenctl, written to
# <build dir>/packages/ and printed one path a line on stdout.
#
#   scripts/package.sh                       # build/release, tests not built
#   scripts/package.sh DIR [CMAKE_ARGS...]   # another tree, e.g. CI's release tree with
#                                            # -DTKA_BUILD_TESTS=ON -DCMAKE_COMPILE_WARNING_AS_ERROR=ON
# Install the result with:  apt-get install ./build/release/packages/*.deb
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath -m "${1:-$root/build/release}")"
shift || true
extra=("$@")
if [ "${#extra[@]}" -eq 0 ]; then
  extra=(-DTKA_BUILD_TESTS=OFF)  # the same tree as scripts/run.sh
fi
packages="$build/packages"

"$root/scripts/install-deps.sh" </dev/null

# Progress goes to stderr; stdout carries only the package paths.
{
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    "${extra[@]}"
  cmake --build "$build" -j2
  rm -rf "$packages"
  cpack --config "$build/CPackConfig.cmake" -G DEB -B "$packages"
} >&2

# cpack leaves its staging tree (_CPack_Packages) next to the packages.
find "$packages" -maxdepth 1 -name '*.deb' | sort
