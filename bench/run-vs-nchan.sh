#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the same satbench workloads against nginx + nchan and against
# satellited, alternating servers (nchan, satellited, nchan, ...), and writes a
# Markdown report with medians, Satellite/nchan ratios, the machine and the
# exact commands. Every server and every satbench run is bounded in time.
#
# usage: bench/run-vs-nchan.sh [--rounds N] [--subs N] [--duration S]
#                              [--out FILE] [--work DIR] [--build DIR] [--no-build]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build-bench
OUT=$REPO/bench/results/vs-nchan.md
WORK=""
ROUNDS=3
SUBS=10000
MANY_CHANNELS=1000
DURATION=10
WORKERS=2
THREADS=2
PUBLISHERS=8
WINDOW=32
SIZE=100
NCHAN_PORT=${NCHAN_PORT:-18090}
SAT_PORT=${SAT_PORT:-18091}
DO_BUILD=1
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so

usage() {
    sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --subs) SUBS=$2; shift 2 ;;
    --channels) MANY_CHANNELS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run-vs-nchan.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/satbench-vs-nchan.XXXXXX)
mkdir -p "$WORK" "$(dirname "$OUT")"
COMMANDS=$WORK/commands.txt
: >"$COMMANDS"
SATBENCH=$BUILD/bench/satbench
SATELLITED=$BUILD/agent/satellited
# Seconds one satbench run may take: connecting, settling, publishing, draining.
RUN_LIMIT=$((DURATION + 120))
SERVER_PID=""
SERVER_KIND=""

log() { printf '[run-vs-nchan] %s\n' "$*" >&2; }

# The subscribers, publishers and libuv's descriptors of one process must fit
# under the open-file limit; raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((SUBS + 200)) ]; then
    echo "run-vs-nchan.sh: open-file limit $(ulimit -n) is below --subs $SUBS + 200" >&2
    exit 1
fi

install_nchan() {
    if command -v nginx >/dev/null && [ -f "$NCHAN_MODULE" ]; then
        return
    fi
    log "installing nginx and libnginx-mod-nchan from Debian"
    echo "apt-get install -y --no-install-recommends nginx libnginx-mod-nchan" >>"$COMMANDS"
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends \
        nginx libnginx-mod-nchan >"$WORK/apt.log" 2>&1
    # Debian starts the packaged nginx service on install; the benchmark runs
    # its own instance, so stop the service if the package started it.
    if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
        systemctl stop nginx
    fi
}

build() {
    local cfg=(cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSAT_BUILD_BENCH=ON)
    local bld=(cmake --build "$BUILD" --target satellited satbench -j"$(nproc)")

    log "building satellited and satbench (Release) in $BUILD"
    printf '%s\n%s\n' "${cfg[*]}" "${bld[*]}" >>"$COMMANDS"
    "${cfg[@]}" >"$WORK/cmake.log" 2>&1
    "${bld[@]}" >>"$WORK/cmake.log" 2>&1
}

wait_port() {
    local port=$1 i

    for i in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "run-vs-nchan.sh: nothing listens on 127.0.0.1:$port after 10 s" >&2
    return 1
}

start_nchan() {
    local dir=$WORK/nginx

    mkdir -p "$dir"
    sed -e "s#@NCHAN_MODULE@#$NCHAN_MODULE#" -e "s#@WORKERS@#$WORKERS#" \
        -e "s#@DIR@#$dir#g" -e "s#@PORT@#$NCHAN_PORT#" \
        "$REPO/bench/nginx-nchan.conf.in" >"$dir/nginx.conf"
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' &
    SERVER_PID=$!
    SERVER_KIND=nchan
    wait_port "$NCHAN_PORT"
    sleep 0.3
    # Connections land on the worker processes: read their memory and CPU.
    SERVER_PIDS=$(ps -o pid= --ppid "$SERVER_PID" | tr -s ' \n' ' ')
}

start_satellited() {
    "$SATELLITED" --push-listen "127.0.0.1:$SAT_PORT" --no-admin --no-snmp --workers "$WORKERS" \
        --log-level warn --set push.max_connections=19000 2>>"$WORK/satellited.log" &
    SERVER_PID=$!
    SERVER_KIND=satellited
    wait_port "$SAT_PORT"
    SERVER_PIDS=$SERVER_PID
}

