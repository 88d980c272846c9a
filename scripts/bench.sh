#!/usr/bin/env bash
# scripts/bench.sh: the benchmark suite (docs/benchmarks.md). Builds the bench
# tools and the plugin in a Release tree, starts its own Redis / Mosquitto / tokend / proxy
# processes on free 127.0.0.1 ports with generated configs in a temp dir, runs every
# benchmark several times INTERLEAVED across variants (so machine noise hits all variants
# alike) and prints one table per benchmark: medians, and ratios measured in the same run.
#
#   scripts/bench.sh [--quick] [--reps N] [--no-build] [SECTION...]
#   SECTION: connect stall expiry revoke memory sync flood tokend tokend_idle redis_memory
#            (default: all)
#     redis_memory: Redis used_memory per live token at BENCH_REDIS_TOKENS (default 1000000,
#           --quick 100000) tokens in one org written by load_tokens (the create script,
#           pipelined), and the cost of a create (mint_tokens: creates/s, Redis CPU per
#           create), for this tree and for the layout baseline BENCH_LAYOUT_BASELINE_REV
#           (default f325163, the last revision with one key per token), built in
#           BENCH_LAYOUT_BASELINE_DIR (default build/bench-layout-baseline)
#     sync: a broker started against a store of 1M live tokens (BENCH_SYNC_COUNTS, default
#           300000,700000: one org each; --quick 30000,70000): time to a trusted replica,
#           Redis SLOWLOG during the sync, CONNECTs during and after it, RSS per token
#     flood: a failed-auth flood (real usernames, random tkn_ passwords, one client as fast
#             as it can): refusals/s against the bare broker's connects/s, and the Redis
#             commands each refused attempt cost (docs/plugin.md, "Failed-auth backoff")
#     tokend: POST /v2/tokens/create under wrk, requests/s and CPU per create (tokend and
#             Redis), each tokend variant beside a trivial Beast server (the physical limit)
#     tokend_idle: thousands of idle or stalled connections held open against tokend:
#             /healthz and create latency, tokend's RSS per held connection
#   env: BENCH_BUILD_DIR (default build/bench), TKA_BENCH_PLUGIN_VARIANTS (see below),
#        TKA_BENCH_TOKEND_VARIANTS (default "baseline current": tokend built from
#        BENCH_BASELINE_REV and from this tree; "current@4": with --threads 4), BENCH_BASELINE_REV (default 5f12481, any
#        git revision of this clone), BENCH_BASELINE_DIR (default build/bench-baseline),
#        BENCH_HTTP_THREADS (tokend --threads, default 32), BENCH_IO_THREADS (tokend
#        --io-threads and the trivial server's threads, default 2), BENCH_IDLE_N (held
#        connections, default 10000), BENCH_IDLE_MODES (default "idle stalled"),
#        BENCH_IDLE_REPS (runs of each, default 3, --quick 1), BENCH_IDLE_TOKEND_FLAGS
#        (tokend's limits in those runs; default: caps and timeouts beyond the run),
#        BENCH_SYNC_COUNTS, BENCH_SYNC_REPS (default 3, --quick 1), BENCH_SYNC_PLUGIN_LINES
#        (extra plugin lines of the replica broker; default plugin_opt_cache_max_entries
#        100000000 so that the bounded replica holds every token),
#        BENCH_PERF=1 (a perf profile of each tokend variant, written next to the build),
#        BENCH_MOSQUITTO (the broker binary, default: mosquitto from PATH; e.g. an upstream
#        2.1.2 built by scripts/upstream-brokers.sh), TKA_BENCH_FLOOD_VARIANTS (see below),
#        BENCH_FLOOD_N (CONNECTs per flood run, default 3000)
#
# Only loopback, every loop bounded, only the PIDs this script started are killed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$(realpath -m "${BENCH_BUILD_DIR:-$ROOT/build/bench}")"

# ---- The one-line switch for the plugin variants ----------------------------------------
# replica_on: plugin_opt_cache on (CONNECTs answered from the local token replica);
# replica_off: plugin_opt_cache off (one Redis round trip per token CONNECT);
# replica_off_sync: the same with plugin_opt_delayed_auth off (on Mosquitto 2.1 the Redis
# round trip then happens on the broker thread, as on 2.0). "plugin" runs the plugin with
# its default options. E.g. TKA_BENCH_PLUGIN_VARIANTS=replica_on
PLUGIN_VARIANTS=(${TKA_BENCH_PLUGIN_VARIANTS:-replica_on replica_off})
# The flood section's plugin variants: a variant ending in _nobackoff is its base with
# plugin_opt_backoff off, to show what the backoff changes.
FLOOD_VARIANTS=(${TKA_BENCH_FLOOD_VARIANTS:-replica_on replica_off replica_on_nobackoff replica_off_nobackoff})

plugin_variant_lines() {  # extra mosquitto.conf lines of a plugin variant
    case "$1" in
        *_nobackoff) plugin_variant_lines "${1%_nobackoff}"; echo "plugin_opt_backoff off" ;;
        replica_on) echo "plugin_opt_cache on" ;;
        replica_off) echo "plugin_opt_cache off" ;;
        replica_off_sync) printf 'plugin_opt_cache off\nplugin_opt_delayed_auth off\n' ;;
        *) ;;
    esac
}

QUICK=0
REPS=""
BUILD=1
SECTIONS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --reps) REPS="$2"; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
        connect|stall|expiry|revoke|memory|sync|flood|tokend|tokend_idle|redis_memory) SECTIONS+=("$1") ;;
        *) echo "bench.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
[[ ${#SECTIONS[@]} -eq 0 ]] && SECTIONS=(connect stall expiry revoke memory sync flood tokend tokend_idle redis_memory)

# ---- tokend variants ------------------------------------------------------------------------
# baseline: tokend built from BENCH_BASELINE_REV (git archive of that revision, so it works
# from a fresh clone) in BENCH_BASELINE_DIR; current: tokend of this tree. Each runs beside
# the other in the same rounds, alternating, so the ratio between them is measured under the
# same machine noise. E.g. TKA_BENCH_TOKEND_VARIANTS=current. A variant may name its own
# --threads after an @: "current@4" is this tree's tokend with --threads 4 (its own Redis and
# row), e.g. TKA_BENCH_TOKEND_VARIANTS="baseline current current@4 current@8"
TOKEND_VARIANTS=(${TKA_BENCH_TOKEND_VARIANTS:-baseline current})
BASELINE_REV="${BENCH_BASELINE_REV:-5f12481}"
BASELINE_DIR="$(realpath -m "${BENCH_BASELINE_DIR:-$ROOT/build/bench-baseline}")"
HTTP_THREADS="${BENCH_HTTP_THREADS:-32}"  # tokend --threads (Redis workers; httplib: all workers)
variant_build() { echo "${1%%@*}"; }       # variant: baseline or current
variant_threads() { if [[ $1 == *@* ]]; then echo "${1#*@}"; else echo "$HTTP_THREADS"; fi; }
IO_THREADS="${BENCH_IO_THREADS:-2}"       # tokend --io-threads, and the trivial server's threads
IDLE_N="${BENCH_IDLE_N:-10000}"
IDLE_MODES=(${BENCH_IDLE_MODES:-idle stalled})
FLOOD_N="${BENCH_FLOOD_N:-3000}"; FLOOD_USERS=1000

if [[ $QUICK -eq 1 ]]; then
    REPS="${REPS:-2}"
    CONNECT_THREADS=(4); WARM_S=1; COLD_N=2000; WARM_N=500
    STALL_S=2; STALL_RATE=200; EXPIRY_N=1000; EXPIRY_TTL=5; MEMORY_N=2000; WRK_S=2; REVOKE_N=1000
    IDLE_REPS="${BENCH_IDLE_REPS:-1}"
else
    REPS="${REPS:-5}"
    CONNECT_THREADS=(1 4); WARM_S=2; COLD_N=8000; WARM_N=1000
    STALL_S=3; STALL_RATE=200; EXPIRY_N=1000; EXPIRY_TTL=6; MEMORY_N=10000; WRK_S=3; REVOKE_N=1000
    IDLE_REPS="${BENCH_IDLE_REPS:-3}"
fi

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }
die() { echo "bench.sh: $*" >&2; exit 1; }

# ---- install what is missing, build ------------------------------------------------------
install_missing() {
    local need=()
    command -v wrk >/dev/null || need+=(wrk)
    command -v mosquitto >/dev/null || need+=(mosquitto)
    command -v mosquitto_passwd >/dev/null || need+=(mosquitto-clients)
    command -v redis-server >/dev/null || need+=(redis-server)
    command -v curl >/dev/null || need+=(curl)
    command -v jq >/dev/null || need+=(jq)  # the sync section reads SLOWLOG as JSON
    command -v ss >/dev/null || need+=(iproute2)
    dpkg -s libboost-dev >/dev/null 2>&1 || need+=(libboost-dev)  # the trivial server (Beast)
    if [[ -x "$ROOT/scripts/install-deps.sh" ]]; then
        "$ROOT/scripts/install-deps.sh" >&2 || log "install-deps.sh failed; continuing"
    fi
    if [[ ${#need[@]} -gt 0 ]]; then
        log "installing ${need[*]}"
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
    fi
}

# What the chosen sections need: bench tools, the plugin, tokend (and tokenctl).
TOOLS=(); NEED_PLUGIN=0; NEED_TOKEND=0
for section in "${SECTIONS[@]}"; do
    case "$section" in
        connect) TOOLS+=(mqtt_connect_load mint_tokens); NEED_PLUGIN=1 ;;
        stall) TOOLS+=(mqtt_connect_load stall_probe delay_proxy mint_tokens); NEED_PLUGIN=1 ;;
        expiry) TOOLS+=(expiry_probe mint_tokens); NEED_PLUGIN=1 ;;
        revoke) TOOLS+=(revoke_probe); NEED_PLUGIN=1 ;;
        memory) TOOLS+=(rss_probe mint_tokens); NEED_PLUGIN=1 ;;
        sync) TOOLS+=(load_tokens); NEED_PLUGIN=1 ;;
        redis_memory) TOOLS+=(load_tokens mint_tokens) ;;
        flood) TOOLS+=(auth_flood mint_tokens); NEED_PLUGIN=1 ;;
        tokend) TOOLS+=(trivial_http_server); NEED_TOKEND=1 ;;
        tokend_idle) TOOLS+=(idle_connections trivial_http_server); NEED_TOKEND=1 ;;
    esac
