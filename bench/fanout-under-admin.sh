#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Measures satellited's fan-out (satbench: N WebSocket subscribers on one
# channel, a fixed publish rate) with and without operators reading the
# registry: a loop of full REST listings of all resources (paged) and a loop
# of snmpbulkwalk of satResourceTable, both running for the whole measured
# window. Runs alternate (without, with, ...); a fresh daemon per run. Prints
# a Markdown table with medians and with/without ratios. Every loop is bounded.
#
# usage: bench/fanout-under-admin.sh [--runs N] [--subs N] [--rate R] [--duration S]
#                                    [--workers N] [--build DIR] [--work DIR] [--out FILE]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build
WORK=""
OUT=""
RUNS=3
SUBS=10000
RATE=20
DURATION=10
WORKERS=2
SETTLE=2
PAGE=1000
# satResourceTable in SATELLITE-MIB: experimental.9999.satObjects(1).9
RESOURCE_OID=.1.3.6.1.3.9999.1.9

usage() {
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --subs) SUBS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "fanout-under-admin.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

BUILD=$(cd "$BUILD" 2>/dev/null && pwd || echo "$BUILD")
SATBENCH=$BUILD/bench/satbench
SATELLITED=$BUILD/agent/satellited
for tool in "$SATBENCH" "$SATELLITED"; do
    if [ ! -x "$tool" ]; then
        echo "fanout-under-admin.sh: $tool missing; build with" >&2
        echo "  cmake -S $REPO -B $BUILD -DCMAKE_BUILD_TYPE=Release && cmake --build $BUILD -j2" >&2
        exit 1
    fi
done
for tool in snmpbulkwalk python3 timeout; do
    command -v "$tool" >/dev/null || { echo "fanout-under-admin.sh: $tool not found" >&2; exit 1; }
done

# satbench opens every subscriber in one process: raise the soft open-file
# limit to the hard one (the daemon, started below, inherits it too).
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((SUBS + 200)) ]; then
    echo "fanout-under-admin.sh: open-file limit $(ulimit -n) is below --subs $SUBS + 200" >&2
    exit 1
fi

[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/fanout-under-admin.XXXXXX)
mkdir -p "$WORK"
COMMANDS=$WORK/commands.txt
: >"$COMMANDS"
# Seconds one satbench run may take: connecting, settling, publishing, draining.
RUN_LIMIT=$((${DURATION%.*} + 90))
SERVER_PID=""
LOAD_PIDS=()

log() { printf '[fanout-under-admin] %s\n' "$*" >&2; }
now() { date +%s.%N; }

