#!/usr/bin/env bash
# C-client benchmark: kcat (librdkafka, no Python in the way) produces N records × 100 B from a
# file with acks=1 and with acks=all, linger 5 ms, batches of up to 10,000, to one partition of
# `streamlab broker --brokers 1 --controllers 1` (a single node, fsyncing before it answers) and of
# librdkafka's mock cluster (`-X test.mock.num.brokers=1`: in memory, inside the kcat process).
# Prints each system's rate, the medians and the ratio; never passes or fails on them (it exits
# non-zero only when it cannot run).
#
#   bash tests/bench/kcat.sh
#   BENCH_RECORDS=200000 BENCH_RUNS=1 bash tests/bench/kcat.sh
# Knobs: BENCH_RECORDS (1,000,000), BENCH_RUNS (3), STREAMLAB_BIN (skip the build).
#
# Target (the cluster issue): with --brokers 1, ≥ 0.9× the mock at acks=all while still fsyncing
# before the answer. A rate is N ÷ the wall time of the kcat process, start-up included (a few
# ms: the topic already exists on Streamlab, the mock creates it on first use).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/lib.sh
. tests/lib.sh

records=${BENCH_RECORDS:-1000000}
runs=${BENCH_RUNS:-3}
if ! [[ $records =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]]; then
    sl_log "error: BENCH_RECORDS and BENCH_RUNS must be positive integers"
    exit 2
fi

sl_banner "setup"
sl_ensure_apt kcat:kcat
bin=$(sl_streamlab_bin)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/streamlab-kcat-bench.XXXXXX")
cleanup() {
    sl_stop_streamlab
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One record per line: 99 bytes and the newline kcat splits on.
head -c "$((records * 99))" /dev/zero | tr '\0' 'x' | fold -w 99 >"$tmp/records.txt"

port=$(sl_free_port)
sl_start_streamlab "$bin" "$tmp/broker.log" "$port" broker --brokers 1 --controllers 1 \
    --kafka "127.0.0.1:$port" --data-dir "$tmp/data"

sl_banner "where this runs"
echo "cpus: $(nproc); $(kcat -V 2>&1 | head -n 1)"
echo "streamlab: $bin broker --brokers 1 --controllers 1, pid $sl_streamlab_pid; kcat co-located, unpinned, on loopback"
echo "records: $records × 100 B (99 + newline) from a file; -X linger.ms=5 -X batch.num.messages=10000, partition 0"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# system acks topic → records/s on stdout; kcat's stderr goes to the terminal.
produce() {
    local system=$1 acks=$2 topic=$3 target start end
    if [[ $system == mock ]]; then
        target=(-b 127.0.0.1:1 -X test.mock.num.brokers=1 -X log_level=4)
    else
        target=(-b "127.0.0.1:$port")
    fi
    start=$(date +%s.%N)
    kcat -P "${target[@]}" -t "$topic" -p 0 -X "acks=$acks" -X linger.ms=5 -X batch.num.messages=10000 \
        -l "$tmp/records.txt"
    end=$(date +%s.%N)
    awk -v n="$records" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f\n", n / (e - s) }'
}

# The end offset of partition 0 (-Q with timestamp -1 asks for the latest offset).
end_offset() {
    kcat -b "127.0.0.1:$port" -Q -t "$1:0:-1" | awk '{ print $NF }'
}

sl_banner "runs"
printf '%-4s %-10s %-4s %12s  %s\n' run system acks "records/s" "check"
declare -A rates
for run in $(seq 1 "$runs"); do
    for acks in 1 all; do
        for system in mock streamlab; do
            topic=bench-kcat-acks$acks-r$run-$RANDOM
            check="(the mock cannot be asked afterwards)"
            if [[ $system == streamlab ]]; then
                # Create the topic (auto-creation, one record) before the clock starts.
                echo warm-up | kcat -P -b "127.0.0.1:$port" -t "$topic" -p 0
            fi
            rate=$(produce "$system" "$acks" "$topic")
            if [[ $system == streamlab ]]; then
                stored=$(($(end_offset "$topic") - 1))
                check="$stored of $records stored"
                [[ $stored == "$records" ]] || check="$check  ! records missing"
            fi
            rates[$system,$acks]+="$rate "
            printf '%-4s %-10s %-4s %12s  %s\n' "$run" "$system" "$acks" "$rate" "$check"
        done
    done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
sl_banner "results (median of $runs run$( ((runs > 1)) && echo s)): streamlab --brokers 1 / mock (target at acks=all: ≥ 0.90×)"
printf '%-4s %16s %16s %7s\n' acks "mock rec/s" "streamlab rec/s" ratio
for acks in 1 all; do
    m=$(median <<<"${rates[mock,$acks]}")
    s=$(median <<<"${rates[streamlab,$acks]}")
    awk -v a="$acks" -v m="$m" -v s="$s" 'BEGIN { printf "%-4s %16d %16d %6.2f×\n", a, m, s, s / m }'
done
echo "note: the mock keeps records in memory inside the kcat process; Streamlab writes them to disk and fsyncs before it answers."
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