done
TOOLS=($(printf '%s\n' "${TOOLS[@]}" | sort -u))

release_tree() {  # source dir, build dir, extra cmake args...: configure a Release tree
    local src="$1" dir="$2"; shift 2
    mkdir -p "$dir"
    cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
        -DTKA_BUILD_TESTS=OFF "$@" >"$dir/bench-cmake.log" 2>&1 ||
        { cat "$dir/bench-cmake.log" >&2; return 1; }
}

PLUGIN_SO=""
build() {
    log "building Release tree in $BUILD_DIR"
    release_tree "$ROOT" "$BUILD_DIR" -DTKA_BUILD_BENCH=ON || die "cmake failed"
    cmake --build "$BUILD_DIR" -j2 --target "${TOOLS[@]}" >&2 || die "bench tools do not build"
    if [[ $NEED_TOKEND -eq 1 ]]; then
        cmake --build "$BUILD_DIR" -j2 --target tokend tokenctl >&2 ||
            log "tokend does not build: variant current skipped"
    fi
    if [[ $NEED_PLUGIN -eq 1 ]]; then
        cmake --build "$BUILD_DIR" -j2 --target mosquitto_token_auth >&2 ||
            log "plugin does not build: plugin variants skipped"
    fi
}

# tokend and tokenctl of BENCH_BASELINE_REV in $BASELINE_DIR/build. The sources are
# extracted again only when the revision changes, so a second run rebuilds nothing.
build_baseline() {
    local sha
    sha=$(git -C "$ROOT" rev-parse --verify --quiet "$BASELINE_REV^{commit}") ||
        die "BENCH_BASELINE_REV=$BASELINE_REV is not a commit of this clone (fetch it, or unshallow)"
    if [[ "$(cat "$BASELINE_DIR/rev" 2>/dev/null)" != "$sha" ]]; then
        log "baseline: extracting $sha into $BASELINE_DIR/src"
        rm -rf "$BASELINE_DIR/src" "$BASELINE_DIR/build" "$BASELINE_DIR/rev"
        mkdir -p "$BASELINE_DIR/src"
        git -C "$ROOT" archive "$sha" | tar -x -C "$BASELINE_DIR/src"
        echo "$sha" >"$BASELINE_DIR/rev"
    fi
    log "baseline: building tokend at ${sha:0:12} in $BASELINE_DIR/build"
    release_tree "$BASELINE_DIR/src" "$BASELINE_DIR/build" -DTKA_BUILD_BENCH=OFF &&
        cmake --build "$BASELINE_DIR/build" -j2 --target tokend tokenctl >&2 ||
        log "baseline tokend does not build: variant baseline skipped"
}

in_list() {  # word, list...: whether the word is one of the list
    local w="$1" x; shift
    for x in "$@"; do [[ "$x" == "$w" ]] && return 0; done
    return 1
}

mkdir -p "$BUILD_DIR"
install_missing
if [[ $BUILD -eq 1 ]]; then
    build
    if [[ $NEED_TOKEND -eq 1 ]] && in_list baseline $(for v in "${TOKEND_VARIANTS[@]}"; do variant_build "$v"; done); then
        build_baseline
    fi
fi
B="$BUILD_DIR/bench"
for tool in "${TOOLS[@]}"; do
    [[ -x "$B/$tool" ]] || die "no $tool in $B (build first)"
done
[[ -f "$BUILD_DIR/plugin/mosquitto_token_auth.so" ]] && PLUGIN_SO="$BUILD_DIR/plugin/mosquitto_token_auth.so"
declare -A TOKEND_BIN=([current]="$BUILD_DIR/tokend/tokend" [baseline]="$BASELINE_DIR/build/tokend/tokend")
declare -A TOKENCTL_BIN=([current]="$BUILD_DIR/tokenctl/tokenctl"
    [baseline]="$BASELINE_DIR/build/tokenctl/tokenctl")
BASELINE_SHA="$(cat "$BASELINE_DIR/rev" 2>/dev/null || echo unknown)"
MOSQUITTO="${BENCH_MOSQUITTO:-mosquitto}"
if [[ $NEED_PLUGIN -eq 1 ]]; then
    log "broker: $MOSQUITTO ($("$MOSQUITTO" -h 2>/dev/null | head -1 || true))"
fi
[[ -n "$PLUGIN_SO" ]] || PLUGIN_VARIANTS=()

# ---- processes, ports, temp dir ----------------------------------------------------------
TMP="$(mktemp -d /tmp/tka-bench.XXXXXX)"
chmod 755 "$TMP"   # mosquitto drops privileges to user mosquitto: it must read its configs
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Many held connections: raise the descriptor limit for us and the brokers we start.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
[[ -n "$PLUGIN_SO" ]] && chmod o+rx "$PLUGIN_SO" 2>/dev/null || true

USED_PORTS=" "
free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + RANDOM % 12000))   # below the ephemeral range (32768+)
        [[ "$USED_PORTS" == *" $p "* ]] && continue
        if [[ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]]; then
            USED_PORTS+="$p "
            echo "$p"
            return 0
        fi
    done
    die "no free port"
}

wait_port() {  # port, pid: until it accepts connections (5 s at most)
    local i
    for i in $(seq 1 100); do
        kill -0 "$2" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

LAST_PID=""
spawn() {  # name, command...: background process, output to $TMP/name.log
    local name="$1"; shift
    "$@" >"$TMP/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

stop_pid() {  # stops one of our processes and forgets its PID (never kill a reused PID)
    local pid="$1" i keep=()
    for i in "${PIDS[@]}"; do [[ $i == "$pid" ]] || keep+=("$i"); done
    PIDS=("${keep[@]}")
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
}

declare -A PORT PID
start_redis() {  # name
    local port; port=$(free_port)
    spawn "$1" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$TMP" --dbfilename "$1.rdb"
    PORT[$1]=$port; PID[$1]=$LAST_PID
    wait_port "$port" "$LAST_PID" || die "redis $1 did not start: $(tail -3 "$TMP/$1.log")"
}

# start_broker NAME KIND [REDIS_PORT]; KIND: bare | pwfile | <plugin variant>
start_broker() {
    local name="$1" kind="$2" redis_port="${3:-}" port conf
    port=$(free_port); conf="$TMP/$name.conf"
    {
        echo "# generated by scripts/bench.sh: $kind"
        echo "listener $port 127.0.0.1"
        echo "set_tcp_nodelay true"
        echo "log_dest stderr"
        echo "log_type error"
        echo "log_type warning"
        echo "connection_messages false"
        echo "persistence false"
        case "$kind" in
            bare) echo "allow_anonymous true" ;;
            pwfile) echo "allow_anonymous false"; echo "password_file $TMP/passwd" ;;
            *)
                echo "allow_anonymous false"
                echo "plugin $PLUGIN_SO"
                echo "plugin_opt_redis_url redis://127.0.0.1:$redis_port"
                echo "plugin_opt_log_level warning"
                plugin_variant_lines "$kind"
                ;;
        esac
    } >"$conf"
    chmod 644 "$conf"
    spawn "$name" "$MOSQUITTO" -c "$conf"
    PORT[$name]=$port; PID[$name]=$LAST_PID
    wait_port "$port" "$LAST_PID" || die "broker $name did not start: $(tail -5 "$TMP/$name.log")"
}

# Password file for the pwfile broker from a credential file (hashed with mosquitto_passwd -U).
make_passwd() {
    awk -F'\t' '{print $1 ":" $2}' "$1" >"$TMP/passwd"
    mosquitto_passwd -U "$TMP/passwd"
    chmod 644 "$TMP/passwd"
}

