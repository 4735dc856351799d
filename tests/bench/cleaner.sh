#!/usr/bin/env bash
# The log cleaner's throughput on a large dirty log (most records superseded by a later one
# with the same key) next to `cp -r` of the same log, measured in the same run; medians.
#
#   bash tests/bench/cleaner.sh                       # 256 MB, 3 runs
#   BENCH_MB=1024 BENCH_RUNS=5 bash tests/bench/cleaner.sh
#
# Needs about 3 × BENCH_MB of free disk under $TMPDIR (the log, a copy, the cleaned copy).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

export BENCH_MB="${BENCH_MB:-256}" BENCH_RUNS="${BENCH_RUNS:-3}"
cargo test --release -p broker --test cleaner_bench -- --ignored --nocapture 2>/dev/null | grep '^cleaner:'
