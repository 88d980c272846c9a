#!/usr/bin/env bash
# Builds the upstream Mosquitto brokers that the e2e compatibility matrix runs the plugin
# against, from the release tarballs in ../shared/upstream (beside the repository checkout),
# and prints one line per broker on stdout:
#
#   2.0.22=/abs/path/build/upstream/mosquitto-2.0.22/build/src/mosquitto
#   2.1.2=/abs/path/build/upstream/mosquitto-2.1.2/build/src/mosquitto
#   2.1.2-nows=/abs/path/build/upstream/mosquitto-2.1.2-nows/build/src/mosquitto
#
# 2.1 and later are built twice: with upstream's default options, and without websockets
# ("-nows"), which changes how often the broker sends MOSQ_EVT_TICK (see below).
# scripts/test.sh joins these lines with ';' into -DTKA_UPSTREAM_BROKERS=... for CMake.
# Every tarball must be listed in SHA256SUMS and match it. Only the broker is built, into
# build/upstream/mosquitto-<version>[-nows]/ (ignored by git); a broker whose binary is
# there and whose stamp file records the tarball's checksum and the build options is not
# built again, so repeated runs cost a checksum each. Without ../shared/upstream nothing
# is built, nothing is printed and the matrix legs are registered as skipped
# (tests/e2e/CMakeLists.txt).
# Progress goes to stderr, each build's output to mosquitto-<version>[-nows]/build.log.
#
#   scripts/upstream-brokers.sh          # build what is missing, print version=path lines
#   TKA_UPSTREAM_DIR=/elsewhere scripts/upstream-brokers.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
upstream="${TKA_UPSTREAM_DIR:-$(cd "$root/.." && pwd)/shared/upstream}"
cache="$root/build/upstream"
jobs="${TKA_UPSTREAM_JOBS:-2}"

say() { echo "upstream-brokers: $*" >&2; }

if [ ! -d "$upstream" ]; then
  say "$upstream not present: no upstream brokers, the matrix legs will be skipped"
  exit 0
fi
if [ ! -f "$upstream/SHA256SUMS" ]; then
  say "$upstream/SHA256SUMS missing"
  exit 1
fi

shopt -s nullglob
tarballs=("$upstream"/mosquitto-*.tar.gz)
if [ "${#tarballs[@]}" -eq 0 ]; then
  say "no mosquitto-*.tar.gz in $upstream: the matrix legs will be skipped"
  exit 0
fi

mkdir -p "$cache"
for tarball in "${tarballs[@]}"; do
  name="$(basename "$tarball")"
  version="${name#mosquitto-}"
  version="${version%.tar.gz}"
  expected="$(awk -v f="$name" '$2 == f || $2 == "*" f { print $1 }' "$upstream/SHA256SUMS")"
  if [ -z "$expected" ]; then
    say "$name is not listed in $upstream/SHA256SUMS"
    exit 1
  fi
  actual="$(sha256sum "$tarball" | cut -d' ' -f1)"
  if [ "$actual" != "$expected" ]; then
    say "$name: checksum mismatch (SHA256SUMS $expected, file $actual)"
    exit 1
  fi

  case "$version" in
    2.0.*) variants=("") ;;
    *) variants=("" "-nows") ;;
  esac
  for variant in "${variants[@]}"; do
    case "$version$variant" in
      2.0.*)
        options=(-DDOCUMENTATION=OFF -DWITH_PLUGINS=OFF -DWITH_APPS=OFF)
        ;;
      *-nows)
        # The same without websockets. With them (the default) 2.1 wakes its main loop at
        # least every 100 ms and so sends MOSQ_EVT_TICK that often; without them it sleeps
        # until the next network event or broker timer, and a tick that a plugin requested
        # (the event's next_s / next_ms) is only a minimum interval, not a wake-up.
        options=(-DWITH_DOCS=OFF -DWITH_PLUGINS=OFF -DWITH_APPS=OFF -DWITH_CLIENTS=OFF
          -DWITH_TESTS=OFF -DWITH_CTRL_SHELL=OFF -DWITH_LTO=OFF -DWITH_SRV=OFF
          -DWITH_WEBSOCKETS=OFF)
        ;;
      *)
        # 2.1 and later, upstream's default options but for what the broker does not need;
        # needs libcjson-dev (scripts/install-deps.sh).
        options=(-DWITH_DOCS=OFF -DWITH_PLUGINS=OFF -DWITH_APPS=OFF -DWITH_CLIENTS=OFF
          -DWITH_TESTS=OFF -DWITH_CTRL_SHELL=OFF -DWITH_LTO=OFF -DWITH_SRV=OFF)
        ;;
    esac
    label="$version$variant"
    dest="$cache/mosquitto-$label"
    binary="$dest/build/src/mosquitto"
    stamp="$dest/build.stamp"
    wanted="$actual ${options[*]}"
    if [ -x "$binary" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
      echo "$label=$binary"
      continue
    fi

    say "building mosquitto $label (broker only) in $dest"
    rm -rf "$dest"
    mkdir -p "$dest"
    tar -xzf "$tarball" -C "$dest" --strip-components=1
    started=$SECONDS
    if ! { cmake -S "$dest" -B "$dest/build" -DCMAKE_BUILD_TYPE=Release "${options[@]}" &&
      cmake --build "$dest/build" --target mosquitto -j"$jobs"; } >"$dest/build.log" 2>&1; then
      tail -n 40 "$dest/build.log" >&2
      say "building mosquitto $label failed (log: $dest/build.log)"
      exit 1
    fi
    if [ ! -x "$binary" ]; then
      say "mosquitto $label built, but $binary is missing"
      exit 1
    fi
    echo "$wanted" >"$stamp"
    say "mosquitto $label built in $((SECONDS - started)) s"
    echo "$label=$binary"
  done
done