stop_load() {
    local p

    [ -n "${RUN_DIR:-}" ] && touch "$RUN_DIR/stop"
    for p in "${LOAD_PIDS[@]}"; do
        # Each loop checks the stop file between iterations, and each
        # iteration is bounded, so this wait is bounded too.
        wait "$p" 2>/dev/null || true
    done
    LOAD_PIDS=()
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

cleanup() {
    stop_load
    stop_server
}
trap cleanup EXIT

# start_server DIR: satellited on free loopback ports, addresses in DIR/ready.json.
start_server() {
    local dir=$1

    (cd "$dir" && exec "$SATELLITED" --push-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
        --snmp-listen udp:127.0.0.1:0 --ready-file "$dir/ready.json" --workers "$WORKERS" \
        --log-level warn --set push.max_connections=$((SUBS + 1000)) \
        --set "admin.token_file=$dir/satellited.token" 2>"$dir/satellited.log") &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        [ -s "$dir/ready.json" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "fanout-under-admin.sh: satellited not ready after 10 s; log: $dir/satellited.log" >&2
    return 1
}

# rest_loop DIR DEADLINE: full listings of /api/v1/resources (pages of $PAGE)
# until DIR/stop exists or the epoch time DEADLINE passes. One line per
# listing in DIR/rest.log: start end pages items total ok.
rest_loop() {
    python3 - "$1" "$2" "$PAGE" <<'PY'
import http.client, json, os, sys, time, urllib.parse
run_dir, deadline, page = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
ready = json.load(open(f"{run_dir}/ready.json"))
host, port = ready["admin"].rsplit(":", 1)
headers = {"Authorization": f"Bearer {ready['token']}"}
out = open(f"{run_dir}/rest.log", "w", buffering=1)
conn = None
while not os.path.exists(f"{run_dir}/stop") and time.time() < deadline:
    start, pages, items, total, ok, cursor = time.time(), 0, 0, -1, 1, None
    try:
        while True:
            if conn is None:
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
            path = f"/api/v1/resources?limit={page}"
            if cursor:
                path += "&cursor=" + urllib.parse.quote(cursor, safe="")
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            doc = json.loads(body)
            pages += 1
            items += len(doc["items"])
            total = doc["total"]
            cursor = doc.get("next_cursor")
            if not cursor or time.time() > deadline:
                break
    except Exception as err:  # noqa: BLE001 - any failure ends this listing only
        ok = 0
        print(f"# {err!r}", file=out)
        if conn is not None:
            conn.close()
        conn = None
        time.sleep(0.1)
    print(f"{start:.6f} {time.time():.6f} {pages} {items} {total} {ok}", file=out)
PY
}

# snmp_loop DIR DEADLINE: snmpbulkwalk of satResourceTable until DIR/stop
# exists or DEADLINE passes. One line per walk in DIR/snmp.log:
# start end exit-status varbinds satResourceUuid-rows.
snmp_loop() {
    local dir=$1 deadline=$2 agent start rc
    agent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snmp"].removeprefix("udp:"))' \
        "$dir/ready.json")
    : >"$dir/snmp.log"
    while [ ! -e "$dir/stop" ] && python3 -c 'import sys,time; sys.exit(time.time() >= float(sys.argv[1]))' "$deadline"; do
        start=$(now)
        rc=0
        timeout 30 snmpbulkwalk -v2c -c public -On -Cr50 -t 5 -r 1 "$agent" "$RESOURCE_OID" \
            >"$dir/walk.out" 2>"$dir/walk.err" || rc=$?
        echo "$start $(now) $rc $(wc -l <"$dir/walk.out") $(grep -c "^$RESOURCE_OID\.1\.2\." "$dir/walk.out" || true)" \
            >>"$dir/snmp.log"
        [ "$rc" = 0 ] || sleep 0.1
    done
}

# run_one KIND N: a fresh daemon, satbench in the foreground and, for KIND
# "load", both operator loops from satbench's start until it ends.
run_one() {
    local kind=$1 n=$2 t0 t1 rc=0

    RUN_DIR=$WORK/$kind.$n
    mkdir -p "$RUN_DIR"
    start_server "$RUN_DIR"
    local push deadline
    push=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["push"])' "$RUN_DIR/ready.json")
    local cmd=(timeout "$RUN_LIMIT" "$SATBENCH" --url "ws://$push/ch/fanout-{n}"
        --pub-url "http://$push/ch/fanout-{n}?X-Atmosphere-Transport=polling"
        --subs "$SUBS" --channels 1 --rate "$RATE" --duration "$DURATION" --settle "$SETTLE"
        --timeout "$((RUN_LIMIT - 5))" --pid "$SERVER_PID" --label "$kind" --json "$RUN_DIR/satbench.json")
    echo "${cmd[*]}" >>"$COMMANDS"

    deadline=$(python3 -c "import time; print(time.time() + $RUN_LIMIT + 5)")
    if [ "$kind" = load ]; then
        rest_loop "$RUN_DIR" "$deadline" 2>"$RUN_DIR/rest.err" &
        LOAD_PIDS+=($!)
        snmp_loop "$RUN_DIR" "$deadline" 2>"$RUN_DIR/snmp.err" &
        LOAD_PIDS+=($!)
    fi

    log "run $n: $kind"
    t0=$(now)
    "${cmd[@]}" >"$RUN_DIR/satbench.out" 2>"$RUN_DIR/satbench.err" || rc=$?
    t1=$(now)
    echo "$t0 $t1" >"$RUN_DIR/times"
    stop_load
    stop_server
    if [ "$rc" != 0 ]; then
        log "satbench exited with $rc (run $n, $kind); see $RUN_DIR"
        rm -f "$RUN_DIR/satbench.json"
    fi
    sleep 1
}

machine() {
    echo "- CPUs (nproc): $(nproc); CPU model: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "- Kernel: $(uname -sr); memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "- $("$SATELLITED" --version 2>&1 | head -1); $(snmpbulkwalk --version 2>&1 | head -1); Python $(python3 -c 'import platform; print(platform.python_version())')"
    echo "- Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

report() {
    python3 - "$WORK" "$RUNS" "$SUBS" "$RATE" "$DURATION" "$WORKERS" "$SETTLE" <<'PY'
import json, os, statistics, sys
work, runs, subs, rate, duration, workers, settle = sys.argv[1:]
runs, settle = int(runs), float(settle)

def rows(path):
    if not os.path.exists(path):
        return []
    return [l.split() for l in open(path) if l.strip() and not l.startswith("#")]

def load_run(kind, n):
    d = f"{work}/{kind}.{n}"
    if not os.path.exists(f"{d}/satbench.json"):
        return None
    r = json.load(open(f"{d}/satbench.json"))
    t0, _ = map(float, open(f"{d}/times").read().split())
    # The publishing window starts after connecting and settling. satbench
    # reports both durations, and t0 is the epoch time of its start.
    # NOTE: satbench's own start-up before connecting (a few ms) is not
    # counted, so the window estimate starts that much early.
    ws = t0 + r["connect_s"] + settle
    we = ws + r["duration_s"]
    r["window"] = (ws, we)
    for name in ("rest", "snmp"):
        lines = rows(f"{d}/{name}.log")
        ok = [l for l in lines if (l[5] == "1" if name == "rest" else l[2] == "0")]
        r[f"{name}_done"] = sum(1 for l in ok if ws <= float(l[1]) <= we)
        r[f"{name}_failed"] = len(lines) - len(ok)
        # The loop covered the window if it started before it and was still
        # working (an iteration ending after it) when it closed.
        r[f"{name}_covered"] = bool(lines) and float(lines[0][0]) <= ws and float(lines[-1][1]) >= we
        r[f"{name}_items"] = sorted({int(l[3] if name == "rest" else l[4]) for l in ok
                                     if ws <= float(l[1]) <= we})
    return r

by_run = {(k, n): load_run(k, n) for k in ("none", "load") for n in range(1, runs + 1)}
data = {k: [r for (kk, _), r in by_run.items() if kk == k and r] for k in ("none", "load")}

def med(kind, field):
    v = [r[field] for r in data[kind]]
    return statistics.median(v) if v else None

def f(v, d=1):
    return "n/a" if v is None else f"{v:,.{d}f}"

print(f"{subs} WebSocket subscribers on one channel, {rate} messages/s for {duration} s per run, "
      f"{workers} push workers; runs alternate without and with the operator loops.\n")
print("| run | operator load | p50 ms | p99 ms | max ms | deliveries/s | missing | REST listings | SNMP walks |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for n in range(1, runs + 1):
    for kind in ("none", "load"):
        r = by_run[(kind, n)]
        if r is None:
            print(f"| {n} | {kind} | failed | | | | | | |")
            continue
        ld = kind == "load"
        print(f"| {n} | {'REST + SNMP' if ld else 'none'} | {f(r['latency_p50_ms'])} | {f(r['latency_p99_ms'])} "
              f"| {f(r['latency_max_ms'])} | {f(r['deliveries_per_s'], 0)} | {r['missing']} "
              f"| {r['rest_done'] if ld else ''} | {r['snmp_done'] if ld else ''} |")
for kind in ("none", "load"):
    ld = kind == "load"
    print(f"| **median** | {'REST + SNMP' if ld else 'none'} | **{f(med(kind, 'latency_p50_ms'))}** "
          f"| **{f(med(kind, 'latency_p99_ms'))}** | **{f(med(kind, 'latency_max_ms'))}** "
          f"| **{f(med(kind, 'deliveries_per_s'), 0)}** | {f(med(kind, 'missing'), 0)} "
          f"| {f(med(kind, 'rest_done'), 0) if ld else ''} | {f(med(kind, 'snmp_done'), 0) if ld else ''} |")

def ratio(field):
    a, b = med("load", field), med("none", field)
    return "n/a" if a is None or not b else f"{a / b:.2f}"

print(f"| **with/without** | | {ratio('latency_p50_ms')} | {ratio('latency_p99_ms')} | {ratio('latency_max_ms')} "
      f"| {ratio('deliveries_per_s')} | | | |")
print()
for r in data["load"]:
    print(f"- load run: REST listings saw {r['rest_items']} resources, SNMP walks {r['snmp_items']} "
          f"satResourceUuid rows; failed listings {r['rest_failed']}, failed walks {r['snmp_failed']}; "
          f"loops covered the window: REST {'yes' if r['rest_covered'] else 'NO'}, "
          f"SNMP {'yes' if r['snmp_covered'] else 'NO'}")
for kind in ("none", "load"):
    for r in data[kind]:
        if r["gen_saturated"] or r["connect_errors"] or r["dropped"] or r["publish_errors"]:
            print(f"- {kind} run: generator saturated {r['gen_saturated']}, connect errors "
                  f"{r['connect_errors']}, drops {r['dropped']}, publish errors {r['publish_errors']}")
PY
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for n in $(seq 1 "$RUNS"); do
    run_one none "$n"
    run_one load "$n"
done

{
    echo "## Fan-out while operators list and walk"
    echo
    report
    echo
    echo "Machine:"
    echo
    machine
    echo
    echo "satbench commands (addresses differ per run):"
    echo
    sed 's/^/    /' "$COMMANDS"
} | tee "$WORK/report.md"
[ -z "$OUT" ] || cp "$WORK/report.md" "$OUT"
log "raw results in $WORK"
