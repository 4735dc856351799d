#!/usr/bin/env bash
# Failover benchmark: with `streamlab serve` running the default cluster (3 brokers, 3
# controllers), how long an idempotent acks=all confluent-kafka producer waits when the leader of
# its partition stops (a crash, through the lab API), over ten stops: p50 and max of the time to
# the new leader and to the first acknowledged record after the stop, printed next to
# broker.session.timeout.ms (the controller fences a broker whose heartbeats stopped that long
# ago). Prints figures; never passes or fails on them (it exits non-zero only when it cannot run).
#
#   bash tests/bench/failover.sh
#   BENCH_SESSION_TIMEOUT_MS=2000 BENCH_STOPS=3 bash tests/bench/failover.sh
# Knobs: BENCH_SESSION_TIMEOUT_MS (9000, Kafka's default), BENCH_STOPS (10), STREAMLAB_BIN (skip
# the build), BENCH_BROKER_LOG (keep a copy of the server's log there). failover.py says how the
# times are taken.
#
# Target (the cluster issue): none in seconds; a stop should cost about the session timeout, the
# time the controller needs to notice the crash, and little more.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/lib.sh
. tests/lib.sh

session_ms=${BENCH_SESSION_TIMEOUT_MS:-9000}
stops=${BENCH_STOPS:-10}
if ! [[ $session_ms =~ ^[1-9][0-9]*$ && $stops =~ ^[1-9][0-9]*$ ]]; then
    sl_log "error: BENCH_SESSION_TIMEOUT_MS and BENCH_STOPS must be positive integers"
    exit 2
fi

sl_banner "setup"
bin=$(sl_streamlab_bin)
venv=$(sl_ensure_python_venv)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/streamlab-failover-bench.XXXXXX")
cleanup() {
    sl_stop_streamlab
    if [[ -n ${BENCH_BROKER_LOG:-} && -f $tmp/server.log ]]; then
        cp "$tmp/server.log" "$BENCH_BROKER_LOG" || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(sl_free_ports 3)
http=$(sl_free_port)
while ((http >= port && http < port + 3)); do http=$(sl_free_port); done
sl_start_streamlab "$bin" "$tmp/server.log" "$port" serve --http "127.0.0.1:$http" --kafka "127.0.0.1:$port" \
    --data-dir "$tmp/data" --broker-session-timeout-ms "$session_ms"
# The web server comes up after the cluster: wait for it too.
for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$http") 2>/dev/null; then break; fi
    sleep 0.1
done

sl_banner "where this runs"
echo "cpus: $(nproc); server: $bin serve (default cluster: 3 brokers, 3 controllers), pid $sl_streamlab_pid, \
--broker-session-timeout-ms $session_ms; client: confluent-kafka in $venv, co-located, unpinned, on loopback"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

sl_banner "leader stops"
"$venv/bin/python" tests/bench/failover.py --http "127.0.0.1:$http" \
    --bootstrap "127.0.0.1:$port,127.0.0.1:$((port + 1)),127.0.0.1:$((port + 2))" \
    --session-timeout-ms "$session_ms" --stops "$stops"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
