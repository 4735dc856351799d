#!/usr/bin/env bash
# Console benchmark of the Streamlab server (issue 5): 200 simulated learners, each running one
# console command and one exercise check every second for 60 s against one `streamlab serve`
# (which embeds the broker), with a lesson page probed at a low rate in the same run. Prints
# p50/p90/p99/max of each kind of request; never passes or fails on them (it exits non-zero only
# when it cannot run). The learners are tests/bench/console.mjs (plain Node 20), whose header says
# how each figure is taken.
#
#   bash tests/bench/console.sh
#   BENCH_SECONDS=20 BENCH_RUNS=3 bash tests/bench/console.sh
#   bash tests/bench/console.sh --exercise read-from-offset    # extra arguments go to console.mjs
# Knobs: BENCH_LEARNERS (200), BENCH_SECONDS (60), BENCH_RUNS (1; each run on a fresh server and
# data directory, with the median over runs at the end), BENCH_PROBE_RATE (lesson pages per
# second, 5), BENCH_TIMEOUT_MS (per request, 10000), BENCH_SERVER_TIMING (1: the server logs each
# response's latency, tower-http's on_response at debug, and its p50/p99 per route are printed
# next to the client's; whole milliseconds, to the response head), STREAMLAB_BIN (skip the build),
# BENCH_SERVER_LOG (keep a copy of the last run's server log there), RUST_LOG (the server's log
# filter, info by default).
#
# Target (issue 5): check p99 < 50 ms with 200 learners for 60 s, with the learners (one node
# process) co-located with the server on the 2-core machine. Halfway through each run, `top` and
# /proc show how the CPU splits between node, streamlab's threads and anything else running.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/lib.sh
. tests/lib.sh

learners=${BENCH_LEARNERS:-200}
seconds=${BENCH_SECONDS:-60}
runs=${BENCH_RUNS:-1}
probe_rate=${BENCH_PROBE_RATE:-5}
timeout_ms=${BENCH_TIMEOUT_MS:-10000}
server_timing=${BENCH_SERVER_TIMING:-0}
if ! [[ $learners =~ ^[1-9][0-9]*$ && $seconds =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ &&
    $timeout_ms =~ ^[1-9][0-9]*$ && $probe_rate =~ ^[0-9]+$ && $server_timing =~ ^[01]$ ]]; then
    sl_log "error: BENCH_LEARNERS, BENCH_SECONDS, BENCH_RUNS and BENCH_TIMEOUT_MS must be positive integers," \
        "BENCH_PROBE_RATE an integer, BENCH_SERVER_TIMING 0 or 1"
    exit 2
fi

sl_banner "setup"
sl_ensure_apt curl:curl procps:top
if ! command -v node >/dev/null 2>&1; then
    sl_log "error: node (20 or later) is needed for tests/bench/console.mjs"
    exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
    sl_log "error: tests/bench/console.mjs needs node 20 or later (global fetch, getSetCookie); found $(node --version)"
    exit 1
fi

bin=$(sl_streamlab_bin)

server_log_filter=${RUST_LOG:-info}
if ((server_timing)); then
    server_log_filter="$server_log_filter,tower_http::trace::make_span=debug,tower_http::trace::on_response=debug"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/streamlab-console-bench.XXXXXX")
server_pid=
node_pid=
sleep_pid=
stop() { # pid: SIGTERM, up to 10 s, then SIGKILL
    local pid=$1
    if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then return 0; fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        sl_log "note: process $pid did not exit within 10 s of SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    if [[ -n $sleep_pid ]]; then kill "$sleep_pid" 2>/dev/null || true; fi
    stop "$node_pid"
    stop "$server_pid"
    if [[ -n ${BENCH_SERVER_LOG:-} && -n ${server_log:-} && -f $server_log ]]; then
        cp "$server_log" "$BENCH_SERVER_LOG" || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts a server on free ports with a fresh data directory: sets server_pid, base, http_port,
# kafka_port and server_log.
start_server() { # run-number
    local run=$1 healthy=
    http_port=$(sl_free_port)
    kafka_port=$(sl_free_port)
    if [[ $http_port == "$kafka_port" ]]; then kafka_port=$(sl_free_port); fi
    base=http://127.0.0.1:$http_port
    server_log=$tmp/server.$run.log
    mkdir "$tmp/data.$run"
    RUST_LOG=$server_log_filter NO_COLOR=1 "$bin" serve --http "127.0.0.1:$http_port" --kafka "127.0.0.1:$kafka_port" \
        --data-dir "$tmp/data.$run" >"$server_log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 200); do
        if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$base/healthz" || true)" == 200 ]]; then
            healthy=1
            break
        fi
        sleep 0.1
    done
    if [[ -z $healthy ]]; then
        sl_log "error: the server did not answer GET /healthz with 200 within 20 s; its output:"
        cat "$server_log" >&2
        exit 1
    fi
}