stop_server() {
    local i

    [ -n "$SERVER_PID" ] || return 0
    if [ "$SERVER_KIND" = nchan ]; then
        kill -QUIT "$SERVER_PID" 2>/dev/null || true
    else
        kill -TERM "$SERVER_PID" 2>/dev/null || true
    fi
    for i in $(seq 1 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
trap stop_server EXIT

# run_one SERVER SCENARIO ROUND satbench-arguments...
# Starts a fresh server, runs satbench against it on channels unique to this
# run, stores the JSON result and stops the server.
run_one() {
    local server=$1 scenario=$2 round=$3
    shift 3
    local tag="$scenario-r$round" sub pub json=$WORK/$scenario.$server.$round.json
    local pids=() p

    if [ "$server" = nchan ]; then
        start_nchan
        sub="127.0.0.1:$NCHAN_PORT/sub/$tag-{n}"
        pub="http://127.0.0.1:$NCHAN_PORT/pub/$tag-{n}"
    else
        start_satellited
        sub="127.0.0.1:$SAT_PORT/ch/$tag-{n}"
        pub="http://127.0.0.1:$SAT_PORT/ch/$tag-{n}?X-Atmosphere-Transport=polling"
    fi
    for p in $SERVER_PIDS; do pids+=(--pid "$p"); done
    local cmd=(timeout "$RUN_LIMIT" "$SATBENCH" --url "ws://$sub" --pub-url "$pub" --threads "$THREADS"
        --publishers "$PUBLISHERS" --window "$WINDOW" --size "$SIZE" --timeout "$((RUN_LIMIT - 5))"
        --label "$server" --json "$json" "${pids[@]}" "$@")
    echo "${cmd[*]}" >>"$COMMANDS"
    log "$scenario round $round: $server"
    if ! "${cmd[@]}" >>"$WORK/table.txt"; then
        log "satbench failed or timed out: $scenario $server round $round"
        rm -f "$json"
    fi
    stop_server
    sleep 1
}

# median_field SCENARIO SERVER FIELD: median over the rounds' JSON results.
median_field() {
    python3 - "$WORK" "$1" "$2" "$3" <<'PY'
import glob, json, statistics, sys
work, scenario, server, field = sys.argv[1:]
values = [json.load(open(p))[field] for p in sorted(glob.glob(f"{work}/{scenario}.{server}.*.json"))]
print(statistics.median(values) if values else 0)
PY
}

run_scenarios() {
    local r rate

    for r in $(seq 1 "$ROUNDS"); do
        for s in nchan satellited; do
            run_one "$s" idle "$r" --idle --subs "$SUBS" --channels 100 --duration 3
        done
    done
    for r in $(seq 1 "$ROUNDS"); do
        for s in nchan satellited; do
            run_one "$s" fanout "$r" --subs "$SUBS" --channels 1 --rate 0 --duration "$DURATION"
        done
        run_one satellited fanout-atmosphere "$r" --atmosphere --subs "$SUBS" --channels 1 \
            --rate 0 --duration "$DURATION"
    done
    for r in $(seq 1 "$ROUNDS"); do
        for s in nchan satellited; do
            run_one "$s" channels "$r" --subs "$SUBS" --channels "$MANY_CHANNELS" --rate 0 \
                --duration "$DURATION"
        done
    done
    # Equal load for the latency comparison: half of the lower of the two
    # servers' median maximum publish rates in the fan-out scenario.
    rate=$(python3 -c "import sys; print(max(1.0, 0.5 * min(float(sys.argv[1]), float(sys.argv[2]))))" \
        "$(median_field fanout nchan publish_per_s)" "$(median_field fanout satellited publish_per_s)")
    echo "$rate" >"$WORK/latency-rate.txt"
    for r in $(seq 1 "$ROUNDS"); do
        for s in nchan satellited; do
            run_one "$s" latency "$r" --subs "$SUBS" --channels 1 --rate "$rate" --duration "$DURATION"
        done
    done
}

machine() {
    echo "- CPUs (nproc): $(nproc); CPU model: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "- Kernel: $(uname -sr); memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "- nginx $(nginx -v 2>&1 | sed 's#.*/##'), libnginx-mod-nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null || echo unknown)"
    echo "- satellited $("$SATELLITED" --version 2>&1 | head -1), CMake build type Release"
    echo "- Servers: $WORKERS nginx worker processes / $WORKERS satellited workers; satbench: $THREADS loops, $PUBLISHERS publishing connections, window $WINDOW messages; all on this machine over 127.0.0.1"
}

write_report() {
    {
        machine >"$WORK/machine.txt"
        python3 - "$WORK" "$ROUNDS" "$SUBS" "$MANY_CHANNELS" "$DURATION" "$SIZE" <<'PY'
import glob, json, statistics, sys
work, rounds, subs, many, duration, size = sys.argv[1:]

def runs(scenario, server):
    return [json.load(open(p)) for p in sorted(glob.glob(f"{work}/{scenario}.{server}.*.json"))]

def med(rs, field):
    return statistics.median([r[field] for r in rs]) if rs else None

def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"

def ratio(a, b):
    return "n/a" if a is None or not b else f"{a / b:.2f}"

def table(scenario, rows, extra=None):
    n, s = runs(scenario, "nchan"), runs(scenario, "satellited")
    print("| metric (median of %d/%d runs) | nchan | Satellite | Satellite/nchan |" % (len(n), len(s)))
    print("|---|---:|---:|---:|")
    for field, label, digits in rows:
        print(f"| {label} | {fmt(med(n, field), digits)} | {fmt(med(s, field), digits)} | {ratio(med(s, field), med(n, field))} |")
    sat = sum(r["gen_saturated"] for r in n + s)
    print(f"\nGenerator saturated (a loop above 90% of a core) in {sat} of {len(n) + len(s)} runs.\n")
    print("Per run (nchan; Satellite): " + "; ".join(
        f"{r['label']} {r['deliveries_per_s']:,.0f}/s p99 {r['latency_p99_ms']:.1f} ms "
        f"{r['rss_per_conn_bytes']:,.0f} B/conn missing {r['missing']}" for r in n + s) + "\n")
    return n, s

common = [("connected", "subscribers connected", 0), ("connect_errors", "connect errors", 0),
          ("dropped", "subscribers dropped", 0), ("missing", "deliveries missing", 0),
          ("server_cpu_pct", "server CPU % (all processes)", 0), ("gen_cpu_max_thread_pct", "satbench busiest loop CPU %", 0)]
print("# Satellite vs nchan: raw report\n")
print(open(f"{work}/machine.txt").read())
print(f"## Idle WebSocket connections ({subs} over 100 channels)\n")
n, s = table("idle", [("rss_per_conn_bytes", "server RSS per connection (bytes)", 0),
                      ("connect_per_s", "connects/s", 0)] + common[:3])
print(f"## Fan-out: 1 channel, {subs} WebSocket subscribers, {size}-byte messages, maximum rate\n")
table("fanout", [("deliveries_per_s", "deliveries/s", 0), ("publish_per_s", "messages published/s", 0),
                 ("latency_p50_ms", "latency p50 (ms)", 2), ("latency_p99_ms", "latency p99 (ms)", 2),
                 ("latency_max_ms", "latency max (ms)", 1), ("publish_errors", "publish errors", 0)] + common)
a = runs("fanout-atmosphere", "satellited")
if a:
    print("Satellite with the Atmosphere protocol parameters (`--atmosphere`: handshake and "
          "length-prefixed messages), same workload: "
          f"{fmt(med(a, 'deliveries_per_s'))} deliveries/s, p99 {fmt(med(a, 'latency_p99_ms'), 2)} ms, "
          f"missing {fmt(med(a, 'missing'))} (median of {len(a)} runs).\n")
print(f"## Many channels: {many} channels x {int(subs) // int(many)} WebSocket subscribers, maximum rate\n")
table("channels", [("deliveries_per_s", "deliveries/s", 0), ("publish_per_s", "messages published/s", 0),
                   ("latency_p50_ms", "latency p50 (ms)", 2), ("latency_p99_ms", "latency p99 (ms)", 2),
                   ("publish_errors", "publish errors", 0)] + common)
rate = open(f"{work}/latency-rate.txt").read().strip()
print(f"## Latency at equal load: fan-out to {subs}, {float(rate):,.0f} messages/s "
      "(half the lower of the two maximum publish rates)\n")
table("latency", [("latency_p50_ms", "latency p50 (ms)", 2), ("latency_p99_ms", "latency p99 (ms)", 2),
                  ("latency_max_ms", "latency max (ms)", 1), ("deliveries_per_s", "deliveries/s", 0)] + common)
print("## Commands\n")
print("```")
print(open(f"{work}/commands.txt").read().rstrip())
print("```")
PY
    } >"$OUT"
    log "report written to $OUT (raw results in $WORK)"
}

install_nchan
[ "$DO_BUILD" = 0 ] || build
run_scenarios
write_report
