#!/usr/bin/env bash
# HTTP benchmark of the Streamlab server: a server-rendered lesson page for a returning learner
# against the static stylesheet, with wrk on loopback. Prints figures; never passes or fails on
# them (it exits non-zero only when it cannot run).
#
#   bash tests/bench/http.sh
#   BENCH_DURATION=5s BENCH_RUNS=5 BENCH_CONNECTIONS=128 bash tests/bench/http.sh
# Other knobs: BENCH_THREADS (wrk threads, 2), BENCH_WARMUP (3s), STREAMLAB_BIN (skip the build).
#
# Target (see shared/research/performance.md §2.5): lesson ≥ 50% of static req/s, and lesson p99
# < 10 ms at 64 connections, with wrk co-located with the server on the 2-core machine.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/lib.sh
. tests/lib.sh

duration=${BENCH_DURATION:-10s}
runs=${BENCH_RUNS:-3}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
warmup=${BENCH_WARMUP:-3s}
[[ $duration =~ ^[0-9]+$ ]] && duration="${duration}s"
[[ $warmup =~ ^[0-9]+$ ]] && warmup="${warmup}s"
if ! [[ $runs =~ ^[1-9][0-9]*$ && $connections =~ ^[1-9][0-9]*$ && $threads =~ ^[1-9][0-9]*$ ]]; then
    sl_log "error: BENCH_RUNS, BENCH_CONNECTIONS and BENCH_THREADS must be positive integers"
    exit 2
fi
if ((threads > connections)); then threads=$connections; fi

lesson_path=/lessons/topics-and-partitions
static_path=/static/style.css

sl_banner "setup"
sl_ensure_apt wrk:wrk curl:curl

bin=$(sl_streamlab_bin)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/streamlab-bench.XXXXXX")
server_pid=
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(sl_free_port)
base=http://127.0.0.1:$port
mkdir "$tmp/data"
"$bin" serve --http "127.0.0.1:$port" --kafka 127.0.0.1:0 --data-dir "$tmp/data" >"$tmp/server.log" 2>&1 &
server_pid=$!

healthy=
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
    cat "$tmp/server.log" >&2
    exit 1
fi

# A returning learner: take the learner cookie that the first visit sets and send it with every
# request, so the server finds the learner instead of creating one per request.
curl -s -o /dev/null -D "$tmp/first.headers" "$base$lesson_path"
cookie=$(tr -d '\r' <"$tmp/first.headers" |
    awk 'tolower($1) == "set-cookie:" { sub(/^[^:]*:[ ]*/, ""); sub(/;.*/, ""); printf "%s%s", sep, $0; sep = "; " }')
cookie_args=()
if [[ -n $cookie ]]; then
    cookie_args=(-H "Cookie: $cookie")
else
    sl_log "warning: GET $lesson_path set no cookie; measuring without a learner cookie"
fi

check_url() { # path [curl args...] → prints "status bytes"
    local path=$1
    shift
    curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "$@" "$base$path"
}
read -r lesson_status lesson_bytes < <(check_url "$lesson_path" "${cookie_args[@]}")
read -r static_status static_bytes < <(check_url "$static_path")
if [[ $lesson_status != 200 || $static_status != 200 ]]; then
    sl_log "error: GET $lesson_path answered $lesson_status, GET $static_path answered $static_status (want 200 both)"
    exit 1
fi
if [[ -n $cookie ]]; then
    curl -s -o /dev/null -D "$tmp/again.headers" "${cookie_args[@]}" "$base$lesson_path"
    if grep -qi '^set-cookie:' "$tmp/again.headers"; then
        sl_log "note: the server sets a cookie again for a returning learner"
    fi
fi