# CPU ticks of every thread of the given processes: "tid ticks process thread-name" per line.
thread_ticks() {
    local pid proc task stat comm
    local -a f
    for pid in "$@"; do
        proc=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
        for task in /proc/"$pid"/task/*; do
            { read -r stat <"$task/stat" && read -r comm <"$task/comm"; } 2>/dev/null || continue
            read -ra f <<<"${stat##*) }"
            printf '%s %s %s %s\n' "${task##*/}" "$((f[11] + f[12]))" "$proc" "${comm// /_}" # utime + stime
        done
    done
}

# Halfway through the load: the whole machine (top) and every thread of node and streamlab
# (/proc) over the same 2 s, and the open HTTP connections; printed after the run.
snapshot() { # run-number load-pid
    local run=$1 load_pid=$2 top_pid
    while [[ ! -s $tmp/started.$run ]] && kill -0 "$load_pid" 2>/dev/null; do sleep 0.1; done
    if [[ ! -s $tmp/started.$run ]] || ((seconds < 6)); then return 0; fi
    # (sleep in the background: `wait` lets a trapped INT or TERM through at once)
    sleep $((seconds / 2 - 1)) &
    sleep_pid=$!
    wait "$sleep_pid"
    kill -0 "$load_pid" 2>/dev/null || return 0
    top -b -w 200 -n 2 -d 2 >"$tmp/top.$run" 2>&1 &
    top_pid=$!
    thread_ticks "$server_pid" "$load_pid" >"$tmp/threads-before.$run"
    ss -Htn state established "( sport = :$http_port )" 2>/dev/null | wc -l >"$tmp/connections.$run" || true
    sleep 2 &
    sleep_pid=$!
    wait "$sleep_pid"
    thread_ticks "$server_pid" "$load_pid" >"$tmp/threads-after.$run"
    wait "$top_pid" || true
}

print_snapshot() { # run-number load-pid
    local run=$1 load_pid=$2
    [[ -s $tmp/top.$run ]] || return 0
    sl_banner "CPU halfway through run $run (2 s; 100% = one core)"
    # The second frame of `top -b -n 2` (the first averages since each process started): the
    # machine, our two processes, and the busiest others (a build elsewhere on the cores shows here).
    awk '/^top - / { frame++ } frame == 2' "$tmp/top.$run" | awk -v server="$server_pid" -v node="$load_pid" '
        /^%Cpu/ { print; next }
        /^ *PID/ { header = $0; next }
        header == "" || NF == 0 { next }
        $1 == server || $1 == node { ours = ours $0 "\n"; next }
        $9 + 0 >= 1 && shown < 5 { others = others $0 "\n"; shown++ }
        END {
            print header
            printf "%s", ours
            if (others != "") printf "other processes at 1%% or more:\n%s", others
            else print "no other process at 1% or more"
        }'
    echo
    echo "busiest threads (/proc/PID/task):"
    awk -v hz="$(getconf CLK_TCK)" '
        NR == FNR { before[$1] = $2; next }
        { printf "%7.1f%%  %-10s %-20s tid %s\n", 100 * ($2 - before[$1]) / hz / 2, $3, $4, $1 }
    ' "$tmp/threads-before.$run" "$tmp/threads-after.$run" | sort -rn | head -n 10
    echo "HTTP connections open to the server: $(cat "$tmp/connections.$run" 2>/dev/null || echo '?')"
}

# The server's own latency per route, from tower-http's "finished processing request" lines.
print_server_timing() { # server-log
    sl_banner "server-side latency (tower-http, handler to response head; whole ms)"
    sed -nE 's/.*request\{method=[A-Z]+ uri=([^ ]+) [^}]*\}.*finished processing request latency=([0-9]+) ms.*/\1 \2/p' "$1" |
        sed -E 's#^/api/exercises/[^/ ]+/check #check #; s#^/api/console #console #' |
        sort -k1,1 -k2,2n |
        awk '
            function rank(q, i) { # nearest rank
                i = int(q * n)
                if (i < q * n) i++
                return v[i < 1 ? 1 : i]
            }
            function flush() {
                if (n == 0) return
                printf "%-40s %7d %6d %6d %6d %6d\n", key, n, rank(0.5), rank(0.9), rank(0.99), v[n]
            }
            BEGIN { printf "%-40s %7s %6s %6s %6s %6s\n", "route", "count", "p50", "p90", "p99", "max" }
            $1 != key { flush(); key = $1; n = 0 }
            { v[++n] = $2 }
            END { flush() }'
}

