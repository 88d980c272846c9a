#!/usr/bin/env bash
# Installs the Debian packages built by scripts/package.sh on this machine, checks the
# INSTALLED programs (tokend --version, tokenctl --help), loads the INSTALLED plugin through
# the shipped conf.d example into Debian's /usr/sbin/mosquitto, connects with a token
# minted by the installed tokenctl + tokend, and purges the packages again.
#
#   test_install.sh PACKAGE_DIR VERSION
#
# Exit 77 (a skip, never a pass) with the reason when the packages are absent, when not
# root, or when the packages are installed already (this test never touches an existing
# installation). Loopback and free ports only; stops only the processes it started.
set -euo pipefail

package_dir="${1:?usage: test_install.sh PACKAGE_DIR VERSION}"
version="${2:?usage: test_install.sh PACKAGE_DIR VERSION}"
names=(mosquitto-token-auth-plugin mosquitto-token-auth-tokend mosquitto-token-auth-tokenctl)

say() { echo "package test: $*"; }
skip() {
  say "SKIPPED: $*"
  exit 77
}
fail() {
  say "FAILED: $*" >&2
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  skip "needs root to install packages (run as root)"
fi
arch="$(dpkg --print-architecture)"
debs=()
for name in "${names[@]}"; do
  deb="$package_dir/${name}_${version}_${arch}.deb"
  if [ ! -f "$deb" ]; then
    skip "no $deb (build the packages first: scripts/package.sh)"
  fi
  debs+=("$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")")
  if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'ok installed'; then
    skip "$name is installed already; not touching an existing installation"
  fi
done
for tool in apt-get /usr/sbin/mosquitto mosquitto_pub mosquitto_sub redis-server redis-cli \
  curl python3 setpriv; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is missing (scripts/install-deps.sh)"
done

work="$(mktemp -d /tmp/tka-package-test.XXXXXX)"
pids=()
installed=0
cleanup() {
  local status=$? pid
  trap - EXIT
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
    for log in "$work"/*.log; do
      [ -f "$log" ] && { echo "--- $log (last 30 lines)"; tail -n 30 "$log"; }
    done
  fi
  if [ "$installed" -eq 1 ]; then
    say "purging ${names[*]}"
    if ! apt-get -o DPkg::Lock::Timeout=300 purge -y -qq "${names[@]}" >"$work/purge.log" 2>&1; then
      cat "$work/purge.log" >&2
      status=1
    fi
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_until() {
  local what="$1"
  shift
  for _ in $(seq 100); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  fail "$what did not come up"
}
json_get() {
  python3 -c 'import json, sys; v = json.load(sys.stdin)
for k in sys.argv[1:]: v = v[k]
print(v)' "$@"
}

# --- install ---
say "installing ${debs[*]}"
installed=1  # from here on, cleanup purges (also after a half-done install)
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
  --no-install-recommends "${debs[@]}" >"$work/install.log" 2>&1 ||
  fail "apt-get install failed: $(tail -n 5 "$work/install.log")"

multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)"
plugin="/usr/lib/$multiarch/mosquitto_token_auth.so"
for file in /usr/bin/tokend /usr/bin/tokenctl "$plugin" /etc/default/tokend \
  /lib/systemd/system/tokend.service /etc/mosquitto/conf.d/token-auth.conf.example \
  /usr/share/man/man8/tokend.8.gz /usr/share/man/man1/tokenctl.1.gz; do
  [ -f "$file" ] || fail "$file was not installed"
done
[ "$(stat -c %a /etc/default/tokend)" = 600 ] || fail "/etc/default/tokend is not mode 600"
dpkg-query -W -f='${Conffiles}\n' mosquitto-token-auth-tokend | grep -q ' /etc/default/tokend ' ||
  fail "/etc/default/tokend is not a conffile"
getent passwd tokend >/dev/null || fail "postinst did not create the tokend user"

# --- installed binaries ---
out="$(/usr/bin/tokend --version)"
[ "$out" = "tokend $version" ] || fail "tokend --version printed '$out', expected 'tokend $version'"
/usr/bin/tokenctl --help >"$work/tokenctl-help.txt" || fail "tokenctl --help failed"
grep -q 'org' "$work/tokenctl-help.txt" || fail "tokenctl --help does not mention org"
out="$(/usr/bin/tokenctl --version)"
[ "$out" = "tokenctl $version" ] || fail "tokenctl --version printed '$out'"
say "installed tokend and tokenctl run ($out)"

# --- Redis ---
chmod 755 "$work"  # mosquitto reads its config after dropping to the mosquitto user
mkdir -m 700 "$work/redis"
redis_port="$(free_port)"
redis_url="redis://127.0.0.1:$redis_port"
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" --save "" \
  --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
pids+=("$!")
wait_until "redis-server" redis-cli -h 127.0.0.1 -p "$redis_port" ping

# --- tokend: as the tokend user, with the shipped /etc/default/tokend as its environment
# (the flags override Redis and the listen address, as an operator's edit would) ---
tokend_port="$(free_port)"
mapfile -t defaults < <(grep -E '^[A-Z_]+=' /etc/default/tokend)
env -i PATH=/usr/bin:/bin "${defaults[@]}" \
  setpriv --reuid=tokend --regid=tokend --clear-groups \
  /usr/bin/tokend --redis-url "$redis_url" --listen "127.0.0.1:$tokend_port" \
  >"$work/tokend.log" 2>&1 &
pids+=("$!")
wait_until "tokend" curl -fsS "http://127.0.0.1:$tokend_port/healthz"

# --- Mosquitto with the shipped conf.d example, enabled as the README says (copied to a
# .conf file), on a free port and this test's Redis ---
mqtt_port="$(free_port)"
mkdir -m 755 "$work/conf.d"
sed -e "s|^listener 1883 127.0.0.1\$|listener $mqtt_port 127.0.0.1|" \
  -e "s|^plugin_opt_redis_url .*|plugin_opt_redis_url $redis_url|" \
  /etc/mosquitto/conf.d/token-auth.conf.example >"$work/conf.d/token-auth.conf"
grep -qx "plugin $plugin" "$work/conf.d/token-auth.conf" ||
  fail "the conf.d example does not load $plugin"
grep -qx "listener $mqtt_port 127.0.0.1" "$work/conf.d/token-auth.conf" ||
  fail "the conf.d example has no 'listener 1883 127.0.0.1' line"
cat >"$work/mosquitto.conf" <<CONF
# Generated by the package test: the shipped example, loopback only, logs to stderr.
persistence false
log_dest stderr
log_type all
include_dir $work/conf.d
CONF
chmod 644 "$work/mosquitto.conf" "$work/conf.d/token-auth.conf"
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=("$!")
wait_until "mosquitto" port_open "$mqtt_port"
grep -q "token-auth: using Redis at $redis_url" "$work/mosquitto.log" ||
  fail "the broker log has no 'token-auth: using Redis at $redis_url' line"
say "installed plugin loaded: $(grep -m1 'token-auth:' "$work/mosquitto.log")"

# --- a token from the installed tokenctl + tokend, used over MQTT ---
org_json="$(/usr/bin/tokenctl --redis-url "$redis_url" org create --name package-test \
  --token-auth on --json)"
org_id="$(json_get organization_id <<<"$org_json")"
secret_key="$(json_get secret_key <<<"$org_json")"
token_json="$(curl -fsS -X POST "http://127.0.0.1:$tokend_port/v2/tokens/create" \
  -H 'Content-Type: application/json' \
  -d "{\"organization_id\": \"$org_id\", \"secret_key\": \"$secret_key\", \"user_email\": \"device@example.com\"}")"
user="$(json_get mqtt_credentials username <<<"$token_json")"
password="$(json_get mqtt_credentials password <<<"$token_json")"

topic="orgs/$org_id/package-test"
message="hello from the installed packages"
# Retained, so the subscriber gets it whenever it subscribes: no race with the publish.
mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -u "$user" -P "$password" -q 1 -r -t "$topic" \
  -m "$message" || fail "mosquitto_pub with the token was refused"
got="$(mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -u "$user" -P "$password" -t "$topic" \
  -C 1 -W 10)" || fail "mosquitto_sub with the token got nothing"
[ "$got" = "$message" ] || fail "mosquitto_sub received '$got'"
if mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -u "$user" -P "${password}x" \
  -t "$topic" -m x 2>/dev/null; then
  fail "a wrong token password was accepted"
fi
say "token from the installed tokend connects; a wrong password is refused"

# --- purge (cleanup repeats it only when this step did not finish) ---
for pid in "${pids[@]}"; do
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
pids=()
apt-get -o DPkg::Lock::Timeout=300 purge -y -qq "${names[@]}" >"$work/purge.log" 2>&1 ||
  fail "apt-get purge failed: $(tail -n 5 "$work/purge.log")"
installed=0
for file in /usr/bin/tokend /usr/bin/tokenctl "$plugin" /etc/default/tokend \
  /etc/mosquitto/conf.d/token-auth.conf.example; do
  [ ! -e "$file" ] || fail "$file is still there after purge"
done
say "passed: installed, ran, plugin loaded, token connected, purged"
