#!/usr/bin/env bash
# Memory benchmark: the resident memory of `streamlab broker` with the default cluster (3 brokers
# and 3 controllers in one process) after it has been idle a while, printed next to the 60 MB
# target; and, for comparison, a single node (--brokers 1 --controllers 1). Prints figures; never
# passes or fails on them (it exits non-zero only when it cannot run).
#
#   bash tests/bench/memory.sh
#   BENCH_IDLE=1 STREAMLAB_BIN=target/release/streamlab bash tests/bench/memory.sh   # a quick look
# Knobs: BENCH_IDLE (seconds idle before the reading, 10), STREAMLAB_BIN (skip the build).
# tests/bench/kafka.sh also reads the default cluster's memory before and after its load.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/lib.sh
. tests/lib.sh

idle=${BENCH_IDLE:-10}
if ! [[ $idle =~ ^[0-9]+$ ]]; then
    sl_log "error: BENCH_IDLE must be a number of seconds"
    exit 2
fi

sl_banner "setup"
bin=$(sl_streamlab_bin)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/streamlab-memory-bench.XXXXXX")
cleanup() {
    sl_stop_streamlab
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sl_banner "idle memory after ${idle} s (target for the default cluster: under 60 MB)"
echo "cpus: $(nproc); $bin broker on loopback, fresh data directory, no client connected"
for shape in "3 3" "1 1"; do
    read -r brokers controllers <<<"$shape"
    port=$(sl_free_ports "$brokers")
    rm -rf "$tmp/data"
    sl_start_streamlab "$bin" "$tmp/broker.log" "$port" broker --brokers "$brokers" --controllers "$controllers" \
        --kafka "127.0.0.1:$port" --data-dir "$tmp/data"
    sleep "$idle"
    pid=$sl_streamlab_pid
    threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$pid/status")
    awk -v label="--brokers $brokers --controllers $controllers" -v threads="$threads" -v target="$((brokers == 3 ? 60 : 0))" '
        $1 == "VmRSS:" { rss = $2 } $1 == "VmHWM:" { hwm = $2 } $1 == "RssAnon:" { anon = $2 } $1 == "RssFile:" { file = $2 }
        END {
            mb = rss * 1.024 / 1000
            verdict = target ? sprintf(" %s %d MB", mb < target ? "<" : "≥", target) : ""
            printf "%-30s VmRSS %.1f MiB (%.1f MB)%s; anonymous %.1f MiB, file-backed %.1f MiB; peak %.1f MiB; %d threads\n",
                label, rss / 1024, mb, verdict, anon / 1024, file / 1024, hwm / 1024, threads
        }' "/proc/$pid/status"
    sl_stop_streamlab
done