sl_banner "where this runs"
echo "cpus: $(nproc) ($(lscpu 2>/dev/null | awk -F: '/^Model name/ { gsub(/^ +/, "", $2); print $2; exit }'))"
echo "server pid $server_pid, allowed cpus: $(taskset -pc "$server_pid" 2>/dev/null | awk -F': ' '{ print $2 }')"
echo "wrk and the server are co-located on the same $(nproc) cores (no pinning), on loopback"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: $bin${STREAMLAB_BIN:+ (from STREAMLAB_BIN)}, RUST_LOG=${RUST_LOG:-<unset>}"
echo "lesson: GET $lesson_path, $lesson_bytes bytes, cookie: ${cookie:-<none>}"
echo "static: GET $static_path, $static_bytes bytes"
echo "wrk: -t$threads -c$connections -d$duration --latency, $runs runs each, alternating; warm-up $warmup each"

# Run wrk once; print "req_per_s p99_ms errors".
run_wrk() { # dur path [extra wrk args...]
    local dur=$1 path=$2
    shift 2
    local out
    out=$(wrk -t"$threads" -c"$connections" -d"$dur" --latency "$@" "$base$path" 2>&1) || {
        sl_log "wrk failed:"
        sl_log "$out"
        return 1
    }
    printf '%s\n' "$out" >>"$tmp/wrk.log"
    printf '%s\n' "$out" | awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "99%" && p99 == "" { p99 = ms($2) }
        /^  Non-2xx or 3xx responses:/ { errs += $NF }
        /^  Socket errors:/ { for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) errs += $i }
        END { printf "%s %s %d\n", rps, p99, errs }'
}

median() { # numbers... → median
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

sl_banner "warm-up"
run_wrk "$warmup" "$lesson_path" "${cookie_args[@]}" >/dev/null
run_wrk "$warmup" "$static_path" >/dev/null
echo "done"

sl_banner "runs"
lesson_rps=() lesson_p99=() static_rps=() static_p99=()
errors=0
printf '%-4s %-8s %12s %10s %8s\n' run target req/s p99_ms errors
for ((i = 1; i <= runs; i++)); do
    read -r rps p99 errs < <(run_wrk "$duration" "$lesson_path" "${cookie_args[@]}")
    lesson_rps+=("$rps") lesson_p99+=("$p99")
    errors=$((errors + errs))
    printf '%-4s %-8s %12.0f %10.2f %8d\n' "$i" lesson "$rps" "$p99" "$errs"
    read -r rps p99 errs < <(run_wrk "$duration" "$static_path")
    static_rps+=("$rps") static_p99+=("$p99")
    errors=$((errors + errs))
    printf '%-4s %-8s %12.0f %10.2f %8d\n' "$i" static "$rps" "$p99" "$errs"
done

l_rps=$(median "${lesson_rps[@]}")
l_p99=$(median "${lesson_p99[@]}")
s_rps=$(median "${static_rps[@]}")
s_p99=$(median "${static_p99[@]}")
ratio=$(awk -v l="$l_rps" -v s="$s_rps" 'BEGIN { if (s > 0) printf "%.1f", 100 * l / s; else print "n/a" }')

sl_banner "results (median of $runs runs, $connections connections, $duration each)"
printf '%-40s %12s %10s\n' request "req/s" "p99 ms"
printf '%-40s %12.0f %10.2f\n' "lesson $lesson_path" "$l_rps" "$l_p99"
printf '%-40s %12.0f %10.2f\n' "static $static_path" "$s_rps" "$s_p99"
echo "lesson/static: ${ratio}%"
echo "target: lesson ≥ 50% of static, p99 < 10 ms at 64 connections"
awk -v r="$ratio" -v p="$l_p99" -v c="$connections" 'BEGIN {
    printf "  lesson/static %s%% %s 50%%; lesson p99 %.2f ms %s 10 ms", r, (r >= 50 ? "≥" : "<"), p, (p < 10 ? "<" : "≥")
    if (c != 64) printf " (measured at %d connections, not 64)", c
    printf "\n"
}'
if ((errors > 0)); then
    echo "warning: $errors non-2xx/3xx responses or socket errors during the runs; the last wrk output:"
    tail -n 40 "$tmp/wrk.log"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