# ---- results: one file per (table, row, metric), medians ---------------------------------
R="$TMP/results"; mkdir -p "$R"
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
record() { echo "$4" >>"$R/$1.$2.$3"; }  # table row metric value
median() {
    [[ -s "$R/$1.$2.$3" ]] || { echo "-"; return; }
    grep -v '^-$' "$R/$1.$2.$3" | sort -g | awk '{v[NR] = $1} END {
        if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2;
        if (NR) printf (m < 10 ? "%.2f" : "%.1f"), m; else printf "-" }'
}
median4() {  # table row metric: the median with 4 decimals (small per-attempt costs)
    [[ -s "$R/$1.$2.$3" ]] || { echo "-"; return; }
    sort -g "$R/$1.$2.$3" | awk '{v[NR] = $1} END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.4f", m }'
}
median_int() { median "$@" | awk '{ if ($1 == "-") print "-"; else printf "%.0f", $1 }'; }  # counts
last() { [[ -s "$R/$1.$2.$3" ]] && tail -n 1 "$R/$1.$2.$3" || echo "-"; }
# Ratio of this rep's values of two rows (run seconds apart), kept for a median of ratios.
record_ratio() {  # table row base_row metric
    record "$1" "$2" "$4_ratio" "$(ratio "$(last "$1" "$2" "$4")" "$(last "$1" "$3" "$4")")"
}
spread() {  # table row metric: "min-max" of the recorded values
    [[ -s "$R/$1.$2.$3" ]] || { echo "-"; return; }
    sort -g "$R/$1.$2.$3" | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.0f-%.0f", lo, hi}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
WARNINGS=()
warn() { WARNINGS+=("$*"); log "WARNING: $*"; }
check_clean() {  # table row line: refusals or errors make a figure meaningless
    local r e; r=$(field "$3" refused); e=$(field "$3" errors)
    [[ "${r:-0}" == 0 && "${e:-0}" == 0 ]] || warn "$1/$2: refused=$r errors=$e"
}
rotate() {  # rep, items...: the items rotated by rep (interleaving, varying order)
    local k=$(($1 % ($# - 1))); shift
    local items=("$@")
    echo "${items[@]:k}" "${items[@]:0:k}"
}

mint() {  # redis_port count out [extra args]
    local port="$1" count="$2" out="$3"; shift 3
    "$B/mint_tokens" --redis-url "redis://127.0.0.1:$port" --count "$count" --out "$out" "$@"
}

# ---- connect rate ------------------------------------------------------------------------
bench_connect() {
    log "connect: starting Redis and brokers"
    start_redis c_redis
    local variants=(bare pwfile "${PLUGIN_VARIANTS[@]}") v
    mint "${PORT[c_redis]}" "$COLD_N" "$TMP/c_pw.creds" >/dev/null
    make_passwd "$TMP/c_pw.creds"
    for v in "${variants[@]}"; do
        start_broker "c_$v" "$v" "${PORT[c_redis]}"
    done
    # Warm tokens, minted while the brokers run (the replica hears of them by event).
    mint "${PORT[c_redis]}" "$WARM_N" "$TMP/c_warm.creds" >/dev/null
    head -n "$WARM_N" "$TMP/c_pw.creds" >"$TMP/c_pw_warm.creds"

    local rep threads mode line creds
    for rep in $(seq 1 "$REPS"); do
        for threads in "${CONNECT_THREADS[@]}"; do
            for mode in warm cold; do
                for v in $(rotate "$rep" "${variants[@]}"); do
                    case "$v:$mode" in
                        bare:*|pwfile:cold) creds="$TMP/c_pw.creds" ;;
                        pwfile:warm) creds="$TMP/c_pw_warm.creds" ;;
                        *:warm) creds="$TMP/c_warm.creds" ;;
                        *:cold)  # fresh tokens, minted now, with the broker running
                            creds="$TMP/c_cold.creds"
                            mint "${PORT[c_redis]}" "$COLD_N" "$creds" >/dev/null
                            sleep 1 ;;
                    esac
                    if [[ $mode == warm ]]; then
                        line=$("$B/mqtt_connect_load" --port "${PORT[c_$v]}" --creds "$creds" \
                            --mode warm --threads "$threads" --duration "$WARM_S" --max-seconds 30 \
                            --broker-pid "${PID[c_$v]}")
                    else
                        line=$("$B/mqtt_connect_load" --port "${PORT[c_$v]}" --creds "$creds" \
                            --mode cold --threads "$threads" --count "$COLD_N" --max-seconds 30 \
                            --broker-pid "${PID[c_$v]}")
                    fi
                    check_clean connect "$v/$mode/t$threads" "$line"
                    [[ "$(field "$line" slow)" == 0 ]] || warn "connect/$v/$mode/t$threads: $(field "$line" slow) cycles over 100 ms (max $(field "$line" max_cycle_ms) ms)"
                    record connect "$mode.t$threads.$v" rate "$(field "$line" rate)"
                    record connect "$mode.t$threads.$v" p50 "$(field "$line" p50_us)"
                    record connect "$mode.t$threads.$v" p99 "$(field "$line" p99_us)"
                    record connect "$mode.t$threads.$v" cpu "$(field "$line" broker_cpu_us)"
                    record connect "$mode.t$threads.$v" crate "$(awk -v t="$threads" \
                        -v c="$(field "$line" p50_cycle_us)" 'BEGIN { if (c > 0) printf "%.1f", t * 1e6 / c; else print "-" }')"
                done
                for v in "${variants[@]}"; do
                    record_ratio connect "$mode.t$threads.$v" "$mode.t$threads.bare" rate
                    record_ratio connect "$mode.t$threads.$v" "$mode.t$threads.bare" cpu
                    record_ratio connect "$mode.t$threads.$v" "$mode.t$threads.bare" crate
                done
            done
        done
        log "connect: rep $rep/$REPS done"
    done
    for v in "${variants[@]}"; do stop_pid "${PID[c_$v]}"; done
    stop_pid "${PID[c_redis]}"

    echo
    echo "### connect rate (CONNECT->CONNACK->DISCONNECT, medians of $REPS runs)"
    echo
    echo "(connects/s: accepted connects / run time; vs bare: median over runs of the ratio to the bare"
    echo "broker's run seconds before or after; range: slowest-fastest run; 1/p50 cycle: clients /"
    echo "median connect-to-close cycle, a rate the machine's other load disturbs far less; broker"
    echo "CPU: CPU time of the broker thread per accepted connect; p99: CONNECT->CONNACK)"
    echo
    printf '| %-5s | %-7s | %-12s | %10s | %11s | %7s | %13s | %7s | %8s | %13s | %7s |\n' mode clients variant "connects/s" "range" "vs bare" "1/p50 cycle" "vs bare" "p99 us" "broker CPU us" "vs bare"
    printf '| %-5s | %-7s | %-12s | %10s | %11s | %7s | %13s | %7s | %8s | %13s | %7s |\n' --- --- --- ---: ---: ---: ---: ---: ---: ---: ---:
    local row
    for threads in "${CONNECT_THREADS[@]}"; do
        for mode in warm cold; do
            for v in "${variants[@]}"; do
                row="$mode.t$threads.$v"
                printf '| %-5s | %-7s | %-12s | %10s | %11s | %7s | %13s | %7s | %8s | %13s | %7s |\n' "$mode" "$threads" "$v" \
                    "$(median connect "$row" rate)" "$(spread connect "$row" rate)" \
                    "$(median connect "$row" rate_ratio)" \
                    "$(median connect "$row" crate)" "$(median connect "$row" crate_ratio)" \
                    "$(median connect "$row" p99)" \
                    "$(median connect "$row" cpu)" "$(median connect "$row" cpu_ratio)"
            done
        done
    done
}

