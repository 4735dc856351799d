#!/usr/bin/env bash
# Kafka benchmark of Streamlab's embedded cluster (`streamlab broker`: 3 brokers, 3 controllers),
# with librdkafka's mock cluster as the reference, the same client (confluent-kafka) in the same
# run: 1,000,000 records × 100 B, acks=1 and acks=all, linger 5 ms, to 1 and to 6 partitions with
# one replica, read back by one consumer; then the cluster case: replication factor 3,
# min.insync.replicas=2, acks=all, 6 partitions, against a 3-broker mock. Also the cluster's
# memory when idle. Prints figures; never passes or fails on them (it exits non-zero only when it
# cannot run).
#
#   bash tests/bench/kafka.sh
#   BENCH_RECORDS=200000 BENCH_RUNS=3 bash tests/bench/kafka.sh
#   bash tests/bench/kafka.sh --acks all --partitions 6      # extra arguments go to kafka.py
# Other knobs: BENCH_IDLE (seconds idle before each memory reading, 5), BENCH_CLUSTER=0 (skip the
# replication factor 3 case), STREAMLAB_BIN (skip the build), BENCH_BROKER_LOG (keep a copy of the
# broker's log there).
#
# Targets (the broker issues), on the 2-core machine: produce ≥ 80% (one replica) or ≥ 70%
# (replication factor 3) and consume ≥ 90% of the mock cluster's rate with the same client; the
# default cluster idle under 60 MB. kafka.py explains how each figure is taken;
# shared/research/performance.md §2.4 has the mock cluster's client-side ceilings.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/lib.sh
. tests/lib.sh

records=${BENCH_RECORDS:-1000000}
cluster=${BENCH_CLUSTER:-1}
runs=${BENCH_RUNS:-1}
idle=${BENCH_IDLE:-5}
if ! [[ $records =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ && $idle =~ ^[0-9]+$ ]]; then
    sl_log "error: BENCH_RECORDS and BENCH_RUNS must be positive integers, BENCH_IDLE a number of seconds"
    exit 2
fi

sl_banner "setup"
bin=$(sl_streamlab_bin)
venv=$(sl_ensure_python_venv)
python=$venv/bin/python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/streamlab-kafka-bench.XXXXXX")
broker_pid=
cleanup() {
    if [[ -n $broker_pid ]] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$broker_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$broker_pid" 2>/dev/null; then
            sl_log "note: the broker did not exit within 10 s of SIGTERM; sending SIGKILL"
            kill -KILL "$broker_pid" 2>/dev/null || true
        fi
        wait "$broker_pid" 2>/dev/null || true
    fi
    if [[ -n ${BENCH_BROKER_LOG:-} && -f $tmp/broker.log ]]; then
        cp "$tmp/broker.log" "$BENCH_BROKER_LOG" || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(sl_free_port)
mkdir "$tmp/data"
"$bin" broker --kafka "127.0.0.1:$port" --data-dir "$tmp/data" >"$tmp/broker.log" 2>&1 &
broker_pid=$!

ready=
for _ in $(seq 1 200); do
    if ! kill -0 "$broker_pid" 2>/dev/null; then break; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
if [[ -z $ready ]]; then
    sl_log "error: the broker did not accept connections on 127.0.0.1:$port within 20 s; its output:"
    cat "$tmp/broker.log" >&2
    exit 1
fi

# "VmRSS VmHWM RssAnon RssFile" of the broker, in KiB.
broker_mem() {
    awk '$1 == "VmRSS:" { rss = $2 } $1 == "VmHWM:" { hwm = $2 } $1 == "RssAnon:" { anon = $2 } $1 == "RssFile:" { file = $2 }
        END { print rss + 0, hwm + 0, anon + 0, file + 0 }' "/proc/$broker_pid/status"
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB (%.1f MB)", k / 1024, k * 1.024 / 1000 }'; }
# label rss_kib anon_kib file_kib → one line against the 60 MB target.
mem_line() {
    awk -v l="$1" -v k="$2" -v a="$3" -v f="$4" 'BEGIN {
        mb = k * 1.024 / 1000
        printf "%s: VmRSS %.1f MiB (%.1f MB) %s 60 MB; anonymous %.1f MiB, file-backed %.1f MiB\n",
            l, k / 1024, mb, (mb < 60 ? "<" : "≥"), a / 1024, f / 1024
    }'
}

sleep "$idle"
read -r idle_rss _ idle_anon idle_file < <(broker_mem)

sl_banner "where this runs"
echo "cpus: $(nproc) ($(lscpu 2>/dev/null | awk -F: '/^Model name/ { gsub(/^ +/, "", $2); print $2; exit }'))"
echo "broker: $bin${STREAMLAB_BIN:+ (from STREAMLAB_BIN)}, pid $broker_pid, allowed cpus: $(taskset -pc "$broker_pid" 2>/dev/null | awk -F': ' '{ print $2 }'), RUST_LOG=${RUST_LOG:-<unset>}"
echo "broker command: streamlab broker --kafka 127.0.0.1:$port --data-dir $tmp/data (default cluster: 3 brokers, 3 controllers) ($(df -hT "$tmp/data" | awk 'NR == 2 { print $2 " on " $1 ", " $5 " free" }'))"
echo "client: $python, co-located with the broker on the same cores (no pinning), on loopback"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "broker memory after ${idle} s idle: VmRSS $(mib "$idle_rss")"

"$python" tests/bench/kafka.py --streamlab "127.0.0.1:$port" --broker-pid "$broker_pid" \
    --records "$records" --runs "$runs" --fsync-probe-dir "$tmp/data" "$@"

# The cluster case of the cluster issue: every record on three brokers before acks=all answers.
if [[ $cluster == 1 ]]; then
    sl_banner "cluster case: replication factor 3, min.insync.replicas=2, acks=all, 6 partitions"
    "$python" tests/bench/kafka.py --streamlab "127.0.0.1:$port" --broker-pid "$broker_pid" \
        --records "$records" --runs "$runs" --acks all --partitions 6 --replication-factor 3 --min-insync-replicas 2
fi

if ! kill -0 "$broker_pid" 2>/dev/null; then
    sl_log "error: the broker exited during the runs; the end of its log:"
    tail -n 40 "$tmp/broker.log" >&2
    exit 1
fi
sleep "$idle"
read -r after_rss after_hwm after_anon after_file < <(broker_mem)
data_size=$(du -sh "$tmp/data" 2>/dev/null | cut -f1)

sl_banner "cluster memory, 3 brokers and 3 controllers (target: idle under 60 MB)"
mem_line "idle, before the runs" "$idle_rss" "$idle_anon" "$idle_file"
mem_line "idle, ${idle} s after the runs" "$after_rss" "$after_anon" "$after_file"
echo "peak VmRSS (VmHWM) over the runs: $(mib "$after_hwm"); data directory: $data_size"

sl_banner "broker log"
# The broker logs with ANSI colours; strip them before looking for warnings and errors.
sed 's/\x1b\[[0-9;]*m//g' "$tmp/broker.log" >"$tmp/broker.plain.log"
problems=$(grep -cE '\b(WARN|ERROR)\b' "$tmp/broker.plain.log" || true)
echo "$(wc -l <"$tmp/broker.plain.log") lines, $problems WARN/ERROR${BENCH_BROKER_LOG:+ (copied to $BENCH_BROKER_LOG)}"
if ((problems > 0)); then
    grep -E '\b(WARN|ERROR)\b' "$tmp/broker.plain.log" | head -n 20
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
