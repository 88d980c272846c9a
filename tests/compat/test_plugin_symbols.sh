#!/usr/bin/env bash
# Link-level compatibility of mosquitto_token_auth.so with the brokers it must load into.
#
#   test_plugin_symbols.sh exports PLUGIN
#       The plugin exports nothing but the plugin entry points (mosquitto_plugin_version,
#       _init, _cleanup, and _set_info should it ever define it), and does not link the
#       client library libmosquitto (its mosquitto_* functions must come from the broker).
#   test_plugin_symbols.sh imports PLUGIN NAME BROKER
#       Every mosquitto_* symbol the plugin leaves undefined is exported by the broker
#       binary BROKER (NAME labels it in messages). A plugin that calls a libmosquitto
#       client function the broker does not export loads on one broker and fails on
#       another with "undefined symbol" (mosquitto_strerror: Debian's 2.0.11 broker exports
#       it, an upstream 2.0.22 build does not). An empty BROKER (or "-") means that broker was
#       not built (../shared/upstream absent): the test is skipped (exit 77) with a reason.
#
# Exit status: 0 pass, 1 fail (each offending symbol is printed), 77 skipped, 2 usage.
set -euo pipefail

usage() {
  echo "usage: $0 exports PLUGIN | $0 imports PLUGIN NAME BROKER" >&2
  exit 2
}

# Dynamic symbol names, version suffixes (name@VER, name@@VER) removed.
dynamic_symbols() { # which(--defined-only|--undefined-only) file
  nm -D "$1" --format=posix "$2" | awk '{ sub(/@.*/, "", $1); print $1 }' | sort -u
}

[ $# -ge 2 ] || usage
mode="$1"
plugin="$2"
if [ ! -f "$plugin" ]; then
  echo "FAIL: plugin $plugin not found (build the mosquitto_token_auth target)" >&2
  exit 1
fi

case "$mode" in
  exports)
    [ $# -eq 2 ] || usage
    status=0
    allowed='^mosquitto_plugin_(version|init|cleanup|set_info)$'
    exported="$(dynamic_symbols --defined-only "$plugin")"
    while read -r symbol; do
      [ -n "$symbol" ] || continue
      if ! [[ "$symbol" =~ $allowed ]]; then
        echo "FAIL: $plugin exports $symbol (only the plugin entry points may be exported)"
        status=1
      fi
    done <<<"$exported"
    for required in mosquitto_plugin_version mosquitto_plugin_init mosquitto_plugin_cleanup; do
      if ! grep -qx "$required" <<<"$exported"; then
        echo "FAIL: $plugin does not export $required"
        status=1
      fi
    done
    if needed="$(readelf -d "$plugin" | grep -o 'Shared library: \[libmosquitto[^]]*\]')"; then
      echo "FAIL: $plugin links the client library ($needed); plugin calls must go to the broker"
      status=1
    fi
    if [ "$status" -eq 0 ]; then
      echo "ok: $plugin exports only: $(tr '\n' ' ' <<<"$exported")"
    fi
    exit "$status"
    ;;
  imports)
    [ $# -eq 4 ] || usage
    name="$3"
    broker="$4"
    if [ -z "$broker" ] || [ "$broker" = "-" ]; then
      echo "skipped: no upstream mosquitto $name built (../shared/upstream not present or without its tarball), its symbols not checked"
      exit 77
    fi
    if [ ! -x "$broker" ]; then
      echo "FAIL: broker binary $broker (mosquitto $name) not found; run scripts/upstream-brokers.sh" >&2
      exit 1
    fi
    needed="$(dynamic_symbols --undefined-only "$plugin" | grep '^mosquitto_' || true)"
    provided="$(dynamic_symbols --defined-only "$broker")"
    status=0
    count=0
    while read -r symbol; do
      [ -n "$symbol" ] || continue
      count=$((count + 1))
      if ! grep -qx "$symbol" <<<"$provided"; then
        echo "FAIL: $symbol is used by $plugin but not exported by mosquitto $name ($broker)"
        status=1
      fi
    done <<<"$needed"
    if [ "$status" -eq 0 ]; then
      echo "ok: all $count mosquitto_* symbols the plugin imports are exported by mosquitto $name ($broker)"
    fi
    exit "$status"
    ;;
  *)
    usage
    ;;
esac