sl_banner "where this runs"
echo "cpus: $(nproc) ($(lscpu 2>/dev/null | awk -F: '/^Model name/ { gsub(/^ +/, "", $2); print $2; exit }'))"
echo "the learners (one node process) and the server (HTTP and the embedded broker) share the same $(nproc) cores"
echo "(no pinning), on loopback; allowed cpus of this shell: $(taskset -pc $$ 2>/dev/null | awk -F': ' '{ print $2 }')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: $bin${STREAMLAB_BIN:+ (from STREAMLAB_BIN)}, RUST_LOG=$server_log_filter"
echo "client: node $(node --version), tests/bench/console.mjs"
echo "runs: $runs, each on a fresh server and data directory"

for ((run = 1; run <= runs; run++)); do
    start_server "$run"
    sl_banner "run $run of $runs: server pid $server_pid, HTTP $base, Kafka 127.0.0.1:$kafka_port"
    node tests/bench/console.mjs --base "$base" --learners "$learners" --seconds "$seconds" --probe-rate "$probe_rate" \
        --timeout-ms "$timeout_ms" --server-pid "$server_pid" --started-file "$tmp/started.$run" \
        --summary-file "$tmp/summary.$run.json" "$@" &
    node_pid=$!
    load_pid=$node_pid
    snapshot "$run" "$load_pid"
    node_status=0
    wait "$node_pid" || node_status=$?
    node_pid=
    if ((node_status != 0)); then
        sl_log "error: tests/bench/console.mjs exited with status $node_status; the server's log ends with:"
        tail -n 40 "$server_log" >&2
        exit 1
    fi
    print_snapshot "$run" "$load_pid"
    if ((server_timing)); then print_server_timing "$server_log"; fi
    stop "$server_pid"
    server_pid=

    sl_banner "server log of run $run"
    # WARN and ERROR lines (and panics) that the server logged.
    problems=$(grep -cE '\b(WARN|ERROR)\b|panicked' "$server_log" || true)
    lines=$(grep -cv 'tower_http::trace' "$server_log" || true)
    echo "$lines lines$( ((server_timing)) && echo ' besides the timing ones'), $problems WARN/ERROR/panic"
    if ((problems > 0)); then
        grep -E '\b(WARN|ERROR)\b|panicked' "$server_log" | head -n 20
        if ((problems > 20)); then echo "... ($((problems - 20)) more)"; fi
    fi
done

if ((runs > 1)); then
    sl_banner "median of $runs runs ($learners learners, $seconds s each)"
    summaries=()
    for ((run = 1; run <= runs; run++)); do summaries+=("$tmp/summary.$run.json"); done
    node - "${summaries[@]}" <<'JS'
const { readFileSync } = require('node:fs');
const runs = process.argv.slice(2).map((file) => JSON.parse(readFileSync(file, 'utf8')));
const median = (values) => {
  const v = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const f = (v) => (Number.isNaN(v) ? 'n/a' : v.toFixed(v < 10 ? 2 : 1));
console.log(`${'request'.padEnd(10)}${['errors', 'p50', 'p90', 'p99', 'max'].map((h) => h.padStart(8)).join('')}   p99 of each run`);
for (const kind of ['check', 'console', 'lesson']) {
  const m = (key) => median(runs.map((r) => r[kind][key]));
  const errors = runs.reduce((sum, r) => sum + r[kind].errors, 0);
  console.log(
    `${kind.padEnd(10)}${String(errors).padStart(8)}${f(m('p50')).padStart(8)}${f(m('p90')).padStart(8)}` +
      `${f(m('p99')).padStart(8)}${f(m('max')).padStart(8)}   ${runs.map((r) => f(r[kind].p99 ?? NaN)).join(', ')}`,
  );
}
console.log(`errors are summed over the runs; latencies in ms, the median of the runs' figures`);
console.log(
  `CPU, % of one core (median): node ${f(median(runs.map((r) => r.nodeCpuPct)))}, ` +
    `streamlab ${f(median(runs.map((r) => r.serverCpuPct)))}, whole machine ${f(median(runs.map((r) => r.machineCpuPct)))}`,
);
const p99 = median(runs.map((r) => r.check.p99));
console.log(`target: check p99 < 50 ms: median check p99 ${f(p99)} ms ${p99 < 50 ? '<' : '≥'} 50 ms`);
JS
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
