#!/usr/bin/env bash
# scripts/bench.sh: the benchmark suite of issue 4 (docs/benchmarks.md). Builds the bench
# tools and the plugin in a Release tree, starts its own Redis / Mosquitto / tokend / proxy
# processes on free 127.0.0.1 ports with generated configs in a temp dir, runs every
# benchmark several times INTERLEAVED across variants (so machine noise hits all variants
# alike) and prints one table per benchmark: medians, and ratios measured in the same run.
#
#   scripts/bench.sh [--quick] [--reps N] [--no-build] [SECTION...]
#   SECTION: connect stall expiry revoke memory tokend   (default: all of them)
#   env: BENCH_BUILD_DIR (default build/bench), TKA_BENCH_PLUGIN_VARIANTS (see below),
#        BENCH_HTTP_THREADS (worker threads of tokend and the trivial server, default 32),
#        BENCH_MOSQUITTO (the broker binary, default: mosquitto from PATH; e.g. an upstream
#        2.1.2 built by scripts/upstream-brokers.sh)
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

plugin_variant_lines() {  # extra mosquitto.conf lines of a plugin variant
    case "$1" in
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
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        connect|stall|expiry|revoke|memory|tokend) SECTIONS+=("$1") ;;
        *) echo "bench.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
[[ ${#SECTIONS[@]} -eq 0 ]] && SECTIONS=(connect stall expiry revoke memory tokend)

if [[ $QUICK -eq 1 ]]; then
    REPS="${REPS:-2}"
    CONNECT_THREADS=(4); WARM_S=1; COLD_N=2000; WARM_N=500
    STALL_S=2; STALL_RATE=200; EXPIRY_N=1000; EXPIRY_TTL=5; MEMORY_N=2000; WRK_S=2; REVOKE_N=1000
else
    REPS="${REPS:-5}"
    CONNECT_THREADS=(1 4); WARM_S=2; COLD_N=8000; WARM_N=1000
    STALL_S=3; STALL_RATE=200; EXPIRY_N=1000; EXPIRY_TTL=6; MEMORY_N=10000; WRK_S=3; REVOKE_N=1000
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
    command -v ss >/dev/null || need+=(iproute2)
    if [[ -x "$ROOT/scripts/install-deps.sh" ]]; then
        "$ROOT/scripts/install-deps.sh" >&2 || log "install-deps.sh failed; continuing"
    fi
    if [[ ${#need[@]} -gt 0 ]]; then
        log "installing ${need[*]}"
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
    fi
}

PLUGIN_SO=""
build() {
    log "building Release tree in $BUILD_DIR"
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
        -DTKA_BUILD_BENCH=ON -DTKA_BUILD_TESTS=OFF >"$BUILD_DIR/bench-cmake.log" 2>&1 ||
        { cat "$BUILD_DIR/bench-cmake.log" >&2; die "cmake failed"; }
    cmake --build "$BUILD_DIR" -j2 --target mqtt_connect_load delay_proxy stall_probe \
        expiry_probe rss_probe mint_tokens revoke_probe trivial_http_server nodelay_preload >&2 || die "bench tools do not build"
    cmake --build "$BUILD_DIR" -j2 --target tokend >&2 || log "tokend does not build: tokend section skipped"
    cmake --build "$BUILD_DIR" -j2 --target mosquitto_token_auth >&2 ||
        log "plugin does not build: plugin variants skipped"
}
mkdir -p "$BUILD_DIR"
install_missing
[[ $BUILD -eq 1 ]] && build
B="$BUILD_DIR/bench"
[[ -x "$B/mqtt_connect_load" ]] || die "no bench tools in $B (build first)"
[[ -f "$BUILD_DIR/plugin/mosquitto_token_auth.so" ]] && PLUGIN_SO="$BUILD_DIR/plugin/mosquitto_token_auth.so"
TOKEND="$BUILD_DIR/tokend/tokend"
MOSQUITTO="${BENCH_MOSQUITTO:-mosquitto}"
log "broker: $MOSQUITTO ($("$MOSQUITTO" -h 2>/dev/null | head -1 || true))"
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

# ---- tokend vs a trivial HTTP server -------------------------------------------------------
wrk_line() {  # url: "rate=... p99_us=... non2xx=..." from wrk --latency output
    wrk -t2 -c16 -d"${WRK_S}s" --latency -s "$ROOT/bench/wrk_create.lua" "$1" 2>&1 | awk '
        function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000;
                         if (v ~ /s$/) return v * 1000000; return v }
        /Requests\/sec:/ { rate = $2 }
        /^ +99%/ { p99 = us($2) }
        /^ +50%/ { p50 = us($2) }
        /Non-2xx/ { bad = $NF }
        /Socket errors/ { err = $0 }
        END { printf "rate=%s p50_us=%s p99_us=%s non2xx=%d\n", rate, p50, p99, bad }'
}

# Worker threads of tokend and of the trivial server: the same for both (tokend's default).
HTTP_THREADS="${BENCH_HTTP_THREADS:-32}"

bench_tokend() {
    [[ -x "$TOKEND" ]] || { warn "tokend: not built, skipped"; return; }
    log "tokend: starting Redis, tokend and the trivial server"
    start_redis t_redis
    local org_line tport sport size
    org_line=$(mint "${PORT[t_redis]}" 0 /dev/null)
    export BENCH_ORG_ID BENCH_SECRET_KEY
    BENCH_ORG_ID=$(field "$org_line" org); BENCH_SECRET_KEY=$(field "$org_line" secret_key)
    tport=$(free_port)
    spawn t_tokend "$TOKEND" --redis-url "redis://127.0.0.1:${PORT[t_redis]}" --listen "127.0.0.1:$tport" \
        --threads "$HTTP_THREADS"
    PID[t_tokend]=$LAST_PID
    wait_port "$tport" "$LAST_PID" || die "tokend did not start: $(tail -3 "$TMP/t_tokend.log")"
    size=$(curl -s -X POST -H 'Content-Type: application/json' \
        -d "{\"organization_id\":\"$BENCH_ORG_ID\",\"secret_key\":\"$BENCH_SECRET_KEY\",\"user_email\":\"bench-000000@example.com\"}" \
        "http://127.0.0.1:$tport/v2/tokens/create" | wc -c)
    # trivial: TCP_NODELAY on (the ceiling); trivial_nagle: cpp-httplib's default, Nagle on;
    # tokend_nodelay: tokend with TCP_NODELAY forced on accepted sockets by an LD_PRELOAD shim.
    declare -A url=([tokend]="http://127.0.0.1:$tport/v2/tokens/create")
    local name nodelay rows=(tokend trivial trivial_nagle)
    if [[ -f "$B/libnodelay_preload.so" ]]; then
        local nport; nport=$(free_port)
        spawn t_tokend_nodelay env LD_PRELOAD="$B/libnodelay_preload.so" "$TOKEND" \
            --redis-url "redis://127.0.0.1:${PORT[t_redis]}" --listen "127.0.0.1:$nport" \
            --threads "$HTTP_THREADS"
        PID[t_tokend_nodelay]=$LAST_PID
        wait_port "$nport" "$LAST_PID" || die "tokend (nodelay) did not start"
        url[tokend_nodelay]="http://127.0.0.1:$nport/v2/tokens/create"
        rows+=(tokend_nodelay)
    fi
    for name in trivial trivial_nagle; do
        sport=$(free_port); nodelay=1; [[ $name == trivial_nagle ]] && nodelay=0
        spawn "t_$name" "$B/trivial_http_server" --listen "$sport" --response-bytes "$size" \
            --nodelay "$nodelay" --threads "$HTTP_THREADS" --max-seconds 900
        PID[t_$name]=$LAST_PID
        wait_port "$sport" "$LAST_PID" || die "trivial server did not start"
        url[$name]="http://127.0.0.1:$sport/v2/tokens/create"
    done

    local rep row line
    for rep in $(seq 1 "$REPS"); do
        for row in $(rotate "$rep" "${rows[@]}"); do
            line=$(wrk_line "${url[$row]}")
            [[ "$(field "$line" non2xx)" == 0 ]] || warn "tokend/$row: $(field "$line" non2xx) non-2xx answers"
            record tokend "$row" rate "$(field "$line" rate)"
            record tokend "$row" p50 "$(field "$line" p50_us)"
            record tokend "$row" p99 "$(field "$line" p99_us)"
        done
        for row in "${rows[@]}"; do record_ratio tokend "$row" trivial rate; done
        log "tokend: rep $rep/$REPS done"
    done
    for row in "${rows[@]}" redis; do stop_pid "${PID[t_$row]}"; done

    echo
    echo "### tokend POST /v2/tokens/create (wrk -t2 -c16 ${WRK_S}s keep-alive, $size-byte answers, $HTTP_THREADS worker threads each; medians of $REPS runs)"
    echo
    echo "(trivial: cpp-httplib server without Redis, TCP_NODELAY on; trivial_nagle: the same with"
    echo "cpp-httplib's default, Nagle on, as tokend; tokend_nodelay: tokend with TCP_NODELAY forced"
    echo "by bench/nodelay_preload.cpp; vs trivial: median of per-run ratios)"
    echo
    printf '| %-14s | %12s | %12s | %9s | %9s |\n' server "requests/s" "vs trivial" "p50 us" "p99 us"
    printf '| %-14s | %12s | %12s | %9s | %9s |\n' --- ---: ---: ---: ---:
    for row in "${rows[@]}"; do
        printf '| %-14s | %12s | %12s | %9s | %9s |\n' "$row" "$(median tokend "$row" rate)" \
            "$(median tokend "$row" rate_ratio)" "$(median tokend "$row" p50)" \
            "$(median tokend "$row" p99)"
    done
}

# ---- run ---------------------------------------------------------------------------------
START=$(date +%s)
echo "## mosquitto-token-auth benchmarks ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
echo "- $("$MOSQUITTO" -h 2>/dev/null | head -1), $(redis-server --version | cut -d' ' -f1-3)"
echo "- plugin variants: ${PLUGIN_VARIANTS[*]:-none (plugin not built)}; reps: $REPS; quick: $QUICK"
for section in "${SECTIONS[@]}"; do
    "bench_$section"
done
echo
if [[ ${#WARNINGS[@]} -gt 0 ]]; then
    echo "warnings:"
    printf -- '- %s\n' "${WARNINGS[@]}"
fi
echo "total: $(($(date +%s) - START)) s"
