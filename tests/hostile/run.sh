#!/usr/bin/env bash
# The hostile suite (issue 11): attacks a learner, a buggy script or a stranger could make on
# `streamlab serve`, by class, each measured while it runs: garbage and mutated Kafka frames,
# malformed record batches, decompression bombs, unfinished requests, connection floods,
# partition exhaustion and a restart under `ulimit -n 256`, hostile console scripts, group
# floods, crawlers and cross-site posts, and kill -9 under acks=all idempotent produce.
#
#   bash tests/hostile/run.sh                   # the full run (several minutes)
#   HOSTILE_QUICK=1 bash tests/hostile/run.sh   # fewer, smaller cases (the test command's step)
#   HOSTILE_ONLY=2,3 bash tests/hostile/run.sh  # some classes only
#   HOSTILE_ONLY=4 HOSTILE_SERVER_ARGS='--queued-max-request-bytes -1' bash tests/hostile/run.sh
# Knobs: HOSTILE_QUICK, HOSTILE_ONLY, HOSTILE_SERVER_ARGS (flags for the main server), STREAMLAB_BIN (skip the build), HOSTILE_KEEP_LOGS=DIR (copy
# the servers' logs there). hostile.py says what is measured and attacks.py what each class does.
#
# Exits non-zero on a functional failure only (a malformed batch accepted, the process dead, a
# failed restart, an acknowledged record lost or duplicated, a probe with no answer in 10 s).
# RSS growth and the worst page and `kcat -L` latencies during each attack are printed next to
# the issue's targets (256 MB, 1 s, under 100 MB 60 s after) and never fail the run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/lib.sh
. tests/lib.sh

sl_banner "setup"
sl_ensure_apt kcat:kcat
bin=$(sl_streamlab_bin)
venv=$(sl_ensure_python_venv)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/streamlab-hostile.XXXXXX")
suite_pid=
cleanup() {
    if [[ -n $suite_pid ]] && kill -0 "$suite_pid" 2>/dev/null; then
        kill -TERM "$suite_pid" 2>/dev/null || true
        wait "$suite_pid" 2>/dev/null || true
    fi
    # Every streamlab the suite started, should it have died before stopping them.
    if [[ -f $tmp/pids ]]; then
        while read -r pid; do
            kill -KILL "$pid" 2>/dev/null || true
        done <"$tmp/pids"
    fi
    if [[ -n ${HOSTILE_KEEP_LOGS:-} ]]; then
        mkdir -p "$HOSTILE_KEEP_LOGS"
        cp "$tmp"/*.log "$tmp"/diskfull/ctl/server.log "$HOSTILE_KEEP_LOGS"/ 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

args=(--bin "$bin" --tmp "$tmp" --kcat "$(command -v kcat)")
[[ -n ${HOSTILE_QUICK:-} ]] && args+=(--quick)
[[ -n ${HOSTILE_ONLY:-} ]] && args+=(--only "$HOSTILE_ONLY")
[[ -n ${HOSTILE_SERVER_ARGS:-} ]] && args+=(--server-args "$HOSTILE_SERVER_ARGS")

sl_banner "hostile suite ($([[ -n ${HOSTILE_QUICK:-} ]] && echo quick || echo full)): $bin"
"$venv/bin/python" tests/hostile/hostile.py "${args[@]}" &
suite_pid=$!
wait "$suite_pid"