# ---- broker stall --------------------------------------------------------------------------
bench_stall() {
    [[ ${#PLUGIN_VARIANTS[@]} -gt 0 ]] || { warn "stall: no plugin, skipped"; return; }
    log "stall: starting Redis, delay proxy and brokers"
    start_redis s_redis
    local pport; pport=$(free_port)
    spawn s_proxy "$B/delay_proxy" --listen "$pport" --upstream "${PORT[s_redis]}" --delay-ms 2 \
        --max-seconds 900
    PID[s_proxy]=$LAST_PID
    wait_port "$pport" "$LAST_PID" || die "delay proxy did not start"
    local rows=(bare) v
    start_broker s_bare bare
    for v in "${PLUGIN_VARIANTS[@]}"; do
        start_broker "s_${v}_0ms" "$v" "${PORT[s_redis]}"
        start_broker "s_${v}_2ms" "$v" "$pport"
        rows+=("${v}_0ms" "${v}_2ms")
    done
    mint "${PORT[s_redis]}" 8 "$TMP/s_probe.creds" >/dev/null
    mint "${PORT[s_redis]}" "$WARM_N" "$TMP/s_load.creds" >/dev/null

    local rep row line load lpid
    for rep in $(seq 1 "$REPS"); do
        for row in $(rotate "$rep" "${rows[@]}"); do
            # Background connect load, paced, for the whole probe window (no priming pass).
            "$B/mqtt_connect_load" --port "${PORT[s_$row]}" --creds "$TMP/s_load.creds" \
                --mode warm --prime 0 --threads 4 --rate "$STALL_RATE" \
                --duration "$((STALL_S + 1))" --max-seconds 30 \
                >"$TMP/s_load.out" &
            lpid=$!
            sleep 0.3
            line=$("$B/stall_probe" --port "${PORT[s_$row]}" --creds "$TMP/s_probe.creds" \
                --pairs 4 --rate 200 --duration "$STALL_S") || warn "stall probe failed on $row"
            wait "$lpid" || true
            load=$(cat "$TMP/s_load.out")
            check_clean stall "$row" "$load"
            record stall "$row" p50 "$(field "$line" p50_us)"
            record stall "$row" p99 "$(field "$line" p99_us)"
            record stall "$row" max "$(field "$line" max_us)"
            record stall "$row" load "$(field "$load" rate)"
            record stall "$row" load_p50 "$(field "$load" p50_us)"
        done
        for row in "${rows[@]}"; do
            [[ $row == *_2ms ]] || continue
            record_ratio stall "$row" "${row%_2ms}_0ms" p99
            record_ratio stall "$row" "${row%_2ms}_0ms" p50
        done
        log "stall: rep $rep/$REPS done"
    done
    for row in "${rows[@]}"; do stop_pid "${PID[s_$row]}"; done
    stop_pid "${PID[s_proxy]}"; stop_pid "${PID[s_redis]}"

    echo
    echo "### broker stall (publish->deliver of 4 connected pairs at 200 msg/s each, while 4 other clients reconnect at $STALL_RATE connects/s in total; medians of $REPS runs)"
    echo
    echo "(vs 0 ms: median over runs of the figure with the 2 ms proxy / the same variant's without it;"
    echo "connect p50: CONNECT->CONNACK of the background clients, >= 2 ms proves the delay is in effect)"
    echo
    printf '| %-16s | %9s | %8s | %9s | %8s | %9s | %10s | %14s |\n' variant "p50 us" "vs 0 ms" "p99 us" "vs 0 ms" "max us" "connects/s" "connect p50 us"
    printf '| %-16s | %9s | %8s | %9s | %8s | %9s | %10s | %14s |\n' --- ---: ---: ---: ---: ---: ---: ---:
    local vs50 vs99
    for row in "${rows[@]}"; do
        vs50="-"; vs99="-"
        if [[ $row == *_2ms ]]; then
            vs50=$(median stall "$row" p50_ratio); vs99=$(median stall "$row" p99_ratio)
        fi
        printf '| %-16s | %9s | %8s | %9s | %8s | %9s | %10s | %14s |\n' "$row" \
            "$(median stall "$row" p50)" "$vs50" "$(median stall "$row" p99)" "$vs99" \
            "$(median stall "$row" max)" "$(median stall "$row" load)" "$(median stall "$row" load_p50)"
    done
}

# ---- expiry ------------------------------------------------------------------------------
bench_expiry() {
    [[ ${#PLUGIN_VARIANTS[@]} -gt 0 ]] || { warn "expiry: no plugin, skipped"; return; }
    log "expiry: starting Redis and brokers"
    start_redis e_redis
    local v rep line
    for v in "${PLUGIN_VARIANTS[@]}"; do start_broker "e_$v" "$v" "${PORT[e_redis]}"; done
    for rep in $(seq 1 "$REPS"); do
        for v in $(rotate "$rep" "${PLUGIN_VARIANTS[@]}"); do
            mint "${PORT[e_redis]}" "$EXPIRY_N" "$TMP/e.creds" --ttl "$EXPIRY_TTL" --same-now >/dev/null
            line=$("$B/expiry_probe" --port "${PORT[e_$v]}" --creds "$TMP/e.creds" \
                --broker-pid "${PID[e_$v]}" --grace-s 5) || { warn "expiry probe failed on $v"; continue; }
            check_clean expiry "$v" "$line"
            [[ "$(field "$line" open_after)" == 0 ]] || warn "expiry/$v: $(field "$line" open_after) connections never closed"
            local m
            for m in p50_ms p99_ms max_ms idle_cpu_pct expiry_cpu_ms per_kick_us; do
                record expiry "$v" "$m" "$(field "$line" "$m")"
            done
        done
        log "expiry: rep $rep/$REPS done"
    done
    for v in "${PLUGIN_VARIANTS[@]}"; do stop_pid "${PID[e_$v]}"; done
    stop_pid "${PID[e_redis]}"

    echo
    echo "### expiry ($EXPIRY_N connections whose tokens expire in the same second; close time - expires_at; medians of $REPS runs)"
    echo
    printf '| %-12s | %8s | %8s | %8s | %22s | %20s | %12s |\n' variant "p50 ms" "p99 ms" "max ms" "broker thread CPU idle %" "CPU in expiry, ms" "us per kick"
    printf '| %-12s | %8s | %8s | %8s | %22s | %20s | %12s |\n' --- ---: ---: ---: ---: ---: ---:
    for v in "${PLUGIN_VARIANTS[@]}"; do
        printf '| %-12s | %8s | %8s | %8s | %22s | %20s | %12s |\n' "$v" "$(median expiry "$v" p50_ms)" \
            "$(median expiry "$v" p99_ms)" "$(median expiry "$v" max_ms)" \
            "$(median expiry "$v" idle_cpu_pct)" "$(median expiry "$v" expiry_cpu_ms)" \
            "$(median expiry "$v" per_kick_us)"
    done
}

# ---- revocation -> close window -------------------------------------------------------------
bench_revoke() {
    [[ ${#PLUGIN_VARIANTS[@]} -gt 0 ]] || { warn "revoke: no plugin, skipped"; return; }
    log "revoke: starting Redis and brokers"
    start_redis r_redis
    local v rep line m
    for v in "${PLUGIN_VARIANTS[@]}"; do start_broker "r_$v" "$v" "${PORT[r_redis]}"; done
    for rep in $(seq 1 "$REPS"); do
        for v in $(rotate "$rep" "${PLUGIN_VARIANTS[@]}"); do
            line=$("$B/revoke_probe" --redis-url "redis://127.0.0.1:${PORT[r_redis]}" \
                --port "${PORT[r_$v]}" --count "$REVOKE_N" --rate 500 --grace-s 5) ||
                { warn "revoke probe failed on $v"; continue; }
            [[ "$(field "$line" open_after)" == 0 && "$(field "$line" connected)" == "$REVOKE_N" ]] ||
                warn "revoke/$v: $line"
            for m in p50_ms p99_ms max_ms; do record revoke "$v" "$m" "$(field "$line" "$m")"; done
        done
        log "revoke: rep $rep/$REPS done"
    done
    for v in "${PLUGIN_VARIANTS[@]}"; do stop_pid "${PID[r_$v]}"; done
    stop_pid "${PID[r_redis]}"

    echo
    echo "### revocation -> close ($REVOKE_N live token connections revoked one by one at 500/s; time from the revoke call to the broker closing the socket; medians of $REPS runs)"
    echo
    printf '| %-12s | %8s | %8s | %8s |\n' variant "p50 ms" "p99 ms" "max ms"
    printf '| %-12s | %8s | %8s | %8s |\n' --- ---: ---: ---:
    for v in "${PLUGIN_VARIANTS[@]}"; do
        printf '| %-12s | %8s | %8s | %8s |\n' "$v" "$(median revoke "$v" p50_ms)" \
            "$(median revoke "$v" p99_ms)" "$(median revoke "$v" max_ms)"
    done
}

# ---- memory ------------------------------------------------------------------------------
bench_memory() {
    log "memory: minting $MEMORY_N tokens"
    start_redis m_redis
    mint "${PORT[m_redis]}" "$MEMORY_N" "$TMP/m.creds" >/dev/null
    local variants=(bare "${PLUGIN_VARIANTS[@]}") v rep line
    for rep in $(seq 1 "$REPS"); do
        for v in $(rotate "$rep" "${variants[@]}"); do
            start_broker "m_$v" "$v" "${PORT[m_redis]}"   # fresh broker per run
            sleep 0.5
            line=$("$B/rss_probe" --port "${PORT[m_$v]}" --broker-pid "${PID[m_$v]}" \
                --creds "$TMP/m.creds" --count "$MEMORY_N" --settle-s 1)
            check_clean memory "$v" "$line"
            record memory "$v" before "$(field "$line" rss_before_kb)"
            record memory "$v" after "$(field "$line" rss_after_kb)"
            record memory "$v" per_conn "$(field "$line" per_conn_bytes)"
            stop_pid "${PID[m_$v]}"
        done
        for v in "${PLUGIN_VARIANTS[@]}"; do
            record memory "$v" extra "$(awk -v a="$(last memory "$v" per_conn)" \
                -v b="$(last memory bare per_conn)" 'BEGIN { printf "%.0f", a - b }')"
        done
        log "memory: rep $rep/$REPS done"
    done
    stop_pid "${PID[m_redis]}"

    echo
    echo "### memory (broker VmRSS with $MEMORY_N token connections held open; medians of $REPS runs)"
    echo
    printf '| %-12s | %14s | %14s | %14s | %22s |\n' variant "RSS before kB" "RSS after kB" "bytes per conn" "plugin bytes per conn"
    printf '| %-12s | %14s | %14s | %14s | %22s |\n' --- ---: ---: ---: ---:
    for v in "${variants[@]}"; do
        printf '| %-12s | %14s | %14s | %14s | %22s |\n' "$v" "$(median memory "$v" before)" \
            "$(median memory "$v" after)" "$(median memory "$v" per_conn)" "$(median memory "$v" extra)"
    done
}

# ---- sync: the replica's full sync against a large store ----------------------------------
# A Redis filled by load_tokens (the bulk writer: the keys create_token writes, pipelined)
# with BENCH_SYNC_COUNTS live tokens, one org per count; per repetition a fresh broker with
# the replica on: time from starting it to "token replica trusted" in its log, the sync the
# plugin logs, Redis's SLOWLOG over the sync (slowlog-log-slower-than 1000 us, reset before,
# read after) and commandstats, a CONNECT made while the sync runs (answered by Redis) and
# CONNECTs after (answered from memory: no GET of a password lookup in Redis), and the
# broker's RSS with the replica against a broker with plugin_opt_cache off on the same store.
SYNC_COUNTS="${BENCH_SYNC_COUNTS:-}"
SYNC_PLUGIN_LINES="${BENCH_SYNC_PLUGIN_LINES-plugin_opt_cache_max_entries 100000000}"

start_sync_broker() {  # name redis_port cache(on|off)
    local name="$1" port conf
    port=$(free_port); conf="$TMP/$name.conf"
    {
        echo "# generated by scripts/bench.sh: sync, cache $3"
        echo "listener $port 127.0.0.1"
        echo "log_dest stderr"
        echo "log_type all"
        echo "log_timestamp_format %Y-%m-%dT%H:%M:%S"
        echo "connection_messages false"
        echo "persistence false"
        echo "allow_anonymous false"
        echo "plugin $PLUGIN_SO"
        echo "plugin_opt_redis_url redis://127.0.0.1:$2"
        echo "plugin_opt_log_level info"
        echo "plugin_opt_cache $3"
        [[ $3 == on && -n "$SYNC_PLUGIN_LINES" ]] && echo "$SYNC_PLUGIN_LINES"
    } >"$conf"
    chmod 644 "$conf"
    spawn "$name" "$MOSQUITTO" -c "$conf"
    PORT[$name]=$port; PID[$name]=$LAST_PID
    wait_port "$port" "$LAST_PID" || die "broker $name did not start: $(tail -5 "$TMP/$name.log")"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "-"; }
redis_get_calls() {  # port: HGETs Redis ran so far (the authenticate script's password lookup)
    redis-cli -p "$1" info commandstats | tr -d '\r' |
        awk -F'[=,:]' '$1 == "cmdstat_hget" {print $3; f = 1} END {if (!f) print 0}'
}
cmd_usec() {  # port command: usec_per_call from commandstats
    redis-cli -p "$1" info commandstats | tr -d '\r' |
        awk -F'[=,:]' -v c="cmdstat_$2" '$1 == c {print $7; f = 1} END {if (!f) print "-"}'
}
sync_connect() {  # port n'th-credential client-id: 0 when the CONNECT was accepted
    local line; line=$(sed -n "${2}p" "$TMP/s.creds")
    timeout 10 mosquitto_pub -h 127.0.0.1 -p "$1" -i "$3" -u "$(cut -f1 <<<"$line")" \
        -P "$(cut -f2 <<<"$line")" -t "sync/probe" -m x -q 0 >/dev/null 2>&1
}

bench_sync() {
    local counts="${SYNC_COUNTS:-$([[ $QUICK -eq 1 ]] && echo 30000,70000 || echo 300000,700000)}"
    local reps="${BENCH_SYNC_REPS:-$([[ $QUICK -eq 1 ]] && echo 1 || echo 3)}"
    local total; total=$(tr ',' '\n' <<<"$counts" | awk '{s += $1} END {print s}')
    local need_kb=$((total / 2))  # Redis needs about 0.3 KB per token (docs/benchmarks.md)
    local avail_kb; avail_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
    ((avail_kb > need_kb * 2)) ||
        { warn "sync: $total tokens need about $((need_kb / 1024)) MB in Redis, only $((avail_kb / 1024)) MB available: skipped"; return; }
    log "sync: loading $total live tokens ($counts) into a fresh Redis"
    start_redis s_redis
    local rport=${PORT[s_redis]} line
    line=$("$B/load_tokens" --redis-url "redis://127.0.0.1:$rport" --counts "$counts" \
        --sample 200 --out "$TMP/s.creds") || die "load_tokens failed"
    local load_s; load_s=$(field "$line" seconds)
    local used; used=$(redis-cli -p "$rport" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}')
    local ncreds; ncreds=$(wc -l <"$TMP/s.creds")
    log "sync: loaded in $load_s s, Redis used_memory $((used / 1048576)) MB"

    local rep t0 t1 log_line slow
    for rep in $(seq 1 "$reps"); do
        redis-cli -p "$rport" config set slowlog-log-slower-than 1000 >/dev/null
        redis-cli -p "$rport" config set slowlog-max-len 10000 >/dev/null
        redis-cli -p "$rport" slowlog reset >/dev/null
        redis-cli -p "$rport" config resetstat >/dev/null
        t0=$(date +%s%N)
        start_sync_broker s_on "$rport" on
        # While the sync runs: a CONNECT is answered by Redis.
        local during=0 during_redis=0
        if ! grep -q "token replica trusted" "$TMP/s_on.log"; then
            sync_connect "${PORT[s_on]}" 1 "during-$rep" && during=1
            sleep 0.3
            grep "authenticated with token" "$TMP/s_on.log" | grep -v "from the replica" |
                grep -q "during-$rep" && during_redis=1
        fi
        local i
        for i in $(seq 1 6000); do  # 10 min at most
            grep -q "token replica trusted" "$TMP/s_on.log" && break
            kill -0 "${PID[s_on]}" 2>/dev/null || break
            sleep 0.1
        done
        t1=$(date +%s%N)
        grep -q "token replica trusted" "$TMP/s_on.log" ||
            { warn "sync: rep $rep: not trusted after 10 min: $(grep 'token replica' "$TMP/s_on.log" | tail -2)"; stop_pid "${PID[s_on]}"; continue; }
        record sync on trusted_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
        log_line=$(grep "token replica synced:" "$TMP/s_on.log" | tail -1 || true)
        record sync on sync_s "$(sed -E 's/.* in ([0-9.]+) s .*/\1/' <<<"$log_line")"
        record sync on round_trips "$(sed -E 's/.*\(([0-9]+) round trips\).*/\1/' <<<"$log_line")"
        record sync on synced_tokens "$(sed -E 's/.*synced: ([0-9]+) live.*/\1/' <<<"$log_line")"
        record sync on failures "$(grep -c 'token replica sync failed' "$TMP/s_on.log" || true)"
        record sync on rss_kb "$(rss_kb "${PID[s_on]}")"
        # Redis during the sync (the broker's own CONNECT above included).
        slow=$(redis-cli -p "$rport" --json slowlog get 10000)
        record sync on slow_n "$(jq 'length' <<<"$slow")"
        record sync on slow_max_us "$(jq '[.[][2]] | max // 0' <<<"$slow")"
        jq -r '.[] | "\(.[2]) \(.[3][0])"' <<<"$slow" | sort -rn | head -3 >>"$R/sync.slowest"
        record sync on hgetall_us "$(cmd_usec "$rport" hgetall)"
        record sync on sscan_us "$(cmd_usec "$rport" sscan)"
        # After: CONNECTs answered from memory, no password lookup in Redis.
        local before ok=0 n=20
        before=$(redis_get_calls "$rport")
        for i in $(seq 2 $((n + 1))); do
            sync_connect "${PORT[s_on]}" $((i * ncreds / (n + 2))) "after-$rep-$i" && ok=$((ok + 1))
        done
        sleep 0.5
        record sync on during_ok "$during"; record sync on during_redis "$during_redis"
        record sync on after_ok "$ok"
        record sync on after_memory "$(grep -c "from the replica.*after-$rep-" "$TMP/s_on.log" || true)"
        record sync on after_gets "$(($(redis_get_calls "$rport") - before))"
        stop_pid "${PID[s_on]}"
        # The same store with the replica off: the broker's RSS without the replica.
        start_sync_broker s_off "$rport" off
        sleep 2
        record sync off rss_kb "$(rss_kb "${PID[s_off]}")"
        stop_pid "${PID[s_off]}"
        record sync on per_token_b "$(awk -v a="$(last sync on rss_kb)" -v b="$(last sync off rss_kb)" \
            -v n="$total" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')"
        log "sync: rep $rep/$reps done (trusted after $(last sync on trusted_s) s)"
    done
    stop_pid "${PID[s_redis]}"

    echo
    echo "### replica sync: $total live tokens in Redis ($counts per org), a fresh broker per run (medians of $reps runs)"
    echo
    echo "(loaded by load_tokens in $load_s s; Redis used_memory $((used / 1048576)) MB, $((used / total)) B per token;"
    echo "trusted: from starting the broker to \"token replica trusted\" in its log (polled every 0.1 s);"
    echo "SLOWLOG: commands of >= 1 ms from the broker's start to trusted, wall time inside Redis;"
    echo "RSS per token: (broker RSS with the replica - with plugin_opt_cache off) / tokens;"
    echo "plugin lines: ${SYNC_PLUGIN_LINES:-none})"
    echo
    printf '| %-44s | %16s |\n' metric value
    printf '| %-44s | %16s |\n' --- ---:
    printf '| %-44s | %16s |\n' "broker start -> trusted, s" "$(median sync on trusted_s) ($(spread sync on trusted_s))"
    printf '| %-44s | %16s |\n' "sync as logged by the plugin, s" "$(median sync on sync_s)"
    printf '| %-44s | %16s |\n' "tokens synced" "$(median_int sync on synced_tokens)"
    printf '| %-44s | %16s |\n' "round trips" "$(median_int sync on round_trips)"
    printf '| %-44s | %16s |\n' "failed sync attempts" "$(median_int sync on failures)"
    printf '| %-44s | %16s |\n' "Redis commands >= 1 ms (SLOWLOG)" "$(median_int sync on slow_n)"
    printf '| %-44s | %16s |\n' "slowest Redis command, us (SLOWLOG; max of runs)" "$(sort -g "$R/sync.on.slow_max_us" | tail -1)"
    printf '| %-44s | %16s |\n' "HGETALL (one bucket) / SSCAN us per call" "$(median sync on hgetall_us) / $(median sync on sscan_us)"
    printf '| %-44s | %16s |\n' "broker RSS, replica on / off, kB" "$(median_int sync on rss_kb) / $(median_int sync off rss_kb)"
    printf '| %-44s | %16s |\n' "broker RSS per live token, B" "$(median_int sync on per_token_b)"
    printf '| %-44s | %16s |\n' "CONNECT during the sync: accepted / by Redis" "$(median_int sync on during_ok) / $(median_int sync on during_redis)"
    printf '| %-44s | %16s |\n' "20 CONNECTs after: accepted / from memory" "$(median_int sync on after_ok) / $(median_int sync on after_memory)"
    printf '| %-44s | %16s |\n' "password lookups (HGET) in Redis for them" "$(median_int sync on after_gets)"
    if [[ -s "$R/sync.slowest" ]]; then
        echo
        echo "slowest commands (us command): $(sort -rn "$R/sync.slowest" | head -3 | paste -sd ';' | sed 's/;/; /g')"
    fi
}

# ---- redis_memory: Redis bytes per live token, and what a create costs Redis ------------
# Per variant (the layout baseline and this tree), one run each: a fresh Redis, used_memory
# before and after load_tokens writes BENCH_REDIS_TOKENS tokens into one org (events on:
# the capped stream counts); then a fresh Redis and mint_tokens (TokenStore::create, two
# threads, each create one script and one replica fence): creates/s and Redis CPU
# (used_cpu_user + used_cpu_sys) per create.
LAYOUT_BASELINE_REV="${BENCH_LAYOUT_BASELINE_REV:-f325163}"
LAYOUT_BASELINE_DIR="$(realpath -m "${BENCH_LAYOUT_BASELINE_DIR:-$ROOT/build/bench-layout-baseline}")"

build_layout_baseline() {  # load_tokens and mint_tokens of LAYOUT_BASELINE_REV
    local sha
    sha=$(git -C "$ROOT" rev-parse --verify --quiet "$LAYOUT_BASELINE_REV^{commit}") ||
        { warn "redis_memory: BENCH_LAYOUT_BASELINE_REV=$LAYOUT_BASELINE_REV is not a commit: baseline skipped"; return 1; }
    if [[ "$(cat "$LAYOUT_BASELINE_DIR/rev" 2>/dev/null)" != "$sha" ]]; then
        rm -rf "$LAYOUT_BASELINE_DIR/src" "$LAYOUT_BASELINE_DIR/build" "$LAYOUT_BASELINE_DIR/rev"
        mkdir -p "$LAYOUT_BASELINE_DIR/src"
        git -C "$ROOT" archive "$sha" | tar -x -C "$LAYOUT_BASELINE_DIR/src"
        echo "$sha" >"$LAYOUT_BASELINE_DIR/rev"
    fi
    [[ $BUILD -eq 0 ]] && return 0
    log "redis_memory: building the layout baseline ${sha:0:12}"
    release_tree "$LAYOUT_BASELINE_DIR/src" "$LAYOUT_BASELINE_DIR/build" -DTKA_BUILD_BENCH=ON &&
        cmake --build "$LAYOUT_BASELINE_DIR/build" -j2 --target load_tokens mint_tokens >&2
}

redis_info_field() {  # port section field
    redis-cli -p "$1" info "$2" | tr -d '\r' | awk -F: -v k="$3" '$1 == k {print $2}'
}
redis_cpu() {  # port: used_cpu_user + used_cpu_sys, seconds
    echo "$(redis_info_field "$1" cpu used_cpu_user) $(redis_info_field "$1" cpu used_cpu_sys)" |
        awk '{printf "%.6f", $1 + $2}'
}

bench_redis_memory() {
    local n="${BENCH_REDIS_TOKENS:-$([[ $QUICK -eq 1 ]] && echo 100000 || echo 1000000)}"
    local creates="${BENCH_REDIS_CREATES:-$([[ $QUICK -eq 1 ]] && echo 5000 || echo 20000)}"
    local variants=() v bin
    build_layout_baseline && [[ -x "$LAYOUT_BASELINE_DIR/build/bench/load_tokens" ]] &&
        variants+=(baseline)
    variants+=(current)
    for v in "${variants[@]}"; do
        bin="$B"; [[ $v == baseline ]] && bin="$LAYOUT_BASELINE_DIR/build/bench"
        log "redis_memory: $v, $n tokens"
        start_redis "rm_$v"
        local port=${PORT[rm_$v]} m0 m1 c0 c1 line
        m0=$(redis_info_field "$port" memory used_memory); c0=$(redis_cpu "$port")
        line=$("$bin/load_tokens" --redis-url "redis://127.0.0.1:$port" --counts "$n" \
            --sample 0) || die "load_tokens ($v) failed"
        m1=$(redis_info_field "$port" memory used_memory); c1=$(redis_cpu "$port")
        record rm "$v" per_token "$(((m1 - m0) / n))"
        record rm "$v" used_mb "$(((m1 - m0) / 1048576))"
        record rm "$v" keys "$(redis-cli -p "$port" dbsize | tr -d '\r')"
        record rm "$v" stream "$(redis-cli -p "$port" xlen tka:events | tr -d '\r')"
        record rm "$v" load_rate "$(field "$line" rate)"
        record rm "$v" load_cpu_us "$(awk -v a="$c0" -v b="$c1" -v n="$n" 'BEGIN {printf "%.2f", (b - a) * 1e6 / n}')"
        record rm "$v" load_evalsha_us "$(cmd_usec "$port" evalsha)"
        stop_pid "${PID[rm_$v]}"
        start_redis "rc_$v"
        port=${PORT[rc_$v]}
        c0=$(redis_cpu "$port")
        line=$("$bin/mint_tokens" --redis-url "redis://127.0.0.1:$port" --count "$creates" \
            --threads 2 --out /dev/null) || die "mint_tokens ($v) failed"
        c1=$(redis_cpu "$port")
        record rm "$v" create_rate "$(field "$line" rate)"
        record rm "$v" create_cpu_us "$(awk -v a="$c0" -v b="$c1" -v n="$creates" 'BEGIN {printf "%.2f", (b - a) * 1e6 / n}')"
        record rm "$v" create_evalsha_us "$(cmd_usec "$port" evalsha)"
        stop_pid "${PID[rc_$v]}"
    done
    echo
    echo "### redis_memory: $n live tokens in one org, $creates creates"
    echo "(B/token: used_memory after - before load_tokens / tokens, stream included; CPU us:"
    echo "Redis used_cpu_user + used_cpu_sys delta per token; load evalsha: commandstats"
    echo "usec_per_call of EVALSHA while loading (the create script alone; '-': the loader writes"
    echo "plain commands); mint evalsha: the same while minting (create and replica fence"
    echo "scripts, one each per create); baseline = $LAYOUT_BASELINE_REV)"
    echo
    printf '| %-10s | %8s | %6s | %9s | %7s | %10s | %11s | %12s | %9s | %13s | %12s |\n' variant "B/token" "MB" keys stream "load tok/s" "load CPU us" "load evalsha" "creates/s" "create CPU us" "mint evalsha"
    printf '| %-10s | %8s | %6s | %9s | %7s | %10s | %11s | %12s | %9s | %13s | %12s |\n' --- ---: ---: ---: ---: ---: ---: ---: ---: ---: ---:
    for v in "${variants[@]}"; do
        printf '| %-10s | %8s | %6s | %9s | %7s | %10s | %11s | %12s | %9s | %13s | %12s |\n' "$v" \
            "$(median_int rm "$v" per_token)" "$(median_int rm "$v" used_mb)" "$(median_int rm "$v" keys)" \
            "$(median_int rm "$v" stream)" "$(median_int rm "$v" load_rate)" "$(median rm "$v" load_cpu_us)" \
            "$(median rm "$v" load_evalsha_us)" "$(median_int rm "$v" create_rate)" \
            "$(median rm "$v" create_cpu_us)" "$(median rm "$v" create_evalsha_us)"
    done
}

# ---- failed-auth flood ---------------------------------------------------------------------
# A fresh broker per run, so every flood starts with no backoff state and shows the
# threshold being reached. Each run: the broker starts, 1.5 s for the replica to sync and
# be trusted, then auth_flood measures the plugin's background Redis traffic over 2 s of
# quiet and sends FLOOD_N CONNECTs with real usernames (FLOOD_USERS of them, so no username
# reaches the threshold: only the address does) and random tkn_ passwords.
bench_flood() {
    [[ -n "$PLUGIN_SO" ]] || { warn "flood: no plugin, skipped"; return; }
    log "flood: $FLOOD_N CONNECTs with wrong passwords per run, variants bare ${FLOOD_VARIANTS[*]}"
    start_redis f_redis
    mint "${PORT[f_redis]}" "$FLOOD_USERS" "$TMP/f.creds" >/dev/null
    local variants=(bare "${FLOOD_VARIANTS[@]}") v rep line redis_args rate
    for rep in $(seq 1 "$REPS"); do
        for v in $(rotate "$rep" "${variants[@]}"); do
            start_broker "f_$v" "$v" "${PORT[f_redis]}"
            redis_args=()
            if [[ $v != bare ]]; then
                sleep 1.5
                redis_args=(--redis-port "${PORT[f_redis]}" --idle-ms 2000)
            fi
            line=$("$B/auth_flood" --port "${PORT[f_$v]}" --creds "$TMP/f.creds" \
                --count "$FLOOD_N" --broker-pid "${PID[f_$v]}" "${redis_args[@]}")
            [[ "$(field "$line" errors)" == 0 ]] || warn "flood/$v: errors=$(field "$line" errors)"
            if [[ $v == bare ]]; then
                rate=$(field "$line" ok_rate)
            else
                rate=$(field "$line" refused_rate)
                [[ "$(field "$line" ok)" == 0 ]] || warn "flood/$v: $(field "$line" ok) wrong passwords accepted"
                record flood "$v" cmds "$(field "$line" cmds_per_refused)"
                record flood "$v" raw "$(field "$line" redis_cmds)"
                record flood "$v" net "$(field "$line" redis_net)"
            fi
            record flood "$v" rate "$rate"
            record flood "$v" p50 "$(field "$line" p50_us)"
            record flood "$v" p99 "$(field "$line" p99_us)"
            record flood "$v" cpu "$(field "$line" broker_cpu_us)"
            stop_pid "${PID[f_$v]}"
        done
        for v in "${FLOOD_VARIANTS[@]}"; do
            record_ratio flood "$v" bare rate
        done
        log "flood: rep $rep/$REPS done"
    done
    stop_pid "${PID[f_redis]}"

    echo
    echo "### failed-auth flood ($FLOOD_N CONNECTs, real usernames, random tkn_ passwords, one client; medians of $REPS runs)"
    echo
    echo "(answers/s: CONNACKs per second, accepted for bare (no authentication), refused for the"
    echo "plugin variants; vs bare: median over runs of the ratio to the bare broker's run; broker"
    echo "CPU: broker thread per attempt; Redis cmds: commands Redis ran during the flood, and net"
    echo "of the plugin's background traffic (event reads, replica heartbeats) measured over 2 s of"
    echo "quiet before it, per refused attempt; a fresh broker per run; _nobackoff: plugin_opt_backoff off)"
    echo
    printf '| %-22s | %10s | %11s | %7s | %7s | %8s | %13s | %14s | %15s |\n' variant "answers/s" range "vs bare" "p50 us" "p99 us" "broker CPU us" "Redis cmds raw" "per refused net"
    printf '| %-22s | %10s | %11s | %7s | %7s | %8s | %13s | %14s | %15s |\n' --- ---: ---: ---: ---: ---: ---: ---: ---:
    for v in "${variants[@]}"; do
        printf '| %-22s | %10s | %11s | %7s | %7s | %8s | %13s | %14s | %15s |\n' "$v" \
            "$(median flood "$v" rate)" "$(spread flood "$v" rate)" "$(median flood "$v" rate_ratio)" \
            "$(median flood "$v" p50)" "$(median flood "$v" p99)" "$(median flood "$v" cpu)" \
            "$(median_int flood "$v" raw)" "$(median4 flood "$v" cmds)"
    done
}

# ---- tokend: variants, processes, CPU accounting -------------------------------------------
# The tokend variants that exist as binaries (a variant that did not build is skipped).
TOKEND_LIVE=()
find_tokend_variants() {
    local v
    for v in "${TOKEND_VARIANTS[@]}"; do
        local b; b=$(variant_build "$v")
        if [[ -x "${TOKEND_BIN[$b]:-}" && -x "${TOKENCTL_BIN[$b]:-}" ]]; then
            TOKEND_LIVE+=("$v")
        else
            warn "tokend variant $v: no binary (${TOKEND_BIN[$b]:-unknown variant}), skipped"
        fi
    done
}

declare -A FLAGS_OF
has_flag() {  # binary flag: whether the binary's --help lists the flag
    [[ -n "${FLAGS_OF[$1]:-}" ]] || FLAGS_OF[$1]=" $("$1" --help 2>/dev/null | grep -oE -- '--[a-z0-9-]+' | tr '\n' ' ')"
    [[ "${FLAGS_OF[$1]}" == *" $2 "* ]]
}

declare -A ORG_ID SECRET_KEY
IGNORED_FLAGS=()
# start_tokend NAME VARIANT REDIS_PORT [FLAG VALUE]...: tokend with --threads and, when it
# has them, --io-threads and the given flags (a flag the variant does not know is noted in
# the report, not passed). Sets PORT[NAME] and PID[NAME].
start_tokend() {
    local name="$1" v="$2" rport="$3" bin="${TOKEND_BIN[$(variant_build "$2")]}" port; shift 3
    port=$(free_port)
    local args=(--redis-url "redis://127.0.0.1:$rport" --listen "127.0.0.1:$port"
        --threads "$(variant_threads "$v")")
    set -- --io-threads "$IO_THREADS" "$@"
    while [[ $# -gt 1 ]]; do
        if has_flag "$bin" "$1"; then
            args+=("$1" "$2")
        elif ! in_list "$v:$1" "${IGNORED_FLAGS[@]}"; then
            IGNORED_FLAGS+=("$v:$1")
        fi
        shift 2
    done
    [[ $# -eq 0 ]] || die "start_tokend: flag '$1' without a value"
    spawn "$name" "$bin" "${args[@]}"
    PORT[$name]=$port; PID[$name]=$LAST_PID
    wait_port "$port" "$LAST_PID" || die "tokend $name did not start: $(tail -3 "$TMP/$name.log")"
}

report_ignored_flags() {
    if [[ ${#IGNORED_FLAGS[@]} -gt 0 ]]; then
        echo
        echo "(flags a variant does not have, not passed: ${IGNORED_FLAGS[*]})"
    fi
}

make_org() {  # variant redis_port: an organization with token auth on, made by its tokenctl
    local out
    out=$("${TOKENCTL_BIN[$(variant_build "$1")]}" --redis-url "redis://127.0.0.1:$2" org create --name "bench-$1" \
        --token-auth on --json) || die "tokenctl ($1) cannot create an organization"
    ORG_ID[$1]=$(sed -n 's/.*"organization_id": *"\([^"]*\)".*/\1/p' <<<"$out")
    SECRET_KEY[$1]=$(sed -n 's/.*"secret_key": *"\([^"]*\)".*/\1/p' <<<"$out")
    [[ -n "${ORG_ID[$1]}" && -n "${SECRET_KEY[$1]}" ]] || die "tokenctl ($1) said: $out"
}

proc_ticks() {  # pid: "utime stime" in clock ticks, from /proc/<pid>/stat
    sed 's/.*) //' "/proc/$1/stat" | awk '{print $12, $13}'
}

thread_ticks() {  # pid: one line per thread, "tid comm ticks" (utime + stime)
    awk '{ o = index($0, "("); c = index($0, ") "); comm = substr($0, o + 1, c - o - 1)
           gsub(/[^A-Za-z0-9_.-]/, "_", comm); split(substr($0, c + 2), f, " ")
           print $1, comm, f[12] + f[13] }' /proc/"$1"/task/*/stat 2>/dev/null
}

HZ=$(getconf CLK_TCK)
us_per() {  # ticks count: microseconds per item
    awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }'
}

# ---- tokend: POST /v2/tokens/create under wrk --------------------------------------------------
wrk_line() {  # url: "rate= requests= p50_us= p99_us= non2xx=" from wrk --latency output
    wrk -t2 -c16 -d"${WRK_S}s" --latency -s "$ROOT/bench/wrk_create.lua" "$1" 2>&1 | awk '
        function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000;
                         if (v ~ /s$/) return v * 1000000; return v }
        /Requests\/sec:/ { rate = $2 }
        / requests in / { requests = $1 }
        /^ +99%/ { p99 = us($2) }
        /^ +50%/ { p50 = us($2) }
        /Non-2xx/ { bad = $NF }
        END { printf "rate=%s requests=%d p50_us=%s p99_us=%s non2xx=%d\n", rate, requests, p50, p99, bad }'
}

# One wrk run against a row, with the CPU that the row's server and its Redis spent in it.
measure_create() {  # row url server_pid redis_pid (redis_pid may be "")
    local row="$1" url="$2" spid="$3" rpid="$4" line t0 t1 r0=0 r1=0 n
    read -r -a t0 < <(proc_ticks "$spid")
    [[ -n "$rpid" ]] && r0=$(proc_ticks "$rpid" | awk '{print $1 + $2}')
    thread_ticks "$spid" >"$TMP/threads.before"
    line=$(wrk_line "$url")
    read -r -a t1 < <(proc_ticks "$spid")
    [[ -n "$rpid" ]] && r1=$(proc_ticks "$rpid" | awk '{print $1 + $2}')
    thread_ticks "$spid" >"$TMP/threads.after"
    n=$(field "$line" requests)
    [[ "$(field "$line" non2xx)" == 0 ]] || warn "tokend/$row: $(field "$line" non2xx) non-2xx answers"
    record tokend "$row" rate "$(field "$line" rate)"
    record tokend "$row" p50 "$(field "$line" p50_us)"
    record tokend "$row" p99 "$(field "$line" p99_us)"
    record tokend "$row" user "$(us_per $((t1[0] - t0[0])) "$n")"
    record tokend "$row" sys "$(us_per $((t1[1] - t0[1])) "$n")"
    record tokend "$row" server "$(us_per $((t1[0] + t1[1] - t0[0] - t0[1])) "$n")"
    if [[ -n "$rpid" ]]; then
        record tokend "$row" redis "$(us_per $((r1 - r0)) "$n")"
        record tokend "$row" total "$(us_per $((t1[0] + t1[1] - t0[0] - t0[1] + r1 - r0)) "$n")"
    fi
    # By thread: the first thread ("main") and the others grouped by name.
    local group threads busy ticks
    while read -r group threads busy ticks; do
        echo "$group" >>"$R/tokend_groups.$row"
        record tokend_threads "$row.$group" threads "$threads"
        record tokend_threads "$row.$group" busy "$busy"
        record tokend_threads "$row.$group" us "$(us_per "$ticks" "$n")"
    done < <(awk -v pid="$spid" 'NR == FNR { before[$1] = $3; next }
        { g = ($1 == pid) ? "main" : $2; d = $3 - before[$1]; threads[g]++; ticks[g] += d
          if (d > 0) busy[g]++ }
        END { for (g in threads) print g, threads[g], busy[g] + 0, ticks[g] }' \
        "$TMP/threads.before" "$TMP/threads.after")
}

# BENCH_PERF=1: a flat perf profile of each tokend variant over one more wrk run (not
# counted in the tables), by shared object and by symbol.
profile_tokend() {  # variant url pid
    command -v perf >/dev/null || { warn "BENCH_PERF: no perf"; return; }
    local out="$BUILD_DIR/tokend-profile-$1.txt" data="$TMP/perf-$1.data"
    perf record -q -F 1999 -p "$3" -o "$data" -- sleep "$WRK_S" >/dev/null 2>&1 &
    local ppid=$!
    sleep 0.2
    wrk_line "$2" >/dev/null
    wait "$ppid" || true
    {
        echo "# perf record -F 1999 -p <tokend $1> during wrk -t2 -c16 -d${WRK_S}s (create)"
        perf report -i "$data" --stdio --no-children --sort dso 2>/dev/null | awk 'NF && n++ < 25'
        perf report -i "$data" --stdio --no-children --sort dso,sym 2>/dev/null | awk 'NF && n++ < 60 { print substr($0, 1, 160) }'
    } >"$out"
    log "tokend: profile of $1 in $out"
}

bench_tokend() {
    local variants=("${TOKEND_LIVE[@]}") v
    [[ ${#variants[@]} -gt 0 ]] || { warn "tokend: no tokend variant built, skipped"; return; }
    log "tokend: starting Redis, tokend (${variants[*]}) and the trivial server"
    declare -A url spid rpid
    for v in "${variants[@]}"; do
        start_redis "t_redis_$v"
        make_org "$v" "${PORT[t_redis_$v]}"
        start_tokend "t_$v" "$v" "${PORT[t_redis_$v]}"
        url[$v]="http://127.0.0.1:${PORT[t_$v]}/v2/tokens/create"
        spid[$v]=${PID[t_$v]}; rpid[$v]=${PID[t_redis_$v]}
    done
    local size
    size=$(curl -s -X POST -H 'Content-Type: application/json' \
        -d "{\"organization_id\":\"${ORG_ID[${variants[0]}]}\",\"secret_key\":\"${SECRET_KEY[${variants[0]}]}\",\"user_email\":\"bench-000000@example.com\"}" \
        "${url[${variants[0]}]}" | wc -c)
    local sport; sport=$(free_port)
    spawn t_trivial "$B/trivial_http_server" --listen "$sport" --response-bytes "$size" \
        --io-threads "$IO_THREADS" --max-seconds 900
    PID[t_trivial]=$LAST_PID
    wait_port "$sport" "$LAST_PID" || die "trivial server did not start"
    url[trivial]="http://127.0.0.1:$sport/v2/tokens/create"; spid[trivial]=$LAST_PID; rpid[trivial]=""

    local rows=("${variants[@]}" trivial) rep row
    for rep in $(seq 1 "$REPS"); do
        for row in $(rotate "$rep" "${rows[@]}"); do
            BENCH_ORG_ID="${ORG_ID[$row]:-}" BENCH_SECRET_KEY="${SECRET_KEY[$row]:-}" \
                measure_create "$row" "${url[$row]}" "${spid[$row]}" "${rpid[$row]}"
        done
        for row in "${rows[@]}"; do
            record tokend "$row" vs_trivial "$(ratio "$(last tokend "$row" rate)" "$(last tokend trivial rate)")"
            if in_list baseline "${rows[@]}"; then
                record tokend "$row" vs_base "$(ratio "$(last tokend "$row" rate)" "$(last tokend baseline rate)")"
                record tokend "$row" total_vs_base "$(ratio "$(last tokend "$row" total)" "$(last tokend baseline total)")"
            fi
        done
        log "tokend: rep $rep/$REPS done"
    done
    if [[ "${BENCH_PERF:-0}" == 1 ]]; then
        for v in "${variants[@]}"; do
            BENCH_ORG_ID="${ORG_ID[$v]}" BENCH_SECRET_KEY="${SECRET_KEY[$v]}" \
                profile_tokend "$v" "${url[$v]}" "${spid[$v]}"
        done
    fi
    for v in "${variants[@]}"; do stop_pid "${PID[t_$v]}"; stop_pid "${PID[t_redis_$v]}"; done
    stop_pid "${PID[t_trivial]}"

    echo
    echo "### tokend POST /v2/tokens/create (wrk -t2 -c16 ${WRK_S}s keep-alive, $size-byte answers; medians of $REPS runs)"
    echo
    echo "(baseline: tokend at ${BASELINE_SHA:0:12} (BENCH_BASELINE_REV=$BASELINE_REV); current: this tree;"
    echo "tokend --threads $HTTP_THREADS (a row <variant>@N: --threads N) --io-threads $IO_THREADS where it"
    echo "has the flag, one Redis each;"
    echo "trivial: Boost.Beast server with $IO_THREADS I/O threads answering a fixed 200 of the same size,"
    echo "no Redis (the physical limit); vs: median over runs of the ratio to the row run seconds apart)"
    echo
    printf '| %-8s | %10s | %11s | %11s | %10s | %9s | %9s |\n' server "requests/s" range "vs baseline" "vs trivial" "p50 us" "p99 us"
    printf '| %-8s | %10s | %11s | %11s | %10s | %9s | %9s |\n' --- ---: ---: ---: ---: ---: ---:
    for row in "${rows[@]}"; do
        printf '| %-8s | %10s | %11s | %11s | %10s | %9s | %9s |\n' "$row" "$(median tokend "$row" rate)" \
            "$(spread tokend "$row" rate)" "$(median tokend "$row" vs_base)" \
            "$(median tokend "$row" vs_trivial)" "$(median tokend "$row" p50)" "$(median tokend "$row" p99)"
    done
    echo
    echo "#### CPU per create (utime/stime from /proc/<pid>/stat over the same wrk runs / wrk's request count; $HZ ticks/s)"
    echo
    printf '| %-8s | %10s | %10s | %10s | %10s | %10s | %14s |\n' server "user us" "sys us" "server us" "Redis us" "total us" "total vs base"
    printf '| %-8s | %10s | %10s | %10s | %10s | %10s | %14s |\n' --- ---: ---: ---: ---: ---: ---:
    for row in "${rows[@]}"; do
        printf '| %-8s | %10s | %10s | %10s | %10s | %10s | %14s |\n' "$row" "$(median tokend "$row" user)" \
            "$(median tokend "$row" sys)" "$(median tokend "$row" server)" "$(median tokend "$row" redis)" \
            "$(median tokend "$row" total)" "$(median tokend "$row" total_vs_base)"
    done
    echo
    echo "#### server CPU per create by thread (/proc/<pid>/task/*/stat; main: the first thread, the others by name)"
    echo
    printf '| %-8s | %-16s | %8s | %12s | %10s |\n' server threads count "busy in run" "us/create"
    printf '| %-8s | %-16s | %8s | %12s | %10s |\n' --- --- ---: ---: ---:
    local group
    for row in "${rows[@]}"; do
        for group in $(sort -u "$R/tokend_groups.$row" 2>/dev/null); do
            printf '| %-8s | %-16s | %8s | %12s | %10s |\n' "$row" "$group" \
                "$(median_int tokend_threads "$row.$group" threads)" "$(median_int tokend_threads "$row.$group" busy)" \
                "$(median tokend_threads "$row.$group" us)"
        done
    done
    report_ignored_flags
}

# ---- tokend: thousands of idle or stalled connections ------------------------------------
bench_tokend_idle() {
    local variants=("${TOKEND_LIVE[@]}") v
    [[ ${#variants[@]} -gt 0 ]] || { warn "tokend_idle: no tokend variant built, skipped"; return; }
    local need=$((IDLE_N + 200))
    [[ "$(ulimit -n)" == unlimited || "$(ulimit -n)" -ge $need ]] ||
        { warn "tokend_idle: ulimit -n is $(ulimit -n), $need needed: skipped"; return; }
    log "tokend_idle: $IDLE_N connections, modes ${IDLE_MODES[*]}, tokend ${variants[*]}"
    for v in "${variants[@]}"; do
        start_redis "i_redis_$v"
        make_org "$v" "${PORT[i_redis_$v]}"
    done
    # Room for the held connections and the probes under the total cap, and timeouts longer
    # than a run, so that what is measured is the cost of holding them, not their eviction.
    # BENCH_IDLE_TOKEND_FLAGS replaces them ("" runs tokend with its defaults).
    local limits=(--max-connections $((IDLE_N + 1000)) --idle-timeout-ms 120000 --header-timeout-ms 120000)
    [[ -v BENCH_IDLE_TOKEND_FLAGS ]] && limits=($BENCH_IDLE_TOKEND_FLAGS)
    local rep mode line m rows=() servers=("${variants[@]}" trivial)
    ORG_ID[trivial]=org_trivial; SECRET_KEY[trivial]=sk_trivial  # it answers 200 to anything
    for mode in "${IDLE_MODES[@]}"; do
        for v in "${servers[@]}"; do rows+=("$v.$mode"); done
    done
    for rep in $(seq 1 "$IDLE_REPS"); do
        for mode in "${IDLE_MODES[@]}"; do
            for v in $(rotate "$rep" "${servers[@]}"); do
                if [[ $v == trivial ]]; then  # the same I/O threads, a fresh one per run too
                    PORT[i_server]=$(free_port)
                    spawn i_server "$B/trivial_http_server" --listen "${PORT[i_server]}" \
                        --io-threads "$IO_THREADS" --max-seconds 300
                    PID[i_server]=$LAST_PID
                    wait_port "${PORT[i_server]}" "$LAST_PID" || die "trivial server did not start"
                else
                    start_tokend i_server "$v" "${PORT[i_redis_$v]}" "${limits[@]}"  # fresh per run
                fi
                line=$(BENCH_ORG_ID="${ORG_ID[$v]}" BENCH_SECRET_KEY="${SECRET_KEY[$v]}" \
                    "$B/idle_connections" --port "${PORT[i_server]}" --pid "${PID[i_server]}" \
                    --count "$IDLE_N" --mode "$mode") || warn "tokend_idle/$v/$mode: probe failed"
                echo "$line" >>"$TMP/idle.lines"
                stop_pid "${PID[i_server]}"
                [[ "$(field "$line" held)" == "$IDLE_N" ]] ||
                    warn "tokend_idle/$v/$mode: held $(field "$line" held) of $IDLE_N (errors $(field "$line" errors))"
                for m in held connect_s rss_before_kb rss_held_kb per_conn_bytes threads_before \
                    threads_held closed_settle answered_settle closed_end answered_end hold_s \
                    ka_reconnects ka_warm_requests ka_warm_failed recover_ms; do
                    record idle "$v.$mode" "$m" "$(field "$line" "$m")"
                done
                for m in base_fresh base_ka base_create fresh ka create; do
                    record idle "$v.$mode" "${m}_ok" "$(field "$line" "${m}_ok")"
                    record idle "$v.$mode" "${m}_tried" "$(field "$line" "${m}_tried")"
                    record idle "$v.$mode" "${m}_p50" "$(field "$line" "${m}_p50_ms")"
                    record idle "$v.$mode" "${m}_p99" "$(field "$line" "${m}_p99_ms")"
                done
                echo "$(field "$line" statuses_end)" >"$R/idle.$v.$mode.statuses"
            done
        done
        log "tokend_idle: rep $rep/$IDLE_REPS done"
    done
    for v in "${variants[@]}"; do stop_pid "${PID[i_redis_$v]}"; done

    local row
    echo
    echo "### tokend with $IDLE_N idle / stalled connections held open (medians of $IDLE_REPS runs, a fresh tokend per run)"
    echo
    echo "(trivial: the Beast server of the tokend section, $IO_THREADS I/O threads, 200 to any request;"
    echo "held connections from 127.1.0.1, 127.1.0.2, ... 100 per address; idle: nothing sent;"
    echo "stalled: sent \"POST /v2/tokens/cre\" and nothing more. tokend flags: ${limits[*]:-none}"
    echo "where it has them (BENCH_IDLE_TOKEND_FLAGS; by default so that neither a cap nor a timeout"
    echo "removes the held connections during a run)."
    echo "closed / answered: held connections that tokend closed, or answered (statuses of the last run),"
    echo "1 s after the flood and at the end of the run, held s later; recover: from closing the held"
    echo "connections to the next 200 on /healthz)"
    echo
    printf '| %-17s | %6s | %9s | %13s | %11s | %14s | %15s | %15s | %15s | %-10s | %6s | %10s |\n' \
        "server.mode" held "connect s" "RSS before kB" "RSS held kB" "bytes per conn" "threads (held)" "closed 1s / end" "answered 1s/end" statuses "held s" "recover ms"
    printf '| %-17s | %6s | %9s | %13s | %11s | %14s | %15s | %15s | %15s | %-10s | %6s | %10s |\n' --- ---: ---: ---: ---: ---: ---: ---: ---: --- ---: ---:
    for row in "${rows[@]}"; do
        printf '| %-17s | %6s | %9s | %13s | %11s | %14s | %15s | %15s | %15s | %-10s | %6s | %10s |\n' "$row" \
            "$(median_int idle "$row" held)" "$(median idle "$row" connect_s)" \
            "$(median_int idle "$row" rss_before_kb)" "$(median_int idle "$row" rss_held_kb)" \
            "$(median_int idle "$row" per_conn_bytes)" \
            "$(median_int idle "$row" threads_before) ($(median_int idle "$row" threads_held))" \
            "$(median_int idle "$row" closed_settle) / $(median_int idle "$row" closed_end)" \
            "$(median_int idle "$row" answered_settle) / $(median_int idle "$row" answered_end)" \
            "$(cat "$R/idle.$row.statuses" 2>/dev/null || echo -)" \
            "$(median idle "$row" hold_s)" "$(median idle "$row" recover_ms)"
    done
    echo
    echo "#### latency from 127.0.0.1: quiet server vs with the connections held"
    echo
    echo "(fresh: GET /healthz, each on a new connection; keep-alive: GET /healthz on one connection,"
    echo "reopened when closed, under the flood one opened before it and used once a second while the"
    echo "flood opened (a backend's pooled connection); create: POST /v2/tokens/create through a real"
    echo "organization, each on a new connection. ok/tried: answered 200 / tried; a probe gives up"
    echo "after 1 s (create: 2 s) and a series after 3 s; p50/p99 over the answered ones; reconnects:"
    echo "keep-alive connections reopened under the flood)"
    echo
    printf '| %-17s | %-10s | %10s | %10s | %10s | %10s | %10s | %10s | %10s |\n' "server.mode" series "ok/tried quiet" "p50 ms" "p99 ms" "ok/tried held" "p50 ms" "p99 ms" reconnects
    printf '| %-17s | %-10s | %10s | %10s | %10s | %10s | %10s | %10s | %10s |\n' --- --- ---: ---: ---: ---: ---: ---: ---:
    local s label reconnects
    for row in "${rows[@]}"; do
        for s in fresh ka create; do
            label=$s; reconnects="-"
            [[ $s == ka ]] && { label=keep-alive; reconnects=$(median_int idle "$row" ka_reconnects); }
            printf '| %-17s | %-10s | %10s | %10s | %10s | %10s | %10s | %10s | %10s |\n' "$row" "$label" \
                "$(median_int idle "$row" "base_${s}_ok")/$(median_int idle "$row" "base_${s}_tried")" \
                "$(median idle "$row" "base_${s}_p50")" "$(median idle "$row" "base_${s}_p99")" \
                "$(median_int idle "$row" "${s}_ok")/$(median_int idle "$row" "${s}_tried")" \
                "$(median idle "$row" "${s}_p50")" "$(median idle "$row" "${s}_p99")" "$reconnects"
        done
    done
    report_ignored_flags
}

# ---- run ---------------------------------------------------------------------------------
START=$(date +%s)
echo "## mosquitto-token-auth benchmarks ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
echo "- $("$MOSQUITTO" -h 2>/dev/null | head -1), $(redis-server --version | cut -d' ' -f1-3)"
echo "- plugin variants: ${PLUGIN_VARIANTS[*]:-none (plugin not built)}; reps: $REPS; quick: $QUICK"
if [[ $NEED_TOKEND -eq 1 ]]; then
    find_tokend_variants
    echo "- tokend variants: ${TOKEND_LIVE[*]:-none}; baseline: ${BASELINE_SHA:0:12} (BENCH_BASELINE_REV=$BASELINE_REV)"
fi
for section in "${SECTIONS[@]}"; do
    "bench_$section"
done
echo
if [[ ${#WARNINGS[@]} -gt 0 ]]; then
    echo "warnings:"
    printf -- '- %s\n' "${WARNINGS[@]}"
fi
echo "total: $(($(date +%s) - START)) s"
